#include "demo_service/llm_classifier.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "core/ascii.hpp"
#include "core/random.hpp"

namespace trafficsim::demo_service {

namespace {

constexpr double kBaselineMinMs = 200;
constexpr double kBaselineMaxMs = 500;
// Prefill cost: a real model reads the prompt before it writes; 0.1 ms per token makes token
// bloat show up on the latency dashboard, not only on the cost one.
constexpr double kPrefillMsPerInputToken = 0.1;
constexpr int64_t kMinOutputTokens = 15;
constexpr int64_t kMaxOutputTokens = 40;
// Salt so that the output-token draw is independent of the latency draw.
constexpr uint64_t kOutputTokensSalt = 0x6f75747075745f74ULL;

constexpr double kBaseConfidence = 0.55;
constexpr double kConfidencePerHit = 0.12;
constexpr double kConfidencePerRivalHit = 0.04;
constexpr double kMaxConfidence = 0.98;
constexpr double kOtherConfidence = 0.5;

struct KeywordRule {
  std::string_view category;
  std::vector<std::string_view> keywords;  // lower case
  bool decisive;  // wins whenever it matches, in table order, before counting hits
};

// Table order is the priority order.
constexpr size_t kRuleCount = 5;
const std::array<KeywordRule, kRuleCount>& keyword_rules() {
  static const std::array<KeywordRule, kRuleCount> rules{{
      {"offer",
       {"offer letter", "pleased to offer", "happy to offer", "job offer", "extend an offer",
        "offer of employment", "compensation package"},
       true},
      {"rejection",
       {"unfortunately", "not moving forward", "not be moving forward", "other candidates",
        "regret to inform", "position has been filled", "decided to pursue"},
       true},
      {"interview",
       {"interview", "schedule a call", "availability", "phone screen", "onsite",
        "technical screen", "calendar invite", "meet with the team"},
       false},
      {"application_received",
       {"received your application", "thank you for applying", "thanks for applying",
        "application has been received", "application received", "will review your application"},
       false},
      {"recruiter_outreach",
       {"recruiter", "reaching out", "opportunity", "came across your profile", "your background",
        "open role", "talent acquisition"},
       false},
  }};
  return rules;
}

int count_hits(const std::string& text, const KeywordRule& rule) {
  int hits = 0;
  for (std::string_view keyword : rule.keywords) {
    if (text.find(keyword) != std::string::npos) ++hits;
  }
  return hits;
}

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

ApiError bad_request(std::string code, std::string field, std::string message) {
  return ApiError{400, std::move(code), std::move(field), std::move(message)};
}

}  // namespace

const std::vector<std::string_view>& llm_categories() {
  static const std::vector<std::string_view> categories{
      "interview", "offer", "rejection", "application_received", "recruiter_outreach", "other"};
  return categories;
}

int64_t estimate_tokens(std::string_view text) {
  return static_cast<int64_t>((text.size() + 3) / 4);
}

std::variant<ClassifyRequest, ApiError> parse_classify_request(std::string_view json_body) {
  boost::json::error_code ec;
  boost::json::value document = boost::json::parse(json_body, ec);
  if (ec) {
    return bad_request("invalid_json", "",
                       "The request body is not valid JSON (" + ec.message() + ").");
  }
  if (!document.is_object()) {
    return bad_request("invalid_type", "body", "The request body must be a JSON object.");
  }
  const boost::json::object& object = document.get_object();

  ClassifyRequest request;
  const std::array<std::pair<std::string_view, std::string*>, 3> fields{{
      {"subject", &request.subject},
      {"body", &request.body},
      {"sender", &request.sender},
  }};
  for (const auto& [name, target] : fields) {
    const boost::json::value* value = object.if_contains(name);
    if (value == nullptr) {
      return bad_request("missing_field", std::string(name),
                         "The field '" + std::string(name) + "' is required.");
    }
    if (!value->is_string()) {
      return bad_request("invalid_type", std::string(name),
                         "The field '" + std::string(name) + "' must be a string.");
    }
    *target = std::string(value->get_string());
  }
  if (is_blank(request.body)) {
    return bad_request("invalid_value", "body", "The field 'body' must not be empty.");
  }
  return request;
}

Classification classify_email(const ClassifyRequest& request, uint64_t random_bits) {
  const std::string text = core::to_lower_ascii(request.subject) + "\n" + core::to_lower_ascii(request.body);

  const auto& rules = keyword_rules();
  std::array<int, kRuleCount> hits{};
  for (size_t i = 0; i < rules.size(); ++i) hits[i] = count_hits(text, rules[i]);

  std::optional<size_t> winner;
  for (size_t i = 0; i < rules.size() && !winner; ++i) {
    if (rules[i].decisive && hits[i] > 0) winner = i;
  }
  if (!winner) {
    // The most hits among the rest; strictly more, so ties keep the higher-priority rule.
    int best_hits = 0;
    for (size_t i = 0; i < rules.size(); ++i) {
      if (!rules[i].decisive && hits[i] > best_hits) {
        winner = i;
        best_hits = hits[i];
      }
    }
  }

  Classification result{};
  if (winner) {
    int rival_hits = 0;
    for (size_t i = 0; i < rules.size(); ++i) {
      if (i != *winner) rival_hits += hits[i];
    }
    result.category = rules[*winner].category;
    result.confidence = std::clamp(
        kBaseConfidence + kConfidencePerHit * hits[*winner] - kConfidencePerRivalHit * rival_hits,
        kBaseConfidence, kMaxConfidence);
  } else {
    result.category = llm_categories().back();  // "other"
    result.confidence = kOtherConfidence;
  }

  result.input_tokens = estimate_tokens(request.subject) + estimate_tokens(request.body) +
                        estimate_tokens(request.sender) + kPromptOverheadTokens;
  const uint64_t output_span = kMaxOutputTokens - kMinOutputTokens + 1;
  result.output_tokens =
      kMinOutputTokens +
      static_cast<int64_t>(core::mix64(random_bits ^ kOutputTokensSalt) % output_span);
  const double latency_ms = kBaselineMinMs +
                            (kBaselineMaxMs - kBaselineMinMs) * core::unit_from_bits(random_bits) +
                            kPrefillMsPerInputToken * static_cast<double>(result.input_tokens);
  result.model_latency_ms =
      std::min(kMaxModelLatencyMs, static_cast<int64_t>(std::llround(latency_ms)));
  return result;
}

std::variant<int64_t, ApiError> parse_fault_delay_ms(std::string_view header_value) {
  const size_t first = header_value.find_first_not_of(" \t");
  if (first == std::string_view::npos) return int64_t{0};
  const size_t last = header_value.find_last_not_of(" \t");
  const std::string_view digits = header_value.substr(first, last - first + 1);

  auto invalid = [&] {
    return bad_request("invalid_header", "X-Fault-Delay-Ms",
                       "The header 'X-Fault-Delay-Ms' must be a whole number of milliseconds "
                       "from 0 to 30000, got '" +
                           std::string(digits) + "'.");
  };
  int64_t delay_ms = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return invalid();
    delay_ms = delay_ms * 10 + (c - '0');
    if (delay_ms > kMaxFaultDelayMs) return invalid();  // also stops long inputs overflowing
  }
  return delay_ms;
}

}  // namespace trafficsim::demo_service
