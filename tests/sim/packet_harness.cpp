#include "packet_harness.hpp"

#include <rte_mbuf.h>

#include <cstring>
#include <sstream>

#include "eal_environment.hpp"
#include "sim_frames.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"

namespace sluice::sim {

namespace {

std::string flags_str(std::uint8_t f) {
  std::string s;
  if (f & Flag::Syn) s += "S";
  if (f & Flag::Fin) s += "F";
  if (f & Flag::Rst) s += "R";
  if (f & Flag::Psh) s += "P";
  if (f & Flag::Ack) s += ".";
  return s.empty() ? "none" : s;
}

}  // namespace

std::string Captured::describe() const {
  std::ostringstream o;
  o << "[" << flags_str(tcp.flags) << "] seq " << tcp.seq.raw << " ack " << tcp.ack.raw << " win "
    << tcp.window << " len " << payload.size();
  if (tcp.options.mss) o << " mss " << *tcp.options.mss;
  if (tcp.options.window_scale) o << " ws " << unsigned{*tcp.options.window_scale};
  if (tcp.options.sack_permitted) o << " sackOK";
  if (tcp.options.timestamps) {
    o << " TS " << tcp.options.timestamps->tsval << ":" << tcp.options.timestamps->tsecr;
  }
  for (const auto& b : tcp.options.sack_blocks()) o << " sack " << b.left.raw << "-" << b.right.raw;
  return o.str();
}

void RecordingHandler::on_data(tcp::Tcb& t) noexcept {
  if (!auto_read) return;
  std::uint8_t buf[4096];
  while (t.readable() > 0) {
    const std::uint32_t n = t.read(buf);
    received.insert(received.end(), buf, buf + n);
  }
}

void AcceptAll::on_acceptable(tcp::Listener& l) noexcept {
  while (auto_accept) {
    tcp::Tcb* t = l.accept();
    if (t == nullptr) break;
    handlers.emplace_back();
    accepted.push_back(t);
    t->set_handler(&handlers.back());
  }
}

tcp::TcpConfig PacketHarness::default_config() {
  tcp::TcpConfig c;
  c.msl = std::chrono::milliseconds(1000);  // TIME-WAIT: 2 s
  c.max_connections = 1024;
  return c;
}

PacketHarness::PacketHarness(const tcp::TcpConfig& config, std::uint32_t tso_max)
    : PacketHarness(config, HarnessPort{.tso_max = tso_max}) {}

PacketHarness::PacketHarness(const tcp::TcpConfig& config, const HarnessPort& port)
    : clock_(time::Instant{} + std::chrono::hours(1)),
      pool_(test::test_pktmbuf_pool()),
      clone_pool_(sim_clone_pool()),
      pool_base_(rte_mempool_in_use_count(pool_)),
      clone_base_(rte_mempool_in_use_count(clone_pool_)) {
  tcp::StackResources res;
  res.pool = pool_;
  res.clone_pool = clone_pool_;
  res.tso_max = port.tso_max;
  res.tx_tcp_checksum_offload = port.checksum_offload;
  res.tx_ip_checksum_offload = port.checksum_offload;
  res.tx_offload_min_payload = port.offload_min_payload;
  for (std::size_t i = 0; i < res.secret.size(); ++i)
    res.secret[i] = static_cast<std::uint8_t>(i * 7 + 1);
  stack_ = std::make_unique<tcp::TcpStack>(config, res, tcp::TxSink{&PacketHarness::sink, this},
                                           clock_.now());
}

PacketHarness::~PacketHarness() {
  stack_.reset();
  tx_.clear();
  EXPECT_EQ(rte_mempool_in_use_count(pool_), pool_base_) << "mbufs leaked from the packet pool";
  EXPECT_EQ(rte_mempool_in_use_count(clone_pool_), clone_base_) << "indirect mbufs leaked";
}

void PacketHarness::sink(void* ctx, rte_mbuf** pkts, std::uint16_t n) noexcept {
  auto* self = static_cast<PacketHarness*>(ctx);
  for (std::uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    // Linearise behind a made-up Ethernet header and let lib/wire check everything,
    // checksums included.
    std::vector<std::uint8_t> frame = linearize_datagram(m);
    EXPECT_EQ(frame.size() - 14, rte_pktmbuf_pkt_len(m)) << "pkt_len disagrees with the chain";
    // Every datagram on the wire fits our MTU (MSS + 40): options come out of the MSS.
    const std::uint32_t mtu = self->stack_->config().mss + 40u;
    if ((m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0) {
      EXPECT_LE(20u + m->l4_len + m->tso_segsz, mtu) << "a TSO packet cut beyond the MTU";
    } else {
      EXPECT_LE(frame.size() - 14, mtu) << "a datagram beyond the MTU";
    }
    std::uint16_t tso_segsz = 0;
    if ((m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) != 0) {
      // The port would finish the checksums; DPDK wants the length-less pseudo-header sum.
      tso_segsz = m->tso_segsz;
      const wire::Ipv4Addr src{wire::load_be32(&frame[14 + 12])};
      const wire::Ipv4Addr dst{wire::load_be32(&frame[14 + 16])};
      EXPECT_EQ(wire::load_be16(&frame[14 + 20 + 16]),
                wire::checksum_reduce(wire::pseudo_header_sum(src, dst, 6, 0)))
          << "a TSO packet's checksum field is not the length-less pseudo-header sum";
      EXPECT_EQ(m->l4_len, (frame[14 + 20 + 12] >> 4) * 4) << "l4_len";
      complete_tcp_checksum(frame);
    }
    // Checksum offload without TSO: the field holds the pseudo-header sum with the length,
    // folded, not inverted (DPDK's contract); the IPv4 checksum is left at zero.
    const bool tcp_csum_offload =
        tso_segsz == 0 && (m->ol_flags & RTE_MBUF_F_TX_L4_MASK) == RTE_MBUF_F_TX_TCP_CKSUM;
    if (tcp_csum_offload) {
      const wire::Ipv4Addr src{wire::load_be32(&frame[14 + 12])};
      const wire::Ipv4Addr dst{wire::load_be32(&frame[14 + 16])};
      const auto l4_len = static_cast<std::uint16_t>(frame.size() - 14 - 20);
      EXPECT_EQ(wire::load_be16(&frame[14 + 20 + 16]),
                wire::checksum_reduce(wire::pseudo_header_sum(src, dst, 6, l4_len)))
          << "an offloaded checksum field is not the pseudo-header sum";
      complete_tcp_checksum(frame);
    }
    const bool ip_csum_offload = (m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) != 0;
    if (ip_csum_offload) {
      EXPECT_EQ(wire::load_be16(&frame[14 + 10]), 0) << "IPv4 checksum left for the port";
      wire::store_be16(&frame[14 + 10], wire::checksum_fold(wire::checksum_partial(
                                            std::span<const std::uint8_t>(&frame[14], 20))));
    }
    rte_pktmbuf_free(m);
    auto r = wire::parse_frame(frame);
    if (!r.ok()) {
      ADD_FAILURE() << "the stack sent a frame lib/wire refuses: " << wire::to_string(r.error());
      continue;
    }
    if (r->kind != wire::FrameKind::Ipv4Tcp) {
      ADD_FAILURE() << "the stack sent a non-TCP datagram";
      continue;
    }
    Captured c{r->ip, r->tcp, {}, self->clock_.now(), tso_segsz, tcp_csum_offload, ip_csum_offload};
    c.payload.assign(frame.begin() + r->payload_offset,
                     frame.begin() + r->payload_offset + r->payload_len);
    self->tx_.push_back(std::move(c));
  }
}

void PacketHarness::collect() {
  stack_->flush();
}

void PacketHarness::advance(time::Duration d) {
  // Stop at every timer deadline on the way, as a poll loop would.
  const time::Instant target = clock_.now() + d;
  for (;;) {
    time::Instant next = stack_->next_deadline();
    if (next <= clock_.now()) next = clock_.now() + std::chrono::milliseconds(1);  // next tick
    if (next > target) break;
    clock_.set(next);
    stack_->advance(next);
    collect();
  }
  clock_.set(target);
  stack_->advance(target);
  collect();
}

void PacketHarness::send(const PeerSegment& s) {
  wire::EthernetHeader eth{};
  wire::Ipv4Header ip{};
  ip.ttl = 64;
  ip.src = s.src;
  ip.dst = s.dst;
  wire::TcpHeader th{};
  th.src_port = s.src_port;
  th.dst_port = s.dst_port;
  th.seq = s.seq;
  th.ack = s.ack;
  th.flags = s.flags;
  th.window = s.window;
  th.options = s.options;
  std::vector<std::uint8_t> frame(14 + 60 + 60 + s.payload.size());
  const std::size_t n = wire::build_tcp_frame(frame, eth, ip, th, s.payload);
  ASSERT_GT(n, 0u) << "could not build the peer's segment";
  frame.resize(n);
  send_frame(frame);
}

void PacketHarness::send_frame(const std::vector<std::uint8_t>& frame) {
  auto r = wire::parse_frame(frame);
  if (!r.ok() || r->kind != wire::FrameKind::Ipv4Tcp) return;  // the engine drops it
  // Larger than one mbuf: a chain, headers first, as receive offload delivers it.
  const bool big =
      frame.size() > std::size_t{rte_pktmbuf_data_room_size(pool_)} - RTE_PKTMBUF_HEADROOM;
  rte_mbuf* m =
      big ? mbuf_chain_from_frame(pool_, frame, r->payload_offset) : mbuf_from_frame(pool_, frame);
  ASSERT_NE(m, nullptr);
  stack_->input(m, r->ip, r->tcp, r->payload_offset, clock_.now());
  collect();
}

std::optional<Captured> PacketHarness::pop_tx() {
  collect();  // what application calls queued since the last input or timer
  if (tx_.empty()) return std::nullopt;
  Captured c = std::move(tx_.front());
  tx_.pop_front();
  return c;
}

Captured PacketHarness::expect_tx(const Expect& e, const char* what) {
  auto c = pop_tx();
  if (!c) {
    ADD_FAILURE() << "expected a segment (" << what << "), the stack sent nothing";
    return Captured{};
  }
  const std::string d = c->describe();
  if (e.seq) {
    EXPECT_EQ(c->tcp.seq.raw, e.seq->raw) << what << ": seq of " << d;
  }
  if (e.ack) {
    EXPECT_EQ(c->tcp.ack.raw, e.ack->raw) << what << ": ack of " << d;
  }
  if (e.flags) {
    EXPECT_EQ(flags_str(c->tcp.flags), flags_str(*e.flags)) << what << ": flags of " << d;
  }
  if (e.window) {
    EXPECT_EQ(c->tcp.window, *e.window) << what << ": window of " << d;
  }
  if (e.len) {
    EXPECT_EQ(c->payload.size(), *e.len) << what << ": length of " << d;
  }
  return *c;
}

void PacketHarness::expect_no_tx(const char* what) {
  collect();
  if (!tx_.empty())
    ADD_FAILURE() << "expected silence (" << what << "), got " << tx_.front().describe();
}

tcp::Tcb* PacketHarness::open_passive(Seq peer_isn, const wire::TcpOptions& syn_opts,
                                      std::uint16_t peer_window) {
  if (listener == nullptr) {
    auto l = stack_->listen(Ipv4Addr{}, kLocalPort, 16, &acceptor);
    EXPECT_TRUE(l.ok());
    listener = *l;
  }
  PeerSegment syn{.seq = peer_isn, .flags = Flag::Syn, .window = peer_window, .options = syn_opts};
  send(syn);
  const Captured sa = expect_tx({.ack = peer_isn + 1, .flags = Flag::Syn | Flag::Ack}, "SYN-ACK");
  PeerSegment ack{.seq = peer_isn + 1, .ack = sa.seq() + 1, .window = peer_window};
  if (syn_opts.timestamps && sa.tcp.options.timestamps) {
    ack.options.timestamps =
        wire::TcpTimestamps{syn_opts.timestamps->tsval + 1, sa.tcp.options.timestamps->tsval};
  }
  send(ack);
  if (acceptor.accepted.empty()) {
    ADD_FAILURE() << "handshake did not complete";
    return nullptr;
  }
  return acceptor.accepted.back();
}

tcp::Tcb* PacketHarness::open_active(Seq peer_isn, const wire::TcpOptions& synack_opts,
                                     std::uint16_t peer_window) {
  auto t = stack_->connect(tuple(), &client);
  EXPECT_TRUE(t.ok());
  if (!t.ok()) return nullptr;
  collect();
  const Captured syn = expect_tx({.flags = Flag::Syn}, "SYN");
  PeerSegment sa{.seq = peer_isn,
                 .ack = syn.seq() + 1,
                 .flags = Flag::Syn | Flag::Ack,
                 .window = peer_window,
                 .options = synack_opts};
  if (synack_opts.timestamps && syn.tcp.options.timestamps) {
    sa.options.timestamps =
        wire::TcpTimestamps{synack_opts.timestamps->tsval, syn.tcp.options.timestamps->tsval};
  }
  send(sa);
  expect_tx({.seq = syn.seq() + 1, .ack = peer_isn + 1, .flags = Flag::Ack}, "handshake ACK");
  return *t;
}

std::vector<std::uint8_t> bytes_of(std::string_view s) {
  return {s.begin(), s.end()};
}

std::vector<std::uint8_t> pattern_bytes(std::size_t n, std::uint32_t seed) {
  std::vector<std::uint8_t> v(n);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : v) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::uint8_t>(x);
  }
  return v;
}

}  // namespace sluice::sim
