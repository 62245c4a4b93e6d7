#include "kms/audit_log_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

#include "common/strings.h"

namespace perimeter::kms {

namespace json = boost::json;

namespace {

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

Result<std::string> Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unavailable("cannot read '" + path + "': " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes a new file atomically (temporary + rename), 0600 or 0644.
Status WriteNew(const std::string& path, std::string_view data, mode_t mode) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Unavailable("cannot write '" + tmp + "': " + std::strerror(errno));
  bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return Unavailable("cannot write '" + path + "': " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

// As CloudTrail marks KMS calls: reads and cryptographic operations are read-only; anything that
// changes a key, an alias, a policy or a grant is not.
bool KmsOperationIsReadOnly(std::string_view op) {
  static constexpr std::string_view kReadOnly[] = {"Encrypt",
                                                   "Decrypt",
                                                   "ReEncrypt",
                                                   "GenerateDataKey",
                                                   "GenerateDataKeyWithoutPlaintext",
                                                   "GenerateDataKeyPair",
                                                   "GenerateDataKeyPairWithoutPlaintext",
                                                   "GenerateRandom",
                                                   "Sign",
                                                   "Verify",
                                                   "GenerateMac",
                                                   "VerifyMac",
                                                   "Decapsulate",
                                                   "DeriveSharedSecret"};
  if (StartsWith(op, "Describe") || StartsWith(op, "List") || StartsWith(op, "Get")) return true;
  return std::find(std::begin(kReadOnly), std::end(kReadOnly), op) != std::end(kReadOnly);
}

std::string KeyArnIn(std::string_view key_id, std::string_view region, std::string_view account) {
  if (StartsWith(key_id, "arn:")) return std::string(key_id);
  return "arn:aws:kms:" + std::string(region) + ":" + std::string(account) + ":key/" +
         std::string(key_id);
}

audit::Event KeyUseAuditEvent(const kms::KeyUseEvent& k, std::string_view region,
                              std::string_view account_id, std::string_view request_id) {
  audit::Event e;
  e.event_time = k.time;
  // Perimeter's own tenant-data operations are not KMS API calls; they are recorded through the
  // same sink but under their own event source.
  if (k.operation == "RevealToken" || k.operation == "EraseToken") {
    e.event_source = "perimeter.vault";
  } else if (k.operation == "ReadInvocationRecord") {
    e.event_source = "perimeter.invocation-log";
  } else {
    e.event_source = "kms.amazonaws.com";
  }
  e.event_name = k.operation;
  e.aws_region = std::string(region);
  // The KMS runs inside Perimeter's processes: the call reaches it from there, on behalf of the
  // identity below (the request it served, if any, is named by requestID).
  e.source_ip_address = std::string(kms::kGatewayServicePrincipal);
  e.user_agent = std::string(kms::kGatewayServicePrincipal);

  audit::UserIdentity& u = e.user_identity;
  const std::string& arn = k.caller_arn;
  if (arn.empty()) {
    u.type = "Unknown";
  } else if (!StartsWith(arn, "arn:")) {
    // A service principal such as kms::kGatewayServicePrincipal.
    u.type = "AWSService";
    u.invoked_by = arn;
  } else {
    u.arn = arn;
    u.account_id = std::string(ArnField(arn, 4));
    const std::string_view resource = ArnField(arn, 5);
    if (resource == "root") {
      u.type = "Root";
    } else if (StartsWith(resource, "assumed-role/")) {
      u.type = "AssumedRole";
      // arn:aws:sts::<account>:assumed-role/<role>/<session> was issued by
      // arn:aws:iam::<account>:role/<role>.
      std::string_view rest = resource.substr(std::string_view("assumed-role/").size());
      const std::string_view role = rest.substr(0, rest.find('/'));
      audit::SessionContext s;
      s.session_issuer_arn = "arn:" + std::string(ArnField(arn, 1)) + ":iam::" + u.account_id +
                             ":role/" + std::string(role);
      u.session_context = std::move(s);
    } else {
      u.type = "IAMUser";
    }
  }

  json::object params;
  params["keyId"] = k.key_id;
  if (!k.encryption_context.empty()) {
    json::object context;
    for (const auto& [name, value] : k.encryption_context) context[name] = value;
    params["encryptionContext"] = std::move(context);
  }
  e.request_parameters_json = json::serialize(params);
  if (!k.outcome.empty() && k.outcome != "Success") {
    e.error_code = k.outcome;
    e.error_message = TruncateUtf8(k.message, 1024);
  }
  e.request_id = std::string(request_id);
  e.event_id = audit::NewEventId();
  e.read_only = KmsOperationIsReadOnly(k.operation);
  e.event_type = "AwsApiCall";
  e.management_event = true;  // as CloudTrail logs every KMS call, cryptographic ones included
  e.recipient_account_id = std::string(account_id);
  e.event_category = "Management";
  if (!k.key_id.empty()) {
    e.resources.push_back({{"ARN", KeyArnIn(k.key_id, region, account_id)},
                           {"type", "AWS::KMS::Key"},
                           {"accountId", std::string(account_id)}});
    audit::KeyUse use;
    use.key_id = k.key_id;
    use.key_version = k.key_version;
    use.operation = k.operation;
    if (auto p = k.encryption_context.find("purpose"); p != k.encryption_context.end()) {
      use.purpose = p->second;
    }
    e.keys.push_back(std::move(use));
  }
  e.tenant_id = k.tenant;
  if (k.outcome == "Success") {
    e.decision = audit::Decision{"Allow", {}};
  } else if (k.outcome == "AccessDeniedException") {
    e.decision = audit::Decision{"Deny", {}};
  }
  return e;
}

Status AuditLogKeySink::Record(const KeyUseEvent& event) {
  const KeyUseObserver* observer = CurrentKeyUseObserver();
  const std::string json = audit::EventJson(
      KeyUseAuditEvent(event, region_, account_id_, observer ? observer->request_id : ""));
  if (observer != nullptr) {
    if (observer->on_use) observer->on_use(event);
    // Refused at once (the callback runs inside Enqueue) if the log has failed or is full;
    // otherwise the request's own record, which is awaited, comes after this one.
    auto refused = std::make_shared<std::atomic<bool>>(false);
    log_->Enqueue(json, [refused](Result<uint64_t> r) {
      if (!r.ok()) refused->store(true);
    });
    if (refused->load()) {
      return Unavailable(
          "the key use could not be recorded in the audit log; the operation "
          "is refused");
    }
    return Status::Ok();
  }
  auto r = log_->AppendSync(json);
  if (!r.ok()) return r.status();
  return Status::Ok();
}

Result<std::shared_ptr<KmsCheckpointSigner>> KmsCheckpointSigner::OpenOrCreate(
    Kms& kms, const std::string& audit_dir) {
  const std::string sealed_path = JoinPath(audit_dir, audit::kSealedKeyFile);
  const std::string pem_path = JoinPath(audit_dir, audit::kPublicKeyFile);
  const EncryptionContext context{{"purpose", std::string(kAuditSigningPurpose)}};
  if (!Exists(sealed_path)) {
    if (Exists(pem_path)) {
      return FailedPrecondition(
          "the audit log's checkpoint key '" + sealed_path + "' is missing but its public key '" +
          pem_path +
          "' exists: a new key would not verify the earlier checkpoints; restore the sealed key "
          "from backup (or move the old log away to start a new one)");
    }
    auto key = crypto::Ed25519PrivateKey::Generate();
    if (!key.ok()) return key.status();
    auto env = kms.EnvironmentKey();
    if (!env.ok()) return env.status();
    auto sealed =
        kms.Encrypt(kms.Gateway(), env->key_id, key->seed().RevealSecretForUse(), context);
    if (!sealed.ok()) return sealed.status();
    auto pem = crypto::Ed25519PublicKeyPem(key->PublicKey());
    if (!pem.ok()) return pem.status();
    PERIMETER_RETURN_IF_ERROR(WriteNew(sealed_path, *sealed, 0600));
    PERIMETER_RETURN_IF_ERROR(WriteNew(pem_path, *pem, 0644));
    return std::shared_ptr<KmsCheckpointSigner>(new KmsCheckpointSigner(std::move(*key)));
  }
  auto sealed = Slurp(sealed_path);
  if (!sealed.ok()) return sealed.status();
  auto seed = kms.Decrypt(kms.Gateway(), *sealed, context);
  if (!seed.ok()) {
    return Status(seed.status().code(),
                  "cannot unseal the audit checkpoint key: " + seed.status().message());
  }
  auto key = crypto::Ed25519PrivateKey::FromSeed(seed->plaintext);
  if (!key.ok()) return key.status();
  if (Exists(pem_path)) {
    auto pem = Slurp(pem_path);
    if (!pem.ok()) return pem.status();
    auto raw = crypto::Ed25519PublicKeyFromPem(*pem);
    if (!raw.ok() || *raw != key->PublicKey()) {
      return FailedPrecondition("'" + pem_path +
                                "' is not the public key of the sealed checkpoint key; restore "
                                "it (perimeter audit public-key prints the right one)");
    }
  } else {
    auto pem = crypto::Ed25519PublicKeyPem(key->PublicKey());
    if (!pem.ok()) return pem.status();
    PERIMETER_RETURN_IF_ERROR(WriteNew(pem_path, *pem, 0644));
  }
  return std::shared_ptr<KmsCheckpointSigner>(new KmsCheckpointSigner(std::move(*key)));
}

}  // namespace perimeter::kms
