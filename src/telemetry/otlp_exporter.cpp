#include "telemetry/otlp_exporter.hpp"

#include <boost/json/object.hpp>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <optional>
#include <mutex>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "http/async_client.hpp"
#include "http/retry_policy.hpp"
#include "telemetry/metrics.hpp"

namespace trafficsim::telemetry {

std::string_view signal_name(Signal s) {
  switch (s) {
    case Signal::traces:
      return "traces";
    case Signal::metrics:
      return "metrics";
    case Signal::logs:
      return "logs";
  }
  return "traces";
}

namespace {

using Clock = std::chrono::steady_clock;

// gzip (RFC 1952) of the body, for Content-Encoding: gzip.
void gzip_into(std::string& out, std::string_view in) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("gzip: deflateInit2 failed");
  }
  out.resize(deflateBound(&zs, static_cast<uLong>(in.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("gzip: deflate did not finish");
}

// Worth another attempt under OTLP/HTTP's rules: 429, 502, 503, 504 and a connection that failed
// or timed out. Never 400, 413 or any other answer.
bool otlp_retryable(const http::ClientResult& r) {
  switch (r.outcome) {
    case http::ClientOutcome::ok:
      return r.status == 429 || r.status == 502 || r.status == 503 || r.status == 504;
    case http::ClientOutcome::timeout:
    case http::ClientOutcome::connect_error:
    case http::ClientOutcome::io_error:
      return true;
    case http::ClientOutcome::bad_url:
    case http::ClientOutcome::tls_error:
      return false;
  }
  return false;
}

}  // namespace

struct OtlpExporter::State {
  OtlpOptions options;
  std::mutex collect_mu;  // held while collect_metrics runs or changes
  std::function<std::vector<MetricData>()> collect_metrics;
  std::unique_ptr<http::AsyncClient> client;
  uint64_t started_unix_nano = core::unix_now_ns();

  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<Span> spans;  // a deque: batches leave from the front without shifting the rest
  std::deque<LogRecord> logs;
  bool stopping = false;
  bool stopped = false;
  Clock::time_point stop_deadline{};
  std::array<SignalStats, 3> stats{};  // under mu
  std::thread thread;

  // Reused between batches (the exporter thread only).
  std::string body;
  std::string compressed;

  bool exports(Signal s) const {
    switch (s) {
      case Signal::traces:
        return options.traces_endpoint.has_value();
      case Signal::metrics:
        return options.metrics_endpoint.has_value();
      case Signal::logs:
        return options.logs_endpoint.has_value();
    }
    return false;
  }
  const http::Url& endpoint(Signal s) const {
    switch (s) {
      case Signal::traces:
        return *options.traces_endpoint;
      case Signal::metrics:
        return *options.metrics_endpoint;
      case Signal::logs:
        break;
    }
    return *options.logs_endpoint;
  }

  void run();
  void send(Signal signal, size_t items);  // body holds the encoded request
  template <class T>
  void flush(Signal signal, std::deque<T>& queue, bool all);
  void export_metrics();
  // Waits until `until` or stop (the back-off): false when stopping made the wait moot.
  bool wait_backoff(Clock::time_point until);
};

void OtlpExporter::State::send(Signal signal, size_t items) {
  const bool json = options.protocol == OtlpProtocol::json;
  http::ClientRequest request;
  request.method = "POST";
  request.url = endpoint(signal).origin() + endpoint(signal).target;
  request.timeout = options.timeout;
  request.headers.emplace_back("Content-Type", json ? "application/json" : "application/x-protobuf");
  for (const auto& h : options.headers) request.headers.push_back(h);
  if (options.gzip) {
    gzip_into(compressed, body);
    request.headers.emplace_back("Content-Encoding", "gzip");
  }
  // The encoded bytes stay in body / compressed (reused between batches); each attempt copies
  // them once into its request.
  const std::string& payload = options.gzip ? compressed : body;

  for (int attempt = 1;; ++attempt) {
    // The answer arrives on the client's io thread; this thread waits for it on the state's
    // condition variable, so a shutdown whose deadline passes ends the wait (the call is then
    // abandoned: the client drops it when it is destroyed).
    auto slot = std::make_shared<std::optional<http::ClientResult>>();
    http::ClientRequest attempt_request = request;  // method, url, headers; the body next
    attempt_request.body.assign(payload);
    client->call(std::move(attempt_request), [this, slot](http::ClientResult r) {
      {
        std::lock_guard lock(mu);
        *slot = std::move(r);
      }
      cv.notify_all();
    });
    http::ClientResult result;
    {
      std::unique_lock lock(mu);
      const auto call_deadline = Clock::now() + options.timeout + std::chrono::seconds(2);
      while (!slot->has_value()) {
        auto until = call_deadline;
        if (stopping) until = std::min(until, stop_deadline);
        if (Clock::now() >= until) break;
        cv.wait_until(lock, until);
      }
      if (slot->has_value()) {
        result = std::move(**slot);
      } else {
        result.outcome = http::ClientOutcome::timeout;
        result.error = stopping && Clock::now() >= stop_deadline
                           ? "no answer before the shutdown deadline"
                           : "no answer within the timeout";
        if (stopping && Clock::now() >= stop_deadline) {
          auto& st = stats[static_cast<size_t>(signal)];
          st.failed += items;
          ++st.requests;
          st.last_error = result.error;
          return;
        }
      }
    }

    if (result.outcome == http::ClientOutcome::ok && result.status >= 200 && result.status < 300) {
      const PartialSuccess partial = parse_partial_success(result.body, json);
      std::lock_guard lock(mu);
      auto& st = stats[static_cast<size_t>(signal)];
      const uint64_t rejected =
          std::min<uint64_t>(items, static_cast<uint64_t>(std::max<int64_t>(0, partial.rejected)));
      st.sent += items - rejected;
      st.rejected += rejected;
      st.failed += rejected;
      ++st.requests;
      if (rejected > 0) {
        st.last_error = fmt::format("{} {} rejected: {}", rejected, signal_name(signal),
                                    partial.error_message);
      }
      return;
    }
    const std::string why = http::describe(result);
    const bool retry = otlp_retryable(result) && attempt < options.max_attempts;
    {
      std::lock_guard lock(mu);
      auto& st = stats[static_cast<size_t>(signal)];
      st.last_error = why;
      if (!retry) {
        st.failed += items;
        ++st.requests;
        return;
      }
      ++st.retried;
    }
    auto delay = http::backoff_delay(attempt, options.initial_backoff, options.max_backoff,
                                     http::jitter_bits());
    if (auto asked = http::retry_after(result, core::unix_now_s())) {
      delay = std::min(*asked, std::chrono::milliseconds(60'000));
    }
    if (!wait_backoff(Clock::now() + delay)) {
      // Shutting down and the deadline would pass: this batch fails now.
      std::lock_guard lock(mu);
      auto& st = stats[static_cast<size_t>(signal)];
      st.failed += items;
      ++st.requests;
      return;
    }
  }
}

bool OtlpExporter::State::wait_backoff(Clock::time_point until) {
  std::unique_lock lock(mu);
  if (stopping && until >= stop_deadline) return false;
  cv.wait_until(lock, until, [&] { return stopping && until >= stop_deadline; });
  return !(stopping && until >= stop_deadline);
}

template <class T>
void OtlpExporter::State::flush(Signal signal, std::deque<T>& queue, bool all) {
  std::vector<T> batch;
  while (true) {
    {
      std::lock_guard lock(mu);
      // A partial batch goes only when its time is up (all) or at shutdown.
      if (queue.empty() || (!all && queue.size() < options.max_batch)) return;
      const size_t n = std::min(queue.size(), options.max_batch);
      batch.clear();
      batch.reserve(n);
      std::move(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(n),
                std::back_inserter(batch));
      queue.erase(queue.begin(), queue.begin() + static_cast<std::ptrdiff_t>(n));
    }
    body.clear();
    const bool json = options.protocol == OtlpProtocol::json;
    if constexpr (std::is_same_v<T, Span>) {
      json ? encode_traces_json(body, options.resource, batch)
           : encode_traces_proto(body, options.resource, batch);
    } else {
      json ? encode_logs_json(body, options.resource, batch)
           : encode_logs_proto(body, options.resource, batch);
    }
    send(signal, batch.size());
    {
      std::lock_guard lock(mu);
      if (!all && queue.size() < options.max_batch) return;
      if (stopping && Clock::now() >= stop_deadline) return;
    }
  }
}

void OtlpExporter::State::export_metrics() {
  if (!exports(Signal::metrics)) return;
  std::vector<MetricData> metrics;
  {
    std::lock_guard lock(collect_mu);
    if (!collect_metrics) return;
    metrics = collect_metrics();
  }
  if (metrics.empty()) return;
  size_t points = 0;
  for (const auto& m : metrics) points += m.numbers.size() + m.histograms.size();
  body.clear();
  if (options.protocol == OtlpProtocol::json) {
    encode_metrics_json(body, options.resource, metrics);
  } else {
    encode_metrics_proto(body, options.resource, metrics);
  }
  send(Signal::metrics, points);
}

void OtlpExporter::State::run() {
  auto next_batch = Clock::now() + options.batch_delay;
  auto next_metrics = Clock::now() + options.metric_interval;
  while (true) {
    bool stop_now = false;
    {
      std::unique_lock lock(mu);
      cv.wait_until(lock, std::min(next_batch, next_metrics), [&] {
        return stopping || spans.size() >= options.max_batch || logs.size() >= options.max_batch;
      });
      stop_now = stopping;
    }
    if (stop_now) break;
    const auto now = Clock::now();
    const bool batch_due = now >= next_batch;
    if (batch_due) next_batch = now + options.batch_delay;
    if (exports(Signal::traces)) flush(Signal::traces, spans, batch_due);
    if (exports(Signal::logs)) flush(Signal::logs, logs, batch_due);
    if (now >= next_metrics) {
      next_metrics = now + options.metric_interval;
      export_metrics();
    }
  }
  // Shutdown: everything queued, then the final metrics, while the deadline lasts.
  if (exports(Signal::traces)) flush(Signal::traces, spans, true);
  if (exports(Signal::logs)) flush(Signal::logs, logs, true);
  if (Clock::now() < stop_deadline) export_metrics();
  std::lock_guard lock(mu);
  stats[static_cast<size_t>(Signal::traces)].dropped += spans.size();
  stats[static_cast<size_t>(Signal::logs)].dropped += logs.size();
  spans.clear();
  logs.clear();
}

OtlpExporter::OtlpExporter(OtlpOptions options,
                           std::function<std::vector<MetricData>()> collect_metrics)
    : state_(std::make_shared<State>()) {
  state_->options = std::move(options);
  state_->collect_metrics = std::move(collect_metrics);
  if (state_->options.max_batch == 0) state_->options.max_batch = 1;
  state_->client = std::make_unique<http::AsyncClient>();
  if (state_->options.any()) {
    state_->thread = std::thread([s = state_.get()] { s->run(); });
  }
}

OtlpExporter::~OtlpExporter() {
  shutdown();
}

bool OtlpExporter::add_span(Span span) {
  if (!state_->exports(Signal::traces)) return false;
  bool wake = false;
  {
    std::lock_guard lock(state_->mu);
    if (state_->stopping || state_->spans.size() >= state_->options.max_queue) {
      ++state_->stats[0].dropped;
      return false;
    }
    state_->spans.push_back(std::move(span));
    wake = state_->spans.size() == state_->options.max_batch;
  }
  if (wake) state_->cv.notify_all();
  return true;
}

size_t OtlpExporter::add_spans(std::vector<Span>& spans) {
  if (!state_->exports(Signal::traces) || spans.empty()) return 0;
  size_t taken = 0;
  bool wake = false;
  {
    std::lock_guard lock(state_->mu);
    const size_t room = state_->stopping ? 0
                        : state_->options.max_queue > state_->spans.size()
                            ? state_->options.max_queue - state_->spans.size()
                            : 0;
    taken = std::min(room, spans.size());
    for (size_t i = 0; i < taken; ++i) state_->spans.push_back(std::move(spans[i]));
    state_->stats[0].dropped += spans.size() - taken;
    wake = state_->spans.size() >= state_->options.max_batch;
  }
  spans.clear();
  if (wake) state_->cv.notify_all();
  return taken;
}

bool OtlpExporter::add_log(LogRecord log) {
  if (!state_->exports(Signal::logs)) return false;
  bool wake = false;
  {
    std::lock_guard lock(state_->mu);
    if (state_->stopping || state_->logs.size() >= state_->options.max_queue) {
      ++state_->stats[2].dropped;
      return false;
    }
    state_->logs.push_back(std::move(log));
    wake = state_->logs.size() == state_->options.max_batch;
  }
  if (wake) state_->cv.notify_all();
  return true;
}

void OtlpExporter::shutdown() {
  {
    std::lock_guard lock(state_->mu);
    if (state_->stopped) return;
    state_->stopped = true;
    state_->stopping = true;
    state_->stop_deadline = Clock::now() + state_->options.shutdown_deadline;
  }
  state_->cv.notify_all();
  if (state_->thread.joinable()) state_->thread.join();
  // Calls still in flight past the deadline are dropped with the client.
  state_->client.reset();
}

void OtlpExporter::set_metrics_source(std::function<std::vector<MetricData>()> collect_metrics) {
  std::lock_guard lock(state_->collect_mu);
  state_->collect_metrics = std::move(collect_metrics);
}

SignalStats OtlpExporter::stats(Signal signal) const {
  std::lock_guard lock(state_->mu);
  return state_->stats[static_cast<size_t>(signal)];
}

size_t OtlpExporter::queued(Signal signal) const {
  std::lock_guard lock(state_->mu);
  switch (signal) {
    case Signal::traces:
      return state_->spans.size();
    case Signal::logs:
      return state_->logs.size();
    case Signal::metrics:
      break;
  }
  return 0;
}

size_t OtlpExporter::room(Signal signal) const {
  if (!state_->exports(signal) || signal == Signal::metrics) return 0;
  std::lock_guard lock(state_->mu);
  if (state_->stopping) return 0;
  const size_t queued = signal == Signal::traces ? state_->spans.size() : state_->logs.size();
  return queued < state_->options.max_queue ? state_->options.max_queue - queued : 0;
}

void OtlpExporter::count_dropped(Signal signal, uint64_t n) {
  if (n == 0 || !state_->exports(signal)) return;
  std::lock_guard lock(state_->mu);
  state_->stats[static_cast<size_t>(signal)].dropped += n;
}

const OtlpOptions& OtlpExporter::options() const {
  return state_->options;
}

bool OtlpExporter::exports(Signal signal) const {
  return state_->exports(signal);
}

void OtlpExporter::register_metrics(Registry& registry) {
  auto& items = registry.counter("trafficsim_otlp_items_total",
                                 "OTLP items by signal and outcome (sent, dropped, failed) and "
                                 "requests retried (outcome retried)",
                                 {"signal", "outcome"});
  auto& queue = registry.gauge("trafficsim_otlp_queue_items", "OTLP items waiting to be sent",
                               {"signal"});
  std::weak_ptr<State> weak = state_;
  // Counters only go up: each scrape adds what changed since the last one.
  auto last = std::make_shared<std::array<SignalStats, 3>>();
  registry.on_collect([weak, last, &items, &queue] {
    auto s = weak.lock();
    if (!s) return;
    std::array<SignalStats, 3> now;
    size_t queued[3] = {0, 0, 0};
    {
      std::lock_guard lock(s->mu);
      now = s->stats;
      queued[0] = s->spans.size();
      queued[2] = s->logs.size();
    }
    for (int i = 0; i < 3; ++i) {
      if (!s->exports(static_cast<Signal>(i))) continue;
      const std::string_view name = signal_name(static_cast<Signal>(i));
      auto add = [&](std::string_view outcome, uint64_t value, uint64_t before) {
        items.with({name, outcome}).inc(static_cast<double>(value - before));
      };
      add("sent", now[i].sent, (*last)[i].sent);
      add("dropped", now[i].dropped, (*last)[i].dropped);
      add("failed", now[i].failed, (*last)[i].failed);
      add("retried", now[i].retried, (*last)[i].retried);
      queue.with({name}).set(static_cast<double>(queued[i]));
    }
    *last = now;
  });
}

boost::json::object OtlpExporter::stats_json() const {
  boost::json::object out;
  std::lock_guard lock(state_->mu);
  for (int i = 0; i < 3; ++i) {
    if (!state_->exports(static_cast<Signal>(i))) continue;
    const auto& st = state_->stats[i];
    boost::json::object o{{"sent", st.sent},
                           {"dropped", st.dropped},
                           {"failed", st.failed},
                           {"retried", st.retried}};
    if (st.rejected > 0) o["rejected"] = st.rejected;
    if (!st.last_error.empty()) o["last_error"] = st.last_error;
    out[signal_name(static_cast<Signal>(i))] = std::move(o);
  }
  return out;
}

}  // namespace trafficsim::telemetry
