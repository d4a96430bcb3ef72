#pragma once
// The simulated LLM behind POST /hackathon/classify: a deterministic keyword classifier that
// reports what a real model call would cost (input/output tokens) and how long it would take
// (model_latency_ms grows with the prompt). The monitors of the demo watch exactly these three
// signals: latency, errors and token spend.
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "http/api_error.hpp"

namespace trafficsim::demo_service {

using http::ApiError;

inline constexpr std::string_view kLlmProvider = "simulated";
inline constexpr std::string_view kLlmModel = "trafficsim-classifier-1";

// Tokens of the fixed instructions wrapped around every email, as a real prompt would have.
inline constexpr int64_t kPromptOverheadTokens = 60;
// The model call never takes longer than this, however large the prompt (a client timeout).
inline constexpr int64_t kMaxModelLatencyMs = 15'000;

struct ClassifyRequest {
  std::string subject;
  std::string body;
  std::string sender;
};

// Validates a request body {"subject": string, "body": string, "sender": string}; other fields
// are ignored. Errors, all status 400, checked in this order:
//   malformed JSON                         -> code "invalid_json" (no field)
//   not a JSON object                      -> "invalid_type", field "body"
//   subject / body / sender missing        -> "missing_field", field names it
//   present but not a string               -> "invalid_type", field names it
//   body empty or only whitespace          -> "invalid_value", field "body"
std::variant<ClassifyRequest, ApiError> parse_classify_request(std::string_view json_body);

struct Classification {
  std::string_view category;  // one of llm_categories(); points into static storage
  double confidence;          // 0.55-0.98 for a keyword match, 0.5 for "other"
  int64_t input_tokens;
  int64_t output_tokens;  // 15-40
  int64_t model_latency_ms;
};

// interview, offer, rejection, application_received, recruiter_outreach, other.
const std::vector<std::string_view>& llm_categories();

// About one token per four bytes of text (the usual rule of thumb for English), rounded up:
// 0 for "", at least 1 otherwise.
int64_t estimate_tokens(std::string_view text);

// Keyword classification of subject + body, case-insensitive. An offer or a rejection is decisive
// whatever else the email says ("thank you for applying ... unfortunately" is a rejection); among
// interview, application_received and recruiter_outreach the most distinct keywords win, ties in
// that order. Confidence grows with the winner's hits and shrinks with other categories' hits.
// input_tokens = tokens of subject, body and sender + kPromptOverheadTokens.
// Randomness comes only from random_bits: output_tokens, and model_latency_ms = a 200-500 ms
// baseline + 0.1 ms per input token (prefill), capped at kMaxModelLatencyMs. So a normal email
// (~200 tokens) answers in ~220-520 ms and a 5 000-token prompt in ~700-1 000 ms.
Classification classify_email(const ClassifyRequest& request, uint64_t random_bits);

inline constexpr int64_t kMaxFaultDelayMs = 30'000;
// The per-request fault hint header X-Fault-Delay-Ms (surrounding spaces ignored): absent or
// empty -> 0; digits only with a value <= kMaxFaultDelayMs -> that many ms; anything else (sign,
// fraction, > 30000) -> 400 "invalid_header", field "X-Fault-Delay-Ms".
std::variant<int64_t, ApiError> parse_fault_delay_ms(std::string_view header_value);

}  // namespace trafficsim::demo_service
