#include "audit/format.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/clock.h"
#include "crypto/ed25519.h"
#include "crypto/secret.h"
#include "crypto/test_hex.h"

namespace perimeter::audit {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

const system_clock::time_point kTime(seconds(1795758743));  // 2026-11-27T05:52:23Z
constexpr std::string_view kTimeText = "2026-11-27T05:52:23Z";
constexpr std::string_view kOrigin = "arn:aws:perimeter:us-east-1:123456789012:audit";
// RFC 8032 section 7.1, TEST 1.
constexpr std::string_view kSeedHex =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr std::string_view kPublicKeyHex =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

Hash H(std::string_view hex) {
  auto h = HashFromHex(hex);
  EXPECT_TRUE(h.ok()) << hex;
  return h.ok() ? *h : Hash{};
}

std::string Rep(char c, size_t n = 64) { return std::string(n, c); }

// Replaces the first occurrence of `from` (which must occur) with `to`.
std::string Replace(std::string s, std::string_view from, std::string_view to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

void ExpectInvalid(const Status& s, std::string_view mention, std::string_view context) {
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << context << ": " << s.ToString();
  EXPECT_NE(s.message().find(mention), std::string::npos)
      << context << ": message \"" << s.message() << "\" should mention \"" << mention << "\"";
  EXPECT_LT(s.message().size(), 300u) << context;
}

// --- Segment names. ---

TEST(SegmentFileNameTest, IsTwentyZeroPaddedDigits) {
  EXPECT_EQ(SegmentFileName(42), "segment-00000000000000000042.jsonl");
  EXPECT_EQ(SegmentFileName(0), "segment-00000000000000000000.jsonl");
  EXPECT_EQ(SegmentFileName(UINT64_MAX), "segment-18446744073709551615.jsonl");
  for (uint64_t i : {uint64_t{0}, uint64_t{42}, uint64_t{1} << 40, UINT64_MAX}) {
    auto parsed = ParseSegmentFileName(SegmentFileName(i));
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    EXPECT_EQ(*parsed, i);
  }
  // Lexicographic order is numeric order, so a directory listing sorts segments.
  EXPECT_LT(SegmentFileName(9), SegmentFileName(10));
}

TEST(SegmentFileNameTest, RefusesEverythingElse) {
  for (const char* name : {
           "segment-42.jsonl",
           "segment-0000000000000000042.jsonl",    // 19 digits
           "segment-000000000000000000042.jsonl",  // 21 digits
           "segment-0000000000000000004a.jsonl",
           "segment-+0000000000000000042.jsonl",
           "segment- 0000000000000000042.jsonl",
           "segment-99999999999999999999.jsonl",  // more than 2^64 - 1
           "segment-18446744073709551616.jsonl",  // 2^64
           "segment-00000000000000000042.json",
           "segment-00000000000000000042.jsonl.tmp",
           "Segment-00000000000000000042.jsonl",
           "segment_00000000000000000042.jsonl",
           "checkpoints.jsonl",
           "pruned.json",
           "",
       }) {
    auto parsed = ParseSegmentFileName(name);
    EXPECT_FALSE(parsed.ok()) << name;
    EXPECT_EQ(parsed.status().code(), StatusCode::kNotFound) << name;
  }
}

// --- Record lines. ---

Record SampleRecord() {
  Record r;
  r.index = 7;
  r.prev = H(Rep('a'));
  r.retain_until = kTime;
  r.event_json = R"({"eventName":"InvokeModel","n":[1,2]})";
  return r;
}

std::string SampleLine() {
  return R"({"index":7,"prev":")" + Rep('a') +
         R"(","retainUntil":"2026-11-27T05:52:23Z","event":{"eventName":"InvokeModel","n":[1,2]}})";
}

TEST(RecordLineTest, HasTheDocumentedBytes) {
  auto line = FormatRecordLine(SampleRecord());
  ASSERT_TRUE(line.ok()) << line.status().message();
  EXPECT_EQ(*line, SampleLine());

  Record first = SampleRecord();
  first.index = 0;
  first.prev = Hash{};
  first.event_json = "{}";
  auto first_line = FormatRecordLine(first);
  ASSERT_TRUE(first_line.ok()) << first_line.status().message();
  EXPECT_EQ(*first_line, R"({"index":0,"prev":")" + Rep('0') +
                             R"(","retainUntil":"2026-11-27T05:52:23Z","event":{}})");
}

TEST(RecordLineTest, RoundTripsAndKeepsTheEventBytesVerbatim) {
  // Spacing and escapes a re-serializer would change: the leaf hash covers these exact bytes.
  const std::string event =
      R"({ "b" : 1 ,"a":"\u00e9\/x", "big":1.50e3,"nested":{"z":[ ]},"u":"h\u00e9llo"})";
  Record r = SampleRecord();
  r.event_json = event;
  r.index = UINT64_MAX;
  auto line = FormatRecordLine(r);
  ASSERT_TRUE(line.ok()) << line.status().message();
  EXPECT_NE(line->find(event), std::string::npos);

  auto parsed = ParseRecordLine(*line);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->index, UINT64_MAX);
  EXPECT_EQ(parsed->prev, r.prev);
  EXPECT_EQ(parsed->retain_until, kTime);
  EXPECT_EQ(parsed->event_json, event);
  auto again = FormatRecordLine(*parsed);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *line);
}

TEST(RecordLineTest, FormatRefusesAnEventThatIsNotOneJsonObjectOnOneLine) {
  const struct {
    const char* event;
    const char* mention;
  } kCases[] = {
      {"{\"a\":1,\n\"b\":2}", "line break"},
      {"{\"a\":1,\r\"b\":2}", "line break"},
      {"[1,2]", "JSON object"},
      {"\"text\"", "JSON object"},
      {"1", "JSON object"},
      {"", "JSON object"},
      {"{\"a\":", "JSON object"},
      {"{\"a\":1", "JSON object"},
      {"{}{}", "JSON object"},
      {"{},{}", "JSON object"},
      {" {}", "JSON object"},
      {"{} ", "JSON object"},
      {"{\"a\":1}}", "JSON object"},
      {"{\"a\":1,}", "JSON object"},
      {"{'a':1}", "JSON object"},
      {"{\"a\":1,\"a\":2}", "duplicate"},
      {"{\"o\":{\"k\":1,\"k\":1}}", "duplicate"},
  };
  for (const auto& c : kCases) {
    Record r = SampleRecord();
    r.event_json = c.event;
    ExpectInvalid(FormatRecordLine(r).status(), c.mention, c.event);
  }
}

TEST(RecordLineTest, FormatEnforcesTheSizeLimitExactly) {
  Record r = SampleRecord();
  r.event_json = R"({"p":""})";
  auto base = FormatRecordLine(r);
  ASSERT_TRUE(base.ok());
  const size_t room = kMaxRecordBytes - base->size();
  r.event_json = R"({"p":")" + std::string(room, 'x') + R"("})";
  auto at_limit = FormatRecordLine(r);
  ASSERT_TRUE(at_limit.ok()) << at_limit.status().message();
  EXPECT_EQ(at_limit->size(), kMaxRecordBytes);
  auto parsed = ParseRecordLine(*at_limit);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();

  r.event_json = R"({"p":")" + std::string(room + 1, 'x') + R"("})";
  ExpectInvalid(FormatRecordLine(r).status(), "limit", "one byte over");
  ExpectInvalid(ParseRecordLine(*at_limit + " ").status(), "limit", "parse one byte over");
}

TEST(RecordLineTest, ParseRefusesABadIndex) {
  for (const char* index : {"01", "00", "-1", "1.5", "1e3", "\"7\"", "null", " 7",
                            "18446744073709551616", "99999999999999999999999"}) {
    const std::string line =
        Replace(SampleLine(), R"("index":7)", std::string(R"("index":)") + index);
    ExpectInvalid(ParseRecordLine(line).status(), "index", index);
  }
  // No value at all is not JSON.
  ExpectInvalid(ParseRecordLine(Replace(SampleLine(), R"("index":7)", R"("index":)")).status(),
                "not valid JSON", "no index");
  const std::string max = Replace(SampleLine(), R"("index":7)", R"("index":18446744073709551615)");
  auto parsed = ParseRecordLine(max);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->index, UINT64_MAX);
}

TEST(RecordLineTest, ParseRefusesABadPrevHash) {
  for (const std::string& prev : {Rep('A'), Rep('a', 63), Rep('a', 65), Rep('a', 63) + "g",
                                  std::string(""), Rep('a', 62) + "\\u0061"}) {
    const std::string line = Replace(SampleLine(), Rep('a'), prev);
    ExpectInvalid(ParseRecordLine(line).status(), "\"prev\" is not 64 lowercase hex characters",
                  prev);
  }
  const std::string unquoted = Replace(SampleLine(), "\"" + Rep('a') + "\"", "1");
  ExpectInvalid(ParseRecordLine(unquoted).status(), "prev", "unquoted");
}

TEST(RecordLineTest, ParseRefusesABadRetainUntil) {
  for (const char* t :
       {"2026-11-27T05:52:23.000Z", "2026-11-27T05:52:23+00:00", "2026-11-27T05:52:23",
        "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-27 05:52:23Z", "", "tomorrow"}) {
    const std::string line = Replace(SampleLine(), kTimeText, t);
    ExpectInvalid(ParseRecordLine(line).status(), "retainUntil", t);
  }
}

TEST(RecordLineTest, ParseRefusesUnknownMissingDuplicateAndReorderedKeys) {
  const std::string ok = SampleLine();
  const std::string prev = R"("prev":")" + Rep('a') + R"(")";
  const std::string retain = R"("retainUntil":"2026-11-27T05:52:23Z")";
  const std::string event = R"("event":{"eventName":"InvokeModel","n":[1,2]})";
  const struct {
    std::string line;
    const char* mention;
  } kCases[] = {
      {ok.substr(0, ok.size() - 1) + R"(,"extra":1})", "unknown key \"extra\""},
      {R"({"extra":1,)" + ok.substr(1), "unknown key \"extra\""},
      {Replace(ok, R"("index":7,)", R"("index":7,"other":"x",)"), "unknown key \"other\""},
      {Replace(ok, retain + ",", ""), "missing the key \"retainUntil\""},
      {Replace(ok, R"("index":7,)", ""), "missing the key \"index\""},
      {R"({"index":7,)" + prev + "," + retain + "}", "missing the key \"event\""},
      {Replace(ok, R"("index":7,)", R"("index":7,"index":7,)"), "duplicate"},
      {ok.substr(0, ok.size() - 1) + "," + event + "}", "duplicate"},
      {Replace(ok, R"("n":[1,2])", R"("n":1,"n":2)"), "duplicate"},
      {R"({)" + prev + R"(,"index":7,)" + retain + "," + event + "}", "order"},
      {R"({"index":7,)" + retain + "," + prev + "," + event + "}", "order"},
      {R"({"index":7,)" + prev + "," + event + "," + retain + "}", "order"},
  };
  for (const auto& c : kCases) ExpectInvalid(ParseRecordLine(c.line).status(), c.mention, c.line);
}

TEST(RecordLineTest, ParseNamesAnEventThatIsNotAnObject) {
  for (const char* event : {"[1,2]", "\"x\"", "null", "7"}) {
    const std::string line =
        Replace(SampleLine(), R"({"eventName":"InvokeModel","n":[1,2]})", event);
    ExpectInvalid(ParseRecordLine(line).status(), "record line: \"event\" is not one JSON object",
                  event);
  }
}

TEST(RecordLineTest, ParseRefusesAnythingButTheFixedShape) {
  const std::string ok = SampleLine();
  for (const std::string& line : {
           Replace(ok, R"("index":7)", R"("index": 7)"),
           Replace(ok, R"({"index")", R"({ "index")"),
           Replace(ok, R"(,"prev")", R"(, "prev")"),
           Replace(ok, R"("event":{)", R"("event": {)"),
           ok + " ",
           " " + ok,
           ok + "}",
           Replace(ok, R"("event":{"eventName":"InvokeModel","n":[1,2]})", R"("event":[1,2])"),
           Replace(ok, R"("event":{"eventName":"InvokeModel","n":[1,2]})", R"("event":"x")"),
           Replace(ok, R"("event":{"eventName":"InvokeModel","n":[1,2]})", R"("event":null)"),
           Replace(ok, R"("n":[1,2])", "\"n\":[1,\r2]"),
           Replace(ok, R"("n":[1,2])", "\"n\":[1,\n2]"),
           std::string("[]"),
           std::string("{}"),
           std::string(""),
           std::string("null"),
       }) {
    auto parsed = ParseRecordLine(line);
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << line;
  }
}

TEST(RecordLineTest, ParseRefusesEveryTornPrefixAsInvalidJson) {
  const std::string ok = SampleLine();
  ASSERT_TRUE(ParseRecordLine(ok).ok());
  for (size_t n = 0; n < ok.size(); ++n) {
    auto parsed = ParseRecordLine(std::string_view(ok).substr(0, n));
    ASSERT_FALSE(parsed.ok()) << n;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << n;
  }
  ExpectInvalid(ParseRecordLine(ok.substr(0, ok.size() - 1)).status(), "not valid JSON", "torn");
  ExpectInvalid(ParseRecordLine(ok.substr(0, 40)).status(), "not valid JSON", "torn in prev");
}

TEST(RecordLineTest, AnySingleByteChangeIsRefusedOrReadsDifferently) {
  // Every record line has one reading: no byte can change while the parsed record stays equal.
  const std::string ok = SampleLine();
  auto want = ParseRecordLine(ok);
  ASSERT_TRUE(want.ok());
  for (size_t i = 0; i < ok.size(); ++i) {
    for (char c : {' ', '0', '9', 'a', '"', '}', '{', ','}) {
      if (ok[i] == c) continue;
      std::string changed = ok;
      changed[i] = c;
      auto parsed = ParseRecordLine(changed);
      if (!parsed.ok()) continue;
      EXPECT_TRUE(parsed->index != want->index || parsed->prev != want->prev ||
                  parsed->retain_until != want->retain_until ||
                  parsed->event_json != want->event_json)
          << changed;
    }
  }
}

// --- Checkpoints. ---

// Python's `cryptography` signing CheckpointMessage(SampleCheckpoint()) with the RFC 8032 key.
constexpr std::string_view kSampleSignatureB64 =
    "PRKdmF449SbeZFBZnvCidgZN6VOvhuWwuAW/CMPMcsnZwZcy0W1PJVSff0PnlK7cCnRs3UfLrjHsPnJH1DUgBg==";

crypto::Ed25519PrivateKey SampleKey() {
  auto key = crypto::Ed25519PrivateKey::FromSeed(
      crypto::SecretBytes(crypto::test_support::HexDecode(kSeedHex)));
  EXPECT_TRUE(key.ok()) << key.status().message();
  return std::move(key).value();
}

Checkpoint SampleCheckpoint() {
  Checkpoint cp;
  cp.origin = std::string(kOrigin);
  cp.tree_size = 5;
  cp.root = H("2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881");
  cp.time = kTime;
  cp.key_id = KeyIdOf(crypto::test_support::HexDecode(kPublicKeyHex));
  cp.compact_range = {H(Rep('a')), H(Rep('b'))};
  auto sig = SampleKey().Sign(CheckpointMessage(cp));
  EXPECT_TRUE(sig.ok()) << sig.status().message();
  cp.signature = sig.ok() ? *sig : "";
  return cp;
}

std::string SampleCheckpointLine() {
  return R"({"origin":"arn:aws:perimeter:us-east-1:123456789012:audit","treeSize":5,)"
         R"("rootHash":"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881",)"
         R"("time":"2026-11-27T05:52:23Z","keyId":"21fe31dfa154a261","signature":")" +
         std::string(kSampleSignatureB64) + R"(","compactRange":[")" + Rep('a') + R"(",")" +
         Rep('b') + R"("]})";
}

TEST(CheckpointTest, KeyIdIsTheFirstEightBytesOfTheKeysSha256) {
  // sha256(d75a9801...511a) = 21fe31dfa154a261...
  EXPECT_EQ(KeyIdOf(crypto::test_support::HexDecode(kPublicKeyHex)), "21fe31dfa154a261");
  EXPECT_EQ(SampleKey().PublicKey(), crypto::test_support::HexDecode(kPublicKeyHex));
}

TEST(CheckpointTest, MessageHasTheExactSignedBytes) {
  EXPECT_EQ(CheckpointMessage(SampleCheckpoint()),
            "perimeter-audit-checkpoint/v1\n"
            "arn:aws:perimeter:us-east-1:123456789012:audit\n"
            "5\n"
            "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\n"
            "2026-11-27T05:52:23Z\n");
  Checkpoint cp = SampleCheckpoint();
  cp.time += std::chrono::milliseconds(999);  // whole seconds only
  cp.compact_range.clear();                   // unsigned
  cp.signature = "x";
  cp.key_id = "y";
  EXPECT_EQ(CheckpointMessage(cp), CheckpointMessage(SampleCheckpoint()));
}

TEST(CheckpointTest, LineHasTheDocumentedBytesAndAnIndependentSignature) {
  EXPECT_EQ(FormatCheckpointLine(SampleCheckpoint()), SampleCheckpointLine());
}

TEST(CheckpointTest, LineRoundTrips) {
  const Checkpoint cp = SampleCheckpoint();
  auto parsed = ParseCheckpointLine(FormatCheckpointLine(cp));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->origin, cp.origin);
  EXPECT_EQ(parsed->tree_size, cp.tree_size);
  EXPECT_EQ(parsed->root, cp.root);
  EXPECT_EQ(parsed->time, cp.time);
  EXPECT_EQ(parsed->key_id, cp.key_id);
  EXPECT_EQ(parsed->signature, cp.signature);
  EXPECT_EQ(parsed->compact_range, cp.compact_range);
  EXPECT_EQ(FormatCheckpointLine(*parsed), FormatCheckpointLine(cp));

  // Every byte value survives base64, and the empty tree has an empty compact range.
  Checkpoint empty = cp;
  empty.tree_size = 0;
  empty.root = EmptyRootHash();
  empty.compact_range.clear();
  for (int fill : {0x00, 0xff, 0x80}) {
    empty.signature = std::string(64, static_cast<char>(fill));
    for (size_t i = 0; i < 64; i += 3) empty.signature[i] = static_cast<char>(i * 4 + 1);
    auto back = ParseCheckpointLine(FormatCheckpointLine(empty));
    ASSERT_TRUE(back.ok()) << back.status().message();
    EXPECT_EQ(back->signature, empty.signature);
    EXPECT_EQ(back->tree_size, 0u);
    EXPECT_TRUE(back->compact_range.empty());
  }
}

TEST(CheckpointTest, ParseRefusesMalformedLines) {
  const std::string ok = SampleCheckpointLine();
  ASSERT_TRUE(ParseCheckpointLine(ok).ok());
  const std::string sig = std::string(kSampleSignatureB64);
  const struct {
    std::string line;
    const char* mention;
  } kCases[] = {
      {ok.substr(0, ok.size() - 1), "not valid JSON"},
      {"[]", "not a JSON object"},
      {ok.substr(0, ok.size() - 1) + R"(,"extra":1})", "unknown key \"extra\""},
      {Replace(ok, R"("treeSize":5,)", ""), "missing the key \"treeSize\""},
      {Replace(ok, R"("treeSize":5,)", R"("treeSize":5,"treeSize":5,)"), "duplicate"},
      {Replace(ok, R"("time":"2026-11-27T05:52:23Z","keyId":"21fe31dfa154a261")",
               R"("keyId":"21fe31dfa154a261","time":"2026-11-27T05:52:23Z")"),
       "order"},
      {Replace(ok, R"("treeSize":5)", R"("treeSize":-5)"), "\"treeSize\" is not an unsigned"},
      {Replace(ok, R"("treeSize":5)", R"("treeSize":5.0)"), "\"treeSize\" is not an unsigned"},
      {Replace(ok, R"("treeSize":5)", R"("treeSize":"5")"), "\"treeSize\" is not an unsigned"},
      {Replace(ok, "\"2d7116", "\"2D7116"), "\"rootHash\" is not 64 lowercase hex"},
      {Replace(ok, "\"2d7116", "\"2d711"), "\"rootHash\" is not 64 lowercase hex"},
      {Replace(ok, "05:52:23Z", "05:52:23.000Z"), "\"time\" is not an RFC 3339"},
      {Replace(ok, "2026-11-27T", "2026-11-32T"), "\"time\" is not an RFC 3339"},
      {Replace(ok, "21fe31dfa154a261", "21fe31dfa154a26"), "\"keyId\" is not 16 lowercase hex"},
      {Replace(ok, "21fe31dfa154a261", "21FE31DFA154A261"), "\"keyId\" is not 16 lowercase hex"},
      {Replace(ok, sig, sig.substr(0, sig.size() - 2)), "not canonical base64"},
      {Replace(ok, sig, sig.substr(0, sig.size() - 3) + "h=="), "not canonical base64"},
      {Replace(ok, sig, sig.substr(0, 10) + "*" + sig.substr(11)), "not canonical base64"},
      {Replace(ok, sig, sig.substr(0, 10) + "=" + sig.substr(11)), "not canonical base64"},
      {Replace(ok, sig, sig.substr(0, 84)), "not the 64 of an Ed25519 signature"},
      {Replace(ok, sig, ""), "not the 64 of an Ed25519 signature"},
      {Replace(ok, R"(",")" + Rep('b'), ""), "\"compactRange\" has 1 hashes; a tree of size 5"},
      {Replace(ok, R"("treeSize":5)", R"("treeSize":7)"), "a tree of size 7 has 3"},
      {Replace(ok, "\"" + Rep('b') + "\"", "1"), "\"compactRange\" holds a non-string"},
      {Replace(ok, Rep('b'), Rep('B')), "\"compactRange\" holds a value that is not 64"},
      {Replace(ok, R"("compactRange":[)", R"("compactRange":{"a":[)") + "}",
       "\"compactRange\" is not an array"},
      {Replace(ok, std::string(kOrigin), ""), "\"origin\" is empty"},
      {Replace(ok, "us-east-1", "us-east-1\\n"), "\"origin\" contains a control character"},
      {Replace(ok, R"("origin":")" + std::string(kOrigin) + "\"", R"("origin":7)"),
       "\"origin\" is not a string"},
  };
  for (const auto& c : kCases) {
    ExpectInvalid(ParseCheckpointLine(c.line).status(), c.mention, c.line);
  }
  ExpectInvalid(ParseCheckpointLine(ok + std::string(kMaxRecordBytes, ' ')).status(), "limit",
                "oversize");
}

TEST(CheckpointTest, SignatureVerifies) {
  const std::string pk = SampleKey().PublicKey();
  EXPECT_TRUE(VerifyCheckpointSignature(SampleCheckpoint(), pk).ok());
  auto parsed = ParseCheckpointLine(SampleCheckpointLine());
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(VerifyCheckpointSignature(*parsed, pk).ok());
  // The compact range is not signed; readers check it against the root instead.
  parsed->compact_range = {H(Rep('c'))};
  EXPECT_TRUE(VerifyCheckpointSignature(*parsed, pk).ok());
}

TEST(CheckpointTest, SignatureFailsForAnyTamperingOrAnotherKey) {
  const std::string pk = SampleKey().PublicKey();
  auto unauthenticated = [](const Status& s, std::string_view mention) {
    EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s.ToString();
    EXPECT_NE(s.message().find(mention), std::string::npos) << s.message();
  };
  {
    Checkpoint cp = SampleCheckpoint();
    cp.tree_size = 6;
    unauthenticated(VerifyCheckpointSignature(cp, pk), "does not verify");
  }
  {
    // A line edited on disk to claim a larger tree.
    const std::string edited =
        Replace(Replace(SampleCheckpointLine(), R"("treeSize":5)", R"("treeSize":4)"),
                R"(",")" + Rep('b'), "");
    auto cp = ParseCheckpointLine(edited);
    ASSERT_TRUE(cp.ok()) << cp.status().message();
    unauthenticated(VerifyCheckpointSignature(*cp, pk), "does not verify");
  }
  {
    Checkpoint cp = SampleCheckpoint();
    cp.root[31] ^= 1;
    unauthenticated(VerifyCheckpointSignature(cp, pk), "does not verify");
  }
  {
    Checkpoint cp = SampleCheckpoint();
    cp.origin = "arn:aws:perimeter:us-east-1:123456789013:audit";
    unauthenticated(VerifyCheckpointSignature(cp, pk), "does not verify");
  }
  {
    Checkpoint cp = SampleCheckpoint();
    cp.time += seconds(1);
    unauthenticated(VerifyCheckpointSignature(cp, pk), "does not verify");
  }
  {
    Checkpoint cp = SampleCheckpoint();
    cp.signature[10] ^= 1;
    unauthenticated(VerifyCheckpointSignature(cp, pk), "does not verify");
  }
  {
    Checkpoint cp = SampleCheckpoint();
    cp.signature.pop_back();
    unauthenticated(VerifyCheckpointSignature(cp, pk), "63-byte signature");
  }
  {
    // The key id names a different key than the one we hold.
    Checkpoint cp = SampleCheckpoint();
    cp.key_id = "0000000000000000";
    unauthenticated(VerifyCheckpointSignature(cp, pk), "key id \"0000000000000000\"");
  }
  auto other = crypto::Ed25519PrivateKey::Generate();
  ASSERT_TRUE(other.ok());
  const std::string other_pk = other->PublicKey();
  // Checked against the wrong public key: the key id gives it away.
  unauthenticated(VerifyCheckpointSignature(SampleCheckpoint(), other_pk), "key id");
  {
    // A forger who also rewrites keyId to the other key's still cannot sign for it.
    Checkpoint cp = SampleCheckpoint();
    cp.key_id = KeyIdOf(other_pk);
    unauthenticated(VerifyCheckpointSignature(cp, other_pk), "does not verify");
  }
  {
    // Signed by the other key, claiming the real key: refused on the key id, and on the
    // signature if the key id is forged too.
    Checkpoint cp = SampleCheckpoint();
    auto sig = other->Sign(CheckpointMessage(cp));
    ASSERT_TRUE(sig.ok());
    cp.signature = *sig;
    unauthenticated(VerifyCheckpointSignature(cp, pk), "does not verify");
    cp.key_id = KeyIdOf(other_pk);
    EXPECT_TRUE(VerifyCheckpointSignature(cp, other_pk).ok());
    unauthenticated(VerifyCheckpointSignature(cp, pk), "key id");
  }
  unauthenticated(VerifyCheckpointSignature(SampleCheckpoint(), pk.substr(0, 31)), "31 bytes");
  unauthenticated(VerifyCheckpointSignature(SampleCheckpoint(), ""), "0 bytes");
}

// --- pruned.json. ---

TEST(PrunedStateTest, HasTheDocumentedBytesAndRoundTrips) {
  PrunedState p;
  p.pruned_size = 6;
  p.last_leaf_hash = H(Rep('1'));
  p.compact_range = {H(Rep('a')), H(Rep('b'))};
  const std::string text = FormatPrunedState(p);
  EXPECT_EQ(text, R"({"prunedSize":6,"lastLeafHash":")" + Rep('1') + R"(","compactRange":[")" +
                      Rep('a') + R"(",")" + Rep('b') + R"("]})");
  auto parsed = ParsePrunedState(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->pruned_size, 6u);
  EXPECT_EQ(parsed->last_leaf_hash, p.last_leaf_hash);
  EXPECT_EQ(parsed->compact_range, p.compact_range);
  // A file may end with a newline.
  EXPECT_TRUE(ParsePrunedState(text + "\n").ok());
}

TEST(PrunedStateTest, ParseRefusesMalformedState) {
  const std::string ok = R"({"prunedSize":6,"lastLeafHash":")" + Rep('1') +
                         R"(","compactRange":[")" + Rep('a') + R"(",")" + Rep('b') + R"("]})";
  ASSERT_TRUE(ParsePrunedState(ok).ok());
  const struct {
    std::string text;
    const char* mention;
  } kCases[] = {
      {ok.substr(0, ok.size() - 2), "not valid JSON"},
      {Replace(ok, R"("prunedSize":6)", R"("prunedSize":4)"), "a tree of size 4 has 1"},
      {Replace(ok, R"("prunedSize":6)", R"("prunedSize":-6)"), "\"prunedSize\" is not an unsigned"},
      {Replace(ok, Rep('1'), Rep('1', 63)), "\"lastLeafHash\" is not 64 lowercase hex"},
      {Replace(ok, R"("prunedSize":6,)", ""), "missing the key \"prunedSize\""},
      {ok.substr(0, ok.size() - 1) + R"(,"note":"x"})", "unknown key \"note\""},
      {Replace(ok, R"("prunedSize":6,)", R"("prunedSize":6,"prunedSize":6,)"), "duplicate"},
      {R"({"lastLeafHash":")" + Rep('1') + R"(","prunedSize":6,"compactRange":[")" + Rep('a') +
           R"(",")" + Rep('b') + R"("]})",
       "order"},
      {Replace(ok, R"(["a)", R"("a)"), "not valid JSON"},
  };
  for (const auto& c : kCases) ExpectInvalid(ParsePrunedState(c.text).status(), c.mention, c.text);
}

}  // namespace
}  // namespace perimeter::audit
