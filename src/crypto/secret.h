#pragma once

// SecretBytes: owns secret key material (AWS secret keys, HMAC keys, derived signing keys).
//
// - The bytes are wiped (OPENSSL_cleanse) when the object is destroyed or assigned over, and are
//   never copied implicitly: the type is move-only, and a move transfers the heap buffer, so no
//   stale copy is left behind. Clone() is the explicit, grep-able way to make a second copy.
// - It is never printable: there is no operator<< and no conversion to string. The only way to
//   read the bytes is RevealSecretForUse(), named so that every use can be found and reviewed.
//
// Not thread-safe for mutation; concurrent const access (RevealSecretForUse) is safe.

#include <cstddef>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace perimeter::crypto {

class SecretBytes {
 public:
  SecretBytes() = default;
  // Copies `bytes`; the caller remains responsible for wiping its own copy (see FromAndWipe).
  explicit SecretBytes(std::string_view bytes);
  // Copies `*source`, then wipes and clears it: use when a secret was read into a plain string
  // (from a file or the environment) that should not outlive this call.
  static SecretBytes FromAndWipe(std::string* source);

  ~SecretBytes();
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  // A second, independent copy (also wiped on destruction).
  SecretBytes Clone() const;

  // `size` bytes of unspecified content, to be filled through MutableSecretForFill by code that
  // produces a secret in place (a decryptor), so no intermediate copy is ever made.
  static SecretBytes ForOverwrite(size_t size);
  char* MutableSecretForFill() { return data_.get(); }

  // The secret bytes, valid until this object is destroyed, moved from or assigned to. Do not
  // log, print, compare with == (use ConstantTimeEquals), or copy into a longer-lived string.
  std::string_view RevealSecretForUse() const { return {data_.get(), size_}; }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Printing a secret is a compile error.
  friend std::ostream& operator<<(std::ostream&, const SecretBytes&) = delete;

 private:
  void Wipe();

  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
};

}  // namespace perimeter::crypto
