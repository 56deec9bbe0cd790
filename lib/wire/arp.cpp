// ARP parse and emit (RFC 826 "Packet format"); see arp.hpp.
#include "wire/arp.hpp"

#include <algorithm>

#include "wire/bytes.hpp"
#include "wire/ethernet.hpp"

namespace sluice::wire {

Result<ArpPacket, ParseError> ArpPacket::parse(std::span<const std::uint8_t> l3) noexcept {
  if (l3.size() < kSize) return Err{ParseError::ArpTooShort};
  const std::uint8_t* p = l3.data();
  if (load_be16(p) != kHardwareEthernet) return Err{ParseError::ArpBadHardware};
  if (load_be16(p + 2) != to_u16(EtherType::Ipv4)) return Err{ParseError::ArpBadProtocol};
  if (p[4] != 6 || p[5] != 4) return Err{ParseError::ArpBadAddressLength};
  ArpPacket a;
  a.op = load_be16(p + 6);
  if (a.op != kOpRequest && a.op != kOpReply) return Err{ParseError::ArpBadOperation};
  std::copy_n(p + 8, 6, a.sha.bytes.data());
  a.spa = Ipv4Addr{load_be32(p + 14)};
  std::copy_n(p + 18, 6, a.tha.bytes.data());
  a.tpa = Ipv4Addr{load_be32(p + 24)};
  return a;
}

std::size_t ArpPacket::emit(std::span<std::uint8_t> out) const noexcept {
  if (out.size() < kSize) return 0;
  std::uint8_t* p = out.data();
  store_be16(p, kHardwareEthernet);
  store_be16(p + 2, to_u16(EtherType::Ipv4));
  p[4] = 6;
  p[5] = 4;
  store_be16(p + 6, op);
  std::copy_n(sha.bytes.data(), 6, p + 8);
  store_be32(p + 14, spa.value);
  std::copy_n(tha.bytes.data(), 6, p + 18);
  store_be32(p + 24, tpa.value);
  return kSize;
}

}  // namespace sluice::wire
