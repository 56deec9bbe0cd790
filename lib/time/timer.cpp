// Timer's destructor: a timer destroyed while scheduled is cancelled through its wheel, so
// the wheel's count and slot bitmaps stay exact.
#include "time/timer.hpp"

#include "time/timer_wheel.hpp"

namespace sluice::time {

Timer::~Timer() {
  if (linked()) {
    wheel()->cancel(*this);
  }
}

}  // namespace sluice::time
