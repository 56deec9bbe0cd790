// The Internet checksum over part of a packet held in a chain of mbufs (lib/wire sums
// one contiguous buffer): what TCP needs to checksum a segment it sends as a header mbuf
// plus payload slices, and the engine to verify one received in several mbufs.
#pragma once

#include <rte_mbuf.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/checksum.hpp"

namespace sluice::tcp {

/// Adds bytes [skip, skip + len) of the packet in `m` to the partial sum `sum`, wherever
/// its mbufs cut them (odd cuts included: RFC 1071 byte-order independence). Returns
/// false if the chain holds fewer bytes; `sum` then covers what it holds.
inline bool mbuf_checksum_partial(const rte_mbuf* m, std::size_t skip, std::size_t len,
                                  std::uint32_t& sum) noexcept {
  std::size_t at = 0;  // bytes summed so far
  for (; m != nullptr && at < len; m = m->next) {
    const std::size_t n = m->data_len;
    if (skip >= n) {
      skip -= n;
      continue;
    }
    const std::size_t take = std::min(n - skip, len - at);
    const auto* d = rte_pktmbuf_mtod_offset(m, const std::uint8_t*, skip);
    sum = wire::checksum_partial_at(std::span<const std::uint8_t>(d, take), at, sum);
    at += take;
    skip = 0;
  }
  return at == len;
}

}  // namespace sluice::tcp
