// ManualClock: a Clock that moves only when told to. Tests and simulations drive timers
// with it, so that RTO, persist, keepalive and 2MSL fire instantly and deterministically.
#pragma once

#include <cassert>

#include "time/clock.hpp"

namespace sluice::time {

class ManualClock final : public Clock {
 public:
  explicit ManualClock(Instant start = Instant{}) noexcept : now_(start) {}

  [[nodiscard]] Instant now() const noexcept override { return now_; }

  /// Moves the clock to `t`. Pre: t >= now() (monotonic time never goes backwards).
  void set(Instant t) noexcept {
    assert(t >= now_);
    now_ = t;
  }

  /// Moves the clock forward by `d`. Pre: d >= 0.
  void advance(Duration d) noexcept {
    assert(d >= Duration::zero());
    now_ += d;
  }

 private:
  Instant now_;
};

}  // namespace sluice::time
