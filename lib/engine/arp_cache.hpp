// ArpCache: IPv4 → Ethernet address resolution for one engine (RFC 826), with entries
// that expire, a few packets held per address while it resolves, and requests rate-
// limited to one per address per second.
//
// Fixed size, open addressing with linear probing, no allocation after construction: an
// appliance talks to few next hops (the gateway, a handful of on-link peers), and a miss
// on a full table only costs an ARP request. One entry remembers the last hit, so the
// common case — every segment to the same gateway — is one compare.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "time/clock.hpp"
#include "wire/ipv4_addr.hpp"
#include "wire/mac_addr.hpp"

struct rte_mbuf;

namespace sluice::engine {

class ArpCache {
 public:
  static constexpr std::size_t kSlots = 256;
  static constexpr std::size_t kHeldPerEntry = 8;
  static constexpr time::Duration kLifetime = std::chrono::seconds(60);
  static constexpr time::Duration kRetry = std::chrono::seconds(1);
  /// How long a stale entry is still used while it is asked for again (see resolve()).
  static constexpr time::Duration kProbeTime = std::chrono::seconds(3);

  ArpCache() noexcept = default;
  ~ArpCache();
  ArpCache(const ArpCache&) = delete;
  ArpCache& operator=(const ArpCache&) = delete;

  /// The address of `ip` if known and fresh.
  [[nodiscard]] std::optional<wire::MacAddr> lookup(wire::Ipv4Addr ip, time::Instant now) noexcept;

  /// The address to send to `ip` with (the transmit path). Fresh: as lookup(). Expired
  /// (stale): still the old address, for up to kProbeTime while the entry is asked for
  /// again — `should_request` says when a request is due (once per kRetry); a reply
  /// (learn) makes it fresh again. nullptr when unknown, unresolved, or stale with no
  /// answer for kProbeTime: the caller holds the packet (hold) as for a new address.
  /// The address is the entry's own, valid until the cache next changes (learn, hold,
  /// expire): a pointer, because an optional<MacAddr> copied out per packet went through
  /// overlapping 6-byte stack stores and loads that stalled store forwarding.
  /// Without this a busy flow lost every packet past the held few each time its peer's
  /// entry expired (every kLifetime), and a long-idle one its first burst.
  /// The common case — the same fresh next hop as last time — is inline: one compare of
  /// the address, one of the time.
  [[nodiscard]] const wire::MacAddr* resolve(wire::Ipv4Addr ip, time::Instant now,
                                             bool& should_request) noexcept {
    if (last_ != nullptr && last_->ip == ip && last_->resolved && last_->expires > now) [[likely]] {
      should_request = false;
      return &last_->mac;
    }
    return resolve_slow(ip, now, should_request);
  }

  /// Learns (or refreshes) ip → mac. Packets held for ip are handed to `release` (in order).
  template <class F>
  void learn(wire::Ipv4Addr ip, const wire::MacAddr& mac, time::Instant now, F&& release) noexcept {
    Entry* e = find_or_claim(ip, now);
    if (e == nullptr) return;
    e->mac = mac;
    e->resolved = true;
    e->probing = false;
    e->expires = now + kLifetime;
    for (std::uint8_t i = 0; i < e->held; ++i) release(e->pending[i], mac);
    e->held = 0;
  }

  /// Holds m until ip resolves. Returns false (caller frees m) when the entry is full or
  /// the table has no room. `should_request` is set when an ARP request is due.
  bool hold(wire::Ipv4Addr ip, rte_mbuf* m, time::Instant now, bool& should_request) noexcept;

  /// Frees held packets of entries that never resolved (call now and then). Returns the
  /// number of packets dropped.
  std::size_t expire(time::Instant now) noexcept;

  [[nodiscard]] std::size_t size() const noexcept;

 private:
  struct Entry {
    wire::Ipv4Addr ip{};
    wire::MacAddr mac{};
    time::Instant expires{};  ///< resolved: until then; pending: give up then
    time::Instant last_request{};
    time::Instant probe_since{};  ///< probing: stale, and asked for again since then
    std::array<rte_mbuf*, kHeldPerEntry> pending{};
    std::uint8_t held = 0;
    bool used = false;
    bool resolved = false;
    bool probing = false;  ///< resolved but stale, being asked for again (resolve())
  };

  const wire::MacAddr* resolve_slow(wire::Ipv4Addr ip, time::Instant now,
                                    bool& should_request) noexcept;
  Entry* find(wire::Ipv4Addr ip) noexcept;
  Entry* find_or_claim(wire::Ipv4Addr ip, time::Instant now) noexcept;
  static std::size_t slot_of(wire::Ipv4Addr ip) noexcept {
    return (ip.value * 2654435761u) >> 24;  // Fibonacci hashing to 8 bits
  }

  std::array<Entry, kSlots> table_{};
  Entry* last_ = nullptr;
};

}  // namespace sluice::engine
