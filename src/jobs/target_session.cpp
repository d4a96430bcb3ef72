#include "jobs/target_session.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "demo_service/demo_clock.hpp"
#include "demo_service/target_service.hpp"
#include "http/simple_get.hpp"
#include "http/url.hpp"

namespace trafficsim::jobs {

namespace json = boost::json;

std::string default_data_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/trafficsim";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/trafficsim";
  return fmt::format("/tmp/trafficsim-{}", getuid());
}

TargetSession::TargetSession() = default;
TargetSession::~TargetSession() { close(); }

void TargetSession::open(const TargetChoice& choice, const scenarios::DemoClockSpec* clock) {
  if (!choice.url.empty()) {
    url_ = choice.url;
    while (url_.size() > 1 && url_.back() == '/') url_.pop_back();
    return;
  }
  if (choice.on_builtin_start) choice.on_builtin_start();
  demo_service::TargetOptions t;
  t.host = "127.0.0.1";
  t.port = 0;
  t.data_dir = choice.data_dir.empty() ? default_data_dir() : choice.data_dir;
  t.catalog_rows = choice.catalog_rows;
  t.access_log = "off";
  t.seed = choice.seed;
  t.exporter = choice.exporter;
  if (clock) {
    t.demo.enabled = true;
    t.demo.mode = "blackfriday";
    t.demo.clock = *clock;
  }
  try {
    service_ = std::make_unique<demo_service::TargetService>(std::move(t));
    service_->start();
  } catch (const demo_service::TargetError& e) {
    service_.reset();
    throw TargetStartError(fmt::format("cannot start the built-in target: {}", e.what()));
  }
  url_ = service_->url();
}

void TargetSession::close() {
  if (service_) {
    service_->stop();
    service_.reset();
  }
}

scenarios::DemoClockSpec resolve_demo_clock(const std::string& url,
                                            std::optional<double> time_scale, double now_unix,
                                            std::vector<std::string>* notes) {
  scenarios::DemoClockSpec clock;
  try {
    auto env = demo_service::demo_settings_from_env([](const char* n) { return std::getenv(n); },
                                                    now_unix);
    clock = env.clock;
  } catch (const demo_service::ConfigError& e) {
    throw ClockConfigError(e.what());
  }
  if (time_scale) clock.time_scale = *time_scale;
  if (url.empty()) return clock;
  // A trafficsim target tells its clock at /health; adopting it makes both tell the same minute.
  std::string error;
  auto parsed = http::parse_url(url + "/health", &error);
  if (!parsed || parsed->tls()) return clock;
  auto r = http::simple_get(*parsed, std::chrono::seconds(3), &error);
  if (!r || r->status != 200) {
    notes->push_back(fmt::format("could not read {}/health ({}): using this run's own demo clock",
                                 url, r ? fmt::format("status {}", r->status) : error));
    return clock;
  }
  json::value v;
  try {
    v = json::parse(r->body);
  } catch (const std::exception&) {
    return clock;
  }
  const json::object* demo = nullptr;
  if (v.is_object())
    if (auto it = v.as_object().find("demo"); it != v.as_object().end() && it->value().is_object())
      demo = &it->value().as_object();
  if (!demo) {
    notes->push_back("the target is not a trafficsim target (no demo clock in /health): using "
                     "this run's own demo clock");
    return clock;
  }
  auto num = [&](const char* k, double def) {
    auto it = demo->find(k);
    return it != demo->end() && it->value().is_number() ? it->value().to_number<double>() : def;
  };
  bool enabled = demo->contains("enabled") && demo->at("enabled").is_bool() &&
                 demo->at("enabled").as_bool();
  if (!enabled) {
    notes->push_back("the target's demo mode is off (start it with DEMO_MODE=blackfriday): its "
                     "recommendations will not degrade");
    return clock;
  }
  scenarios::DemoClockSpec adopted{num("start_timestamp", clock.start_unix),
                                   num("time_scale", clock.time_scale),
                                   num("duration_minutes", clock.duration_minutes)};
  if (time_scale && std::abs(*time_scale - adopted.time_scale) > 1e-9)
    notes->push_back(fmt::format("--time-scale {:g} ignored: the target's clock runs at {:g}",
                                 *time_scale, adopted.time_scale));
  notes->push_back(fmt::format("adopted the target's demo clock: minute {:.1f}, time scale {:g}",
                               scenarios::demo_minute(adopted, now_unix), adopted.time_scale));
  return adopted;
}

}  // namespace trafficsim::jobs
