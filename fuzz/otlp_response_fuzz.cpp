// OTLP/HTTP export responses (partial_success) in protobuf and JSON, as any receiver might
// answer: read or taken as nothing rejected, never a crash; the count is never negative.
#include "fuzz_support.hpp"
#include "telemetry/otlp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  auto p = trafficsim::telemetry::parse_partial_success(fuzz_text(data + 1, size - 1), data[0] & 1);
  TS_FUZZ_CHECK(p.rejected >= 0);
  return 0;
}
