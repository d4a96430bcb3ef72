// The async client on both homes — a Server's io threads and its own AsyncClient thread —
// against real servers: every outcome it reports (ok, timeout, connect error, bad URL).
#include "http/async_client.hpp"

#include <gtest/gtest.h>

#include <future>
#include <string>

#include "http/server_test_support.hpp"
#include "support/process.hpp"

namespace trafficsim::http {
namespace {

using namespace std::chrono_literals;
using test::echo_handler;
using test::start_server;

// Runs one call through the home under test and waits for its result.
class AsyncClientTest : public ::testing::TestWithParam<bool> {
 protected:
  bool standalone() const { return GetParam(); }

  ClientResult call(ClientRequest request) {
    auto done = std::make_shared<std::promise<ClientResult>>();
    auto future = done->get_future();
    auto on_done = [done](ClientResult r) { done->set_value(std::move(r)); };
    if (standalone())
      client_.call(std::move(request), on_done);
    else
      async_http_call(*home_, std::move(request), on_done);
    if (future.wait_for(20s) != std::future_status::ready) {
      ADD_FAILURE() << "done was not called";
      return {};
    }
    return future.get();
  }

  std::unique_ptr<Server> home_ = start_server({}, echo_handler());  // the Server-hosted client's
  AsyncClient client_;
};

TEST_P(AsyncClientTest, CallReturnsTheStatusAndBody) {
  auto target = start_server({}, [](std::shared_ptr<const ServerRequest> req, Reply reply) {
    std::string seen = req->method + " " + req->target + " " + req->body + " " +
                       std::string(req->header("X-Trace").value_or("-"));
    reply.send(ServerResponse{418, "text/plain", seen});
  });
  ClientRequest req;
  req.method = "POST";
  req.url = target->url() + "/orders?x=1";
  req.headers = {{"X-Trace", "abc"}};
  req.body = "payload";
  auto r = call(req);
  EXPECT_EQ(r.outcome, ClientOutcome::ok) << r.error;
  EXPECT_EQ(r.status, 418);
  EXPECT_EQ(r.body, "POST /orders?x=1 payload abc");
}

TEST_P(AsyncClientTest, ResponseHeadersAreReturnedAndFoundByAnyCase) {
  auto target = start_server({}, [](std::shared_ptr<const ServerRequest>, Reply reply) {
    ServerResponse response{429, "application/json", "{}"};
    response.headers = {{"Retry-After", "7"}};
    reply.send(std::move(response));
  });
  ClientRequest req;
  req.url = target->url() + "/";
  auto r = call(req);
  EXPECT_EQ(r.outcome, ClientOutcome::ok) << r.error;
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.header("retry-after").value_or("-"), "7");
  EXPECT_EQ(r.header("Content-Type").value_or("-"), "application/json");
  EXPECT_FALSE(r.header("X-Absent"));
}

TEST_P(AsyncClientTest, ServerThatDoesNotAnswerInTimeIsATimeout) {
  test::ParkedReplies parked;
  auto target = start_server({}, parked.handler());
  ClientRequest req;
  req.url = target->url() + "/slow";
  req.timeout = 200ms;
  auto r = call(req);
  EXPECT_EQ(r.outcome, ClientOutcome::timeout);
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.error.empty());
}

TEST_P(AsyncClientTest, NobodyListeningIsAConnectError) {
  ClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(testing::free_port()) + "/";
  auto r = call(req);
  EXPECT_EQ(r.outcome, ClientOutcome::connect_error);
  EXPECT_FALSE(r.error.empty());
}

TEST_P(AsyncClientTest, UnusableUrlIsABadUrl) {
  for (std::string url : {"not a url", "ftp://127.0.0.1:1/", ""}) {
    SCOPED_TRACE(url);
    ClientRequest req;
    req.url = url;
    auto r = call(req);
    EXPECT_EQ(r.outcome, ClientOutcome::bad_url);
    EXPECT_FALSE(r.error.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Homes, AsyncClientTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Standalone" : "OnAServer"; });

TEST(AsyncClient, DestroyedWithACallInFlightDropsItWithoutCallingDone) {
  test::ParkedReplies parked;
  auto target = start_server({}, parked.handler());
  auto called = std::make_shared<std::atomic<bool>>(false);
  {
    AsyncClient client;
    ClientRequest req;
    req.url = target->url() + "/slow";
    client.call(req, [called](ClientResult) { *called = true; });
    ASSERT_TRUE(parked.take());  // the call reached the server
  }
  EXPECT_FALSE(called->load());
}

TEST(AsyncClient, ManyCallsFromSeveralThreadsEachGetTheirOwnAnswer) {
  auto target = start_server({}, echo_handler());
  AsyncClient client;
  std::vector<std::future<ClientResult>> results;
  std::vector<std::thread> threads;
  std::mutex mu;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        auto done = std::make_shared<std::promise<ClientResult>>();
        {
          std::lock_guard lock(mu);
          results.push_back(done->get_future());
        }
        ClientRequest req;
        req.url = target->url() + "/" + std::to_string(t * 10 + i);
        client.call(req, [done](ClientResult r) { done->set_value(std::move(r)); });
      }
    });
  for (auto& th : threads) th.join();
  int ok = 0;
  for (auto& f : results) {
    ASSERT_EQ(f.wait_for(20s), std::future_status::ready);
    auto r = f.get();
    if (r.outcome == ClientOutcome::ok && r.status == 200 && r.body.rfind("GET /", 0) == 0) ++ok;
  }
  EXPECT_EQ(ok, 20);
}

}  // namespace
}  // namespace trafficsim::http
