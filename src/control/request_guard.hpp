#pragma once
// What every control and dashboard request passes before its handler (docs/control-api.md,
// "Safety"): the Host header must name this server (DNS rebinding), a POST must be
// application/json (a cross-site form or text/plain POST cannot be), and with an API key the
// mutations and /admin/* need it. No CORS headers are ever sent.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "http/api_error.hpp"
#include "http/server.hpp"

namespace trafficsim::control {

struct GuardOptions {
  std::string listen_host = "127.0.0.1";
  uint16_t port = 0;
  std::vector<std::string> allowed_hosts;  // --allow-host names
  std::string api_key;                     // empty: no key required
};

class RequestGuard {
 public:
  explicit RequestGuard(GuardOptions options);
  // The Host header names this server: the listen host, localhost, 127.0.0.1 or [::1], or an
  // --allow-host name, each with or without this port. 403 otherwise (400 when missing).
  std::optional<http::ApiError> check_host(const http::ServerRequest& request) const;
  // A mutating request: Content-Type application/json (415), then the key when one is set (401).
  std::optional<http::ApiError> check_mutation(const http::ServerRequest& request) const;
  // A route that always needs the key when one is set (/admin/*), whatever the method.
  std::optional<http::ApiError> check_key(const http::ServerRequest& request) const;
  const GuardOptions& options() const { return options_; }

 private:
  GuardOptions options_;
};

// True for hosts that only this machine reaches (127.0.0.0/8, ::1, localhost).
bool is_loopback_host(const std::string& host);

}  // namespace trafficsim::control
