#include "support/tls_test_server.hpp"

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "support/process.hpp"

namespace trafficsim::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr const char* kOpensslConfig = R"(
[req]
distinguished_name = dn
prompt = no
[dn]
CN = trafficsim test
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
[other_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:other.invalid
)";

void openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  auto r = run_process(args, std::chrono::seconds(10));
  if (r.exit_code != 0)
    throw std::runtime_error("openssl " + args[1] + " failed (" + std::to_string(r.exit_code) +
                             "): " + r.err + r.out);
}

// A P-256 key and a certificate for it signed by the CA, with the config's `extensions`.
void issue(const std::filesystem::path& dir, const std::string& name, const std::string& serial,
           const std::string& extensions) {
  const std::string base = (dir / name).string();
  const std::string config = (dir / "openssl.cnf").string();
  openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", base + ".key", "-out", base + ".csr", "-config", config, "-subj",
           "/CN=" + name});
  openssl({"x509", "-req", "-in", base + ".csr", "-CA", (dir / "ca.pem").string(), "-CAkey",
           (dir / "ca.key").string(), "-set_serial", serial, "-days", "2", "-out", base + ".pem",
           "-extfile", config, "-extensions", extensions});
}

}  // namespace

TestCertificates make_test_certificates(const std::filesystem::path& dir) {
  write_file((dir / "openssl.cnf").string(), kOpensslConfig);
  openssl({"req",
           "-x509",
           "-new",
           "-newkey",
           "ec",
           "-pkeyopt",
           "ec_paramgen_curve:prime256v1",
           "-nodes",
           "-keyout",
           (dir / "ca.key").string(),
           "-out",
           (dir / "ca.pem").string(),
           "-days",
           "2",
           "-config",
           (dir / "openssl.cnf").string(),
           "-extensions",
           "ca_ext",
           "-subj",
           "/CN=trafficsim test CA"});
  issue(dir, "server", "2", "server_ext");
  issue(dir, "other", "3", "other_ext");
  TestCertificates c;
  c.ca_file = (dir / "ca.pem").string();
  c.cert_file = (dir / "server.pem").string();
  c.key_file = (dir / "server.key").string();
  c.other_cert_file = (dir / "other.pem").string();
  c.other_key_file = (dir / "other.key").string();
  return c;
}

std::string TlsTestRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (beast::iequals(k, name)) return v;
  return {};
}

struct TlsTestServer::Impl {
  Impl(const std::string& cert_file, const std::string& key_file, TlsTestHandler h)
      : handler(std::move(h)) {
    context.use_certificate_chain_file(cert_file);
    context.use_private_key_file(key_file, ssl::context::pem);
    acceptor.open(tcp::v4());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor.listen();
    port = acceptor.local_endpoint().port();
    accept();
    thread = std::thread([this] { ioc.run(); });
  }

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;  // the acceptor was closed: the server stops
      std::make_shared<Connection>(this, std::move(socket))->start();
      accept();
    });
  }

  // One connection: handshake, read a request, answer it, close.
  struct Connection : std::enable_shared_from_this<Connection> {
    Connection(Impl* s, tcp::socket socket) : server(s), stream(std::move(socket), s->context) {}

    void start() {
      beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
      stream.async_handshake(ssl::stream_base::server,
                             [self = shared_from_this()](beast::error_code ec) {
                               if (ec) {
                                 ++self->server->failed;
                                 return;
                               }
                               self->read();
                             });
    }

    void read() {
      bhttp::async_read(stream, buffer, request,
                        [self = shared_from_this()](beast::error_code ec, size_t) {
                          if (!ec) self->answer();
                        });
    }

    void answer() {
      TlsTestRequest seen{
          std::string(request.method_string()), std::string(request.target()), request.body(), {}};
      for (const auto& field : request)
        seen.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      TlsTestResponse out = server->handler(seen);
      {
        std::lock_guard lock(server->mutex);
        server->seen.push_back(std::move(seen));
      }
      response.result(static_cast<unsigned>(out.status));
      response.version(11);
      response.set(bhttp::field::content_type, out.content_type);
      response.body() = std::move(out.body);
      response.keep_alive(false);
      response.prepare_payload();
      bhttp::async_write(stream, response, [self = shared_from_this()](beast::error_code, size_t) {
        beast::get_lowest_layer(self->stream).close();
      });
    }

    Impl* server;
    ssl::stream<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> request;
    bhttp::response<bhttp::string_body> response;
  };

  TlsTestHandler handler;
  ssl::context context{ssl::context::tls_server};
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  uint16_t port = 0;
  std::thread thread;
  mutable std::mutex mutex;
  std::vector<TlsTestRequest> seen;
  std::atomic<int> failed{0};
};

TlsTestServer::TlsTestServer(const std::string& cert_file, const std::string& key_file,
                             TlsTestHandler handler)
    : impl_(std::make_unique<Impl>(cert_file, key_file, std::move(handler))) {}

TlsTestServer::~TlsTestServer() {
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

uint16_t TlsTestServer::port() const {
  return impl_->port;
}

std::string TlsTestServer::url(std::string_view host) const {
  return "https://" + std::string(host) + ":" + std::to_string(port());
}

std::vector<TlsTestRequest> TlsTestServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->seen;
}

int TlsTestServer::failed_handshakes() const {
  return impl_->failed.load();
}

}  // namespace trafficsim::testing
