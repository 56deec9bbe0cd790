// MacAddr: a 48-bit IEEE 802 MAC address (IEEE 802-2014 §8.2: the I/G bit, bit 0 of the
// first octet, marks group addresses; all-ones is broadcast).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::wire {

struct MacAddr {
  std::array<std::uint8_t, 6> bytes{};

  static const MacAddr kBroadcast;
  static const MacAddr kZero;

  [[nodiscard]] constexpr bool is_broadcast() const noexcept {
    for (auto b : bytes) {
      if (b != 0xff) return false;
    }
    return true;
  }
  /// Group address (multicast or broadcast): the I/G bit is set.
  [[nodiscard]] constexpr bool is_multicast() const noexcept { return (bytes[0] & 0x01) != 0; }
  [[nodiscard]] constexpr bool is_unicast() const noexcept { return !is_multicast(); }
  [[nodiscard]] constexpr bool is_zero() const noexcept {
    for (auto b : bytes) {
      if (b != 0) return false;
    }
    return true;
  }

  /// Parses "aa:bb:cc:dd:ee:ff" (hex digits of either case; ':' or '-').
  static std::optional<MacAddr> parse(std::string_view text) noexcept;
  /// "aa:bb:cc:dd:ee:ff", lower case (allocates: not for the data path).
  [[nodiscard]] std::string to_string() const;

  constexpr auto operator<=>(const MacAddr&) const noexcept = default;
};

inline constexpr MacAddr MacAddr::kBroadcast{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
inline constexpr MacAddr MacAddr::kZero{};

}  // namespace sluice::wire
