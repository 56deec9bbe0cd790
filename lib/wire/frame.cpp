// parse_frame and the frame builders; see frame.hpp.
#include "wire/frame.hpp"

#include <algorithm>
#include <cstring>

#include "wire/bytes.hpp"

namespace sluice::wire {

namespace {
inline std::uint16_t u16(std::size_t v) noexcept {
  return static_cast<std::uint16_t>(v > 0xffff ? 0xffff : v);
}

constexpr std::size_t kUdpHeaderSize = 8;
}  // namespace

Result<ParsedFrame, ParseError> parse_frame(std::span<const std::uint8_t> frame,
                                            const ParseOptions& opts) noexcept {
  ParsedFrame f;
  if (auto r = parse_frame_into(frame, f, opts); !r) return Err{r.error()};
  return f;
}

Result<void, ParseError> parse_frame_into(std::span<const std::uint8_t> frame, ParsedFrame& f,
                                          const ParseOptions& opts) noexcept {
  f.l3_offset = f.l4_offset = f.payload_offset = f.payload_len = 0;
  auto eth = EthernetHeader::parse(frame);
  if (!eth) return Err{eth.error()};
  f.eth = *eth;
  const std::size_t l3 = f.eth.header_len();
  f.l3_offset = u16(l3);
  const auto l3_bytes = frame.subspan(l3);

  switch (f.eth.ethertype) {
    case to_u16(EtherType::Arp): {
      auto arp = ArpPacket::parse(l3_bytes);
      if (!arp) return Err{arp.error()};
      f.kind = FrameKind::Arp;
      f.arp = *arp;
      f.l4_offset = f.payload_offset = u16(l3 + ArpPacket::kSize);
      f.payload_len = u16(l3_bytes.size() - ArpPacket::kSize);  // Ethernet padding
      return {};
    }
    case to_u16(EtherType::Ipv6):
      f.kind = FrameKind::Ipv6;
      f.l4_offset = f.payload_offset = f.l3_offset;
      f.payload_len = u16(l3_bytes.size());
      return {};
    case to_u16(EtherType::Ipv4): break;
    default: return Err{ParseError::UnsupportedEtherType};
  }

  const bool split = opts.packet_len > frame.size();
  auto ip =
      Ipv4Header::parse(l3_bytes, opts.verify_ipv4_checksum, split ? opts.packet_len - l3 : 0);
  if (!ip) return Err{ip.error()};
  f.ip = *ip;
  const std::size_t l4 = l3 + f.ip.header_len;
  f.l4_offset = u16(l4);
  f.kind = FrameKind::Ipv4Other;
  f.payload_offset = f.l4_offset;
  f.payload_len = u16(f.ip.payload_len());
  if (f.ip.is_fragment()) return {};
  if (split) {
    if (f.ip.protocol != IpProto::Tcp) return {};
    // The headers from the first part; the payload length from the IPv4 header.
    const auto head = l3_bytes.subspan(f.ip.header_len);
    if (auto r = TcpHeader::parse_into(
            head.first(std::min(head.size(), std::size_t{f.payload_len})), f.tcp);
        !r) {
      return Err{r.error()};
    }
    f.kind = FrameKind::Ipv4Tcp;
    f.payload_offset = u16(l4 + f.tcp.header_len);
    f.payload_len = static_cast<std::uint16_t>(f.payload_len - f.tcp.header_len);
    return {};
  }
  // The datagram ends at total_len; anything after is Ethernet padding (RFC 894).
  const auto l4_bytes = l3_bytes.subspan(f.ip.header_len, f.ip.payload_len());

  switch (f.ip.protocol) {
    case IpProto::Tcp: {
      if (auto r = TcpHeader::parse_into(l4_bytes, f.tcp); !r) return Err{r.error()};
      if (opts.verify_l4_checksum && !tcp_checksum_ok(f.ip.src, f.ip.dst, l4_bytes)) {
        return Err{ParseError::TcpBadChecksum};
      }
      f.kind = FrameKind::Ipv4Tcp;
      f.payload_offset = u16(l4 + f.tcp.header_len);
      f.payload_len = u16(l4_bytes.size() - f.tcp.header_len);
      return {};
    }
    case IpProto::Icmp: {
      auto icmp = IcmpEcho::parse(l4_bytes, opts.verify_l4_checksum);
      if (!icmp) return Err{icmp.error()};
      f.kind = FrameKind::Ipv4Icmp;
      f.icmp = *icmp;
      f.payload_offset = u16(l4 + IcmpEcho::kHeaderSize);
      f.payload_len = u16(l4_bytes.size() - IcmpEcho::kHeaderSize);
      return {};
    }
    case IpProto::Udp: {
      if (l4_bytes.size() < kUdpHeaderSize) return Err{ParseError::UdpTooShort};
      const std::uint16_t udp_len = load_be16(l4_bytes.data() + 4);
      if (udp_len < kUdpHeaderSize || udp_len > l4_bytes.size()) {
        return Err{ParseError::UdpBadLength};
      }
      f.kind = FrameKind::Ipv4Udp;
      f.payload_offset = u16(l4 + kUdpHeaderSize);
      f.payload_len = static_cast<std::uint16_t>(udp_len - kUdpHeaderSize);
      return {};
    }
    default: return {};
  }
}

std::size_t build_tcp_frame(std::span<std::uint8_t> out, const EthernetHeader& eth, Ipv4Header ip,
                            TcpHeader tcp, std::span<const std::uint8_t> payload) noexcept {
  EthernetHeader e = eth;
  e.ethertype = to_u16(EtherType::Ipv4);
  const std::size_t l2 = e.header_len();
  const std::size_t tcp_len = tcp.emit_len();
  const std::size_t ip_total = Ipv4Header::kMinSize + tcp_len + payload.size();
  if (ip_total > 0xffff || out.size() < l2 + ip_total) return 0;

  ip.protocol = IpProto::Tcp;
  ip.header_len = Ipv4Header::kMinSize;
  ip.total_len = static_cast<std::uint16_t>(ip_total);
  tcp.header_len = static_cast<std::uint8_t>(tcp_len);
  tcp.checksum = 0;

  e.emit(out);
  ip.emit(out.subspan(l2));
  const auto segment = out.subspan(l2 + Ipv4Header::kMinSize, tcp_len + payload.size());
  tcp.emit(segment);
  if (!payload.empty()) std::memcpy(segment.data() + tcp_len, payload.data(), payload.size());
  store_be16(segment.data() + 16, tcp_checksum(ip.src, ip.dst, segment));
  return l2 + ip_total;
}

std::size_t build_arp_frame(std::span<std::uint8_t> out, const EthernetHeader& eth,
                            const ArpPacket& arp) noexcept {
  EthernetHeader e = eth;
  e.ethertype = to_u16(EtherType::Arp);
  const std::size_t l2 = e.header_len();
  if (out.size() < l2 + ArpPacket::kSize) return 0;
  e.emit(out);
  arp.emit(out.subspan(l2));
  return l2 + ArpPacket::kSize;
}

std::size_t build_icmp_echo_frame(std::span<std::uint8_t> out, const EthernetHeader& eth,
                                  Ipv4Header ip, const IcmpEcho& icmp) noexcept {
  EthernetHeader e = eth;
  e.ethertype = to_u16(EtherType::Ipv4);
  const std::size_t l2 = e.header_len();
  const std::size_t ip_total = Ipv4Header::kMinSize + icmp.emit_len();
  if (ip_total > 0xffff || out.size() < l2 + ip_total) return 0;
  ip.protocol = IpProto::Icmp;
  ip.header_len = Ipv4Header::kMinSize;
  ip.total_len = static_cast<std::uint16_t>(ip_total);
  e.emit(out);
  ip.emit(out.subspan(l2));
  icmp.emit(out.subspan(l2 + Ipv4Header::kMinSize));
  return l2 + ip_total;
}

}  // namespace sluice::wire
