#include "port.hpp"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <cstdio>
#include <cstring>

namespace sluice::glue {

namespace {

Errc fail(std::uint16_t port, const char* driver, const char* what, int rc) noexcept {
  std::fprintf(stderr, "sluice: port %u (%s): %s failed: %s\n", port, driver, what,
               rte_strerror(rc < 0 ? -rc : rc));
  return from_errno(rc);
}

// Asks for `flag` if `want`; drops it with a log line when the port lacks it.
bool pick(bool want, std::uint64_t capa, std::uint64_t flag, std::uint64_t& mask,
          std::uint16_t port, const char* driver, const char* name) noexcept {
  if (!want) return false;
  if ((capa & flag) == 0) {
    std::fprintf(stderr, "sluice: port %u (%s): no %s offload\n", port, driver, name);
    return false;
  }
  mask |= flag;
  return true;
}

}  // namespace

Result<PortInfo, Errc> setup_port(std::uint16_t port_id, const PortConfig& cfg,
                                  rte_mempool* pool) noexcept {
  if (!rte_eth_dev_is_valid_port(port_id)) {
    std::fprintf(stderr, "sluice: port %u does not exist (%u ports available)\n", port_id,
                 rte_eth_dev_count_avail());
    return Err{Errc::NoDevice};
  }

  // Stage 1: discover.
  rte_eth_dev_info dev{};
  if (int rc = rte_eth_dev_info_get(port_id, &dev); rc != 0) {
    return Err{fail(port_id, "?", "rte_eth_dev_info_get", rc)};
  }
  const char* drv = dev.driver_name != nullptr ? dev.driver_name : "?";
  PortInfo info;
  info.port_id = port_id;
  info.driver = drv;
  info.socket = rte_eth_dev_socket_id(port_id) < 0 ? 0 : rte_eth_dev_socket_id(port_id);

  if (cfg.queues == 0 || cfg.queues > dev.max_rx_queues || cfg.queues > dev.max_tx_queues) {
    std::fprintf(stderr, "sluice: port %u (%s): %u queue pairs asked, the port has %u rx / %u tx\n",
                 port_id, drv, cfg.queues, dev.max_rx_queues, dev.max_tx_queues);
    return Err{Errc::InvalidArgument};
  }
  info.queues = cfg.queues;

  // Stage 2: configure — what we want, masked by what the port has.
  rte_eth_conf conf{};
  const PortOffloads& want = cfg.offloads;
  PortOffloads& got = info.offloads;
  std::uint64_t rx_off = 0;
  std::uint64_t tx_off = 0;
  got.rx_ipv4_cksum = pick(want.rx_ipv4_cksum, dev.rx_offload_capa, RTE_ETH_RX_OFFLOAD_IPV4_CKSUM,
                           rx_off, port_id, drv, "rx ipv4 checksum");
  got.rx_tcp_cksum = pick(want.rx_tcp_cksum, dev.rx_offload_capa, RTE_ETH_RX_OFFLOAD_TCP_CKSUM,
                          rx_off, port_id, drv, "rx tcp checksum");
  got.tx_ipv4_cksum = pick(want.tx_ipv4_cksum, dev.tx_offload_capa, RTE_ETH_TX_OFFLOAD_IPV4_CKSUM,
                           tx_off, port_id, drv, "tx ipv4 checksum");
  got.tx_tcp_cksum = pick(want.tx_tcp_cksum, dev.tx_offload_capa, RTE_ETH_TX_OFFLOAD_TCP_CKSUM,
                          tx_off, port_id, drv, "tx tcp checksum");
  got.tso =
      pick(want.tso, dev.tx_offload_capa, RTE_ETH_TX_OFFLOAD_TCP_TSO, tx_off, port_id, drv, "tso");
  got.multi_seg = pick(want.multi_seg, dev.tx_offload_capa, RTE_ETH_TX_OFFLOAD_MULTI_SEGS, tx_off,
                       port_id, drv, "multi-segment tx");
  got.lro =
      pick(want.lro, dev.rx_offload_capa, RTE_ETH_RX_OFFLOAD_TCP_LRO, rx_off, port_id, drv, "lro");
  got.scatter = pick(want.scatter, dev.rx_offload_capa, RTE_ETH_RX_OFFLOAD_SCATTER, rx_off, port_id,
                     drv, "rx scatter");
  // TSO rides on TCP checksum offload and multi-segment TX. DPDK 22.11's net_tap cuts TSO
  // packets in software and refuses any whose segment plus L2-L4 headers exceeds the
  // (L3) MTU, i.e. every full-sized one: no TSO there.
  const bool tap = std::strcmp(drv, "net_tap") == 0;
  if (got.tso && (!(got.tx_tcp_cksum && got.multi_seg) || tap)) {
    if (tap)
      std::fprintf(stderr, "sluice: port %u (%s): tso not used (full segments refused)\n", port_id,
                   drv);
    tx_off &= ~RTE_ETH_TX_OFFLOAD_TCP_TSO;
    got.tso = false;
  }
  if (got.lro) conf.rxmode.max_lro_pkt_size = dev.max_lro_pkt_size;
  // net_vhost does its work in software on our core (see PortInfo). Its checksum offload
  // costs more than our own sum of a small packet (256 bytes: about 12 ns, perf/bench_wire),
  // and it copies each received frame in, so the frame is in our cache already.
  const bool vhost = std::strcmp(drv, "net_vhost") == 0;
  if (vhost && (got.tx_tcp_cksum || got.tx_ipv4_cksum)) info.tx_offload_min_payload = 256;
  info.rx_frames_cached = vhost;
  info.tx_seg_max = dev.tx_desc_lim.nb_seg_max;
  // Never RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE: TCP transmits payload as indirect mbufs
  // attached to the send buffer (refcount > 1, several pools), which that offload forbids.
  conf.rxmode.offloads = rx_off;
  conf.txmode.offloads = tx_off;

  // Symmetric RSS over the TCP/IPv4 4-tuple, with the hash fields the port supports.
  static constexpr auto kKey = symmetric_rss_key();
  std::array<std::uint8_t, kRssKeyMaxLen> key = kKey;
  const std::uint64_t hf =
      (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_TCP) & dev.flow_type_rss_offloads;
  if (cfg.rss && cfg.queues > 1 && hf != 0 && dev.hash_key_size <= kRssKeyMaxLen) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_key = key.data();
    conf.rx_adv_conf.rss_conf.rss_key_len = dev.hash_key_size != 0 ? dev.hash_key_size : 40;
    conf.rx_adv_conf.rss_conf.rss_hf = hf;
    info.rss = true;
    info.rss_hf = hf;
  } else if (cfg.rss && cfg.queues > 1) {
    std::fprintf(stderr, "sluice: port %u (%s): no usable RSS, flows steered in software\n",
                 port_id, drv);
  }
  if (cfg.mtu != 0) conf.rxmode.mtu = cfg.mtu;

  if (int rc = rte_eth_dev_configure(port_id, cfg.queues, cfg.queues, &conf); rc != 0) {
    return Err{fail(port_id, drv, "rte_eth_dev_configure", rc)};
  }
  std::uint16_t rx_desc = cfg.rx_desc;
  std::uint16_t tx_desc = cfg.tx_desc;
  if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rx_desc, &tx_desc); rc != 0) {
    return Err{fail(port_id, drv, "rte_eth_dev_adjust_nb_rx_tx_desc", rc)};
  }

  // Stage 3: queues, then start.
  for (std::uint16_t q = 0; q < cfg.queues; ++q) {
    rte_eth_rxconf rxc = dev.default_rxconf;
    rxc.offloads = rx_off;
    if (int rc = rte_eth_rx_queue_setup(port_id, q, rx_desc, static_cast<unsigned>(info.socket),
                                        &rxc, pool);
        rc != 0) {
      return Err{fail(port_id, drv, "rx queue setup", rc)};
    }
    rte_eth_txconf txc = dev.default_txconf;
    txc.offloads = tx_off;
    if (int rc =
            rte_eth_tx_queue_setup(port_id, q, tx_desc, static_cast<unsigned>(info.socket), &txc);
        rc != 0) {
      return Err{fail(port_id, drv, "tx queue setup", rc)};
    }
  }
  if (int rc = rte_eth_dev_start(port_id); rc != 0) {
    return Err{fail(port_id, drv, "rte_eth_dev_start", rc)};
  }
  if (cfg.promiscuous) {
    // Virtual ports without a promiscuous mode (net_ring, net_null) answer -ENOTSUP: harmless.
    if (int rc = rte_eth_promiscuous_enable(port_id); rc != 0 && rc != -ENOTSUP) {
      std::fprintf(stderr, "sluice: port %u (%s): promiscuous mode: %s\n", port_id, drv,
                   rte_strerror(-rc));
    }
  }
  if (info.rss) {
    // Program the RETA ourselves rather than trust the driver's default, so that the
    // engines' software model of it (engine::FlowSteering) is exact: entry i → queue i % n.
    info.reta_size = dev.reta_size;
    if (dev.reta_size != 0 && dev.reta_size <= RTE_ETH_RSS_RETA_SIZE_512) {
      std::array<rte_eth_rss_reta_entry64, RTE_ETH_RSS_RETA_SIZE_512 / RTE_ETH_RETA_GROUP_SIZE>
          reta{};
      for (std::uint16_t i = 0; i < dev.reta_size; ++i) {
        auto& group = reta[i / RTE_ETH_RETA_GROUP_SIZE];
        group.mask |= std::uint64_t{1} << (i % RTE_ETH_RETA_GROUP_SIZE);
        group.reta[i % RTE_ETH_RETA_GROUP_SIZE] = static_cast<std::uint16_t>(i % cfg.queues);
      }
      if (int rc = rte_eth_dev_rss_reta_update(port_id, reta.data(), dev.reta_size); rc != 0) {
        std::fprintf(stderr,
                     "sluice: port %u (%s): RETA update: %s (keeping the driver's, "
                     "assumed round-robin)\n",
                     port_id, drv, rte_strerror(-rc));
      }
    }
    if ((info.reta_size & (info.reta_size - 1)) != 0) info.reta_size = 0;  // not a power of 2
  }
  rte_ether_addr mac{};
  if (rte_eth_macaddr_get(port_id, &mac) == 0) {
    std::memcpy(info.mac.data(), mac.addr_bytes, info.mac.size());
  }
  std::uint16_t mtu = 0;
  if (rte_eth_dev_get_mtu(port_id, &mtu) == 0) info.mtu = mtu;
  return info;
}

std::uint16_t max_queue_pairs(std::uint16_t port_id) noexcept {
  rte_eth_dev_info dev{};
  if (!rte_eth_dev_is_valid_port(port_id) || rte_eth_dev_info_get(port_id, &dev) != 0) return 0;
  return dev.max_rx_queues < dev.max_tx_queues ? dev.max_rx_queues : dev.max_tx_queues;
}

void close_port(std::uint16_t port_id) noexcept {
  if (int rc = rte_eth_dev_stop(port_id); rc != 0) {
    std::fprintf(stderr, "sluice: port %u: stop: %s\n", port_id, rte_strerror(-rc));
  }
  if (int rc = rte_eth_dev_close(port_id); rc != 0) {
    std::fprintf(stderr, "sluice: port %u: close: %s\n", port_id, rte_strerror(-rc));
  }
}

}  // namespace sluice::glue
