// Tcb: one TCP connection — the transmission control block of RFC 9293 §3.3.1 and the
// state machine that drives it (§3.10). Sans-I/O: segments arrive through
// TcpStack::input(), leave through TcpStack's transmit path, time comes from the stack's
// timer wheel; the application talks to it through the methods below and hears back
// through TcpHandler (tcp_handler.hpp).
//
// Implements: RFC 9293 (states, handshake, close, half-close, simultaneous open and
// close, segment arrival §3.10.7, Nagle and SWS avoidance §3.7.4/§3.8.6), RFC 5961
// (RST/SYN/ACK validation, challenge ACKs), RFC 7323 (window scale, timestamps, PAWS),
// RFC 2018 + RFC 6675 (SACK and SACK-based recovery), RFC 5681 + RFC 6582 (fast
// retransmit, NewReno), RFC 6298 (RTO), RFC 1122 §4.2.3.6 (keepalive).
#pragma once

#include <cstdint>
#include <span>

#include <boost/intrusive/list_hook.hpp>
#include <boost/intrusive/unordered_set_hook.hpp>

#include "tcp/cc/cc_factory.hpp"
#include "tcp/four_tuple.hpp"
#include "tcp/receive_buffer.hpp"
#include "tcp/rtt_estimator.hpp"
#include "tcp/sack_scoreboard.hpp"
#include "tcp/send_buffer.hpp"
#include "tcp/tcp_handler.hpp"
#include "tcp/tcp_state.hpp"
#include "time/timer.hpp"
#include "wire/seq.hpp"
#include "wire/tcp.hpp"

struct rte_mbuf;

namespace sluice::tcp {

class TcpStack;
class Listener;
struct InSegment;

class Tcb {
 public:
  using Seq = wire::Seq;

  Tcb(TcpStack& stack, const FourTuple& tuple) noexcept;
  ~Tcb();
  Tcb(const Tcb&) = delete;
  Tcb& operator=(const Tcb&) = delete;

  // ---------------------------------------------------------------- application API
  /// Queues bytes to send (copied once, into the connection itself when few, otherwise
  /// into mbufs). Returns how many were taken: fewer than asked when the send buffer is
  /// full (on_writable() follows when space frees up) or the connection can no longer
  /// send (0).
  std::uint32_t send(std::span<const std::uint8_t> bytes) noexcept;
  /// Queues an mbuf chain to send without copying; ownership passes to the connection.
  /// Returns false (and frees nothing: the caller keeps the chain) if it does not fit, or
  /// if the pool had no mbuf to take the few bytes buffered before it (on_writable()
  /// follows in both cases when an ACK frees space).
  bool send(rte_mbuf* chain) noexcept;
  /// Bytes send() would accept now.
  [[nodiscard]] std::uint32_t send_space() const noexcept;

  /// In-order bytes ready to read.
  [[nodiscard]] std::uint32_t readable() const noexcept { return rcvbuf_.readable(); }
  /// Copies up to dst.size() bytes out and frees them; returns the count.
  std::uint32_t read(std::span<std::uint8_t> dst) noexcept;
  /// Zero-copy reading: the first mbuf of readable data (walk ->next), then consume().
  [[nodiscard]] const rte_mbuf* peek() const noexcept { return rcvbuf_.front(); }
  void consume(std::uint32_t n) noexcept;

  /// Half-close: no more data will be sent; FIN follows the queued data (RFC 9293
  /// §3.10.4). ESTABLISHED → FIN-WAIT-1, CLOSE-WAIT → LAST-ACK, SYN-RECEIVED →
  /// FIN-WAIT-1, SYN-SENT → CLOSED. Receiving continues.
  void shutdown() noexcept;
  /// shutdown(), and the application will read no more: data still arriving is
  /// discarded (counted), and a FIN-WAIT-2 that lasts too long is ended. If unread data
  /// is pending, the connection is reset instead, as RFC 2525 §2.17 recommends.
  void close() noexcept;
  /// Sends RST (when synchronized) and ends the connection at once (RFC 9293 §3.10.5).
  void abort() noexcept;

  /// Sets who hears this connection's events; events that arrived before (an accepted
  /// connection's data, say) are delivered now.
  void set_handler(TcpHandler* h) noexcept;
  [[nodiscard]] TcpHandler* handler() const noexcept { return handler_; }
  void set_user_data(void* p) noexcept { user_ = p; }
  [[nodiscard]] void* user_data() const noexcept { return user_; }
  /// Nagle off (true) or on (false) for this connection (RFC 9293 §3.7.4).
  void set_no_delay(bool on) noexcept;
  /// Keepalive on or off with the stack's idle/interval/count (RFC 1122 §4.2.3.6).
  void set_keepalive(bool on) noexcept;

  // ---------------------------------------------------------------- observation
  [[nodiscard]] TcpState state() const noexcept { return state_; }
  [[nodiscard]] const FourTuple& tuple() const noexcept { return tuple_; }
  [[nodiscard]] Seq snd_una() const noexcept { return snd_.una; }
  [[nodiscard]] Seq snd_nxt() const noexcept { return snd_.nxt; }
  [[nodiscard]] std::uint32_t snd_wnd() const noexcept { return snd_.wnd; }
  [[nodiscard]] Seq rcv_nxt() const noexcept { return rcv_.nxt; }
  [[nodiscard]] std::uint32_t rcv_wnd() const noexcept { return receive_window(); }
  [[nodiscard]] Seq iss() const noexcept { return iss_; }
  [[nodiscard]] Seq irs() const noexcept { return irs_; }
  /// Largest payload we put in a segment (peer's MSS, less options we always send).
  [[nodiscard]] std::uint16_t send_mss() const noexcept { return snd_mss_; }
  [[nodiscard]] std::uint8_t snd_wscale() const noexcept { return snd_wscale_; }
  [[nodiscard]] std::uint8_t rcv_wscale() const noexcept { return rcv_wscale_; }
  [[nodiscard]] bool timestamps_on() const noexcept { return ts_ok_; }
  [[nodiscard]] bool sack_on() const noexcept { return sack_ok_; }
  [[nodiscard]] std::uint32_t cwnd() const noexcept { return cc()->cwnd(); }
  [[nodiscard]] std::uint32_t ssthresh() const noexcept { return cc()->ssthresh(); }
  /// How many segments SACKed above a hole declare it lost (3, more on reordering paths).
  [[nodiscard]] std::uint32_t dupthresh() const noexcept { return dupthresh_; }
  [[nodiscard]] time::Duration rto() const noexcept { return rtt_.rto(); }
  [[nodiscard]] const RttEstimator& rtt() const noexcept { return rtt_; }
  [[nodiscard]] std::uint32_t bytes_in_flight() const noexcept;
  [[nodiscard]] std::uint32_t unsent_bytes() const noexcept;
  [[nodiscard]] bool in_recovery() const noexcept { return in_recovery_; }
  [[nodiscard]] bool retransmit_timer_armed() const noexcept { return rtx_timer_.scheduled(); }
  [[nodiscard]] bool delayed_ack_pending() const noexcept { return delack_timer_.scheduled(); }
  [[nodiscard]] std::uint32_t send_buffered() const noexcept { return sndbuf_.size(); }
  /// The receive and send buffers' sizes now (auto-tuning grows them; TcpConfig).
  [[nodiscard]] std::uint32_t recv_buffer_size() const noexcept { return rcv_limit_; }
  [[nodiscard]] std::uint32_t send_buffer_size() const noexcept { return snd_limit_; }
  [[nodiscard]] Listener* listener() const noexcept { return listener_; }

 private:
  friend class TcpStack;
  friend class Listener;

  // Events for the application, gathered while a segment or timer is processed and
  // delivered by TcpStack once it is done (tcp_handler.hpp explains why).
  enum Event : std::uint8_t {
    kEvConnected = 1,
    kEvData = 2,
    kEvWritable = 4,
    kEvPeerClosed = 8,
    kEvClosed = 16,
  };
  /// What rtx_timer_ does when it fires: retransmit (RTO), probe a zero window, send a
  /// tail loss probe, or declare SND.UNA's segment lost once the reordering window has
  /// passed with data above it SACKed (RFC 8985 §6.2).
  enum class RtxMode : std::uint8_t { Retransmit, Persist, Probe, Reorder };

  // --- opening (called by TcpStack / Listener) ---
  /// ts_offset: the connection's TSval offset (RFC 7323 §5.4), from the ISN's hash.
  void open_active(Seq iss, std::uint32_t ts_offset, time::Instant now) noexcept;
  void open_passive(const InSegment& syn, Seq iss, std::uint32_t ts_offset,
                    time::Instant now) noexcept;
  void open_from_cookie(const InSegment& ack, Seq iss, std::uint16_t mss, std::uint8_t wscale,
                        bool sack, bool ts, time::Instant now) noexcept;

  // --- segment arrival (RFC 9293 §3.10.7) ---
  void input(InSegment& seg, time::Instant now) noexcept;
  void input_syn_sent(InSegment& seg, time::Instant now) noexcept;
  bool check_sequence(const InSegment& seg, time::Instant now) noexcept;  // first
  bool check_rst(const InSegment& seg) noexcept;                          // second
  bool check_syn(const InSegment& seg) noexcept;                          // fourth
  bool check_ack(InSegment& seg, time::Instant now) noexcept;             // fifth
  /// The RTT of the handshake, as the segment that acknowledges our SYN completes it.
  void sample_handshake_rtt(const InSegment& seg, time::Instant now) noexcept;
  void process_text(InSegment& seg) noexcept;                             // seventh
  void process_fin(time::Instant now) noexcept;                           // eighth
  void process_new_ack(Seq ack, const InSegment& seg, time::Instant now) noexcept;
  void process_dup_ack(const InSegment& seg, time::Instant now) noexcept;
  [[nodiscard]] bool tlp_repaired(const InSegment& seg) const noexcept;
  /// RACK's reordering window is zero in this recovery (RFC 8985 §6.2): it is one of its
  /// own (not the repair after a timeout) and no reordering has been seen.
  [[nodiscard]] bool rack_in_recovery() const noexcept {
    return recovery_cut_ && dupthresh_ == kDupThresh;
  }
  /// Fast retransmit of SND.UNA's segment and SACK/NewReno recovery (RFC 5681 §3.2, RFC
  /// 6675 §5), once it is deemed lost.
  void start_recovery(time::Instant now) noexcept;
  void update_send_window(const InSegment& seg) noexcept;
  void take_options(const wire::TcpOptions& o, bool syn_ack) noexcept;

  // --- output ---
  void output(time::Instant now) noexcept;
  bool send_data_segment(Seq seq, std::uint32_t len, bool retransmission,
                         time::Instant now) noexcept;
  void send_syn(time::Instant now) noexcept;  // SYN or SYN-ACK, by state
  void send_ack(time::Instant now) noexcept;
  void send_challenge_ack(time::Instant now) noexcept;
  /// RFC 9293 §3.10.7.4's ACK for an unacceptable segment; to one without data (no
  /// payload, SYN or FIN) at most once per kOowAckIntervalMs.
  void ack_unacceptable(const InSegment& seg, time::Instant now) noexcept;
  static constexpr std::uint16_t kOowAckIntervalMs = 500;
  void send_rst_for_abort(time::Instant now) noexcept;
  void retransmit_in_recovery(time::Instant now) noexcept;
  void schedule_ack(time::Instant now, bool immediate) noexcept;
  void maybe_window_update() noexcept;
  /// The application took n bytes: count them, and once a round trip has passed let the
  /// receive buffer grow (dynamic right-sizing; TcpConfig::recv_buffer_max).
  void note_read(std::uint32_t n, time::Instant now) noexcept {
    drs_copied_ += n;
    if (drs_ticks(now) - drs_start_ >= drs_round_) [[unlikely]]
      autotune_receive(now);
  }
  /// The auto-tuning clock: 1.024 us ticks, modulo 2^32 (73 minutes).
  static std::uint32_t drs_ticks(time::Instant now) noexcept {
    return static_cast<std::uint32_t>(static_cast<std::uint64_t>(now.time_since_epoch().count()) >>
                                      10);
  }
  void autotune_receive(time::Instant now) noexcept;
  /// The application is held back by a full send buffer: grow it towards twice
  /// min(cwnd, the peer's largest window) (TcpConfig::send_buffer_max).
  void autotune_send() noexcept;
  /// Raises `limit` towards min(target, ceiling) as far as the engine's budget allows;
  /// true if it grew.
  bool grow_buffer(std::uint32_t& limit, std::uint64_t target, std::uint32_t ceiling) noexcept;
  /// Starts a measuring round of the receive-buffer auto-tuning at `now`.
  void drs_restart(time::Instant now) noexcept;
  [[nodiscard]] std::uint32_t receive_window() const noexcept;
  [[nodiscard]] std::uint16_t window_field() noexcept;
  /// NOP NOP TS(10), on every segment once timestamps are on (RFC 7323 Appendix A layout).
  static constexpr std::uint32_t kTsOptionLen = 12;
  /// The data a segment sent now may carry: the peer's MSS less our options (tcb.cpp).
  [[nodiscard]] std::uint32_t effective_mss() const noexcept {
    const std::uint32_t mss = snd_mss_ - (ts_ok_ ? kTsOptionLen : 0u);
    if (sack_ok_ && (rcvbuf_.ooo_nodes() != 0 || dsack_pending_)) [[unlikely]]
      return mss - sack_option_room();
    return mss;
  }
  /// Bytes of the SACK option segments carry now (see effective_mss()).
  [[nodiscard]] std::uint32_t sack_option_room() const noexcept;
  [[nodiscard]] std::uint32_t tso_length(std::uint32_t len, std::uint32_t emss) const noexcept;
  [[nodiscard]] std::uint32_t usable_window() const noexcept;
  /// The options of a segment we send now; takes the pending D-SACK block, if any.
  [[nodiscard]] wire::TcpOptions segment_options(std::uint8_t flags, time::Instant now) noexcept;
  /// RFC 2883: the next segment reports [left, right), data that arrived twice, in its
  /// first SACK block (no-op without SACK or for an empty range).
  void note_duplicate(Seq left, Seq right) noexcept;

  // --- timers ---
  void on_rtx_timer() noexcept;
  void on_delack_timer() noexcept;
  void on_keepalive_timer() noexcept;
  void arm_rtx(time::Instant now) noexcept;
  /// The tail loss probe timer if it may run (RFC 8985 §7.2), else the RTO.
  void arm_loss_timer(time::Instant now) noexcept;
  /// Arms the tail loss probe if RFC 8985 §7.2 allows one now; false (timer untouched) if
  /// not.
  bool arm_probe(time::Instant now) noexcept;
  void send_tail_loss_probe(time::Instant now) noexcept;
  /// SACKed data above SND.UNA while SND.UNA's segment is missing: declare it lost after
  /// the reordering window (RFC 8985 §6.2) unless recovery has begun meanwhile.
  void arm_reorder(time::Instant now) noexcept;
  void arm_persist(time::Instant now) noexcept;
  void restart_keepalive(time::Instant now) noexcept;
  void cancel_timers() noexcept;

  // --- state changes ---
  /// The one place state_ changes: counts, and queues the application events.
  void set_state(TcpState s) noexcept;
  void enter_established(time::Instant now) noexcept;
  void enter_time_wait(time::Instant now) noexcept;
  /// Ends the connection: CLOSED, timers off, buffers freed, on_closed(reason) queued.
  void terminate(CloseReason reason) noexcept;
  void post(Event e) noexcept { events_ |= e; }

  [[nodiscard]] CongestionControl* cc() noexcept { return cc_.get(); }
  [[nodiscard]] const CongestionControl* cc() const noexcept { return cc_.get(); }
  [[nodiscard]] bool fin_acked() const noexcept { return fin_queued_ && snd_.una == fin_seq_ + 1; }
  /// The end of the data sent so far: SND.MAX, less the FIN's sequence number once sent.
  [[nodiscard]] Seq sent_data_end() const noexcept {
    return fin_queued_ && snd_.max == fin_seq_ + 1 ? fin_seq_ : snd_.max;
  }
  [[nodiscard]] std::uint32_t ts_now(time::Instant now) const noexcept;

 public:
  // Intrusive hooks (public for Boost.Intrusive's member_hook; not part of the API).
  boost::intrusive::unordered_set_member_hook<> table_hook_;
  boost::intrusive::list_member_hook<> queue_hook_;  ///< listener's SYN or accept queue

 private:
  TcpStack& stack_;
  Listener* listener_ = nullptr;  ///< while embryonic or waiting in the accept queue
  TcpHandler* handler_ = nullptr;
  void* user_ = nullptr;
  FourTuple tuple_;
  TcpState state_ = TcpState::Closed;

  // RFC 9293 §3.3.1 send sequence variables, plus SND.MAX (highest sent; SND.NXT goes
  // back to SND.UNA on RTO), the end of queued data and RFC 6582's recover.
  struct {
    Seq una, nxt, max, wl1, wl2, recover;
    std::uint32_t wnd = 0;      ///< scaled
    std::uint32_t max_wnd = 0;  ///< largest window seen (RFC 5961 §5.2 MAX.SND.WND, SWS)
  } snd_;
  struct {
    Seq nxt;
    Seq adv;  ///< right edge last advertised: never moved left (RFC 9293 §3.8.6.2.2)
  } rcv_;
  Seq iss_, irs_;
  Seq fin_seq_;       ///< sequence number of our FIN, once queued
  Seq peer_fin_seq_;  ///< sequence number of the peer's FIN, once seen (maybe out of order)
  Seq high_rxt_;      ///< RFC 6675 HighRxt
  Seq rxt_fence_;     ///< SND.MAX just after the last retransmission in recovery went out
  /// In recovery: data below this, neither SACKed nor yet retransmitted, is lost though
  /// nothing is SACKed above it (first sent before a retransmission that arrived).
  Seq rack_lost_end_;
  Seq rack_rxt_end_;  ///< the end of the last retransmission in recovery (rxt_fence_'s)...
  std::uint32_t rack_rxt_ticks_ = 0;  ///< ...and when it went out (drs_ticks)
  Seq rtt_seq_;       ///< segment being timed (Karn: never a retransmitted one)
  Seq dsack_left_, dsack_right_;  ///< duplicate to report (RFC 2883), if dsack_pending_
  time::Instant rtt_start_{};
  time::Instant last_rx_{};  ///< last segment received (keepalive idle)
  time::Instant last_tx_{};  ///< last data sent (RFC 5681 §4.1 restart after idle)

  // Buffer auto-tuning (TcpConfig::recv_buffer_max, send_buffer_max). A round of the
  // receive side ends at the first read once SRTT has passed (at least 100 us; 1 ms before
  // any sample). The first begins as the connection is established.
  std::uint32_t rcv_limit_;       ///< receive buffer now
  std::uint32_t snd_limit_;       ///< send buffer now
  std::uint32_t drs_copied_ = 0;  ///< bytes the application took this round
  /// The most it took in one round so far (not counting rounds that left most of the
  /// buffer unread).
  std::uint32_t drs_space_ = 0;
  std::uint32_t drs_start_ = 0;   ///< when the round began (drs_ticks)
  std::uint32_t drs_round_ = 0;   ///< how long it lasts (drs_ticks)

  std::uint32_t ts_recent_ = 0;  ///< RFC 7323 TS.Recent
  std::uint32_t ts_offset_ = 0;  ///< per-connection random TSval offset (RFC 7323 §5.4)
  std::uint16_t snd_mss_ = 536;  ///< peer's MSS (RFC 9293 §3.7.1), before options
  std::uint16_t rcv_mss_ = 536;  ///< ours
  std::uint8_t snd_wscale_ = 0;
  std::uint8_t rcv_wscale_ = 0;
  std::uint8_t dupacks_ = 0;
  /// Duplicate ACKs / SACKed segments that declare a loss: 3 (RFC 6675 §2), doubled up to
  /// 48 each time a fast retransmit proves spurious — the path reorders.
  static constexpr std::uint8_t kDupThresh = 3;  ///< RFC 5681 §3.2, until reordering is seen
  std::uint8_t dupthresh_ = kDupThresh;
  // Spurious fast retransmit detection (Eifel, RFC 3522) and its undo (RFC 4015 §2):
  std::uint32_t undo_tsval_ = 0;  ///< TSval of the retransmission
  std::uint32_t rto_tsval_ = 0;   ///< TSval of the last retransmission on a timeout
  std::uint32_t undo_cwnd_ = 0;   ///< cwnd and ssthresh before the loss response
  std::uint32_t undo_ssthresh_ = 0;
  Seq undo_seq_;                   ///< the retransmitted segment
  Seq tlp_end_;  ///< RFC 8985 §7.4 TLP.end_seq: the end of the data the probe resent
  std::uint8_t retries_ = 0;       ///< consecutive expiries of the retransmission timer
  std::uint8_t probes_ = 0;        ///< keepalive probes unanswered
  std::uint8_t unacked_segs_ = 0;  ///< full segments received since our last ACK
  std::uint8_t events_ = 0;
  RtxMode rtx_mode_ = RtxMode::Retransmit;
  CloseReason close_reason_ = CloseReason::Normal;
  /// When (stack ts_clock in ms, modulo 2^16) we last answered an unacceptable segment
  /// without data (RFC 9293 §3.10.7.4's ACK): such answers are limited, against ACK loops.
  std::uint16_t oow_ack_ms_ = 0;

  bool undo_armed_ : 1 = false;  ///< a fast retransmit awaits its verdict
  bool ts_ok_ : 1 = false;       ///< timestamps negotiated
  bool sack_ok_ : 1 = false;     ///< SACK negotiated
  bool ws_ok_ : 1 = false;       ///< window scaling negotiated
  bool no_delay_ : 1 = false;
  bool keepalive_ : 1 = false;
  bool fin_queued_ : 1 = false;  ///< shutdown() called: FIN at fin_seq_
  bool peer_fin_ : 1 = false;    ///< the peer's FIN has been seen (maybe out of order)
  bool app_closed_ : 1 = false;  ///< close(): the application reads no more
  bool ack_now_ : 1 = false;     ///< an ACK must go out before output() returns
  bool in_recovery_ : 1 = false;
  bool recovery_cut_ : 1 = false;  ///< this recovery reduced the window (on_loss was called)
  bool tlp_out_ : 1 = false;       ///< a tail loss probe is outstanding (RFC 8985 §7)
  bool tlp_retrans_ : 1 = false;   ///< it resent [tlp_end_ - its length, tlp_end_)
  bool rtt_timing_ : 1 = false;
  bool syn_timed_ : 1 = false;      ///< rtt_start_ is when our only SYN (or SYN-ACK) left
  bool want_writable_ : 1 = false;  ///< send() was short: tell the app when space frees
  bool passive_ : 1 = false;        ///< opened by a listener (SYN-RECEIVED → LISTEN on RST)
  bool released_ : 1 = false;       ///< the stack has unlinked it and will destroy it
  bool in_dispatch_ : 1 = false;    ///< TcpStack::dispatch is delivering its events
  /// output() runs when TcpStack::dispatch has delivered the events: what a segment and
  /// the application's answer to it (read, send, close) ask for leaves in as few segments
  /// as possible — the ACK, the window update, the data and the FIN together.
  bool output_pending_ : 1 = false;
  bool in_accept_q_ : 1 = false;  ///< queue_hook_ is in the listener's accept queue
  bool terminated_ : 1 = false;   ///< terminate() ran: on_closed is queued
  bool dsack_pending_ : 1 = false;  ///< the next segment carries a D-SACK block
  bool oow_acked_ : 1 = false;      ///< oow_ack_ms_ is set

  RttEstimator rtt_;
  CcStorage cc_;
  SackScoreboard scoreboard_;
  SendBuffer sndbuf_;
  ReceiveBuffer rcvbuf_;
  time::Timer rtx_timer_;  ///< retransmission, SYN/SYN-ACK retry, or persist (rtx_mode_)
  time::Timer delack_timer_;
  time::Timer keepalive_timer_;  ///< keepalive, or the orphaned FIN-WAIT-2 limit
};

/// An arrived segment, parsed by lib/wire, as TCP input sees it.
struct InSegment {
  rte_mbuf* mbuf;  ///< the whole frame; TCP owns it from input() on
  const wire::TcpHeader& th;
  std::uint32_t payload_offset;  ///< from the start of mbuf's data
  std::uint32_t payload_len;
  FourTuple tuple;  ///< from the receiver's point of view (local = dst)

  /// SEG.LEN of RFC 9293: payload plus one for SYN and for FIN.
  [[nodiscard]] std::uint32_t seg_len() const noexcept {
    return payload_len + (th.has(wire::TcpFlag::Syn) ? 1u : 0u) +
           (th.has(wire::TcpFlag::Fin) ? 1u : 0u);
  }
  [[nodiscard]] bool has(std::uint8_t f) const noexcept { return th.has(f); }
};

}  // namespace sluice::tcp
