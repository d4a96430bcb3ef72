#pragma once
// The control plane's JSON answers, one way: a body with Cache-Control: no-store, an ApiError
// as {"error","field","message"} (plus extra fields), 405 with Allow, 404 naming the path.
// Internal to control/.
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "http/api_error.hpp"
#include "http/server.hpp"

namespace trafficsim::control {

inline http::ServerResponse json_response(int status, const boost::json::value& body) {
  http::ServerResponse r;
  r.status = status;
  r.body = boost::json::serialize(body);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

inline http::ServerResponse error_response(const http::ApiError& e,
                                           const boost::json::object& extra = {}) {
  boost::json::object body = e.to_json();
  for (const auto& kv : extra) body[kv.key()] = kv.value();
  return json_response(e.status, body);
}

inline http::ServerResponse method_not_allowed(const http::ServerRequest& req, std::string allow) {
  auto r = error_response(http::ApiError{405, "method_not_allowed", "method",
                                         fmt::format("{} is not allowed on {}; allowed: {}",
                                                     req.method, req.path(), allow)});
  r.headers.emplace_back("Allow", std::move(allow));
  return r;
}

inline http::ServerResponse not_found(std::string_view what) {
  return error_response(http::ApiError{404, "not_found", "path", std::string(what)});
}

}  // namespace trafficsim::control
