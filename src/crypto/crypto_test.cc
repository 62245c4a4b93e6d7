// Known-answer tests for the crypto primitives (FIPS 180-2 examples for SHA-256, RFC 4231 for
// HMAC-SHA256) and behaviour tests for the misuse-resistant wrappers.

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <type_traits>

#include "crypto/constant_time.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/hmac.h"
#include "crypto/random.h"
#include "crypto/secret.h"

namespace perimeter::crypto {
namespace {

std::string Repeat(char c, size_t n) { return std::string(n, c); }

std::string HexOf(const HmacSha256Tag& tag) { return HexEncode(TagBytes(tag)); }

TEST(Sha256Test, MatchesFips180KnownAnswers) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(Repeat('a', 1000000)),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, DigestBytesMatchHex) {
  const Sha256Digest digest = Sha256("abc");
  EXPECT_EQ(digest[0], 0xba);
  EXPECT_EQ(digest[31], 0xad);
  EXPECT_EQ(HexEncode(digest), Sha256Hex("abc"));
}

TEST(Sha256HasherTest, IncrementalUpdatesEqualOneShot) {
  const std::string body = Repeat('a', 1000000);
  Sha256Hasher hasher;
  // Uneven pieces, including an empty one, cross block boundaries.
  size_t pos = 0;
  for (size_t piece : {0u, 1u, 63u, 64u, 65u, 4096u, 100000u}) {
    hasher.Update(std::string_view(body).substr(pos, piece));
    pos += piece;
  }
  hasher.Update(std::string_view(body).substr(pos));
  EXPECT_EQ(HexEncode(hasher.Finish()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256HasherTest, FinishResetsForTheNextBody) {
  Sha256Hasher hasher;
  hasher.Update("first body");
  (void)hasher.Finish();
  hasher.Update("abc");
  EXPECT_EQ(HexEncode(hasher.Finish()), Sha256Hex("abc"));
  EXPECT_EQ(HexEncode(hasher.Finish()), Sha256Hex(""));
}

TEST(Sha256HasherTest, MovedHasherKeepsItsState) {
  Sha256Hasher a;
  a.Update("ab");
  Sha256Hasher b = std::move(a);
  b.Update("c");
  EXPECT_EQ(HexEncode(b.Finish()), Sha256Hex("abc"));
}

TEST(HexEncodeTest, EncodesEveryByteValueAsTwoLowercaseDigits) {
  EXPECT_EQ(HexEncode(std::string_view("\x00\x01\x7f\x80\xfe\xff", 6)), "00017f80feff");
  EXPECT_EQ(HexEncode(""), "");
  EXPECT_EQ(HexEncode("AZ"), "415a");
}

// RFC 4231 section 4 test cases 1-7.
TEST(HmacSha256Test, MatchesRfc4231TestCase1) {
  EXPECT_EQ(HexOf(HmacSha256(Repeat('\x0b', 20), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(HmacSha256Test, MatchesRfc4231TestCase2ShortKey) {
  EXPECT_EQ(HexOf(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(HmacSha256Test, MatchesRfc4231TestCase3) {
  EXPECT_EQ(HexOf(HmacSha256(Repeat('\xaa', 20), Repeat('\xdd', 50))),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
}

TEST(HmacSha256Test, MatchesRfc4231TestCase4) {
  std::string key;
  for (int i = 1; i <= 25; ++i) {
    key.push_back(static_cast<char>(i));
  }
  EXPECT_EQ(HexOf(HmacSha256(key, Repeat('\xcd', 50))),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
}

TEST(HmacSha256Test, MatchesRfc4231TestCase5TruncatedTo128Bits) {
  EXPECT_EQ(HexOf(HmacSha256(Repeat('\x0c', 20), "Test With Truncation")).substr(0, 32),
            "a3b6167473100ee06e0c796c2955552b");
}

TEST(HmacSha256Test, MatchesRfc4231TestCase6KeyLongerThanBlock) {
  EXPECT_EQ(HexOf(HmacSha256(Repeat('\xaa', 131),
                             "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256Test, MatchesRfc4231TestCase7KeyAndDataLongerThanBlock) {
  EXPECT_EQ(HexOf(HmacSha256(
                Repeat('\xaa', 131),
                "This is a test using a larger than block-size key and a larger than block-size "
                "data. The key needs to be hashed before being used by the HMAC algorithm.")),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(HmacSha256Test, AcceptsEmptyKeyAndEmptyData) {
  // HMAC-SHA256("", "") is a fixed, well-known value.
  EXPECT_EQ(HexOf(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(SecretBytesTest, RevealReturnsTheBytesIncludingNul) {
  const std::string raw("k\0ey", 4);
  SecretBytes secret(raw);
  EXPECT_EQ(secret.size(), 4u);
  EXPECT_FALSE(secret.empty());
  EXPECT_EQ(secret.RevealSecretForUse(), raw);
}

TEST(SecretBytesTest, MoveTransfersOwnershipAndEmptiesTheSource) {
  SecretBytes a("top secret");
  const char* buffer = a.RevealSecretForUse().data();
  SecretBytes b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is the contract
  EXPECT_EQ(a.RevealSecretForUse(), "");
  EXPECT_EQ(b.RevealSecretForUse(), "top secret");
  // The heap buffer itself moved: no second copy of the secret was made.
  EXPECT_EQ(b.RevealSecretForUse().data(), buffer);

  SecretBytes c("other");
  c = std::move(b);
  EXPECT_EQ(c.RevealSecretForUse(), "top secret");
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
}

TEST(SecretBytesTest, CloneIsAnIndependentCopy) {
  SecretBytes a("abc");
  SecretBytes b = a.Clone();
  EXPECT_EQ(b.RevealSecretForUse(), "abc");
  EXPECT_NE(a.RevealSecretForUse().data(), b.RevealSecretForUse().data());
}

TEST(SecretBytesTest, FromAndWipeClearsTheSourceString) {
  std::string source = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  const std::string expected = source;
  SecretBytes secret = SecretBytes::FromAndWipe(&source);
  EXPECT_TRUE(source.empty());
  EXPECT_EQ(secret.RevealSecretForUse(), expected);
}

TEST(SecretBytesTest, DefaultIsEmpty) {
  SecretBytes secret;
  EXPECT_TRUE(secret.empty());
  EXPECT_EQ(secret.RevealSecretForUse(), "");
}

// Compile-time contract: move-only and not streamable.
template <typename T, typename = void>
struct IsStreamable : std::false_type {};
template <typename T>
struct IsStreamable<T, std::void_t<decltype(std::declval<std::ostream&>() << std::declval<T>())>>
    : std::true_type {};

static_assert(!std::is_copy_constructible_v<SecretBytes>);
static_assert(!std::is_copy_assignable_v<SecretBytes>);
static_assert(std::is_nothrow_move_constructible_v<SecretBytes>);
static_assert(!IsStreamable<const SecretBytes&>::value);
static_assert(!std::is_convertible_v<SecretBytes, std::string>);
static_assert(!std::is_convertible_v<SecretBytes, std::string_view>);

TEST(ConstantTimeEqualsTest, EqualInputsAreEqual) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_TRUE(ConstantTimeEquals(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
}

TEST(ConstantTimeEqualsTest, DifferingBytesAreUnequalWherever) {
  EXPECT_FALSE(ConstantTimeEquals("abc", "xbc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "axc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abx"));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST(ConstantTimeEqualsTest, LengthMismatchIsUnequalEvenWithCommonPrefix) {
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_FALSE(ConstantTimeEquals("abcd", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_FALSE(ConstantTimeEquals("a", ""));
}

TEST(RandomBytesTest, ReturnsTheRequestedLength) {
  for (size_t n : {0u, 1u, 16u, 32u, 1000u}) {
    Result<std::string> bytes = RandomBytes(n);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_EQ(bytes->size(), n);
  }
}

TEST(RandomBytesTest, SuccessiveCallsDiffer) {
  // 32 random bytes colliding has probability 2^-256; a repeat means the generator is broken.
  std::set<std::string> seen;
  for (int i = 0; i < 64; ++i) {
    Result<std::string> bytes = RandomBytes(32);
    ASSERT_TRUE(bytes.ok());
    EXPECT_TRUE(seen.insert(*bytes).second);
  }
}

TEST(RandomBytesTest, RejectsOversizedRequest) {
  Result<std::string> bytes = RandomBytes(kMaxRandomBytes + 1);
  ASSERT_FALSE(bytes.ok());
  EXPECT_EQ(bytes.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bytes.status().message().find("at most"), std::string::npos);
}

TEST(RandomHexTest, ReturnsTwoLowercaseHexDigitsPerByte) {
  const std::string hex = RandomHex(16);
  ASSERT_EQ(hex.size(), 32u);
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(RandomHex(16), hex);
}

TEST(RandomHexDeathTest, AbortsOnOversizedRequest) {
  EXPECT_DEATH(RandomHex(kMaxRandomBytes + 1), "at most");
}

TEST(Ed25519PemTest, PublicKeyRoundTripsThroughPem) {
  auto key = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(key.ok());
  auto pem = Ed25519PublicKeyPem(key->PublicKey());
  ASSERT_TRUE(pem.ok());
  auto raw = Ed25519PublicKeyFromPem(*pem);
  ASSERT_TRUE(raw.ok()) << raw.status().message();
  EXPECT_EQ(*raw, key->PublicKey());
}

TEST(Ed25519PemTest, RefusesWhatIsNotAnEd25519PublicKey) {
  EXPECT_EQ(Ed25519PublicKeyFromPem("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Ed25519PublicKeyFromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  // An EC P-256 public key is a valid SPKI PEM but not Ed25519.
  const char* p256 =
      "-----BEGIN PUBLIC KEY-----\n"
      "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEGu1hYfxFfE/Phm1IV4G7yP9RC0Nw\n"
      "8f5kRfLjJrxvJXV6lmrfeHXyjJTK5ZH9X4UEbyy3DnK5mVJYzAQb+nddvQ==\n"
      "-----END PUBLIC KEY-----\n";
  auto r = Ed25519PublicKeyFromPem(p256);
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace perimeter::crypto
