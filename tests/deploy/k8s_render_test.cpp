// `trafficsim deploy k8s`: the rendered manifests' content, their validity against the
// Kubernetes OpenAPI schema (tests/deploy/node/validate_manifests.mjs, kubernetes-models from
// web/node_modules), the validator's refusal of broken manifests, the flags' errors, and the
// shipped example in deploy/kubernetes/example/ regenerated and compared. No cluster needed.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace trafficsim::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kBinary = TRAFFICSIM_BINARY;
const std::string kSource = TRAFFICSIM_SOURCE_DIR;
const std::string kValidator = kSource + "/tests/deploy/node/validate_manifests.mjs";
const char* kFiles[] = {"configmap.yaml", "pvc.yaml", "job.yaml", "merge-job.yaml"};

ProcessResult deploy(std::vector<std::string> args) {
  args.insert(args.begin(), {kBinary, "deploy", "k8s"});
  return run_process(std::move(args), 10s);
}

ProcessResult validate(const std::vector<fs::path>& files, bool print_json = false) {
  std::vector<std::string> argv = {"node", kValidator};
  if (print_json) argv.push_back("--print-json");
  for (const auto& f : files) argv.push_back(f.string());
  return run_process(std::move(argv), 20s);
}

std::vector<fs::path> rendered(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const char* f : kFiles) out.push_back(dir / f);
  return out;
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// A plan whose text a careless writer would change: quotes, a backslash, a colon in a comment,
// a line more indented than the first, and two trailing newlines.
std::string tricky_plan() {
  return read_file(kSource + "/scenarios/normal.yaml") +
         "\n# trailing: 'single' \"double\" \\ back\\slash {{not a template}} #hash\n"
         "#     indented comment\n\n";
}

TEST(DeployK8s, RendersFourIndexedSegmentsThatTheSchemaAccepts) {
  TempDir tmp;
  const auto plan = tmp.write("My Plan_v2.yaml", tricky_plan());
  const auto out = tmp.path() / "out";
  auto r = deploy({"--segments", "4", "-f", plan.string(), "--start-at", "1796247000", "-o",
                   out.string(), "--image", "registry.example/trafficsim:1.2", "--namespace",
                   "load", "--target-url", "http://shop.load.svc:8080"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  const std::string job = read_file((out / "job.yaml").string());
  EXPECT_TRUE(contains(job, "kind: Job\n")) << job;
  EXPECT_TRUE(contains(job, "  completionMode: Indexed\n")) << job;
  EXPECT_TRUE(contains(job, "  completions: 4\n")) << job;
  EXPECT_TRUE(contains(job, "  parallelism: 4\n")) << job;
  EXPECT_TRUE(contains(job, "restartPolicy: Never")) << job;
  EXPECT_TRUE(contains(job, "name: \"trafficsim-my-plan-v2\"")) << job;
  EXPECT_TRUE(contains(job, "namespace: \"load\"")) << job;
  EXPECT_TRUE(contains(job, "image: \"registry.example/trafficsim:1.2\"")) << job;
  EXPECT_TRUE(contains(job,
                       "args: [\"run\", \"-f\", \"/plan/scenario.yaml\", \"--segment\", "
                       "\"$(JOB_COMPLETION_INDEX)/4\", \"--start-at\", \"2026-12-02T21:30:00Z\", "
                       "\"--json\", \"/reports/segment-$(JOB_COMPLETION_INDEX).json\", "
                       "\"--metrics-listen\", \"0.0.0.0:9464\", \"--metrics-linger\", \"30s\", "
                       "\"--url\", \"http://shop.load.svc:8080\"]"))
      << job;
  // Each pod's live /metrics, announced to a Prometheus that discovers pods by annotation.
  EXPECT_TRUE(contains(job, "        prometheus.io/scrape: \"true\"\n"
                            "        prometheus.io/port: \"9464\"\n"))
      << job;
  EXPECT_TRUE(contains(job, "            - name: metrics\n              containerPort: 9464\n"))
      << job;
  EXPECT_TRUE(contains(job, "batch.kubernetes.io/job-completion-index")) << job;
  // Sized from the plan: 20 req/s / 4 = 5 req/s per pod; the target is external (35 us).
  EXPECT_TRUE(contains(job, "5 req/s x 35 us x 2 (headroom)")) << job;
  EXPECT_TRUE(contains(job, "cpu: \"100m\"")) << job;
  const std::string merge = read_file((out / "merge-job.yaml").string());
  EXPECT_TRUE(contains(merge,
                       "args: [\"report\", \"merge\", \"/reports\", \"--json\", "
                       "\"/reports/merged.json\"]"))
      << merge;
  EXPECT_TRUE(contains(merge,
                       "kubectl -n load wait --for=condition=complete "
                       "job/trafficsim-my-plan-v2"))
      << merge;
  EXPECT_TRUE(contains(read_file((out / "pvc.yaml").string()), "ReadWriteMany"));

  auto v = validate(rendered(out), true);
  ASSERT_EQ(v.exit_code, 0) << v.err;
  auto docs = boost::json::parse(v.out).as_array();
  ASSERT_EQ(docs.size(), 4u);
  // Read back by an independent YAML parser: the ConfigMap holds the plan byte for byte, and
  // the Job's numbers are numbers.
  const auto& cm = docs[0].as_object();
  EXPECT_EQ(cm.at("kind").as_string(), "ConfigMap");
  EXPECT_EQ(std::string(cm.at("data").at("scenario.yaml").as_string()), tricky_plan());
  const auto& spec = docs[2].at("spec").as_object();
  EXPECT_EQ(spec.at("completions").as_int64(), 4);
  EXPECT_EQ(spec.at("parallelism").as_int64(), 4);
  EXPECT_EQ(spec.at("completionMode").as_string(), "Indexed");
}

TEST(DeployK8s, TheConfigMapKeepsAnyPlanTextByteForByte) {
  std::string normal = read_file(kSource + "/scenarios/normal.yaml");
  while (!normal.empty() && normal.back() == '\n') normal.pop_back();
  std::string indented;  // the whole document two spaces in: the first line starts with spaces
  for (size_t at = 0; at <= normal.size();) {
    size_t end = std::min(normal.find('\n', at), normal.size());
    indented += "  " + normal.substr(at, end - at) + "\n";
    at = end + 1;
  }
  for (const std::string& text : {normal,                        // no final newline: |2-
                                  normal + "\n   \n# end\n",     // a line of spaces: quoted
                                  indented, normal + "\r\n"}) {  // CR: quoted
    TempDir tmp;
    const auto plan = tmp.write("plan.yaml", text);
    const auto out = tmp.path() / "out";
    auto r = deploy(
        {"--segments", "3", "-f", plan.string(), "--start-at", "1796247000", "-o", out.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto v = validate({out / "configmap.yaml"}, true);
    ASSERT_EQ(v.exit_code, 0) << v.err;
    EXPECT_EQ(
        std::string(boost::json::parse(v.out).at(0).at("data").at("scenario.yaml").as_string()),
        text);
  }
}

TEST(DeployK8s, TheValidatorRejectsBrokenManifests) {
  TempDir tmp;
  const auto out = tmp.path() / "out";
  auto r = deploy({"--segments", "4", "-f", kSource + "/scenarios/normal.yaml", "--start-at",
                   "2026-12-02T21:30:00Z", "-o", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string job = read_file((out / "job.yaml").string());
  struct Case {
    std::string from, to, error;
  };
  for (const Case& c : std::vector<Case>{
           {"completionMode: Indexed", "completionMode: \"Sideways\"", "/spec/completionMode"},
           {"parallelism: 4", "parallelism: \"four\"", "/spec/parallelism must be integer"},
           {"restartPolicy: Never", "restartPolicy: 7", "restartPolicy"},
           {"apiVersion: batch/v1", "apiVersion: batch/v7", "not one this validator knows"},
           {"  completions: 4\n", "  completions: 4\n  completions: 5\n", "YAML"}}) {
    std::string broken = job;
    auto at = broken.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    broken.replace(at, c.from.size(), c.to);
    const auto path = tmp.write("broken.yaml", broken);
    auto v = validate({path});
    EXPECT_EQ(v.exit_code, 1) << c.to << "\n" << v.err;
    EXPECT_TRUE(contains(v.err, c.error)) << c.to << "\n" << v.err;
  }
}

TEST(DeployK8s, BadFlagsAndPlansExitTwoNamingTheFlag) {
  TempDir tmp;
  const std::string plan = kSource + "/scenarios/normal.yaml";
  const std::string out = (tmp.path() / "out").string();
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  const auto bad_plan = tmp.write("bad.yaml",
                                  "name: bad\nduration: 10s\nstreams:\n  - name: a\n    rate: 10\n"
                                  "    bogus: 1\n    requests:\n      - path: /\n");
  for (const Case& c : std::vector<Case>{
           {{"--segments", "0", "-f", plan, "--start-at", "1796247000", "-o", out}, "--segments"},
           {{"--segments", "1001", "-f", plan, "--start-at", "1796247000", "-o", out},
            "--segments 1001: must be 1..1000"},
           {{"--segments", "four", "-f", plan, "--start-at", "1796247000", "-o", out},
            "--segments"},
           {{"--segments", "4", "-f", plan, "--start-at", "next tuesday", "-o", out},
            "invalid --start-at"},
           {{"--segments", "4", "-f", plan, "--start-at", "2026-12-02T21:30:00", "-o", out},
            "invalid --start-at"},
           {{"--segments", "4", "-f", plan, "--start-at", "1796247000", "-o", out, "--name",
             "Bad_Name"},
            "invalid --name"},
           {{"--segments", "4", "-f", plan, "--start-at", "1796247000", "-o", out, "--namespace",
             "-x"},
            "invalid --namespace"},
           {{"--segments", "4", "-f", plan, "--start-at", "1796247000", "-o", out, "--target-url",
             "ftp://x"},
            "--target-url"},
           {{"--segments", "4", "-f", bad_plan.string(), "--start-at", "1796247000", "-o", out},
            bad_plan.string() + ":6: streams[0].bogus: unknown key"},
           {{"--segments", "4", "--start-at", "1796247000", "-o", out}, "--file"}}) {
    auto r = deploy(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.error << "\n" << r.err;
    EXPECT_TRUE(contains(r.err, c.error)) << c.error << "\n" << r.err;
    EXPECT_FALSE(fs::exists(fs::path(out) / "job.yaml")) << c.error;
  }
  auto help = deploy({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag :
       {"--segments", "--start-at", "--image", "--namespace", "--name", "--target-url", "--force"})
    EXPECT_TRUE(contains(help.out, flag)) << flag << "\n" << help.out;
  // A start in the past renders, with a warning naming the flag.
  auto past = deploy({"--segments", "2", "-f", plan, "--start-at", "1000000000", "-o",
                      (tmp.path() / "past").string()});
  EXPECT_EQ(past.exit_code, 0) << past.err;
  EXPECT_TRUE(contains(past.err, "warning: --start-at is")) << past.err;
  // Existing files are kept unless --force.
  std::vector<std::string> ok = {"--segments", "2",          "-f", plan,
                                 "--start-at", "1796247000", "-o", out};
  ASSERT_EQ(deploy(ok).exit_code, 0);
  auto again = deploy(ok);
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_TRUE(contains(again.err, "exists (use --force")) << again.err;
  ok.push_back("--force");
  EXPECT_EQ(deploy(ok).exit_code, 0);
}

// deploy/kubernetes/example/ is what the renderer writes today (regenerate with the command in
// deploy/kubernetes/README.md when this fails).
TEST(DeployK8s, TheShippedExampleIsWhatTheRendererProducesToday) {
  TempDir tmp;
  const auto out = tmp.path() / "example";
  auto r = deploy({"--segments", "4", "-f", kSource + "/scenarios/normal.yaml", "--start-at",
                   "2026-12-02T21:30:00Z", "-o", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path shipped = fs::path(kSource) / "deploy/kubernetes/example";
  for (const char* f : kFiles)
    EXPECT_EQ(read_file((shipped / f).string()), read_file((out / f).string()))
        << "deploy/kubernetes/example/" << f << " is stale: re-render it";
  auto v = validate(rendered(shipped));
  EXPECT_EQ(v.exit_code, 0) << v.err;
}

}  // namespace
}  // namespace trafficsim::testing
