// Segmentation and receive offloads as TCP sees them (issue 4, "Offloads discovered and
// used"): with TSO the stack hands the port one packet per burst — whole segments of the
// effective MSS, the TCP checksum field holding the length-less pseudo-header sum, FIN and
// PSH on the packet (the port keeps them for the last piece) — and never more than the
// window and congestion window allow; retransmissions stay MSS-sized. A segment far
// larger than the MSS (a large-receive-offload aggregate, in a chain of mbufs) is taken
// whole and acknowledged at once. With checksum offload and a payload threshold (ports
// whose offload costs more than our own sum for small packets: net_vhost), packets below
// it carry complete checksums and no offload flags, the rest leave the sums to the port.
#include "packet_harness.hpp"

namespace sluice::sim {
namespace {

constexpr std::uint32_t kTsoMax = 65535 - 20 - 60;
constexpr std::uint32_t kEmss = 1448;  // MSS 1460 less 12 bytes of timestamps

const wire::TcpOptions kSynOpts{.mss = 1460,
                                .window_scale = 7,
                                .sack_permitted = true,
                                .timestamps = wire::TcpTimestamps{5, 0}};

std::vector<std::uint8_t> payload_of(const std::vector<Captured>& v) {
  std::vector<std::uint8_t> all;
  for (const auto& c : v) all.insert(all.end(), c.payload.begin(), c.payload.end());
  return all;
}

std::vector<Captured> drain(PacketHarness& h) {
  std::vector<Captured> v;
  while (auto c = h.pop_tx()) v.push_back(std::move(*c));
  return v;
}

TEST(Tso, TheInitialWindowGoesAsOnePacketOfWholeSegments) {
  PacketHarness h(PacketHarness::default_config(), kTsoMax);
  tcp::Tcb* t = h.open_passive(Seq{100}, kSynOpts);
  ASSERT_NE(t, nullptr);
  const Seq start = t->snd_nxt();
  const auto data = pattern_bytes(20000, 11);
  ASSERT_EQ(t->send(data), 20000u);
  // RFC 6928: IW = 10 segments; all ten leave in one packet the port cuts at 1448.
  auto first = drain(h);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].payload.size(), 10 * kEmss);
  EXPECT_EQ(first[0].tso_segsz, kEmss);
  EXPECT_EQ(first[0].seq(), start);
  EXPECT_EQ(first[0].tcp.flags, Flag::Ack) << "PSH only on the packet that ends the data";
  // The peer acknowledges it all: slow start doubles the window, the rest (5520 bytes,
  // not a multiple of the segment size: the last piece is short) goes in one packet.
  h.send(
      {.seq = Seq{101},
       .ack = start + 10 * kEmss,
       .window = 2000,
       .options = {.timestamps = wire::TcpTimestamps{6, first[0].tcp.options.timestamps->tsval}}});
  auto second = drain(h);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].payload.size(), 20000 - 10 * kEmss);
  EXPECT_EQ(second[0].tso_segsz, kEmss);
  EXPECT_EQ(second[0].seq(), start + 10 * kEmss);
  EXPECT_EQ(second[0].tcp.flags, Flag::Ack | Flag::Psh);
  first.insert(first.end(), second.begin(), second.end());
  EXPECT_EQ(payload_of(first), data) << "the bytes, in order";
}

TEST(Tso, ThePeersWindowCutsThePacketToWholeSegments) {
  PacketHarness h(PacketHarness::default_config(), kTsoMax);
  // Window 40 << 7 = 5120 bytes: three whole segments (4344) fit, a fourth does not, and
  // the 776 left over are less than half the window (sender SWS avoidance): they wait.
  tcp::Tcb* t = h.open_passive(Seq{100}, kSynOpts, 40);
  ASSERT_NE(t, nullptr);
  const Seq start = t->snd_nxt();
  ASSERT_EQ(t->send(pattern_bytes(10000, 12)), 10000u);
  auto v = drain(h);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].payload.size(), 3 * kEmss);
  EXPECT_EQ(v[0].tso_segsz, kEmss);
  EXPECT_EQ(v[0].seq(), start);
}

TEST(Tso, OneSegmentIsNeverATsoPacket) {
  PacketHarness h(PacketHarness::default_config(), kTsoMax);
  tcp::Tcb* t = h.open_passive(Seq{100}, kSynOpts);
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->send(pattern_bytes(kEmss, 13)), kEmss);
  auto v = drain(h);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].payload.size(), kEmss);
  EXPECT_EQ(v[0].tso_segsz, 0) << "no segmentation asked of the port for one segment";
}

TEST(Tso, AFinRidesOnTheLastPacket) {
  PacketHarness h(PacketHarness::default_config(), kTsoMax);
  tcp::Tcb* t = h.open_passive(Seq{100}, kSynOpts);
  ASSERT_NE(t, nullptr);
  const Seq start = t->snd_nxt();
  // The initial window goes at once; 5000 more bytes and the FIN wait for the ACK.
  ASSERT_EQ(t->send(pattern_bytes(10 * kEmss + 5000, 14)), 10 * kEmss + 5000);
  t->close();
  auto first = drain(h);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].payload.size(), 10 * kEmss);
  h.send(
      {.seq = Seq{101},
       .ack = start + 10 * kEmss,
       .options = {.timestamps = wire::TcpTimestamps{6, first[0].tcp.options.timestamps->tsval}}});
  auto v = drain(h);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].seq(), start + 10 * kEmss);
  EXPECT_EQ(v[0].payload.size(), 5000u);
  EXPECT_EQ(v[0].tcp.flags, Flag::Ack | Flag::Psh | Flag::Fin);
  EXPECT_EQ(v[0].tso_segsz, kEmss);
  EXPECT_EQ(t->snd_nxt(), start + 10 * kEmss + 5001);
  EXPECT_EQ(t->state(), TcpState::FinWait1);
}

TEST(Tso, ATimeoutResendsOneSegmentNotThePacket) {
  PacketHarness h(PacketHarness::default_config(), kTsoMax);
  tcp::Tcb* t = h.open_passive(Seq{100}, kSynOpts);
  ASSERT_NE(t, nullptr);
  const Seq start = t->snd_nxt();
  ASSERT_EQ(t->send(pattern_bytes(8 * kEmss, 15)), 8 * kEmss);
  auto v = drain(h);
  ASSERT_EQ(v.size(), 1u);
  ASSERT_EQ(v[0].payload.size(), 8 * kEmss);
  // Nothing is acknowledged: the tail loss probe, then the RTO, resend single segments.
  h.advance(3s);
  auto again = drain(h);
  ASSERT_FALSE(again.empty());
  for (const auto& c : again) {
    EXPECT_LE(c.payload.size(), kEmss) << c.describe();
    EXPECT_EQ(c.tso_segsz, 0) << c.describe();
  }
  EXPECT_EQ(again.back().seq(), start) << "the RTO goes back to SND.UNA";
}

TEST(Lro, AnAggregateOfManySegmentsIsTakenWholeAndAcknowledgedAtOnce) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, kSynOpts);
  ASSERT_NE(t, nullptr);
  const Seq ours = t->snd_nxt();
  // 20 segments' worth in one frame (a chain of mbufs): what a receive offload hands over.
  const auto data = pattern_bytes(20 * kEmss, 16);
  h.send({.seq = Seq{101},
          .ack = ours,
          .options = {.timestamps = wire::TcpTimestamps{6, 0}},
          .payload = data});
  // More than two full segments: acknowledged now, not after the delayed-ACK timer.
  h.expect_tx({.seq = ours,
               .ack = Seq{101} + static_cast<std::uint32_t>(data.size()),
               .flags = Flag::Ack,
               .len = 0});
  EXPECT_EQ(h.acceptor.handlers[0].received, data);
}

TEST(Lro, BytesAfterTheIpv4LengthInLaterMbufsAreNotData) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100});
  ASSERT_NE(t, nullptr);
  const Seq ours = t->snd_nxt();
  // A 1000-byte segment followed by 3000 bytes that the IPv4 length leaves out: the
  // frame spans two more mbufs, which must not reach the application.
  const auto data = pattern_bytes(1000, 17);
  wire::Ipv4Header ip{};
  ip.ttl = 64;
  ip.src = kRemoteIp;
  ip.dst = kLocalIp;
  wire::TcpHeader th{};
  th.src_port = kRemotePort;
  th.dst_port = kLocalPort;
  th.seq = Seq{101};
  th.ack = ours;
  th.flags = Flag::Ack | Flag::Psh;
  th.window = 65535;
  std::vector<std::uint8_t> frame(14 + 20 + 20 + data.size());
  frame.resize(wire::build_tcp_frame(frame, {}, ip, th, data));
  frame.resize(frame.size() + 3000, 0xee);
  h.send_frame(frame);
  h.advance(200ms);
  EXPECT_EQ(h.acceptor.handlers[0].received, data);
  EXPECT_EQ(t->rcv_nxt(), Seq{1101});
}

TEST(ChecksumOffload, PacketsBelowTheThresholdAreSummedHereTheRestByThePort) {
  PacketHarness h(PacketHarness::default_config(),
                  HarnessPort{.checksum_offload = true, .offload_min_payload = 256});
  tcp::Tcb* t = h.open_passive(Seq{100}, kSynOpts);
  ASSERT_NE(t, nullptr);
  const Seq start = t->snd_nxt();
  t->set_no_delay(true);  // the second packet leaves before the first is acknowledged
  // The harness's sink checks an offloaded packet's fields (pseudo-header sum, IPv4 sum
  // zero) before completing them, and lib/wire then checks every packet's sums.
  ASSERT_EQ(t->send(pattern_bytes(255, 21)), 255u);
  auto small = drain(h);
  ASSERT_EQ(small.size(), 1u);
  EXPECT_EQ(small[0].payload.size(), 255u);
  EXPECT_FALSE(small[0].tcp_csum_offload);
  EXPECT_FALSE(small[0].ip_csum_offload);
  ASSERT_EQ(t->send(pattern_bytes(256, 22)), 256u);
  auto large = drain(h);
  ASSERT_EQ(large.size(), 1u);
  EXPECT_EQ(large[0].payload.size(), 256u);
  EXPECT_EQ(large[0].seq(), start + 255);
  EXPECT_TRUE(large[0].tcp_csum_offload);
  EXPECT_TRUE(large[0].ip_csum_offload);
  // A pure ACK has no payload: summed here.
  h.send({.seq = Seq{101},
          .ack = start + 511,
          .flags = Flag::Ack | Flag::Psh,
          .options = {.timestamps = wire::TcpTimestamps{6, large[0].tcp.options.timestamps->tsval}},
          .payload = pattern_bytes(10, 23)});
  h.advance(500ms);  // the delayed ACK
  auto acks = drain(h);
  ASSERT_FALSE(acks.empty());
  EXPECT_EQ(acks.back().ack(), Seq{111});
  EXPECT_EQ(acks.back().payload.size(), 0u);
  EXPECT_FALSE(acks.back().tcp_csum_offload);
  EXPECT_FALSE(acks.back().ip_csum_offload);
}

TEST(ChecksumOffload, WithoutAThresholdEveryPacketIsLeftToThePort) {
  PacketHarness h(PacketHarness::default_config(), HarnessPort{.checksum_offload = true});
  tcp::Tcb* t = h.open_passive(Seq{100}, kSynOpts);
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->send(pattern_bytes(1, 24)), 1u);
  auto v = drain(h);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(v[0].tcp_csum_offload);
  EXPECT_TRUE(v[0].ip_csum_offload);
}

TEST(ChecksumOffload, TsoPacketsUseTheOffloadWhateverTheThreshold) {
  PacketHarness h(
      PacketHarness::default_config(),
      HarnessPort{.tso_max = kTsoMax, .checksum_offload = true, .offload_min_payload = 1u << 20});
  tcp::Tcb* t = h.open_passive(Seq{100}, kSynOpts);
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->send(pattern_bytes(3 * kEmss, 25)), 3 * kEmss);
  auto v = drain(h);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].tso_segsz, kEmss);
  EXPECT_TRUE(v[0].ip_csum_offload) << "each piece's IPv4 header is the port's to sum";
  EXPECT_EQ(payload_of(v), pattern_bytes(3 * kEmss, 25));
}

}  // namespace
}  // namespace sluice::sim
