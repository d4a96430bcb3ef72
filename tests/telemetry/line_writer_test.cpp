#include "telemetry/line_writer.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace trafficsim::telemetry {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class LineWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A pipe whose reader is gone must give EPIPE, not kill the test binary.
    std::signal(SIGPIPE, SIG_IGN);
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("trafficsim_line_writer_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
  }

  fs::path dir_;
};

struct Pipe {
  Pipe() { EXPECT_EQ(::pipe(fds), 0); }
  ~Pipe() {
    close_read();
    close_write();
  }
  void close_read() {
    if (fds[0] >= 0) ::close(fds[0]);
    fds[0] = -1;
  }
  void close_write() {
    if (fds[1] >= 0) ::close(fds[1]);
    fds[1] = -1;
  }
  int fds[2] = {-1, -1};
};

std::string numbered_line(int i) {
  return R"({"seq":)" + std::to_string(i) + R"(,"path":"/users","status":200})";
}

TEST_F(LineWriterTest, LinesReachTheFileIntactAndInOrder) {
  const fs::path path = dir_ / "access.log";
  auto writer = AsyncLineWriter::open_file(path);
  std::string expected;
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(writer->write(numbered_line(i)));
    expected += numbered_line(i) + "\n";
  }
  ASSERT_TRUE(writer->flush(10s));
  EXPECT_EQ(read_file(path), expected);
  EXPECT_EQ(writer->written_lines(), 20000u);
  EXPECT_EQ(writer->dropped_lines(), 0u);
  EXPECT_EQ(writer->write_errors(), 0u);
}

TEST_F(LineWriterTest, OpenFileAppendsToExistingContent) {
  const fs::path path = dir_ / "access.log";
  std::ofstream(path) << "earlier\n";
  {
    auto writer = AsyncLineWriter::open_file(path);
    writer->write("later");
  }  // the destructor writes what is queued
  EXPECT_EQ(read_file(path), "earlier\nlater\n");
}

TEST_F(LineWriterTest, DestructorWritesWhatIsQueued) {
  const fs::path path = dir_ / "access.log";
  std::string expected;
  {
    auto writer = AsyncLineWriter::open_file(path);
    for (int i = 0; i < 5000; ++i) {
      ASSERT_TRUE(writer->write(numbered_line(i)));
      expected += numbered_line(i) + "\n";
    }
  }
  EXPECT_EQ(read_file(path), expected);
}

TEST_F(LineWriterTest, OpenFileFailureNamesThePath) {
  const fs::path path = dir_ / "missing_dir" / "access.log";
  try {
    AsyncLineWriter::open_file(path);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(path.string()), std::string::npos) << message;
    EXPECT_NE(message.find("No such file or directory"), std::string::npos) << message;
  }
}

TEST_F(LineWriterTest, LinesThroughAPipeArriveInOrder) {
  Pipe pipe;
  std::string received;
  std::thread reader([&received, fd = pipe.fds[0]] {
    char buffer[8192];
    while (true) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n <= 0) break;
      received.append(buffer, static_cast<size_t>(n));
    }
  });
  std::string expected;
  {
    // Owns the write end: destroying it closes the pipe, which ends the reader.
    AsyncLineWriter writer(pipe.fds[1], true, 64 << 10);
    pipe.fds[1] = -1;
    for (int i = 0; i < 20000; ++i) {
      // A producer faster than the pipe may see a full buffer; retry after letting it drain.
      while (!writer.write(numbered_line(i))) ASSERT_TRUE(writer.flush(10s));
      expected += numbered_line(i) + "\n";
    }
    ASSERT_TRUE(writer.flush(10s));
    EXPECT_EQ(writer.written_lines(), 20000u);
  }
  reader.join();
  EXPECT_EQ(received, expected);
}

// Fills the pipe's own buffer so that the next write to it would block.
void fill_pipe(int write_fd) {
  const int flags = ::fcntl(write_fd, F_GETFL);
  ASSERT_EQ(::fcntl(write_fd, F_SETFL, flags | O_NONBLOCK), 0);
  const std::string chunk(4096, 'f');
  while (::write(write_fd, chunk.data(), chunk.size()) > 0) {
  }
  ASSERT_EQ(errno, EAGAIN);
  ASSERT_EQ(::fcntl(write_fd, F_SETFL, flags), 0);  // blocking again, as a log pipe would be
}

TEST_F(LineWriterTest, FullBufferDropsInsteadOfBlocking) {
  Pipe pipe;  // nobody reads, and it is full from the start: nothing more can be written
  fill_pipe(pipe.fds[1]);
  AsyncLineWriter writer(pipe.fds[1], false, 4096);
  const std::string line(99, 'x');
  constexpr int kLines = 100000;  // 10 MB, against 4 kB of capacity
  uint64_t accepted = 0;
  uint64_t refused = 0;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kLines; ++i) (writer.write(line) ? accepted : refused)++;
  const auto elapsed = std::chrono::steady_clock::now() - started;

  // Producers never wait for I/O: 100000 calls take milliseconds; a blocking write would never
  // return here.
  EXPECT_LT(elapsed, 3s);
  EXPECT_EQ(accepted, 4096u / 100);  // exactly what fits in the capacity
  EXPECT_EQ(writer.dropped_lines(), refused);
  EXPECT_EQ(writer.written_lines(), 0u);
  // The pipe is stuck, so what is queued cannot be flushed.
  EXPECT_FALSE(writer.flush(50ms));

  // Closing the read end turns the stuck write into EPIPE: counted, dropped, not thrown.
  pipe.close_read();
  ASSERT_TRUE(writer.flush(10s));
  EXPECT_GE(writer.write_errors(), 1u);
  EXPECT_EQ(writer.written_lines(), 0u);
  EXPECT_EQ(writer.dropped_lines(), uint64_t{kLines});
}

TEST_F(LineWriterTest, DestructorGivesUpOnAStuckFdAfterTheDeadline) {
  Pipe pipe;  // full, nobody reads, and the read end stays open: the writer can never finish
  fill_pipe(pipe.fds[1]);
  std::chrono::steady_clock::duration destruction{};
  {
    auto writer = std::make_unique<AsyncLineWriter>(pipe.fds[1], false);
    ASSERT_TRUE(writer->write("stuck"));
    const auto started = std::chrono::steady_clock::now();
    writer.reset();
    destruction = std::chrono::steady_clock::now() - started;
  }
  // It tried for the whole deadline, then stopped rather than hang with the process.
  EXPECT_GE(destruction, AsyncLineWriter::kShutdownDeadline);
  EXPECT_LT(destruction, AsyncLineWriter::kShutdownDeadline + 2s);
}

TEST_F(LineWriterTest, BrokenPipeIsCountedNotThrown) {
  Pipe pipe;
  pipe.close_read();
  AsyncLineWriter writer(pipe.fds[1], false);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(writer.write(numbered_line(i)));
  ASSERT_TRUE(writer.flush(10s));
  EXPECT_GE(writer.write_errors(), 1u);
  EXPECT_EQ(writer.written_lines(), 0u);
  EXPECT_EQ(writer.dropped_lines(), 100u);
  // It keeps going: later lines are accepted, and fail the same way.
  EXPECT_TRUE(writer.write("after"));
  ASSERT_TRUE(writer.flush(10s));
  EXPECT_EQ(writer.dropped_lines(), 101u);
}

TEST_F(LineWriterTest, FullDeviceIsCountedNotThrown) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  auto writer = AsyncLineWriter::open_file("/dev/full");  // every write fails with ENOSPC
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(writer->write(numbered_line(i)));
  ASSERT_TRUE(writer->flush(10s));
  EXPECT_GE(writer->write_errors(), 1u);
  EXPECT_EQ(writer->dropped_lines(), 10u);
  EXPECT_EQ(writer->written_lines(), 0u);
}

TEST_F(LineWriterTest, FlushWithNothingQueuedReturnsAtOnce) {
  auto writer = AsyncLineWriter::open_file(dir_ / "access.log");
  EXPECT_TRUE(writer->flush(0ms));
}

TEST_F(LineWriterTest, ConcurrentProducersLoseNothingWhenThereIsRoom) {
  const fs::path path = dir_ / "access.log";
  auto writer = AsyncLineWriter::open_file(path, 64 << 20);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&writer, t] {
      for (int i = 0; i < kPerThread; ++i) writer->write(numbered_line(t * kPerThread + i));
    });
  }
  for (auto& producer : producers) producer.join();
  ASSERT_TRUE(writer->flush(10s));
  EXPECT_EQ(writer->written_lines(), uint64_t{kThreads * kPerThread});
  EXPECT_EQ(writer->dropped_lines(), 0u);

  // Every line whole, each exactly once (order between producers is not defined).
  std::istringstream content(read_file(path));
  std::vector<bool> seen(kThreads * kPerThread, false);
  std::string line;
  int lines = 0;
  while (std::getline(content, line)) {
    const int seq = std::stoi(line.substr(line.find(':') + 1));
    ASSERT_EQ(line, numbered_line(seq));
    ASSERT_FALSE(seen[seq]) << "duplicate " << seq;
    seen[seq] = true;
    ++lines;
  }
  EXPECT_EQ(lines, kThreads * kPerThread);
}

}  // namespace
}  // namespace trafficsim::telemetry
