// IsnGenerator: initial sequence numbers for active and passive opens, RFC 6528 §3:
//
//     ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
//
// M is a timer that ticks every 4 microseconds (RFC 6528 §3, after RFC 793's ISN clock),
// so successive incarnations of one connection get increasing ISNs (RFC 9293 §3.4.1) and
// old duplicates of a previous incarnation are unlikely to fall in the new window. F is
// SipHash-2-4 (the RFC asks for a keyed hash no weaker than MD5) under a 128-bit secret, so
// each 4-tuple gets its own unpredictable offset and an off-path attacker who learns the ISN
// of one connection learns nothing of another's (RFC 6528 §1, §3; RFC 5961 context).
//
// The secret is per process (RFC 6528 §3 suggests changing it only at reboot: a change
// breaks the monotonicity above). Pure logic: no clock is read here, the caller passes now.
#pragma once

#include <array>
#include <cstdint>

#include "tcp/four_tuple.hpp"
#include "tcp/siphash.hpp"
#include "time/clock.hpp"
#include "wire/seq.hpp"

namespace sluice::tcp {

/// Bytes of a 4-tuple as fed to SipHash, in RFC 6528's order: local IP, local port, remote
/// IP, remote port, each big-endian (network order). Shared with SynCookie.
inline constexpr std::size_t kFourTupleBytes = 12;
[[nodiscard]] std::array<std::uint8_t, kFourTupleBytes> four_tuple_bytes(
    const FourTuple& tuple) noexcept;

class IsnGenerator {
 public:
  using Secret = SipHash::Key;

  /// The period of the M timer: RFC 6528 §3 (and RFC 793 §3.3) 4 microseconds.
  static constexpr time::Duration kTick = std::chrono::microseconds(4);

  explicit IsnGenerator(const Secret& secret) noexcept : f_(secret) {}

  /// A fresh secret from std::random_device. Cold path (start-up): may throw
  /// std::system_error if the system has no entropy source, which setup reports to main().
  [[nodiscard]] static Secret random_secret();

  /// The ISN for a connection with `tuple` (seen from this end) opened at `now`.
  /// Post: isn(t, now2) - isn(t, now1) == m(now2) - m(now1) modulo 2^32.
  [[nodiscard]] wire::Seq isn(const FourTuple& tuple, time::Instant now) const noexcept {
    return wire::Seq{m(now) + f(tuple)};
  }

  /// M: 4-microsecond ticks since the clock's epoch, modulo 2^32 (wraps every ~4.77 h).
  /// Floor division, so the count stays continuous across the epoch if `now` is negative.
  [[nodiscard]] static std::uint32_t m(time::Instant now) noexcept;

  /// F: the per-tuple offset, the low 32 bits of SipHash-2-4 over four_tuple_bytes().
  [[nodiscard]] std::uint32_t f(const FourTuple& tuple) const noexcept {
    return static_cast<std::uint32_t>(hash(tuple));
  }

  /// The connection's timestamp offset (RFC 7323 §5.4): the high 32 bits of the same
  /// SipHash, so the ISN and the TSval clock of a connection are unrelated to an observer.
  [[nodiscard]] std::uint32_t ts_offset(const FourTuple& tuple) const noexcept {
    return static_cast<std::uint32_t>(hash(tuple) >> 32);
  }

  /// What opening a connection needs, from one SipHash of the tuple.
  struct Opening {
    wire::Seq iss;
    std::uint32_t ts_offset;
  };
  [[nodiscard]] Opening opening(const FourTuple& tuple, time::Instant now) const noexcept {
    const std::uint64_t h = hash(tuple);
    return {wire::Seq{m(now) + static_cast<std::uint32_t>(h)}, static_cast<std::uint32_t>(h >> 32)};
  }

  /// SipHash-2-4 of four_tuple_bytes(tuple), without building the bytes.
  [[nodiscard]] std::uint64_t hash(const FourTuple& tuple) const noexcept;

 private:
  SipHash f_;
};

}  // namespace sluice::tcp
