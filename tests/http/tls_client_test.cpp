// https through the outbound clients — AsyncClient (its own thread), async_http_call (a
// Server's io threads) and simple_request — against a real TLS server on 127.0.0.1 with a
// throwaway CA: the peer is verified (chain, name or address, SNI), a CA file adds trust, and
// each refusal says why.
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <stdexcept>
#include <string>

#include "http/async_client.hpp"
#include "http/client_tls.hpp"
#include "http/server_test_support.hpp"
#include "http/simple_get.hpp"
#include "support/eventually.hpp"
#include "support/process.hpp"
#include "support/tls_test_server.hpp"

namespace trafficsim::http {
namespace {

using namespace std::chrono_literals;
using testing::TlsTestRequest;
using testing::TlsTestResponse;
using testing::TlsTestServer;

// Answers 201 with "METHOD TARGET BODY".
TlsTestResponse echo(const TlsTestRequest& req) {
  return {201, "text/plain", req.method + " " + req.target + " " + req.body};
}

class TlsClient : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  testing::TestCertificates certs_ = testing::make_test_certificates(dir_.path());
  ClientTlsOptions trusted_{certs_.ca_file};

  static ClientResult call(AsyncClient& client, ClientRequest request) {
    std::promise<ClientResult> done;
    auto future = done.get_future();
    client.call(std::move(request), [&done](ClientResult r) { done.set_value(std::move(r)); });
    if (future.wait_for(20s) != std::future_status::ready) {
      ADD_FAILURE() << "done was not called";
      return {};
    }
    return future.get();
  }

  static Url url_of(const std::string& text) {
    std::string error;
    auto url = parse_url(text, &error);
    EXPECT_TRUE(url) << error;
    return url.value_or(Url{});
  }
};

TEST_F(TlsClient, AsyncClientWithTheCaFileGetsTheStatusAndBody) {
  TlsTestServer server(certs_.cert_file, certs_.key_file, echo);
  AsyncClient client(trusted_);
  ClientRequest req;
  req.method = "POST";
  req.url = server.url() + "/v2/enqueue?x=1";
  req.body = "payload";
  auto r = call(client, req);
  EXPECT_EQ(r.outcome, ClientOutcome::ok) << r.error;
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "POST /v2/enqueue?x=1 payload");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].header("Host"), "127.0.0.1:" + std::to_string(server.port()));
}

TEST_F(TlsClient, SimpleRequestWithTheCaFileGetsTheStatusAndBody) {
  TlsTestServer server(certs_.cert_file, certs_.key_file, echo);
  std::string error;
  auto r = simple_request("PUT", url_of(server.url() + "/clock"), {{"X-API-Key", "k"}}, "{}", 5s,
                          &error, 1 << 20, trusted_);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "PUT /clock {}");
  // A host name is checked as a DNS name (and sent as SNI): the certificate names localhost too.
  auto by_name =
      simple_get(url_of(server.url("localhost") + "/health"), 5s, &error, 1 << 20, trusted_);
  ASSERT_TRUE(by_name) << error;
  EXPECT_EQ(by_name->body, "GET /health ");
  ASSERT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(server.requests()[0].header("X-API-Key"), "k");
}

TEST_F(TlsClient, WithoutTheCaFileTheSystemStoreRefusesTheCertificate) {
  TlsTestServer server(certs_.cert_file, certs_.key_file, echo);
  AsyncClient client;  // the system store only: it does not know our CA
  ClientRequest req;
  req.url = server.url() + "/";
  auto r = call(client, req);
  EXPECT_EQ(r.outcome, ClientOutcome::tls_error);
  EXPECT_NE(r.error.find("certificate verification failed"), std::string::npos) << r.error;
  EXPECT_EQ(r.status, 0);

  std::string error;
  EXPECT_FALSE(simple_get(url_of(server.url() + "/"), 5s, &error));
  EXPECT_NE(error.find("certificate verification failed"), std::string::npos) << error;
  EXPECT_TRUE(server.requests().empty());  // nothing was sent to an unverified peer
  EXPECT_TRUE(testing::eventually([&] { return server.failed_handshakes() == 2; }));
}

TEST_F(TlsClient, ACertificateForAnotherNameIsRefused) {
  // Signed by the trusted CA, but for other.invalid only.
  TlsTestServer server(certs_.other_cert_file, certs_.other_key_file, echo);
  AsyncClient client(trusted_);
  ClientRequest req;
  req.url = server.url() + "/";
  auto by_address = call(client, req);
  EXPECT_EQ(by_address.outcome, ClientOutcome::tls_error);
  EXPECT_NE(by_address.error.find("certificate verification failed: IP address mismatch"),
            std::string::npos)
      << by_address.error;

  std::string error;
  EXPECT_FALSE(simple_get(url_of(server.url("localhost") + "/"), 5s, &error, 1 << 20, trusted_));
  EXPECT_NE(error.find("certificate verification failed: hostname mismatch"), std::string::npos)
      << error;
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(TlsClient, AServersCallsVerifyAgainstTheSystemStore) {
  TlsTestServer server(certs_.cert_file, certs_.key_file, echo);
  auto home = test::start_server({}, test::echo_handler());
  std::promise<ClientResult> done;
  ClientRequest req;
  req.url = server.url() + "/";
  async_http_call(*home, req, [&done](ClientResult r) { done.set_value(std::move(r)); });
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(20s), std::future_status::ready);
  auto r = future.get();
  EXPECT_EQ(r.outcome, ClientOutcome::tls_error);
  EXPECT_NE(r.error.find("certificate verification failed"), std::string::npos) << r.error;
}

TEST_F(TlsClient, APeerThatNeverAnswersTheHandshakeIsATimeout) {
  // Listening but never accepting: the kernel completes the TCP handshake, nobody answers TLS.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string url = "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";

  AsyncClient client(trusted_);
  ClientRequest req;
  req.url = url;
  req.timeout = 300ms;
  auto r = call(client, req);
  EXPECT_EQ(r.outcome, ClientOutcome::timeout) << r.error;
  EXPECT_NE(r.error.find("TLS handshake"), std::string::npos) << r.error;

  std::string error;
  EXPECT_FALSE(simple_get(url_of(url), 300ms, &error, 1 << 20, trusted_));
  EXPECT_NE(error.find("timed out"), std::string::npos) << error;
  ::close(fd);
}

TEST_F(TlsClient, BodyOverTheLimitIsRefused) {
  TlsTestServer server(certs_.cert_file, certs_.key_file, [](const TlsTestRequest&) {
    return TlsTestResponse{200, "text/plain", std::string(5000, 'z')};
  });
  std::string error;
  EXPECT_FALSE(simple_get(url_of(server.url() + "/"), 5s, &error, 1000, trusted_));
  EXPECT_EQ(error, "response body too large");
  auto r = simple_get(url_of(server.url() + "/"), 5s, &error, 5000, trusted_);
  ASSERT_TRUE(r) << error;
  EXPECT_EQ(r->body.size(), 5000u);
}

TEST_F(TlsClient, AnUnusableCaFileIsRefusedUpFront) {
  std::string error;
  EXPECT_TRUE(check_ca_file(certs_.ca_file, &error)) << error;
  EXPECT_FALSE(check_ca_file((dir_.path() / "absent.pem").string(), &error));
  EXPECT_NE(error.find("absent.pem': cannot read it (No such file or directory)"),
            std::string::npos)
      << error;
  const auto not_pem = dir_.write("not.pem", "hello\n").string();
  EXPECT_FALSE(check_ca_file(not_pem, &error));
  EXPECT_NE(error.find("holds no PEM certificate"), std::string::npos) << error;

  try {
    AsyncClient client(ClientTlsOptions{not_pem});
    ADD_FAILURE() << "the client took a CA file without certificates";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("not.pem"), std::string::npos) << e.what();
  }
  std::string simple_error;
  EXPECT_FALSE(simple_get(url_of("https://127.0.0.1:1/"), 1s, &simple_error, 1 << 20,
                          ClientTlsOptions{not_pem}));
  EXPECT_NE(simple_error.find("holds no PEM certificate"), std::string::npos) << simple_error;
}

}  // namespace
}  // namespace trafficsim::http
