#pragma once
// Inline part of ResponseParser: the feed loop is a template so the body callback inlines into
// the caller's read loop. Line-level work (status line, headers) lives in response_parser.cpp.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

#include "http/response_parser.hpp"

namespace trafficsim::http {
namespace detail {

// Appends the bytes up to the next '\n' in [p, p + avail) to the line buffer and says whether the
// line ended. The line terminator (LF or CRLF) is never stored; a CR at the very end of the input
// is held back in *pending_cr because only the next byte tells whether it ends the line. Returns
// the number of bytes used (through the '\n' when the line ended, else all of them).
size_t take_line(const char* p, size_t avail, char* line, uint32_t keep, uint32_t* line_len,
                 bool* truncated, bool* pending_cr, bool* line_done);

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <typename OnBody>
inline void deliver(OnBody& on_body, const char* p, size_t n) {
  using F = std::decay_t<OnBody>;
  if constexpr (std::is_null_pointer_v<F>) {
    // No callback: bodies are only counted.
  } else if constexpr (std::is_pointer_v<F>) {
    if (on_body != nullptr) on_body(std::string_view(p, n));
  } else {
    on_body(std::string_view(p, n));
  }
}

}  // namespace detail

template <typename OnBody>
ResponseParser::Result ResponseParser::feed(const char* data, size_t len, size_t* consumed,
                                            OnBody&& on_body) {
  size_t pos = 0;
  // Ends the size line of a chunk: a zero size starts the trailer section. line_len_ doubles as
  // "a hex digit was seen" while the size is read, and remaining_ as the trailer byte count.
  auto end_chunk_size_line = [this]() -> bool {
    if (line_len_ == 0) return false;
    line_len_ = 0;
    saw_cr_ = false;
    state_ = remaining_ == 0 ? State::trailer_line : State::body_chunk_data;
    line_truncated_ = false;
    return true;
  };

  if (state_ == State::done) {
    *consumed = 0;
    return Result::complete;
  }
  if (state_ == State::failed) {
    *consumed = 0;
    return Result::error;
  }

  while (pos < len) {
    switch (state_) {
      case State::status_line:
      case State::header_line:
      case State::trailer_line: {
        bool line_done = false;
        const size_t used = detail::take_line(data + pos, len - pos, line_, kLineKeep, &line_len_,
                                              &line_truncated_, &saw_cr_, &line_done);
        if (state_ == State::trailer_line) {
          remaining_ += used;
          if (remaining_ > kMaxHeaderBytes) {
            *consumed = pos;
            return fail("trailer section too large");
          }
        } else {
          if (used > kMaxHeaderBytes - header_bytes_) {
            *consumed = pos;
            return fail("response header too large");
          }
          header_bytes_ += static_cast<uint32_t>(used);
        }
        pos += used;
        if (!line_done) {
          // Reject a non-HTTP reply as soon as its first bytes show it, not at its first newline.
          if (state_ == State::status_line) {
            constexpr std::string_view kPrefix = "HTTP/1.";
            const size_t n = std::min<size_t>(line_len_, kPrefix.size());
            if (std::string_view(line_, n) != kPrefix.substr(0, n)) {
              *consumed = pos;
              return fail("malformed status line");
            }
          }
          break;
        }
        Result r = Result::need_more;
        if (state_ == State::status_line) {
          r = finish_status_line();
        } else if (state_ == State::header_line) {
          r = finish_header_line();
        } else if (line_len_ == 0 && !line_truncated_) {
          state_ = State::done;  // the empty line that ends the trailers ends the response
          r = Result::complete;
        }
        line_len_ = 0;
        line_truncated_ = false;
        if (r != Result::need_more) {
          *consumed = pos;
          return r;
        }
        break;
      }

      case State::body_length: {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, len - pos));
        detail::deliver(on_body, data + pos, n);
        body_bytes_ += n;
        remaining_ -= n;
        pos += n;
        if (remaining_ == 0) {
          state_ = State::done;
          *consumed = pos;
          return Result::complete;
        }
        break;
      }

      case State::body_until_close: {
        const size_t n = len - pos;
        detail::deliver(on_body, data + pos, n);
        body_bytes_ += n;
        pos = len;
        break;
      }

      case State::body_chunk_size: {
        const char c = data[pos++];
        if (saw_cr_) {
          if (c != '\n' || !end_chunk_size_line()) {
            *consumed = pos;
            return fail("invalid chunk size line");
          }
          break;
        }
        const int v = detail::hex_value(c);
        if (v >= 0) {
          if (remaining_ > (UINT64_MAX >> 4)) {
            *consumed = pos;
            return fail("chunk size too large");
          }
          remaining_ = (remaining_ << 4) | static_cast<uint64_t>(v);
          line_len_ = 1;
        } else if ((c == ';' || c == ' ' || c == '\t') && line_len_ != 0) {
          state_ = State::body_chunk_ext;  // extensions are skipped, not interpreted
        } else if (c == '\r') {
          saw_cr_ = true;
        } else if (c != '\n' || !end_chunk_size_line()) {
          *consumed = pos;
          return fail("invalid chunk size");
        }
        break;
      }

      case State::body_chunk_ext: {
        const void* nl = std::memchr(data + pos, '\n', len - pos);
        if (nl == nullptr) {
          pos = len;
          break;
        }
        pos = static_cast<size_t>(static_cast<const char*>(nl) - data) + 1;
        end_chunk_size_line();  // a digit was seen before the extension began
        break;
      }

      case State::body_chunk_data: {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, len - pos));
        detail::deliver(on_body, data + pos, n);
        body_bytes_ += n;
        remaining_ -= n;
        pos += n;
        if (remaining_ == 0) state_ = State::body_chunk_data_cr;
        break;
      }

      case State::body_chunk_data_cr:
      case State::body_chunk_data_lf: {
        const char c = data[pos++];
        if (c == '\r' && state_ == State::body_chunk_data_cr) {
          state_ = State::body_chunk_data_lf;
        } else if (c == '\n') {
          state_ = State::body_chunk_size;  // bare LF tolerated, as for header lines
          remaining_ = 0;
          line_len_ = 0;
          saw_cr_ = false;
        } else {
          *consumed = pos;
          return fail("missing CRLF after chunk data");
        }
        break;
      }

      case State::done:
      case State::failed:
        // Not reached (both return where they are entered); returning keeps the loop finite.
        *consumed = pos;
        return state_ == State::done ? Result::complete : Result::error;
    }
  }
  *consumed = len;
  return Result::need_more;
}

}  // namespace trafficsim::http
