#include "sim_frames.hpp"

#include <rte_mbuf.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "wire/bytes.hpp"
#include "wire/checksum.hpp"
#include "wire/tcp.hpp"

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

rte_mbuf* mbuf_chain_from_frame(rte_mempool* pool, std::span<const std::uint8_t> frame,
                                std::size_t head) {
  rte_mbuf* first = nullptr;
  rte_mbuf* last = nullptr;
  std::size_t at = 0;
  while (at < frame.size()) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) {
      rte_pktmbuf_free(first);
      return nullptr;
    }
    const std::size_t n = std::min<std::size_t>(
        first == nullptr ? std::max(head, std::size_t{1}) : rte_pktmbuf_tailroom(m),
        frame.size() - at);
    std::memcpy(rte_pktmbuf_append(m, static_cast<std::uint16_t>(n)), frame.data() + at, n);
    at += n;
    if (first == nullptr) {
      first = m;
    } else {
      last->next = m;
      ++first->nb_segs;
      first->pkt_len += static_cast<std::uint32_t>(n);
    }
    last = m;
  }
  return first;
}

namespace {

constexpr std::size_t kIp = kSimEthHeaderLen;  // where the IPv4 header starts

void fill_tcp_checksum(std::vector<std::uint8_t>& f, std::size_t tcp_at) {
  const wire::Ipv4Addr src{wire::load_be32(&f[kIp + 12])};
  const wire::Ipv4Addr dst{wire::load_be32(&f[kIp + 16])};
  const std::span<std::uint8_t> seg(f.data() + tcp_at, f.size() - tcp_at);
  wire::store_be16(seg.data() + 16, 0);
  wire::store_be16(seg.data() + 16, wire::tcp_checksum(src, dst, seg));
}

void fill_ipv4(std::vector<std::uint8_t>& f, std::size_t ip_hlen, std::uint16_t id) {
  wire::store_be16(&f[kIp + 2], static_cast<std::uint16_t>(f.size() - kIp));
  wire::store_be16(&f[kIp + 4], id);
  wire::store_be16(&f[kIp + 10], 0);
  wire::store_be16(
      &f[kIp + 10],
      wire::checksum_fold(wire::checksum_partial(std::span<const std::uint8_t>(&f[kIp], ip_hlen))));
}

}  // namespace

std::vector<std::vector<std::uint8_t>> segment_tso(std::span<const std::uint8_t> frame,
                                                   std::uint16_t mss) {
  const std::size_t ip_hlen = (frame[kIp] & 0x0f) * 4u;
  const std::size_t tcp_at = kIp + ip_hlen;
  const std::size_t hdrs = tcp_at + (frame[tcp_at + 12] >> 4) * 4u;
  const std::uint8_t flags = frame[tcp_at + 13];
  const std::uint32_t seq = wire::load_be32(&frame[tcp_at + 4]);
  const std::uint16_t id = wire::load_be16(&frame[kIp + 4]);
  std::vector<std::vector<std::uint8_t>> out;
  for (std::size_t off = 0; hdrs + off < frame.size(); off += mss) {
    const std::size_t n = std::min<std::size_t>(mss, frame.size() - hdrs - off);
    std::vector<std::uint8_t> f(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(hdrs));
    f.insert(f.end(), frame.begin() + static_cast<std::ptrdiff_t>(hdrs + off),
             frame.begin() + static_cast<std::ptrdiff_t>(hdrs + off + n));
    const bool last = hdrs + off + n == frame.size();
    wire::store_be32(&f[tcp_at + 4], seq + static_cast<std::uint32_t>(off));
    f[tcp_at + 13] =
        last ? flags
             : static_cast<std::uint8_t>(flags & ~(wire::TcpFlag::Fin | wire::TcpFlag::Psh));
    fill_ipv4(f, ip_hlen, static_cast<std::uint16_t>(id + out.size()));
    fill_tcp_checksum(f, tcp_at);
    out.push_back(std::move(f));
  }
  return out;
}

void complete_tcp_checksum(std::vector<std::uint8_t>& frame) {
  fill_tcp_checksum(frame, kIp + (frame[kIp] & 0x0f) * 4u);
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
