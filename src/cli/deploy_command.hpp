#pragma once
// `trafficsim deploy k8s --segments N -f PLAN --start-at T -o DIR`: renders Kubernetes manifests
// that run one plan as N segments in parallel (an Indexed Job, one pod per segment, every pod
// starting at the same instant) and merge their reports afterwards (docs/scale-out.md,
// deploy/kubernetes/README.md). It writes configmap.yaml (the plan verbatim), pvc.yaml (the
// shared reports volume), job.yaml (the segments) and merge-job.yaml (`report merge`).
#include <string>

namespace CLI {
class App;
}

namespace trafficsim::cli {

// The most segments one deployment renders (one pod each).
inline constexpr int kMaxDeploySegments = 1000;

struct DeployK8sOptions {
  std::string file;        // -f PLAN
  int segments = 0;        // --segments N
  std::string start_at;    // --start-at T (RFC 3339 or Unix seconds)
  std::string output_dir;  // -o DIR
  std::string image = "trafficsim:latest";
  std::string name;  // "" -> trafficsim-<plan file stem>, DNS-1123 safe
  std::string namespace_name = "default";
  std::string target_url;  // passed to every segment as --url
  std::string storage = "1Gi";
  bool force = false;
};

struct DeployOptions {
  DeployK8sOptions k8s;
};

struct DeployCommands {
  CLI::App* k8s = nullptr;
};

DeployCommands add_deploy_command(CLI::App& app, DeployOptions& options);
// 0 written; 2 a bad flag or plan (the message names it), or a file exists without --force;
// 1 a file cannot be written.
int run_deploy_k8s(const DeployK8sOptions& options);

// What the renderer decides, exposed for the docs' arithmetic and the tests.
struct PodResources {
  double plan_peak_rps = 0;     // sum of every stream's peak (hard caps applied)
  double segment_peak_rps = 0;  // plan_peak_rps / segments
  double cpu_us_per_request = 0;
  int cpu_request_m = 0, cpu_limit_m = 0;
  int memory_request_mi = 0, memory_limit_mi = 0;
  int streams = 0;
};

}  // namespace trafficsim::cli
