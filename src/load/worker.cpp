#include "load/worker.hpp"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <strings.h>

#include <algorithm>
#include <bitset>
#include <charconv>
#include <cstring>
#include <deque>
#include <optional>

#include "core/arrival_schedule.hpp"
#include "core/random.hpp"
#include "core/token_bucket.hpp"
#include "http/response_parser.hpp"

namespace trafficsim::load {

namespace {

constexpr size_t kReadBufferBytes = 64 * 1024;
constexpr int kMaxEvents = 512;
constexpr int64_t kFlushIntervalNs = 100'000'000;  // hand stats to the engine 10x a second
constexpr int64_t kReconnectMinNs = 10'000'000;    // closed model: back-off after connect errors
constexpr int64_t kReconnectMaxNs = 1'000'000'000;
constexpr size_t kMaxErrorSamples = 8;
// Dynamic requests: buffers are reserved up to the templates' bound at set-up, but no more than
// this per buffer (a larger rendering grows the buffer once; its capacity is then reused).
constexpr size_t kMaxDynamicReserve = 1 << 20;

int64_t to_us(int64_t ns) {
  return ns <= 0 ? 0 : ns / 1000;
}

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

struct Pending {
  uint64_t k = 0;
  int64_t intended_ns = 0;
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
  int fd = -1;
  SSL* ssl = nullptr;
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

struct Rendered {
  std::string bytes;  // the whole request, pre-rendered (static templates)
  bool head = false;
  size_t line_len = 0;  // static: length of the request line in `bytes` (without CRLF)
  // Dynamic templates (dyn set): rendered per request from dyn; what render_request decides
  // from the static strings is decided here once, from the header names and the method.
  const RequestTemplate* tmpl = nullptr;
  const DynamicRequest* dyn = nullptr;
  std::vector<char> skip_header;  // parallel to dyn->headers: Host/Content-Length are ours
  bool has_ua = false, has_ct = false;
  bool length_always = false;  // POST/PUT/PATCH send Content-Length even for an empty body
  size_t max_size = 0;         // bound of a rendering (for reserving buffers)
};

// Stream::groups, resolved to template indices.
struct GroupState {
  std::vector<uint32_t> members;   // templates with this group, in plan order
  std::vector<double> cumulative;  // cumulative template weights (unused with rotate)
  bool rotate = false;
};

struct StreamState {
  const Stream* stream = nullptr;
  size_t index = 0;
  uint64_t key = 0;
  StreamShare share;
  const std::vector<http::ResolvedAddress>* addresses = nullptr;
  size_t preferred_addr = 0;  // last address that connected
  std::optional<core::ArrivalSchedule> schedule;
  bool schedule_done = false;
  std::vector<double> cumulative_weights;
  std::vector<double> group_cumulative;  // cumulative group weights (Stream::groups non-empty)
  std::vector<GroupState> groups;
  std::vector<Rendered> rendered;
  // Per template, by status code: what the template expects (a success, or for an injected
  // template an expected failure) and, for injected templates, its successes. Bit lookups keep
  // classification O(1) however long an `expect: 200-499` list is.
  std::vector<std::bitset<600>> expected_bits, success_bits;
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

std::string render_request(const RequestTemplate& t, const std::string& host_header) {
  std::string out;
  out.reserve(128 + t.target.size() + t.body.size());
  out += t.method;
  out += ' ';
  out += t.target.empty() ? "/" : t.target;
  out += " HTTP/1.1\r\nHost: ";
  out += host_header;
  out += "\r\n";
  bool has_ua = false, has_ct = false;
  for (const auto& [k, v] : t.headers) {
    if (strcasecmp(k.c_str(), "user-agent") == 0) has_ua = true;
    if (strcasecmp(k.c_str(), "content-type") == 0) has_ct = true;
    if (strcasecmp(k.c_str(), "host") == 0 || strcasecmp(k.c_str(), "content-length") == 0)
      continue;  // we set these ourselves
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  if (!has_ua) out += "User-Agent: trafficsim\r\n";
  if (!t.body.empty() || t.method == "POST" || t.method == "PUT" || t.method == "PATCH") {
    if (!has_ct && !t.body.empty()) out += "Content-Type: application/octet-stream\r\n";
    out += "Content-Length: " + std::to_string(t.body.size()) + "\r\n";
  }
  out += "\r\n";
  out += t.body;
  return out;
}

Rendered prepare_dynamic(const RequestTemplate& t, const std::string& host_header) {
  Rendered r;
  r.head = t.method == "HEAD";
  r.tmpl = &t;
  r.dyn = t.dynamic.get();
  r.length_always = t.method == "POST" || t.method == "PUT" || t.method == "PATCH";
  size_t bound = t.method.size() + 1 + std::max<size_t>(1, r.dyn->target.max_size()) +
                 sizeof(" HTTP/1.1\r\nHost: \r\n") + host_header.size();
  for (const auto& [k, v] : r.dyn->headers) {
    bool skip = strcasecmp(k.c_str(), "host") == 0 || strcasecmp(k.c_str(), "content-length") == 0;
    if (strcasecmp(k.c_str(), "user-agent") == 0) r.has_ua = true;
    if (strcasecmp(k.c_str(), "content-type") == 0) r.has_ct = true;
    r.skip_header.push_back(skip ? 1 : 0);
    if (!skip) bound += k.size() + 4 + v.max_size();
  }
  bound += 64 + 64 + 2 + r.dyn->body.max_size();  // User-Agent, Content-Type/-Length, CRLF
  r.max_size = bound;
  return r;
}

}  // namespace

struct Worker::Impl {
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
  bool closed_model = false;
  bool hook = false;          // plan.on_request is set
  std::string body_scratch;   // dynamic requests: the body, rendered before its length is sent
  std::string event_scratch;  // on_request: a rendering for a request that was never written

  explicit Impl(WorkerSetup s) : setup(std::move(s)), plan(*setup.plan) {}

  // ---- set-up -------------------------------------------------------------------------------
  void init() {
    closed_model = plan.model == LoadModel::closed;
    hook = static_cast<bool>(plan.on_request);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;
    epoll_ctl(epfd, EPOLL_CTL_ADD, wake_fd, &ev);
    rbuf.resize(kReadBufferBytes);
    stats.streams.resize(plan.streams.size());
    mailbox.streams.resize(plan.streams.size());
    streams.resize(plan.streams.size());
    for (size_t i = 0; i < plan.streams.size(); ++i) {
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
      double acc = 0;
      for (const auto& t : s.requests) {
        acc += std::max(0.0, t.weight);
        st.cumulative_weights.push_back(acc);
        std::bitset<600> expected, success;
        for (int code = 100; code < 600; ++code) expected[code] = t.expects(code);
        for (int code : t.success_statuses)
          if (code >= 0 && code < 600) success[code] = true;
        st.expected_bits.push_back(expected);
        st.success_bits.push_back(success);
        if (t.dynamic) {
          st.rendered.push_back(prepare_dynamic(t, st.host_header));
          size_t reserve = std::min(st.rendered.back().max_size, kMaxDynamicReserve);
          st.dynamic_reserve = std::max(st.dynamic_reserve, reserve);
          // (reserve never shrinks: each buffer ends up with the largest bound)
          body_scratch.reserve(std::min(t.dynamic->body.max_size(), kMaxDynamicReserve));
          if (hook) event_scratch.reserve(reserve);
        } else {
          Rendered r;
          r.bytes = render_request(t, st.host_header);
          r.head = t.method == "HEAD";
          r.line_len = r.bytes.find("\r\n");
          r.tmpl = &t;
          st.rendered.push_back(std::move(r));
        }
      }
      if (!s.groups.empty()) {
        // Engine validated the groups: every index in range, none empty, some weight.
        double gacc = 0;
        st.groups.resize(s.groups.size());
        for (size_t g = 0; g < s.groups.size(); ++g) {
          gacc += std::max(0.0, s.groups[g].weight);
          st.group_cumulative.push_back(gacc);
          st.groups[g].rotate = s.groups[g].rotate;
        }
        for (size_t j = 0; j < s.requests.size(); ++j) {
          const auto& t = s.requests[j];
          if (t.group >= st.groups.size()) continue;
          GroupState& g = st.groups[t.group];
          double prev = g.cumulative.empty() ? 0.0 : g.cumulative.back();
          g.members.push_back(static_cast<uint32_t>(j));
          g.cumulative.push_back(prev + std::max(0.0, t.weight));
        }
      }
      for (auto* target : {&stats.streams[i], &mailbox.streams[i]}) {
        target->endpoints.resize(s.requests.size());
        for (auto& e : target->endpoints) e.counters.assign(s.counter_names.size(), 0);
      }
      if (!st.share.serves) continue;
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
    next_flush_ns = now_ns() + kFlushIntervalNs;
  }

  // Closed model: every connection attempt carries its request from the start, so a refused
  // connection is counted as a request that failed to connect, as wrk counts it.
  void start_closed_connections() {
    int64_t now = now_ns();
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

  void assign_closed(Connection& c, int64_t now) {
    StreamState& st = *c.stream;
    uint64_t k = st.closed_seq++ * st.share.stride + st.share.first_k;
    assign(c, Pending{k, now, choose_template(st, k)}, now);
  }

  // ---- connection lifecycle ----------------------------------------------------------------
  Connection* acquire(StreamState& st) {
    Connection* c;
    if (!free_list.empty()) {
      c = free_list.back();
      free_list.pop_back();
    } else {
      pool.emplace_back();
      c = &pool.back();
    }
    c->stream = &st;
    c->state = Connection::State::connecting;
    c->fd = -1;
    c->ssl = nullptr;
    c->served = 0;
    c->addr_index = st.preferred_addr;
    c->backoff_ns = 0;
    if (st.stream->keep_bodies && c->body.capacity() == 0) c->body.reserve(16 * 1024);
    if (c->out.capacity() < st.dynamic_reserve) c->out.reserve(st.dynamic_reserve);
    return c;
  }

  void note_error(const std::string& msg) {
    std::lock_guard lock(mailbox_mu);
    if (errors_seen.size() >= kMaxErrorSamples) return;
    if (std::find(errors_seen.begin(), errors_seen.end(), msg) != errors_seen.end()) return;
    errors_seen.push_back(msg);
  }

  // Starts a non-blocking connect to the connection's current address, falling through the
  // resolved list in order. Returns false when no address could even start connecting.
  bool open_socket(Connection& c) {
    const auto& addrs = *c.stream->addresses;
    size_t tried = 0;
    while (tried < addrs.size()) {
      const auto& a = addrs[c.addr_index % addrs.size()];
      int fd = socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        note_error(std::string("socket: ") + strerror(errno));
        return false;
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      int r = connect(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len);
      if (r == 0 || errno == EINPROGRESS) {
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.ptr = &c;
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
        c.fd = fd;
        c.state = Connection::State::connecting;
        return true;
      }
      note_error("connect " + a.text + ": " + strerror(errno));
      ::close(fd);
      ++c.addr_index;
      ++tried;
    }
    return false;
  }

  void release_socket(Connection& c) {
    if (c.ssl) {
      SSL_free(c.ssl);
      c.ssl = nullptr;
    }
    if (c.fd >= 0) {
      ::close(c.fd);  // also removes it from the epoll set
      c.fd = -1;
    }
  }

  // Closes the connection and gives its slot back to the stream.
  void close_conn(Connection& c) {
    StreamState& st = *c.stream;
    st.inflight.unlink(&c);
    release_socket(c);
    if (c.state == Connection::State::idle) remove_idle(st, &c);
    c.state = Connection::State::free;
    c.has_request = false;
    --st.conn_count;
    graveyard.push_back(&c);
  }

  void remove_idle(StreamState& st, Connection* c) {
    Connection** p = &st.idle;
    while (*p && *p != c) p = &(*p)->next_idle;
    if (*p) *p = c->next_idle;
    c->next_idle = nullptr;
  }

  void schedule_reconnect(Connection& c, int64_t now) {
    release_socket(c);
    c.stream->inflight.unlink(&c);
    c.has_request = false;
    c.backoff_ns =
        c.backoff_ns == 0 ? kReconnectMinNs : std::min(c.backoff_ns * 2, kReconnectMaxNs);
    c.retry_at_ns = now + c.backoff_ns;
    c.state = Connection::State::waiting_retry;
    retry_list.push_back(&c);
  }

  // A TCP connection is up: start TLS or send.
  void on_connected(Connection& c, int64_t now) {
    c.stream->preferred_addr = c.addr_index % c.stream->addresses->size();
    if (c.stream->tls) {
      c.ssl = SSL_new(setup.ssl_ctx);
      SSL_set_fd(c.ssl, c.fd);
      SSL_set_tlsext_host_name(c.ssl, c.stream->sni_host.c_str());
      if (plan.tls.verify) SSL_set1_host(c.ssl, c.stream->sni_host.c_str());
      SSL_set_mode(c.ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
      c.state = Connection::State::handshaking;
      continue_handshake(c, now);
      return;
    }
    became_usable(c, now);
  }

  void continue_handshake(Connection& c, int64_t now) {
    ERR_clear_error();
    int r = SSL_connect(c.ssl);
    if (r == 1) {
      became_usable(c, now);
      return;
    }
    int e = SSL_get_error(c.ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
    char buf[256];
    unsigned long code = ERR_peek_last_error();
    long verify = SSL_get_verify_result(c.ssl);
    if (verify != X509_V_OK)
      note_error(std::string("tls: certificate verify failed: ") +
                 X509_verify_cert_error_string(verify));
    else if (code)
      note_error(std::string("tls: ") + ERR_error_string(code, buf));
    else
      note_error("tls: handshake failed");
    connect_failed(c, now);
  }

  // The connection is ready for a request.
  void became_usable(Connection& c, int64_t now) {
    c.backoff_ns = 0;
    if (c.has_request) {
      write_request(c, now);
    } else {
      make_idle(c, now);
    }
  }

  void connect_failed(Connection& c, int64_t now) {
    StreamState& st = *c.stream;
    if (c.has_request) {
      auto& e = stats.streams[st.index].endpoints[c.req.tmpl];
      ++e.errors_connect;
      if (hook) emit(c, "connect", 0, now);
      c.has_request = false;
      st.inflight.unlink(&c);
    }
    if (closed_model && issuing) {
      ++c.addr_index;
      schedule_reconnect(c, now);
      return;
    }
    close_conn(c);
    dispatch(st, now);
  }

  // ---- sending -----------------------------------------------------------------------------
  uint32_t choose_template(const StreamState& st, uint64_t k) const {
    if (!st.groups.empty()) return choose_grouped(st, k);
    if (st.cumulative_weights.size() <= 1) return 0;
    core::ArrivalRandom rng(plan.seed, st.key, k, core::Lane::request);
    double x = rng.next_unit() * st.cumulative_weights.back();
    auto it = std::upper_bound(st.cumulative_weights.begin(), st.cumulative_weights.end(), x);
    return static_cast<uint32_t>(
        std::min<size_t>(it - st.cumulative_weights.begin(), st.cumulative_weights.size() - 1));
  }

  // Stream::groups: a group by weight with the arrival's first draw, then a member: k mod n
  // with rotate, else by template weight with the second draw.
  uint32_t choose_grouped(const StreamState& st, uint64_t k) const {
    core::ArrivalRandom rng(plan.seed, st.key, k, core::Lane::request);
    double x = rng.next_unit() * st.group_cumulative.back();
    auto git = std::upper_bound(st.group_cumulative.begin(), st.group_cumulative.end(), x);
    size_t g = std::min<size_t>(git - st.group_cumulative.begin(), st.groups.size() - 1);
    const GroupState& gs = st.groups[g];
    if (gs.rotate) return gs.members[k % gs.members.size()];
    if (gs.members.size() == 1) return gs.members[0];
    double y = rng.next_unit() * gs.cumulative.back();
    auto it = std::upper_bound(gs.cumulative.begin(), gs.cumulative.end(), y);
    return gs.members[std::min<size_t>(it - gs.cumulative.begin(), gs.members.size() - 1)];
  }

  // Renders the dynamic request of arrival k of `st` into `out` (cleared first), as
  // render_request would render the same strings: the request line, Host, the headers,
  // User-Agent/Content-Type defaults, Content-Length of the rendered body, the body.
  void render_dynamic(const StreamState& st, const Rendered& r, uint64_t k, std::string& out) {
    const DynamicRequest& d = *r.dyn;
    const core::RenderContext ctx{plan.seed, st.key, k};
    out.clear();
    out += r.tmpl->method;
    out += ' ';
    const size_t mark = out.size();
    d.target.render(out, ctx);
    if (out.size() == mark) out += '/';
    out += " HTTP/1.1\r\nHost: ";
    out += st.host_header;
    out += "\r\n";
    for (size_t i = 0; i < d.headers.size(); ++i) {
      if (r.skip_header[i]) continue;
      out += d.headers[i].first;
      out += ": ";
      d.headers[i].second.render(out, ctx);
      out += "\r\n";
    }
    if (!r.has_ua) out += "User-Agent: trafficsim\r\n";
    body_scratch.clear();
    d.body.render(body_scratch, ctx);
    if (!body_scratch.empty() || r.length_always) {
      if (!r.has_ct && !body_scratch.empty()) out += "Content-Type: application/octet-stream\r\n";
      char digits[24];
      auto res = std::to_chars(digits, digits + sizeof digits, body_scratch.size());
      out += "Content-Length: ";
      out.append(digits, res.ptr);
      out += "\r\n";
    }
    out += "\r\n";
    out += body_scratch;
  }

  // The request line of c's current request (without CRLF), for on_request.
  std::string_view request_line(const Connection& c) {
    const StreamState& st = *c.stream;
    const Rendered& r = st.rendered[c.req.tmpl];
    if (!r.dyn) return std::string_view(r.bytes).substr(0, r.line_len);
    const std::string* text = &c.out;
    if (!c.out_valid) {  // never written (e.g. the connection failed): render it now
      render_dynamic(st, r, c.req.k, event_scratch);
      text = &event_scratch;
    }
    std::string_view v(*text);
    return v.substr(0, v.find("\r\n"));
  }

  // Calls plan.on_request for c's current request (only when `hook`).
  void emit(const Connection& c, std::string_view outcome, int status, int64_t now) {
    RequestEvent ev;
    ev.stream = c.stream->index;
    ev.tmpl = c.req.tmpl;
    ev.k = c.req.k;
    ev.status = status;
    ev.outcome = outcome;
    ev.latency_us = to_us(now - (closed_model ? c.sent_ns : c.req.intended_ns));
    ev.service_us = to_us(now - c.sent_ns);
    ev.request_line = request_line(c);
    plan.on_request(ev);
  }

  // Assigns a pending arrival to a connection (counted as a request from now on).
  void assign(Connection& c, const Pending& p, int64_t now) {
    StreamState& st = *c.stream;
    c.req = p;
    c.has_request = true;
    c.out_valid = false;
    c.sent_ns = now;
    auto& e = stats.streams[st.index].endpoints[p.tmpl];
    ++e.requests;
    // One lateness sample per arrival: a re-send after a keep-alive race is not a new arrival.
    if (!closed_model && !p.resend) e.send_lateness.record(to_us(now - p.intended_ns));
    st.inflight.push_back(&c);
  }

  void write_request(Connection& c, int64_t now) {
    StreamState& st = *c.stream;
    const Rendered& r = st.rendered[c.req.tmpl];
    if (r.dyn) {
      // Deterministic in k: a re-send after a keep-alive race renders the same bytes.
      render_dynamic(st, r, c.req.k, c.out);
      c.out_valid = true;
      c.wbuf = &c.out;
    } else {
      c.wbuf = &r.bytes;
    }
    c.parser.reset(r.head);
    c.response_started = false;
    c.response_bytes = 0;
    if (st.stream->keep_bodies) c.body.clear();
    c.write_off = 0;
    c.sent_ns = now;  // the timeout and service time run from the actual send
    // keep FIFO order by send time: move to the back
    st.inflight.unlink(&c);
    st.inflight.push_back(&c);
    c.state = Connection::State::writing;
    continue_write(c, now);
  }

  void continue_write(Connection& c, int64_t now) {
    const std::string& bytes = *c.wbuf;
    while (c.write_off < bytes.size()) {
      const char* p = bytes.data() + c.write_off;
      size_t left = bytes.size() - c.write_off;
      ssize_t n;
      if (c.ssl) {
        ERR_clear_error();
        int w = SSL_write(c.ssl, p, static_cast<int>(std::min<size_t>(left, INT32_MAX)));
        if (w <= 0) {
          int e = SSL_get_error(c.ssl, w);
          if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return;
          transport_failed(c, now, "tls write failed");
          return;
        }
        n = w;
      } else {
        n = ::send(c.fd, p, left, MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // EPOLLOUT edge resumes us
          transport_failed(c, now, std::string("send: ") + strerror(errno));
          return;
        }
      }
      c.write_off += static_cast<size_t>(n);
    }
    auto& e = stats.streams[c.stream->index].endpoints[c.req.tmpl];
    e.bytes_out += bytes.size();
    c.state = Connection::State::reading;
  }

  // ---- receiving ---------------------------------------------------------------------------
  void on_readable(Connection& c, int64_t now) {
    for (;;) {
      ssize_t n;
      bool drained = false;
      if (c.ssl) {
        ERR_clear_error();
        int r = SSL_read(c.ssl, rbuf.data(), static_cast<int>(rbuf.size()));
        if (r <= 0) {
          int e = SSL_get_error(c.ssl, r);
          if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
          if (e == SSL_ERROR_ZERO_RETURN) {
            n = 0;
          } else if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
            n = 0;  // unexpected EOF: treat as a close
          } else {
            transport_failed(c, now, "tls read failed");
            return;
          }
        } else {
          n = r;
        }
      } else {
        n = ::recv(c.fd, rbuf.data(), rbuf.size(), 0);
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK) return;
          if (errno == EINTR) continue;
          transport_failed(c, now, std::string("recv: ") + strerror(errno));
          return;
        }
        // A short read drained the socket: with edge-triggered epoll, more data arriving later
        // raises a new edge, so there is no need for a recv() that only returns EAGAIN.
        drained = static_cast<size_t>(n) < rbuf.size();
      }
      if (n == 0) {
        on_eof(c, now);
        return;
      }
      if (c.state != Connection::State::reading && c.state != Connection::State::writing) {
        // Bytes nobody asked for (idle connection): protocol violation; drop the connection.
        if (c.state == Connection::State::idle) {
          note_error("unsolicited bytes on an idle connection");
          close_conn(c);
          dispatch(*c.stream, now);
        }
        return;
      }
      if (!consume(c, rbuf.data(), static_cast<size_t>(n), now)) return;
      if (drained) return;
    }
  }

  // Feeds bytes to the parser. Returns false when the connection is no longer readable here.
  bool consume(Connection& c, const char* data, size_t len, int64_t now) {
    StreamState& st = *c.stream;
    c.response_started = true;
    c.response_bytes += len;
    size_t used = 0;
    http::ResponseParser::Result r;
    if (st.stream->keep_bodies) {
      r = c.parser.feed(data, len, &used, [&c](std::string_view piece) { c.body.append(piece); });
    } else {
      r = c.parser.feed(data, len, &used);
    }
    if (r == http::ResponseParser::Result::need_more) return true;
    if (r == http::ResponseParser::Result::error) {
      transport_failed(c, now, std::string("bad response: ") + c.parser.error_reason());
      return false;
    }
    bool leftover = used < len;
    complete(c, now);
    if (leftover && c.state != Connection::State::free) {
      note_error("response followed by unexpected bytes");
      close_conn(c);
      dispatch(st, now);
      return false;
    }
    return c.state == Connection::State::reading;  // a new request went out on it
  }

  void on_eof(Connection& c, int64_t now) {
    StreamState& st = *c.stream;
    if (c.state == Connection::State::reading || c.state == Connection::State::writing) {
      if (c.response_started) {
        if (c.parser.on_eof() == http::ResponseParser::Result::complete) {
          complete(c, now, /*peer_closed=*/true);
          return;
        }
        transport_failed(c, now, "connection closed mid-response");
        return;
      }
      // Closed before any byte of the response. On a reused keep-alive connection the server
      // most likely closed it as we sent: retry the same arrival once on a fresh connection.
      if (c.served > 0) {
        retry_elsewhere(c, now);
        return;
      }
      transport_failed(c, now, "connection closed before response");
      return;
    }
    // idle (or still connecting) connection closed by the peer
    if (closed_model && issuing && c.state == Connection::State::idle) {
      remove_idle(st, &c);
      schedule_reconnect(c, now);
      c.retry_at_ns = now;  // server closed politely: reconnect at once
      c.backoff_ns = 0;
      return;
    }
    close_conn(c);
    dispatch(st, now);
  }

  void retry_elsewhere(Connection& c, int64_t now) {
    StreamState& st = *c.stream;
    Pending p = c.req;
    p.resend = true;
    --stats.streams[st.index].endpoints[p.tmpl].requests;  // counted again when re-sent
    c.has_request = false;
    st.inflight.unlink(&c);
    if (closed_model) {
      release_socket(c);
      c.served = 0;
      assign(c, p, now);
      if (!open_socket(c)) connect_failed(c, now);
      return;
    }
    close_conn(c);
    st.backlog.push_front(p);
    dispatch(st, now);
  }

  void transport_failed(Connection& c, int64_t now, const std::string& why) {
    StreamState& st = *c.stream;
    note_error(why);
    if (c.has_request) {
      auto& e = stats.streams[st.index].endpoints[c.req.tmpl];
      ++e.errors_other;
      e.bytes_in += c.response_bytes;
      if (hook) emit(c, "error", 0, now);
      c.has_request = false;
    }
    if (closed_model && issuing) {
      schedule_reconnect(c, now);
      c.retry_at_ns = now;
      return;
    }
    close_conn(c);
    dispatch(st, now);
  }

  // A whole response arrived for c's request.
  void complete(Connection& c, int64_t now, bool peer_closed = false) {
    StreamState& st = *c.stream;
    const RequestTemplate& t = st.stream->requests[c.req.tmpl];
    auto& e = stats.streams[st.index].endpoints[c.req.tmpl];
    int status = c.parser.status();
    if (status >= 100 && status < 600) ++e.responses_by_status[status];
    // Injected templates: an expected status is an expected failure, a status in
    // success_statuses a success, anything else an unexpected failure.
    const bool in_range = status >= 100 && status < 600;
    const bool matched = in_range && st.expected_bits[c.req.tmpl][status];
    const bool injected_failure = t.injected && matched;
    const bool expected =
        matched || (t.injected && in_range && st.success_bits[c.req.tmpl][status]);
    if (!expected)
      ++e.errors_status;
    else if (injected_failure)
      ++e.expected_failures;
    e.bytes_in += c.response_bytes;
    e.service.record(to_us(now - c.sent_ns));
    e.corrected.record(to_us(now - (closed_model ? c.sent_ns : c.req.intended_ns)));
    if (st.stream->keep_bodies && st.stream->extractor)
      st.stream->extractor(t, status, c.body, e.counters);
    if (hook) emit(c, !expected ? "status" : injected_failure ? "expected_failure" : "ok", status, now);
    st.inflight.unlink(&c);
    c.has_request = false;
    ++c.served;
    if (peer_closed || !c.parser.keep_alive()) {
      if (closed_model && issuing) {
        schedule_reconnect(c, now);
        c.retry_at_ns = now;
        c.backoff_ns = 0;
        return;
      }
      close_conn(c);
      dispatch(st, now);
      return;
    }
    make_idle(c, now);
  }

  // The connection can take a request: give it the next one, or park it.
  void make_idle(Connection& c, int64_t now) {
    StreamState& st = *c.stream;
    if (closed_model) {
      if (!issuing) {
        close_conn(c);
        return;
      }
      assign_closed(c, now);
      write_request(c, now);
      return;
    }
    if (!st.backlog.empty() && (!st.bucket || st.bucket->try_take(std::chrono::nanoseconds(now)))) {
      Pending p = st.backlog.pop_front();
      assign(c, p, now);
      write_request(c, now);
      return;
    }
    c.state = Connection::State::idle;
    c.next_idle = st.idle;
    st.idle = &c;
  }

  // ---- open-model scheduling ---------------------------------------------------------------
  // Moves due arrivals into the backlog (dropping past its bound) and sends what can be sent.
  void issue_due(StreamState& st, int64_t now) {
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
      Pending p{a->k, intended, choose_template(st, a->k)};
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

  int64_t next_intended_ns(StreamState& st) {
    if (!st.schedule || st.schedule_done) return INT64_MAX;
    auto a = st.schedule->peek();
    if (!a) return INT64_MAX;
    return setup.start_ns + static_cast<int64_t>(a->intended_s * 1e9);
  }

  void dispatch(StreamState& st, int64_t now) {
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

  // ---- timers ------------------------------------------------------------------------------
  void sweep_timeouts(int64_t now) {
    for (auto& st : streams) {
      while (st.inflight.head && st.inflight.head->sent_ns + st.timeout_ns <= now) {
        Connection& c = *st.inflight.head;
        auto& e = stats.streams[st.index].endpoints[c.req.tmpl];
        ++e.errors_timeout;
        e.bytes_in += c.response_bytes;
        if (hook) emit(c, "timeout", 0, now);
        c.has_request = false;
        st.inflight.unlink(&c);
        if (closed_model && issuing) {
          schedule_reconnect(c, now);
          c.retry_at_ns = now;
          c.backoff_ns = 0;
        } else {
          close_conn(c);
        }
      }
      dispatch(st, now);
    }
  }

  void run_reconnects(int64_t now, int64_t* next_wake) {
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

  // ---- stopping ----------------------------------------------------------------------------
  void stop_issuing() {
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

  bool anything_in_flight() const {
    for (const auto& st : streams)
      if (st.inflight.size > 0) return true;
    return false;
  }

  void flush() {
    std::lock_guard lock(mailbox_mu);
    mailbox.merge(stats);
    stats.reset();
  }

  // ---- the loop ----------------------------------------------------------------------------
  void handle_event(Connection& c, uint32_t events, int64_t now) {
    using S = Connection::State;
    if (c.state == S::free || c.state == S::waiting_retry) return;
    if (c.state == S::connecting) {
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
        const auto& addrs = *c.stream->addresses;
        note_error("connect " + addrs[c.addr_index % addrs.size()].text + ": " +
                   strerror(err ? err : ECONNREFUSED));
        release_socket(c);
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
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(c, now);
  }

  void run() {
    init();
    if (closed_model) start_closed_connections();
    epoll_event events[kMaxEvents];
    for (;;) {
      int64_t now = now_ns();
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
      now = n > 0 ? now_ns() : now;
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
    for (auto& c : pool) release_socket(c);
    flush();
  }
};

Worker::Worker(WorkerSetup setup) : impl_(std::make_unique<Impl>(std::move(setup))) {}

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

std::vector<std::string> Worker::error_samples() {
  std::lock_guard lock(impl_->mailbox_mu);
  return impl_->errors_seen;
}

int64_t Worker::now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
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
