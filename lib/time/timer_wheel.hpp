// TimerWheel: a hierarchical timing wheel for one engine's timers (retransmission, delayed
// ACK, persist, keepalive, TIME-WAIT). O(1) schedule and cancel, no allocation, and an
// advance() that skips idle time in a few bitmap scans instead of one step per tick.
//
// Time is counted in ticks since `origin`. Level k has 256 slots; a timer expiring at tick
// E sits at level k = the highest byte in which E differs from the current tick, in the
// slot named by byte k of E. So a level-k timer agrees with the current tick on every byte
// above k (the top level alone wraps around, which is what gives it its reach). When the
// current tick T reaches a multiple of 256^k, the level-k slot named by byte k of T is
// emptied and its timers re-placed lower down ("cascade"), highest level first; then the
// level-0 slot of T expires. A timer therefore fires at exactly ceil((deadline - origin) /
// tick): never before its deadline, less than one tick after it.
//
// Design after Linux kernel/time/timer.c and Folly's HHWheelTimer, in our own code.
#pragma once

#include <boost/intrusive/list.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "time/clock.hpp"
#include "time/timer.hpp"

namespace sluice::time {

class TimerWheel {
 public:
  static constexpr unsigned kSlotBits = 8;
  static constexpr unsigned kSlots = 1U << kSlotBits;
  static constexpr unsigned kMaxLevels = 8;
  static constexpr Duration kDefaultTick = std::chrono::milliseconds(1);
  static constexpr Duration kDefaultSpan = std::chrono::hours(24 * 49);

  /// A wheel whose tick 0 is `origin`. `span` sets how far ahead a deadline is placed
  /// directly (the number of levels is the least that reaches it, at most 8); a deadline
  /// farther out is parked at the farthest reachable tick and re-placed from there, so it
  /// still fires on time. Pre: tick > 0, span > 0.
  explicit TimerWheel(Instant origin, Duration tick = kDefaultTick,
                      Duration span = kDefaultSpan) noexcept;
  /// Unschedules every timer still in the wheel (their callbacks never run).
  ~TimerWheel();
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  /// (Re)schedules `timer` to fire at the first tick at or after `deadline`; if scheduled
  /// (on this or another wheel), it is cancelled first. A deadline at or before now()
  /// fires on the next advance() that moves to a later tick, never in the tick being
  /// expired. Pre: the timer has a callback. O(1), no allocation.
  void schedule(Timer& timer, Instant deadline) noexcept;

  /// Like schedule(), but if `timer` is scheduled here and `deadline` is not earlier than
  /// its current one, only the deadline is recorded: when its slot comes up early the wheel
  /// re-places it instead of calling back. Moving a retransmission timer on every ACK so
  /// costs one store. Ties with other timers then follow re-placement order.
  void rearm_lazy(Timer& timer, Instant deadline) noexcept;

  /// Unschedules `timer` if scheduled (from whichever wheel holds it); else does nothing.
  /// Post: !timer.scheduled(). O(1).
  void cancel(Timer& timer) noexcept;

  /// Like cancel(), but a timer scheduled here stays in its slot, marked: its callback
  /// will not run, and a rearm_lazy() to a deadline not earlier than its last one takes
  /// it back with one store. For timers cancelled and re-armed on every exchange (the
  /// retransmission timer when all data is acknowledged, the delayed ACK timer when an ACK
  /// rides on data). The wheel drops a parked timer when it reaches its slot.
  /// Post: !timer.scheduled().
  void cancel_lazy(Timer& timer) noexcept;

  /// Moves the wheel to floor((now - origin) / tick) and runs the callback of every timer
  /// due up to there: ticks in order, and within a tick in deadline order (ties in
  /// scheduling order). While a callback runs, this->now() is the tick it was due at, and
  /// it may schedule, re-arm or cancel any timer, including itself and timers due in the
  /// same tick (a cancelled one does not fire). It must not call advance().
  /// Returns the number of callbacks run. A `now` at or before now() does nothing.
  std::size_t advance(Instant now) noexcept;

  /// The earliest instant at which advance() may have work: Instant::max() if no timer is
  /// scheduled. It can be a cascade point earlier than any deadline (a higher-level slot
  /// being re-placed), at which advance() then runs no callback; never later than the
  /// next expiry.
  [[nodiscard]] Instant next_deadline() const noexcept;

  /// Number of scheduled timers (those whose callback is still to run).
  [[nodiscard]] std::size_t size() const noexcept { return size_ - parked_; }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }

  /// The current tick as an instant: origin + tick * floor((last advance() - origin) / tick).
  [[nodiscard]] Instant now() const noexcept { return at_tick(now_); }
  [[nodiscard]] Duration tick() const noexcept { return tick_; }
  [[nodiscard]] unsigned levels() const noexcept { return levels_; }
  /// How far ahead of now() a deadline is always placed without re-placement (>= span).
  [[nodiscard]] Duration horizon() const noexcept;

 private:
  using Tick = std::uint64_t;
  using List =
      boost::intrusive::list<Timer,
                             boost::intrusive::member_hook<Timer, Timer::Hook, &Timer::hook_>,
                             boost::intrusive::constant_time_size<false>>;
  static constexpr Tick kNever = ~Tick{0};
  static constexpr unsigned kWords = kSlots / 64;

  [[nodiscard]] Tick tick_ceil(Instant t) const noexcept;
  [[nodiscard]] Tick tick_floor(Instant t) const noexcept;
  [[nodiscard]] Instant at_tick(Tick t) const noexcept;
  [[nodiscard]] Tick compute_far_tick() const noexcept;
  [[nodiscard]] Tick far_tick() const noexcept { return far_; }
  void set_now(Tick t) noexcept {
    now_ = t;
    far_ = compute_far_tick();
    next_tick_at_ = at_tick(now_ + 1);
  }
  [[nodiscard]] Tick scan_next_event() const noexcept;
  void place(Timer& timer, Tick expiry) noexcept;
  void unlink(Timer& timer) noexcept;
  void unpark(Timer& timer) noexcept;  ///< clears the mark (and the count) if parked
  void drop_parked(Timer& timer) noexcept;
  void clear_bit(unsigned level, unsigned slot) noexcept;
  std::size_t process(Tick t) noexcept;
  [[nodiscard]] List& slot(unsigned level, unsigned index) noexcept {
    return slots_[level * kSlots + index];
  }

  // Hot state first; the slot lists (levels_ * 4 KiB in use) last.
  Tick now_ = 0;
  // A lower bound on the next tick with work to do: advance() jumps straight to it.
  // Inserting lowers it; cancelling leaves it (advance() then finds an empty slot and
  // rescans); processing a tick recomputes it from the bitmaps.
  Tick next_event_ = kNever;
  Tick far_ = kNever;        // compute_far_tick() for now_
  Instant next_tick_at_;     // where tick now_ + 1 begins: advance() before it has nothing to do
  std::size_t size_ = 0;     // timers in the slots, parked ones included
  std::size_t parked_ = 0;   // of which cancelled lazily
  Tick tick_ns_;
  Instant origin_;
  Duration tick_;
  unsigned levels_;
  std::uint32_t busy_levels_ = 0;  // bit k: bitmap_[k] has a bit set
  bool advancing_ = false;
  // Bit s of level k is set iff slot (k, s) is non-empty. Kept exact: every unlink that
  // empties a slot clears its bit (see unlink()), including the one done by ~Timer.
  std::uint64_t bitmap_[kMaxLevels][kWords] = {};
  List slots_[kMaxLevels * kSlots];
};

}  // namespace sluice::time
