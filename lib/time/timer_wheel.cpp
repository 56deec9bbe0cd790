// TimerWheel: placement, cascade, expiry and idle-skipping (see timer_wheel.hpp for the
// scheme).
#include "time/timer_wheel.hpp"

#include <algorithm>
#include <bit>
#include <cassert>
#include <iterator>
#include <limits>

namespace sluice::time {
namespace {

// Index of the first set bit at or after `from` in a 256-bit bitmap, or 256 if none.
unsigned find_next(const std::uint64_t* words, unsigned from) noexcept {
  if (from >= 256) {
    return 256;
  }
  unsigned w = from / 64;
  std::uint64_t bits = words[w] & (~std::uint64_t{0} << (from % 64));
  while (bits == 0) {
    if (++w == 4) {
      return 256;
    }
    bits = words[w];
  }
  return w * 64 + static_cast<unsigned>(std::countr_zero(bits));
}

}  // namespace

TimerWheel::TimerWheel(Instant origin, Duration tick, Duration span) noexcept
    : tick_ns_(static_cast<Tick>(tick.count())), origin_(origin), tick_(tick), levels_(1) {
  assert(tick > Duration::zero());
  assert(span > Duration::zero());
  const auto span_ns = static_cast<Tick>(std::max(span.count(), Duration::rep{1}));
  const Tick span_ticks = span_ns / tick_ns_ + (span_ns % tick_ns_ != 0 ? 1 : 0);
  // Reach of L levels: 255 * 256^(L-1) ticks ahead, wherever now() is (the top level
  // wraps around, and a top-level distance of 256 would alias the current slot).
  Tick reach = kSlots - 1;
  while (levels_ < kMaxLevels && reach < span_ticks) {
    ++levels_;
    reach <<= kSlotBits;
  }
  set_now(0);
}

TimerWheel::~TimerWheel() {
  // auto_unlink lists reset each node on clear(): the timers read as unscheduled after.
  for (unsigned i = 0; i < levels_ * kSlots; ++i) {
    slots_[i].clear();
  }
}

Duration TimerWheel::horizon() const noexcept {
  const Tick reach = (kSlots - 1) * (Tick{1} << (kSlotBits * (levels_ - 1)));
  const auto max_ticks = static_cast<Tick>(Duration::max().count()) / tick_ns_;
  return reach >= max_ticks ? Duration::max()
                            : Duration{static_cast<Duration::rep>(reach * tick_ns_)};
}

TimerWheel::Tick TimerWheel::tick_ceil(Instant t) const noexcept {
  if (t <= origin_) {
    return 0;
  }
  // Unsigned difference: exact even when origin_ is negative and t is near Instant::max().
  const Tick ns = static_cast<Tick>(t.time_since_epoch().count()) -
                  static_cast<Tick>(origin_.time_since_epoch().count());
  return ns / tick_ns_ + (ns % tick_ns_ != 0 ? 1 : 0);
}

TimerWheel::Tick TimerWheel::tick_floor(Instant t) const noexcept {
  if (t <= origin_) {
    return 0;
  }
  const Tick ns = static_cast<Tick>(t.time_since_epoch().count()) -
                  static_cast<Tick>(origin_.time_since_epoch().count());
  return ns / tick_ns_;
}

Instant TimerWheel::at_tick(Tick t) const noexcept {
  const auto room = static_cast<Tick>(Instant::max().time_since_epoch().count()) -
                    static_cast<Tick>(origin_.time_since_epoch().count());
  if (t > room / tick_ns_) {
    return Instant::max();
  }
  return origin_ + Duration{static_cast<Duration::rep>(t * tick_ns_)};
}

// The last tick the top level can hold from now_: its slots name top-level digits
// now+1 .. now+255, i.e. up to the end of the 255th top-level block after the current one.
TimerWheel::Tick TimerWheel::compute_far_tick() const noexcept {
  const unsigned shift = kSlotBits * (levels_ - 1);
  const Tick base = now_ >> shift;
  if (shift == 56 || base + kSlots > (kNever >> shift)) {
    return kNever;
  }
  return ((base + kSlots) << shift) - 1;
}

void TimerWheel::place(Timer& timer, Tick expiry) noexcept {
  assert(expiry >= now_ && expiry <= far_tick());
  const Tick diff = expiry ^ now_;
  unsigned level = diff == 0 ? 0 : (static_cast<unsigned>(std::bit_width(diff)) - 1) / kSlotBits;
  level = std::min(level, levels_ - 1);
  const unsigned shift = kSlotBits * level;
  const auto index = static_cast<unsigned>((expiry >> shift) & (kSlots - 1));
  slot(level, index).push_back(timer);
  bitmap_[level][index / 64] |= std::uint64_t{1} << (index % 64);
  busy_levels_ |= 1U << level;
  // The slot is processed when the current tick reaches expiry with its low bytes zeroed.
  next_event_ = std::min(next_event_, (expiry >> shift) << shift);
}

void TimerWheel::clear_bit(unsigned level, unsigned index) noexcept {
  std::uint64_t* words = bitmap_[level];
  words[index / 64] &= ~(std::uint64_t{1} << (index % 64));
  if ((words[0] | words[1] | words[2] | words[3]) == 0) {
    busy_levels_ &= ~(1U << level);
  }
}

// Unlinks a scheduled timer and keeps the bitmaps exact without storing the slot in the
// Timer: if the timer is alone in its list, both its neighbours are that list's header, and
// a header inside slots_ names the slot whose bit to clear. (The header of process()'s local
// expiry list lives on the stack and so matches no slot.)
void TimerWheel::unlink(Timer& timer) noexcept {
  unpark(timer);
  const auto it = List::s_iterator_to(timer);
  const auto next = std::next(it);
  const bool alone = next == std::prev(it);
  const auto header = reinterpret_cast<std::uintptr_t>(next.pointed_node());
  timer.hook_.unlink();
  if (--size_ == 0) {
    next_event_ = kNever;
  }
  if (alone) {
    const auto first = reinterpret_cast<std::uintptr_t>(slots_[0].end().pointed_node());
    const std::uintptr_t offset = header - first;  // huge if header < first
    if (offset < sizeof(List) * levels_ * kSlots && offset % sizeof(List) == 0) {
      const auto i = static_cast<unsigned>(offset / sizeof(List));
      clear_bit(i / kSlots, i % kSlots);
    }
  }
}

void TimerWheel::schedule(Timer& timer, Instant deadline) noexcept {
  assert(timer.callback_ != nullptr);
  if (timer.linked()) {
    timer.wheel()->unlink(timer);
  }
  timer.deadline_ = deadline;
  timer.set_wheel(this);
  ++size_;
  place(timer, std::clamp(tick_ceil(deadline), now_ + 1, far_tick()));
}

void TimerWheel::rearm_lazy(Timer& timer, Instant deadline) noexcept {
  if (timer.linked() && timer.wheel() == this && deadline >= timer.deadline_) {
    // It sits at or before the tick of its old deadline, hence before the new one.
    unpark(timer);
    timer.deadline_ = deadline;
    return;
  }
  schedule(timer, deadline);
}

void TimerWheel::cancel(Timer& timer) noexcept {
  if (timer.linked()) {
    timer.wheel()->unlink(timer);
  }
}

void TimerWheel::cancel_lazy(Timer& timer) noexcept {
  if (!timer.linked() || timer.parked()) {
    return;
  }
  if (timer.wheel() != this) {
    timer.wheel()->unlink(timer);
    return;
  }
  timer.set_parked(true);
  ++parked_;
}

void TimerWheel::unpark(Timer& timer) noexcept {
  if (timer.parked()) {
    timer.set_parked(false);
    --parked_;
  }
}

// A parked timer the wheel has taken out of its list: it is gone.
void TimerWheel::drop_parked(Timer& timer) noexcept {
  unpark(timer);
  if (--size_ == 0) {
    next_event_ = kNever;
  }
}

// For each level, the tick at which its first non-empty slot after the current one is
// processed; the minimum over levels. Below the top level every timer sits in a slot
// above the current byte (it agrees with now_ on the bytes above); the top level wraps.
TimerWheel::Tick TimerWheel::scan_next_event() const noexcept {
  Tick best = kNever;
  for (std::uint32_t busy = busy_levels_; busy != 0; busy &= busy - 1) {
    const auto level = static_cast<unsigned>(std::countr_zero(busy));
    const unsigned shift = kSlotBits * level;
    const auto current = static_cast<unsigned>((now_ >> shift) & (kSlots - 1));
    unsigned index = find_next(bitmap_[level], current + 1);
    if (index == kSlots) {
      index = find_next(bitmap_[level], 0);
    }
    const unsigned distance = index > current ? index - current : index + kSlots - current;
    best = std::min(best, ((now_ >> shift) + distance) << shift);
  }
  return best;
}

std::size_t TimerWheel::process(Tick t) noexcept {
  assert(t == now_);
  // Cascade, highest level first: a timer re-placed from level k lands at a lower level in
  // a slot after byte 0 of that level (t is zero there), or, if due now, in level 0 slot
  // t & 255, which expires just below.
  const unsigned top =
      std::min(levels_ - 1, static_cast<unsigned>(std::countr_zero(t)) / kSlotBits);
  for (unsigned level = top; level >= 1; --level) {
    const auto index = static_cast<unsigned>((t >> (kSlotBits * level)) & (kSlots - 1));
    if ((bitmap_[level][index / 64] >> (index % 64) & 1) == 0) {
      continue;
    }
    List moving;
    moving.splice(moving.end(), slot(level, index));
    clear_bit(level, index);
    while (!moving.empty()) {
      Timer& timer = moving.front();
      moving.pop_front();
      if (timer.parked()) {
        drop_parked(timer);
        continue;
      }
      place(timer, std::clamp(tick_ceil(timer.deadline_), t, far_tick()));
    }
  }

  List expiring;
  const auto index0 = static_cast<unsigned>(t & (kSlots - 1));
  if ((bitmap_[0][index0 / 64] >> (index0 % 64) & 1) != 0) {
    expiring.splice(expiring.end(), slot(0, index0));
    clear_bit(0, index0);
  }
  next_event_ = scan_next_event();
  if (expiring.empty()) {
    return 0;
  }
  if (std::next(expiring.begin()) != expiring.end()) {
    // Stable merge sort over the list itself: ties keep scheduling order, nothing allocates.
    expiring.sort([](const Timer& a, const Timer& b) { return a.deadline_ < b.deadline_; });
  }

  std::size_t fired = 0;
  while (!expiring.empty()) {
    // Pop before calling back: a callback may cancel timers still in `expiring` (they leave
    // it and so never fire), or reschedule anything into a later tick.
    Timer& timer = expiring.front();
    expiring.pop_front();
    if (timer.parked()) {
      drop_parked(timer);
      continue;
    }
    const Tick due = tick_ceil(timer.deadline_);
    if (due > t) {  // re-armed lazily, or parked beyond the horizon: not yet
      place(timer, std::min(due, far_tick()));
      continue;
    }
    if (--size_ == 0) {
      next_event_ = kNever;
    }
    ++fired;
    timer.callback_(timer, timer.ctx_);  // may destroy `timer`: not touched after this
  }
  return fired;
}

std::size_t TimerWheel::advance(Instant now) noexcept {
  assert(!advancing_ && "advance() called from a timer callback");
  if (now < next_tick_at_) {
    return 0;  // still within the current tick: the common case, called every poll
  }
  const Tick target = tick_floor(now);
  if (advancing_ || target <= now_) {
    return 0;
  }
  advancing_ = true;
  std::size_t fired = 0;
  // Jump from one tick with work to the next; the ticks in between have nothing to do.
  while (next_event_ <= target) {
    set_now(next_event_);
    fired += process(now_);
  }
  set_now(target);
  advancing_ = false;
  return fired;
}

Instant TimerWheel::next_deadline() const noexcept {
  return size() == 0 ? Instant::max() : at_tick(scan_next_event());
}

}  // namespace sluice::time
