// Tests of wire/ipv4.hpp: RFC 791 §3.1 header checks, parse of captures, emit round trip.
#include "wire/ipv4.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "frames.hpp"
#include "test_util.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"

namespace sluice::wire {
namespace {

std::vector<std::uint8_t> syn_l3() {
  return test::to_vec(std::span(test::kTcpSyn).subspan(14));
}

// Rewrites the header checksum after a test edited a field.
void fix_checksum(std::vector<std::uint8_t>& l3) {
  const std::size_t ihl = (l3[0] & 0x0fU) * 4U;
  store_be16(l3.data() + 10, 0);
  store_be16(l3.data() + 10, checksum_fold(checksum_partial(std::span(l3).first(ihl))));
}

TEST(Ipv4Header, ParsesCapturedSyn) {
  auto h = Ipv4Header::parse(syn_l3());
  ASSERT_TRUE(h);
  EXPECT_EQ(h->header_len, 20);
  EXPECT_EQ(h->tos, 0);
  EXPECT_EQ(h->total_len, 60);
  EXPECT_EQ(h->id, 0x1c46);
  EXPECT_TRUE(h->df);
  EXPECT_FALSE(h->mf);
  EXPECT_EQ(h->frag_offset, 0);
  EXPECT_FALSE(h->is_fragment());
  EXPECT_EQ(h->ttl, 64);
  EXPECT_EQ(h->protocol, IpProto::Tcp);
  EXPECT_EQ(h->checksum, 0x924e);
  EXPECT_EQ(h->src, Ipv4Addr::from_octets(198, 18, 0, 1));
  EXPECT_EQ(h->dst, Ipv4Addr::from_octets(198, 18, 0, 2));
  EXPECT_FALSE(h->has_options());
  EXPECT_EQ(h->payload_len(), 40u);
}

TEST(Ipv4Header, AcceptsEthernetPaddingAfterTotalLength) {
  auto l3 = test::to_vec(std::span(test::kUdpDns).subspan(14));
  l3.resize(46, 0);  // padded to the 60-byte minimum frame
  auto h = Ipv4Header::parse(l3);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->total_len, 40);
}

TEST(Ipv4Header, RefusesEachBadField) {
  auto l3 = syn_l3();
  for (std::size_t n = 0; n < 20; ++n) {
    EXPECT_EQ(Ipv4Header::parse(std::span(l3).first(n)).error(), ParseError::Ipv4TooShort);
  }
  auto v = syn_l3();
  v[0] = 0x65;  // IPv6 version nibble
  fix_checksum(v);
  EXPECT_EQ(Ipv4Header::parse(v).error(), ParseError::Ipv4BadVersion);
  for (std::uint8_t ihl = 0; ihl < 5; ++ihl) {
    v = syn_l3();
    v[0] = static_cast<std::uint8_t>(0x40 | ihl);
    EXPECT_EQ(Ipv4Header::parse(v).error(), ParseError::Ipv4BadIhl);
  }
  v = syn_l3();
  v[0] = 0x4f;  // IHL 15: a 60-byte header, one byte more than the 59 we pass
  EXPECT_EQ(Ipv4Header::parse(std::span(v).first(59)).error(), ParseError::Ipv4HeaderTruncated);
  v = syn_l3();
  store_be16(v.data() + 2, 19);
  fix_checksum(v);
  EXPECT_EQ(Ipv4Header::parse(v).error(), ParseError::Ipv4TotalLengthTooShort);
  v = syn_l3();
  store_be16(v.data() + 2, 61);
  fix_checksum(v);
  EXPECT_EQ(Ipv4Header::parse(v).error(), ParseError::Ipv4TotalLengthBeyondFrame);
  v = syn_l3();
  v[8] = 63;  // TTL changed, checksum not
  EXPECT_EQ(Ipv4Header::parse(v).error(), ParseError::Ipv4BadChecksum);
  EXPECT_TRUE(Ipv4Header::parse(v, /*verify_checksum=*/false));
}

TEST(Ipv4Header, SkipsOptions) {
  // Header with IHL 6: one 4-byte option (NOP NOP NOP EOL), then the TCP bytes.
  auto v = syn_l3();
  v.insert(v.begin() + 20, {0x01, 0x01, 0x01, 0x00});
  v[0] = 0x46;
  store_be16(v.data() + 2, 64);
  fix_checksum(v);
  auto h = Ipv4Header::parse(v);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->header_len, 24);
  EXPECT_TRUE(h->has_options());
  EXPECT_EQ(h->payload_len(), 40u);
}

TEST(Ipv4Header, ParsesFragmentFields) {
  auto v = syn_l3();
  store_be16(v.data() + 6, 0x2000 | 185);  // MF, offset 185*8 = 1480
  fix_checksum(v);
  auto h = Ipv4Header::parse(v);
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->mf);
  EXPECT_FALSE(h->df);
  EXPECT_EQ(h->frag_offset, 185);
  EXPECT_TRUE(h->is_fragment());
}

TEST(Ipv4Header, EmitsTheCapturedHeader) {
  Ipv4Header h;
  h.total_len = 60;
  h.id = 0x1c46;
  h.df = true;
  h.ttl = 64;
  h.protocol = IpProto::Tcp;
  h.src = Ipv4Addr::from_octets(198, 18, 0, 1);
  h.dst = Ipv4Addr::from_octets(198, 18, 0, 2);
  h.checksum = 0xdead;  // ignored: emit computes it
  std::vector<std::uint8_t> out(20);
  ASSERT_EQ(h.emit(out), 20u);
  const auto want = syn_l3();
  EXPECT_EQ(out, test::to_vec(std::span(want).first(20)));
  std::vector<std::uint8_t> small(19);
  EXPECT_EQ(h.emit(small), 0u);
}

TEST(Ipv4Header, RandomRoundTrip) {
  std::mt19937 rng(9);
  std::vector<std::uint8_t> buf(20);
  for (int i = 0; i < 2000; ++i) {
    Ipv4Header h;
    h.tos = test::random_of<std::uint8_t>(rng);
    h.total_len = 20;
    h.id = test::random_of<std::uint16_t>(rng);
    h.df = rng() & 1;
    h.mf = rng() & 1;
    h.frag_offset = static_cast<std::uint16_t>(rng() & 0x1fff);
    h.ttl = test::random_of<std::uint8_t>(rng);
    h.protocol = test::random_of<std::uint8_t>(rng);
    h.src = Ipv4Addr{test::random_of<std::uint32_t>(rng)};
    h.dst = Ipv4Addr{test::random_of<std::uint32_t>(rng)};
    ASSERT_EQ(h.emit(buf), 20u);
    auto b = Ipv4Header::parse(buf);  // also verifies the emitted checksum
    ASSERT_TRUE(b) << to_string(b.error());
    EXPECT_EQ(b->tos, h.tos);
    EXPECT_EQ(b->id, h.id);
    EXPECT_EQ(b->df, h.df);
    EXPECT_EQ(b->mf, h.mf);
    EXPECT_EQ(b->frag_offset, h.frag_offset);
    EXPECT_EQ(b->ttl, h.ttl);
    EXPECT_EQ(b->protocol, h.protocol);
    EXPECT_EQ(b->src, h.src);
    EXPECT_EQ(b->dst, h.dst);
  }
}

}  // namespace
}  // namespace sluice::wire

namespace sluice::wire {
namespace {

TEST(Ipv4Header, EmitMatchesAByteByByteReference) {
  // emit() sums the fields it writes; the reference writes the bytes and sums them.
  std::mt19937 rng(10);
  std::vector<std::uint8_t> got(20);
  std::vector<std::uint8_t> want(20);
  for (int i = 0; i < 20000; ++i) {
    Ipv4Header h;
    h.tos = test::random_of<std::uint8_t>(rng);
    h.total_len = test::random_of<std::uint16_t>(rng);
    h.id = test::random_of<std::uint16_t>(rng);
    h.df = rng() & 1;
    h.mf = rng() & 1;
    h.frag_offset = test::random_of<std::uint16_t>(rng);  // bits above 13 are dropped
    h.ttl = test::random_of<std::uint8_t>(rng);
    h.protocol = test::random_of<std::uint8_t>(rng);
    h.src = Ipv4Addr{test::random_of<std::uint32_t>(rng)};
    h.dst = Ipv4Addr{test::random_of<std::uint32_t>(rng)};
    if (i % 5 == 0) h.src = Ipv4Addr{0xffffffff};
    if (i % 7 == 0) h.dst = Ipv4Addr{0xffffffff};
    ASSERT_EQ(h.emit(got), 20u);
    want = {0x45, h.tos, 0, 0, 0, 0, 0, 0, h.ttl, h.protocol, 0, 0};
    want.resize(20);
    store_be16(want.data() + 2, h.total_len);
    store_be16(want.data() + 4, h.id);
    store_be16(want.data() + 6, static_cast<std::uint16_t>((h.df ? 0x4000 : 0) |
                                                           (h.mf ? 0x2000 : 0) |
                                                           (h.frag_offset & 0x1fff)));
    store_be32(want.data() + 12, h.src.value);
    store_be32(want.data() + 16, h.dst.value);
    store_be16(want.data() + 10, checksum_fold(checksum_partial(want)));
    ASSERT_EQ(got, want) << i;
  }
}

}  // namespace
}  // namespace sluice::wire
