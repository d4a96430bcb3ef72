#include "control/telemetry_api.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include <boost/json/array.hpp>

#include "control/job_manager.hpp"  // ApiFailure
#include "control/responses.hpp"
#include "control/telemetry_metrics.hpp"
#include "core/clock.hpp"
#include "http/query_string.hpp"

namespace trafficsim::control {

namespace json = boost::json;
using http::ApiError;

namespace {

constexpr std::string_view kTraces = "/api/v1/traces";
constexpr std::string_view kLogs = "/api/v1/logs";
constexpr std::string_view kMetrics = "/api/v1/telemetry/metrics";
constexpr std::string_view kSegments = "/api/v1/telemetry/segments";

[[noreturn]] void bad(std::string_view field, std::string message) {
  throw ApiFailure(ApiError{400, "invalid_value", std::string(field), std::move(message)});
}

// The query's parameters by decoded name; one not in `known` is refused (a typo such as
// traffic.type= would otherwise filter nothing, silently).
std::map<std::string, std::string> parameters(std::string_view query,
                                              std::initializer_list<std::string_view> known) {
  std::map<std::string, std::string> out;
  if (query.starts_with('?')) query.remove_prefix(1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string name = http::percent_decode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : http::percent_decode(pair.substr(eq + 1));
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      bad(name, fmt::format("unknown parameter '{}': expected one of {}", name, list));
    }
    out.emplace(std::move(name), std::move(value));
  }
  return out;
}

const std::string* param(const std::map<std::string, std::string>& p, const std::string& name) {
  auto it = p.find(name);
  return it == p.end() || it->second.empty() ? nullptr : &it->second;
}

size_t limit_param(const std::map<std::string, std::string>& p, size_t fallback, size_t max) {
  const std::string* v = param(p, "limit");
  if (!v) return fallback;
  size_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || n < 1 || n > max)
    bad("limit", fmt::format("limit must be an integer from 1 to {}, not '{}'", max, *v));
  return n;
}

std::optional<double> ms_param(const std::map<std::string, std::string>& p, const std::string& name) {
  const std::string* v = param(p, name);
  if (!v) return std::nullopt;
  double ms = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), ms);
  if (ec != std::errc() || end != v->data() + v->size() || !std::isfinite(ms) || ms < 0)
    bad(name, fmt::format("{} must be a number of milliseconds >= 0, not '{}'", name, *v));
  return ms;
}

// What ?status= accepts: a class (2xx..5xx), error / ok, or one code.
struct StatusFilter {
  enum class Kind { any, code_class, code, error, ok } kind = Kind::any;
  int value = 0;
};

StatusFilter status_param(const std::map<std::string, std::string>& p) {
  const std::string* v = param(p, "status");
  if (!v) return {};
  if (*v == "error") return {StatusFilter::Kind::error};
  if (*v == "ok") return {StatusFilter::Kind::ok};
  if (v->size() == 3 && (*v)[0] >= '1' && (*v)[0] <= '5' && (*v)[1] == 'x' && (*v)[2] == 'x')
    return {StatusFilter::Kind::code_class, (*v)[0] - '0'};
  int code = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), code);
  if (ec == std::errc() && end == v->data() + v->size() && code >= 100 && code <= 599)
    return {StatusFilter::Kind::code, code};
  bad("status", fmt::format("status must be 2xx, 4xx, 5xx (any class), error, ok or a code "
                            "from 100 to 599, not '{}'",
                            *v));
}

std::optional<core::TraceId> parse_trace_id(std::string_view hex) {
  core::TraceId id{};
  if (hex.size() != 32) return std::nullopt;
  for (size_t i = 0; i < 16; ++i) {
    uint8_t byte = 0;
    auto [end, ec] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, byte, 16);
    if (ec != std::errc() || end != hex.data() + 2 * i + 2) return std::nullopt;
    id[i] = byte;
  }
  if (std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; })) return std::nullopt;
  return id;
}

bool is_zero(const core::SpanId& id) {
  return std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; });
}

struct SourcedSpan {
  const std::string* source;
  telemetry::Span span;
};

std::vector<SourcedSpan> all_spans(const std::vector<TelemetrySource>& sources) {
  std::vector<SourcedSpan> out;
  for (const auto& s : sources)
    if (s.spans != nullptr)
      for (auto& span : s.spans->recent(s.spans->capacity())) out.push_back({&s.name, std::move(span)});
  return out;
}

std::optional<json::value> attribute(const telemetry::Span& span, std::string_view key) {
  return span.attribute(key);  // its own, its scalars', its template's
}

std::optional<std::string> string_attribute(const telemetry::Span& span, std::string_view key) {
  const auto v = attribute(span, key);
  if (v && v->is_string()) return std::string(v->get_string());
  return std::nullopt;
}

std::optional<int64_t> int_attribute(const telemetry::Span& span, std::string_view key) {
  const auto v = attribute(span, key);
  if (v && v->is_int64()) return v->get_int64();
  if (v && v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  return std::nullopt;
}

double ms_between(uint64_t from_ns, uint64_t to_ns) {
  return to_ns > from_ns ? std::round(static_cast<double>(to_ns - from_ns) / 1e3) / 1e3 : 0.0;
}

std::string_view kind_name(telemetry::SpanKind kind) {
  switch (kind) {
    case telemetry::SpanKind::internal: return "internal";
    case telemetry::SpanKind::server: return "server";
    case telemetry::SpanKind::client: return "client";
  }
  return "unspecified";
}

// One trace's spans in waterfall order: each root (a span without a parent here), then its
// children depth first, siblings by start time. Returns (index, depth) pairs.
std::vector<std::pair<size_t, int>> waterfall_order(const std::vector<const SourcedSpan*>& spans) {
  std::set<core::SpanId> ids;
  for (const auto* s : spans) ids.insert(s->span.span_id);
  std::map<core::SpanId, std::vector<size_t>> children;
  std::vector<size_t> roots;
  for (size_t i = 0; i < spans.size(); ++i) {
    const auto& sp = spans[i]->span;
    if (is_zero(sp.parent_span_id) || !ids.contains(sp.parent_span_id) ||
        sp.parent_span_id == sp.span_id)
      roots.push_back(i);
    else
      children[sp.parent_span_id].push_back(i);
  }
  auto by_start = [&](size_t a, size_t b) {
    const auto &x = spans[a]->span, &y = spans[b]->span;
    if (x.start_unix_nano != y.start_unix_nano) return x.start_unix_nano < y.start_unix_nano;
    return static_cast<int>(x.kind == telemetry::SpanKind::server) >
           static_cast<int>(y.kind == telemetry::SpanKind::server);
  };
  std::sort(roots.begin(), roots.end(), by_start);
  for (auto& [id, list] : children) std::sort(list.begin(), list.end(), by_start);
  std::vector<std::pair<size_t, int>> out;
  std::set<size_t> placed;  // a cycle of parents cannot loop
  std::vector<std::pair<size_t, int>> stack;
  for (auto it = roots.rbegin(); it != roots.rend(); ++it) stack.emplace_back(*it, 0);
  while (!stack.empty()) {
    auto [i, depth] = stack.back();
    stack.pop_back();
    if (!placed.insert(i).second) continue;
    out.emplace_back(i, depth);
    auto c = children.find(spans[i]->span.span_id);
    if (c == children.end()) continue;
    for (auto it = c->second.rbegin(); it != c->second.rend(); ++it) stack.emplace_back(*it, depth + 1);
  }
  for (size_t i = 0; i < spans.size(); ++i)
    if (!placed.contains(i)) out.emplace_back(i, 0);
  return out;
}

struct TraceSummary {
  json::object json;
  uint64_t start = 0;
  std::optional<std::string> traffic_type, route, root_name;
  std::optional<int64_t> status_code;
  bool error = false;
  double duration_ms = 0;
};

TraceSummary summarize(const core::TraceId& id, const std::vector<const SourcedSpan*>& spans) {
  TraceSummary t;
  auto order = waterfall_order(spans);
  const SourcedSpan& root = *spans[order.front().first];
  uint64_t start = UINT64_MAX, end = 0;
  bool full_scan = false;
  std::optional<std::string> index_used;
  std::set<std::string> sources;
  for (const auto* s : spans) {
    start = std::min(start, s->span.start_unix_nano);
    end = std::max(end, s->span.end_unix_nano);
    if (s->span.status == telemetry::SpanStatusCode::error) t.error = true;
    if (const auto v = attribute(s->span, "db.full_table_scan"); v && v->is_bool() && v->get_bool())
      full_scan = true;
    if (!index_used && s->span.kind == telemetry::SpanKind::client)
      index_used = string_attribute(s->span, "db.index_used");
    sources.insert(*s->source);
  }
  // The root's own figures, else the first span (in waterfall order) that has them.
  for (auto [i, depth] : order) {
    const auto& sp = spans[i]->span;
    if (!t.traffic_type) t.traffic_type = string_attribute(sp, "traffic.type");
    if (!t.route) t.route = string_attribute(sp, "http.route");
    if (!t.status_code) t.status_code = int_attribute(sp, "http.response.status_code");
  }
  if (t.status_code && *t.status_code >= 500) t.error = true;
  t.start = start;
  t.duration_ms = ms_between(start, end);
  json::array source_list;
  for (const auto& s : sources) source_list.emplace_back(s);
  auto opt = [](const std::optional<std::string>& v) { return v ? json::value(*v) : json::value(); };
  t.json = json::object{
      {"trace_id", core::to_hex(id)},
      {"root", root.span.display_name()},
      {"source", *root.source},
      {"sources", std::move(source_list)},
      {"traffic_type", opt(t.traffic_type)},
      {"route", opt(t.route)},
      {"status_code", t.status_code ? json::value(*t.status_code) : json::value()},
      {"status", t.error ? "error" : "ok"},
      {"duration_ms", t.duration_ms},
      {"span_count", spans.size()},
      {"start_unix_nano", std::to_string(start)},
      {"start_ms", static_cast<double>(start / 1000) / 1e3},
      {"full_table_scan", full_scan},
      {"index_used", opt(index_used)},
  };
  return t;
}

bool passes(const TraceSummary& t, const std::map<std::string, std::string>& p,
            const StatusFilter& status, std::optional<double> min_ms, std::optional<double> max_ms) {
  if (const auto* v = param(p, "traffic_type"); v && t.traffic_type != *v) return false;
  if (const auto* v = param(p, "route"); v && t.route != *v && t.root_name != *v) return false;
  if (min_ms && t.duration_ms < *min_ms) return false;
  if (max_ms && t.duration_ms > *max_ms) return false;
  switch (status.kind) {
    case StatusFilter::Kind::any: return true;
    case StatusFilter::Kind::error: return t.error;
    case StatusFilter::Kind::ok: return !t.error;
    case StatusFilter::Kind::code: return t.status_code == status.value;
    case StatusFilter::Kind::code_class:
      return t.status_code && *t.status_code / 100 == status.value;
  }
  return true;
}

std::map<core::TraceId, std::vector<const SourcedSpan*>> by_trace(const std::vector<SourcedSpan>& spans) {
  std::map<core::TraceId, std::vector<const SourcedSpan*>> out;
  for (const auto& s : spans) out[s.span.trace_id].push_back(&s);
  return out;
}

// ?after= for the log tail: one number for every source, or "name:seq,name:seq" (the cursor the
// last answer gave). Sources it does not name start from 0.
std::map<std::string, uint64_t> parse_cursor(const std::string* text) {
  std::map<std::string, uint64_t> out;
  if (!text) return out;
  auto number = [&](std::string_view s) {
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size())
      bad("after", fmt::format("after must be a sequence number or the cursor an earlier answer "
                               "gave (source:seq,...), not '{}'",
                               *text));
    return v;
  };
  if (text->find(':') == std::string::npos) {
    out[""] = number(*text);
    return out;
  }
  std::string_view rest = *text;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    auto colon = item.rfind(':');
    if (colon == std::string_view::npos || colon == 0) number("");
    out[std::string(item.substr(0, colon))] = number(item.substr(colon + 1));
  }
  return out;
}

telemetry::Severity level_param(const std::map<std::string, std::string>& p) {
  const std::string* v = param(p, "level");
  if (!v) return telemetry::Severity::trace;
  static const std::pair<std::string_view, telemetry::Severity> levels[] = {
      {"trace", telemetry::Severity::trace}, {"debug", telemetry::Severity::debug},
      {"info", telemetry::Severity::info},   {"warn", telemetry::Severity::warn},
      {"warning", telemetry::Severity::warn}, {"error", telemetry::Severity::error},
      {"fatal", telemetry::Severity::fatal}};
  for (const auto& [name, s] : levels)
    if (*v == name) return s;
  bad("level", fmt::format("level must be debug, info, warn or error (that level and above), "
                           "not '{}'",
                           *v));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

TelemetryApi::TelemetryApi(std::function<double()> now_unix_s)
    : metrics_(std::make_unique<TelemetryMetrics>(now_unix_s ? std::move(now_unix_s)
                                                             : std::function<double()>(core::unix_now_s))) {}

TelemetryApi::~TelemetryApi() = default;

void TelemetryApi::add_source(TelemetrySource source) {
  std::lock_guard lock(sources_mutex_);
  for (auto& s : sources_)
    if (s.name == source.name) {
      s = std::move(source);
      return;
    }
  sources_.push_back(std::move(source));
}

void TelemetryApi::remove_source(std::string_view name) {
  std::lock_guard lock(sources_mutex_);
  std::erase_if(sources_, [&](const TelemetrySource& s) { return s.name == name; });
}

std::vector<TelemetrySource> TelemetryApi::sources() const {
  std::lock_guard lock(sources_mutex_);
  return sources_;
}

bool TelemetryApi::is_telemetry_path(std::string_view path) {
  return path == kTraces || path.starts_with(std::string(kTraces) + "/") || path == kLogs ||
         path.starts_with(std::string(kLogs) + "/") || path.starts_with("/api/v1/telemetry");
}

boost::json::object TelemetryApi::traces_json(std::string_view query) const {
  auto p = parameters(query, {"traffic_type", "route", "status", "min_ms", "max_ms", "limit"});
  const size_t limit = limit_param(p, kDefaultTraceLimit, kMaxTraceLimit);
  const StatusFilter status = status_param(p);
  const auto min_ms = ms_param(p, "min_ms");
  const auto max_ms = ms_param(p, "max_ms");
  if (min_ms && max_ms && *min_ms > *max_ms)
    bad("min_ms", fmt::format("min_ms ({}) is above max_ms ({})", *min_ms, *max_ms));

  const auto sources = this->sources();
  const auto spans = all_spans(sources);
  std::vector<TraceSummary> matched;
  for (const auto& [id, list] : by_trace(spans)) {
    TraceSummary t = summarize(id, list);
    t.root_name = std::string(t.json.at("root").get_string());
    if (passes(t, p, status, min_ms, max_ms)) matched.push_back(std::move(t));
  }
  std::sort(matched.begin(), matched.end(),
            [](const TraceSummary& a, const TraceSummary& b) { return a.start > b.start; });
  json::array traces;
  for (size_t i = 0; i < matched.size() && i < limit; ++i) traces.push_back(std::move(matched[i].json));
  json::array names;
  for (const auto& s : sources)
    if (s.spans) names.emplace_back(s.name);
  return json::object{{"traces", std::move(traces)},
                      {"matched", matched.size()},
                      {"spans_held", spans.size()},
                      {"limit", limit},
                      {"sources", std::move(names)}};
}

std::optional<boost::json::object> TelemetryApi::trace_json(std::string_view hex) const {
  auto id = parse_trace_id(hex);
  if (!id)
    bad("trace_id", fmt::format("a trace id is 32 hex digits, not all zero, not '{}'", hex));
  const auto sources = this->sources();  // the spans point at their source's name
  const auto spans = all_spans(sources);
  std::vector<const SourcedSpan*> list;
  for (const auto& s : spans)
    if (s.span.trace_id == *id) list.push_back(&s);
  if (list.empty()) return std::nullopt;
  TraceSummary summary = summarize(*id, list);
  json::array out;
  for (auto [i, depth] : waterfall_order(list)) {
    const auto& sp = list[i]->span;
    json::array events;
    for (const auto& e : sp.events)
      events.push_back(json::object{{"name", e.name},
                                    {"timeUnixNano", std::to_string(e.time_unix_nano)},
                                    {"offset_ms", ms_between(summary.start, e.time_unix_nano)},
                                    {"attributes", e.attributes}});
    json::object o{{"source", *list[i]->source},
                   {"traceId", core::to_hex(sp.trace_id)},
                   {"spanId", core::to_hex(sp.span_id)},
                   {"parentSpanId", is_zero(sp.parent_span_id) ? json::value()
                                                               : json::value(core::to_hex(sp.parent_span_id))},
                   {"name", sp.display_name()},
                   {"kind", static_cast<int>(sp.kind)},
                   {"kind_name", kind_name(sp.kind)},
                   {"startTimeUnixNano", std::to_string(sp.start_unix_nano)},
                   {"endTimeUnixNano", std::to_string(sp.end_unix_nano)},
                   {"offset_ms", ms_between(summary.start, sp.start_unix_nano)},
                   {"duration_ms", ms_between(sp.start_unix_nano, sp.end_unix_nano)},
                   {"depth", depth},
                   {"status", json::object{{"code", static_cast<int>(sp.status)},
                                           {"message", sp.status_message}}},
                   {"attributes", sp.all_attributes()},
                   {"events", std::move(events)}};
    out.push_back(std::move(o));
  }
  summary.json["spans"] = std::move(out);
  return std::move(summary.json);
}

boost::json::object TelemetryApi::logs_json(std::string_view query) const {
  auto p = parameters(query, {"after", "level", "limit"});
  const size_t limit = limit_param(p, kDefaultLogLimit, kMaxLogLimit);
  const telemetry::Severity min_level = level_param(p);
  const auto after = parse_cursor(param(p, "after"));

  struct Sourced {
    const std::string* source;
    telemetry::LogBuffer::Entry entry;
  };
  const auto sources = this->sources();
  std::vector<Sourced> records;
  std::string cursor;
  for (const auto& s : sources) {
    if (s.logs == nullptr) continue;
    uint64_t from = 0;
    if (auto it = after.find(s.name); it != after.end()) from = it->second;
    else if (auto all = after.find(""); all != after.end()) from = all->second;
    uint64_t next = from;
    for (auto& e : s.logs->since(from, s.logs->capacity())) {
      next = std::max(next, e.seq);
      if (static_cast<int>(e.record.severity) >= static_cast<int>(min_level))
        records.push_back({&s.name, std::move(e)});
    }
    cursor += fmt::format("{}{}:{}", cursor.empty() ? "" : ",", s.name, next);
  }
  std::stable_sort(records.begin(), records.end(), [](const Sourced& a, const Sourced& b) {
    return a.entry.record.time_unix_nano < b.entry.record.time_unix_nano;
  });
  const bool truncated = records.size() > limit;
  json::array out;
  for (size_t i = truncated ? records.size() - limit : 0; i < records.size(); ++i) {
    const auto& [source, e] = records[i];
    const auto& r = e.record;
    const bool traced = std::any_of(r.trace_id.begin(), r.trace_id.end(), [](uint8_t b) { return b; });
    out.push_back(json::object{
        {"seq", e.seq},
        {"source", *source},
        {"time_unix_nano", std::to_string(r.time_unix_nano)},
        {"time_ms", static_cast<double>(r.time_unix_nano / 1000) / 1e3},
        {"level", lower(telemetry::severity_text(r.severity))},
        {"severity_number", static_cast<int>(r.severity)},
        {"message", r.body},
        {"attributes", r.attributes},
        {"trace_id", traced ? json::value(core::to_hex(r.trace_id)) : json::value()},
        {"span_id", is_zero(r.span_id) ? json::value() : json::value(core::to_hex(r.span_id))}});
  }
  return json::object{{"records", std::move(out)}, {"cursor", cursor}, {"truncated", truncated}};
}

void TelemetryApi::set_segments(std::function<boost::json::object()> segments) {
  segments_ = std::move(segments);
}

boost::json::object TelemetryApi::metrics_json() { return metrics_->sample_and_render(sources()); }

void TelemetryApi::route(const http::ServerRequest& req, const http::Reply& reply,
                         const RequestGuard& guard) {
  const std::string_view path = req.path();
  if (req.method != "GET" && req.method != "HEAD") return reply.send(method_not_allowed(req, "GET"));
  if (auto e = guard.check_key(req)) return reply.send(error_response(*e));
  if (path == kTraces) return reply.send(json_response(200, traces_json(req.query())));
  if (path.starts_with(std::string(kTraces) + "/")) {
    std::string_view id = path.substr(kTraces.size() + 1);
    if (id.find('/') == std::string_view::npos) {
      auto trace = trace_json(id);
      if (!trace)
        return reply.send(not_found(fmt::format(
            "no span of trace {} is held (the buffers keep the most recent spans only)", id)));
      return reply.send(json_response(200, *trace));
    }
  }
  if (path == kLogs) return reply.send(json_response(200, logs_json(req.query())));
  if (path == kMetrics) return reply.send(json_response(200, metrics_json()));
  if (path == kSegments && segments_) return reply.send(json_response(200, segments_()));
  if (path == kSegments)
    return reply.send(not_found("no distributed run is watched (serve --segments URL... or "
                                "--segments-prometheus URL)"));
  reply.send(not_found(fmt::format("no route for {} {}", req.method, path)));
}

}  // namespace trafficsim::control
