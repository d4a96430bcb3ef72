#pragma once
// A small asynchronous HTTP/1.1 client for low-rate calls with a deadline: a service calling
// another (checkout -> recommendations) on its Server's io threads, or an exporter or webhook
// sender on an AsyncClient's own io thread. One connection per call; not for load (that is
// load/worker.hpp).
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/server.hpp"

namespace trafficsim::http {

enum class ClientOutcome { ok, timeout, connect_error, io_error, bad_url };

struct ClientResult {
  ClientOutcome outcome = ClientOutcome::ok;
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // the response's, in order
  std::string error;  // what went wrong, for logs
  // The first response header with this name (case-insensitive), e.g. Retry-After.
  std::optional<std::string_view> header(std::string_view name) const;
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // http://host:port/path?query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{5000};  // the whole call: connect, send, receive
};

// Sends the request on server's io threads and calls done exactly once, on an io thread (or
// dropped when the server stops first).
void async_http_call(Server& server, ClientRequest request,
                     std::function<void(ClientResult)> done);

// The same calls without a Server: one io thread of its own, started by the constructor.
// call() is safe from any thread; done runs exactly once, on that io thread — unless the client
// is destroyed first: the destructor stops the thread and drops the calls still in flight
// without calling their done (so done must not be what keeps their owner waiting forever).
// Do not destroy the client from inside a done callback.
class AsyncClient {
 public:
  AsyncClient();
  ~AsyncClient();
  AsyncClient(const AsyncClient&) = delete;
  AsyncClient& operator=(const AsyncClient&) = delete;

  void call(ClientRequest request, std::function<void(ClientResult)> done);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trafficsim::http
