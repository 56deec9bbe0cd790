// TscClock: calibration of the TSC against steady_clock and the cycles-to-ns conversion.
#include "time/tsc_clock.hpp"

#include <chrono>
#include <cmath>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define SLUICE_HAVE_TSC 1
#else
#define SLUICE_HAVE_TSC 0
#endif

namespace sluice::time {
namespace {

using SteadyClock = std::chrono::steady_clock;

Instant steady_now() noexcept {
  return Instant{std::chrono::duration_cast<Duration>(SteadyClock::now().time_since_epoch())};
}

#if SLUICE_HAVE_TSC
__extension__ using Uint128 = unsigned __int128;

struct Sample {
  std::uint64_t tsc;
  Instant at;
};

// One (TSC, steady_clock) pair. The TSC is read between two clock reads and paired with
// their midpoint; of a few tries, the tightest bracket wins (a preemption or an SMI in
// between would otherwise skew the calibration).
Sample sample() noexcept {
  Sample best{};
  Duration best_width = Duration::max();
  for (int i = 0; i < 5; ++i) {
    const Instant before = steady_now();
    const std::uint64_t tsc = __rdtsc();
    const Instant after = steady_now();
    if (after - before < best_width) {
      best_width = after - before;
      best = Sample{tsc, before + (after - before) / 2};
    }
  }
  return best;
}
#endif

}  // namespace

TscClock::TscClock(Duration calibration) noexcept {
#if SLUICE_HAVE_TSC
  const Sample start = sample();
  while (steady_now() - start.at < calibration) {
    // busy-wait: sleeping would add scheduler latency to nothing, the TSC keeps counting
  }
  const Sample end = sample();
  const auto ns = static_cast<double>((end.at - start.at).count());
  const auto cycles = static_cast<double>(end.tsc - start.tsc);
  if (ns > 0 && cycles > 0) {
    tsc_hz_ = cycles * 1e9 / ns;
    mult_ = static_cast<std::uint64_t>(std::llround(ns / cycles * std::ldexp(1.0, kShift)));
  }
  tsc_epoch_ = start.tsc;
  epoch_ = start.at;
#else
  (void)calibration;
#endif
}

Instant TscClock::now() const noexcept {
#if SLUICE_HAVE_TSC
  if (mult_ != 0) {
    // The TSC is read without a fence: a few cycles of reordering do not matter at the
    // wheel's millisecond tick, and the invariant TSC never runs backwards on one core.
    const std::uint64_t cycles = __rdtsc() - tsc_epoch_;
    const auto ns = static_cast<std::uint64_t>((Uint128{cycles} * mult_) >> kShift);
    return epoch_ + Duration{static_cast<Duration::rep>(ns)};
  }
#endif
  return steady_now();
}

}  // namespace sluice::time
