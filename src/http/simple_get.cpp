#include "http/simple_get.hpp"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "http/blocking_call.hpp"
#include "http/response_parser.hpp"
#include "http/response_parser_impl.hpp"

namespace trafficsim::http {

namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

int remaining_ms(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

bool wait_for(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  pollfd p{fd, events, 0};
  for (;;) {
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

// https: the same request through the async client's TLS call, so TLS has one implementation.
std::optional<SimpleResponse> tls_request(std::string_view method, const Url& url,
                                          const HeaderList& headers, std::string_view body,
                                          std::chrono::milliseconds timeout, std::string* error,
                                          size_t max_body, const ClientTlsOptions& tls) {
  ClientRequest request;
  request.method = std::string(method);
  request.url = url.origin() + url.target;
  request.headers = {{"Accept", "application/json"}};
  request.headers.insert(request.headers.end(), headers.begin(), headers.end());
  request.body = std::string(body);
  request.timeout = timeout;
  ClientResult result = detail::blocking_call(std::move(request), tls, max_body);
  if (result.outcome != ClientOutcome::ok) {
    if (error) *error = std::move(result.error);
    return std::nullopt;
  }
  return SimpleResponse{result.status, std::move(result.body)};
}

}  // namespace

std::optional<SimpleResponse> simple_get(const Url& url, std::chrono::milliseconds timeout,
                                         std::string* error, size_t max_body,
                                         const ClientTlsOptions& tls) {
  return simple_request("GET", url, {}, {}, timeout, error, max_body, tls);
}

std::optional<SimpleResponse> simple_request(std::string_view method, const Url& url,
                                             const HeaderList& headers, std::string_view body,
                                             std::chrono::milliseconds timeout, std::string* error,
                                             size_t max_body, const ClientTlsOptions& tls) {
  auto fail = [&](std::string why) -> std::optional<SimpleResponse> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  for (const auto& [name, value] : headers)
    if (name.empty() || name.find_first_of("\r\n:") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos)
      return fail("header '" + name + "' holds a line break or is not a header name");
  if (url.tls()) return tls_request(method, url, headers, body, timeout, error, max_body, tls);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string rerr;
  auto addrs = resolve(url.host, url.port, &rerr);
  if (addrs.empty()) return fail(rerr);
  Fd sock;
  std::string last = "cannot connect";
  for (const auto& a : addrs) {
    Fd s;
    s.fd = ::socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s.fd < 0) continue;
    int rc = ::connect(s.fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len);
    if (rc != 0 && errno != EINPROGRESS) {
      last = "connect to " + a.text + ": " + std::strerror(errno);
      continue;
    }
    if (rc != 0) {
      if (!wait_for(s.fd, POLLOUT, deadline)) return fail("timed out connecting to " + a.text);
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        last = "connect to " + a.text + ": " + std::strerror(err);
        continue;
      }
    }
    std::swap(sock.fd, s.fd);
    break;
  }
  if (sock.fd < 0) return fail(last);
  std::string req = std::string(method) + " " + url.target + " HTTP/1.1\r\nHost: " +
                    url.host_header() +
                    "\r\nUser-Agent: trafficsim\r\nAccept: application/json\r\n"
                    "Connection: close\r\n";
  for (const auto& [name, value] : headers) req += name + ": " + value + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n";
  req.append(body);
  size_t off = 0;
  while (off < req.size()) {
    ssize_t n = ::send(sock.fd, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(sock.fd, POLLOUT, deadline)) return fail("timed out sending the request");
    } else {
      return fail(std::string("send: ") + std::strerror(errno));
    }
  }
  ResponseParser parser;
  parser.reset(method == "HEAD");
  SimpleResponse out;
  bool too_big = false;
  char buf[16384];
  for (;;) {
    if (!wait_for(sock.fd, POLLIN, deadline)) return fail("timed out waiting for the response");
    ssize_t n = ::recv(sock.fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return fail(std::string("recv: ") + std::strerror(errno));
    }
    ResponseParser::Result r;
    if (n == 0) {
      r = parser.on_eof();
    } else {
      size_t consumed = 0;
      r = parser.feed(buf, static_cast<size_t>(n), &consumed, [&](std::string_view chunk) {
        if (out.body.size() + chunk.size() > max_body) too_big = true;
        else out.body.append(chunk);
      });
    }
    if (too_big) return fail("response body too large");
    if (r == ResponseParser::Result::complete) {
      out.status = parser.status();
      return out;
    }
    if (r == ResponseParser::Result::error) return fail("malformed response");
    if (n == 0) return fail("connection closed before the response was complete");
  }
}

}  // namespace trafficsim::http
