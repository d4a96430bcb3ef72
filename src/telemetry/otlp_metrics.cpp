// A Prometheus registry's families as OTLP metrics: the registry's own exposition read back
// (HELP, TYPE and samples), so collectors run exactly as for a scrape of /metrics.
#include <boost/json/object.hpp>

#include <cmath>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "telemetry/exposition_parser.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/otlp.hpp"

namespace trafficsim::telemetry {

namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

boost::json::object attributes_of(const Labels& labels, std::string_view skip = {}) {
  boost::json::object out;
  for (const auto& [k, v] : labels) {
    if (!skip.empty() && k == skip) continue;
    out[k] = v;
  }
  return out;
}

Labels without(const Labels& labels, std::string_view skip) {
  Labels out;
  for (const auto& l : labels) {
    if (l.first != skip) out.push_back(l);
  }
  return out;
}

struct FamilyText {
  std::string name;
  std::string help;
  std::string type;  // counter, gauge, histogram, untyped
  std::vector<ExpositionSample> samples;
};

// Splits an exposition into families by its # HELP / # TYPE lines.
std::vector<FamilyText> families_of(std::string_view text) {
  std::vector<FamilyText> out;
  auto family = [&](std::string_view name) -> FamilyText& {
    if (out.empty() || out.back().name != name) out.push_back(FamilyText{std::string(name), {}, "untyped", {}});
    return out.back();
  };
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty()) continue;
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      const std::string_view rest = line.substr(7);
      const size_t sp = rest.find(' ');
      const std::string_view name = rest.substr(0, sp);
      const std::string_view value = sp == std::string_view::npos ? "" : rest.substr(sp + 1);
      auto& f = family(name);
      if (line[2] == 'H') {
        f.help = std::string(value);
      } else {
        f.type = std::string(value);
      }
      continue;
    }
    if (line.front() == '#') continue;
    auto parsed = parse_exposition(line);
    if (parsed.samples.empty()) continue;
    if (out.empty()) family(parsed.samples.front().name);
    out.back().samples.push_back(std::move(parsed.samples.front()));
  }
  return out;
}

}  // namespace

std::vector<MetricData> metrics_from_registry(const Registry& registry, uint64_t start_unix_nano,
                                              uint64_t now_unix_nano) {
  const std::string text = registry.expose();
  std::vector<MetricData> out;
  for (auto& f : families_of(text)) {
    MetricData m;
    m.description = f.help;
    m.start_unix_nano = start_unix_nano;
    m.time_unix_nano = now_unix_nano;
    if (f.type == "counter") {
      m.kind = MetricKind::sum;
      m.monotonic = true;
      m.name = f.name.ends_with("_total") ? f.name.substr(0, f.name.size() - 6) : f.name;
      for (const auto& s : f.samples) m.numbers.push_back({attributes_of(s.labels), s.value});
    } else if (f.type == "histogram") {
      m.kind = MetricKind::histogram;
      m.name = f.name;
      // Group the _bucket / _sum / _count samples by their labels (le aside).
      std::map<Labels, HistogramPoint> points;
      std::vector<Labels> order;
      auto point = [&](const Labels& labels) -> HistogramPoint& {
        auto [it, inserted] = points.try_emplace(labels);
        if (inserted) {
          order.push_back(labels);
          it->second.attributes = attributes_of(labels);
        }
        return it->second;
      };
      std::map<Labels, std::vector<std::pair<double, double>>> cumulative;  // (le, count)
      for (const auto& s : f.samples) {
        const std::string_view suffix = std::string_view(s.name).substr(f.name.size());
        if (suffix == "_bucket") {
          const std::string* le = s.label("le");
          if (le == nullptr) continue;
          const Labels labels = without(s.labels, "le");
          point(labels);
          const double bound = *le == "+Inf" ? INFINITY : std::strtod(le->c_str(), nullptr);
          cumulative[labels].emplace_back(bound, s.value);
        } else if (suffix == "_sum") {
          point(s.labels).sum = s.value;
        } else if (suffix == "_count") {
          point(s.labels).count = static_cast<uint64_t>(s.value);
        }
      }
      for (const auto& labels : order) {
        auto& p = points[labels];
        double previous = 0;
        for (const auto& [bound, count] : cumulative[labels]) {
          if (std::isfinite(bound)) p.bounds.push_back(bound);
          p.bucket_counts.push_back(static_cast<uint64_t>(std::max(0.0, count - previous)));
          previous = count;
        }
        m.histograms.push_back(std::move(p));
      }
    } else {
      m.kind = MetricKind::gauge;
      m.name = f.name;
      for (const auto& s : f.samples) m.numbers.push_back({attributes_of(s.labels), s.value});
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace trafficsim::telemetry
