#pragma once
// One job under the control plane: what it is (the API's JobState fields), its thread, its
// status, its bounded event history and its SSE subscribers. The body — build a traffic job or a
// demo-script job and run it — is given by the manager; this class publishes what the body
// reports, replays history to new subscribers, and sends the final event when the body ends.
//
// Threads: the body runs on the job's own thread (and publishes from it); every other member is
// safe from any thread (one mutex per job, never shared with another job or the engine).
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "control/stats_json.hpp"
#include "http/sse.hpp"
#include "jobs/traffic_job.hpp"

namespace trafficsim::control {

enum class JobStatus { starting, running, completed, cancelled, error };
const char* to_string(JobStatus status);

// What the API shows about a job before it runs.
struct JobSpec {
  std::string kind = "scenario";  // "scenario" or "script"
  std::string scenario;           // "normal", "blackfriday", "demo-video"
  std::string title;              // "Normal Traffic"
  std::optional<double> duration_s;
  std::optional<double> max_rps;
  boost::json::array endpoints;
  bool clamped = false;
  double requested_max_rps = 0;
  bool dual_mode = false;
  std::vector<std::string> stream_names;
};

class ControlJob {
 public:
  static constexpr size_t kMaxHistory = 1200;

  ControlJob(std::string id, JobSpec spec);
  ~ControlJob();  // stops and joins
  ControlJob(const ControlJob&) = delete;
  ControlJob& operator=(const ControlJob&) = delete;

  // The body builds and runs the job on the job's thread and returns its final report; it calls
  // running() once the job exists (with how to stop it) and finished_running() before the job
  // object goes away. An exception is the job's error.
  using Body = std::function<boost::json::value(ControlJob&)>;
  void start(Body body);

  // From the body.
  void running(std::function<void()> stopper);
  void finished_running(bool stopped_early);
  void publish(const jobs::TrafficSnapshot& snapshot, const std::optional<PhaseInfo>& phase);

  // Any thread.
  void stop();  // idempotent; a job not yet built never runs
  // Open streams a running job serves at once (docs/control-api.md): one more is refused
  // before anything is sent. A finished job's streams end at once and are not counted.
  static constexpr size_t kMaxSubscribers = 64;
  // Answers `reply` with the stream: replays the events after `after_id` (all when empty), then
  // follows live; a finished job's subscriber gets the final event and the end of the stream at
  // once. False, with `reply` untouched, when the job already has kMaxSubscribers open streams.
  bool subscribe(const http::Reply& reply, std::optional<uint64_t> after_id);
  void heartbeat();  // ": heartbeat" to every subscriber; drops the ones that went away
  JobStatus status() const;
  bool active() const;  // starting or running
  boost::json::object state_json() const;
  std::optional<boost::json::value> report() const;  // once ended (not for error)
  std::optional<jobs::TrafficSnapshot> latest() const;
  const std::string& id() const { return id_; }
  const JobSpec& spec() const { return spec_; }
  std::optional<double> ended_mono_s() const;  // when the job ended (core::monotonic seconds)
  size_t subscriber_count() const;
  size_t history_size() const;
  // True once every stream this job ended (its final event and the end of the response) is out
  // of the server's queue, or its client went away. A server that stops stops its io threads at
  // once, so a shutdown waits for this first or the streams' last bytes are cut.
  bool streams_flushed();
  void join();

 private:
  struct Event {
    uint64_t id;
    std::string name;
    std::string data;
  };
  void append_locked(std::string name, std::string data);
  void end(JobStatus status, std::optional<boost::json::value> report, std::string error);
  boost::json::object state_json_locked() const;

  const std::string id_;
  const JobSpec spec_;
  const double start_unix_;
  mutable std::mutex mu_;
  JobStatus status_ = JobStatus::starting;
  std::function<void()> stopper_;
  bool stop_requested_ = false;
  double end_unix_ = 0;
  std::optional<double> ended_mono_;
  std::string error_;
  std::optional<boost::json::value> report_;
  boost::json::object stats_;  // the latest Stats (then the final ones)
  std::optional<jobs::TrafficSnapshot> latest_;
  std::deque<Event> history_;
  uint64_t next_event_id_ = 1;
  std::vector<http::SseWriter> subscribers_;
  // Ended streams whose last bytes may still be queued; the flushed ones are forgotten.
  std::vector<http::ResponseStream> ending_;
  std::thread thread_;
};

}  // namespace trafficsim::control
