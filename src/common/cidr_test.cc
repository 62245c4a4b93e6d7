#include "common/cidr.h"

#include <gtest/gtest.h>

namespace perimeter {
namespace {

bool In(const char* cidr, const char* ip) {
  auto c = Cidr::Parse(cidr);
  auto a = IpAddress::Parse(ip);
  EXPECT_TRUE(c.ok()) << cidr;
  EXPECT_TRUE(a.ok()) << ip;
  return c.ok() && a.ok() && c->Contains(*a);
}

TEST(CidrTest, MatchesV4AndV6Blocks) {
  EXPECT_TRUE(In("10.0.0.0/8", "10.200.1.1"));
  EXPECT_FALSE(In("10.0.0.0/8", "11.0.0.1"));
  EXPECT_TRUE(In("127.0.0.1", "127.0.0.1"));
  EXPECT_FALSE(In("127.0.0.1", "127.0.0.2"));
  EXPECT_TRUE(In("0.0.0.0/0", "8.8.8.8"));
  EXPECT_TRUE(In("fd00::/8", "fd12::1"));
  EXPECT_FALSE(In("fd00::/8", "fe80::1"));
  EXPECT_FALSE(In("::/0", "1.2.3.4"));
}

TEST(CidrTest, MappedV4AddressMatchesV4Block) {
  EXPECT_TRUE(In("127.0.0.0/8", "::ffff:127.0.0.5"));
}

TEST(CidrTest, RejectsHostBitsBadPrefixAndGarbage) {
  EXPECT_FALSE(Cidr::Parse("10.1.2.3/8").ok());
  EXPECT_FALSE(Cidr::Parse("10.0.0.0/33").ok());
  EXPECT_FALSE(Cidr::Parse("10.0.0.0/").ok());
  EXPECT_FALSE(Cidr::Parse("banana/8").ok());
}

}  // namespace
}  // namespace perimeter
