// Tests of wire/tcp_options.hpp: RFC 9293 §3.2, RFC 7323, RFC 2018 option parsing and the
// emit layout.
#include "wire/tcp_options.hpp"

#include <gtest/gtest.h>

#include <algorithm>
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

// ---------------------------------------------------------------- short paths vs the loop
// parse_into matches whole layouts (NOP NOP TS; NOP NOP TS NOP NOP SACK; the SYN layout)
// before the byte-by-byte loop. For every input it must give what parse_into_general gives.

// A TcpOptions full of values a parse must overwrite or reset.
TcpOptions dirty_options() {
  TcpOptions o;
  o.mss = 1;
  o.window_scale = 2;
  o.sack_permitted = true;
  o.sack_count = 4;
  for (auto& b : o.sack) b = {Seq{0xdeadbeef}, Seq{0xfeedface}};
  o.timestamps = TcpTimestamps{3, 4};
  return o;
}

// parse_into and parse_into_general agree on `bytes`: same error, or the same options.
::testing::AssertionResult same_as_general(std::span<const std::uint8_t> bytes) {
  TcpOptions fast = dirty_options();
  TcpOptions slow = dirty_options();
  const auto rf = TcpOptions::parse_into(bytes, fast);
  const auto rs = TcpOptions::parse_into_general(bytes, slow);
  auto fail = [&] {
    auto r = ::testing::AssertionFailure() << "bytes:";
    for (auto b : bytes) r << ' ' << int{b};
    return r;
  };
  if (rf.ok() != rs.ok()) return fail() << " ok " << rf.ok() << " vs " << rs.ok();
  if (!rf) {
    if (rf.error() != rs.error()) return fail() << " different errors";
    return ::testing::AssertionSuccess();
  }
  if (fast.mss != slow.mss || fast.window_scale != slow.window_scale ||
      fast.sack_permitted != slow.sack_permitted || fast.timestamps != slow.timestamps ||
      fast.sack_count != slow.sack_count) {
    return fail() << " different options";
  }
  for (std::size_t k = 0; k < fast.sack_blocks().size(); ++k) {
    if (fast.sack[k] != slow.sack[k]) return fail() << " different SACK block " << k;
  }
  return ::testing::AssertionSuccess();
}

Bytes random_bytes(std::mt19937& rng, std::size_t n) {
  Bytes b(n);
  for (auto& x : b) x = test::random_of<std::uint8_t>(rng);
  return b;
}

// The layouts the short paths take, with random values in the value fields.
Bytes ts_layout(std::mt19937& rng) {
  Bytes b{1, 1, 8, 10};
  const Bytes v = random_bytes(rng, 8);
  b.insert(b.end(), v.begin(), v.end());
  return b;
}
Bytes ts_sack_layout(std::mt19937& rng, std::size_t blocks) {
  Bytes b = ts_layout(rng);
  b.insert(b.end(), {1, 1, 5, static_cast<std::uint8_t>(2 + 8 * blocks)});
  const Bytes v = random_bytes(rng, 8 * blocks);
  b.insert(b.end(), v.begin(), v.end());
  return b;
}
Bytes syn_layout(std::mt19937& rng, bool sack_permitted) {
  const Bytes v = random_bytes(rng, 11);
  Bytes b{2, 4, v[0], v[1]};
  if (sack_permitted) {
    b.insert(b.end(), {4, 2});
  } else {
    b.insert(b.end(), {1, 1});
  }
  b.insert(b.end(), {8, 10});
  b.insert(b.end(), v.begin() + 2, v.begin() + 10);
  b.insert(b.end(), {1, 3, 3, v[10]});
  return b;
}

TEST(TcpOptionsShortPath, TimestampsOnlyLayout) {
  const Bytes b{1, 1, 8, 10, 0x00, 0x0d, 0x5b, 0x3a, 0x7e, 0x1f, 0x3c, 0x20};
  TcpOptions o = dirty_options();
  ASSERT_TRUE(TcpOptions::parse_into(b, o));
  EXPECT_FALSE(o.mss || o.window_scale || o.sack_permitted);
  EXPECT_EQ(o.sack_count, 0);
  EXPECT_EQ(o.timestamps, (TcpTimestamps{0x000d5b3a, 0x7e1f3c20}));
  EXPECT_TRUE(same_as_general(test::to_vec(std::span(test::kTcpData).subspan(54, 12))));
}

TEST(TcpOptionsShortPath, TimestampsAndSackLayout) {
  TcpOptions o = dirty_options();
  const auto capture = std::span(test::kTcpSack).subspan(54, 40);
  ASSERT_TRUE(TcpOptions::parse_into(capture, o));
  EXPECT_FALSE(o.mss || o.window_scale || o.sack_permitted);
  EXPECT_TRUE(o.timestamps);
  ASSERT_EQ(o.sack_count, 3);
  EXPECT_EQ(o.sack[1], (SackBlock{Seq{0x9c3b10d1}, Seq{0x9c3b1685}}));
  EXPECT_TRUE(same_as_general(capture));
}

TEST(TcpOptionsShortPath, SynLayout) {
  const auto capture = std::span(test::kTcpSyn).subspan(54, 20);
  TcpOptions o = dirty_options();
  ASSERT_TRUE(TcpOptions::parse_into(capture, o));
  EXPECT_EQ(o.mss, 1460);
  EXPECT_EQ(o.window_scale, 7);
  EXPECT_TRUE(o.sack_permitted);
  EXPECT_EQ(o.sack_count, 0);
  EXPECT_EQ(o.timestamps, (TcpTimestamps{0x000d5b2f, 0}));
  EXPECT_TRUE(same_as_general(capture));
  // A window scale above 14 is clamped on the short path too.
  Bytes big = test::to_vec(capture);
  big[19] = 200;
  ASSERT_TRUE(TcpOptions::parse_into(big, o));
  EXPECT_EQ(o.window_scale, 14);
  EXPECT_TRUE(same_as_general(big));
}

TEST(TcpOptionsShortPath, RandomValuesInEachLayout) {
  std::mt19937 rng(21);
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(same_as_general(ts_layout(rng)));
    for (std::size_t blocks = 1; blocks <= 3; ++blocks) {
      ASSERT_TRUE(same_as_general(ts_sack_layout(rng, blocks)));
    }
    ASSERT_TRUE(same_as_general(syn_layout(rng, true)));
    ASSERT_TRUE(same_as_general(syn_layout(rng, false)));
  }
}

TEST(TcpOptionsShortPath, EveryOneByteChangeOfEachLayout) {
  // Each byte of each layout set to each of a set of values (the kinds, lengths around
  // the right ones, and 0xff): near misses that a short path must not take wrongly.
  std::mt19937 rng(22);
  std::vector<Bytes> layouts{ts_layout(rng),         ts_sack_layout(rng, 1),
                             ts_sack_layout(rng, 2), ts_sack_layout(rng, 3),
                             syn_layout(rng, true),  syn_layout(rng, false)};
  const Bytes values{0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 17, 18, 19, 25, 26, 27, 0xff};
  for (const Bytes& layout : layouts) {
    for (std::size_t at = 0; at < layout.size(); ++at) {
      for (std::uint8_t v : values) {
        Bytes b = layout;
        b[at] = v;
        ASSERT_TRUE(same_as_general(b));
      }
    }
    // Shorter and longer areas with the same start, padded with NOPs or EOLs.
    for (std::size_t n = 0; n <= 40; ++n) {
      for (std::uint8_t pad : {std::uint8_t{0}, std::uint8_t{1}}) {
        Bytes b = layout;
        b.resize(n, pad);
        ASSERT_TRUE(same_as_general(b));
      }
    }
  }
}

TEST(TcpOptionsShortPath, RandomByteStrings) {
  // Random areas of 0..40 bytes, drawn mostly from the kinds and lengths that matter so
  // that many parse (fully random bytes almost never do), plus mutated layouts.
  std::mt19937 rng(23);
  const Bytes common{0, 1, 2, 3, 4, 5, 8, 10, 12, 18, 26, 34};
  for (int i = 0; i < 200000; ++i) {
    Bytes b;
    switch (rng() % 4) {
      case 0: b = random_bytes(rng, rng() % 41); break;
      case 1:
        b.resize(rng() % 41);
        for (auto& x : b) {
          x = (rng() % 4 != 0) ? common[rng() % common.size()] : test::random_of<std::uint8_t>(rng);
        }
        break;
      case 2: {
        const std::size_t which = rng() % 4;
        b = which == 0   ? ts_layout(rng)
            : which == 1 ? ts_sack_layout(rng, 1 + rng() % 3)
                         : syn_layout(rng, which == 2);
        for (auto k = rng() % 3; k > 0; --k)
          b[rng() % b.size()] = common[rng() % common.size()];
        break;
      }
      default: {
        // Options glued together from the known ones, in any order.
        while (b.size() < 40) {
          const std::size_t which = rng() % 6;
          Bytes part = which == 0   ? Bytes{1}
                       : which == 1 ? Bytes{2, 4, 5, 0xb4}
                       : which == 2 ? Bytes{3, 3, static_cast<std::uint8_t>(rng() % 20)}
                       : which == 3 ? Bytes{4, 2}
                       : which == 4 ? ts_layout(rng)
                                    : ts_sack_layout(rng, 1 + rng() % 4);
          b.insert(b.end(), part.begin(), part.end());
          if (rng() % 3 == 0) break;
        }
        if (b.size() > 40) b.resize(rng() % 2 ? 40 : b.size());
        break;
      }
    }
    ASSERT_TRUE(same_as_general(b)) << "iteration " << i;
  }
}

// ---------------------------------------------------------------- emit vs a reference
// The SACK blocks that fit after the other options, counted one by one.
std::size_t reference_sack_blocks(const TcpOptions& o) {
  const std::size_t fixed = (o.mss ? 4 : 0) +
                            (o.timestamps       ? 12
                             : o.sack_permitted ? 4
                                                : 0) +
                            (o.window_scale ? 4 : 0);
  std::size_t blocks = std::min<std::size_t>(o.sack_count, 4);
  while (blocks > 0 && fixed + 4 + 8 * blocks > 40) --blocks;
  return blocks;
}

// The bytes emit() writes, rebuilt the slow way from the layout in tcp_options.hpp.
Bytes reference_emit(const TcpOptions& o) {
  Bytes b;
  if (o.mss)
    b.insert(b.end(),
             {2, 4, static_cast<std::uint8_t>(*o.mss >> 8), static_cast<std::uint8_t>(*o.mss)});
  auto be32 = [&b](std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
  };
  if (o.timestamps) {
    if (o.sack_permitted) {
      b.insert(b.end(), {4, 2, 8, 10});
    } else {
      b.insert(b.end(), {1, 1, 8, 10});
    }
    be32(o.timestamps->tsval);
    be32(o.timestamps->tsecr);
  } else if (o.sack_permitted) {
    b.insert(b.end(), {1, 1, 4, 2});
  }
  if (o.window_scale) b.insert(b.end(), {1, 3, 3, *o.window_scale});
  const std::size_t blocks = reference_sack_blocks(o);
  if (blocks > 0) {
    b.insert(b.end(), {1, 1, 5, static_cast<std::uint8_t>(2 + 8 * blocks)});
    for (std::size_t k = 0; k < blocks; ++k) {
      be32(o.sack[k].left.raw);
      be32(o.sack[k].right.raw);
    }
  }
  return b;
}

TEST(TcpOptionsEmit, EveryCombinationMatchesTheReferenceBytes) {
  std::mt19937 rng(24);
  for (unsigned mask = 0; mask < 16; ++mask) {
    for (std::uint8_t count = 0; count <= 6; ++count) {
      TcpOptions o;
      if (mask & 1) o.mss = test::random_of<std::uint16_t>(rng);
      if (mask & 2) o.window_scale = static_cast<std::uint8_t>(rng() % 15);
      o.sack_permitted = (mask & 4) != 0;
      if (mask & 8)
        o.timestamps =
            TcpTimestamps{static_cast<std::uint32_t>(rng()), static_cast<std::uint32_t>(rng())};
      o.sack_count = count;
      for (auto& b : o.sack) {
        b = {Seq{static_cast<std::uint32_t>(rng())}, Seq{static_cast<std::uint32_t>(rng())}};
      }
      const Bytes want = reference_emit(o);
      ASSERT_EQ(o.emit_len(), want.size()) << mask << ' ' << int{count};
      ASSERT_EQ(o.sack_blocks_to_emit(), reference_sack_blocks(o));
      // Nothing written past emit_len(), and a buffer one byte short is refused untouched.
      Bytes out(41, 0xee);
      ASSERT_EQ(o.emit(out), want.size());
      EXPECT_EQ(Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(want.size())), want);
      for (std::size_t k = want.size(); k < out.size(); ++k) ASSERT_EQ(out[k], 0xee) << k;
      if (!want.empty()) {
        Bytes small(want.size() - 1, 0xee);
        EXPECT_EQ(o.emit(small), 0u);
        EXPECT_EQ(small, Bytes(want.size() - 1, 0xee));
      }
      // And it parses back through the short paths and the loop alike.
      ASSERT_TRUE(same_as_general(want));
    }
  }
}

}  // namespace
}  // namespace sluice::wire
