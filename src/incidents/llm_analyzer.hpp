#pragma once
// The optional LLM analysis of an incident, through any OpenAI-compatible chat-completions
// endpoint (OpenAI, Ollama's /v1, vLLM, llama.cpp's server, LiteLLM): the incident's context goes
// out as JSON, hypotheses and actions come back — validated, bounded, and in our own types, or not
// at all. The caller keeps its deterministic rules for every "not at all": this is an aid, never
// the one source of an analysis.
//
// One call: POST <base_url>/chat/completions with {"model", "temperature": 0,
// "response_format": {"type": "json_object"}, "messages": [system, user]} — the system message
// states the analyst's role and the exact JSON to answer (llm_system_prompt()), the user message is
// the incident context serialized. 429 and 5xx (and connection failures) are retried up to
// max_attempts, after Retry-After when the answer gives one, else an exponential back-off, all
// within `timeout` for the whole analysis; other 4xx are not retried.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "incidents/incident_store.hpp"

namespace trafficsim::incidents {

struct LlmConfig {
  std::string
      base_url;       // "http://127.0.0.1:11434/v1": the chat completions are at /chat/completions
  std::string model;  // "llama3.1:8b", "gpt-4o-mini", ...
  std::string api_key;                       // sent as "Authorization: Bearer <key>" when not empty
  std::chrono::milliseconds timeout{20000};  // the whole analysis: every attempt and wait
  int max_attempts = 3;
  // https: a PEM file of CA certificates trusted besides the system store (a private endpoint's
  // CA); empty: the system store only. The peer is always verified (http/client_tls.hpp).
  std::string ca_file;
};

// From the environment, through getenv_fn (nullptr: unset):
// - LLM_BASE_URL: an absolute http:// or https:// URL (a trailing '/' is dropped); unset or
//   empty: nullopt, no LLM analysis;
// - LLM_MODEL: required, not empty;
// - LLM_API_KEY: optional, no line breaks;
// - LLM_TIMEOUT_MS: optional, an integer from 100 to 600 000 (default 20 000);
// - TRAFFICSIM_CA_FILE: optional, the ca_file; it must be readable and hold a PEM certificate.
// Throws std::invalid_argument naming the variable at fault.
std::optional<LlmConfig> llm_config_from_env(
    const std::function<const char*(const char*)>& getenv_fn);

// The categories a hypothesis may take; anything else an answer gives becomes "unknown".
const std::vector<std::string>& llm_hypothesis_categories();

struct LlmAnalysis {
  std::vector<Hypothesis> hypotheses;  // most confident first, at most 10, confidence in [0, 1]
  std::vector<Action> actions;         // in the answer's order, at most 10
  std::string model;                   // the model that answered, as the endpoint names it
};

// The system message: the role, the rules and the JSON schema of the answer.
std::string_view llm_system_prompt();

// The request body for `incident_context`.
boost::json::object llm_request_body(const LlmConfig& config,
                                     const boost::json::object& incident_context);

// A chat-completions response body read: choices[0].message.content holds the answer (a JSON
// object, possibly inside ```json fences or after a sentence), validated field by field. Bounds:
// at most 10 hypotheses and 10 actions (the rest dropped), at most 20 evidence items and 20 steps
// each, descriptions 2 000 bytes, other strings 500 (longer ones cut). nullopt with the field at
// fault in *error ("content: hypotheses[1].confidence: must be a number") when it is unusable.
// `fallback_model` names the model when the response does not.
std::optional<LlmAnalysis> parse_llm_response(std::string_view response_body,
                                              std::string_view fallback_model, std::string* error);

// One analysis, blocking the calling thread for at most about config.timeout. nullopt with a
// one-line reason in *error (may be null) on a timeout, a refusal, persistent 429/5xx, or an
// answer that parse_llm_response rejects; the caller then falls back to its rules.
std::optional<LlmAnalysis> analyze_with_llm(const LlmConfig& config,
                                            const boost::json::object& incident_context,
                                            std::string* error);

}  // namespace trafficsim::incidents
