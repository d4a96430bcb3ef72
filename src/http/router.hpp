#pragma once
// Route templates ("/api/v1/users/{id}") to handlers. A path matches a template segment by
// segment; a literal segment beats a parameter ("/api/v1/users/error" before
// "/api/v1/users/{id}"). A path that matches some template but not with this method is
// "method not allowed" (with the allowed methods), one that matches none is "not found".
// Built once at start-up, then read-only: match() is safe from any thread.
#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trafficsim::http {

template <class Handler>
class Router {
 public:
  static constexpr size_t kMaxParams = 4;

  struct Match {
    enum class Kind { found, not_found, method_not_allowed } kind = Kind::not_found;
    const Handler* handler = nullptr;
    std::string_view route;  // the template, e.g. "/api/v1/users/{id}" (empty when not found)
    std::array<std::pair<std::string_view, std::string_view>, kMaxParams> params{};
    size_t param_count = 0;
    std::vector<std::string_view> allowed;  // for method_not_allowed

    std::string_view param(std::string_view name) const {
      for (size_t i = 0; i < param_count; ++i)
        if (params[i].first == name) return params[i].second;
      return {};
    }
  };

  void add(std::string method, std::string route, Handler handler) {
    Route r{std::move(method), std::move(route), {}, std::move(handler), 0};
    for (std::string_view seg : split(r.route)) {
      bool is_param = seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
      r.segments.push_back({std::string(is_param ? seg.substr(1, seg.size() - 2) : seg), is_param});
      if (!is_param) ++r.literal_count;
    }
    routes_.push_back(std::move(r));
  }

  Match match(std::string_view method, std::string_view path) const {
    Match best;
    int best_literals = -1;
    std::vector<std::string_view> parts = split(path);
    for (const auto& r : routes_) {
      if (r.segments.size() != parts.size()) continue;
      bool ok = true;
      for (size_t i = 0; i < parts.size() && ok; ++i)
        ok = r.segments[i].param ? !parts[i].empty() : r.segments[i].text == parts[i];
      if (!ok) continue;
      if (r.method != method) {
        if (std::find(best.allowed.begin(), best.allowed.end(), r.method) == best.allowed.end())
          best.allowed.push_back(r.method);
        if (best.kind == Match::Kind::not_found) best.kind = Match::Kind::method_not_allowed;
        continue;
      }
      if (static_cast<int>(r.literal_count) <= best_literals) continue;
      best_literals = static_cast<int>(r.literal_count);
      best.kind = Match::Kind::found;
      best.handler = &r.handler;
      best.route = r.route;
      best.param_count = 0;
      for (size_t i = 0; i < parts.size(); ++i)
        if (r.segments[i].param && best.param_count < kMaxParams)
          best.params[best.param_count++] = {r.segments[i].text, parts[i]};
    }
    return best;
  }

 private:
  struct Segment {
    std::string text;
    bool param;
  };
  struct Route {
    std::string method;
    std::string route;
    std::vector<Segment> segments;
    Handler handler;
    size_t literal_count;
  };

  // "/a/b/" -> {"a", "b", ""}; "/" -> {""}.
  static std::vector<std::string_view> split(std::string_view path) {
    std::vector<std::string_view> out;
    if (!path.empty() && path.front() == '/') path.remove_prefix(1);
    size_t start = 0;
    while (true) {
      size_t slash = path.find('/', start);
      out.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
    return out;
  }

  std::vector<Route> routes_;
};

}  // namespace trafficsim::http
