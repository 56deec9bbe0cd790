// State transitions beyond the plain handshake and four-way close: simultaneous open and
// close, SYN-RECEIVED's ways out, FIN-WAIT-1 shortcuts, LAST-ACK retransmission and
// half-close in both directions (RFC 9293 §3.5, §3.6, §3.10.4, §3.10.7).
#include "packet_harness.hpp"

namespace sluice::sim {
namespace {

// Starts an active open and returns the SYN we sent.
Captured connect_and_take_syn(PacketHarness& h, tcp::Tcb*& t) {
  auto r = h.stack().connect(PacketHarness::tuple(), &h.client);
  EXPECT_TRUE(r.ok());
  t = r.ok() ? *r : nullptr;
  return h.expect_tx({.flags = Flag::Syn, .len = 0u}, "SYN");
}

TEST(SynSent, SimultaneousOpenSynGoesToSynReceivedAndSynAckEstablishes) {
  PacketHarness h;
  tcp::Tcb* t = nullptr;
  const Captured syn = connect_and_take_syn(h, t);
  ASSERT_NE(t, nullptr);
  // RFC 9293 §3.10.7.3 fourth, "Otherwise": SYN without ACK → SYN-RECEIVED,
  // <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
  h.send({.seq = Seq{5000}, .flags = Flag::Syn, .options = {.mss = 1400}});
  const Captured sa =
      h.expect_tx({.seq = syn.seq(), .ack = Seq{5001}, .flags = Flag::Syn | Flag::Ack, .len = 0u});
  EXPECT_EQ(sa.tcp.options.mss, 1460);
  EXPECT_EQ(t->state(), TcpState::SynReceived);
  EXPECT_EQ(h.client.connected, 0);
  // RFC 9293 Figure 8 line 6: the peer's own SYN,ACK (its SYN again, ACK of ours) → ESTABLISHED.
  h.send({.seq = Seq{5000},
          .ack = syn.seq() + 1,
          .flags = Flag::Syn | Flag::Ack,
          .options = {.mss = 1400}});
  EXPECT_EQ(t->state(), TcpState::Established);
  EXPECT_EQ(h.client.connected, 1);
  EXPECT_EQ(t->snd_una(), syn.seq() + 1);
  EXPECT_EQ(t->rcv_nxt(), Seq{5001});
  EXPECT_EQ(t->send_mss(), 1400);
  h.clear_tx();  // an extra ACK here is allowed, not required
  // Data flows both ways afterwards.
  h.send({.seq = Seq{5001},
          .ack = syn.seq() + 1,
          .flags = Flag::Ack | Flag::Psh,
          .payload = bytes_of("hi")});
  EXPECT_EQ(h.client.received, bytes_of("hi"));
  EXPECT_EQ(h.stack().counters().established, 1u);
}

TEST(SynSent, SimultaneousOpenPlainAckAlsoEstablishes) {
  PacketHarness h;
  tcp::Tcb* t = nullptr;
  const Captured syn = connect_and_take_syn(h, t);
  h.send({.seq = Seq{5000}, .flags = Flag::Syn});
  h.expect_tx({.seq = syn.seq(), .ack = Seq{5001}, .flags = Flag::Syn | Flag::Ack});
  // §3.10.7.4 fifth, SYN-RECEIVED: SND.UNA < SEG.ACK =< SND.NXT → ESTABLISHED.
  h.send({.seq = Seq{5001}, .ack = syn.seq() + 1});
  h.expect_no_tx("an ACK is not acknowledged");
  EXPECT_EQ(t->state(), TcpState::Established);
  EXPECT_EQ(h.client.connected, 1);
}

TEST(SynReceived, SimultaneousOpenRetransmitsSynAckWithTheSameIss) {
  PacketHarness h;
  tcp::Tcb* t = nullptr;
  const Captured syn = connect_and_take_syn(h, t);
  h.send({.seq = Seq{5000}, .flags = Flag::Syn});
  const Captured sa = h.expect_tx({.seq = syn.seq(), .flags = Flag::Syn | Flag::Ack});
  // The SYN-ACK is timed by the RTO (initial 1 s; the SYN went out at the same instant).
  h.advance_to(sa.at + 1s + 5ms);
  h.expect_tx({.seq = syn.seq(), .ack = Seq{5001}, .flags = Flag::Syn | Flag::Ack},
              "same ISS again");
  EXPECT_EQ(t->state(), TcpState::SynReceived);
}

TEST(SynReceived, RstDropsTheEmbryoAndTheListenerKeepsServing) {
  PacketHarness h;
  auto l = h.stack().listen(Ipv4Addr{}, kLocalPort, 8, &h.acceptor);
  ASSERT_TRUE(l.ok());
  h.send({.seq = Seq{1000}, .flags = Flag::Syn});
  const Captured sa = h.expect_tx({.ack = Seq{1001}, .flags = Flag::Syn | Flag::Ack});
  EXPECT_EQ((*l)->syn_queue_size(), 1u);
  // §3.10.7.4 second, SYN-RECEIVED: a passive open returns to LISTEN (RFC 5961: RST at RCV.NXT).
  h.send({.seq = Seq{1001}, .flags = Flag::Rst});
  h.expect_no_tx("never answer a RST");
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::Closed);
  EXPECT_EQ((*l)->syn_queue_size(), 0u);
  EXPECT_EQ(h.stack().connection_count(), 0u);
  EXPECT_EQ(h.stack().counters().rsts_in, 1u);
  EXPECT_EQ(h.stack().counters().attempt_fails, 1u);
  // The listener is still there: a new SYN on the same tuple gets a fresh SYN-ACK.
  h.send({.seq = Seq{9000}, .flags = Flag::Syn});
  const Captured sa2 = h.expect_tx({.ack = Seq{9001}, .flags = Flag::Syn | Flag::Ack});
  h.send({.seq = Seq{9001}, .ack = sa2.seq() + 1});
  ASSERT_EQ(h.acceptor.accepted.size(), 1u);
  EXPECT_EQ(h.acceptor.accepted[0]->state(), TcpState::Established);
  (void)sa;
}

TEST(SynReceived, AppCloseMovesToFinWait1AndFinFollowsTheHandshake) {
  PacketHarness h;
  tcp::Tcb* t = nullptr;
  const Captured syn = connect_and_take_syn(h, t);
  const Seq iss = syn.seq();
  h.send({.seq = Seq{5000}, .flags = Flag::Syn});
  h.expect_tx({.seq = iss, .ack = Seq{5001}, .flags = Flag::Syn | Flag::Ack});
  ASSERT_EQ(t->state(), TcpState::SynReceived);
  // §3.10.4 CLOSE, SYN-RECEIVED: nothing queued → form a FIN, send it, FIN-WAIT-1.
  t->shutdown();
  EXPECT_EQ(t->state(), TcpState::FinWait1);
  h.expect_tx({.seq = iss + 1, .ack = Seq{5001}, .flags = Flag::Fin | Flag::Ack}, "FIN at once");
  // The peer acknowledges SYN and FIN: FIN-WAIT-2.
  h.send({.seq = Seq{5001}, .ack = iss + 2});
  EXPECT_EQ(t->state(), TcpState::FinWait2);
  h.send({.seq = Seq{5001}, .ack = iss + 2, .flags = Flag::Fin | Flag::Ack});
  h.expect_tx({.seq = iss + 2, .ack = Seq{5002}, .flags = Flag::Ack});
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::TimeWait);
}

TEST(SynReceived, AppCloseThenLostSynAckIsRetransmittedWithTheFin) {
  PacketHarness h;
  tcp::Tcb* t = nullptr;
  const Captured syn = connect_and_take_syn(h, t);
  const Seq iss = syn.seq();
  h.send({.seq = Seq{5000}, .flags = Flag::Syn});
  const Captured sa = h.expect_tx({.seq = iss, .flags = Flag::Syn | Flag::Ack});
  t->shutdown();
  h.expect_tx({.seq = iss + 1, .flags = Flag::Fin | Flag::Ack});
  // Both lost: at the RTO the SYN,ACK goes again (the peer needs it first), then the FIN.
  h.advance_to(sa.at + 1s + 5ms);
  h.expect_tx({.seq = iss, .ack = Seq{5001}, .flags = Flag::Syn | Flag::Ack}, "SYN-ACK again");
  h.expect_tx({.seq = iss + 1, .ack = Seq{5001}, .flags = Flag::Fin | Flag::Ack}, "FIN again");
  h.send({.seq = Seq{5001}, .ack = iss + 1});  // the SYN only
  EXPECT_EQ(t->state(), TcpState::FinWait1);
  EXPECT_EQ(t->snd_nxt(), iss + 2);
  h.send({.seq = Seq{5001}, .ack = iss + 2});
  EXPECT_EQ(t->state(), TcpState::FinWait2);
}

TEST(FinWait1, SimultaneousCloseGoesThroughClosingToTimeWait) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100});
  ASSERT_NE(t, nullptr);
  const Seq our = t->snd_nxt();
  t->shutdown();
  h.expect_tx({.seq = our, .ack = Seq{101}, .flags = Flag::Fin | Flag::Ack});
  // The peer's FIN crosses ours (its ACK does not cover our FIN): §3.10.7.4 eighth → CLOSING.
  h.send({.seq = Seq{101}, .ack = our, .flags = Flag::Fin | Flag::Ack});
  h.expect_tx({.seq = our + 1, .ack = Seq{102}, .flags = Flag::Ack}, "ACK of their FIN");
  EXPECT_EQ(t->state(), TcpState::Closing);
  EXPECT_EQ(h.acceptor.handlers[0].peer_closed, 1);
  // The ACK of our FIN: CLOSING → TIME-WAIT.
  h.send({.seq = Seq{102}, .ack = our + 1});
  h.expect_no_tx();
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::TimeWait);
  EXPECT_EQ(h.acceptor.handlers[0].closed, 1);
  EXPECT_EQ(h.stack().counters().time_wait_entered, 1u);
}

TEST(FinWait1, FinWithAckOfOurFinGoesStraightToTimeWait) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100});
  ASSERT_NE(t, nullptr);
  const Seq our = t->snd_nxt();
  t->shutdown();
  h.expect_tx({.seq = our, .flags = Flag::Fin | Flag::Ack});
  // §3.10.7.4 eighth, FIN-WAIT-1: "If our FIN has been ACKed ... enter TIME-WAIT".
  h.send({.seq = Seq{101}, .ack = our + 1, .flags = Flag::Fin | Flag::Ack});
  h.expect_tx({.seq = our + 1, .ack = Seq{102}, .flags = Flag::Ack});
  h.expect_no_tx();
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::TimeWait);
  EXPECT_EQ(h.acceptor.handlers[0].reason, tcp::CloseReason::Normal);
}

TEST(LastAck, RetransmitsItsFinOnRtoUntilAcknowledged) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100});
  ASSERT_NE(t, nullptr);
  const Seq our = t->snd_nxt();
  h.send({.seq = Seq{101}, .ack = our, .flags = Flag::Fin | Flag::Ack});
  h.expect_tx({.seq = our, .ack = Seq{102}, .flags = Flag::Ack});
  t->close();
  EXPECT_EQ(t->state(), TcpState::LastAck);
  const Captured fin = h.expect_tx({.seq = our, .ack = Seq{102}, .flags = Flag::Fin | Flag::Ack});
  const time::Duration rto = t->rto();
  h.advance_to(fin.at + rto - 1ms);
  h.expect_no_tx("before the RTO");
  h.advance(2ms);
  const Captured r1 = h.expect_tx({.seq = our, .ack = Seq{102}, .flags = Flag::Fin | Flag::Ack},
                                  "first retransmission");
  // Back-off: the next one twice as late (RFC 6298 §5.5).
  h.advance_to(r1.at + 2 * rto - 1ms);
  h.expect_no_tx();
  h.advance(2ms);
  h.expect_tx({.seq = our, .flags = Flag::Fin | Flag::Ack}, "second retransmission");
  EXPECT_EQ(h.stack().counters().retrans_segs, 2u);
  EXPECT_EQ(h.stack().counters().rto_expired, 2u);
  h.send({.seq = Seq{102}, .ack = our + 1});
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::Closed);
  EXPECT_EQ(h.acceptor.handlers[0].closed, 1);
}

TEST(CloseWait, HalfClosedSideKeepsSendingALot) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1000});
  ASSERT_NE(t, nullptr);
  t->set_no_delay(true);
  const Seq our = t->snd_nxt();
  h.send({.seq = Seq{101}, .ack = our, .flags = Flag::Fin | Flag::Ack});
  h.expect_tx({.seq = our, .ack = Seq{102}, .flags = Flag::Ack});
  ASSERT_EQ(t->state(), TcpState::CloseWait);
  // 100 kB from CLOSE-WAIT, acknowledged as it goes: every byte arrives in order.
  const auto data = pattern_bytes(100000, 3);
  std::size_t queued = 0;
  std::vector<std::uint8_t> got;
  Seq next = our;
  for (int round = 0; round < 1000 && got.size() < data.size(); ++round) {
    if (queued < data.size()) {
      queued += t->send(
          std::span(data).subspan(queued, std::min<std::size_t>(8000, data.size() - queued)));
    }
    while (auto c = h.pop_tx()) {
      EXPECT_EQ(c->seq(), next);
      EXPECT_LE(c->payload.size(), 1000u);
      EXPECT_EQ(c->ack(), Seq{102});
      EXPECT_FALSE(c->has(Flag::Fin));
      got.insert(got.end(), c->payload.begin(), c->payload.end());
      next = next + static_cast<std::uint32_t>(c->payload.size());
    }
    h.send({.seq = Seq{102}, .ack = next});
  }
  EXPECT_EQ(got, data);
  EXPECT_EQ(t->state(), TcpState::CloseWait);
  t->close();
  h.expect_tx({.seq = next, .flags = Flag::Fin | Flag::Ack});
  h.send({.seq = Seq{102}, .ack = next + 1});
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::Closed);
}

TEST(FinWait2, HalfClosedSideKeepsReceivingALot) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1460});
  ASSERT_NE(t, nullptr);
  const Seq our = t->snd_nxt();
  t->shutdown();  // half-close: we still read
  h.expect_tx({.seq = our, .flags = Flag::Fin | Flag::Ack});
  h.send({.seq = Seq{101}, .ack = our + 1});
  ASSERT_EQ(t->state(), TcpState::FinWait2);
  const auto data = pattern_bytes(200000, 4);
  Seq seq{101};
  for (std::size_t off = 0; off < data.size(); off += 1460) {
    const std::size_t n = std::min<std::size_t>(1460, data.size() - off);
    h.send({.seq = seq,
            .ack = our + 1,
            .payload =
                std::vector<std::uint8_t>(data.begin() + static_cast<std::ptrdiff_t>(off),
                                          data.begin() + static_cast<std::ptrdiff_t>(off + n))});
    seq = seq + static_cast<std::uint32_t>(n);
  }
  EXPECT_EQ(h.acceptor.handlers[0].received, data);
  EXPECT_EQ(t->state(), TcpState::FinWait2);
  h.clear_tx();
  h.send({.seq = seq, .ack = our + 1, .flags = Flag::Fin | Flag::Ack});
  h.expect_tx({.seq = our + 1, .ack = seq + 1, .flags = Flag::Ack});
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::TimeWait);
  EXPECT_EQ(h.stack().counters().bytes_in, data.size());
}

}  // namespace
}  // namespace sluice::sim
