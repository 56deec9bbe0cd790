// ParseError: every reason lib/wire refuses a frame, one enumerator per check, so the
// engine keeps one drop counter per reason (STYLE.md, "Errors"). The checks themselves
// cite their RFC sections where they are made (ethernet.cpp, arp.cpp, ipv4.cpp, ...).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice::wire {

enum class ParseError : std::uint8_t {
  FrameTooShort,               ///< fewer than 14 bytes: no Ethernet header
  EthernetVlanTruncated,       ///< 802.1Q TPID present but the tag or inner type is cut
  UnsupportedEtherType,        ///< not ARP, IPv4, IPv6 (or a second VLAN tag)
  ArpTooShort,                 ///< fewer than 28 bytes of ARP
  ArpBadHardware,              ///< hardware type is not Ethernet (1)
  ArpBadProtocol,              ///< protocol type is not IPv4 (0x0800)
  ArpBadAddressLength,         ///< hlen != 6 or plen != 4
  ArpBadOperation,             ///< op is neither request (1) nor reply (2)
  Ipv4TooShort,                ///< fewer than 20 bytes of IPv4
  Ipv4BadVersion,              ///< version field is not 4
  Ipv4BadIhl,                  ///< IHL < 5
  Ipv4HeaderTruncated,         ///< IHL*4 is more than the bytes available
  Ipv4TotalLengthTooShort,     ///< total length < IHL*4
  Ipv4TotalLengthBeyondFrame,  ///< total length > the bytes available
  Ipv4BadChecksum,             ///< header checksum does not verify
  TcpTooShort,                 ///< fewer than 20 bytes of TCP
  TcpBadDataOffset,            ///< data offset < 5
  TcpHeaderTruncated,          ///< data offset * 4 is more than the segment
  TcpOptionTruncated,          ///< an option's kind/length/body runs past the header
  TcpOptionBadLength,          ///< length < 2, or wrong for a known option kind
  TcpBadChecksum,              ///< TCP checksum (with pseudo-header) does not verify
  UdpTooShort,                 ///< fewer than 8 bytes of UDP
  UdpBadLength,                ///< UDP length < 8 or beyond the IP payload
  IcmpTooShort,                ///< fewer than 8 bytes of ICMP
  IcmpBadChecksum,             ///< ICMP checksum does not verify
  Count,                       ///< not an error: the number of reasons
};

/// Number of distinct reasons: size of a per-reason counter array.
inline constexpr std::size_t kParseErrorCount = static_cast<std::size_t>(ParseError::Count);

/// Stable lower-case name of a reason, for counters and logs.
constexpr std::string_view to_string(ParseError e) noexcept {
  switch (e) {
    case ParseError::FrameTooShort: return "frame_too_short";
    case ParseError::EthernetVlanTruncated: return "ethernet_vlan_truncated";
    case ParseError::UnsupportedEtherType: return "unsupported_ethertype";
    case ParseError::ArpTooShort: return "arp_too_short";
    case ParseError::ArpBadHardware: return "arp_bad_hardware";
    case ParseError::ArpBadProtocol: return "arp_bad_protocol";
    case ParseError::ArpBadAddressLength: return "arp_bad_address_length";
    case ParseError::ArpBadOperation: return "arp_bad_operation";
    case ParseError::Ipv4TooShort: return "ipv4_too_short";
    case ParseError::Ipv4BadVersion: return "ipv4_bad_version";
    case ParseError::Ipv4BadIhl: return "ipv4_bad_ihl";
    case ParseError::Ipv4HeaderTruncated: return "ipv4_header_truncated";
    case ParseError::Ipv4TotalLengthTooShort: return "ipv4_total_length_too_short";
    case ParseError::Ipv4TotalLengthBeyondFrame: return "ipv4_total_length_beyond_frame";
    case ParseError::Ipv4BadChecksum: return "ipv4_bad_checksum";
    case ParseError::TcpTooShort: return "tcp_too_short";
    case ParseError::TcpBadDataOffset: return "tcp_bad_data_offset";
    case ParseError::TcpHeaderTruncated: return "tcp_header_truncated";
    case ParseError::TcpOptionTruncated: return "tcp_option_truncated";
    case ParseError::TcpOptionBadLength: return "tcp_option_bad_length";
    case ParseError::TcpBadChecksum: return "tcp_bad_checksum";
    case ParseError::UdpTooShort: return "udp_too_short";
    case ParseError::UdpBadLength: return "udp_bad_length";
    case ParseError::IcmpTooShort: return "icmp_too_short";
    case ParseError::IcmpBadChecksum: return "icmp_bad_checksum";
    case ParseError::Count: break;
  }
  return "unknown";
}

}  // namespace sluice::wire
