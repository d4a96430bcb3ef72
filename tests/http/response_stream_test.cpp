// Streamed replies on the wire: chunk framing a real client parses, one chunk per write sent at
// once, keep-alive after finish, and every way a stream can end early (client gone, client not
// reading, server stopping) reported to the writer.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>

#include "http/async_client.hpp"
#include "http/server.hpp"
#include "http/server_test_support.hpp"
#include "support/http_client.hpp"
#include "support/raw_connection.hpp"

namespace trafficsim::http {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::ParkedReplies;
using test::start_server;
using testing::RawConnection;

// The body of a response read by RawConnection: what follows the head.
std::string body_of(const std::string& raw) {
  auto end = raw.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : raw.substr(end + 4);
}

RequestHandler stream_three_chunks() {
  return [](std::shared_ptr<const ServerRequest>, Reply reply) {
    auto s = reply.stream(StreamHead{201, "text/plain", {{"X-Kind", "stream"}}});
    s.write("hello ");
    s.write("streamed ");
    s.write("world");
    s.finish();
  };
}

TEST(ResponseStream, ChunkedBodyIsReadByARealClient) {
  auto server = start_server({}, stream_three_chunks());
  AsyncClient client;  // Beast's parser underneath
  std::promise<ClientResult> done;
  ClientRequest req;
  req.url = server->url() + "/s";
  client.call(req, [&](ClientResult r) { done.set_value(std::move(r)); });
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  auto r = f.get();
  EXPECT_EQ(r.outcome, ClientOutcome::ok) << r.error;
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "hello streamed world");
}

TEST(ResponseStream, EachWriteIsOneChunkAndFinishSendsTheTerminatingChunk) {
  auto server = start_server({}, stream_three_chunks());
  auto raw = testing::raw_exchange(server->port(),
                                   "GET /s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(raw.substr(0, 17), "HTTP/1.1 201 Crea");
  EXPECT_NE(raw.find("\r\nTransfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_NE(raw.find("\r\nContent-Type: text/plain\r\n"), std::string::npos);
  EXPECT_NE(raw.find("\r\nX-Kind: stream\r\n"), std::string::npos);
  EXPECT_EQ(raw.find("Content-Length"), std::string::npos);
  EXPECT_EQ(body_of(raw), "6\r\nhello \r\n9\r\nstreamed \r\n5\r\nworld\r\n0\r\n\r\n");
}

TEST(ResponseStream, FinishedStreamLeavesTheConnectionServingTheNextRequest) {
  auto server = start_server({}, stream_three_chunks());
  RawConnection c(server->port());
  ASSERT_TRUE(c.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.read_until("0\r\n\r\n"));
  EXPECT_EQ(c.received().find("Connection: close"), std::string::npos);
  c.take_received();
  ASSERT_TRUE(c.send("GET /s HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(c.read_until("5\r\nworld\r\n0\r\n\r\n"));
  EXPECT_EQ(server->counters().connections_accepted, 1u);
}

TEST(ResponseStream, ChunksWrittenLaterFromAnotherThreadAreSentWithoutWaitingForFinish) {
  ParkedReplies parked;
  auto server = start_server({}, parked.handler());
  RawConnection c(server->port());
  ASSERT_TRUE(c.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto p = parked.take();
  ASSERT_TRUE(p);
  auto s = p->reply.stream(StreamHead{200, "text/plain"});
  ASSERT_TRUE(c.read_until("\r\n\r\n"));  // the head goes out before any chunk
  EXPECT_TRUE(std::async(std::launch::async, [&] { return s.write("first"); }).get());
  ASSERT_TRUE(c.read_until("5\r\nfirst\r\n"));
  EXPECT_TRUE(s.write("second!"));
  ASSERT_TRUE(c.read_until("7\r\nsecond!\r\n"));
  EXPECT_TRUE(s.write(""));  // ignored: an empty chunk would end the body
  s.finish();
  ASSERT_TRUE(c.read_until("0\r\n\r\n"));
  EXPECT_EQ(body_of(c.received()), "5\r\nfirst\r\n7\r\nsecond!\r\n0\r\n\r\n");
  EXPECT_FALSE(s.write("late"));
  EXPECT_FALSE(s.closed());  // finished, not closed
}

TEST(ResponseStream, DroppingTheLastHandleFinishesTheStream) {
  auto server = start_server({}, [](std::shared_ptr<const ServerRequest>, Reply reply) {
    reply.stream(StreamHead{}).write("only");
  });
  auto raw = testing::raw_exchange(server->port(),
                                   "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(body_of(raw), "4\r\nonly\r\n0\r\n\r\n");
}

TEST(ResponseStream, ClientGoneClosesTheStreamAndRunsOnClose) {
  ParkedReplies parked;
  auto server = start_server({}, parked.handler());
  auto c = std::make_unique<RawConnection>(server->port());
  ASSERT_TRUE(c->send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto p = parked.take();
  ASSERT_TRUE(p);
  auto s = p->reply.stream(StreamHead{});
  std::atomic<int> on_close_runs{0};
  s.on_close([&] { ++on_close_runs; });
  ASSERT_TRUE(s.write("tick"));
  ASSERT_TRUE(c->read_until("4\r\ntick\r\n"));
  c.reset();
  EXPECT_TRUE(eventually([&] { return s.closed(); }));
  EXPECT_TRUE(eventually([&] { return on_close_runs.load() == 1; }));
  EXPECT_TRUE(p->reply.cancelled());
  EXPECT_FALSE(s.write("tock"));
  EXPECT_EQ(server->counters().client_gone, 1u);
  std::atomic<bool> late{false};
  s.on_close([&] { late = true; });  // already closed: runs at once
  EXPECT_TRUE(late.load());
}

TEST(ResponseStream, ClientThatDoesNotReadIsDroppedAndUnsentBytesStayBounded) {
  ServerOptions o;
  o.stream_buffer_limit_bytes = 256 << 10;
  ParkedReplies parked;
  auto server = start_server(o, parked.handler());
  RawConnection c(server->port(), 4096);
  ASSERT_TRUE(c.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto p = parked.take();
  ASSERT_TRUE(p);
  auto s = p->reply.stream(StreamHead{});
  std::atomic<bool> closed_seen{false};
  s.on_close([&] { closed_seen = true; });
  const std::string chunk(16 << 10, 'x');
  size_t max_unsent = 0;
  int accepted = 0;
  // The client reads nothing: once the kernel's buffers are full, unsent bytes reach the limit
  // and the write that would pass it fails. 4096 writes (64 MiB) is far more than the buffers.
  for (; accepted < 4096 && s.write(chunk); ++accepted)
    max_unsent = std::max(max_unsent, s.unsent_bytes());
  EXPECT_LT(accepted, 4096) << "every write was accepted: nothing bounds the queue";
  EXPECT_LE(max_unsent, o.stream_buffer_limit_bytes);
  EXPECT_TRUE(s.closed());
  EXPECT_TRUE(eventually([&] { return closed_seen.load(); }));
  EXPECT_TRUE(eventually([&] { return server->counters().streams_dropped == 1; }));
  EXPECT_FALSE(s.write("more"));
}

TEST(ResponseStream, AnIdleStreamOutlivesTheWriteTimeout) {
  ServerOptions o;
  o.write_timeout = 100ms;
  Server* server_ptr = nullptr;
  auto server = start_server(o, [&](std::shared_ptr<const ServerRequest>, Reply reply) {
    auto s = reply.stream(StreamHead{});
    s.write("first");
    // Idle for many write timeouts, then more: a timer, not a sleeping thread.
    server_ptr->after(1s, [s] {
      s.write("second");
      s.finish();
    });
  });
  server_ptr = server.get();
  RawConnection c(server->port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.read_until("5\r\nfirst\r\n"));
  EXPECT_TRUE(c.read_until("6\r\nsecond\r\n0\r\n\r\n"));
  EXPECT_FALSE(c.peer_closed());
}

TEST(ResponseStream, StoppingTheServerClosesOpenStreams) {
  ParkedReplies parked;
  auto server = start_server({}, parked.handler());
  RawConnection c(server->port());
  ASSERT_TRUE(c.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto p = parked.take();
  ASSERT_TRUE(p);
  auto s = p->reply.stream(StreamHead{});
  std::atomic<bool> closed_seen{false};
  s.on_close([&] { closed_seen = true; });
  ASSERT_TRUE(s.write("tick"));
  ASSERT_TRUE(c.read_until("4\r\ntick\r\n"));
  server->stop();
  EXPECT_TRUE(s.closed());
  EXPECT_TRUE(closed_seen.load());
  EXPECT_FALSE(s.write("tock"));
  EXPECT_TRUE(c.wait_closed(10s));
}

TEST(ResponseStream, Http10ClientGetsARawBodyEndedByTheClose) {
  auto server = start_server({}, stream_three_chunks());
  auto raw = testing::raw_exchange(server->port(), "GET /s HTTP/1.0\r\n\r\n");
  EXPECT_EQ(raw.substr(0, 12), "HTTP/1.0 201");
  EXPECT_EQ(raw.find("Transfer-Encoding"), std::string::npos);
  EXPECT_EQ(body_of(raw), "hello streamed world");
}

TEST(ResponseStream, HandlerHeadersCannotOverrideTheFraming) {
  auto server = start_server({}, [](std::shared_ptr<const ServerRequest>, Reply reply) {
    auto s = reply.stream(
        StreamHead{200, "text/plain", {{"Content-Length", "3"}, {"X-Evil", "a\r\nInjected: yes"}}});
    s.write("abc");
    s.finish();
  });
  auto raw = testing::raw_exchange(server->port(),
                                   "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(raw.find("Content-Length"), std::string::npos);
  EXPECT_EQ(raw.find("\r\nInjected"), std::string::npos);
  EXPECT_EQ(body_of(raw), "3\r\nabc\r\n0\r\n\r\n");
}

}  // namespace
}  // namespace trafficsim::http
