#include "identity/aws_credentials.h"

#include <openssl/crypto.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "common/strings.h"

namespace perimeter::identity {
namespace {

constexpr std::string_view kNoCredentials =
    "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add a "
    "[default] profile to ~/.aws/credentials";

// Profile keys that mean "this profile gets credentials some other way", for a precise error.
constexpr std::string_view kUnsupportedProfileKeys[] = {
    "role_arn",          "source_profile",
    "credential_source", "credential_process",
    "sso_start_url",     "sso_session",
    "sso_account_id",    "web_identity_token_file",
    "login_session",     "aws_credential_provider"};

// Wipes a string that held file contents or secrets when it goes out of scope.
class WipeOnExit {
 public:
  explicit WipeOnExit(std::string* s) : s_(s) {}
  ~WipeOnExit() {
    if (!s_->empty()) {
      OPENSSL_cleanse(s_->data(), s_->size());
    }
  }
  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

 private:
  std::string* s_;
};

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Cuts a trailing "# ..." or "; ..." comment; the marker must follow whitespace so that values
// containing '#' or ';' survive.
std::string_view StripTrailingComment(std::string_view s) {
  for (size_t i = 1; i < s.size(); ++i) {
    if ((s[i] == '#' || s[i] == ';') && IsBlank(s[i - 1])) {
      return s.substr(0, i);
    }
  }
  return s;
}

// What the credentials file says about one profile. Values point into the file contents.
struct ProfileEntries {
  bool found = false;
  std::optional<std::string_view> access_key_id;
  std::optional<std::string_view> secret_access_key;
  std::optional<std::string_view> session_token;
  std::optional<std::string_view> legacy_security_token;
  std::optional<std::string> unsupported_key;  // first key naming another credential source
};

Result<ProfileEntries> ParseCredentialsFile(std::string_view contents, std::string_view profile,
                                            const std::string& path) {
  ProfileEntries entries;
  bool in_section = false;
  bool in_target = false;
  bool property_seen_in_section = false;
  size_t line_number = 0;
  size_t pos = 0;
  while (pos < contents.size()) {
    size_t end = contents.find('\n', pos);
    if (end == std::string_view::npos) {
      end = contents.size();
    }
    std::string_view raw = contents.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (!raw.empty() && raw.back() == '\r') {
      raw.remove_suffix(1);
    }
    const std::string_view line = TrimWhitespace(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';') {
      continue;
    }
    const auto malformed = [&](std::string_view what) {
      return InvalidArgument("AWS credentials file " + path + " line " +
                             std::to_string(line_number) + " " + std::string(what) +
                             "; fix or remove that line");
    };

    if (line.front() == '[') {
      const size_t close = line.find(']');
      if (close == std::string_view::npos) {
        return malformed("starts a [section] but has no closing ']'");
      }
      const std::string_view rest = TrimWhitespace(line.substr(close + 1));
      if (!rest.empty() && rest.front() != '#' && rest.front() != ';') {
        return malformed("has text after the [section] header that is not a comment");
      }
      const std::string_view name = TrimWhitespace(line.substr(1, close - 1));
      if (name.empty()) {
        return malformed("is an empty section header '[]'");
      }
      in_section = true;
      in_target = name == profile;
      entries.found = entries.found || in_target;
      property_seen_in_section = false;
      continue;
    }

    if (IsBlank(raw.front()) && property_seen_in_section) {
      continue;  // continuation of a nested property (e.g. "s3 =\n  max_concurrent_requests = 5")
    }
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return malformed("is neither a [section] header, a comment, nor key = value");
    }
    const std::string_view key = TrimWhitespace(line.substr(0, eq));
    if (key.empty()) {
      return malformed("has '=' with no key before it");
    }
    property_seen_in_section = in_section;
    if (!in_target) {
      continue;  // other profiles, and properties before the first section, are not ours
    }
    const std::string_view value = TrimWhitespace(StripTrailingComment(line.substr(eq + 1)));
    const std::string lower_key = AsciiLower(key);
    if (lower_key == "aws_access_key_id") {
      entries.access_key_id = value;
    } else if (lower_key == "aws_secret_access_key") {
      entries.secret_access_key = value;
    } else if (lower_key == "aws_session_token") {
      entries.session_token = value;
    } else if (lower_key == "aws_security_token") {
      entries.legacy_security_token = value;
    } else if (!entries.unsupported_key) {
      for (std::string_view unsupported : kUnsupportedProfileKeys) {
        if (lower_key == unsupported) {
          entries.unsupported_key = lower_key;
        }
      }
    }
  }
  return entries;
}

enum class ReadOutcome { kRead, kMissing };

// Reads at most kMaxCredentialsFileBytes. The contents may hold secrets: the caller wipes them.
Result<ReadOutcome> ReadCredentialsFile(const std::string& path, std::string* contents) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return ReadOutcome::kMissing;
    }
    return Unavailable("cannot open AWS credentials file " + path + ": " + std::strerror(errno) +
                       "; check its permissions");
  }
  contents->resize(kMaxCredentialsFileBytes + 1);
  const size_t n = std::fread(contents->data(), 1, contents->size(), file);
  const bool read_error = std::ferror(file) != 0;
  std::fclose(file);
  if (read_error) {
    return Unavailable("cannot read AWS credentials file " + path +
                       "; check that it is a regular, readable file");
  }
  if (n > kMaxCredentialsFileBytes) {
    return InvalidArgument("AWS credentials file " + path + " is larger than " +
                           std::to_string(kMaxCredentialsFileBytes) +
                           " bytes, which no credentials file is; check the path");
  }
  // Shrink without reallocating, so the wipe below covers every byte that was read.
  OPENSSL_cleanse(contents->data() + n, contents->size() - n);
  contents->resize(n);
  return ReadOutcome::kRead;
}

}  // namespace

EnvReader ProcessEnvReader() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  };
}

Result<AwsCredentials> ResolveAwsCredentials(std::string_view profile, const EnvReader& env) {
  const auto get = [&](std::string_view name) -> std::optional<std::string> {
    std::optional<std::string> value = env(name);
    if (value.has_value() && value->empty()) {
      return std::nullopt;
    }
    return value;
  };

  // 1. Environment (unless a profile was named by the caller).
  if (profile.empty()) {
    std::optional<std::string> access_key_id = get("AWS_ACCESS_KEY_ID");
    std::optional<std::string> secret = get("AWS_SECRET_ACCESS_KEY");
    if (access_key_id && secret) {
      AwsCredentials credentials;
      credentials.access_key_id = std::move(*access_key_id);
      credentials.secret_access_key = crypto::SecretBytes::FromAndWipe(&*secret);
      credentials.session_token = get("AWS_SESSION_TOKEN").value_or("");
      return credentials;
    }
    if (secret) {
      OPENSSL_cleanse(secret->data(), secret->size());  // unused: the configuration is an error
    }
    if (access_key_id && !secret) {
      return InvalidArgument(
          "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or unset "
          "AWS_ACCESS_KEY_ID to use the shared credentials file");
    }
    if (secret && !access_key_id) {
      return InvalidArgument(
          "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both, or unset "
          "AWS_SECRET_ACCESS_KEY to use the shared credentials file");
    }
  }

  // 2. Shared credentials file.
  const std::optional<std::string> env_profile = get("AWS_PROFILE");
  const bool profile_named = !profile.empty() || env_profile.has_value();
  const std::string profile_name =
      !profile.empty() ? std::string(profile) : env_profile.value_or("default");
  const std::string profile_source = !profile.empty() ? "" : " (from AWS_PROFILE)";

  const std::optional<std::string> home = get("HOME");
  std::string path;
  if (std::optional<std::string> configured = get("AWS_SHARED_CREDENTIALS_FILE")) {
    path = std::move(*configured);
    if (path == "~" || StartsWith(path, "~/")) {
      if (!home) {
        return InvalidArgument(
            "AWS_SHARED_CREDENTIALS_FILE starts with '~' but HOME is not set; "
            "give an absolute path");
      }
      path = *home + path.substr(1);
    }
  } else if (home) {
    path = *home + "/.aws/credentials";
  } else {
    if (profile_named) {
      return NotFound("AWS profile '" + profile_name + "'" + profile_source +
                      " was requested but HOME is not set, so ~/.aws/credentials cannot be "
                      "found; set AWS_SHARED_CREDENTIALS_FILE to the credentials file");
    }
    return NotFound(std::string(kNoCredentials) +
                    " (HOME is not set, so set AWS_SHARED_CREDENTIALS_FILE to find the file)");
  }

  std::string contents;
  WipeOnExit wipe_contents(&contents);
  Result<ReadOutcome> read = ReadCredentialsFile(path, &contents);
  if (!read.ok()) {
    return read.status();
  }
  if (*read == ReadOutcome::kMissing) {
    if (profile_named) {
      return NotFound("AWS profile '" + profile_name + "'" + profile_source +
                      " was requested but the credentials file " + path +
                      " does not exist; create it or set AWS_SHARED_CREDENTIALS_FILE");
    }
    return NotFound(std::string(kNoCredentials) + " (looked in " + path + ")");
  }

  Result<ProfileEntries> parsed = ParseCredentialsFile(contents, profile_name, path);
  if (!parsed.ok()) {
    return parsed.status();
  }
  const ProfileEntries& entries = *parsed;
  const std::string where = "AWS profile '" + profile_name + "' in " + path;
  if (!entries.found) {
    if (profile_named) {
      return NotFound("AWS profile '" + profile_name + "'" + profile_source + " not found in " +
                      path + "; add a [" + profile_name +
                      "] section with aws_access_key_id and aws_secret_access_key");
    }
    return NotFound(std::string(kNoCredentials) + " (" + path + " has no [default] section)");
  }
  const bool has_key_id = entries.access_key_id && !entries.access_key_id->empty();
  const bool has_secret = entries.secret_access_key && !entries.secret_access_key->empty();
  if (has_key_id && !has_secret) {
    return InvalidArgument(where + " has aws_access_key_id but no aws_secret_access_key; add it");
  }
  if (has_secret && !has_key_id) {
    return InvalidArgument(where + " has aws_secret_access_key but no aws_access_key_id; add it");
  }
  if (!has_key_id) {
    if (entries.unsupported_key) {
      return InvalidArgument(where + " gets credentials through '" + *entries.unsupported_key +
                             "', which Perimeter does not support; give the gateway static keys "
                             "(aws_access_key_id and aws_secret_access_key) in that profile or "
                             "in the environment");
    }
    return InvalidArgument(where + " has no aws_access_key_id and aws_secret_access_key; add both");
  }

  AwsCredentials credentials;
  credentials.access_key_id = std::string(*entries.access_key_id);
  credentials.secret_access_key = crypto::SecretBytes(*entries.secret_access_key);
  if (entries.session_token) {
    credentials.session_token = std::string(*entries.session_token);
  } else if (entries.legacy_security_token) {
    credentials.session_token = std::string(*entries.legacy_security_token);
  }
  return credentials;
}

}  // namespace perimeter::identity
