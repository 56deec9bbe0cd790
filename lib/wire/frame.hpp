// Whole-frame parsing (Ethernet -> ARP | IPv4 -> TCP/ICMP/UDP) with every check of the
// layers below, and frame builders for TCP, ARP and ICMP echo.
//
// IPv4 fragments (RFC 791 §2.3) are not reassembled: the IPv4 header is parsed and
// verified, the frame is reported as FrameKind::Ipv4Other with ip.is_fragment() true and
// nothing above IP is parsed (a first fragment's L4 checksum cannot be verified). The
// engine counts and drops them. UDP (RFC 768) is checked for its 8-byte header and length
// only; its checksum is not verified. IPv6 is recognised (kind Ipv6), not parsed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmp.hpp"
#include "wire/ipv4.hpp"
#include "wire/parse_error.hpp"
#include "wire/result.hpp"
#include "wire/tcp.hpp"

namespace sluice::wire {

struct ParseOptions {
  bool verify_ipv4_checksum = true;  ///< false when the NIC verified it (RX offload)
  bool verify_l4_checksum = true;    ///< TCP and ICMP
  /// The whole packet's length when `frame` is only its first part (a chained mbuf, e.g.
  /// a large receive-offload aggregate); 0: `frame` is all of it. A split packet is
  /// parsed up to its TCP header, which must lie in `frame` (else TcpHeaderTruncated);
  /// its TCP checksum is left to the caller, who holds the rest of it. Anything but TCP
  /// is reported as Ipv4Other.
  std::size_t packet_len = 0;
};

enum class FrameKind : std::uint8_t { Arp, Ipv4Tcp, Ipv4Icmp, Ipv4Udp, Ipv4Other, Ipv6 };

/// What parse_frame found. Only the members of the reported kind are meaningful; the
/// offsets are from the start of the frame. For TCP, ICMP and UDP, the payload is
/// bounded by the IPv4 total length (Ethernet padding excluded). For ARP, IPv6 and other
/// IPv4 the payload is what follows the last parsed header.
struct ParsedFrame {
  FrameKind kind = FrameKind::Ipv4Other;
  EthernetHeader eth;
  ArpPacket arp;
  Ipv4Header ip;
  TcpHeader tcp;
  IcmpEcho icmp;  ///< icmp.payload views into the parsed frame
  std::uint16_t l3_offset = 0;
  std::uint16_t l4_offset = 0;
  std::uint16_t payload_offset = 0;
  std::uint16_t payload_len = 0;

  [[nodiscard]] bool is_ipv4_fragment() const noexcept {
    return kind == FrameKind::Ipv4Other && ip.is_fragment();
  }
};

/// Parses and validates a frame of any length (offsets are 16-bit: a frame is at most
/// 64 KiB + 18; offsets saturate at 0xffff beyond that). Never reads out of bounds.
Result<ParsedFrame, ParseError> parse_frame(std::span<const std::uint8_t> frame,
                                            const ParseOptions& opts = {}) noexcept;

/// As parse_frame, into a caller-owned ParsedFrame (no copy of the ~250-byte result);
/// the form for the RX hot path. On error `out` holds unspecified field values.
Result<void, ParseError> parse_frame_into(std::span<const std::uint8_t> frame, ParsedFrame& out,
                                          const ParseOptions& opts = {}) noexcept;

/// parse_frame_into without its fast path: layer by layer, each header's own parser. The
/// reference parse_frame_into must agree with, for every input (tests compare them).
Result<void, ParseError> parse_frame_into_general(std::span<const std::uint8_t> frame,
                                                  ParsedFrame& out,
                                                  const ParseOptions& opts = {}) noexcept;

/// parse_frame_into's fast path, in one straight line: untagged Ethernet, IPv4 with IHL 5,
/// not a fragment, TCP whose header lies in the datagram, options that parse, every asked
/// checksum good, the packet all in `frame`. True: `out` holds exactly what
/// parse_frame_into_general gives and it succeeded. False: the frame is anything else (or
/// a bad one); `out` may be partly written and parse_frame_into_general must decide.
bool parse_ipv4_tcp_fast(std::span<const std::uint8_t> frame, ParsedFrame& out,
                         const ParseOptions& opts = {}) noexcept;

/// Builds Ethernet + IPv4 (20 bytes) + TCP + payload. Overrides: eth.ethertype = IPv4,
/// ip.protocol = TCP, ip.header_len = 20, ip.total_len, the IPv4 checksum, tcp.header_len
/// and the TCP checksum. Returns the frame length, or 0 if out is too small or the
/// datagram would exceed 65535 bytes. payload may not overlap out.
std::size_t build_tcp_frame(std::span<std::uint8_t> out, const EthernetHeader& eth, Ipv4Header ip,
                            TcpHeader tcp, std::span<const std::uint8_t> payload) noexcept;

/// Builds Ethernet + ARP (no padding to 60 bytes: the NIC pads). eth.ethertype = ARP.
std::size_t build_arp_frame(std::span<std::uint8_t> out, const EthernetHeader& eth,
                            const ArpPacket& arp) noexcept;

/// Builds Ethernet + IPv4 (20 bytes) + ICMP (header + icmp.payload) with both checksums.
std::size_t build_icmp_echo_frame(std::span<std::uint8_t> out, const EthernetHeader& eth,
                                  Ipv4Header ip, const IcmpEcho& icmp) noexcept;

}  // namespace sluice::wire
