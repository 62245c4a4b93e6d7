#include "kms/ciphertext.h"

namespace perimeter::kms {
namespace {

uint32_t ReadU32(std::string_view s) {
  return (uint32_t{static_cast<uint8_t>(s[0])} << 24) |
         (uint32_t{static_cast<uint8_t>(s[1])} << 16) |
         (uint32_t{static_cast<uint8_t>(s[2])} << 8) | uint32_t{static_cast<uint8_t>(s[3])};
}

}  // namespace

Result<ParsedCiphertext> ParseCiphertext(std::string_view blob) {
  if (blob.size() < 3 || blob.substr(0, 3) != kCiphertextMagic.substr(0, 3)) {
    return InvalidArgument(
        "the ciphertext is not a Perimeter KMS ciphertext (it does not start with \"PKC\"); was "
        "it produced by another system, or base64-decoded twice?");
  }
  if (blob.size() < 4 || blob[3] != kCiphertextMagic[3]) {
    return InvalidArgument(
        "the ciphertext has an unknown format version; it was written by a newer Perimeter");
  }
  const auto truncated = [] { return InvalidArgument("the ciphertext is truncated"); };
  size_t pos = 4;
  if (blob.size() < pos + 1) return truncated();
  const size_t n = static_cast<uint8_t>(blob[pos]);
  pos += 1;
  if (n == 0 || n > kMaxCiphertextKeyIdBytes) {
    return InvalidArgument("the ciphertext's key id length is out of bounds");
  }
  if (blob.size() < pos + n + 4) return truncated();
  ParsedCiphertext out;
  out.key_id = blob.substr(pos, n);
  pos += n;
  out.key_version = ReadU32(blob.substr(pos, 4));
  pos += 4;
  if (out.key_version == 0) return InvalidArgument("the ciphertext names key version 0");
  out.header = blob.substr(0, pos);
  if (blob.size() < pos + 2) return truncated();
  const size_t m =
      (size_t{static_cast<uint8_t>(blob[pos])} << 8) | size_t{static_cast<uint8_t>(blob[pos + 1])};
  pos += 2;
  if (m < kMinWrappedDataKeyBytes || m > kMaxWrappedDataKeyBytes) {
    return InvalidArgument("the ciphertext's wrapped data key length is out of bounds");
  }
  if (blob.size() < pos + m) return truncated();
  out.wrapped_data_key = blob.substr(pos, m);
  pos += m;
  out.payload = blob.substr(pos);
  if (out.payload.size() < kMinPayloadBytes) return truncated();
  return out;
}

std::string EncodeCiphertextHeader(std::string_view key_id, uint32_t key_version) {
  std::string h(kCiphertextMagic);
  h.push_back(static_cast<char>(key_id.size()));
  h.append(key_id);
  h.push_back(static_cast<char>(key_version >> 24));
  h.push_back(static_cast<char>(key_version >> 16));
  h.push_back(static_cast<char>(key_version >> 8));
  h.push_back(static_cast<char>(key_version));
  return h;
}

std::string AssembleCiphertext(std::string_view header, std::string_view wrapped_data_key,
                               std::string_view payload) {
  std::string out;
  out.reserve(header.size() + 2 + wrapped_data_key.size() + payload.size());
  out.append(header);
  out.push_back(static_cast<char>(wrapped_data_key.size() >> 8));
  out.push_back(static_cast<char>(wrapped_data_key.size()));
  out.append(wrapped_data_key);
  out.append(payload);
  return out;
}

}  // namespace perimeter::kms
