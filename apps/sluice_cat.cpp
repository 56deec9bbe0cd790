// sluice-cat: netcat on the sluice stack. Standard input goes to the connection, the
// connection to standard output. At end of input the write side is shut down (FIN) and
// reading goes on until the peer closes. Exit status: 0 on a clean close, 1 with a
// message on a refused, reset or timed-out connection, 2 on bad usage.
//
// One connection, on one engine. With several lcores (EAL -l), --engine N says which
// engine makes the active open (its source port is chosen so the replies are steered to
// that engine); with --listen every engine listens and the first connection accepted
// anywhere is the one. The Cat is only touched by the engine that owns the connection;
// what the others look at (claimed, finished) is atomic.
//
// Usage: sluice-cat [EAL options] -- --addr A.B.C.D/LEN (--connect HOST:PORT | --listen PORT)
//                                     [--gateway G] [--syn-retries N] [--engine N] [--stats]
//                                     [--mtu BYTES] [--buffer BYTES]
#include <fcntl.h>
#include <getopt.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "api/runtime.hpp"

namespace {

using namespace sluice;
using tcp::CloseReason;
using tcp::Tcb;

class Cat final : public tcp::TcpHandler, public tcp::ListenHandler {
 public:
  void on_acceptable(tcp::Listener& l) noexcept override {
    Tcb* t = l.accept();
    if (t == nullptr) return;
    if (claimed_.exchange(true, std::memory_order_acq_rel)) {  // one connection, like nc
      t->abort();
      return;
    }
    conn_ = t;
    t->set_handler(this);
    owner_.store(static_cast<int>(engine_of_listener(l)), std::memory_order_release);
  }
  void on_connected(Tcb&) noexcept override {}
  void on_data(Tcb& t) noexcept override {
    std::uint8_t buf[16384];
    while (t.readable() > 0) {
      const std::uint32_t n = t.read(buf);
      if (std::fwrite(buf, 1, n, stdout) != n) {
        std::fprintf(stderr, "sluice-cat: writing standard output: %s\n", std::strerror(errno));
        t.abort();
        return;
      }
    }
  }
  void on_writable(Tcb& t) noexcept override { pump(t); }
  void on_peer_closed(Tcb& t) noexcept override {
    std::fflush(stdout);
    peer_closed_ = true;
    if (stdin_eof_) t.close();
  }
  void on_closed(Tcb&, CloseReason r) noexcept override {
    std::fflush(stdout);
    conn_ = nullptr;
    reason_ = r;
    finished_.store(true, std::memory_order_release);
  }

  // Moves standard input into the connection while it takes data; at EOF, half-closes.
  void pump(Tcb& t) noexcept {
    if (stdin_eof_) return;
    for (;;) {
      if (pos_ == pending_.size()) {
        pending_.resize(65536);
        const ssize_t n = ::read(STDIN_FILENO, pending_.data(), pending_.size());
        if (n == 0) {
          stdin_eof_ = true;
          pending_.clear();
          pos_ = 0;
          if (peer_closed_) {
            t.close();
          } else {
            t.shutdown();  // FIN: no more from us, keep reading
          }
          return;
        }
        if (n < 0) {
          pending_.clear();
          pos_ = 0;
          if (errno == EAGAIN || errno == EINTR) return;
          std::fprintf(stderr, "sluice-cat: reading standard input: %s\n", std::strerror(errno));
          t.abort();
          return;
        }
        pending_.resize(static_cast<std::size_t>(n));
        pos_ = 0;
      }
      const std::uint32_t sent =
          t.send(std::span<const std::uint8_t>(pending_.data() + pos_, pending_.size() - pos_));
      pos_ += sent;
      if (pos_ < pending_.size()) return;  // send buffer full: on_writable resumes
    }
  }

  Tcb* conn_ = nullptr;  ///< only the owner engine touches it
  std::atomic<bool> claimed_{false};
  std::atomic<int> owner_{-1};  ///< engine of the connection, once there is one
  std::atomic<bool> finished_{false};
  CloseReason reason_ = CloseReason::Normal;  ///< written before finished_ is set
  std::vector<tcp::Listener*> listeners;      ///< per engine (--listen)

  std::size_t engine_of_listener(const tcp::Listener& l) const noexcept {
    for (std::size_t i = 0; i < listeners.size(); ++i) {
      if (listeners[i] == &l) return i;
    }
    return 0;
  }

 private:
  std::vector<std::uint8_t> pending_;
  std::size_t pos_ = 0;
  bool stdin_eof_ = false;
  bool peer_closed_ = false;
};

void usage(const char* prog) {
  std::printf(
      "Usage: %s [EAL options] -- --addr A.B.C.D/LEN (--connect HOST:PORT | --listen PORT)\n"
      "                          [--gateway G] [--syn-retries N] [--engine N] [--stats] [--mtu "
      "BYTES]\n"
      "                          [--buffer BYTES]\n\n"
      "netcat on sluice: standard input to the connection, the connection to standard output;\n"
      "at end of input, shut the write side down and read until the peer closes.\n"
      "Exit 1 with a message on a refused, reset or timed-out connection.\n"
      "--engine N: with several lcores, the engine (0 = main lcore) that makes the active open.\n",
      prog);
}

}  // namespace

int main(int argc, char** argv) {
  auto rt = api::Runtime::start(argc, argv, "sluice-cat");
  if (!rt) return 2;
  api::CommonOptions common;
  tcp::TcpConfig tcfg;
  std::string connect_to;
  unsigned long listen_port = 0;
  unsigned long engine_index = 0;
  static const option kLong[] = {{"addr", required_argument, nullptr, api::kOptAddr},
                                 {"gateway", required_argument, nullptr, api::kOptGateway},
                                 {"connect", required_argument, nullptr, 'c'},
                                 {"listen", required_argument, nullptr, 'l'},
                                 {"syn-retries", required_argument, nullptr, 'r'},
                                 {"engine", required_argument, nullptr, 'e'},
                                 {"stats", no_argument, nullptr, api::kOptStats},
                                 {"mtu", required_argument, nullptr, api::kOptMtu},
                                 {"buffer", required_argument, nullptr, api::kOptBuffer},
                                 {"help", no_argument, nullptr, 'h'},
                                 {nullptr, 0, nullptr, 0}};
  optind = 1;
  for (int c; (c = getopt_long(rt->argc(), rt->argv(), "", kLong, nullptr)) != -1;) {
    char* end = nullptr;
    switch (c) {
      case api::kOptAddr:
      case api::kOptGateway:
      case api::kOptStats:
      case api::kOptMtu:
      case api::kOptBuffer:
        if (!api::parse_common_flag(c, optarg, common, "sluice-cat")) return 2;
        break;
      case 'c': connect_to = optarg; break;
      case 'l':
        listen_port = std::strtoul(optarg, &end, 10);
        if (*end != '\0' || listen_port == 0 || listen_port > 65535) {
          std::fprintf(stderr, "sluice-cat: --listen wants a port 1..65535, got '%s'\n", optarg);
          return 2;
        }
        break;
      case 'r': {
        const unsigned long v = std::strtoul(optarg, &end, 10);
        if (*end != '\0' || v > 20) {
          std::fprintf(stderr, "sluice-cat: --syn-retries wants 0..20, got '%s'\n", optarg);
          return 2;
        }
        tcfg.syn_retries = static_cast<std::uint8_t>(v);
        break;
      }
      case 'e':
        engine_index = std::strtoul(optarg, &end, 10);
        if (*end != '\0' || engine_index > 65535) {
          std::fprintf(stderr, "sluice-cat: --engine wants an engine number, got '%s'\n", optarg);
          return 2;
        }
        break;
      case 'h': usage("sluice-cat"); return 0;
      default: usage("sluice-cat"); return 2;
    }
  }
  if (connect_to.empty() == (listen_port == 0)) {
    std::fprintf(stderr, "sluice-cat: give exactly one of --connect HOST:PORT and --listen PORT\n");
    return 2;
  }
  wire::Ipv4Addr peer{};
  unsigned long peer_port = 0;
  if (!connect_to.empty()) {
    const auto colon = connect_to.rfind(':');
    auto ip = wire::Ipv4Addr::parse(std::string_view(connect_to).substr(0, colon));
    char* end = nullptr;
    if (colon != std::string::npos)
      peer_port = std::strtoul(connect_to.c_str() + colon + 1, &end, 10);
    if (!ip || colon == std::string::npos || *end != '\0' || peer_port == 0 || peer_port > 65535) {
      std::fprintf(stderr, "sluice-cat: --connect wants A.B.C.D:PORT, got '%s'\n",
                   connect_to.c_str());
      return 2;
    }
    peer = *ip;
  }
  if (!rt->configure(common, tcfg).ok()) return 2;
  ::fcntl(STDIN_FILENO, F_SETFL, ::fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);

  if (engine_index >= rt->engine_count()) {
    std::fprintf(stderr, "sluice-cat: --engine %lu, but there are %u engines (one per lcore)\n",
                 engine_index, rt->engine_count());
    return 2;
  }

  Cat cat;
  if (listen_port != 0) {
    cat.listeners.assign(rt->engine_count(), nullptr);
    auto r = rt->setup([&](engine::Engine& e) -> Result<void, Errc> {
      auto l = e.tcp().listen(wire::Ipv4Addr{}, static_cast<std::uint16_t>(listen_port), 1, &cat);
      if (!l.ok()) return Err{l.error()};
      cat.listeners[e.index()] = *l;
      return {};
    });
    if (!r.ok()) {
      std::fprintf(stderr, "sluice-cat: listen: %s\n", std::string(to_string(r.error())).c_str());
      return 2;
    }
  } else {
    auto t = rt->engine(static_cast<std::uint16_t>(engine_index))
                 .connect(peer, static_cast<std::uint16_t>(peer_port), &cat);
    if (!t.ok()) {
      std::fprintf(stderr, "sluice-cat: connect: %s\n", std::string(to_string(t.error())).c_str());
      return 1;
    }
    cat.conn_ = *t;
    cat.claimed_ = true;
    cat.owner_ = static_cast<int>(engine_index);
  }
  api::Runtime::Hooks hooks;
  hooks.done = [&](engine::Engine& e) {
    // Standard input is pumped by the engine that owns the connection, on its lcore.
    if (cat.owner_.load(std::memory_order_acquire) == static_cast<int>(e.index()) &&
        cat.conn_ != nullptr && cat.conn_->state() != tcp::TcpState::SynSent &&
        cat.conn_->state() != tcp::TcpState::SynReceived) {
      cat.pump(*cat.conn_);
    }
    return cat.finished_.load(std::memory_order_acquire);
  };
  hooks.on_stop = [&](engine::Engine& e) {
    if (!cat.listeners.empty() && cat.listeners[e.index()] != nullptr) {
      e.tcp().close_listener(cat.listeners[e.index()]);
      cat.listeners[e.index()] = nullptr;
    }
    if (cat.owner_.load(std::memory_order_acquire) == static_cast<int>(e.index()) &&
        cat.conn_ != nullptr) {
      cat.conn_->close();
    }
  };
  rt->run(hooks);
  if (common.stats) rt->print_counters();
  switch (cat.reason_) {
    case CloseReason::Normal: return 0;
    case CloseReason::Refused:
      std::fprintf(stderr, "sluice-cat: %s: connection refused\n", connect_to.c_str());
      return 1;
    case CloseReason::Reset:
      std::fprintf(stderr, "sluice-cat: connection reset by peer\n");
      return 1;
    case CloseReason::TimedOut:
      std::fprintf(stderr, "sluice-cat: %s: connection timed out\n", connect_to.c_str());
      return 1;
    default:
      std::fprintf(stderr, "sluice-cat: connection %s\n",
                   std::string(to_string(cat.reason_)).c_str());
      return 1;
  }
}
