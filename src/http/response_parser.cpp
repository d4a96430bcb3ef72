#include "http/response_parser.hpp"

#include <cstring>
#include <string_view>

namespace trafficsim::http {
namespace {

// remaining_ holds the Content-Length while headers are read. This value (never a valid length,
// see parse_content_length) marks that Transfer-Encoding was seen, which overrides any
// Content-Length, before or after it.
constexpr uint64_t kTransferEncodingSeen = UINT64_MAX;

bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// `lowercase` must already be lower case.
bool iequals(std::string_view s, std::string_view lowercase) {
  if (s.size() != lowercase.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (lower(s[i]) != lowercase[i]) return false;
  }
  return true;
}

// Calls fn(token) for each trimmed, non-empty element of a comma-separated list.
template <typename Fn>
void for_each_token(std::string_view list, Fn&& fn) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view token = trim(list.substr(0, comma));
    if (!token.empty()) fn(token);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// Content-Length is 1*DIGIT; RFC 9110 8.6 also allows a list of identical values ("5, 5") that a
// proxy may have merged. Anything else (signs, spaces inside, hex, differing values) is invalid.
bool parse_content_length(std::string_view value, uint64_t* out) {
  bool any = false;
  uint64_t first = 0;
  while (true) {
    const size_t comma = value.find(',');
    const std::string_view element = trim(value.substr(0, comma));
    if (element.empty()) return false;
    uint64_t v = 0;
    for (char c : element) {
      if (c < '0' || c > '9') return false;
      const uint64_t d = static_cast<uint64_t>(c - '0');
      // Keep every accepted length below kTransferEncodingSeen.
      if (v > (kTransferEncodingSeen - 1 - d) / 10) return false;
      v = v * 10 + d;
    }
    if (any && v != first) return false;
    first = v;
    any = true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  *out = first;
  return true;
}

}  // namespace

namespace detail {

size_t take_line(const char* p, size_t avail, char* line, uint32_t keep, uint32_t* line_len,
                 bool* truncated, bool* pending_cr, bool* line_done) {
  const char* nl = static_cast<const char*>(std::memchr(p, '\n', avail));
  const size_t seg = nl != nullptr ? static_cast<size_t>(nl - p) : avail;
  auto append = [&](const char* s, size_t n) {
    const size_t room = keep - *line_len;
    if (n > room) {
      *truncated = true;
      n = room;
    }
    std::memcpy(line + *line_len, s, n);
    *line_len += static_cast<uint32_t>(n);
  };
  if (*pending_cr) {
    *pending_cr = false;
    // A held-back CR followed by more text was part of the line, not its end.
    if (seg > 0) append("\r", 1);
  }
  size_t content = seg;
  if (seg > 0 && p[seg - 1] == '\r') {
    content = seg - 1;
    if (nl == nullptr) *pending_cr = true;
  }
  append(p, content);
  *line_done = nl != nullptr;
  return nl != nullptr ? seg + 1 : avail;
}

}  // namespace detail

void ResponseParser::reset(bool head_request) {
  state_ = State::status_line;
  head_request_ = head_request;
  keep_alive_ = true;
  chunked_ = false;
  has_length_ = false;
  http10_ = false;
  saw_cr_ = false;
  status_ = 0;
  remaining_ = 0;
  body_bytes_ = 0;
  header_bytes_ = 0;
  line_len_ = 0;
  line_truncated_ = false;
  error_reason_ = "";
}

ResponseParser::Result ResponseParser::on_eof() {
  switch (state_) {
    case State::body_until_close:
      state_ = State::done;
      return Result::complete;
    case State::done:
      return Result::complete;
    case State::failed:
      return Result::error;
    default:
      return fail(in_progress() ? "connection closed mid-response"
                                : "connection closed before response");
  }
}

ResponseParser::Result ResponseParser::finish_status_line() {
  // HTTP-version SP 3DIGIT [SP reason-phrase]; the reason may be missing or empty.
  const std::string_view s(line_, line_len_);
  if (s.size() < 12 || s.substr(0, 7) != "HTTP/1." || s[7] < '0' || s[7] > '9' || s[8] != ' ') {
    return fail("malformed status line");
  }
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (s[i] < '0' || s[i] > '9') return fail("malformed status code");
    status = status * 10 + (s[i] - '0');
  }
  if (s.size() > 12 && s[12] != ' ') return fail("malformed status code");
  if (status < 100 || status > 599) return fail("status code outside 100-599");
  status_ = status;
  http10_ = s[7] == '0';
  keep_alive_ = !http10_;  // HTTP/1.0 is close-by-default, 1.1 keep-alive-by-default
  state_ = State::header_line;
  return Result::need_more;
}

ResponseParser::Result ResponseParser::finish_header_line() {
  if (line_len_ == 0 && !line_truncated_) return end_of_headers();
  const std::string_view s(line_, line_len_);
  // Obsolete line folding continues the previous header; none we interpret is ever folded in
  // practice, so the continuation is ignored rather than rejected.
  if (is_ows(s.front())) return Result::need_more;
  const size_t colon = s.find(':');
  if (colon == std::string_view::npos) {
    // A name longer than the kept prefix is not one we look at.
    return line_truncated_ ? Result::need_more : fail("malformed header line");
  }
  const std::string_view name = trim(s.substr(0, colon));
  if (name.empty()) return fail("malformed header line");
  const std::string_view value = trim(s.substr(colon + 1));

  if (iequals(name, "content-length")) {
    uint64_t length = 0;
    if (line_truncated_ || !parse_content_length(value, &length)) {
      return fail("invalid content-length");
    }
    if (remaining_ == kTransferEncodingSeen) return Result::need_more;
    if (has_length_ && remaining_ != length) return fail("conflicting content-length");
    has_length_ = true;
    remaining_ = length;
  } else if (iequals(name, "transfer-encoding")) {
    // Only the last coding decides the framing, so a cut-off value cannot be trusted.
    if (line_truncated_) return fail("transfer-encoding too long");
    std::string_view last;
    for_each_token(value, [&](std::string_view token) { last = token; });
    // A later Transfer-Encoding line appends codings, so the last line's last one is final.
    chunked_ = iequals(last, "chunked");
    has_length_ = false;
    remaining_ = kTransferEncodingSeen;
  } else if (iequals(name, "connection")) {
    std::string_view tokens = value;
    // The last token of a cut-off list may be partial; skip it rather than misread it.
    if (line_truncated_) tokens = tokens.substr(0, tokens.rfind(',') + 1);
    for_each_token(tokens, [&](std::string_view token) {
      if (iequals(token, "close")) {
        keep_alive_ = false;
        // close wins over keep-alive wherever it appears; clearing http10_ stops a later
        // keep-alive token from re-enabling persistence (http10_ is not needed afterwards:
        // every use of it only ever turns keep_alive_ off).
        http10_ = false;
      } else if (iequals(token, "keep-alive") && http10_) {
        keep_alive_ = true;
      }
    });
  }
  return Result::need_more;
}

ResponseParser::Result ResponseParser::end_of_headers() {
  // Interim responses (100 Continue, 103 Early Hints) precede the real one: start over, but keep
  // counting header bytes so the limit covers the whole head. 101 switches protocols and ends
  // HTTP on this connection, so it is final.
  if (status_ < 200 && status_ != 101) {
    state_ = State::status_line;
    keep_alive_ = true;
    chunked_ = false;
    has_length_ = false;
    http10_ = false;
    status_ = 0;
    remaining_ = 0;
    return Result::need_more;
  }
  if (status_ == 101) keep_alive_ = false;
  if (head_request_ || status_ == 204 || status_ == 304 || status_ < 200) {
    state_ = State::done;
    return Result::complete;
  }
  if (chunked_) {
    // RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message means its framing is suspect.
    if (http10_) keep_alive_ = false;
    state_ = State::body_chunk_size;
    remaining_ = 0;
    line_len_ = 0;
    saw_cr_ = false;
    return Result::need_more;
  }
  if (has_length_) {
    if (remaining_ == 0) {
      state_ = State::done;
      return Result::complete;
    }
    state_ = State::body_length;
    return Result::need_more;
  }
  // No framing (or a Transfer-Encoding other than chunked last): the body runs until close.
  keep_alive_ = false;
  remaining_ = 0;
  state_ = State::body_until_close;
  return Result::need_more;
}

}  // namespace trafficsim::http
