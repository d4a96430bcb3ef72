#include "demo_service/fault_registry.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <mutex>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "core/clock.hpp"
#include "core/duration.hpp"
#include "core/random.hpp"

namespace trafficsim::demo_service {

namespace {

constexpr size_t kMaxNameLength = 64;
constexpr size_t kMaxRouteLength = 512;
constexpr int kMinAbortStatus = 400;
constexpr int kMaxAbortStatus = 599;
constexpr std::array<std::string_view, 8> kMethods{"*",     "GET",    "POST", "PUT",
                                                   "PATCH", "DELETE", "HEAD", "OPTIONS"};
constexpr std::string_view kJsonContentType = "application/json";
constexpr std::string_view kTextContentType = "text/plain";

ApiError invalid(std::string field, std::string message) {
  return ApiError{400, "invalid_fault", std::move(field), std::move(message)};
}

std::string quoted(std::string_view field) {
  return "'" + std::string(field) + "'";
}

// Any JSON number as a double; nullopt for other kinds.
std::optional<double> as_number(const boost::json::value& value) {
  if (value.is_int64()) return static_cast<double>(value.get_int64());
  if (value.is_uint64()) return static_cast<double>(value.get_uint64());
  if (value.is_double()) return value.get_double();
  return std::nullopt;
}

char upper_ascii(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

// Without allocating: it runs for every request and fault.
bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return upper_ascii(x) == upper_ascii(y); });
}

std::string upper_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = upper_ascii(c);
  return out;
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

// The first key of `object` not in `allowed`, as "<prefix><key>".
std::optional<std::string> unknown_key(const boost::json::object& object,
                                       std::initializer_list<std::string_view> allowed,
                                       std::string_view prefix) {
  for (const auto& member : object) {
    const std::string_view key = member.key();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return std::string(prefix) + std::string(key);
    }
  }
  return std::nullopt;
}

// A number field within [min, max]; nullopt result means the field is absent.
std::variant<std::optional<double>, ApiError> number_in_range(const boost::json::object& object,
                                                              std::string_view key,
                                                              std::string_view path, double min,
                                                              double max) {
  const boost::json::value* value = object.if_contains(key);
  if (value == nullptr) return std::optional<double>{};
  const std::optional<double> number = as_number(*value);
  if (!number || !(*number >= min && *number <= max)) {
    char range[64];
    std::snprintf(range, sizeof range, "%g to %g", min, max);
    return invalid(std::string(path),
                   "The field " + quoted(path) + " must be a number from " + range + ".");
  }
  return number;
}

std::variant<FaultDelay, ApiError> parse_delay(const boost::json::value& value) {
  if (!value.is_object()) {
    return invalid("delay", "The field 'delay' must be an object with mean_ms and jitter_ms.");
  }
  const boost::json::object& object = value.get_object();
  if (auto key = unknown_key(object, {"mean_ms", "jitter_ms"}, "delay.")) {
    return invalid(*key,
                   "The field " + quoted(*key) + " is not part of a delay (mean_ms, jitter_ms).");
  }
  auto mean = number_in_range(object, "mean_ms", "delay.mean_ms", 0, kMaxFaultDelayFieldMs);
  if (auto* e = std::get_if<ApiError>(&mean)) return std::move(*e);
  if (!std::get<std::optional<double>>(mean)) {
    return invalid("delay.mean_ms", "The field 'delay.mean_ms' is required in a delay.");
  }
  auto jitter = number_in_range(object, "jitter_ms", "delay.jitter_ms", 0, kMaxFaultDelayFieldMs);
  if (auto* e = std::get_if<ApiError>(&jitter)) return std::move(*e);
  return FaultDelay{*std::get<std::optional<double>>(mean),
                    std::get<std::optional<double>>(jitter).value_or(0)};
}

std::variant<FaultAbort, ApiError> parse_abort(const boost::json::value& value,
                                               std::string_view fault_name) {
  if (!value.is_object()) {
    return invalid("abort", "The field 'abort' must be an object with status and body.");
  }
  const boost::json::object& object = value.get_object();
  if (auto key = unknown_key(object, {"status", "body"}, "abort.")) {
    return invalid(*key, "The field " + quoted(*key) + " is not part of an abort (status, body).");
  }
  const boost::json::value* status = object.if_contains("status");
  if (status == nullptr) {
    return invalid("abort.status", "The field 'abort.status' is required in an abort.");
  }
  const std::optional<double> code = as_number(*status);
  if (!code || std::floor(*code) != *code || *code < kMinAbortStatus || *code > kMaxAbortStatus) {
    return invalid("abort.status",
                   "The field 'abort.status' must be an integer HTTP status from 400 to 599.");
  }

  FaultAbort abort{static_cast<int>(*code), "", std::string(kJsonContentType)};
  const boost::json::value* body = object.if_contains("body");
  if (body == nullptr) {
    abort.body = boost::json::serialize(
        boost::json::object{{"error", "fault injected"}, {"fault", fault_name}});
  } else if (body->is_string()) {
    abort.body = std::string(body->get_string());
    abort.content_type = std::string(kTextContentType);
  } else {
    abort.body = boost::json::serialize(*body);
  }
  return abort;
}

std::variant<double, ApiError> parse_expires_in_seconds(const boost::json::value& value) {
  std::optional<double> seconds;
  if (value.is_string()) {
    if (auto duration = core::parse_duration(std::string_view(value.get_string()))) {
      seconds = std::chrono::duration<double>(*duration).count();
    }
  } else {
    seconds = as_number(value);
  }
  // One bound for both forms: a duration text beyond it is refused exactly like a number.
  if (!seconds || !std::isfinite(*seconds) || *seconds <= 0 ||
      *seconds > kMaxFaultExpiresSeconds) {
    return invalid("expires_in",
                   "The field 'expires_in' must be a duration like \"30s\", \"5m\", \"250ms\" "
                   "or a number of seconds, greater than 0 and at most 30 days (720h).");
  }
  return *seconds;
}

// A required or optional string field; nullopt means absent.
std::variant<std::optional<std::string>, ApiError> string_field(const boost::json::object& object,
                                                                std::string_view key) {
  const boost::json::value* value = object.if_contains(key);
  if (value == nullptr) return std::optional<std::string>{};
  if (!value->is_string()) {
    return invalid(std::string(key), "The field " + quoted(key) + " must be a string.");
  }
  return std::optional<std::string>(std::string(value->get_string()));
}

}  // namespace

std::variant<Fault, ApiError> parse_fault(std::string_view json_body, double now_unix) {
  boost::json::error_code ec;
  boost::json::value document = boost::json::parse(json_body, ec);
  if (ec) {
    return ApiError{400, "invalid_json", "",
                    "The request body is not valid JSON (" + ec.message() + ")."};
  }
  if (!document.is_object()) {
    return ApiError{400, "invalid_type", "body", "The request body must be a JSON object."};
  }
  const boost::json::object& object = document.get_object();
  if (auto key = unknown_key(
          object, {"name", "route", "method", "probability", "delay", "abort", "expires_in"}, "")) {
    return invalid(*key, "The field " + quoted(*key) +
                             " is not part of a fault (name, route, method, probability, delay, "
                             "abort, expires_in).");
  }

  Fault fault;
  fault.created_at_unix = now_unix;

  auto name = string_field(object, "name");
  if (auto* e = std::get_if<ApiError>(&name)) return std::move(*e);
  if (!std::get<0>(name)) return invalid("name", "The field 'name' is required.");
  if (!valid_name(*std::get<0>(name))) {
    return invalid("name",
                   "The field 'name' must be 1 to 64 characters from A-Z, a-z, 0-9, '_', '.', "
                   "'-'.");
  }
  fault.name = std::move(*std::get<0>(name));

  auto route = string_field(object, "route");
  if (auto* e = std::get_if<ApiError>(&route)) return std::move(*e);
  if (!std::get<0>(route)) return invalid("route", "The field 'route' is required.");
  fault.route = std::move(*std::get<0>(route));
  if (fault.route.empty() || fault.route.front() != '/' || fault.route.size() > kMaxRouteLength) {
    return invalid("route", "The field 'route' must start with '/' and be at most 512 characters.");
  }

  auto method = string_field(object, "method");
  if (auto* e = std::get_if<ApiError>(&method)) return std::move(*e);
  fault.method = upper_ascii(std::get<0>(method).value_or("*"));
  if (std::find(kMethods.begin(), kMethods.end(), fault.method) == kMethods.end()) {
    return invalid("method",
                   "The field 'method' must be one of GET, POST, PUT, PATCH, DELETE, HEAD, "
                   "OPTIONS or *.");
  }

  auto probability = number_in_range(object, "probability", "probability", 0, 1);
  if (auto* e = std::get_if<ApiError>(&probability)) return std::move(*e);
  fault.probability = std::get<std::optional<double>>(probability).value_or(1.0);

  if (const boost::json::value* delay = object.if_contains("delay")) {
    auto parsed = parse_delay(*delay);
    if (auto* e = std::get_if<ApiError>(&parsed)) return std::move(*e);
    fault.delay = std::get<FaultDelay>(parsed);
  }
  if (const boost::json::value* abort = object.if_contains("abort")) {
    auto parsed = parse_abort(*abort, fault.name);
    if (auto* e = std::get_if<ApiError>(&parsed)) return std::move(*e);
    fault.abort = std::move(std::get<FaultAbort>(parsed));
  }
  if (!fault.delay && !fault.abort) {
    return invalid("", "A fault needs a 'delay', an 'abort' or both.");
  }

  if (const boost::json::value* expires_in = object.if_contains("expires_in")) {
    auto seconds = parse_expires_in_seconds(*expires_in);
    if (auto* e = std::get_if<ApiError>(&seconds)) return std::move(*e);
    fault.expires_at_unix = now_unix + std::get<double>(seconds);
  }
  return fault;
}

boost::json::object fault_to_json(const Fault& fault, double now_unix) {
  boost::json::object o;
  o["name"] = fault.name;
  o["route"] = fault.route;
  o["method"] = fault.method;
  o["probability"] = fault.probability;
  if (fault.delay) {
    o["delay"] = {{"mean_ms", fault.delay->mean_ms}, {"jitter_ms", fault.delay->jitter_ms}};
  }
  if (fault.abort) {
    boost::json::object abort{{"status", fault.abort->status},
                              {"content_type", fault.abort->content_type}};
    // Show a JSON body as JSON, so that what GET returns reads like what was POSTed.
    boost::json::error_code ec;
    boost::json::value body = fault.abort->content_type == kJsonContentType
                                  ? boost::json::parse(fault.abort->body, ec)
                                  : boost::json::value(fault.abort->body);
    abort["body"] = ec ? boost::json::value(fault.abort->body) : std::move(body);
    o["abort"] = std::move(abort);
  }
  o["created_at"] = fault.created_at_unix;
  if (fault.expires_at_unix) {
    o["expires_at"] = *fault.expires_at_unix;
    o["expires_in_seconds"] = std::max(0.0, *fault.expires_at_unix - now_unix);
  } else {
    o["expires_at"] = nullptr;
    o["expires_in_seconds"] = nullptr;
  }
  o["hits"] = fault.hits;
  return o;
}

bool route_pattern_matches(std::string_view pattern, std::string_view text) {
  // Greedy matching that, on a mismatch, lets the last '*' swallow one more character. Only the
  // last star ever needs revisiting, so the cost is O(pattern * text) at worst, never exponential.
  size_t p = 0;
  size_t t = 0;
  size_t star = std::string_view::npos;
  size_t star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_text = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

struct FaultRegistry::Entry {
  Fault fault;        // immutable while in the registry; hits live in `hits`
  uint64_t draw_key;  // stream_key(name): makes the fault's draws its own
  std::atomic<uint64_t> hits{0};

  bool expired(double now_unix) const {
    return fault.expires_at_unix && now_unix >= *fault.expires_at_unix;
  }
};

FaultRegistry::FaultRegistry(std::function<double()> now_unix, size_t max_faults)
    : now_unix_(std::move(now_unix)), max_faults_(max_faults) {
  if (!now_unix_) now_unix_ = core::unix_now_s;
}

FaultRegistry::~FaultRegistry() = default;

double FaultRegistry::now_unix() const {
  return now_unix_();
}

void FaultRegistry::drop_expired_locked(double now_unix) {
  std::erase_if(entries_, [&](const std::unique_ptr<Entry>& e) { return e->expired(now_unix); });
  count_.store(entries_.size(), std::memory_order_release);
}

std::variant<FaultRegistry::PutOutcome, ApiError> FaultRegistry::put(Fault fault) {
  auto entry = std::make_unique<Entry>();
  entry->draw_key = core::stream_key(fault.name);
  fault.hits = 0;
  entry->fault = std::move(fault);
  const double now = now_unix();

  std::unique_lock lock(mutex_);
  drop_expired_locked(now);
  for (auto& existing : entries_) {
    if (existing->fault.name == entry->fault.name) {
      existing = std::move(entry);
      return PutOutcome::replaced;
    }
  }
  if (entries_.size() >= max_faults_) {
    return ApiError{409, "too_many_faults", "name",
                    "At most " + std::to_string(max_faults_) +
                        " faults can be active; remove one before adding '" + entry->fault.name +
                        "'."};
  }
  entries_.push_back(std::move(entry));
  count_.store(entries_.size(), std::memory_order_release);
  return PutOutcome::created;
}

bool FaultRegistry::remove(std::string_view name) {
  const double now = now_unix();
  std::unique_lock lock(mutex_);
  drop_expired_locked(now);
  const size_t removed = std::erase_if(
      entries_, [&](const std::unique_ptr<Entry>& e) { return e->fault.name == name; });
  count_.store(entries_.size(), std::memory_order_release);
  return removed > 0;
}

void FaultRegistry::clear() {
  std::unique_lock lock(mutex_);
  entries_.clear();
  count_.store(0, std::memory_order_release);
}

std::vector<Fault> FaultRegistry::list() const {
  const double now = now_unix();
  std::vector<Fault> faults;
  std::shared_lock lock(mutex_);
  faults.reserve(entries_.size());
  for (const auto& entry : entries_) {
    if (entry->expired(now)) continue;
    faults.push_back(entry->fault);
    faults.back().hits = entry->hits.load(std::memory_order_relaxed);
  }
  return faults;
}

bool FaultRegistry::empty() const noexcept {
  return count_.load(std::memory_order_acquire) == 0;
}

FaultDecision FaultRegistry::evaluate(std::string_view method, std::string_view route_template,
                                      std::string_view path, uint64_t random_bits) {
  FaultDecision decision;
  if (empty()) return decision;
  const double now = now_unix();

  std::shared_lock lock(mutex_);
  for (const auto& entry : entries_) {
    const Fault& fault = entry->fault;
    if (entry->expired(now)) continue;
    if (fault.method != "*" && !equals_ignoring_case(fault.method, method)) continue;
    if (!route_pattern_matches(fault.route, route_template) &&
        !route_pattern_matches(fault.route, path)) {
      continue;
    }
    const uint64_t fire_bits = core::mix64(random_bits ^ entry->draw_key);
    if (!(core::unit_from_bits(fire_bits) < fault.probability)) continue;

    entry->hits.fetch_add(1, std::memory_order_relaxed);
    if (fault.delay) {
      // Uniform in [mean - jitter, mean + jitter] from a draw independent of the firing one.
      const double spread = 2 * core::unit_from_bits(core::mix64(fire_bits)) - 1;
      const double delay_ms = std::max(0.0, fault.delay->mean_ms + fault.delay->jitter_ms * spread);
      decision.delay += std::chrono::microseconds(std::llround(delay_ms * 1000));
      decision.applied.emplace_back(fault.name, "delay");
    }
    if (fault.abort && !decision.abort) {
      decision.abort = fault.abort;
      decision.applied.emplace_back(fault.name, "abort");
    }
  }
  return decision;
}

}  // namespace trafficsim::demo_service
