// Out-of-line anchor for Clock's vtable (one copy, in libsluice_time).
#include "time/clock.hpp"

namespace sluice::time {

Clock::~Clock() = default;

}  // namespace sluice::time
