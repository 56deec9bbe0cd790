// TcpConfig: every tunable of the TCP core, with the default and the rule behind it.
// One per engine (TcpStack); per-connection switches (no-delay, keepalive) start from it.
#pragma once

#include <chrono>
#include <cstdint>

namespace sluice::tcp {

using std::chrono::milliseconds;
using std::chrono::seconds;

enum class CongestionAlgorithm : std::uint8_t { NewReno, Cubic };

struct TcpConfig {
  // --- segments and windows ---
  /// MSS we announce: MTU 1500 - 20 (IPv4) - 20 (TCP). RFC 9293 §3.7.1.
  std::uint16_t mss = 1460;
  /// Effective send MSS when the peer's SYN carries no MSS option (RFC 9293 §3.7.1, RFC 6691).
  std::uint16_t default_peer_mss = 536;
  /// Bytes of in-order plus out-of-order data we hold for the application; shapes rcv.wnd.
  /// Where the buffer starts; it grows towards recv_buffer_max (auto-tuning, below).
  std::uint32_t recv_buffer = 256 * 1024;
  /// Receive-buffer auto-tuning (dynamic right-sizing, as Linux's tcp_rcv_space_adjust):
  /// once per round trip (SRTT) the buffer grows to twice what the application read in it
  /// (more while that amount is growing), so the window never holds back a peer the
  /// application keeps up with; one that leaves most of the buffer unread gets no more.
  /// At most this many bytes; at or below recv_buffer the buffer stays fixed. The window
  /// scale we offer is sized for it.
  std::uint32_t recv_buffer_max = 4 * 1024 * 1024;
  /// Out-of-order segments one connection holds for reassembly, at most; a segment beyond
  /// is dropped (and counted), never one already held (that would renege on a SACK). 0:
  /// enough for the whole receive window in segments of half our MSS (see
  /// ooo_segment_limit), so a peer's full-sized segments are never dropped while the window
  /// has room, and one sending tiny segments still holds at most that many mbufs.
  std::uint16_t max_ooo_segments = 0;
  /// Bytes of unacknowledged plus unsent data the application may queue, to begin with.
  std::uint32_t send_buffer = 256 * 1024;
  /// Send-buffer auto-tuning: while the application fills the buffer, it grows to twice
  /// min(congestion window, the peer's largest window), so neither window is held back by
  /// the buffer. At most this many bytes; at or below send_buffer the buffer stays fixed.
  std::uint32_t send_buffer_max = 4 * 1024 * 1024;
  /// What auto-tuning may add, over all of one engine's connections together, beyond
  /// their starting buffers: the bytes are mbufs from a fixed pool (Runtime sizes this
  /// from it). A connection whose growth would exceed it keeps the size it has.
  std::uint64_t autotune_budget = 32ull * 1024 * 1024;
  bool window_scaling = true;  ///< RFC 7323 §2
  bool timestamps = true;      ///< RFC 7323 §3-5 (RTTM and PAWS)
  bool sack = true;            ///< RFC 2018 / RFC 6675

  // --- retransmission (RFC 6298) ---
  milliseconds rto_initial{1000};
  /// RFC 6298 §2.4 says 1 s; like Linux we default lower, since our RTTs are LAN RTTs.
  milliseconds rto_min{200};
  milliseconds rto_max{60000};
  /// SYN transmissions after the first before connect() fails (SYN-SENT → CLOSED).
  std::uint8_t syn_retries = 6;
  /// SYN-ACK retransmissions before an embryonic connection is dropped.
  std::uint8_t synack_retries = 5;
  /// Retransmissions of one segment before the connection is aborted (RFC 9293 §3.8.3 R2).
  std::uint8_t max_retries = 15;

  // --- acknowledgements and sending ---
  milliseconds delayed_ack{40};  ///< RFC 9293 §3.8.6.3: well under 0.5 s
  bool no_delay = false;         ///< default of the per-connection Nagle switch (RFC 896)
  CongestionAlgorithm congestion = CongestionAlgorithm::Cubic;
  /// RFC 5961 §7: challenge ACKs sent per second per engine, at most.
  std::uint32_t challenge_ack_limit = 1000;

  // --- keepalive (RFC 9293 §3.8.4; off by default) ---
  bool keepalive = false;
  seconds keepalive_idle{7200};
  seconds keepalive_interval{75};
  std::uint8_t keepalive_count = 9;

  // --- closing ---
  /// Maximum segment lifetime; TIME-WAIT lasts 2 * msl (RFC 9293 §3.4.2).
  milliseconds msl{30000};
  /// FIN-WAIT-2 of a connection the application has fully closed cannot last for ever.
  milliseconds orphan_fin_wait2{60000};

  // --- listeners and limits ---
  std::uint32_t max_connections = 65536;  ///< per engine, including embryonic ones
  std::uint32_t syn_backlog = 1024;       ///< embryonic connections per listener
  bool syn_cookies = true;                ///< answer with cookies once the SYN queue is full
};

/// The window scale we offer for a receive buffer: the smallest shift that makes the buffer
/// fit the 16-bit window field (RFC 7323 §2.3; at most 14).
constexpr std::uint8_t window_shift_for(std::uint32_t buffer) noexcept {
  std::uint8_t s = 0;
  while (s < 14 && (buffer >> s) > 0xffff) ++s;
  return s;
}

/// The largest receive buffer a connection may have: recv_buffer, or recv_buffer_max when
/// auto-tuning may grow it that far.
constexpr std::uint32_t recv_buffer_ceiling(const TcpConfig& c) noexcept {
  return c.recv_buffer_max > c.recv_buffer ? c.recv_buffer_max : c.recv_buffer;
}

/// The largest send buffer a connection may have (send_buffer, or send_buffer_max).
constexpr std::uint32_t send_buffer_ceiling(const TcpConfig& c) noexcept {
  return c.send_buffer_max > c.send_buffer ? c.send_buffer_max : c.send_buffer;
}

/// The window scale our SYN and SYN-ACK offer: room for the largest receive buffer.
constexpr std::uint8_t offered_window_shift(const TcpConfig& c) noexcept {
  return window_shift_for(recv_buffer_ceiling(c));
}

/// The out-of-order segment limit in effect (TcpConfig::max_ooo_segments, 0 resolved):
/// 2 * the largest receive buffer / mss, at least 64 and at most 65535. With a fixed
/// 256 KiB buffer and MSS 1460, 360, against the 182 segments of 1448 bytes that fill the
/// window; with the default 4 MiB ceiling, 5,746. A limit, not a reservation.
constexpr std::uint16_t ooo_segment_limit(const TcpConfig& c) noexcept {
  if (c.max_ooo_segments != 0) return c.max_ooo_segments;
  const std::uint32_t mss = c.mss > 0 ? c.mss : 1u;
  const std::uint64_t n = 2ull * recv_buffer_ceiling(c) / mss + 1u;
  return static_cast<std::uint16_t>(n < 64 ? 64 : n > 0xffff ? 0xffff : n);
}

}  // namespace sluice::tcp
