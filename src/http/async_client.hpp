#pragma once
// A small asynchronous HTTP/1.1 client on a Server's io threads, for a service that calls
// another (checkout -> recommendations). One connection per call: it is for low-rate calls with
// a deadline, not for load (that is load/worker.hpp).
#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "http/server.hpp"

namespace trafficsim::http {

enum class ClientOutcome { ok, timeout, connect_error, io_error, bad_url };

struct ClientResult {
  ClientOutcome outcome = ClientOutcome::ok;
  int status = 0;
  std::string body;
  std::string error;  // what went wrong, for logs
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

}  // namespace trafficsim::http
