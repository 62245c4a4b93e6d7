#pragma once

// The wire format of the AWS STS Query API (Smithy protocol "awsQuery", API version 2011-06-15)
// as Perimeter serves it at `POST /`, so the unmodified AWS SDKs (checked against
// @aws-sdk/client-sts v3) can call AssumeRole and GetCallerIdentity. Pure functions: no I/O, no
// clock, no globals; every function is thread-safe and never throws.
//
// Requests arrive as an application/x-www-form-urlencoded body, e.g. (exactly as the JS SDK
// v3.1174 sends it; it does not add a charset to the Content-Type):
//   Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdemo
//   &RoleSessionName=s1&DurationSeconds=3600&Tags.member.1.Key=tenant&Tags.member.1.Value=acme
//   &TransitiveTagKeys.member.1=tenant
// An empty list is sent as the bare list name with an empty value ("Tags=&TransitiveTagKeys=").
//
// Responses are XML documents in the STS namespace, sent with Content-Type text/xml:
//   <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
//   <Credentials>...</Credentials>...</AssumeRoleResult><ResponseMetadata><RequestId>...
// Errors use the Query error shape; the SDK takes the error name from Error/Code:
//   <ErrorResponse xmlns="..."><Error><Type>Sender</Type><Code>AccessDenied</Code>
//   <Message>...</Message></Error><RequestId>...</RequestId></ErrorResponse>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace perimeter::iam {

inline constexpr std::string_view kStsApiVersion = "2011-06-15";
inline constexpr std::string_view kStsXmlNamespace = "https://sts.amazonaws.com/doc/2011-06-15/";
// The Content-Type of every body produced by the Encode* functions below.
inline constexpr std::string_view kStsResponseContentType = "text/xml";
// Bounds applied by ParseStsRequest before any other work.
inline constexpr size_t kMaxStsBodyBytes = 64 * 1024;
inline constexpr size_t kMaxStsParameters = 200;

struct StsTag {
  std::string key;
  std::string value;
};

// AssumeRole's parameters after validation. Empty strings mean "not sent" (STS rejects an empty
// value for every one of these that may be sent at all, so the two cannot be confused).
struct AssumeRoleParams {
  std::string role_arn;                     // 20..2048 characters; not checked to be an ARN here
  std::string role_session_name;            // 2..64 of [\w+=,.@-]
  std::optional<int64_t> duration_seconds;  // 900..43200; the role's own maximum is the caller's
  std::string policy;                       // inline session policy JSON text, 1..2048 characters
  std::vector<StsTag> tags;  // in Tags.member.N order; keys unique ignoring ASCII case
  std::vector<std::string> transitive_tag_keys;  // in order; not checked against `tags` here
  std::string source_identity;                   // 2..64 of [\w+=,.@-]
  std::string external_id;                       // 2..1224 of [\w+=,.@:/-]
};

enum class StsAction { kAssumeRole, kGetCallerIdentity };
std::string_view StsActionName(StsAction action);  // "AssumeRole" / "GetCallerIdentity"

struct StsRequest {
  StsAction action = StsAction::kGetCallerIdentity;
  AssumeRoleParams assume_role;  // only for kAssumeRole
};

// An STS error as it goes on the wire. `code` is the Query error code the SDKs dispatch on (the
// JS SDK names its exception after it); `sender` selects <Type>Sender</Type> (the caller's fault)
// or <Type>Receiver</Type> (ours). Build them with MakeStsError so status and type match AWS.
struct StsError {
  int http_status = 400;
  std::string code;
  std::string message;
  bool sender = true;
};

// The error codes Perimeter sends from its STS endpoint, with the HTTP status and type AWS uses.
// Note the two expired-token codes: ExpiredToken (403) is the common error for a request signed
// with an expired session token; ExpiredTokenException (400) is STS's own modelled error.
enum class StsErrorCode {
  kAccessDenied,                // 403
  kExpiredToken,                // 403
  kExpiredTokenException,       // 400
  kIncompleteSignature,         // 400
  kInternalFailure,             // 500, Receiver
  kInvalidAction,               // 400
  kInvalidClientTokenId,        // 403
  kInvalidParameterValue,       // 400
  kMalformedPolicyDocument,     // 400
  kMalformedQueryString,        // 400 (AWS documents 404; see sts_protocol.cc)
  kMissingAction,               // 400
  kMissingAuthenticationToken,  // 403
  kMissingParameter,            // 400
  kPackedPolicyTooLarge,        // 400
  kRegionDisabledException,     // 403
  kRequestExpired,              // 400
  kServiceUnavailable,          // 503, Receiver
  kSignatureDoesNotMatch,       // 403
  kThrottling,                  // 400
  kValidationError,             // 400
};
std::string_view StsErrorCodeName(StsErrorCode code);  // the wire code, e.g. "AccessDenied"
StsError MakeStsError(StsErrorCode code, std::string message);

// Parses and validates an STS Query request body. Never throws; on failure returns an StsError
// whose message says what was wrong and what to send instead. In order:
//  - A body over kMaxStsBodyBytes: MalformedQueryString with HTTP 413.
//  - Form syntax: '&'-separated name=value pairs; '+' decodes to a space and %XX to a byte;
//    empty segments ("a=1&&b=2", a trailing '&') are skipped as browsers do; a segment without
//    '=' is a name with an empty value. A bad or truncated escape, an empty name, a name or
//    value that is not UTF-8 after decoding, a repeated name, or more than kMaxStsParameters
//    pairs: MalformedQueryString. Names are case-sensitive.
//  - No Action: MissingAction. No Version: MissingParameter. A Version other than 2011-06-15 or
//    an Action other than AssumeRole / GetCallerIdentity: InvalidAction.
//  - Parameters Perimeter does not implement are refused, never ignored (InvalidParameterValue
//    naming the parameter): ignoring PolicyArns or ProvidedContexts would hand out a session
//    broader than the caller asked for, and ignoring SerialNumber/TokenCode would drop an MFA
//    assertion silently. This covers unknown names and GetCallerIdentity with any parameter.
//    Only the empty-list forms "PolicyArns=" and "ProvidedContexts=" are accepted (no-ops).
//  - List members must be numbered 1, 2, ... without gaps or leading zeros, and "Tags=" (empty
//    list) may not be combined with members: MalformedQueryString otherwise.
//  - Model constraints (lengths, patterns, ranges, required members, at most 50 tags and 50
//    transitive keys): one ValidationError listing every violation in AWS's wording, e.g.
//    "1 validation error detected: Value 'a b' at 'roleSessionName' failed to satisfy
//    constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*". Lengths count
//    UTF-16 code units as AWS (Java) does. Values are echoed, truncated to 256 characters, with
//    control characters shown as \xNN.
//  - DurationSeconds that is not a 32-bit integer: InvalidParameterValue.
//  - Two tag keys equal ignoring ASCII case: InvalidParameterValue.
// Tag keys and values are checked against [\p{L}\p{Z}\p{N}_.:/=+\-@] exactly for code points
// below U+0100; above that, code points are accepted except General Punctuation that is not a
// space, private use, and U+FFF0..U+FFFF (an approximation: there are no Unicode tables here).
std::variant<StsRequest, StsError> ParseStsRequest(std::string_view form_body);

struct AssumeRoleResult {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::chrono::system_clock::time_point expiration;  // sent as UTC "YYYY-MM-DDTHH:MM:SSZ"
  std::string assumed_role_id;                       // AROA...:<session name>
  std::string assumed_role_arn;  // arn:aws:sts::<account>:assumed-role/<role>/<session name>
  std::optional<int> packed_policy_size;  // percent; omitted when empty
  std::string source_identity;            // omitted when empty
};

// The Encode* functions produce the complete response body (send it with
// kStsResponseContentType). All text is XML-escaped (& < > " ' and CR); bytes that are not valid
// UTF-8 and characters XML 1.0 forbids (control characters other than TAB and LF, U+FFFE,
// U+FFFF) become U+FFFD, so the body is well-formed XML whatever the inputs.
std::string EncodeAssumeRoleResponse(const AssumeRoleResult& result, std::string_view request_id);
std::string EncodeGetCallerIdentityResponse(std::string_view user_id, std::string_view account,
                                            std::string_view arn, std::string_view request_id);
std::string EncodeStsError(const StsError& error, std::string_view request_id);

// "2026-11-27T10:00:00Z": UTC, whole seconds (sub-second parts are truncated), the form STS
// sends and the SDKs parse as Credentials.Expiration.
std::string FormatStsTimestamp(std::chrono::system_clock::time_point t);

}  // namespace perimeter::iam
