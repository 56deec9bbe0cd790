// SynCookie: stateless SYN-ACKs (RFC 4987 §3.6) with a SipHash-2-4 MAC. The layout of the
// ISN and of the TSval is documented in syn_cookie.hpp.
#include "tcp/syn_cookie.hpp"

#include <algorithm>
#include <cstddef>

#include "tcp/isn_generator.hpp"

namespace sluice::tcp {
namespace {

constexpr std::uint32_t kTagMask = 0x0fffffffU;  // ISN bits 27..0
constexpr unsigned kFieldShift = 28;             // ISN bits 31..28: (P << 3 | I) ^ pad
constexpr std::uint32_t kTsOptionMask = (1U << SynCookie::kTsOptionBits) - 1;  // 0x1f
constexpr std::uint32_t kTsSackBit = 0x10;
constexpr std::uint32_t kTsNoWindowScale = 0x0f;
constexpr std::uint8_t kTsPresent = 0x20;  // in the tag's T byte: the SYN had timestamps

// Domain separation: the pad and the tag are two different functions of one key.
constexpr std::uint8_t kPadDomain = 'P';
constexpr std::uint8_t kTagDomain = 'M';

/// Writes `v` big-endian at `out`.
constexpr void put_be32(std::uint8_t* out, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

/// Index of the largest table entry <= mss; 0 when mss is below the whole table.
constexpr std::uint8_t mss_index(std::uint16_t mss) noexcept {
  std::size_t index = 0;
  for (std::size_t i = 0; i < SynCookie::kMssTable.size(); ++i) {
    if (SynCookie::kMssTable[i] <= mss) index = i;
  }
  return static_cast<std::uint8_t>(index);
}

/// The 5 TSval option bits for `options` (which must have timestamps).
constexpr std::uint32_t ts_option_bits(const SynCookieOptions& options) noexcept {
  const std::uint32_t wscale =
      options.window_scale == SynCookie::kNoWindowScale
          ? kTsNoWindowScale
          : std::min<std::uint32_t>(options.window_scale, SynCookie::kMaxWindowScale);
  return wscale | (options.sack_permitted ? kTsSackBit : 0U);
}

}  // namespace

std::uint32_t SynCookie::counter(time::Instant now) noexcept {
  const std::int64_t ns = now.time_since_epoch().count();
  constexpr std::int64_t kPeriodNs = kPeriod.count();
  std::int64_t periods = ns / kPeriodNs;
  if (ns % kPeriodNs < 0) --periods;  // floor, so that negative instants stay continuous
  return static_cast<std::uint32_t>(periods);
}

SynCookieOptions SynCookie::carried(const SynCookieOptions& peer) noexcept {
  SynCookieOptions kept;
  kept.mss = kMssTable[mss_index(peer.mss)];
  kept.timestamps = peer.timestamps;
  if (peer.timestamps) {
    const std::uint32_t bits = ts_option_bits(peer);
    const std::uint32_t wscale = bits & kTsNoWindowScale;
    kept.window_scale =
        wscale == kTsNoWindowScale ? kNoWindowScale : static_cast<std::uint8_t>(wscale);
    kept.sack_permitted = (bits & kTsSackBit) != 0;
  }  // else: no window scale, no SACK (the defaults)
  return kept;
}

std::uint8_t SynCookie::pad(const FourTuple& tuple, wire::Seq peer_isn) const noexcept {
  std::array<std::uint8_t, 1 + kFourTupleBytes + 4> msg{};
  msg[0] = kPadDomain;
  const auto tuple_bytes = four_tuple_bytes(tuple);
  std::copy(tuple_bytes.begin(), tuple_bytes.end(), msg.begin() + 1);
  put_be32(msg.data() + 1 + kFourTupleBytes, peer_isn.raw);
  return static_cast<std::uint8_t>(hash_(msg) >> 60);
}

std::uint32_t SynCookie::tag(const FourTuple& tuple, wire::Seq peer_isn, std::uint32_t period,
                             std::uint8_t mss_index_value, std::uint8_t ts_byte) const noexcept {
  std::array<std::uint8_t, 1 + kFourTupleBytes + 4 + 4 + 1 + 1> msg{};
  msg[0] = kTagDomain;
  const auto tuple_bytes = four_tuple_bytes(tuple);
  std::copy(tuple_bytes.begin(), tuple_bytes.end(), msg.begin() + 1);
  put_be32(msg.data() + 1 + kFourTupleBytes, peer_isn.raw);
  put_be32(msg.data() + 1 + kFourTupleBytes + 4, period);
  msg[1 + kFourTupleBytes + 8] = mss_index_value;
  msg[1 + kFourTupleBytes + 9] = ts_byte;
  return static_cast<std::uint32_t>(hash_(msg)) & kTagMask;
}

SynCookie::Encoded SynCookie::encode(const FourTuple& tuple, wire::Seq peer_isn,
                                     const SynCookieOptions& options, time::Instant now,
                                     std::uint32_t ts_clock) const noexcept {
  const std::uint8_t index = mss_index(options.mss);
  const std::uint32_t period = counter(now);

  std::uint32_t tsval = ts_clock;
  std::uint8_t ts_byte = 0;
  if (options.timestamps) {
    const std::uint32_t bits = ts_option_bits(options);
    ts_byte = static_cast<std::uint8_t>(kTsPresent | bits);
    tsval = (ts_clock & ~kTsOptionMask) | bits;
    // Never ahead of our clock (PAWS at the peer, see the header): one block back.
    if (wire::Seq{tsval} > wire::Seq{ts_clock}) tsval -= kTsOptionMask + 1;
  }

  const std::uint32_t field = (((period & 1U) << 3) | index) ^ pad(tuple, peer_isn);
  const std::uint32_t isn = (field << kFieldShift) | tag(tuple, peer_isn, period, index, ts_byte);
  return Encoded{wire::Seq{isn}, tsval, kMssTable[index]};
}

std::optional<SynCookieOptions> SynCookie::decode(const FourTuple& tuple, wire::Seq peer_isn,
                                                  wire::Seq cookie,
                                                  std::optional<std::uint32_t> tsecr,
                                                  time::Instant now) const noexcept {
  const std::uint32_t field = ((cookie.raw >> kFieldShift) ^ pad(tuple, peer_isn)) & 0xfU;
  const std::uint32_t parity = field >> 3;
  const auto index = static_cast<std::uint8_t>(field & 0x7U);

  // The cookie's period is the latest one, not after ours, with its parity: ours or the
  // one before. Anything older (or newer) then fails the tag, which covers the full counter.
  const std::uint32_t now_period = counter(now);
  const std::uint32_t period = (now_period & 1U) == parity ? now_period : now_period - 1;

  const std::uint8_t ts_byte =
      tsecr ? static_cast<std::uint8_t>(kTsPresent | (*tsecr & kTsOptionMask)) : 0;
  if (tag(tuple, peer_isn, period, index, ts_byte) != (cookie.raw & kTagMask)) {
    return std::nullopt;
  }

  SynCookieOptions options;
  options.mss = kMssTable[index];
  if (tsecr) {
    options.timestamps = true;
    const std::uint32_t wscale = *tsecr & kTsNoWindowScale;
    options.window_scale =
        wscale == kTsNoWindowScale ? kNoWindowScale : static_cast<std::uint8_t>(wscale);
    options.sack_permitted = (*tsecr & kTsSackBit) != 0;
  }
  return options;
}

}  // namespace sluice::tcp
