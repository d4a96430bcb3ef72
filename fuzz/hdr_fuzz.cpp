// HdrHistogram V2 compressed base64 decoding (report histograms, merges): any text decodes or is
// refused without crashing or allocating without bound; what decodes encodes again to a histogram
// with the same count and percentiles, and merges with itself to twice the count.
#include "core/histogram.hpp"
#include "fuzz_support.hpp"

using trafficsim::core::LatencyHistogram;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto h = LatencyHistogram::decode_compressed_base64(fuzz_text(data, size));
  if (!h) return 0;
  auto again = LatencyHistogram::decode_compressed_base64(h->encode_compressed_base64());
  TS_FUZZ_CHECK(again.has_value());
  TS_FUZZ_CHECK(again->count() == h->count());
  for (double p : {0.0, 50.0, 99.0, 100.0}) TS_FUZZ_CHECK(again->percentile(p) == h->percentile(p));
  LatencyHistogram twice = *h;
  twice.merge(*again);
  TS_FUZZ_CHECK(twice.count() == 2 * h->count());
  return 0;
}
