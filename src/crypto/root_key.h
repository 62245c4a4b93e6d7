#pragma once

// The state directory's root key: the one secret from which everything Perimeter stores is
// protected (today it seals access-key secrets directly; the KMS will wrap its keys under it).
//
// The key is kRootKeyBytes random bytes in <state_dir>/root.key. The first call creates the file
// (mode 0600, O_CREAT|O_EXCL, the file and the directory fsynced, so a crash never leaves a key
// in use that is not on disk); later calls read it. The file is refused, with FailedPrecondition
// and a message naming the path, when it:
//   - has any permission bit for group or others (fix: `chmod 600 <path>`),
//   - is not a regular file (a directory, FIFO, device ...), or
//   - is not exactly kRootKeyBytes long.
// A symbolic link is followed and the checks apply to its target, so the key may live on a
// mounted secret volume.
//
// Losing or replacing this file makes every sealed value unreadable: back it up with the state
// directory and never regenerate it by hand.
//
// Safe to call from several processes at once: exactly one creates the key and the others read
// it (a reader that finds the file still being written waits up to about one second). Thread-safe.
// The KMS's LocalKeyBackend (kms/backend.h) wraps every CMK version under a key derived from it.

#include <cstddef>
#include <string>

#include "common/status.h"
#include "crypto/secret.h"

namespace perimeter::crypto {

inline constexpr size_t kRootKeyBytes = 32;  // an AES-256 key (kAeadKeyBytes)
inline constexpr char kRootKeyFileName[] = "root.key";

// The root key of `state_dir`, created on first use. `state_dir` must exist.
// Errors: InvalidArgument for an empty path; FailedPrecondition for a missing directory or a file
// that fails the checks above (nothing is created or changed then); Internal for I/O or CSPRNG
// failures.
Result<SecretBytes> LoadOrCreateRootKey(const std::string& state_dir);

// The root key in an existing file at `path` (e.g. on a mounted secret volume), with the same
// checks; it is never created. FailedPrecondition when it is missing or fails a check.
Result<SecretBytes> LoadRootKeyFile(const std::string& path);

}  // namespace perimeter::crypto
