#include "incidents/alertmanager_webhook.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>

namespace trafficsim::incidents {

using http::ApiError;
namespace json = boost::json;

std::string_view to_string(AlertStatus s) {
  return s == AlertStatus::firing ? "firing" : "resolved";
}

namespace {

// Go's zero time.Time, which Alertmanager sends for a time that is not set.
constexpr double kGoZeroTimeUnixS = -62135596800.0;

// The value of `n` decimal digits at text[at..], or -1 when one of them is not a digit.
int digits(std::string_view text, size_t at, size_t n) {
  if (at + n > text.size()) return -1;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

ApiError missing(const std::string& field) {
  return ApiError{400, "missing_field", field, "The field '" + field + "' is required."};
}
ApiError wrong_type(const std::string& field, std::string_view expected) {
  return ApiError{400, "invalid_type", field,
                  "The field '" + field + "' must be " + std::string(expected) + "."};
}
ApiError invalid(const std::string& field, const std::string& what) {
  return ApiError{400, "invalid_value", field, "The field '" + field + "' " + what + "."};
}

// A field's path below `parent` ("" at the top): "alerts[2]" + "status" -> "alerts[2].status".
std::string path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

// Reading fields: each returns the error to answer, or nothing when the value was stored.
using Fault = std::optional<ApiError>;

Fault read_string(const json::object& o, const std::string& parent, std::string_view key,
                  bool required, std::string& out) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) {
    return required ? Fault(missing(path(parent, key))) : std::nullopt;
  }
  if (!v->is_string()) return wrong_type(path(parent, key), "a string");
  out.assign(v->get_string().data(), v->get_string().size());
  return std::nullopt;
}

Fault read_status(const json::object& o, const std::string& parent, AlertStatus& out) {
  std::string text;
  if (auto e = read_string(o, parent, "status", true, text)) return e;
  if (text == "firing") {
    out = AlertStatus::firing;
  } else if (text == "resolved") {
    out = AlertStatus::resolved;
  } else {
    return invalid(path(parent, "status"), "must be 'firing' or 'resolved', not '" + text + "'");
  }
  return std::nullopt;
}

// An object of string values (labels, annotations).
Fault read_map(const json::object& o, const std::string& parent, std::string_view key,
               bool required, LabelMap& out) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) {
    return required ? Fault(missing(path(parent, key))) : std::nullopt;
  }
  const std::string field = path(parent, key);
  if (!v->is_object()) return wrong_type(field, "an object of strings");
  for (const auto& [name, value] : v->get_object()) {
    if (!value.is_string()) return wrong_type(path(field, name), "a string");
    out.emplace(std::string(name),
                std::string(value.get_string().data(), value.get_string().size()));
  }
  return std::nullopt;
}

Fault read_time(const json::object& o, const std::string& parent, std::string_view key,
                bool required, AlertTime& out) {
  if (const json::value* v = o.if_contains(key); !v || v->is_null()) {  // absent: unset
    return required ? Fault(missing(path(parent, key))) : std::nullopt;
  }
  if (auto e = read_string(o, parent, key, required, out.text)) return e;
  const auto unix_s = parse_rfc3339_unix_s(out.text);
  if (!unix_s) {
    return invalid(
        path(parent, key),
        "must be an RFC 3339 time such as 2026-12-01T17:31:56.123Z, not '" + out.text + "'");
  }
  if (*unix_s != kGoZeroTimeUnixS) out.unix_s = *unix_s;
  return std::nullopt;
}

Fault read_alert(const json::value& v, const std::string& field, AlertmanagerAlert& alert) {
  if (!v.is_object()) return wrong_type(field, "an object");
  const json::object& o = v.get_object();
  if (auto e = read_status(o, field, alert.status)) return e;
  if (auto e = read_map(o, field, "labels", true, alert.labels)) return e;
  if (auto e = read_map(o, field, "annotations", false, alert.annotations)) return e;
  if (auto e = read_time(o, field, "startsAt", true, alert.starts_at)) return e;
  if (auto e = read_time(o, field, "endsAt", false, alert.ends_at)) return e;
  if (auto e = read_string(o, field, "generatorURL", false, alert.generator_url)) return e;
  if (auto e = read_string(o, field, "fingerprint", true, alert.fingerprint)) return e;
  if (alert.fingerprint.empty()) return invalid(path(field, "fingerprint"), "must not be empty");
  return std::nullopt;
}

Fault read_notification(const json::object& o, AlertmanagerNotification& n) {
  if (auto e = read_string(o, "", "version", true, n.version)) return e;
  if (n.version != "4") {
    return invalid("version", "must be \"4\" (Alertmanager's webhook payload version), not \"" +
                                  n.version + "\"");
  }
  if (auto e = read_string(o, "", "groupKey", true, n.group_key)) return e;
  if (auto e = read_status(o, "", n.status)) return e;
  if (auto e = read_string(o, "", "receiver", true, n.receiver)) return e;
  if (auto e = read_map(o, "", "groupLabels", false, n.group_labels)) return e;
  if (auto e = read_map(o, "", "commonLabels", false, n.common_labels)) return e;
  if (auto e = read_map(o, "", "commonAnnotations", false, n.common_annotations)) return e;
  if (auto e = read_string(o, "", "externalURL", false, n.external_url)) return e;

  if (const json::value* t = o.if_contains("truncatedAlerts"); t && !t->is_null()) {
    if (t->is_int64()) {
      n.truncated_alerts = t->get_int64();
    } else if (t->is_uint64()) {
      return invalid("truncatedAlerts", "is out of range");
    } else {
      return wrong_type("truncatedAlerts", "an integer");
    }
    if (n.truncated_alerts < 0) return invalid("truncatedAlerts", "must not be negative");
  }

  const json::value* alerts = o.if_contains("alerts");
  if (!alerts || alerts->is_null()) return missing("alerts");
  if (!alerts->is_array()) return wrong_type("alerts", "an array");
  const json::array& list = alerts->get_array();
  if (list.size() > kMaxAlertmanagerWebhookAlerts) {
    return invalid("alerts", "holds " + std::to_string(list.size()) + " alerts; at most " +
                                 std::to_string(kMaxAlertmanagerWebhookAlerts) +
                                 " are accepted (set max_alerts in alertmanager.yml)");
  }
  n.alerts.resize(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    if (auto e = read_alert(list[i], "alerts[" + std::to_string(i) + "]", n.alerts[i])) return e;
  }
  return std::nullopt;
}

}  // namespace

std::optional<double> parse_rfc3339_unix_s(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.F{1,9}](Z|+HH:MM|-HH:MM)
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  const int year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2);
  const int hour = digits(text, 11, 2), minute = digits(text, 14, 2), second = digits(text, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) return std::nullopt;  // 60: leap

  size_t at = 19;
  double fraction = 0;
  if (at < text.size() && text[at] == '.') {
    size_t end = ++at;
    double scale = 0.1;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') {
      fraction += (text[end] - '0') * scale;
      scale /= 10;
      ++end;
    }
    if (end == at || end - at > 9) return std::nullopt;
    at = end;
  }

  int64_t offset_s = 0;
  if (at + 1 == text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    // UTC
  } else if (at + 6 == text.size() && (text[at] == '+' || text[at] == '-') && text[at + 3] == ':') {
    const int oh = digits(text, at + 1, 2), om = digits(text, at + 4, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59) return std::nullopt;
    offset_s = (text[at] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }

  const int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  const int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
  return static_cast<double>(seconds) + fraction;
}

std::variant<AlertmanagerNotification, ApiError> parse_alertmanager_webhook(std::string_view body) {
  if (body.size() > kMaxAlertmanagerWebhookBytes) {
    return ApiError{413, "payload_too_large", "body",
                    "The notification is " + std::to_string(body.size()) + " bytes; at most " +
                        std::to_string(kMaxAlertmanagerWebhookBytes) + " are accepted."};
  }
  json::error_code ec;
  const json::value document = json::parse(body, ec);
  if (ec) {
    return ApiError{400, "invalid_json", "",
                    "The notification is not valid JSON (" + ec.message() + ")."};
  }
  if (!document.is_object()) {
    return ApiError{400, "invalid_type", "body", "The notification must be a JSON object."};
  }
  AlertmanagerNotification notification;
  if (auto e = read_notification(document.get_object(), notification)) return std::move(*e);
  return notification;
}

}  // namespace trafficsim::incidents
