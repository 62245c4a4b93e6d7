// Fuzz target for codec::SseDecoder and the SSE encoders.
//
// Invariants checked:
//  1. The events and status do not depend on how the input is split (whole, cut at an
//     input-derived point, and one byte at a time for small inputs), including "\r\n" and a
//     byte order mark cut in two.
//  2. Decoded fields never contain a line break ("\r" anywhere; "\n" in event names and ids).
//  3. With a limit, no event or line larger than the limit is produced.
//  4. Re-encoding the decoded events and decoding again gives the same event names and data.
//  5. Encoding the raw input as data and decoding returns it with line breaks normalized to "\n".
//  6. Differential: without a limit in the way, the decoder agrees with ReferenceDecode, a direct
//     transcription of the WHATWG rules over the complete input.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "codec/sse.h"
#include "fuzz_support.h"

namespace perimeter::fuzz {
namespace {

using codec::SseDecoder;
using codec::SseEvent;

struct Decoded {
  std::vector<SseEvent> events;
  Status status;
  bool pending = false;
};

Decoded DecodeInPieces(std::string_view input, size_t max, const std::vector<size_t>& cuts) {
  SseDecoder decoder(max);
  Decoded d;
  size_t begin = 0;
  for (size_t cut : cuts) {
    if (!d.status.ok()) {
      break;
    }
    d.status = decoder.Feed(input.substr(begin, cut - begin), d.events);
    begin = cut;
  }
  if (d.status.ok()) {
    d.status = decoder.Feed(input.substr(begin), d.events);
  }
  if (!d.status.ok()) {
    std::vector<SseEvent> more;
    const Status again = decoder.Feed(input, more);
    PERIMETER_FUZZ_CHECK(!again.ok() && again.message() == d.status.message() && more.empty());
  }
  d.pending = decoder.HasPendingData();
  return d;
}

void CheckSame(const Decoded& a, const Decoded& b) {
  PERIMETER_FUZZ_CHECK(a.events == b.events);
  PERIMETER_FUZZ_CHECK(a.status.code() == b.status.code());
  PERIMETER_FUZZ_CHECK(a.status.message() == b.status.message());
  if (a.status.ok()) {
    PERIMETER_FUZZ_CHECK(a.pending == b.pending);
  }
}

std::string NormalizeLineBreaks(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < s.size() && s[i + 1] == '\n') {
        ++i;
      }
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The WHATWG "interpret an event stream" rules applied to a complete stream in the plainest way:
// split all lines first, then interpret them. Slow, but independent of the incremental decoder.
std::vector<SseEvent> ReferenceDecode(std::string_view s) {
  if (s.substr(0, 3) == "\xEF\xBB\xBF") {
    s.remove_prefix(3);
  }
  std::vector<std::string> lines;
  std::string current;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' || s[i] == '\n') {
      lines.push_back(current);
      current.clear();
      if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {
        ++i;
      }
    } else {
      current.push_back(s[i]);
    }
  }
  // `current` is an unterminated last line: never interpreted.
  std::vector<SseEvent> events;
  std::string data;
  std::string type;
  std::string id;
  for (const std::string& line : lines) {
    if (line.empty()) {
      if (!data.empty()) {
        data.pop_back();
        events.push_back(SseEvent{type, data, id});
      }
      data.clear();
      type.clear();
      continue;
    }
    if (line[0] == ':') {
      continue;
    }
    const size_t colon = line.find(':');
    const std::string field = line.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') {
      value.erase(0, 1);
    }
    if (field == "event") {
      type = value;
    } else if (field == "data") {
      data += value + "\n";
    } else if (field == "id" && value.find('\0') == std::string::npos) {
      id = value;
    }
  }
  return events;
}

void CheckDecoding(std::string_view input, size_t max) {
  const Decoded whole = DecodeInPieces(input, max, {});
  CheckSame(whole, DecodeInPieces(input, max, {SplitPoint(input)}));
  if (input.size() <= 512) {
    std::vector<size_t> every_byte;
    for (size_t i = 1; i < input.size(); ++i) {
      every_byte.push_back(i);
    }
    CheckSame(whole, DecodeInPieces(input, max, every_byte));
  }
  if (!whole.status.ok()) {
    PERIMETER_FUZZ_CHECK(whole.status.code() == StatusCode::kInvalidArgument);
  }
  // No line or event can outgrow a limit that the whole input fits in.
  if (input.size() <= max) {
    PERIMETER_FUZZ_CHECK(whole.status.ok());
  }
  if (whole.status.ok()) {
    PERIMETER_FUZZ_CHECK(whole.events == ReferenceDecode(input));
  }

  std::string reencoded;
  for (const SseEvent& e : whole.events) {
    PERIMETER_FUZZ_CHECK(e.data.find('\r') == std::string::npos);
    PERIMETER_FUZZ_CHECK(e.event.find_first_of("\r\n") == std::string::npos);
    PERIMETER_FUZZ_CHECK(e.id.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos);
    PERIMETER_FUZZ_CHECK(e.data.size() < max && e.event.size() <= max && e.id.size() <= max);
    reencoded +=
        e.event.empty() ? codec::EncodeSseData(e.data) : codec::EncodeSseEvent(e.event, e.data);
  }
  const Decoded again = DecodeInPieces(reencoded, codec::kSseDefaultMaxEventBytes * 2, {});
  PERIMETER_FUZZ_CHECK(again.status.ok() && !again.pending);
  PERIMETER_FUZZ_CHECK(again.events.size() == whole.events.size());
  for (size_t i = 0; i < whole.events.size(); ++i) {
    PERIMETER_FUZZ_CHECK(again.events[i].event == whole.events[i].event);
    PERIMETER_FUZZ_CHECK(again.events[i].data == whole.events[i].data);
  }
}

void CheckEncoding(std::string_view input) {
  std::vector<SseEvent> out;
  SseDecoder decoder(codec::kSseDefaultMaxEventBytes * 2);
  PERIMETER_FUZZ_CHECK(decoder.Feed(codec::EncodeSseData(input), out).ok());
  PERIMETER_FUZZ_CHECK(!decoder.HasPendingData());
  PERIMETER_FUZZ_CHECK(out.size() == 1);
  PERIMETER_FUZZ_CHECK(out[0].event.empty());
  PERIMETER_FUZZ_CHECK(out[0].data == NormalizeLineBreaks(input));
}

}  // namespace
}  // namespace perimeter::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  perimeter::fuzz::CheckDecoding(input, perimeter::codec::kSseDefaultMaxEventBytes);
  // A small limit (1..256 bytes) chosen by the input exercises the size checks.
  perimeter::fuzz::CheckDecoding(input, 1 + (size > 0 ? data[size - 1] : 0));
  perimeter::fuzz::CheckEncoding(input);
  return 0;
}
