// The module map of docs/architecture.md, checked: a module includes only the modules below it,
// every folder of src/ is on the map, and no room grows past the size a reader can hold.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

namespace {

namespace fs = std::filesystem;

// Who may include whom (besides itself). Keep in step with docs/architecture.md.
const std::map<std::string, std::set<std::string>> kAllowed = {
    {"core", {}},
    {"http", {"core"}},
    {"telemetry", {"core", "http"}},
    {"storage", {"core"}},
    {"load", {"core", "http"}},
    {"scenarios", {"core", "http", "load"}},
    {"demo_service", {"core", "http", "telemetry", "storage"}},
    // monitors and incidents read their files with scenarios' YAML reader (file:line: field
    // errors, unknown keys, expansion bounds) rather than keep a second copy of it.
    {"monitors", {"core", "http", "telemetry", "storage", "scenarios"}},
    {"incidents", {"core", "http", "telemetry", "storage", "scenarios"}},
    {"activity", {"core", "http", "telemetry", "storage"}},
    {"jobs",
     {"core", "http", "telemetry", "storage", "load", "scenarios", "demo_service", "monitors",
      "incidents", "activity"}},
    {"control",
     {"core", "http", "telemetry", "storage", "load", "scenarios", "demo_service", "monitors",
      "incidents", "activity", "jobs"}},
    {"cli",
     {"core", "http", "telemetry", "storage", "load", "scenarios", "demo_service", "monitors",
      "incidents", "activity", "jobs", "control"}},
};

// A source file longer than this holds several files' worth of seams (issue 10 split them).
constexpr size_t kMaxLines = 750;

const fs::path kSrc = fs::path(TRAFFICSIM_SOURCE_DIR) / "src";

bool is_source(const fs::path& p) {
  return p.extension() == ".cpp" || p.extension() == ".hpp";
}

TEST(LayeringTest, EveryModuleIncludesOnlyTheModulesBelowIt) {
  const std::regex include(R"re(^\s*#\s*include\s*"([a-z_]+)/)re");
  int checked = 0;
  for (const auto& module : fs::directory_iterator(kSrc)) {
    if (!module.is_directory()) continue;
    std::string name = module.path().filename().string();
    auto allowed = kAllowed.find(name);
    ASSERT_NE(allowed, kAllowed.end())
        << "src/" << name << "/ is not on the module map (tests/layering, docs/architecture.md)";
    for (const auto& f : fs::recursive_directory_iterator(module.path())) {
      if (!f.is_regular_file() || !is_source(f.path())) continue;
      std::ifstream in(f.path());
      std::string line;
      int n = 0;
      while (std::getline(in, line)) {
        ++n;
        std::smatch m;
        if (!std::regex_search(line, m, include)) continue;
        std::string used = m[1];
        ++checked;
        if (used == name) continue;
        EXPECT_TRUE(allowed->second.count(used))
            << fs::relative(f.path(), kSrc).string() << ":" << n << " includes " << used
            << "/, which is not below " << name << "/ on the module map";
      }
    }
  }
  EXPECT_GT(checked, 100) << "the scan found the sources";
}

TEST(LayeringTest, NoSourceFileHoldsSeveralFilesWorthOfSeams) {
  for (const auto& f : fs::recursive_directory_iterator(kSrc)) {
    if (!f.is_regular_file() || !is_source(f.path())) continue;
    std::ifstream in(f.path());
    size_t lines = 0;
    std::string line;
    while (std::getline(in, line)) ++lines;
    EXPECT_LE(lines, kMaxLines) << fs::relative(f.path(), kSrc).string() << " has " << lines
                                << " lines: split it along its seams";
  }
}

}  // namespace
