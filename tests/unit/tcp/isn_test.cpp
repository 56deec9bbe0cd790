// Tests of IsnGenerator: RFC 6528 §3, ISN = M + F(4-tuple, secret) with a 4 µs M timer.
#include "tcp/isn_generator.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <chrono>
#include <cstdint>
#include <unordered_set>

namespace sluice::tcp {
namespace {

using namespace std::chrono_literals;
using time::Instant;
using wire::Ipv4Addr;
using wire::Seq;

constexpr IsnGenerator::Secret kSecret = {0x3a, 0x91, 0x07, 0xc4, 0x5e, 0x22, 0xd8, 0x6f,
                                          0x14, 0xb0, 0x8d, 0x73, 0xe9, 0x41, 0x2c, 0x55};

constexpr FourTuple kTuple{Ipv4Addr::from_octets(198, 18, 0, 1),
                           Ipv4Addr::from_octets(198, 18, 0, 2), 80, 40000};

TEST(IsnGenerator, SameTupleSameTimeSameIsn) {
  const IsnGenerator a(kSecret);
  const IsnGenerator b(kSecret);
  const Instant t{123456789ns};
  EXPECT_EQ(a.isn(kTuple, t), a.isn(kTuple, t));
  EXPECT_EQ(a.isn(kTuple, t), b.isn(kTuple, t));  // a function of secret, tuple, time only
}

TEST(IsnGenerator, IsMPlusF) {
  const IsnGenerator gen(kSecret);
  const Instant t{1s + 7us};
  EXPECT_EQ(IsnGenerator::m(t), 250'001U);  // floor(1'000'007'000 ns / 4000 ns)
  EXPECT_EQ(gen.isn(kTuple, t), Seq{IsnGenerator::m(t) + gen.f(kTuple)});
}

TEST(IsnGenerator, MTicksEveryFourMicroseconds) {
  EXPECT_EQ(IsnGenerator::m(Instant{0ns}), 0U);
  EXPECT_EQ(IsnGenerator::m(Instant{3999ns}), 0U);
  EXPECT_EQ(IsnGenerator::m(Instant{4000ns}), 1U);
  EXPECT_EQ(IsnGenerator::m(Instant{7999ns}), 1U);
  EXPECT_EQ(IsnGenerator::m(Instant{8000ns}), 2U);
}

TEST(IsnGenerator, AdvancesByTwoHundredFiftyPerMillisecond) {
  const IsnGenerator gen(kSecret);
  // Whatever the phase within a tick, 1 ms later is exactly 250 ticks later.
  for (const auto start : {0ns, 1ns, 3999ns, 5'000'123ns, 86'400'000'000'001ns}) {
    const Instant t{start};
    EXPECT_EQ(gen.isn(kTuple, t + 1ms) - gen.isn(kTuple, t), 250) << start.count();
    EXPECT_EQ(gen.isn(kTuple, t + 1s) - gen.isn(kTuple, t), 250'000) << start.count();
  }
}

TEST(IsnGenerator, DifferenceIsExactlyTheDifferenceOfM) {
  const IsnGenerator gen(kSecret);
  const Instant t1{17ms + 3us};
  const Instant t2{17ms + 3us + 123'456'789ns};
  EXPECT_EQ(gen.isn(kTuple, t2).raw - gen.isn(kTuple, t1).raw,
            IsnGenerator::m(t2) - IsnGenerator::m(t1));
}

TEST(IsnGenerator, FourMicrosecondClockWrapsModulo2To32) {
  const IsnGenerator gen(kSecret);
  // 2^32 ticks of 4 us = 17179.869184 s (about 4.77 h).
  const auto wrap = std::chrono::nanoseconds{(std::int64_t{1} << 32) * 4000};
  EXPECT_EQ(IsnGenerator::m(Instant{wrap - 4000ns}), 0xffffffffU);
  EXPECT_EQ(IsnGenerator::m(Instant{wrap}), 0U);
  EXPECT_EQ(IsnGenerator::m(Instant{wrap + 4000ns}), 1U);
  // Across the wrap the ISN keeps moving forward in sequence space.
  const Seq before = gen.isn(kTuple, Instant{wrap - 4000ns});
  const Seq after = gen.isn(kTuple, Instant{wrap + 4000ns});
  EXPECT_EQ(after - before, 2);
  EXPECT_TRUE(before < after);
  EXPECT_EQ(gen.isn(kTuple, Instant{wrap}), gen.isn(kTuple, Instant{0ns}));
  EXPECT_EQ(gen.isn(kTuple, Instant{3 * wrap + 1ms}), gen.isn(kTuple, Instant{1ms}));
}

TEST(IsnGenerator, ContinuousAcrossTheClockEpoch) {
  // Instants are relative to an arbitrary epoch and may be negative: floor, not truncation.
  EXPECT_EQ(IsnGenerator::m(Instant{-1ns}), 0xffffffffU);
  EXPECT_EQ(IsnGenerator::m(Instant{-4000ns}), 0xffffffffU);
  EXPECT_EQ(IsnGenerator::m(Instant{-4001ns}), 0xfffffffeU);
  const IsnGenerator gen(kSecret);
  EXPECT_EQ(gen.isn(kTuple, Instant{0ns}) - gen.isn(kTuple, Instant{-1ms}), 250);
}

TEST(IsnGenerator, EveryTupleFieldChangesTheOffset) {
  const IsnGenerator gen(kSecret);
  const std::uint32_t base = gen.f(kTuple);
  FourTuple t = kTuple;
  t.local_ip.value ^= 1;
  EXPECT_NE(gen.f(t), base);
  t = kTuple;
  t.remote_ip.value ^= 1;
  EXPECT_NE(gen.f(t), base);
  t = kTuple;
  t.local_port ^= 1;
  EXPECT_NE(gen.f(t), base);
  t = kTuple;
  t.remote_port ^= 1;
  EXPECT_NE(gen.f(t), base);
  // The offset is of the directed tuple: the reverse direction gets its own.
  EXPECT_NE(gen.f(kTuple.reversed()), base);
}

// Close tuples, as a port scan or a client's successive ports would make them.
FourTuple nth_tuple(std::uint32_t i) {
  return FourTuple{Ipv4Addr::from_octets(198, 18, 0, 1),
                   Ipv4Addr{Ipv4Addr::from_octets(198, 19, 0, 0).value + i / 1000}, 443,
                   static_cast<std::uint16_t>(32768 + i % 1000)};
}

TEST(IsnGenerator, NoOffsetCollisionsAmongTenThousandTuples) {
  // For a random function the chance of any collision among 10^4 32-bit values is about
  // n^2 / 2^33 = 1.2%; with this fixed secret the test is deterministic.
  const IsnGenerator gen(kSecret);
  std::unordered_set<std::uint32_t> offsets;
  for (std::uint32_t i = 0; i < 10'000; ++i) offsets.insert(gen.f(nth_tuple(i)));
  EXPECT_EQ(offsets.size(), 10'000U);
}

TEST(IsnGenerator, OffsetBitsAreBalanced) {
  // Each bit of F set in about half of 10^4 close tuples (5000 +- 4 sigma = +-200).
  const IsnGenerator gen(kSecret);
  std::array<int, 32> ones{};
  for (std::uint32_t i = 0; i < 10'000; ++i) {
    const std::uint32_t f = gen.f(nth_tuple(i));
    for (std::size_t bit = 0; bit < 32; ++bit) ones[bit] += static_cast<int>((f >> bit) & 1U);
  }
  for (std::size_t bit = 0; bit < 32; ++bit) {
    EXPECT_NEAR(ones[bit], 5000, 200) << "bit " << bit;
  }
}

TEST(IsnGenerator, DifferentSecretsGiveUnrelatedOffsets) {
  IsnGenerator::Secret other = kSecret;
  other[15] ^= 0x01;  // one bit of key
  const IsnGenerator a(kSecret);
  const IsnGenerator b(other);
  // Neither equal offsets nor a constant difference (which would leak one from the other).
  int equal = 0;
  std::unordered_set<std::uint32_t> differences;
  for (std::uint32_t i = 0; i < 1000; ++i) {
    const FourTuple t = nth_tuple(i);
    equal += static_cast<int>(a.f(t) == b.f(t));
    differences.insert(b.f(t) - a.f(t));
  }
  EXPECT_EQ(equal, 0);
  EXPECT_GT(differences.size(), 990U);
}

TEST(IsnGenerator, TupleHashIsSipHashOfTheTupleBytes) {
  // hash() builds the message's words directly; it must be SipHash-2-4 of the 12 bytes
  // four_tuple_bytes() spells out, for tuples that differ in every byte position.
  const IsnGenerator gen(kSecret);
  const SipHash reference(kSecret);
  std::uint32_t x = 0x9e3779b9U;
  for (int i = 0; i < 1000; ++i) {
    x = x * 1664525U + 1013904223U;
    const std::uint32_t y = x * 2654435761U;
    const FourTuple t{Ipv4Addr{x}, Ipv4Addr{y ^ 0x5a5a5a5aU}, static_cast<std::uint16_t>(x >> 7),
                      static_cast<std::uint16_t>(y >> 3)};
    const auto bytes = four_tuple_bytes(t);
    ASSERT_EQ(gen.hash(t), reference(bytes)) << i;
    EXPECT_EQ(gen.f(t), static_cast<std::uint32_t>(reference(bytes))) << i;
    EXPECT_EQ(gen.ts_offset(t), static_cast<std::uint32_t>(reference(bytes) >> 32)) << i;
  }
}

TEST(IsnGenerator, OpeningIsTheIsnAndTheTimestampOffset) {
  const IsnGenerator gen(kSecret);
  const Instant t{5s + 123us};
  for (std::uint32_t i = 0; i < 100; ++i) {
    const FourTuple tuple = nth_tuple(i);
    const auto o = gen.opening(tuple, t);
    EXPECT_EQ(o.iss, gen.isn(tuple, t));
    EXPECT_EQ(o.ts_offset, gen.ts_offset(tuple));
  }
}

TEST(IsnGenerator, TimestampOffsetIsNotTheIsnOffset) {
  // Seen together in a SYN-ACK, the ISN and the TSval must not reveal each other: no
  // constant difference between the two offsets across tuples.
  const IsnGenerator gen(kSecret);
  std::unordered_set<std::uint32_t> differences;
  for (std::uint32_t i = 0; i < 1000; ++i) {
    const FourTuple t = nth_tuple(i);
    differences.insert(gen.ts_offset(t) - gen.f(t));
  }
  EXPECT_GT(differences.size(), 990U);
}

TEST(IsnGenerator, RandomSecretsDiffer) {
  const auto s1 = IsnGenerator::random_secret();
  const auto s2 = IsnGenerator::random_secret();
  EXPECT_NE(s1, s2);  // 2^-128 chance of a false failure
  EXPECT_NE(IsnGenerator(s1).f(kTuple), IsnGenerator(s2).f(kTuple));  // ~2^-32
}

}  // namespace
}  // namespace sluice::tcp
