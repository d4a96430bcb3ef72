#pragma once
// The error an endpoint answers with: an HTTP status, a machine-readable code, the
// field at fault (when there is one) and a sentence for people. Serialised as
// {"error": code, "field": field, "message": message} ("field" omitted when empty).
#include <boost/json/object.hpp>
#include <string>

namespace trafficsim::http {

struct ApiError {
  int status = 400;
  std::string code;     // e.g. invalid_json, missing_field, invalid_type, invalid_value, not_found
  std::string field;    // the field, header or query parameter at fault; empty when none
  std::string message;  // one sentence, names the field

  boost::json::object to_json() const {
    boost::json::object o;
    o["error"] = code;
    if (!field.empty()) o["field"] = field;
    o["message"] = message;
    return o;
  }
};

}  // namespace trafficsim::http
