#pragma once

// Comparison of secrets (MACs, signatures, API key hashes) whose running time does not depend on
// where the inputs first differ, so an attacker cannot learn a correct value byte by byte.

#include <string_view>

namespace perimeter::crypto {

// True iff a and b have the same length and the same bytes. The running time depends only on
// a.size(): pass the value the server computed (whose length is public, e.g. 64 hex characters)
// as `a` and the attacker-supplied value as `b`. Lengths that differ return false, but only after
// a full-length comparison pass, so a length mismatch is not a faster path either.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace perimeter::crypto
