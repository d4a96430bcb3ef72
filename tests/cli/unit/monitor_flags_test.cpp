// Which source the monitors of run and play read: --monitor-source URL, 'client' (the load
// engine's statistics), and by default the client against an external --url but the built-in
// target's own metrics when it runs; 'client' elsewhere (demo, serve) is bad input.
#include "cli/monitor_flags.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "cli/arguments.hpp"

namespace trafficsim::cli {
namespace {

MonitorFlags flags(std::string source) {
  MonitorFlags f;
  f.source = std::move(source);
  return f;
}

TEST(MonitorFlagsTest, TheClientIsTheSourceWhenAskedAndByDefaultAgainstAnExternalTarget) {
  EXPECT_TRUE(uses_client_source(flags("client"), false));
  EXPECT_TRUE(uses_client_source(flags("client"), true));
  EXPECT_TRUE(uses_client_source(flags(""), true));
  EXPECT_FALSE(uses_client_source(flags(""), false)) << "the built-in target's metrics";
  EXPECT_FALSE(uses_client_source(flags("http://127.0.0.1:9/metrics"), true));
}

TEST(MonitorFlagsTest, TheRunnerNamesItsSourceAndRefusesClientWithoutTraffic) {
  Style plain = Style::for_fd(-1, false);
  auto target = [](std::string*) -> std::optional<std::string> { return "up 1\n"; };
  auto client = std::make_shared<jobs::ClientSource>();
  auto r = make_monitor_runner(flags("client"), plain, 1, target, "the target's /metrics", client);
  EXPECT_EQ(r->to_json().at("source").as_string(), "client");
  r = make_monitor_runner(flags(""), plain, 1, target, "the target's /metrics", client);
  EXPECT_EQ(r->to_json().at("source").as_string(), "client");
  r = make_monitor_runner(flags(""), plain, 1, target, "the target's /metrics");
  EXPECT_EQ(r->to_json().at("source").as_string(), "the target's /metrics");
  r = make_monitor_runner(flags("http://127.0.0.1:9/metrics"), plain, 1, target, "t", client);
  EXPECT_EQ(r->to_json().at("source").as_string(), "http://127.0.0.1:9/metrics");
  EXPECT_THROW(make_monitor_runner(flags("client"), plain, 1, target, "t"), UsageError);
}

}  // namespace
}  // namespace trafficsim::cli
