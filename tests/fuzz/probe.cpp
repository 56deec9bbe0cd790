// Configure-time probe: does clang++ link a libFuzzer target? (tests/fuzz/meson.build)
#include <cstddef>
#include <cstdint>
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t*, std::size_t) {
  return 0;
}
