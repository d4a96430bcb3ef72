// The self-contained HTML report: what it shows, that it holds no URL and cannot be broken out
// of by the data it embeds, its size for a 1-hour run, and the message for what is not a report.
#include "control/html_report.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include <boost/json.hpp>

namespace {

namespace json = boost::json;
using trafficsim::control::render_html_report;

size_t occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1))
    ++n;
  return n;
}

json::object latency(int64_t p50_us, int64_t p95_us, const std::string& histogram = "HISTx") {
  return json::object{{"count", 100},          {"min_us", 1000},  {"mean_us", 2000.5},
                      {"p50_us", p50_us},      {"p90_us", 4000},  {"p95_us", p95_us},
                      {"p99_us", 6000},        {"p999_us", 7000}, {"max_us", 8000},
                      {"sum_us", 200050.0},    {"histogram", histogram}};
}

json::object stats(uint64_t requests, uint64_t errors, const std::string& histogram = "HISTx") {
  return json::object{
      {"requests", requests},
      {"responses", json::object{{"200", requests - errors}, {"503", errors}}},
      {"errors", json::object{{"connect", 0}, {"timeout", 1}, {"closed_mid_response", 0},
                              {"other", 0}, {"status", errors}}},
      {"error_ratio", static_cast<double>(errors) / static_cast<double>(requests)},
      {"expected_failures", 0},
      {"unexpected_failures", errors},
      {"dropped", 0},
      {"bytes_in", 1000},
      {"bytes_out", 500},
      {"duration_s", 10.0},
      {"achieved_rps", 20.0},
      {"latency", json::object{{"corrected", latency(3000, 5000, histogram)},
                               {"service", latency(2500, 4500, histogram)},
                               {"send_lateness", latency(100, 300, histogram)}}}};
}

json::array series(size_t points) {
  json::array a;
  for (size_t i = 0; i < points; ++i)
    a.push_back(json::object{{"t_s", 0.5 * static_cast<double>(i + 1) + 0.000123456},
                             {"rps", 19.958749623753405},
                             {"error_ratio", 0.0123456789},
                             {"p50_us", 301567},
                             {"p95_us", 466943},
                             {"p99_us", 1466943}});
  return a;
}

// A run report in the shape of `run --json` (load/report.cpp + scenarios/run_report.cpp), with
// two streams of two endpoints each.
json::object run_report(size_t points = 10, const std::string& histogram = "HISTx") {
  json::object r = stats(200, 10, histogram);
  r["format_version"] = 1;
  r["meta"] = json::object{{"trafficsim_version", "0.1.0"},
                           {"plan_hash", "4e492f5cfcfba1ca"},
                           {"seed", 17498602818638934464ull},
                           {"segment", json::object{{"index", 0}, {"count", 1}}},
                           {"model", "open"},
                           {"threads", 2},
                           {"started_at", "2026-12-01T23:27:38.879230Z"},
                           {"ended_at", "2026-12-01T23:28:01.848760Z"},
                           {"planned_duration_s", 10.0},
                           {"stopped_early", false},
                           {"notes", json::array{"a note that mentions https://example.com/x"}}};
  r["saturation"] = json::object{{"saturated", false}, {"reason", ""}};
  r["error_samples"] = json::array{"503 from GET /products/recommendations"};
  json::array streams;
  for (std::string name : {"baseline", "demo"}) {
    json::object s = stats(100, name == "demo" ? 10 : 0, histogram);
    s["name"] = name;
    s["url"] = "http://127.0.0.1:45259";
    s["planned_requests"] = 100;
    s["peak_target_rps"] = 10.0;
    json::array endpoints;
    for (std::string ep : {"GET /products", "GET /products/recommendations"}) {
      json::object e = stats(50, name == "demo" ? 5 : 0, histogram);
      e["name"] = ep;
      e["method"] = "GET";
      e["target"] = ep.substr(4) + "?category=electronics";
      endpoints.push_back(std::move(e));
    }
    s["endpoints"] = std::move(endpoints);
    s["timeseries"] = series(points);
    streams.push_back(std::move(s));
  }
  r["streams"] = std::move(streams);
  r["timeseries"] = series(points);
  r["scenario"] = json::object{{"name", "blackfriday"},
                               {"source", "scenarios/blackfriday.yaml"},
                               {"builtin", true},
                               {"description", "Seed 002 dual mode"},
                               {"variables", json::object{}}};
  r["thresholds"] = json::object{
      {"passed", false},
      {"results", json::array{json::object{{"stream", "baseline"},
                                           {"condition", "error_rate < 2%"},
                                           {"actual", 0.0},
                                           {"actual_text", "0%"},
                                           {"passed", true}},
                              json::object{{"stream", "demo"},
                                           {"condition", "p95 < 200ms"},
                                           {"actual", 2386.0},
                                           {"actual_text", "2386ms"},
                                           {"passed", false}}}}};
  r["traffic_stats"] = json::object{
      {"baseline", json::object{{"rpm", 100.0}, {"requests", 34}, {"errors", 0},
                                {"error_rate", "0.0%"}, {"error_ratio", 0.0}}},
      {"demo", json::object{{"current_rpm", 4200.0}, {"demo_minute", 20.0}, {"requests", 1006},
                            {"errors", 404}, {"error_rate", "40.2%"}, {"error_ratio", 0.4}}}};
  return r;
}

// The text of the <script type="application/json"> element.
std::string embedded_data(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"report-data\">";
  size_t from = html.find(open);
  if (from == std::string::npos) return "";
  from += open.size();
  return html.substr(from, html.find("</script>", from) - from);
}

TEST(HtmlReport, ShowsTheRunsMetaLatencyTableStreamsEndpointsAndThresholdRows) {
  std::string html = render_html_report(run_report());
  EXPECT_TRUE(html.starts_with("<!doctype html>"));
  for (const char* expected :
       {"<title>trafficsim report: blackfriday</title>", "trafficsim run (blackfriday)",
        "4e492f5cfcfba1ca", "17498602818638934464", "2026-12-01T23:27:38.879230Z",
        "Corrected (from the intended send time)", "Service (from the actual send)",
        "Send lateness", "<th>p99.9</th>", ">5.00<", /* corrected p95 = 5000 us */
        "GET /products/recommendations", "error_rate &lt; 2%", "p95 &lt; 200ms", "2386ms",
        "<tr class=\"fail\">", "<span class=\"badge fail\">FAIL</span>", "4200", "40.2%",
        "503 ×10", "closed mid-response", "503 from GET /products/recommendations",
        "class=\"charts\" data-run=\"0\""})
    EXPECT_NE(html.find(expected), std::string::npos) << expected;
  // The run's target is shown, written so that it is no link: the browser displays "http://".
  EXPECT_NE(html.find("http&#58;//127.0.0.1:45259"), std::string::npos);
}

TEST(HtmlReport, HoldsNoHttpOrHttpsUrlAnywhere) {
  std::string html = render_html_report(run_report());
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  // uPlot's banner (its repository's URL) is replaced by a plain-text attribution.
  EXPECT_NE(html.find("uPlot 1.6.32, MIT licence, Leon Sorokin"), std::string::npos);
  EXPECT_NE(html.find("var uPlot="), std::string::npos) << "uPlot is inlined";
}

TEST(HtmlReport, EmbeddedJsonCannotEndItsScriptElementAndReadsBackUnchanged) {
  json::object r = run_report();
  r["meta"].as_object()["notes"] =
      json::array{"</script><script>alert(1)</script><!-- & -->", "a/b"};
  r["streams"].as_array()[0].as_object()["name"] = "<b>bold</b>";
  std::string html = render_html_report(r);
  // Three scripts: the data, uPlot, the report's own; nothing in the data closes one early.
  EXPECT_EQ(occurrences(html, "</script>"), 3u);
  EXPECT_EQ(occurrences(html, "<!--"), 0u);
  std::string data = embedded_data(html);
  EXPECT_EQ(data.find('<'), std::string::npos);
  EXPECT_EQ(data.find('>'), std::string::npos);
  // JSON.parse reads the report back: unchanged but for the series, which are columns of rounded
  // numbers (the page's charts' form).
  json::value back = json::parse(data);
  EXPECT_EQ(back.at("meta"), r.at("meta")) << "the text reads back unchanged";
  EXPECT_EQ(back.at("streams").at(0).at("name"), r.at("streams").at(0).at("name"));
  EXPECT_EQ(back.at("latency"), r.at("latency"));
  const auto& cols = back.at("timeseries").as_object();
  const auto& points = r.at("timeseries").as_array();
  ASSERT_EQ(cols.at("t_s").as_array().size(), points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    EXPECT_NEAR(cols.at("t_s").at(i).to_number<double>(), points[i].at("t_s").to_number<double>(), 0.0005);
    EXPECT_NEAR(cols.at("rps").at(i).to_number<double>(), points[i].at("rps").to_number<double>(), 0.005);
    EXPECT_NEAR(cols.at("error_ratio").at(i).to_number<double>(),
                points[i].at("error_ratio").to_number<double>(), 0.000005);
    EXPECT_EQ(cols.at("p99_us").at(i).to_number<double>(), points[i].at("p99_us").to_number<double>());
  }
  EXPECT_FALSE(back.as_object().contains("page_downsampled"));
  // In the tables the same text is escaped HTML.
  EXPECT_NE(html.find("&lt;b&gt;bold&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<b>bold</b>"), std::string::npos);
}

TEST(HtmlReport, AOneHourRunIsUnderOneMebibyte) {
  // A 1-hour run's series: 7 200 half-second snapshots, halved at 1 200 points (load/engine.cpp),
  // so at most 1 200 points in the total and in each stream's series; histograms of ~2 KiB.
  std::string big_histogram(2048, 'A');
  std::string html = render_html_report(run_report(1200, big_histogram));
  EXPECT_LT(html.size(), 1u << 20) << html.size() << " bytes";
  EXPECT_GT(html.size(), 200u * 1024) << "the series really are in it";
}

// Many series (a script of 5 phases, each with 6 streams, all at the 1 200-point bound) still make
// a page under 1 MiB: the series are halved for the page until they fit, and the page says so.
TEST(HtmlReport, ManyFullSeriesAreDownsampledForThePageUnderOneMebibyte) {
  json::array phases;
  for (int i = 0; i < 5; ++i) {
    json::object r = run_report(1200, std::string(2048, 'A'));
    auto& streams = r["streams"].as_array();
    while (streams.size() < 6) streams.push_back(streams[0]);
    r["phase"] = json::object{{"index", i + 1}, {"title", "Step"}};
    phases.push_back(std::move(r));
  }
  json::object script{{"format_version", 1},
                      {"script", json::object{{"name", "big"}}},
                      {"phases", phases}};
  std::string html = render_html_report(script);
  EXPECT_LT(html.size(), 1u << 20) << html.size() << " bytes";
  json::value back = json::parse(embedded_data(html));
  ASSERT_TRUE(back.as_object().contains("page_downsampled"));
  size_t kept = back.at("phases").at(0).at("streams").at(0).at("timeseries").at("t_s").as_array().size();
  EXPECT_LT(kept, 1200u);
  EXPECT_GE(kept, 1200u >> back.at("page_downsampled").to_number<int>());
  // The last point survives every halving: the chart still reaches the run's end.
  EXPECT_NEAR(back.at("phases").at(0).at("streams").at(0).at("timeseries").at("t_s").as_array().back().to_number<double>(),
              600.000123, 0.001);
}

TEST(HtmlReport, RendersAMergedSegmentReport) {
  json::object r = run_report();
  r.erase("scenario");
  r.erase("thresholds");
  r.erase("traffic_stats");
  r["meta"].as_object()["segment"] = json::object{{"count", 2}, {"merged", json::array{0, 1}}};
  r["saturation"] = json::object{{"saturated", true},
                                 {"reason", json::array{"s0.json: send lateness p99 110 ms"}}};
  std::string html = render_html_report(r);
  EXPECT_NE(html.find("trafficsim report merge of 2 segments (trafficsim bench)"), std::string::npos);
  EXPECT_NE(html.find("2 merged"), std::string::npos);
  EXPECT_NE(html.find("s0.json: send lateness p99 110 ms"), std::string::npos);
  EXPECT_EQ(html.find("Thresholds"), std::string::npos) << "no thresholds block without thresholds";
}

TEST(HtmlReport, RendersOneSectionPerPhaseOfADemoScript) {
  json::array phases;
  for (int i = 0; i < 3; ++i) {
    json::object r = run_report();
    r["phase"] = json::object{{"index", i + 1},
                              {"title", "Step " + std::to_string(i + 1) + ": the story"},
                              {"narration", "What the audience sees."},
                              {"traffic", "normal_traffic @ 10/s"}};
    phases.push_back(std::move(r));
  }
  json::object script{{"format_version", 1},
                      {"script", json::object{{"name", "demo-video"}, {"time_scale", 18.0}}},
                      {"stopped_early", false},
                      {"phases", phases}};
  std::string html = render_html_report(script);
  EXPECT_EQ(occurrences(html, "<section class=\"run\""), 3u);
  for (const char* expected : {"<title>trafficsim demo script: demo-video</title>",
                               "Phase 1: Step 1: the story", "Phase 3: Step 3: the story",
                               "data-run=\"2\"", "What the audience sees.", "time scale 18"})
    EXPECT_NE(html.find(expected), std::string::npos) << expected;
}

void expect_rejected(const json::value& v, const std::string& message) {
  try {
    render_html_report(v);
    ADD_FAILURE() << "accepted " << json::serialize(v);
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(HtmlReport, WhatIsNotAReportIsRejectedNamingWhatIsWrong) {
  expect_rejected(json::array{1}, "not a trafficsim report: expected an object, got an array");
  expect_rejected(json::object{{"streams", json::array{}}},
                  "not a trafficsim report: no 'meta' object (a run report has 'meta' and "
                  "'streams'; a demo script's has 'phases')");
  expect_rejected(json::object{{"meta", json::object{}}, {"streams", 3}},
                  "not a trafficsim report: no 'streams' array");
  expect_rejected(json::object{{"meta", json::object{}}, {"streams", json::array{1}}},
                  "not a trafficsim report: streams[0] is a number, not an object");
  expect_rejected(json::object{{"phases", json::array{run_report(), json::object{}}}},
                  "not a trafficsim report: phases[1]: no 'meta' object (a run report has 'meta' "
                  "and 'streams'; a demo script's has 'phases')");
  expect_rejected(json::object{{"phases", json::array{}}}, "not a trafficsim report: 'phases' is empty");
}

TEST(HtmlReport, AMinimalReportRendersWithDashesForWhatItLacks) {
  std::string html = render_html_report(
      json::object{{"meta", json::object{}}, {"streams", json::array{json::object{}}}});
  EXPECT_NE(html.find("No latency figures."), std::string::npos);
  EXPECT_NE(html.find("trafficsim bench"), std::string::npos);
}

}  // namespace
