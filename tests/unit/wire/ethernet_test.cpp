// Tests of wire/ethernet.hpp: Ethernet II and 802.1Q parse/emit.
#include "wire/ethernet.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "frames.hpp"
#include "test_util.hpp"

namespace sluice::wire {
namespace {

const MacAddr kA{{0x52, 0x54, 0x00, 0xab, 0xcd, 0xef}};
const MacAddr kB{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};

TEST(EthernetHeader, ParsesUntaggedCapture) {
  auto h = EthernetHeader::parse(test::kTcpSyn);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->dst, kB);
  EXPECT_EQ(h->src, kA);
  EXPECT_EQ(h->ethertype, 0x0800);
  EXPECT_TRUE(h->is(EtherType::Ipv4));
  EXPECT_FALSE(h->vlan_tci);
  EXPECT_EQ(h->header_len(), 14u);
}

TEST(EthernetHeader, ParsesVlanTaggedCapture) {
  auto h = EthernetHeader::parse(test::kTcpSynVlan);
  ASSERT_TRUE(h);
  ASSERT_TRUE(h->vlan_tci);
  EXPECT_EQ(*h->vlan_tci, 100);
  EXPECT_EQ(h->ethertype, 0x0800);
  EXPECT_EQ(h->header_len(), 18u);
}

TEST(EthernetHeader, ParsesBroadcastArp) {
  auto h = EthernetHeader::parse(test::kArpRequest);
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->dst.is_broadcast());
  EXPECT_TRUE(h->is(EtherType::Arp));
}

TEST(EthernetHeader, RefusesTruncation) {
  for (std::size_t n = 0; n < 14; ++n) {
    auto h = EthernetHeader::parse(std::span(test::kTcpSyn).first(n));
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error(), ParseError::FrameTooShort);
  }
  for (std::size_t n = 14; n < 18; ++n) {
    auto h = EthernetHeader::parse(std::span(test::kTcpSynVlan).first(n));
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error(), ParseError::EthernetVlanTruncated);
  }
  EXPECT_TRUE(EthernetHeader::parse(std::span(test::kTcpSynVlan).first(18)));
}

TEST(EthernetHeader, EmitsTheCapturedBytes) {
  EthernetHeader h{kB, kA, 0x0800, 0x0064};
  std::vector<std::uint8_t> out(18);
  ASSERT_EQ(h.emit(out), 18u);
  EXPECT_EQ(out, test::to_vec(std::span(test::kTcpSynVlan).first(18)));
  h.vlan_tci.reset();
  ASSERT_EQ(h.emit(out), 14u);
  EXPECT_EQ(std::vector(out.begin(), out.begin() + 14),
            test::to_vec(std::span(test::kTcpSyn).first(14)));
}

TEST(EthernetHeader, EmitRefusesSmallBuffer) {
  EthernetHeader h{kB, kA, 0x0800, 0x0064};
  std::vector<std::uint8_t> out(17, 0xee);
  EXPECT_EQ(h.emit(out), 0u);
  EXPECT_EQ(out, std::vector<std::uint8_t>(17, 0xee));
}

TEST(EthernetHeader, RandomRoundTrip) {
  std::mt19937 rng(7);
  std::vector<std::uint8_t> buf(18);
  for (int i = 0; i < 1000; ++i) {
    EthernetHeader h;
    for (auto& b : h.dst.bytes) b = test::random_of<std::uint8_t>(rng);
    for (auto& b : h.src.bytes) b = test::random_of<std::uint8_t>(rng);
    h.ethertype = test::random_of<std::uint16_t>(rng);
    if (h.ethertype == 0x8100) h.ethertype = 0x0800;
    if (rng() & 1) h.vlan_tci = test::random_of<std::uint16_t>(rng);
    const std::size_t n = h.emit(buf);
    ASSERT_EQ(n, h.header_len());
    auto back = EthernetHeader::parse(std::span(buf).first(n));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->dst, h.dst);
    EXPECT_EQ(back->src, h.src);
    EXPECT_EQ(back->ethertype, h.ethertype);
    EXPECT_EQ(back->vlan_tci, h.vlan_tci);
  }
}

}  // namespace
}  // namespace sluice::wire
