// Loss recovery on the two-stack simulator (issue 3, "Loss recovery"), with scripted
// drops on an otherwise perfect 10 ms link: SACK repairs a single loss without a timeout
// (RFC 6675), NewReno repairs two losses of one window without SACK and without a timeout
// (RFC 6582), a lost last segment is recovered — without SACK by the retransmission
// timer, as the tail loss probe (RFC 8985, retransmission_test.cpp) needs SACK — and the
// RTO doubles on each expiry and collapses after a fresh RTT sample (RFC 6298 §5.5, §5.7
// and the note after it; Karn, §3).
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "packet_harness.hpp"
#include "sim_network.hpp"

namespace sluice::sim {
namespace {

using namespace std::chrono_literals;

constexpr std::uint16_t kPortA = 41000;
constexpr std::uint16_t kPortB = 8080;

/// A connected pair on a clean link: A connects to B, B's application reads everything.
class RecoveryTest : public ::testing::Test {
 protected:
  void open(const tcp::TcpConfig& config) {
    SimNetwork::Options o;
    o.config_a = config;
    o.config_b = config;
    o.a_to_b.delay = 10ms;
    o.b_to_a.delay = 10ms;
    net_ = std::make_unique<SimNetwork>(o);
    net_->add_tx_observer([this](const WireSegment& w) {
      if (w.dir == Dir::AtoB && w.payload_len() > 0)
        data_tx_.push_back({net_->now(), w.tcp().seq, w.dropped});
    });
    ASSERT_TRUE(net_->b().listen(kSimIpB, kPortB, 4, &acceptor_).ok());
    auto c = net_->a().connect(SimNetwork::tuple(Side::A, kPortA, kPortB), &client_);
    ASSERT_TRUE(c.ok());
    a_ = *c;
    net_->flush();
    ASSERT_TRUE(net_->run_until(
        [&] { return client_.connected == 1 && !acceptor_.accepted.empty(); }, net_->now() + 5s));
  }

  void TearDown() override {
    if (net_ == nullptr) return;
    EXPECT_TRUE(net_->errors().empty()) << net_->errors().front();
    if (HasFailure()) {
      std::printf("pcap: %s\n",
                  net_->dump_pcap(std::string("sim_recovery_") +
                                  ::testing::UnitTest::GetInstance()->current_test_info()->name())
                      .c_str());
    }
  }

  /// A sends n pattern bytes; runs until B has read them all (or `limit` passes).
  bool transfer(std::size_t n, time::Duration limit = 120s) {
    sent_ = pattern_bytes(n, 7);
    return send_until(
               *net_, a_, sent_, [&] { return received().size() >= sent_.size(); }, limit) &&
           received() == sent_;
  }

  std::vector<std::uint8_t>& received() { return acceptor_.handlers.back().received; }
  const tcp::TcpCounters& a_counters() { return net_->a().counters(); }
  std::uint32_t mss() const { return a_->send_mss() - (a_->timestamps_on() ? 12u : 0u); }

  struct DataTx {
    time::Instant at;
    wire::Seq seq;
    bool dropped;
  };

  std::unique_ptr<SimNetwork> net_;
  AcceptAll acceptor_;
  RecordingHandler client_;
  tcp::Tcb* a_ = nullptr;
  std::vector<std::uint8_t> sent_;
  std::vector<DataTx> data_tx_;
};

tcp::TcpConfig base_config() {
  tcp::TcpConfig c = SimNetwork::default_config();
  c.congestion = tcp::CongestionAlgorithm::NewReno;
  return c;
}

// RFC 6675 §5: one segment lost out of the initial window of 10 (RFC 6928); the later
// segments arrive, B's ACKs SACK them, and A retransmits the hole before any timeout.
TEST_F(RecoveryTest, SackRepairsOneLossInAWindowWithoutRto) {
  tcp::TcpConfig c = base_config();
  c.sack = true;
  open(c);
  ASSERT_TRUE(a_->sack_on());
  net_->drop_data_segment(Dir::AtoB, 5);
  ASSERT_TRUE(transfer(30 * std::size_t{mss()})) << "byte-exact delivery";
  EXPECT_EQ(net_->stats(Dir::AtoB).scripted_drops, 1u);
  EXPECT_EQ(a_counters().rto_expired, 0u);
  EXPECT_EQ(a_counters().fast_retransmits, 1u);
  EXPECT_EQ(a_counters().sack_recoveries, 1u);
  EXPECT_EQ(a_counters().retrans_segs, 1u) << "only the lost segment is sent again";
}

// RFC 6582: without SACK, two losses in one window are repaired by one fast retransmit
// and one partial-ACK retransmission, still without a timeout.
TEST_F(RecoveryTest, NewRenoRepairsTwoLossesInOneWindowWithoutSack) {
  tcp::TcpConfig c = base_config();
  c.sack = false;
  open(c);
  ASSERT_FALSE(a_->sack_on());
  net_->drop_data_segment(Dir::AtoB, 3);
  net_->drop_data_segment(Dir::AtoB, 7);
  ASSERT_TRUE(transfer(30 * std::size_t{mss()})) << "byte-exact delivery";
  EXPECT_EQ(net_->stats(Dir::AtoB).scripted_drops, 2u);
  EXPECT_EQ(a_counters().rto_expired, 0u);
  EXPECT_EQ(a_counters().fast_retransmits, 1u) << "one recovery episode for both losses";
  EXPECT_EQ(a_counters().sack_recoveries, 0u);
  EXPECT_EQ(a_counters().retrans_segs, 2u);
}

// The last segment of a transfer is lost: no later segment makes duplicate ACKs, so
// without SACK (and so without a tail loss probe) the retransmission timer recovers it.
TEST_F(RecoveryTest, TailLossIsRecoveredByTheRetransmissionTimer) {
  tcp::TcpConfig c = base_config();
  c.sack = false;  // no tail loss probe (RFC 8985 §7 needs SACK): only the timer is left
  open(c);
  const time::Duration rto = a_->rto();
  net_->drop_data_segment(Dir::AtoB, 5);
  ASSERT_TRUE(transfer(5 * std::size_t{mss()})) << "byte-exact delivery";
  EXPECT_EQ(a_counters().rto_expired, 1u);
  EXPECT_EQ(a_counters().fast_retransmits, 0u);
  ASSERT_EQ(data_tx_.size(), 6u);
  EXPECT_EQ(data_tx_[5].seq.raw, data_tx_[4].seq.raw) << "the lost segment is what goes again";
  // RFC 6298 §5.3: the ACK of the earlier segments (one 20 ms RTT after the tail was sent,
  // maybe a 40 ms delayed ACK later) restarted the timer, which then ran one RTO.
  EXPECT_GE(data_tx_[5].at - data_tx_[4].at, rto + 20ms);
  EXPECT_LE(data_tx_[5].at - data_tx_[4].at, rto + 20ms + 41ms);
}

// RFC 6298 §5.5: each expiry doubles the RTO; §3 (Karn): the ACK of a retransmission gives
// no sample, so the backed-off RTO stays; the next segment's sample recomputes it (§2)
// and the back-off is gone.
TEST_F(RecoveryTest, RtoDoublesOnEachExpiryAndCollapsesAfterAFreshSample) {
  tcp::TcpConfig c = base_config();
  c.timestamps = false;  // RTT from timing one segment, so Karn's rule is what is tested
  open(c);
  const time::Duration rto0 = a_->rto();
  EXPECT_EQ(rto0, c.rto_min) << "a 20 ms RTT gives 60 ms, raised to the minimum";
  net_->drop_data_segment(Dir::AtoB, 1);
  net_->drop_data_segment(Dir::AtoB, 2);
  net_->drop_data_segment(Dir::AtoB, 3);
  ASSERT_TRUE(transfer(100)) << "delivered by the fourth transmission";
  ASSERT_EQ(data_tx_.size(), 4u);
  for (std::size_t i = 1; i < 4; ++i) {
    const time::Duration want = rto0 * (1 << (i - 1));
    const time::Duration got = data_tx_[i].at - data_tx_[i - 1].at;
    EXPECT_GE(got, want) << "retransmission " << i;
    EXPECT_LE(got, want + 2ms) << "retransmission " << i;  // the timer wheel ticks in 1 ms
  }
  EXPECT_EQ(a_counters().rto_expired, 3u);
  EXPECT_EQ(a_->rtt().backoff_count(), 3u) << "Karn: no sample from a retransmission";
  EXPECT_EQ(a_->rto(), rto0 * 8);

  // A fresh segment, never retransmitted: its sample resets the back-off.
  std::vector<std::uint8_t> more = pattern_bytes(100, 9);
  sent_.insert(sent_.end(), more.begin(), more.end());
  ASSERT_EQ(a_->send(more), 100u);
  net_->flush();
  ASSERT_TRUE(net_->run_until(
      [&] { return received().size() == sent_.size() && a_->snd_una() == a_->snd_nxt(); },
      net_->now() + 5s));
  EXPECT_EQ(received(), sent_);
  EXPECT_EQ(a_->rtt().backoff_count(), 0u);
  EXPECT_EQ(a_->rto(), rto0) << "back to SRTT + 4 RTTVAR (at the 200 ms minimum)";
  EXPECT_EQ(a_counters().rto_expired, 3u);
}

}  // namespace
}  // namespace sluice::sim

namespace sluice::sim {
namespace {

// Found by sluice-perf's hold mode: after a second of idleness, a FIN must be accepted at
// once — not dropped as out of window and repaired by a retransmission.
TEST_F(RecoveryTest, FinAfterAnIdleSecondIsAcceptedTheFirstTime) {
  open(SimNetwork::default_config());
  ASSERT_TRUE(transfer(16));
  net_->run_until(net_->now() + 1s);
  const std::uint64_t retrans_before = a_counters().retrans_segs;
  a_->shutdown();
  net_->flush();
  ASSERT_TRUE(net_->run_until([&] { return acceptor_.handlers.back().peer_closed == 1; },
                              net_->now() + 10s));
  EXPECT_EQ(a_counters().retrans_segs, retrans_before);
  EXPECT_EQ(net_->b().counters().dropped(tcp::TcpDrop::OutOfWindow), 0u);
  EXPECT_EQ(net_->b().counters().dropped(tcp::TcpDrop::PawsRejected), 0u);
}

}  // namespace
}  // namespace sluice::sim
