#include "cli/target_command.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <chrono>
#include <cstdlib>

#include <fmt/format.h>

#include "cli/arguments.hpp"
#include "cli/signals.hpp"
#include "core/clock.hpp"
#include "demo_service/target_service.hpp"
#include "jobs/target_session.hpp"

namespace trafficsim::cli {

std::pair<std::string, uint16_t> parse_listen_arg(const std::string& text, const std::string& flag) {
  std::string host = "127.0.0.1";
  std::string port_text = text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      throw UsageError(fmt::format("invalid {} '{}': expected [ADDRESS]:PORT", flag, text));
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else if (auto colon = text.rfind(':'); colon != std::string::npos) {
    if (colon > 0) host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || p != port_text.data() + port_text.size() ||
      port > 65535)
    throw UsageError(fmt::format(
        "invalid {} '{}': the port must be a number from 0 to 65535 (0: a free port)", flag,
        text));
  return {host, static_cast<uint16_t>(port)};
}


CLI::App* add_target_command(CLI::App& app, TargetCommandOptions& o) {
  auto* cmd = app.add_subcommand(
      "target",
      "Run the demo target service (LLM classify, users, catalog + checkout, faults, /metrics)");
  cmd->add_option("--listen", o.listen,
                  "Address to listen on, HOST:PORT (port 0: a free port, printed first)")
      ->capture_default_str();
  cmd->add_option("--data-dir", o.data_dir,
                  "Directory for the catalog database (default ~/.cache/trafficsim)");
  cmd->add_option("--catalog-rows", o.catalog_rows, "Products in the generated catalog")
      ->capture_default_str();
  cmd->add_option("--access-log", o.access_log,
                  "JSON access log: a FILE, '-' for stdout, or 'off'")
      ->capture_default_str();
  cmd->add_option("--api-key", o.api_key,
                  "Require this X-API-Key on /admin/* (also TRAFFICSIM_API_KEY)");
  cmd->add_option("--catalog-url", o.catalog_url,
                  "Base URL checkout calls for recommendations (default: this service)");
  cmd->add_option("--threads", o.threads, "I/O threads (0: one per core)")->capture_default_str();
  cmd->add_option("--scan-threads", o.scan_threads,
                  "Connections in the full-scan pool (0: half the cores)")
      ->capture_default_str();
  cmd->add_option("--scan-queue", o.scan_queue, "Queued scans before 503 db-pool-exhausted")
      ->capture_default_str();
  cmd->add_option("--idle-timeout", o.idle_timeout, "Close idle keep-alive connections after")
      ->capture_default_str();
  cmd->add_option("--read-timeout", o.read_timeout,
                  "Close a connection whose request (head and body) takes longer, from its first "
                  "byte")
      ->capture_default_str();
  cmd->add_option("--max-connections", o.max_connections,
                  "Concurrent connections served; beyond them /health/live still answers, other "
                  "requests get 503, then connections are closed at once (counted in /metrics)")
      ->capture_default_str();
  cmd->add_option("--checkout-timeout", o.checkout_timeout,
                  "Checkout's timeout for its recommendations call")
      ->capture_default_str();
  cmd->add_option("--recommendations-timeout", o.recommendations_timeout,
                  "Server-side limit on a recommendations scan, queue wait included")
      ->capture_default_str();
  cmd->add_option("--seed", o.seed, "Seed for simulated randomness (0: from the clock)");
  add_otlp_flag(cmd, o.otlp, "the service's spans, metrics and access-log records");
  cmd->footer(
      "Demo mode comes from the environment, as in the Black Friday seed:\n"
      "  DEMO_MODE=blackfriday  DEMO_START_TIMESTAMP=<unix seconds, default now>\n"
      "  DEMO_TIME_SCALE=<1; 60 = one demo minute per second>  DEMO_DURATION_MINUTES=<30>");
  return cmd;
}

int run_target(const TargetCommandOptions& o) {
  demo_service::TargetOptions t;
  try {
    auto [host, port] = parse_listen_arg(o.listen);
    t.host = host;
    t.port = port;
    if (o.catalog_rows < 1 || o.catalog_rows > 50'000'000)
      throw UsageError(fmt::format("invalid --catalog-rows {}: use 1 to 50000000", o.catalog_rows));
    if (o.scan_threads < 0 || o.scan_threads > 256)
      throw UsageError("invalid --scan-threads: use 0 to 256");
    if (o.threads < 0 || o.threads > 256) throw UsageError("invalid --threads: use 0 to 256");
    auto ms = [](const std::string& text, const char* flag) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(parse_duration_arg(text, flag));
    };
    t.idle_timeout = ms(o.idle_timeout, "--idle-timeout");
    t.read_timeout = ms(o.read_timeout, "--read-timeout");
    if (o.max_connections < 1 || o.max_connections > 1'000'000)
      throw UsageError(
          fmt::format("invalid --max-connections {}: use 1 to 1000000", o.max_connections));
    t.max_connections = static_cast<size_t>(o.max_connections);
    t.checkout_timeout = ms(o.checkout_timeout, "--checkout-timeout");
    t.recommendations_timeout = ms(o.recommendations_timeout, "--recommendations-timeout");
    if (!o.catalog_url.empty()) parse_url_arg(o.catalog_url, "--catalog-url");
    // An empty key would silently turn authentication off: that must be said, not implied.
    if (o.api_key && o.api_key->empty())
      throw UsageError("invalid --api-key '': an empty key would turn authentication off (give a "
                       "key, or leave the flag out)");
    if (!o.api_key)
      if (const char* k = std::getenv("TRAFFICSIM_API_KEY"); k && !*k)
        throw UsageError("invalid TRAFFICSIM_API_KEY: it is set but empty, which would turn "
                         "authentication off (give a key, or unset it)");
    t.exporter = make_exporter(o.otlp, kTargetService);
  } catch (const UsageError& e) {
    fmt::print(stderr, "trafficsim target: {}\n", e.what());
    return kExitUsage;
  }
  double now = core::unix_now_s();
  try {
    t.demo = demo_service::demo_settings_from_env([](const char* n) { return std::getenv(n); }, now);
  } catch (const demo_service::ConfigError& e) {
    fmt::print(stderr, "trafficsim target: {}\n", e.what());
    return kExitUsage;
  }
  t.data_dir = o.data_dir.empty() ? jobs::default_data_dir() : o.data_dir;
  t.catalog_rows = o.catalog_rows;
  t.access_log = o.access_log;
  if (o.api_key) {
    t.api_key = *o.api_key;
  } else if (const char* k = std::getenv("TRAFFICSIM_API_KEY")) {
    t.api_key = k;
  }
  t.catalog_url = o.catalog_url;
  t.threads = o.threads;
  t.scan_threads = o.scan_threads;
  t.scan_queue = o.scan_queue;
  t.seed = o.seed;

  // A server should take as many connections as the system lets it: soft limit up to the hard.
  if (rlimit rl{}; getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  int stop_fd = install_stop_signals();
  signal(SIGXFSZ, SIG_IGN);  // a full disk is an error to report, not a signal to die of
  std::unique_ptr<demo_service::TargetService> service;
  auto service_exporter = t.exporter;
  try {
    service = std::make_unique<demo_service::TargetService>(std::move(t));
  } catch (const demo_service::TargetError& e) {
    fmt::print(stderr, "trafficsim target: {}\n", e.what());
    return kExitRunFailed;
  }
  service->start();
  fmt::print("trafficsim target listening on {}\n", service->url());
  std::fflush(stdout);
  const auto& cat = service->catalog_info();
  fmt::print(stderr, "catalog: {} products in {}{}\n", cat.rows, cat.path.string(),
             cat.generated ? fmt::format(" (generated in {:.1f} s)", cat.generation_seconds)
                           : std::string(" (reused)"));
  if (!cat.rebuild_reason.empty()) fmt::print(stderr, "catalog rebuilt: {}\n", cat.rebuild_reason);
  pollfd pfd{stop_fd, POLLIN, 0};
  while (::poll(&pfd, 1, -1) < 0 && errno == EINTR) {
  }
  fmt::print(stderr, "trafficsim target: stopping\n");
  service->stop();
  if (auto exporter = service_exporter) {
    boost::json::object report;
    finish_export(report, nullptr, exporter.get());
    if (auto* e = report.if_contains("export"); e && e->is_object())
      fmt::print(stderr, "trafficsim target: {}\n", export_summary(e->as_object()));
  }
  return kExitOk;
}

}  // namespace trafficsim::cli
