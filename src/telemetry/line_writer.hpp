#pragma once
// An asynchronous, bounded writer of text lines (the target's JSON access log). Request threads
// only append to a memory buffer; one background thread does the write(2) calls. When the bytes
// waiting to be written would exceed the capacity, the line is dropped and counted instead: a
// slow disk or a stalled pipe must cost log lines, never request latency.
//
// Write errors (EPIPE, ENOSPC, EFBIG, ...) are counted and the affected lines dropped; they are
// never thrown. The process must ignore SIGPIPE, or a closed pipe would kill it.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace trafficsim::telemetry {

class AsyncLineWriter {
 public:
  // Writes to fd (>= 0) from a background thread; closes fd in the destructor when own_fd.
  // capacity_bytes bounds the bytes accepted but not yet written (queued plus in flight).
  AsyncLineWriter(int fd, bool own_fd, size_t capacity_bytes = 4 << 20);
  // Opens path for appending (created 0644 if missing, O_CLOEXEC); throws std::runtime_error
  // naming the path and the reason.
  static std::unique_ptr<AsyncLineWriter> open_file(const std::filesystem::path& path,
                                                    size_t capacity_bytes = 4 << 20);
  ~AsyncLineWriter();  // writes what is queued (for at most kShutdownDeadline), stops the thread
  AsyncLineWriter(const AsyncLineWriter&) = delete;
  AsyncLineWriter& operator=(const AsyncLineWriter&) = delete;

  static constexpr std::chrono::seconds kShutdownDeadline{3};

  // Queues line + '\n' and returns at once. False, counting a drop, when it does not fit. A line
  // should not itself contain '\n' (the counts after a failed write assume one line per '\n').
  bool write(std::string_view line);

  // Lines that reached the fd.
  uint64_t written_lines() const;
  // Lines that never will: refused by write() for lack of room, lost to a write error, or still
  // queued when the shutdown deadline passed.
  uint64_t dropped_lines() const;
  // Failed write(2) calls (each drops the rest of the batch it was writing).
  uint64_t write_errors() const;

  // Waits until every line accepted before the call has been written or dropped, or the deadline
  // passes; true if it was.
  bool flush(std::chrono::milliseconds deadline = std::chrono::seconds(5));

 private:
  void run();
  // Writes one batch; returns how many of its bytes reached the fd.
  size_t write_batch(std::string_view batch);

  const int fd_;
  const bool own_fd_;
  const bool poll_before_write_;  // pipes, sockets, ttys: a write could block, so wait for room
  const size_t capacity_bytes_;

  mutable std::mutex mutex_;
  std::condition_variable work_ready_;  // writer waits: pending data or stopping
  std::condition_variable progress_;    // flush() waits: finished_lines_ advanced
  std::string pending_;                 // lines accepted, not yet taken by the writer
  uint64_t pending_lines_ = 0;
  size_t in_flight_bytes_ = 0;  // the batch the writer is writing, counted against capacity
  uint64_t accepted_lines_ = 0;
  uint64_t finished_lines_ = 0;  // written or dropped after acceptance
  uint64_t written_lines_ = 0;
  uint64_t dropped_lines_ = 0;
  uint64_t write_errors_ = 0;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point stop_deadline_{};

  std::thread thread_;  // last: starts after everything above is initialised
};

}  // namespace trafficsim::telemetry
