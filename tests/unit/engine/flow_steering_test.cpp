// engine::FlowSteering — the flow → core function: both directions of a flow have one
// owner, flows spread evenly over the cores, the hash is the NIC's (rte_softrss with the
// key the glue programs), and an active open finds a local port for every core.
#include <gtest/gtest.h>
#include <rte_thash.h>

#include <array>
#include <initializer_list>
#include <random>
#include <vector>

#include "engine/flow_steering.hpp"
#include "port.hpp"

namespace sluice::engine {
namespace {

constexpr auto kKey = glue::symmetric_rss_key();

tcp::FourTuple random_tuple(std::mt19937& rng) {
  return tcp::FourTuple{wire::Ipv4Addr{static_cast<std::uint32_t>(rng())},
                        wire::Ipv4Addr{static_cast<std::uint32_t>(rng())},
                        static_cast<std::uint16_t>(rng()), static_cast<std::uint16_t>(rng())};
}

TEST(FlowSteering, HashIsDpdksSoftwareToeplitzOverTheReceivedTuple) {
  const FlowSteering fs(kKey, 4);
  std::mt19937 rng(1);
  for (int i = 0; i < 1000; ++i) {
    const auto t = random_tuple(rng);
    rte_ipv4_tuple in{};
    in.src_addr = t.remote_ip.value;
    in.dst_addr = t.local_ip.value;
    in.sport = t.remote_port;
    in.dport = t.local_port;
    const std::uint32_t want =
        rte_softrss(reinterpret_cast<std::uint32_t*>(&in), RTE_THASH_V4_L4_LEN, kKey.data());
    ASSERT_EQ(fs.hash(t.remote_ip, t.local_ip, t.remote_port, t.local_port), want);
  }
}

TEST(FlowSteering, BothDirectionsOfAFlowHaveOneOwner) {
  for (const std::uint16_t n : std::initializer_list<std::uint16_t>{2, 3, 4, 7, 8}) {
    for (const std::uint16_t reta : std::initializer_list<std::uint16_t>{0, 128, 512}) {
      const FlowSteering fs(kKey, n, reta);
      std::mt19937 rng(n * 1000u + reta);
      for (int i = 0; i < 5000; ++i) {
        const auto t = random_tuple(rng);
        ASSERT_EQ(fs.hash(t.remote_ip, t.local_ip, t.remote_port, t.local_port),
                  fs.hash(t.local_ip, t.remote_ip, t.local_port, t.remote_port));
        ASSERT_EQ(fs.owner_of(t), fs.owner_of(t.reversed())) << "n " << n << " reta " << reta;
        ASSERT_LT(fs.owner_of(t), n);
      }
    }
  }
}

// Many clients of one server port (the web-server shape): within ±10 % of an even share.
TEST(FlowSteering, FlowsSpreadEvenlyOverCores) {
  for (const std::uint16_t n : std::initializer_list<std::uint16_t>{2, 3, 4, 8}) {
    const FlowSteering fs(kKey, n);
    std::mt19937 rng(n);
    std::vector<int> per_core(n, 0);
    constexpr int kFlows = 40000;
    for (int i = 0; i < kFlows; ++i) {
      const tcp::FourTuple t{
          wire::Ipv4Addr{0xc6120001},
          wire::Ipv4Addr{0xc6120000u | static_cast<std::uint32_t>(rng() & 0xffff)}, 80,
          static_cast<std::uint16_t>(32768 + rng() % 28232)};
      ++per_core[fs.owner_of(t)];
    }
    for (std::uint16_t c = 0; c < n; ++c) {
      EXPECT_NEAR(per_core[c], kFlows / n, kFlows / n / 10) << "core " << c << " of " << n;
    }
  }
}

// One client talking to one peer: only the source port varies, and still every core gets
// its share. This is what the port choice of an active open relies on.
TEST(FlowSteering, SourcePortsAloneSpreadOverCores) {
  const FlowSteering fs(kKey, 2);
  std::array<int, 2> per_core{};
  for (std::uint32_t p = 32768; p <= 60999; ++p) {
    ++per_core[fs.owner_of({wire::Ipv4Addr{0xc6120001}, wire::Ipv4Addr{0xc6120002},
                            static_cast<std::uint16_t>(p), 5000})];
  }
  EXPECT_NEAR(per_core[0], 28232 / 2, 28232 / 20);
  EXPECT_NEAR(per_core[1], 28232 / 2, 28232 / 20);
}

TEST(FlowSteering, HardwareRetaAgreesWithModuloWhenCoresDivideIt) {
  std::mt19937 rng(3);
  for (const std::uint16_t n : std::initializer_list<std::uint16_t>{2, 4, 8}) {
    const FlowSteering sw(kKey, n);
    const FlowSteering hw(kKey, n, 128);
    for (int i = 0; i < 5000; ++i) {
      const auto t = random_tuple(rng);
      ASSERT_EQ(sw.owner_of(t), hw.owner_of(t));
    }
  }
}

TEST(FlowSteering, ActiveOpenFindsAPortForEveryCore) {
  std::mt19937 rng(5);
  for (const std::uint16_t n : std::initializer_list<std::uint16_t>{1, 2, 3, 4, 8}) {
    const FlowSteering fs(kKey, n);
    for (int peer = 0; peer < 200; ++peer) {
      const tcp::FourTuple base{wire::Ipv4Addr{0xc6120001},
                                wire::Ipv4Addr{static_cast<std::uint32_t>(rng())}, 0,
                                static_cast<std::uint16_t>(rng() | 1)};
      for (std::uint16_t core = 0; core < n; ++core) {
        std::uint16_t cursor = 32768;
        const auto port = fs.pick_local_port(base, core, 32768, 60999, cursor,
                                             [](std::uint16_t) { return true; });
        ASSERT_TRUE(port.has_value()) << "core " << core << " of " << n;
        tcp::FourTuple t = base;
        t.local_port = *port;
        EXPECT_EQ(fs.owner_of(t), core);
        EXPECT_EQ(fs.owner_of(t.reversed()), core);
        EXPECT_EQ(cursor, *port == 60999 ? 32768 : *port + 1);  // the next search starts after it
      }
    }
  }
}

TEST(FlowSteering, ActiveOpenSkipsBusyPortsAndReportsExhaustion) {
  const FlowSteering fs(kKey, 2);
  const tcp::FourTuple base{wire::Ipv4Addr{0xc6120001}, wire::Ipv4Addr{0xc6120002}, 0, 80};
  std::uint16_t cursor = 40000;
  std::vector<std::uint16_t> taken;
  // A small range, every free port taken in turn, then nothing left.
  for (;;) {
    const auto p = fs.pick_local_port(base, 1, 40000, 40063, cursor, [&](std::uint16_t port) {
      for (auto q : taken)
        if (q == port) return false;
      return true;
    });
    if (!p) break;
    taken.push_back(*p);
    ASSERT_LT(taken.size(), 65u);
  }
  EXPECT_GT(taken.size(), 16u);  // about half of 64
  EXPECT_LT(taken.size(), 48u);
  for (auto p : taken) {
    tcp::FourTuple t = base;
    t.local_port = p;
    EXPECT_EQ(fs.owner_of(t), 1);
  }
}

}  // namespace
}  // namespace sluice::engine
