// Report files given to `report merge`: the input is up to four JSON texts separated by a NUL
// byte, read as `read_report` does (JSON with meta and streams) and merged. Foreign, partial or
// hostile reports are named problems (MergeError) or refused with an exception the command turns
// into its exit code; never a crash or an allocation without bound.
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>

#include "fuzz_support.hpp"
#include "load/report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view all = fuzz_text(data, size);
  std::vector<std::pair<std::string, boost::json::object>> reports;
  for (int i = 0; i < 4 && !all.empty(); ++i) {
    const size_t nul = all.find('\0');
    std::string_view one = all.substr(0, nul);
    all = nul == std::string_view::npos ? std::string_view() : all.substr(nul + 1);
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(one, ec);
    if (ec || !v.is_object() || !v.as_object().contains("meta") ||
        !v.as_object().contains("streams"))
      continue;
    reports.emplace_back("segment-" + std::to_string(i) + ".json", std::move(v.as_object()));
  }
  if (reports.empty()) return 0;
  try {
    if (trafficsim::load::merge_problems(reports).empty()) {
      auto merged = trafficsim::load::merge_reports(reports);
      TS_FUZZ_CHECK(merged.contains("meta"));
    }
  } catch (const std::exception&) {
    // A typed refusal (MergeError, a JSON type error the command reports): not a crash.
  }
  return 0;
}
