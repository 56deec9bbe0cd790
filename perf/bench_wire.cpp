// Micro-benchmarks of lib/wire: the Internet checksum (ours beside DPDK's rte_raw_cksum on
// the same buffers) and parse_frame on a SYN with options and on a 1460-byte segment,
// with and without L4 checksum verification. rte_raw_cksum is inline: no EAL needed.
#include <benchmark/benchmark.h>
#include <rte_ip.h>

#include <cstdint>
#include <random>
#include <vector>

#include "wire/checksum.hpp"
#include "wire/frame.hpp"

namespace {

using namespace sluice::wire;

std::vector<std::uint8_t> random_buffer(std::size_t n) {
  std::mt19937 rng(42);
  std::vector<std::uint8_t> v(n);
  for (auto& b : v) b = static_cast<std::uint8_t>(rng());
  return v;
}

void BM_ChecksumSluice(benchmark::State& state) {
  const auto buf = random_buffer(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(buf.data());
    benchmark::DoNotOptimize(checksum_reduce(checksum_partial(buf)));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_ChecksumSluice)->Arg(64)->Arg(1460)->Arg(9000);

void BM_ChecksumDpdk(benchmark::State& state) {
  const auto buf = random_buffer(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(buf.data());
    benchmark::DoNotOptimize(rte_raw_cksum(buf.data(), buf.size()));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_ChecksumDpdk)->Arg(64)->Arg(1460)->Arg(9000);

const MacAddr kMacA{{0x52, 0x54, 0x00, 0xab, 0xcd, 0xef}};
const MacAddr kMacB{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};

std::vector<std::uint8_t> make_frame(bool syn, std::size_t payload_len) {
  Ipv4Header ip;
  ip.src = Ipv4Addr::from_octets(198, 18, 0, 1);
  ip.dst = Ipv4Addr::from_octets(198, 18, 0, 2);
  ip.df = true;
  TcpHeader tcp;
  tcp.src_port = 41924;
  tcp.dst_port = 80;
  tcp.seq = Seq{0x3ad2f5c1};
  tcp.window = 64240;
  if (syn) {
    tcp.flags = TcpFlag::Syn;
    tcp.options.mss = 1460;
    tcp.options.sack_permitted = true;
    tcp.options.window_scale = 7;
  } else {
    tcp.flags = TcpFlag::Ack | TcpFlag::Psh;
    tcp.ack = Seq{0x9c3b0001};
  }
  tcp.options.timestamps = TcpTimestamps{0x000d5b2f, syn ? 0U : 0x7e1f3c20U};
  const auto payload = random_buffer(payload_len);
  std::vector<std::uint8_t> frame(14 + 20 + 60 + payload_len);
  frame.resize(build_tcp_frame(frame, {kMacB, kMacA, 0, std::nullopt}, ip, tcp, payload));
  return frame;
}

void parse_loop(benchmark::State& state, const std::vector<std::uint8_t>& frame,
                ParseOptions opts) {
  if (!parse_frame(frame, opts)) {
    state.SkipWithError("frame does not parse");
    return;
  }
  ParsedFrame parsed;  // the RX path parses into a per-burst array, no copy
  for (auto _ : state) {
    benchmark::DoNotOptimize(frame.data());
    auto r = parse_frame_into(frame, parsed, opts);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_ParseFrameSynWithOptions(benchmark::State& state) {
  parse_loop(state, make_frame(true, 0), {});
}
BENCHMARK(BM_ParseFrameSynWithOptions);

void BM_ParseFrameSynByValue(benchmark::State& state) {
  const auto frame = make_frame(true, 0);
  for (auto _ : state) {
    benchmark::DoNotOptimize(frame.data());
    auto r = parse_frame(frame);  // returns the ParsedFrame by value
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseFrameSynByValue);

void BM_ParseFrameData1460(benchmark::State& state) {
  parse_loop(state, make_frame(false, 1460), {});
}
BENCHMARK(BM_ParseFrameData1460);

void BM_ParseFrameData1460NoL4Checksum(benchmark::State& state) {
  parse_loop(state, make_frame(false, 1460), {.verify_l4_checksum = false});
}
BENCHMARK(BM_ParseFrameData1460NoL4Checksum);

}  // namespace

BENCHMARK_MAIN();
