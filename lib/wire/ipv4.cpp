// IPv4 header parse/emit (RFC 791 §3.1); see ipv4.hpp.
#include "wire/ipv4.hpp"

#include "wire/bytes.hpp"
#include "wire/checksum.hpp"

namespace sluice::wire {

Result<Ipv4Header, ParseError> Ipv4Header::parse(std::span<const std::uint8_t> l3,
                                                 bool verify_checksum,
                                                 std::size_t datagram_room) noexcept {
  if (l3.size() < kMinSize) return Err{ParseError::Ipv4TooShort};
  const std::uint8_t* p = l3.data();
  if ((p[0] >> 4) != 4) return Err{ParseError::Ipv4BadVersion};
  const auto hlen = static_cast<std::uint8_t>((p[0] & 0x0f) * 4);
  if (hlen < kMinSize) return Err{ParseError::Ipv4BadIhl};
  if (hlen > l3.size()) return Err{ParseError::Ipv4HeaderTruncated};
  Ipv4Header h;
  h.header_len = hlen;
  h.tos = p[1];
  h.total_len = load_be16(p + 2);
  if (h.total_len < hlen) return Err{ParseError::Ipv4TotalLengthTooShort};
  if (h.total_len > (datagram_room != 0 ? datagram_room : l3.size()))
    return Err{ParseError::Ipv4TotalLengthBeyondFrame};
  if (verify_checksum) {
    // checksum_fold(x) is 0 iff reduce(x) == 0xffff; checksum_partial20 is already reduced.
    const bool ok = hlen == kMinSize ? checksum_partial20(p) == 0xffff
                                     : checksum_fold(checksum_partial(l3.first(hlen))) == 0;
    if (!ok) return Err{ParseError::Ipv4BadChecksum};
  }
  h.id = load_be16(p + 4);
  const std::uint16_t frag = load_be16(p + 6);
  h.df = (frag & 0x4000) != 0;
  h.mf = (frag & 0x2000) != 0;
  h.frag_offset = frag & 0x1fff;
  h.ttl = p[8];
  h.protocol = p[9];
  h.checksum = load_be16(p + 10);
  h.src = Ipv4Addr{load_be32(p + 12)};
  h.dst = Ipv4Addr{load_be32(p + 16)};
  return h;
}

std::size_t Ipv4Header::emit(std::span<std::uint8_t> out) const noexcept {
  if (out.size() < kMinSize) return 0;
  std::uint8_t* p = out.data();
  // The header as its five 32-bit words, and its checksum from the same values rather than
  // by reading them back: the sum of the words' 16-bit halves (the checksum field as 0),
  // folded. Five 32-bit values cannot overflow 64 bits.
  const auto frag =
      static_cast<std::uint16_t>((df ? 0x4000 : 0) | (mf ? 0x2000 : 0) | (frag_offset & 0x1fff));
  const std::uint32_t w0 = ((0x4500U | tos) << 16) | total_len;
  const std::uint32_t w1 = (std::uint32_t{id} << 16) | frag;
  const std::uint32_t w2 = ((std::uint32_t{ttl} << 8 | protocol) << 16);
  std::uint64_t s = std::uint64_t{w0} + w1 + w2 + src.value + dst.value;
  s = (s & 0xffffffffU) + (s >> 32);  // <= 0x1'0000'0003
  store_be32(p, w0);
  store_be32(p + 4, w1);
  store_be32(p + 8, w2 | checksum_fold(static_cast<std::uint32_t>(s & 0xffffffffU) +
                                       static_cast<std::uint32_t>(s >> 32)));
  store_be32(p + 12, src.value);
  store_be32(p + 16, dst.value);
  return kMinSize;
}

}  // namespace sluice::wire
