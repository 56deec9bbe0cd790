// Seq: a 32-bit TCP sequence number with wrap-safe arithmetic and ordering.
//
// RFC 9293 §3.4: sequence space is modulo 2^32, and "=<" means "less than or equal,
// modulo 2^32". Ordering uses the signed distance (RFC 1982 serial-number style): a < b
// iff (int32_t)(a - b) < 0. Two numbers exactly 2^31 apart are not meaningfully ordered
// (RFC 1982 §3.2 leaves it undefined); here each compares less than the other, which
// cannot arise with windows below 2^30 (RFC 7323 §2.3 caps the scaled window at 2^30).
#pragma once

#include <cstdint>

namespace sluice::wire {

struct Seq {
  std::uint32_t raw = 0;

  constexpr bool operator==(const Seq&) const noexcept = default;

  constexpr Seq& operator+=(std::uint32_t n) noexcept {
    raw += n;
    return *this;
  }
  constexpr Seq& operator-=(std::uint32_t n) noexcept {
    raw -= n;
    return *this;
  }
};

constexpr Seq operator+(Seq s, std::uint32_t n) noexcept {
  return Seq{s.raw + n};
}
constexpr Seq operator-(Seq s, std::uint32_t n) noexcept {
  return Seq{s.raw - n};
}

/// Signed distance a - b: positive when a is after b, modulo 2^32.
constexpr std::int32_t operator-(Seq a, Seq b) noexcept {
  return static_cast<std::int32_t>(a.raw - b.raw);  // modular since C++20
}

constexpr bool operator<(Seq a, Seq b) noexcept {
  return (a - b) < 0;
}
constexpr bool operator>(Seq a, Seq b) noexcept {
  return (b - a) < 0;
}
constexpr bool operator<=(Seq a, Seq b) noexcept {
  return !(b < a);
}
constexpr bool operator>=(Seq a, Seq b) noexcept {
  return !(a < b);
}

/// The later of two sequence numbers (wrap-safe).
constexpr Seq seq_max(Seq a, Seq b) noexcept {
  return a < b ? b : a;
}
/// The earlier of two sequence numbers (wrap-safe).
constexpr Seq seq_min(Seq a, Seq b) noexcept {
  return a < b ? a : b;
}

/// True iff left <= s < left + len (modulo 2^32). An empty window (len 0) contains
/// nothing; RFC 9293 §3.10.7.4's zero-window acceptability test is the caller's.
constexpr bool seq_in_window(Seq s, Seq left, std::uint32_t len) noexcept {
  return s.raw - left.raw < len;
}

/// True iff left <= s <= right (modulo 2^32), e.g. SND.UNA =< SEG.ACK =< SND.NXT.
constexpr bool seq_between(Seq left, Seq s, Seq right) noexcept {
  return s.raw - left.raw <= right.raw - left.raw;
}

}  // namespace sluice::wire
