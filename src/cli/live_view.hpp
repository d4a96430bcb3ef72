#pragma once
// The live line of a traffic job on a terminal: the progress line, plus per-stream figures when
// the job has several streams and the demo minute on the demo clock.
#include <cstdio>
#include <string>

#include "cli/progress.hpp"
#include "jobs/traffic_job.hpp"

namespace trafficsim::cli {

class LiveView {
 public:
  LiveView(std::FILE* out, bool quiet) : line_(out, quiet) {}
  void set_prefix(std::string prefix) { prefix_ = std::move(prefix); }
  // Subscribes to the job's snapshots (the view must outlive the job's run).
  void follow(jobs::TrafficJob& job);
  void show(const jobs::TrafficSnapshot& snap);
  void finish() { line_.finish(); }

 private:
  ProgressLine line_;
  std::string prefix_;
};

}  // namespace trafficsim::cli
