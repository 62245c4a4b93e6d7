#include "codec/event_stream.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "codec/crc32.h"

namespace perimeter::codec {
namespace {

using Type = EventStreamHeaderValue::Type;

constexpr size_t kMaxHeaderNameBytes = 255;
constexpr size_t kMaxVariableValueBytes = 65535;
constexpr size_t kUuidBytes = 16;
constexpr uint8_t kMaxKnownType = static_cast<uint8_t>(Type::kUuid);

constexpr std::string_view kCorruptAdvice =
    "; the stream is corrupt or is not an AWS event stream and cannot be resumed, so fail the "
    "request";

uint32_t ReadU32(std::string_view s, size_t pos) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data() + pos);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// Reads `width` bytes (1, 2, 4 or 8) big-endian and sign-extends them.
int64_t ReadSigned(std::string_view s, size_t pos, int width) {
  uint64_t v = 0;
  for (int i = 0; i < width; ++i) {
    v = (v << 8) | static_cast<unsigned char>(s[pos + i]);
  }
  const int shift = 64 - 8 * width;
  // Two's complement sign extension; well defined since C++20.
  return static_cast<int64_t>(v << shift) >> shift;
}

void AppendBigEndian(std::string& out, uint64_t v, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
}

std::string MessageAt(uint64_t offset) {
  return "event stream message at byte offset " + std::to_string(offset);
}

// A header name as it may appear in an error message: bytes outside printable ASCII become
// \xNN and long names are cut, so a hostile frame cannot inject control characters into logs.
std::string Printable(std::string_view name) {
  constexpr size_t kMaxShown = 64;
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < name.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\' && c != '\'') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'\\', 'x', kHex[c >> 4], kHex[c & 0xF]};
    }
  }
  if (name.size() > kMaxShown) {
    out += "...";
  }
  return out;
}

std::string Hex32(uint32_t v) {
  char buf[11];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

// Width in bytes of a fixed-size value, or 0 for booleans; -1 for variable-length types.
int FixedValueWidth(Type type) {
  switch (type) {
    case Type::kBoolTrue:
    case Type::kBoolFalse:
      return 0;
    case Type::kByte:
      return 1;
    case Type::kShort:
      return 2;
    case Type::kInt:
      return 4;
    case Type::kLong:
    case Type::kTimestamp:
      return 8;
    case Type::kUuid:
      return 16;
    case Type::kBytes:
    case Type::kString:
      return -1;
  }
  return -1;
}

bool FitsWidth(int64_t v, int width) {
  if (width >= 8) {
    return true;
  }
  const int64_t lo = -(int64_t{1} << (8 * width - 1));
  const int64_t hi = (int64_t{1} << (8 * width - 1)) - 1;
  return v >= lo && v <= hi;
}

size_t EncodedHeadersSize(const EventStreamMessage& m) {
  size_t n = 0;
  for (const auto& h : m.headers) {
    n += 1 + h.name.size() + 1;
    const int width = FixedValueWidth(h.value.type);
    n += width >= 0 ? static_cast<size_t>(width) : 2 + h.value.bytes.size();
  }
  return n;
}

void AppendStringHeader(EventStreamMessage& m, std::string_view name, std::string_view value) {
  EventStreamHeader h;
  h.name = std::string(name);
  h.value.type = Type::kString;
  h.value.bytes = std::string(value);
  m.headers.push_back(std::move(h));
}

std::string EncodeJsonFrame(std::string_view type_header, std::string_view type,
                            std::string_view message_type, std::string_view json_payload) {
  EventStreamMessage m;
  m.headers.reserve(3);
  AppendStringHeader(m, type_header, type);
  AppendStringHeader(m, ":content-type", "application/json");
  AppendStringHeader(m, ":message-type", message_type);
  m.payload = std::string(json_payload);
  return EncodeEventStreamMessage(m);
}

}  // namespace

const std::string* EventStreamMessage::StringHeader(std::string_view name) const {
  for (const auto& h : headers) {
    if (h.name == name) {
      return h.value.type == Type::kString ? &h.value.bytes : nullptr;
    }
  }
  return nullptr;
}

Status ValidateEventStreamMessage(const EventStreamMessage& m) {
  for (size_t i = 0; i < m.headers.size(); ++i) {
    const EventStreamHeader& h = m.headers[i];
    auto where = [i] { return "event stream header #" + std::to_string(i); };
    if (h.name.empty() || h.name.size() > kMaxHeaderNameBytes) {
      return InvalidArgument(where() + " has a name of " + std::to_string(h.name.size()) +
                             " bytes; header names must be 1 to 255 bytes");
    }
    const auto raw_type = static_cast<uint8_t>(h.value.type);
    if (raw_type > kMaxKnownType) {
      return InvalidArgument(where() + " ('" + Printable(h.name) + "') has unknown value type " +
                             std::to_string(raw_type) + "; use one of the types 0 to 9");
    }
    const int width = FixedValueWidth(h.value.type);
    if (width >= 1 && width <= 8 && !FitsWidth(h.value.integer, width)) {
      return InvalidArgument(where() + " ('" + Printable(h.name) + "') holds " +
                             std::to_string(h.value.integer) + ", which does not fit its " +
                             std::to_string(width) + "-byte type");
    }
    if (h.value.type == Type::kUuid && h.value.bytes.size() != kUuidBytes) {
      return InvalidArgument(where() + " ('" + Printable(h.name) + "') is a UUID of " +
                             std::to_string(h.value.bytes.size()) +
                             " bytes; a UUID value must be exactly 16 raw bytes");
    }
    if (width < 0 && h.value.bytes.size() > kMaxVariableValueBytes) {
      return InvalidArgument(where() + " ('" + Printable(h.name) + "') has a value of " +
                             std::to_string(h.value.bytes.size()) +
                             " bytes; string and byte-array values are limited to 65535 bytes");
    }
  }
  const size_t headers_size = EncodedHeadersSize(m);
  const uint64_t total =
      uint64_t{kEventStreamMinMessageBytes} + headers_size + uint64_t{m.payload.size()};
  if (total > std::numeric_limits<uint32_t>::max()) {
    return InvalidArgument("event stream message of " + std::to_string(total) +
                           " bytes does not fit the 32-bit length field; split the payload");
  }
  return Status::Ok();
}

std::string EncodeEventStreamMessage(const EventStreamMessage& m) {
  if (Status st = ValidateEventStreamMessage(m); !st.ok()) {
    std::fprintf(stderr, "EncodeEventStreamMessage: precondition violated: %s\n",
                 st.ToString().c_str());
    std::abort();
  }
  const size_t headers_size = EncodedHeadersSize(m);
  const size_t total = kEventStreamMinMessageBytes + headers_size + m.payload.size();

  std::string out;
  out.reserve(total);
  AppendBigEndian(out, total, 4);
  AppendBigEndian(out, headers_size, 4);
  AppendBigEndian(out, Crc32(out), 4);
  for (const auto& h : m.headers) {
    out.push_back(static_cast<char>(h.name.size()));
    out.append(h.name);
    out.push_back(static_cast<char>(h.value.type));
    const int width = FixedValueWidth(h.value.type);
    if (h.value.type == Type::kUuid) {
      out.append(h.value.bytes);
    } else if (width > 0) {
      AppendBigEndian(out, static_cast<uint64_t>(h.value.integer), width);
    } else if (width < 0) {
      AppendBigEndian(out, h.value.bytes.size(), 2);
      out.append(h.value.bytes);
    }
  }
  out.append(m.payload);
  AppendBigEndian(out, Crc32(out), 4);
  return out;
}

std::string EncodeEvent(std::string_view event_type, std::string_view json_payload) {
  return EncodeJsonFrame(":event-type", event_type, "event", json_payload);
}

std::string EncodeException(std::string_view exception_type, std::string_view json_payload) {
  return EncodeJsonFrame(":exception-type", exception_type, "exception", json_payload);
}

EventStreamDecoder::EventStreamDecoder(size_t max_message_bytes)
    : max_message_bytes_(
          std::min<size_t>(max_message_bytes, std::numeric_limits<uint32_t>::max())) {}

Status EventStreamDecoder::Fail(Status status) {
  failed_ = std::move(status);
  buffer_.clear();
  buffer_.shrink_to_fit();
  return failed_;
}

namespace {

// Validates the 12-byte prelude at the start of `data` (which belongs to the message at stream
// offset `offset`) and returns the declared lengths.
Status CheckPrelude(std::string_view data, uint64_t offset, size_t max_message_bytes,
                    uint32_t& total_length, uint32_t& headers_length) {
  const uint32_t declared_crc = ReadU32(data, 8);
  const uint32_t actual_crc = Crc32(data.substr(0, 8));
  if (declared_crc != actual_crc) {
    return InvalidArgument(MessageAt(offset) + ": prelude CRC mismatch (frame carries " +
                           Hex32(declared_crc) + ", bytes hash to " + Hex32(actual_crc) + ")" +
                           std::string(kCorruptAdvice));
  }
  total_length = ReadU32(data, 0);
  headers_length = ReadU32(data, 4);
  if (total_length < kEventStreamMinMessageBytes) {
    return InvalidArgument(MessageAt(offset) + ": total length " + std::to_string(total_length) +
                           " is below the 16-byte minimum" + std::string(kCorruptAdvice));
  }
  if (total_length > max_message_bytes) {
    return InvalidArgument(MessageAt(offset) + ": total length " + std::to_string(total_length) +
                           " exceeds the limit of " + std::to_string(max_message_bytes) +
                           " bytes; the frame is corrupt, or the limit must be raised for this "
                           "upstream");
  }
  if (headers_length > total_length - kEventStreamMinMessageBytes) {
    return InvalidArgument(MessageAt(offset) + ": headers length " +
                           std::to_string(headers_length) + " does not fit in total length " +
                           std::to_string(total_length) + " (at most total - 16)" +
                           std::string(kCorruptAdvice));
  }
  return Status::Ok();
}

}  // namespace

Status EventStreamDecoder::DecodeFrame(std::string_view frame, uint32_t headers_length,
                                       EventStreamMessage& out) {
  const size_t crc_pos = frame.size() - 4;
  const uint32_t declared_crc = ReadU32(frame, crc_pos);
  const uint32_t actual_crc = Crc32(frame.substr(0, crc_pos));
  if (declared_crc != actual_crc) {
    return InvalidArgument(MessageAt(consumed_) + ": message CRC mismatch (frame carries " +
                           Hex32(declared_crc) + ", bytes hash to " + Hex32(actual_crc) + ")" +
                           std::string(kCorruptAdvice));
  }

  const std::string_view headers = frame.substr(kEventStreamPreludeBytes, headers_length);
  size_t pos = 0;
  for (size_t index = 0; pos < headers.size(); ++index) {
    auto header_where = [&] { return MessageAt(consumed_) + ", header #" + std::to_string(index); };
    auto truncated = [&](std::string_view part) {
      return InvalidArgument(header_where() + ": the headers section ends inside the header's " +
                             std::string(part) + std::string(kCorruptAdvice));
    };
    const size_t name_length = static_cast<unsigned char>(headers[pos]);
    ++pos;
    if (name_length == 0) {
      return InvalidArgument(header_where() + ": empty header name" + std::string(kCorruptAdvice));
    }
    if (headers.size() - pos < name_length) {
      return truncated("name");
    }
    EventStreamHeader h;
    h.name = std::string(headers.substr(pos, name_length));
    pos += name_length;
    if (pos == headers.size()) {
      return truncated("value type");
    }
    const auto raw_type = static_cast<uint8_t>(headers[pos]);
    ++pos;
    if (raw_type > kMaxKnownType) {
      return InvalidArgument(header_where() + " ('" + Printable(h.name) +
                             "'): unknown value type " + std::to_string(raw_type) +
                             " (known types are 0 to 9)" + std::string(kCorruptAdvice));
    }
    h.value.type = static_cast<Type>(raw_type);
    const int width = FixedValueWidth(h.value.type);
    if (width >= 0) {
      if (headers.size() - pos < static_cast<size_t>(width)) {
        return truncated("value");
      }
      if (h.value.type == Type::kUuid) {
        h.value.bytes = std::string(headers.substr(pos, kUuidBytes));
      } else if (width > 0) {
        h.value.integer = ReadSigned(headers, pos, width);
      }
      pos += static_cast<size_t>(width);
    } else {
      if (headers.size() - pos < 2) {
        return truncated("value length");
      }
      const size_t value_length = (size_t{static_cast<unsigned char>(headers[pos])} << 8) |
                                  static_cast<unsigned char>(headers[pos + 1]);
      pos += 2;
      if (headers.size() - pos < value_length) {
        return truncated("value");
      }
      h.value.bytes = std::string(headers.substr(pos, value_length));
      pos += value_length;
    }
    out.headers.push_back(std::move(h));
  }
  const size_t payload_pos = kEventStreamPreludeBytes + headers_length;
  out.payload = std::string(frame.substr(payload_pos, crc_pos - payload_pos));
  return Status::Ok();
}

Status EventStreamDecoder::Feed(std::string_view bytes, std::vector<EventStreamMessage>& out) {
  if (!failed_.ok()) {
    return failed_;
  }
  uint32_t total_length = 0;
  uint32_t headers_length = 0;

  // Complete the message begun by earlier calls, copying only the bytes it still needs, so the
  // buffer never holds more than one message.
  if (!buffer_.empty()) {
    if (buffer_.size() < kEventStreamPreludeBytes) {
      const size_t take = std::min(kEventStreamPreludeBytes - buffer_.size(), bytes.size());
      buffer_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      if (buffer_.size() < kEventStreamPreludeBytes) {
        return Status::Ok();
      }
    }
    if (Status st =
            CheckPrelude(buffer_, consumed_, max_message_bytes_, total_length, headers_length);
        !st.ok()) {
      return Fail(std::move(st));
    }
    const size_t take = std::min(size_t{total_length} - buffer_.size(), bytes.size());
    buffer_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (buffer_.size() < total_length) {
      return Status::Ok();
    }
    EventStreamMessage m;
    if (Status st = DecodeFrame(buffer_, headers_length, m); !st.ok()) {
      return Fail(std::move(st));
    }
    out.push_back(std::move(m));
    consumed_ += total_length;
    buffer_.clear();
  }

  // Decode whole messages straight from the caller's bytes.
  while (bytes.size() >= kEventStreamPreludeBytes) {
    if (Status st =
            CheckPrelude(bytes, consumed_, max_message_bytes_, total_length, headers_length);
        !st.ok()) {
      return Fail(std::move(st));
    }
    if (bytes.size() < total_length) {
      break;
    }
    EventStreamMessage m;
    if (Status st = DecodeFrame(bytes.substr(0, total_length), headers_length, m); !st.ok()) {
      return Fail(std::move(st));
    }
    out.push_back(std::move(m));
    consumed_ += total_length;
    bytes.remove_prefix(total_length);
  }
  buffer_.assign(bytes);
  return Status::Ok();
}

}  // namespace perimeter::codec
