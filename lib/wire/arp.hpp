// ARP for IPv4 over Ethernet (RFC 826; hardware type 1 per the IANA registry, protocol
// type 0x0800, hlen 6, plen 4). Other hardware/protocol combinations are refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/ipv4_addr.hpp"
#include "wire/mac_addr.hpp"
#include "wire/parse_error.hpp"
#include "wire/result.hpp"

namespace sluice::wire {

struct ArpPacket {
  static constexpr std::size_t kSize = 28;
  static constexpr std::uint16_t kHardwareEthernet = 1;
  static constexpr std::uint16_t kOpRequest = 1;
  static constexpr std::uint16_t kOpReply = 2;

  std::uint16_t op = kOpRequest;
  MacAddr sha;   ///< sender hardware address
  Ipv4Addr spa;  ///< sender protocol address
  MacAddr tha;   ///< target hardware address (zero in a request)
  Ipv4Addr tpa;  ///< target protocol address

  /// Parses the ARP body (after the Ethernet header); bytes past 28 (padding) ignored.
  /// Errors: ArpTooShort, ArpBadHardware, ArpBadProtocol, ArpBadAddressLength,
  /// ArpBadOperation (op not 1 or 2).
  static Result<ArpPacket, ParseError> parse(std::span<const std::uint8_t> l3) noexcept;

  /// Writes 28 bytes; returns 28, or 0 if out is too small.
  std::size_t emit(std::span<std::uint8_t> out) const noexcept;

  [[nodiscard]] bool is_request() const noexcept { return op == kOpRequest; }
  [[nodiscard]] bool is_reply() const noexcept { return op == kOpReply; }
};

}  // namespace sluice::wire
