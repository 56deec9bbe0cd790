// What the TCP core tells the application. Events are delivered after a segment or timer
// has been fully processed (never from the middle of the state machine), so a handler
// may call any Tcb method — send, read, shutdown, close, abort — from inside a callback.
//
// The one indirect call per event is the application boundary; everything below it is
// direct calls.
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice::tcp {

class Tcb;
class Listener;

/// Why a connection ended (the argument of TcpHandler::on_closed).
enum class CloseReason : std::uint8_t {
  Normal,          ///< both FINs exchanged and acknowledged (or TIME-WAIT entered)
  Refused,         ///< RST in answer to our SYN (ECONNREFUSED)
  Reset,           ///< RST from the peer on an open connection (ECONNRESET)
  TimedOut,        ///< SYN, data or keepalive retransmissions exhausted (ETIMEDOUT)
  Aborted,         ///< the application called abort(): RST sent
  ListenerClosed,  ///< accepted but never taken, and the listener went away
};

constexpr std::string_view to_string(CloseReason r) noexcept {
  switch (r) {
    case CloseReason::Normal: return "normal";
    case CloseReason::Refused: return "connection refused";
    case CloseReason::Reset: return "connection reset";
    case CloseReason::TimedOut: return "timed out";
    case CloseReason::Aborted: return "aborted";
    case CloseReason::ListenerClosed: return "listener closed";
  }
  return "?";
}

/// Per-connection events. Default implementations do nothing.
class TcpHandler {
 public:
  virtual ~TcpHandler() = default;
  /// Active open completed: ESTABLISHED.
  virtual void on_connected(Tcb&) noexcept {}
  /// New in-order data can be read (Tcb::readable() grew).
  virtual void on_data(Tcb&) noexcept {}
  /// Send space was freed after send() had been refused or short.
  virtual void on_writable(Tcb&) noexcept {}
  /// The peer sent FIN: no more data will arrive (half-close; we may still send).
  virtual void on_peer_closed(Tcb&) noexcept {}
  /// Last event of a connection: after it returns, the Tcb is gone.
  virtual void on_closed(Tcb&, CloseReason) noexcept {}
};

/// Listener events.
class ListenHandler {
 public:
  virtual ~ListenHandler() = default;
  /// Connections are waiting in the accept queue: take them with Listener::accept().
  virtual void on_acceptable(Listener&) noexcept = 0;
};

}  // namespace sluice::tcp
