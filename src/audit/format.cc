#include "audit/format.h"

#include <array>
#include <bit>
#include <optional>
#include <span>
#include <string>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "common/clock.h"
#include "common/json_strict.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"

namespace perimeter::audit {
namespace {

namespace json = boost::json;

constexpr size_t kKeyIdHexChars = 16;  // the first 8 bytes of SHA-256
constexpr size_t kRfc3339SecondsChars = 20;

// A piece of an untrusted file, safe to quote in a message: short and printable.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 40;
  std::string out;
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  if (s.size() > kMax) out += "...";
  return "\"" + out + "\"";
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Strict unsigned decimal: digits only, no sign, no leading zero (except "0"), fits 64 bits.
std::optional<uint64_t> ParseDecimal(std::string_view s) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

// A time as the writer formats it: RFC 3339 UTC, whole seconds, and nothing else.
std::optional<std::chrono::system_clock::time_point> ParseSecondsTime(std::string_view s) {
  if (s.size() != kRfc3339SecondsChars) return std::nullopt;
  auto t = ParseRfc3339Utc(s);
  if (!t.ok() || FormatRfc3339Seconds(*t) != s) return std::nullopt;
  return *t;
}

// --- Strict base64 (RFC 4648 section 4, with padding). ---

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(in[i])) << 16 |
                       static_cast<uint32_t>(static_cast<uint8_t>(in[i + 1])) << 8 |
                       static_cast<uint8_t>(in[i + 2]);
    out.push_back(kBase64Alphabet[v >> 18 & 63]);
    out.push_back(kBase64Alphabet[v >> 12 & 63]);
    out.push_back(kBase64Alphabet[v >> 6 & 63]);
    out.push_back(kBase64Alphabet[v & 63]);
  }
  const size_t rest = in.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(in[i])) << 16;
    if (rest == 2) v |= static_cast<uint32_t>(static_cast<uint8_t>(in[i + 1])) << 8;
    out.push_back(kBase64Alphabet[v >> 18 & 63]);
    out.push_back(kBase64Alphabet[v >> 12 & 63]);
    out.push_back(rest == 2 ? kBase64Alphabet[v >> 6 & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// Only the canonical encoding is accepted: padded to a multiple of 4, padding only at the end,
// and unused bits of the last character zero (so each byte string has exactly one encoding).
std::optional<std::string> Base64Decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  const auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    size_t pad = 0;
    if (last && in[i + 3] == '=') pad = in[i + 2] == '=' ? 2 : 1;
    uint32_t v = 0;
    for (size_t j = 0; j < 4; ++j) {
      int d = 0;
      if (j < 4 - pad) {
        d = value(in[i + j]);
        if (d < 0) return std::nullopt;
      }
      v = v << 6 | static_cast<uint32_t>(d);
    }
    out.push_back(static_cast<char>(v >> 16 & 0xff));
    if (pad < 2) out.push_back(static_cast<char>(v >> 8 & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(v & 0xff));
    if ((pad == 1 && (v & 0xff) != 0) || (pad == 2 && (v & 0xffff) != 0)) return std::nullopt;
  }
  return out;
}

// --- The event object embedded in a record line. ---

Status CheckEventJson(std::string_view event) {
  if (event.find_first_of("\r\n") != std::string_view::npos) {
    return InvalidArgument("\"event\" contains a line break; an event must be one line");
  }
  if (event.empty() || event.front() != '{' || event.back() != '}') {
    return InvalidArgument(
        "\"event\" is not one JSON object (it must start with '{' and end with '}')");
  }
  boost::system::error_code ec;
  const json::value v = json::parse(json::string_view(event.data(), event.size()), ec);
  if (ec || !v.is_object()) {
    return InvalidArgument("\"event\" is not one valid JSON object");
  }
  if (Status s = CheckNoDuplicateJsonKeys(event); !s.ok()) {
    return InvalidArgument("\"event\": " + s.message());
  }
  return Status::Ok();
}

// --- Whole-line checks shared by the three JSON documents. ---

// Checks that `text` is one JSON object whose keys are exactly `keys`, once each, in that order.
// Returns the parsed object, or InvalidArgument naming the first thing wrong.
Result<json::object> ParseFixedObject(std::string_view what, std::string_view text,
                                      std::span<const std::string_view> keys) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) {
    return InvalidArgument(std::string(what) +
                           " is not valid JSON (a torn or truncated write, or not this format)");
  }
  if (!v.is_object()) return InvalidArgument(std::string(what) + " is not a JSON object");
  if (Status s = CheckNoDuplicateJsonKeys(text); !s.ok()) {
    return InvalidArgument(std::string(what) + ": " + s.message());
  }
  json::object& obj = v.as_object();
  for (const auto& kv : obj) {
    const std::string_view k(kv.key().data(), kv.key().size());
    bool known = false;
    for (std::string_view want : keys) known = known || k == want;
    if (!known) return InvalidArgument(std::string(what) + " has an unknown key " + Quote(k));
  }
  for (std::string_view want : keys) {
    if (!obj.contains(json::string_view(want.data(), want.size()))) {
      return InvalidArgument(std::string(what) + " is missing the key " + Quote(want));
    }
  }
  size_t i = 0;
  for (std::string_view want : keys) {
    const auto& k = (obj.begin() + static_cast<ptrdiff_t>(i++))->key();
    if (std::string_view(k.data(), k.size()) != want) {
      std::string order;
      for (std::string_view key : keys) order += (order.empty() ? "" : ", ") + std::string(key);
      return InvalidArgument(std::string(what) + ": keys must appear in the order " + order);
    }
  }
  return std::move(obj);
}

json::value& At(json::object& obj, std::string_view key) {
  return obj.at(json::string_view(key.data(), key.size()));
}

std::string Field(std::string_view what, std::string_view key) {
  return std::string(what) + ": \"" + std::string(key) + "\"";
}

Result<uint64_t> GetUint(json::object& obj, std::string_view what, std::string_view key) {
  const json::value& v = At(obj, key);
  if (v.is_uint64()) return v.get_uint64();
  if (v.is_int64() && v.get_int64() >= 0) return static_cast<uint64_t>(v.get_int64());
  return InvalidArgument(Field(what, key) + " is not an unsigned integer");
}

Result<std::string_view> GetString(json::object& obj, std::string_view what, std::string_view key) {
  const json::value& v = At(obj, key);
  if (!v.is_string()) return InvalidArgument(Field(what, key) + " is not a string");
  return std::string_view(v.get_string().data(), v.get_string().size());
}

Result<Hash> GetHash(json::object& obj, std::string_view what, std::string_view key) {
  auto s = GetString(obj, what, key);
  if (!s.ok()) return s.status();
  auto h = HashFromHex(*s);
  if (!h.ok()) return InvalidArgument(Field(what, key) + " is not 64 lowercase hex characters");
  return *h;
}

Result<std::vector<Hash>> GetCompactRange(json::object& obj, std::string_view what,
                                          std::string_view key, uint64_t size) {
  const json::value& v = At(obj, key);
  const size_t want = static_cast<size_t>(std::popcount(size));
  if (!v.is_array()) return InvalidArgument(Field(what, key) + " is not an array");
  if (v.get_array().size() != want) {
    return InvalidArgument(fmt::format("{} has {} hashes; a tree of size {} has {}",
                                       Field(what, key), v.get_array().size(), size, want));
  }
  std::vector<Hash> out;
  out.reserve(want);
  for (const json::value& e : v.get_array()) {
    if (!e.is_string()) return InvalidArgument(Field(what, key) + " holds a non-string");
    auto h = HashFromHex(std::string_view(e.get_string().data(), e.get_string().size()));
    if (!h.ok()) {
      return InvalidArgument(Field(what, key) +
                             " holds a value that is not 64 lowercase hex "
                             "characters");
    }
    out.push_back(*h);
  }
  return out;
}

void AppendHashArray(const std::vector<Hash>& hashes, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < hashes.size(); ++i) {
    if (i > 0) out->push_back(',');
    *out += '"' + HashHex(hashes[i]) + '"';
  }
  out->push_back(']');
}

constexpr std::string_view kRecordWhat = "record line";
constexpr std::array<std::string_view, 4> kRecordKeys = {"index", "prev", "retainUntil", "event"};
constexpr std::array<std::string_view, 7> kCheckpointKeys = {
    "origin", "treeSize", "rootHash", "time", "keyId", "signature", "compactRange"};
constexpr std::array<std::string_view, 3> kPrunedKeys = {"prunedSize", "lastLeafHash",
                                                         "compactRange"};

// For a record line that does not have the fixed shape: the most specific reason available
// (not JSON, unknown, missing or duplicate key, wrong order), else `fallback`.
Status RecordShapeError(std::string_view line, std::string_view fallback) {
  auto parsed = ParseFixedObject(kRecordWhat, line, kRecordKeys);
  if (!parsed.ok()) return parsed.status();
  return InvalidArgument(std::string(kRecordWhat) + ": " + std::string(fallback));
}

}  // namespace

// --- Segment names. ---

std::string SegmentFileName(uint64_t first_index) {
  return fmt::format("{}{:020}{}", kSegmentPrefix, first_index, kSegmentSuffix);
}

Result<uint64_t> ParseSegmentFileName(std::string_view name) {
  constexpr size_t kDigits = 20;
  const auto not_segment = [&] {
    return NotFound(Quote(name) + " is not an audit segment file name (segment-<20 digits>.jsonl)");
  };
  if (name.size() != kSegmentPrefix.size() + kDigits + kSegmentSuffix.size() ||
      !name.starts_with(kSegmentPrefix) || !name.ends_with(kSegmentSuffix)) {
    return not_segment();
  }
  const std::string_view digits = name.substr(kSegmentPrefix.size(), kDigits);
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return not_segment();
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return not_segment();
    v = v * 10 + d;
  }
  return v;
}

// --- Records. ---

Result<std::string> FormatRecordLine(const Record& record) {
  if (Status s = CheckEventJson(record.event_json); !s.ok()) {
    return InvalidArgument("record " + s.message());
  }
  const std::string retain = FormatRfc3339Seconds(record.retain_until);
  if (!ParseSecondsTime(retain)) {
    return InvalidArgument("record retainUntil is outside the years 0000-9999");
  }
  std::string line;
  line.reserve(record.event_json.size() + 160);
  line += R"({"index":)";
  line += std::to_string(record.index);
  line += R"(,"prev":")";
  line += HashHex(record.prev);
  line += R"(","retainUntil":")";
  line += retain;
  line += R"(","event":)";
  line += record.event_json;  // verbatim: these bytes are what the leaf hash covers
  line += '}';
  if (line.size() > kMaxRecordBytes) {
    return InvalidArgument(fmt::format("record line would be {} bytes, more than the limit of {}",
                                       line.size(), kMaxRecordBytes));
  }
  return line;
}

Result<Record> ParseRecordLine(std::string_view line) {
  if (line.size() > kMaxRecordBytes) {
    return InvalidArgument(fmt::format("record line is {} bytes, more than the limit of {}",
                                       line.size(), kMaxRecordBytes));
  }
  if (line.find_first_of("\r\n") != std::string_view::npos) {
    return InvalidArgument("record line contains a line break");
  }
  size_t pos = 0;
  const auto expect = [&](std::string_view literal) {
    if (line.substr(pos, literal.size()) != literal) return false;
    pos += literal.size();
    return true;
  };
  // The text up to (not including) the next '"', consuming the quote.
  const auto until_quote = [&]() -> std::optional<std::string_view> {
    const size_t q = line.find('"', pos);
    if (q == std::string_view::npos) return std::nullopt;
    const std::string_view s = line.substr(pos, q - pos);
    pos = q + 1;
    return s;
  };

  Record r;
  if (!expect(R"({"index":)")) {
    return RecordShapeError(line, "it must start with {\"index\":");
  }
  const size_t digits_start = pos;
  while (pos < line.size() && line[pos] >= '0' && line[pos] <= '9') ++pos;
  const std::string_view digits = line.substr(digits_start, pos - digits_start);
  if (digits.empty()) {
    return RecordShapeError(line,
                            "\"index\" is not an unsigned decimal integer right after the colon");
  }
  const std::optional<uint64_t> index = ParseDecimal(digits);
  if (!index) {
    return InvalidArgument("record line: \"index\" has a leading zero or does not fit in 64 bits");
  }
  r.index = *index;

  if (!expect(R"(,"prev":")")) {
    return RecordShapeError(line, "\"index\" must be an integer followed by ,\"prev\":\"");
  }
  const std::optional<std::string_view> prev = until_quote();
  if (!prev) return RecordShapeError(line, "\"prev\" is not a string");
  auto prev_hash = HashFromHex(*prev);
  if (!prev_hash.ok()) {
    return InvalidArgument("record line: \"prev\" is not 64 lowercase hex characters");
  }
  r.prev = *prev_hash;

  if (!expect(R"(,"retainUntil":")")) {
    return RecordShapeError(line, "\"prev\" must be followed by ,\"retainUntil\":\"");
  }
  const std::optional<std::string_view> retain = until_quote();
  if (!retain) return RecordShapeError(line, "\"retainUntil\" is not a string");
  const auto retain_until = ParseSecondsTime(*retain);
  if (!retain_until) {
    return InvalidArgument(
        "record line: \"retainUntil\" is not an RFC 3339 UTC time in whole seconds such as "
        "2026-11-27T05:52:23Z");
  }
  r.retain_until = *retain_until;

  if (!expect(R"(,"event":)")) {
    return RecordShapeError(line, "\"retainUntil\" must be followed by ,\"event\":");
  }
  if (pos >= line.size() || line.back() != '}') {
    return RecordShapeError(line, "it must end with the event object and '}'");
  }
  const std::string_view event = line.substr(pos, line.size() - 1 - pos);
  if (Status s = CheckEventJson(event); !s.ok()) {
    // `"event":{...},"extra":1}` lands here: name the key rather than blame the event.
    return RecordShapeError(line, s.message());
  }
  r.event_json = std::string(event);
  return r;
}

// --- Checkpoints. ---

std::string CheckpointMessage(const Checkpoint& cp) {
  std::string m;
  m += kCheckpointHeader;
  m += '\n';
  m += cp.origin;
  m += '\n';
  m += std::to_string(cp.tree_size);
  m += '\n';
  m += HashHex(cp.root);
  m += '\n';
  m += FormatRfc3339Seconds(cp.time);
  m += '\n';
  return m;
}

std::string FormatCheckpointLine(const Checkpoint& cp) {
  std::string line;
  line += R"({"origin":)";
  line += json::serialize(json::string_view(cp.origin.data(), cp.origin.size()));
  line += R"(,"treeSize":)";
  line += std::to_string(cp.tree_size);
  line += R"(,"rootHash":")";
  line += HashHex(cp.root);
  line += R"(","time":")";
  line += FormatRfc3339Seconds(cp.time);
  line += R"(","keyId":)";
  line += json::serialize(json::string_view(cp.key_id.data(), cp.key_id.size()));
  line += R"(,"signature":")";
  line += Base64Encode(cp.signature);
  line += R"(","compactRange":)";
  AppendHashArray(cp.compact_range, &line);
  line += '}';
  return line;
}

Result<Checkpoint> ParseCheckpointLine(std::string_view line) {
  constexpr std::string_view kWhat = "checkpoint line";
  if (line.size() > kMaxRecordBytes) {
    return InvalidArgument(fmt::format("checkpoint line is {} bytes, more than the limit of {}",
                                       line.size(), kMaxRecordBytes));
  }
  auto parsed = ParseFixedObject(kWhat, line, kCheckpointKeys);
  if (!parsed.ok()) return parsed.status();
  json::object& obj = *parsed;
  Checkpoint cp;

  auto origin = GetString(obj, kWhat, "origin");
  if (!origin.ok()) return origin.status();
  if (origin->empty()) return InvalidArgument(Field(kWhat, "origin") + " is empty");
  for (char c : *origin) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      // The signed message is newline-separated: a control character would make it ambiguous.
      return InvalidArgument(Field(kWhat, "origin") + " contains a control character");
    }
  }
  cp.origin = std::string(*origin);

  auto tree_size = GetUint(obj, kWhat, "treeSize");
  if (!tree_size.ok()) return tree_size.status();
  cp.tree_size = *tree_size;

  auto root = GetHash(obj, kWhat, "rootHash");
  if (!root.ok()) return root.status();
  cp.root = *root;

  auto time = GetString(obj, kWhat, "time");
  if (!time.ok()) return time.status();
  const auto t = ParseSecondsTime(*time);
  if (!t) {
    return InvalidArgument(Field(kWhat, "time") +
                           " is not an RFC 3339 UTC time in whole seconds such as "
                           "2026-11-27T05:52:23Z");
  }
  cp.time = *t;

  auto key_id = GetString(obj, kWhat, "keyId");
  if (!key_id.ok()) return key_id.status();
  if (key_id->size() != kKeyIdHexChars || !IsLowerHex(*key_id)) {
    return InvalidArgument(Field(kWhat, "keyId") + " is not 16 lowercase hex characters");
  }
  cp.key_id = std::string(*key_id);

  auto signature = GetString(obj, kWhat, "signature");
  if (!signature.ok()) return signature.status();
  std::optional<std::string> sig = Base64Decode(*signature);
  if (!sig) return InvalidArgument(Field(kWhat, "signature") + " is not canonical base64");
  if (sig->size() != crypto::kEd25519SignatureBytes) {
    return InvalidArgument(fmt::format("{} is {} bytes, not the {} of an Ed25519 signature",
                                       Field(kWhat, "signature"), sig->size(),
                                       crypto::kEd25519SignatureBytes));
  }
  cp.signature = std::move(*sig);

  auto range = GetCompactRange(obj, kWhat, "compactRange", cp.tree_size);
  if (!range.ok()) return range.status();
  cp.compact_range = std::move(*range);
  return cp;
}

Status VerifyCheckpointSignature(const Checkpoint& cp, std::string_view public_key32) {
  if (public_key32.size() != crypto::kEd25519PublicKeyBytes) {
    return Unauthenticated(fmt::format(
        "the checkpoint public key is {} bytes, not {}; the key file is damaged or not an Ed25519 "
        "key",
        public_key32.size(), crypto::kEd25519PublicKeyBytes));
  }
  const std::string want_id = KeyIdOf(public_key32);
  if (cp.key_id != want_id) {
    return Unauthenticated(fmt::format(
        "the checkpoint at tree size {} names key id {}, but the checkpoint public key's id is "
        "{}: it was signed by another key, or the key file was replaced",
        cp.tree_size, Quote(cp.key_id), want_id));
  }
  if (cp.signature.size() != crypto::kEd25519SignatureBytes) {
    return Unauthenticated(
        fmt::format("the checkpoint at tree size {} has a {}-byte signature, "
                    "not an Ed25519 signature",
                    cp.tree_size, cp.signature.size()));
  }
  if (!crypto::Ed25519Verify(public_key32, CheckpointMessage(cp), cp.signature).ok()) {
    return Unauthenticated(fmt::format(
        "the signature of the checkpoint at tree size {} does not verify: its origin, size, "
        "root hash, time or signature was altered",
        cp.tree_size));
  }
  return Status::Ok();
}

std::string KeyIdOf(std::string_view public_key32) {
  const crypto::Sha256Digest d = crypto::Sha256(public_key32);
  return crypto::HexEncode(
      std::string_view(reinterpret_cast<const char*>(d.data()), kKeyIdHexChars / 2));
}

// --- Pruned state. ---

std::string FormatPrunedState(const PrunedState& p) {
  std::string text;
  text += R"({"prunedSize":)";
  text += std::to_string(p.pruned_size);
  text += R"(,"lastLeafHash":")";
  text += HashHex(p.last_leaf_hash);
  text += R"(","compactRange":)";
  AppendHashArray(p.compact_range, &text);
  text += '}';
  return text;
}

Result<PrunedState> ParsePrunedState(std::string_view text) {
  constexpr std::string_view kWhat = "pruned.json";
  if (text.size() > kMaxRecordBytes) {
    return InvalidArgument(fmt::format("pruned.json is {} bytes, more than the limit of {}",
                                       text.size(), kMaxRecordBytes));
  }
  auto parsed = ParseFixedObject(kWhat, text, kPrunedKeys);
  if (!parsed.ok()) return parsed.status();
  json::object& obj = *parsed;
  PrunedState p;
  auto size = GetUint(obj, kWhat, "prunedSize");
  if (!size.ok()) return size.status();
  p.pruned_size = *size;
  auto last = GetHash(obj, kWhat, "lastLeafHash");
  if (!last.ok()) return last.status();
  p.last_leaf_hash = *last;
  auto range = GetCompactRange(obj, kWhat, "compactRange", p.pruned_size);
  if (!range.ok()) return range.status();
  p.compact_range = std::move(*range);
  return p;
}

}  // namespace perimeter::audit
