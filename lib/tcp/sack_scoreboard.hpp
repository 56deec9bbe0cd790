// SackScoreboard: what the peer has told us, through SACK blocks (RFC 2018), that it holds
// above SND.UNA — the sender's scoreboard of RFC 6675 §3, kept as at most kMaxBlocks
// disjoint sorted ranges inline in the connection (no allocation).
//
// RFC 6675's IsLost(), NextSeg() and SetPipe() are answered from it in simplified form:
// a byte below the highest SACKed byte that is not SACKed is a hole; a hole counts as lost
// once DupThresh segments' worth of data (or DupThresh discontiguous blocks) is SACKed
// above it (§4 IsLost, with the byte rule).
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "wire/seq.hpp"
#include "wire/tcp_options.hpp"

namespace sluice::tcp {

class SackScoreboard {
 public:
  static constexpr std::size_t kMaxBlocks = 8;
  static constexpr std::uint32_t kDupThresh = 3;  ///< RFC 6675 §2

  struct Range {
    wire::Seq left;
    wire::Seq right;  ///< exclusive
  };

  /// Records the SACK blocks of an arriving ACK. Blocks not strictly inside
  /// (una, snd_max] are ignored (RFC 2018 §5; they may be stale or forged).
  void update(std::span<const wire::SackBlock> blocks, wire::Seq una, wire::Seq snd_max) noexcept {
    for (const auto& b : blocks) {
      if (!(una < b.right) || !(b.left < b.right) || snd_max < b.right) continue;
      add(Range{wire::seq_max(b.left, una), b.right});
    }
  }

  /// Forgets everything at or below the new SND.UNA.
  void advance(wire::Seq una) noexcept {
    std::size_t out = 0;
    for (std::size_t i = 0; i < count_; ++i) {
      Range r = ranges_[i];
      if (!(una < r.right)) continue;
      r.left = wire::seq_max(r.left, una);
      ranges_[out++] = r;
    }
    count_ = static_cast<std::uint8_t>(out);
  }

  void clear() noexcept { count_ = 0; }
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  [[nodiscard]] std::span<const Range> ranges() const noexcept { return {ranges_.data(), count_}; }

  [[nodiscard]] std::uint32_t sacked_bytes() const noexcept {
    std::uint32_t n = 0;
    for (std::size_t i = 0; i < count_; ++i)
      n += static_cast<std::uint32_t>(ranges_[i].right - ranges_[i].left);
    return n;
  }

  /// The highest SACKed sequence number + 1, or `una` when nothing is SACKed.
  [[nodiscard]] wire::Seq highest(wire::Seq una) const noexcept {
    return count_ == 0 ? una : ranges_[count_ - 1].right;
  }

  [[nodiscard]] bool is_sacked(wire::Seq s) const noexcept {
    for (std::size_t i = 0; i < count_; ++i) {
      if (!(s < ranges_[i].left) && s < ranges_[i].right) return true;
    }
    return false;
  }

  /// Bytes SACKed above s.
  [[nodiscard]] std::uint32_t sacked_above(wire::Seq s) const noexcept {
    std::uint32_t n = 0;
    for (std::size_t i = 0; i < count_; ++i) {
      const Range& r = ranges_[i];
      if (!(s < r.right)) continue;
      n += static_cast<std::uint32_t>(r.right - wire::seq_max(r.left, s));
    }
    return n;
  }

  /// RFC 6675 §4 IsLost(seq), byte form: lost when at least DupThresh * mss bytes, or
  /// DupThresh separate blocks, are SACKed above it. `dupthresh` above 3 when the path
  /// has been seen to reorder (RFC 6675 §2 lets it be adjusted).
  [[nodiscard]] bool is_lost(wire::Seq s, std::uint32_t mss,
                             std::uint32_t dupthresh = kDupThresh) const noexcept {
    std::size_t blocks_above = 0;
    for (std::size_t i = 0; i < count_; ++i) blocks_above += s < ranges_[i].left ? 1 : 0;
    return blocks_above >= dupthresh || sacked_above(s) >= dupthresh * mss;
  }

  /// The first hole at or above `from` and below the highest SACKed byte, clipped to at
  /// most `max_len` bytes: [left, left + len). len == 0 when there is none.
  [[nodiscard]] Range next_hole(wire::Seq from, std::uint32_t max_len) const noexcept {
    wire::Seq s = from;
    for (std::size_t i = 0; i < count_; ++i) {
      const Range& r = ranges_[i];
      if (!(s < r.right)) continue;  // range entirely below s
      if (s < r.left) {              // hole [s, r.left)
        const auto gap = static_cast<std::uint32_t>(r.left - s);
        return Range{s, s + (gap < max_len ? gap : max_len)};
      }
      s = r.right;  // s inside a SACKed range: skip it
    }
    return Range{s, s};
  }

  /// Bytes in holes at or above `from` (below the highest SACKed byte).
  [[nodiscard]] std::uint32_t hole_bytes_from(wire::Seq from, wire::Seq una) const noexcept {
    const wire::Seq top = highest(una);
    if (!(from < top)) return 0;
    return static_cast<std::uint32_t>(top - from) - sacked_above(from);
  }

 private:
  // Inserts r, merging with overlapping or adjacent ranges; keeps the list sorted. When
  // full, the lowest range is dropped (the peer repeats SACK blocks, so it comes back).
  void add(Range r) noexcept {
    std::array<Range, kMaxBlocks + 1> merged{};
    std::size_t n = 0;
    bool placed = false;
    for (std::size_t i = 0; i < count_; ++i) {
      const Range& c = ranges_[i];
      if (c.right < r.left) {  // entirely before r
        merged[n++] = c;
      } else if (r.right < c.left) {  // entirely after r
        if (!placed) {
          merged[n++] = r;
          placed = true;
        }
        merged[n++] = c;
      } else {  // overlaps or touches: absorb into r
        r.left = wire::seq_min(r.left, c.left);
        r.right = wire::seq_max(r.right, c.right);
      }
    }
    if (!placed) merged[n++] = r;
    const std::size_t skip = n > kMaxBlocks ? n - kMaxBlocks : 0;
    for (std::size_t i = skip; i < n; ++i) ranges_[i - skip] = merged[i];
    count_ = static_cast<std::uint8_t>(n - skip);
  }

  std::array<Range, kMaxBlocks> ranges_{};
  std::uint8_t count_ = 0;
};

}  // namespace sluice::tcp
