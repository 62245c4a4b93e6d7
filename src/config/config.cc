#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <boost/json.hpp>

#include "common/strings.h"
#include "policy/policy.h"

namespace perimeter::config {

std::string_view UpstreamTypeName(UpstreamType t) {
  switch (t) {
    case UpstreamType::kBuiltin:
      return "builtin";
    case UpstreamType::kOpenAi:
      return "openai";
    case UpstreamType::kBedrock:
      return "bedrock";
  }
  return "unknown";
}

std::string AccessConfig::PrincipalArn(const PrincipalConfig& p) const {
  return "arn:aws:iam::" + (p.account_id.empty() ? account_id : p.account_id) + ":" +
         (p.is_role ? "role/" : "user/") + p.name;
}

bool IsIamName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '_' ||
                    c == '-';
    if (!ok) return false;
  }
  return true;
}

bool IsAccountId(std::string_view s) {
  return s.size() == 12 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

const UpstreamConfig* Config::FindUpstream(std::string_view name) const {
  for (const auto& u : upstreams) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

namespace {

// Walks the YAML tree keeping the dotted field path, so every error can say
// "file:line:col: listeners[0].port: expected ...".
class Parser {
 public:
  explicit Parser(std::string source) : source_(std::move(source)) {}

  Status Error(const YAML::Node& node, const std::string& path, const std::string& what) const {
    std::string where = source_;
    if (node.IsDefined() && node.Mark().line >= 0) {
      where +=
          ":" + std::to_string(node.Mark().line + 1) + ":" + std::to_string(node.Mark().column + 1);
    }
    return InvalidArgument(where + ": " + path + ": " + what);
  }

  Status ExpectMap(const YAML::Node& n, const std::string& path,
                   const std::set<std::string>& allowed) const {
    if (!n.IsMap()) return Error(n, path, "expected a mapping (key: value lines)");
    for (const auto& kv : n) {
      const std::string key = kv.first.Scalar();
      if (!allowed.count(key)) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        return Error(kv.first, path.empty() ? key : path + "." + key,
                     "unknown field '" + key + "'; expected one of: " + list);
      }
    }
    return Status::Ok();
  }

  Status String(const YAML::Node& n, const std::string& path, std::string& out) const {
    if (!n.IsScalar()) return Error(n, path, "expected a string");
    out = n.Scalar();
    return Status::Ok();
  }

  Status NonEmptyString(const YAML::Node& n, const std::string& path, std::string& out) const {
    PERIMETER_RETURN_IF_ERROR(String(n, path, out));
    if (out.empty()) return Error(n, path, "must not be empty");
    return Status::Ok();
  }

  Status UInt(const YAML::Node& n, const std::string& path, uint64_t max, uint64_t& out) const {
    if (!n.IsScalar()) return Error(n, path, "expected a whole number 0-" + std::to_string(max));
    const std::string& s = n.Scalar();
    uint64_t v = 0;
    bool digits = !s.empty() && s.size() <= 20;
    for (char c : s) digits = digits && c >= '0' && c <= '9';
    if (digits) {
      try {
        v = std::stoull(s);
      } catch (...) {
        digits = false;
      }
    }
    if (!digits || v > max) {
      return Error(n, path,
                   "expected a whole number 0-" + std::to_string(max) + ", got '" + s + "'");
    }
    out = v;
    return Status::Ok();
  }

  Status Duration(const YAML::Node& n, const std::string& path, milliseconds& out) const {
    if (!n.IsScalar()) return Error(n, path, "expected a duration such as 250ms, 10s or 2m");
    auto d = ParseDuration(n.Scalar());
    if (!d.ok()) return Error(n, path, d.status().message());
    out = *d;
    return Status::Ok();
  }

  Status ByteSize(const YAML::Node& n, const std::string& path, uint64_t& out) const {
    if (!n.IsScalar()) return Error(n, path, "expected a size such as 25MB or 1048576");
    auto v = ParseByteSize(n.Scalar());
    if (!v.ok()) return Error(n, path, v.status().message());
    out = *v;
    return Status::Ok();
  }

  // YAML -> JSON for inline policies: mappings become objects, sequences arrays, scalars
  // strings (IAM accepts "true" and "10" wherever it accepts true and 10).
  static boost::json::value YamlToJson(const YAML::Node& n) {
    if (n.IsMap()) {
      boost::json::object o;
      for (const auto& kv : n) o[kv.first.Scalar()] = YamlToJson(kv.second);
      return o;
    }
    if (n.IsSequence()) {
      boost::json::array a;
      for (const auto& v : n) a.push_back(YamlToJson(v));
      return a;
    }
    if (n.IsNull()) return nullptr;
    return boost::json::string(n.Scalar());
  }

  // YAML -> JSON keeping types, for documents whose schema has booleans and numbers (guardrail
  // definitions): plain (unquoted) true/false become booleans and plain numerals numbers;
  // quoted scalars stay strings.
  static boost::json::value YamlToTypedJson(const YAML::Node& n) {
    if (n.IsMap()) {
      boost::json::object o;
      for (const auto& kv : n) o[kv.first.Scalar()] = YamlToTypedJson(kv.second);
      return o;
    }
    if (n.IsSequence()) {
      boost::json::array a;
      for (const auto& v : n) a.push_back(YamlToTypedJson(v));
      return a;
    }
    if (n.IsNull()) return nullptr;
    const std::string& s = n.Scalar();
    if (n.Tag() == "?") {
      if (s == "true") return true;
      if (s == "false") return false;
      bool numeral = !s.empty() && s.size() <= 32;
      bool digit = false;
      for (size_t i = 0; i < s.size() && numeral; ++i) {
        char c = s[i];
        digit = digit || (c >= '0' && c <= '9');
        numeral = (c >= '0' && c <= '9') || c == '.' || (i == 0 && c == '-');
      }
      if (numeral && digit) {
        boost::system::error_code ec;
        boost::json::value v = boost::json::parse(s, ec);
        if (!ec && v.is_number()) return v;
      }
    }
    return boost::json::string(s);
  }

  Status Guardrails(const YAML::Node& n, GuardrailsSectionConfig& g) const {
    PERIMETER_RETURN_IF_ERROR(ExpectMap(n, "guardrails", {"definitions", "bindings"}));
    std::set<std::string> ids;
    if (n["definitions"]) {
      const YAML::Node& ds = n["definitions"];
      if (!ds.IsSequence())
        return Error(ds, "guardrails.definitions", "expected a list of guardrails");
      for (size_t i = 0; i < ds.size(); ++i) {
        const std::string path = "guardrails.definitions[" + std::to_string(i) + "]";
        PERIMETER_RETURN_IF_ERROR(ExpectMap(ds[i], path, {"id", "file", "definition"}));
        GuardrailConfig d;
        if (!ds[i]["id"]) return Error(ds[i], path, "a guardrail needs an 'id'");
        PERIMETER_RETURN_IF_ERROR(NonEmptyString(ds[i]["id"], path + ".id", d.id));
        bool ok = d.id.size() <= 64 && d.id[0] != '-';
        for (char c : d.id)
          ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
        if (!ok) {
          return Error(ds[i]["id"], path + ".id",
                       "'" + d.id + "' is not a guardrail id: 1-64 of a-z 0-9 and '-'");
        }
        if (!ids.insert(d.id).second)
          return Error(ds[i]["id"], path + ".id", "duplicate guardrail '" + d.id + "'");
        if (bool(ds[i]["file"]) == bool(ds[i]["definition"])) {
          return Error(ds[i], path,
                       "give exactly one of 'file' (a CreateGuardrail JSON body) or 'definition' "
                       "(the same body inline)");
        }
        if (ds[i]["definition"]) {
          if (!ds[i]["definition"].IsMap())
            return Error(ds[i]["definition"], path + ".definition",
                         "expected a mapping in the shape of a CreateGuardrail request body");
          d.origin = path;
          d.json = boost::json::serialize(YamlToTypedJson(ds[i]["definition"]));
        } else {
          std::string file;
          PERIMETER_RETURN_IF_ERROR(NonEmptyString(ds[i]["file"], path + ".file", file));
          d.origin = file;
          if (file[0] != '/') file = BaseDir() + file;
          std::ifstream in(file, std::ios::binary);
          if (!in) {
            return Error(ds[i]["file"], path + ".file",
                         "cannot read guardrail file '" + file +
                             "' (paths are relative to the config file's directory)");
          }
          std::ostringstream ss;
          ss << in.rdbuf();
          d.json = ss.str();
          if (d.json.size() > (1u << 20))
            return Error(ds[i]["file"], path + ".file", "guardrail file is larger than 1MiB");
        }
        g.definitions.push_back(std::move(d));
      }
    }
    if (n["bindings"]) {
      const YAML::Node& bs = n["bindings"];
      if (!bs.IsSequence()) return Error(bs, "guardrails.bindings", "expected a list of bindings");
      for (size_t i = 0; i < bs.size(); ++i) {
        const std::string path = "guardrails.bindings[" + std::to_string(i) + "]";
        PERIMETER_RETURN_IF_ERROR(ExpectMap(bs[i], path,
                                            {"tenant", "api_key_id", "guardrail", "version",
                                             "openai_only", "stream_processing_mode"}));
        GuardrailBindingConfig b;
        if (!bs[i]["guardrail"])
          return Error(bs[i], path, "a binding needs 'guardrail' (a guardrail id)");
        PERIMETER_RETURN_IF_ERROR(
            NonEmptyString(bs[i]["guardrail"], path + ".guardrail", b.guardrail));
        if (bs[i]["tenant"])
          PERIMETER_RETURN_IF_ERROR(NonEmptyString(bs[i]["tenant"], path + ".tenant", b.tenant));
        if (bs[i]["api_key_id"])
          PERIMETER_RETURN_IF_ERROR(
              NonEmptyString(bs[i]["api_key_id"], path + ".api_key_id", b.api_key_id));
        if (bs[i]["version"]) {
          PERIMETER_RETURN_IF_ERROR(NonEmptyString(bs[i]["version"], path + ".version", b.version));
          bool number = b.version.size() <= 8 && b.version[0] != '0';
          for (char c : b.version) number = number && c >= '0' && c <= '9';
          if (b.version != "DRAFT" && !number)
            return Error(bs[i]["version"], path + ".version",
                         "expected DRAFT or a version number such as 1");
        }
        if (bs[i]["openai_only"])
          PERIMETER_RETURN_IF_ERROR(
              Bool(bs[i]["openai_only"], path + ".openai_only", b.openai_only));
        if (bs[i]["stream_processing_mode"]) {
          PERIMETER_RETURN_IF_ERROR(NonEmptyString(bs[i]["stream_processing_mode"],
                                                   path + ".stream_processing_mode",
                                                   b.stream_processing_mode));
          if (b.stream_processing_mode != "sync" && b.stream_processing_mode != "async")
            return Error(bs[i]["stream_processing_mode"], path + ".stream_processing_mode",
                         "expected 'sync' or 'async'");
        }
        g.bindings.push_back(std::move(b));
      }
    }
    return Status::Ok();
  }

  // A policy: a path to a JSON file (relative to the config file) or an inline mapping.
  Status PolicyDoc(const YAML::Node& n, const std::string& path, policy::PolicyKind kind,
                   PolicyDocument& out) const {
    if (n.IsMap()) {
      out.origin = path;
      out.json = boost::json::serialize(YamlToJson(n));
    } else if (n.IsScalar() && !n.Scalar().empty()) {
      std::string file = n.Scalar();
      out.origin = file;
      if (!file.empty() && file[0] != '/') file = BaseDir() + file;
      std::ifstream in(file, std::ios::binary);
      if (!in) {
        return Error(n, path,
                     "cannot read policy file '" + file +
                         "' (paths are relative to the config file's directory)");
      }
      std::ostringstream ss;
      ss << in.rdbuf();
      out.json = ss.str();
      if (out.json.size() > policy::kMaxPolicyBytes) {
        return Error(n, path, "policy file '" + file + "' is larger than 128KiB");
      }
    } else {
      return Error(n, path, "expected a policy: a JSON file path or an inline mapping");
    }
    auto parsed = policy::Policy::Parse(out.json, kind);
    if (!parsed.ok()) {
      return Error(n, out.origin == path ? path : path + " (" + out.origin + ")",
                   parsed.status().message());
    }
    return Status::Ok();
  }

  Status PolicyList(const YAML::Node& n, const std::string& path, policy::PolicyKind kind,
                    std::vector<PolicyDocument>& out) const {
    if (!n.IsSequence()) return Error(n, path, "expected a list of policies (files or mappings)");
    if (n.size() > 20) return Error(n, path, "at most 20 policies");
    for (size_t i = 0; i < n.size(); ++i) {
      PolicyDocument d;
      PERIMETER_RETURN_IF_ERROR(PolicyDoc(n[i], path + "[" + std::to_string(i) + "]", kind, d));
      out.push_back(std::move(d));
    }
    return Status::Ok();
  }

  std::string BaseDir() const {
    if (source_.empty() || source_[0] == '<') return "";
    size_t slash = source_.rfind('/');
    return slash == std::string::npos ? "" : source_.substr(0, slash + 1);
  }

  static bool IsRegion(const std::string& r) {
    if (r.empty() || r.size() > 32) return false;
    for (char c : r) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    }
    return true;
  }

  Status Principal(const YAML::Node& n, const std::string& path, PrincipalConfig& p) const {
    PERIMETER_RETURN_IF_ERROR(
        ExpectMap(n, path,
                  {"user", "role", "account_id", "tags", "policies", "permission_boundary",
                   "trust_policy", "max_session_duration"}));
    if (static_cast<bool>(n["user"]) == static_cast<bool>(n["role"])) {
      return Error(n, path, "a principal needs exactly one of 'user: <name>' or 'role: <name>'");
    }
    p.is_role = static_cast<bool>(n["role"]);
    const char* kind = p.is_role ? "role" : "user";
    PERIMETER_RETURN_IF_ERROR(NonEmptyString(n[kind], path + "." + kind, p.name));
    if (!IsIamName(p.name)) {
      return Error(n[kind], path + "." + kind,
                   "'" + p.name + "' is not a valid IAM name (1-64 of A-Z a-z 0-9 +=,.@_-)");
    }
    if (n["account_id"]) {
      PERIMETER_RETURN_IF_ERROR(String(n["account_id"], path + ".account_id", p.account_id));
      if (!IsAccountId(p.account_id))
        return Error(n["account_id"], path + ".account_id", "expected 12 digits, in quotes");
    }
    if (n["tags"]) {
      const YAML::Node& t = n["tags"];
      if (!t.IsMap()) return Error(t, path + ".tags", "expected a mapping of tag keys to values");
      if (t.size() > 50) return Error(t, path + ".tags", "at most 50 tags");
      for (const auto& kv : t) {
        std::string k = kv.first.Scalar(), v;
        PERIMETER_RETURN_IF_ERROR(String(kv.second, path + ".tags." + k, v));
        if (k.empty() || k.size() > 128 || v.size() > 256) {
          return Error(kv.first, path + ".tags." + k,
                       "tag keys are 1-128 characters and values at most 256");
        }
        p.tags[k] = v;
      }
    }
    if (n["policies"])
      PERIMETER_RETURN_IF_ERROR(
          PolicyList(n["policies"], path + ".policies", policy::PolicyKind::kIdentity, p.policies));
    if (n["permission_boundary"]) {
      PolicyDocument d;
      PERIMETER_RETURN_IF_ERROR(PolicyDoc(n["permission_boundary"], path + ".permission_boundary",
                                          policy::PolicyKind::kIdentity, d));
      p.permission_boundary = std::move(d);
    }
    if (n["trust_policy"]) {
      if (!p.is_role)
        return Error(n["trust_policy"], path + ".trust_policy", "only roles have a trust policy");
      PolicyDocument d;
      PERIMETER_RETURN_IF_ERROR(
          PolicyDoc(n["trust_policy"], path + ".trust_policy", policy::PolicyKind::kTrust, d));
      p.trust_policy = std::move(d);
    } else if (p.is_role) {
      return Error(n, path,
                   "a role needs 'trust_policy' saying who may assume it (without one nobody "
                   "can, so the role would be dead weight)");
    }
    if (n["max_session_duration"]) {
      if (!p.is_role) {
        return Error(n["max_session_duration"], path + ".max_session_duration",
                     "only roles have sessions");
      }
      milliseconds d;
      PERIMETER_RETURN_IF_ERROR(
          Duration(n["max_session_duration"], path + ".max_session_duration", d));
      if (d < std::chrono::hours(1) || d > std::chrono::hours(12)) {
        return Error(n["max_session_duration"], path + ".max_session_duration",
                     "must be between 1h and 12h (as IAM allows)");
      }
      p.max_session_duration = std::chrono::duration_cast<std::chrono::seconds>(d);
    }
    return Status::Ok();
  }

  Status Access(const YAML::Node& n, AccessConfig& a) const {
    PERIMETER_RETURN_IF_ERROR(
        ExpectMap(n, "access",
                  {"account_id", "regions", "clock_skew", "egress_allow_hosts",
                   "deployment_policies", "resource_control_policies", "principals", "tenants"}));
    if (n["account_id"]) {
      PERIMETER_RETURN_IF_ERROR(String(n["account_id"], "access.account_id", a.account_id));
      if (!IsAccountId(a.account_id))
        return Error(n["account_id"], "access.account_id", "expected 12 digits, in quotes");
    }
    if (n["regions"]) {
      const YAML::Node& r = n["regions"];
      if (!r.IsSequence() || r.size() == 0 || r.size() > 32)
        return Error(r, "access.regions", "expected a list of 1-32 AWS regions, e.g. [eu-west-1]");
      a.regions.clear();
      for (size_t i = 0; i < r.size(); ++i) {
        std::string p = "access.regions[" + std::to_string(i) + "]", v;
        PERIMETER_RETURN_IF_ERROR(String(r[i], p, v));
        if (!IsRegion(v)) return Error(r[i], p, "'" + v + "' is not a region such as eu-west-1");
        a.regions.push_back(v);
      }
    }
    if (n["clock_skew"]) {
      milliseconds d;
      PERIMETER_RETURN_IF_ERROR(Duration(n["clock_skew"], "access.clock_skew", d));
      if (d < std::chrono::seconds(1) || d > std::chrono::minutes(15))
        return Error(n["clock_skew"], "access.clock_skew", "must be between 1s and 15m");
      a.clock_skew = std::chrono::duration_cast<std::chrono::seconds>(d);
    }
    if (n["egress_allow_hosts"]) {
      const YAML::Node& h = n["egress_allow_hosts"];
      if (!h.IsSequence())
        return Error(h, "access.egress_allow_hosts", "expected a list of host or host:port");
      for (size_t i = 0; i < h.size(); ++i) {
        std::string v;
        PERIMETER_RETURN_IF_ERROR(
            NonEmptyString(h[i], "access.egress_allow_hosts[" + std::to_string(i) + "]", v));
        a.egress_allow_hosts.push_back(AsciiLower(v));
      }
    }
    if (n["deployment_policies"])
      PERIMETER_RETURN_IF_ERROR(PolicyList(n["deployment_policies"], "access.deployment_policies",
                                           policy::PolicyKind::kIdentity, a.deployment_policies));
    if (n["resource_control_policies"])
      PERIMETER_RETURN_IF_ERROR(
          PolicyList(n["resource_control_policies"], "access.resource_control_policies",
                     policy::PolicyKind::kResource, a.resource_control_policies));
    std::set<std::string> arns;
    if (n["principals"]) {
      const YAML::Node& ps = n["principals"];
      if (!ps.IsSequence()) return Error(ps, "access.principals", "expected a list of principals");
      for (size_t i = 0; i < ps.size(); ++i) {
        PrincipalConfig p;
        const std::string path = "access.principals[" + std::to_string(i) + "]";
        PERIMETER_RETURN_IF_ERROR(Principal(ps[i], path, p));
        if (!arns.insert(a.PrincipalArn(p)).second)
          return Error(ps[i], path, "duplicate principal " + a.PrincipalArn(p));
        a.principals.push_back(std::move(p));
      }
    }
    if (n["tenants"]) {
      const YAML::Node& ts = n["tenants"];
      if (!ts.IsSequence()) return Error(ts, "access.tenants", "expected a list of tenants");
      std::set<std::string> ids;
      for (size_t i = 0; i < ts.size(); ++i) {
        const std::string path = "access.tenants[" + std::to_string(i) + "]";
        PERIMETER_RETURN_IF_ERROR(ExpectMap(ts[i], path, {"id", "role", "invocation_records"}));
        TenantConfig t;
        if (!ts[i]["id"] || !ts[i]["role"])
          return Error(ts[i], path, "a tenant needs 'id' and 'role' (a role name or ARN)");
        PERIMETER_RETURN_IF_ERROR(NonEmptyString(ts[i]["id"], path + ".id", t.id));
        bool ok = t.id.size() <= 63 && t.id[0] != '-';
        for (char c : t.id)
          ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
        if (!ok) {
          return Error(ts[i]["id"], path + ".id",
                       "'" + t.id + "' is not a tenant id: 1-63 of a-z 0-9 and '-'");
        }
        if (!ids.insert(t.id).second)
          return Error(ts[i]["id"], path + ".id", "duplicate tenant '" + t.id + "'");
        PERIMETER_RETURN_IF_ERROR(NonEmptyString(ts[i]["role"], path + ".role", t.role_arn));
        if (!StartsWith(t.role_arn, "arn:"))
          t.role_arn = "arn:aws:iam::" + a.account_id + ":role/" + t.role_arn;
        if (!arns.count(t.role_arn)) {
          return Error(
              ts[i]["role"], path + ".role",
              "no role " + t.role_arn + " in access.principals; declare the tenant's role there");
        }
        if (ts[i]["invocation_records"]) {
          PERIMETER_RETURN_IF_ERROR(Bool(ts[i]["invocation_records"], path + ".invocation_records",
                                         t.invocation_records));
        }
        a.tenants.push_back(std::move(t));
      }
    }
    return Status::Ok();
  }

  // Region pinning at the network layer: every upstream host must be one Perimeter may reach.
  static std::string UrlHostPort(const std::string& url) {
    size_t start = url.find("://");
    start = start == std::string::npos ? 0 : start + 3;
    size_t end = url.find_first_of("/?#", start);
    return AsciiLower(
        url.substr(start, end == std::string::npos ? std::string::npos : end - start));
  }

  static bool HostAllowed(const AccessConfig& a, const std::string& host_port) {
    std::string host = host_port;
    if (size_t colon = host.rfind(':');
        colon != std::string::npos && host.find(']') == std::string::npos) {
      host = host.substr(0, colon);
    } else if (host.size() > 2 && host[0] == '[') {
      host = host.substr(0, host.find(']') + 1);
    }
    for (const auto& r : a.regions) {
      if (host == "bedrock-runtime." + r + ".amazonaws.com" ||
          host == "bedrock-runtime-fips." + r + ".amazonaws.com")
        return true;
    }
    for (const auto& allowed : a.egress_allow_hosts) {
      if (allowed == host || allowed == host_port) return true;
    }
    return false;
  }

  Status Server(const YAML::Node& n, ServerConfig& s) const {
    PERIMETER_RETURN_IF_ERROR(ExpectMap(n, "server", {"state_dir", "drain_timeout", "threads"}));
    if (n["state_dir"])
      PERIMETER_RETURN_IF_ERROR(NonEmptyString(n["state_dir"], "server.state_dir", s.state_dir));
    if (n["drain_timeout"])
      PERIMETER_RETURN_IF_ERROR(
          Duration(n["drain_timeout"], "server.drain_timeout", s.drain_timeout));
    if (n["threads"]) {
      uint64_t t;
      PERIMETER_RETURN_IF_ERROR(UInt(n["threads"], "server.threads", 256, t));
      s.threads = static_cast<uint32_t>(t);
    }
    return Status::Ok();
  }

  Status Listener(const YAML::Node& n, const std::string& path, ListenerConfig& l) const {
    PERIMETER_RETURN_IF_ERROR(ExpectMap(
        n, path,
        {"name", "address", "port", "unix_socket", "tls", "allowed_cidrs", "endpoint_policy"}));
    if (n["endpoint_policy"]) {
      PolicyDocument d;
      PERIMETER_RETURN_IF_ERROR(PolicyDoc(n["endpoint_policy"], path + ".endpoint_policy",
                                          policy::PolicyKind::kResource, d));
      l.endpoint_policy = std::move(d);
    }
    if (n["name"]) PERIMETER_RETURN_IF_ERROR(NonEmptyString(n["name"], path + ".name", l.name));
    if (n["address"]) {
      PERIMETER_RETURN_IF_ERROR(NonEmptyString(n["address"], path + ".address", l.address));
      if (!IpAddress::Parse(l.address).ok()) {
        return Error(n["address"], path + ".address",
                     "expected an IP address to bind (e.g. 127.0.0.1, 10.0.3.7 or ::1), got '" +
                         l.address + "'");
      }
    }
    if (n["port"]) {
      uint64_t p;
      PERIMETER_RETURN_IF_ERROR(UInt(n["port"], path + ".port", 65535, p));
      l.port = static_cast<uint16_t>(p);
    }
    if (n["unix_socket"]) {
      PERIMETER_RETURN_IF_ERROR(
          NonEmptyString(n["unix_socket"], path + ".unix_socket", l.unix_socket));
      if (n["address"] || n["port"]) {
        return Error(n["unix_socket"], path + ".unix_socket",
                     "a listener takes either unix_socket or address/port, not both");
      }
      if (l.unix_socket.size() >= 100) {
        return Error(n["unix_socket"], path + ".unix_socket",
                     "socket path is too long (max 99 bytes)");
      }
    }
    if (n["tls"]) {
      const YAML::Node& t = n["tls"];
      PERIMETER_RETURN_IF_ERROR(
          ExpectMap(t, path + ".tls", {"certificate", "private_key", "client_ca"}));
      TlsConfig tls;
      if (!t["certificate"] || !t["private_key"]) {
        return Error(t, path + ".tls",
                     "needs both 'certificate' and 'private_key' (PEM file paths)");
      }
      PERIMETER_RETURN_IF_ERROR(
          NonEmptyString(t["certificate"], path + ".tls.certificate", tls.certificate));
      PERIMETER_RETURN_IF_ERROR(
          NonEmptyString(t["private_key"], path + ".tls.private_key", tls.private_key));
      if (t["client_ca"])
        PERIMETER_RETURN_IF_ERROR(
            NonEmptyString(t["client_ca"], path + ".tls.client_ca", tls.client_ca));
      l.tls = tls;
    }
    if (n["allowed_cidrs"]) {
      const YAML::Node& c = n["allowed_cidrs"];
      if (!c.IsSequence())
        return Error(c, path + ".allowed_cidrs",
                     "expected a list of CIDR blocks such as [10.0.0.0/8]");
      for (size_t i = 0; i < c.size(); ++i) {
        std::string p = path + ".allowed_cidrs[" + std::to_string(i) + "]", text;
        PERIMETER_RETURN_IF_ERROR(String(c[i], p, text));
        auto cidr = Cidr::Parse(text);
        if (!cidr.ok()) return Error(c[i], p, cidr.status().message());
        l.allowed_cidrs.push_back(*cidr);
      }
    }
    return Status::Ok();
  }

  Status Upstream(const YAML::Node& n, const std::string& path, UpstreamConfig& u) const {
    PERIMETER_RETURN_IF_ERROR(
        ExpectMap(n, path,
                  {"name", "type", "base_url", "api_key_env", "region", "endpoint_url", "ca_file",
                   "profile", "timeouts", "max_retries"}));
    if (!n["name"]) return Error(n, path, "missing required field 'name'");
    PERIMETER_RETURN_IF_ERROR(NonEmptyString(n["name"], path + ".name", u.name));
    if (!n["type"])
      return Error(n, path, "missing required field 'type' (builtin, openai or bedrock)");
    std::string type;
    PERIMETER_RETURN_IF_ERROR(String(n["type"], path + ".type", type));
    if (type == "builtin")
      u.type = UpstreamType::kBuiltin;
    else if (type == "openai")
      u.type = UpstreamType::kOpenAi;
    else if (type == "bedrock")
      u.type = UpstreamType::kBedrock;
    else
      return Error(n["type"], path + ".type",
                   "expected builtin, openai or bedrock, got '" + type + "'");

    auto str = [&](const char* key, std::string& out) -> Status {
      if (!n[key]) return Status::Ok();
      return NonEmptyString(n[key], path + "." + key, out);
    };
    PERIMETER_RETURN_IF_ERROR(str("base_url", u.base_url));
    PERIMETER_RETURN_IF_ERROR(str("api_key_env", u.api_key_env));
    PERIMETER_RETURN_IF_ERROR(str("region", u.region));
    PERIMETER_RETURN_IF_ERROR(str("endpoint_url", u.endpoint_url));
    PERIMETER_RETURN_IF_ERROR(str("ca_file", u.ca_file));
    PERIMETER_RETURN_IF_ERROR(str("profile", u.profile));
    if (n["max_retries"]) {
      uint64_t r;
      PERIMETER_RETURN_IF_ERROR(UInt(n["max_retries"], path + ".max_retries", 5, r));
      u.max_retries = static_cast<int>(r);
    }
    if (n["timeouts"]) {
      const YAML::Node& t = n["timeouts"];
      PERIMETER_RETURN_IF_ERROR(
          ExpectMap(t, path + ".timeouts", {"connect", "first_byte", "total"}));
      if (t["connect"])
        PERIMETER_RETURN_IF_ERROR(
            Duration(t["connect"], path + ".timeouts.connect", u.timeouts.connect));
      if (t["first_byte"])
        PERIMETER_RETURN_IF_ERROR(
            Duration(t["first_byte"], path + ".timeouts.first_byte", u.timeouts.first_byte));
      if (t["total"])
        PERIMETER_RETURN_IF_ERROR(Duration(t["total"], path + ".timeouts.total", u.timeouts.total));
    }
    // Type-specific requirements.
    auto forbid = [&](const char* key) -> Status {
      if (n[key]) {
        return Error(n[key], path + "." + key,
                     std::string("does not apply to a ") + std::string(UpstreamTypeName(u.type)) +
                         " upstream");
      }
      return Status::Ok();
    };
    switch (u.type) {
      case UpstreamType::kBuiltin:
        for (const char* k :
             {"base_url", "api_key_env", "region", "endpoint_url", "ca_file", "profile"}) {
          PERIMETER_RETURN_IF_ERROR(forbid(k));
        }
        break;
      case UpstreamType::kOpenAi:
        if (u.base_url.empty()) {
          return Error(n, path,
                       "an openai upstream needs 'base_url', e.g. http://127.0.0.1:8000/v1");
        }
        if (!StartsWith(u.base_url, "http://") && !StartsWith(u.base_url, "https://")) {
          return Error(n["base_url"], path + ".base_url", "must start with http:// or https://");
        }
        for (const char* k : {"region", "endpoint_url", "profile"})
          PERIMETER_RETURN_IF_ERROR(forbid(k));
        break;
      case UpstreamType::kBedrock:
        if (u.region.empty())
          return Error(n, path, "a bedrock upstream needs 'region', e.g. eu-west-1");
        for (char c : u.region) {
          if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return Error(n["region"], path + ".region",
                         "'" + u.region + "' is not an AWS region name such as eu-west-1");
          }
        }
        if (!u.endpoint_url.empty() && !StartsWith(u.endpoint_url, "https://")) {
          return Error(n["endpoint_url"], path + ".endpoint_url",
                       "must start with https:// (Bedrock is only reached over verified TLS)");
        }
        for (const char* k : {"base_url", "api_key_env"}) PERIMETER_RETURN_IF_ERROR(forbid(k));
        break;
    }
    return Status::Ok();
  }

  Status Egress(const YAML::Node& n, const std::string& path, const AccessConfig& a,
                const UpstreamConfig& u) const {
    if (u.type == UpstreamType::kBedrock &&
        std::find(a.regions.begin(), a.regions.end(), u.region) == a.regions.end()) {
      std::string list;
      for (const auto& r : a.regions) list += (list.empty() ? "" : ", ") + r;
      return Error(n["region"], path + ".region",
                   "region " + u.region + " is outside this deployment's regions (" + list +
                       "); add it to access.regions or use an upstream in them");
    }
    std::string url = u.type == UpstreamType::kOpenAi ? u.base_url : u.endpoint_url;
    if (url.empty()) return Status::Ok();  // builtin, or Bedrock's regional host (checked above)
    std::string hp = UrlHostPort(url);
    if (!HostAllowed(a, hp)) {
      return Error(n[u.type == UpstreamType::kOpenAi ? "base_url" : "endpoint_url"],
                   path + (u.type == UpstreamType::kOpenAi ? ".base_url" : ".endpoint_url"),
                   "host " + hp +
                       " is not in the egress allowlist; add it to access.egress_allow_hosts "
                       "(only bedrock-runtime hosts of access.regions are allowed by default)");
    }
    return Status::Ok();
  }

  Status Route(const YAML::Node& n, const std::string& path, RouteConfig& r) const {
    PERIMETER_RETURN_IF_ERROR(
        ExpectMap(n, path, {"model", "model_pattern", "upstream", "upstream_model"}));
    if (n["model"]) PERIMETER_RETURN_IF_ERROR(NonEmptyString(n["model"], path + ".model", r.model));
    if (n["model_pattern"])
      PERIMETER_RETURN_IF_ERROR(
          NonEmptyString(n["model_pattern"], path + ".model_pattern", r.model_pattern));
    if (r.model.empty() == r.model_pattern.empty()) {
      return Error(
          n, path,
          "a route needs exactly one of 'model' (an exact id) or 'model_pattern' (a glob)");
    }
    if (!n["upstream"]) return Error(n, path, "missing required field 'upstream'");
    PERIMETER_RETURN_IF_ERROR(NonEmptyString(n["upstream"], path + ".upstream", r.upstream));
    if (n["upstream_model"])
      PERIMETER_RETURN_IF_ERROR(
          NonEmptyString(n["upstream_model"], path + ".upstream_model", r.upstream_model));
    return Status::Ok();
  }

  Status Limits(const YAML::Node& n, LimitsConfig& l) const {
    PERIMETER_RETURN_IF_ERROR(ExpectMap(n, "limits",
                                        {"max_body_bytes", "max_header_bytes", "max_header_count",
                                         "idle_timeout", "request_timeout"}));
    if (n["max_body_bytes"]) {
      PERIMETER_RETURN_IF_ERROR(
          ByteSize(n["max_body_bytes"], "limits.max_body_bytes", l.max_body_bytes));
      if (l.max_body_bytes == 0 || l.max_body_bytes > (1ull << 30)) {
        return Error(n["max_body_bytes"], "limits.max_body_bytes",
                     "must be between 1 byte and 1GiB");
      }
    }
    if (n["max_header_bytes"]) {
      uint64_t v;
      PERIMETER_RETURN_IF_ERROR(ByteSize(n["max_header_bytes"], "limits.max_header_bytes", v));
      if (v < 1024 || v > 1024 * 1024)
        return Error(n["max_header_bytes"], "limits.max_header_bytes",
                     "must be between 1KiB and 1MiB");
      l.max_header_bytes = static_cast<uint32_t>(v);
    }
    if (n["max_header_count"]) {
      uint64_t v;
      PERIMETER_RETURN_IF_ERROR(UInt(n["max_header_count"], "limits.max_header_count", 10000, v));
      if (v < 8)
        return Error(n["max_header_count"], "limits.max_header_count", "must be at least 8");
      l.max_header_count = static_cast<uint32_t>(v);
    }
    if (n["idle_timeout"])
      PERIMETER_RETURN_IF_ERROR(Duration(n["idle_timeout"], "limits.idle_timeout", l.idle_timeout));
    if (n["request_timeout"])
      PERIMETER_RETURN_IF_ERROR(
          Duration(n["request_timeout"], "limits.request_timeout", l.request_timeout));
    return Status::Ok();
  }

  Status Bool(const YAML::Node& n, const std::string& path, bool& out) const {
    if (!n.IsScalar() || (n.Scalar() != "true" && n.Scalar() != "false"))
      return Error(n, path, "expected true or false");
    out = n.Scalar() == "true";
    return Status::Ok();
  }

  Status Seconds(const YAML::Node& n, const std::string& path, std::chrono::seconds& out) const {
    milliseconds ms{0};
    PERIMETER_RETURN_IF_ERROR(Duration(n, path, ms));
    out = std::chrono::duration_cast<std::chrono::seconds>(ms);
    return Status::Ok();
  }

  Status Keys(const YAML::Node& n, KeysConfig& k) const {
    PERIMETER_RETURN_IF_ERROR(
        ExpectMap(n, "keys",
                  {"backend", "root_key_file", "aws_kms", "rotation_period", "data_key_cache",
                   "data_key_cache_max_age", "data_key_cache_max_uses"}));
    if (n["backend"]) {
      PERIMETER_RETURN_IF_ERROR(NonEmptyString(n["backend"], "keys.backend", k.backend));
      if (k.backend != "local" && k.backend != "aws-kms")
        return Error(n["backend"], "keys.backend", "expected 'local' or 'aws-kms'");
    }
    if (n["root_key_file"])
      PERIMETER_RETURN_IF_ERROR(
          NonEmptyString(n["root_key_file"], "keys.root_key_file", k.root_key_file));
    if (n["aws_kms"]) {
      const YAML::Node& a = n["aws_kms"];
      PERIMETER_RETURN_IF_ERROR(
          ExpectMap(a, "keys.aws_kms", {"region", "key_id", "endpoint_url", "ca_file", "profile"}));
      const std::pair<const char*, std::string*> fields[] = {
          {"region", &k.aws_kms.region},
          {"key_id", &k.aws_kms.key_id},
          {"endpoint_url", &k.aws_kms.endpoint_url},
          {"ca_file", &k.aws_kms.ca_file},
          {"profile", &k.aws_kms.profile}};
      for (const auto& [name, out] : fields) {
        if (a[name])
          PERIMETER_RETURN_IF_ERROR(
              NonEmptyString(a[name], std::string("keys.aws_kms.") + name, *out));
      }
    }
    if (k.backend == "aws-kms" && (k.aws_kms.region.empty() || k.aws_kms.key_id.empty())) {
      return Error(n, "keys.aws_kms",
                   "backend aws-kms needs keys.aws_kms.region and keys.aws_kms.key_id (the AWS "
                   "KMS key that wraps Perimeter's keys)");
    }
    if (n["rotation_period"]) {
      PERIMETER_RETURN_IF_ERROR(
          Seconds(n["rotation_period"], "keys.rotation_period", k.rotation_period));
      const int64_t days = k.rotation_period.count() / 86400;
      if (k.rotation_period.count() != 0 &&
          (k.rotation_period.count() % 86400 != 0 || days < 90 || days > 2560)) {
        return Error(n["rotation_period"], "keys.rotation_period",
                     "must be whole days from 90d to 2560d, or 0 to turn automatic rotation off");
      }
    }
    if (n["data_key_cache"])
      PERIMETER_RETURN_IF_ERROR(Bool(n["data_key_cache"], "keys.data_key_cache", k.data_key_cache));
    if (n["data_key_cache_max_age"]) {
      PERIMETER_RETURN_IF_ERROR(Seconds(n["data_key_cache_max_age"], "keys.data_key_cache_max_age",
                                        k.data_key_cache_max_age));
      if (k.data_key_cache_max_age.count() < 1 || k.data_key_cache_max_age.count() > 86400)
        return Error(n["data_key_cache_max_age"], "keys.data_key_cache_max_age",
                     "must be between 1s and 24h");
    }
    if (n["data_key_cache_max_uses"]) {
      PERIMETER_RETURN_IF_ERROR(UInt(n["data_key_cache_max_uses"], "keys.data_key_cache_max_uses",
                                     uint64_t{1} << 32, k.data_key_cache_max_uses));
      if (k.data_key_cache_max_uses == 0)
        return Error(n["data_key_cache_max_uses"], "keys.data_key_cache_max_uses",
                     "must be at least 1");
    }
    return Status::Ok();
  }

  Status Audit(const YAML::Node& n, AuditConfig& a) const {
    PERIMETER_RETURN_IF_ERROR(ExpectMap(
        n, "audit", {"dir", "fsync", "retention", "checkpoint_interval", "segment_max_bytes"}));
    if (n["dir"]) PERIMETER_RETURN_IF_ERROR(NonEmptyString(n["dir"], "audit.dir", a.dir));
    if (n["fsync"]) {
      PERIMETER_RETURN_IF_ERROR(NonEmptyString(n["fsync"], "audit.fsync", a.fsync));
      if (a.fsync != "batch" && a.fsync != "none") {
        return Error(n["fsync"], "audit.fsync",
                     "expected 'batch' (fdatasync every group commit) or 'none' (survives a "
                     "crash of the process, not of the machine)");
      }
    }
    if (n["retention"]) {
      PERIMETER_RETURN_IF_ERROR(Seconds(n["retention"], "audit.retention", a.retention));
      if (a.retention.count() < 86400 || a.retention.count() % 86400 != 0) {
        return Error(n["retention"], "audit.retention",
                     "must be whole days, at least 1d (PCI DSS 10.5.1 asks for 365d)");
      }
    }
    if (n["checkpoint_interval"]) {
      PERIMETER_RETURN_IF_ERROR(
          Seconds(n["checkpoint_interval"], "audit.checkpoint_interval", a.checkpoint_interval));
      if (a.checkpoint_interval.count() < 1 || a.checkpoint_interval.count() > 86400) {
        return Error(n["checkpoint_interval"], "audit.checkpoint_interval",
                     "must be between 1s and 24h");
      }
    }
    if (n["segment_max_bytes"]) {
      PERIMETER_RETURN_IF_ERROR(
          ByteSize(n["segment_max_bytes"], "audit.segment_max_bytes", a.segment_max_bytes));
      if (a.segment_max_bytes < 65536 || a.segment_max_bytes > (uint64_t{1} << 34)) {
        return Error(n["segment_max_bytes"], "audit.segment_max_bytes",
                     "must be from 64KiB to 16GiB");
      }
    }
    return Status::Ok();
  }

  Result<Config> Parse(const YAML::Node& root) const {
    Config c;
    c.source = source_;
    if (root.IsNull() || !root.IsDefined()) {
      return InvalidArgument(source_ + ": the file is empty; see `perimeter config defaults`");
    }
    PERIMETER_RETURN_IF_ERROR(ExpectMap(root, "",
                                        {"server", "access", "keys", "audit", "guardrails",
                                         "listeners", "upstreams", "routes", "limits", "logging"}));
    if (root["server"]) PERIMETER_RETURN_IF_ERROR(Server(root["server"], c.server));
    if (root["guardrails"]) PERIMETER_RETURN_IF_ERROR(Guardrails(root["guardrails"], c.guardrails));
    if (root["keys"]) PERIMETER_RETURN_IF_ERROR(Keys(root["keys"], c.keys));
    if (root["audit"]) PERIMETER_RETURN_IF_ERROR(Audit(root["audit"], c.audit));
    if (root["access"]) PERIMETER_RETURN_IF_ERROR(Access(root["access"], c.access));
    // A binding to a tenant this deployment does not serve would silently guard nobody.
    for (size_t i = 0; i < c.guardrails.bindings.size(); ++i) {
      const std::string& t = c.guardrails.bindings[i].tenant;
      if (t.empty()) continue;
      bool served = false;
      for (const auto& tc : c.access.tenants) served = served || tc.id == t;
      if (!served) {
        return Error(root["guardrails"]["bindings"][i]["tenant"],
                     "guardrails.bindings[" + std::to_string(i) + "].tenant",
                     "'" + t + "' is not a tenant of access.tenants");
      }
    }
    if (root["limits"]) PERIMETER_RETURN_IF_ERROR(Limits(root["limits"], c.limits));
    if (root["logging"]) {
      const YAML::Node& l = root["logging"];
      PERIMETER_RETURN_IF_ERROR(ExpectMap(l, "logging", {"access_log", "prompts"}));
      if (l["access_log"])
        PERIMETER_RETURN_IF_ERROR(
            NonEmptyString(l["access_log"], "logging.access_log", c.logging.access_log));
      if (l["prompts"]) {
        PERIMETER_RETURN_IF_ERROR(
            NonEmptyString(l["prompts"], "logging.prompts", c.logging.prompts));
        if (c.logging.prompts != "off" && c.logging.prompts != "redacted") {
          return Error(l["prompts"], "logging.prompts",
                       "expected 'off' or 'redacted' (identifiers replaced by vault tokens); raw "
                       "prompts are never logged");
        }
      }
    }
    if (!root["listeners"]) {
      c.listeners.push_back(ListenerConfig{});
    } else {
      const YAML::Node& ls = root["listeners"];
      if (!ls.IsSequence() || ls.size() == 0)
        return Error(ls, "listeners", "expected a non-empty list of listeners");
      std::set<std::string> names;
      for (size_t i = 0; i < ls.size(); ++i) {
        ListenerConfig l;
        const std::string path = "listeners[" + std::to_string(i) + "]";
        PERIMETER_RETURN_IF_ERROR(Listener(ls[i], path, l));
        if (!names.insert(l.name).second)
          return Error(ls[i], path + ".name", "duplicate listener name '" + l.name + "'");
        c.listeners.push_back(std::move(l));
      }
    }
    if (!root["upstreams"]) {
      c.upstreams.push_back(UpstreamConfig{.name = "builtin", .type = UpstreamType::kBuiltin});
    } else {
      const YAML::Node& us = root["upstreams"];
      if (!us.IsSequence() || us.size() == 0)
        return Error(us, "upstreams", "expected a non-empty list of upstreams");
      for (size_t i = 0; i < us.size(); ++i) {
        UpstreamConfig u;
        const std::string path = "upstreams[" + std::to_string(i) + "]";
        PERIMETER_RETURN_IF_ERROR(Upstream(us[i], path, u));
        if (c.FindUpstream(u.name))
          return Error(us[i]["name"], path + ".name", "duplicate upstream name '" + u.name + "'");
        PERIMETER_RETURN_IF_ERROR(Egress(us[i], path, c.access, u));
        c.upstreams.push_back(std::move(u));
      }
    }
    if (!root["routes"]) {
      c.routes.push_back(RouteConfig{.model_pattern = "perimeter.*", .upstream = "builtin"});
    } else {
      const YAML::Node& rs = root["routes"];
      if (!rs.IsSequence()) return Error(rs, "routes", "expected a list of routes");
      for (size_t i = 0; i < rs.size(); ++i) {
        RouteConfig r;
        const std::string path = "routes[" + std::to_string(i) + "]";
        PERIMETER_RETURN_IF_ERROR(Route(rs[i], path, r));
        if (!c.FindUpstream(r.upstream)) {
          std::string names;
          for (const auto& u : c.upstreams) names += (names.empty() ? "" : ", ") + u.name;
          return Error(rs[i]["upstream"], path + ".upstream",
                       "no upstream named '" + r.upstream + "'; declared upstreams: " + names);
        }
        c.routes.push_back(std::move(r));
      }
    }
    return c;
  }

 private:
  std::string source_;
};

}  // namespace

Result<Config> ParseConfig(std::string_view yaml, std::string_view source) {
  Parser parser{std::string(source)};
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string(source) + ":" + std::to_string(e.mark.line + 1) + ":" +
                           std::to_string(e.mark.column + 1) + ": not valid YAML: " + e.msg);
  }
  try {
    return parser.Parse(root);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(std::string(source) + ":" + std::to_string(e.mark.line + 1) + ": " +
                           e.msg);
  }
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return NotFound("cannot read config file '" + path + "': check the path and its permissions");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().size() > (4u << 20))
    return InvalidArgument(path + ": config file is larger than 4MiB");
  return ParseConfig(ss.str(), path);
}

const std::string& DefaultConfigYaml() {
  static const std::string kYaml =
      R"(# Perimeter's embedded defaults (what `perimeter serve` runs with no --config).
server:
  state_dir: ./var
  drain_timeout: 10s
listeners:
  - name: main
    address: 127.0.0.1
    port: 8080
access:
  account_id: "000000000000"
  regions: [eu-west-1]
  principals:
    # A local developer that may call only the built-in test model. It has no credentials until
    # you create some: perimeter credentials create --principal developer --type api-key
    - user: developer
      tags:
        workload: local-development
      policies:
        - Version: "2012-10-17"
          Statement:
            - Sid: InvokeTheBuiltinModelOnly
              Effect: Allow
              Action: [bedrock:InvokeModel, bedrock:InvokeModelWithResponseStream]
              Resource: "arn:aws:bedrock:eu-west-1::foundation-model/perimeter.*"
            - Sid: ListModels
              Effect: Allow
              Action: bedrock:ListFoundationModels
              Resource: "*"
upstreams:
  - name: builtin
    type: builtin
routes:
  - model_pattern: "perimeter.*"
    upstream: builtin
limits:
  max_body_bytes: 25MiB
audit:
  # The tamper-evident trail of every call, key use and admin action (docs/audit.md).
  dir: audit                # under state_dir
  fsync: batch              # fdatasync every group commit before answering
  retention: 365d           # PCI DSS 10.5.1: at least 12 months
  checkpoint_interval: 60s  # signed checkpoints
logging:
  access_log: stdout
  prompts: off              # never log prompt text; "redacted" logs it with vault tokens
)";
  return kYaml;
}

Config DefaultConfig() {
  auto c = ParseConfig(DefaultConfigYaml(), "<embedded defaults>");
  // The embedded defaults are tested; failing here is a build defect, not a user error.
  if (!c.ok()) std::abort();
  return std::move(c).value();
}

}  // namespace perimeter::config
