// MacAddr: a 48-bit IEEE 802 MAC address (IEEE 802-2014 §8.2: the I/G bit, bit 0 of the
// first octet, marks group addresses; all-ones is broadcast).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace sluice::wire {

struct MacAddr {
  std::array<std::uint8_t, 6> bytes{};

  static const MacAddr kBroadcast;
  static const MacAddr kZero;

  [[nodiscard]] constexpr bool is_broadcast() const noexcept { return *this == kBroadcast; }
  /// Group address (multicast or broadcast): the I/G bit is set.
  [[nodiscard]] constexpr bool is_multicast() const noexcept { return (bytes[0] & 0x01) != 0; }
  [[nodiscard]] constexpr bool is_unicast() const noexcept { return !is_multicast(); }
  [[nodiscard]] constexpr bool is_zero() const noexcept { return *this == kZero; }

  /// Parses "aa:bb:cc:dd:ee:ff" (hex digits of either case; ':' or '-').
  static std::optional<MacAddr> parse(std::string_view text) noexcept;
  /// "aa:bb:cc:dd:ee:ff", lower case (allocates: not for the data path).
  [[nodiscard]] std::string to_string() const;

  /// Two loads and a compare per side (every received frame's destination is checked): the
  /// defaulted comparison of the byte array is a call to memcmp.
  friend constexpr bool operator==(const MacAddr& a, const MacAddr& b) noexcept {
    if (std::is_constant_evaluated()) return a.bytes == b.bytes;
    std::uint32_t a4 = 0;
    std::uint32_t b4 = 0;
    std::uint16_t a2 = 0;
    std::uint16_t b2 = 0;
    std::memcpy(&a4, a.bytes.data(), 4);
    std::memcpy(&b4, b.bytes.data(), 4);
    std::memcpy(&a2, a.bytes.data() + 4, 2);
    std::memcpy(&b2, b.bytes.data() + 4, 2);
    return ((a4 ^ b4) | static_cast<std::uint32_t>(a2 ^ b2)) == 0;
  }
  constexpr auto operator<=>(const MacAddr&) const noexcept = default;
};

inline constexpr MacAddr MacAddr::kBroadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
inline constexpr MacAddr MacAddr::kZero{};

}  // namespace sluice::wire
