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

Result<void, ParseError> TcpOptions::parse_into_other(std::span<const std::uint8_t> option_bytes,
                                                      TcpOptions& o) noexcept {
  const std::uint8_t* p = option_bytes.data();
  const std::size_t n = option_bytes.size();
  // NOP NOP TS NOP NOP SACK(2 + 8k) with k = 1..3 blocks filling the area exactly: an
  // established segment of a stack with timestamps that reports holes (RFC 2018 §3).
  if ((n == 24 || n == 32 || n == 40) && load_be32(p) == kNopNopTs &&
      load_be32(p + 12) == (0x01010500u | static_cast<std::uint32_t>(n - 14))) {
    const std::size_t blocks = (n - 16) / 8;
    for (std::size_t b = 0; b < blocks; ++b) {
      o.sack[b] = SackBlock{Seq{load_be32(p + 16 + 8 * b)}, Seq{load_be32(p + 20 + 8 * b)}};
    }
    o.set_timestamps_only(load_be32(p + 4), load_be32(p + 8));
    o.sack_count = static_cast<std::uint8_t>(blocks);
    return {};
  }
  // MSS, SACK-permitted+TS or NOP NOP TS, NOP WS: the SYN of Linux and of sluice (20 bytes).
  if (n == 20 && load_be16(p) == 0x0204) {
    const std::uint32_t w1 = load_be32(p + 4);
    if ((w1 == 0x0402080au || w1 == kNopNopTs) && (load_be32(p + 16) >> 8) == 0x010303u) {
      o.mss = load_be16(p + 2);
      o.window_scale = std::min(p[19], kMaxWindowScale);
      o.sack_permitted = w1 != kNopNopTs;
      o.sack_count = 0;
      o.timestamps = TcpTimestamps{load_be32(p + 8), load_be32(p + 12)};
      return {};
    }
  }
  return parse_into_general(option_bytes, o);
}

Result<void, ParseError> TcpOptions::parse_into_general(std::span<const std::uint8_t> option_bytes,
                                                        TcpOptions& o) noexcept {
  o.clear_mss_and_window_scale();
  o.sack_permitted = false;
  o.sack_count = 0;
  std::construct_at(&o.timestamps);
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

void TcpOptions::emit_general(std::uint8_t* p) const noexcept {
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
  const std::size_t blocks = sack_count == 0 ? 0 : sack_blocks_after(fixed_len());
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
}

}  // namespace sluice::wire
