#include "cli/deploy_command.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include "cli/arguments.hpp"
#include "core/clock.hpp"
#include "scenarios/demo_script.hpp"
#include "scenarios/scenario.hpp"

namespace trafficsim::cli {

namespace fs = std::filesystem;

namespace {

// The sizing inputs, from BENCHMARKS.md (keep the two in step; docs/scale-out.md shows the
// arithmetic):
// - the engine's CPU per request in the open model: 0.68 CPU-s for 20 000 requests at 1k req/s
//   (34 µs, the costliest measured rate: wake-ups per send dominate at low rates; 10k: 16.7 µs,
//   30k: 10.8 µs; templated bodies at 5k: 23.6 µs) -> 35 µs;
// - the built-in target, which every pod runs when no --target-url is given: one core serves
//   32 612 req/s of /health/live -> 31 µs per request (heavier routes cost more: headroom);
// - peak RSS 15.5 MiB with 10 000 connections (the most a stream opens unless its file says
//   otherwise), 12.5 MiB in the open model at 1k req/s.
constexpr double kEngineCpuUsPerRequest = 35;
constexpr double kTargetCpuUsPerRequest = 31;
constexpr double kCpuHeadroom = 2;  // request = rate x cost x 2
constexpr int kCpuFloorM = 100;
constexpr int kMemoryFirstStreamMi = 64;    // 15.5 MiB measured x 4, rounded up
constexpr int kMemoryFurtherStreamMi = 16;  // another stream's connections and histograms
// A ConfigMap holds at most 1 MiB (data and metadata): leave room for the metadata.
constexpr size_t kMaxPlanBytes = 1'000'000;

double stream_peak_rps(const scenarios::StreamSpec& s) {
  using Kind = scenarios::RateSpec::Kind;
  const auto& r = s.rate;
  double peak = 0;
  switch (r.kind) {
    case Kind::constant:
    case Kind::peak:
      peak = r.rps;
      break;
    case Kind::ramp:
      peak = std::max(r.from_rps, r.to_rps);
      break;
    case Kind::steps:
    case Kind::table:
    case Kind::demo_minutes:
      for (const auto& p : r.points) peak = std::max(peak, p.second);
      break;
  }
  if (s.hard_cap) peak = std::min(peak, s.hard_cap->refill_per_s);
  return peak;
}

int round_up(double v, int step) {
  return static_cast<int>(std::ceil(v / step - 1e-9)) * step;
}

PodResources size_pods(const scenarios::Scenario& sc, int segments, bool builtin_target) {
  PodResources r;
  for (const auto& s : sc.streams) r.plan_peak_rps += stream_peak_rps(s);
  r.streams = static_cast<int>(sc.streams.size());
  r.segment_peak_rps = r.plan_peak_rps / segments;
  r.cpu_us_per_request = kEngineCpuUsPerRequest + (builtin_target ? kTargetCpuUsPerRequest : 0);
  const double cpu_m = r.segment_peak_rps * r.cpu_us_per_request * 1e-6 * 1000 * kCpuHeadroom;
  r.cpu_request_m = std::max(kCpuFloorM, round_up(cpu_m, 50));
  r.cpu_limit_m = 2 * r.cpu_request_m;
  r.memory_request_mi = kMemoryFirstStreamMi + kMemoryFurtherStreamMi * std::max(0, r.streams - 1);
  r.memory_limit_mi = 2 * r.memory_request_mi;
  return r;
}

// A YAML double-quoted scalar: JSON's string syntax, which YAML 1.2 reads the same way.
std::string q(const std::string& s) {
  return boost::json::serialize(boost::json::value(s));
}

std::string flow_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + q(items[i]);
  return out + "]";
}

// The plan's text as the value of a mapping key at `indent` spaces: a literal block with an
// explicit indentation indicator and the chomping that keeps the text byte for byte, or a
// double-quoted string when a block cannot hold it (control characters, CR, empty text).
std::string block_scalar(const std::string& text, int indent) {
  bool literal_ok = !text.empty();
  for (unsigned char c : text)
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) literal_ok = false;
  // A tab as a line's first character would be read as content; fine. A line of only spaces
  // shorter than the indentation would lose them: quote such text.
  size_t start = 0;
  while (literal_ok && start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    if (!line.empty() && line.find_first_not_of(' ') == std::string_view::npos) literal_ok = false;
    start = end + 1;
  }
  if (!literal_ok) return q(text);
  size_t trailing = 0;
  while (trailing < text.size() && text[text.size() - 1 - trailing] == '\n') ++trailing;
  const char* chomp = trailing == 0 ? "-" : trailing == 1 ? "" : "+";
  std::string out = fmt::format("|2{}\n", chomp);
  const std::string pad(static_cast<size_t>(indent + 2), ' ');
  std::string_view body(text.data(), text.size() - (trailing > 0 ? 1 : 0));
  start = 0;
  while (true) {
    size_t end = body.find('\n', start);
    std::string_view line =
        body.substr(start, end == std::string_view::npos ? body.npos : end - start);
    if (!line.empty()) out += pad;
    out += line;
    out += '\n';
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  out.pop_back();  // the caller ends the line
  return out;
}

// A DNS-1123 label: lower-case letters, digits and '-', starting and ending alphanumeric.
bool dns_label(const std::string& s, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return s.front() != '-' && s.back() != '-';
}

// Each segment pod's --metrics-listen port (annotated for Prometheus); the pod serves on for
// --metrics-linger 30s after its run, one common scrape interval, so its final counts are read.
constexpr int kSegmentMetricsPort = 9464;

// Names get suffixes (-plan, -reports, -merge) and Job pods more: keep room for them.
constexpr size_t kMaxName = 40;

std::string name_from_plan(const std::string& path) {
  std::string stem = fs::path(path).stem().string();
  std::string out = "trafficsim-";
  for (char c : stem) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9');
    if (ok)
      out += l;
    else if (out.back() != '-')
      out += '-';
  }
  if (out.size() > kMaxName) out.resize(kMaxName);
  while (out.back() == '-') out.pop_back();
  return out;
}

std::string labels(const std::string& name, const char* component, int indent) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  return fmt::format(
      "{0}app.kubernetes.io/name: trafficsim\n{0}app.kubernetes.io/instance: {1}\n"
      "{0}app.kubernetes.io/component: {2}\n",
      pad, q(name), component);
}

struct Rendered {
  std::string file;
  std::string text;
};

std::string header(const std::string& what) {
  return fmt::format(
      "# {}\n# Rendered by `trafficsim deploy k8s` (docs/scale-out.md); re-render rather than "
      "edit.\n",
      what);
}

}  // namespace

DeployCommands add_deploy_command(CLI::App& app, DeployOptions& options) {
  auto* deploy = app.add_subcommand("deploy", "Render deployment manifests for a plan");
  deploy->require_subcommand(1);
  auto& o = options.k8s;
  auto* k8s = deploy->add_subcommand(
      "k8s",
      "Render Kubernetes manifests that run a plan as N segments at once: an Indexed Job (one "
      "pod per segment, all starting at --start-at, each writing its report to a shared "
      "ReadWriteMany volume) and a merge Job (`report merge`, run after the first completes). "
      "Writes configmap.yaml, pvc.yaml, job.yaml and merge-job.yaml into -o DIR. See "
      "deploy/kubernetes/README.md.");
  k8s->add_option("-f,--file", o.file,
                  "The plan (a scenario file), stored verbatim in the ConfigMap")
      ->required();
  k8s->add_option(
         "--segments", o.segments,
         fmt::format("How many segments (pods) to split the plan into: 1..{}", kMaxDeploySegments))
      ->required();
  k8s->add_option("--start-at", o.start_at,
                  "When every segment starts: RFC 3339 (2026-12-02T21:30:00Z) or Unix seconds; "
                  "choose a minute or more ahead so every pod is scheduled")
      ->required();
  k8s->add_option("-o,--output", o.output_dir, "Write the manifests into this directory (created)")
      ->required();
  k8s->add_option("--image", o.image, "The container image with trafficsim on its PATH")
      ->capture_default_str();
  k8s->add_option("--name", o.name,
                  "The Job's name (DNS-1123 label, at most 40 characters; default: trafficsim- "
                  "and the plan file's name)");
  k8s->add_option("--namespace", o.namespace_name, "The namespace of every object")
      ->capture_default_str();
  k8s->add_option("--target-url", o.target_url,
                  "The system under test, passed to every segment as --url (default: each pod "
                  "runs the built-in target)");
  k8s->add_option("--storage", o.storage, "The reports volume's size (a Kubernetes quantity)")
      ->capture_default_str();
  k8s->add_flag("--force", o.force, "Overwrite manifests that exist in -o DIR");
  return {k8s};
}

namespace {

int render(const DeployK8sOptions& o) {
  const char* cmd = "trafficsim deploy k8s";
  // Flags first, each error naming its flag; then the plan with the loader's own messages.
  if (o.segments < 1 || o.segments > kMaxDeploySegments)
    throw UsageError(
        fmt::format("invalid --segments {}: must be 1..{}", o.segments, kMaxDeploySegments));
  std::string why;
  auto start = core::parse_start_instant(o.start_at, &why);
  if (!start) throw UsageError(fmt::format("invalid --start-at: {}", why));
  // Rendering for a past instant is allowed (the shipped example has a fixed one), but said.
  if (const double lead = *start - core::unix_now_s(); lead < 60)
    fmt::print(stderr,
               "{}: warning: --start-at is {}: render again with a start a minute or more ahead "
               "before applying, so that every pod is scheduled in time\n",
               cmd,
               lead < 0 ? fmt::format("{:.0f} s in the past", -lead)
                        : fmt::format("only {:.0f} s ahead", lead));
  const bool whole = std::floor(*start) == *start;
  const std::string start_text = core::format_rfc3339(*start, whole ? 0 : 3);
  if (!o.name.empty() && !dns_label(o.name, kMaxName))
    throw UsageError(fmt::format(
        "invalid --name '{}': a DNS-1123 label (a-z, 0-9, '-', starting and ending with a letter "
        "or digit) of at most {} characters",
        o.name, kMaxName));
  if (!dns_label(o.namespace_name, 63))
    throw UsageError(fmt::format(
        "invalid --namespace '{}': a DNS-1123 label (a-z, 0-9, '-') of at most 63 characters",
        o.namespace_name));
  if (o.image.empty() || o.image.find_first_of(" \t\r\n") != std::string::npos)
    throw UsageError(
        fmt::format("invalid --image '{}': an image reference without spaces", o.image));
  if (o.storage.empty() ||
      o.storage.find_first_not_of("0123456789.EPTGMKik") != std::string::npos ||
      !std::isdigit(static_cast<unsigned char>(o.storage[0])))
    throw UsageError(
        fmt::format("invalid --storage '{}': a quantity such as 1Gi or 500Mi", o.storage));
  if (!o.target_url.empty()) parse_url_arg(o.target_url, "--target-url");

  auto src = scenarios::read_source(o.file);
  if (scenarios::is_demo_script(src))
    throw UsageError(
        fmt::format("-f {}: is a demo script; deploy k8s runs a plan (a scenario file)", o.file));
  if (src.text.size() > kMaxPlanBytes)
    throw UsageError(fmt::format("-f {}: {} bytes is more than a ConfigMap holds (at most {})",
                                 o.file, src.text.size(), kMaxPlanBytes));
  scenarios::Scenario sc = scenarios::load_scenario(src, scenarios::LoadOptions{});

  const std::string name = o.name.empty() ? name_from_plan(o.file) : o.name;
  const std::string ns = o.namespace_name;
  const int n = o.segments;
  const PodResources res = size_pods(sc, n, o.target_url.empty());

  std::vector<Rendered> files;
  files.push_back(
      {"configmap.yaml",
       header(fmt::format("The plan ({}, scenario '{}'), mounted at /plan in every segment.",
                          fs::path(o.file).filename().string(), sc.name)) +
           fmt::format("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\n  namespace: {}\n"
                       "  labels:\n{}data:\n  scenario.yaml: {}\n",
                       q(name + "-plan"), q(ns), labels(name, "plan", 4),
                       block_scalar(src.text, 2))});
  files.push_back(
      {"pvc.yaml",
       header("The shared reports volume: every segment writes /reports/segment-I.json, the merge "
              "Job reads them all (ReadWriteMany: pods on different nodes).") +
           fmt::format("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: {}\n"
                       "  namespace: {}\n  labels:\n{}spec:\n  accessModes: [\"ReadWriteMany\"]\n"
                       "  resources:\n    requests:\n      storage: {}\n",
                       q(name + "-reports"), q(ns), labels(name, "reports", 4), q(o.storage))});

  std::vector<std::string> args = {"run",
                                   "-f",
                                   "/plan/scenario.yaml",
                                   "--segment",
                                   fmt::format("$(JOB_COMPLETION_INDEX)/{}", n),
                                   "--start-at",
                                   start_text,
                                   "--json",
                                   "/reports/segment-$(JOB_COMPLETION_INDEX).json",
                                   "--metrics-listen",
                                   fmt::format("0.0.0.0:{}", kSegmentMetricsPort),
                                   "--metrics-linger",
                                   "30s"};
  if (!o.target_url.empty()) {
    args.push_back("--url");
    args.push_back(o.target_url);
  }
  const std::string sizing = fmt::format(
      "# Resources per pod (one segment), from BENCHMARKS.md (docs/scale-out.md):\n"
      "#   peak rate: {:g} req/s for the plan ({} stream(s), each at its peak, hard caps applied)\n"
      "#              / {} segments = {:g} req/s per pod\n"
      "#   CPU per request: {:g} us = 35 us the engine (open model, 1k req/s: 0.68 CPU-s / 20 000 "
      "requests){}\n"
      "#   CPU: {:g} req/s x {:g} us x 2 (headroom) = {:.1f}m -> request {}m (at least 100m, in "
      "50m "
      "steps), limit 2x = {}m\n"
      "#   memory: peak RSS 15.5 MiB measured (10 000 connections) x 4 = 64Mi + 16Mi per further "
      "stream\n"
      "#           -> request {}Mi, limit 2x = {}Mi\n",
      res.plan_peak_rps, res.streams, n, res.segment_peak_rps, res.cpu_us_per_request,
      o.target_url.empty()
          ? " + 31 us the built-in\n#                    target each pod runs (1 core / 32 612 "
            "req/s)"
          : " (the target is --target-url)",
      res.segment_peak_rps, res.cpu_us_per_request,
      res.segment_peak_rps * res.cpu_us_per_request * 1e-3 * kCpuHeadroom, res.cpu_request_m,
      res.cpu_limit_m, res.memory_request_mi, res.memory_limit_mi);
  files.push_back(
      {"job.yaml",
       header(fmt::format("{} segments of the plan, one pod each (an Indexed Job), all starting "
                          "at {}.",
                          n, start_text)) +
           "# Each pod reads its index from the downward API into JOB_COMPLETION_INDEX (defined "
           "here so that\n# Kubernetes expands $(JOB_COMPLETION_INDEX) in args) and writes "
           "/reports/segment-INDEX.json.\n" +
           sizing +
           fmt::format("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {0}\n  namespace: {1}\n"
                       "  labels:\n{2}spec:\n"
                       "  completionMode: Indexed\n  completions: {3}\n  parallelism: {3}\n"
                       "  # A retried segment starts after --start-at; one retry at most.\n"
                       "  backoffLimit: 1\n"
                       "  template:\n    metadata:\n      labels:\n{4}"
                       "      # The segment's live /metrics (--metrics-listen), labelled "
                       "segment=\"I\": a Prometheus\n"
                       "      # that honours these annotations sums the run while it goes "
                       "(docs/scale-out.md).\n"
                       "      annotations:\n"
                       "        prometheus.io/scrape: \"true\"\n"
                       "        prometheus.io/port: \"{13}\"\n"
                       "        prometheus.io/path: \"/metrics\"\n"
                       "    spec:\n"
                       "      restartPolicy: Never\n"
                       "      containers:\n"
                       "        - name: trafficsim\n"
                       "          image: {5}\n"
                       "          command: [\"trafficsim\"]\n"
                       "          args: {6}\n"
                       "          ports:\n"
                       "            - name: metrics\n"
                       "              containerPort: {13}\n"
                       "          env:\n"
                       "            - name: JOB_COMPLETION_INDEX\n"
                       "              valueFrom:\n"
                       "                fieldRef:\n"
                       "                  fieldPath: \"metadata.annotations['batch.kubernetes.io/"
                       "job-completion-index']\"\n"
                       "          resources:\n"
                       "            requests:\n              cpu: \"{7}m\"\n              memory: "
                       "\"{8}Mi\"\n"
                       "            limits:\n              cpu: \"{9}m\"\n              memory: "
                       "\"{10}Mi\"\n"
                       "          volumeMounts:\n"
                       "            - name: plan\n              mountPath: /plan\n              "
                       "readOnly: true\n"
                       "            - name: reports\n              mountPath: /reports\n"
                       "      volumes:\n"
                       "        - name: plan\n          configMap:\n            name: {11}\n"
                       "        - name: reports\n          persistentVolumeClaim:\n"
                       "            claimName: {12}\n",
                       q(name), q(ns), labels(name, "segments", 4), n, labels(name, "segments", 8),
                       q(o.image), flow_list(args), res.cpu_request_m, res.memory_request_mi,
                       res.cpu_limit_m, res.memory_limit_mi, q(name + "-plan"),
                       q(name + "-reports"), kSegmentMetricsPort)});
  files.push_back(
      {"merge-job.yaml",
       header(fmt::format(
           "Merges the segment reports and evaluates the plan's thresholds. Apply it after the "
           "segments\n# complete: kubectl -n {} wait --for=condition=complete job/{} "
           "--timeout=...\n"
           "# It fails (exit 3) when a threshold fails and (exit 2) when a segment is missing, "
           "duplicated or foreign.",
           ns, name)) +
           fmt::format(
               "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {0}\n  namespace: {1}\n"
               "  labels:\n{2}spec:\n  completions: 1\n  parallelism: 1\n  backoffLimit: 0\n"
               "  template:\n    metadata:\n      labels:\n{3}    spec:\n"
               "      restartPolicy: Never\n"
               "      containers:\n"
               "        - name: merge\n"
               "          image: {4}\n"
               "          command: [\"trafficsim\"]\n"
               "          args: {5}\n"
               "          resources:\n"
               "            requests:\n              cpu: \"100m\"\n              memory: "
               "\"128Mi\"\n"
               "            limits:\n              cpu: \"1\"\n              memory: \"512Mi\"\n"
               "          volumeMounts:\n"
               "            - name: reports\n              mountPath: /reports\n"
               "      volumes:\n"
               "        - name: reports\n          persistentVolumeClaim:\n"
               "            claimName: {6}\n",
               q(name + "-merge"), q(ns), labels(name, "merge", 4), labels(name, "merge", 8),
               q(o.image),
               flow_list({"report", "merge", "/reports", "--json", "/reports/merged.json"}),
               q(name + "-reports"))});

  // Nothing is written when any file exists (without --force) or the directory cannot be made.
  const fs::path dir(o.output_dir);
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw UsageError(fmt::format("invalid -o/--output '{}': not a directory", o.output_dir));
  if (!o.force)
    for (const auto& f : files)
      if (fs::exists(dir / f.file, ec))
        throw UsageError(
            fmt::format("-o {}: {} exists (use --force to overwrite)", o.output_dir, f.file));
  fs::create_directories(dir, ec);
  if (ec) {
    fmt::print(stderr, "{}: cannot create '{}': {}\n", cmd, o.output_dir, ec.message());
    return kExitRunFailed;
  }
  for (const auto& f : files) {
    const fs::path path = dir / f.file;
    const fs::path tmp = dir / (f.file + ".tmp");
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << f.text;
      out.close();
      if (!out) {
        fmt::print(stderr, "{}: cannot write '{}': {}\n", cmd, tmp.string(), strerror(errno));
        fs::remove(tmp, ec);
        return kExitRunFailed;
      }
    }
    fs::rename(tmp, path, ec);
    if (ec) {
      fmt::print(stderr, "{}: cannot write '{}': {}\n", cmd, path.string(), ec.message());
      return kExitRunFailed;
    }
  }
  fmt::print(
      "Wrote {} segments of '{}' starting at {} into {}: configmap.yaml pvc.yaml job.yaml "
      "merge-job.yaml\n"
      "Per pod: {:g} req/s at peak, cpu {}m (limit {}m), memory {}Mi (limit {}Mi)\n"
      "Next: kubectl apply -f {}/pvc.yaml -f {}/configmap.yaml -f {}/job.yaml "
      "(deploy/kubernetes/README.md)\n",
      n, sc.name, start_text, o.output_dir, res.segment_peak_rps, res.cpu_request_m,
      res.cpu_limit_m, res.memory_request_mi, res.memory_limit_mi, o.output_dir, o.output_dir,
      o.output_dir);
  return kExitOk;
}

}  // namespace

int run_deploy_k8s(const DeployK8sOptions& options) {
  return render(options);
}

}  // namespace trafficsim::cli
