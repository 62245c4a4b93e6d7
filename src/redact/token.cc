#include "redact/token.h"

#include <cassert>

#include <openssl/crypto.h>

#include "crypto/hash.h"
#include "crypto/hmac.h"

namespace perimeter::redact {

namespace {

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLowerHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }
// Any byte that may appear between a token's brackets.
bool IsTokenBodyChar(char c) { return IsUpper(c) || IsDigit(c) || c == '_' || IsLowerHex(c); }

}  // namespace

bool IsValidEntityName(std::string_view entity) {
  if (entity.empty() || entity.size() > kMaxEntityNameBytes || !IsUpper(entity[0])) {
    return false;
  }
  for (char c : entity.substr(1)) {
    if (!IsUpper(c) && !IsDigit(c) && c != '_') {
      return false;
    }
  }
  return true;
}

std::string ComputeToken(const crypto::SecretBytes& token_key, std::string_view entity,
                         std::string_view value) {
  assert(IsValidEntityName(entity));
  assert(!token_key.empty());
  std::string message;
  message.reserve(entity.size() + 1 + value.size());
  message.append(entity);
  message.push_back('\0');
  message.append(value);
  crypto::HmacSha256Tag tag = crypto::HmacSha256(token_key.RevealSecretForUse(), message);
  OPENSSL_cleanse(message.data(), message.size());

  std::string token;
  token.reserve(entity.size() + kTokenHexChars + 3);
  token.push_back('[');
  token.append(entity);
  token.push_back('_');
  token.append(crypto::HexEncode(crypto::TagBytes(tag).substr(0, kTokenHexChars / 2)));
  token.push_back(']');
  OPENSSL_cleanse(tag.data(), tag.size());
  return token;
}

std::optional<ParsedToken> ParseToken(std::string_view token) {
  // Shortest: "[" + 1-char entity + "_" + 16 hex + "]".
  if (token.size() < 1 + 1 + 1 + kTokenHexChars + 1 || token.size() > kMaxTokenChars ||
      token.front() != '[' || token.back() != ']') {
    return std::nullopt;
  }
  const std::string_view body = token.substr(1, token.size() - 2);
  const size_t separator = body.size() - kTokenHexChars - 1;
  if (body[separator] != '_') {
    return std::nullopt;
  }
  const std::string_view entity = body.substr(0, separator);
  const std::string_view hex = body.substr(separator + 1);
  if (!IsValidEntityName(entity)) {
    return std::nullopt;
  }
  for (char c : hex) {
    if (!IsLowerHex(c)) {
      return std::nullopt;
    }
  }
  return ParsedToken{std::string(entity), std::string(hex)};
}

std::vector<TokenSpan> FindTokens(std::string_view text) {
  std::vector<TokenSpan> spans;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '[') {
      ++i;
      continue;
    }
    // Scan the run of token characters after '['; a token ends at the first byte outside it,
    // which must be ']'. Every byte is visited a bounded number of times: a failed candidate
    // resumes at the byte that ended its run (which may itself be the next '[').
    size_t j = i + 1;
    while (j < text.size() && j - i < kMaxTokenChars && IsTokenBodyChar(text[j])) {
      ++j;
    }
    if (j < text.size() && text[j] == ']') {
      if (auto parsed = ParseToken(text.substr(i, j + 1 - i))) {
        spans.push_back(TokenSpan{i, j + 1 - i, std::move(*parsed)});
        i = j + 1;
        continue;
      }
    }
    i = (j > i + 1) ? j : i + 1;
  }
  return spans;
}

}  // namespace perimeter::redact
