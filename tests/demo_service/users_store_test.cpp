#include "demo_service/users_store.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/random.hpp"

namespace trafficsim::demo_service {
namespace {

// The error a call returned has this status, code and field, and its message names the field.
template <class T>
::testing::AssertionResult IsApiError(const std::variant<T, ApiError>& result, int status,
                                      std::string_view code, std::string_view field) {
  const auto* error = std::get_if<ApiError>(&result);
  if (error == nullptr) return ::testing::AssertionFailure() << "no error";
  if (error->status != status || error->code != code || error->field != field) {
    return ::testing::AssertionFailure() << "got " << error->status << " " << error->code
                                         << " field '" << error->field << "': " << error->message;
  }
  if (!field.empty() && field != "body" && error->message.find(field) == std::string::npos) {
    return ::testing::AssertionFailure()
           << "message does not name " << field << ": " << error->message;
  }
  return ::testing::AssertionSuccess();
}

// A clock the test moves by hand.
struct FakeClock {
  std::string now = "2025-11-28T09:00:00.000Z";
  std::function<std::string()> fn() {
    return [this] { return now; };
  }
};

// The value of a call expected to succeed (a copy: results are usually temporaries).
template <class T>
T ok(const std::variant<T, ApiError>& result) {
  if (const auto* error = std::get_if<ApiError>(&result)) {
    ADD_FAILURE() << "unexpected error " << error->code << ": " << error->message;
    return T{};
  }
  return std::get<T>(result);
}

// ---- seed users -----------------------------------------------------------------------------

TEST(UsersStoreTest, StartsWithSeedUsersWithRealisticDistinctData) {
  UsersStore store(10000, 100);
  EXPECT_EQ(store.size(), 100u);
  EXPECT_EQ(store.max_id(), 100);
  std::set<std::string> emails;
  std::set<std::string> names;
  for (int id = 1; id <= 100; ++id) {
    const User user = ok(store.get(std::to_string(id)));
    EXPECT_EQ(user.id, id);
    EXPECT_NE(user.name.find(' '), std::string::npos) << user.name;  // first and last name
    EXPECT_EQ(std::count(user.email.begin(), user.email.end(), '@'), 1) << user.email;
    EXPECT_TRUE(user.role == "user" || user.role == "admin" || user.role == "viewer");
    emails.insert(user.email);
    names.insert(user.name);
  }
  EXPECT_EQ(emails.size(), 100u);
  EXPECT_EQ(names.size(), 100u);
}

TEST(UsersStoreTest, SeedUsersAreTheSameEveryRun) {
  UsersStore a(100, 10);
  UsersStore b(100, 10);
  EXPECT_EQ(ok(a.get("7")).email, ok(b.get("7")).email);
}

TEST(UsersStoreTest, RejectsZeroCapacity) {
  EXPECT_THROW(UsersStore(0, 0), std::invalid_argument);
}

// ---- list -----------------------------------------------------------------------------------

TEST(UsersStoreTest, ListsTheFirstTwentyByDefault) {
  UsersStore store(10000, 100);
  const auto page = ok(store.list(""));
  EXPECT_EQ(page.total, 100u);
  EXPECT_EQ(page.limit, 20u);
  EXPECT_EQ(page.offset, 0u);
  ASSERT_EQ(page.users.size(), 20u);
  EXPECT_EQ(page.users.front().id, 1);
  EXPECT_EQ(page.users.back().id, 20);
}

TEST(UsersStoreTest, ListsAPageByLimitAndOffset) {
  UsersStore store(10000, 100);
  const auto page = ok(store.list("limit=15&offset=90"));
  ASSERT_EQ(page.users.size(), 10u);  // only 10 left after 90
  EXPECT_EQ(page.users.front().id, 91);
  EXPECT_EQ(page.users.back().id, 100);
  EXPECT_EQ(page.limit, 15u);
  EXPECT_EQ(page.offset, 90u);

  EXPECT_EQ(ok(store.list("limit=100")).users.size(), 100u);
  EXPECT_EQ(ok(store.list("limit=1&offset=0")).users.size(), 1u);
  EXPECT_TRUE(ok(store.list("offset=100")).users.empty());
  EXPECT_TRUE(ok(store.list("offset=99999999999")).users.empty());
  EXPECT_EQ(ok(store.list("sort=name&limit=5")).users.size(), 5u);  // others are ignored
}

TEST(UsersStoreTest, RejectsInvalidLimitAndOffset) {
  UsersStore store(10000, 10);
  for (const char* query : {"limit=0", "limit=101", "limit=-1", "limit=abc", "limit=", "limit=2.5",
                            "limit=+5", "limit=99999999999999999999999"}) {
    EXPECT_TRUE(IsApiError(store.list(query), 400, "invalid_query", "limit")) << query;
  }
  for (const char* query : {"offset=-1", "offset=x", "offset=", "limit=5&offset=1e3"}) {
    EXPECT_TRUE(IsApiError(store.list(query), 400, "invalid_query", "offset")) << query;
  }
}

// ---- create ---------------------------------------------------------------------------------

TEST(UsersStoreTest, CreatesAUserWithDefaultsAndTheNextId) {
  FakeClock clock;
  UsersStore store(10000, 100, clock.fn());
  clock.now = "2025-11-28T10:00:00.000Z";
  const User created = ok(store.create(R"({"name":"Ada Lovelace","email":"ada@example.com"})"));
  EXPECT_EQ(created.id, 101);
  EXPECT_EQ(created.name, "Ada Lovelace");
  EXPECT_EQ(created.email, "ada@example.com");
  EXPECT_EQ(created.role, "user");
  EXPECT_TRUE(created.active);
  EXPECT_EQ(created.created_at, "2025-11-28T10:00:00.000Z");
  EXPECT_EQ(created.updated_at, created.created_at);

  const User fetched = ok(store.get("101"));
  EXPECT_EQ(fetched.email, "ada@example.com");
  EXPECT_EQ(store.size(), 101u);
  EXPECT_EQ(store.max_id(), 101);
}

TEST(UsersStoreTest, CreatesWithRoleAndActive) {
  UsersStore store(10, 0);
  const User created =
      ok(store.create(R"({"name":"Bo","email":"bo@x.io","role":"viewer","active":false})"));
  EXPECT_EQ(created.id, 1);
  EXPECT_EQ(created.role, "viewer");
  EXPECT_FALSE(created.active);
}

TEST(UsersStoreTest, CreateRejectsMalformedBodies) {
  UsersStore store(10, 0);
  EXPECT_TRUE(IsApiError(store.create("{"), 400, "invalid_json", ""));
  EXPECT_TRUE(IsApiError(store.create("[]"), 400, "invalid_type", "body"));
  EXPECT_TRUE(IsApiError(store.create("42"), 400, "invalid_type", "body"));
}

TEST(UsersStoreTest, CreateRejectsWrongTypesWith400) {
  UsersStore store(10, 0);
  EXPECT_TRUE(
      IsApiError(store.create(R"({"name":5,"email":"a@b.co"})"), 400, "invalid_type", "name"));
  EXPECT_TRUE(
      IsApiError(store.create(R"({"name":"A","email":null})"), 400, "invalid_type", "email"));
  EXPECT_TRUE(IsApiError(store.create(R"({"name":"A","email":"a@b.co","role":1})"), 400,
                         "invalid_type", "role"));
  EXPECT_TRUE(IsApiError(store.create(R"({"name":"A","email":"a@b.co","active":"yes"})"), 400,
                         "invalid_type", "active"));
}

TEST(UsersStoreTest, CreateRejectsMissingAndUnknownFieldsWith422) {
  UsersStore store(10, 0);
  EXPECT_TRUE(IsApiError(store.create(R"({"email":"a@b.co"})"), 422, "missing_field", "name"));
  EXPECT_TRUE(IsApiError(store.create(R"({"name":"A"})"), 422, "missing_field", "email"));
  EXPECT_TRUE(IsApiError(store.create(R"({"name":"A","email":"a@b.co","nickname":"a"})"), 422,
                         "unknown_field", "nickname"));
  EXPECT_TRUE(IsApiError(store.create(R"({"id":7,"name":"A","email":"a@b.co"})"), 422,
                         "unknown_field", "id"));
  EXPECT_EQ(store.size(), 0u);
}

TEST(UsersStoreTest, CreateRejectsInvalidValuesWith422) {
  UsersStore store(10, 0);
  const std::string long_name(101, 'n');
  EXPECT_TRUE(
      IsApiError(store.create(R"({"name":"","email":"a@b.co"})"), 422, "invalid_value", "name"));
  EXPECT_TRUE(
      IsApiError(store.create(R"({"name":"   ","email":"a@b.co"})"), 422, "invalid_value", "name"));
  EXPECT_TRUE(IsApiError(store.create(R"({"name":")" + long_name + R"(","email":"a@b.co"})"), 422,
                         "invalid_value", "name"));
  for (const std::string& email : std::vector<std::string>{
           "", "plain", "a@@b.co", "a@b@c.co", "@b.co", "a@nodot", "a@.co", "a@b.co.", "a b@c.co",
           "a@b..co", std::string(250, 'a') + "@b.co"}) {
    EXPECT_TRUE(IsApiError(store.create(R"({"name":"A","email":")" + email + R"("})"), 422,
                           "invalid_value", "email"))
        << email;
  }
  EXPECT_TRUE(IsApiError(store.create(R"({"name":"A","email":"a@b.co","role":"root"})"), 422,
                         "invalid_value", "role"));
  EXPECT_EQ(store.size(), 0u);
}

TEST(UsersStoreTest, NameLengthCountsCharactersNotBytes) {
  UsersStore store(10, 0);
  std::string hundred_umlauts;
  for (int i = 0; i < 100; ++i) hundred_umlauts += "\xC3\xBC";  // ü: 2 bytes, 1 character
  EXPECT_TRUE(std::holds_alternative<User>(
      store.create(R"({"name":")" + hundred_umlauts + R"(","email":"u@b.co"})")));
  EXPECT_TRUE(std::holds_alternative<User>(
      store.create(R"({"name":")" + std::string(100, 'n') + R"(","email":"n@b.co"})")));
}

// ---- get ------------------------------------------------------------------------------------

TEST(UsersStoreTest, GetRejectsIdsThatAreNotPositiveIntegers) {
  UsersStore store(10, 5);
  for (const char* id : {"", "abc", "0", "-1", "+1", "1.5", " 1", "1a", "99999999999999999999",
                         "9223372036854775808"}) {
    EXPECT_TRUE(IsApiError(store.get(id), 400, "invalid_value", "id")) << id;
  }
}

TEST(UsersStoreTest, GetUnknownIdIs404) {
  UsersStore store(10, 5);
  EXPECT_TRUE(IsApiError(store.get("6"), 404, "not_found", "id"));
  EXPECT_TRUE(IsApiError(store.get("9223372036854775807"), 404, "not_found", "id"));
}

// ---- patch ----------------------------------------------------------------------------------

TEST(UsersStoreTest, PatchUpdatesGivenFieldsAndUpdatedAt) {
  FakeClock clock;
  UsersStore store(10, 3, clock.fn());
  const User before = ok(store.get("2"));
  clock.now = "2025-11-28T12:34:56.789Z";
  const User patched = ok(store.patch("2", R"({"role":"admin","active":false})"));
  EXPECT_EQ(patched.role, "admin");
  EXPECT_FALSE(patched.active);
  EXPECT_EQ(patched.name, before.name);
  EXPECT_EQ(patched.email, before.email);
  EXPECT_EQ(patched.created_at, before.created_at);
  EXPECT_EQ(patched.updated_at, "2025-11-28T12:34:56.789Z");
  EXPECT_EQ(ok(store.get("2")).role, "admin");

  const User renamed = ok(store.patch("2", R"({"name":"New Name","email":"new@x.org"})"));
  EXPECT_EQ(renamed.name, "New Name");
  EXPECT_EQ(renamed.email, "new@x.org");
  EXPECT_EQ(renamed.role, "admin");
}

TEST(UsersStoreTest, PatchRejectsInvalidRequests) {
  UsersStore store(10, 3);
  EXPECT_TRUE(IsApiError(store.patch("x", R"({"name":"A"})"), 400, "invalid_value", "id"));
  EXPECT_TRUE(IsApiError(store.patch("1", "nope"), 400, "invalid_json", ""));
  EXPECT_TRUE(IsApiError(store.patch("1", "[1]"), 400, "invalid_type", "body"));
  EXPECT_TRUE(IsApiError(store.patch("1", R"({"active":1})"), 400, "invalid_type", "active"));
  EXPECT_TRUE(IsApiError(store.patch("1", "{}"), 422, "invalid_value", "body"));
  EXPECT_TRUE(IsApiError(store.patch("1", R"({"id":3})"), 422, "unknown_field", "id"));
  EXPECT_TRUE(IsApiError(store.patch("1", R"({"email":"nope"})"), 422, "invalid_value", "email"));
  EXPECT_TRUE(IsApiError(store.patch("1", R"({"role":"owner"})"), 422, "invalid_value", "role"));
  EXPECT_TRUE(IsApiError(store.patch("1", R"({"name":""})"), 422, "invalid_value", "name"));
  EXPECT_TRUE(IsApiError(store.patch("4", R"({"name":"A"})"), 404, "not_found", "id"));
  const auto empty_patch = store.patch("1", "{}");
  const auto* error = std::get_if<ApiError>(&empty_patch);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(error->message.find("no fields to update"), std::string::npos) << error->message;
}

TEST(UsersStoreTest, FailedPatchChangesNothing) {
  UsersStore store(10, 1);
  const User before = ok(store.get("1"));
  ASSERT_TRUE(
      std::holds_alternative<ApiError>(store.patch("1", R"({"name":"Changed","role":"owner"})")));
  EXPECT_EQ(ok(store.get("1")).name, before.name);
}

// ---- capacity -------------------------------------------------------------------------------

TEST(UsersStoreTest, EvictsTheOldestUsersPastCapacity) {
  UsersStore store(5, 3);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(std::holds_alternative<User>(
        store.create(R"({"name":"N","email":"n)" + std::to_string(i) + R"(@b.co"})")));
  }
  EXPECT_EQ(store.size(), 5u);
  EXPECT_EQ(store.evicted(), 2u);
  EXPECT_EQ(store.max_id(), 7);
  EXPECT_TRUE(IsApiError(store.get("1"), 404, "not_found", "id"));
  EXPECT_TRUE(IsApiError(store.get("2"), 404, "not_found", "id"));
  EXPECT_TRUE(IsApiError(store.patch("2", R"({"name":"X"})"), 404, "not_found", "id"));
  EXPECT_EQ(ok(store.get("3")).id, 3);
  const auto page = ok(store.list("limit=100"));
  EXPECT_EQ(page.total, 5u);
  ASSERT_EQ(page.users.size(), 5u);
  EXPECT_EQ(page.users.front().id, 3);
  EXPECT_EQ(page.users.back().id, 7);
}

TEST(UsersStoreTest, MoreSeedUsersThanCapacityKeepsTheNewest) {
  UsersStore store(10, 25);
  EXPECT_EQ(store.size(), 10u);
  EXPECT_EQ(store.evicted(), 15u);
  EXPECT_EQ(ok(store.list("")).users.front().id, 16);
}

TEST(UsersStoreTest, ConcurrentCreatesAndReadsKeepIdsUniqueAndSizeBounded) {
  UsersStore store(500, 100);
  constexpr int kThreads = 4;
  constexpr int kCreatesPerThread = 200;
  std::vector<std::vector<int64_t>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCreatesPerThread; ++i) {
        auto created = store.create(R"({"name":"T","email":"t)" + std::to_string(t) + "_" +
                                    std::to_string(i) + R"(@b.co"})");
        if (auto* user = std::get_if<User>(&created)) ids[t].push_back(user->id);
        (void)store.list("limit=50&offset=450");
        (void)store.get(std::to_string(i + 1));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<int64_t> unique;
  for (const auto& v : ids) unique.insert(v.begin(), v.end());
  EXPECT_EQ(unique.size(), static_cast<size_t>(kThreads * kCreatesPerThread));
  EXPECT_EQ(store.max_id(), 100 + kThreads * kCreatesPerThread);
  EXPECT_EQ(store.size(), 500u);
  EXPECT_EQ(store.evicted(), 400u);
}

TEST(UsersStoreTest, UserToJsonHasEveryField) {
  const User user{7, "Ada", "ada@x.io", "admin", true, "t1", "t2"};
  const boost::json::object json = user_to_json(user);
  EXPECT_EQ(json.at("id").as_int64(), 7);
  EXPECT_EQ(json.at("name").as_string(), "Ada");
  EXPECT_EQ(json.at("email").as_string(), "ada@x.io");
  EXPECT_EQ(json.at("role").as_string(), "admin");
  EXPECT_TRUE(json.at("active").as_bool());
  EXPECT_EQ(json.at("created_at").as_string(), "t1");
  EXPECT_EQ(json.at("updated_at").as_string(), "t2");
}

TEST(UsersStoreTest, DefaultClockWritesIso8601Utc) {
  UsersStore store(10, 1);
  const std::string created_at = ok(store.get("1")).created_at;
  // "2025-11-28T09:30:00.123Z"
  ASSERT_EQ(created_at.size(), 24u) << created_at;
  EXPECT_EQ(created_at[4], '-');
  EXPECT_EQ(created_at[10], 'T');
  EXPECT_EQ(created_at[19], '.');
  EXPECT_EQ(created_at.back(), 'Z');
}

// ---- error endpoint -------------------------------------------------------------------------

TEST(ErrorEndpointTest, ParsesErrorRateWithDefault) {
  EXPECT_DOUBLE_EQ(std::get<double>(parse_error_rate("")), 0.5);
  EXPECT_DOUBLE_EQ(std::get<double>(parse_error_rate("other=1")), 0.5);
  EXPECT_DOUBLE_EQ(std::get<double>(parse_error_rate("errorRate=0.2")), 0.2);
  EXPECT_DOUBLE_EQ(std::get<double>(parse_error_rate("errorRate=0")), 0.0);
  EXPECT_DOUBLE_EQ(std::get<double>(parse_error_rate("errorRate=1")), 1.0);
  EXPECT_DOUBLE_EQ(std::get<double>(parse_error_rate("x=y&errorRate=0%2E25")), 0.25);
}

TEST(ErrorEndpointTest, RejectsErrorRatesOutsideZeroToOne) {
  for (const char* query :
       {"errorRate=1.5", "errorRate=-0.1", "errorRate=abc", "errorRate=", "errorRate",
        "errorRate=nan", "errorRate=inf", "errorRate=0.5x", "errorRate=50%25"}) {
    EXPECT_TRUE(IsApiError(parse_error_rate(query), 400, "invalid_query", "errorRate")) << query;
  }
}

TEST(ErrorEndpointTest, StatusDistributionFollowsTheRate) {
  for (double rate : {0.0, 0.05, 0.25, 0.5, 0.9, 1.0}) {
    std::map<int, int> counts;
    constexpr int kDraws = 2000;
    for (uint64_t i = 0; i < kDraws; ++i) {
      ++counts[pick_error_endpoint_status(rate, core::mix64(i + 1000))];
    }
    const int errors = kDraws - counts[200];
    EXPECT_NEAR(static_cast<double>(errors) / kDraws, rate, 0.05) << "rate " << rate;
    for (const auto& [status, count] : counts) {
      EXPECT_TRUE(status == 200 || status == 500 || status == 502 || status == 503 || status == 504)
          << status;
    }
    if (rate >= 0.5) {
      // Each of the four errors shows up about a quarter of the time.
      for (int status : {500, 502, 503, 504}) {
        EXPECT_NEAR(counts[status], errors / 4.0, errors * 0.1) << status << " at " << rate;
      }
    }
  }
}

TEST(ErrorEndpointTest, ZeroAndOneAreExact) {
  for (uint64_t bits : {uint64_t{0}, ~uint64_t{0}, uint64_t{12345}}) {
    EXPECT_EQ(pick_error_endpoint_status(0.0, bits), 200);
    EXPECT_NE(pick_error_endpoint_status(1.0, bits), 200);
  }
}

TEST(ErrorEndpointTest, IsDeterministicInRandomBits) {
  EXPECT_EQ(pick_error_endpoint_status(0.5, 987654321), pick_error_endpoint_status(0.5, 987654321));
}

}  // namespace
}  // namespace trafficsim::demo_service
