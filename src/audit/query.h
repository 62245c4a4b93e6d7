#pragma once

// Queries over the audit log's events (what `perimeter audit query|export|attest` and the
// gateway's audit API run). Pure: reads LogContents (reader.h), never the network or the KMS.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/event.h"
#include "audit/reader.h"
#include "common/status.h"

namespace perimeter::audit {

struct QueryFilter {
  std::optional<std::string> tenant;      // tenantId equals
  std::optional<std::string> principal;   // userIdentity.arn equals, or sessionIssuer.arn equals
  std::optional<std::string> event_name;  // eventName equals
  std::optional<std::string> model;       // requestParameters.modelId equals
  std::optional<std::string> decision;    // decision.effect equals: Allow, Deny, ImplicitDeny
  std::optional<std::string> request_id;  // requestID equals
  std::optional<std::chrono::system_clock::time_point> since;  // eventTime >= since
  std::optional<std::chrono::system_clock::time_point> until;  // eventTime < until
  size_t limit = 0;                                            // 0: no limit
};

struct QueryHit {
  uint64_t index = 0;      // the record's index in the log (for proofs)
  std::string event_json;  // exactly as stored
  Event event;             // parsed
};

// True iff `e` passes every set field of `f`.
bool Matches(const Event& e, const QueryFilter& f);

// Events in log order that match. Records that do not parse are skipped (verify reports them).
Result<std::vector<QueryHit>> Query(const LogContents& log, const QueryFilter& f);

// CloudTrail's export document: {"Records":[<event>,...]} with the events' stored bytes.
std::string CloudTrailExport(const std::vector<QueryHit>& hits);

}  // namespace perimeter::audit
