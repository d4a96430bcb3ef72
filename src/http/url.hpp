#pragma once
// Target URLs and name resolution for the load client.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>

namespace trafficsim::http {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6 literals
  uint16_t port = 0;   // explicit or the scheme's default
  std::string target;  // path plus query, "/" when empty
  bool tls() const { return scheme == "https"; }
  // Value for the Host header: host[:port] (port omitted when default), IPv6 in brackets.
  std::string host_header() const;
  std::string origin() const;  // scheme://host[:port]
};

// Parses an absolute http(s) URL. On failure returns nullopt and sets *error to a one-line reason
// ("unsupported scheme 'ftp'", "missing host", "invalid port", "malformed URL").
std::optional<Url> parse_url(std::string_view text, std::string* error);

struct ResolvedAddress {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family = AF_UNSPEC;
  std::string text;  // "127.0.0.1:8080" / "[::1]:8080"
};

// Resolves host:port to every address, in the resolver's order (getaddrinfo, TCP). On failure
// returns an empty list and sets *error ("cannot resolve host 'x': Name or service not known").
std::vector<ResolvedAddress> resolve(const std::string& host, uint16_t port, std::string* error);

}  // namespace trafficsim::http
