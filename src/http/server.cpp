// The Beast server: one Session per connection, its lifecycle top to bottom
// (do_read -> on_read -> dispatch -> on_response -> on_write -> do_read), each on its own strand.
#include "http/server.hpp"

#include "http/server_impl.hpp"

#include <sys/socket.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

namespace trafficsim::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

// ---------------------------------------------------------------------------------------------
// ServerRequest

std::string_view ServerRequest::path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string_view ServerRequest::query() const {
  std::string_view t = target;
  auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

static bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::optional<std::string_view> ServerRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return std::string_view(v);
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Reply

struct Reply::State {
  std::atomic<bool> sent{false};
  std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
  std::function<void(ServerResponse)> deliver;
};

void Reply::send(ServerResponse response) const {
  if (state_->sent.exchange(true)) return;
  auto deliver = std::move(state_->deliver);
  if (deliver) deliver(std::move(response));
}

bool Reply::cancelled() const { return state_->cancelled->load(std::memory_order_relaxed); }

std::shared_ptr<const std::atomic<bool>> Reply::cancel_flag() const { return state_->cancelled; }

// ---------------------------------------------------------------------------------------------
// Server::Impl

class Session;

struct Server::Impl {
  // Declaration order matters: the io_context is destroyed after the session registry and the
  // counters its pending handlers (sessions) still touch, and before what was built on it.
  ServerOptions options;
  RequestHandler handler;
  std::atomic<bool> stopping{false};
  bool started = false;
  std::mutex sessions_mu;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  std::atomic<uint64_t> accepted{0}, open{0}, requests{0}, body_too_large{0},
      header_too_large{0}, bad_request{0}, timeouts{0}, client_gone{0};

  asio::io_context ioc;
  tcp::acceptor acceptor;
  asio::steady_timer accept_backoff;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;

  Impl(ServerOptions o, RequestHandler h)
      : options(std::move(o)),
        handler(std::move(h)),
        ioc(thread_count(options)),
        acceptor(ioc),
        accept_backoff(ioc) {}

  static int thread_count(const ServerOptions& o) {
    return o.threads > 0 ? o.threads
                         : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  void do_accept();
};

static std::string json_error(std::string_view code, std::string_view message) {
  std::string out = "{\"error\":\"";
  out += code;
  out += "\",\"message\":\"";
  out += message;  // fixed ASCII texts only
  out += "\"}";
  return out;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server::Impl& server)
      : stream_(std::move(socket)), server_(server) {}

  ~Session() {
    server_.open.fetch_sub(1, std::memory_order_relaxed);
    std::lock_guard lock(server_.sessions_mu);
    server_.sessions.erase(this);
  }

  void run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }

  // Only while the io threads are joined (Server::stop).
  void close_now() {
    if (current_) current_->cancelled->store(true);
    beast::error_code ec;
    stream_.socket().close(ec);
    in_work_.reset();  // the caller holds a reference
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(server_.options.body_limit_bytes);
    parser_->header_limit(static_cast<uint32_t>(server_.options.header_limit_bytes));
    stream_.expires_after(buffer_.size() > 0 ? server_.options.read_timeout
                                             : server_.options.idle_timeout);
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
    server_.requests.fetch_add(1, std::memory_order_relaxed);
    auto& msg = parser_->get();
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();

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
    std::weak_ptr<Session> weak = shared_from_this();
    auto executor = stream_.get_executor();
    state->deliver = [weak, executor, state_raw = state.get()](ServerResponse response) {
      asio::post(executor, [weak, state_raw, response = std::move(response)]() mutable {
        if (auto self = weak.lock()) self->on_response(state_raw, std::move(response));
      });
    };
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

  // While a handler works, notice a client that hangs up so the work can stop.
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

  void on_response(Reply::State* state, ServerResponse response) {
    if (closed_ || !current_ || current_.get() != state) return;
    if (watching_) {
      watching_ = false;
      beast::error_code ec;
      stream_.socket().cancel(ec);
    }
    current_.reset();
    auto hold = std::move(in_work_);
    write(std::move(response));
  }

  void send_error(int status, std::string_view code, std::string_view message) {
    keep_alive_ = false;
    version_ = 11;
    write(ServerResponse{status, "application/json", json_error(code, message), {}, true});
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

  void close() {
    if (closed_) return;
    closed_ = true;
    if (current_) current_->cancelled->store(true);
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
  std::shared_ptr<Reply::State> current_;
  std::shared_ptr<Session> in_work_;  // self, while a handler holds the request
  bool keep_alive_ = true;
  unsigned version_ = 11;
  bool watching_ = false;
  bool closed_ = false;
};

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
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    accepted.fetch_add(1, std::memory_order_relaxed);
    open.fetch_add(1, std::memory_order_relaxed);
    auto session = std::make_shared<Session>(std::move(socket), *this);
    {
      std::lock_guard lock(sessions_mu);
      sessions.emplace(session.get(), session);
    }
    session->run();
    do_accept();
  });
}

// ---------------------------------------------------------------------------------------------
// Server

Server::Server(ServerOptions options, RequestHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {
  auto& o = impl_->options;
  beast::error_code ec;
  auto address = asio::ip::make_address(o.host, ec);
  if (ec) throw std::runtime_error("invalid listen address '" + o.host + "': " + ec.message());
  tcp::endpoint endpoint(address, o.port);
  auto fail = [&](const char* what) {
    throw std::runtime_error(std::string("cannot ") + what + " " + o.host + ":" +
                             std::to_string(o.port) + ": " + ec.message());
  };
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (ec) fail("open a socket for");
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  impl_->acceptor.bind(endpoint, ec);
  if (ec) fail("listen on");
  impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) fail("listen on");
}

Server::~Server() { stop(); }

Server::Impl& server_impl(Server& server) { return *server.impl_; }
asio::io_context& server_io_context(Server& server) { return server_impl(server).ioc; }

uint16_t Server::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

std::string Server::url() const {
  auto host = impl_->options.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(port());
}

void Server::start() {
  if (impl_->started) return;
  impl_->started = true;
  impl_->work.emplace(impl_->ioc.get_executor());
  impl_->do_accept();
  int n = Impl::thread_count(impl_->options);
  for (int i = 0; i < n; ++i) impl_->threads.emplace_back([this] { impl_->ioc.run(); });
}

void Server::stop() {
  if (impl_->stopping.exchange(true)) return;
  impl_->work.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  beast::error_code ec;
  impl_->acceptor.close(ec);
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(impl_->sessions_mu);
    for (auto& [raw, weak] : impl_->sessions)
      if (auto s = weak.lock()) live.push_back(std::move(s));
  }
  for (auto& s : live) s->close_now();
}

void Server::after(std::chrono::microseconds delay, std::function<void()> fn) {
  auto timer = std::make_shared<asio::steady_timer>(impl_->ioc, delay);
  timer->async_wait([timer, fn = std::move(fn)](beast::error_code ec) {
    if (!ec) fn();
  });
}

void Server::post(std::function<void()> fn) { asio::post(impl_->ioc, std::move(fn)); }

ServerCounters Server::counters() const {
  auto& i = *impl_;
  ServerCounters c;
  c.connections_accepted = i.accepted.load();
  c.connections_open = i.open.load();
  c.requests = i.requests.load();
  c.rejected_body_too_large = i.body_too_large.load();
  c.rejected_header_too_large = i.header_too_large.load();
  c.rejected_bad_request = i.bad_request.load();
  c.timeouts = i.timeouts.load();
  c.client_gone = i.client_gone.load();
  return c;
}

}  // namespace trafficsim::http
