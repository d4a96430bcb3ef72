#include "cli/signals.hpp"

#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace trafficsim::cli {

namespace {
int g_stop_fd = -1;
std::atomic<int> g_signals{0};

void on_signal(int sig) {
  int n = g_signals.fetch_add(1) + 1;
  if (n >= 2 && sig == SIGINT) {
    static const char msg[] = "\ntrafficsim: second interrupt, exiting now\n";
    [[maybe_unused]] ssize_t r = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    _exit(130);
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(g_stop_fd, &one, sizeof one);
}
}  // namespace

int install_stop_signals() {
  if (g_stop_fd < 0) g_stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return g_stop_fd;
}

bool stop_signal_received() {
  return g_signals.load() > 0;
}

}  // namespace trafficsim::cli
