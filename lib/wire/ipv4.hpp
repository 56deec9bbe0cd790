// The IPv4 header (RFC 791 §3.1): parse with every length check, emit with checksum.
//
// parse() validates version 4, IHL >= 5, IHL*4 <= bytes available, total length >= IHL*4,
// total length <= bytes available (Ethernet padding after the datagram, RFC 894, is
// allowed and ignored) and, unless told not to, the header checksum (RFC 791 §3.1,
// RFC 1071). Options (IHL > 5) are skipped, not interpreted (RFC 1122 §3.2.1.8 lets a
// host ignore the ones it does not implement); emit() never writes options.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/ipv4_addr.hpp"
#include "wire/parse_error.hpp"
#include "wire/result.hpp"

namespace sluice::wire {

/// IP protocol numbers (IANA) used by lib/wire.
namespace IpProto {
inline constexpr std::uint8_t Icmp = 1;
inline constexpr std::uint8_t Tcp = 6;
inline constexpr std::uint8_t Udp = 17;
}  // namespace IpProto

struct Ipv4Header {
  static constexpr std::size_t kMinSize = 20;
  static constexpr std::size_t kMaxSize = 60;

  std::uint8_t tos = 0;         ///< DSCP(6) + ECN(2), RFC 2474 / RFC 3168
  std::uint16_t total_len = 0;  ///< header + payload, bytes
  std::uint16_t id = 0;
  bool df = false;                ///< don't fragment
  bool mf = false;                ///< more fragments
  std::uint16_t frag_offset = 0;  ///< in 8-byte units (13 bits)
  std::uint8_t ttl = 64;
  std::uint8_t protocol = 0;
  std::uint16_t checksum = 0;  ///< as received (parse); ignored by emit
  Ipv4Addr src;
  Ipv4Addr dst;
  std::uint8_t header_len = kMinSize;  ///< bytes, 20..60 (IHL*4)

  /// Parses the header at the start of l3 (everything after the Ethernet header).
  /// `datagram_room`: the bytes the datagram may occupy when l3 is only the first part of
  /// it (the first segment of a chained mbuf); 0 means l3.size().
  static Result<Ipv4Header, ParseError> parse(std::span<const std::uint8_t> l3,
                                              bool verify_checksum = true,
                                              std::size_t datagram_room = 0) noexcept;

  /// Part of a fragmented datagram: MF set or a non-zero offset (RFC 791 §2.3).
  [[nodiscard]] bool is_fragment() const noexcept { return mf || frag_offset != 0; }
  [[nodiscard]] bool has_options() const noexcept { return header_len > kMinSize; }
  /// Bytes after the header, per total_len. Precondition: total_len >= header_len.
  [[nodiscard]] std::size_t payload_len() const noexcept {
    return static_cast<std::size_t>(total_len) - header_len;
  }

  /// Writes a 20-byte header (IHL 5, no options, whatever header_len says) from the
  /// fields above with a freshly computed checksum. Returns 20, or 0 if out is too small.
  std::size_t emit(std::span<std::uint8_t> out) const noexcept;
};

}  // namespace sluice::wire
