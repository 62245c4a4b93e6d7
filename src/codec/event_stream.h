#pragma once

// The AWS event stream framing (content type application/vnd.amazon.eventstream), used by
// Bedrock's InvokeModelWithResponseStream and ConverseStream responses.
//
// One message on the wire, all integers big-endian:
//
//   total length (u32) | headers length (u32) | prelude CRC (u32, CRC-32 of the first 8 bytes)
//   | headers | payload | message CRC (u32, CRC-32 of every preceding byte of the message)
//
// A header is: name length (u8) | name | value type (u8) | value, where the value is empty for
// the two booleans, 1/2/4/8 bytes for byte/short/int/long, u16 length + bytes for byte arrays
// and strings, an i64 of milliseconds since the epoch for timestamps, and 16 bytes for UUIDs.
//
// The codec is exact: decoding a frame and encoding the result reproduces the frame's bytes,
// so the gateway can inspect upstream frames and pass them on unchanged.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace perimeter::codec {

inline constexpr size_t kEventStreamPreludeBytes = 12;     // lengths + prelude CRC
inline constexpr size_t kEventStreamMinMessageBytes = 16;  // prelude + message CRC
inline constexpr size_t kEventStreamDefaultMaxMessageBytes = 16 * 1024 * 1024;

struct EventStreamHeaderValue {
  enum class Type : uint8_t {
    kBoolTrue = 0,
    kBoolFalse = 1,
    kByte = 2,
    kShort = 3,
    kInt = 4,
    kLong = 5,
    kBytes = 6,
    kString = 7,
    kTimestamp = 8,
    kUuid = 9,
  };
  Type type = Type::kString;
  // kByte/kShort/kInt/kLong: the signed value, which must fit the type's width.
  // kTimestamp: milliseconds since the Unix epoch. Unused (and ignored) for the other types.
  int64_t integer = 0;
  // kBytes/kString: the value (at most 65535 bytes; strings are not checked for UTF-8).
  // kUuid: exactly 16 raw bytes. Unused (and ignored) for the other types.
  std::string bytes;

  friend bool operator==(const EventStreamHeaderValue&, const EventStreamHeaderValue&) = default;
};

struct EventStreamHeader {
  std::string name;  // 1 to 255 bytes
  EventStreamHeaderValue value;

  friend bool operator==(const EventStreamHeader&, const EventStreamHeader&) = default;
};

struct EventStreamMessage {
  // In wire order. Duplicate names are kept as they are (the format does not forbid them).
  std::vector<EventStreamHeader> headers;
  std::string payload;

  // The value of the first header called `name` if that header is a string; nullptr if there is
  // no such header or the first one has another type. The pointer is valid while `headers` is
  // not modified.
  const std::string* StringHeader(std::string_view name) const;

  friend bool operator==(const EventStreamMessage&, const EventStreamMessage&) = default;
};

// Checks that `m` can be encoded: every header name is 1-255 bytes, every type is one of the
// ten known types, integers fit their type's width, byte arrays and strings are at most 65535
// bytes, UUIDs are exactly 16 bytes, and the whole frame fits the u32 length field. Returns
// InvalidArgument naming the first violation. Use it before encoding a message built from
// untrusted data.
Status ValidateEventStreamMessage(const EventStreamMessage& m);

// Encodes `m` as one frame, headers in the given order. Precondition:
// ValidateEventStreamMessage(m).ok(). Violating it is a programming error: the process aborts
// with the validation message rather than emit a frame that a client would misparse.
std::string EncodeEventStreamMessage(const EventStreamMessage& m);

// The frame Bedrock sends for a stream event: headers, in this order, :event-type=<event_type>,
// :content-type=application/json, :message-type=event; payload `json_payload` (not validated).
// `event_type` must be at most 65535 bytes (same abort rule as above).
std::string EncodeEvent(std::string_view event_type, std::string_view json_payload);

// The frame Bedrock sends for an error in mid-stream: headers :exception-type=<exception_type>,
// :content-type=application/json, :message-type=exception; payload `json_payload`.
std::string EncodeException(std::string_view exception_type, std::string_view json_payload);

// Incremental decoder for one event stream. Bytes may arrive split at any point; the result
// does not depend on how the stream is split.
//
// Not thread-safe: one decoder belongs to one stream.
class EventStreamDecoder {
 public:
  // Frames whose declared total length exceeds `max_message_bytes` are rejected as soon as their
  // prelude arrives, so the decoder never buffers more than `max_message_bytes` bytes. The
  // effective limit is at most 2^32 - 1 (the width of the length field).
  explicit EventStreamDecoder(size_t max_message_bytes = kEventStreamDefaultMaxMessageBytes);

  // Appends to `out` every message completed by `bytes` (together with bytes buffered by earlier
  // calls) and buffers the rest. Returns InvalidArgument, naming the problem and the stream
  // offset of the frame, on: a prelude CRC mismatch, a total length below 16 or above the limit,
  // a headers length that does not fit in the total length, a message CRC mismatch, an empty
  // header name, an unknown header value type, or a header that runs past the headers section.
  // Messages that precede the malformed frame have already been appended to `out` when the error
  // is returned. After an error the decoder is failed: it drops its buffer and every later call
  // returns the same error without reading `bytes`.
  Status Feed(std::string_view bytes, std::vector<EventStreamMessage>& out);

  // True when the decoder holds the beginning of a message it has not completed. A stream that
  // ends while this is true was truncated, which callers must treat as an error. False after a
  // failure (the buffer is dropped).
  bool HasPartialMessage() const { return !buffer_.empty(); }

  // Number of stream bytes consumed by completed messages so far.
  uint64_t consumed_bytes() const { return consumed_; }

 private:
  Status Fail(Status status);
  // Decodes `frame`, exactly one complete message whose prelude has already been validated.
  Status DecodeFrame(std::string_view frame, uint32_t headers_length, EventStreamMessage& out);

  size_t max_message_bytes_;
  std::string buffer_;     // unconsumed bytes; never longer than one message
  uint64_t consumed_ = 0;  // stream offset of buffer_[0]
  Status failed_;
};

}  // namespace perimeter::codec
