#include "scenarios/yaml_reader.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include "core/ascii.hpp"
#include "core/duration.hpp"
#include "scenarios/variables.hpp"

namespace trafficsim::scenarios {

namespace {

std::string where(const std::string& path, const YAML::Mark& mark) {
  return mark.line >= 0 ? fmt::format("{}:{}", path, mark.line + 1) : path;
}

std::string located(const std::string& path, const YAML::Mark& mark, const std::string& field,
                    const std::string& what) {
  return field.empty() ? fmt::format("{}: {}", where(path, mark), what)
                       : fmt::format("{}: {}: {}", where(path, mark), field, what);
}

// yaml-cpp's message, said in the words of the mistake where it has a terse or misleading one
// (a nesting too deep is reported as "bad file").
std::string describe(const YAML::Exception& e) {
  if (dynamic_cast<const YAML::DeepRecursion*>(&e))
    return fmt::format("nesting deeper than {} levels", kMaxNestingDepth);
  const std::string& m = e.msg;
  if (m == YAML::ErrorMsg::END_OF_SEQ_FLOW)
    return fmt::format("unbalanced brackets: a '[' is never closed by its ']' ({})", m);
  if (m == YAML::ErrorMsg::END_OF_MAP_FLOW)
    return fmt::format("unbalanced braces: a '{{' is never closed by its '}}' ({})", m);
  if (m == YAML::ErrorMsg::FLOW_END)
    return fmt::format("unbalanced brackets: a ']' or '}}' closes nothing ({})", m);
  if (m == YAML::ErrorMsg::END_OF_SEQ || m == YAML::ErrorMsg::END_OF_MAP)
    return fmt::format("{} (check the indentation)", m);
  if (m == YAML::ErrorMsg::UNKNOWN_ANCHOR)
    return "an alias (*name) refers to no anchor (&name) defined before it";
  return m;
}

// Walks the parser's events, never building the graph: the expanded size (each anchored node's
// expanded size is recorded once, when it ends; an alias adds that size), the nesting depth (an
// alias of a collection nests its anchor's height where it stands), and the field path of the
// current node for messages.
class ExpansionGuard : public YAML::EventHandler {
 public:
  explicit ExpansionGuard(const Source& source) : source_(source) {}

  // The pending size error, if any (reported once the whole file has been walked, so that it
  // can say how often the alias was used).
  void finish() const {
    if (!size_error_) return;
    std::string what =
        size_alias_ == 0
            ? fmt::format("the file's values come to more than {}", kMaxExpandedText)
            : fmt::format("the file expands to more than {} through aliases (*{} used {} times)",
                          kMaxExpandedText, anchors_[size_alias_].name,
                          anchors_[size_alias_].uses);
    throw ScenarioError(located(source_.path, size_mark_, size_field_, what));
  }
  bool size_error() const { return size_error_; }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnAnchor(const YAML::Mark&, const std::string& name) override { anchor_name_ = name; }

  void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override {
    begin_node();
    if (anchor) define(anchor, 0, 0);
    end_node();
  }

  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    bool is_key = begin_node();
    if (is_key) frames_.back().key = value.substr(0, 80);
    add(value.size(), mark, 0);
    if (anchor) define(anchor, value.size(), 0);
    end_node();
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    bool is_key = begin_node();
    std::string name = anchor < anchors_.size() ? anchors_[anchor].name : "";
    if (is_key) frames_.back().key = "*" + name;
    if (anchor >= anchors_.size() || !anchors_[anchor].complete) {
      throw ScenarioError(located(source_.path, mark, path(),
                                  fmt::format("*{} refers to a node that contains it", name)));
    }
    Anchor& a = anchors_[anchor];
    ++a.uses;
    int depth = static_cast<int>(frames_.size()) + a.height;
    if (depth > kMaxNestingDepth && !size_error_)
      throw ScenarioError(located(source_.path, mark, path(),
                                  fmt::format("nesting deeper than {} levels (through *{})",
                                              kMaxNestingDepth, name)));
    if (!frames_.empty()) frames_.back().height = std::max(frames_.back().height, a.height + 1);
    add(a.size, mark, anchor);
    end_node();
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor, false);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor, true);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    bool map = false;
    YAML::anchor_t anchor = 0;
    size_t total_at_start = 0;
    int height = 1;       // levels of collections in this subtree, itself included
    size_t index = 0;     // sequence: the current item
    bool at_key = true;   // mapping: the next node is a key
    std::string key;      // mapping: the current key (as written, cut at 80 bytes)
  };
  struct Anchor {
    std::string name;
    size_t size = 0;  // expanded bytes
    int height = 0;   // 0: a scalar
    bool complete = false;
    size_t uses = 0;
  };

  // A node starts in the current frame; true when it is a mapping's key.
  bool begin_node() {
    if (frames_.empty()) return false;
    Frame& f = frames_.back();
    return f.map && f.at_key;
  }
  void end_node() {
    if (frames_.empty()) return;
    Frame& f = frames_.back();
    if (f.map) {
      f.at_key = !f.at_key;
    } else {
      ++f.index;
    }
  }

  void open(const YAML::Mark& mark, YAML::anchor_t anchor, bool map) {
    begin_node();
    if (static_cast<int>(frames_.size()) + 1 > kMaxNestingDepth && !size_error_)
      throw ScenarioError(located(source_.path, mark, path(),
                                  fmt::format("nesting deeper than {} levels", kMaxNestingDepth)));
    if (anchor) name_anchor(anchor);
    Frame f;
    f.map = map;
    f.anchor = anchor;
    f.total_at_start = total_;
    frames_.push_back(std::move(f));
  }

  void close() {
    Frame f = std::move(frames_.back());
    frames_.pop_back();
    if (!frames_.empty()) frames_.back().height = std::max(frames_.back().height, f.height + 1);
    if (f.anchor) define(f.anchor, total_ - f.total_at_start, f.height);
    end_node();
  }

  Anchor& name_anchor(YAML::anchor_t anchor) {
    if (anchor >= anchors_.size()) anchors_.resize(anchor + 1);
    Anchor& a = anchors_[anchor];
    if (!anchor_name_.empty()) a.name = std::move(anchor_name_);
    anchor_name_.clear();
    return a;
  }

  void define(YAML::anchor_t anchor, size_t size, int height) {
    Anchor& a = name_anchor(anchor);
    a.size = size;
    a.height = height;
    a.complete = true;
  }

  // Every addition is at most the limit (an anchor's size was checked when it was defined), and
  // the walk stops adding once past it: the sum cannot overflow.
  void add(size_t bytes, const YAML::Mark& mark, YAML::anchor_t alias) {
    if (size_error_) return;
    total_ += bytes;
    if (total_ <= kMaxExpandedBytes) return;
    size_error_ = true;
    size_mark_ = mark;
    size_field_ = path();
    size_alias_ = alias;
  }

  // "streams[0].requests[0].body" for the node being read.
  std::string path() const {
    std::string p;
    for (const Frame& f : frames_) {
      if (f.map) {
        if (f.at_key) break;
        if (!p.empty()) p += '.';
        p += f.key;
      } else {
        p += fmt::format("[{}]", f.index);
      }
    }
    return p;
  }

  const Source& source_;
  std::vector<Frame> frames_;
  std::vector<Anchor> anchors_;  // by yaml-cpp's anchor id (1-based)
  std::string anchor_name_;      // of the anchor whose node comes next
  size_t total_ = 0;
  bool size_error_ = false;
  YAML::Mark size_mark_;
  std::string size_field_;
  YAML::anchor_t size_alias_ = 0;
};

}  // namespace

std::string read_text(const std::filesystem::path& path, std::string* text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::strerror(errno);
  // In pieces up to the limit: a pipe or a device has no size to check first.
  std::string out;
  char buf[64 * 1024];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    out.append(buf, static_cast<size_t>(in.gcount()));
    if (out.size() > kMaxExpandedBytes) return fmt::format("larger than {}", kMaxExpandedText);
  }
  if (in.bad()) return std::strerror(errno);
  *text = std::move(out);
  return "";
}

YAML::Node parse_yaml(const Source& source) {
  try {
    ExpansionGuard guard(source);
    try {
      std::istringstream in(source.text);
      YAML::Parser parser(in);
      parser.HandleNextDocument(guard);  // YAML::Load reads the first document only
    } catch (const YAML::Exception& e) {
      if (guard.size_error()) guard.finish();
      throw ScenarioError(located(source.path, e.mark, "", describe(e)));
    }
    guard.finish();
    try {
      return YAML::Load(source.text);
    } catch (const YAML::Exception& e) {
      throw ScenarioError(located(source.path, e.mark, "", describe(e)));
    }
  } catch (const std::bad_alloc&) {
    throw ScenarioError(fmt::format("{}: out of memory while reading the file", source.path));
  } catch (const std::length_error&) {
    throw ScenarioError(fmt::format("{}: out of memory while reading the file", source.path));
  }
}

YamlReader::YamlReader(const Source& source, Variables* variables)
    : source_(source), variables_(variables) {}

void YamlReader::fail(const YAML::Node& node, const std::string& field,
                      const std::string& what) const {
  YAML::Mark mark = YAML::Mark::null_mark();
  if (node.IsDefined()) mark = node.Mark();
  throw ScenarioError(located(source_.path, mark, field, what));
}

void YamlReader::check_keys(const YAML::Node& map, const std::string& field,
                            std::initializer_list<const char*> allowed) const {
  if (!map.IsMap()) fail(map, field, "expected a mapping (key: value lines)");
  for (const auto& kv : map) {
    std::string key = kv.first.as<std::string>();
    bool ok = false;
    for (const char* a : allowed) ok = ok || key == a;
    if (!ok) {
      std::string list;
      for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      fail(kv.first, field.empty() ? key : field + "." + key,
           fmt::format("unknown key (expected one of: {})", list));
    }
  }
}

void YamlReader::charge(size_t bytes, const YAML::Node& node, const std::string& field) {
  charged_ += bytes;
  if (charged_ > kMaxExpandedBytes)
    fail(node, field,
         fmt::format("the values read come to more than {} (variables expanded, a stream's "
                     "headers repeated for each of its requests)",
                     kMaxExpandedText));
}

std::string YamlReader::str(const YAML::Node& node, const std::string& field) {
  if (!node.IsScalar()) fail(node, field, "expected a single value");
  if (!variables_) {
    charge(node.Scalar().size(), node, field);
    return node.Scalar();
  }
  std::string text;
  try {
    text = variables_->interpolate(node.Scalar());
  } catch (const VariableError& e) {
    fail(node, field, e.what());
  }
  charge(text.size(), node, field);
  return text;
}

double YamlReader::number(const YAML::Node& node, const std::string& field, double min,
                          double max) {
  std::string s = str(node, field);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v))
    fail(node, field, fmt::format("expected a number, got '{}'", s));
  if (v < min || v > max)
    fail(node, field, fmt::format("{} is out of range [{:g}, {:g}]", s, min, max));
  return v;
}

bool YamlReader::boolean(const YAML::Node& node, const std::string& field) {
  std::string s = str(node, field);
  std::string l = core::to_lower_ascii(s);
  if (l == "true" || l == "yes" || l == "on" || l == "1") return true;
  if (l == "false" || l == "no" || l == "off" || l == "0" || l.empty()) return false;
  fail(node, field, fmt::format("expected true or false, got '{}'", s));
}

std::chrono::nanoseconds YamlReader::duration(const YAML::Node& node, const std::string& field) {
  std::string s = str(node, field);
  auto d = core::parse_duration(s);
  if (!d || d->count() <= 0)
    fail(node, field,
         fmt::format("expected a positive duration such as 500ms, 30s or 5m, got '{}'", s));
  if (auto why = core::duration_limit_error(*d); !why.empty())
    fail(node, field, fmt::format("'{}' {}", s, why));
  return *d;
}

std::chrono::nanoseconds YamlReader::duration_or_zero(const YAML::Node& node,
                                                      const std::string& field) {
  std::string s = str(node, field);
  if (s == "0") return std::chrono::nanoseconds(0);
  auto d = core::parse_duration(s);
  if (!d) fail(node, field, fmt::format("expected a duration such as 0s, 30s or 5m, got '{}'", s));
  if (auto why = core::duration_limit_error(*d, true); !why.empty())
    fail(node, field, fmt::format("'{}' {}", s, why));
  return *d;
}

double YamlReader::rate(const YAML::Node& node, const std::string& field, bool allow_zero) {
  std::string s = str(node, field);
  auto r = core::parse_rate_rps(s);
  if (!r || !std::isfinite(*r) || *r < 0 || (!allow_zero && *r == 0))
    fail(node, field,
         fmt::format("expected a rate such as 10, 2.5k, 10/s or 600rpm{}, got '{}'",
                     allow_zero ? " (0 allowed)" : "", s));
  if (auto why = core::rate_limit_error(*r, allow_zero); !why.empty())
    fail(node, field, fmt::format("'{}' {}", s, why));
  return *r;
}

}  // namespace trafficsim::scenarios
