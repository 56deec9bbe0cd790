// RttEstimator: RFC 6298 §2 (SRTT, RTTVAR, RTO) and §5.5 (back-off), in integer nanoseconds.
#include "tcp/rtt_estimator.hpp"

#include <algorithm>
#include <limits>

namespace sluice::tcp {

namespace {

// RFC 6298 §2.3: alpha = 1/8, beta = 1/4, K = 4, written as shifts of integer nanoseconds.
constexpr int kAlphaShift = 3;  // 1/8
constexpr int kBetaShift = 2;   // 1/4
constexpr std::int64_t kK = 4;

}  // namespace

RttEstimator::RttEstimator(Duration initial_rto, Duration min_rto, Duration max_rto) noexcept
    : min_(std::max(min_rto, Duration{1})),
      max_(std::max(max_rto, min_)),
      base_rto_(std::clamp(initial_rto, min_, max_)) {}

void RttEstimator::on_sample(Duration rtt) noexcept {
  if (rtt < Duration::zero()) return;
  const std::int64_t r = std::min(rtt, kMaxSample).count();

  if (!has_sample_) {
    // RFC 6298 §2.2: SRTT <- R, RTTVAR <- R/2.
    srtt_ = Duration{r};
    rttvar_ = Duration{r / 2};
    has_sample_ = true;
  } else {
    // RFC 6298 §2.3, in this order (RTTVAR uses the SRTT from before this sample):
    //   RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|
    //   SRTT   <- (1 - alpha) * SRTT + alpha * R'
    const std::int64_t srtt = srtt_.count();
    const std::int64_t rttvar = rttvar_.count();
    const std::int64_t err = srtt > r ? srtt - r : r - srtt;
    rttvar_ = Duration{(rttvar * ((1 << kBetaShift) - 1) + err) >> kBetaShift};
    srtt_ = Duration{(srtt * ((1 << kAlphaShift) - 1) + r) >> kAlphaShift};
  }

  // RFC 6298 §2.3: RTO <- SRTT + max(G, K * RTTVAR); §2.4 lower bound, §2.5 upper bound.
  const Duration rto = srtt_ + std::max(kClockGranularity, Duration{kK * rttvar_.count()});
  base_rto_ = std::clamp(rto, min_, max_);
  backoff_ = 0;
}

RttEstimator::Duration RttEstimator::rto() const noexcept {
  Duration r = base_rto_;
  for (unsigned i = 0; i < backoff_; ++i) {
    if (r > max_ / 2) return max_;  // doubling would pass the bound (and never overflows)
    r *= 2;
  }
  return r;
}

void RttEstimator::backoff() noexcept {
  // RFC 6298 §5.5: RTO <- RTO * 2, where rto() applies the upper bound that §2.5 allows.
  // The count saturates instead of wrapping.
  if (backoff_ < std::numeric_limits<unsigned>::max()) ++backoff_;
}

}  // namespace sluice::tcp
