// Checks the integration-test server itself with plain blocking sockets, so that load-client
// integration tests can trust what it reports.
#include "support/test_server.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/response_parser.hpp"

namespace trafficsim::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A blocking client socket; the receive timeout keeps a broken server from hanging the test.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_GE(fd_, 0);
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    EXPECT_TRUE(connected_) << std::strerror(errno);
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void send(const std::string& data) {
    ASSERT_EQ(::send(fd_, data.data(), data.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(data.size()));
  }

  struct Response {
    int status = 0;
    std::string body;
    bool keep_alive = false;
    std::string raw;
  };

  // Reads one response; nullopt when the server closed first (or the read timed out).
  std::optional<Response> read_response(bool head_request = false) {
    http::ResponseParser parser;
    parser.reset(head_request);
    Response r;
    while (true) {
      if (pending_.empty()) {
        char buf[4096];
        const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
        if (n <= 0) {
          if (parser.on_eof() == http::ResponseParser::Result::complete) break;
          return std::nullopt;
        }
        pending_.assign(buf, static_cast<size_t>(n));
      }
      size_t consumed = 0;
      const auto result = parser.feed(pending_.data(), pending_.size(), &consumed,
                                      [&](std::string_view p) { r.body.append(p); });
      r.raw.append(pending_, 0, consumed);
      pending_.erase(0, consumed);
      if (result == http::ResponseParser::Result::error) {
        ADD_FAILURE() << "bad response: " << parser.error_reason();
        return std::nullopt;
      }
      if (result == http::ResponseParser::Result::complete) break;
    }
    r.status = parser.status();
    r.keep_alive = parser.keep_alive();
    return r;
  }

  // True when the server has closed: recv sees EOF (or a reset) with no data.
  bool closed_by_peer() {
    char c;
    const ssize_t n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

  // True when nothing arrives within `wait`.
  bool silent_for(milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(wait.count())) == 0;
  }

  bool connected() const { return connected_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string pending_;
};

std::string get(const std::string& path, const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
}

TEST(TestServerTest, UrlAndPort) {
  TestServer server;
  EXPECT_NE(server.port(), 0);
  EXPECT_EQ(server.url(), "http://127.0.0.1:" + std::to_string(server.port()) + "/");
  EXPECT_EQ(server.url("/a?b"), "http://127.0.0.1:" + std::to_string(server.port()) + "/a?b");
}

TEST(TestServerTest, RoutesAnswerTheirPathWhateverTheQueryAndOthersGetTheDefault) {
  TestServerOptions options;
  options.routes["/health"] = {200, "{\"status\":\"healthy\"}"};
  options.routes["/missing"] = {404, "gone"};
  TestServer server(options);
  Client client(server.port());
  client.send(get("/health?verbose=1"));
  auto health = client.read_response();
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "{\"status\":\"healthy\"}");
  client.send(get("/missing"));
  auto missing = client.read_response();
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->body, "gone");
  client.send(get("/other"));
  auto other = client.read_response();
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  EXPECT_EQ(other->body, "hello");
}

TEST(TestServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  TestServer server;
  Client client(server.port());
  client.send(get("/first", "X-Test: 1\r\n"));
  auto r1 = client.read_response();
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r1->body, "hello");
  EXPECT_TRUE(r1->keep_alive);
  EXPECT_NE(r1->raw.find("Content-Length: 5\r\n"), std::string::npos) << r1->raw;
  client.send(get("/second"));
  auto r2 = client.read_response();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body, "hello");

  EXPECT_EQ(server.connections_accepted(), 1u);
  EXPECT_EQ(server.requests(), 2u);
  EXPECT_TRUE(server.wait_for_requests(2, milliseconds(1000)));
  const auto heads = server.request_heads();
  ASSERT_EQ(heads.size(), 2u);
  EXPECT_EQ(heads[0], get("/first", "X-Test: 1\r\n"));
  EXPECT_EQ(heads[1].rfind("GET /second HTTP/1.1\r\n", 0), 0u);
  const auto times = server.request_times();
  ASSERT_EQ(times.size(), 2u);
  EXPECT_LE(times[0], times[1]);
}

TEST(TestServerTest, PipelinedRequestsAreAnsweredInOrder) {
  TestServer server;
  Client client(server.port());
  client.send(get("/a") + get("/b") + get("/c"));
  for (int i = 0; i < 3; ++i) {
    auto r = client.read_response();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->body, "hello");
  }
  EXPECT_EQ(server.requests(), 3u);
  EXPECT_EQ(server.responses(), 3u);
}

TEST(TestServerTest, RequestBodyIsReadFullyEvenWhenSplit) {
  TestServer server;
  Client client(server.port());
  client.send("POST /submit HTTP/1.1\r\nHost: h\r\ncontent-length: 11\r\n\r\nhello");
  EXPECT_TRUE(client.silent_for(milliseconds(50)));  // no answer before the body is complete
  client.send(" world");
  ASSERT_TRUE(client.read_response());
  client.send(get("/after"));
  ASSERT_TRUE(client.read_response());
  const auto bodies = server.request_bodies();
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_EQ(bodies[0], "hello world");
  EXPECT_EQ(bodies[1], "");
}

TEST(TestServerTest, KeepHeadsLimitsWhatIsKept) {
  TestServerOptions options;
  options.keep_heads = 2;
  TestServer server(options);
  Client client(server.port());
  for (int i = 0; i < 5; ++i) {
    client.send(get("/" + std::to_string(i)));
    ASSERT_TRUE(client.read_response());
  }
  EXPECT_EQ(server.request_heads().size(), 2u);
  EXPECT_EQ(server.request_bodies().size(), 2u);
  EXPECT_EQ(server.request_times().size(), 5u);
}

TEST(TestServerTest, CloseEveryOneClosesAfterEachResponse) {
  TestServerOptions options;
  options.close_every = 1;
  TestServer server(options);
  for (int i = 0; i < 3; ++i) {
    Client client(server.port());
    client.send(get("/"));
    auto r = client.read_response();
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->keep_alive);
    EXPECT_NE(r->raw.find("Connection: close\r\n"), std::string::npos);
    EXPECT_TRUE(client.closed_by_peer());
  }
  EXPECT_EQ(server.connections_accepted(), 3u);
}

TEST(TestServerTest, CloseEveryTwoKeepsTheFirstOpen) {
  TestServerOptions options;
  options.close_every = 2;
  TestServer server(options);
  Client client(server.port());
  client.send(get("/1"));
  auto r1 = client.read_response();
  ASSERT_TRUE(r1);
  EXPECT_TRUE(r1->keep_alive);
  client.send(get("/2"));
  auto r2 = client.read_response();
  ASSERT_TRUE(r2);
  EXPECT_FALSE(r2->keep_alive);
  EXPECT_TRUE(client.closed_by_peer());
}

TEST(TestServerTest, ClientConnectionCloseAndHttp10AreHonoured) {
  TestServer server;
  {
    Client client(server.port());
    client.send(get("/", "Connection: close\r\n"));
    auto r = client.read_response();
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->keep_alive);
    EXPECT_TRUE(client.closed_by_peer());
  }
  {
    Client client(server.port());
    client.send("GET / HTTP/1.0\r\n\r\n");
    auto r = client.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "hello");
    EXPECT_TRUE(client.closed_by_peer());
  }
}

TEST(TestServerTest, ChunkedBodyComesInTwoChunks) {
  TestServerOptions options;
  options.chunked = true;
  options.body = "hello world";
  TestServer server(options);
  Client client(server.port());
  client.send(get("/"));
  auto r = client.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "hello world");
  EXPECT_TRUE(r->keep_alive);
  EXPECT_NE(r->raw.find("Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
            std::string::npos)
      << r->raw;
}

TEST(TestServerTest, ChunkedEmptyAndOneByteBodies) {
  for (const char* body : {"", "x"}) {
    TestServerOptions options;
    options.chunked = true;
    options.body = body;
    TestServer server(options);
    Client client(server.port());
    client.send(get("/"));
    auto r = client.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, body);
  }
}

TEST(TestServerTest, StatusesAndHead) {
  {
    TestServerOptions options;
    options.status = 503;
    options.body = "busy";
    TestServer server(options);
    Client client(server.port());
    client.send(get("/"));
    auto r = client.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503);
    EXPECT_EQ(r->raw.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u);
    EXPECT_EQ(r->body, "busy");
  }
  {
    TestServerOptions options;
    options.status = 204;
    TestServer server(options);
    Client client(server.port());
    client.send(get("/") + get("/"));
    for (int i = 0; i < 2; ++i) {
      auto r = client.read_response();
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 204);
      EXPECT_EQ(r->body, "");
      EXPECT_EQ(r->raw.find("Content-Length"), std::string::npos);
    }
  }
  {
    TestServer server;
    Client client(server.port());
    client.send("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n" + get("/"));
    auto head = client.read_response(/*head_request=*/true);
    ASSERT_TRUE(head);
    EXPECT_NE(head->raw.find("Content-Length: 5\r\n"), std::string::npos);
    EXPECT_EQ(head->body, "");
    auto r = client.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "hello");
  }
}

TEST(TestServerTest, StallHoldsResponsesUntilItEnds) {
  TestServer server;
  Client client(server.port());
  client.send(get("/warm"));
  ASSERT_TRUE(client.read_response());

  // A stall long enough that "held" and "not held" differ by far more than a busy machine's
  // scheduling noise.
  const auto stall = milliseconds(2000);
  const auto start = Clock::now();
  server.stall_for(stall);
  client.send(get("/held"));
  auto r = client.read_response();
  const auto elapsed = Clock::now() - start;
  ASSERT_TRUE(r);
  EXPECT_GE(elapsed, stall - milliseconds(5));
  // The request itself was received right away; only the response waited.
  const auto times = server.request_times();
  ASSERT_EQ(times.size(), 2u);
  EXPECT_LT(times[1] - start, milliseconds(1500));

  // After the stall, responses flow again without waiting for another one.
  const auto after = Clock::now();
  client.send(get("/free"));
  ASSERT_TRUE(client.read_response());
  EXPECT_LT(Clock::now() - after, milliseconds(1500));
}

TEST(TestServerTest, DelayPrecedesEachResponse) {
  TestServerOptions options;
  options.delay = milliseconds(100);
  TestServer server(options);
  Client client(server.port());
  for (int i = 0; i < 2; ++i) {
    const auto start = Clock::now();
    client.send(get("/"));
    ASSERT_TRUE(client.read_response());
    EXPECT_GE(Clock::now() - start, milliseconds(95));
  }
}

TEST(TestServerTest, CloseWithoutResponse) {
  TestServerOptions options;
  options.close_without_response = true;
  TestServer server(options);
  Client client(server.port());
  client.send(get("/"));
  EXPECT_FALSE(client.read_response());
  EXPECT_EQ(server.requests(), 1u);
  EXPECT_EQ(server.responses(), 0u);
}

TEST(TestServerTest, NeverRespondReadsButStaysSilent) {
  TestServerOptions options;
  options.never_respond = true;
  TestServer server(options);
  Client client(server.port());
  client.send(get("/1") + get("/2"));
  EXPECT_TRUE(server.wait_for_requests(2, milliseconds(5000)));
  EXPECT_TRUE(client.silent_for(milliseconds(100)));
  EXPECT_EQ(server.responses(), 0u);
}

TEST(TestServerTest, WaitForRequestsTimesOutAndWakesOnArrival) {
  TestServer server;
  const auto start = Clock::now();
  EXPECT_FALSE(server.wait_for_requests(1, milliseconds(100)));
  EXPECT_GE(Clock::now() - start, milliseconds(95));

  std::thread sender([&] {
    std::this_thread::sleep_for(milliseconds(50));
    Client client(server.port());
    client.send(get("/"));
    ASSERT_TRUE(client.read_response());
  });
  const auto wait_start = Clock::now();
  EXPECT_TRUE(server.wait_for_requests(1, milliseconds(10000)));
  EXPECT_LT(Clock::now() - wait_start, milliseconds(5000));
  sender.join();
}

TEST(TestServerTest, DestructorDoesNotWaitForDelaysOrStalls) {
  const auto start = Clock::now();
  {
    TestServerOptions options;
    options.delay = milliseconds(60'000);
    TestServer server(options);
    Client waiting(server.port());
    waiting.send(get("/"));
    Client idle(server.port());
    ASSERT_TRUE(server.wait_for_requests(1, milliseconds(5000)));
    server.stall_for(milliseconds(60'000));
  }
  EXPECT_LT(Clock::now() - start, milliseconds(5000));
}

TEST(TestServerTest, FiveHundredConcurrentConnections) {
  constexpr int kClients = 500;
  const auto start = Clock::now();
  {
    TestServer server;
    std::vector<std::unique_ptr<Client>> clients;
    for (int i = 0; i < kClients; ++i) {
      clients.push_back(std::make_unique<Client>(server.port()));
      ASSERT_TRUE(clients.back()->connected()) << i;
    }
    for (auto& c : clients) c->send(get("/"));
    for (auto& c : clients) {
      auto r = c->read_response();
      ASSERT_TRUE(r);
      EXPECT_EQ(r->body, "hello");
    }
    EXPECT_EQ(server.connections_accepted(), static_cast<uint64_t>(kClients));
    EXPECT_EQ(server.requests(), static_cast<uint64_t>(kClients));
    EXPECT_EQ(server.responses(), static_cast<uint64_t>(kClients));
    // The server goes away with every connection still open.
  }
  EXPECT_LT(Clock::now() - start, milliseconds(20000));
}

TEST(TestServerTest, ManyShortConnectionsAreReaped) {
  TestServerOptions options;
  options.close_every = 1;
  TestServer server(options);
  for (int i = 0; i < 300; ++i) {
    Client client(server.port());
    client.send(get("/"));
    ASSERT_TRUE(client.read_response());
  }
  EXPECT_EQ(server.connections_accepted(), 300u);
  EXPECT_EQ(server.responses(), 300u);
}

}  // namespace
}  // namespace trafficsim::testing
