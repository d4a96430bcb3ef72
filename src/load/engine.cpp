#include "load/engine.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

#include "core/clock.hpp"
#include "load/worker.hpp"

namespace trafficsim::load {

namespace {

constexpr size_t kMaxTimePoints = 1200;  // then halve: memory stays bounded for any run length
constexpr int64_t kThreadLeadNs = 2'000'000;  // workers are started this long before t = 0

// Raises the soft open-file limit to cover `needed` descriptors, or explains why it cannot.
void ensure_file_limit(uint64_t needed) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= needed) return;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < needed) {
    uint64_t possible = rl.rlim_max > 64 ? rl.rlim_max - 64 : 0;
    throw StartError(
        fmt::format("{} connections need about {} open files, but this system allows at most {} "
                    "(ulimit -Hn); use at most {} connections or raise the hard limit",
                    needed - 64, needed, static_cast<uint64_t>(rl.rlim_max), possible));
  }
  rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? needed : rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
    throw StartError(fmt::format("cannot raise the open-file limit to {}", needed));
}

void halve(std::vector<TimePoint>& points) {
  std::vector<TimePoint> out;
  out.reserve(points.size() / 2 + 1);
  for (size_t i = 0; i + 1 < points.size(); i += 2) {
    const TimePoint& a = points[i];
    const TimePoint& b = points[i + 1];
    // Percentiles cannot be averaged honestly; keep the worse of the two.
    out.push_back({b.t_s, (a.rps + b.rps) / 2, (a.error_ratio + b.error_ratio) / 2,
                   std::max(a.p50_us, b.p50_us), std::max(a.p95_us, b.p95_us),
                   std::max(a.p99_us, b.p99_us)});
  }
  if (points.size() % 2) out.push_back(points.back());
  points.swap(out);
}

StreamSnapshot summarize(const std::string& name, const EndpointStats& interval,
                         const EndpointStats& cumulative, double interval_s) {
  StreamSnapshot s;
  s.name = name;
  uint64_t done = interval.completed();
  s.interval_rps = interval_s > 0 ? static_cast<double>(done) / interval_s : 0;
  s.interval_sent_rps = interval_s > 0 ? static_cast<double>(interval.requests) / interval_s : 0;
  s.in_flight = cumulative.requests > cumulative.completed()
                    ? cumulative.requests - cumulative.completed()
                    : 0;
  s.interval_error_ratio =
      done ? static_cast<double>(interval.errors()) / static_cast<double>(done) : 0;
  s.interval_p50_us = interval.corrected.percentile(50);
  s.interval_p95_us = interval.corrected.percentile(95);
  s.interval_p99_us = interval.corrected.percentile(99);
  s.interval_p90_us = interval.corrected.percentile(90);
  s.interval_p999_us = interval.corrected.percentile(99.9);
  s.interval_mean_us = interval.corrected.mean();
  s.interval_expected_failure_ratio =
      done ? static_cast<double>(interval.expected_failures) / static_cast<double>(done) : 0;
  s.requests = cumulative.requests;
  s.errors = cumulative.errors();
  s.completed = cumulative.completed();
  s.expected_failures = cumulative.expected_failures;
  s.dropped = cumulative.dropped;
  s.lateness_p99_us = cumulative.send_lateness.percentile(99);
  return s;
}

TimePoint point_of(double t_s, const StreamSnapshot& s) {
  return {t_s, s.interval_rps, s.interval_error_ratio, s.interval_p50_us, s.interval_p95_us,
          s.interval_p99_us};
}

// Checks what the workers rely on: mix groups that can always choose, sane gap jitter.
void validate_plan(const Plan& plan) {
  for (const auto& s : plan.streams) {
    auto fail = [&s](const std::string& why) {
      throw std::invalid_argument(fmt::format("stream '{}': {}", s.name, why));
    };
    if (s.gap_jitter_s) {
      auto [a, b] = *s.gap_jitter_s;
      if (!std::isfinite(a) || !std::isfinite(b) || a < 0 || b < a)
        fail(fmt::format("gap jitter [{}, {}] s must satisfy 0 <= min <= max", a, b));
    }
    if (s.groups.empty()) continue;
    std::vector<size_t> members(s.groups.size(), 0);
    std::vector<double> weights(s.groups.size(), 0);
    for (const auto& t : s.requests) {
      if (t.group >= s.groups.size())
        fail(fmt::format("request '{}' is in group {}, but the stream has {} group{}", t.name,
                         t.group, s.groups.size(), s.groups.size() == 1 ? "" : "s"));
      ++members[t.group];
      weights[t.group] += std::max(0.0, t.weight);
    }
    double total = 0;
    for (size_t g = 0; g < s.groups.size(); ++g) {
      const MixGroup& mg = s.groups[g];
      if (!std::isfinite(mg.weight) || mg.weight < 0)
        fail(fmt::format("group {} has weight {}; weights must be finite and >= 0", g,
                         mg.weight));
      if (members[g] == 0) fail(fmt::format("group {} has no requests", g));
      if (!mg.rotate && mg.weight > 0 && !(weights[g] > 0))
        fail(fmt::format("every request of group {} has weight 0", g));
      total += mg.weight;
    }
    if (!(total > 0)) fail("every mix group has weight 0");
  }
}

}  // namespace

struct Engine::Impl {
  std::vector<std::vector<http::ResolvedAddress>> addresses;
  SSL_CTX* ssl_ctx = nullptr;
  std::vector<std::unique_ptr<Worker>> workers;
  std::mutex workers_mu;  // guards `workers` while run() creates them (stop() may race)
  std::atomic<bool> stopping{false};
  int control_fd = -1;  // eventfd: stop requested or a worker finished
  std::atomic<int> finished{0};
  int threads = 1;

  ~Impl() {
    if (ssl_ctx) SSL_CTX_free(ssl_ctx);
    if (control_fd >= 0) ::close(control_fd);
  }
  void poke() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(control_fd, &one, sizeof one);
  }
};

Engine::Engine(Plan plan) : plan_(std::move(plan)), impl_(std::make_unique<Impl>()) {
  if (plan_.streams.empty()) throw StartError("the plan has no streams");
  validate_plan(plan_);
  impl_->control_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  std::map<std::pair<std::string, uint16_t>, std::vector<http::ResolvedAddress>> cache;
  bool any_tls = false;
  uint64_t total_connections = 0;
  for (const auto& s : plan_.streams) {
    if (s.requests.empty()) throw StartError(fmt::format("stream '{}' has no requests", s.name));
    auto key = std::make_pair(s.url.host, s.url.port);
    auto it = cache.find(key);
    if (it == cache.end()) {
      std::string error;
      auto addrs = http::resolve(s.url.host, s.url.port, &error);
      if (addrs.empty()) throw StartError(error);
      it = cache.emplace(key, std::move(addrs)).first;
    }
    impl_->addresses.push_back(it->second);
    any_tls = any_tls || s.url.tls();
    total_connections += static_cast<uint64_t>(std::max(1, s.connections));
  }
  ensure_file_limit(total_connections + 64);
  if (any_tls) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) throw StartError("cannot create a TLS context");
    impl_->ssl_ctx = ctx;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (plan_.tls.verify) {
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
      SSL_CTX_set_default_verify_paths(ctx);
    } else {
      SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    }
    if (!plan_.tls.ca_file.empty() &&
        SSL_CTX_load_verify_locations(ctx, plan_.tls.ca_file.c_str(), nullptr) != 1) {
      throw StartError(fmt::format("cannot load CA file '{}'", plan_.tls.ca_file));
    }
  }
  impl_->threads = std::max(1, plan_.threads);
}

Engine::~Engine() = default;

void Engine::stop() {
  impl_->stopping.store(true);
  {
    std::lock_guard lock(impl_->workers_mu);
    for (auto& w : impl_->workers) w->stop();
  }
  impl_->poke();
}

void Engine::wait_until(int64_t deadline_ns, int external_stop_fd) {
  for (;;) {
    if (impl_->stopping.load()) return;
    int64_t left = deadline_ns - core::monotonic_now_ns();
    if (left <= 0) return;
    pollfd fds[2] = {{impl_->control_fd, POLLIN, 0}, {external_stop_fd, POLLIN, 0}};
    timespec ts{static_cast<time_t>(left / 1'000'000'000), static_cast<long>(left % 1'000'000'000)};
    int r = ::ppoll(fds, external_stop_fd >= 0 ? 2 : 1, &ts, nullptr);
    if (r > 0 && (fds[0].revents & POLLIN)) {
      uint64_t v;
      while (::read(impl_->control_fd, &v, sizeof v) > 0) {
      }
    }
    if (r > 0 && external_stop_fd >= 0 && (fds[1].revents & POLLIN)) stop();
  }
}

RunResult Engine::run(const SnapshotFn& on_snapshot, int external_stop_fd) {
  RunResult result;
  result.threads = impl_->threads;
  result.stream_timeseries.resize(plan_.streams.size());
  const auto shares = plan_shares(plan_, impl_->threads);
  // Wall clock and CLOCK_MONOTONIC read together: t = 0 as a wall-clock instant and back.
  const int64_t mono0 = core::monotonic_now_ns();
  const int64_t unix0 = static_cast<int64_t>(core::unix_now_ns());
  int64_t start_ns = mono0 + kThreadLeadNs;  // let threads start before t = 0
  if (plan_.start_at) {
    start_ns = mono0 + (std::chrono::duration_cast<std::chrono::nanoseconds>(
                            plan_.start_at->time_since_epoch())
                            .count() -
                        unix0);
    wait_until(start_ns - kThreadLeadNs, external_stop_fd);
  }
  const int64_t end_ns = start_ns + plan_.duration.count();
  auto wall_of = [&](int64_t mono_ns) {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(mono_ns - mono0 + unix0)));
  };

  std::vector<std::thread> threads;
  {
    std::lock_guard lock(impl_->workers_mu);
    for (int w = 0; w < impl_->threads; ++w) {
      WorkerSetup setup;
      setup.plan = &plan_;
      setup.index = w;
      setup.shares = shares[w];
      setup.addresses = impl_->addresses;
      setup.ssl_ctx = impl_->ssl_ctx;
      setup.start_ns = start_ns;
      setup.end_ns = end_ns;
      impl_->workers.push_back(std::make_unique<Worker>(std::move(setup)));
    }
    for (auto& w : impl_->workers) {
      if (impl_->stopping.load()) w->stop();
      Worker* worker = w.get();
      threads.emplace_back([this, worker] {
        worker->run();
        impl_->finished.fetch_add(1);
        impl_->poke();
      });
    }
  }

  RunStats cumulative, interval;
  cumulative.streams.resize(plan_.streams.size());
  std::vector<ClientSpanRecord> span_scratch;  // tracing: each drain's client span records
  const double total_s = static_cast<double>(plan_.duration.count()) / 1e9;
  int64_t last_tick = start_ns;
  int64_t stopped_at = 0;
  int64_t next_tick = start_ns + std::chrono::nanoseconds(kSnapshotInterval).count();

  auto take_snapshot = [&](int64_t now) {
    interval.reset();
    interval.streams.resize(plan_.streams.size());
    for (auto& w : impl_->workers) w->drain(interval);
    cumulative.merge(interval);
    if (plan_.on_interval) plan_.on_interval(interval);
    if (plan_.trace_ratio > 0) {
      uint64_t dropped = 0;
      for (auto& w : impl_->workers) w->drain_spans(span_scratch, &dropped);
      if (plan_.on_spans && (!span_scratch.empty() || dropped > 0)) {
        plan_.on_spans(span_scratch, dropped);
      }
      span_scratch.clear();
    }
    Snapshot snap;
    snap.elapsed_s = std::max(0.0, static_cast<double>(now - start_ns) / 1e9);
    snap.interval_s = static_cast<double>(now - last_tick) / 1e9;
    snap.total_s = total_s;
    EndpointStats interval_total, cumulative_total;
    for (size_t i = 0; i < plan_.streams.size(); ++i) {
      EndpointStats it = interval.streams[i].total();
      EndpointStats ct = cumulative.streams[i].total();
      auto ss = summarize(plan_.streams[i].name, it, ct, snap.interval_s);
      if (plan_.model == LoadModel::open)
        ss.target_rps = plan_.streams[i].profile.rate_at(std::min(snap.elapsed_s, total_s)) /
                        plan_.segment.count;
      snap.streams.push_back(ss);
      interval_total.merge(it);
      cumulative_total.merge(ct);
    }
    snap.total = summarize("total", interval_total, cumulative_total, snap.interval_s);
    for (const auto& s : snap.streams) snap.total.target_rps += s.target_rps;
    snap.draining = snap.elapsed_s >= total_s || stopped_at != 0 || impl_->stopping.load();
    snap.saturated =
        plan_.model == LoadModel::open &&
        (snap.total.dropped > 0 || snap.total.lateness_p99_us > kSaturationLatenessP99Us);
    last_tick = now;
    if (snap.interval_s > 0.05) {
      // The stream series grow in step with the total one, so they halve together.
      if (result.timeseries.size() >= kMaxTimePoints) {
        halve(result.timeseries);
        for (auto& series : result.stream_timeseries) halve(series);
      }
      result.timeseries.push_back(point_of(snap.elapsed_s, snap.total));
      for (size_t i = 0; i < snap.streams.size(); ++i)
        result.stream_timeseries[i].push_back(point_of(snap.elapsed_s, snap.streams[i]));
    }
    if (on_snapshot) on_snapshot(snap);
  };

  const int n_workers = static_cast<int>(threads.size());
  while (impl_->finished.load() < n_workers) {
    int64_t now = core::monotonic_now_ns();
    if (now >= next_tick) {
      take_snapshot(now);
      next_tick += std::chrono::nanoseconds(kSnapshotInterval).count();
      if (next_tick <= now) next_tick = now + std::chrono::nanoseconds(kSnapshotInterval).count();
      continue;
    }
    pollfd fds[2] = {{impl_->control_fd, POLLIN, 0}, {external_stop_fd, POLLIN, 0}};
    int timeout_ms = static_cast<int>((next_tick - now + 999'999) / 1'000'000);
    int r = ::poll(fds, external_stop_fd >= 0 ? 2 : 1, timeout_ms);
    if (r > 0 && (fds[0].revents & POLLIN)) {
      uint64_t v;
      while (::read(impl_->control_fd, &v, sizeof v) > 0) {
      }
    }
    if (r > 0 && external_stop_fd >= 0 && (fds[1].revents & POLLIN) && !impl_->stopping.load()) {
      stop();
    }
    if (impl_->stopping.load() && stopped_at == 0) stopped_at = core::monotonic_now_ns();
  }
  for (auto& t : threads) t.join();
  int64_t now = core::monotonic_now_ns();
  if (impl_->stopping.load() && stopped_at == 0) stopped_at = now;
  take_snapshot(now);

  result.ended_at = std::chrono::system_clock::now();
  // started_at: the first request written by any worker; t = 0 when nothing was sent.
  int64_t first_send = 0;
  for (auto& w : impl_->workers)
    if (int64_t f = w->first_send_ns(); f != 0 && (first_send == 0 || f < first_send))
      first_send = f;
  result.started_at = wall_of(first_send != 0 ? first_send : start_ns);
  result.start_at = plan_.start_at;
  result.stats = std::move(cumulative);
  result.stopped_early = stopped_at != 0 && stopped_at < end_ns;
  int64_t issue_end = result.stopped_early ? stopped_at : end_ns;
  result.duration_s = std::max(1e-9, static_cast<double>(issue_end - start_ns) / 1e9);
  EndpointStats total = result.stats.total();
  if (plan_.model == LoadModel::open) {
    int64_t p99 = total.send_lateness.percentile(99);
    if (total.dropped > 0) {
      result.saturated = true;
      result.saturation_reason = fmt::format(
          "{} arrivals dropped: no free connection within the backlog bound; the generator or "
          "its connection cap is saturated, so the server was not tested at the planned rate",
          total.dropped);
    } else if (p99 > kSaturationLatenessP99Us) {
      result.saturated = true;
      result.saturation_reason = fmt::format(
          "send lateness p99 {:.1f} ms > 10 ms: the generator or its connection cap is "
          "saturated, so latency above may reflect the generator, not only the server",
          static_cast<double>(p99) / 1000.0);
    }
  }
  for (auto& w : impl_->workers) {
    for (auto& e : w->error_samples()) {
      if (result.error_samples.size() < 8 &&
          std::find(result.error_samples.begin(), result.error_samples.end(), e) ==
              result.error_samples.end())
        result.error_samples.push_back(e);
    }
  }
  return result;
}

}  // namespace trafficsim::load
