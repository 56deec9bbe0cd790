// CUBIC congestion control, RFC 9438 §4.2-4.8, §4.10 and §5.8.
#include "tcp/cc/cubic.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace sluice::tcp {

namespace {

double seconds(time::Duration d) noexcept {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

void Cubic::init(std::uint32_t mss, time::Instant now) noexcept {
  reset_window(mss);
  cwnd_exact_ = cwnd_;
  w_max_ = 0;
  cwnd_prior_ = 0;
  k_ = 0;
  w_est_ = 0;
  epoch_start_ = now;
  last_ack_ = now;
  rtt_ = time::Duration::zero();
  epoch_started_ = false;
}

double Cubic::w_cubic(double t_seconds) const noexcept {
  // RFC 9438 §4.2 Figure 1: W_cubic(t) = C * (t - K)^3 + W_max.
  const double d = t_seconds - k_;
  return kC * d * d * d + w_max_;
}

void Cubic::start_epoch(double cwnd_segments, time::Instant now) noexcept {
  epoch_started_ = true;
  epoch_start_ = now;
  if (w_max_ <= cwnd_segments) {
    // No W_max to return to: the first congestion avoidance stage of the connection
    // (§4.10), the one after a timeout (§4.8), or cwnd already above W_max. K = 0 and
    // W_max = cwnd at the start of the stage, so growth is convex from here.
    if (cwnd_prior_ == 0) cwnd_prior_ = cwnd_;  // §4.1.2: upon exiting the first slow start
    w_max_ = cwnd_segments;
    k_ = 0;
  } else {
    // §4.2 Figure 2: K = cubic_root((W_max - cwnd_epoch) / C).
    k_ = std::cbrt((w_max_ - cwnd_segments) / kC);
  }
  w_est_ = cwnd_segments;  // §4.3: W_est = cwnd_epoch at the start of the stage
}

void Cubic::on_ack(std::uint32_t acked, std::uint32_t bytes_in_flight, time::Duration rtt,
                   time::Instant now) noexcept {
  if (rtt > time::Duration::zero()) rtt_ = rtt;
  // The sender may have moved cwnd (set_cwnd() during recovery): follow it.
  if (static_cast<std::uint32_t>(cwnd_exact_) != cwnd_) cwnd_exact_ = cwnd_;
  if (acked == 0) return;

  if (!window_validated(bytes_in_flight)) {
    // §5.8: application-limited, no growth; and t must not count this period, so the
    // epoch moves forward by the time since the previous ACK.
    if (epoch_started_ && now > last_ack_) epoch_start_ += now - last_ack_;
    last_ack_ = now;
    return;
  }
  last_ack_ = now;

  if (in_slow_start()) {
    acked = slow_start(acked);  // §4.10: as Reno (RFC 5681 §3.1, RFC 3465)
    cwnd_exact_ = cwnd_;
    if (acked == 0) return;
  }
  congestion_avoidance(acked, now);
}

void Cubic::congestion_avoidance(std::uint32_t acked, time::Instant now) noexcept {
  const double mss = mss_;
  const double cwnd = cwnd_exact_ / mss;  // segments
  if (!epoch_started_) start_epoch(cwnd, now);
  const double t = seconds(now - epoch_start_);
  const double segments_acked = acked / mss;

  // §4.3 Figure 4: W_est += alpha_cubic * segments_acked / cwnd, with alpha_cubic = 1 once
  // W_est has reached cwnd_prior.
  const double alpha = w_est_ * mss >= cwnd_prior_ ? 1.0 : kAlpha;
  w_est_ += alpha * segments_acked / cwnd;

  double next;
  if (w_cubic(t) < w_est_) {
    // §4.3: Reno-friendly region, cwnd = W_est (never shrinking on an ACK).
    next = std::max(cwnd, w_est_);
  } else {
    // §4.2: target = W_cubic(t + RTT) clamped to [cwnd, 1.5 * cwnd]; §4.4 (concave) and
    // §4.5 (convex): cwnd += (target - cwnd) / cwnd per acknowledged segment.
    const double target = std::clamp(w_cubic(t + seconds(rtt_)), cwnd, 1.5 * cwnd);
    next = cwnd + (target - cwnd) / cwnd * segments_acked;
  }
  cwnd_exact_ = std::min(next * mss, static_cast<double>(kMaxCwnd));
  cwnd_ = static_cast<std::uint32_t>(cwnd_exact_);
}

void Cubic::congestion_event(std::uint32_t window) noexcept {
  const double cwnd = static_cast<double>(cwnd_) / mss_;
  // §4.7 fast convergence: a loss below the previous W_max means the available capacity
  // shrank; release some of it by aiming lower than the window at this loss.
  w_max_ = cwnd < w_max_ ? cwnd * (1.0 + kBeta) / 2.0 : cwnd;
  cwnd_prior_ = cwnd_;  // §4.6
  // §4.6 Figure 5: ssthresh = max(window * beta_cubic, 2 segments), in integers so that
  // 0.7 * window is not a byte short through binary rounding.
  const auto reduced =
      static_cast<std::uint32_t>(std::uint64_t{window} * kBetaNumerator / kBetaDenominator);
  ssthresh_ = std::max(reduced, 2 * mss_);
  epoch_started_ = false;
}

void Cubic::on_loss(std::uint32_t /*bytes_in_flight*/, time::Instant /*now*/) noexcept {
  // §4.6 allows cwnd in place of flight_size where cwnd cannot grow while the flight does
  // not use it (on_ack's window_validated(), RFC 7661). Linux and Windows do so, and so do
  // we: when the third duplicate ACK comes, most of the window that met the loss is often
  // already acknowledged. After a full window of 10 segments whose seventh was lost, the
  // flight is 4 and 0.7 * 4 segments leaves a window of 2, where 0.7 * cwnd leaves 7.
  congestion_event(cwnd_);
  cwnd_ = ssthresh_;  // §4.6: cwnd = max(ssthresh, 2)
  cwnd_exact_ = cwnd_;
}

void Cubic::on_recovery_exit(time::Instant /*now*/) noexcept {
  // RFC 6582 §3.2 step 3: deflate to ssthresh. The epoch starts at the next ACK.
  cwnd_ = ssthresh_;
  cwnd_exact_ = cwnd_;
  epoch_started_ = false;
}

void Cubic::on_rto(std::uint32_t bytes_in_flight, time::Instant /*now*/) noexcept {
  // §4.8: ssthresh as in §4.6, cwnd = loss window (RFC 5681 §3.1). In the first congestion
  // avoidance stage after the timeout K = 0 and W_max = cwnd at its start: undefine W_max.
  // A timeout inside a recovery whose window was already cut: everything sent before it
  // is still outstanding, so the larger of the two does not cut the same episode twice.
  congestion_event(std::max(cwnd_, bytes_in_flight));
  w_max_ = 0;
  enter_loss_window(ssthresh_);
  cwnd_exact_ = cwnd_;
}

void Cubic::on_idle_restart(time::Instant now) noexcept {
  restart_window();  // RFC 5681 §4.1
  cwnd_exact_ = cwnd_;
  // §5.8: the idle period must not count in t; start a new stage at the next ACK.
  epoch_started_ = false;
  last_ack_ = now;
}

}  // namespace sluice::tcp
