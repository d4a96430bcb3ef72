#pragma once
// Worker internals (namespace detail; included by the worker's .cpp files only, the engine sees
// load/worker.hpp): the state one worker keeps per connection and per stream. Every object here
// is owned by one worker thread and touched by no other; nothing allocates once set up (the
// backlog ring and the in-flight list have fixed or intrusive storage, buffers keep capacity).
//
// The worker's files: worker.hpp (the public part: Worker, WorkerSetup, StreamShare,
// plan_shares), worker_impl.hpp (the worker's state and steps), worker.cpp (the loop: set-up,
// scheduling, timers, stopping), worker_connection.cpp (a connection's lifecycle), this header
// (per-connection and per-stream types), worker_transport.* (plain/TLS bytes),
// worker_rendering.* (request bytes), worker_request_mix.* (template choice, status classes).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/arrival_schedule.hpp"
#include "core/token_bucket.hpp"
#include "http/response_parser.hpp"
#include "http/url.hpp"
#include "load/plan.hpp"
#include "load/worker.hpp"
#include "load/worker_rendering.hpp"
#include "load/worker_request_mix.hpp"
#include "load/worker_transport.hpp"

namespace trafficsim::load::detail {

// A fixed-capacity FIFO ring: the backlog. Capacity is set once; push/pop never allocate.
template <typename T>
class Ring {
 public:
  void init(size_t capacity) { buf_.assign(std::max<size_t>(capacity, 1), T{}); }
  bool empty() const { return size_ == 0; }
  bool full() const { return size_ == buf_.size(); }
  size_t size() const { return size_; }
  void push_back(const T& v) {
    buf_[(head_ + size_) % buf_.size()] = v;
    ++size_;
  }
  void push_front(const T& v) {
    head_ = (head_ + buf_.size() - 1) % buf_.size();
    buf_[head_] = v;
    ++size_;
  }
  T pop_front() {
    T v = buf_[head_];
    head_ = (head_ + 1) % buf_.size();
    --size_;
    return v;
  }

 private:
  std::vector<T> buf_;
  size_t head_ = 0, size_ = 0;
};

// An arrival waiting for (or assigned to) a connection.
struct Pending {
  uint64_t k = 0;
  int64_t intended_ns = 0;  // CLOCK_MONOTONIC; closed model: when it was assigned
  uint32_t tmpl = 0;
  bool resend = false;  // re-sent after the server closed a reused connection under it
};

struct StreamState;

struct Connection {
  enum class State : uint8_t {
    free,
    connecting,
    handshaking,
    idle,
    writing,
    reading,
    waiting_retry
  };
  State state = State::free;
  Transport io;
  StreamState* stream = nullptr;
  size_t addr_index = 0;
  bool has_request = false;  // a Pending is assigned (connecting/handshaking/writing/reading)
  Pending req;
  int64_t sent_ns = 0;  // actual send (or connection start for a fresh connection)
  size_t write_off = 0;
  uint32_t served = 0;  // responses received on this connection
  bool response_started = false;
  uint64_t response_bytes = 0;
  int64_t retry_at_ns = 0;  // closed model: when to reconnect
  int64_t backoff_ns = 0;
  http::ResponseParser parser;
  std::string body;  // kept only when the stream keeps bodies; capacity reused
  // What write_request sends: the template's pre-rendered bytes, or `out` for a dynamic one.
  const std::string* wbuf = nullptr;
  std::string out;         // dynamic requests: the request rendered for req.k; capacity reused
  bool out_valid = false;  // `out` holds the rendering of the current request
  // Tracing: the ids the current request's traceparent carries; sampled ones become spans.
  std::array<uint8_t, 16> trace_id{};
  std::array<uint8_t, 8> span_id{};
  bool sampled = false;
  // In-flight FIFO links (per stream, ordered by sent_ns).
  Connection* prev = nullptr;
  Connection* next = nullptr;
  bool in_flight = false;
  Connection* next_idle = nullptr;
};

// Intrusive doubly-linked FIFO of in-flight connections: O(1) push, unlink, front.
struct InflightList {
  Connection* head = nullptr;
  Connection* tail = nullptr;
  size_t size = 0;
  void push_back(Connection* c) {
    c->prev = tail;
    c->next = nullptr;
    if (tail)
      tail->next = c;
    else
      head = c;
    tail = c;
    c->in_flight = true;
    ++size;
  }
  void unlink(Connection* c) {
    if (!c->in_flight) return;
    if (c->prev)
      c->prev->next = c->next;
    else
      head = c->next;
    if (c->next)
      c->next->prev = c->prev;
    else
      tail = c->prev;
    c->prev = c->next = nullptr;
    c->in_flight = false;
    --size;
  }
};

// One stream as one worker serves it: its share, schedule, requests, backlog and connections.
struct StreamState {
  const Stream* stream = nullptr;
  size_t index = 0;
  uint64_t key = 0;  // core::stream_key(name)
  StreamShare share;
  const std::vector<http::ResolvedAddress>* addresses = nullptr;
  size_t preferred_addr = 0;  // last address that connected
  std::optional<core::ArrivalSchedule> schedule;
  bool schedule_done = false;
  RequestMix mix;
  StatusClassifier statuses;
  std::vector<RenderedRequest> rendered;  // parallel to stream->requests
  size_t dynamic_reserve = 0;  // per-connection buffer reserve for dynamic templates
  Ring<Pending> backlog;
  std::optional<core::TokenBucket> bucket;
  int conn_count = 0;  // open or opening connections
  Connection* idle = nullptr;
  InflightList inflight;
  int64_t timeout_ns = 0;
  uint64_t closed_seq = 0;  // closed model: local sequence number
  std::string host_header;
  std::string sni_host;
  bool tls = false;
};

}  // namespace trafficsim::load::detail
