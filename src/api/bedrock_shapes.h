#pragma once

// Bedrock Runtime request parsing and response encoding: Converse / ConverseStream, and the
// Anthropic messages body of InvokeModel / InvokeModelWithResponseStream.

#include <string>
#include <string_view>

#include "common/status.h"
#include "model/chat.h"

namespace perimeter::api {

Result<model::ChatRequest> ParseConverseRequest(std::string_view body, std::string model_id);
std::string EncodeConverseResponse(const model::ChatResponse& r, int64_t latency_ms);
std::string_view ConverseStopReason(model::StopReason r);

// Payloads of ConverseStream events (wrap each with codec::EncodeEvent(type, payload)).
std::string ConverseMessageStartEvent();
std::string ConverseDeltaEvent(std::string_view text);
std::string ConverseBlockStopEvent();
std::string ConverseMessageStopEvent(model::StopReason r);
// `guardrail_trace_json` (may be empty): the object Bedrock puts under trace.guardrail.
std::string ConverseMetadataEvent(const model::Usage& u, int64_t latency_ms,
                                  std::string_view guardrail_trace_json = {});

// Anthropic messages ("anthropic_version": "bedrock-2023-05-31").
Result<model::ChatRequest> ParseAnthropicRequest(std::string_view body, std::string model_id);
std::string EncodeAnthropicResponse(const model::ChatResponse& r, std::string_view model_id);
std::string_view AnthropicStopReason(model::StopReason r);
// Anthropic streaming events, each the bytes of one InvokeModelWithResponseStream chunk.
std::string AnthropicMessageStart(std::string_view id, std::string_view model_id,
                                  uint32_t input_tokens);
std::string AnthropicBlockStart();
std::string AnthropicTextDelta(std::string_view text);
std::string AnthropicBlockStop();
std::string AnthropicMessageDelta(model::StopReason r, std::string_view stop_sequence,
                                  uint32_t output_tokens);
std::string AnthropicMessageStop(const model::Usage& u, int64_t latency_ms, int64_t first_byte_ms);
// The payload of a `chunk` event: {"bytes":"<base64>"}.
std::string ChunkPayload(std::string_view bytes);

}  // namespace perimeter::api
