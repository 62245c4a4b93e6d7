#include "http/client.h"

#include <gtest/gtest.h>

namespace perimeter::http {
namespace {

TEST(UpstreamUrlTest, ParsesSchemeHostPortAndBasePath) {
  auto u = UpstreamUrl::Parse("http://127.0.0.1:8000/v1/");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8000);
  EXPECT_EQ(u->base_path, "/v1");
  EXPECT_EQ(u->HostHeader(), "127.0.0.1:8000");
}

TEST(UpstreamUrlTest, DefaultsHttpsPortAndOmitsItFromHostHeader) {
  auto u = UpstreamUrl::Parse("https://bedrock-runtime.eu-west-1.amazonaws.com");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->base_path, "");
  EXPECT_EQ(u->HostHeader(), "bedrock-runtime.eu-west-1.amazonaws.com");
}

TEST(UpstreamUrlTest, ParsesBracketedIpv6) {
  auto u = UpstreamUrl::Parse("http://[::1]:9000/base");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 9000);
  EXPECT_EQ(u->HostHeader(), "[::1]:9000");
}

TEST(UpstreamUrlTest, RejectsWhatItCannotUseSafely) {
  for (const char* bad : {"ftp://x", "http://", "http://user:pw@host/", "http://h/p?q=1",
                          "http://h:0/", "http://h:99999/", "http://h:12ab/", "http://[::1/"}) {
    EXPECT_FALSE(UpstreamUrl::Parse(bad).ok()) << bad;
  }
}

TEST(HttpClientTest, RejectsUnreadableCaFile) {
  auto u = UpstreamUrl::Parse("https://127.0.0.1:1");
  ClientOptions o;
  o.ca_file = "/nonexistent/ca.pem";
  auto c = HttpClient::Create(*u, o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/nonexistent/ca.pem"), std::string::npos);
}

}  // namespace
}  // namespace perimeter::http
