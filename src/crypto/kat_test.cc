// Known-answer tests against published vectors, plus contract tests for the new primitives:
// - HMAC-SHA256: RFC 4231 section 4, test cases 1-7 (case 5 is truncated to 128 bits).
// - HKDF-SHA256: RFC 5869 appendix A, test cases 1-3.
// - Ed25519: RFC 8032 section 7.1, TEST 1, TEST 2, TEST 3 and TEST SHA(abc).
// - Interoperability: `openssl pkeyutl` verifies our signature with our PEM export.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/hkdf.h"
#include "crypto/hmac.h"
#include "crypto/test_hex.h"

namespace perimeter::crypto {
namespace {

using test_support::HexDecode;

// Bytes from..to inclusive, as RFC 5869 test case 2 writes its inputs (0x00..0x4f etc.).
std::string ByteRange(int from, int to) {
  std::string out;
  for (int b = from; b <= to; ++b) {
    out.push_back(static_cast<char>(b));
  }
  return out;
}

std::string FlipBit(std::string s, size_t byte, int bit) {
  s[byte] = static_cast<char>(s[byte] ^ (1 << bit));
  return s;
}

// ---------------------------------------------------------------------------------------------
// RFC 4231: HMAC-SHA256.

struct HmacVector {
  const char* name;
  std::string key;
  std::string data;
  const char* mac;  // hex; shorter than 64 digits means a truncated MAC (a prefix)
};

std::vector<HmacVector> Rfc4231Vectors() {
  const std::string key_aa_131(131, '\xaa');
  return {
      {"case 1", std::string(20, '\x0b'), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"case 2", "Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {"case 3", std::string(20, '\xaa'), std::string(50, '\xdd'),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {"case 4", ByteRange(0x01, 0x19), std::string(50, '\xcd'),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {"case 5 (truncated to 128 bits)", std::string(20, '\x0c'), "Test With Truncation",
       "a3b6167473100ee06e0c796c2955552b"},
      {"case 6", key_aa_131, "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {"case 7", key_aa_131,
       "This is a test using a larger than block-size key and a larger than block-size data. "
       "The key needs to be hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
}

TEST(KnownAnswerTest, HmacSha256MatchesRfc4231) {
  for (const HmacVector& v : Rfc4231Vectors()) {
    SCOPED_TRACE(v.name);
    const std::string mac = HexEncode(TagBytes(HmacSha256(v.key, v.data)));
    const std::string expected = v.mac;
    ASSERT_GE(mac.size(), expected.size());
    EXPECT_EQ(mac.substr(0, expected.size()), expected);
  }
}

TEST(KnownAnswerTest, HmacSha256ChangesWithOneFlippedKeyBit) {
  const HmacVector v = Rfc4231Vectors()[0];
  EXPECT_NE(HexEncode(TagBytes(HmacSha256(FlipBit(v.key, 0, 0), v.data))), v.mac);
}

// ---------------------------------------------------------------------------------------------
// RFC 5869: HKDF-SHA256.

struct HkdfVector {
  const char* name;
  std::string ikm;
  std::string salt;
  std::string info;
  size_t length;
  const char* okm;
};

std::vector<HkdfVector> Rfc5869Vectors() {
  return {
      {"A.1 basic", std::string(22, '\x0b'), ByteRange(0x00, 0x0c), ByteRange(0xf0, 0xf9), 42,
       "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
      {"A.2 longer inputs and outputs", ByteRange(0x00, 0x4f), ByteRange(0x60, 0xaf),
       ByteRange(0xb0, 0xff), 82,
       "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
       "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
       "cc30c58179ec3e87c14c01d5c1f3434f1d87"},
      {"A.3 empty salt and info", std::string(22, '\x0b'), "", "", 42,
       "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
  };
}

TEST(KnownAnswerTest, HkdfSha256MatchesRfc5869) {
  for (const HkdfVector& v : Rfc5869Vectors()) {
    SCOPED_TRACE(v.name);
    Result<SecretBytes> okm = HkdfSha256(SecretBytes(v.ikm), v.salt, v.info, v.length);
    ASSERT_TRUE(okm.ok()) << okm.status().ToString();
    EXPECT_EQ(HexEncode(okm->RevealSecretForUse()), v.okm);
  }
}

TEST(HkdfSha256Test, OutputIsAPrefixOfALongerDerivation) {
  // RFC 5869 expansion is T(1) || T(2) || ...: asking for fewer bytes truncates, so length is not
  // a domain separator. Callers separate keys with `info`, which this documents.
  const HkdfVector v = Rfc5869Vectors()[0];
  Result<SecretBytes> short_okm = HkdfSha256(SecretBytes(v.ikm), v.salt, v.info, 16);
  ASSERT_TRUE(short_okm.ok());
  EXPECT_EQ(HexEncode(short_okm->RevealSecretForUse()), std::string(v.okm).substr(0, 32));
}

TEST(HkdfSha256Test, DifferentInfoGivesIndependentKeys) {
  const SecretBytes ikm(std::string(32, '\x42'));
  Result<SecretBytes> a = HkdfSha256(ikm, "salt", "tenant-a/audit", 32);
  Result<SecretBytes> b = HkdfSha256(ikm, "salt", "tenant-b/audit", 32);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_NE(a->RevealSecretForUse(), b->RevealSecretForUse());
}

TEST(HkdfSha256Test, AcceptsLengthBoundsAndRejectsOutsideThem) {
  const SecretBytes ikm(std::string(32, '\x01'));
  Result<SecretBytes> one = HkdfSha256(ikm, "", "", 1);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
  Result<SecretBytes> max = HkdfSha256(ikm, "", "", kHkdfSha256MaxOutputBytes);
  ASSERT_TRUE(max.ok()) << max.status().ToString();
  EXPECT_EQ(max->size(), kHkdfSha256MaxOutputBytes);

  EXPECT_EQ(HkdfSha256(ikm, "", "", 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HkdfSha256(ikm, "", "", kHkdfSha256MaxOutputBytes + 1).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(HkdfSha256Test, RejectsEmptyKeyMaterialAndOversizedInputs) {
  const SecretBytes ikm(std::string(32, '\x01'));
  EXPECT_EQ(HkdfSha256(SecretBytes(), "", "", 32).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(HkdfSha256(SecretBytes(std::string(kHkdfMaxInputKeyBytes + 1, 'k')), "", "", 32)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(HkdfSha256(ikm, std::string(kHkdfMaxSaltBytes + 1, 's'), "", 32).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(HkdfSha256(ikm, "", std::string(kHkdfMaxInfoBytes + 1, 'i'), 32).status().code(),
            StatusCode::kInvalidArgument);
  // The largest accepted inputs still derive.
  EXPECT_TRUE(
      HkdfSha256(ikm, std::string(kHkdfMaxSaltBytes, 's'), std::string(kHkdfMaxInfoBytes, 'i'), 32)
          .ok());
}

// ---------------------------------------------------------------------------------------------
// RFC 8032 section 7.1: Ed25519.

struct Ed25519Vector {
  const char* name;
  const char* seed;
  const char* public_key;
  const char* message;
  const char* signature;
};

const Ed25519Vector kRfc8032Vectors[] = {
    {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9"
     "b46bd25bf5f0595bbe24655141438e7a100b"},
    {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f1"
     "1d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984d"
     "c6594a7c15e9716ed28dc027beceea1ec40a"},
    {"TEST SHA(abc)", "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
     "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     // SHA-512("abc"), as the RFC says.
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431"
     "e0303dca179c138ac17ad9bef1177331a704"},
};

TEST(KnownAnswerTest, Ed25519SeedGivesRfc8032PublicKey) {
  for (const Ed25519Vector& v : kRfc8032Vectors) {
    SCOPED_TRACE(v.name);
    Result<Ed25519PrivateKey> key = Ed25519PrivateKey::FromSeed(SecretBytes(HexDecode(v.seed)));
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(HexEncode(key->PublicKey()), v.public_key);
    EXPECT_EQ(HexEncode(key->seed().RevealSecretForUse()), v.seed);
  }
}

TEST(KnownAnswerTest, Ed25519SignatureMatchesRfc8032Exactly) {
  for (const Ed25519Vector& v : kRfc8032Vectors) {
    SCOPED_TRACE(v.name);
    Result<Ed25519PrivateKey> key = Ed25519PrivateKey::FromSeed(SecretBytes(HexDecode(v.seed)));
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    Result<std::string> signature = key->Sign(HexDecode(v.message));
    ASSERT_TRUE(signature.ok()) << signature.status().ToString();
    EXPECT_EQ(HexEncode(*signature), v.signature);
  }
}

TEST(KnownAnswerTest, Ed25519VerifiesRfc8032Signatures) {
  for (const Ed25519Vector& v : kRfc8032Vectors) {
    SCOPED_TRACE(v.name);
    const Status st =
        Ed25519Verify(HexDecode(v.public_key), HexDecode(v.message), HexDecode(v.signature));
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
}

TEST(KnownAnswerTest, Ed25519RejectsRfc8032SignaturesWithAFlippedBit) {
  for (const Ed25519Vector& v : kRfc8032Vectors) {
    SCOPED_TRACE(v.name);
    const std::string public_key = HexDecode(v.public_key);
    const std::string message = HexDecode(v.message);
    const std::string signature = HexDecode(v.signature);
    // A bit in R, a bit in S, and (where there is one) a bit of the message.
    EXPECT_EQ(Ed25519Verify(public_key, message, FlipBit(signature, 0, 0)).code(),
              StatusCode::kUnauthenticated);
    EXPECT_EQ(Ed25519Verify(public_key, message, FlipBit(signature, 40, 3)).code(),
              StatusCode::kUnauthenticated);
    if (!message.empty()) {
      EXPECT_EQ(Ed25519Verify(public_key, FlipBit(message, 0, 7), signature).code(),
                StatusCode::kUnauthenticated);
    }
    EXPECT_EQ(Ed25519Verify(FlipBit(public_key, 1, 1), message, signature).code(),
              StatusCode::kUnauthenticated);
  }
}

TEST(Ed25519Test, RejectsSignaturesFromAnotherKey) {
  const Ed25519Vector& a = kRfc8032Vectors[1];
  const Ed25519Vector& b = kRfc8032Vectors[2];
  EXPECT_EQ(
      Ed25519Verify(HexDecode(b.public_key), HexDecode(a.message), HexDecode(a.signature)).code(),
      StatusCode::kUnauthenticated);
}

TEST(Ed25519Test, GeneratedKeysAreDistinctAndRoundTrip) {
  Result<Ed25519PrivateKey> a = Ed25519PrivateKey::Generate();
  Result<Ed25519PrivateKey> b = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(a->PublicKey().size(), kEd25519PublicKeyBytes);
  EXPECT_NE(a->PublicKey(), b->PublicKey());

  Result<std::string> signature = a->Sign("checkpoint 17");
  ASSERT_TRUE(signature.ok());
  EXPECT_EQ(signature->size(), kEd25519SignatureBytes);
  EXPECT_TRUE(Ed25519Verify(a->PublicKey(), "checkpoint 17", *signature).ok());
  EXPECT_EQ(Ed25519Verify(b->PublicKey(), "checkpoint 17", *signature).code(),
            StatusCode::kUnauthenticated);

  // The seed restores the same key.
  Result<Ed25519PrivateKey> restored = Ed25519PrivateKey::FromSeed(a->seed());
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->PublicKey(), a->PublicKey());
  EXPECT_EQ(restored->Sign("checkpoint 17").value(), *signature);
}

TEST(Ed25519Test, MovedKeyKeepsSigningAndMovedFromKeyRefuses) {
  Result<Ed25519PrivateKey> key =
      Ed25519PrivateKey::FromSeed(SecretBytes(HexDecode(kRfc8032Vectors[0].seed)));
  ASSERT_TRUE(key.ok());
  Ed25519PrivateKey moved = std::move(key.value());
  EXPECT_EQ(HexEncode(moved.Sign("").value()), kRfc8032Vectors[0].signature);
  EXPECT_EQ(key->Sign("").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(key->PublicKey().empty());
  EXPECT_TRUE(key->seed().empty());
}

TEST(Ed25519Test, RejectsWrongSizes) {
  EXPECT_EQ(Ed25519PrivateKey::FromSeed(SecretBytes(std::string(31, 'x'))).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Ed25519PrivateKey::FromSeed(SecretBytes(std::string(64, 'x'))).status().code(),
            StatusCode::kInvalidArgument);
  const Ed25519Vector& v = kRfc8032Vectors[0];
  const std::string public_key = HexDecode(v.public_key);
  const std::string signature = HexDecode(v.signature);
  EXPECT_EQ(Ed25519Verify(public_key.substr(1), "", signature).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Ed25519Verify(public_key, "", signature.substr(1)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(Ed25519Verify(public_key, "", signature + "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Ed25519PublicKeyPem(public_key + "x").status().code(), StatusCode::kInvalidArgument);
}

TEST(Ed25519Test, RejectsOversizedMessages) {
  Result<Ed25519PrivateKey> key =
      Ed25519PrivateKey::FromSeed(SecretBytes(HexDecode(kRfc8032Vectors[0].seed)));
  ASSERT_TRUE(key.ok());
  const std::string huge(kEd25519MaxMessageBytes + 1, 'm');
  EXPECT_EQ(key->Sign(huge).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Ed25519Verify(key->PublicKey(), huge, std::string(kEd25519SignatureBytes, '\0')).code(),
            StatusCode::kInvalidArgument);
}

TEST(Ed25519Test, PemIsSubjectPublicKeyInfoForTheKey) {
  const Ed25519Vector& v = kRfc8032Vectors[0];
  Result<std::string> pem = Ed25519PublicKeyPem(HexDecode(v.public_key));
  ASSERT_TRUE(pem.ok()) << pem.status().ToString();
  // RFC 8410 section 10.1 encodes TEST 1's public key as exactly this SPKI.
  EXPECT_EQ(*pem,
            "-----BEGIN PUBLIC KEY-----\n"
            "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
            "-----END PUBLIC KEY-----\n");
}

// ---------------------------------------------------------------------------------------------
// Interoperability with the openssl command line, as an auditor would verify offline.

class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "kat_test.XXXXXX";
    if (mkdtemp(pattern.data()) != nullptr) {
      path_ = pattern;
    }
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::system(("rm -rf '" + path_ + "'").c_str());
    }
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `command` through the shell and returns its exit status (-1 if it did not exit).
int RunShell(const std::string& command) {
  const int raw = std::system(command.c_str());
  return (raw != -1 && WIFEXITED(raw)) ? WEXITSTATUS(raw) : -1;
}

TEST(Ed25519InteropTest, OpensslCommandLineVerifiesOurSignatureWithOurPem) {
  ASSERT_EQ(RunShell("command -v openssl >/dev/null 2>&1"), 0)
      << "the openssl command line tool is required for this test; install it (apt-get install "
         "openssl)";
  TempDir dir;
  ASSERT_FALSE(dir.path().empty()) << "mkdtemp failed under " << ::testing::TempDir();

  Result<Ed25519PrivateKey> key = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  // Embedded NUL and high bytes: the file must carry the exact bytes that were signed.
  static constexpr char kMessage[] = "perimeter audit checkpoint\n\x00\x01\xff tail";
  const std::string message(kMessage, sizeof(kMessage) - 1);
  Result<std::string> signature = key->Sign(message);
  ASSERT_TRUE(signature.ok());
  Result<std::string> pem = Ed25519PublicKeyPem(key->PublicKey());
  ASSERT_TRUE(pem.ok());

  const std::string& d = dir.path();
  WriteFile(d + "/key.pem", *pem);
  WriteFile(d + "/msg", message);
  WriteFile(d + "/sig", *signature);
  WriteFile(d + "/bad.sig", FlipBit(*signature, 63, 0));
  const std::string verify =
      "cd '" + d + "' && openssl pkeyutl -verify -pubin -inkey key.pem -rawin -in msg -sigfile ";

  EXPECT_EQ(RunShell(verify + "sig >out 2>&1"), 0) << ReadFile(d + "/out");
  EXPECT_NE(ReadFile(d + "/out").find("Signature Verified Successfully"), std::string::npos)
      << ReadFile(d + "/out");

  EXPECT_NE(RunShell(verify + "bad.sig >bad.out 2>&1"), 0) << ReadFile(d + "/bad.out");
  EXPECT_EQ(ReadFile(d + "/bad.out").find("Signature Verified Successfully"), std::string::npos);
}

}  // namespace
}  // namespace perimeter::crypto
