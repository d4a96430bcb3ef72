#pragma once
// Runtime fault injection, managed over /admin/faults and modelled on Toxiproxy toxics and
// Chaos Mesh HTTPChaos: a fault matches requests by method and route glob and, with some
// probability, delays them and/or answers them with a canned error instead of the handler.
//
// A fault definition (the POST body):
//   {"name": "slow-recs", "route": "/products/recommendations", "method": "GET",
//    "probability": 0.5, "delay": {"mean_ms": 800, "jitter_ms": 200},
//    "abort": {"status": 503, "body": {"error": "injected"}}, "expires_in": "30s"}
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>

#include "http/api_error.hpp"

namespace trafficsim::demo_service {

using http::ApiError;

inline constexpr double kMaxFaultDelayFieldMs = 60'000;  // for mean_ms and jitter_ms each
// The longest expires_in, in either form (a duration text or a number of seconds): 30 days.
inline constexpr double kMaxFaultExpiresSeconds = 30 * 24 * 3600;

struct FaultDelay {
  double mean_ms;    // 0..60000
  double jitter_ms;  // 0..60000; the delay is uniform in [mean - jitter, mean + jitter], >= 0
};

struct FaultAbort {
  int status;                // 400..599
  std::string body;          // sent as is
  std::string content_type;  // "application/json" or "text/plain"
};

struct Fault {
  std::string name;    // [A-Za-z0-9_.-]{1,64}; the key: putting the same name replaces
  std::string route;   // glob starting with '/', '*' matches any run of characters
  std::string method;  // GET POST PUT PATCH DELETE HEAD OPTIONS, or "*" for any
  double probability = 1.0;
  std::optional<FaultDelay> delay;
  std::optional<FaultAbort> abort;  // at least one of delay and abort is set
  std::optional<double> expires_at_unix;
  double created_at_unix = 0;
  uint64_t hits = 0;  // times it fired; a snapshot when returned by FaultRegistry::list
};

// Parses and validates a fault definition. A malformed body is 400 "invalid_json", a body that
// is not an object 400 "invalid_type" (field "body"), as on every other endpoint; everything about
// the definition itself is 400 "invalid_fault" with `field` the dotted path of the culprit
// ("name", "delay.mean_ms", "abort.status", ...): missing required fields, unknown fields, wrong
// JSON types, out-of-range values. Fields:
//   name        required, [A-Za-z0-9_.-]{1,64}
//   route       required, starts with '/', at most 512 characters
//   method      default "*"; case-insensitive, stored upper case
//   probability number in [0, 1], default 1
//   delay       {"mean_ms": 0..60000 (required), "jitter_ms": 0..60000 (default 0)}
//   abort       {"status": integer 400..599 (required), "body": a string (sent as text/plain) or
//               any other JSON value (serialised, application/json); default
//               {"error": "fault injected", "fault": <name>}}
//   expires_in  "250ms", "30s", "5m", "1h", "1h30m" or a number of seconds; > 0 and at most
//               kMaxFaultExpiresSeconds (30 days)
// At least one of delay and abort. created_at_unix = now_unix; expires_at_unix = now + expires_in.
std::variant<Fault, ApiError> parse_fault(std::string_view json_body, double now_unix);

// The definition as accepted, plus "created_at" and "expires_at" (unix seconds, null when none),
// "expires_in_seconds" remaining (>= 0, null when none) and "hits".
boost::json::object fault_to_json(const Fault& fault, double now_unix);

// Whole-text glob match: '*' matches any run of characters including '/' and the empty one;
// every other character matches itself. O(pattern x text) at worst, never exponential.
bool route_pattern_matches(std::string_view pattern, std::string_view text);

struct FaultDecision {
  std::chrono::microseconds delay{0};  // sum of the fired faults' delays; apply it first
  std::optional<FaultAbort> abort;     // then answer with this instead of the handler, if set
  std::vector<std::pair<std::string, std::string>> applied;  // (fault name, "delay"|"abort")
};

// The live set of faults. Thread-safe: evaluate() runs for every request on every server thread
// and takes a shared lock only when some fault is registered (the common no-fault case is one
// atomic load); put/remove/clear take the exclusive lock. Hit counters are atomics, so
// concurrent evaluations never serialise on them.
class FaultRegistry {
 public:
  // now_unix: unix seconds; empty means the system clock. It decides expiry.
  explicit FaultRegistry(std::function<double()> now_unix = {}, size_t max_faults = 64);
  ~FaultRegistry();
  FaultRegistry(const FaultRegistry&) = delete;
  FaultRegistry& operator=(const FaultRegistry&) = delete;

  enum class PutOutcome { created, replaced };
  // Same name replaces the old fault (and resets its hits). A new name when max_faults live
  // faults exist already -> 409 "too_many_faults". Expired faults are dropped first and do not
  // count. The fault is taken as is: parse_fault is where definitions are validated.
  std::variant<PutOutcome, ApiError> put(Fault fault);

  // False when no live fault has that name (an expired one counts as gone).
  bool remove(std::string_view name);
  void clear();

  // Live faults in the order they were first put, with their hit counts; expired ones are left
  // out.
  std::vector<Fault> list() const;

  // No fault registered. One atomic load; an expired fault counts until the next put/remove.
  bool empty() const noexcept;

  // Each live fault whose method matches and whose route matches the route template or the raw
  // path fires independently with its probability. Draws derive from random_bits and the fault's
  // name, so a fault's decision for given bits does not depend on which other faults exist.
  // Delays of fired faults add up; the first fired abort (in list order) wins; every fired fault
  // counts a hit, even an abort that lost.
  FaultDecision evaluate(std::string_view method, std::string_view route_template,
                         std::string_view path, uint64_t random_bits);

 private:
  struct Entry;

  // Drops expired entries; caller holds the exclusive lock.
  void drop_expired_locked(double now_unix);
  double now_unix() const;

  std::function<double()> now_unix_;
  const size_t max_faults_;
  mutable std::shared_mutex mutex_;
  std::vector<std::unique_ptr<Entry>> entries_;  // guarded by mutex_
  std::atomic<size_t> count_{0};                 // entries_.size(), readable without the lock
};

}  // namespace trafficsim::demo_service
