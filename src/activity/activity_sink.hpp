#pragma once
// Where the activity goes. The runner calls a sink from its one thread: on_span and on_log for
// each item of an activity (its span first, then its records in time order), flush() after each
// tick or stress batch. Metrics do not pass through sinks: they are the registry's
// (activity_metrics.hpp), which the OTLP sink's exporter and the dashboard read.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "activity/activity_generator.hpp"
#include "telemetry/log_buffer.hpp"
#include "telemetry/span.hpp"

namespace trafficsim::telemetry {
class OtlpExporter;
class Registry;
}  // namespace trafficsim::telemetry

namespace trafficsim::activity {

class ActivitySink {
 public:
  virtual ~ActivitySink() = default;
  virtual void on_span(const Activity& activity, const telemetry::Span& span) = 0;
  virtual void on_log(const Activity& activity, const telemetry::LogRecord& log) = 0;
  // The end of a tick or batch: write out what is buffered.
  virtual void flush() {}
};

// The reader of a JSON-lines sink went away (EPIPE: `trafficsim telemetry | head`): the end of the
// run, not a failure.
struct OutputClosed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// JSON lines (json_lines.hpp) on a file descriptor (stdout by default), written in large blocks:
// a buffer flushed at 64 KiB and at every flush(). A write that fails throws OutputClosed for a
// closed pipe, std::runtime_error saying why otherwise (a full disk).
class JsonLinesSink final : public ActivitySink {
 public:
  explicit JsonLinesSink(int fd = 1);
  ~JsonLinesSink() override;  // flushes, errors ignored
  void on_span(const Activity& activity, const telemetry::Span& span) override;
  void on_log(const Activity& activity, const telemetry::LogRecord& log) override;
  void flush() override;

 private:
  void write_out();
  int fd_;
  std::string buffer_;
};

// Queues into an OTLP exporter (spans a batch at a time at flush(), logs one by one; the
// exporter drops and counts rather than block). With a registry, the exporter's metrics are that
// registry's (metrics_from_registry since `start_unix_ns`), cleared again when the sink goes.
class OtlpSink final : public ActivitySink {
 public:
  OtlpSink(std::shared_ptr<telemetry::OtlpExporter> exporter,
           const telemetry::Registry* registry = nullptr, uint64_t start_unix_ns = 0);
  ~OtlpSink() override;
  void on_span(const Activity& activity, const telemetry::Span& span) override;
  void on_log(const Activity& activity, const telemetry::LogRecord& log) override;
  void flush() override;

 private:
  std::shared_ptr<telemetry::OtlpExporter> exporter_;
  bool owns_metrics_source_ = false;
  std::vector<telemetry::Span> pending_;
};

// Keeps the recent spans and log records in memory for the dashboard (its Traces and Logs pages).
class TapSink final : public ActivitySink {
 public:
  TapSink(std::shared_ptr<telemetry::SpanBuffer> spans, std::shared_ptr<telemetry::LogBuffer> logs);
  void on_span(const Activity& activity, const telemetry::Span& span) override;
  void on_log(const Activity& activity, const telemetry::LogRecord& log) override;

 private:
  std::shared_ptr<telemetry::SpanBuffer> spans_;
  std::shared_ptr<telemetry::LogBuffer> logs_;
};

// Every item to every sink, in the order they were added.
class FanOutSink final : public ActivitySink {
 public:
  void add(std::unique_ptr<ActivitySink> sink);
  bool empty() const { return sinks_.empty(); }
  void on_span(const Activity& activity, const telemetry::Span& span) override;
  void on_log(const Activity& activity, const telemetry::LogRecord& log) override;
  void flush() override;

 private:
  std::vector<std::unique_ptr<ActivitySink>> sinks_;
};

}  // namespace trafficsim::activity
