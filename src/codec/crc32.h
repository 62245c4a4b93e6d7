#pragma once

// CRC-32 as used by zlib, PNG, Ethernet and the AWS event stream framing: reflected polynomial
// 0xEDB88320, initial value and final XOR 0xFFFFFFFF. Crc32("123456789") == 0xCBF43926.

#include <cstdint>
#include <string_view>

namespace perimeter::codec {

// Returns the CRC-32 of `data`. To checksum data that arrives in pieces, pass the previous result
// as `crc`: Crc32(b, Crc32(a)) == Crc32(a + b), exactly like zlib's crc32(). Thread-safe.
uint32_t Crc32(std::string_view data, uint32_t crc = 0);

}  // namespace perimeter::codec
