#pragma once

// Resolution of the gateway's own AWS credentials (used to sign requests to Bedrock), following
// the first two steps of the AWS SDKs' default chain:
//
//   1. Environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN). Skipped when
//      a profile is named explicitly (as botocore does: an explicit profile overrides the
//      environment keys). Exactly one of the two key variables set is an error, not a fall-through.
//   2. Shared credentials file: AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials (a
//      leading "~/" is expanded with $HOME). Profile: the `profile` argument, else AWS_PROFILE,
//      else "default". Keys read: aws_access_key_id, aws_secret_access_key, aws_session_token
//      (or the legacy aws_security_token), case-insensitively, as botocore's configparser does.
//
// Not supported: ~/.aws/config is not read; instance and container metadata are not consulted;
// a profile that gets credentials through role_arn, SSO, credential_process or a web identity
// token is an error naming that key, never a silent fallback to another source.
//
// INI dialect accepted in the credentials file: "[name]" section lines (the name is taken
// literally and trimmed; "[profile x]" is a section named "profile x", as in the SDKs), "key =
// value" lines (whitespace around both trimmed), blank lines, whole-line comments starting with
// '#' or ';', and trailing comments that start with '#' or ';' preceded by whitespace. Indented
// lines continue the previous property (nested settings) and are ignored, as are properties
// before the first section. A later occurrence of a key or section overrides / merges with an
// earlier one. Any other line is an error naming the file and line number (never the line's
// content, which may hold a secret).
//
// Errors never contain a secret key or session token. Thread-safe if `env` is.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "identity/sigv4.h"

namespace perimeter::identity {

// Reads one environment variable; nullopt when unset. Injected so that tests need no real
// environment. An empty value is treated as unset.
using EnvReader = std::function<std::optional<std::string>(std::string_view name)>;

// Reads the process environment (getenv).
EnvReader ProcessEnvReader();

// Largest credentials file read; a bigger file is an error (it is not a credentials file).
inline constexpr size_t kMaxCredentialsFileBytes = 1 << 20;

// Resolves credentials as described above. `profile` empty means "environment, then AWS_PROFILE
// or default". Errors: kNotFound when no credentials are configured anywhere, or a named profile
// (or file for it) does not exist; kInvalidArgument for half-configured credentials (an access key
// without a secret or vice versa), unparsable files and unsupported profile types; kUnavailable
// when an existing file cannot be read.
Result<AwsCredentials> ResolveAwsCredentials(std::string_view profile,
                                             const EnvReader& env = ProcessEnvReader());

}  // namespace perimeter::identity
