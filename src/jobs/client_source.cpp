#include "jobs/client_source.hpp"

#include <cmath>

#include "core/ascii.hpp"
#include "telemetry/metrics.hpp"

namespace trafficsim::jobs {

namespace {

std::string endpoint_of(const load::RequestTemplate& t) {
  return t.target.substr(0, t.target.find('?'));
}

std::string traffic_type_of(const load::RequestTemplate& t) {
  for (const auto& [name, value] : t.headers)
    if (core::iequals_ascii(name, "X-Traffic-Type") && !value.empty()) return value;
  return "load";
}

// The bounds in the engine's unit (microseconds), for LatencyHistogram::counts_at_or_below.
const std::vector<int64_t>& latency_bounds_us() {
  static const std::vector<int64_t> us = [] {
    std::vector<int64_t> out;
    for (double s : ClientSource::latency_bounds_s()) out.push_back(std::llround(s * 1e6));
    return out;
  }();
  return us;
}

int counter_index(const load::Stream& s, std::string_view name) {
  for (size_t i = 0; i < s.counter_names.size(); ++i)
    if (s.counter_names[i] == name) return static_cast<int>(i);
  return -1;
}

// Text-format writing: `name{labels} value` lines.
class Writer {
 public:
  void type(std::string_view name, std::string_view kind, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += '\n';
    out_ += "# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += kind;
    out_ += '\n';
  }
  // labels: name/value pairs; `le` (when not empty) is appended last.
  void sample(std::string_view name,
              std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
              double value, std::string_view le = {}) {
    out_ += name;
    char sep = '{';
    auto label = [&](std::string_view k, std::string_view v) {
      out_ += sep;
      sep = ',';
      out_ += k;
      out_ += "=\"";
      telemetry::append_label_value(out_, v);
      out_ += '"';
    };
    for (const auto& [k, v] : labels) label(k, v);
    if (!le.empty()) label("le", le);
    if (sep == ',') out_ += '}';
    out_ += ' ';
    out_ += telemetry::format_metric_value(value);
    out_ += '\n';
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// A latency histogram's lines: cumulative buckets, +Inf, _sum, _count.
void histogram_lines(Writer& w, const std::string& name,
                     std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
                     const std::vector<uint64_t>& buckets, uint64_t count, double sum_s) {
  const auto& bounds = ClientSource::latency_bounds_s();
  const std::string bucket = name + "_bucket";
  for (size_t i = 0; i < bounds.size(); ++i)
    w.sample(bucket, labels, static_cast<double>(i < buckets.size() ? buckets[i] : 0),
             telemetry::format_metric_value(bounds[i]));
  w.sample(bucket, labels, static_cast<double>(count), "+Inf");
  w.sample(name + "_sum", labels, sum_s);
  w.sample(name + "_count", labels, static_cast<double>(count));
}

}  // namespace

const std::vector<double>& ClientSource::latency_bounds_s() {
  static const std::vector<double> bounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2,
                                             0.3,   0.5,    0.75,  1,    1.5,   2,    2.5, 3,
                                             4,     5,      7.5,   10,   15,    30,   60};
  return bounds;
}

void ClientSource::add(const load::Plan& plan, const load::RunStats& interval) {
  const auto& bounds_us = latency_bounds_us();
  std::lock_guard lock(mu_);
  for (size_t si = 0; si < interval.streams.size() && si < plan.streams.size(); ++si) {
    const load::Stream& stream = plan.streams[si];
    const int in_tokens = counter_index(stream, "input_tokens");
    const int out_tokens = counter_index(stream, "output_tokens");
    const auto& endpoints = interval.streams[si].endpoints;
    for (size_t ti = 0; ti < endpoints.size() && ti < stream.requests.size(); ++ti) {
      const load::EndpointStats& e = endpoints[ti];
      if (e.completed() == 0) continue;
      const load::RequestTemplate& t = stream.requests[ti];
      std::string endpoint = endpoint_of(t);
      const bool llm = endpoint == kLlmEndpoint;
      Series& s = series_[Key{std::move(endpoint), t.method, traffic_type_of(t)}];
      s.llm = llm;
      uint64_t ok = 0;
      for (int code = 100; code < 600; ++code) {
        uint64_t n = e.responses_by_status[static_cast<size_t>(code)];
        if (n == 0) continue;
        s.by_status[std::to_string(code)] += n;
        if (code >= 200 && code < 300) ok += n;
      }
      for (auto [kind, n] : {std::pair<const char*, uint64_t>{"timeout", e.errors_timeout},
                             {"connect", e.errors_connect},
                             {"closed_mid_response", e.errors_closed_mid_response},
                             {"error", e.errors_other}})
        if (n) s.by_status[kind] += n;
      if (e.service.count()) {
        auto le = e.service.counts_at_or_below(bounds_us);
        s.buckets.resize(le.size(), 0);
        for (size_t b = 0; b < le.size(); ++b) s.buckets[b] += static_cast<uint64_t>(le[b]);
        s.latency_count += static_cast<uint64_t>(e.service.count());
        s.latency_sum_s += e.service.mean() * static_cast<double>(e.service.count()) / 1e6;
      }
      if (s.llm && in_tokens >= 0 && out_tokens >= 0) {
        s.has_tokens = true;
        s.token_answers += ok;
        auto counter = [&e](int i) {
          return static_cast<size_t>(i) < e.counters.size() ? e.counters[static_cast<size_t>(i)]
                                                            : 0;
        };
        s.tokens += counter(in_tokens) + counter(out_tokens);
      }
    }
  }
}

void ClientSource::attach(load::Plan& plan) {
  plan.on_interval = [this, p = &plan](const load::RunStats& interval) { add(*p, interval); };
}

std::string ClientSource::exposition() const {
  struct Llm {
    std::map<std::string, uint64_t> errors;  // by status
    uint64_t requests = 0;
    std::vector<uint64_t> buckets;
    uint64_t latency_count = 0;
    double latency_sum_s = 0;
    bool has_tokens = false;
    uint64_t token_answers = 0;
    int64_t tokens = 0;
  };
  Writer w;
  std::lock_guard lock(mu_);
  std::map<std::string, Llm> llm;  // by traffic type
  w.type("http_requests_total", "counter", "Requests the load generator completed, by endpoint, method, status (or transport error) and traffic type.");
  for (const auto& [key, s] : series_) {
    const auto& [endpoint, method, traffic] = key;
    for (const auto& [status, n] : s.by_status)
      w.sample("http_requests_total",
               {{"endpoint", endpoint},
                {"method", method},
                {"status", status},
                {"traffic_type", traffic}},
               static_cast<double>(n));
    if (!s.llm) continue;
    Llm& l = llm[traffic];
    for (const auto& [status, n] : s.by_status) {
      l.requests += n;
      if (!(status.size() == 3 && status[0] == '2')) l.errors[status] += n;
    }
    l.buckets.resize(s.buckets.size(), 0);
    for (size_t b = 0; b < s.buckets.size(); ++b) l.buckets[b] += s.buckets[b];
    l.latency_count += s.latency_count;
    l.latency_sum_s += s.latency_sum_s;
    l.has_tokens = l.has_tokens || s.has_tokens;
    l.token_answers += s.token_answers;
    l.tokens += s.tokens;
  }
  w.type("http_request_duration_seconds", "histogram", "Service latency seen by the load generator (actual send to whole response).");
  for (const auto& [key, s] : series_) {
    const auto& [endpoint, method, traffic] = key;
    histogram_lines(w, "http_request_duration_seconds",
                    {{"endpoint", endpoint}, {"method", method}, {"traffic_type", traffic}},
                    s.buckets, s.latency_count, s.latency_sum_s);
  }
  w.type("llm_request_duration_seconds", "histogram", "Service latency of the classify (LLM) requests, seen by the load generator.");
  for (const auto& [traffic, l] : llm)
    histogram_lines(w, "llm_request_duration_seconds", {{"traffic_type", traffic}}, l.buckets,
                    l.latency_count, l.latency_sum_s);
  w.type("llm_requests_total", "counter", "Classify (LLM) requests the load generator completed.");
  for (const auto& [traffic, l] : llm)
    w.sample("llm_requests_total", {{"traffic_type", traffic}}, static_cast<double>(l.requests));
  w.type("llm_errors_total", "counter", "Classify (LLM) answers outside 2xx and transport errors, seen by the load generator.");
  for (const auto& [traffic, l] : llm)
    for (const auto& [status, n] : l.errors)
      w.sample("llm_errors_total", {{"traffic_type", traffic}, {"status", status}},
               static_cast<double>(n));
  bool any_tokens = false;
  for (const auto& [traffic, l] : llm) any_tokens = any_tokens || l.has_tokens;
  if (any_tokens) {
    // Only _sum and _count are known (a mean), so the histogram has its +Inf bucket alone.
    w.type("llm_tokens_per_request", "histogram", "Input plus output tokens per 2xx classify answer, from the response bodies.");
    for (const auto& [traffic, l] : llm) {
      if (!l.has_tokens) continue;
      w.sample("llm_tokens_per_request_bucket", {{"traffic_type", traffic}},
               static_cast<double>(l.token_answers), "+Inf");
      w.sample("llm_tokens_per_request_sum", {{"traffic_type", traffic}},
               static_cast<double>(l.tokens));
      w.sample("llm_tokens_per_request_count", {{"traffic_type", traffic}},
               static_cast<double>(l.token_answers));
    }
  }
  return w.take();
}

std::function<std::optional<std::string>(std::string*)> ClientSource::scrape(
    std::shared_ptr<const ClientSource> source) {
  return [source = std::move(source)](std::string*) -> std::optional<std::string> {
    return source->exposition();
  };
}

}  // namespace trafficsim::jobs
