#pragma once
// Private to the http module: the OpenSSL side of ClientTlsOptions (client_tls.cpp), used by the
// outbound client's TLS calls (async_client.cpp). OpenSSL's types are only declared here, so this
// header pulls in neither OpenSSL nor Asio.
#include <string>

#include "http/client_tls.hpp"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace trafficsim::http::detail {

// A new client context: TLS 1.2 or later, the peer verified against the system store plus
// options.ca_file. Throws std::invalid_argument with check_ca_file's reason when the CA file
// cannot be used. The caller owns it (boost::asio::ssl::context adopts it).
SSL_CTX* new_client_ssl_ctx(const ClientTlsOptions& options);

// Before the handshake on a new connection to `host` (a URL's host, IPv6 without brackets): SNI
// for a host name (never for an address literal, RFC 6066), and the name — or the address — the
// peer's certificate must hold. False when OpenSSL refuses the name.
bool expect_peer_name(SSL* ssl, const std::string& host);

// After a failed handshake: "certificate verification failed: <OpenSSL's reason>" when the
// peer's chain or name was refused (e.g. "unable to get local issuer certificate", "IP address
// mismatch"); empty when the handshake failed for another reason.
std::string verification_failure(SSL* ssl);

}  // namespace trafficsim::http::detail
