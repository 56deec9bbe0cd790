// NewReno window arithmetic: RFC 5681 §3.1, §3.2, §4.1; RFC 3465 §2; RFC 6582 §3.2.
#include "tcp/cc/new_reno.hpp"

#include <algorithm>

namespace sluice::tcp {

void NewReno::init(std::uint32_t mss, time::Instant /*now*/) noexcept {
  reset_window(mss);
  bytes_acked_ = 0;
}

void NewReno::on_ack(std::uint32_t acked, std::uint32_t bytes_in_flight, time::Duration /*rtt*/,
                     time::Instant /*now*/) noexcept {
  // An ACK while the sender does not fill its window says nothing about a larger one
  // (RFC 7661 §4.3): do not grow.
  if (acked == 0 || !window_validated(bytes_in_flight)) return;
  if (in_slow_start()) {
    acked = slow_start(acked);  // RFC 5681 §3.1 eq. 2, ABC L = 2*SMSS (RFC 3465 §2.2)
    if (acked == 0) return;
  }
  // RFC 5681 §3.1 congestion avoidance, byte counting (RFC 3465 §2.1): once a full cwnd of
  // bytes has been acknowledged, cwnd += SMSS.
  bytes_acked_ = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(std::uint64_t{bytes_acked_} + acked, kMaxCwnd));
  if (bytes_acked_ >= cwnd_) {
    bytes_acked_ -= cwnd_;
    cwnd_ = std::min(cwnd_ + mss_, kMaxCwnd);
  }
}

void NewReno::on_loss(std::uint32_t bytes_in_flight, time::Instant /*now*/) noexcept {
  // RFC 5681 §3.2 step 2: ssthresh = max(FlightSize/2, 2*SMSS). cwnd starts the episode at
  // ssthresh; RFC 5681 step 3's inflation by 3*SMSS is the sender's (set_cwnd()).
  ssthresh_ = half_flight_ssthresh(bytes_in_flight);
  cwnd_ = ssthresh_;
  bytes_acked_ = 0;
}

void NewReno::on_recovery_exit(time::Instant /*now*/) noexcept {
  // RFC 6582 §3.2 step 3 (full acknowledgment): deflate the window to ssthresh.
  cwnd_ = ssthresh_;
  bytes_acked_ = 0;
}

void NewReno::on_rto(std::uint32_t bytes_in_flight, time::Instant /*now*/) noexcept {
  // RFC 5681 §3.1 eq. 4 and the loss window LW = 1 SMSS.
  enter_loss_window(half_flight_ssthresh(bytes_in_flight));
  bytes_acked_ = 0;
}

void NewReno::on_idle_restart(time::Instant /*now*/) noexcept {
  restart_window();  // RFC 5681 §4.1
  bytes_acked_ = 0;
}

}  // namespace sluice::tcp
