// Timer: one pending callback, embedded in the object that owns it (a TCB holds its
// retransmission, delayed-ACK, persist and keepalive timers). A TimerWheel links it into a
// slot through an intrusive hook, so scheduling and cancelling never allocate, and a Timer
// destroyed while scheduled takes itself out of its wheel.
#pragma once

#include <boost/intrusive/list_hook.hpp>
#include <type_traits>

#include "time/clock.hpp"

namespace sluice::time {

class TimerWheel;

class Timer {
 public:
  /// What the wheel calls when the timer expires. The timer is no longer scheduled when
  /// this runs, so the callback may schedule it again, cancel others, or destroy its owner.
  using Callback = void (*)(Timer& timer, void* ctx) noexcept;

  /// A timer with no callback; give it one with set_callback() or bind() before scheduling.
  Timer() noexcept = default;
  Timer(Callback callback, void* ctx) noexcept : callback_(callback), ctx_(ctx) {}

  /// A timer that calls `(owner.*Method)()` or `(owner.*Method)(timer)`; Method is noexcept.
  /// Use: `Timer rto_{Timer::make<&Tcb::on_rto>(*this)};`
  template <auto Method, class Owner>
  [[nodiscard]] static Timer make(Owner& owner) noexcept {
    return Timer(&call_member<Method, Owner>, &owner);
  }

  /// Changes the callback. Pre: !scheduled() (or the change applies to the pending expiry).
  void set_callback(Callback callback, void* ctx) noexcept {
    callback_ = callback;
    ctx_ = ctx;
  }
  template <auto Method, class Owner>
  void bind(Owner& owner) noexcept {
    set_callback(&call_member<Method, Owner>, &owner);
  }

  // Linked into a wheel: neither copyable nor movable. Destroying a scheduled timer
  // cancels it.
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer();

  /// True from schedule() until the callback starts or the timer is cancelled (lazily or not).
  [[nodiscard]] bool scheduled() const noexcept { return hook_.is_linked() && !parked(); }

  /// The deadline last given to schedule() or rearm_lazy(). Meaningful while scheduled.
  [[nodiscard]] Instant deadline() const noexcept { return deadline_; }

 private:
  friend class TimerWheel;

  template <auto Method, class Owner>
  static void call_member(Timer& timer, void* ctx) noexcept {
    Owner& owner = *static_cast<Owner*>(ctx);
    if constexpr (std::is_invocable_v<decltype(Method), Owner&, Timer&>) {
      static_assert(std::is_nothrow_invocable_v<decltype(Method), Owner&, Timer&>,
                    "timer callbacks run inside TimerWheel::advance() and must be noexcept");
      (owner.*Method)(timer);
    } else {
      static_assert(std::is_nothrow_invocable_v<decltype(Method), Owner&>,
                    "timer callbacks run inside TimerWheel::advance() and must be noexcept");
      (void)timer;
      (owner.*Method)();
    }
  }

  // auto_unlink: cancel is hook_.unlink(), and a hook never dangles in a list. The wheel
  // still learns of every unlink (see ~Timer) to keep its count and bitmaps exact.
  using Hook = boost::intrusive::list_member_hook<
      boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;

  // In a wheel's list, possibly cancelled lazily (parked: it stays in its slot until the
  // wheel reaches it or it is re-armed; see TimerWheel::cancel_lazy).
  [[nodiscard]] bool linked() const noexcept { return hook_.is_linked(); }
  [[nodiscard]] bool parked() const noexcept { return (wheel_bits_ & 1U) != 0; }
  [[nodiscard]] TimerWheel* wheel() const noexcept {
    return reinterpret_cast<TimerWheel*>(wheel_bits_ & ~std::uintptr_t{1});
  }
  void set_wheel(TimerWheel* w) noexcept { wheel_bits_ = reinterpret_cast<std::uintptr_t>(w); }
  void set_parked(bool p) noexcept { wheel_bits_ = (wheel_bits_ & ~std::uintptr_t{1}) | (p ? 1U : 0U); }

  Hook hook_;
  Instant deadline_{};
  Callback callback_ = nullptr;
  void* ctx_ = nullptr;
  // The wheel it was last scheduled on; bit 0: parked (cancelled lazily, still linked).
  std::uintptr_t wheel_bits_ = 0;
};

static_assert(sizeof(Timer) <= 48, "Timer is embedded in every TCB: keep it small");

}  // namespace sluice::time
