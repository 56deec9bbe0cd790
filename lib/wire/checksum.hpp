// The Internet checksum: RFC 1071 (computation), RFC 1624 (incremental update) and the
// IPv4 pseudo-header of RFC 9293 §3.1 / RFC 768 used by TCP and UDP.
//
// Convention. A *partial sum* is the 16-bit one's-complement sum of the data read as
// big-endian words, carried in a uint32_t without final folding ("unfolded"): any
// uint32_t congruent to that sum modulo 0xffff is a valid partial sum. Partial sums add
// with checksum_add(). checksum_fold() folds and complements: the result is the host-order
// value to store (store_be16) in a header. A received message verifies when the fold of
// the sum over all of it, checksum field included, is 0.
//
// Chaining. checksum_partial(data, sum) treats data[0] as the high byte of a word. To sum
// a message in pieces, each piece that starts at an EVEN offset of the message chains
// directly: checksum_partial(b, checksum_partial(a)) when a.size() is even. A piece that
// starts at an ODD offset must have its bytes swapped (RFC 1071 §2(B), byte-order
// independence): use checksum_partial_at(piece, offset, sum), which does that.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/ipv4_addr.hpp"

namespace sluice::wire {

/// Folds a 32-bit partial sum to 16 bits (end-around carry), without complementing.
constexpr std::uint16_t checksum_reduce(std::uint32_t sum) noexcept {
  sum = (sum & 0xffffU) + (sum >> 16);
  sum = (sum & 0xffffU) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

/// One's-complement addition of two partial sums.
constexpr std::uint32_t checksum_add(std::uint32_t a, std::uint32_t b) noexcept {
  const std::uint64_t s = std::uint64_t{a} + b;
  return static_cast<std::uint32_t>((s & 0xffffffffU) + (s >> 32));
}

/// Sum of data as big-endian 16-bit words, a trailing odd byte padded with a zero byte
/// (RFC 1071 §4.1), added to `sum`. Reads 8 bytes per step with 64-bit accumulation.
std::uint32_t checksum_partial(std::span<const std::uint8_t> data, std::uint32_t sum = 0) noexcept;

/// As checksum_partial, for a piece that sits at byte `offset` of the whole message:
/// when the offset is odd the piece's sum is byte-swapped before it is added.
std::uint32_t checksum_partial_at(std::span<const std::uint8_t> data, std::size_t offset,
                                  std::uint32_t sum = 0) noexcept;

/// Folds and complements: the value to write into a checksum field (host order).
constexpr std::uint16_t checksum_fold(std::uint32_t sum) noexcept {
  return static_cast<std::uint16_t>(~checksum_reduce(sum));
}

/// Partial sum of the IPv4 pseudo-header (src, dst, zero, protocol, L4 length).
constexpr std::uint32_t pseudo_header_sum(Ipv4Addr src, Ipv4Addr dst, std::uint8_t proto,
                                          std::uint16_t l4_len) noexcept {
  return (src.value >> 16) + (src.value & 0xffffU) + (dst.value >> 16) + (dst.value & 0xffffU) +
         proto + l4_len;
}

/// RFC 1624 eqn. 3: the new checksum HC' = ~(~HC + ~m + m') after one 16-bit word of the
/// covered data changes from old_word (m) to new_word (m'). Unlike eqn. 2 it never
/// produces 0xffff where a full recompute would produce 0x0000 (RFC 1624 §3).
constexpr std::uint16_t checksum_update16(std::uint16_t hc, std::uint16_t old_word,
                                          std::uint16_t new_word) noexcept {
  const std::uint32_t sum = std::uint32_t{static_cast<std::uint16_t>(~hc)} +
                            std::uint32_t{static_cast<std::uint16_t>(~old_word)} + new_word;
  return checksum_fold(sum);
}

/// As checksum_update16 for an aligned 32-bit field (an address, a sequence number).
constexpr std::uint16_t checksum_update32(std::uint16_t hc, std::uint32_t old_value,
                                          std::uint32_t new_value) noexcept {
  const auto hi = [](std::uint32_t v) { return static_cast<std::uint16_t>(v >> 16); };
  const auto lo = [](std::uint32_t v) { return static_cast<std::uint16_t>(v & 0xffffU); };
  const std::uint32_t sum = std::uint32_t{static_cast<std::uint16_t>(~hc)} +
                            std::uint32_t{static_cast<std::uint16_t>(~hi(old_value))} +
                            std::uint32_t{static_cast<std::uint16_t>(~lo(old_value))} +
                            hi(new_value) + lo(new_value);
  return checksum_fold(sum);
}

}  // namespace sluice::wire
