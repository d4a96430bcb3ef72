#pragma once
// `trafficsim bench URL`: wrk-like. Without -R a closed-model maximum-throughput run; with -R an
// open-model run at that total rate, latency corrected for coordinated omission.
#include <string>

#include "cli/otlp_flags.hpp"
#include <vector>

namespace CLI {
class App;
}

namespace trafficsim::cli {

struct BenchOptions {
  std::string url;
  int connections = kNotGiven;  // not given: 64 closed, 256 open
  static constexpr int kNotGiven = -2147483647 - 1;
  int threads = 0;  // 0: number of cores
  std::string duration = "10s";
  std::string rate;
  std::vector<std::string> headers;
  std::string method = "GET";
  std::string body;
  std::string timeout = "5s";
  std::string segment;
  std::string start_at;  // --start-at: RFC 3339 or Unix seconds
  std::string metrics_listen;  // --metrics-listen [HOST]:PORT
  std::string metrics_linger;  // --metrics-linger DURATION
  std::string json_path;
  std::string seed;
  bool poisson = false;
  size_t backlog = 10000;
  bool insecure = false;
  std::string cacert;
  std::string hard_cap;
  std::string expect;
  bool quiet = false;
  bool no_color = false;
  OtlpFlags otlp;  // --trace-ratio, --otlp: traceparent on requests, client spans exported
};

CLI::App* add_bench_command(CLI::App& app, BenchOptions& options);
int run_bench(const BenchOptions& options);

}  // namespace trafficsim::cli
