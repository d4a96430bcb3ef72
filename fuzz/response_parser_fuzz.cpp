// The load engine's HTTP/1.1 response parser on any bytes: one feed of the whole input must give
// the same outcome — result, status, body bytes and content, bytes consumed — as the same bytes
// fed in pieces (the split points come from the input's first byte), pipelined responses
// included; on_eof after the last piece never crashes.
#include <algorithm>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "http/response_parser.hpp"

using trafficsim::http::ResponseParser;

namespace {

struct Outcome {
  std::vector<int> statuses;
  std::vector<std::string> bodies;
  ResponseParser::Result last = ResponseParser::Result::need_more;
  bool operator==(const Outcome&) const = default;
};

Outcome parse(std::string_view in, size_t step, bool head) {
  Outcome out;
  ResponseParser p;
  p.reset(head);
  std::string body;
  size_t pos = 0;
  int responses = 0;
  while (pos < in.size() && responses < 64) {
    const size_t len = step == 0 ? in.size() - pos : std::min(step, in.size() - pos);
    size_t consumed = 0;
    auto r = p.feed(in.data() + pos, len, &consumed, [&](std::string_view b) { body.append(b); });
    TS_FUZZ_CHECK(consumed <= len);
    out.last = r;
    if (r == ResponseParser::Result::error) return out;
    if (r == ResponseParser::Result::complete) {
      out.statuses.push_back(p.status());
      TS_FUZZ_CHECK(p.body_bytes() == body.size());
      out.bodies.push_back(std::move(body));
      body.clear();
      ++responses;
      p.reset(head);
    } else {
      TS_FUZZ_CHECK(consumed == len);
    }
    pos += consumed;
  }
  if (out.last == ResponseParser::Result::need_more) {
    auto r = p.on_eof();
    if (r == ResponseParser::Result::complete) {
      out.statuses.push_back(p.status());
      out.bodies.push_back(std::move(body));
    }
    out.last = r;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool head = data[0] & 0x80;
  const size_t step = 1 + (data[0] & 0x3f);
  std::string_view in = fuzz_text(data + 1, size - 1);
  Outcome whole = parse(in, 0, head);
  Outcome pieces = parse(in, step, head);
  TS_FUZZ_CHECK(whole == pieces);
  return 0;
}
