#include "codec/base64.h"

#include <gtest/gtest.h>

#include <string>

namespace perimeter::codec {
namespace {

TEST(Base64Test, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(Base64Test, DecodesRfc4648Vectors) {
  for (const auto& [plain, encoded] :
       std::vector<std::pair<std::string, std::string>>{{"", ""},
                                                        {"f", "Zg=="},
                                                        {"fo", "Zm8="},
                                                        {"foo", "Zm9v"},
                                                        {"foob", "Zm9vYg=="},
                                                        {"fooba", "Zm9vYmE="},
                                                        {"foobar", "Zm9vYmFy"}}) {
    const auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded << ": " << decoded.status().ToString();
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64Test, UsesTheStandardAlphabetForHighBytes) {
  EXPECT_EQ(Base64Encode(std::string("\xfb\xff\xbf", 3)), "+/+/");
  const auto decoded = Base64Decode("+/+/");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, std::string("\xfb\xff\xbf", 3));
}

TEST(Base64Test, RoundTripsEveryByteValueAtEveryLength) {
  std::string data;
  for (int i = 0; i < 256 * 3 + 2; ++i) {
    data.push_back(static_cast<char>((i * 131 + 7) & 0xFF));
  }
  for (size_t n = 0; n <= data.size(); n += 1 + n / 16) {
    const std::string plain = data.substr(0, n);
    const std::string encoded = Base64Encode(plain);
    EXPECT_EQ(encoded.size(), (n + 2) / 3 * 4);
    const auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64Test, RejectsLengthNotMultipleOfFour) {
  for (const char* bad : {"Z", "Zg", "Zg=", "Zm9vY", "Zm9vYmFy="}) {
    const auto r = Base64Decode(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("not a multiple of 4"), std::string::npos);
  }
}

TEST(Base64Test, RejectsCharactersOutsideTheStandardAlphabet) {
  for (const char* bad : {"Zm9-", "Zm9_", "Zm 9", "Zm9\n", "Zm9v\r\nYmFy", "Zm.v"}) {
    const auto r = Base64Decode(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  const auto r = Base64Decode("Zm9-");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("invalid character '-' at offset 3"), std::string::npos)
      << r.status().message();
  const auto nul = Base64Decode(std::string("Zm\0v", 4));
  ASSERT_FALSE(nul.ok());
  EXPECT_NE(nul.status().message().find("0x00 at offset 2"), std::string::npos)
      << nul.status().message();
}

TEST(Base64Test, RejectsPaddingAnywhereButTheEnd) {
  for (const char* bad : {"====", "Z===", "Zg==Zg==", "Z=g=", "=Zg="}) {
    const auto r = Base64Decode(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("padding"), std::string::npos) << r.status().message();
  }
}

TEST(Base64Test, RejectsNonCanonicalTrailingBits) {
  // "Zg==" is 'f'; "Zh==" sets one of the four unused bits. "Zm8=" is "fo"; "Zm9=" sets one of
  // the two unused bits.
  for (const char* bad : {"Zh==", "Zm9="}) {
    const auto r = Base64Decode(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("non-zero unused bits"), std::string::npos);
  }
}

}  // namespace
}  // namespace perimeter::codec
