#include "http/response_parser.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace trafficsim::http {
namespace {

using Result = ResponseParser::Result;

// What a parse produced; compared field by field between the ways of splitting one input.
struct Outcome {
  Result result = Result::need_more;
  int status = 0;
  uint64_t body_bytes = 0;
  uint64_t header_bytes = 0;
  std::string body;
  bool keep_alive = false;
  size_t consumed = 0;  // offset into the whole input where the response ended
  bool used_eof = false;

  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "{result=" << static_cast<int>(o.result) << " status=" << o.status
            << " body_bytes=" << o.body_bytes << " header_bytes=" << o.header_bytes
            << " body.size=" << o.body.size() << " keep_alive=" << o.keep_alive
            << " consumed=" << o.consumed << " eof=" << o.used_eof << "}";
}

// Feeds `input` in pieces that end at the given cut offsets (ascending); calls on_eof when the
// input runs out before the response completes, as a client would when the peer closes.
Outcome parse_pieces(std::string_view input, const std::vector<size_t>& cuts, bool head = false,
                     bool eof_at_end = true) {
  ResponseParser parser;
  parser.reset(head);
  Outcome out;
  size_t start = 0;
  auto on_body = [&](std::string_view piece) { out.body.append(piece); };
  auto run = [&](size_t end) {
    size_t consumed = 0;
    out.result = parser.feed(input.data() + start, end - start, &consumed, on_body);
    if (out.result == Result::need_more) {
      EXPECT_EQ(consumed, end - start);
    }
    out.consumed = start + consumed;
    start = end;
  };
  for (size_t cut : cuts) {
    if (cut <= start || cut >= input.size()) continue;
    run(cut);
    if (out.result != Result::need_more) break;
  }
  if (out.result == Result::need_more) run(input.size());
  if (out.result == Result::need_more && eof_at_end) {
    out.result = parser.on_eof();
    out.used_eof = true;
  }
  out.status = parser.status();
  out.body_bytes = parser.body_bytes();
  out.header_bytes = parser.header_bytes();
  out.keep_alive = parser.keep_alive();
  return out;
}

Outcome parse_whole(std::string_view input, bool head = false) {
  return parse_pieces(input, {}, head);
}

struct Canonical {
  const char* name;
  std::string input;
  bool head = false;
  int status;
  std::string body;
  bool keep_alive;
  size_t header_bytes;  // 0: not checked
};

std::string big_body() {
  std::string body(1 << 20, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  return body;
}

std::vector<Canonical> canonical_responses() {
  std::vector<Canonical> v;
  v.push_back({"content_length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello",
               false, 200, "hello", true, 49});
  v.push_back({"chunked_ext_trailers",
               "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5;name=val\r\nhello\r\n"
               "1A; a=\"q\" ; b\r\nabcdefghijklmnopqrstuvwxyz\r\n"
               "0b\r\n world!!!!!\r\n"
               "0;last\r\nX-Trailer: 1\r\nY-Trailer: two\r\n\r\n",
               false, 200, "helloabcdefghijklmnopqrstuvwxyz world!!!!!", true, 0});
  v.push_back({"chunked_hex_case",
               "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               "a\r\n0123456789\r\nA\r\n0123456789\r\n0\r\n\r\n",
               false, 200, "01234567890123456789", true, 0});
  v.push_back({"no_content_204", "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n", false, 204,
               "", true, 0});
  v.push_back({"not_modified_304",
               "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", false, 304, "",
               true, 0});
  v.push_back({"head", "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", true, 200, "", true, 0});
  v.push_back({"http10_close", "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc", false, 200, "abc",
               false, 0});
  v.push_back({"http10_keep_alive",
               "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 3\r\n\r\nabc", false,
               200, "abc", true, 0});
  v.push_back({"continue_then_200",
               "HTTP/1.1 100 Continue\r\n\r\n"
               "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
               "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
               false, 201, "ok", true, 25 + 44 + 43});
  v.push_back({"until_close", "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nall of this until close", false,
               200, "all of this until close", false, 0});
  v.push_back({"te_not_chunked_until_close",
               "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\nContent-Length: 2\r\n\r\n"
               "raw",
               false, 200, "raw", false, 0});
  v.push_back({"chunked_wins_over_length",
               "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: gzip\r\n"
               "transfer-encoding: CHUNKED\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
               false, 200, "abc", true, 0});
  v.push_back(
      {"large_body",
       "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(1 << 20) + "\r\n\r\n" + big_body(),
       false, 200, big_body(), true, 0});
  v.push_back({"connection_close",
               "HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 1\r\n\r\nx",
               false, 200, "x", false, 0});
  v.push_back({"uppercase_headers",
               "HTTP/1.1 404 Not Found\r\nCONTENT-LENGTH: 4\r\nCONNECTION: CLOSE\r\n\r\nnope",
               false, 404, "nope", false, 0});
  v.push_back(
      {"bare_lf", "HTTP/1.1 200 OK\nContent-Length: 5\n\nhello", false, 200, "hello", true, 35});
  v.push_back({"bare_lf_chunked",
               "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nab\n1;x\nc\n0\nT: 1\n\n", false,
               200, "abc", true, 0});
  v.push_back(
      {"no_reason_phrase", "HTTP/1.1 500\r\ncontent-length: 0\r\n\r\n", false, 500, "", true, 0});
  v.push_back({"long_header_lines",
               "HTTP/1.1 200 " + std::string(300, 'R') + "\r\nX-Long: " + std::string(500, 'v') +
                   "\r\nX-" + std::string(200, 'n') + ": v\r\nContent-Length: 1\r\n\r\n!",
               false, 200, "!", true, 0});
  v.push_back({"duplicate_equal_lengths",
               "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2, 2\r\n\r\nab", false, 200,
               "ab", true, 0});
  return v;
}

void expect_canonical(const Canonical& c, const Outcome& o) {
  EXPECT_EQ(o.result, Result::complete);
  EXPECT_EQ(o.status, c.status);
  EXPECT_EQ(o.body_bytes, c.body.size());
  EXPECT_TRUE(o.body == c.body) << "body differs, size " << o.body.size();
  EXPECT_EQ(o.keep_alive, c.keep_alive);
  EXPECT_EQ(o.consumed, c.input.size());
  if (c.header_bytes != 0) {
    EXPECT_EQ(o.header_bytes, c.header_bytes);
  }
}

TEST(ResponseParserTest, CanonicalWhole) {
  for (const Canonical& c : canonical_responses()) {
    SCOPED_TRACE(c.name);
    expect_canonical(c, parse_whole(c.input, c.head));
  }
}

TEST(ResponseParserTest, CanonicalSplitAtEveryByte) {
  for (const Canonical& c : canonical_responses()) {
    SCOPED_TRACE(c.name);
    const Outcome whole = parse_whole(c.input, c.head);
    // Every cut in the head and the first and last KiB of the body; a stride elsewhere keeps the
    // 1 MiB case from being quadratic.
    const size_t head_end = c.input.find("\r\n\r\n");
    const size_t dense = (head_end == std::string::npos ? 0 : head_end) + 1024;
    for (size_t cut = 1; cut < c.input.size(); ++cut) {
      if (cut > dense && cut + 1024 < c.input.size() && cut % 4099 != 0) continue;
      const Outcome split = parse_pieces(c.input, {cut}, c.head);
      ASSERT_EQ(split, whole) << "cut at " << cut;
    }
  }
}

TEST(ResponseParserTest, CanonicalOneByteAtATime) {
  for (const Canonical& c : canonical_responses()) {
    SCOPED_TRACE(c.name);
    std::vector<size_t> cuts(c.input.size());
    for (size_t i = 0; i < cuts.size(); ++i) cuts[i] = i + 1;
    const Outcome bytes = parse_pieces(c.input, cuts, c.head);
    EXPECT_EQ(bytes, parse_whole(c.input, c.head));
    expect_canonical(c, bytes);
  }
}

TEST(ResponseParserTest, CanonicalRandomPieces) {
  std::mt19937 rng(12345);
  for (const Canonical& c : canonical_responses()) {
    SCOPED_TRACE(c.name);
    const Outcome whole = parse_whole(c.input, c.head);
    for (int round = 0; round < 20; ++round) {
      std::vector<size_t> cuts;
      std::uniform_int_distribution<size_t> step(1, 7);
      for (size_t at = step(rng); at < c.input.size() && cuts.size() < 200; at += step(rng)) {
        cuts.push_back(at);
      }
      ASSERT_EQ(parse_pieces(c.input, cuts, c.head), whole) << "round " << round;
    }
  }
}

TEST(ResponseParserTest, BodyCallbackSeesOnlyBodyBytes) {
  const std::string input =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n";
  ResponseParser parser;
  std::vector<std::string> pieces;
  size_t consumed = 0;
  ASSERT_EQ(parser.feed(input.data(), input.size(), &consumed,
                        [&](std::string_view p) { pieces.emplace_back(p); }),
            Result::complete);
  EXPECT_EQ(pieces, (std::vector<std::string>{"Wiki", "pedia"}));
  EXPECT_EQ(parser.body_bytes(), 9u);
}

TEST(ResponseParserTest, LengthBodyIsDeliveredInOneStep) {
  const std::string body(100000, 'z');
  const std::string input = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + body;
  ResponseParser parser;
  int calls = 0;
  size_t consumed = 0;
  ASSERT_EQ(parser.feed(input.data(), input.size(), &consumed, [&](std::string_view) { ++calls; }),
            Result::complete);
  EXPECT_EQ(calls, 1);
}

TEST(ResponseParserTest, NullCallbackAndOverloadWithoutCallback) {
  const std::string input = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
  ResponseParser parser;
  size_t consumed = 0;
  EXPECT_EQ(parser.feed(input.data(), input.size(), &consumed, nullptr), Result::complete);
  EXPECT_EQ(parser.body_bytes(), 3u);
  parser.reset();
  void (*none)(std::string_view) = nullptr;
  EXPECT_EQ(parser.feed(input.data(), input.size(), &consumed, none), Result::complete);
  parser.reset();
  EXPECT_EQ(parser.feed(input.data(), input.size(), &consumed), Result::complete);
  EXPECT_EQ(consumed, input.size());
}

// Parses back-to-back responses from one buffer, resetting between them, as a keep-alive
// connection does; checks that each ends exactly where the next begins.
void expect_pipelined(const std::vector<std::string>& responses, std::vector<size_t> cuts_per) {
  std::string buffer;
  for (const auto& r : responses) buffer += r;
  for (size_t piece : cuts_per) {
    SCOPED_TRACE("piece size " + std::to_string(piece));
    ResponseParser parser;
    size_t offset = 0;
    size_t index = 0;
    size_t expected_end = responses[0].size();
    std::string body;
    while (offset < buffer.size()) {
      const size_t n = std::min(piece, buffer.size() - offset);
      size_t consumed = 0;
      const Result r = parser.feed(buffer.data() + offset, n, &consumed,
                                   [&](std::string_view p) { body.append(p); });
      ASSERT_NE(r, Result::error) << parser.error_reason();
      offset += consumed;
      if (r == Result::complete) {
        ASSERT_EQ(offset, expected_end) << "response " << index;
        ++index;
        if (index < responses.size()) expected_end += responses[index].size();
        parser.reset();
      }
    }
    EXPECT_EQ(index, responses.size());
    EXPECT_FALSE(parser.in_progress());
  }
}

TEST(ResponseParserTest, PipelinedResponsesStopAtTheFirst) {
  const std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  const std::string second = "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nbye";
  const std::string both = first + second;
  ResponseParser parser;
  size_t consumed = 0;
  ASSERT_EQ(parser.feed(both.data(), both.size(), &consumed), Result::complete);
  EXPECT_EQ(consumed, first.size());
  EXPECT_EQ(parser.status(), 200);
  // Feeding more without a reset does not eat the next response.
  size_t again = 99;
  EXPECT_EQ(parser.feed(both.data() + consumed, both.size() - consumed, &again), Result::complete);
  EXPECT_EQ(again, 0u);
  parser.reset();
  ASSERT_EQ(parser.feed(both.data() + consumed, both.size() - consumed, &again), Result::complete);
  EXPECT_EQ(again, second.size());
  EXPECT_EQ(parser.status(), 404);
}

TEST(ResponseParserTest, PipelinedMixedFramings) {
  expect_pipelined(
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: v\r\n\r\n",
       "HTTP/1.1 204 No Content\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
       "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd",
       "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {1, 2, 3, 7, 64, 1 << 20});
}

TEST(ResponseParserTest, HeadResponseDoesNotEatNextResponse) {
  const std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n";
  const std::string second = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
  const std::string both = first + second;
  ResponseParser parser;
  parser.reset(/*head_request=*/true);
  size_t consumed = 0;
  ASSERT_EQ(parser.feed(both.data(), both.size(), &consumed), Result::complete);
  EXPECT_EQ(consumed, first.size());
  EXPECT_EQ(parser.body_bytes(), 0u);
}

TEST(ResponseParserTest, InProgressAndEof) {
  ResponseParser parser;
  EXPECT_FALSE(parser.in_progress());
  EXPECT_EQ(parser.on_eof(), Result::error);  // closed before any byte
  parser.reset();
  size_t consumed = 0;
  const std::string partial = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc";
  EXPECT_EQ(parser.feed(partial.data(), 1, &consumed), Result::need_more);
  EXPECT_TRUE(parser.in_progress());
  EXPECT_EQ(parser.feed(partial.data() + 1, partial.size() - 1, &consumed), Result::need_more);
  EXPECT_EQ(parser.on_eof(), Result::error);  // EOF inside a Content-Length body
  EXPECT_NE(std::string(parser.error_reason()), "");

  parser.reset();
  const std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab";
  EXPECT_EQ(parser.feed(chunked.data(), chunked.size(), &consumed), Result::need_more);
  EXPECT_EQ(parser.on_eof(), Result::error);

  parser.reset();
  const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
  EXPECT_EQ(parser.feed(interim.data(), interim.size(), &consumed), Result::need_more);
  EXPECT_TRUE(parser.in_progress());
  EXPECT_EQ(parser.on_eof(), Result::error);
}

TEST(ResponseParserTest, HeaderLimitIsInclusive) {
  const std::string prefix = "HTTP/1.1 200 OK\r\nX-Pad: ";
  const std::string suffix = "\r\nContent-Length: 0\r\n\r\n";
  const size_t pad = ResponseParser::kMaxHeaderBytes - prefix.size() - suffix.size();
  const std::string at_limit = prefix + std::string(pad, 'p') + suffix;
  ASSERT_EQ(at_limit.size(), ResponseParser::kMaxHeaderBytes);
  EXPECT_EQ(parse_whole(at_limit).result, Result::complete);
  EXPECT_EQ(parse_whole(at_limit).header_bytes, ResponseParser::kMaxHeaderBytes);
  const std::string over = prefix + std::string(pad + 1, 'p') + suffix;
  EXPECT_EQ(parse_whole(over).result, Result::error);
}

struct Malformed {
  const char* name;
  std::string input;
};

std::vector<Malformed> malformed_responses() {
  return {
      {"garbage_status_line", "GARBAGE\r\n\r\n"},
      {"html_instead_of_http", "<html><body>hi</body></html>\r\n"},
      {"status_not_numeric", "HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n"},
      {"status_two_digits", "HTTP/1.1 20 OK\r\n\r\n"},
      {"status_four_digits", "HTTP/1.1 2000 OK\r\n\r\n"},
      {"status_below_100", "HTTP/1.1 099 Odd\r\n\r\n"},
      {"status_above_599", "HTTP/1.1 600 Odd\r\nContent-Length: 0\r\n\r\n"},
      {"status_999", "HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n"},
      {"http2_version", "HTTP/2.0 200 OK\r\n\r\n"},
      {"truncated_version", "HTTP/1.1\r\n\r\n"},
      {"bad_content_length", "HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n"},
      {"empty_content_length", "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n"},
      {"negative_content_length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"},
      {"plus_content_length", "HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx"},
      {"overflowing_content_length",
       "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"},
      {"conflicting_content_lengths",
       "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"},
      {"conflicting_length_list", "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!"},
      {"bad_chunk_size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"},
      {"empty_chunk_size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n"},
      {"chunk_ext_without_size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n;x\r\n"},
      {"huge_chunk_size",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n11111111111111111\r\n"},
      {"chunk_data_too_long",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n"},
      {"cr_without_lf_in_size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\rab"},
      {"header_without_colon", "HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n"},
      {"empty_header_name", "HTTP/1.1 200 OK\r\n: v\r\n\r\n"},
      {"header_over_limit",
       "HTTP/1.1 200 OK\r\nX-Big: " + std::string(ResponseParser::kMaxHeaderBytes, 'b') +
           "\r\nContent-Length: 0\r\n\r\n"},
      {"many_headers_over_limit",
       [] {
         std::string s = "HTTP/1.1 200 OK\r\n";
         while (s.size() <= ResponseParser::kMaxHeaderBytes) s += "X-H: 0123456789\r\n";
         return s + "\r\n";
       }()},
      {"trailers_over_limit", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: " +
                                  std::string(ResponseParser::kMaxHeaderBytes, 't') + "\r\n\r\n"},
      {"eof_mid_headers", "HTTP/1.1 200 OK\r\nContent-Len"},
  };
}

TEST(ResponseParserTest, MalformedInputsAreErrors) {
  for (const Malformed& m : malformed_responses()) {
    SCOPED_TRACE(m.name);
    const Outcome whole = parse_whole(m.input);
    EXPECT_EQ(whole.result, Result::error);
    std::vector<size_t> cuts(m.input.size());
    for (size_t i = 0; i < cuts.size(); ++i) cuts[i] = i + 1;
    EXPECT_EQ(parse_pieces(m.input, cuts).result, Result::error);
    for (size_t cut = 1; cut < m.input.size() && cut < 200; ++cut) {
      ASSERT_EQ(parse_pieces(m.input, {cut}).result, Result::error) << "cut at " << cut;
    }
  }
}

TEST(ResponseParserTest, ErrorIsSticky) {
  ResponseParser parser;
  const std::string bad = "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n";
  size_t consumed = 0;
  ASSERT_EQ(parser.feed(bad.data(), bad.size(), &consumed), Result::error);
  EXPECT_STREQ(parser.error_reason(), "invalid content-length");
  const std::string good = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  EXPECT_EQ(parser.feed(good.data(), good.size(), &consumed), Result::error);
  parser.reset();
  EXPECT_EQ(parser.feed(good.data(), good.size(), &consumed), Result::complete);
  EXPECT_STREQ(parser.error_reason(), "");
}

TEST(ResponseParserTest, StatusLineRejectedBeforeItsNewline) {
  // A non-HTTP peer is detected from its first bytes, without waiting for a line end.
  ResponseParser parser;
  size_t consumed = 0;
  const std::string junk = "SSH-2.0-OpenSSH_9.2";
  EXPECT_EQ(parser.feed(junk.data(), junk.size(), &consumed), Result::error);
}

TEST(ResponseParserTest, Http10TransferEncodingClosesAfterwards) {
  const std::string input =
      "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
      "1\r\na\r\n0\r\n\r\n";
  const Outcome o = parse_whole(input);
  EXPECT_EQ(o.result, Result::complete);
  EXPECT_EQ(o.body, "a");
  EXPECT_FALSE(o.keep_alive);
}

TEST(ResponseParserTest, CloseWinsOverKeepAliveInAnyOrder) {
  for (const char* headers :
       {"Connection: close\r\nConnection: keep-alive\r\n",
        "Connection: keep-alive\r\nConnection: close\r\n", "Connection: close, keep-alive\r\n"}) {
    for (const char* version : {"HTTP/1.0", "HTTP/1.1"}) {
      const std::string input =
          std::string(version) + " 200 OK\r\n" + headers + "Content-Length: 0\r\n\r\n";
      const Outcome o = parse_whole(input);
      EXPECT_EQ(o.result, Result::complete) << input;
      EXPECT_FALSE(o.keep_alive) << input;
    }
  }
}

TEST(ResponseParserTest, SwitchingProtocolsIsFinalAndCloses) {
  const Outcome o = parse_whole("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n");
  EXPECT_EQ(o.result, Result::complete);
  EXPECT_EQ(o.status, 101);
  EXPECT_FALSE(o.keep_alive);
  EXPECT_FALSE(o.used_eof);
}

}  // namespace
}  // namespace trafficsim::http
