// TcpStack: all of TCP for one engine (one core): the connection table, TIME-WAIT records,
// listeners, the timer wheel, ISNs and SYN cookies, counters, and the transmit path that
// turns a connection's decisions into IPv4 datagrams in mbufs.
//
// Sans-I/O: the engine hands in parsed segments (input) and the time (advance); datagrams
// come out through a TxSink the engine drains into rte_eth_tx_burst (or a simulated link).
// Demultiplexing order (DESIGN.md): connections → TIME-WAIT → listeners → RST
// (RFC 9293 §3.10.7.1). Nothing here locks: one TcpStack per core, never shared.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

#include <boost/intrusive/list.hpp>
#include <boost/intrusive/unordered_set.hpp>

#include "tcp/isn_generator.hpp"
#include "tcp/listener.hpp"
#include "tcp/object_pool.hpp"
#include "tcp/syn_cookie.hpp"
#include "tcp/tcb.hpp"
#include "tcp/tcp_config.hpp"
#include "tcp/tcp_counters.hpp"
#include "tcp/time_wait.hpp"
#include "time/timer_wheel.hpp"
#include "wire/errc.hpp"
#include "wire/ipv4.hpp"
#include "wire/result.hpp"

struct rte_mbuf;
struct rte_mempool;

namespace sluice::tcp {

/// Where finished datagrams go. fn takes ownership of the n mbufs (frees what it cannot
/// send). Called when the stack's batch is full and on flush().
struct TxSink {
  using Fn = void (*)(void* ctx, rte_mbuf** pkts, std::uint16_t n) noexcept;
  Fn fn = nullptr;
  void* ctx = nullptr;
};

struct StackResources {
  rte_mempool* pool = nullptr;        ///< header mbufs and copied payload (data room ≥ 2 KB)
  rte_mempool* clone_pool = nullptr;  ///< indirect mbufs referencing send buffers
  /// The port computes the TCP / IPv4 header checksum (RTE_MBUF_F_TX_*_CKSUM); else software.
  bool tx_tcp_checksum_offload = false;
  bool tx_ip_checksum_offload = false;
  /// With the offloads on, a packet with less payload than this (and no TSO) is still
  /// checksummed here and handed over without offload flags. 0: every packet offloaded.
  /// For ports whose "offload" is software on this same core and dearer than ours
  /// (net_vhost: see glue::PortInfo::tx_offload_min_payload).
  std::uint32_t tx_offload_min_payload = 0;
  /// TCP segmentation offload: the most payload one packet may carry, which the port cuts
  /// into segments of the connection's MSS (RTE_MBUF_F_TX_TCP_SEG); 0: off, no packet
  /// carries more than the MSS.
  std::uint32_t tso_max = 0;
  /// The most mbufs one packet may be made of (the port's limit); 0: no limit.
  std::uint16_t tx_seg_max = 0;
  /// Bytes left free before the IPv4 header for the engine's link header.
  std::uint16_t link_headroom = 14;
  SipHash::Key secret{};  ///< ISN and cookie key (RFC 6528 §3): IsnGenerator::random_secret()
};

/// What a connection wants sent: TcpStack::transmit builds it.
struct OutSegment {
  wire::Seq seq;
  wire::Seq ack;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;  ///< the field, already scaled
  wire::TcpOptions options{};
  std::uint32_t data_offset = 0;  ///< into the send buffer
  std::uint32_t data_len = 0;
  /// data_len > tso_segsz (> 0): one TSO packet, cut by the port into tso_segsz pieces.
  std::uint16_t tso_segsz = 0;
};

class TcpStack {
 public:
  static constexpr std::uint16_t kTxBatch = 64;
  /// Payloads up to this many bytes are copied into the header mbuf instead of being
  /// referenced by an indirect mbuf: cheaper for small segments (request/response).
  static constexpr std::uint32_t kInlinePayloadMax = 256;

  TcpStack(const TcpConfig& config, const StackResources& res, TxSink sink, time::Instant now);
  ~TcpStack();
  TcpStack(const TcpStack&) = delete;
  TcpStack& operator=(const TcpStack&) = delete;

  // ---------------------------------------------------------------- I/O
  /// A segment for this engine. m is the whole frame; ip and th were parsed from it by
  /// lib/wire (checksums already verified by the NIC or by lib/wire); the TCP payload
  /// starts at payload_offset from m's data. Ownership of m passes to the stack.
  void input(rte_mbuf* m, const wire::Ipv4Header& ip, const wire::TcpHeader& th,
             std::uint32_t payload_offset, time::Instant now) noexcept;
  /// Runs the timers due by `now`.
  void advance(time::Instant now) noexcept;
  /// When advance() next has work (time::Instant::max() if no timer is pending).
  [[nodiscard]] time::Instant next_deadline() const noexcept { return wheel_.next_deadline(); }
  /// Hands the datagrams built so far to the sink.
  void flush() noexcept;

  // ---------------------------------------------------------------- application API
  /// Passive open on ip:port (ip 0.0.0.0 = every local address). Errors: AddressInUse.
  Result<Listener*, Errc> listen(wire::Ipv4Addr ip, std::uint16_t port, std::uint32_t backlog,
                                 ListenHandler* handler) noexcept;
  /// Stops listening: embryonic connections are dropped, queued ones reset.
  void close_listener(Listener* l) noexcept;
  /// What connect() does with a 4-tuple held by a TIME-WAIT record.
  enum class OnTimeWait : std::uint8_t {
    Reuse,   ///< take it over (RFC 6191): an application that names its own tuple
    Refuse,  ///< AddressInUse, so that an ephemeral-port search tries the next port
  };
  /// Active open (SYN-SENT). Errors: AddressInUse (the 4-tuple is open, or in TIME-WAIT
  /// with OnTimeWait::Refuse), NoMemory (connection limit). One lookup in each table.
  Result<Tcb*, Errc> connect(const FourTuple& tuple, TcpHandler* handler,
                             OnTimeWait on_time_wait = OnTimeWait::Reuse) noexcept;

  // ---------------------------------------------------------------- observation
  [[nodiscard]] const TcpConfig& config() const noexcept { return config_; }
  [[nodiscard]] const StackResources& resources() const noexcept { return res_; }
  [[nodiscard]] const TcpCounters& counters() const noexcept { return counters_; }
  [[nodiscard]] TcpCounters& counters() noexcept { return counters_; }
  [[nodiscard]] time::Instant now() const noexcept { return now_; }
  [[nodiscard]] Tcb* find(const FourTuple& t) noexcept;

  /// Whether prefetching is worth its cost: with a few thousand entries in all, the
  /// buckets and entries a burst touches stay in the caches anyway.
  [[nodiscard]] bool lookups_leave_cache() const noexcept {
    return tcbs_.live() + tw_table_.size() > kPrefetchFrom;
  }
  /// Cache warming for a receive burst, before input(): step 1 fetches the bucket of the
  /// connection and TIME-WAIT tables that a segment of `t` will read and returns its
  /// index; step 2, run once step 1 has been issued for the whole burst, fetches the
  /// first entry of each. With 100,000 entries and more the buckets take megabytes, so
  /// without it each lookup waits for memory. No effect but on the caches. Both tables
  /// have the same hash and bucket count: one index.
  [[nodiscard]] std::size_t prefetch_lookup(const FourTuple& t) const noexcept {
    const std::size_t b = tcb_table_.bucket(t);
    __builtin_prefetch(&tcb_buckets_[b]);
    __builtin_prefetch(&tw_buckets_[b]);
    return b;
  }
  void prefetch_entry(std::size_t bucket) const noexcept {
    if (auto it = tcb_table_.begin(bucket); it != tcb_table_.end(bucket)) __builtin_prefetch(&*it);
    if (auto it = tw_table_.begin(bucket); it != tw_table_.end(bucket)) __builtin_prefetch(&*it);
  }
  /// State of a 4-tuple: a connection's, TimeWait for a TIME-WAIT record, else Closed.
  [[nodiscard]] TcpState state_of(const FourTuple& t) noexcept;
  [[nodiscard]] std::size_t connection_count() const noexcept { return tcbs_.live(); }
  /// Calls f(Tcb&) for every connection in the table (f may close or abort it). Cold path.
  template <class F>
  void for_each_connection(F&& f) {
    std::vector<Tcb*> all;
    all.reserve(tcb_table_.size());
    for (Tcb& t : tcb_table_) all.push_back(&t);
    for (Tcb* t : all) {
      if (find(t->tuple()) == t) f(*t);  // skip any that an earlier call ended
    }
  }
  [[nodiscard]] std::size_t time_wait_count() const noexcept { return tw_table_.size(); }
  /// Mbufs the stack keeps from its pool between packets: the next packet's header mbuf,
  /// taken one packet ahead (0 or 1; freed with the stack). Leak checks subtract it.
  [[nodiscard]] std::size_t mbufs_in_reserve() const noexcept { return next_header_ != nullptr; }
  [[nodiscard]] std::size_t tcb_size() const noexcept { return sizeof(Tcb); }
  [[nodiscard]] time::TimerWheel& timers() noexcept { return wheel_; }

 private:
  friend class Tcb;
  friend class Listener;
  friend struct TimeWaitRecord;

  struct TcbKey {
    using type = FourTuple;
    const FourTuple& operator()(const Tcb& t) const noexcept { return t.tuple_; }
  };
  struct TwKey {
    using type = FourTuple;
    const FourTuple& operator()(const TimeWaitRecord& r) const noexcept { return r.tuple; }
  };
  using TcbTable = boost::intrusive::unordered_set<
      Tcb,
      boost::intrusive::member_hook<Tcb, boost::intrusive::unordered_set_member_hook<>,
                                    &Tcb::table_hook_>,
      boost::intrusive::key_of_value<TcbKey>, boost::intrusive::hash<FourTupleHash>,
      boost::intrusive::power_2_buckets<true>>;
  using TwTable = boost::intrusive::unordered_set<
      TimeWaitRecord,
      boost::intrusive::member_hook<TimeWaitRecord, boost::intrusive::unordered_set_member_hook<>,
                                    &TimeWaitRecord::table_hook_>,
      boost::intrusive::key_of_value<TwKey>, boost::intrusive::hash<FourTupleHash>,
      boost::intrusive::power_2_buckets<true>>;
  // prefetch_lookup() uses one bucket index for both tables: same hash, and both always
  // have buckets_ buckets.
  static_assert(std::is_same_v<TcbTable::hasher, TwTable::hasher>);
  using ListenerList = boost::intrusive::list<
      Listener, boost::intrusive::member_hook<Listener, boost::intrusive::list_member_hook<>,
                                              &Listener::stack_hook_>>;

  // --- demultiplexing ---
  /// iss_floor: a TIME-WAIT record gave way to this SYN; the new ISS must be above it.
  void input_listen(Listener& l, InSegment& seg, time::Instant now,
                    std::optional<wire::Seq> iss_floor) noexcept;
  void input_time_wait(TimeWaitRecord& tw, InSegment& seg, time::Instant now) noexcept;
  Listener* find_listener(wire::Ipv4Addr ip, std::uint16_t port) noexcept;
  Tcb* new_tcb(const FourTuple& t) noexcept;

  // --- transmit path (used by Tcb, Listener, TIME-WAIT) ---
  /// Builds and queues one datagram. Payload, if any, comes from `data`.
  bool transmit(const FourTuple& t, const OutSegment& s, SendBuffer* data) noexcept;
  /// RFC 9293 §3.10.7.1: the reset for a segment that has no connection.
  void send_reset_for(const InSegment& seg) noexcept;
  /// RFC 5961 §7: may another challenge ACK go out this second?
  bool challenge_ack_allowed(time::Instant now) noexcept;

  // --- connection lifecycle ---
  /// Delivers t's pending events to its handler, then destroys t if it has closed.
  void dispatch(Tcb& t) noexcept;
  void release(Tcb& t) noexcept;  ///< out of every table and queue (not yet destroyed)
  void to_time_wait(Tcb& t, time::Instant now) noexcept;
  void destroy_time_wait(TimeWaitRecord& tw) noexcept;
  void dispatch_listeners() noexcept;

  [[nodiscard]] std::uint32_t ts_clock(time::Instant now) const noexcept;
  /// Buffer auto-tuning's shared budget (TcpConfig::autotune_budget): takes up to `want`
  /// bytes of it and returns how many; autotune_give returns them.
  std::uint32_t autotune_take(std::uint32_t want) noexcept {
    const std::uint64_t left =
        config_.autotune_budget > autotuned_ ? config_.autotune_budget - autotuned_ : 0;
    const auto n = static_cast<std::uint32_t>(std::min<std::uint64_t>(want, left));
    autotuned_ += n;
    return n;
  }
  void autotune_give(std::uint64_t n) noexcept { autotuned_ -= std::min(n, autotuned_); }

  TcpConfig config_;
  StackResources res_;
  TxSink sink_;
  time::Instant now_;
  time::Instant epoch_;
  time::TimerWheel wheel_;
  TcpCounters counters_;
  std::uint64_t autotuned_ = 0;  ///< bytes buffers have grown by, all connections together
  IsnGenerator isn_;
  SynCookie cookies_;

  ObjectPool<Tcb> tcbs_;
  ObjectPool<TimeWaitRecord> tws_;
  /// The tables' buckets: arrays for the connection limit (max_buckets_), of which the
  /// first buckets_ are in use, from kMinBuckets up, doubled whenever either table holds
  /// more than a kMaxLoad-th as many entries (grow_tables). A table sized for the limit
  /// from the start spread a few connections over megabytes: every lookup missed the
  /// caches (40 % of the rr64 server's lookup time, 17 % of the crr client's time on two
  /// bucket loads). Mostly empty buckets matter as much: a lookup that finds nothing
  /// (every SYN, every port connect() tries) then stops at the bucket instead of walking
  /// entries that are as cold (crr against the table sized for the limit: a load of 1
  /// was 15 % slower, 1/4 4 % slower, 1/16 4-15 % faster).
  std::size_t max_buckets_;
  std::size_t buckets_;
  static constexpr std::size_t kMinBuckets = 256;
  static constexpr std::size_t kMaxLoad = 16;
  void grow_tables() noexcept;
  std::unique_ptr<TcbTable::bucket_type[]> tcb_buckets_;
  std::unique_ptr<TwTable::bucket_type[]> tw_buckets_;
  TcbTable tcb_table_;
  TwTable tw_table_;
  ListenerList listeners_;

  std::uint16_t ip_id_ = 0;
  std::int64_t challenge_second_ = -1;
  std::uint32_t challenge_count_ = 0;
  bool listeners_notify_ = false;

  static constexpr std::size_t kPrefetchFrom = 4096;

  std::array<rte_mbuf*, kTxBatch> tx_{};
  std::uint16_t tx_count_ = 0;
  /// The header mbuf of the next packet, taken from the pool one packet ahead and its
  /// header lines fetched for writing meanwhile (see header_mbuf()).
  rte_mbuf* next_header_ = nullptr;
  rte_mbuf* header_mbuf() noexcept;
};

}  // namespace sluice::tcp
