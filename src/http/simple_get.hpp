#pragma once
// A blocking one-shot HTTP/1.1 request for the control path (e.g. reading a target's /health
// before a run, starting its demo clock), never for load. http: a socket, a deadline, our
// response parser. https: the async client's call run on the calling thread, the peer verified
// as client_tls.hpp says.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/client_tls.hpp"
#include "http/url.hpp"

namespace trafficsim::http {

struct SimpleResponse {
  int status = 0;
  std::string body;
};

// GETs url (http or https) within `timeout`. Returns nullopt with a one-line reason in *error on
// a connection failure, a timeout, a malformed response, a body over max_body bytes ("response
// body too large") or, for https, a refused peer ("... certificate verification failed: ...").
// tls is used for https only.
std::optional<SimpleResponse> simple_get(const Url& url, std::chrono::milliseconds timeout,
                                         std::string* error, size_t max_body = 1 << 20,
                                         const ClientTlsOptions& tls = {});

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The same for any method, with extra headers (e.g. X-API-Key) and a body (sent with its
// Content-Length; give its Content-Type in headers). Header names and values must not hold CR or
// LF: such a header is refused (nullopt, *error names it).
std::optional<SimpleResponse> simple_request(std::string_view method, const Url& url,
                                             const HeaderList& headers, std::string_view body,
                                             std::chrono::milliseconds timeout, std::string* error,
                                             size_t max_body = 1 << 20,
                                             const ClientTlsOptions& tls = {});

}  // namespace trafficsim::http
