#pragma once
// An HTTP/1.1 server (Boost.Beast underneath, kept out of this header): keep-alive sessions on a
// pool of io threads, bounded request heads and bodies, read and idle timeouts, and asynchronous
// handlers — a handler answers whenever it is ready, from any thread, through its Reply. Delays
// are timers on the server's io threads (Server::after), never sleeping threads.
//
// Limits answer the way a demanding client expects: a body over body_limit_bytes -> 413, a head
// over header_limit_bytes -> 431, a malformed request -> 400, a client that stops sending
// mid-request is closed after read_timeout, an idle keep-alive connection after idle_timeout.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trafficsim::http {

// One request as the handler sees it; owns its data.
struct ServerRequest {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // path and query as sent
  std::string_view path() const;   // target up to '?'
  std::string_view query() const;  // after '?', empty when none
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_address;  // "127.0.0.1"
  // The first header with this name (case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const;
};

struct ServerResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  bool close = false;                                         // close after this response
};

// The one way to answer a request. Copyable; the first send() wins, later ones are ignored.
// send() may be called from any thread. cancelled() turns true when the client went away (the
// connection closed while the request was being handled) or the server is stopping — long work
// for this request should stop then.
class Reply {
 public:
  struct State;
  explicit Reply(std::shared_ptr<State> state) : state_(std::move(state)) {}
  void send(ServerResponse response) const;
  bool cancelled() const;
  // A flag that turns true together with cancelled(), for work that outlives this object.
  std::shared_ptr<const std::atomic<bool>> cancel_flag() const;

 private:
  std::shared_ptr<State> state_;
};

using RequestHandler = std::function<void(std::shared_ptr<const ServerRequest>, Reply)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: a free port chosen by the kernel (see Server::port())
  int threads = 0;    // io threads; 0: one per core
  size_t body_limit_bytes = 1 << 20;
  size_t header_limit_bytes = 16 << 10;
  std::chrono::milliseconds read_timeout{10'000};   // to receive a whole request once it began
  std::chrono::milliseconds idle_timeout{60'000};   // keep-alive connection with no request
  std::chrono::milliseconds write_timeout{30'000};  // to send a response
  std::string server_name = "trafficsim";
};

struct ServerCounters {
  uint64_t connections_accepted = 0;
  uint64_t connections_open = 0;
  uint64_t requests = 0;
  uint64_t rejected_body_too_large = 0;
  uint64_t rejected_header_too_large = 0;
  uint64_t rejected_bad_request = 0;
  uint64_t timeouts = 0;
  uint64_t client_gone = 0;  // connections closed by the client while a request was in work
};

class Server {
 public:
  // Binds and listens at once (throws std::runtime_error naming host:port on failure); serves
  // after start().
  Server(ServerOptions options, RequestHandler handler);
  ~Server();  // stop() and join
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const;
  std::string url() const;  // "http://127.0.0.1:PORT"
  void start();
  // Stops accepting, closes every connection, cancels timers, joins the io threads. Requests
  // still in work are cancelled (their Reply::send is ignored). Idempotent.
  void stop();

  // Runs fn on an io thread after delay (a timer, never a sleeping thread). fn is dropped
  // without running when the server stops first.
  void after(std::chrono::microseconds delay, std::function<void()> fn);
  // Runs fn on an io thread soon.
  void post(std::function<void()> fn);

  ServerCounters counters() const;

  struct Impl;

 private:
  friend Impl& server_impl(Server& server);
  std::unique_ptr<Impl> impl_;
};

}  // namespace trafficsim::http
