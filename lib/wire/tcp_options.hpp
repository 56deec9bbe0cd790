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
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

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
  static Result<void, ParseError> parse_into(std::span<const std::uint8_t> option_bytes,
                                             TcpOptions& out) noexcept;

  /// SACK blocks emit() will write: sack_count capped by 4 and by the room left in 40 bytes.
  [[nodiscard]] std::size_t sack_blocks_to_emit() const noexcept;
  /// Exact number of bytes emit() writes, a multiple of 4, at most 40.
  [[nodiscard]] std::size_t emit_len() const noexcept;
  /// Writes the options in the order above; returns emit_len(), or 0 if out is too small.
  std::size_t emit(std::span<std::uint8_t> out) const noexcept;

  [[nodiscard]] std::span<const SackBlock> sack_blocks() const noexcept {
    return std::span<const SackBlock>(sack.data(),
                                      sack_count <= kMaxSackBlocks ? sack_count : kMaxSackBlocks);
  }
};

}  // namespace sluice::wire
