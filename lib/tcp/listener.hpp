// Listener: a passive open (RFC 9293 §3.10.1 OPEN with passive flag) on an address and
// port, with its SYN queue (embryonic connections in SYN-RECEIVED) and accept queue
// (ESTABLISHED connections the application has not taken yet), and the backlog limit.
//
// SYN-RECEIVED → LISTEN on RST (§3.10.7.4) is the embryonic connection being dropped from
// the SYN queue: the listener itself never leaves LISTEN and keeps serving.
#pragma once

#include <cstdint>

#include <boost/intrusive/list.hpp>

#include "tcp/tcb.hpp"
#include "wire/ipv4_addr.hpp"

namespace sluice::tcp {

class TcpStack;

class Listener {
 public:
  Listener(TcpStack& stack, wire::Ipv4Addr ip, std::uint16_t port, std::uint32_t backlog,
           ListenHandler* handler) noexcept;
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  /// Takes the oldest established connection from the accept queue (nullptr if empty).
  /// The caller must give it a handler (Tcb::set_handler) to hear its events.
  Tcb* accept() noexcept;

  [[nodiscard]] wire::Ipv4Addr ip() const noexcept { return ip_; }  ///< 0.0.0.0: any
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] std::uint32_t backlog() const noexcept { return backlog_; }
  [[nodiscard]] std::size_t accept_queue_size() const noexcept { return accept_q_.size(); }
  [[nodiscard]] std::size_t syn_queue_size() const noexcept { return syn_q_.size(); }
  void set_handler(ListenHandler* h) noexcept { handler_ = h; }

  boost::intrusive::list_member_hook<> stack_hook_;  ///< TcpStack's list of listeners

 private:
  friend class TcpStack;
  friend class Tcb;

  using Queue = boost::intrusive::list<
      Tcb,
      boost::intrusive::member_hook<Tcb, boost::intrusive::list_member_hook<>, &Tcb::queue_hook_>>;

  // Called by the connection as it moves through the handshake.
  void on_embryonic(Tcb& t) noexcept { syn_q_.push_back(t); }
  /// Handshake done: moves t to the accept queue. False (t stays in SYN-RECEIVED) when the
  /// accept queue is full — the peer will retransmit its ACK.
  bool on_established(Tcb& t) noexcept;
  void forget(Tcb& t) noexcept;  ///< t is closing: out of whichever queue holds it

  TcpStack& stack_;
  ListenHandler* handler_;
  wire::Ipv4Addr ip_;
  std::uint16_t port_;
  std::uint32_t backlog_;
  bool notify_ = false;  ///< on_acceptable() owed
  Queue syn_q_;
  Queue accept_q_;
};

}  // namespace sluice::tcp
