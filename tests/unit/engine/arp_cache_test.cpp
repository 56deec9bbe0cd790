// ArpCache (RFC 826 resolution for one engine): learning, expiry, packets held while an
// address resolves and released in order when it does, request rate limit, bounded holds,
// stale entries used while they are revalidated (RFC 1122 §2.3.2.1).
#include "engine/arp_cache.hpp"

#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <cstdlib>
#include <optional>
#include <vector>

#include "eal_environment.hpp"

namespace sluice::engine {
namespace {

using namespace std::chrono_literals;

const wire::Ipv4Addr kPeer = wire::Ipv4Addr::from_octets(198, 18, 0, 2);
const wire::MacAddr kMac{{0x02, 0, 0, 0, 0, 0x02}};
const time::Instant kT0 = time::Instant{} + 1h;

rte_mbuf* packet(std::uint8_t tag) {
  rte_mbuf* m = rte_pktmbuf_alloc(test::test_pktmbuf_pool());
  if (m == nullptr) std::abort();  // the test pool has thousands: never in practice
  auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, 1));
  if (p == nullptr) std::abort();
  *p = tag;
  return m;
}

/// resolve()'s answer as a value (nullopt for nullptr), for EXPECT_EQ.
std::optional<wire::MacAddr> got(const wire::MacAddr* mac) {
  return mac != nullptr ? std::optional<wire::MacAddr>(*mac) : std::nullopt;
}

TEST(ArpCache, LearnedAddressIsFoundUntilItExpires) {
  ArpCache arp;
  EXPECT_FALSE(arp.lookup(kPeer, kT0).has_value());
  arp.learn(kPeer, kMac, kT0, [](rte_mbuf*, const wire::MacAddr&) { FAIL() << "nothing held"; });
  ASSERT_TRUE(arp.lookup(kPeer, kT0 + 1s).has_value());
  EXPECT_EQ(*arp.lookup(kPeer, kT0 + 1s), kMac);
  EXPECT_EQ(arp.size(), 1u);
  EXPECT_TRUE(arp.lookup(kPeer, kT0 + ArpCache::kLifetime - 1ms).has_value());
  EXPECT_FALSE(arp.lookup(kPeer, kT0 + ArpCache::kLifetime).has_value());  // stale
}

TEST(ArpCache, HeldPacketsAreReleasedInOrderWhenTheAddressResolves) {
  const unsigned base = rte_mempool_in_use_count(test::test_pktmbuf_pool());
  ArpCache arp;
  bool request = false;
  ASSERT_TRUE(arp.hold(kPeer, packet(1), kT0, request));
  EXPECT_TRUE(request);  // the first packet asks
  ASSERT_TRUE(arp.hold(kPeer, packet(2), kT0 + 10ms, request));
  EXPECT_FALSE(request);  // within a second: no second request
  ASSERT_TRUE(arp.hold(kPeer, packet(3), kT0 + ArpCache::kRetry, request));
  EXPECT_TRUE(request);  // a second later: ask again
  std::vector<std::uint8_t> released;
  arp.learn(kPeer, kMac, kT0 + 1500ms, [&](rte_mbuf* m, const wire::MacAddr& mac) {
    EXPECT_EQ(mac, kMac);
    released.push_back(*rte_pktmbuf_mtod(m, std::uint8_t*));
    rte_pktmbuf_free(m);
  });
  EXPECT_EQ(released, (std::vector<std::uint8_t>{1, 2, 3}));
  EXPECT_EQ(rte_mempool_in_use_count(test::test_pktmbuf_pool()), base);
}

TEST(ArpCache, HoldsAreBoundedAndUnresolvedOnesAreDroppedLater) {
  const unsigned base = rte_mempool_in_use_count(test::test_pktmbuf_pool());
  ArpCache arp;
  bool request = false;
  for (std::size_t i = 0; i < ArpCache::kHeldPerEntry; ++i) {
    ASSERT_TRUE(arp.hold(kPeer, packet(static_cast<std::uint8_t>(i)), kT0, request));
  }
  rte_mbuf* extra = packet(99);
  EXPECT_FALSE(arp.hold(kPeer, extra, kT0, request));  // the caller frees it (and counts it)
  rte_pktmbuf_free(extra);
  EXPECT_EQ(arp.expire(kT0 + 1s), 0u);                                         // still waiting
  EXPECT_EQ(arp.expire(kT0 + 3 * ArpCache::kRetry), ArpCache::kHeldPerEntry);  // gave up
  EXPECT_EQ(rte_mempool_in_use_count(test::test_pktmbuf_pool()), base);
}

// A peer in constant use must not lose packets each time its entry expires: the old
// address goes on being used while it is asked for again, once a second.
TEST(ArpCache, StaleEntryIsStillUsedWhileAskedForAgain) {
  ArpCache arp;
  bool request = true;
  arp.learn(kPeer, kMac, kT0, [](rte_mbuf*, const wire::MacAddr&) {});
  const wire::MacAddr* mac = arp.resolve(kPeer, kT0 + 1s, request);
  ASSERT_NE(mac, nullptr);
  EXPECT_EQ(*mac, kMac);
  EXPECT_FALSE(request);  // fresh: nothing to ask
  const time::Instant stale = kT0 + ArpCache::kLifetime;
  ASSERT_FALSE(arp.lookup(kPeer, stale).has_value());  // lookup() says only what is fresh
  mac = arp.resolve(kPeer, stale, request);
  ASSERT_NE(mac, nullptr);
  EXPECT_EQ(*mac, kMac);
  EXPECT_TRUE(request);  // ask again
  EXPECT_NE(arp.resolve(kPeer, stale + 500ms, request), nullptr);
  EXPECT_FALSE(request);  // within a second: no second request
  EXPECT_NE(arp.resolve(kPeer, stale + ArpCache::kRetry, request), nullptr);
  EXPECT_TRUE(request);
  // The answer makes it fresh again: no more requests.
  arp.learn(kPeer, kMac, stale + 1500ms, [](rte_mbuf*, const wire::MacAddr&) {});
  EXPECT_NE(arp.resolve(kPeer, stale + 2500ms, request), nullptr);
  EXPECT_FALSE(request);
  EXPECT_TRUE(arp.lookup(kPeer, stale + 2500ms).has_value());
}

// ... but an entry nobody answers for goes: after kProbeTime the caller holds and resolves.
TEST(ArpCache, StaleEntryWithoutAnswerIsDroppedAfterTheProbeTime) {
  ArpCache arp;
  bool request = false;
  arp.learn(kPeer, kMac, kT0, [](rte_mbuf*, const wire::MacAddr&) {});
  // Idle for long past expiry: the first use starts the probe time.
  const time::Instant late = kT0 + 10 * ArpCache::kLifetime;
  EXPECT_NE(arp.resolve(kPeer, late, request), nullptr);
  EXPECT_TRUE(request);
  EXPECT_NE(arp.resolve(kPeer, late + ArpCache::kProbeTime - 1ms, request), nullptr);
  EXPECT_EQ(arp.resolve(kPeer, late + ArpCache::kProbeTime, request), nullptr);
  EXPECT_EQ(arp.resolve(kPeer, late + ArpCache::kProbeTime + 1s, request), nullptr);
  // A new answer brings it back.
  arp.learn(kPeer, kMac, late + 5s, [](rte_mbuf*, const wire::MacAddr&) {});
  EXPECT_NE(arp.resolve(kPeer, late + 5s, request), nullptr);
  EXPECT_FALSE(request);
}

// resolve() answers the last next hop inline: that answer follows every change the slow
// path would see (a new address learned, another hop in between, expiry).
TEST(ArpCache, LastHopShortcutFollowsRelearnOtherHopsAndExpiry) {
  ArpCache arp;
  const wire::Ipv4Addr other = wire::Ipv4Addr::from_octets(198, 18, 0, 3);
  const wire::MacAddr mac2{{0x02, 0, 0, 0, 0, 0x22}};
  arp.learn(kPeer, kMac, kT0, [](rte_mbuf*, const wire::MacAddr&) {});
  bool request = true;
  ASSERT_EQ(got(arp.resolve(kPeer, kT0, request)), kMac);
  EXPECT_FALSE(request);
  ASSERT_EQ(got(arp.resolve(kPeer, kT0 + 1ms, request)), kMac);  // the shortcut
  arp.learn(kPeer, mac2, kT0 + 2ms, [](rte_mbuf*, const wire::MacAddr&) {});
  EXPECT_EQ(got(arp.resolve(kPeer, kT0 + 3ms, request)), mac2);
  EXPECT_EQ(arp.resolve(other, kT0 + 3ms, request), nullptr);  // unknown
  arp.learn(other, kMac, kT0 + 4ms, [](rte_mbuf*, const wire::MacAddr&) {});
  EXPECT_EQ(got(arp.resolve(other, kT0 + 5ms, request)), kMac);
  EXPECT_EQ(got(arp.resolve(kPeer, kT0 + 5ms, request)), mac2);
  // Stale: still answered, and a request is due (the slow path, not the shortcut).
  const time::Instant stale = kT0 + 2ms + ArpCache::kLifetime;
  EXPECT_EQ(got(arp.resolve(kPeer, stale, request)), mac2);
  EXPECT_TRUE(request);
}

TEST(ArpCache, ManyAddressesCoexist) {
  ArpCache arp;
  for (std::uint32_t i = 1; i <= 200; ++i) {
    arp.learn(wire::Ipv4Addr{0xC6120000u + i},
              wire::MacAddr{{2, 0, 0, 0, 0, static_cast<std::uint8_t>(i)}}, kT0,
              [](rte_mbuf*, const wire::MacAddr&) {});
  }
  EXPECT_EQ(arp.size(), 200u);
  for (std::uint32_t i = 1; i <= 200; ++i) {
    auto mac = arp.lookup(wire::Ipv4Addr{0xC6120000u + i}, kT0);
    ASSERT_TRUE(mac.has_value()) << i;
    EXPECT_EQ(mac->bytes[5], static_cast<std::uint8_t>(i));
  }
}

}  // namespace
}  // namespace sluice::engine
