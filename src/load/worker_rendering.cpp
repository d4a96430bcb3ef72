#include "load/worker_rendering.hpp"

#include <strings.h>

#include <algorithm>
#include <charconv>

namespace trafficsim::load::detail {
namespace {

bool is_header(const std::string& name, const char* lowercase) {
  return strcasecmp(name.c_str(), lowercase) == 0;
}

std::string render_request(const RequestTemplate& t, const std::string& host_header) {
  std::string out;
  out.reserve(128 + t.target.size() + t.body.size());
  out += t.method;
  out += ' ';
  out += t.target.empty() ? "/" : t.target;
  out += " HTTP/1.1\r\nHost: ";
  out += host_header;
  out += "\r\n";
  bool has_ua = false, has_ct = false;
  for (const auto& [k, v] : t.headers) {
    if (is_header(k, "user-agent")) has_ua = true;
    if (is_header(k, "content-type")) has_ct = true;
    if (is_header(k, "host") || is_header(k, "content-length")) continue;  // we set these
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  if (!has_ua) out += "User-Agent: trafficsim\r\n";
  if (!t.body.empty() || t.method == "POST" || t.method == "PUT" || t.method == "PATCH") {
    if (!has_ct && !t.body.empty()) out += "Content-Type: application/octet-stream\r\n";
    out += "Content-Length: " + std::to_string(t.body.size()) + "\r\n";
  }
  out += "\r\n";
  out += t.body;
  return out;
}

}  // namespace

RenderedRequest prepare_static(const RequestTemplate& t, const std::string& host_header) {
  RenderedRequest r;
  r.bytes = render_request(t, host_header);
  r.head = t.method == "HEAD";
  r.line_len = r.bytes.find("\r\n");
  r.tmpl = &t;
  return r;
}

RenderedRequest prepare_dynamic(const RequestTemplate& t, const std::string& host_header) {
  RenderedRequest r;
  r.head = t.method == "HEAD";
  r.tmpl = &t;
  r.dyn = t.dynamic.get();
  r.length_always = t.method == "POST" || t.method == "PUT" || t.method == "PATCH";
  size_t bound = t.method.size() + 1 + std::max<size_t>(1, r.dyn->target.max_size()) +
                 sizeof(" HTTP/1.1\r\nHost: \r\n") + host_header.size();
  for (const auto& [k, v] : r.dyn->headers) {
    bool skip = is_header(k, "host") || is_header(k, "content-length");
    if (is_header(k, "user-agent")) r.has_ua = true;
    if (is_header(k, "content-type")) r.has_ct = true;
    r.skip_header.push_back(skip ? 1 : 0);
    if (!skip) bound += k.size() + 4 + v.max_size();
  }
  bound += 64 + 64 + 2 + r.dyn->body.max_size();  // User-Agent, Content-Type/-Length, CRLF
  r.max_size = bound;
  return r;
}

void render_dynamic(const RenderedRequest& r, const core::RenderContext& ctx,
                    const std::string& host_header, std::string& body_scratch, std::string& out) {
  const DynamicRequest& d = *r.dyn;
  out.clear();
  out += r.tmpl->method;
  out += ' ';
  const size_t mark = out.size();
  d.target.render(out, ctx);
  if (out.size() == mark) out += '/';
  out += " HTTP/1.1\r\nHost: ";
  out += host_header;
  out += "\r\n";
  for (size_t i = 0; i < d.headers.size(); ++i) {
    if (r.skip_header[i]) continue;
    out += d.headers[i].first;
    out += ": ";
    d.headers[i].second.render(out, ctx);
    out += "\r\n";
  }
  if (!r.has_ua) out += "User-Agent: trafficsim\r\n";
  body_scratch.clear();
  d.body.render(body_scratch, ctx);
  if (!body_scratch.empty() || r.length_always) {
    if (!r.has_ct && !body_scratch.empty()) out += "Content-Type: application/octet-stream\r\n";
    char digits[24];
    auto res = std::to_chars(digits, digits + sizeof digits, body_scratch.size());
    out += "Content-Length: ";
    out.append(digits, res.ptr);
    out += "\r\n";
  }
  out += "\r\n";
  out += body_scratch;
}

}  // namespace trafficsim::load::detail
