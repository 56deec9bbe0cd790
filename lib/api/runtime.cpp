#include "api/runtime.hpp"

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "eal.hpp"
#include "port.hpp"
#include "tcp/isn_generator.hpp"
#include "time/tsc_clock.hpp"

namespace sluice::api {

namespace {

std::atomic<int> g_signal{0};

extern "C" void on_signal(int sig) { g_signal.store(sig, std::memory_order_relaxed); }

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
  return rt;
}

Runtime::~Runtime() {
  engine_.reset();
  if (port_started_) glue::close_port(port_);
  if (clone_pool_ != nullptr) rte_mempool_free(clone_pool_);
  if (pool_ != nullptr) rte_mempool_free(pool_);
  glue::eal_cleanup();
}

Result<void, Errc> Runtime::configure(const CommonOptions& common, const tcp::TcpConfig& tcp) noexcept {
  common_ = common;
  if (common.addr.is_unspecified()) {
    std::fprintf(stderr, "%s: --addr A.B.C.D/LEN is required\n", argv_[0]);
    return Err{Errc::InvalidArgument};
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
  auto pool = glue::create_pktmbuf_pool("sluice_pkts", 32767, static_cast<int>(rte_socket_id()));
  if (!pool.ok()) return Err{pool.error()};
  pool_ = *pool;
  auto clones = glue::create_pktmbuf_pool("sluice_clones", 32767, static_cast<int>(rte_socket_id()), 0);
  if (!clones.ok()) return Err{clones.error()};
  clone_pool_ = *clones;

  glue::PortConfig pc;
  pc.mtu = common.mtu;
  auto info = glue::setup_port(port_, pc, pool_);
  if (!info.ok()) return Err{info.error()};
  port_started_ = true;

  engine::EngineConfig ec;
  ec.port = port_;
  ec.mac.bytes = info->mac;
  ec.addr = common.addr;
  ec.prefix_len = common.prefix_len;
  ec.gateway = common.gateway;
  ec.rx_checksum_offload = info->offloads.rx_ipv4_cksum && info->offloads.rx_tcp_cksum;
  ec.tx_checksum_offload = info->offloads.tx_ipv4_cksum && info->offloads.tx_tcp_cksum;
  ec.tcp = tcp;
  if (const char* spec = std::getenv("SLUICE_IMPAIR"); spec != nullptr && *spec != '\0') {
    if (!engine::parse_impairment(spec, ec.impair)) {
      std::fprintf(stderr, "%s: SLUICE_IMPAIR: cannot parse '%s' (want e.g. "
                   "loss=0.01,dup=0.01,delay=25ms,jitter=5ms,reorder=0.25,seed=7)\n", argv_[0], spec);
      return Err{Errc::InvalidArgument};
    }
    std::fprintf(stderr, "%s: impaired link (testing): %s\n", argv_[0], spec);
  }
  const std::uint16_t mtu = info->mtu;
  if (mtu > 40 && ec.tcp.mss > mtu - 40) ec.tcp.mss = static_cast<std::uint16_t>(mtu - 40);
  clock_ = std::make_unique<time::TscClock>();
  engine_ = std::make_unique<engine::Engine>(ec, pool_, clone_pool_, *clock_,
                                             tcp::IsnGenerator::random_secret());
  engine_->announce();
  std::fprintf(stderr, "%s: port %u (%s) %s/%u mac %s mtu %u\n", argv_[0], port_,
               info->driver.c_str(), common.addr.to_string().c_str(), common.prefix_len,
               ec.mac.to_string().c_str(), mtu);
  return {};
}

int Runtime::run(const Hooks& hooks, time::Duration drain) noexcept {
  bool stopping = false;
  time::Instant stop_by{};
  time::Instant next_second = clock_->now() + std::chrono::seconds(1);
  for (;;) {
    engine_->poll();
    const time::Instant now = engine_->now();
    if (!stopping && g_signal.load(std::memory_order_relaxed) != 0) {
      stopping = true;
      stop_by = now + drain;
      std::fprintf(stderr, "%s: stopping: closing connections\n", argv_[0]);
      if (hooks.on_stop) hooks.on_stop();
    }
    if (stopping && (tcp().connection_count() == 0 || now >= stop_by)) break;
    if (hooks.done && hooks.done()) break;
    if (now >= next_second) {
      next_second += std::chrono::seconds(1);
      if (hooks.every_second) hooks.every_second();
      if (common_.stats) print_counters();
    }
  }
  // Let the last segments (FINs, ACKs) leave.
  for (int i = 0; i < 100; ++i) engine_->poll();
  return 0;
}

void Runtime::print_counters() const {
  const auto& e = engine_->counters();
  const auto& t = engine_->tcp().counters();
  std::fprintf(stderr,
               "rx %lu tx %lu | conns %zu tw %zu | est %lu act %lu pas %lu | segs in %lu out %lu "
               "retrans %lu | rst in %lu out %lu | arp req %lu/%lu | mbufs %u clones %u\n",
               static_cast<unsigned long>(e.rx_packets), static_cast<unsigned long>(e.tx_packets),
               engine_->tcp().connection_count(), engine_->tcp().time_wait_count(),
               static_cast<unsigned long>(t.established), static_cast<unsigned long>(t.active_opens),
               static_cast<unsigned long>(t.passive_opens), static_cast<unsigned long>(t.segs_in),
               static_cast<unsigned long>(t.segs_out), static_cast<unsigned long>(t.retrans_segs),
               static_cast<unsigned long>(t.rsts_in), static_cast<unsigned long>(t.rsts_out),
               static_cast<unsigned long>(e.arp_requests_in),
               static_cast<unsigned long>(e.arp_requests_out), rte_mempool_in_use_count(pool_),
               rte_mempool_in_use_count(clone_pool_));
}

}  // namespace sluice::api
