// Runs a fuzz target's LLVMFuzzerTestOneInput over stored inputs, so fuzz targets double as
// regression tests in builds without libFuzzer (g++, or clang without -fsanitize=fuzzer).
//
// Usage: <target>_regress PATH...   where each PATH is a file or a directory (not recursive).
// Exits 1 if a path cannot be read or no input was found, so a misconfigured test cannot pass
// by running nothing; a violated invariant aborts inside the target.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

bool ReadFile(const std::filesystem::path& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return false;
  }
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 1;
  }
  std::vector<std::filesystem::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path path(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
        if (entry.is_regular_file()) {
          inputs.push_back(entry.path());
        }
      }
    } else if (std::filesystem::is_regular_file(path, ec)) {
      inputs.push_back(path);
    }
    if (ec) {
      std::fprintf(stderr, "%s: cannot read: %s\n", argv[i], ec.message().c_str());
      return 1;
    }
  }
  if (inputs.empty()) {
    std::fprintf(stderr, "no input files found in the given paths; check the corpus path\n");
    return 1;
  }
  std::sort(inputs.begin(), inputs.end());  // deterministic order for reproducible failures
  for (const auto& path : inputs) {
    std::string data;
    if (!ReadFile(path, data)) {
      std::fprintf(stderr, "%s: cannot read the file\n", path.c_str());
      return 1;
    }
    std::fprintf(stderr, "running %s (%zu bytes)\n", path.c_str(), data.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  }
  std::fprintf(stderr, "ran %zu inputs, all passed\n", inputs.size());
  return 0;
}
