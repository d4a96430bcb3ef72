#include "load/stats.hpp"

#include <algorithm>

namespace trafficsim::load {

uint64_t EndpointStats::responses() const {
  uint64_t n = 0;
  for (uint64_t c : responses_by_status) n += c;
  return n;
}

void EndpointStats::merge(const EndpointStats& o) {
  requests += o.requests;
  for (size_t i = 0; i < responses_by_status.size(); ++i)
    responses_by_status[i] += o.responses_by_status[i];
  errors_connect += o.errors_connect;
  errors_timeout += o.errors_timeout;
  errors_closed_mid_response += o.errors_closed_mid_response;
  errors_other += o.errors_other;
  errors_status += o.errors_status;
  expected_failures += o.expected_failures;
  dropped += o.dropped;
  bytes_in += o.bytes_in;
  bytes_out += o.bytes_out;
  if (o.corrected.count()) corrected.merge(o.corrected);
  if (o.service.count()) service.merge(o.service);
  if (o.send_lateness.count()) send_lateness.merge(o.send_lateness);
  if (counters.size() < o.counters.size()) counters.resize(o.counters.size(), 0);
  for (size_t i = 0; i < o.counters.size(); ++i) counters[i] += o.counters[i];
}

void EndpointStats::reset() {
  requests = 0;
  responses_by_status.fill(0);
  errors_connect = errors_timeout = errors_closed_mid_response = errors_other = errors_status = 0;
  expected_failures = 0;
  dropped = bytes_in = bytes_out = 0;
  if (corrected.count()) corrected.reset();
  if (service.count()) service.reset();
  if (send_lateness.count()) send_lateness.reset();
  std::fill(counters.begin(), counters.end(), 0);
}

EndpointStats StreamStats::total() const {
  EndpointStats t;
  for (const auto& e : endpoints) t.merge(e);
  return t;
}

void StreamStats::merge(const StreamStats& o) {
  if (endpoints.size() < o.endpoints.size()) endpoints.resize(o.endpoints.size());
  for (size_t i = 0; i < o.endpoints.size(); ++i) endpoints[i].merge(o.endpoints[i]);
}

void StreamStats::reset() {
  for (auto& e : endpoints) e.reset();
}

EndpointStats RunStats::total() const {
  EndpointStats t;
  for (const auto& s : streams)
    for (const auto& e : s.endpoints) t.merge(e);
  return t;
}

void RunStats::merge(const RunStats& o) {
  if (streams.size() < o.streams.size()) streams.resize(o.streams.size());
  for (size_t i = 0; i < o.streams.size(); ++i) streams[i].merge(o.streams[i]);
}

void RunStats::reset() {
  for (auto& s : streams) s.reset();
}

}  // namespace trafficsim::load
