#pragma once
// A blocking HTTP/1.1 client for tests of our servers: one connection per call
// ("Connection: close"), read until the server closes, a deadline on the whole call.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trafficsim::testing {

struct HttpResult {
  int status = 0;  // 0 when no response arrived (refused, reset, timeout)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string error;  // why status is 0
  double seconds = 0;  // wall time of the call
  std::optional<std::string> header(std::string_view name) const;
};

HttpResult http_call(uint16_t port, std::string_view method, std::string_view target,
                     std::string_view body = {},
                     std::vector<std::pair<std::string, std::string>> headers = {},
                     std::chrono::milliseconds deadline = std::chrono::seconds(10));

// Sends raw bytes and returns whatever comes back until the server closes or the deadline.
std::string raw_exchange(uint16_t port, std::string_view bytes,
                         std::chrono::milliseconds deadline = std::chrono::seconds(5));

// A connected TCP socket to 127.0.0.1:port (blocking), or -1.
int connect_loopback(uint16_t port);

}  // namespace trafficsim::testing
