// Randomized two-endpoint tests (issue 3, "Randomized tests"): for many seeds, a random
// link (loss 0-20 %, reordering, duplication, corruption, delay 0.1-50 ms, jitter,
// bandwidth with a drop-tail queue) and random TCP options, A and B exchange random
// amounts of data (0 bytes to a few hundred KB each way) with a half-close in the middle:
// one side sends everything and shuts its write side down while the other keeps sending
// (half of its data only after the FIN has arrived), then closes.
//
// Asserted per seed: byte-exact delivery both ways; both ends closed normally, each in
// CLOSED or TIME-WAIT, and TIME-WAIT gone after 2 MSL; done within a simulated-time
// bound; the InvariantChecker (sim_network.hpp) silent after every event; the network
// saw nothing malformed; every mbuf back in its pool. A failing seed prints itself and
// the path of its pcap; rerun it alone with SLUICE_SIM_SEED=<seed>.
//
// Seeds: 1000 by default; SLUICE_SIM_SEEDS=N or --seeds=N for more, SLUICE_SIM_FIRST_SEED
// to start elsewhere.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "sim_network.hpp"
#include "tcp/listener.hpp"

namespace sluice::sim {
namespace {

using tcp::TcpState;

constexpr std::uint16_t kPortA = 40000;
constexpr std::uint16_t kPortB = 80;
/// Simulated time a seed may take, handshake to the end of TIME-WAIT. Generous: with 20 %
/// loss both ways the RTO climbs towards its 60 s cap (RFC 7323 echoes the timestamp of
/// the segment that filled a hole, so a lost ACK makes the next RTT sample include the
/// whole timeout), and a few hundred KB then take many simulated minutes.
constexpr time::Duration kRunBound = std::chrono::hours(2);

// ------------------------------------------------------------------ random choices

class Dice {
 public:
  explicit Dice(std::uint64_t seed) : g_(seed * 0x9e3779b97f4a7c15ULL + 0x5bd1e995) {}
  /// Uniform in [lo, hi].
  std::uint64_t range(std::uint64_t lo, std::uint64_t hi) { return lo + g_() % (hi - lo + 1); }
  double real(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(g_() >> 11) * 0x1.0p-53;
  }
  bool chance(double p) { return real(0, 1) < p; }
  double log_real(double lo, double hi) { return std::exp(real(std::log(lo), std::log(hi))); }
  template <class T, std::size_t N>
  T pick(const T (&v)[N]) {
    return v[range(0, N - 1)];
  }

 private:
  std::mt19937_64 g_;
};

time::Duration us(double v) {
  return time::Duration{static_cast<std::int64_t>(v * 1000.0)};
}

struct Scenario {
  SimNetwork::Options net;
  std::size_t bytes[2] = {0, 0};  ///< what A sends, what B sends
  Side first_closer = Side::A;
  std::size_t hold_at = 0;  ///< the second closer sends this much before the FIN comes
  std::uint32_t chunk_max[2] = {0, 0};
  std::uint32_t read_chunk[2] = {0, 0};  ///< 0: read everything on on_data
  time::Duration read_interval[2] = {};
  bool no_delay[2] = {false, false};
};

LinkParams random_link(Dice& d, double base_delay_us) {
  LinkParams p;
  const double delay = d.chance(0.3) ? d.log_real(100, 50000) : base_delay_us;
  p.delay = us(delay);
  if (d.chance(0.5)) p.jitter = us(d.real(0, delay));
  if (d.chance(0.7)) {
    p.bandwidth_bps = static_cast<std::uint64_t>(d.log_real(1e6, 1e9));
    if (d.chance(0.5))
      p.queue_limit_bytes = static_cast<std::uint32_t>(d.range(16 * 1024, 512 * 1024));
  }
  p.loss = d.chance(0.25) ? 0.0 : d.real(0, 0.20);
  if (d.chance(0.5)) p.duplicate = d.real(0, 0.05);
  if (d.chance(0.5)) {
    p.reorder = d.real(0, 0.2);
    p.reorder_delay = us(d.real(100, 2 * delay + 1000));
  }
  if (d.chance(0.5)) p.corrupt = d.real(0, 0.03);
  return p;
}

tcp::TcpConfig random_config(Dice& d) {
  tcp::TcpConfig c = SimNetwork::default_config();
  c.sack = d.chance(0.75);
  c.timestamps = d.chance(0.75);
  c.window_scaling = d.chance(0.75);
  c.congestion =
      d.chance(0.5) ? tcp::CongestionAlgorithm::Cubic : tcp::CongestionAlgorithm::NewReno;
  const std::uint16_t mss[] = {536, 1000, 1460, 1460};
  c.mss = d.pick(mss);
  const std::uint32_t rbuf[] = {2920, 8192, 16384, 65535, 131072, 262144, 262144};
  c.recv_buffer = d.pick(rbuf);
  const std::uint32_t sbuf[] = {4096, 16384, 65536, 262144, 262144};
  c.send_buffer = d.pick(sbuf);
  const int delack_ms[] = {10, 40, 40, 200};
  c.delayed_ack = std::chrono::milliseconds(d.pick(delack_ms));
  return c;
}

std::size_t random_size(Dice& d) {
  const double r = d.real(0, 1);
  if (r < 0.10) return 0;
  if (r < 0.25) return d.range(1, 100);
  if (r < 0.50) return d.range(101, 20000);
  return d.range(20001, 400000);
}

Scenario make_scenario(std::uint64_t seed) {
  Dice d(seed);
  Scenario s;
  s.net.seed = seed;
  const double delay = d.log_real(100, 50000);
  s.net.a_to_b = random_link(d, delay);
  s.net.b_to_a = random_link(d, delay);
  s.net.config_a = random_config(d);
  s.net.config_b = random_config(d);
  for (int i = 0; i < 2; ++i) {
    s.bytes[i] = random_size(d);
    s.chunk_max[i] = static_cast<std::uint32_t>(d.log_real(64, 65536));
    if (d.chance(0.3)) {
      s.read_chunk[i] = static_cast<std::uint32_t>(d.range(512, 16384));
      s.read_interval[i] = us(d.real(1000, 50000));
    }
    s.no_delay[i] = d.chance(0.5);
  }
  s.first_closer = d.chance(0.5) ? Side::A : Side::B;
  const std::size_t second = s.bytes[idx(other(s.first_closer))];
  s.hold_at = second == 0 ? 0 : d.range(0, second);
  // Segmentation offload at either end: packets up to 64 KB that the "NIC" cuts, or that
  // arrive whole (large receive offload at the other end).
  const std::uint32_t tso_sizes[] = {0, 0, 8192, 65535 - 20 - 60};
  s.net.tso_a = d.pick(tso_sizes);
  s.net.tso_b = d.pick(tso_sizes);
  s.net.a_to_b.lro = d.chance(0.5);
  s.net.b_to_a.lro = d.chance(0.5);
  return s;
}

std::string describe(const LinkParams& p) {
  std::ostringstream o;
  o << "delay " << p.delay.count() / 1000 << "us jitter " << p.jitter.count() / 1000 << "us bw "
    << (p.bandwidth_bps == 0 ? std::string("inf")
                             : std::to_string(p.bandwidth_bps / 1000) + "kbit/s")
    << " queue " << p.queue_limit_bytes << " loss " << p.loss << " dup " << p.duplicate
    << " reorder " << p.reorder << "/" << p.reorder_delay.count() / 1000 << "us corrupt "
    << p.corrupt << (p.lro ? " lro" : "");
  return o.str();
}

std::string describe(const tcp::TcpConfig& c) {
  std::ostringstream o;
  o << "mss " << c.mss << " rbuf " << c.recv_buffer << " sbuf " << c.send_buffer
    << (c.sack ? " sack" : "") << (c.timestamps ? " ts" : "") << (c.window_scaling ? " ws" : "")
    << (c.congestion == tcp::CongestionAlgorithm::Cubic ? " cubic" : " newreno") << " delack "
    << c.delayed_ack.count() << "ms";
  return o.str();
}

// ------------------------------------------------------------------ the applications

/// One end's application: writes its data in random chunks, reads everything (at once or
/// at a limited rate), and closes as the scenario says.
class App : public tcp::TcpHandler {
 public:
  App(SimNetwork& net, Side side, const Scenario& sc)
      : net_(net),
        side_(side),
        first_closer_(sc.first_closer == side),
        chunk_max_(sc.chunk_max[idx(side)]),
        read_chunk_(sc.read_chunk[idx(side)]),
        read_interval_(sc.read_interval[idx(side)]),
        no_delay_(sc.no_delay[idx(side)]) {
    data_ = pattern(sc.bytes[idx(side)], net.seed() * 2 + idx(side));
    hold_at_ = first_closer_ ? data_.size() : sc.hold_at;
  }

  static std::vector<std::uint8_t> pattern(std::size_t n, std::uint64_t seed) {
    std::vector<std::uint8_t> v(n);
    std::mt19937_64 g(seed);
    for (std::size_t i = 0; i < n; i += 8) {
      const std::uint64_t x = g();
      for (std::size_t k = 0; k < 8 && i + k < n; ++k)
        v[i + k] = static_cast<std::uint8_t>(x >> (8 * k));
    }
    return v;
  }

  void attach(tcp::Tcb* t) {
    tcb_ = t;
    t->set_no_delay(no_delay_);
  }

  void on_connected(tcp::Tcb&) noexcept override { connected_ = true; }
  void on_data(tcp::Tcb& t) noexcept override {
    if (read_chunk_ == 0) read(t, ~0u);  // read from inside the callback, as apps do
  }
  void on_peer_closed(tcp::Tcb&) noexcept override {
    peer_closed_ = true;
    peer_closed_at_ = received_.size();
  }
  void on_closed(tcp::Tcb& t, tcp::CloseReason r) noexcept override {
    // The Tcb goes when this returns (tcp_handler.hpp): a slow reader takes the rest now.
    read(t, ~0u);
    closed_ = true;
    reason_ = r;
    tcb_ = nullptr;
    closed_state_ = net_.stack(side_).state_of(SimNetwork::tuple(side_, kPortA, kPortB));
    if (closed_state_ == TcpState::TimeWait) time_wait_from_ = net_.now();
  }

  /// Runs after every network event: reads, writes, closes.
  void pump() {
    if (tcb_ == nullptr) return;
    // Read.
    if (read_chunk_ != 0 && tcb_->readable() > 0) {
      if (net_.now() >= next_read_) {
        read(*tcb_, read_chunk_);
        next_read_ = net_.now() + read_interval_;
      }
      if (tcb_ != nullptr && tcb_->readable() > 0 && wake_at_ < next_read_) {
        wake_at_ = next_read_;
        net_.at(next_read_, [] {});  // the pump after that event reads again
      }
    }
    // Write: until the send buffer is full; the second closer holds back part of its data
    // until the peer's FIN has arrived.
    const std::size_t limit = peer_closed_ ? data_.size() : hold_at_;
    while (tcb_ != nullptr && sent_ < limit) {
      const std::size_t want = std::min<std::size_t>(limit - sent_, 1 + net_.rng()() % chunk_max_);
      const std::uint32_t n = tcb_->send(std::span<const std::uint8_t>(data_).subspan(sent_, want));
      sent_ += n;
      if (n < want) break;
    }
    if (tcb_ == nullptr || sent_ < data_.size()) return;
    const bool established =
        tcb_->state() != TcpState::SynSent && tcb_->state() != TcpState::SynReceived;
    if (first_closer_ && !shutdown_ && established) {
      shutdown_ = true;
      tcb_->shutdown();  // half-close: we keep reading
    }
    if (tcb_ != nullptr && peer_closed_ && tcb_->readable() == 0 && !close_called_ &&
        (shutdown_ || !first_closer_)) {
      close_called_ = true;
      tcb_->close();
    }
  }

  [[nodiscard]] const std::vector<std::uint8_t>& data() const { return data_; }
  [[nodiscard]] const std::vector<std::uint8_t>& received() const { return received_; }
  [[nodiscard]] bool closed() const { return closed_; }
  [[nodiscard]] tcp::CloseReason reason() const { return reason_; }
  [[nodiscard]] TcpState closed_state() const { return closed_state_; }
  [[nodiscard]] std::optional<time::Instant> time_wait_from() const { return time_wait_from_; }
  [[nodiscard]] std::size_t sent() const { return sent_; }
  [[nodiscard]] bool peer_closed() const { return peer_closed_; }
  [[nodiscard]] tcp::Tcb* tcb() const { return tcb_; }

 private:
  void read(tcp::Tcb& t, std::uint32_t budget) {
    std::uint8_t buf[16384];
    while (budget > 0 && t.readable() > 0) {
      const std::uint32_t want = std::min<std::uint32_t>(budget, sizeof buf);
      const std::uint32_t n = t.read(std::span<std::uint8_t>(buf, want));
      if (n == 0) break;
      received_.insert(received_.end(), buf, buf + n);
      budget -= n;
    }
  }

  SimNetwork& net_;
  Side side_;
  bool first_closer_;
  std::uint32_t chunk_max_;
  std::uint32_t read_chunk_;
  time::Duration read_interval_;
  bool no_delay_;
  std::vector<std::uint8_t> data_;
  std::size_t hold_at_ = 0;
  std::vector<std::uint8_t> received_;
  tcp::Tcb* tcb_ = nullptr;
  std::size_t sent_ = 0;
  std::size_t peer_closed_at_ = 0;
  time::Instant next_read_{};
  time::Instant wake_at_{};
  bool connected_ = false;
  bool peer_closed_ = false;
  bool shutdown_ = false;
  bool close_called_ = false;
  bool closed_ = false;
  tcp::CloseReason reason_ = tcp::CloseReason::Normal;
  TcpState closed_state_ = TcpState::Closed;
  std::optional<time::Instant> time_wait_from_;
};

class Acceptor : public tcp::ListenHandler {
 public:
  explicit Acceptor(App& app) : app_(app) {}
  void on_acceptable(tcp::Listener& l) noexcept override {
    while (tcp::Tcb* t = l.accept()) {
      if (accepted_++ == 0) {
        t->set_handler(&app_);
        app_.attach(t);
      } else {
        t->abort();  // only one connection is expected
      }
    }
  }
  [[nodiscard]] int accepted() const { return accepted_; }

 private:
  App& app_;
  int accepted_ = 0;
};

// ------------------------------------------------------------------ one seed

std::optional<std::uint64_t> number_from(const char* s);

struct SeedResult {
  std::string failure;  ///< empty: passed
  time::Duration sim_time{};
  std::uint64_t frames = 0;
  bool late_reset = false;  ///< reset after the peer's TIME-WAIT expired (allowed, counted)
};

SeedResult run_seed(std::uint64_t seed) {
  const Scenario sc = make_scenario(seed);
  SeedResult res;
  std::vector<std::string> problems;
  {
    SimNetwork net(sc.net);
    InvariantChecker checker(net, kPortA, kPortB);
    App a(net, Side::A, sc);
    App b(net, Side::B, sc);
    Acceptor acceptor(b);
    std::optional<time::Instant> tw_gone[2];
    std::optional<time::Instant> rst_in[2];  // last RST delivered to each side
    if (std::getenv("SLUICE_SIM_TRACE") != nullptr) {
      // One line per frame sent, with the sender's view: for debugging a seed.
      net.add_tx_observer([&](const WireSegment& w) {
        const Side from = w.dir == Dir::AtoB ? Side::A : Side::B;
        const tcp::Tcb* t = net.stack(from).find(SimNetwork::tuple(from, kPortA, kPortB));
        std::printf("%10.6f %s%s seq %u len %u ack %u win %u fl %02x",
                    std::chrono::duration<double>(net.now() - net.start()).count(), name(from),
                    w.dropped ? " LOST" : "", w.tcp().seq.raw, w.payload_len(), w.tcp().ack.raw,
                    unsigned{w.tcp().window}, unsigned{w.tcp().flags});
        if (t != nullptr) {
          std::printf(" | %s una %u nxt %u wnd %u cwnd %u rto %lldms bo %u rec %d",
                      tcp::to_string(t->state()).data(), t->snd_una().raw, t->snd_nxt().raw,
                      t->snd_wnd(), t->cwnd(),
                      static_cast<long long>(
                          std::chrono::duration_cast<std::chrono::milliseconds>(t->rto()).count()),
                      t->rtt().backoff_count(), t->in_recovery() ? 1 : 0);
        }
        std::printf("\n");
      });
    }
    net.add_rx_observer([&](const WireSegment& w) {
      if (w.tcp().has(wire::TcpFlag::Rst))
        rst_in[idx(w.dir == Dir::AtoB ? Side::B : Side::A)] = net.now();
    });
    net.set_after_event([&] {
      a.pump();
      b.pump();
      net.flush();
      checker.check();
      for (Side s : {Side::A, Side::B}) {
        const App& app = s == Side::A ? a : b;
        if (app.time_wait_from() && !tw_gone[idx(s)] && net.stack(s).time_wait_count() == 0) {
          tw_gone[idx(s)] = net.now();
        }
      }
    });

    auto l = net.b().listen(kSimIpB, kPortB, 8, &acceptor);
    if (!l.ok()) problems.push_back("listen failed");
    auto c = net.a().connect(SimNetwork::tuple(Side::A, kPortA, kPortB), &a);
    if (!c.ok()) {
      problems.push_back("connect failed");
    } else {
      a.attach(*c);
    }
    a.pump();
    net.flush();

    const time::Duration bound = std::chrono::seconds(
        number_from(std::getenv("SLUICE_SIM_BOUND_S"))
            .value_or(static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::seconds>(kRunBound).count())));
    const time::Instant limit = net.start() + bound;
    const bool done = net.run_until(
        [&] {
          return !checker.ok() ||
                 (a.closed() && b.closed() && net.a().time_wait_count() == 0 &&
                  net.b().time_wait_count() == 0 && net.a().connection_count() == 0 &&
                  net.b().connection_count() == 0);
        },
        limit);
    res.sim_time = net.now() - net.start();
    if (!checker.ok()) {
      problems.push_back("invariant: " + checker.violation());
    } else if (!done) {
      std::ostringstream o;
      o << "not finished after "
        << std::chrono::duration_cast<std::chrono::seconds>(net.now() - net.start()).count()
        << " s of simulated time"
        << (net.next_event_time() == time::Instant::max() ? " (idle: deadlock)" : "")
        << "; A: sent " << a.sent() << "/" << a.data().size() << " got " << a.received().size()
        << "/" << b.data().size() << (a.closed() ? " closed" : "")
        << (a.peer_closed() ? " peer-closed" : "");
      if (a.tcb() != nullptr) o << " " << tcp::to_string(a.tcb()->state());
      o << "; B: sent " << b.sent() << "/" << b.data().size() << " got " << b.received().size()
        << "/" << a.data().size() << (b.closed() ? " closed" : "")
        << (b.peer_closed() ? " peer-closed" : "");
      if (b.tcb() != nullptr) o << " " << tcp::to_string(b.tcb()->state());
      problems.push_back(o.str());
    }
    for (const auto& e : net.errors()) problems.push_back("network: " + e);

    if (done && checker.ok()) {
      for (Side s : {Side::A, Side::B}) {
        const App& app = s == Side::A ? a : b;
        const App& peer = s == Side::A ? b : a;
        const std::string who = name(s);
        // One reset is TCP working as specified: the peer's TIME-WAIT ran its full 2 MSL
        // and ended, every byte both ways had arrived, and only then did a retransmission
        // of ours (its ACKs all lost, the RTO near its 60 s cap) reach the closed port
        // (RFC 9293 §3.10.7.1). Counted, not failed.
        const bool peer_tw_expired = peer.time_wait_from() && tw_gone[idx(other(s))] &&
                                     *tw_gone[idx(other(s))] - *peer.time_wait_from() >=
                                         2 * (s == Side::A ? sc.net.config_b : sc.net.config_a).msl;
        if (app.reason() == tcp::CloseReason::Reset && peer_tw_expired &&
            app.received() == peer.data() && peer.received() == app.data()) {
          res.late_reset = true;
        } else if (app.reason() != tcp::CloseReason::Normal) {
          problems.push_back(who + " closed with reason '" +
                             std::string(tcp::to_string(app.reason())) + "'");
        }
        if (app.closed_state() != TcpState::Closed && app.closed_state() != TcpState::TimeWait) {
          problems.push_back(who + " ended in " + std::string(tcp::to_string(app.closed_state())));
        }
        if (app.received() != peer.data()) {
          std::size_t i = 0;
          while (i < app.received().size() && i < peer.data().size() &&
                 app.received()[i] == peer.data()[i])
            ++i;
          std::ostringstream o;
          o << who << " received " << app.received().size() << " bytes of " << peer.data().size()
            << ", first difference at " << i;
          problems.push_back(o.str());
        }
        if (app.time_wait_from()) {
          const time::Duration msl2 = 2 * (s == Side::A ? sc.net.config_a : sc.net.config_b).msl;
          // RFC 9293 §3.10.7.4 (second, TIME-WAIT): an acceptable RST ends it early —
          // here the peer's answer, from CLOSED, to a duplicate of our last ACK.
          const bool reset = tw_gone[idx(s)] && rst_in[idx(s)] == tw_gone[idx(s)];
          if (!tw_gone[idx(s)] || (*tw_gone[idx(s)] - *app.time_wait_from() < msl2 && !reset)) {
            problems.push_back(who + "'s TIME-WAIT did not last 2 MSL");
          }
        }
      }
      // Stragglers (duplicates still on the link) reach closed ports and are answered with
      // RSTs; let them settle with the listener gone, then count the mbufs.
      if (l.ok()) net.b().close_listener(*l);
      net.run_until(net.now() + std::chrono::seconds(5));
      if (net.a().connection_count() + net.b().connection_count() + net.a().time_wait_count() +
              net.b().time_wait_count() !=
          0) {
        problems.push_back("a connection or TIME-WAIT record is left over");
      }
      if (net.mbufs_in_use() != 0) {
        problems.push_back("mbufs leaked: " + std::to_string(net.mbufs_in_use()));
      }
    }
    res.frames = net.stats(Dir::AtoB).sent + net.stats(Dir::BtoA).sent;

    if (!problems.empty()) {
      std::ostringstream o;
      o << "seed " << seed << " FAILED (rerun: SLUICE_SIM_SEED=" << seed << ")\n";
      for (const auto& p : problems) o << "  " << p << "\n";
      o << "  A->B " << describe(sc.net.a_to_b) << "\n  B->A " << describe(sc.net.b_to_a)
        << "\n  A: " << describe(sc.net.config_a) << " tso " << sc.net.tso_a << ", sends "
        << sc.bytes[0] << "\n  B: " << describe(sc.net.config_b) << " tso " << sc.net.tso_b
        << ", sends " << sc.bytes[1] << "\n  first closer " << name(sc.first_closer)
        << ", the other holds back after " << sc.hold_at << " bytes\n";
      for (Side s : {Side::A, Side::B}) {
        const tcp::TcpCounters& ctr = net.stack(s).counters();
        o << "  " << name(s) << " counters: rto " << ctr.rto_expired << " fast_rtx "
          << ctr.fast_retransmits << " retrans " << ctr.retrans_segs << " probes "
          << ctr.window_probes << " drops:";
        for (std::size_t i = 0; i < tcp::kTcpDropCount; ++i) {
          if (ctr.drops[i] != 0)
            o << " " << tcp::to_string(static_cast<tcp::TcpDrop>(i)) << "=" << ctr.drops[i];
        }
        o << "\n";
      }
      const std::string path = net.dump_pcap("sim_random_seed" + std::to_string(seed));
      o << "  pcap: " << (path.empty() ? std::string("(could not be written)") : path) << "\n";
      res.failure = o.str();
    }
  }
  return res;
}

// ------------------------------------------------------------------ seed selection

std::vector<unsigned char> read_file(const char* path) {
  std::vector<unsigned char> out;
  std::FILE* f = std::fopen(path, "rb");
  if (f == nullptr) return out;
  unsigned char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
  std::fclose(f);
  return out;
}

std::optional<std::uint64_t> number_from(const char* s) {
  if (s == nullptr || *s == '\0') return std::nullopt;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(s, &end, 10);
  if (end == s || *end != '\0') return std::nullopt;
  return v;
}

/// --seeds=N on the command line (gtest leaves flags it does not know in argv; the shared
/// test main does not pass argv on, so read it back from /proc).
std::optional<std::uint64_t> seeds_flag() {
  const std::vector<unsigned char> raw = read_file("/proc/self/cmdline");
  const std::string all(raw.begin(), raw.end());
  std::size_t pos = 0;
  while (pos < all.size()) {
    const std::string arg = all.c_str() + pos;
    pos += arg.size() + 1;
    if (arg.rfind("--seeds=", 0) == 0) return number_from(arg.c_str() + 8);
  }
  return std::nullopt;
}

TEST(RandomTransfer, BothWaysWithHalfCloseOverLossyLinks) {
  std::uint64_t first = number_from(std::getenv("SLUICE_SIM_FIRST_SEED")).value_or(1);
  std::uint64_t count =
      seeds_flag().value_or(number_from(std::getenv("SLUICE_SIM_SEEDS")).value_or(1000));
  if (const auto one = number_from(std::getenv("SLUICE_SIM_SEED"))) {
    first = *one;
    count = 1;
  }
  const auto wall_start = std::chrono::steady_clock::now();
  std::uint64_t failed = 0;
  std::uint64_t frames = 0;
  std::uint64_t late_resets = 0;
  time::Duration sim_time{};
  std::vector<std::uint64_t> failing;
  for (std::uint64_t seed = first; seed < first + count; ++seed) {
    const SeedResult r = run_seed(seed);
    frames += r.frames;
    if (r.late_reset) ++late_resets;
    sim_time += r.sim_time;
    if (!r.failure.empty()) {
      ++failed;
      failing.push_back(seed);
      if (failed <= 20) ADD_FAILURE() << r.failure;
    }
  }
  const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - wall_start);
  std::printf(
      "[ sim ] %llu seeds from %llu: %llu failed, %llu reset after TIME-WAIT, %llu frames, %lld s "
      "simulated, "
      "%lld ms wall\n",
      static_cast<unsigned long long>(count), static_cast<unsigned long long>(first),
      static_cast<unsigned long long>(failed), static_cast<unsigned long long>(late_resets),
      static_cast<unsigned long long>(frames),
      static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(sim_time).count()),
      static_cast<long long>(wall.count()));
  if (!failing.empty()) {
    std::printf("[ sim ] failing seeds:");
    for (std::size_t i = 0; i < failing.size() && i < 100; ++i) {
      std::printf(" %llu", static_cast<unsigned long long>(failing[i]));
    }
    std::printf("\n");
  }
  EXPECT_EQ(failed, 0u);
}

// The connection and TIME-WAIT tables start small (256 buckets, a few kilobytes that stay
// in the caches) and double in place whenever either holds more than one entry per 16
// buckets, up to the arrays sized for the connection limit (2,048 here): 600 connections
// make each stack grow three times, to the limit and no further, and every connection,
// then every TIME-WAIT record, is still found where the rehashes put it.
TEST(SimNetwork, ConnectionTablesGrowAndKeepEveryEntry) {
  constexpr std::uint16_t kConns = 600;
  SimNetwork::Options o;
  o.config_a.max_connections = 2048;
  o.config_b.max_connections = 2048;
  SimNetwork net(o);
  struct Server : tcp::ListenHandler, tcp::TcpHandler {
    void on_acceptable(tcp::Listener& l) noexcept override {
      while (tcp::Tcb* t = l.accept()) t->set_handler(this);
    }
    void on_data(tcp::Tcb& t) noexcept override {
      std::array<std::uint8_t, 16> b{};
      while (const std::uint32_t n = t.read(b)) {
        for (std::uint32_t i = 0; i < n; ++i) sum += b[i];
        bytes += n;
      }
    }
    void on_peer_closed(tcp::Tcb& t) noexcept override { t.close(); }
    std::uint64_t bytes = 0;
    std::uint64_t sum = 0;
  } server;
  tcp::TcpHandler client;
  ASSERT_TRUE(net.b().listen(kSimIpB, kPortB, kConns, &server).ok());
  std::vector<tcp::Tcb*> conns;
  const auto port = [](std::uint16_t i) { return static_cast<std::uint16_t>(20000 + i); };
  for (std::uint16_t i = 0; i < kConns; ++i) {
    auto c = net.a().connect(SimNetwork::tuple(Side::A, port(i), kPortB), &client);
    ASSERT_TRUE(c.ok()) << i;
    conns.push_back(*c);
  }
  net.flush();
  ASSERT_TRUE(net.run_until(
      [&] {
        return std::all_of(conns.begin(), conns.end(),
                           [](tcp::Tcb* t) { return t->state() == TcpState::Established; });
      },
      net.now() + std::chrono::seconds(2)));
  EXPECT_EQ(net.a().counters().table_grown, 3u) << "256 -> 512 -> 1,024 -> 2,048 buckets";
  EXPECT_EQ(net.b().counters().table_grown, 3u);
  // One byte on each connection, its value the connection's index: every segment found
  // its connection on both sides (data in, ACK back).
  std::uint64_t want_sum = 0;
  for (std::uint16_t i = 0; i < kConns; ++i) {
    const auto v = static_cast<std::uint8_t>(i);
    want_sum += v;
    ASSERT_EQ(conns[i]->send(std::span<const std::uint8_t>(&v, 1)), 1u);
  }
  net.flush();
  ASSERT_TRUE(net.run_until(
      [&] {
        return std::all_of(conns.begin(), conns.end(),
                           [](tcp::Tcb* t) { return t->send_buffered() == 0; });
      },
      net.now() + std::chrono::seconds(2)));
  EXPECT_EQ(server.bytes, kConns);
  EXPECT_EQ(server.sum, want_sum);
  // The clients close first: 600 TIME-WAIT records on A, each found by its tuple.
  for (tcp::Tcb* t : conns) t->close();
  net.flush();
  ASSERT_TRUE(net.run_until(
      [&] { return net.a().connection_count() == 0 && net.b().connection_count() == 0; },
      net.now() + std::chrono::seconds(2)));
  EXPECT_EQ(net.a().time_wait_count(), kConns);
  for (std::uint16_t i = 0; i < kConns; ++i) {
    ASSERT_EQ(net.a().state_of(SimNetwork::tuple(Side::A, port(i), kPortB)), TcpState::TimeWait)
        << i;
  }
  EXPECT_EQ(net.a().state_of(SimNetwork::tuple(Side::A, port(kConns), kPortB)), TcpState::Closed);
  EXPECT_EQ(net.a().counters().table_grown, 3u) << "never beyond the limit's 2,048";
  EXPECT_TRUE(net.errors().empty());
}

// The pcap a failing seed leaves must open in Wireshark: check the classic header bytes
// and one record against pcap-savefile(5) (tshark -r reads the same file, when installed).
TEST(SimNetwork, PcapIsClassicLibpcapEthernet) {
  SimNetwork::Options o;
  SimNetwork net(o);
  class Quiet : public tcp::ListenHandler {
   public:
    void on_acceptable(tcp::Listener& l) noexcept override {
      while (tcp::Tcb* t = l.accept()) t->set_handler(&h);
    }
    tcp::TcpHandler h;
  } quiet;
  tcp::TcpHandler client;
  ASSERT_TRUE(net.b().listen(kSimIpB, kPortB, 4, &quiet).ok());
  ASSERT_TRUE(net.a().connect(SimNetwork::tuple(Side::A, kPortA, kPortB), &client).ok());
  net.flush();
  net.run_until(net.now() + std::chrono::milliseconds(50));
  ASSERT_GE(net.pcap_frames(), 3u);  // SYN, SYN-ACK, ACK
  const std::string path = net.dump_pcap("sim_random_pcap_selftest");
  ASSERT_FALSE(path.empty());
  const std::vector<unsigned char> f = read_file(path.c_str());
  ASSERT_GE(f.size(), 24u + 16u + 54u);
  const std::vector<unsigned char> header(f.begin(), f.begin() + 24);
  const std::vector<unsigned char> want = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0,
                                           0,    0,    0,    0,    0, 0, 4, 0, 1, 0, 0, 0};
  EXPECT_EQ(header, want) << "magic, v2.4, zone, sigfigs, snaplen 262144, LINKTYPE_ETHERNET";
  // First record: the SYN, sent at t = 0, delivered 1 ms later (default link delay).
  auto le32 = [&](std::size_t at) {
    return std::uint32_t{f[at]} | std::uint32_t{f[at + 1]} << 8 | std::uint32_t{f[at + 2]} << 16 |
           std::uint32_t{f[at + 3]} << 24;
  };
  EXPECT_EQ(le32(24), 0u);
  EXPECT_EQ(le32(28), 1000u) << "microseconds";
  const std::uint32_t incl = le32(32);
  EXPECT_EQ(incl, le32(36));
  ASSERT_GE(f.size(), 40u + incl);
  EXPECT_EQ(f[40 + 12], 0x08);  // EtherType IPv4
  EXPECT_EQ(f[40 + 13], 0x00);
  EXPECT_EQ(f[40 + 14], 0x45);   // IPv4, IHL 5
  EXPECT_EQ(f[40 + 14 + 9], 6);  // TCP
  std::remove(path.c_str());
}

}  // namespace
}  // namespace sluice::sim
