// The optional LLM analysis against a real local stand-in for an OpenAI-compatible endpoint: what
// is sent (model, messages, the key), what comes back (plain or fenced JSON, validated and
// bounded), and every way it fails with a reason instead of an analysis — 429 until the attempts
// run out, a refusal, a malformed answer, an endpoint slower than the timeout —, https with a CA
// file, and the environment's errors naming their variable.
#include "incidents/llm_analyzer.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>

#include "incidents/scripted_endpoint.hpp"
#include "support/process.hpp"
#include "support/tls_test_server.hpp"

namespace trafficsim::incidents {
namespace {

using namespace std::chrono_literals;
using test::respond;
using test::ScriptedEndpoint;
using test::env_of;
using test::thrown_by;
namespace json = boost::json;

const char* kAnswer = R"json({
  "hypotheses": [
    {"category": "dependency", "description": "The payment gateway times out.", "confidence": 0.35,
     "evidence": ["external_api_call_duration_seconds at 8 sigma"]},
    {"category": "database", "description": "An unindexed query scans the orders table.",
     "confidence": 0.92, "evidence": ["db_query_duration_seconds 7.2 s", "slow query on orders"]}
  ],
  "actions": [
    {"type": "create_index", "risk": "low", "blast_radius": "orders table",
     "steps": ["CREATE INDEX orders_user ON orders(user_id)"], "runbook": "db/missing-index"}
  ]
})json";

// A chat-completions response whose message content is `content`.
std::string completion(std::string_view content, std::string_view model = "llama3.1:8b") {
  json::object message{{"role", "assistant"}, {"content", content}};
  json::object choice{{"index", 0}, {"message", message}, {"finish_reason", "stop"}};
  return json::serialize(json::object{{"id", "chatcmpl-1"},
                                      {"object", "chat.completion"},
                                      {"model", model},
                                      {"choices", json::array{choice}}});
}

LlmConfig config_for(const ScriptedEndpoint& endpoint) {
  LlmConfig c;
  c.base_url = endpoint.url("/v1");
  c.model = "llama3.1:8b";
  c.api_key = "sk-test";
  c.timeout = 5s;
  return c;
}

json::object context() {
  return json::object{{"title", "Latency spike on order-service"},
                      {"service", "order-service"},
                      {"evidence", json::object{{"slow_queries", json::array{}}}}};
}

TEST(LlmAnalyzer, GoodAnswerIsParsedAndSortedByConfidence) {
  ScriptedEndpoint endpoint({respond(200, completion(kAnswer, "llama3.1:8b-instruct"))});
  std::string error;
  auto analysis = analyze_with_llm(config_for(endpoint), context(), &error);
  ASSERT_TRUE(analysis) << error;
  EXPECT_EQ(analysis->model, "llama3.1:8b-instruct");
  ASSERT_EQ(analysis->hypotheses.size(), 2u);
  EXPECT_EQ(analysis->hypotheses[0].category, "database");
  EXPECT_DOUBLE_EQ(analysis->hypotheses[0].confidence, 0.92);
  EXPECT_EQ(analysis->hypotheses[0].evidence.size(), 2u);
  EXPECT_EQ(analysis->hypotheses[1].category, "dependency");
  ASSERT_EQ(analysis->actions.size(), 1u);
  EXPECT_EQ(analysis->actions[0], (Action{"create_index",
                                          "low",
                                          "orders table",
                                          {"CREATE INDEX orders_user ON orders(user_id)"},
                                          "db/missing-index"}));

  const auto requests = endpoint.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/v1/chat/completions");
  EXPECT_EQ(requests[0].header("Authorization"), "Bearer sk-test");
  EXPECT_EQ(requests[0].header("Content-Type"), "application/json");
  const auto body = json::parse(requests[0].body).as_object();
  EXPECT_EQ(body.at("model"), "llama3.1:8b");
  EXPECT_EQ(body.at("temperature").to_number<double>(), 0.0);
  EXPECT_EQ(body.at("response_format").at("type"), "json_object");
  const auto& messages = body.at("messages").as_array();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].at("role"), "system");
  const std::string system(messages[0].at("content").as_string());
  for (const auto& category : llm_hypothesis_categories())
    EXPECT_NE(system.find(category), std::string::npos) << category;
  EXPECT_EQ(messages[1].at("role"), "user");
  EXPECT_EQ(json::parse(messages[1].at("content").as_string()), context());
}

TEST(LlmAnalyzer, NoKeyMeansNoAuthorizationHeader) {
  ScriptedEndpoint endpoint({respond(200, completion(kAnswer))});
  auto config = config_for(endpoint);
  config.api_key.clear();
  std::string error;
  ASSERT_TRUE(analyze_with_llm(config, context(), &error)) << error;
  EXPECT_EQ(endpoint.requests()[0].header("Authorization"), "");
}

TEST(LlmAnalyzer, AnswerInsideMarkdownFencesIsAccepted) {
  std::string fenced = "Here is my analysis:\n```json\n" + std::string(kAnswer) + "\n```\n";
  ScriptedEndpoint endpoint({respond(200, completion(fenced))});
  std::string error;
  auto analysis = analyze_with_llm(config_for(endpoint), context(), &error);
  ASSERT_TRUE(analysis) << error;
  EXPECT_EQ(analysis->hypotheses[0].category, "database");
}

TEST(LlmAnalyzer, RateLimitedOnceThenAnsweredSucceeds) {
  ScriptedEndpoint endpoint({respond(429, R"({"error":"rate limited"})", {{"Retry-After", "0"}}),
                             respond(200, completion(kAnswer))});
  std::string error;
  auto analysis = analyze_with_llm(config_for(endpoint), context(), &error);
  ASSERT_TRUE(analysis) << error;
  EXPECT_EQ(endpoint.count(), 2u);
}

TEST(LlmAnalyzer, PersistentRateLimitFailsAfterMaxAttemptsNaming429) {
  ScriptedEndpoint endpoint({respond(429, R"({"error":"rate limited"})", {{"Retry-After", "0"}})});
  auto config = config_for(endpoint);
  config.max_attempts = 3;
  std::string error;
  EXPECT_FALSE(analyze_with_llm(config, context(), &error));
  EXPECT_EQ(endpoint.count(), 3u);
  EXPECT_NE(error.find("429"), std::string::npos) << error;
  EXPECT_NE(error.find("3 attempts"), std::string::npos) << error;
}

TEST(LlmAnalyzer, RetryAfterBeyondTheTimeoutGivesUpAtOnce) {
  ScriptedEndpoint endpoint({respond(429, "{}", {{"Retry-After", "60"}})});
  std::string error;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(analyze_with_llm(config_for(endpoint), context(), &error));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(endpoint.count(), 1u);
  EXPECT_NE(error.find("429"), std::string::npos) << error;
}

TEST(LlmAnalyzer, ServerErrorIsRetriedAndRefusalIsNot) {
  ScriptedEndpoint flaky({respond(502), respond(200, completion(kAnswer))});
  std::string error;
  EXPECT_TRUE(analyze_with_llm(config_for(flaky), context(), &error)) << error;
  EXPECT_EQ(flaky.count(), 2u);

  ScriptedEndpoint refusing({respond(401, R"({"error":{"message":"Incorrect API key"}})")});
  EXPECT_FALSE(analyze_with_llm(config_for(refusing), context(), &error));
  EXPECT_EQ(refusing.count(), 1u);
  EXPECT_NE(error.find("HTTP 401"), std::string::npos) << error;
  EXPECT_NE(error.find("Incorrect API key"), std::string::npos) << error;
}

TEST(LlmAnalyzer, MalformedAnswersAreRefusedNamingWhatIsWrong) {
  struct Case {
    std::string content;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"I think it is the database.", "content: not a JSON object"},
      {R"({"actions": []})", "hypotheses: missing"},
      {R"({"hypotheses": []})", "hypotheses: must not be empty"},
      {R"({"hypotheses": [{"category": "database", "description": "x", "confidence": "high"}]})",
       "hypotheses[0].confidence: must be a number"},
      {R"({"hypotheses": [{"category": "database", "confidence": 0.5}]})",
       "hypotheses[0].description: missing"},
      {R"({"hypotheses": [{"category": "database", "description": "x", "confidence": 0.5}],
           "actions": [{"type": "restart", "risk": "catastrophic"}]})",
       "actions[0].risk: must be low, medium or high"},
      {R"({"hypotheses": [{"category": "database", "description": "x", "confidence": 0.5,
           "evidence": [42]}]})",
       "hypotheses[0].evidence[0]: must be a string"},
  };
  for (const auto& c : cases) {
    std::string error;
    EXPECT_FALSE(parse_llm_response(completion(c.content), "m", &error)) << c.content;
    EXPECT_NE(error.find(c.expected), std::string::npos) << error << " / " << c.content;
  }
  std::string error;
  EXPECT_FALSE(parse_llm_response("<html>", "m", &error));
  EXPECT_NE(error.find("not JSON"), std::string::npos) << error;
  EXPECT_FALSE(parse_llm_response(R"({"choices": []})", "m", &error));
  EXPECT_NE(error.find("choices[0].message.content"), std::string::npos) << error;

  ScriptedEndpoint endpoint({respond(200, completion("no JSON here"))});
  EXPECT_FALSE(analyze_with_llm(config_for(endpoint), context(), &error));
  EXPECT_NE(error.find("content: not a JSON object"), std::string::npos) << error;
}

TEST(LlmAnalyzer, AnswersAreClampedAndBounded) {
  json::array hypotheses;
  for (int i = 0; i < 14; ++i)
    hypotheses.push_back(json::object{{"category", i == 0 ? "Memory Leak" : "gremlins"},
                                      {"description", std::string(5000, 'd')},
                                      {"confidence", i == 0 ? 7.5 : -0.2 + i * 0.01}});
  const std::string content = json::serialize(json::object{{"hypotheses", hypotheses}});
  std::string error;
  auto analysis = parse_llm_response(completion(content, ""), "fallback-model", &error);
  ASSERT_TRUE(analysis) << error;
  EXPECT_EQ(analysis->model, "fallback-model");
  ASSERT_EQ(analysis->hypotheses.size(), 10u);
  EXPECT_EQ(analysis->hypotheses[0].category, "memory_leak");
  EXPECT_EQ(analysis->hypotheses[0].confidence, 1.0);
  EXPECT_EQ(analysis->hypotheses[1].category, "unknown");
  EXPECT_EQ(analysis->hypotheses[9].confidence, 0.0);
  EXPECT_EQ(analysis->hypotheses[0].description.size(), 2000u);
  EXPECT_TRUE(analysis->actions.empty());
}

TEST(LlmAnalyzer, EndpointSlowerThanTheTimeoutFailsWithinIt) {
  http::test::ParkedReplies parked;  // never answered
  auto server = http::test::start_server({}, parked.handler());
  LlmConfig config;
  config.base_url = server->url() + "/v1";
  config.model = "slow";
  config.timeout = 800ms;
  std::string error;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(analyze_with_llm(config, context(), &error));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 700ms);
  EXPECT_LT(took, 1800ms);
  EXPECT_NE(error.find("no answer within 800 ms"), std::string::npos) << error;
}

TEST(LlmAnalyzer, AnswersOverHttpsTrustingTheCaFile) {
  trafficsim::testing::TempDir dir;
  const auto certs = trafficsim::testing::make_test_certificates(dir.path());
  trafficsim::testing::TlsTestServer endpoint(
      certs.cert_file, certs.key_file, [](const trafficsim::testing::TlsTestRequest&) {
        return trafficsim::testing::TlsTestResponse{200, "application/json", completion(kAnswer)};
      });
  LlmConfig config;
  config.base_url = endpoint.url() + "/v1";
  config.model = "llama3.1:8b";
  config.api_key = "sk-test";
  config.timeout = 5s;
  config.ca_file = certs.ca_file;
  std::string error;
  auto analysis = analyze_with_llm(config, context(), &error);
  ASSERT_TRUE(analysis) << error;
  EXPECT_EQ(analysis->hypotheses.size(), 2u);
  const auto requests = endpoint.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/v1/chat/completions");
  EXPECT_EQ(requests[0].header("Authorization"), "Bearer sk-test");

  config.ca_file.clear();  // the system store does not know the test CA: refused, not retried
  EXPECT_FALSE(analyze_with_llm(config, context(), &error));
  EXPECT_NE(error.find("certificate verification failed"), std::string::npos) << error;
  EXPECT_NE(error.find("(not retried)"), std::string::npos) << error;
  EXPECT_EQ(endpoint.requests().size(), 1u);
}

TEST(LlmConfigFromEnv, UnsetBaseUrlMeansNoLlm) {
  EXPECT_FALSE(llm_config_from_env(env_of({})));
  EXPECT_FALSE(llm_config_from_env(env_of({{"LLM_BASE_URL", ""}, {"LLM_MODEL", "m"}})));
}

TEST(LlmConfigFromEnv, ReadsEveryVariable) {
  auto config = llm_config_from_env(env_of({{"LLM_BASE_URL", "http://127.0.0.1:11434/v1/"},
                                            {"LLM_MODEL", "llama3.1:8b"},
                                            {"LLM_API_KEY", "sk-1"},
                                            {"LLM_TIMEOUT_MS", "1500"}}));
  ASSERT_TRUE(config);
  EXPECT_EQ(config->base_url, "http://127.0.0.1:11434/v1");
  EXPECT_EQ(config->model, "llama3.1:8b");
  EXPECT_EQ(config->api_key, "sk-1");
  EXPECT_EQ(config->timeout, 1500ms);
  EXPECT_EQ(config->max_attempts, 3);
}

TEST(LlmConfigFromEnv, HttpsBaseUrlAndTheCaFileAreTaken) {
  auto openai = llm_config_from_env(
      env_of({{"LLM_BASE_URL", "https://api.openai.com/v1"}, {"LLM_MODEL", "gpt-4o-mini"}}));
  ASSERT_TRUE(openai);
  EXPECT_EQ(openai->base_url, "https://api.openai.com/v1");
  EXPECT_EQ(openai->ca_file, "");

  trafficsim::testing::TempDir dir;
  const auto certs = trafficsim::testing::make_test_certificates(dir.path());
  auto private_ca = llm_config_from_env(env_of({{"LLM_BASE_URL", "https://llm.internal/v1"},
                                                {"LLM_MODEL", "m"},
                                                {"TRAFFICSIM_CA_FILE", certs.ca_file}}));
  ASSERT_TRUE(private_ca);
  EXPECT_EQ(private_ca->ca_file, certs.ca_file);
}

TEST(LlmConfigFromEnv, BadValuesNameTheVariable) {
  auto with = [](std::map<std::string, std::string> extra) {
    std::map<std::string, std::string> vars = {{"LLM_BASE_URL", "http://127.0.0.1:11434/v1"},
                                               {"LLM_MODEL", "m"}};
    for (auto& [k, v] : extra) vars[k] = v;
    return [vars] { llm_config_from_env(env_of(vars)); };
  };
  EXPECT_NE(thrown_by(with({{"LLM_BASE_URL", "localhost:11434"}})).find("LLM_BASE_URL"),
            std::string::npos);
  const auto ca = thrown_by(with({{"TRAFFICSIM_CA_FILE", "/nonexistent/ca.pem"}}));
  EXPECT_NE(ca.find("TRAFFICSIM_CA_FILE: CA file '/nonexistent/ca.pem': cannot read it"),
            std::string::npos)
      << ca;
  EXPECT_NE(thrown_by(with({{"LLM_MODEL", "  "}})).find("LLM_MODEL"), std::string::npos);
  EXPECT_NE(thrown_by([] {
              llm_config_from_env(env_of({{"LLM_BASE_URL", "http://x/v1"}}));
            }).find("LLM_MODEL"),
            std::string::npos);
  EXPECT_NE(thrown_by(with({{"LLM_TIMEOUT_MS", "soon"}})).find("LLM_TIMEOUT_MS"),
            std::string::npos);
  EXPECT_NE(thrown_by(with({{"LLM_TIMEOUT_MS", "0"}})).find("LLM_TIMEOUT_MS"), std::string::npos);
  EXPECT_NE(thrown_by(with({{"LLM_API_KEY", "a\nb"}})).find("LLM_API_KEY"), std::string::npos);
}

}  // namespace
}  // namespace trafficsim::incidents
