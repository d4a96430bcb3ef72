#pragma once
// --metrics-listen [HOST]:PORT on `run` and `play`: the run's own statistics as they go (the
// client-side families of jobs::ClientSource: requests by status, latency buckets, LLM errors,
// tokens) on GET /metrics, every sample labelled segment="i" and segments="n" (--segment i/n;
// 0 and 1 for a whole run), plus trafficsim_segment_info{segment,segments} 1. A Prometheus that
// scrapes every segment of a distributed run sums it while it is going:
//   sum without (segment) (rate(http_requests_total[1m]))
// Opt-in; binds 127.0.0.1 unless an address is given (a pod binds 0.0.0.0 to be scraped).
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "load/plan.hpp"

namespace trafficsim::http {
class Server;
}
namespace trafficsim::jobs {
class ClientSource;
}

namespace trafficsim::cli {

inline constexpr const char* kMetricsLingerHelp =
    "With --metrics-listen: keep /metrics up this long after the run (e.g. 15s, the scrape "
    "interval), so the final counts are scraped; Ctrl+C ends it";

inline constexpr const char* kMetricsListenHelp =
    "Serve this run's statistics on http://[HOST]:PORT/metrics while it goes, every sample "
    "labelled segment and segments (a Prometheus sums a distributed run; serve --segments charts "
    "it); HOST defaults to 127.0.0.1, port 0 picks a free one";

// `exposition` with `labels` (e.g. segment="0",segments="4") added to every sample line.
std::string with_labels(std::string_view exposition, std::string_view labels);

class MetricsListener {
 public:
  // Binds at once (throws std::runtime_error naming the address) and serves until destroyed.
  MetricsListener(const std::string& host, uint16_t port,
                  std::shared_ptr<const jobs::ClientSource> source, load::Segment segment);
  ~MetricsListener();
  MetricsListener(const MetricsListener&) = delete;
  MetricsListener& operator=(const MetricsListener&) = delete;
  uint16_t port() const;
  std::string url() const;   // http://HOST:PORT/metrics
  std::string page() const;  // what GET /metrics answers now
  // Serves on for `d` after the run, or until stop_fd is readable (a signal), whichever first.
  void linger(std::chrono::nanoseconds d, int stop_fd) const;

 private:
  std::shared_ptr<const jobs::ClientSource> source_;
  std::string host_;
  std::string labels_;
  std::unique_ptr<http::Server> server_;
};

}  // namespace trafficsim::cli
