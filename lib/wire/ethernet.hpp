// Ethernet II framing (IEEE 802.3 §3.2.6 type field, RFC 894 for IPv4 over Ethernet) with
// at most one IEEE 802.1Q VLAN tag (TPID 0x8100, then the 16-bit TCI). The FCS is not
// part of what we see: NICs strip it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "wire/mac_addr.hpp"
#include "wire/parse_error.hpp"
#include "wire/result.hpp"

namespace sluice::wire {

enum class EtherType : std::uint16_t {
  Ipv4 = 0x0800,
  Arp = 0x0806,
  Vlan = 0x8100,
  Ipv6 = 0x86DD,
};

constexpr std::uint16_t to_u16(EtherType t) noexcept {
  return static_cast<std::uint16_t>(t);
}

struct EthernetHeader {
  static constexpr std::size_t kSize = 14;        ///< untagged header
  static constexpr std::size_t kVlanTagSize = 4;  ///< TPID + TCI

  MacAddr dst;
  MacAddr src;
  std::uint16_t ethertype = 0;            ///< inner type (after the VLAN tag, if any)
  std::optional<std::uint16_t> vlan_tci;  ///< PCP(3) DEI(1) VID(12), if tagged

  /// Parses the header at the start of frame. Errors: FrameTooShort (< 14 bytes),
  /// EthernetVlanTruncated (TPID 0x8100 with fewer than 18 bytes).
  static Result<EthernetHeader, ParseError> parse(std::span<const std::uint8_t> frame) noexcept;

  /// 14, or 18 with a VLAN tag.
  [[nodiscard]] std::size_t header_len() const noexcept {
    return vlan_tci ? kSize + kVlanTagSize : kSize;
  }
  [[nodiscard]] bool is(EtherType t) const noexcept { return ethertype == to_u16(t); }

  /// Writes header_len() bytes; returns them, or 0 if out is too small.
  std::size_t emit(std::span<std::uint8_t> out) const noexcept;
};

}  // namespace sluice::wire
