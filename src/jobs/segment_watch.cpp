#include "jobs/segment_watch.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>
#include <boost/json/array.hpp>

#include "http/simple_get.hpp"
#include "http/url.hpp"
#include "telemetry/exposition_parser.hpp"

namespace trafficsim::jobs {

namespace json = boost::json;

namespace {

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool is_error_status(const std::string* status) {
  if (status == nullptr || status->empty()) return false;
  return !(status->front() == '2' || status->front() == '3') || status->size() != 3;
}

// requests and errors of one segment's samples: http_requests_total by status.
void count_requests(const std::vector<const telemetry::ExpositionSample*>& samples,
                    double& requests, double& errors) {
  requests = errors = 0;
  for (const auto* s : samples) {
    if (s->name != "http_requests_total" || !std::isfinite(s->value)) continue;
    requests += s->value;
    if (is_error_status(s->label("status"))) errors += s->value;
  }
}

void escape_label(std::string& out, const std::string& v) {
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

void render_sample(std::string& out, const telemetry::ExpositionSample& s) {
  out += s.name;
  if (!s.labels.empty()) {
    out += '{';
    bool first = true;
    for (const auto& [k, v] : s.labels) {
      if (!first) out += ',';
      first = false;
      out += k;
      out += "=\"";
      escape_label(out, v);
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  if (std::isnan(s.value))
    out += "NaN";
  else if (std::isinf(s.value))
    out += s.value > 0 ? "+Inf" : "-Inf";
  else
    out += fmt::format("{}", s.value);
  out += '\n';
}

// Counter totals as JSON integers (boost::json writes 300.0 as 3E2).
uint64_t whole(double v) {
  return v > 0 && std::isfinite(v) ? static_cast<uint64_t>(std::llround(v)) : 0;
}

std::string label_or(const telemetry::ExpositionSample& s, std::string_view name) {
  const std::string* v = s.label(name);
  return v ? *v : std::string();
}

}  // namespace

std::string SegmentWatch::metrics_url(const std::string& text) {
  std::string error;
  if (text.find("://") == std::string::npos) {
    // HOST:PORT (or [v6]:PORT): the segment's --metrics-listen address.
    const std::string url = "http://" + text + "/metrics";
    if (text.empty() || !http::parse_url(url, &error))
      throw std::invalid_argument(fmt::format("'{}' is neither a URL nor HOST:PORT{}", text,
                                              error.empty() ? "" : ": " + error));
    return url;
  }
  auto url = http::parse_url(text, &error);
  if (!url) throw std::invalid_argument(fmt::format("'{}': {}", text, error));
  if (url->target == "/") return url->origin() + "/metrics";
  return text;
}

SegmentWatch::SegmentWatch(SegmentWatchOptions options) : options_(std::move(options)) {
  if (!options_.prometheus.empty()) {
    if (!options_.urls.empty())
      throw std::invalid_argument(
          "--segments and --segments-prometheus: give the segments' URLs or a Prometheus, not "
          "both");
    std::string error;
    auto url = http::parse_url(options_.prometheus, &error);
    if (!url)
      throw std::invalid_argument(
          fmt::format("--segments-prometheus '{}': {}", options_.prometheus, error));
    std::string base = options_.prometheus;
    while (!base.empty() && base.back() == '/') base.pop_back();
    // match[]={segments!=""}: every series a segment labelled (URL-encoded).
    federate_url_ = base + "/federate?match%5B%5D=%7Bsegments%21%3D%22%22%7D";
    return;
  }
  if (options_.urls.empty()) throw std::invalid_argument("--segments: no URL given");
  if (options_.urls.size() > kMaxSegments)
    throw std::invalid_argument(
        fmt::format("--segments: {} URLs, at most {}", options_.urls.size(), kMaxSegments));
  for (const auto& u : options_.urls) {
    Segment s;
    try {
      s.name = metrics_url(u);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(fmt::format("--segments {}", e.what()));
    }
    s.error = "not scraped yet";
    segments_.push_back(std::move(s));
  }
}

SegmentWatch::~SegmentWatch() {
  stop();
}

void SegmentWatch::start() {
  scrape_once();
  thread_ = std::thread([this] { loop(); });
}

void SegmentWatch::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SegmentWatch::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    // The pace of the scrapes, not a synchronisation: stop() wakes this at once.
    wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    scrape_once();
    lock.lock();
  }
}

void SegmentWatch::scrape_once() {
  if (federate_url_.empty())
    scrape_urls();
  else
    scrape_prometheus();
  std::lock_guard lock(mutex_);
  ++scrapes_;
}

void SegmentWatch::scrape_urls() {
  std::vector<std::string> names;
  {
    std::lock_guard lock(mutex_);
    for (const auto& s : segments_) names.push_back(s.name);
  }
  for (size_t i = 0; i < names.size(); ++i) {
    std::string error;
    std::optional<http::SimpleResponse> r;
    if (auto url = http::parse_url(names[i], &error))
      r = http::simple_get(*url, options_.timeout, &error, kMaxBody);
    if (r && r->status != 200) error = fmt::format("GET answered {}", r->status);
    const double now = unix_now();
    if (!r || r->status != 200) {
      std::lock_guard lock(mutex_);
      segments_[i].up = false;
      segments_[i].error = error;
      continue;
    }
    auto parsed = telemetry::parse_exposition(r->body);
    std::vector<const telemetry::ExpositionSample*> samples;
    std::string segment, count;
    for (const auto& s : parsed.samples) {
      samples.push_back(&s);
      if (s.name == "trafficsim_segment_info") {
        segment = label_or(s, "segment");
        count = label_or(s, "segments");
      }
    }
    double requests = 0, errors = 0;
    count_requests(samples, requests, errors);
    std::lock_guard lock(mutex_);
    Segment& seg = segments_[i];
    seg.up = true;
    seg.error.clear();
    seg.last_scrape_unix = now;
    seg.text = std::move(r->body);
    if (!seg.text.empty() && seg.text.back() != '\n') seg.text += '\n';
    seg.segment = segment;
    seg.segments = count;
    seg.requests = requests;
    seg.errors = errors;
  }
}

void SegmentWatch::scrape_prometheus() {
  std::string error;
  std::optional<http::SimpleResponse> r;
  if (auto url = http::parse_url(federate_url_, &error))
    r = http::simple_get(*url, options_.timeout, &error, kMaxBody);
  if (r && r->status != 200) error = fmt::format("GET /federate answered {}", r->status);
  if (!r || r->status != 200) {
    std::lock_guard lock(mutex_);
    prometheus_error_ = error;
    for (auto& s : segments_) {
      s.up = false;
      s.error = "Prometheus: " + error;
    }
    return;
  }
  const double now = unix_now();
  auto parsed = telemetry::parse_exposition(r->body);
  // Grouped by the segment label, in the order of the segments' numbers.
  std::map<std::string, std::vector<const telemetry::ExpositionSample*>> groups;
  for (const auto& s : parsed.samples) {
    const std::string* seg = s.label("segment");
    if (seg == nullptr) continue;
    groups[*seg].push_back(&s);
  }
  std::lock_guard lock(mutex_);
  prometheus_error_.clear();
  for (auto& s : segments_) s.up = false;
  for (const auto& [label, samples] : groups) {
    auto it = by_label_.find(label);
    if (it == by_label_.end()) {
      if (segments_.size() >= kMaxSegments) continue;
      it = by_label_.emplace(label, segments_.size()).first;
      Segment s;
      s.name = "segment " + label;
      s.segment = label;
      segments_.push_back(std::move(s));
    }
    Segment& seg = segments_[it->second];
    seg.up = true;
    seg.error.clear();
    seg.last_scrape_unix = now;
    seg.text.clear();
    for (const auto* s : samples) {
      render_sample(seg.text, *s);
      if (seg.segments.empty())
        if (const std::string* n = s->label("segments")) seg.segments = *n;
    }
    count_requests(samples, seg.requests, seg.errors);
  }
  for (auto& s : segments_)
    if (!s.up) s.error = "not in Prometheus's answer (the segment ended, or is not scraped)";
}

std::string SegmentWatch::exposition() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& s : segments_) out += s.text;
  return out;
}

json::object SegmentWatch::to_json() const {
  std::lock_guard lock(mutex_);
  json::object o;
  o["mode"] = federate_url_.empty() ? "urls" : "prometheus";
  o["source"] = options_.prometheus;
  if (!prometheus_error_.empty()) o["error"] = prometheus_error_;
  json::array list;
  double requests = 0, errors = 0;
  int64_t up = 0;
  for (const auto& s : segments_) {
    json::object j;
    j["name"] = s.name;
    j["segment"] = s.segment;
    j["segments"] = s.segments;
    j["up"] = s.up;
    j["error"] = s.error;
    if (s.last_scrape_unix > 0)
      j["last_scrape_unix"] = std::round(s.last_scrape_unix * 1000) / 1000;
    else
      j["last_scrape_unix"] = nullptr;
    j["requests"] = whole(s.requests);
    j["errors"] = whole(s.errors);
    requests += s.requests;
    errors += s.errors;
    if (s.up) ++up;
    list.push_back(std::move(j));
  }
  o["segments"] = std::move(list);
  o["up"] = up;
  o["known"] = static_cast<int64_t>(segments_.size());
  o["requests"] = whole(requests);
  o["errors"] = whole(errors);
  o["scrapes"] = scrapes_;
  return o;
}

}  // namespace trafficsim::jobs
