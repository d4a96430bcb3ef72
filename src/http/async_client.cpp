// One call = one connection: resolve, connect, write, read, all under one deadline.
#include "http/async_client.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <memory>
#include <optional>
#include <thread>

#include "http/server_impl.hpp"
#include "http/url.hpp"

namespace trafficsim::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

class Call : public std::enable_shared_from_this<Call> {
 public:
  Call(asio::io_context& ioc, Url url, ClientRequest request,
       std::function<void(ClientResult)> done)
      : resolver_(asio::make_strand(ioc)),
        stream_(resolver_.get_executor()),
        url_(std::move(url)),
        request_(std::move(request)),
        done_(std::move(done)),
        deadline_(std::chrono::steady_clock::now() + request_.timeout) {}

  void start() {
    req_.method_string(request_.method);
    req_.target(url_.target);
    req_.version(11);
    req_.set(bhttp::field::host, url_.host_header());
    req_.set(bhttp::field::user_agent, "trafficsim");
    for (auto& [k, v] : request_.headers) req_.set(k, v);
    req_.body() = request_.body;
    req_.keep_alive(false);
    req_.prepare_payload();
    parser_.body_limit(8 << 20);
    stream_.expires_at(deadline_);
    resolver_.async_resolve(url_.host, std::to_string(url_.port),
                            [self = shared_from_this()](beast::error_code ec,
                                                        tcp::resolver::results_type results) {
                              self->on_resolve(ec, results);
                            });
  }

 private:
  void on_resolve(beast::error_code ec, const tcp::resolver::results_type& results) {
    if (ec) return finish(ClientOutcome::connect_error, "resolve: " + ec.message());
    if (std::chrono::steady_clock::now() >= deadline_)
      return finish(ClientOutcome::timeout, "timed out resolving");
    stream_.expires_at(deadline_);
    stream_.async_connect(results, [self = shared_from_this()](beast::error_code e,
                                                               const tcp::endpoint&) {
      if (e) return self->fail(e, "connect");
      self->stream_.expires_at(self->deadline_);
      bhttp::async_write(self->stream_, self->req_,
                         [self](beast::error_code e2, size_t) { self->on_write(e2); });
    });
  }

  void on_write(beast::error_code ec) {
    if (ec) return fail(ec, "write");
    stream_.expires_at(deadline_);
    bhttp::async_read(stream_, buffer_, parser_, [self = shared_from_this()](beast::error_code e,
                                                                             size_t) {
      if (e) return self->fail(e, "read");
      ClientResult r;
      r.status = static_cast<int>(self->parser_.get().result_int());
      for (const auto& field : self->parser_.get())
        r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      r.body = std::move(self->parser_.get().body());
      self->complete(std::move(r));
    });
  }

  void fail(beast::error_code ec, const char* stage) {
    if (ec == beast::error::timeout)
      return finish(ClientOutcome::timeout, std::string("timed out in ") + stage);
    finish(std::string_view(stage) == "connect" ? ClientOutcome::connect_error
                                                : ClientOutcome::io_error,
           std::string(stage) + ": " + ec.message());
  }

  void finish(ClientOutcome outcome, std::string error) {
    ClientResult r;
    r.outcome = outcome;
    r.error = std::move(error);
    complete(std::move(r));
  }

  void complete(ClientResult r) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    if (auto done = std::move(done_)) done(std::move(r));
  }

  tcp::resolver resolver_;
  beast::tcp_stream stream_;
  Url url_;
  ClientRequest request_;
  std::function<void(ClientResult)> done_;
  std::chrono::steady_clock::time_point deadline_;
  bhttp::request<bhttp::string_body> req_;
  bhttp::response_parser<bhttp::string_body> parser_;
  beast::flat_buffer buffer_;
};

// Starts one call on ioc; a URL it cannot call is reported on ioc too (never inline, so done
// always runs on an io thread).
void start_call(asio::io_context& ioc, ClientRequest request,
                std::function<void(ClientResult)> done) {
  std::string error;
  auto url = parse_url(request.url, &error);
  if (!url || url->tls()) {
    ClientResult r;
    r.outcome = ClientOutcome::bad_url;
    r.error = url ? "https is not supported for service calls" : error;
    asio::post(ioc, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
    return;
  }
  std::make_shared<Call>(ioc, std::move(*url), std::move(request), std::move(done))->start();
}

}  // namespace

std::optional<std::string_view> ClientResult::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (boost::beast::iequals(key, name)) return std::string_view(value);
  return std::nullopt;
}

void async_http_call(Server& server, ClientRequest request,
                     std::function<void(ClientResult)> done) {
  start_call(server_io_context(server), std::move(request), std::move(done));
}

struct AsyncClient::Impl {
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  std::thread thread{[this] { ioc.run(); }};
};

AsyncClient::AsyncClient() : impl_(std::make_unique<Impl>()) {}

AsyncClient::~AsyncClient() {
  impl_->work.reset();
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void AsyncClient::call(ClientRequest request, std::function<void(ClientResult)> done) {
  start_call(impl_->ioc, std::move(request), std::move(done));
}

}  // namespace trafficsim::http
