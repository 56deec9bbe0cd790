// TCP header parse/emit and checksum (RFC 9293 §3.1); see tcp.hpp.
#include "wire/tcp.hpp"

#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

namespace sluice::wire {

Result<TcpHeader, ParseError> TcpHeader::parse(std::span<const std::uint8_t> segment) noexcept {
  TcpHeader h;
  if (auto r = parse_into(segment, h); !r) return Err{r.error()};
  return h;
}

Result<void, ParseError> TcpHeader::parse_into(std::span<const std::uint8_t> segment,
                                               TcpHeader& h) noexcept {
  if (segment.size() < kMinSize) return Err{ParseError::TcpTooShort};
  const std::uint8_t* p = segment.data();
  const auto hlen = static_cast<std::uint8_t>((p[12] >> 4) * 4);
  if (hlen < kMinSize) return Err{ParseError::TcpBadDataOffset};
  if (hlen > segment.size()) return Err{ParseError::TcpHeaderTruncated};
  if (auto r = TcpOptions::parse_into(segment.subspan(kMinSize, hlen - kMinSize), h.options); !r) {
    return Err{r.error()};
  }
  h.src_port = load_be16(p);
  h.dst_port = load_be16(p + 2);
  h.seq = Seq{load_be32(p + 4)};
  h.ack = Seq{load_be32(p + 8)};
  h.header_len = hlen;
  h.flags = p[13];
  h.window = load_be16(p + 14);
  h.checksum = load_be16(p + 16);
  h.urgent = load_be16(p + 18);
  return {};
}

std::size_t TcpHeader::emit(std::span<std::uint8_t> out) const noexcept {
  const std::size_t options_len = options.emit_len();
  const std::size_t len = kMinSize + options_len;
  if (out.size() < len) return 0;
  std::uint8_t* p = out.data();
  store_be32(p, (std::uint32_t{src_port} << 16) | dst_port);
  store_be32(p + 4, seq.raw);
  store_be32(p + 8, ack.raw);
  store_be32(p + 12,
             (static_cast<std::uint32_t>(len / 4) << 28) | (std::uint32_t{flags} << 16) | window);
  store_be32(p + 16, (std::uint32_t{checksum} << 16) | urgent);
  options.emit_unchecked(p + kMinSize, options_len);
  return len;
}

std::uint16_t tcp_checksum(Ipv4Addr src, Ipv4Addr dst,
                           std::span<const std::uint8_t> segment) noexcept {
  const auto len = static_cast<std::uint16_t>(segment.size());
  std::uint32_t sum = checksum_partial(segment, pseudo_header_sum(src, dst, IpProto::Tcp, len));
  // Take the checksum field out again: adding its one's complement subtracts it.
  sum = checksum_add(sum, static_cast<std::uint16_t>(~load_be16(segment.data() + 16)));
  return checksum_fold(sum);
}

bool tcp_checksum_ok(Ipv4Addr src, Ipv4Addr dst, std::span<const std::uint8_t> segment) noexcept {
  const auto len = static_cast<std::uint16_t>(segment.size());
  return checksum_fold(checksum_partial(segment, pseudo_header_sum(src, dst, IpProto::Tcp, len))) ==
         0;
}

}  // namespace sluice::wire
