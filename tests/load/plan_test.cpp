// Plan arithmetic: segment parsing, how workers and segments share a stream, plan hashes.
#include "load/plan.hpp"

#include <gtest/gtest.h>

#include <set>

#include "load/worker.hpp"

namespace trafficsim::load {
namespace {

Plan sample_plan() {
  Plan p;
  Stream s;
  s.name = "s";
  std::string err;
  s.url = *http::parse_url("http://127.0.0.1:1/", &err);
  s.profile = core::RateProfile::constant(100, 10);
  s.requests.push_back(RequestTemplate{});
  p.streams.push_back(s);
  return p;
}

TEST(Segment, ParsesValidAndRejectsInvalid) {
  std::string err;
  auto s = parse_segment("2/5", &err);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->index, 2u);
  EXPECT_EQ(s->count, 5u);
  for (const char* bad : {"3/3", "a/b", "1", "/2", "1/", "-1/2", "1/0", "1/2/3", ""}) {
    err.clear();
    EXPECT_FALSE(parse_segment(bad, &err)) << bad;
    EXPECT_FALSE(err.empty()) << bad;
  }
  parse_segment("3/3", &err);
  EXPECT_NE(err.find("below"), std::string::npos);
}

// Every arrival index is owned by exactly one (segment, worker) pair.
TEST(PlanShares, SegmentsAndWorkersPartitionArrivalIndices) {
  for (uint32_t n : {1u, 2u, 3u, 5u}) {
    for (int threads : {1, 2, 3, 4}) {
      std::set<uint64_t> owned;
      size_t total = 0;
      for (uint32_t i = 0; i < n; ++i) {
        Plan p = sample_plan();
        p.segment = {i, n};
        auto shares = plan_shares(p, threads);
        for (const auto& w : shares) {
          if (!w[0].serves) continue;
          for (uint64_t k = w[0].first_k; k < 600; k += w[0].stride) {
            owned.insert(k);
            ++total;
          }
        }
      }
      EXPECT_EQ(owned.size(), 600u) << n << " segments, " << threads << " threads";
      EXPECT_EQ(total, 600u) << "overlap with " << n << " segments, " << threads << " threads";
    }
  }
}

TEST(PlanShares, ConnectionsAndBacklogAddUpToTheStreamsCaps) {
  Plan p = sample_plan();
  p.streams[0].connections = 7;
  p.streams[0].backlog = 11;
  auto shares = plan_shares(p, 3);
  int conns = 0;
  size_t backlog = 0;
  for (const auto& w : shares) {
    conns += w[0].connections;
    backlog += w[0].backlog;
  }
  EXPECT_EQ(conns, 7);
  EXPECT_EQ(backlog, 11u);
}

TEST(PlanShares, FewerConnectionsThanThreadsUsesFewerWorkers) {
  Plan p = sample_plan();
  p.streams[0].connections = 1;
  auto shares = plan_shares(p, 4);
  int serving = 0;
  for (const auto& w : shares) serving += w[0].serves ? 1 : 0;
  EXPECT_EQ(serving, 1);
}

TEST(PlanShares, HardCappedStreamIsServedByOneWorkerWithTheSegmentsShare) {
  Plan p = sample_plan();
  p.streams[0].hard_cap = HardCap{20, 20};
  p.segment = {1, 4};
  auto shares = plan_shares(p, 4);
  int serving = 0;
  for (const auto& w : shares) {
    if (!w[0].serves) continue;
    ++serving;
    EXPECT_DOUBLE_EQ(w[0].bucket_capacity, 5.0);
    EXPECT_DOUBLE_EQ(w[0].bucket_refill_per_s, 5.0);
    EXPECT_EQ(w[0].first_k, 1u);
    EXPECT_EQ(w[0].stride, 4u);
  }
  EXPECT_EQ(serving, 1);
}

TEST(PlanHash, IndependentOfSegmentAndThreadsButNotOfWhatIsSent) {
  Plan a = sample_plan();
  Plan b = sample_plan();
  b.segment = {1, 3};
  b.threads = 8;
  EXPECT_EQ(a.hash(), b.hash());
  Plan c = sample_plan();
  c.seed = 2;
  EXPECT_NE(a.hash(), c.hash());
  Plan d = sample_plan();
  d.streams[0].profile = core::RateProfile::constant(101, 10);
  EXPECT_NE(a.hash(), d.hash());
  Plan e = sample_plan();
  e.streams[0].requests[0].target = "/other";
  EXPECT_NE(a.hash(), e.hash());
}

TEST(PlanHash, IncludesMixGroupsJitterInjectionAndDynamicSources) {
  const std::string base = sample_plan().hash();
  Plan groups = sample_plan();
  groups.streams[0].groups = {MixGroup{1, false}};
  EXPECT_NE(groups.hash(), base);
  Plan rotate = groups;
  rotate.streams[0].groups[0].rotate = true;
  EXPECT_NE(rotate.hash(), groups.hash());
  Plan jitter = sample_plan();
  jitter.streams[0].gap_jitter_s = std::make_pair(0.1, 0.2);
  EXPECT_NE(jitter.hash(), base);
  Plan jitter2 = jitter;
  jitter2.streams[0].gap_jitter_s->second = 0.3;
  EXPECT_NE(jitter2.hash(), jitter.hash());
  Plan injected = sample_plan();
  injected.streams[0].requests[0].injected = true;
  EXPECT_NE(injected.hash(), base);
  // A dynamic template differs from a static one with the same text, and by its sources.
  Plan plain = sample_plan();
  plain.streams[0].requests[0].target = "/x/{{seq}}";
  Plan dynamic = plain;
  auto d = std::make_shared<DynamicRequest>();
  d->target = core::TextTemplate::compile("/x/{{seq}}");
  dynamic.streams[0].requests[0].dynamic = d;
  EXPECT_NE(dynamic.hash(), plain.hash());
  Plan dynamic2 = plain;
  auto d2 = std::make_shared<DynamicRequest>(*d);
  d2->body = core::TextTemplate::compile("{{uuid}}");
  dynamic2.streams[0].requests[0].dynamic = d2;
  EXPECT_NE(dynamic2.hash(), dynamic.hash());
  // Segments of such a plan still agree.
  Plan seg = dynamic;
  seg.segment = {1, 2};
  EXPECT_EQ(seg.hash(), dynamic.hash());
}

TEST(HardCap, ClampsThePlanAndSaysSo) {
  Plan p = sample_plan();
  p.streams[0].hard_cap = HardCap{20, 20};
  p.apply_hard_caps();
  EXPECT_DOUBLE_EQ(p.streams[0].profile.peak_rate(), 20.0);
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_NE(p.notes[0].find("100"), std::string::npos);
  Plan q = sample_plan();
  q.streams[0].hard_cap = HardCap{200, 200};
  q.apply_hard_caps();
  EXPECT_TRUE(q.notes.empty());
}

TEST(RequestTemplate, ExpectedStatuses) {
  RequestTemplate t;
  EXPECT_TRUE(t.expects(200));
  EXPECT_TRUE(t.expects(302));
  EXPECT_FALSE(t.expects(404));
  EXPECT_FALSE(t.expects(503));
  t.expected_statuses = {400, 200};
  EXPECT_TRUE(t.expects(400));
  EXPECT_FALSE(t.expects(201));
}

}  // namespace
}  // namespace trafficsim::load
