// sluice-inetd: the classic small TCP services on the sluice stack.
//   echo (7, RFC 862)      echoes everything; when the peer half-closes, finishes echoing
//                          and closes.
//   discard (9, RFC 863)   reads and drops; never closes first.
//   daytime (13, RFC 867)  sends one line with the date and time, then closes first.
//   chargen (19, RFC 864)  sends a continuous stream of 72-character lines until the
//                          peer closes.
//
// One engine per lcore (EAL -l): every engine listens on the four ports. Handlers keep
// only per-connection state, so one stateless Acceptor serves every engine.
//
// Usage: sluice-inetd [EAL options] -- --addr A.B.C.D/LEN [--gateway G] [--stats] [--mtu BYTES]
//                     [--buffer BYTES]
#include <getopt.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "api/runtime.hpp"

namespace {

using namespace sluice;
using tcp::CloseReason;
using tcp::Tcb;

// Each connection's handler is owned by the connection: deleted in on_closed.
class Service : public tcp::TcpHandler {
 public:
  void on_closed(Tcb&, CloseReason) noexcept override { delete this; }
};

class Echo final : public Service {
 public:
  void on_data(Tcb& t) noexcept override {
    std::uint8_t buf[16384];
    while (t.readable() > 0 && pending_.size() < (1u << 20)) {
      const std::uint32_t n = t.read(buf);
      pending_.insert(pending_.end(), buf, buf + n);
    }
    flush(t);
  }
  void on_writable(Tcb& t) noexcept override {
    flush(t);
    if (t.readable() > 0) on_data(t);
  }
  void on_peer_closed(Tcb& t) noexcept override {
    peer_done_ = true;
    flush(t);
  }

 private:
  void flush(Tcb& t) noexcept {
    if (!pending_.empty()) {
      const std::uint32_t n = t.send(pending_);
      pending_.erase(pending_.begin(), pending_.begin() + n);
    }
    if (pending_.empty() && peer_done_ && t.readable() == 0) t.close();
  }
  std::vector<std::uint8_t> pending_;
  bool peer_done_ = false;
};

class Discard final : public Service {
 public:
  void on_data(Tcb& t) noexcept override { t.consume(t.readable()); }
  void on_peer_closed(Tcb& t) noexcept override { t.close(); }
};

class Daytime final : public Service {
 public:
  void start(Tcb& t) noexcept {
    char line[128];
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    const std::size_t n = std::strftime(line, sizeof line, "%A, %B %d, %Y %H:%M:%S-UTC\r\n", &tm);
    t.send(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(line), n));
    t.close();  // daytime closes first
  }
  void on_data(Tcb& t) noexcept override { t.consume(t.readable()); }
};

class Chargen final : public Service {
 public:
  void start(Tcb& t) noexcept { fill(t); }
  void on_writable(Tcb& t) noexcept override { fill(t); }
  void on_data(Tcb& t) noexcept override { t.consume(t.readable()); }
  void on_peer_closed(Tcb& t) noexcept override { t.close(); }

 private:
  // Writes until a send is short (which arms on_writable), so the stream never stalls and
  // never skips: a partly sent chunk is finished first.
  void fill(Tcb& t) noexcept {
    for (;;) {
      if (pos_ == kChunk) next_chunk();
      const std::uint32_t n = t.send(std::span<const std::uint8_t>(buf_ + pos_, kChunk - pos_));
      pos_ += n;
      if (pos_ < kChunk) return;
    }
  }
  // RFC 864: lines of 72 printable characters, each starting one character later.
  void next_chunk() noexcept {
    for (std::size_t l = 0; l < kLines; ++l) {
      for (std::size_t i = 0; i < 72; ++i) {
        buf_[l * 74 + i] = static_cast<std::uint8_t>(' ' + (line_ + i) % 95);
      }
      buf_[l * 74 + 72] = '\r';
      buf_[l * 74 + 73] = '\n';
      line_ = (line_ + 1) % 95;
    }
    pos_ = 0;
  }
  static constexpr std::size_t kLines = 64;
  static constexpr std::size_t kChunk = 74 * kLines;
  std::uint8_t buf_[kChunk];
  std::size_t pos_ = kChunk;
  std::size_t line_ = 0;
};

class Acceptor final : public tcp::ListenHandler {
 public:
  void on_acceptable(tcp::Listener& l) noexcept override {
    while (Tcb* t = l.accept()) {
      switch (l.port()) {
        case 7: t->set_handler(new Echo); break;
        case 9: t->set_handler(new Discard); break;
        case 13: {
          auto* d = new Daytime;
          t->set_handler(d);
          d->start(*t);
          break;
        }
        case 19: {
          auto* c = new Chargen;
          t->set_handler(c);
          c->start(*t);
          break;
        }
        default: t->abort(); break;
      }
    }
  }
};

void usage(const char* prog) {
  std::printf(
      "Usage: %s [EAL options] -- --addr A.B.C.D/LEN [--gateway G] [--stats] [--mtu BYTES]\n"
      "                    [--buffer BYTES]\n"
      "\n"
      "Serves echo (7), discard (9), daytime (13) and chargen (19) over TCP on sluice.\n"
      "EAL options without a NIC, e.g.: --no-huge -m 512 --no-pci -l 0\n"
      "  --vdev=net_af_packet0,iface=veth0   (a Linux interface, no IP address on it)\n"
      "\n"
      "  --addr A.B.C.D/LEN   our IPv4 address and on-link prefix (required)\n"
      "  --gateway G          next hop for other destinations\n"
      "  --stats              counters on stderr every second\n"
      "  --buffer BYTES       fixes each connection's send and receive buffer at this\n"
      "                       size, 16384..67108864 (default: 262144, growing with\n"
      "                       the path's bandwidth-delay product up to 4194304)\n",
      prog);
}

}  // namespace

int main(int argc, char** argv) {
  auto rt = api::Runtime::start(argc, argv, "sluice-inetd");
  if (!rt) return 2;
  api::CommonOptions common;
  static const option kLong[] = {{"addr", required_argument, nullptr, api::kOptAddr},
                                 {"gateway", required_argument, nullptr, api::kOptGateway},
                                 {"stats", no_argument, nullptr, api::kOptStats},
                                 {"mtu", required_argument, nullptr, api::kOptMtu},
                                 {"buffer", required_argument, nullptr, api::kOptBuffer},
                                 {"help", no_argument, nullptr, 'h'},
                                 {nullptr, 0, nullptr, 0}};
  optind = 1;
  for (int c; (c = getopt_long(rt->argc(), rt->argv(), "", kLong, nullptr)) != -1;) {
    switch (c) {
      case api::kOptAddr:
      case api::kOptGateway:
      case api::kOptStats:
      case api::kOptMtu:
      case api::kOptBuffer:
        if (!api::parse_common_flag(c, optarg, common, "sluice-inetd")) return 2;
        break;
      case 'h': usage("sluice-inetd"); return 0;
      default: usage("sluice-inetd"); return 2;
    }
  }
  if (!rt->configure(common).ok()) return 2;

  Acceptor acceptor;
  std::vector<std::vector<tcp::Listener*>> listeners(rt->engine_count());
  auto setup = rt->setup([&](engine::Engine& e) -> Result<void, Errc> {
    for (const std::uint16_t port : std::initializer_list<std::uint16_t>{7, 9, 13, 19}) {
      auto l = e.tcp().listen(wire::Ipv4Addr{}, port, 128, &acceptor);
      if (!l.ok()) {
        std::fprintf(stderr, "sluice-inetd: listen on %u: %s\n", port,
                     std::string(to_string(l.error())).c_str());
        return Err{l.error()};
      }
      listeners[e.index()].push_back(*l);
    }
    return {};
  });
  if (!setup.ok()) return 2;
  std::fprintf(stderr, "sluice-inetd: serving echo 7, discard 9, daytime 13, chargen 19\n");
  api::Runtime::Hooks hooks;
  hooks.on_stop = [&](engine::Engine& e) {
    for (auto* l : listeners[e.index()]) e.tcp().close_listener(l);
    listeners[e.index()].clear();
    // Graceful close of every open connection: FIN after what is queued.
    e.tcp().for_each_connection([](Tcb& t) { t.close(); });
  };
  const int rc = rt->run(hooks);
  rt->print_counters();
  return rc;
}
