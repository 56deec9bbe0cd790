// The per-core poll loop: receive, validate, ARP (RFC 826), ICMP echo (RFC 792), TCP,
// and the Ethernet framing of what TCP sends.
#include "engine/engine.hpp"

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "tcp/mbuf_checksum.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"

namespace sluice::engine {

using namespace std::chrono_literals;

namespace {

/// The TCP checksum of a segment spread over a chain of mbufs.
bool tcp_checksum_ok(const rte_mbuf* m, const wire::ParsedFrame& pf) noexcept {
  const auto l4_len = static_cast<std::uint16_t>(pf.ip.payload_len());  // TCP header + data
  std::uint32_t sum = wire::pseudo_header_sum(pf.ip.src, pf.ip.dst, wire::IpProto::Tcp, l4_len);
  return tcp::mbuf_checksum_partial(m, pf.l4_offset, l4_len, sum) && wire::checksum_fold(sum) == 0;
}

}  // namespace

Engine::Engine(const EngineConfig& config, rte_mempool* pool, rte_mempool* clone_pool,
               const time::Clock& clock, const tcp::SipHash::Key& secret)
    : config_(config), pool_(pool), clock_(clock), now_(clock.now()), next_arp_expiry_(now_ + 1s) {
  // A library never aborts: a count out of range (the runtime checks it first) is clamped.
  config_.addr_count = std::clamp<std::uint32_t>(config_.addr_count, 1, kMaxAddresses);
  link_mask_ = config_.prefix_len == 0    ? 0u
               : config_.prefix_len >= 32 ? ~0u
                                          : ~(~0u >> config_.prefix_len);
  link_net_ = config_.addr.value & link_mask_;
  next_ephemeral_.fill(kEphemeralFirst);
  tcp::StackResources res;
  res.pool = pool;
  res.clone_pool = clone_pool;
  res.tx_ip_checksum_offload = config.tx_ip_checksum_offload;
  res.tx_tcp_checksum_offload = config.tx_tcp_checksum_offload;
  res.tx_offload_min_payload = config.tx_offload_min_payload;
  res.tso_max = config.tso_max;
  res.tx_seg_max = config.tx_seg_max;
  res.link_headroom = wire::EthernetHeader::kSize;
  res.secret = secret;
  tcp_ =
      std::make_unique<tcp::TcpStack>(config.tcp, res, tcp::TxSink{&Engine::tcp_sink, this}, now_);
  if (config.shard.steering.engines() > 1) mesh_ = config.shard.mesh;
  if (config.impair.active()) {
    rx_impair_ = std::make_unique<Impairment>(config.impair, 1);
    tx_impair_ = std::make_unique<Impairment>(config.impair, 2);
  }
}

Engine::~Engine() {
  tcp_.reset();
  rx_impair_.reset();
  tx_impair_.reset();
  for (std::uint16_t i = 0; i < tx_count_; ++i) rte_pktmbuf_free(tx_[i]);
  tx_count_ = 0;
}

namespace {

/// The first cache line of a received frame, and with `two` the second: Ethernet, IPv4
/// and TCP headers with timestamps end past byte 64 (the TS option is at bytes 58-65),
/// the payload follows.
void prefetch_headers(const rte_mbuf* m, bool two) noexcept {
  const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
  rte_prefetch0(p);
  if (two && rte_pktmbuf_data_len(m) > 64) rte_prefetch0(p + 64);
}

}  // namespace

void Engine::read_clock(bool busy) noexcept {
  idle_polls_ = 0;
  const time::Instant now = clock_.now();
  const auto span = static_cast<std::uint64_t>(std::max<std::int64_t>((now - now_).count(), 0));
  counters_.loop_ns += span;
  if (busy) counters_.busy_ns += span;
  now_ = now;
}

std::uint16_t Engine::poll() noexcept {
  // The clock is read at the start of an iteration that follows one with work, and in a
  // run of idle iterations only at every idle_clock_stride-th, or as soon as one of them
  // receives frames: an idle iteration costs a few tens of nanoseconds, a clock read
  // (rdtsc, slow under a hypervisor) as much again, and a poll-mode core spins through
  // idle iterations between bursts even at full load (5 of 6 on the client of
  // sluice-perf rr over vhost-user). Received frames meet a fresh time; timers and the
  // application, between polls, a time late by at most that many idle iterations.
  // Each reading charges the time since the previous one: to busy_ns if it ends an
  // iteration that received or sent frames, otherwise (idle iterations) to loop_ns only.
  const bool fresh = worked_ || ++idle_polls_ >= config_.idle_clock_stride;
  if (fresh) read_clock(worked_);
  std::array<rte_mbuf*, 256> rx;
  const std::uint16_t n = config_.shard.has_queue
                              ? rte_eth_rx_burst(config_.port, config_.queue, rx.data(),
                                                 std::min<std::uint16_t>(config_.burst, 256))
                              : 0;
  if (n != 0 && !fresh) read_clock(false);  // the idle iterations before this one
  if (rx_impair_) {
    for (std::uint16_t i = 0; i < n; ++i) rx_impair_->push(rx[i], now_, pool_);
    rx_impair_->release(now_, [this](rte_mbuf* m) { receive(m); });
  } else {
    // Before handling the burst, the connection-table lookups its TCP segments will make
    // are started, buckets first and then their entries, so that their memory latency
    // overlaps instead of stalling each segment in turn.
    if (n > 1 && tcp_->lookups_leave_cache()) prefetch_lookups(rx.data(), n);
    // The next frame's headers are fetched while this one is handled: written by a device
    // or another core, they are in no cache of ours (one line only where the port copied
    // the frame in on this core: rx_frames_cached).
    const bool two = !config_.rx_frames_cached;
    if (n > 0) prefetch_headers(rx[0], two);
    for (std::uint16_t i = 0; i < n; ++i) {
      if (i + 1 < n) prefetch_headers(rx[i + 1], two);
      receive(rx[i]);
    }
  }
  if (mesh_ != nullptr) drain_mesh();
  // Every iteration, not only when a timer is due: the stack's clock is also the time of
  // application calls (send, shutdown, ...) made between polls. Left behind during a quiet
  // spell, it armed timers in the past — a FIN after an idle second was resent at once.
  // An advance with nothing due costs a few nanoseconds.
  tcp_->advance(now_);
  tcp_->flush();
  if (now_ >= next_arp_expiry_) {
    counters_.arp_held_dropped += arp_.expire(now_);
    next_arp_expiry_ = now_ + 1s;
  }
  if (tx_impair_) tx_impair_->release(now_, [this](rte_mbuf* m) { enqueue_tx_now(m); });
  if (mesh_ != nullptr && config_.shard.index == 0 && config_.shard.has_queue) drain_relays();
  ++counters_.polls;
  counters_.rx_polls += n != 0 ? 1u : 0u;
  worked_ = n != 0 || tx_count_ != 0;
  if (tx_count_ != 0) flush_tx();
  return n;
}

namespace {

/// The 4-tuple of an IPv4/TCP frame as seen from here, read straight from the bytes
/// (nothing validated: a hint for prefetching only). False for anything else.
bool peek_tuple(const rte_mbuf* m, tcp::FourTuple& t) noexcept {
  const auto* f = rte_pktmbuf_mtod(m, const std::uint8_t*);
  const std::uint32_t len = rte_pktmbuf_data_len(m);
  if (len < 14 + 20 + 4 || f[12] != 0x08 || f[13] != 0x00) return false;
  const std::uint8_t* ip = f + 14;
  const std::uint32_t ihl = (ip[0] & 0x0fU) * 4U;
  if ((ip[0] >> 4) != 4 || ip[9] != 6 || ihl < 20 || len < 14 + ihl + 4) return false;
  const std::uint8_t* th = ip + ihl;
  t = tcp::FourTuple{wire::Ipv4Addr{wire::load_be32(ip + 16)}, wire::Ipv4Addr{wire::load_be32(ip + 12)},
                     wire::load_be16(th + 2), wire::load_be16(th)};
  return true;
}

}  // namespace

void Engine::prefetch_lookups(rte_mbuf* const* rx, std::uint16_t n) noexcept {
  constexpr std::size_t kNone = ~std::size_t{0};
  std::array<std::size_t, 256> buckets;
  for (std::uint16_t i = 0; i < n; ++i) {
    tcp::FourTuple t;
    buckets[i] = peek_tuple(rx[i], t) ? tcp_->prefetch_lookup(t) : kNone;
  }
  for (std::uint16_t i = 0; i < n; ++i) {
    if (buckets[i] != kNone) tcp_->prefetch_entry(buckets[i]);
  }
}

void Engine::receive(rte_mbuf* m) noexcept {
  ++counters_.rx_packets;
  counters_.rx_bytes += rte_pktmbuf_pkt_len(m);
  handle_frame(m, false);
}

void Engine::handle_frame(rte_mbuf* m, bool from_peer) noexcept {
  wire::ParseOptions opts;
  // Trust the port only for what it says it verified: GOOD, or NONE ("the field is not
  // set, the data is intact": virtio's partial checksums).
  if (config_.rx_ip_checksum_offload) {
    const std::uint64_t f = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
    opts.verify_ipv4_checksum =
        f != RTE_MBUF_F_RX_IP_CKSUM_GOOD && f != RTE_MBUF_F_RX_IP_CKSUM_NONE;
  }
  if (config_.rx_tcp_checksum_offload) {
    const std::uint64_t f = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
    opts.verify_l4_checksum = f != RTE_MBUF_F_RX_L4_CKSUM_GOOD && f != RTE_MBUF_F_RX_L4_CKSUM_NONE;
  }
  const bool chained = m->nb_segs > 1;
  bool verify_chain = false;
  if (chained) [[unlikely]] {
    // A large-receive-offload aggregate or a jumbo frame in several mbufs: the headers
    // come from the first, the TCP checksum (if still owed) over all of them.
    opts.packet_len = rte_pktmbuf_pkt_len(m);
    verify_chain = opts.verify_l4_checksum;
    opts.verify_l4_checksum = false;
  }
  const std::span<const std::uint8_t> frame(rte_pktmbuf_mtod(m, const std::uint8_t*),
                                            rte_pktmbuf_data_len(m));
  if (auto r = wire::parse_frame_into(frame, pf_, opts); !r.ok()) {
    ++counters_.parse_errors[static_cast<std::size_t>(r.error())];
    rte_pktmbuf_free(m);
    return;
  }
  if (chained) [[unlikely]] {
    if (pf_.kind != wire::FrameKind::Ipv4Tcp) {
      ++counters_.multi_segment;
      rte_pktmbuf_free(m);
      return;
    }
    if (verify_chain && !tcp_checksum_ok(m, pf_)) {
      ++counters_.parse_errors[static_cast<std::size_t>(wire::ParseError::TcpBadChecksum)];
      rte_pktmbuf_free(m);
      return;
    }
    ++counters_.rx_chained;
  }
  // af_packet and tap deliver everything on the wire: keep what is addressed to us.
  if (pf_.eth.dst != config_.mac && !pf_.eth.dst.is_broadcast()) {
    ++counters_.not_for_us;
    rte_pktmbuf_free(m);
    return;
  }
  if (pf_.kind == wire::FrameKind::Arp) {
    handle_arp(pf_, m, from_peer);
    return;
  }
  if (pf_.kind == wire::FrameKind::Ipv6) {
    ++counters_.unsupported;
    rte_pktmbuf_free(m);
    return;
  }
  if (!is_local(pf_.ip.dst)) {
    ++counters_.not_for_us;
    rte_pktmbuf_free(m);
    return;
  }
  if (pf_.ip.is_fragment()) {
    ++counters_.ip_fragments;
    rte_pktmbuf_free(m);
    return;
  }
  if (pf_.ip.has_options()) {
    ++counters_.ip_options;
    rte_pktmbuf_free(m);
    return;
  }
  switch (pf_.kind) {
    case wire::FrameKind::Ipv4Tcp:
      if (config_.shard.software_steering && !from_peer) {
        const FlowSteering& fs = config_.shard.steering;
        const std::uint16_t owner =
            fs.owner(fs.hash(pf_.ip.src, pf_.ip.dst, pf_.tcp.src_port, pf_.tcp.dst_port));
        if (owner != config_.shard.index) {
          forward(m, owner);
          return;
        }
      }
      if (config_.trace) [[unlikely]] {
        trace_segment("in ", rte_pktmbuf_mtod(m, const std::uint8_t*) + pf_.l3_offset);
      }
      tcp_->input(m, pf_.ip, pf_.tcp, pf_.payload_offset, now_);
      return;
    case wire::FrameKind::Ipv4Icmp: handle_icmp(pf_, m); return;
    default:
      ++counters_.unsupported;
      rte_pktmbuf_free(m);
      return;
  }
}

// RFC 826 "Packet Reception": update a known sender; if we are the target, add the
// sender; answer requests for any of our addresses, from that address. Several engines:
// the one that received the frame answers and copies it to the others, which only learn
// (each has its own cache).
void Engine::handle_arp(const wire::ParsedFrame& pf, rte_mbuf* m, bool from_peer) noexcept {
  const wire::ArpPacket& a = pf.arp;
  if (from_peer) {
    ++counters_.arp_shared_in;
  } else {
    (a.is_request() ? counters_.arp_requests_in : counters_.arp_replies_in)++;
  }
  const bool for_us = is_local(a.tpa);
  if (!a.spa.is_unspecified() && !is_local(a.spa) &&
      (for_us || arp_.lookup(a.spa, now_).has_value())) {
    arp_.learn(a.spa, a.sha, now_,
               [this](rte_mbuf* held, const wire::MacAddr& mac) { frame_and_send(held, mac); });
  }
  if (for_us && a.is_request() && !from_peer) {
    send_arp(wire::ArpPacket::kOpReply, a.tpa, a.sha, a.spa, a.sha);
    ++counters_.arp_replies_out;
  }
  if (mesh_ != nullptr && !from_peer) {
    share_arp(m);
    return;
  }
  rte_pktmbuf_free(m);
}

// The frame itself goes to every other engine (one reference each, no copy): they only
// read it, and the last one to finish frees it. Takes over this engine's reference too.
void Engine::share_arp(rte_mbuf* m) noexcept {
  const std::uint16_t engines = config_.shard.steering.engines();
  rte_mbuf_refcnt_update(m, static_cast<std::int16_t>(engines - 2));  // engines-1 owners
  for (std::uint16_t to = 0; to < engines; ++to) {
    if (to == config_.shard.index) continue;
    if (rte_ring_sp_enqueue(
            mesh_->steer(config_.shard.index, to),
            reinterpret_cast<void*>(CoreMesh::encode(m, CoreMesh::Message::ArpLearn))) == 0) {
      ++counters_.arp_shared_out;
    } else {
      ++counters_.arp_share_ring_full;
      rte_pktmbuf_free(m);  // that engine's reference
    }
  }
}

void Engine::forward(rte_mbuf* m, std::uint16_t owner) noexcept {
  ++counters_.steer_misdirected;
  if (rte_ring_sp_enqueue(mesh_->steer(config_.shard.index, owner),
                          reinterpret_cast<void*>(CoreMesh::encode(m, CoreMesh::Message::Frame))) ==
      0) {
    ++counters_.steer_forwarded;
  } else {
    ++counters_.steer_ring_full;
    rte_pktmbuf_free(m);
  }
}

void Engine::drain_mesh() noexcept {
  const std::uint16_t engines = config_.shard.steering.engines();
  std::array<void*, 64> in;
  for (std::uint16_t from = 0; from < engines; ++from) {
    if (from == config_.shard.index) continue;
    rte_ring* r = mesh_->steer(from, config_.shard.index);
    const unsigned n = rte_ring_sc_dequeue_burst(r, in.data(), in.size(), nullptr);
    for (unsigned i = 0; i < n; ++i) {
      CoreMesh::Message kind{};
      rte_mbuf* m = CoreMesh::decode(in[i], kind);
      if (kind == CoreMesh::Message::Frame) ++counters_.steer_in;
      handle_frame(m, true);
    }
  }
}

void Engine::drain_relays() noexcept {
  const std::uint16_t engines = config_.shard.steering.engines();
  for (std::uint16_t from = 1; from < engines && tx_count_ < kTxRing; ++from) {
    rte_ring* r = mesh_->relay(from);
    if (r == nullptr) continue;
    const unsigned n = rte_ring_sc_dequeue_burst(
        r, reinterpret_cast<void**>(tx_.data() + tx_count_), kTxRing - tx_count_, nullptr);
    tx_count_ = static_cast<std::uint16_t>(tx_count_ + n);
    counters_.tx_relayed += n;
  }
}

void Engine::handle_icmp(const wire::ParsedFrame& pf, rte_mbuf* m) noexcept {
  if (pf.icmp.type != wire::IcmpType::EchoRequest || pf.icmp.code != 0) {
    ++counters_.unsupported;
    rte_pktmbuf_free(m);
    return;
  }
  rte_mbuf* r = rte_pktmbuf_alloc(pool_);
  if (r == nullptr) {
    ++counters_.no_mbuf;
    rte_pktmbuf_free(m);
    return;
  }
  wire::EthernetHeader eth{};
  eth.dst = pf.eth.src;
  eth.src = config_.mac;
  wire::Ipv4Header ip{};
  ip.ttl = 64;
  ip.src = pf.ip.dst;  // the one of our addresses that was pinged
  ip.dst = pf.ip.src;
  wire::IcmpEcho echo{};
  echo.type = wire::IcmpType::EchoReply;
  echo.id = pf.icmp.id;
  echo.seq = pf.icmp.seq;
  echo.payload = pf.icmp.payload;  // views into m, which lives until the copy is made
  const std::size_t len = 14 + 20 + echo.emit_len();
  auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(r, static_cast<std::uint16_t>(len)));
  if (p == nullptr || wire::build_icmp_echo_frame({p, len}, eth, ip, echo) == 0) {
    ++counters_.no_mbuf;
    rte_pktmbuf_free(r);
  } else {
    ++counters_.icmp_echo_replies;
    enqueue_tx(r);
  }
  rte_pktmbuf_free(m);
}

void Engine::send_arp(std::uint16_t op, wire::Ipv4Addr spa, const wire::MacAddr& tha,
                      wire::Ipv4Addr tpa, const wire::MacAddr& eth_dst) noexcept {
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) {
    ++counters_.no_mbuf;
    return;
  }
  constexpr std::size_t kMinFrame = 60;  // Ethernet minimum without FCS; af_packet won't pad
  auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, kMinFrame));
  std::memset(p, 0, kMinFrame);
  wire::EthernetHeader eth{};
  eth.dst = eth_dst;
  eth.src = config_.mac;
  wire::ArpPacket a{};
  a.op = op;
  a.sha = config_.mac;
  a.spa = spa;
  a.tha = tha;
  a.tpa = tpa;
  wire::build_arp_frame({p, kMinFrame}, eth, a);
  enqueue_tx(m);
}

// RFC 5227 §3: an ARP request for our own address, sender and target both that address.
void Engine::announce() noexcept {
  for (std::uint32_t i = 0; i < config_.addr_count; ++i) {
    send_arp(wire::ArpPacket::kOpRequest, address(i), wire::MacAddr{}, address(i),
             wire::MacAddr::kBroadcast);
    ++counters_.arp_requests_out;
  }
  flush_tx();
}

Result<tcp::Tcb*, Errc> Engine::connect(wire::Ipv4Addr remote, std::uint16_t port,
                                        tcp::TcpHandler* handler) noexcept {
  for (std::uint32_t tries = 0; tries < config_.addr_count; ++tries) {
    const std::uint32_t i = next_source_;
    next_source_ = i + 1 == config_.addr_count ? 0 : i + 1;
    auto r = connect_from(address(i), remote, port, handler);
    if (r.ok() || r.error() != Errc::AddressInUse) return r;
  }
  return Err{Errc::AddressInUse};
}

Result<tcp::Tcb*, Errc> Engine::connect_from(wire::Ipv4Addr local_ip, wire::Ipv4Addr remote,
                                             std::uint16_t port,
                                             tcp::TcpHandler* handler) noexcept {
  if (!is_local(local_ip)) return Err{Errc::InvalidArgument};
  const tcp::FourTuple t{local_ip, remote, 0, port};
  // Only ports whose replies hash to this engine (every port for a lone engine). A port in
  // TIME-WAIT with this peer could be reused (RFC 6191), but a fresh one is cleaner while
  // there are any. Each address walks its own cursor, so every address has the whole range.
  std::uint16_t& cursor = next_ephemeral_[local_ip.value - config_.addr.value];
  Result<tcp::Tcb*, Errc> r = Err{Errc::AddressInUse};
  const auto local = config_.shard.steering.pick_local_port(
      t, config_.shard.index, kEphemeralFirst, kEphemeralLast, cursor,
      [&](std::uint16_t p) noexcept {
        r = tcp_->connect({t.local_ip, t.remote_ip, p, t.remote_port}, handler,
                          tcp::TcpStack::OnTimeWait::Refuse);
        return r.ok() || r.error() != Errc::AddressInUse;  // in use: the next port
      });
  if (!local) return Err{Errc::AddressInUse};
  tcp_->flush();
  return r;
}


void Engine::tcp_sink(void* ctx, rte_mbuf** pkts, std::uint16_t n) noexcept {
  auto* self = static_cast<Engine*>(ctx);
  for (std::uint16_t i = 0; i < n; ++i) self->route(pkts[i]);
}

void Engine::trace_segment(const char* dir, const std::uint8_t* ip) noexcept {
  const std::size_t ihl = (ip[0] & 0x0f) * 4u;
  const std::uint8_t* th = ip + ihl;
  const std::uint8_t f = th[13];
  const auto total = wire::load_be16(ip + 2);
  const std::size_t len = total - ihl - (th[12] >> 4) * 4u;
  // What we send, with the sender's state after it: the window it was sent under.
  char state[96] = "";
  if (dir[0] == 'o') {
    const tcp::FourTuple t{wire::Ipv4Addr{wire::load_be32(ip + 12)},
                           wire::Ipv4Addr{wire::load_be32(ip + 16)}, wire::load_be16(th),
                           wire::load_be16(th + 2)};
    if (const tcp::Tcb* c = tcp_->find(t); c != nullptr) {
      std::snprintf(state, sizeof state, " | cwnd %u ssthresh %u flight %u%s", c->cwnd(),
                    c->ssthresh(), c->bytes_in_flight(), c->in_recovery() ? " recovery" : "");
    }
  }
  std::fprintf(stderr, "%.6f %s %s:%u > %s:%u [%s%s%s%s%s] seq %u ack %u win %u len %zu%s\n",
               std::chrono::duration<double>(now_.time_since_epoch()).count(), dir,
               wire::Ipv4Addr{wire::load_be32(ip + 12)}.to_string().c_str(), wire::load_be16(th),
               wire::Ipv4Addr{wire::load_be32(ip + 16)}.to_string().c_str(),
               wire::load_be16(th + 2), f & 0x02 ? "S" : "", f & 0x01 ? "F" : "",
               f & 0x04 ? "R" : "", f & 0x08 ? "P" : "", f & 0x10 ? "." : "",
               wire::load_be32(th + 4), wire::load_be32(th + 8), wire::load_be16(th + 14), len,
               state);
}

void Engine::route(rte_mbuf* d) noexcept {
  const auto* ip = rte_pktmbuf_mtod(d, const std::uint8_t*);
  if (config_.trace) [[unlikely]]
    trace_segment("out", ip);
  const wire::Ipv4Addr dst{wire::load_be32(ip + 16)};
  wire::Ipv4Addr hop = dst;
  if (!on_link(dst)) {
    if (config_.gateway.is_unspecified()) {
      ++counters_.unsupported;  // no route
      rte_pktmbuf_free(d);
      return;
    }
    hop = config_.gateway;
  }
  bool request = false;
  if (const wire::MacAddr* mac = arp_.resolve(hop, now_, request)) {
    if (request) [[unlikely]] {  // stale: still used while asked for again
      send_arp(wire::ArpPacket::kOpRequest, config_.addr, wire::MacAddr{}, hop,
               wire::MacAddr::kBroadcast);
      ++counters_.arp_requests_out;
    }
    frame_and_send(d, *mac);
    return;
  }
  if (!arp_.hold(hop, d, now_, request)) {
    ++counters_.arp_held_dropped;
    rte_pktmbuf_free(d);
  }
  if (request) {
    send_arp(wire::ArpPacket::kOpRequest, config_.addr, wire::MacAddr{}, hop,
             wire::MacAddr::kBroadcast);
    ++counters_.arp_requests_out;
  }
}

void Engine::frame_and_send(rte_mbuf* d, const wire::MacAddr& dst) noexcept {
  auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_prepend(d, wire::EthernetHeader::kSize));
  if (p == nullptr) {
    ++counters_.no_mbuf;
    rte_pktmbuf_free(d);
    return;
  }
  std::memcpy(p, dst.bytes.data(), 6);
  std::memcpy(p + 6, config_.mac.bytes.data(), 6);
  wire::store_be16(p + 12, wire::to_u16(wire::EtherType::Ipv4));
  d->l2_len = wire::EthernetHeader::kSize;
  enqueue_tx(d);
}

void Engine::enqueue_tx(rte_mbuf* f) noexcept {
  // A frame beyond the MTU (MSS + 40, plus Ethernet) would be dropped unseen further on
  // (af_packet does so without a counter, a NIC or a switch too): drop it here, counted,
  // instead. A TSO packet is cut by the port at tso_segsz.
  if ((f->ol_flags & RTE_MBUF_F_TX_TCP_SEG) == 0 &&
      rte_pktmbuf_pkt_len(f) > std::uint32_t{config_.tcp.mss} + 40u + wire::EthernetHeader::kSize)
      [[unlikely]] {
    ++counters_.tx_oversize;
    rte_pktmbuf_free(f);
    return;
  }
  if (tx_impair_) {
    tx_impair_->push(f, now_, pool_);
    return;
  }
  enqueue_tx_now(f);
}

void Engine::enqueue_tx_now(rte_mbuf* f) noexcept {
  if (tx_count_ == kTxRing) flush_tx();
  if (tx_count_ == kTxRing) {
    ++counters_.tx_dropped;
    rte_pktmbuf_free(f);
    return;
  }
  tx_[tx_count_++] = f;
}

void Engine::flush_tx() noexcept {
  std::uint16_t off = 0;
  while (off < tx_count_) {
    std::uint64_t bytes = 0;
    for (std::uint16_t i = off; i < tx_count_; ++i) bytes += rte_pktmbuf_pkt_len(tx_[i]);
    // No TX queue of our own: engine 0 transmits for us (drain_relays). Either way what
    // is not taken stays in the batch for the next iteration.
    const std::uint16_t sent =
        config_.shard.has_queue
            ? rte_eth_tx_burst(config_.port, config_.queue, tx_.data() + off, tx_count_ - off)
            : static_cast<std::uint16_t>(rte_ring_sp_enqueue_burst(
                  mesh_->relay(config_.shard.index),
                  reinterpret_cast<void* const*>(tx_.data() + off), tx_count_ - off, nullptr));
    if (!config_.shard.has_queue) counters_.tx_relay_out += sent;
    std::uint64_t unsent_bytes = 0;
    for (std::uint16_t i = off + sent; i < tx_count_; ++i)
      unsent_bytes += rte_pktmbuf_pkt_len(tx_[i]);
    counters_.tx_packets += sent;
    counters_.tx_bytes += bytes - unsent_bytes;
    off += sent;
    if (sent == 0) break;  // the queue is full: keep the rest for the next iteration
  }
  if (off > 0 && off < tx_count_) {
    std::memmove(tx_.data(), tx_.data() + off, (tx_count_ - off) * sizeof(rte_mbuf*));
  }
  tx_count_ = static_cast<std::uint16_t>(tx_count_ - off);
}

}  // namespace sluice::engine
