#include "support/otlp_receiver.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>

#include "support/http_client.hpp"
#include "support/process.hpp"

namespace trafficsim::testing {

namespace json = boost::json;

namespace {

const std::string kScript =
    std::string(TRAFFICSIM_SOURCE_DIR) + "/tests/telemetry/node/otlp_receiver.mjs";

json::value call_json(uint16_t port, std::string_view method, std::string_view target,
                      std::string_view body = {}) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
  const HttpResult r = http_call(port, method, target, body, headers, std::chrono::seconds(10));
  if (r.status != 200) {
    throw std::runtime_error("otlp receiver: " + std::string(method) + " " + std::string(target) +
                             " answered " + std::to_string(r.status) + " " + r.error + " " +
                             r.body);
  }
  return json::parse(r.body);
}

}  // namespace

OtlpReceiver::OtlpReceiver(std::chrono::milliseconds start_deadline)
    : process_(std::make_unique<BackgroundProcess>(std::vector<std::string>{"node", kScript})) {
  if (!process_->wait_for_stdout("\n", start_deadline)) {
    throw std::runtime_error("otlp receiver did not start (node " + kScript +
                             "): " + process_->current_stderr());
  }
  const std::string out = process_->current_stdout();
  const json::value first = json::parse(out.substr(0, out.find('\n')));
  port_ = static_cast<uint16_t>(first.at("port").to_number<int>());
}

OtlpReceiver::~OtlpReceiver() = default;

std::string OtlpReceiver::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

json::object OtlpReceiver::received() const {
  return call_json(port_, "GET", "/received").as_object();
}

json::array OtlpReceiver::requests(std::string_view path, int status) const {
  json::array out;
  json::object all = received();  // a temporary's member would not outlive the loop's start
  for (auto& r : all.at("requests").as_array()) {
    if (r.at("path").as_string() != path) continue;
    if (status != 0 && r.at("status").to_number<int>() != status) continue;
    out.push_back(std::move(r));
  }
  return out;
}

json::array OtlpReceiver::errors() const {
  json::object all = received();
  return std::move(all.at("errors").as_array());
}

void OtlpReceiver::control(const json::object& rule) const {
  call_json(port_, "POST", "/control", json::serialize(rule));
}

void OtlpReceiver::reset() const {
  call_json(port_, "POST", "/reset", "{}");
}

std::string OtlpReceiver::log() const {
  return process_->current_stderr();
}

}  // namespace trafficsim::testing
