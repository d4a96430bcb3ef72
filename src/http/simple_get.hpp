#pragma once
// A blocking one-shot HTTP/1.1 request over plain TCP for the control path (e.g. reading a
// target's /health before a run, starting its demo clock), never for load: a socket, a
// deadline, our response parser.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/url.hpp"

namespace trafficsim::http {

struct SimpleResponse {
  int status = 0;
  std::string body;
};

// GETs url (http only) within `timeout`. Returns nullopt with a one-line reason in *error on a
// connection failure, a timeout, a malformed response or a body over max_body bytes.
std::optional<SimpleResponse> simple_get(const Url& url, std::chrono::milliseconds timeout,
                                         std::string* error, size_t max_body = 1 << 20);

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The same for any method, with extra headers (e.g. X-API-Key) and a body (sent with its
// Content-Length; give its Content-Type in headers). Header names and values must not hold CR or
// LF: such a header is refused (nullopt, *error names it).
std::optional<SimpleResponse> simple_request(std::string_view method, const Url& url,
                                             const HeaderList& headers, std::string_view body,
                                             std::chrono::milliseconds timeout, std::string* error,
                                             size_t max_body = 1 << 20);

}  // namespace trafficsim::http
