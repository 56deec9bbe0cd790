#include "sim_network.hpp"

#include <rte_mbuf.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "eal_environment.hpp"
#include "sim_frames.hpp"
#include "wire/bytes.hpp"
#include "wire/checksum.hpp"

#ifndef SLUICE_SIM_BUILD_DIR
#define SLUICE_SIM_BUILD_DIR "."
#endif

namespace sluice::sim {

namespace {

wire::MacAddr mac_of(Side s) {
  return wire::MacAddr{
      {0x02, 0x00, 0x00, 0x00, 0x00, s == Side::A ? std::uint8_t{0x0a} : std::uint8_t{0x0b}}};
}

void put_le32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void put_le16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
}

long in_use(rte_mempool* p) {
  return static_cast<long>(rte_mempool_in_use_count(p));
}

}  // namespace

// ======================================================================== SimNetwork

tcp::TcpConfig SimNetwork::default_config() {
  tcp::TcpConfig c;
  // 2 MSL must outlast the largest RTO (rto_max, 60 s), or TIME-WAIT may be gone before
  // the peer's last FIN retransmission arrives (it would be answered with a RST).
  c.msl = std::chrono::milliseconds(31000);
  c.max_connections = 256;
  c.syn_retries = 12;
  c.synack_retries = 12;
  return c;
}

SimNetwork::SimNetwork(const Options& options)
    : seed_(options.seed),
      rng_(options.seed),
      clock_(time::Instant{} + std::chrono::hours(1)),
      start_(clock_.now()),
      pool_(test::test_pktmbuf_pool()),
      clone_pool_(sim_clone_pool()),
      pool_base_(in_use(pool_) + in_use(clone_pool_)),
      endpoints_{{this, Side::A}, {this, Side::B}} {
  links_[idx(Dir::AtoB)].params = options.a_to_b;
  links_[idx(Dir::BtoA)].params = options.b_to_a;
  for (Side s : {Side::A, Side::B}) {
    tcp::StackResources res;
    res.pool = pool_;
    res.clone_pool = clone_pool_;
    res.tso_max = s == Side::A ? options.tso_a : options.tso_b;
    for (auto& byte : res.secret) byte = static_cast<std::uint8_t>(rng_());  // ISNs vary by seed
    stacks_[idx(s)] = std::make_unique<tcp::TcpStack>(
        s == Side::A ? options.config_a : options.config_b, res,
        tcp::TxSink{&SimNetwork::sink, &endpoints_[idx(s)]}, clock_.now());
  }
}

SimNetwork::~SimNetwork() {
  stacks_[0].reset();
  stacks_[1].reset();
}

tcp::FourTuple SimNetwork::tuple(Side s, std::uint16_t a_port, std::uint16_t b_port) {
  const tcp::FourTuple from_a{kSimIpA, kSimIpB, a_port, b_port};
  return s == Side::A ? from_a : from_a.reversed();
}

long SimNetwork::mbufs_in_use() const {
  // Less the header mbuf each stack takes one packet ahead (TcpStack::mbufs_in_reserve).
  long reserve = 0;
  for (const auto& s : stacks_) {
    if (s) reserve += static_cast<long>(s->mbufs_in_reserve());
  }
  return in_use(pool_) + in_use(clone_pool_) - pool_base_ - reserve;
}

bool SimNetwork::chance(double p) {
  if (p <= 0) return false;
  // 53 random bits as a double in [0, 1): the same on every platform, unlike
  // std::uniform_real_distribution, so a seed means the same run everywhere.
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53 < p;
}

time::Duration SimNetwork::uniform(time::Duration max_incl) {
  if (max_incl <= time::Duration::zero()) return time::Duration::zero();
  return time::Duration{
      static_cast<std::int64_t>(rng_() % (static_cast<std::uint64_t>(max_incl.count()) + 1))};
}

void SimNetwork::sink(void* ctx, rte_mbuf** pkts, std::uint16_t n) noexcept {
  auto* ep = static_cast<Endpoint*>(ctx);
  for (std::uint16_t i = 0; i < n; ++i) ep->net->transmit(ep->side, pkts[i]);
}

void SimNetwork::transmit(Side from, rte_mbuf* m) {
  Link& link = links_[idx(dir_from(from))];
  std::vector<std::uint8_t> frame = linearize_datagram(m, mac_of(from), mac_of(other(from)));
  const std::uint32_t pkt_len = rte_pktmbuf_pkt_len(m);
  if (frame.size() != kSimEthHeaderLen + pkt_len) {
    error("stack " + std::string(name(from)) +
          " sent a chain whose pkt_len disagrees with its segments");
  }
  if ((m->ol_flags & RTE_MBUF_F_TX_TCP_SEG) == 0) {
    rte_pktmbuf_free(m);
    transmit_frame(from, std::move(frame));
    return;
  }
  // What the NIC would do with a TSO packet: cut it (or, seen from a receiver with large
  // receive offload, deliver it whole).
  ++link.stats.tso_packets;
  const bool ok = tso_contract_ok(from, m, frame);
  const std::uint16_t mss = m->tso_segsz;
  rte_pktmbuf_free(m);
  if (!ok) return;
  if (link.params.lro) {
    complete_tcp_checksum(frame);
    transmit_frame(from, std::move(frame));
  } else {
    for (auto& piece : segment_tso(frame, mss)) transmit_frame(from, std::move(piece));
  }
}

bool SimNetwork::tso_contract_ok(Side from, const rte_mbuf* m, std::span<const std::uint8_t> f) {
  const std::string who = "stack " + std::string(name(from)) + " sent a TSO packet ";
  const std::size_t ip = kSimEthHeaderLen;
  if (f.size() < ip + 40) {
    error(who + "too short for its headers");
    return false;
  }
  const std::size_t ip_hlen = (f[ip] & 0x0f) * 4u;
  const std::size_t tcp_hlen = (f[ip + ip_hlen + 12] >> 4) * 4u;
  const std::size_t payload = f.size() - ip - ip_hlen - tcp_hlen;
  if (m->l3_len != ip_hlen || m->l4_len != tcp_hlen) {
    error(who + "whose l3_len/l4_len disagree with its headers");
    return false;
  }
  if ((m->ol_flags & RTE_MBUF_F_TX_IPV4) == 0 || m->tso_segsz == 0 || payload <= m->tso_segsz) {
    error(who + "without TX_IPV4, or with a segment size of 0 or not below its payload");
    return false;
  }
  // DPDK: the TCP checksum field holds the pseudo-header sum without the length.
  const wire::Ipv4Addr src{wire::load_be32(&f[ip + 12])};
  const wire::Ipv4Addr dst{wire::load_be32(&f[ip + 16])};
  const std::uint16_t want = wire::checksum_reduce(wire::pseudo_header_sum(src, dst, 6, 0));
  if (wire::load_be16(&f[ip + ip_hlen + 16]) != want) {
    error(who + "whose checksum field is not the length-less pseudo-header sum");
    return false;
  }
  return true;
}

void SimNetwork::transmit_frame(Side from, std::vector<std::uint8_t> frame) {
  const Dir d = dir_from(from);
  Link& link = links_[idx(d)];
  const time::Instant now = clock_.now();
  wire::ParsedFrame pf;
  const auto r = wire::parse_frame_into(frame, pf);
  if (!r.ok() || pf.kind != wire::FrameKind::Ipv4Tcp) {
    error("stack " + std::string(name(from)) + " sent a frame lib/wire refuses" +
          (r.ok() ? std::string(" (not TCP)") : ": " + std::string(wire::to_string(r.error()))));
    record(frame, true);
    return;
  }

  ++link.stats.sent;
  WireSegment w{d, pf, frame, link.stats.sent, 0};
  if (pf.payload_len > 0) w.data_index = ++link.stats.data_sent;

  bool drop = false;
  if (w.data_index != 0) {
    auto& s = scripted_[idx(d)];
    if (std::find(s.begin(), s.end(), w.data_index) != s.end()) drop = true;
  }
  if (!drop && drop_filter_ && drop_filter_(w)) drop = true;
  if (drop) ++link.stats.scripted_drops;

  const LinkParams& p = link.params;
  const time::Instant queue_start = std::max(now, link.busy_until);
  if (!drop && p.queue_limit_bytes > 0 && p.bandwidth_bps > 0) {
    // Bytes still queued ahead of this frame, from the time the queue needs to drain.
    const auto backlog_ns = static_cast<std::uint64_t>((queue_start - now).count());
    const std::uint64_t backlog = backlog_ns * p.bandwidth_bps / 8 / 1000000000ULL;
    if (backlog + frame.size() > p.queue_limit_bytes) {
      drop = true;
      ++link.stats.queue_drops;
    }
  }
  time::Instant depart = now;
  if (!drop) {
    if (p.bandwidth_bps > 0) {
      const auto ser_ns =
          static_cast<std::int64_t>(frame.size() * 8ULL * 1000000000ULL / p.bandwidth_bps);
      link.busy_until = queue_start + time::Duration{ser_ns};
      depart = link.busy_until;
    }
    if (chance(p.loss)) {
      drop = true;
      ++link.stats.lost;
    }
  }
  w.dropped = drop;
  for (auto& f : tx_observers_) f(w);
  if (drop) {
    record(frame, true);
    return;
  }

  const int copies = chance(p.duplicate) ? 2 : 1;
  if (copies == 2) ++link.stats.duplicated;
  for (int c = 0; c < copies; ++c) {
    time::Instant at = depart + p.delay + uniform(p.jitter);
    if (chance(p.reorder)) {
      at += std::max(time::Duration{1}, uniform(p.reorder_delay));
      ++link.stats.reordered;
    }
    std::vector<std::uint8_t> bytes = c + 1 == copies ? std::move(frame) : frame;
    const bool corrupted = chance(p.corrupt);
    if (corrupted) {
      // Flip one byte of the datagram (the Ethernet header has no checksum: leave it).
      const std::size_t at_byte = kSimEthHeaderLen + rng_() % (bytes.size() - kSimEthHeaderLen);
      bytes[at_byte] ^= static_cast<std::uint8_t>(1 + rng_() % 255);
      ++link.stats.corrupted;
    }
    schedule_frame(other(from), at, std::move(bytes), corrupted);
  }
}

void SimNetwork::schedule_frame(Side to, time::Instant at, std::vector<std::uint8_t> frame,
                                bool corrupted) {
  Event e;
  e.at = std::max(at, clock_.now());
  e.order = order_++;
  e.to = to;
  e.corrupted = corrupted;
  e.frame = std::move(frame);
  queue_.push(std::move(e));
}

void SimNetwork::at(time::Instant t, std::function<void()> f) {
  Event e;
  e.at = std::max(t, clock_.now());
  e.order = order_++;
  e.fn = std::move(f);
  queue_.push(std::move(e));
}

void SimNetwork::deliver(Event& e) {
  const Side to = e.to;
  Link& link = links_[idx(dir_from(other(to)))];
  record(e.frame, false);
  wire::ParsedFrame pf;
  const auto r = wire::parse_frame_into(e.frame, pf);
  if (!r.ok() || pf.kind != wire::FrameKind::Ipv4Tcp) {
    // What an engine does with a frame that fails its checks: count it and free it.
    if (e.corrupted) {
      ++link.stats.corrupt_dropped;
    } else {
      error("an intact frame failed lib/wire's checks at delivery");
    }
    return;
  }
  if (e.corrupted) {
    error("a corrupted frame passed lib/wire's checksum checks");
    return;
  }
  // A frame larger than one mbuf arrives as a chain, headers first (receive offload).
  const bool big =
      e.frame.size() > std::size_t{rte_pktmbuf_data_room_size(pool_)} - RTE_PKTMBUF_HEADROOM;
  rte_mbuf* m = big ? mbuf_chain_from_frame(pool_, e.frame, pf.payload_offset)
                    : mbuf_from_frame(pool_, e.frame);
  if (m == nullptr) {
    ++link.stats.rx_no_mbuf;  // a NIC with no receive buffer drops the frame
    return;
  }
  ++link.stats.delivered;
  const WireSegment w{dir_from(other(to)), pf, e.frame, 0, 0};
  for (auto& f : rx_observers_) f(w);
  stack(to).input(m, pf.ip, pf.tcp, pf.payload_offset, clock_.now());
}

void SimNetwork::flush() {
  for (auto& s : stacks_) s->flush();
}

void SimNetwork::after_event() {
  if (after_event_) after_event_();
}

void SimNetwork::error(const std::string& what) {
  std::ostringstream o;
  o << "t=" << std::chrono::duration_cast<std::chrono::microseconds>(clock_.now() - start_).count()
    << "us: " << what;
  errors_.push_back(o.str());
}

time::Instant SimNetwork::next_event_time() {
  time::Instant t = queue_.empty() ? time::Instant::max() : queue_.top().at;
  for (auto& s : stacks_) {
    time::Instant d = s->next_deadline();
    if (d == time::Instant::max()) continue;
    if (d <= clock_.now()) d = clock_.now() + s->timers().tick();  // due: the next tick
    t = std::min(t, d);
  }
  return t;
}

bool SimNetwork::step(time::Instant limit) {
  const time::Instant t = next_event_time();
  if (t == time::Instant::max() || t > limit) return false;
  if (t > clock_.now()) clock_.set(t);
  const time::Instant now = clock_.now();
  // Timers first, as a poll loop would advance its wheel; then what arrives now.
  for (auto& s : stacks_) {
    s->advance(now);
    flush();
    after_event();
  }
  while (!queue_.empty() && queue_.top().at <= now) {
    // priority_queue::top() is const; the event is moved out just before pop(), which
    // only compares the (still intact) time and order fields.
    Event e = std::move(const_cast<Event&>(queue_.top()));
    queue_.pop();
    if (e.fn) {
      e.fn();
    } else {
      deliver(e);
    }
    flush();
    after_event();
  }
  return true;
}

void SimNetwork::run_until(time::Instant t) {
  while (step(t)) {
  }
  if (t > clock_.now()) {
    clock_.set(t);
    for (auto& s : stacks_) s->advance(t);
    flush();
    after_event();
  }
}

bool SimNetwork::run_until(const std::function<bool()>& pred, time::Instant limit) {
  while (!pred()) {
    if (!step(limit)) return pred();
  }
  return true;
}

// ---------------------------------------------------------------- pcap

void SimNetwork::record(std::span<const std::uint8_t> frame, bool dropped) {
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(clock_.now() - start_).count();
  put_le32(pcap_, static_cast<std::uint32_t>(us / 1000000));
  put_le32(pcap_, static_cast<std::uint32_t>(us % 1000000));
  put_le32(pcap_, static_cast<std::uint32_t>(frame.size()));  // captured length
  put_le32(pcap_, static_cast<std::uint32_t>(frame.size()));  // length on the wire
  const std::size_t at = pcap_.size();
  pcap_.insert(pcap_.end(), frame.begin(), frame.end());
  if (dropped && frame.size() >= kSimEthHeaderLen) pcap_[at + 6 + 4] = 0xdd;  // source MAC byte 4
  ++pcap_frames_;
}

bool SimNetwork::write_pcap(const std::string& path) const {
  // Classic libpcap file header (pcap-savefile(5)): magic, version 2.4, GMT offset 0,
  // sigfigs 0, snaplen, LINKTYPE_ETHERNET (1). Little-endian, as the magic says.
  std::vector<std::uint8_t> header;
  put_le32(header, 0xa1b2c3d4);
  put_le16(header, 2);
  put_le16(header, 4);
  put_le32(header, 0);
  put_le32(header, 0);
  put_le32(header, 262144);
  put_le32(header, 1);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  bool ok = std::fwrite(header.data(), 1, header.size(), f) == header.size();
  ok = ok && (pcap_.empty() || std::fwrite(pcap_.data(), 1, pcap_.size(), f) == pcap_.size());
  ok = std::fclose(f) == 0 && ok;
  return ok;
}

std::string SimNetwork::dump_pcap(std::string_view file_name) const {
  const char* dir = std::getenv("SLUICE_PCAP_DIR");
  std::string path = dir != nullptr && *dir != '\0' ? dir : SLUICE_SIM_BUILD_DIR;
  path += "/";
  path += file_name;
  path += ".pcap";
  return write_pcap(path) ? path : std::string{};
}

// ======================================================================== InvariantChecker

InvariantChecker::InvariantChecker(SimNetwork& net, std::uint16_t a_port, std::uint16_t b_port)
    : net_(net), a_port_(a_port), b_port_(b_port) {
  net_.add_tx_observer([this](const WireSegment& w) { on_tx(w); });
  net_.add_rx_observer([this](const WireSegment& w) { on_rx(w); });
}

void InvariantChecker::fail(const std::string& what) {
  if (!violation_.empty()) return;
  std::ostringstream o;
  o << "t="
    << std::chrono::duration_cast<std::chrono::microseconds>(net_.now() - net_.start()).count()
    << "us: " << what;
  violation_ = o.str();
}

void InvariantChecker::on_tx(const WireSegment& w) {
  const Side from = w.dir == Dir::AtoB ? Side::A : Side::B;
  const wire::TcpHeader& th = w.tcp();
  const std::uint16_t src = from == Side::A ? a_port_ : b_port_;
  const std::uint16_t dst = from == Side::A ? b_port_ : a_port_;
  if (th.src_port != src || th.dst_port != dst || th.has(wire::TcpFlag::Rst)) return;
  const std::size_t f = idx(from);
  if (th.has(wire::TcpFlag::Syn) && !syn_seen_[f]) {
    syn_seen_[f] = true;
    syn_wscale_[f] = th.options.window_scale;
  }
  const wire::Seq first = th.seq + (th.has(wire::TcpFlag::Syn) ? 1u : 0u);
  const wire::Seq end = first + w.payload_len();
  std::ostringstream o;
  if (w.payload_len() > 0 && !th.has(wire::TcpFlag::Syn)) {
    const auto& edge = edge_[f];
    if (!edge) {
      o << name(from) << " sent data [" << first.raw << ", " << end.raw << ") before any window";
      fail(o.str());
    } else if (*edge < end && !(w.payload_len() == 1 && end == *edge + 1)) {
      o << name(from) << " sent [" << first.raw << ", " << end.raw
        << ") beyond the window it was told of (right edge " << edge->raw << ")";
      fail(o.str());
    }
  }
  if (w.payload_len() > 0 && fin_[f] && *fin_[f] < end) {
    o << name(from) << " sent data up to " << end.raw << " beyond its own FIN at " << fin_[f]->raw;
    fail(o.str());
  }
  if (th.has(wire::TcpFlag::Fin)) {
    if (!fin_[f]) {
      fin_[f] = end;
    } else if (*fin_[f] != end) {
      o << name(from) << " sent a FIN at " << end.raw << " after one at " << fin_[f]->raw;
      fail(o.str());
    }
  }
}

void InvariantChecker::on_rx(const WireSegment& w) {
  const Side from = w.dir == Dir::AtoB ? Side::A : Side::B;
  const wire::TcpHeader& th = w.tcp();
  const std::uint16_t src = from == Side::A ? a_port_ : b_port_;
  const std::uint16_t dst = from == Side::A ? b_port_ : a_port_;
  if (th.src_port != src || th.dst_port != dst) return;
  if (!th.has(wire::TcpFlag::Ack) || th.has(wire::TcpFlag::Rst)) return;
  // The window field is scaled unless in a SYN, and only if both SYNs offered scaling.
  const bool scaled = !th.has(wire::TcpFlag::Syn) && syn_wscale_[0] && syn_wscale_[1];
  const unsigned shift = scaled ? *syn_wscale_[idx(from)] : 0u;
  const wire::Seq e = th.ack + (std::uint32_t{th.window} << shift);
  auto& edge = edge_[idx(other(from))];
  if (!edge || *edge < e) edge = e;
}

void InvariantChecker::check() {
  for (Side s : {Side::A, Side::B}) {
    tcp::Tcb* t = net_.stack(s).find(SimNetwork::tuple(s, a_port_, b_port_));
    if (t == nullptr) continue;
    std::ostringstream o;
    o << name(s) << " in " << tcp::to_string(t->state()) << ": ";
    if (t->snd_nxt() < t->snd_una()) {
      o << "SND.NXT " << t->snd_nxt().raw << " < SND.UNA " << t->snd_una().raw;
      fail(o.str());
      return;
    }
    const bool handshake =
        t->state() == tcp::TcpState::SynSent || t->state() == tcp::TcpState::SynReceived;
    const bool outstanding = t->snd_una() != t->snd_nxt();
    if ((handshake || outstanding) && !t->retransmit_timer_armed()) {
      o << static_cast<std::uint32_t>(t->snd_nxt() - t->snd_una())
        << " sequence numbers outstanding and no retransmission timer";
      fail(o.str());
      return;
    }
    if (!handshake && !outstanding && t->unsent_bytes() > 0 && t->snd_wnd() == 0 &&
        !t->retransmit_timer_armed()) {
      o << t->unsent_bytes() << " bytes wait for a zero window and no persist timer";
      fail(o.str());
      return;
    }
    const auto& peer_fin = fin_[idx(other(s))];
    if (peer_fin && tcp::kSynchronized.has(t->state()) && *peer_fin + 1 < t->rcv_nxt()) {
      o << "RCV.NXT " << t->rcv_nxt().raw << " is past the peer's FIN at " << peer_fin->raw;
      fail(o.str());
      return;
    }
  }
}

}  // namespace sluice::sim
