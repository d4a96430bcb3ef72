#include "support/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace trafficsim::testing {

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1'000'000'000));
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
#else
  (void)pid;
  return -1;
#endif
}

// Forks and execs argv with stdin from /dev/null and stdout/stderr on the given descriptors.
// Only async-signal-safe calls happen in the child.
pid_t spawn(const std::vector<std::string>& argv, int out_fd, int err_fd) {
  if (argv.empty()) throw std::invalid_argument("run_process: empty argv");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) fail("open /dev/null");
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(null_fd);
    fail("fork");
  }
  if (pid == 0) {
    // Child: default signal dispositions and an empty mask, whatever the test runner set.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGCHLD, SIGHUP, SIGQUIT})
      ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (::dup2(null_fd, STDIN_FILENO) < 0 || ::dup2(out_fd, STDOUT_FILENO) < 0 ||
        ::dup2(err_fd, STDERR_FILENO) < 0)
      ::_exit(127);
    ::execvp(args[0], args.data());
    static const char msg[] = "run_process: cannot execute ";
    [[maybe_unused]] ssize_t r = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    r = ::write(STDERR_FILENO, args[0], std::strlen(args[0]));
    r = ::write(STDERR_FILENO, "\n", 1);
    ::_exit(127);
  }
  ::close(null_fd);
  return pid;
}

// Reaps pid if it has exited by the deadline. Waits on the pidfd when there is one, otherwise
// checks every 10 ms.
std::optional<int> wait_exit(pid_t pid, int pidfd, Clock::time_point deadline) {
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return decode_status(status);
    if (r < 0 && errno != EINTR) return std::nullopt;  // not our child any more
    int left = remaining_ms(deadline);
    if (left == 0) return std::nullopt;
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      ::poll(&p, 1, left);
    } else {
      ::poll(nullptr, 0, std::min(left, 10));
    }
  }
}

// SIGKILL, then reap (a killed direct child goes away promptly).
void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// Reads what is available on a non-blocking fd; returns false (and closes it) at end of file.
bool drain(int& fd, std::string& into) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      into.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    ::close(fd);  // EOF or a real error
    fd = -1;
    return false;
  }
}

std::string read_if_exists(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string make_temp_file(const char* suffix) {
  std::string templ = std::string("/tmp/trafficsim-bg-XXXXXX") + suffix;
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  int fd = ::mkostemps(buf.data(), static_cast<int>(std::strlen(suffix)), O_CLOEXEC);
  if (fd < 0) fail("mkostemps " + templ);
  ::close(fd);
  return std::string(buf.data());
}

}  // namespace

ProcessResult run_process(std::vector<std::string> argv, std::chrono::milliseconds deadline) {
  const auto until = Clock::now() + deadline;
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) fail("pipe2");
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    int e = errno;
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    errno = e;
    fail("pipe2");
  }
  pid_t pid;
  try {
    pid = spawn(argv, out_pipe[1], err_pipe[1]);
  } catch (...) {
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    throw;
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  int fds[2] = {out_pipe[0], err_pipe[0]};
  for (int fd : fds) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  const int pidfd = open_pidfd(pid);

  ProcessResult result;
  std::string* sinks[2] = {&result.out, &result.err};
  std::optional<int> exit_code;
  bool timed_out = false;
  // Read both pipes until the child has exited and they are drained (or closed), or until the
  // deadline. A grandchild that keeps a pipe open does not hold us up once the child is gone.
  while (fds[0] >= 0 || fds[1] >= 0) {
    pollfd p[3];
    nfds_t n = 0;
    int which[3];
    for (int i = 0; i < 2; ++i)
      if (fds[i] >= 0) {
        p[n] = {fds[i], POLLIN, 0};
        which[n++] = i;
      }
    if (pidfd >= 0 && !exit_code) {
      p[n] = {pidfd, POLLIN, 0};
      which[n++] = 2;
    }
    int left = remaining_ms(until);
    if (left == 0) {
      timed_out = true;
      break;
    }
    int r = ::poll(p, n, pidfd >= 0 || exit_code ? left : std::min(left, 10));
    if (r < 0 && errno != EINTR) break;
    for (nfds_t i = 0; i < n; ++i) {
      if (!p[i].revents) continue;
      if (which[i] < 2) drain(fds[which[i]], *sinks[which[i]]);
    }
    if (!exit_code) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) exit_code = decode_status(status);
    }
    if (exit_code) {
      // The child is gone: everything it wrote is in the pipes now.
      for (int i = 0; i < 2; ++i)
        if (fds[i] >= 0 && drain(fds[i], *sinks[i])) {
          ::close(fds[i]);
          fds[i] = -1;
        }
    }
  }
  if (!exit_code && !timed_out) {
    // Both pipes closed: the child is exiting (or closed them itself); wait for the rest.
    exit_code = wait_exit(pid, pidfd, until);
    if (!exit_code) timed_out = true;
  }
  if (timed_out) {
    kill_and_reap(pid);
    for (int i = 0; i < 2; ++i)
      if (fds[i] >= 0) drain(fds[i], *sinks[i]);
    result.exit_code = -1;
  } else {
    result.exit_code = *exit_code;
  }
  for (int fd : fds)
    if (fd >= 0) ::close(fd);
  if (pidfd >= 0) ::close(pidfd);
  return result;
}

BackgroundProcess::BackgroundProcess(std::vector<std::string> argv) {
  out_path_ = make_temp_file(".out");
  err_path_ = make_temp_file(".err");
  int out_fd = ::open(out_path_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  int err_fd = ::open(err_path_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (out_fd < 0 || err_fd < 0) {
    int e = errno;
    if (out_fd >= 0) ::close(out_fd);
    if (err_fd >= 0) ::close(err_fd);
    ::unlink(out_path_.c_str());
    ::unlink(err_path_.c_str());
    errno = e;
    fail("open output files");
  }
  try {
    pid_ = spawn(argv, out_fd, err_fd);
  } catch (...) {
    ::close(out_fd);
    ::close(err_fd);
    ::unlink(out_path_.c_str());
    ::unlink(err_path_.c_str());
    throw;
  }
  ::close(out_fd);
  ::close(err_fd);
  pidfd_ = open_pidfd(pid_);
}

BackgroundProcess::~BackgroundProcess() {
  if (pid_ > 0 && !reaped_) kill_and_reap(pid_);
  if (pidfd_ >= 0) ::close(pidfd_);
  ::unlink(out_path_.c_str());
  ::unlink(err_path_.c_str());
}

std::string BackgroundProcess::current_stdout() const { return read_if_exists(out_path_); }
std::string BackgroundProcess::current_stderr() const { return read_if_exists(err_path_); }

bool BackgroundProcess::send_signal(int sig) {
  // Until we reap it the pid cannot be reused, so this never hits another process.
  if (pid_ <= 0 || reaped_) return false;
  return ::kill(pid_, sig) == 0;
}

bool BackgroundProcess::running() const {
  if (pid_ <= 0 || reaped_) return false;
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0)
    return false;
  return info.si_pid == 0;
}

bool BackgroundProcess::wait_for_output(const std::string& path, std::string_view needle,
                                        std::chrono::milliseconds deadline) const {
  const auto until = Clock::now() + deadline;
  for (;;) {
    bool alive = running();
    if (read_if_exists(path).find(needle) != std::string::npos) return true;
    if (!alive) return false;  // exited, and (read after it exited) the text is not there
    int left = remaining_ms(until);
    if (left == 0) return false;
    // Wake up at the child's exit, or look again in 10 ms.
    if (pidfd_ >= 0) {
      pollfd p{pidfd_, POLLIN, 0};
      ::poll(&p, 1, std::min(left, 10));
    } else {
      ::poll(nullptr, 0, std::min(left, 10));
    }
  }
}

bool BackgroundProcess::wait_for_stdout(std::string_view needle,
                                        std::chrono::milliseconds deadline) const {
  return wait_for_output(out_path_, needle, deadline);
}

bool BackgroundProcess::wait_for_stderr(std::string_view needle,
                                        std::chrono::milliseconds deadline) const {
  return wait_for_output(err_path_, needle, deadline);
}

ProcessResult BackgroundProcess::wait(std::chrono::milliseconds deadline) {
  if (reaped_ || pid_ <= 0) return result_;
  auto code = wait_exit(pid_, pidfd_, Clock::now() + deadline);
  if (!code) {
    kill_and_reap(pid_);
    code = -1;
  }
  reaped_ = true;
  result_.exit_code = *code;
  result_.out = read_if_exists(out_path_);
  result_.err = read_if_exists(err_path_);
  return result_;
}

TempDir::TempDir() : path_(temp_dir()) {}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path TempDir::write(const std::string& rel, const std::string& text) const {
  std::filesystem::path p = path_ / rel;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

std::string temp_dir() {
  char templ[] = "/tmp/trafficsim-test-XXXXXX";
  if (!::mkdtemp(templ)) fail("mkdtemp");
  return templ;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int e = errno;
    ::close(fd);
    errno = e;
    fail("bind 127.0.0.1:0");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read '" + path + "': " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw std::runtime_error("cannot read '" + path + "'");
  return ss.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error("cannot write '" + path + "': " + std::strerror(errno));
}

}  // namespace trafficsim::testing
