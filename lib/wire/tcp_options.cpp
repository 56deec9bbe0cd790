// TCP option parse and emit; see tcp_options.hpp for the RFCs and the rules.
#include "wire/tcp_options.hpp"

#include <algorithm>

#include "wire/bytes.hpp"

namespace sluice::wire {

Result<TcpOptions, ParseError> TcpOptions::parse(
    std::span<const std::uint8_t> option_bytes) noexcept {
  TcpOptions o;
  if (auto r = parse_into(option_bytes, o); !r) return Err{r.error()};
  return o;
}

Result<void, ParseError> TcpOptions::parse_into(std::span<const std::uint8_t> option_bytes,
                                                TcpOptions& o) noexcept {
  o.mss.reset();
  o.window_scale.reset();
  o.sack_permitted = false;
  o.sack_count = 0;
  o.timestamps.reset();
  const std::uint8_t* p = option_bytes.data();
  const std::size_t n = option_bytes.size();
  std::size_t i = 0;
  while (i < n) {
    const std::uint8_t kind = p[i];
    if (kind == TcpOptionKind::End) break;  // RFC 9293 §3.2: end of option list
    if (kind == TcpOptionKind::Nop) {
      ++i;
      continue;
    }
    if (n - i < 2) return Err{ParseError::TcpOptionTruncated};  // no room for the length
    const std::uint8_t len = p[i + 1];
    if (len < 2) return Err{ParseError::TcpOptionBadLength};
    if (len > n - i) return Err{ParseError::TcpOptionTruncated};
    const std::uint8_t* body = p + i + 2;
    switch (kind) {
      case TcpOptionKind::Mss:  // RFC 9293 §3.7.1
        if (len != 4) return Err{ParseError::TcpOptionBadLength};
        o.mss = load_be16(body);
        break;
      case TcpOptionKind::WindowScale:  // RFC 7323 §2.2, §2.3
        if (len != 3) return Err{ParseError::TcpOptionBadLength};
        o.window_scale = std::min(body[0], kMaxWindowScale);
        break;
      case TcpOptionKind::SackPermitted:  // RFC 2018 §2
        if (len != 2) return Err{ParseError::TcpOptionBadLength};
        o.sack_permitted = true;
        break;
      case TcpOptionKind::Sack: {  // RFC 2018 §3: length 2 + 8n, n >= 1
        if (len < 10 || (len - 2) % 8 != 0) return Err{ParseError::TcpOptionBadLength};
        const std::size_t blocks = std::min<std::size_t>((len - 2) / 8, kMaxSackBlocks);
        for (std::size_t b = 0; b < blocks; ++b) {
          o.sack[b] = SackBlock{Seq{load_be32(body + 8 * b)}, Seq{load_be32(body + 8 * b + 4)}};
        }
        o.sack_count = static_cast<std::uint8_t>(blocks);
        break;
      }
      case TcpOptionKind::Timestamps:  // RFC 7323 §3.2
        if (len != 10) return Err{ParseError::TcpOptionBadLength};
        o.timestamps = TcpTimestamps{load_be32(body), load_be32(body + 4)};
        break;
      default:  // unknown: skipped by its length (RFC 9293 §3.2)
        break;
    }
    i += len;
  }
  return {};
}

namespace {
// Bytes of everything but the SACK blocks.
std::size_t fixed_len(const TcpOptions& o) noexcept {
  std::size_t len = 0;
  if (o.mss) len += 4;
  if (o.timestamps) {
    len += 12;  // SACK-permitted+TS or NOP NOP TS
  } else if (o.sack_permitted) {
    len += 4;  // NOP NOP SACK-permitted
  }
  if (o.window_scale) len += 4;
  return len;
}
}  // namespace

std::size_t TcpOptions::sack_blocks_to_emit() const noexcept {
  const std::size_t wanted = std::min<std::size_t>(sack_count, kMaxSackBlocks);
  if (wanted == 0) return 0;
  const std::size_t room = kMaxLen - fixed_len(*this);  // fixed_len <= 20
  if (room < 4 + 8) return 0;
  return std::min(wanted, (room - 4) / 8);
}

std::size_t TcpOptions::emit_len() const noexcept {
  const std::size_t blocks = sack_blocks_to_emit();
  return fixed_len(*this) + (blocks > 0 ? 4 + 8 * blocks : 0);
}

std::size_t TcpOptions::emit(std::span<std::uint8_t> out) const noexcept {
  const std::size_t total = emit_len();
  if (out.size() < total) return 0;
  std::uint8_t* p = out.data();
  if (mss) {
    p[0] = TcpOptionKind::Mss;
    p[1] = 4;
    store_be16(p + 2, *mss);
    p += 4;
  }
  if (timestamps) {
    if (sack_permitted) {
      p[0] = TcpOptionKind::SackPermitted;
      p[1] = 2;
    } else {
      p[0] = TcpOptionKind::Nop;
      p[1] = TcpOptionKind::Nop;
    }
    p[2] = TcpOptionKind::Timestamps;
    p[3] = 10;
    store_be32(p + 4, timestamps->tsval);
    store_be32(p + 8, timestamps->tsecr);
    p += 12;
  } else if (sack_permitted) {
    p[0] = TcpOptionKind::Nop;
    p[1] = TcpOptionKind::Nop;
    p[2] = TcpOptionKind::SackPermitted;
    p[3] = 2;
    p += 4;
  }
  if (window_scale) {
    p[0] = TcpOptionKind::Nop;
    p[1] = TcpOptionKind::WindowScale;
    p[2] = 3;
    p[3] = *window_scale;
    p += 4;
  }
  const std::size_t blocks = sack_blocks_to_emit();
  if (blocks > 0) {
    p[0] = TcpOptionKind::Nop;
    p[1] = TcpOptionKind::Nop;
    p[2] = TcpOptionKind::Sack;
    p[3] = static_cast<std::uint8_t>(2 + 8 * blocks);
    p += 4;
    for (std::size_t b = 0; b < blocks; ++b) {
      store_be32(p, sack[b].left.raw);
      store_be32(p + 4, sack[b].right.raw);
      p += 8;
    }
  }
  return total;
}

}  // namespace sluice::wire
