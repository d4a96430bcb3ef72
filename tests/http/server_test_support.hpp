#pragma once
// Shared by the http server tests: a started Server on a free port, an echo handler, and a
// handler that parks its Replies for the test to answer (from the test's thread).
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "http/server.hpp"
#include "support/eventually.hpp"

namespace trafficsim::http::test {

inline std::unique_ptr<Server> start_server(ServerOptions options, RequestHandler handler) {
  options.host = "127.0.0.1";
  options.port = 0;
  if (options.threads == 0) options.threads = 2;
  auto server = std::make_unique<Server>(std::move(options), std::move(handler));
  server->start();
  return server;
}

// Answers 200 with "METHOD TARGET BODY".
inline RequestHandler echo_handler() {
  return [](std::shared_ptr<const ServerRequest> req, Reply reply) {
    reply.send(
        ServerResponse{200, "text/plain", req->method + " " + req->target + " " + req->body});
  };
}

// Keeps every request's Reply until the test takes it.
class ParkedReplies {
 public:
  RequestHandler handler() {
    return [this](std::shared_ptr<const ServerRequest> req, Reply reply) {
      std::lock_guard lock(mu_);
      parked_.push_back({std::move(req), std::move(reply)});
      cv_.notify_all();
    };
  }
  struct Parked {
    std::shared_ptr<const ServerRequest> request;
    Reply reply;
  };
  // The oldest parked request, waiting up to `deadline` for one.
  std::optional<Parked> take(std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, deadline, [&] { return !parked_.empty(); })) return std::nullopt;
    Parked p = std::move(parked_.front());
    parked_.pop_front();
    return p;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Parked> parked_;
};

using trafficsim::testing::eventually;

}  // namespace trafficsim::http::test
