// CongestionControl: the interface every congestion control algorithm implements, and the
// window arithmetic they share (initial window, slow start with appropriate byte counting).
//
// Implements RFC 5681 §3.1 (slow start, loss window, ssthresh initial value), §4.1 (restart
// window after idle), RFC 6928 §2 (initial window), RFC 3465 §2.3 (ABC limit L in slow
// start). The algorithms live in new_reno.hpp (RFC 5681, RFC 6582) and cubic.hpp (RFC 9438);
// cc_factory.hpp builds one in place inside the connection.
//
// Who owns what. This object owns cwnd and ssthresh and the algorithm's own state, nothing
// else: it sees no segments and keeps no sequence numbers. The TCP sender owns loss detection
// and recovery bookkeeping (duplicate ACK count, recover point, partial ACKs, SACK scoreboard,
// pipe; RFC 6582, RFC 6675) and tells this object about events:
//   - on_ack()           for every ACK that acknowledges new data outside loss recovery;
//   - on_loss()          once when it enters fast retransmit / fast recovery;
//   - set_cwnd()         during recovery, if it uses RFC 6582 §3.2 window inflation
//                        (ssthresh + 3*SMSS, +SMSS per duplicate ACK, partial-ACK deflation);
//                        a pipe-based RFC 6675 sender does not need it;
//   - on_recovery_exit() when recovery ends (full ACK): cwnd deflates to ssthresh;
//   - on_rto()           on the first expiry of the retransmission timer for a segment (RFC
//                        5681 §3.1: later expiries for the same segment hold ssthresh, and
//                        cwnd is already the loss window);
//   - on_idle_restart()  before sending after an idle period longer than one RTO.
// All windows are in bytes. Every method is noexcept and allocation-free.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string_view>

#include "time/clock.hpp"

namespace sluice::tcp {

class CongestionControl {
 public:
  /// The largest window TCP can use: 2^30 bytes with window scaling (RFC 7323 §2.3). cwnd never
  /// grows beyond it, which also keeps every sum below in 32 bits.
  static constexpr std::uint32_t kMaxCwnd = std::uint32_t{1} << 30;
  /// ssthresh before the first congestion event: "arbitrarily high" (RFC 5681 §3.1).
  static constexpr std::uint32_t kInitialSsthresh = std::numeric_limits<std::uint32_t>::max();
  /// Effective send MSS when nothing better is known (RFC 9293 §3.7.1).
  static constexpr std::uint32_t kDefaultMss = 536;

  virtual ~CongestionControl() = default;
  CongestionControl(const CongestionControl&) = delete;
  CongestionControl& operator=(const CongestionControl&) = delete;

  /// Connection start (or a restart from scratch): cwnd = IW (RFC 6928 §2), ssthresh
  /// arbitrarily high (RFC 5681 §3.1), algorithm state cleared. Pre: mss > 0 (0 is read as 1).
  virtual void init(std::uint32_t mss, time::Instant now) noexcept = 0;

  /// New data acknowledged outside loss recovery: slow start below ssthresh, congestion
  /// avoidance above (RFC 5681 §3.1). `acked`: bytes newly acknowledged by this ACK.
  /// `bytes_in_flight`: FlightSize before this ACK; when it is under half of cwnd the sender
  /// is not using its window and cwnd does not grow (RFC 7661 §4.3's "validated" test,
  /// RFC 9438 §5.8). `rtt`: the sender's smoothed RTT (RttEstimator::srtt()), or zero if
  /// none yet; algorithms that need it remember the last non-zero value.
  virtual void on_ack(std::uint32_t acked, std::uint32_t bytes_in_flight, time::Duration rtt,
                      time::Instant now) noexcept = 0;

  /// Loss detected by duplicate ACKs or SACK (entering fast recovery): sets ssthresh and
  /// cwnd = ssthresh for the recovery episode (RFC 5681 §3.2 step 2 for Reno, from
  /// `bytes_in_flight`; RFC 9438 §4.6 for CUBIC, from cwnd, which §4.6 allows because
  /// on_ack() grows cwnd only while the flight validates it). The RFC 5681 §3.2 step 3 inflation
  /// (+3*SMSS) is the sender's, via set_cwnd().
  virtual void on_loss(std::uint32_t bytes_in_flight, time::Instant now) noexcept = 0;

  /// Recovery ended with a full ACK: cwnd = ssthresh (RFC 6582 §3.2 step 3, "deflate").
  virtual void on_recovery_exit(time::Instant now) noexcept = 0;

  /// Retransmission timeout: ssthresh from FlightSize (RFC 5681 §3.1 eq. 4; CUBIC, RFC 9438
  /// §4.8: from the larger of FlightSize and cwnd),
  /// cwnd = loss window of 1 SMSS. Call once per segment, on its first timer retransmission.
  virtual void on_rto(std::uint32_t bytes_in_flight, time::Instant now) noexcept = 0;

  /// Idle longer than one RTO before sending again: cwnd = min(IW, cwnd) (RFC 5681 §4.1).
  virtual void on_idle_restart(time::Instant now) noexcept = 0;

  /// Short lower-case name ("newreno", "cubic"), for statistics and logs.
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;

  [[nodiscard]] std::uint32_t cwnd() const noexcept { return cwnd_; }
  [[nodiscard]] std::uint32_t ssthresh() const noexcept { return ssthresh_; }
  [[nodiscard]] std::uint32_t mss() const noexcept { return mss_; }
  /// RFC 5681 §3.1: slow start while cwnd < ssthresh.
  [[nodiscard]] bool in_slow_start() const noexcept { return cwnd_ < ssthresh_; }

  /// The effective send MSS changed (after the handshake, or from path MTU discovery).
  /// cwnd is kept in bytes and raised to one new MSS if it was below. If no data was sent
  /// yet, call init() instead so that the IW follows the new MSS.
  void set_mss(std::uint32_t mss) noexcept {
    mss_ = std::max<std::uint32_t>(mss, 1);
    cwnd_ = std::max(cwnd_, mss_);
  }

  /// For the sender's recovery bookkeeping only (RFC 6582 §3.2 steps 3-5 inflation and
  /// deflation). Clamped to [1 MSS, kMaxCwnd].
  void set_cwnd(std::uint32_t bytes) noexcept { cwnd_ = std::clamp(bytes, mss_, kMaxCwnd); }

  /// A loss response proved spurious (the "loss" was reordering, RFC 3522): back to the
  /// window and threshold from before on_loss() (RFC 4015 §2). The algorithm's own state
  /// (CUBIC's W_max, epoch) keeps its reduction: a conservative approximation.
  void restore(std::uint32_t cwnd, std::uint32_t ssthresh) noexcept {
    ssthresh_ = std::max(ssthresh_, ssthresh);
    cwnd_ = std::clamp(std::max(cwnd_, cwnd), mss_, kMaxCwnd);
  }

  /// RFC 6928 §2: IW = min(10*MSS, max(2*MSS, 14600)).
  [[nodiscard]] static constexpr std::uint32_t initial_window(std::uint32_t mss) noexcept {
    return std::min(10 * mss, std::max(2 * mss, std::uint32_t{14600}));
  }

 protected:
  CongestionControl() noexcept = default;

  /// Common part of init(): MSS, IW, ssthresh.
  void reset_window(std::uint32_t mss) noexcept {
    mss_ = std::max<std::uint32_t>(mss, 1);
    cwnd_ = std::min(initial_window(mss_), kMaxCwnd);
    ssthresh_ = kInitialSsthresh;
    after_rto_ = false;
  }

  /// The flight is large enough for the ACK to say something about the window's size.
  [[nodiscard]] bool window_validated(std::uint32_t bytes_in_flight) const noexcept {
    return std::uint64_t{bytes_in_flight} * 2 >= cwnd_;
  }

  /// Slow start for one ACK (RFC 5681 §3.1 eq. 2 with RFC 3465 byte counting): cwnd grows by
  /// the bytes acknowledged, never past ssthresh; by at most L = 1*SMSS per ACK in the slow
  /// start that follows a timeout (RFC 3465 §2.3), where a cumulative ACK may cover data
  /// that arrived long before. Otherwise without RFC 3465 §2.2's L = 2*SMSS, as Linux and
  /// QUIC (RFC 9002 §7.3.1): a peer whose ACKs ride on its own data, or whose ACKs a network
  /// thins or reorders, acknowledges ten segments and more at a time, and a limit per ACK
  /// ties the window's growth to the number of ACKs instead of the data delivered (a 2 MB
  /// echo through a link that reorders a quarter of the frames: 115 of about 200 ACKs that
  /// moved SND.UNA covered more than ten segments; with L = 2 slow start took a second).
  /// Pre: in_slow_start(). Returns the acknowledged bytes left over once cwnd reached
  /// ssthresh, which the caller counts as congestion avoidance.
  std::uint32_t slow_start(std::uint32_t acked) noexcept {
    const std::uint32_t increase = after_rto_ ? std::min(acked, mss_) : acked;
    const std::uint32_t room = std::min(ssthresh_, kMaxCwnd) - std::min(cwnd_, kMaxCwnd);
    if (increase < room) {
      cwnd_ += increase;
      return 0;
    }
    cwnd_ = std::min(ssthresh_, kMaxCwnd);
    after_rto_ = false;
    return acked - room;
  }

  /// Reno's ssthresh after a congestion event: max(FlightSize/2, 2*SMSS) (RFC 5681 eq. 4).
  [[nodiscard]] std::uint32_t half_flight_ssthresh(std::uint32_t bytes_in_flight) const noexcept {
    return std::max(bytes_in_flight / 2, 2 * mss_);
  }

  /// Common part of on_rto(): loss window and the L = 1*SMSS slow start that follows.
  void enter_loss_window(std::uint32_t new_ssthresh) noexcept {
    ssthresh_ = new_ssthresh;
    cwnd_ = mss_;  // RFC 5681 §3.1: LW = 1 full-sized segment
    after_rto_ = true;
  }

  /// Common part of on_idle_restart(): RW = min(IW, cwnd) (RFC 5681 §4.1).
  void restart_window() noexcept { cwnd_ = std::min(cwnd_, initial_window(mss_)); }

  std::uint32_t mss_ = kDefaultMss;
  std::uint32_t cwnd_ = 0;
  std::uint32_t ssthresh_ = kInitialSsthresh;
  /// In the slow start after a timeout, where ABC uses L = 1*SMSS (RFC 3465 §2.3).
  bool after_rto_ = false;
};

}  // namespace sluice::tcp
