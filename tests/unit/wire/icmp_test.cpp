// Tests of wire/icmp.hpp: RFC 792 echo parse/emit and generic types.
#include "wire/icmp.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "frames.hpp"
#include "test_util.hpp"

namespace sluice::wire {
namespace {

std::span<const std::uint8_t> icmp_bytes() {
  return std::span(test::kIcmpEcho).subspan(34);
}

TEST(IcmpEcho, ParsesCapturedEchoRequest) {
  auto m = IcmpEcho::parse(icmp_bytes());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, IcmpType::EchoRequest);
  EXPECT_EQ(m->code, 0);
  EXPECT_TRUE(m->is_echo());
  EXPECT_EQ(m->id, 0x1234);
  EXPECT_EQ(m->seq, 1);
  EXPECT_EQ(m->checksum, 0x68f0);
  ASSERT_EQ(m->payload.size(), 48u);
  EXPECT_EQ(m->payload.data(), icmp_bytes().data() + 8);  // a view, not a copy
  EXPECT_EQ(m->payload[8], 0x10);
}

TEST(IcmpEcho, RefusesShortAndCorrupt) {
  for (std::size_t n = 0; n < 8; ++n) {
    EXPECT_EQ(IcmpEcho::parse(icmp_bytes().first(n)).error(), ParseError::IcmpTooShort);
  }
  auto v = test::to_vec(icmp_bytes());
  v.back() ^= 0x01;  // the checksum covers the data too
  EXPECT_EQ(IcmpEcho::parse(v).error(), ParseError::IcmpBadChecksum);
  EXPECT_TRUE(IcmpEcho::parse(v, /*verify_checksum=*/false));
}

TEST(IcmpEcho, OtherTypesParseAsGenericHeader) {
  // Destination unreachable, code 3 (port), checksum over 8 zero-rest bytes.
  const std::array<std::uint8_t, 8> m{0x03, 0x03, 0xfc, 0xfc, 0x00, 0x00, 0x00, 0x00};
  auto h = IcmpEcho::parse(m);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->type, IcmpType::DestUnreachable);
  EXPECT_EQ(h->code, 3);
  EXPECT_FALSE(h->is_echo());
}

TEST(IcmpEcho, EmitsTheCapturedMessage) {
  IcmpEcho m;
  m.type = IcmpType::EchoRequest;
  m.id = 0x1234;
  m.seq = 1;
  const auto payload = icmp_bytes().subspan(8);
  m.payload = payload;
  std::vector<std::uint8_t> out(m.emit_len());
  ASSERT_EQ(m.emit(out), 56u);
  EXPECT_EQ(out, test::to_vec(icmp_bytes()));
  std::vector<std::uint8_t> small(55);
  EXPECT_EQ(m.emit(small), 0u);
}

TEST(IcmpEcho, RandomRoundTripIncludingOddLengths) {
  std::mt19937 rng(10);
  std::vector<std::uint8_t> payload(1500);
  std::vector<std::uint8_t> buf(1508);
  for (int i = 0; i < 500; ++i) {
    IcmpEcho m;
    m.type = (rng() & 1) ? IcmpType::EchoReply : IcmpType::EchoRequest;
    m.id = test::random_of<std::uint16_t>(rng);
    m.seq = test::random_of<std::uint16_t>(rng);
    const std::size_t n = rng() % payload.size();
    for (auto& b : payload) b = test::random_of<std::uint8_t>(rng);
    m.payload = std::span(payload).first(n);
    const std::size_t len = m.emit(buf);
    ASSERT_EQ(len, 8 + n);
    auto b = IcmpEcho::parse(std::span(buf).first(len));
    ASSERT_TRUE(b);
    EXPECT_EQ(b->type, m.type);
    EXPECT_EQ(b->id, m.id);
    EXPECT_EQ(b->seq, m.seq);
    EXPECT_TRUE(std::equal(b->payload.begin(), b->payload.end(), payload.begin(),
                           payload.begin() + static_cast<long>(n)));
  }
}

}  // namespace
}  // namespace sluice::wire
