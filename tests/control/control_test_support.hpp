#pragma once
// What the control tests share: the demo target in-process with the control API in front of it
// (as `trafficsim demo` mounts it), JSON calls, and an SSE reader that timestamps each event.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "control/control_api.hpp"
#include "control/job_manager.hpp"
#include "demo_service/target_service.hpp"
#include "telemetry/metrics.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

namespace control_test {

namespace json = boost::json;
using trafficsim::testing::HttpResult;

struct DemoStack {
  // own_clock: as `trafficsim demo` without DEMO_*: a Black Friday job starts the target's story.
  // configure: called on the API before it serves (set_monitors, set_incidents).
  explicit DemoStack(trafficsim::control::ManagerOptions mo = {}, std::string key = {},
                     std::vector<std::string> allow = {}, bool own_clock = false,
                     std::function<void(trafficsim::control::ControlApi&)> configure = {}) {
    trafficsim::demo_service::TargetOptions t;
    t.port = 0;
    t.data_dir = dir.path();
    t.catalog_rows = 500;
    t.access_log = "off";
    t.api_key = key;
    t.threads = 2;
    t.front_handler = [this](const std::shared_ptr<const trafficsim::http::ServerRequest>& r,
                             const trafficsim::http::Reply& reply) {
      auto* a = api_ptr.load();
      return a && a->handle(r, reply);
    };
    service = std::make_unique<trafficsim::demo_service::TargetService>(t);
    mo.target_url = service->url();
    if (own_clock) {
      auto* target = service.get();
      mo.start_demo_clock = [target](const trafficsim::core::DemoClockSpec& c) {
        target->start_demo(c);
        return true;
      };
    }
    if (mo.threads == 0) mo.threads = 1;
    if (mo.seed == 0) mo.seed = 7;
    manager = std::make_unique<trafficsim::control::JobManager>(mo);
    trafficsim::control::GuardOptions g;
    g.port = service->port();
    g.api_key = key;
    g.allowed_hosts = std::move(allow);
    auto* svc = service.get();
    api = std::make_unique<trafficsim::control::ControlApi>(
        *manager, trafficsim::control::RequestGuard(g), [svc] { return svc->registry().expose(); });
    if (configure) configure(*api);
    api_ptr.store(api.get());
    service->start();
  }
  ~DemoStack() {
    manager->stop_all();
    manager->wait_all();
    api_ptr.store(nullptr);
    service->stop();
  }
  uint16_t port() const { return service->port(); }

  HttpResult get(const std::string& target,
                 std::vector<std::pair<std::string, std::string>> headers = {}) const {
    return trafficsim::testing::http_call(port(), "GET", target, {}, std::move(headers));
  }
  HttpResult post(const std::string& target, const std::string& body,
                  std::vector<std::pair<std::string, std::string>> headers = {
                      {"Content-Type", "application/json"}}) const {
    return trafficsim::testing::http_call(port(), "POST", target, body, std::move(headers));
  }
  std::string start(const std::string& body) const {
    auto r = post("/traffic/start", body);
    if (r.status != 202) throw std::runtime_error("start failed: " + r.body);
    return std::string(json::parse(r.body).at("jobId").get_string());
  }

  trafficsim::testing::TempDir dir;
  std::unique_ptr<trafficsim::demo_service::TargetService> service;
  std::unique_ptr<trafficsim::control::JobManager> manager;
  std::unique_ptr<trafficsim::control::ControlApi> api;
  std::atomic<trafficsim::control::ControlApi*> api_ptr{nullptr};
};

inline json::object body_of(const HttpResult& r) { return json::parse(r.body).as_object(); }

struct SseEvent {
  std::string id, name, data;
  std::chrono::steady_clock::time_point at;
};

// Reads an SSE response on a raw socket, event by event, until the stream ends or the deadline.
class SseReader {
 public:
  SseReader(uint16_t port, const std::string& path, const std::string& last_event_id = {}) {
    fd_ = trafficsim::testing::connect_loopback(port);
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                      "\r\nAccept: text/event-stream\r\n";
    if (!last_event_id.empty()) req += "Last-Event-ID: " + last_event_id + "\r\n";
    req += "\r\n";
    ::send(fd_, req.data(), req.size(), MSG_NOSIGNAL);
  }
  ~SseReader() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Reads until `n` events arrived in all, the stream ended, or the deadline. Returns all so far.
  const std::vector<SseEvent>& read(size_t n, std::chrono::milliseconds deadline) {
    auto until = std::chrono::steady_clock::now() + deadline;
    while (events_.size() < n && !ended_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[8192];
      ssize_t k = ::recv(fd_, buf, sizeof buf, 0);
      if (k <= 0) {
        ended_ = true;
        break;
      }
      raw_.append(buf, static_cast<size_t>(k));
      parse();
    }
    return events_;
  }
  bool ended() const { return ended_; }
  const std::string& raw() const { return raw_; }
  const std::vector<SseEvent>& events() const { return events_; }

 private:
  // Chunked framing is left in raw_; events are found by their "id:" ... blank-line blocks.
  void parse() {
    if (raw_.find("\r\n0\r\n\r\n") != std::string::npos) ended_ = true;
    for (;;) {
      size_t start = raw_.find("id: ", pos_);
      if (start == std::string::npos) return;
      size_t end = raw_.find("\n\n", start);
      if (end == std::string::npos) return;
      SseEvent ev;
      ev.at = std::chrono::steady_clock::now();
      size_t line_start = start;
      while (line_start < end) {
        size_t nl = raw_.find('\n', line_start);
        std::string line = raw_.substr(line_start, nl - line_start);
        if (line.starts_with("id: ")) ev.id = line.substr(4);
        if (line.starts_with("event: ")) ev.name = line.substr(7);
        if (line.starts_with("data: ")) ev.data += line.substr(6);
        line_start = nl + 1;
      }
      events_.push_back(ev);
      pos_ = end + 2;
    }
  }
  int fd_ = -1;
  std::string raw_;
  size_t pos_ = 0;
  bool ended_ = false;
  std::vector<SseEvent> events_;
};

}  // namespace control_test
