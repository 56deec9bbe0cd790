// EAL for tests: brought up once per test binary, so tests can use real rte_mbuf and
// rte_mempool objects without hugepages, PCI devices or shared files.
//
// DPDK 22.11 rejects --in-memory together with --no-huge (--no-huge implies legacy
// memory), so we get the same effect with --no-shconf and a per-process file prefix:
// no shared config, nothing left in /var/run/dpdk, test binaries can run in parallel.
#pragma once

#include <gtest/gtest.h>

struct rte_mempool;

namespace sluice::test {

class EalEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override;
  void TearDown() override;
};

/// A packet mempool shared by the tests of one binary (created on first use).
/// Precondition: EAL is up (the binary links tests/common/test_main.cpp).
rte_mempool* test_pktmbuf_pool();

}  // namespace sluice::test
