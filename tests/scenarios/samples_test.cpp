// Sample sets (scenarios/samples.cpp): inline lists and records, files next to the scenario, the
// built-in samples for a copied file, --samples, and the plan hash covering their contents.
#include <gtest/gtest.h>

#include <string>

#include "scenario_test_support.hpp"

namespace trafficsim::scenarios {
namespace {

using namespace test_support;

// ---- samples ----------------------------------------------------------------------------------

TEST(Samples, InlineListsAndRecords) {
  auto sc = load_scenario(yaml(R"(
duration: 1s
samples:
  words: [alpha, beta]
  people:
    - {first: Ann, last: Lee}
    - {first: Bo, last: Kim}
streams:
  - name: s
    rate: 1
    requests:
      - path: /w/{{sample words}}
        body: '{{sample people.first}} {{sample people.last}}'
)"),
                          options());
  const auto& t = sc.streams.at(0).requests.at(0);
  ASSERT_TRUE(t.dynamic);
  std::set<std::string> paths, bodies;
  for (uint64_t k = 0; k < 64; ++k) {
    paths.insert(render_target(t, "s", k));
    bodies.insert(render_body(t, "s", k));
  }
  EXPECT_EQ(paths, (std::set<std::string>{"/w/alpha", "/w/beta"}));
  // Fields of one arrival come from one record.
  EXPECT_EQ(bodies, (std::set<std::string>{"Ann Lee", "Bo Kim"}));
}

TEST(Samples, MismatchedRecordsAreAnError) {
  std::string m = load_error(yaml(R"(
duration: 1s
samples:
  people:
    - {first: Ann, last: Lee}
    - {first: Bo}
streams:
  - name: s
    rate: 1
    requests: [{path: /}]
)"));
  EXPECT_TRUE(m.starts_with("my.yaml:5: samples.people[1]")) << m;
  EXPECT_TRUE(contains(m, "first, last")) << m;

  m = load_error(yaml(R"(
duration: 1s
samples:
  mixed:
    - plain
    - {first: Bo}
streams:
  - name: s
    rate: 1
    requests: [{path: /}]
)"));
  EXPECT_TRUE(m.starts_with("my.yaml:5: samples.mixed[1]")) << m;

  m = load_error(yaml(R"(
duration: 1s
samples:
  empty: []
streams:
  - name: s
    rate: 1
    requests: [{path: /}]
)"));
  EXPECT_TRUE(m.starts_with("my.yaml:3: samples.empty")) << m;
}

TEST(Samples, FileNextToTheScenario) {
  TempDir dir;
  dir.write("data/words.txt", "hello\r\n\nworld\n");
  dir.write("data/people.yaml", "- {name: Ann}\n- {name: Bo}\n");
  auto path = dir.write("scenario.yaml",
                        "duration: 1s\n"
                        "samples:\n"
                        "  words: data/words.txt\n"
                        "  people: data/people.yaml\n"
                        "streams:\n"
                        "  - name: s\n"
                        "    rate: 1\n"
                        "    requests:\n"
                        "      - path: /{{sample words}}/{{sample people.name}}\n");
  auto sc = load_scenario(read_source(path.string()), options());
  std::set<std::string> seen;
  for (uint64_t k = 0; k < 64; ++k) seen.insert(render_target(sc.streams[0].requests[0], "s", k));
  EXPECT_EQ(seen, (std::set<std::string>{"/hello/Ann", "/hello/Bo", "/world/Ann", "/world/Bo"}));
}

TEST(Samples, ACopiedBuiltinFindsTheBuiltinSamples) {
  TempDir dir;
  auto path = dir.write("copy.yaml", std::string(*embedded_file("normal_traffic.yaml")));
  auto sc = load_scenario(read_source(path.string()), options());
  EXPECT_EQ(classify_rejection(render_body(sc.streams[0].requests[0], sc.streams[0].name, 0)), "");
}

TEST(Samples, ErrorsInASamplesFileNameThatFile) {
  TempDir dir;
  dir.write("bad.yaml", "- {a: 1, b: 2}\n- {a: 3}\n");
  auto path = dir.write("sc.yaml",
                        "duration: 1s\n"
                        "samples: {x: bad.yaml, y: missing.txt}\n"
                        "streams:\n"
                        "  - name: s\n"
                        "    rate: 1\n"
                        "    requests: [{path: /}]\n");
  std::string m = load_error(read_source(path.string()));
  EXPECT_TRUE(contains(m, "bad.yaml:2: samples[1]")) << m;

  dir.write("sc2.yaml",
            "duration: 1s\n"
            "samples: {y: missing.txt}\n"
            "streams:\n"
            "  - name: s\n"
            "    rate: 1\n"
            "    requests: [{path: /}]\n");
  m = load_error(read_source((dir.path() / "sc2.yaml").string()));
  EXPECT_TRUE(contains(m, "sc2.yaml:2: samples.y")) << m;
  EXPECT_TRUE(contains(m, "missing.txt")) << m;
}

TEST(Samples, OverrideReplacesTheEmailsSet) {
  TempDir dir;
  auto file = dir.write("mine.yaml",
                        "- subject: \"Only subject\"\n"
                        "  sender: \"me@x.example\"\n"
                        "  body: \"Hello \\\"there\\\"\"\n");
  for (const char* mode : {"normal_traffic", "latency_injection", "error_injection"}) {
    SCOPED_TRACE(mode);
    auto o = options();
    o.samples_override = file.string();
    auto sc = load_builtin(mode, o);
    const auto& s = sc.streams[0];
    std::string body = render_body(s.requests[0], s.name, 5);
    ASSERT_EQ(classify_rejection(body), "") << body;
    auto v = json::parse(body).as_object();
    EXPECT_EQ(v.at("subject").as_string(), "Only subject");
    EXPECT_EQ(v.at("sender").as_string(), "me@x.example");
    EXPECT_EQ(v.at("body").as_string(), "Hello \"there\"");
  }
}

TEST(Samples, OverrideErrors) {
  TempDir dir;
  auto file = dir.write("mine.yaml", "- {subject: a, sender: b, body: c}\n");
  auto o = options();
  o.samples_override = file.string();
  // A scenario without an 'emails' set.
  try {
    load_builtin("normal", o);
    ADD_FAILURE() << "no error";
  } catch (const ScenarioError& e) {
    EXPECT_TRUE(contains(e.what(), "--samples")) << e.what();
    EXPECT_TRUE(contains(e.what(), "'emails'")) << e.what();
    EXPECT_TRUE(contains(e.what(), "'normal'")) << e.what();
  }
  // A file that does not exist.
  o.samples_override = (dir.path() / "nope.yaml").string();
  std::string m = load_error(*builtin_source("normal_traffic"), o);
  EXPECT_TRUE(contains(m, "--samples")) << m;
  EXPECT_TRUE(contains(m, "nope.yaml")) << m;
  // Records lacking a field the templates use.
  o.samples_override = dir.write("partial.yaml", "- {subject: a, body: c}\n").string();
  m = load_error(*builtin_source("normal_traffic"), o);
  EXPECT_TRUE(contains(m, "sender")) << m;
  // Records that differ from each other.
  o.samples_override =
      dir.write("uneven.yaml", "- {subject: a, sender: b, body: c}\n- {subject: a}\n").string();
  m = load_error(*builtin_source("normal_traffic"), o);
  EXPECT_TRUE(contains(m, "uneven.yaml:2: samples[1]")) << m;
}

// A --segment plan's hash must differ when the samples differ: segments run with different
// sample files are not one plan and must not merge.
TEST(Samples, ThePlanHashCoversTheSampleContents) {
  TempDir dir;
  auto other = dir.write("other.yaml",
                         "- {subject: Hi, sender: a@b.example, body: One line only}\n");
  auto plain = load_builtin("normal_traffic");
  auto again = load_builtin("normal_traffic");
  LoadOptions o = options();
  o.samples_override = other.string();
  auto replaced = load_builtin("normal_traffic", o);
  EXPECT_FALSE(plain.samples_digest.empty());
  EXPECT_EQ(build_plan(plain, build_options()).hash(), build_plan(again, build_options()).hash());
  EXPECT_NE(build_plan(plain, build_options()).hash(),
            build_plan(replaced, build_options()).hash());
}

}  // namespace
}  // namespace trafficsim::scenarios
