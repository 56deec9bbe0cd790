// NewReno: the standard TCP congestion control window arithmetic.
//
// Implements RFC 5681 §3.1 (slow start with RFC 3465 appropriate byte counting, congestion
// avoidance, loss window), §3.2 step 2 (ssthresh on fast retransmit), §4.1 (restart after
// idle), and the window side of RFC 6582 §3.2 (cwnd deflates to ssthresh when recovery
// ends). The recovery bookkeeping itself (recover point, partial ACKs) is the sender's.
//
// Congestion avoidance uses the byte-counting variant of RFC 5681 §3.1 / RFC 3465 §2.1:
// acknowledged bytes accumulate in bytes_acked_, and each time they reach cwnd, cwnd grows by
// one SMSS. That is exactly one SMSS per window of data acknowledged, whatever the ACK pattern
// (delayed ACKs, stretch ACKs), unlike the per-ACK SMSS*SMSS/cwnd rule.
#pragma once

#include <cstdint>
#include <string_view>

#include "tcp/cc/congestion_control.hpp"

namespace sluice::tcp {

class NewReno final : public CongestionControl {
 public:
  NewReno() noexcept = default;

  void init(std::uint32_t mss, time::Instant now) noexcept override;
  void on_ack(std::uint32_t acked, std::uint32_t bytes_in_flight, time::Duration rtt,
              time::Instant now) noexcept override;
  void on_loss(std::uint32_t bytes_in_flight, time::Instant now) noexcept override;
  void on_recovery_exit(time::Instant now) noexcept override;
  void on_rto(std::uint32_t bytes_in_flight, time::Instant now) noexcept override;
  void on_idle_restart(time::Instant now) noexcept override;
  [[nodiscard]] std::string_view name() const noexcept override { return "newreno"; }

 private:
  /// RFC 3465 §2.1: bytes acknowledged in congestion avoidance since cwnd last grew.
  std::uint32_t bytes_acked_ = 0;
};

}  // namespace sluice::tcp
