// Options and the shape of what we send and acknowledge: MSS (RFC 9293 §3.7.1, RFC 6691),
// window scale both ways (RFC 7323 §2), zero-window probing (§3.8.6.1), Nagle (§3.7.4),
// delayed and immediate ACKs with SACK blocks (§3.8.6.3, RFC 5681 §4.2, RFC 2018 §4).
#include <rte_mbuf.h>

#include <algorithm>

#include "packet_harness.hpp"

namespace sluice::sim {
namespace {

std::vector<std::size_t> drain_sizes(PacketHarness& h) {
  std::vector<std::size_t> v;
  while (auto c = h.pop_tx()) v.push_back(c->payload.size());
  return v;
}

TEST(Mss, PeerWithoutOptionGetsSegmentsOf536) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100});
  ASSERT_NE(t, nullptr);
  t->set_no_delay(true);
  EXPECT_EQ(t->send(pattern_bytes(2000, 1)), 2000u);
  // RFC 9293 §3.7.1: no MSS option → 536; the initial window (RFC 6928) lets all go.
  EXPECT_EQ(drain_sizes(h), (std::vector<std::size_t>{536, 536, 536, 392}));
}

TEST(Mss, SegmentsNeverExceedThePeerMssLessTheTimestampOption) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1000, .timestamps = wire::TcpTimestamps{5, 0}});
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->timestamps_on());
  t->set_no_delay(true);
  t->send(pattern_bytes(3000, 2));
  // RFC 6691: the MSS counts no options, so 12 bytes of timestamps leave 988 of data.
  EXPECT_EQ(drain_sizes(h), (std::vector<std::size_t>{988, 988, 988, 36}));
}

TEST(Mss, OursIsAnnouncedAndTheSmallerOfBothIsUsed) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 9000});
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->send_mss(), 1460) << "never above what our own interface carries";
}

// RFC 9293 §3.7.1: the options come out of the MSS. While we hold out-of-order data,
// every segment carries SACK blocks besides the timestamps, so a data segment carries
// less data — 1526- and 1534-byte frames (1448 bytes of data plus one or two blocks)
// were dropped by af_packet without a word in a lossy two-way transfer with Linux.
TEST(Mss, SackBlocksOnDataSegmentsComeOutOfTheMss) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1460,
                                          .window_scale = 7,
                                          .sack_permitted = true,
                                          .timestamps = wire::TcpTimestamps{5, 0}});
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->sack_on());
  ASSERT_TRUE(t->timestamps_on());
  t->set_no_delay(true);
  const Seq our = t->snd_nxt();
  const wire::TcpOptions ts{.timestamps = wire::TcpTimestamps{6, 1}};
  // Two islands behind a hole: two SACK blocks on everything we send.
  h.send({.seq = Seq{1101}, .ack = our, .options = ts, .payload = pattern_bytes(100, 1)});
  h.send({.seq = Seq{1301}, .ack = our, .options = ts, .payload = pattern_bytes(100, 2)});
  h.clear_tx();
  EXPECT_EQ(t->send(pattern_bytes(5000, 3)), 5000u);
  std::size_t sent = 0;
  while (auto c = h.pop_tx()) {
    const std::size_t options = c->tcp.header_len - 20u;
    EXPECT_EQ(c->tcp.options.sack_blocks().size(), 2u) << c->describe();
    EXPECT_LE(options + c->payload.size(), 1460u) << c->describe();
    EXPECT_LE(c->ip.total_len, 1500u) << c->describe();
    sent += c->payload.size();
  }
  EXPECT_EQ(sent, 5000u);
  // The hole fills: no blocks, full 1448-byte segments again.
  h.send({.seq = Seq{101}, .ack = our + 5000, .options = ts, .payload = pattern_bytes(1000, 4)});
  h.send({.seq = Seq{1201}, .ack = our + 5000, .options = ts, .payload = pattern_bytes(100, 5)});
  h.clear_tx();
  t->send(pattern_bytes(3000, 6));
  const Captured full = h.expect_tx({.len = 1448});
  EXPECT_TRUE(full.tcp.options.sack_blocks().empty());
}

TEST(Mss, ATinyPeerMssIsRaisedToSixtyFour) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 8});
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->send_mss(), 64) << "a packet for every 8 bytes would be ours to pay";
  t->set_no_delay(true);
  t->send(pattern_bytes(200, 7));
  EXPECT_EQ(drain_sizes(h), (std::vector<std::size_t>{64, 64, 64, 8}));
}

TEST(WindowScale, OurAdvertisedWindowIsTheSpaceShiftedByOurScale) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1460, .window_scale = 7});
  ASSERT_NE(t, nullptr);
  const std::uint8_t shift = tcp::offered_window_shift(h.stack().config());
  ASSERT_EQ(t->rcv_wscale(), shift);
  // Sized for the 4 MiB the buffer may grow to (auto-tuning), not the 256 KiB it starts at.
  ASSERT_EQ(shift, 7);
  h.acceptor.handlers[0].auto_read = false;
  const Seq our = t->snd_nxt();
  h.send({.seq = Seq{101}, .ack = our, .payload = pattern_bytes(1000, 3)});
  h.advance(40ms);
  // 262144 - 1000 unread bytes = 261144, >> 7 = 2040.2, rounded up (never shrink).
  h.expect_tx({.seq = our, .ack = Seq{1101}, .flags = Flag::Ack, .window = 2041});
}

TEST(WindowScale, PeerWindowIsShiftedByItsScaleAndLimitsWhatWeSend) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1460, .window_scale = 7}, 10);  // 10 << 7 = 1280
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->snd_wnd(), 1280u);
  t->set_no_delay(true);
  const Seq our = t->snd_nxt();
  t->send(pattern_bytes(5000, 4));
  EXPECT_EQ(drain_sizes(h), (std::vector<std::size_t>{1280}));
  // The peer takes it and offers 20 << 7 = 2560 bytes.
  h.send({.seq = Seq{101}, .ack = our + 1280, .window = 20});
  // One full segment; the 1100 bytes left in the window are under half the largest window
  // offered (1280), so sender SWS avoidance (RFC 9293 §3.8.6.2.1) waits for more.
  EXPECT_EQ(drain_sizes(h), (std::vector<std::size_t>{1460}));
  h.send({.seq = Seq{101}, .ack = our + 2740, .window = 20});
  EXPECT_EQ(drain_sizes(h), (std::vector<std::size_t>{1460, 800}));
}

TEST(Persist, ZeroWindowIsProbedWithBackoffAndSendingResumesWhenItOpens) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1000});
  ASSERT_NE(t, nullptr);
  const Seq our = t->snd_nxt();
  h.send({.seq = Seq{101}, .ack = our, .window = 0});
  ASSERT_EQ(t->snd_wnd(), 0u);
  const auto data = pattern_bytes(3000, 5);
  t->send(data);
  h.expect_no_tx("window closed");
  const time::Duration rto = t->rto();
  const time::Instant start = h.now();
  // RFC 9293 §3.8.6.1: probes of one byte, the interval doubling each time.
  time::Instant at = start;
  for (int i = 0; i < 3; ++i) {
    at += rto * (1 << i);
    h.advance_to(at - 1ms);
    h.expect_no_tx("before the probe");
    h.advance(1ms);
    const Captured p = h.expect_tx({.seq = our, .ack = Seq{101}, .flags = Flag::Ack, .len = 1u});
    EXPECT_EQ(p.payload[0], data[0]);
    h.send({.seq = Seq{101}, .ack = our, .window = 0});  // still closed
    h.expect_no_tx("a zero-window ACK is no reason to send");
  }
  EXPECT_EQ(h.stack().counters().window_probes, 3u);
  EXPECT_EQ(h.stack().counters().fast_retransmits, 0u) << "zero-window ACKs are not duplicate ACKs";
  // The window opens, and the peer has kept the probe's byte.
  h.send({.seq = Seq{101}, .ack = our + 1, .window = 65535});
  const Captured d = h.expect_tx({.seq = our + 1, .len = 1000u});
  EXPECT_EQ(d.payload[0], data[1]);
  h.expect_tx({.seq = our + 1001, .len = 1000u});
  h.expect_no_tx("Nagle holds the short tail while data is unacknowledged");
  EXPECT_EQ(t->snd_una(), our + 1);
  h.send({.seq = Seq{101}, .ack = our + 2001, .window = 65535});
  h.expect_tx({.seq = our + 2001, .len = 999u});
}

TEST(Persist, WindowOpeningWithoutTakingTheProbeResumesFromSndUna) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1000});
  ASSERT_NE(t, nullptr);
  const Seq our = t->snd_nxt();
  h.send({.seq = Seq{101}, .ack = our, .window = 0});
  t->send(pattern_bytes(1500, 6));
  h.advance(t->rto() + 1ms);
  h.expect_tx({.seq = our, .len = 1u}, "probe");
  h.send({.seq = Seq{101}, .ack = our, .window = 65535});
  h.expect_tx({.seq = our, .len = 1000u});
  h.send({.seq = Seq{101}, .ack = our + 1000, .window = 65535});
  h.expect_tx({.seq = our + 1000, .len = 500u});
}

TEST(Nagle, SmallWritesWaitWhileDataIsUnacknowledgedThenCoalesce) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1460});
  ASSERT_NE(t, nullptr);
  const Seq our = t->snd_nxt();
  t->send(bytes_of("a"));
  h.expect_tx({.seq = our, .len = 1u}, "nothing outstanding: goes at once");
  t->send(bytes_of("b"));
  t->send(bytes_of("c"));
  h.expect_no_tx("RFC 9293 §3.7.4: held while 'a' is unacknowledged");
  h.send({.seq = Seq{101}, .ack = our + 1});
  const Captured bc = h.expect_tx({.seq = our + 1, .len = 2u});
  EXPECT_EQ(bc.payload, bytes_of("bc"));
  // No-delay: a small write goes even with data outstanding.
  t->set_no_delay(true);
  t->send(bytes_of("d"));
  h.expect_tx({.seq = our + 3, .len = 1u});
}

// A zero-copy write behind a small one: the small write's bytes, held in the connection
// itself, must move into an mbuf first. With the pool dry, send(chain) refuses the chain
// (the caller keeps it) and on_writable() follows the ACK that frees room; nothing is
// lost and the chain goes whole once it can.
TEST(ZeroCopy, AChainBehindBytesHeldInPlaceWaitsForAnMbuf) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1460});
  ASSERT_NE(t, nullptr);
  RecordingHandler& app = h.acceptor.handlers.back();
  rte_mempool* pool = h.stack().resources().pool;
  const std::vector<std::uint8_t> body = pattern_bytes(100, 31);
  rte_mbuf* chain = rte_pktmbuf_alloc(pool);
  ASSERT_NE(chain, nullptr);
  auto* d = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(chain, 100));
  ASSERT_NE(d, nullptr);
  std::copy(body.begin(), body.end(), d);
  const Seq our = t->snd_nxt();
  ASSERT_EQ(t->send(bytes_of("ab")), 2u);
  h.expect_tx({.seq = our, .len = 2u});

  std::vector<rte_mbuf*> taken;  // every mbuf left
  while (rte_mbuf* m = rte_pktmbuf_alloc(pool)) taken.push_back(m);
  EXPECT_FALSE(t->send(chain)) << "no mbuf to move 'ab' into";
  EXPECT_EQ(t->send_buffered(), 2u) << "'ab' is still held";
  EXPECT_EQ(app.writable, 0);
  for (rte_mbuf* m : taken) rte_pktmbuf_free(m);

  h.send({.seq = Seq{101}, .ack = our + 2});
  EXPECT_EQ(app.writable, 1) << "the ACK freed room: the refused write may be retried";
  EXPECT_EQ(t->send_buffered(), 0u);
  ASSERT_TRUE(t->send(chain));
  const Captured c = h.expect_tx({.seq = our + 2, .len = 100u});
  EXPECT_EQ(c.payload, body);
  h.send({.seq = Seq{101}, .ack = our + 102});
  EXPECT_EQ(t->send_buffered(), 0u);
}

TEST(DelayedAck, FortyMillisecondsForOneSegment) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1460});
  ASSERT_NE(t, nullptr);
  const Seq our = t->snd_nxt();
  h.send({.seq = Seq{101}, .ack = our, .payload = bytes_of("one")});
  h.advance(40ms - 1ms);
  h.expect_no_tx();
  h.advance(1ms);
  h.expect_tx({.seq = our, .ack = Seq{104}, .flags = Flag::Ack});
  EXPECT_EQ(h.stack().counters().delayed_acks, 1u);
}

TEST(DelayedAck, EverySecondFullSegmentIsAcknowledgedAtOnce) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1460});
  ASSERT_NE(t, nullptr);
  const Seq our = t->snd_nxt();
  h.send({.seq = Seq{101}, .ack = our, .payload = pattern_bytes(1460, 1)});
  h.expect_no_tx("first full segment: delayed");
  h.send({.seq = Seq{1561}, .ack = our, .payload = pattern_bytes(1460, 2)});
  h.expect_tx({.seq = our, .ack = Seq{3021}, .flags = Flag::Ack},
              "RFC 5681 §4.2: second full segment");
  EXPECT_FALSE(t->delayed_ack_pending());
}

TEST(DelayedAck, EverySecondFullSegmentCountsTheTimestampOption) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1460, .timestamps = wire::TcpTimestamps{5, 0}});
  ASSERT_NE(t, nullptr);
  const Seq our = t->snd_nxt();
  // With timestamps a full-sized segment from a 1460-MSS peer carries 1448 bytes.
  h.send({.seq = Seq{101},
          .ack = our,
          .options = {.timestamps = wire::TcpTimestamps{6, 1}},
          .payload = pattern_bytes(1448, 1)});
  h.expect_no_tx();
  h.send({.seq = Seq{1549},
          .ack = our,
          .options = {.timestamps = wire::TcpTimestamps{7, 1}},
          .payload = pattern_bytes(1448, 2)});
  h.expect_tx({.seq = our, .ack = Seq{2997}, .flags = Flag::Ack});
}

// A peer that reports holes in what we send puts SACK blocks beside its timestamps and
// sends 1448 - 12 = 1436 bytes per full segment: two of them are acknowledged at once, as
// two of 1448 are, not every fourth. A segment 29 bytes short of full is not full.
TEST(DelayedAck, ASegmentShortenedBySackBlocksIsStillFullSized) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(
      Seq{100}, {.mss = 1460, .sack_permitted = true, .timestamps = wire::TcpTimestamps{5, 0}});
  ASSERT_NE(t, nullptr);
  const Seq our = t->snd_nxt();
  auto data = [&](Seq seq, std::size_t len, std::uint8_t fill) {
    PeerSegment p{.seq = seq,
                  .ack = our,
                  .options = {.timestamps = wire::TcpTimestamps{6, 1}},
                  .payload = pattern_bytes(len, fill)};
    p.options.sack[p.options.sack_count++] = wire::SackBlock{our - 2000, our - 1000};
    h.send(p);
  };
  data(Seq{101}, 1436, 1);
  h.expect_no_tx("first full segment: delayed");
  data(Seq{1537}, 1436, 2);
  h.expect_tx({.seq = our, .ack = Seq{2973}, .flags = Flag::Ack}, "second full segment");
  data(Seq{2973}, 1419, 3);  // 1448 - 29: shorter than any SACK layout makes it
  data(Seq{4392}, 1419, 4);
  h.expect_no_tx("two short segments are not two full ones");
  EXPECT_TRUE(t->delayed_ack_pending());
}

TEST(DelayedAck, OutOfOrderDataIsAcknowledgedAtOnceWithSackBlocks) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1460, .sack_permitted = true});
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->sack_on());
  const Seq our = t->snd_nxt();
  // 101..1101 missing; 1101..1601 arrives.
  h.send({.seq = Seq{1101}, .ack = our, .payload = pattern_bytes(500, 1)});
  const Captured a =
      h.expect_tx({.seq = our, .ack = Seq{101}, .flags = Flag::Ack}, "immediate duplicate ACK");
  ASSERT_EQ(a.tcp.options.sack_blocks().size(), 1u);
  EXPECT_EQ(a.tcp.options.sack_blocks()[0], (wire::SackBlock{Seq{1101}, Seq{1601}}));
  // A second island: the newest block first (RFC 2018 §4).
  h.send({.seq = Seq{2001}, .ack = our, .payload = pattern_bytes(100, 2)});
  const Captured b = h.expect_tx({.seq = our, .ack = Seq{101}, .flags = Flag::Ack});
  ASSERT_EQ(b.tcp.options.sack_blocks().size(), 2u);
  EXPECT_EQ(b.tcp.options.sack_blocks()[0], (wire::SackBlock{Seq{2001}, Seq{2101}}));
  EXPECT_EQ(b.tcp.options.sack_blocks()[1], (wire::SackBlock{Seq{1101}, Seq{1601}}));
  EXPECT_EQ(h.stack().counters().ooo_queued, 2u);
  // Filling the first hole is acknowledged at once too.
  h.send({.seq = Seq{101}, .ack = our, .payload = pattern_bytes(1000, 3)});
  const Captured c = h.expect_tx({.seq = our, .ack = Seq{1601}, .flags = Flag::Ack});
  ASSERT_EQ(c.tcp.options.sack_blocks().size(), 1u);
  EXPECT_EQ(c.tcp.options.sack_blocks()[0], (wire::SackBlock{Seq{2001}, Seq{2101}}));
  EXPECT_EQ(h.acceptor.handlers[0].received.size(), 1500u);
}

// ---- D-SACK (RFC 2883): data that arrived twice is reported, first, once

TEST(DSack, ADuplicateBelowRcvNxtIsReportedOnceInTheFirstBlock) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1460, .sack_permitted = true});
  ASSERT_NE(t, nullptr);
  const Seq our = t->snd_nxt();
  h.send({.seq = Seq{101}, .ack = our, .payload = pattern_bytes(500, 1)});
  h.advance(40ms);
  h.clear_tx();
  // The same segment again (a spurious retransmission): acknowledged at once, the
  // duplicate in the first block.
  h.send({.seq = Seq{101}, .ack = our, .payload = pattern_bytes(500, 1)});
  const Captured a = h.expect_tx({.seq = our, .ack = Seq{601}, .flags = Flag::Ack});
  ASSERT_EQ(a.tcp.options.sack_blocks().size(), 1u);
  EXPECT_EQ(a.tcp.options.sack_blocks()[0], (wire::SackBlock{Seq{101}, Seq{601}}));
  EXPECT_EQ(h.stack().counters().dsacks_sent, 1u);
  // Once: the next ACK reports nothing.
  h.send({.seq = Seq{601}, .ack = our, .payload = pattern_bytes(100, 2)});
  h.advance(40ms);
  const Captured b = h.expect_tx({.ack = Seq{701}});
  EXPECT_TRUE(b.tcp.options.sack_blocks().empty());
  // Straddling RCV.NXT: only the old part is a duplicate; the new part is taken.
  h.send({.seq = Seq{651}, .ack = our, .payload = pattern_bytes(100, 3)});
  const Captured c = h.expect_tx({.ack = Seq{751}});
  ASSERT_EQ(c.tcp.options.sack_blocks().size(), 1u);
  EXPECT_EQ(c.tcp.options.sack_blocks()[0], (wire::SackBlock{Seq{651}, Seq{701}}));
  EXPECT_EQ(h.acceptor.handlers[0].received.size(), 650u);
}

TEST(DSack, ADuplicateOfHeldDataComesFirstThenTheBlockHoldingIt) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1460, .sack_permitted = true});
  ASSERT_NE(t, nullptr);
  const Seq our = t->snd_nxt();
  h.send({.seq = Seq{1101}, .ack = our, .payload = pattern_bytes(500, 1)});
  h.send({.seq = Seq{1601}, .ack = our, .payload = pattern_bytes(500, 2)});
  h.clear_tx();
  h.send({.seq = Seq{1101}, .ack = our, .payload = pattern_bytes(500, 1)});
  const Captured a = h.expect_tx({.seq = our, .ack = Seq{101}, .flags = Flag::Ack});
  ASSERT_EQ(a.tcp.options.sack_blocks().size(), 2u);
  EXPECT_EQ(a.tcp.options.sack_blocks()[0], (wire::SackBlock{Seq{1101}, Seq{1601}}));
  EXPECT_EQ(a.tcp.options.sack_blocks()[1], (wire::SackBlock{Seq{1101}, Seq{2101}}));
}

TEST(DSack, ALateOriginalRejectedByPawsIsADuplicateToo) {
  PacketHarness h;
  tcp::Tcb* t =
      h.open_passive(Seq{100}, {.sack_permitted = true, .timestamps = wire::TcpTimestamps{10, 0}});
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->timestamps_on());
  const Seq our = t->snd_nxt();
  const auto ts = [](std::uint32_t v) {
    return wire::TcpOptions{.timestamps = wire::TcpTimestamps{v, 1}};
  };
  // The retransmission (TSval 20) came first; the original (TSval 11) arrives late.
  h.send({.seq = Seq{101}, .ack = our, .options = ts(20), .payload = pattern_bytes(500, 1)});
  h.advance(40ms);
  h.clear_tx();
  h.send({.seq = Seq{101}, .ack = our, .options = ts(11), .payload = pattern_bytes(500, 1)});
  EXPECT_EQ(h.stack().counters().dropped(tcp::TcpDrop::PawsRejected), 1u);
  const Captured a = h.expect_tx({.ack = Seq{601}});
  ASSERT_EQ(a.tcp.options.sack_blocks().size(), 1u);
  EXPECT_EQ(a.tcp.options.sack_blocks()[0], (wire::SackBlock{Seq{101}, Seq{601}}));
}

TEST(DSack, NothingWithoutSack) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1460});
  ASSERT_NE(t, nullptr);
  ASSERT_FALSE(t->sack_on());
  const Seq our = t->snd_nxt();
  h.send({.seq = Seq{101}, .ack = our, .payload = pattern_bytes(500, 1)});
  h.advance(40ms);
  h.clear_tx();
  h.send({.seq = Seq{101}, .ack = our, .payload = pattern_bytes(500, 1)});
  const Captured a = h.expect_tx({.ack = Seq{601}});
  EXPECT_TRUE(a.tcp.options.sack_blocks().empty());
  EXPECT_EQ(h.stack().counters().dsacks_sent, 0u);
}

// ---- reassembly: what the receive window offers, the out-of-order queue can hold

std::vector<std::uint8_t> slice(const std::vector<std::uint8_t>& v, std::size_t at, std::size_t n) {
  return {v.begin() + static_cast<std::ptrdiff_t>(at),
          v.begin() + static_cast<std::ptrdiff_t>(at + n)};
}

TEST(Reassembly, TheLimitCoversTheWholeWindowInHalfSizedSegments) {
  tcp::TcpConfig c;
  EXPECT_GE(tcp::ooo_segment_limit(c), 2 * c.recv_buffer_max / c.mss)
      << "room for the window the buffer may grow to";
  c.recv_buffer_max = 0;  // fixed buffers
  EXPECT_GE(tcp::ooo_segment_limit(c), 2 * c.recv_buffer / c.mss);
  c.recv_buffer = 16 * 1024;
  EXPECT_EQ(tcp::ooo_segment_limit(c), 64) << "never below the old fixed limit";
  c.recv_buffer = 1u << 30;
  EXPECT_EQ(tcp::ooo_segment_limit(c), 0xffff);
  c.max_ooo_segments = 5;
  EXPECT_EQ(tcp::ooo_segment_limit(c), 5);
}

// One lost segment at the front of a full window: every full-sized segment behind it is
// held and SACKed (a 5 % lossy link to Linux showed the old fixed limit of 64 dropping
// two of every three segments past the 64th, so the peer saw thrice the wire's loss).
TEST(Reassembly, AWholeWindowOfFullSegmentsBehindOneHoleIsHeld) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1460, .window_scale = 7, .sack_permitted = true});
  ASSERT_NE(t, nullptr);
  const Seq our = t->snd_nxt();
  const std::uint32_t seg = 1460;
  // 178 segments fit the window our first duplicate ACK offers (the buffer less the one
  // segment then held).
  const std::uint32_t n = (h.stack().config().recv_buffer - seg) / seg;
  const std::vector<std::uint8_t> data = pattern_bytes(n * seg, 9);
  for (std::uint32_t k = 1; k < n; ++k)
    h.send({.seq = Seq{101 + k * seg}, .ack = our, .payload = slice(data, k * seg, seg)});
  std::optional<Captured> last;
  while (auto c = h.pop_tx()) last = c;
  ASSERT_TRUE(last);
  EXPECT_EQ(last->ack(), Seq{101});
  ASSERT_FALSE(last->tcp.options.sack_blocks().empty());
  EXPECT_EQ(last->tcp.options.sack_blocks()[0],
            (wire::SackBlock{Seq{101 + seg}, Seq{101 + n * seg}}));
  EXPECT_EQ(h.stack().counters().dropped(tcp::TcpDrop::OutOfOrderLimit), 0u);
  EXPECT_EQ(h.stack().counters().ooo_queued, n - 1);
  // The hole fills: everything is delivered, intact, at once.
  h.send({.seq = Seq{101}, .ack = our, .payload = slice(data, 0, seg)});
  const Captured a = h.expect_tx({.seq = our, .ack = Seq{101 + n * seg}, .flags = Flag::Ack});
  EXPECT_TRUE(a.tcp.options.sack_blocks().empty());
  EXPECT_EQ(h.acceptor.handlers[0].received, data);
}

// Past the limit a segment is dropped and counted, never one already held: what we SACKed
// stays (no reneging, RFC 2018 §8), what we dropped is not SACKed, and its retransmission
// completes the stream.
TEST(Reassembly, SegmentsPastTheLimitAreDroppedNotWhatWasSacked) {
  tcp::TcpConfig cfg = PacketHarness::default_config();
  cfg.max_ooo_segments = 8;
  PacketHarness h(cfg);
  tcp::Tcb* t = h.open_passive(Seq{100}, {.mss = 1460, .sack_permitted = true});
  ASSERT_NE(t, nullptr);
  const Seq our = t->snd_nxt();
  const std::vector<std::uint8_t> data = pattern_bytes(1100, 4);  // seq 101..1201
  for (std::uint32_t k = 1; k < 11; ++k)  // 100-byte segments 1..10 behind a hole at 0
    h.send({.seq = Seq{101 + k * 100}, .ack = our, .payload = slice(data, k * 100, 100)});
  std::optional<Captured> last;
  while (auto c = h.pop_tx()) last = c;
  ASSERT_TRUE(last);
  ASSERT_FALSE(last->tcp.options.sack_blocks().empty());
  EXPECT_EQ(last->tcp.options.sack_blocks()[0], (wire::SackBlock{Seq{201}, Seq{1001}}));
  EXPECT_EQ(h.stack().counters().dropped(tcp::TcpDrop::OutOfOrderLimit), 2u);
  h.send({.seq = Seq{101}, .ack = our, .payload = slice(data, 0, 100)});
  const Captured a = h.expect_tx({.seq = our, .ack = Seq{1001}, .flags = Flag::Ack});
  EXPECT_TRUE(a.tcp.options.sack_blocks().empty());
  h.send({.seq = Seq{1001}, .ack = our, .payload = slice(data, 900, 200)});
  h.advance(40ms);
  h.expect_tx({.seq = our, .ack = Seq{1201}, .flags = Flag::Ack});
  EXPECT_EQ(h.acceptor.handlers[0].received, data);
}

// ---- what one segment and the application's answer to it send: together, at once

/// An application that answers in its callbacks: a request with a response and close
/// (a server), a connection with a request (a client).
class Answering : public tcp::TcpHandler {
 public:
  void on_connected(tcp::Tcb& t) noexcept override {
    if (!request.empty()) t.send(request);
  }
  void on_data(tcp::Tcb& t) noexcept override {
    std::vector<std::uint8_t> buf(t.readable());
    t.read(buf);
    if (!response.empty()) t.send(response);
    if (close_after) t.close();
  }
  void on_closed(tcp::Tcb&, tcp::CloseReason) noexcept override {}
  std::vector<std::uint8_t> request;
  std::vector<std::uint8_t> response;
  bool close_after = false;
};

TEST(Coalescing, AResponseAndCloseInTheDataCallbackLeaveInOneSegment) {
  PacketHarness h;
  tcp::Tcb* t = h.open_passive(Seq{100});
  ASSERT_NE(t, nullptr);
  Answering app;
  app.response = bytes_of("pong");
  app.close_after = true;
  t->set_handler(&app);
  const Seq ours = t->snd_nxt();
  h.send(
      {.seq = Seq{101}, .ack = ours, .flags = Flag::Ack | Flag::Psh, .payload = bytes_of("ping")});
  // Not an ACK, a window update, the data and a FIN: one segment carries all four.
  const Captured c = h.expect_tx(
      {.seq = ours, .ack = Seq{105}, .flags = Flag::Ack | Flag::Psh | Flag::Fin, .len = 4});
  EXPECT_EQ(c.payload, bytes_of("pong"));
  h.expect_no_tx("nothing else");
  EXPECT_EQ(t->state(), TcpState::FinWait1);
}

TEST(Coalescing, TheHandshakeAckRidesOnTheFirstRequest) {
  PacketHarness h;
  Answering app;
  app.request = bytes_of("GET");
  auto t = h.stack().connect(PacketHarness::tuple(), &app);
  ASSERT_TRUE(t.ok());
  const Captured syn = h.expect_tx({.flags = Flag::Syn}, "SYN");
  h.send({.seq = Seq{500}, .ack = syn.seq() + 1, .flags = Flag::Syn | Flag::Ack});
  // RFC 9293 §3.5: the third segment of the handshake may carry data.
  h.expect_tx({.seq = syn.seq() + 1, .ack = Seq{501}, .flags = Flag::Ack | Flag::Psh, .len = 3});
  h.expect_no_tx("no separate ACK");
  EXPECT_EQ((*t)->state(), TcpState::Established);
}

TEST(Coalescing, WithNothingToSendTheHandshakeAckLeavesAtOnce) {
  PacketHarness h;
  Answering app;  // says nothing on connect
  auto t = h.stack().connect(PacketHarness::tuple(), &app);
  ASSERT_TRUE(t.ok());
  const Captured syn = h.expect_tx({.flags = Flag::Syn}, "SYN");
  h.send({.seq = Seq{500}, .ack = syn.seq() + 1, .flags = Flag::Syn | Flag::Ack});
  h.expect_tx({.seq = syn.seq() + 1, .ack = Seq{501}, .flags = Flag::Ack, .len = 0});
}

}  // namespace
}  // namespace sluice::sim
