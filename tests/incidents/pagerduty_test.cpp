// Incidents to PagerDuty's Events API v2: the events' JSON as PagerDuty documents it, and the
// notifier against a real local receiver — order, retries (429 with Retry-After, 5xx, a port
// nobody listens on), no retry on 400, the bounded queue, a stop that does not hang on a
// receiver that never answers, and https with a CA file (a refused certificate is not retried).
#include "incidents/pagerduty.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

#include "incidents/scripted_endpoint.hpp"
#include "support/eventually.hpp"
#include "support/process.hpp"
#include "support/tls_test_server.hpp"

namespace trafficsim::incidents {
namespace {

using namespace std::chrono_literals;
using test::respond;
using test::ScriptedEndpoint;
using test::env_of;
using test::thrown_by;
using trafficsim::testing::eventually;
namespace json = boost::json;

Incident sample_incident() {
  Incident i;
  i.id = "inc-0123456789ab";
  i.title = "LLM latency spike: classify p95 is 4900 ms (threshold 3000 ms)";
  i.status = IncidentStatus::open;
  i.severity = "high";
  i.service = "llm-classifier";
  i.source = IncidentSource::monitor;
  i.monitor_id = "llm_latency_spike";
  i.dashboard_url = "http://127.0.0.1:8080/#/incidents/inc-0123456789ab";
  i.labels = {{"job", "trafficsim-target"}, {"service", "llm-classifier"}};
  i.created_at = 1'796'146'316.5;  // 2026-12-01T17:31:56.500Z
  i.hypotheses = {{"dependency", "The upstream model is slow", 0.4, {}},
                  {"latency_injection", "An injected delay is active", 0.9, {"fault: delay"}}};
  return i;
}

PagerDutyOptions options_for(const std::string& url) {
  PagerDutyOptions o;
  o.url = url;
  o.routing_key = "R0UT1NGKEY0123456789ABCDEFGHIJKL";
  o.source = "test-host";
  o.initial_backoff = 10ms;
  o.max_backoff = 50ms;
  o.timeout = 2s;
  return o;
}

json::object body_of(const test::RecordedRequest& r) {
  return json::parse(r.body).as_object();
}

bool flushed(PagerDutyNotifier& n) {
  return n.flush(std::chrono::steady_clock::now() + 10s);
}

TEST(PagerDutyEvent, TriggerCarriesThePayloadPagerDutyDocuments) {
  const auto event =
      pagerduty_event(sample_incident(), PagerDutyAction::trigger, "key123", "test-host");
  EXPECT_EQ(event.at("routing_key"), "key123");
  EXPECT_EQ(event.at("event_action"), "trigger");
  EXPECT_EQ(event.at("dedup_key"), "trafficsim-inc-0123456789ab");
  EXPECT_EQ(event.at("client"), "trafficsim");
  EXPECT_EQ(event.at("client_url"), "http://127.0.0.1:8080/#/incidents/inc-0123456789ab");
  const auto& links = event.at("links").as_array();
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0].at("href"), "http://127.0.0.1:8080/#/incidents/inc-0123456789ab");
  EXPECT_EQ(links[0].at("text"), "trafficsim incident");

  const auto& p = event.at("payload").as_object();
  EXPECT_EQ(p.at("summary"), "LLM latency spike: classify p95 is 4900 ms (threshold 3000 ms)");
  EXPECT_EQ(p.at("source"), "test-host");
  EXPECT_EQ(p.at("severity"), "error");
  EXPECT_EQ(p.at("component"), "llm-classifier");
  EXPECT_EQ(p.at("group"), "trafficsim-target");
  EXPECT_EQ(p.at("class"), "latency_injection");  // the most confident hypothesis
  EXPECT_EQ(p.at("timestamp"), "2026-12-01T17:31:56.500Z");
  const auto& d = p.at("custom_details").as_object();
  EXPECT_EQ(d.at("incident_id"), "inc-0123456789ab");
  EXPECT_EQ(d.at("status"), "open");
  EXPECT_EQ(d.at("dashboard_url"), "http://127.0.0.1:8080/#/incidents/inc-0123456789ab");
  const auto& hs = d.at("hypotheses").as_array();
  ASSERT_EQ(hs.size(), 2u);
  EXPECT_EQ(hs[0].at("category"), "latency_injection");
  EXPECT_DOUBLE_EQ(hs[0].at("confidence").as_double(), 0.9);
  EXPECT_EQ(hs[1].at("category"), "dependency");
}

TEST(PagerDutyEvent, ResolveCarriesOnlyTheKeysAndTheSameDedupKey) {
  const auto trigger = pagerduty_event(sample_incident(), PagerDutyAction::trigger, "k", "h");
  const auto resolve = pagerduty_event(sample_incident(), PagerDutyAction::resolve, "k", "h");
  EXPECT_EQ(resolve.size(), 3u);
  EXPECT_EQ(resolve.at("event_action"), "resolve");
  EXPECT_EQ(resolve.at("routing_key"), "k");
  EXPECT_EQ(resolve.at("dedup_key"), trigger.at("dedup_key"));
}

TEST(PagerDutyEvent, SeveritiesMapOntoPagerDutysFour) {
  EXPECT_EQ(pagerduty_severity("critical"), "critical");
  EXPECT_EQ(pagerduty_severity("page"), "critical");
  EXPECT_EQ(pagerduty_severity("high"), "error");
  EXPECT_EQ(pagerduty_severity("medium"), "warning");
  EXPECT_EQ(pagerduty_severity("ticket"), "warning");
  EXPECT_EQ(pagerduty_severity("low"), "info");
  EXPECT_EQ(pagerduty_severity("whatever"), "error");
}

TEST(PagerDutyEvent, LongTitleIsCutTo1024BytesOnACharacterBoundary) {
  Incident i = sample_incident();
  i.title = "x";
  for (int k = 0; k < 600; ++k) i.title += "\xC3\xA9";  // é, two bytes each: 1 201 bytes
  i.hypotheses.clear();
  i.dashboard_url.clear();
  const auto event = pagerduty_event(i, PagerDutyAction::trigger, "k", "h");
  const std::string summary(event.at("payload").at("summary").as_string());
  EXPECT_LE(summary.size(), 1024u);
  EXPECT_EQ(summary.size(), 1023u);  // "x" + 511 whole é
  EXPECT_FALSE(event.at("payload").as_object().contains("class"));
  EXPECT_FALSE(event.contains("links"));
  EXPECT_FALSE(event.contains("client_url"));
}

TEST(PagerDutyNotifier, TriggerThenResolveArriveInOrderWithOneDedupKey) {
  ScriptedEndpoint receiver({respond(202, R"({"status":"success","dedup_key":"x"})")});
  PagerDutyNotifier notifier(options_for(receiver.url("/v2/enqueue")));
  EXPECT_TRUE(notifier.notify(sample_incident(), PagerDutyAction::trigger));
  EXPECT_TRUE(notifier.notify(sample_incident(), PagerDutyAction::resolve));
  ASSERT_TRUE(flushed(notifier));

  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/v2/enqueue");
  EXPECT_EQ(requests[0].header("Content-Type"), "application/json");
  const auto first = body_of(requests[0]);
  const auto second = body_of(requests[1]);
  EXPECT_EQ(first.at("event_action"), "trigger");
  EXPECT_EQ(first.at("routing_key"), "R0UT1NGKEY0123456789ABCDEFGHIJKL");
  EXPECT_EQ(first.at("payload").at("source"), "test-host");
  EXPECT_EQ(first.at("payload").at("severity"), "error");
  EXPECT_EQ(second.at("event_action"), "resolve");
  EXPECT_EQ(second.at("dedup_key"), first.at("dedup_key"));
  const auto stats = notifier.stats();
  EXPECT_EQ(stats.sent, 2u);
  EXPECT_EQ(stats.failed, 0u);
  EXPECT_EQ(stats.retried, 0u);
}

TEST(PagerDutyNotifier, RateLimitedIsRetriedAfterRetryAfterThenSent) {
  ScriptedEndpoint receiver({respond(429, R"({"status":"throttled"})", {{"Retry-After", "0"}}),
                             respond(429, R"({"status":"throttled"})", {{"Retry-After", "1"}}),
                             respond(202)});
  auto options = options_for(receiver.url("/v2/enqueue"));
  options.max_backoff = 5s;  // Retry-After: 1 is honoured, not cut to the test's 50 ms
  PagerDutyNotifier notifier(options);
  const auto start = std::chrono::steady_clock::now();
  notifier.notify(sample_incident(), PagerDutyAction::trigger);
  ASSERT_TRUE(flushed(notifier));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);  // waited the second's Retry-After
  EXPECT_EQ(receiver.count(), 3u);
  const auto stats = notifier.stats();
  EXPECT_EQ(stats.sent, 1u);
  EXPECT_EQ(stats.retried, 2u);
  EXPECT_EQ(stats.failed, 0u);
}

TEST(PagerDutyNotifier, ServerErrorsAreRetriedWithBackoff) {
  ScriptedEndpoint receiver({respond(500), respond(503), respond(202)});
  PagerDutyNotifier notifier(options_for(receiver.url()));
  notifier.notify(sample_incident(), PagerDutyAction::trigger);
  ASSERT_TRUE(flushed(notifier));
  EXPECT_EQ(receiver.count(), 3u);
  EXPECT_EQ(notifier.stats().sent, 1u);
  EXPECT_EQ(notifier.stats().retried, 2u);
}

TEST(PagerDutyNotifier, BadRequestIsNotRetriedAndCountsFailed) {
  ScriptedEndpoint receiver(
      {respond(400, R"({"status":"invalid event","message":"Event object is invalid"})")});
  PagerDutyNotifier notifier(options_for(receiver.url()));
  notifier.notify(sample_incident(), PagerDutyAction::trigger);
  ASSERT_TRUE(flushed(notifier));
  EXPECT_EQ(receiver.count(), 1u);
  const auto stats = notifier.stats();
  EXPECT_EQ(stats.failed, 1u);
  EXPECT_EQ(stats.retried, 0u);
  EXPECT_EQ(stats.sent, 0u);
  EXPECT_NE(stats.last_error.find("HTTP 400"), std::string::npos) << stats.last_error;
  EXPECT_NE(stats.last_error.find("invalid event"), std::string::npos) << stats.last_error;
}

TEST(PagerDutyNotifier, UnreachableReceiverFailsAfterMaxAttempts) {
  auto options = options_for("http://127.0.0.1:" + std::to_string(testing::free_port()) + "/");
  options.max_attempts = 3;
  PagerDutyNotifier notifier(options);
  notifier.notify(sample_incident(), PagerDutyAction::trigger);
  ASSERT_TRUE(flushed(notifier));
  const auto stats = notifier.stats();
  EXPECT_EQ(stats.failed, 1u);
  EXPECT_EQ(stats.retried, 2u);
  EXPECT_EQ(stats.sent, 0u);
  EXPECT_FALSE(stats.last_error.empty());
}

TEST(PagerDutyNotifier, FullQueueDropsAndCountsWithoutBlockingTheCaller) {
  http::test::ParkedReplies parked;
  auto receiver = http::test::start_server({}, parked.handler());
  auto options = options_for(receiver->url());
  options.queue_capacity = 2;
  PagerDutyNotifier notifier(options);
  ASSERT_TRUE(notifier.notify(sample_incident(), PagerDutyAction::trigger));
  auto in_flight = parked.take();  // the worker now waits on this one
  ASSERT_TRUE(in_flight);

  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(notifier.notify(sample_incident(), PagerDutyAction::acknowledge));
  EXPECT_TRUE(notifier.notify(sample_incident(), PagerDutyAction::resolve));
  EXPECT_FALSE(notifier.notify(sample_incident(), PagerDutyAction::resolve));
  EXPECT_FALSE(notifier.notify(sample_incident(), PagerDutyAction::resolve));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
  EXPECT_EQ(notifier.stats().dropped, 2u);

  in_flight->reply.send(respond(202));
  for (int i = 0; i < 2; ++i) {
    auto next = parked.take();
    ASSERT_TRUE(next);
    EXPECT_EQ(body_of({next->request->method, next->request->target, next->request->body, {}})
                  .at("event_action"),
              i == 0 ? "acknowledge" : "resolve");
    next->reply.send(respond(202));
  }
  ASSERT_TRUE(flushed(notifier));
  EXPECT_EQ(notifier.stats().sent, 3u);
  EXPECT_EQ(notifier.stats().dropped, 2u);
}

TEST(PagerDutyNotifier, StopWithAReceiverThatNeverAnswersReturnsAndCountsDropped) {
  http::test::ParkedReplies parked;  // never answered
  auto receiver = http::test::start_server({}, parked.handler());
  auto options = options_for(receiver->url());
  options.timeout = 30s;
  options.shutdown_grace = 300ms;
  PagerDutyNotifier notifier(options);
  notifier.notify(sample_incident(), PagerDutyAction::trigger);
  ASSERT_TRUE(parked.take());
  notifier.notify(sample_incident(), PagerDutyAction::resolve);

  const auto start = std::chrono::steady_clock::now();
  notifier.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  const auto stats = notifier.stats();
  EXPECT_EQ(stats.dropped, 2u);  // the one in flight and the one queued
  EXPECT_EQ(stats.sent + stats.failed, 0u);
  EXPECT_FALSE(notifier.notify(sample_incident(), PagerDutyAction::trigger));
  EXPECT_EQ(notifier.stats().dropped, 3u);
}

TEST(PagerDutyNotifier, DestructorWithABlockedReceiverReturnsWithinTheGrace) {
  http::test::ParkedReplies parked;
  auto receiver = http::test::start_server({}, parked.handler());
  auto options = options_for(receiver->url());
  options.timeout = 30s;  // the default 2 s grace must bound the wait, not the call's timeout
  options.shutdown_grace = PagerDutyOptions{}.shutdown_grace;
  auto notifier = std::make_unique<PagerDutyNotifier>(options);
  for (int i = 0; i < 5; ++i) notifier->notify(sample_incident(), PagerDutyAction::trigger);
  ASSERT_TRUE(parked.take());
  const auto start = std::chrono::steady_clock::now();
  notifier.reset();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 1500ms);  // it did give the pending events their grace
  EXPECT_LT(took, 4s);
}

TEST(PagerDutyNotifier, DeliversOverHttpsTrustingTheCaFile) {
  trafficsim::testing::TempDir dir;
  const auto certs = trafficsim::testing::make_test_certificates(dir.path());
  trafficsim::testing::TlsTestServer receiver(
      certs.cert_file, certs.key_file, [](const trafficsim::testing::TlsTestRequest&) {
        return trafficsim::testing::TlsTestResponse{202, "application/json",
                                                    R"({"status":"success"})"};
      });
  auto options = options_for(receiver.url() + "/v2/enqueue");
  options.ca_file = certs.ca_file;
  PagerDutyNotifier notifier(options);
  notifier.notify(sample_incident(), PagerDutyAction::trigger);
  ASSERT_TRUE(flushed(notifier));
  EXPECT_EQ(notifier.stats().sent, 1u) << notifier.stats().last_error;
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/v2/enqueue");
  EXPECT_EQ(json::parse(requests[0].body).as_object().at("dedup_key"),
            "trafficsim-inc-0123456789ab");
}

TEST(PagerDutyNotifier, ARefusedCertificateFailsAtOnceWithoutRetries) {
  trafficsim::testing::TempDir dir;
  const auto certs = trafficsim::testing::make_test_certificates(dir.path());
  trafficsim::testing::TlsTestServer receiver(certs.cert_file, certs.key_file,
                                              [](const trafficsim::testing::TlsTestRequest&) {
                                                return trafficsim::testing::TlsTestResponse{202};
                                              });
  PagerDutyNotifier notifier(options_for(receiver.url() + "/v2/enqueue"));  // no CA file
  notifier.notify(sample_incident(), PagerDutyAction::trigger);
  ASSERT_TRUE(flushed(notifier));
  const auto stats = notifier.stats();
  EXPECT_EQ(stats.failed, 1u);
  EXPECT_EQ(stats.retried, 0u);
  EXPECT_NE(stats.last_error.find("certificate verification failed"), std::string::npos)
      << stats.last_error;
  EXPECT_TRUE(receiver.requests().empty());
}

TEST(PagerDutyNotifier, RefusesAnEmptyKeyAndAnUnusableCaFileButTakesPagerDutysHttpsUrl) {
  auto options = options_for("http://127.0.0.1:1/");
  options.routing_key.clear();
  EXPECT_NE(thrown_by([&] { PagerDutyNotifier n(options); }).find("routing key"),
            std::string::npos);
  auto bad_ca = options_for("http://127.0.0.1:1/");
  bad_ca.ca_file = "/nonexistent/ca.pem";
  EXPECT_NE(thrown_by([&] { PagerDutyNotifier n(bad_ca); }).find("/nonexistent/ca.pem"),
            std::string::npos);
  EXPECT_EQ(thrown_by([&] { PagerDutyNotifier n(PagerDutyOptions{.routing_key = "k"}); }),
            "(nothing thrown)");
}

TEST(PagerDutyOptionsFrom, NothingConfiguredIsOff) {
  EXPECT_FALSE(pagerduty_options_from("", env_of({})));
}

TEST(PagerDutyOptionsFrom, FlagAndKeyFromTheEnvironment) {
  auto options = pagerduty_options_from(
      "http://relay.local:8080/v2/enqueue",
      env_of({{"PAGERDUTY_ROUTING_KEY", "abc123"}, {"TRAFFICSIM_PAGERDUTY_URL", "http://other/"}}));
  ASSERT_TRUE(options);
  EXPECT_EQ(options->url, "http://relay.local:8080/v2/enqueue");  // the flag wins
  EXPECT_EQ(options->routing_key, "abc123");

  auto from_env = pagerduty_options_from("", env_of({{"PAGERDUTY_ROUTING_KEY", "abc123"},
                                                     {"TRAFFICSIM_PAGERDUTY_URL", "http://o/x"}}));
  ASSERT_TRUE(from_env);
  EXPECT_EQ(from_env->url, "http://o/x");
}

TEST(PagerDutyOptionsFrom, BadValuesNameTheFlagOrVariable) {
  auto key = env_of({{"PAGERDUTY_ROUTING_KEY", "abc"}});
  EXPECT_NE(thrown_by([&] { pagerduty_options_from("ftp://x/", key); }).find("--notify-pagerduty"),
            std::string::npos);
  EXPECT_NE(thrown_by([&] {
              pagerduty_options_from("http://x/", env_of({}));
            }).find("PAGERDUTY_ROUTING_KEY"),
            std::string::npos);
  EXPECT_NE(thrown_by([&] {
              pagerduty_options_from("", env_of({{"TRAFFICSIM_PAGERDUTY_URL", "nonsense"},
                                                 {"PAGERDUTY_ROUTING_KEY", "abc"}}));
            }).find("TRAFFICSIM_PAGERDUTY_URL"),
            std::string::npos);
  EXPECT_NE(thrown_by([&] {
              pagerduty_options_from("http://x/", env_of({{"PAGERDUTY_ROUTING_KEY", "a b"}}));
            }).find("PAGERDUTY_ROUTING_KEY"),
            std::string::npos);
  EXPECT_NE(thrown_by([&] {
              pagerduty_options_from("http://x/", env_of({{"PAGERDUTY_ROUTING_KEY", ""}}));
            }).find("PAGERDUTY_ROUTING_KEY: must not be empty"),
            std::string::npos);
  EXPECT_NE(thrown_by([&] {
              pagerduty_options_from("", env_of({{"PAGERDUTY_ROUTING_KEY", "abc"},
                                                 {"TRAFFICSIM_CA_FILE", "/nonexistent/ca.pem"}}));
            }).find("TRAFFICSIM_CA_FILE: CA file '/nonexistent/ca.pem': cannot read it"),
            std::string::npos);
}

TEST(PagerDutyOptionsFrom, HttpsUrlsAndTheCaFileAreTaken) {
  // The key alone means PagerDuty's own https URL.
  auto defaulted = pagerduty_options_from("", env_of({{"PAGERDUTY_ROUTING_KEY", "abc"}}));
  ASSERT_TRUE(defaulted);
  EXPECT_EQ(defaulted->url, "https://events.pagerduty.com/v2/enqueue");
  EXPECT_EQ(defaulted->ca_file, "");

  trafficsim::testing::TempDir dir;
  const auto certs = trafficsim::testing::make_test_certificates(dir.path());
  auto relay = pagerduty_options_from(
      "https://relay.local:8443/v2/enqueue",
      env_of({{"PAGERDUTY_ROUTING_KEY", "abc"}, {"TRAFFICSIM_CA_FILE", certs.ca_file}}));
  ASSERT_TRUE(relay);
  EXPECT_EQ(relay->url, "https://relay.local:8443/v2/enqueue");
  EXPECT_EQ(relay->ca_file, certs.ca_file);
}

}  // namespace
}  // namespace trafficsim::incidents
