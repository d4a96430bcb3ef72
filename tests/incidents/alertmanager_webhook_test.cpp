// Alertmanager's webhook notifications (version 4, the shape of Alertmanager's configuration
// documentation, webhook_config) as deploy/alertmanager/alertmanager.yml sends them: parsed into
// values, and every fault refused with the JSON field at fault, for the route's 400.
#include "incidents/alertmanager_webhook.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>

namespace trafficsim::incidents {
namespace {

// One group of two alerts: the latency spike still firing, the error burst resolved.
const std::string kNotification = R"json({
  "version": "4",
  "groupKey": "{}:{alertname=\"LLMLatencySpike\", service=\"llm-classifier\"}",
  "truncatedAlerts": 0,
  "status": "firing",
  "receiver": "trafficsim",
  "groupLabels": {"alertname": "LLMLatencySpike", "service": "llm-classifier"},
  "commonLabels": {"service": "llm-classifier", "severity": "page", "job": "trafficsim-target"},
  "commonAnnotations": {},
  "externalURL": "http://alertmanager.local:9093",
  "alerts": [
    {
      "status": "firing",
      "labels": {"alertname": "LLMLatencySpike", "job": "trafficsim-target",
                 "monitor": "llm_latency_spike", "service": "llm-classifier", "severity": "page"},
      "annotations": {"summary": "LLM latency spike: classify p95 is 4900 ms (threshold 3000 ms)",
                      "runbook": "Open a slow classify trace."},
      "startsAt": "2026-12-01T17:31:56.123456789Z",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "http://prometheus.local:9090/graph?g0.expr=job%3Allm_request_duration_ms%3Ap95_rate1m&g0.tab=1",
      "fingerprint": "5c5b6f5f3d2e1a0b"
    },
    {
      "status": "resolved",
      "labels": {"alertname": "LLMErrorBurst", "job": "trafficsim-target",
                 "monitor": "llm_error_burst", "service": "llm-classifier", "severity": "page"},
      "annotations": {"summary": "LLM error burst: 8% of classify requests failed (threshold 5 %)"},
      "startsAt": "2026-12-01T18:25:00+01:00",
      "endsAt": "2026-12-01T17:40:30.5Z",
      "generatorURL": "http://prometheus.local:9090/graph?g0.expr=job%3Allm_errors_per_request%3Aratio_rate1m",
      "fingerprint": "0f1e2d3c4b5a6978"
    }
  ]
})json";

// kNotification with the text `from` replaced by `to` (which must occur).
std::string with(const std::string& from, const std::string& to, std::string text = kNotification) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

AlertmanagerNotification parsed(const std::string& body) {
  auto result = parse_alertmanager_webhook(body);
  if (auto* e = std::get_if<http::ApiError>(&result)) {
    ADD_FAILURE() << e->field << ": " << e->message;
    return {};
  }
  return std::get<AlertmanagerNotification>(std::move(result));
}

http::ApiError refused(const std::string& body) {
  auto result = parse_alertmanager_webhook(body);
  if (!std::holds_alternative<http::ApiError>(result)) {
    ADD_FAILURE() << "accepted: " << body;
    return {};
  }
  return std::get<http::ApiError>(result);
}

// 2026-12-01T17:31:56Z
constexpr double kStartsAtUnixS = 1796146316;

TEST(AlertmanagerWebhook, ReadsTheNotificationAndItsGroup) {
  const auto n = parsed(kNotification);
  EXPECT_EQ(n.version, "4");
  EXPECT_EQ(n.group_key, R"({}:{alertname="LLMLatencySpike", service="llm-classifier"})");
  EXPECT_EQ(n.status, AlertStatus::firing);
  EXPECT_EQ(n.receiver, "trafficsim");
  EXPECT_EQ(n.external_url, "http://alertmanager.local:9093");
  EXPECT_EQ(n.truncated_alerts, 0);
  EXPECT_EQ(n.group_labels.at("alertname"), "LLMLatencySpike");
  EXPECT_EQ(n.common_labels.at("severity"), "page");
  EXPECT_TRUE(n.common_annotations.empty());
  ASSERT_EQ(n.alerts.size(), 2u);
}

TEST(AlertmanagerWebhook, AFiringAlertHasItsLabelsAnnotationsStartAndNoEnd) {
  const auto alert = parsed(kNotification).alerts.at(0);
  EXPECT_EQ(alert.status, AlertStatus::firing);
  EXPECT_EQ(alert.labels.at("monitor"), "llm_latency_spike");
  EXPECT_EQ(alert.labels.at("severity"), "page");
  EXPECT_EQ(alert.labels.size(), 5u);
  EXPECT_EQ(alert.annotations.at("runbook"), "Open a slow classify trace.");
  EXPECT_EQ(alert.starts_at.text, "2026-12-01T17:31:56.123456789Z");
  ASSERT_TRUE(alert.starts_at.is_set());
  EXPECT_NEAR(*alert.starts_at.unix_s, kStartsAtUnixS + 0.123456789, 1e-6);
  // Go's zero time is Alertmanager's "not set": kept as text, no instant.
  EXPECT_EQ(alert.ends_at.text, "0001-01-01T00:00:00Z");
  EXPECT_FALSE(alert.ends_at.is_set());
  EXPECT_EQ(alert.fingerprint, "5c5b6f5f3d2e1a0b");
  EXPECT_NE(alert.generator_url.find("p95_rate1m"), std::string::npos);
}

TEST(AlertmanagerWebhook, AResolvedAlertHasItsEndAndOffsetsAreApplied) {
  const auto alert = parsed(kNotification).alerts.at(1);
  EXPECT_EQ(alert.status, AlertStatus::resolved);
  EXPECT_EQ(alert.labels.at("monitor"), "llm_error_burst");
  // 18:25:00+01:00 is 17:25:00Z, 6 min 56 s before the first alert's start.
  ASSERT_TRUE(alert.starts_at.is_set());
  EXPECT_DOUBLE_EQ(*alert.starts_at.unix_s, kStartsAtUnixS - 6 * 60 - 56);
  ASSERT_TRUE(alert.ends_at.is_set());
  EXPECT_DOUBLE_EQ(*alert.ends_at.unix_s, kStartsAtUnixS + 8 * 60 + 34.5);
}

TEST(AlertmanagerWebhook, AnAbsentOrNullEndIsUnset) {
  auto n = parsed(with(R"("endsAt": "0001-01-01T00:00:00Z",)", ""));
  EXPECT_FALSE(n.alerts.at(0).ends_at.is_set());
  n = parsed(with(R"("endsAt": "0001-01-01T00:00:00Z",)", R"("endsAt": null,)"));
  EXPECT_FALSE(n.alerts.at(0).ends_at.is_set());
}

TEST(AlertmanagerWebhook, UnknownFieldsAreIgnoredAndOptionalOnesMayBeAbsent) {
  const auto n = parsed(R"({"version": "4", "groupKey": "{}:{}", "status": "resolved",
      "receiver": "trafficsim", "futureField": [1, 2],
      "alerts": [{"status": "resolved", "labels": {"alertname": "X"},
                  "startsAt": "2026-12-01T17:31:56Z", "fingerprint": "ab", "future": true}]})");
  EXPECT_EQ(n.status, AlertStatus::resolved);
  EXPECT_EQ(n.external_url, "");
  ASSERT_EQ(n.alerts.size(), 1u);
  EXPECT_TRUE(n.alerts[0].annotations.empty());
  EXPECT_EQ(n.alerts[0].generator_url, "");
  EXPECT_DOUBLE_EQ(*n.alerts[0].starts_at.unix_s, kStartsAtUnixS);
}

TEST(AlertmanagerWebhook, AnEmptyAlertListIsANotification) {
  const auto n =
      parsed(with(kNotification.substr(kNotification.find("\"alerts\": [")), "\"alerts\": []}"));
  EXPECT_TRUE(n.alerts.empty());
}

TEST(AlertmanagerWebhook, RefusesAVersionOtherThan4) {
  auto e = refused(with(R"("version": "4")", R"("version": "3")"));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.code, "invalid_value");
  EXPECT_EQ(e.field, "version");
  EXPECT_NE(e.message.find("\"3\""), std::string::npos) << e.message;
  e = refused(with(R"("version": "4")", R"("version": 4)"));
  EXPECT_EQ(e.code, "invalid_type");
  EXPECT_EQ(e.field, "version");
  e = refused(with(R"("version": "4",)", ""));
  EXPECT_EQ(e.code, "missing_field");
  EXPECT_EQ(e.field, "version");
}

TEST(AlertmanagerWebhook, RefusesMissingTopLevelFieldsNamingThem) {
  for (const std::string field : {"groupKey", "status", "receiver", "alerts"}) {
    const std::string key = "\"" + field + "\":";
    std::string body = kNotification;
    body.replace(body.find(key), key.size(), "\"renamed_" + field + "\":");
    const auto e = refused(body);
    EXPECT_EQ(e.code, "missing_field") << field;
    EXPECT_EQ(e.field, field);
  }
}

TEST(AlertmanagerWebhook, RefusesAMistypedFieldNamingIt) {
  auto e = refused(with(R"("receiver": "trafficsim")", R"("receiver": ["trafficsim"])"));
  EXPECT_EQ(e.code, "invalid_type");
  EXPECT_EQ(e.field, "receiver");
  e = refused(with(kNotification.substr(kNotification.find("\"alerts\": [")), "\"alerts\": {}}"));
  EXPECT_EQ(e.code, "invalid_type");
  EXPECT_EQ(e.field, "alerts");
  e = refused(with(R"("truncatedAlerts": 0)", R"("truncatedAlerts": "0")"));
  EXPECT_EQ(e.code, "invalid_type");
  EXPECT_EQ(e.field, "truncatedAlerts");
  e = refused(with(R"("truncatedAlerts": 0)", R"("truncatedAlerts": -1)"));
  EXPECT_EQ(e.code, "invalid_value");
  EXPECT_EQ(e.field, "truncatedAlerts");
  e = refused(with(R"("commonAnnotations": {})", R"("commonAnnotations": {"n": 1})"));
  EXPECT_EQ(e.code, "invalid_type");
  EXPECT_EQ(e.field, "commonAnnotations.n");
}

TEST(AlertmanagerWebhook, RefusesAnAlertsFaultNamingTheAlertAndItsField) {
  // The second alert's status is neither firing nor resolved.
  auto e = refused(with(R"("status": "resolved",
      "labels")",
                        R"("status": "pending",
      "labels")"));
  EXPECT_EQ(e.code, "invalid_value");
  EXPECT_EQ(e.field, "alerts[1].status");
  EXPECT_NE(e.message.find("'pending'"), std::string::npos) << e.message;

  e = refused(with(R"("severity": "page"},
      "annotations": {"summary": "LLM latency)",
                   R"("severity": 1},
      "annotations": {"summary": "LLM latency)"));
  EXPECT_EQ(e.code, "invalid_type");
  EXPECT_EQ(e.field, "alerts[0].labels.severity");

  e = refused(with(R"("fingerprint": "0f1e2d3c4b5a6978")", R"("fingerprint": "")"));
  EXPECT_EQ(e.code, "invalid_value");
  EXPECT_EQ(e.field, "alerts[1].fingerprint");

  e = refused(with(R"("fingerprint": "5c5b6f5f3d2e1a0b")", R"("fingerprint": null)"));
  EXPECT_EQ(e.code, "missing_field");
  EXPECT_EQ(e.field, "alerts[0].fingerprint");

  e = refused(with(R"("startsAt": "2026-12-01T17:31:56.123456789Z",)", ""));
  EXPECT_EQ(e.code, "missing_field");
  EXPECT_EQ(e.field, "alerts[0].startsAt");

  e = refused(with(R"("labels": {"alertname": "LLMErrorBurst")",
                   R"("labels": "LLMErrorBurst", "x": {"a": "b")"));
  EXPECT_EQ(e.code, "invalid_type");
  EXPECT_EQ(e.field, "alerts[1].labels");

  e = refused(with(R"("alerts": [
    {)",
                   R"("alerts": [ 7, {)"));
  EXPECT_EQ(e.code, "invalid_type");
  EXPECT_EQ(e.field, "alerts[0]");
}

TEST(AlertmanagerWebhook, RefusesATimeThatIsNotRfc3339) {
  for (const std::string bad :
       {"2026-12-01 17:40:30Z", "2026-12-01T17:40:30", "2026-13-01T17:40:30Z",
        "2026-02-30T17:40:30Z", "2026-12-01T24:00:00Z", "2026-12-01T17:40:30.Z",
        "2026-12-01T17:40:30+0100", "1796146316", ""}) {
    const auto e =
        refused(with(R"("endsAt": "2026-12-01T17:40:30.5Z")", "\"endsAt\": \"" + bad + "\""));
    EXPECT_EQ(e.code, "invalid_value") << bad;
    EXPECT_EQ(e.field, "alerts[1].endsAt") << bad;
  }
}

TEST(AlertmanagerWebhook, RefusesMalformedJsonAndANonObject) {
  auto e = refused(kNotification.substr(0, kNotification.size() / 2));
  EXPECT_EQ(e.code, "invalid_json");
  EXPECT_EQ(e.field, "");
  e = refused("[]");
  EXPECT_EQ(e.code, "invalid_type");
  EXPECT_EQ(e.field, "body");
}

TEST(AlertmanagerWebhook, AcceptsAThousandAlertsAndRefusesOneMore) {
  const std::string alert =
      R"({"status": "firing", "labels": {"alertname": "X"}, "startsAt": "2026-12-01T17:31:56Z",
          "fingerprint": "f"})";
  auto body_with = [&](size_t count) {
    std::string body = R"({"version": "4", "groupKey": "g", "status": "firing", "receiver": "r",
                           "alerts": [)";
    for (size_t i = 0; i < count; ++i) body += (i ? "," : "") + alert;
    return body + "]}";
  };
  EXPECT_EQ(parsed(body_with(kMaxAlertmanagerWebhookAlerts)).alerts.size(),
            kMaxAlertmanagerWebhookAlerts);
  const auto e = refused(body_with(kMaxAlertmanagerWebhookAlerts + 1));
  EXPECT_EQ(e.code, "invalid_value");
  EXPECT_EQ(e.field, "alerts");
}

TEST(AlertmanagerWebhook, RefusesABodyOverTheSizeBoundBeforeParsingIt) {
  const auto e = refused(std::string(kMaxAlertmanagerWebhookBytes + 1, ' '));
  EXPECT_EQ(e.status, 413);
  EXPECT_EQ(e.code, "payload_too_large");
}

TEST(AlertmanagerWebhook, Rfc3339TimesBecomeUnixSeconds) {
  EXPECT_EQ(parse_rfc3339_unix_s("1970-01-01T00:00:00Z"), 0.0);
  EXPECT_EQ(parse_rfc3339_unix_s("0001-01-01T00:00:00Z"), -62135596800.0);
  EXPECT_EQ(parse_rfc3339_unix_s("2026-12-01t17:31:56z"), kStartsAtUnixS);
  EXPECT_EQ(parse_rfc3339_unix_s("2026-12-01T12:01:56-05:30"), kStartsAtUnixS);
  EXPECT_EQ(parse_rfc3339_unix_s("2024-02-29T00:00:00Z"), 1709164800.0);  // a leap day
  EXPECT_NEAR(*parse_rfc3339_unix_s("2026-12-01T17:31:56.5Z"), kStartsAtUnixS + 0.5, 1e-9);
  EXPECT_FALSE(parse_rfc3339_unix_s("2026-12-01T17:31:56.1234567890Z"));  // 10 digits
  EXPECT_FALSE(parse_rfc3339_unix_s("2026-12-01T17:31:56Z "));
}

// Two notifications Debian's Alertmanager 0.25 sent through deploy/alertmanager/alertmanager.yml
// (captured from a listener): an alert firing, then the same alert resolved.
TEST(AlertmanagerWebhook, ReadsWhatAlertmanagerSentForOneAlertFiringThenResolved) {
  const std::string group =
      R"json("groupLabels":{"alertname":"LLMLatencySpike","service":"llm-classifier"},)json"
      R"json("commonLabels":{"alertname":"LLMLatencySpike","monitor":"llm_latency_spike",)json"
      R"json("service":"llm-classifier","severity":"page"},"commonAnnotations":{"summary":"s"},)json"
      R"json("externalURL":"http://vm:19093","version":"4",)json"
      R"json("groupKey":"{}:{alertname=\"LLMLatencySpike\", service=\"llm-classifier\"}",)json"
      R"json("truncatedAlerts":0})json";
  const std::string labels =
      R"json("labels":{"alertname":"LLMLatencySpike","monitor":"llm_latency_spike",)json"
      R"json("service":"llm-classifier","severity":"page"},"annotations":{"summary":"s"},)json";
  const auto firing = parsed(
      R"json({"receiver":"trafficsim","status":"firing","alerts":[{"status":"firing",)json" +
      labels +
      R"json("startsAt":"2026-12-02T02:07:58.991650697Z","endsAt":"0001-01-01T00:00:00Z",)json"
      R"json("generatorURL":"http://x/graph","fingerprint":"ff2716928409ba7c"}],)json" +
      group);
  const auto resolved = parsed(
      R"json({"receiver":"trafficsim","status":"resolved","alerts":[{"status":"resolved",)json" +
      labels +
      R"json("startsAt":"2026-12-02T02:07:58.991650697Z","endsAt":"2026-12-02T02:08:02Z",)json"
      R"json("generatorURL":"","fingerprint":"ff2716928409ba7c"}],)json" +
      group);
  ASSERT_EQ(firing.alerts.size(), 1u);
  ASSERT_EQ(resolved.alerts.size(), 1u);
  EXPECT_EQ(firing.status, AlertStatus::firing);
  EXPECT_EQ(resolved.status, AlertStatus::resolved);
  EXPECT_EQ(firing.alerts[0].fingerprint, resolved.alerts[0].fingerprint);  // the same alert
  EXPECT_FALSE(firing.alerts[0].ends_at.is_set());
  ASSERT_TRUE(resolved.alerts[0].ends_at.is_set());
  EXPECT_NEAR(*resolved.alerts[0].ends_at.unix_s - *resolved.alerts[0].starts_at.unix_s,
              3.008349303, 1e-6);
  EXPECT_EQ(resolved.alerts[0].generator_url, "");
  EXPECT_EQ(resolved.common_labels.at("monitor"), "llm_latency_spike");
}

}  // namespace
}  // namespace trafficsim::incidents
