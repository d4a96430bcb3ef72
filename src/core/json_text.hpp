#pragma once
// JSON text for people as well as programs: like boost::json::serialize, but numbers with a
// fraction are written in their shortest round-trip form without an exponent where that is
// natural (1112.12, 0.2, 30), not Boost's "1.11212E3" / "2E-1" / "3E1".
#include <boost/json/value.hpp>
#include <string>

namespace trafficsim::core {

std::string json_text(const boost::json::value& value);

}  // namespace trafficsim::core
