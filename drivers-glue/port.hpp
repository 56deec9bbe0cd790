// Port bring-up for any DPDK port: PCI NICs and the virtual devices sluice is tested on
// (net_af_packet, net_tap, net_virtio_user/net_vhost, net_memif, net_ring, net_null).
//
// Three stages, in the order DPDK requires: (1) discover what the port can do; (2)
// configure queues, offloads and RSS, asking for what we want masked by what the port
// has, with one log line per feature we wanted but did not get; (3) set up queues and
// start. Failures name the port, the stage and DPDK's error text.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "wire/errc.hpp"
#include "wire/result.hpp"

struct rte_mempool;

namespace sluice::glue {

/// Offloads sluice uses. In PortConfig: what we would like; in PortInfo: what is enabled.
struct PortOffloads {
  bool rx_ipv4_cksum = true;
  bool rx_tcp_cksum = true;
  bool tx_ipv4_cksum = true;
  bool tx_tcp_cksum = true;
  bool tso = true;  ///< TCP segmentation offload (needs tx_tcp_cksum and multi_seg)
  bool multi_seg = true;
  bool lro = true;      ///< large receive offload: aggregated TCP segments, chained mbufs
  bool scatter = true;  ///< frames larger than one mbuf arrive chained
};

struct PortConfig {
  std::uint16_t queues = 1;  ///< RX/TX queue pairs: one per engine lcore
  std::uint16_t rx_desc = 1024;
  std::uint16_t tx_desc = 1024;
  bool promiscuous = true;
  bool rss = true;        ///< spread flows over queues with the symmetric key
  std::uint16_t mtu = 0;  ///< 0: keep the port's default
  PortOffloads offloads{};
};

struct PortInfo {
  std::uint16_t port_id = 0;
  std::string driver;
  std::array<std::uint8_t, 6> mac{};
  std::uint16_t mtu = 1500;
  std::uint16_t queues = 1;
  bool rss = false;  ///< hardware RSS active (else: software steering)
  std::uint64_t rss_hf = 0;
  /// RSS redirection table entries (a power of two), programmed round-robin: entry i sends
  /// to queue i % queues, so queue = (hash & (reta_size - 1)) % queues. 0 without RSS.
  std::uint16_t reta_size = 0;
  int socket = 0;
  PortOffloads offloads{};       ///< what is actually enabled
  std::uint16_t tx_seg_max = 0;  ///< most mbufs per transmitted packet (0: no limit given)
  /// Checksum offloads pay from this much TCP payload up (TSO packets always use them);
  /// smaller packets are better checksummed by the stack. 0: always. net_vhost: 256. Its
  /// "offload" is software on the sending core: per packet, DPDK's vhost library parses
  /// the headers again and recomputes the pseudo-header sum (rte_net_intel_cksum_prepare)
  /// and the IPv4 header sum, which costs more than summing a small packet outright, and
  /// the virtio side then parses the headers again to learn where the partial sum is.
  std::uint32_t tx_offload_min_payload = 0;
  /// Received frames are written by this core (net_vhost copies each one in on dequeue),
  /// not by a device or another core: they are in this core's cache already.
  bool rx_frames_cached = false;
};

/// Configures and starts `port_id` with RX buffers from `pool`.
/// Pre: EAL is up; the port exists and is stopped. Post (ok): the port is started.
Result<PortInfo, Errc> setup_port(std::uint16_t port_id, const PortConfig& cfg,
                                  rte_mempool* pool) noexcept;

/// How many RX/TX queue pairs the port can have (min of its RX and TX maxima); 0 if the
/// port does not exist. Lets a caller choose between one queue per engine and one queue
/// with software steering before setup_port.
std::uint16_t max_queue_pairs(std::uint16_t port_id) noexcept;

/// Stops and closes the port (errors are logged, not returned: this is teardown).
void close_port(std::uint16_t port_id) noexcept;

/// The symmetric Toeplitz key: the 16-bit pattern 0x6d5a repeated, which makes the hash
/// of (src, dst, sport, dport) equal to that of (dst, src, dport, sport), so both
/// directions of a flow land on one queue (Woo and Park, "Scalable TCP Session
/// Monitoring with Symmetric Receive-side Scaling", 2012). 52 bytes covers the largest
/// key sizes NICs use; a port takes its hash_key_size prefix.
inline constexpr std::size_t kRssKeyMaxLen = 52;
constexpr std::array<std::uint8_t, kRssKeyMaxLen> symmetric_rss_key() noexcept {
  std::array<std::uint8_t, kRssKeyMaxLen> key{};
  for (std::size_t i = 0; i < key.size(); i += 2) {
    key[i] = 0x6d;
    key[i + 1] = 0x5a;
  }
  return key;
}

}  // namespace sluice::glue
