#include "kms/ciphertext.h"

#include <gtest/gtest.h>

namespace perimeter::kms {
namespace {

std::string Sample() {
  return AssembleCiphertext(EncodeCiphertextHeader("key-1", 7), std::string(61, 'w'),
                            std::string(40, 'p'));
}

TEST(Ciphertext, RoundTrip) {
  const std::string blob = Sample();
  auto p = ParseCiphertext(blob);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->key_id, "key-1");
  EXPECT_EQ(p->key_version, 7u);
  EXPECT_EQ(p->header, EncodeCiphertextHeader("key-1", 7));
  EXPECT_EQ(p->wrapped_data_key, std::string(61, 'w'));
  EXPECT_EQ(p->payload, std::string(40, 'p'));
}

TEST(Ciphertext, RejectsEveryTruncation) {
  const std::string blob = Sample();
  for (size_t n = 0; n < blob.size() - 39 + 28; ++n) {
    auto p = ParseCiphertext(std::string_view(blob).substr(0, n));
    EXPECT_FALSE(p.ok()) << n;
    if (!p.ok()) {
      EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(Ciphertext, NamesWhatIsWrong) {
  EXPECT_NE(ParseCiphertext("hello").status().message().find("not a Perimeter KMS ciphertext"),
            std::string::npos);
  std::string newer = Sample();
  newer[3] = 0x02;
  EXPECT_NE(ParseCiphertext(newer).status().message().find("newer Perimeter"), std::string::npos);
  std::string zero_version = AssembleCiphertext(EncodeCiphertextHeader("k", 0),
                                                std::string(61, 'w'), std::string(40, 'p'));
  EXPECT_FALSE(ParseCiphertext(zero_version).ok());
  std::string short_wrap = AssembleCiphertext(EncodeCiphertextHeader("k", 1), std::string(10, 'w'),
                                              std::string(40, 'p'));
  EXPECT_NE(ParseCiphertext(short_wrap).status().message().find("wrapped data key"),
            std::string::npos);
}

}  // namespace
}  // namespace perimeter::kms
