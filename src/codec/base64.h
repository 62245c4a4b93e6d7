#pragma once

// Base64 with the standard alphabet (RFC 4648 section 4: A-Z a-z 0-9 + /) and '=' padding.
// Bedrock's streaming `chunk` events carry the model's bytes as {"bytes":"<base64>"}.

#include <string>
#include <string_view>

#include "common/status.h"

namespace perimeter::codec {

// Returns the padded Base64 encoding of `data` (length 4 * ceil(n / 3)).
std::string Base64Encode(std::string_view data);

// Strict decoding: accepts exactly the strings Base64Encode produces. Rejected with
// InvalidArgument (the message names the offending offset): a length that is not a multiple of 4,
// any character outside the alphabet (including whitespace, line breaks and the URL-safe '-' '_'),
// '=' anywhere but the last one or two positions, and non-zero unused bits before the padding
// (so every byte string has exactly one accepted encoding). The empty string decodes to empty.
Result<std::string> Base64Decode(std::string_view encoded);

}  // namespace perimeter::codec
