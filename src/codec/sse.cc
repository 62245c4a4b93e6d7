#include "codec/sse.h"

#include <cstdio>
#include <cstdlib>

namespace perimeter::codec {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

Status TooLarge(std::string_view what, size_t limit) {
  return InvalidArgument("server-sent event stream: " + std::string(what) +
                         " exceeds the limit of " + std::to_string(limit) +
                         " bytes; the upstream sends events larger than the gateway accepts (raise "
                         "the limit, or check that the response really is text/event-stream)");
}

}  // namespace

std::string EncodeSseData(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 8);
  size_t pos = 0;
  while (true) {
    const size_t eol = data.find_first_of("\r\n", pos);
    out.append("data: ");
    if (eol == std::string_view::npos) {
      out.append(data.substr(pos));
      out.push_back('\n');
      break;
    }
    out.append(data.substr(pos, eol - pos));
    out.push_back('\n');
    pos = eol + 1;
    if (data[eol] == '\r' && pos < data.size() && data[pos] == '\n') {
      ++pos;
    }
  }
  out.push_back('\n');
  return out;
}

std::string EncodeSseEvent(std::string_view event, std::string_view data) {
  if (event.find_first_of("\r\n") != std::string_view::npos) {
    std::fprintf(stderr,
                 "EncodeSseEvent: precondition violated: event name contains a line break\n");
    std::abort();
  }
  std::string out = "event: ";
  out.append(event);
  out.push_back('\n');
  out.append(EncodeSseData(data));
  return out;
}

SseDecoder::SseDecoder(size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

Status SseDecoder::Fail(Status status) {
  failed_ = std::move(status);
  line_.clear();
  data_.clear();
  event_type_.clear();
  bom_prefix_.clear();
  return failed_;
}

Status SseDecoder::Feed(std::string_view bytes, std::vector<SseEvent>& out) {
  if (!failed_.ok()) {
    return failed_;
  }
  if (!bom_checked_) {
    // The stream may begin with a BOM split across calls: hold back a matching prefix until it
    // is complete or a byte differs.
    size_t matched = bom_prefix_.size();
    size_t i = 0;
    while (matched < kBom.size() && i < bytes.size() && bytes[i] == kBom[matched]) {
      ++matched;
      ++i;
    }
    if (matched == kBom.size()) {
      bom_checked_ = true;
      bom_prefix_.clear();
      bytes.remove_prefix(i);
    } else if (i == bytes.size()) {
      bom_prefix_.assign(kBom.substr(0, matched));
      return Status::Ok();
    } else {
      // Not a BOM: the bytes held back from earlier calls are ordinary text. The bytes of this
      // call are still all in `bytes`.
      bom_checked_ = true;
      const std::string held = std::move(bom_prefix_);
      bom_prefix_.clear();
      PERIMETER_RETURN_IF_ERROR(Process(held, out));
    }
  }
  return Process(bytes, out);
}

Status SseDecoder::Process(std::string_view bytes, std::vector<SseEvent>& out) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (bytes[pos] == '\n') {
        ++pos;
        continue;
      }
    }
    const size_t eol = bytes.find_first_of("\r\n", pos);
    if (eol == std::string_view::npos) {
      line_.append(bytes.substr(pos));
      if (line_.size() > max_event_bytes_) {
        return Fail(TooLarge("a line", max_event_bytes_));
      }
      break;
    }
    std::string_view line = bytes.substr(pos, eol - pos);
    if (!line_.empty()) {
      line_.append(line);
      line = line_;
    }
    if (line.size() > max_event_bytes_) {
      return Fail(TooLarge("a line", max_event_bytes_));
    }
    skip_lf_ = bytes[eol] == '\r';
    pos = eol + 1;
    PERIMETER_RETURN_IF_ERROR(ProcessLine(line, out));
    line_.clear();
  }
  return Status::Ok();
}

Status SseDecoder::ProcessLine(std::string_view line, std::vector<SseEvent>& out) {
  if (line.empty()) {
    if (!data_.empty()) {
      data_.pop_back();  // the "\n" appended after the last data line
      out.push_back(SseEvent{std::move(event_type_), std::move(data_), last_event_id_});
    }
    data_.clear();
    event_type_.clear();
    return Status::Ok();
  }
  if (line.front() == ':') {
    return Status::Ok();  // comment, e.g. a keep-alive
  }
  std::string_view field = line;
  std::string_view value;
  if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
  }
  if (field == "data") {
    data_.append(value);
    data_.push_back('\n');
  } else if (field == "event") {
    event_type_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) {
      last_event_id_.assign(value);
    }
  }
  // "retry" only matters to a reconnecting client; other fields are ignored by the rules.
  if (data_.size() + event_type_.size() > max_event_bytes_) {
    return Fail(TooLarge("an event", max_event_bytes_));
  }
  return Status::Ok();
}

}  // namespace perimeter::codec
