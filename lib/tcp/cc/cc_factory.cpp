// CcStorage: in-place construction of the congestion control algorithm (no heap).
#include "tcp/cc/cc_factory.hpp"

namespace sluice::tcp {

namespace {

template <typename Algorithm>
CongestionControl* build(std::byte* buffer) noexcept {
  static_assert(sizeof(Algorithm) <= CcAlgorithms::kSize, "list it in CcAlgorithms");
  static_assert(alignof(Algorithm) <= CcAlgorithms::kAlign, "list it in CcAlgorithms");
  return ::new (static_cast<void*>(buffer)) Algorithm();
}

}  // namespace

CongestionControl* CcStorage::construct(CongestionAlgorithm algo) noexcept {
  destroy();
  switch (algo) {
    case CongestionAlgorithm::Cubic: cc_ = build<Cubic>(buffer_); break;
    case CongestionAlgorithm::NewReno:
    default: cc_ = build<NewReno>(buffer_); break;
  }
  return cc_;
}

void CcStorage::destroy() noexcept {
  if (cc_ != nullptr) {
    cc_->~CongestionControl();
    cc_ = nullptr;
  }
}

}  // namespace sluice::tcp
