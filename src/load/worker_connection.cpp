// A connection's lifecycle inside a worker: open, TLS handshake, send a request, read and parse
// the response, complete it or fail it, and end the connection (reconnect in the closed model).
// Declared in worker_impl.hpp; the loop that drives these steps is worker.cpp.
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "core/trace_context.hpp"
#include "load/worker_impl.hpp"

namespace trafficsim::load {

namespace {

using detail::IoResult;
using detail::StatusClass;

constexpr int64_t kReconnectMinNs = 10'000'000;  // closed model: back-off after connect errors
constexpr int64_t kReconnectMaxNs = 1'000'000'000;

}  // namespace

int64_t detail::to_us(int64_t ns) {
  return ns <= 0 ? 0 : ns / 1000;
}

using detail::to_us;

Worker::Impl::Connection* Worker::Impl::acquire(StreamState& st) {
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
  c->io = {};
  c->served = 0;
  c->addr_index = st.preferred_addr;
  c->backoff_ns = 0;
  if (st.stream->keep_bodies && c->body.capacity() == 0) c->body.reserve(16 * 1024);
  if (c->out.capacity() < st.dynamic_reserve) c->out.reserve(st.dynamic_reserve);
  return c;
}

bool Worker::Impl::open_socket(Connection& c) {
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
      // Registered once, edge-triggered, for both directions: no epoll_ctl per request.
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
      ev.data.ptr = &c;
      epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
      c.io.fd = fd;
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

void Worker::Impl::close_conn(Connection& c) {
  StreamState& st = *c.stream;
  st.inflight.unlink(&c);
  c.io.close();
  if (c.state == Connection::State::idle) remove_idle(st, &c);
  c.state = Connection::State::free;
  c.has_request = false;
  --st.conn_count;
  graveyard.push_back(&c);
}

void Worker::Impl::remove_idle(StreamState& st, Connection* c) {
  Connection** p = &st.idle;
  while (*p && *p != c) p = &(*p)->next_idle;
  if (*p) *p = c->next_idle;
  c->next_idle = nullptr;
}

void Worker::Impl::end_connection(Connection& c, int64_t now, Reconnect how) {
  StreamState& st = *c.stream;
  if (how == Reconnect::never || !closed_model || !issuing) {
    close_conn(c);
    dispatch(st, now);
    return;
  }
  if (c.state == Connection::State::idle) remove_idle(st, &c);
  c.io.close();
  st.inflight.unlink(&c);
  c.has_request = false;
  if (how == Reconnect::after_backoff) {
    c.backoff_ns =
        c.backoff_ns == 0 ? kReconnectMinNs : std::min(c.backoff_ns * 2, kReconnectMaxNs);
    c.retry_at_ns = now + c.backoff_ns;
  } else {
    c.backoff_ns = 0;
    c.retry_at_ns = now;
  }
  c.state = Connection::State::waiting_retry;
  retry_list.push_back(&c);
}

void Worker::Impl::on_connected(Connection& c, int64_t now) {
  c.stream->preferred_addr = c.addr_index % c.stream->addresses->size();
  if (c.stream->tls) {
    c.io.start_tls(setup.ssl_ctx, c.stream->sni_host, plan.tls.verify);
    c.state = Connection::State::handshaking;
    continue_handshake(c, now);
    return;
  }
  became_usable(c, now);
}

void Worker::Impl::continue_handshake(Connection& c, int64_t now) {
  std::string why;
  switch (c.io.continue_handshake(&why)) {
    case detail::Transport::Handshake::done:
      became_usable(c, now);
      return;
    case detail::Transport::Handshake::again:
      return;
    case detail::Transport::Handshake::failed:
      note_error(why);
      connect_failed(c, now);
      return;
  }
}

void Worker::Impl::became_usable(Connection& c, int64_t now) {
  c.backoff_ns = 0;
  if (c.has_request) {
    write_request(c, now);
  } else {
    make_idle(c, now);
  }
}

void Worker::Impl::connect_failed(Connection& c, int64_t now) {
  if (c.has_request) {
    ++endpoint(c).errors_connect;
    if (hook) emit(c, "connect", 0, now);
    c.has_request = false;
    c.stream->inflight.unlink(&c);
  }
  ++c.addr_index;  // the next attempt starts at the next address
  end_connection(c, now, Reconnect::after_backoff);
}

std::string_view Worker::Impl::request_line(const Connection& c) {
  const StreamState& st = *c.stream;
  const detail::RenderedRequest& r = st.rendered[c.req.tmpl];
  if (!r.dyn) return std::string_view(r.bytes).substr(0, r.line_len);
  if (c.out_valid) return detail::request_line_of(c.out);
  // Never written (e.g. the connection failed): render it now.
  detail::render_dynamic(r, {plan.seed, st.key, c.req.k}, st.host_header, body_scratch,
                         event_scratch);
  return detail::request_line_of(event_scratch);
}

void Worker::Impl::emit(const Connection& c, std::string_view outcome, int status, int64_t now) {
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

void Worker::Impl::assign(Connection& c, const Pending& p, int64_t now) {
  StreamState& st = *c.stream;
  c.req = p;
  c.has_request = true;
  c.out_valid = false;
  c.sampled = false;
  c.sent_ns = now;
  auto& e = endpoint(c);
  ++e.requests;
  // One lateness sample per arrival: a re-send after a keep-alive race is not a new arrival.
  if (!closed_model && !p.resend) e.send_lateness.record(to_us(now - p.intended_ns));
  st.inflight.push_back(&c);
}

void Worker::Impl::write_request(Connection& c, int64_t now) {
  StreamState& st = *c.stream;
  const detail::RenderedRequest& r = st.rendered[c.req.tmpl];
  if (r.dyn) {
    // Deterministic in k: a re-send after a keep-alive race renders the same bytes.
    detail::render_dynamic(r, {plan.seed, st.key, c.req.k}, st.host_header, body_scratch,
                           c.out);
    c.out_valid = true;
    c.wbuf = &c.out;
  } else {
    c.wbuf = &r.bytes;
  }
  if (tracing) add_traceparent(c, r);
  c.parser.reset(r.head);
  c.response_started = false;
  c.response_bytes = 0;
  if (st.stream->keep_bodies) c.body.clear();
  c.write_off = 0;
  c.sent_ns = now;  // the timeout and service time run from the actual send
  if (first_send_ns == 0) first_send_ns = now;  // the run's started_at
  // keep FIFO order by send time: move to the back
  st.inflight.unlink(&c);
  st.inflight.push_back(&c);
  c.state = Connection::State::writing;
  continue_write(c, now);
}

void Worker::Impl::add_traceparent(Connection& c, const detail::RenderedRequest& r) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto fill = [&](uint8_t* out, size_t n) {
    for (size_t i = 0; i < n; i += 8) {
      uint64_t v = core::mix64(trace_counter += 0x9e3779b97f4a7c15ULL);
      for (size_t j = 0; j < 8 && i + j < n; ++j) out[i + j] = static_cast<uint8_t>(v >> (8 * j));
    }
  };
  fill(c.trace_id.data(), 16);
  fill(c.span_id.data(), 8);
  if (c.span_id[0] == 0) c.span_id[0] = 1;  // never the all-zero (invalid) id
  c.sampled = core::sampled_by_ratio(c.trace_id, plan.trace_ratio);
  // "traceparent: 00-<32 hex>-<16 hex>-0x\r\n": 13 + 55 + 2 bytes.
  char h[70];
  std::memcpy(h, "traceparent: 00-", 16);
  char* p = h + 16;
  for (uint8_t b : c.trace_id) {
    *p++ = kHex[b >> 4];
    *p++ = kHex[b & 0xF];
  }
  *p++ = '-';
  for (uint8_t b : c.span_id) {
    *p++ = kHex[b >> 4];
    *p++ = kHex[b & 0xF];
  }
  *p++ = '-';
  *p++ = '0';
  *p++ = c.sampled ? '1' : '0';
  *p++ = '\r';
  *p++ = '\n';
  // After the request line: into the dynamic rendering, or a copy of the static bytes (the
  // connection's buffer, whose capacity is reused).
  if (c.wbuf == &c.out) {
    const size_t line_end = c.out.find("\r\n") + 2;
    c.out.insert(line_end, h, sizeof h);
  } else {
    const std::string& bytes = r.bytes;
    c.out.assign(bytes.data(), r.line_len + 2);
    c.out.append(h, sizeof h);
    c.out.append(bytes, r.line_len + 2, std::string::npos);
    c.out_valid = true;
    c.wbuf = &c.out;
  }
}

void Worker::Impl::record_span(Connection& c, int64_t now, int status, uint8_t outcome) {
  c.sampled = false;
  if (spans.size() >= Plan::kMaxSpansPerDrain) {
    ++spans_dropped;
    return;
  }
  ClientSpanRecord& s = spans.emplace_back();
  s.trace_id = c.trace_id;
  s.span_id = c.span_id;
  s.start_unix_ns = c.sent_ns + unix_offset_ns;
  s.end_unix_ns = now + unix_offset_ns;
  s.stream = static_cast<uint32_t>(c.stream->index);
  s.tmpl = c.req.tmpl;
  s.status = status;
  s.outcome = outcome;
}

void Worker::Impl::continue_write(Connection& c, int64_t now) {
  const std::string& bytes = *c.wbuf;
  while (c.write_off < bytes.size()) {
    IoResult r = c.io.write(bytes.data() + c.write_off, bytes.size() - c.write_off);
    if (r.kind == IoResult::again) return;  // the EPOLLOUT edge resumes us
    if (r.kind != IoResult::data) {
      transport_failed(c, now, detail::error_text(r, c.io.ssl != nullptr, /*reading=*/false));
      return;
    }
    c.write_off += r.n;
  }
  endpoint(c).bytes_out += bytes.size();
  c.state = Connection::State::reading;
}

void Worker::Impl::on_readable(Connection& c, uint32_t events, int64_t now) {
  // The peer's close was already seen by epoll in this wake-up: its edge will not come again,
  // so read on until the read says so, even after a short read (the close often arrives with
  // the last bytes, and a close-delimited or cut-off response ends only there).
  const bool peer_closing = (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
  for (;;) {
    IoResult r = c.io.read(rbuf.data(), rbuf.size());
    switch (r.kind) {
      case IoResult::again:
        return;
      case IoResult::error:
        transport_failed(c, now, detail::error_text(r, c.io.ssl != nullptr, /*reading=*/true));
        return;
      case IoResult::eof:
        on_eof(c, now);
        return;
      case IoResult::data:
        break;
    }
    if (c.state != Connection::State::reading && c.state != Connection::State::writing) {
      // Bytes nobody asked for (idle connection): protocol violation; drop the connection.
      if (c.state == Connection::State::idle) {
        note_error("unsolicited bytes on an idle connection");
        end_connection(c, now, Reconnect::never);
      }
      return;
    }
    if (!consume(c, rbuf.data(), r.n, now)) return;
    // A short read drained the socket: with edge-triggered epoll, more data (or the close)
    // arriving later raises a new edge, so there is no need for a read that only returns EAGAIN.
    if (r.drained && !peer_closing) return;
  }
}

bool Worker::Impl::consume(Connection& c, const char* data, size_t len, int64_t now) {
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
    end_connection(c, now, Reconnect::never);
    return false;
  }
  return c.state == Connection::State::reading;  // a new request went out on it
}

void Worker::Impl::on_eof(Connection& c, int64_t now) {
  if (c.state == Connection::State::reading || c.state == Connection::State::writing) {
    if (c.response_started) {
      if (c.parser.on_eof() == http::ResponseParser::Result::complete) {
        complete(c, now, /*peer_closed=*/true);
        return;
      }
      // Cut short: mid-head, before the declared length, or mid-chunk. Its own kind of error,
      // counted now rather than left to time out.
      request_failed(c, now, "connection closed mid-response",
                     &EndpointStats::errors_closed_mid_response, "closed_mid_response");
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
  // An idle connection closed by the peer (politely): reconnect at once in the closed model.
  end_connection(c, now, Reconnect::at_once);
}

void Worker::Impl::retry_elsewhere(Connection& c, int64_t now) {
  StreamState& st = *c.stream;
  Pending p = c.req;
  p.resend = true;
  --endpoint(c).requests;  // counted again when re-sent
  c.has_request = false;
  st.inflight.unlink(&c);
  if (closed_model) {
    c.io.close();
    c.served = 0;
    assign(c, p, now);
    if (!open_socket(c)) connect_failed(c, now);
    return;
  }
  close_conn(c);
  st.backlog.push_front(p);
  dispatch(st, now);
}

void Worker::Impl::transport_failed(Connection& c, int64_t now, const std::string& why) {
  request_failed(c, now, why, &EndpointStats::errors_other, "error");
}

void Worker::Impl::request_failed(Connection& c, int64_t now, const std::string& why,
                                  uint64_t EndpointStats::*counter, std::string_view outcome) {
  note_error(why);
  if (c.has_request) {
    auto& e = endpoint(c);
    ++(e.*counter);
    e.bytes_in += c.response_bytes;
    if (hook) emit(c, outcome, 0, now);
    if (c.sampled) {
      record_span(c, now, 0,
                  outcome == "timeout"               ? 3
                  : outcome == "connect"             ? 4
                  : outcome == "closed_mid_response" ? 5
                                                     : 6);
    }
    c.has_request = false;
  }
  end_connection(c, now, Reconnect::at_once);
}

void Worker::Impl::complete(Connection& c, int64_t now, bool peer_closed) {
  StreamState& st = *c.stream;
  auto& e = endpoint(c);
  const int status = c.parser.status();
  if (status >= 100 && status < 600) ++e.responses_by_status[status];
  const StatusClass sc = st.statuses.classify(c.req.tmpl, status);
  if (sc == StatusClass::unexpected)
    ++e.errors_status;
  else if (sc == StatusClass::expected_failure)
    ++e.expected_failures;
  e.bytes_in += c.response_bytes;
  e.service.record(to_us(now - c.sent_ns));
  e.corrected.record(to_us(now - (closed_model ? c.sent_ns : c.req.intended_ns)));
  if (st.stream->keep_bodies && st.stream->extractor)
    st.stream->extractor(st.stream->requests[c.req.tmpl], status, c.body, e.counters);
  if (c.sampled) {
    record_span(c, now, status,
                sc == StatusClass::unexpected         ? 2
                : sc == StatusClass::expected_failure ? 1
                                                      : 0);
  }
  if (hook)
    emit(c,
         sc == StatusClass::unexpected         ? "status"
         : sc == StatusClass::expected_failure ? "expected_failure"
                                               : "ok",
         status, now);
  st.inflight.unlink(&c);
  c.has_request = false;
  ++c.served;
  if (peer_closed || !c.parser.keep_alive()) {
    end_connection(c, now, Reconnect::at_once);
    return;
  }
  make_idle(c, now);
}

void Worker::Impl::make_idle(Connection& c, int64_t now) {
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
}  // namespace trafficsim::load
