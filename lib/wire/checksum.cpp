// checksum_partial and checksum_partial_at (RFC 1071 §4.1); the sum itself is
// detail::native_sum in checksum.hpp, inline so the frame parser's fast path has no call.
#include "wire/checksum.hpp"

#include "wire/bytes.hpp"

namespace sluice::wire {

std::uint32_t checksum_partial(std::span<const std::uint8_t> data, std::uint32_t sum) noexcept {
  const std::uint16_t folded = to_be16(detail::native_sum(data.data(), data.size()));
  return checksum_add(sum, folded);
}

std::uint32_t checksum_partial_at(std::span<const std::uint8_t> data, std::size_t offset,
                                  std::uint32_t sum) noexcept {
  std::uint16_t folded = to_be16(detail::native_sum(data.data(), data.size()));
  if ((offset & 1U) != 0) folded = static_cast<std::uint16_t>((folded << 8) | (folded >> 8));
  return checksum_add(sum, folded);
}

}  // namespace sluice::wire
