// Unit tests of congestion control: the shared Reno window rules for every algorithm (RFC 5681,
// RFC 6928, RFC 3465), NewReno's (RFC 5681, RFC 6582) and CUBIC's (RFC 9438), and CcStorage.
// Expected values are worked out by hand from the RFCs, or computed here from the RFC's own
// formula and constants, never by asking the code under test.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string_view>

#include "tcp/cc/cc_factory.hpp"
#include "tcp/cc/congestion_control.hpp"
#include "tcp/cc/cubic.hpp"
#include "tcp/cc/new_reno.hpp"
#include "tcp/tcp_config.hpp"
#include "time/clock.hpp"

namespace sluice::tcp {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using time::Duration;
using time::Instant;

constexpr std::uint32_t kMss = 1460;
constexpr Duration kRtt = milliseconds{100};

Instant at(Duration d) {
  return Instant{} + d;
}

/// One round trip of a sender that fills its window: every segment of the current cwnd is
/// acknowledged by its own ACK (or one ACK per `per_ack` bytes), spread evenly over the RTT,
/// with the full window in flight. Returns the time at the end of the round.
Instant ack_one_window(CongestionControl& cc, Instant start, Duration rtt = kRtt,
                       std::uint32_t per_ack = 0) {
  const std::uint32_t mss = cc.mss();
  if (per_ack == 0) per_ack = mss;
  const std::uint32_t window = cc.cwnd() / mss * mss;  // whole segments
  const std::uint32_t acks = (window + per_ack - 1) / per_ack;
  std::uint32_t left = window;
  for (std::uint32_t i = 0; i < acks; ++i) {
    const std::uint32_t acked = std::min(per_ack, left);  // the last ACK may cover less
    cc.on_ack(acked, window, rtt, start + rtt * i / acks);
    left -= acked;
  }
  return start + rtt;
}

// ---------------------------------------------------------------------------------------------
// Behaviour every algorithm shares with Reno: IW, slow start, ABC, loss window, idle restart.

class AnyAlgorithm : public ::testing::TestWithParam<CongestionAlgorithm> {
 protected:
  CongestionControl& make(std::uint32_t mss = kMss) {
    CongestionControl* cc = storage_.construct(GetParam());
    cc->init(mss, at(seconds{0}));
    return *cc;
  }
  CcStorage storage_;
};

INSTANTIATE_TEST_SUITE_P(Cc, AnyAlgorithm,
                         ::testing::Values(CongestionAlgorithm::NewReno,
                                           CongestionAlgorithm::Cubic),
                         [](const ::testing::TestParamInfo<CongestionAlgorithm>& param) {
                           return param.param == CongestionAlgorithm::NewReno ? "NewReno" : "Cubic";
                         });

TEST(InitialWindow, FollowsRfc6928) {
  // IW = min(10*MSS, max(2*MSS, 14600)):
  //   536:  min(5360, max(1072, 14600))   = 5360
  //   1460: min(14600, max(2920, 14600))  = 14600
  //   4000: min(40000, max(8000, 14600))  = 14600
  //   9000: min(90000, max(18000, 14600)) = 18000
  EXPECT_EQ(CongestionControl::initial_window(536), 5360u);
  EXPECT_EQ(CongestionControl::initial_window(1460), 14600u);
  EXPECT_EQ(CongestionControl::initial_window(4000), 14600u);
  EXPECT_EQ(CongestionControl::initial_window(9000), 18000u);
}

TEST_P(AnyAlgorithm, InitSetsInitialWindowAndHighSsthresh) {
  EXPECT_EQ(make(536).cwnd(), 5360u);
  EXPECT_EQ(make(1460).cwnd(), 14600u);
  CongestionControl& cc = make(9000);
  EXPECT_EQ(cc.cwnd(), 18000u);
  EXPECT_EQ(cc.mss(), 9000u);
  EXPECT_EQ(cc.ssthresh(), UINT32_MAX);  // RFC 5681 §3.1: arbitrarily high
  EXPECT_TRUE(cc.in_slow_start());
}

TEST_P(AnyAlgorithm, SlowStartDoublesPerRoundTrip) {
  CongestionControl& cc = make();
  Instant now = at(seconds{1});
  std::uint32_t expected = 10 * kMss;
  for (int round = 0; round < 4; ++round) {
    now = ack_one_window(cc, now);
    expected *= 2;
    EXPECT_EQ(cc.cwnd(), expected) << "round " << round;
  }
}

TEST_P(AnyAlgorithm, SlowStartWithDelayedAcksStillDoubles) {
  // ABC (RFC 3465 §2.2): one ACK per two segments grows cwnd by 2*SMSS per ACK.
  CongestionControl& cc = make();
  ack_one_window(cc, at(seconds{1}), kRtt, 2 * kMss);
  EXPECT_EQ(cc.cwnd(), 20 * kMss);
}

// No RFC 3465 §2.2 limit per ACK (congestion_control.hpp says why): a window acknowledged
// by stretch ACKs of five segments doubles as one acknowledged segment by segment does.
TEST_P(AnyAlgorithm, StretchAcksGrowTheWindowByWhatTheyAcknowledge) {
  CongestionControl& cc = make();
  cc.on_ack(5 * kMss, cc.cwnd(), kRtt, at(seconds{1}));
  EXPECT_EQ(cc.cwnd(), 15 * kMss);  // not 12, as with L = 2*SMSS
  Instant now = at(seconds{2});
  now = ack_one_window(cc, now, kRtt, 5 * kMss);
  EXPECT_EQ(cc.cwnd(), 30 * kMss);
}

TEST_P(AnyAlgorithm, RtoSetsLossWindowOfOneSegment) {
  CongestionControl& cc = make();
  ack_one_window(cc, at(seconds{1}));  // cwnd 20 segments
  cc.on_rto(20 * kMss, at(seconds{2}));
  EXPECT_EQ(cc.cwnd(), kMss);
  EXPECT_TRUE(cc.in_slow_start());
}

TEST_P(AnyAlgorithm, SlowStartAfterRtoGrowsOneSegmentPerAck) {
  // RFC 3465 §2.3: L = 1*SMSS in the slow start that follows a timeout.
  CongestionControl& cc = make();
  cc.on_rto(20 * kMss, at(seconds{1}));
  cc.on_ack(2 * kMss, kMss, kRtt, at(seconds{2}));
  EXPECT_EQ(cc.cwnd(), 2 * kMss);
}

TEST_P(AnyAlgorithm, IdleRestartCutsToInitialWindow) {
  CongestionControl& cc = make();
  Instant now = at(seconds{1});
  for (int i = 0; i < 2; ++i) now = ack_one_window(cc, now);
  ASSERT_EQ(cc.cwnd(), 40 * kMss);
  cc.on_idle_restart(now + seconds{5});  // RFC 5681 §4.1: RW = min(IW, cwnd)
  EXPECT_EQ(cc.cwnd(), 10 * kMss);

  cc.on_rto(4 * kMss, now + seconds{6});  // cwnd 1 segment, below IW
  cc.on_idle_restart(now + seconds{10});
  EXPECT_EQ(cc.cwnd(), kMss);
}

TEST_P(AnyAlgorithm, NoGrowthWhileApplicationLimited) {
  CongestionControl& cc = make();
  // Flight of 4 segments against a cwnd of 10: the window is not being used.
  for (int i = 0; i < 20; ++i) cc.on_ack(kMss, 4 * kMss, kRtt, at(milliseconds{1000 + i}));
  EXPECT_EQ(cc.cwnd(), 10 * kMss);
  // Half the window in flight is enough to count as using it.
  cc.on_ack(kMss, 5 * kMss, kRtt, at(seconds{2}));
  EXPECT_EQ(cc.cwnd(), 11 * kMss);
}

TEST_P(AnyAlgorithm, AckOfNothingChangesNothing) {
  CongestionControl& cc = make();
  cc.on_ack(0, cc.cwnd(), kRtt, at(seconds{1}));
  EXPECT_EQ(cc.cwnd(), 10 * kMss);
}

TEST_P(AnyAlgorithm, RecoveryExitDeflatesToSsthresh) {
  CongestionControl& cc = make();
  cc.on_loss(10 * kMss, at(seconds{1}));
  const std::uint32_t ssthresh = cc.ssthresh();
  cc.set_cwnd(ssthresh + 3 * kMss);  // the sender's RFC 6582 inflation
  cc.set_cwnd(cc.cwnd() + 4 * kMss);
  cc.on_recovery_exit(at(seconds{2}));
  EXPECT_EQ(cc.cwnd(), ssthresh);
}

TEST_P(AnyAlgorithm, SetMssKeepsBytesButNeverBelowOneSegment) {
  CongestionControl& cc = make(536);
  cc.set_mss(1460);
  EXPECT_EQ(cc.mss(), 1460u);
  EXPECT_EQ(cc.cwnd(), 5360u);
  cc.on_rto(3000, at(seconds{1}));  // cwnd = 1460
  cc.set_mss(9000);
  EXPECT_EQ(cc.cwnd(), 9000u);
}

TEST_P(AnyAlgorithm, WindowNeverExceedsTheLargestTcpWindow) {
  CongestionControl& cc = make(65535);
  Instant now = at(seconds{1});
  for (int i = 0; i < 40; ++i) now = ack_one_window(cc, now);
  EXPECT_LE(cc.cwnd(), CongestionControl::kMaxCwnd);
  EXPECT_GT(cc.cwnd(), CongestionControl::kMaxCwnd / 2);
}

// ---------------------------------------------------------------------------------------------
// NewReno

TEST(NewReno, LossHalvesFlightWithTwoSegmentFloor) {
  NewReno cc;
  cc.init(kMss, at(seconds{0}));
  // RFC 5681 §3.2 step 2: ssthresh = max(FlightSize/2, 2*SMSS); cwnd = ssthresh.
  cc.on_loss(20 * kMss, at(seconds{1}));
  EXPECT_EQ(cc.ssthresh(), 10 * kMss);
  EXPECT_EQ(cc.cwnd(), 10 * kMss);
  cc.on_loss(14601, at(seconds{2}));  // 14601 / 2 = 7300 (integer)
  EXPECT_EQ(cc.ssthresh(), 7300u);
  cc.on_loss(3 * kMss, at(seconds{3}));  // 1.5 segments -> floor of 2
  EXPECT_EQ(cc.ssthresh(), 2 * kMss);
  EXPECT_EQ(cc.cwnd(), 2 * kMss);
}

TEST(NewReno, RtoUsesFlightSizeNotCwnd) {
  NewReno cc;
  cc.init(kMss, at(seconds{0}));
  ack_one_window(cc, at(seconds{1}));   // cwnd 20 segments
  cc.on_rto(6 * kMss, at(seconds{2}));  // RFC 5681 eq. 4: FlightSize/2 = 3 segments
  EXPECT_EQ(cc.ssthresh(), 3 * kMss);
  EXPECT_EQ(cc.cwnd(), kMss);
  cc.on_rto(kMss, at(seconds{3}));
  EXPECT_EQ(cc.ssthresh(), 2 * kMss);
}

TEST(NewReno, SlowStartStopsAtSsthreshThenAvoidsCongestion) {
  NewReno cc;
  cc.init(kMss, at(seconds{0}));
  cc.on_rto(20 * kMss, at(seconds{1}));  // ssthresh 10 segments, cwnd 1
  Instant now = at(seconds{2});
  for (int i = 0; i < 9; ++i) cc.on_ack(kMss, cc.cwnd(), kRtt, now);
  EXPECT_EQ(cc.cwnd(), 10 * kMss);
  EXPECT_FALSE(cc.in_slow_start());
  // Congestion avoidance: 9 more segments acknowledged (less than cwnd) -> no growth...
  for (int i = 0; i < 9; ++i) cc.on_ack(kMss, cc.cwnd(), kRtt, now);
  EXPECT_EQ(cc.cwnd(), 10 * kMss);
  // ...the 10th completes a window of bytes -> one SMSS (RFC 3465 §2.1).
  cc.on_ack(kMss, cc.cwnd(), kRtt, now);
  EXPECT_EQ(cc.cwnd(), 11 * kMss);
}

TEST(NewReno, AckCrossingSsthreshCarriesTheRestIntoCongestionAvoidance) {
  NewReno cc;
  cc.init(kMss, at(seconds{0}));
  cc.on_rto(20 * kMss + 1400, at(seconds{1}));  // ssthresh = 10 segments + 700 = 15300
  ASSERT_EQ(cc.ssthresh(), 15300u);
  const Instant now = at(seconds{2});
  for (int i = 0; i < 9; ++i) cc.on_ack(kMss, cc.cwnd(), kRtt, now);
  ASSERT_EQ(cc.cwnd(), 14600u);
  // This ACK needs 700 bytes to reach ssthresh; the other 760 count in congestion avoidance.
  cc.on_ack(kMss, cc.cwnd(), kRtt, now);
  EXPECT_EQ(cc.cwnd(), 15300u);
  // 760 + 9 * 1460 = 13900 < 15300: no growth yet; 760 + 10 * 1460 = 15360: one SMSS.
  for (int i = 0; i < 9; ++i) cc.on_ack(kMss, cc.cwnd(), kRtt, now);
  EXPECT_EQ(cc.cwnd(), 15300u);
  cc.on_ack(kMss, cc.cwnd(), kRtt, now);
  EXPECT_EQ(cc.cwnd(), 15300u + kMss);
}

TEST(NewReno, CongestionAvoidanceAddsOneSegmentPerRoundTrip) {
  NewReno cc;
  cc.init(kMss, at(seconds{0}));
  cc.on_loss(40 * kMss, at(seconds{1}));
  cc.on_recovery_exit(at(seconds{1}));
  ASSERT_EQ(cc.cwnd(), 20 * kMss);
  Instant now = at(seconds{2});
  for (std::uint32_t round = 1; round <= 5; ++round) {
    now = ack_one_window(cc, now);
    EXPECT_EQ(cc.cwnd(), (20 + round) * kMss);
  }
  // Delayed ACKs (one per two segments) do not slow it down: byte counting.
  for (std::uint32_t round = 1; round <= 5; ++round) {
    now = ack_one_window(cc, now, kRtt, 2 * kMss);
    EXPECT_EQ(cc.cwnd(), (25 + round) * kMss);
  }
}

TEST(NewReno, StretchAckInCongestionAvoidanceKeepsTheExcessBytes) {
  // RFC 3465 §2.1: when bytes_acked reaches cwnd it is *reduced by* cwnd, not cleared.
  NewReno cc;
  cc.init(kMss, at(seconds{0}));
  cc.on_loss(20 * kMss, at(seconds{1}));
  cc.on_recovery_exit(at(seconds{1}));
  ASSERT_EQ(cc.cwnd(), 10 * kMss);
  cc.on_ack(15 * kMss, cc.cwnd(), kRtt, at(seconds{2}));  // bytes_acked 15 -> 5, cwnd 11
  EXPECT_EQ(cc.cwnd(), 11 * kMss);
  for (int i = 0; i < 5; ++i) cc.on_ack(kMss, cc.cwnd(), kRtt, at(seconds{2}));  // 10 < 11
  EXPECT_EQ(cc.cwnd(), 11 * kMss);
  cc.on_ack(kMss, cc.cwnd(), kRtt, at(seconds{2}));  // 11 >= 11
  EXPECT_EQ(cc.cwnd(), 12 * kMss);
}

// ---------------------------------------------------------------------------------------------
// CUBIC (RFC 9438). MSS 1000 bytes, so that segments and kilobytes coincide.

constexpr std::uint32_t kSeg = 1000;
constexpr double kC = 0.4;     // RFC 9438 §5 (value stated independently of the code)
constexpr double kBeta = 0.7;  // RFC 9438 §4.6

double segments(std::uint32_t bytes) {
  return static_cast<double>(bytes) / kSeg;
}

/// A CUBIC sender that just detected a loss at a window of `w` segments with a full window in
/// flight and has left recovery at time `t`.
void lose_at(Cubic& cc, std::uint32_t w, Instant t) {
  cc.set_cwnd(w * kSeg);
  cc.on_loss(w * kSeg, t);
  cc.on_recovery_exit(t);
}

TEST(Cubic, LossMultipliesByBetaWithTwoSegmentFloor) {
  Cubic cc;
  cc.init(kMss, at(seconds{0}));
  cc.set_cwnd(100 * kMss);
  cc.on_loss(100 * kMss, at(seconds{1}));  // §4.6: ssthresh = 0.7 * flight = 70 segments
  EXPECT_EQ(cc.ssthresh(), 70 * kMss);
  EXPECT_EQ(cc.cwnd(), 70 * kMss);
  EXPECT_DOUBLE_EQ(cc.w_max_segments(), 100.0);
  cc.set_cwnd(2 * kMss);
  cc.on_loss(2 * kMss, at(seconds{2}));  // 1.4 segments -> 2
  EXPECT_EQ(cc.ssthresh(), 2 * kMss);
  EXPECT_EQ(cc.cwnd(), 2 * kMss);
}

// §4.6 permits cwnd in place of flight_size (growth waits for a validated window). When
// the third duplicate ACK comes, most of the window that met the loss may already be
// acknowledged: 10 segments sent, the seventh lost, 4 still in flight. The cut is from
// the 10, as in Linux, not to 0.7 * 4 = 2.8 segments.
TEST(Cubic, LossCutsTheWindowNotWhatIsLeftInFlight) {
  Cubic cc;
  cc.init(kMss, at(seconds{0}));
  ASSERT_EQ(cc.cwnd(), 10 * kMss);
  cc.on_loss(4 * kMss, at(seconds{1}));
  EXPECT_EQ(cc.ssthresh(), 7 * kMss);
  EXPECT_EQ(cc.cwnd(), 7 * kMss);
}

TEST(Cubic, RtoSetsLossWindowAndBetaSsthresh) {
  Cubic cc;
  cc.init(kMss, at(seconds{0}));
  cc.set_cwnd(20 * kMss);
  cc.on_rto(20 * kMss, at(seconds{1}));  // §4.8: ssthresh as §4.6 (14 segments), cwnd = 1
  EXPECT_EQ(cc.ssthresh(), 14 * kMss);
  EXPECT_EQ(cc.cwnd(), kMss);
}

TEST(Cubic, RtoInsideRecoveryDoesNotCutTheSameWindowTwice) {
  Cubic cc;
  cc.init(kMss, at(seconds{0}));
  cc.set_cwnd(20 * kMss);
  cc.on_loss(20 * kMss, at(seconds{1}));  // recovery: ssthresh = cwnd = 14 segments
  ASSERT_EQ(cc.ssthresh(), 14 * kMss);
  // The retransmission is lost too; the 20 segments sent before the loss are outstanding.
  cc.on_rto(20 * kMss, at(seconds{2}));
  EXPECT_EQ(cc.ssthresh(), 14 * kMss) << "0.7 * 20 again, not 0.7 * 14";
  EXPECT_EQ(cc.cwnd(), kMss);
  // Outside recovery, with less in flight than cwnd: the cut is from cwnd.
  Cubic idle;
  idle.init(kMss, at(seconds{0}));
  idle.set_cwnd(20 * kMss);
  idle.on_rto(5 * kMss, at(seconds{1}));
  EXPECT_EQ(idle.ssthresh(), 14 * kMss);
}

TEST(Cubic, WindowFollowsTheCubicFunctionAfterLoss) {
  Cubic cc;
  cc.init(kSeg, at(seconds{0}));
  const Instant t0 = at(seconds{10});
  lose_at(cc, 1000, t0);
  ASSERT_EQ(cc.cwnd(), 700 * kSeg);  // beta_cubic * W_max

  // K = cbrt((W_max - cwnd_epoch) / C) = cbrt((1000 - 700) / 0.4) = cbrt(750) = 9.08560 s.
  const double k = std::cbrt((1000.0 - 1000.0 * kBeta) / kC);
  ASSERT_NEAR(k, 9.08560, 1e-5);
  auto w_cubic = [&](double t) { return kC * std::pow(t - k, 3) + 1000.0; };

  // 100 ms rounds, each acknowledging a full window; the epoch starts at the first ACK (t0).
  Instant now = t0;
  double previous_growth = 0;
  double previous = segments(cc.cwnd());
  for (int round = 1; round <= 180; ++round) {
    now = ack_one_window(cc, now);
    if (round == 1) {
      EXPECT_NEAR(cc.k_seconds(), k, 1e-9);
    }
    const double t = 0.1 * round;
    const double w = segments(cc.cwnd());
    // cwnd tracks W_cubic(t): the per-ACK step toward W_cubic(t + RTT) lags by about one RTT.
    EXPECT_NEAR(w, w_cubic(t), 0.002 * w_cubic(t)) << "t = " << t;
    if (t > k + 0.5) {
      // Convex region (§4.5): the growth per round increases.
      EXPECT_GT(w - previous, previous_growth - 1e-9) << "t = " << t;
    }
    previous_growth = w - previous;
    previous = w;
  }
  // Some hand-computed points of W_cubic(t) = 0.4 * (t - 9.0856)^3 + 1000:
  //   t = 2: 857.70; t = 4: 947.39; t = K: 1000; t = 16: 1132.23; t = 18: 1283.36.
  EXPECT_NEAR(w_cubic(2), 857.70, 0.01);
  EXPECT_NEAR(w_cubic(4), 947.39, 0.01);
  EXPECT_NEAR(w_cubic(16), 1132.23, 0.01);
  EXPECT_NEAR(w_cubic(18), 1283.36, 0.01);
  EXPECT_NEAR(segments(cc.cwnd()), 1283.36, 0.002 * 1283.36);
}

TEST(Cubic, TargetIsCappedAtOneAndAHalfWindows) {
  Cubic cc;
  cc.init(kSeg, at(seconds{0}));
  const Instant t0 = at(seconds{10});
  lose_at(cc, 1000, t0);
  const Duration long_rtt = seconds{20};
  cc.on_ack(kSeg, cc.cwnd(), long_rtt, t0);  // starts the epoch; W_est region at t = 0
  const double w0 = static_cast<double>(cc.cwnd());
  // At t = 1 s: W_cubic(1) = 1000 + 0.4 (1 - 9.0856)^3 = 788.6 > W_est, so the cubic region;
  // W_cubic(1 + 20) = 1676.5 is above 1.5 * cwnd, so target = 1.5 * cwnd (§4.2) and one
  // segment acknowledged adds (1.5 cwnd - cwnd) / cwnd = 0.5 segment.
  cc.on_ack(kSeg, cc.cwnd(), long_rtt, t0 + seconds{1});
  EXPECT_NEAR(static_cast<double>(cc.cwnd()), w0 + 0.5 * kSeg, 2.0);
}

TEST(Cubic, ReachesWmaxAtTimeK) {
  Cubic cc;
  cc.init(kSeg, at(seconds{0}));
  const Instant t0 = at(seconds{10});
  lose_at(cc, 1000, t0);
  Instant now = t0;
  // K = 9.0856 s: after 91 rounds of 100 ms (t = 9.1 s) cwnd is at the plateau W_max.
  for (int round = 0; round < 91; ++round) now = ack_one_window(cc, now);
  EXPECT_NEAR(segments(cc.cwnd()), 1000.0, 2.0);
  // Half-way (t = 4.5 s) it was well below: W = 1000 - 0.4 * 4.5856^3 = 961.4.
  Cubic half;
  half.init(kSeg, at(seconds{0}));
  lose_at(half, 1000, t0);
  now = t0;
  for (int round = 0; round < 45; ++round) now = ack_one_window(half, now);
  EXPECT_NEAR(segments(half.cwnd()), 961.43, 2.0);
}

TEST(Cubic, FastConvergenceLowersWmax) {
  Cubic cc;
  cc.init(kSeg, at(seconds{0}));
  lose_at(cc, 1000, at(seconds{1}));
  EXPECT_DOUBLE_EQ(cc.w_max_segments(), 1000.0);

  // Second loss at 800 segments, below W_max = 1000 (§4.7):
  //   W_max = 800 * (1 + 0.7) / 2 = 680; cwnd = ssthresh = 0.7 * 800 = 560;
  //   K = cbrt((680 - 560) / 0.4) = cbrt(300) = 6.6943 s.
  // (Without fast convergence: W_max = 800, K = cbrt(600) = 8.434 s.)
  const Instant t1 = at(seconds{20});
  lose_at(cc, 800, t1);
  EXPECT_DOUBLE_EQ(cc.w_max_segments(), 680.0);
  EXPECT_EQ(cc.cwnd(), 560 * kSeg);
  Instant now = ack_one_window(cc, t1);
  EXPECT_NEAR(cc.k_seconds(), 6.6943, 1e-4);
  // At t = 6.7 s ~ K the window is at the lowered W_max (680), not near the loss window
  // (W_cubic(6.7) = 797.9 without fast convergence).
  for (int round = 1; round < 67; ++round) now = ack_one_window(cc, now);
  EXPECT_NEAR(segments(cc.cwnd()), 680.0, 3.0);

  // A loss above W_max (no fast convergence): W_max = cwnd at the loss.
  lose_at(cc, 1200, at(seconds{40}));
  EXPECT_DOUBLE_EQ(cc.w_max_segments(), 1200.0);
}

TEST(Cubic, RenoFriendlyRegionKeepsCwndAtLeastWest) {
  // Small window and 1 ms RTT: Reno would outgrow the cubic curve, so CUBIC follows W_est.
  Cubic cc;
  cc.init(kSeg, at(seconds{0}));
  const Instant t0 = at(seconds{10});
  lose_at(cc, 10, t0);  // W_max = cwnd_prior = 10, cwnd_epoch = 7
  const Duration rtt = milliseconds{1};
  const double k = std::cbrt((10.0 - 7.0) / kC);  // 1.957 s

  // W_est per §4.3: starts at cwnd_epoch, += alpha * segments_acked / cwnd per ACK, with
  // alpha = 3(1 - 0.7)/(1 + 0.7) until W_est >= cwnd_prior, then 1.
  double w_est = 7.0;
  Instant now = t0;
  for (int round = 0; round < 200; ++round) {
    const std::uint32_t window = cc.cwnd();
    const std::uint32_t acks = window / kSeg;
    for (std::uint32_t i = 0; i < acks; ++i) {
      const Instant when = now + rtt * i / acks;
      const double alpha = w_est >= 10.0 ? 1.0 : 3.0 * (1.0 - kBeta) / (1.0 + kBeta);
      w_est += alpha * 1.0 / segments(cc.cwnd());
      cc.on_ack(kSeg, window, rtt, when);
      ASSERT_NEAR(cc.w_est_segments(), w_est, 0.05) << "round " << round;
      const double t = std::chrono::duration<double>(when - t0).count();
      if (w_est > kC * std::pow(t - k, 3) + 10.0) {
        ASSERT_GE(segments(cc.cwnd()), w_est - 0.05) << "round " << round;
      }
    }
    now += rtt;
  }
  // 200 RTTs of Reno growth: about 6 rounds at alpha ~0.53 to reach 10, then +1 per round.
  // The cubic curve alone would still be near W_cubic(0.2 s) = 7.8 segments.
  EXPECT_GT(segments(cc.cwnd()), 150.0);
  EXPECT_NEAR(segments(cc.cwnd()), w_est, 0.05);
}

TEST(Cubic, AfterTimeoutKIsZeroAndWmaxIsTheStartingWindow) {
  Cubic cc;
  cc.init(kSeg, at(seconds{0}));
  cc.set_cwnd(50 * kSeg);
  cc.on_rto(50 * kSeg, at(seconds{1}));  // ssthresh 35, cwnd 1
  Instant now = at(seconds{2});
  while (cc.in_slow_start()) {  // L = 1 SMSS: one segment per ACK, 34 ACKs
    cc.on_ack(kSeg, cc.cwnd(), kRtt, now);
    now += milliseconds{10};
  }
  ASSERT_EQ(cc.cwnd(), 35 * kSeg);
  EXPECT_FALSE(cc.epoch_started());
  const Instant epoch = now;
  now = ack_one_window(cc, now);  // first congestion avoidance ACK starts the epoch
  EXPECT_TRUE(cc.epoch_started());
  EXPECT_DOUBLE_EQ(cc.k_seconds(), 0.0);        // §4.8
  EXPECT_DOUBLE_EQ(cc.w_max_segments(), 35.0);  // cwnd at the start of the stage
  // Convex from the start: W(t) = 0.4 t^3 + 35, and at t = 6 s W = 121.4 (above Reno's W_est).
  while (now - epoch < seconds{6}) now = ack_one_window(cc, now);
  EXPECT_NEAR(segments(cc.cwnd()), 0.4 * 6 * 6 * 6 + 35, 0.02 * 121.4);
}

TEST(Cubic, ApplicationLimitedTimeDoesNotCountInTheEpoch) {
  Cubic cc;
  cc.init(kSeg, at(seconds{0}));
  const Instant t0 = at(seconds{10});
  lose_at(cc, 1000, t0);
  Instant now = t0;
  for (int round = 0; round < 20; ++round) now = ack_one_window(cc, now);  // t = 2 s
  const std::uint32_t before = cc.cwnd();
  // 20 s with little in flight (§5.8): no growth, and the clock of the curve stops.
  for (int i = 0; i < 200; ++i) {
    now += kRtt;
    cc.on_ack(kSeg, 10 * kSeg, kRtt, now);
  }
  EXPECT_EQ(cc.cwnd(), before);
  // Back to full windows: one more round is like t = 2.1 s, not t = 22.1 s (which would
  // allow 1.5x growth at once).
  now = ack_one_window(cc, now + kRtt);
  const double k = std::cbrt(750.0);
  EXPECT_NEAR(segments(cc.cwnd()), kC * std::pow(2.2 - k, 3) + 1000.0, 5.0);
}

// ---------------------------------------------------------------------------------------------
// CcStorage

TEST(CcStorage, IsSmall) {
  static_assert(sizeof(CcStorage) <= 96);
  EXPECT_LE(sizeof(CcStorage), 96u);
}

TEST(CcStorage, ConstructsTheRequestedAlgorithmInPlace) {
  CcStorage storage;
  EXPECT_EQ(storage.get(), nullptr);
  CongestionControl* reno = storage.construct(CongestionAlgorithm::NewReno);
  ASSERT_NE(reno, nullptr);
  EXPECT_EQ(storage.get(), reno);
  EXPECT_EQ(reno->name(), std::string_view{"newreno"});
  const auto* self = reinterpret_cast<const std::byte*>(&storage);
  const auto* obj = reinterpret_cast<const std::byte*>(reno);
  EXPECT_TRUE(obj >= self && obj < self + sizeof(CcStorage));  // in place, no heap

  CongestionControl* cubic = storage.construct(CongestionAlgorithm::Cubic);
  EXPECT_EQ(storage.get(), cubic);
  EXPECT_EQ(cubic->name(), std::string_view{"cubic"});
  cubic->init(kMss, at(seconds{0}));
  EXPECT_EQ(cubic->cwnd(), 10 * kMss);
  cubic->set_cwnd(20 * kMss);
  cubic->on_loss(20 * kMss, at(seconds{1}));
  EXPECT_EQ(cubic->cwnd(), 14 * kMss);  // CUBIC's beta, through the interface

  storage.destroy();
  EXPECT_EQ(storage.get(), nullptr);
}

}  // namespace
}  // namespace sluice::tcp
