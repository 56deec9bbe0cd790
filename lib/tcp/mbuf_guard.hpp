// MbufGuard: frees an arrived frame when the scope ends unless ownership moved on (the
// holder set the pointer to nullptr, e.g. because the receive buffer kept the payload).
// Every input path that does not keep a segment's mbuf must free it exactly once.
#pragma once

#include <rte_mbuf.h>

namespace sluice::tcp {

class MbufGuard {
 public:
  explicit MbufGuard(rte_mbuf*& m) noexcept : m_(m) {}
  ~MbufGuard() {
    if (m_ != nullptr) rte_pktmbuf_free(m_);
    m_ = nullptr;
  }
  MbufGuard(const MbufGuard&) = delete;
  MbufGuard& operator=(const MbufGuard&) = delete;

 private:
  rte_mbuf*& m_;
};

}  // namespace sluice::tcp
