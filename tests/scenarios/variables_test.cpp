// Scenario variables (scenarios/variables.cpp): ${name}, ${name:-default}, nesting, $$, the
// environment, the errors that name the variable and the line, and which names a file reads.
#include <gtest/gtest.h>

#include <string>

#include "scenario_test_support.hpp"

namespace trafficsim::scenarios {
namespace {

using namespace test_support;

// ---- variables ------------------------------------------------------------------------------

// A one-stream scenario whose stream name is `name_expr`.
Source named(const std::string& name_expr) {
  return Source{"my.yaml",
                "duration: 1s\n"
                "streams:\n"
                "  - name: \"" + name_expr + "\"\n"
                "    rate: 1\n"
                "    requests:\n"
                "      - path: /\n",
                false};
}

std::string stream_name(const Source& src, const LoadOptions& o) {
  return load_scenario(src, o).streams.at(0).name;
}

TEST(Variables, ParamsEnvironmentAndDefaults) {
  EXPECT_EQ(stream_name(named("${a}"), options({{"a", "P"}})), "P");
  EXPECT_EQ(stream_name(named("${a}"), options({}, {{"a", "E"}})), "E");
  EXPECT_EQ(stream_name(named("${a}"), options({{"a", "P"}}, {{"a", "E"}})), "P");
  EXPECT_EQ(stream_name(named("${a:-dflt}"), options()), "dflt");
  EXPECT_EQ(stream_name(named("${a:-dflt}"), options({}, {{"a", "E"}})), "E");
  EXPECT_EQ(stream_name(named("${a:-dflt}"), options({}, {{"a", ""}})), "dflt");  // empty: unset
  EXPECT_EQ(stream_name(named("x-${a:-1}-${b:-2}-y"), options({{"b", "B"}})), "x-1-B-y");
}

TEST(Variables, NestedDefaults) {
  auto src = named("${a:-${B:-x}}");
  EXPECT_EQ(stream_name(src, options()), "x");
  EXPECT_EQ(stream_name(src, options({}, {{"B", "fromB"}})), "fromB");
  EXPECT_EQ(stream_name(src, options({{"a", "fromA"}}, {{"B", "fromB"}})), "fromA");
  EXPECT_EQ(stream_name(named("${a:-${B:-${C:-deep}}}!"), options()), "deep!");
  EXPECT_EQ(stream_name(named("${a:-pre-${B:-mid}-post}"), options()), "pre-mid-post");
}

TEST(Variables, DoubleDollarIsALiteral) {
  EXPECT_EQ(stream_name(named("a$${b}"), options({{"b", "no"}})), "a${b}");
  EXPECT_EQ(stream_name(named("$${x:-y} ${x:-z}"), options()), "${x:-y} z");
  EXPECT_EQ(stream_name(named("cost $5"), options()), "cost $5");
}

TEST(Variables, UsesTheGivenGetenv) {
  // Built with a getenv that has PATH: a process variable must not leak in when getenv is set.
  LoadOptions o = options();
  std::vector<std::string> asked;
  o.getenv = [&asked](const char* n) -> const char* {
    asked.push_back(n);
    return std::string(n) == "WHO" ? "me" : nullptr;
  };
  EXPECT_EQ(stream_name(named("${WHO}-${PATH:-none}"), o), "me-none");
  EXPECT_EQ(asked, (std::vector<std::string>{"WHO", "PATH"}));
}

TEST(Variables, MissingVariableNamesItAndTheLine) {
  std::string m = load_error(yaml(R"(
duration: 1s
streams:
  - name: s
    rate: ${the_rate}
    requests:
      - path: /
)"));
  EXPECT_TRUE(contains(m, "my.yaml:4:")) << m;
  EXPECT_TRUE(contains(m, "streams[0](s).rate")) << m;
  EXPECT_TRUE(contains(m, "'the_rate'")) << m;
  EXPECT_TRUE(contains(m, "--set the_rate=VALUE")) << m;

  m = load_error(yaml(R"(
duration: 1s
streams:
  - name: s
    rate: 1
    requests:
      - path: /${unclosed
)"));
  EXPECT_TRUE(contains(m, "my.yaml:6:")) << m;
  EXPECT_TRUE(contains(m, "unclosed")) << m;

  m = load_error(named("${bad-name}"));
  EXPECT_TRUE(contains(m, "my.yaml:3:")) << m;
  EXPECT_TRUE(contains(m, "bad variable name 'bad-name'")) << m;
}

TEST(Variables, UsedParamsRecordsEveryReferencedName) {
  auto sc = load_scenario(named("${a:-${B:-x}}"), options());
  EXPECT_EQ(sc.used_params, (std::set<std::string>{"a", "B"}));
  // A default that is not needed is not looked into.
  sc = load_scenario(named("${a:-${B:-x}}"), options({{"a", "1"}}));
  EXPECT_EQ(sc.used_params, (std::set<std::string>{"a"}));
  sc = load_scenario(named("plain"), options({{"unused", "1"}}));
  EXPECT_TRUE(sc.used_params.empty());
  auto n = load_builtin("normal");
  EXPECT_EQ(n.used_params, (std::set<std::string>{"max_rps", "hard_cap", "endpoints"}));
}

TEST(Variables, InlineSampleValuesAreInterpolated) {
  auto sc = load_scenario(yaml(R"(
duration: 1s
samples:
  words: ["${greeting:-hi}"]
  people: [{name: "${who:-Ann}"}]
streams:
  - name: s
    rate: 1
    requests:
      - path: /{{sample words}}/{{sample people.name}}
)"),
                          options({{"who", "Bo"}}));
  EXPECT_EQ(render_target(sc.streams.at(0).requests.at(0), "s", 0), "/hi/Bo");
  EXPECT_TRUE(sc.used_params.count("greeting"));
}

}  // namespace
}  // namespace trafficsim::scenarios
