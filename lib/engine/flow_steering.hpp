// FlowSteering: the one function that says which engine (core) owns a TCP/IPv4 flow
// (DESIGN.md "Sharding and RSS").
//
// owner = RETA[Toeplitz(key, src ip, dst ip, src port, dst port) mod RETA size], with the
// same symmetric key the NIC is given (glue::symmetric_rss_key()), so both directions of a
// flow have one owner. The RETA is round-robin (entry i → engine i mod n; the glue
// programs it so, which is also what drivers default to), hence:
//   - hardware RSS with a RETA of `reta_size` entries (a power of two):
//       owner = (hash & (reta_size - 1)) % n
//   - software steering (no RETA; the port has no RSS or fewer queues than engines):
//       owner = hash % n
// The two agree whenever n divides reta_size (n a power of two), and each is exactly what
// its receive path does, so an active open that picks its port with owner_of() gets its
// replies on its own core either way.
//
// The hash is DPDK's rte_softrss_be — the software model of the NIC's Toeplitz — over the
// tuple in host byte order, with the key pre-converted to host-order words once.
#pragma once

#include <rte_thash.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "tcp/four_tuple.hpp"
#include "wire/ipv4_addr.hpp"

namespace sluice::engine {

class FlowSteering {
 public:
  /// The Toeplitz hash of a 4-tuple reads 12 bytes of input and 16 bytes of key; keep the
  /// usual 40 so a longer key works too.
  static constexpr std::size_t kKeyLen = 40;

  FlowSteering() noexcept = default;
  /// Pre: key.size() >= 16 (only the first kKeyLen bytes are used); engines >= 1;
  /// reta_size is 0 (software steering) or a power of two.
  FlowSteering(std::span<const std::uint8_t> key, std::uint16_t engines,
               std::uint16_t reta_size = 0) noexcept
      : engines_(engines == 0 ? 1 : engines), reta_mask_(reta_size == 0 ? 0 : reta_size - 1u) {
    std::array<std::uint8_t, kKeyLen> raw{};
    std::memcpy(raw.data(), key.data(), key.size() < kKeyLen ? key.size() : kKeyLen);
    std::array<std::uint32_t, kKeyLen / 4> words{};
    std::memcpy(words.data(), raw.data(), raw.size());
    rte_convert_rss_key(words.data(), key_.data(), static_cast<int>(kKeyLen));
  }

  [[nodiscard]] std::uint16_t engines() const noexcept { return engines_; }

  /// The NIC's hash of a packet from src:sport to dst:dport (symmetric with our key).
  [[nodiscard]] std::uint32_t hash(wire::Ipv4Addr src, wire::Ipv4Addr dst, std::uint16_t sport,
                                   std::uint16_t dport) const noexcept {
    rte_ipv4_tuple t{};
    t.src_addr = src.value;
    t.dst_addr = dst.value;
    t.sport = sport;
    t.dport = dport;
    return rte_softrss_be(reinterpret_cast<std::uint32_t*>(&t), RTE_THASH_V4_L4_LEN,
                          reinterpret_cast<const std::uint8_t*>(key_.data()));
  }

  /// The engine that owns a hash (see the file comment for the two RETA cases).
  [[nodiscard]] std::uint16_t owner(std::uint32_t hash) const noexcept {
    if (engines_ == 1) return 0;
    const std::uint32_t h = reta_mask_ != 0 ? (hash & reta_mask_) : hash;
    return static_cast<std::uint16_t>(h % engines_);
  }

  /// The owner of a connection seen from our end (hashed as the peer's packets arrive).
  [[nodiscard]] std::uint16_t owner_of(const tcp::FourTuple& t) const noexcept {
    if (engines_ == 1) return 0;  // a lone engine owns everything: no hash to compute
    return owner(hash(t.remote_ip, t.local_ip, t.remote_port, t.local_port));
  }

  /// An ephemeral local port in [first, last] for an active open from `engine` to
  /// t.remote_ip:t.remote_port such that the peer's replies hash to `engine`, and for which
  /// `is_free(port)` holds. Starts at `cursor` and leaves it after the port returned, so
  /// successive calls take ports in turn. nullopt when the whole range has none.
  template <class IsFree>
  std::optional<std::uint16_t> pick_local_port(tcp::FourTuple t, std::uint16_t engine,
                                               std::uint16_t first, std::uint16_t last,
                                               std::uint16_t& cursor,
                                               IsFree&& is_free) const noexcept {
    if (cursor < first || cursor > last) cursor = first;
    const std::uint32_t span = static_cast<std::uint32_t>(last - first) + 1;
    for (std::uint32_t tries = 0; tries < span; ++tries) {
      const std::uint16_t port = cursor;
      cursor = cursor == last ? first : static_cast<std::uint16_t>(cursor + 1);
      t.local_port = port;
      if (owner_of(t) != engine) continue;
      if (is_free(port)) return port;
    }
    return std::nullopt;
  }

 private:
  std::array<std::uint32_t, kKeyLen / 4> key_{};  ///< host-order words (rte_convert_rss_key)
  std::uint16_t engines_ = 1;
  std::uint32_t reta_mask_ = 0;
};

}  // namespace sluice::engine
