// Tests of SynCookie: stateless SYN-ACKs (RFC 4987 §3.6), the ISN and TSval layouts in
// syn_cookie.hpp, round trips of every option, and rejection of anything altered or stale.
#include "tcp/syn_cookie.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

namespace sluice::tcp {
namespace {

using namespace std::chrono_literals;
using time::Instant;
using wire::Ipv4Addr;
using wire::Seq;

constexpr SynCookie::Secret kSecret = {0xc1, 0x5d, 0x72, 0x0e, 0x9b, 0x46, 0xa3, 0x18,
                                       0xf0, 0x2b, 0x67, 0xd9, 0x84, 0x3c, 0xe5, 0x51};

constexpr FourTuple kTuple{Ipv4Addr::from_octets(198, 18, 0, 1),
                           Ipv4Addr::from_octets(198, 18, 7, 9), 80, 51234};
constexpr Seq kPeerIsn{0x9abc0123};
// 10 s into a 64 s period (period 1000), so that +65 s stays in the next period.
constexpr Instant kNow{1000 * SynCookie::kPeriod + 10s};
constexpr std::uint32_t kTsClock = 0x12345678;

SynCookieOptions full_options() {
  return SynCookieOptions{
      .mss = 1460, .window_scale = 7, .sack_permitted = true, .timestamps = true};
}

class SynCookieTest : public ::testing::Test {
 protected:
  /// Encodes at `at` and decodes the ACK that echoes it at `later`.
  std::optional<SynCookieOptions> round_trip(const SynCookieOptions& options, Instant at,
                                             Instant later) const {
    const auto enc = cookie_.encode(kTuple, kPeerIsn, options, at, kTsClock);
    const auto tsecr = options.timestamps ? std::optional(enc.tsval) : std::nullopt;
    return cookie_.decode(kTuple, kPeerIsn, enc.isn, tsecr, later);
  }

  SynCookie cookie_{kSecret};
};

std::uint16_t largest_entry_at_most(std::uint16_t mss) {
  std::uint16_t best = SynCookie::kMssTable[0];
  for (const auto entry : SynCookie::kMssTable) {
    if (entry <= mss) best = entry;
  }
  return best;
}

TEST_F(SynCookieTest, RoundTripsEveryOptionCombination) {
  std::vector<std::uint16_t> mss_values = {1, 63, 65535};
  for (const auto entry : SynCookie::kMssTable) {
    mss_values.push_back(static_cast<std::uint16_t>(entry - 1));
    mss_values.push_back(entry);
    mss_values.push_back(static_cast<std::uint16_t>(entry + 1));
  }
  std::vector<std::uint8_t> scales = {SynCookie::kNoWindowScale};
  for (std::uint8_t s = 0; s <= 14; ++s) scales.push_back(s);

  int cases = 0;
  for (const auto mss : mss_values) {
    for (const auto scale : scales) {
      for (const bool sack : {false, true}) {
        for (const bool ts : {false, true}) {
          const SynCookieOptions peer{
              .mss = mss, .window_scale = scale, .sack_permitted = sack, .timestamps = ts};
          const auto enc = cookie_.encode(kTuple, kPeerIsn, peer, kNow, kTsClock);
          EXPECT_EQ(enc.mss_used, largest_entry_at_most(mss)) << mss;
          const auto tsecr = ts ? std::optional(enc.tsval) : std::nullopt;
          const auto dec = cookie_.decode(kTuple, kPeerIsn, enc.isn, tsecr, kNow + 1s);
          ASSERT_TRUE(dec.has_value()) << mss << " " << int{scale} << " " << sack << " " << ts;
          EXPECT_EQ(*dec, SynCookie::carried(peer));
          EXPECT_EQ(dec->mss, enc.mss_used);
          EXPECT_EQ(dec->timestamps, ts);
          // With timestamps everything is kept; without, window scale and SACK are lost.
          EXPECT_EQ(dec->window_scale, ts ? scale : SynCookie::kNoWindowScale);
          EXPECT_EQ(dec->sack_permitted, ts && sack);
          ++cases;
        }
      }
    }
  }
  EXPECT_EQ(cases, 27 * 16 * 4);
}

TEST(SynCookie, EncodedMssIsTheLargestTableEntryNotAbovePeers) {
  for (std::uint32_t mss = 64; mss <= 65535; ++mss) {
    const auto kept = SynCookie::carried({.mss = static_cast<std::uint16_t>(mss)}).mss;
    ASSERT_LE(kept, mss);
    ASSERT_EQ(kept, largest_entry_at_most(static_cast<std::uint16_t>(mss)));
  }
  EXPECT_EQ(SynCookie::carried({.mss = 536}).mss, 536);  // no MSS option: RFC 9293 default
  EXPECT_EQ(SynCookie::carried({.mss = 1459}).mss, 1452);
  EXPECT_EQ(SynCookie::carried({.mss = 9000}).mss, 8960);
  EXPECT_EQ(SynCookie::carried({.mss = 8959}).mss, 1460);
  EXPECT_EQ(SynCookie::carried({.mss = 10}).mss, 64);  // the documented floor
}

TEST(SynCookie, WindowScaleAboveFourteenIsKeptAsFourteen) {
  // RFC 7323 §2.3: a shift above 14 is used as 14.
  for (const std::uint8_t scale : std::array<std::uint8_t, 4>{15, 16, 200, 254}) {
    const auto kept = SynCookie::carried({.window_scale = scale, .timestamps = true});
    EXPECT_EQ(kept.window_scale, 14);
  }
  const SynCookie cookie(kSecret);
  const auto enc =
      cookie.encode(kTuple, kPeerIsn, {.window_scale = 15, .timestamps = true}, kNow, kTsClock);
  const auto dec = cookie.decode(kTuple, kPeerIsn, enc.isn, enc.tsval, kNow);
  ASSERT_TRUE(dec.has_value());
  EXPECT_EQ(dec->window_scale, 14);
}

TEST(SynCookie, TsvalLayout) {
  const SynCookie cookie(kSecret);
  // Low 5 bits: SACK (bit 4), window scale (bits 3..0, 15 = none); the rest is the clock.
  // kTsClock ends in 0x18: options 0x17 fit below it, 0x1f does not and steps back.
  auto enc = cookie.encode(kTuple, kPeerIsn,
                           {.window_scale = 7, .sack_permitted = true, .timestamps = true}, kNow,
                           kTsClock);
  EXPECT_EQ(enc.tsval, 0x12345677U);
  enc = cookie.encode(kTuple, kPeerIsn, {.window_scale = 7, .timestamps = true}, kNow, kTsClock);
  EXPECT_EQ(enc.tsval, 0x12345667U);
  enc = cookie.encode(
      kTuple, kPeerIsn,
      {.window_scale = SynCookie::kNoWindowScale, .sack_permitted = true, .timestamps = true}, kNow,
      kTsClock);
  EXPECT_EQ(enc.tsval, 0x1234565fU);  // 0x1234567f would be ahead of the clock
  // Never ahead of the clock and at most 63 ticks behind, for every phase of the clock,
  // including across the 32-bit wrap.
  for (const std::uint32_t clock : {0U, 1U, 0x1fU, 0x20U, 0xffffffe0U, 0xffffffffU, kTsClock}) {
    for (const bool sack : {false, true}) {
      for (std::uint8_t scale = 0; scale <= 15; ++scale) {
        const SynCookieOptions peer{.window_scale = scale == 15 ? SynCookie::kNoWindowScale : scale,
                                    .sack_permitted = sack,
                                    .timestamps = true};
        const auto e = cookie.encode(kTuple, kPeerIsn, peer, kNow, clock);
        EXPECT_EQ(e.tsval & 0x1fU, (sack ? 0x10U : 0U) | scale);
        EXPECT_LE(Seq{e.tsval}, Seq{clock});
        EXPECT_LT(clock - e.tsval, 64U);
      }
    }
  }
}

TEST_F(SynCookieTest, FlippingAnyBitOfTheCookieIsRejected) {
  for (const bool ts : {false, true}) {
    SynCookieOptions peer = full_options();
    peer.timestamps = ts;
    const auto enc = cookie_.encode(kTuple, kPeerIsn, peer, kNow, kTsClock);
    const auto tsecr = ts ? std::optional(enc.tsval) : std::nullopt;
    ASSERT_TRUE(cookie_.decode(kTuple, kPeerIsn, enc.isn, tsecr, kNow));
    for (unsigned bit = 0; bit < 32; ++bit) {
      const Seq flipped{enc.isn.raw ^ (1U << bit)};
      EXPECT_FALSE(cookie_.decode(kTuple, kPeerIsn, flipped, tsecr, kNow)) << "bit " << bit;
    }
  }
}

TEST_F(SynCookieTest, AnyOtherTupleIsRejected) {
  const auto enc = cookie_.encode(kTuple, kPeerIsn, full_options(), kNow, kTsClock);
  const auto check = [&](const FourTuple& other, const char* what) {
    EXPECT_FALSE(cookie_.decode(other, kPeerIsn, enc.isn, enc.tsval, kNow)) << what;
  };
  FourTuple t = kTuple;
  t.local_ip.value ^= 1;
  check(t, "local ip");
  t = kTuple;
  t.remote_ip.value ^= 0x80000000U;
  check(t, "remote ip");
  t = kTuple;
  t.local_port = 81;
  check(t, "local port");
  t = kTuple;
  t.remote_port = 51235;
  check(t, "remote port");
  check(kTuple.reversed(), "reversed");
  EXPECT_TRUE(cookie_.decode(kTuple, kPeerIsn, enc.isn, enc.tsval, kNow));
}

TEST_F(SynCookieTest, AnyOtherPeerIsnIsRejected) {
  const auto enc = cookie_.encode(kTuple, kPeerIsn, full_options(), kNow, kTsClock);
  EXPECT_FALSE(cookie_.decode(kTuple, kPeerIsn + 1, enc.isn, enc.tsval, kNow));
  EXPECT_FALSE(cookie_.decode(kTuple, kPeerIsn - 1, enc.isn, enc.tsval, kNow));
  for (unsigned bit = 0; bit < 32; ++bit) {
    const Seq other{kPeerIsn.raw ^ (1U << bit)};
    EXPECT_FALSE(cookie_.decode(kTuple, other, enc.isn, enc.tsval, kNow)) << "bit " << bit;
  }
}

TEST_F(SynCookieTest, AnotherSecretRejects) {
  auto other_secret = kSecret;
  other_secret[0] ^= 0x01;
  const SynCookie other(other_secret);
  const auto enc = cookie_.encode(kTuple, kPeerIsn, full_options(), kNow, kTsClock);
  EXPECT_FALSE(other.decode(kTuple, kPeerIsn, enc.isn, enc.tsval, kNow));
}

TEST_F(SynCookieTest, ValidForTheCurrentAndThePreviousPeriod) {
  const auto opts = full_options();
  EXPECT_TRUE(round_trip(opts, kNow, kNow));
  EXPECT_TRUE(round_trip(opts, kNow, kNow + 54s - 1ns));  // last instant of the same period
  EXPECT_TRUE(round_trip(opts, kNow, kNow + 54s));        // first instant of the next one
  EXPECT_TRUE(round_trip(opts, kNow, kNow + 65s));
  EXPECT_TRUE(round_trip(opts, kNow, kNow + 118s - 1ns));  // last instant of the next period
  EXPECT_FALSE(round_trip(opts, kNow, kNow + 118s));
  EXPECT_FALSE(round_trip(opts, kNow, kNow + 129s));
  EXPECT_FALSE(round_trip(opts, kNow, kNow + 1000s));
  // Two periods later the parity is the same again: the full counter in the tag rejects it.
  EXPECT_FALSE(round_trip(opts, kNow, kNow + 2 * SynCookie::kPeriod));
}

TEST_F(SynCookieTest, LifetimeIsMoreThan64AndAtMost128SecondsAtAnyPhase) {
  const auto opts = full_options();
  const Instant period_start{1000 * SynCookie::kPeriod};
  for (auto phase = 0s; phase < SynCookie::kPeriod; phase += 1s) {
    const Instant at = period_start + phase;
    EXPECT_TRUE(round_trip(opts, at, at + 64s)) << phase.count();
    EXPECT_FALSE(round_trip(opts, at, at + 128s)) << phase.count();
    EXPECT_FALSE(round_trip(opts, at, at + 129s)) << phase.count();
    // Exactly: valid until the end of the period after the one it was made in.
    EXPECT_TRUE(round_trip(opts, at, period_start + 128s - 1ns)) << phase.count();
    EXPECT_FALSE(round_trip(opts, at, period_start + 128s)) << phase.count();
  }
}

TEST_F(SynCookieTest, TimeGoingBackwardsAcrossAPeriodIsRejected) {
  const auto opts = full_options();
  EXPECT_TRUE(round_trip(opts, kNow, kNow - 5s));    // same period (kNow is 10 s into it)
  EXPECT_FALSE(round_trip(opts, kNow, kNow - 11s));  // the period before
  EXPECT_FALSE(round_trip(opts, kNow, kNow - 65s));
  EXPECT_FALSE(round_trip(opts, kNow, kNow - 129s));
}

TEST_F(SynCookieTest, WorksAcrossTheClockEpoch) {
  // Negative instants (an epoch after the cookie was made) use floor division.
  EXPECT_EQ(SynCookie::counter(Instant{-1ns}), 0xffffffffU);
  EXPECT_EQ(SynCookie::counter(Instant{0ns}), 0U);
  EXPECT_TRUE(round_trip(full_options(), Instant{-10s}, Instant{10s}));
  EXPECT_FALSE(round_trip(full_options(), Instant{-70s}, Instant{60s}));
}

TEST_F(SynCookieTest, TsecrOptionBitsTamperedAreRejected) {
  // The TSval option bits are under the tag: an altered window scale or SACK bit is not
  // turned into different options, the cookie is rejected.
  const auto enc = cookie_.encode(kTuple, kPeerIsn, full_options(), kNow, kTsClock);
  for (unsigned bit = 0; bit < SynCookie::kTsOptionBits; ++bit) {
    const std::uint32_t tsecr = enc.tsval ^ (1U << bit);
    EXPECT_FALSE(cookie_.decode(kTuple, kPeerIsn, enc.isn, tsecr, kNow)) << "bit " << bit;
  }
}

TEST_F(SynCookieTest, TsecrHighBitsCarryNoCookieData) {
  // Bits 31..5 are our clock: tampering them changes nothing the cookie decides.
  const auto enc = cookie_.encode(kTuple, kPeerIsn, full_options(), kNow, kTsClock);
  const auto expected = SynCookie::carried(full_options());
  for (unsigned bit = SynCookie::kTsOptionBits; bit < 32; ++bit) {
    const auto dec = cookie_.decode(kTuple, kPeerIsn, enc.isn, enc.tsval ^ (1U << bit), kNow);
    ASSERT_TRUE(dec.has_value()) << "bit " << bit;
    EXPECT_EQ(*dec, expected);
  }
}

TEST_F(SynCookieTest, TimestampPresenceMustMatchTheSyn) {
  // A cookie sent with timestamps, acknowledged without TSopt (RFC 7323 §3.2 says such a
  // segment is dropped), is rejected; and so is a TSecr invented for a cookie sent without.
  auto with_ts = cookie_.encode(kTuple, kPeerIsn, full_options(), kNow, kTsClock);
  EXPECT_FALSE(cookie_.decode(kTuple, kPeerIsn, with_ts.isn, std::nullopt, kNow));

  SynCookieOptions no_ts = full_options();
  no_ts.timestamps = false;
  const auto without_ts = cookie_.encode(kTuple, kPeerIsn, no_ts, kNow, kTsClock);
  for (std::uint32_t tsecr = 0; tsecr < 32; ++tsecr) {
    EXPECT_FALSE(cookie_.decode(kTuple, kPeerIsn, without_ts.isn, tsecr, kNow)) << tsecr;
  }
  EXPECT_TRUE(cookie_.decode(kTuple, kPeerIsn, without_ts.isn, std::nullopt, kNow));
}

TEST_F(SynCookieTest, RandomCookiesAreNotAccepted) {
  // A blind forgery is accepted with probability 2^-28: none of 2^17 tries should pass.
  std::mt19937 rng(12345);
  int accepted = 0;
  for (int i = 0; i < (1 << 17); ++i) {
    const Seq guess{static_cast<std::uint32_t>(rng())};
    accepted +=
        static_cast<int>(cookie_.decode(kTuple, kPeerIsn, guess, std::nullopt, kNow).has_value());
  }
  EXPECT_EQ(accepted, 0);
}

TEST_F(SynCookieTest, CookiesLookRandom) {
  // All 32 bits of our ISN are keyed-hash output (RFC 6528 §3): across peer ISNs of one
  // tuple, every bit takes both values about equally, the 4 masked top bits included.
  std::array<int, 32> ones{};
  std::set<std::uint32_t> tops;
  constexpr int kCount = 4096;
  for (int i = 0; i < kCount; ++i) {
    const auto enc =
        cookie_.encode(kTuple, Seq{static_cast<std::uint32_t>(i)}, full_options(), kNow, kTsClock);
    tops.insert(enc.isn.raw >> 28);
    for (std::size_t bit = 0; bit < 32; ++bit) {
      ones[bit] += static_cast<int>((enc.isn.raw >> bit) & 1U);
    }
  }
  EXPECT_EQ(tops.size(), 16U);
  for (std::size_t bit = 0; bit < 32; ++bit) {
    EXPECT_NEAR(ones[bit], 0.5 * kCount, 4 * 32) << "bit " << bit;  // 4 sigma
  }
}

}  // namespace
}  // namespace sluice::tcp
