#include "common/cidr.h"

#include <arpa/inet.h>

#include <charconv>

namespace perimeter {

Result<IpAddress> IpAddress::Parse(std::string_view text) {
  std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.v4 = true;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(kMapped, kMapped + 12, a.bytes.begin())) {
      IpAddress v4;
      v4.v4 = true;
      std::copy(a.bytes.begin() + 12, a.bytes.end(), v4.bytes.begin());
      return v4;
    }
    return a;
  }
  return InvalidArgument("'" + s + "' is not an IPv4 or IPv6 address");
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof(buf));
  return buf;
}

Result<Cidr> Cidr::Parse(std::string_view text) {
  Cidr c;
  c.text_ = std::string(text);
  auto slash = text.find('/');
  auto addr = IpAddress::Parse(text.substr(0, slash));
  if (!addr.ok()) {
    return InvalidArgument("'" + c.text_ +
                           "' is not a CIDR block; write e.g. 10.0.0.0/8 or fd00::/8");
  }
  c.base_ = *addr;
  const int max = c.base_.v4 ? 32 : 128;
  c.prefix_ = max;
  if (slash != std::string_view::npos) {
    auto p = text.substr(slash + 1);
    int v = -1;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (ec != std::errc() || ptr != p.data() + p.size() || v < 0 || v > max) {
      return InvalidArgument("'" + c.text_ + "' has a bad prefix length; it must be 0-" +
                             std::to_string(max));
    }
    c.prefix_ = v;
  }
  // Host bits must be zero, so that "10.1.2.3/8" is not silently read as 10.0.0.0/8.
  for (int bit = c.prefix_; bit < max; ++bit) {
    if (c.base_.bytes[bit / 8] & (0x80 >> (bit % 8))) {
      return InvalidArgument(
          "'" + c.text_ +
          "' has host bits set after the prefix; did you mean the network address?");
    }
  }
  return c;
}

bool Cidr::Contains(const IpAddress& addr) const {
  if (addr.v4 != base_.v4) return false;
  for (int bit = 0; bit < prefix_; ++bit) {
    const uint8_t mask = static_cast<uint8_t>(0x80 >> (bit % 8));
    if ((addr.bytes[bit / 8] & mask) != (base_.bytes[bit / 8] & mask)) return false;
  }
  return true;
}

}  // namespace perimeter
