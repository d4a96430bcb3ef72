#include "incidents/pagerduty.hpp"

#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "core/clock.hpp"
#include "core/utf8.hpp"
#include "http/url.hpp"
#include "http/retry_policy.hpp"

namespace trafficsim::incidents {

namespace json = boost::json;
using http::backoff_delay;
using http::jitter_bits;

namespace {

constexpr size_t kMaxSummaryBytes = 1024;  // PagerDuty's limit for payload.summary
constexpr size_t kDetailHypotheses = 3;

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) == 0 && buf[0] != '\0') return buf;
  return "trafficsim";
}

// Hypotheses by confidence, most confident first (stable: ties keep their order).
std::vector<const Hypothesis*> by_confidence(const std::vector<Hypothesis>& hypotheses) {
  std::vector<const Hypothesis*> out;
  for (const auto& h : hypotheses) out.push_back(&h);
  std::stable_sort(out.begin(), out.end(), [](const Hypothesis* a, const Hypothesis* b) {
    return a->confidence > b->confidence;
  });
  return out;
}

// An absolute http:// or https:// URL, or std::invalid_argument naming `what`.
void check_url(std::string_view url, std::string_view what) {
  std::string error;
  if (!http::parse_url(url, &error))
    throw std::invalid_argument(std::string(what) + ": '" + std::string(url) + "' is not a URL (" +
                                error + ")");
}

void check_routing_key(std::string_view key, std::string_view what) {
  if (key.empty()) throw std::invalid_argument(std::string(what) + ": must not be empty");
  for (char c : key)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      throw std::invalid_argument(std::string(what) +
                                  ": must not hold whitespace or control characters");
}

}  // namespace

std::string_view to_string(PagerDutyAction action) {
  switch (action) {
    case PagerDutyAction::trigger:
      return "trigger";
    case PagerDutyAction::acknowledge:
      return "acknowledge";
    case PagerDutyAction::resolve:
      return "resolve";
  }
  return "trigger";
}

std::string pagerduty_dedup_key(const Incident& incident) {
  return "trafficsim-" + incident.id;
}

std::string_view pagerduty_severity(std::string_view severity) {
  if (severity == "critical" || severity == "page") return "critical";
  if (severity == "high") return "error";
  if (severity == "medium" || severity == "ticket") return "warning";
  if (severity == "low") return "info";
  return "error";
}

json::object pagerduty_event(const Incident& incident, PagerDutyAction action,
                             std::string_view routing_key, std::string_view source) {
  json::object event;
  event["routing_key"] = routing_key;
  event["event_action"] = to_string(action);
  event["dedup_key"] = pagerduty_dedup_key(incident);
  if (action != PagerDutyAction::trigger) return event;

  const auto ranked = by_confidence(incident.hypotheses);
  json::object payload;
  payload["summary"] = core::utf8_prefix(
      incident.title.empty() ? "trafficsim incident " + incident.id : incident.title,
      kMaxSummaryBytes);
  payload["source"] = source.empty() ? std::string_view("trafficsim") : source;
  payload["severity"] = pagerduty_severity(incident.severity);
  payload["timestamp"] = core::format_rfc3339(incident.created_at, 3);
  if (!incident.service.empty()) payload["component"] = incident.service;
  if (auto it = incident.labels.find("group"); it != incident.labels.end())
    payload["group"] = it->second;
  else if (auto job = incident.labels.find("job"); job != incident.labels.end())
    payload["group"] = job->second;
  if (!ranked.empty()) payload["class"] = ranked.front()->category;

  json::object details;
  details["incident_id"] = incident.id;
  details["status"] = to_string(incident.status);
  details["severity"] = incident.severity;
  details["source"] = to_string(incident.source);
  if (!incident.monitor_id.empty()) details["monitor_id"] = incident.monitor_id;
  if (!incident.labels.empty()) {
    json::object labels;
    for (const auto& [k, v] : incident.labels) labels[k] = v;
    details["labels"] = std::move(labels);
  }
  json::array hypotheses;
  for (size_t i = 0; i < ranked.size() && i < kDetailHypotheses; ++i) {
    hypotheses.push_back(json::object{{"category", ranked[i]->category},
                                      {"description", ranked[i]->description},
                                      {"confidence", ranked[i]->confidence}});
  }
  details["hypotheses"] = std::move(hypotheses);
  if (!incident.dashboard_url.empty()) details["dashboard_url"] = incident.dashboard_url;
  payload["custom_details"] = std::move(details);
  event["payload"] = std::move(payload);

  event["client"] = "trafficsim";
  if (!incident.dashboard_url.empty()) {
    event["client_url"] = incident.dashboard_url;
    event["links"] = json::array{
        json::object{{"href", incident.dashboard_url}, {"text", "trafficsim incident"}}};
  }
  return event;
}

std::optional<PagerDutyOptions> pagerduty_options_from(
    std::string_view url_flag, const std::function<const char*(const char*)>& getenv_fn) {
  auto env = [&](const char* name) -> std::optional<std::string> {
    const char* value = getenv_fn ? getenv_fn(name) : nullptr;
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
  const auto env_url = env("TRAFFICSIM_PAGERDUTY_URL");
  const auto key = env("PAGERDUTY_ROUTING_KEY");
  if (url_flag.empty() && !env_url && !key) return std::nullopt;

  PagerDutyOptions options;
  if (!url_flag.empty()) {
    check_url(url_flag, "--notify-pagerduty");
    options.url = std::string(url_flag);
  } else if (env_url) {
    check_url(*env_url, "TRAFFICSIM_PAGERDUTY_URL");
    options.url = *env_url;
  } else {
    check_url(options.url, "PAGERDUTY_ROUTING_KEY (sending to PagerDuty's default URL)");
  }
  if (!key) {
    throw std::invalid_argument(
        std::string(url_flag.empty() ? "TRAFFICSIM_PAGERDUTY_URL" : "--notify-pagerduty") +
        ": needs PAGERDUTY_ROUTING_KEY (the integration key of a PagerDuty Events v2 service)");
  }
  check_routing_key(*key, "PAGERDUTY_ROUTING_KEY");
  options.routing_key = *key;
  if (const auto ca_file = env("TRAFFICSIM_CA_FILE"); ca_file && !ca_file->empty()) {
    std::string why;
    if (!http::check_ca_file(*ca_file, &why))
      throw std::invalid_argument("TRAFFICSIM_CA_FILE: " + why);
    options.ca_file = *ca_file;
  }
  return options;
}

PagerDutyNotifier::PagerDutyNotifier(PagerDutyOptions options)
    : options_([&] {
        check_routing_key(options.routing_key, "PagerDuty routing key");
        check_url(options.url, "PagerDuty URL");
        if (options.queue_capacity == 0)
          throw std::invalid_argument("PagerDuty queue capacity: must be at least 1");
        if (options.max_attempts < 1)
          throw std::invalid_argument("PagerDuty max attempts: must be at least 1");
        if (options.source.empty()) options.source = host_name();
        return std::move(options);
      }()),
      client_(http::ClientTlsOptions{options_.ca_file}) {
  worker_ = std::thread([this] { run(); });
}

PagerDutyNotifier::~PagerDutyNotifier() {
  stop();
}

bool PagerDutyNotifier::notify(const Incident& incident, PagerDutyAction action) {
  std::string body =
      json::serialize(pagerduty_event(incident, action, options_.routing_key, options_.source));
  std::lock_guard lock(mutex_);
  if (stopping_ || queue_.size() >= options_.queue_capacity) {
    ++stats_.dropped;
    return false;
  }
  queue_.push_back(std::move(body));
  cv_.notify_all();
  return true;
}

bool PagerDutyNotifier::flush(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return cv_.wait_until(lock, deadline, [&] { return queue_.empty() && !busy_; });
}

void PagerDutyNotifier::stop() {
  {
    std::unique_lock lock(mutex_);
    if (!worker_.joinable()) return;
    stopping_ = true;
    cv_.notify_all();
    cv_.wait_for(lock, options_.shutdown_grace, [&] { return queue_.empty() && !busy_; });
    abort_ = true;
    cv_.notify_all();
  }
  worker_.join();
}

PagerDutyStats PagerDutyNotifier::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void PagerDutyNotifier::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    cv_.wait(lock, [&] { return abort_ || stopping_ || !queue_.empty(); });
    if (abort_ || queue_.empty()) break;  // aborted, or stopping with nothing left
    std::string body = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    switch (deliver(lock, body)) {
      case Delivery::sent:
        ++stats_.sent;
        break;
      case Delivery::failed:
        ++stats_.failed;
        break;
      case Delivery::abandoned:
        ++stats_.dropped;
        break;
    }
    busy_ = false;
    cv_.notify_all();  // flush() and stop() wait for the queue to drain
  }
  stats_.dropped += queue_.size();
  queue_.clear();
  busy_ = false;
  cv_.notify_all();
}

// Called and returns with the lock held; releases it while a call is in flight or backing off.
PagerDutyNotifier::Delivery PagerDutyNotifier::deliver(std::unique_lock<std::mutex>& lock,
                                                       const std::string& body) {
  for (int attempt = 1;; ++attempt) {
    http::ClientRequest request;
    request.method = "POST";
    request.url = options_.url;
    request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    request.body = body;
    request.timeout = options_.timeout;
    const uint64_t generation = ++call_generation_;
    reply_.reset();
    lock.unlock();
    client_.call(std::move(request), [this, generation](http::ClientResult result) {
      std::lock_guard guard(mutex_);
      if (generation != call_generation_) return;
      reply_ = std::move(result);
      cv_.notify_all();
    });
    lock.lock();
    cv_.wait(lock, [&] { return abort_ || reply_.has_value(); });
    if (abort_) return Delivery::abandoned;
    const http::ClientResult result = std::move(*reply_);
    reply_.reset();
    if (is_success(result)) return Delivery::sent;
    stats_.last_error = describe(result);
    if (!is_retryable(result) || attempt >= options_.max_attempts) return Delivery::failed;

    auto delay =
        backoff_delay(attempt, options_.initial_backoff, options_.max_backoff, jitter_bits());
    if (result.status == 429 || result.status == 503)
      if (auto asked = retry_after(result, core::unix_now_s()))
        delay = std::min(*asked, options_.max_backoff);
    ++stats_.retried;
    // The one wait here that is not for an event: stop() interrupts it.
    if (cv_.wait_for(lock, delay, [&] { return abort_; })) return Delivery::abandoned;
  }
}

}  // namespace trafficsim::incidents
