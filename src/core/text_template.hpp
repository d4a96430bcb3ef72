#pragma once
// Text templates for request targets, header values and bodies: literal text with placeholders
// such as {{uuid}}, {{int 1 100}} or {{sample emails.body | json}}, compiled once when a plan is
// built and rendered per request by the workers. Rendering is deterministic in
// (seed, stream key, arrival k), so a segment of a plan sends exactly the bytes the whole plan
// would, and it appends to a caller-owned buffer: in steady state (buffer capacity reached) a
// render allocates nothing.
//
// Placeholders ({{ ... }}, spaces inside the braces optional):
//   {{uuid}}                 RFC 4122 version-4 UUID, lower case
//   {{int A B}}              uniform integer in [A, B] (A <= B, 64-bit signed)
//   {{seq}}                  the arrival index k (unique within a stream)
//   {{choice a b c}}         one of the words, uniformly; words may be "double quoted"
//   {{sample SET}}           a record of sample set SET (its only field), drawn uniformly
//   {{sample SET.FIELD}}     FIELD of the drawn record. Every {{sample SET...}} of one arrival,
//                            in any template (target, headers, body), uses the same record.
//   {{bloat SET.FIELD N}}    FIELD of consecutive records from the drawn one (wrapping), joined
//                            by a blank line, until at least N characters (precomputed)
//   {{first_name}} {{last_name}} {{name}}   a person (built-in lists); all person placeholders
//   {{email}}                of one arrival describe the same person; the email is
//                            first.last.K@example.com in lower case (unique per arrival)
//   {{"text"}}               the literal text (how to write "{{" itself)
// Filters: {{... | json}} escapes the output for a JSON string (no quotes added);
//          {{... | url}} percent-encodes it for a URL query value.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace trafficsim::core {

// A named list of records; a plain list of strings is a set with one field named "".
struct SampleSet {
  std::string name;
  std::vector<std::string> fields;
  std::vector<std::vector<std::string>> records;  // records[i][field index]
  int field_index(std::string_view field) const;  // -1 when absent
};

// A template that does not compile. offset is the byte offset in the source text of the
// placeholder at fault; the message names the placeholder and says what is wrong.
class TemplateError : public std::runtime_error {
 public:
  TemplateError(const std::string& message, size_t offset)
      : std::runtime_error(message), offset_(offset) {}
  size_t offset() const { return offset_; }

 private:
  size_t offset_;
};

// Identity of the arrival being rendered.
struct RenderContext {
  uint64_t seed = 0;        // the plan's seed
  uint64_t stream_key = 0;  // core::stream_key(stream name)
  uint64_t k = 0;           // arrival index
};

class TextTemplate {
 public:
  TextTemplate();  // the empty static template
  ~TextTemplate();
  TextTemplate(const TextTemplate&);
  TextTemplate& operator=(const TextTemplate&);
  TextTemplate(TextTemplate&&) noexcept;
  TextTemplate& operator=(TextTemplate&&) noexcept;

  // Compiles `text`. Sample sets are looked up by name in `samples` (kept alive by the
  // template). Throws TemplateError for an unknown function, set, field, bad arguments, an
  // unclosed "{{", an empty sample set or an unknown filter.
  static TextTemplate compile(std::string_view text,
                              const std::vector<std::shared_ptr<const SampleSet>>& samples = {});

  bool is_static() const;                     // no placeholders
  const std::string& static_text() const;     // the text, when is_static()
  const std::string& source() const;          // the text as compiled
  size_t max_size() const;                    // an upper bound of a rendering's size
  // Bytes compiling computed beyond the source text: {{bloat}} buffers and the filtered text of
  // every sample record (sample sets themselves are shared, not counted). Up to about
  // 10 MB (the largest N) + 64 MiB per placeholder, so a loader bounding what it holds counts
  // these.
  size_t precomputed_bytes() const;

  // Appends the rendering for arrival ctx to `out`.
  void render(std::string& out, const RenderContext& ctx) const;
  std::string render(const RenderContext& ctx) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;  // immutable once compiled: shared by copies and threads
};

}  // namespace trafficsim::core
