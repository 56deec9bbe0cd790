// EAL bring-up for sluice programs and the mbuf pools they use.
//
// Programs follow DPDK's convention: EAL arguments, then `--`, then the program's own.
// Setup failures are reported with the DPDK error text; nothing here aborts.
#pragma once

#include <cstdint>
#include <string>

#include "wire/errc.hpp"
#include "wire/result.hpp"

struct rte_mempool;

namespace sluice::glue {

/// Brings EAL up from the program's command line.
/// Returns the number of arguments EAL consumed (argv[n] is the first program argument,
/// after the `--`). On failure, prints why to stderr. Call once per process.
Result<int, Errc> eal_init(int argc, char** argv) noexcept;

/// Releases EAL resources; call at exit after every port is closed.
void eal_cleanup() noexcept;

/// Creates a packet mbuf pool of `count` mbufs with a per-lcore cache, on `socket`
/// (SOCKET_ID_ANY = -1). data_room is the usable bytes per mbuf (plus headroom).
Result<rte_mempool*, Errc> create_pktmbuf_pool(const std::string& name, std::uint32_t count,
                                               int socket, std::uint16_t data_room = 2048) noexcept;

}  // namespace sluice::glue
