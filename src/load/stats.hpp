#pragma once
// Statistics of a run, per stream and per endpoint (request template). Each worker owns its
// own RunStats and records without locks; copies are merged at the edges (snapshots, final).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/histogram.hpp"

namespace trafficsim::load {

struct EndpointStats {
  // Every request (an arrival that got a connection) ends in exactly one of: a response (counted
  // by status), a connect error, a timeout, a close mid-response, or another transport error. So
  // requests == responses + errors_connect + errors_timeout + errors_closed_mid_response
  //             + errors_other                      (= responses + transport_errors())
  // once a run ends.
  uint64_t requests = 0;
  std::array<uint64_t, 600> responses_by_status{};  // index = status code (100..599)
  uint64_t errors_connect = 0;
  uint64_t errors_timeout = 0;
  // The peer closed the connection after part of the response (mid-head, before the declared
  // Content-Length, mid-chunk): counted when the close is read, never left to time out. A body
  // delimited by the close is a response, not this.
  uint64_t errors_closed_mid_response = 0;
  uint64_t errors_other = 0;
  uint64_t errors_status = 0;  // responses whose status the template does not expect
  // Responses of injected templates (failures on purpose) whose status the template expects:
  // counted in responses_by_status, neither an error nor a success.
  uint64_t expected_failures = 0;
  uint64_t dropped = 0;        // arrivals never sent: backlog full, or still waiting at the end
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  core::LatencyHistogram corrected;      // done - intended, microseconds
  core::LatencyHistogram service;        // done - actual send, microseconds
  core::LatencyHistogram send_lateness;  // actual send - intended, microseconds (open model)
  std::vector<int64_t> counters;         // body-extractor counters, per Stream::counter_names

  uint64_t responses() const;
  uint64_t transport_errors() const {
    return errors_connect + errors_timeout + errors_closed_mid_response + errors_other;
  }
  uint64_t errors() const { return transport_errors() + errors_status; }
  uint64_t completed() const { return responses() + transport_errors(); }
  void merge(const EndpointStats& other);
  void reset();
};

struct StreamStats {
  std::vector<EndpointStats> endpoints;  // parallel to Stream::requests
  EndpointStats total() const;
  void merge(const StreamStats& other);
  void reset();
};

struct RunStats {
  std::vector<StreamStats> streams;  // parallel to Plan::streams
  EndpointStats total() const;
  void merge(const RunStats& other);
  void reset();
};

}  // namespace trafficsim::load
