#include "audit/query.h"

#include <boost/json.hpp>

namespace perimeter::audit {

namespace json = boost::json;

namespace {

// requestParameters.modelId of an event, or empty when the event has none (or its parameters
// are not an object).
std::string ModelIdOf(const Event& e) {
  if (e.request_parameters_json.empty() || e.request_parameters_json == "null") return "";
  boost::system::error_code ec;
  json::value v = json::parse(e.request_parameters_json, ec);
  if (ec || !v.is_object()) return "";
  const json::value* model = v.get_object().if_contains("modelId");
  if (model == nullptr || !model->is_string()) return "";
  return std::string(model->get_string());
}

}  // namespace

bool Matches(const Event& e, const QueryFilter& f) {
  if (f.tenant && e.tenant_id != *f.tenant) return false;
  if (f.principal) {
    const bool as_caller = !e.user_identity.arn.empty() && e.user_identity.arn == *f.principal;
    const bool as_issuer = e.user_identity.session_context.has_value() &&
                           !e.user_identity.session_context->session_issuer_arn.empty() &&
                           e.user_identity.session_context->session_issuer_arn == *f.principal;
    if (!as_caller && !as_issuer) return false;
  }
  if (f.event_name && e.event_name != *f.event_name) return false;
  if (f.decision && (!e.decision.has_value() || e.decision->effect != *f.decision)) return false;
  if (f.request_id && e.request_id != *f.request_id) return false;
  if (f.since && e.event_time < *f.since) return false;
  if (f.until && e.event_time >= *f.until) return false;
  // Last: the only test that parses JSON.
  if (f.model && ModelIdOf(e) != *f.model) return false;
  return true;
}

Result<std::vector<QueryHit>> Query(const LogContents& log, const QueryFilter& f) {
  std::vector<QueryHit> hits;
  for (size_t i = 0; i < log.lines.size(); ++i) {
    if (f.limit != 0 && hits.size() >= f.limit) break;
    auto record = ParseRecordLine(log.lines[i]);
    if (!record.ok()) continue;  // VerifyLog names it; a query reads what it can
    auto event = ParseEventJson(record->event_json);
    if (!event.ok()) continue;
    if (!Matches(*event, f)) continue;
    QueryHit hit;
    // The leaf's position, which is what proofs are about (a record whose "index" lies is
    // reported by VerifyLog).
    hit.index = log.first_index + i;
    hit.event_json = std::move(record->event_json);
    hit.event = std::move(*event);
    hits.push_back(std::move(hit));
  }
  return hits;
}

std::string CloudTrailExport(const std::vector<QueryHit>& hits) {
  size_t bytes = 16;
  for (const QueryHit& h : hits) bytes += h.event_json.size() + 1;
  std::string out;
  out.reserve(bytes);
  out += R"({"Records":[)";
  for (size_t i = 0; i < hits.size(); ++i) {
    if (i != 0) out += ',';
    out += hits[i].event_json;
  }
  out += "]}";
  return out;
}

}  // namespace perimeter::audit
