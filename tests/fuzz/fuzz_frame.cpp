// libFuzzer target: parse_frame over arbitrary bytes, then round-trip invariants.
//
// Whatever the input, parse_frame must not read out of bounds (ASan), hit undefined
// behaviour (UBSan) or disagree with itself. When a frame parses, its headers are
// re-emitted with lib/wire's emitters and parsed again; any field that does not survive
// the round trip is a bug and traps. Built with clang++ -fsanitize=fuzzer,address,
// undefined (tests/fuzz/meson.build); lib/wire is std-only, so no DPDK is involved.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "wire/frame.hpp"

namespace {

using namespace sluice::wire;

#define FUZZ_CHECK(cond)           \
  do {                             \
    if (!(cond)) __builtin_trap(); \
  } while (0)

std::array<std::uint8_t, 65536 + 64> g_out;
ParsedFrame g_reused;  // parse_frame_into must not depend on what a previous frame left

void check_tcp_options(const TcpOptions& o) {
  std::array<std::uint8_t, TcpOptions::kMaxLen> buf{};
  const std::size_t len = o.emit_len();
  FUZZ_CHECK(len % 4 == 0 && len <= TcpOptions::kMaxLen);
  FUZZ_CHECK(o.emit(buf) == len);
  auto back = TcpOptions::parse(std::span(buf).first(len));
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(back->mss == o.mss);
  FUZZ_CHECK(back->window_scale == o.window_scale);
  FUZZ_CHECK(back->sack_permitted == o.sack_permitted);
  FUZZ_CHECK(back->timestamps == o.timestamps);
  FUZZ_CHECK(back->sack_count == o.sack_blocks_to_emit());
  for (std::size_t i = 0; i < back->sack_count; ++i) FUZZ_CHECK(back->sack[i] == o.sack[i]);
  if (o.window_scale) FUZZ_CHECK(*o.window_scale <= TcpOptions::kMaxWindowScale);
}

void check_tcp(const ParsedFrame& f, std::span<const std::uint8_t> frame) {
  check_tcp_options(f.tcp.options);
  FUZZ_CHECK(f.payload_offset + std::size_t{f.payload_len} <= frame.size());
  const auto payload = frame.subspan(f.payload_offset, f.payload_len);
  Ipv4Header ip = f.ip;
  const std::size_t n = build_tcp_frame(g_out, f.eth, ip, f.tcp, payload);
  if (n == 0) return;  // e.g. 40 bytes of IPv4 options made room for a too-big payload
  auto back = parse_frame(std::span(g_out).first(n));
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(back->kind == FrameKind::Ipv4Tcp);
  FUZZ_CHECK(back->eth.dst == f.eth.dst && back->eth.src == f.eth.src);
  FUZZ_CHECK(back->eth.vlan_tci == f.eth.vlan_tci);
  FUZZ_CHECK(back->ip.src == f.ip.src && back->ip.dst == f.ip.dst);
  FUZZ_CHECK(back->ip.tos == f.ip.tos && back->ip.ttl == f.ip.ttl && back->ip.id == f.ip.id);
  FUZZ_CHECK(back->tcp.src_port == f.tcp.src_port && back->tcp.dst_port == f.tcp.dst_port);
  FUZZ_CHECK(back->tcp.seq == f.tcp.seq && back->tcp.ack == f.tcp.ack);
  FUZZ_CHECK(back->tcp.flags == f.tcp.flags && back->tcp.window == f.tcp.window);
  FUZZ_CHECK(back->tcp.urgent == f.tcp.urgent);
  FUZZ_CHECK(back->tcp.options.mss == f.tcp.options.mss);
  FUZZ_CHECK(back->tcp.options.timestamps == f.tcp.options.timestamps);
  FUZZ_CHECK(back->payload_len == f.payload_len);
  FUZZ_CHECK(std::memcmp(g_out.data() + back->payload_offset, payload.data(), payload.size()) == 0);
}

void check_arp(const ParsedFrame& f, std::span<const std::uint8_t> frame) {
  // Every ARP field we keep is fixed-size, so re-emitting reproduces the 28 bytes.
  const std::size_t n = build_arp_frame(g_out, f.eth, f.arp);
  FUZZ_CHECK(n == f.eth.header_len() + ArpPacket::kSize);
  FUZZ_CHECK(std::memcmp(g_out.data(), frame.data(), n) == 0);
}

void check_icmp(const ParsedFrame& f) {
  const std::size_t n = build_icmp_echo_frame(g_out, f.eth, f.ip, f.icmp);
  if (n == 0) return;
  auto back = parse_frame(std::span(g_out).first(n));
  FUZZ_CHECK(back.ok() && back->kind == FrameKind::Ipv4Icmp);
  FUZZ_CHECK(back->icmp.type == f.icmp.type && back->icmp.code == f.icmp.code);
  FUZZ_CHECK(back->icmp.id == f.icmp.id && back->icmp.seq == f.icmp.seq);
  FUZZ_CHECK(back->icmp.payload.size() == f.icmp.payload.size());
  FUZZ_CHECK(std::memcmp(back->icmp.payload.data(), f.icmp.payload.data(), f.icmp.payload.size()) ==
             0);
}

void check_offsets(const ParsedFrame& f, std::size_t size) {
  FUZZ_CHECK(f.l3_offset <= f.l4_offset);
  FUZZ_CHECK(f.l4_offset <= f.payload_offset);
  FUZZ_CHECK(f.payload_offset + std::size_t{f.payload_len} <= size);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> frame(data, size);
  const auto strict = parse_frame(frame);
  const auto lax = parse_frame(frame, {.verify_ipv4_checksum = false, .verify_l4_checksum = false});
  if (strict.ok()) {  // verifying checksums only ever refuses more
    FUZZ_CHECK(lax.ok() && lax->kind == strict->kind);
  }
  const auto into = parse_frame_into(frame, g_reused,
                                     {.verify_ipv4_checksum = false, .verify_l4_checksum = false});
  FUZZ_CHECK(into.ok() == lax.ok());
  if (!lax.ok()) {
    FUZZ_CHECK(static_cast<std::size_t>(lax.error()) < kParseErrorCount);
    FUZZ_CHECK(into.error() == lax.error());
    return 0;
  }
  const ParsedFrame& f = *lax;
  FUZZ_CHECK(g_reused.kind == f.kind && g_reused.l3_offset == f.l3_offset &&
             g_reused.l4_offset == f.l4_offset && g_reused.payload_offset == f.payload_offset &&
             g_reused.payload_len == f.payload_len);
  FUZZ_CHECK(g_reused.tcp.options.sack_count == f.tcp.options.sack_count ||
             f.kind != FrameKind::Ipv4Tcp);
  check_offsets(f, size);
  switch (f.kind) {
    case FrameKind::Ipv4Tcp: check_tcp(f, frame); break;
    case FrameKind::Arp: check_arp(f, frame); break;
    case FrameKind::Ipv4Icmp: check_icmp(f); break;
    default: break;
  }
  return 0;
}
