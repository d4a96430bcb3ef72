#pragma once
// Worker internals (namespace detail; included by the worker's .cpp files only, the engine sees
// load/worker.hpp): the bytes of a request. A static template is rendered once at set-up; a
// dynamic one is prepared once (what depends only on header names and the method is decided
// then) and rendered per request into a buffer whose capacity is reused, so rendering does not
// allocate once buffers have grown.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/text_template.hpp"
#include "load/plan.hpp"

namespace trafficsim::load::detail {

struct RenderedRequest {
  std::string bytes;  // the whole request, pre-rendered (static templates)
  bool head = false;  // a HEAD request: its response has no body
  size_t line_len = 0;  // static: length of the request line in `bytes` (without CRLF)
  // Dynamic templates (dyn set): rendered per request from dyn; what render_request decides
  // from the static strings is decided here once, from the header names and the method.
  const RequestTemplate* tmpl = nullptr;
  const DynamicRequest* dyn = nullptr;
  std::vector<char> skip_header;  // parallel to dyn->headers: Host/Content-Length are ours
  bool has_ua = false, has_ct = false;
  bool length_always = false;  // POST/PUT/PATCH send Content-Length even for an empty body
  size_t max_size = 0;         // bound of a rendering (for reserving buffers)
};

// The request of a template without placeholders, rendered whole.
RenderedRequest prepare_static(const RequestTemplate& t, const std::string& host_header);
// A template with placeholders (t.dynamic set), prepared for render_dynamic.
RenderedRequest prepare_dynamic(const RequestTemplate& t, const std::string& host_header);

// Renders the dynamic request `r` for ctx.k into `out` (cleared first), as prepare_static would
// render the same strings: the request line, Host, the headers, User-Agent/Content-Type
// defaults, Content-Length of the rendered body, the body. `body_scratch` is the caller's
// buffer for the body (its length is sent before it). Deterministic in (seed, stream, k).
void render_dynamic(const RenderedRequest& r, const core::RenderContext& ctx,
                    const std::string& host_header, std::string& body_scratch, std::string& out);

// The request line of a rendered request (without CRLF).
inline std::string_view request_line_of(std::string_view request) {
  return request.substr(0, request.find("\r\n"));
}

}  // namespace trafficsim::load::detail
