// SynCookie: stateless SYN-ACKs for a listener whose SYN queue is full (RFC 4987 §3.6).
// Instead of keeping an embryonic connection, the listener encodes what it must remember
// of the peer's SYN into its own initial sequence number (and, when the peer uses RFC 7323
// timestamps, into its TSval); the peer's final ACK returns both (SEG.ACK - 1 is our ISN,
// TSecr is our TSval), and decode() rebuilds the options after checking a keyed MAC, so
// that only an ACK to a SYN-ACK we really sent within the last 64..128 s is accepted.
//
// Design (ours; the idea is RFC 4987 §3.6 and the long-standing practice of the BSD and
// Linux stacks, the layout and the MAC are our own):
//
//   counter c = floor(now / 64 s), truncated to 32 bits. A cookie made in period c is
//   accepted while the decoder's period is c or c + 1: cookies live more than 64 s and at
//   most 128 s, depending on where in its period they were made. A cookie from a later
//   period than the decoder's (time went backwards across a boundary) is rejected.
//
//   Our ISN (32 bits):
//     bits 31..28  (P << 3 | I) XOR pad   P = c & 1 (tells the decoder c or c - 1)
//                                         I = index of the encoded MSS in kMssTable
//                                         pad = top 4 bits of SipHash('P', tuple, peer ISN)
//     bits 27..0   tag = low 28 bits of SipHash('M', tuple, peer ISN, c, I, T)
//   where T is one byte: 0 without timestamps, else 0x20 | the 5 option bits below. The
//   pad hides P and I so that all 32 bits of our ISN are keyed-hash output (RFC 6528 §3
//   wants our ISS unpredictable even under attack); the tag covers everything the cookie
//   carries, so flipping any bit of the ISN (or of the TSecr's option bits) is caught with
//   probability 1 - 2^-28 (a blind forgery succeeds once in 2^28 tries).
//
//   Our TSval, when the peer's SYN carried timestamps (RFC 7323 §3.2):
//     bits 31..5   from ts_clock (the connection's TSval clock)
//     bit 4        SACK-permitted (RFC 2018 §2)
//     bits 3..0    the peer's window scale shift, 0..14, or 15 for "no window scale"
//                  (RFC 7323 §2.3: shifts above 14 are used as 14, so they encode as 14)
//   If replacing the low bits would make TSval later than ts_clock, the encoder steps back
//   one 32-tick block: our TSval never runs ahead of our clock, so the first TSval of the
//   rebuilt connection is not older than the SYN-ACK's (the peer's PAWS check, RFC 7323
//   §5.3, would otherwise drop it). The peer echoes TSval in TSecr of its ACK.
//
//   Without timestamps there is nowhere to keep window scale and SACK-permitted, so they
//   are not negotiated: decode() returns window_scale = kNoWindowScale, sack_permitted =
//   false, and the caller must send its SYN-ACK without those options (RFC 7323 §2.2 and
//   RFC 2018 §2 only allow them when both SYNs carry them). carried() says exactly what a
//   cookie keeps, for building the SYN-ACK.
//
//   TSecr tampering: the option bits are under the tag, so an ACK whose TSecr low 5 bits
//   differ from our TSval's is rejected; an ACK without TSecr to a cookie sent with
//   timestamps (or with one, to a cookie sent without) is rejected too (RFC 7323 §3.2: once
//   negotiated, every segment carries TSopt). TSecr bits 31..5 carry no cookie data and are
//   not checked here (PAWS and RTTM are the connection's business).
//
// MSS table (3 bits, 8 entries). The encoder keeps the largest entry <= the peer's MSS,
// so the rebuilt connection never sends larger segments than the peer accepts:
//     64    floor for pathological peers (below it, 64 is used: like Linux's minimum send
//           MSS, a peer may not drive us to tiny segments)
//     536   RFC 9293 §3.7.1 IPv4 default (576 - 40); what a SYN without MSS option means
//     1220  IPv6 minimum MTU 1280 - 60 (RFC 8200 §5), for the IPv6 to come
//     1300  common clamp of tunnels and VPNs
//     1440  1500-byte MTU over IPv6 (1500 - 60), or IPv4 with 20 bytes of encapsulation
//     1452  PPPoE (1492 - 40), the usual DSL clamp
//     1460  Ethernet, IPv4 (1500 - 40): most peers
//     8960  9000-byte jumbo frames (9000 - 40): data-centre peers of an appliance
// Rounding down only costs throughput, and only for connections made under SYN flood.
//
// One SynCookie per engine with its own secret (different from the IsnGenerator's); the
// secret lives for the process, so cookies do not survive a restart. Pure logic: no clock
// is read here, no allocation, nothing throws.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "tcp/four_tuple.hpp"
#include "tcp/siphash.hpp"
#include "time/clock.hpp"
#include "wire/seq.hpp"

namespace sluice::tcp {

/// What a listener must remember of the peer's SYN (RFC 9293 §3.7.1 MSS, RFC 7323 window
/// scale and timestamps, RFC 2018 SACK-permitted).
struct SynCookieOptions {
  std::uint16_t mss = 536;           ///< the peer's MSS (536 when its SYN had no MSS option)
  std::uint8_t window_scale = 0xff;  ///< the peer's shift count, or kNoWindowScale
  bool sack_permitted = false;
  bool timestamps = false;

  constexpr bool operator==(const SynCookieOptions&) const noexcept = default;
};

class SynCookie {
 public:
  using Secret = SipHash::Key;

  static constexpr std::uint8_t kNoWindowScale = 0xff;
  static constexpr std::uint8_t kMaxWindowScale = 14;  ///< RFC 7323 §2.3
  static constexpr std::array<std::uint16_t, 8> kMssTable = {64,   536,  1220, 1300,
                                                             1440, 1452, 1460, 8960};
  /// Length of one time-counter period; cookies are accepted for this period and the next.
  static constexpr time::Duration kPeriod = std::chrono::seconds(64);
  /// Low bits of TSval that carry options (4 window scale + 1 SACK).
  static constexpr unsigned kTsOptionBits = 5;

  struct Encoded {
    wire::Seq isn{};             ///< our ISN for the SYN-ACK (SEG.SEQ)
    std::uint32_t tsval = 0;     ///< our TSval for the SYN-ACK; valid iff options.timestamps
    std::uint16_t mss_used = 0;  ///< the MSS encoded: the largest kMssTable entry <= peer's
  };

  /// Pre: `secret` is secret and random (IsnGenerator::random_secret() gives one).
  explicit SynCookie(const Secret& secret) noexcept : hash_(secret) {}

  /// The cookie for a SYN from `tuple` (seen from this end) with sequence number
  /// `peer_isn` and `options`, made at `now`. `ts_clock` is our TSval clock now; only
  /// used when options.timestamps. Post: decode() of the peer's ACK returns carried(options)
  /// while the cookie is valid (see the file comment for what that means).
  [[nodiscard]] Encoded encode(const FourTuple& tuple, wire::Seq peer_isn,
                               const SynCookieOptions& options, time::Instant now,
                               std::uint32_t ts_clock) const noexcept;

  /// Checks the ACK that completes a cookie handshake and rebuilds the peer's options.
  /// `peer_isn` = SEG.SEQ - 1 and `cookie` = SEG.ACK - 1 of that ACK; `tsecr` its TSecr,
  /// if it has a timestamp option. Returns nullopt unless the cookie was made by this
  /// secret for this tuple and peer ISN, in this period or the previous one, with the
  /// timestamp presence and option bits that `tsecr` shows.
  [[nodiscard]] std::optional<SynCookieOptions> decode(const FourTuple& tuple, wire::Seq peer_isn,
                                                       wire::Seq cookie,
                                                       std::optional<std::uint32_t> tsecr,
                                                       time::Instant now) const noexcept;

  /// The options a cookie keeps of `peer`: MSS rounded down to kMssTable (64 at least),
  /// window scale clamped to 14, and no window scale or SACK without timestamps.
  [[nodiscard]] static SynCookieOptions carried(const SynCookieOptions& peer) noexcept;

  /// The time counter of `now`: floor(now / kPeriod) modulo 2^32.
  [[nodiscard]] static std::uint32_t counter(time::Instant now) noexcept;

 private:
  [[nodiscard]] std::uint8_t pad(const FourTuple& tuple, wire::Seq peer_isn) const noexcept;
  [[nodiscard]] std::uint32_t tag(const FourTuple& tuple, wire::Seq peer_isn, std::uint32_t counter,
                                  std::uint8_t mss_index, std::uint8_t ts_byte) const noexcept;

  SipHash hash_;
};

}  // namespace sluice::tcp
