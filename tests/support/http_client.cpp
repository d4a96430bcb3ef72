#include "support/http_client.hpp"
#include <algorithm>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstring>

#include "core/ascii.hpp"

namespace trafficsim::testing {

namespace {
using Clock = std::chrono::steady_clock;

// Reads until EOF or deadline; returns false on timeout.
bool read_all(int fd, std::string& out, Clock::time_point deadline) {
  char buf[16384];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;
    out.append(buf, static_cast<size_t>(n));
  }
}

std::string decode_chunked(std::string_view body) {
  std::string out;
  while (!body.empty()) {
    size_t eol = body.find("\r\n");
    if (eol == std::string_view::npos) break;
    size_t size = std::strtoul(std::string(body.substr(0, eol)).c_str(), nullptr, 16);
    body.remove_prefix(eol + 2);
    if (size == 0 || body.size() < size) break;
    out.append(body.substr(0, size));
    body.remove_prefix(std::min(body.size(), size + 2));
  }
  return out;
}
}  // namespace

std::optional<std::string> HttpResult::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (core::iequals_ascii(k, name)) return v;
  return std::nullopt;
}

int connect_loopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

std::string raw_exchange(uint16_t port, std::string_view bytes, std::chrono::milliseconds deadline) {
  int fd = connect_loopback(port);
  if (fd < 0) return {};
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string out;
  read_all(fd, out, Clock::now() + deadline);
  ::close(fd);
  return out;
}

HttpResult http_call(uint16_t port, std::string_view method, std::string_view target,
                     std::string_view body,
                     std::vector<std::pair<std::string, std::string>> headers,
                     std::chrono::milliseconds deadline) {
  auto start = Clock::now();
  HttpResult r;
  std::string req;
  req.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  // Host: 127.0.0.1 unless the caller gives its own (tests of Host checks).
  if (std::none_of(headers.begin(), headers.end(),
                   [](const auto& h) { return core::iequals_ascii(h.first, "Host"); }))
    req.append("Host: 127.0.0.1\r\n");
  req.append("Connection: close\r\n");
  bool has_type = false;
  for (const auto& [k, v] : headers) {
    req.append(k).append(": ").append(v).append("\r\n");
    has_type = has_type || core::iequals_ascii(k, "Content-Type");
  }
  if (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT") {
    if (!has_type) req.append("Content-Type: application/json\r\n");
    req.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  req.append("\r\n").append(body);
  int fd = connect_loopback(port);
  if (fd < 0) {
    r.error = "connect failed";
    return r;
  }
  size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  bool complete = read_all(fd, raw, start + deadline);
  ::close(fd);
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos || raw.compare(0, 5, "HTTP/") != 0) {
    r.error = complete ? "no response" : "timeout";
    return r;
  }
  std::string_view head(raw.data(), head_end);
  size_t sp = head.find(' ');
  r.status = std::atoi(std::string(head.substr(sp + 1, 3)).c_str());
  size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos < head.size()) {
    size_t next = head.find("\r\n", pos + 2);
    std::string_view line = head.substr(pos + 2, next == std::string_view::npos
                                                      ? std::string_view::npos
                                                      : next - pos - 2);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view v = line.substr(colon + 1);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      r.headers.emplace_back(std::string(line.substr(0, colon)), std::string(v));
    }
    pos = next;
  }
  std::string_view rest(raw.data() + head_end + 4, raw.size() - head_end - 4);
  auto te = r.header("Transfer-Encoding");
  r.body = te && core::iequals_ascii(*te, "chunked") ? decode_chunked(rest) : std::string(rest);
  if (!complete) r.error = "timeout";
  return r;
}

}  // namespace trafficsim::testing
