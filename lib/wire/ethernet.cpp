// Ethernet II + one 802.1Q tag: parse and emit (see ethernet.hpp).
#include "wire/ethernet.hpp"

#include <algorithm>

#include "wire/bytes.hpp"

namespace sluice::wire {

Result<EthernetHeader, ParseError> EthernetHeader::parse(
    std::span<const std::uint8_t> frame) noexcept {
  if (frame.size() < kSize) return Err{ParseError::FrameTooShort};
  EthernetHeader h;
  std::copy_n(frame.data(), 6, h.dst.bytes.data());
  std::copy_n(frame.data() + 6, 6, h.src.bytes.data());
  h.ethertype = load_be16(frame.data() + 12);
  if (h.ethertype == to_u16(EtherType::Vlan)) {
    if (frame.size() < kSize + kVlanTagSize) return Err{ParseError::EthernetVlanTruncated};
    h.vlan_tci = load_be16(frame.data() + 14);
    h.ethertype = load_be16(frame.data() + 16);
  }
  return h;
}

std::size_t EthernetHeader::emit(std::span<std::uint8_t> out) const noexcept {
  const std::size_t len = header_len();
  if (out.size() < len) return 0;
  std::copy_n(dst.bytes.data(), 6, out.data());
  std::copy_n(src.bytes.data(), 6, out.data() + 6);
  if (vlan_tci) {
    store_be16(out.data() + 12, to_u16(EtherType::Vlan));
    store_be16(out.data() + 14, *vlan_tci);
    store_be16(out.data() + 16, ethertype);
  } else {
    store_be16(out.data() + 12, ethertype);
  }
  return len;
}

}  // namespace sluice::wire
