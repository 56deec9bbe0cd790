// TcpStack: demultiplexing (RFC 9293 §3.10.7.1-2), TIME-WAIT records (§3.10.7.4,
// RFC 6191), listeners with SYN cookies, the transmit path and event delivery.
#include "tcp/tcp_stack.hpp"

#include <rte_mbuf.h>

#include <algorithm>
#include <bit>

#include "tcp/mbuf_checksum.hpp"
#include "tcp/mbuf_guard.hpp"
#include "wire/checksum.hpp"

namespace sluice::tcp {

using wire::Seq;
namespace TcpFlag = wire::TcpFlag;

namespace {

std::size_t buckets_for(std::size_t n) noexcept {
  return std::bit_ceil(std::max<std::size_t>(n, 64));
}

SipHash::Key derive_key(const std::array<std::uint8_t, 16>& secret, std::uint8_t tweak) noexcept {
  SipHash::Key k{};
  for (std::size_t i = 0; i < k.size(); ++i) k[i] = static_cast<std::uint8_t>(secret[i] ^ tweak);
  return k;
}

}  // namespace

TcpStack::TcpStack(const TcpConfig& config, const StackResources& res, TxSink sink,
                   time::Instant now)
    : config_(config),
      res_(res),
      sink_(sink),
      now_(now),
      epoch_(now),
      wheel_(now),
      isn_(derive_key(res.secret, 0x00)),
      cookies_(derive_key(res.secret, 0x5c)),
      tcbs_(config.max_connections),
      tws_(config.max_connections),
      max_buckets_(buckets_for(config.max_connections)),
      buckets_(std::min(max_buckets_, kMinBuckets)),
      tcb_buckets_(new TcbTable::bucket_type[max_buckets_]),
      tw_buckets_(new TwTable::bucket_type[max_buckets_]),
      tcb_table_(TcbTable::bucket_traits(tcb_buckets_.get(), buckets_)),
      tw_table_(TwTable::bucket_traits(tw_buckets_.get(), buckets_)) {}

TcpStack::~TcpStack() {
  // Teardown sends nothing: connections, records and listeners just go away.
  while (!listeners_.empty()) {
    Listener& l = listeners_.front();
    listeners_.pop_front();
    delete &l;
  }
  tcb_table_.clear_and_dispose([this](Tcb* t) {
    t->listener_ = nullptr;
    tcbs_.destroy(t);
  });
  tw_table_.clear_and_dispose([this](TimeWaitRecord* r) { tws_.destroy(r); });
  for (std::uint16_t i = 0; i < tx_count_; ++i) rte_pktmbuf_free(tx_[i]);
  tx_count_ = 0;
  if (next_header_ != nullptr) rte_pktmbuf_free(next_header_);
}

// ======================================================================== input

void TcpStack::input(rte_mbuf* m, const wire::Ipv4Header& ip, const wire::TcpHeader& th,
                     std::uint32_t payload_offset, time::Instant now) noexcept {
  now_ = now;
  const std::uint32_t l4 = ip.total_len > ip.header_len ? ip.total_len - ip.header_len : 0u;
  InSegment seg{m, th, payload_offset, l4 > th.header_len ? l4 - th.header_len : 0u,
                FourTuple{ip.dst, ip.src, th.dst_port, th.src_port}};
  if (Tcb* c = find(seg.tuple)) {
    c->input(seg, now);
    dispatch(*c);
    dispatch_listeners();
    return;
  }
  ++counters_.segs_in;
  if (auto it = tw_table_.find(seg.tuple); it != tw_table_.end()) {
    input_time_wait(*it, seg, now);
  } else if (Listener* l = find_listener(seg.tuple.local_ip, seg.tuple.local_port)) {
    input_listen(*l, seg, now, std::nullopt);
  } else {
    MbufGuard guard(seg.mbuf);
    counters_.drop(TcpDrop::NoConnection);
    send_reset_for(seg);  // §3.10.7.1: CLOSED
  }
  dispatch_listeners();
}

// RFC 9293 §3.10.7.2 — LISTEN.
void TcpStack::input_listen(Listener& l, InSegment& seg, time::Instant now,
                            std::optional<Seq> iss_floor) noexcept {
  MbufGuard guard(seg.mbuf);
  const wire::TcpHeader& th = seg.th;
  if (th.has(TcpFlag::Rst)) return;  // first: "An incoming RST should be ignored"
  if (th.has(TcpFlag::Ack)) {
    // second: an ACK here is either the end of a cookie handshake or bogus.
    if (th.has(TcpFlag::Syn) || !config_.syn_cookies) {
      counters_.drop(TcpDrop::ListenBadFlags);
      send_reset_for(seg);  // <SEQ=SEG.ACK><CTL=RST>
      return;
    }
    std::optional<std::uint32_t> tsecr;
    if (th.options.timestamps) tsecr = th.options.timestamps->tsecr;
    const auto opts = cookies_.decode(seg.tuple, th.seq - 1, th.ack - 1, tsecr, now);
    if (!opts || l.accept_q_.size() >= l.backlog_) {
      counters_.drop(opts ? TcpDrop::AcceptQueueFull : TcpDrop::BadSynCookie);
      if (!opts) send_reset_for(seg);
      return;
    }
    Tcb* t = new_tcb(seg.tuple);
    if (t == nullptr) {
      counters_.drop(TcpDrop::ConnectionLimit);
      return;
    }
    ++counters_.syn_cookies_accepted;
    ++counters_.passive_opens;
    t->listener_ = &l;
    l.on_embryonic(*t);
    t->open_from_cookie(seg, th.ack - 1, opts->mss, opts->window_scale, opts->sack_permitted,
                        opts->timestamps, now);
    // The ACK completes the handshake (and may carry data) through the normal path.
    t->input(seg, now);
    dispatch(*t);
    return;
  }
  if (!th.has(TcpFlag::Syn)) {  // fourth: "Any other control or text-bearing segment"
    counters_.drop(TcpDrop::ListenBadFlags);
    return;
  }
  // third: the SYN.
  if (l.accept_q_.size() >= l.backlog_) {
    counters_.drop(TcpDrop::AcceptQueueFull);
    return;
  }
  if (l.syn_q_.size() >= config_.syn_backlog || tcbs_.live() >= config_.max_connections) {
    if (!config_.syn_cookies) {
      counters_.drop(tcbs_.live() >= config_.max_connections ? TcpDrop::ConnectionLimit
                                                             : TcpDrop::SynQueueFull);
      return;
    }
    // Stateless SYN-ACK: what we must remember travels in our ISN and TSval.
    SynCookieOptions peer;
    peer.mss = th.options.mss.value_or(config_.default_peer_mss);
    peer.window_scale = config_.window_scaling && th.options.window_scale
                            ? *th.options.window_scale
                            : SynCookie::kNoWindowScale;
    peer.sack_permitted = config_.sack && th.options.sack_permitted;
    peer.timestamps = config_.timestamps && th.options.timestamps.has_value();
    const SynCookieOptions kept = SynCookie::carried(peer);
    const auto enc = cookies_.encode(seg.tuple, th.seq, peer, now, ts_clock(now));
    OutSegment s;
    s.seq = enc.isn;
    s.ack = th.seq + 1;
    s.flags = TcpFlag::Syn | TcpFlag::Ack;
    s.window = static_cast<std::uint16_t>(std::min<std::uint32_t>(config_.recv_buffer, 0xffff));
    s.options.mss = config_.mss;
    if (kept.window_scale != SynCookie::kNoWindowScale) {
      s.options.window_scale = offered_window_shift(config_);
    }
    s.options.sack_permitted = kept.sack_permitted;
    if (kept.timestamps)
      s.options.timestamps = wire::TcpTimestamps{enc.tsval, th.options.timestamps->tsval};
    if (transmit(seg.tuple, s, nullptr)) ++counters_.syn_cookies_sent;
    return;
  }
  Tcb* t = new_tcb(seg.tuple);
  if (t == nullptr) {
    counters_.drop(TcpDrop::ConnectionLimit);
    return;
  }
  auto [iss, ts_offset] = isn_.opening(seg.tuple, now);
  if (iss_floor && iss <= *iss_floor) iss = *iss_floor + 1;  // RFC 6191: above the old incarnation
  t->listener_ = &l;
  l.on_embryonic(*t);
  t->open_passive(seg, iss, ts_offset, now);
  dispatch(*t);
}

// RFC 9293 §3.10.7.4 for TIME-WAIT, on the compact record; new SYNs per RFC 6191.
void TcpStack::input_time_wait(TimeWaitRecord& tw, InSegment& seg, time::Instant now) noexcept {
  MbufGuard guard(seg.mbuf);
  const wire::TcpHeader& th = seg.th;
  const bool has_ts = th.options.timestamps.has_value();
  if (th.has(TcpFlag::Syn) && !th.has(TcpFlag::Ack) && !th.has(TcpFlag::Rst)) {
    // RFC 6191 §2: a new incarnation is acceptable when timestamps are on for both and its
    // TSval is newer, or equal with a higher sequence number; when timestamps were on and
    // will be off; when they are off for both and its ISN is above the old RCV.NXT.
    const bool new_ts = config_.timestamps && has_ts;
    bool newer;
    if (tw.ts_ok && new_ts) {
      const auto d = static_cast<std::int32_t>(th.options.timestamps->tsval - tw.ts_recent);
      newer = d > 0 || (d == 0 && tw.rcv_nxt < th.seq);
    } else {
      newer = tw.ts_ok || tw.rcv_nxt < th.seq;
    }
    Listener* l = find_listener(seg.tuple.local_ip, seg.tuple.local_port);
    if (newer && l != nullptr) {
      const Seq floor = tw.snd_nxt + 65536;
      ++counters_.time_wait_reused;
      destroy_time_wait(tw);
      input_listen(*l, seg, now, floor);
      return;
    }
  }
  if (th.has(TcpFlag::Rst)) {
    // RFC 9293: an (exact, RFC 5961) RST closes TIME-WAIT.
    if (th.seq == tw.rcv_nxt) destroy_time_wait(tw);
    return;
  }
  // Anything else — above all a retransmitted FIN, whose ACK was lost — is acknowledged,
  // and a FIN restarts the 2 MSL wait.
  if (tw.ts_ok && has_ts &&
      static_cast<std::int32_t>(th.options.timestamps->tsval - tw.ts_recent) < 0) {
    counters_.drop(TcpDrop::PawsRejected);
  }
  OutSegment s;
  s.seq = tw.snd_nxt;
  s.ack = tw.rcv_nxt;
  s.flags = TcpFlag::Ack;
  s.window = tw.window;
  if (tw.ts_ok)
    s.options.timestamps = wire::TcpTimestamps{ts_clock(now) + tw.ts_offset, tw.ts_recent};
  transmit(tw.tuple, s, nullptr);
  if (th.has(TcpFlag::Fin)) wheel_.schedule(tw.timer, now + 2 * config_.msl);
}

Listener* TcpStack::find_listener(wire::Ipv4Addr ip, std::uint16_t port) noexcept {
  Listener* wildcard = nullptr;
  for (Listener& l : listeners_) {
    if (l.port_ != port) continue;
    if (l.ip_ == ip) return &l;
    if (l.ip_.is_unspecified()) wildcard = &l;
  }
  return wildcard;
}

Tcb* TcpStack::find(const FourTuple& t) noexcept {
  auto it = tcb_table_.find(t);
  return it == tcb_table_.end() ? nullptr : &*it;
}

TcpState TcpStack::state_of(const FourTuple& t) noexcept {
  if (Tcb* c = find(t)) return c->state();
  if (tw_table_.find(t) != tw_table_.end()) return TcpState::TimeWait;
  return TcpState::Closed;
}

Tcb* TcpStack::new_tcb(const FourTuple& t) noexcept {
  if (tcbs_.live() >= config_.max_connections) return nullptr;
  Tcb* c = tcbs_.create(*this, t);
  if (c != nullptr) {
    tcb_table_.insert(*c);
    if (tcb_table_.size() > buckets_ / kMaxLoad) grow_tables();
  }
  return c;
}

// Cold, and rare: each doubling happens once, when the tables first hold more entries than
// ever. The buckets beyond the old count are unused (empty) slots of the same arrays, so
// nothing is allocated; every entry is rehashed (into its bucket or the one n above).
void TcpStack::grow_tables() noexcept {
  if (buckets_ >= max_buckets_) return;
  buckets_ *= 2;
  tcb_table_.rehash(TcbTable::bucket_traits(tcb_buckets_.get(), buckets_));
  tw_table_.rehash(TwTable::bucket_traits(tw_buckets_.get(), buckets_));
  ++counters_.table_grown;
}

// ======================================================================== timers

void TcpStack::advance(time::Instant now) noexcept {
  now_ = now;
  wheel_.advance(now);
  dispatch_listeners();
}

void TimeWaitRecord::on_expiry() noexcept {
  ++stack.counters_.time_wait_expired;
  stack.destroy_time_wait(*this);
}

// ======================================================================== application API

Result<Listener*, Errc> TcpStack::listen(wire::Ipv4Addr ip, std::uint16_t port,
                                         std::uint32_t backlog, ListenHandler* handler) noexcept {
  for (Listener& l : listeners_) {
    if (l.port_ == port && l.ip_ == ip) return Err{Errc::AddressInUse};
  }
  auto* l =
      new (std::nothrow) Listener(*this, ip, port, std::max<std::uint32_t>(backlog, 1), handler);
  if (l == nullptr) return Err{Errc::NoMemory};
  listeners_.push_back(*l);
  return l;
}

void TcpStack::close_listener(Listener* l) noexcept {
  // Embryonic connections vanish; established ones nobody accepted are reset.
  while (!l->syn_q_.empty()) {
    Tcb& t = l->syn_q_.front();
    t.terminate(CloseReason::ListenerClosed);
    dispatch(t);
  }
  while (!l->accept_q_.empty()) {
    Tcb& t = l->accept_q_.front();
    t.abort();
  }
  listeners_.erase(listeners_.iterator_to(*l));
  delete l;
}

Result<Tcb*, Errc> TcpStack::connect(const FourTuple& tuple, TcpHandler* handler,
                                     OnTimeWait on_time_wait) noexcept {
  if (find(tuple) != nullptr) return Err{Errc::AddressInUse};
  const auto it = tw_table_.find(tuple);
  if (it != tw_table_.end() && on_time_wait == OnTimeWait::Refuse) {
    return Err{Errc::AddressInUse};
  }
  auto [iss, ts_offset] = isn_.opening(tuple, now_);
  if (it != tw_table_.end()) {
    // RFC 6191 (and RFC 1122 §4.2.2.13): reusing a 4-tuple of ours in TIME-WAIT is safe
    // when the new ISN is above the old SND.NXT; the timestamps continue the old clock.
    const Seq floor = it->snd_nxt + 65536;
    if (iss <= floor) iss = floor + 1;
    ++counters_.time_wait_reused;
    destroy_time_wait(*it);
  }
  Tcb* t = new_tcb(tuple);
  if (t == nullptr) return Err{Errc::NoMemory};
  t->handler_ = handler;
  t->open_active(iss, ts_offset, now_);
  return t;
}

// ======================================================================== transmit

// Over a shared-memory link the peer's core reads every frame we send (and writes every
// frame we receive), and the pool recycles those mbufs: a header written into one waits
// for its cache lines to be taken back from the other core. Taking each packet's mbuf one
// packet ahead and fetching its lines for writing then lets that wait overlap other work.
rte_mbuf* TcpStack::header_mbuf() noexcept {
  rte_mbuf* m = next_header_;
  next_header_ = rte_pktmbuf_alloc(res_.pool);
  if (next_header_ != nullptr) {
    auto* p = rte_pktmbuf_mtod(next_header_, std::uint8_t*);
    __builtin_prefetch(p - 64, 1);  // the link header goes in front (prepended)
    __builtin_prefetch(p, 1);       // IPv4 and TCP headers
  }
  return m != nullptr ? m : rte_pktmbuf_alloc(res_.pool);
}

bool TcpStack::transmit(const FourTuple& t, const OutSegment& s, SendBuffer* data) noexcept {
  rte_mbuf* m = header_mbuf();
  if (m == nullptr) {
    counters_.drop(TcpDrop::NoMbuf);
    return false;
  }
  const std::uint32_t tcp_len =
      static_cast<std::uint32_t>(wire::TcpHeader::kMinSize + s.options.emit_len());
  // Bytes a SendBuffer holds in place cannot be sliced: they always fit here.
  static_assert(SendBuffer::kInPlaceBytes <= kInlinePayloadMax);
  const bool inline_payload = data != nullptr && s.data_len > 0 && s.data_len <= kInlinePayloadMax;
  const std::uint32_t head_len = 20 + tcp_len + (inline_payload ? s.data_len : 0u);
  auto* p =
      reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, static_cast<std::uint16_t>(head_len)));
  if (p == nullptr || rte_pktmbuf_headroom(m) < res_.link_headroom) {
    rte_pktmbuf_free(m);
    counters_.drop(TcpDrop::NoMbuf);
    return false;
  }
  if (inline_payload) {
    data->copy_out(s.data_offset, std::span<std::uint8_t>(p + 20 + tcp_len, s.data_len));
  } else if (data != nullptr && s.data_len > 0) {
    rte_mbuf* chain = data->slice(s.data_offset, s.data_len, res_.clone_pool);
    if (chain == nullptr || rte_pktmbuf_chain(m, chain) != 0) {
      if (chain != nullptr) rte_pktmbuf_free(chain);
      rte_pktmbuf_free(m);
      counters_.drop(TcpDrop::NoMbuf);
      return false;
    }
  }

  wire::Ipv4Header ip{};
  ip.total_len = static_cast<std::uint16_t>(20 + tcp_len + s.data_len);
  ip.id = ip_id_++;
  ip.df = true;
  ip.ttl = 64;
  ip.protocol = 6;
  ip.src = t.local_ip;
  ip.dst = t.remote_ip;
  ip.emit(std::span<std::uint8_t>(p, 20));

  wire::TcpHeader th{};
  th.src_port = t.local_port;
  th.dst_port = t.remote_port;
  th.seq = s.seq;
  th.ack = (s.flags & TcpFlag::Ack) != 0 ? s.ack : Seq{};
  th.flags = s.flags;
  th.window = s.window;
  th.options = s.options;
  th.emit(std::span<std::uint8_t>(p + 20, tcp_len));

  const std::uint32_t l4_len = tcp_len + s.data_len;
  const bool tso = s.tso_segsz != 0 && s.data_len > s.tso_segsz;
  const bool offload = tso || s.data_len >= res_.tx_offload_min_payload;
  std::uint16_t csum;
  if (tso) {
    // DPDK's TSO contract: the pseudo-header sum without the length (each segment has
    // its own), folded, not inverted; the port finishes every segment's checksums.
    csum = static_cast<std::uint16_t>(~wire::checksum_fold(
        wire::pseudo_header_sum(t.local_ip, t.remote_ip, wire::IpProto::Tcp, 0)));
    m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_TCP_CKSUM;
    m->tso_segsz = s.tso_segsz;
    counters_.segs_out += (s.data_len + s.tso_segsz - 1) / s.tso_segsz;
    ++counters_.tso_sends;
  } else if (res_.tx_tcp_checksum_offload && offload) {
    // The port finishes the sum; it expects the pseudo-header sum, folded, not inverted.
    csum = static_cast<std::uint16_t>(~wire::checksum_fold(wire::pseudo_header_sum(
        t.local_ip, t.remote_ip, wire::IpProto::Tcp, static_cast<std::uint16_t>(l4_len))));
    m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
    ++counters_.segs_out;
  } else {
    std::uint32_t sum = wire::pseudo_header_sum(t.local_ip, t.remote_ip, wire::IpProto::Tcp,
                                                static_cast<std::uint16_t>(l4_len));
    mbuf_checksum_partial(m, 20, l4_len, sum);  // the header mbuf, then the payload slices
    csum = wire::checksum_fold(sum);
    ++counters_.segs_out;
  }
  p[20 + 16] = static_cast<std::uint8_t>(csum >> 8);
  p[20 + 17] = static_cast<std::uint8_t>(csum);
  if (res_.tx_ip_checksum_offload && offload) {
    m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;  // the port writes it
    p[10] = p[11] = 0;
  }
  m->l2_len = static_cast<std::uint8_t>(res_.link_headroom & 0x7f);
  m->l3_len = 20;
  m->l4_len = static_cast<std::uint8_t>(tcp_len);
  m->packet_type = RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_TCP;

  tx_[tx_count_++] = m;
  if (tx_count_ == kTxBatch) flush();
  return true;
}

void TcpStack::flush() noexcept {
  if (tx_count_ == 0) return;
  if (sink_.fn != nullptr) {
    sink_.fn(sink_.ctx, tx_.data(), tx_count_);
  } else {
    for (std::uint16_t i = 0; i < tx_count_; ++i) rte_pktmbuf_free(tx_[i]);
  }
  tx_count_ = 0;
}

void TcpStack::send_reset_for(const InSegment& seg) noexcept {
  const wire::TcpHeader& th = seg.th;
  if (th.has(TcpFlag::Rst)) return;  // never answer a RST
  OutSegment s;
  if (th.has(TcpFlag::Ack)) {
    s.seq = th.ack;  // <SEQ=SEG.ACK><CTL=RST>
    s.flags = TcpFlag::Rst;
  } else {
    s.ack = th.seq + seg.seg_len();  // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
    s.flags = TcpFlag::Rst | TcpFlag::Ack;
  }
  if (transmit(seg.tuple, s, nullptr)) ++counters_.rsts_out;
}

bool TcpStack::challenge_ack_allowed(time::Instant now) noexcept {
  const auto second = std::chrono::duration_cast<std::chrono::seconds>(now - epoch_).count();
  if (second != challenge_second_) {
    challenge_second_ = second;
    challenge_count_ = 0;
  }
  if (challenge_count_ >= config_.challenge_ack_limit) return false;
  ++challenge_count_;
  return true;
}

std::uint32_t TcpStack::ts_clock(time::Instant now) const noexcept {
  // RFC 7323 §5.4: a 1 ms clock; each connection adds its own offset.
  return static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now - epoch_).count() + 1);
}

// ======================================================================== lifecycle

void TcpStack::release(Tcb& t) noexcept {
  if (t.released_) return;
  t.released_ = true;
  if (t.table_hook_.is_linked()) tcb_table_.erase(tcb_table_.iterator_to(t));
  if (t.listener_ != nullptr) {
    t.listener_->forget(t);
    t.listener_ = nullptr;
  }
}

void TcpStack::dispatch(Tcb& t) noexcept {
  if (t.in_dispatch_) return;
  t.in_dispatch_ = true;
  for (;;) {
    const std::uint8_t ev = t.events_;
    TcpHandler* h = t.handler_;
    // Without a handler, events wait for one (all but closed).
    if (ev == 0 || (h == nullptr && (ev & Tcb::kEvClosed) == 0)) {
      if (!t.output_pending_) break;
      // What the segment and the application's answer asked for, together.
      t.output_pending_ = false;
      t.output(now_);
      continue;  // sending may post events (writable)
    }
    t.events_ = 0;
    if (h != nullptr) {
      if ((ev & Tcb::kEvConnected) != 0) h->on_connected(t);
      if ((ev & Tcb::kEvData) != 0 && t.readable() > 0) h->on_data(t);
      if ((ev & Tcb::kEvPeerClosed) != 0) h->on_peer_closed(t);
      if ((ev & Tcb::kEvWritable) != 0) h->on_writable(t);
      if ((ev & Tcb::kEvClosed) != 0) h->on_closed(t, t.close_reason_);
    }
    if ((ev & Tcb::kEvClosed) != 0) {
      ++counters_.closed;
      tcbs_.destroy(&t);
      return;
    }
  }
  t.in_dispatch_ = false;
}

void TcpStack::dispatch_listeners() noexcept {
  if (!listeners_notify_) return;
  listeners_notify_ = false;
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    Listener& l = *it++;  // the handler may close this listener
    if (l.notify_ && l.handler_ != nullptr && !l.accept_q_.empty()) {
      l.notify_ = false;
      l.handler_->on_acceptable(l);
    }
  }
}

void TcpStack::to_time_wait(Tcb& t, time::Instant now) noexcept {
  TimeWaitRecord* r = tws_.create(*this);
  if (r == nullptr) return;  // out of records: the connection simply closes
  r->tuple = t.tuple_;
  r->snd_nxt = t.snd_.nxt;
  r->rcv_nxt = t.rcv_.nxt;
  r->ts_ok = t.ts_ok_;
  r->ts_recent = t.ts_recent_;
  r->ts_offset = t.ts_offset_;
  r->window = t.window_field();
  r->timer.bind<&TimeWaitRecord::on_expiry>(*r);
  wheel_.schedule(r->timer, now + 2 * config_.msl);  // 2 MSL (RFC 9293 §3.4.2)
  // The connection object leaves the connection table before the record enters its own.
  release(t);
  tw_table_.insert(*r);
  if (tw_table_.size() > buckets_ / kMaxLoad) grow_tables();
  ++counters_.time_wait_entered;
}

void TcpStack::destroy_time_wait(TimeWaitRecord& tw) noexcept {
  tw_table_.erase(tw_table_.iterator_to(tw));
  tws_.destroy(&tw);
}

}  // namespace sluice::tcp
