// ReceiveBuffer: the payload the peer sent on one connection, kept as the received mbufs
// (no copy): the in-order bytes waiting for the application, and out-of-order segments
// waiting for the gap before them to fill (reassembly), from which SACK blocks are made.
//
// RFC 9293 §3.10.7.4 first step (keep only the part of a segment inside the receive window;
// bytes before RCV.NXT are duplicates) and seventh step (process the text: RCV.NXT advances
// over every byte now contiguous); §3.4 (wrap-safe sequence comparison). RFC 2018 §4 (SACK
// blocks: the block holding the latest arrival first, then the most recently reported
// ones).
//
// Both queues hold single-segment mbufs ("nodes", nb_segs 1, pkt_len == data_len) linked
// through m->next. An out-of-order node keeps its first sequence number in m->hash.usr
// (the RSS hash is dead once a packet is queued); the out-of-order queue is sorted by it
// and no two of its nodes overlap. A small in-order segment arriving behind unread data is
// copied onto the last in-order node when that has room (kCoalesceMax).
#pragma once

#include <cstdint>
#include <span>

#include "wire/seq.hpp"
#include "wire/tcp_options.hpp"

struct rte_mbuf;

namespace sluice::tcp {

class ReceiveBuffer {
 public:
  static constexpr std::uint16_t kDefaultMaxOooNodes = 64;
  /// In-order segments up to this long are copied onto the last unread node when it has
  /// room, so unread data costs at most one mbuf per this many bytes (plus one).
  static constexpr std::uint16_t kCoalesceMax = 512;
  /// Arrivals remembered to order SACK blocks (RFC 2018 §4: at most 4 blocks fit).
  static constexpr std::uint8_t kSackHistory = 4;

  struct InsertResult {
    std::uint32_t advanced = 0;   ///< bytes RCV.NXT moved (this segment and drained OOO data)
    std::uint32_t duplicate = 0;  ///< bytes already held, or below RCV.NXT
    std::uint32_t trimmed = 0;    ///< bytes at or beyond RCV.NXT + window, discarded
    bool out_of_order = false;    ///< what survived trimming starts above RCV.NXT
    bool dropped = false;         ///< (some of) it was not stored: OOO node limit
  };

  explicit ReceiveBuffer(std::uint16_t max_ooo_nodes = kDefaultMaxOooNodes) noexcept
      : max_ooo_nodes_(max_ooo_nodes) {}
  ~ReceiveBuffer() { clear(); }

  ReceiveBuffer(const ReceiveBuffer&) = delete;
  ReceiveBuffer& operator=(const ReceiveBuffer&) = delete;

  /// Takes a segment's payload: `payload` (ownership taken; nullptr is a no-op) carries
  /// sequence numbers [seq, seq + payload->pkt_len); its data is exactly the payload
  /// (headers stripped; segment bytes beyond pkt_len, e.g. Ethernet padding, are ignored).
  /// Keeps only [rcv_nxt, rcv_nxt + window). If that starts at rcv_nxt it becomes readable,
  /// together with every out-of-order byte now contiguous; otherwise it is stored out of
  /// order, unless that would exceed max_ooo_nodes nodes (then it is dropped, never older
  /// data). Nothing is allocated; only a small in-order segment behind unread data is
  /// copied (onto the last node, see kCoalesceMax).
  /// Pre: rcv_nxt is RCV.NXT as this buffer saw it: the previous call's rcv_nxt plus its
  /// `advanced` (or the initial value, while empty); window <= 2^30 (RFC 7323 §2.3);
  /// every segment of `payload` is exclusively ours (refcount 1).
  /// Post: the caller adds `advanced` to RCV.NXT.
  InsertResult insert(wire::Seq rcv_nxt, wire::Seq seq, rte_mbuf* payload,
                      std::uint32_t window) noexcept;

  /// Writes the out-of-order data as SACK blocks [left, right) (RFC 2018 §4): first the
  /// block holding the most recent arrival, then those of earlier distinct arrivals, then
  /// (room permitting) the rest in sequence order. Returns the number written
  /// (<= out.size()); 0 when nothing is out of order.
  std::uint8_t sack_blocks(std::span<wire::SackBlock> out) const noexcept;

  /// In-order bytes ready for the application.
  std::uint32_t readable() const noexcept { return readable_; }
  /// Out-of-order bytes held (they count against the receive window too).
  std::uint32_t ooo_bytes() const noexcept { return ooo_bytes_; }
  std::uint32_t ooo_nodes() const noexcept { return ooo_nodes_; }
  /// The first in-order node (walk ->next for the rest; the last has next == nullptr), or
  /// nullptr. Its nb_segs/pkt_len describe that node alone. Zero-copy reading: read, then
  /// consume().
  const rte_mbuf* front() const noexcept { return head_; }

  /// The application is done with the first n in-order bytes. Pre: n <= readable().
  void consume(std::uint32_t n) noexcept;
  /// Copies up to dst.size() in-order bytes into dst and consumes them; returns the count.
  std::uint32_t read(std::span<std::uint8_t> dst) noexcept;
  /// Detaches whole in-order nodes totalling at most max_bytes (but at least one node when
  /// max_bytes > 0 and anything is readable, even if larger) as a proper chain (nb_segs,
  /// pkt_len set) the caller owns. nullptr when nothing is readable or max_bytes == 0.
  rte_mbuf* take(std::uint32_t max_bytes) noexcept;

  /// Frees everything, in order and out of order.
  void clear() noexcept;

 private:
  void append_in_order(rte_mbuf* node) noexcept;
  /// Stores a node above rcv_nxt, trimming it against its neighbours (the held bytes win;
  /// held nodes it covers entirely are replaced by it). Returns false, and frees the node,
  /// if it would exceed the node limit.
  bool insert_ooo(rte_mbuf* node, InsertResult& result) noexcept;
  /// Moves out-of-order nodes now contiguous with rcv_nxt to the in-order queue.
  void drain_ooo(wire::Seq& rcv_nxt, InsertResult& result) noexcept;
  void remember_arrival(wire::Seq seq) noexcept;
  void forget_arrivals_below(wire::Seq rcv_nxt) noexcept;
  /// The block [left, right) of contiguous out-of-order bytes holding seq, if any.
  bool block_of(wire::Seq seq, wire::SackBlock& block) const noexcept;

  rte_mbuf* head_ = nullptr;  ///< in-order queue
  rte_mbuf* tail_ = nullptr;
  rte_mbuf* ooo_head_ = nullptr;  ///< out-of-order queue, sorted, disjoint
  rte_mbuf* ooo_tail_ = nullptr;
  std::uint32_t readable_ = 0;
  std::uint32_t ooo_bytes_ = 0;
  std::uint16_t ooo_nodes_ = 0;
  std::uint16_t max_ooo_nodes_;
  std::uint8_t arrivals_count_ = 0;
  /// Left edges of the latest out-of-order arrivals, most recent first, at most one per
  /// block; those merged into the in-order data are forgotten.
  wire::Seq arrivals_[kSackHistory]{};
};

static_assert(sizeof(ReceiveBuffer) <= 64, "ReceiveBuffer lives in every connection");

}  // namespace sluice::tcp
