#pragma once
// The live view of a distributed run (`trafficsim serve --segments URL...` or
// `--segments-prometheus URL`; docs/scale-out.md): every segment's /metrics (`run --segment i/n
// --metrics-listen`), scraped once a second on a thread of its own, so the dashboard's Metrics
// page, /api/v1/telemetry/segments and the monitors see the whole run while it goes.
//
// What the whole run is: the latest good scrape of every segment, side by side. Samples keep
// their segment labels, so whoever reads the exposition sums across them (the Metrics page adds
// series by their split label; a monitor's signal sums the series its globs match). A segment
// that stops answering — it finished, its pod went away — keeps its last scrape: its counters
// stop growing instead of vanishing from the sum (which a reader would take for a restart).
//
// Two ways to find the segments:
//  - urls: each segment's /metrics, scraped directly (an http URL; "HOST:PORT" means
//    http://HOST:PORT/metrics);
//  - prometheus: a Prometheus that scrapes them (the pod annotations of deploy k8s); its
//    /federate?match[]={segments!=""} gives every series with a segment label, grouped here by
//    that label, so a segment Prometheus no longer reports keeps its last values too.
//
// to_json(): {"mode": "urls"|"prometheus", "source": the Prometheus URL or "", "segments":
// [{"name", "segment", "segments", "up", "error", "last_scrape_unix", "requests", "errors"}],
// "up", "known", "requests", "errors", "scrapes"}; requests: the sum of http_requests_total,
// errors: those whose status is not 2xx or 3xx (transport errors included).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/object.hpp>

namespace trafficsim::jobs {

struct SegmentWatchOptions {
  std::vector<std::string> urls;  // segment /metrics URLs (or HOST:PORT)
  std::string prometheus;         // or a Prometheus base URL
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds timeout{800};  // per scrape
};

class SegmentWatch {
 public:
  static constexpr size_t kMaxSegments = 1024;
  static constexpr size_t kMaxBody = 16 << 20;  // one scrape

  // Throws std::invalid_argument naming the URL at fault (--segments URL, --segments-prometheus).
  explicit SegmentWatch(SegmentWatchOptions options);
  ~SegmentWatch();  // stops and joins
  SegmentWatch(const SegmentWatch&) = delete;
  SegmentWatch& operator=(const SegmentWatch&) = delete;

  // "HOST:PORT" -> http://HOST:PORT/metrics; an http(s) URL as given (its path, else /metrics).
  static std::string metrics_url(const std::string& text);

  void start();        // the scraping thread (a first scrape is done before it returns)
  void stop();         // idempotent
  void scrape_once();  // one round, on the caller's thread (tests, start)

  // The latest scrape of every segment, one exposition (empty before the first answer).
  std::string exposition() const;
  boost::json::object to_json() const;

 private:
  struct Segment {
    std::string name;  // the URL, or the segment label under Prometheus
    std::string segment, segments;
    bool up = false;
    std::string error;
    double last_scrape_unix = 0;
    std::string text;  // the latest good samples
    double requests = 0, errors = 0;
  };
  void scrape_urls();
  void scrape_prometheus();
  void loop();

  SegmentWatchOptions options_;
  std::string federate_url_;
  mutable std::mutex mutex_;
  std::vector<Segment> segments_;           // urls: in the order given
  std::map<std::string, size_t> by_label_;  // prometheus: segment label -> index
  std::string prometheus_error_;
  uint64_t scrapes_ = 0;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace trafficsim::jobs
