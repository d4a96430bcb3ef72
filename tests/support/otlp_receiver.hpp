#pragma once
// The OTLP/HTTP test receiver (tests/telemetry/node/otlp_receiver.mjs) as a C++ object: a Node
// child on a free loopback port that decodes every payload with the official OTLP message
// definitions (@opentelemetry/otlp-transformer 0.214's protobufjs root, from web/node_modules)
// and keeps what it decoded for the test to read. Needs `node` on PATH and `npm ci` in web/.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace trafficsim::testing {

class BackgroundProcess;

class OtlpReceiver {
 public:
  // Starts the receiver and waits (up to `start_deadline`) for its port; throws
  // std::runtime_error with the child's stderr when it does not come up.
  explicit OtlpReceiver(std::chrono::milliseconds start_deadline = std::chrono::seconds(20));
  ~OtlpReceiver();  // kills the child
  OtlpReceiver(const OtlpReceiver&) = delete;
  OtlpReceiver& operator=(const OtlpReceiver&) = delete;

  uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port>" followed by `path` (e.g. "/v1/traces").
  std::string url(std::string_view path = {}) const;

  // {"requests": [...], "errors": [...]}: every export request decoded (path, contentType,
  // contentEncoding, bytes, decodedBytes, status answered, delayMs, receivedAtMs, headers,
  // unknownKeys, body: the decoded Export*ServiceRequest as JSON with ids in hex and 64-bit
  // integers as decimal strings) and every one that did not decode. Throws std::runtime_error
  // when unreachable.
  boost::json::object received() const;
  // The requests to one path ("/v1/traces"), in arrival order; with `status`, only those the
  // receiver answered with it.
  boost::json::array requests(std::string_view path, int status = 0) const;
  // The decode errors.
  boost::json::array errors() const;

  // A behaviour for the next requests: {"status":503,"retryAfter":"1","count":2},
  // {"delayMs":3000}, {"partialSuccess":{"rejected":3,"errorMessage":"..."}}, {"status":400};
  // "count" -1 applies to every request, "path" to one signal's. Throws when the receiver refuses
  // the rule.
  void control(const boost::json::object& rule) const;
  // Forgets requests, errors and rules.
  void reset() const;

  // What the child wrote to stderr so far (for failure messages).
  std::string log() const;

 private:
  std::unique_ptr<BackgroundProcess> process_;
  uint16_t port_ = 0;
};

}  // namespace trafficsim::testing
