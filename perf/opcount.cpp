// sluice-opcount: instructions per operation on the server side, for callgrind (issue 5).
//
// Two TcpStacks in one process — a client and a server — joined by an in-memory link on
// a ManualClock, with mbufs from an EAL started with --no-huge. Every run is the same run:
// fixed ISN secrets, a fixed clock step, no randomness anywhere, so the instruction counts
// callgrind reports are reproducible to the instruction (perf/callgrind runs this).
//
// What is counted is what one engine does for the server (lib/engine/engine.cpp, poll()):
//   1. reclaim the mbufs the "NIC" sent in the previous iteration (a PMD frees them in
//      rte_eth_tx_burst),
//   2. for a burst of at most 32 frames: lib/wire parse_frame_into (Ethernet, IPv4, TCP,
//      both checksums verified in software, as over vhost-user) and TcpStack::input — the
//      state machine and the application's callback, which reads and answers,
//   3. TcpStack::advance and flush: the datagrams built, framed with an Ethernet header
//      and put in the TX batch.
// That is one call of counted_poll(), bracketed by callgrind client requests
// (valgrind/callgrind.h, when the build found it) and also a function of its own, so that
// `valgrind --tool=callgrind --toggle-collect=sluice_opcount_counted_poll` counts the same
// instructions without the header. Not counted: the client, the link (copying a datagram
// into a fresh mbuf behind an Ethernet header is the driver's and the wire's work), setup
// and the warm-up operations.
//
// Workloads (--kind), each warmed up first, then --ops operations measured:
//   data  one connection; the client streams, the server consumes (zero copy) and ACKs.
//         Operation: one data segment (1448 bytes of payload) received by the server.
//   rr    --connections persistent connections (default 64, as rr64), one 1-byte request
//         in flight on each; the server reads it and sends it back. Operation: one
//         transaction.
//   crr   --connections parallel loops of connect, 1-byte request, response, close; the
//         server closes first, as sluice-perf's does, so TIME-WAIT stays on the server.
//         Client ports cycle over --ports ports (default 1024), so after the warm-up
//         every SYN finds a TIME-WAIT record and reuses it (RFC 6191) — the steady state
//         of a long crr run, where 28,000 ephemeral ports are reused many times over
//         within the 60 s of TIME-WAIT. Operation: one connection, SYN to TIME-WAIT.
// sluice-perf's 16-byte stream header is left out: it is per connection and small.
//
// Output: one line per run, `kind=... ops=N ...` with what the server saw (segments in
// and out, data segments in), and the counters that prove the run clean (no
// retransmission, no drop); exit status 1 if it was not.
//
// Usage: sluice-opcount [--kind data|rr|crr] [--ops N] [--warmup N] [--connections N]
//                       [--ports N] [--trace N]
#include <getopt.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "tcp/tcp_stack.hpp"
#include "time/manual_clock.hpp"
#include "wire/frame.hpp"
#include "wire/ipv4_addr.hpp"

#ifdef SLUICE_HAVE_CALLGRIND_H
#include <valgrind/callgrind.h>
#define SLUICE_COLLECT_TOGGLE() CALLGRIND_TOGGLE_COLLECT
#define SLUICE_RUNNING_ON_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#else
#define SLUICE_COLLECT_TOGGLE() \
  do {                          \
  } while (0)
#define SLUICE_RUNNING_ON_VALGRIND() false
#endif

/// The counted region as a function of its own, so that callgrind's
/// --toggle-collect=sluice_opcount_counted_poll counts it without the header: extern "C"
/// and never inlined, its name is stable. bench is a Bench*.
extern "C" [[gnu::noinline]] void sluice_opcount_counted_poll(void* bench) noexcept;

namespace {

using namespace sluice;
using namespace std::chrono_literals;
using tcp::Tcb;

constexpr wire::Ipv4Addr kServerIp = wire::Ipv4Addr::from_octets(198, 18, 0, 1);
constexpr wire::Ipv4Addr kClientIp = wire::Ipv4Addr::from_octets(198, 18, 0, 2);
constexpr std::uint16_t kServerPort = 5201;
constexpr std::uint16_t kFirstClientPort = 32768;
constexpr std::size_t kRxBurst = 32;  // the engine's rte_eth_rx_burst size
constexpr std::uint32_t kStreamChunk = 64 * 1024;
/// Time between two iterations of the loop. Small enough that no delayed-ACK (40 ms) or
/// retransmission timer fires in a loaded run; large enough that a client port comes back
/// more than a millisecond after its last use, so its SYN carries a newer timestamp than
/// the TIME-WAIT record holds (RFC 6191).
constexpr time::Duration kStep = 20us;

enum class Kind : std::uint8_t { Data, Rr, Crr };

const char* to_string(Kind k) {
  switch (k) {
    case Kind::Data: return "data";
    case Kind::Rr: return "rr";
    case Kind::Crr: return "crr";
  }
  return "?";
}

struct Options {
  Kind kind = Kind::Rr;
  std::uint64_t ops = 2000;
  std::uint64_t warmup = 0;  // 0: the kind's default
  std::uint32_t connections = 64;
  std::uint32_t ports = 1024;
  std::uint32_t trace = 0;  // frames of the measured run to print, both directions
};

// ----------------------------------------------------------------------- the "NIC"

/// A frame the link carries: one single-segment mbuf, Ethernet header first.
using Frame = rte_mbuf*;

/// Copies the datagram chain `m` (IPv4 header first) into a fresh mbuf behind an Ethernet
/// header, as a sending NIC's DMA and a receiving NIC's DMA would together. nullptr if
/// the pool is empty.
Frame to_frame(rte_mempool* pool, const rte_mbuf* m) noexcept {
  rte_mbuf* f = rte_pktmbuf_alloc(pool);
  if (f == nullptr) return nullptr;
  const std::uint32_t len = 14 + rte_pktmbuf_pkt_len(m);
  auto* d = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(f, static_cast<std::uint16_t>(len)));
  if (d == nullptr) {
    rte_pktmbuf_free(f);
    return nullptr;
  }
  static constexpr std::array<std::uint8_t, 14> kEth = {0x02, 0, 0, 0, 0,    0x01, 0x02,
                                                        0,    0, 0, 0, 0x02, 0x08, 0x00};
  std::memcpy(d, kEth.data(), kEth.size());
  d += kEth.size();
  for (const rte_mbuf* s = m; s != nullptr; s = s->next) {
    std::memcpy(d, rte_pktmbuf_mtod(s, const std::uint8_t*), s->data_len);
    d += s->data_len;
  }
  return f;
}

/// One line for a frame (Ethernet header first): direction, flags, seq, ack, payload.
void trace_frame(const char* dir, Frame f, std::uint32_t payload) {
  const auto* p = rte_pktmbuf_mtod(f, const std::uint8_t*) + 14;
  const std::uint8_t* th = p + std::size_t{p[0] & 0x0fu} * 4;
  const auto be32 = [](const std::uint8_t* b) {
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
           b[3];
  };
  static constexpr char kNames[] = "FSRPAUEC";
  char flags[9] = {};
  std::size_t k = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    if ((th[13] >> i) & 1u) flags[k++] = kNames[i];
  }
  std::printf("  %s %5u>%-5u %-4s seq %10u ack %10u len %u\n", dir,
              (std::uint32_t{th[0]} << 8) | th[1], (std::uint32_t{th[2]} << 8) | th[3], flags,
              be32(th + 4), be32(th + 8), payload);
}

/// TCP payload bytes of a frame (Ethernet header first; lengths from the headers).
std::uint32_t payload_of(Frame f) noexcept {
  const auto* p = rte_pktmbuf_mtod(f, const std::uint8_t*) + 14;
  const std::uint32_t total = (std::uint32_t{p[2]} << 8) | p[3];
  const std::uint32_t ihl = (p[0] & 0x0fu) * 4u;
  const std::uint32_t doff = (p[ihl + 12] >> 4) * 4u;
  return total - ihl - doff;
}

// ----------------------------------------------------------------------- applications

/// The server: what sluice-perf's server does per mode, less its stream header.
class ServerApp final : public tcp::ListenHandler, public tcp::TcpHandler {
 public:
  explicit ServerApp(Kind kind) : kind_(kind) {}

  void on_acceptable(tcp::Listener& l) noexcept override {
    while (Tcb* t = l.accept()) {
      t->set_no_delay(true);
      t->set_handler(this);  // delivers what already arrived
    }
  }
  void on_data(Tcb& t) noexcept override {
    if (kind_ == Kind::Data) {
      t.consume(t.readable());
      return;
    }
    // Echo each 1-byte request; crr: one transaction, then we close first.
    while (t.readable() >= 1 && t.send_space() >= 1) {
      std::uint8_t b = 0;
      t.read(std::span<std::uint8_t>(&b, 1));
      t.send(std::span<const std::uint8_t>(&b, 1));
      ++transactions;
      if (kind_ == Kind::Crr) {
        t.consume(t.readable());
        t.close();
        return;
      }
    }
  }
  void on_peer_closed(Tcb& t) noexcept override {
    t.consume(t.readable());
    t.close();
  }
  void on_closed(Tcb&, tcp::CloseReason r) noexcept override {
    (r == tcp::CloseReason::Normal ? closed_normally : closed_otherwise)++;
  }

  std::uint64_t transactions = 0;
  std::uint64_t closed_normally = 0;
  std::uint64_t closed_otherwise = 0;

 private:
  Kind kind_;
};

/// The client: keeps the server busy. Not counted.
class ClientApp final : public tcp::TcpHandler {
 public:
  ClientApp(Kind kind, std::uint32_t ports) : kind_(kind), ports_(ports), pattern_(kStreamChunk) {
    for (std::size_t i = 0; i < pattern_.size(); ++i) {
      pattern_[i] = static_cast<std::uint8_t>(i * 7);
    }
  }

  void on_connected(Tcb& t) noexcept override {
    if (kind_ == Kind::Data) {
      stream(t);
    } else {
      request(t);
    }
  }
  void on_data(Tcb& t) noexcept override {
    if (kind_ == Kind::Data) {
      t.consume(t.readable());
      return;
    }
    while (t.readable() >= 1) {
      std::uint8_t b = 0;
      t.read(std::span<std::uint8_t>(&b, 1));
      ++responses;
      if (kind_ == Kind::Rr && !stopping) request(t);
    }
  }
  void on_writable(Tcb& t) noexcept override {
    if (kind_ == Kind::Data && !stopping) stream(t);
  }
  void on_peer_closed(Tcb& t) noexcept override {
    on_data(t);
    t.close();
  }
  void on_closed(Tcb&, tcp::CloseReason r) noexcept override {
    (r == tcp::CloseReason::Normal ? closed_normally : closed_otherwise)++;
    if (kind_ == Kind::Crr && !stopping) ++to_open;
  }

  /// The next client port (crr cycles through `ports_` of them).
  std::uint16_t next_port() noexcept {
    const auto p = static_cast<std::uint16_t>(kFirstClientPort + next_ % ports_);
    ++next_;
    return p;
  }

  std::uint64_t responses = 0;
  std::uint64_t closed_normally = 0;
  std::uint64_t closed_otherwise = 0;
  std::uint32_t to_open = 0;  // crr: connections to open at the next iteration
  bool stopping = false;

 private:
  void request(Tcb& t) noexcept {
    const std::uint8_t b = 'q';
    t.send(std::span<const std::uint8_t>(&b, 1));
  }
  void stream(Tcb& t) noexcept {
    while (t.send(std::span<const std::uint8_t>(pattern_.data(), pattern_.size())) ==
           pattern_.size()) {
    }
  }

  Kind kind_;
  std::uint32_t ports_;
  std::uint64_t next_ = 0;
  std::vector<std::uint8_t> pattern_;
};

// ----------------------------------------------------------------------- the bench

class Bench {
 public:
  Bench(const Options& o, rte_mempool* pool, rte_mempool* clone_pool)
      : o_(o),
        pool_(pool),
        clock_(time::Instant{} + std::chrono::hours(1)),
        server_app_(o.kind),
        client_app_(o.kind, o.ports) {
    tcp::StackResources res;
    res.pool = pool;
    res.clone_pool = clone_pool;
    res.link_headroom = 14;
    // Fixed secrets: the same ISNs, so the same segments, every run.
    for (std::size_t i = 0; i < res.secret.size(); ++i)
      res.secret[i] = static_cast<std::uint8_t>(i + 1);
    tcp::TcpConfig cfg;  // the defaults, as sluice-perf's
    server_ = std::make_unique<tcp::TcpStack>(cfg, res, tcp::TxSink{&Bench::server_sink, this},
                                              clock_.now());
    for (auto& b : res.secret) b = static_cast<std::uint8_t>(b + 0x40);
    client_ = std::make_unique<tcp::TcpStack>(cfg, res, tcp::TxSink{&Bench::client_sink, this},
                                              clock_.now());
    server_tx_.reserve(4096);
    to_client_.reserve(4096);
    listening_ = server_->listen(kServerIp, kServerPort, 1024, &server_app_).ok();
  }

  ~Bench() {
    client_.reset();
    server_.reset();
    for (Frame f : to_server_) rte_pktmbuf_free(f);
    for (Frame f : to_client_) rte_pktmbuf_free(f);
    for (rte_mbuf* m : server_tx_) rte_pktmbuf_free(m);
    for (std::size_t i = 0; i < burst_n_; ++i) rte_pktmbuf_free(burst_[i]);
  }
  Bench(const Bench&) = delete;
  Bench& operator=(const Bench&) = delete;

  /// Runs the warm-up, then the measured operations. Returns the process's exit status.
  int run() {
    if (!listening_) return fail("listen failed");
    const std::uint64_t warmup =
        o_.warmup != 0 ? o_.warmup : (o_.kind == Kind::Crr ? 2 * o_.ports : 1000);
    open_initial();
    // Warm-up: pools, caches, the connection table, cwnd (data), TIME-WAIT records (crr).
    if (!run_until(warmup, false)) return fail("warm-up did not finish");
    const tcp::TcpCounters before = server_->counters();
    const std::uint64_t data_before = server_data_segs_;
    const std::uint64_t in_before = server_frames_in_;
    const std::uint64_t polls_before = polls_;
    const std::uint64_t ops_before = ops();
    tracing_ = o_.trace;
    if (!run_until(ops_before + o_.ops, true)) return fail("measured run did not finish");
    const std::uint64_t done = ops() - ops_before;
    const tcp::TcpCounters& after = server_->counters();
    std::printf(
        "kind=%s ops=%llu connections=%u server_segs_in=%llu server_data_segs_in=%llu "
        "server_segs_out=%llu server_polls=%llu time_wait_reused=%llu passive_opens=%llu "
        "callgrind_header=%s\n",
        to_string(o_.kind), static_cast<unsigned long long>(done),
        o_.kind == Kind::Data ? 1u : o_.connections,
        static_cast<unsigned long long>(server_frames_in_ - in_before),
        static_cast<unsigned long long>(server_data_segs_ - data_before),
        static_cast<unsigned long long>(after.segs_out - before.segs_out),
        static_cast<unsigned long long>(polls_ - polls_before),
        static_cast<unsigned long long>(after.time_wait_reused - before.time_wait_reused),
        static_cast<unsigned long long>(after.passive_opens - before.passive_opens),
#ifdef SLUICE_HAVE_CALLGRIND_H
        "yes"
#else
        "no"
#endif
    );
    return check_clean();
  }

  /// One engine iteration for the server: the instructions perf/callgrind counts.
  void counted_poll() noexcept {
    // 1. What the "NIC" sent last time is done with (a PMD frees it in tx_burst).
    for (rte_mbuf* m : server_tx_) rte_pktmbuf_free(m);
    server_tx_.clear();
    // 2. The receive burst: parse and validate, then TCP (which calls the application).
    for (std::size_t i = 0; i < burst_n_; ++i) {
      rte_mbuf* m = burst_[i];
      const std::span<const std::uint8_t> bytes(rte_pktmbuf_mtod(m, const std::uint8_t*),
                                                rte_pktmbuf_data_len(m));
      if (!wire::parse_frame_into(bytes, pf_).ok() || pf_.kind != wire::FrameKind::Ipv4Tcp) {
        ++server_bad_frames_;
        rte_pktmbuf_free(m);
        continue;
      }
      server_->input(m, pf_.ip, pf_.tcp, pf_.payload_offset, clock_.now());
    }
    burst_n_ = 0;
    // 3. Timers, then what TCP built goes out (server_sink adds the Ethernet header).
    server_->advance(clock_.now());
    server_->flush();
  }

 private:
  [[nodiscard]] std::uint64_t ops() const {
    switch (o_.kind) {
      case Kind::Data: return server_data_segs_;
      case Kind::Rr: return server_app_.transactions;
      case Kind::Crr: return server_app_.closed_normally;
    }
    return 0;
  }

  int fail(const char* what) {
    std::fprintf(stderr, "sluice-opcount: %s (ops %llu)\n", what,
                 static_cast<unsigned long long>(ops()));
    check_clean();
    return 1;
  }

  /// Prints any retransmission, drop or error of either side; 1 if there was one.
  int check_clean() {
    int rc = 0;
    const std::array<std::pair<const char*, const tcp::TcpStack*>, 2> sides = {
        {{"server", server_.get()}, {"client", client_.get()}}};
    for (const auto& [name, s] : sides) {
      const tcp::TcpCounters& c = s->counters();
      if (c.retrans_segs != 0 || c.rto_expired != 0 || c.syn_retrans != 0 ||
          c.synack_retrans != 0) {
        std::fprintf(stderr, "sluice-opcount: %s retransmitted (%llu segments, %llu RTOs)\n", name,
                     static_cast<unsigned long long>(c.retrans_segs),
                     static_cast<unsigned long long>(c.rto_expired));
        rc = 1;
      }
      for (std::size_t i = 0; i < tcp::kTcpDropCount; ++i) {
        if (c.drops[i] != 0) {
          std::fprintf(stderr, "sluice-opcount: %s dropped %llu segments: %s\n", name,
                       static_cast<unsigned long long>(c.drops[i]),
                       std::string(tcp::to_string(static_cast<tcp::TcpDrop>(i))).c_str());
          rc = 1;
        }
      }
    }
    if (server_bad_frames_ + no_mbuf_ + server_app_.closed_otherwise +
            client_app_.closed_otherwise !=
        0) {
      std::fprintf(stderr,
                   "sluice-opcount: %llu frames the server could not parse, %llu mbufs missing, "
                   "%llu + %llu connections not closed normally\n",
                   static_cast<unsigned long long>(server_bad_frames_),
                   static_cast<unsigned long long>(no_mbuf_),
                   static_cast<unsigned long long>(server_app_.closed_otherwise),
                   static_cast<unsigned long long>(client_app_.closed_otherwise));
      rc = 1;
    }
    return rc;
  }

  void open_initial() {
    const std::uint32_t n = o_.kind == Kind::Data ? 1 : o_.connections;
    for (std::uint32_t i = 0; i < n; ++i) open_one();
    client_->flush();
  }

  void open_one() {
    const tcp::FourTuple t{kClientIp, kServerIp, client_app_.next_port(), kServerPort};
    if (!client_->connect(t, &client_app_).ok()) ++connect_fails_;
  }

  /// Iterations until ops() reaches target. Measured iterations bracket the server's.
  bool run_until(std::uint64_t target, bool measured) {
    std::uint64_t idle = 0;
    while (ops() < target) {
      clock_.advance(kStep);
      // The client: its frames in, its timers, new connections (crr), its frames out.
      const bool busy = !to_client_.empty() || !to_server_.empty();
      client_poll();
      // The server: one engine iteration per receive burst.
      do {
        // The PMD's receive burst (not counted).
        burst_n_ = std::min(kRxBurst, to_server_.size());
        std::copy_n(to_server_.begin(), burst_n_, burst_.begin());
        to_server_.erase(to_server_.begin(),
                         to_server_.begin() + static_cast<std::ptrdiff_t>(burst_n_));
        if (measured) {
          SLUICE_COLLECT_TOGGLE();
          sluice_opcount_counted_poll(this);
          SLUICE_COLLECT_TOGGLE();
        } else {
          counted_poll();
        }
        ++polls_;
        deliver_server_tx();
      } while (!to_server_.empty());
      idle = busy ? 0 : idle + 1;
      if (idle > 100000 || connect_fails_ != 0) return false;  // stuck: 2 s of nothing
    }
    return true;
  }

  void client_poll() {
    for (Frame f : to_client_) {
      const std::span<const std::uint8_t> bytes(rte_pktmbuf_mtod(f, const std::uint8_t*),
                                                rte_pktmbuf_data_len(f));
      if (!wire::parse_frame_into(bytes, cpf_).ok() || cpf_.kind != wire::FrameKind::Ipv4Tcp) {
        rte_pktmbuf_free(f);
        continue;
      }
      client_->input(f, cpf_.ip, cpf_.tcp, cpf_.payload_offset, clock_.now());
    }
    to_client_.clear();
    client_->advance(clock_.now());
    for (; client_app_.to_open > 0; --client_app_.to_open) open_one();
    client_->flush();
  }

  /// The link: the server's frames, copied for the client (not counted).
  void deliver_server_tx() {
    for (rte_mbuf* m : server_tx_) {
      rte_mbuf* copy = rte_pktmbuf_alloc(pool_);
      if (copy == nullptr) {
        ++no_mbuf_;
        continue;
      }
      const std::uint32_t len = rte_pktmbuf_pkt_len(m);
      auto* d = reinterpret_cast<std::uint8_t*>(
          rte_pktmbuf_append(copy, static_cast<std::uint16_t>(len)));
      if (d == nullptr) {
        ++no_mbuf_;
        rte_pktmbuf_free(copy);
        continue;
      }
      for (const rte_mbuf* s = m; s != nullptr; s = s->next) {
        std::memcpy(d, rte_pktmbuf_mtod(s, const std::uint8_t*), s->data_len);
        d += s->data_len;
      }
      if (tracing_ > 0) {
        --tracing_;
        trace_frame("s>c", copy, payload_of(copy));
      }
      to_client_.push_back(copy);
    }
  }

  /// Server's TxSink (counted): the engine's framing — an Ethernet header in the
  /// headroom TCP left — then the TX batch.
  static void server_sink(void* ctx, rte_mbuf** pkts, std::uint16_t n) noexcept {
    auto* self = static_cast<Bench*>(ctx);
    static constexpr std::array<std::uint8_t, 14> kEth = {0x02, 0, 0, 0, 0,    0x02, 0x02,
                                                          0,    0, 0, 0, 0x01, 0x08, 0x00};
    for (std::uint16_t i = 0; i < n; ++i) {
      char* h = rte_pktmbuf_prepend(pkts[i], kEth.size());
      if (h == nullptr) {
        ++self->no_mbuf_;
        rte_pktmbuf_free(pkts[i]);
        continue;
      }
      std::memcpy(h, kEth.data(), kEth.size());
      self->server_tx_.push_back(pkts[i]);
    }
  }

  /// Client's TxSink (not counted): straight onto the link.
  static void client_sink(void* ctx, rte_mbuf** pkts, std::uint16_t n) noexcept {
    auto* self = static_cast<Bench*>(ctx);
    for (std::uint16_t i = 0; i < n; ++i) {
      Frame f = to_frame(self->pool_, pkts[i]);
      rte_pktmbuf_free(pkts[i]);
      if (f == nullptr) {
        ++self->no_mbuf_;
        continue;
      }
      ++self->server_frames_in_;
      const std::uint32_t payload = payload_of(f);
      if (payload > 0) ++self->server_data_segs_;
      if (self->tracing_ > 0) {
        --self->tracing_;
        trace_frame("c>s", f, payload);
      }
      self->to_server_.push_back(f);
    }
  }

  Options o_;
  rte_mempool* pool_;
  time::ManualClock clock_;
  ServerApp server_app_;
  ClientApp client_app_;
  std::unique_ptr<tcp::TcpStack> server_;
  std::unique_ptr<tcp::TcpStack> client_;
  wire::ParsedFrame pf_;
  wire::ParsedFrame cpf_;
  std::deque<Frame> to_server_;
  std::array<Frame, kRxBurst> burst_{};
  std::size_t burst_n_ = 0;
  std::vector<Frame> to_client_;
  std::vector<rte_mbuf*> server_tx_;
  std::uint64_t server_frames_in_ = 0;
  std::uint64_t server_data_segs_ = 0;
  std::uint64_t server_bad_frames_ = 0;
  std::uint64_t no_mbuf_ = 0;
  std::uint64_t connect_fails_ = 0;
  std::uint64_t polls_ = 0;
  std::uint32_t tracing_ = 0;  // frames still to print
  bool listening_ = false;
};

}  // namespace

namespace {

void usage(const char* prog) {
  std::printf(
      "Usage: %s [--kind data|rr|crr] [--ops N] [--warmup N] [--connections N] [--ports N]\n"
      "         [--trace N]\n"
      "Runs a client and a server TcpStack in one process on a manual clock and counts, under\n"
      "callgrind (perf/callgrind), the server's instructions per operation: per data segment\n"
      "received (data), per transaction (rr), per connection (crr). Deterministic.\n"
      "  --ops N          operations measured (default 2000)\n"
      "  --warmup N       operations before measuring (default 1000; crr: 2 x --ports)\n"
      "  --connections N  rr: persistent connections; crr: parallel loops (default 64)\n"
      "  --ports N        crr: client ports cycled through (default 1024)\n"
      "  --trace N        print the first N frames of the measured run (not counted)\n"
      "callgrind client requests: %s (else count with --toggle-collect=%s)\n",
      prog,
#ifdef SLUICE_HAVE_CALLGRIND_H
      "yes",
#else
      "no",
#endif
      "sluice_opcount_counted_poll");
}

bool parse_u64(const char* s, std::uint64_t lo, std::uint64_t hi, std::uint64_t& v) {
  char* end = nullptr;
  const unsigned long long x = std::strtoull(s, &end, 10);
  if (*s == '\0' || *end != '\0' || x < lo || x > hi) return false;
  v = x;
  return true;
}

}  // namespace

extern "C" [[gnu::noinline]] void sluice_opcount_counted_poll(void* bench) noexcept {
  static_cast<Bench*>(bench)->counted_poll();
}

int main(int argc, char** argv) {
  Options o;
  static const option kLong[] = {
      {"kind", required_argument, nullptr, 'k'},   {"ops", required_argument, nullptr, 'n'},
      {"warmup", required_argument, nullptr, 'w'}, {"connections", required_argument, nullptr, 'c'},
      {"ports", required_argument, nullptr, 'p'},  {"trace", required_argument, nullptr, 't'},
      {"help", no_argument, nullptr, 'h'},         {nullptr, 0, nullptr, 0}};
  int ch = 0;
  std::uint64_t v = 0;
  const auto bad = [&](const char* what) {
    std::fprintf(stderr, "sluice-opcount: bad %s: %s\n", what, optarg);
    return 2;
  };
  while ((ch = getopt_long(argc, argv, "h", kLong, nullptr)) != -1) {
    switch (ch) {
      case 'k':
        if (std::strcmp(optarg, "data") == 0) {
          o.kind = Kind::Data;
        } else if (std::strcmp(optarg, "rr") == 0) {
          o.kind = Kind::Rr;
        } else if (std::strcmp(optarg, "crr") == 0) {
          o.kind = Kind::Crr;
        } else {
          std::fprintf(stderr, "--kind wants data, rr or crr, not %s\n", optarg);
          return 2;
        }
        break;
      case 'n':
        if (!parse_u64(optarg, 1, 100000000, o.ops)) return bad("--ops");
        break;
      case 'w':
        if (!parse_u64(optarg, 1, 100000000, o.warmup)) return bad("--warmup");
        break;
      case 'c':
        if (!parse_u64(optarg, 1, 4096, v)) return bad("--connections");
        o.connections = static_cast<std::uint32_t>(v);
        break;
      case 'p':
        if (!parse_u64(optarg, 1, 28000, v)) return bad("--ports");
        o.ports = static_cast<std::uint32_t>(v);
        break;
      case 't':
        if (!parse_u64(optarg, 1, 1000000, v)) return bad("--trace");
        o.trace = static_cast<std::uint32_t>(v);
        break;
      case 'h': usage(argv[0]); return 0;
      default: usage(argv[0]); return 2;
    }
  }
  if (o.kind == Kind::Crr && o.ports < 2 * o.connections) {
    std::fprintf(stderr, "--ports must be at least twice --connections\n");
    return 2;
  }

  // EAL without hugepages, PCI or shared config: mbufs only. Its runtime directory is
  // removed at the end (EAL leaves it behind even with --no-shconf).
  const std::string prefix = "--file-prefix=sluice-opcount-" + std::to_string(::getpid());
  std::vector<std::string> args = {"sluice-opcount",
                                   "--no-huge",
                                   "-m",
                                   "256",
                                   "--no-pci",
                                   "--no-shconf",
                                   prefix,
                                   "-l",
                                   "0",
                                   "--no-telemetry",
                                   "--log-level=lib.eal:error"};
  std::vector<char*> eal_argv;
  eal_argv.reserve(args.size() + 1);
  for (auto& a : args) eal_argv.push_back(a.data());
  eal_argv.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(args.size()), eal_argv.data()) < 0) {
    std::fprintf(stderr, "sluice-opcount: EAL init failed: %s\n", rte_strerror(rte_errno));
    return 2;
  }
  const std::string runtime_dir = rte_eal_get_runtime_dir();
  int rc = 0;
  {
    rte_mempool* pool = rte_pktmbuf_pool_create("opcount_pkts", 16383, 256, 0,
                                                RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    rte_mempool* clones =
        rte_pktmbuf_pool_create("opcount_clones", 16383, 256, 0, 0, SOCKET_ID_ANY);
    if (pool == nullptr || clones == nullptr) {
      std::fprintf(stderr, "sluice-opcount: mempool: %s\n", rte_strerror(rte_errno));
      rc = 2;
    } else {
      if (SLUICE_RUNNING_ON_VALGRIND()) std::fprintf(stderr, "sluice-opcount: under valgrind\n");
      auto bench = std::make_unique<Bench>(o, pool, clones);
      rc = bench->run();
      bench.reset();
    }
    rte_mempool_free(clones);
    rte_mempool_free(pool);
  }
  rte_eal_cleanup();
  std::error_code ec;
  if (runtime_dir.find("sluice-opcount-") != std::string::npos) {
    std::filesystem::remove_all(runtime_dir, ec);
  }
  return rc;
}
