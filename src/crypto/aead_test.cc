// Known-answer tests for AES-256-GCM (McGrew and Viega, "The Galois/Counter Mode of Operation",
// test cases 13-16, the AES-256 cases of the GCM specification submitted to NIST), and behaviour
// tests for the sealed format: round trips, tamper detection, associated-data binding and nonce
// freshness.

#include "crypto/aead.h"

#include <gtest/gtest.h>

#include <string>

#include "crypto/hash.h"
#include "crypto/test_hex.h"

namespace perimeter::crypto {
namespace {

using test_support::HexDecode;

SecretBytes KeyFromHex(std::string_view hex) { return SecretBytes(HexDecode(hex)); }

SecretBytes TestKey(char fill) { return SecretBytes(std::string(kAeadKeyBytes, fill)); }

struct GcmVector {
  const char* name;
  const char* key;
  const char* iv;
  const char* plaintext;
  const char* aad;
  const char* ciphertext;
  const char* tag;
};

constexpr char kZeroKey[] = "0000000000000000000000000000000000000000000000000000000000000000";
constexpr char kKey15[] = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308";
constexpr char kIv15[] = "cafebabefacedbaddecaf888";
constexpr char kPlaintext15[] =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
constexpr char kPlaintext16[] =
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
constexpr char kAad16[] = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
constexpr char kCiphertext16[] =
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662";
constexpr char kTag16[] = "76fc6ece0f4e1768cddf8853bb2d551b";

const GcmVector kGcmSpecVectors[] = {
    {"test case 13 (empty plaintext)", kZeroKey, "000000000000000000000000", "", "", "",
     "530f8afbc74536b9a963b4f1c4cb738b"},
    {"test case 14 (one zero block)", kZeroKey, "000000000000000000000000",
     "00000000000000000000000000000000", "", "cea7403d4d606b6e074ec5d3baf39d18",
     "d0d1c8a799996bf0265b98b5d48ab919"},
    {"test case 15 (four blocks)", kKey15, kIv15, kPlaintext15, "",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"test case 16 (associated data, partial block)", kKey15, kIv15, kPlaintext16, kAad16,
     kCiphertext16, kTag16},
};

TEST(AesGcmTest, EncryptionMatchesGcmSpecAes256Vectors) {
  for (const GcmVector& v : kGcmSpecVectors) {
    SCOPED_TRACE(v.name);
    Result<std::string> out = internal::AesGcmEncryptWithNonceForTest(
        KeyFromHex(v.key), HexDecode(v.iv), HexDecode(v.plaintext), HexDecode(v.aad));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(HexEncode(*out), std::string(v.ciphertext) + v.tag);
  }
}

TEST(AeadOpenTest, OpensGcmSpecVectorWrappedInSealedFormat) {
  // Test case 16 laid out as version || nonce || ciphertext || tag checks the decryption path
  // (and the layout) against a published answer rather than against our own encryption.
  const std::string sealed =
      std::string(1, '\x01') + HexDecode(kIv15) + HexDecode(kCiphertext16) + HexDecode(kTag16);
  Result<SecretBytes> opened = AeadOpen(KeyFromHex(kKey15), sealed, HexDecode(kAad16));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(HexEncode(opened->RevealSecretForUse()), kPlaintext16);
}

TEST(AeadSealTest, RoundTripsPlaintextAndAssociatedData) {
  const SecretBytes key = TestKey('k');
  for (std::string plaintext :
       {std::string(), std::string("x"), std::string(1000, 'p'), std::string("bin\0ary", 7)}) {
    for (std::string aad : {std::string(), std::string("AKIAEXAMPLE")}) {
      Result<std::string> sealed = AeadSeal(key, plaintext, aad);
      ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
      EXPECT_EQ(sealed->size(), plaintext.size() + kAeadOverheadBytes);
      EXPECT_EQ(static_cast<uint8_t>((*sealed)[0]), kAeadFormatVersion);
      Result<SecretBytes> opened = AeadOpen(key, *sealed, aad);
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      EXPECT_EQ(opened->RevealSecretForUse(), plaintext);
    }
  }
}

TEST(AeadSealTest, CiphertextDoesNotContainPlaintext) {
  const std::string plaintext = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  Result<std::string> sealed = AeadSeal(TestKey('k'), plaintext, "aad");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->find(plaintext), std::string::npos);
  EXPECT_EQ(sealed->find("wJalrXUtnFEMI"), std::string::npos);
}

TEST(AeadSealTest, SealingTheSamePlaintextTwiceGivesDifferentOutputs) {
  const SecretBytes key = TestKey('k');
  Result<std::string> a = AeadSeal(key, "same plaintext", "same aad");
  Result<std::string> b = AeadSeal(key, "same plaintext", "same aad");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_NE(*a, *b);
  // The difference starts in the nonce: callers never supply one, so each seal draws its own.
  EXPECT_NE(a->substr(1, kAeadNonceBytes), b->substr(1, kAeadNonceBytes));
}

TEST(AeadOpenTest, RejectsEveryModifiedByteAsUnauthenticated) {
  const SecretBytes key = TestKey('k');
  Result<std::string> sealed = AeadSeal(key, "secret access key material", "AKIAEXAMPLE");
  ASSERT_TRUE(sealed.ok());
  // Byte 0 is the version; changing it is a format error, tested separately below.
  for (size_t i = 1; i < sealed->size(); ++i) {
    for (uint8_t flip : {0x01, 0x80}) {
      std::string tampered = *sealed;
      tampered[i] = static_cast<char>(tampered[i] ^ flip);
      Result<SecretBytes> opened = AeadOpen(key, tampered, "AKIAEXAMPLE");
      ASSERT_FALSE(opened.ok()) << "byte " << i << " flip " << int{flip};
      EXPECT_EQ(opened.status().code(), StatusCode::kUnauthenticated) << "byte " << i;
    }
  }
}

TEST(AeadOpenTest, RejectsDifferentAssociatedDataWithoutRevealingIt) {
  const SecretBytes key = TestKey('k');
  Result<std::string> sealed = AeadSeal(key, "the plaintext", "AKIAFIRSTKEY");
  ASSERT_TRUE(sealed.ok());
  for (std::string_view aad : {"AKIASECONDKEY", "", "AKIAFIRSTKE", "akiafirstkey"}) {
    Result<SecretBytes> opened = AeadOpen(key, *sealed, aad);
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(opened.status().message().find("AKIA"), std::string::npos);
    EXPECT_EQ(opened.status().message().find("the plaintext"), std::string::npos);
  }
  // Embedded NUL: "AKIAFIRSTKEY" followed by a zero byte is different associated data.
  Result<SecretBytes> with_nul = AeadOpen(key, *sealed, std::string_view("AKIAFIRSTKEY\0", 13));
  EXPECT_EQ(with_nul.status().code(), StatusCode::kUnauthenticated);
}

TEST(AeadOpenTest, RejectsWrongKeyAsUnauthenticated) {
  Result<std::string> sealed = AeadSeal(TestKey('a'), "the plaintext", "aad");
  ASSERT_TRUE(sealed.ok());
  Result<SecretBytes> opened = AeadOpen(TestKey('b'), *sealed, "aad");
  EXPECT_EQ(opened.status().code(), StatusCode::kUnauthenticated);
}

TEST(AeadOpenTest, RejectsTruncatedOrUnknownVersionAsInvalidArgument) {
  const SecretBytes key = TestKey('k');
  Result<std::string> sealed = AeadSeal(key, "", "aad");
  ASSERT_TRUE(sealed.ok());
  ASSERT_EQ(sealed->size(), kAeadOverheadBytes);

  for (size_t n = 0; n < kAeadOverheadBytes; ++n) {
    Result<SecretBytes> opened = AeadOpen(key, sealed->substr(0, n), "aad");
    ASSERT_FALSE(opened.ok()) << n;
    EXPECT_EQ(opened.status().code(), StatusCode::kInvalidArgument) << n;
    EXPECT_NE(opened.status().message().find("truncated or not from this version"),
              std::string::npos);
  }
  for (char version : {'\x00', '\x02', '\xff'}) {
    std::string other = *sealed;
    other[0] = version;
    Result<SecretBytes> opened = AeadOpen(key, other, "aad");
    EXPECT_EQ(opened.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(opened.status().message().find("not from this version"), std::string::npos);
  }
}

TEST(AeadTest, RejectsKeysThatAreNot32Bytes) {
  Result<std::string> good = AeadSeal(TestKey('k'), "p", "");
  ASSERT_TRUE(good.ok());
  for (size_t size : {size_t{0}, size_t{16}, size_t{24}, size_t{31}, size_t{33}, size_t{64}}) {
    const SecretBytes key(std::string(size, 'k'));
    EXPECT_EQ(AeadSeal(key, "p", "").status().code(), StatusCode::kInvalidArgument) << size;
    EXPECT_EQ(AeadOpen(key, *good, "").status().code(), StatusCode::kInvalidArgument) << size;
    EXPECT_EQ(internal::AesGcmEncryptWithNonceForTest(key, std::string(12, '\0'), "p", "")
                  .status()
                  .code(),
              StatusCode::kInvalidArgument)
        << size;
  }
}

TEST(AeadSealTest, RejectsPlaintextAndAssociatedDataOverTheirBounds) {
  const SecretBytes key = TestKey('k');
  const std::string too_big(kAeadMaxPlaintextBytes + 1, 'p');
  EXPECT_EQ(AeadSeal(key, too_big, "").status().code(), StatusCode::kInvalidArgument);
  const std::string big_aad(kAeadMaxAssociatedDataBytes + 1, 'a');
  EXPECT_EQ(AeadSeal(key, "p", big_aad).status().code(), StatusCode::kInvalidArgument);

  // Exactly at the associated-data bound is accepted and round-trips.
  const std::string max_aad(kAeadMaxAssociatedDataBytes, 'a');
  Result<std::string> sealed = AeadSeal(key, "p", max_aad);
  ASSERT_TRUE(sealed.ok());
  EXPECT_TRUE(AeadOpen(key, *sealed, max_aad).ok());
  EXPECT_EQ(AeadOpen(key, *sealed, big_aad).status().code(), StatusCode::kInvalidArgument);
}

TEST(AesGcmTest, TestHookRejectsNoncesThatAreNot12Bytes) {
  for (size_t size : {size_t{0}, size_t{8}, size_t{16}}) {
    EXPECT_EQ(internal::AesGcmEncryptWithNonceForTest(TestKey('k'), std::string(size, 'n'), "p", "")
                  .status()
                  .code(),
              StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace perimeter::crypto
