// The small text values every edge reads: durations ("30s", "5m"), rates ("2.5k", "6000rpm"),
// --start-at instants (RFC 3339, Unix seconds), RFC 3339 in webhooks, W3C traceparent (a parsed
// value prints back to the same 55 characters), percent-decoding and query parameters. Which
// parser reads the input is chosen by its first byte, so each sees the whole input.
#include <cmath>
#include <string>

#include "core/clock.hpp"
#include "core/duration.hpp"
#include "core/trace_context.hpp"
#include "fuzz_support.hpp"
#include "http/query_string.hpp"
#include "incidents/alertmanager_webhook.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view text = fuzz_text(data + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      // Zero parses ("0s"); the field's limit check decides whether it is allowed.
      if (auto d = trafficsim::core::parse_duration(text)) TS_FUZZ_CHECK(d->count() >= 0);
      break;
    case 1:
      // Zero and negative come back as parsed for the caller to name; what is not a finite
      // number must never pass the limit check.
      if (auto r = trafficsim::core::parse_rate_rps(text); r && !std::isfinite(*r))
        TS_FUZZ_CHECK(!trafficsim::core::rate_limit_error(*r).empty());
      break;
    case 2:
      {
      std::string error;
      (void)trafficsim::core::parse_start_instant(text, &error);
    }
      (void)trafficsim::incidents::parse_rfc3339_unix_s(text);
      break;
    case 3:
      if (auto tc = trafficsim::core::parse_traceparent(text)) {
        const std::string again = tc->traceparent();
        TS_FUZZ_CHECK(again.size() == 55);
        TS_FUZZ_CHECK(text.substr(0, 55).substr(3) == std::string_view(again).substr(3));
        TS_FUZZ_CHECK(trafficsim::core::parse_traceparent(again).has_value());
      }
      break;
    case 4: {
      const std::string decoded = trafficsim::http::percent_decode(text);
      TS_FUZZ_CHECK(decoded.size() <= text.size());
      break;
    }
    default: {
      const auto eq = text.find('\n');
      if (eq == std::string_view::npos) return 0;
      (void)trafficsim::http::query_param(text.substr(eq + 1), text.substr(0, eq));
      break;
    }
  }
  return 0;
}
