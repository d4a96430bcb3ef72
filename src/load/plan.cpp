#include "load/plan.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

#include <fmt/format.h>

namespace trafficsim::load {

bool RequestTemplate::expects(int status) const {
  if (expected_statuses.empty()) return status > 0 && status < 400;
  return std::find(expected_statuses.begin(), expected_statuses.end(), status) !=
         expected_statuses.end();
}

std::optional<Segment> parse_segment(std::string_view text, std::string* error) {
  auto slash = text.find('/');
  auto fail = [&](const std::string& why) -> std::optional<Segment> {
    if (error) *error = why;
    return std::nullopt;
  };
  if (slash == std::string_view::npos)
    return fail("expected i/n, e.g. 0/4 for the first of four segments");
  auto parse = [](std::string_view s, uint32_t* out) {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    return ec == std::errc() && p == s.data() + s.size();
  };
  uint32_t i = 0, n = 0;
  if (!parse(text.substr(0, slash), &i) || !parse(text.substr(slash + 1), &n))
    return fail("expected two whole numbers i/n, e.g. 0/4");
  if (n == 0) return fail("the segment count must be at least 1");
  if (i >= n) return fail(fmt::format("index {} must be below the count {} (0 <= i < n)", i, n));
  return Segment{i, n};
}

void Plan::apply_hard_caps() {
  for (auto& s : streams) {
    if (!s.hard_cap) continue;
    double cap = s.hard_cap->refill_per_s;
    if (model == LoadModel::open && s.profile.peak_rate() > cap + 1e-9) {
      notes.push_back(fmt::format(
          "stream '{}': rate {:.6g} rps clamped to the hard cap of {:.6g} rps (burst {:.6g})",
          s.name, s.profile.peak_rate(), cap, s.hard_cap->capacity));
      s.profile = s.profile.clamped(cap);
    }
  }
}

std::string Plan::hash() const {
  // A canonical text of what the plan sends, then SHA-256 (first 16 hex digits).
  std::string text;
  auto add = [&text](std::string_view s) {
    text += std::to_string(s.size());
    text += ':';
    text += s;
    text += ';';
  };
  add(model == LoadModel::open ? "open" : "closed");
  add(std::to_string(duration.count()));
  add(std::to_string(seed));
  if (!content_digest.empty()) add("\x01content" + content_digest);
  for (const auto& s : streams) {
    add(s.name);
    add(s.url.origin());
    add(s.process == core::ArrivalProcess::uniform ? "uniform" : "poisson");
    if (model == LoadModel::open) {
      for (const auto& k : s.profile.knots())
        add(fmt::format("{:.17g},{:.17g}", k.t_s, k.rate_rps));
    } else {
      add(std::to_string(s.connections));
    }
    add(std::to_string(s.timeout.count()));
    if (s.hard_cap)
      add(fmt::format("cap{:.17g},{:.17g}", s.hard_cap->capacity, s.hard_cap->refill_per_s));
    for (const auto& r : s.requests) {
      add(r.name);
      add(r.method);
      add(r.target);
      for (const auto& [k, v] : r.headers) {
        add(k);
        add(v);
      }
      add(r.body);
      add(fmt::format("{:.17g}", r.weight));
      for (int st : r.expected_statuses) add(std::to_string(st));
      // Newer fields are added only when they differ from the default, so plans that do not
      // use them keep the hash they had before the fields existed. A leading \x01 keeps these
      // markers apart from any user text.
      if (r.injected) add("\x01injected");
      for (int st : r.success_statuses) add("ok" + std::to_string(st));
      if (!s.groups.empty()) add(fmt::format("\x01group{}", r.group));
      if (r.dynamic) {
        // What is rendered comes from the compiled templates: their sources, not the strings.
        add("\x01dynamic");
        add(r.dynamic->target.source());
        for (const auto& [k, v] : r.dynamic->headers) {
          add(k);
          add(v.source());
        }
        add(r.dynamic->body.source());
      }
    }
    for (const auto& g : s.groups)
      add(fmt::format("\x01mix{:.17g},{}", g.weight, g.rotate ? "rotate" : "weighted"));
    if (s.gap_jitter_s)
      add(fmt::format("\x01jitter{:.17g},{:.17g}", s.gap_jitter_s->first, s.gap_jitter_s->second));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < 8 && i < len; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

}  // namespace trafficsim::load
