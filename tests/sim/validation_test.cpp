// Acceptance of arriving segments on a synchronized connection: the sequence test and
// its duplicate ACK (RFC 9293 §3.10.7.4 first), PAWS (RFC 7323 §5), RST, SYN and ACK
// validation with challenge ACKs and their rate limit (RFC 5961 §3-§5, §7).
#include "packet_harness.hpp"

namespace sluice::sim {
namespace {

using tcp::TcpDrop;

TEST(Rst, ExactInWindowAndOutsideAreEachHandledAndCounted) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100});
  ASSERT_NE(t, nullptr);
  const Seq our = t->snd_nxt();
  const auto& ctr = h.stack().counters();
  // RFC 5961 §3.2: in the window but not RCV.NXT → challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT>.
  h.send({.seq = Seq{101 + 1}, .flags = Flag::Rst});
  h.expect_tx({.seq = our, .ack = Seq{101}, .flags = Flag::Ack, .len = 0u});
  EXPECT_EQ(ctr.dropped(TcpDrop::RstNotExact), 1u);
  EXPECT_EQ(ctr.challenge_acks, 1u);
  // Outside the window: dropped silently.
  h.send({.seq = Seq{100}, .flags = Flag::Rst});  // just left of RCV.NXT
  h.send({.seq = Seq{101} + 300000, .flags = Flag::Rst});
  h.expect_no_tx();
  EXPECT_EQ(ctr.dropped(TcpDrop::RstOutOfWindow), 2u);
  EXPECT_EQ(t->state(), TcpState::Established);
  // Exactly RCV.NXT: reset.
  h.send({.seq = Seq{101}, .flags = Flag::Rst});
  h.expect_no_tx();
  EXPECT_EQ(h.acceptor.handlers[0].reason, tcp::CloseReason::Reset);
  EXPECT_EQ(ctr.rsts_in, 1u);
  EXPECT_EQ(ctr.estab_resets, 1u);
  EXPECT_EQ(h.stack().connection_count(), 0u);
}

TEST(Rst, ChallengeAcksAreRateLimitedPerSecond) {
  tcp::TcpConfig c = PacketHarness::default_config();
  c.challenge_ack_limit = 2;
  PacketHarness h(c);
  tcp::Tcb* t = h.open_passive(Seq{100});
  ASSERT_NE(t, nullptr);
  const Seq our = t->snd_nxt();
  // All four at the same instant, so in the same second of the limiter.
  for (int i = 0; i < 4; ++i)
    h.send({.seq = Seq{101 + 10 + static_cast<std::uint32_t>(i)}, .flags = Flag::Rst});
  h.expect_tx({.seq = our, .ack = Seq{101}, .flags = Flag::Ack});
  h.expect_tx({.seq = our, .ack = Seq{101}, .flags = Flag::Ack});
  h.expect_no_tx("RFC 5961 §7: over the limit");
  EXPECT_EQ(h.stack().counters().challenge_acks, 2u);
  EXPECT_EQ(h.stack().counters().challenge_acks_suppressed, 2u);
  // A second later the budget is back.
  h.advance(1s);
  h.send({.seq = Seq{101 + 20}, .flags = Flag::Rst});
  h.expect_tx({.seq = our, .ack = Seq{101}, .flags = Flag::Ack});
  EXPECT_EQ(t->state(), TcpState::Established);
}

TEST(Established, SynGetsChallengeAckWhateverItsSequence) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100});
  ASSERT_NE(t, nullptr);
  const Seq our = t->snd_nxt();
  // RFC 5961 §4.2: in the window, and outside it, the same challenge ACK.
  h.send({.seq = Seq{150}, .flags = Flag::Syn});
  h.expect_tx({.seq = our, .ack = Seq{101}, .flags = Flag::Ack});
  h.send({.seq = Seq{101} + 5000000, .flags = Flag::Syn});
  h.expect_tx({.seq = our, .ack = Seq{101}, .flags = Flag::Ack});
  EXPECT_EQ(t->state(), TcpState::Established);
  EXPECT_EQ(h.stack().counters().dropped(TcpDrop::SynOnSynchronized), 1u);
  EXPECT_EQ(h.stack().counters().dropped(TcpDrop::OutOfWindow), 1u);
}

TEST(Established, AckOfUnsentDataIsAnsweredWithAckAndDropped) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100});
  ASSERT_NE(t, nullptr);
  const Seq our = t->snd_nxt();
  // §3.10.7.4 fifth: "If the ACK acks something not yet sent (SEG.ACK > SND.NXT) then
  // send an ACK, drop the segment, and return" — its data is not taken either.
  h.send({.seq = Seq{101},
          .ack = our + 100,
          .flags = Flag::Ack | Flag::Psh,
          .payload = bytes_of("xyz")});
  h.expect_tx({.seq = our, .ack = Seq{101}, .flags = Flag::Ack});
  EXPECT_TRUE(h.acceptor.handlers[0].received.empty());
  EXPECT_EQ(t->rcv_nxt(), Seq{101});
  EXPECT_EQ(t->snd_una(), our);
  EXPECT_EQ(h.stack().counters().dropped(TcpDrop::AckTooNew), 1u);
}

TEST(Established, AckOlderThanMaxSndWndGetsChallengeAck) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {}, 1000);  // MAX.SND.WND = 1000, MSS 536
  ASSERT_NE(t, nullptr);
  t->set_no_delay(true);
  const Seq base = t->snd_nxt();
  // Send and have acknowledged 3000 bytes.
  const auto data = pattern_bytes(3000, 9);
  std::size_t off = 0;
  Seq acked = base;
  while (acked < base + 3000) {
    if (off < data.size()) off += t->send(std::span(data).subspan(off));
    std::uint32_t got = 0;
    while (auto c = h.pop_tx()) got += static_cast<std::uint32_t>(c->payload.size());
    ASSERT_GT(got, 0u);
    acked = acked + got;
    h.send({.seq = Seq{101}, .ack = acked, .window = 1000});
  }
  ASSERT_EQ(t->snd_una(), base + 3000);
  h.clear_tx();
  // RFC 5961 §5.2: SEG.ACK < SND.UNA - MAX.SND.WND → challenge ACK, dropped (its data too).
  h.send({.seq = Seq{101},
          .ack = base + 1000,
          .flags = Flag::Ack | Flag::Psh,
          .window = 1000,
          .payload = bytes_of("old")});
  h.expect_tx({.seq = base + 3000, .ack = Seq{101}, .flags = Flag::Ack});
  EXPECT_TRUE(h.acceptor.handlers[0].received.empty());
  EXPECT_EQ(h.stack().counters().dropped(TcpDrop::AckTooOld), 1u);
  // Within MAX.SND.WND of SND.UNA: an old duplicate ACK, its data is accepted.
  h.send({.seq = Seq{101},
          .ack = base + 2500,
          .flags = Flag::Ack | Flag::Psh,
          .window = 1000,
          .payload = bytes_of("new")});
  EXPECT_EQ(h.acceptor.handlers[0].received, bytes_of("new"));
  EXPECT_EQ(h.stack().counters().dropped(TcpDrop::AckTooOld), 1u);
}

TEST(Established, SegmentOutsideTheWindowGetsADuplicateAck) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100});
  ASSERT_NE(t, nullptr);
  const Seq our = t->snd_nxt();
  h.send({.seq = Seq{101}, .ack = our, .payload = bytes_of("abc")});
  h.advance(50ms);
  h.expect_tx({.seq = our, .ack = Seq{104}, .flags = Flag::Ack}, "delayed ACK");
  // §3.10.7.4 first: not acceptable → <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, dropped.
  h.send({.seq = Seq{101}, .ack = our, .payload = bytes_of("abc")});  // an old duplicate
  h.expect_tx({.seq = our, .ack = Seq{104}, .flags = Flag::Ack}, "duplicate ACK, at once");
  h.send({.seq = Seq{104} + t->rcv_wnd() + 10, .ack = our, .payload = bytes_of("far")});
  h.expect_tx({.seq = our, .ack = Seq{104}, .flags = Flag::Ack}, "beyond the window");
  EXPECT_EQ(h.acceptor.handlers[0].received, bytes_of("abc"));
  EXPECT_EQ(h.stack().counters().dropped(TcpDrop::OutOfWindow), 2u);
  EXPECT_EQ(h.stack().counters().dup_segs, 1u);
}

// A sender that has filled our window exactly has SND.NXT at its right edge, and every pure
// ACK it sends carries that sequence number. With a hole at RCV.NXT (the rest of the window
// held out of order) the window is not zero, so RFC 9293's strict test
// (RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND) would refuse those ACKs, and with them the
// acknowledgment of our data, until the peer repaired the hole: a 2 MB echo through a
// lossy link retransmitted acknowledged data on timeouts for it. The right edge itself is
// accepted for a segment without data, as Linux's tcp_sequence() does; one past it is not.
TEST(Established, PureAckAtTheRightEdgeOfAFullWindowIsProcessed) {
  tcp::TcpConfig c = PacketHarness::default_config();
  c.recv_buffer = 4000;
  PacketHarness h(c);
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1000});
  ASSERT_NE(t, nullptr);
  t->set_no_delay(true);
  const Seq our = t->snd_nxt();
  ASSERT_EQ(t->send(pattern_bytes(500, 1)), 500u);
  h.expect_tx({.seq = our, .ack = Seq{101}, .len = 500u});
  // The peer's first segment is lost; the next three fill the window up to its edge.
  const Seq edge = Seq{101} + 4000;
  for (std::uint32_t i = 1; i < 4; ++i) {
    h.send({.seq = Seq{101} + 1000 * i, .ack = our, .payload = pattern_bytes(1000, i)});
    h.expect_tx({.seq = our + 500, .ack = Seq{101}, .flags = Flag::Ack, .len = 0u},
                "out of order: a duplicate ACK");
  }
  ASSERT_EQ(t->rcv_nxt(), Seq{101});
  const auto& ctr = h.stack().counters();
  // One past the edge: not acceptable, answered and dropped.
  h.send({.seq = edge + 1, .ack = our + 500});
  h.expect_tx({.seq = our + 500, .ack = Seq{101}, .flags = Flag::Ack, .len = 0u});
  EXPECT_EQ(ctr.dropped(TcpDrop::OutOfWindow), 1u);
  EXPECT_EQ(t->snd_una(), our);
  // At the edge: the acknowledgment counts; nothing left to retransmit.
  h.send({.seq = edge, .ack = our + 500});
  EXPECT_EQ(t->snd_una(), our + 500);
  EXPECT_EQ(ctr.dropped(TcpDrop::OutOfWindow), 1u);
  h.advance(2s);
  h.expect_no_tx("no retransmission of acknowledged data");
  EXPECT_EQ(t->state(), TcpState::Established);
}

// Unacceptable segments without data are answered at most once per 500 ms per connection:
// two ends that each reject the other's ACKs would otherwise answer each other at line rate
// (an ACK loop; Linux limits it the same way). Data is answered every time.
TEST(Established, AnswersToUnacceptableAcksAreRateLimited) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100});
  ASSERT_NE(t, nullptr);
  const Seq our = t->snd_nxt();
  const Seq beyond = Seq{101} + t->rcv_wnd() + 1000;
  const auto& ctr = h.stack().counters();
  for (int i = 0; i < 10; ++i) h.send({.seq = beyond, .ack = our});
  h.expect_tx({.seq = our, .ack = Seq{101}, .flags = Flag::Ack, .len = 0u});
  h.expect_no_tx("nine more within 500 ms: not answered");
  EXPECT_EQ(ctr.dropped(TcpDrop::OutOfWindow), 10u);
  EXPECT_EQ(ctr.oow_acks_suppressed, 9u);
  // An ACK of data never sent (RFC 5961 §5.2) is held to the same limit.
  h.send({.seq = Seq{101}, .ack = our + 5000});
  h.expect_no_tx("an ACK of unsent data, still within 500 ms");
  EXPECT_EQ(ctr.dropped(TcpDrop::AckTooNew), 1u);
  // Data outside the window is always answered.
  h.send({.seq = beyond, .ack = our, .payload = bytes_of("far")});
  h.expect_tx({.seq = our, .ack = Seq{101}, .flags = Flag::Ack, .len = 0u}, "data: answered");
  h.advance(499ms);
  h.send({.seq = beyond, .ack = our});
  h.expect_no_tx("499 ms after the answer");
  h.advance(1ms);
  h.send({.seq = beyond, .ack = our});
  h.expect_tx({.seq = our, .ack = Seq{101}, .flags = Flag::Ack, .len = 0u}, "500 ms later");
  EXPECT_EQ(ctr.oow_acks_suppressed, 11u);
  EXPECT_EQ(t->state(), TcpState::Established);
}

TEST(Paws, SegmentWithAnOlderTimestampIsDroppedWithAnAck) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.timestamps = wire::TcpTimestamps{1000, 0}});
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->timestamps_on());
  const Seq our = t->snd_nxt();
  h.send({.seq = Seq{101},
          .ack = our,
          .options = {.timestamps = wire::TcpTimestamps{2000, 1}},
          .payload = bytes_of("new")});
  EXPECT_EQ(h.acceptor.handlers[0].received, bytes_of("new"));
  h.advance(50ms);
  h.clear_tx();
  // RFC 7323 §5.3 R1: SEG.TSval < TS.Recent → not acceptable: ACK and drop.
  h.send({.seq = Seq{104},
          .ack = our,
          .options = {.timestamps = wire::TcpTimestamps{1500, 1}},
          .payload = bytes_of("old")});
  const Captured a = h.expect_tx({.seq = our, .ack = Seq{104}, .flags = Flag::Ack, .len = 0u});
  ASSERT_TRUE(a.tcp.options.timestamps.has_value());
  EXPECT_EQ(a.tcp.options.timestamps->tsecr, 2000u) << "TS.Recent unchanged";
  EXPECT_EQ(h.acceptor.handlers[0].received, bytes_of("new"));
  EXPECT_EQ(t->rcv_nxt(), Seq{104});
  EXPECT_EQ(h.stack().counters().dropped(TcpDrop::PawsRejected), 1u);
}

}  // namespace
}  // namespace sluice::sim
