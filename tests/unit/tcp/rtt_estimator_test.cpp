// Unit tests of RttEstimator against RFC 6298 §2 and §5.5. Expected values are worked out
// by hand from the RFC's formulas (alpha = 1/8, beta = 1/4, K = 4, G = 1 ms) and written as
// literals; sample values are chosen so that the arithmetic is exact in nanoseconds.
#include "tcp/rtt_estimator.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace sluice::tcp {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// Bounds wide enough not to interfere with the formulas.
RttEstimator unbounded() {
  return RttEstimator{seconds{1}, nanoseconds{1}, seconds{600}};
}

TEST(RttEstimator, InitialRtoIsOneSecondBeforeAnySample) {
  RttEstimator est{seconds{1}, milliseconds{200}, seconds{60}};
  EXPECT_FALSE(est.has_sample());
  EXPECT_EQ(est.rto(), seconds{1});  // RFC 6298 §2.1
  EXPECT_EQ(est.srtt(), nanoseconds{0});
  EXPECT_EQ(est.rttvar(), nanoseconds{0});
  EXPECT_EQ(est.backoff_count(), 0u);
}

TEST(RttEstimator, FirstSampleSetsSrttAndHalfVariance) {
  RttEstimator est = unbounded();
  est.on_sample(milliseconds{100});
  // §2.2: SRTT = R = 100 ms, RTTVAR = R/2 = 50 ms, RTO = 100 + max(1, 4*50) = 300 ms.
  EXPECT_TRUE(est.has_sample());
  EXPECT_EQ(est.srtt(), milliseconds{100});
  EXPECT_EQ(est.rttvar(), milliseconds{50});
  EXPECT_EQ(est.rto(), milliseconds{300});
}

TEST(RttEstimator, LaterSamplesFollowTheRfcFormulasInOrder) {
  RttEstimator est = unbounded();
  est.on_sample(milliseconds{100});

  // §2.3 with R' = 200 ms, RTTVAR updated with the old SRTT (100 ms):
  //   RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 37.5 + 25 = 62.5 ms
  //   SRTT   = 7/8 * 100 + 1/8 * 200       = 87.5 + 25 = 112.5 ms
  //   RTO    = 112.5 + max(1, 4 * 62.5)    = 362.5 ms
  est.on_sample(milliseconds{200});
  EXPECT_EQ(est.rttvar(), microseconds{62'500});
  EXPECT_EQ(est.srtt(), microseconds{112'500});
  EXPECT_EQ(est.rto(), microseconds{362'500});

  // R' = 50 ms:
  //   RTTVAR = 3/4 * 62.5 + 1/4 * |112.5 - 50| = 46.875 + 15.625 = 62.5 ms
  //   SRTT   = 7/8 * 112.5 + 1/8 * 50         = 98.4375 + 6.25  = 104.6875 ms
  //   RTO    = 104.6875 + 250                                   = 354.6875 ms
  est.on_sample(milliseconds{50});
  EXPECT_EQ(est.rttvar(), microseconds{62'500});
  EXPECT_EQ(est.srtt(), nanoseconds{104'687'500});
  EXPECT_EQ(est.rto(), nanoseconds{354'687'500});

  // R' = 104.6875 ms (equal to SRTT): the error term is zero.
  //   RTTVAR = 3/4 * 62.5 = 46.875 ms, SRTT unchanged, RTO = 104.6875 + 187.5 = 292.1875 ms
  est.on_sample(nanoseconds{104'687'500});
  EXPECT_EQ(est.rttvar(), nanoseconds{46'875'000});
  EXPECT_EQ(est.srtt(), nanoseconds{104'687'500});
  EXPECT_EQ(est.rto(), nanoseconds{292'187'500});
}

TEST(RttEstimator, ClockGranularityBoundsTheVarianceTerm) {
  RttEstimator est = unbounded();
  // SRTT = 100 us, RTTVAR = 50 us: 4 * RTTVAR = 200 us < G = 1 ms, so RTO = 100 us + 1 ms.
  est.on_sample(microseconds{100});
  EXPECT_EQ(est.rto(), microseconds{1'100});
  // R' = 100 us again: RTTVAR = 37.5 us, SRTT = 100 us; still G: RTO = 1.1 ms.
  est.on_sample(microseconds{100});
  EXPECT_EQ(est.rttvar(), nanoseconds{37'500});
  EXPECT_EQ(est.rto(), microseconds{1'100});
}

TEST(RttEstimator, RtoIsClampedToMinimumAndMaximum) {
  RttEstimator low{seconds{1}, milliseconds{200}, seconds{60}};
  low.on_sample(milliseconds{10});  // 10 + 4*5 = 30 ms < 200 ms
  EXPECT_EQ(low.rto(), milliseconds{200});

  RttEstimator high{seconds{1}, milliseconds{200}, seconds{60}};
  high.on_sample(seconds{50});  // 50 + 4*25 = 150 s > 60 s
  EXPECT_EQ(high.rto(), seconds{60});
  EXPECT_EQ(high.srtt(), seconds{50});  // only the RTO is clamped, not the estimate
}

TEST(RttEstimator, BackoffDoublesAndSaturatesAtMaximum) {
  RttEstimator est{seconds{1}, milliseconds{200}, seconds{60}};
  const seconds expected[] = {seconds{2},  seconds{4},  seconds{8}, seconds{16},
                              seconds{32}, seconds{60}, seconds{60}};
  unsigned n = 0;
  for (const auto want : expected) {
    est.backoff();  // §5.5
    ++n;
    EXPECT_EQ(est.rto(), want) << "after " << n << " back-offs";
    EXPECT_EQ(est.backoff_count(), n);
  }
  for (int i = 0; i < 1000; ++i) est.backoff();  // no overflow, however long the outage
  EXPECT_EQ(est.rto(), seconds{60});
}

TEST(RttEstimator, BackoffAppliesToTheMeasuredRto) {
  RttEstimator est = unbounded();
  est.on_sample(milliseconds{100});  // RTO 300 ms
  est.backoff();
  EXPECT_EQ(est.rto(), milliseconds{600});
  est.backoff();
  EXPECT_EQ(est.rto(), milliseconds{1200});
  est.reset_backoff();
  EXPECT_EQ(est.backoff_count(), 0u);
  EXPECT_EQ(est.rto(), milliseconds{300});
}

TEST(RttEstimator, ValidSampleClearsBackoff) {
  RttEstimator est = unbounded();
  est.backoff();
  est.backoff();
  EXPECT_EQ(est.rto(), seconds{4});
  est.on_sample(milliseconds{100});
  EXPECT_EQ(est.backoff_count(), 0u);
  EXPECT_EQ(est.rto(), milliseconds{300});
}

TEST(RttEstimator, NegativeSampleIsIgnored) {
  RttEstimator est = unbounded();
  est.on_sample(milliseconds{-5});
  EXPECT_FALSE(est.has_sample());
  EXPECT_EQ(est.rto(), seconds{1});
}

TEST(RttEstimator, InconsistentBoundsAreRepaired) {
  // max < min: max is raised to min; the initial RTO is clamped into the range.
  RttEstimator est{seconds{1}, seconds{2}, milliseconds{500}};
  EXPECT_EQ(est.rto(), seconds{2});
  est.backoff();
  EXPECT_EQ(est.rto(), seconds{2});
}

}  // namespace
}  // namespace sluice::tcp
