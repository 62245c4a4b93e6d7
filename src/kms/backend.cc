#include "kms/backend.h"

#include <cstdlib>

#include "crypto/aead.h"
#include "crypto/hkdf.h"
#include "crypto/random.h"
#include "crypto/root_key.h"

namespace perimeter::kms {
namespace {

void AppendLengthPrefixed(std::string* out, std::string_view s) {
  const auto n = static_cast<uint32_t>(s.size());
  out->push_back(static_cast<char>(n >> 24));
  out->push_back(static_cast<char>(n >> 16));
  out->push_back(static_cast<char>(n >> 8));
  out->push_back(static_cast<char>(n));
  out->append(s);
}

constexpr std::string_view kWrapInfo = "perimeter/kms/local-backend/cmk-wrap/v1";

}  // namespace

std::string CanonicalContext(const EncryptionContext& context) {
  std::string out;
  for (const auto& [k, v] : context) {
    AppendLengthPrefixed(&out, k);
    AppendLengthPrefixed(&out, v);
  }
  return out;
}

Result<std::unique_ptr<LocalKeyBackend>> LocalKeyBackend::Create(crypto::SecretBytes root_key) {
  if (root_key.size() != crypto::kRootKeyBytes) {
    return InvalidArgument("the root key must be " + std::to_string(crypto::kRootKeyBytes) +
                           " bytes");
  }
  // A key for this purpose only: the root key itself also derives other keys (root_key.h).
  auto derived = crypto::HkdfSha256(root_key, "", kWrapInfo, crypto::kAeadKeyBytes);
  if (!derived.ok()) return derived.status();
  return std::unique_ptr<LocalKeyBackend>(new LocalKeyBackend(std::move(*derived)));
}

Result<std::unique_ptr<LocalKeyBackend>> LocalKeyBackend::Open(const std::string& state_dir,
                                                               const std::string& root_key_file) {
  std::string path = root_key_file;
  if (path.empty()) {
    if (const char* env = std::getenv("PERIMETER_ROOT_KEY_FILE"); env != nullptr && *env != '\0')
      path = env;
  }
  auto root = path.empty() ? crypto::LoadOrCreateRootKey(state_dir) : crypto::LoadRootKeyFile(path);
  if (!root.ok()) return root.status();
  return Create(std::move(*root));
}

Result<KeyBackend::Generated> LocalKeyBackend::GenerateMaterial(const EncryptionContext& context) {
  auto bytes = crypto::RandomBytes(kMaterialBytes);
  if (!bytes.ok()) return bytes.status();
  crypto::SecretBytes material = crypto::SecretBytes::FromAndWipe(&*bytes);
  auto wrapped = crypto::AeadSeal(key_, material.RevealSecretForUse(), CanonicalContext(context));
  if (!wrapped.ok()) return wrapped.status();
  return Generated{std::move(material), std::move(*wrapped)};
}

Result<crypto::SecretBytes> LocalKeyBackend::Unwrap(std::string_view wrapped,
                                                    const EncryptionContext& context) {
  auto material = crypto::AeadOpen(key_, wrapped, CanonicalContext(context));
  if (!material.ok()) {
    return Unauthenticated(
        "the key material does not unwrap under this root key: the root key file was replaced, "
        "or the stored key version was altered or moved");
  }
  if (material->size() != kMaterialBytes) return Internal("unwrapped key material has bad size");
  return std::move(*material);
}

}  // namespace perimeter::kms
