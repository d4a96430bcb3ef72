#pragma once
// Private to the http module: the Server's shared state, the plumbing between a handler's Reply
// or ResponseStream and its session, and what the async client needs of a Server.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "http/server.hpp"

namespace trafficsim::http {

class Session;

// Shared by a Reply (any thread) and its session (the session's strand). The first send() or
// stream() wins and posts onto the session, which it holds only weakly: a reply for a closed
// connection goes nowhere.
struct Reply::State {
  std::atomic<bool> sent{false};
  std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
  std::weak_ptr<Session> session;
};

// The session's side of Reply::send and Reply::stream (server_session.cpp); any thread.
void deliver_response(const std::shared_ptr<Reply::State>& state, ServerResponse response);
ResponseStream open_response_stream(const std::shared_ptr<Reply::State>& state, StreamHead head);

// A chunked body's end. Counted in StreamCore::unsent from finish() until it is written.
inline constexpr std::string_view kTerminatingChunk = "0\r\n\r\n";

// One stream's queue between its writers (any thread, under mu) and its session (the strand).
// Writers append framed chunks to `pending` and wake the session with notify(); the session
// swaps `pending` out, writes it and subtracts what it wrote from `unsent`.
struct StreamCore {
  std::mutex mu;
  std::string pending;  // framed bytes not yet taken by the session
  size_t unsent = 0;    // bytes in `pending` plus those in the session's write in progress
  size_t limit = 0;     // unsent bytes allowed (ServerOptions::stream_buffer_limit_bytes)
  bool chunked = true;  // false for an HTTP/1.0 client: raw bytes, the close ends the body
  bool finish_requested = false;
  bool closed = false;       // no more writes; set at once when a writer overflows the limit
  bool close_fired = false;  // on_close has run (or had nothing to run)
  bool notify_posted = false;  // a wake-up is on its way to the session
  std::function<void()> on_close;
  std::function<void()> notify;  // posts "there is something to write" onto the session
  std::function<void()> drop;    // posts "the client does not read: close" onto the session
  std::shared_ptr<std::atomic<bool>> cancelled;

  // Marks the stream closed and runs on_close once (on the calling thread). Idempotent.
  // Called by the session (its strand, or Server::stop), never while holding mu.
  void close();
};

// What a ResponseStream points to; the last handle finishes the stream.
struct ResponseStream::Handle {
  std::shared_ptr<StreamCore> core;
  ~Handle();
};

struct Server::Impl {
  // Declaration order matters: the io_context is destroyed after the session registry and the
  // counters its pending handlers (sessions) still touch, and before what was built on it.
  ServerOptions options;
  RequestHandler handler;
  std::atomic<bool> stopping{false};
  bool started = false;
  std::mutex sessions_mu;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  std::atomic<uint64_t> accepted{0}, normal_open{0}, overflow_open{0}, refused{0}, overloaded{0},
      requests{0}, body_too_large{0}, header_too_large{0}, bad_request{0}, timeouts{0},
      client_gone{0}, streams_dropped{0};

  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor;
  boost::asio::steady_timer accept_backoff;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
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
  // The accept loop: each connection becomes a normal session, an overflow session or a refusal.
  void do_accept();
  // Only while the io threads are joined (Server::stop): closes every session and stream.
  void close_all_sessions();
};

Server::Impl& server_impl(Server& server);
boost::asio::io_context& server_io_context(Server& server);

}  // namespace trafficsim::http
