#pragma once
// A small asynchronous HTTP/1.1 client for low-rate calls with a deadline: a service calling
// another (checkout -> recommendations) on its Server's io threads, or an exporter or webhook
// sender on an AsyncClient's own io thread. http:// and https:// (the peer verified, see
// client_tls.hpp). One connection per call; not for load (that is load/worker.hpp).
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/client_tls.hpp"
#include "http/server.hpp"

namespace trafficsim::http {

// tls_error: the TLS handshake was refused — the peer's certificate failed verification (the
// error says "certificate verification failed: <why>"), or no protocol in common — or the CA
// file could not be used. Not worth a retry, unlike connect_error and io_error.
enum class ClientOutcome { ok, timeout, connect_error, io_error, bad_url, tls_error };

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
  std::string url;  // http(s)://host[:port]/path?query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{5000};  // the whole call: connect, send, receive
};

// Sends the request on server's io threads and calls done exactly once, on an io thread (or
// dropped when the server stops first). https trusts the system store only.
void async_http_call(Server& server, ClientRequest request,
                     std::function<void(ClientResult)> done);

// The same calls without a Server: one io thread of its own, started by the constructor.
// call() is safe from any thread; done runs exactly once, on that io thread — unless the client
// is destroyed first: the destructor stops the thread and drops the calls still in flight
// without calling their done (so done must not be what keeps their owner waiting forever).
// Do not destroy the client from inside a done callback.
// https calls trust the system store plus tls.ca_file; the constructor throws
// std::invalid_argument when that file cannot be used (check_ca_file's reason).
class AsyncClient {
 public:
  explicit AsyncClient(ClientTlsOptions tls = {});
  ~AsyncClient();
  AsyncClient(const AsyncClient&) = delete;
  AsyncClient& operator=(const AsyncClient&) = delete;

  void call(ClientRequest request, std::function<void(ClientResult)> done);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trafficsim::http
