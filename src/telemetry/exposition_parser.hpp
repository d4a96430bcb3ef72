#pragma once
// Reading Prometheus text exposition (format 0.0.4) back into samples: what a monitor sees of
// the demo target's /metrics, of any scraped URL, or of our own registry. Lenient as a scraper
// is: comments, blank lines and malformed lines are skipped (and counted), never fatal.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trafficsim::telemetry {

struct ExpositionSample {
  std::string name;                                         // e.g. http_requests_total
  std::vector<std::pair<std::string, std::string>> labels;  // as written, values unescaped
  double value = 0;                                         // NaN, +Inf and -Inf included
  // The value of `label`, or nullptr.
  const std::string* label(std::string_view label) const;
};

struct Exposition {
  std::vector<ExpositionSample> samples;
  size_t malformed_lines = 0;
};

// Parses `text`; a sample line is `name{label="value",...} value [timestamp]`.
Exposition parse_exposition(std::string_view text);

}  // namespace trafficsim::telemetry
