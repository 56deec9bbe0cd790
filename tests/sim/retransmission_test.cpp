// Loss recovery and timers: fast retransmit and NewReno partial ACKs (RFC 5681 §3.2,
// RFC 6582), SACK recovery (RFC 6675), the RTO of RFC 6298 (initial value, back-off,
// reset by a new sample, upper bound, giving up) and keepalive (RFC 1122 §4.2.3.6).
#include <algorithm>

#include "packet_harness.hpp"

namespace sluice::sim {
namespace {

// Sends n full segments of `mss` bytes (no-delay) and returns their first sequence number.
Seq send_segments(PacketHarness& h, tcp::Tcb* t, int n, std::uint32_t mss) {
  const Seq first = t->snd_nxt();
  t->set_no_delay(true);
  t->send(pattern_bytes(static_cast<std::size_t>(n) * mss, 7));
  for (int i = 0; i < n; ++i) {
    h.expect_tx({.seq = first + static_cast<std::uint32_t>(i) * mss, .len = std::size_t{mss}});
  }
  h.expect_no_tx("the initial window is ten segments");
  return first;
}

TEST(FastRetransmit, ThreeDupAcksThenNewRenoPartialAckRetransmitsTheNextHole) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1000});  // no SACK
  ASSERT_NE(t, nullptr);
  const Seq s0 = send_segments(h, t, 10, 1000);
  // Segments 0 and 5 are lost; 1, 2, 3 arrive: three duplicate ACKs.
  h.send({.seq = Seq{101}, .ack = s0});
  h.send({.seq = Seq{101}, .ack = s0});
  h.expect_no_tx("two duplicates are not enough");
  h.send({.seq = Seq{101}, .ack = s0});
  h.expect_tx({.seq = s0, .len = 1000u}, "RFC 5681 §3.2 step 2: fast retransmit");
  EXPECT_TRUE(t->in_recovery());
  EXPECT_EQ(h.stack().counters().fast_retransmits, 1u);
  // The retransmission fills the first hole: ACK up to segment 5, short of `recover`.
  h.send({.seq = Seq{101}, .ack = s0 + 5000});
  h.expect_tx({.seq = s0 + 5000, .len = 1000u}, "RFC 6582 §3.2 step 4: partial ACK");
  EXPECT_TRUE(t->in_recovery());
  h.send({.seq = Seq{101}, .ack = s0 + 10000});
  EXPECT_FALSE(t->in_recovery());
  EXPECT_EQ(h.stack().counters().retrans_segs, 2u);
  EXPECT_EQ(h.stack().counters().rto_expired, 0u);
}

TEST(SackRecovery, RetransmitsTheHolesThePeerReports) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1000, .sack_permitted = true});
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->sack_on());
  const Seq s0 = send_segments(h, t, 10, 1000);
  // Segments 2 and 6 are lost. The peer's ACKs carry what it holds above the holes.
  auto sack_ack = [&](std::initializer_list<wire::SackBlock> blocks) {
    PeerSegment p{.seq = Seq{101}, .ack = s0 + 2000};
    for (const auto& b : blocks) p.options.sack[p.options.sack_count++] = b;
    h.send(p);
  };
  h.send({.seq = Seq{101}, .ack = s0 + 2000});  // 0 and 1 arrived
  sack_ack({{s0 + 3000, s0 + 4000}});
  sack_ack({{s0 + 3000, s0 + 5000}});
  h.expect_no_tx();
  sack_ack({{s0 + 3000, s0 + 6000}});
  h.expect_tx({.seq = s0 + 2000, .len = 1000u}, "RFC 6675 §5: first hole");
  EXPECT_EQ(h.stack().counters().sack_recoveries, 1u);
  // 7 arrives. In recovery, with no reordering seen, a hole below SACKed data is lost at
  // once (RACK, RFC 8985 §6.2); RFC 6675 alone would wait for 8 and 9 as well.
  sack_ack({{s0 + 7000, s0 + 8000}, {s0 + 3000, s0 + 6000}});
  h.expect_tx({.seq = s0 + 6000, .len = 1000u}, "second hole");
  sack_ack({{s0 + 7000, s0 + 9000}, {s0 + 3000, s0 + 6000}});
  sack_ack({{s0 + 7000, s0 + 10000}, {s0 + 3000, s0 + 6000}});
  h.expect_no_tx("nothing SACKed is sent again");
  h.send({.seq = Seq{101}, .ack = s0 + 10000});
  EXPECT_FALSE(t->in_recovery());
  EXPECT_EQ(h.stack().counters().retrans_segs, 2u);
  EXPECT_EQ(h.stack().counters().rto_expired, 0u);
}

// A SACK connection with timestamps that has sent ten segments of 1000 bytes; the time
// then moves 5 ms, so a retransmission carries a later timestamp than the originals.
struct TenSent {
  tcp::Tcb* t = nullptr;
  Seq s0;
  std::uint32_t ts_original = 0;  ///< TSval of the ten originals
};
TenSent open_and_send_ten(PacketHarness& h) {
  TenSent r;
  r.t = h.open_passive(
      Seq{100}, {.mss = 1012, .sack_permitted = true, .timestamps = wire::TcpTimestamps{5, 0}});
  if (r.t == nullptr) return r;
  r.s0 = r.t->snd_nxt();
  r.t->send(pattern_bytes(10000, 7));  // ten segments: 1012 less 12 bytes of timestamps
  r.ts_original = h.expect_tx({.seq = r.s0}).tcp.options.timestamps->tsval;
  h.clear_tx();
  h.advance(5ms);
  return r;
}

/// The peer acknowledges `ack`, echoing `tsecr`, with SACK blocks.
void sack_ack(PacketHarness& h, Seq ack, std::uint32_t tsecr,
              std::initializer_list<wire::SackBlock> blocks) {
  PeerSegment p{
      .seq = Seq{101}, .ack = ack, .options = {.timestamps = wire::TcpTimestamps{6, tsecr}}};
  for (const auto& b : blocks) p.options.sack[p.options.sack_count++] = b;
  h.send(p);
}

/// Segment 2 is missing and 3, 4, 5 arrived: the fast retransmission of segment 2.
Captured fast_retransmit_segment_2(PacketHarness& h, const TenSent& c) {
  sack_ack(h, c.s0 + 2000, c.ts_original, {{c.s0 + 3000, c.s0 + 4000}});
  sack_ack(h, c.s0 + 2000, c.ts_original, {{c.s0 + 3000, c.s0 + 5000}});
  sack_ack(h, c.s0 + 2000, c.ts_original, {{c.s0 + 3000, c.s0 + 6000}});
  return h.expect_tx({.seq = c.s0 + 2000, .len = 1000u}, "fast retransmit of segment 2");
}

// RFC 3522 (Eifel) and RFC 4015: segment 2 was only late. The ACK that covers the fast
// retransmission echoes the original's timestamp, not the retransmission's: the window
// comes back, and the sender waits for twice as many SACKed segments next time.
TEST(SackRecovery, ASpuriousFastRetransmitIsUndoneAndTheThresholdRises) {
  PacketHarness h;
  const TenSent c = open_and_send_ten(h);
  ASSERT_NE(c.t, nullptr);
  const std::uint32_t cwnd_before = c.t->cwnd();
  fast_retransmit_segment_2(h, c);
  ASSERT_TRUE(c.t->in_recovery());
  ASSERT_LT(c.t->cwnd(), cwnd_before);
  // The late original arrives first: its ACK echoes the original timestamp.
  sack_ack(h, c.s0 + 10000, c.ts_original, {});
  EXPECT_FALSE(c.t->in_recovery());
  EXPECT_EQ(h.stack().counters().spurious_recoveries, 1u);
  EXPECT_GE(c.t->cwnd(), cwnd_before) << "the reduction is undone";
  EXPECT_EQ(c.t->dupthresh(), 6u);
}

// The Linux peer's echo behind a lossy link showed it: ten segments out, the first six
// acknowledged one by one, the seventh lost. When the third SACK names it lost, four are in
// flight. CUBIC's cut is from the window (RFC 9438 §4.6 allows it, Linux and Windows do
// it), not to 0.7 * 4 segments, which left the echo a window of two segments.
TEST(SackRecovery, CubicCutsTheWindowNotWhatIsLeftInFlight) {
  PacketHarness h;
  const TenSent c = open_and_send_ten(h);
  ASSERT_NE(c.t, nullptr);
  for (std::uint32_t i = 1; i <= 6; ++i) sack_ack(h, c.s0 + i * 1000, c.ts_original, {});
  h.expect_no_tx("nothing more to send");
  const std::uint32_t cwnd = c.t->cwnd();
  ASSERT_GE(cwnd, 10000u);
  sack_ack(h, c.s0 + 6000, c.ts_original, {{c.s0 + 7000, c.s0 + 8000}});
  sack_ack(h, c.s0 + 6000, c.ts_original, {{c.s0 + 7000, c.s0 + 9000}});
  sack_ack(h, c.s0 + 6000, c.ts_original, {{c.s0 + 7000, c.s0 + 10000}});
  h.expect_tx({.seq = c.s0 + 6000, .len = 1000u}, "fast retransmit of segment 6");
  ASSERT_TRUE(c.t->in_recovery());
  EXPECT_EQ(c.t->ssthresh(), cwnd * 7 / 10) << "4000 bytes in flight would give 2800";
}

// RFC 8985 §7.4 at the close: the probe resends the last data before our FIN, and a
// Linux peer that had it answers with a D-SACK whose end counts the FIN (one further than
// the data). Only ACKs were lost: that is no repair, and the window stays.
TEST(TailLossProbe, ADsackThatCountsTheFinIsNoRepair) {
  PacketHarness h;
  const TenSent c = open_and_send_ten(h);
  ASSERT_NE(c.t, nullptr);
  sack_ack(h, c.s0 + 5000, c.ts_original, {});  // an RTT sample (5 ms): probes are armed
  c.t->shutdown();
  const Captured fin = h.expect_tx({.seq = c.s0 + 10000, .len = 0u}, "our FIN");
  ASSERT_TRUE(fin.tcp.has(wire::TcpFlag::Fin));
  const std::uint32_t ssthresh = c.t->ssthresh();
  const std::uint32_t cwnd = c.t->cwnd();
  h.advance(10ms);  // PTO = 2 * SRTT: the probe resends the last segment of data
  h.expect_tx({.seq = c.s0 + 9000, .len = 1000u}, "the probe");
  ASSERT_EQ(h.stack().counters().tail_loss_probes, 1u);
  sack_ack(h, c.s0 + 10001, c.ts_original, {{c.s0 + 9000, c.s0 + 10001}});
  EXPECT_EQ(c.t->snd_una(), c.s0 + 10001);
  EXPECT_EQ(h.stack().counters().tlp_repairs, 0u);
  EXPECT_EQ(c.t->ssthresh(), ssthresh);
  EXPECT_GE(c.t->cwnd(), cwnd);
}

TEST(SackRecovery, ARetransmissionThatRepairedALossIsNotUndone) {
  PacketHarness h;
  const TenSent c = open_and_send_ten(h);
  ASSERT_NE(c.t, nullptr);
  const Captured r = fast_retransmit_segment_2(h, c);
  const std::uint32_t cwnd_in_recovery = c.t->cwnd();
  // The retransmission filled the hole: the ACK echoes its timestamp.
  sack_ack(h, c.s0 + 10000, r.tcp.options.timestamps->tsval, {});
  EXPECT_FALSE(c.t->in_recovery());
  EXPECT_EQ(h.stack().counters().spurious_recoveries, 0u);
  EXPECT_LE(c.t->cwnd(), cwnd_in_recovery + 1000u) << "no undo";
  EXPECT_EQ(c.t->dupthresh(), 3u);
}

TEST(Rto, InitialOneSecondThenFromTheHandshakeSample) {
  PacketHarness h;
  auto r = h.stack().connect(PacketHarness::tuple(), &h.client);
  ASSERT_TRUE(r.ok());
  tcp::Tcb* t = *r;
  EXPECT_EQ(t->rto(), time::Duration{1s}) << "RFC 6298 §2.1";
  const Captured syn = h.expect_tx({.flags = Flag::Syn});
  h.advance(100ms);  // a 100 ms round trip
  h.send({.seq = Seq{5000}, .ack = syn.seq() + 1, .flags = Flag::Syn | Flag::Ack});
  h.expect_tx({.flags = Flag::Ack});
  // RFC 6298 §2.2: SRTT = 100 ms, RTTVAR = 50 ms, RTO = 100 + 4 * 50 = 300 ms.
  EXPECT_EQ(t->rto(), time::Duration{300ms});
}

// The passive side times its SYN-ACK too, by the echoed timestamp when the peer uses them
// (Linux does by default). Without that sample a short connection's first lost segment
// waited the initial second instead of the minimum RTO.
TEST(Rto, PassiveOpenWithTimestampsSamplesTheSynAck) {
  PacketHarness h;
  auto l = h.stack().listen(Ipv4Addr{}, kLocalPort, 16, &h.acceptor);
  ASSERT_TRUE(l.ok());
  h.send({.seq = Seq{100},
          .flags = Flag::Syn,
          .options = {.mss = 1460, .timestamps = wire::TcpTimestamps{7000, 0}}});
  const Captured sa = h.expect_tx({.ack = Seq{101}, .flags = Flag::Syn | Flag::Ack});
  ASSERT_TRUE(sa.tcp.options.timestamps.has_value());
  h.advance(100ms);  // a 100 ms round trip
  h.send({.seq = Seq{101},
          .ack = sa.seq() + 1,
          .options = {.timestamps = wire::TcpTimestamps{7100, sa.tcp.options.timestamps->tsval}}});
  ASSERT_EQ(h.acceptor.accepted.size(), 1u);
  tcp::Tcb* t = h.acceptor.accepted[0];
  // RFC 6298 §2.2: SRTT = 100 ms, RTTVAR = 50 ms, RTO = 300 ms (not the initial 1 s).
  EXPECT_EQ(t->rto(), time::Duration{300ms});
  t->set_no_delay(true);
  ASSERT_EQ(t->send(bytes_of("lost")), 4u);
  h.expect_tx({.seq = sa.seq() + 1, .len = 4u});
  h.advance(299ms);
  h.expect_no_tx("before the RTO");
  h.advance(1ms);
  h.expect_tx({.seq = sa.seq() + 1, .len = 4u}, "retransmitted at 300 ms");
}

TEST(Rto, BacksOffDoublesIsResetByANewSampleAndIsCapped) {
  tcp::TcpConfig c = PacketHarness::default_config();
  c.rto_max = 1000ms;
  PacketHarness h(c);
  auto r = h.stack().connect(PacketHarness::tuple(), &h.client);
  ASSERT_TRUE(r.ok());
  tcp::Tcb* t = *r;
  const Captured syn = h.expect_tx({.flags = Flag::Syn});
  h.advance(100ms);
  h.send({.seq = Seq{5000},
          .ack = syn.seq() + 1,
          .flags = Flag::Syn | Flag::Ack,
          .options = {.mss = 1000}});
  h.expect_tx({.flags = Flag::Ack});
  const Seq s = syn.seq() + 1;
  t->send(bytes_of("lost"));
  const Captured d = h.expect_tx({.seq = s, .len = 4u});
  // 300, 600, then 1000 (capped, not 1200), 1000 ms.
  time::Instant at = d.at;
  for (const auto gap : {300ms, 600ms, 1000ms, 1000ms}) {
    h.advance_to(at + gap - 1ms);
    h.expect_no_tx("before the RTO");
    h.advance(1ms);
    const Captured rx = h.expect_tx({.seq = s, .len = 4u}, "retransmission");
    at = rx.at;
  }
  EXPECT_EQ(h.stack().counters().rto_expired, 4u);
  // Acknowledged after a retransmission: Karn, no sample, the back-off stays...
  h.send({.seq = Seq{5001}, .ack = s + 4});
  t->send(bytes_of("next"));
  h.expect_tx({.seq = s + 4, .len = 4u});
  // ...until a segment sent once is acknowledged: 100 ms gives SRTT 100, RTTVAR 37.5 →
  // RTO 250 ms, no back-off (RFC 6298 §2.3, §5 note).
  h.advance(100ms);
  h.send({.seq = Seq{5001}, .ack = s + 8});
  EXPECT_EQ(t->rto(), time::Duration{250ms});
  t->send(bytes_of("more"));
  const Captured m = h.expect_tx({.seq = s + 8, .len = 4u});
  h.advance_to(m.at + 250ms - 1ms);
  h.expect_no_tx();
  h.advance(1ms);
  h.expect_tx({.seq = s + 8, .len = 4u});
}

TEST(Rto, GivesUpAfterMaxRetriesAsTimedOut) {
  tcp::TcpConfig c = PacketHarness::default_config();
  c.max_retries = 3;
  PacketHarness h(c);
  tcp::Tcb* t = h.open_active(Seq{5000});
  ASSERT_NE(t, nullptr);
  t->send(bytes_of("x"));
  h.expect_tx({.len = 1u});
  h.advance(60s);
  int retransmissions = 0;
  while (auto seg = h.pop_tx()) {
    if (seg->payload.size() == 1) ++retransmissions;
  }
  EXPECT_EQ(retransmissions, 3);
  EXPECT_EQ(h.client.closed, 1);
  EXPECT_EQ(h.client.reason, tcp::CloseReason::TimedOut);
  EXPECT_EQ(h.stack().counters().timeouts, 1u);
  EXPECT_EQ(h.stack().connection_count(), 0u);
}

TEST(Keepalive, IsOffByDefault) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100});
  ASSERT_NE(t, nullptr);
  h.advance(std::chrono::hours(3));
  h.expect_no_tx("no keepalive unless asked for");
  EXPECT_EQ(t->state(), TcpState::Established);
}

tcp::TcpConfig keepalive_config() {
  tcp::TcpConfig c = PacketHarness::default_config();
  c.keepalive_idle = 10s;
  c.keepalive_interval = 2s;
  c.keepalive_count = 3;
  return c;
}

TEST(Keepalive, UnansweredProbesAfterIdleEndTheConnectionAsTimedOut) {
  PacketHarness h(keepalive_config());
  tcp::Tcb* t = h.open_passive(Seq{100});
  ASSERT_NE(t, nullptr);
  t->set_keepalive(true);
  const Seq our = t->snd_nxt();
  const time::Instant idle_from = h.now();
  h.advance_to(idle_from + 10s - 1ms);
  h.expect_no_tx();
  // RFC 1122 §4.2.3.6: SEG.SEQ = SND.NXT - 1, no data, so the peer must answer.
  for (int i = 0; i < 3; ++i) {
    h.advance_to(idle_from + 10s + std::chrono::seconds(2 * i));
    h.expect_tx({.seq = our - 1, .ack = Seq{101}, .flags = Flag::Ack, .len = 0u}, "probe");
  }
  h.advance_to(idle_from + 16s - 1ms);
  EXPECT_EQ(t->state(), TcpState::Established);
  h.advance(1ms);
  EXPECT_EQ(h.acceptor.handlers[0].closed, 1);
  EXPECT_EQ(h.acceptor.handlers[0].reason, tcp::CloseReason::TimedOut);
  EXPECT_EQ(h.stack().counters().keepalive_probes, 3u);
  EXPECT_EQ(h.stack().counters().timeouts, 1u);
}

TEST(Keepalive, AnsweredProbeKeepsTheConnection) {
  PacketHarness h(keepalive_config());
  tcp::Tcb* t = h.open_passive(Seq{100});
  ASSERT_NE(t, nullptr);
  t->set_keepalive(true);
  const Seq our = t->snd_nxt();
  const time::Instant idle_from = h.now();
  h.advance_to(idle_from + 12s);
  h.expect_tx({.seq = our - 1, .len = 0u});
  h.expect_tx({.seq = our - 1, .len = 0u});
  h.send({.seq = Seq{101}, .ack = our});  // the answer
  const time::Instant answered = h.now();
  h.advance_to(answered + 10s - 1ms);
  h.expect_no_tx("idle again from the answer");
  h.advance(1ms);
  h.expect_tx({.seq = our - 1, .len = 0u});
  EXPECT_EQ(t->state(), TcpState::Established);
  EXPECT_EQ(h.acceptor.handlers[0].closed, 0);
}

// RFC 6675 retransmits each hole once; if that retransmission is lost too, only the RTO
// would notice. When data first sent after the retransmission is SACKed while the hole
// stays, the retransmission was lost (RACK's reasoning, RFC 8985 §6.2): resend it.
TEST(SackRecovery, LostRetransmissionIsSentAgainBeforeTheRto) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1000, .sack_permitted = true});
  ASSERT_NE(t, nullptr);
  t->set_no_delay(true);
  const Seq s0 = t->snd_nxt();
  t->send(pattern_bytes(30000, 9));  // 30 segments; the initial window sends 10
  for (int i = 0; i < 10; ++i) h.expect_tx({.seq = s0 + static_cast<std::uint32_t>(i) * 1000});
  h.expect_no_tx("initial window");
  auto sack_ack = [&](Seq right) {
    PeerSegment p{.seq = Seq{101}, .ack = s0};
    p.options.sack[p.options.sack_count++] = wire::SackBlock{s0 + 1000, right};
    h.send(p);
  };
  // Segment 0 is lost; 1..3 arrive: fast retransmit of 0.
  sack_ack(s0 + 2000);
  sack_ack(s0 + 3000);
  sack_ack(s0 + 4000);
  h.expect_tx({.seq = s0, .len = 1000u}, "fast retransmit");
  // 4..9 arrive; the shrinking pipe lets new data out (RFC 6675 NextSeg rule 2).
  Seq next_new = s0 + 10000;
  for (std::uint32_t i = 5; i <= 10; ++i) {
    sack_ack(s0 + i * 1000);
    while (auto c = h.pop_tx()) {
      ASSERT_NE(c->seq(), s0) << "segment 0 resent before anything shows it lost again";
      if (c->seq() == next_new) next_new = next_new + static_cast<std::uint32_t>(c->payload.size());
    }
  }
  ASSERT_TRUE(s0 + 10000 < next_new) << "no new data went out in recovery";
  EXPECT_EQ(h.stack().counters().lost_retransmits, 0u);
  // The retransmission of 0 is lost; the first new segment (sent after it) is SACKed.
  sack_ack(s0 + 11000);
  bool resent = false;
  while (auto c = h.pop_tx()) resent = resent || (c->seq() == s0 && c->payload.size() == 1000);
  EXPECT_TRUE(resent) << "the lost retransmission waits for the RTO";
  EXPECT_EQ(h.stack().counters().lost_retransmits, 1u);
  EXPECT_EQ(h.stack().counters().rto_expired, 0u);
  // Its ACK ends the recovery with everything delivered.
  h.send({.seq = Seq{101}, .ack = s0 + 11000});
  EXPECT_EQ(t->snd_una(), s0 + 11000);
}

// Seen against Linux over a 5 % lossy link: segments 2 and 6 lost, recovery repairs 2,
// and the partial ACK that covers it SACKs 7 alone above the hole at 6. RFC 6675's IsLost
// wanted three segments SACKed above it; the ACKs that would have brought them were lost,
// and the hole waited 200 ms for the RTO. In recovery, with no reordering seen, RACK's
// reordering window is zero (RFC 8985 §6.2): 6 was sent before 7, 7 arrived, 6 is lost.
TEST(SackRecovery, APartialAckRepairsTheNextHoleAtOnceWhileNoReorderingWasSeen) {
  PacketHarness h;
  const TenSent c = open_and_send_ten(h);
  ASSERT_NE(c.t, nullptr);
  const std::uint32_t ts_rxt = fast_retransmit_segment_2(h, c).tcp.options.timestamps->tsval;
  ASSERT_EQ(c.t->dupthresh(), 3u);
  // The retransmission of 2 arrived (the ACK echoes it: no undo); 6 is missing, 7 is here.
  sack_ack(h, c.s0 + 6000, ts_rxt, {{c.s0 + 7000, c.s0 + 8000}});
  ASSERT_TRUE(c.t->in_recovery());
  h.expect_tx({.seq = c.s0 + 6000, .len = 1000u}, "the hole below 7, at once");
  EXPECT_EQ(h.stack().counters().retrans_segs, 2u);
  EXPECT_EQ(h.stack().counters().spurious_recoveries, 0u);
  sack_ack(h, c.s0 + 10000, ts_rxt, {});
  EXPECT_FALSE(c.t->in_recovery());
  EXPECT_EQ(c.t->snd_una(), c.s0 + 10000);
  EXPECT_EQ(h.stack().counters().rto_expired, 0u);
}

// Once reordering has been seen (a recovery undone, the threshold doubled), a SACK above a
// hole is weaker evidence: RACK's window is no longer zero, and the hole waits for
// RFC 6675's count at the raised threshold (six segments SACKed above it).
TEST(SackRecovery, AfterReorderingTheNextHoleWaitsForTheRaisedThreshold) {
  PacketHarness h;
  const TenSent c = open_and_send_ten(h);
  ASSERT_NE(c.t, nullptr);
  fast_retransmit_segment_2(h, c);
  sack_ack(h, c.s0 + 10000, c.ts_original, {});  // only late: undone
  ASSERT_EQ(c.t->dupthresh(), 6u);
  ASSERT_FALSE(c.t->in_recovery());
  // Twenty more segments; the restored window sends at least ten of them at once.
  h.clear_tx();
  c.t->send(pattern_bytes(20000, 8));
  std::uint32_t ts_new = 0;
  std::uint32_t sent = 0;
  while (auto seg = h.pop_tx()) {
    ts_new = seg->tcp.options.timestamps->tsval;
    ++sent;
  }
  ASSERT_GE(sent, 10u);
  const Seq b = c.s0 + 10000;  // new segment k starts at b + 1000 k
  auto at = [&](std::uint32_t k) { return b + k * 1000; };
  // New segments 0 and 2 are lost. Six SACKed above 0 (1 and 3..7) start the recovery.
  sack_ack(h, b, ts_new, {{at(3), at(8)}, {at(1), at(2)}});
  ASSERT_TRUE(c.t->in_recovery());
  h.expect_tx({.seq = at(0), .len = 1000u}, "first hole");
  // Five SACKed above 2: not yet lost at a threshold of six.
  while (auto seg = h.pop_tx()) EXPECT_NE(seg->seq(), at(2)) << "hole 2 sent before its time";
  // The sixth.
  sack_ack(h, b, ts_new, {{at(3), at(9)}, {at(1), at(2)}});
  bool resent = false;
  while (auto seg = h.pop_tx()) resent = resent || seg->seq() == at(2);
  EXPECT_TRUE(resent) << "hole 2 with six segments SACKed above it";
}

/// Ten segments of 1000 bytes with SACK; the peer holds only 8 of them, and every ACK is
/// lost until the timeout, whose resend of 0 (and the probe of 9 before it) the harness
/// has dropped.
struct TimedOut {
  tcp::Tcb* t = nullptr;
  Seq s0;
  [[nodiscard]] Seq seg(std::uint32_t k) const { return s0 + k * 1000; }
};
TimedOut time_out_with_8_held(PacketHarness& h) {
  TimedOut r;
  r.t = h.open_passive(Seq{100}, {.mss = 1000, .sack_permitted = true});
  if (r.t == nullptr) return r;
  r.s0 = send_segments(h, r.t, 10, 1000);
  for (int ms = 0; ms < 5000 && h.stack().counters().rto_expired == 0; ++ms) h.advance(1ms);
  EXPECT_EQ(h.stack().counters().rto_expired, 1u) << "the probe's answer is lost too";
  h.clear_tx();
  return r;
}

/// The peer acknowledges `ack` with SACK blocks.
void ack_with(PacketHarness& h, Seq ack, std::initializer_list<wire::SackBlock> blocks) {
  PeerSegment p{.seq = Seq{101}, .ack = ack};
  for (const auto& b : blocks) p.options.sack[p.options.sack_count++] = b;
  h.send(p);
}

/// The segment numbers (from s0, 1000 bytes each) of what the stack sent, in order.
std::vector<std::uint32_t> sent_segments(PacketHarness& h, Seq s0) {
  std::vector<std::uint32_t> v;
  while (auto c = h.pop_tx()) {
    if (!c->payload.empty()) v.push_back(static_cast<std::uint32_t>(c->seq() - s0) / 1000);
  }
  return v;
}

// After a timeout the go-back-N resend sends holes again after the SACKed data above them
// arrived, so that data says nothing of the resends. Slow start resends 0 to 6; the resend
// of 3 is lost, 4 and 5 arrive. With 4, 5 and 8 SACKed above it, 3 is lost (RFC 6675's
// count) and goes again. 6 was resent after 4 and 5, and only 8, held since before the
// timeout, is SACKed above it: it is not sent a third time. Nor is anything resent on old
// SACKs alone when the reordering window would have passed (5 ms).
TEST(SackRecovery, AfterATimeoutOldSacksDoNotCondemnTheResends) {
  PacketHarness h;
  const TimedOut c = time_out_with_8_held(h);
  ASSERT_NE(c.t, nullptr);
  ack_with(h, c.seg(1), {{c.seg(8), c.seg(9)}});  // 0's resend arrived
  h.advance(5ms);
  ack_with(h, c.seg(2), {{c.seg(8), c.seg(9)}});
  ack_with(h, c.seg(3), {{c.seg(8), c.seg(9)}});
  std::vector<std::uint32_t> sent = sent_segments(h, c.s0);
  ASSERT_EQ(sent, (std::vector<std::uint32_t>{1, 2, 3, 4, 5, 6})) << "slow start's resends";
  ASSERT_FALSE(c.t->in_recovery());
  ack_with(h, c.seg(3), {{c.seg(4), c.seg(5)}, {c.seg(8), c.seg(9)}});
  ack_with(h, c.seg(3), {{c.seg(4), c.seg(6)}, {c.seg(8), c.seg(9)}});
  ASSERT_TRUE(c.t->in_recovery());
  const std::vector<std::uint32_t> more = sent_segments(h, c.s0);
  sent.insert(sent.end(), more.begin(), more.end());
  EXPECT_EQ(std::count(sent.begin(), sent.end(), 3u), 2) << "3's lost resend, repaired";
  EXPECT_EQ(std::count(sent.begin(), sent.end(), 6u), 1) << "6 resent twice on old evidence";
  EXPECT_EQ(h.stack().counters().reorder_losses, 0u);
  EXPECT_EQ(h.stack().counters().rto_expired, 1u);
}

// The same timeout, but a SACK of a later resend does say something: 1 and 2 were resent
// in that order, 2 arrived and 1 did not. The reordering window (RFC 8985 §6.2) then
// declares 1's resend lost, without waiting for a second timeout.
TEST(SackRecovery, AfterATimeoutASackOfALaterResendRepairsTheLostResend) {
  PacketHarness h;
  const TimedOut c = time_out_with_8_held(h);
  ASSERT_NE(c.t, nullptr);
  ack_with(h, c.seg(1), {{c.seg(8), c.seg(9)}});  // 0's resend arrived
  ASSERT_EQ(sent_segments(h, c.s0), (std::vector<std::uint32_t>{1, 2}));
  ack_with(h, c.seg(1), {{c.seg(2), c.seg(3)}, {c.seg(8), c.seg(9)}});  // 2's resend arrived
  h.expect_no_tx("not before the reordering window");
  h.advance(5ms);
  h.expect_tx({.seq = c.seg(1), .len = 1000u}, "1's lost resend");
  EXPECT_EQ(h.stack().counters().reorder_losses, 1u);
  EXPECT_EQ(h.stack().counters().rto_expired, 1u);
}

// RFC 7323 §5.3 R2: a duplicate segment is answered with the receiver's old TS.Recent.
// When the ACK of the original was lost, the ACK that answers the timeout's resend echoes
// the original's TSval, and now - TSecr would count the whole timeout as one round trip.
TEST(RtoSample, NoTimestampSampleFromBeforeTheTimeoutsRetransmission) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1012, .timestamps = wire::TcpTimestamps{5, 0}});
  ASSERT_NE(t, nullptr);
  t->set_no_delay(true);
  const Seq s0 = t->snd_nxt();
  // The handshake was answered at once (a 0 ms sample); a first exchange gives 10 ms:
  // SRTT = 0 + (10 - 0) / 8.
  t->send(pattern_bytes(1000, 1));
  const std::uint32_t ts_a = h.expect_tx({.seq = s0, .len = 1000u}).tcp.options.timestamps->tsval;
  h.advance(10ms);
  h.send({.seq = Seq{101}, .ack = s0 + 1000, .options = {.timestamps = wire::TcpTimestamps{6, ts_a}}});
  const time::Duration srtt = t->rtt().srtt();
  ASSERT_EQ(srtt, 1250us);
  // The second segment arrives but its ACK is lost: the timeout resends it.
  t->send(pattern_bytes(1000, 2));
  const std::uint32_t ts_b =
      h.expect_tx({.seq = s0 + 1000, .len = 1000u}).tcp.options.timestamps->tsval;
  const time::Duration rto = t->rto();
  h.advance(rto);
  const std::uint32_t ts_c =
      h.expect_tx({.seq = s0 + 1000, .len = 1000u}, "the timeout's resend").tcp.options.timestamps->tsval;
  ASSERT_GT(ts_c, ts_b);
  EXPECT_EQ(t->rtt().backoff_count(), 1u);
  // The peer answers the duplicate with the original's TSval: no sample.
  h.advance(10ms);
  h.send({.seq = Seq{101}, .ack = s0 + 2000, .options = {.timestamps = wire::TcpTimestamps{7, ts_b}}});
  EXPECT_EQ(t->snd_una(), s0 + 2000);
  EXPECT_EQ(t->rtt().srtt(), srtt) << "an RTT of a whole RTO is not a sample";
  EXPECT_EQ(t->rto(), rto * 2) << "Karn: the backed-off RTO stays until a valid sample";
  // The next exchange, echoing a TSval after the timeout, is sampled again (12 ms).
  t->send(pattern_bytes(1000, 3));
  const std::uint32_t ts_d =
      h.expect_tx({.seq = s0 + 2000, .len = 1000u}).tcp.options.timestamps->tsval;
  h.advance(12ms);
  h.send({.seq = Seq{101}, .ack = s0 + 3000, .options = {.timestamps = wire::TcpTimestamps{8, ts_d}}});
  EXPECT_NE(t->rtt().srtt(), srtt);
  EXPECT_EQ(t->rtt().backoff_count(), 0u);
}

/// A sender with SACK and timestamps whose first burst (the initial window, 10 segments
/// of 1448 bytes) the peer acknowledged after 1 ms (SRTT 1 ms); the second burst has gone
/// out and is left in the harness. 100,000 bytes were queued.
struct WarmSender {
  tcp::Tcb* t = nullptr;
  Seq una;                  ///< what the peer has acknowledged: the second burst starts here
  std::uint32_t tsval = 0;  ///< the TSval the peer echoes
};
WarmSender warm_sender(PacketHarness& h) {
  WarmSender w;
  w.t = h.open_passive(Seq{100}, {.mss = 1460,
                                  .window_scale = 7,
                                  .sack_permitted = true,
                                  .timestamps = wire::TcpTimestamps{5, 0}});
  if (w.t == nullptr) return w;
  w.t->set_no_delay(true);
  const Seq s0 = w.t->snd_nxt();
  EXPECT_EQ(w.t->send(pattern_bytes(100000, 1)), 100000u);
  std::uint32_t first = 0;
  while (auto c = h.pop_tx()) {
    ++first;
    w.tsval = c->tcp.options.timestamps->tsval;
  }
  EXPECT_EQ(first, 10u) << "the initial window (RFC 6928)";
  h.advance(1ms);
  w.una = s0 + first * 1448;
  h.send(
      {.seq = Seq{101}, .ack = w.una, .options = {.timestamps = wire::TcpTimestamps{6, w.tsval}}});
  return w;
}

/// Options of the peer's ACK that SACKs [left, right) and echoes `tsval`.
wire::TcpOptions sack_one(std::uint32_t tsval, Seq left, Seq right) {
  wire::TcpOptions o{.timestamps = wire::TcpTimestamps{7, tsval}};
  o.sack[0] = wire::SackBlock{left, right};
  o.sack_count = 1;
  return o;
}

/// Takes what the stack has sent from the harness; how many segments.
std::uint32_t drain_count(PacketHarness& h) {
  std::uint32_t n = 0;
  while (h.pop_tx()) ++n;
  return n;
}

// RFC 8985 §7.2: a burst whose only ACK is lost is probed after 2*SRTT (10 ms at least),
// not left to the RTO. The timer is armed as the burst's first segment leaves, when the
// flight is one segment and the PTO would wait out the peer's delayed ACK (longer than
// the RTO); it must be re-armed once the whole burst is out. Before, against Linux over a
// 5 % lossy link, every lost ACK of a flight cost 200 ms or more. The probe is the burst's
// last segment again, though more data waits (tcb.cpp says why): the peer, holding it
// already, answers a duplicate at once, where a new segment would wait for its delayed ACK.
TEST(TailLossProbe, ABurstWhoseOnlyAckIsLostIsProbedAfterTwoRoundTrips) {
  PacketHarness h;
  const WarmSender w = warm_sender(h);
  ASSERT_NE(w.t, nullptr);
  const std::uint32_t second = drain_count(h);
  ASSERT_GT(second, 1u);
  const Seq next = w.una + second * 1448;
  ASSERT_EQ(w.t->snd_nxt(), next);
  // The ACK of the second burst is lost. PTO = max(2 * SRTT, 10 ms) = 10 ms.
  h.advance(9ms);
  h.expect_no_tx("before the probe timeout");
  h.advance(1ms);
  h.expect_tx({.seq = next - 1448, .len = 1448}, "the probe: the last segment again");
  h.expect_no_tx("one probe, no new data with it");
  EXPECT_EQ(h.stack().counters().tail_loss_probes, 1u);
  EXPECT_EQ(h.stack().counters().rto_expired, 0u);
  EXPECT_EQ(h.stack().counters().retrans_segs, 1u);
  // The peer had it: its ACK covers the burst and reports the duplicate (D-SACK, RFC
  // 2883). The episode is over, with no recovery; sending goes on.
  const std::uint32_t cwnd = w.t->cwnd();
  h.send({.seq = Seq{101}, .ack = next, .options = sack_one(w.tsval, next - 1448, next)});
  EXPECT_EQ(w.t->snd_una(), next);
  EXPECT_FALSE(w.t->in_recovery());
  EXPECT_EQ(h.stack().counters().fast_retransmits, 0u);
  EXPECT_EQ(h.stack().counters().tlp_repairs, 0u) << "the D-SACK: only the ACK was lost";
  EXPECT_GE(w.t->cwnd(), cwnd);
  h.expect_tx({.seq = next, .len = 1448}, "new data, clocked by the ACK");
}

/// The second burst and its ACK are gone; 10 ms later (PTO) the probe resends the burst's
/// last segment. Returns the burst's end.
Seq probe_the_second_burst(PacketHarness& h, const WarmSender& w) {
  const Seq next = w.una + drain_count(h) * 1448;
  h.advance(10ms);
  h.expect_tx({.seq = next - 1448, .len = 1448}, "the probe");
  return next;
}

// RFC 8985 §7.4: the burst's last segment was lost, and the ACK of the rest too. The probe
// resends it and fills the hole; the peer's ACK covers everything with no D-SACK. A loss
// was repaired without a recovery, and the window answers for it as for a fast
// retransmit: cut by CUBIC's beta.
TEST(TailLossProbe, AProbeThatRepairedALossCutsTheWindow) {
  PacketHarness h;
  const WarmSender w = warm_sender(h);
  ASSERT_NE(w.t, nullptr);
  const Seq next = probe_the_second_burst(h, w);
  const std::uint32_t cwnd = w.t->cwnd();
  h.send(
      {.seq = Seq{101}, .ack = next, .options = {.timestamps = wire::TcpTimestamps{7, w.tsval}}});
  EXPECT_EQ(w.t->snd_una(), next);
  EXPECT_FALSE(w.t->in_recovery());
  EXPECT_EQ(h.stack().counters().tlp_repairs, 1u);
  EXPECT_EQ(w.t->ssthresh(), cwnd * 7 / 10);
  EXPECT_EQ(w.t->cwnd(), w.t->ssthresh());
  EXPECT_EQ(h.stack().counters().fast_retransmits, 0u);
}

// A probe left unanswered until the RTO: the timeout cuts the window, and the ACK that
// finally covers the probe is not taken for a repair that would cut it again.
TEST(TailLossProbe, AfterATimeoutTheProbeIsNotJudgedAgain) {
  PacketHarness h;
  const WarmSender w = warm_sender(h);
  ASSERT_NE(w.t, nullptr);
  const Seq next = probe_the_second_burst(h, w);
  h.advance(w.t->rto());
  h.expect_tx({.seq = w.una, .len = 1448}, "the timeout's retransmission");
  ASSERT_EQ(h.stack().counters().rto_expired, 1u);
  const std::uint32_t ssthresh = w.t->ssthresh();
  h.send(
      {.seq = Seq{101}, .ack = next, .options = {.timestamps = wire::TcpTimestamps{7, w.tsval}}});
  EXPECT_EQ(w.t->snd_una(), next);
  EXPECT_EQ(h.stack().counters().tlp_repairs, 0u);
  EXPECT_EQ(w.t->ssthresh(), ssthresh);
}

// RFC 8985 §7.4: when the probe's ACK SACKs the probe but not the burst before it, the
// burst was lost: repair it now, by fast retransmission, not after the RTO.
TEST(TailLossProbe, TheProbesSackStartsRecoveryOfTheLostBurst) {
  PacketHarness h;
  const WarmSender w = warm_sender(h);
  ASSERT_NE(w.t, nullptr);
  h.clear_tx();  // the second burst, all of it lost
  const Seq probe = w.t->snd_nxt() - 1448;
  h.advance(10ms);  // PTO: the probe goes out
  h.expect_tx({.seq = probe, .len = 1448}, "the probe, the burst's last segment");
  // The peer got only the probe: its ACK SACKs it, SND.UNA stays.
  h.send({.seq = Seq{101}, .ack = w.una, .options = sack_one(w.tsval, probe, probe + 1448)});
  h.expect_tx({.seq = w.una, .len = 1448}, "the first lost segment, at once");
  EXPECT_EQ(h.stack().counters().fast_retransmits, 1u);
  EXPECT_EQ(h.stack().counters().rto_expired, 0u);
}

}  // namespace
}  // namespace sluice::sim

namespace sluice::sim {
namespace {

// RFC 8985 §6.2: one ACK SACKs the burst's second segment while its first stays missing.
// One duplicate ACK is not three, and the probe would wait 10 ms (and, its ACK lost, the
// RTO 200 ms); the reordering window, a quarter of the 1 ms SRTT rounded up to the wheel's
// 1 ms tick, declares the first segment lost. Against Linux over a 5 % lossy link such
// holes, with a flight of a few segments and the peer acknowledging it in one ACK, were
// repaired by the probe or the RTO.
TEST(ReorderWindow, OneSackAboveAHoleRepairsItAfterAQuarterRtt) {
  PacketHarness h;
  const WarmSender w = warm_sender(h);
  ASSERT_NE(w.t, nullptr);
  h.clear_tx();
  h.send({.seq = Seq{101},
          .ack = w.una,
          .options = sack_one(w.tsval, w.una + 1448, w.una + 2 * 1448)});
  EXPECT_EQ(w.t->dupthresh(), 3u);
  h.expect_no_tx("one duplicate ACK: not yet");
  h.advance(1ms);
  h.expect_tx({.seq = w.una, .len = 1448}, "the hole, after the reordering window");
  const auto& ctr = h.stack().counters();
  EXPECT_EQ(ctr.reorder_losses, 1u);
  EXPECT_EQ(ctr.fast_retransmits, 1u);
  EXPECT_EQ(ctr.tail_loss_probes, 0u);
  EXPECT_EQ(ctr.rto_expired, 0u);
}

/// A WarmSender's second burst (20 segments of 1448 bytes) as the peer answers it: ACKs
/// with SACK blocks that echo the TSval of the last segment the stack sent (the one that
/// filled a hole, as RFC 7323 §4.3 has it), and what the stack sends back, by segment
/// number from the burst's start.
struct BurstPeer {
  PacketHarness& h;
  WarmSender w;
  std::uint32_t tsval = 0;
  explicit BurstPeer(PacketHarness& harness)
      : h(harness), w(warm_sender(harness)), tsval(w.tsval) {}
  [[nodiscard]] Seq seg(std::uint32_t k) const { return w.una + k * 1448; }
  std::vector<std::uint32_t> ack(Seq a, std::initializer_list<wire::SackBlock> blocks) {
    PeerSegment p{
        .seq = Seq{101}, .ack = a, .options = {.timestamps = wire::TcpTimestamps{7, tsval}}};
    for (const auto& b : blocks) p.options.sack[p.options.sack_count++] = b;
    h.send(p);
    return sent();
  }
  std::vector<std::uint32_t> sent() {
    std::vector<std::uint32_t> v;
    while (auto c = h.pop_tx()) {
      tsval = c->tcp.options.timestamps->tsval;
      if (!c->payload.empty()) v.push_back(static_cast<std::uint32_t>(c->seq() - w.una) / 1448);
    }
    return v;
  }
};

bool contains(const std::vector<std::uint32_t>& v, std::uint32_t k) {
  return std::find(v.begin(), v.end(), k) != v.end();
}

/// Segment 0 is lost and resent; the SACKs then show 4 lost as well, and new data 20 to 31
/// goes out in the recovery; 1 ms later the SACKs (up to 30) show the resend of 0 lost
/// too, and 0 and 4 are resent — after 30 and 31 left. Each step 1 ms after the last.
/// False if the stack did not do so.
bool resend_4_after_the_tail(PacketHarness& h, BurstPeer& p) {
  if (p.w.t == nullptr || p.sent().size() != 20) return false;
  p.ack(p.seg(0), {{p.seg(1), p.seg(4)}});
  h.advance(1ms);
  if (!contains(p.ack(p.seg(0), {{p.seg(5), p.seg(20)}, {p.seg(1), p.seg(4)}}), 31)) return false;
  h.advance(1ms);
  return contains(p.ack(p.seg(0), {{p.seg(5), p.seg(30)}, {p.seg(1), p.seg(4)}}), 4);
}

// RFC 8985 §6.2 in recovery, with nothing SACKed above the loss: segments 0 and 10 to 19
// are lost (the burst's tail), 1 to 9 arrive. The resend of 0 arrives, and its ACK (a
// partial one, up to 10) says what was sent before that resend and is still missing is
// lost: 10 goes at once. RFC 6675 sees no hole there (nothing SACKed above it) and would
// wait for the RTO.
TEST(RackRecovery, APartialAckCondemnsWhatWasSentBeforeTheResendItCovers) {
  PacketHarness h;
  BurstPeer p(h);
  ASSERT_NE(p.w.t, nullptr);
  ASSERT_EQ(p.sent().size(), 20u);
  const auto first = p.ack(p.seg(0), {{p.seg(1), p.seg(10)}});
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first.front(), 0u) << "the fast retransmission, then new data";
  EXPECT_FALSE(contains(first, 10)) << "nothing SACKed above 10 yet";
  ASSERT_TRUE(p.w.t->in_recovery());
  h.advance(1ms);  // a round trip: this ACK answers the resend
  const auto sent = p.ack(p.seg(10), {});
  ASSERT_TRUE(p.w.t->in_recovery()) << "a partial ACK";
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent.front(), 10u) << "the tail sent before the resend, at once";
  EXPECT_EQ(h.stack().counters().fast_retransmits, 1u) << "the same recovery goes on";
  EXPECT_EQ(h.stack().counters().rto_expired, 0u);
}

// The same when the ACK ends the recovery (resend_4_after_the_tail: 30 and 31 are lost,
// 4 is resent after them). The ACK that covers everything up to 30 answers the resend of
// 4: 30 and 31 are lost, and a new recovery resends 30 at once (it would wait 200 ms for the RTO:
// one segment left in flight does not get a tail loss probe sooner, RFC 8985 §7.2).
TEST(RackRecovery, TheAckThatEndsARecoveryCondemnsWhatWasSentBeforeTheLastResend) {
  PacketHarness h;
  BurstPeer p(h);
  ASSERT_TRUE(resend_4_after_the_tail(h, p));
  const std::uint64_t reorder = h.stack().counters().reorder_losses;
  h.advance(1ms);
  const auto last = p.ack(p.seg(30), {});
  ASSERT_FALSE(last.empty());
  EXPECT_EQ(last.front(), 30u) << "sent before the resend of 4, which has arrived";
  EXPECT_TRUE(p.w.t->in_recovery()) << "a new episode";
  EXPECT_EQ(h.stack().counters().reorder_losses, reorder + 1);
  EXPECT_EQ(h.stack().counters().rto_expired, 0u);
}

// RFC 8985 §6.2 step 2: an ACK sooner than the round trip after a resend was sent answers
// the original, which arrived after all. Then it condemns nothing: the same exchange, the
// last ACK at the instant of the resend of 4.
TEST(RackRecovery, AnAckTooSoonAfterTheResendAnswersTheOriginal) {
  PacketHarness h;
  BurstPeer p(h);
  ASSERT_TRUE(resend_4_after_the_tail(h, p));
  const auto last = p.ack(p.seg(30), {});
  EXPECT_FALSE(contains(last, 30)) << "30 taken for lost on an ACK that cannot be the resend's";
  EXPECT_FALSE(p.w.t->in_recovery());
}

// The judgement waits for the ACK of the latest resend. An ACK that covers the resend of
// 0 but not that of 4 (sent after 30 and 31) says nothing yet of 30 and 31.
TEST(RackRecovery, AnAckOfAnEarlierResendCondemnsNothing) {
  PacketHarness h;
  BurstPeer p(h);
  ASSERT_TRUE(resend_4_after_the_tail(h, p));
  h.advance(1ms);
  const auto sent = p.ack(p.seg(4), {{p.seg(5), p.seg(30)}});
  EXPECT_FALSE(contains(sent, 30)) << "30 sent after the resend of 0, before that of 4";
  EXPECT_TRUE(p.w.t->in_recovery());
}

// An ACK that shows the recovery was spurious (RFC 3522: it echoes a timestamp from before
// the first resend) undoes it; what was sent before the latest resend is not condemned on
// its word, and no new recovery cuts the window just restored.
TEST(RackRecovery, AnAckThatUndoesTheRecoveryCondemnsNothing) {
  PacketHarness h;
  BurstPeer p(h);
  ASSERT_TRUE(resend_4_after_the_tail(h, p));
  h.advance(1ms);
  p.tsval = p.w.tsval;  // the first burst's: older than any resend
  const auto last = p.ack(p.seg(30), {});
  EXPECT_EQ(h.stack().counters().spurious_recoveries, 1u);
  EXPECT_FALSE(contains(last, 30));
  EXPECT_FALSE(p.w.t->in_recovery());
}

// A recovery resends a segment it sent past its recovery point (20), and ends before the
// resend is answered; a new recovery starts on that segment and resends it once more. The
// ACK that covers it answers the first resend and echoes its older timestamp. Eifel must
// not read that as reordering: no undo, DupThresh stays 3. On the simulator such false
// undos came up to four times per 2 MB echo over a link that never reorders.
TEST(RackRecovery, ANewRecoveryDoesNotJudgeASegmentTheLastOneResent) {
  PacketHarness h;
  BurstPeer p(h);
  ASSERT_NE(p.w.t, nullptr);
  ASSERT_EQ(p.sent().size(), 20u);
  p.ack(p.seg(0), {{p.seg(1), p.seg(4)}});
  h.advance(1ms);
  ASSERT_TRUE(contains(p.ack(p.seg(0), {{p.seg(5), p.seg(20)}, {p.seg(1), p.seg(4)}}), 20));
  h.advance(1ms);
  // 20 is lost, 21 to 31 arrive: 20 is resent in this recovery.
  const auto third =
      p.ack(p.seg(0), {{p.seg(21), p.seg(32)}, {p.seg(5), p.seg(20)}, {p.seg(1), p.seg(4)}});
  ASSERT_TRUE(contains(third, 20));
  const std::uint32_t ts_first_resend = p.tsval;
  h.advance(1ms);
  // 0 and 4 arrived: the ACK ends the recovery (its point was 20); 20 is still a hole below
  // SACKed data, so a new recovery starts there and resends it again.
  const auto fourth = p.ack(p.seg(20), {{p.seg(21), p.seg(32)}});
  ASSERT_TRUE(contains(fourth, 20));
  ASSERT_TRUE(p.w.t->in_recovery());
  // The first resend of 20 arrives; the ACK echoes its timestamp.
  h.advance(1ms);
  p.tsval = ts_first_resend;
  p.ack(p.seg(32), {});
  EXPECT_EQ(h.stack().counters().spurious_recoveries, 0u);
  EXPECT_EQ(p.w.t->dupthresh(), 3u);
}

// The same SACK, then the missing segment arrives within the window (it was reordered,
// not lost): nothing is retransmitted.
TEST(ReorderWindow, AHoleFilledWithinTheWindowIsNotRetransmitted) {
  PacketHarness h;
  const WarmSender w = warm_sender(h);
  ASSERT_NE(w.t, nullptr);
  const std::uint32_t second = drain_count(h);
  ASSERT_GT(second, 2u);
  h.send({.seq = Seq{101},
          .ack = w.una,
          .options = sack_one(w.tsval, w.una + 1448, w.una + 2 * 1448)});
  h.send({.seq = Seq{101},
          .ack = w.una + second * 1448,
          .options = {.timestamps = wire::TcpTimestamps{7, w.tsval}}});
  h.advance(5ms);
  const Seq next = w.una + second * 1448;  // new data goes on from here; nothing below
  while (auto c = h.pop_tx()) EXPECT_FALSE(c->seq() < next) << c->describe();
  EXPECT_EQ(h.stack().counters().reorder_losses, 0u);
  EXPECT_EQ(h.stack().counters().retrans_segs, 0u);
}

}  // namespace
}  // namespace sluice::sim
