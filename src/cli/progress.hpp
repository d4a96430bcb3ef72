#pragma once
// The live progress line: redrawn in place about twice a second on a TTY; on other outputs a
// plain line every few seconds so logs stay readable.
#include <cstdio>

#include "cli/terminal.hpp"
#include "load/engine.hpp"

namespace trafficsim::cli {

class ProgressLine {
 public:
  ProgressLine(std::FILE* out, bool quiet);
  void update(const load::Snapshot& snap);
  void finish();  // clears the live line

 private:
  std::FILE* out_;
  bool quiet_;
  bool tty_;
  Style style_;
  double last_plain_s_ = -1e9;
  bool drawn_ = false;
};

}  // namespace trafficsim::cli
