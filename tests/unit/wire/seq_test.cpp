// Tests of wire/seq.hpp: RFC 9293 §3.4 modular comparisons across the 2^32 wrap.
#include "wire/seq.hpp"

#include <gtest/gtest.h>

namespace sluice::wire {
namespace {

TEST(Seq, OrdersAcrossTheWrap) {
  const Seq before{0xfffffff0u};
  const Seq after{0x10u};
  EXPECT_TRUE(before < after);
  EXPECT_TRUE(before <= after);
  EXPECT_FALSE(before > after);
  EXPECT_FALSE(before >= after);
  EXPECT_TRUE(after > before);
  EXPECT_TRUE(after >= before);
  EXPECT_FALSE(after < before);
  EXPECT_FALSE(before == after);
}

TEST(Seq, EqualIsBothLessEqualAndGreaterEqual) {
  const Seq a{0x80000000u};
  EXPECT_TRUE(a <= a);
  EXPECT_TRUE(a >= a);
  EXPECT_FALSE(a < a);
  EXPECT_FALSE(a > a);
  EXPECT_TRUE(a == Seq{0x80000000u});
}

TEST(Seq, OrdersWithinHalfTheSpace) {
  EXPECT_TRUE(Seq{0} < Seq{0x7fffffffu});            // 2^31 - 1 ahead: later
  EXPECT_TRUE(Seq{0x7fffffffu} < Seq{0xfffffffeu});  // still less than 2^31 apart
  EXPECT_TRUE(Seq{0xffffffffu} < Seq{0});
  EXPECT_TRUE(Seq{1} > Seq{0xffffffffu});
}

TEST(Seq, ArithmeticWraps) {
  EXPECT_EQ((Seq{0xfffffff0u} + 0x20u).raw, 0x10u);
  EXPECT_EQ((Seq{0x10u} - 0x20u).raw, 0xfffffff0u);
  Seq s{0xffffffffu};
  s += 1;
  EXPECT_EQ(s.raw, 0u);
  s -= 2;
  EXPECT_EQ(s.raw, 0xfffffffeu);
}

TEST(Seq, DistanceIsSigned) {
  EXPECT_EQ(Seq{0x10u} - Seq{0xfffffff0u}, 0x20);
  EXPECT_EQ(Seq{0xfffffff0u} - Seq{0x10u}, -0x20);
  EXPECT_EQ(Seq{5} - Seq{5}, 0);
  EXPECT_EQ(Seq{0x7fffffffu} - Seq{0}, 0x7fffffff);
}

TEST(Seq, MinMax) {
  EXPECT_EQ(seq_max(Seq{0xfffffff0u}, Seq{3}).raw, 3u);
  EXPECT_EQ(seq_min(Seq{0xfffffff0u}, Seq{3}).raw, 0xfffffff0u);
}

TEST(Seq, WindowMembershipAtTheEdges) {
  const Seq left{0xfffffffcu};
  // Window [0xfffffffc, 0xfffffffc + 8) = {..fc, fd, fe, ff, 0, 1, 2, 3}
  EXPECT_TRUE(seq_in_window(left, left, 8));
  EXPECT_TRUE(seq_in_window(Seq{3}, left, 8));
  EXPECT_FALSE(seq_in_window(Seq{4}, left, 8));            // right edge is exclusive
  EXPECT_FALSE(seq_in_window(Seq{0xfffffffbu}, left, 8));  // just before the left edge
  EXPECT_FALSE(seq_in_window(left, left, 0));              // empty window holds nothing
  EXPECT_TRUE(seq_in_window(Seq{0xfffffffbu}, Seq{0}, 0xffffffffu));
}

TEST(Seq, BetweenIsInclusive) {
  const Seq una{0xfffffff0u};
  const Seq nxt{0x10u};
  EXPECT_TRUE(seq_between(una, una, nxt));
  EXPECT_TRUE(seq_between(una, nxt, nxt));
  EXPECT_TRUE(seq_between(una, Seq{0}, nxt));
  EXPECT_FALSE(seq_between(una, Seq{0x11u}, nxt));
  EXPECT_FALSE(seq_between(una, Seq{0xffffffefu}, nxt));
}

static_assert(Seq{0xfffffff0u} < Seq{0x10u}, "constexpr");
static_assert((Seq{1} + 2).raw == 3);

}  // namespace
}  // namespace sluice::wire
