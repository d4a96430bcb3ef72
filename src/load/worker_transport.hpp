#pragma once
// Worker internals (namespace detail; included by the worker's .cpp files only): the byte
// transport of a connection, plain TCP or TLS, behind one read call and one write call that say
// what happened (bytes moved / try again on the next edge / the peer closed / failed), so the
// connection logic above never asks which kind it has. Non-blocking sockets only; no call here
// blocks, allocates on success, or touches epoll.
#include <cstddef>
#include <cstdint>
#include <string>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace trafficsim::load::detail {

struct IoResult {
  enum Kind : uint8_t {
    data,   // n > 0 bytes moved
    again,  // nothing now: the socket's next epoll edge resumes (EAGAIN, TLS want read/write)
    eof,    // the peer closed (read only: recv 0, TLS close_notify or an EOF without it)
    error,  // the connection is unusable; error_text() says why
  };
  Kind kind = again;
  size_t n = 0;
  // Read only: the plain socket returned fewer bytes than asked, so it is drained for now (with
  // edge-triggered epoll, more data raises a new edge). TLS never says so (records may be
  // buffered inside OpenSSL).
  bool drained = false;
  int sys_errno = 0;  // error on a plain socket: errno; 0 for a TLS failure
};

// One connection's transport: a non-blocking socket, with TLS once start_tls has been called.
struct Transport {
  int fd = -1;
  SSL* ssl = nullptr;

  IoResult read(char* buf, size_t len);
  IoResult write(const char* buf, size_t len);

  // TLS client handshake on a connected socket: SNI and, with verify, host name checking.
  void start_tls(SSL_CTX* ctx, const std::string& host, bool verify);
  enum class Handshake : uint8_t { done, again, failed };
  // Advances the handshake; on failed, *why says what went wrong (certificate, TLS error).
  Handshake continue_handshake(std::string* why);

  // Frees TLS state and closes the socket (which also removes it from any epoll set).
  void close();
};

// The message of a failed read or write, e.g. "recv: Connection reset by peer" or
// "tls read failed".
std::string error_text(const IoResult& r, bool tls, bool reading);

}  // namespace trafficsim::load::detail
