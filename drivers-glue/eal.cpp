#include "eal.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdio>

namespace sluice::glue {

Result<int, Errc> eal_init(int argc, char** argv) noexcept {
  const int n = rte_eal_init(argc, argv);
  if (n < 0) {
    const int err = rte_errno;
    std::fprintf(stderr, "sluice: EAL initialisation failed: %s\n", rte_strerror(err));
    if (err == ENOMEM || err == EFAULT) {
      std::fprintf(stderr,
                   "sluice: hint: without hugepages pass --no-huge -m 512 (and --no-pci "
                   "when there is no NIC)\n");
    }
    return Err{from_errno(err)};
  }
  return n;
}

void eal_cleanup() noexcept {
  rte_eal_cleanup();
}

Result<rte_mempool*, Errc> create_pktmbuf_pool(const std::string& name, std::uint32_t count,
                                               int socket, std::uint16_t data_room) noexcept {
  // Per-lcore cache: as large as DPDK allows, but no more than count / 1.5 (DPDK's rule).
  const unsigned cache = std::min<unsigned>(RTE_MEMPOOL_CACHE_MAX_SIZE, count * 2 / 3);
  rte_mempool* mp =
      rte_pktmbuf_pool_create(name.c_str(), count, cache, 0,
                              static_cast<std::uint16_t>(data_room + RTE_PKTMBUF_HEADROOM), socket);
  if (mp == nullptr) {
    const int err = rte_errno;
    std::fprintf(stderr, "sluice: mbuf pool '%s' (%u mbufs) could not be created: %s\n",
                 name.c_str(), count, rte_strerror(err));
    return Err{from_errno(err)};
  }
  return mp;
}

}  // namespace sluice::glue
