// TimeWaitRecord: what is left of a connection in TIME-WAIT (RFC 9293 §3.10.7.4 "TIME-WAIT
// STATE"): the 4-tuple, the two sequence numbers and the timestamp state — enough to
// re-acknowledge a retransmitted FIN, to answer a new SYN per RFC 6191, and to keep old
// duplicates out for 2*MSL — without the full connection object, so short-connection
// workloads do not fill memory with dead connections.
#pragma once

#include <cstdint>

#include <boost/intrusive/unordered_set_hook.hpp>

#include "tcp/four_tuple.hpp"
#include "time/timer.hpp"
#include "wire/seq.hpp"

namespace sluice::tcp {

class TcpStack;

struct TimeWaitRecord {
  explicit TimeWaitRecord(TcpStack& s) noexcept : stack(s) {}

  boost::intrusive::unordered_set_member_hook<> table_hook_;
  TcpStack& stack;
  FourTuple tuple;
  wire::Seq snd_nxt;  ///< after our FIN
  wire::Seq rcv_nxt;  ///< after the peer's FIN
  std::uint32_t ts_recent = 0;
  std::uint32_t ts_offset = 0;
  std::uint16_t window = 0;  ///< the window field we keep advertising
  bool ts_ok = false;
  time::Timer timer;  ///< 2*MSL

  void on_expiry() noexcept;
};

}  // namespace sluice::tcp
