// SendBuffer: application bytes from SND.UNA onward, in place or as mbufs; zero-copy
// slices for (re)transmission. RFC 9293 §3.3.1, §3.8.1, §3.10.7.4. See send_buffer.hpp.
#include "tcp/send_buffer.hpp"

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace sluice::tcp {

namespace {

std::uint8_t* data_ptr(rte_mbuf* m) noexcept {
  return static_cast<std::uint8_t*>(m->buf_addr) + m->data_off;
}
const std::uint8_t* data_ptr(const rte_mbuf* m) noexcept {
  return static_cast<const std::uint8_t*>(m->buf_addr) + m->data_off;
}

/// Unlinks one node and releases our reference to it: rte_pktmbuf_free_seg handles direct,
/// indirect and external-buffer mbufs and leaves a buffer alive while slices still use it.
void free_node(rte_mbuf* m) noexcept {
  m->next = nullptr;
  m->nb_segs = 1;
  rte_pktmbuf_free_seg(m);
}

}  // namespace

void SendBuffer::push_node(rte_mbuf* node) noexcept {
  if (q_.tail != nullptr) {
    q_.tail->next = node;
  } else {
    q_.head = node;
  }
  q_.tail = node;
}

bool SendBuffer::leave_in_place(rte_mempool* pool) noexcept {
  rte_mbuf* m = nullptr;
  if (size_ > 0) {
    m = pool != nullptr ? rte_pktmbuf_alloc(pool) : nullptr;
    if (m == nullptr) return false;
    if (m->buf_len < size_) {  // a pool without data room (e.g. a clone pool)
      rte_pktmbuf_free_seg(m);
      return false;
    }
    m->data_off = 0;  // payload only, as append_copy's nodes
    std::memcpy(data_ptr(m), bytes_, size_);
    m->data_len = static_cast<std::uint16_t>(size_);
    m->pkt_len = size_;
  }
  q_ = Queue{m, m, nullptr, 0};
  tail_ours_ = m != nullptr;
  in_place_ = false;
  return true;
}

std::uint32_t SendBuffer::append_copy(std::span<const std::uint8_t> bytes,
                                      rte_mempool* pool) noexcept {
  // size_ is 32-bit: never take more than fits (the connection's send_buffer limit is far
  // below this anyway).
  const std::size_t want =
      std::min<std::size_t>(bytes.size(), std::numeric_limits<std::uint32_t>::max() - size_);
  if (want == 0) return 0;
  if (in_place_) {
    if (want <= kInPlaceBytes - size_) {
      std::memcpy(bytes_ + size_, bytes.data(), want);
      size_ += static_cast<std::uint32_t>(want);
      return static_cast<std::uint32_t>(want);
    }
    if (!leave_in_place(pool)) return 0;
  }
  std::size_t done = 0;

  // Only a mbuf we allocated, still direct and unshared, may be written: an app-provided
  // mbuf may be read-only to us, and a shared one belongs to in-flight slices too.
  rte_mbuf* const tail = q_.tail;
  if (tail != nullptr && tail_ours_ && RTE_MBUF_DIRECT(tail) && rte_mbuf_refcnt_read(tail) == 1) {
    const std::size_t n = std::min<std::size_t>(rte_pktmbuf_tailroom(tail), want);
    if (n > 0) {
      std::memcpy(data_ptr(tail) + tail->data_len, bytes.data(), n);
      tail->data_len = static_cast<std::uint16_t>(tail->data_len + n);
      tail->pkt_len = tail->data_len;
      size_ += static_cast<std::uint32_t>(n);
      done = n;
    }
  }

  while (done < want) {
    rte_mbuf* m = (pool != nullptr) ? rte_pktmbuf_alloc(pool) : nullptr;
    if (m == nullptr) break;
    m->data_off = 0;  // payload only: headers go in a separate mbuf chained in front
    const std::size_t n = std::min<std::size_t>(m->buf_len, want - done);
    if (n == 0) {  // a pool without data room (e.g. a clone pool) can hold no bytes
      rte_pktmbuf_free_seg(m);
      break;
    }
    std::memcpy(data_ptr(m), bytes.data() + done, n);
    m->data_len = static_cast<std::uint16_t>(n);
    m->pkt_len = m->data_len;
    push_node(m);
    tail_ours_ = true;
    size_ += static_cast<std::uint32_t>(n);
    done += n;
  }
  if (size_ == 0) in_place_ = true;  // nothing was stored: no nodes either
  return static_cast<std::uint32_t>(done);
}

bool SendBuffer::append_mbuf(rte_mbuf* chain, rte_mempool* pool) noexcept {
  if (chain == nullptr) return true;
  if (in_place_ && !leave_in_place(pool)) return false;
  std::uint32_t remaining = chain->pkt_len;
  for (rte_mbuf* m = chain; m != nullptr;) {
    rte_mbuf* const next = m->next;
    const std::uint16_t len =
        static_cast<std::uint16_t>(std::min<std::uint32_t>(m->data_len, remaining));
    remaining -= len;
    if (len == 0) {
      free_node(m);
    } else {
      m->next = nullptr;
      m->nb_segs = 1;
      m->data_len = len;
      m->pkt_len = len;
      push_node(m);
      tail_ours_ = false;
      size_ += len;
    }
    m = next;
  }
  if (q_.head == nullptr) in_place_ = true;  // only empty segments
  return true;
}

void SendBuffer::consume(std::uint32_t n) noexcept {
  n = std::min(n, size_);
  if (in_place_) {
    size_ -= n;
    if (size_ > 0 && n > 0) std::memmove(bytes_, bytes_ + n, size_);
    return;
  }
  const std::uint32_t total = n;
  bool cursor_freed = false;
  while (n > 0 && q_.head != nullptr) {
    rte_mbuf* const m = q_.head;
    if (n >= m->data_len) {
      n -= m->data_len;
      size_ -= m->data_len;
      q_.head = m->next;
      if (m == q_.cursor) cursor_freed = true;
      if (q_.head == nullptr) {
        q_.tail = nullptr;
        tail_ours_ = false;
      }
      free_node(m);
    } else {
      // Partially acknowledged node: only this header moves; slices have their own.
      m->data_off = static_cast<std::uint16_t>(m->data_off + n);
      m->data_len = static_cast<std::uint16_t>(m->data_len - n);
      m->pkt_len = m->data_len;
      size_ -= n;
      n = 0;
    }
  }
  if (q_.head == nullptr) {
    in_place_ = true;  // empty: the next small write lands in place
    return;
  }
  if (cursor_freed) {
    q_.cursor = nullptr;
    q_.cursor_start = 0;
  } else if (q_.cursor != nullptr) {
    // A surviving cursor node either lay wholly after the consumed bytes or is now the
    // (partially consumed) head.
    q_.cursor_start = q_.cursor_start >= total ? q_.cursor_start - total : 0;
  }
}

rte_mbuf* SendBuffer::find(std::uint32_t offset, std::uint32_t& node_start) const noexcept {
  rte_mbuf* m = q_.head;
  std::uint32_t start = 0;
  if (q_.cursor != nullptr && q_.cursor_start <= offset) {
    m = q_.cursor;
    start = q_.cursor_start;
  }
  while (offset - start >= m->data_len) {
    start += m->data_len;
    m = m->next;
  }
  node_start = start;
  return m;
}

std::uint32_t SendBuffer::bytes_within(std::uint32_t offset, std::uint32_t len,
                                       std::uint32_t max_nodes) const noexcept {
  if (len == 0 || len > size_ || offset > size_ - len || max_nodes == 0) return 0;
  if (in_place_) return len;  // copied out whole, into no payload segment at all
  std::uint32_t start = 0;
  const rte_mbuf* m = find(offset, start);
  std::uint32_t covered = 0;
  for (std::uint32_t k = 0; k < max_nodes && m != nullptr && covered < len; ++k) {
    covered += m->data_len - (k == 0 ? offset - start : 0u);
    m = m->next;
  }
  return std::min(covered, len);
}

rte_mbuf* SendBuffer::slice(std::uint32_t offset, std::uint32_t len,
                            rte_mempool* clone_pool) noexcept {
  // Out of range is a caller bug; refuse it rather than walk off the queue.
  if (len == 0 || clone_pool == nullptr || len > size_ || offset > size_ - len || in_place_) {
    return nullptr;
  }
  std::uint32_t start = 0;
  rte_mbuf* m = find(offset, start);
  rte_mbuf* first = nullptr;
  rte_mbuf* last = nullptr;
  std::uint32_t segs = 0;
  std::uint32_t pos = offset;
  const std::uint32_t end = offset + len;
  for (;;) {
    const std::uint32_t in_node = pos - start;
    const std::uint32_t n = std::min<std::uint32_t>(m->data_len - in_node, end - pos);
    rte_mbuf* c =
        segs < std::numeric_limits<std::uint16_t>::max() ? rte_pktmbuf_alloc(clone_pool) : nullptr;
    if (c == nullptr) {
      if (first != nullptr) first->nb_segs = static_cast<std::uint16_t>(segs);
      rte_pktmbuf_free(first);  // walks ->next; drops the references taken so far
      return nullptr;
    }
    // attach() on an indirect or external-buffer node references the buffer that holds the
    // data, so the slice outlives the node; then narrow the view to our range.
    rte_pktmbuf_attach(c, m);
    c->data_off = static_cast<std::uint16_t>(m->data_off + in_node);
    c->data_len = static_cast<std::uint16_t>(n);
    c->pkt_len = n;
    if (last != nullptr) {
      last->next = c;
    } else {
      first = c;
    }
    last = c;
    ++segs;
    pos += n;
    if (pos == end) break;
    start += m->data_len;
    m = m->next;
  }
  first->nb_segs = static_cast<std::uint16_t>(segs);
  first->pkt_len = len;
  // The next segment normally starts where this one ended: remember the node holding our
  // last byte (find() steps past it if the next offset lies beyond).
  q_.cursor = m;
  q_.cursor_start = start;
  return first;
}

void SendBuffer::copy_out(std::uint32_t offset, std::span<std::uint8_t> dst) const noexcept {
  if (dst.empty() || dst.size() > size_ || offset > size_ - dst.size()) return;
  if (in_place_) {
    std::memcpy(dst.data(), bytes_ + offset, dst.size());
    return;
  }
  std::uint32_t start = 0;
  const rte_mbuf* m = find(offset, start);
  std::uint32_t in_node = offset - start;
  std::size_t done = 0;
  while (done < dst.size()) {
    const std::size_t n = std::min<std::size_t>(m->data_len - in_node, dst.size() - done);
    std::memcpy(dst.data() + done, data_ptr(m) + in_node, n);
    done += n;
    in_node = 0;
    m = m->next;
  }
}

void SendBuffer::clear() noexcept {
  if (!in_place_) {
    for (rte_mbuf* m = q_.head; m != nullptr;) {
      rte_mbuf* const next = m->next;
      free_node(m);
      m = next;
    }
  }
  size_ = 0;
  in_place_ = true;
  tail_ours_ = false;
}

}  // namespace sluice::tcp
