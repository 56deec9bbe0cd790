// Impairment: a seeded, netem-like lossy link inside the engine — loss, duplication,
// delay with jitter, and reordering — applied to what the port receives and to what it is
// about to send. For testing TCP against real peers where tc netem is not available (a
// kernel without sch_netem) or not wanted; off unless configured. Deterministic for a
// given seed and packet sequence.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "time/clock.hpp"

struct rte_mbuf;
struct rte_mempool;

namespace sluice::engine {

struct ImpairmentConfig {
  double loss = 0;       ///< probability a packet is dropped
  double duplicate = 0;  ///< probability a packet is delivered twice
  double reorder = 0;    ///< probability a packet skips the delay (overtakes earlier ones)
  time::Duration delay{0};
  time::Duration jitter{0};  ///< uniform in [-jitter, +jitter], added to delay
  std::uint64_t seed = 1;
  [[nodiscard]] bool active() const noexcept {
    return loss > 0 || duplicate > 0 || reorder > 0 || delay.count() > 0 || jitter.count() > 0;
  }
};

/// Parses "loss=0.01,dup=0.01,delay=25ms,jitter=5ms,reorder=0.25,seed=7" (any subset).
bool parse_impairment(const char* text, ImpairmentConfig& out) noexcept;

/// One direction of the impaired link.
class Impairment {
 public:
  Impairment(const ImpairmentConfig& c, std::uint64_t stream)
      : c_(c), rng_(c.seed * 0x9e3779b97f4a7c15ULL + stream) {}
  ~Impairment();

  /// Takes m; it comes out of release() when due (maybe twice, maybe never).
  void push(rte_mbuf* m, time::Instant now, rte_mempool* pool) noexcept;
  /// Hands every packet due by `now` to f, in delivery order.
  template <class F>
  void release(time::Instant now, F&& f) noexcept {
    std::size_t i = 0;
    while (i < held_.size()) {
      if (held_[i].due <= now) {
        rte_mbuf* m = held_[i].m;
        held_.erase(held_.begin() + static_cast<std::ptrdiff_t>(i));
        f(m);
      } else {
        ++i;
      }
    }
  }
  std::uint64_t dropped = 0;
  std::uint64_t duplicated = 0;

 private:
  struct Held {
    time::Instant due;
    rte_mbuf* m;
  };
  void hold(rte_mbuf* m, time::Instant due) noexcept;
  ImpairmentConfig c_;
  std::mt19937_64 rng_;
  std::vector<Held> held_;  ///< kept sorted by due time (stable for equal times)
};

}  // namespace sluice::engine
