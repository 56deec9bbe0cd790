// Tests of TimerWheel with hand-picked cases: exact firing ticks at every level boundary,
// ordering, cancel and re-arm from callbacks, lazy re-arm, deadlines past and beyond the
// horizon, destruction of scheduled timers, next_deadline() and idle skipping.
#include "time/timer_wheel.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include "time/manual_clock.hpp"

namespace sluice::time {
namespace {

using namespace std::chrono_literals;

constexpr Instant kOrigin{1234s};  // deliberately not zero

struct Fired {
  int id;
  Instant wheel_now;  // the wheel's tick when the callback ran
  Instant clock_now;  // the ManualClock when the callback ran
  Instant deadline;
};

// A wheel, the clock that drives it, and probes that log their callbacks.
class Harness {
 public:
  explicit Harness(Duration tick = 1ms, Duration span = TimerWheel::kDefaultSpan)
      : wheel(kOrigin, tick, span), clock(kOrigin) {}

  struct Probe {
    Probe(Harness& harness, int probe_id) : h(harness), id(probe_id) {}
    void on_fire(Timer& t) noexcept {
      h.fired.push_back({id, h.wheel.now(), h.clock.now(), t.deadline()});
      if (action) {
        action();
      }
    }
    Harness& h;
    int id;
    std::function<void()> action;
    Timer timer{Timer::make<&Probe::on_fire>(*this)};
  };

  Probe& probe() { return probes.emplace_back(*this, static_cast<int>(probes.size())); }
  Probe& at(Instant deadline) {
    Probe& p = probe();
    wheel.schedule(p.timer, deadline);
    return p;
  }
  std::size_t advance_to(Instant t) {
    clock.set(t);
    return wheel.advance(clock.now());
  }
  std::size_t advance_by(Duration d) { return advance_to(clock.now() + d); }
  std::vector<int> ids() const {
    std::vector<int> out;
    for (const Fired& f : fired) {
      out.push_back(f.id);
    }
    return out;
  }

  TimerWheel wheel;
  ManualClock clock;
  std::vector<Fired> fired;
  std::deque<Probe> probes;
};

Instant tick_at(std::uint64_t n, Duration tick = 1ms) {
  return kOrigin + tick * static_cast<Duration::rep>(n);
}

TEST(TimerWheel, FiresOnceNeverEarlyAndWithinOneTick) {
  Harness h;
  const Duration offsets[] = {1ns,       999us, 1ms,         1ms + 1ns,        1500us, 2ms,
                              7ms + 3ns, 255ms, 256ms + 1ns, 300ms + 999999ns, 1s,     70s + 1ns};
  for (Duration d : offsets) {
    h.at(kOrigin + d);
  }
  EXPECT_EQ(h.wheel.size(), std::size(offsets));
  for (int i = 0; i < 80'000; ++i) {
    h.advance_by(1ms);
  }
  ASSERT_EQ(h.fired.size(), std::size(offsets));
  for (std::size_t i = 0; i < h.fired.size(); ++i) {
    const Fired& f = h.fired[i];
    EXPECT_EQ(f.id, static_cast<int>(i));
    EXPECT_GE(f.clock_now, f.deadline);
    EXPECT_LT(f.clock_now - f.deadline, 1ms);
    EXPECT_EQ(f.wheel_now, f.clock_now);
  }
  EXPECT_EQ(h.wheel.size(), 0U);
}

TEST(TimerWheel, FiresExactlyAtTheCeilingTickEvenWhenAdvancedInOneStep) {
  Harness h;
  h.at(kOrigin + 5ms + 1ns);
  h.at(kOrigin + 5ms);
  h.at(kOrigin + 4ms + 999999ns);
  EXPECT_EQ(h.advance_to(kOrigin + 1h), 3U);
  ASSERT_EQ(h.fired.size(), 3U);
  EXPECT_EQ(h.fired[0].wheel_now, tick_at(5));
  EXPECT_EQ(h.fired[1].wheel_now, tick_at(5));
  EXPECT_EQ(h.fired[2].wheel_now, tick_at(6));
  EXPECT_EQ(h.ids(), (std::vector<int>{2, 1, 0}));
}

// Every level boundary, from starting ticks on and around byte wraps: the timer is silent
// one tick before its deadline and fires exactly at it.
TEST(TimerWheel, LevelBoundariesFromByteWrapStarts) {
  const std::uint64_t starts[] = {0,
                                  1,
                                  200,
                                  254,
                                  255,
                                  256,
                                  257,
                                  65'279,
                                  65'535,
                                  65'536,
                                  65'537,
                                  (1U << 24) - 1,
                                  1U << 24,
                                  (1U << 24) + 255,
                                  (1ULL << 32) - 1,
                                  1ULL << 32,
                                  (1ULL << 32) + 65'535};
  const std::uint64_t deltas[] = {1,
                                  2,
                                  254,
                                  255,
                                  256,
                                  257,
                                  511,
                                  512,
                                  65'535,
                                  65'536,
                                  65'537,
                                  (1U << 24) - 1,
                                  1U << 24,
                                  (1U << 24) + 1,
                                  255ULL << 24,
                                  (255ULL << 24) + 1,
                                  1ULL << 32,
                                  10ULL << 32};
  for (std::uint64_t start : starts) {
    for (std::uint64_t delta : deltas) {
      SCOPED_TRACE(testing::Message() << "start " << start << " delta " << delta);
      Harness h;
      h.advance_to(tick_at(start));
      ASSERT_EQ(h.wheel.now(), tick_at(start));
      h.at(tick_at(start + delta));
      h.at(tick_at(start + delta) - 1ns);  // same tick, earlier deadline: fires first
      h.at(tick_at(start + delta) + 1ns);  // one tick later
      EXPECT_EQ(h.advance_to(tick_at(start + delta - 1)), 0U);
      EXPECT_EQ(h.wheel.size(), 3U);
      EXPECT_EQ(h.advance_to(tick_at(start + delta)), 2U);
      EXPECT_EQ(h.advance_to(tick_at(start + delta + 1)), 1U);
      ASSERT_EQ(h.ids(), (std::vector<int>{1, 0, 2}));
      EXPECT_EQ(h.fired[0].wheel_now, tick_at(start + delta));
      EXPECT_EQ(h.fired[2].wheel_now, tick_at(start + delta + 1));
      EXPECT_EQ(h.wheel.size(), 0U);
      EXPECT_EQ(h.wheel.next_deadline(), Instant::max());
    }
  }
}

TEST(TimerWheel, LevelsFollowTheSpan) {
  EXPECT_EQ(TimerWheel(kOrigin, 1ms, 255ms).levels(), 1U);
  EXPECT_EQ(TimerWheel(kOrigin, 1ms, 256ms).levels(), 2U);
  EXPECT_EQ(TimerWheel(kOrigin, 1ms, 2h).levels(), 3U);
  EXPECT_EQ(TimerWheel(kOrigin).levels(), 4U);
  EXPECT_EQ(TimerWheel(kOrigin, 1ns, Duration::max()).levels(), 8U);
  EXPECT_GE(TimerWheel(kOrigin, 1ms, 2h).horizon(), 2h);
  EXPECT_GE(TimerWheel(kOrigin).horizon(), TimerWheel::kDefaultSpan);
  EXPECT_EQ(TimerWheel(kOrigin, 1ms, 2h).horizon(), 255ms * 65536);
}

// Deadlines at and past the horizon, on wheels of 1, 2 and 3 levels: parked at the
// farthest tick, re-placed, and fired exactly at their deadline.
TEST(TimerWheel, BeyondTheHorizonStillFiresOnTime) {
  for (Duration span : {Duration{100ms}, Duration{60s}, Duration{2h}}) {
    SCOPED_TRACE(testing::Message() << "span " << span.count());
    Harness h(1ms, span);
    const Duration horizon = h.wheel.horizon();
    h.advance_to(kOrigin + 77ms);  // not on a block boundary
    const Duration delays[] = {horizon - 1ms, horizon, horizon + 1ms, 10 * horizon + 3ms,
                               1000 * horizon + 1ns};
    for (Duration d : delays) {
      h.at(h.clock.now() + d);
    }
    Timer never([](Timer&, void*) noexcept { ADD_FAILURE() << "fired at Instant::max()"; },
                nullptr);
    h.wheel.schedule(never, Instant::max());
    for (std::size_t i = 0; i < std::size(delays); ++i) {
      const Instant due = kOrigin + 77ms + delays[i];
      const Instant due_tick =
          tick_at(static_cast<std::uint64_t>((due - kOrigin + 1ms - 1ns) / 1ms));
      EXPECT_EQ(h.advance_to(due_tick - 1ms), 0U) << i;
      EXPECT_EQ(h.advance_to(due_tick), 1U) << i;
      ASSERT_EQ(h.fired.size(), i + 1);
      EXPECT_EQ(h.fired.back().id, static_cast<int>(i));
      EXPECT_EQ(h.fired.back().wheel_now, due_tick);
    }
    EXPECT_EQ(h.wheel.size(), 1U);
    EXPECT_TRUE(never.scheduled());
    EXPECT_LT(h.wheel.next_deadline(), Instant::max());
  }
}

TEST(TimerWheel, SameTickRunsInDeadlineOrderTiesInSchedulingOrder) {
  Harness h;
  h.at(kOrigin + 900us);  // 0
  h.at(kOrigin + 100us);  // 1
  h.at(kOrigin + 500us);  // 2
  h.at(kOrigin + 500us);  // 3: tie with 2, scheduled after it
  h.at(kOrigin + 1ms);    // 4
  h.at(kOrigin + 100us);  // 5: tie with 1
  EXPECT_EQ(h.advance_to(kOrigin + 1ms), 6U);
  EXPECT_EQ(h.ids(), (std::vector<int>{1, 5, 2, 3, 0, 4}));
}

TEST(TimerWheel, TiesKeepSchedulingOrderAcrossCascades) {
  Harness h;
  const Instant due = kOrigin + 70'000ms + 300us;  // level 2 from tick 0
  h.at(due);                                       // 0
  h.advance_to(kOrigin + 65'600ms);                // 0 has cascaded to level 1
  h.at(due);                                       // 1
  h.at(due - 1ns);                                 // 2
  h.advance_to(kOrigin + 69'999ms + 500us);        // 0, 1, 2 now in level 0
  h.at(due);                                       // 3
  EXPECT_EQ(h.advance_to(due + 1ms), 4U);
  EXPECT_EQ(h.ids(), (std::vector<int>{2, 0, 1, 3}));
}

TEST(TimerWheel, LargeJumpFiresScatteredTimersInOrderAtTheirOwnTicks) {
  Harness h;
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<Duration::rep> pick(0, Duration{5h}.count());
  std::vector<Instant> deadlines;
  for (int i = 0; i < 2000; ++i) {
    deadlines.push_back(kOrigin + Duration{pick(rng)});
    h.at(deadlines.back());
  }
  EXPECT_EQ(h.advance_to(kOrigin + 6h), 2000U);
  ASSERT_EQ(h.fired.size(), 2000U);
  for (std::size_t i = 0; i < h.fired.size(); ++i) {
    const Fired& f = h.fired[i];
    EXPECT_EQ(f.deadline, deadlines[static_cast<std::size_t>(f.id)]);
    EXPECT_GE(f.wheel_now, f.deadline);
    EXPECT_LT(f.wheel_now - f.deadline, 1ms);
    if (i > 0) {
      EXPECT_GE(f.deadline, h.fired[i - 1].deadline);
    }
  }
}

TEST(TimerWheel, CallbackCancelsATimerDueInTheSameTick) {
  Harness h;
  auto& a = h.at(kOrigin + 200us);
  auto& b = h.at(kOrigin + 800us);
  auto& c = h.at(kOrigin + 900us);
  a.action = [&] { h.wheel.cancel(b.timer); };
  EXPECT_EQ(h.advance_to(kOrigin + 1ms), 2U);
  EXPECT_EQ(h.ids(), (std::vector<int>{a.id, c.id}));
  EXPECT_FALSE(b.timer.scheduled());
  EXPECT_EQ(h.wheel.size(), 0U);
}

TEST(TimerWheel, CallbackCancelsALaterTimerAndItself) {
  Harness h;
  auto& a = h.at(kOrigin + 1ms);
  auto& later = h.at(kOrigin + 300s);
  a.action = [&] {
    h.wheel.cancel(later.timer);
    h.wheel.cancel(a.timer);  // already unscheduled while its callback runs
  };
  EXPECT_EQ(h.wheel.size(), 2U);
  EXPECT_EQ(h.advance_to(kOrigin + 1h), 1U);
  EXPECT_EQ(h.ids(), (std::vector<int>{a.id}));
  EXPECT_EQ(h.wheel.size(), 0U);
  EXPECT_EQ(h.wheel.next_deadline(), Instant::max());
}

TEST(TimerWheel, CallbackReschedulesATimerDueInTheSameTick) {
  Harness h;
  auto& a = h.at(kOrigin + 100us);
  auto& b = h.at(kOrigin + 500us);
  a.action = [&] { h.wheel.schedule(b.timer, kOrigin + 3ms); };
  EXPECT_EQ(h.advance_to(kOrigin + 1ms), 1U);
  EXPECT_EQ(h.advance_to(kOrigin + 2ms), 0U);
  EXPECT_EQ(h.advance_to(kOrigin + 3ms), 1U);
  EXPECT_EQ(h.ids(), (std::vector<int>{a.id, b.id}));
  EXPECT_EQ(h.fired.back().wheel_now, kOrigin + 3ms);
}

TEST(TimerWheel, PeriodicTimerReArmsItselfPrecisely) {
  for (bool one_step : {false, true}) {
    Harness h;
    auto& p = h.at(kOrigin + 7ms);
    p.action = [&] { h.wheel.schedule(p.timer, h.wheel.now() + 7ms); };
    if (one_step) {
      EXPECT_EQ(h.advance_to(kOrigin + 7000ms), 1000U);
    } else {
      for (int i = 0; i < 7000; ++i) {
        h.advance_by(1ms);
      }
    }
    ASSERT_EQ(h.fired.size(), 1000U);
    for (std::size_t i = 0; i < h.fired.size(); ++i) {
      EXPECT_EQ(h.fired[i].wheel_now, kOrigin + 7ms * static_cast<int>(i + 1));
    }
    EXPECT_TRUE(p.timer.scheduled());
  }
}

TEST(TimerWheel, PastOrCurrentDeadlineFiresOnTheNextTickNotThisOne) {
  Harness h;
  h.advance_to(kOrigin + 10ms + 300us);
  h.at(kOrigin - 5s);          // before the origin
  h.at(kOrigin + 3ms);         // in the past
  h.at(kOrigin + 10ms);        // exactly the current tick
  h.at(kOrigin + 10ms + 1ns);  // due in the next tick anyway
  EXPECT_EQ(h.advance_to(kOrigin + 10ms + 999us), 0U);
  EXPECT_EQ(h.advance_to(kOrigin + 11ms), 4U);
  EXPECT_EQ(h.ids(), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(h.fired[0].wheel_now, kOrigin + 11ms);
}

TEST(TimerWheel, TimerScheduledForNowFromACallbackWaitsForTheNextTick) {
  Harness h;
  auto& a = h.at(kOrigin + 5ms);
  auto& b = h.probe();
  a.action = [&] { h.wheel.schedule(b.timer, h.wheel.now()); };
  EXPECT_EQ(h.advance_to(kOrigin + 5ms), 1U);
  EXPECT_TRUE(b.timer.scheduled());
  EXPECT_EQ(h.advance_to(kOrigin + 6ms), 1U);
  EXPECT_EQ(h.fired.back().id, b.id);
  EXPECT_EQ(h.fired.back().wheel_now, kOrigin + 6ms);
}

TEST(TimerWheel, RearmLazyLaterSkipsTheOldTimeAndFiresAtTheNew) {
  Harness h;
  auto& rto = h.at(kOrigin + 200ms);
  // An ACK every 10 ms pushes the deadline 200 ms past it.
  for (int i = 1; i <= 100; ++i) {
    h.advance_by(10ms);
    h.wheel.rearm_lazy(rto.timer, h.clock.now() + 200ms);
    ASSERT_TRUE(h.fired.empty()) << i;
  }
  EXPECT_EQ(rto.timer.deadline(), kOrigin + 1200ms);
  EXPECT_EQ(h.wheel.size(), 1U);
  EXPECT_EQ(h.advance_to(kOrigin + 1199ms), 0U);
  EXPECT_EQ(h.advance_to(kOrigin + 1200ms), 1U);
  EXPECT_EQ(h.fired.back().wheel_now, kOrigin + 1200ms);
  EXPECT_EQ(h.wheel.size(), 0U);
}

TEST(TimerWheel, RearmLazyFarLaterAcrossLevelsAndBeyondTheHorizon) {
  Harness h(1ms, 2h);
  auto& t = h.at(kOrigin + 3ms);
  h.wheel.rearm_lazy(t.timer, kOrigin + 90s + 1ns);
  EXPECT_EQ(h.advance_to(kOrigin + 90s), 0U);
  h.wheel.rearm_lazy(t.timer, kOrigin + 30 * 24h);  // far beyond the 4.6 h horizon
  EXPECT_EQ(h.advance_to(kOrigin + 30 * 24h - 1ms), 0U);
  EXPECT_EQ(h.advance_to(kOrigin + 30 * 24h), 1U);
  EXPECT_EQ(h.fired.back().wheel_now, kOrigin + 30 * 24h);
}

TEST(TimerWheel, RearmLazyEarlierFiresAtTheEarlierTime) {
  Harness h;
  auto& t = h.at(kOrigin + 500ms);
  h.wheel.rearm_lazy(t.timer, kOrigin + 20ms);
  EXPECT_EQ(h.advance_to(kOrigin + 19ms), 0U);
  EXPECT_EQ(h.advance_to(kOrigin + 20ms), 1U);
  EXPECT_EQ(h.advance_to(kOrigin + 1s), 0U);
  EXPECT_EQ(h.fired.size(), 1U);
}

TEST(TimerWheel, RearmLazyOfAnIdleTimerSchedulesIt) {
  Harness h;
  auto& t = h.probe();
  h.wheel.rearm_lazy(t.timer, kOrigin + 4ms);
  EXPECT_TRUE(t.timer.scheduled());
  EXPECT_EQ(h.advance_to(kOrigin + 4ms), 1U);
}

TEST(TimerWheel, RearmLazyFromACallbackOfATimerDueInTheSameTick) {
  Harness h;
  auto& a = h.at(kOrigin + 100us);
  auto& b = h.at(kOrigin + 900us);
  a.action = [&] { h.wheel.rearm_lazy(b.timer, kOrigin + 50ms); };
  EXPECT_EQ(h.advance_to(kOrigin + 1ms), 1U);
  EXPECT_TRUE(b.timer.scheduled());
  EXPECT_EQ(h.advance_to(kOrigin + 49ms), 0U);
  EXPECT_EQ(h.advance_to(kOrigin + 50ms), 1U);
  EXPECT_EQ(h.fired.back().id, b.id);
}

TEST(TimerWheel, DestroyingAScheduledTimerUnlinksIt) {
  Harness h;
  int hits = 0;
  const auto count = [](Timer&, void* ctx) noexcept { ++*static_cast<int*>(ctx); };
  auto alone = std::make_unique<Timer>(count, &hits);
  auto first = std::make_unique<Timer>(count, &hits);
  Timer second(count, &hits);
  h.wheel.schedule(*alone, kOrigin + 40s);
  h.wheel.schedule(*first, kOrigin + 5ms);
  h.wheel.schedule(second, kOrigin + 5ms);  // same slot as *first
  EXPECT_EQ(h.wheel.size(), 3U);
  alone.reset();
  EXPECT_EQ(h.wheel.size(), 2U);
  first.reset();
  EXPECT_EQ(h.wheel.size(), 1U);
  EXPECT_EQ(h.wheel.next_deadline(), kOrigin + 5ms);
  EXPECT_EQ(h.advance_to(kOrigin + 1h), 1U);
  EXPECT_EQ(hits, 1);
  EXPECT_EQ(h.wheel.size(), 0U);
  EXPECT_EQ(h.wheel.next_deadline(), Instant::max());
}

TEST(TimerWheel, CallbackDestroysATimerDueInTheSameTick) {
  Harness h;
  auto& a = h.at(kOrigin + 100us);
  int hits = 0;
  auto victim =
      std::make_unique<Timer>([](Timer&, void* ctx) noexcept { ++*static_cast<int*>(ctx); }, &hits);
  h.wheel.schedule(*victim, kOrigin + 600us);
  a.action = [&] { victim.reset(); };
  EXPECT_EQ(h.advance_to(kOrigin + 1ms), 1U);
  EXPECT_EQ(hits, 0);
  EXPECT_EQ(h.wheel.size(), 0U);
}

TEST(TimerWheel, CallbackMayDestroyItsOwnTimer) {
  TimerWheel wheel(kOrigin);
  struct Owner {
    std::unique_ptr<Timer> timer;
    int hits = 0;
  } owner;
  owner.timer = std::make_unique<Timer>(
      [](Timer&, void* ctx) noexcept {
        auto* o = static_cast<Owner*>(ctx);
        ++o->hits;
        o->timer.reset();
      },
      &owner);
  wheel.schedule(*owner.timer, kOrigin + 1ms);
  EXPECT_EQ(wheel.advance(kOrigin + 1ms), 1U);
  EXPECT_EQ(owner.hits, 1);
  EXPECT_EQ(owner.timer, nullptr);
}

TEST(TimerWheel, DestroyingTheWheelUnschedulesItsTimers) {
  Timer timer([](Timer&, void*) noexcept {}, nullptr);
  {
    TimerWheel wheel(kOrigin);
    wheel.schedule(timer, kOrigin + 1s);
    EXPECT_TRUE(timer.scheduled());
  }
  EXPECT_FALSE(timer.scheduled());
}

TEST(TimerWheel, SchedulingOnAnotherWheelMovesTheTimer) {
  Harness h;
  TimerWheel other(kOrigin);
  auto& t = h.at(kOrigin + 5ms);
  other.schedule(t.timer, kOrigin + 5ms);
  EXPECT_EQ(h.wheel.size(), 0U);
  EXPECT_EQ(other.size(), 1U);
  EXPECT_EQ(h.advance_to(kOrigin + 10ms), 0U);
  EXPECT_EQ(other.advance(kOrigin + 10ms), 1U);
  h.wheel.cancel(t.timer);  // not scheduled anywhere: nothing happens
}

TEST(TimerWheel, NextDeadlineIsExactInLevelZeroAndACascadePointAbove) {
  Harness h;
  EXPECT_EQ(h.wheel.next_deadline(), Instant::max());
  auto& near = h.at(kOrigin + 5ms + 1ns);
  EXPECT_EQ(h.wheel.next_deadline(), kOrigin + 6ms);
  h.wheel.cancel(near.timer);
  EXPECT_EQ(h.wheel.next_deadline(), Instant::max());

  // 70 000 ticks = 0x1'11'70: cascade at tick 0x1'00'00, then at 0x1'11'00, then due.
  h.at(kOrigin + 70'000ms);
  std::vector<Instant> stops;
  while (h.fired.empty()) {
    const Instant next = h.wheel.next_deadline();
    ASSERT_LE(next, kOrigin + 70'000ms);
    ASSERT_GT(next, h.clock.now());
    stops.push_back(next);
    h.advance_to(next);
    ASSERT_LE(stops.size(), 3U);
  }
  EXPECT_EQ(stops,
            (std::vector<Instant>{kOrigin + 65'536ms, kOrigin + 69'888ms, kOrigin + 70'000ms}));
}

TEST(TimerWheel, AdvanceBackwardsOrWithinTheTickDoesNothing) {
  Harness h;
  h.advance_to(kOrigin + 10ms);
  h.at(kOrigin + 11ms);
  EXPECT_EQ(h.wheel.advance(kOrigin + 5ms), 0U);
  EXPECT_EQ(h.wheel.advance(kOrigin - 1h), 0U);
  EXPECT_EQ(h.wheel.now(), kOrigin + 10ms);
  EXPECT_EQ(h.wheel.advance(kOrigin + 10ms + 999999ns), 0U);
  EXPECT_EQ(h.wheel.now(), kOrigin + 10ms);
  EXPECT_EQ(h.wheel.advance(kOrigin + 11ms), 1U);
}

TEST(TimerWheel, SubMillisecondTicks) {
  Harness h(10us, 1s);
  h.at(kOrigin + 25us);
  h.at(kOrigin + 20us);
  EXPECT_EQ(h.advance_to(kOrigin + 20us), 1U);
  EXPECT_EQ(h.advance_to(kOrigin + 29us), 0U);
  EXPECT_EQ(h.advance_to(kOrigin + 30us), 1U);
  EXPECT_EQ(h.ids(), (std::vector<int>{1, 0}));
}

TEST(TimerWheel, IdleGapOfYearsIsSkipped) {
  Harness h;
  auto& t = h.at(kOrigin + 3 * 365 * 24h);
  EXPECT_EQ(h.advance_to(kOrigin + 3 * 365 * 24h - 1ms), 0U);
  EXPECT_EQ(h.advance_to(kOrigin + 3 * 365 * 24h), 1U);
  EXPECT_EQ(h.fired.back().id, t.id);
}

}  // namespace
}  // namespace sluice::time
