// FourTuple: the identity of a TCP connection, seen from this end, and its hash for the
// per-engine connection table.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire/ipv4_addr.hpp"

namespace sluice::tcp {

struct FourTuple {
  wire::Ipv4Addr local_ip;
  wire::Ipv4Addr remote_ip;
  std::uint16_t local_port = 0;
  std::uint16_t remote_port = 0;

  constexpr bool operator==(const FourTuple&) const noexcept = default;

  /// The same connection seen from the other end.
  [[nodiscard]] constexpr FourTuple reversed() const noexcept {
    return FourTuple{remote_ip, local_ip, remote_port, local_port};
  }
};

/// Table hash: cheap and well mixed (a multiply-xorshift over the 96 bits). Not the RSS
/// hash: that one decides the core, this one the bucket within the core's table.
struct FourTupleHash {
  constexpr std::size_t operator()(const FourTuple& t) const noexcept {
    std::uint64_t x = (std::uint64_t{t.local_ip.value} << 32) | t.remote_ip.value;
    x ^= (std::uint64_t{t.local_port} << 16 | t.remote_port) * 0x9e3779b97f4a7c15ULL;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 29;
    return static_cast<std::size_t>(x);
  }
};

}  // namespace sluice::tcp
