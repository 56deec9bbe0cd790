// SendBuffer: the application's bytes of one connection from SND.UNA onward (sent but
// unacknowledged, then not yet sent), kept until acknowledged. Transmission and
// retransmission take zero-copy slices (indirect mbufs) of it, or copies of small ranges.
//
// RFC 9293 §3.3.1 (send sequence space: SND.UNA .. SND.NXT .. SND.UNA + SND.WND), §3.8.1
// (retransmission from SND.UNA), §3.10.7.4 fifth step (an ACK removes acknowledged bytes
// from the retransmission queue: consume()).
//
// Two ways of holding the bytes:
// - In place: up to kInPlaceBytes in the object itself, in the room the queue's pointers
//   take otherwise. A small write to an empty buffer (a request, an answer) lands here, so
//   a request-response exchange allocates no payload mbuf and frees none on the ACK. Such
//   bytes can only be copied out (copy_out), never sliced.
// - A queue of single-segment mbufs ("nodes") linked through m->next; each node stands
//   alone (nb_segs 1, pkt_len == data_len) so the queue is never handed to DPDK as a
//   packet. A write that does not fit in place moves the bytes held there into a node.
//   An emptied buffer is in place again.
// Offsets in this API count bytes from the front of the buffer, i.e. from SND.UNA.
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

  /// Copies `bytes` to the end: in place if the buffer is in place and they fit; otherwise
  /// into the tailroom of the last node (only if it is a direct mbuf of refcount 1 that
  /// this buffer allocated), then into fresh mbufs from `pool` (their whole data room:
  /// payload mbufs need no headroom, headers are chained in front). Returns the bytes
  /// copied: fewer than asked only if `pool` ran dry, and then exactly a prefix of `bytes`
  /// was appended (none if the bytes held in place could not be moved into a node).
  std::uint32_t append_copy(std::span<const std::uint8_t> bytes, rte_mempool* pool) noexcept;

  /// Zero-copy append of `chain` (nullptr is a no-op). Each segment becomes one node; empty
  /// segments, and data beyond chain->pkt_len, are freed. Bytes held in place first move
  /// into a node from `pool`; if it is dry, returns false and leaves `chain` with the
  /// caller. Otherwise returns true, having taken ownership.
  /// Pre: every segment is exclusively ours (refcount 1; it may be indirect, i.e. attached
  /// to a shared buffer), since node headers are edited in place.
  [[nodiscard]] bool append_mbuf(rte_mbuf* chain, rte_mempool* pool) noexcept;

  /// Drops the first `n` bytes (acknowledged). Pre: n <= size(). Slices taken earlier stay
  /// valid: they hold their own references to the data.
  void consume(std::uint32_t n) noexcept;

  /// A new chain of indirect mbufs from `clone_pool` covering bytes [offset, offset + len),
  /// ready to be chained after a header mbuf (nb_segs and pkt_len set on its first mbuf).
  /// The caller owns it (free with rte_pktmbuf_free). Returns nullptr, having leaked
  /// nothing, if len == 0, if clone_pool runs dry, if the range spans more than 65535
  /// nodes, if the bytes are held in place (in_place(): copy them out instead), or if
  /// offset + len > size() (a caller bug).
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
  /// The bytes are held in the object, not in mbufs (always so when empty): they can be
  /// copied out, not sliced. Never more than kInPlaceBytes.
  bool in_place() const noexcept { return in_place_; }

  /// Frees every node (slices taken earlier stay valid).
  void clear() noexcept;

 private:
  struct Queue {
    rte_mbuf* head;
    rte_mbuf* tail;
    /// Where the last slice ended: a node and the offset of its first byte. nullptr means
    /// the front. consume() keeps it valid; it is only a hint for find().
    rte_mbuf* cursor;
    std::uint32_t cursor_start;
  };

 public:
  /// The most bytes held in place: the room of the queue's pointers, no more memory.
  static constexpr std::uint32_t kInPlaceBytes = sizeof(Queue);

 private:
  /// Finds the node holding byte `offset` (< size_), starting at the cursor when it is not
  /// past `offset`; returns the node and sets `node_start` to the offset of its first byte.
  rte_mbuf* find(std::uint32_t offset, std::uint32_t& node_start) const noexcept;
  void push_node(rte_mbuf* node) noexcept;
  /// Moves the bytes held in place into a node from `pool` (false if it is dry); after it
  /// the buffer is a queue.
  bool leave_in_place(rte_mempool* pool) noexcept;

  union {
    std::uint8_t bytes_[sizeof(Queue)];  // when in_place_: the first size_ bytes
    Queue q_;                            // otherwise
  };
  std::uint32_t size_ = 0;
  bool in_place_ = true;
  /// q_.tail came from append_copy's pool: its tailroom may take more bytes.
  bool tail_ours_ = false;
};

static_assert(sizeof(SendBuffer) <= 40, "SendBuffer lives in every connection");

}  // namespace sluice::tcp
