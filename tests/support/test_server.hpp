#pragma once
// A programmable HTTP/1.1 server for integration tests of the load client. It listens on
// 127.0.0.1 on a kernel-chosen port and serves every connection on its own thread with blocking
// sockets: simple to reason about, and fast enough for the few hundred connections tests use.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace trafficsim::testing {

struct TestServerOptions {
  int status = 200;
  std::string body = "hello";
  bool chunked = false;  // send the body as two chunks instead of with Content-Length
  // After every Nth response on a connection send "Connection: close" and close (0: never).
  int close_every = 0;
  std::chrono::milliseconds delay{0};   // delay before each response
  bool close_without_response = false;  // read a request, then close without answering
  bool never_respond = false;           // read requests, never answer (for timeout tests)
  size_t keep_heads = 16;               // how many request heads (and bodies) to keep
  // Per-path answers (the request target without its query string): a request for a path listed
  // here gets that status and body instead of `status` and `body`.
  struct Route {
    int status = 200;
    std::string body;
  };
  std::map<std::string, Route, std::less<>> routes;
};

class TestServer {
 public:
  explicit TestServer(TestServerOptions options = {});
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  uint16_t port() const { return port_; }
  std::string url(std::string_view path = "/") const;  // "http://127.0.0.1:PORT/path"

  uint64_t requests() const { return requests_.load(); }  // requests fully received
  // Responses sent; one already counted may still be in the socket (see serve()).
  uint64_t responses() const { return responses_.load(); }
  uint64_t connections_accepted() const { return connections_.load(); }

  // From now until now + d, hold every response; one that falls due meanwhile is sent when the
  // stall ends.
  void stall_for(std::chrono::milliseconds d);

  // Receive time of every request, in order (the first kMaxRequestTimes).
  std::vector<std::chrono::steady_clock::time_point> request_times() const;
  // The first keep_heads raw request heads (request line, headers and the blank line) and
  // bodies.
  std::vector<std::string> request_heads() const;
  std::vector<std::string> request_bodies() const;

  // Waits until at least n requests were received or the deadline passes; true if they were.
  bool wait_for_requests(uint64_t n, std::chrono::milliseconds deadline) const;

  static constexpr size_t kMaxRequestTimes = 2'000'000;

 private:
  struct Connection {
    int fd = -1;
    bool closed = false;  // fd closed by its thread; guarded by conns_mu_
    std::atomic<bool> finished{false};
    std::thread thread;
  };

  void accept_loop();
  void serve(Connection* conn);
  // Waits until `due` and past any stall; false if the server stopped meanwhile.
  bool wait_to_respond(std::chrono::steady_clock::time_point due);
  void record_request(std::string_view head, std::string_view body);
  bool send_all(int fd, std::string_view data);
  void reap_finished();

  const TestServerOptions options_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread accept_thread_;

  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> responses_{0};
  std::atomic<uint64_t> connections_{0};

  // Guards stopping_, stall_until_ and the recorded requests. Two condition variables so that a
  // request arriving does not wake every connection thread held by a stall.
  mutable std::mutex mu_;
  mutable std::condition_variable requests_cv_;  // a request was recorded
  std::condition_variable timing_cv_;            // the stall changed or the server stops
  bool stopping_ = false;
  std::chrono::steady_clock::time_point stall_until_{};
  std::vector<std::chrono::steady_clock::time_point> request_times_;
  std::vector<std::string> heads_;
  std::vector<std::string> bodies_;

  std::mutex conns_mu_;  // guards conns_ and each Connection's fd/closed
  std::list<std::unique_ptr<Connection>> conns_;
};

}  // namespace trafficsim::testing
