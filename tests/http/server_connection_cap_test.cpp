// The connection cap: a server full of idle or slow clients still answers its liveness probe,
// tells other newcomers to come back (503), and refuses connections beyond the overflow at once.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "http/server.hpp"
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

std::vector<std::unique_ptr<RawConnection>> hold_idle(const Server& server, int n) {
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < n; ++i) held.push_back(std::make_unique<RawConnection>(server.port()));
  return held;
}

TEST(ServerConnectionCap, BeyondTheCapOverloadPathsAreServedAndOtherRequestsGet503) {
  ServerOptions o;
  o.max_connections = 4;
  o.overload_paths = {"/health/live"};
  auto server = start_server(o, echo_handler());
  auto held = hold_idle(*server, 4);
  ASSERT_TRUE(eventually([&] { return server->counters().connections_open == 4; }));

  auto other = testing::http_call(server->port(), "GET", "/x");
  EXPECT_EQ(other.status, 503);
  EXPECT_EQ(other.header("Retry-After"), "1");
  EXPECT_EQ(other.header("Connection"), "close");

  auto live = testing::http_call(server->port(), "GET", "/health/live?probe=1");
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(live.body, "GET /health/live?probe=1 ");
  EXPECT_EQ(live.header("Connection"), "close");

  auto c = server->counters();
  EXPECT_EQ(c.rejected_overloaded, 1u);
  EXPECT_EQ(c.connections_refused, 0u);
  EXPECT_EQ(c.requests, 1u);  // only the probe reached the handler
}

TEST(ServerConnectionCap, AClosedConnectionMakesRoomForNormalService) {
  ServerOptions o;
  o.max_connections = 4;
  auto server = start_server(o, echo_handler());
  auto held = hold_idle(*server, 4);
  ASSERT_TRUE(eventually([&] { return server->counters().connections_open == 4; }));
  EXPECT_EQ(testing::http_call(server->port(), "GET", "/x").status, 503);

  held[0].reset();
  ASSERT_TRUE(eventually([&] { return server->counters().connections_open == 3; }));
  RawConnection c(server->port());
  ASSERT_TRUE(c.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(c.read_until("GET /one "));
  EXPECT_EQ(c.received().substr(0, 12), "HTTP/1.1 200");
  EXPECT_EQ(c.received().find("Connection: close"), std::string::npos);
  ASSERT_TRUE(c.send("GET /two HTTP/1.1\r\nHost: x\r\n\r\n"));  // kept alive
  EXPECT_TRUE(c.read_until("GET /two "));
  EXPECT_EQ(server->counters().rejected_overloaded, 1u);
}

TEST(ServerConnectionCap, BeyondTheOverflowANewConnectionIsClosedAtOnce) {
  ServerOptions o;
  o.max_connections = 2;
  o.overflow_connections = 1;
  o.overflow_read_timeout = 30s;  // the overflow connection stays while the test runs
  o.overload_paths = {"/health/live"};
  auto server = start_server(o, echo_handler());
  auto held = hold_idle(*server, 3);
  ASSERT_TRUE(eventually([&] { return server->counters().connections_open == 3; }));

  RawConnection refused(server->port());
  ASSERT_TRUE(refused.connected());  // the kernel accepted it; the server closes it
  refused.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(refused.wait_closed(10s));
  EXPECT_TRUE(refused.received().empty());
  EXPECT_EQ(server->counters().connections_refused, 1u);
  EXPECT_EQ(server->counters().connections_accepted, 4u);
}

TEST(ServerConnectionCap, AnOverflowConnectionThatSendsNothingIsClosedAfterItsReadDeadline) {
  ServerOptions o;
  o.max_connections = 1;
  o.overflow_read_timeout = 200ms;
  o.idle_timeout = 30s;
  auto server = start_server(o, echo_handler());
  auto held = hold_idle(*server, 1);
  ASSERT_TRUE(eventually([&] { return server->counters().connections_open == 1; }));
  RawConnection slow(server->port());
  EXPECT_TRUE(slow.wait_closed(10s));
  EXPECT_TRUE(eventually([&] { return server->counters().connections_open == 1; }));
}

}  // namespace
}  // namespace trafficsim::http
