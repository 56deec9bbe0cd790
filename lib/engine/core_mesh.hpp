// CoreMesh: the rte_rings between the engines of one port — the only way anything crosses
// cores (DESIGN.md: shared-nothing engines, cross-core messages over rte_ring).
//
//   steer(from, to)  one single-producer/single-consumer ring per ordered pair of
//                    engines: frames engine `from` received for a flow `to` owns, and
//                    copies of ARP frames so every engine's cache learns (tagged, see
//                    below). SPSC per pair: enqueue and dequeue are plain loads and stores
//                    with release/acquire ordering, no compare-and-swap, no lock.
//   relay(from)      for an engine without a TX queue of its own (the port has fewer
//                    queues than engines): the frames it sends, drained by the engine that
//                    owns the port's queue 0, which transmits them. SPSC as well.
//
// A ring entry is an rte_mbuf pointer; mbufs are cache-line aligned, so bit 0 is free to
// say what the frame is for (Message).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "wire/errc.hpp"
#include "wire/result.hpp"

struct rte_mbuf;
struct rte_ring;

namespace sluice::engine {

class CoreMesh {
 public:
  /// Ring sizes (entries, power of two). A ring holds what one engine may hand another
  /// between two of the other's poll iterations; 4096 is 128 full RX bursts.
  static constexpr unsigned kSteerRingSize = 4096;
  static constexpr unsigned kRelayRingSize = 4096;

  /// What a steered frame is for.
  enum class Message : std::uintptr_t {
    Frame = 0,     ///< a frame this engine owns: process it as if received
    ArpLearn = 1,  ///< an ARP frame another engine already answered: only learn from it
  };
  static std::uintptr_t encode(rte_mbuf* m, Message kind) noexcept {
    return reinterpret_cast<std::uintptr_t>(m) | static_cast<std::uintptr_t>(kind);
  }
  static rte_mbuf* decode(void* entry, Message& kind) noexcept {
    const auto v = reinterpret_cast<std::uintptr_t>(entry);
    kind = static_cast<Message>(v & 1u);
    return reinterpret_cast<rte_mbuf*>(v & ~std::uintptr_t{1});
  }

  /// Creates every ring for `engines` engines; `relay` marks engines that need a relay ring.
  /// Errors (printed, naming the ring): NoMemory.
  static Result<std::unique_ptr<CoreMesh>, Errc> create(std::uint16_t engines,
                                                        const std::vector<bool>& relay,
                                                        int socket) noexcept;
  /// Frees every mbuf still queued (counted in leftover()) and the rings.
  ~CoreMesh();
  CoreMesh(const CoreMesh&) = delete;
  CoreMesh& operator=(const CoreMesh&) = delete;

  [[nodiscard]] std::uint16_t engines() const noexcept { return engines_; }
  [[nodiscard]] rte_ring* steer(std::uint16_t from, std::uint16_t to) const noexcept {
    return steer_[static_cast<std::size_t>(from) * engines_ + to];
  }
  /// nullptr when `from` transmits on its own queue.
  [[nodiscard]] rte_ring* relay(std::uint16_t from) const noexcept { return relay_[from]; }
  /// Frames freed at teardown because their engine had already stopped.
  [[nodiscard]] std::uint64_t leftover() const noexcept { return leftover_; }
  /// Frees what is queued now (call once every engine has stopped); returns how many.
  std::uint64_t drain() noexcept;

 private:
  CoreMesh() = default;
  std::uint16_t engines_ = 0;
  std::vector<rte_ring*> steer_;  ///< engines × engines, nullptr on the diagonal
  std::vector<rte_ring*> relay_;
  std::uint64_t leftover_ = 0;
};

}  // namespace sluice::engine
