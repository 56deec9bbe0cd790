// Cubic: CUBIC congestion control, RFC 9438.
//
// Implements RFC 9438 §4.2 (window increase function W_cubic(t) = C*(t-K)^3 + W_max with
// K = cubic_root((W_max - cwnd_epoch)/C), target clamped to [cwnd, 1.5*cwnd]), §4.3 (Reno-
// friendly region with W_est and alpha_cubic), §4.4-4.5 (concave and convex regions: cwnd
// grows by (target - cwnd)/cwnd per acknowledged segment), §4.6 (multiplicative decrease with
// beta_cubic = 0.7), §4.7 (fast convergence), §4.8 (timeout), §4.10 (slow start as Reno; no
// HyStart++) and §5.8 (no growth while application-limited, and t excludes those periods).
//
// Units: the formulas run in double, with t in seconds and windows in segments of the current
// MSS, as the RFC writes them; cwnd itself stays in bytes. cwnd_exact_ keeps the fractional
// bytes that per-ACK increments of (target - cwnd)/cwnd produce.
//
// The epoch (the current congestion avoidance stage) starts at the first ACK in congestion
// avoidance after init, a loss, a timeout or an idle restart.
#pragma once

#include <cstdint>
#include <string_view>

#include "tcp/cc/congestion_control.hpp"

namespace sluice::tcp {

class Cubic final : public CongestionControl {
 public:
  /// RFC 9438 §5: C = 0.4 (segments / s^3).
  static constexpr double kC = 0.4;
  /// RFC 9438 §4.6: beta_cubic = 0.7, also as a fraction for byte arithmetic.
  static constexpr double kBeta = 0.7;
  static constexpr std::uint64_t kBetaNumerator = 7;
  static constexpr std::uint64_t kBetaDenominator = 10;
  /// RFC 9438 §4.3: alpha_cubic = 3 * (1 - beta_cubic) / (1 + beta_cubic).
  static constexpr double kAlpha = 3.0 * (1.0 - kBeta) / (1.0 + kBeta);

  Cubic() noexcept = default;

  void init(std::uint32_t mss, time::Instant now) noexcept override;
  void on_ack(std::uint32_t acked, std::uint32_t bytes_in_flight, time::Duration rtt,
              time::Instant now) noexcept override;
  void on_loss(std::uint32_t bytes_in_flight, time::Instant now) noexcept override;
  void on_recovery_exit(time::Instant now) noexcept override;
  void on_rto(std::uint32_t bytes_in_flight, time::Instant now) noexcept override;
  void on_idle_restart(time::Instant now) noexcept override;
  [[nodiscard]] std::string_view name() const noexcept override { return "cubic"; }

  // Observers, for tests and statistics.
  /// W_max in segments; 0 while undefined (before the first epoch, after a timeout).
  [[nodiscard]] double w_max_segments() const noexcept { return w_max_; }
  /// K in seconds of the current epoch; meaningful once epoch_started().
  [[nodiscard]] double k_seconds() const noexcept { return k_; }
  /// W_est of RFC 9438 §4.3 in segments; meaningful once epoch_started().
  [[nodiscard]] double w_est_segments() const noexcept { return w_est_; }
  [[nodiscard]] bool epoch_started() const noexcept { return epoch_started_; }

 private:
  [[nodiscard]] double w_cubic(double t_seconds) const noexcept;
  void start_epoch(double cwnd_segments, time::Instant now) noexcept;
  void congestion_avoidance(std::uint32_t acked, time::Instant now) noexcept;
  /// RFC 9438 §4.6-4.8 common part: W_max (with fast convergence), cwnd_prior, ssthresh.
  void congestion_event(std::uint32_t window) noexcept;

  // Ordered so that the small members fill the base class's tail padding (CcStorage size).
  std::uint32_t cwnd_prior_ = 0;  ///< bytes, cwnd when ssthresh was last set (§4.1.2); 0 = none
  bool epoch_started_ = false;
  double cwnd_exact_ = 0;  ///< cwnd in bytes with its fraction; cwnd_ is its integer part
  double w_max_ = 0;       ///< segments; 0 = undefined
  double k_ = 0;           ///< seconds
  double w_est_ = 0;       ///< segments (§4.3)
  time::Instant epoch_start_{};
  time::Instant last_ack_{};
  time::Duration rtt_{0};  ///< last non-zero smoothed RTT passed to on_ack()
};

}  // namespace sluice::tcp
