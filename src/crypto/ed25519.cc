#include "crypto/ed25519.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <utility>

#include "crypto/random.h"

namespace perimeter::crypto {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* pkey) const { EVP_PKEY_free(pkey); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using Bio = std::unique_ptr<BIO, BioDeleter>;

// OpenSSL wants a valid pointer even for zero-length input; an empty string_view may hold null.
const unsigned char* Bytes(std::string_view s) {
  static const unsigned char kEmpty[1] = {0};
  return s.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

Status OpenSslFailure(std::string_view step) {
  ERR_clear_error();
  return Internal("Ed25519 " + std::string(step) +
                  " failed inside OpenSSL; check the OpenSSL installation and that the default "
                  "provider is available");
}

Status CheckMessageSize(size_t size) {
  if (size > kEd25519MaxMessageBytes) {
    return InvalidArgument("Ed25519 message of " + std::to_string(size) +
                           " bytes is longer than the " + std::to_string(kEd25519MaxMessageBytes) +
                           "-byte limit; sign a digest of large data instead");
  }
  return Status::Ok();
}

Status CheckPublicKeySize(size_t size) {
  if (size != kEd25519PublicKeyBytes) {
    return InvalidArgument("an Ed25519 public key is " + std::to_string(kEd25519PublicKeyBytes) +
                           " raw bytes, got " + std::to_string(size) +
                           "; pass Ed25519PrivateKey::PublicKey(), not PEM or hex");
  }
  return Status::Ok();
}

Pkey PublicPkey(std::string_view public_key32) {
  return Pkey(EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, Bytes(public_key32),
                                             public_key32.size()));
}

}  // namespace

struct Ed25519PrivateKey::Impl {
  Pkey pkey;
};

Ed25519PrivateKey::Ed25519PrivateKey(SecretBytes seed, std::string public_key,
                                     std::unique_ptr<Impl> impl)
    : seed_(std::move(seed)), public_key_(std::move(public_key)), impl_(std::move(impl)) {}

Ed25519PrivateKey::~Ed25519PrivateKey() = default;

Ed25519PrivateKey::Ed25519PrivateKey(Ed25519PrivateKey&& other) noexcept
    : seed_(std::move(other.seed_)),
      public_key_(std::exchange(other.public_key_, std::string())),
      impl_(std::move(other.impl_)) {}

Ed25519PrivateKey& Ed25519PrivateKey::operator=(Ed25519PrivateKey&& other) noexcept {
  if (this != &other) {
    seed_ = std::move(other.seed_);
    public_key_ = std::exchange(other.public_key_, std::string());
    impl_ = std::move(other.impl_);
  }
  return *this;
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::Generate() {
  Result<std::string> random = RandomBytes(kEd25519SeedBytes);
  if (!random.ok()) {
    return random.status();
  }
  return FromSeed(SecretBytes::FromAndWipe(&random.value()));
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(const SecretBytes& seed32) {
  if (seed32.size() != kEd25519SeedBytes) {
    return InvalidArgument("an Ed25519 private key seed is " + std::to_string(kEd25519SeedBytes) +
                           " bytes, got " + std::to_string(seed32.size()) +
                           "; pass the seed from Ed25519PrivateKey::seed()");
  }
  auto impl = std::make_unique<Impl>();
  impl->pkey.reset(EVP_PKEY_new_raw_private_key_ex(
      nullptr, "ED25519", nullptr, Bytes(seed32.RevealSecretForUse()), seed32.size()));
  if (impl->pkey == nullptr) {
    return OpenSslFailure("private key import");
  }
  std::string public_key(kEd25519PublicKeyBytes, '\0');
  size_t len = public_key.size();
  if (EVP_PKEY_get_raw_public_key(impl->pkey.get(),
                                  reinterpret_cast<unsigned char*>(public_key.data()), &len) != 1 ||
      len != kEd25519PublicKeyBytes) {
    return OpenSslFailure("public key derivation");
  }
  return Ed25519PrivateKey(seed32.Clone(), std::move(public_key), std::move(impl));
}

Result<std::string> Ed25519PrivateKey::Sign(std::string_view message) const {
  if (impl_ == nullptr) {
    return FailedPrecondition("Ed25519 key was moved from; sign with the key it was moved to");
  }
  PERIMETER_RETURN_IF_ERROR(CheckMessageSize(message.size()));
  MdCtx ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestSignInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr,
                                              impl_->pkey.get(), nullptr) != 1) {
    return OpenSslFailure("signing setup");
  }
  std::string signature(kEd25519SignatureBytes, '\0');
  size_t len = signature.size();
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                     Bytes(message), message.size()) != 1 ||
      len != kEd25519SignatureBytes) {
    return OpenSslFailure("signing");
  }
  return signature;
}

Status Ed25519Verify(std::string_view public_key32, std::string_view message,
                     std::string_view signature64) {
  PERIMETER_RETURN_IF_ERROR(CheckPublicKeySize(public_key32.size()));
  if (signature64.size() != kEd25519SignatureBytes) {
    return InvalidArgument("an Ed25519 signature is " + std::to_string(kEd25519SignatureBytes) +
                           " raw bytes, got " + std::to_string(signature64.size()) +
                           "; pass the bytes from Sign(), not hex or base64");
  }
  PERIMETER_RETURN_IF_ERROR(CheckMessageSize(message.size()));

  Pkey pkey = PublicPkey(public_key32);
  if (pkey == nullptr) {
    return OpenSslFailure("public key import");
  }
  MdCtx ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestVerifyInit_ex(ctx.get(), nullptr, nullptr, nullptr, nullptr,
                                                pkey.get(), nullptr) != 1) {
    return OpenSslFailure("verification setup");
  }
  // 1 is a valid signature; anything else (0, or an error for a key that is not a curve point)
  // means the signature does not verify under this key.
  if (EVP_DigestVerify(ctx.get(), Bytes(signature64), signature64.size(), Bytes(message),
                       message.size()) != 1) {
    ERR_clear_error();
    return Unauthenticated(
        "Ed25519 signature does not verify: the message, signature or public key differ from "
        "those that were signed");
  }
  return Status::Ok();
}

Result<std::string> Ed25519PublicKeyPem(std::string_view public_key32) {
  PERIMETER_RETURN_IF_ERROR(CheckPublicKeySize(public_key32.size()));
  Pkey pkey = PublicPkey(public_key32);
  Bio bio(BIO_new(BIO_s_mem()));
  if (pkey == nullptr || bio == nullptr || PEM_write_bio_PUBKEY(bio.get(), pkey.get()) != 1) {
    return OpenSslFailure("PEM export");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  if (len <= 0 || data == nullptr) {
    return OpenSslFailure("PEM export");
  }
  return std::string(data, static_cast<size_t>(len));
}

Result<std::string> Ed25519PublicKeyFromPem(std::string_view pem) {
  if (pem.size() > 4096) return InvalidArgument("the public key PEM is too long");
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return OpenSslFailure("PEM import");
  Pkey pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (pkey == nullptr) {
    return InvalidArgument("not a PEM \"PUBLIC KEY\" block (SubjectPublicKeyInfo)");
  }
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
    return InvalidArgument("the PEM public key is not an Ed25519 key");
  }
  std::string raw(kEd25519PublicKeyBytes, '\0');
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(pkey.get(), reinterpret_cast<unsigned char*>(raw.data()), &len) !=
          1 ||
      len != kEd25519PublicKeyBytes) {
    return OpenSslFailure("PEM import");
  }
  return raw;
}

}  // namespace perimeter::crypto
