#include "demo_service/users_store.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <stdexcept>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "http/query_string.hpp"

namespace trafficsim::demo_service {

using http::query_param;

namespace {

constexpr size_t kMaxNameChars = 100;
constexpr size_t kMaxEmailChars = 254;  // RFC 5321 path limit

ApiError error(int status, std::string code, std::string field, std::string message) {
  return ApiError{status, std::move(code), std::move(field), std::move(message)};
}

std::string system_now_iso() {
  return core::format_rfc3339(std::chrono::system_clock::now(), 3);
}

// Seed users: every (first, last) pair appears once per 400 ids; the id in the email keeps
// emails unique beyond that.
constexpr std::array<std::string_view, 20> kFirstNames{
    "Olivia", "Liam",  "Emma",  "Noah", "Amelia", "Oliver", "Sophia", "Elijah", "Mia",   "Lucas",
    "Ava",    "Mateo", "Priya", "Wei",  "Fatima", "Kenji",  "Chloe",  "Diego",  "Aisha", "Jonas"};
constexpr std::array<std::string_view, 20> kLastNames{
    "Smith",  "Johnson",  "Garcia", "Miller", "Davis",   "Martinez", "Lopez",
    "Wilson", "Anderson", "Thomas", "Moore",  "Jackson", "Martin",   "Lee",
    "Patel",  "Nguyen",   "Kim",    "Müller", "Rossi",   "Okafor"};
constexpr std::array<std::string_view, 3> kEmailDomains{"example.com", "example.org",
                                                        "mail.example.net"};

std::string ascii_lower_letters(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c >= 'A' && c <= 'Z')
      out += static_cast<char>(c - 'A' + 'a');
    else if (c >= 'a' && c <= 'z')
      out += c;
    // non-ASCII letters (the ü of Müller) are dropped from email local parts
  }
  return out;
}

User seed_user(int64_t id, const std::string& now) {
  const auto index = static_cast<size_t>(id - 1) % (kFirstNames.size() * kLastNames.size());
  const size_t first = index % kFirstNames.size();
  const size_t last = (index / kFirstNames.size() + 7 * first) % kLastNames.size();
  User user;
  user.id = id;
  user.name = std::string(kFirstNames[first]) + " " + std::string(kLastNames[last]);
  user.email = ascii_lower_letters(kFirstNames[first]) + "." +
               ascii_lower_letters(kLastNames[last]) + std::to_string(id) + "@" +
               std::string(kEmailDomains[static_cast<size_t>(id) % kEmailDomains.size()]);
  user.role = id % 10 == 1 ? "admin" : id % 5 == 0 ? "viewer" : "user";
  user.active = id % 11 != 0;
  user.created_at = now;
  user.updated_at = now;
  return user;
}

// Characters as people count them: UTF-8 code points.
size_t utf8_length(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

bool valid_email(std::string_view email) {
  if (email.empty() || email.size() > kMaxEmailChars) return false;
  for (char c : email) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '\x7f') return false;
  }
  const size_t at = email.find('@');
  if (at == std::string_view::npos || at == 0 || email.find('@', at + 1) != std::string_view::npos)
    return false;
  const std::string_view domain = email.substr(at + 1);
  const size_t dot = domain.find('.');
  return dot != std::string_view::npos && dot != 0 && domain.back() != '.' &&
         domain.find("..") == std::string_view::npos;
}

// The writable fields of a user as they arrived in a create or patch body.
struct UserFields {
  std::optional<std::string> name;
  std::optional<std::string> email;
  std::optional<std::string> role;
  std::optional<bool> active;

  bool empty() const { return !name && !email && !role && !active; }
};

// JSON shape first (400: syntax, then types), then 422 for unknown fields.
std::variant<UserFields, ApiError> parse_user_fields(std::string_view json_body) {
  boost::json::error_code ec;
  boost::json::value document = boost::json::parse(json_body, ec);
  if (ec) {
    return error(400, "invalid_json", "",
                 "The request body is not valid JSON (" + ec.message() + ").");
  }
  if (!document.is_object()) {
    return error(400, "invalid_type", "body", "The request body must be a JSON object.");
  }
  const boost::json::object& object = document.get_object();

  UserFields fields;
  for (std::string_view name : {"name", "email", "role"}) {
    const boost::json::value* value = object.if_contains(name);
    if (value == nullptr) continue;
    if (!value->is_string()) {
      return error(400, "invalid_type", std::string(name),
                   "The field '" + std::string(name) + "' must be a string.");
    }
    std::string text(value->get_string());
    if (name == "name")
      fields.name = std::move(text);
    else if (name == "email")
      fields.email = std::move(text);
    else
      fields.role = std::move(text);
  }
  if (const boost::json::value* active = object.if_contains("active")) {
    if (!active->is_bool()) {
      return error(400, "invalid_type", "active", "The field 'active' must be true or false.");
    }
    fields.active = active->get_bool();
  }
  for (const auto& member : object) {
    const std::string_view key = member.key();
    if (key != "name" && key != "email" && key != "role" && key != "active") {
      return error(422, "unknown_field", std::string(key),
                   "The field '" + std::string(key) + "' is not one of name, email, role, active.");
    }
  }
  return fields;
}

// 422 invalid_value for the first present field whose value is unacceptable.
std::optional<ApiError> validate_values(const UserFields& fields) {
  if (fields.name) {
    const std::string& name = *fields.name;
    const bool blank = name.find_first_not_of(" \t\r\n") == std::string::npos;
    if (blank || utf8_length(name) > kMaxNameChars) {
      return error(422, "invalid_value", "name",
                   "The field 'name' must be 1 to 100 characters and not blank.");
    }
  }
  if (fields.email && !valid_email(*fields.email)) {
    return error(422, "invalid_value", "email",
                 "The field 'email' must be an address like name@example.com (at most 254 "
                 "characters).");
  }
  if (fields.role && *fields.role != "user" && *fields.role != "admin" &&
      *fields.role != "viewer") {
    return error(422, "invalid_value", "role",
                 "The field 'role' must be one of user, admin, viewer.");
  }
  return std::nullopt;
}

// Digits only (no sign, no spaces); nullopt when not a number or past uint64.
std::optional<uint64_t> parse_unsigned(std::string_view text) {
  uint64_t value = 0;
  if (text.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::variant<int64_t, ApiError> parse_id(std::string_view id_segment) {
  std::optional<uint64_t> id = parse_unsigned(id_segment);
  if (!id || *id == 0 || *id > static_cast<uint64_t>(INT64_MAX)) {
    return error(400, "invalid_value", "id",
                 "The user id must be a positive integer, got '" + std::string(id_segment) + "'.");
  }
  return static_cast<int64_t>(*id);
}

std::variant<size_t, ApiError> parse_page_param(std::string_view query, std::string_view name,
                                                size_t default_value, size_t min, size_t max) {
  std::optional<std::string> text = query_param(query, name);
  if (!text) return default_value;
  std::optional<uint64_t> value = parse_unsigned(*text);
  if (!value || *value < min || *value > max) {
    return error(400, "invalid_query", std::string(name),
                 "The query parameter '" + std::string(name) + "' must be an integer from " +
                     std::to_string(min) +
                     (max == SIZE_MAX ? std::string(" up") : " to " + std::to_string(max)) +
                     ", got '" + *text + "'.");
  }
  return static_cast<size_t>(*value);
}

// The user with this id in a deque sorted by id, or users.end().
template <class Users>
auto find_user(Users& users, int64_t id) -> decltype(users.begin()) {
  auto it = std::lower_bound(users.begin(), users.end(), id,
                             [](const User& user, int64_t wanted) { return user.id < wanted; });
  return it != users.end() && it->id == id ? it : users.end();
}

ApiError user_not_found(int64_t id) {
  return error(404, "not_found", "id", "No user has the id " + std::to_string(id) + ".");
}

}  // namespace

boost::json::object user_to_json(const User& user) {
  boost::json::object o;
  o["id"] = user.id;
  o["name"] = user.name;
  o["email"] = user.email;
  o["role"] = user.role;
  o["active"] = user.active;
  o["created_at"] = user.created_at;
  o["updated_at"] = user.updated_at;
  return o;
}

UsersStore::UsersStore(size_t capacity, size_t seed_users, std::function<std::string()> now_iso)
    : capacity_(capacity), now_iso_(std::move(now_iso)) {
  if (capacity_ == 0) throw std::invalid_argument("UsersStore capacity must be at least 1");
  const std::string now = this->now_iso();
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < seed_users; ++i) insert_locked(seed_user(max_id_ + 1, now));
}

std::string UsersStore::now_iso() const {
  return now_iso_ ? now_iso_() : system_now_iso();
}

void UsersStore::insert_locked(User user) {
  max_id_ = user.id;
  users_.push_back(std::move(user));
  while (users_.size() > capacity_) {
    users_.pop_front();
    ++evicted_;
  }
}

std::variant<UsersStore::Page, ApiError> UsersStore::list(std::string_view query) const {
  auto limit = parse_page_param(query, "limit", kDefaultPageLimit, 1, kMaxPageLimit);
  if (auto* e = std::get_if<ApiError>(&limit)) return std::move(*e);
  auto offset = parse_page_param(query, "offset", 0, 0, SIZE_MAX);
  if (auto* e = std::get_if<ApiError>(&offset)) return std::move(*e);

  Page page{{}, 0, std::get<size_t>(offset), std::get<size_t>(limit)};
  std::lock_guard lock(mutex_);
  page.total = users_.size();
  if (page.offset < users_.size()) {
    const size_t end = std::min(users_.size(), page.offset + page.limit);
    page.users.assign(users_.begin() + static_cast<std::ptrdiff_t>(page.offset),
                      users_.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return page;
}

std::variant<User, ApiError> UsersStore::create(std::string_view json_body) {
  auto parsed = parse_user_fields(json_body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return std::move(*e);
  UserFields& fields = std::get<UserFields>(parsed);
  for (auto [name, present] :
       {std::pair{"name", fields.name.has_value()}, std::pair{"email", fields.email.has_value()}}) {
    if (!present) {
      return error(422, "missing_field", name,
                   "The field '" + std::string(name) + "' is required to create a user.");
    }
  }
  if (auto e = validate_values(fields)) return std::move(*e);

  User user;
  user.name = std::move(*fields.name);
  user.email = std::move(*fields.email);
  user.role = fields.role.value_or("user");
  user.active = fields.active.value_or(true);
  user.created_at = now_iso();
  user.updated_at = user.created_at;

  std::lock_guard lock(mutex_);
  user.id = max_id_ + 1;
  insert_locked(user);
  return user;
}

std::variant<User, ApiError> UsersStore::get(std::string_view id_segment) const {
  auto id = parse_id(id_segment);
  if (auto* e = std::get_if<ApiError>(&id)) return std::move(*e);
  std::lock_guard lock(mutex_);
  auto it = find_user(users_, std::get<int64_t>(id));
  if (it == users_.end()) return user_not_found(std::get<int64_t>(id));
  return *it;
}

std::variant<User, ApiError> UsersStore::patch(std::string_view id_segment,
                                               std::string_view json_body) {
  auto id = parse_id(id_segment);
  if (auto* e = std::get_if<ApiError>(&id)) return std::move(*e);
  auto parsed = parse_user_fields(json_body);
  if (auto* e = std::get_if<ApiError>(&parsed)) return std::move(*e);
  UserFields& fields = std::get<UserFields>(parsed);
  if (fields.empty()) {
    return error(422, "invalid_value", "body",
                 "The request body has no fields to update (name, email, role, active).");
  }
  if (auto e = validate_values(fields)) return std::move(*e);
  const std::string now = now_iso();

  std::lock_guard lock(mutex_);
  auto it = find_user(users_, std::get<int64_t>(id));
  if (it == users_.end()) return user_not_found(std::get<int64_t>(id));
  if (fields.name) it->name = std::move(*fields.name);
  if (fields.email) it->email = std::move(*fields.email);
  if (fields.role) it->role = std::move(*fields.role);
  if (fields.active) it->active = *fields.active;
  it->updated_at = now;
  return *it;
}

size_t UsersStore::size() const {
  std::lock_guard lock(mutex_);
  return users_.size();
}

uint64_t UsersStore::evicted() const {
  std::lock_guard lock(mutex_);
  return evicted_;
}

int64_t UsersStore::max_id() const {
  std::lock_guard lock(mutex_);
  return max_id_;
}

std::variant<double, ApiError> parse_error_rate(std::string_view query) {
  std::optional<std::string> text = query_param(query, "errorRate");
  if (!text) return kDefaultErrorRate;
  double rate = 0;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, rate);
  if (text->empty() || ec != std::errc() || ptr != end || !std::isfinite(rate) || rate < 0 ||
      rate > 1) {
    return error(
        400, "invalid_query", "errorRate",
        "The query parameter 'errorRate' must be a number from 0 to 1, got '" + *text + "'.");
  }
  return rate;
}

int pick_error_endpoint_status(double rate, uint64_t random_bits) {
  static constexpr std::array<int, 4> kErrorStatuses{500, 502, 503, 504};
  const double unit = core::unit_from_bits(random_bits);
  if (unit >= rate) return 200;
  // A second, independent draw from the same bits picks which error.
  return kErrorStatuses[core::mix64(random_bits) % kErrorStatuses.size()];
}

}  // namespace trafficsim::demo_service
