#include "activity/activity_sink.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "activity/json_lines.hpp"
#include "core/clock.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/otlp_exporter.hpp"

namespace trafficsim::activity {

namespace {
constexpr size_t kFlushAt = 64 * 1024;
}

JsonLinesSink::JsonLinesSink(int fd) : fd_(fd) {
  buffer_.reserve(2 * kFlushAt);
}

JsonLinesSink::~JsonLinesSink() {
  try {
    write_out();
  } catch (const std::exception&) {
    // Nothing to tell at this point: the run already reported its end.
  }
}

void JsonLinesSink::on_span(const Activity& activity, const telemetry::Span& span) {
  append_span_line(buffer_, activity, span);
  if (buffer_.size() >= kFlushAt) write_out();
}

void JsonLinesSink::on_log(const Activity& activity, const telemetry::LogRecord& log) {
  append_log_line(buffer_, activity, log);
  if (buffer_.size() >= kFlushAt) write_out();
}

void JsonLinesSink::flush() {
  write_out();
}

void JsonLinesSink::write_out() {
  size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      buffer_.clear();
      if (err == EPIPE) throw OutputClosed("the reader of standard output went away");
      throw std::runtime_error(
          fmt::format("cannot write the activity to standard output: {}", std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
}

OtlpSink::OtlpSink(std::shared_ptr<telemetry::OtlpExporter> exporter,
                   const telemetry::Registry* registry, uint64_t start_unix_ns)
    : exporter_(std::move(exporter)) {
  if (!exporter_) throw std::invalid_argument("OtlpSink needs an exporter");
  if (registry != nullptr && exporter_->exports(telemetry::Signal::metrics)) {
    exporter_->set_metrics_source([registry, start_unix_ns] {
      return telemetry::metrics_from_registry(*registry, start_unix_ns, core::unix_now_ns());
    });
    owns_metrics_source_ = true;
  }
}

OtlpSink::~OtlpSink() {
  try {
    flush();
  } catch (const std::exception&) {
  }
  // The registry may go with the run: no collection may read it afterwards.
  if (owns_metrics_source_) exporter_->set_metrics_source({});
}

void OtlpSink::on_span(const Activity&, const telemetry::Span& span) {
  pending_.push_back(span);
}

void OtlpSink::on_log(const Activity&, const telemetry::LogRecord& log) {
  exporter_->add_log(log);
}

void OtlpSink::flush() {
  if (pending_.empty()) return;
  exporter_->add_spans(pending_);
  pending_.clear();
}

TapSink::TapSink(std::shared_ptr<telemetry::SpanBuffer> spans,
                 std::shared_ptr<telemetry::LogBuffer> logs)
    : spans_(std::move(spans)), logs_(std::move(logs)) {}

void TapSink::on_span(const Activity&, const telemetry::Span& span) {
  if (spans_) spans_->add(span);
}

void TapSink::on_log(const Activity&, const telemetry::LogRecord& log) {
  if (logs_) logs_->add(log);
}

void FanOutSink::add(std::unique_ptr<ActivitySink> sink) {
  if (sink) sinks_.push_back(std::move(sink));
}

void FanOutSink::on_span(const Activity& activity, const telemetry::Span& span) {
  for (auto& s : sinks_) s->on_span(activity, span);
}

void FanOutSink::on_log(const Activity& activity, const telemetry::LogRecord& log) {
  for (auto& s : sinks_) s->on_log(activity, log);
}

void FanOutSink::flush() {
  for (auto& s : sinks_) s->flush();
}

}  // namespace trafficsim::activity
