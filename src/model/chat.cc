#include "model/chat.h"

#include "common/strings.h"

namespace perimeter::model {

std::string Message::JoinedText() const {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i) out += "\n";
    out += text[i];
  }
  return out;
}

std::string_view RoleName(Message::Role r) {
  return r == Message::Role::kUser ? "user" : "assistant";
}

uint32_t CountWords(std::string_view text) {
  return static_cast<uint32_t>(SplitWords(text).size());
}

}  // namespace perimeter::model
