#include "http/retry_policy.hpp"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>

#include "core/clock.hpp"
#include "core/random.hpp"

namespace trafficsim::http {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool is_success(const ClientResult& result) {
  return result.outcome == http::ClientOutcome::ok && result.status >= 200 && result.status < 300;
}

bool is_retryable(const ClientResult& result) {
  switch (result.outcome) {
    case http::ClientOutcome::ok:
      return result.status == 429 || (result.status >= 500 && result.status < 600);
    case http::ClientOutcome::timeout:
    case http::ClientOutcome::connect_error:
    case http::ClientOutcome::io_error:
      return true;
    case http::ClientOutcome::bad_url:
    case http::ClientOutcome::tls_error:  // a refused certificate stays refused
      return false;
  }
  return false;
}

std::optional<std::chrono::milliseconds> retry_after(const ClientResult& result,
                                                     double now_unix_s) {
  auto header = result.header("Retry-After");
  if (!header) return std::nullopt;
  std::string_view text = trim(*header);
  if (text.empty()) return std::nullopt;
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    uint64_t seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    // An absurd figure is still "wait long": the caller caps it.
    if (ec != std::errc() || end != text.data() + text.size() || seconds > 86'400 * 365)
      seconds = 86'400 * 365;
    return std::chrono::milliseconds(static_cast<int64_t>(seconds) * 1000);
  }
  // IMF-fixdate, the one form a sender must produce.
  std::tm tm{};
  std::string copy(text);
  const char* end = ::strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const double at = static_cast<double>(::timegm(&tm));
  const double wait_s = std::max(0.0, at - now_unix_s);
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(wait_s * 1000)));
}

std::chrono::milliseconds backoff_delay(int retry, std::chrono::milliseconds base,
                                        std::chrono::milliseconds cap, uint64_t random_bits) {
  const int64_t cap_ms = std::max<int64_t>(0, cap.count());
  int64_t d = std::min(std::max<int64_t>(0, base.count()), cap_ms);
  for (int i = 1; i < retry && d < cap_ms; ++i) d = std::min(cap_ms, d * 2);
  const double unit = core::unit_from_bits(random_bits);  // [0, 1)
  return std::chrono::milliseconds(d / 2 +
                                   static_cast<int64_t>(unit * static_cast<double>(d - d / 2 + 1)));
}

uint64_t jitter_bits() {
  static std::atomic<uint64_t> counter{0};
  return core::mix64(counter.fetch_add(1, std::memory_order_relaxed) ^
                     static_cast<uint64_t>(core::monotonic_now_ns()));
}

std::string describe(const ClientResult& result) {
  if (result.outcome != http::ClientOutcome::ok) return result.error;
  std::string line = "HTTP " + std::to_string(result.status);
  std::string body = result.body.substr(0, 200);
  std::replace_if(
      body.begin(), body.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  if (!trim(body).empty()) line += ": " + std::string(trim(body));
  return line;
}

}  // namespace trafficsim::http
