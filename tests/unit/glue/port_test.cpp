// drivers-glue on real (virtual) DPDK ports: bring-up, offload masking, loopback traffic,
// error reporting, and the symmetry of the RSS key.
#include <gtest/gtest.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_thash.h>

#include <array>
#include <cstring>
#include <random>

#include "eal_environment.hpp"
#include "port.hpp"

namespace sluice::glue {
namespace {

// A vdev made for one test (EAL hotplug: the vdev bus takes "net_*" names), removed at
// the end of the test even after the port was closed.
class Vdev {
 public:
  explicit Vdev(const char* name) {
    EXPECT_EQ(rte_dev_probe(name), 0) << name;
    EXPECT_EQ(rte_eth_dev_get_port_by_name(name, &port_), 0) << name;
    rte_eth_dev_info dev{};
    EXPECT_EQ(rte_eth_dev_info_get(port_, &dev), 0);
    device_ = dev.device;
  }
  ~Vdev() {
    if (device_ != nullptr) {
      EXPECT_EQ(rte_dev_remove(device_), 0);
    }
  }
  Vdev(const Vdev&) = delete;
  Vdev& operator=(const Vdev&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  std::uint16_t port_ = RTE_MAX_ETHPORTS;
  rte_device* device_ = nullptr;
};

TEST(Port, RingPortStartsAndLoopsPacketsBack) {
  Vdev vdev("net_ring_glue0");
  const std::uint16_t port = vdev.port();
  auto info = setup_port(port, PortConfig{}, test::test_pktmbuf_pool());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->port_id, port);
  EXPECT_EQ(info->driver, "net_ring");
  EXPECT_EQ(info->queues, 1);
  // net_ring offers no checksum offload: everything we asked for was masked off.
  EXPECT_FALSE(info->offloads.tx_tcp_cksum);
  EXPECT_FALSE(info->offloads.rx_tcp_cksum);
  EXPECT_FALSE(info->rss);

  // A net_ring created this way shares one ring for rx and tx: what we send comes back.
  std::array<rte_mbuf*, 8> tx{};
  for (std::size_t i = 0; i < tx.size(); ++i) {
    tx[i] = rte_pktmbuf_alloc(test::test_pktmbuf_pool());
    ASSERT_NE(tx[i], nullptr);
    char* p = rte_pktmbuf_append(tx[i], 64);
    ASSERT_NE(p, nullptr);
    std::memset(p, static_cast<int>(i), 64);
  }
  ASSERT_EQ(rte_eth_tx_burst(port, 0, tx.data(), tx.size()), tx.size());
  std::array<rte_mbuf*, 16> rx{};
  const std::uint16_t n = rte_eth_rx_burst(port, 0, rx.data(), rx.size());
  ASSERT_EQ(n, tx.size());
  for (std::uint16_t i = 0; i < n; ++i) {
    EXPECT_EQ(rte_pktmbuf_pkt_len(rx[i]), 64u);
    EXPECT_EQ(*rte_pktmbuf_mtod(rx[i], std::uint8_t*), i);  // in order
    rte_pktmbuf_free(rx[i]);
  }
  close_port(port);
}

TEST(Port, NullPortStartsWithDefaultConfig) {
  Vdev vdev("net_null_glue0");
  const std::uint16_t port = vdev.port();
  auto info = setup_port(port, PortConfig{}, test::test_pktmbuf_pool());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->driver, "net_null");
  close_port(port);
}

TEST(Port, MissingPortIsNoDevice) {
  auto info = setup_port(RTE_MAX_ETHPORTS - 1, PortConfig{}, test::test_pktmbuf_pool());
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error(), Errc::NoDevice);
}

TEST(Port, MoreQueuesThanThePortHasIsInvalidArgument) {
  Vdev vdev("net_ring_glue1");
  const std::uint16_t port = vdev.port();
  PortConfig cfg;
  cfg.queues = 1000;
  auto info = setup_port(port, cfg, test::test_pktmbuf_pool());
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error(), Errc::InvalidArgument);
}

// The key must make the Toeplitz hash symmetric in (src, dst) and (sport, dport), so that
// both directions of a flow reach the same queue. DPDK's software Toeplitz is the judge.
TEST(Rss, SymmetricKeyHashesBothDirectionsAlike) {
  constexpr auto kKey = symmetric_rss_key();
  std::mt19937 rng(7);
  int asymmetric_with_other_key = 0;
  std::array<std::uint8_t, 40> other_key{};
  for (auto& b : other_key) b = static_cast<std::uint8_t>(rng());
  for (int i = 0; i < 10000; ++i) {
    rte_ipv4_tuple fwd{};
    fwd.src_addr = static_cast<std::uint32_t>(rng());
    fwd.dst_addr = static_cast<std::uint32_t>(rng());
    fwd.sport = static_cast<std::uint16_t>(rng());
    fwd.dport = static_cast<std::uint16_t>(rng());
    rte_ipv4_tuple rev{};
    rev.src_addr = fwd.dst_addr;
    rev.dst_addr = fwd.src_addr;
    rev.sport = fwd.dport;
    rev.dport = fwd.sport;
    const auto len = RTE_THASH_V4_L4_LEN;
    const std::uint32_t h1 = rte_softrss(reinterpret_cast<std::uint32_t*>(&fwd), len, kKey.data());
    const std::uint32_t h2 = rte_softrss(reinterpret_cast<std::uint32_t*>(&rev), len, kKey.data());
    ASSERT_EQ(h1, h2) << "tuple " << i;
    // Sanity: the property is the key's, not the hash's — a random key breaks it.
    asymmetric_with_other_key +=
        rte_softrss(reinterpret_cast<std::uint32_t*>(&fwd), len, other_key.data()) !=
        rte_softrss(reinterpret_cast<std::uint32_t*>(&rev), len, other_key.data());
  }
  EXPECT_GT(asymmetric_with_other_key, 9000);
}

}  // namespace
}  // namespace sluice::glue
