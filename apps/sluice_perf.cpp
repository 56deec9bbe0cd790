// sluice-perf: the testpmd-style performance tool, driving the real stack (issue 5).
//
// Modes (the client picks; the server answers every mode on one port):
//   bulk  the client streams to the server over N connections (--both: the server
//         streams back as well); Gbit/s of TCP payload.
//   rr    request/response of --size bytes over N persistent connections, --pipeline D
//         requests in flight on each; transactions/s and latency.
//   crr   connect, request, response, close, N connections in parallel; connections/s.
//   hold  open N connections and keep them idle; memory per connection (the stack's
//         connection objects plus mbufs in use above the idle baseline).
//
// Wire protocol (what a peer written in another language must speak, see
// tests/interop/perf_peer.py): every connection begins with a 16-byte header from the
// client:
//   bytes 0-3 "SLPF", 4 version (1), 5 mode (1 bulk, 2 rr, 3 crr, 4 hold),
//   6 flags (bit 0: bulk both ways), 7 zero, 8-11 request size (big-endian), 12-15 zero.
// Then, by mode: bulk — the client's bytes are discarded (and with bit 0 the server
// sends an endless stream); rr — each request of `size` bytes is echoed back whole, in
// order; crr — one request echoed, then the server closes (so TIME-WAIT stays on the
// server, where RFC 6191 lets the next SYN reuse it, and the client's ports free at
// once); hold — nothing. A client ends a connection by shutting its side down; the
// server closes when it sees that FIN. A request's first 8 bytes are its transaction
// number (little-endian), the rest a fixed pattern; the client checks every response.
//
// One engine per lcore (EAL -l), shared-nothing: each engine has its own Worker (its
// connections, its histogram, its counters); the client spreads --connections over the
// engines, each opening from source ports that hash back to itself, and, with
// --src-count/--src-range, from several source addresses in turn (one address has 28,232
// ephemeral ports to one server port: 100,000 connections need four). Once every 10 ms
// each engine publishes its cumulative counters (relaxed atomics, one writer); engine 0
// prints the per-second lines from them. The hot path takes no lock and allocates
// nothing: connection state comes from a per-engine array sized at start, latency goes
// into a log-linear histogram of fixed buckets, merged across engines at the end.
//
// Usage: sluice-perf [EAL] -- --addr A.B.C.D/LEN --role server|client [--peer IP]
//          [--port P] [--mode bulk|rr|crr|hold] [--connections N] [--size BYTES]
//          [--duration S] [--pipeline D] [--rate R] [--ramp S] [--both] [--json] [--stats]
//          [--src-count N | --src-range A.B.C.D-A.B.C.E]
#include <getopt.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "api/runtime.hpp"

namespace {

using namespace sluice;
using tcp::CloseReason;
using tcp::Tcb;

enum class Mode : std::uint8_t { Bulk = 1, Rr = 2, Crr = 3, Hold = 4 };
constexpr const char* to_string(Mode m) noexcept {
  switch (m) {
    case Mode::Bulk: return "bulk";
    case Mode::Rr: return "rr";
    case Mode::Crr: return "crr";
    case Mode::Hold: return "hold";
  }
  return "?";
}

constexpr std::uint32_t kHeaderLen = 16;
constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kFlagBoth = 1;
constexpr std::uint32_t kMaxSize = 65536;
constexpr std::uint32_t kMaxPipeline = 1024;
constexpr std::uint32_t kStreamChunk = 65536;
constexpr std::size_t kCloseReasons = 6;

struct Options {
  bool server = false;
  wire::Ipv4Addr peer{};
  std::uint16_t port = 5201;
  Mode mode = Mode::Rr;
  std::uint32_t connections = 1;
  bool connections_given = false;
  std::uint32_t size = 1;
  double duration_s = 10;  // client default; a server runs until SIGINT unless given
  bool duration_given = false;
  std::uint32_t pipeline = 1;
  double rate = 0;  // transactions/s (rr) or connections/s (crr) in total; 0: as fast as possible
  double ramp_s = 0;
  bool both = false;
  bool json = false;
  bool stats = false;
  bool keep_port = false;  // after the summary, keep the port open until SIGINT/SIGTERM
};

/// Log-linear histogram: values below 2^kSub exactly, above that 2^kSub buckets per power
/// of two (relative error below 1/2^kSub). Fixed storage, add() is a few instructions.
class Histogram {
 public:
  static constexpr unsigned kSub = 5;
  static constexpr std::size_t kBuckets = (64 - kSub + 1) << kSub;

  void add(std::uint64_t v) noexcept {
    ++buckets_[index(v)];
    ++count_;
    sum_ += v;
    max_ = std::max(max_, v);
  }
  void merge(const Histogram& o) noexcept {
    for (std::size_t i = 0; i < kBuckets; ++i) buckets_[i] += o.buckets_[i];
    count_ += o.count_;
    sum_ += o.sum_;
    max_ = std::max(max_, o.max_);
  }
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }
  [[nodiscard]] std::uint64_t max() const noexcept { return max_; }
  [[nodiscard]] double mean() const noexcept {
    return count_ == 0 ? 0 : static_cast<double>(sum_) / static_cast<double>(count_);
  }
  /// The smallest bucket upper bound with at least q of the samples at or below it.
  [[nodiscard]] std::uint64_t quantile(double q) const noexcept {
    if (count_ == 0) return 0;
    auto target = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
    target = std::max<std::uint64_t>(target, 1);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += buckets_[i];
      if (seen >= target) return std::min(upper(i), max_);
    }
    return max_;
  }

 private:
  static std::size_t index(std::uint64_t v) noexcept {
    if (v < (1u << kSub)) return static_cast<std::size_t>(v);
    const unsigned msb = 63u - static_cast<unsigned>(std::countl_zero(v));
    const unsigned shift = msb - kSub;
    const auto sub = static_cast<std::size_t>((v >> shift) & ((1u << kSub) - 1));
    return (static_cast<std::size_t>(shift + 1) << kSub) + sub;
  }
  static std::uint64_t upper(std::size_t i) noexcept {
    if (i < (1u << kSub)) return i;
    const auto shift = static_cast<unsigned>((i >> kSub) - 1);
    const std::uint64_t sub = i & ((1u << kSub) - 1);
    const std::uint64_t lower = ((std::uint64_t{1} << kSub) + sub) << shift;
    return lower + ((std::uint64_t{1} << shift) - 1);
  }
  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t max_ = 0;
};

/// What an engine publishes for the per-second lines (cumulative; gauges as they are).
enum Field : std::size_t {
  kTrans,
  kEstablished,
  kBytesIn,
  kBytesOut,
  kPktsRx,
  kPktsTx,
  kRetrans,
  kDrops,
  kOpen,
  kErrors,
  kLoopNs,  ///< time in the poll loop (EngineCounters::loop_ns)
  kBusyNs,  ///< ... in iterations that received or sent frames
  kFields
};

/// The application's own counters, per engine.
struct AppCounters {
  std::uint64_t transactions = 0;
  std::uint64_t conns_done = 0;  ///< connections that ended normally
  std::uint64_t bytes_sent = 0;  ///< taken by send()
  std::uint64_t bytes_received = 0;
  std::uint64_t mismatches = 0;     ///< responses that differ from the request
  std::uint64_t bad_headers = 0;    ///< connections whose first 16 bytes were not ours
  std::uint64_t no_slot = 0;        ///< accepted connections refused: no state left
  std::uint64_t connect_fails = 0;  ///< connect() refused for now (no free port, limit): retried
  std::array<std::uint64_t, kCloseReasons> closed_by{};  ///< by CloseReason
  [[nodiscard]] std::uint64_t errors() const noexcept {
    std::uint64_t e = mismatches + bad_headers + no_slot;
    for (std::size_t i = 1; i < kCloseReasons; ++i) e += closed_by[i];
    return e;
  }
};

/// Everything an engine drops, whatever the layer (STYLE.md: every drop counted).
std::uint64_t engine_drops(const engine::Engine& e) noexcept {
  const auto& c = e.counters();
  std::uint64_t d = c.tx_dropped + c.arp_held_dropped + c.no_mbuf + c.multi_segment +
                    c.steer_ring_full + c.arp_share_ring_full + c.ip_fragments + e.impaired_drops();
  for (auto v : c.parse_errors) d += v;
  return d;
}
std::uint64_t tcp_drops(engine::Engine& e) noexcept {
  std::uint64_t d = 0;
  for (auto v : e.tcp().counters().drops) d += v;
  return d;
}

/// A connection's state, from the engine's array; Tcb::user_data points at it.
struct Conn {
  Tcb* tcb = nullptr;
  std::uint64_t tx_id = 0;  ///< next request number
  std::uint64_t rx_id = 0;  ///< next response number
  std::uint64_t opened_tsc = 0;
  std::uint32_t slot = 0;
  std::uint32_t in_flight = 0;
  std::uint32_t size = 0;
  Mode mode = Mode::Rr;
  std::uint8_t flags = 0;
  std::uint8_t hdr_got = 0;
  bool shut = false;     ///< shutdown() or close() called
  bool waiting = false;  ///< in the rate limiter's queue
  bool connecting = false;  ///< client: SYN sent, not yet established
  bool ending = false;      ///< ended by close_some(), not yet closed
  std::array<std::uint8_t, kHeaderLen> hdr{};
};

// One per engine: its connections, counters and histogram. Runs only on its engine's lcore
// (and in main before and after the loops).
class Worker final : public tcp::TcpHandler, public tcp::ListenHandler {
 public:
  Worker(engine::Engine& e, const Options& o, std::uint32_t slots, std::uint32_t engines)
      : e_(e), o_(o), conns_(slots), hz_(rte_get_tsc_hz()) {
    for (std::uint32_t i = 0; i < slots; ++i) conns_[i].slot = i;
    free_.reserve(slots);
    for (std::uint32_t i = slots; i-- > 0;) free_.push_back(i);
    if (!o.server && (o.mode == Mode::Rr || o.mode == Mode::Crr)) {
      sent_tsc_.assign(static_cast<std::size_t>(slots) * ts_slots_, 0);
    }
    pending_.reserve(slots);
    wait_.assign(slots + 1, 0);
    for (std::uint32_t i = 0; i < kMaxSize + kHeaderLen; ++i) {
      pattern_[i] = static_cast<std::uint8_t>(i * 131u + 7u);
    }
    rate_ = o.rate / engines;
  }

  // ------------------------------------------------------------------- server side
  void on_acceptable(tcp::Listener& l) noexcept override {
    while (Tcb* t = l.accept()) {
      if (free_.empty()) {
        ++c_.no_slot;
        t->abort();
        continue;
      }
      Conn& c = conns_[free_.back()];
      free_.pop_back();
      c.tcb = t;
      c.hdr_got = 0;
      c.shut = false;
      t->set_no_delay(true);
      t->set_user_data(&c);
      t->set_handler(this);  // delivers what already arrived
    }
  }

  // ------------------------------------------------------------------- events
  void on_connected(Tcb& t) noexcept override {
    Conn& c = conn(t);
    ++warm_connected_;
    c.connecting = false;
    --connecting_;
    peak_established_ = std::max(peak_established_, ++established_);
    // The header, and for crr the request, in one segment.
    std::uint8_t* b = scratch_.data();
    write_header(b);
    std::uint32_t len = kHeaderLen;
    if (o_.mode == Mode::Crr) {
      build_request(b + kHeaderLen, c.tx_id);
      sent_tsc_[ts_index(c, c.tx_id)] = c.opened_tsc;
      ++c.tx_id;
      ++c.in_flight;
      len += o_.size;
    }
    c_.bytes_sent += t.send(std::span<const std::uint8_t>(b, len));
    if (o_.mode == Mode::Bulk) stream(t);
    if (o_.mode == Mode::Rr) issue(c, t);
    if (stopping_ && o_.mode != Mode::Crr) shut(c, t);
  }

  void on_data(Tcb& t) noexcept override {
    Conn& c = conn(t);
    if (o_.server) {
      serve(c, t);
    } else {
      receive(c, t);
    }
  }

  void on_writable(Tcb& t) noexcept override {
    Conn& c = conn(t);
    if (o_.server) {
      serve(c, t);
    } else if (o_.mode == Mode::Bulk) {
      if (!stopping_) stream(t);
    } else if (o_.mode == Mode::Rr) {
      issue(c, t);
    }
  }

  void on_peer_closed(Tcb& t) noexcept override {
    Conn& c = conn(t);
    if (!o_.server) {
      receive(c, t);  // whatever completes a response first
      if (o_.mode == Mode::Crr && c.in_flight > 0) ++c_.mismatches;  // closed before answering
    }
    drain_input(t);
    c.shut = true;
    t.close();
  }

  void on_closed(Tcb& t, CloseReason r) noexcept override {
    Conn& c = conn(t);
    ++c_.closed_by[static_cast<std::size_t>(r)];
    if (c.connecting) {
      c.connecting = false;
      --connecting_;
    } else if (!o_.server) {
      --established_;
    }
    if (c.ending) {
      c.ending = false;
      --ending_;
    }
    if (r == CloseReason::Normal) ++c_.conns_done;
    c.tcb = nullptr;
    if (o_.server) {
      free_.push_back(c.slot);
      return;
    }
    if (o_.mode == Mode::Crr && !stopping_) pending_.push_back(c.slot);  // opened again by tick()
  }

  // ------------------------------------------------------------------- the loop's hook
  /// Called by the engine's loop every iteration. Returns true when this engine is done.
  bool tick() noexcept {
    const time::Instant now = e_.now();
    // Most iterations: running, no connection to (re)open, none waiting for the rate, no
    // deadline or publication due. Nothing else below has work then.
    if (started_ && !stopping_ && pending_.empty() && wait_head_ == wait_tail_ && now < next_due_)
        [[likely]] {
      return false;
    }
    if (!started_) {
      started_ = true;
      start_ = now;
      start_tsc_ = rte_rdtsc();
      loop_start_ = e_.counters().loop_ns;
      busy_start_ = e_.counters().busy_ns;
      next_publish_ = now;
      if (o_.duration_s > 0) {
        deadline_ = now + std::chrono::nanoseconds(static_cast<std::int64_t>(o_.duration_s * 1e9));
      } else {
        deadline_ = time::Instant::max();
      }
      if (!o_.server) {
        for (std::uint32_t i = static_cast<std::uint32_t>(conns_.size()); i-- > 0;) {
          pending_.push_back(i);
        }
        free_.clear();
      }
    }
    if (!o_.server && !stopping_) {
      open_pending(now);
      if (rate_ > 0 && o_.mode == Mode::Rr) release_waiting(now);
    }
    if (!stopping_ && now >= deadline_) begin_stop();
    if (stopping_ && close_cursor_ < conns_.size()) close_some();
    if (stopping_ && !finished_.load(std::memory_order_relaxed)) {
      const std::size_t left = e_.tcp().connection_count();
      if (left != left_) {
        // Closing 100,000 connections at ~30,000/s takes seconds: the deadline is for a
        // peer that stopped answering, so it moves while connections keep closing.
        left_ = left;
        stop_by_ = now + kStopGrace;
      }
      if (left == 0 && linger_until_ == time::Instant::max()) linger_until_ = now + kLinger;
      if (left == 0 && (e_.tcp().time_wait_count() == 0 || now >= linger_until_)) {
        finished_.store(true, std::memory_order_release);
      } else if (now >= stop_by_) {
        // The peer stopped answering: end what is left (counted as aborted).
        e_.tcp().for_each_connection([](Tcb& t) { t.abort(); });
        finished_.store(true, std::memory_order_release);
      }
    }
    if (now >= next_publish_) {
      next_publish_ = now + std::chrono::milliseconds(10);
      publish();
    }
    next_due_ = std::min(next_publish_, deadline_);
    return finished_.load(std::memory_order_relaxed);
  }

  /// Deadline or SIGINT: no new work; connections end gracefully.
  void begin_stop() noexcept {
    if (stopping_) return;
    stopping_ = true;
    stop_tsc_ = rte_rdtsc();
    loop_stop_ = e_.counters().loop_ns;
    busy_stop_ = e_.counters().busy_ns;
    stop_by_ = e_.now() + kStopGrace;
    left_ = e_.tcp().connection_count();
    if (listener_ != nullptr) {
      e_.tcp().close_listener(listener_);
      listener_ = nullptr;
    }
    pending_.clear();
    close_cursor_ = 0;
    close_some();
  }

  /// Ends connections at most kCloseBurst per loop iteration: thousands of FINs in one
  /// iteration would overflow the engine's TX batch (and be dropped, counted).
  void close_some() noexcept {
    static constexpr unsigned kCloseBurst = 64;
    static constexpr std::uint32_t kMaxEnding = 128;  // closes in progress at once
    unsigned budget = kCloseBurst;
    while (budget > 0 && ending_ < kMaxEnding && close_cursor_ < conns_.size()) {
      Conn& c = conns_[close_cursor_++];
      if (c.tcb == nullptr || c.shut) continue;
      if (o_.server) {
        drain_input(*c.tcb);
        c.shut = true;
        c.ending = true;
        ++ending_;
        c.tcb->close();
        --budget;
      } else if (o_.mode != Mode::Crr && c.in_flight == 0 &&
                 c.tcb->state() != tcp::TcpState::SynSent) {
        c.ending = true;
        ++ending_;
        shut(c, *c.tcb);
        --budget;
      }
    }
  }

  void publish() noexcept {
    const auto& ec = e_.counters();
    const auto& tc = e_.tcp().counters();
    set(kTrans, c_.transactions);
    set(kEstablished, tc.established);
    set(kBytesIn, tc.bytes_in);
    set(kBytesOut, tc.bytes_out);
    set(kPktsRx, ec.rx_packets);
    set(kPktsTx, ec.tx_packets);
    set(kRetrans, tc.retrans_segs);
    set(kDrops, engine_drops(e_) + tcp_drops(e_));
    set(kOpen, e_.tcp().connection_count());
    set(kErrors, c_.errors());
    set(kLoopNs, ec.loop_ns);
    set(kBusyNs, ec.busy_ns);
  }
  [[nodiscard]] std::uint64_t published(Field f) const noexcept {
    return pub_[f].load(std::memory_order_relaxed);
  }

  void set_listener(tcp::Listener* l) noexcept { listener_ = l; }
  [[nodiscard]] bool finished() const noexcept { return finished_.load(std::memory_order_acquire); }
  [[nodiscard]] const AppCounters& counters() const noexcept { return c_; }
  /// Client: the most connections established at once, and how many it was asked for.
  [[nodiscard]] std::uint64_t peak_established() const noexcept { return peak_established_; }
  [[nodiscard]] std::uint32_t slots() const noexcept {
    return static_cast<std::uint32_t>(conns_.size());
  }
  [[nodiscard]] const Histogram& histogram() const noexcept { return hist_; }
  [[nodiscard]] engine::Engine& eng() noexcept { return e_; }
  /// The loop's time and its busy part from the first iteration to the stop (or to now).
  [[nodiscard]] std::pair<std::uint64_t, std::uint64_t> loop_busy_ns() const noexcept {
    const auto& ec = e_.counters();
    const std::uint64_t loop = (stopping_ ? loop_stop_ : ec.loop_ns) - loop_start_;
    const std::uint64_t busy = (stopping_ ? busy_stop_ : ec.busy_ns) - busy_start_;
    return {loop, busy};
  }
  /// Seconds from the first iteration to the stop (or to now if still running).
  [[nodiscard]] double elapsed_s() const noexcept {
    const std::uint64_t end = stopping_ ? stop_tsc_ : rte_rdtsc();
    return started_ ? static_cast<double>(end - start_tsc_) / static_cast<double>(hz_) : 0;
  }

 private:
  static Conn& conn(Tcb& t) noexcept { return *static_cast<Conn*>(t.user_data()); }
  [[nodiscard]] std::size_t ts_index(const Conn& c, std::uint64_t id) const noexcept {
    return static_cast<std::size_t>(c.slot) * ts_slots_ +
           static_cast<std::size_t>(id & (ts_slots_ - 1));
  }
  void set(Field f, std::uint64_t v) noexcept { pub_[f].store(v, std::memory_order_relaxed); }

  void write_header(std::uint8_t* b) const noexcept {
    std::memset(b, 0, kHeaderLen);
    std::memcpy(b, "SLPF", 4);
    b[4] = kVersion;
    b[5] = static_cast<std::uint8_t>(o_.mode);
    b[6] = o_.both ? kFlagBoth : 0;
    b[8] = static_cast<std::uint8_t>(o_.size >> 24);
    b[9] = static_cast<std::uint8_t>(o_.size >> 16);
    b[10] = static_cast<std::uint8_t>(o_.size >> 8);
    b[11] = static_cast<std::uint8_t>(o_.size);
  }
  /// Request `id`: its number (little-endian) in the first 8 bytes, then the pattern.
  void build_request(std::uint8_t* b, std::uint64_t id) const noexcept {
    const std::uint32_t n = std::min<std::uint32_t>(o_.size, 8);
    for (std::uint32_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(id >> (8 * i));
    if (o_.size > 8) std::memcpy(b + 8, pattern_.data() + 8, o_.size - 8);
  }
  [[nodiscard]] bool response_ok(const std::uint8_t* b, std::uint64_t id) const noexcept {
    const std::uint32_t n = std::min<std::uint32_t>(o_.size, 8);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (b[i] != static_cast<std::uint8_t>(id >> (8 * i))) return false;
    }
    return o_.size <= 8 || std::memcmp(b + 8, pattern_.data() + 8, o_.size - 8) == 0;
  }

  void drain_input(Tcb& t) noexcept {
    const std::uint32_t r = t.readable();
    if (r > 0) {
      t.consume(r);
      c_.bytes_received += r;
    }
  }

  void shut(Conn& c, Tcb& t) noexcept {
    if (c.shut) return;
    c.shut = true;
    t.shutdown();
  }

  /// Fills the send buffer from the pattern (bulk). Always asks for a whole chunk: the
  /// short send is what makes the connection call on_writable when space frees up.
  void stream(Tcb& t) noexcept {
    for (;;) {
      const std::uint32_t n = t.send(std::span<const std::uint8_t>(pattern_.data(), kStreamChunk));
      c_.bytes_sent += n;
      if (n < kStreamChunk) return;
    }
  }

  // Server: header, then by mode.
  void serve(Conn& c, Tcb& t) noexcept {
    if (c.hdr_got < kHeaderLen) {
      c.hdr_got = static_cast<std::uint8_t>(
          c.hdr_got +
          t.read(std::span<std::uint8_t>(c.hdr.data() + c.hdr_got, kHeaderLen - c.hdr_got)));
      if (c.hdr_got < kHeaderLen) return;
      const std::uint8_t* h = c.hdr.data();
      c.size = (std::uint32_t{h[8]} << 24) | (std::uint32_t{h[9]} << 16) |
               (std::uint32_t{h[10]} << 8) | h[11];
      c.flags = h[6];
      if (std::memcmp(h, "SLPF", 4) != 0 || h[4] != kVersion || h[5] < 1 || h[5] > 4 ||
          ((h[5] == 2 || h[5] == 3) && (c.size == 0 || c.size > kMaxSize))) {
        ++c_.bad_headers;
        c.shut = true;
        t.abort();
        return;
      }
      c.mode = static_cast<Mode>(h[5]);
      c.in_flight = 0;
    }
    if (c.shut && c.mode != Mode::Bulk) {
      drain_input(t);
      return;
    }
    switch (c.mode) {
      case Mode::Bulk:
        drain_input(t);
        if ((c.flags & kFlagBoth) != 0 && !c.shut) stream(t);
        break;
      case Mode::Rr:
      case Mode::Crr:
        // Echo whole requests while the answer fits; the rest waits for on_writable.
        while (t.readable() >= c.size && t.send_space() >= c.size) {
          const std::uint32_t got = t.read(std::span<std::uint8_t>(scratch_.data(), c.size));
          c_.bytes_received += got;
          c_.bytes_sent += t.send(std::span<const std::uint8_t>(scratch_.data(), got));
          ++c_.transactions;
          if (c.mode == Mode::Crr) {
            c.shut = true;
            drain_input(t);
            t.close();  // one transaction per connection: we close first
            return;
          }
        }
        break;
      case Mode::Hold: drain_input(t); break;
    }
  }

  /// The time of latency measurements, in nanoseconds: the engine's clock, read once per
  /// poll iteration as its receive burst comes in (and after every busy iteration), so
  /// that every response of a burst is stamped when it arrived and a request when it went
  /// out with that iteration's transmissions. A TSC read per response instead cost 3.4 %
  /// of the rr64 client: under this hypervisor a TSC read takes about 10 ns.
  [[nodiscard]] std::uint64_t stamp() const noexcept {
    return static_cast<std::uint64_t>(e_.now().time_since_epoch().count());
  }

  // Client: responses.
  void receive(Conn& c, Tcb& t) noexcept {
    if (o_.mode == Mode::Bulk || o_.mode == Mode::Hold) {
      drain_input(t);
      return;
    }
    const std::uint64_t now = stamp();
    while (c.in_flight > 0 && t.readable() >= o_.size) {
      const std::uint32_t got = t.read(std::span<std::uint8_t>(scratch_.data(), o_.size));
      c_.bytes_received += got;
      if (!response_ok(scratch_.data(), c.rx_id)) ++c_.mismatches;
      hist_.add(now - sent_tsc_[ts_index(c, c.rx_id)]);
      ++c_.transactions;
      ++c.rx_id;
      --c.in_flight;
    }
    if (c.in_flight == 0 && t.readable() > 0) {  // more than was asked for
      ++c_.mismatches;
      drain_input(t);
    }
    if (o_.mode == Mode::Rr) {
      if (stopping_) {
        if (c.in_flight == 0) shut(c, t);
      } else {
        issue(c, t, now);
      }
    }
  }

  /// rr: keeps `pipeline` requests in flight, within the rate. `tsc`: the time the requests
  /// are sent (stamp()), for their latency.
  void issue(Conn& c, Tcb& t) noexcept { issue(c, t, stamp()); }
  void issue(Conn& c, Tcb& t, std::uint64_t tsc) noexcept {
    while (!stopping_ && c.in_flight < o_.pipeline) {
      if (rate_ > 0 && !take_token(e_.now())) {
        if (!c.waiting) {
          c.waiting = true;
          wait_[wait_tail_] = c.slot;
          wait_tail_ = (wait_tail_ + 1) % static_cast<std::uint32_t>(wait_.size());
        }
        return;
      }
      if (t.send_space() < o_.size) return;  // cannot happen within the half-buffer bound
      std::uint8_t* b = scratch_.data();
      build_request(b, c.tx_id);
      sent_tsc_[ts_index(c, c.tx_id)] = tsc;
      c_.bytes_sent += t.send(std::span<const std::uint8_t>(b, o_.size));
      ++c.tx_id;
      ++c.in_flight;
      ++issued_;
    }
  }

  /// Rate limiter: transactions (or connections) allowed by now, ramping linearly.
  bool take_token(time::Instant now) noexcept {
    const double t = std::chrono::duration<double>(now - start_).count();
    double allowed;
    if (o_.ramp_s > 0 && t < o_.ramp_s) {
      allowed = rate_ * t * t / (2 * o_.ramp_s);
    } else {
      allowed = rate_ * (t - o_.ramp_s / 2);
    }
    return static_cast<double>(issued_) < allowed + 1;
  }

  void release_waiting(time::Instant now) noexcept {
    while (wait_head_ != wait_tail_ && take_token(now)) {
      Conn& c = conns_[wait_[wait_head_]];
      wait_head_ = (wait_head_ + 1) % static_cast<std::uint32_t>(wait_.size());
      c.waiting = false;
      if (c.tcb != nullptr && !c.shut) issue(c, *c.tcb);
    }
  }

  /// Client: opens the connections waiting for a start (all at first; crr after each close).
  /// Warm-up: until a handshake has completed, one SYN per source address goes out and no
  /// more. Both ends are resolving each other's MAC by ARP (the peer each of our addresses
  /// as its first SYN arrives), and ARP holds only a few packets per address meanwhile.
  void open_pending(time::Instant now) noexcept {
    if (!warm_) {
      if (connecting_ > 0) return;  // the warm-up SYNs are still out
      if (warm_connected_ == 0) {
        warm_up();
        return;
      }
      warm_ = true;
    }
    // Never more than kMaxConnecting handshakes at once: a flood of SYNs (or, at the end,
    // FINs) only overflows the link's queues.
    static constexpr std::uint32_t kMaxConnecting = 128;
    unsigned budget = 64;
    budget = std::min<unsigned>(budget, kMaxConnecting - std::min(connecting_, kMaxConnecting));
    while (budget > 0 && !pending_.empty()) {
      if (o_.mode == Mode::Crr && rate_ > 0) {
        if (!take_token(now)) return;
      }
      const std::uint32_t slot = pending_.back();
      Conn& c = conns_[slot];
      c.tx_id = c.rx_id;
      c.in_flight = 0;
      c.shut = false;
      c.waiting = false;
      c.opened_tsc = stamp();
      if (!open(c, e_.connect(o_.peer, o_.port, this))) return;  // retried next iteration
      --budget;
    }
  }

  /// One connection from each of our source addresses (fewer if fewer are pending).
  void warm_up() noexcept {
    for (std::uint32_t i = 0; i < e_.address_count() && !pending_.empty(); ++i) {
      Conn& c = conns_[pending_.back()];
      c.tx_id = c.rx_id;
      c.in_flight = 0;
      c.shut = false;
      c.waiting = false;
      c.opened_tsc = stamp();
      if (!open(c, e_.connect_from(e_.address(i), o_.peer, o_.port, this))) return;
    }
  }

  /// Takes the slot at the back of pending_ when the open succeeded; counts a failure.
  bool open(Conn& c, Result<Tcb*, Errc> r) noexcept {
    if (!r.ok()) {
      ++c_.connect_fails;  // no port free now (or the connection limit): tried again later
      return false;
    }
    pending_.pop_back();
    if (o_.mode == Mode::Crr) ++issued_;
    c.tcb = *r;
    c.connecting = true;
    ++connecting_;
    c.tcb->set_no_delay(true);
    c.tcb->set_user_data(&c);
    return true;
  }

  engine::Engine& e_;
  const Options& o_;
  std::vector<Conn> conns_;
  std::vector<std::uint32_t> free_;     ///< server: free slots
  std::size_t close_cursor_ = 0;        ///< stopping: next connection close_some() ends
  std::vector<std::uint32_t> pending_;  ///< client: slots to (re)connect
  std::vector<std::uint32_t> wait_;     ///< client rr: slots waiting for the rate (a ring)
  std::uint32_t wait_head_ = 0;
  std::uint32_t wait_tail_ = 0;
  std::vector<std::uint64_t> sent_tsc_;  ///< per slot, per pipeline position (stamp())
  std::uint64_t loop_start_ = 0, busy_start_ = 0, loop_stop_ = 0, busy_stop_ = 0;
  /// Send times kept per connection: the pipeline depth rounded up to a power of two, so
  /// that a transaction's place is a mask, not a division, on every request and response.
  std::uint32_t ts_slots_ = std::bit_ceil(o_.pipeline);
  std::array<std::uint8_t, kMaxSize + kHeaderLen> scratch_{};
  std::array<std::uint8_t, kMaxSize + kHeaderLen> pattern_{};
  AppCounters c_;
  Histogram hist_;
  tcp::Listener* listener_ = nullptr;
  std::uint64_t hz_;
  double rate_ = 0;
  std::uint64_t issued_ = 0;
  std::uint32_t connecting_ = 0;  ///< client: handshakes in progress
  std::uint32_t ending_ = 0;      ///< stopping: closes in progress
  std::uint64_t warm_connected_ = 0;    ///< client: handshakes completed (see open_pending)
  std::uint64_t established_ = 0;       ///< client: connections established and not closed
  std::uint64_t peak_established_ = 0;  ///< client: the most of them at once
  bool started_ = false;
  bool stopping_ = false;
  bool warm_ = false;
  time::Instant start_{};
  time::Instant deadline_{};
  static constexpr auto kStopGrace = std::chrono::seconds(3);
  time::Instant stop_by_{};  ///< stopping: abort what is left if none has closed by then
  std::size_t left_ = 0;     ///< stopping: connections left at the last look
  /// All closed, some in TIME-WAIT (we closed first): our last ACKs may still sit in the
  /// link's queue, and the link loses them if we exit before the peer has read them (a
  /// vhost-user peer that is not scheduled just then); it would retransmit its FIN to no
  /// one. So poll a little longer: past the peer's first retransmission (RTO 200 ms), which
  /// the TIME-WAIT record answers.
  static constexpr auto kLinger = std::chrono::milliseconds(500);
  time::Instant linger_until_ = time::Instant::max();
  time::Instant next_publish_{};
  time::Instant next_due_{};  ///< the earlier of next_publish_ and deadline_ (tick's fast path)
  std::uint64_t start_tsc_ = 0;
  std::uint64_t stop_tsc_ = 0;
  std::atomic<bool> finished_{false};
  alignas(64) std::array<std::atomic<std::uint64_t>, kFields> pub_{};
};

// --------------------------------------------------------------------- reporting

/// Engine 0's view of the per-second lines (touched only on the main lcore).
struct Reporter {
  std::vector<std::array<std::uint64_t, kFields>> prev;
  std::uint64_t prev_port_drops = 0;
  std::uint64_t last_tsc = 0;
  double seconds = 0;
  // hold: the sample with the most open connections
  std::uint64_t peak_open = 0;
  std::uint64_t peak_mbufs = 0;  ///< mbufs in use then (both pools), above the baseline
  std::uint64_t baseline_mbufs = 0;
  std::uint64_t baseline_rss = 0;  ///< resident bytes of the process before the run
  std::uint64_t peak_rss = 0;      ///< ... at the peak sample
};

std::uint16_t g_port = 0;

std::uint64_t port_drops() noexcept {
  rte_eth_stats s{};
  if (rte_eth_stats_get(g_port, &s) != 0) return 0;
  return s.imissed + s.ierrors + s.oerrors + s.rx_nombuf;
}

std::uint64_t mbufs_in_use() noexcept {
  std::uint64_t n = 0;
  for (const char* name : {"sluice_pkts", "sluice_clones"}) {
    if (rte_mempool* mp = rte_mempool_lookup(name)) n += rte_mempool_in_use_count(mp);
  }
  return n;
}
/// Resident memory of this process (/proc/self/statm), 0 if unknown. Cold path: once a second.
std::uint64_t resident_bytes() noexcept {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  const int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

std::uint64_t mbuf_bytes() noexcept {
  rte_mempool* mp = rte_mempool_lookup("sluice_pkts");
  return mp == nullptr ? 0 : mp->elt_size + mp->header_size + mp->trailer_size;
}

void print_line(FILE* out, double t, const char* who, const std::array<std::uint64_t, kFields>& d,
                std::uint64_t open, std::uint64_t extra_drops, double dt) {
  const double s = dt > 0 ? dt : 1;
  // busy: the share of the loop's time spent in iterations that had frames to handle;
  // near 100 % the core is the limit, well below it the work waits on something else.
  const double busy =
      d[kLoopNs] > 0 ? 100.0 * static_cast<double>(d[kBusyNs]) / static_cast<double>(d[kLoopNs])
                     : 0;
  std::fprintf(out,
               "[%6.1fs] %-9s %8.3f Gbit/s %10.0f pkt/s %10.0f trans/s %9.0f conn/s %7llu open "
               "%6llu retrans %6llu drops %3.0f%% busy\n",
               t, who, static_cast<double>(d[kBytesIn] + d[kBytesOut]) * 8 / 1e9 / s,
               static_cast<double>(d[kPktsRx] + d[kPktsTx]) / s, static_cast<double>(d[kTrans]) / s,
               static_cast<double>(d[kEstablished]) / s, static_cast<unsigned long long>(open),
               static_cast<unsigned long long>(d[kRetrans]),
               static_cast<unsigned long long>(d[kDrops] + extra_drops), busy);
}

void every_second(std::vector<std::unique_ptr<Worker>>& workers, Reporter& r, const Options& o) {
  FILE* out = o.json ? stderr : stdout;
  const std::uint64_t now = rte_rdtsc();
  const double dt = static_cast<double>(now - r.last_tsc) / static_cast<double>(rte_get_tsc_hz());
  r.last_tsc = now;
  r.seconds += dt;
  std::array<std::uint64_t, kFields> total{};
  std::uint64_t open = 0;
  for (std::size_t i = 0; i < workers.size(); ++i) {
    std::array<std::uint64_t, kFields> cur{};
    std::array<std::uint64_t, kFields> d{};
    for (std::size_t f = 0; f < kFields; ++f) {
      cur[f] = workers[i]->published(static_cast<Field>(f));
      d[f] = cur[f] - r.prev[i][f];
      total[f] += d[f];
    }
    open += cur[kOpen];
    r.prev[i] = cur;
    if (workers.size() > 1 && (o.stats || !o.server)) {
      char who[32];
      std::snprintf(who, sizeof who, "engine %zu", i);
      print_line(out, r.seconds, who, d, cur[kOpen], 0, dt);
    }
  }
  const std::uint64_t pd = port_drops();
  if (o.stats || !o.server)
    print_line(out, r.seconds, "total", total, open, pd - r.prev_port_drops, dt);
  r.prev_port_drops = pd;
  std::fflush(out);
  if (o.mode == Mode::Hold || o.server) {
    if (open >= r.peak_open && open > 0) {
      r.peak_open = open;
      const std::uint64_t m = mbufs_in_use();
      r.peak_mbufs = m > r.baseline_mbufs ? m - r.baseline_mbufs : 0;
      r.peak_rss = resident_bytes();
    }
  }
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

int summary(std::vector<std::unique_ptr<Worker>>& workers, const Reporter& rep, const Options& o,
            std::uint64_t port_drops_total) {
  FILE* out = o.json ? stderr : stdout;
  Histogram h;
  AppCounters a;
  std::uint64_t retrans = 0, drops = port_drops_total, pkts = 0, established = 0;
  std::uint64_t payload_in = 0, payload_out = 0;
  std::array<std::uint64_t, tcp::kTcpDropCount> tdrops{};
  double elapsed = 0;
  for (auto& w : workers) {
    w->publish();
    h.merge(w->histogram());
    const AppCounters& c = w->counters();
    a.transactions += c.transactions;
    a.conns_done += c.conns_done;
    a.bytes_sent += c.bytes_sent;
    a.bytes_received += c.bytes_received;
    a.mismatches += c.mismatches;
    a.bad_headers += c.bad_headers;
    a.no_slot += c.no_slot;
    a.connect_fails += c.connect_fails;
    for (std::size_t i = 0; i < kCloseReasons; ++i) a.closed_by[i] += c.closed_by[i];
    retrans += w->published(kRetrans);
    drops += w->published(kDrops);
    pkts += w->published(kPktsRx) + w->published(kPktsTx);
    established += w->published(kEstablished);
    payload_in += w->published(kBytesIn);
    payload_out += w->published(kBytesOut);
    const auto& td = w->eng().tcp().counters().drops;
    for (std::size_t i = 0; i < tcp::kTcpDropCount; ++i) tdrops[i] += td[i];
    elapsed = std::max(elapsed, w->elapsed_s());
  }
  const double s = elapsed > 0 ? elapsed : 1;
  const double us = 1e-3;  // latencies are in nanoseconds (Worker::stamp)
  const double gbit = static_cast<double>(payload_in + payload_out) * 8 / 1e9 / s;
  std::string drop_detail;
  for (std::size_t i = 0; i < tcp::kTcpDropCount; ++i) {
    if (tdrops[i] == 0) continue;
    drop_detail += " " + std::string(to_string(static_cast<tcp::TcpDrop>(i))) + "=" +
                   std::to_string(tdrops[i]);
  }

  {  // the link layer's and the port's, by name
    engine::EngineCounters ec{};
    std::uint64_t parse = 0, impaired = 0;
    for (auto& w : workers) {
      const auto& c = w->eng().counters();
      ec.tx_dropped += c.tx_dropped;
      ec.arp_held_dropped += c.arp_held_dropped;
      ec.no_mbuf += c.no_mbuf;
      ec.multi_segment += c.multi_segment;
      ec.steer_ring_full += c.steer_ring_full;
      ec.arp_share_ring_full += c.arp_share_ring_full;
      ec.ip_fragments += c.ip_fragments;
      for (auto v : c.parse_errors) parse += v;
      impaired += w->eng().impaired_drops();
    }
    rte_eth_stats ps{};
    rte_eth_stats_get(g_port, &ps);
    const std::pair<const char*, std::uint64_t> named[] = {
        {"tx_ring_full", ec.tx_dropped}, {"arp_unresolved", ec.arp_held_dropped},
        {"no_mbuf", ec.no_mbuf}, {"multi_segment", ec.multi_segment},
        {"steer_ring_full", ec.steer_ring_full}, {"arp_share_ring_full", ec.arp_share_ring_full},
        {"ip_fragment", ec.ip_fragments}, {"parse_error", parse}, {"impaired", impaired},
        {"port_total", port_drops_total}};
    for (const auto& [name, v] : named) {
      if (v != 0) drop_detail += " " + std::string(name) + "=" + std::to_string(v);
    }
    if (port_drops_total != 0) {
      drop_detail += " (port imissed " + std::to_string(ps.imissed) + " ierrors " +
                     std::to_string(ps.ierrors) + " oerrors " + std::to_string(ps.oerrors) +
                     " rx_nombuf " + std::to_string(ps.rx_nombuf) + ")";
    }
  }
  const std::uint64_t errors = a.errors();
  // hold: every connection asked for must have been open at once (each engine its share).
  std::uint64_t held = 0;
  bool complete = true;
  for (auto& w : workers) {
    held += w->peak_established();
    if (w->peak_established() < w->slots()) complete = false;
  }
  complete = complete || o.server || o.mode != Mode::Hold;
  const bool clean = retrans == 0 && drops == 0 && complete;
  const double rss_per_conn = rep.peak_open == 0 || rep.peak_rss < rep.baseline_rss
                                  ? 0
                                  : static_cast<double>(rep.peak_rss - rep.baseline_rss) /
                                        static_cast<double>(rep.peak_open);
  const std::size_t tcb = workers[0]->eng().tcp().tcb_size();
  const double per_conn = rep.peak_open == 0
                              ? 0
                              : (static_cast<double>(rep.peak_open * tcb) +
                                 static_cast<double>(rep.peak_mbufs * mbuf_bytes())) /
                                    static_cast<double>(rep.peak_open);

  std::fprintf(out, "sluice-perf %s %s: %zu engine%s, %.2f s, port %u",
               o.server ? "server" : "client", o.server ? "(all modes)" : to_string(o.mode),
               workers.size(), workers.size() == 1 ? "" : "s", elapsed, o.port);
  if (!o.server) {
    std::fprintf(out, ", %u connections, size %u, pipeline %u", o.connections, o.size, o.pipeline);
  }
  std::fprintf(out,
               "\n  transactions %llu (%.0f/s), connections established %llu (%.0f/s), closed "
               "normally %llu\n",
               static_cast<unsigned long long>(a.transactions),
               static_cast<double>(a.transactions) / s,
               static_cast<unsigned long long>(established), static_cast<double>(established) / s,
               static_cast<unsigned long long>(a.conns_done));
  std::fprintf(out,
               "  payload sent %llu B, received %llu B (application); %.3f Gbit/s TCP payload; "
               "%llu packets (%.0f/s)\n",
               static_cast<unsigned long long>(a.bytes_sent),
               static_cast<unsigned long long>(a.bytes_received), gbit,
               static_cast<unsigned long long>(pkts), static_cast<double>(pkts) / s);
  // How loaded the engines' cores were: busy over loop time, all engines together.
  std::uint64_t loop_all = 0, busy_all = 0;
  for (auto& w : workers) {
    const auto [loop, busy] = w->loop_busy_ns();
    loop_all += loop;
    busy_all += busy;
  }
  const auto pct = [](std::uint64_t busy, std::uint64_t loop) {
    return loop > 0 ? 100.0 * static_cast<double>(busy) / static_cast<double>(loop) : 0.0;
  };
  std::fprintf(out, "  cores: %.1f %% busy (iterations with frames to handle)",
               pct(busy_all, loop_all));
  if (workers.size() > 1) {
    for (std::size_t i = 0; i < workers.size(); ++i) {
      const auto [loop, busy] = workers[i]->loop_busy_ns();
      std::fprintf(out, "%s engine %zu %.0f %%", i == 0 ? ";" : ",", i, pct(busy, loop));
    }
  }
  std::fprintf(out, "\n");
  if (h.count() > 0) {
    std::fprintf(
        out,
        "  latency us: p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f max %.1f mean %.1f (%llu samples)\n",
        static_cast<double>(h.quantile(0.5)) * us, static_cast<double>(h.quantile(0.9)) * us,
        static_cast<double>(h.quantile(0.99)) * us, static_cast<double>(h.quantile(0.999)) * us,
        static_cast<double>(h.max()) * us, h.mean() * us,
        static_cast<unsigned long long>(h.count()));
  }
  if (rep.peak_open > 0 && (o.mode == Mode::Hold || o.server)) {
    std::fprintf(out,
                 "  hold: %llu connections open at peak; stack memory per connection %.0f B "
                 "(connection object %zu B, %llu mbufs of %llu B above the idle baseline)\n",
                 static_cast<unsigned long long>(rep.peak_open), per_conn, tcb,
                 static_cast<unsigned long long>(rep.peak_mbufs),
                 static_cast<unsigned long long>(mbuf_bytes()));
    if (rep.peak_open >= 1000) {  // fewer: page granularity and noise swamp the figure
      std::fprintf(out,
                   "  hold: process resident memory grew %.0f B per connection (all of it: "
                   "stack, heap, the tool's own)\n",
                   rss_per_conn);
    }
  }
  if (!complete) {
    std::fprintf(out,
                 "  NOT COMPLETE: %llu of %u connections were open at once (connect failures "
                 "%llu)\n",
                 static_cast<unsigned long long>(held), o.connections,
                 static_cast<unsigned long long>(a.connect_fails));
  }
  std::fprintf(
      out,
      "  retransmissions %llu, drops %llu%s, errors %llu (mismatches %llu, bad headers "
      "%llu, refused %llu, reset %llu, timed out %llu, aborted %llu, connect failures %llu)\n",
      static_cast<unsigned long long>(retrans), static_cast<unsigned long long>(drops),
      drop_detail.empty() ? "" : (" (" + drop_detail.substr(1) + ")").c_str(),
      static_cast<unsigned long long>(errors), static_cast<unsigned long long>(a.mismatches),
      static_cast<unsigned long long>(a.bad_headers),
      static_cast<unsigned long long>(a.closed_by[1]),
      static_cast<unsigned long long>(a.closed_by[2]),
      static_cast<unsigned long long>(a.closed_by[3]),
      static_cast<unsigned long long>(a.closed_by[4]),
      static_cast<unsigned long long>(a.connect_fails));
  if (retrans != 0 || drops != 0) {
    std::fprintf(out, "  NOT CLEAN: this run had %llu retransmissions and %llu drops\n",
                 static_cast<unsigned long long>(retrans), static_cast<unsigned long long>(drops));
  }
  std::fflush(out);
  if (o.json) {
    std::string j = "{";
    j += "\"role\":\"" + std::string(o.server ? "server" : "client") + "\"";
    j += ",\"mode\":\"" + std::string(o.server ? "all" : to_string(o.mode)) + "\"";
    j += ",\"engines\":" + std::to_string(workers.size());
    j += ",\"duration_s\":" + fmt("%.3f", elapsed);
    j += ",\"connections\":" + std::to_string(o.connections);
    j += ",\"size\":" + std::to_string(o.size);
    j += ",\"pipeline\":" + std::to_string(o.pipeline);
    j += ",\"transactions\":" + std::to_string(a.transactions);
    j += ",\"transactions_per_s\":" + fmt("%.1f", static_cast<double>(a.transactions) / s);
    j += ",\"connections_established\":" + std::to_string(established);
    j += ",\"connections_per_s\":" + fmt("%.1f", static_cast<double>(established) / s);
    j += ",\"bytes_sent\":" + std::to_string(a.bytes_sent);
    j += ",\"bytes_received\":" + std::to_string(a.bytes_received);
    j += ",\"gbit_per_s\":" + fmt("%.4f", gbit);
    j += ",\"packets\":" + std::to_string(pkts);
    j += ",\"packets_per_s\":" + fmt("%.1f", static_cast<double>(pkts) / s);
    j += ",\"busy_percent\":" + fmt("%.1f", pct(busy_all, loop_all));
    j += ",\"latency_us\":{\"p50\":" + fmt("%.2f", static_cast<double>(h.quantile(0.5)) * us) +
         ",\"p90\":" + fmt("%.2f", static_cast<double>(h.quantile(0.9)) * us) +
         ",\"p99\":" + fmt("%.2f", static_cast<double>(h.quantile(0.99)) * us) +
         ",\"p99.9\":" + fmt("%.2f", static_cast<double>(h.quantile(0.999)) * us) +
         ",\"max\":" + fmt("%.2f", static_cast<double>(h.max()) * us) +
         ",\"mean\":" + fmt("%.2f", h.mean() * us) + ",\"samples\":" + std::to_string(h.count()) +
         "}";
    j += ",\"retransmissions\":" + std::to_string(retrans);
    j += ",\"drops\":" + std::to_string(drops);
    j += ",\"errors\":" + std::to_string(errors);
    j += ",\"mismatches\":" + std::to_string(a.mismatches);
    j += ",\"connect_failures\":" + std::to_string(a.connect_fails);
    j += ",\"bad_headers\":" + std::to_string(a.bad_headers);
    j += ",\"refused_slots\":" + std::to_string(a.no_slot);
    j += ",\"closed\":{";  // connections by how they ended (tcp::CloseReason)
    static constexpr std::array<const char*, kCloseReasons> kReasons = {
        "normal", "refused", "reset", "timed_out", "aborted", "listener_closed"};
    for (std::size_t i = 0; i < kCloseReasons; ++i) {
      // Appended piece by piece: GCC 12 at -O3 warns (falsely) on the const char* + string
      // this was, libstdc++ bug 105651.
      j += i ? ",\"" : "\"";
      j += kReasons[i];
      j += "\":";
      j += std::to_string(a.closed_by[i]);
    }
    j += "}";
    j += ",\"source_addresses\":" + std::to_string(workers[0]->eng().address_count());
    if (o.mode == Mode::Hold) {
      j += ",\"hold\":{\"peak_open\":" + std::to_string(rep.peak_open) +
           ",\"bytes_per_connection\":" + fmt("%.0f", per_conn) +
           ",\"tcb_bytes\":" + std::to_string(tcb) +
           ",\"rss_bytes_per_connection\":" + fmt("%.0f", rss_per_conn) +
           ",\"requested\":" + std::to_string(o.server ? 0 : o.connections) +
           ",\"established_at_once\":" + std::to_string(held) +
           ",\"complete\":" + std::string(complete ? "true" : "false") +
           ",\"mbufs\":" + std::to_string(rep.peak_mbufs) + "}";
    }
    j += ",\"per_engine\":[";
    for (std::size_t i = 0; i < workers.size(); ++i) {
      Worker& w = *workers[i];
      const engine::EngineCounters& ec = w.eng().counters();
      j += (i ? ",{" : "{") + std::string("\"transactions\":") +
           std::to_string(w.counters().transactions) +
           ",\"connections_established\":" + std::to_string(w.published(kEstablished)) +
           ",\"retransmissions\":" + std::to_string(w.published(kRetrans)) +
           ",\"drops\":" + std::to_string(w.published(kDrops)) +
           ",\"latency_samples\":" + std::to_string(w.histogram().count()) +
           ",\"established_at_once\":" + std::to_string(w.peak_established()) +
           ",\"rx_packets\":" + std::to_string(ec.rx_packets) +
           ",\"steer_misdirected\":" + std::to_string(ec.steer_misdirected) +
           ",\"steer_forwarded\":" + std::to_string(ec.steer_forwarded) +
           ",\"steer_in\":" + std::to_string(ec.steer_in) +
           ",\"steer_ring_full\":" + std::to_string(ec.steer_ring_full) +
           ",\"arp_share_ring_full\":" + std::to_string(ec.arp_share_ring_full);
      const auto [loop, busy] = w.loop_busy_ns();
      j += ",\"busy_percent\":" + fmt("%.1f", pct(busy, loop)) + "}";
    }
    j += "]";
    j += ",\"clean\":" + std::string(clean ? "true" : "false");
    j += "}\n";
    std::fputs(j.c_str(), stdout);
    std::fflush(stdout);
  }
  return 0;
}

void usage(const char* prog) {
  std::printf(
      "Usage: %s [EAL options] -- --addr A.B.C.D/LEN --role server|client [--peer IP]\n"
      "         [--port P] [--mode bulk|rr|crr|hold] [--connections N] [--size BYTES]\n"
      "         [--duration S] [--pipeline D] [--rate R] [--ramp S] [--both] [--json] [--stats]\n"
      "         [--src-count N | --src-range A.B.C.D-A.B.C.E] [--buffer BYTES] [--keep-port]\n\n"
      "The server answers every mode on --port (default 5201) until SIGINT or --duration;\n"
      "the client runs --mode for --duration seconds (default 10) and prints a line per second\n"
      "and a summary (--json: the summary as one JSON object on standard output).\n"
      "  --connections N  client: connections (rr, bulk, hold) or parallel connect loops (crr);\n"
      "                   default 1. Server: the most it holds at once; default 200000\n"
      "  --size B         request and response size, rr and crr (1..65536); default 1\n"
      "  --pipeline D     requests in flight per connection (rr); default 1\n"
      "  --rate R         total transactions/s (rr) or connections/s (crr); --ramp S reaches it\n"
      "                   linearly over S seconds\n"
      "  --both           bulk both ways\n"
      "  --src-count N    own N addresses, from --addr's up (1..64): the client opens from them\n"
      "                   in turn; each has 28232 ephemeral ports to one server port\n"
      "  --src-range A-B  the same as a range; it starts at --addr's address\n"
      "  --buffer B       fixes each connection's send and receive buffer at B bytes\n"
      "                   (default: 262144, growing with bandwidth x RTT up to 4194304)\n"
      "  --keep-port      after the summary keep the port open, polling nothing, until SIGINT\n"
      "                   or SIGTERM. Over net_memif stop both ends this way before either\n"
      "                   closes: DPDK 22.11's memif can crash a process still polling when\n"
      "                   its peer closes the link\n",
      prog);
}

bool parse_u32(const char* s, std::uint32_t lo, std::uint32_t hi, std::uint32_t& v) {
  char* end = nullptr;
  const unsigned long x = std::strtoul(s, &end, 10);
  if (*s == '\0' || *end != '\0' || x < lo || x > hi) return false;
  v = static_cast<std::uint32_t>(x);
  return true;
}
bool parse_double(const char* s, double& v) {
  char* end = nullptr;
  v = std::strtod(s, &end);
  return *s != '\0' && *end == '\0' && v >= 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto rt = api::Runtime::start(argc, argv, "sluice-perf");
  if (!rt) return 2;
  api::CommonOptions common;
  Options o;
  bool role_given = false;
  std::optional<wire::Ipv4Addr> src_range_first;
  static const option kLong[] = {{"addr", required_argument, nullptr, 'a'},
                                 {"gateway", required_argument, nullptr, 'g'},
                                 {"role", required_argument, nullptr, 'R'},
                                 {"peer", required_argument, nullptr, 'P'},
                                 {"port", required_argument, nullptr, 'p'},
                                 {"mode", required_argument, nullptr, 'm'},
                                 {"connections", required_argument, nullptr, 'c'},
                                 {"size", required_argument, nullptr, 'z'},
                                 {"duration", required_argument, nullptr, 'd'},
                                 {"pipeline", required_argument, nullptr, 'D'},
                                 {"rate", required_argument, nullptr, 'r'},
                                 {"ramp", required_argument, nullptr, 'u'},
                                 {"src-count", required_argument, nullptr, 'n'},
                                 {"src-range", required_argument, nullptr, 'N'},
                                 {"both", no_argument, nullptr, 'b'},
                                 {"json", no_argument, nullptr, 'j'},
                                 {"stats", no_argument, nullptr, 's'},
                                 {"keep-port", no_argument, nullptr, 'k'},
                                 {"buffer", required_argument, nullptr, api::kOptBuffer},
                                 {"help", no_argument, nullptr, 'h'},
                                 {nullptr, 0, nullptr, 0}};
  const auto bad = [](const char* what, const char* got) {
    std::fprintf(stderr, "sluice-perf: %s, got '%s'\n", what, got);
    return 2;
  };
  optind = 1;
  for (int c; (c = getopt_long(rt->argc(), rt->argv(), "", kLong, nullptr)) != -1;) {
    std::uint32_t v = 0;
    switch (c) {
      case 'a':
        if (!api::parse_cidr(optarg, common.addr, common.prefix_len))
          return bad("--addr wants A.B.C.D/LEN", optarg);
        break;
      case 'g': {
        auto g = wire::Ipv4Addr::parse(optarg);
        if (!g) return bad("--gateway wants A.B.C.D", optarg);
        common.gateway = *g;
        break;
      }
      case 'R':
        if (std::strcmp(optarg, "server") == 0) {
          o.server = true;
        } else if (std::strcmp(optarg, "client") != 0) {
          return bad("--role wants server or client", optarg);
        }
        role_given = true;
        break;
      case 'P': {
        auto p = wire::Ipv4Addr::parse(optarg);
        if (!p) return bad("--peer wants A.B.C.D", optarg);
        o.peer = *p;
        break;
      }
      case 'p':
        if (!parse_u32(optarg, 1, 65535, v)) return bad("--port wants 1..65535", optarg);
        o.port = static_cast<std::uint16_t>(v);
        break;
      case 'm':
        if (std::strcmp(optarg, "bulk") == 0) {
          o.mode = Mode::Bulk;
        } else if (std::strcmp(optarg, "rr") == 0) {
          o.mode = Mode::Rr;
        } else if (std::strcmp(optarg, "crr") == 0) {
          o.mode = Mode::Crr;
        } else if (std::strcmp(optarg, "hold") == 0) {
          o.mode = Mode::Hold;
        } else {
          return bad("--mode wants bulk, rr, crr or hold", optarg);
        }
        break;
      case 'c':
        if (!parse_u32(optarg, 1, 4000000, o.connections))
          return bad("--connections wants 1..4000000", optarg);
        o.connections_given = true;
        break;
      case 'n':
        if (!parse_u32(optarg, 1, engine::Engine::kMaxAddresses, common.addr_count))
          return bad("--src-count wants 1..64", optarg);
        break;
      case 'N': {
        const std::string text(optarg);
        const auto dash = text.find('-');
        auto first = wire::Ipv4Addr::parse(std::string_view(text).substr(0, dash));
        auto last = dash == std::string::npos
                        ? first
                        : wire::Ipv4Addr::parse(std::string_view(text).substr(dash + 1));
        if (!first || !last || last->value < first->value ||
            last->value - first->value >= engine::Engine::kMaxAddresses) {
          return bad("--src-range wants A.B.C.D-A.B.C.E (at most 64 addresses)", optarg);
        }
        src_range_first = *first;
        common.addr_count = last->value - first->value + 1;
        break;
      }
      case 'z':
        if (!parse_u32(optarg, 1, kMaxSize, o.size)) return bad("--size wants 1..65536", optarg);
        break;
      case 'd':
        if (!parse_double(optarg, o.duration_s)) return bad("--duration wants seconds", optarg);
        o.duration_given = true;
        break;
      case 'D':
        if (!parse_u32(optarg, 1, kMaxPipeline, o.pipeline))
          return bad("--pipeline wants 1..1024", optarg);
        break;
      case 'r':
        if (!parse_double(optarg, o.rate)) return bad("--rate wants a number", optarg);
        break;
      case 'u':
        if (!parse_double(optarg, o.ramp_s)) return bad("--ramp wants seconds", optarg);
        break;
      case 'b': o.both = true; break;
      case 'j': o.json = true; break;
      case 's': o.stats = true; break;
      case 'k': o.keep_port = true; break;
      case api::kOptBuffer:
        if (!api::parse_common_flag(c, optarg, common, "sluice-perf")) return 2;
        break;
      case 'h': usage("sluice-perf"); return 0;
      default: usage("sluice-perf"); return 2;
    }
  }
  if (!role_given) {
    std::fprintf(stderr, "sluice-perf: --role server|client is required\n");
    return 2;
  }
  if (!o.server && o.peer.is_unspecified()) {
    std::fprintf(stderr, "sluice-perf: the client needs --peer IP\n");
    return 2;
  }
  if (src_range_first) {
    // The range is the engine's addresses: it starts at --addr (which gives the prefix).
    if (common.addr.is_unspecified()) common.addr = *src_range_first;
    if (common.addr != *src_range_first) {
      std::fprintf(stderr, "sluice-perf: --src-range must start at --addr's address (%s)\n",
                   common.addr.to_string().c_str());
      return 2;
    }
  }
  if (o.server && !o.duration_given) o.duration_s = 0;  // until SIGINT
  if (!o.server && o.duration_s <= 0) o.duration_s = 10;
  // Requests in flight and their answers not yet acknowledged then always fit both send
  // buffers (--buffer, 256 KB by default), so neither side ever has to hold back a whole request or
  // response.
  const std::uint32_t buffer = common.buffer != 0 ? common.buffer : tcp::TcpConfig{}.send_buffer;
  if (static_cast<std::uint64_t>(o.pipeline) * o.size > buffer / 2) {
    std::fprintf(stderr,
                 "sluice-perf: --pipeline x --size must be at most %u bytes (half of --buffer)\n",
                 buffer / 2);
    return 2;
  }

  // One source address has kEphemeralPorts ports to one server port: a client that wants
  // more connections than its addresses have ports cannot open them all (each engine
  // takes the ports that hash to it, about an equal share).
  if (!o.server) {
    const std::uint64_t ports = std::uint64_t{common.addr_count} * engine::Engine::kEphemeralPorts;
    if (o.connections > ports) {
      const std::uint64_t need =
          (o.connections + engine::Engine::kEphemeralPorts - 1) / engine::Engine::kEphemeralPorts;
      std::fprintf(stderr,
                   "sluice-perf: %u connections to one server port need %llu source addresses "
                   "(%u ephemeral ports each); add --src-count %llu\n",
                   o.connections, static_cast<unsigned long long>(need),
                   engine::Engine::kEphemeralPorts, static_cast<unsigned long long>(need));
      return 2;
    }
  }
  // Connection limits per engine. The client knows its count. The server holds up to
  // --connections in total (default kServerDefault), plus a quarter for an uneven spread
  // over several engines, plus room for TIME-WAIT turnover and connections being closed.
  static constexpr std::uint32_t kServerDefault = 200000;
  tcp::TcpConfig tcfg;
  const std::uint32_t engines_hint = std::max(1u, rte_lcore_count());
  const std::uint32_t total = o.server && !o.connections_given ? kServerDefault : o.connections;
  std::uint32_t per_engine = total / engines_hint + 1;
  if (engines_hint > 1) per_engine += per_engine / 4;
  tcfg.max_connections = std::max<std::uint32_t>(tcfg.max_connections, per_engine + 1024);
  if (!rt->configure(common, tcfg).ok()) return 2;
  g_port = rt->engine(0).config().port;
  const std::uint16_t engines = rt->engine_count();

  std::vector<std::unique_ptr<Worker>> workers;
  for (std::uint16_t i = 0; i < engines; ++i) {
    std::uint32_t slots;
    if (o.server) {
      slots = tcfg.max_connections;
    } else {
      slots = o.connections / engines + (i < o.connections % engines ? 1 : 0);
    }
    workers.push_back(std::make_unique<Worker>(rt->engine(i), o, slots, engines));
  }
  if (o.server) {
    auto r = rt->setup([&](engine::Engine& e) -> Result<void, Errc> {
      Worker& w = *workers[e.index()];
      auto l = e.tcp().listen(wire::Ipv4Addr{}, o.port, 4096, &w);
      if (!l.ok()) return Err{l.error()};
      w.set_listener(*l);
      return {};
    });
    if (!r.ok()) {
      std::fprintf(stderr, "sluice-perf: listen on %u: %s\n", o.port,
                   std::string(to_string(r.error())).c_str());
      return 2;
    }
    std::fprintf(stderr, "sluice-perf: server listening on port %u\n", o.port);
  }

  Reporter rep;
  rep.prev.assign(engines, {});
  rep.last_tsc = rte_rdtsc();
  rep.baseline_mbufs = mbufs_in_use();
  rep.baseline_rss = resident_bytes();
  const std::uint64_t port_drops_start = port_drops();
  rep.prev_port_drops = port_drops_start;

  api::Runtime::Hooks hooks;
  hooks.done = [&](engine::Engine& e) {
    if (!workers[e.index()]->tick()) return false;
    for (const auto& w : workers) {
      if (!w->finished()) return false;
    }
    return true;
  };
  hooks.on_stop = [&](engine::Engine& e) { workers[e.index()]->begin_stop(); };
  hooks.every_second = [&] { every_second(workers, rep, o); };
  // On SIGINT each Worker ends its connections itself, giving up only when they stop
  // closing (kStopGrace without progress): the runtime's own drain limit is only a backstop.
  const int rc = rt->run(hooks, std::chrono::minutes(10));
  summary(workers, rep, o, port_drops() - port_drops_start);
  if (o.stats) rt->print_counters();
  if (o.keep_port) {
    std::fprintf(stderr, "sluice-perf: finished; port kept open until SIGINT or SIGTERM\n");
    rt->wait_for_signal();
  }
  return rc;
}
