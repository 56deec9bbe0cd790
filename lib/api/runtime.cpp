#include "api/runtime.hpp"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>

#include "eal.hpp"
#include "port.hpp"
#include "tcp/isn_generator.hpp"
#include "time/tsc_clock.hpp"

namespace sluice::api {

namespace {

std::atomic<int> g_signal{0};

extern "C" void on_signal(int sig) {
  g_signal.store(sig, std::memory_order_relaxed);
}

/// An environment switch turned off: set to "0".
bool env_off(const char* name) noexcept {
  const char* v = std::getenv(name);
  return v != nullptr && v[0] == '0' && v[1] == '\0';
}

}  // namespace

bool parse_cidr(const std::string& text, wire::Ipv4Addr& addr, std::uint8_t& len) noexcept {
  const auto slash = text.find('/');
  auto ip = wire::Ipv4Addr::parse(std::string_view(text).substr(0, slash));
  if (!ip) return false;
  unsigned long l = 32;
  if (slash != std::string::npos) {
    char* end = nullptr;
    const std::string tail = text.substr(slash + 1);
    l = std::strtoul(tail.c_str(), &end, 10);
    if (tail.empty() || *end != '\0' || l > 32) return false;
  }
  addr = *ip;
  len = static_cast<std::uint8_t>(l);
  return true;
}

bool parse_common_flag(int c, const char* arg, CommonOptions& out, const char* prog) noexcept {
  switch (c) {
    case kOptAddr:
      if (parse_cidr(arg, out.addr, out.prefix_len)) return true;
      std::fprintf(stderr, "%s: --addr wants A.B.C.D/LEN, got '%s'\n", prog, arg);
      return false;
    case kOptGateway:
      if (auto g = wire::Ipv4Addr::parse(arg)) {
        out.gateway = *g;
        return true;
      }
      std::fprintf(stderr, "%s: --gateway wants A.B.C.D, got '%s'\n", prog, arg);
      return false;
    case kOptStats: out.stats = true; return true;
    case kOptMtu: {
      char* end = nullptr;
      const unsigned long v = std::strtoul(arg, &end, 10);
      if (*end == '\0' && v >= 576 && v <= 9600) {
        out.mtu = static_cast<std::uint16_t>(v);
        return true;
      }
      std::fprintf(stderr, "%s: --mtu wants 576..9600, got '%s'\n", prog, arg);
      return false;
    }
    case kOptBuffer: {
      char* end = nullptr;
      const unsigned long v = std::strtoul(arg, &end, 10);
      if (*arg != '\0' && *arg != '-' && *end == '\0' && v >= 16384 && v <= (64ul << 20)) {
        out.buffer = static_cast<std::uint32_t>(v);
        return true;
      }
      std::fprintf(stderr, "%s: --buffer wants 16384..67108864 bytes, got '%s'\n", prog, arg);
      return false;
    }
    default: return false;
  }
}

std::unique_ptr<Runtime> Runtime::start(int argc, char** argv, const char* prog) noexcept {
  auto n = glue::eal_init(argc, argv);
  if (!n.ok()) return nullptr;
  std::unique_ptr<Runtime> rt(new (std::nothrow) Runtime());
  if (!rt) return nullptr;
  rt->argc_ = argc - *n;
  rt->argv_ = argv + *n;
  rt->argv_[0] = const_cast<char*>(prog);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  // A closed pipe or socket is an error to report, not a reason to die: virtio-user
  // writes to its vhost-user socket when the port closes, after the peer may have gone.
  std::signal(SIGPIPE, SIG_IGN);
  return rt;
}

void Runtime::wait_for_signal() const noexcept {
  while (g_signal.load(std::memory_order_relaxed) == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Runtime::~Runtime() {
  engines_.clear();
  mesh_.reset();
  if (port_started_) glue::close_port(port_);
  if (clone_pool_ != nullptr) rte_mempool_free(clone_pool_);
  if (pool_ != nullptr) rte_mempool_free(pool_);
  glue::eal_cleanup();
}

Result<void, Errc> Runtime::configure(const CommonOptions& common,
                                      const tcp::TcpConfig& tcp) noexcept {
  common_ = common;
  if (common.addr.is_unspecified()) {
    std::fprintf(stderr, "%s: --addr A.B.C.D/LEN is required\n", argv_[0]);
    return Err{Errc::InvalidArgument};
  }
  if (common.addr_count < 1 || common.addr_count > engine::Engine::kMaxAddresses) {
    std::fprintf(stderr, "%s: %u local addresses: want 1..%u\n", argv_[0], common.addr_count,
                 engine::Engine::kMaxAddresses);
    return Err{Errc::InvalidArgument};
  }
  if (common.addr_count > 1) {
    // The range must not wrap, and must stay on the link: a peer reaches each address by ARP.
    const std::uint32_t first = common.addr.value;
    const std::uint32_t last = first + (common.addr_count - 1);
    const std::uint32_t mask = common.prefix_len == 0 ? 0 : ~0u << (32 - common.prefix_len);
    if (last < first || (first & mask) != (last & mask)) {
      std::fprintf(stderr, "%s: %u addresses from %s leave the prefix /%u\n", argv_[0],
                   common.addr_count, common.addr.to_string().c_str(), common.prefix_len);
      return Err{Errc::InvalidArgument};
    }
  }
  if (rte_eth_dev_count_avail() == 0) {
    std::fprintf(stderr,
                 "%s: no DPDK port. Give one in the EAL arguments, e.g. "
                 "--vdev=net_af_packet0,iface=veth0 (and --no-pci without a NIC)\n",
                 argv_[0]);
    return Err{Errc::NoDevice};
  }
  for (std::uint16_t p = 0; p < RTE_MAX_ETHPORTS; ++p) {
    if (rte_eth_dev_is_valid_port(p)) {
      port_ = p;
      break;
    }
  }
  // Jumbo frames: the mbufs grow to hold the largest frame, VLAN tag included (fewer of
  // them), since not every port can scatter a frame over several. The engine takes TCP in
  // chained mbufs too (receive offload, scatter); anything else chained is dropped.
  const bool jumbo = common.mtu > 1500;
  const auto room = static_cast<std::uint16_t>(jumbo ? common.mtu + 14 + 4 + 4 : 2048);
  auto pool = glue::create_pktmbuf_pool("sluice_pkts", jumbo ? 16383 : 32767,
                                        static_cast<int>(rte_socket_id()), room);
  if (!pool.ok()) return Err{pool.error()};
  pool_ = *pool;
  auto clones =
      glue::create_pktmbuf_pool("sluice_clones", 32767, static_cast<int>(rte_socket_id()), 0);
  if (!clones.ok()) return Err{clones.error()};
  clone_pool_ = *clones;

  // One engine per lcore; one queue pair each when the port has them, else one in all.
  std::vector<unsigned> lcores{rte_get_main_lcore()};
  unsigned lc = 0;
  RTE_LCORE_FOREACH_WORKER(lc) lcores.push_back(lc);
  const auto engines = static_cast<std::uint16_t>(lcores.size());
  glue::PortConfig pc;
  pc.mtu = common.mtu;
  // SLUICE_OFFLOADS=0: no port offloads at all (software checksums, MSS-sized packets);
  // SLUICE_TSO=0: checksums offloaded but no TSO/LRO. For comparisons and debugging.
  if (env_off("SLUICE_OFFLOADS")) {
    glue::PortOffloads& o = pc.offloads;
    o.rx_ipv4_cksum = o.rx_tcp_cksum = o.tx_ipv4_cksum = o.tx_tcp_cksum = o.tso = o.lro = false;
  }
  if (env_off("SLUICE_TSO")) pc.offloads.tso = pc.offloads.lro = false;
  pc.queues = engines > 1 && glue::max_queue_pairs(port_) >= engines ? engines : 1;
  auto info = glue::setup_port(port_, pc, pool_);
  if (!info.ok()) return Err{info.error()};
  port_started_ = true;

  // Flow → engine: the hardware's RETA when the port spreads flows itself, else ours.
  const bool hw_rss = engines > 1 && info->rss && info->queues == engines;
  static constexpr auto kKey = glue::symmetric_rss_key();
  const engine::FlowSteering steering(kKey, engines, hw_rss ? info->reta_size : 0);
  if (engines > 1) {
    std::vector<bool> relay(engines, false);
    for (std::uint16_t i = 0; i < engines; ++i) relay[i] = i >= info->queues;
    auto mesh = engine::CoreMesh::create(engines, relay, info->socket);
    if (!mesh.ok()) return Err{mesh.error()};
    mesh_ = std::move(*mesh);
  }

  engine::EngineConfig ec;
  ec.port = port_;
  ec.mac.bytes = info->mac;
  ec.addr = common.addr;
  ec.addr_count = common.addr_count;
  ec.prefix_len = common.prefix_len;
  ec.gateway = common.gateway;
  const glue::PortOffloads& off = info->offloads;
  ec.rx_ip_checksum_offload = off.rx_ipv4_cksum;
  ec.rx_tcp_checksum_offload = off.rx_tcp_cksum;
  ec.tx_ip_checksum_offload = off.tx_ipv4_cksum;
  ec.tx_tcp_checksum_offload = off.tx_tcp_cksum;
  ec.tx_offload_min_payload = info->tx_offload_min_payload;
  ec.rx_frames_cached = info->rx_frames_cached;
  // The largest IPv4 datagram less its header and the largest TCP header.
  ec.tso_max = off.tso ? 65535 - 20 - 60 : 0;
  ec.tx_seg_max = info->tx_seg_max;
  ec.tcp = tcp;
  if (const char* t = std::getenv("SLUICE_TRACE"); t != nullptr && *t != '\0' && *t != '0') {
    ec.trace = true;  // one stderr line per TCP segment: for debugging, never for speed
  }
  if (const char* spec = std::getenv("SLUICE_IMPAIR"); spec != nullptr && *spec != '\0') {
    if (!engine::parse_impairment(spec, ec.impair)) {
      std::fprintf(stderr,
                   "%s: SLUICE_IMPAIR: cannot parse '%s' (want e.g. "
                   "loss=0.01,dup=0.01,delay=25ms,jitter=5ms,reorder=0.25,seed=7)\n",
                   argv_[0], spec);
      return Err{Errc::InvalidArgument};
    }
    std::fprintf(stderr, "%s: impaired link (testing): %s\n", argv_[0], spec);
  }
  if (common.buffer != 0) {
    ec.tcp.send_buffer = ec.tcp.recv_buffer = common.buffer;
    ec.tcp.send_buffer_max = ec.tcp.recv_buffer_max = common.buffer;  // fixed: no auto-tuning
  }
  // Auto-tuning grows buffers with mbufs from the pool: together, the engines' growth
  // may take half of it, at a full segment's payload per mbuf (the rest stays for the
  // buffers connections start with, the receive rings and headers).
  ec.tcp.autotune_budget = std::min<std::uint64_t>(
      ec.tcp.autotune_budget, std::uint64_t{rte_mempool_avail_count(pool_)} / 2 * 1448 / engines);
  // Our MSS follows the MTU (RFC 9293 §3.7.1: MTU less the IPv4 and TCP headers): up to
  // it when --mtu was given, never above it otherwise.
  const std::uint16_t mtu = info->mtu;
  if (mtu > 40) {
    const auto from_mtu = static_cast<std::uint16_t>(mtu - 40);
    ec.tcp.mss = common.mtu != 0 ? from_mtu : std::min(ec.tcp.mss, from_mtu);
  }
  clock_ = std::make_unique<time::TscClock>();
  // One secret for all: a flow's ISNs and SYN cookies are made and checked by its owner,
  // and any engine may own it.
  const auto secret = tcp::IsnGenerator::random_secret();
  for (std::uint16_t i = 0; i < engines; ++i) {
    ec.queue = i < info->queues ? i : 0;
    ec.shard.index = i;
    ec.shard.steering = steering;
    ec.shard.software_steering = engines > 1 && !hw_rss;
    ec.shard.has_queue = i < info->queues;
    ec.shard.mesh = mesh_.get();
    engines_.push_back(std::make_unique<engine::Engine>(ec, pool_, clone_pool_, *clock_, secret));
  }
  lcores_ = lcores;
  engines_[0]->announce();
  std::string range;
  if (common.addr_count > 1) {
    range = " to " + wire::Ipv4Addr{common.addr.value + common.addr_count - 1}.to_string() + " (" +
            std::to_string(common.addr_count) + " addresses)";
  }
  std::fprintf(stderr, "%s: port %u (%s) %s/%u%s mac %s mtu %u\n", argv_[0], port_,
               info->driver.c_str(), common.addr.to_string().c_str(), common.prefix_len,
               range.c_str(), ec.mac.to_string().c_str(), mtu);
  if (engines > 1) {
    std::fprintf(stderr, "%s: %u engines on lcores", argv_[0], engines);
    for (unsigned l : lcores_) std::fprintf(stderr, " %u", l);
    std::fprintf(stderr, ", %u queue pair%s, %s\n", info->queues, info->queues == 1 ? "" : "s",
                 hw_rss ? "hardware RSS (symmetric Toeplitz)" : "software steering over rte_ring");
  }
  return {};
}

Result<void, Errc> Runtime::setup(const std::function<Result<void, Errc>(engine::Engine&)>& f) {
  for (auto& e : engines_) {
    if (auto r = f(*e); !r.ok()) return r;
  }
  return {};
}

int Runtime::worker_main(void* arg) {
  auto* l = static_cast<Launch*>(arg);
  return l->rt->loop(l->index, *l->hooks, l->drain);
}

// One engine's poll loop. Stopping is collective: an engine whose connections have all
// closed keeps polling (it may carry frames for the others: steering, the relay of TX)
// until every engine has drained, or the drain time is up.
int Runtime::loop(std::uint16_t index, const Hooks& hooks, time::Duration drain) noexcept {
  engine::Engine& e = *engines_[index];
  const auto engines = static_cast<std::uint16_t>(engines_.size());
  bool stopping = false;
  bool drained = false;
  time::Instant stop_by{};
  time::Instant next_second = clock_->now() + std::chrono::seconds(1);
  for (;;) {
    e.poll();
    const time::Instant now = e.now();
    if (!stopping && g_signal.load(std::memory_order_relaxed) != 0) {
      stopping = true;
      stop_by = now + drain;
      if (index == 0) std::fprintf(stderr, "%s: stopping: closing connections\n", argv_[0]);
      if (hooks.on_stop) hooks.on_stop(e);
    }
    if (stopping) {
      if (!drained && e.tcp().connection_count() == 0) {
        drained = true;
        drained_.fetch_add(1, std::memory_order_acq_rel);
      }
      if (drained_.load(std::memory_order_acquire) == engines || now >= stop_by) break;
    }
    if (hooks.done && hooks.done(e)) quit_.store(true, std::memory_order_relaxed);
    if (quit_.load(std::memory_order_relaxed)) break;
    if (now >= next_second) {
      next_second += std::chrono::seconds(1);
      if (index == 0 && hooks.every_second) hooks.every_second();
      if (common_.stats) print_engine(index);
    }
  }
  // Let the last segments (FINs, ACKs) leave.
  for (int i = 0; i < 100; ++i) e.poll();
  return 0;
}

int Runtime::run(const Hooks& hooks, time::Duration drain) noexcept {
  launches_.clear();
  launches_.reserve(engines_.size());
  for (std::uint16_t i = 1; i < engines_.size(); ++i) {
    launches_.push_back(Launch{this, i, &hooks, drain});
    if (int rc = rte_eal_remote_launch(&Runtime::worker_main, &launches_.back(), lcores_[i]);
        rc != 0) {
      std::fprintf(stderr, "%s: cannot start engine %u on lcore %u: %s\n", argv_[0], i, lcores_[i],
                   rte_strerror(-rc));
      quit_.store(true);
      break;
    }
  }
  loop(0, hooks, drain);
  rte_eal_mp_wait_lcore();
  if (engines_.size() > 1) {
    // Engine 0 transmits for queue-less engines: send what they queued last.
    for (int i = 0; i < 100; ++i) engines_[0]->poll();
  }
  return 0;
}

void Runtime::print_engine(std::uint16_t index) const {
  engine::Engine& eng = *engines_[index];
  const auto& e = eng.counters();
  const auto& t = eng.tcp().counters();
  const auto u = [](std::uint64_t v) { return static_cast<unsigned long>(v); };
  char prefix[48] = "";
  char steer[256] = "";
  if (engines_.size() > 1) {
    std::snprintf(prefix, sizeof prefix, "engine %u lcore %u: ", index, lcores_[index]);
    std::snprintf(steer, sizeof steer,
                  " | steer misdirected %lu forwarded %lu ring-full %lu in %lu | arp shared "
                  "out %lu in %lu ring-full %lu | tx relay out %lu relayed %lu",
                  u(e.steer_misdirected), u(e.steer_forwarded), u(e.steer_ring_full), u(e.steer_in),
                  u(e.arp_shared_out), u(e.arp_shared_in), u(e.arp_share_ring_full),
                  u(e.tx_relay_out), u(e.tx_relayed));
  }
  // Every drop with a reason, non-zero ones only: a run that lost data at the stack says
  // where.
  char drops[512] = "";
  std::size_t used = 0;
  const auto add_drop = [&](std::string_view name, std::uint64_t n) {
    if (n == 0 || used >= sizeof drops) return;
    const int w = std::snprintf(drops + used, sizeof drops - used, "%s%.*s %lu",
                                used == 0 ? " | drops " : ", ", static_cast<int>(name.size()),
                                name.data(), u(n));
    if (w > 0) used += static_cast<std::size_t>(w);
  };
  for (std::size_t d = 0; d < tcp::kTcpDropCount; ++d)
    add_drop(tcp::to_string(static_cast<tcp::TcpDrop>(d)), t.drops[d]);
  add_drop("tx_dropped", e.tx_dropped);
  add_drop("tx_oversize", e.tx_oversize);
  add_drop("arp_held_dropped", e.arp_held_dropped);
  add_drop("ip_fragments", e.ip_fragments);
  add_drop("ip_options", e.ip_options);
  add_drop("multi_segment", e.multi_segment);
  add_drop("no_mbuf", e.no_mbuf);
  add_drop("steer_ring_full", e.steer_ring_full);
  add_drop("arp_share_ring_full", e.arp_share_ring_full);
  std::uint64_t parse_errors = 0;
  for (const auto n : e.parse_errors) parse_errors += n;
  add_drop("parse_errors", parse_errors);
  std::fprintf(
      stderr,
      "%srx %lu tx %lu | conns %zu tw %zu | est %lu act %lu pas %lu | segs in %lu out %lu "
      "retrans %lu (rto %lu fast %lu tlp %lu/%lu reorder %lu) | rst in %lu out %lu | arp req "
      "%lu/%lu | "
      "tso %lu chained-rx %lu | buffers grown rcv %lu snd %lu | mbufs %u clones %u | polls %lu "
      "rx in %lu (burst %.1f)%s%s\n",
      prefix, u(e.rx_packets), u(e.tx_packets), eng.tcp().connection_count(),
      eng.tcp().time_wait_count(), u(t.established), u(t.active_opens), u(t.passive_opens),
      u(t.segs_in), u(t.segs_out), u(t.retrans_segs), u(t.rto_expired), u(t.fast_retransmits),
      u(t.tail_loss_probes), u(t.tlp_repairs), u(t.reorder_losses), u(t.rsts_in), u(t.rsts_out),
      u(e.arp_requests_in), u(e.arp_requests_out), u(t.tso_sends), u(e.rx_chained),
      u(t.recv_buffer_grown), u(t.send_buffer_grown), rte_mempool_in_use_count(pool_),
      rte_mempool_in_use_count(clone_pool_), u(e.polls), u(e.rx_polls),
      e.rx_polls != 0 ? static_cast<double>(e.rx_packets) / static_cast<double>(e.rx_polls) : 0.0,
      steer, drops);
}

void Runtime::print_counters() const {
  for (std::uint16_t i = 0; i < engines_.size(); ++i) print_engine(i);
}

}  // namespace sluice::api
