// Frame plumbing shared by the simulation tests (PacketHarness, SimNetwork): what a NIC
// would do between a TcpStack and the wire. Outgoing datagrams (mbuf chains starting at
// the IPv4 header) are linearised behind a made-up Ethernet header; incoming frames are
// copied into fresh mbufs, as a NIC's receive DMA would.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "wire/mac_addr.hpp"

struct rte_mbuf;
struct rte_mempool;

namespace sluice::sim {

/// Length of the Ethernet header the helpers put in front of a datagram.
inline constexpr std::size_t kSimEthHeaderLen = 14;

/// The IPv4 datagram held by the chain `m` (not freed), as a frame: an untagged Ethernet
/// header (dst, src, type IPv4) followed by every segment's data.
std::vector<std::uint8_t> linearize_datagram(const rte_mbuf* m, const wire::MacAddr& src = {},
                                             const wire::MacAddr& dst = {});

/// A single-segment mbuf from `pool` holding a copy of `frame`; nullptr if the pool is
/// empty or the frame does not fit one mbuf.
rte_mbuf* mbuf_from_frame(rte_mempool* pool, std::span<const std::uint8_t> frame);

/// A chain of mbufs from `pool` holding a copy of `frame`, as a receiver with large
/// receive offload or scatter hands it over: the headers (`head` bytes) in the first mbuf,
/// the rest in as many more as needed. nullptr if the pool runs dry.
rte_mbuf* mbuf_chain_from_frame(rte_mempool* pool, std::span<const std::uint8_t> frame,
                                std::size_t head);

/// What a NIC does with a TSO packet (an Ethernet/IPv4/TCP frame whose payload exceeds
/// `mss`): cuts the payload into `mss`-sized pieces, each with its own IPv4 total length,
/// identification (+1 per piece) and header checksum, sequence number and TCP checksum;
/// FIN and PSH only on the last piece.
std::vector<std::vector<std::uint8_t>> segment_tso(std::span<const std::uint8_t> frame,
                                                   std::uint16_t mss);

/// A TSO packet delivered whole, as a receiver's large receive offload would aggregate
/// its pieces: only the TCP checksum is completed over all of it.
void complete_tcp_checksum(std::vector<std::uint8_t>& frame);

/// The pool of indirect mbufs (StackResources::clone_pool) of the simulation tests,
/// created on first use. Pre: EAL is up.
rte_mempool* sim_clone_pool();

}  // namespace sluice::sim
