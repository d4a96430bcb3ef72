#pragma once
// One worker = one thread = one epoll loop owning its connections and statistics.
//
// Hot path, per request in steady state: one send() (or SSL_write) of a pre-rendered request
// (a templated request is rendered into its connection's own buffer first, capacity reused),
// one recv() into the worker's shared buffer, incremental parse, record into worker-owned
// histograms. Sockets are registered once, edge-triggered, for read and write, so no epoll_ctl
// happens per request; wake-ups come from epoll_pwait2 with a nanosecond timeout (the next
// intended send time), so no kernel timer exists per request either. Timeouts are checked by one
// sweep over a per-stream FIFO of in-flight requests (ordered by send time, one timeout per
// stream). Nothing here allocates per request or takes a lock another worker takes.
//
// This header is what the engine needs. The worker's internals are private headers beside it,
// in namespace detail (worker_impl.hpp lists the files); nothing outside load/worker*.cpp
// includes them.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http/url.hpp"
#include "load/plan.hpp"
#include "load/stats.hpp"

typedef struct ssl_ctx_st SSL_CTX;

namespace trafficsim::load {

// Which workers serve a stream, and this worker's share of it.
struct StreamShare {
  bool serves = false;
  uint64_t first_k = 0;  // first arrival index this worker owns
  uint64_t stride = 1;   // arrival index stride (segments x workers of the stream)
  int connections = 0;   // this worker's connection cap (open) or count (closed)
  size_t backlog = 0;    // this worker's backlog bound
  double bucket_capacity = 0, bucket_refill_per_s = 0;  // hard cap share, 0 = none
};

struct WorkerSetup {
  const Plan* plan = nullptr;
  int index = 0;
  std::vector<StreamShare> shares;                            // parallel to plan->streams
  std::vector<std::vector<http::ResolvedAddress>> addresses;  // parallel to plan->streams
  SSL_CTX* ssl_ctx = nullptr;                                 // shared, thread-safe use
  int64_t start_ns = 0;                                       // CLOCK_MONOTONIC of t = 0
  int64_t end_ns = 0;                                         // issuing ends here
};

// Computes each worker's share of each stream: streams with a hard cap go to one worker (the
// bucket is then exact); other streams to min(threads, connections) workers.
std::vector<std::vector<StreamShare>> plan_shares(const Plan& plan, int threads);

class Worker {
 public:
  explicit Worker(WorkerSetup setup);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void run();   // the thread body; returns when the plan is done or stopped and drained
  void stop();  // thread-safe, async-signal-safe enough (atomic store + eventfd write)

  // Merges everything recorded since the last drain into `into` and clears it. Thread-safe:
  // the mutex is this worker's own and only the engine thread contends for it.
  void drain(RunStats& into);
  // Tracing: appends the client span records since the last call to `into` and adds what could
  // not be kept to *dropped. Same mutex as drain().
  void drain_spans(std::vector<ClientSpanRecord>& into, uint64_t* dropped);
  // A few distinct error messages seen (bounded), for the summary.
  std::vector<std::string> error_samples();
  // CLOCK_MONOTONIC of the first request this worker wrote, 0 when none; read after run()
  // returned (the thread's join orders it).
  int64_t first_send_ns() const;


 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trafficsim::load
