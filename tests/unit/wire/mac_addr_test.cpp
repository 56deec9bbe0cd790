// Tests of wire/mac_addr.hpp.
#include "wire/mac_addr.hpp"

#include <gtest/gtest.h>

namespace sluice::wire {
namespace {

TEST(MacAddr, Classifies) {
  EXPECT_TRUE(MacAddr::kBroadcast.is_broadcast());
  EXPECT_TRUE(MacAddr::kBroadcast.is_multicast());  // broadcast is a group address
  const MacAddr mdns{{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}};
  EXPECT_TRUE(mdns.is_multicast());
  EXPECT_FALSE(mdns.is_broadcast());
  const MacAddr uni{{0x52, 0x54, 0x00, 0xab, 0xcd, 0xef}};
  EXPECT_FALSE(uni.is_multicast());
  EXPECT_TRUE(uni.is_unicast());
  EXPECT_FALSE((MacAddr{{0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}}.is_broadcast()));
  EXPECT_TRUE(MacAddr::kZero.is_zero());
  EXPECT_FALSE(uni.is_zero());
}

TEST(MacAddr, EqualityLooksAtEveryByte) {
  // operator== compares a 4-byte and a 2-byte word: a difference in any byte, or any bit,
  // makes two addresses unequal; the ordering (<=>) agrees with it.
  const MacAddr base{{0x52, 0x54, 0x00, 0xab, 0xcd, 0xef}};
  MacAddr same = base;  // a run-time copy, not a constant: the word path
  EXPECT_TRUE(same == base);
  EXPECT_EQ(same <=> base, std::strong_ordering::equal);
  for (std::size_t i = 0; i < 6; ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      MacAddr other = base;
      other.bytes[i] = static_cast<std::uint8_t>(other.bytes[i] ^ (1u << bit));
      EXPECT_FALSE(other == base) << "byte " << i << " bit " << bit;
      EXPECT_TRUE(other != base);
      EXPECT_NE(other <=> base, std::strong_ordering::equal);
    }
  }
  static_assert(MacAddr{{1, 2, 3, 4, 5, 6}} == MacAddr{{1, 2, 3, 4, 5, 6}});
  static_assert(!(MacAddr{{1, 2, 3, 4, 5, 6}} == MacAddr{{1, 2, 3, 4, 5, 7}}));
}

TEST(MacAddr, TextRoundTrip) {
  const MacAddr uni{{0x52, 0x54, 0x00, 0xab, 0xcd, 0xef}};
  EXPECT_EQ(uni.to_string(), "52:54:00:ab:cd:ef");
  EXPECT_EQ(MacAddr::parse("52:54:00:AB:cd:ef"), uni);
  EXPECT_EQ(MacAddr::parse("52-54-00-ab-cd-ef"), uni);
  EXPECT_FALSE(MacAddr::parse("52:54:00:ab:cd"));
  EXPECT_FALSE(MacAddr::parse("52:54:00:ab:cd:eg"));
  EXPECT_FALSE(MacAddr::parse("52:54:00:ab:cd:ef:"));
  EXPECT_FALSE(MacAddr::parse("5254.00ab.cdef.xx"));
}

}  // namespace
}  // namespace sluice::wire
