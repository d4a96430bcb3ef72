#include "core/text_template.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

#include "core/person_names.hpp"
#include "core/random.hpp"

namespace trafficsim::core {

int SampleSet::field_index(std::string_view field) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i] == field) return static_cast<int>(i);
  }
  return -1;
}

namespace {

// What a placeholder produces. Every op writes its raw value as a string_view (into stored text
// or a stack buffer); filters then stream that view into the output.
enum class Op : uint8_t {
  literal,
  uuid,
  integer,
  seq,
  choice,
  sample,
  bloat,
  first_name,
  last_name,
  full_name,
  email,
};

enum class Filter : uint8_t { json, url };

// Output bytes per input byte, at most: "\u00XX" for json, "%XX" for url.
constexpr size_t kJsonGrowth = 6;
constexpr size_t kUrlGrowth = 3;

constexpr size_t kMaxBloat = 10'000'000;
constexpr size_t kMaxUint64Digits = 20;  // 18446744073709551615
constexpr size_t kMaxFirst = kLongestFirstName;
constexpr size_t kMaxLast = kLongestLastName;
constexpr size_t kMaxName = kMaxFullNameSize;
constexpr size_t kMaxEmail = kMaxEmailSize;

// Keys that separate the draws of sample sets and of the person from each other and from the
// render's own stream (ctx.stream_key unchanged): a set's record is drawn from
// ArrivalRandom(seed, stream_key ^ key, k, Lane::body), so it depends on the arrival and the set
// only, never on which template asks or what it drew before.
uint64_t sample_key(std::string_view set_name) {
  std::string label = "sample ";
  label += set_name;
  return stream_key(label);
}

size_t draw_index(const RenderContext& ctx, uint64_t key, size_t n) {
  ArrivalRandom rng(ctx.seed, ctx.stream_key ^ key, ctx.k, Lane::body);
  return static_cast<size_t>(rng.below(n));
}

size_t saturating_add(size_t a, size_t b) {
  size_t r;
  return __builtin_add_overflow(a, b, &r) ? std::numeric_limits<size_t>::max() : r;
}

size_t saturating_mul(size_t a, size_t b) {
  size_t r;
  return __builtin_mul_overflow(a, b, &r) ? std::numeric_limits<size_t>::max() : r;
}

// ---- Filters --------------------------------------------------------------------------------

constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr char kHexLower[] = "0123456789abcdef";

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Writes the encoding of byte c into buf and returns its length, or 0 when c passes unchanged.
size_t encode(Filter filter, char c, char* buf) {
  const auto u = static_cast<unsigned char>(c);
  if (filter == Filter::url) {
    if (is_unreserved(u)) return 0;
    buf[0] = '%';
    buf[1] = kHexUpper[u >> 4];
    buf[2] = kHexUpper[u & 0xf];
    return 3;
  }
  // JSON string content: quote, backslash and control characters; UTF-8 bytes pass as they are.
  switch (c) {
    case '"':
      buf[1] = '"';
      break;
    case '\\':
      buf[1] = '\\';
      break;
    case '\n':
      buf[1] = 'n';
      break;
    case '\r':
      buf[1] = 'r';
      break;
    case '\t':
      buf[1] = 't';
      break;
    case '\b':
      buf[1] = 'b';
      break;
    case '\f':
      buf[1] = 'f';
      break;
    default:
      if (u >= 0x20) return 0;
      std::memcpy(buf, "\\u00", 4);
      buf[4] = kHexLower[u >> 4];
      buf[5] = kHexLower[u & 0xf];
      return 6;
  }
  buf[0] = '\\';
  return 2;
}

// Appends `text` passed through filters [f, end) in order. Streams byte runs straight into
// `out` (no temporary string): runs a filter leaves unchanged go to the next filter whole.
void emit(std::string& out, const Filter* f, const Filter* end, std::string_view text) {
  if (f == end) {
    out.append(text);
    return;
  }
  size_t run = 0;
  char buf[8];
  for (size_t i = 0; i < text.size(); ++i) {
    const size_t n = encode(*f, text[i], buf);
    if (n == 0) continue;
    if (i > run) emit(out, f + 1, end, text.substr(run, i - run));
    emit(out, f + 1, end, std::string_view(buf, n));
    run = i + 1;
  }
  if (text.size() > run) emit(out, f + 1, end, text.substr(run));
}

std::string apply_filters(std::string_view text, const std::vector<Filter>& filters) {
  std::string out;
  emit(out, filters.data(), filters.data() + filters.size(), text);
  return out;
}

// ---- Placeholder parsing --------------------------------------------------------------------

struct Token {
  std::string text;
  bool quoted = false;
  bool pipe = false;  // the "|" before a filter
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// The placeholder as written, for messages (shortened when long).
std::string quote_placeholder(std::string_view source, size_t begin, size_t end) {
  constexpr size_t kMaxShown = 80;
  std::string_view text = source.substr(begin, end - begin);
  if (text.size() <= kMaxShown) return std::string(text);
  return std::string(text.substr(0, kMaxShown)) + "...";
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    if (!out.empty()) out += ", ";
    out += name.empty() ? "\"\"" : name;
  }
  return out;
}

struct Segment {
  Op op = Op::literal;
  std::vector<Filter> filters;
  size_t max_size = 0;             // of the raw value, before filters
  std::string text;                // literal
  std::vector<std::string> words;  // choice
  int64_t lo = 0;                  // integer
  int64_t hi = 0;
  const SampleSet* set = nullptr;  // sample, bloat
  size_t field = 0;
  uint64_t set_key = 0;
  // bloat: the text of every start record is the slice spans[start] of one buffer (the records
  // in order, repeated as far as the last start needs), so the table costs about one cycle of
  // records plus N bytes instead of N bytes per record.
  std::string bloat_buffer;
  std::vector<std::pair<size_t, size_t>> bloat_spans;  // (offset, length) per start record
  // sample / bloat with filters: the filtered text of every record (start), computed once at
  // compile time when it fits kMaxPrefiltered, so rendering is one append (escaping a sample
  // email byte by byte per request cost more than the rest of the request together).
  std::vector<std::string> prefiltered;
};

constexpr size_t kMaxPrefiltered = 64 * 1024 * 1024;

// Fills seg.bloat_buffer / bloat_spans. Records are joined by "\n\n"; a start's text ends at the
// first record boundary at or past min_length characters.
void build_bloat(Segment& seg, size_t min_length) {
  constexpr std::string_view kSeparator = "\n\n";
  const auto& records = seg.set->records;
  const size_t n = records.size();
  std::string& buf = seg.bloat_buffer;
  std::vector<size_t> starts(n);  // offset of the first occurrence of each record in buf
  seg.bloat_spans.resize(n);
  size_t pending = 0;  // the first start record whose text is not yet long enough
  // Every occurrence after the first adds at least the separator, so this terminates.
  for (size_t j = 0; pending < n; ++j) {
    if (j > 0) buf += kSeparator;
    if (j < n) starts[j] = buf.size();
    buf += records[j % n][seg.field];
    // This record boundary is the first long enough for each start it satisfies now: an earlier
    // one that satisfied a later start would have satisfied `pending` (which begins earlier).
    while (pending < n && pending <= j && buf.size() - starts[pending] >= min_length) {
      const size_t length = buf.size() - starts[pending];
      seg.bloat_spans[pending] = {starts[pending], length};
      seg.max_size = std::max(seg.max_size, length);
      ++pending;
    }
  }
  buf.shrink_to_fit();
}

class Compiler {
 public:
  Compiler(std::string_view source, const std::vector<std::shared_ptr<const SampleSet>>& samples)
      : source_(source), samples_(samples) {}

  // Parses the placeholder whose "{{" is at `begin`; returns its segment and sets `end` to just
  // past its "}}".
  Segment placeholder(size_t begin, size_t& end) {
    begin_ = begin;
    std::vector<Token> tokens = tokenize(begin + 2, end);
    end_ = end;
    // Expression tokens, then "| filter" pairs.
    size_t pipe = 0;
    while (pipe < tokens.size() && !tokens[pipe].pipe) ++pipe;
    std::vector<Token> expr(tokens.begin(), tokens.begin() + static_cast<ptrdiff_t>(pipe));
    Segment seg = expression(expr);
    for (size_t i = pipe; i < tokens.size();) {
      ++i;  // the pipe
      if (i >= tokens.size() || tokens[i].pipe) fail("a filter name is missing after '|'");
      const Token& name = tokens[i];
      if (!name.quoted && name.text == "json") {
        seg.filters.push_back(Filter::json);
      } else if (!name.quoted && name.text == "url") {
        seg.filters.push_back(Filter::url);
      } else {
        fail("unknown filter '" + name.text + "' (filters: json, url)");
      }
      ++i;
      if (i < tokens.size() && !tokens[i].pipe) {
        fail("filter '" + name.text + "' takes no arguments, got '" + tokens[i].text + "'");
      }
    }
    return seg;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw TemplateError(what + " in " + quote_placeholder(source_, begin_, end_), begin_);
  }

  [[noreturn]] void fail_unclosed(const std::string& what) const {
    end_ = source_.size();
    throw TemplateError(what + ": " + quote_placeholder(source_, begin_, end_), begin_);
  }

  // Splits the inside of a placeholder into words, "quoted words" and pipes; `end` is set to
  // just past the closing "}}". A "}}" inside quotes does not close the placeholder.
  std::vector<Token> tokenize(size_t i, size_t& end) const {
    std::vector<Token> tokens;
    const std::string_view s = source_;
    for (;;) {
      while (i < s.size() && is_space(s[i])) ++i;
      if (i >= s.size()) fail_unclosed("unclosed '{{' (no matching '}}')");
      if (s.compare(i, 2, "}}") == 0) {
        end = i + 2;
        return tokens;
      }
      Token token;
      if (s[i] == '|') {
        token.pipe = true;
        token.text = "|";
        ++i;
      } else if (s[i] == '"') {
        token.quoted = true;
        ++i;
        while (i < s.size() && s[i] != '"') {
          if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '"' || s[i + 1] == '\\')) ++i;
          token.text += s[i++];
        }
        if (i >= s.size()) fail_unclosed("unclosed quote in placeholder");
        ++i;  // the closing quote
      } else {
        while (i < s.size() && !is_space(s[i]) && s[i] != '|' && s[i] != '"' &&
               s.compare(i, 2, "}}") != 0) {
          token.text += s[i++];
        }
      }
      tokens.push_back(std::move(token));
    }
  }

  void expect_args(const std::vector<Token>& expr, size_t count, const char* usage) const {
    if (expr.size() - 1 != count) {
      fail("'" + expr[0].text + "' takes " +
           (count == 0 ? std::string("no arguments") : std::string("arguments ") + usage) +
           ", got " + std::to_string(expr.size() - 1));
    }
  }

  int64_t parse_int(const Token& token) const {
    int64_t value = 0;
    const char* first = token.text.data();
    const char* last = first + token.text.size();
    auto [ptr, ec] = std::from_chars(first, last, value);
    if (token.text.empty() || ec != std::errc() || ptr != last) {
      fail("'" + token.text + "' is not a 64-bit integer");
    }
    return value;
  }

  // The set and field named by "SET" or "SET.FIELD". A whole name that is a set wins over a
  // split at its first dot, so set names may contain dots when no field is given.
  void resolve_sample(const std::string& ref, Segment& seg) const {
    std::string set_name = ref;
    std::optional<std::string> field;
    const SampleSet* set = find_set(ref);
    if (set == nullptr) {
      const size_t dot = ref.find('.');
      if (dot != std::string::npos) {
        set_name = ref.substr(0, dot);
        field = ref.substr(dot + 1);
        set = find_set(set_name);
      }
    }
    if (set == nullptr) {
      std::vector<std::string> names;
      for (const auto& s : samples_) {
        if (s) names.push_back(s->name);
      }
      fail("unknown sample set '" + set_name +
           "' (sets: " + (names.empty() ? std::string("none") : joined(names)) + ")");
    }
    int index = -1;
    if (field) {
      index = set->field_index(*field);
      if (index < 0) {
        fail("sample set '" + set_name + "' has no field '" + *field +
             "' (fields: " + joined(set->fields) + ")");
      }
    } else {
      index = set->field_index("");
      if (index < 0 && set->fields.size() == 1) index = 0;
      if (index < 0) {
        fail("sample set '" + set_name + "' has " + std::to_string(set->fields.size()) +
             " fields; name one as " + set_name + ".FIELD (fields: " + joined(set->fields) + ")");
      }
    }
    if (set->records.empty()) fail("sample set '" + set_name + "' is empty");
    for (size_t r = 0; r < set->records.size(); ++r) {
      if (set->records[r].size() <= static_cast<size_t>(index)) {
        fail("record " + std::to_string(r) + " of sample set '" + set_name + "' has " +
             std::to_string(set->records[r].size()) + " fields, expected " +
             std::to_string(set->fields.size()));
      }
    }
    seg.set = set;
    seg.field = static_cast<size_t>(index);
    seg.set_key = sample_key(set->name);
  }

  const SampleSet* find_set(std::string_view name) const {
    for (const auto& s : samples_) {
      if (s && s->name == name) return s.get();
    }
    return nullptr;
  }

  Segment expression(const std::vector<Token>& expr) const {
    Segment seg;
    if (expr.empty()) fail("empty placeholder");
    const Token& head = expr[0];
    if (head.quoted) {
      if (expr.size() > 1) fail("a quoted literal takes no arguments, got '" + expr[1].text + "'");
      seg.op = Op::literal;
      seg.text = head.text;
      seg.max_size = seg.text.size();
      return seg;
    }
    const std::string& fn = head.text;
    if (fn == "uuid") {
      expect_args(expr, 0, "");
      seg.op = Op::uuid;
      seg.max_size = 36;
    } else if (fn == "seq") {
      expect_args(expr, 0, "");
      seg.op = Op::seq;
      seg.max_size = kMaxUint64Digits;
    } else if (fn == "int") {
      expect_args(expr, 2, "A B");
      seg.op = Op::integer;
      seg.lo = parse_int(expr[1]);
      seg.hi = parse_int(expr[2]);
      if (seg.lo > seg.hi) {
        fail("int bounds are reversed (" + expr[1].text + " > " + expr[2].text + ")");
      }
      // Any value in [lo, hi] is no longer than the longer bound: a negative one is no longer
      // than lo, a non-negative one no longer than hi.
      seg.max_size = std::max(expr[1].text.size(), expr[2].text.size());
      seg.max_size = std::max(seg.max_size, std::to_string(seg.lo).size());
      seg.max_size = std::max(seg.max_size, std::to_string(seg.hi).size());
    } else if (fn == "choice") {
      if (expr.size() < 2) fail("'choice' needs at least one word");
      seg.op = Op::choice;
      for (size_t i = 1; i < expr.size(); ++i) {
        seg.words.push_back(expr[i].text);
        seg.max_size = std::max(seg.max_size, expr[i].text.size());
      }
    } else if (fn == "sample") {
      expect_args(expr, 1, "SET or SET.FIELD");
      seg.op = Op::sample;
      resolve_sample(expr[1].text, seg);
      for (const auto& record : seg.set->records) {
        seg.max_size = std::max(seg.max_size, record[seg.field].size());
      }
    } else if (fn == "bloat") {
      expect_args(expr, 2, "SET.FIELD N");
      seg.op = Op::bloat;
      resolve_sample(expr[1].text, seg);
      size_t n = 0;
      const std::string& count = expr[2].text;
      auto [ptr, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
      if (count.empty() || ec != std::errc() || ptr != count.data() + count.size() || n == 0 ||
          n > kMaxBloat) {
        fail("bloat length '" + count + "' is not an integer in [1, 10000000]");
      }
      build_bloat(seg, n);
    } else if (fn == "first_name") {
      expect_args(expr, 0, "");
      seg.op = Op::first_name;
      seg.max_size = kMaxFirst;
    } else if (fn == "last_name") {
      expect_args(expr, 0, "");
      seg.op = Op::last_name;
      seg.max_size = kMaxLast;
    } else if (fn == "name") {
      expect_args(expr, 0, "");
      seg.op = Op::full_name;
      seg.max_size = kMaxName;
    } else if (fn == "email") {
      expect_args(expr, 0, "");
      seg.op = Op::email;
      seg.max_size = kMaxEmail;
    } else {
      fail("unknown function '" + fn + "'");
    }
    return seg;
  }

  std::string_view source_;
  const std::vector<std::shared_ptr<const SampleSet>>& samples_;
  size_t begin_ = 0;
  mutable size_t end_ = 0;
};

const std::string& empty_string() {
  static const std::string empty;
  return empty;
}

// ---- Rendering helpers ----------------------------------------------------------------------

// Writes a v4 UUID (36 characters) into buf.
void format_uuid(ArrivalRandom& rng, char* buf) {
  uint64_t hi = rng.next_u64();
  uint64_t lo = rng.next_u64();
  hi = (hi & ~0xf000ULL) | 0x4000ULL;                         // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10xx
  size_t out = 0;
  for (int nibble = 0; nibble < 32; ++nibble) {
    if (nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20) buf[out++] = '-';
    const uint64_t word = nibble < 16 ? hi : lo;
    const int shift = 60 - 4 * (nibble % 16);
    buf[out++] = kHexLower[(word >> shift) & 0xf];
  }
}

}  // namespace

struct TextTemplate::Impl {
  std::string source;
  std::vector<Segment> segments;  // adjacent literals merged; empty when static
  std::string static_text;        // the whole text when there are no placeholders
  size_t max_size = 0;
  std::vector<std::shared_ptr<const SampleSet>> samples;  // keeps Segment::set pointers alive
};

TextTemplate::TextTemplate() = default;
TextTemplate::~TextTemplate() = default;
TextTemplate::TextTemplate(const TextTemplate&) = default;
TextTemplate& TextTemplate::operator=(const TextTemplate&) = default;
TextTemplate::TextTemplate(TextTemplate&&) noexcept = default;
TextTemplate& TextTemplate::operator=(TextTemplate&&) noexcept = default;

TextTemplate TextTemplate::compile(std::string_view text,
                                   const std::vector<std::shared_ptr<const SampleSet>>& samples) {
  auto impl = std::make_shared<Impl>();
  impl->source = std::string(text);
  Compiler compiler(text, samples);
  std::vector<Segment> segments;
  auto add_literal = [&segments](std::string_view literal) {
    if (literal.empty()) return;
    if (segments.empty() || segments.back().op != Op::literal) segments.emplace_back();
    segments.back().text += literal;
  };
  size_t i = 0;
  while (i < text.size()) {
    const size_t open = text.find("{{", i);
    if (open == std::string_view::npos) {
      add_literal(text.substr(i));
      break;
    }
    add_literal(text.substr(i, open - i));
    size_t end = open;
    Segment seg = compiler.placeholder(open, end);
    if (seg.op == Op::literal) {
      add_literal(apply_filters(seg.text, seg.filters));  // {{"text" | url}} folds here
    } else {
      segments.push_back(std::move(seg));
    }
    i = end;
  }

  for (auto& seg : segments) {
    if ((seg.op == Op::sample || seg.op == Op::bloat) && !seg.filters.empty()) {
      const size_t n = seg.set->records.size();
      size_t total = 0;
      for (size_t r = 0; r < n && total <= kMaxPrefiltered; ++r)
        total += seg.op == Op::sample ? seg.set->records[r][seg.field].size()
                                      : seg.bloat_spans[r].second;
      if (total <= kMaxPrefiltered / kJsonGrowth) {
        seg.prefiltered.reserve(n);
        for (size_t r = 0; r < n; ++r) {
          std::string_view raw =
              seg.op == Op::sample
                  ? std::string_view(seg.set->records[r][seg.field])
                  : std::string_view(seg.bloat_buffer)
                        .substr(seg.bloat_spans[r].first, seg.bloat_spans[r].second);
          seg.prefiltered.push_back(apply_filters(raw, seg.filters));
        }
      }
    }
    if (seg.op == Op::literal) {
      seg.max_size = seg.text.size();
      impl->max_size = saturating_add(impl->max_size, seg.max_size);
      continue;
    }
    size_t growth = 1;
    for (Filter f : seg.filters) {
      growth = saturating_mul(growth, f == Filter::json ? kJsonGrowth : kUrlGrowth);
    }
    impl->max_size = saturating_add(impl->max_size, saturating_mul(seg.max_size, growth));
  }
  const bool is_static = std::all_of(segments.begin(), segments.end(),
                                     [](const Segment& seg) { return seg.op == Op::literal; });
  if (is_static) {
    if (!segments.empty()) impl->static_text = std::move(segments.front().text);
  } else {
    impl->segments = std::move(segments);
    for (const auto& set : samples) {
      const bool used = std::any_of(
          impl->segments.begin(), impl->segments.end(),
          [&set](const Segment& seg) { return seg.set != nullptr && seg.set == set.get(); });
      if (used) impl->samples.push_back(set);
    }
  }
  TextTemplate result;
  result.impl_ = std::move(impl);
  return result;
}

bool TextTemplate::is_static() const {
  return !impl_ || impl_->segments.empty();
}

const std::string& TextTemplate::static_text() const {
  if (!impl_ || !impl_->segments.empty()) return empty_string();
  return impl_->static_text;
}

const std::string& TextTemplate::source() const {
  return impl_ ? impl_->source : empty_string();
}

size_t TextTemplate::max_size() const {
  return impl_ ? impl_->max_size : 0;
}

size_t TextTemplate::precomputed_bytes() const {
  if (!impl_) return 0;
  size_t n = 0;
  for (const auto& seg : impl_->segments) {
    n += seg.bloat_buffer.size() + seg.bloat_spans.size() * sizeof(seg.bloat_spans[0]);
    for (const auto& text : seg.prefiltered) n += text.size();
  }
  return n;
}

void TextTemplate::render(std::string& out, const RenderContext& ctx) const {
  if (!impl_) return;
  const Impl& impl = *impl_;
  if (impl.segments.empty()) {
    out.append(impl.static_text);
    return;
  }
  // One generator per render for uuid/int/choice, drawn in placeholder order. Sample and person
  // draws use their own keyed generators so that they agree across templates of one arrival.
  ArrivalRandom rng(ctx.seed, ctx.stream_key, ctx.k, Lane::body);
  std::array<char, std::max<size_t>(kMaxEmail, 64)> buf;  // generated values; no heap
  for (const Segment& seg : impl.segments) {
    std::string_view value;
    switch (seg.op) {
      case Op::literal:
        value = seg.text;
        break;
      case Op::uuid:
        format_uuid(rng, buf.data());
        value = std::string_view(buf.data(), 36);
        break;
      case Op::integer: {
        const int64_t v = rng.between(seg.lo, seg.hi);
        const auto result = std::to_chars(buf.data(), buf.data() + buf.size(), v);
        value = std::string_view(buf.data(), static_cast<size_t>(result.ptr - buf.data()));
        break;
      }
      case Op::seq: {
        const auto result = std::to_chars(buf.data(), buf.data() + buf.size(), ctx.k);
        value = std::string_view(buf.data(), static_cast<size_t>(result.ptr - buf.data()));
        break;
      }
      case Op::choice:
        value = seg.words[rng.below(seg.words.size())];
        break;
      case Op::sample: {
        const size_t r = draw_index(ctx, seg.set_key, seg.set->records.size());
        if (!seg.prefiltered.empty()) {
          out.append(seg.prefiltered[r]);
          continue;
        }
        value = seg.set->records[r][seg.field];
        break;
      }
      case Op::bloat: {
        const size_t r = draw_index(ctx, seg.set_key, seg.set->records.size());
        if (!seg.prefiltered.empty()) {
          out.append(seg.prefiltered[r]);
          continue;
        }
        const auto [offset, length] = seg.bloat_spans[r];
        value = std::string_view(seg.bloat_buffer).substr(offset, length);
        break;
      }
      case Op::first_name:
        value = draw_person(ctx).first;
        break;
      case Op::last_name:
        value = draw_person(ctx).last;
        break;
      case Op::full_name:
        value = std::string_view(buf.data(), write_full_name(draw_person(ctx), buf.data()));
        break;
      case Op::email:
        value = std::string_view(buf.data(), write_email(draw_person(ctx), ctx.k, buf.data()));
        break;
    }
    emit(out, seg.filters.data(), seg.filters.data() + seg.filters.size(), value);
  }
}

std::string TextTemplate::render(const RenderContext& ctx) const {
  std::string out;
  // Reserve the bound only when it is modest: a bloat bound can be megabytes above typical size.
  constexpr size_t kReserveLimit = 64 * 1024;
  out.reserve(std::min(max_size(), kReserveLimit));
  render(out, ctx);
  return out;
}

}  // namespace trafficsim::core
