// Prometheus text exposition as monitors, the Metrics page and serve --segments read it from any
// /metrics: every line is a sample, a comment or counted malformed; never a crash.
#include "fuzz_support.hpp"
#include "telemetry/exposition_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto text = fuzz_text(data, size);
  auto e = trafficsim::telemetry::parse_exposition(text);
  size_t lines = 1;
  for (char c : text) lines += c == '\n';
  TS_FUZZ_CHECK(e.samples.size() + e.malformed_lines <= lines);
  return 0;
}
