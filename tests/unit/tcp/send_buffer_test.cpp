// Unit tests of SendBuffer (lib/tcp/send_buffer.hpp) with real mbufs: bytes in equal bytes
// out through copy and zero-copy appends, slices and consume(); small writes held in place
// without mbufs; slices outlive what they reference; pool exhaustion; every mbuf returned
// (RFC 9293 §3.3.1, §3.8.1).
#include "tcp/send_buffer.hpp"

#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "eal_environment.hpp"
#include "mbuf_test_util.hpp"

namespace sluice::tcp {
namespace {

using namespace test_util;

class SendBufferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pool_ = test::test_pktmbuf_pool();
    clone_pool_ = rte_pktmbuf_pool_create("sb_clone", 8191, 0, 0, 0, SOCKET_ID_ANY);
    ASSERT_NE(clone_pool_, nullptr);
    pool_start_ = rte_mempool_in_use_count(pool_);
  }
  void TearDown() override {
    EXPECT_EQ(rte_mempool_in_use_count(pool_), pool_start_) << "mbufs leaked";
    EXPECT_EQ(rte_mempool_in_use_count(clone_pool_), 0u) << "clones leaked";
    rte_mempool_free(clone_pool_);
  }

  /// A direct mbuf holding `bytes` after `headroom` bytes of headroom.
  rte_mbuf* direct(std::span<const std::uint8_t> bytes, std::uint16_t headroom = 64) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    EXPECT_NE(m, nullptr);
    m->data_off = headroom;
    std::copy(bytes.begin(), bytes.end(), mbuf_data(m));
    m->data_len = static_cast<std::uint16_t>(bytes.size());
    m->pkt_len = m->data_len;
    return m;
  }

  /// An indirect mbuf (as an application doing its own zero copy would hand us) viewing
  /// `bytes`; the direct mbuf behind it is only referenced by the indirect one.
  rte_mbuf* indirect(std::span<const std::uint8_t> bytes) {
    rte_mbuf* d = direct(bytes, 100);
    rte_mbuf* i = rte_pktmbuf_alloc(clone_pool_);
    EXPECT_NE(i, nullptr);
    rte_pktmbuf_attach(i, d);
    rte_pktmbuf_free(d);  // the indirect one keeps the buffer alive
    return i;
  }

  /// A chain carrying `bytes` split at the given segment sizes (zeros allowed), mixing
  /// direct and indirect segments.
  rte_mbuf* chain(std::span<const std::uint8_t> bytes, const std::vector<std::size_t>& sizes,
                  Rng& rng) {
    rte_mbuf* first = nullptr;
    rte_mbuf* last = nullptr;
    std::size_t off = 0;
    for (std::size_t n : sizes) {
      auto part = bytes.subspan(off, n);
      rte_mbuf* m = (rng() % 3 == 0) ? indirect(part) : direct(part);
      if (last) {
        last->next = m;
      } else {
        first = m;
      }
      last = m;
      off += n;
    }
    if (first == nullptr) return nullptr;
    first->nb_segs = static_cast<std::uint16_t>(sizes.size());
    first->pkt_len = static_cast<std::uint32_t>(bytes.size());
    return first;
  }

  static Bytes contents(const SendBuffer& sb) {
    Bytes out(sb.size());
    sb.copy_out(0, out);
    return out;
  }

  rte_mempool* pool_ = nullptr;
  rte_mempool* clone_pool_ = nullptr;
  unsigned pool_start_ = 0;
};

TEST_F(SendBufferTest, EmptyBuffer) {
  SendBuffer sb;
  EXPECT_TRUE(sb.empty());
  EXPECT_EQ(sb.size(), 0u);
  EXPECT_EQ(sb.slice(0, 0, clone_pool_), nullptr);
  sb.consume(0);
  EXPECT_TRUE(sb.append_mbuf(nullptr, pool_));
  EXPECT_EQ(sb.append_copy({}, pool_), 0u);
  EXPECT_TRUE(sb.empty());
  EXPECT_EQ(rte_mempool_in_use_count(pool_), pool_start_);
}

TEST_F(SendBufferTest, AppendCopyFillsTailroomBeforeAllocating) {
  Rng rng(1);
  const Bytes a = random_bytes(rng, 100);
  const Bytes b = random_bytes(rng, 300);
  SendBuffer sb;
  EXPECT_EQ(sb.append_copy(a, pool_), 100u);
  EXPECT_EQ(rte_mempool_in_use_count(pool_), pool_start_ + 1);
  EXPECT_EQ(sb.append_copy(b, pool_), 300u);
  EXPECT_EQ(rte_mempool_in_use_count(pool_), pool_start_ + 1) << "tailroom reused";
  Bytes want = a;
  want.insert(want.end(), b.begin(), b.end());
  EXPECT_EQ(contents(sb), want);

  // A buffer's whole data room is used: no headroom kept in payload mbufs.
  const std::uint32_t room = rte_pktmbuf_data_room_size(pool_);
  const Bytes big = random_bytes(rng, room * 2);
  EXPECT_EQ(sb.append_copy(big, pool_), big.size());
  EXPECT_EQ(rte_mempool_in_use_count(pool_), pool_start_ + 3);
  want.insert(want.end(), big.begin(), big.end());
  EXPECT_EQ(contents(sb), want);
}

TEST_F(SendBufferTest, AppendCopyNeverWritesSharedOrForeignTail) {
  Rng rng(2);
  const Bytes a = random_bytes(rng, 100);
  SendBuffer sb;
  sb.append_copy(a, pool_);
  // A slice references the tail: its buffer is shared now and must not grow.
  rte_mbuf* s = sb.slice(0, 100, clone_pool_);
  ASSERT_NE(s, nullptr);
  sb.append_copy(a, pool_);
  EXPECT_EQ(rte_mempool_in_use_count(pool_), pool_start_ + 2);
  rte_pktmbuf_free(s);
  // Unshared again: the new tail (ours) takes more bytes.
  sb.append_copy(a, pool_);
  EXPECT_EQ(rte_mempool_in_use_count(pool_), pool_start_ + 2);

  // An application's mbuf is never written, even with tailroom.
  rte_mbuf* app = direct(a);
  const std::uint16_t app_len = app->data_len;
  ASSERT_TRUE(sb.append_mbuf(app, pool_));
  const unsigned before = rte_mempool_in_use_count(pool_);
  sb.append_copy(a, pool_);
  EXPECT_EQ(rte_mempool_in_use_count(pool_), before + 1);
  EXPECT_EQ(app->data_len, app_len);
  Bytes want;
  for (int i = 0; i < 5; ++i) want.insert(want.end(), a.begin(), a.end());
  EXPECT_EQ(contents(sb), want);
}

TEST_F(SendBufferTest, AppendMbufSplitsChainsSkipsEmptySegmentsAndPadding) {
  Rng rng(3);
  const Bytes a = random_bytes(rng, 1000);
  SendBuffer sb;
  ASSERT_TRUE(sb.append_mbuf(chain(a, {0, 300, 0, 200, 500, 0}, rng), pool_));
  EXPECT_EQ(sb.size(), 1000u);
  EXPECT_EQ(contents(sb), a);

  // Bytes beyond pkt_len (e.g. padding) are not part of the stream.
  rte_mbuf* padded = chain(a, {600, 400}, rng);
  padded->pkt_len = 700;
  ASSERT_TRUE(sb.append_mbuf(padded, pool_));
  EXPECT_EQ(sb.size(), 1700u);
  Bytes want = a;
  want.insert(want.end(), a.begin(), a.begin() + 700);
  EXPECT_EQ(contents(sb), want);
  sb.clear();
  EXPECT_TRUE(sb.empty());
  EXPECT_EQ(rte_mempool_in_use_count(pool_), pool_start_);
}

TEST_F(SendBufferTest, ConsumeAcrossNodeBoundaries) {
  Rng rng(4);
  const Bytes a = random_bytes(rng, 3000);
  SendBuffer sb;
  ASSERT_TRUE(sb.append_mbuf(chain(a, {1000, 1000, 1000}, rng), pool_));
  sb.consume(999);  // inside the first node
  EXPECT_EQ(sb.size(), 2001u);
  sb.consume(2);  // across the first boundary
  EXPECT_EQ(contents(sb), Bytes(a.begin() + 1001, a.end()));
  sb.consume(1999);  // exactly to the end
  EXPECT_TRUE(sb.empty());
  EXPECT_EQ(rte_mempool_in_use_count(pool_), pool_start_);
  EXPECT_EQ(rte_mempool_in_use_count(clone_pool_), 0u);
  // Reusable after draining.
  sb.append_copy(a, pool_);
  EXPECT_EQ(contents(sb), a);
}

TEST_F(SendBufferTest, SliceIsAProperChainOfIndirectMbufs) {
  Rng rng(5);
  const Bytes a = random_bytes(rng, 3000);
  SendBuffer sb;
  ASSERT_TRUE(sb.append_mbuf(chain(a, {1000, 1000, 1000}, rng), pool_));
  rte_mbuf* s = sb.slice(500, 1460, clone_pool_);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->nb_segs, 2);
  EXPECT_EQ(s->pkt_len, 1460u);
  for (rte_mbuf* m = s; m; m = m->next) EXPECT_TRUE(RTE_MBUF_CLONED(m));
  EXPECT_EQ(chain_bytes(s), Bytes(a.begin() + 500, a.begin() + 1960));
  // Chained after a header mbuf, as output will do.
  rte_mbuf* hdr = rte_pktmbuf_alloc(pool_);
  ASSERT_NE(hdr, nullptr);
  ASSERT_NE(rte_pktmbuf_append(hdr, 40), nullptr);
  ASSERT_EQ(rte_pktmbuf_chain(hdr, s), 0);
  EXPECT_EQ(hdr->nb_segs, 3);
  EXPECT_EQ(hdr->pkt_len, 1500u);
  rte_pktmbuf_free(hdr);
}

TEST_F(SendBufferTest, SlicesOutliveConsumeAppendAndClear) {
  Rng rng(6);
  const Bytes a = random_bytes(rng, 5000);
  SendBuffer sb;
  sb.append_copy(std::span(a).first(2500), pool_);
  ASSERT_TRUE(sb.append_mbuf(chain(std::span(a).subspan(2500), {1000, 1500}, rng), pool_));
  std::vector<std::pair<rte_mbuf*, Bytes>> slices;
  for (std::uint32_t off = 0; off < 5000; off += 700) {
    const std::uint32_t len = std::min<std::uint32_t>(700, 5000 - off);
    slices.emplace_back(sb.slice(off, len, clone_pool_),
                        Bytes(a.begin() + off, a.begin() + off + len));
    ASSERT_NE(slices.back().first, nullptr);
  }
  sb.consume(4000);
  const Bytes more = random_bytes(rng, 3000);
  sb.append_copy(more, pool_);
  for (auto& [m, want] : slices) EXPECT_EQ(chain_bytes(m), want);
  sb.clear();
  for (auto& [m, want] : slices) EXPECT_EQ(chain_bytes(m), want);
  EXPECT_GT(rte_mempool_in_use_count(pool_), pool_start_) << "slices hold the buffers";
  for (auto& [m, want] : slices) rte_pktmbuf_free(m);
}

TEST_F(SendBufferTest, SliceOfAppIndirectMbufReferencesTheDirectBuffer) {
  Rng rng(7);
  const Bytes a = random_bytes(rng, 800);
  SendBuffer sb;
  rte_mbuf* ind = indirect(a);
  rte_mbuf* direct_behind = rte_mbuf_from_indirect(ind);
  EXPECT_EQ(rte_mbuf_refcnt_read(direct_behind), 1);
  ASSERT_TRUE(sb.append_mbuf(ind, pool_));
  rte_mbuf* s = sb.slice(100, 600, clone_pool_);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(rte_mbuf_from_indirect(s), direct_behind);
  EXPECT_EQ(rte_mbuf_refcnt_read(direct_behind), 2);
  sb.clear();  // frees the app's indirect mbuf; the slice keeps the data
  EXPECT_EQ(rte_mbuf_refcnt_read(direct_behind), 1);
  EXPECT_EQ(chain_bytes(s), Bytes(a.begin() + 100, a.begin() + 700));
  rte_pktmbuf_free(s);
}

TEST_F(SendBufferTest, AppendCopyShortWhenPoolRunsDry) {
  rte_mempool* tiny = rte_pktmbuf_pool_create("sb_tiny", 4, 0, 0, 512, SOCKET_ID_ANY);
  ASSERT_NE(tiny, nullptr);
  Rng rng(8);
  const Bytes a = random_bytes(rng, 4000);
  {
    SendBuffer sb;
    EXPECT_EQ(sb.append_copy(std::span(a).first(100), tiny), 100u);
    EXPECT_EQ(sb.append_copy(std::span(a).subspan(100), tiny), 4 * 512 - 100u);
    EXPECT_EQ(sb.size(), 4 * 512u);
    EXPECT_EQ(contents(sb), Bytes(a.begin(), a.begin() + 4 * 512));
    EXPECT_EQ(sb.append_copy(a, tiny), 0u);
    EXPECT_EQ(rte_mempool_in_use_count(tiny), 4u);
    // A pool with no data room holds no bytes (and loses no mbuf trying).
    EXPECT_EQ(sb.append_copy(a, clone_pool_), 0u);
    sb.consume(600);  // frees the first mbuf: room for one more
    EXPECT_EQ(sb.append_copy(std::span(a).subspan(2048), tiny), 512u);
    EXPECT_EQ(contents(sb), Bytes(a.begin() + 600, a.begin() + 2048 + 512));
  }
  EXPECT_EQ(rte_mempool_in_use_count(tiny), 0u);
  rte_mempool_free(tiny);
}

TEST_F(SendBufferTest, SliceNullptrWhenClonePoolRunsDry) {
  rte_mempool* tiny = rte_pktmbuf_pool_create("sb_tiny_clone", 3, 0, 0, 0, SOCKET_ID_ANY);
  ASSERT_NE(tiny, nullptr);
  Rng rng(9);
  const Bytes a = random_bytes(rng, 5000);
  SendBuffer sb;
  ASSERT_TRUE(sb.append_mbuf(chain(a, {1000, 1000, 1000, 1000, 1000}, rng), pool_));
  const unsigned in_use = rte_mempool_in_use_count(pool_);
  EXPECT_EQ(sb.slice(0, 5000, tiny), nullptr);  // needs 5 clones
  EXPECT_EQ(rte_mempool_in_use_count(tiny), 0u);
  EXPECT_EQ(rte_mempool_in_use_count(pool_), in_use);
  rte_mbuf* s = sb.slice(500, 2000, tiny);  // 3 clones: fits exactly
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(chain_bytes(s), Bytes(a.begin() + 500, a.begin() + 2500));
  EXPECT_EQ(sb.slice(0, 1, tiny), nullptr);
  EXPECT_EQ(sb.slice(4999, 2, clone_pool_), nullptr) << "out of range";
  EXPECT_EQ(sb.slice(5000, 1, clone_pool_), nullptr) << "out of range";
  rte_pktmbuf_free(s);
  sb.clear();
  // Every reference the failed slices took was dropped: the direct buffers are free.
  EXPECT_EQ(rte_mempool_in_use_count(tiny), 0u);
  EXPECT_EQ(rte_mempool_in_use_count(pool_), pool_start_);
  rte_mempool_free(tiny);
}

TEST_F(SendBufferTest, CursorStaysValidAcrossConsumeAndClear) {
  Rng rng(10);
  const Bytes a = random_bytes(rng, 10000);
  SendBuffer sb;
  ASSERT_TRUE(sb.append_mbuf(
      chain(a, {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}, rng), pool_));
  std::uint32_t una = 0;  // stream offset of the buffer's front
  const auto check = [&](std::uint32_t stream_off, std::uint32_t len) {
    rte_mbuf* s = sb.slice(stream_off - una, len, clone_pool_);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(chain_bytes(s), Bytes(a.begin() + stream_off, a.begin() + stream_off + len))
        << "stream offset " << stream_off;
    rte_pktmbuf_free(s);
  };
  check(2500, 1000);  // cursor: the node [3000, 4000)
  sb.consume(500);    // cursor node survives, moves
  una = 500;
  check(3500, 1000);
  sb.consume(3200);  // the cursor node [4000, 5000) is now the partially consumed head
  una = 3700;
  check(4400, 100);
  check(3700, 100);  // behind the cursor: from the front
  check(5000, 2000);
  sb.consume(4000);  // frees the cursor node
  una = 7700;
  check(7700, 2300);
  check(8000, 1);
  check(9999, 1);
  sb.clear();
  sb.append_copy(std::span(a).first(3000), pool_);
  una = 0;
  check(0, 3000);
  check(1500, 1500);
  sb.consume(3000);
  EXPECT_TRUE(sb.empty());
  sb.append_copy(std::span(a).first(100), pool_);
  check(0, 100);
}

TEST_F(SendBufferTest, SmallWritesStayInPlaceWithoutMbufs) {
  Rng rng(11);
  const Bytes a = random_bytes(rng, SendBuffer::kInPlaceBytes + 1);
  SendBuffer sb;
  EXPECT_TRUE(sb.in_place());
  // A request-response exchange: write, copy out for the segment, ACK. No mbuf taken.
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(sb.append_copy(std::span(a).first(1), pool_), 1u);
    EXPECT_TRUE(sb.in_place());
    EXPECT_EQ(rte_mempool_in_use_count(pool_), pool_start_);
    EXPECT_EQ(contents(sb), Bytes(a.begin(), a.begin() + 1));
    EXPECT_EQ(sb.bytes_within(0, 1, 1), 1u);
    EXPECT_EQ(sb.slice(0, 1, clone_pool_), nullptr) << "in place: copied, never sliced";
    sb.consume(1);
    EXPECT_TRUE(sb.empty());
  }
  // Up to kInPlaceBytes in several writes; a partial ACK keeps the rest in order.
  const std::uint32_t cap = SendBuffer::kInPlaceBytes;
  EXPECT_EQ(sb.append_copy(std::span(a).first(cap - 5), pool_), cap - 5);
  EXPECT_EQ(sb.append_copy(std::span(a).subspan(cap - 5, 5), pool_), 5u);
  EXPECT_TRUE(sb.in_place());
  EXPECT_EQ(rte_mempool_in_use_count(pool_), pool_start_);
  sb.consume(7);
  EXPECT_EQ(contents(sb), Bytes(a.begin() + 7, a.begin() + cap));
  Bytes mid(4);
  sb.copy_out(10, mid);
  EXPECT_EQ(mid, Bytes(a.begin() + 17, a.begin() + 21));
  // One byte more than fits: everything moves into one mbuf, in order, and can be sliced.
  EXPECT_EQ(sb.append_copy(std::span(a).first(8), pool_), 8u);
  EXPECT_FALSE(sb.in_place());
  EXPECT_EQ(rte_mempool_in_use_count(pool_), pool_start_ + 1);
  Bytes want(a.begin() + 7, a.begin() + cap);
  want.insert(want.end(), a.begin(), a.begin() + 8);
  EXPECT_EQ(contents(sb), want);
  rte_mbuf* s = sb.slice(0, sb.size(), clone_pool_);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(chain_bytes(s), want);
  rte_pktmbuf_free(s);
  // Later small writes fill that mbuf's tailroom; emptied, the buffer is in place again.
  EXPECT_EQ(sb.append_copy(std::span(a).first(3), pool_), 3u);
  EXPECT_EQ(rte_mempool_in_use_count(pool_), pool_start_ + 1);
  sb.consume(sb.size());
  EXPECT_TRUE(sb.in_place());
  EXPECT_EQ(rte_mempool_in_use_count(pool_), pool_start_);
  // clear() of bytes in place frees nothing and empties the buffer.
  sb.append_copy(std::span(a).first(4), pool_);
  sb.clear();
  EXPECT_TRUE(sb.empty());
  EXPECT_TRUE(sb.in_place());
}

TEST_F(SendBufferTest, BytesInPlaceMoveOutOnlyWhenAnMbufIsFree) {
  rte_mempool* tiny = rte_pktmbuf_pool_create("sb_tiny_move", 1, 0, 0, 512, SOCKET_ID_ANY);
  ASSERT_NE(tiny, nullptr);
  Rng rng(12);
  const Bytes a = random_bytes(rng, 600);
  {
    SendBuffer sb;
    EXPECT_EQ(sb.append_copy(std::span(a).first(10), tiny), 10u);
    rte_mbuf* hog = rte_pktmbuf_alloc(tiny);  // the pool is dry now
    ASSERT_NE(hog, nullptr);
    // Neither a larger write nor a zero-copy chain can go after the bytes in place: both
    // refused whole, the buffer unchanged, the chain still the caller's.
    EXPECT_EQ(sb.append_copy(std::span(a).subspan(10, 100), tiny), 0u);
    rte_mbuf* app = direct(std::span(a).subspan(10, 300));
    EXPECT_FALSE(sb.append_mbuf(app, tiny));
    EXPECT_EQ(rte_mbuf_refcnt_read(app), 1);
    EXPECT_TRUE(sb.in_place());
    EXPECT_EQ(contents(sb), Bytes(a.begin(), a.begin() + 10));
    // With an mbuf free again the chain goes in after the bytes, which move into it.
    rte_pktmbuf_free(hog);
    EXPECT_TRUE(sb.append_mbuf(app, tiny));
    EXPECT_FALSE(sb.in_place());
    EXPECT_EQ(rte_mempool_in_use_count(tiny), 1u);
    EXPECT_EQ(contents(sb), Bytes(a.begin(), a.begin() + 310));
    // A chain of only empty segments onto an empty buffer leaves it empty and in place.
    sb.consume(310);
    EXPECT_TRUE(sb.in_place());
    rte_mbuf* empty = direct({});
    EXPECT_TRUE(sb.append_mbuf(empty, tiny));
    EXPECT_TRUE(sb.empty());
    EXPECT_TRUE(sb.in_place());
  }
  EXPECT_EQ(rte_mempool_in_use_count(tiny), 0u);
  rte_mempool_free(tiny);
}

// Random appends (copy, chains of direct and indirect segments, empty ones), slices,
// consumes and copies against a byte-vector model; slices are held and checked at the end.
TEST_F(SendBufferTest, RandomOperationsMatchModel) {
  for (std::uint32_t seed = 100; seed < 110; ++seed) {
    Rng rng(seed);
    SendBuffer sb;
    Bytes model;  // the buffer's bytes
    std::vector<std::pair<rte_mbuf*, Bytes>> held;
    std::uint32_t next_send = 0;  // offset of the next new segment (sequential slicing)
    for (int step = 0; step < 1500; ++step) {
      const unsigned op = rng() % 10;
      if (op < 2 && model.size() < 150000) {
        // Small writes half of the time, so that the in-place form is exercised too.
        const Bytes b = random_bytes(rng, rng() % 2 == 0 ? rng() % 40 : rng() % 4000);
        ASSERT_EQ(sb.append_copy(b, pool_), b.size());
        model.insert(model.end(), b.begin(), b.end());
      } else if (op < 4 && model.size() < 150000) {
        std::vector<std::size_t> sizes(1 + rng() % 4);
        std::size_t total = 0;
        for (auto& s : sizes) total += (s = (rng() % 4 == 0) ? 0 : rng() % 1800);
        if (total == 0) sizes.back() = total = 1;
        const Bytes b = random_bytes(rng, total);
        ASSERT_TRUE(sb.append_mbuf(chain(b, sizes, rng), pool_));
        model.insert(model.end(), b.begin(), b.end());
      } else if (op < 7 && !model.empty()) {
        // Either the next new segment or a retransmission from anywhere before it.
        std::uint32_t off = next_send < model.size() && rng() % 3 != 0
                                ? next_send
                                : static_cast<std::uint32_t>(rng() % model.size());
        const std::uint32_t len =
            1 + static_cast<std::uint32_t>(rng() % std::min<std::size_t>(4000, model.size() - off));
        Bytes want(model.begin() + off, model.begin() + off + len);
        if (sb.in_place()) {  // only copied out, as transmit does with few bytes
          ASSERT_LE(model.size(), SendBuffer::kInPlaceBytes);
          ASSERT_EQ(sb.slice(off, len, clone_pool_), nullptr);
          Bytes out(len);
          sb.copy_out(off, out);
          ASSERT_EQ(out, want) << "seed " << seed << " step " << step;
          if (off == next_send) next_send = off + len;
          continue;
        }
        rte_mbuf* s = sb.slice(off, len, clone_pool_);
        ASSERT_NE(s, nullptr);
        ASSERT_EQ(chain_bytes(s), want) << "seed " << seed << " step " << step;
        if (off == next_send) next_send = off + len;
        if (held.size() < 300 && rng() % 2 == 0) {
          held.emplace_back(s, std::move(want));
        } else {
          rte_pktmbuf_free(s);
        }
      } else if (op < 9 && !model.empty()) {
        const std::uint32_t n = static_cast<std::uint32_t>(rng() % (model.size() + 1));
        sb.consume(n);
        model.erase(model.begin(), model.begin() + n);
        next_send = next_send > n ? next_send - n : 0;
      } else if (!model.empty()) {
        const std::uint32_t off = static_cast<std::uint32_t>(rng() % model.size());
        Bytes out(rng() % (model.size() - off + 1));
        sb.copy_out(off, out);
        ASSERT_TRUE(std::equal(out.begin(), out.end(), model.begin() + off));
      }
      ASSERT_EQ(sb.size(), model.size());
    }
    EXPECT_EQ(contents(sb), model);
    sb.clear();
    for (auto& [m, want] : held) {
      EXPECT_EQ(chain_bytes(m), want);
      rte_pktmbuf_free(m);
    }
    EXPECT_EQ(rte_mempool_in_use_count(pool_), pool_start_) << "seed " << seed;
    EXPECT_EQ(rte_mempool_in_use_count(clone_pool_), 0u) << "seed " << seed;
  }
}

}  // namespace
}  // namespace sluice::tcp
