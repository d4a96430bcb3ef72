#pragma once
// What every job kind shares (k6's base_executor in spirit): run once, on the caller's thread
// (run) or a thread of its own (start + wait), keep the result or the exception, report its
// state, and signal the end on an eventfd a caller can poll beside other fds. A job kind owns a
// JobRunner<ItsResult> and hands it the body that produces the result.
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

namespace trafficsim::jobs {

enum class JobState { created, running, finished, failed };
const char* to_string(JobState state);

// An eventfd that becomes (and stays) readable once raised.
class EventFlag {
 public:
  EventFlag() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throw std::runtime_error("eventfd failed");
  }
  ~EventFlag() { ::close(fd_); }
  EventFlag(const EventFlag&) = delete;
  EventFlag& operator=(const EventFlag&) = delete;
  void raise() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(fd_, &one, sizeof one);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

template <class Result>
class JobRunner {
 public:
  using Body = std::function<Result()>;
  JobRunner() = default;
  // The owner joins (join()) before the state the body uses is destroyed.
  ~JobRunner() { join(); }
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // Runs body to the end on this thread; returns its result or rethrows. Once only.
  Result run(const Body& body) {
    claim();
    execute(body);
    return take();
  }
  // Runs body on a thread of its own. Once only.
  void start(Body body) {
    claim();
    state_ = JobState::running;
    thread_ = std::thread([this, body = std::move(body)] { execute(body); });
  }
  // Blocks until a started body ends; its result, or its exception rethrown.
  Result wait() {
    join();
    return take();
  }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  bool started() const { return thread_.joinable(); }
  int done_fd() const { return done_.fd(); }
  JobState state() const { return state_.load(); }

 private:
  void claim() {
    if (claimed_.exchange(true)) throw std::logic_error("a job runs once");
  }
  void execute(const Body& body) {
    state_ = JobState::running;
    try {
      Result r = body();
      std::lock_guard lock(mu_);
      result_ = std::move(r);
      state_ = JobState::finished;
    } catch (...) {
      std::lock_guard lock(mu_);
      error_ = std::current_exception();
      state_ = JobState::failed;
    }
    done_.raise();
  }
  Result take() {
    std::lock_guard lock(mu_);
    if (error_) std::rethrow_exception(error_);
    return *result_;
  }

  std::atomic<bool> claimed_{false};
  std::atomic<JobState> state_{JobState::created};
  EventFlag done_;
  std::mutex mu_;  // guards result_ and error_
  std::optional<Result> result_;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace trafficsim::jobs
