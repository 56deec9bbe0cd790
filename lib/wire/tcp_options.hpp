// TCP options: RFC 9293 §3.2 (EOL, NOP, MSS; option-length rules), RFC 7323 §2-3 (window
// scale, timestamps), RFC 2018 §2-3 (SACK-permitted, SACK blocks).
//
// Parsing: unknown kinds are skipped by their length; a length < 2, a length that runs
// past the option area, or a wrong length for a known kind is an error (RFC 9293 §3.2
// asks us to handle such lengths without crashing; we refuse the segment and count it).
// A window scale above 14 is clamped to 14 (RFC 7323 §2.3). A repeated option: the last
// one wins. Parsing stops at EOL.
//
// Emitting: a fixed order that keeps every multi-byte option 4-byte aligned with NOPs,
// the layout common stacks use so middleboxes see nothing unusual:
//   MSS(4) | SACK-permitted+TS (12) or NOP NOP TS (12) or NOP NOP SACK-permitted (4)
//   | NOP WS (4) | NOP NOP SACK (4 + 8n).
// The option area is at most 40 bytes; SACK blocks that do not fit are left out
// (emit_len() and emit() agree on how many).
//
// Cost: parse_into and emit run for every segment (issue 5), so the layouts nearly every
// segment carries take a short path: on parse, NOP NOP TS (RFC 7323 Appendix A, 12
// bytes) is one 32-bit compare and two loads, inline; NOP NOP TS NOP NOP SACK and the
// SYN layout above are matched whole before the byte-by-byte loop (parse_into_general).
// Each short path gives exactly what the loop gives for the same bytes (the tests compare
// them). On emit, a TS-only block is 12 fixed bytes; emit_len is a few adds, inline.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "wire/bytes.hpp"
#include "wire/parse_error.hpp"
#include "wire/result.hpp"
#include "wire/seq.hpp"

namespace sluice::wire {

namespace TcpOptionKind {
inline constexpr std::uint8_t End = 0;
inline constexpr std::uint8_t Nop = 1;
inline constexpr std::uint8_t Mss = 2;
inline constexpr std::uint8_t WindowScale = 3;
inline constexpr std::uint8_t SackPermitted = 4;
inline constexpr std::uint8_t Sack = 5;
inline constexpr std::uint8_t Timestamps = 8;
}  // namespace TcpOptionKind

/// One SACK block: [left, right) of received data (RFC 2018 §3).
struct SackBlock {
  Seq left;
  Seq right;
  constexpr bool operator==(const SackBlock&) const noexcept = default;
};

struct TcpTimestamps {
  std::uint32_t tsval = 0;
  std::uint32_t tsecr = 0;
  constexpr bool operator==(const TcpTimestamps&) const noexcept = default;
};

struct TcpOptions {
  static constexpr std::size_t kMaxLen = 40;  ///< (15 - 5) * 4 bytes
  static constexpr std::size_t kMaxSackBlocks = 4;
  static constexpr std::uint8_t kMaxWindowScale = 14;  ///< RFC 7323 §2.3

  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> window_scale;
  bool sack_permitted = false;
  std::uint8_t sack_count = 0;  ///< valid entries of sack, 0..4
  std::array<SackBlock, kMaxSackBlocks> sack{};
  std::optional<TcpTimestamps> timestamps;

  /// Parses the option area (bytes 20 .. data offset * 4 of the TCP header).
  static Result<TcpOptions, ParseError> parse(std::span<const std::uint8_t> option_bytes) noexcept;
  /// As parse, into `out` (reset first) without copying the result; the hot-path form.
  /// On error `out` holds unspecified field values.
  static Result<void, ParseError> parse_into(std::span<const std::uint8_t> option_bytes,
                                             TcpOptions& out) noexcept {
    // NOP NOP TS(8, 10) tsval tsecr: what established segments carry.
    if (option_bytes.size() == 12 && load_be32(option_bytes.data()) == kNopNopTs) [[likely]] {
      out.set_timestamps_only(load_be32(option_bytes.data() + 4),
                              load_be32(option_bytes.data() + 8));
      return {};
    }
    return parse_into_other(option_bytes, out);
  }
  /// parse_into for every layout but the 12-byte NOP NOP TS one: the other common layouts
  /// whole, then parse_into_general.
  static Result<void, ParseError> parse_into_other(std::span<const std::uint8_t> option_bytes,
                                                   TcpOptions& out) noexcept;
  /// The byte-by-byte parser, without short paths: the reference the short paths match.
  static Result<void, ParseError> parse_into_general(std::span<const std::uint8_t> option_bytes,
                                                     TcpOptions& out) noexcept;

  /// SACK blocks emit() will write: sack_count capped by 4 and by the room left in 40 bytes.
  [[nodiscard]] std::size_t sack_blocks_to_emit() const noexcept {
    return sack_count == 0 ? 0 : sack_blocks_after(fixed_len());
  }
  /// Exact number of bytes emit() writes, a multiple of 4, at most 40.
  [[nodiscard]] std::size_t emit_len() const noexcept {
    const std::size_t fixed = fixed_len();
    if (sack_count == 0) [[likely]]
      return fixed;
    const std::size_t blocks = sack_blocks_after(fixed);
    return fixed + (blocks > 0 ? 4 + 8 * blocks : 0);
  }
  /// Writes the options in the order above; returns emit_len(), or 0 if out is too small.
  std::size_t emit(std::span<std::uint8_t> out) const noexcept {
    const std::size_t len = emit_len();
    if (out.size() < len) return 0;
    emit_unchecked(out.data(), len);
    return len;
  }
  /// As emit, without the size check: writes `len` bytes at p, which must have room.
  /// Precondition: len == emit_len() (the caller has it already: it sized the header).
  void emit_unchecked(std::uint8_t* p, std::size_t len) const noexcept {
    // 12 bytes with timestamps leave no room for MSS, WS or SACK: NOP NOP TS or SACK-perm TS.
    if (len == 12 && timestamps && !sack_permitted) [[likely]] {
      store_be32(p, kNopNopTs);
      store_be32(p + 4, timestamps->tsval);
      store_be32(p + 8, timestamps->tsecr);
      return;
    }
    emit_general(p);
  }

  [[nodiscard]] std::span<const SackBlock> sack_blocks() const noexcept {
    return std::span<const SackBlock>(sack.data(),
                                      sack_count <= kMaxSackBlocks ? sack_count : kMaxSackBlocks);
  }

 private:
  /// NOP, NOP, kind 8, length 10: the first word of RFC 7323 Appendix A's layout.
  static constexpr std::uint32_t kNopNopTs = 0x0101080a;

  /// Bytes of everything but the SACK blocks, at most 20: MSS, [SACK-permitted | NOP NOP]
  /// TS or NOP NOP SACK-permitted, NOP WS.
  [[nodiscard]] std::size_t fixed_len() const noexcept {
    return (mss ? 4u : 0u) + (timestamps ? 12u : (sack_permitted ? 4u : 0u)) +
           (window_scale ? 4u : 0u);
  }
  /// SACK blocks that fit after `fixed` bytes: NOP NOP SACK takes 4 + 8 per block.
  [[nodiscard]] std::size_t sack_blocks_after(std::size_t fixed) const noexcept {
    const std::size_t wanted = sack_count < kMaxSackBlocks ? sack_count : kMaxSackBlocks;
    const std::size_t room = kMaxLen - fixed;  // fixed <= 20
    if (room < 4 + 8) return 0;
    const std::size_t fit = (room - 4) / 8;
    return wanted < fit ? wanted : fit;
  }
  /// Fresh optionals rather than reset() or operator=, which test the engaged flag first:
  /// plain stores (an optional of a trivial type is trivially destructible).
  void clear_mss_and_window_scale() noexcept {
    std::construct_at(&mss);
    std::construct_at(&window_scale);
  }
  void set_timestamps_only(std::uint32_t tsval, std::uint32_t tsecr) noexcept {
    clear_mss_and_window_scale();
    sack_permitted = false;
    sack_count = 0;
    std::construct_at(&timestamps, TcpTimestamps{tsval, tsecr});
  }
  /// emit_unchecked for any field values.
  void emit_general(std::uint8_t* p) const noexcept;
};

}  // namespace sluice::wire
