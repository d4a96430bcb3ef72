#pragma once
// The activity's JSON-lines form (docs/activity.md): one object per span and per log record, one
// line each, keys always in the same order so that two runs with one seed differ only in their
// time fields ("start", "end", "time"). A small writer of its own: no DOM, no allocation beyond
// the caller's buffer (keep it and clear() it between writes).
//
//   {"type":"span","kind":"http","level":"info","message":"GET /users 200 (42.123 ms)",
//    "trace_id":"…","span_id":"…","name":"GET /users","span_kind":"server","status":"unset",
//    "start":"2026-12-02T15:04:05.123456789Z","end":"…","duration_ms":42.123,
//    "attributes":{"traffic.type":"activity","http.request.method":"GET",…}}
//   {"type":"log","kind":"http","time":"…","level":"info","message":"…","trace_id":"…",
//    "span_id":"…","fields":{…}}
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "activity/activity_generator.hpp"

namespace trafficsim::activity {

// Appends one line (with its '\n').
void append_span_line(std::string& out, const Activity& activity, const telemetry::Span& span);
void append_log_line(std::string& out, const Activity& activity, const telemetry::LogRecord& log);

// JSON text of a string (quoted and escaped) and of a value (objects in insertion order, numbers
// in their shortest round-trip form).
void append_json_string(std::string& out, std::string_view text);
void append_json_value(std::string& out, const boost::json::value& value);

}  // namespace trafficsim::activity
