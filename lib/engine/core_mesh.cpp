#include "engine/core_mesh.hpp"

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdio>
#include <new>

namespace sluice::engine {

namespace {

rte_ring* make_ring(const char* what, std::uint16_t a, std::uint16_t b, unsigned size,
                    int socket) noexcept {
  // Ring names are global to the EAL instance (and its file prefix): make them unique.
  char name[RTE_RING_NAMESIZE];
  std::snprintf(name, sizeof name, "sl_%s_%u_%u", what, a, b);
  rte_ring* r = rte_ring_create(name, size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (r == nullptr) {
    std::fprintf(stderr, "sluice: ring %s (%u entries): %s\n", name, size, rte_strerror(rte_errno));
  }
  return r;
}

}  // namespace

Result<std::unique_ptr<CoreMesh>, Errc> CoreMesh::create(std::uint16_t engines,
                                                         const std::vector<bool>& relay,
                                                         int socket) noexcept {
  std::unique_ptr<CoreMesh> mesh(new (std::nothrow) CoreMesh());
  if (!mesh) return Err{Errc::NoMemory};
  mesh->engines_ = engines;
  mesh->steer_.assign(static_cast<std::size_t>(engines) * engines, nullptr);
  mesh->relay_.assign(engines, nullptr);
  for (std::uint16_t from = 0; from < engines; ++from) {
    for (std::uint16_t to = 0; to < engines; ++to) {
      if (from == to) continue;
      rte_ring* r = make_ring("st", from, to, kSteerRingSize, socket);
      if (r == nullptr) return Err{Errc::NoMemory};
      mesh->steer_[static_cast<std::size_t>(from) * engines + to] = r;
    }
    if (from < relay.size() && relay[from]) {
      rte_ring* r = make_ring("tx", from, 0, kRelayRingSize, socket);
      if (r == nullptr) return Err{Errc::NoMemory};
      mesh->relay_[from] = r;
    }
  }
  return mesh;
}

std::uint64_t CoreMesh::drain() noexcept {
  std::uint64_t n = 0;
  auto empty = [&n](rte_ring* r) {
    if (r == nullptr) return;
    void* e = nullptr;
    while (rte_ring_sc_dequeue(r, &e) == 0) {
      Message kind{};
      rte_pktmbuf_free(decode(e, kind));
      ++n;
    }
  };
  for (rte_ring* r : steer_) empty(r);
  for (rte_ring* r : relay_) empty(r);
  leftover_ += n;
  return n;
}

CoreMesh::~CoreMesh() {
  drain();
  for (rte_ring* r : steer_) rte_ring_free(r);
  for (rte_ring* r : relay_) rte_ring_free(r);
}

}  // namespace sluice::engine
