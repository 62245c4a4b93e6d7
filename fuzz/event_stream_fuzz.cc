// Fuzz target for codec::EventStreamDecoder and EncodeEventStreamMessage.
//
// Invariants checked:
//  1. The decoder's result (messages, status, leftover) does not depend on how the input is split:
//     whole, cut at an input-derived point, and (for small inputs) one byte at a time agree.
//  2. Re-encoding the decoded messages reproduces exactly the bytes they were decoded from, and
//     decoding those bytes again gives the same messages.
//  3. The size limit is enforced: no message longer than the limit is ever produced.
//  4. A message built from the input (every header type) survives encode -> decode -> encode.
// Invariants 1-3 are also checked on a copy of the input whose CRCs have been recomputed, so the
// fuzzer reaches the header parser with arbitrary header bytes instead of stopping at a CRC.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codec/crc32.h"
#include "codec/event_stream.h"
#include "fuzz_support.h"

namespace perimeter::fuzz {
namespace {

using codec::EventStreamDecoder;
using codec::EventStreamMessage;
using Type = codec::EventStreamHeaderValue::Type;

struct Decoded {
  std::vector<EventStreamMessage> messages;
  Status status;
  bool partial = false;
  uint64_t consumed = 0;
};

Decoded DecodeInPieces(std::string_view input, size_t max, const std::vector<size_t>& cuts) {
  EventStreamDecoder decoder(max);
  Decoded d;
  size_t begin = 0;
  for (size_t cut : cuts) {
    if (!d.status.ok()) {
      break;
    }
    d.status = decoder.Feed(input.substr(begin, cut - begin), d.messages);
    begin = cut;
  }
  if (d.status.ok()) {
    d.status = decoder.Feed(input.substr(begin), d.messages);
  }
  // A failed decoder keeps failing with the same error.
  if (!d.status.ok()) {
    std::vector<EventStreamMessage> more;
    const Status again = decoder.Feed(input, more);
    PERIMETER_FUZZ_CHECK(!again.ok() && again.message() == d.status.message() && more.empty());
  }
  d.partial = decoder.HasPartialMessage();
  d.consumed = decoder.consumed_bytes();
  return d;
}

void CheckSame(const Decoded& a, const Decoded& b) {
  PERIMETER_FUZZ_CHECK(a.messages == b.messages);
  PERIMETER_FUZZ_CHECK(a.status.code() == b.status.code());
  PERIMETER_FUZZ_CHECK(a.status.message() == b.status.message());
  PERIMETER_FUZZ_CHECK(a.consumed == b.consumed);
  if (a.status.ok()) {
    PERIMETER_FUZZ_CHECK(a.partial == b.partial);
  }
}

void CheckDecoding(std::string_view input, size_t max) {
  const Decoded whole = DecodeInPieces(input, max, {});
  CheckSame(whole, DecodeInPieces(input, max, {SplitPoint(input)}));
  if (input.size() <= 256) {
    std::vector<size_t> every_byte;
    for (size_t i = 1; i < input.size(); ++i) {
      every_byte.push_back(i);
    }
    CheckSame(whole, DecodeInPieces(input, max, every_byte));
  }

  std::string reencoded;
  for (const auto& m : whole.messages) {
    PERIMETER_FUZZ_CHECK(codec::ValidateEventStreamMessage(m).ok());
    const std::string frame = codec::EncodeEventStreamMessage(m);
    PERIMETER_FUZZ_CHECK(frame.size() <= max);
    reencoded += frame;
  }
  PERIMETER_FUZZ_CHECK(reencoded.size() == whole.consumed);
  PERIMETER_FUZZ_CHECK(input.substr(0, reencoded.size()) == reencoded);
  if (whole.status.ok()) {
    PERIMETER_FUZZ_CHECK(whole.partial == (reencoded.size() < input.size()));
  } else {
    PERIMETER_FUZZ_CHECK(whole.status.code() == StatusCode::kInvalidArgument);
    PERIMETER_FUZZ_CHECK(!whole.partial);
  }
  const Decoded again = DecodeInPieces(reencoded, max, {});
  PERIMETER_FUZZ_CHECK(again.status.ok() && !again.partial);
  PERIMETER_FUZZ_CHECK(again.messages == whole.messages);
}

// Rewrites the prelude and message CRCs of consecutive frames so they are correct for whatever
// lengths, headers and payload the input declares. Stops at the first frame that does not fit.
std::string WithValidCrcs(std::string_view input) {
  std::string s(input);
  auto write_u32 = [&s](size_t pos, uint32_t v) {
    for (int i = 0; i < 4; ++i) {
      s[pos + i] = static_cast<char>((v >> (24 - 8 * i)) & 0xFF);
    }
  };
  size_t pos = 0;
  while (s.size() - pos >= codec::kEventStreamPreludeBytes) {
    const std::string_view all = s;  // no reallocation below: only bytes are overwritten
    write_u32(pos + 8, codec::Crc32(all.substr(pos, 8)));
    const auto* p = reinterpret_cast<const unsigned char*>(s.data() + pos);
    const size_t total = (size_t{p[0]} << 24) | (size_t{p[1]} << 16) | (size_t{p[2]} << 8) | p[3];
    if (total < codec::kEventStreamMinMessageBytes || total > s.size() - pos) {
      break;
    }
    write_u32(pos + total - 4, codec::Crc32(all.substr(pos, total - 4)));
    pos += total;
  }
  return s;
}

int Width(Type type) {
  switch (type) {
    case Type::kByte:
      return 1;
    case Type::kShort:
      return 2;
    case Type::kInt:
      return 4;
    case Type::kLong:
    case Type::kTimestamp:
      return 8;
    default:
      return 0;
  }
}

EventStreamMessage BuildMessage(std::string_view input) {
  ByteReader r(input);
  EventStreamMessage m;
  const int headers = r.Byte() % 8;
  for (int i = 0; i < headers; ++i) {
    codec::EventStreamHeader h;
    h.name = r.Take(1 + r.Byte() % 12);
    if (h.name.empty()) {
      h.name = "h";
    }
    h.value.type = static_cast<Type>(r.Byte() % 10);
    if (const int width = Width(h.value.type); width > 0) {
      h.value.integer = r.Signed(width);
    } else if (h.value.type == Type::kUuid) {
      h.value.bytes = r.Take(16);
      h.value.bytes.resize(16);
    } else if (h.value.type == Type::kBytes || h.value.type == Type::kString) {
      h.value.bytes = r.Take(r.Byte() % 24);
    }
    m.headers.push_back(std::move(h));
  }
  m.payload = r.Rest();
  return m;
}

void CheckEncoding(std::string_view input) {
  const EventStreamMessage m = BuildMessage(input);
  PERIMETER_FUZZ_CHECK(codec::ValidateEventStreamMessage(m).ok());
  const std::string frame = codec::EncodeEventStreamMessage(m);
  EventStreamDecoder decoder;
  std::vector<EventStreamMessage> out;
  PERIMETER_FUZZ_CHECK(decoder.Feed(frame, out).ok());
  PERIMETER_FUZZ_CHECK(!decoder.HasPartialMessage());
  PERIMETER_FUZZ_CHECK(out.size() == 1 && out[0] == m);
  PERIMETER_FUZZ_CHECK(codec::EncodeEventStreamMessage(out[0]) == frame);
}

}  // namespace
}  // namespace perimeter::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  perimeter::fuzz::CheckDecoding(input, perimeter::codec::kEventStreamDefaultMaxMessageBytes);
  // A small limit (16..526 bytes) chosen by the input exercises the size check.
  const size_t small_max = 16 + (size > 0 ? data[0] * 2 : 0);
  perimeter::fuzz::CheckDecoding(input, small_max);
  perimeter::fuzz::CheckDecoding(perimeter::fuzz::WithValidCrcs(input),
                                 perimeter::codec::kEventStreamDefaultMaxMessageBytes);
  perimeter::fuzz::CheckEncoding(input);
  return 0;
}
