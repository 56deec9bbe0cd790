// Micro-benchmarks of lib/time: the costs the engine pays per connection event (schedule,
// cancel, lazy re-arm), per expiry, and per poll-loop iteration (advance).
#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <random>

#include "time/timer_wheel.hpp"

namespace {

using namespace std::chrono_literals;
using sluice::time::Duration;
using sluice::time::Instant;
using sluice::time::Timer;
using sluice::time::TimerWheel;

void noop(Timer&, void*) noexcept {}

// A delayed-ACK style timer: armed, then cancelled because data went out first.
void BM_ScheduleCancel(benchmark::State& state) {
  TimerWheel wheel(Instant{});
  Timer timer(&noop, nullptr);
  Duration delay = 40ms;
  for (auto _ : state) {
    wheel.schedule(timer, wheel.now() + delay);
    wheel.cancel(timer);
    delay = delay == 40ms ? 200ms : 40ms;  // alternate levels-0 slots
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ScheduleCancel);

// A retransmission timer pushed forward on every ACK.
void BM_ScheduleRearmLazy(benchmark::State& state) {
  TimerWheel wheel(Instant{});
  Timer timer(&noop, nullptr);
  Instant deadline = wheel.now() + 200ms;
  wheel.schedule(timer, deadline);
  for (auto _ : state) {
    deadline += 1ns;
    wheel.rearm_lazy(timer, deadline);
  }
  benchmark::DoNotOptimize(timer.deadline());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ScheduleRearmLazy);

// 1 M timers with random deadlines within 10 s, then one advance to the end: cost per
// timer of schedule + cascades + sorted expiry + callback.
void BM_Expire1M(benchmark::State& state) {
  constexpr std::size_t kCount = 1'000'000;
  auto timers = std::make_unique<Timer[]>(kCount);
  std::size_t fired = 0;
  for (std::size_t i = 0; i < kCount; ++i) {
    timers[i].set_callback([](Timer&, void* ctx) noexcept { ++*static_cast<std::size_t*>(ctx); },
                           &fired);
  }
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<Duration::rep> pick(1, Duration{10s}.count());
  for (auto _ : state) {
    TimerWheel wheel(Instant{});
    for (std::size_t i = 0; i < kCount; ++i) {
      wheel.schedule(timers[i], Instant{Duration{pick(rng)}});
    }
    fired += wheel.advance(Instant{10s});
  }
  benchmark::DoNotOptimize(fired);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kCount));
}
BENCHMARK(BM_Expire1M)->Unit(benchmark::kMillisecond);

// One poll-loop iteration with nothing due: advance by one tick.
void BM_AdvanceEmptyOneTick(benchmark::State& state) {
  TimerWheel wheel(Instant{});
  Instant now{};
  for (auto _ : state) {
    now += 1ms;
    benchmark::DoNotOptimize(wheel.advance(now));
  }
}
BENCHMARK(BM_AdvanceEmptyOneTick);

// Same, with 10 000 timers pending far ahead (the wheel is not empty, nothing is due).
void BM_AdvanceOneTickWithPendingTimers(benchmark::State& state) {
  TimerWheel wheel(Instant{});
  auto timers = std::make_unique<Timer[]>(10'000);
  for (int i = 0; i < 10'000; ++i) {
    timers[static_cast<std::size_t>(i)].set_callback(&noop, nullptr);
    wheel.schedule(timers[static_cast<std::size_t>(i)], Instant{1000h + i * 1ms});
  }
  Instant now{};
  for (auto _ : state) {
    now += 1ms;
    benchmark::DoNotOptimize(wheel.advance(now));
  }
}
BENCHMARK(BM_AdvanceOneTickWithPendingTimers);

// A 2-hour idle gap crossed in one advance, with a keepalive-like timer beyond it.
void BM_AdvanceIdleGap2h(benchmark::State& state) {
  TimerWheel wheel(Instant{});
  Timer far(&noop, nullptr);
  Instant now{};
  for (auto _ : state) {
    wheel.schedule(far, now + 3h);
    now += 2h;
    benchmark::DoNotOptimize(wheel.advance(now));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AdvanceIdleGap2h);

}  // namespace

BENCHMARK_MAIN();
