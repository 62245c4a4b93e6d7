#include "policy/eval_cases.h"

#include "common/json_strict.h"

#include <istream>
#include <iterator>
#include <ostream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace perimeter::policy {

namespace {

Result<std::string> ScalarString(const boost::json::value& v, const std::string& where) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_bool()) return std::string(v.as_bool() ? "true" : "false");
  if (v.is_number()) return boost::json::serialize(v);
  return InvalidArgument(where + ": expected a string, number or boolean");
}

Result<std::string> RequiredString(const boost::json::object& o, std::string_view key,
                                   const std::string& where) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) {
    return InvalidArgument(where + "." + std::string(key) + ": expected a string");
  }
  return std::string(v->as_string());
}

Result<NamedPolicy> LoadPolicy(const boost::json::value& v, const std::string& name,
                               PolicyKind kind) {
  auto p = Policy::FromJson(v, kind);
  if (!p.ok()) return InvalidArgument(name + ": " + p.status().message());
  return NamedPolicy{name, std::move(p).value()};
}

Status LoadList(const boost::json::object& c, std::string_view key, PolicyKind kind,
                std::vector<NamedPolicy>& out) {
  const auto* v = c.if_contains(key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_array()) {
    return InvalidArgument(std::string(key) + ": expected an array of policy documents");
  }
  for (size_t i = 0; i < v->as_array().size(); ++i) {
    auto p = LoadPolicy(v->as_array()[i], std::string(key) + "[" + std::to_string(i) + "]", kind);
    if (!p.ok()) return p.status();
    out.push_back(std::move(p).value());
  }
  return Status::Ok();
}

Status LoadOne(const boost::json::object& c, std::string_view key, PolicyKind kind,
               std::optional<NamedPolicy>& out) {
  const auto* v = c.if_contains(key);
  if (v == nullptr || v->is_null()) return Status::Ok();
  auto p = LoadPolicy(*v, std::string(key), kind);
  if (!p.ok()) return p.status();
  out = std::move(p).value();
  return Status::Ok();
}

}  // namespace

Result<EvaluationResult> EvaluateCase(const boost::json::value& tc) {
  if (!tc.is_object()) return InvalidArgument("case: expected an object");
  const boost::json::object& c = tc.as_object();
  const auto* rq = c.if_contains("request");
  if (rq == nullptr || !rq->is_object()) return InvalidArgument("request: expected an object");
  const boost::json::object& ro = rq->as_object();

  Request req;
  auto action = RequiredString(ro, "action", "request");
  if (!action.ok()) return action.status();
  req.action = *action;

  const auto* pr = ro.if_contains("principal");
  if (pr != nullptr && pr->is_string()) {
    req.principal_arn = std::string(pr->as_string());
  } else if (pr != nullptr && pr->is_object()) {
    auto arn = RequiredString(pr->as_object(), "principal", "request.principal");
    if (!arn.ok()) return arn.status();
    req.principal_arn = *arn;
    if (const auto* a = pr->as_object().if_contains("accountId"); a && a->is_string()) {
      req.principal_account = std::string(a->as_string());
    }
  } else {
    return InvalidArgument(
        "request.principal: expected an ARN string or {\"principal\", "
        "\"accountId\"}");
  }

  const auto* rs = ro.if_contains("resource");
  if (rs != nullptr && rs->is_string()) {
    req.resource_arn = std::string(rs->as_string());
  } else if (rs != nullptr && rs->is_object()) {
    auto arn = RequiredString(rs->as_object(), "resource", "request.resource");
    if (!arn.ok()) return arn.status();
    req.resource_arn = *arn;
    if (const auto* a = rs->as_object().if_contains("accountId"); a && a->is_string()) {
      req.resource_account = std::string(a->as_string());
    }
  } else {
    return InvalidArgument(
        "request.resource: expected an ARN string or {\"resource\", "
        "\"accountId\"}");
  }

  if (const auto* cx = ro.if_contains("context"); cx != nullptr) {
    if (!cx->is_object()) return InvalidArgument("request.context: expected an object");
    for (const auto& [k, v] : cx->as_object()) {
      std::string where = "request.context." + std::string(k);
      std::vector<std::string> values;
      if (v.is_array()) {
        for (const auto& e : v.as_array()) {
          auto s = ScalarString(e, where);
          if (!s.ok()) return s.status();
          values.push_back(*s);
        }
      } else {
        auto s = ScalarString(v, where);
        if (!s.ok()) return s.status();
        values.push_back(*s);
      }
      req.context[std::string(k)] = std::move(values);
    }
  }

  PolicySet ps;
  PERIMETER_RETURN_IF_ERROR(
      LoadList(c, "identityPolicies", PolicyKind::kIdentity, ps.identity_policies));
  PERIMETER_RETURN_IF_ERROR(
      LoadOne(c, "resourcePolicy", PolicyKind::kResource, ps.resource_policy));
  PERIMETER_RETURN_IF_ERROR(
      LoadList(c, "permissionBoundaries", PolicyKind::kIdentity, ps.permission_boundaries));
  PERIMETER_RETURN_IF_ERROR(LoadOne(c, "sessionPolicy", PolicyKind::kIdentity, ps.session_policy));
  PERIMETER_RETURN_IF_ERROR(
      LoadList(c, "serviceControlPolicies", PolicyKind::kIdentity, ps.service_control_policies));
  PERIMETER_RETURN_IF_ERROR(
      LoadList(c, "resourceControlPolicies", PolicyKind::kResource, ps.resource_control_policies));
  PERIMETER_RETURN_IF_ERROR(
      LoadList(c, "endpointPolicies", PolicyKind::kResource, ps.endpoint_policies));
  return Evaluate(req, ps);
}

int RunPolicyEvalCases(std::istream& in, std::ostream& out, std::ostream& err) {
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxCasesInputBytes) {
      err << "policy eval: cases input exceeds " << kMaxCasesInputBytes << " bytes\n";
      return 2;
    }
  }
  if (Status dup = CheckNoDuplicateJsonKeys(text); !dup.ok()) {
    err << "policy eval: cases input: " << dup.message() << "\n";
    return 2;
  }
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(text, ec);
  if (ec) {
    err << "policy eval: cases input is not valid JSON: " << ec.message() << "\n";
    return 2;
  }
  if (!doc.is_array()) {
    err << "policy eval: expected a JSON array of cases\n";
    return 2;
  }
  int rc = 0;
  for (const auto& tc : doc.as_array()) {
    boost::json::object line;
    const boost::json::value* name = tc.is_object() ? tc.as_object().if_contains("name") : nullptr;
    line["name"] = name != nullptr ? *name : boost::json::value(nullptr);
    auto r = EvaluateCase(tc);
    if (r.ok()) {
      line["response"] = DecisionName(r->decision);
    } else {
      line["error"] = r.status().message();
      rc = 1;
    }
    out << boost::json::serialize(line) << "\n";
  }
  return rc;
}

}  // namespace perimeter::policy
