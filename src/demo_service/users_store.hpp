#pragma once
// The users API of the demo target (GET/POST /api/v1/users, GET/PATCH /api/v1/users/{id}) over a
// bounded in-memory store, and the error endpoint GET /api/v1/users/error?errorRate=0.5 that
// error-injection scenarios aim at. Handlers parse nothing themselves: they pass the raw query,
// path segment and body here and map the ApiError (status, code, field) to the response.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>

#include "http/api_error.hpp"

namespace trafficsim::demo_service {

using http::ApiError;

struct User {
  int64_t id;
  std::string name;   // 1-100 characters
  std::string email;  // one '@', a dot in the domain, <= 254 characters
  std::string role;   // user, admin or viewer
  bool active;
  std::string created_at;  // ISO 8601 UTC, e.g. "2025-11-28T09:30:00.000Z"
  std::string updated_at;
};

// {"id","name","email","role","active","created_at","updated_at"}
boost::json::object user_to_json(const User& user);

// Thread-safe: every member may be called from any thread (one mutex; the work under it is a
// lookup or a copy of at most one page).
class UsersStore {
 public:
  inline static constexpr size_t kDefaultPageLimit = 20;
  inline static constexpr size_t kMaxPageLimit = 100;

  // Starts with `seed_users` generated users (ids 1..seed_users, deterministic realistic names
  // and emails). Past `capacity` users the oldest (lowest id) are evicted, so a long create-heavy
  // run keeps memory bounded. now_iso is the clock for created_at/updated_at; empty means the
  // system clock in UTC. Throws std::invalid_argument when capacity is 0.
  explicit UsersStore(size_t capacity = 10000, size_t seed_users = 100,
                      std::function<std::string()> now_iso = {});

  struct Page {
    std::vector<User> users;  // ascending id
    size_t total;             // users in the store
    size_t offset;
    size_t limit;
  };
  // The query string of GET /api/v1/users, e.g. "limit=20&offset=40": limit 1..100 (default
  // 20), offset >= 0 (default 0, past the end gives an empty page). Anything else -> 400
  // "invalid_query" with field "limit" or "offset". Other parameters are ignored.
  std::variant<Page, ApiError> list(std::string_view query) const;

  // Body {"name", "email", "role"?, "active"?}; role defaults to "user", active to true. Errors:
  // malformed JSON -> 400 invalid_json; not an object -> 400 invalid_type field "body"; a known
  // field of the wrong JSON type -> 400 invalid_type; then 422: unknown_field, missing_field
  // (name, email), invalid_value (name, email, role). The 201 status is the caller's.
  std::variant<User, ApiError> create(std::string_view json_body);

  // id_segment is the raw {id} path segment: not a positive integer -> 400 invalid_value field
  // "id"; no such user (never created, or evicted) -> 404 not_found.
  std::variant<User, ApiError> get(std::string_view id_segment) const;

  // Any non-empty subset of name, email, role, active, validated as in create (an empty object
  // is 422 invalid_value "no fields to update"); sets updated_at. The id and the body are both
  // validated before the lookup, so a bad body is reported even for an unknown id.
  std::variant<User, ApiError> patch(std::string_view id_segment, std::string_view json_body);

  size_t size() const;
  uint64_t evicted() const;  // users dropped because the store was full
  int64_t max_id() const;    // the last id handed out; 0 before any user exists

 private:
  void insert_locked(User user);
  std::string now_iso() const;

  const size_t capacity_;
  const std::function<std::string()> now_iso_;
  mutable std::mutex mutex_;
  // Ids are handed out in increasing order and users only leave from the front (eviction), so
  // the deque stays sorted by id: pages are O(1) to find and lookups a binary search.
  std::deque<User> users_;
  int64_t max_id_ = 0;
  uint64_t evicted_ = 0;
};

// GET /api/v1/users/error: the errorRate query parameter, default 0.5 when absent; not a number
// or outside [0, 1] -> 400 "invalid_query" field "errorRate".
inline constexpr double kDefaultErrorRate = 0.5;
std::variant<double, ApiError> parse_error_rate(std::string_view query);

// 200 with probability 1 - rate, otherwise 500, 502, 503 or 504 with equal probability.
// A pure function of (rate, random_bits).
int pick_error_endpoint_status(double rate, uint64_t random_bits);

}  // namespace trafficsim::demo_service
