// SendBuffer: the application's bytes of one connection from SND.UNA onward (sent but
// unacknowledged, then not yet sent), kept as mbufs until acknowledged. Transmission and
// retransmission take zero-copy slices (indirect mbufs) of it.
//
// RFC 9293 §3.3.1 (send sequence space: SND.UNA .. SND.NXT .. SND.UNA + SND.WND), §3.8.1
// (retransmission from SND.UNA), §3.10.7.4 fifth step (an ACK removes acknowledged bytes
// from the retransmission queue: consume()).
//
// Storage is a queue of single-segment mbufs ("nodes") linked through m->next; each node
// stands alone (nb_segs 1, pkt_len == data_len) so the queue is never handed to DPDK as a
// packet. Offsets in this API count bytes from the front of the buffer, i.e. from SND.UNA.
#pragma once

#include <cstdint>
#include <span>

struct rte_mbuf;
struct rte_mempool;

namespace sluice::tcp {

class SendBuffer {
 public:
  SendBuffer() noexcept = default;
  ~SendBuffer() { clear(); }

  SendBuffer(const SendBuffer&) = delete;
  SendBuffer& operator=(const SendBuffer&) = delete;

  /// Copies `bytes` to the end: first into the tailroom of the last node (only if it is a
  /// direct mbuf of refcount 1 that this buffer allocated), then into fresh mbufs from
  /// `pool` (their whole data room: payload mbufs need no headroom, headers are chained in
  /// front). Returns the bytes copied: fewer than asked only if `pool` ran dry, and then
  /// exactly a prefix of `bytes` was appended.
  std::uint32_t append_copy(std::span<const std::uint8_t> bytes, rte_mempool* pool) noexcept;

  /// Zero-copy append of `chain` (ownership taken; nullptr is a no-op). Each segment becomes
  /// one node; empty segments, and data beyond chain->pkt_len, are freed.
  /// Pre: every segment is exclusively ours (refcount 1; it may be indirect, i.e. attached
  /// to a shared buffer), since node headers are edited in place.
  void append_mbuf(rte_mbuf* chain) noexcept;

  /// Drops the first `n` bytes (acknowledged). Pre: n <= size(). Slices taken earlier stay
  /// valid: they hold their own references to the data.
  void consume(std::uint32_t n) noexcept;

  /// A new chain of indirect mbufs from `clone_pool` covering bytes [offset, offset + len),
  /// ready to be chained after a header mbuf (nb_segs and pkt_len set on its first mbuf).
  /// The caller owns it (free with rte_pktmbuf_free). Returns nullptr, having leaked
  /// nothing, if len == 0, if clone_pool runs dry, if the range spans more than 65535
  /// nodes, or if offset + len > size() (a caller bug).
  /// Sequential slicing (each offset at or after the previous one) is O(1) amortized;
  /// an offset before the previous one walks from the front.
  /// Never prepend or append into the returned mbufs: their head- and tailroom are other
  /// bytes of the stream.
  rte_mbuf* slice(std::uint32_t offset, std::uint32_t len, rte_mempool* clone_pool) noexcept;

  /// How many of the bytes [offset, offset + len) lie in the first `max_nodes` nodes that
  /// hold them: the most one slice may carry when a packet may have at most that many
  /// payload segments. Pre: offset + len <= size() (otherwise 0).
  std::uint32_t bytes_within(std::uint32_t offset, std::uint32_t len,
                             std::uint32_t max_nodes) const noexcept;

  /// Copies bytes [offset, offset + dst.size()) into dst. Pre: offset + dst.size() <= size()
  /// (otherwise nothing is copied).
  void copy_out(std::uint32_t offset, std::span<std::uint8_t> dst) const noexcept;

  std::uint32_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  /// Frees every node (slices taken earlier stay valid).
  void clear() noexcept;

 private:
  /// Finds the node holding byte `offset` (< size_), starting at the cursor when it is not
  /// past `offset`; returns the node and sets `node_start` to the offset of its first byte.
  rte_mbuf* find(std::uint32_t offset, std::uint32_t& node_start) const noexcept;
  void push_node(rte_mbuf* node) noexcept;

  rte_mbuf* head_ = nullptr;
  rte_mbuf* tail_ = nullptr;
  /// Where the last slice ended: a node and the offset of its first byte. nullptr means the
  /// front. consume() keeps it valid; it is only a hint for find().
  rte_mbuf* cursor_ = nullptr;
  std::uint32_t cursor_start_ = 0;
  std::uint32_t size_ = 0;
  /// tail_ came from append_copy's pool: its tailroom may take more bytes.
  bool tail_ours_ = false;
};

static_assert(sizeof(SendBuffer) <= 40, "SendBuffer lives in every connection");

}  // namespace sluice::tcp
