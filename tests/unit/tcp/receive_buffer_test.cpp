// Unit tests of ReceiveBuffer (lib/tcp/receive_buffer.hpp) with real mbufs: reassembly
// byte-exact against the original stream across the 2^32 wrap, window trimming (RFC 9293
// §3.10.7.4), duplicates, the out-of-order node limit, SACK block order (RFC 2018 §4),
// zero-copy take()/read(), and every mbuf returned.
#include "tcp/receive_buffer.hpp"

#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "eal_environment.hpp"
#include "mbuf_test_util.hpp"

namespace sluice::tcp {
namespace {

using namespace test_util;

using wire::SackBlock;
using wire::Seq;

class ReceiveBufferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pool_ = test::test_pktmbuf_pool();
    pool_start_ = rte_mempool_in_use_count(pool_);
  }
  void TearDown() override {
    EXPECT_EQ(rte_mempool_in_use_count(pool_), pool_start_) << "mbufs leaked";
  }

  /// A received segment's payload: `bytes` split into segments of at most `seg_max`
  /// bytes, each behind some stripped header room (data_off moved, as after
  /// rte_pktmbuf_adj).
  rte_mbuf* payload(std::span<const std::uint8_t> bytes, std::size_t seg_max = 2000) {
    rte_mbuf* first = nullptr;
    rte_mbuf* last = nullptr;
    std::uint16_t segs = 0;
    std::size_t off = 0;
    do {
      const std::size_t n = std::min(seg_max, bytes.size() - off);
      rte_mbuf* m = rte_pktmbuf_alloc(pool_);
      EXPECT_NE(m, nullptr);
      m->data_off = static_cast<std::uint16_t>(RTE_PKTMBUF_HEADROOM + 54);
      std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(off), n,
                  static_cast<std::uint8_t*>(m->buf_addr) + m->data_off);
      m->data_len = static_cast<std::uint16_t>(n);
      if (last) {
        last->next = m;
      } else {
        first = m;
      }
      last = m;
      ++segs;
      off += n;
    } while (off < bytes.size());
    first->nb_segs = segs;
    first->pkt_len = static_cast<std::uint32_t>(bytes.size());
    return first;
  }

  /// Inserts stream bytes [from, to) (offsets into stream_, sequence numbers from isn_).
  ReceiveBuffer::InsertResult deliver(ReceiveBuffer& rb, std::uint32_t from, std::uint32_t to,
                                      std::uint32_t window = 1u << 20) {
    auto r = rb.insert(rcv_nxt_, isn_ + from, payload(std::span(stream_).subspan(from, to - from)),
                       window);
    rcv_nxt_ += r.advanced;
    return r;
  }

  Bytes read_all(ReceiveBuffer& rb) {
    Bytes out(rb.readable());
    EXPECT_EQ(rb.read(out), out.size());
    return out;
  }

  std::vector<SackBlock> blocks(const ReceiveBuffer& rb, std::size_t max = 4) {
    std::array<SackBlock, 8> out{};
    const std::uint8_t n = rb.sack_blocks(std::span(out).first(max));
    return {out.begin(), out.begin() + n};
  }

  /// The block of stream offsets [from, to).
  SackBlock block(std::uint32_t from, std::uint32_t to) const {
    return SackBlock{isn_ + from, isn_ + to};
  }

  rte_mempool* pool_ = nullptr;
  unsigned pool_start_ = 0;
  Seq isn_{1000};
  Seq rcv_nxt_{1000};
  Bytes stream_;
};

TEST_F(ReceiveBufferTest, InOrderSegmentsBecomeReadable) {
  Rng rng(1);
  stream_ = random_bytes(rng, 5000);
  ReceiveBuffer rb;
  auto r = deliver(rb, 0, 1460);
  EXPECT_EQ(r.advanced, 1460u);
  EXPECT_EQ(r.duplicate, 0u);
  EXPECT_EQ(r.trimmed, 0u);
  EXPECT_FALSE(r.out_of_order);
  EXPECT_FALSE(r.dropped);
  r = deliver(rb, 1460, 5000);  // a multi-segment mbuf chain
  EXPECT_EQ(r.advanced, 3540u);
  EXPECT_EQ(rb.readable(), 5000u);
  EXPECT_EQ(rb.ooo_bytes(), 0u);
  EXPECT_EQ(read_all(rb), stream_);
  EXPECT_EQ(rb.readable(), 0u);
  EXPECT_EQ(rb.front(), nullptr);
}

TEST_F(ReceiveBufferTest, BelowRcvNxtIsDuplicate) {
  Rng rng(2);
  stream_ = random_bytes(rng, 2000);
  ReceiveBuffer rb;
  deliver(rb, 0, 1000);
  auto r = deliver(rb, 100, 900);
  EXPECT_EQ(r.duplicate, 800u);
  EXPECT_EQ(r.advanced, 0u);
  EXPECT_FALSE(r.out_of_order);
  EXPECT_EQ(rb.readable(), 1000u);
  // Partial overlap with in-order data: only the new part is kept.
  r = deliver(rb, 900, 1500);
  EXPECT_EQ(r.duplicate, 100u);
  EXPECT_EQ(r.advanced, 500u);
  EXPECT_EQ(read_all(rb), Bytes(stream_.begin(), stream_.begin() + 1500));
  // The same after the application consumed everything.
  r = deliver(rb, 0, 1500);
  EXPECT_EQ(r.duplicate, 1500u);
  EXPECT_EQ(rb.readable(), 0u);
}

TEST_F(ReceiveBufferTest, WindowTrimsStraddlingSegmentAndDropsBeyond) {
  Rng rng(3);
  stream_ = random_bytes(rng, 3000);
  ReceiveBuffer rb;
  // In order, straddling the right edge (window 500): the first 500 bytes kept.
  auto r = deliver(rb, 0, 800, 500);
  EXPECT_EQ(r.advanced, 500u);
  EXPECT_EQ(r.trimmed, 300u);
  // Out of order, straddling: [900, 1000) kept of [900, 1200) with the edge at 1000.
  r = deliver(rb, 900, 1200, 500);
  EXPECT_TRUE(r.out_of_order);
  EXPECT_EQ(r.trimmed, 200u);
  EXPECT_EQ(rb.ooo_bytes(), 100u);
  EXPECT_EQ(blocks(rb), std::vector{block(900, 1000)});
  // Entirely beyond: nothing stored, all trimmed.
  r = deliver(rb, 1000, 1300, 500);
  EXPECT_EQ(r.trimmed, 300u);
  EXPECT_FALSE(r.out_of_order);
  EXPECT_EQ(rb.ooo_nodes(), 1u);
  // Zero window: nothing enters.
  r = deliver(rb, 500, 600, 0);
  EXPECT_EQ(r.trimmed, 100u);
  EXPECT_EQ(r.advanced, 0u);
  // Below rcv_nxt and beyond the edge at once.
  r = deliver(rb, 400, 1100, 100);
  EXPECT_EQ(r.duplicate, 100u);
  EXPECT_EQ(r.advanced, 100u);
  EXPECT_EQ(r.trimmed, 500u);
  // Fill the gap: the held [900, 1000) follows.
  r = deliver(rb, 600, 900, 1000);
  EXPECT_EQ(r.advanced, 400u);
  EXPECT_EQ(rb.ooo_bytes(), 0u);
  EXPECT_EQ(read_all(rb), Bytes(stream_.begin(), stream_.begin() + 1000));
}

TEST_F(ReceiveBufferTest, OutOfOrderOverlapsAreTrimmedAgainstHeldData) {
  Rng rng(4);
  stream_ = random_bytes(rng, 4000);
  ReceiveBuffer rb;
  deliver(rb, 1000, 1500);
  auto r = deliver(rb, 1200, 1400);  // inside held data
  EXPECT_TRUE(r.out_of_order);
  EXPECT_EQ(r.duplicate, 200u);
  EXPECT_EQ(rb.ooo_nodes(), 1u);
  r = deliver(rb, 1400, 1800);  // overlapping the end
  EXPECT_EQ(r.duplicate, 100u);
  EXPECT_EQ(rb.ooo_bytes(), 800u);
  r = deliver(rb, 800, 1100);  // overlapping the start
  EXPECT_EQ(r.duplicate, 100u);
  EXPECT_EQ(rb.ooo_bytes(), 1000u);
  deliver(rb, 2000, 2100);
  deliver(rb, 2200, 2300);
  EXPECT_EQ(rb.ooo_nodes(), 5u);
  r = deliver(rb, 1900, 2400);  // covers two held nodes: they are replaced
  EXPECT_EQ(r.duplicate, 200u);
  EXPECT_EQ(rb.ooo_nodes(), 4u);
  EXPECT_EQ(rb.ooo_bytes(), 1500u);
  r = deliver(rb, 700, 2500);  // covers everything and both ends
  EXPECT_EQ(r.duplicate, 1500u);
  EXPECT_EQ(rb.ooo_nodes(), 1u);
  EXPECT_EQ(rb.ooo_bytes(), 1800u);
  EXPECT_EQ(blocks(rb), std::vector{block(700, 2500)});
  r = deliver(rb, 0, 1000);  // in order, overlapping held data, which then follows
  EXPECT_EQ(r.duplicate, 300u);
  EXPECT_EQ(r.advanced, 2500u);
  EXPECT_EQ(rb.ooo_nodes(), 0u);
  EXPECT_EQ(read_all(rb), Bytes(stream_.begin(), stream_.begin() + 2500));
  EXPECT_TRUE(blocks(rb).empty());
}

TEST_F(ReceiveBufferTest, OutOfOrderNodeLimitDropsTheNewSegment) {
  Rng rng(5);
  stream_ = random_bytes(rng, 2000);
  ReceiveBuffer rb(3);
  deliver(rb, 100, 200);
  deliver(rb, 300, 400);
  deliver(rb, 500, 600);
  auto r = deliver(rb, 700, 800);
  EXPECT_TRUE(r.dropped);
  EXPECT_TRUE(r.out_of_order);
  EXPECT_EQ(rb.ooo_nodes(), 3u);
  EXPECT_EQ(rb.ooo_bytes(), 300u);
  r = deliver(rb, 150, 250);  // would add a node: dropped too, held data untouched
  EXPECT_TRUE(r.dropped);
  EXPECT_EQ(rb.ooo_bytes(), 300u);
  r = deliver(rb, 500, 600);  // a duplicate needs no node
  EXPECT_FALSE(r.dropped);
  EXPECT_EQ(r.duplicate, 100u);
  r = deliver(rb, 280, 420);  // replaces a node it covers
  EXPECT_FALSE(r.dropped);
  EXPECT_EQ(rb.ooo_nodes(), 3u);
  EXPECT_EQ(rb.ooo_bytes(), 340u);
  r = deliver(rb, 0, 100);  // in order is never limited
  EXPECT_EQ(r.advanced, 200u);
  EXPECT_EQ(rb.ooo_nodes(), 2u);
  r = deliver(rb, 700, 800);  // room again
  EXPECT_FALSE(r.dropped);
  EXPECT_EQ(rb.ooo_nodes(), 3u);
  // A multi-mbuf segment is dropped from the mbuf that would break the limit on.
  r = deliver(rb, 900, 1300);
  EXPECT_TRUE(r.dropped);
  EXPECT_EQ(rb.ooo_nodes(), 3u);
  rb.clear();
  EXPECT_EQ(rb.ooo_nodes(), 0u);
  EXPECT_EQ(rb.ooo_bytes(), 0u);
}

TEST_F(ReceiveBufferTest, SackBlocksInMostRecentOrder) {
  Rng rng(6);
  stream_ = random_bytes(rng, 1000);
  ReceiveBuffer rb;
  const auto seg = [](std::uint32_t i) { return i * 100; };  // segment i: [100i, 100i+100)
  deliver(rb, seg(0), seg(1));  // segment 0 in order; 1 and the even ones are missing
  deliver(rb, seg(3), seg(4));
  deliver(rb, seg(5), seg(6));
  deliver(rb, seg(7), seg(8));
  EXPECT_EQ(blocks(rb),
            (std::vector{block(seg(7), seg(8)), block(seg(5), seg(6)), block(seg(3), seg(4))}));
  EXPECT_EQ(blocks(rb, 2), (std::vector{block(seg(7), seg(8)), block(seg(5), seg(6))}));
  deliver(rb, seg(4), seg(5));  // merges 3, 4, 5
  EXPECT_EQ(blocks(rb), (std::vector{block(seg(3), seg(6)), block(seg(7), seg(8))}));
  deliver(rb, seg(7), seg(8));  // a duplicate arrival moves its block to the front
  EXPECT_EQ(blocks(rb), (std::vector{block(seg(7), seg(8)), block(seg(3), seg(6))}));
  deliver(rb, seg(1), seg(2));  // in order: blocks unchanged
  EXPECT_EQ(blocks(rb), (std::vector{block(seg(7), seg(8)), block(seg(3), seg(6))}));
  deliver(rb, seg(2), seg(3));  // 2..5 become in order: their block vanishes
  EXPECT_EQ(rcv_nxt_, isn_ + seg(6));
  EXPECT_EQ(blocks(rb), std::vector{block(seg(7), seg(8))});
  deliver(rb, seg(6), seg(7));
  EXPECT_TRUE(blocks(rb).empty());
  EXPECT_EQ(read_all(rb), Bytes(stream_.begin(), stream_.begin() + seg(8)));
}

TEST_F(ReceiveBufferTest, SackBlocksBeyondTheHistoryFillInSequenceOrder) {
  Rng rng(7);
  stream_ = random_bytes(rng, 2000);
  ReceiveBuffer rb;
  for (std::uint32_t i : {3u, 5u, 7u, 9u, 11u}) deliver(rb, i * 100, i * 100 + 100);
  EXPECT_EQ(blocks(rb),
            (std::vector{block(1100, 1200), block(900, 1000), block(700, 800), block(500, 600)}));
  EXPECT_EQ(blocks(rb, 6), (std::vector{block(1100, 1200), block(900, 1000), block(700, 800),
                                        block(500, 600), block(300, 400)}));
  EXPECT_TRUE(blocks(rb, 0).empty());
}

TEST_F(ReceiveBufferTest, TakeAndReadSizes) {
  // Segments longer than kCoalesceMax: each stays a node of its own.
  static_assert(ReceiveBuffer::kCoalesceMax < 600);
  Rng rng(8);
  stream_ = random_bytes(rng, 3000);
  ReceiveBuffer rb;
  deliver(rb, 0, 600);
  deliver(rb, 600, 1300);
  deliver(rb, 1300, 2100);
  deliver(rb, 2100, 3000);
  EXPECT_EQ(rb.take(0), nullptr);
  rte_mbuf* m = rb.take(50);  // at least one node, even if larger
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->nb_segs, 1);
  EXPECT_EQ(m->pkt_len, 600u);
  EXPECT_EQ(m->next, nullptr);
  EXPECT_TRUE(std::equal(stream_.begin(), stream_.begin() + 600,
                         static_cast<const std::uint8_t*>(m->buf_addr) + m->data_off));
  rte_pktmbuf_free(m);
  EXPECT_EQ(rb.readable(), 2400u);
  Bytes two(650);
  EXPECT_EQ(rb.read(two), 650u);  // splits the 700-byte node
  EXPECT_EQ(two, Bytes(stream_.begin() + 600, stream_.begin() + 1250));
  EXPECT_EQ(rb.front()->data_len, 50u);
  m = rb.take(1000);  // 50 + 800, the next 900 would exceed
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->nb_segs, 2);
  EXPECT_EQ(m->pkt_len, 850u);
  EXPECT_EQ(chain_bytes(m), Bytes(stream_.begin() + 1250, stream_.begin() + 2100));
  rte_pktmbuf_free(m);
  Bytes big(5000);
  EXPECT_EQ(rb.read(big), 900u);
  EXPECT_TRUE(std::equal(stream_.begin() + 2100, stream_.end(), big.begin()));
  EXPECT_EQ(rb.take(1000), nullptr);
  Bytes none(10);
  EXPECT_EQ(rb.read(none), 0u);
}

TEST_F(ReceiveBufferTest, ZeroCopyReadThroughFront) {
  Rng rng(9);
  stream_ = random_bytes(rng, 3000);
  ReceiveBuffer rb;
  deliver(rb, 0, 3000);  // two mbufs of 2000 and 1000
  Bytes got;
  for (const rte_mbuf* m = rb.front(); m != nullptr; m = m->next) {
    const auto* p = static_cast<const std::uint8_t*>(m->buf_addr) + m->data_off;
    got.insert(got.end(), p, p + m->data_len);
  }
  EXPECT_EQ(got, stream_);
  rb.consume(2500);
  EXPECT_EQ(rb.readable(), 500u);
  EXPECT_EQ(rb.front()->data_len, 500u);
  rb.consume(500);
  EXPECT_EQ(rb.front(), nullptr);
}

// A peer trickling tiny segments at an application that does not read: the window is in
// bytes, but each segment came in an mbuf of its own. Copied onto the last unread node,
// 4000 one-byte segments hold 3 mbufs, not 4000; the bytes stay in order, and a
// zero-copy reader halfway through the last node is not disturbed.
TEST_F(ReceiveBufferTest, TinyInOrderSegmentsBehindUnreadDataShareMbufs) {
  Rng rng(7);
  stream_ = random_bytes(rng, 6000);
  ReceiveBuffer rb;
  for (std::uint32_t i = 0; i < 1000; ++i) deliver(rb, i, i + 1);
  EXPECT_EQ(rte_mempool_in_use_count(pool_) - pool_start_, 1u);
  // Zero-copy: look at the first 10 bytes and consume them; more arrive meanwhile.
  ASSERT_NE(rb.front(), nullptr);
  EXPECT_EQ(Bytes(rte_pktmbuf_mtod(rb.front(), const std::uint8_t*),
                  rte_pktmbuf_mtod(rb.front(), const std::uint8_t*) + 10),
            Bytes(stream_.begin(), stream_.begin() + 10));
  rb.consume(10);
  for (std::uint32_t i = 1000; i < 4000; ++i) deliver(rb, i, i + 1);
  EXPECT_LE(rte_mempool_in_use_count(pool_) - pool_start_, 3u);
  EXPECT_EQ(rb.readable(), 3990u);
  // A segment longer than kCoalesceMax keeps its own mbuf; small ones go on behind it.
  deliver(rb, 4000, 4000 + ReceiveBuffer::kCoalesceMax + 1);
  const unsigned before = rte_mempool_in_use_count(pool_) - pool_start_;
  deliver(rb, 4513, 4600);
  EXPECT_EQ(rte_mempool_in_use_count(pool_) - pool_start_, before);
  EXPECT_EQ(read_all(rb), Bytes(stream_.begin() + 10, stream_.begin() + 4600));
}

TEST_F(ReceiveBufferTest, PaddingBeyondPktLenIsIgnored) {
  Rng rng(10);
  stream_ = random_bytes(rng, 100);
  ReceiveBuffer rb;
  rte_mbuf* m = payload(std::span(stream_).first(10));
  m->data_len = 16;  // e.g. Ethernet padding left in the frame
  auto r = rb.insert(rcv_nxt_, isn_, m, 1000);
  EXPECT_EQ(r.advanced, 10u);
  EXPECT_EQ(read_all(rb), Bytes(stream_.begin(), stream_.begin() + 10));
  // A trailing segment holding only padding is freed.
  m = payload(std::span(stream_).subspan(10, 20), 10);
  m->next->data_len = 14;
  m->pkt_len = 14;
  rcv_nxt_ += 10;
  r = rb.insert(rcv_nxt_, isn_ + 10, m, 1000);
  EXPECT_EQ(r.advanced, 14u);
  EXPECT_EQ(read_all(rb), Bytes(stream_.begin() + 10, stream_.begin() + 24));
}

// Random segments (random sizes, multi-mbuf payloads, duplicates, overlaps, some beyond the
// window) in random order across the 2^32 wrap: the in-order bytes are exactly the stream.
TEST_F(ReceiveBufferTest, RandomReassemblyAcrossSequenceWrap) {
  for (std::uint32_t seed = 200; seed < 210; ++seed) {
    Rng rng(seed);
    isn_ = Seq{0xFFFFF000u};
    rcv_nxt_ = isn_;
    stream_ = random_bytes(rng, 300000);
    const std::uint32_t total = static_cast<std::uint32_t>(stream_.size());
    constexpr std::uint32_t kWindow = 65535;
    ReceiveBuffer rb(16);
    Bytes got;
    std::uint32_t inserts = 0;
    std::uint32_t drops = 0;
    while (static_cast<std::uint32_t>(rcv_nxt_ - isn_) < total) {
      const std::uint32_t nxt = static_cast<std::uint32_t>(rcv_nxt_ - isn_);
      // Mostly near the front of the window, some below RCV.NXT, some past the edge.
      std::uint32_t from = nxt;
      if (rng() % 4 != 0) {
        const std::int64_t off = static_cast<std::int64_t>(rng() % (kWindow + 8000)) - 3000;
        from = static_cast<std::uint32_t>(
            std::clamp<std::int64_t>(static_cast<std::int64_t>(nxt) + off, 0, total - 1));
      }
      const std::uint32_t len = 1 + rng() % 3000;
      const std::uint32_t to = std::min(total, from + len);
      const std::uint32_t before_ooo = rb.ooo_bytes();
      const std::uint32_t before_readable = rb.readable();
      auto r = rb.insert(rcv_nxt_, isn_ + from,
                         payload(std::span(stream_).subspan(from, to - from), 1 + rng() % 2000),
                         kWindow - rb.readable());  // RCV.WND: buffer less unread
      ++inserts;
      // Every byte of the segment is accounted for: duplicate, trimmed, newly held
      // (advanced + change of held out-of-order bytes) or, only when dropped, lost.
      const std::int64_t held_delta = static_cast<std::int64_t>(r.advanced) +
                                      (static_cast<std::int64_t>(rb.ooo_bytes()) - before_ooo);
      const std::int64_t accounted = r.duplicate + r.trimmed + held_delta;
      if (r.dropped) {
        ++drops;
        ASSERT_LE(accounted, to - from);
      } else {
        ASSERT_EQ(accounted, to - from) << "seed " << seed << " insert " << inserts;
      }
      ASSERT_EQ(rb.readable(), before_readable + r.advanced);
      {  // the readable bytes are the stream's next bytes
        std::size_t at = got.size();
        for (const rte_mbuf* m = rb.front(); m != nullptr; m = m->next) {
          ASSERT_EQ(m->nb_segs, 1);
          ASSERT_EQ(m->pkt_len, m->data_len);
          const auto* p = static_cast<const std::uint8_t*>(m->buf_addr) + m->data_off;
          ASSERT_TRUE(
              std::equal(p, p + m->data_len, stream_.begin() + static_cast<std::ptrdiff_t>(at)))
              << "seed " << seed << " insert " << inserts << " [" << from << ", " << to
              << ") node at stream offset " << at << " len " << m->data_len;
          at += m->data_len;
        }
      }
      rcv_nxt_ += r.advanced;
      ASSERT_LE(rb.ooo_nodes(), 16u);

      // SACK blocks: disjoint, above RCV.NXT, inside the window, summing to ooo_bytes().
      std::array<SackBlock, 16> out{};
      const std::uint8_t n = rb.sack_blocks(out);
      std::uint32_t sum = 0;
      for (std::uint8_t i = 0; i < n; ++i) {
        ASSERT_GT(out[i].left, rcv_nxt_);
        ASSERT_LT(out[i].left, out[i].right);
        ASSERT_LE(out[i].right, rcv_nxt_ + kWindow);
        for (std::uint8_t j = 0; j < i; ++j) {
          ASSERT_TRUE(out[i].right < out[j].left || out[j].right < out[i].left)
              << "blocks overlap or touch";
        }
        sum += static_cast<std::uint32_t>(out[i].right - out[i].left);
      }
      ASSERT_EQ(sum, rb.ooo_bytes());
      if (r.out_of_order && !r.dropped) {  // RFC 2018 §4: the latest arrival's block first
        ASSERT_GT(n, 0);
        ASSERT_LE(out[0].left, isn_ + from);
        ASSERT_GT(out[0].right, isn_ + from);
      }
      ASSERT_EQ(n == 0, rb.ooo_bytes() == 0);

      // The application reads in various ways now and then.
      switch (rng() % 6) {
        case 0: {
          Bytes buf(rng() % 5000);
          const std::uint32_t k = rb.read(buf);
          got.insert(got.end(), buf.begin(), buf.begin() + k);
          break;
        }
        case 1: {
          if (rte_mbuf* m = rb.take(1 + rng() % 8000)) {
            const Bytes buf = chain_bytes(m);
            got.insert(got.end(), buf.begin(), buf.end());
            rte_pktmbuf_free(m);
          }
          break;
        }
        case 2: {
          const std::uint32_t k = std::min<std::uint32_t>(rb.readable(), rng() % 3000);
          Bytes buf;
          for (const rte_mbuf* m = rb.front(); m != nullptr && buf.size() < k; m = m->next) {
            const auto* p = static_cast<const std::uint8_t*>(m->buf_addr) + m->data_off;
            const std::size_t c = std::min<std::size_t>(m->data_len, k - buf.size());
            buf.insert(buf.end(), p, p + c);
          }
          rb.consume(k);
          got.insert(got.end(), buf.begin(), buf.end());
          break;
        }
        default: break;
      }
      ASSERT_EQ(got.size() + rb.readable(), static_cast<std::uint32_t>(rcv_nxt_ - isn_));
    }
    Bytes rest(rb.readable());
    rb.read(rest);
    got.insert(got.end(), rest.begin(), rest.end());
    EXPECT_EQ(got.size(), stream_.size()) << "seed " << seed;
    const auto diff = std::mismatch(got.begin(), got.end(), stream_.begin(), stream_.end());
    EXPECT_TRUE(diff.first == got.end())
        << "seed " << seed << ": first wrong byte at stream offset " << (diff.first - got.begin());
    EXPECT_EQ(rb.ooo_bytes(), 0u);
    EXPECT_GT(drops, 0u) << "the node limit was exercised";
    rb.clear();
    EXPECT_EQ(rte_mempool_in_use_count(pool_), pool_start_) << "seed " << seed;
  }
}

}  // namespace
}  // namespace sluice::tcp
