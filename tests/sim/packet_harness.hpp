// PacketHarness: packet-level tests of one TcpStack, with the test playing the peer.
//
// The test builds each peer segment with lib/wire (a real Ethernet/IPv4/TCP frame in a
// real mbuf), the stack processes it at a simulated time, and every datagram the stack
// emits is parsed back by lib/wire — checksums verified — into a Captured segment the
// test inspects with expect_tx(). Time moves only when the test says (advance), so
// timers (RTO, delayed ACK, persist, keepalive, 2MSL) are tested exactly, never by
// sleeping. On destruction the harness checks that every mbuf went back to its pool.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "tcp/tcp_stack.hpp"
#include "time/manual_clock.hpp"
#include "wire/frame.hpp"

struct rte_mempool;

namespace sluice::sim {

using namespace std::chrono_literals;
using tcp::FourTuple;
using tcp::TcpState;
using wire::Ipv4Addr;
using wire::Seq;
namespace Flag = wire::TcpFlag;

inline constexpr Ipv4Addr kLocalIp = Ipv4Addr::from_octets(198, 18, 0, 1);
inline constexpr Ipv4Addr kRemoteIp = Ipv4Addr::from_octets(198, 18, 0, 2);
inline constexpr std::uint16_t kLocalPort = 80;
inline constexpr std::uint16_t kRemotePort = 40000;

/// A segment the peer sends. Defaults: from kRemoteIp:kRemotePort to kLocalIp:kLocalPort.
struct PeerSegment {
  Seq seq;
  Seq ack;
  std::uint8_t flags = Flag::Ack;
  std::uint16_t window = 65535;
  wire::TcpOptions options{};
  std::vector<std::uint8_t> payload{};
  std::uint16_t src_port = kRemotePort;
  std::uint16_t dst_port = kLocalPort;
  Ipv4Addr src = kRemoteIp;
  Ipv4Addr dst = kLocalIp;
};

/// A segment the stack sent, parsed back.
struct Captured {
  wire::Ipv4Header ip;
  wire::TcpHeader tcp;
  std::vector<std::uint8_t> payload;
  time::Instant at;
  std::uint16_t tso_segsz = 0;  ///< a TSO packet: the segment size the port cuts it at
  bool tcp_csum_offload = false;  ///< the port was to finish the TCP checksum (not TSO)
  bool ip_csum_offload = false;   ///< the port was to write the IPv4 header checksum
  [[nodiscard]] bool has(std::uint8_t f) const { return tcp.has(f); }
  [[nodiscard]] Seq seq() const { return tcp.seq; }
  [[nodiscard]] Seq ack() const { return tcp.ack; }
  [[nodiscard]] std::string describe() const;
};

/// What expect_tx() checks; unset fields are not checked.
struct Expect {
  std::optional<Seq> seq;
  std::optional<Seq> ack;
  std::optional<std::uint8_t> flags;  ///< exact flag byte
  std::optional<std::uint16_t> window;
  std::optional<std::size_t> len;  ///< payload bytes
};

/// Records every event of one connection, for assertions.
class RecordingHandler : public tcp::TcpHandler {
 public:
  void on_connected(tcp::Tcb&) noexcept override { ++connected; }
  void on_data(tcp::Tcb& t) noexcept override;
  void on_writable(tcp::Tcb&) noexcept override { ++writable; }
  void on_peer_closed(tcp::Tcb&) noexcept override { ++peer_closed; }
  void on_closed(tcp::Tcb&, tcp::CloseReason r) noexcept override {
    ++closed;
    reason = r;
  }
  int connected = 0;
  int writable = 0;
  int peer_closed = 0;
  int closed = 0;
  bool auto_read = true;  ///< on_data reads everything into `received`
  tcp::CloseReason reason = tcp::CloseReason::Normal;
  std::vector<std::uint8_t> received;
};

/// Accepts every connection into `accepted` with a RecordingHandler of its own.
class AcceptAll : public tcp::ListenHandler {
 public:
  void on_acceptable(tcp::Listener& l) noexcept override;
  bool auto_accept = true;
  std::vector<tcp::Tcb*> accepted;
  std::deque<RecordingHandler> handlers;
};

/// The port the stack transmits on, as StackResources describes it.
struct HarnessPort {
  std::uint32_t tso_max = 0;              ///< > 0: TSO packets up to this much payload
  bool checksum_offload = false;          ///< the port finishes TCP and IPv4 checksums
  std::uint32_t offload_min_payload = 0;  ///< StackResources::tx_offload_min_payload
};

class PacketHarness {
 public:
  /// tso_max > 0: the stack may hand over TSO packets that large (StackResources).
  explicit PacketHarness(const tcp::TcpConfig& config = default_config(),
                         std::uint32_t tso_max = 0);
  PacketHarness(const tcp::TcpConfig& config, const HarnessPort& port);
  ~PacketHarness();
  PacketHarness(const PacketHarness&) = delete;
  PacketHarness& operator=(const PacketHarness&) = delete;

  /// Defaults for packet tests: options on, delayed ACK on, small MSL to keep numbers
  /// readable.
  static tcp::TcpConfig default_config();

  tcp::TcpStack& stack() { return *stack_; }
  [[nodiscard]] time::Instant now() const { return clock_.now(); }
  /// Moves time forward, runs due timers and collects what they sent.
  void advance(time::Duration d);
  /// Moves time forward to t (no-op if t is not later).
  void advance_to(time::Instant t) {
    if (t > now()) advance(t - now());
  }

  /// The peer sends a segment (at the current time).
  void send(const PeerSegment& s);
  /// The peer sends a raw frame (for malformed input).
  void send_frame(const std::vector<std::uint8_t>& frame);

  /// Next segment the stack sent (fails the test if none).
  Captured expect_tx(const Expect& e = {}, const char* what = "");
  void expect_no_tx(const char* what = "");
  [[nodiscard]] std::size_t tx_pending() {
    collect();
    return tx_.size();
  }
  std::optional<Captured> pop_tx();
  void clear_tx() { tx_.clear(); }

  /// The tuple of the test connection as the stack sees it.
  static FourTuple tuple() { return FourTuple{kLocalIp, kRemoteIp, kLocalPort, kRemotePort}; }

  // ---- common openings, through the real handshake ----
  /// Listener on kLocalPort; the peer connects with `syn_opts`; returns the accepted Tcb.
  /// peer_isn is the peer's ISN; after it, the peer's next sequence number is peer_isn+1.
  tcp::Tcb* open_passive(Seq peer_isn, const wire::TcpOptions& syn_opts = {},
                         std::uint16_t peer_window = 65535);
  /// The stack connects to the peer, which answers SYN-ACK with `synack_opts`.
  tcp::Tcb* open_active(Seq peer_isn, const wire::TcpOptions& synack_opts = {},
                        std::uint16_t peer_window = 65535);

  AcceptAll acceptor;
  RecordingHandler client;  ///< handler of open_active()'s connection
  tcp::Listener* listener = nullptr;

 private:
  static void sink(void* ctx, rte_mbuf** pkts, std::uint16_t n) noexcept;
  void collect();

  time::ManualClock clock_;
  rte_mempool* pool_;
  rte_mempool* clone_pool_;
  unsigned pool_base_;
  unsigned clone_base_;
  std::unique_ptr<tcp::TcpStack> stack_;
  std::deque<Captured> tx_;
};

std::vector<std::uint8_t> bytes_of(std::string_view s);
std::vector<std::uint8_t> pattern_bytes(std::size_t n, std::uint32_t seed);

}  // namespace sluice::sim
