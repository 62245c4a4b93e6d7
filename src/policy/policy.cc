#include "policy/policy.h"

#include <algorithm>

#include "common/json_strict.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "common/strings.h"

namespace perimeter::policy {

namespace {

std::string Quote(const boost::json::value& v) {
  std::string s = boost::json::serialize(v);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

const char* TypeName(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_:
      return "a number";
    case boost::json::kind::string:
      return "a string";
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::object:
      return "an object";
  }
  return "?";
}

bool IsAccountId(std::string_view s) {
  if (s.size() != 12) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Splits "arn:partition:service:region:account:resource" into its six components.
bool SplitArn(std::string_view arn, std::string_view out[6]) {
  for (int i = 0; i < 5; ++i) {
    size_t c = arn.find(':');
    if (c == std::string_view::npos) return false;
    out[i] = arn.substr(0, c);
    arn = arn.substr(c + 1);
  }
  out[5] = arn;
  return out[0] == "arn";
}

}  // namespace

// Builds Policy / Statement objects; a class so it can be a friend of both.
class PolicyParser {
 public:
  static Result<std::shared_ptr<const Policy>> Run(const boost::json::value& doc, PolicyKind kind) {
    if (!doc.is_object()) {
      return InvalidArgument(std::string("policy: expected a JSON object, got ") + TypeName(doc));
    }
    auto policy = std::make_shared<Policy>();
    policy->kind_ = kind;
    policy->version_ = "2008-10-17";  // AWS's default when Version is omitted
    const boost::json::object& obj = doc.as_object();
    for (const auto& [k, v] : obj) {
      if (k != "Version" && k != "Id" && k != "Statement") {
        return InvalidArgument("policy: unknown top-level element '" + std::string(k) +
                               "'; expected Version, Id and Statement (names are case-sensitive)");
      }
    }
    if (const auto* v = obj.if_contains("Version")) {
      if (!v->is_string() || (v->as_string() != "2012-10-17" && v->as_string() != "2008-10-17")) {
        return InvalidArgument("Version: expected \"2012-10-17\" or \"2008-10-17\", got " +
                               Quote(*v));
      }
      policy->version_ = std::string(v->as_string());
    }
    if (const auto* v = obj.if_contains("Id"); v != nullptr && !v->is_string()) {
      return InvalidArgument(std::string("Id: expected a string, got ") + TypeName(*v));
    }
    const auto* st = obj.if_contains("Statement");
    if (st == nullptr) return InvalidArgument("policy: missing required element 'Statement'");
    std::vector<const boost::json::value*> stmts;
    if (st->is_object()) {
      stmts.push_back(st);
    } else if (st->is_array()) {
      for (const auto& s : st->as_array()) stmts.push_back(&s);
    } else {
      return InvalidArgument(std::string("Statement: expected an object or an array of objects, "
                                         "got ") +
                             TypeName(*st));
    }
    if (stmts.empty()) return InvalidArgument("Statement: expected at least one statement, got []");
    if (stmts.size() > kMaxStatements) {
      return InvalidArgument("Statement: more than " + std::to_string(kMaxStatements) +
                             " statements");
    }
    bool variables = policy->version_ == "2012-10-17";
    for (size_t i = 0; i < stmts.size(); ++i) {
      auto s = ParseStatement(*stmts[i], i, kind, variables);
      if (!s.ok()) return s.status();
      policy->statements_.push_back(std::move(s).value());
    }
    return std::shared_ptr<const Policy>(std::move(policy));
  }

 private:
  static Result<std::vector<std::string>> StringList(const boost::json::value& v,
                                                     const std::string& where) {
    std::vector<std::string> out;
    if (v.is_string()) {
      out.emplace_back(v.as_string());
    } else if (v.is_array()) {
      if (v.as_array().empty()) {
        return InvalidArgument(where + ": expected at least one value, got []");
      }
      if (v.as_array().size() > kMaxElementValues) {
        return InvalidArgument(where + ": more than " + std::to_string(kMaxElementValues) +
                               " values");
      }
      for (size_t i = 0; i < v.as_array().size(); ++i) {
        const auto& e = v.as_array()[i];
        if (!e.is_string()) {
          return InvalidArgument(where + "[" + std::to_string(i) + "]: expected a string, got " +
                                 TypeName(e));
        }
        out.emplace_back(e.as_string());
      }
    } else {
      return InvalidArgument(where + ": expected a string or an array of strings, got " +
                             TypeName(v));
    }
    return out;
  }

  static Result<Statement::PrincipalSet> ParsePrincipal(const boost::json::value& v,
                                                        const std::string& where) {
    Statement::PrincipalSet p;
    if (v.is_string()) {
      if (v.as_string() != "*") {
        return InvalidArgument(where +
                               ": expected \"*\" or an object such as {\"AWS\": "
                               "\"arn:aws:iam::111122223333:root\"}, got " +
                               Quote(v));
      }
      p.any = true;
      return p;
    }
    if (!v.is_object() || v.as_object().empty()) {
      return InvalidArgument(where +
                             ": expected \"*\" or a non-empty object with AWS, Service, "
                             "Federated or CanonicalUser, got " +
                             Quote(v));
    }
    for (const auto& [k, val] : v.as_object()) {
      std::string field = where + "." + std::string(k);
      if (k != "AWS" && k != "Service" && k != "Federated" && k != "CanonicalUser") {
        return InvalidArgument(where + ": unknown principal type '" + std::string(k) +
                               "'; expected AWS, Service, Federated or CanonicalUser");
      }
      auto list = StringList(val, field);
      if (!list.ok()) return list.status();
      for (std::string& s : *list) {
        if (s.empty()) return InvalidArgument(field + ": empty principal");
        if (k == "AWS") {
          if (s == "*") {
            p.any = true;
          } else if (IsAccountId(s)) {
            p.aws.push_back("arn:aws:iam::" + s + ":root");
          } else if (StartsWith(s, "arn:") && s.find('*') == std::string::npos &&
                     s.find('?') == std::string::npos) {
            p.aws.push_back(std::move(s));
          } else {
            return InvalidArgument(field +
                                   ": expected \"*\", a 12-digit account id or a "
                                   "principal ARN without wildcards, got '" +
                                   s + "'");
          }
        } else {
          if (s.find('*') != std::string::npos) {
            return InvalidArgument(field + ": wildcards are not allowed in principals, got '" + s +
                                   "'");
          }
          p.others.push_back(std::move(s));
        }
      }
    }
    return p;
  }

  static Result<Statement> ParseStatement(const boost::json::value& v, size_t index,
                                          PolicyKind kind, bool variables) {
    const std::string at = "Statement[" + std::to_string(index) + "]";
    if (!v.is_object()) {
      return InvalidArgument(at + ": expected an object, got " + std::string(TypeName(v)));
    }
    const boost::json::object& o = v.as_object();
    Statement s;
    s.index_ = index;
    for (const auto& [k, val] : o) {
      if (k != "Sid" && k != "Effect" && k != "Principal" && k != "NotPrincipal" && k != "Action" &&
          k != "NotAction" && k != "Resource" && k != "NotResource" && k != "Condition") {
        return InvalidArgument(at + ": unknown element '" + std::string(k) +
                               "'; expected Sid, Effect, Principal, NotPrincipal, Action, "
                               "NotAction, Resource, NotResource or Condition");
      }
    }
    if (const auto* sid = o.if_contains("Sid")) {
      if (!sid->is_string()) {
        return InvalidArgument(at + ".Sid: expected a string, got " + std::string(TypeName(*sid)));
      }
      s.sid_ = std::string(sid->as_string());
    }
    const auto* effect = o.if_contains("Effect");
    if (effect == nullptr) {
      return InvalidArgument(at + ": missing required element 'Effect' (\"Allow\" or \"Deny\")");
    }
    if (effect->is_string() && effect->as_string() == "Allow") {
      s.effect_ = Effect::kAllow;
    } else if (effect->is_string() && effect->as_string() == "Deny") {
      s.effect_ = Effect::kDeny;
    } else {
      return InvalidArgument(at + ".Effect: expected \"Allow\" or \"Deny\", got " + Quote(*effect));
    }

    // Principal / NotPrincipal
    const auto* pr = o.if_contains("Principal");
    const auto* npr = o.if_contains("NotPrincipal");
    if (pr != nullptr && npr != nullptr) {
      return InvalidArgument(at + ": has both Principal and NotPrincipal; use exactly one");
    }
    if (kind == PolicyKind::kIdentity && (pr != nullptr || npr != nullptr)) {
      return InvalidArgument(at + ": " + (pr ? "Principal" : "NotPrincipal") +
                             " is not allowed in an identity-based policy; the principal is the "
                             "identity the policy is attached to");
    }
    if (kind == PolicyKind::kResource || kind == PolicyKind::kTrust) {
      if (pr == nullptr && npr == nullptr) {
        return InvalidArgument(at +
                               ": missing required element 'Principal' (or NotPrincipal) "
                               "in a resource-based policy");
      }
      auto p = ParsePrincipal(pr ? *pr : *npr, at + (pr ? ".Principal" : ".NotPrincipal"));
      if (!p.ok()) return p.status();
      s.principal_ = std::move(p).value();
      s.not_principal_ = npr != nullptr;
    }

    // Action / NotAction
    const auto* ac = o.if_contains("Action");
    const auto* nac = o.if_contains("NotAction");
    if ((ac == nullptr) == (nac == nullptr)) {
      return InvalidArgument(at + (ac ? ": has both Action and NotAction; use exactly one"
                                      : ": missing required element 'Action' (or NotAction)"));
    }
    {
      std::string field = at + (ac ? ".Action" : ".NotAction");
      auto list = StringList(ac ? *ac : *nac, field);
      if (!list.ok()) return list.status();
      for (const std::string& a : *list) {
        size_t colon = a.find(':');
        if (a != "*" && (colon == std::string::npos || colon == 0 || colon + 1 == a.size())) {
          return InvalidArgument(field +
                                 ": expected \"*\" or \"service:action\" (for example "
                                 "\"bedrock:InvokeModel\"), got '" +
                                 a + "'");
        }
        s.actions_.push_back(AsciiLower(a));
      }
      s.not_action_ = nac != nullptr;
    }

    // Resource / NotResource
    const auto* rs = o.if_contains("Resource");
    const auto* nrs = o.if_contains("NotResource");
    if (kind == PolicyKind::kTrust) {
      // As IAM: a trust policy's resource is the role it is attached to.
      if (rs != nullptr || nrs != nullptr) {
        return InvalidArgument(at + ": " + (rs ? "Resource" : "NotResource") +
                               " is not allowed in a trust policy; the resource is the role the "
                               "policy is attached to");
      }
      auto any = ArnPattern::Compile("*", variables);
      if (!any.ok()) return any.status();
      s.resources_.push_back(std::move(any).value());
    } else if ((rs == nullptr) == (nrs == nullptr)) {
      return InvalidArgument(at + (rs ? ": has both Resource and NotResource; use exactly one"
                                      : ": missing required element 'Resource' (or NotResource)"));
    }
    if (kind != PolicyKind::kTrust) {
      std::string field = at + (rs ? ".Resource" : ".NotResource");
      auto list = StringList(rs ? *rs : *nrs, field);
      if (!list.ok()) return list.status();
      for (const std::string& r : *list) {
        if (r != "*" && !StartsWith(r, "arn:")) {
          return InvalidArgument(
              field + ": expected \"*\" or an ARN starting with \"arn:\", got '" + r + "'");
        }
        auto pat = ArnPattern::Compile(r, variables);
        if (!pat.ok()) return InvalidArgument(field + ": " + pat.status().message());
        s.resources_.push_back(std::move(pat).value());
      }
      s.not_resource_ = nrs != nullptr;
    }

    // Condition
    if (const auto* cond = o.if_contains("Condition")) {
      if (!cond->is_object()) {
        return InvalidArgument(at +
                               ".Condition: expected an object of operator -> {key: "
                               "values}, got " +
                               std::string(TypeName(*cond)));
      }
      for (const auto& [op, block] : cond->as_object()) {
        std::string field = at + ".Condition." + std::string(op);
        if (!block.is_object() || block.as_object().empty()) {
          return InvalidArgument(field +
                                 ": expected a non-empty object of condition key -> "
                                 "value(s), got " +
                                 Quote(block));
        }
        for (const auto& [key, values] : block.as_object()) {
          auto c = Condition::Compile(op, key, values, variables);
          if (!c.ok()) return InvalidArgument(at + ".Condition: " + c.status().message());
          s.conditions_.push_back(std::move(c).value());
        }
      }
    }
    return s;
  }
};

Result<std::shared_ptr<const Policy>> Policy::FromJson(const boost::json::value& doc,
                                                       PolicyKind kind) {
  return PolicyParser::Run(doc, kind);
}

Result<std::shared_ptr<const Policy>> Policy::Parse(std::string_view json, PolicyKind kind) {
  if (json.size() > kMaxPolicyBytes) {
    return InvalidArgument("policy: document is " + std::to_string(json.size()) +
                           " bytes; the limit is " + std::to_string(kMaxPolicyBytes));
  }
  // Boost.JSON keeps the last of repeated keys; in a policy that would let a later "Effect"
  // silently override an earlier one, so repeats are refused.
  if (Status dup = CheckNoDuplicateJsonKeys(json); !dup.ok()) {
    return InvalidArgument("policy: " + dup.message());
  }
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(json, ec);
  if (ec) return InvalidArgument("policy: not valid JSON: " + ec.message());
  return PolicyParser::Run(doc, kind);
}

// ---------------------------------------------------------------------------------------------
// Statement matching

PrincipalMatch Statement::MatchPrincipal(std::string_view arn, std::string_view account) const {
  const PrincipalSet& p = *principal_;
  PrincipalMatch best = PrincipalMatch::kNone;
  // Preference: kExact > kIndirect > kAccount, as a more specific grant decides the
  // boundary/session caveats and whether a same-account resource policy grants on its own.
  auto rank = [](PrincipalMatch m) {
    return m == PrincipalMatch::kExact      ? 3
           : m == PrincipalMatch::kIndirect ? 2
           : m == PrincipalMatch::kAccount  ? 1
                                            : 0;
  };
  auto consider = [&](PrincipalMatch m) {
    if (rank(m) > rank(best)) best = m;
  };
  if (p.any) consider(PrincipalMatch::kIndirect);
  std::string_view req[6];
  bool req_is_arn = SplitArn(arn, req);
  for (const std::string& a : p.aws) {
    if (a == arn) {
      consider(PrincipalMatch::kExact);
      continue;
    }
    std::string_view pol[6];
    if (!SplitArn(a, pol)) continue;
    if (pol[2] == "iam" && pol[5] == "root" && !account.empty() && pol[4] == account) {
      consider(PrincipalMatch::kAccount);  // the account principal covers its identities
      continue;
    }
    // A role ARN (with any path) covers that role's sessions:
    // arn:aws:sts::ACCT:assumed-role/NAME/SESSION vs arn:aws:iam::ACCT:role/path/NAME.
    if (req_is_arn && req[2] == "sts" && StartsWith(req[5], "assumed-role/") && pol[2] == "iam" &&
        StartsWith(pol[5], "role/") && pol[4] == req[4] && pol[1] == req[1]) {
      std::string_view session = req[5].substr(13);
      std::string_view role_name = session.substr(0, session.find('/'));
      std::string_view pol_role = pol[5].substr(pol[5].rfind('/') + 1);
      if (role_name == pol_role) consider(PrincipalMatch::kIndirect);
    }
  }
  for (const std::string& o : p.others) {
    if (o == arn) consider(PrincipalMatch::kExact);
  }
  return best;
}

bool Statement::MatchAction(std::string_view action) const {
  // Evaluate passes the action already lower-cased; lower only what is not.
  std::string lowered;
  std::string_view lower = action;
  if (std::any_of(action.begin(), action.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    lowered = AsciiLower(action);
    lower = lowered;
  }
  for (const std::string& a : actions_) {
    if (GlobMatch(a, lower)) return true;
  }
  return false;
}

bool Statement::MatchResource(std::string_view arn, const RequestContext& ctx) const {
  for (const ArnPattern& r : resources_) {
    if (r.Matches(arn, ctx) == ArnPattern::Match::kMatch) return true;
  }
  return false;
}

bool Statement::Matches(const MatchInput& in, PrincipalMatch* principal_match) const {
  PrincipalMatch pm = PrincipalMatch::kNotApplicable;
  if (principal_) {
    pm = MatchPrincipal(in.principal_arn, in.principal_account);
    if (not_principal_)
      pm = pm == PrincipalMatch::kNone ? PrincipalMatch::kIndirect : PrincipalMatch::kNone;
    if (pm == PrincipalMatch::kNone) return false;
  }
  if (MatchAction(in.action) == not_action_) return false;
  // An unresolvable policy variable makes a Resource entry not match; for NotResource the
  // entry likewise does not exclude the resource.
  if (MatchResource(in.resource_arn, *in.context) == not_resource_) return false;
  for (const Condition& c : conditions_) {
    if (!c.Evaluate(*in.context)) return false;
  }
  if (principal_match) *principal_match = pm;
  return true;
}

}  // namespace perimeter::policy
