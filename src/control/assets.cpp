#include "control/assets.hpp"

namespace trafficsim::control {

std::optional<std::string_view> asset(std::string_view path) {
  for (const auto& [name, text] : embedded_assets())
    if (name == path) return text;
  return std::nullopt;
}

std::string_view content_type_for(std::string_view path) {
  auto ends = [&](std::string_view ext) { return path.ends_with(ext); };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js") || ends(".mjs")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".json")) return "application/json";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  return "application/octet-stream";
}

}  // namespace trafficsim::control
