// Helpers shared by the mbuf buffer tests: seeded bytes, and reading a chain back after
// checking that its header fields (nb_segs, pkt_len) describe it.
#pragma once

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <cstdint>
#include <random>
#include <vector>

namespace sluice::tcp::test_util {

using Bytes = std::vector<std::uint8_t>;

/// A seeded generator of 32-bit values (mt19937's result_type is wider on LP64).
class Rng {
 public:
  explicit Rng(std::uint32_t seed) : engine_(seed) {}
  std::uint32_t operator()() { return static_cast<std::uint32_t>(engine_()); }

 private:
  std::mt19937 engine_;
};

inline Bytes random_bytes(Rng& rng, std::size_t n) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

inline std::uint8_t* mbuf_data(rte_mbuf* m) {
  return static_cast<std::uint8_t*>(m->buf_addr) + m->data_off;
}

/// The bytes of a chain, after checking that its header fields describe it.
inline Bytes chain_bytes(const rte_mbuf* m) {
  Bytes out;
  const std::uint32_t pkt_len = m->pkt_len;
  const std::uint16_t nb_segs = m->nb_segs;
  std::uint16_t segs = 0;
  for (; m != nullptr; m = m->next) {
    const auto* p = static_cast<const std::uint8_t*>(m->buf_addr) + m->data_off;
    out.insert(out.end(), p, p + m->data_len);
    ++segs;
  }
  EXPECT_EQ(segs, nb_segs);
  EXPECT_EQ(out.size(), pkt_len);
  return out;
}

}  // namespace sluice::tcp::test_util
