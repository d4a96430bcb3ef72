// Costs of the per-request hot path: parsing a response, recording latencies, choosing a
// template, computing arrival times.
#include <benchmark/benchmark.h>

#include <random>
#include <string>

#include "core/arrival_schedule.hpp"
#include "core/histogram.hpp"
#include "core/random.hpp"
#include "http/response_parser.hpp"

namespace {

using namespace trafficsim;

void BM_ParseNginxResponse(benchmark::State& state) {
  const std::string response =
      "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Sun, 22 Nov 2026 20:00:00 GMT\r\n"
      "Content-Type: text/html\r\nContent-Length: 17\r\nLast-Modified: Sun, 22 Nov 2026 "
      "19:00:00 GMT\r\nConnection: keep-alive\r\nETag: \"6560-11\"\r\nAccept-Ranges: bytes\r\n"
      "\r\nhello from nginx\n";
  http::ResponseParser parser;
  for (auto _ : state) {
    parser.reset();
    size_t used = 0;
    auto r = parser.feed(response.data(), response.size(), &used);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * response.size()));
}
BENCHMARK(BM_ParseNginxResponse);

void BM_HistogramRecord(benchmark::State& state) {
  core::LatencyHistogram h;
  std::mt19937_64 rng(1);
  std::vector<int64_t> values(4096);
  for (auto& v : values) v = static_cast<int64_t>(rng() % 100'000);
  size_t i = 0;
  for (auto _ : state) {
    h.record(values[i++ & 4095]);
  }
  benchmark::DoNotOptimize(h.count());
}
BENCHMARK(BM_HistogramRecord);

void BM_ArrivalRandomTemplateChoice(benchmark::State& state) {
  uint64_t k = 0;
  for (auto _ : state) {
    core::ArrivalRandom rng(42, 7, k++, core::Lane::request);
    benchmark::DoNotOptimize(rng.next_unit());
  }
}
BENCHMARK(BM_ArrivalRandomTemplateChoice);

void BM_UniformSchedule(benchmark::State& state) {
  auto profile = core::RateProfile::peak(30000, 3600);
  core::ArrivalSchedule schedule(profile, core::ArrivalProcess::uniform, 1, 1, 0, 1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(schedule.next());
  }
}
BENCHMARK(BM_UniformSchedule);

}  // namespace
