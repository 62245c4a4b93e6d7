#pragma once

// Strict JSON checks that Boost.JSON's parser does not make.
//
// Boost.JSON keeps the last of duplicate object keys, so {"Effect":"Deny","Effect":"Allow"}
// would read as Allow. Documents that decide access (policies) must be unambiguous: a
// duplicate key anywhere is an error naming the key and its object path.

#include <string_view>

#include "common/status.h"

namespace perimeter {

// InvalidArgument when any object in `json` repeats a key (or when `json` is not valid JSON).
// Pure; safe from any thread.
Status CheckNoDuplicateJsonKeys(std::string_view json);

}  // namespace perimeter
