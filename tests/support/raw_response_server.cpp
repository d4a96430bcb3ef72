#include "support/raw_response_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace trafficsim::testing {
namespace {

constexpr size_t kMaxRequestHead = 64 * 1024;
constexpr int kPollMs = 50;  // how often a blocked accept or read looks at stopping_

// Waits until fd is readable or stop is set; false when stopping.
bool wait_readable(int fd, const std::atomic<bool>& stop) {
  while (!stop.load()) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, kPollMs);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
  return false;
}

}  // namespace

RawResponseServer::RawResponseServer(std::string response) : response_(std::move(response)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, SOMAXCONN) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::string reason = std::strerror(errno);
    ::close(listen_fd_);
    throw std::runtime_error("raw response server listen: " + reason);
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread(&RawResponseServer::serve, this);
}

RawResponseServer::~RawResponseServer() {
  stopping_.store(true);
  thread_.join();
  ::close(listen_fd_);
}

std::string RawResponseServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

void RawResponseServer::serve() {
  std::string head;
  char buf[4096];
  while (wait_readable(listen_fd_, stopping_)) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    // Read the whole request head: closing with unread bytes would send a reset, not a FIN.
    head.clear();
    bool got_head = false;
    while (!got_head && head.size() < kMaxRequestHead && wait_readable(fd, stopping_)) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      head.append(buf, static_cast<size_t>(n));
      got_head = head.find("\r\n\r\n") != std::string::npos;
    }
    if (got_head) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &one, sizeof one);
      size_t off = 0;
      while (off < response_.size()) {
        ssize_t n = ::send(fd, response_.data() + off, response_.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
    }
    ::close(fd);
    if (got_head) responses_.fetch_add(1);
  }
}

}  // namespace trafficsim::testing
