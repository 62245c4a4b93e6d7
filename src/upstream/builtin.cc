#include "upstream/builtin.h"

#include <atomic>

#include "common/strings.h"
#include "pipeline/standard_filters.h"

namespace perimeter::upstream {

Result<model::ChatResponse> BuiltinUpstream::Answer(const model::ChatRequest& req) {
  if (req.upstream_model != kEchoModel) {
    return NotFound("the built-in upstream has no model '" + req.upstream_model + "'; it serves " +
                    std::string(kEchoModel));
  }
  std::string last_user;
  for (const auto& m : req.messages) {
    if (m.role == model::Message::Role::kUser) last_user = m.JoinedText();
  }
  model::ChatResponse r;
  r.id = "msg_" + pipeline::NewRequestId();
  std::string full = "This is Perimeter's built-in test model (" + req.upstream_model +
                     "), not a real language model. You said: " + last_user;
  // Stop sequences cut before the first occurrence of any of them.
  size_t cut = std::string::npos;
  for (const auto& s : req.stop_sequences) {
    if (s.empty()) continue;
    size_t p = full.find(s);
    if (p != std::string::npos && (cut == std::string::npos || p < cut)) {
      cut = p;
      r.stop_sequence = s;
    }
  }
  if (cut != std::string::npos) {
    full.resize(cut);
    r.stop_reason = model::StopReason::kStopSequence;
  }
  auto words = SplitWords(full);
  if (req.max_tokens && words.size() > *req.max_tokens) {
    words.resize(*req.max_tokens);
    r.stop_reason = model::StopReason::kMaxTokens;
    r.stop_sequence.clear();
  }
  for (size_t i = 0; i < words.size(); ++i) {
    if (i) r.text += ' ';
    r.text += words[i];
  }
  uint32_t in = 0;
  for (const auto& s : req.system) in += model::CountWords(s);
  for (const auto& m : req.messages) {
    for (const auto& t : m.text) in += model::CountWords(t);
  }
  r.usage.input_tokens = in;
  r.usage.output_tokens = static_cast<uint32_t>(words.size());
  return r;
}

boost::asio::awaitable<Result<model::ChatResponse>> BuiltinUpstream::Chat(
    const model::ChatRequest& req) {
  co_return Answer(req);
}

boost::asio::awaitable<Status> BuiltinUpstream::ChatStream(const model::ChatRequest& req,
                                                           model::ChatStreamSink& sink) {
  auto answer = Answer(req);
  if (!answer.ok()) co_return answer.status();
  PERIMETER_CO_RETURN_IF_ERROR(co_await sink.OnStart(answer->id));
  auto words = SplitWords(answer->text);
  for (size_t i = 0; i < words.size(); ++i) {
    std::string delta = i ? " " + std::string(words[i]) : std::string(words[i]);
    PERIMETER_CO_RETURN_IF_ERROR(co_await sink.OnTextDelta(delta));
  }
  co_return co_await sink.OnStop(answer->stop_reason, answer->stop_sequence, answer->usage);
}

}  // namespace perimeter::upstream
