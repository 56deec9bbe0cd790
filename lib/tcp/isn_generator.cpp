// IsnGenerator: RFC 6528 §3 initial sequence numbers. See isn_generator.hpp.
#include "tcp/isn_generator.hpp"

#include <random>

namespace sluice::tcp {

std::array<std::uint8_t, kFourTupleBytes> four_tuple_bytes(const FourTuple& tuple) noexcept {
  const auto byte = [](std::uint32_t v, int shift) {
    return static_cast<std::uint8_t>(v >> shift);
  };
  const std::uint32_t lip = tuple.local_ip.value;
  const std::uint32_t rip = tuple.remote_ip.value;
  const std::uint32_t lport = tuple.local_port;
  const std::uint32_t rport = tuple.remote_port;
  return {byte(lip, 24), byte(lip, 16), byte(lip, 8), byte(lip, 0), byte(lport, 8), byte(lport, 0),
          byte(rip, 24), byte(rip, 16), byte(rip, 8), byte(rip, 0), byte(rport, 8), byte(rport, 0)};
}

IsnGenerator::Secret IsnGenerator::random_secret() {
  std::random_device device;
  Secret secret{};
  // random_device yields 32-bit values (its result_type is unsigned int).
  for (std::size_t i = 0; i < secret.size(); i += 4) {
    const std::uint32_t word = device();
    for (std::size_t j = 0; j < 4; ++j) secret[i + j] = static_cast<std::uint8_t>(word >> (8 * j));
  }
  return secret;
}

std::uint32_t IsnGenerator::m(time::Instant now) noexcept {
  const std::int64_t ns = now.time_since_epoch().count();
  constexpr std::int64_t kTickNs = kTick.count();
  std::int64_t ticks = ns / kTickNs;
  if (ns % kTickNs < 0) --ticks;             // floor, not truncation toward zero
  return static_cast<std::uint32_t>(ticks);  // modulo 2^32
}

std::uint64_t IsnGenerator::hash(const FourTuple& tuple) const noexcept {
  // four_tuple_bytes() as two little-endian words: bytes 0..7 are local IP, local port and
  // the first half of the remote IP (each big-endian), bytes 8..11 the rest.
  const std::uint32_t lip = __builtin_bswap32(tuple.local_ip.value);
  const std::uint32_t rip = __builtin_bswap32(tuple.remote_ip.value);
  const std::uint64_t lport = __builtin_bswap16(tuple.local_port);
  const std::uint32_t rport = __builtin_bswap16(tuple.remote_port);
  const std::uint64_t lo = std::uint64_t{lip} | lport << 32 | std::uint64_t{rip & 0xffffU} << 48;
  const std::uint32_t hi = (rip >> 16) | rport << 16;
  return f_.hash12(lo, hi);
}

}  // namespace sluice::tcp
