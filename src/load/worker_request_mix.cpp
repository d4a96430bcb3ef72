#include "load/worker_request_mix.hpp"

#include <algorithm>

#include "core/random.hpp"

namespace trafficsim::load::detail {

RequestMix::RequestMix(const Stream& s, uint64_t seed, uint64_t stream_key)
    : seed_(seed), stream_key_(stream_key) {
  double acc = 0;
  for (const auto& t : s.requests) {
    acc += std::max(0.0, t.weight);
    cumulative_weights_.push_back(acc);
  }
  if (s.groups.empty()) return;
  double gacc = 0;
  groups_.resize(s.groups.size());
  for (size_t g = 0; g < s.groups.size(); ++g) {
    gacc += std::max(0.0, s.groups[g].weight);
    group_cumulative_.push_back(gacc);
    groups_[g].rotate = s.groups[g].rotate;
  }
  for (size_t j = 0; j < s.requests.size(); ++j) {
    const auto& t = s.requests[j];
    if (t.group >= groups_.size()) continue;
    Group& g = groups_[t.group];
    double prev = g.cumulative.empty() ? 0.0 : g.cumulative.back();
    g.members.push_back(static_cast<uint32_t>(j));
    g.cumulative.push_back(prev + std::max(0.0, t.weight));
  }
}

uint32_t RequestMix::choose(uint64_t k) const {
  if (!groups_.empty()) return choose_grouped(k);
  if (cumulative_weights_.size() <= 1) return 0;
  core::ArrivalRandom rng(seed_, stream_key_, k, core::Lane::request);
  double x = rng.next_unit() * cumulative_weights_.back();
  auto it = std::upper_bound(cumulative_weights_.begin(), cumulative_weights_.end(), x);
  return static_cast<uint32_t>(
      std::min<size_t>(it - cumulative_weights_.begin(), cumulative_weights_.size() - 1));
}

// A group by weight with the arrival's first draw, then a member: k mod n with rotate, else by
// template weight with the second draw.
uint32_t RequestMix::choose_grouped(uint64_t k) const {
  core::ArrivalRandom rng(seed_, stream_key_, k, core::Lane::request);
  double x = rng.next_unit() * group_cumulative_.back();
  auto git = std::upper_bound(group_cumulative_.begin(), group_cumulative_.end(), x);
  size_t g = std::min<size_t>(git - group_cumulative_.begin(), groups_.size() - 1);
  const Group& gs = groups_[g];
  if (gs.rotate) return gs.members[k % gs.members.size()];
  if (gs.members.size() == 1) return gs.members[0];
  double y = rng.next_unit() * gs.cumulative.back();
  auto it = std::upper_bound(gs.cumulative.begin(), gs.cumulative.end(), y);
  return gs.members[std::min<size_t>(it - gs.cumulative.begin(), gs.members.size() - 1)];
}

StatusClassifier::StatusClassifier(const std::vector<RequestTemplate>& templates) {
  entries_.resize(templates.size());
  for (size_t j = 0; j < templates.size(); ++j) {
    const RequestTemplate& t = templates[j];
    Entry& e = entries_[j];
    for (int code = 100; code < 600; ++code) e.expected[code] = t.expects(code);
    for (int code : t.success_statuses)
      if (code >= 0 && code < 600) e.success[code] = true;
    e.injected = t.injected;
  }
}

}  // namespace trafficsim::load::detail
