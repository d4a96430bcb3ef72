#include "core/person_names.hpp"

#include <charconv>

#include "core/random.hpp"

namespace trafficsim::core {

namespace {

uint64_t person_key() {
  static const uint64_t key = stream_key("person");
  return key;
}

size_t append_lower(char* buf, std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return text.size();
}

}  // namespace

Person draw_person(const RenderContext& ctx) {
  ArrivalRandom rng(ctx.seed, ctx.stream_key ^ person_key(), ctx.k, Lane::body);
  Person p;
  p.first = kFirstNames[rng.below(kFirstNames.size())];
  p.last = kLastNames[rng.below(kLastNames.size())];
  return p;
}

size_t write_full_name(const Person& p, char* buf) {
  char* w = buf;
  w = std::copy(p.first.begin(), p.first.end(), w);
  *w++ = ' ';
  w = std::copy(p.last.begin(), p.last.end(), w);
  return static_cast<size_t>(w - buf);
}

size_t write_email(const Person& p, uint64_t k, char* buf) {
  char* w = buf;
  w += append_lower(w, p.first);
  *w++ = '.';
  w += append_lower(w, p.last);
  *w++ = '.';
  w = std::to_chars(w, buf + kMaxEmailSize, k).ptr;
  w = std::copy(kEmailDomain.begin(), kEmailDomain.end(), w);
  return static_cast<size_t>(w - buf);
}

}  // namespace trafficsim::core
