// The HTTP server as a client sees it: keep-alive, limits, timeouts, RFC 9112 framing rules, and
// replies that arrive later, from other threads, or never (client gone, server stopping).
#include "http/server.hpp"

#include <gtest/gtest.h>

#include <future>
#include <string>
#include <thread>

#include "http/server_test_support.hpp"
#include "support/http_client.hpp"
#include "support/raw_connection.hpp"

namespace trafficsim::http {
namespace {

using namespace std::chrono_literals;
using test::echo_handler;
using test::eventually;
using test::start_server;
using testing::RawConnection;

TEST(Server, KeepAliveConnectionServesRequestsInTurn) {
  auto server = start_server({}, echo_handler());
  RawConnection c(server->port());
  ASSERT_TRUE(c.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.read_until("GET /one "));
  ASSERT_TRUE(c.send("POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"));
  ASSERT_TRUE(c.read_until("POST /two abc"));
  EXPECT_FALSE(c.peer_closed());
  EXPECT_EQ(server->counters().connections_accepted, 1u);
  EXPECT_EQ(server->counters().requests, 2u);
}

TEST(Server, BodyOverTheLimitIsAnswered413) {
  ServerOptions o;
  o.body_limit_bytes = 1000;
  auto server = start_server(o, echo_handler());
  auto r = testing::http_call(server->port(), "POST", "/x", std::string(2000, 'b'));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(server->counters().rejected_body_too_large, 1u);
  EXPECT_EQ(testing::http_call(server->port(), "POST", "/x", std::string(1000, 'b')).status, 200);
}

TEST(Server, HeadOverTheLimitIsAnswered431) {
  ServerOptions o;
  o.header_limit_bytes = 1024;
  auto server = start_server(o, echo_handler());
  auto out = testing::raw_exchange(
      server->port(), "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
  EXPECT_EQ(out.substr(0, 12), "HTTP/1.1 431");
  EXPECT_EQ(server->counters().rejected_header_too_large, 1u);
}

TEST(Server, MalformedRequestIsAnswered400AndClosed) {
  auto server = start_server({}, echo_handler());
  auto out = testing::raw_exchange(server->port(), "GARBAGE\r\n\r\n");
  EXPECT_EQ(out.substr(0, 12), "HTTP/1.1 400");
  EXPECT_NE(out.find("Connection: close"), std::string::npos);
  EXPECT_EQ(server->counters().rejected_bad_request, 1u);
}

// --- timeouts: idle covers the wait for a request's first byte, read covers the request -----

ServerOptions slow_read_fast_idle_is_wrong() {
  ServerOptions o;
  o.read_timeout = 300ms;
  o.idle_timeout = 30s;  // the test's 10 s deadline ends long before this would close
  return o;
}

TEST(Server, SlowRequestHeadIsClosedAfterTheReadTimeoutNotTheIdleTimeout) {
  auto server = start_server(slow_read_fast_idle_is_wrong(), echo_handler());
  RawConnection c(server->port());
  ASSERT_TRUE(c.send("GET /health HTTP/1.1\r\nHo"));
  EXPECT_TRUE(c.wait_closed(10s)) << "still open: the idle timeout applied to a started request";
  EXPECT_TRUE(c.received().empty());
  EXPECT_TRUE(eventually([&] { return server->counters().timeouts >= 1u; }));
}

TEST(Server, SlowRequestBodyIsClosedAfterTheReadTimeoutNotTheIdleTimeout) {
  auto server = start_server(slow_read_fast_idle_is_wrong(), echo_handler());
  RawConnection c(server->port());
  ASSERT_TRUE(c.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten.."));
  EXPECT_TRUE(c.wait_closed(10s));
  EXPECT_TRUE(c.received().empty());
}

TEST(Server, SecondRequestOnAKeptAliveConnectionHasItsOwnReadTimeout) {
  auto server = start_server(slow_read_fast_idle_is_wrong(), echo_handler());
  RawConnection c(server->port());
  ASSERT_TRUE(c.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.read_until("GET /one "));
  ASSERT_TRUE(c.send("GET /two HTTP/1.1\r\nHo"));
  EXPECT_TRUE(c.wait_closed(10s));
}

TEST(Server, IdleConnectionIsClosedAfterTheIdleTimeout) {
  ServerOptions o;
  o.idle_timeout = 300ms;
  o.read_timeout = 30s;
  auto server = start_server(o, echo_handler());
  RawConnection c(server->port());
  EXPECT_TRUE(c.wait_closed(10s));
  // Beast closes the socket when the timer fires, before the handler that counts it runs.
  EXPECT_TRUE(eventually([&] { return server->counters().timeouts == 1u; }));
}

TEST(Server, KeptAliveConnectionWaitsForTheIdleTimeoutNotTheReadTimeout) {
  ServerOptions o;
  o.read_timeout = 100ms;
  o.idle_timeout = 30s;
  auto server = start_server(o, echo_handler());
  RawConnection c(server->port());
  ASSERT_TRUE(c.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.read_until("GET /one "));
  // Many read timeouts pass with no request: the connection stays open ...
  EXPECT_FALSE(c.wait_closed(1500ms));
  // ... and serves the next request.
  ASSERT_TRUE(c.send("GET /two HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(c.read_until("GET /two "));
}

// --- asynchronous replies ----------------------------------------------------------------

TEST(Server, ReplySentFromAnotherThreadReachesTheClient) {
  test::ParkedReplies parked;
  auto server = start_server({}, parked.handler());
  auto call = std::async(std::launch::async,
                         [&] { return testing::http_call(server->port(), "GET", "/later"); });
  auto p = parked.take();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->request->target, "/later");
  std::thread([reply = p->reply] { reply.send(ServerResponse{202, "text/plain", "done"}); }).join();
  auto r = call.get();
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body, "done");
}

TEST(Server, OnlyTheFirstAnswerOfAReplyIsSent) {
  auto server = start_server({}, [](std::shared_ptr<const ServerRequest>, Reply reply) {
    reply.send(ServerResponse{200, "text/plain", "first"});
    reply.send(ServerResponse{500, "text/plain", "second"});
    EXPECT_TRUE(reply.stream({}).closed());
  });
  auto r = testing::http_call(server->port(), "GET", "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "first");
}

TEST(Server, HandlerThatThrowsIsAnswered500) {
  auto server = start_server(
      {}, [](std::shared_ptr<const ServerRequest>, Reply) { throw std::runtime_error("boom"); });
  EXPECT_EQ(testing::http_call(server->port(), "GET", "/").status, 500);
}

TEST(Server, CancelledTurnsTrueWhenTheClientGoesAway) {
  test::ParkedReplies parked;
  auto server = start_server({}, parked.handler());
  RawConnection c(server->port());
  ASSERT_TRUE(c.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto p = parked.take();
  ASSERT_TRUE(p);
  auto flag = p->reply.cancel_flag();
  EXPECT_FALSE(p->reply.cancelled());
  c.close();
  EXPECT_TRUE(eventually([&] { return p->reply.cancelled(); }));
  EXPECT_TRUE(flag->load());
  EXPECT_TRUE(eventually([&] { return server->counters().client_gone == 1; }));
  p->reply.send(ServerResponse{});  // goes nowhere, harmlessly
}

TEST(Server, StopCancelsRequestsInWorkAndClosesTheirConnections) {
  test::ParkedReplies parked;
  auto server = start_server({}, parked.handler());
  RawConnection c(server->port());
  ASSERT_TRUE(c.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto p = parked.take();
  ASSERT_TRUE(p);
  server->stop();
  EXPECT_TRUE(p->reply.cancelled());
  EXPECT_TRUE(c.wait_closed(10s));
  EXPECT_TRUE(c.received().empty());
  p->reply.send(ServerResponse{});  // ignored after stop
  server->stop();                   // idempotent
}

// --- RFC 9112 framing: what cannot be read unambiguously is refused ----------------------

std::string raw_request(const Server& server, std::string request) {
  return testing::raw_exchange(server.port(), request);
}

TEST(Server, TransferEncodingOtherThanChunkedIsAnswered400AndClosed) {
  auto server = start_server({}, echo_handler());
  for (std::string te : {"gzip", "chunked, gzip", "identity", "gzip, chunked"}) {
    SCOPED_TRACE(te);
    auto out = raw_request(*server, "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te +
                                        "\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    EXPECT_EQ(out.substr(0, 12), "HTTP/1.1 400");
    EXPECT_NE(out.find("Connection: close"), std::string::npos);
    EXPECT_EQ(out.find("POST /x"), std::string::npos) << "the handler saw the request";
  }
  EXPECT_EQ(server->counters().rejected_bad_request, 4u);
  EXPECT_EQ(server->counters().requests, 0u);
}

TEST(Server, TransferEncodingTogetherWithContentLengthIsAnswered400) {
  auto server = start_server({}, echo_handler());
  auto out = raw_request(*server,
                         "POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(out.substr(0, 12), "HTTP/1.1 400");
  out = raw_request(*server,
                    "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                    "Content-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(out.substr(0, 12), "HTTP/1.1 400");
  EXPECT_EQ(server->counters().rejected_bad_request, 2u);
}

TEST(Server, ChunkedRequestBodyIsAccepted) {
  auto server = start_server({}, echo_handler());
  auto out = raw_request(*server,
                         "POST /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                         "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(out.substr(0, 12), "HTTP/1.1 200");
  EXPECT_NE(out.find("POST /x abc"), std::string::npos);
}

TEST(Server, Http11RequestWithoutHostIsAnswered400) {
  auto server = start_server({}, echo_handler());
  auto out = raw_request(*server, "GET /x HTTP/1.1\r\n\r\n");
  EXPECT_EQ(out.substr(0, 12), "HTTP/1.1 400");
  EXPECT_EQ(server->counters().rejected_bad_request, 1u);
}

TEST(Server, Http10RequestWithoutHostIsServed) {
  auto server = start_server({}, echo_handler());
  auto out = raw_request(*server, "GET /x HTTP/1.0\r\n\r\n");
  EXPECT_EQ(out.substr(0, 12), "HTTP/1.0 200");
  EXPECT_NE(out.find("GET /x "), std::string::npos);
}

}  // namespace
}  // namespace trafficsim::http
