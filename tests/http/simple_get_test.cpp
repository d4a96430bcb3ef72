// The blocking control-path GET against real servers: bodies (plain and chunked), statuses,
// and each failure it reports instead of a response.
#include "http/simple_get.hpp"

#include <gtest/gtest.h>

#include <string>

#include "http/server_test_support.hpp"
#include "support/process.hpp"

namespace trafficsim::http {
namespace {

using namespace std::chrono_literals;
using test::start_server;

Url url_of(const std::string& text) {
  std::string error;
  auto url = parse_url(text, &error);
  EXPECT_TRUE(url) << error;
  return url.value_or(Url{});
}

TEST(SimpleGet, ReturnsTheStatusAndBody) {
  auto server = start_server({}, [](std::shared_ptr<const ServerRequest> req, Reply reply) {
    reply.send(ServerResponse{req->target == "/health" ? 200 : 404, "application/json",
                              "{\"path\":\"" + req->target + "\"}"});
  });
  std::string error;
  auto r = simple_get(url_of(server->url() + "/health"), 5s, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"path\":\"/health\"}");
  auto missing = simple_get(url_of(server->url() + "/nope"), 5s, &error);
  ASSERT_TRUE(missing) << error;
  EXPECT_EQ(missing->status, 404);
}

TEST(SimpleGet, ReadsAChunkedBody) {
  auto server = start_server({}, [](std::shared_ptr<const ServerRequest>, Reply reply) {
    auto s = reply.stream(StreamHead{200, "text/plain"});
    s.write("part one, ");
    s.write("part two");
    s.finish();
  });
  std::string error;
  auto r = simple_get(url_of(server->url() + "/"), 5s, &error);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->body, "part one, part two");
}

TEST(SimpleGet, NobodyListeningIsAnErrorNotAResponse) {
  std::string error;
  auto r = simple_get(url_of("http://127.0.0.1:" + std::to_string(testing::free_port()) + "/"), 5s,
                      &error);
  EXPECT_FALSE(r);
  EXPECT_FALSE(error.empty());
}

TEST(SimpleGet, ServerThatDoesNotAnswerInTimeIsATimeout) {
  test::ParkedReplies parked;
  auto server = start_server({}, parked.handler());
  std::string error;
  auto r = simple_get(url_of(server->url() + "/slow"), 200ms, &error);
  EXPECT_FALSE(r);
  EXPECT_NE(error.find("timed out"), std::string::npos) << error;
}

TEST(SimpleGet, BodyOverTheLimitIsRefused) {
  auto server = start_server({}, [](std::shared_ptr<const ServerRequest>, Reply reply) {
    reply.send(ServerResponse{200, "text/plain", std::string(5000, 'z')});
  });
  std::string error;
  EXPECT_FALSE(simple_get(url_of(server->url() + "/"), 5s, &error, 1000));
  EXPECT_EQ(error, "response body too large");
  EXPECT_TRUE(simple_get(url_of(server->url() + "/"), 5s, &error, 5000));
}

TEST(SimpleGet, HttpsWithNobodyListeningIsAnErrorNotAResponse) {
  std::string error;
  auto url = url_of("https://127.0.0.1:" + std::to_string(testing::free_port()) + "/");
  EXPECT_FALSE(simple_get(url, 5s, &error));
  EXPECT_NE(error.find("connect"), std::string::npos) << error;
}

}  // namespace
}  // namespace trafficsim::http
