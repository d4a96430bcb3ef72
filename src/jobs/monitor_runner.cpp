#include "jobs/monitor_runner.hpp"

#include <algorithm>
#include <chrono>

#include "core/clock.hpp"
#include "http/simple_get.hpp"
#include "http/url.hpp"
#include "telemetry/exposition_parser.hpp"

namespace trafficsim::jobs {

namespace json = boost::json;

std::function<std::optional<std::string>(std::string*)> url_scrape(const std::string& url) {
  return [url](std::string* error) -> std::optional<std::string> {
    auto parsed = http::parse_url(url, error);
    if (!parsed) return std::nullopt;
    auto r = http::simple_get(*parsed, std::chrono::seconds(2), error, 16 << 20);
    if (!r) return std::nullopt;
    if (r->status != 200) {
      *error = "status " + std::to_string(r->status);
      return std::nullopt;
    }
    return std::move(r->body);
  };
}

MonitorRunner::MonitorRunner(MonitorRunnerOptions options)
    : options_(std::move(options)),
      set_(options_.monitors, options_.time_scale),
      interval_s_(options_.interval_s > 0
                      ? options_.interval_s
                      : std::max(0.1, 1.0 / (options_.time_scale > 0 ? options_.time_scale : 1))) {}

MonitorRunner::~MonitorRunner() {
  stop();
}

void MonitorRunner::on_event(std::function<void(const monitors::MonitorEvent&)> fn) {
  std::lock_guard lock(mu_);
  listeners_.push_back(std::move(fn));
}

void MonitorRunner::start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { loop(); });
}

void MonitorRunner::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<monitors::MonitorEvent> MonitorRunner::tick() {
  std::lock_guard one(tick_mu_);
  std::string error;
  std::optional<std::string> text = options_.scrape ? options_.scrape(&error) : std::nullopt;
  // A failed scrape is a scrape with no samples: every window goes without data, which each
  // monitor's no_data policy judges (by default: keep the state, no false recovery).
  telemetry::Exposition scrape;
  if (text) scrape = telemetry::parse_exposition(*text);
  auto events = set_.observe(scrape, core::unix_now_s());
  std::vector<std::function<void(const monitors::MonitorEvent&)>> listeners;
  {
    std::lock_guard lock(mu_);
    if (!text) {
      ++scrape_errors_;
      last_error_ = error.empty() ? "no scrape source" : error;
    }
    for (const auto& e : events) {
      events_.push_back(e);
      if (events_.size() > kMaxEvents) events_.pop_front();
    }
    listeners = listeners_;
  }
  for (const auto& e : events)
    for (const auto& fn : listeners) fn(e);
  return events;
}

void MonitorRunner::loop() {
  auto next = std::chrono::steady_clock::now();
  const auto every = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(interval_s_));
  for (;;) {
    tick();
    next += every;
    auto now = std::chrono::steady_clock::now();
    if (next < now) next = now;  // a slow scrape: the next one goes at once, none piles up
    std::unique_lock lock(mu_);
    if (cv_.wait_until(lock, next, [this] { return stopping_; })) return;
  }
}

json::object MonitorRunner::to_json() const {
  json::array monitors = set_.to_json();
  std::lock_guard lock(mu_);
  json::array events;
  for (auto it = events_.rbegin(); it != events_.rend() && events.size() < 100; ++it)
    events.push_back(it->to_json());
  return json::object{{"source", options_.source_name},
                      {"timeScale", set_.time_scale()},
                      {"intervalSeconds", interval_s_},
                      {"scrapeErrors", scrape_errors_},
                      {"lastError", last_error_},
                      {"monitors", std::move(monitors)},
                      {"events", std::move(events)}};
}

}  // namespace trafficsim::jobs
