// Tests of wire/tcp_options.hpp: RFC 9293 §3.2, RFC 7323, RFC 2018 option parsing and the
// emit layout.
#include "wire/tcp_options.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "frames.hpp"
#include "test_util.hpp"

namespace sluice::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;

TEST(TcpOptions, ParsesLinuxSynOptions) {
  const auto opts = std::span(test::kTcpSyn).subspan(54, 20);
  auto o = TcpOptions::parse(opts);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->mss, 1460);
  EXPECT_TRUE(o->sack_permitted);
  ASSERT_TRUE(o->timestamps);
  EXPECT_EQ(o->timestamps->tsval, 0x000d5b2fu);
  EXPECT_EQ(o->timestamps->tsecr, 0u);
  EXPECT_EQ(o->window_scale, 7);
  EXPECT_EQ(o->sack_count, 0);
}

TEST(TcpOptions, ParsesSackBlocksFromCapture) {
  const auto opts = std::span(test::kTcpSack).subspan(54, 40);
  auto o = TcpOptions::parse(opts);
  ASSERT_TRUE(o);
  ASSERT_EQ(o->sack_count, 3);
  EXPECT_EQ(o->sack[0].left.raw, 0x9c3b05b5u);
  EXPECT_EQ(o->sack[0].right.raw, 0x9c3b0b69u);
  EXPECT_EQ(o->sack[2].left.raw, 0x9c3b1c39u);
  EXPECT_EQ(o->sack[2].right.raw, 0x9c3b21edu);
  EXPECT_EQ(o->sack_blocks().size(), 3u);
  EXPECT_FALSE(o->mss);
  EXPECT_TRUE(o->timestamps);
}

TEST(TcpOptions, EmptyAndPaddingOnly) {
  auto o = TcpOptions::parse({});
  ASSERT_TRUE(o);
  EXPECT_FALSE(o->mss || o->window_scale || o->timestamps || o->sack_permitted);
  EXPECT_TRUE(TcpOptions::parse(Bytes{1, 1, 1, 1}));
}

TEST(TcpOptions, EndOfListStopsParsing) {
  // EOL, then garbage that would be an error if it were read.
  auto o = TcpOptions::parse(Bytes{2, 4, 0x05, 0xb4, 0, 0xff, 0x00, 0x00});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->mss, 1460);
}

TEST(TcpOptions, UnknownOptionSkippedByLength) {
  // Kind 30 (MPTCP) with 6 bytes, kind 254 (experimental) with 2, then WS 2.
  auto o = TcpOptions::parse(Bytes{30, 6, 0xaa, 0xbb, 0xcc, 0xdd, 254, 2, 3, 3, 2, 0});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->window_scale, 2);
}

TEST(TcpOptions, LengthBelowTwoRejected) {
  EXPECT_EQ(TcpOptions::parse(Bytes{30, 0, 1, 1}).error(), ParseError::TcpOptionBadLength);
  EXPECT_EQ(TcpOptions::parse(Bytes{30, 1, 1, 1}).error(), ParseError::TcpOptionBadLength);
  EXPECT_EQ(TcpOptions::parse(Bytes{2, 0, 1, 1}).error(), ParseError::TcpOptionBadLength);
}

TEST(TcpOptions, OptionRunningPastTheHeaderRejected) {
  EXPECT_EQ(TcpOptions::parse(Bytes{1, 1, 1, 2}).error(), ParseError::TcpOptionTruncated);
  EXPECT_EQ(TcpOptions::parse(Bytes{1, 1, 30, 3}).error(), ParseError::TcpOptionTruncated);
  EXPECT_EQ(TcpOptions::parse(Bytes{8, 10, 0, 0, 0, 0, 0, 0}).error(),
            ParseError::TcpOptionTruncated);
  // A kind byte that ends the area is cut, whatever byte follows it in memory (here a
  // "length" of 1 that must not be read).
  const Bytes mem{1, 1, 30, 1};
  EXPECT_EQ(TcpOptions::parse(std::span(mem).first(3)).error(), ParseError::TcpOptionTruncated);
  // Every prefix of the SYN options that cuts an option is refused, never read past.
  const auto syn = test::to_vec(std::span(test::kTcpSyn).subspan(54, 20));
  for (std::size_t n : {1u, 2u, 3u, 5u, 7u, 8u, 9u, 10u, 11u, 12u, 13u, 14u, 15u, 18u, 19u}) {
    auto r = TcpOptions::parse(std::span(syn).first(n));
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error(), ParseError::TcpOptionTruncated) << n;
  }
}

TEST(TcpOptions, KnownKindsWithWrongLengthRejected) {
  EXPECT_EQ(TcpOptions::parse(Bytes{2, 3, 5, 0}).error(), ParseError::TcpOptionBadLength);
  EXPECT_EQ(TcpOptions::parse(Bytes{3, 4, 7, 0}).error(), ParseError::TcpOptionBadLength);
  EXPECT_EQ(TcpOptions::parse(Bytes{4, 3, 0, 0}).error(), ParseError::TcpOptionBadLength);
  EXPECT_EQ(TcpOptions::parse(Bytes{8, 9, 0, 0, 0, 0, 0, 0, 0, 0}).error(),
            ParseError::TcpOptionBadLength);
}

TEST(TcpOptions, WindowScaleAbove14ClampedTo14) {
  EXPECT_EQ(TcpOptions::parse(Bytes{3, 3, 14, 0})->window_scale, 14);
  EXPECT_EQ(TcpOptions::parse(Bytes{3, 3, 15, 0})->window_scale, 14);
  EXPECT_EQ(TcpOptions::parse(Bytes{3, 3, 255, 0})->window_scale, 14);
  EXPECT_EQ(TcpOptions::parse(Bytes{3, 3, 0, 0})->window_scale, 0);
}

Bytes sack_option(std::size_t blocks) {
  Bytes b{1, 1, 5, static_cast<std::uint8_t>(2 + 8 * blocks)};
  for (std::size_t i = 0; i < blocks; ++i) {
    const auto base = static_cast<std::uint8_t>(0x10 * (i + 1));
    for (std::uint8_t k = 0; k < 8; ++k) b.push_back(static_cast<std::uint8_t>(base + k));
  }
  return b;
}

TEST(TcpOptions, SackWithOneToFourBlocks) {
  for (std::size_t n = 1; n <= 4; ++n) {
    auto o = TcpOptions::parse(sack_option(n));
    ASSERT_TRUE(o) << n;
    ASSERT_EQ(o->sack_count, n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto base = static_cast<std::uint32_t>(0x10 * (i + 1));
      const std::uint32_t left = (base << 24) | ((base + 1) << 16) | ((base + 2) << 8) | (base + 3);
      EXPECT_EQ(o->sack[i].left.raw, left);
      EXPECT_EQ(o->sack[i].right.raw, left + 0x04040404u);
    }
  }
}

TEST(TcpOptions, SackBadLengthsRejected) {
  for (int len : {2, 3, 9, 11, 17, 33, 35}) {
    Bytes b{5, static_cast<std::uint8_t>(len)};
    b.resize(36, 0);
    auto r = TcpOptions::parse(b);
    ASSERT_FALSE(r) << len;
    EXPECT_EQ(r.error(), ParseError::TcpOptionBadLength) << len;
  }
}

TEST(TcpOptions, EmitsLinuxSynLayoutExactly) {
  // MSS, SACK-permitted+TS, NOP WS is the layout Linux sends: the capture is the answer.
  TcpOptions o;
  o.mss = 1460;
  o.sack_permitted = true;
  o.timestamps = TcpTimestamps{0x000d5b2f, 0};
  o.window_scale = 7;
  ASSERT_EQ(o.emit_len(), 20u);
  Bytes out(20);
  ASSERT_EQ(o.emit(out), 20u);
  EXPECT_EQ(out, test::to_vec(std::span(test::kTcpSyn).subspan(54, 20)));
  Bytes small(19);
  EXPECT_EQ(o.emit(small), 0u);
}

TEST(TcpOptions, EmitsDataSegmentLayoutsExactly) {
  TcpOptions o;
  o.timestamps = TcpTimestamps{0x000d5b3a, 0x7e1f3c20};
  Bytes out(40);
  ASSERT_EQ(o.emit(out), 12u);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + 12),
            test::to_vec(std::span(test::kTcpData).subspan(54, 12)));
  o.sack_count = 3;
  o.sack[0] = {Seq{0x9c3b05b5}, Seq{0x9c3b0b69}};
  o.sack[1] = {Seq{0x9c3b10d1}, Seq{0x9c3b1685}};
  o.sack[2] = {Seq{0x9c3b1c39}, Seq{0x9c3b21ed}};
  ASSERT_EQ(o.emit(out), 40u);
  EXPECT_EQ(out, test::to_vec(std::span(test::kTcpSack).subspan(54, 40)));
}

TEST(TcpOptions, SackBlocksThatDoNotFitAreLeftOut) {
  TcpOptions o;
  o.sack_count = 4;
  EXPECT_EQ(o.emit_len(), 36u);  // NOP NOP SACK(34)
  o.timestamps = TcpTimestamps{1, 2};
  EXPECT_EQ(o.sack_blocks_to_emit(), 3u);  // 12 + 4 + 24 = 40
  EXPECT_EQ(o.emit_len(), 40u);
  o.mss = 536;
  EXPECT_EQ(o.sack_blocks_to_emit(), 2u);  // 16 fixed + 4 + 16 = 36; three would be 44
  EXPECT_EQ(o.emit_len(), 36u);
}

TEST(TcpOptions, SackBlocksFillingFortyBytes) {
  TcpOptions o;
  o.mss = 536;
  o.window_scale = 1;
  o.timestamps = TcpTimestamps{1, 2};
  o.sack_count = 4;
  EXPECT_EQ(o.sack_blocks_to_emit(), 2u);  // 20 fixed + 4 + 2*8 = 40
  EXPECT_EQ(o.emit_len(), 40u);
}

TEST(TcpOptions, RandomRoundTrip) {
  std::mt19937 rng(11);
  Bytes buf(40);
  for (int i = 0; i < 5000; ++i) {
    TcpOptions o;
    if (rng() & 1) o.mss = test::random_of<std::uint16_t>(rng);
    if (rng() & 1) o.window_scale = static_cast<std::uint8_t>(rng() % 15);
    o.sack_permitted = rng() & 1;
    if (rng() & 1)
      o.timestamps =
          TcpTimestamps{static_cast<std::uint32_t>(rng()), static_cast<std::uint32_t>(rng())};
    o.sack_count = static_cast<std::uint8_t>(rng() % 5);
    for (auto& b : o.sack)
      b = {Seq{static_cast<std::uint32_t>(rng())}, Seq{static_cast<std::uint32_t>(rng())}};
    const std::size_t len = o.emit(buf);
    ASSERT_EQ(len, o.emit_len());
    ASSERT_EQ(len % 4, 0u);
    ASSERT_LE(len, 40u);
    auto b = TcpOptions::parse(std::span(buf).first(len));
    ASSERT_TRUE(b);
    EXPECT_EQ(b->mss, o.mss);
    EXPECT_EQ(b->window_scale, o.window_scale);
    EXPECT_EQ(b->sack_permitted, o.sack_permitted);
    EXPECT_EQ(b->timestamps, o.timestamps);
    ASSERT_EQ(b->sack_count, o.sack_blocks_to_emit());
    for (std::size_t k = 0; k < b->sack_count; ++k) EXPECT_EQ(b->sack[k], o.sack[k]);
  }
}

}  // namespace
}  // namespace sluice::wire
