#pragma once
// An HTTP/1.1 server (Boost.Beast underneath, kept out of this header): keep-alive sessions on a
// pool of io threads, bounded request heads and bodies, read and idle timeouts, a connection
// cap, and asynchronous handlers — a handler answers whenever it is ready, from any thread,
// through its Reply: one response (send) or a streamed body (stream, chunked). Delays are timers
// on the server's io threads (Server::after), never sleeping threads.
//
// Limits answer the way a demanding client expects:
// - a body over body_limit_bytes -> 413, a head over header_limit_bytes -> 431, a malformed
//   request -> 400; so is (RFC 9112) a Transfer-Encoding other than exactly "chunked", one
//   together with Content-Length, and an HTTP/1.1 request without Host (HTTP/1.0 may omit it).
//   Each of these closes the connection.
// - idle_timeout covers only the wait for the first byte of a request; from that byte on the
//   whole request (head and body) must arrive within read_timeout, or the connection is closed.
// - write_timeout bounds each write in progress (a whole response; one write of a stream), never
//   the life of a stream that is merely idle.
// - at most max_connections sessions; beyond them up to overflow_connections more are accepted
//   for one request each, read within overflow_read_timeout: a request for one of
//   overload_paths (say /health/live) is handled and answered with "Connection: close", any other
//   gets 503 with "Retry-After: 1". Beyond the overflow a connection is closed at once. So a
//   cap full of idle or slow clients never silences the liveness probe.
// - a stream's unsent bytes are bounded (stream_buffer_limit_bytes): a client that does not read
//   is dropped and the stream reports closed.
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

// What a streamed response starts with. The body follows as one chunk per
// ResponseStream::write (Transfer-Encoding: chunked; to an HTTP/1.0 client raw bytes, and the
// connection closes at the end since nothing else can delimit the body).
struct StreamHead {
  int status = 200;
  std::string content_type = "application/octet-stream";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  bool close = false;  // close the connection after the stream finishes
};

// A streamed response body in progress. A copyable handle; every member is safe from any thread.
// Chunks go to the socket in the order write() took the stream's lock, each as soon as the
// socket takes it (no batching beyond what is queued meanwhile). When the last handle goes away
// without finish(), the stream is finished then. An open stream holds its connection (one of
// max_connections). Once Server::stop() returned, every member is a harmless no-op (write()
// returns false), but none may run while the Server is being destroyed.
class ResponseStream {
 public:
  struct Handle;
  ResponseStream() = default;  // a closed stream (what Reply::stream gives once the reply is used)
  explicit ResponseStream(std::shared_ptr<Handle> handle) : handle_(std::move(handle)) {}

  // Queues `chunk` as one chunk. An empty chunk is ignored (it would end the body). Returns
  // false, queuing nothing, when the stream is closed or finished, or when the chunk would take
  // the unsent bytes over the server's stream_buffer_limit_bytes: then the client (it is not
  // reading) is dropped and the stream is closed.
  bool write(std::string chunk) const;
  // Ends the body (the terminating chunk after everything queued). The connection then serves
  // its next request unless the head or the request asked to close. Idempotent.
  void finish() const;
  // True once the stream cannot deliver any more: the client went away, was dropped for not
  // reading, a write failed or timed out, or the server is stopping. Not set by finish().
  bool closed() const;
  // fn runs once when the stream closes as closed() describes (never after a clean finish), on
  // an io thread — or on the thread calling Server::stop(), or at once on this thread when the
  // stream is already closed. One callback per stream: a later call replaces an earlier one.
  void on_close(std::function<void()> fn) const;
  // Bytes queued or being written, framing included.
  size_t unsent_bytes() const;

 private:
  std::shared_ptr<Handle> handle_;
};

// The one way to answer a request. Copyable; the first send() or stream() wins, later ones are
// ignored (a later stream() returns a closed stream). send() and stream() may be called from any
// thread. cancelled() turns true when the client went away (the connection closed while the
// request was being handled or its stream was open) or the server is stopping — long work for
// this request should stop then.
class Reply {
 public:
  struct State;
  explicit Reply(std::shared_ptr<State> state) : state_(std::move(state)) {}
  void send(ServerResponse response) const;
  // Starts a streamed response with `head`; write the body through the returned stream.
  ResponseStream stream(StreamHead head) const;
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
  // From the first byte of a request to its last (head and body).
  std::chrono::milliseconds read_timeout{10'000};
  // Waiting for the first byte of a request: a new or kept-alive connection with no request.
  std::chrono::milliseconds idle_timeout{60'000};
  // One write in progress: a whole response, or one write of a stream.
  std::chrono::milliseconds write_timeout{30'000};
  std::string server_name = "trafficsim";
  // Sessions served normally (open connections beyond it are overflow, see the top).
  size_t max_connections = 20'000;
  // Connections beyond max_connections accepted for one request each; beyond them a new
  // connection is closed at once.
  size_t overflow_connections = 64;
  // An overflow connection's whole request must arrive within this.
  std::chrono::milliseconds overflow_read_timeout{1'000};
  // Request paths (exact, without query) still handled on an overflow connection.
  std::vector<std::string> overload_paths;
  // Per stream: unsent bytes beyond this drop the client (1 MiB).
  size_t stream_buffer_limit_bytes = 1 << 20;
};

struct ServerCounters {
  uint64_t connections_accepted = 0;  // every connection taken off the listen queue
  uint64_t connections_open = 0;      // normal and overflow sessions open now
  uint64_t connections_refused = 0;   // closed at once: cap and overflow were full
  uint64_t rejected_overloaded = 0;   // answered 503 on an overflow connection
  uint64_t requests = 0;
  uint64_t rejected_body_too_large = 0;
  uint64_t rejected_header_too_large = 0;
  uint64_t rejected_bad_request = 0;  // malformed or framing-ambiguous requests (400)
  uint64_t timeouts = 0;
  uint64_t client_gone = 0;  // connections closed by the client while a request was in work
  uint64_t streams_dropped = 0;  // streams whose client did not read (unsent bytes over limit)
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
  // still in work are cancelled (their Reply::send is ignored) and open streams are closed.
  // Idempotent.
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
