#pragma once
// The live progress line: redrawn in place about twice a second on a TTY; on other outputs a
// plain line every few seconds so logs stay readable.
//
// What it shows is labelled: in the open model, the rate *sent* over the last interval beside
// the target rate (completions lag sends by the latency, so comparing them with the target
// misleads at the start of a run), then the rate *done*; once issuing has ended, "draining" with
// the requests still in flight instead of a clock running past the end.
#include <cstdio>
#include <string>

#include "cli/terminal.hpp"
#include "load/engine.hpp"

namespace trafficsim::cli {

// The line's text for one snapshot (no prefix or suffix, no cursor control).
std::string progress_text(const load::Snapshot& snap, const Style& style);

class ProgressLine {
 public:
  ProgressLine(std::FILE* out, bool quiet);
  // `prefix` goes before the line (e.g. "[2/5] "), `suffix` after it (per-stream figures).
  void update(const load::Snapshot& snap, const std::string& prefix = {},
              const std::string& suffix = {});
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
