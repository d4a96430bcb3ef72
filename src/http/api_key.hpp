#pragma once
// The one rule for API keys on every route that needs one (the demo service's /admin/*, the
// control plane's mutations): `X-API-Key: KEY` or `Authorization: Bearer KEY` (Alertmanager can
// send only the latter), compared in constant time.
#include <string_view>

#include "http/server.hpp"

namespace trafficsim::http {

// Equal in time that depends only on the lengths, never on where the bytes differ.
bool constant_time_equal(std::string_view a, std::string_view b);

// True when `key` is empty (no key configured) or the request carries it as above.
bool request_has_api_key(const ServerRequest& request, std::string_view key);

}  // namespace trafficsim::http
