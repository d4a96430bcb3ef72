#pragma once
// A plan: what a run sends. One or more streams run at once; each stream has its own rate
// profile (open model) or connection count (closed model), request mix, timeout and caps.
// Everything random about arrival k of a stream derives from (seed, stream, k), so a plan cut
// into segments (k mod n) sends exactly what the whole plan would.
#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/arrival_schedule.hpp"
#include "core/rate_profile.hpp"
#include "core/text_template.hpp"
#include "http/url.hpp"

namespace trafficsim::load {

struct RunStats;

// The parts of a request that carry placeholders, rendered per request by the worker (into the
// connection's own buffer, so nothing is allocated once buffers have grown).
struct DynamicRequest {
  core::TextTemplate target;
  std::vector<std::pair<std::string, core::TextTemplate>> headers;  // every header, in order
  core::TextTemplate body;
};

struct RequestTemplate {
  std::string name;  // endpoint label in statistics, e.g. "GET /products"
  std::string method = "GET";
  std::string target = "/";  // path with query
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  double weight = 1.0;
  // Statuses that count as success; empty means every status below 400.
  std::vector<int> expected_statuses;
  // When set, target, headers and body are rendered per request from these; the strings above
  // then hold the source text (for reports and the plan hash).
  std::shared_ptr<const DynamicRequest> dynamic;
  // Failures on purpose (error injection): a response with an expected status is an "expected
  // failure", reported apart from successes; a status in success_statuses is a success; any
  // other outcome is an unexpected failure.
  bool injected = false;
  std::vector<int> success_statuses;  // injected templates only (e.g. 200 of an error endpoint)
  uint32_t group = 0;  // index into Stream::groups (ignored when the stream has no groups)

  bool expects(int status) const;
};

// How a stream picks the template of arrival k: a group by weight (at random, from the arrival's
// own draw), then within the group either at random by template weight or, with rotate, member
// k mod n (an exact rotation when the stream has a single group).
struct MixGroup {
  double weight = 1.0;
  bool rotate = false;
};

enum class LoadModel { open, closed };

struct HardCap {
  double capacity = 20;      // B: tokens the bucket holds (burst)
  double refill_per_s = 20;  // R: tokens added per second (sustained rate)
};

// Called on the worker thread that received a response, when the stream keeps bodies. Adds to
// `counters` (one slot per Stream::counter_names entry). Must not keep references to `body`.
using BodyExtractor = std::function<void(const RequestTemplate&, int status, std::string_view body,
                                         std::span<int64_t> counters)>;

struct Stream {
  std::string name = "default";  // tag, e.g. "baseline", "demo", "HACKATHON_TRAFFIC_NORMAL"
  http::Url url;                 // scheme, host and port; request targets come from `requests`
  core::RateProfile profile = core::RateProfile::constant(1, 1);  // open model only
  core::ArrivalProcess process = core::ArrivalProcess::uniform;
  int connections = 256;   // cap (open) or exact count (closed)
  size_t backlog = 10000;  // arrivals that may wait for a connection or a token
  std::chrono::nanoseconds timeout = std::chrono::seconds(5);  // from the actual send
  std::optional<HardCap> hard_cap;
  std::vector<RequestTemplate> requests;
  std::vector<MixGroup> groups;  // empty: one group of all templates, chosen by weight
  // Open model: every inter-arrival gap of the profile is lengthened by U(first, second)
  // seconds, drawn per arrival (seed 001's "random sleep between requests").
  std::optional<std::pair<double, double>> gap_jitter_s;
  bool keep_bodies = false;
  std::vector<std::string> counter_names;
  BodyExtractor extractor;
};

struct Segment {
  uint32_t index = 0;
  uint32_t count = 1;
  bool whole() const { return count == 1; }
};

// Parses "i/n" (0 <= i < n). On failure returns nullopt with a reason in *error.
std::optional<Segment> parse_segment(std::string_view text, std::string* error);

struct TlsOptions {
  bool verify = true;   // verify certificates and host names (--insecure turns it off)
  std::string ca_file;  // extra trust anchor (PEM); empty: the system store
};

// One finished request, for --verbose logging. The views are valid during the call only.
struct RequestEvent {
  size_t stream = 0;
  uint32_t tmpl = 0;
  uint64_t k = 0;
  int status = 0;                // 0 when no response arrived
  // "ok", "expected_failure", "status", "timeout", "connect", "closed_mid_response", "error"
  std::string_view outcome;
  int64_t latency_us = 0;        // corrected: from the intended send time
  int64_t service_us = 0;        // from the actual send
  std::string_view request_line; // e.g. "POST /hackathon/classify HTTP/1.1"
};

// One traced request (--trace-ratio): what a client span needs, recorded by the worker without
// allocating and turned into a span off the worker (the engine's drain hands them to
// Plan::on_spans). Times are Unix nanoseconds: the actual send and the end.
struct ClientSpanRecord {
  std::array<uint8_t, 16> trace_id{};
  std::array<uint8_t, 8> span_id{};
  int64_t start_unix_ns = 0;
  int64_t end_unix_ns = 0;
  uint32_t stream = 0;
  uint32_t tmpl = 0;
  int32_t status = 0;  // 0 when no response arrived
  // 0 ok, 1 expected failure, 2 unexpected status, 3 timeout, 4 connect, 5 closed mid-response,
  // 6 other error (RequestEvent's outcomes, in that order)
  uint8_t outcome = 0;
};

// A plan has two halves. What to send (model, streams, duration, seed, content_digest): the
// same on every machine running a segment of it, and what hash() covers (notes record how it
// was built and are not hashed). How this process runs its part (threads, segment, tls,
// on_request, on_interval): local choices that never change which requests exist, only which of
// them this process sends and how it connects and reports them.
struct Plan {
  // ---- what to send (covered by hash()) -------------------------------------------------------
  LoadModel model = LoadModel::open;
  std::vector<Stream> streams;
  std::chrono::nanoseconds duration = std::chrono::seconds(10);
  uint64_t seed = 1;
  // A digest of what templates draw from outside the plan (sample sets): part of hash(), so
  // segments run with different sample files are not merged as one plan. Empty: none.
  std::string content_digest;
  std::vector<std::string> notes;  // what plan building changed, e.g. a clamp to the hard cap

  // ---- how this process runs it (not in hash()) -----------------------------------------------
  int threads = 1;  // worker threads (each an epoll loop)
  Segment segment;  // which arrivals (k mod count == index) this process sends
  TlsOptions tls;   // certificate checks for https streams
  // --start-at: the wall-clock instant of t = 0. Engine::run waits for it (no spinning; stop()
  // and the stop fd end the wait), so segments on many machines given the same instant keep one
  // schedule: arrival k's intended send time is start_at + its planned offset. A process that
  // arrives late does not reschedule: what fell due is sent at once, late, its corrected latency
  // counted from its intended time. Closed model: the run starts at start_at and issuing ends at
  // start_at + duration, so a late process runs shorter. Unset: t = 0 is when run() starts.
  std::optional<std::chrono::system_clock::time_point> start_at;
  // Called on the worker threads (concurrently) after every finished request when set; for
  // --verbose only: it costs throughput.
  std::function<void(const RequestEvent&)> on_request;
  // Called on the engine's thread after every drain of the workers (every snapshot interval, and
  // once at the end) with what they recorded since the previous drain, per stream and template;
  // the run's cumulative statistics are the sum of these. Costs the workers nothing (the drain
  // happens anyway); for consumers of live statistics such as the client-side monitor source.
  std::function<void(const RunStats& interval)> on_interval;
  // Tracing (--trace-ratio): above 0 every request carries a W3C traceparent with fresh ids,
  // sampled (flag 01) for this share of them, else 00; each sampled request becomes a
  // ClientSpanRecord. on_spans is called on the engine's thread at each drain with the records
  // since the previous one (and how many a worker could not keep: at most kMaxSpansPerDrain per
  // worker and drain); it may move them out.
  double trace_ratio = 0;
  std::function<void(std::vector<ClientSpanRecord>& spans, uint64_t dropped)> on_spans;
  static constexpr size_t kMaxSpansPerDrain = 1 << 16;

  // Applies hard caps: a profile above its stream's cap is clamped (and a note says so).
  void apply_hard_caps();
  // Stable hash of what the plan sends (streams, profiles, requests, duration, seed, model);
  // independent of threads and segment, so every segment of one plan has the same hash.
  std::string hash() const;
};

}  // namespace trafficsim::load
