// Tests of wire/frame.hpp: parse_frame over captures, every ParseError reached by a
// crafted frame, truncation at every length, and the builders reproducing captures.
#include "wire/frame.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "frames.hpp"
#include "test_util.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"

namespace sluice::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;
const MacAddr kMacA{{0x52, 0x54, 0x00, 0xab, 0xcd, 0xef}};
const MacAddr kMacB{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
const Ipv4Addr kSrc = Ipv4Addr::from_octets(198, 18, 0, 1);
const Ipv4Addr kDst = Ipv4Addr::from_octets(198, 18, 0, 2);

const std::vector<std::pair<std::string, Bytes>>& captures() {
  static const std::vector<std::pair<std::string, Bytes>> all = {
      {"tcp_syn", test::to_vec(test::kTcpSyn)},   {"tcp_syn_vlan", test::to_vec(test::kTcpSynVlan)},
      {"tcp_data", test::to_vec(test::kTcpData)}, {"tcp_sack", test::to_vec(test::kTcpSack)},
      {"arp", test::to_vec(test::kArpRequest)},   {"icmp", test::to_vec(test::kIcmpEcho)},
      {"udp", test::to_vec(test::kUdpDns)},
  };
  return all;
}

// Recomputes the IPv4 header checksum and, for TCP/ICMP, the L4 checksum of an untagged
// frame, so a crafted frame fails only the check under test.
void fix_checksums(Bytes& f) {
  std::uint8_t* ip = f.data() + 14;
  const std::size_t ihl = (ip[0] & 0x0fU) * 4U;
  store_be16(ip + 10, 0);
  store_be16(ip + 10, checksum_fold(checksum_partial(std::span(ip, ihl))));
  const std::size_t total = load_be16(ip + 2);
  if (total > f.size() - 14 || total < ihl) return;
  const std::span<std::uint8_t> l4(ip + ihl, total - ihl);
  if (ip[9] == IpProto::Tcp && l4.size() >= 18) {
    store_be16(l4.data() + 16,
               tcp_checksum(Ipv4Addr{load_be32(ip + 12)}, Ipv4Addr{load_be32(ip + 16)}, l4));
  } else if (ip[9] == IpProto::Icmp && l4.size() >= 4) {
    store_be16(l4.data() + 2, 0);
    store_be16(l4.data() + 2, checksum_fold(checksum_partial(l4)));
  }
}

TEST(ParseFrame, TcpSynCapture) {
  auto f = parse_frame(test::kTcpSyn);
  ASSERT_TRUE(f) << to_string(f.error());
  EXPECT_EQ(f->kind, FrameKind::Ipv4Tcp);
  EXPECT_EQ(f->l3_offset, 14);
  EXPECT_EQ(f->l4_offset, 34);
  EXPECT_EQ(f->payload_offset, 74);
  EXPECT_EQ(f->payload_len, 0);
  EXPECT_EQ(f->ip.src, kSrc);
  EXPECT_EQ(f->tcp.dst_port, 80);
  EXPECT_TRUE(f->tcp.options.sack_permitted);
}

TEST(ParseFrame, VlanTaggedSyn) {
  auto f = parse_frame(test::kTcpSynVlan);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, FrameKind::Ipv4Tcp);
  EXPECT_EQ(f->eth.vlan_tci, 100);
  EXPECT_EQ(f->l3_offset, 18);
  EXPECT_EQ(f->l4_offset, 38);
  EXPECT_EQ(f->payload_offset, 78);
}

TEST(ParseFrame, TcpDataPayload) {
  auto f = parse_frame(test::kTcpData);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload_offset, 66);
  EXPECT_EQ(f->payload_len, 36);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(test::kTcpData.data()) + f->payload_offset,
                        f->payload_len),
            "GET / HTTP/1.1\r\nHost: 198.18.0.2\r\n\r\n");
}

TEST(ParseFrame, EthernetPaddingIsNotPayload) {
  // A bare ACK is 54 bytes; on the wire it is padded to 60. The padding must not count.
  Bytes f = test::to_vec(test::kTcpSyn);
  f[14 + 33] = 0x10;          // flags = ACK (checksum fixed below)
  f.resize(f.size() + 6, 0);  // padding after total_len
  fix_checksums(f);
  auto p = parse_frame(f);
  ASSERT_TRUE(p) << to_string(p.error());
  EXPECT_EQ(p->payload_len, 0);
}

TEST(ParseFrame, ArpCapture) {
  auto f = parse_frame(test::kArpRequest);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, FrameKind::Arp);
  EXPECT_EQ(f->arp.tpa, kDst);
  EXPECT_TRUE(f->eth.dst.is_broadcast());
}

TEST(ParseFrame, IcmpCapture) {
  auto f = parse_frame(test::kIcmpEcho);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, FrameKind::Ipv4Icmp);
  EXPECT_EQ(f->icmp.id, 0x1234);
  EXPECT_EQ(f->payload_offset, 42);
  EXPECT_EQ(f->payload_len, 48);
  EXPECT_EQ(f->icmp.payload.data(), test::kIcmpEcho.data() + 42);
}

TEST(ParseFrame, UdpCapture) {
  auto f = parse_frame(test::kUdpDns);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, FrameKind::Ipv4Udp);
  EXPECT_EQ(f->payload_offset, 42);
  EXPECT_EQ(f->payload_len, 12);
}

TEST(ParseFrame, Ipv6IsRecognisedNotParsed) {
  Bytes f = test::to_vec(std::span(test::kTcpSyn).first(14));
  f[12] = 0x86;
  f[13] = 0xdd;
  f.resize(14 + 40, 0x60);
  auto p = parse_frame(f);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->kind, FrameKind::Ipv6);
  EXPECT_EQ(p->l3_offset, 14);
}

TEST(ParseFrame, FragmentsAreReportedNotParsedAboveIp) {
  Bytes f = test::to_vec(test::kTcpData);
  store_be16(f.data() + 20, 0x2000);  // MF, offset 0: the first fragment
  f[14 + 20 + 12] = 0x10;             // data offset 1: a TCP parse would fail
  fix_checksums(f);
  auto p = parse_frame(f);
  ASSERT_TRUE(p) << to_string(p.error());
  EXPECT_EQ(p->kind, FrameKind::Ipv4Other);
  EXPECT_TRUE(p->ip.is_fragment());
  EXPECT_TRUE(p->is_ipv4_fragment());
  store_be16(f.data() + 20, 0x0003);  // last fragment at offset 24
  fix_checksums(f);
  EXPECT_TRUE(parse_frame(f)->is_ipv4_fragment());
}

TEST(ParseFrame, OtherIpProtocol) {
  Bytes f = test::to_vec(test::kUdpDns);
  f[14 + 9] = 47;  // GRE
  fix_checksums(f);
  auto p = parse_frame(f);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->kind, FrameKind::Ipv4Other);
  EXPECT_FALSE(p->is_ipv4_fragment());
  EXPECT_EQ(p->payload_len, 20);
}

TEST(ParseFrame, ChecksumVerificationCanBeLeftToTheNic) {
  Bytes f = test::to_vec(test::kTcpData);
  f[14 + 8] = 1;     // TTL: IPv4 checksum now wrong
  f.back() ^= 0xff;  // payload: TCP checksum now wrong
  EXPECT_EQ(parse_frame(f).error(), ParseError::Ipv4BadChecksum);
  EXPECT_EQ(parse_frame(f, {.verify_ipv4_checksum = false}).error(), ParseError::TcpBadChecksum);
  EXPECT_TRUE(parse_frame(f, {.verify_ipv4_checksum = false, .verify_l4_checksum = false}));
}

// Every ParseError is reachable from parse_frame by a crafted frame.
TEST(ParseFrame, EveryParseErrorIsReachable) {
  std::map<ParseError, Bytes> crafted;
  auto edit = [](Bytes f, auto&& fn, bool fix = true) {
    fn(f);
    if (fix) fix_checksums(f);
    return f;
  };
  const Bytes syn = test::to_vec(test::kTcpSyn);
  const Bytes arp = test::to_vec(test::kArpRequest);
  const Bytes icmp = test::to_vec(test::kIcmpEcho);
  const Bytes udp = test::to_vec(test::kUdpDns);
  crafted[ParseError::FrameTooShort] = Bytes(syn.begin(), syn.begin() + 13);
  crafted[ParseError::EthernetVlanTruncated] =
      Bytes(test::kTcpSynVlan.begin(), test::kTcpSynVlan.begin() + 17);
  crafted[ParseError::UnsupportedEtherType] = edit(
      syn, [](Bytes& f) { f[12] = 0x88; }, false);
  crafted[ParseError::ArpTooShort] = Bytes(arp.begin(), arp.begin() + 41);
  crafted[ParseError::ArpBadHardware] = edit(
      arp, [](Bytes& f) { f[15] = 6; }, false);
  crafted[ParseError::ArpBadProtocol] = edit(
      arp, [](Bytes& f) { f[16] = 0x86; }, false);
  crafted[ParseError::ArpBadAddressLength] = edit(
      arp, [](Bytes& f) { f[18] = 8; }, false);
  crafted[ParseError::ArpBadOperation] = edit(
      arp, [](Bytes& f) { f[21] = 9; }, false);
  crafted[ParseError::Ipv4TooShort] = Bytes(syn.begin(), syn.begin() + 33);
  crafted[ParseError::Ipv4BadVersion] = edit(syn, [](Bytes& f) { f[14] = 0x55; });
  crafted[ParseError::Ipv4BadIhl] = edit(
      syn, [](Bytes& f) { f[14] = 0x44; }, false);
  crafted[ParseError::Ipv4HeaderTruncated] = edit(
      Bytes(syn.begin(), syn.begin() + 60), [](Bytes& f) { f[14] = 0x4f; }, false);
  crafted[ParseError::Ipv4TotalLengthTooShort] =
      edit(syn, [](Bytes& f) { store_be16(f.data() + 16, 16); });
  crafted[ParseError::Ipv4TotalLengthBeyondFrame] =
      edit(syn, [](Bytes& f) { store_be16(f.data() + 16, 61); });
  crafted[ParseError::Ipv4BadChecksum] = edit(
      syn, [](Bytes& f) { f[22] = 1; }, false);
  crafted[ParseError::TcpTooShort] = edit(syn, [](Bytes& f) {
    f.resize(14 + 20 + 19);
    store_be16(f.data() + 16, 39);
  });
  crafted[ParseError::TcpBadDataOffset] = edit(syn, [](Bytes& f) { f[46] = 0x40; });
  crafted[ParseError::TcpHeaderTruncated] = edit(syn, [](Bytes& f) { f[46] = 0xf0; });
  crafted[ParseError::TcpOptionTruncated] = edit(syn, [](Bytes& f) { f[55] = 40; });
  crafted[ParseError::TcpOptionBadLength] = edit(syn, [](Bytes& f) { f[55] = 0; });
  crafted[ParseError::TcpBadChecksum] = edit(
      syn, [](Bytes& f) { f[50] ^= 1; }, false);
  crafted[ParseError::UdpTooShort] = edit(udp, [](Bytes& f) {
    f.resize(14 + 20 + 7);
    store_be16(f.data() + 16, 27);
  });
  crafted[ParseError::UdpBadLength] = edit(udp, [](Bytes& f) { store_be16(f.data() + 38, 21); });
  crafted[ParseError::IcmpTooShort] = edit(icmp, [](Bytes& f) {
    f.resize(14 + 20 + 7);
    store_be16(f.data() + 16, 27);
  });
  crafted[ParseError::IcmpBadChecksum] = edit(
      icmp, [](Bytes& f) { f[50] ^= 1; }, false);

  std::set<ParseError> reached;
  for (const auto& [want, frame] : crafted) {
    auto r = parse_frame(frame);
    ASSERT_FALSE(r) << to_string(want);
    EXPECT_EQ(r.error(), want) << "want " << to_string(want) << " got " << to_string(r.error());
    reached.insert(r.error());
  }
  EXPECT_EQ(reached.size(), kParseErrorCount);
}

// Cutting a valid frame anywhere yields an error (or a shorter valid parse), never a read
// out of bounds. The fuzz target runs the same under ASan; here each prefix is also copied
// to an exactly-sized heap buffer so a sanitizer build would catch an overread.
TEST(ParseFrame, EveryTruncationIsRefusedOrConsistent) {
  for (const auto& [name, frame] : captures()) {
    for (std::size_t n = 0; n < frame.size(); ++n) {
      const Bytes prefix(frame.begin(), frame.begin() + static_cast<long>(n));
      auto r = parse_frame(prefix);
      if (r) {
        // Only frames whose tail is padding (ARP) may still parse when cut.
        EXPECT_EQ(name, "arp") << n;
        EXPECT_GE(n, 42u) << name;
      }
    }
    EXPECT_TRUE(parse_frame(frame)) << name;
  }
}

TEST(ParseFrame, RandomByteFlipsNeverCrash) {
  std::mt19937 rng(13);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes f = captures()[rng() % captures().size()].second;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) f[rng() % f.size()] = test::random_of<std::uint8_t>(rng);
    f.resize(rng() % (f.size() + 1));
    if (parse_frame(f, {.verify_ipv4_checksum = false, .verify_l4_checksum = false})) ++parsed;
  }
  EXPECT_GT(parsed, 0);
}

TEST(BuildFrame, TcpSynReproducesCapture) {
  const EthernetHeader eth{kMacB, kMacA, 0, std::nullopt};
  Ipv4Header ip;
  ip.id = 0x1c46;
  ip.df = true;
  ip.ttl = 64;
  ip.src = kSrc;
  ip.dst = kDst;
  TcpHeader tcp;
  tcp.src_port = 41924;
  tcp.dst_port = 80;
  tcp.seq = Seq{0x3ad2f5c1};
  tcp.flags = TcpFlag::Syn;
  tcp.window = 64240;
  tcp.options.mss = 1460;
  tcp.options.sack_permitted = true;
  tcp.options.timestamps = TcpTimestamps{0x000d5b2f, 0};
  tcp.options.window_scale = 7;
  Bytes out(200);
  const std::size_t n = build_tcp_frame(out, eth, ip, tcp, {});
  ASSERT_EQ(n, test::kTcpSyn.size());
  out.resize(n);
  EXPECT_EQ(out, test::to_vec(test::kTcpSyn));

  Bytes vlan(200);
  EthernetHeader tagged = eth;
  tagged.vlan_tci = 100;
  vlan.resize(build_tcp_frame(vlan, tagged, ip, tcp, {}));
  EXPECT_EQ(vlan, test::to_vec(test::kTcpSynVlan));
}

TEST(BuildFrame, TcpDataReproducesCapture) {
  const EthernetHeader eth{kMacB, kMacA, 0, std::nullopt};
  Ipv4Header ip;
  ip.id = 0x1c46;
  ip.df = true;
  ip.src = kSrc;
  ip.dst = kDst;
  TcpHeader tcp;
  tcp.src_port = 41924;
  tcp.dst_port = 80;
  tcp.seq = Seq{0x3ad2f5c2};
  tcp.ack = Seq{0x9c3b0001};
  tcp.flags = TcpFlag::Psh | TcpFlag::Ack;
  tcp.window = 502;
  tcp.checksum = 0x1111;  // overwritten
  tcp.options.timestamps = TcpTimestamps{0x000d5b3a, 0x7e1f3c20};
  const std::string_view text = "GET / HTTP/1.1\r\nHost: 198.18.0.2\r\n\r\n";
  const std::span<const std::uint8_t> payload(reinterpret_cast<const std::uint8_t*>(text.data()),
                                              text.size());
  Bytes out(test::kTcpData.size());
  ASSERT_EQ(build_tcp_frame(out, eth, ip, tcp, payload), out.size());
  EXPECT_EQ(out, test::to_vec(test::kTcpData));
  Bytes small(test::kTcpData.size() - 1);
  EXPECT_EQ(build_tcp_frame(small, eth, ip, tcp, payload), 0u);
}

TEST(BuildFrame, TcpRefusesOversizeDatagram) {
  Bytes payload(65535 - 40 + 1);
  Bytes out(70000);
  EXPECT_EQ(build_tcp_frame(out, {}, {}, {}, payload), 0u);
  payload.resize(65535 - 40);
  EXPECT_EQ(build_tcp_frame(out, {}, {}, {}, payload), 14u + 65535u);
}

TEST(BuildFrame, ArpReproducesCapture) {
  ArpPacket a;
  a.sha = kMacA;
  a.spa = kSrc;
  a.tpa = kDst;
  Bytes out(42);
  ASSERT_EQ(build_arp_frame(out, {MacAddr::kBroadcast, kMacA, 0, std::nullopt}, a), 42u);
  EXPECT_EQ(out, test::to_vec(std::span(test::kArpRequest).first(42)));
  Bytes small(41);
  EXPECT_EQ(build_arp_frame(small, {}, a), 0u);
}

TEST(BuildFrame, IcmpEchoReproducesCapture) {
  Ipv4Header ip;
  ip.id = 0x5ab3;
  ip.df = true;
  ip.src = kSrc;
  ip.dst = kDst;
  IcmpEcho m;
  m.id = 0x1234;
  m.seq = 1;
  m.payload = std::span(test::kIcmpEcho).subspan(42);
  Bytes out(test::kIcmpEcho.size());
  ASSERT_EQ(build_icmp_echo_frame(out, {kMacB, kMacA, 0, std::nullopt}, ip, m), out.size());
  EXPECT_EQ(out, test::to_vec(test::kIcmpEcho));
  Bytes small(out.size() - 1);
  EXPECT_EQ(build_icmp_echo_frame(small, {}, ip, m), 0u);
}

TEST(BuildFrame, RandomTcpFramesParseBack) {
  std::mt19937 rng(14);
  Bytes payload(9000);
  Bytes out(9100);
  for (int i = 0; i < 500; ++i) {
    EthernetHeader eth;
    for (auto& b : eth.dst.bytes) b = test::random_of<std::uint8_t>(rng);
    if (rng() & 1) eth.vlan_tci = static_cast<std::uint16_t>(rng() & 0x0fff);
    Ipv4Header ip;
    ip.src = Ipv4Addr{test::random_of<std::uint32_t>(rng)};
    ip.dst = Ipv4Addr{test::random_of<std::uint32_t>(rng)};
    ip.id = test::random_of<std::uint16_t>(rng);
    TcpHeader tcp;
    tcp.seq = Seq{test::random_of<std::uint32_t>(rng)};
    tcp.flags = TcpFlag::Ack;
    if (rng() & 1) tcp.options.timestamps = TcpTimestamps{1, 2};
    tcp.options.sack_count = static_cast<std::uint8_t>(rng() % 5);
    const std::size_t plen = rng() % payload.size();
    for (std::size_t k = 0; k < plen; ++k) payload[k] = test::random_of<std::uint8_t>(rng);
    const std::size_t n = build_tcp_frame(out, eth, ip, tcp, std::span(payload).first(plen));
    ASSERT_GT(n, 0u);
    auto p = parse_frame(std::span(out).first(n));
    ASSERT_TRUE(p) << to_string(p.error());
    EXPECT_EQ(p->kind, FrameKind::Ipv4Tcp);
    EXPECT_EQ(p->payload_len, plen);
    EXPECT_EQ(p->tcp.seq, tcp.seq);
    EXPECT_EQ(p->eth.vlan_tci, eth.vlan_tci);
    EXPECT_TRUE(std::equal(payload.begin(), payload.begin() + static_cast<long>(plen),
                           out.begin() + p->payload_offset));
  }
}

}  // namespace
}  // namespace sluice::wire

namespace sluice::wire {
namespace {

TEST(ParseFrameInto, ReusedStructGivesTheSameAnswerAsAFreshParse) {
  ParsedFrame reused;
  for (int round = 0; round < 2; ++round) {
    for (const auto& [name, frame] : captures()) {
      ASSERT_TRUE(parse_frame_into(frame, reused)) << name;
      const auto fresh = parse_frame(frame);
      ASSERT_TRUE(fresh);
      EXPECT_EQ(reused.kind, fresh->kind) << name;
      EXPECT_EQ(reused.l3_offset, fresh->l3_offset) << name;
      EXPECT_EQ(reused.l4_offset, fresh->l4_offset) << name;
      EXPECT_EQ(reused.payload_offset, fresh->payload_offset) << name;
      EXPECT_EQ(reused.payload_len, fresh->payload_len) << name;
      if (fresh->kind != FrameKind::Ipv4Tcp) continue;  // other members: kind's only
      EXPECT_EQ(reused.tcp.options.sack_count, fresh->tcp.options.sack_count) << name;
      EXPECT_EQ(reused.tcp.options.mss, fresh->tcp.options.mss) << name;
      EXPECT_EQ(reused.tcp.options.timestamps, fresh->tcp.options.timestamps) << name;
    }
  }
  EXPECT_EQ(parse_frame_into(std::span(test::kTcpSyn).first(20), reused).error(),
            ParseError::Ipv4TooShort);
}

TEST(ParseFrame, ArpPaddingIsReportedAsPayload) {
  auto f = parse_frame(test::kArpRequest);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->payload_offset, 42);
  EXPECT_EQ(f->payload_len, 18);
}

}  // namespace
}  // namespace sluice::wire

// ---- a packet whose first part alone is parsed (chained mbufs: receive offload, scatter)

namespace sluice::wire {
namespace {

TEST(ParseSplit, TcpHeadersFromTheFirstPartAndTheLengthFromIpv4) {
  const Bytes f = test::to_vec(test::kTcpData);
  const auto whole = parse_frame(f);
  ASSERT_TRUE(whole.ok());
  ASSERT_GT(whole->payload_len, 1u);
  // Only the headers and one payload byte in the first part.
  const std::span<const std::uint8_t> head(f.data(), whole->payload_offset + 1u);
  const auto split = parse_frame(head, {.verify_l4_checksum = false, .packet_len = f.size()});
  ASSERT_TRUE(split.ok()) << to_string(split.error());
  EXPECT_EQ(split->kind, FrameKind::Ipv4Tcp);
  EXPECT_EQ(split->payload_offset, whole->payload_offset);
  EXPECT_EQ(split->payload_len, whole->payload_len);
  EXPECT_EQ(split->tcp.seq, whole->tcp.seq);
  EXPECT_EQ(split->tcp.options.timestamps.has_value(), whole->tcp.options.timestamps.has_value());
}

TEST(ParseSplit, ATcpHeaderCutByThePartIsRefused) {
  const Bytes f = test::to_vec(test::kTcpData);
  const auto whole = parse_frame(f);
  ASSERT_TRUE(whole.ok());
  const std::span<const std::uint8_t> head(f.data(), whole->payload_offset - 1u);
  const auto split = parse_frame(head, {.verify_l4_checksum = false, .packet_len = f.size()});
  ASSERT_FALSE(split.ok());
  EXPECT_TRUE(split.error() == ParseError::TcpHeaderTruncated ||
              split.error() == ParseError::TcpTooShort)
      << to_string(split.error());
}

TEST(ParseSplit, TheIpv4LengthMustFitThePacket) {
  const Bytes f = test::to_vec(test::kTcpData);
  const std::span<const std::uint8_t> head(f.data(), 60);
  const auto split = parse_frame(head, {.verify_l4_checksum = false, .packet_len = f.size() - 1});
  ASSERT_FALSE(split.ok());
  EXPECT_EQ(split.error(), ParseError::Ipv4TotalLengthBeyondFrame);
}

TEST(ParseSplit, OtherProtocolsAreReportedAsIpv4Other) {
  const Bytes f = test::to_vec(test::kIcmpEcho);
  const std::span<const std::uint8_t> head(f.data(), 14 + 20 + 8);
  const auto split = parse_frame(head, {.packet_len = f.size()});
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->kind, FrameKind::Ipv4Other);
}

}  // namespace
}  // namespace sluice::wire

// parse_frame_into's fast path against parse_frame_into_general, the reference: the same
// verdict for every input, and on success the same ParsedFrame (both start from the same
// state, so members the reported kind leaves alone compare equal too).
namespace sluice::wire {
namespace {

void expect_same_options(const TcpOptions& a, const TcpOptions& b) {
  EXPECT_EQ(a.mss, b.mss);
  EXPECT_EQ(a.window_scale, b.window_scale);
  EXPECT_EQ(a.sack_permitted, b.sack_permitted);
  ASSERT_EQ(a.sack_count, b.sack_count);
  for (std::size_t i = 0; i < a.sack_blocks().size(); ++i) EXPECT_EQ(a.sack[i], b.sack[i]);
  EXPECT_EQ(a.timestamps, b.timestamps);
}

void expect_same_frame(const ParsedFrame& a, const ParsedFrame& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.l3_offset, b.l3_offset);
  EXPECT_EQ(a.l4_offset, b.l4_offset);
  EXPECT_EQ(a.payload_offset, b.payload_offset);
  EXPECT_EQ(a.payload_len, b.payload_len);
  EXPECT_EQ(a.eth.dst, b.eth.dst);
  EXPECT_EQ(a.eth.src, b.eth.src);
  EXPECT_EQ(a.eth.ethertype, b.eth.ethertype);
  EXPECT_EQ(a.eth.vlan_tci, b.eth.vlan_tci);
  if (a.kind == FrameKind::Arp || a.kind == FrameKind::Ipv6) return;
  EXPECT_EQ(a.ip.tos, b.ip.tos);
  EXPECT_EQ(a.ip.total_len, b.ip.total_len);
  EXPECT_EQ(a.ip.id, b.ip.id);
  EXPECT_EQ(a.ip.df, b.ip.df);
  EXPECT_EQ(a.ip.mf, b.ip.mf);
  EXPECT_EQ(a.ip.frag_offset, b.ip.frag_offset);
  EXPECT_EQ(a.ip.ttl, b.ip.ttl);
  EXPECT_EQ(a.ip.protocol, b.ip.protocol);
  EXPECT_EQ(a.ip.checksum, b.ip.checksum);
  EXPECT_EQ(a.ip.src, b.ip.src);
  EXPECT_EQ(a.ip.dst, b.ip.dst);
  EXPECT_EQ(a.ip.header_len, b.ip.header_len);
  if (a.kind != FrameKind::Ipv4Tcp) return;
  EXPECT_EQ(a.tcp.src_port, b.tcp.src_port);
  EXPECT_EQ(a.tcp.dst_port, b.tcp.dst_port);
  EXPECT_EQ(a.tcp.seq, b.tcp.seq);
  EXPECT_EQ(a.tcp.ack, b.tcp.ack);
  EXPECT_EQ(a.tcp.flags, b.tcp.flags);
  EXPECT_EQ(a.tcp.window, b.tcp.window);
  EXPECT_EQ(a.tcp.checksum, b.tcp.checksum);
  EXPECT_EQ(a.tcp.urgent, b.tcp.urgent);
  EXPECT_EQ(a.tcp.header_len, b.tcp.header_len);
  expect_same_options(a.tcp.options, b.tcp.options);
}

// Parses with both paths; returns whether the fast path alone took it.
bool compare_paths(std::span<const std::uint8_t> frame, const ParseOptions& opts,
                   const std::string& what) {
  SCOPED_TRACE(what);
  ParsedFrame fast;
  ParsedFrame general;
  const auto rf = parse_frame_into(frame, fast, opts);
  const auto rg = parse_frame_into_general(frame, general, opts);
  EXPECT_EQ(rf.ok(), rg.ok());
  if (!rf.ok() || !rg.ok()) {
    if (!rf.ok() && !rg.ok()) {
      EXPECT_EQ(rf.error(), rg.error());
    }
    ParsedFrame probe;
    EXPECT_FALSE(parse_ipv4_tcp_fast(frame, probe, opts));  // it never takes a bad frame
    return false;
  }
  expect_same_frame(fast, general);
  ParsedFrame probe;
  const bool took = parse_ipv4_tcp_fast(frame, probe, opts);
  if (took) expect_same_frame(probe, general);
  return took;
}

// A valid TCP frame: random addresses, ports, flags, option layouts and payload length
// (odd ones included), sometimes VLAN-tagged, sometimes with Ethernet padding after it.
std::uint32_t u32(std::mt19937& rng) { return test::random_of<std::uint32_t>(rng); }

Bytes random_tcp_frame(std::mt19937& rng) {
  Bytes out(1600);
  Bytes payload(rng() % 4 == 0 ? rng() % 1461 : rng() % 64);
  for (auto& b : payload) b = test::random_of<std::uint8_t>(rng);
  EthernetHeader eth;
  for (auto& b : eth.dst.bytes) b = test::random_of<std::uint8_t>(rng);
  for (auto& b : eth.src.bytes) b = test::random_of<std::uint8_t>(rng);
  if (rng() % 8 == 0) eth.vlan_tci = static_cast<std::uint16_t>(rng() & 0xffff);
  Ipv4Header ip;
  ip.tos = test::random_of<std::uint8_t>(rng);
  ip.id = test::random_of<std::uint16_t>(rng);
  ip.df = (rng() & 1) != 0;
  ip.ttl = test::random_of<std::uint8_t>(rng);
  ip.src = Ipv4Addr{test::random_of<std::uint32_t>(rng)};
  ip.dst = Ipv4Addr{test::random_of<std::uint32_t>(rng)};
  TcpHeader tcp;
  tcp.src_port = test::random_of<std::uint16_t>(rng);
  tcp.dst_port = test::random_of<std::uint16_t>(rng);
  tcp.seq = Seq{test::random_of<std::uint32_t>(rng)};
  tcp.ack = Seq{test::random_of<std::uint32_t>(rng)};
  tcp.flags = test::random_of<std::uint8_t>(rng);
  tcp.window = test::random_of<std::uint16_t>(rng);
  tcp.urgent = test::random_of<std::uint16_t>(rng);
  switch (rng() % 5) {
    case 0: break;
    case 1: tcp.options.timestamps = TcpTimestamps{u32(rng), u32(rng)}; break;
    case 2:  // a SYN's
      tcp.options.mss = static_cast<std::uint16_t>(rng());
      tcp.options.window_scale = static_cast<std::uint8_t>(rng() % 15);
      tcp.options.sack_permitted = true;
      tcp.options.timestamps = TcpTimestamps{u32(rng), u32(rng)};
      break;
    case 3:
      tcp.options.timestamps = TcpTimestamps{u32(rng), u32(rng)};
      tcp.options.sack_count = static_cast<std::uint8_t>(1 + rng() % 3);
      for (auto& s : tcp.options.sack) s = SackBlock{Seq{u32(rng)}, Seq{u32(rng)}};
      break;
    default: tcp.options.mss = static_cast<std::uint16_t>(rng()); break;
  }
  const std::size_t n = build_tcp_frame(out, eth, ip, tcp, payload);
  out.resize(n);
  if (n < 60 && rng() % 2 == 0) out.resize(60, 0);  // Ethernet padding to the minimum
  return out;
}

TEST(ParseFrameFast, TakesValidTcpFramesAndAgreesWithTheGeneralPath) {
  std::mt19937 rng(21);
  int taken = 0;
  for (int i = 0; i < 3000; ++i) {
    const Bytes f = random_tcp_frame(rng);
    const bool tagged = load_be16(f.data() + 12) == to_u16(EtherType::Vlan);
    const bool took = compare_paths(f, {}, "valid " + std::to_string(i));
    EXPECT_EQ(took, !tagged) << i;  // every untagged one
    taken += took ? 1 : 0;
  }
  EXPECT_GT(taken, 2000);
  for (const auto& [name, frame] : captures()) {
    const bool took = compare_paths(frame, {}, name);
    EXPECT_EQ(took, name == "tcp_syn" || name == "tcp_data" || name == "tcp_sack") << name;
  }
}

TEST(ParseFrameFast, CraftedCasesFallBackWithTheSameAnswer) {
  std::mt19937 rng(22);
  const std::vector<ParseOptions> all_opts = {
      {}, {.verify_ipv4_checksum = false}, {.verify_l4_checksum = false},
      {.verify_ipv4_checksum = false, .verify_l4_checksum = false}};
  for (int i = 0; i < 400; ++i) {
    Bytes base = random_tcp_frame(rng);
    if (load_be16(base.data() + 12) != to_u16(EtherType::Ipv4)) continue;
    const std::size_t ip_total = load_be16(base.data() + 16);
    std::vector<std::pair<std::string, Bytes>> cases;
    auto add = [&](std::string name, Bytes f, bool fix) {
      if (fix) fix_checksums(f);
      cases.emplace_back(std::move(name), std::move(f));
    };
    add("as is", base, false);
    for (const std::size_t cut : {std::size_t{0}, std::size_t{13}, std::size_t{33},
                                  std::size_t{53}, base.size() - 1, 14 + ip_total - 1}) {
      add("cut " + std::to_string(cut), Bytes(base.begin(), base.begin() + static_cast<long>(
                                                                 std::min(cut, base.size()))),
          false);
    }
    {  // IPv4 options: IHL 6 with a 4-byte NOP option, total length adjusted
      Bytes f(base.begin(), base.begin() + 34);
      f.insert(f.end(), {1, 1, 1, 0});
      f.insert(f.end(), base.begin() + 34, base.end());
      f[14] = 0x46;
      store_be16(f.data() + 16, static_cast<std::uint16_t>(ip_total + 4));
      add("ip options", f, true);
    }
    for (const std::uint16_t frag : std::initializer_list<std::uint16_t>{0x2000, 0x0001, 0x1fff, 0x8000, 0x4000, 0x6000}) {
      Bytes f = base;
      store_be16(f.data() + 20, frag);
      add("frag " + std::to_string(frag), f, true);
    }
    for (const std::uint8_t proto : {IpProto::Udp, IpProto::Icmp, std::uint8_t{99}}) {
      Bytes f = base;
      f[23] = proto;
      add("proto " + std::to_string(proto), f, true);
    }
    for (const std::uint8_t v : std::initializer_list<std::uint8_t>{0x44, 0x55, 0x65, 0x4f}) {
      Bytes f = base;
      f[14] = v;
      add("ver/ihl " + std::to_string(v), f, true);
    }
    for (const int delta : {-1, 1, -static_cast<int>(ip_total) + 39, 1000}) {
      Bytes f = base;
      store_be16(f.data() + 16, static_cast<std::uint16_t>(static_cast<int>(ip_total) + delta));
      add("total " + std::to_string(delta), f, true);
    }
    for (const std::uint8_t off : std::initializer_list<std::uint8_t>{0x00, 0x40, 0x60, 0xf0, 0x90}) {  // TCP data offset
      Bytes f = base;
      f[46] = static_cast<std::uint8_t>(off | (f[46] & 0x0f));
      add("doff " + std::to_string(off), f, true);
    }
    {
      Bytes f = base;
      f[24] ^= 0x01;  // IPv4 checksum
      add("bad ip checksum", f, false);
      f = base;
      f[50] ^= 0x80;  // TCP checksum
      add("bad tcp checksum", f, false);
      f = base;
      f[12] = 0x86;
      f[13] = 0xdd;
      add("ipv6", f, false);
      f = base;
      f[13] = 0x06;
      add("arp type", f, false);
    }
    if (base.size() > 54 + 4) {  // a bad option: kind 2 (MSS) with length 3
      Bytes f = base;
      if ((f[46] >> 4) > 5) {
        f[54] = 2;
        f[55] = 3;
        add("bad option", f, true);
      }
    }
    for (int k = 0; k < 8; ++k) {  // random flips, then maybe fixed checksums, maybe cut
      Bytes f = base;
      const int flips = 1 + static_cast<int>(rng() % 3);
      for (int j = 0; j < flips; ++j) {
        f[rng() % std::min<std::size_t>(f.size(), 70)] = test::random_of<std::uint8_t>(rng);
      }
      if (rng() % 4 == 0) f.resize(rng() % (f.size() + 1));
      add("flips", f, f.size() >= 34 && rng() % 2 == 0);
    }
    for (const auto& [name, f] : cases) {
      for (const auto& o : all_opts) {
        compare_paths(f, o, std::to_string(i) + " " + name);
        ParseOptions split = o;  // a packet longer than the frame: never the fast path
        split.packet_len = f.size() + 1 + rng() % 100;
        EXPECT_FALSE(compare_paths(f, split, std::to_string(i) + " split " + name));
        ParseOptions whole = o;  // packet_len that fits the frame: not split
        whole.packet_len = f.size();
        compare_paths(f, whole, std::to_string(i) + " whole " + name);
      }
    }
  }
}

TEST(ParseFrameFast, RandomBytesAgree) {
  std::mt19937 rng(23);
  for (int i = 0; i < 20000; ++i) {
    Bytes f(rng() % 120);
    for (auto& b : f) b = test::random_of<std::uint8_t>(rng);
    if (f.size() >= 24 && rng() % 2 == 0) {  // steer towards IPv4 + TCP
      f[12] = 0x08;
      f[13] = 0x00;
      f[14] = 0x45;
      f[20] &= 0x40;
      f[23] = IpProto::Tcp;
      if (f.size() >= 34) {
        store_be16(f.data() + 16, static_cast<std::uint16_t>(20 + rng() % (f.size() - 13)));
        if (f.size() >= 47) f[46] = static_cast<std::uint8_t>((5 + rng() % 3) << 4);
        if (rng() % 2 == 0) fix_checksums(f);
      }
    }
    compare_paths(f, {}, "random " + std::to_string(i));
    compare_paths(f, {.verify_ipv4_checksum = false, .verify_l4_checksum = false},
                  "random unverified " + std::to_string(i));
  }
}

}  // namespace
}  // namespace sluice::wire
