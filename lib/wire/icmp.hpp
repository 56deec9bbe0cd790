// ICMP for IPv4 (RFC 792): the echo request/reply message in full, every other type as
// its generic 8-byte header (type, code, checksum, 4 bytes of "rest of header"). The
// checksum covers the whole ICMP message (RFC 792, "Echo or Echo Reply Message").
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "wire/parse_error.hpp"
#include "wire/result.hpp"

namespace sluice::wire {

namespace IcmpType {
inline constexpr std::uint8_t EchoReply = 0;
inline constexpr std::uint8_t DestUnreachable = 3;
inline constexpr std::uint8_t EchoRequest = 8;
inline constexpr std::uint8_t TimeExceeded = 11;
}  // namespace IcmpType

struct IcmpEcho {
  static constexpr std::size_t kHeaderSize = 8;

  std::uint8_t type = IcmpType::EchoRequest;
  std::uint8_t code = 0;
  std::uint16_t id = 0;                   ///< echo identifier; for other types, bytes 4..5
  std::uint16_t seq = 0;                  ///< echo sequence; for other types, bytes 6..7
  std::uint16_t checksum = 0;             ///< as received (parse); ignored by emit
  std::span<const std::uint8_t> payload;  ///< bytes after the 8-byte header (a view)

  /// Parses a whole ICMP message (the IPv4 payload, exactly). Errors: IcmpTooShort,
  /// IcmpBadChecksum (if verify_checksum). payload views into msg.
  static Result<IcmpEcho, ParseError> parse(std::span<const std::uint8_t> msg,
                                            bool verify_checksum = true) noexcept;

  [[nodiscard]] bool is_echo() const noexcept {
    return type == IcmpType::EchoRequest || type == IcmpType::EchoReply;
  }
  [[nodiscard]] std::size_t emit_len() const noexcept { return kHeaderSize + payload.size(); }

  /// Writes header + payload with a computed checksum; returns emit_len(), or 0 if out
  /// is too small. payload may not overlap out.
  std::size_t emit(std::span<std::uint8_t> out) const noexcept;
};

}  // namespace sluice::wire
