// sluice-smoke: a DPDK smoke run of sluice's own code, the main job until sluice-perf.
//
// Brings EAL up, starts a port (or a pair: TX on the first, RX on the second), builds
// Ethernet/IPv4/TCP, ARP and ICMP echo frames with lib/wire — one in eight deliberately
// malformed in a known way — sends them, parses every frame that comes back with
// lib/wire and checks it: the kind, the exact drop reason of each malformed frame, and
// every TCP payload byte. Prints counters; exits non-zero when anything does not add up.
//
// Usage: sluice-smoke [EAL options] -- [--packets N] [--payload BYTES] [--burst N]
//                                       [--stats] [--help]
#include <getopt.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>

#include "eal.hpp"
#include "port.hpp"
#include "wire/checksum.hpp"
#include "wire/frame.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace {

using namespace sluice;
using namespace sluice::wire;

std::atomic<bool> g_stop{false};

struct Options {
  std::uint64_t packets = 1'000'000;
  std::uint16_t payload = 512;
  std::uint16_t burst = 32;
  bool stats = false;
};

void usage(const char* prog) {
  std::printf(
      "Usage: %s [EAL options] -- [options]\n"
      "\n"
      "Sends frames built by sluice's lib/wire through a DPDK port and checks each one\n"
      "that comes back. With one port, the port must return what it sends (net_ring does);\n"
      "with two or more, frames go out of the first and are expected on the second.\n"
      "\n"
      "EAL options (DPDK's; the common ones without a NIC):\n"
      "  --no-huge -m 512      run without hugepages, 512 MB of ordinary memory\n"
      "  --no-pci              do not probe PCI devices\n"
      "  --vdev=net_ring0      a virtual port that loops TX back to RX\n"
      "  -l 0                  run on core 0\n"
      "\n"
      "Program options:\n"
      "  --packets N     frames to send (default 1000000)\n"
      "  --payload B     TCP payload bytes per data segment, 0..1460 (default 512)\n"
      "  --burst N       frames per rx/tx burst, 1..256 (default 32)\n"
      "  --stats         print a counter line every second\n"
      "  --help          this text\n",
      prog);
}

bool parse_options(int argc, char** argv, Options& o) {
  static const option kLong[] = {
      {"packets", required_argument, nullptr, 'n'}, {"payload", required_argument, nullptr, 'p'},
      {"burst", required_argument, nullptr, 'b'},   {"stats", no_argument, nullptr, 's'},
      {"help", no_argument, nullptr, 'h'},          {nullptr, 0, nullptr, 0},
  };
  optind = 1;
  for (;;) {
    const int c = getopt_long(argc, argv, "", kLong, nullptr);
    if (c == -1) break;
    char* end = nullptr;
    switch (c) {
      case 'n':
        o.packets = std::strtoull(optarg, &end, 10);
        if (*end != '\0' || o.packets == 0) {
          std::fprintf(stderr, "sluice-smoke: --packets wants a positive number, got '%s'\n",
                       optarg);
          return false;
        }
        break;
      case 'p': {
        const unsigned long v = std::strtoul(optarg, &end, 10);
        if (*end != '\0' || v > 1460) {
          std::fprintf(stderr, "sluice-smoke: --payload wants 0..1460, got '%s'\n", optarg);
          return false;
        }
        o.payload = static_cast<std::uint16_t>(v);
        break;
      }
      case 'b': {
        const unsigned long v = std::strtoul(optarg, &end, 10);
        if (*end != '\0' || v == 0 || v > 256) {
          std::fprintf(stderr, "sluice-smoke: --burst wants 1..256, got '%s'\n", optarg);
          return false;
        }
        o.burst = static_cast<std::uint16_t>(v);
        break;
      }
      case 's': o.stats = true; break;
      case 'h': usage(argv[0]); std::exit(0);
      default: usage(argv[0]); return false;
    }
  }
  if (optind < argc) {
    std::fprintf(stderr, "sluice-smoke: unexpected argument '%s'\n", argv[optind]);
    return false;
  }
  return true;
}

// What each frame is meant to be. Malformed frames rotate through the defects below,
// each of which lib/wire must report with exactly one named reason.
enum class Defect : std::uint8_t {
  None,
  TcpChecksum,            // a payload byte flipped after the checksum was computed
  Ipv4Checksum,           // TTL changed, header checksum left stale
  Ipv4LengthBeyondFrame,  // total length larger than the frame (checksum fixed)
  TcpOptionLength,        // MSS option with length 1 (TCP checksum fixed)
  TcpDataOffset,          // data offset 4 (checksum fixed)
  Runt,                   // 10 bytes: no Ethernet header
  Count,
};

constexpr ParseError expected_error(Defect d) {
  switch (d) {
    case Defect::TcpChecksum: return ParseError::TcpBadChecksum;
    case Defect::Ipv4Checksum: return ParseError::Ipv4BadChecksum;
    case Defect::Ipv4LengthBeyondFrame: return ParseError::Ipv4TotalLengthBeyondFrame;
    case Defect::TcpOptionLength: return ParseError::TcpOptionBadLength;
    case Defect::TcpDataOffset: return ParseError::TcpBadDataOffset;
    case Defect::Runt: return ParseError::FrameTooShort;
    default: return ParseError::Count;
  }
}

constexpr std::size_t kKinds = 6;  // FrameKind values counted below

struct Counters {
  std::uint64_t tx = 0;
  std::uint64_t tx_retry = 0;
  std::uint64_t rx = 0;
  std::uint64_t rx_bytes = 0;
  std::array<std::uint64_t, kKinds> kind{};
  std::array<std::uint64_t, kParseErrorCount> error{};
  std::uint64_t payload_mismatch = 0;
  std::uint64_t unexpected = 0;  // parsed fine but not what was sent
};

const Ipv4Addr kSrc{0xC6120001};  // 198.18.0.1
const Ipv4Addr kDst{0xC6120002};  // 198.18.0.2

std::uint8_t pattern(std::uint32_t seq, std::size_t i) {
  return static_cast<std::uint8_t>((seq + static_cast<std::uint32_t>(i)) * 2654435761u >> 24);
}

// Recomputes the TCP checksum of a frame whose IPv4 header starts at byte 14.
void fix_tcp_checksum(std::uint8_t* f, std::size_t len) {
  const std::size_t ihl = (f[14] & 0x0f) * 4u;
  std::span<std::uint8_t> seg(f + 14 + ihl, len - 14 - ihl);
  seg[16] = seg[17] = 0;
  const std::uint16_t c = tcp_checksum(kSrc, kDst, seg);
  seg[16] = static_cast<std::uint8_t>(c >> 8);
  seg[17] = static_cast<std::uint8_t>(c);
}

void fix_ipv4_checksum(std::uint8_t* f) {
  const std::size_t ihl = (f[14] & 0x0f) * 4u;
  f[24] = f[25] = 0;
  const std::uint16_t c = checksum_fold(checksum_partial({f + 14, ihl}));
  f[24] = static_cast<std::uint8_t>(c >> 8);
  f[25] = static_cast<std::uint8_t>(c);
}

class FrameFactory {
 public:
  FrameFactory(std::array<std::uint8_t, 6> src_mac, std::uint16_t payload) : payload_len_(payload) {
    eth_.src.bytes = src_mac;
    eth_.dst.bytes = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
    for (std::size_t i = 0; i < payload_.size(); ++i) payload_[i] = 0;
  }

  // Writes frame number i into m; returns what lib/wire should make of it.
  struct Expect {
    FrameKind kind;
    Defect defect;
  };
  Expect make(std::uint64_t i, rte_mbuf* m) {
    std::uint8_t* out = rte_pktmbuf_mtod(m, std::uint8_t*);
    const std::span<std::uint8_t> room(out, rte_pktmbuf_tailroom(m));
    std::size_t len = 0;
    Expect e{FrameKind::Ipv4Tcp, Defect::None};
    const std::uint32_t seq = static_cast<std::uint32_t>(i * 1000003u);
    switch (i % 8) {
      case 4: len = syn(room, seq); break;
      case 5:
        len = arp(room, i);
        e.kind = FrameKind::Arp;
        break;
      case 6:
        len = icmp(room, i);
        e.kind = FrameKind::Ipv4Icmp;
        break;
      case 7:
        e.defect = static_cast<Defect>(1 + (i / 8) % (static_cast<unsigned>(Defect::Count) - 1));
        len = broken(room, seq, e.defect);
        break;
      default: len = data(room, seq); break;
    }
    m->data_len = static_cast<std::uint16_t>(len);
    m->pkt_len = static_cast<std::uint32_t>(len);
    return e;
  }

 private:
  Ipv4Header ip(std::uint8_t proto) const {
    Ipv4Header h{};
    h.ttl = 64;
    h.protocol = proto;
    h.df = true;
    h.src = kSrc;
    h.dst = kDst;
    return h;
  }
  TcpHeader tcp(std::uint32_t seq, std::uint8_t flags) const {
    TcpHeader t{};
    t.src_port = 40000;
    t.dst_port = 80;
    t.seq = Seq{seq};
    t.ack = Seq{seq ^ 0x5a5a5a5au};
    t.flags = flags;
    t.window = 65535;
    return t;
  }
  std::size_t data(std::span<std::uint8_t> room, std::uint32_t seq) {
    for (std::size_t j = 0; j < payload_len_; ++j) payload_[j] = pattern(seq, j);
    return build_tcp_frame(room, eth_, ip(6), tcp(seq, TcpFlag::Ack | TcpFlag::Psh),
                           std::span<const std::uint8_t>(payload_.data(), payload_len_));
  }
  std::size_t syn(std::span<std::uint8_t> room, std::uint32_t seq) {
    TcpHeader t = tcp(seq, TcpFlag::Syn);
    t.options.mss = 1460;
    t.options.window_scale = 7;
    t.options.sack_permitted = true;
    t.options.timestamps = TcpTimestamps{seq, 0};
    return build_tcp_frame(room, eth_, ip(6), t, {});
  }
  std::size_t arp(std::span<std::uint8_t> room, std::uint64_t i) {
    ArpPacket a{};
    a.op = ArpPacket::kOpRequest;
    a.sha = eth_.src;
    a.spa = kSrc;
    a.tpa = Ipv4Addr{kDst.value + static_cast<std::uint32_t>(i % 200)};
    EthernetHeader e = eth_;
    e.dst = MacAddr::kBroadcast;
    return build_arp_frame(room, e, a);
  }
  std::size_t icmp(std::span<std::uint8_t> room, std::uint64_t i) {
    IcmpEcho echo{};
    echo.type = IcmpType::EchoRequest;
    echo.id = 0x5c;
    echo.seq = static_cast<std::uint16_t>(i);
    echo.payload = std::span<const std::uint8_t>(payload_.data(), 56);
    return build_icmp_echo_frame(room, eth_, ip(1), echo);
  }
  std::size_t broken(std::span<std::uint8_t> room, std::uint32_t seq, Defect d) {
    std::uint8_t* f = room.data();
    std::size_t len = 0;
    switch (d) {
      case Defect::TcpChecksum:
        len = data(room, seq);
        f[len - 1] ^= 0x01;  // payload_len_ may be 0: then this flips the TCP urgent pointer
        break;
      case Defect::Ipv4Checksum:
        len = data(room, seq);
        f[22] ^= 0x10;  // TTL
        break;
      case Defect::Ipv4LengthBeyondFrame: {
        len = data(room, seq);
        const std::uint16_t total = static_cast<std::uint16_t>(len - 14 + 8);
        f[16] = static_cast<std::uint8_t>(total >> 8);
        f[17] = static_cast<std::uint8_t>(total);
        fix_ipv4_checksum(f);
        break;
      }
      case Defect::TcpOptionLength:
        len = syn(room, seq);
        f[14 + 20 + 20 + 1] = 1;  // the first option is MSS: its length byte
        fix_tcp_checksum(f, len);
        break;
      case Defect::TcpDataOffset:
        len = data(room, seq);
        f[14 + 20 + 12] = 0x40;  // data offset 4 words
        fix_tcp_checksum(f, len);
        break;
      case Defect::Runt:
        len = 10;
        std::memset(f, 0xee, len);
        break;
      default: break;
    }
    return len;
  }

  EthernetHeader eth_{};
  std::uint16_t payload_len_;
  std::array<std::uint8_t, 1460> payload_{};
};

// Parses one received frame and checks it against what was sent as frame `n`.
void check(const rte_mbuf* m, const FrameFactory::Expect& want, std::uint16_t payload_len,
           Counters& c) {
  const std::span<const std::uint8_t> bytes(rte_pktmbuf_mtod(m, const std::uint8_t*),
                                            rte_pktmbuf_data_len(m));
  ++c.rx;
  c.rx_bytes += bytes.size();
  auto r = parse_frame(bytes);
  if (!r.ok()) {
    ++c.error[static_cast<std::size_t>(r.error())];
    if (want.defect == Defect::None || expected_error(want.defect) != r.error()) ++c.unexpected;
    return;
  }
  const ParsedFrame& p = *r;
  ++c.kind[static_cast<std::size_t>(p.kind)];
  if (want.defect != Defect::None || p.kind != want.kind) {
    ++c.unexpected;
    return;
  }
  if (p.kind == FrameKind::Ipv4Tcp && (p.tcp.flags & TcpFlag::Syn) == 0) {
    if (p.payload_len != payload_len) {
      ++c.payload_mismatch;
      return;
    }
    for (std::size_t j = 0; j < p.payload_len; ++j) {
      if (bytes[p.payload_offset + j] != pattern(p.tcp.seq.raw, j)) {
        ++c.payload_mismatch;
        return;
      }
    }
  }
}

constexpr const char* kind_name(std::size_t k) {
  switch (static_cast<FrameKind>(k)) {
    case FrameKind::Arp: return "arp";
    case FrameKind::Ipv4Tcp: return "ipv4_tcp";
    case FrameKind::Ipv4Icmp: return "ipv4_icmp";
    case FrameKind::Ipv4Udp: return "ipv4_udp";
    case FrameKind::Ipv4Other: return "ipv4_other";
    case FrameKind::Ipv6: return "ipv6";
  }
  return "?";
}

int run(const Options& opt) {
  const std::uint16_t nports = rte_eth_dev_count_avail();
  if (nports == 0) {
    std::fprintf(stderr,
                 "sluice-smoke: no DPDK port. Give one in the EAL options, e.g. "
                 "--vdev=net_ring0 (add --no-pci when there is no NIC)\n");
    return 2;
  }
  std::uint16_t tx_port = RTE_MAX_ETHPORTS;
  std::uint16_t rx_port = RTE_MAX_ETHPORTS;
  for (std::uint16_t p = 0; p < RTE_MAX_ETHPORTS; ++p) {
    if (!rte_eth_dev_is_valid_port(p)) continue;
    if (tx_port == RTE_MAX_ETHPORTS) {
      tx_port = p;
    } else if (rx_port == RTE_MAX_ETHPORTS) {
      rx_port = p;
    }
  }
  if (rx_port == RTE_MAX_ETHPORTS) rx_port = tx_port;

  auto pool = glue::create_pktmbuf_pool("smoke_pool", 16383, static_cast<int>(rte_socket_id()));
  if (!pool.ok()) return 2;

  glue::PortConfig pc;
  auto tx_info = glue::setup_port(tx_port, pc, *pool);
  if (!tx_info.ok()) return 2;
  if (rx_port != tx_port && !glue::setup_port(rx_port, pc, *pool).ok()) return 2;
  std::printf("sluice-smoke: tx port %u (%s), rx port %u, %lu frames, %u-byte payloads\n", tx_port,
              tx_info->driver.c_str(), rx_port, static_cast<unsigned long>(opt.packets),
              opt.payload);

  FrameFactory factory(tx_info->mac, opt.payload);
  Counters c;
  std::array<std::uint64_t, kKinds> sent_kind{};
  std::array<std::uint64_t, kParseErrorCount> sent_error{};
  // What each in-flight frame should be, indexed by its frame number; frames come back
  // in order on one queue, so a ring of expectations is enough.
  constexpr std::size_t kWindow = 1 << 16;
  static std::array<FrameFactory::Expect, kWindow> expect{};
  std::array<rte_mbuf*, 256> burst{};

  const std::uint64_t hz = rte_get_tsc_hz();
  const std::uint64_t t0 = rte_get_tsc_cycles();
  std::uint64_t next_stats = t0 + hz;
  std::uint64_t last_rx = 0;
  std::uint64_t idle_since = 0;

  while (!g_stop.load(std::memory_order_relaxed)) {
    // Transmit, keeping no more than the expectation window in flight.
    const std::uint64_t room = kWindow - (c.tx - c.rx);
    const std::uint64_t left = opt.packets - c.tx;
    const auto n = static_cast<std::uint16_t>(std::min<std::uint64_t>({opt.burst, room, left}));
    if (n > 0 && rte_pktmbuf_alloc_bulk(*pool, burst.data(), n) == 0) {
      for (std::uint16_t i = 0; i < n; ++i) {
        expect[(c.tx + i) % kWindow] = factory.make(c.tx + i, burst[i]);
      }
      const std::uint16_t sent = rte_eth_tx_burst(tx_port, 0, burst.data(), n);
      for (std::uint16_t i = 0; i < sent; ++i) {
        const auto& e = expect[(c.tx + i) % kWindow];
        if (e.defect == Defect::None) {
          ++sent_kind[static_cast<std::size_t>(e.kind)];
        } else {
          ++sent_error[static_cast<std::size_t>(expected_error(e.defect))];
        }
      }
      c.tx += sent;
      if (sent < n) {
        c.tx_retry += n - sent;  // the unsent frames are rebuilt next time round
        rte_pktmbuf_free_bulk(burst.data() + sent, n - sent);
      }
    }

    // Receive and check.
    const std::uint16_t got = rte_eth_rx_burst(rx_port, 0, burst.data(), opt.burst);
    for (std::uint16_t i = 0; i < got; ++i) {
      check(burst[i], expect[c.rx % kWindow], opt.payload, c);
    }
    if (got > 0) rte_pktmbuf_free_bulk(burst.data(), got);

    const std::uint64_t now = rte_get_tsc_cycles();
    if (opt.stats && now >= next_stats) {
      std::fprintf(stderr, "sluice-smoke: tx %lu rx %lu (%.2f Mpps)\n",
                   static_cast<unsigned long>(c.tx), static_cast<unsigned long>(c.rx),
                   static_cast<double>(c.rx - last_rx) / 1e6);
      last_rx = c.rx;
      next_stats += hz;
    }
    if (c.tx == opt.packets) {
      if (c.rx == c.tx) break;
      // Everything is sent: wait up to a second for the rest to come back.
      if (got > 0 || idle_since == 0) idle_since = now;
      if (now - idle_since > hz) break;
    }
  }
  const double secs = static_cast<double>(rte_get_tsc_cycles() - t0) / static_cast<double>(hz);

  rte_eth_stats ps{};
  rte_eth_stats_get(rx_port, &ps);
  std::printf("\n%-42s %12s %12s\n", "counter", "expected", "seen");
  std::printf("%-42s %12lu %12lu\n", "frames sent / received", static_cast<unsigned long>(c.tx),
              static_cast<unsigned long>(c.rx));
  bool ok = c.rx == c.tx && c.tx == opt.packets;
  for (std::size_t k = 0; k < kKinds; ++k) {
    if (sent_kind[k] == 0 && c.kind[k] == 0) continue;
    std::printf("  parsed %-34s %12lu %12lu\n", kind_name(k),
                static_cast<unsigned long>(sent_kind[k]), static_cast<unsigned long>(c.kind[k]));
    ok = ok && sent_kind[k] == c.kind[k];
  }
  for (std::size_t e = 0; e < kParseErrorCount; ++e) {
    if (sent_error[e] == 0 && c.error[e] == 0) continue;
    std::printf("  dropped %-33s %12lu %12lu\n",
                std::string(to_string(static_cast<ParseError>(e))).c_str(),
                static_cast<unsigned long>(sent_error[e]), static_cast<unsigned long>(c.error[e]));
    ok = ok && sent_error[e] == c.error[e];
  }
  std::printf("%-42s %12d %12lu\n", "payload mismatches", 0,
              static_cast<unsigned long>(c.payload_mismatch));
  std::printf("%-42s %12d %12lu\n", "frames not as sent", 0,
              static_cast<unsigned long>(c.unexpected));
  std::printf("%-42s %12s %12lu\n", "tx retries (ring full)", "-",
              static_cast<unsigned long>(c.tx_retry));
  std::printf("%-42s %12s %12lu / %lu / %lu\n", "port rx packets / missed / errors", "-",
              static_cast<unsigned long>(ps.ipackets), static_cast<unsigned long>(ps.imissed),
              static_cast<unsigned long>(ps.ierrors));
  ok = ok && c.payload_mismatch == 0 && c.unexpected == 0;
  std::printf(
      "\n%.3f s, %.2f Mpps round trip (build, tx, rx, parse, check on one core), %.2f Gbit/s\n",
      secs, static_cast<double>(c.rx) / secs / 1e6,
      static_cast<double>(c.rx_bytes) * 8 / secs / 1e9);
  std::printf("%s\n", ok ? "OK: every frame came back and parsed as built"
                         : "FAIL: counters above do not match");

  glue::close_port(tx_port);
  if (rx_port != tx_port) glue::close_port(rx_port);
  rte_mempool_free(*pool);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  auto eal = glue::eal_init(argc, argv);
  if (!eal.ok()) return 2;
  argc -= *eal;
  argv += *eal;
  argv[0] = const_cast<char*>("sluice-smoke");

  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // interleave sanely with stderr
  Options opt;
  if (!parse_options(argc, argv, opt)) {
    glue::eal_cleanup();
    return 2;
  }
  std::signal(SIGINT, [](int) { g_stop.store(true); });
  std::signal(SIGTERM, [](int) { g_stop.store(true); });
  const int rc = run(opt);
  glue::eal_cleanup();
  return rc;
}
