#pragma once
// A raw client socket for tests that speak HTTP byte by byte: send exactly these bytes, read
// until some text arrives or the server closes. Every wait has a deadline, so a broken server
// fails the test instead of hanging it.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace trafficsim::testing {

class RawConnection {
 public:
  // Connects to 127.0.0.1:port; receive_buffer_bytes > 0 shrinks the socket's receive buffer
  // first (for clients that stop reading).
  explicit RawConnection(uint16_t port, int receive_buffer_bytes = 0);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool send(std::string_view bytes);
  // Reads until `text` occurs in received() after `from`, or the deadline, or the server
  // closes; true if the text arrived.
  bool read_until(std::string_view text,
                  std::chrono::milliseconds deadline = std::chrono::seconds(10), size_t from = 0);
  // Reads (keeping what arrives) until the server closes (EOF or reset) or the deadline; true if
  // it closed.
  bool wait_closed(std::chrono::milliseconds deadline = std::chrono::seconds(10));
  bool peer_closed() const { return peer_closed_; }
  const std::string& received() const { return received_; }
  // What arrived so far, emptying the record.
  std::string take_received();
  void close();

 private:
  // One poll + recv; false on timeout. Sets peer_closed_ on EOF or error.
  bool read_some(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  bool peer_closed_ = false;
  std::string received_;
};

}  // namespace trafficsim::testing
