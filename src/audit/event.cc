#include "audit/event.h"

#include <limits>
#include <utility>

#include <boost/json.hpp>

#include "common/clock.h"
#include "crypto/random.h"

namespace perimeter::audit {

namespace json = boost::json;

namespace {

// Every string of an event is written as valid UTF-8: fields such as the user agent or a model id
// come from the client as bytes, and a record that is not valid UTF-8 could not be read back (by
// ParseEventJson or an auditor's JSON parser). Invalid sequences become U+FFFD.
std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    // The sequence length, the lead byte's payload bits, and the smallest code point that
    // needs this length (anything below is an overlong encoding).
    struct Lead {
      size_t len;
      uint32_t bits;
      uint32_t min;
    };
    const Lead lead = (c & 0xE0) == 0xC0   ? Lead{2, c & 0x1Fu, 0x80}
                      : (c & 0xF0) == 0xE0 ? Lead{3, c & 0x0Fu, 0x800}
                      : (c & 0xF8) == 0xF0 ? Lead{4, c & 0x07u, 0x10000}
                                           : Lead{0, 0, 0};
    const size_t len = lead.len;
    uint32_t cp = lead.bits;
    const uint32_t min = lead.min;
    bool ok = len != 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) {
        ok = false;
      } else {
        cp = (cp << 6) | (cc & 0x3F);
      }
    }
    ok = ok && cp >= min && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

json::string Str(std::string_view s) { return json::string(ValidUtf8(s)); }

// requestParameters / responseElements: the stored JSON text, embedded as JSON. Text that does
// not parse (a caller's bug) is written as null rather than as a string that would read back as
// something else.
json::value Embedded(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return nullptr;
  return v;
}

json::array StringArray(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(Str(s));
  return a;
}

json::object UserIdentityJson(const UserIdentity& u) {
  json::object o;
  o["type"] = Str(u.type);
  if (!u.principal_id.empty()) o["principalId"] = Str(u.principal_id);
  if (!u.arn.empty()) o["arn"] = Str(u.arn);
  if (!u.account_id.empty()) o["accountId"] = Str(u.account_id);
  if (!u.access_key_id.empty()) o["accessKeyId"] = Str(u.access_key_id);
  if (!u.invoked_by.empty()) o["invokedBy"] = Str(u.invoked_by);
  if (u.session_context) {
    const SessionContext& s = *u.session_context;
    json::object sc;
    if (!s.session_issuer_arn.empty()) {
      sc["sessionIssuer"] = json::object{{"arn", Str(s.session_issuer_arn)}};
    }
    json::object attributes;
    if (!s.creation_date.empty()) attributes["creationDate"] = Str(s.creation_date);
    attributes["mfaAuthenticated"] = Str(s.mfa_authenticated);
    sc["attributes"] = std::move(attributes);
    if (!s.source_identity.empty()) sc["sourceIdentity"] = Str(s.source_identity);
    o["sessionContext"] = std::move(sc);
  }
  return o;
}

// --- Parsing ---------------------------------------------------------------------------------

Status Malformed(std::string_view path, std::string_view what) {
  return InvalidArgument("the audit event is malformed: " + std::string(path) + " " +
                         std::string(what) +
                         "; it was not written by Perimeter's audit log, or was altered");
}

std::string Path(std::string_view parent, std::string_view key) {
  return parent.empty() ? std::string(key) : std::string(parent) + "." + std::string(key);
}

// Reads optional (or, with `required`, mandatory) members of one object, strictly typed.
class Fields {
 public:
  Fields(const json::object& o, std::string path) : o_(o), path_(std::move(path)) {}

  Status String(std::string_view key, std::string* out, bool required = false) const {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr) return required ? Malformed(Path(path_, key), "is missing") : Status::Ok();
    if (!v->is_string()) return Malformed(Path(path_, key), "must be a string");
    *out = std::string(v->get_string());
    return Status::Ok();
  }

  Status Bool(std::string_view key, bool* out) const {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr) return Status::Ok();
    if (!v->is_bool()) return Malformed(Path(path_, key), "must be true or false");
    *out = v->get_bool();
    return Status::Ok();
  }

  Status Integer(std::string_view key, int64_t min, int64_t max, int64_t* out) const {
    const json::value* v = o_.if_contains(key);
    if (v == nullptr) return Status::Ok();
    int64_t n = 0;
    if (v->is_int64()) {
      n = v->get_int64();
    } else if (v->is_uint64() &&
               v->get_uint64() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      n = static_cast<int64_t>(v->get_uint64());
    } else {
      return Malformed(Path(path_, key), "must be an integer");
    }
    if (n < min || n > max) {
      return Malformed(Path(path_, key), "is out of range (" + std::to_string(min) + " to " +
                                             std::to_string(max) + ")");
    }
    *out = n;
    return Status::Ok();
  }

  // The member as an object, or null when absent.
  Status Object(std::string_view key, const json::object** out) const {
    *out = nullptr;
    const json::value* v = o_.if_contains(key);
    if (v == nullptr) return Status::Ok();
    if (!v->is_object()) return Malformed(Path(path_, key), "must be an object");
    *out = &v->get_object();
    return Status::Ok();
  }

  Status Array(std::string_view key, const json::array** out) const {
    *out = nullptr;
    const json::value* v = o_.if_contains(key);
    if (v == nullptr) return Status::Ok();
    if (!v->is_array()) return Malformed(Path(path_, key), "must be an array");
    *out = &v->get_array();
    return Status::Ok();
  }

  Status StringArray(std::string_view key, std::vector<std::string>* out) const {
    const json::array* a = nullptr;
    PERIMETER_RETURN_IF_ERROR(Array(key, &a));
    if (a == nullptr) return Status::Ok();
    out->clear();
    for (size_t i = 0; i < a->size(); ++i) {
      if (!(*a)[i].is_string()) {
        return Malformed(Path(path_, key) + "[" + std::to_string(i) + "]", "must be a string");
      }
      out->emplace_back((*a)[i].get_string());
    }
    return Status::Ok();
  }

  // Any JSON value, serialized ("null" when absent).
  std::string Embedded(std::string_view key) const {
    const json::value* v = o_.if_contains(key);
    return v == nullptr ? "null" : json::serialize(*v);
  }

  Fields Child(const json::object& o, std::string_view key) const {
    return Fields(o, Path(path_, key));
  }
  const std::string& path() const { return path_; }

 private:
  const json::object& o_;
  std::string path_;
};

Status ParseUserIdentity(const Fields& f, UserIdentity* u) {
  PERIMETER_RETURN_IF_ERROR(f.String("type", &u->type));
  PERIMETER_RETURN_IF_ERROR(f.String("principalId", &u->principal_id));
  PERIMETER_RETURN_IF_ERROR(f.String("arn", &u->arn));
  PERIMETER_RETURN_IF_ERROR(f.String("accountId", &u->account_id));
  PERIMETER_RETURN_IF_ERROR(f.String("accessKeyId", &u->access_key_id));
  PERIMETER_RETURN_IF_ERROR(f.String("invokedBy", &u->invoked_by));
  const json::object* sc = nullptr;
  PERIMETER_RETURN_IF_ERROR(f.Object("sessionContext", &sc));
  if (sc == nullptr) return Status::Ok();
  Fields s = f.Child(*sc, "sessionContext");
  SessionContext ctx;
  const json::object* issuer = nullptr;
  PERIMETER_RETURN_IF_ERROR(s.Object("sessionIssuer", &issuer));
  if (issuer != nullptr) {
    PERIMETER_RETURN_IF_ERROR(
        s.Child(*issuer, "sessionIssuer").String("arn", &ctx.session_issuer_arn));
  }
  const json::object* attributes = nullptr;
  PERIMETER_RETURN_IF_ERROR(s.Object("attributes", &attributes));
  if (attributes != nullptr) {
    Fields a = s.Child(*attributes, "attributes");
    PERIMETER_RETURN_IF_ERROR(a.String("creationDate", &ctx.creation_date));
    PERIMETER_RETURN_IF_ERROR(a.String("mfaAuthenticated", &ctx.mfa_authenticated));
  }
  PERIMETER_RETURN_IF_ERROR(s.String("sourceIdentity", &ctx.source_identity));
  u->session_context = std::move(ctx);
  return Status::Ok();
}

Status ParseGuardrail(const Fields& g, GuardrailAudit* out) {
  PERIMETER_RETURN_IF_ERROR(g.String("id", &out->id));
  PERIMETER_RETURN_IF_ERROR(g.String("version", &out->version));
  PERIMETER_RETURN_IF_ERROR(g.String("inputAction", &out->input_action));
  PERIMETER_RETURN_IF_ERROR(g.String("outputAction", &out->output_action));
  PERIMETER_RETURN_IF_ERROR(g.StringArray("policies", &out->policies));
  PERIMETER_RETURN_IF_ERROR(g.StringArray("entityTypes", &out->entity_types));
  const json::array* incidents = nullptr;
  PERIMETER_RETURN_IF_ERROR(g.Array("crossTenantIncidents", &incidents));
  if (incidents != nullptr) {
    for (size_t i = 0; i < incidents->size(); ++i) {
      const std::string where = Path(g.path(), "crossTenantIncidents[" + std::to_string(i) + "]");
      if (!(*incidents)[i].is_object()) return Malformed(where, "must be an object");
      Fields f((*incidents)[i].get_object(), where);
      GuardrailAudit::Incident incident;
      PERIMETER_RETURN_IF_ERROR(f.String("type", &incident.type));
      PERIMETER_RETURN_IF_ERROR(f.String("ownerTenant", &incident.owner_tenant));
      out->cross_tenant_incidents.push_back(std::move(incident));
    }
  }
  return Status::Ok();
}

}  // namespace

std::string EventJson(const Event& e) {
  json::object o;
  o["eventVersion"] = kEventVersion;
  o["userIdentity"] = UserIdentityJson(e.user_identity);
  o["eventTime"] = FormatRfc3339Seconds(e.event_time);
  o["eventSource"] = Str(e.event_source);
  o["eventName"] = Str(e.event_name);
  o["awsRegion"] = Str(e.aws_region);
  o["sourceIPAddress"] = Str(e.source_ip_address);
  o["userAgent"] = Str(e.user_agent);
  o["requestParameters"] = Embedded(e.request_parameters_json);
  o["responseElements"] = Embedded(e.response_elements_json);
  if (!e.error_code.empty()) o["errorCode"] = Str(e.error_code);
  if (!e.error_message.empty()) o["errorMessage"] = Str(e.error_message);
  o["requestID"] = Str(e.request_id);
  o["eventID"] = Str(e.event_id);
  o["readOnly"] = e.read_only;
  if (!e.resources.empty()) {
    json::array resources;
    for (const auto& r : e.resources) {
      json::object ro;
      for (const auto& [k, v] : r) ro[ValidUtf8(k)] = Str(v);
      resources.emplace_back(std::move(ro));
    }
    o["resources"] = std::move(resources);
  }
  o["eventType"] = Str(e.event_type);
  o["managementEvent"] = e.management_event;
  o["recipientAccountId"] = Str(e.recipient_account_id);
  o["eventCategory"] = Str(e.event_category);
  if (e.tls_details) {
    o["tlsDetails"] =
        json::object{{"tlsVersion", Str(e.tls_details->tls_version)},
                     {"cipherSuite", Str(e.tls_details->cipher_suite)},
                     {"clientProvidedHostHeader", Str(e.tls_details->client_provided_host_header)}};
  }
  if (!e.tenant_id.empty()) o["tenantId"] = Str(e.tenant_id);
  if (e.decision) {
    o["decision"] = json::object{{"effect", Str(e.decision->effect)},
                                 {"statements", StringArray(e.decision->statements)}};
  }
  if (e.guardrail) {
    const GuardrailAudit& g = *e.guardrail;
    json::object go{{"id", Str(g.id)},
                    {"version", Str(g.version)},
                    {"inputAction", Str(g.input_action)},
                    {"outputAction", Str(g.output_action)},
                    {"policies", StringArray(g.policies)},
                    {"entityTypes", StringArray(g.entity_types)}};
    if (!g.cross_tenant_incidents.empty()) {
      json::array incidents;
      for (const auto& i : g.cross_tenant_incidents) {
        incidents.emplace_back(
            json::object{{"type", Str(i.type)}, {"ownerTenant", Str(i.owner_tenant)}});
      }
      go["crossTenantIncidents"] = std::move(incidents);
    }
    o["guardrail"] = std::move(go);
  }
  if (!e.keys.empty()) {
    json::array keys;
    for (const auto& k : e.keys) {
      keys.emplace_back(json::object{{"keyId", Str(k.key_id)},
                                     {"keyVersion", k.key_version},
                                     {"operation", Str(k.operation)},
                                     {"purpose", Str(k.purpose)}});
    }
    o["keys"] = std::move(keys);
  }
  if (e.http_status != 0) o["httpStatus"] = e.http_status;
  return json::serialize(o);
}

Result<Event> ParseEventJson(std::string_view text) {
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec) {
    return InvalidArgument("the audit event is not valid JSON (" + ec.message() +
                           "); it was not written by Perimeter's audit log, or was altered");
  }
  if (!doc.is_object()) return Malformed("the event", "must be a JSON object");
  const Fields f(doc.get_object(), "");
  Event e;

  std::string version;
  PERIMETER_RETURN_IF_ERROR(f.String("eventVersion", &version, /*required=*/true));
  std::string time;
  PERIMETER_RETURN_IF_ERROR(f.String("eventTime", &time, /*required=*/true));
  auto t = ParseRfc3339Utc(time);
  if (!t.ok())
    return Malformed("eventTime", "is not an RFC 3339 UTC time: " + t.status().message());
  e.event_time = *t;
  PERIMETER_RETURN_IF_ERROR(f.String("eventSource", &e.event_source, /*required=*/true));
  PERIMETER_RETURN_IF_ERROR(f.String("eventName", &e.event_name, /*required=*/true));

  const json::object* user = nullptr;
  PERIMETER_RETURN_IF_ERROR(f.Object("userIdentity", &user));
  if (user != nullptr) {
    PERIMETER_RETURN_IF_ERROR(ParseUserIdentity(f.Child(*user, "userIdentity"), &e.user_identity));
  }
  PERIMETER_RETURN_IF_ERROR(f.String("awsRegion", &e.aws_region));
  PERIMETER_RETURN_IF_ERROR(f.String("sourceIPAddress", &e.source_ip_address));
  PERIMETER_RETURN_IF_ERROR(f.String("userAgent", &e.user_agent));
  e.request_parameters_json = f.Embedded("requestParameters");
  e.response_elements_json = f.Embedded("responseElements");
  PERIMETER_RETURN_IF_ERROR(f.String("errorCode", &e.error_code));
  PERIMETER_RETURN_IF_ERROR(f.String("errorMessage", &e.error_message));
  PERIMETER_RETURN_IF_ERROR(f.String("requestID", &e.request_id));
  PERIMETER_RETURN_IF_ERROR(f.String("eventID", &e.event_id));
  PERIMETER_RETURN_IF_ERROR(f.Bool("readOnly", &e.read_only));

  const json::array* resources = nullptr;
  PERIMETER_RETURN_IF_ERROR(f.Array("resources", &resources));
  if (resources != nullptr) {
    for (size_t i = 0; i < resources->size(); ++i) {
      const std::string where = "resources[" + std::to_string(i) + "]";
      if (!(*resources)[i].is_object()) return Malformed(where, "must be an object");
      std::map<std::string, std::string> r;
      for (const auto& [k, v] : (*resources)[i].get_object()) {
        if (!v.is_string()) return Malformed(Path(where, k), "must be a string");
        r.emplace(std::string(k), std::string(v.get_string()));
      }
      e.resources.push_back(std::move(r));
    }
  }

  PERIMETER_RETURN_IF_ERROR(f.String("eventType", &e.event_type));
  PERIMETER_RETURN_IF_ERROR(f.Bool("managementEvent", &e.management_event));
  PERIMETER_RETURN_IF_ERROR(f.String("recipientAccountId", &e.recipient_account_id));
  PERIMETER_RETURN_IF_ERROR(f.String("eventCategory", &e.event_category));

  const json::object* tls = nullptr;
  PERIMETER_RETURN_IF_ERROR(f.Object("tlsDetails", &tls));
  if (tls != nullptr) {
    Fields tf = f.Child(*tls, "tlsDetails");
    TlsDetails d;
    PERIMETER_RETURN_IF_ERROR(tf.String("tlsVersion", &d.tls_version));
    PERIMETER_RETURN_IF_ERROR(tf.String("cipherSuite", &d.cipher_suite));
    PERIMETER_RETURN_IF_ERROR(
        tf.String("clientProvidedHostHeader", &d.client_provided_host_header));
    e.tls_details = std::move(d);
  }

  PERIMETER_RETURN_IF_ERROR(f.String("tenantId", &e.tenant_id));

  const json::object* decision = nullptr;
  PERIMETER_RETURN_IF_ERROR(f.Object("decision", &decision));
  if (decision != nullptr) {
    Fields df = f.Child(*decision, "decision");
    Decision d;
    PERIMETER_RETURN_IF_ERROR(df.String("effect", &d.effect, /*required=*/true));
    PERIMETER_RETURN_IF_ERROR(df.StringArray("statements", &d.statements));
    e.decision = std::move(d);
  }

  const json::object* guardrail = nullptr;
  PERIMETER_RETURN_IF_ERROR(f.Object("guardrail", &guardrail));
  if (guardrail != nullptr) {
    GuardrailAudit g;
    PERIMETER_RETURN_IF_ERROR(ParseGuardrail(f.Child(*guardrail, "guardrail"), &g));
    e.guardrail = std::move(g);
  }

  const json::array* keys = nullptr;
  PERIMETER_RETURN_IF_ERROR(f.Array("keys", &keys));
  if (keys != nullptr) {
    for (size_t i = 0; i < keys->size(); ++i) {
      const std::string where = "keys[" + std::to_string(i) + "]";
      if (!(*keys)[i].is_object()) return Malformed(where, "must be an object");
      Fields kf((*keys)[i].get_object(), where);
      KeyUse k;
      int64_t version = 0;
      PERIMETER_RETURN_IF_ERROR(kf.String("keyId", &k.key_id));
      PERIMETER_RETURN_IF_ERROR(
          kf.Integer("keyVersion", 0, std::numeric_limits<uint32_t>::max(), &version));
      k.key_version = static_cast<uint32_t>(version);
      PERIMETER_RETURN_IF_ERROR(kf.String("operation", &k.operation));
      PERIMETER_RETURN_IF_ERROR(kf.String("purpose", &k.purpose));
      e.keys.push_back(std::move(k));
    }
  }

  int64_t status = 0;
  PERIMETER_RETURN_IF_ERROR(f.Integer("httpStatus", 0, 999, &status));
  e.http_status = static_cast<int>(status);
  return e;
}

std::string NewEventId() {
  // 16 random bytes with the version (4) and variant (10xx) bits set, as RFC 9562 section 5.4.
  std::string hex = crypto::RandomHex(16);
  hex[12] = '4';
  static constexpr char kVariant[] = "89ab";
  const char c = hex[16];
  const int nibble = c <= '9' ? c - '0' : c - 'a' + 10;
  hex[16] = kVariant[nibble & 3];
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

}  // namespace perimeter::audit
