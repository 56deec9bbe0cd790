// The TCP header (RFC 9293 §3.1) and its checksum over the IPv4 pseudo-header
// (RFC 9293 §3.1 "Checksum"). Options are in tcp_options.hpp.
//
// Flags: the 8 bits of byte 13 (CWR ECE URG ACK PSH RST SYN FIN; RFC 3168 §6.1 adds
// ECE/CWR). The former NS bit (RFC 3540, historic per RFC 8311) is not kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/ipv4_addr.hpp"
#include "wire/parse_error.hpp"
#include "wire/result.hpp"
#include "wire/seq.hpp"
#include "wire/tcp_options.hpp"

namespace sluice::wire {

/// TCP flag bits, usable as `h.flags & TcpFlag::Syn`.
namespace TcpFlag {
inline constexpr std::uint8_t Fin = 0x01;
inline constexpr std::uint8_t Syn = 0x02;
inline constexpr std::uint8_t Rst = 0x04;
inline constexpr std::uint8_t Psh = 0x08;
inline constexpr std::uint8_t Ack = 0x10;
inline constexpr std::uint8_t Urg = 0x20;
inline constexpr std::uint8_t Ece = 0x40;
inline constexpr std::uint8_t Cwr = 0x80;
}  // namespace TcpFlag

struct TcpHeader {
  static constexpr std::size_t kMinSize = 20;
  static constexpr std::size_t kMaxSize = 60;

  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
  Seq seq;
  Seq ack;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;    ///< unscaled, as on the wire
  std::uint16_t checksum = 0;  ///< as received (parse); written as is by emit
  std::uint16_t urgent = 0;
  std::uint8_t header_len = kMinSize;  ///< bytes (data offset * 4); parse sets it
  TcpOptions options;

  /// Parses the header and options at the start of segment (the IPv4 payload). Does NOT
  /// verify the checksum (that needs the pseudo-header: see tcp_checksum_ok).
  /// Errors: TcpTooShort, TcpBadDataOffset (< 5), TcpHeaderTruncated, TcpOption*.
  static Result<TcpHeader, ParseError> parse(std::span<const std::uint8_t> segment) noexcept;
  /// As parse, into `out` without copying the result; the hot-path form. On error `out`
  /// holds unspecified field values.
  static Result<void, ParseError> parse_into(std::span<const std::uint8_t> segment,
                                             TcpHeader& out) noexcept;

  [[nodiscard]] bool has(std::uint8_t flag) const noexcept { return (flags & flag) != 0; }

  /// Header bytes emit() writes: 20 + options.emit_len() (header_len is not consulted).
  [[nodiscard]] std::size_t emit_len() const noexcept { return kMinSize + options.emit_len(); }
  /// Writes header + options, data offset from emit_len(), checksum field = `checksum`
  /// (patch it with tcp_checksum afterwards). Returns emit_len(), or 0 if out is too small.
  std::size_t emit(std::span<std::uint8_t> out) const noexcept;
};

/// The checksum to store in segment's checksum field: computed over the pseudo-header and
/// the whole segment (header, options, payload) with bytes 16..17 taken as zero whatever
/// they hold. Precondition: segment.size() >= 18 and <= 65535.
std::uint16_t tcp_checksum(Ipv4Addr src, Ipv4Addr dst,
                           std::span<const std::uint8_t> segment) noexcept;

/// True iff the segment's checksum field verifies (RFC 9293 §3.1).
bool tcp_checksum_ok(Ipv4Addr src, Ipv4Addr dst, std::span<const std::uint8_t> segment) noexcept;

}  // namespace sluice::wire
