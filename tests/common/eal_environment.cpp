#include "eal_environment.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <system_error>
#include <cstdlib>
#include <string>
#include <vector>

namespace sluice::test {

namespace {
rte_mempool* g_pool = nullptr;
}

void EalEnvironment::SetUp() {
  const std::string prefix = "--file-prefix=sluice-test-" + std::to_string(::getpid());
  std::vector<std::string> args = {
      "sluice-test",    "--no-huge", "-m", "256", "--no-pci",
      "--no-shconf",    prefix,      "-l", "0",   "--log-level=lib.eal:error",
      "--no-telemetry",
  };
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (rte_eal_init(static_cast<int>(args.size()), argv.data()) < 0) {
    std::fprintf(stderr, "test EAL init failed: %s\n", rte_strerror(rte_errno));
    std::exit(2);
  }
}

void EalEnvironment::TearDown() {
  if (g_pool != nullptr) {
    rte_mempool_free(g_pool);
    g_pool = nullptr;
  }
  // EAL leaves its runtime directory (/var/run/dpdk/<prefix>) behind even with
  // --no-shconf: take ours away, or every test run litters the machine.
  const std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  std::error_code ec;
  if (runtime_dir.find("sluice-test-") != std::string::npos) {
    std::filesystem::remove_all(runtime_dir, ec);
  }
}

rte_mempool* test_pktmbuf_pool() {
  if (g_pool == nullptr) {
    g_pool = rte_pktmbuf_pool_create("sluice_test_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                     SOCKET_ID_ANY);
    if (g_pool == nullptr) {
      std::fprintf(stderr, "test mempool: %s\n", rte_strerror(rte_errno));
      std::abort();
    }
  }
  return g_pool;
}

}  // namespace sluice::test
