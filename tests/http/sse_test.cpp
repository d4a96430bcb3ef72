// The SSE writer's bytes on the wire, checked against the framing rules of the event-stream
// format (html.spec.whatwg.org, "Server-sent events"): fields, one data line per payload line,
// the blank line that dispatches, comments, retry, one chunk per call.
#include "http/sse.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "http/server_test_support.hpp"
#include "support/http_client.hpp"
#include "support/raw_connection.hpp"

namespace trafficsim::http {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::start_server;
using testing::RawConnection;

// The chunks of a chunked body, in order (the terminating chunk not included).
std::vector<std::string> chunks_of(std::string_view raw) {
  std::vector<std::string> out;
  auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return out;
  std::string_view body = raw.substr(head_end + 4);
  while (true) {
    auto eol = body.find("\r\n");
    if (eol == std::string_view::npos) break;
    size_t size = std::strtoul(std::string(body.substr(0, eol)).c_str(), nullptr, 16);
    body.remove_prefix(eol + 2);
    if (size == 0 || body.size() < size + 2) break;
    out.emplace_back(body.substr(0, size));
    body.remove_prefix(size + 2);
  }
  return out;
}

std::string sse_exchange(const Server& server) {
  return testing::raw_exchange(server.port(),
                               "GET /events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
}

TEST(SseWriter, ResponseIsAnUnbufferedEventStream) {
  auto server = start_server({}, [](std::shared_ptr<const ServerRequest>, Reply reply) {
    SseWriter sse(reply, {{"X-Stream", "jobs"}});
    sse.finish();
  });
  auto raw = sse_exchange(*server);
  EXPECT_EQ(raw.substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_NE(raw.find("\r\nContent-Type: text/event-stream\r\n"), std::string::npos);
  EXPECT_NE(raw.find("\r\nCache-Control: no-cache\r\n"), std::string::npos);
  EXPECT_NE(raw.find("\r\nX-Accel-Buffering: no\r\n"), std::string::npos);
  EXPECT_NE(raw.find("\r\nX-Stream: jobs\r\n"), std::string::npos);
  EXPECT_NE(raw.find("\r\nTransfer-Encoding: chunked\r\n"), std::string::npos);
}

TEST(SseWriter, EachCallIsOneChunkWithExactEventStreamFraming) {
  auto server = start_server({}, [](std::shared_ptr<const ServerRequest>, Reply reply) {
    SseWriter sse(reply);
    sse.retry(3000ms);
    sse.event("snapshot", R"({"rps":20})", "41");
    sse.comment("heartbeat");
    sse.event("", "plain message");
    sse.event("done", "");
    sse.finish();
  });
  auto chunks = chunks_of(sse_exchange(*server));
  std::vector<std::string> expected = {
      "retry: 3000\n\n",        "id: 41\nevent: snapshot\ndata: {\"rps\":20}\n\n",
      ": heartbeat\n\n",        "data: plain message\n\n",
      "event: done\ndata:\n\n",  // empty data still dispatches an event
  };
  EXPECT_EQ(chunks, expected);
}

TEST(SseWriter, MultiLineDataBecomesOneDataLinePerLine) {
  auto server = start_server({}, [](std::shared_ptr<const ServerRequest>, Reply reply) {
    SseWriter sse(reply);
    sse.event("log", "one\ntwo\r\nthree\rfour");
    sse.event("log", "trailing\n");  // the client rebuilds "trailing\n"
    sse.event("log", " leading space");
    sse.comment("line a\nline b");
    sse.finish();
  });
  auto chunks = chunks_of(sse_exchange(*server));
  std::vector<std::string> expected = {
      "event: log\ndata: one\ndata: two\ndata: three\ndata: four\n\n",
      "event: log\ndata: trailing\ndata:\n\n",
      "event: log\ndata:  leading space\n\n",
      ": line a\n: line b\n\n",
  };
  EXPECT_EQ(chunks, expected);
}

TEST(SseWriter, NameOrIdWithALineBreakIsRefusedAndNothingIsSent) {
  std::atomic<int> refused{0};
  auto server = start_server({}, [&](std::shared_ptr<const ServerRequest>, Reply reply) {
    SseWriter sse(reply);
    auto refuse = [&](auto&& call) {
      try {
        call();
      } catch (const std::invalid_argument&) {
        ++refused;
      }
    };
    refuse([&] { sse.event("bad\nname", "x"); });
    refuse([&] { sse.event("ok", "x", "bad\rid"); });
    refuse([&] { sse.event("ok", "x", std::string_view("nul\0id", 6)); });
    sse.event("ok", "x", "7");
    sse.finish();
  });
  auto chunks = chunks_of(sse_exchange(*server));
  EXPECT_EQ(refused.load(), 3);
  EXPECT_EQ(chunks, std::vector<std::string>{"id: 7\nevent: ok\ndata: x\n\n"});
}

TEST(SseWriter, HeartbeatsKeepFlowingWhileTheClientListensAndStopWhenItLeaves) {
  test::ParkedReplies parked;
  auto server = start_server({}, parked.handler());
  auto c = std::make_unique<RawConnection>(server->port());
  ASSERT_TRUE(c->send("GET /events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 41\r\n\r\n"));
  auto p = parked.take();
  ASSERT_TRUE(p);
  EXPECT_EQ(SseWriter::last_event_id(*p->request), "41");
  SseWriter sse(p->reply);
  ASSERT_TRUE(sse.comment("hb"));
  ASSERT_TRUE(c->read_until("6\r\n: hb\n\n\r\n"));
  ASSERT_TRUE(sse.comment("hb"));
  ASSERT_TRUE(c->read_until("6\r\n: hb\n\n\r\n", 10s, c->received().find(": hb") + 1));
  std::atomic<bool> gone{false};
  sse.on_close([&] { gone = true; });
  c.reset();
  EXPECT_TRUE(eventually([&] { return sse.closed() && gone.load(); }));
  EXPECT_FALSE(sse.event("late", "x"));
}

TEST(SseWriter, LastEventIdIsAbsentOnAFirstConnection) {
  ServerRequest req;
  EXPECT_FALSE(SseWriter::last_event_id(req).has_value());
}

}  // namespace
}  // namespace trafficsim::http
