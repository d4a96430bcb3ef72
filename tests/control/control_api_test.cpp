// The control API against the demo target in-process (as `trafficsim demo` mounts it): every
// route and error of docs/control-api.md, the guard, and the SSE stream's contract.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "control_test_support.hpp"
#include "support/eventually.hpp"

namespace {

using namespace control_test;
using trafficsim::testing::eventually;
using namespace std::chrono_literals;

const std::vector<std::pair<std::string, std::string>> kJson = {
    {"Content-Type", "application/json"}};

TEST(ControlApi, ScenariosListTheCardFirstWithDefaults) {
  DemoStack s;
  auto r = s.get("/traffic/scenarios");
  ASSERT_EQ(r.status, 200) << r.body;
  auto o = body_of(r);
  EXPECT_EQ(o.at("hardCap").as_int64(), 20);
  EXPECT_EQ(o.at("defaults").at("duration").as_int64(), 120);
  EXPECT_EQ(o.at("defaults").at("endpoints").as_string(), "all");
  const auto& list = o.at("scenarios").as_array();
  std::vector<std::string> titles;
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_TRUE(list[i].at("card").as_bool());
    titles.emplace_back(list[i].at("title").as_string());
  }
  EXPECT_EQ(titles, (std::vector<std::string>{"Normal Traffic", "Peak Usage", "Error Injection",
                                              "Latency Degradation", "Stress Test (Safe)"}));
  bool blackfriday = std::any_of(list.begin(), list.end(), [](const json::value& v) {
    return v.at("name") == "blackfriday" && v.at("dualMode").as_bool();
  });
  EXPECT_TRUE(blackfriday);
}

TEST(ControlApi, StartClampsToTheHardCapAndSaysSo) {
  DemoStack s;
  auto r = s.post("/traffic/start", R"({"scenario":"normal","maxRps":100,"duration":"3s"})");
  ASSERT_EQ(r.status, 202) << r.body;
  auto o = body_of(r);
  EXPECT_EQ(o.at("status").as_string(), "starting");
  EXPECT_TRUE(o.at("clamped").as_bool());
  EXPECT_EQ(o.at("requestedMaxRps").as_int64(), 100);
  EXPECT_EQ(o.at("maxRps").as_int64(), 20);
  EXPECT_EQ(o.at("duration").as_int64(), 3);
  std::string id(o.at("jobId").as_string());
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(id[14], '4');  // a version 4 UUID
  // Runs to completion; its report is the run's JSON report, at the capped rate.
  ASSERT_TRUE(eventually([&] {
    return body_of(s.get("/traffic/status/" + id)).at("status") == "completed";
  }, 15s));
  auto rep = s.get("/traffic/report/" + id);
  ASSERT_EQ(rep.status, 200) << rep.body;
  auto report = body_of(rep);
  EXPECT_TRUE(report.contains("meta"));
  double requests = report.at("requests").to_number<double>();
  EXPECT_GE(requests, 50);   // 20/s for 3 s = 60
  EXPECT_LE(requests, 62);   // never above the cap
  auto html = s.get("/traffic/report/" + id + "?format=html");
  ASSERT_EQ(html.status, 200);
  EXPECT_NE(html.header("Content-Type").value_or("").find("text/html"), std::string::npos);
  EXPECT_NE(html.header("Content-Disposition").value_or("").find("attachment"), std::string::npos);
  EXPECT_NE(html.body.find("<html"), std::string::npos);
  EXPECT_EQ(html.body.find("https://"), std::string::npos);  // opens offline
  EXPECT_EQ(html.body.find("http://"), std::string::npos);
  auto st = body_of(s.get("/traffic/status/" + id)).at("stats").as_object();
  EXPECT_EQ(st.at("totalRequests").to_number<double>(), requests);
  EXPECT_EQ(st.at("failedRequests").to_number<double>(), 0);
}

TEST(ControlApi, StartDefaultsAndModes) {
  DemoStack s;
  auto o = body_of(s.post("/traffic/start", R"({"scenario":"peak"})"));
  EXPECT_EQ(o.at("duration").as_int64(), 120);
  EXPECT_EQ(o.at("maxRps").as_int64(), 20);
  EXPECT_FALSE(o.contains("clamped"));
  EXPECT_EQ(o.at("endpoints").as_array(), (json::array{"all"}));
  auto m = s.post("/traffic/start", R"({"scenario":"normal_traffic","maxRps":5,"duration":60})");
  ASSERT_EQ(m.status, 202) << m.body;
  EXPECT_EQ(body_of(m).at("maxRps").as_int64(), 5);
  auto e = s.post("/traffic/start", R"({"scenario":"normal","endpoints":["list","get"]})");
  ASSERT_EQ(e.status, 202) << e.body;
  EXPECT_EQ(body_of(e).at("endpoints").as_array(), (json::array{"list", "get"}));
}

TEST(ControlApi, BadBodiesName400TheField) {
  DemoStack s;
  struct Case {
    const char* body;
    const char* field;
  };
  for (Case c : {Case{"", "body"}, Case{"{not json", "body"}, Case{"[1]", "body"},
                 Case{"{}", "scenario"}, Case{R"({"scenario":""})", "scenario"},
                 Case{R"({"scenario":"nope"})", "scenario"},
                 Case{R"({"scenario":"normal","duration":"2 fortnights"})", "duration"},
                 Case{R"({"scenario":"normal","duration":-1})", "duration"},
                 Case{R"({"scenario":"normal","duration":true})", "duration"},
                 Case{R"({"scenario":"normal","maxRps":0})", "maxRps"},
                 Case{R"({"scenario":"normal","maxRps":"fast"})", "maxRps"},
                 Case{R"({"scenario":"normal","endpoints":["delete"]})", "endpoints"},
                 Case{R"({"scenario":"normal","endpoints":[]})", "endpoints"},
                 Case{R"({"scenario":"normal","target":"http://elsewhere"})", "target"}}) {
    auto r = s.post("/traffic/start", c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    EXPECT_EQ(body_of(r).at("field").as_string(), c.field) << c.body << " -> " << r.body;
  }
  EXPECT_TRUE(s.manager->list().empty());  // nothing started
}

TEST(ControlApi, UnknownJob404WrongMethod405WithAllow) {
  DemoStack s;
  EXPECT_EQ(s.get("/traffic/status/nope").status, 404);
  EXPECT_EQ(s.post("/traffic/stop/nope", "").status, 404);
  EXPECT_EQ(s.get("/traffic/stream/nope").status, 404);
  EXPECT_EQ(s.get("/traffic/report/nope").status, 404);
  EXPECT_EQ(s.get("/traffic/whatever").status, 404);
  auto r = s.get("/traffic/start");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Allow").value_or(""), "POST");
  auto d = trafficsim::testing::http_call(s.port(), "DELETE", "/traffic/jobs");
  EXPECT_EQ(d.status, 405);
  EXPECT_EQ(d.header("Allow").value_or(""), "GET");
}

TEST(ControlApi, StopCancelsAndKeepsWhatWasMeasured) {
  DemoStack s;
  std::string id = s.start(R"({"scenario":"normal","maxRps":20,"duration":"1m"})");
  ASSERT_TRUE(eventually([&] {
    return body_of(s.get("/traffic/status/" + id)).at("stats").at("totalRequests").to_number<double>() > 10;
  }, 10s));
  auto running = s.get("/traffic/report/" + id);
  EXPECT_EQ(running.status, 409) << running.body;
  auto stop = s.post("/traffic/stop/" + id, "");  // no body: fine for stop
  ASSERT_EQ(stop.status, 200) << stop.body;
  ASSERT_TRUE(eventually([&] {
    return body_of(s.get("/traffic/status/" + id)).at("status") == "cancelled";
  }, 10s));
  auto st = body_of(s.get("/traffic/status/" + id));
  EXPECT_TRUE(st.contains("endTime"));
  auto report = body_of(s.get("/traffic/report/" + id));
  double requests = report.at("requests").to_number<double>();
  EXPECT_GT(requests, 10);
  EXPECT_LT(requests, 1200);  // stopped long before the minute
  EXPECT_EQ(st.at("stats").at("totalRequests").to_number<double>() +
                st.at("stats").at("dropped").to_number<double>(),
            requests);
  // Stopping again answers the same state.
  EXPECT_EQ(body_of(s.post("/traffic/stop/" + id, "")).at("status").as_string(), "cancelled");
  auto jobs = body_of(s.get("/traffic/jobs")).at("jobs").as_array();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].at("jobId").as_string(), id);
}

TEST(ControlApi, AtMostMaxJobsThe409NamesTheRunningOnes) {
  trafficsim::control::ManagerOptions mo;
  mo.max_jobs = 2;
  DemoStack s(mo);
  std::string a = s.start(R"({"scenario":"normal","maxRps":2})");
  std::string b = s.start(R"({"scenario":"peak","maxRps":2})");
  auto r = s.post("/traffic/start", R"({"scenario":"normal"})");
  ASSERT_EQ(r.status, 409) << r.body;
  auto o = body_of(r);
  EXPECT_NE(o.at("message").as_string().find(a), std::string::npos);
  EXPECT_NE(o.at("message").as_string().find(b), std::string::npos);
  EXPECT_EQ(o.at("running").as_array().size(), 2u);
  s.post("/traffic/stop/" + a, "");
  ASSERT_TRUE(eventually([&] { return !s.manager->find(a)->active(); }, 10s));
  EXPECT_EQ(s.post("/traffic/start", R"({"scenario":"normal","maxRps":2})").status, 202);
}

TEST(ControlApi, FinishedJobsAreRemovedAfterTheRetention) {
  trafficsim::control::ManagerOptions mo;
  mo.retention = 300ms;
  DemoStack s(mo);
  std::string id = s.start(R"({"scenario":"normal","maxRps":20,"duration":"1s"})");
  ASSERT_TRUE(eventually([&] { return s.get("/traffic/status/" + id).status == 200 &&
                                      !s.manager->find(id)->active(); }, 10s));
  // The housekeeper sweeps every second: gone within a few.
  EXPECT_TRUE(eventually([&] { return s.get("/traffic/status/" + id).status == 404; }, 5s));
  EXPECT_TRUE(body_of(s.get("/traffic/jobs")).at("jobs").as_array().empty());
}

TEST(ControlGuard, TextPlainAndFormPostsAreRefused) {
  DemoStack s;
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}) {
    auto r = s.post("/traffic/start", R"({"scenario":"normal"})", {{"Content-Type", type}});
    EXPECT_EQ(r.status, 415) << type << ": " << r.body;
    EXPECT_EQ(body_of(r).at("field").as_string(), "Content-Type");
  }
  std::string none = trafficsim::testing::raw_exchange(
      s.port(), "POST /traffic/start HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                "Content-Length: 21\r\n\r\n{\"scenario\":\"normal\"}");
  EXPECT_NE(none.find(" 415 "), std::string::npos) << none;
  EXPECT_EQ(s.post("/traffic/start", R"({"scenario":"normal","maxRps":1})",
                   {{"Content-Type", "application/json; charset=utf-8"}}).status, 202);
  EXPECT_EQ(s.manager->list().size(), 1u);  // only the JSON one started
  // No CORS: nothing says another origin may read.
  auto r = s.get("/traffic/jobs", {{"Origin", "http://evil.example"}});
  EXPECT_FALSE(r.header("Access-Control-Allow-Origin").has_value());
}

TEST(ControlGuard, AForeignHostIsRefused) {
  DemoStack s({}, {}, {"demo.internal"});
  std::string port = std::to_string(s.port());
  EXPECT_EQ(s.get("/traffic/jobs", {{"Host", "evil.example"}}).status, 403);
  EXPECT_EQ(s.get("/", {{"Host", "evil.example:" + port}}).status, 403);
  EXPECT_EQ(s.get("/traffic/jobs", {{"Host", "localhost:1"}}).status, 403);  // another port
  EXPECT_EQ(s.get("/traffic/jobs", {{"Host", "localhost:" + port}}).status, 200);
  EXPECT_EQ(s.get("/traffic/jobs", {{"Host", "127.0.0.1"}}).status, 200);
  EXPECT_EQ(s.get("/traffic/jobs", {{"Host", "demo.internal:" + port}}).status, 200);
  auto r = s.post("/traffic/start", R"({"scenario":"normal"})",
                  {{"Content-Type", "application/json"}, {"Host", "evil.example"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_TRUE(s.manager->list().empty());
}

TEST(ControlGuard, WithAKeyMutationsAndAdminNeedItGetsStayOpen) {
  DemoStack s({}, "s3cret");
  auto missing = s.post("/traffic/start", R"({"scenario":"normal","maxRps":1})");
  EXPECT_EQ(missing.status, 401) << missing.body;
  auto wrong = s.post("/traffic/start", R"({"scenario":"normal","maxRps":1})",
                      {{"Content-Type", "application/json"}, {"X-API-Key", "s3cre"}});
  EXPECT_EQ(wrong.status, 401);
  auto wrong_bearer = s.post("/traffic/start", R"({"scenario":"normal","maxRps":1})",
                             {{"Content-Type", "application/json"}, {"Authorization", "Bearer nope"}});
  EXPECT_EQ(wrong_bearer.status, 401);
  EXPECT_TRUE(s.manager->list().empty());
  auto ok = s.post("/traffic/start", R"({"scenario":"normal","maxRps":1})",
                   {{"Content-Type", "application/json"}, {"X-API-Key", "s3cret"}});
  ASSERT_EQ(ok.status, 202) << ok.body;
  std::string id(body_of(ok).at("jobId").as_string());
  auto bearer = s.post("/traffic/start", R"({"scenario":"peak","maxRps":1})",
                       {{"Content-Type", "application/json"}, {"Authorization", "Bearer s3cret"}});
  EXPECT_EQ(bearer.status, 202) << bearer.body;
  // The page, its assets and the GETs stay open (EventSource cannot send headers).
  EXPECT_EQ(s.get("/").status, 200);
  EXPECT_EQ(s.get("/traffic/jobs").status, 200);
  EXPECT_EQ(s.get("/traffic/status/" + id).status, 200);
  // Stop is a mutation; /admin/* always needs the key, the target's own /admin routes too.
  EXPECT_EQ(s.post("/traffic/stop/" + id, "").status, 401);
  EXPECT_EQ(s.get("/admin/traffic-stats").status, 401);
  EXPECT_EQ(s.get("/admin/faults").status, 401);
  EXPECT_EQ(s.get("/admin/faults", {{"Authorization", "Bearer s3cret"}}).status, 200);
  EXPECT_EQ(s.post("/traffic/stop/" + id, "", {{"Content-Type", "application/json"},
                                                {"X-API-Key", "s3cret"}}).status, 200);
  // The demo service's own routes never need it.
  EXPECT_EQ(s.get("/api/v1/users").status, 200);
}

TEST(ControlApi, ThePageAndItsAssetsAreEmbedded) {
  DemoStack s;
  auto page = s.get("/");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.header("Content-Type").value_or("").find("text/html"), std::string::npos);
  auto uplot = s.get("/assets/vendor/uplot.js");
  ASSERT_EQ(uplot.status, 200);
  EXPECT_NE(uplot.body.find("uPlot"), std::string::npos);
  EXPECT_NE(uplot.header("Content-Type").value_or("").find("javascript"), std::string::npos);
  EXPECT_EQ(s.get("/assets/vendor/uplot.css").status, 200);
  EXPECT_EQ(s.get("/assets/../CMakeLists.txt").status, 404);
  EXPECT_EQ(s.get("/assets/nope.js").status, 404);
}

TEST(ControlApi, ControlRoutesAreNotMeasuredByTheDemoService) {
  DemoStack s;
  for (int i = 0; i < 5; ++i) {
    s.get("/traffic/jobs");
    s.get("/");
    s.get("/traffic/scenarios");
  }
  s.get("/api/v1/users");
  std::string metrics = s.get("/metrics").body;
  EXPECT_EQ(metrics.find("/traffic"), std::string::npos);
  EXPECT_EQ(metrics.find("route=\"/\""), std::string::npos);
  EXPECT_NE(metrics.find("/api/v1/users"), std::string::npos);  // the service's own route is
}

TEST(ControlApi, TrafficStatsNeedARunningDualModeJob) {
  DemoStack s;
  EXPECT_EQ(s.get("/admin/traffic-stats").status, 404);
}

// `trafficsim demo` without a pinned clock: a Black Friday started from the API starts the
// target's story at its first request, so the demo stream degrades while the baseline does not.
TEST(ControlApi, ABlackFridayStartedFromTheApiDegradesTheTarget) {
  DemoStack s({}, {}, {}, /*own_clock=*/true);
  EXPECT_FALSE(body_of(s.get("/health")).at("demo").at("enabled").as_bool());
  auto refused = s.post("/traffic/start", R"({"scenario":"normal","timeScale":60})");
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(body_of(refused).at("field").as_string(), "timeScale") << refused.body;
  EXPECT_EQ(body_of(s.post("/traffic/start", R"({"scenario":"blackfriday","timeScale":0})"))
                .at("field").as_string(), "timeScale");

  std::string id = s.start(R"({"scenario":"blackfriday","timeScale":300,"duration":"6s"})");
  auto demo = body_of(s.get("/health")).at("demo").as_object();
  EXPECT_TRUE(demo.at("enabled").as_bool());
  EXPECT_DOUBLE_EQ(demo.at("time_scale").to_number<double>(), 300);
  double first_start = demo.at("start_timestamp").to_number<double>();
  ASSERT_TRUE(eventually([&] {
    return body_of(s.get("/traffic/status/" + id)).at("status") == "completed";
  }, 30s));
  auto st = body_of(s.get("/traffic/status/" + id)).at("stats").as_object();
  double demo_failed = -1, demo_total = 0, base_failed = -1;
  for (const auto& v : st.at("streams").as_array()) {
    const auto& o = v.as_object();
    if (o.at("name") == "demo") {
      demo_failed = o.at("failedRequests").to_number<double>();
      demo_total = o.at("totalRequests").to_number<double>();
    }
    if (o.at("name") == "baseline") base_failed = o.at("failedRequests").to_number<double>();
  }
  ASSERT_GT(demo_total, 50) << json::serialize(st);
  // Over demo minutes 0-30 the scripted failures alone average well above 20 %.
  EXPECT_GT(demo_failed / demo_total, 0.2) << json::serialize(st);
  EXPECT_EQ(base_failed, 0) << json::serialize(st);

  // The next Black Friday starts the story over.
  std::string again = s.start(R"({"scenario":"blackfriday","timeScale":300,"duration":"1s"})");
  EXPECT_GT(body_of(s.get("/health")).at("demo").at("start_timestamp").to_number<double>(),
            first_start);
  s.post("/traffic/stop/" + again, "");
}

TEST(ControlApi, MonitorsRouteAnswersTheRunnersStatesBehindTheKey) {
  DemoStack off;
  EXPECT_EQ(off.get("/api/v1/monitors").status, 404);  // monitors are off
  DemoStack s({}, "k3y");
  s.api->set_monitors([] {
    return json::object{{"monitors", json::array{json::object{{"id", "x"}, {"state", "OK"}}}}};
  });
  EXPECT_EQ(s.get("/api/v1/monitors").status, 401);
  auto r = s.get("/api/v1/monitors", {{"Authorization", "Bearer k3y"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(body_of(r).at("monitors").at(0).at("id").as_string(), "x");
  EXPECT_EQ(s.post("/api/v1/monitors", "{}", {{"Content-Type", "application/json"}, {"X-API-Key", "k3y"}}).status, 405);
  // Not the demo service's route: never measured.
  EXPECT_EQ(s.service->registry().expose().find("/api/v1/monitors"), std::string::npos);
}

TEST(ControlApi, TargetPanelReadsTheTargetsMetrics) {
  DemoStack s;
  auto before = body_of(s.get("/traffic/target"));
  EXPECT_TRUE(before.at("builtin").as_bool());
  std::string body = R"({"subject":"Win a prize","body":"Click here now","sender":"a@b.c"})";
  for (int i = 0; i < 5; ++i) s.post("/hackathon/classify", body);
  auto after = body_of(s.get("/traffic/target")).at("llm").as_object();
  EXPECT_GE(after.at("requests").to_number<double>(), 5);
  EXPECT_GT(after.at("tokensPerRequest").to_number<double>(), 0);
  EXPECT_GT(after.at("p95Ms").to_number<double>(), 0);
}

TEST(ControlPanel, P95InterpolatesInsideItsBucket) {
  std::string text =
      "llm_request_duration_seconds_bucket{traffic_type=\"a\",le=\"0.1\"} 50\n"
      "llm_request_duration_seconds_bucket{traffic_type=\"a\",le=\"1\"} 100\n"
      "llm_request_duration_seconds_bucket{traffic_type=\"a\",le=\"+Inf\"} 100\n"
      "llm_tokens_per_request_sum 2000\nllm_tokens_per_request_count 10\nllm_error_rate 0.25\n"
      "llm_requests_total{traffic_type=\"a\"} 100\n";
  auto o = trafficsim::control::target_panel_json(text).at("llm").as_object();
  EXPECT_NEAR(o.at("p95Ms").to_number<double>(), 910, 0.1);  // 0.1 + 0.9 * 45/50
  EXPECT_EQ(o.at("tokensPerRequest").to_number<double>(), 200);
  EXPECT_EQ(o.at("errorRate").to_number<double>(), 0.25);
}

}  // namespace
