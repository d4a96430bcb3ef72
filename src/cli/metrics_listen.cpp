#include "cli/metrics_listen.hpp"

#include <fmt/format.h>

#include <poll.h>

#include <cerrno>
#include <utility>

#include "http/server.hpp"
#include "jobs/client_source.hpp"

namespace trafficsim::cli {

std::string with_labels(std::string_view exposition, std::string_view labels) {
  std::string out;
  out.reserve(exposition.size() + exposition.size() / 2);
  size_t pos = 0;
  while (pos < exposition.size()) {
    size_t end = exposition.find('\n', pos);
    if (end == std::string_view::npos) end = exposition.size();
    std::string_view line = exposition.substr(pos, end - pos);
    if (line.empty() || line.front() == '#') {
      out.append(line);
    } else {
      const size_t brace = line.find('{');
      const size_t space = line.find(' ');
      if (brace != std::string_view::npos && (space == std::string_view::npos || brace < space)) {
        out.append(line.substr(0, brace + 1));
        out.append(labels);
        // "name{} 1" stays valid without a comma; "name{a="b"} 1" gets one.
        if (brace + 1 < line.size() && line[brace + 1] != '}') out.push_back(',');
        out.append(line.substr(brace + 1));
      } else if (space != std::string_view::npos) {
        out.append(line.substr(0, space));
        out.push_back('{');
        out.append(labels);
        out.push_back('}');
        out.append(line.substr(space));
      } else {
        out.append(line);
      }
    }
    if (end < exposition.size()) out.push_back('\n');
    pos = end + 1;
  }
  return out;
}

MetricsListener::MetricsListener(const std::string& host, uint16_t port,
                                 std::shared_ptr<const jobs::ClientSource> source,
                                 load::Segment segment)
    : source_(std::move(source)),
      host_(host),
      labels_(fmt::format("segment=\"{}\",segments=\"{}\"", segment.index, segment.count)) {
  http::ServerOptions so;
  so.host = host;
  so.port = port;
  so.threads = 1;
  server_ = std::make_unique<http::Server>(
      so, [this](std::shared_ptr<const http::ServerRequest> req, http::Reply reply) {
        if (req->path() != "/metrics") {
          return reply.send(http::ServerResponse{
              404, "text/plain; charset=utf-8", "only /metrics here\n", {}, false});
        }
        if (req->method != "GET" && req->method != "HEAD") {
          return reply.send(http::ServerResponse{
              405, "text/plain; charset=utf-8", "GET /metrics\n", {{"Allow", "GET, HEAD"}}, false});
        }
        reply.send(http::ServerResponse{
            200, "text/plain; version=0.0.4; charset=utf-8", page(), {}, false});
      });
  server_->start();
}

MetricsListener::~MetricsListener() {
  if (server_) server_->stop();
}

uint16_t MetricsListener::port() const {
  return server_->port();
}

void MetricsListener::linger(std::chrono::nanoseconds d, int stop_fd) const {
  if (d <= std::chrono::nanoseconds::zero()) return;
  const auto until = std::chrono::steady_clock::now() + d;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd p{stop_fd, POLLIN, 0};
    const int r = ::poll(&p, stop_fd >= 0 ? 1 : 0, static_cast<int>(left.count()) + 1);
    if (r > 0) return;  // a signal: stop lingering (the fd stays readable for the caller)
    if (r < 0 && errno != EINTR) return;
  }
}

std::string MetricsListener::url() const {
  const bool v6 = host_.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}/metrics", v6 ? "[" : "", host_, v6 ? "]" : "", port());
}

std::string MetricsListener::page() const {
  std::string out =
      "# HELP trafficsim_segment_info Which segment of the plan this process runs.\n"
      "# TYPE trafficsim_segment_info gauge\n"
      "trafficsim_segment_info{" +
      labels_ + "} 1\n";
  out += with_labels(source_->exposition(), labels_);
  return out;
}

}  // namespace trafficsim::cli
