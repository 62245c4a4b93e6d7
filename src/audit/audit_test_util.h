#pragma once

// Test helpers shared by the audit tests: a temporary directory, an in-memory checkpoint signer,
// and file surgery for tampering tests.

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "audit/log.h"
#include "crypto/ed25519.h"

namespace perimeter::audit::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "perimeter-audit-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

class TestSigner final : public CheckpointSigner {
 public:
  TestSigner() : key_(crypto::Ed25519PrivateKey::Generate().value()) {}
  std::string PublicKey() const override { return key_.PublicKey(); }
  Result<std::string> Sign(std::string_view message) const override { return key_.Sign(message); }

 private:
  crypto::Ed25519PrivateKey key_;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void WriteFile(const std::string& path, const std::string& data) {
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

inline std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      out.push_back(text.substr(pos));
      break;
    }
    out.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

inline std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// A small event with a recognizable id.
inline std::string TestEvent(int i) {
  return "{\"eventVersion\":\"1.09\",\"eventName\":\"InvokeModel\",\"eventID\":\"ev-" +
         std::to_string(i) + "\",\"tenantId\":\"t" + std::to_string(i % 3) + "\"}";
}

}  // namespace perimeter::audit::testing
