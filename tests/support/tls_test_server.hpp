#pragma once
// https from tests: a throwaway CA and server certificates made with the openssl command line at
// test time, and a small TLS HTTP/1.1 server on 127.0.0.1 (Beast over Asio SSL, kept in the .cpp)
// that answers every request through a handler and records what it was sent.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trafficsim::testing {

// Files in one directory, made by make_test_certificates.
struct TestCertificates {
  std::string ca_file;                          // the CA's certificate (PEM): trust it
  std::string cert_file, key_file;              // for IP:127.0.0.1 and DNS:localhost
  std::string other_cert_file, other_key_file;  // for DNS:other.invalid only: a name mismatch
};

// A P-256 CA valid for two days and the two server certificates it signs, written into dir
// (about 0.1 s). Throws std::runtime_error with openssl's output when a step fails.
TestCertificates make_test_certificates(const std::filesystem::path& dir);

struct TlsTestRequest {
  std::string method, target, body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string header(std::string_view name) const;  // case-insensitive; empty when absent
};

struct TlsTestResponse {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
};

using TlsTestHandler = std::function<TlsTestResponse(const TlsTestRequest&)>;

// Serves https on 127.0.0.1, a port of its own, from one thread, until destroyed. One request
// per connection (it answers with Connection: close). The handler runs on that thread.
class TlsTestServer {
 public:
  // Throws when the certificate or key cannot be loaded or the port cannot be bound.
  TlsTestServer(const std::string& cert_file, const std::string& key_file, TlsTestHandler handler);
  ~TlsTestServer();
  TlsTestServer(const TlsTestServer&) = delete;
  TlsTestServer& operator=(const TlsTestServer&) = delete;

  uint16_t port() const;
  // "https://<host>:<port>": 127.0.0.1, or "localhost" to be checked as a DNS name.
  std::string url(std::string_view host = "127.0.0.1") const;
  std::vector<TlsTestRequest> requests() const;  // every request answered so far, in order
  int failed_handshakes() const;                 // e.g. the client refused our certificate

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trafficsim::testing
