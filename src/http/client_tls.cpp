// The trust rules of the outbound clients, in OpenSSL's terms (the Asio plumbing is in
// async_client.cpp): verify the peer, the system store plus an optional CA file, the host checked
// as a DNS name or as an IP address, SNI for names only.
#include "http/client_tls.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "http/client_tls_detail.hpp"

namespace trafficsim::http {

namespace {

struct CtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;

void set_error(std::string* error, std::string text) {
  if (error != nullptr) *error = std::move(text);
}

// Loads ca_file into ctx's trust store; false with the reason in *error.
bool load_ca_file(SSL_CTX* ctx, const std::string& ca_file, std::string* error) {
  const std::string what = "CA file '" + ca_file + "'";
  // fopen first: OpenSSL's own message for a missing file names neither the file nor errno.
  std::FILE* f = std::fopen(ca_file.c_str(), "r");
  if (f == nullptr) {
    set_error(error, what + ": cannot read it (" + std::strerror(errno) + ")");
    return false;
  }
  std::fclose(f);
  ERR_clear_error();
  if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
    ERR_clear_error();
    set_error(error, what + ": holds no PEM certificate");
    return false;
  }
  return true;
}

bool is_address_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

bool check_ca_file(const std::string& ca_file, std::string* error) {
  CtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) {
    set_error(error, "cannot create a TLS context");
    return false;
  }
  return load_ca_file(ctx.get(), ca_file, error);
}

namespace detail {

SSL_CTX* new_client_ssl_ctx(const ClientTlsOptions& options) {
  CtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) throw std::runtime_error("cannot create a TLS context");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_default_verify_paths(ctx.get());
  std::string error;
  if (!options.ca_file.empty() && !load_ca_file(ctx.get(), options.ca_file, &error))
    throw std::invalid_argument(error);
  return ctx.release();
}

bool expect_peer_name(SSL* ssl, const std::string& host) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (is_address_literal(host)) return X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 && SSL_set1_host(ssl, host.c_str()) == 1;
}

std::string verification_failure(SSL* ssl) {
  const long result = SSL_get_verify_result(ssl);
  if (result == X509_V_OK) return {};
  return std::string("certificate verification failed: ") + X509_verify_cert_error_string(result);
}

}  // namespace detail
}  // namespace trafficsim::http
