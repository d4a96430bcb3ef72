// The Beast server's connections: one Session per connection, its lifecycle top to bottom, all
// on its own strand:
//   do_read (idle: wait for the first byte) -> read_request -> on_read -> the handler ->
//   on_response -> write -> on_write -> do_read
// or, for a streamed reply, on_stream_start -> write_stream (a loop) -> end_stream -> do_read.
// The accept loop at the bottom decides which connections get a session at all.
#include <sys/socket.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>

#include "core/ascii.hpp"
#include "http/server_impl.hpp"

namespace trafficsim::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Headers = std::vector<std::pair<std::string, std::string>>;

namespace {

std::string json_error(std::string_view code, std::string_view message) {
  std::string out = "{\"error\":\"";
  out += code;
  out += "\",\"message\":\"";
  out += message;  // fixed ASCII texts only
  out += "\"}";
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// What RFC 9112 refuses and Beast lets through (or reads some other way): the reason for a 400,
// empty when the request is fine. A Transfer-Encoding the server cannot decode, or one beside a
// Content-Length, leaves the body's end ambiguous (request smuggling); HTTP/1.1 requires Host.
std::string_view framing_violation(const bhttp::request<bhttp::string_body>& msg) {
  size_t te_fields = 0;
  std::string_view te;
  for (const auto& field : msg)
    if (field.name() == bhttp::field::transfer_encoding) {
      ++te_fields;
      te = field.value();
    }
  if (te_fields > 0) {
    if (te_fields > 1 || !core::iequals_ascii(trim(te), "chunked"))
      return "unsupported Transfer-Encoding (only chunked is accepted)";
    if (msg.find(bhttp::field::content_length) != msg.end())
      return "Transfer-Encoding together with Content-Length";
  }
  if (msg.version() >= 11 && msg.find(bhttp::field::host) == msg.end())
    return "HTTP/1.1 request without Host";
  return {};
}

// A header line's text without CR or LF, so a handler's value cannot end the head early.
void append_header_text(std::string& out, std::string_view text) {
  for (char c : text)
    if (c != '\r' && c != '\n') out += c;
}

// The head of a streamed response. The framing headers are the server's: a handler's own
// Content-Length, Transfer-Encoding or Connection would contradict them and is left out.
std::string stream_head_bytes(const StreamHead& head, unsigned version, bool keep_alive,
                              std::string_view server_name) {
  std::string out = version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(head.status);
  out += ' ';
  auto reason = bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(head.status)));
  out.append(reason.data(), reason.size());
  out += "\r\nServer: ";
  append_header_text(out, server_name);
  out += "\r\nContent-Type: ";
  append_header_text(out, head.content_type);
  out += "\r\n";
  for (const auto& [name, value] : head.headers) {
    if (core::iequals_ascii(name, "Content-Length") || core::iequals_ascii(name, "Transfer-Encoding") ||
        core::iequals_ascii(name, "Connection"))
      continue;
    append_header_text(out, name);
    out += ": ";
    append_header_text(out, value);
    out += "\r\n";
  }
  if (version != 10) out += "Transfer-Encoding: chunked\r\n";
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

}  // namespace

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server::Impl& server, bool overflow)
      : stream_(std::move(socket)), server_(server), overflow_(overflow) {}

  ~Session() {
    if (stream_core_) stream_core_->close();
    (overflow_ ? server_.overflow_open : server_.normal_open)
        .fetch_sub(1, std::memory_order_relaxed);
    std::lock_guard lock(server_.sessions_mu);
    server_.sessions.erase(this);
  }

  void run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }

  // Only while the io threads are joined (Server::stop).
  void close_now() {
    if (current_) current_->cancelled->store(true);
    if (stream_core_) stream_core_->close();
    beast::error_code ec;
    stream_.socket().close(ec);
    in_work_.reset();  // the caller holds a reference
  }

  // Strand entry points for a streamed reply (posted by its StreamCore and Reply).
  void on_stream_start(Reply::State* state, std::shared_ptr<StreamCore> core, bool keep_alive) {
    if (closed_ || !current_ || current_.get() != state) return core->close();
    stream_core_ = std::move(core);
    stream_keep_alive_ = keep_alive;
    if (!watching_ && buffer_.size() == 0) watch_for_close();
    write_stream();
  }
  void on_stream_ready() { write_stream(); }
  void on_stream_overflow() {
    if (closed_ || !stream_core_) return;
    server_.streams_dropped.fetch_add(1, std::memory_order_relaxed);
    close();
  }

 private:
  // Waits for a request. The idle timeout covers only the wait for its first byte; the whole
  // request must then arrive within the read timeout (an overflow connection gets its own,
  // shorter deadline for everything).
  void do_read() {
    parser_.emplace();
    parser_->body_limit(server_.options.body_limit_bytes);
    parser_->header_limit(static_cast<uint32_t>(server_.options.header_limit_bytes));
    if (overflow_) {
      stream_.expires_after(server_.options.overflow_read_timeout);
      return read_request();
    }
    if (buffer_.size() > 0) {  // a pipelined request has begun already
      stream_.expires_after(server_.options.read_timeout);
      return read_request();
    }
    stream_.expires_after(server_.options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(beast::read_size(buffer_, 65536)),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->on_first_bytes(ec, n);
                            });
  }

  void on_first_bytes(beast::error_code ec, size_t n) {
    if (ec) {
      if (ec == beast::error::timeout) server_.timeouts.fetch_add(1, std::memory_order_relaxed);
      return close();  // idle too long, or the client closed between requests
    }
    buffer_.commit(n);
    stream_.expires_after(server_.options.read_timeout);
    read_request();
  }

  void read_request() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        self->on_read(ec);
                      });
  }

  void on_read(beast::error_code ec) {
    if (ec) {
      if (ec == bhttp::error::body_limit) {
        server_.body_too_large.fetch_add(1, std::memory_order_relaxed);
        return send_error(413, "body_too_large", "request body exceeds the server's limit");
      }
      if (ec == bhttp::error::header_limit) {
        server_.header_too_large.fetch_add(1, std::memory_order_relaxed);
        return send_error(431, "header_too_large", "request head exceeds the server's limit");
      }
      if (ec == beast::error::timeout) {
        server_.timeouts.fetch_add(1, std::memory_order_relaxed);
        return close();
      }
      // The client closed between requests or in the middle of one: nothing to answer.
      if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message)
        return close();
      if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
        server_.bad_request.fetch_add(1, std::memory_order_relaxed);
        return send_error(400, "bad_request", "malformed HTTP request");
      }
      return close();
    }
    auto& msg = parser_->get();
    if (auto why = framing_violation(msg); !why.empty()) {
      server_.bad_request.fetch_add(1, std::memory_order_relaxed);
      return send_error(400, "bad_request", why);
    }
    keep_alive_ = msg.keep_alive() && !overflow_;
    version_ = msg.version();
    if (overflow_ && !is_overload_path(msg.target())) {
      server_.overloaded.fetch_add(1, std::memory_order_relaxed);
      return send_error(503, "overloaded", "the server is at its connection limit",
                        {{"Retry-After", "1"}});
    }
    server_.requests.fetch_add(1, std::memory_order_relaxed);

    auto request = std::make_shared<ServerRequest>();
    request->method = std::string(msg.method_string());
    request->target = std::string(msg.target());
    request->headers.reserve(8);
    for (const auto& field : msg)
      request->headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    request->body = std::move(msg.body());
    beast::error_code rec;
    auto remote = stream_.socket().remote_endpoint(rec);
    if (!rec) request->remote_address = remote.address().to_string();

    auto state = std::make_shared<Reply::State>();
    state->session = weak_from_this();
    current_ = state;
    in_work_ = shared_from_this();  // the session lives until it answers or closes
    try {
      server_.handler(std::move(request), Reply(state));
    } catch (...) {
      Reply(state).send(ServerResponse{500, "application/json",
                                       json_error("internal_error", "handler failed")});
    }
    if (!state->sent.load() && buffer_.size() == 0) watch_for_close();
  }

  bool is_overload_path(std::string_view target) const {
    std::string_view path = target.substr(0, target.find('?'));
    for (const auto& p : server_.options.overload_paths)
      if (p == path) return true;
    return false;
  }

  friend void deliver_response(const std::shared_ptr<Reply::State>&, ServerResponse);
  friend ResponseStream open_response_stream(const std::shared_ptr<Reply::State>&, StreamHead);

  // While a handler works or a stream is open, notice a client that hangs up so the work can
  // stop.
  void watch_for_close() {
    watching_ = true;
    stream_.socket().async_wait(
        tcp::socket::wait_read, [self = shared_from_this(), state = current_](beast::error_code ec) {
          if (ec || state != self->current_ || !self->watching_) return;
          char c;
          ssize_t n = ::recv(self->stream_.socket().native_handle(), &c, 1,
                             MSG_PEEK | MSG_DONTWAIT);
          if (n > 0) {
            self->watching_ = false;  // pipelined data: read it after this response
            return;
          }
          if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return self->watch_for_close();
          self->watching_ = false;
          self->server_.client_gone.fetch_add(1, std::memory_order_relaxed);
          state->cancelled->store(true);
          self->close();
        });
  }

  void stop_watching() {
    if (!watching_) return;
    watching_ = false;
    beast::error_code ec;
    stream_.socket().cancel(ec);
  }

  void on_response(Reply::State* state, ServerResponse response) {
    if (closed_ || !current_ || current_.get() != state) return;
    stop_watching();
    current_.reset();
    auto hold = std::move(in_work_);
    write(std::move(response));
  }

  void send_error(int status, std::string_view code, std::string_view message,
                  Headers headers = {}) {
    keep_alive_ = false;
    version_ = 11;
    write(ServerResponse{status, "application/json", json_error(code, message),
                         std::move(headers), true});
  }

  void write(ServerResponse response) {
    res_ = {};
    res_.version(version_ == 10 ? 10 : 11);
    res_.result(static_cast<unsigned>(response.status));
    res_.set(bhttp::field::server, server_.options.server_name);
    res_.set(bhttp::field::content_type, response.content_type);
    for (auto& [k, v] : response.headers) res_.set(k, v);
    res_.body() = std::move(response.body);
    res_.keep_alive(keep_alive_ && !response.close);
    res_.prepare_payload();
    stream_.expires_after(server_.options.write_timeout);
    bhttp::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->on_write(ec);
    });
  }

  void on_write(beast::error_code ec) {
    if (ec) return close();
    if (!res_.keep_alive() || server_.stopping.load()) return close();
    do_read();
  }

  // Writes what the stream's writers queued, one write at a time; the terminating chunk once
  // finish() was asked and everything before it is out. The write timeout is armed only while
  // a write is in progress: an idle stream may stay open as long as its client does.
  void write_stream() {
    if (closed_ || !stream_core_ || stream_writing_) return;
    bool ending = false;
    {
      std::lock_guard lock(stream_core_->mu);
      stream_core_->notify_posted = false;
      if (stream_core_->closed) return;  // dropped: on_stream_overflow closes
      stream_out_.clear();
      std::swap(stream_out_, stream_core_->pending);
      stream_out_counted_ = stream_out_.size();
      if (stream_out_.empty() && stream_core_->finish_requested) {
        ending = true;
        if (stream_core_->chunked) {
          stream_out_ = kTerminatingChunk;
          stream_out_counted_ = kTerminatingChunk.size();  // counted in unsent by finish()
        }
      }
    }
    if (stream_out_.empty()) {
      if (ending) return end_stream();
      stream_.expires_never();
      return;
    }
    stream_ending_ = ending;
    stream_writing_ = true;
    stream_.expires_after(server_.options.write_timeout);
    asio::async_write(stream_, asio::buffer(stream_out_),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        self->on_stream_write(ec);
                      });
  }

  void on_stream_write(beast::error_code ec) {
    stream_writing_ = false;
    if (ec) {
      if (ec == beast::error::timeout) server_.timeouts.fetch_add(1, std::memory_order_relaxed);
      return close();
    }
    {
      std::lock_guard lock(stream_core_->mu);
      stream_core_->unsent -= stream_out_counted_;
    }
    if (stream_ending_) return end_stream();
    write_stream();
  }

  // The body is complete: the connection goes back to reading requests (or closes).
  void end_stream() {
    stream_core_.reset();  // finished cleanly: its on_close does not run
    stop_watching();
    current_.reset();
    auto hold = std::move(in_work_);
    if (!stream_keep_alive_ || server_.stopping.load()) return close();
    do_read();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    if (current_) current_->cancelled->store(true);
    if (stream_core_) stream_core_->close();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
    auto hold = std::move(in_work_);  // may be the last reference: released on return
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> res_;
  Server::Impl& server_;
  const bool overflow_;  // beyond max_connections: one request, then close
  std::shared_ptr<Reply::State> current_;
  std::shared_ptr<Session> in_work_;  // self, while a handler holds the request or a stream
  bool keep_alive_ = true;
  unsigned version_ = 11;
  bool watching_ = false;
  bool closed_ = false;

  std::shared_ptr<StreamCore> stream_core_;  // the open stream, if any
  std::string stream_out_;                   // the write in progress
  size_t stream_out_counted_ = 0;            // its bytes that count as unsent
  bool stream_writing_ = false;
  bool stream_ending_ = false;  // the write in progress carries the end of the body
  bool stream_keep_alive_ = true;
};

void deliver_response(const std::shared_ptr<Reply::State>& state, ServerResponse response) {
  auto session = state->session.lock();
  if (!session) return;
  asio::post(session->stream_.get_executor(),
             [weak = state->session, raw = state.get(), response = std::move(response)]() mutable {
               if (auto self = weak.lock()) self->on_response(raw, std::move(response));
             });
}

// Reads the session's request facts off its strand: they are written in on_read before the
// handler runs and not again until this request is answered, and this is its answer.
ResponseStream open_response_stream(const std::shared_ptr<Reply::State>& state, StreamHead head) {
  auto session = state->session.lock();
  if (!session) return ResponseStream();
  const auto& options = session->server_.options;
  unsigned version = session->version_;
  bool keep_alive = session->keep_alive_ && !head.close && version != 10;
  auto core = std::make_shared<StreamCore>();
  core->limit = options.stream_buffer_limit_bytes;
  core->chunked = version != 10;
  core->cancelled = state->cancelled;
  core->pending = stream_head_bytes(head, version, keep_alive, options.server_name);
  core->unsent = core->pending.size();
  core->notify_posted = true;  // on_stream_start writes what is pending
  auto executor = session->stream_.get_executor();
  std::weak_ptr<Session> weak = session;
  // A live session means a live io_context: a stream that outlives its server posts nothing.
  core->notify = [weak, executor] {
    if (weak.expired()) return;
    asio::post(executor, [weak] {
      if (auto self = weak.lock()) self->on_stream_ready();
    });
  };
  core->drop = [weak, executor] {
    if (weak.expired()) return;
    asio::post(executor, [weak] {
      if (auto self = weak.lock()) self->on_stream_overflow();
    });
  };
  asio::post(executor, [weak, raw = state.get(), core, keep_alive] {
    if (auto self = weak.lock())
      self->on_stream_start(raw, core, keep_alive);
    else
      core->close();
  });
  auto handle = std::make_shared<ResponseStream::Handle>();
  handle->core = std::move(core);
  return ResponseStream(std::move(handle));
}

void Server::Impl::do_accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping.load()) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      // Out of descriptors or memory: back off instead of spinning on accept.
      accept_backoff.expires_after(std::chrono::milliseconds(50));
      accept_backoff.async_wait([this](beast::error_code e) {
        if (!e) do_accept();
      });
      return;
    }
    accepted.fetch_add(1, std::memory_order_relaxed);
    // One accept is outstanding at a time, so only session ends race with these checks, and
    // they only make room.
    bool overflow = normal_open.load() >= options.max_connections;
    if (overflow && overflow_open.load() >= options.overflow_connections) {
      refused.fetch_add(1, std::memory_order_relaxed);
      beast::error_code ignored;
      socket.close(ignored);
      return do_accept();
    }
    (overflow ? overflow_open : normal_open).fetch_add(1, std::memory_order_relaxed);
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    auto session = std::make_shared<Session>(std::move(socket), *this, overflow);
    {
      std::lock_guard lock(sessions_mu);
      sessions.emplace(session.get(), session);
    }
    session->run();
    do_accept();
  });
}

void Server::Impl::close_all_sessions() {
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(sessions_mu);
    for (auto& [raw, weak] : sessions)
      if (auto s = weak.lock()) live.push_back(std::move(s));
  }
  for (auto& s : live) s->close_now();
}

}  // namespace trafficsim::http
