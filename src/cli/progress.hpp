#pragma once
// The live progress line: redrawn in place about twice a second on a TTY; on other outputs a
// plain line every few seconds so logs stay readable.
#include <cstdio>
#include <functional>
#include <string>

#include "cli/terminal.hpp"
#include "load/engine.hpp"

namespace trafficsim::cli {

class ProgressLine {
 public:
  ProgressLine(std::FILE* out, bool quiet);
  void update(const load::Snapshot& snap);
  void finish();  // clears the live line
  // Text put before the line (e.g. "[2/5] ") and a function adding text after it.
  void set_prefix(std::string prefix) { prefix_ = std::move(prefix); }
  void set_suffix(std::function<std::string(const load::Snapshot&)> fn) { suffix_ = std::move(fn); }

 private:
  std::FILE* out_;
  bool quiet_;
  bool tty_;
  Style style_;
  double last_plain_s_ = -1e9;
  bool drawn_ = false;
  std::string prefix_;
  std::function<std::string(const load::Snapshot&)> suffix_;
};

}  // namespace trafficsim::cli
