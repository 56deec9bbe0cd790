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
#include <bit>
#include <cstdint>
#include <cstring>
#include <span>

#include "wire/bytes.hpp"
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

namespace detail {

// The sum (RFC 1071 §4.1).
//
// RFC 1071 §2(B): the one's-complement sum is byte-order independent, so we sum native
// 64-bit loads and convert only the folded 16-bit result to big-endian word order. §2(C):
// we defer carries: on x86-64 the 64-bit words of a block go through one add-with-carry
// chain (one adc per 8 bytes, the carry re-added once per block); elsewhere each word is
// an add plus an explicit end-around carry.
//
// Cost (issue 5): most sums are short (a 20-60 byte TCP header, a small payload), so past
// the 64-byte loop the remaining 0..63 bytes take no loop at all: a 32-, 16- and 8-byte
// step each taken or skipped by one test, then the last 1..7 bytes in one load that ends
// at the end of the data (when there were at least 8), shifted to drop what was summed.

[[gnu::always_inline]] inline std::uint64_t load64(const std::uint8_t* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// acc plus the K 64-bit words at p, one's-complement (end-around carry). On x86-64 one
// add-with-carry chain: K adds, then the carry added back twice (the first can carry
// again). GCC 12 keeps __builtin_ia32_addcarryx_u64's result in memory between steps, so
// the chain is written out.
template <int K>
[[gnu::always_inline]] inline std::uint64_t add_words(const std::uint8_t* p,
                                                      std::uint64_t acc) noexcept {
  static_assert(K == 1 || K == 2 || K == 4 || K == 8);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  const auto* words = reinterpret_cast<const std::uint8_t(*)[8 * K]>(p);
  if constexpr (K == 8) {
    asm("addq 0(%[p]), %[s]\n\t"
        "adcq 8(%[p]), %[s]\n\t"
        "adcq 16(%[p]), %[s]\n\t"
        "adcq 24(%[p]), %[s]\n\t"
        "adcq 32(%[p]), %[s]\n\t"
        "adcq 40(%[p]), %[s]\n\t"
        "adcq 48(%[p]), %[s]\n\t"
        "adcq 56(%[p]), %[s]\n\t"
        "adcq $0, %[s]\n\t"
        "adcq $0, %[s]"
        : [s] "+r"(acc)
        : [p] "r"(p), "m"(*words)
        : "cc");
  } else if constexpr (K == 4) {
    asm("addq 0(%[p]), %[s]\n\t"
        "adcq 8(%[p]), %[s]\n\t"
        "adcq 16(%[p]), %[s]\n\t"
        "adcq 24(%[p]), %[s]\n\t"
        "adcq $0, %[s]\n\t"
        "adcq $0, %[s]"
        : [s] "+r"(acc)
        : [p] "r"(p), "m"(*words)
        : "cc");
  } else if constexpr (K == 2) {
    asm("addq 0(%[p]), %[s]\n\t"
        "adcq 8(%[p]), %[s]\n\t"
        "adcq $0, %[s]\n\t"
        "adcq $0, %[s]"
        : [s] "+r"(acc)
        : [p] "r"(p), "m"(*words)
        : "cc");
  } else {
    asm("addq 0(%[p]), %[s]\n\t"
        "adcq $0, %[s]\n\t"
        "adcq $0, %[s]"
        : [s] "+r"(acc)
        : [p] "r"(p), "m"(*words)
        : "cc");
  }
  return acc;
#else
  for (int i = 0; i < K; ++i) {
    const std::uint64_t v = load64(p + 8 * i);
    acc += v;
    acc += (acc < v ? 1U : 0U);
  }
  return acc;
#endif
}

[[gnu::always_inline]] inline std::uint64_t add_word(std::uint64_t acc, std::uint64_t v) noexcept {
  acc += v;
  return acc + (acc < v ? 1U : 0U);
}

// Folded sum of native-order 16-bit words (what rte_raw_cksum computes): 0 only when all
// the data is 0, else the value in 1..0xffff congruent to the sum modulo 0xffff.
[[gnu::always_inline]] inline std::uint16_t native_sum(const std::uint8_t* p,
                                                       std::size_t n) noexcept {
  std::uint64_t acc = 0;
  const bool long_enough = n >= 8;
  while (n >= 64) {
    acc = add_words<8>(p, acc);
    p += 64;
    n -= 64;
  }
  if ((n & 32) != 0) {
    acc = add_words<4>(p, acc);
    p += 32;
  }
  if ((n & 16) != 0) {
    acc = add_words<2>(p, acc);
    p += 16;
  }
  if ((n & 8) != 0) {
    acc = add_words<1>(p, acc);
    p += 8;
  }
  // 0..7 bytes left, starting at an even offset. A 16-bit lane's value is the same in any
  // lane of the accumulator since 2^16 = 1 (mod 0xffff), and every piece keeps its bytes'
  // positions within their 16-bit words.
  const std::size_t tail = n & 7;
  if (tail == 0) {
    // nothing left
  } else if (std::endian::native == std::endian::little && long_enough) {
    // The 8 bytes ending at the end: shifting right by 8 * (8 - tail) bits drops the ones
    // already summed and keeps the tail's bytes at their offsets from p.
    const std::uint64_t last = load64(p + tail - 8);
    acc = add_word(acc, last >> (8 * (8 - tail)));
  } else {
    if ((tail & 4) != 0) {
      std::uint32_t v;
      std::memcpy(&v, p, sizeof v);
      acc = add_word(acc, v);
      p += 4;
    }
    if ((tail & 2) != 0) {
      std::uint16_t v;
      std::memcpy(&v, p, sizeof v);
      acc = add_word(acc, v);
      p += 2;
    }
    if ((tail & 1) != 0) {
      std::uint16_t v = 0;  // the odd byte is the first byte of a zero-padded word
      std::memcpy(&v, p, 1);
      acc = add_word(acc, v);
    }
  }
  std::uint32_t s32 = static_cast<std::uint32_t>(acc & 0xffffffffU);
  const auto hi = static_cast<std::uint32_t>(acc >> 32);
  s32 += hi;
  s32 += (s32 < hi ? 1U : 0U);
  return checksum_reduce(s32);
}

}  // namespace detail

/// Sum of data as big-endian 16-bit words, a trailing odd byte padded with a zero byte
/// (RFC 1071 §4.1), added to `sum`. Reads 8 bytes per step with 64-bit accumulation.
std::uint32_t checksum_partial(std::span<const std::uint8_t> data, std::uint32_t sum = 0) noexcept;

/// checksum_partial of exactly the 20 bytes at p (an IPv4 header without options), as
/// one straight line: five 32-bit loads summed in 64 bits (no carry can be lost), folded.
/// Equal to checksum_partial(std::span(p, 20)), a value in 0..0xffff; a header with its
/// checksum verifies iff this is 0xffff. Precondition: p points at 20 readable bytes.
inline std::uint32_t checksum_partial20(const std::uint8_t* p) noexcept {
  std::uint64_t s = std::uint64_t{load_native32(p)} + load_native32(p + 4) +
                    load_native32(p + 8) + load_native32(p + 12) + load_native32(p + 16);
  s = (s & 0xffffffffU) + (s >> 32);  // <= 0x1'0000'0003
  s = (s & 0xffffU) + (s >> 16);      // <= 0x1'fffe
  s = (s & 0xffffU) + (s >> 16);      // <= 0xffff; 0 only if all 20 bytes are 0
  return to_be16(static_cast<std::uint16_t>(s));
}

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
