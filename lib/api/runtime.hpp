// Runtime: what a sluice program needs around its protocol logic — EAL up, mbuf pools,
// the first port started, an Engine on it, and a poll loop that ends cleanly on SIGINT
// or SIGTERM (stop accepting, close connections gracefully, release the port, exit 0).
//
// Usage:
//   auto rt = Runtime::start(argc, argv, "sluice-inetd", usage);   // EAL args, then --
//   ... parse the program's own flags from rt->argc()/rt->argv() ...
//   rt->configure(common);  listen / connect on rt->tcp();  return rt->run(hooks);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "engine/engine.hpp"
#include "wire/errc.hpp"
#include "wire/result.hpp"

struct rte_mempool;

namespace sluice::api {

/// Flags every program takes after `--` (parsed by parse_common_flag).
struct CommonOptions {
  wire::Ipv4Addr addr{};
  std::uint8_t prefix_len = 24;
  wire::Ipv4Addr gateway{};
  bool stats = false;  ///< per-second counters on stderr
  std::uint16_t mtu = 0;
};

/// Parses "A.B.C.D/LEN" (LEN 0..32; without "/LEN", 32).
bool parse_cidr(const std::string& text, wire::Ipv4Addr& addr, std::uint8_t& len) noexcept;

class Runtime {
 public:
  struct Hooks {
    std::function<void()> on_stop;       ///< SIGINT/SIGTERM: close listeners and connections
    std::function<void()> every_second;  ///< e.g. the program's own statistics
    std::function<bool()> done;          ///< return true to end the loop (e.g. a client finished)
  };

  /// Brings EAL up from argv (EAL arguments before `--`). nullptr on failure (the reason is
  /// printed). argc()/argv() are then the program's own arguments, argv()[0] = `prog`.
  static std::unique_ptr<Runtime> start(int argc, char** argv, const char* prog) noexcept;
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  [[nodiscard]] int argc() const noexcept { return argc_; }
  [[nodiscard]] char** argv() const noexcept { return argv_; }

  /// Pools, the first port, the engine. Errors are printed. Pre: start() succeeded.
  Result<void, Errc> configure(const CommonOptions& common, const tcp::TcpConfig& tcp = {}) noexcept;

  [[nodiscard]] engine::Engine& engine() noexcept { return *engine_; }
  [[nodiscard]] tcp::TcpStack& tcp() noexcept { return engine_->tcp(); }

  /// Polls until done() or a signal; on a signal calls on_stop() then keeps polling until
  /// every connection has closed (at most `drain` long). Returns the exit status: 0.
  int run(const Hooks& hooks, time::Duration drain = std::chrono::seconds(3)) noexcept;

  /// Prints the engine's and TCP's non-zero counters to stderr.
  void print_counters() const;

 private:
  Runtime() = default;

  int argc_ = 0;
  char** argv_ = nullptr;
  std::uint16_t port_ = 0;
  bool port_started_ = false;
  rte_mempool* pool_ = nullptr;
  rte_mempool* clone_pool_ = nullptr;
  std::unique_ptr<time::Clock> clock_;
  std::unique_ptr<engine::Engine> engine_;
  CommonOptions common_{};
};

}  // namespace sluice::api
