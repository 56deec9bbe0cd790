// Tests of ManualClock and TscClock (the one test in unit_time that waits on real time).
#include "time/clock.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "time/manual_clock.hpp"
#include "time/tsc_clock.hpp"

namespace sluice::time {
namespace {

using namespace std::chrono_literals;

TEST(ManualClock, StartsWhereToldAndMovesOnlyWhenTold) {
  ManualClock clock(Instant{5s});
  EXPECT_EQ(clock.now(), Instant{5s});
  EXPECT_EQ(clock.now(), Instant{5s});
  clock.advance(3ms);
  EXPECT_EQ(clock.now(), Instant{5s + 3ms});
  clock.set(Instant{7s});
  EXPECT_EQ(clock.now(), Instant{7s});
  clock.set(Instant{7s});  // staying put is allowed
  clock.advance(0ns);
  EXPECT_EQ(clock.now(), Instant{7s});
}

TEST(ManualClock, UsableThroughTheClockInterface) {
  ManualClock manual;
  const Clock& clock = manual;
  manual.advance(1us);
  EXPECT_EQ(clock.now(), Instant{1us});
}

#ifndef NDEBUG
TEST(ManualClockDeathTest, RefusesToGoBackwards) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ManualClock clock(Instant{10s});
  EXPECT_DEATH(clock.set(Instant{9s}), "");
  EXPECT_DEATH(clock.advance(-1ns), "");
}
#endif

TEST(TscClock, IsMonotonic) {
  const TscClock clock;
  Instant last = clock.now();
  for (int i = 0; i < 1'000'000; ++i) {
    const Instant t = clock.now();
    ASSERT_GE(t, last) << "at read " << i;
    last = t;
  }
}

TEST(TscClock, AgreesWithSteadyClock) {
  const TscClock clock;
  const auto steady = [] {
    return std::chrono::duration_cast<Duration>(
        std::chrono::steady_clock::now().time_since_epoch());
  };
  // Same epoch as steady_clock: readings side by side are close (generous: CI machines).
  EXPECT_LT(std::chrono::abs(clock.now().time_since_epoch() - steady()), 5ms);

  const Instant tsc_start = clock.now();
  const Duration steady_start = steady();
  std::this_thread::sleep_for(50ms);
  const Duration tsc_elapsed = clock.now() - tsc_start;
  const Duration steady_elapsed = steady() - steady_start;
  ASSERT_GE(steady_elapsed, 50ms);
  const double ratio =
      static_cast<double>(tsc_elapsed.count()) / static_cast<double>(steady_elapsed.count());
  EXPECT_NEAR(ratio, 1.0, 0.03) << "tsc " << tsc_elapsed.count() << " ns, steady "
                                << steady_elapsed.count() << " ns";
}

}  // namespace
}  // namespace sluice::time
