// Big-endian loads and stores over raw bytes: the only way lib/wire reads or writes a
// multi-byte header field. memcpy keeps them alignment-safe (headers start at any
// offset) and free of strict-aliasing problems; the compiler turns each into one
// load/store plus a bswap. Network byte order is RFC 1700 / RFC 791 Appendix B order.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace sluice::wire {

/// Converts between host and network (big-endian) order; an involution.
constexpr std::uint16_t to_be16(std::uint16_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    return static_cast<std::uint16_t>((v << 8) | (v >> 8));
  } else {
    return v;
  }
}

constexpr std::uint32_t to_be32(std::uint32_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    return __builtin_bswap32(v);
  } else {
    return v;
  }
}

/// Reads a 16-bit big-endian value. Precondition: p points at 2 readable bytes.
inline std::uint16_t load_be16(const std::uint8_t* p) noexcept {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return to_be16(v);
}

/// Reads a 32-bit big-endian value. Precondition: p points at 4 readable bytes.
inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return to_be32(v);
}

/// Reads 4 bytes in host order (for sums that are byte-order independent, RFC 1071 §2(B)).
inline std::uint32_t load_native32(const std::uint8_t* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/// Writes v big-endian. Precondition: p points at 2 writable bytes.
inline void store_be16(std::uint8_t* p, std::uint16_t v) noexcept {
  const std::uint16_t be = to_be16(v);
  std::memcpy(p, &be, sizeof be);
}

/// Writes v big-endian. Precondition: p points at 4 writable bytes.
inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
  const std::uint32_t be = to_be32(v);
  std::memcpy(p, &be, sizeof be);
}

}  // namespace sluice::wire
