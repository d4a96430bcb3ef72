#include "http/sse.hpp"

#include <stdexcept>

namespace trafficsim::http {

namespace {

// Appends one "field: value" line per line of value (CRLF, CR or LF end a line, as the
// client's parser sees them); an empty value is one bare "field:" line.
void append_field_lines(std::string& out, std::string_view field, std::string_view value) {
  size_t start = 0;
  while (true) {
    size_t end = value.find_first_of("\r\n", start);
    std::string_view line =
        value.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    out.append(field);
    out += ':';
    if (!line.empty()) {
      out += ' ';  // the client strips exactly one space after the colon
      out.append(line);
    }
    out += '\n';
    if (end == std::string_view::npos) break;
    start = end + (value[end] == '\r' && end + 1 < value.size() && value[end + 1] == '\n' ? 2 : 1);
  }
}

void require_single_line(std::string_view what, std::string_view value,
                         std::string_view forbidden) {
  if (value.find_first_of(forbidden) != std::string_view::npos)
    throw std::invalid_argument("SSE " + std::string(what) +
                                " must not contain a line break or NUL");
}

}  // namespace

SseWriter::SseWriter(const Reply& reply,
                     std::vector<std::pair<std::string, std::string>> extra_headers) {
  StreamHead head;
  head.status = 200;
  head.content_type = "text/event-stream";
  head.headers = {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}};
  for (auto& h : extra_headers) head.headers.push_back(std::move(h));
  stream_ = reply.stream(std::move(head));
}

bool SseWriter::event(std::string_view name, std::string_view data, std::string_view id) {
  using namespace std::string_view_literals;
  require_single_line("event name", name, "\r\n"sv);
  require_single_line("event id", id, "\r\n\0"sv);
  std::string out;
  out.reserve(data.size() + name.size() + id.size() + 32);
  if (!id.empty()) append_field_lines(out, "id", id);
  if (!name.empty()) append_field_lines(out, "event", name);
  append_field_lines(out, "data", data);
  out += '\n';
  return stream_.write(std::move(out));
}

bool SseWriter::retry(std::chrono::milliseconds delay) {
  auto ms = delay.count() < 0 ? 0 : delay.count();
  return stream_.write("retry: " + std::to_string(ms) + "\n\n");
}

bool SseWriter::comment(std::string_view text) {
  std::string out;
  append_field_lines(out, "", text);
  out += '\n';
  return stream_.write(std::move(out));
}

void SseWriter::finish() {
  stream_.finish();
}

std::optional<std::string_view> SseWriter::last_event_id(const ServerRequest& request) {
  return request.header("Last-Event-ID");
}

}  // namespace trafficsim::http
