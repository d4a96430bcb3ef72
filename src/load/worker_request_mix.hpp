#pragma once
// Worker internals (namespace detail; included by the worker's .cpp files only): which template
// arrival k of a stream sends, and what a response's status means for that template. Both are
// built once per stream at set-up; their per-request calls do not allocate.
#include <bitset>
#include <cstdint>
#include <vector>

#include "load/plan.hpp"

namespace trafficsim::load::detail {

// How a stream picks the template of arrival k (see Stream::groups and MixGroup): derived from
// (seed, stream key, k) alone, so every worker and segment picks the same template for k.
class RequestMix {
 public:
  RequestMix() = default;
  // The engine validated the groups: every index in range, none empty, some weight.
  RequestMix(const Stream& stream, uint64_t seed, uint64_t stream_key);

  uint32_t choose(uint64_t k) const;

 private:
  struct Group {
    std::vector<uint32_t> members;   // templates with this group, in plan order
    std::vector<double> cumulative;  // cumulative template weights (unused with rotate)
    bool rotate = false;
  };
  uint32_t choose_grouped(uint64_t k) const;

  uint64_t seed_ = 0, stream_key_ = 0;
  std::vector<double> cumulative_weights_;  // over all templates (no groups)
  std::vector<double> group_cumulative_;    // cumulative group weights (Stream::groups non-empty)
  std::vector<Group> groups_;
};

// What a response's status is for the template that was sent.
enum class StatusClass : uint8_t {
  success,           // expected (or, injected template: one of its success_statuses)
  expected_failure,  // injected template, a status it expects: neither success nor error
  unexpected,        // an error (EndpointStats::errors_status)
};

// Per template, by status code: bit lookups keep classification O(1) however long an
// `expect: 200-499` list is.
class StatusClassifier {
 public:
  StatusClassifier() = default;
  explicit StatusClassifier(const std::vector<RequestTemplate>& templates);

  StatusClass classify(uint32_t tmpl, int status) const {
    const Entry& e = entries_[tmpl];
    const bool in_range = status >= 100 && status < 600;
    const bool matched = in_range && e.expected[status];
    if (e.injected) {
      if (matched) return StatusClass::expected_failure;
      return in_range && e.success[status] ? StatusClass::success : StatusClass::unexpected;
    }
    return matched ? StatusClass::success : StatusClass::unexpected;
  }

 private:
  struct Entry {
    // What the template expects: a success, or for an injected template an expected failure.
    std::bitset<600> expected;
    std::bitset<600> success;  // injected templates: their successes
    bool injected = false;
  };
  std::vector<Entry> entries_;
};

}  // namespace trafficsim::load::detail
