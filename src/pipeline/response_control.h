#pragma once

// ResponseControl: a control on the model's answer, installed on the request by a filter that
// runs before the upstream filter (the guardrail) and run by the upstream filter, which is the
// only place the answer exists. It sees the canonical answer (model::ChatResponse) or stream
// (model::ChatStreamSink), so it is written once for every front door.
//
// Contract:
//   - CheckResponse may rewrite response.text (anonymization) or replace it with a blocked
//     message (setting stop_reason = kGuardrailIntervened). A non-ok Status means the control
//     could not run: the upstream filter answers with that error and releases nothing.
//   - WrapStream returns a sink that forwards to `inner` after its checks; it may hold text back
//     (synchronous mode) or end the stream itself with a blocked message, returning an error so
//     the provider stops (StoppedStream() then says so). `inner` must outlive it.
// One instance serves one request; not thread-safe.

#include <memory>

#include "common/status.h"
#include "model/chat.h"

namespace perimeter::pipeline {

class ResponseControl {
 public:
  virtual ~ResponseControl() = default;
  virtual Status CheckResponse(model::ChatResponse& response) = 0;
  virtual std::unique_ptr<model::ChatStreamSink> WrapStream(model::ChatStreamSink& inner) = 0;
  // True once a wrapped sink ended the stream itself (with a blocked message): the error it
  // returned to stop the upstream is then not a failure to report.
  virtual bool StoppedStream() const { return false; }
};

}  // namespace perimeter::pipeline
