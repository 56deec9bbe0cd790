// Errc: errno-like error values for sluice's fallible calls (STYLE.md, "Errors").
//
// Vocabulary type shared by every layer, so it lives at the bottom (lib/wire, standard
// library only). DPDK returns -errno or sets rte_errno; from_errno() maps those.
#pragma once

#include <cerrno>
#include <cstdint>
#include <string_view>

namespace sluice {

enum class Errc : std::uint8_t {
  InvalidArgument,
  NoMemory,
  NoDevice,
  NotSupported,
  Busy,
  AlreadyExists,
  NotFound,
  TimedOut,
  ConnectionRefused,
  ConnectionReset,
  ConnectionAborted,
  AddressInUse,
  NotConnected,
  WouldBlock,
  IoError,
  Unknown,
};

constexpr std::string_view to_string(Errc e) noexcept {
  switch (e) {
    case Errc::InvalidArgument: return "invalid argument";
    case Errc::NoMemory: return "out of memory";
    case Errc::NoDevice: return "no such device";
    case Errc::NotSupported: return "not supported";
    case Errc::Busy: return "busy";
    case Errc::AlreadyExists: return "already exists";
    case Errc::NotFound: return "not found";
    case Errc::TimedOut: return "timed out";
    case Errc::ConnectionRefused: return "connection refused";
    case Errc::ConnectionReset: return "connection reset";
    case Errc::ConnectionAborted: return "connection aborted";
    case Errc::AddressInUse: return "address in use";
    case Errc::NotConnected: return "not connected";
    case Errc::WouldBlock: return "would block";
    case Errc::IoError: return "I/O error";
    case Errc::Unknown: return "unknown error";
  }
  return "unknown error";
}

/// Maps a (positive or negative) errno value, as DPDK returns them, to an Errc.
constexpr Errc from_errno(int err) noexcept {
  switch (err < 0 ? -err : err) {
    case EINVAL: return Errc::InvalidArgument;
    case ENOMEM:
    case ENOBUFS:
    case ENOSPC: return Errc::NoMemory;
    case ENODEV:
    case ENXIO: return Errc::NoDevice;
    case ENOTSUP: return Errc::NotSupported;
    case EBUSY: return Errc::Busy;
    case EEXIST: return Errc::AlreadyExists;
    case ENOENT: return Errc::NotFound;
    case ETIMEDOUT: return Errc::TimedOut;
    case ECONNREFUSED: return Errc::ConnectionRefused;
    case ECONNRESET: return Errc::ConnectionReset;
    case ECONNABORTED: return Errc::ConnectionAborted;
    case EADDRINUSE: return Errc::AddressInUse;
    case ENOTCONN: return Errc::NotConnected;
    case EAGAIN: return Errc::WouldBlock;
    case EIO: return Errc::IoError;
    default: return Errc::Unknown;
  }
}

}  // namespace sluice
