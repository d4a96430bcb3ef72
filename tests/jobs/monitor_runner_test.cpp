// The monitor runner: scrapes a source, evaluates, keeps and publishes transitions; a URL
// source over HTTP; a failing source is no data (and counted), not a crash or a recovery.
#include "jobs/monitor_runner.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "support/eventually.hpp"
#include "support/test_server.hpp"

namespace trafficsim::jobs {
namespace {

using namespace std::chrono_literals;
using trafficsim::testing::eventually;

const char* kErrorsMonitor = R"(monitors:
  - name: Errors
    signal: {ratio: llm_errors_total, of: llm_requests_total}
    above: 0.05
    window: 1m
)";

TEST(MonitorRunner, TicksEvaluateAndPublishTransitionsInOrder) {
  std::atomic<int> requests{0}, errors{0};
  MonitorRunnerOptions o;
  o.monitors = monitors::load_monitors(kErrorsMonitor, "t.yaml");
  o.scrape = [&](std::string*) -> std::optional<std::string> {
    return "llm_requests_total " + std::to_string(requests.load()) + "\nllm_errors_total " +
           std::to_string(errors.load()) + "\n";
  };
  o.source_name = "fake";
  MonitorRunner runner(o);
  std::vector<std::string> seen;
  runner.on_event([&](const monitors::MonitorEvent& e) { seen.emplace_back(monitors::state_name(e.to)); });
  EXPECT_TRUE(runner.tick().empty());  // one point: no window yet
  requests = 100;
  EXPECT_TRUE(runner.tick().empty());  // 0 % errors
  requests = 200;
  errors = 50;
  auto ev = runner.tick();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].to, monitors::MonitorState::alert);  // no `for`: straight to ALERT
  EXPECT_TRUE(runner.any_alerted());
  EXPECT_EQ(seen, std::vector<std::string>{"ALERT"});
  auto j = runner.to_json();
  EXPECT_EQ(j.at("source").as_string(), "fake");
  EXPECT_EQ(j.at("monitors").at(0).at("state").as_string(), "ALERT");
  EXPECT_EQ(j.at("events").as_array().size(), 1u);
}

TEST(MonitorRunner, ScrapesAUrlOnItsThreadAndCountsFailedScrapes) {
  trafficsim::testing::TestServerOptions so;
  so.routes["/metrics"] = {200, "llm_requests_total 10\nllm_errors_total 9\n"};
  so.routes["/broken"] = {500, "no"};
  trafficsim::testing::TestServer server(so);
  MonitorRunnerOptions o;
  o.monitors = monitors::load_monitors(kErrorsMonitor, "t.yaml");
  o.time_scale = 60;  // ticks every 100 ms (1 s / 60, at least 100 ms)
  o.scrape = url_scrape(server.url("/metrics"));
  o.source_name = server.url("/metrics");
  {
    MonitorRunner runner(o);
    EXPECT_DOUBLE_EQ(runner.interval_s(), 0.1);
    runner.start();
    // Constant counters: no increase in any window, so no data and no transition.
    EXPECT_TRUE(eventually([&] { return server.requests() >= 3; }, 5s));
    runner.stop();
    EXPECT_FALSE(runner.any_alerted());
    EXPECT_EQ(runner.to_json().at("scrapeErrors").to_number<int>(), 0);
    EXPECT_FALSE(runner.statuses()[0].has_data);
  }
  o.scrape = url_scrape(server.url("/broken"));
  MonitorRunner broken(o);
  broken.tick();
  broken.tick();
  auto j = broken.to_json();
  EXPECT_EQ(j.at("scrapeErrors").to_number<int>(), 2);
  EXPECT_EQ(j.at("lastError").as_string(), "status 500");
}

}  // namespace
}  // namespace trafficsim::jobs
