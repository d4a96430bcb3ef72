#include "http/url.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <string>

namespace trafficsim::http {
namespace {

Url parse_ok(const std::string& text) {
  std::string error;
  auto url = parse_url(text, &error);
  EXPECT_TRUE(url.has_value()) << text << ": " << error;
  EXPECT_EQ(error, "") << text;
  return url.value_or(Url{});
}

std::string parse_error(const std::string& text) {
  std::string error;
  auto url = parse_url(text, &error);
  EXPECT_FALSE(url.has_value()) << text;
  EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
  return error;
}

TEST(UrlTest, PlainHttp) {
  const Url u = parse_ok("http://example.com/path/to?x=1&y=%20z#frag");
  EXPECT_EQ(u.scheme, "http");
  EXPECT_EQ(u.host, "example.com");
  EXPECT_EQ(u.port, 80);
  EXPECT_EQ(u.target, "/path/to?x=1&y=%20z");
  EXPECT_FALSE(u.tls());
  EXPECT_EQ(u.host_header(), "example.com");
  EXPECT_EQ(u.origin(), "http://example.com");
}

TEST(UrlTest, UppercaseSchemeDefaultsToHttpsPortAndRootTarget) {
  const Url u = parse_ok("HTTPS://Example.com");
  EXPECT_EQ(u.scheme, "https");
  EXPECT_TRUE(u.tls());
  EXPECT_EQ(u.host, "example.com");
  EXPECT_EQ(u.port, 443);
  EXPECT_EQ(u.target, "/");
  EXPECT_EQ(u.host_header(), "example.com");
  EXPECT_EQ(u.origin(), "https://example.com");
}

TEST(UrlTest, ExplicitPorts) {
  Url u = parse_ok("http://localhost:8080");
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(u.target, "/");
  EXPECT_EQ(u.host_header(), "localhost:8080");
  EXPECT_EQ(u.origin(), "http://localhost:8080");

  u = parse_ok("https://h:443/");
  EXPECT_EQ(u.host_header(), "h");  // the default is left out even when written
  u = parse_ok("https://h:80/");
  EXPECT_EQ(u.host_header(), "h:80");
  u = parse_ok("http://h:1/");
  EXPECT_EQ(u.port, 1);
  u = parse_ok("http://h:65535/");
  EXPECT_EQ(u.port, 65535);
  EXPECT_EQ(parse_ok("http://h:000080/").port, 80);
  u = parse_ok("http://h:/x");  // empty port means the default
  EXPECT_EQ(u.port, 80);
}

TEST(UrlTest, Ipv6Literal) {
  const Url u = parse_ok("http://[::1]:8080/a?b=c");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(u.target, "/a?b=c");
  EXPECT_EQ(u.host_header(), "[::1]:8080");
  EXPECT_EQ(u.origin(), "http://[::1]:8080");
  EXPECT_EQ(parse_ok("https://[2001:db8::7]/").host_header(), "[2001:db8::7]");
}

TEST(UrlTest, Ipv4Literal) {
  const Url u = parse_ok("http://127.0.0.1:9000/x");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.host_header(), "127.0.0.1:9000");
}

TEST(UrlTest, TargetKeepsEncodingAndEmptyQuery) {
  EXPECT_EQ(parse_ok("http://h/a%2Fb/c%20d").target, "/a%2Fb/c%20d");
  EXPECT_EQ(parse_ok("http://h?q=1").target, "/?q=1");
  EXPECT_EQ(parse_ok("http://h/p?").target, "/p?");
  EXPECT_EQ(parse_ok("http://h/p#only-fragment").target, "/p");
}

TEST(UrlTest, Rejected) {
  EXPECT_EQ(parse_error("ftp://x"), "unsupported scheme 'ftp' (use http or https)");
  EXPECT_EQ(parse_error("FTP://x/"), "unsupported scheme 'FTP' (use http or https)");
  EXPECT_EQ(parse_error("ws://x/"), "unsupported scheme 'ws' (use http or https)");
  EXPECT_EQ(parse_error("http://"), "missing host");
  EXPECT_EQ(parse_error("http:///path"), "missing host");
  EXPECT_EQ(parse_error("http:path"), "missing host");
  EXPECT_EQ(parse_error("http://h:99999/"), "invalid port '99999'");
  EXPECT_EQ(parse_error("http://h:0/"), "invalid port '0'");
  EXPECT_EQ(parse_error("http://h:abc/"), "invalid port 'abc'");
  EXPECT_EQ(parse_error("http://h:1a/x"), "invalid port '1a'");
  EXPECT_EQ(parse_error("http://h:8o?q"), "invalid port '8o'");
  EXPECT_EQ(parse_error("http://h:65536/"), "invalid port '65536'");
  EXPECT_EQ(parse_error("http://h:99999999999999999999/"), "invalid port '99999999999999999999'");
  EXPECT_NE(parse_error("http://user:pw@h/").find("userinfo"), std::string::npos);
  EXPECT_NE(parse_error("http://@h/").find("userinfo"), std::string::npos);
  for (const char* bad : {"", "example.com", "/relative", "http://a b/", "http://[::1/", "://x"}) {
    EXPECT_EQ(parse_error(bad).rfind("malformed URL: ", 0), 0u) << bad;
  }
}

TEST(UrlTest, NullErrorPointerIsAllowed) {
  EXPECT_FALSE(parse_url("ftp://x", nullptr).has_value());
  EXPECT_TRUE(parse_url("http://x", nullptr).has_value());
}

TEST(ResolveTest, LocalhostHasALoopbackAddress) {
  std::string error;
  const auto addrs = resolve("localhost", 80, &error);
  ASSERT_FALSE(addrs.empty()) << error;
  bool loopback = false;
  for (const auto& a : addrs) {
    EXPECT_GT(a.len, 0u);
    EXPECT_TRUE(a.family == AF_INET || a.family == AF_INET6);
    EXPECT_EQ(a.addr.ss_family, a.family);
    if (a.text == "127.0.0.1:80" || a.text == "[::1]:80") loopback = true;
  }
  EXPECT_TRUE(loopback) << addrs.front().text;
}

TEST(ResolveTest, NumericAddresses) {
  std::string error;
  auto v4 = resolve("127.0.0.1", 8080, &error);
  ASSERT_EQ(v4.size(), 1u) << error;
  EXPECT_EQ(v4[0].text, "127.0.0.1:8080");
  EXPECT_EQ(v4[0].family, AF_INET);
  const auto* sin = reinterpret_cast<const sockaddr_in*>(&v4[0].addr);
  EXPECT_EQ(ntohs(sin->sin_port), 8080);
  EXPECT_EQ(v4[0].len, sizeof(sockaddr_in));

  auto v6 = resolve("::1", 8080, &error);
  ASSERT_EQ(v6.size(), 1u) << error;
  EXPECT_EQ(v6[0].text, "[::1]:8080");
  EXPECT_EQ(v6[0].family, AF_INET6);
  EXPECT_EQ(v6[0].len, sizeof(sockaddr_in6));
}

TEST(ResolveTest, UnknownHostFails) {
  std::string error;
  const auto addrs = resolve("no-such-host.invalid", 80, &error);
  EXPECT_TRUE(addrs.empty());
  EXPECT_EQ(error.rfind("cannot resolve host 'no-such-host.invalid': ", 0), 0u) << error;
  EXPECT_GT(error.size(), std::string("cannot resolve host 'no-such-host.invalid': ").size());
}

}  // namespace
}  // namespace trafficsim::http
