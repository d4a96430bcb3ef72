#pragma once
// Worker internals (included by the worker's .cpp files only; the engine sees load/worker.hpp):
// the state of one worker and the steps of its loop. One thread owns all of it; only
// `stop_requested`, the wake eventfd and the mailbox (under mailbox_mu, which only this worker
// and the engine thread take) are touched from outside.
//
// The steps live in two files: worker.cpp (set-up, open-model scheduling, timers, stopping, the
// epoll loop) and worker_connection.cpp (a connection's lifecycle: connect, TLS, send, receive,
// complete, fail, end). Per request in steady state nothing here allocates.
#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "load/stats.hpp"
#include "load/worker.hpp"
#include "load/worker_connection.hpp"

namespace trafficsim::load {
namespace detail {

// What becomes of a connection that ends (its request, if any, already accounted for).
enum class Reconnect : uint8_t {
  at_once,        // closed model: open a new connection now (the peer closed, or a failure)
  after_backoff,  // closed model: after a growing back-off (the connection could not be made)
  never,          // close it in either model (a protocol violation)
};

int64_t to_us(int64_t ns);  // a duration in ns as whole microseconds, 0 when negative

}  // namespace detail

struct Worker::Impl {
  using Connection = detail::Connection;
  using Pending = detail::Pending;
  using StreamState = detail::StreamState;
  using Reconnect = detail::Reconnect;

  WorkerSetup setup;
  const Plan& plan;
  int epfd = -1;
  int wake_fd = -1;
  std::atomic<bool> stop_requested{false};
  bool issuing = true;
  std::vector<StreamState> streams;
  std::deque<Connection> pool;  // stable addresses; grows only while connections open
  std::vector<Connection*> free_list;
  std::vector<Connection*> graveyard;   // closed during this batch; reusable after it
  std::vector<Connection*> retry_list;  // closed model: connections waiting to reconnect
  std::vector<Connection*> retry_scratch;
  std::vector<char> rbuf;
  RunStats stats;    // since last flush (worker-owned)
  RunStats mailbox;  // handed to the engine under mailbox_mu
  std::mutex mailbox_mu;
  std::vector<std::string> errors_seen;  // bounded, guarded by mailbox_mu
  int64_t next_flush_ns = 0;
  int64_t first_send_ns = 0;  // CLOCK_MONOTONIC of the first request written; 0: none yet
  bool closed_model = false;
  bool hook = false;          // plan.on_request is set
  std::string body_scratch;   // dynamic requests: the body, rendered before its length is sent
  std::string event_scratch;  // on_request: a rendering for a request that was never written
  // Tracing (plan.trace_ratio > 0): client span records since the last flush (worker-owned) and
  // the ones handed to the engine (under mailbox_mu); capacity is kept across drains.
  bool tracing = false;
  uint64_t trace_counter = 0;
  int64_t unix_offset_ns = 0;  // Unix time minus CLOCK_MONOTONIC, at set-up
  std::vector<ClientSpanRecord> spans, spans_mailbox;
  uint64_t spans_dropped = 0, spans_dropped_mailbox = 0;

  explicit Impl(WorkerSetup s) : setup(std::move(s)), plan(*setup.plan) {}

  EndpointStats& endpoint(const Connection& c) {
    return stats.streams[c.stream->index].endpoints[c.req.tmpl];
  }

  // ---- set-up (worker.cpp) ------------------------------------------------------------------
  void init();
  void init_stream(size_t i);
  // Closed model: every connection attempt carries its request from the start, so a refused
  // connection is counted as a request that failed to connect, as wrk counts it.
  bool wait_for_start();
  void start_closed_connections();
  // Closed model: gives c the stream's next arrival index (k = seq * stride + first_k).
  void assign_closed(Connection& c, int64_t now);
  // Keeps a few distinct error messages for the summary (bounded; takes mailbox_mu).
  void note_error(const std::string& msg);

  // ---- connection lifecycle (worker_connection.cpp) -----------------------------------------
  // A free connection slot for the stream (reused, or a new one in the pool).
  Connection* acquire(StreamState& st);
  // Starts a non-blocking connect to the connection's current address, falling through the
  // resolved list in order. Returns false when no address could even start connecting.
  bool open_socket(Connection& c);
  // Closes the connection and gives its slot back to the stream.
  void close_conn(Connection& c);
  void remove_idle(StreamState& st, Connection* c);
  // The one way a connection ends. Closed model while issuing: the stream keeps its connection
  // count, so the slot reconnects (at once or after the back-off); otherwise the connection
  // closes and the freed slot may take the stream's next waiting arrival.
  void end_connection(Connection& c, int64_t now, Reconnect how);
  // A TCP connection is up: start TLS or send.
  void on_connected(Connection& c, int64_t now);
  void continue_handshake(Connection& c, int64_t now);
  // The connection is ready for a request.
  void became_usable(Connection& c, int64_t now);
  void connect_failed(Connection& c, int64_t now);

  // ---- sending (worker_connection.cpp) ------------------------------------------------------
  // The request line of c's current request (without CRLF), for on_request.
  std::string_view request_line(const Connection& c);
  // Calls plan.on_request for c's current request (only when `hook`).
  void emit(const Connection& c, std::string_view outcome, int status, int64_t now);
  // Assigns a pending arrival to a connection (counted as a request from now on).
  void assign(Connection& c, const Pending& p, int64_t now);
  // Renders (dynamic templates) and starts sending c's request; the timeout runs from here.
  void write_request(Connection& c, int64_t now);
  // Tracing: fresh ids for c's request and its traceparent header in c.out.
  void add_traceparent(Connection& c, const detail::RenderedRequest& r);
  // Tracing: a sampled request's client span record (outcome as in ClientSpanRecord).
  void record_span(Connection& c, int64_t now, int status, uint8_t outcome);
  void continue_write(Connection& c, int64_t now);

  // ---- receiving (worker_connection.cpp) ----------------------------------------------------
  // Reads and parses what arrived. `events`: the epoll events of this wake-up (a peer close
  // already reported there must still be read, whatever the size of the last read).
  void on_readable(Connection& c, uint32_t events, int64_t now);
  // Feeds bytes to the parser. Returns false when the connection is no longer readable here.
  bool consume(Connection& c, const char* data, size_t len, int64_t now);
  // The peer closed the connection (read returned end of stream).
  void on_eof(Connection& c, int64_t now);
  // A reused keep-alive connection closed under a request before any byte: the same arrival
  // is sent again once on a fresh connection (not counted twice).
  void retry_elsewhere(Connection& c, int64_t now);
  // A read, write or parse failure: the request (if any) is an errors_other.
  void transport_failed(Connection& c, int64_t now, const std::string& why);
  // Ends c's request (if any) as a failure counted in `counter` (an EndpointStats error
  // field), reported to on_request as `outcome`, and ends the connection.
  void request_failed(Connection& c, int64_t now, const std::string& why,
                      uint64_t EndpointStats::*counter, std::string_view outcome);
  // A whole response arrived for c's request.
  void complete(Connection& c, int64_t now, bool peer_closed = false);
  // The connection can take a request: give it the next one, or park it.
  void make_idle(Connection& c, int64_t now);

  // ---- open-model scheduling (worker.cpp) ---------------------------------------------------
  // Moves due arrivals into the backlog (dropping past its bound) and sends what can be sent.
  void issue_due(StreamState& st, int64_t now);
  int64_t next_intended_ns(StreamState& st);
  // Hands backlog arrivals to idle or new connections, within the connection cap and bucket.
  void dispatch(StreamState& st, int64_t now);

  // ---- timers (worker.cpp) ------------------------------------------------------------------
  // Times out the oldest in-flight requests of each stream (FIFO by send time).
  void sweep_timeouts(int64_t now);
  // Closed model: reopens connections whose retry time has come; lowers *next_wake to the next.
  void run_reconnects(int64_t now, int64_t* next_wake);

  // ---- stopping (worker.cpp) ----------------------------------------------------------------
  // The end (or a stop): drops waiting arrivals, closes idle and request-less connections; in-
  // flight requests are awaited.
  void stop_issuing();
  bool anything_in_flight() const;
  // Hands what was recorded since the last flush to the mailbox the engine drains.
  void flush();

  // ---- the loop (worker.cpp) ----------------------------------------------------------------
  void handle_event(Connection& c, uint32_t events, int64_t now);
  void run();
};

}  // namespace trafficsim::load
