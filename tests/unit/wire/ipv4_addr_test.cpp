// Tests of wire/ipv4_addr.hpp: dotted-quad parse/print, classification, ordering.
#include "wire/ipv4_addr.hpp"

#include <gtest/gtest.h>

namespace sluice::wire {
namespace {

TEST(Ipv4Addr, ParsesDottedQuadToHostOrder) {
  auto a = Ipv4Addr::parse("198.18.0.1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->value, 0xc6120001u);
  EXPECT_EQ(Ipv4Addr::parse("0.0.0.0")->value, 0u);
  EXPECT_EQ(Ipv4Addr::parse("255.255.255.255")->value, 0xffffffffu);
  EXPECT_EQ(Ipv4Addr::from_octets(10, 1, 2, 3).value, 0x0a010203u);
}

TEST(Ipv4Addr, RejectsMalformed) {
  for (const char* bad :
       {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4", "1..2.3", "1.2.3.",
        "01.2.3.4", "1.2.3.0004", "a.b.c.d", "1.2.3.-4", "1.2.3.1000", "+1.2.3.4"}) {
    EXPECT_FALSE(Ipv4Addr::parse(bad)) << bad;
  }
}

TEST(Ipv4Addr, PrintsAndRoundTrips) {
  EXPECT_EQ(Ipv4Addr{0xc6120001u}.to_string(), "198.18.0.1");
  EXPECT_EQ(Ipv4Addr{0xffffffffu}.to_string(), "255.255.255.255");
  EXPECT_EQ(Ipv4Addr{0}.to_string(), "0.0.0.0");
  for (std::uint32_t v : {0x01020304u, 0x7f000001u, 0xe00000fbu, 0x0a00ff00u}) {
    EXPECT_EQ(Ipv4Addr::parse(Ipv4Addr{v}.to_string())->value, v);
  }
}

TEST(Ipv4Addr, Classifies) {
  EXPECT_TRUE(Ipv4Addr::from_octets(224, 0, 0, 251).is_multicast());
  EXPECT_TRUE(Ipv4Addr::from_octets(239, 255, 255, 255).is_multicast());
  EXPECT_FALSE(Ipv4Addr::from_octets(240, 0, 0, 1).is_multicast());
  EXPECT_FALSE(Ipv4Addr::from_octets(223, 255, 255, 255).is_multicast());
  EXPECT_TRUE(Ipv4Addr{0xffffffffu}.is_broadcast());
  EXPECT_TRUE(Ipv4Addr::from_octets(127, 0, 0, 1).is_loopback());
  EXPECT_TRUE(Ipv4Addr{}.is_unspecified());
  EXPECT_LT(Ipv4Addr::from_octets(9, 255, 255, 255), Ipv4Addr::from_octets(10, 0, 0, 0));
}

}  // namespace
}  // namespace sluice::wire
