// Route matching as the demo service relies on it: segments, parameters, literal-before-param,
// 405 with the allowed methods, 404.
#include "http/router.hpp"

#include <gtest/gtest.h>

#include <string>

namespace trafficsim::http {
namespace {

using R = Router<std::string>;
using Kind = R::Match::Kind;

R sample_router() {
  R r;
  r.add("GET", "/api/v1/users", "list");
  r.add("POST", "/api/v1/users", "create");
  r.add("GET", "/api/v1/users/{id}", "get");
  r.add("DELETE", "/api/v1/users/{id}", "delete");
  r.add("GET", "/api/v1/users/error", "error");
  r.add("GET", "/orgs/{org}/repos/{repo}", "repo");
  r.add("GET", "/", "root");
  return r;
}

TEST(Router, LiteralPathMatchesItsHandler) {
  auto r = sample_router();
  auto m = r.match("GET", "/api/v1/users");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(*m.handler, "list");
  EXPECT_EQ(m.route, "/api/v1/users");
  EXPECT_EQ(*r.match("POST", "/api/v1/users").handler, "create");
  EXPECT_EQ(*r.match("GET", "/").handler, "root");
}

TEST(Router, ParametersAreCapturedByName) {
  auto r = sample_router();
  auto m = r.match("GET", "/orgs/acme/repos/rocket");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(*m.handler, "repo");
  EXPECT_EQ(m.route, "/orgs/{org}/repos/{repo}");
  EXPECT_EQ(m.param("org"), "acme");
  EXPECT_EQ(m.param("repo"), "rocket");
  EXPECT_EQ(m.param("missing"), "");
}

TEST(Router, LiteralSegmentBeatsAParameterWhateverTheOrderAdded) {
  auto r = sample_router();
  auto m = r.match("GET", "/api/v1/users/error");
  ASSERT_EQ(m.kind, Kind::found);
  EXPECT_EQ(*m.handler, "error");
  EXPECT_EQ(*r.match("GET", "/api/v1/users/42").handler, "get");
  EXPECT_EQ(r.match("GET", "/api/v1/users/42").param("id"), "42");
}

TEST(Router, KnownPathWithAnotherMethodIsMethodNotAllowedWithTheAllowedMethods) {
  auto r = sample_router();
  auto m = r.match("PUT", "/api/v1/users/42");
  EXPECT_EQ(m.kind, Kind::method_not_allowed);
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_EQ(m.allowed, (std::vector<std::string_view>{"GET", "DELETE"}));
}

TEST(Router, UnknownPathIsNotFound) {
  auto r = sample_router();
  EXPECT_EQ(r.match("GET", "/api/v2/users").kind, Kind::not_found);
  EXPECT_EQ(r.match("GET", "/api/v1/users/42/extra").kind, Kind::not_found);
  EXPECT_TRUE(r.match("GET", "/nope").route.empty());
}

TEST(Router, EmptySegmentNeverFillsAParameterAndATrailingSlashIsAnotherPath) {
  auto r = sample_router();
  EXPECT_EQ(r.match("GET", "/api/v1/users/").kind, Kind::not_found);
  EXPECT_EQ(r.match("GET", "/orgs//repos/x").kind, Kind::not_found);
}

}  // namespace
}  // namespace trafficsim::http
