// Tests of Timer on its own: size, callback binding, and what scheduled() reports.
#include "time/timer.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "time/timer_wheel.hpp"

namespace sluice::time {
namespace {

using namespace std::chrono_literals;

static_assert(sizeof(Timer) <= 48);

struct Owner {
  int plain_calls = 0;
  int with_timer_calls = 0;
  Timer* seen = nullptr;
  void on_plain() noexcept { ++plain_calls; }
  void on_with_timer(Timer& t) noexcept {
    ++with_timer_calls;
    seen = &t;
  }
};

TEST(Timer, MakeBindsAMemberFunctionWithOrWithoutTheTimer) {
  Owner owner;
  Timer plain = Timer::make<&Owner::on_plain>(owner);
  Timer with_timer{Timer::make<&Owner::on_with_timer>(owner)};
  TimerWheel wheel(Instant{});
  wheel.schedule(plain, Instant{1ms});
  wheel.schedule(with_timer, Instant{1ms});
  EXPECT_EQ(wheel.advance(Instant{1ms}), 2U);
  EXPECT_EQ(owner.plain_calls, 1);
  EXPECT_EQ(owner.with_timer_calls, 1);
  EXPECT_EQ(owner.seen, &with_timer);
}

TEST(Timer, BindAndSetCallbackReplaceTheCallback) {
  Owner owner;
  Timer timer;
  timer.bind<&Owner::on_plain>(owner);
  TimerWheel wheel(Instant{});
  wheel.schedule(timer, Instant{1ms});
  wheel.advance(Instant{1ms});
  EXPECT_EQ(owner.plain_calls, 1);

  int hits = 0;
  timer.set_callback([](Timer&, void* ctx) noexcept { ++*static_cast<int*>(ctx); }, &hits);
  wheel.schedule(timer, Instant{2ms});
  wheel.advance(Instant{2ms});
  EXPECT_EQ(hits, 1);
  EXPECT_EQ(owner.plain_calls, 1);
}

TEST(Timer, ScheduledAndDeadlineFollowTheWheel) {
  Owner owner;
  Timer timer = Timer::make<&Owner::on_plain>(owner);
  EXPECT_FALSE(timer.scheduled());
  TimerWheel wheel(Instant{});
  wheel.schedule(timer, Instant{3ms + 1ns});
  EXPECT_TRUE(timer.scheduled());
  EXPECT_EQ(timer.deadline(), Instant{3ms + 1ns});
  wheel.rearm_lazy(timer, Instant{9ms});
  EXPECT_TRUE(timer.scheduled());
  EXPECT_EQ(timer.deadline(), Instant{9ms});
  wheel.cancel(timer);
  EXPECT_FALSE(timer.scheduled());
  wheel.cancel(timer);  // cancelling an idle timer does nothing
  EXPECT_FALSE(timer.scheduled());
  EXPECT_EQ(wheel.advance(Instant{1s}), 0U);
  EXPECT_EQ(owner.plain_calls, 0);
}

}  // namespace
}  // namespace sluice::time
