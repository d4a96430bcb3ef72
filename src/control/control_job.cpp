#include "control/control_job.hpp"

#include <cmath>
#include <exception>

#include <boost/json/serialize.hpp>

#include "control/job_manager.hpp"
#include "control/stats_json.hpp"
#include "core/clock.hpp"

namespace trafficsim::control {

namespace json = boost::json;

namespace {
double mono_s() { return static_cast<double>(core::monotonic_now_ns()) / 1e9; }
}  // namespace

const char* to_string(JobStatus status) {
  switch (status) {
    case JobStatus::starting: return "starting";
    case JobStatus::running: return "running";
    case JobStatus::completed: return "completed";
    case JobStatus::cancelled: return "cancelled";
    case JobStatus::error: return "error";
  }
  return "error";
}

ControlJob::ControlJob(std::string id, JobSpec spec)
    : id_(std::move(id)), spec_(std::move(spec)), start_unix_(core::unix_now_s()) {}

ControlJob::~ControlJob() {
  stop();
  join();
}

void ControlJob::join() {
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void ControlJob::start(Body body) {
  thread_ = std::thread([this, body = std::move(body)] {
    try {
      json::value report = body(*this);
      JobStatus st;
      {
        std::lock_guard lock(mu_);
        st = stop_requested_ ? JobStatus::cancelled : JobStatus::completed;
      }
      end(st, std::move(report), {});
    } catch (const std::exception& e) {
      end(JobStatus::error, std::nullopt, e.what());
    }
  });
}

void ControlJob::running(std::function<void()> stopper) {
  std::lock_guard lock(mu_);
  stopper_ = std::move(stopper);
  if (stop_requested_) {
    stopper_();  // a stop that came while the job was being built: it returns at once
  } else {
    status_ = JobStatus::running;
  }
}

void ControlJob::finished_running(bool stopped_early) {
  std::lock_guard lock(mu_);
  stopper_ = nullptr;
  if (stopped_early) stop_requested_ = true;
}

void ControlJob::stop() {
  std::lock_guard lock(mu_);
  if (status_ != JobStatus::starting && status_ != JobStatus::running) return;
  stop_requested_ = true;
  if (stopper_) stopper_();
}

void ControlJob::publish(const jobs::TrafficSnapshot& snapshot,
                         const std::optional<PhaseInfo>& phase) {
  std::lock_guard lock(mu_);
  json::object stats =
      stats_json(snapshot, core::unix_now_s(), phase, latest_ ? &*latest_ : nullptr);
  std::string data = json::serialize(stats);
  if (status_ == JobStatus::starting) status_ = JobStatus::running;
  stats_ = std::move(stats);
  latest_ = snapshot;
  append_locked("stats", std::move(data));
}

void ControlJob::append_locked(std::string name, std::string data) {
  Event ev{next_event_id_++, std::move(name), std::move(data)};
  std::string id = std::to_string(ev.id);
  std::erase_if(subscribers_, [&](http::SseWriter& w) { return !w.event(ev.name, ev.data, id); });
  if (ev.name == "final") return;  // sent to whoever is here; later ones get it from end()
  if (history_.size() >= kMaxHistory) {
    // Halve the resolution: keep every other point (the newest among each pair).
    std::deque<Event> kept;
    for (size_t i = 1; i < history_.size(); i += 2) kept.push_back(std::move(history_[i]));
    history_.swap(kept);
  }
  history_.push_back(std::move(ev));
}

void ControlJob::end(JobStatus status, std::optional<json::value> report, std::string error) {
  std::lock_guard lock(mu_);
  status_ = status;
  end_unix_ = core::unix_now_s();
  ended_mono_ = mono_s();
  error_ = std::move(error);
  stopper_ = nullptr;
  if (report) {
    const json::object* r = report->is_object() ? &report->get_object() : nullptr;
    std::optional<json::object> summed;
    // A script's report is {"phases": [...]}: its counters are every phase's summed, its
    // latencies the last phase's.
    if (r && r->contains("phases") && r->at("phases").is_array() &&
        !r->at("phases").get_array().empty() && r->at("phases").get_array().back().is_object()) {
      const auto& phases = r->at("phases").get_array();
      summed = final_stats_json(phases.back().get_object());
      for (const char* k : {"totalRequests", "successfulRequests", "failedRequests", "dropped"}) {
        double total = 0;
        for (const auto& ph : phases)
          if (ph.is_object()) total += final_stats_json(ph.get_object()).at(k).to_number<double>();
        (*summed)[k] = json_number(total);
      }
      summed->erase("streams");
    }
    if (summed || (r && r->contains("meta"))) {
      json::object final_stats = summed ? *summed : final_stats_json(*r);
      if (auto dm = stats_.find("demoMinute"); dm != stats_.end())
        final_stats["demoMinute"] = dm->value();
      stats_ = std::move(final_stats);
    }
    report_ = std::move(report);
  }
  stats_["status"] = to_string(status_);
  std::string data = json::serialize(state_json_locked());
  append_locked("final", std::move(data));
  for (auto& w : subscribers_) {
    w.finish();
    ending_.push_back(w.stream());
  }
  subscribers_.clear();
}

namespace {
bool flushed(const http::ResponseStream& s) { return s.closed() || s.unsent_bytes() == 0; }
}  // namespace

bool ControlJob::streams_flushed() {
  std::lock_guard lock(mu_);
  std::erase_if(ending_, flushed);
  return ending_.empty();
}

bool ControlJob::subscribe(const http::Reply& reply, std::optional<uint64_t> after_id) {
  std::lock_guard lock(mu_);
  const bool live = status_ == JobStatus::starting || status_ == JobStatus::running;
  if (live) {
    std::erase_if(subscribers_, [](const http::SseWriter& w) { return w.closed(); });
    if (subscribers_.size() >= kMaxSubscribers) return false;
  }
  http::SseWriter writer(reply);
  writer.retry(std::chrono::milliseconds(1000));
  for (const auto& ev : history_)
    if (!after_id || ev.id > *after_id) writer.event(ev.name, ev.data, std::to_string(ev.id));
  if (live) {
    subscribers_.push_back(std::move(writer));
    return true;
  }
  // Ended: the final event (its id is the one after the history's last) and the end.
  writer.event("final", json::serialize(state_json_locked()), std::to_string(next_event_id_ - 1));
  writer.finish();
  std::erase_if(ending_, flushed);  // bounded by the streams still being written
  ending_.push_back(writer.stream());
  return true;
}

void ControlJob::heartbeat() {
  std::lock_guard lock(mu_);
  std::erase_if(subscribers_, [](http::SseWriter& w) { return !w.comment("heartbeat"); });
}

JobStatus ControlJob::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

bool ControlJob::active() const {
  auto s = status();
  return s == JobStatus::starting || s == JobStatus::running;
}

std::optional<double> ControlJob::ended_mono_s() const {
  std::lock_guard lock(mu_);
  return ended_mono_;
}

size_t ControlJob::subscriber_count() const {
  std::lock_guard lock(mu_);
  return static_cast<size_t>(std::count_if(subscribers_.begin(), subscribers_.end(),
                                           [](const http::SseWriter& w) { return !w.closed(); }));
}

size_t ControlJob::history_size() const {
  std::lock_guard lock(mu_);
  return history_.size();
}

std::optional<json::value> ControlJob::report() const {
  std::lock_guard lock(mu_);
  return report_;
}

std::optional<jobs::TrafficSnapshot> ControlJob::latest() const {
  std::lock_guard lock(mu_);
  return latest_;
}

json::object ControlJob::state_json() const {
  std::lock_guard lock(mu_);
  return state_json_locked();
}

json::object ControlJob::state_json_locked() const {
  json::object o;
  o["jobId"] = id_;
  o["kind"] = spec_.kind;
  o["status"] = to_string(status_);
  o["scenario"] = spec_.scenario;
  o["title"] = spec_.title;
  o["startTime"] = static_cast<int64_t>(std::llround(start_unix_ * 1000.0));
  if (ended_mono_) o["endTime"] = static_cast<int64_t>(std::llround(end_unix_ * 1000.0));
  if (spec_.duration_s) o["duration"] = json_number(*spec_.duration_s);
  if (spec_.max_rps) o["maxRps"] = json_number(*spec_.max_rps);
  o["endpoints"] = spec_.endpoints;
  if (spec_.clamped) {
    o["clamped"] = true;
    o["requestedMaxRps"] = json_number(spec_.requested_max_rps);
  }
  o["dualMode"] = spec_.dual_mode;
  json::array names;
  for (const auto& n : spec_.stream_names) names.emplace_back(n);
  o["streamNames"] = std::move(names);
  if (!error_.empty()) o["error"] = error_;
  json::object stats = stats_;
  if (stats.empty())
    stats = {{"totalRequests", 0}, {"successfulRequests", 0}, {"failedRequests", 0},
             {"avgLatency", 0}, {"currentRps", 0}};
  stats["status"] = to_string(status_);
  o["stats"] = std::move(stats);
  o["subscribers"] = subscribers_.size();
  o["streamUrl"] = "/traffic/stream/" + id_;
  o["reportUrl"] = "/traffic/report/" + id_;
  return o;
}

}  // namespace trafficsim::control
