#include "crypto/aead.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "crypto/random.h"

namespace perimeter::crypto {
namespace {

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

// Fetched once: with OpenSSL 3, passing EVP_aes_256_gcm() to every init repeats the provider
// lookup (and its locks) on each call. The fetched object lives for the whole process.
const EVP_CIPHER* Aes256Gcm() {
  static const EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

// OpenSSL wants a valid pointer even for zero-length input; an empty string_view may hold null.
const unsigned char* Bytes(std::string_view s) {
  static const unsigned char kEmpty[1] = {0};
  return s.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* MutableBytes(std::string& s, size_t offset) {
  return reinterpret_cast<unsigned char*>(s.data()) + offset;
}

Status OpenSslFailure(std::string_view step) {
  ERR_clear_error();
  return Internal("AES-256-GCM " + std::string(step) +
                  " failed inside OpenSSL; check the OpenSSL installation and that the default "
                  "provider is available");
}

Status CheckInputs(const SecretBytes& key, size_t plaintext_bytes, std::string_view aad) {
  if (key.size() != kAeadKeyBytes) {
    return InvalidArgument("AES-256-GCM needs a " + std::to_string(kAeadKeyBytes) +
                           "-byte key, got " + std::to_string(key.size()) +
                           " bytes; pass a key made for AES-256");
  }
  if (plaintext_bytes > kAeadMaxPlaintextBytes) {
    return InvalidArgument("plaintext of " + std::to_string(plaintext_bytes) +
                           " bytes is larger than the " + std::to_string(kAeadMaxPlaintextBytes) +
                           "-byte limit for one sealed value; split it or envelope-encrypt it");
  }
  if (aad.size() > kAeadMaxAssociatedDataBytes) {
    return InvalidArgument("associated data of " + std::to_string(aad.size()) +
                           " bytes is larger than the " +
                           std::to_string(kAeadMaxAssociatedDataBytes) +
                           "-byte limit; bind an identifier, not the data itself");
  }
  return Status::Ok();
}

// Writes ciphertext || tag for `plaintext` into out[offset, offset + plaintext.size() + 16),
// which the caller has sized.
Status EncryptInto(const SecretBytes& key, std::string_view nonce, std::string_view plaintext,
                   std::string_view aad, std::string& out, size_t offset) {
  const EVP_CIPHER* cipher = Aes256Gcm();
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (cipher == nullptr || ctx == nullptr) {
    return OpenSslFailure("setup");
  }
  int len = 0;
  if (EVP_EncryptInit_ex2(ctx.get(), cipher, nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()),
                          nullptr) != 1 ||
      EVP_EncryptInit_ex2(ctx.get(), nullptr, Bytes(key.RevealSecretForUse()), Bytes(nonce),
                          nullptr) != 1) {
    return OpenSslFailure("key setup");
  }
  if (!aad.empty() &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) != 1) {
    return OpenSslFailure("associated data");
  }
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(ctx.get(), MutableBytes(out, offset), &len, Bytes(plaintext),
                          static_cast<int>(plaintext.size())) != 1 ||
        static_cast<size_t>(len) != plaintext.size()) {
      return OpenSslFailure("encryption");
    }
  }
  // GCM is a stream mode: Final emits no bytes, it only completes the tag computation.
  if (EVP_EncryptFinal_ex(ctx.get(), MutableBytes(out, offset + plaintext.size()), &len) != 1 ||
      len != 0 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kAeadTagBytes),
                          MutableBytes(out, offset + plaintext.size())) != 1) {
    return OpenSslFailure("tag computation");
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> AeadSeal(const SecretBytes& key, std::string_view plaintext,
                             std::string_view aad) {
  PERIMETER_RETURN_IF_ERROR(CheckInputs(key, plaintext.size(), aad));
  Result<std::string> nonce = RandomBytes(kAeadNonceBytes);
  if (!nonce.ok()) {
    return nonce.status();
  }
  std::string out(kAeadOverheadBytes + plaintext.size(), '\0');
  out[0] = static_cast<char>(kAeadFormatVersion);
  out.replace(1, kAeadNonceBytes, *nonce);
  Status st = EncryptInto(key, *nonce, plaintext, aad, out, 1 + kAeadNonceBytes);
  if (!st.ok()) {
    // A partly written buffer may hold keystream-xored plaintext; do not leave it in the heap.
    OPENSSL_cleanse(out.data(), out.size());
    return st;
  }
  return out;
}

Result<SecretBytes> AeadOpen(const SecretBytes& key, std::string_view sealed,
                             std::string_view aad) {
  const size_t ciphertext_bytes = sealed.size() - std::min(sealed.size(), kAeadOverheadBytes);
  PERIMETER_RETURN_IF_ERROR(CheckInputs(key, ciphertext_bytes, aad));
  if (sealed.size() < kAeadOverheadBytes || static_cast<uint8_t>(sealed[0]) != kAeadFormatVersion) {
    return InvalidArgument(
        "sealed data is truncated or not from this version: expected a version 1 AES-256-GCM "
        "value of at least " +
        std::to_string(kAeadOverheadBytes) + " bytes, got " + std::to_string(sealed.size()) +
        " bytes; check that the value was stored and read back unchanged");
  }

  const std::string_view nonce = sealed.substr(1, kAeadNonceBytes);
  const std::string_view ciphertext =
      sealed.substr(1 + kAeadNonceBytes, sealed.size() - kAeadOverheadBytes);
  const std::string_view tag = sealed.substr(sealed.size() - kAeadTagBytes);

  const EVP_CIPHER* cipher = Aes256Gcm();
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (cipher == nullptr || ctx == nullptr) {
    return OpenSslFailure("setup");
  }
  if (EVP_DecryptInit_ex2(ctx.get(), cipher, nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kAeadNonceBytes),
                          nullptr) != 1 ||
      EVP_DecryptInit_ex2(ctx.get(), nullptr, Bytes(key.RevealSecretForUse()), Bytes(nonce),
                          nullptr) != 1) {
    return OpenSslFailure("key setup");
  }
  int len = 0;
  if (!aad.empty() &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad), static_cast<int>(aad.size())) != 1) {
    return OpenSslFailure("associated data");
  }
  // Decrypted straight into the zeroizing buffer: no intermediate copy of the plaintext.
  SecretBytes plaintext = SecretBytes::ForOverwrite(ciphertext.size());
  if (!ciphertext.empty()) {
    if (EVP_DecryptUpdate(ctx.get(),
                          reinterpret_cast<unsigned char*>(plaintext.MutableSecretForFill()), &len,
                          Bytes(ciphertext), static_cast<int>(ciphertext.size())) != 1 ||
        static_cast<size_t>(len) != ciphertext.size()) {
      plaintext = SecretBytes();  // wiped
      return OpenSslFailure("decryption");
    }
  }
  // OpenSSL only reads the tag buffer for SET_TAG, but the API takes a non-const pointer.
  unsigned char tag_copy[kAeadTagBytes];
  std::copy(tag.begin(), tag.end(), tag_copy);
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kAeadTagBytes),
                          tag_copy) != 1) {
    plaintext = SecretBytes();  // wiped
    return OpenSslFailure("tag setup");
  }
  unsigned char final_block[16];
  if (EVP_DecryptFinal_ex(ctx.get(), final_block, &len) != 1) {
    // The decrypted bytes are unauthenticated: wipe them rather than let them reach anyone.
    ERR_clear_error();
    plaintext = SecretBytes();  // wiped
    return Unauthenticated(
        "sealed data failed authentication: it was modified, or it was sealed under a different "
        "key or with different associated data; it cannot be opened");
  }
  return plaintext;
}

namespace internal {

Result<std::string> AesGcmEncryptWithNonceForTest(const SecretBytes& key, std::string_view nonce,
                                                  std::string_view plaintext,
                                                  std::string_view aad) {
  PERIMETER_RETURN_IF_ERROR(CheckInputs(key, plaintext.size(), aad));
  if (nonce.size() != kAeadNonceBytes) {
    return InvalidArgument("the test nonce must be " + std::to_string(kAeadNonceBytes) +
                           " bytes, got " + std::to_string(nonce.size()));
  }
  std::string out(plaintext.size() + kAeadTagBytes, '\0');
  PERIMETER_RETURN_IF_ERROR(EncryptInto(key, nonce, plaintext, aad, out, 0));
  return out;
}

}  // namespace internal

}  // namespace perimeter::crypto
