// Tests of wire/arp.hpp: RFC 826 parse/emit for Ethernet/IPv4.
#include "wire/arp.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "frames.hpp"
#include "test_util.hpp"

namespace sluice::wire {
namespace {

std::span<const std::uint8_t> arp_body() {
  return std::span(test::kArpRequest).subspan(14);
}

TEST(ArpPacket, ParsesCapturedRequest) {
  auto a = ArpPacket::parse(arp_body());  // includes 18 bytes of Ethernet padding
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_request());
  EXPECT_EQ(a->sha, (MacAddr{{0x52, 0x54, 0x00, 0xab, 0xcd, 0xef}}));
  EXPECT_EQ(a->spa, Ipv4Addr::from_octets(198, 18, 0, 1));
  EXPECT_TRUE(a->tha.is_zero());
  EXPECT_EQ(a->tpa, Ipv4Addr::from_octets(198, 18, 0, 2));
}

TEST(ArpPacket, EmitsTheCapturedBytes) {
  ArpPacket a;
  a.op = ArpPacket::kOpRequest;
  a.sha = MacAddr{{0x52, 0x54, 0x00, 0xab, 0xcd, 0xef}};
  a.spa = Ipv4Addr::from_octets(198, 18, 0, 1);
  a.tpa = Ipv4Addr::from_octets(198, 18, 0, 2);
  std::vector<std::uint8_t> out(28);
  ASSERT_EQ(a.emit(out), 28u);
  EXPECT_EQ(out, test::to_vec(arp_body().first(28)));
  std::vector<std::uint8_t> small(27);
  EXPECT_EQ(a.emit(small), 0u);
}

TEST(ArpPacket, RefusesEachBadField) {
  for (std::size_t n = 0; n < 28; ++n) {
    auto a = ArpPacket::parse(arp_body().first(n));
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error(), ParseError::ArpTooShort);
  }
  auto with = [](std::size_t at, std::uint8_t v) {
    auto b = test::to_vec(arp_body());
    b[at] = v;
    return ArpPacket::parse(b);
  };
  EXPECT_EQ(with(1, 6).error(), ParseError::ArpBadHardware);  // IEEE 802 (6) not Ethernet
  EXPECT_EQ(with(2, 0x86).error(), ParseError::ArpBadProtocol);
  EXPECT_EQ(with(4, 8).error(), ParseError::ArpBadAddressLength);
  EXPECT_EQ(with(5, 16).error(), ParseError::ArpBadAddressLength);
  EXPECT_EQ(with(7, 3).error(), ParseError::ArpBadOperation);  // RARP request
  EXPECT_EQ(with(7, 0).error(), ParseError::ArpBadOperation);
  EXPECT_TRUE(with(7, 2)->is_reply());
}

TEST(ArpPacket, RandomRoundTrip) {
  std::mt19937 rng(8);
  std::vector<std::uint8_t> buf(28);
  for (int i = 0; i < 1000; ++i) {
    ArpPacket a;
    a.op = (rng() & 1) ? ArpPacket::kOpRequest : ArpPacket::kOpReply;
    for (auto& b : a.sha.bytes) b = test::random_of<std::uint8_t>(rng);
    for (auto& b : a.tha.bytes) b = test::random_of<std::uint8_t>(rng);
    a.spa = Ipv4Addr{test::random_of<std::uint32_t>(rng)};
    a.tpa = Ipv4Addr{test::random_of<std::uint32_t>(rng)};
    ASSERT_EQ(a.emit(buf), 28u);
    auto b = ArpPacket::parse(buf);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->op, a.op);
    EXPECT_EQ(b->sha, a.sha);
    EXPECT_EQ(b->tha, a.tha);
    EXPECT_EQ(b->spa, a.spa);
    EXPECT_EQ(b->tpa, a.tpa);
  }
}

}  // namespace
}  // namespace sluice::wire
