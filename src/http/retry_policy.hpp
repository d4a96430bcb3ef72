#pragma once
// What outbound calls (the PagerDuty notifier, the LLM analyzer, the OTLP exporter) retry and
// how long they wait in between: one rule for both, so that a 429 means the same thing to each.
//
// Worth another attempt: a connection failure, a timeout, an I/O error, 429 (rate limited) and any
// 5xx. Not: 2xx (done), other 4xx (the request itself is wrong: retrying sends the same wrong
// request), 1xx/3xx, a URL the client cannot call, a refused TLS handshake (a certificate that
// failed verification fails the same way next time).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "http/async_client.hpp"

namespace trafficsim::http {

bool is_success(const ClientResult& result);  // a response with a 2xx status
bool is_retryable(const ClientResult& result);

// Retry-After (RFC 9110 §10.2.3) of a response: delta-seconds ("0", "120") or an HTTP-date
// ("Wed, 21 Oct 2026 07:28:00 GMT", as a wait from now_unix_s, never negative). nullopt when the
// header is absent or neither form.
std::optional<std::chrono::milliseconds> retry_after(const ClientResult& result,
                                                     double now_unix_s);

// The wait before retry n (1 = after the first attempt): d = min(cap, base · 2^(n−1)), then a
// uniform draw in [d/2, d] from random_bits ("equal jitter": never zero, never above the cap), so
// that many senders that failed together do not retry together.
std::chrono::milliseconds backoff_delay(int retry, std::chrono::milliseconds base,
                                        std::chrono::milliseconds cap, uint64_t random_bits);

// 64 random bits for backoff_delay, distinct per call and per process (a counter and the clock,
// mixed): jitter needs no reproducibility.
uint64_t jitter_bits();

// One line for logs and errors: "HTTP 400: <the body's first 200 characters>",
// "connect: Connection refused".
std::string describe(const ClientResult& result);

}  // namespace trafficsim::http
