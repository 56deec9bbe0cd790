// SipHash-2-4 (Aumasson & Bernstein 2012): two SipRounds per message word, four in the
// finalization. See siphash.hpp.
#include "tcp/siphash.hpp"

#include <bit>
#include <cstddef>

namespace sluice::tcp {
namespace {

/// Little-endian load of `n` <= 8 bytes (the paper's byte order, independent of the host).
constexpr std::uint64_t load_le(const std::uint8_t* p, std::size_t n) noexcept {
  std::uint64_t word = 0;
  for (std::size_t i = 0; i < n; ++i) word |= std::uint64_t{p[i]} << (8 * i);
  return word;
}

/// The internal state v0..v3 and the ARX round of the paper (§2, "SipRound").
struct State {
  std::uint64_t v0, v1, v2, v3;

  constexpr void round() noexcept {
    v0 += v1;
    v2 += v3;
    v1 = std::rotl(v1, 13);
    v3 = std::rotl(v3, 16);
    v1 ^= v0;
    v3 ^= v2;
    v0 = std::rotl(v0, 32);
    v2 += v1;
    v0 += v3;
    v1 = std::rotl(v1, 17);
    v3 = std::rotl(v3, 21);
    v1 ^= v2;
    v3 ^= v0;
    v2 = std::rotl(v2, 32);
  }

  /// Compression of one message word with c = 2 rounds.
  constexpr void absorb(std::uint64_t m) noexcept {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }

  /// Finalization with d = 4 rounds.
  constexpr std::uint64_t finish() noexcept {
    v2 ^= 0xff;
    round();
    round();
    round();
    round();
    return v0 ^ v1 ^ v2 ^ v3;
  }
};

// Initialization constants: the ASCII of "somepseudorandomlygeneratedbytes", 8 bytes each.
constexpr std::uint64_t kInit0 = 0x736f6d6570736575ULL;
constexpr std::uint64_t kInit1 = 0x646f72616e646f6dULL;
constexpr std::uint64_t kInit2 = 0x6c7967656e657261ULL;
constexpr std::uint64_t kInit3 = 0x7465646279746573ULL;

}  // namespace

SipHash::SipHash(const Key& key) noexcept
    : k0_(load_le(key.data(), 8)), k1_(load_le(key.data() + 8, 8)) {}

std::uint64_t SipHash::operator()(std::span<const std::uint8_t> message) const noexcept {
  State s{k0_ ^ kInit0, k1_ ^ kInit1, k0_ ^ kInit2, k1_ ^ kInit3};

  const std::size_t full = message.size() / 8 * 8;
  for (std::size_t i = 0; i < full; i += 8) s.absorb(load_le(message.data() + i, 8));

  // The last word holds the 0..7 leftover bytes and, in its top byte, the message length
  // modulo 256: messages that differ only by trailing zero bytes hash differently.
  const std::uint64_t last = load_le(message.data() + full, message.size() - full) |
                             (std::uint64_t{message.size() & 0xffU} << 56);
  s.absorb(last);
  return s.finish();
}

std::uint64_t SipHash::hash12(std::uint64_t lo, std::uint32_t hi) const noexcept {
  State s{k0_ ^ kInit0, k1_ ^ kInit1, k0_ ^ kInit2, k1_ ^ kInit3};
  s.absorb(lo);
  s.absorb(std::uint64_t{hi} | (std::uint64_t{12} << 56));
  return s.finish();
}

}  // namespace sluice::tcp
