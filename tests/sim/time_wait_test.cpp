// TIME-WAIT as a compact record: 2 MSL exactly, re-ACK of a retransmitted FIN (which
// restarts the wait), reuse of the 4-tuple by a new SYN per RFC 6191 (sequence number or
// timestamp), reuse by connect(), and listening beside TIME-WAIT records.
#include "packet_harness.hpp"

namespace sluice::sim {
namespace {

wire::TcpOptions ts_opts(std::uint32_t tsval, std::uint32_t tsecr = 0) {
  wire::TcpOptions o;
  o.timestamps = wire::TcpTimestamps{tsval, tsecr};
  return o;
}

// Server side active close: ESTABLISHED → FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT. The peer's
// ISN is 100, so afterwards RCV.NXT = 102; returns our SND.NXT (after our FIN).
Seq server_to_time_wait(PacketHarness& h, const wire::TcpOptions& syn_opts = {}) {
  tcp::Tcb* t = h.open_passive(Seq{100}, syn_opts);
  EXPECT_NE(t, nullptr);
  if (t == nullptr) return Seq{};
  const Seq our = t->snd_nxt();
  const bool ts = syn_opts.timestamps.has_value();
  t->close();
  const Captured fin = h.expect_tx({.seq = our, .flags = Flag::Fin | Flag::Ack});
  const std::uint32_t echo =
      ts && fin.tcp.options.timestamps ? fin.tcp.options.timestamps->tsval : 0;
  h.send({.seq = Seq{101},
          .ack = our + 1,
          .flags = Flag::Fin | Flag::Ack,
          .options = ts ? ts_opts(syn_opts.timestamps->tsval + 10, echo) : wire::TcpOptions{}});
  h.expect_tx({.seq = our + 1, .ack = Seq{102}, .flags = Flag::Ack}, "ACK of the peer's FIN");
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::TimeWait);
  return our + 1;
}

TEST(TimeWait, LastsExactlyTwoMsl) {
  PacketHarness h;  // MSL 1 s in the harness
  server_to_time_wait(h);
  const time::Instant entered = h.now();
  EXPECT_EQ(h.stack().connection_count(), 0u);  // a record, not a connection
  EXPECT_EQ(h.stack().time_wait_count(), 1u);
  h.advance_to(entered + 2s - 1ms);
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::TimeWait);
  h.advance(2ms);
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::Closed);
  EXPECT_EQ(h.stack().time_wait_count(), 0u);
  EXPECT_EQ(h.stack().counters().time_wait_entered, 1u);
  EXPECT_EQ(h.stack().counters().time_wait_expired, 1u);
  h.expect_no_tx("TIME-WAIT ends silently");
}

TEST(TimeWait, MslIsConfigurable) {
  tcp::TcpConfig c = PacketHarness::default_config();
  c.msl = 30s;  // the default of TcpConfig
  PacketHarness h(c);
  server_to_time_wait(h);
  const time::Instant entered = h.now();
  h.advance_to(entered + 60s - 1ms);
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::TimeWait);
  h.advance(2ms);
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::Closed);
}

TEST(TimeWait, RetransmittedFinIsAckedAgainAndRestartsTwoMsl) {
  PacketHarness h;
  const Seq snd_nxt = server_to_time_wait(h);
  const time::Instant entered = h.now();
  h.advance(1500ms);
  // §3.10.7.4 eighth, TIME-WAIT: "Remain in the TIME-WAIT state. Restart the 2 MSL time-out."
  h.send({.seq = Seq{101}, .ack = snd_nxt, .flags = Flag::Fin | Flag::Ack});
  h.expect_tx({.seq = snd_nxt, .ack = Seq{102}, .flags = Flag::Ack});
  const time::Instant refin = h.now();
  h.advance_to(entered + 2s + 10ms);
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::TimeWait) << "the wait restarted";
  h.advance_to(refin + 2s - 1ms);
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::TimeWait);
  h.advance(2ms);
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::Closed);
}

TEST(TimeWait, NewSynWithHigherSequenceNumberOpensANewIncarnation) {
  PacketHarness h;
  const Seq old_snd_nxt = server_to_time_wait(h);
  // RFC 6191 §2 / RFC 1122 §4.2.2.13 (no timestamps): SEG.SEQ > the old RCV.NXT → accept.
  h.send({.seq = Seq{500000}, .flags = Flag::Syn});
  const Captured sa = h.expect_tx({.ack = Seq{500001}, .flags = Flag::Syn | Flag::Ack});
  EXPECT_TRUE(old_snd_nxt < sa.seq()) << "the new ISS is above the old SND.NXT";
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::SynReceived);
  EXPECT_EQ(h.stack().counters().time_wait_reused, 1u);
  h.send({.seq = Seq{500001}, .ack = sa.seq() + 1});
  ASSERT_EQ(h.acceptor.accepted.size(), 2u);
  EXPECT_EQ(h.acceptor.accepted[1]->state(), TcpState::Established);
}

TEST(TimeWait, OldSynIsAnsweredWithAnAckAndTheRecordStays) {
  PacketHarness h;
  const Seq snd_nxt = server_to_time_wait(h);
  h.send({.seq = Seq{50}, .flags = Flag::Syn});  // below the old RCV.NXT (102)
  h.expect_tx({.seq = snd_nxt, .ack = Seq{102}, .flags = Flag::Ack},
              "<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>");
  h.expect_no_tx("no SYN-ACK");
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::TimeWait);
  EXPECT_EQ(h.stack().counters().time_wait_reused, 0u);
}

TEST(TimeWait, SynWithNewerTimestampOpensEvenWithLowerSequence) {
  PacketHarness h;
  server_to_time_wait(h, ts_opts(1000));  // last TSval seen: 1010
  // RFC 6191 §2 first rule: timestamps on and SEG.TSval > the last one → accept.
  h.send({.seq = Seq{50}, .flags = Flag::Syn, .options = ts_opts(2000)});
  const Captured sa = h.expect_tx({.ack = Seq{51}, .flags = Flag::Syn | Flag::Ack});
  ASSERT_TRUE(sa.tcp.options.timestamps.has_value());
  EXPECT_EQ(sa.tcp.options.timestamps->tsecr, 2000u);
  EXPECT_EQ(h.stack().counters().time_wait_reused, 1u);
}

TEST(TimeWait, SynWithOlderTimestampIsRefusedEvenWithHigherSequence) {
  PacketHarness h;
  const Seq snd_nxt = server_to_time_wait(h, ts_opts(1000));
  // RFC 6191 §2 "Otherwise": the incarnation stays in TIME-WAIT (we answer with an ACK).
  h.send({.seq = Seq{500000}, .flags = Flag::Syn, .options = ts_opts(900)});
  const Captured a = h.expect_tx({.seq = snd_nxt, .ack = Seq{102}, .flags = Flag::Ack});
  h.expect_no_tx("no SYN-ACK");
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::TimeWait);
  EXPECT_EQ(h.stack().counters().time_wait_reused, 0u);
  (void)a;
}

TEST(TimeWait, SynWithEqualTimestampAndHigherSequenceOpens) {
  PacketHarness h;
  server_to_time_wait(h, ts_opts(1000));  // last TSval seen: 1010
  // RFC 6191 §2 second rule: equal timestamp, higher sequence number → accept.
  h.send({.seq = Seq{500000}, .flags = Flag::Syn, .options = ts_opts(1010)});
  h.expect_tx({.ack = Seq{500001}, .flags = Flag::Syn | Flag::Ack});
  EXPECT_EQ(h.stack().counters().time_wait_reused, 1u);
}

TEST(TimeWait, SynWithoutTimestampAfterTimestampedIncarnationOpens) {
  PacketHarness h;
  server_to_time_wait(h, ts_opts(1000));
  // RFC 6191 §2 third rule: timestamps were on before and will be off now → accept.
  h.send({.seq = Seq{50}, .flags = Flag::Syn});
  const Captured sa = h.expect_tx({.ack = Seq{51}, .flags = Flag::Syn | Flag::Ack});
  EXPECT_FALSE(sa.tcp.options.timestamps.has_value());
  EXPECT_EQ(h.stack().counters().time_wait_reused, 1u);
}

TEST(TimeWait, ExactRstEndsIt) {
  PacketHarness h;
  server_to_time_wait(h);
  h.send({.seq = Seq{5000}, .flags = Flag::Rst});
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::TimeWait)
      << "inexact RST ignored";
  h.send({.seq = Seq{102}, .flags = Flag::Rst});
  h.expect_no_tx();
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::Closed);
}

// Client side active close of open_active(Seq{7000})'s connection, the peer's FIN
// crossing ours: TIME-WAIT on our side. Returns our SND.NXT before the FIN.
Seq client_to_time_wait(PacketHarness& h, tcp::Tcb* t) {
  const Seq our = t->snd_nxt();
  t->close();
  h.expect_tx({.seq = our, .flags = Flag::Fin | Flag::Ack});
  h.send({.seq = Seq{7001}, .ack = our + 1, .flags = Flag::Fin | Flag::Ack});
  h.expect_tx({.seq = our + 1, .ack = Seq{7002}, .flags = Flag::Ack});
  return our;
}

TEST(Connect, ReusesAFourTupleInTimeWait) {
  PacketHarness h;
  tcp::Tcb* t = h.open_active(Seq{7000});
  ASSERT_NE(t, nullptr);
  const Seq our = client_to_time_wait(h, t);
  ASSERT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::TimeWait);
  // The application connects again on the same 4-tuple (RFC 6191, RFC 1122 §4.2.2.13).
  RecordingHandler again;
  auto r = h.stack().connect(PacketHarness::tuple(), &again);
  ASSERT_TRUE(r.ok());
  const Captured syn = h.expect_tx({.flags = Flag::Syn, .len = 0u});
  EXPECT_TRUE(our + 1 < syn.seq()) << "ISS above the old SND.NXT";
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::SynSent);
  EXPECT_EQ(h.stack().time_wait_count(), 0u);
  EXPECT_EQ(h.stack().counters().time_wait_reused, 1u);
  h.send({.seq = Seq{900000}, .ack = syn.seq() + 1, .flags = Flag::Syn | Flag::Ack});
  h.expect_tx({.seq = syn.seq() + 1, .ack = Seq{900001}, .flags = Flag::Ack});
  EXPECT_EQ(again.connected, 1);
}

// connect(..., OnTimeWait::Refuse) is the ephemeral-port search's connect: it takes a free
// 4-tuple and refuses one in use, by a connection or by a TIME-WAIT record, leaving both.
TEST(Connect, RefusingTimeWaitRefusesTuplesInUseAndOpensFreeOnes) {
  constexpr auto kRefuse = tcp::TcpStack::OnTimeWait::Refuse;
  PacketHarness h;
  tcp::Tcb* t = h.open_active(Seq{7000});
  ASSERT_NE(t, nullptr);
  RecordingHandler other;
  auto live = h.stack().connect(PacketHarness::tuple(), &other, kRefuse);
  ASSERT_FALSE(live.ok());
  EXPECT_EQ(live.error(), Errc::AddressInUse);
  EXPECT_EQ(h.stack().find(PacketHarness::tuple()), t);
  client_to_time_wait(h, t);
  ASSERT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::TimeWait);
  auto tw = h.stack().connect(PacketHarness::tuple(), &other, kRefuse);
  ASSERT_FALSE(tw.ok());
  EXPECT_EQ(tw.error(), Errc::AddressInUse);
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::TimeWait) << "not reused";
  EXPECT_EQ(h.stack().counters().time_wait_reused, 0u);
  h.expect_no_tx("nothing sent for a refused tuple");
  // Another port is free: a SYN goes out from it.
  const FourTuple free{kLocalIp, kRemoteIp, static_cast<std::uint16_t>(kLocalPort + 1), kRemotePort};
  auto fresh = h.stack().connect(free, &other, kRefuse);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(h.stack().state_of(free), TcpState::SynSent);
  const Captured syn = h.expect_tx({.flags = Flag::Syn, .len = 0u});
  EXPECT_EQ(syn.tcp.src_port, kLocalPort + 1);
}

// The engine's cache warming before a burst (TcpStack::prefetch_lookup/_entry) reads
// buckets and entries only: every kind of lookup answers the same after it.
TEST(Prefetch, LeavesLookupsUnchanged) {
  PacketHarness h;
  const Seq our = server_to_time_wait(h);
  // A live connection from another port, beside the record.
  h.send({.seq = Seq{500}, .ack = Seq{}, .flags = Flag::Syn, .src_port = 41000});
  const Captured synack = h.expect_tx({.ack = Seq{501}, .flags = Flag::Syn | Flag::Ack});
  h.send({.seq = Seq{501}, .ack = synack.seq() + 1, .src_port = 41000});
  tcp::Tcb* live = h.stack().find(FourTuple{kLocalIp, kRemoteIp, kLocalPort, 41000});
  ASSERT_NE(live, nullptr);
  const FourTuple tw = PacketHarness::tuple();
  const FourTuple none{kLocalIp, kRemoteIp, kLocalPort, 42000};
  EXPECT_FALSE(h.stack().lookups_leave_cache()) << "two entries stay in the caches";
  for (const FourTuple& t : {tw, live->tuple(), none}) {
    h.stack().prefetch_entry(h.stack().prefetch_lookup(t));
  }
  EXPECT_EQ(h.stack().state_of(tw), TcpState::TimeWait);
  EXPECT_EQ(h.stack().find(live->tuple()), live);
  EXPECT_EQ(h.stack().state_of(none), TcpState::Closed);
  // The TIME-WAIT record still answers a retransmitted FIN.
  h.send({.seq = Seq{101}, .ack = our, .flags = Flag::Fin | Flag::Ack});
  h.expect_tx({.seq = our, .ack = Seq{102}, .flags = Flag::Ack});
}

TEST(Listen, ListeningWorksWhileTimeWaitRecordsExist) {
  PacketHarness h;
  server_to_time_wait(h);
  // The server restarts: the listener goes away and comes back on the same port.
  h.stack().close_listener(h.listener);
  h.listener = nullptr;
  auto l = h.stack().listen(Ipv4Addr{}, kLocalPort, 8, &h.acceptor);
  ASSERT_TRUE(l.ok()) << "a TIME-WAIT record does not hold the port";
  h.listener = *l;
  EXPECT_EQ(h.stack().time_wait_count(), 1u);
  // Another client is served at once; the TIME-WAIT 4-tuple keeps its record.
  h.send({.seq = Seq{3000}, .flags = Flag::Syn, .src_port = 40001});
  const Captured sa = h.expect_tx({.ack = Seq{3001}, .flags = Flag::Syn | Flag::Ack});
  EXPECT_EQ(sa.tcp.dst_port, 40001);
  h.send({.seq = Seq{3001}, .ack = sa.seq() + 1, .src_port = 40001});
  EXPECT_EQ(h.acceptor.accepted.size(), 2u);
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::TimeWait);
}

}  // namespace
}  // namespace sluice::sim
