// Tests of wire/checksum.hpp: RFC 1071 vectors, odd lengths, chaining across odd
// splits, RFC 1624 incremental updates, and a cross-check against DPDK's rte_raw_cksum
// and rte_ipv4_udptcp_cksum on random TCP/IPv4 packets.
#include "wire/checksum.hpp"

#include <gtest/gtest.h>
#include <rte_byteorder.h>
#include <rte_ip.h>

#include <array>
#include <cstring>
#include <random>
#include <vector>

#include "frames.hpp"
#include "wire/bytes.hpp"
#include "wire/tcp.hpp"

namespace sluice::wire {
namespace {

// Straightforward RFC 1071 reference: big-endian words, 32-bit sum, fold at the end.
std::uint16_t reference_sum(const std::vector<std::uint8_t>& d) {
  std::uint64_t s = 0;
  for (std::size_t i = 0; i < d.size(); i += 2) {
    s += static_cast<std::uint64_t>(d[i]) << 8;
    if (i + 1 < d.size()) s += d[i + 1];
  }
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

std::vector<std::uint8_t> random_bytes(std::mt19937& rng, std::size_t n) {
  std::vector<std::uint8_t> v(n);
  for (auto& b : v) b = static_cast<std::uint8_t>(rng());
  return v;
}

TEST(Checksum, Rfc1071ExampleSum) {
  // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2 (after the end-around carry).
  const std::array<std::uint8_t, 8> d{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(checksum_reduce(checksum_partial(d)), 0xddf2);
  EXPECT_EQ(checksum_fold(checksum_partial(d)), 0x220d);
}

TEST(Checksum, KnownIpv4HeaderVerifiesAndRecomputes) {
  // A widely published capture: 192.168.0.1 -> 192.168.0.199 UDP, checksum 0xb861.
  std::array<std::uint8_t, 20> h{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  EXPECT_EQ(checksum_fold(checksum_partial(h)), 0);
  h[10] = h[11] = 0;
  EXPECT_EQ(checksum_fold(checksum_partial(h)), 0xb861);
}

TEST(Checksum, EmptyAndSingleByte) {
  EXPECT_EQ(checksum_partial({}), 0u);
  const std::array<std::uint8_t, 1> one{0xab};
  EXPECT_EQ(checksum_reduce(checksum_partial(one)), 0xab00);  // padded with a zero byte
  EXPECT_EQ(checksum_reduce(checksum_partial(one, 0x1234)), 0xbd34);
}

TEST(Checksum, MatchesReferenceAtEveryLengthAndAlignment) {
  std::mt19937 rng(1);
  const auto buf = random_bytes(rng, 300);
  for (std::size_t off = 0; off < 9; ++off) {
    for (std::size_t len = 0; len + off <= buf.size(); ++len) {
      const std::vector<std::uint8_t> piece(buf.begin() + static_cast<long>(off),
                                            buf.begin() + static_cast<long>(off + len));
      ASSERT_EQ(checksum_reduce(checksum_partial(std::span(buf).subspan(off, len))),
                reference_sum(piece))
          << "off " << off << " len " << len;
    }
  }
}

TEST(Checksum, AllOnesDataFoldsToZeroChecksum) {
  std::vector<std::uint8_t> d(64, 0xff);  // many carries out of every accumulator
  EXPECT_EQ(checksum_fold(checksum_partial(d)), 0);
  d.assign(4096, 0xff);
  EXPECT_EQ(checksum_fold(checksum_partial(d)), 0);
}

TEST(Checksum, ChainingAtEvenSplitsEqualsWhole) {
  std::mt19937 rng(2);
  const auto d = random_bytes(rng, 1001);
  const auto whole = checksum_fold(checksum_partial(d));
  for (std::size_t split = 0; split <= d.size(); split += 2) {
    const auto s = std::span(d);
    EXPECT_EQ(checksum_fold(checksum_partial(s.subspan(split), checksum_partial(s.first(split)))),
              whole)
        << split;
  }
}

TEST(Checksum, ChainingAtOddSplitsNeedsPartialAt) {
  std::mt19937 rng(3);
  const auto d = random_bytes(rng, 777);
  const auto s = std::span(d);
  const auto whole = checksum_fold(checksum_partial(d));
  int naive_differs = 0;
  for (std::size_t split = 1; split < d.size(); split += 2) {
    const auto first = checksum_partial(s.first(split));
    EXPECT_EQ(checksum_fold(checksum_partial_at(s.subspan(split), split, first)), whole) << split;
    if (checksum_fold(checksum_partial(s.subspan(split), first)) != whole) ++naive_differs;
  }
  EXPECT_GT(naive_differs, 0);  // the swap is really needed: naive chaining is wrong
  // Three pieces with odd lengths.
  const auto a = checksum_partial(s.first(101));
  const auto b = checksum_partial_at(s.subspan(101, 200), 101, a);
  EXPECT_EQ(checksum_fold(checksum_partial_at(s.subspan(301), 301, b)), whole);
}

TEST(Checksum, PseudoHeaderMatchesBytes) {
  // RFC 9293 §3.1: src, dst, zero, PTCL, TCP length, as 12 bytes.
  const auto src = Ipv4Addr::from_octets(198, 18, 0, 1);
  const auto dst = Ipv4Addr::from_octets(10, 255, 3, 200);
  const std::array<std::uint8_t, 12> bytes{198, 18, 0, 1, 10, 255, 3, 200, 0, 6, 0x05, 0xdc};
  EXPECT_EQ(checksum_reduce(pseudo_header_sum(src, dst, 6, 1500)),
            checksum_reduce(checksum_partial(bytes)));
}

TEST(Checksum, Update16EqualsFullRecomputeOnRandomEdits) {
  std::mt19937 rng(4);
  for (int iter = 0; iter < 20000; ++iter) {
    auto d = random_bytes(rng, 2 * (1 + rng() % 30));
    d[0] = d[1] = 0;  // checksum field at word 0
    store_be16(d.data(), checksum_fold(checksum_partial(d)));
    if (d.size() < 4) continue;
    const std::size_t w = 2 * (1 + rng() % (d.size() / 2 - 1));  // any word but the checksum
    const std::uint16_t old_word = load_be16(d.data() + w);
    const auto new_word = static_cast<std::uint16_t>(rng());
    const std::uint16_t hc = load_be16(d.data());
    store_be16(d.data() + w, new_word);
    d[0] = d[1] = 0;
    ASSERT_EQ(checksum_update16(hc, old_word, new_word), checksum_fold(checksum_partial(d)));
  }
}

TEST(Checksum, Update16CornerWhereEqn2Fails) {
  // RFC 1624 §3: after the edit the data words sum to 0xffff, so a full recompute gives
  // 0x0000 where eqn. 2 would give 0xffff. Data {0x0000, 0xfffe} (checksum 0x0001), then
  // word 1 changes from 0x0000 to 0x0001.
  std::array<std::uint8_t, 6> d{0, 0, 0x00, 0x00, 0xff, 0xfe};
  const std::uint16_t hc = checksum_fold(checksum_partial(d));
  ASSERT_EQ(hc, 0x0001);
  d[3] = 0x01;
  ASSERT_EQ(checksum_fold(checksum_partial(d)), 0x0000);
  EXPECT_EQ(checksum_update16(hc, 0x0000, 0x0001), 0x0000);
  // And back again: 0x0000 -> 0x0001.
  EXPECT_EQ(checksum_update16(0x0000, 0x0001, 0x0000), 0x0001);
}

TEST(Checksum, Update32EqualsFullRecompute) {
  std::mt19937 rng(5);
  for (int iter = 0; iter < 5000; ++iter) {
    auto d = random_bytes(rng, 40);
    d[16] = d[17] = 0;  // checksum field where TCP has it
    const std::uint16_t hc = checksum_fold(checksum_partial(d));
    const std::size_t at = 4 * (rng() % 4);  // an aligned 32-bit field (not the checksum)
    const std::uint32_t old_v = load_be32(d.data() + at);
    const std::uint32_t new_v = static_cast<std::uint32_t>(rng());
    store_be32(d.data() + at, new_v);
    ASSERT_EQ(checksum_update32(hc, old_v, new_v), checksum_fold(checksum_partial(d)));
  }
}

TEST(Checksum, TcpChecksumOfTestFramesMatchesWhatTheyCarry) {
  // The frames' checksums were computed by an independent implementation (make_seeds.py).
  for (auto frame :
       {std::span<const std::uint8_t>(test::kTcpSyn), std::span<const std::uint8_t>(test::kTcpData),
        std::span<const std::uint8_t>(test::kTcpSack)}) {
    const auto ip = frame.subspan(14, load_be16(frame.data() + 16));
    const auto seg = ip.subspan(20);
    const Ipv4Addr src{load_be32(ip.data() + 12)};
    const Ipv4Addr dst{load_be32(ip.data() + 16)};
    EXPECT_EQ(tcp_checksum(src, dst, seg), load_be16(seg.data() + 16));
    EXPECT_TRUE(tcp_checksum_ok(src, dst, seg));
    EXPECT_FALSE(tcp_checksum_ok(src, Ipv4Addr{dst.value ^ 1}, seg));
    EXPECT_EQ(checksum_fold(checksum_partial(ip.first(20))), 0);
  }
}

// Cross-check against DPDK on random TCP/IPv4 packets, payload 0..9000 bytes.
TEST(Checksum, AgreesWithDpdkOnRandomTcpPackets) {
  std::mt19937 rng(6);
  std::vector<std::uint8_t> pkt(20 + 60 + 9000);
  for (int iter = 0; iter < 3000; ++iter) {
    const std::size_t tcp_len = 20 + 4 * (rng() % 11) + rng() % 9001;
    for (std::size_t i = 0; i < 20 + tcp_len; ++i) pkt[i] = static_cast<std::uint8_t>(rng());
    pkt[0] = 0x45;
    pkt[9] = 6;
    store_be16(pkt.data() + 2, static_cast<std::uint16_t>(20 + tcp_len));
    std::uint8_t* seg = pkt.data() + 20;
    seg[16] = seg[17] = 0;  // rte_ipv4_udptcp_cksum wants the field zeroed

    rte_ipv4_hdr iph;
    std::memcpy(&iph, pkt.data(), sizeof iph);
    const std::uint16_t dpdk = rte_be_to_cpu_16(rte_ipv4_udptcp_cksum(&iph, seg));
    const Ipv4Addr src{load_be32(pkt.data() + 12)};
    const Ipv4Addr dst{load_be32(pkt.data() + 16)};
    const std::span<const std::uint8_t> segment(seg, tcp_len);
    ASSERT_EQ(tcp_checksum(src, dst, segment), dpdk) << "len " << tcp_len;

    // Raw sum over the same bytes at an arbitrary (possibly odd) start.
    const std::size_t off = rng() % 8;
    const std::size_t len = tcp_len - off;
    const std::uint16_t raw_dpdk = rte_raw_cksum(seg + off, len);  // native-order words
    const std::uint16_t ours = checksum_reduce(checksum_partial(segment.subspan(off, len)));
    ASSERT_EQ(checksum_fold(ours), checksum_fold(to_be16(raw_dpdk))) << "len " << len;
  }
}

}  // namespace
}  // namespace sluice::wire

namespace sluice::wire {
namespace {

TEST(Checksum, Partial20EqualsTheGeneralSum) {
  std::mt19937 rng(31);
  std::array<std::uint8_t, 21> buf{};
  for (int i = 0; i < 20000; ++i) {
    for (auto& b : buf) b = static_cast<std::uint8_t>(rng());
    if (i % 7 == 0) std::fill(buf.begin(), buf.end(), std::uint8_t{0xff});
    if (i % 11 == 0) std::fill(buf.begin(), buf.end(), std::uint8_t{0});
    if (i % 13 == 0) buf[static_cast<std::size_t>(i) % 20] = 0;
    const std::size_t off = static_cast<std::size_t>(i) & 1;  // unaligned loads too
    ASSERT_EQ(checksum_partial20(buf.data() + off), checksum_partial(std::span(buf).subspan(off, 20)))
        << i;
  }
}

TEST(Checksum, CarriesAtEveryLength) {
  // All-ones and near-all-ones data carry out of every step of the add-with-carry chains
  // and out of the final carry re-add; every block size and tail length.
  for (std::size_t len = 0; len <= 300; ++len) {
    for (const std::uint8_t fill : {std::uint8_t{0xff}, std::uint8_t{0xfe}, std::uint8_t{0x80}}) {
      std::vector<std::uint8_t> d(len + 8, fill);
      for (std::size_t off = 0; off < 8; ++off) {
        const std::vector<std::uint8_t> piece(d.begin() + static_cast<long>(off),
                                              d.begin() + static_cast<long>(off + len));
        ASSERT_EQ(checksum_reduce(checksum_partial(std::span(d).subspan(off, len))),
                  reference_sum(piece))
            << "len " << len << " fill " << int{fill} << " off " << off;
        ASSERT_EQ(checksum_reduce(checksum_partial_at(std::span(d).subspan(off, len), 1)),
                  static_cast<std::uint16_t>((reference_sum(piece) << 8) |
                                             (reference_sum(piece) >> 8)));
      }
    }
  }
}

}  // namespace
}  // namespace sluice::wire
