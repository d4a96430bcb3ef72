#pragma once
// Server-Sent Events over a streamed reply (html.spec.whatwg.org, "Server-sent events"): a
// text/event-stream response that is never buffered by us or a proxy, one chunk — one flush —
// per event, retry advice and comment heartbeats. The writer frames; when to send a heartbeat
// (say every 15 s, with Server::after) and where to resume after Last-Event-ID is the caller's.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/server.hpp"

namespace trafficsim::http {

class SseWriter {
 public:
  // Answers `reply` with 200, Content-Type: text/event-stream, Cache-Control: no-cache and
  // X-Accel-Buffering: no (nginx would otherwise buffer the stream), plus `extra_headers`.
  explicit SseWriter(const Reply& reply,
                     std::vector<std::pair<std::string, std::string>> extra_headers = {});

  // One event: "id:" (when id is not empty), "event:" (when name is not empty), one "data:" line
  // per line of data (CRLF, CR and LF all end a line, as they do for the client), then the blank
  // line that dispatches it. Empty data is sent as one empty "data:" line, so the event still
  // fires. A name or id containing CR or LF (or an id containing NUL) would break the framing:
  // it throws std::invalid_argument and sends nothing. Returns false when the client is gone.
  // Safe from any thread, like every member here.
  bool event(std::string_view name, std::string_view data, std::string_view id = {});
  // "retry: <ms>": how long the client waits before reconnecting (negative counts as 0).
  bool retry(std::chrono::milliseconds delay);
  // ": text" lines (one per line of text), for heartbeats; the client ignores them.
  bool comment(std::string_view text);
  // Ends the response; the connection may serve another request.
  void finish();

  bool closed() const { return stream_.closed(); }
  // See ResponseStream::on_close.
  void on_close(std::function<void()> fn) const { stream_.on_close(std::move(fn)); }
  const ResponseStream& stream() const { return stream_; }

  // The request's Last-Event-ID header: where a reconnecting client wants to resume after.
  static std::optional<std::string_view> last_event_id(const ServerRequest& request);

 private:
  ResponseStream stream_;
};

}  // namespace trafficsim::http
