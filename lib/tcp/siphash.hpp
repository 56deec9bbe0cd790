// SipHash: the SipHash-2-4 keyed pseudo-random function (64-bit output, 128-bit key) of
// Aumasson and Bernstein, "SipHash: a fast short-input PRF" (INDOCRYPT 2012), written from
// the paper's description. It is the F() of RFC 6528 §3 for initial sequence numbers and
// the MAC of our SYN cookies: short inputs (12 to 24 bytes), keyed by a per-process secret,
// so an off-path attacker can neither predict an ISN nor forge a cookie.
//
// Byte order is the paper's: the key and every 8-byte message word are read little-endian,
// whatever the host's order, so outputs match the published test vectors everywhere.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace sluice::tcp {

class SipHash {
 public:
  using Key = std::array<std::uint8_t, 16>;

  /// Pre: `key` is secret and uniformly random for security; any value works functionally.
  explicit SipHash(const Key& key) noexcept;

  /// SipHash-2-4 of `message` (any length, empty included) under this key.
  /// Post: equals the reference implementation's output for the same key and bytes.
  [[nodiscard]] std::uint64_t operator()(std::span<const std::uint8_t> message) const noexcept;

  /// The same function for a 12-byte message given as its little-endian words: `lo` is
  /// bytes 0..7, `hi` bytes 8..11. No loop over bytes: the connection hashes (ISN and
  /// timestamp offsets) call it once per connection on the handshake's path.
  [[nodiscard]] std::uint64_t hash12(std::uint64_t lo, std::uint32_t hi) const noexcept;

 private:
  std::uint64_t k0_;  ///< key bytes 0..7, little-endian
  std::uint64_t k1_;  ///< key bytes 8..15, little-endian
};

}  // namespace sluice::tcp
