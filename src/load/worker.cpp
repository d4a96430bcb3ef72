// The worker's event loop: set-up, open-model scheduling, timers, stopping and the epoll loop.
// A connection's own steps (connect, TLS, send, receive, complete, fail) are in
// worker_connection.cpp; the state both work on is declared in worker_impl.hpp.
#include "load/worker.hpp"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "load/worker_impl.hpp"

namespace trafficsim::load {

namespace {

constexpr size_t kReadBufferBytes = 64 * 1024;
constexpr int kMaxEvents = 512;
constexpr int64_t kFlushIntervalNs = 100'000'000;  // hand stats to the engine 10x a second
constexpr size_t kMaxErrorSamples = 8;
// Dynamic requests: buffers are reserved up to the templates' bound at set-up, but no more than
// this per buffer (a larger rendering grows the buffer once; its capacity is then reused).
constexpr size_t kMaxDynamicReserve = 1 << 20;

}  // namespace

void Worker::Impl::init() {
  closed_model = plan.model == LoadModel::closed;
  hook = static_cast<bool>(plan.on_request);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  // wake_fd exists since the constructor; a stop() before this point left it readable, and
  // epoll reports that at once.
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;
  epoll_ctl(epfd, EPOLL_CTL_ADD, wake_fd, &ev);
  rbuf.resize(kReadBufferBytes);
  tracing = plan.trace_ratio > 0;
  if (tracing) {
    unix_offset_ns = static_cast<int64_t>(core::unix_now_ns()) - core::monotonic_now_ns();
    trace_counter = core::mix64(plan.seed ^ (static_cast<uint64_t>(setup.index) << 48) ^
                                static_cast<uint64_t>(unix_offset_ns));
    spans.reserve(1024);
    spans_mailbox.reserve(1024);
  }
  stats.streams.resize(plan.streams.size());
  mailbox.streams.resize(plan.streams.size());
  streams.resize(plan.streams.size());
  for (size_t i = 0; i < plan.streams.size(); ++i) init_stream(i);
  next_flush_ns = core::monotonic_now_ns() + kFlushIntervalNs;
}

void Worker::Impl::init_stream(size_t i) {
  const Stream& s = plan.streams[i];
  StreamState& st = streams[i];
  st.stream = &s;
  st.index = i;
  st.key = core::stream_key(s.name);
  st.share = setup.shares[i];
  st.addresses = &setup.addresses[i];
  st.timeout_ns = s.timeout.count();
  st.host_header = s.url.host_header();
  st.sni_host = s.url.host;
  st.tls = s.url.tls();
  st.mix = detail::RequestMix(s, plan.seed, st.key);
  st.statuses = detail::StatusClassifier(s.requests);
  for (const auto& t : s.requests) {
    if (!t.dynamic) {
      st.rendered.push_back(detail::prepare_static(t, st.host_header));
      continue;
    }
    st.rendered.push_back(detail::prepare_dynamic(t, st.host_header));
    size_t reserve = std::min(st.rendered.back().max_size, kMaxDynamicReserve);
    st.dynamic_reserve = std::max(st.dynamic_reserve, reserve);
    // (reserve never shrinks: each buffer ends up with the largest bound)
    body_scratch.reserve(std::min(t.dynamic->body.max_size(), kMaxDynamicReserve));
    if (hook) event_scratch.reserve(reserve);
  }
  for (auto* target : {&stats.streams[i], &mailbox.streams[i]}) {
    target->endpoints.resize(s.requests.size());
    for (auto& e : target->endpoints) e.counters.assign(s.counter_names.size(), 0);
  }
  if (!st.share.serves) return;
  st.backlog.init(st.share.backlog);
  if (st.share.bucket_capacity > 0)
    st.bucket.emplace(st.share.bucket_capacity, st.share.bucket_refill_per_s);
  if (!closed_model) {
    core::GapJitter jitter;
    if (s.gap_jitter_s) jitter = {s.gap_jitter_s->first, s.gap_jitter_s->second};
    st.schedule.emplace(s.profile, s.process, plan.seed, st.key, st.share.first_k,
                        st.share.stride, jitter);
  }
}

void Worker::Impl::start_closed_connections() {
  int64_t now = core::monotonic_now_ns();
  for (auto& st : streams) {
    if (!st.share.serves) continue;
    for (int i = 0; i < st.share.connections; ++i) {
      Connection* c = acquire(st);
      ++st.conn_count;
      assign_closed(*c, now);
      if (!open_socket(*c)) connect_failed(*c, now);
    }
  }
}

void Worker::Impl::assign_closed(Connection& c, int64_t now) {
  StreamState& st = *c.stream;
  uint64_t k = st.closed_seq++ * st.share.stride + st.share.first_k;
  assign(c, Pending{k, now, st.mix.choose(k)}, now);
}

void Worker::Impl::note_error(const std::string& msg) {
  std::lock_guard lock(mailbox_mu);
  if (errors_seen.size() >= kMaxErrorSamples) return;
  if (std::find(errors_seen.begin(), errors_seen.end(), msg) != errors_seen.end()) return;
  errors_seen.push_back(msg);
}

void Worker::Impl::issue_due(StreamState& st, int64_t now) {
  if (!st.schedule || st.schedule_done) return;
  auto& ep = stats.streams[st.index].endpoints;
  for (;;) {
    auto a = st.schedule->peek();
    if (!a) {
      st.schedule_done = true;
      break;
    }
    int64_t intended = setup.start_ns + static_cast<int64_t>(a->intended_s * 1e9);
    if (intended > now || intended >= setup.end_ns) {
      if (intended >= setup.end_ns) st.schedule_done = true;
      break;
    }
    st.schedule->next();
    Pending p{a->k, intended, st.mix.choose(a->k)};
    if (st.backlog.full()) {
      ++ep[p.tmpl].dropped;
    } else {
      st.backlog.push_back(p);
    }
    // Send as we go so a long overdue batch does not sit in the backlog needlessly.
    if (st.backlog.size() >= 64) dispatch(st, now);
  }
  dispatch(st, now);
}

int64_t Worker::Impl::next_intended_ns(StreamState& st) {
  if (!st.schedule || st.schedule_done) return INT64_MAX;
  auto a = st.schedule->peek();
  if (!a) return INT64_MAX;
  return setup.start_ns + static_cast<int64_t>(a->intended_s * 1e9);
}

void Worker::Impl::dispatch(StreamState& st, int64_t now) {
  if (closed_model || !st.share.serves) return;
  while (!st.backlog.empty()) {
    Connection* c = st.idle;
    if (!c && st.conn_count >= st.share.connections) return;
    if (st.bucket && !st.bucket->try_take(std::chrono::nanoseconds(now))) return;
    Pending p = st.backlog.pop_front();
    if (c) {
      st.idle = c->next_idle;
      c->next_idle = nullptr;
      assign(*c, p, now);
      write_request(*c, now);
      continue;
    }
    c = acquire(st);
    ++st.conn_count;
    assign(*c, p, now);
    if (!open_socket(*c)) {
      connect_failed(*c, now);
    }
  }
}

void Worker::Impl::sweep_timeouts(int64_t now) {
  for (auto& st : streams) {
    while (st.inflight.head && st.inflight.head->sent_ns + st.timeout_ns <= now) {
      Connection& c = *st.inflight.head;
      auto& e = endpoint(c);
      ++e.errors_timeout;
      e.bytes_in += c.response_bytes;
      if (hook) emit(c, "timeout", 0, now);
      c.has_request = false;
      st.inflight.unlink(&c);
      end_connection(c, now, Reconnect::at_once);
    }
    dispatch(st, now);
  }
}

void Worker::Impl::run_reconnects(int64_t now, int64_t* next_wake) {
  if (!closed_model || !issuing || retry_list.empty()) return;
  retry_scratch.swap(retry_list);
  for (Connection* c : retry_scratch) {
    if (c->state != Connection::State::waiting_retry) continue;
    if (c->retry_at_ns > now) {
      *next_wake = std::min(*next_wake, c->retry_at_ns);
      retry_list.push_back(c);
      continue;
    }
    c->state = Connection::State::connecting;
    assign_closed(*c, now);
    if (!open_socket(*c)) connect_failed(*c, now);
  }
  retry_scratch.clear();
  for (Connection* c : retry_list) *next_wake = std::min(*next_wake, c->retry_at_ns);
}

void Worker::Impl::stop_issuing() {
  issuing = false;
  for (auto& st : streams) {
    auto& ep = stats.streams[st.index].endpoints;
    while (!st.backlog.empty()) ++ep[st.backlog.pop_front().tmpl].dropped;
    // idle connections are no longer needed
    while (st.idle) {
      Connection* c = st.idle;
      st.idle = c->next_idle;
      c->next_idle = nullptr;
      c->state = Connection::State::connecting;  // not idle any more; close_conn skips the list
      close_conn(*c);
    }
  }
  for (auto& c : pool) {
    if (c.state == Connection::State::waiting_retry ||
        ((c.state == Connection::State::connecting ||
          c.state == Connection::State::handshaking) &&
         !c.has_request)) {
      close_conn(c);
    }
  }
}

bool Worker::Impl::anything_in_flight() const {
  for (const auto& st : streams)
    if (st.inflight.size > 0) return true;
  return false;
}

void Worker::Impl::flush() {
  std::lock_guard lock(mailbox_mu);
  mailbox.merge(stats);
  stats.reset();
  if (tracing && !spans.empty()) {
    if (spans_mailbox.empty()) {
      spans.swap(spans_mailbox);
    } else {
      const size_t room = Plan::kMaxSpansPerDrain > spans_mailbox.size()
                              ? Plan::kMaxSpansPerDrain - spans_mailbox.size()
                              : 0;
      const size_t n = std::min(room, spans.size());
      spans_mailbox.insert(spans_mailbox.end(), spans.begin(), spans.begin() + n);
      spans_dropped += spans.size() - n;
      spans.clear();
    }
  }
  spans_dropped_mailbox += spans_dropped;
  spans_dropped = 0;
}

void Worker::Impl::handle_event(Connection& c, uint32_t events, int64_t now) {
  using S = Connection::State;
  if (c.state == S::free || c.state == S::waiting_retry) return;
  if (c.state == S::connecting) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.io.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
      const auto& addrs = *c.stream->addresses;
      note_error("connect " + addrs[c.addr_index % addrs.size()].text + ": " +
                 strerror(err ? err : ECONNREFUSED));
      c.io.close();
      ++c.addr_index;
      // fall through the address list before giving up
      if (c.addr_index % addrs.size() != c.stream->preferred_addr % addrs.size() &&
          open_socket(c)) {
        return;
      }
      connect_failed(c, now);
      return;
    }
    on_connected(c, now);
    return;
  }
  if (c.state == S::handshaking) {
    continue_handshake(c, now);
    return;
  }
  if (c.state == S::writing && (events & EPOLLOUT)) continue_write(c, now);
  if (c.state == S::free) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(c, events, now);
}

// Closed model: the connections open at t = 0 (the open model's schedule waits by itself).
// Sleeps in epoll on the wake fd, so stop() ends the wait; returns false when stopped.
bool Worker::Impl::wait_for_start() {
  epoll_event ev[1];
  for (;;) {
    if (stop_requested.load(std::memory_order_relaxed)) return false;
    int64_t wait = setup.start_ns - core::monotonic_now_ns();
    if (wait <= 0) return true;
    timespec ts{static_cast<time_t>(wait / 1'000'000'000),
                static_cast<long>(wait % 1'000'000'000)};
    int n = epoll_pwait2(epfd, ev, 1, &ts, nullptr);
    if (n < 0 && errno != EINTR) return true;
  }
}

void Worker::Impl::run() {
  init();
  if (closed_model && wait_for_start()) start_closed_connections();
  epoll_event events[kMaxEvents];
  for (;;) {
    int64_t now = core::monotonic_now_ns();
    if (issuing && (stop_requested.load(std::memory_order_relaxed) || now >= setup.end_ns)) {
      // Arrivals that fell due before the end (a late wake-up on a busy machine) are still
      // sent or counted as dropped: none may vanish from the accounting.
      if (!closed_model)
        for (auto& st : streams) issue_due(st, now);
      stop_issuing();
    }
    if (issuing && !closed_model) {
      for (auto& st : streams) issue_due(st, now);
    }
    sweep_timeouts(now);
    if (!issuing && !anything_in_flight()) break;
    if (now >= next_flush_ns) {
      flush();
      next_flush_ns = now + kFlushIntervalNs;
    }
    int64_t wake = next_flush_ns;
    if (issuing) {
      wake = std::min(wake, setup.end_ns);
      for (auto& st : streams) {
        wake = std::min(wake, next_intended_ns(st));
        if (st.bucket && !st.backlog.empty())
          wake = std::min<int64_t>(
              wake, st.bucket->next_available(std::chrono::nanoseconds(now)).count());
      }
      run_reconnects(now, &wake);
    }
    for (auto& st : streams)
      if (st.inflight.head) wake = std::min(wake, st.inflight.head->sent_ns + st.timeout_ns);
    int64_t wait = std::max<int64_t>(0, wake - now);
    timespec ts{static_cast<time_t>(wait / 1'000'000'000),
                static_cast<long>(wait % 1'000'000'000)};
    int n = epoll_pwait2(epfd, events, kMaxEvents, &ts, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      note_error(std::string("epoll: ") + strerror(errno));
      break;
    }
    now = n > 0 ? core::monotonic_now_ns() : now;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == nullptr) {
        uint64_t v;
        while (read(wake_fd, &v, sizeof v) > 0) {
        }
        continue;
      }
      handle_event(*static_cast<Connection*>(events[i].data.ptr), events[i].events, now);
    }
    for (Connection* c : graveyard) free_list.push_back(c);
    graveyard.clear();
  }
  // Anything still open (idle keep-alive connections) closes now.
  for (auto& c : pool) c.io.close();
  flush();
}
Worker::Worker(WorkerSetup setup) : impl_(std::make_unique<Impl>(std::move(setup))) {
  // Created here, on the engine's thread, before the worker thread starts: stop() may run at
  // any time after construction and must find it (it raced with init() before: seen by TSan).
  impl_->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

Worker::~Worker() {
  if (impl_->epfd >= 0) ::close(impl_->epfd);
  if (impl_->wake_fd >= 0) ::close(impl_->wake_fd);
}

void Worker::run() {
  impl_->run();
}

void Worker::stop() {
  impl_->stop_requested.store(true);
  if (impl_->wake_fd >= 0) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(impl_->wake_fd, &one, sizeof one);
  }
}

void Worker::drain(RunStats& into) {
  std::lock_guard lock(impl_->mailbox_mu);
  into.merge(impl_->mailbox);
  impl_->mailbox.reset();
}

void Worker::drain_spans(std::vector<ClientSpanRecord>& into, uint64_t* dropped) {
  std::lock_guard lock(impl_->mailbox_mu);
  if (into.empty()) {
    into.swap(impl_->spans_mailbox);  // the worker gets the caller's capacity back
  } else {
    into.insert(into.end(), impl_->spans_mailbox.begin(), impl_->spans_mailbox.end());
    impl_->spans_mailbox.clear();
  }
  *dropped += impl_->spans_dropped_mailbox;
  impl_->spans_dropped_mailbox = 0;
}

int64_t Worker::first_send_ns() const { return impl_->first_send_ns; }

std::vector<std::string> Worker::error_samples() {
  std::lock_guard lock(impl_->mailbox_mu);
  return impl_->errors_seen;
}

std::vector<std::vector<StreamShare>> plan_shares(const Plan& plan, int threads) {
  threads = std::max(1, threads);
  std::vector<std::vector<StreamShare>> out(threads, std::vector<StreamShare>(plan.streams.size()));
  const uint64_t n = plan.segment.count;
  for (size_t s = 0; s < plan.streams.size(); ++s) {
    const Stream& st = plan.streams[s];
    int conns = std::max(1, st.connections);
    int ws = st.hard_cap ? 1 : std::min(threads, conns);
    for (int j = 0; j < ws; ++j) {
      int w = static_cast<int>((j + s) % threads);
      StreamShare& sh = out[w][s];
      sh.serves = true;
      sh.first_k = plan.segment.index + n * static_cast<uint64_t>(j);
      sh.stride = n * static_cast<uint64_t>(ws);
      sh.connections = conns / ws + (j < conns % ws ? 1 : 0);
      size_t b = std::max<size_t>(1, st.backlog);
      sh.backlog = std::max<size_t>(1, b / ws + (static_cast<size_t>(j) < b % ws ? 1 : 0));
      if (st.hard_cap) {
        sh.bucket_capacity = st.hard_cap->capacity / static_cast<double>(n);
        sh.bucket_refill_per_s = st.hard_cap->refill_per_s / static_cast<double>(n);
      }
    }
  }
  return out;
}

}  // namespace trafficsim::load
