#include "incidents/llm_analyzer.hpp"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "core/ascii.hpp"
#include "core/clock.hpp"
#include "core/json_text.hpp"
#include "core/utf8.hpp"
#include "http/async_client.hpp"
#include "http/url.hpp"
#include "http/retry_policy.hpp"

namespace trafficsim::incidents {

namespace json = boost::json;
using http::backoff_delay;
using http::jitter_bits;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kMaxItems = 10;        // hypotheses, actions
constexpr size_t kMaxListEntries = 20;  // evidence, steps
constexpr size_t kMaxDescriptionBytes = 2000;
constexpr size_t kMaxStringBytes = 500;
constexpr milliseconds kInitialBackoff{500};
constexpr milliseconds kMaxBackoff{8000};

constexpr std::string_view kSystemPrompt =
    R"(You are a site reliability engineer analysing one production incident of a web service.
The user message is the incident as JSON: its title, severity, service, timeline, and the evidence
gathered when it opened (metrics against their baselines in standard deviations, example traces,
the faults active at the time, slow queries), with any context (recent deployments, dependencies).

Find the most likely root causes and the actions that would mitigate them. Base every hypothesis on
the evidence given; name the evidence you used. Do not invent metrics, deployments or traces. When
the evidence does not point anywhere, say so with the category "unknown" and a low confidence.

Answer with one JSON object and nothing else (no prose, no Markdown), exactly this shape:
{"hypotheses": [{"category": "<one of: memory_leak, capacity, database, bad_deployment,
dependency, latency_injection, token_bloat, error_injection, missing_index, unknown>",
"description": "<one or two sentences: what is wrong and why you think so>",
"confidence": <a number from 0 to 1>,
"evidence": ["<a fact from the incident that supports this>", ...]}],
"actions": [{"type": "<restart, rollback, scale_out, create_index, optimize_query,
circuit_breaker, fallback, or another short snake_case verb>",
"risk": "<low, medium or high>",
"blast_radius": "<who or what the action affects>",
"steps": ["<a concrete step an on-call engineer can take>", ...],
"runbook": "<a runbook title or URL, or an empty string>"}]}

At most 5 hypotheses, most likely first; confidences need not sum to 1. At most 5 actions, the
safest effective one first.)";

const std::vector<std::string> kCategories = {
    "memory_leak",       "capacity",    "database",        "bad_deployment", "dependency",
    "latency_injection", "token_bloat", "error_injection", "missing_index",  "unknown"};

std::string_view trim(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// The JSON object inside an answer: the text of the first ``` fence (its language tag skipped),
// or from the first '{' to the last '}' of the whole text.
std::string_view unwrap_answer(std::string_view content) {
  content = trim(content);
  if (auto fence = content.find("```"); fence != std::string_view::npos) {
    std::string_view rest = content.substr(fence + 3);
    auto line_end = rest.find('\n');
    rest = line_end == std::string_view::npos ? std::string_view() : rest.substr(line_end + 1);
    auto close = rest.find("```");
    return trim(close == std::string_view::npos ? rest : rest.substr(0, close));
  }
  auto open = content.find('{');
  auto close = content.rfind('}');
  if (open != std::string_view::npos && close != std::string_view::npos && close > open)
    return content.substr(open, close - open + 1);
  return content;
}

// Field readers: each throws std::invalid_argument naming the field (a path such as
// "hypotheses[2].confidence").
struct Fault : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

const json::value* member(const json::object& o, std::string_view key) {
  return o.if_contains(key);
}

std::string string_field(const json::object& o, std::string_view key, const std::string& path,
                         bool required, size_t max) {
  const json::value* v = member(o, key);
  if (v == nullptr || v->is_null()) {
    if (required) throw Fault(path + "." + std::string(key) + ": missing");
    return {};
  }
  if (!v->is_string()) throw Fault(path + "." + std::string(key) + ": must be a string");
  std::string text(trim(std::string_view(v->as_string())));
  if (required && text.empty()) throw Fault(path + "." + std::string(key) + ": must not be empty");
  return core::utf8_prefix(text, max);
}

std::vector<std::string> string_list(const json::object& o, std::string_view key,
                                     const std::string& path) {
  const json::value* v = member(o, key);
  std::vector<std::string> out;
  if (v == nullptr || v->is_null()) return out;
  const std::string where = path + "." + std::string(key);
  if (!v->is_array()) throw Fault(where + ": must be an array of strings");
  const auto& items = v->as_array();
  for (size_t i = 0; i < items.size() && out.size() < kMaxListEntries; ++i) {
    if (!items[i].is_string()) throw Fault(where + "[" + std::to_string(i) + "]: must be a string");
    std::string text(trim(std::string_view(items[i].as_string())));
    if (!text.empty()) out.push_back(core::utf8_prefix(text, kMaxStringBytes));
  }
  return out;
}

// "Memory Leak" / "memory-leak" -> "memory_leak"; not one of ours -> "unknown".
std::string normalise_category(std::string_view text) {
  std::string c = core::to_lower_ascii(trim(text));
  std::replace_if(
      c.begin(), c.end(), [](char ch) { return ch == ' ' || ch == '-'; }, '_');
  return std::find(kCategories.begin(), kCategories.end(), c) != kCategories.end() ? c : "unknown";
}

Hypothesis read_hypothesis(const json::value& v, const std::string& path) {
  if (!v.is_object()) throw Fault(path + ": must be an object");
  const auto& o = v.as_object();
  Hypothesis h;
  h.category = normalise_category(string_field(o, "category", path, true, kMaxStringBytes));
  h.description = string_field(o, "description", path, true, kMaxDescriptionBytes);
  const json::value* c = member(o, "confidence");
  if (c == nullptr) throw Fault(path + ".confidence: missing");
  if (!c->is_number()) throw Fault(path + ".confidence: must be a number");
  const double confidence = c->to_number<double>();
  if (confidence != confidence) throw Fault(path + ".confidence: must be a number");
  h.confidence = std::clamp(confidence, 0.0, 1.0);
  h.evidence = string_list(o, "evidence", path);
  return h;
}

Action read_action(const json::value& v, const std::string& path) {
  if (!v.is_object()) throw Fault(path + ": must be an object");
  const auto& o = v.as_object();
  Action a;
  a.type = string_field(o, "type", path, true, 64);
  const std::string risk = core::to_lower_ascii(string_field(o, "risk", path, true, 16));
  if (risk != "low" && risk != "medium" && risk != "high")
    throw Fault(path + ".risk: must be low, medium or high, not '" + risk + "'");
  a.risk = risk;
  a.blast_radius = string_field(o, "blast_radius", path, false, kMaxStringBytes);
  a.steps = string_list(o, "steps", path);
  a.runbook = string_field(o, "runbook", path, false, kMaxStringBytes);
  return a;
}

LlmAnalysis read_analysis(const json::object& answer) {
  LlmAnalysis out;
  const json::value* hypotheses = member(answer, "hypotheses");
  if (hypotheses == nullptr) throw Fault("hypotheses: missing");
  if (!hypotheses->is_array()) throw Fault("hypotheses: must be an array");
  const auto& hs = hypotheses->as_array();
  if (hs.empty()) throw Fault("hypotheses: must not be empty");
  for (size_t i = 0; i < hs.size(); ++i)
    out.hypotheses.push_back(read_hypothesis(hs[i], "hypotheses[" + std::to_string(i) + "]"));
  std::stable_sort(
      out.hypotheses.begin(), out.hypotheses.end(),
      [](const Hypothesis& a, const Hypothesis& b) { return a.confidence > b.confidence; });
  if (out.hypotheses.size() > kMaxItems) out.hypotheses.resize(kMaxItems);

  if (const json::value* actions = member(answer, "actions");
      actions != nullptr && !actions->is_null()) {
    if (!actions->is_array()) throw Fault("actions: must be an array");
    const auto& as = actions->as_array();
    for (size_t i = 0; i < as.size() && out.actions.size() < kMaxItems; ++i)
      out.actions.push_back(read_action(as[i], "actions[" + std::to_string(i) + "]"));
  }
  return out;
}

// One call through `client`, waited for. The client enforces request.timeout; the extra second
// only guards against a done that never comes.
http::ClientResult call_once(http::AsyncClient& client, http::ClientRequest request) {
  struct Wait {
    std::mutex mutex;
    std::condition_variable cv;
    std::optional<http::ClientResult> result;
  };
  auto wait = std::make_shared<Wait>();
  const auto limit = Clock::now() + request.timeout + std::chrono::seconds(1);
  client.call(std::move(request), [wait](http::ClientResult r) {
    std::lock_guard lock(wait->mutex);
    wait->result = std::move(r);
    wait->cv.notify_all();
  });
  std::unique_lock lock(wait->mutex);
  if (!wait->cv.wait_until(lock, limit, [&] { return wait->result.has_value(); })) {
    http::ClientResult timed_out;
    timed_out.outcome = http::ClientOutcome::timeout;
    timed_out.error = "timed out waiting for the answer";
    return timed_out;
  }
  return std::move(*wait->result);
}

bool fail(std::string* error, std::string why) {
  if (error) *error = std::move(why);
  return false;
}

}  // namespace

std::optional<LlmConfig> llm_config_from_env(
    const std::function<const char*(const char*)>& getenv_fn) {
  auto env = [&](const char* name) -> const char* { return getenv_fn ? getenv_fn(name) : nullptr; };
  const char* base = env("LLM_BASE_URL");
  if (base == nullptr || *base == '\0') return std::nullopt;

  LlmConfig config;
  std::string url(trim(base));
  while (!url.empty() && url.back() == '/') url.pop_back();
  std::string why;
  if (!http::parse_url(url, &why))
    throw std::invalid_argument("LLM_BASE_URL: '" + std::string(base) + "' is not a URL (" + why +
                                ")");
  if (url.find_first_of("?#") != std::string::npos)
    throw std::invalid_argument("LLM_BASE_URL: must not have a query or fragment ('" + url +
                                "'); /chat/completions is appended to it");
  config.base_url = url;

  const char* model = env("LLM_MODEL");
  if (model == nullptr)
    throw std::invalid_argument("LLM_MODEL: must be set when LLM_BASE_URL is (e.g. llama3.1:8b)");
  config.model = std::string(trim(model));
  if (config.model.empty()) throw std::invalid_argument("LLM_MODEL: must not be empty");
  if (config.model.find_first_of("\r\n") != std::string::npos)
    throw std::invalid_argument("LLM_MODEL: must not hold line breaks");

  if (const char* key = env("LLM_API_KEY")) {
    config.api_key = std::string(trim(key));
    if (config.api_key.find_first_of("\r\n") != std::string::npos)
      throw std::invalid_argument("LLM_API_KEY: must not hold line breaks");
  }

  if (const char* timeout = env("LLM_TIMEOUT_MS"); timeout != nullptr) {
    std::string_view text = trim(timeout);
    int64_t ms = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || ms < 100 ||
        ms > 600'000)
      throw std::invalid_argument("LLM_TIMEOUT_MS: '" + std::string(timeout) +
                                  "' must be a whole number of milliseconds from 100 to 600000");
    config.timeout = milliseconds(ms);
  }

  if (const char* ca_file = env("TRAFFICSIM_CA_FILE"); ca_file != nullptr && *ca_file != '\0') {
    if (!http::check_ca_file(ca_file, &why))
      throw std::invalid_argument("TRAFFICSIM_CA_FILE: " + why);
    config.ca_file = ca_file;
  }
  return config;
}

const std::vector<std::string>& llm_hypothesis_categories() {
  return kCategories;
}

std::string_view llm_system_prompt() {
  return kSystemPrompt;
}

json::object llm_request_body(const LlmConfig& config, const json::object& incident_context) {
  json::object body;
  body["model"] = config.model;
  body["temperature"] = 0;
  body["response_format"] = json::object{{"type", "json_object"}};
  body["messages"] =
      json::array{json::object{{"role", "system"}, {"content", kSystemPrompt}},
                  json::object{{"role", "user"}, {"content", core::json_text(incident_context)}}};
  return body;
}

std::optional<LlmAnalysis> parse_llm_response(std::string_view response_body,
                                              std::string_view fallback_model, std::string* error) {
  boost::system::error_code ec;
  json::value response = json::parse(response_body, ec);
  if (ec) {
    fail(error, "the response is not JSON: " + ec.message());
    return std::nullopt;
  }
  const json::object* top = response.if_object();
  const json::value* content = nullptr;
  if (top != nullptr)
    if (const auto* choices = top->if_contains("choices"); choices && choices->is_array())
      if (!choices->as_array().empty() && choices->as_array()[0].is_object())
        if (const auto* message = choices->as_array()[0].as_object().if_contains("message");
            message && message->is_object())
          content = message->as_object().if_contains("content");
  if (content == nullptr || !content->is_string()) {
    fail(error, "the response has no choices[0].message.content string");
    return std::nullopt;
  }
  json::value answer = json::parse(unwrap_answer(content->as_string()), ec);
  if (ec || !answer.is_object()) {
    fail(error, "content: not a JSON object" + (ec ? " (" + ec.message() + ")" : std::string()));
    return std::nullopt;
  }
  try {
    LlmAnalysis analysis = read_analysis(answer.as_object());
    analysis.model = std::string(fallback_model);
    if (const auto* model = top->if_contains("model");
        model && model->is_string() && !model->as_string().empty())
      analysis.model = core::utf8_prefix(model->as_string(), 200);
    return analysis;
  } catch (const Fault& fault) {
    fail(error, std::string("content: ") + fault.what());
    return std::nullopt;
  }
}

std::optional<LlmAnalysis> analyze_with_llm(const LlmConfig& config,
                                            const json::object& incident_context,
                                            std::string* error) {
  const auto deadline = Clock::now() + config.timeout;
  const std::string url = config.base_url + "/chat/completions";
  const std::string body = json::serialize(llm_request_body(config, incident_context));
  std::optional<http::AsyncClient> client;
  try {
    client.emplace(http::ClientTlsOptions{config.ca_file});
  } catch (const std::invalid_argument& e) {  // a CA file that went away since it was checked
    fail(error, std::string("LLM: ") + e.what());
    return std::nullopt;
  }
  const int attempts = std::max(1, config.max_attempts);
  for (int attempt = 1;; ++attempt) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left <= milliseconds(0)) {
      fail(error, "LLM: no answer within " + std::to_string(config.timeout.count()) + " ms");
      return std::nullopt;
    }
    http::ClientRequest request;
    request.method = "POST";
    request.url = url;
    request.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
    if (!config.api_key.empty())
      request.headers.emplace_back("Authorization", "Bearer " + config.api_key);
    request.body = body;
    request.timeout = left;
    const http::ClientResult result = call_once(*client, std::move(request));

    if (is_success(result)) {
      auto analysis = parse_llm_response(result.body, config.model, error);
      if (!analysis && error) *error = "LLM answer unusable: " + *error;
      return analysis;
    }
    const std::string what = "LLM at " + url + ": " + describe(result);
    if (result.outcome == http::ClientOutcome::timeout) {
      fail(error, "LLM: no answer within " + std::to_string(config.timeout.count()) + " ms (" +
                      result.error + ")");
      return std::nullopt;
    }
    if (!is_retryable(result)) {
      fail(error, what + " (not retried)");
      return std::nullopt;
    }
    if (attempt >= attempts) {
      fail(error, what + " after " + std::to_string(attempts) + " attempts");
      return std::nullopt;
    }
    auto delay = backoff_delay(attempt, kInitialBackoff, kMaxBackoff, jitter_bits());
    if (auto asked = retry_after(result, core::unix_now_s())) delay = *asked;
    const auto remaining = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (delay >= remaining) {
      fail(error, what + "; the next attempt (in " + std::to_string(delay.count()) +
                      " ms) would not fit in the " + std::to_string(config.timeout.count()) +
                      " ms timeout");
      return std::nullopt;
    }
    std::this_thread::sleep_for(delay);  // a back-off between attempts, not a synchronisation
  }
}

}  // namespace trafficsim::incidents
