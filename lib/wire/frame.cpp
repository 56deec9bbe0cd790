// parse_frame and the frame builders; see frame.hpp.
#include "wire/frame.hpp"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>
#include <memory>

#include "wire/bytes.hpp"
#include "wire/checksum.hpp"

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

// Cost (issue 5): nearly every frame on the RX path is the one parse_ipv4_tcp_fast takes:
// its checks in a row on fixed offsets, no Result per layer, no span re-slicing, and the
// IPv4 header sum without a loop. Every other frame, and any frame it doubts, goes through
// the general path, which stays the reference (frame_test compares the two).
namespace {
// parse_ipv4_tcp_fast's body, inlined into parse_frame_into (no call, no arguments to
// keep for the general path).
[[gnu::always_inline]] inline bool ipv4_tcp_fast(std::span<const std::uint8_t> frame,
                                                 ParsedFrame& f,
                                                 const ParseOptions& opts) noexcept {
  constexpr std::size_t kL3 = EthernetHeader::kSize;
  constexpr std::size_t kL4 = kL3 + Ipv4Header::kMinSize;
  const std::size_t n = frame.size();
  if (n < kL4 + TcpHeader::kMinSize || opts.packet_len > n) return false;
  const std::uint8_t* const p = frame.data();
  const std::uint8_t* const ip = p + kL3;
  // EtherType IPv4 (so no VLAN tag), version 4 with IHL 5.
  if (load_be16(p + 12) != to_u16(EtherType::Ipv4) || ip[0] != 0x45) return false;
  // Total length: room for both minimal headers, within the frame (padding may follow).
  // Not a fragment: MF clear and offset 0 (DF and the reserved bit may be anything).
  const std::uint16_t total = load_be16(ip + 2);
  const std::uint16_t frag = load_be16(ip + 6);
  if (total < Ipv4Header::kMinSize + TcpHeader::kMinSize || total > n - kL3 ||
      (frag & 0x3fff) != 0 || ip[9] != IpProto::Tcp) {
    return false;
  }
  if (opts.verify_ipv4_checksum && checksum_partial20(ip) != 0xffff) return false;

  const std::uint8_t* const tcp = ip + Ipv4Header::kMinSize;
  const std::size_t seg_len = total - Ipv4Header::kMinSize;
  const std::size_t thl = std::size_t{static_cast<std::uint8_t>(tcp[12] >> 4)} * 4;
  if (thl < TcpHeader::kMinSize || thl > seg_len) return false;
  if (!TcpOptions::parse_into(std::span(tcp + TcpHeader::kMinSize, thl - TcpHeader::kMinSize),
                              f.tcp.options)) {
    return false;
  }
  const Ipv4Addr src{load_be32(ip + 12)};
  const Ipv4Addr dst{load_be32(ip + 16)};
  if (opts.verify_l4_checksum) {
    // tcp_checksum_ok, with the sum inlined.
    const std::uint32_t sum = checksum_add(
        pseudo_header_sum(src, dst, IpProto::Tcp, static_cast<std::uint16_t>(seg_len)),
        to_be16(detail::native_sum(tcp, seg_len)));
    if (checksum_fold(sum) != 0) return false;
  }

  f.kind = FrameKind::Ipv4Tcp;
  f.l3_offset = static_cast<std::uint16_t>(kL3);
  f.l4_offset = static_cast<std::uint16_t>(kL4);
  f.payload_offset = static_cast<std::uint16_t>(kL4 + thl);
  f.payload_len = static_cast<std::uint16_t>(seg_len - thl);

  std::memcpy(f.eth.dst.bytes.data(), p, 6);
  std::memcpy(f.eth.src.bytes.data(), p + 6, 6);
  f.eth.ethertype = to_u16(EtherType::Ipv4);
  std::construct_at(&f.eth.vlan_tci);  // disengaged, by a plain store

  Ipv4Header& h = f.ip;
  h.tos = ip[1];
  h.total_len = total;
  h.id = load_be16(ip + 4);
  h.df = (frag & 0x4000) != 0;
  h.mf = false;
  h.frag_offset = 0;
  h.ttl = ip[8];
  h.protocol = IpProto::Tcp;
  h.checksum = load_be16(ip + 10);
  h.src = src;
  h.dst = dst;
  h.header_len = static_cast<std::uint8_t>(Ipv4Header::kMinSize);

  TcpHeader& t = f.tcp;
  const std::uint32_t ports = load_be32(tcp);
  if constexpr (std::endian::native == std::endian::little) {
    // Both ports in one store: TCP reads them together (a 4-tuple), and a load that
    // spans two separate 16-bit stores cannot be forwarded from them; it waits for
    // them to reach the cache (about 1 % of an rr64 server's time over vhost-user).
    static_assert(offsetof(TcpHeader, dst_port) == offsetof(TcpHeader, src_port) + 2);
    const std::uint32_t pair = (ports >> 16) | (ports << 16);  // src_port at the low address
    std::memcpy(reinterpret_cast<unsigned char*>(&t) + offsetof(TcpHeader, src_port), &pair, 4);
  } else {
    t.src_port = static_cast<std::uint16_t>(ports >> 16);
    t.dst_port = static_cast<std::uint16_t>(ports & 0xffffU);
  }
  t.seq = Seq{load_be32(tcp + 4)};
  t.ack = Seq{load_be32(tcp + 8)};
  t.header_len = static_cast<std::uint8_t>(thl);
  t.flags = tcp[13];
  t.window = load_be16(tcp + 14);
  t.checksum = load_be16(tcp + 16);
  t.urgent = load_be16(tcp + 18);
  return true;
}
}  // namespace

bool parse_ipv4_tcp_fast(std::span<const std::uint8_t> frame, ParsedFrame& f,
                         const ParseOptions& opts) noexcept {
  return ipv4_tcp_fast(frame, f, opts);
}

Result<void, ParseError> parse_frame_into(std::span<const std::uint8_t> frame, ParsedFrame& f,
                                          const ParseOptions& opts) noexcept {
  if (ipv4_tcp_fast(frame, f, opts)) [[likely]] {
    return {};
  }
  return parse_frame_into_general(frame, f, opts);
}

Result<void, ParseError> parse_frame_into_general(std::span<const std::uint8_t> frame,
                                                  ParsedFrame& f,
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
