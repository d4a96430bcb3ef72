// One call = one connection: resolve, connect, the TLS handshake for https, write, read, all
// under one deadline. The trust rules (what is verified, against which CAs) are client_tls.cpp's.
#include "http/async_client.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>

#include "http/blocking_call.hpp"
#include "http/client_tls_detail.hpp"
#include "http/server_impl.hpp"
#include "http/url.hpp"

namespace trafficsim::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kBodyLimit = 8 << 20;  // an AsyncClient's answers: webhooks, LLM completions

using PlainStream = beast::tcp_stream;
using TlsStream = ssl::stream<beast::tcp_stream>;

// One call over Stream (PlainStream for http, TlsStream for https). StreamArgs: the TLS context.
template <class Stream>
class Call : public std::enable_shared_from_this<Call<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  template <class... StreamArgs>
  Call(asio::io_context& ioc, Url url, ClientRequest request,
       std::function<void(ClientResult)> done, size_t max_body, StreamArgs&... stream_args)
      : resolver_(asio::make_strand(ioc)),
        stream_(resolver_.get_executor(), stream_args...),
        url_(std::move(url)),
        request_(std::move(request)),
        done_(std::move(done)),
        deadline_(std::chrono::steady_clock::now() + request_.timeout) {
    parser_.body_limit(max_body);
  }

  void start() {
    req_.method_string(request_.method);
    req_.target(url_.target);
    req_.version(11);
    req_.set(bhttp::field::host, url_.host_header());
    req_.set(bhttp::field::user_agent, "trafficsim");
    for (auto& [k, v] : request_.headers) req_.set(k, v);
    req_.body() = std::move(request_.body);  // request_.body is not read again
    req_.keep_alive(false);
    req_.prepare_payload();
    if (request_.method == "HEAD") parser_.skip(true);  // a HEAD answer has no body to wait for
    tcp().expires_at(deadline_);
    resolver_.async_resolve(url_.host, std::to_string(url_.port),
                            [self = this->shared_from_this()](
                                beast::error_code ec, tcp::resolver::results_type results) {
                              self->on_resolve(ec, results);
                            });
  }

 private:
  beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }

  void on_resolve(beast::error_code ec, const tcp::resolver::results_type& results) {
    if (ec) return finish(ClientOutcome::connect_error, "resolve: " + ec.message());
    if (std::chrono::steady_clock::now() >= deadline_)
      return finish(ClientOutcome::timeout, "timed out resolving");
    tcp().expires_at(deadline_);
    tcp().async_connect(results, [self = this->shared_from_this()](beast::error_code e,
                                                                   const tcp::endpoint&) {
      if (e) return self->fail(e, "connect");
      if constexpr (kTls)
        self->handshake();
      else
        self->write();
    });
  }

  // https only: SNI and the name the certificate must hold, then the handshake (which verifies
  // the peer's chain and that name).
  void handshake() {
    if (!detail::expect_peer_name(stream_.native_handle(), url_.host))
      return finish(ClientOutcome::tls_error, "TLS: cannot check a certificate for host '" +
                                                  url_.host + "'");
    tcp().expires_at(deadline_);
    stream_.async_handshake(ssl::stream_base::client,
                            [self = this->shared_from_this()](beast::error_code e) {
                              if (e) return self->fail_handshake(e);
                              self->write();
                            });
  }

  void fail_handshake(beast::error_code ec) {
    const std::string where = "TLS handshake with " + url_.host_header();
    if (ec == beast::error::timeout) return finish(ClientOutcome::timeout, "timed out in " + where);
    if constexpr (kTls) {
      if (auto refused = detail::verification_failure(stream_.native_handle()); !refused.empty())
        return finish(ClientOutcome::tls_error, where + ": " + refused);
    }
    // A TLS-level refusal (no protocol or cipher in common, an alert) is not worth a retry; a
    // connection reset or closed mid-handshake is an I/O failure like any other.
    finish(ec.category() == asio::error::get_ssl_category() ? ClientOutcome::tls_error
                                                            : ClientOutcome::io_error,
           where + ": " + ec.message());
  }

  void write() {
    tcp().expires_at(deadline_);
    bhttp::async_write(stream_, req_, [self = this->shared_from_this()](beast::error_code e,
                                                                        size_t) {
      self->on_write(e);
    });
  }

  void on_write(beast::error_code ec) {
    if (ec) return fail(ec, "write");
    tcp().expires_at(deadline_);
    bhttp::async_read(stream_, buffer_, parser_,
                      [self = this->shared_from_this()](beast::error_code e, size_t) {
                        if (e) return self->fail(e, "read");
                        ClientResult r;
                        r.status = static_cast<int>(self->parser_.get().result_int());
                        for (const auto& field : self->parser_.get())
                          r.headers.emplace_back(std::string(field.name_string()),
                                                 std::string(field.value()));
                        r.body = std::move(self->parser_.get().body());
                        self->complete(std::move(r));
                      });
  }

  void fail(beast::error_code ec, const char* stage) {
    if (ec == beast::error::timeout)
      return finish(ClientOutcome::timeout, std::string("timed out in ") + stage);
    if (ec == bhttp::error::body_limit)
      return finish(ClientOutcome::io_error, "response body too large");
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

  // Connection: close was asked, so the TCP connection just goes (no TLS close_notify: nothing
  // more is read from it, and waiting for the peer's would only delay done).
  void complete(ClientResult r) {
    beast::error_code ignored;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp().close();
    if (auto done = std::move(done_)) done(std::move(r));
  }

  tcp::resolver resolver_;
  Stream stream_;
  Url url_;
  ClientRequest request_;
  std::function<void(ClientResult)> done_;
  std::chrono::steady_clock::time_point deadline_;
  bhttp::request<bhttp::string_body> req_;
  bhttp::response_parser<bhttp::string_body> parser_;
  beast::flat_buffer buffer_;
};

// Reports res on ioc, never inline, so done always runs on an io thread.
void post_result(asio::io_context& ioc, std::function<void(ClientResult)> done, ClientResult r) {
  asio::post(ioc, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
}

// The URL a request may be sent to, or nullopt after its bad_url was posted to done.
std::optional<Url> callable_url(asio::io_context& ioc, const ClientRequest& request,
                                std::function<void(ClientResult)>& done) {
  std::string error;
  auto url = parse_url(request.url, &error);
  if (!url) {
    ClientResult r;
    r.outcome = ClientOutcome::bad_url;
    r.error = error;
    post_result(ioc, std::move(done), std::move(r));
  }
  return url;
}

// Starts one call on ioc; tls is the context an https URL is called with.
void start_call(asio::io_context& ioc, Url url, ClientRequest request,
                std::function<void(ClientResult)> done, ssl::context* tls,
                size_t max_body = kBodyLimit) {
  if (!url.tls()) {
    std::make_shared<Call<PlainStream>>(ioc, std::move(url), std::move(request), std::move(done),
                                        max_body)
        ->start();
    return;
  }
  std::make_shared<Call<TlsStream>>(ioc, std::move(url), std::move(request), std::move(done),
                                    max_body, *tls)
      ->start();
}

// A Server's calls trust the system store only; made at the first https call, then shared (an
// SSL_CTX serves any number of connections on any threads once it is set up).
ssl::context& system_tls_context() {
  static ssl::context context(detail::new_client_ssl_ctx(ClientTlsOptions{}));
  return context;
}

}  // namespace

std::optional<std::string_view> ClientResult::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (boost::beast::iequals(key, name)) return std::string_view(value);
  return std::nullopt;
}

void async_http_call(Server& server, ClientRequest request,
                     std::function<void(ClientResult)> done) {
  auto& ioc = server_io_context(server);
  auto url = callable_url(ioc, request, done);
  if (!url) return;
  ssl::context* tls = url->tls() ? &system_tls_context() : nullptr;
  start_call(ioc, std::move(*url), std::move(request), std::move(done), tls);
}

// tls first: a CA file it cannot load throws before the thread starts.
struct AsyncClient::Impl {
  explicit Impl(const ClientTlsOptions& options) : tls(detail::new_client_ssl_ctx(options)) {}
  ssl::context tls;
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  std::thread thread{[this] { ioc.run(); }};
};

AsyncClient::AsyncClient(ClientTlsOptions tls) : impl_(std::make_unique<Impl>(tls)) {}

AsyncClient::~AsyncClient() {
  impl_->work.reset();
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void AsyncClient::call(ClientRequest request, std::function<void(ClientResult)> done) {
  auto url = callable_url(impl_->ioc, request, done);
  if (!url) return;
  start_call(impl_->ioc, std::move(*url), std::move(request), std::move(done), &impl_->tls);
}

namespace detail {

ClientResult blocking_call(ClientRequest request, const ClientTlsOptions& tls, size_t max_body) {
  std::optional<ssl::context> context;
  try {
    context.emplace(new_client_ssl_ctx(tls));
  } catch (const std::exception& e) {
    ClientResult r;
    r.outcome = ClientOutcome::tls_error;
    r.error = e.what();
    return r;
  }
  asio::io_context ioc{1};
  ClientResult result;
  std::function<void(ClientResult)> done = [&result](ClientResult r) { result = std::move(r); };
  if (auto url = callable_url(ioc, request, done))
    start_call(ioc, std::move(*url), std::move(request), std::move(done), &*context, max_body);
  ioc.run();
  return result;
}

}  // namespace detail
}  // namespace trafficsim::http
