#include "crypto/root_key.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>

#include "crypto/random.h"

namespace perimeter::crypto {
namespace {

// How long a reader waits for a concurrent creator to finish writing the key. The creator writes
// 32 bytes and fsyncs; a second is far more than that takes on any working disk.
constexpr auto kCreateRaceWait = std::chrono::seconds(1);
constexpr auto kRetryInterval = std::chrono::milliseconds(10);
constexpr size_t kMaxStateDirBytes = 4096;  // PATH_MAX

std::string ErrnoText(int err) { return std::strerror(err); }

std::string OctalMode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now and reports the result (a close error can mean the data never reached the disk).
  int Close() { return ::close(std::exchange(fd_, -1)); }

 private:
  int fd_;
};

Status WrongSize(const std::string& path, size_t size) {
  return FailedPrecondition(
      "root key file " + path + " is " + std::to_string(size) +
      " bytes, but a root key is exactly " + std::to_string(kRootKeyBytes) +
      " bytes. Restore the original file from a backup of the state directory: values sealed "
      "under the original key cannot be read without it. Only if nothing was ever sealed (a "
      "fresh state directory, e.g. a crash during the first start left the file empty), delete "
      "it and a new key will be created.");
}

struct ReadAttempt {
  enum class Kind { kKey, kMissing, kIncomplete };
  Kind kind = Kind::kMissing;
  SecretBytes key;  // kKey
  size_t size = 0;  // kIncomplete: bytes found
};

// One attempt to read the key. All checks are made on the open descriptor, so the file that is
// checked is the file that is read. Short files are reported, not refused, because a concurrent
// creator may still be writing; the caller decides how long to wait.
Result<ReadAttempt> ReadRootKeyFile(const std::string& path) {
  // O_NONBLOCK: opening a FIFO planted at the path must not hang; it is refused below.
  int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (raw < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return ReadAttempt{};
    }
    return FailedPrecondition("cannot open root key file " + path + ": " + ErrnoText(err) +
                              "; check that it is readable by the user running perimeter");
  }
  Fd fd(raw);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Internal("cannot stat root key file " + path + ": " + ErrnoText(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return FailedPrecondition("root key file " + path +
                              " is not a regular file; replace it with the root key file (a "
                              "regular file of " +
                              std::to_string(kRootKeyBytes) + " bytes, mode 0600)");
  }
  if ((st.st_mode & 077) != 0) {
    return FailedPrecondition("root key file " + path + " has mode " + OctalMode(st.st_mode) +
                              ", which lets group or others access it; run `chmod 600 " + path +
                              "`, and consider whether anyone could have copied it: every secret "
                              "sealed under a leaked root key is exposed");
  }
  if (static_cast<uint64_t>(st.st_size) > kRootKeyBytes) {
    return WrongSize(path, static_cast<size_t>(st.st_size));
  }
  // Read one byte more than a key so that a file that grew after fstat is still caught.
  std::string buf(kRootKeyBytes + 1, '\0');
  size_t n = 0;
  while (n < buf.size()) {
    ssize_t r = ::read(fd.get(), buf.data() + n, buf.size() - n);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r < 0) {
      const int err = errno;
      OPENSSL_cleanse(buf.data(), buf.size());
      return Internal("cannot read root key file " + path + ": " + ErrnoText(err));
    }
    if (r == 0) {
      break;
    }
    n += static_cast<size_t>(r);
  }
  if (n != kRootKeyBytes) {
    OPENSSL_cleanse(buf.data(), buf.size());
    if (n > kRootKeyBytes) {
      return WrongSize(path, n);
    }
    ReadAttempt incomplete;
    incomplete.kind = ReadAttempt::Kind::kIncomplete;
    incomplete.size = n;
    return incomplete;
  }
  buf.resize(kRootKeyBytes);  // shrinking keeps the bytes in place; FromAndWipe wipes them
  ReadAttempt found;
  found.kind = ReadAttempt::Kind::kKey;
  found.key = SecretBytes::FromAndWipe(&buf);
  return found;
}

Status SyncDirectory(const std::string& dir) {
  int raw = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (raw < 0) {
    return Internal("cannot open state directory " + dir + " to sync it: " + ErrnoText(errno));
  }
  Fd fd(raw);
  if (::fsync(fd.get()) != 0) {
    return Internal("cannot sync state directory " + dir +
                    " after creating the root key: " + ErrnoText(errno));
  }
  return Status::Ok();
}

// Creates the key file. nullopt when the file already exists (another process or thread won the
// race, or the path holds something else): the caller reads it instead.
Result<std::optional<SecretBytes>> CreateRootKeyFile(const std::string& path,
                                                     const std::string& state_dir) {
  int raw = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (raw < 0) {
    const int err = errno;
    if (err == EEXIST) {
      return std::optional<SecretBytes>();
    }
    return FailedPrecondition("cannot create root key file " + path + ": " + ErrnoText(err) +
                              "; check that the state directory is writable by the user running "
                              "perimeter");
  }
  Fd fd(raw);
  // If anything below fails, remove the half-made file so the next start can try again instead
  // of refusing a short key file.
  auto fail = [&](Status st) -> Status {
    (void)fd.Close();
    ::unlink(path.c_str());
    return st;
  };
  // The umask can only have removed bits from 0600; make the mode exact.
  if (::fchmod(fd.get(), 0600) != 0) {
    return fail(
        Internal("cannot set mode 0600 on new root key file " + path + ": " + ErrnoText(errno)));
  }
  Result<std::string> bytes = RandomBytes(kRootKeyBytes);
  if (!bytes.ok()) {
    return fail(bytes.status());
  }
  size_t written = 0;
  while (written < bytes->size()) {
    ssize_t w = ::write(fd.get(), bytes->data() + written, bytes->size() - written);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w <= 0) {
      const int err = errno;
      OPENSSL_cleanse(bytes->data(), bytes->size());
      return fail(Internal("cannot write new root key file " + path + ": " + ErrnoText(err)));
    }
    written += static_cast<size_t>(w);
  }
  if (::fsync(fd.get()) != 0 || fd.Close() != 0) {
    const int err = errno;
    OPENSSL_cleanse(bytes->data(), bytes->size());
    return fail(Internal("cannot sync new root key file " + path + ": " + ErrnoText(err)));
  }
  Status synced = SyncDirectory(state_dir);
  if (!synced.ok()) {
    // The file is complete; only its directory entry may not be durable. Report it rather than
    // hand out a key that a power cut could lose, and leave the file: the next call reads it.
    OPENSSL_cleanse(bytes->data(), bytes->size());
    return synced;
  }
  return std::optional<SecretBytes>(SecretBytes::FromAndWipe(&*bytes));
}

}  // namespace

Result<SecretBytes> LoadOrCreateRootKey(const std::string& state_dir) {
  if (state_dir.empty()) {
    return InvalidArgument(
        "the state directory path is empty; set it to a directory owned by the "
        "user running perimeter");
  }
  if (state_dir.size() > kMaxStateDirBytes || state_dir.find('\0') != std::string::npos) {
    return InvalidArgument("the state directory path is longer than " +
                           std::to_string(kMaxStateDirBytes) + " bytes or contains a NUL byte");
  }
  struct stat dir_st {};
  if (::stat(state_dir.c_str(), &dir_st) != 0 || !S_ISDIR(dir_st.st_mode)) {
    return FailedPrecondition("state directory " + state_dir +
                              " does not exist or is not a directory; create it with `mkdir -m "
                              "700 " +
                              state_dir + "`");
  }
  const std::string path =
      state_dir + (state_dir.back() == '/' ? "" : "/") + std::string(kRootKeyFileName);

  const auto deadline = std::chrono::steady_clock::now() + kCreateRaceWait;
  bool lost_create_race = false;
  for (;;) {
    Result<ReadAttempt> attempt = ReadRootKeyFile(path);
    if (!attempt.ok()) {
      return attempt.status();
    }
    switch (attempt->kind) {
      case ReadAttempt::Kind::kKey:
        return std::move(attempt->key);
      case ReadAttempt::Kind::kMissing: {
        if (lost_create_race) {
          // create said the path exists, open said it does not: a dangling symlink, or a file
          // that another program created and removed again in between.
          struct stat link_st {};
          if (::lstat(path.c_str(), &link_st) == 0 && S_ISLNK(link_st.st_mode)) {
            return FailedPrecondition("root key file " + path +
                                      " is a symbolic link to a file that does not exist; point "
                                      "it at the root key file or remove it");
          }
          if (std::chrono::steady_clock::now() >= deadline) {
            return Unavailable("root key file " + path +
                               " kept appearing and disappearing for a second; check that no "
                               "other program is creating or deleting it");
          }
          std::this_thread::sleep_for(kRetryInterval);
        }
        Result<std::optional<SecretBytes>> created = CreateRootKeyFile(path, state_dir);
        if (!created.ok()) {
          return created.status();
        }
        if (created->has_value()) {
          return std::move(**created);
        }
        // Lost the race: read the winner's file straight away.
        lost_create_race = true;
        continue;
      }
      case ReadAttempt::Kind::kIncomplete:
        // Possibly a concurrent creator between its create and its write.
        if (std::chrono::steady_clock::now() >= deadline) {
          return WrongSize(path, attempt->size);
        }
        std::this_thread::sleep_for(kRetryInterval);
        continue;
    }
  }
}

Result<SecretBytes> LoadRootKeyFile(const std::string& path) {
  if (path.empty() || path.size() > kMaxStateDirBytes || path.find('\0') != std::string::npos) {
    return InvalidArgument("the root key file path is empty, longer than " +
                           std::to_string(kMaxStateDirBytes) + " bytes or contains a NUL byte");
  }
  Result<ReadAttempt> attempt = ReadRootKeyFile(path);
  if (!attempt.ok()) {
    return attempt.status();
  }
  switch (attempt->kind) {
    case ReadAttempt::Kind::kKey:
      return std::move(attempt->key);
    case ReadAttempt::Kind::kMissing:
      return FailedPrecondition("root key file " + path +
                                " does not exist; point the setting at the root key file (a "
                                "regular file of " +
                                std::to_string(kRootKeyBytes) + " random bytes, mode 0600)");
    case ReadAttempt::Kind::kIncomplete:
      break;
  }
  return WrongSize(path, attempt->size);
}

}  // namespace perimeter::crypto
