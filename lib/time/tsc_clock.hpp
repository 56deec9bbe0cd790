// TscClock: the production Clock. Reads the CPU time-stamp counter and converts cycles to
// nanoseconds with a fixed-point multiplier calibrated once against std::chrono::steady_clock,
// so now() costs one rdtsc, one multiply and one shift (no division, no system call).
//
// Assumes an invariant TSC (constant rate, synchronised across cores), which every x86 CPU
// DPDK supports provides. On other architectures it falls back to steady_clock.
#pragma once

#include <cstdint>

#include "time/clock.hpp"

namespace sluice::time {

class TscClock final : public Clock {
 public:
  /// Calibrates for about `calibration` (busy-waits; call at setup, not on the data path).
  /// Instants it returns share steady_clock's epoch, so they are comparable across
  /// TscClock objects and with steady_clock::now().time_since_epoch().
  explicit TscClock(Duration calibration = std::chrono::milliseconds(15)) noexcept;

  [[nodiscard]] Instant now() const noexcept override;

  /// Measured TSC frequency in Hz (0 on the steady_clock fallback).
  [[nodiscard]] double tsc_hz() const noexcept { return tsc_hz_; }

 private:
  static constexpr unsigned kShift = 32;  // fixed point: ns = (cycles * mult_) >> kShift

  std::uint64_t tsc_epoch_ = 0;  // TSC value at epoch_
  std::uint64_t mult_ = 0;       // nanoseconds per cycle, times 2^kShift
  Instant epoch_;                // steady_clock time when the TSC read tsc_epoch_
  double tsc_hz_ = 0;
};

}  // namespace sluice::time
