#pragma once

// Redaction tokens: what a sensitive value is replaced with in text that leaves the gateway.
//
// A token reads "[<ENTITY>_<hex>]", e.g. "[EMAIL_3f9a0c1d2e4b5a69]":
//   - ENTITY names what kind of value was there: [A-Z][A-Z0-9_]{0,63} (EMAIL,
//     CREDIT_DEBIT_CARD_NUMBER, NG_BVN);
//   - hex is 16 lowercase hex characters: the first 8 bytes of
//     HMAC-SHA256(token_key, ENTITY || 0x00 || value).
// With a per-tenant token key (vault.h keeps it, wrapped under the tenant's CMK) a token is
// deterministic within a tenant (the same value always gives the same token, so redacted text
// can still be joined and counted), differs across tenants, and cannot be brute-forced from a
// guessed value without the key. The 0x00 separator keeps (entity, value) pairs unambiguous,
// since an entity never contains it.
//
// Everything here is pure and thread-safe.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/secret.h"

namespace perimeter::redact {

inline constexpr size_t kMaxEntityNameBytes = 64;
inline constexpr size_t kTokenHexChars = 16;  // 8 bytes of the HMAC
// "[" + entity + "_" + hex + "]" at its longest.
inline constexpr size_t kMaxTokenChars = 1 + kMaxEntityNameBytes + 1 + kTokenHexChars + 1;

// True iff `entity` matches [A-Z][A-Z0-9_]{0,63}.
bool IsValidEntityName(std::string_view entity);

// The token of `value` as an `entity`. Preconditions (the caller validates untrusted input):
// IsValidEntityName(entity) and a non-empty key; a violated precondition aborts in debug builds.
// The value is only hashed: it appears in no result and temporary copies are wiped.
std::string ComputeToken(const crypto::SecretBytes& token_key, std::string_view entity,
                         std::string_view value);

struct ParsedToken {
  std::string entity;  // e.g. "EMAIL"
  std::string hex;     // 16 lowercase hex characters
};

// Parses a whole token, strictly: the brackets, a valid entity name, '_' and exactly 16
// lowercase hex characters, with nothing before or after (no whitespace either). nullopt
// otherwise.
std::optional<ParsedToken> ParseToken(std::string_view token);

// A well-formed token found in a text: text.substr(offset, length) is the token.
struct TokenSpan {
  size_t offset = 0;  // byte offset of the '['
  size_t length = 0;  // bytes, brackets included
  ParsedToken token;
};

// Every well-formed token in `text`, in order of offset (tokens never overlap). Anything that
// merely looks like a token ("[EMAIL_xyz]", "[email_0123456789abcdef]", a 15- or 17-digit hex)
// is skipped. Linear in text.size().
std::vector<TokenSpan> FindTokens(std::string_view text);

}  // namespace perimeter::redact
