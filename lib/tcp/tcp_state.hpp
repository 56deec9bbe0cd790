// TcpState: the eleven connection states of RFC 9293 §3.3.2, with their names and the
// sets of states the receive path tests in one go ("synchronized", "can send", ...).
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice::tcp {

enum class TcpState : std::uint8_t {
  Closed,
  Listen,
  SynSent,
  SynReceived,
  Established,
  FinWait1,
  FinWait2,
  CloseWait,
  Closing,
  LastAck,
  TimeWait,
};

inline constexpr std::size_t kTcpStateCount = 11;

/// The RFC's spelling: "SYN-RECEIVED", "FIN-WAIT-1", ...
constexpr std::string_view to_string(TcpState s) noexcept {
  switch (s) {
    case TcpState::Closed: return "CLOSED";
    case TcpState::Listen: return "LISTEN";
    case TcpState::SynSent: return "SYN-SENT";
    case TcpState::SynReceived: return "SYN-RECEIVED";
    case TcpState::Established: return "ESTABLISHED";
    case TcpState::FinWait1: return "FIN-WAIT-1";
    case TcpState::FinWait2: return "FIN-WAIT-2";
    case TcpState::CloseWait: return "CLOSE-WAIT";
    case TcpState::Closing: return "CLOSING";
    case TcpState::LastAck: return "LAST-ACK";
    case TcpState::TimeWait: return "TIME-WAIT";
  }
  return "?";
}

/// A set of states as a bit mask, so "in any of these" is one AND.
class StateSet {
 public:
  constexpr StateSet() noexcept = default;
  constexpr StateSet(std::initializer_list<TcpState> states) noexcept {
    for (TcpState s : states) bits_ |= bit(s);
  }
  [[nodiscard]] constexpr bool has(TcpState s) const noexcept { return (bits_ & bit(s)) != 0; }

 private:
  static constexpr std::uint16_t bit(TcpState s) noexcept {
    return static_cast<std::uint16_t>(1u << static_cast<unsigned>(s));
  }
  std::uint16_t bits_ = 0;
};

/// States past the handshake in which both sequence spaces are known (RFC 9293 §3.10.7.4).
inline constexpr StateSet kSynchronized{
    TcpState::Established, TcpState::FinWait1, TcpState::FinWait2, TcpState::CloseWait,
    TcpState::Closing,     TcpState::LastAck,  TcpState::TimeWait};
/// States in which the application may still queue data to send.
inline constexpr StateSet kCanSend{TcpState::SynSent, TcpState::SynReceived, TcpState::Established,
                                   TcpState::CloseWait};
/// States in which data from the peer is still accepted (no FIN received yet).
inline constexpr StateSet kCanReceive{TcpState::SynReceived, TcpState::Established,
                                      TcpState::FinWait1, TcpState::FinWait2};
/// States in which our FIN has been sent.
inline constexpr StateSet kFinSent{TcpState::FinWait1, TcpState::FinWait2, TcpState::Closing,
                                   TcpState::LastAck, TcpState::TimeWait};

}  // namespace sluice::tcp
