#pragma once
// A server that answers every connection with the same raw bytes and closes it at once: for
// tests of how the load client ends a response that the peer's close delimits or cuts short.
// It listens on 127.0.0.1 on a kernel-chosen port and serves connections one after the other on
// its own thread: read one request head (through the blank line), send the bytes, close.
//
// The bytes and the FIN leave in one TCP segment (TCP_CORK holds the bytes until close() tacks
// the FIN onto them), so the client sees the last bytes and the close in the same epoll wake-up,
// the case an edge-triggered reader must not miss.
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>

namespace trafficsim::testing {

class RawResponseServer {
 public:
  explicit RawResponseServer(std::string response);
  ~RawResponseServer();
  RawResponseServer(const RawResponseServer&) = delete;
  RawResponseServer& operator=(const RawResponseServer&) = delete;

  uint16_t port() const { return port_; }
  std::string url(std::string_view path = "/") const;  // "http://127.0.0.1:PORT/path"
  uint64_t responses() const { return responses_.load(); }  // connections answered and closed

 private:
  void serve();

  const std::string response_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> responses_{0};
  std::thread thread_;
};

}  // namespace trafficsim::testing
