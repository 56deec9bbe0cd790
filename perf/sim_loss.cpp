// sluice-simloss: loss recovery measured on the deterministic simulator, for A/B
// comparisons that machine noise cannot blur.
//
// perf/lossy-compare runs sluice against Linux through a real lossy bridge, and which
// frames the bridge drops moves with timing: one run of a seed says little, and a pass
// over 20 seeds moves by 20 % from pass to pass. Here both ends are sluice TcpStacks on
// the simulator of tests/sim (sim_network.hpp), the link's losses are drawn from the
// seed alone, and a run is the same on every machine. Per seed: A connects to B, sends
// --bytes, B echoes everything it reads (lossy_client.py's 2 MB echo, both ways at
// once), and the run ends when A has read the echo back, byte-exact. Printed: the
// simulated time per seed (mean, median, p90, max), timeouts, retransmissions by kind.
//
// Usage: sluice-simloss [--seeds N] [--first S] [--bytes B] [--loss P] [--delay-us D]
//                       [--mbps M] [--newreno] [--per-seed] [--pcap SEED]
//   defaults: 200 seeds from 1, 2 MB, 5 % loss each way, 250 us one way, 1000 Mbit/s,
//   CUBIC. --pcap SEED writes that seed's frames to a pcap (sim_network.hpp says where
//   and how lost frames are marked). Exit status 1 if any seed fails to deliver the echo
//   intact.
#include <rte_mbuf.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "eal_environment.hpp"
#include "packet_harness.hpp"
#include "sim_network.hpp"
#include "tcp/listener.hpp"

namespace {

using namespace sluice;
using namespace std::chrono_literals;

constexpr std::uint16_t kPortA = 41000;
constexpr std::uint16_t kPortB = 7;

/// B's side: reads what arrives and sends it back, holding what the send buffer refuses.
class Echo : public tcp::TcpHandler {
 public:
  void on_data(tcp::Tcb& t) noexcept override {
    std::uint8_t buf[16384];
    for (;;) {
      pump(t);
      if (!pending_.empty()) return;  // the send buffer is full: read on when it drains
      const std::uint32_t n = t.read(std::span<std::uint8_t>(buf, sizeof buf));
      if (n == 0) return;
      pending_.insert(pending_.end(), buf, buf + n);
    }
  }
  void on_writable(tcp::Tcb& t) noexcept override { on_data(t); }

 private:
  void pump(tcp::Tcb& t) {
    if (pending_.empty()) return;
    const std::uint32_t k = t.send(pending_);
    pending_.erase(pending_.begin(), pending_.begin() + k);
  }
  std::vector<std::uint8_t> pending_;
};

class EchoListener : public tcp::ListenHandler {
 public:
  void on_acceptable(tcp::Listener& l) noexcept override {
    while (tcp::Tcb* t = l.accept()) {
      echoes.emplace_back(std::make_unique<Echo>());
      t->set_handler(echoes.back().get());
    }
  }
  std::vector<std::unique_ptr<Echo>> echoes;
};

/// A's side: counts and keeps what comes back.
class Reader : public tcp::TcpHandler {
 public:
  void on_connected(tcp::Tcb&) noexcept override { connected = true; }
  void on_closed(tcp::Tcb&, tcp::CloseReason) noexcept override {
    if (self != nullptr) *self = nullptr;  // gone (timed out): send_until stops sending
  }
  void on_data(tcp::Tcb& t) noexcept override {
    std::uint8_t buf[16384];
    while (const std::uint32_t n = t.read(std::span<std::uint8_t>(buf, sizeof buf)))
      received.insert(received.end(), buf, buf + n);
  }
  bool connected = false;
  tcp::Tcb** self = nullptr;
  std::vector<std::uint8_t> received;
};

struct Options {
  std::uint64_t seeds = 200;
  std::uint64_t first = 1;
  std::size_t bytes = 2 << 20;
  double loss = 0.05;
  std::uint64_t delay_us = 250;
  std::uint64_t mbps = 1000;
  bool newreno = false;
  bool per_seed = false;
  std::uint64_t pcap_seed = 0;  ///< > 0: write this seed's frames to a pcap
};

struct RunResult {
  bool ok = false;
  double seconds = 0;  ///< connect to the last byte of the echo, simulated
  std::uint64_t rto = 0, fast = 0, tlp = 0, reorder = 0, lost_rxt = 0, retrans = 0, undone = 0;
};

RunResult run(const Options& o, std::uint64_t seed) {
  sim::SimNetwork::Options n;
  n.seed = seed;
  if (o.newreno) {
    n.config_a.congestion = tcp::CongestionAlgorithm::NewReno;
    n.config_b.congestion = tcp::CongestionAlgorithm::NewReno;
  }
  for (sim::LinkParams* l : {&n.a_to_b, &n.b_to_a}) {
    l->delay = std::chrono::microseconds(o.delay_us);
    l->bandwidth_bps = o.mbps * 1000000;
    l->loss = o.loss;
  }
  sim::SimNetwork net(n);
  EchoListener echo;
  Reader reader;
  RunResult r;
  if (!net.b().listen(sim::kSimIpB, kPortB, 4, &echo).ok()) return r;
  auto c = net.a().connect(sim::SimNetwork::tuple(sim::Side::A, kPortA, kPortB), &reader);
  if (!c.ok()) return r;
  tcp::Tcb* a = *c;
  reader.self = &a;
  net.flush();
  const time::Instant start = net.now();
  const time::Instant limit = start + std::chrono::hours(1);
  if (!net.run_until([&] { return reader.connected; }, limit)) return r;
  const std::vector<std::uint8_t> data =
      sim::pattern_bytes(o.bytes, static_cast<std::uint32_t>(seed));
  const bool done = sim::send_until(
      net, a, data, [&] { return reader.received.size() >= data.size(); }, limit - net.now());
  r.ok = done && reader.received == data;
  if (seed == o.pcap_seed) {
    std::printf("seed %llu: pcap %s\n", static_cast<unsigned long long>(seed),
                net.dump_pcap("simloss_" + std::to_string(seed)).c_str());
  }
  r.seconds = std::chrono::duration<double>(net.now() - start).count();
  for (tcp::TcpStack* s : {&net.a(), &net.b()}) {
    const tcp::TcpCounters& k = s->counters();
    r.rto += k.rto_expired;
    r.fast += k.fast_retransmits;
    r.tlp += k.tail_loss_probes;
    r.reorder += k.reorder_losses;
    r.lost_rxt += k.lost_retransmits;
    r.retrans += k.retrans_segs;
    r.undone += k.spurious_recoveries;
  }
  return r;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[i];
}

[[noreturn]] void usage(int code) {
  std::fprintf(code == 0 ? stdout : stderr,
               "Usage: sluice-simloss [--seeds N] [--first S] [--bytes B] [--loss P] "
               "[--delay-us D] [--mbps M] [--newreno] [--per-seed] [--pcap SEED]\n");
  std::exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage(2);
      return argv[++i];
    };
    if (a == "--seeds") o.seeds = std::strtoull(value(), nullptr, 10);
    else if (a == "--first") o.first = std::strtoull(value(), nullptr, 10);
    else if (a == "--bytes") o.bytes = std::strtoull(value(), nullptr, 10);
    else if (a == "--loss") o.loss = std::strtod(value(), nullptr);
    else if (a == "--delay-us") o.delay_us = std::strtoull(value(), nullptr, 10);
    else if (a == "--mbps") o.mbps = std::strtoull(value(), nullptr, 10);
    else if (a == "--newreno") o.newreno = true;
    else if (a == "--per-seed") o.per_seed = true;
    else if (a == "--pcap") o.pcap_seed = std::strtoull(value(), nullptr, 10);
    else if (a == "--help" || a == "-h") usage(0);
    else usage(2);
  }
  if (o.seeds == 0 || o.bytes == 0 || o.loss < 0 || o.loss >= 1 || o.mbps == 0) usage(2);
  sluice::test::EalEnvironment eal;
  eal.SetUp();
  std::vector<double> times;
  RunResult sum;
  std::uint64_t failed = 0, with_rto = 0;
  for (std::uint64_t s = o.first; s < o.first + o.seeds; ++s) {
    const RunResult r = run(o, s);
    if (!r.ok) {
      ++failed;
      std::printf("seed %llu: the echo did not come back intact\n",
                  static_cast<unsigned long long>(s));
      continue;
    }
    if (o.per_seed) {
      std::printf("seed %llu: %.3f s, rto %llu fast %llu tlp %llu reorder %llu lost-rxt %llu undone %llu\n",
                  static_cast<unsigned long long>(s), r.seconds,
                  static_cast<unsigned long long>(r.rto), static_cast<unsigned long long>(r.fast),
                  static_cast<unsigned long long>(r.tlp), static_cast<unsigned long long>(r.reorder),
                  static_cast<unsigned long long>(r.lost_rxt),
                  static_cast<unsigned long long>(r.undone));
    }
    times.push_back(r.seconds);
    with_rto += r.rto > 0 ? 1 : 0;
    sum.rto += r.rto;
    sum.fast += r.fast;
    sum.tlp += r.tlp;
    sum.reorder += r.reorder;
    sum.lost_rxt += r.lost_rxt;
    sum.retrans += r.retrans;
    sum.undone += r.undone;
  }
  if (!times.empty()) {
    double total = 0;
    for (double t : times) total += t;
    const double k = static_cast<double>(times.size());
    std::printf(
        "%zu seeds from %llu: %zu B echo, loss %.3g each way, %llu us one way, %llu Mbit/s, %s\n"
        "  seconds: mean %.3f median %.3f p90 %.3f max %.3f\n"
        "  per run (both ends): timeouts %.2f (runs with one: %llu), fast retransmits %.2f, "
        "probes %.2f, reorder %.2f, lost retransmissions %.2f, undone %.2f, segments resent %.1f\n",
        times.size(), static_cast<unsigned long long>(o.first), o.bytes, o.loss,
        static_cast<unsigned long long>(o.delay_us), static_cast<unsigned long long>(o.mbps),
        o.newreno ? "NewReno" : "CUBIC", total / k, percentile(times, 0.5),
        percentile(times, 0.9), percentile(times, 1.0), static_cast<double>(sum.rto) / k,
        static_cast<unsigned long long>(with_rto), static_cast<double>(sum.fast) / k,
        static_cast<double>(sum.tlp) / k, static_cast<double>(sum.reorder) / k,
        static_cast<double>(sum.lost_rxt) / k, static_cast<double>(sum.undone) / k,
        static_cast<double>(sum.retrans) / k);
  }
  eal.TearDown();
  return failed == 0 ? 0 : 1;
}
