// RttEstimator: smoothed round-trip time and the retransmission timeout of one connection.
//
// Implements RFC 6298 §2 (SRTT, RTTVAR, RTO with clock granularity G and the lower and upper
// bounds) and §5.5 (exponential back-off of the timer). Karn's algorithm (RFC 6298 §3) is the
// caller's job: it passes only samples taken from segments that were not retransmitted, or
// from echoed timestamps (RFC 7323 §4), which are unambiguous. Pure arithmetic: no clock, no
// timers, no allocation; the sender reads rto() when it (re)arms the retransmission timer.
#pragma once

#include <chrono>
#include <cstdint>

#include "time/clock.hpp"

namespace sluice::tcp {

class RttEstimator {
 public:
  using Duration = time::Duration;

  /// Clock granularity G of RFC 6298 §2: the RTO is never closer to SRTT than this.
  static constexpr Duration kClockGranularity = std::chrono::milliseconds{1};
  /// Samples above this are treated as this value: only a bug or a clock jump yields them,
  /// and capping keeps the fixed-point updates far away from overflow.
  static constexpr Duration kMaxSample = std::chrono::hours{1};

  /// Pre: initial_rto, min_rto, max_rto > 0 and min_rto <= max_rto. Out-of-range values are
  /// repaired rather than rejected (a library never aborts): min_rto is raised to 1 ns,
  /// max_rto to min_rto, and the initial RTO is clamped into [min_rto, max_rto].
  /// Post: has_sample() is false and rto() is the clamped initial_rto (RFC 6298 §2.1).
  RttEstimator(Duration initial_rto, Duration min_rto, Duration max_rto) noexcept;

  /// Feeds one valid RTT measurement R (RFC 6298 §2.2 for the first one, §2.3 afterwards),
  /// recomputes the RTO (§2.4, §2.5) and clears the back-off: a valid sample means the path
  /// delivers again (RFC 6298 §5, the note after step 5.7, and Karn's algorithm).
  /// Pre: the sample comes from a segment not retransmitted, or from a timestamp echo.
  /// Negative samples are ignored.
  void on_sample(Duration rtt) noexcept;

  /// The timeout to arm now: the base RTO doubled backoff_count() times, never above max_rto.
  [[nodiscard]] Duration rto() const noexcept;

  /// RFC 6298 §5.5: the retransmission timer expired; the next RTO is twice the current one
  /// (saturating at max_rto).
  void backoff() noexcept;

  /// Forgets the back-off without a new sample (for example after a new connection state
  /// makes the old back-off meaningless). Post: backoff_count() == 0.
  void reset_backoff() noexcept { backoff_ = 0; }

  /// How many times backoff() was called since the last sample or reset_backoff().
  [[nodiscard]] unsigned backoff_count() const noexcept { return backoff_; }

  [[nodiscard]] bool has_sample() const noexcept { return has_sample_; }
  /// Smoothed RTT; zero before the first sample.
  [[nodiscard]] Duration srtt() const noexcept { return srtt_; }
  /// RTT variation; zero before the first sample.
  [[nodiscard]] Duration rttvar() const noexcept { return rttvar_; }

 private:
  Duration min_;
  Duration max_;
  Duration base_rto_;  ///< RTO before back-off, already clamped to [min_, max_]
  Duration srtt_{0};
  Duration rttvar_{0};
  unsigned backoff_ = 0;
  bool has_sample_ = false;
};

}  // namespace sluice::tcp
