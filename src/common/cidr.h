#pragma once

// IPv4/IPv6 CIDR blocks, for listener source allowlists (and later aws:SourceIp conditions).
// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches IPv4 blocks, as a dual-stack socket
// reports IPv4 peers that way.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace perimeter {

struct IpAddress {
  bool v4 = false;
  std::array<uint8_t, 16> bytes{};  // v4 uses the first 4
  static Result<IpAddress> Parse(std::string_view text);
  std::string ToString() const;
};

class Cidr {
 public:
  // "10.0.0.0/8", "::1/128", or a bare address (a /32 or /128 block).
  static Result<Cidr> Parse(std::string_view text);
  bool Contains(const IpAddress& addr) const;
  const std::string& text() const { return text_; }

 private:
  IpAddress base_;
  int prefix_ = 0;
  std::string text_;
};

}  // namespace perimeter
