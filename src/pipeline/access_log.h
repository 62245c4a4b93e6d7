#pragma once

// AccessLog: one JSON line per request. Carries identifiers, sizes and timings, never prompt or
// response text (the line is built only from RequestContext fields that hold no content).

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "common/status.h"
#include "pipeline/request_context.h"

namespace perimeter::pipeline {

class AccessLogSink {
 public:
  // "stdout", "stderr", "off" or a file path (opened for append, created 0600).
  static Result<std::unique_ptr<AccessLogSink>> Open(const std::string& where);
  ~AccessLogSink();
  // Writes one line with a single write(2): lines from different threads never interleave.
  void WriteLine(const std::string& line);

 private:
  int fd_ = -1;
  bool owns_ = false;
};

// One line of the operator's log (stderr) about a request, as JSON with "time", "level",
// "msg", "request_id" and "tenant" (null outside tenants) plus `fields`; written with a single
// write(2). Never put values from prompts or answers in `msg` or `fields`.
void WriteOperatorLine(std::string_view level, std::string_view msg, std::string_view request_id,
                       const std::optional<std::string>& tenant, boost::json::object fields = {});

// The access-log line for a finished request (no trailing newline).
std::string FormatAccessLogLine(const RequestContext& ctx,
                                std::chrono::steady_clock::time_point end);

}  // namespace perimeter::pipeline
