#include "engine/impairment.hpp"

#include <rte_mbuf.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

namespace sluice::engine {

bool parse_impairment(const char* text, ImpairmentConfig& out) noexcept {
  std::string s(text);
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    const std::string item = s.substr(pos, end - pos);
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos) return false;
    const std::string key = item.substr(0, eq);
    const std::string val = item.substr(eq + 1);
    char* e = nullptr;
    const double v = std::strtod(val.c_str(), &e);
    const std::string unit = e;
    auto dur = [&](time::Duration& d) {
      if (unit == "ms") {
        d = std::chrono::duration_cast<time::Duration>(
            std::chrono::duration<double, std::milli>(v));
      } else if (unit == "us") {
        d = std::chrono::duration_cast<time::Duration>(
            std::chrono::duration<double, std::micro>(v));
      } else {
        return false;
      }
      return v >= 0;
    };
    bool ok = true;
    if (key == "loss") {
      out.loss = v;
      ok = unit.empty() && v >= 0 && v <= 1;
    } else if (key == "dup") {
      out.duplicate = v;
      ok = unit.empty() && v >= 0 && v <= 1;
    } else if (key == "reorder") {
      out.reorder = v;
      ok = unit.empty() && v >= 0 && v <= 1;
    } else if (key == "delay") {
      ok = dur(out.delay);
    } else if (key == "jitter") {
      ok = dur(out.jitter);
    } else if (key == "seed") {
      out.seed = static_cast<std::uint64_t>(v);
      ok = unit.empty();
    } else {
      ok = false;
    }
    if (!ok) return false;
    pos = end + 1;
  }
  return true;
}

Impairment::~Impairment() {
  for (auto& h : held_) rte_pktmbuf_free(h.m);
}

void Impairment::hold(rte_mbuf* m, time::Instant due) noexcept {
  // Sorted insert; equal due times keep arrival order. A vector is plenty for tests.
  auto it = std::upper_bound(held_.begin(), held_.end(), due,
                             [](time::Instant d, const Held& h) { return d < h.due; });
  held_.insert(it, Held{due, m});
}

void Impairment::push(rte_mbuf* m, time::Instant now, rte_mempool* pool) noexcept {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  if (c_.loss > 0 && u(rng_) < c_.loss) {
    ++dropped;
    rte_pktmbuf_free(m);
    return;
  }
  auto due = [&] {
    if (c_.reorder > 0 && u(rng_) < c_.reorder) return now;  // jumps the queue
    time::Duration d = c_.delay;
    if (c_.jitter.count() > 0) {
      d += std::chrono::duration_cast<time::Duration>(c_.jitter * (2 * u(rng_) - 1));
    }
    return now + std::max(d, time::Duration::zero());
  };
  if (c_.duplicate > 0 && u(rng_) < c_.duplicate) {
    if (rte_mbuf* copy = rte_pktmbuf_copy(m, pool, 0, UINT32_MAX)) {
      ++duplicated;
      hold(copy, due());
    }
  }
  hold(m, due());
}

}  // namespace sluice::engine
