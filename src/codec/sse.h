#pragma once

// Server-sent events (text/event-stream), as used by OpenAI-compatible streaming responses.
// The decoder follows the WHATWG HTML "event stream interpretation" rules; see SseDecoder.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace perimeter::codec {

inline constexpr size_t kSseDefaultMaxEventBytes = 1 << 20;

struct SseEvent {
  // The `event:` field as sent; empty when the event had none (browsers then call it "message").
  std::string event;
  // The `data:` lines joined with "\n".
  std::string data;
  // The last event ID in effect when the event was dispatched. As in the WHATWG rules it persists
  // across events until an `id:` field changes it.
  std::string id;

  friend bool operator==(const SseEvent&, const SseEvent&) = default;
};

// "data: <line>\n" for every line of `data`, then "\n". Lines are split at "\n", "\r\n" and "\r",
// so a decoder returns `data` with every line break turned into "\n" (SSE cannot carry "\r").
// An empty `data` yields "data: \n\n", which decodes to one event with empty data.
std::string EncodeSseData(std::string_view data);

// "event: <event>\n" followed by EncodeSseData(data). Precondition: `event` contains no "\r" or
// "\n" (it would end the field and let the rest be read as other fields); violating it is a
// programming error and aborts the process.
std::string EncodeSseEvent(std::string_view event, std::string_view data);

// Incremental decoder for one event stream. Bytes may arrive split at any point (including
// between "\r" and "\n"); the events produced do not depend on how the stream is split.
//
// Rules (WHATWG): lines end at "\r\n", "\n" or "\r"; one leading UTF-8 byte order mark is
// dropped; a line starting with ':' is a comment; "name: value" sets a field, with one space
// after the colon removed; a line without a colon is a field with an empty value; `data` appends
// the value plus "\n" to the data buffer, `event` sets the type, `id` sets the last event ID
// unless the value contains NUL, `retry` and unknown fields are ignored; an empty line dispatches
// the event (minus the final "\n" of the data buffer) unless the data buffer is empty, and then
// clears the data and type. Bytes are passed through as they are: invalid UTF-8 is not replaced.
//
// Not thread-safe: one decoder belongs to one stream.
class SseDecoder {
 public:
  // `max_event_bytes` bounds both one line and the fields buffered for one event (data plus
  // type), so the decoder holds O(max_event_bytes) memory whatever it is fed.
  explicit SseDecoder(size_t max_event_bytes = kSseDefaultMaxEventBytes);

  // Appends to `out` every event dispatched by `bytes` and keeps the rest for later calls.
  // Returns InvalidArgument when a line or an event grows past the limit; events dispatched before
  // that point have been appended. After an error the decoder is failed: every later call returns
  // the same error without reading `bytes`.
  Status Feed(std::string_view bytes, std::vector<SseEvent>& out);

  // True when the decoder holds part of a line or fields of an event not yet dispatched. The WHATWG
  // rules discard such data when the stream ends; a proxy may want to know that it happened.
  bool HasPendingData() const {
    return !line_.empty() || !data_.empty() || !event_type_.empty() || !bom_prefix_.empty();
  }

 private:
  Status Process(std::string_view bytes, std::vector<SseEvent>& out);
  Status ProcessLine(std::string_view line, std::vector<SseEvent>& out);
  Status Fail(Status status);

  size_t max_event_bytes_;
  bool bom_checked_ = false;  // the stream's first bytes have been compared with the BOM
  std::string bom_prefix_;    // a proper prefix of the BOM seen at the stream start so far
  bool skip_lf_ = false;      // the previous line ended with "\r"; a following "\n" belongs to it
  std::string line_;          // the incomplete last line
  std::string data_;
  std::string event_type_;
  std::string last_event_id_;
  Status failed_;
};

}  // namespace perimeter::codec
