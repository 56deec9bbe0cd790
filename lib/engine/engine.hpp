// Engine: one per core. Owns its RX/TX queue pair, its TcpStack (connection table shard,
// listeners, timer wheel), its ARP cache and counters, and runs the poll loop of
// DESIGN.md: rx burst → parse and validate (lib/wire) → ARP and ICMP on the spot → TCP
// input → application callbacks → one tx burst per iteration → timers → message rings.
//
// Several engines on one port (DESIGN.md "Sharding and RSS"): each owns the flows that
// FlowSteering assigns it. With hardware RSS the NIC already delivers them to its queue.
// Without (af_packet, tap, single-queue virtio, net_ring), every TCP frame's owner is
// computed on receive and a misdirected frame goes to its owner over a CoreMesh ring; an
// engine the port has no queue for receives only from the mesh and hands what it sends to
// engine 0 (relay ring). ARP frames are copied to every engine so all caches learn.
//
// Addresses: one, or a contiguous range (EngineConfig::addr_count) that a load generator
// opens from when one address has too few ephemeral ports. "Is this ours?" is one
// subtraction and one compare either way.
//
// Nothing here locks or allocates after construction; every drop has a counter.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "engine/arp_cache.hpp"
#include "engine/core_mesh.hpp"
#include "engine/flow_steering.hpp"
#include "engine/impairment.hpp"
#include "tcp/tcp_stack.hpp"
#include "time/clock.hpp"
#include "wire/frame.hpp"
#include "wire/ipv4_addr.hpp"
#include "wire/mac_addr.hpp"

struct rte_mbuf;
struct rte_mempool;

namespace sluice::engine {

/// Where an engine sits among the engines of its port. The defaults: alone on the port.
struct ShardConfig {
  std::uint16_t index = 0;         ///< this engine's number, 0..steering.engines()-1
  FlowSteering steering{};         ///< flow → engine; engines() == 1: nothing below applies
  bool software_steering = false;  ///< check each TCP frame's owner; forward misdirected ones
  bool has_queue = true;           ///< false: RX only from the mesh, TX over relay(index)
  CoreMesh* mesh = nullptr;        ///< required when steering.engines() > 1
};

struct EngineConfig {
  std::uint16_t port = 0;
  std::uint16_t queue = 0;
  wire::MacAddr mac{};
  wire::Ipv4Addr addr{};  ///< our (first) address on the port
  /// Local addresses: addr and the addr_count - 1 after it, a contiguous range inside the
  /// on-link prefix (1..Engine::kMaxAddresses). The engine answers ARP for each, accepts
  /// IPv4 to each, and active opens take them in turn (a client with more connections to
  /// one server port than one address has ephemeral ports).
  std::uint32_t addr_count = 1;
  std::uint8_t prefix_len = 24;  ///< on-link prefix
  wire::Ipv4Addr gateway{};      ///< 0.0.0.0: none (only on-link peers reachable)
  /// RX checksum offloads: a frame whose flags say GOOD (or NONE: "the field is not set
  /// but the data is intact", virtio's partial checksums) is not checked again.
  bool rx_ip_checksum_offload = false;
  bool rx_tcp_checksum_offload = false;
  /// TX checksum offloads: the port computes the TCP (IPv4) checksum; else software.
  bool tx_ip_checksum_offload = false;
  bool tx_tcp_checksum_offload = false;
  /// ... but not for packets with less TCP payload than this (TSO aside). 0: all.
  std::uint32_t tx_offload_min_payload = 0;
  /// TCP segmentation offload: the largest TCP payload handed to the port in one packet
  /// (the port cuts it into MSS-sized segments); 0: off.
  std::uint32_t tso_max = 0;
  std::uint16_t tx_seg_max = 0;  ///< most mbufs per packet the port takes (0: no limit)
  std::uint16_t burst = 32;
  /// The port's receive path writes each frame on this core (net_vhost copies it in):
  /// its bytes are in our cache already, and the engine prefetches only the first line.
  /// Otherwise (DMA, or a peer core over shared memory) it prefetches two.
  bool rx_frames_cached = false;
  /// In a run of idle iterations (nothing received or sent), poll() reads the clock only
  /// every this many (1: every iteration), and when frames arrive. Timers then run late by
  /// at most as many idle iterations, tens of nanoseconds each; a clock read costs as much
  /// as one.
  std::uint16_t idle_clock_stride = 8;
  tcp::TcpConfig tcp{};
  ImpairmentConfig impair{};  ///< testing: a lossy link at this port (off by default)
  bool trace = false;         ///< debugging: one stderr line per TCP segment in and out
  ShardConfig shard{};
};

/// Per-engine counters besides TCP's: what the link layer saw and dropped, and why.
struct EngineCounters {
  std::uint64_t rx_packets = 0;
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_packets = 0;
  std::uint64_t tx_bytes = 0;
  std::uint64_t tx_dropped = 0;  ///< the port would not take them
  std::uint64_t tx_oversize = 0;  ///< datagrams beyond the MTU, not sent (a bug of ours)
  std::uint64_t arp_requests_in = 0;
  std::uint64_t arp_replies_in = 0;
  std::uint64_t arp_requests_out = 0;
  std::uint64_t arp_replies_out = 0;
  std::uint64_t arp_held_dropped = 0;  ///< packets waiting for ARP that had to go
  std::uint64_t icmp_echo_replies = 0;
  std::uint64_t not_for_us = 0;     ///< IPv4 to another address, other MAC
  std::uint64_t ip_fragments = 0;   ///< not reassembled: counted and dropped
  std::uint64_t ip_options = 0;     ///< IPv4 options: counted and dropped
  std::uint64_t unsupported = 0;    ///< UDP, IPv6, other protocols and ICMP types
  std::uint64_t rx_chained = 0;     ///< TCP frames in chained mbufs (large receive offload)
  std::uint64_t multi_segment = 0;  ///< chained frames other than TCP: dropped
  std::uint64_t no_mbuf = 0;
  /// Time in the poll loop (from one poll() to the next, the application's hook included)
  /// and the part of it spent in iterations that received or sent frames: busy_ns over
  /// loop_ns is how loaded the core is (a poll-mode core always runs at 100 %).
  std::uint64_t loop_ns = 0;
  std::uint64_t busy_ns = 0;
  /// poll() calls, and those that received frames: rx_packets / rx_polls is the mean
  /// receive burst (a burst near the configured size means the core is the limit).
  std::uint64_t polls = 0;
  std::uint64_t rx_polls = 0;
  // Several engines on one port (all zero for a lone engine).
  std::uint64_t steer_misdirected = 0;    ///< TCP frames received here that another engine owns
  std::uint64_t steer_forwarded = 0;      ///< ... handed to the owner's ring
  std::uint64_t steer_ring_full = 0;      ///< ... dropped: the owner's ring was full
  std::uint64_t steer_in = 0;             ///< frames other engines forwarded to this one
  std::uint64_t arp_shared_out = 0;       ///< ARP frames copied to another engine's ring
  std::uint64_t arp_share_ring_full = 0;  ///< ... copies dropped: that ring was full
  std::uint64_t arp_shared_in = 0;        ///< ARP frames other engines copied to this one
  std::uint64_t tx_relay_out = 0;         ///< no TX queue: frames handed to engine 0 to send
  std::uint64_t tx_relayed = 0;           ///< frames of queue-less engines this one transmitted
  std::array<std::uint64_t, wire::kParseErrorCount> parse_errors{};
};

class Engine {
 public:
  /// Pools: `pool` for received and sent packets, `clone_pool` for indirect mbufs.
  Engine(const EngineConfig& config, rte_mempool* pool, rte_mempool* clone_pool,
         const time::Clock& clock, const tcp::SipHash::Key& secret);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// One iteration of the poll loop. Returns the number of packets received.
  std::uint16_t poll() noexcept;
  /// Sends a gratuitous ARP for each of our addresses (announces them; RFC 5227 §3).
  void announce() noexcept;

  /// Most local addresses an engine owns (ArpCache::kSlots bounds what a peer of ours has
  /// to resolve; 64 addresses are 1.8 million ephemeral ports to one server port).
  static constexpr std::uint32_t kMaxAddresses = 64;
  /// The ephemeral port range of active opens, Linux's default.
  static constexpr std::uint16_t kEphemeralFirst = 32768;
  static constexpr std::uint16_t kEphemeralLast = 60999;
  static constexpr std::uint32_t kEphemeralPorts = kEphemeralLast - kEphemeralFirst + 1;

  /// Is ip one of our addresses? One subtraction and one compare, whatever the count.
  [[nodiscard]] bool is_local(wire::Ipv4Addr ip) const noexcept {
    return ip.value - config_.addr.value < config_.addr_count;
  }
  [[nodiscard]] std::uint32_t address_count() const noexcept { return config_.addr_count; }
  /// Our i-th address. Pre: i < address_count().
  [[nodiscard]] wire::Ipv4Addr address(std::uint32_t i) const noexcept {
    return wire::Ipv4Addr{config_.addr.value + i};
  }

  /// Active open to remote:port from our addresses in turn (round robin), each with a free
  /// ephemeral port of its own (kEphemeralFirst..kEphemeralLast, taken in turn) among
  /// those whose replies hash to this engine (FlowSteering::owner_of), so the flow never
  /// needs forwarding. An address whose ports to that destination are all busy is
  /// skipped. Errors: AddressInUse when every port of every address is busy, NoMemory at
  /// the connection limit.
  Result<tcp::Tcb*, Errc> connect(wire::Ipv4Addr remote, std::uint16_t port,
                                  tcp::TcpHandler* handler) noexcept;
  /// As connect(), from one given local address. Errors: InvalidArgument when `local` is
  /// not ours, AddressInUse when its ports to that destination are all busy, NoMemory.
  Result<tcp::Tcb*, Errc> connect_from(wire::Ipv4Addr local, wire::Ipv4Addr remote,
                                       std::uint16_t port, tcp::TcpHandler* handler) noexcept;

  [[nodiscard]] tcp::TcpStack& tcp() noexcept { return *tcp_; }
  [[nodiscard]] const EngineCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] const EngineConfig& config() const noexcept { return config_; }
  [[nodiscard]] time::Instant now() const noexcept { return now_; }
  [[nodiscard]] const ArpCache& arp() const noexcept { return arp_; }
  /// Packets the impairment dropped / duplicated, both directions (0 when off).
  [[nodiscard]] std::uint64_t impaired_drops() const noexcept {
    return (rx_impair_ ? rx_impair_->dropped : 0) + (tx_impair_ ? tx_impair_->dropped : 0);
  }

  /// Receive path for one frame from the port (public so tests can drive an engine
  /// without a port).
  void receive(rte_mbuf* m) noexcept;
  void prefetch_lookups(rte_mbuf* const* rx, std::uint16_t n) noexcept;
  /// This engine's number among the engines of its port.
  [[nodiscard]] std::uint16_t index() const noexcept { return config_.shard.index; }
  /// Flushes the TX batch to the port now.
  void flush_tx() noexcept;

 private:
  static void tcp_sink(void* ctx, rte_mbuf** pkts, std::uint16_t n) noexcept;
  /// from_peer: another engine forwarded m (already steered; ARP only to learn from).
  void handle_frame(rte_mbuf* m, bool from_peer) noexcept;
  void forward(rte_mbuf* m, std::uint16_t owner) noexcept;  ///< misdirected TCP frame
  void share_arp(rte_mbuf* m) noexcept;     ///< a copy of an ARP frame to every other engine
  void drain_mesh() noexcept;               ///< frames other engines steered to this one
  void drain_relays() noexcept;             ///< frames of queue-less engines, to transmit
  void route(rte_mbuf* datagram) noexcept;  ///< IPv4 datagram → Ethernet frame → TX
  void frame_and_send(rte_mbuf* datagram, const wire::MacAddr& dst) noexcept;
  void enqueue_tx(rte_mbuf* frame) noexcept;
  void enqueue_tx_now(rte_mbuf* frame) noexcept;
  void trace_segment(const char* dir, const std::uint8_t* ip) noexcept;
  void handle_arp(const wire::ParsedFrame& pf, rte_mbuf* m, bool from_peer) noexcept;
  void handle_icmp(const wire::ParsedFrame& pf, rte_mbuf* m) noexcept;
  void send_arp(std::uint16_t op, wire::Ipv4Addr spa, const wire::MacAddr& tha, wire::Ipv4Addr tpa,
                const wire::MacAddr& eth_dst) noexcept;
  /// Sets now_ from the clock, charging the time since the last reading to loop_ns and,
  /// if `busy`, to busy_ns.
  void read_clock(bool busy) noexcept;
  [[nodiscard]] bool on_link(wire::Ipv4Addr ip) const noexcept {
    return (ip.value & link_mask_) == link_net_;
  }

  EngineConfig config_;
  rte_mempool* pool_;
  const time::Clock& clock_;
  time::Instant now_;
  time::Instant next_arp_expiry_;
  std::uint32_t link_mask_ = 0;  ///< the on-link prefix as a mask (prefix_len 0: 0)
  std::uint32_t link_net_ = 0;   ///< our address under link_mask_
  std::unique_ptr<tcp::TcpStack> tcp_;
  ArpCache arp_;
  EngineCounters counters_;
  wire::ParsedFrame pf_{};  ///< reused: parsing writes into it, no copy per packet
  static constexpr std::uint16_t kTxRing = 512;
  std::array<rte_mbuf*, kTxRing> tx_{};
  std::uint16_t tx_count_ = 0;
  bool worked_ = false;  ///< the last iteration received or sent frames (busy_ns)
  std::uint16_t idle_polls_ = 0;  ///< idle iterations since the clock was last read
  /// Per local address, the next ephemeral port to try (see connect()).
  std::array<std::uint16_t, kMaxAddresses> next_ephemeral_{};
  std::uint32_t next_source_ = 0;  ///< the local address connect() tries first
  CoreMesh* mesh_ = nullptr;  ///< config_.shard.mesh when there are other engines
  std::unique_ptr<Impairment> rx_impair_;
  std::unique_ptr<Impairment> tx_impair_;
};

}  // namespace sluice::engine
