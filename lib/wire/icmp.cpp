// ICMP (RFC 792) parse and emit; see icmp.hpp.
#include "wire/icmp.hpp"

#include <cstring>

#include "wire/bytes.hpp"
#include "wire/checksum.hpp"

namespace sluice::wire {

Result<IcmpEcho, ParseError> IcmpEcho::parse(std::span<const std::uint8_t> msg,
                                             bool verify_checksum) noexcept {
  if (msg.size() < kHeaderSize) return Err{ParseError::IcmpTooShort};
  if (verify_checksum && checksum_fold(checksum_partial(msg)) != 0) {
    return Err{ParseError::IcmpBadChecksum};
  }
  IcmpEcho m;
  m.type = msg[0];
  m.code = msg[1];
  m.checksum = load_be16(msg.data() + 2);
  m.id = load_be16(msg.data() + 4);
  m.seq = load_be16(msg.data() + 6);
  m.payload = msg.subspan(kHeaderSize);
  return m;
}

std::size_t IcmpEcho::emit(std::span<std::uint8_t> out) const noexcept {
  const std::size_t len = emit_len();
  if (out.size() < len) return 0;
  std::uint8_t* p = out.data();
  p[0] = type;
  p[1] = code;
  store_be16(p + 2, 0);
  store_be16(p + 4, id);
  store_be16(p + 6, seq);
  if (!payload.empty()) std::memcpy(p + kHeaderSize, payload.data(), payload.size());
  store_be16(p + 2, checksum_fold(checksum_partial(out.first(len))));
  return len;
}

}  // namespace sluice::wire
