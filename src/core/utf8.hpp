#pragma once
// Bounding text that is UTF-8 by contract (titles, an LLM's answer) without splitting a character:
// a cut never leaves half a sequence for a JSON encoder or a browser to choke on.
#include <cstddef>
#include <string>
#include <string_view>

namespace trafficsim::core {

// The longest prefix of `text` of at most max_bytes that does not end inside a multi-byte
// sequence (it backs off over continuation bytes, 10xxxxxx). Invalid UTF-8 is cut the same way.
inline std::string utf8_prefix(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

}  // namespace trafficsim::core
