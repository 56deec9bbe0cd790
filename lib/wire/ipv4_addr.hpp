// Ipv4Addr: an IPv4 address held in host byte order, with dotted-quad parsing and
// printing (RFC 791 §3.2 addressing; the textual form is the RFC 1123 §2.1 dotted-decimal
// one, without the historical octal/hex forms of inet_aton).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::wire {

struct Ipv4Addr {
  std::uint32_t value = 0;  ///< host order: 10.0.0.1 is 0x0a000001

  static constexpr Ipv4Addr from_octets(std::uint8_t a, std::uint8_t b, std::uint8_t c,
                                        std::uint8_t d) noexcept {
    return Ipv4Addr{(std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) |
                    std::uint32_t{d}};
  }

  /// Parses exactly "a.b.c.d", each a decimal 0..255 without sign or leading zero.
  static std::optional<Ipv4Addr> parse(std::string_view dotted) noexcept;

  /// "a.b.c.d" (allocates: not for the data path).
  [[nodiscard]] std::string to_string() const;

  [[nodiscard]] constexpr bool is_unspecified() const noexcept { return value == 0; }
  [[nodiscard]] constexpr bool is_broadcast() const noexcept { return value == 0xffffffffU; }
  [[nodiscard]] constexpr bool is_multicast() const noexcept {
    return (value >> 28) == 0xe;  // 224.0.0.0/4, RFC 5771
  }
  [[nodiscard]] constexpr bool is_loopback() const noexcept { return (value >> 24) == 127; }

  constexpr auto operator<=>(const Ipv4Addr&) const noexcept = default;
};

}  // namespace sluice::wire
