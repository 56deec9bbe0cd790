// Tests of wire/bytes.hpp: big-endian loads/stores at unaligned addresses.
#include "wire/bytes.hpp"

#include <gtest/gtest.h>

#include <array>

namespace sluice::wire {
namespace {

TEST(Bytes, LoadsAreBigEndianAtAnyAlignment) {
  const std::array<std::uint8_t, 7> b{0xaa, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc};
  EXPECT_EQ(load_be16(b.data() + 1), 0x1234);
  EXPECT_EQ(load_be16(b.data() + 2), 0x3456);
  EXPECT_EQ(load_be32(b.data() + 1), 0x12345678u);
  EXPECT_EQ(load_be32(b.data() + 3), 0x56789abcu);
}

TEST(Bytes, StoresAreBigEndianAndTouchOnlyTheirBytes) {
  std::array<std::uint8_t, 8> b{};
  b.fill(0xee);
  store_be16(b.data() + 1, 0xbeef);
  store_be32(b.data() + 3, 0xdeadc0deu);
  const std::array<std::uint8_t, 8> want{0xee, 0xbe, 0xef, 0xde, 0xad, 0xc0, 0xde, 0xee};
  EXPECT_EQ(b, want);
  static_assert(to_be16(to_be16(0x1234)) == 0x1234);
}

}  // namespace
}  // namespace sluice::wire
