#pragma once
// Private to the http module: one call of the async client run to its end on the calling thread
// (an io_context of its own) — simple_request's https path, so that TLS has one implementation
// (async_client.cpp).
#include <cstddef>

#include "http/async_client.hpp"
#include "http/client_tls.hpp"

namespace trafficsim::http::detail {

// Blocks for at most about request.timeout (name resolution aside, as for every call). A body
// over max_body bytes is an io_error "response body too large"; an unusable CA file a tls_error.
ClientResult blocking_call(ClientRequest request, const ClientTlsOptions& tls, size_t max_body);

}  // namespace trafficsim::http::detail
