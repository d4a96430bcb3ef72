#include "support/test_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace trafficsim::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxRequestHead = 64 * 1024;

// Each in-process connection costs two descriptors (client and server side), so a few hundred
// connections overrun the common soft limit of 1024 long before the hard limit.
void raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  const rlim_t want = std::min<rlim_t>(lim.rlim_max, 65536);
  if (lim.rlim_cur < want) {
    lim.rlim_cur = want;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool contains_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view t = list.substr(0, comma);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    if (iequals(t, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

struct RequestHead {
  bool valid = false;
  bool head_method = false;
  bool wants_close = false;
  size_t content_length = 0;
  std::string_view path;  // the request target up to '?'
};

// `head` ends with the blank line. Only what the responses depend on is extracted.
RequestHead parse_head(std::string_view head) {
  RequestHead out;
  size_t eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return out;
  out.head_method = line.substr(0, sp1) == "HEAD";
  out.path = line.substr(sp1 + 1, sp2 - sp1 - 1);
  out.path = out.path.substr(0, out.path.find('?'));
  const std::string_view version = line.substr(sp2 + 1);
  bool http10 = version == "HTTP/1.0";
  bool keep_alive_token = false;
  head.remove_prefix(eol + 2);
  while ((eol = head.find("\r\n")) != std::string_view::npos && eol > 0) {
    const std::string_view h = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    const size_t colon = h.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = h.substr(0, colon);
    std::string_view value = h.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (iequals(name, "content-length")) {
      size_t n = 0;
      for (char c : value) {
        if (c < '0' || c > '9' || n > (SIZE_MAX - 9) / 10) return out;
        n = n * 10 + static_cast<size_t>(c - '0');
      }
      out.content_length = n;
    } else if (iequals(name, "connection")) {
      if (contains_token(value, "close")) out.wants_close = true;
      if (contains_token(value, "keep-alive")) keep_alive_token = true;
    }
  }
  if (http10 && !keep_alive_token) out.wants_close = true;
  out.valid = true;
  return out;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

std::string hex(size_t n) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%zx", n);
  return buf;
}

std::string build_response(const TestServerOptions& options, std::string_view path,
                           bool head_method, bool close) {
  TestServerOptions routed;  // the route's status and body, the rest as configured
  if (auto it = options.routes.find(path); it != options.routes.end()) {
    routed.chunked = options.chunked;
    routed.status = it->second.status;
    routed.body = it->second.body;
  }
  const TestServerOptions& o = options.routes.contains(path) ? routed : options;
  // These statuses never carry a body (RFC 9110 6.4.1), so neither framing header is sent.
  const bool bodyless = (o.status >= 100 && o.status < 200) || o.status == 204 || o.status == 304;
  std::string r = "HTTP/1.1 " + std::to_string(o.status) + " " + reason_phrase(o.status) + "\r\n";
  if (!bodyless) {
    if (o.chunked) {
      r += "Transfer-Encoding: chunked\r\n";
    } else {
      r += "Content-Length: " + std::to_string(o.body.size()) + "\r\n";
    }
  }
  if (close) r += "Connection: close\r\n";
  r += "\r\n";
  if (bodyless || head_method) return r;
  if (!o.chunked) return r + o.body;
  // Two chunks exercise the client's chunk reassembly; an empty chunk would end the body early,
  // so an empty half is skipped.
  const size_t half = o.body.size() / 2;
  for (std::string_view part :
       {std::string_view(o.body).substr(0, half), std::string_view(o.body).substr(half)}) {
    if (part.empty()) continue;
    r += hex(part.size()) + "\r\n";
    r += part;
    r += "\r\n";
  }
  return r + "0\r\n\r\n";
}

}  // namespace

TestServer::TestServer(TestServerOptions options) : options_(std::move(options)) {
  raise_fd_limit();
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;  // the kernel picks a free port
  socklen_t len = sizeof(addr);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, SOMAXCONN) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string reason = std::strerror(errno);
    ::close(listen_fd_);
    throw std::runtime_error("test server listen: " + reason);
  }
  port_ = ntohs(addr.sin_port);
  request_times_.reserve(1024);
  accept_thread_ = std::thread(&TestServer::accept_loop, this);
}

TestServer::~TestServer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  timing_cv_.notify_all();
  requests_cv_.notify_all();
  // shutdown() on a listening socket makes a blocked accept() fail at once (Linux).
  ::shutdown(listen_fd_, SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  ::close(listen_fd_);

  std::list<std::unique_ptr<Connection>> conns;
  {
    std::lock_guard lock(conns_mu_);
    // Wakes threads blocked in recv/send; each closes its own descriptor on the way out, so a
    // descriptor is never shut down after it was closed and its number reused.
    for (auto& c : conns_) {
      if (!c->closed) ::shutdown(c->fd, SHUT_RDWR);
    }
    conns.swap(conns_);
  }
  for (auto& c : conns) c->thread.join();
}

std::string TestServer::url(std::string_view path) const {
  std::string out = "http://127.0.0.1:" + std::to_string(port_);
  if (path.empty() || path.front() != '/') out += '/';
  out += path;
  return out;
}

void TestServer::stall_for(std::chrono::milliseconds d) {
  {
    std::lock_guard lock(mu_);
    stall_until_ = Clock::now() + d;
  }
  timing_cv_.notify_all();  // waiters re-read the end of the stall
}

std::vector<Clock::time_point> TestServer::request_times() const {
  std::lock_guard lock(mu_);
  return request_times_;
}

std::vector<std::string> TestServer::request_heads() const {
  std::lock_guard lock(mu_);
  return heads_;
}

std::vector<std::string> TestServer::request_bodies() const {
  std::lock_guard lock(mu_);
  return bodies_;
}

bool TestServer::wait_for_requests(uint64_t n, std::chrono::milliseconds deadline) const {
  std::unique_lock lock(mu_);
  return requests_cv_.wait_for(lock, deadline, [&] { return requests_.load() >= n; });
}

void TestServer::record_request(std::string_view head, std::string_view body) {
  const auto now = Clock::now();
  {
    std::lock_guard lock(mu_);
    // Incremented under the lock so wait_for_requests cannot miss the wake-up.
    requests_.fetch_add(1);
    if (request_times_.size() < kMaxRequestTimes) request_times_.push_back(now);
    if (heads_.size() < options_.keep_heads) {
      heads_.emplace_back(head);
      bodies_.emplace_back(body);
    }
  }
  requests_cv_.notify_all();
}

bool TestServer::wait_to_respond(Clock::time_point due) {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const auto until = std::max(due, stall_until_);
    if (Clock::now() >= until) return true;
    timing_cv_.wait_until(lock, until);
  }
  return false;
}

bool TestServer::send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void TestServer::accept_loop() {
  while (true) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
      }
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: back off instead of spinning; a closing connection frees one.
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      return;
    }
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        ::close(fd);
        return;
      }
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    connections_.fetch_add(1);
    reap_finished();
    auto conn = std::make_unique<Connection>();
    conn->fd = fd;
    Connection* raw = conn.get();
    std::lock_guard lock(conns_mu_);
    conns_.push_back(std::move(conn));
    // Started under the lock so the destructor never sees a Connection without its thread.
    raw->thread = std::thread(&TestServer::serve, this, raw);
  }
}

void TestServer::reap_finished() {
  // Joins threads of closed connections so that a long run of short connections (close_every)
  // does not pile up thousands of exited-but-unjoined threads.
  std::list<std::unique_ptr<Connection>> done;
  {
    std::lock_guard lock(conns_mu_);
    for (auto it = conns_.begin(); it != conns_.end();) {
      if ((*it)->finished.load()) {
        done.push_back(std::move(*it));
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& c : done) c->thread.join();
}

void TestServer::serve(Connection* conn) {
  const int fd = conn->fd;
  std::string buf;
  char chunk[16 * 1024];
  uint64_t served = 0;
  size_t scanned = 0;  // bytes of buf already searched for the end of the head

  // Reads more bytes into buf; false on EOF or error.
  auto read_more = [&]() -> bool {
    while (true) {
      const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n > 0) {
        buf.append(chunk, static_cast<size_t>(n));
        return true;
      }
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
  };

  bool graceful_close = false;
  while (true) {
    const size_t end = buf.find("\r\n\r\n", scanned);
    if (end == std::string::npos) {
      if (buf.size() > kMaxRequestHead) break;
      scanned = buf.size() >= 3 ? buf.size() - 3 : 0;
      if (!read_more()) break;
      continue;
    }
    const size_t head_len = end + 4;
    const RequestHead req = parse_head(std::string_view(buf).substr(0, head_len));
    // req.path points into buf, which is erased below: keep a copy when routes need it.
    const std::string path = options_.routes.empty() ? std::string() : std::string(req.path);
    if (!req.valid) break;
    bool eof = false;
    while (buf.size() - head_len < req.content_length) {
      if (!read_more()) {
        eof = true;
        break;
      }
    }
    if (eof) break;
    record_request(std::string_view(buf).substr(0, head_len),
                   std::string_view(buf).substr(head_len, req.content_length));
    buf.erase(0, head_len + req.content_length);
    scanned = 0;

    if (options_.never_respond) continue;
    if (options_.close_without_response) break;
    if (!wait_to_respond(Clock::now() + options_.delay)) break;
    ++served;
    const bool close =
        req.wants_close ||
        (options_.close_every > 0 && served % static_cast<uint64_t>(options_.close_every) == 0);
    // Counted before the send so that a client which has read the response never sees a count
    // that does not include it yet; un-counted if the send fails.
    responses_.fetch_add(1);
    if (!send_all(fd, build_response(options_, path, req.head_method, close))) {
      responses_.fetch_sub(1);
      break;
    }
    if (close) {
      graceful_close = true;
      break;
    }
  }

  if (graceful_close) {
    // Half-close and wait for the client's FIN: closing with unread input would send a RST that
    // can destroy the response before the client reads it. Bounded, and the destructor's
    // shutdown() ends it early.
    ::shutdown(fd, SHUT_WR);
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while (::recv(fd, chunk, sizeof(chunk), 0) > 0) {
    }
  }
  {
    std::lock_guard lock(conns_mu_);
    ::close(fd);
    conn->closed = true;
  }
  conn->finished.store(true);
}

}  // namespace trafficsim::testing
