// Result<T, E>: the error model of sluice's fallible calls (STYLE.md, "Errors").
//
// A value or an error, never both; no exceptions, no allocation. E is a small enum
// (an errno-like Errc, a ParseError naming why a packet was refused, ...). Accessing the
// wrong alternative is a programming error caught by assert in debug builds.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>

namespace sluice {

/// Wraps an error so a Result can be built from it unambiguously: `return Err{e};`.
template <class E>
struct Err {
  E error;
};
template <class E>
Err(E) -> Err<E>;

template <class T, class E>
class [[nodiscard]] Result {
  static_assert(std::is_enum_v<E>, "errors are small enums");

 public:
  using value_type = T;
  using error_type = E;

  // NOLINTNEXTLINE(google-explicit-constructor): implicit like std::expected.
  constexpr Result(T value) noexcept(std::is_nothrow_move_constructible_v<T>)
      : value_(std::move(value)), ok_(true) {}
  // NOLINTNEXTLINE(google-explicit-constructor)
  constexpr Result(Err<E> err) noexcept : error_(err.error), ok_(false) {}

  constexpr Result(const Result& o) noexcept(std::is_nothrow_copy_constructible_v<T>) : ok_(o.ok_) {
    if (ok_) {
      ::new (&value_) T(o.value_);
    } else {
      error_ = o.error_;
    }
  }
  constexpr Result& operator=(const Result& o) noexcept(std::is_nothrow_copy_constructible_v<T>) {
    if (this != &o) {
      destroy();
      ok_ = o.ok_;
      if (ok_) {
        ::new (&value_) T(o.value_);
      } else {
        error_ = o.error_;
      }
    }
    return *this;
  }
  constexpr ~Result() { destroy(); }

  [[nodiscard]] constexpr bool ok() const noexcept { return ok_; }
  constexpr explicit operator bool() const noexcept { return ok_; }

  [[nodiscard]] constexpr T& value() & noexcept {
    assert(ok_);
    return value_;
  }
  [[nodiscard]] constexpr const T& value() const& noexcept {
    assert(ok_);
    return value_;
  }
  constexpr T* operator->() noexcept { return &value(); }
  constexpr const T* operator->() const noexcept { return &value(); }
  constexpr T& operator*() noexcept { return value(); }
  constexpr const T& operator*() const noexcept { return value(); }

  [[nodiscard]] constexpr E error() const noexcept {
    assert(!ok_);
    return error_;
  }

 private:
  constexpr void destroy() noexcept {
    if constexpr (!std::is_trivially_destructible_v<T>) {
      if (ok_) value_.~T();
    }
  }

  union {
    T value_;
    E error_;
  };
  bool ok_;
};

/// Result of a call that returns nothing on success.
template <class E>
class [[nodiscard]] Result<void, E> {
  static_assert(std::is_enum_v<E>, "errors are small enums");

 public:
  constexpr Result() noexcept = default;
  // NOLINTNEXTLINE(google-explicit-constructor)
  constexpr Result(Err<E> err) noexcept : error_(err.error), ok_(false) {}

  [[nodiscard]] constexpr bool ok() const noexcept { return ok_; }
  constexpr explicit operator bool() const noexcept { return ok_; }
  [[nodiscard]] constexpr E error() const noexcept {
    assert(!ok_);
    return error_;
  }

 private:
  E error_{};
  bool ok_ = true;
};

}  // namespace sluice
