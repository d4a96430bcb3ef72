#pragma once
// Incidents to PagerDuty through the Events API v2 (POST {"routing_key", "event_action",
// "dedup_key", "payload", ...} to /v2/enqueue; PagerDuty answers 202). One incident is one
// PagerDuty alert: every event about it carries the dedup key "trafficsim-<incident id>", so a
// resolve closes what the trigger opened.
//
// Delivery (PagerDutyNotifier): notify() only queues — a bounded queue served by one thread of
// the notifier's own, in order (a resolve never overtakes its trigger). Each event is attempted
// up to max_attempts times: 2xx is sent; 429, 5xx, timeouts and connection failures are retried
// after an exponential back-off with jitter (a 429's Retry-After when it gives one); any other
// status (400: PagerDuty refused the event) fails at once. Every event ends counted exactly once:
// sent, failed or dropped (queue full, or still pending when the notifier stopped).
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <boost/json/object.hpp>

#include "http/async_client.hpp"
#include "incidents/incident_store.hpp"

namespace trafficsim::incidents {

inline constexpr std::string_view kPagerDutyEventsUrl = "https://events.pagerduty.com/v2/enqueue";

enum class PagerDutyAction { trigger, acknowledge, resolve };
std::string_view to_string(PagerDutyAction action);  // "trigger", "acknowledge", "resolve"

// "trafficsim-" + incident.id: the same for every event about one incident.
std::string pagerduty_dedup_key(const Incident& incident);

// PagerDuty's four severities from ours: critical and page -> critical, high -> error, medium and
// ticket -> warning, low -> info; anything else -> error (an incident was opened: not info).
std::string_view pagerduty_severity(std::string_view incident_severity);

// The event for `action`. A trigger carries the payload: summary (the title, at most 1 024 bytes,
// cut at a UTF-8 boundary), source, severity, component (the service), group (the incident's
// "group" or else "job" label, when it has one), class (the most confident hypothesis' category,
// when there is one), timestamp (created_at, RFC 3339), custom_details (id, status, severity,
// source, monitor, labels, the three most confident hypotheses, dashboard_url); and, when the
// incident has a dashboard_url, links and client_url. Acknowledge and resolve carry only
// routing_key, event_action and dedup_key, as PagerDuty documents.
boost::json::object pagerduty_event(const Incident& incident, PagerDutyAction action,
                                    std::string_view routing_key, std::string_view source);

struct PagerDutyOptions {
  // Where events go: PagerDuty's own https URL, or an http(s) relay or test receiver.
  std::string url = std::string(kPagerDutyEventsUrl);
  // https: a PEM file of CA certificates trusted besides the system store (a private relay's
  // CA); empty: the system store only. The peer is always verified (http/client_tls.hpp).
  std::string ca_file;
  std::string routing_key;  // the integration key (32 characters at PagerDuty); required
  std::string source;       // payload.source; empty: this host's name
  std::chrono::milliseconds timeout{5000};          // per attempt: connect, send, answer
  size_t queue_capacity = 256;                      // events waiting; beyond it notify() drops
  int max_attempts = 4;                             // per event, the first included
  std::chrono::milliseconds initial_backoff{1000};  // before the first retry, doubling after
  std::chrono::milliseconds max_backoff{30000};     // caps back-off and Retry-After alike
  // stop(): how long pending events may still be delivered before they are dropped.
  std::chrono::milliseconds shutdown_grace{2000};
};

// Configuration from the command line and the environment:
// - url_flag: the value of --notify-pagerduty URL (empty when the flag was not given), else
//   TRAFFICSIM_PAGERDUTY_URL, else kPagerDutyEventsUrl;
// - PAGERDUTY_ROUTING_KEY: the integration key;
// - TRAFFICSIM_CA_FILE: optional, the ca_file (unset or empty: the system store only).
// nullopt when neither the flag nor either of the first two variables is set (notifications
// off). Throws std::invalid_argument naming the flag or variable at fault: a URL that is not an
// absolute http:// or https:// URL, a URL given without PAGERDUTY_ROUTING_KEY, a key that is
// empty or holds whitespace or control characters, a CA file that cannot be read or holds no
// PEM certificate.
// getenv_fn returns nullptr for an unset variable.
std::optional<PagerDutyOptions> pagerduty_options_from(
    std::string_view url_flag, const std::function<const char*(const char*)>& getenv_fn);

struct PagerDutyStats {
  uint64_t sent = 0;       // answered 2xx
  uint64_t failed = 0;     // refused (not retryable) or still failing after max_attempts
  uint64_t dropped = 0;    // queue full, or pending/in flight when stop() gave up
  uint64_t retried = 0;    // attempts after the first, over all events
  std::string last_error;  // the latest failure, one line ("HTTP 400: {...}"); empty when none
};

// Thread-safe: notify, flush and stats from any thread; stop and the destructor from the owner.
class PagerDutyNotifier {
 public:
  // Starts the delivery thread. Throws std::invalid_argument for an empty routing key, a URL that
  // is not http(s)://, a zero queue capacity, max_attempts < 1 or an unusable ca_file.
  explicit PagerDutyNotifier(PagerDutyOptions options);
  ~PagerDutyNotifier();  // stop()
  PagerDutyNotifier(const PagerDutyNotifier&) = delete;
  PagerDutyNotifier& operator=(const PagerDutyNotifier&) = delete;

  // Builds the event and queues it; never waits for the network. Returns false when it was
  // dropped (queue full, or stopped).
  bool notify(const Incident& incident, PagerDutyAction action);

  // Waits until every event queued so far has been sent, failed or dropped, or the deadline
  // passed; true when drained.
  bool flush(std::chrono::steady_clock::time_point deadline);

  // Stops taking events, delivers what is pending for up to shutdown_grace, then abandons the
  // rest — the call in flight included — counting them dropped, and joins the thread. Returns
  // within about shutdown_grace. Idempotent; stats() stays readable afterwards.
  void stop();

  PagerDutyStats stats() const;

 private:
  enum class Delivery { sent, failed, abandoned };
  void run();
  Delivery deliver(std::unique_lock<std::mutex>& lock, const std::string& body);

  const PagerDutyOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;  // serialized events, oldest first
  bool busy_ = false;              // the worker holds an event taken off the queue
  bool stopping_ = false;          // notify() refuses; the worker ends once drained
  bool abort_ = false;             // the worker abandons what it holds and ends
  uint64_t call_generation_ = 0;   // which call a result belongs to
  std::optional<http::ClientResult> reply_;
  PagerDutyStats stats_;
  std::thread worker_;
  // Declared last, destroyed first: drops a call still in flight before the state it reports to.
  http::AsyncClient client_;
};

}  // namespace trafficsim::incidents
