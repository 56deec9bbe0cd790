// sluice-httpd: a minimal HTTP/1.1 server on sluice, for curl and wrk.
//
// GET /        → a body of --body-size bytes
// GET /N       → a body of N bytes (N decimal, up to 2^40)
// HEAD         → the same headers, no body; other methods → 501.
// Persistent connections by default (RFC 9112 §9.3), "Connection: close" honoured, and
// HTTP/1.0 closes unless it asks for keep-alive; pipelined requests are answered in order.
// Bodies are a fixed pseudo-random stream (see body_byte) so a client can check a download
// byte for byte; they are generated as they are sent, never held whole.
//
// One engine per lcore (EAL -l): every engine listens on the port and serves the
// connections steered to it; the request counts are per engine, summed at the end.
//
// Usage: sluice-httpd [EAL options] -- --addr A.B.C.D/LEN [--port 80] [--body-size N]
//                                      [--gateway G] [--stats] [--mtu BYTES] [--buffer BYTES]
#include <getopt.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "api/runtime.hpp"

namespace {

using namespace sluice;
using tcp::Tcb;

/// The body stream: a 65521-byte block (prime, so it never lines up with segment sizes)
/// of xorshift32 output, repeated. tests/interop/http_client.py makes the same bytes.
constexpr std::size_t kBlock = 65521;
const std::array<std::uint8_t, kBlock>& body_block() {
  static const auto block = [] {
    std::array<std::uint8_t, kBlock> b{};
    std::uint32_t x = 2463534242u;
    for (auto& v : b) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      v = static_cast<std::uint8_t>(x);
    }
    return b;
  }();
  return block;
}

std::uint64_t g_default_body = 1024;  // set before the engines start, then only read

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

class HttpConnection final : public tcp::TcpHandler {
 public:
  /// requests: the counter of the engine this connection lives on.
  explicit HttpConnection(std::uint64_t& requests) noexcept : requests_(requests) {}
  void on_data(Tcb& t) noexcept override {
    char buf[8192];
    while (t.readable() > 0 && in_.size() < kMaxRequest) {
      const std::uint32_t n =
          t.read(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(buf), sizeof buf));
      in_.append(buf, n);
    }
    pump(t);
  }
  void on_writable(Tcb& t) noexcept override { pump(t); }
  void on_peer_closed(Tcb& t) noexcept override {
    peer_done_ = true;
    pump(t);
  }
  void on_closed(Tcb&, tcp::CloseReason) noexcept override { delete this; }

 private:
  static constexpr std::size_t kMaxRequest = 64 * 1024;
  static constexpr std::uint64_t kInlineBody = 8192;

  // Sends what is pending, then starts the next pipelined request, until a send is short.
  void pump(Tcb& t) noexcept {
    for (;;) {
      if (!head_.empty()) {
        const std::uint32_t n = t.send(std::span<const std::uint8_t>(
            reinterpret_cast<const std::uint8_t*>(head_.data()) + head_pos_,
            head_.size() - head_pos_));
        head_pos_ += n;
        if (head_pos_ < head_.size()) return;  // on_writable continues
        head_.clear();
        head_pos_ = 0;
      }
      while (body_left_ > 0) {
        const auto& block = body_block();
        const std::size_t off = static_cast<std::size_t>(body_pos_ % kBlock);
        const std::size_t len =
            static_cast<std::size_t>(std::min<std::uint64_t>(body_left_, kBlock - off));
        const std::uint32_t n = t.send(std::span<const std::uint8_t>(block.data() + off, len));
        body_pos_ += n;
        body_left_ -= n;
        if (n < len) return;
      }
      if (close_after_) {
        t.close();
        return;
      }
      if (!next_request(t)) {
        if (peer_done_ && in_.empty()) t.close();
        return;
      }
    }
  }

  // Parses one complete request from in_ and queues its response. False if none is complete.
  bool next_request(Tcb& t) noexcept {
    const std::size_t end = in_.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (in_.size() >= kMaxRequest) respond(t, 431, "Request Header Fields Too Large", 0, true);
      return in_.size() >= kMaxRequest;
    }
    const std::string_view req(in_.data(), end);
    const std::size_t line_end = req.find("\r\n");
    const std::string_view line = req.substr(0, line_end);
    const std::size_t sp1 = line.find(' ');
    const std::size_t sp2 = line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1) {
      respond(t, 400, "Bad Request", 0, true);
      in_.clear();
      return true;
    }
    const std::string_view method = line.substr(0, sp1);
    const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = line.substr(sp2 + 1);
    bool keep_alive = version == "HTTP/1.1";
    std::size_t pos = line_end == std::string_view::npos ? req.size() : line_end + 2;
    while (pos < req.size()) {
      std::size_t e = req.find("\r\n", pos);
      if (e == std::string_view::npos) e = req.size();
      const std::string_view h = req.substr(pos, e - pos);
      const std::size_t colon = h.find(':');
      if (colon != std::string_view::npos && iequals(h.substr(0, colon), "connection")) {
        std::string_view v = h.substr(colon + 1);
        while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
        if (iequals(v, "close")) keep_alive = false;
        if (iequals(v, "keep-alive")) keep_alive = true;
      }
      pos = e + 2;
    }
    // The views above point into in_: keep what is still needed before dropping the request.
    const bool is_get = method == "GET";
    const bool is_head = method == "HEAD";
    const std::string path(target);
    in_.erase(0, end + 4);
    ++requests_;
    if (!is_get && !is_head) {
      respond(t, 501, "Not Implemented", 0, !keep_alive);
      return true;
    }
    std::uint64_t size = g_default_body;
    if (path.size() > 1) {
      char* e = nullptr;
      const std::string num = path.substr(1);
      size = std::strtoull(num.c_str(), &e, 10);
      if (*e != '\0' || size > (std::uint64_t{1} << 40)) {
        respond(t, 404, "Not Found", 0, !keep_alive);
        return true;
      }
    }
    respond(t, 200, "OK", size, !keep_alive);
    if (is_head) body_left_ = 0;
    return true;
  }

  void respond(Tcb&, int code, const char* reason, std::uint64_t size, bool close) noexcept {
    char head[256];
    const int n = std::snprintf(head, sizeof head,
                                "HTTP/1.1 %d %s\r\nServer: sluice-httpd\r\nContent-Type: "
                                "application/octet-stream\r\nContent-Length: %llu\r\n%s\r\n",
                                code, reason, static_cast<unsigned long long>(size),
                                close ? "Connection: close\r\n" : "");
    head_.assign(head, static_cast<std::size_t>(n));
    head_pos_ = 0;
    body_left_ = size;
    body_pos_ = 0;
    close_after_ = close;
    // A small body travels with its headers: one send, one segment.
    if (size <= kInlineBody) {
      head_.append(reinterpret_cast<const char*>(body_block().data()),
                   static_cast<std::size_t>(size));
      body_left_ = 0;
    }
  }

  std::uint64_t& requests_;
  std::string in_;
  std::string head_;
  std::size_t head_pos_ = 0;
  std::uint64_t body_left_ = 0;
  std::uint64_t body_pos_ = 0;
  bool close_after_ = false;
  bool peer_done_ = false;
};

// One per engine: its listener and what its connections count.
class Acceptor final : public tcp::ListenHandler {
 public:
  void on_acceptable(tcp::Listener& l) noexcept override {
    while (Tcb* t = l.accept()) {
      t->set_no_delay(true);  // responses are written whole: no reason to wait for ACKs
      t->set_handler(new HttpConnection(requests));
    }
  }
  tcp::Listener* listener = nullptr;
  std::uint64_t requests = 0;
};

void usage(const char* prog) {
  std::printf(
      "Usage: %s [EAL options] -- --addr A.B.C.D/LEN [--port 80] [--body-size N] [--gateway G] "
      "[--stats] [--mtu BYTES] [--buffer BYTES]\n\n"
      "A minimal HTTP/1.1 server on sluice: GET / returns --body-size bytes (default 1024),\n"
      "GET /N returns N bytes. Keep-alive by default; 'Connection: close' honoured.\n"
      "EAL options without a NIC, e.g.: --no-huge -m 512 --no-pci -l 0 "
      "--vdev=net_af_packet0,iface=veth0\n",
      prog);
}

}  // namespace

int main(int argc, char** argv) {
  auto rt = api::Runtime::start(argc, argv, "sluice-httpd");
  if (!rt) return 2;
  api::CommonOptions common;
  unsigned long port = 80;
  static const option kLong[] = {{"addr", required_argument, nullptr, api::kOptAddr},
                                 {"gateway", required_argument, nullptr, api::kOptGateway},
                                 {"port", required_argument, nullptr, 'p'},
                                 {"body-size", required_argument, nullptr, 'b'},
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
        if (!api::parse_common_flag(c, optarg, common, "sluice-httpd")) return 2;
        break;
      case 'p':
        port = std::strtoul(optarg, &end, 10);
        if (*end != '\0' || port == 0 || port > 65535) {
          std::fprintf(stderr, "sluice-httpd: --port wants 1..65535, got '%s'\n", optarg);
          return 2;
        }
        break;
      case 'b':
        g_default_body = std::strtoull(optarg, &end, 10);
        if (*end != '\0') {
          std::fprintf(stderr, "sluice-httpd: --body-size wants a number, got '%s'\n", optarg);
          return 2;
        }
        break;
      case 'h': usage("sluice-httpd"); return 0;
      default: usage("sluice-httpd"); return 2;
    }
  }
  if (!rt->configure(common).ok()) return 2;
  std::vector<Acceptor> acceptors(rt->engine_count());
  auto setup = rt->setup([&](engine::Engine& e) -> Result<void, Errc> {
    Acceptor& a = acceptors[e.index()];
    auto l = e.tcp().listen(wire::Ipv4Addr{}, static_cast<std::uint16_t>(port), 1024, &a);
    if (!l.ok()) return Err{l.error()};
    a.listener = *l;
    return {};
  });
  if (!setup.ok()) {
    std::fprintf(stderr, "sluice-httpd: listen on %lu: %s\n", port,
                 std::string(to_string(setup.error())).c_str());
    return 2;
  }
  std::fprintf(stderr, "sluice-httpd: listening on port %lu\n", port);
  api::Runtime::Hooks hooks;
  hooks.on_stop = [&](engine::Engine& e) {
    Acceptor& a = acceptors[e.index()];
    if (a.listener != nullptr) e.tcp().close_listener(a.listener);
    a.listener = nullptr;
    e.tcp().for_each_connection([](Tcb& t) { t.close(); });
  };
  const int rc = rt->run(hooks);
  rt->print_counters();
  std::uint64_t requests = 0;
  for (const Acceptor& a : acceptors) requests += a.requests;
  std::fprintf(stderr, "sluice-httpd: %llu requests", static_cast<unsigned long long>(requests));
  if (acceptors.size() > 1) {
    for (std::size_t i = 0; i < acceptors.size(); ++i) {
      std::fprintf(stderr, "%sengine %zu: %llu", i == 0 ? " (" : ", ", i,
                   static_cast<unsigned long long>(acceptors[i].requests));
    }
    std::fprintf(stderr, ")");
  }
  std::fprintf(stderr, "\n");
  return rc;
}
