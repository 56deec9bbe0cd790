#include "engine/arp_cache.hpp"

#include <rte_mbuf.h>

namespace sluice::engine {

ArpCache::~ArpCache() {
  for (Entry& e : table_) {
    for (std::uint8_t i = 0; i < e.held; ++i) rte_pktmbuf_free(e.pending[i]);
    e.held = 0;
  }
}

ArpCache::Entry* ArpCache::find(wire::Ipv4Addr ip) noexcept {
  if (last_ != nullptr && last_->ip == ip && last_->used) return last_;
  const std::size_t start = slot_of(ip);
  for (std::size_t i = 0; i < kSlots; ++i) {
    Entry& e = table_[(start + i) % kSlots];
    if (!e.used) return nullptr;
    if (e.ip == ip) return last_ = &e;
  }
  return nullptr;
}

ArpCache::Entry* ArpCache::find_or_claim(wire::Ipv4Addr ip, time::Instant now) noexcept {
  if (Entry* e = find(ip)) return e;
  const std::size_t start = slot_of(ip);
  Entry* stale = nullptr;
  for (std::size_t i = 0; i < kSlots; ++i) {
    Entry& e = table_[(start + i) % kSlots];
    if (!e.used) {
      e = Entry{};
      e.used = true;
      e.ip = ip;
      e.expires = now + kLifetime;
      return &e;
    }
    if (stale == nullptr && e.held == 0 && e.expires <= now) stale = &e;
  }
  if (stale != nullptr) {  // full: reuse an expired entry (probe chains stay intact)
    *stale = Entry{};
    stale->used = true;
    stale->ip = ip;
    stale->expires = now + kLifetime;
    if (last_ == stale) last_ = nullptr;
  }
  return stale;
}

std::optional<wire::MacAddr> ArpCache::lookup(wire::Ipv4Addr ip, time::Instant now) noexcept {
  Entry* e = find(ip);
  if (e == nullptr || !e->resolved || e->expires <= now) return std::nullopt;
  return e->mac;
}

// RFC 1122 §2.3.2.1: a cache entry must be revalidated, and flooding the link with
// requests avoided. Like Linux's STALE/PROBE neighbour states: the old address stays in use
// while we ask again at most once per kRetry; no answer within kProbeTime, and it is gone.
const wire::MacAddr* ArpCache::resolve_slow(wire::Ipv4Addr ip, time::Instant now,
                                            bool& should_request) noexcept {
  should_request = false;
  Entry* e = find(ip);
  if (e == nullptr || !e->resolved) return nullptr;
  if (e->expires > now) [[likely]] {
    return &e->mac;
  }
  if (!e->probing) {  // first use since it went stale: start asking
    e->probing = true;
    e->probe_since = now;
    e->last_request = now - kRetry;
  } else if (now - e->probe_since >= kProbeTime) {
    e->resolved = false;  // no answer: resolve from scratch (hold)
    e->probing = false;
    return nullptr;
  }
  if (now - e->last_request >= kRetry) {
    should_request = true;
    e->last_request = now;
  }
  return &e->mac;
}

bool ArpCache::hold(wire::Ipv4Addr ip, rte_mbuf* m, time::Instant now,
                    bool& should_request) noexcept {
  should_request = false;
  Entry* e = find_or_claim(ip, now);
  if (e == nullptr) return false;
  if (e->resolved && e->expires <= now) e->resolved = false;  // stale: resolve again
  if (e->held == 0 || now - e->last_request >= kRetry) {
    should_request = true;
    e->last_request = now;
    if (e->held == 0) e->expires = now + 3 * kRetry;  // give up on the held packets then
  }
  if (e->held >= kHeldPerEntry) return false;
  e->pending[e->held++] = m;
  return true;
}

std::size_t ArpCache::expire(time::Instant now) noexcept {
  std::size_t dropped = 0;
  for (Entry& e : table_) {
    if (e.held == 0 || e.expires > now) continue;
    for (std::uint8_t i = 0; i < e.held; ++i) rte_pktmbuf_free(e.pending[i]);
    dropped += e.held;
    e.held = 0;
  }
  return dropped;
}

std::size_t ArpCache::size() const noexcept {
  std::size_t n = 0;
  for (const Entry& e : table_) n += e.used && e.resolved ? 1 : 0;
  return n;
}

}  // namespace sluice::engine
