// The connection state machine. Segment arrival follows RFC 9293 §3.10.7 step by step —
// SYN-SENT (§3.10.7.3) has its own handler; the other states go through the numbered
// checks (sequence, RST, SYN, ACK, text, FIN) of §3.10.7.4 — with RFC 5961's stricter
// RST/SYN/ACK rules, RFC 7323 PAWS, and SACK/NewReno loss recovery (RFC 6675, 6582).
#include "tcp/tcb.hpp"

#include <rte_mbuf.h>

#include <algorithm>

#include "tcp/listener.hpp"
#include "tcp/mbuf_guard.hpp"
#include "tcp/tcp_stack.hpp"

namespace sluice::tcp {

using wire::Seq;
namespace TcpFlag = wire::TcpFlag;
using namespace std::chrono_literals;

namespace {

/// The smallest MSS we accept from a peer (the SYN-cookie table's floor too): smaller
/// would leave no room for data beside our options, and a peer announcing a tiny MSS
/// makes us spend a packet on every few bytes (Linux has tcp_min_snd_mss for this).
constexpr std::uint16_t kMinPeerMss = 64;

}  // namespace

// ======================================================================== construction

Tcb::Tcb(TcpStack& stack, const FourTuple& tuple) noexcept
    : stack_(stack),
      tuple_(tuple),
      rtt_(stack.config().rto_initial, stack.config().rto_min, stack.config().rto_max),
      rcvbuf_(ooo_segment_limit(stack.config())) {
  const TcpConfig& c = stack.config();
  rcv_limit_ = c.recv_buffer;
  snd_limit_ = c.send_buffer;
  rcv_mss_ = c.mss;
  snd_mss_ = std::min(c.default_peer_mss, c.mss);
  no_delay_ = c.no_delay;
  keepalive_ = c.keepalive;
  cc_.construct(c.congestion);
  rtx_timer_.bind<&Tcb::on_rtx_timer>(*this);
  delack_timer_.bind<&Tcb::on_delack_timer>(*this);
  keepalive_timer_.bind<&Tcb::on_keepalive_timer>(*this);
}

Tcb::~Tcb() = default;  // timers unlink themselves; buffers free their mbufs

// ======================================================================== opening

void Tcb::open_active(Seq iss, std::uint32_t ts_offset, time::Instant now) noexcept {
  const TcpConfig& c = stack_.config();
  iss_ = iss;
  snd_.una = iss;
  snd_.nxt = iss;
  snd_.max = iss;
  snd_.recover = iss;
  high_rxt_ = iss;  // nothing resent (start_recovery reads it)
  // Offer what we support; the peer's SYN-ACK decides (take_options).
  rcv_wscale_ = c.window_scaling ? offered_window_shift(c) : 0;
  ts_offset_ = ts_offset;
  rcv_.adv = Seq{};
  set_state(TcpState::SynSent);  // RFC 9293 §3.10.1: OPEN, active → SYN-SENT
  send_syn(now);
  ++stack_.counters_.active_opens;
}

void Tcb::open_passive(const InSegment& syn, Seq iss, std::uint32_t ts_offset,
                       time::Instant now) noexcept {
  const TcpConfig& c = stack_.config();
  passive_ = true;
  irs_ = syn.th.seq;
  rcv_.nxt = irs_ + 1;
  iss_ = iss;
  snd_.una = iss;
  snd_.nxt = iss;
  snd_.max = iss;
  snd_.recover = iss;
  high_rxt_ = iss;  // nothing resent (start_recovery reads it)
  take_options(syn.th.options, false);
  rcv_wscale_ = ws_ok_ ? offered_window_shift(c) : 0;
  ts_offset_ = ts_offset;
  snd_.wnd = syn.th.window;  // never scaled in a SYN (RFC 7323 §2.2)
  snd_.max_wnd = snd_.wnd;
  snd_.wl1 = syn.th.seq;
  snd_.wl2 = iss;
  last_rx_ = now;
  set_state(TcpState::SynReceived);  // §3.10.7.2: LISTEN + SYN → SYN-RECEIVED
  send_syn(now);
  ++stack_.counters_.passive_opens;
}

void Tcb::open_from_cookie(const InSegment& ack, Seq iss, std::uint16_t mss, std::uint8_t wscale,
                           bool sack, bool ts, time::Instant now) noexcept {
  const TcpConfig& c = stack_.config();
  passive_ = true;
  irs_ = ack.th.seq - 1;
  rcv_.nxt = ack.th.seq;
  iss_ = iss;
  snd_.una = iss;
  snd_.nxt = iss + 1;
  snd_.max = iss + 1;
  snd_.recover = iss + 1;
  high_rxt_ = iss;  // nothing resent (start_recovery reads it)
  snd_mss_ = std::min(std::max(mss, kMinPeerMss), c.mss);
  ws_ok_ = wscale != SynCookie::kNoWindowScale && c.window_scaling;
  snd_wscale_ = ws_ok_ ? wscale : 0;
  rcv_wscale_ = ws_ok_ ? offered_window_shift(c) : 0;
  sack_ok_ = sack && c.sack;
  ts_ok_ = ts && c.timestamps && ack.th.options.timestamps.has_value();
  if (ts_ok_) ts_recent_ = ack.th.options.timestamps->tsval;
  ts_offset_ = 0;  // the cookie's TSval came from the bare stack clock
  // The window our SYN-ACK offered was this, unscaled; keep offering at least that.
  rcv_.adv = rcv_.nxt + std::min<std::uint32_t>(receive_window(), 0xffff);
  last_rx_ = now;
  set_state(TcpState::SynReceived);
}

void Tcb::take_options(const wire::TcpOptions& o, bool syn_ack) noexcept {
  const TcpConfig& c = stack_.config();
  // RFC 9293 §3.7.1: without the option, 536 (the IPv4 default); never above what our
  // own interface carries.
  const std::uint16_t peer = o.mss.has_value() && *o.mss > 0 ? *o.mss : c.default_peer_mss;
  snd_mss_ = std::min(std::max(peer, kMinPeerMss), c.mss);
  // RFC 7323 §2.2 / RFC 2018 §2: an option is on only if both SYNs carry it. On a SYN-ACK
  // the peer can only echo what our SYN offered.
  ws_ok_ = c.window_scaling && o.window_scale.has_value();
  snd_wscale_ = ws_ok_ ? *o.window_scale : 0;
  if (!ws_ok_) rcv_wscale_ = 0;
  sack_ok_ = c.sack && o.sack_permitted;
  ts_ok_ = c.timestamps && o.timestamps.has_value();
  if (ts_ok_) ts_recent_ = o.timestamps->tsval;
  (void)syn_ack;
}

// ======================================================================== arrival

void Tcb::input(InSegment& seg, time::Instant now) noexcept {
  MbufGuard guard(seg.mbuf);
  ++stack_.counters_.segs_in;
  last_rx_ = now;
  probes_ = 0;

  if (state_ == TcpState::SynSent) {
    input_syn_sent(seg, now);
    return;
  }
  // A retransmitted SYN while we wait for the handshake's ACK: our SYN-ACK was lost.
  if (state_ == TcpState::SynReceived && seg.has(TcpFlag::Syn) && !seg.has(TcpFlag::Ack) &&
      seg.th.seq == irs_ && !seg.has(TcpFlag::Rst)) {
    send_syn(now);
    return;
  }
  // Simultaneous open, RFC 9293 Figure 8 line 6: the peer's SYN,ACK repeats the SYN we hold
  // (so it would fail the sequence test) and acknowledges ours: the handshake is complete.
  if (!passive_ && snd_.una == iss_ && seg.th.seq == irs_ && seg.has(TcpFlag::Syn) &&
      seg.has(TcpFlag::Ack) && !seg.has(TcpFlag::Rst) &&
      (state_ == TcpState::SynReceived || state_ == TcpState::FinWait1)) {
    if (!(iss_ < seg.th.ack && seg.th.ack <= snd_.max)) {
      stack_.send_reset_for(seg);  // <SEQ=SEG.ACK><CTL=RST>
      stack_.counters_.drop(TcpDrop::SynSentBadAck);
      return;
    }
    sample_handshake_rtt(seg, now);
    snd_.una = iss_ + 1;
    retries_ = 0;
    stack_.wheel_.cancel_lazy(rtx_timer_);
    snd_.wnd = seg.th.window;  // a SYN's window is never scaled (RFC 7323 §2.2)
    snd_.max_wnd = std::max(snd_.max_wnd, snd_.wnd);
    snd_.wl1 = seg.th.seq;
    snd_.wl2 = seg.th.ack;
    enter_established(now);  // SYN-RECEIVED → ESTABLISHED (FIN-WAIT-1 if closed meanwhile)
    output(now);
    return;
  }

  if (!check_sequence(seg, now)) return;  // first
  if (seg.has(TcpFlag::Rst)) {            // second
    check_rst(seg);
    return;
  }
  if (seg.has(TcpFlag::Syn) && !check_syn(seg)) return;  // fourth (third: no security)
  if (!seg.has(TcpFlag::Ack)) {                          // fifth
    stack_.counters_.drop(TcpDrop::NoAckFlag);
    return;
  }
  // RFC 7323 §4.3: remember the peer's timestamp for PAWS and for the echo.
  if (ts_ok_ && seg.th.options.timestamps.has_value() && seg.th.seq <= rcv_.nxt &&
      (seg.th.options.timestamps->tsval - ts_recent_) < 0x80000000u) {
    ts_recent_ = seg.th.options.timestamps->tsval;
  }
  if (!check_ack(seg, now)) return;
  if (state_ == TcpState::Closed || state_ == TcpState::TimeWait) return;

  if (seg.payload_len > 0) process_text(seg);  // seventh (sixth: URG is not used)
  if (seg.has(TcpFlag::Fin)) {
    const Seq fin = seg.th.seq + seg.payload_len;
    if (!peer_fin_ && kCanReceive.has(state_)) {
      peer_fin_ = true;
      peer_fin_seq_ = fin;
    } else if (!kCanReceive.has(state_)) {
      ack_now_ = true;  // a retransmitted FIN: acknowledge it again
    }
  }
  process_fin(now);  // eighth: consumes the FIN once everything before it arrived
  if (state_ == TcpState::Closed || state_ == TcpState::TimeWait) return;
  if (keepalive_) restart_keepalive(now);
  output_pending_ = true;  // after the application has answered (TcpStack::dispatch)
}

// RFC 9293 §3.10.7.3 — SYN-SENT.
void Tcb::input_syn_sent(InSegment& seg, time::Instant now) noexcept {
  const wire::TcpHeader& th = seg.th;
  bool ack_ok = false;
  if (th.has(TcpFlag::Ack)) {
    // first: the ACK must acknowledge our SYN, ISS < SEG.ACK =< SND.NXT
    if (!(iss_ < th.ack && th.ack <= snd_.nxt)) {
      if (!th.has(TcpFlag::Rst)) stack_.send_reset_for(seg);
      stack_.counters_.drop(TcpDrop::SynSentBadAck);
      return;
    }
    ack_ok = true;
  }
  if (th.has(TcpFlag::Rst)) {
    // second: a RST is believed only with an acceptable ACK (RFC 5961 §3.2 for SYN-SENT)
    if (ack_ok) {
      ++stack_.counters_.rsts_in;
      ++stack_.counters_.attempt_fails;
      terminate(CloseReason::Refused);  // "error: connection reset"
    } else {
      stack_.counters_.drop(TcpDrop::RstOutOfWindow);
    }
    return;
  }
  if (!th.has(TcpFlag::Syn)) {  // fifth: neither SYN nor RST
    stack_.counters_.drop(TcpDrop::SynSentNoSyn);
    return;
  }
  // fourth: the SYN
  irs_ = th.seq;
  rcv_.nxt = th.seq + 1;
  // The window our SYN offered counts from here. rcv_.adv was a placeholder (Seq{}), and
  // compared with an IRS about 2^31 away it would look ahead of RCV.NXT and break the
  // acceptability test of every later segment.
  rcv_.adv = rcv_.nxt + std::min<std::uint32_t>(receive_window(), 0xffff);
  take_options(th.options, true);
  snd_.wnd = th.window;  // unscaled in a SYN (RFC 7323 §2.2)
  snd_.max_wnd = snd_.wnd;
  snd_.wl1 = th.seq;
  snd_.wl2 = th.ack;
  if (ack_ok) {
    // Our SYN is acknowledged: SYN-SENT → ESTABLISHED, acknowledge theirs.
    sample_handshake_rtt(seg, now);
    snd_.una = th.ack;
    retries_ = 0;
    stack_.wheel_.cancel_lazy(rtx_timer_);
    enter_established(now);
    ack_now_ = true;
    if (seg.payload_len > 0) process_text(seg);
    if (th.has(TcpFlag::Fin)) {
      peer_fin_ = true;
      peer_fin_seq_ = th.seq + 1 + seg.payload_len;
    }
    process_fin(now);
    if (state_ == TcpState::Closed) return;
    output_pending_ = true;  // the ACK may ride on the application's first data
  } else {
    // Simultaneous open (§3.10.7.3 fourth, "Otherwise"): SYN-SENT → SYN-RECEIVED, send
    // SYN,ACK with the same ISS. Data in the SYN is not queued (the peer resends it).
    set_state(TcpState::SynReceived);
    send_syn(now);
  }
}

// RFC 6298 §3 times the SYN exchange like any segment: by the echoed timestamp when they
// are on (valid after a retransmission too: it echoes the copy that arrived; for a cookie,
// the cookie's TSval, at most 31 ms older than the clock), else by the timer started as
// the SYN or SYN-ACK left, unless it was sent again (Karn) or statelessly (a cookie).
void Tcb::sample_handshake_rtt(const InSegment& seg, time::Instant now) noexcept {
  if (ts_ok_) {
    const auto& ts = seg.th.options.timestamps;
    if (!ts.has_value() || ts->tsecr == 0) return;
    const std::uint32_t ms = ts_now(now) - ts->tsecr;
    if (ms < 0x7fffffff) rtt_.on_sample(std::chrono::milliseconds(ms));
  } else if (syn_timed_) {
    rtt_.on_sample(now - rtt_start_);
  }
}

// First check (§3.10.7.4): is the segment in the receive window? With PAWS first
// (RFC 7323 §5.3).
bool Tcb::check_sequence(const InSegment& seg, time::Instant now) noexcept {
  const wire::TcpHeader& th = seg.th;
  if (ts_ok_ && th.options.timestamps.has_value() && !th.has(TcpFlag::Rst) &&
      static_cast<std::int32_t>(th.options.timestamps->tsval - ts_recent_) < 0) {
    stack_.counters_.drop(TcpDrop::PawsRejected);
    // Old data with an old timestamp (a late original behind its retransmission): a
    // duplicate, reported as such.
    if (seg.payload_len > 0 && th.seq + seg.payload_len <= rcv_.nxt)
      note_duplicate(th.seq, th.seq + seg.payload_len);
    ack_unacceptable(seg, now);
    return false;
  }
  const std::uint32_t len = seg.seg_len();
  const std::uint32_t wnd =
      rcv_.adv > rcv_.nxt ? static_cast<std::uint32_t>(rcv_.adv - rcv_.nxt) : 0;
  bool ok;
  if (len == 0) {
    // RCV.NXT =< SEG.SEQ =< RCV.NXT+RCV.WND: the right edge too (RFC 9293 has "<"). A
    // sender that filled the window exactly has SND.NXT there, and every pure ACK it sends
    // carries it; with a hole at RCV.NXT the window is not zero, and refusing them would
    // refuse their acknowledgments until the hole is repaired. Linux accepts the same.
    // With a zero window this is RFC 9293's SEG.SEQ = RCV.NXT.
    ok = wire::seq_in_window(th.seq, rcv_.nxt, wnd + 1);
  } else {
    ok = wnd != 0 && (wire::seq_in_window(th.seq, rcv_.nxt, wnd) ||
                      wire::seq_in_window(th.seq + (len - 1), rcv_.nxt, wnd));
    // "special allowance should be made to accept valid ACKs, URGs, and RSTs" with a zero
    // window: the ACK is processed, the data is trimmed away by the window of 0.
    ok = ok || (wnd == 0 && th.seq == rcv_.nxt);
  }
  if (ok) return true;
  if (th.has(TcpFlag::Rst)) {
    stack_.counters_.drop(TcpDrop::RstOutOfWindow);  // RFC 5961 §3.2: silently dropped
  } else {
    stack_.counters_.drop(TcpDrop::OutOfWindow);
    if (len > 0 && th.seq < rcv_.nxt) {
      ++stack_.counters_.dup_segs;
      note_duplicate(th.seq, wire::seq_min(th.seq + seg.payload_len, rcv_.nxt));
    }
    ack_unacceptable(seg, now);  // "<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>"
  }
  return false;
}

// Two ends that each find the other's ACKs unacceptable (sequence numbers desynchronized,
// say by an injected segment) would answer each other at line rate: an ACK loop. As Linux
// does (tcp_oow_rate_limited, net.ipv4.tcp_invalid_ratelimit), a segment without data
// gets the answer at most once per kOowAckIntervalMs per connection; late duplicates and
// reordered ACKs then cost no reply either. Data is always answered: its sender needs the
// ACK. A keepalive probe (no data, one before RCV.NXT) arrives far apart and is answered.
void Tcb::ack_unacceptable(const InSegment& seg, time::Instant now) noexcept {
  if (seg.seg_len() == 0) {
    const auto ms = static_cast<std::uint16_t>(stack_.ts_clock(now));
    if (oow_acked_ && static_cast<std::uint16_t>(ms - oow_ack_ms_) < kOowAckIntervalMs) {
      ++stack_.counters_.oow_acks_suppressed;
      return;
    }
    oow_acked_ = true;
    oow_ack_ms_ = ms;
  }
  send_ack(now);
}

// Second check: RST (RFC 5961 §3.2 — only an exact match resets).
bool Tcb::check_rst(const InSegment& seg) noexcept {
  if (seg.th.seq != rcv_.nxt) {
    stack_.counters_.drop(TcpDrop::RstNotExact);
    send_challenge_ack(stack_.now_);
    return false;
  }
  ++stack_.counters_.rsts_in;
  switch (state_) {
    case TcpState::SynReceived:
      ++stack_.counters_.attempt_fails;
      // Passive: back to LISTEN — the embryonic connection goes, the listener stays.
      // Active (simultaneous open): "connection refused".
      terminate(CloseReason::Refused);
      break;
    case TcpState::Established:
    case TcpState::CloseWait:
      ++stack_.counters_.estab_resets;
      terminate(CloseReason::Reset);
      break;
    default:  // FIN-WAIT-1/2, CLOSING, LAST-ACK: CLOSED
      terminate(CloseReason::Reset);
      break;
  }
  return true;
}

// Fourth check: SYN in a synchronized state (RFC 5961 §4.2: challenge ACK) or in
// SYN-RECEIVED of a passive open (§3.10.7.4: back to LISTEN).
bool Tcb::check_syn(const InSegment& seg) noexcept {
  (void)seg;
  if (state_ == TcpState::SynReceived && passive_) {
    ++stack_.counters_.attempt_fails;
    terminate(CloseReason::Refused);
    return false;
  }
  stack_.counters_.drop(TcpDrop::SynOnSynchronized);
  send_challenge_ack(stack_.now_);
  return false;
}

// Fifth check: the ACK field.
bool Tcb::check_ack(InSegment& seg, time::Instant now) noexcept {
  const Seq ack = seg.th.ack;
  if (snd_.una == iss_) {
    // Our SYN is not acknowledged yet (SYN-RECEIVED, or FIN-WAIT-1 after a close() there).
    if (!(iss_ < ack && ack <= snd_.max)) {
      stack_.send_reset_for(seg);  // "<SEQ=SEG.ACK><CTL=RST>"
      stack_.counters_.drop(TcpDrop::SynSentBadAck);
      return false;
    }
    if (passive_ && listener_ != nullptr && !listener_->on_established(*this)) {
      stack_.counters_.drop(TcpDrop::AcceptQueueFull);  // the peer will send its ACK again
      return false;
    }
    sample_handshake_rtt(seg, now);
    snd_.una = iss_ + 1;
    retries_ = 0;
    stack_.wheel_.cancel_lazy(rtx_timer_);
    // SYN-RECEIVED → ESTABLISHED (§3.10.7.4 fifth); the window of this segment is scaled.
    snd_.wnd = std::uint32_t{seg.th.window} << snd_wscale_;
    snd_.max_wnd = std::max(snd_.max_wnd, snd_.wnd);
    snd_.wl1 = seg.th.seq;
    snd_.wl2 = ack;
    enter_established(now);
  }

  // RFC 5961 §5.2: SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT (SND.MAX here: after a
  // timeout SND.NXT went back, but acknowledging what was sent before is fine).
  if (snd_.max < ack) {
    stack_.counters_.drop(TcpDrop::AckTooNew);
    ack_unacceptable(seg, now);
    return false;
  }
  if (ack < snd_.una - std::max<std::uint32_t>(snd_.max_wnd, 1)) {
    stack_.counters_.drop(TcpDrop::AckTooOld);
    send_challenge_ack(now);
    return false;
  }
  const std::uint32_t sacked_before = scoreboard_.sacked_bytes();
  // After a timeout (SND.UNA below `recover`, no recovery) the go-back-N resend has sent
  // SND.UNA again since the SACKed data above it arrived. Only a SACK newly covering what
  // was sent after the resend (data below SND.NXT, which the resend sent as it went, or new
  // data at or above `recover`) says that the resend was lost.
  bool resend_overtaken = false;
  if (sack_ok_ && seg.th.options.sack_count > 0) {
    const bool after_rto = snd_.una < snd_.recover && !in_recovery_;
    const auto resent_sacked = [&] {
      return scoreboard_.sacked_above(snd_.una) - scoreboard_.sacked_above(snd_.nxt) +
             scoreboard_.sacked_above(snd_.recover);
    };
    const std::uint32_t before = after_rto ? resent_sacked() : 0;
    scoreboard_.update(seg.th.options.sack_blocks(), snd_.una, snd_.max);
    resend_overtaken = after_rto && resent_sacked() > before;
  }
  const std::uint32_t old_wnd = snd_.wnd;
  const bool pure_ack = seg.payload_len == 0 && !seg.has(TcpFlag::Syn) && !seg.has(TcpFlag::Fin);
  if (snd_.una < ack) {
    process_new_ack(ack, seg, now);
  } else if (ack == snd_.una && pure_ack && snd_.una != snd_.max && old_wnd != 0 &&
             (sack_ok_ ? scoreboard_.sacked_bytes() > sacked_before
                       : (std::uint32_t{seg.th.window} << snd_wscale_) == old_wnd)) {
    // A duplicate acknowledgment: with SACK, one that reports new SACKed data (RFC 6675
    // §2 "DupAck": the peer's window may change meanwhile, as Linux's does all the time);
    // without, RFC 5681 §2's definition, same window included. A zero window's answers
    // to probes are not.
    process_dup_ack(seg, now);
  }
  // SACKed data above SND.UNA outside recovery (only with SACK; none on the common path):
  // RFC 6675 §5 starts recovery whenever the scoreboard says the first unacknowledged
  // segment is lost, whatever the count of duplicate ACKs; short of that, RFC 8985 §6.2
  // declares it lost once the reordering window has passed — after a timeout, only on
  // evidence about the resend (above): old SACKs alone sent SND.UNA a third time, a
  // reordering window after each ACK of the go-back-N resend.
  if (!scoreboard_.empty() && !in_recovery_ && snd_.una != snd_.max) [[unlikely]] {
    if (scoreboard_.is_lost(snd_.una, effective_mss(), dupthresh_)) {
      dupacks_ = static_cast<std::uint8_t>(dupthresh_ - 1);
      process_dup_ack(seg, now);
    } else if (scoreboard_.sacked_above(snd_.una) > 0 &&
               (resend_overtaken || !(snd_.una < snd_.recover))) {
      arm_reorder(now);
    }
  }
  update_send_window(seg);

  switch (state_) {
    case TcpState::FinWait1:
      if (fin_acked()) {
        set_state(TcpState::FinWait2);  // our FIN is acknowledged
        if (app_closed_) {
          stack_.wheel_.schedule(keepalive_timer_, now + stack_.config().orphan_fin_wait2);
        }
      }
      break;
    case TcpState::Closing:
      if (fin_acked()) {
        enter_time_wait(now);  // CLOSING → TIME-WAIT
        return false;
      }
      break;
    case TcpState::LastAck:
      if (fin_acked()) {
        terminate(CloseReason::Normal);  // LAST-ACK → CLOSED
        return false;
      }
      break;
    default: break;
  }
  return true;
}

void Tcb::process_new_ack(Seq ack, const InSegment& seg, time::Instant now) noexcept {
  const std::uint32_t flight_before = bytes_in_flight();
  const auto acked = static_cast<std::uint32_t>(ack - snd_.una);
  // RFC 3522: the first ACK covering the retransmitted segment echoes a timestamp older
  // than the retransmission's: the original arrived, the "loss" was reordering.
  bool spurious = false;
  if (undo_armed_ && undo_seq_ < ack) {
    undo_armed_ = false;
    const auto& ts = seg.th.options.timestamps;
    spurious =
        ts.has_value() && ts->tsecr != 0 && static_cast<std::int32_t>(ts->tsecr - undo_tsval_) < 0;
  }
  // RTT (RFC 6298 §3 with Karn; RFC 7323 §4 with timestamps).
  if (ts_ok_ && seg.th.options.timestamps.has_value() && seg.th.options.timestamps->tsecr != 0) {
    const std::uint32_t tsecr = seg.th.options.timestamps->tsecr;
    // After a timeout, an echo older than the retransmission is the TSval of a segment
    // whose ACK was lost (the peer answers the duplicate with its older TS.Recent,
    // RFC 7323 §5.3 R2): that "RTT" would count the whole timeout. Karn's rule, in
    // timestamps: no sample from before the retransmission.
    const bool stale = retries_ > 0 && static_cast<std::int32_t>(tsecr - rto_tsval_) < 0;
    const std::uint32_t ms = ts_now(now) - tsecr;
    if (!stale && ms < 0x7fffffff) rtt_.on_sample(std::chrono::milliseconds(ms));
  } else if (rtt_timing_ && rtt_seq_ < ack) {
    rtt_.on_sample(now - rtt_start_);
    rtt_timing_ = false;
  }
  // Acknowledged data leaves the send buffer; the FIN is not in it.
  std::uint32_t data = acked;
  if (fin_queued_ && snd_.una <= fin_seq_ && fin_seq_ < ack) --data;
  sndbuf_.consume(std::min(data, sndbuf_.size()));
  snd_.una = ack;
  if (snd_.nxt < ack) snd_.nxt = ack;
  retries_ = 0;
  scoreboard_.advance(ack);

  // The ACK covers our latest retransmission in a recovery of its own, which left when
  // SND.MAX was rxt_fence_: what lies between, first sent before that retransmission and
  // neither SACKed nor resent, is lost (RACK, RFC 8985 §6.2, with no reordering window in
  // recovery). RFC 6675 sees no hole there, with nothing SACKed above; on the simulator
  // (perf/sim_loss.cpp, seeds 8 and 9) such segments waited 200 ms for the RTO. An ACK
  // sooner than half an SRTT after the retransmission answers the original, which arrived
  // after all (RFC 8985 §6.2 step 2 tells them apart by the minimum RTT).
  bool rack_lost_above = false;
  if (in_recovery_ && sack_ok_ && rack_in_recovery() && !(ack < rack_rxt_end_)) [[unlikely]] {
    const auto half_srtt = static_cast<std::uint32_t>(rtt_.srtt().count() >> 11);
    rack_lost_above = ack < wire::seq_min(rxt_fence_, sent_data_end()) &&
                      drs_ticks(now) - rack_rxt_ticks_ >= half_srtt;
  }
  if (in_recovery_) {
    if (snd_.recover <= ack) {
      // Full acknowledgment: recovery ends (RFC 6582 §3.2 step 3, RFC 6675 §5).
      in_recovery_ = false;
      dupacks_ = 0;
      if (recovery_cut_) cc()->on_recovery_exit(now);  // deflate only what on_loss cut
      // rack_lost_above: data sent after the recovery point and lost, a new episode (below).
    } else if (!sack_ok_) {
      // Partial acknowledgment (RFC 6582 §3.2 step 4): retransmit the next hole, deflate
      // by the amount acknowledged and add back one SMSS.
      const std::uint32_t emss = effective_mss();
      const std::uint32_t cw = cc()->cwnd();
      cc()->set_cwnd(cw > acked ? cw - acked + emss : emss);
      const std::uint32_t len =
          std::min(emss, static_cast<std::uint32_t>(sent_data_end() - snd_.una));
      if (len > 0) send_data_segment(snd_.una, len, true, now);
    } else if (rack_lost_above) {
      rack_lost_end_ = wire::seq_max(rack_lost_end_, rxt_fence_);  // retransmit_in_recovery
    }
  } else if (tlp_out_ && tlp_retrans_ && tlp_end_ <= ack && tlp_repaired(seg)) [[unlikely]] {
    // RFC 8985 §7.4: the probe filled a hole. The loss is answered as a fast retransmit's
    // would be, without a recovery, and this ACK does not grow the window.
    dupacks_ = 0;
    ++stack_.counters_.tlp_repairs;
    if (snd_.recover < tlp_end_) cc()->on_loss(bytes_in_flight(), now);
  } else {
    dupacks_ = 0;
    cc()->on_ack(acked, flight_before, rtt_.has_sample() ? rtt_.srtt() : time::Duration::zero(),
                 now);
  }
  if (spurious) {
    // RFC 4015 §2: undo the window reduction; and expect more reordering (RFC 6675 §2).
    in_recovery_ = false;
    dupacks_ = 0;
    cc()->restore(undo_cwnd_, undo_ssthresh_);
    dupthresh_ = static_cast<std::uint8_t>(std::min(2u * dupthresh_, 48u));
    ++stack_.counters_.spurious_recoveries;
  }
  if (rack_lost_above && !in_recovery_ && !spurious) [[unlikely]] {  // the recovery ended
    ++stack_.counters_.reorder_losses;
    start_recovery(now);
  }
  tlp_out_ = false;  // RFC 8985 §7.4: an ACK of new data ends the probe episode
  // RFC 6298 §5.2/5.3: all acknowledged → timer off; else restart it.
  if (snd_.una == snd_.max) {
    if (rtx_mode_ != RtxMode::Persist) stack_.wheel_.cancel_lazy(rtx_timer_);
  } else {
    arm_loss_timer(now);
  }
  if (want_writable_) {
    autotune_send();
    if (send_space() > 0) {
      want_writable_ = false;
      post(kEvWritable);
    }
  }
}

// RFC 8985 §7.4: the ACK covers what the probe resent. If the peer had it already, it says
// so with a D-SACK (RFC 2883: a first block below the cumulative ACK) over the probe's end
// (Linux's reaches one further when the probe carried our FIN); then only ACKs were lost.
// Without one the probe filled a hole.
bool Tcb::tlp_repaired(const InSegment& seg) const noexcept {
  const auto blocks = seg.th.options.sack_blocks();
  const bool dsack_over_probe = !blocks.empty() && blocks[0].right <= seg.th.ack &&
                                blocks[0].left < tlp_end_ && tlp_end_ <= blocks[0].right;
  return !dsack_over_probe;
}

void Tcb::process_dup_ack(const InSegment& seg, time::Instant now) noexcept {
  (void)seg;
  const std::uint32_t emss = effective_mss();
  if (in_recovery_) {
    if (!sack_ok_) cc()->set_cwnd(cc()->cwnd() + emss);  // RFC 5681 §3.2 step 4: inflate
    return;
  }
  ++dupacks_;
  // After a tail loss probe, its ACK SACKing data above SND.UNA while SND.UNA stays is
  // enough (RACK's reasoning, RFC 8985 §6.2 and §7.4: what was sent a PTO before the
  // probe and is still missing is lost); waiting for three would mean waiting for the RTO,
  // since no more segments are in flight to make them.
  const bool lost = dupacks_ >= dupthresh_ ||
                    (sack_ok_ && (scoreboard_.is_lost(snd_.una, emss, dupthresh_) ||
                                  (tlp_out_ && scoreboard_.sacked_above(snd_.una) > 0)));
  if (!lost) return;
  start_recovery(now);
}

void Tcb::start_recovery(time::Instant now) noexcept {
  const std::uint32_t emss = effective_mss();
  // Holes below `recover` belong to a loss episode already answered (by a timeout, whose
  // go-back-N resend lost again, or an earlier recovery). RFC 6582 §3.2 step 1 forbids
  // NewReno a second fast retransmit there. With SACK we know exactly which segments are
  // missing, so, as Linux does in its loss state, we repair them now — but without cutting
  // the window a second time for the same episode.
  const bool same_episode = snd_.una < snd_.recover;
  if (same_episode && !sack_ok_) return;
  // The last recovery ended with its retransmission of SND.UNA's segment still in flight
  // (data it sent past its recovery point, lost and resent in it). The segment goes again
  // (that resend is often lost too: not sending it cost more timeouts on the simulator),
  // but Eifel cannot judge it: the ACK of the first resend echoes a timestamp older than
  // this one's, which read as reordering (the window came back and DupThresh doubled, up
  // to four times per 2 MB echo on a link that never reorders).
  const bool resent = !same_episode && sack_ok_ && snd_.una < high_rxt_;
  in_recovery_ = true;
  recovery_cut_ = !same_episode;
  if (!same_episode) {
    snd_.recover = snd_.max;
    // Eifel (RFC 3522 §2): remember what the retransmission will carry, to tell later
    // whether the ACK that covers it was caused by it or by the original.
    undo_armed_ = ts_ok_ && !resent;
    undo_tsval_ = ts_now(now);
    undo_cwnd_ = cc()->cwnd();
    undo_ssthresh_ = cc()->ssthresh();
    undo_seq_ = snd_.una;
    cc()->on_loss(bytes_in_flight(), now);
    if (!sack_ok_) cc()->set_cwnd(cc()->ssthresh() + 3 * emss);  // step 3 inflation
  }
  ++stack_.counters_.fast_retransmits;
  if (sack_ok_) ++stack_.counters_.sack_recoveries;
  rtt_timing_ = false;  // Karn
  rack_lost_end_ = snd_.una;
  rack_rxt_end_ = snd_.una;
  rxt_fence_ = snd_.una;  // nothing retransmitted in this recovery yet
  // Retransmit the first unacknowledged segment (RFC 5681 §3.2 step 2, RFC 6675 §5 (3)).
  const std::uint32_t len = std::min(emss, static_cast<std::uint32_t>(sent_data_end() - snd_.una));
  high_rxt_ = snd_.una;
  if (len > 0 && send_data_segment(snd_.una, len, true, now)) {
    high_rxt_ = snd_.una + len;
    rack_rxt_end_ = high_rxt_;
    rxt_fence_ = snd_.max;
    rack_rxt_ticks_ = drs_ticks(now);
  }
  arm_rtx(now);
}

// RFC 9293 §3.10.7.4 fifth, ESTABLISHED: "If SND.UNA =< SEG.ACK =< SND.NXT, the send
// window should be updated. If (SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =<
// SEG.ACK)), set SND.WND <- SEG.WND, set SND.WL1 <- SEG.SEQ, and set SND.WL2 <- SEG.ACK."
void Tcb::update_send_window(const InSegment& seg) noexcept {
  const wire::TcpHeader& th = seg.th;
  if (!(snd_.una <= th.ack && th.ack <= snd_.max)) return;
  if (snd_.wl1 < th.seq || (snd_.wl1 == th.seq && snd_.wl2 <= th.ack)) {
    const std::uint32_t wnd = std::uint32_t{th.window} << snd_wscale_;
    const bool opened = snd_.wnd == 0 && wnd > 0;
    snd_.wnd = wnd;
    snd_.max_wnd = std::max(snd_.max_wnd, wnd);
    snd_.wl1 = th.seq;
    snd_.wl2 = th.ack;
    if (opened && rtx_mode_ == RtxMode::Persist) {
      // The window opened: persist ends; whatever is outstanding is timed by the RTO.
      stack_.wheel_.cancel_lazy(rtx_timer_);
      rtx_mode_ = RtxMode::Retransmit;
      rtt_.reset_backoff();
      if (snd_.una != snd_.max) arm_rtx(stack_.now_);
    }
  }
}

// Seventh: segment text, in ESTABLISHED, FIN-WAIT-1 and FIN-WAIT-2.
void Tcb::process_text(InSegment& seg) noexcept {
  if (!kCanReceive.has(state_) || state_ == TcpState::SynReceived) {
    // CLOSE-WAIT, CLOSING, LAST-ACK: "This should not occur since a FIN has been received".
    stack_.counters_.drop(TcpDrop::DataAfterFin);
    ack_now_ = true;
    return;
  }
  const Seq seq = seg.th.seq + (seg.has(TcpFlag::Syn) ? 1u : 0u);
  if (peer_fin_ && peer_fin_seq_ <= seq) {
    stack_.counters_.drop(TcpDrop::DataAfterFin);
    return;
  }
  rte_mbuf* m = seg.mbuf;
  // Strip the headers; the payload is the first payload_len bytes that follow, whatever
  // comes after them (link padding; in a chain, possibly whole mbufs — the receive buffer
  // takes exactly pkt_len bytes and frees the rest).
  if (rte_pktmbuf_adj(m, static_cast<std::uint16_t>(seg.payload_offset)) == nullptr) return;
  if (rte_pktmbuf_pkt_len(m) > seg.payload_len) m->pkt_len = seg.payload_len;
  seg.mbuf = nullptr;  // the receive buffer owns it now
  const std::uint32_t ooo_before = rcvbuf_.ooo_bytes();
  std::uint32_t window = rcv_.adv > rcv_.nxt ? static_cast<std::uint32_t>(rcv_.adv - rcv_.nxt) : 0;
  // Never accept data past the peer's FIN.
  if (peer_fin_) window = std::min(window, static_cast<std::uint32_t>(peer_fin_seq_ - rcv_.nxt));
  const Seq rcv_before = rcv_.nxt;
  const std::uint32_t len = seg.payload_len;
  const auto r = rcvbuf_.insert(rcv_.nxt, seq, m, window);
  TcpCounters& ctr = stack_.counters_;
  if (r.duplicate > 0) [[unlikely]] {
    // RFC 2883: the bytes below RCV.NXT, or a segment held already out of order.
    if (seq < rcv_before) {
      note_duplicate(seq, wire::seq_min(seq + len, rcv_before));
    } else if (r.duplicate == len) {
      note_duplicate(seq, seq + len);
    }
    ack_now_ = ack_now_ || dsack_pending_;  // the sender may undo a spurious retransmission
  }
  if (r.dropped) ctr.drop(TcpDrop::OutOfOrderLimit);
  if (r.out_of_order && !r.dropped) ++ctr.ooo_queued;
  if (r.advanced == 0 && r.duplicate > 0 && !r.out_of_order) ++ctr.dup_segs;
  rcv_.nxt += r.advanced;
  ctr.bytes_in += r.advanced;
  if (r.advanced > 0) {
    if (app_closed_) {
      stack_.counters_.drop(TcpDrop::DataAfterClose);
      rcvbuf_.consume(rcvbuf_.readable());
    } else {
      post(kEvData);
    }
  }
  // RFC 5681 §4.2 / RFC 9293 §3.8.6.3: ACK out-of-order or duplicate data at once (so the
  // sender sees duplicate ACKs), and a segment that fills a hole; otherwise delay, with
  // at least every second full-sized segment acknowledged.
  const bool filled_hole = ooo_before > 0 && rcvbuf_.ooo_bytes() < ooo_before;
  if (r.advanced == 0 || r.out_of_order || filled_hole || r.trimmed > 0) {
    ack_now_ = true;
  } else {
    // Full-sized: our MSS less the timestamp option the peer puts in every segment. A peer
    // that reports holes in what we send fills the rest of its option space with SACK
    // blocks and its payload shrinks by as much (1448 -> 1436 for one block): still full.
    const std::uint32_t ts_len = ts_ok_ ? kTsOptionLen : 0u;
    const std::uint32_t full = rcv_mss_ - ts_len;
    const std::uint32_t sack_room = wire::TcpOptions::kMaxLen - ts_len;
    // A large-receive-offload aggregate counts as the full segments it holds.
    const std::uint32_t fulls =
        r.advanced >= full ? r.advanced / full : (r.advanced + sack_room >= full ? 1u : 0u);
    unacked_segs_ = static_cast<std::uint8_t>(
        std::min<std::uint32_t>(unacked_segs_ + (fulls > 0 ? 2u * fulls : 1u), 255u));
    schedule_ack(stack_.now_, unacked_segs_ >= 4);  // two full segments count 2 each
  }
}

// Eighth: the FIN, once every byte before it has arrived.
void Tcb::process_fin(time::Instant now) noexcept {
  if (!peer_fin_ || rcv_.nxt != peer_fin_seq_ || !kCanReceive.has(state_)) return;
  rcv_.nxt += 1;
  ack_now_ = true;
  post(kEvPeerClosed);
  switch (state_) {
    case TcpState::SynReceived:
    case TcpState::Established:
      set_state(TcpState::CloseWait);  // ESTABLISHED + FIN → CLOSE-WAIT
      break;
    case TcpState::FinWait1:
      if (fin_acked()) {
        send_ack(now);
        enter_time_wait(now);  // our FIN acknowledged with theirs: TIME-WAIT
      } else {
        set_state(TcpState::Closing);  // simultaneous close: FIN-WAIT-1 → CLOSING
      }
      break;
    case TcpState::FinWait2:
      send_ack(now);
      enter_time_wait(now);  // FIN-WAIT-2 + FIN → TIME-WAIT
      break;
    default: break;
  }
}

// ======================================================================== output

std::uint32_t Tcb::sack_option_room() const noexcept {
  // RFC 9293 §3.7.1 / RFC 6691: the MSS counts data only; the options a segment carries
  // come out of it, or the datagram outgrows the peer's MTU (an af_packet port drops such
  // a frame without a word; a NIC or a switch does the same). The timestamps ride on every
  // segment (effective_mss()), SACK blocks (NOP NOP kind length 8n) on every segment while
  // we hold out-of-order data or a duplicate to report (RFC 2883): one block per held node
  // at most, one for the duplicate, and at most 3 beside timestamps (4 without). Counting
  // nodes rather than blocks may leave a few bytes unused while reassembly is under way;
  // it costs no walk of the queue. snd_mss_ >= kMinPeerMss leaves room for the 40 bytes
  // options can take.
  const std::uint32_t blocks = rcvbuf_.ooo_nodes() + (dsack_pending_ ? 1u : 0u);
  return 4u + 8u * std::min<std::uint32_t>(blocks, ts_ok_ ? 3u : 4u);
}

std::uint32_t Tcb::bytes_in_flight() const noexcept {
  return static_cast<std::uint32_t>(snd_.nxt - snd_.una);
}

std::uint32_t Tcb::unsent_bytes() const noexcept {
  if (snd_.una == iss_) return 0;  // SYN not acknowledged: nothing goes yet
  std::uint32_t sent = static_cast<std::uint32_t>(snd_.nxt - snd_.una);
  if (fin_queued_ && fin_seq_ < snd_.nxt) --sent;
  return sndbuf_.size() > sent ? sndbuf_.size() - sent : 0;
}

std::uint32_t Tcb::receive_window() const noexcept {
  const std::uint32_t buf = rcv_limit_;
  const std::uint32_t used = rcvbuf_.readable() + rcvbuf_.ooo_bytes();
  const std::uint32_t space = buf > used ? buf - used : 0;
  return std::min(space, std::uint32_t{0xffff} << rcv_wscale_);
}

std::uint16_t Tcb::window_field() noexcept {
  // The right edge we offer: never to the left of what we offered before (RFC 9293
  // §3.8.6.2.2 "shrinking the window" is discouraged) and only moved right by at least
  // min(buffer/2, MSS) — receiver-side silly window syndrome avoidance.
  const Seq want = rcv_.nxt + receive_window();
  Seq edge = rcv_.adv < rcv_.nxt ? rcv_.nxt : rcv_.adv;
  const std::uint32_t step = std::min(stack_.config().recv_buffer / 2, std::uint32_t{rcv_mss_});
  if (edge < want && static_cast<std::uint32_t>(want - edge) >= step) edge = want;
  if (edge < want && edge == rcv_.nxt) edge = want;  // a closed window reopens at once
  std::uint32_t wnd = static_cast<std::uint32_t>(edge - rcv_.nxt);
  std::uint32_t field = wnd >> rcv_wscale_;
  if (field > 0xffff) field = 0xffff;
  // Scaling rounds down; round up instead when that would shrink the edge we offered.
  if ((field << rcv_wscale_) < wnd && field < 0xffff) ++field;
  rcv_.adv = wire::seq_max(rcv_.adv, rcv_.nxt + (field << rcv_wscale_));
  return static_cast<std::uint16_t>(field);
}

wire::TcpOptions Tcb::segment_options(std::uint8_t flags, time::Instant now) noexcept {
  wire::TcpOptions o{};
  if (ts_ok_) o.timestamps = wire::TcpTimestamps{ts_now(now), ts_recent_};
  if (sack_ok_ && (flags & TcpFlag::Rst) == 0 && (dsack_pending_ || rcvbuf_.ooo_bytes() > 0))
      [[unlikely]] {
    const std::size_t cap = ts_ok_ ? 3 : 4;
    std::size_t n = 0;
    if (dsack_pending_) {
      // RFC 2883 §4: the duplicate first, once; the blocks of held data after it.
      o.sack[n++] = wire::SackBlock{dsack_left_, dsack_right_};
      dsack_pending_ = false;
      ++stack_.counters_.dsacks_sent;
    }
    if (rcvbuf_.ooo_bytes() > 0) {
      n += rcvbuf_.sack_blocks(std::span<wire::SackBlock>(o.sack.data() + n, cap - n));
    }
    o.sack_count = static_cast<std::uint8_t>(n);
  }
  return o;
}

void Tcb::note_duplicate(Seq left, Seq right) noexcept {
  if (!sack_ok_ || !(left < right)) return;
  dsack_left_ = left;
  dsack_right_ = right;
  dsack_pending_ = true;
}

std::uint32_t Tcb::usable_window() const noexcept {
  // The right edge the peer offered: SND.WND counts from the ACK that carried it (SND.WL2).
  // SND.UNA + SND.WND would move the edge right whenever an ACK advances SND.UNA but its
  // window is not taken (an old SEG.SEQ fails the SND.WL1 test of §3.10.7.4 — a
  // retransmission, say), and we would send beyond what the peer has room for.
  const Seq right = snd_.wl2 + snd_.wnd;
  return snd_.nxt < right ? static_cast<std::uint32_t>(right - snd_.nxt) : 0;
}

void Tcb::output(time::Instant now) noexcept {
  // Closed in SYN-RECEIVED with nothing queued: the FIN goes before the SYN is
  // acknowledged (RFC 9293 §3.10.4); nothing else can (unsent_bytes() is 0).
  const bool fin_before_synack = state_ == TcpState::FinWait1 && snd_.una == iss_;
  if ((state_ == TcpState::SynSent || state_ == TcpState::SynReceived || snd_.una == iss_ ||
       state_ == TcpState::Closed) &&
      !fin_before_synack) {
    if (ack_now_ && state_ != TcpState::SynSent && state_ != TcpState::Closed) send_ack(now);
    return;
  }
  if (in_recovery_ && sack_ok_) retransmit_in_recovery(now);

  const std::uint32_t emss = effective_mss();
  // With TSO one packet carries many segments' worth; the port cuts it at emss.
  const std::uint32_t tso_max = stack_.resources().tso_max;
  const std::uint32_t max_burst = tso_max > emss ? tso_max - tso_max % emss : emss;
  // RFC 5681 §4.1: restart from the initial window after an idle period of one RTO.
  if (snd_.una == snd_.max && unsent_bytes() > 0 && now - last_tx_ > rtt_.rto() &&
      last_tx_ != time::Instant{}) {
    cc()->on_idle_restart(now);
  }
  bool sent = false;
  for (;;) {
    // Resending after a timeout: skip what the peer has SACKed (RFC 6675 §5.1).
    std::uint32_t gap = UINT32_MAX;
    if (sack_ok_ && snd_.nxt < snd_.max) {
      for (const auto& r : scoreboard_.ranges()) {
        if (!(snd_.nxt < r.left) && snd_.nxt < r.right) snd_.nxt = wire::seq_min(r.right, snd_.max);
        if (snd_.nxt < r.left) {
          gap = static_cast<std::uint32_t>(r.left - snd_.nxt);
          break;
        }
      }
    }
    const std::uint32_t unsent = unsent_bytes();
    if (unsent == 0) break;
    std::uint32_t flight = bytes_in_flight();
    if (in_recovery_ && sack_ok_) {
      const std::uint32_t gone =
          scoreboard_.sacked_bytes() +
          scoreboard_.hole_bytes_from(wire::seq_max(high_rxt_, snd_.una), snd_.una);
      flight = flight > gone ? flight - gone : 0;  // RFC 6675 pipe, simplified
    }
    const std::uint32_t cwnd = cc()->cwnd();
    const std::uint32_t cwnd_room = cwnd > flight ? cwnd - flight : 0;
    const std::uint32_t room = std::min(usable_window(), cwnd_room);
    std::uint32_t len = std::min({unsent, max_burst, gap});
    if (room < len) {
      if (room >= emss) {
        len = room - room % emss;  // TSO: the full segments that fit
      } else {
        // Sender SWS avoidance (RFC 9293 §3.8.6.2.1): a partial segment only if it is at
        // least half the largest window the peer has offered.
        if (room == 0 || room < snd_.max_wnd / 2) break;
        len = room;
      }
    }
    if (len > emss) len = tso_length(len, emss);
    // Nagle (RFC 9293 §3.7.4): a short segment waits while data is unacknowledged,
    // unless it carries the last byte before our FIN.
    const bool last_before_fin = fin_queued_ && len == unsent;
    if (len < emss && snd_.una != snd_.nxt && !no_delay_ && !last_before_fin) break;
    if (!send_data_segment(snd_.nxt, len, snd_.nxt < snd_.max, now)) break;
    sent = true;
  }
  // The timer was armed when the flight was what it was then — one segment, say, which
  // waits out the peer's delayed ACK and so usually gets the RTO. The burst made it longer:
  // probe the tail after 2*SRTT after all (RFC 8985 §7.2 arms after the transmission).
  // Without this a flight whose one ACK is lost waited the full RTO, time after time.
  if (sent && bytes_in_flight() > emss && rtx_mode_ == RtxMode::Retransmit &&
      rtx_timer_.scheduled()) {
    arm_probe(now);
  }
  // A FIN with no data left to carry it.
  if (fin_queued_ && snd_.nxt == fin_seq_ && unsent_bytes() == 0) {
    OutSegment s;
    s.seq = fin_seq_;
    s.ack = rcv_.nxt;
    s.flags = TcpFlag::Fin | TcpFlag::Ack;
    s.window = window_field();
    s.options = segment_options(s.flags, now);
    if (stack_.transmit(tuple_, s, nullptr)) {
      if (fin_seq_ < snd_.max) ++stack_.counters_.retrans_segs;
      snd_.nxt = fin_seq_ + 1;
      snd_.max = wire::seq_max(snd_.max, snd_.nxt);
      ack_now_ = false;
      unacked_segs_ = 0;
      stack_.wheel_.cancel_lazy(delack_timer_);
      if (!rtx_timer_.scheduled()) arm_rtx(now);
    }
  }
  // Data waiting and nothing in flight: the window holds it back, whether zero (§3.8.6.1:
  // probe it) or too small for SWS avoidance (RFC 1122 §4.2.3.4: the override timeout).
  // Either way only this timer moves things on if the peer's window update is lost.
  if (unsent_bytes() > 0 && snd_.una == snd_.nxt &&
      !(rtx_timer_.scheduled() && rtx_mode_ == RtxMode::Persist)) {
    arm_persist(now);
  }
  if (ack_now_) send_ack(now);
}

// A TSO packet's length: whole segments, within the port's limit on mbufs per packet.
std::uint32_t Tcb::tso_length(std::uint32_t len, std::uint32_t emss) const noexcept {
  const std::uint16_t seg_max = stack_.resources().tx_seg_max;
  if (seg_max > 1) {
    len = sndbuf_.bytes_within(static_cast<std::uint32_t>(snd_.nxt - snd_.una), len,
                               seg_max - 1u);  // one mbuf holds the headers
  }
  // A tail shorter than a segment goes in the packet (it is the last segment); otherwise
  // whole segments only, so the next packet starts on a segment boundary.
  if (len > emss && len % emss != 0 && len != unsent_bytes()) len -= len % emss;
  return len;
}

bool Tcb::send_data_segment(Seq seq, std::uint32_t len, bool retransmission,
                            time::Instant now) noexcept {
  OutSegment s;
  s.seq = seq;
  s.ack = rcv_.nxt;
  s.flags = TcpFlag::Ack;
  const Seq end = seq + len;
  const Seq data_end = snd_.una + sndbuf_.size();
  if (end == data_end) s.flags |= TcpFlag::Psh;
  const bool fin = fin_queued_ && end == fin_seq_;
  if (fin) s.flags |= TcpFlag::Fin;
  s.window = window_field();
  s.options = segment_options(s.flags, now);
  s.data_offset = static_cast<std::uint32_t>(seq - snd_.una);
  s.data_len = len;
  const std::uint32_t emss = effective_mss();
  if (len > emss) s.tso_segsz = static_cast<std::uint16_t>(emss);
  if (!stack_.transmit(tuple_, s, &sndbuf_)) return false;

  const Seq seg_end = end + (fin ? 1u : 0u);
  if (seq == snd_.nxt) snd_.nxt = seg_end;
  if (snd_.max < seg_end) {
    const Seq from = wire::seq_max(seq, snd_.max);
    if (from < end) stack_.counters_.bytes_out += static_cast<std::uint32_t>(end - from);
    snd_.max = seg_end;
  }
  if (retransmission) {
    stack_.counters_.retrans_segs += (len + emss - 1) / emss;
  } else if (!rtt_timing_ && !ts_ok_) {
    rtt_timing_ = true;  // time this segment (RFC 6298 §3: one at a time, never a retransmission)
    rtt_seq_ = seq;
    rtt_start_ = now;
  }
  ack_now_ = false;
  unacked_segs_ = 0;
  stack_.wheel_.cancel_lazy(delack_timer_);
  last_tx_ = now;
  if (!rtx_timer_.scheduled() || rtx_mode_ == RtxMode::Persist) arm_loss_timer(now);
  return true;
}

// RFC 6675 §5 (4)/(C): during SACK recovery, retransmit lost holes while pipe < cwnd.
void Tcb::retransmit_in_recovery(time::Instant now) noexcept {
  const std::uint32_t emss = effective_mss();
  // A lost retransmission (RACK's reasoning, RFC 8985 §6.2, applied to retransmissions):
  // data first sent after our last retransmission has been SACKed while the holes we
  // retransmitted are still holes. Short of reordering, those retransmissions were lost;
  // RFC 6675 alone would leave them to the RTO. Go over them again from SND.UNA.
  // (high_rxt_ back at SND.UNA keeps this from firing again before the next resend, which
  // moves rxt_fence_.)
  if (snd_.una < high_rxt_ && scoreboard_.sacked_above(rxt_fence_) > 0) {
    high_rxt_ = snd_.una;
    ++stack_.counters_.lost_retransmits;
  }
  // RACK's reordering window in recovery (RFC 8985 §6.2): none while no reordering has
  // been seen, so every hole below SACKed data is lost at once. In a recovery of its own
  // a hole at or above high_rxt_ holds data sent before the SACKed data above it (sequence
  // order is sending order for first transmissions), so the rule is exact — but for what
  // the last recovery resent and is still in flight when this one starts (start_recovery),
  // which may go again at once; keeping it out made no difference on the simulator. In
  // the repair that follows a timeout (recovery_cut_ false) the go-back-N resend may have
  // sent a hole again after its SACKed neighbours arrived: there RFC 6675's count rules.
  // RFC 6675 alone waits for three segments SACKed above each hole; against Linux over a
  // 5 % lossy link a partial ACK with one SACKed segment above the next hole, its later
  // ACKs lost, waited for the RTO.
  const bool rack_lost = rack_in_recovery();
  const Seq data_end = sent_data_end();  // never the FIN's sequence number
  for (int guard = 0; guard < 64; ++guard) {
    const Seq from = wire::seq_max(high_rxt_, snd_.una);
    auto hole = scoreboard_.next_hole(from, emss);
    if (hole.left == hole.right && rack_lost) {
      // Above the highest SACKed byte: lost up to rack_lost_end_ (process_new_ack).
      const Seq end = wire::seq_min(rack_lost_end_, data_end);
      if (hole.left < end)
        hole.right = hole.left + std::min(emss, static_cast<std::uint32_t>(end - hole.left));
    }
    const auto len = static_cast<std::uint32_t>(hole.right - hole.left);
    // Lost: as above; by RFC 6675's IsLost; or — after a tail loss probe whose answer
    // SACKed data above the hole while the hole stayed — by RACK's reasoning (§7.4).
    const bool lost = rack_lost || scoreboard_.is_lost(hole.left, emss, dupthresh_) ||
                      (tlp_out_ && scoreboard_.sacked_above(hole.left) > 0);
    if (len == 0 || !lost) return;
    const std::uint32_t flight = bytes_in_flight();
    const std::uint32_t gone =
        scoreboard_.sacked_bytes() + scoreboard_.hole_bytes_from(from, snd_.una);
    const std::uint32_t pipe = flight > gone ? flight - gone : 0;
    if (pipe + len > cc()->cwnd() && pipe > 0) return;
    if (!send_data_segment(hole.left, len, true, now)) return;
    high_rxt_ = hole.right;
    rack_rxt_end_ = hole.right;
    rxt_fence_ = snd_.max;
    rack_rxt_ticks_ = drs_ticks(now);
  }
}

void Tcb::send_syn(time::Instant now) noexcept {
  const TcpConfig& c = stack_.config();
  OutSegment s;
  s.seq = iss_;
  s.flags = TcpFlag::Syn;
  if (state_ != TcpState::SynSent) {  // SYN-RECEIVED, or FIN-WAIT-1 closed from there
    s.flags |= TcpFlag::Ack;
    s.ack = rcv_.nxt;
  }
  // The window in a SYN is never scaled (RFC 7323 §2.2).
  const std::uint32_t wnd = std::min<std::uint32_t>(receive_window(), 0xffff);
  s.window = static_cast<std::uint16_t>(wnd);
  if (rcv_.adv < rcv_.nxt + wnd || rcv_.adv == Seq{}) rcv_.adv = rcv_.nxt + wnd;
  const bool active = state_ == TcpState::SynSent;
  s.options.mss = rcv_mss_;
  if (active ? c.window_scaling : ws_ok_) s.options.window_scale = rcv_wscale_;
  s.options.sack_permitted = active ? c.sack : sack_ok_;
  if (active ? c.timestamps : ts_ok_) {
    s.options.timestamps = wire::TcpTimestamps{ts_now(now), active ? 0u : ts_recent_};
  }
  if (stack_.transmit(tuple_, s, nullptr)) {
    snd_.nxt = iss_ + 1;
    snd_.max = wire::seq_max(snd_.max, snd_.nxt);
  }
  if (retries_ == 0) rtt_start_ = now;
  syn_timed_ = retries_ == 0;  // Karn: a repeated SYN's answer cannot be timed
  arm_rtx(now);
}

void Tcb::send_ack(time::Instant now) noexcept {
  OutSegment s;
  // After a timeout SND.NXT has gone back to SND.UNA; an ACK carries the next new octet,
  // SND.MAX, as in 4.4BSD, or the peer's SND.WL1 check (§3.10.7.4 fifth) ignores the
  // window of every ACK we send until we catch up, and it keeps sending into a window
  // that is no longer there. While persisting, SND.MAX counts the probe byte: not then.
  s.seq = rtx_mode_ == RtxMode::Persist ? snd_.nxt : snd_.max;
  s.ack = rcv_.nxt;
  s.flags = TcpFlag::Ack;
  s.window = window_field();
  s.options = segment_options(s.flags, now);
  if (stack_.transmit(tuple_, s, nullptr)) {
    ack_now_ = false;
    unacked_segs_ = 0;
    stack_.wheel_.cancel_lazy(delack_timer_);
  }
}

void Tcb::send_challenge_ack(time::Instant now) noexcept {
  if (stack_.challenge_ack_allowed(now)) {
    ++stack_.counters_.challenge_acks;
    send_ack(now);
  } else {
    ++stack_.counters_.challenge_acks_suppressed;
  }
}

void Tcb::send_rst_for_abort(time::Instant now) noexcept {
  OutSegment s;
  s.seq = snd_.nxt;  // RFC 9293 §3.10.5: <SEQ=SND.NXT><CTL=RST>
  s.ack = rcv_.nxt;
  s.flags = TcpFlag::Rst | TcpFlag::Ack;
  if (ts_ok_) s.options.timestamps = wire::TcpTimestamps{ts_now(now), ts_recent_};
  if (stack_.transmit(tuple_, s, nullptr)) ++stack_.counters_.rsts_out;
}

void Tcb::schedule_ack(time::Instant now, bool immediate) noexcept {
  if (immediate) {
    ack_now_ = true;
  } else if (!delack_timer_.scheduled()) {
    stack_.wheel_.rearm_lazy(delack_timer_, now + stack_.config().delayed_ack);
  }
}

// The application freed receive space: tell the peer when that opens the window by a
// useful amount (two segments, or half the buffer), RFC 9293 §3.8.6.2.2.
void Tcb::maybe_window_update() noexcept {
  if (!kSynchronized.has(state_) || !kCanReceive.has(state_)) return;
  const std::uint32_t offered =
      rcv_.adv > rcv_.nxt ? static_cast<std::uint32_t>(rcv_.adv - rcv_.nxt) : 0;
  const std::uint32_t now_wnd = receive_window();
  const std::uint32_t step = std::min(stack_.config().recv_buffer / 2, 2u * rcv_mss_);
  if (now_wnd > offered && now_wnd - offered >= step) {
    ack_now_ = true;  // sent by the dispatch that follows, on data if there is some
    output_pending_ = true;
  }
}

// ======================================================================== buffer auto-tuning

void Tcb::drs_restart(time::Instant now) noexcept {
  // The round lasts SRTT: on a short path what is read in a round trip, not in a
  // millisecond (the timestamp clock's tick; Linux's right-sizing measures its rounds on it
  // and sizes a LAN connection's buffer for far more than is ever in flight: on vhost-user
  // 4 MB buffers moved a fifth less than 1 MB ones, more memory cycled per byte). Without
  // a sample yet, 1 ms. SRTT is the handshake's until data is acknowledged; a queue that
  // grows the round trip beyond it stops the growth once the window holds twice what the
  // path carries, as it should (the queue then holds the rest).
  using std::chrono::microseconds;
  const time::Duration rtt = rtt_.has_sample()
                                 ? std::max<time::Duration>(rtt_.srtt(), microseconds{100})
                                 : time::Duration{std::chrono::milliseconds{1}};
  drs_copied_ = 0;
  drs_start_ = drs_ticks(now);
  drs_round_ = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(static_cast<std::uint64_t>(rtt.count()) >> 10, 0x7fffffff));
}

void Tcb::autotune_receive(time::Instant now) noexcept {
  const std::uint64_t per_rtt = drs_copied_;  // a round trip or more (see note_read)
  drs_restart(now);
  const std::uint64_t before = drs_space_;
  if (per_rtt <= before) return;  // no more than in an earlier round
  // An application that leaves most of the buffer unread is what holds the peer back: a
  // larger buffer would only hold more unread data.
  if (rcvbuf_.readable() > rcv_limit_ / 2) return;
  drs_space_ = static_cast<std::uint32_t>(per_rtt);
  const TcpConfig& c = stack_.config();
  // Never more than the window field can offer with the scale agreed.
  const std::uint32_t ceiling = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(recv_buffer_ceiling(c), std::uint64_t{0xffff} << rcv_wscale_));
  // Room for twice what the application took in a round trip, so that the peer's window
  // can double (slow start) without waiting for ours, plus 16 segments of slack; and while
  // that amount grows, up to three times as much (a doubling gives 3x).
  std::uint64_t target = 2 * per_rtt + 16ull * rcv_mss_;
  if (before > 0) target += 2 * target * std::min(per_rtt - before, before) / before;
  if (grow_buffer(rcv_limit_, target, ceiling)) ++stack_.counters_.recv_buffer_grown;
}

bool Tcb::grow_buffer(std::uint32_t& limit, std::uint64_t target, std::uint32_t ceiling) noexcept {
  if (target <= limit || limit >= ceiling) return false;
  const auto want = static_cast<std::uint32_t>(std::min<std::uint64_t>(target, ceiling));
  const std::uint32_t grow = stack_.autotune_take(want - limit);
  limit += grow;
  return grow > 0;
}

void Tcb::autotune_send() noexcept {
  // Linux's rule (tcp_sndbuf_expand): twice the congestion window, one window in flight
  // and one queued behind it. The window grows only while the buffer lets it fill
  // (window validation), so the two grow together. Unlike Linux, never beyond twice the
  // largest window the peer offered: what slow start overshoots it by never goes out.
  const std::uint64_t window = std::min(cc()->cwnd(), snd_.max_wnd);
  if (grow_buffer(snd_limit_, 2 * window, send_buffer_ceiling(stack_.config())))
    ++stack_.counters_.send_buffer_grown;
}

std::uint32_t Tcb::ts_now(time::Instant now) const noexcept {
  return stack_.ts_clock(now) + ts_offset_;
}

// ======================================================================== timers

void Tcb::arm_loss_timer(time::Instant now) noexcept {
  if (!arm_probe(now)) arm_rtx(now);
}

bool Tcb::arm_probe(time::Instant now) noexcept {
  // RFC 8985 §7.2: with SACK and an RTT estimate, probe the tail after PTO = 2*SRTT (plus
  // the peer's worst-case delayed ACK when a single segment is out), if that is sooner
  // than the RTO; one probe per episode.
  if (sack_ok_ && rtt_.has_sample() && !in_recovery_ && retries_ == 0 && !tlp_out_ &&
      kSynchronized.has(state_)) {
    time::Duration pto = 2 * rtt_.srtt();
    if (bytes_in_flight() <= effective_mss()) pto += std::chrono::milliseconds(200);
    pto = std::max<time::Duration>(pto, std::chrono::milliseconds(10));
    if (pto < rtt_.rto()) {
      rtx_mode_ = RtxMode::Probe;
      stack_.wheel_.rearm_lazy(rtx_timer_, now + pto);
      return true;
    }
  }
  return false;
}

// RFC 8985 §7.3, with one deliberate difference: the probe is the last segment sent again,
// even when a new one could go (the RFC prefers the new one, as Linux does). A probe is due
// when no ACK has come for 2 SRTT. Most often the flight arrived and its one ACK was lost
// (a fast sender's burst is acknowledged at once, by one ACK): a new segment then arrives
// in order and alone, and the receiver holds its ACK for its delayed-ACK time (Linux 40
// ms, others up to 200), where a duplicate is acknowledged at once, with a D-SACK. When the
// tail itself was lost, either probe lands above a hole and is SACKed at once, which starts
// recovery (check_ack). Against Linux over a 5 % lossy link the new-data probe cost 50 ms
// each time, several times per 2 MB echo.
void Tcb::send_tail_loss_probe(time::Instant now) noexcept {
  tlp_out_ = true;
  tlp_retrans_ = false;
  ++stack_.counters_.tail_loss_probes;
  const std::uint32_t emss = effective_mss();
  const Seq data_end = sent_data_end();
  if (snd_.una < data_end) {
    const auto outstanding = static_cast<std::uint32_t>(data_end - snd_.una);
    const std::uint32_t len = std::min(outstanding, emss);
    if (send_data_segment(data_end - len, len, true, now)) {
      tlp_retrans_ = true;
      tlp_end_ = data_end;
    }
  } else {
    output(now);  // only a FIN is out: resend it
  }
  arm_rtx(now);
}

// RACK's reordering window (RFC 8985 §6.2) for the first hole: segments sent after it have
// arrived and it has not. Three duplicate ACKs (or a probe) may never come when few
// segments are in flight or ACKs are lost, leaving it to the RTO; instead it is declared
// lost a quarter of the smoothed RTT after the first such ACK, longer once reordering has
// been seen (dupthresh_ rose with each undone recovery), never longer than the SRTT. The
// wheel's tick (1 ms) rounds it up. Armed once per wait: later duplicate ACKs keep the
// deadline, an ACK of new data starts a new wait for the new first hole.
void Tcb::arm_reorder(time::Instant now) noexcept {
  if (rtx_timer_.scheduled() && (rtx_mode_ == RtxMode::Reorder || rtx_mode_ == RtxMode::Persist))
    return;  // already waiting; or probing a zero window, which its own timer serves
  const time::Duration srtt = rtt_.srtt();
  const time::Duration w = std::min<time::Duration>(srtt / 4 * dupthresh_ / kDupThresh, srtt);
  rtx_mode_ = RtxMode::Reorder;
  stack_.wheel_.rearm_lazy(rtx_timer_, now + w);
}

void Tcb::arm_rtx(time::Instant now) noexcept {
  rtx_mode_ = RtxMode::Retransmit;
  stack_.wheel_.rearm_lazy(rtx_timer_, now + rtt_.rto());
}

void Tcb::arm_persist(time::Instant now) noexcept {
  rtx_mode_ = RtxMode::Persist;
  // RFC 9293 §3.8.6.1: probe at RTO intervals with exponential back-off, never giving up.
  stack_.wheel_.rearm_lazy(rtx_timer_, now + rtt_.rto());
}

void Tcb::restart_keepalive(time::Instant now) noexcept {
  if (!kSynchronized.has(state_) || (state_ == TcpState::FinWait2 && app_closed_)) return;
  stack_.wheel_.rearm_lazy(keepalive_timer_, now + stack_.config().keepalive_idle);
}

void Tcb::cancel_timers() noexcept {
  stack_.wheel_.cancel(rtx_timer_);
  stack_.wheel_.cancel(delack_timer_);
  stack_.wheel_.cancel(keepalive_timer_);
}

void Tcb::on_rtx_timer() noexcept {
  const time::Instant now = stack_.now_;
  const TcpConfig& c = stack_.config();
  TcpCounters& ctr = stack_.counters_;
  if (rtx_mode_ == RtxMode::Probe) {
    rtx_mode_ = RtxMode::Retransmit;
    if (snd_.una != snd_.max && kSynchronized.has(state_)) {
      send_tail_loss_probe(now);
    }
    stack_.dispatch(*this);
    return;
  }
  if (rtx_mode_ == RtxMode::Reorder) {
    rtx_mode_ = RtxMode::Retransmit;
    if (kSynchronized.has(state_) && !in_recovery_ && snd_.una != snd_.max &&
        scoreboard_.sacked_above(snd_.una) > 0) {
      ++ctr.reorder_losses;
      start_recovery(now);
      output(now);  // the rest of recovery, and what the window allows
    } else {
      arm_loss_timer(now);
    }
    stack_.dispatch(*this);
    return;
  }
  if (rtx_mode_ == RtxMode::Persist) {
    // Zero-window probe: one byte beyond the window (RFC 9293 §3.8.6.1).
    if (unsent_bytes() > 0 && usable_window() == 0) {
      ++ctr.window_probes;
      OutSegment s;
      s.seq = snd_.nxt;
      s.ack = rcv_.nxt;
      s.flags = TcpFlag::Ack;
      s.window = window_field();
      s.options = segment_options(s.flags, now);
      s.data_offset = static_cast<std::uint32_t>(snd_.nxt - snd_.una);
      s.data_len = 1;
      // The byte is sent: a peer that takes it acknowledges SND.NXT + 1, which must not
      // count as acknowledging data never sent (SND.NXT moves when sending resumes).
      if (stack_.transmit(tuple_, s, &sndbuf_)) snd_.max = wire::seq_max(snd_.max, snd_.nxt + 1);
      rtt_.backoff();
      arm_persist(now);
    } else {
      rtx_mode_ = RtxMode::Retransmit;
      // RFC 1122 §4.2.3.4 override timeout: the window is open but smaller than sender
      // SWS avoidance wants; send what it allows (its ACK brings the current window).
      const std::uint32_t len = std::min({unsent_bytes(), usable_window(), effective_mss()});
      if (len > 0 && snd_.una == snd_.nxt)
        send_data_segment(snd_.nxt, len, snd_.nxt < snd_.max, now);
      output(now);
    }
    stack_.dispatch(*this);
    return;
  }
  // FIN-WAIT-1 entered from SYN-RECEIVED: our SYN is still unacknowledged, so the SYN,ACK
  // is what goes again (then the FIN), under the SYN-ACK retry limit.
  const bool syn_pending = state_ == TcpState::FinWait1 && snd_.una == iss_;
  switch (syn_pending ? TcpState::SynReceived : state_) {
    case TcpState::SynSent:
    case TcpState::SynReceived: {
      const std::uint8_t limit = state_ == TcpState::SynSent ? c.syn_retries : c.synack_retries;
      if (retries_ >= limit) {
        ++ctr.attempt_fails;
        ++ctr.timeouts;
        terminate(CloseReason::TimedOut);  // SYN-SENT → CLOSED on connect timeout
        break;
      }
      ++retries_;
      ++(state_ == TcpState::SynSent ? ctr.syn_retrans : ctr.synack_retrans);
      rtt_.backoff();
      send_syn(now);
      if (syn_pending) output(now);  // the FIN after the SYN,ACK
      break;
    }
    case TcpState::Closed:
    case TcpState::Listen:
    case TcpState::TimeWait: break;
    default: {
      if (snd_.una == snd_.max) break;  // nothing outstanding any more
      if (retries_ >= c.max_retries) {
        ++ctr.timeouts;
        terminate(CloseReason::TimedOut);  // RFC 9293 §3.8.3 R2: give up
        break;
      }
      ++ctr.rto_expired;
      undo_armed_ = false;  // a timeout is answered on its own terms
      // RFC 5681 §3.1 / RFC 6298 §5.5-5.6: loss window, back off, go back to SND.UNA.
      if (retries_ == 0) cc()->on_rto(bytes_in_flight(), now);
      tlp_retrans_ = false;  // the timeout has answered for whatever the probe would find
      ++retries_;
      rtt_.backoff();
      rtt_timing_ = false;
      in_recovery_ = false;
      dupacks_ = 0;
      // RFC 6675 §5.1: keep using what the peer reported SACKed, so the resend below skips
      // data it holds. A second timeout in a row may mean it reneged (RFC 2018 §8): then
      // forget the scoreboard and resend everything.
      if (retries_ > 1) scoreboard_.clear();
      snd_.recover = snd_.max;  // RFC 6582 §4: no fast retransmit for these old ACKs
      snd_.nxt = snd_.una;
      high_rxt_ = snd_.una;
      rto_tsval_ = ts_now(now);  // what the resend below carries
      // Resend the first segment (or the FIN) now, whatever Nagle or the window say.
      const std::uint32_t unacked_data = static_cast<std::uint32_t>(sent_data_end() - snd_.una);
      const std::uint32_t len = std::min({unacked_data, effective_mss(), sndbuf_.size()});
      if (len > 0) {
        send_data_segment(snd_.una, len, true, now);
      } else {
        output(now);  // only the FIN is outstanding
      }
      arm_rtx(now);
      break;
    }
  }
  stack_.dispatch(*this);
}

void Tcb::on_delack_timer() noexcept {
  if (kSynchronized.has(state_) && state_ != TcpState::TimeWait) {
    ++stack_.counters_.delayed_acks;
    send_ack(stack_.now_);
  }
  stack_.dispatch(*this);
}

void Tcb::on_keepalive_timer() noexcept {
  const time::Instant now = stack_.now_;
  const TcpConfig& c = stack_.config();
  if (state_ == TcpState::FinWait2 && app_closed_) {
    terminate(CloseReason::Normal);  // an orphaned FIN-WAIT-2 cannot last for ever
  } else if (keepalive_ && kSynchronized.has(state_)) {
    if (now - last_rx_ < c.keepalive_idle) {
      stack_.wheel_.schedule(keepalive_timer_, last_rx_ + c.keepalive_idle);
    } else if (probes_ >= c.keepalive_count) {
      ++stack_.counters_.timeouts;
      terminate(CloseReason::TimedOut);  // RFC 1122 §4.2.3.6: the peer is gone
    } else {
      // A probe: SEG.SEQ = SND.NXT - 1, no data, so the peer must answer with an ACK.
      ++probes_;
      ++stack_.counters_.keepalive_probes;
      OutSegment s;
      s.seq = snd_.una - 1;
      s.ack = rcv_.nxt;
      s.flags = TcpFlag::Ack;
      s.window = window_field();
      s.options = segment_options(s.flags, now);
      stack_.transmit(tuple_, s, nullptr);
      stack_.wheel_.schedule(keepalive_timer_, now + c.keepalive_interval);
    }
  }
  stack_.dispatch(*this);
}

// ======================================================================== state changes

void Tcb::set_state(TcpState s) noexcept {
  if (s == state_) return;
  if (s == TcpState::Established) ++stack_.counters_.established;
  state_ = s;
}

void Tcb::enter_established(time::Instant now) noexcept {
  set_state(fin_queued_ ? TcpState::FinWait1 : TcpState::Established);
  cc()->init(effective_mss(), now);
  last_rx_ = now;
  drs_restart(now);  // the first round of receive-buffer auto-tuning
  if (!passive_) post(kEvConnected);
  if (keepalive_) restart_keepalive(now);
}

void Tcb::enter_time_wait(time::Instant now) noexcept {
  set_state(TcpState::TimeWait);
  stack_.to_time_wait(*this, now);
  terminate(CloseReason::Normal);
}

void Tcb::terminate(CloseReason reason) noexcept {
  if (terminated_) return;
  terminated_ = true;
  cancel_timers();
  if (state_ != TcpState::TimeWait) set_state(TcpState::Closed);
  close_reason_ = reason;
  sndbuf_.clear();
  // What auto-tuning added goes back to the engine's budget; data still unread stays
  // readable (receive_window() no longer matters).
  if (const TcpConfig& c = stack_.config();
      rcv_limit_ != c.recv_buffer || snd_limit_ != c.send_buffer) [[unlikely]] {
    stack_.autotune_give((rcv_limit_ - c.recv_buffer) + (snd_limit_ - c.send_buffer));
    rcv_limit_ = c.recv_buffer;
    snd_limit_ = c.send_buffer;
  }
  post(kEvClosed);
  stack_.release(*this);
}

// ======================================================================== application API

std::uint32_t Tcb::send_space() const noexcept {
  if (!kCanSend.has(state_) || fin_queued_) return 0;
  const std::uint32_t limit = snd_limit_;
  return sndbuf_.size() < limit ? limit - sndbuf_.size() : 0;
}

std::uint32_t Tcb::send(std::span<const std::uint8_t> bytes) noexcept {
  const std::uint32_t space = send_space();
  const auto want = static_cast<std::uint32_t>(std::min<std::size_t>(bytes.size(), space));
  std::uint32_t n = 0;
  if (want > 0) n = sndbuf_.append_copy(bytes.first(want), stack_.res_.pool);
  if (n < bytes.size()) want_writable_ = true;
  if (n > 0) output_pending_ = true;
  stack_.dispatch(*this);
  return n;
}

bool Tcb::send(rte_mbuf* chain) noexcept {
  if (chain == nullptr) return true;
  if (rte_pktmbuf_pkt_len(chain) > send_space()) {
    want_writable_ = true;
    return false;
  }
  if (!sndbuf_.append_mbuf(chain, stack_.res_.pool)) {
    // No mbuf for the small write buffered before it: the ACK of that write calls
    // on_writable(), as a full buffer's would.
    want_writable_ = true;
    return false;
  }
  output_pending_ = true;
  stack_.dispatch(*this);
  return true;
}

std::uint32_t Tcb::read(std::span<std::uint8_t> dst) noexcept {
  const std::uint32_t n = rcvbuf_.read(dst);
  if (n > 0) {
    note_read(n, stack_.now());
    maybe_window_update();
  }
  stack_.dispatch(*this);
  return n;
}

void Tcb::consume(std::uint32_t n) noexcept {
  n = std::min(n, rcvbuf_.readable());
  rcvbuf_.consume(n);
  if (n > 0) note_read(n, stack_.now());
  maybe_window_update();
  stack_.dispatch(*this);
}

void Tcb::shutdown() noexcept {
  const Seq data_base = snd_.una == iss_ ? iss_ + 1 : snd_.una;
  switch (state_) {
    case TcpState::SynSent:
      terminate(CloseReason::Normal);  // §3.10.4: SYN-SENT: delete the TCB
      break;
    case TcpState::SynReceived:
    case TcpState::Established:
      fin_queued_ = true;
      fin_seq_ = data_base + sndbuf_.size();
      set_state(TcpState::FinWait1);  // close: → FIN-WAIT-1 (from SYN-RECEIVED too)
      output_pending_ = true;
      break;
    case TcpState::CloseWait:
      fin_queued_ = true;
      fin_seq_ = data_base + sndbuf_.size();
      set_state(TcpState::LastAck);  // CLOSE-WAIT + close → LAST-ACK
      output_pending_ = true;
      break;
    default: break;  // already closing
  }
  stack_.dispatch(*this);
}

void Tcb::close() noexcept {
  if (terminated_) return;
  app_closed_ = true;
  if (rcvbuf_.readable() > 0 && kSynchronized.has(state_)) {
    abort();  // RFC 2525 §2.17: unread data is lost, so say so with a RST
    return;
  }
  if (state_ == TcpState::FinWait2) {
    stack_.wheel_.schedule(keepalive_timer_, stack_.now_ + stack_.config().orphan_fin_wait2);
  }
  shutdown();
}

void Tcb::abort() noexcept {
  if (terminated_) return;
  if (kSynchronized.has(state_) || state_ == TcpState::SynReceived) send_rst_for_abort(stack_.now_);
  terminate(CloseReason::Aborted);
  stack_.dispatch(*this);
}

void Tcb::set_handler(TcpHandler* h) noexcept {
  handler_ = h;
  if (h != nullptr && rcvbuf_.readable() > 0) post(kEvData);
  stack_.dispatch(*this);  // events that waited for a handler (an accepted connection's)
}

void Tcb::set_no_delay(bool on) noexcept {
  no_delay_ = on;
  if (on && kSynchronized.has(state_)) {
    output(stack_.now_);
    stack_.dispatch(*this);
  }
}

void Tcb::set_keepalive(bool on) noexcept {
  keepalive_ = on;
  if (on) {
    restart_keepalive(stack_.now_);
  } else if (!(state_ == TcpState::FinWait2 && app_closed_)) {
    stack_.wheel_.cancel(keepalive_timer_);
  }
}

}  // namespace sluice::tcp
