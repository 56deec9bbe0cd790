// TcpCounters: one counter per protocol event and per drop reason, per engine (STYLE.md:
// every drop has a named reason and a counter, never a log line per packet).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice::tcp {

/// Why an arrived segment was dropped (or answered only with an ACK or RST).
enum class TcpDrop : std::uint8_t {
  NoConnection,       ///< no connection, TIME-WAIT record or listener: RST sent (§3.10.7.1)
  ListenBadFlags,     ///< to a listener: neither SYN nor a valid cookie ACK (RST if ACK)
  BadSynCookie,       ///< an ACK to a listener whose cookie does not verify
  SynQueueFull,       ///< SYN refused: the listener's SYN queue is full and cookies are off
  AcceptQueueFull,    ///< handshake-completing ACK dropped: accept queue full (peer retries)
  ConnectionLimit,    ///< SYN refused: the engine's connection limit is reached
  OutOfWindow,        ///< fails the acceptability test of §3.10.7.4 (ACK sent)
  PawsRejected,       ///< timestamp older than TS.Recent (RFC 7323 §5.3; ACK sent)
  RstOutOfWindow,     ///< RST outside the window: ignored (RFC 5961 §3.2)
  RstNotExact,        ///< RST in the window but not at RCV.NXT: challenge ACK (RFC 5961 §3.2)
  SynOnSynchronized,  ///< SYN on a synchronized connection: challenge ACK (RFC 5961 §4.2)
  AckTooNew,          ///< acknowledges data never sent: ACK sent, dropped (§3.10.7.4)
  AckTooOld,          ///< older than SND.UNA - MAX.SND.WND (RFC 5961 §5.2): challenge ACK
  NoAckFlag,          ///< synchronized state, ACK bit off
  SynSentBadAck,      ///< SYN-SENT: ACK outside ISS..SND.NXT (RST sent unless RST)
  SynSentNoSyn,       ///< SYN-SENT: neither SYN nor acceptable RST
  DataAfterFin,       ///< data beyond the peer's FIN
  DataAfterClose,     ///< data for a connection the application has closed (discarded)
  OutOfOrderLimit,    ///< out-of-order segment not stored: reassembly queue full
  NoMbuf,             ///< a packet could not be built: mempool empty
  Count,
};

inline constexpr std::size_t kTcpDropCount = static_cast<std::size_t>(TcpDrop::Count);

constexpr std::string_view to_string(TcpDrop d) noexcept {
  switch (d) {
    case TcpDrop::NoConnection: return "no_connection";
    case TcpDrop::ListenBadFlags: return "listen_bad_flags";
    case TcpDrop::BadSynCookie: return "bad_syn_cookie";
    case TcpDrop::SynQueueFull: return "syn_queue_full";
    case TcpDrop::AcceptQueueFull: return "accept_queue_full";
    case TcpDrop::ConnectionLimit: return "connection_limit";
    case TcpDrop::OutOfWindow: return "out_of_window";
    case TcpDrop::PawsRejected: return "paws_rejected";
    case TcpDrop::RstOutOfWindow: return "rst_out_of_window";
    case TcpDrop::RstNotExact: return "rst_not_exact";
    case TcpDrop::SynOnSynchronized: return "syn_on_synchronized";
    case TcpDrop::AckTooNew: return "ack_too_new";
    case TcpDrop::AckTooOld: return "ack_too_old";
    case TcpDrop::NoAckFlag: return "no_ack_flag";
    case TcpDrop::SynSentBadAck: return "syn_sent_bad_ack";
    case TcpDrop::SynSentNoSyn: return "syn_sent_no_syn";
    case TcpDrop::DataAfterFin: return "data_after_fin";
    case TcpDrop::DataAfterClose: return "data_after_close";
    case TcpDrop::OutOfOrderLimit: return "out_of_order_limit";
    case TcpDrop::NoMbuf: return "no_mbuf";
    case TcpDrop::Count: break;
  }
  return "?";
}

struct TcpCounters {
  // connections (RFC 4022 names where there is one)
  std::uint64_t active_opens = 0;   ///< connect() calls that sent a SYN
  std::uint64_t passive_opens = 0;  ///< SYNs accepted by a listener
  std::uint64_t attempt_fails = 0;  ///< SYN-SENT/SYN-RECEIVED → CLOSED or LISTEN
  std::uint64_t established = 0;    ///< connections that reached ESTABLISHED
  std::uint64_t estab_resets = 0;   ///< ESTABLISHED/CLOSE-WAIT → CLOSED by RST
  std::uint64_t timeouts = 0;       ///< connections given up after retransmissions
  std::uint64_t closed = 0;         ///< connection objects released
  std::uint64_t time_wait_entered = 0;
  std::uint64_t time_wait_reused = 0;  ///< TIME-WAIT records replaced by a new SYN (RFC 6191)
  std::uint64_t time_wait_expired = 0;
  /// Doublings of the connection and TIME-WAIT tables' bucket count (each a rehash of
  /// every entry, once per new high-water mark).
  std::uint64_t table_grown = 0;
  // segments
  std::uint64_t segs_in = 0;
  std::uint64_t segs_out = 0;   ///< segments on the wire (a TSO packet counts as its parts)
  std::uint64_t tso_sends = 0;  ///< packets handed to the port for segmentation (TSO)
  std::uint64_t bytes_in = 0;   ///< payload delivered in order
  std::uint64_t bytes_out = 0;  ///< payload sent, first transmissions only
  std::uint64_t retrans_segs = 0;
  std::uint64_t rto_expired = 0;
  std::uint64_t fast_retransmits = 0;
  std::uint64_t tail_loss_probes = 0;  ///< RFC 8985 §7 probes sent
  /// Probes that repaired a loss (RFC 8985 §7.4: acknowledged without a D-SACK for them),
  /// each answered by a window reduction.
  std::uint64_t tlp_repairs = 0;
  /// Recoveries started by the reordering window (RFC 8985 §6.2): SACKed data above a
  /// hole for a quarter of an RTT, fewer than three duplicate ACKs.
  std::uint64_t reorder_losses = 0;
  std::uint64_t sack_recoveries = 0;
  std::uint64_t spurious_recoveries = 0;  ///< fast retransmits undone: reordering (RFC 3522)
  std::uint64_t lost_retransmits = 0;  ///< retransmissions found lost in recovery, resent
  std::uint64_t rsts_out = 0;
  std::uint64_t rsts_in = 0;  ///< RSTs that reset a connection
  std::uint64_t challenge_acks = 0;
  std::uint64_t challenge_acks_suppressed = 0;  ///< over the RFC 5961 §7 rate limit
  /// Answers to unacceptable segments without data withheld: one per connection per
  /// Tcb::kOowAckIntervalMs (against ACK loops)
  std::uint64_t oow_acks_suppressed = 0;
  std::uint64_t delayed_acks = 0;               ///< ACKs sent by the delayed-ACK timer
  std::uint64_t window_probes = 0;
  std::uint64_t keepalive_probes = 0;
  std::uint64_t ooo_queued = 0;  ///< out-of-order segments kept for reassembly
  std::uint64_t dup_segs = 0;    ///< segments entirely already received
  std::uint64_t dsacks_sent = 0;  ///< segments reporting a duplicate (RFC 2883 D-SACK)
  std::uint64_t syn_cookies_sent = 0;
  std::uint64_t syn_cookies_accepted = 0;
  std::uint64_t synack_retrans = 0;
  std::uint64_t syn_retrans = 0;
  std::uint64_t recv_buffer_grown = 0;  ///< receive buffers grown by auto-tuning (times)
  std::uint64_t send_buffer_grown = 0;  ///< send buffers grown by auto-tuning (times)
  std::array<std::uint64_t, kTcpDropCount> drops{};

  void drop(TcpDrop d) noexcept { ++drops[static_cast<std::size_t>(d)]; }
  [[nodiscard]] std::uint64_t dropped(TcpDrop d) const noexcept {
    return drops[static_cast<std::size_t>(d)];
  }
};

}  // namespace sluice::tcp
