#pragma once
// A blocking one-shot HTTP/1.1 GET over plain TCP for the control path (e.g. reading a target's
// /health before a run), never for load: a socket, a deadline, our response parser.
#include <chrono>
#include <optional>
#include <string>

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

}  // namespace trafficsim::http
