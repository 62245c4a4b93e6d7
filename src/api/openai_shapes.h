#pragma once

// OpenAI chat completions: request parsing, response and stream-chunk encoding.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "model/chat.h"

namespace perimeter::api {

Result<model::ChatRequest> ParseChatCompletionsRequest(std::string_view body);
std::string_view OpenAiFinishReason(model::StopReason r);
std::string EncodeChatCompletion(const model::ChatResponse& r, std::string_view model_id,
                                 int64_t created);
// One chat.completion.chunk. role_delta: the first chunk carries {"role":"assistant"}.
std::string EncodeChatChunk(std::string_view id, std::string_view model_id, int64_t created,
                            std::string_view content, bool role_delta,
                            const model::StopReason* finish);
std::string EncodeUsageChunk(std::string_view id, std::string_view model_id, int64_t created,
                             const model::Usage& u);
std::string EncodeModelList(const std::vector<std::string>& models, int64_t created);

}  // namespace perimeter::api
