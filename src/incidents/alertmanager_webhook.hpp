#pragma once
// Alertmanager's webhook notification (webhook_config, payload version "4") read into plain
// values: what POST /api/v1/alerts/webhook receives when deploy/alertmanager/alertmanager.yml
// sends trafficsim its alerts, firing and resolved. Pure: no I/O, no clock; the route checks the
// body's size (kMaxAlertmanagerWebhookBytes) before it parses, and answers a parse error with
// its ApiError (400 naming the JSON field at fault, "alerts[2].status"; 413 for the size).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "http/api_error.hpp"

namespace trafficsim::incidents {

// A notification carries at most max_alerts (alertmanager.yml says 1000); more is refused.
inline constexpr size_t kMaxAlertmanagerWebhookAlerts = 1000;
// The body size the route accepts (1 000 alerts of ~4 KiB of labels and annotations each).
inline constexpr size_t kMaxAlertmanagerWebhookBytes = 4 * 1024 * 1024;

enum class AlertStatus { firing, resolved };
std::string_view to_string(AlertStatus s);

using LabelMap = std::map<std::string, std::string, std::less<>>;

// A time as Alertmanager sent it (RFC 3339, Go's RFC3339Nano: "2026-12-01T17:31:56.123+01:00")
// and the instant it names. Go's zero time, 0001-01-01T00:00:00Z, means "not set" (the endsAt
// of a firing alert): unix_s is then empty.
struct AlertTime {
  std::string text;
  std::optional<double> unix_s;  // seconds since the Unix epoch, with the fraction

  bool is_set() const { return unix_s.has_value(); }
};

struct AlertmanagerAlert {
  AlertStatus status = AlertStatus::firing;
  LabelMap labels;       // alertname, service, monitor, severity, ...; identify with fingerprint
  LabelMap annotations;  // summary, description, runbook, ...
  AlertTime starts_at;
  AlertTime ends_at;          // unset while firing (absent counts as unset)
  std::string generator_url;  // the Prometheus graph of the rule's expression; may be empty
  std::string fingerprint;    // Alertmanager's id of the label set: the same alert, resolved later
};

struct AlertmanagerNotification {
  std::string version;                       // always "4"
  std::string group_key;                     // identifies the group: '{}:{alertname="X"}'
  AlertStatus status = AlertStatus::firing;  // firing when at least one alert fires
  std::string receiver;
  LabelMap group_labels;
  LabelMap common_labels;
  LabelMap common_annotations;
  std::string external_url;      // Alertmanager's own URL; may be empty
  int64_t truncated_alerts = 0;  // alerts left out by max_alerts
  std::vector<AlertmanagerAlert> alerts;
};

// Parses and validates a notification body. Unknown fields are ignored (Alertmanager adds
// fields between versions, never changes the meaning of these). Errors, all status 400 but the
// first, each naming the field ("alerts[2].labels.severity"):
//   body over kMaxAlertmanagerWebhookBytes -> 413 "payload_too_large", field "body"
//   malformed JSON                         -> "invalid_json" (no field)
//   not an object                          -> "invalid_type", field "body" (or the field's path)
//   version, groupKey, status, receiver, alerts, alerts[i].status, .labels, .startsAt,
//   .fingerprint missing                   -> "missing_field"
//   a field of the wrong JSON type, a label or annotation value that is not a string
//                                          -> "invalid_type"
//   version other than "4", a status other than firing|resolved, a time that is not RFC 3339,
//   more than kMaxAlertmanagerWebhookAlerts alerts, an empty fingerprint, a negative
//   truncatedAlerts                        -> "invalid_value"
std::variant<AlertmanagerNotification, http::ApiError> parse_alertmanager_webhook(
    std::string_view body);

// RFC 3339 date-time ("2026-12-01T17:31:56.123456789Z", "...+05:30"; 't' and 'z' in either
// case, an optional fraction of 1 to 9 digits) as Unix seconds, or empty when the text is not one.
// The zero time parses to -62135596800.
std::optional<double> parse_rfc3339_unix_s(std::string_view text);

}  // namespace trafficsim::incidents
