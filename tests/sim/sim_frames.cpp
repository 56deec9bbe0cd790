#include "sim_frames.hpp"

#include <rte_mbuf.h>

#include <cstdlib>
#include <cstring>

namespace sluice::sim {

std::vector<std::uint8_t> linearize_datagram(const rte_mbuf* m, const wire::MacAddr& src,
                                             const wire::MacAddr& dst) {
  std::vector<std::uint8_t> frame;
  frame.reserve(kSimEthHeaderLen + rte_pktmbuf_pkt_len(m));
  frame.insert(frame.end(), dst.bytes.begin(), dst.bytes.end());
  frame.insert(frame.end(), src.bytes.begin(), src.bytes.end());
  frame.push_back(0x08);  // EtherType IPv4
  frame.push_back(0x00);
  for (const rte_mbuf* s = m; s != nullptr; s = s->next) {
    const auto* d = rte_pktmbuf_mtod(s, const std::uint8_t*);
    frame.insert(frame.end(), d, d + s->data_len);
  }
  return frame;
}

rte_mbuf* mbuf_from_frame(rte_mempool* pool, std::span<const std::uint8_t> frame) {
  if (frame.size() > 0xffff) return nullptr;
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  char* d = rte_pktmbuf_append(m, static_cast<std::uint16_t>(frame.size()));
  if (d == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  std::memcpy(d, frame.data(), frame.size());
  return m;
}

rte_mempool* sim_clone_pool() {
  static rte_mempool* pool = [] {
    rte_mempool* p = rte_pktmbuf_pool_create("sim_clone_pool", 16383, 256, 0, 0, SOCKET_ID_ANY);
    if (p == nullptr) std::abort();
    return p;
  }();
  return pool;
}

}  // namespace sluice::sim
