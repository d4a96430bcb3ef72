// The Server's public face: requests, replies and streams as handlers see them, and the
// server's life (bind, start, stop, counters). Sessions themselves live in server_session.cpp.
#include "http/server.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <cctype>
#include <cstdio>
#include <stdexcept>

#include "core/ascii.hpp"
#include "http/server_impl.hpp"

namespace trafficsim::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
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

std::optional<std::string_view> ServerRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (core::iequals_ascii(k, name)) return std::string_view(v);
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Reply

void Reply::send(ServerResponse response) const {
  if (state_->sent.exchange(true)) return;
  deliver_response(state_, std::move(response));
}

ResponseStream Reply::stream(StreamHead head) const {
  if (state_->sent.exchange(true)) return ResponseStream();
  return open_response_stream(state_, std::move(head));
}

bool Reply::cancelled() const { return state_->cancelled->load(std::memory_order_relaxed); }

std::shared_ptr<const std::atomic<bool>> Reply::cancel_flag() const { return state_->cancelled; }

// ---------------------------------------------------------------------------------------------
// ResponseStream

void StreamCore::close() {
  std::function<void()> fn;
  {
    std::lock_guard lock(mu);
    if (close_fired) return;
    close_fired = true;
    closed = true;
    pending.clear();
    fn = std::move(on_close);
    on_close = nullptr;
  }
  if (cancelled) cancelled->store(true);
  if (fn) fn();
}

static void append_chunk(std::string& out, std::string_view data, bool chunked) {
  if (!chunked) {
    out.append(data);
    return;
  }
  char size[24];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  out.append(size, static_cast<size_t>(n));
  out.append(data);
  out.append("\r\n");
}

static void finish_core(StreamCore& core) {
  bool wake = false;
  {
    std::lock_guard lock(core.mu);
    if (core.closed || core.finish_requested) return;
    core.finish_requested = true;
    // The terminating chunk is framing still to send: unsent_bytes() reaches 0 only once it is
    // out, so "nothing unsent" after finish() means the body really ended (JobManager's shutdown
    // flush waits on exactly that).
    if (core.chunked) core.unsent += kTerminatingChunk.size();
    wake = !std::exchange(core.notify_posted, true);
  }
  if (wake && core.notify) core.notify();
}

ResponseStream::Handle::~Handle() {
  if (core) finish_core(*core);
}

bool ResponseStream::write(std::string chunk) const {
  if (!handle_) return false;
  auto& core = *handle_->core;
  bool wake = false;
  {
    std::unique_lock lock(core.mu);
    // cancelled also covers a stream whose session closed before it could take the stream.
    if (core.closed || core.finish_requested || core.cancelled->load()) return false;
    if (chunk.empty()) return true;
    size_t framed = chunk.size() + (core.chunked ? 20 : 0);  // an upper bound for the framing
    if (core.unsent + framed > core.limit) {
      core.closed = true;  // closed() says so now; the session drops the client and fires on_close
      core.pending.clear();
      lock.unlock();
      if (core.drop) core.drop();
      return false;
    }
    size_t before = core.pending.size();
    append_chunk(core.pending, chunk, core.chunked);
    core.unsent += core.pending.size() - before;
    wake = !std::exchange(core.notify_posted, true);
  }
  if (wake && core.notify) core.notify();
  return true;
}

void ResponseStream::finish() const {
  if (handle_) finish_core(*handle_->core);
}

bool ResponseStream::closed() const {
  if (!handle_) return true;
  std::lock_guard lock(handle_->core->mu);
  return handle_->core->closed || handle_->core->cancelled->load();
}

void ResponseStream::on_close(std::function<void()> fn) const {
  if (!handle_) {
    if (fn) fn();
    return;
  }
  auto& core = *handle_->core;
  {
    std::lock_guard lock(core.mu);
    if (!core.close_fired) {
      core.on_close = std::move(fn);
      return;
    }
  }
  if (fn) fn();
}

size_t ResponseStream::unsent_bytes() const {
  if (!handle_) return 0;
  std::lock_guard lock(handle_->core->mu);
  return handle_->core->unsent;
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
  impl_->close_all_sessions();
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
  c.connections_open = i.normal_open.load() + i.overflow_open.load();
  c.connections_refused = i.refused.load();
  c.rejected_overloaded = i.overloaded.load();
  c.requests = i.requests.load();
  c.rejected_body_too_large = i.body_too_large.load();
  c.rejected_header_too_large = i.header_too_large.load();
  c.rejected_bad_request = i.bad_request.load();
  c.timeouts = i.timeouts.load();
  c.client_gone = i.client_gone.load();
  c.streams_dropped = i.streams_dropped.load();
  return c;
}

}  // namespace trafficsim::http
