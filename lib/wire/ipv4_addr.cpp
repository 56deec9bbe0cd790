// Ipv4Addr dotted-quad parsing and printing (see ipv4_addr.hpp).
#include "wire/ipv4_addr.hpp"

#include <array>
#include <charconv>

namespace sluice::wire {

std::optional<Ipv4Addr> Ipv4Addr::parse(std::string_view dotted) noexcept {
  std::uint32_t value = 0;
  std::size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= dotted.size() || dotted[pos] != '.') return std::nullopt;
      ++pos;
    }
    std::size_t digits = 0;
    std::uint32_t octet = 0;
    while (pos < dotted.size() && dotted[pos] >= '0' && dotted[pos] <= '9' && digits < 4) {
      octet = octet * 10 + static_cast<std::uint32_t>(dotted[pos] - '0');
      ++pos;
      ++digits;
    }
    if (digits == 0 || digits > 3 || octet > 255) return std::nullopt;
    if (digits > 1 && dotted[pos - digits] == '0') return std::nullopt;  // no octal look-alikes
    value = (value << 8) | octet;
  }
  if (pos != dotted.size()) return std::nullopt;
  return Ipv4Addr{value};
}

std::string Ipv4Addr::to_string() const {
  std::array<char, 16> buf{};
  char* p = buf.data();
  char* const end = buf.data() + buf.size();
  for (int i = 3; i >= 0; --i) {
    const auto octet = static_cast<unsigned>((value >> (8 * i)) & 0xffU);
    p = std::to_chars(p, end, octet).ptr;
    if (i > 0 && p != end) *p++ = '.';
  }
  return std::string(buf.data(), p);
}

}  // namespace sluice::wire
