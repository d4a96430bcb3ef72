#include "telemetry/log_buffer.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace trafficsim::telemetry {

LogBuffer::LogBuffer(size_t capacity) : capacity_(capacity) {
  if (capacity == 0) throw std::invalid_argument("LogBuffer: capacity must be at least 1");
}

uint64_t LogBuffer::add(LogRecord record) {
  std::lock_guard lock(mutex_);
  const uint64_t seq = ++last_seq_;
  if (ring_.size() < capacity_) {
    ring_.push_back(Entry{seq, std::move(record)});
  } else {
    ring_[(seq - 1) % capacity_] = Entry{seq, std::move(record)};
  }
  return seq;
}

std::vector<LogBuffer::Entry> LogBuffer::since(uint64_t after, size_t limit) const {
  std::lock_guard lock(mutex_);
  std::vector<Entry> out;
  if (limit == 0 || after >= last_seq_) return out;
  const uint64_t oldest = last_seq_ - ring_.size() + 1;
  uint64_t first = std::max(after + 1, oldest);
  if (last_seq_ - first + 1 > limit) first = last_seq_ - limit + 1;
  out.reserve(static_cast<size_t>(last_seq_ - first + 1));
  for (uint64_t seq = first; seq <= last_seq_; ++seq) out.push_back(ring_[(seq - 1) % capacity_]);
  return out;
}

uint64_t LogBuffer::last_seq() const {
  std::lock_guard lock(mutex_);
  return last_seq_;
}

}  // namespace trafficsim::telemetry
