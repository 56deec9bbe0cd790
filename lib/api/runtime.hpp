// Runtime: what a sluice program needs around its protocol logic — EAL up, mbuf pools,
// the first port started, one Engine per lcore EAL gives (-l / --lcores), and poll loops
// that end cleanly on SIGINT or SIGTERM (stop accepting, close connections gracefully,
// release the port, exit 0).
//
// Several lcores (DESIGN.md "Sharding and RSS"): engine 0 runs on the main lcore, engine i
// on the i-th worker; shared-nothing, each with its own TcpStack. The port gets one queue
// pair per engine when it has that many (hardware RSS with the symmetric key when it can,
// else software steering), otherwise one queue pair, polled by engine 0, and software
// steering over rte_rings to the others. With one lcore nothing of that exists.
//
// Usage:
//   auto rt = Runtime::start(argc, argv, "sluice-inetd");           // EAL args, then --
//   ... parse the program's own flags from rt->argc()/rt->argv() ...
//   rt->configure(common);
//   rt->setup([&](engine::Engine& e) { listen on e.tcp() ...; return ok; });
//   return rt->run(hooks);
//
// Application state reached from handlers must be per engine (or atomic): handlers of
// different engines run at the same time on different lcores.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "wire/errc.hpp"
#include "wire/result.hpp"

struct rte_mempool;

namespace sluice::api {

/// Flags every program takes after `--` (parsed by parse_common_flag).
struct CommonOptions {
  wire::Ipv4Addr addr{};
  std::uint8_t prefix_len = 24;
  /// Local addresses: addr and the addr_count - 1 after it (engine::EngineConfig::addr_count),
  /// all inside addr/prefix_len; 1..engine::Engine::kMaxAddresses.
  std::uint32_t addr_count = 1;
  wire::Ipv4Addr gateway{};
  bool stats = false;  ///< per-second counters on stderr
  std::uint16_t mtu = 0;
  /// Each connection's send and receive buffer (TcpConfig::send_buffer, recv_buffer), fixed
  /// for the connection's life (auto-tuning off, as SO_RCVBUF/SO_SNDBUF turn Linux's off);
  /// 0: TcpConfig's, which start at 256 KB and grow with the path's bandwidth-delay
  /// product up to 4 MB.
  std::uint32_t buffer = 0;
};

/// Parses "A.B.C.D/LEN" (LEN 0..32; without "/LEN", 32).
bool parse_cidr(const std::string& text, wire::Ipv4Addr& addr, std::uint8_t& len) noexcept;

/// getopt_long values of the flags every program takes: --addr A.B.C.D/LEN,
/// --gateway A.B.C.D, --stats. Put them in the program's option table with these values.
inline constexpr int kOptAddr = 'a';
inline constexpr int kOptGateway = 'g';
inline constexpr int kOptStats = 's';
inline constexpr int kOptMtu = 'm';  ///< --mtu BYTES: e.g. 9000 for jumbo frames
inline constexpr int kOptBuffer = 'B';  ///< --buffer BYTES: 16384..67108864

/// Handles one of the common flags: true when `c` is one and its value is good (stored in
/// `out`); false, with the reason printed as "prog: ...", when the value is bad.
/// Pre: c is kOptAddr, kOptGateway, kOptStats, kOptMtu or kOptBuffer.
bool parse_common_flag(int c, const char* arg, CommonOptions& out, const char* prog) noexcept;

class Runtime {
 public:
  /// Called on each engine's own lcore (every_second: engine 0's, the main lcore).
  struct Hooks {
    /// SIGINT/SIGTERM: close this engine's listeners and connections.
    std::function<void(engine::Engine&)> on_stop;
    std::function<void()> every_second;  ///< e.g. the program's own statistics
    /// Return true to end every loop now (e.g. a client finished); checked every iteration.
    std::function<bool(engine::Engine&)> done;
  };

  /// Brings EAL up from argv (EAL arguments before `--`). nullptr on failure (the reason is
  /// printed). argc()/argv() are then the program's own arguments, argv()[0] = `prog`.
  static std::unique_ptr<Runtime> start(int argc, char** argv, const char* prog) noexcept;
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  [[nodiscard]] int argc() const noexcept { return argc_; }
  [[nodiscard]] char** argv() const noexcept { return argv_; }

  /// Pools, the first port, one engine per lcore. Errors are printed. Pre: start() succeeded.
  Result<void, Errc> configure(const CommonOptions& common,
                               const tcp::TcpConfig& tcp = {}) noexcept;

  [[nodiscard]] std::uint16_t engine_count() const noexcept {
    return static_cast<std::uint16_t>(engines_.size());
  }
  [[nodiscard]] engine::Engine& engine(std::uint16_t i = 0) noexcept { return *engines_[i]; }
  [[nodiscard]] tcp::TcpStack& tcp() noexcept { return engines_[0]->tcp(); }

  /// Calls f on every engine in turn (per-engine setup: listen, connect, handler state),
  /// on the main lcore before any loop runs; stops at the first error and returns it.
  Result<void, Errc> setup(const std::function<Result<void, Errc>(engine::Engine&)>& f);

  /// Runs every engine's loop (workers on their lcores, engine 0 here) until done() or a
  /// signal; on a signal each engine calls on_stop() then keeps polling until every
  /// engine's connections have closed (at most `drain` long). Returns the exit status: 0.
  int run(const Hooks& hooks, time::Duration drain = std::chrono::seconds(3)) noexcept;

  /// Returns once SIGINT or SIGTERM has arrived (at once if one arrived during run()).
  /// For a program that keeps its port open after its run until told to close it: with
  /// net_memif, a process whose peer closes the link while it still polls can crash
  /// (DPDK 22.11 unmaps the rings under the data path), so two processes sharing a memif
  /// link should both stop polling before either closes its port. Call after run().
  void wait_for_signal() const noexcept;

  /// Prints each engine's counters to stderr (one line per engine; with several engines
  /// also the steering counters). Call when no loop runs (after run()).
  void print_counters() const;

 private:
  Runtime() = default;
  struct Launch {  ///< what a worker lcore's loop needs (rte_eal_remote_launch takes a void*)
    Runtime* rt;
    std::uint16_t index;
    const Hooks* hooks;
    time::Duration drain;
  };
  int loop(std::uint16_t index, const Hooks& hooks, time::Duration drain) noexcept;
  static int worker_main(void* arg);
  void print_engine(std::uint16_t index) const;

  int argc_ = 0;
  char** argv_ = nullptr;
  std::uint16_t port_ = 0;
  bool port_started_ = false;
  rte_mempool* pool_ = nullptr;
  rte_mempool* clone_pool_ = nullptr;
  std::unique_ptr<time::Clock> clock_;
  std::unique_ptr<engine::CoreMesh> mesh_;  ///< the rings, with several engines
  std::vector<std::unique_ptr<engine::Engine>> engines_;
  std::vector<unsigned> lcores_;  ///< lcore of each engine
  std::vector<Launch> launches_;
  CommonOptions common_{};
  std::atomic<bool> quit_{false};          ///< done() said so: every loop ends
  std::atomic<std::uint16_t> drained_{0};  ///< engines whose connections have closed
};

}  // namespace sluice::api
