#include "api/kms_filter.h"

#include "api/audit_filter.h"

#include <boost/json.hpp>

#include "codec/base64.h"
#include "common/strings.h"
#include "kms/ciphertext.h"

namespace perimeter::api {

namespace json = boost::json;
using pipeline::FilterStatus;
using pipeline::RequestContext;

namespace {

constexpr std::string_view kContentType = "application/x-amz-json-1.1";
constexpr size_t kMaxKmsBodyBytes = 64 * 1024;  // AWS's own request limits are lower

struct KmsError {
  int status;
  std::string type;
  std::string message;
};

std::pair<int, std::string> Reply(RequestContext& ctx, const KmsError& e) {
  ctx.error_type = e.type;
  return {e.status, json::serialize(json::object{{"__type", e.type}, {"message", e.message}})};
}

KmsError FromStatus(const Status& s) {
  std::string type = kms::KmsExceptionName(s);
  int status = 400;  // AWS KMS answers client errors, denials included, with 400
  if (s.code() == StatusCode::kUnavailable) {
    status = 503;
  } else if (s.code() == StatusCode::kInternal) {
    status = 500;
  }
  return {status, std::move(type), s.message()};
}

KmsError Validation(std::string message) {
  return {400, "ValidationException", std::move(message)};
}

// A string member, or nullopt when absent; sets *err for a member of another type.
std::optional<std::string> StringMember(const json::object& o, std::string_view name,
                                        std::optional<KmsError>* err) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string()) {
    *err = Validation(std::string(name) + " must be a string");
    return std::nullopt;
  }
  return std::string(v->as_string());
}

std::optional<std::string> Base64Member(const json::object& o, std::string_view name,
                                        std::optional<KmsError>* err) {
  auto s = StringMember(o, name, err);
  if (!s) return std::nullopt;
  auto raw = codec::Base64Decode(*s);
  if (!raw.ok()) {
    *err = Validation(std::string(name) + " is not valid base64");
    return std::nullopt;
  }
  return std::move(*raw);
}

kms::EncryptionContext ContextMember(const json::object& o, std::string_view name,
                                     std::optional<KmsError>* err) {
  kms::EncryptionContext c;
  const json::value* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return c;
  if (!v->is_object()) {
    *err = Validation(std::string(name) + " must be a map of strings to strings");
    return c;
  }
  for (const auto& [k, val] : v->as_object()) {
    if (!val.is_string()) {
      *err = Validation(std::string(name) + " must be a map of strings to strings");
      return c;
    }
    c[std::string(k)] = std::string(val.as_string());
  }
  return c;
}

json::object Metadata(const kms::KeyRecord& k) {
  json::object m;
  m["AWSAccountId"] = std::string(ArnField(k.arn, 4));
  m["KeyId"] = k.key_id;
  m["Arn"] = k.arn;
  m["CreationDate"] = static_cast<double>(k.created_at);
  m["Enabled"] = k.state == kms::KeyState::kEnabled;
  m["Description"] = k.description;
  m["KeyUsage"] = "ENCRYPT_DECRYPT";
  m["KeyState"] = kms::KeyStateName(k.state);
  m["Origin"] = k.backend == "aws-kms" ? "EXTERNAL_KEY_STORE" : "AWS_KMS";
  m["KeyManager"] = "CUSTOMER";
  m["KeySpec"] = "SYMMETRIC_DEFAULT";
  m["CustomerMasterKeySpec"] = "SYMMETRIC_DEFAULT";
  m["EncryptionAlgorithms"] = json::array{"SYMMETRIC_DEFAULT"};
  m["MultiRegion"] = false;
  if (k.deletion_date != 0) m["DeletionDate"] = static_cast<double>(k.deletion_date);
  return m;
}

}  // namespace

kms::KeyCaller KeyCallerFor(const iam::Caller& c) {
  kms::KeyCaller k;
  k.arn = c.arn;
  k.principal_arn = c.principal_arn;
  k.account_id = c.account_id;
  k.principal_type = c.is_session ? "AssumedRole" : "User";
  k.tags = c.tags;
  k.identity_policies = c.identity_policies;
  k.boundaries = c.boundaries;
  k.session_policy = c.session_policy;
  return k;
}

boost::asio::awaitable<FilterStatus> KmsFilter::OnRequest(RequestContext& ctx) const {
  if (ctx.flavor != pipeline::ApiFlavor::kKms) co_return FilterStatus::kContinue;
  std::pair<int, std::string> answer = Handle(ctx);
  ctx.status = answer.first;
  pipeline::HttpReply reply =
      pipeline::MakeReply(answer.first, std::string(kContentType), std::move(answer.second));
  (void)co_await ctx.writer->Send(std::move(reply));
  co_return FilterStatus::kStop;
}

std::pair<int, std::string> KmsFilter::Handle(RequestContext& ctx) const {
  const RequestKeyUseScope key_uses(ctx);  // each key use is listed on this request's record
  if (!ctx.caller) {
    // The access filter authenticates every KMS request first; refuse rather than serve
    // anonymously if the chain is ever assembled without it.
    return Reply(ctx, {400, "MissingAuthenticationTokenException",
                       "Request is missing Authentication Token"});
  }
  const std::string* target = ctx.request.Header("x-amz-target");
  const std::string op = target ? target->substr(std::string("TrentService.").size()) : "";
  if (ctx.request.body.size() > kMaxKmsBodyBytes) {
    return Reply(ctx, Validation("the request body is larger than 64 KiB"));
  }
  boost::system::error_code ec;
  json::value doc = json::parse(ctx.request.body, ec);
  if (ec || !doc.is_object()) {
    return Reply(ctx, {400, "SerializationException",
                       "the request body must be a JSON object (application/x-amz-json-1.1)"});
  }
  const json::object& o = doc.as_object();
  std::optional<KmsError> err;
  kms::Kms& kms = *directory_->keys().kms;
  const kms::KeyCaller caller = KeyCallerFor(*ctx.caller);
  auto key_arn = [&](std::string_view id) { return kms.KeyArn(id); };
  auto fail = [&](const Status& s) { return Reply(ctx, FromStatus(s)); };
  auto require_key = [&]() -> std::optional<std::string> {
    auto k = StringMember(o, "KeyId", &err);
    if (!k && !err) err = Validation("KeyId is required");
    return k;
  };

  if (op == "Encrypt") {
    auto key = require_key();
    auto plaintext = Base64Member(o, "Plaintext", &err);
    auto context = ContextMember(o, "EncryptionContext", &err);
    if (!err && !plaintext) err = Validation("Plaintext is required");
    if (!err && plaintext->size() > 4096)
      err = Validation("Plaintext must be at most 4096 bytes, as in AWS KMS");
    if (err) return Reply(ctx, *err);
    auto c = kms.Encrypt(caller, *key, *plaintext, context);
    crypto::SecretBytes wipe = crypto::SecretBytes::FromAndWipe(&*plaintext);
    if (!c.ok()) return fail(c.status());
    auto parsed = kms::ParseCiphertext(*c);
    return {200, json::serialize(json::object{{"CiphertextBlob", codec::Base64Encode(*c)},
                                              {"KeyId", key_arn(parsed->key_id)},
                                              {"EncryptionAlgorithm", "SYMMETRIC_DEFAULT"}})};
  }
  if (op == "Decrypt") {
    auto blob = Base64Member(o, "CiphertextBlob", &err);
    auto context = ContextMember(o, "EncryptionContext", &err);
    auto key = StringMember(o, "KeyId", &err);
    if (!err && !blob) err = Validation("CiphertextBlob is required");
    if (err) return Reply(ctx, *err);
    auto d = kms.Decrypt(caller, *blob, context, key.value_or(""));
    if (!d.ok()) return fail(d.status());
    std::string encoded = codec::Base64Encode(d->plaintext.RevealSecretForUse());
    std::string body = json::serialize(json::object{{"Plaintext", encoded},
                                                    {"KeyId", key_arn(d->key_id)},
                                                    {"EncryptionAlgorithm", "SYMMETRIC_DEFAULT"}});
    crypto::SecretBytes wipe = crypto::SecretBytes::FromAndWipe(&encoded);
    return {200, std::move(body)};
  }
  if (op == "GenerateDataKey" || op == "GenerateDataKeyWithoutPlaintext") {
    auto key = require_key();
    auto context = ContextMember(o, "EncryptionContext", &err);
    auto spec = StringMember(o, "KeySpec", &err);
    size_t bytes = 0;
    if (const json::value* n = o.if_contains("NumberOfBytes"); n != nullptr && !n->is_null()) {
      if (!n->is_int64() || n->as_int64() < 1 || n->as_int64() > 1024) {
        err = Validation("NumberOfBytes must be an integer from 1 to 1024");
      } else {
        bytes = static_cast<size_t>(n->as_int64());
      }
    }
    if (!err && spec && bytes != 0) {
      err = Validation("give either KeySpec or NumberOfBytes, not both");
    } else if (!err && spec) {
      if (*spec == "AES_256") {
        bytes = 32;
      } else if (*spec == "AES_128") {
        bytes = 16;
      } else {
        err = Validation("KeySpec must be AES_256 or AES_128");
      }
    }
    if (!err && bytes == 0) err = Validation("one of KeySpec or NumberOfBytes is required");
    if (err) return Reply(ctx, *err);
    auto dk = kms.GenerateDataKey(caller, *key, context, bytes);
    if (!dk.ok()) return fail(dk.status());
    json::object out{{"CiphertextBlob", codec::Base64Encode(dk->ciphertext)},
                     {"KeyId", key_arn(dk->key_id)}};
    std::string encoded;
    if (op == "GenerateDataKey") {
      encoded = codec::Base64Encode(dk->plaintext.RevealSecretForUse());
      out["Plaintext"] = encoded;
    }
    std::string body = json::serialize(out);
    crypto::SecretBytes wipe = crypto::SecretBytes::FromAndWipe(&encoded);
    return {200, std::move(body)};
  }
  if (op == "ReEncrypt") {
    auto blob = Base64Member(o, "CiphertextBlob", &err);
    auto source = ContextMember(o, "SourceEncryptionContext", &err);
    auto dest_key = StringMember(o, "DestinationKeyId", &err);
    auto dest = ContextMember(o, "DestinationEncryptionContext", &err);
    if (!err && !blob) err = Validation("CiphertextBlob is required");
    if (!err && !dest_key) err = Validation("DestinationKeyId is required");
    if (err) return Reply(ctx, *err);
    auto source_key = kms::ParseCiphertext(*blob);
    auto c = kms.ReEncrypt(caller, *blob, source, *dest_key, dest);
    if (!c.ok()) return fail(c.status());
    auto parsed = kms::ParseCiphertext(*c);
    return {200,
            json::serialize(json::object{{"CiphertextBlob", codec::Base64Encode(*c)},
                                         {"SourceKeyId", key_arn(source_key->key_id)},
                                         {"KeyId", key_arn(parsed->key_id)},
                                         {"SourceEncryptionAlgorithm", "SYMMETRIC_DEFAULT"},
                                         {"DestinationEncryptionAlgorithm", "SYMMETRIC_DEFAULT"}})};
  }
  if (op == "DescribeKey") {
    auto key = require_key();
    if (err) return Reply(ctx, *err);
    auto k = kms.DescribeKey(caller, *key);
    if (!k.ok()) return fail(k.status());
    return {200, json::serialize(json::object{{"KeyMetadata", Metadata(*k)}})};
  }
  return Reply(ctx, {400, "UnknownOperationException",
                     "this KMS endpoint does not serve " + op.substr(0, 64) +
                         "; it serves Encrypt, Decrypt, GenerateDataKey, "
                         "GenerateDataKeyWithoutPlaintext, ReEncrypt and DescribeKey (manage keys "
                         "with `perimeter keys`)"});
}

}  // namespace perimeter::api
