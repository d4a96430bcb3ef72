#include "scenarios/request_spec.hpp"

#include <strings.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "core/status_list.hpp"

namespace trafficsim::scenarios {

namespace {

bool valid_header_name(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name)
    if (c <= ' ' || c >= 127 || std::strchr("()<>@,;:\\\"/[]?={}", c)) return false;
  return true;
}

// Reading the requests of one stream: the reader, the sample sets templates draw from.
class RequestReader {
 public:
  RequestReader(YamlReader& reader, const SampleSets& samples)
      : r_(reader), samples_(samples) {}

  core::TextTemplate compile(const YAML::Node& node, const std::string& field) {
    std::string text = r_.str(node, field);
    try {
      auto t = core::TextTemplate::compile(text, samples_);
      r_.charge(t.precomputed_bytes(), node, field);
      return t;
    } catch (const core::TemplateError& e) {
      r_.fail(node, field, e.what());
    }
  }

  load::RequestTemplate request(const YAML::Node& node, const std::string& field,
                                const RequestDefaults& d, uint32_t group, std::string* endpoint) {
    r_.check_keys(node, field,
                  {"name", "method", "path", "headers", "body", "weight", "expect",
                   "expect_failure", "endpoint"});
    load::RequestTemplate t;
    t.group = group;
    t.method = node["method"] ? r_.str(node["method"], field + ".method") : "GET";
    for (char& c : t.method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (t.method.empty() ||
        t.method.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos)
      r_.fail(node["method"], field + ".method", fmt::format("'{}' is not a method", t.method));
    if (!node["path"]) r_.fail(node, field, "needs 'path' (e.g. /api/v1/users)");
    auto path = compile(node["path"], field + ".path");
    if (path.source().empty() || path.source()[0] != '/')
      r_.fail(node["path"], field + ".path", "must start with '/'");
    // Headers: the stream's, then the request's (same name replaces), then X-Traffic-Type.
    std::vector<std::pair<std::string, YAML::Node>> headers = d.headers;
    if (node["headers"]) {
      if (!node["headers"].IsMap())
        r_.fail(node["headers"], field + ".headers", "expected a mapping of name: value");
      for (const auto& kv : node["headers"]) {
        std::string name = kv.first.as<std::string>();
        auto it = std::find_if(headers.begin(), headers.end(), [&](const auto& h) {
          return strcasecmp(h.first.c_str(), name.c_str()) == 0;
        });
        if (it != headers.end())
          it->second = kv.second;
        else
          headers.emplace_back(name, kv.second);
      }
    }
    auto dyn = std::make_shared<load::DynamicRequest>();
    bool is_dynamic = !path.is_static();
    t.target = path.source();
    dyn->target = std::move(path);
    bool has_tag = false;
    for (const auto& [name, value] : headers) {
      std::string f = field + ".headers." + name;
      if (!valid_header_name(name)) r_.fail(value, f, "is not a valid header name");
      auto v = compile(value, f);
      if (v.source().find_first_of("\r\n") != std::string::npos)
        r_.fail(value, f, "header values cannot contain line breaks");
      if (strcasecmp(name.c_str(), "x-traffic-type") == 0) has_tag = true;
      is_dynamic = is_dynamic || !v.is_static();
      t.headers.emplace_back(name, v.source());
      dyn->headers.emplace_back(name, std::move(v));
    }
    if (!has_tag && !d.tag.empty()) {
      t.headers.emplace_back("X-Traffic-Type", d.tag);
      dyn->headers.emplace_back("X-Traffic-Type", core::TextTemplate::compile(d.tag));
    }
    if (node["body"]) {
      auto b = compile(node["body"], field + ".body");
      is_dynamic = is_dynamic || !b.is_static();
      t.body = b.source();
      dyn->body = std::move(b);
    }
    if (is_dynamic) {
      t.dynamic = std::move(dyn);
    } else {
      // Static: the source text is what is sent ({{"..."}} literals folded in).
      t.target = dyn->target.static_text();
      for (size_t i = 0; i < t.headers.size(); ++i)
        t.headers[i].second = dyn->headers[i].second.static_text();
      t.body = dyn->body.static_text();
    }
    t.weight = node["weight"] ? r_.number(node["weight"], field + ".weight", 0, 1e9) : 1.0;
    // expect_failure: statuses this request is meant to draw (error injection): they count as
    // expected failures; its successes are then only the statuses in `expect` (default none).
    if (node["expect_failure"]) {
      t.injected = true;
      t.expected_statuses = read_statuses(r_, node["expect_failure"], field + ".expect_failure");
      if (node["expect"]) t.success_statuses = read_statuses(r_, node["expect"], field + ".expect");
      for (int st : t.success_statuses)
        if (std::find(t.expected_statuses.begin(), t.expected_statuses.end(), st) !=
            t.expected_statuses.end())
          r_.fail(node["expect"], field + ".expect",
                  fmt::format("status {} is also in expect_failure", st));
    } else if (node["expect"]) {
      t.expected_statuses = read_statuses(r_, node["expect"], field + ".expect");
    } else if (d.expect) {
      t.expected_statuses = *d.expect;
    }
    t.name = node["name"] ? r_.str(node["name"], field + ".name") : t.method + " " + t.target;
    if (t.name.empty()) r_.fail(node["name"], field + ".name", "must not be empty");
    if (node["endpoint"]) *endpoint = r_.str(node["endpoint"], field + ".endpoint");
    return t;
  }

  // Requests: plain requests, or groups {group, weight, rotate, requests}.
  void requests(const YAML::Node& node, const std::string& f, const RequestDefaults& d,
                StreamSpec& s) {
    if (!node["requests"] || !node["requests"].IsSequence() || node["requests"].size() == 0)
      r_.fail(node, f, "needs 'requests': a non-empty list");
    std::set<std::string> filter;
    bool filter_all = true;
    if (node["endpoints"]) {
      std::string e = r_.str(node["endpoints"], f + ".endpoints");
      if (e != "all" && !e.empty()) {
        filter_all = false;
        std::stringstream ss(e);
        std::string item;
        while (std::getline(ss, item, ',')) {
          item.erase(0, item.find_first_not_of(" "));
          item.erase(item.find_last_not_of(" ") + 1);
          if (!item.empty()) filter.insert(item);
        }
      }
    }
    bool rotate_all = node["rotate"] ? r_.boolean(node["rotate"], f + ".rotate") : false;
    std::set<std::string> known_endpoints;
    bool any_group = false;
    for (const auto& item : node["requests"])
      any_group = any_group || (item.IsMap() && item["group"]);
    auto add_request = [&](const YAML::Node& rn, const std::string& rf, uint32_t group) {
      std::string endpoint;
      auto t = request(rn, rf, d, group, &endpoint);
      if (!endpoint.empty()) known_endpoints.insert(endpoint);
      if (!filter_all && !endpoint.empty() && !filter.count(endpoint)) return;
      s.requests.push_back(std::move(t));
    };
    const auto& reqs = node["requests"];
    for (size_t i = 0; i < reqs.size(); ++i) {
      const auto& item = reqs[i];
      std::string rf = fmt::format("{}.requests[{}]", f, i);
      if (item.IsMap() && item["group"]) {
        r_.check_keys(item, rf, {"group", "weight", "rotate", "requests"});
        load::MixGroup g;
        g.weight = item["weight"] ? r_.number(item["weight"], rf + ".weight", 0, 1e9) : 1.0;
        g.rotate = item["rotate"] ? r_.boolean(item["rotate"], rf + ".rotate") : false;
        uint32_t gi = static_cast<uint32_t>(s.groups.size());
        s.groups.push_back(g);
        const auto& members = item["requests"];
        if (!members || !members.IsSequence() || members.size() == 0)
          r_.fail(item, rf, "a group needs 'requests': a non-empty list");
        for (size_t j = 0; j < members.size(); ++j)
          add_request(members[j], fmt::format("{}.requests[{}]", rf, j), gi);
      } else if (any_group) {
        // A request beside groups is a group of its own, weighted by its weight.
        uint32_t gi = static_cast<uint32_t>(s.groups.size());
        size_t before = s.requests.size();
        add_request(item, rf, gi);
        double w = s.requests.size() > before ? s.requests.back().weight : 0;
        s.groups.push_back(load::MixGroup{w, false});
      } else {
        add_request(item, rf, 0);
      }
    }
    for (const auto& e : filter)
      if (!known_endpoints.count(e))
        r_.fail(node["endpoints"], f + ".endpoints",
                fmt::format("unknown endpoint '{}' (known: all, {})", e,
                            fmt::join(known_endpoints, ", ")));
    if (s.requests.empty()) r_.fail(node, f, "no requests left after the endpoints filter");
    if (!any_group && rotate_all) s.groups.push_back(load::MixGroup{1.0, true});
    drop_empty_groups(node, f, s);
  }

 private:
  // Drops groups emptied by the endpoints filter (renumbering the members); some weight must
  // be left.
  void drop_empty_groups(const YAML::Node& node, const std::string& f, StreamSpec& s) {
    if (s.groups.empty()) {
      double total = 0;
      for (const auto& t : s.requests) total += t.weight;
      if (total <= 0) r_.fail(node, f, "every request weight is 0");
      return;
    }
    std::vector<int> remap(s.groups.size(), -1);
    std::vector<load::MixGroup> kept;
    for (uint32_t gi = 0; gi < s.groups.size(); ++gi) {
      bool used = std::any_of(s.requests.begin(), s.requests.end(),
                              [&](const auto& t) { return t.group == gi; });
      if (used) {
        remap[gi] = static_cast<int>(kept.size());
        kept.push_back(s.groups[gi]);
      }
    }
    for (auto& t : s.requests) t.group = static_cast<uint32_t>(remap[t.group]);
    s.groups = std::move(kept);
    double total = 0;
    for (const auto& g : s.groups) total += g.weight;
    if (total <= 0) r_.fail(node, f, "every group weight is 0");
  }

  YamlReader& r_;
  const SampleSets& samples_;
};

}  // namespace

std::vector<int> read_statuses(YamlReader& r, const YAML::Node& node, const std::string& field) {
  // The grammar is core's (core/status_list.hpp), shared with `bench --expect`.
  std::vector<std::string> items;
  if (node.IsSequence()) {
    for (const auto& n : node) items.push_back(r.str(n, field));
  } else {
    std::string s = r.str(node, field);
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) items.push_back(item);
  }
  std::vector<int> out;
  for (const auto& item : items) {
    auto range = core::parse_status_item(item);
    if (!range) {
      std::string shown = item;
      shown.erase(0, shown.find_first_not_of(" \t"));
      shown.erase(shown.find_last_not_of(" \t") + 1);
      r.fail(node, field,
             fmt::format("'{}' is not a status, a range or a class (e.g. 200, 200-499, 2xx)",
                         shown));
    }
    core::add_statuses(out, *range);
  }
  if (out.empty()) r.fail(node, field, "expected at least one status");
  return out;
}

RequestDefaults read_request_defaults(YamlReader& r, const YAML::Node& node, const std::string& f,
                                      const std::string& stream_name) {
  RequestDefaults d;
  d.tag = node["tag"] ? r.str(node["tag"], f + ".tag") : stream_name;
  if (node["headers"]) {
    if (!node["headers"].IsMap())
      r.fail(node["headers"], f + ".headers", "expected a mapping of name: value");
    for (const auto& kv : node["headers"])
      d.headers.emplace_back(kv.first.as<std::string>(), kv.second);
  }
  if (node["expect"]) d.expect = read_statuses(r, node["expect"], f + ".expect");
  return d;
}

void read_requests(YamlReader& reader, const SampleSets& samples, const YAML::Node& stream,
                   const std::string& field, const RequestDefaults& defaults, StreamSpec& out) {
  RequestReader(reader, samples).requests(stream, field, defaults, out);
}

}  // namespace trafficsim::scenarios
