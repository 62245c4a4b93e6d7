#include "crypto/secret.h"

#include <openssl/crypto.h>

#include <cstring>
#include <utility>

namespace perimeter::crypto {

SecretBytes::SecretBytes(std::string_view bytes) : size_(bytes.size()) {
  if (size_ > 0) {
    data_ = std::make_unique<char[]>(size_);
    std::memcpy(data_.get(), bytes.data(), size_);
  }
}

SecretBytes SecretBytes::FromAndWipe(std::string* source) {
  SecretBytes out(*source);
  if (!source->empty()) {
    OPENSSL_cleanse(source->data(), source->size());
  }
  source->clear();
  return out;
}

SecretBytes::~SecretBytes() { Wipe(); }

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::move(other.data_)), size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    Wipe();
    data_ = std::move(other.data_);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SecretBytes SecretBytes::Clone() const { return SecretBytes(RevealSecretForUse()); }

SecretBytes SecretBytes::ForOverwrite(size_t size) {
  SecretBytes out;
  if (size > 0) {
    out.data_ = std::make_unique_for_overwrite<char[]>(size);
    out.size_ = size;
  }
  return out;
}

void SecretBytes::Wipe() {
  if (data_ != nullptr && size_ > 0) {
    OPENSSL_cleanse(data_.get(), size_);
  }
  data_.reset();
  size_ = 0;
}

}  // namespace perimeter::crypto
