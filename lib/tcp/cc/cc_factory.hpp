// CcStorage: the congestion control algorithm of one connection, built in place (no heap).
//
// The connection (Tcb) embeds a CcStorage; construct() placement-news the algorithm chosen by
// TcpConfig::congestion into its buffer and returns it through the CongestionControl
// interface. Adding an algorithm: its own file deriving from CongestionControl, an enumerator
// in CongestionAlgorithm (tcp_config.hpp), and its type in CcAlgorithms plus one case in
// CcStorage::construct() (cc_factory.cpp). The static_asserts below keep the buffer honest.
#pragma once

#include <algorithm>
#include <cstddef>
#include <new>

#include "tcp/cc/congestion_control.hpp"
#include "tcp/cc/cubic.hpp"
#include "tcp/cc/new_reno.hpp"
#include "tcp/tcp_config.hpp"

namespace sluice::tcp {

/// Every algorithm CcStorage can hold; its buffer is sized and aligned for the largest.
template <typename... Algorithms>
struct CcAlgorithmList {
  static constexpr std::size_t kSize = std::max({sizeof(Algorithms)...});
  static constexpr std::size_t kAlign = std::max({alignof(Algorithms)...});
};
using CcAlgorithms = CcAlgorithmList<NewReno, Cubic>;

class CcStorage {
 public:
  CcStorage() noexcept = default;
  ~CcStorage() { destroy(); }
  CcStorage(const CcStorage&) = delete;
  CcStorage& operator=(const CcStorage&) = delete;

  /// Destroys the algorithm held (if any) and constructs `algo` in its place. An unknown
  /// value falls back to NewReno, the RFC 5681 baseline. Post: get() == the result, never
  /// null. The algorithm is not initialised: call init(mss, now) before use.
  CongestionControl* construct(CongestionAlgorithm algo) noexcept;

  /// Destroys the algorithm held, if any. Post: get() == nullptr.
  void destroy() noexcept;

  /// The algorithm held, or nullptr before construct().
  [[nodiscard]] CongestionControl* get() noexcept { return cc_; }
  [[nodiscard]] const CongestionControl* get() const noexcept { return cc_; }

 private:
  alignas(CcAlgorithms::kAlign) std::byte buffer_[CcAlgorithms::kSize]{};
  CongestionControl* cc_ = nullptr;
};

// The connection object is small and fixed-size (DESIGN.md, "Connections and memory").
static_assert(sizeof(CcStorage) <= 96, "a congestion control algorithm grew too large");

}  // namespace sluice::tcp
