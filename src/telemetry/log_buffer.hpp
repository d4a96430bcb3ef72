#pragma once
// The most recent log records in memory, for the dashboard's Logs page (a live tail): each record
// gets a sequence number (1, 2, ...) so a reader asks for what came after the last one it saw.
// Thread-safe (a mutex: one add per record, reads are rare); oldest overwritten first.
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "telemetry/otlp.hpp"

namespace trafficsim::telemetry {

class LogBuffer {
 public:
  // capacity >= 1, otherwise std::invalid_argument.
  explicit LogBuffer(size_t capacity = 2048);

  // Returns the record's sequence number.
  uint64_t add(LogRecord record);

  struct Entry {
    uint64_t seq = 0;
    LogRecord record;
  };
  // Records with seq > after, oldest first, at most `limit` (the newest ones when more are held).
  std::vector<Entry> since(uint64_t after, size_t limit) const;
  // The last sequence number given (0 before the first add).
  uint64_t last_seq() const;
  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::vector<Entry> ring_;  // grows to capacity_, then slot (seq - 1) % capacity_
  uint64_t last_seq_ = 0;
};

}  // namespace trafficsim::telemetry
