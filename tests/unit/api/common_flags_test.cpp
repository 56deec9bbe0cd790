// The flags every program takes (--addr, --gateway, --stats, --mtu): values in, errors out.
#include <gtest/gtest.h>

#include "api/runtime.hpp"

namespace sluice::api {
namespace {

TEST(ParseCidr, AddressWithAndWithoutPrefix) {
  wire::Ipv4Addr a;
  std::uint8_t len = 0;
  ASSERT_TRUE(parse_cidr("198.18.0.1/24", a, len));
  EXPECT_EQ(a, wire::Ipv4Addr::from_octets(198, 18, 0, 1));
  EXPECT_EQ(len, 24);
  ASSERT_TRUE(parse_cidr("10.0.0.9", a, len));
  EXPECT_EQ(len, 32);  // a host route without "/LEN"
  ASSERT_TRUE(parse_cidr("0.0.0.0/0", a, len));
  EXPECT_EQ(len, 0);
}

TEST(ParseCidr, RejectsBadInput) {
  wire::Ipv4Addr a = wire::Ipv4Addr::from_octets(1, 2, 3, 4);
  std::uint8_t len = 7;
  for (const char* bad :
       {"198.18.0.1/33", "198.18.0.1/", "198.18.0/24", "x/24", "198.18.0.1/2a", ""}) {
    EXPECT_FALSE(parse_cidr(bad, a, len)) << bad;
  }
  EXPECT_EQ(a, wire::Ipv4Addr::from_octets(1, 2, 3, 4));  // untouched on error
  EXPECT_EQ(len, 7);
}

TEST(CommonFlags, EachFlagLandsInItsField) {
  CommonOptions o;
  EXPECT_TRUE(parse_common_flag(kOptAddr, "198.18.0.1/16", o, "t"));
  EXPECT_TRUE(parse_common_flag(kOptGateway, "198.18.0.254", o, "t"));
  EXPECT_TRUE(parse_common_flag(kOptStats, nullptr, o, "t"));
  EXPECT_TRUE(parse_common_flag(kOptMtu, "9000", o, "t"));
  EXPECT_TRUE(parse_common_flag(kOptBuffer, "4194304", o, "t"));
  EXPECT_EQ(o.addr, wire::Ipv4Addr::from_octets(198, 18, 0, 1));
  EXPECT_EQ(o.prefix_len, 16);
  EXPECT_EQ(o.gateway, wire::Ipv4Addr::from_octets(198, 18, 0, 254));
  EXPECT_TRUE(o.stats);
  EXPECT_EQ(o.mtu, 9000);
  EXPECT_EQ(o.buffer, 4194304u);
}

TEST(CommonFlags, BadValuesAreRefused) {
  CommonOptions o;
  EXPECT_FALSE(parse_common_flag(kOptAddr, "300.1.1.1/24", o, "t"));
  EXPECT_FALSE(parse_common_flag(kOptGateway, "gw", o, "t"));
  EXPECT_FALSE(parse_common_flag(kOptMtu, "575", o, "t"));  // below the IPv4 minimum
  EXPECT_FALSE(parse_common_flag(kOptMtu, "9601", o, "t"));
  EXPECT_FALSE(parse_common_flag(kOptMtu, "1500x", o, "t"));
  EXPECT_EQ(o.mtu, 0);
  // --buffer: 16 KB to 64 MB, a plain number of bytes.
  EXPECT_FALSE(parse_common_flag(kOptBuffer, "16383", o, "t"));
  EXPECT_FALSE(parse_common_flag(kOptBuffer, "67108865", o, "t"));
  EXPECT_FALSE(parse_common_flag(kOptBuffer, "1M", o, "t"));
  EXPECT_FALSE(parse_common_flag(kOptBuffer, "", o, "t"));
  EXPECT_FALSE(parse_common_flag(kOptBuffer, "-18446744073709535232", o, "t"));
  EXPECT_EQ(o.buffer, 0u);
  EXPECT_TRUE(parse_common_flag(kOptBuffer, "16384", o, "t"));
  EXPECT_TRUE(parse_common_flag(kOptBuffer, "67108864", o, "t"));
  EXPECT_TRUE(o.addr.is_unspecified());
}

}  // namespace
}  // namespace sluice::api
