#include "codec/base64.h"

#include <array>
#include <cstdint>

namespace perimeter::codec {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr uint8_t kInvalid = 0xFF;

constexpr std::array<uint8_t, 256> MakeDecodeTable() {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) {
    v = kInvalid;
  }
  for (size_t i = 0; i < kAlphabet.size(); ++i) {
    t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<uint8_t>(i);
  }
  return t;
}

constexpr std::array<uint8_t, 256> kDecode = MakeDecodeTable();

Status BadCharacter(std::string_view encoded, size_t pos) {
  const auto c = static_cast<unsigned char>(encoded[pos]);
  std::string shown;
  if (c >= 0x21 && c <= 0x7E) {
    shown = {'\'', static_cast<char>(c), '\''};
  } else {
    constexpr std::string_view kHex = "0123456789abcdef";
    shown = {'0', 'x', kHex[c >> 4], kHex[c & 0xF]};
  }
  return InvalidArgument("base64: invalid character " + shown + " at offset " +
                         std::to_string(pos) +
                         "; only the standard alphabet A-Z a-z 0-9 + / with '=' padding at the "
                         "end is accepted (no whitespace, no URL-safe alphabet)");
}

}  // namespace

std::string Base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 0x3F]);
    out.push_back(kAlphabet[(v >> 6) & 0x3F]);
    out.push_back(kAlphabet[v & 0x3F]);
  }
  const size_t rest = data.size() - i;
  if (rest == 1) {
    const uint32_t v = uint32_t{p[i]} << 16;
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 0x3F]);
    out.append("==");
  } else if (rest == 2) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 0x3F]);
    out.push_back(kAlphabet[(v >> 6) & 0x3F]);
    out.push_back('=');
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view encoded) {
  if (encoded.size() % 4 != 0) {
    return InvalidArgument("base64: length " + std::to_string(encoded.size()) +
                           " is not a multiple of 4; the input is truncated or unpadded "
                           "(padding with '=' is required)");
  }
  std::string out;
  if (encoded.empty()) {
    return out;
  }
  // Padding may only occupy the last one or two characters of the final quantum.
  size_t padding = 0;
  if (encoded.back() == '=') {
    padding = (encoded[encoded.size() - 2] == '=') ? 2 : 1;
  }
  const size_t data_chars = encoded.size() - padding;
  out.reserve(encoded.size() / 4 * 3);

  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < data_chars; ++i) {
    const uint8_t v = kDecode[static_cast<unsigned char>(encoded[i])];
    if (v == kInvalid) {
      if (encoded[i] == '=') {
        return InvalidArgument("base64: padding '=' at offset " + std::to_string(i) +
                               " is not at the end of the input; '=' may only fill the last one "
                               "or two positions");
      }
      return BadCharacter(encoded, i);
    }
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // 1 padding char leaves 2 unused bits, 2 leave 4; they must be zero for a canonical encoding.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    return InvalidArgument("base64: non-zero unused bits before the padding at offset " +
                           std::to_string(data_chars - 1) +
                           "; the input is not a canonical encoding (corrupted or hand-made)");
  }
  return out;
}

}  // namespace perimeter::codec
