#pragma once
// Running child processes from tests: the trafficsim binary, scripts/nginx.sh and the like.
// Everything waits on a condition with a deadline (poll on pipes and on a pidfd), never on a
// fixed sleep, and a child that outlives its deadline is killed with SIGKILL.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace trafficsim::testing {

struct ProcessResult {
  // The exit status (0..255); 128 + N when the child died of signal N; -1 when it was killed
  // because it outlived the deadline (or could not be waited for).
  int exit_code = -1;
  std::string out;  // everything the child wrote to stdout
  std::string err;  // everything the child wrote to stderr
};

// Runs argv[0] (looked up in PATH when it has no '/') with stdin from /dev/null, capturing
// stdout and stderr through pipes. When the child has not exited `deadline` after the start, it
// is killed with SIGKILL and the result has exit_code -1 (with whatever output came before).
// A child that cannot be executed exits with 127 and says why on stderr.
ProcessResult run_process(std::vector<std::string> argv, std::chrono::milliseconds deadline);

// A child running in the background with stdout and stderr going to temporary files, for tests
// that act on a process while it runs (signals, reading its progress). The destructor kills
// (SIGKILL) and reaps a child that is still running and removes the files.
class BackgroundProcess {
 public:
  // Starts the child; throws std::runtime_error when the pipes, files or fork fail. A child that
  // cannot be executed exits with 127.
  explicit BackgroundProcess(std::vector<std::string> argv);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& stdout_path() const { return out_path_; }
  const std::string& stderr_path() const { return err_path_; }
  // What the child wrote so far.
  std::string current_stdout() const;
  std::string current_stderr() const;

  // Sends sig to the child; false if it was already reaped or kill() failed.
  bool send_signal(int sig);
  // True while the child has not exited (does not reap it).
  bool running() const;

  // Waits until the child's stdout (or stderr) contains `needle`. Returns false when the
  // deadline passes first or the child exits without having written it.
  bool wait_for_stdout(std::string_view needle, std::chrono::milliseconds deadline) const;
  bool wait_for_stderr(std::string_view needle, std::chrono::milliseconds deadline) const;

  // Waits for the child to exit and returns its exit code and output. When it has not exited
  // by the deadline it is killed with SIGKILL and exit_code is -1. Calling wait again returns
  // the first result.
  ProcessResult wait(std::chrono::milliseconds deadline);

 private:
  bool wait_for_output(const std::string& path, std::string_view needle,
                       std::chrono::milliseconds deadline) const;

  pid_t pid_ = -1;
  int pidfd_ = -1;
  bool reaped_ = false;
  ProcessResult result_;
  std::string out_path_, err_path_;
};

// A fresh, empty directory under /tmp (mkdtemp); throws std::runtime_error on failure. The
// caller removes it (std::filesystem::remove_all) when done.
std::string temp_dir();

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close). Nothing
// listens on it afterwards, so connections to it are refused.
int free_port();

// A fresh directory (temp_dir()) removed with everything in it when the object goes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  // Writes `text` to path()/rel (creating directories) and returns the file's path.
  std::filesystem::path write(const std::string& rel, const std::string& text) const;

 private:
  std::filesystem::path path_;
};

// The whole contents of a file; throws std::runtime_error naming the file when it cannot be read.
std::string read_file(const std::string& path);
// Writes `text` to path (created or truncated); throws std::runtime_error on failure.
void write_file(const std::string& path, const std::string& text);

}  // namespace trafficsim::testing
