// Small helpers shared by the lib/wire tests.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace sluice::wire::test {

inline std::vector<std::uint8_t> to_vec(std::span<const std::uint8_t> s) {
  return {s.begin(), s.end()};
}

/// A uniformly random value of an unsigned integer type.
template <class T>
T random_of(std::mt19937& rng) {
  return static_cast<T>(rng());
}

}  // namespace sluice::wire::test
