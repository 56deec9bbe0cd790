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
  std::uint32_t recv_buffer = 256 * 1024;
  /// Out-of-order segments one connection holds for reassembly, at most; a segment beyond
  /// is dropped (and counted), never one already held (that would renege on a SACK). 0:
  /// enough for the whole receive window in segments of half our MSS (see
  /// ooo_segment_limit), so a peer's full-sized segments are never dropped while the window
  /// has room, and one sending tiny segments still holds at most that many mbufs.
  std::uint16_t max_ooo_segments = 0;
  /// Bytes of unacknowledged plus unsent data the application may queue.
  std::uint32_t send_buffer = 256 * 1024;
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

/// The out-of-order segment limit in effect (TcpConfig::max_ooo_segments, 0 resolved):
/// 2 * recv_buffer / mss, at least 64 and at most 65535. With the defaults (256 KiB, MSS
/// 1460) 360, against the 182 segments of 1448 bytes that fill the window.
constexpr std::uint16_t ooo_segment_limit(const TcpConfig& c) noexcept {
  if (c.max_ooo_segments != 0) return c.max_ooo_segments;
  const std::uint32_t mss = c.mss > 0 ? c.mss : 1u;
  const std::uint64_t n = 2ull * c.recv_buffer / mss + 1u;
  return static_cast<std::uint16_t>(n < 64 ? 64 : n > 0xffff ? 0xffff : n);
}

}  // namespace sluice::tcp
