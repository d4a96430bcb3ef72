#pragma once
// `trafficsim target`: the demo target service in the foreground until Ctrl+C / SIGTERM.
#include <optional>
#include <string>

#include "cli/otlp_flags.hpp"

namespace CLI {
class App;
}

namespace trafficsim::cli {

struct TargetCommandOptions {
  std::string listen = "127.0.0.1:8000";
  OtlpFlags otlp;  // --otlp (and OTEL_*): the service's spans, metrics and logs
  std::string data_dir;  // empty: $XDG_CACHE_HOME/trafficsim, ~/.cache/trafficsim or /tmp
  long long catalog_rows = 500'000;
  std::string access_log = "-";
  std::optional<std::string> api_key;  // also TRAFFICSIM_API_KEY; given but empty: refused
  std::string catalog_url;  // what checkout calls; empty: itself
  int threads = 0;
  int scan_threads = 0;
  size_t scan_queue = 16;
  std::string idle_timeout = "60s";
  std::string read_timeout = "10s";
  long long max_connections = 20'000;
  std::string checkout_timeout = "5s";
  std::string recommendations_timeout = "5s";
  unsigned long long seed = 0;
};

CLI::App* add_target_command(CLI::App& app, TargetCommandOptions& options);
int run_target(const TargetCommandOptions& options);

// "host:port", "[v6]:port", ":port" or "port" -> host and port; throws UsageError naming --listen.
std::pair<std::string, uint16_t> parse_listen_arg(const std::string& text,
                                                 const std::string& flag = "--listen");

}  // namespace trafficsim::cli
