// Monotonic time for sluice: the Instant and Duration types, and the Clock interface that
// the poll loop reads once per iteration (TscClock in production, ManualClock in tests).
//
// Instants are nanoseconds since an arbitrary per-process epoch. They are only compared
// and subtracted, never turned into wall-clock time.
#pragma once

#include <chrono>
#include <cstdint>
#include <ratio>

namespace sluice::time {

/// Tag clock for Instant. It has no now(): time is read through a Clock object, so that
/// tests substitute a ManualClock and nothing reads a global clock behind their back.
struct MonoClock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<MonoClock, duration>;
  static constexpr bool is_steady = true;
};

using Duration = std::chrono::nanoseconds;
using Instant = MonoClock::time_point;

/// A source of monotonic time.
class Clock {
 public:
  Clock() noexcept = default;
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;
  virtual ~Clock();

  /// Current time. Post: never smaller than the value returned by an earlier call.
  [[nodiscard]] virtual Instant now() const noexcept = 0;
};

}  // namespace sluice::time
