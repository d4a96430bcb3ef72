#include "telemetry/metrics.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace trafficsim::telemetry {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(MetricsTest, CounterExposition) {
  Registry registry;
  auto& requests = registry.counter("http_requests_total", "Requests served.", {"method", "code"});
  requests.with({"GET", "200"}).inc();
  requests.with({"GET", "200"}).inc(2);
  requests.with({"POST", "500"}).inc(0.5);
  EXPECT_EQ(registry.expose(),
            "# HELP http_requests_total Requests served.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{method=\"GET\",code=\"200\"} 3\n"
            "http_requests_total{method=\"POST\",code=\"500\"} 0.5\n");
}

TEST(MetricsTest, CounterIgnoresNegativeAndNaNIncrements) {
  Registry registry;
  auto& counter = registry.counter("events_total", "Events.").with({});
  counter.inc(5);
  counter.inc(-3);
  counter.inc(std::nan(""));
  EXPECT_EQ(counter.value(), 5);
}

TEST(MetricsTest, GaugeExpositionAndArithmetic) {
  Registry registry;
  auto& in_flight = registry.gauge("in_flight_requests", "Requests being served.");
  auto& temperature = registry.gauge("temperature_celsius", "Room temperature.", {"room"});
  in_flight.with({}).inc(3);
  in_flight.with({}).dec();
  temperature.with({"kitchen"}).set(-2.25);
  temperature.with({"attic"}).set(kInf);
  temperature.with({"cellar"}).set(std::nan(""));
  EXPECT_EQ(in_flight.with({}).value(), 2);
  EXPECT_EQ(registry.expose(),
            "# HELP in_flight_requests Requests being served.\n"
            "# TYPE in_flight_requests gauge\n"
            "in_flight_requests 2\n"
            "# HELP temperature_celsius Room temperature.\n"
            "# TYPE temperature_celsius gauge\n"
            "temperature_celsius{room=\"attic\"} +Inf\n"
            "temperature_celsius{room=\"cellar\"} NaN\n"
            "temperature_celsius{room=\"kitchen\"} -2.25\n");
}

TEST(MetricsTest, HistogramExpositionIsCumulative) {
  Registry registry;
  auto& latency = registry.histogram("request_duration_seconds", "Request latency.", {"route"},
                                     {0.005, 0.1, 1, 2.5});
  auto& users = latency.with({"/users"});
  for (double v : {0.001, 0.005, 0.05, 0.5, 3.0}) users.observe(v);
  EXPECT_EQ(registry.expose(),
            "# HELP request_duration_seconds Request latency.\n"
            "# TYPE request_duration_seconds histogram\n"
            "request_duration_seconds_bucket{route=\"/users\",le=\"0.005\"} 2\n"
            "request_duration_seconds_bucket{route=\"/users\",le=\"0.1\"} 3\n"
            "request_duration_seconds_bucket{route=\"/users\",le=\"1\"} 4\n"
            "request_duration_seconds_bucket{route=\"/users\",le=\"2.5\"} 4\n"
            "request_duration_seconds_bucket{route=\"/users\",le=\"+Inf\"} 5\n"
            "request_duration_seconds_sum{route=\"/users\"} 3.556\n"
            "request_duration_seconds_count{route=\"/users\"} 5\n");
}

TEST(MetricsTest, HistogramWithoutLabelsStartsAtZero) {
  Registry registry;
  registry.histogram("queue_wait_seconds", "Queue wait.", {}, {0.25, 1});
  EXPECT_EQ(registry.expose(),
            "# HELP queue_wait_seconds Queue wait.\n"
            "# TYPE queue_wait_seconds histogram\n"
            "queue_wait_seconds_bucket{le=\"0.25\"} 0\n"
            "queue_wait_seconds_bucket{le=\"1\"} 0\n"
            "queue_wait_seconds_bucket{le=\"+Inf\"} 0\n"
            "queue_wait_seconds_sum 0\n"
            "queue_wait_seconds_count 0\n");
}

TEST(MetricsTest, HistogramBucketBoundariesAreInclusive) {
  Histogram histogram({1, 2});
  histogram.observe(1);             // le="1"
  histogram.observe(1.0000001);     // le="2"
  histogram.observe(2);             // le="2"
  histogram.observe(std::nan(""));  // only +Inf
  histogram.observe(kInf);          // only +Inf
  EXPECT_EQ(histogram.cumulative_counts(), (std::vector<uint64_t>{1, 3, 5}));
  EXPECT_EQ(histogram.count(), 5u);
}

TEST(MetricsTest, FamilyWithLabelsPrintsOnlyHelpAndTypeUntilUsed) {
  Registry registry;
  registry.counter("jobs_started_total", "Jobs started.", {"kind"});
  registry.histogram("job_duration_seconds", "Job duration.", {"kind"}, {1});
  EXPECT_EQ(registry.expose(),
            "# HELP jobs_started_total Jobs started.\n"
            "# TYPE jobs_started_total counter\n"
            "# HELP job_duration_seconds Job duration.\n"
            "# TYPE job_duration_seconds histogram\n");
}

TEST(MetricsTest, ChildrenAreSortedByLabelValuesNotCreationOrder) {
  Registry registry;
  auto& family = registry.gauge("g", "G.", {"a", "b"});
  family.with({"y", "1"}).set(1);
  family.with({"x", "2"}).set(2);
  family.with({"x", "10"}).set(3);
  EXPECT_EQ(registry.expose(),
            "# HELP g G.\n"
            "# TYPE g gauge\n"
            "g{a=\"x\",b=\"10\"} 3\n"
            "g{a=\"x\",b=\"2\"} 2\n"
            "g{a=\"y\",b=\"1\"} 1\n");
}

TEST(MetricsTest, EscapesHelpAndLabelValues) {
  Registry registry;
  auto& family =
      registry.counter("escaped_total", "Back\\slash and\nnewline, \"quotes\" kept.", {"path"});
  family.with({"C:\\dir \"x\"\nend"}).inc();
  EXPECT_EQ(registry.expose(),
            "# HELP escaped_total Back\\\\slash and\\nnewline, \"quotes\" kept.\n"
            "# TYPE escaped_total counter\n"
            "escaped_total{path=\"C:\\\\dir \\\"x\\\"\\nend\"} 1\n");
}

TEST(MetricsTest, WithReturnsTheSameChildForTheSameValues) {
  Registry registry;
  auto& family = registry.counter("hits_total", "Hits.", {"route"});
  Counter& first = family.with({"/a"});
  const std::vector<std::string_view> values = {"/a"};
  Counter& again = family.with(values);
  EXPECT_EQ(&first, &again);
  EXPECT_NE(&first, &family.with({"/b"}));
  // Label values are compared whole, not concatenated.
  auto& pairs = registry.counter("pairs_total", "Pairs.", {"a", "b"});
  EXPECT_NE(&pairs.with({"ab", "c"}), &pairs.with({"a", "bc"}));
}

TEST(MetricsTest, WrongNumberOfLabelValuesThrows) {
  Registry registry;
  auto& family = registry.counter("hits_total", "Hits.", {"route", "code"});
  EXPECT_THROW(family.with({"/a"}), std::invalid_argument);
  EXPECT_THROW(family.with({"/a", "200", "extra"}), std::invalid_argument);
  auto& plain = registry.gauge("plain", "Plain.");
  EXPECT_THROW(plain.with({"x"}), std::invalid_argument);
}

TEST(MetricsTest, InvalidRegistrationsThrow) {
  Registry registry;
  EXPECT_THROW(registry.counter("requests", "Missing _total."), std::invalid_argument);
  EXPECT_THROW(registry.gauge("1st", "Starts with a digit."), std::invalid_argument);
  EXPECT_THROW(registry.gauge("has-dash", "Dash."), std::invalid_argument);
  EXPECT_THROW(registry.gauge("", "Empty."), std::invalid_argument);
  EXPECT_THROW(registry.gauge("g1", "Label with colon.", {"a:b"}), std::invalid_argument);
  EXPECT_THROW(registry.gauge("g2", "Reserved prefix.", {"__name"}), std::invalid_argument);
  EXPECT_THROW(registry.gauge("g3", "Reserved le.", {"le"}), std::invalid_argument);
  EXPECT_THROW(registry.gauge("g4", "Duplicate label.", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h1", "No buckets.", {}, {}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h2", "Unsorted.", {}, {1, 0.5}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h3", "Repeated.", {}, {1, 1}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h4", "NaN.", {}, {std::nan("")}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h5", "Only +Inf.", {}, {kInf}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h6", "le label.", {"le"}, {1}), std::invalid_argument);

  // Colons are allowed in metric names (recording rules use them); none of the above registered.
  EXPECT_NO_THROW(registry.gauge("job:ratio", "Colon."));
  EXPECT_NO_THROW(registry.gauge("g1", "Now valid.", {"_ok", "a1"}));
  EXPECT_NO_THROW(registry.histogram("h1", "Trailing +Inf is implied.", {}, {1, kInf}));
}

TEST(MetricsTest, DuplicateAndCollidingNamesThrow) {
  Registry registry;
  registry.gauge("up", "Up.");
  EXPECT_THROW(registry.gauge("up", "Again."), std::invalid_argument);
  registry.histogram("latency_seconds", "Latency.", {}, {1});
  EXPECT_THROW(registry.gauge("latency_seconds_count", "Collides."), std::invalid_argument);
  registry.gauge("queue_sum", "Registered first.");
  EXPECT_THROW(registry.histogram("queue", "Its _sum collides.", {}, {1}), std::invalid_argument);
  EXPECT_NO_THROW(registry.counter("latency_seconds_total", "Distinct from every sample."));
  // The failed registrations left nothing behind.
  EXPECT_EQ(registry.expose().find("queue "), std::string::npos);
}

TEST(MetricsTest, NumberFormatting) {
  EXPECT_EQ(format_metric_value(0), "0");
  EXPECT_EQ(format_metric_value(-0.0), "0");
  EXPECT_EQ(format_metric_value(3), "3");
  EXPECT_EQ(format_metric_value(-42), "-42");
  EXPECT_EQ(format_metric_value(0.25), "0.25");
  EXPECT_EQ(format_metric_value(0.1), "0.1");
  EXPECT_EQ(format_metric_value(2.5), "2.5");
  EXPECT_EQ(format_metric_value(123456789012), "123456789012");
  EXPECT_EQ(format_metric_value(kInf), "+Inf");
  EXPECT_EQ(format_metric_value(-kInf), "-Inf");
  EXPECT_EQ(format_metric_value(std::nan("")), "NaN");
  // Whatever the form, it must read back exactly.
  for (double v : {1e-05, 1e21, 0.1 + 0.2, 1.0 / 3, 1e15, 9007199254740993.0}) {
    EXPECT_EQ(std::strtod(format_metric_value(v).c_str(), nullptr), v) << format_metric_value(v);
  }
}

TEST(MetricsTest, BucketHelpers) {
  EXPECT_EQ(exponential_buckets(0.005, 2, 4), (std::vector<double>{0.005, 0.01, 0.02, 0.04}));
  EXPECT_EQ(exponential_buckets(1, 10, 3), (std::vector<double>{1, 10, 100}));
  // Rounded so that they print as written, not as 0.30000000000000004.
  EXPECT_EQ(linear_buckets(0.1, 0.1, 3), (std::vector<double>{0.1, 0.2, 0.3}));
  EXPECT_EQ(linear_buckets(0, 5, 3), (std::vector<double>{0, 5, 10}));
  EXPECT_THROW(exponential_buckets(0, 2, 3), std::invalid_argument);
  EXPECT_THROW(exponential_buckets(1, 1, 3), std::invalid_argument);
  EXPECT_THROW(exponential_buckets(1, 2, 0), std::invalid_argument);
  EXPECT_THROW(linear_buckets(0, 0, 3), std::invalid_argument);
  EXPECT_THROW(linear_buckets(0, 1, 0), std::invalid_argument);
}

TEST(MetricsTest, OnCollectRunsInOrderBeforeEveryExposition) {
  Registry registry;
  auto& queue_depth = registry.gauge("queue_depth", "Queued jobs.").with({});
  std::vector<int> calls;
  int depth = 7;
  registry.on_collect([&] {
    calls.push_back(1);
    queue_depth.set(depth);
  });
  registry.on_collect([&] { calls.push_back(2); });
  EXPECT_NE(registry.expose().find("queue_depth 7\n"), std::string::npos);
  depth = 9;
  EXPECT_NE(registry.expose().find("queue_depth 9\n"), std::string::npos);
  EXPECT_EQ(calls, (std::vector<int>{1, 2, 1, 2}));
}

TEST(MetricsTest, ConcurrentUpdatesGiveExactTotals) {
  Registry registry;
  auto& counters = registry.counter("ops_total", "Ops.", {"worker_group"});
  auto& histogram = registry.histogram("op_seconds", "Op time.", {}, {0.5, 1}).with({});
  auto& gauge = registry.gauge("level", "Level.").with({});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Children are created concurrently too: two groups shared by all threads.
        counters.with({(i + t) % 2 == 0 ? "even" : "odd"}).inc();
        histogram.observe(i % 2 == 0 ? 0.25 : 0.75);
        gauge.inc();
        gauge.dec(0.5);
      }
    });
  }
  // Scrapes race with the updates and must not disturb them.
  for (int i = 0; i < 20; ++i) registry.expose();
  for (auto& thread : threads) thread.join();

  const double total = kThreads * kPerThread;
  EXPECT_EQ(counters.with({"even"}).value() + counters.with({"odd"}).value(), total);
  EXPECT_EQ(counters.with({"even"}).value(), total / 2);
  EXPECT_EQ(histogram.count(), uint64_t(total));
  EXPECT_EQ(histogram.cumulative_counts(),
            (std::vector<uint64_t>{uint64_t(total / 2), uint64_t(total), uint64_t(total)}));
  EXPECT_EQ(histogram.sum(), total / 2 * 0.25 + total / 2 * 0.75);
  EXPECT_EQ(gauge.value(), total / 2);
}

// Runs `promtool check metrics` with page on stdin; returns its exit status (-1 if it could not
// run) and what it printed (problems and lint findings) in output.
int promtool_check(const std::string& page, std::string& output) {
  char path[] = "/tmp/trafficsim_metrics_XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return -1;
  const bool written = ::write(fd, page.data(), page.size()) == ssize_t(page.size());
  ::close(fd);
  int status = -1;
  if (written) {
    const std::string command = std::string("promtool check metrics < ") + path + " 2>&1";
    if (FILE* reader = ::popen(command.c_str(), "r")) {
      char buffer[512];
      while (size_t n = std::fread(buffer, 1, sizeof buffer, reader)) output.append(buffer, n);
      status = ::pclose(reader);
    }
  }
  ::unlink(path);
  return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(MetricsTest, PromtoolAcceptsTheExposition) {
  if (std::system("command -v promtool > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool not installed (Debian package prometheus)";
  }
  Registry registry;
  auto& requests = registry.counter("demo_requests_total", "Requests served.", {"route", "code"});
  requests.with({"/users", "200"}).inc(3);
  requests.with({"/users/\"quoted\"\\", "500"}).inc();
  registry.gauge("demo_in_flight_requests", "Requests in flight.").with({}).set(2);
  registry.gauge("demo_ratio", "A ratio with\nnewline help.", {"kind"}).with({"x"}).set(0.25);
  auto& latency = registry.histogram("demo_request_duration_seconds", "Latency.", {"route"},
                                     exponential_buckets(0.005, 2, 10));
  latency.with({"/users"}).observe(0.02);
  latency.with({"/catalog"}).observe(7);
  registry.histogram("demo_empty_seconds", "Never observed.", {}, {1});

  std::string output;
  EXPECT_EQ(promtool_check(registry.expose(), output), 0) << output << registry.expose();
  EXPECT_EQ(output, "") << "promtool lint findings";
}

}  // namespace
}  // namespace trafficsim::telemetry
