#include "telemetry/line_writer.hpp"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace trafficsim::telemetry {

namespace {

// How long the writer waits for a stalled fd before checking whether shutdown has run out of
// time. Only bounds shutdown latency; data is written as soon as the fd has room.
constexpr int kPollSliceMs = 50;

// A pipe reports writable when it has room for PIPE_BUF bytes; writing more could block inside
// write(2), where the shutdown deadline cannot reach us.
constexpr size_t kStalledFdChunkBytes = PIPE_BUF;

bool is_regular_file(int fd) {
  struct stat status {};
  return ::fstat(fd, &status) == 0 && S_ISREG(status.st_mode);
}

}  // namespace

AsyncLineWriter::AsyncLineWriter(int fd, bool own_fd, size_t capacity_bytes)
    : fd_(fd),
      own_fd_(own_fd),
      poll_before_write_(fd >= 0 && !is_regular_file(fd)),
      capacity_bytes_(capacity_bytes) {
  if (fd < 0) throw std::invalid_argument("AsyncLineWriter needs an open file descriptor");
  try {
    thread_ = std::thread([this] { run(); });
  } catch (...) {
    if (own_fd_) ::close(fd_);
    throw;
  }
}

std::unique_ptr<AsyncLineWriter> AsyncLineWriter::open_file(const std::filesystem::path& path,
                                                            size_t capacity_bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    const int error = errno;
    throw std::runtime_error(fmt::format("cannot open {} for appending: {}", path.string(),
                                         std::generic_category().message(error)));
  }
  return std::make_unique<AsyncLineWriter>(fd, true, capacity_bytes);
}

AsyncLineWriter::~AsyncLineWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    stop_deadline_ = std::chrono::steady_clock::now() + kShutdownDeadline;
  }
  work_ready_.notify_all();
  thread_.join();
  if (own_fd_) ::close(fd_);
}

bool AsyncLineWriter::write(std::string_view line) {
  const size_t bytes = line.size() + 1;
  {
    std::lock_guard lock(mutex_);
    if (pending_.size() + in_flight_bytes_ + bytes > capacity_bytes_) {
      ++dropped_lines_;
      return false;
    }
    const bool writer_may_be_idle = pending_.empty();
    pending_.append(line);
    pending_ += '\n';
    ++pending_lines_;
    ++accepted_lines_;
    // With data already pending the writer has been woken, or is writing and will look again.
    if (!writer_may_be_idle) return true;
  }
  work_ready_.notify_one();
  return true;
}

uint64_t AsyncLineWriter::written_lines() const {
  std::lock_guard lock(mutex_);
  return written_lines_;
}

uint64_t AsyncLineWriter::dropped_lines() const {
  std::lock_guard lock(mutex_);
  return dropped_lines_;
}

uint64_t AsyncLineWriter::write_errors() const {
  std::lock_guard lock(mutex_);
  return write_errors_;
}

bool AsyncLineWriter::flush(std::chrono::milliseconds deadline) {
  std::unique_lock lock(mutex_);
  const uint64_t target = accepted_lines_;
  return progress_.wait_for(lock, deadline, [&] { return finished_lines_ >= target; });
}

void AsyncLineWriter::run() {
  // Double buffering: the writer swaps the pending buffer for its (empty) batch buffer, so
  // producers keep appending while the batch is written and both buffers keep their capacity.
  std::string batch;
  for (;;) {
    uint64_t batch_lines = 0;
    {
      std::unique_lock lock(mutex_);
      work_ready_.wait(lock, [&] { return !pending_.empty() || stopping_; });
      if (pending_.empty()) return;  // stopping, and everything is written
      if (stopping_ && std::chrono::steady_clock::now() >= stop_deadline_) {
        dropped_lines_ += pending_lines_;
        finished_lines_ += pending_lines_;
        pending_.clear();
        pending_lines_ = 0;
        progress_.notify_all();
        return;
      }
      batch.swap(pending_);
      batch_lines = pending_lines_;
      pending_lines_ = 0;
      in_flight_bytes_ = batch.size();
    }

    const size_t written_bytes = write_batch(batch);
    // After a failure, the lines whose '\n' reached the fd count as written.
    const uint64_t ok_lines =
        written_bytes == batch.size()
            ? batch_lines
            : std::min<uint64_t>(batch_lines,
                                 std::count(batch.begin(), batch.begin() + written_bytes, '\n'));
    {
      std::lock_guard lock(mutex_);
      in_flight_bytes_ = 0;
      written_lines_ += ok_lines;
      dropped_lines_ += batch_lines - ok_lines;
      finished_lines_ += batch_lines;
    }
    progress_.notify_all();
    batch.clear();
  }
}

size_t AsyncLineWriter::write_batch(std::string_view batch) {
  const auto shutdown_expired = [this] {
    std::lock_guard lock(mutex_);
    return stopping_ && std::chrono::steady_clock::now() >= stop_deadline_;
  };
  const auto fail = [this] {
    std::lock_guard lock(mutex_);
    ++write_errors_;
  };

  size_t done = 0;
  bool must_wait = poll_before_write_;
  while (done < batch.size()) {
    if (must_wait) {
      pollfd target{fd_, POLLOUT, 0};
      const int ready = ::poll(&target, 1, kPollSliceMs);
      if (ready < 0 && errno != EINTR) {
        fail();
        return done;
      }
      if (ready <= 0) {
        if (shutdown_expired()) return done;  // the caller counts the rest as dropped
        continue;
      }
      // Writable, or POLLERR / POLLHUP: either way write(2) tells us which.
    }
    const size_t chunk = poll_before_write_ ? std::min(batch.size() - done, kStalledFdChunkBytes)
                                            : batch.size() - done;
    const ssize_t n = ::write(fd_, batch.data() + done, chunk);
    if (n > 0) {
      done += static_cast<size_t>(n);
      must_wait = poll_before_write_;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      must_wait = true;  // a non-blocking fd that is full: wait for room like any other
      continue;
    }
    fail();  // EPIPE, ENOSPC, EFBIG, EBADF, ... (or a write of 0 bytes, which would loop forever)
    return done;
  }
  return done;
}

}  // namespace trafficsim::telemetry
