#include "load/worker_transport.hpp"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <cstring>

namespace trafficsim::load::detail {
namespace {

IoResult failed(int sys_errno) {
  IoResult r;
  r.kind = IoResult::error;
  r.sys_errno = sys_errno;
  return r;
}

IoResult moved(size_t n, bool drained) {
  IoResult r;
  r.kind = IoResult::data;
  r.n = n;
  r.drained = drained;
  return r;
}

IoResult of_kind(IoResult::Kind kind) {
  IoResult r;
  r.kind = kind;
  return r;
}

int clamp_int(size_t len) {
  return static_cast<int>(len < static_cast<size_t>(INT_MAX) ? len : INT_MAX);
}

// A peer that closes TCP without close_notify: OpenSSL 1.1 reports SSL_ERROR_SYSCALL with an
// empty error queue, OpenSSL 3 an SSL error "unexpected eof while reading". Both are a close.
bool is_unexpected_eof(int ssl_error) {
  if (ssl_error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) return true;
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
  if (ssl_error == SSL_ERROR_SSL &&
      ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
    return true;
#endif
  return false;
}

}  // namespace

IoResult Transport::read(char* buf, size_t len) {
  if (ssl) {
    ERR_clear_error();
    int r = SSL_read(ssl, buf, clamp_int(len));
    if (r > 0) return moved(static_cast<size_t>(r), false);
    int e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return of_kind(IoResult::again);
    if (e == SSL_ERROR_ZERO_RETURN || is_unexpected_eof(e)) return of_kind(IoResult::eof);
    return failed(0);
  }
  for (;;) {
    ssize_t n = ::recv(fd, buf, len, 0);
    if (n > 0) return moved(static_cast<size_t>(n), static_cast<size_t>(n) < len);
    if (n == 0) return of_kind(IoResult::eof);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return of_kind(IoResult::again);
    return failed(errno);
  }
}

IoResult Transport::write(const char* buf, size_t len) {
  if (ssl) {
    ERR_clear_error();
    int w = SSL_write(ssl, buf, clamp_int(len));
    if (w > 0) return moved(static_cast<size_t>(w), false);
    int e = SSL_get_error(ssl, w);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return of_kind(IoResult::again);
    return failed(0);
  }
  for (;;) {
    ssize_t n = ::send(fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0) return moved(static_cast<size_t>(n), false);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return of_kind(IoResult::again);
    return failed(errno);
  }
}

void Transport::start_tls(SSL_CTX* ctx, const std::string& host, bool verify) {
  ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, host.c_str());
  if (verify) SSL_set1_host(ssl, host.c_str());
  SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

Transport::Handshake Transport::continue_handshake(std::string* why) {
  ERR_clear_error();
  int r = SSL_connect(ssl);
  if (r == 1) return Handshake::done;
  int e = SSL_get_error(ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return Handshake::again;
  char buf[256];
  unsigned long code = ERR_peek_last_error();
  long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK)
    *why = std::string("tls: certificate verify failed: ") + X509_verify_cert_error_string(verify);
  else if (code)
    *why = std::string("tls: ") + ERR_error_string(code, buf);
  else
    *why = "tls: handshake failed";
  return Handshake::failed;
}

void Transport::close() {
  if (ssl) {
    SSL_free(ssl);
    ssl = nullptr;
  }
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

std::string error_text(const IoResult& r, bool tls, bool reading) {
  if (tls) return reading ? "tls read failed" : "tls write failed";
  return std::string(reading ? "recv: " : "send: ") + std::strerror(r.sys_errno);
}

}  // namespace trafficsim::load::detail
