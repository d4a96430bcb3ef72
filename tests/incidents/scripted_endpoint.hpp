#pragma once
// A real HTTP server on 127.0.0.1 standing in for an outside service (PagerDuty's Events API, an
// LLM's chat completions): it records every request and answers each with the next response of
// its script (the last one repeats).
#include <algorithm>
#include <functional>
#include <map>
#include <stdexcept>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/ascii.hpp"
#include "http/server_test_support.hpp"

namespace trafficsim::incidents::test {

struct RecordedRequest {
  std::string method;
  std::string target;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (core::iequals_ascii(k, name)) return v;
    return {};
  }
};

inline http::ServerResponse respond(int status, std::string body = "{}",
                                    std::vector<std::pair<std::string, std::string>> headers = {}) {
  http::ServerResponse r{status, "application/json", std::move(body)};
  r.headers = std::move(headers);
  return r;
}

class ScriptedEndpoint {
 public:
  explicit ScriptedEndpoint(std::vector<http::ServerResponse> script) : script_(std::move(script)) {
    server_ = http::test::start_server(
        {}, [this](std::shared_ptr<const http::ServerRequest> req, http::Reply reply) {
          http::ServerResponse response;
          {
            std::lock_guard lock(mutex_);
            requests_.push_back({req->method, req->target, req->body, req->headers});
            const size_t i = std::min(requests_.size() - 1, script_.size() - 1);
            response = script_[i];
          }
          reply.send(std::move(response));
        });
  }

  std::string url(std::string_view path = "") const { return server_->url() + std::string(path); }
  std::vector<RecordedRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  size_t count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<http::ServerResponse> script_;
  std::vector<RecordedRequest> requests_;
  std::unique_ptr<http::Server> server_;  // last: stopped before what its handler uses
};

// A getenv over a fixed table.
inline auto env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

// What fn threw as std::invalid_argument, or "(nothing thrown)".
inline std::string thrown_by(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(nothing thrown)";
}

}  // namespace trafficsim::incidents::test
