#pragma once
// How the outbound clients (AsyncClient, async_http_call, simple_request) trust an https server.
// The peer is always verified: its chain must lead to a trusted CA, and its certificate must name
// the URL's host (a DNS name, or an IP address literal against the IP SANs); host names go out as
// SNI. TLS 1.2 at least. There is no switch to turn verification off.
#include <string>

namespace trafficsim::http {

struct ClientTlsOptions {
  // A PEM file of CA certificates trusted besides the system store (OpenSSL's default paths,
  // which SSL_CERT_FILE / SSL_CERT_DIR move) — a private CA, or a test's. Empty: the system
  // store only.
  std::string ca_file;
};

// Whether `ca_file` can be used as ClientTlsOptions::ca_file: false with a one-line reason in
// *error ("CA file '/x.pem': cannot load it (no such file)") when it cannot be read or holds no
// PEM certificate. For option parsers that want to fail at start-up, not at the first call.
bool check_ca_file(const std::string& ca_file, std::string* error);

}  // namespace trafficsim::http
