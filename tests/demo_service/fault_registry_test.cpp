#include "demo_service/fault_registry.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>

#include "core/random.hpp"

namespace trafficsim::demo_service {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr double kNow = 1'764'320'000;

Fault parsed(std::string_view json, double now = kNow) {
  auto result = parse_fault(json, now);
  if (const auto* error = std::get_if<ApiError>(&result)) {
    ADD_FAILURE() << "rejected: " << error->field << ": " << error->message << "\n" << json;
    return Fault{};
  }
  return std::get<Fault>(result);
}

// parse_fault rejects `json` as 400 invalid_fault naming `field` in both field and message.
::testing::AssertionResult RejectsNaming(std::string_view json, std::string_view field) {
  auto result = parse_fault(json, kNow);
  const auto* error = std::get_if<ApiError>(&result);
  if (error == nullptr) return ::testing::AssertionFailure() << "accepted " << json;
  if (error->status != 400 || error->code != "invalid_fault" || error->field != field ||
      error->message.find(field) == std::string::npos) {
    return ::testing::AssertionFailure() << "got " << error->status << " " << error->code
                                         << " field '" << error->field << "': " << error->message;
  }
  return ::testing::AssertionSuccess();
}

// A fault on `route` that always delays by delay_ms.
Fault delay_fault(std::string name, std::string route, double delay_ms) {
  Fault fault;
  fault.name = std::move(name);
  fault.route = std::move(route);
  fault.method = "*";
  fault.delay = FaultDelay{delay_ms, 0};
  return fault;
}

Fault abort_fault(std::string name, std::string route, int status) {
  Fault fault;
  fault.name = std::move(name);
  fault.route = std::move(route);
  fault.method = "*";
  fault.abort = FaultAbort{status, "{}", "application/json"};
  return fault;
}

FaultRegistry::PutOutcome put_ok(FaultRegistry& registry, Fault fault) {
  auto result = registry.put(std::move(fault));
  if (const auto* error = std::get_if<ApiError>(&result)) {
    ADD_FAILURE() << error->message;
    return FaultRegistry::PutOutcome::created;
  }
  return std::get<FaultRegistry::PutOutcome>(result);
}

// ---- parsing --------------------------------------------------------------------------------

TEST(FaultParseTest, ParsesTheFullDefinition) {
  const Fault fault = parsed(R"({"name":"slow-recs","route":"/products/recommendations",
      "method":"get","probability":0.5,"delay":{"mean_ms":800,"jitter_ms":200},
      "abort":{"status":503,"body":{"error":"injected"}},"expires_in":"30s"})");
  EXPECT_EQ(fault.name, "slow-recs");
  EXPECT_EQ(fault.route, "/products/recommendations");
  EXPECT_EQ(fault.method, "GET");
  EXPECT_EQ(fault.probability, 0.5);
  ASSERT_TRUE(fault.delay);
  EXPECT_EQ(fault.delay->mean_ms, 800);
  EXPECT_EQ(fault.delay->jitter_ms, 200);
  ASSERT_TRUE(fault.abort);
  EXPECT_EQ(fault.abort->status, 503);
  EXPECT_EQ(boost::json::parse(fault.abort->body), boost::json::parse(R"({"error":"injected"})"));
  EXPECT_EQ(fault.abort->content_type, "application/json");
  EXPECT_EQ(fault.expires_at_unix, kNow + 30);
  EXPECT_EQ(fault.created_at_unix, kNow);
  EXPECT_EQ(fault.hits, 0u);
}

TEST(FaultParseTest, AppliesDefaults) {
  const Fault fault = parsed(R"({"name":"a","route":"/x","delay":{"mean_ms":5}})");
  EXPECT_EQ(fault.method, "*");
  EXPECT_EQ(fault.probability, 1.0);
  EXPECT_EQ(fault.delay->jitter_ms, 0);
  EXPECT_FALSE(fault.abort);
  EXPECT_FALSE(fault.expires_at_unix);
}

TEST(FaultParseTest, DefaultAbortBodyNamesTheFault) {
  const Fault fault = parsed(R"({"name":"boom","route":"/x","abort":{"status":500}})");
  EXPECT_EQ(boost::json::parse(fault.abort->body),
            boost::json::parse(R"({"error":"fault injected","fault":"boom"})"));
  EXPECT_EQ(fault.abort->content_type, "application/json");
  EXPECT_FALSE(fault.delay);
}

TEST(FaultParseTest, StringAbortBodyIsPlainText) {
  const Fault fault =
      parsed(R"({"name":"t","route":"/x","abort":{"status":502,"body":"Bad Gateway"}})");
  EXPECT_EQ(fault.abort->body, "Bad Gateway");
  EXPECT_EQ(fault.abort->content_type, "text/plain");
  const Fault list = parsed(R"({"name":"t","route":"/x","abort":{"status":502,"body":[1,"two"]}})");
  EXPECT_EQ(list.abort->body, R"([1,"two"])");
  EXPECT_EQ(list.abort->content_type, "application/json");
}

TEST(FaultParseTest, AcceptsDurationsAndSecondsForExpiry) {
  const std::vector<std::pair<std::string, double>> cases{
      {R"("30s")", 30},     {R"("250ms")", 0.25}, {R"("5m")", 300}, {R"("1h")", 3600},
      {R"("1h30m")", 5400}, {"45", 45},           {"0.5", 0.5}};
  for (const auto& [text, seconds] : cases) {
    const Fault fault =
        parsed(R"({"name":"e","route":"/x","delay":{"mean_ms":1},"expires_in":)" + text + "}");
    ASSERT_TRUE(fault.expires_at_unix) << text;
    EXPECT_DOUBLE_EQ(*fault.expires_at_unix, kNow + seconds) << text;
  }
}

TEST(FaultParseTest, ExpiryHasOneUpperBoundForBothForms) {
  // Exactly the bound (30 days) is accepted, written either way.
  for (const std::string text : {R"("720h")", "2592000"}) {
    const Fault fault =
        parsed(R"({"name":"e","route":"/x","delay":{"mean_ms":1},"expires_in":)" + text + "}");
    ASSERT_TRUE(fault.expires_at_unix) << text;
    EXPECT_DOUBLE_EQ(*fault.expires_at_unix, kNow + kMaxFaultExpiresSeconds) << text;
  }
  // Beyond it both forms are refused, with one message naming the field and the bound. A number
  // used to be accepted whatever its size (1e12 s: 31 700 years).
  std::vector<std::string> messages;
  for (const std::string text : {R"("721h")", "2592001", R"("1000000h")", "1e12", "1e300"}) {
    const std::string json =
        R"({"name":"e","route":"/x","delay":{"mean_ms":1},"expires_in":)" + text + "}";
    EXPECT_TRUE(RejectsNaming(json, "expires_in")) << text;
    auto result = parse_fault(json, kNow);
    if (const auto* error = std::get_if<ApiError>(&result)) messages.push_back(error->message);
  }
  ASSERT_EQ(messages.size(), 5u);
  for (const auto& message : messages) {
    EXPECT_EQ(message, messages.front());
    EXPECT_NE(message.find("30 days"), std::string::npos) << message;
  }
}

TEST(FaultParseTest, AcceptsEveryMethodAndTheWildcard) {
  for (const char* method : {"GET", "post", "Put", "PATCH", "delete", "HEAD", "OPTIONS", "*"}) {
    const Fault fault = parsed(std::string(R"({"name":"m","route":"/x","abort":{"status":500},)") +
                               R"("method":")" + method + "\"}");
    EXPECT_EQ(fault.method, [&] {
      std::string upper(method);
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return upper;
    }());
  }
}

TEST(FaultParseTest, AcceptsTheEdgesOfEveryRange) {
  parsed(R"({"name":"a","route":"/","probability":0,"abort":{"status":400}})");
  parsed(R"({"name":"a","route":"/","probability":1,"abort":{"status":599.0}})");
  parsed(R"({"name":"a","route":"/","delay":{"mean_ms":0,"jitter_ms":60000}})");
  parsed(R"({"name":"a","route":"/","delay":{"mean_ms":60000}})");
  parsed(R"({"name":")" + std::string(64, 'n') + R"(","route":"/","delay":{"mean_ms":1}})");
  parsed(R"({"name":"A_z.0-9","route":"/*","delay":{"mean_ms":1}})");
}

TEST(FaultParseTest, NamesEveryInvalidField) {
  const std::string ok_action = R"("delay":{"mean_ms":1})";
  const std::vector<std::pair<std::string, std::string>> cases{
      // name
      {R"({"route":"/x",)" + ok_action + "}", "name"},
      {R"({"name":7,"route":"/x",)" + ok_action + "}", "name"},
      {R"({"name":"","route":"/x",)" + ok_action + "}", "name"},
      {R"({"name":"has space","route":"/x",)" + ok_action + "}", "name"},
      {R"({"name":"a/b","route":"/x",)" + ok_action + "}", "name"},
      {R"({"name":")" + std::string(65, 'n') + R"(","route":"/x",)" + ok_action + "}", "name"},
      // route
      {R"({"name":"a",)" + ok_action + "}", "route"},
      {R"({"name":"a","route":5,)" + ok_action + "}", "route"},
      {R"({"name":"a","route":"",)" + ok_action + "}", "route"},
      {R"({"name":"a","route":"products",)" + ok_action + "}", "route"},
      {R"({"name":"a","route":"/)" + std::string(512, 'r') + R"(",)" + ok_action + "}", "route"},
      // method
      {R"({"name":"a","route":"/x","method":"FETCH",)" + ok_action + "}", "method"},
      {R"({"name":"a","route":"/x","method":["GET"],)" + ok_action + "}", "method"},
      // probability
      {R"({"name":"a","route":"/x","probability":1.5,)" + ok_action + "}", "probability"},
      {R"({"name":"a","route":"/x","probability":-0.1,)" + ok_action + "}", "probability"},
      {R"({"name":"a","route":"/x","probability":"half",)" + ok_action + "}", "probability"},
      // delay
      {R"({"name":"a","route":"/x","delay":800})", "delay"},
      {R"({"name":"a","route":"/x","delay":{}})", "delay.mean_ms"},
      {R"({"name":"a","route":"/x","delay":{"mean_ms":-1}})", "delay.mean_ms"},
      {R"({"name":"a","route":"/x","delay":{"mean_ms":60001}})", "delay.mean_ms"},
      {R"({"name":"a","route":"/x","delay":{"mean_ms":"800"}})", "delay.mean_ms"},
      {R"({"name":"a","route":"/x","delay":{"mean_ms":1,"jitter_ms":-5}})", "delay.jitter_ms"},
      {R"({"name":"a","route":"/x","delay":{"mean_ms":1,"jitter_ms":true}})", "delay.jitter_ms"},
      {R"({"name":"a","route":"/x","delay":{"mean_ms":1,"latency":3}})", "delay.latency"},
      // abort
      {R"({"name":"a","route":"/x","abort":503})", "abort"},
      {R"({"name":"a","route":"/x","abort":{}})", "abort.status"},
      {R"({"name":"a","route":"/x","abort":{"status":200}})", "abort.status"},
      {R"({"name":"a","route":"/x","abort":{"status":600}})", "abort.status"},
      {R"({"name":"a","route":"/x","abort":{"status":503.5}})", "abort.status"},
      {R"({"name":"a","route":"/x","abort":{"status":"503"}})", "abort.status"},
      {R"({"name":"a","route":"/x","abort":{"status":503,"headers":{}}})", "abort.headers"},
      // expires_in
      {R"({"name":"a","route":"/x",)" + ok_action + R"(,"expires_in":"soon"})", "expires_in"},
      {R"({"name":"a","route":"/x",)" + ok_action + R"(,"expires_in":"0s"})", "expires_in"},
      {R"({"name":"a","route":"/x",)" + ok_action + R"(,"expires_in":0})", "expires_in"},
      {R"({"name":"a","route":"/x",)" + ok_action + R"(,"expires_in":-30})", "expires_in"},
      {R"({"name":"a","route":"/x",)" + ok_action + R"(,"expires_in":"-30s"})", "expires_in"},
      {R"({"name":"a","route":"/x",)" + ok_action + R"(,"expires_in":null})", "expires_in"},
      // unknown top-level field
      {R"({"name":"a","route":"/x",)" + ok_action + R"(,"percent":50})", "percent"},
  };
  for (const auto& [json, field] : cases) EXPECT_TRUE(RejectsNaming(json, field)) << json;
}

TEST(FaultParseTest, RequiresADelayOrAnAbort) {
  auto result = parse_fault(R"({"name":"a","route":"/x"})", kNow);
  const auto* error = std::get_if<ApiError>(&result);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->status, 400);
  EXPECT_EQ(error->code, "invalid_fault");
  EXPECT_NE(error->message.find("delay"), std::string::npos);
  EXPECT_NE(error->message.find("abort"), std::string::npos);
}

TEST(FaultParseTest, RejectsBodiesThatAreNotJsonObjects) {
  auto malformed = parse_fault("{name:", kNow);
  ASSERT_TRUE(std::holds_alternative<ApiError>(malformed));
  EXPECT_EQ(std::get<ApiError>(malformed).code, "invalid_json");
  EXPECT_EQ(std::get<ApiError>(malformed).status, 400);
  auto array = parse_fault("[]", kNow);
  ASSERT_TRUE(std::holds_alternative<ApiError>(array));
  EXPECT_EQ(std::get<ApiError>(array).code, "invalid_type");
  EXPECT_EQ(std::get<ApiError>(array).field, "body");
}

TEST(FaultParseTest, ToJsonShowsTheDefinitionHitsAndTimeLeft) {
  Fault fault = parsed(R"({"name":"slow","route":"/p","method":"GET","probability":0.25,
      "delay":{"mean_ms":800,"jitter_ms":200},"abort":{"status":503,"body":{"e":1}},
      "expires_in":"30s"})");
  fault.hits = 12;
  const boost::json::object json = fault_to_json(fault, kNow + 10);
  EXPECT_EQ(json.at("name").as_string(), "slow");
  EXPECT_EQ(json.at("route").as_string(), "/p");
  EXPECT_EQ(json.at("method").as_string(), "GET");
  EXPECT_EQ(json.at("probability").to_number<double>(), 0.25);
  EXPECT_EQ(json.at("delay").at("mean_ms").to_number<double>(), 800);
  EXPECT_EQ(json.at("delay").at("jitter_ms").to_number<double>(), 200);
  EXPECT_EQ(json.at("abort").at("status").to_number<int>(), 503);
  EXPECT_EQ(json.at("abort").at("body"), boost::json::parse(R"({"e":1})"));
  EXPECT_EQ(json.at("abort").at("content_type").as_string(), "application/json");
  EXPECT_EQ(json.at("hits").to_number<uint64_t>(), 12u);
  EXPECT_DOUBLE_EQ(json.at("expires_in_seconds").to_number<double>(), 20);
  EXPECT_DOUBLE_EQ(json.at("expires_at").to_number<double>(), kNow + 30);
  EXPECT_DOUBLE_EQ(json.at("created_at").to_number<double>(), kNow);
}

TEST(FaultParseTest, ToJsonWithoutExpiryHasNulls) {
  const Fault fault = parsed(R"({"name":"t","route":"/x","abort":{"status":500,"body":"oops"}})");
  const boost::json::object json = fault_to_json(fault, kNow);
  EXPECT_TRUE(json.at("expires_in_seconds").is_null());
  EXPECT_TRUE(json.at("expires_at").is_null());
  EXPECT_EQ(json.at("abort").at("body").as_string(), "oops");
  EXPECT_FALSE(json.contains("delay"));
}

// ---- route patterns -------------------------------------------------------------------------

TEST(RoutePatternTest, MatchesLiterallyWithoutStars) {
  EXPECT_TRUE(route_pattern_matches("/products", "/products"));
  EXPECT_FALSE(route_pattern_matches("/products", "/products/1"));
  EXPECT_FALSE(route_pattern_matches("/products", "/product"));
  EXPECT_FALSE(route_pattern_matches("/products", ""));
  EXPECT_TRUE(route_pattern_matches("/api/v1/users/{id}", "/api/v1/users/{id}"));
}

TEST(RoutePatternTest, StarMatchesAnyRunIncludingSlashesAndNothing) {
  EXPECT_TRUE(route_pattern_matches("/*", "/"));
  EXPECT_TRUE(route_pattern_matches("/*", "/api/v1/users/7"));
  EXPECT_TRUE(route_pattern_matches("/products*", "/products"));
  EXPECT_TRUE(route_pattern_matches("/products*", "/products/recommendations"));
  EXPECT_TRUE(route_pattern_matches("/api/*/users", "/api/v1/users"));
  EXPECT_TRUE(route_pattern_matches("/api/*/users", "/api/v1/beta/users"));
  EXPECT_FALSE(route_pattern_matches("/api/*/users", "/api/v1/users/7"));
  EXPECT_TRUE(route_pattern_matches("/api/*/users/*", "/api/v1/users/7"));
  EXPECT_TRUE(route_pattern_matches("*/error", "/api/v1/users/error"));
  EXPECT_TRUE(route_pattern_matches("/a*b*c", "/aXbYbZc"));
  EXPECT_FALSE(route_pattern_matches("/a*b*c", "/aXbYbZ"));
  EXPECT_TRUE(route_pattern_matches("/**", "/x"));
}

TEST(RoutePatternTest, PathologicalPatternsStayFast) {
  const std::string text = "/" + std::string(5000, 'a');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(route_pattern_matches("/*a*a*a*a*a*a*a*a*b", text));
  // Backtracking would take astronomically long; linear matching takes microseconds. The bound
  // only tells the two apart, on any machine.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

// ---- registry -------------------------------------------------------------------------------

TEST(FaultRegistryTest, NoFaultsMeansNoEffect) {
  FaultRegistry registry([] { return kNow; });
  EXPECT_TRUE(registry.empty());
  const FaultDecision decision = registry.evaluate("GET", "/products", "/products", 1);
  EXPECT_EQ(decision.delay, microseconds(0));
  EXPECT_FALSE(decision.abort);
  EXPECT_TRUE(decision.applied.empty());
}

TEST(FaultRegistryTest, MatchesTheRouteTemplateOrThePath) {
  FaultRegistry registry([] { return kNow; });
  put_ok(registry, delay_fault("by-template", "/api/v1/users/{id}", 100));
  put_ok(registry, delay_fault("by-path", "/api/v1/users/42", 10));
  EXPECT_FALSE(registry.empty());
  EXPECT_EQ(registry.evaluate("GET", "/api/v1/users/{id}", "/api/v1/users/7", 1).delay,
            milliseconds(100));
  EXPECT_EQ(registry.evaluate("GET", "/api/v1/users/{id}", "/api/v1/users/42", 1).delay,
            milliseconds(110));
  EXPECT_EQ(registry.evaluate("GET", "", "/api/v1/users/42", 1).delay, milliseconds(10));
  EXPECT_EQ(registry.evaluate("GET", "/products", "/products", 1).delay, microseconds(0));
}

TEST(FaultRegistryTest, MatchesTheMethod) {
  FaultRegistry registry([] { return kNow; });
  Fault post_only = delay_fault("post", "/x", 50);
  post_only.method = "POST";
  put_ok(registry, post_only);
  EXPECT_EQ(registry.evaluate("POST", "/x", "/x", 1).delay, milliseconds(50));
  EXPECT_EQ(registry.evaluate("post", "/x", "/x", 1).delay, milliseconds(50));
  EXPECT_EQ(registry.evaluate("GET", "/x", "/x", 1).delay, microseconds(0));
}

TEST(FaultRegistryTest, FiresWithItsProbability) {
  FaultRegistry registry([] { return kNow; });
  Fault fault = abort_fault("flaky", "/x", 503);
  fault.probability = 0.3;
  put_ok(registry, fault);
  int fired = 0;
  for (uint64_t i = 0; i < 2000; ++i)
    fired += registry.evaluate("GET", "/x", "/x", i).abort ? 1 : 0;
  EXPECT_NEAR(fired / 2000.0, 0.3, 0.04);
  EXPECT_EQ(registry.list().front().hits, static_cast<uint64_t>(fired));
}

TEST(FaultRegistryTest, FaultsFireIndependently) {
  FaultRegistry registry([] { return kNow; });
  for (const char* name : {"a", "b"}) {
    Fault fault = delay_fault(name, "/x", 1);
    fault.probability = 0.5;
    put_ok(registry, fault);
  }
  int both = 0;
  for (uint64_t i = 0; i < 2000; ++i) {
    both += registry.evaluate("GET", "/x", "/x", i).applied.size() == 2 ? 1 : 0;
  }
  EXPECT_NEAR(both / 2000.0, 0.25, 0.04);  // not 0.5: the draws are not shared
}

TEST(FaultRegistryTest, SameBitsGiveTheSameDecision) {
  FaultRegistry registry([] { return kNow; });
  Fault fault = parsed(R"({"name":"j","route":"/x","probability":0.5,
      "delay":{"mean_ms":800,"jitter_ms":200}})");
  put_ok(registry, fault);
  for (uint64_t bits : {1ULL, 99ULL, 123456789ULL}) {
    const FaultDecision a = registry.evaluate("GET", "/x", "/x", bits);
    const FaultDecision b = registry.evaluate("GET", "/x", "/x", bits);
    EXPECT_EQ(a.delay, b.delay);
    EXPECT_EQ(a.applied, b.applied);
  }
}

TEST(FaultRegistryTest, DelaysOfFiredFaultsAddUp) {
  FaultRegistry registry([] { return kNow; });
  put_ok(registry, delay_fault("first", "/checkout", 100));
  put_ok(registry, delay_fault("second", "/*", 250));
  const FaultDecision decision = registry.evaluate("POST", "/checkout", "/checkout", 5);
  EXPECT_EQ(decision.delay, milliseconds(350));
  EXPECT_FALSE(decision.abort);
  const std::vector<std::pair<std::string, std::string>> applied{{"first", "delay"},
                                                                 {"second", "delay"}};
  EXPECT_EQ(decision.applied, applied);
}

TEST(FaultRegistryTest, JitteredDelayIsUniformAroundTheMean) {
  FaultRegistry registry([] { return kNow; });
  put_ok(registry, parsed(R"({"name":"j","route":"/x","delay":{"mean_ms":800,"jitter_ms":200}})"));
  microseconds lowest = std::chrono::hours(1);
  microseconds highest{0};
  double sum_ms = 0;
  for (uint64_t i = 0; i < 2000; ++i) {
    const microseconds delay = registry.evaluate("GET", "/x", "/x", i).delay;
    lowest = std::min(lowest, delay);
    highest = std::max(highest, delay);
    sum_ms += static_cast<double>(delay.count()) / 1000;
  }
  EXPECT_GE(lowest, milliseconds(600));
  EXPECT_LE(highest, milliseconds(1000));
  EXPECT_LT(lowest, milliseconds(610));
  EXPECT_GT(highest, milliseconds(990));
  EXPECT_NEAR(sum_ms / 2000, 800, 10);
}

TEST(FaultRegistryTest, JitterNeverMakesADelayNegative) {
  FaultRegistry registry([] { return kNow; });
  put_ok(registry, parsed(R"({"name":"j","route":"/x","delay":{"mean_ms":10,"jitter_ms":100}})"));
  int zero = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    const microseconds delay = registry.evaluate("GET", "/x", "/x", i).delay;
    ASSERT_GE(delay, microseconds(0));
    zero += delay == microseconds(0) ? 1 : 0;
  }
  EXPECT_NEAR(zero / 1000.0, 0.45, 0.06);  // [-90, 110] clamped: 90 of 200 ms land on zero
}

TEST(FaultRegistryTest, TheFirstFiredAbortWinsAndEveryFiredFaultCountsAHit) {
  FaultRegistry registry([] { return kNow; });
  put_ok(registry, abort_fault("first", "/x", 503));
  put_ok(registry, abort_fault("second", "/x", 500));
  put_ok(registry, delay_fault("slow", "/x", 40));
  const FaultDecision decision = registry.evaluate("GET", "/x", "/x", 9);
  ASSERT_TRUE(decision.abort);
  EXPECT_EQ(decision.abort->status, 503);
  EXPECT_EQ(decision.delay, milliseconds(40));  // delays still apply before the abort
  const std::vector<std::pair<std::string, std::string>> applied{{"first", "abort"},
                                                                 {"slow", "delay"}};
  EXPECT_EQ(decision.applied, applied);
  for (const Fault& fault : registry.list()) EXPECT_EQ(fault.hits, 1u) << fault.name;
}

TEST(FaultRegistryTest, AFaultWithDelayAndAbortAppliesBoth) {
  FaultRegistry registry([] { return kNow; });
  put_ok(registry, parsed(R"({"name":"both","route":"/x","delay":{"mean_ms":300},
      "abort":{"status":504}})"));
  const FaultDecision decision = registry.evaluate("GET", "/x", "/x", 1);
  EXPECT_EQ(decision.delay, milliseconds(300));
  ASSERT_TRUE(decision.abort);
  EXPECT_EQ(decision.abort->status, 504);
  EXPECT_EQ(decision.applied.size(), 2u);
}

TEST(FaultRegistryTest, ExpiredFaultsStopFiringAndDisappear) {
  double now = kNow;
  FaultRegistry registry([&] { return now; });
  put_ok(registry, parsed(R"({"name":"brief","route":"/x","delay":{"mean_ms":100},
      "expires_in":"30s"})",
                          now));
  put_ok(registry, delay_fault("lasting", "/x", 1));

  now = kNow + 29.9;
  EXPECT_EQ(registry.evaluate("GET", "/x", "/x", 1).delay, milliseconds(101));
  EXPECT_EQ(registry.list().size(), 2u);

  now = kNow + 30;
  EXPECT_EQ(registry.evaluate("GET", "/x", "/x", 1).delay, milliseconds(1));
  const std::vector<Fault> live = registry.list();
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live.front().name, "lasting");
  EXPECT_FALSE(registry.remove("brief"));  // gone already
}

TEST(FaultRegistryTest, ExpiredFaultsDoNotCountTowardTheLimit) {
  double now = kNow;
  FaultRegistry registry([&] { return now; }, 1);
  put_ok(registry,
         parsed(R"({"name":"brief","route":"/x","delay":{"mean_ms":1},"expires_in":5})", now));
  now += 10;
  EXPECT_EQ(put_ok(registry, delay_fault("next", "/x", 1)), FaultRegistry::PutOutcome::created);
}

TEST(FaultRegistryTest, SameNameReplacesAndResetsHits) {
  FaultRegistry registry([] { return kNow; });
  EXPECT_EQ(put_ok(registry, delay_fault("f", "/x", 100)), FaultRegistry::PutOutcome::created);
  registry.evaluate("GET", "/x", "/x", 1);
  registry.evaluate("GET", "/x", "/x", 2);
  EXPECT_EQ(registry.list().front().hits, 2u);

  EXPECT_EQ(put_ok(registry, delay_fault("f", "/y", 200)), FaultRegistry::PutOutcome::replaced);
  const std::vector<Fault> faults = registry.list();
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_EQ(faults.front().route, "/y");
  EXPECT_EQ(faults.front().hits, 0u);
  EXPECT_EQ(registry.evaluate("GET", "/x", "/x", 1).delay, microseconds(0));
  EXPECT_EQ(registry.evaluate("GET", "/y", "/y", 1).delay, milliseconds(200));
}

TEST(FaultRegistryTest, ListKeepsInsertionOrder) {
  FaultRegistry registry([] { return kNow; });
  for (const char* name : {"c", "a", "b"}) put_ok(registry, delay_fault(name, "/x", 1));
  put_ok(registry, delay_fault("a", "/z", 1));  // replacing keeps the place
  std::vector<std::string> names;
  for (const Fault& fault : registry.list()) names.push_back(fault.name);
  EXPECT_EQ(names, (std::vector<std::string>{"c", "a", "b"}));
}

TEST(FaultRegistryTest, RemoveAndClear) {
  FaultRegistry registry([] { return kNow; });
  put_ok(registry, delay_fault("a", "/x", 1));
  put_ok(registry, delay_fault("b", "/x", 1));
  EXPECT_TRUE(registry.remove("a"));
  EXPECT_FALSE(registry.remove("a"));
  EXPECT_FALSE(registry.remove("nope"));
  ASSERT_EQ(registry.list().size(), 1u);
  EXPECT_EQ(registry.list().front().name, "b");
  registry.clear();
  EXPECT_TRUE(registry.empty());
  EXPECT_TRUE(registry.list().empty());
  EXPECT_EQ(registry.evaluate("GET", "/x", "/x", 1).delay, microseconds(0));
}

TEST(FaultRegistryTest, RefusesMoreThanMaxFaults) {
  FaultRegistry registry([] { return kNow; }, 2);
  put_ok(registry, delay_fault("a", "/x", 1));
  put_ok(registry, delay_fault("b", "/x", 1));
  auto result = registry.put(delay_fault("c", "/x", 1));
  const auto* error = std::get_if<ApiError>(&result);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->status, 409);
  EXPECT_EQ(error->code, "too_many_faults");
  EXPECT_EQ(registry.list().size(), 2u);
  // Replacing is still allowed when full, and removing makes room.
  EXPECT_EQ(put_ok(registry, delay_fault("a", "/y", 1)), FaultRegistry::PutOutcome::replaced);
  registry.remove("b");
  EXPECT_EQ(put_ok(registry, delay_fault("c", "/x", 1)), FaultRegistry::PutOutcome::created);
}

TEST(FaultRegistryTest, ConcurrentEvaluateAndChangesAreSafe) {
  FaultRegistry registry;  // the system clock
  put_ok(registry, delay_fault("steady", "/x", 1));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> evaluations{0};
  std::vector<std::thread> evaluators;
  for (int t = 0; t < 3; ++t) {
    evaluators.emplace_back([&, t] {
      uint64_t i = static_cast<uint64_t>(t) << 40;
      while (!stop.load(std::memory_order_relaxed)) {
        const FaultDecision decision = registry.evaluate("GET", "/x", "/x", core::mix64(i++));
        ASSERT_GE(decision.delay, milliseconds(1));  // "steady" is never removed
        evaluations.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  std::thread admin([&] {
    for (int i = 0; i < 2000; ++i) {
      Fault fault = abort_fault("churn-" + std::to_string(i % 5), "/*", 500 + i % 5);
      fault.probability = 0.5;
      (void)registry.put(std::move(fault));
      if (i % 3 == 0) registry.remove("churn-" + std::to_string((i + 1) % 5));
      (void)registry.list();
    }
    stop = true;
  });
  admin.join();
  for (auto& thread : evaluators) thread.join();
  ASSERT_FALSE(registry.list().empty());
  EXPECT_EQ(registry.list().front().name, "steady");
  EXPECT_EQ(registry.list().front().hits, evaluations.load());
}

}  // namespace
}  // namespace trafficsim::demo_service
