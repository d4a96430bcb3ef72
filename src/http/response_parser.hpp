#pragma once
// A minimal, incremental HTTP/1.1 response parser for the load client's hot path: it never
// allocates, accepts input split at any byte, and extracts only what the client needs (status,
// body framing, keep-alive). Bodies are counted; a caller that wants them gets each body chunk
// through on_body.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace trafficsim::http {

class ResponseParser {
 public:
  enum class Result {
    need_more,  // consumed all input; the response is not complete yet
    complete,   // a whole response ended; `consumed` says where (bytes after it are not read)
    error,      // malformed response; the connection must be closed
  };

  // Resets for a new response. head_request: the request was HEAD (no body follows).
  void reset(bool head_request = false);

  // Feeds bytes. *consumed receives how many bytes were used (all of them unless complete).
  // on_body (may be null) receives every body byte range, de-chunked.
  template <typename OnBody>
  Result feed(const char* data, size_t len, size_t* consumed, OnBody&& on_body);
  Result feed(const char* data, size_t len, size_t* consumed) {
    return feed(data, len, consumed, [](std::string_view) {});
  }

  // Reading until the peer closes (no Content-Length, not chunked): call on EOF. Returns complete
  // when the response was being read until close, error when EOF came mid-response.
  Result on_eof();

  int status() const { return status_; }
  bool keep_alive() const { return keep_alive_; }  // false: close after this response
  uint64_t body_bytes() const { return body_bytes_; }
  uint64_t header_bytes() const { return header_bytes_; }
  bool in_progress() const { return state_ != State::status_line || header_bytes_ > 0; }
  const char* error_reason() const { return error_reason_; }

  // Limits that make a response malformed.
  static constexpr uint32_t kMaxHeaderBytes = 64 * 1024;

 private:
  enum class State : uint8_t {
    status_line,
    header_line,
    body_length,
    body_chunk_size,
    body_chunk_ext,
    body_chunk_data,
    body_chunk_data_cr,
    body_chunk_data_lf,
    trailer_line,
    body_until_close,
    done,
    failed
  };
  Result fail(const char* reason) {
    state_ = State::failed;
    error_reason_ = reason;
    return Result::error;
  }
  // Processes one complete header/status line of line_len_ bytes held in line_.
  Result finish_status_line();
  Result finish_header_line();
  Result end_of_headers();

  State state_ = State::status_line;
  bool head_request_ = false;
  bool keep_alive_ = true;
  bool chunked_ = false;
  bool has_length_ = false;
  bool http10_ = false;
  bool saw_cr_ = false;
  int status_ = 0;
  uint64_t remaining_ = 0;
  uint64_t body_bytes_ = 0;
  uint32_t header_bytes_ = 0;
  // The current line, truncated to what we need to inspect: status line and header names and
  // values we care about all fit; longer lines are skipped past but still counted.
  static constexpr uint32_t kLineKeep = 96;
  char line_[kLineKeep];
  uint32_t line_len_ = 0;
  bool line_truncated_ = false;
  const char* error_reason_ = "";
};

}  // namespace trafficsim::http

#include "http/response_parser_impl.hpp"
