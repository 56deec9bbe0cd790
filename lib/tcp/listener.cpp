// Listener queues. See listener.hpp.
#include "tcp/listener.hpp"

#include "tcp/tcp_stack.hpp"

namespace sluice::tcp {

Listener::Listener(TcpStack& stack, wire::Ipv4Addr ip, std::uint16_t port, std::uint32_t backlog,
                   ListenHandler* handler) noexcept
    : stack_(stack), handler_(handler), ip_(ip), port_(port), backlog_(backlog) {}

Listener::~Listener() {
  syn_q_.clear();
  accept_q_.clear();
}

Tcb* Listener::accept() noexcept {
  if (accept_q_.empty()) return nullptr;
  Tcb& t = accept_q_.front();
  accept_q_.pop_front();
  t.in_accept_q_ = false;
  t.listener_ = nullptr;
  return &t;
}

bool Listener::on_established(Tcb& t) noexcept {
  if (accept_q_.size() >= backlog_) return false;
  if (t.queue_hook_.is_linked()) syn_q_.erase(syn_q_.iterator_to(t));
  accept_q_.push_back(t);
  t.in_accept_q_ = true;
  notify_ = true;
  stack_.listeners_notify_ = true;
  return true;
}

void Listener::forget(Tcb& t) noexcept {
  if (!t.queue_hook_.is_linked()) return;
  Queue& q = t.in_accept_q_ ? accept_q_ : syn_q_;
  q.erase(q.iterator_to(t));
  t.in_accept_q_ = false;
}

}  // namespace sluice::tcp
