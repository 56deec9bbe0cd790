// Tests of wire/tcp.hpp: RFC 9293 §3.1 header parse/emit and the TCP checksum.
#include "wire/tcp.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "frames.hpp"
#include "test_util.hpp"
#include "wire/bytes.hpp"

namespace sluice::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;
const Ipv4Addr kSrc = Ipv4Addr::from_octets(198, 18, 0, 1);
const Ipv4Addr kDst = Ipv4Addr::from_octets(198, 18, 0, 2);

std::span<const std::uint8_t> segment_of(std::span<const std::uint8_t> frame) {
  return frame.subspan(34);
}

TEST(TcpHeader, ParsesCapturedSyn) {
  auto h = TcpHeader::parse(segment_of(test::kTcpSyn));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->src_port, 41924);
  EXPECT_EQ(h->dst_port, 80);
  EXPECT_EQ(h->seq.raw, 0x3ad2f5c1u);
  EXPECT_EQ(h->ack.raw, 0u);
  EXPECT_EQ(h->flags, TcpFlag::Syn);
  EXPECT_TRUE(h->flags & TcpFlag::Syn);
  EXPECT_FALSE(h->has(TcpFlag::Ack));
  EXPECT_EQ(h->window, 64240);
  EXPECT_EQ(h->checksum, 0x9102);
  EXPECT_EQ(h->urgent, 0);
  EXPECT_EQ(h->header_len, 40);
  EXPECT_EQ(h->options.mss, 1460);
  EXPECT_EQ(h->options.window_scale, 7);
}

TEST(TcpHeader, ParsesCapturedDataSegment) {
  auto h = TcpHeader::parse(segment_of(test::kTcpData));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->flags, TcpFlag::Psh | TcpFlag::Ack);
  EXPECT_EQ(h->ack.raw, 0x9c3b0001u);
  EXPECT_EQ(h->header_len, 32);
  EXPECT_EQ(h->window, 502);
  ASSERT_TRUE(h->options.timestamps);
  EXPECT_EQ(h->options.timestamps->tsecr, 0x7e1f3c20u);
}

TEST(TcpHeader, AllFlagBits) {
  auto seg = test::to_vec(segment_of(test::kTcpData));
  seg[13] = 0xff;
  auto h = TcpHeader::parse(seg);
  ASSERT_TRUE(h);
  for (auto f : {TcpFlag::Fin, TcpFlag::Syn, TcpFlag::Rst, TcpFlag::Psh, TcpFlag::Ack, TcpFlag::Urg,
                 TcpFlag::Ece, TcpFlag::Cwr}) {
    EXPECT_TRUE(h->has(f));
  }
  // The bits are the RFC 9293 §3.1 / RFC 3168 positions.
  EXPECT_EQ(TcpFlag::Fin | TcpFlag::Syn | TcpFlag::Rst | TcpFlag::Psh | TcpFlag::Ack |
                TcpFlag::Urg | TcpFlag::Ece | TcpFlag::Cwr,
            0xff);
  EXPECT_EQ(TcpFlag::Ack, 0x10);
  EXPECT_EQ(TcpFlag::Cwr, 0x80);
}

TEST(TcpHeader, RefusesMalformed) {
  const auto syn = test::to_vec(segment_of(test::kTcpSyn));
  for (std::size_t n = 0; n < 20; ++n) {
    EXPECT_EQ(TcpHeader::parse(std::span(syn).first(n)).error(), ParseError::TcpTooShort);
  }
  for (std::size_t n = 20; n < 40; ++n) {  // options cut by the end of the segment
    EXPECT_EQ(TcpHeader::parse(std::span(syn).first(n)).error(), ParseError::TcpHeaderTruncated)
        << n;
  }
  for (std::uint8_t off = 0; off < 5; ++off) {
    auto s = syn;
    s[12] = static_cast<std::uint8_t>(off << 4);
    EXPECT_EQ(TcpHeader::parse(s).error(), ParseError::TcpBadDataOffset);
  }
  auto s = syn;
  s[12] = 0x60;  // 24-byte header: the option area is "02 04 05 b4" (MSS) -> fine
  EXPECT_EQ(TcpHeader::parse(s)->options.mss, 1460);
  s[12] = 0x70;  // 28 bytes: cuts the timestamps option
  EXPECT_EQ(TcpHeader::parse(s).error(), ParseError::TcpOptionTruncated);
  s = syn;
  s[21] = 1;  // MSS length 1
  EXPECT_EQ(TcpHeader::parse(s).error(), ParseError::TcpOptionBadLength);
}

TEST(TcpHeader, EmitsTheCapturedSynHeader) {
  TcpHeader h;
  h.src_port = 41924;
  h.dst_port = 80;
  h.seq = Seq{0x3ad2f5c1};
  h.flags = TcpFlag::Syn;
  h.window = 64240;
  h.options.mss = 1460;
  h.options.sack_permitted = true;
  h.options.timestamps = TcpTimestamps{0x000d5b2f, 0};
  h.options.window_scale = 7;
  h.header_len = 0;  // not consulted
  ASSERT_EQ(h.emit_len(), 40u);
  Bytes out(40);
  ASSERT_EQ(h.emit(out), 40u);
  store_be16(out.data() + 16, tcp_checksum(kSrc, kDst, out));
  EXPECT_EQ(out, test::to_vec(segment_of(test::kTcpSyn)));
  Bytes small(39);
  EXPECT_EQ(h.emit(small), 0u);
}

TEST(TcpHeader, ReemitsCapturedHeadersByteForByte) {
  // SYN (MSS, SACK-permitted+TS, NOP WS), data (NOP NOP TS) and SACK (NOP NOP TS NOP NOP
  // SACK x3): parse the capture, emit it again, get the same header bytes, nothing more.
  for (auto frame :
       {std::span<const std::uint8_t>(test::kTcpSyn), std::span<const std::uint8_t>(test::kTcpData),
        std::span<const std::uint8_t>(test::kTcpSack)}) {
    const auto seg = segment_of(frame);
    auto h = TcpHeader::parse(seg);
    ASSERT_TRUE(h);
    ASSERT_EQ(h->emit_len(), h->header_len);
    Bytes out(61, 0xee);
    ASSERT_EQ(h->emit(out), h->header_len);
    EXPECT_EQ(Bytes(out.begin(), out.begin() + h->header_len),
              test::to_vec(seg.first(h->header_len)));
    for (std::size_t k = h->header_len; k < out.size(); ++k) ASSERT_EQ(out[k], 0xee) << k;
  }
}

TEST(TcpHeader, EmitsEachFieldAtItsOffset) {
  TcpHeader h;
  h.src_port = 0x0102;
  h.dst_port = 0x0304;
  h.seq = Seq{0x05060708};
  h.ack = Seq{0x090a0b0c};
  h.flags = 0xd5;
  h.window = 0x0e0f;
  h.checksum = 0x1011;
  h.urgent = 0x1213;
  Bytes out(20);
  ASSERT_EQ(h.emit(out), 20u);
  EXPECT_EQ(out,
            (Bytes{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x50, 0xd5, 14, 15, 16, 17, 18, 19}));
  h.options.timestamps = TcpTimestamps{0x14151617, 0x18191a1b};
  out.assign(32, 0);
  ASSERT_EQ(h.emit(out), 32u);
  EXPECT_EQ(out,
            (Bytes{1,  2,  3,  4,  5, 6, 7, 8,  9,    10,   11,   12,   0x80, 0xd5, 14,   15,
                   16, 17, 18, 19, 1, 1, 8, 10, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b}));
  Bytes small(31);
  EXPECT_EQ(h.emit(small), 0u);
}

TEST(TcpHeader, ChecksumIgnoresTheFieldsOldContents) {
  auto seg = test::to_vec(segment_of(test::kTcpData));
  const std::uint16_t want = load_be16(seg.data() + 16);
  EXPECT_TRUE(tcp_checksum_ok(kSrc, kDst, seg));
  store_be16(seg.data() + 16, 0xabcd);
  EXPECT_EQ(tcp_checksum(kSrc, kDst, seg), want);
  EXPECT_FALSE(tcp_checksum_ok(kSrc, kDst, seg));
  store_be16(seg.data() + 16, want);
  seg.back() ^= 0x40;  // payload is covered
  EXPECT_FALSE(tcp_checksum_ok(kSrc, kDst, seg));
  // The pseudo-header is covered: a different destination fails.
  EXPECT_FALSE(tcp_checksum_ok(kSrc, Ipv4Addr::from_octets(198, 18, 0, 3),
                               test::to_vec(segment_of(test::kTcpData))));
}

TEST(TcpHeader, RandomRoundTrip) {
  std::mt19937 rng(12);
  Bytes buf(60);
  for (int i = 0; i < 3000; ++i) {
    TcpHeader h;
    h.src_port = test::random_of<std::uint16_t>(rng);
    h.dst_port = test::random_of<std::uint16_t>(rng);
    h.seq = Seq{test::random_of<std::uint32_t>(rng)};
    h.ack = Seq{test::random_of<std::uint32_t>(rng)};
    h.flags = test::random_of<std::uint8_t>(rng);
    h.window = test::random_of<std::uint16_t>(rng);
    h.checksum = test::random_of<std::uint16_t>(rng);
    h.urgent = test::random_of<std::uint16_t>(rng);
    if (rng() & 1) h.options.mss = test::random_of<std::uint16_t>(rng);
    if (rng() & 1) h.options.window_scale = static_cast<std::uint8_t>(rng() % 15);
    h.options.sack_permitted = rng() & 1;
    if (rng() & 1) h.options.timestamps = TcpTimestamps{1, 2};
    const std::size_t len = h.emit(buf);
    ASSERT_EQ(len, h.emit_len());
    auto b = TcpHeader::parse(std::span(buf).first(len));
    ASSERT_TRUE(b);
    EXPECT_EQ(b->src_port, h.src_port);
    EXPECT_EQ(b->dst_port, h.dst_port);
    EXPECT_EQ(b->seq, h.seq);
    EXPECT_EQ(b->ack, h.ack);
    EXPECT_EQ(b->flags, h.flags);
    EXPECT_EQ(b->window, h.window);
    EXPECT_EQ(b->checksum, h.checksum);
    EXPECT_EQ(b->urgent, h.urgent);
    EXPECT_EQ(b->header_len, len);
    EXPECT_EQ(b->options.mss, h.options.mss);
    EXPECT_EQ(b->options.window_scale, h.options.window_scale);
    EXPECT_EQ(b->options.timestamps, h.options.timestamps);
  }
}

}  // namespace
}  // namespace sluice::wire
