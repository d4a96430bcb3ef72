// Reading YAML files within bounds: an alias bomb, nesting too deep, variables, repeated headers
// and templates that would multiply a small file into gigabytes each end in a ScenarioError that
// names file, line and field, and a syntax error says what is wrong in words. Scenario files and
// demo scripts go through the same reader.
#include "scenarios/yaml_reader.hpp"

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <string>

#include "scenarios/demo_script.hpp"
#include "scenarios/scenario.hpp"
#include "scenario_test_support.hpp"
#include "support/process.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TS_SANITIZED 1
#endif
#endif

namespace trafficsim::scenarios {
namespace {

using namespace test_support;

constexpr size_t kMiB = 1024 * 1024;

// The defect's file: one 1 MiB body anchored once and used through `uses` aliases (about 1 MB
// on disk; expanded, 2 000 uses are 2 GB, and the loader's copies made it more than 4 GB).
std::string alias_bomb(int uses) {
  std::string text =
      "duration: 1s\n"
      "streams:\n"
      "  - name: s\n"
      "    rate: 1\n"
      "    requests:\n"
      "      - path: /\n"
      "        body: &body \"" +
      std::string(kMiB, 'x') + "\"\n";
  for (int i = 0; i < uses; ++i) text += "      - path: /\n        body: *body\n";
  return text;
}

// Runs `body` in a forked child limited to `address_space` bytes of memory and returns its exit
// code (128 + signal when it was killed, e.g. by an uncaught std::bad_alloc's abort). Under a
// sanitizer (whose shadow memory needs terabytes of address space) it runs in this process
// without the limit.
int exit_code_under_memory_limit(const std::function<int()>& body, rlim_t address_space) {
#ifdef TS_SANITIZED
  (void)address_space;
  return body();
#else
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    rlimit limit{address_space, address_space};
    if (setrlimit(RLIMIT_AS, &limit) != 0) _exit(99);
    int code = 98;
    try {
      code = body();
    } catch (...) {
      code = 97;
    }
    _exit(code);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
#endif
}

TEST(AliasBomb, TwoThousandAliasesOfAMegabyteAreAnErrorNamingTheAliasAndTheLine) {
  TempDir dir;
  auto path = dir.write("bomb.yaml", alias_bomb(2000));
  Source src = read_source(path.string());
  std::string m = load_error(src);
  // The use that crosses 64 MiB: requests[i] has its body on line 7 + 2 i.
  std::smatch match;
  std::regex expected(
      R"(^(.*bomb\.yaml):(\d+): streams\[0\]\.requests\[(\d+)\]\.body: the file expands to )"
      R"(more than 64 MiB through aliases \(\*body used 2000 times\)$)");
  ASSERT_TRUE(std::regex_match(m, match, expected)) << m;
  EXPECT_EQ(match[1].str(), path.string());
  int line = std::stoi(match[2].str());
  int index = std::stoi(match[3].str());
  EXPECT_EQ(line, 7 + 2 * index) << m;
  EXPECT_GE(index, 60);  // about 64 MiB of 1 MiB bodies
  EXPECT_LE(index, 64);
}

TEST(AliasBomb, IsRefusedWithinAGigabyteOfMemory) {
  TempDir dir;
  auto path = dir.write("bomb.yaml", alias_bomb(2000));
  Source src = read_source(path.string());
  int code = exit_code_under_memory_limit(
      [&] {
        std::string m = load_error(src);
        if (m.empty()) return 1;
        return contains(m, "through aliases (*body used 2000 times)") ? 0 : 2;
      },
      rlim_t{1024} * kMiB);
  EXPECT_EQ(code, 0) << "1: loaded; 2: another error; 97: an exception escaped; 134: abort";
}

TEST(AliasBomb, AFewAliasesWithinTheLimitLoad) {
  auto sc = load_scenario(Source{"ok.yaml", alias_bomb(20), false}, options());
  ASSERT_EQ(sc.streams.size(), 1u);
  ASSERT_EQ(sc.streams[0].requests.size(), 21u);
  EXPECT_EQ(sc.streams[0].requests[20].body.size(), kMiB);
}

TEST(AliasBomb, NestedAliasesAreSizedWithoutExpandingThem) {
  // Billion laughs: each level is ten uses of the one before; 10^9 'lol's (3 GB) expanded.
  std::string text = "a0: &a0 \"lol\"\n";
  for (int level = 1; level <= 9; ++level) {
    std::string name = "a" + std::to_string(level);
    text += name + ": &" + name + " [";
    for (int i = 0; i < 10; ++i) text += (i ? ", *a" : "*a") + std::to_string(level - 1);
    text += "]\n";
  }
  text += "duration: 1s\n";
  std::string m = load_error(Source{"laughs.yaml", text, false});
  EXPECT_TRUE(m.starts_with("laughs.yaml:")) << m;
  EXPECT_TRUE(contains(m, "the file expands to more than 64 MiB through aliases (*a")) << m;
}

TEST(AliasBomb, ADemoScriptHasTheSameLimit) {
  std::string text = "x: &n \"" + std::string(kMiB, 'x') + "\"\nphases:\n";
  for (int i = 0; i < 100; ++i) text += "  - {mode: normal_traffic, duration: 1s, title: *n}\n";
  Source src{"show.yaml", text, false};
  EXPECT_FALSE(is_demo_script(src));  // not readable: the loader says why
  std::string m = script_error(src);
  EXPECT_TRUE(m.starts_with("show.yaml:")) << m;
  EXPECT_TRUE(contains(m, "phases[")) << m;
  EXPECT_TRUE(contains(m, "through aliases (*n used 100 times)")) << m;
}

TEST(AliasBomb, AnAliasOfANodeThatContainsItIsAnError) {
  std::string m = load_error(Source{"loop.yaml", "duration: 1s\nstreams: &s [*s]\n", false});
  EXPECT_TRUE(m.starts_with("loop.yaml:2: streams[0]: *s refers to a node that contains it"))
      << m;
}

TEST(Nesting, AHundredLevelFlowSequenceNamesTheDepth) {
  std::string text = "duration: 1s\nstreams: " + std::string(100, '[') + std::string(100, ']') +
                     "\n";
  std::string m = load_error(Source{"deep.yaml", text, false});
  EXPECT_TRUE(m.starts_with("deep.yaml:2: streams[0][0]")) << m;
  EXPECT_TRUE(m.ends_with(": nesting deeper than 64 levels")) << m;
}

TEST(Nesting, AHundredLevelMappingNamesTheDepthAndTheLine) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += std::string(2 * i, ' ') + "k" + std::to_string(i) + ":\n";
  text += std::string(200, ' ') + "v\n";
  std::string m = load_error(Source{"deep.yaml", text, false});
  // The 65th mapping starts at its first key, k64 on line 65.
  EXPECT_TRUE(m.starts_with("deep.yaml:65: k0.k1.k2.")) << m;
  EXPECT_TRUE(contains(m, ".k63: nesting deeper than 64 levels")) << m;
}

TEST(Nesting, DeeperThanYamlCppItselfAllowsIsStillNamed) {
  // yaml-cpp's own guard (2 000 levels) said only "bad file".
  std::string text = std::string(5000, '[') + std::string(5000, ']');
  std::string m = load_error(Source{"deep.yaml", text, false});
  EXPECT_TRUE(contains(m, "nesting deeper than 64 levels")) << m;
  EXPECT_FALSE(contains(m, "bad file")) << m;
}

TEST(Nesting, AnAliasOfADeepNodeCountsItsDepthWhereItIsUsed) {
  std::string deep = std::string(40, '[') + std::string(40, ']');
  std::string text = "d: &d " + deep + "\nstreams: " + std::string(30, '[') + "*d" +
                     std::string(30, ']') + "\n";
  std::string m = load_error(Source{"deep.yaml", text, false});
  EXPECT_TRUE(m.starts_with("deep.yaml:2: streams")) << m;
  EXPECT_TRUE(contains(m, "nesting deeper than 64 levels (through *d)")) << m;
}

TEST(Nesting, ADemoScriptNestedTooDeepIsNamed) {
  std::string text = "phases:\n  - mode: normal_traffic\n    duration: 1s\n    title: " +
                     std::string(80, '[') + std::string(80, ']') + "\n";
  std::string m = script_error(Source{"show.yaml", text, false});
  EXPECT_TRUE(m.starts_with("show.yaml:4: phases[0].title")) << m;
  EXPECT_TRUE(contains(m, "nesting deeper than 64 levels")) << m;
}

TEST(SyntaxErrors, SayWhatIsWrongInWords) {
  struct Case {
    const char* text;
    const char* location;
    const char* detail;
  };
  const Case cases[] = {
      {"duration: 1s\nstreams: [1, 2\nname: x\n", "my.yaml:3: ", "unbalanced brackets"},
      {"duration: 1s\nstreams: [1, 2]]\n", "my.yaml:2: ", "unbalanced brackets"},
      {"duration: 1s\nstreams: {a: 1\n", "my.yaml:3: ", "unbalanced braces"},
      {"duration: 1s\nstreams: *nowhere\n", "my.yaml:2: ", "refers to no anchor"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    std::string m = load_error(Source{"my.yaml", c.text, false});
    EXPECT_TRUE(m.starts_with(c.location)) << m;
    EXPECT_TRUE(contains(m, c.detail)) << m;
  }
}

TEST(Expansion, VariablesCannotMultiplyAValue) {
  std::string body;
  for (int i = 0; i < 100; ++i) body += "${big}";
  std::string text =
      "duration: 1s\nstreams:\n  - name: s\n    rate: 1\n    requests:\n      - path: /\n"
      "        body: \"" +
      body + "\"\n";
  std::string m = load_error(Source{"my.yaml", text, false},
                             options({{"big", std::string(kMiB, 'v')}}));
  EXPECT_TRUE(m.starts_with("my.yaml:7: streams[0](s).requests[0].body: ")) << m;
  EXPECT_TRUE(contains(m, "more than 64 MiB through its variables")) << m;
}

TEST(Expansion, DefaultsNestedTooDeepAreAnError) {
  std::string value;
  for (int i = 0; i < 100; ++i) value += "${v" + std::to_string(i) + ":-";
  value += "x" + std::string(100, '}');
  std::string text = "name: \"" + value + "\"\nduration: 1s\n";
  std::string m = load_error(Source{"my.yaml", text, false});
  EXPECT_TRUE(m.starts_with("my.yaml:1: name: ")) << m;
  EXPECT_TRUE(contains(m, "nested deeper than 64 levels")) << m;
}

TEST(Expansion, AStreamHeaderRepeatedForEveryRequestIsBounded) {
  std::string text = "duration: 1s\nstreams:\n  - name: s\n    rate: 1\n    headers: {X-Big: \"" +
                     std::string(kMiB, 'h') + "\"}\n    requests:\n";
  for (int i = 0; i < 100; ++i) text += "      - path: /\n";
  std::string m = load_error(Source{"my.yaml", text, false});
  EXPECT_TRUE(m.starts_with("my.yaml:5: streams[0](s).requests[")) << m;
  EXPECT_TRUE(contains(m, ".headers.X-Big: the values read come to more than 64 MiB")) << m;
}

TEST(Expansion, PrecomputedTemplatesAreBounded) {
  // Each {{bloat ... 10000000}} precomputes 10 MB; twenty of them would hold 200 MB.
  std::string text =
      "duration: 1s\nsamples:\n  e: [one, two, three]\nstreams:\n  - name: s\n    rate: 1\n"
      "    requests:\n";
  for (int i = 0; i < 20; ++i) text += "      - {path: /, body: \"{{bloat e 10000000}}\"}\n";
  std::string m = load_error(Source{"my.yaml", text, false});
  EXPECT_TRUE(m.starts_with("my.yaml:")) << m;
  EXPECT_TRUE(contains(m, ".body: the values read come to more than 64 MiB")) << m;
}

TEST(Files, AFileLargerThanTheLimitIsNotRead) {
  TempDir dir;
  auto path = dir.write("huge.yaml", "# " + std::string(kMaxExpandedBytes, 'x') + "\n");
  try {
    read_source(path.string());
    ADD_FAILURE() << "read";
  } catch (const ScenarioError& e) {
    EXPECT_TRUE(contains(e.what(), "huge.yaml: cannot read the file (larger than 64 MiB)"))
        << e.what();
  }
}

}  // namespace
}  // namespace trafficsim::scenarios
