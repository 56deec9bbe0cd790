// ReceiveBuffer: received payload as mbufs, in order and out of order, with reassembly and
// SACK blocks. RFC 9293 §3.10.7.4 (first and seventh steps), RFC 2018 §4. See
// receive_buffer.hpp.
#include "tcp/receive_buffer.hpp"

#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace sluice::tcp {

using wire::SackBlock;
using wire::Seq;

namespace {

const std::uint8_t* data_ptr(const rte_mbuf* m) noexcept {
  return static_cast<const std::uint8_t*>(m->buf_addr) + m->data_off;
}

void free_node(rte_mbuf* m) noexcept {
  m->next = nullptr;
  m->nb_segs = 1;
  rte_pktmbuf_free_seg(m);
}

void set_len(rte_mbuf* m, std::uint32_t len) noexcept {
  m->data_len = static_cast<std::uint16_t>(len);
  m->pkt_len = len;
}

/// Drops the first k bytes of a node (k < data_len), as rte_pktmbuf_adj would.
void trim_front(rte_mbuf* m, std::uint32_t k) noexcept {
  m->data_off = static_cast<std::uint16_t>(m->data_off + k);
  set_len(m, m->data_len - k);
}

Seq ooo_start(const rte_mbuf* m) noexcept {
  return Seq{m->hash.usr};
}
Seq ooo_end(const rte_mbuf* m) noexcept {
  return Seq{m->hash.usr} + m->data_len;
}

}  // namespace

ReceiveBuffer::InsertResult ReceiveBuffer::insert(Seq rcv_nxt, Seq seq, rte_mbuf* payload,
                                                  std::uint32_t window) noexcept {
  InsertResult result;
  if (payload == nullptr) return result;
  std::uint32_t remaining = payload->pkt_len;
  Seq s = seq;  // first sequence number of the current mbuf segment
  bool have_arrival = false;
  Seq arrival{};

  // Each mbuf segment becomes a node of its own, carrying [s, s + len).
  for (rte_mbuf* m = payload; m != nullptr;) {
    rte_mbuf* const next = m->next;
    const std::uint32_t len = std::min<std::uint32_t>(m->data_len, remaining);
    remaining -= len;
    m->next = nullptr;
    m->nb_segs = 1;
    set_len(m, len);

    // RFC 9293 §3.10.7.4, first: keep [RCV.NXT, RCV.NXT + RCV.WND). Offsets from rcv_nxt
    // are computed modulo 2^32, so a segment straddling the wrap is cut correctly.
    std::uint32_t off = s.raw - rcv_nxt.raw;
    std::uint32_t front = 0;
    if (static_cast<std::int32_t>(off) < 0) {  // starts before RCV.NXT: old bytes
      front = std::min<std::uint32_t>(rcv_nxt.raw - s.raw, len);
      off = 0;
    }
    std::uint32_t kept = len - front;
    const std::uint32_t room = off < window ? window - off : 0;
    const std::uint32_t back = kept > room ? kept - room : 0;
    kept -= back;
    result.duplicate += front;
    result.trimmed += back;
    const Seq start = s + front;
    s += len;

    if (kept == 0 || result.dropped) {  // nothing left, or the segment is being dropped
      free_node(m);
      m = next;
      continue;
    }
    if (front > 0) trim_front(m, front);
    set_len(m, kept);
    if (start == rcv_nxt) {
      // Seventh step: the text is in order; RCV.NXT advances over it and over every
      // out-of-order byte it makes contiguous.
      append_in_order(m);
      result.advanced += kept;
      rcv_nxt += kept;
      drain_ooo(rcv_nxt, result);
    } else {
      result.out_of_order = true;
      m->hash.usr = start.raw;
      if (insert_ooo(m, result)) {
        if (!have_arrival) {
          have_arrival = true;
          arrival = start;
        }
      } else {
        result.dropped = true;  // the rest of this segment goes too: one rule, no holes
      }
    }
    m = next;
  }

  if (result.advanced > 0) forget_arrivals_below(rcv_nxt);
  if (have_arrival) remember_arrival(arrival);
  return result;
}

void ReceiveBuffer::append_in_order(rte_mbuf* node) noexcept {
  node->next = nullptr;
  if (tail_ != nullptr) {
    // A small segment behind unread data is copied onto the last node when that has room
    // (and is ours alone): a peer trickling tiny segments at an application that does not
    // read then holds one mbuf per couple of KB, not one per segment — its window is in
    // bytes, the pool in mbufs. An application that keeps up never has a tail here.
    const std::uint16_t len = node->data_len;
    if (len <= kCoalesceMax && RTE_MBUF_DIRECT(tail_) && rte_mbuf_refcnt_read(tail_) == 1 &&
        rte_pktmbuf_tailroom(tail_) >= len) {
      std::memcpy(rte_pktmbuf_mtod_offset(tail_, std::uint8_t*, tail_->data_len), data_ptr(node),
                  len);
      set_len(tail_, std::uint32_t{tail_->data_len} + len);
      readable_ += len;
      free_node(node);
      return;
    }
    tail_->next = node;
  } else {
    head_ = node;
  }
  tail_ = node;
  readable_ += node->data_len;
}

bool ReceiveBuffer::insert_ooo(rte_mbuf* node, InsertResult& result) noexcept {
  Seq a = ooo_start(node);
  Seq b = ooo_end(node);

  // prev/cur: cur is the first held node ending after a. Arrivals after the last hole
  // usually land at the tail: check it first.
  rte_mbuf* prev = nullptr;
  rte_mbuf* cur = ooo_head_;
  if (ooo_tail_ != nullptr && ooo_end(ooo_tail_) <= a) {
    prev = ooo_tail_;
    cur = nullptr;
  } else {
    while (cur != nullptr && ooo_end(cur) <= a) {
      prev = cur;
      cur = cur->next;
    }
  }

  // Plan first, so that a segment refused by the node limit changes nothing held.
  std::uint32_t front = 0;
  if (cur != nullptr && ooo_start(cur) <= a) {  // cur holds our first byte
    if (ooo_end(cur) >= b) {                    // ... and all the others: a duplicate
      result.duplicate += node->data_len;
      free_node(node);
      return true;
    }
    front = static_cast<std::uint32_t>(ooo_end(cur) - a);
    a = ooo_end(cur);
    prev = cur;
    cur = cur->next;
  }
  // Held nodes inside [a, b) are replaced by ours; one reaching past b trims our end.
  std::uint32_t covered_nodes = 0;
  std::uint32_t covered_bytes = 0;
  rte_mbuf* after = cur;
  while (after != nullptr && ooo_end(after) <= b) {
    ++covered_nodes;
    covered_bytes += after->data_len;
    after = after->next;
  }
  std::uint32_t back = 0;
  if (after != nullptr && ooo_start(after) < b) {
    back = static_cast<std::uint32_t>(b - ooo_start(after));
    b = ooo_start(after);
  }
  if (a == b) {  // every byte already held (by the node before and the node after)
    result.duplicate += node->data_len;
    free_node(node);
    return true;
  }
  if (covered_nodes == 0 && ooo_nodes_ >= max_ooo_nodes_) {
    free_node(node);
    return false;
  }

  // Commit.
  result.duplicate += front + back + covered_bytes;
  if (front > 0) trim_front(node, front);
  set_len(node, static_cast<std::uint32_t>(b - a));
  node->hash.usr = a.raw;
  while (cur != after) {
    rte_mbuf* const next = cur->next;
    free_node(cur);
    cur = next;
  }
  node->next = after;
  if (prev != nullptr) {
    prev->next = node;
  } else {
    ooo_head_ = node;
  }
  if (after == nullptr) ooo_tail_ = node;
  ooo_nodes_ = static_cast<std::uint16_t>(ooo_nodes_ + 1 - covered_nodes);
  ooo_bytes_ = ooo_bytes_ - covered_bytes + node->data_len;
  return true;
}

void ReceiveBuffer::drain_ooo(Seq& rcv_nxt, InsertResult& result) noexcept {
  while (ooo_head_ != nullptr && ooo_start(ooo_head_) <= rcv_nxt) {
    rte_mbuf* const m = ooo_head_;
    ooo_head_ = m->next;
    if (ooo_head_ == nullptr) ooo_tail_ = nullptr;
    --ooo_nodes_;
    ooo_bytes_ -= m->data_len;
    m->next = nullptr;
    // The new in-order bytes may overlap this node's front: those bytes are duplicates.
    const std::uint32_t overlap = static_cast<std::uint32_t>(rcv_nxt - ooo_start(m));
    if (overlap >= m->data_len) {
      result.duplicate += m->data_len;
      free_node(m);
      continue;
    }
    if (overlap > 0) trim_front(m, overlap);
    result.duplicate += overlap;
    append_in_order(m);
    result.advanced += m->data_len;
    rcv_nxt += m->data_len;
  }
}

bool ReceiveBuffer::block_of(Seq seq, SackBlock& block) const noexcept {
  const rte_mbuf* m = ooo_head_;
  while (m != nullptr) {
    const Seq left = ooo_start(m);
    Seq right = ooo_end(m);
    for (m = m->next; m != nullptr && ooo_start(m) == right; m = m->next) right = ooo_end(m);
    if (left <= seq && seq < right) {
      block = SackBlock{left, right};
      return true;
    }
  }
  return false;
}

void ReceiveBuffer::remember_arrival(Seq seq) noexcept {
  SackBlock latest{};
  if (!block_of(seq, latest)) return;
  // One entry per block, most recent first: drop older entries of the same block (it may
  // have just merged several) and entries whose data is no longer out of order.
  Seq kept[kSackHistory];
  std::uint8_t n = 0;
  kept[n++] = seq;
  for (std::uint8_t i = 0; i < arrivals_count_ && n < kSackHistory; ++i) {
    const Seq e = arrivals_[i];
    SackBlock block{};
    if (block_of(e, block) && !(block == latest)) kept[n++] = e;
  }
  std::copy(kept, kept + n, arrivals_);
  arrivals_count_ = n;
}

void ReceiveBuffer::forget_arrivals_below(Seq rcv_nxt) noexcept {
  if (ooo_head_ == nullptr) {
    arrivals_count_ = 0;
    return;
  }
  std::uint8_t n = 0;
  for (std::uint8_t i = 0; i < arrivals_count_; ++i) {
    if (arrivals_[i] >= rcv_nxt) arrivals_[n++] = arrivals_[i];
  }
  arrivals_count_ = n;
}

std::uint8_t ReceiveBuffer::sack_blocks(std::span<SackBlock> out) const noexcept {
  const std::size_t cap =
      std::min<std::size_t>(out.size(), std::numeric_limits<std::uint8_t>::max());
  std::size_t n = 0;
  const auto listed = [&](const SackBlock& b) {
    for (std::size_t i = 0; i < n; ++i) {
      if (out[i].left == b.left) return true;
    }
    return false;
  };
  // RFC 2018 §4: the block of the latest arrival, then the most recently reported ones.
  for (std::uint8_t i = 0; i < arrivals_count_ && n < cap; ++i) {
    SackBlock b{};
    if (block_of(arrivals_[i], b) && !listed(b)) out[n++] = b;
  }
  // Room left: blocks whose arrival fell out of the history, in sequence order.
  for (const rte_mbuf* m = ooo_head_; m != nullptr && n < cap;) {
    SackBlock b{ooo_start(m), ooo_end(m)};
    for (m = m->next; m != nullptr && ooo_start(m) == b.right; m = m->next) b.right = ooo_end(m);
    if (!listed(b)) out[n++] = b;
  }
  return static_cast<std::uint8_t>(n);
}

void ReceiveBuffer::consume(std::uint32_t n) noexcept {
  while (n > 0 && head_ != nullptr) {
    rte_mbuf* const m = head_;
    if (n >= m->data_len) {
      n -= m->data_len;
      readable_ -= m->data_len;
      head_ = m->next;
      if (head_ == nullptr) tail_ = nullptr;
      free_node(m);
    } else {
      trim_front(m, n);
      readable_ -= n;
      n = 0;
    }
  }
}

std::uint32_t ReceiveBuffer::read(std::span<std::uint8_t> dst) noexcept {
  const std::uint32_t want =
      static_cast<std::uint32_t>(std::min<std::size_t>(dst.size(), readable_));
  std::uint32_t done = 0;
  for (const rte_mbuf* m = head_; done < want; m = m->next) {
    const std::uint32_t n = std::min<std::uint32_t>(m->data_len, want - done);
    std::memcpy(dst.data() + done, data_ptr(m), n);
    done += n;
  }
  consume(done);
  return done;
}

rte_mbuf* ReceiveBuffer::take(std::uint32_t max_bytes) noexcept {
  if (head_ == nullptr || max_bytes == 0) return nullptr;
  rte_mbuf* const first = head_;
  rte_mbuf* last = head_;
  std::uint32_t bytes = head_->data_len;
  std::uint32_t segs = 1;
  while (last->next != nullptr && segs < std::numeric_limits<std::uint16_t>::max() &&
         bytes + last->next->data_len <= max_bytes) {
    last = last->next;
    bytes += last->data_len;
    ++segs;
  }
  head_ = last->next;
  if (head_ == nullptr) tail_ = nullptr;
  last->next = nullptr;
  readable_ -= bytes;
  first->nb_segs = static_cast<std::uint16_t>(segs);
  first->pkt_len = bytes;
  return first;
}

void ReceiveBuffer::clear() noexcept {
  for (rte_mbuf* q : {head_, ooo_head_}) {
    while (q != nullptr) {
      rte_mbuf* const next = q->next;
      free_node(q);
      q = next;
    }
  }
  head_ = tail_ = ooo_head_ = ooo_tail_ = nullptr;
  readable_ = ooo_bytes_ = 0;
  ooo_nodes_ = 0;
  arrivals_count_ = 0;
}

}  // namespace sluice::tcp
