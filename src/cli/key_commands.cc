#include "cli/key_commands.h"

#include <unistd.h>

#include <boost/json.hpp>
#include <iostream>
#include <iterator>

#include "cli/cli_common.h"
#include "codec/base64.h"
#include "common/strings.h"
#include "redact/vault.h"

namespace perimeter::cli {

namespace json = boost::json;

namespace {

constexpr size_t kMaxInputBytes = size_t{4} << 20;

json::object KeyJson(const kms::KeyRecord& k) {
  json::object o;
  o["keyId"] = k.key_id;
  o["arn"] = k.arn;
  o["alias"] = k.alias;
  o["description"] = k.description;
  json::object tags;
  for (const auto& [tk, tv] : k.tags) tags[tk] = tv;
  o["tags"] = std::move(tags);
  o["state"] = kms::KeyStateName(k.state);
  o["currentVersion"] = k.current_version;
  o["backend"] = k.backend;
  o["createdAt"] = Time(k.created_at);
  o["rotationPeriodDays"] = k.rotation_period_seconds / 86400;
  o["nextRotation"] = Time(k.next_rotation_at);
  o["lastRotated"] = Time(k.last_rotated_at);
  if (k.deletion_date != 0) o["deletionDate"] = Time(k.deletion_date);
  if (k.destroyed_at != 0) o["destroyedAt"] = Time(k.destroyed_at);
  return o;
}

void PrintKey(const kms::KeyRecord& k, bool as_json) {
  if (as_json) {
    std::cout << json::serialize(KeyJson(k)) << "\n";
    return;
  }
  std::cout << k.key_id << "  " << kms::KeyStateName(k.state) << "  v" << k.current_version << "  "
            << (k.alias.empty() ? "-" : k.alias) << "\n";
}

json::object TenantJson(const kms::TenantRecord& t, bool in_config) {
  json::object o;
  o["tenantId"] = t.tenant_id;
  o["keyId"] = t.key_id;
  o["roleArn"] = t.role_arn;
  o["state"] = t.state == kms::TenantState::kActive ? "Active" : "Deleted";
  o["createdAt"] = Time(t.created_at);
  if (t.deleted_at != 0) o["deletedAt"] = Time(t.deleted_at);
  o["inConfig"] = in_config;
  return o;
}

// Standard input, or the file named, bounded.
Result<std::string> ReadInput(const std::string& file) {
  if (!file.empty()) return ReadFile(file);
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Unavailable("cannot read standard input");
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > kMaxInputBytes) {
      return InvalidArgument("the input is larger than " + std::to_string(kMaxInputBytes) +
                             " bytes");
    }
  }
  return data;
}

Result<std::chrono::seconds> ParsePeriod(const std::string& text) {
  if (text == "0") return std::chrono::seconds(0);
  auto d = ParseDuration(text);
  if (!d.ok()) return d.status();
  return std::chrono::duration_cast<std::chrono::seconds>(*d);
}

}  // namespace

void KeyCommands::Register(CLI::App& app) {
  auto config_opt = [this](CLI::App* c) {
    c->add_option("--config", config_path_, "YAML config (default: the embedded defaults)")
        ->check(CLI::ExistingFile);
  };
  auto key_arg = [this](CLI::App* c) {
    c->add_option("key", key_, "key id, key ARN, alias/<name> or alias ARN")->required();
  };
  auto* keys = app.add_subcommand("keys", "Customer master keys (the KMS)");
  keys->require_subcommand(1);
  k_create_ = keys->add_subcommand("create", "Create a key");
  k_create_->add_option("--alias", alias_, "alias/<name>");
  k_create_->add_option("--description", description_, "what the key protects");
  k_create_->add_option("--tag", tags_, "KEY=VALUE (repeatable)");
  k_create_->add_option("--policy-file", policy_file_,
                        "key policy (IAM JSON); default: the account root may do everything, "
                        "delegating to IAM, and the gateway may use it");
  k_create_->add_option(
      "--rotation-period", rotation_period_,
      "automatic rotation, 90d-2560d, or 0 for none (default: keys.rotation_period)");
  k_list_ = keys->add_subcommand("list", "List keys");
  k_describe_ = keys->add_subcommand("describe", "Show one key");
  key_arg(k_describe_);
  k_rotate_ = keys->add_subcommand("rotate", "Rotate a key now (old versions keep decrypting)");
  key_arg(k_rotate_);
  k_disable_ = keys->add_subcommand("disable", "Disable a key: every use fails until enabled");
  key_arg(k_disable_);
  k_enable_ = keys->add_subcommand("enable", "Enable a disabled key");
  key_arg(k_enable_);
  k_schedule_ = keys->add_subcommand(
      "schedule-deletion",
      "Schedule a key's destruction; after the window nothing under it decrypts, ever");
  key_arg(k_schedule_);
  k_schedule_->add_option("--pending-window-days", pending_days_, "7 to 30 (default 30)");
  k_cancel_ = keys->add_subcommand("cancel-deletion", "Cancel a scheduled deletion (-> Disabled)");
  key_arg(k_cancel_);
  k_get_policy_ = keys->add_subcommand("get-policy", "Print a key's policy");
  key_arg(k_get_policy_);
  k_put_policy_ = keys->add_subcommand("put-policy", "Replace a key's policy");
  key_arg(k_put_policy_);
  k_put_policy_->add_option("--policy-file", policy_file_, "the new key policy")->required();
  k_put_policy_->add_flag("--bypass-policy-lockout-safety-check", bypass_lockout_,
                          "accept a policy that would stop you from changing it again");
  k_encrypt_ = keys->add_subcommand(
      "encrypt", "Encrypt standard input (or --input-file); print the ciphertext in base64");
  key_arg(k_encrypt_);
  k_encrypt_->add_option("--context", context_, "encryption context KEY=VALUE (repeatable)");
  k_encrypt_->add_option("--input-file", input_file_, "read the plaintext from this file");
  k_decrypt_ = keys->add_subcommand(
      "decrypt", "Decrypt a base64 ciphertext from standard input (or --input-file)");
  k_decrypt_->add_option("--key", key_, "fail unless the ciphertext is under this key");
  k_decrypt_->add_option("--context", context_,
                         "the encryption context it was encrypted with (repeatable)");
  k_decrypt_->add_option("--input-file", input_file_, "read the ciphertext from this file");

  auto* tenants = app.add_subcommand("tenants", "Tenants and their keys");
  tenants->require_subcommand(1);
  t_create_ = tenants->add_subcommand("create", "Create a tenant's key (its CMK)");
  t_create_->add_option("tenant", tenant_, "tenant id: a-z, 0-9, '-'")->required();
  t_create_->add_option("--role", role_,
                        "the tenant's role ARN (default: the role under access.tenants)");
  t_list_ = tenants->add_subcommand("list", "List tenants and their keys");
  t_delete_ = tenants->add_subcommand(
      "delete", "Delete a tenant: schedule its key's destruction (crypto-shredding)");
  t_delete_->add_option("tenant", tenant_, "tenant id")->required();
  t_delete_->add_option("--pending-window-days", pending_days_, "7 to 30 (default 30)");

  auto* vault = app.add_subcommand("vault", "Redaction tokens and the values behind them");
  vault->require_subcommand(1);
  v_tokenize_ =
      vault->add_subcommand("tokenize", "Tokenize the value on standard input; print its token");
  v_tokenize_->add_option("--entity", entity_, "entity type, e.g. EMAIL")->required();
  v_reveal_ = vault->add_subcommand("reveal", "Print the value behind a token");
  v_reveal_->add_option("token", token_, "e.g. [EMAIL_0123456789abcdef]")->required();
  v_erase_ = vault->add_subcommand("erase", "Erase the value behind a token; the token remains");
  v_erase_->add_option("token", token_, "the token")->required();
  v_list_ = vault->add_subcommand("list", "List a tenant's tokens (never their values)");
  for (CLI::App* c : {v_tokenize_, v_reveal_, v_erase_, v_list_})
    c->add_option("--tenant", tenant_, "tenant id")->required();

  for (CLI::App* c : {k_create_, k_list_, k_describe_, k_rotate_, k_disable_, k_enable_,
                      k_schedule_, k_cancel_, k_get_policy_, k_put_policy_, k_encrypt_, k_decrypt_,
                      t_create_, t_list_, t_delete_, v_tokenize_, v_reveal_, v_erase_, v_list_}) {
    config_opt(c);
  }
  for (CLI::App* c :
       {k_create_, k_list_, k_describe_, k_rotate_, k_disable_, k_enable_, k_schedule_, k_cancel_,
        k_put_policy_, t_create_, t_list_, t_delete_, v_list_}) {
    c->add_flag("--json", json_, "print JSON");
  }
}

std::optional<int> KeyCommands::Run() {
  for (CLI::App* c :
       {k_create_, k_list_, k_describe_, k_rotate_, k_disable_, k_enable_, k_schedule_, k_cancel_,
        k_get_policy_, k_put_policy_, k_encrypt_, k_decrypt_}) {
    if (c->parsed()) return Keys(c);
  }
  for (CLI::App* c : {t_create_, t_list_, t_delete_}) {
    if (c->parsed()) return Tenants(c);
  }
  for (CLI::App* c : {v_tokenize_, v_reveal_, v_erase_, v_list_}) {
    if (c->parsed()) return Vault(c);
  }
  return std::nullopt;
}

namespace {

// The directory (which opens the KMS and sets up the config's tenant keys), after running due
// maintenance.
Result<Opened> OpenKeys(const std::string& config_path) {
  auto opened = Open(config_path);
  if (!opened.ok()) return opened.status();
  auto report = opened->dir->keys().kms->RunMaintenance();
  if (!report.ok()) return report.status();
  for (const auto& id : report->rotated) std::cerr << "perimeter: rotated key " << id << "\n";
  for (const auto& id : report->destroyed) {
    std::cerr << "perimeter: destroyed key " << id << " (its deletion date had passed)\n";
  }
  return opened;
}

}  // namespace

int KeyCommands::Keys(CLI::App* which) {
  auto opened = OpenKeys(config_path_);
  if (!opened.ok()) return Fail(opened.status());
  kms::Kms& kms = *opened->dir->keys().kms;
  const kms::KeyCaller admin = kms.Administrator();
  auto print = [&](const Result<kms::KeyRecord>& k) {
    if (!k.ok()) return Fail(k.status());
    PrintKey(*k, json_);
    return 0;
  };
  if (which == k_create_) {
    kms::CreateKeyRequest r;
    r.alias = alias_;
    r.description = description_;
    auto tags = ParseKeyValues(tags_, "--tag");
    if (!tags.ok()) return Fail(tags.status());
    r.tags = std::move(*tags);
    if (!policy_file_.empty()) {
      auto p = ReadFile(policy_file_);
      if (!p.ok()) return Fail(p.status());
      r.policy = std::move(*p);
    }
    if (!rotation_period_.empty()) {
      auto period = ParsePeriod(rotation_period_);
      if (!period.ok()) return Fail(period.status());
      r.rotation_period = *period;
    }
    return print(kms.CreateKey(admin, r));
  }
  if (which == k_list_) {
    auto keys = kms.ListKeys(admin);
    if (!keys.ok()) return Fail(keys.status());
    if (json_) {
      json::array a;
      for (const auto& k : *keys) a.push_back(KeyJson(k));
      std::cout << json::serialize(a) << "\n";
    } else {
      for (const auto& k : *keys) PrintKey(k, false);
    }
    return 0;
  }
  if (which == k_describe_) {
    auto k = kms.DescribeKey(admin, key_);
    if (!k.ok()) return Fail(k.status());
    std::cout << json::serialize(KeyJson(*k)) << "\n";
    return 0;
  }
  if (which == k_rotate_) return print(kms.RotateKeyOnDemand(admin, key_));
  if (which == k_disable_) return print(kms.DisableKey(admin, key_));
  if (which == k_enable_) return print(kms.EnableKey(admin, key_));
  if (which == k_schedule_) return print(kms.ScheduleKeyDeletion(admin, key_, pending_days_));
  if (which == k_cancel_) return print(kms.CancelKeyDeletion(admin, key_));
  if (which == k_get_policy_) {
    auto p = kms.GetKeyPolicy(admin, key_);
    if (!p.ok()) return Fail(p.status());
    std::cout << *p << "\n";
    return 0;
  }
  if (which == k_put_policy_) {
    auto p = ReadFile(policy_file_);
    if (!p.ok()) return Fail(p.status());
    return print(kms.PutKeyPolicy(admin, key_, *p, bypass_lockout_));
  }
  auto context = ParseKeyValues(context_, "--context");
  if (!context.ok()) return Fail(context.status());
  auto input = ReadInput(input_file_);
  if (!input.ok()) return Fail(input.status());
  if (which == k_encrypt_) {
    auto c = kms.Encrypt(admin, key_, *input, *context);
    if (!c.ok()) return Fail(c.status());
    std::cout << codec::Base64Encode(*c) << "\n";
    return 0;
  }
  auto blob = codec::Base64Decode(TrimWhitespace(*input));
  if (!blob.ok()) {
    return Fail(
        InvalidArgument("the input is not base64: pass the output of `perimeter keys "
                        "encrypt` unchanged"));
  }
  auto d = kms.Decrypt(admin, *blob, *context, key_);
  if (!d.ok()) return Fail(d.status());
  std::cout << d->plaintext.RevealSecretForUse();
  return 0;
}

int KeyCommands::Tenants(CLI::App* which) {
  auto opened = OpenKeys(config_path_);
  if (!opened.ok()) return Fail(opened.status());
  kms::Kms& kms = *opened->dir->keys().kms;
  const auto& configured = opened->cfg.access.tenants;
  auto in_config = [&](const std::string& id) {
    return std::find_if(configured.begin(), configured.end(),
                        [&](const config::TenantConfig& t) { return t.id == id; });
  };
  if (which == t_create_) {
    std::string role = role_;
    if (auto c = in_config(tenant_); c != configured.end()) {
      if (!role.empty() && role != c->role_arn) {
        return Fail(InvalidArgument("tenant " + tenant_ + " is declared in the config with role " +
                                    c->role_arn + "; omit --role or change the config"));
      }
      role = c->role_arn;
    }
    if (role.empty()) {
      return Fail(InvalidArgument("tenant " + tenant_ +
                                  " is not in the config: name its role with --role <role ARN>"));
    }
    auto t = kms.CreateTenant(kms.Administrator(), tenant_, role);
    if (!t.ok()) return Fail(t.status());
    if (json_) {
      std::cout << json::serialize(TenantJson(*t, in_config(tenant_) != configured.end())) << "\n";
    } else {
      std::cout << "tenant " << t->tenant_id << " created with key " << t->key_id
                << " (alias/perimeter/tenant/" << t->tenant_id << ")\n";
      if (in_config(tenant_) == configured.end()) {
        std::cout << "add it under access.tenants (id and role) for the gateway to serve it\n";
      }
    }
    return 0;
  }
  if (which == t_list_) {
    auto tenants = kms.ListTenants();
    if (!tenants.ok()) return Fail(tenants.status());
    json::array a;
    for (const auto& t : *tenants) {
      const bool cfg = in_config(t.tenant_id) != configured.end();
      if (json_) {
        a.push_back(TenantJson(t, cfg));
      } else {
        std::cout << t.tenant_id << "  "
                  << (t.state == kms::TenantState::kActive ? "Active" : "Deleted") << "  "
                  << t.key_id << "  " << t.role_arn << (cfg ? "" : "  (not in config)") << "\n";
      }
    }
    if (json_) std::cout << json::serialize(a) << "\n";
    return 0;
  }
  auto t = kms.DeleteTenant(kms.Administrator(), tenant_, pending_days_);
  if (!t.ok()) return Fail(t.status());
  if (json_) {
    std::cout << json::serialize(TenantJson(*t, in_config(tenant_) != configured.end())) << "\n";
  } else {
    std::cout << "tenant " << t->tenant_id << " deleted: key " << t->key_id
              << " will be destroyed in " << pending_days_
              << " days, and then nothing stored for the tenant can be decrypted (cancel with "
                 "`perimeter keys cancel-deletion "
              << t->key_id << "`)\n";
  }
  return 0;
}

int KeyCommands::Vault(CLI::App* which) {
  auto opened = OpenKeys(config_path_);
  if (!opened.ok()) return Fail(opened.status());
  const auto& rt = opened->dir->keys();
  redact::Vault vault(rt.kms, rt.store, rt.audit, SystemClock(), rt.kms->options().region,
                      rt.kms->options().account_id);
  const kms::KeyCaller admin = rt.kms->Administrator();
  if (which == v_tokenize_) {
    auto value = ReadInput("");
    if (!value.ok()) return Fail(value.status());
    // A trailing newline from `echo` is not part of the value.
    std::string v = std::move(*value);
    if (!v.empty() && v.back() == '\n') v.pop_back();
    auto token = vault.Tokenize(tenant_, entity_, v);
    crypto::SecretBytes wipe = crypto::SecretBytes::FromAndWipe(&v);
    if (!token.ok()) return Fail(token.status());
    std::cout << *token << "\n";
    return 0;
  }
  if (which == v_reveal_) {
    auto value = vault.Reveal(admin, tenant_, token_);
    if (!value.ok()) return Fail(value.status());
    std::cout << value->RevealSecretForUse() << "\n";
    return 0;
  }
  if (which == v_erase_) {
    Status s = vault.Erase(admin, tenant_, token_);
    if (!s.ok()) return Fail(s);
    std::cout << "erased the value behind " << token_ << "; the token remains\n";
    return 0;
  }
  auto entries = vault.List(tenant_);
  if (!entries.ok()) return Fail(entries.status());
  json::array a;
  for (const auto& e : *entries) {
    if (json_) {
      json::object o;
      o["token"] = e.token;
      o["entity"] = e.entity;
      o["createdAt"] = Time(e.created_at);
      if (e.erased_at != 0) o["erasedAt"] = Time(e.erased_at);
      a.push_back(std::move(o));
    } else {
      std::cout << e.token << "  " << e.entity << "  " << Time(e.created_at)
                << (e.erased_at != 0 ? "  erased " + Time(e.erased_at) : "") << "\n";
    }
  }
  if (json_) std::cout << json::serialize(a) << "\n";
  return 0;
}

}  // namespace perimeter::cli
