#include "http/url.hpp"

#include <netdb.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include <boost/url/parse.hpp>

#include "core/ascii.hpp"

namespace trafficsim::http {
namespace {

uint16_t default_port(std::string_view scheme) {
  return scheme == "https" ? 443 : 80;
}

void set_error(std::string* error, std::string text) {
  if (error != nullptr) *error = std::move(text);
}

// host[:port] with the port left out when it is the scheme's default, as both the Host header
// and the origin want it.
std::string authority(const Url& url) {
  std::string out;
  const bool ipv6 = url.host.find(':') != std::string::npos;
  if (ipv6) out += '[';
  out += url.host;
  if (ipv6) out += ']';
  if (url.port != default_port(url.scheme)) {
    out += ':';
    out += std::to_string(url.port);
  }
  return out;
}

}  // namespace

std::string Url::host_header() const {
  return authority(*this);
}

std::string Url::origin() const {
  return scheme + "://" + authority(*this);
}

std::optional<Url> parse_url(std::string_view text, std::string* error) {
  auto parsed = boost::urls::parse_uri(boost::core::string_view(text.data(), text.size()));
  if (!parsed) {
    set_error(error, "malformed URL: " + parsed.error().message());
    return std::nullopt;
  }
  const boost::urls::url_view& u = *parsed;

  Url url;
  url.scheme = core::to_lower_ascii(std::string_view(u.scheme().data(), u.scheme().size()));
  if (url.scheme != "http" && url.scheme != "https") {
    set_error(error, "unsupported scheme '" + std::string(u.scheme()) + "' (use http or https)");
    return std::nullopt;
  }
  if (!u.has_authority() || u.encoded_host().empty()) {
    set_error(error, "missing host");
    return std::nullopt;
  }
  // Credentials in the URL would silently be dropped (we never send them), so say so instead.
  if (u.has_userinfo()) {
    set_error(error, "userinfo (user@) in URL is not supported; send credentials in a header");
    return std::nullopt;
  }
  switch (u.host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
      // Without brackets for IPv6, which is what getaddrinfo wants.
      url.host = std::string(u.encoded_host_address());
      break;
    case boost::urls::host_type::name:
      // Host names are case-insensitive; one spelling keeps origins comparable.
      url.host = core::to_lower_ascii(u.host_name());
      break;
    default:
      set_error(error, "unsupported host '" + std::string(u.encoded_host()) + "'");
      return std::nullopt;
  }

  // Boost.URL 1.81 reads "h:1a/" as port "1" followed by the rootless path "a/", which RFC 3986
  // forbids after an authority; the digits and the letters are really one bad port.
  const auto path = u.encoded_path();
  if (!path.empty() && path.front() != '/') {
    const std::string rest(path.substr(0, path.find('/')));
    set_error(error, "invalid port '" + std::string(u.port()) + rest + "'");
    return std::nullopt;
  }

  url.port = default_port(url.scheme);
  // "http://h:/" has an empty port, which RFC 3986 says means the default.
  if (u.has_port() && !u.port().empty()) {
    const auto port_text = u.port();
    uint32_t value = 0;
    bool ok = true;
    for (char c : port_text) {
      ok = ok && c >= '0' && c <= '9';
      // Saturate so that long digit strings stay out of range instead of wrapping.
      if (ok) value = std::min<uint32_t>(value * 10 + static_cast<uint32_t>(c - '0'), 65536);
    }
    if (!ok || value == 0 || value > 65535) {
      set_error(error, "invalid port '" + std::string(port_text) + "'");
      return std::nullopt;
    }
    url.port = static_cast<uint16_t>(value);
  }

  url.target = std::string(path);
  if (url.target.empty()) url.target = "/";
  if (u.has_query()) {
    url.target += '?';
    url.target += std::string(u.encoded_query());
  }
  return url;
}

std::vector<ResolvedAddress> resolve(const std::string& host, uint16_t port, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // No AI_ADDRCONFIG: it hides ::1 (and even 127.0.0.1) on hosts with only loopback interfaces,
  // which is exactly where tests and local targets live.
  hints.ai_flags = AI_NUMERICSERV;
  const std::string service = std::to_string(port);
  addrinfo* head = nullptr;
  const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &head);
  if (rc != 0) {
    const char* reason = rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc);
    set_error(error, "cannot resolve host '" + host + "': " + reason);
    return {};
  }

  std::vector<ResolvedAddress> out;
  for (const addrinfo* ai = head; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    ResolvedAddress a;
    std::memcpy(&a.addr, ai->ai_addr, ai->ai_addrlen);
    a.len = static_cast<socklen_t>(ai->ai_addrlen);
    a.family = ai->ai_family;
    char numeric[NI_MAXHOST];
    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, numeric, sizeof(numeric), nullptr, 0,
                    NI_NUMERICHOST) != 0) {
      continue;
    }
    if (a.family == AF_INET6) {
      a.text = std::string("[") + numeric + "]:" + service;
    } else {
      a.text = std::string(numeric) + ":" + service;
    }
    out.push_back(std::move(a));
  }
  freeaddrinfo(head);
  if (out.empty()) set_error(error, "cannot resolve host '" + host + "': no usable addresses");
  return out;
}

}  // namespace trafficsim::http
