// Listeners: accept queue and backlog, SYN queue overflow into SYN cookies, the engine's
// connection limit, SYN-ACK retransmission and give-up in SYN-RECEIVED, and data riding on
// the handshake's third segment (RFC 9293 §3.10.7.2, RFC 4987 §3.6).
#include "packet_harness.hpp"

namespace sluice::sim {
namespace {

using tcp::TcpDrop;

FourTuple tuple_from(std::uint16_t remote_port) {
  return FourTuple{kLocalIp, kRemoteIp, kLocalPort, remote_port};
}

/// A SYN queue of one, for the cookie tests.
tcp::TcpConfig one_syn_config() {
  tcp::TcpConfig c = PacketHarness::default_config();
  c.syn_backlog = 1;
  return c;
}

/// Listens on kLocalPort and fills the SYN queue of one with a handshake from port 40001
/// (its SYN-ACK taken): the next SYN is answered with a cookie.
void listen_with_full_syn_queue(PacketHarness& h) {
  auto l = h.stack().listen(Ipv4Addr{}, kLocalPort, 8, &h.acceptor);
  ASSERT_TRUE(l.ok());
  h.send({.seq = Seq{1000}, .flags = Flag::Syn, .src_port = 40001});
  h.expect_tx({.flags = Flag::Syn | Flag::Ack});
}

TEST(Listen, FullAcceptQueueDropsTheHandshakeAckUntilTheAppAccepts) {
  PacketHarness h;
  h.acceptor.auto_accept = false;
  auto l = h.stack().listen(Ipv4Addr{}, kLocalPort, 1, &h.acceptor);
  ASSERT_TRUE(l.ok());
  h.send({.seq = Seq{1000}, .flags = Flag::Syn, .src_port = 40001});
  const Captured sa1 = h.expect_tx({.ack = Seq{1001}, .flags = Flag::Syn | Flag::Ack});
  h.send({.seq = Seq{2000}, .flags = Flag::Syn, .src_port = 40002});
  const Captured sa2 = h.expect_tx({.ack = Seq{2001}, .flags = Flag::Syn | Flag::Ack});
  h.send({.seq = Seq{1001}, .ack = sa1.seq() + 1, .src_port = 40001});
  EXPECT_EQ((*l)->accept_queue_size(), 1u);
  // Backlog 1 reached: the second handshake's ACK is dropped, SYN-RECEIVED stays.
  h.send({.seq = Seq{2001}, .ack = sa2.seq() + 1, .src_port = 40002});
  h.expect_no_tx();
  EXPECT_EQ(h.stack().state_of(tuple_from(40002)), TcpState::SynReceived);
  EXPECT_EQ(h.stack().counters().dropped(TcpDrop::AcceptQueueFull), 1u);
  // The application takes the first; the peer's next ACK completes the second.
  tcp::Tcb* first = (*l)->accept();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->tuple().remote_port, 40001);
  first->abort();
  h.clear_tx();
  h.send({.seq = Seq{2001}, .ack = sa2.seq() + 1, .src_port = 40002});
  EXPECT_EQ(h.stack().state_of(tuple_from(40002)), TcpState::Established);
  EXPECT_EQ((*l)->accept_queue_size(), 1u);
  tcp::Tcb* second = (*l)->accept();
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->tuple().remote_port, 40002);
  second->abort();
}

TEST(Listen, FullSynQueueAnswersWithSynCookiesAndTheAckCreatesTheConnection) {
  PacketHarness h(one_syn_config());
  listen_with_full_syn_queue(h);
  if (HasFatalFailure()) return;
  ASSERT_EQ(h.stack().connection_count(), 1u);
  // The SYN queue is full: a cookie SYN-ACK, no state kept.
  wire::TcpOptions o;
  o.mss = 1300;
  o.window_scale = 5;
  o.sack_permitted = true;
  o.timestamps = wire::TcpTimestamps{7777, 0};
  h.send({.seq = Seq{2000}, .flags = Flag::Syn, .options = o, .src_port = 40002});
  const Captured sa = h.expect_tx({.ack = Seq{2001}, .flags = Flag::Syn | Flag::Ack});
  EXPECT_EQ(h.stack().connection_count(), 1u);
  EXPECT_EQ(h.stack().state_of(tuple_from(40002)), TcpState::Closed);
  EXPECT_EQ(h.stack().counters().syn_cookies_sent, 1u);
  EXPECT_EQ(sa.tcp.options.mss, 1460);
  ASSERT_TRUE(sa.tcp.options.window_scale.has_value());
  EXPECT_TRUE(sa.tcp.options.sack_permitted);
  ASSERT_TRUE(sa.tcp.options.timestamps.has_value());
  EXPECT_EQ(sa.tcp.options.timestamps->tsecr, 7777u);
  // The ACK (with data) rebuilds the connection from the cookie.
  h.send({.seq = Seq{2001},
          .ack = sa.seq() + 1,
          .flags = Flag::Ack | Flag::Psh,
          .options = {.timestamps = wire::TcpTimestamps{7778, sa.tcp.options.timestamps->tsval}},
          .payload = bytes_of("hello"),
          .src_port = 40002});
  EXPECT_EQ(h.stack().counters().syn_cookies_accepted, 1u);
  ASSERT_EQ(h.acceptor.accepted.size(), 1u);
  tcp::Tcb* t = h.acceptor.accepted[0];
  EXPECT_EQ(t->state(), TcpState::Established);
  EXPECT_EQ(t->tuple().remote_port, 40002);
  EXPECT_EQ(t->send_mss(), 1300) << "1300 is in the cookie's MSS table";
  EXPECT_EQ(t->snd_wscale(), 5);
  EXPECT_EQ(t->rcv_wscale(), *sa.tcp.options.window_scale);
  EXPECT_TRUE(t->sack_on());
  EXPECT_TRUE(t->timestamps_on());
  EXPECT_EQ(t->snd_una(), sa.seq() + 1);
  EXPECT_EQ(t->rcv_nxt(), Seq{2006});
  EXPECT_EQ(h.acceptor.handlers[0].received, bytes_of("hello"));
}

// A cookie SYN-ACK left without state, so no timer measured it: without timestamps the
// handshake gives no RTT sample and the RTO stays the initial one; with them, the echoed
// TSval (the cookie's, at most 31 ms older than the clock) gives one.
TEST(Listen, CookieConnectionsRttComesOnlyFromTheEchoedTimestamp) {
  PacketHarness h(one_syn_config());
  listen_with_full_syn_queue(h);
  if (HasFatalFailure()) return;
  h.send({.seq = Seq{2000}, .flags = Flag::Syn, .src_port = 40002});
  const Captured plain = h.expect_tx({.ack = Seq{2001}, .flags = Flag::Syn | Flag::Ack});
  h.send({.seq = Seq{3000},
          .flags = Flag::Syn,
          .options = {.timestamps = wire::TcpTimestamps{500, 0}},
          .src_port = 40003});
  const Captured stamped = h.expect_tx({.ack = Seq{3001}, .flags = Flag::Syn | Flag::Ack});
  ASSERT_TRUE(stamped.tcp.options.timestamps.has_value());
  EXPECT_EQ(h.stack().counters().syn_cookies_sent, 2u);
  h.advance(50ms);
  h.send({.seq = Seq{2001}, .ack = plain.seq() + 1, .src_port = 40002});
  h.send(
      {.seq = Seq{3001},
       .ack = stamped.seq() + 1,
       .options = {.timestamps = wire::TcpTimestamps{550, stamped.tcp.options.timestamps->tsval}},
       .src_port = 40003});
  ASSERT_EQ(h.acceptor.accepted.size(), 2u);
  EXPECT_EQ(h.stack().counters().syn_cookies_accepted, 2u);
  EXPECT_EQ(h.acceptor.accepted[0]->rto(), time::Duration{1s}) << "no sample: RFC 6298 §2.1";
  // A 50-81 ms sample: RTO = 3 x sample, at least the 200 ms minimum.
  const time::Duration rto = h.acceptor.accepted[1]->rto();
  EXPECT_GE(rto, time::Duration{200ms});
  EXPECT_LE(rto, time::Duration{243ms});
}

TEST(Listen, ConnectionLimitRefusesNewSyns) {
  tcp::TcpConfig c = PacketHarness::default_config();
  c.max_connections = 1;
  c.syn_cookies = false;
  PacketHarness h(c);
  tcp::Tcb* t = h.open_passive(Seq{100});
  ASSERT_NE(t, nullptr);
  h.send({.seq = Seq{2000}, .flags = Flag::Syn, .src_port = 40002});
  h.expect_no_tx("no SYN-ACK beyond the limit");
  EXPECT_EQ(h.stack().counters().dropped(TcpDrop::ConnectionLimit), 1u);
  EXPECT_EQ(h.stack().connection_count(), 1u);
}

TEST(SynReceived, SynAckIsRetransmittedWithBackoffThenGivenUp) {
  tcp::TcpConfig c = PacketHarness::default_config();
  c.synack_retries = 2;
  PacketHarness h(c);
  auto l = h.stack().listen(Ipv4Addr{}, kLocalPort, 8, &h.acceptor);
  ASSERT_TRUE(l.ok());
  h.send({.seq = Seq{1000}, .flags = Flag::Syn});
  const Captured sa = h.expect_tx({.ack = Seq{1001}, .flags = Flag::Syn | Flag::Ack});
  time::Instant at = sa.at;
  for (const auto gap : {1000ms, 2000ms}) {
    h.advance_to(at + gap - 1ms);
    h.expect_no_tx();
    h.advance(1ms);
    const Captured r =
        h.expect_tx({.seq = sa.seq(), .ack = Seq{1001}, .flags = Flag::Syn | Flag::Ack});
    at = r.at;
  }
  h.advance_to(at + 4000ms - 1ms);
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::SynReceived);
  h.advance(1ms);
  EXPECT_EQ(h.stack().state_of(PacketHarness::tuple()), TcpState::Closed);
  EXPECT_EQ((*l)->syn_queue_size(), 0u);
  EXPECT_EQ(h.stack().counters().synack_retrans, 2u);
  EXPECT_EQ(h.stack().counters().attempt_fails, 1u);
  EXPECT_EQ(h.stack().counters().timeouts, 1u);
}

TEST(SynReceived, DataInTheThirdSegmentIsDelivered) {
  PacketHarness h;
  auto l = h.stack().listen(Ipv4Addr{}, kLocalPort, 8, &h.acceptor);
  ASSERT_TRUE(l.ok());
  h.send({.seq = Seq{1000}, .flags = Flag::Syn});
  const Captured sa = h.expect_tx({.flags = Flag::Syn | Flag::Ack});
  h.send({.seq = Seq{1001},
          .ack = sa.seq() + 1,
          .flags = Flag::Ack | Flag::Psh,
          .payload = bytes_of("GET /")});
  ASSERT_EQ(h.acceptor.accepted.size(), 1u);
  EXPECT_EQ(h.acceptor.accepted[0]->state(), TcpState::Established);
  EXPECT_EQ(h.acceptor.handlers[0].received, bytes_of("GET /"));
  EXPECT_EQ(h.acceptor.accepted[0]->rcv_nxt(), Seq{1006});
  h.advance(40ms);
  h.expect_tx({.seq = sa.seq() + 1, .ack = Seq{1006}, .flags = Flag::Ack},
              "delayed ACK of the data");
  EXPECT_EQ(h.stack().counters().bytes_in, 5u);
}

}  // namespace
}  // namespace sluice::sim
