// Internet checksum over a byte buffer (RFC 1071 §4.1), fast path.
//
// RFC 1071 §2(B): the one's-complement sum is byte-order independent, so we sum native
// 64-bit loads and convert only the folded 16-bit result to big-endian word order. §2(C):
// we defer carries, accumulating 64-bit words with an explicit end-around carry (the
// add/adc pair on x86-64), four words per iteration.
#include "wire/checksum.hpp"

#include <bit>
#include <cstring>

#include "wire/bytes.hpp"

namespace sluice::wire {

namespace {

inline std::uint64_t add_carry(std::uint64_t acc, std::uint64_t v) noexcept {
  acc += v;
  return acc + (acc < v ? 1U : 0U);
}

inline std::uint64_t load64(const std::uint8_t* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Folded sum of native-order 16-bit words (what rte_raw_cksum computes).
std::uint16_t native_sum(const std::uint8_t* p, std::size_t n) noexcept {
  std::uint64_t a0 = 0;
  std::uint64_t a1 = 0;
  while (n >= 32) {
    a0 = add_carry(a0, load64(p));
    a1 = add_carry(a1, load64(p + 8));
    a0 = add_carry(a0, load64(p + 16));
    a1 = add_carry(a1, load64(p + 24));
    p += 32;
    n -= 32;
  }
  std::uint64_t acc = add_carry(a0, a1);
  while (n >= 8) {
    acc = add_carry(acc, load64(p));
    p += 8;
    n -= 8;
  }
  // 0..7 bytes left, starting at an even offset. Fixed-size loads (no memcpy call); a
  // 16-bit lane's value is the same in any lane of the accumulator since 2^16 = 1
  // (mod 0xffff), and every piece keeps its bytes' positions within their 16-bit words.
  if ((n & 4) != 0) {
    std::uint32_t v;
    std::memcpy(&v, p, sizeof v);
    acc = add_carry(acc, v);
    p += 4;
  }
  if ((n & 2) != 0) {
    std::uint16_t v;
    std::memcpy(&v, p, sizeof v);
    acc = add_carry(acc, v);
    p += 2;
  }
  if ((n & 1) != 0) {
    std::uint16_t v = 0;  // the odd byte is the first byte of a zero-padded word
    std::memcpy(&v, p, 1);
    acc = add_carry(acc, v);
  }
  std::uint32_t s32 = static_cast<std::uint32_t>(acc & 0xffffffffU);
  const auto hi = static_cast<std::uint32_t>(acc >> 32);
  s32 += hi;
  s32 += (s32 < hi ? 1U : 0U);
  return checksum_reduce(s32);
}

}  // namespace

std::uint32_t checksum_partial(std::span<const std::uint8_t> data, std::uint32_t sum) noexcept {
  const std::uint16_t folded = to_be16(native_sum(data.data(), data.size()));
  return checksum_add(sum, folded);
}

std::uint32_t checksum_partial_at(std::span<const std::uint8_t> data, std::size_t offset,
                                  std::uint32_t sum) noexcept {
  std::uint16_t folded = to_be16(native_sum(data.data(), data.size()));
  if ((offset & 1U) != 0) folded = static_cast<std::uint16_t>((folded << 8) | (folded >> 8));
  return checksum_add(sum, folded);
}

}  // namespace sluice::wire
