// Engine with a range of local addresses (EngineConfig::addr_count): it announces each,
// answers ARP for each from that address and for no other, takes IPv4 (ICMP echo, TCP
// SYN) to each and answers from the address that was asked, and spreads active opens over
// the addresses in turn, each walking its own ephemeral ports.
//
// The engine runs on a net_ring port whose TX ring is its RX ring: what the engine sends
// is read back with rte_eth_rx_burst and parsed by lib/wire. Frames from the "peer" go in
// through Engine::receive; poll() is never called, so nothing the engine sends loops back.
#include <gtest/gtest.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "eal_environment.hpp"
#include "engine/engine.hpp"
#include "port.hpp"
#include "tcp/listener.hpp"
#include "time/manual_clock.hpp"
#include "wire/frame.hpp"

namespace sluice::engine {
namespace {

using namespace std::chrono_literals;

const wire::MacAddr kOurMac{{0x02, 0, 0, 0, 0, 0x01}};
const wire::MacAddr kPeerMac{{0x02, 0, 0, 0, 0, 0x02}};
const wire::Ipv4Addr kPeer = wire::Ipv4Addr::from_octets(198, 18, 5, 1);
const wire::Ipv4Addr kFirst = wire::Ipv4Addr::from_octets(198, 18, 5, 10);
constexpr std::uint32_t kCount = 4;

wire::Ipv4Addr nth(std::uint32_t i) {
  return wire::Ipv4Addr{kFirst.value + i};
}

/// A frame from the peer, as the port would deliver it.
rte_mbuf* to_mbuf(std::span<const std::uint8_t> frame) {
  rte_mbuf* m = rte_pktmbuf_alloc(test::test_pktmbuf_pool());
  if (m == nullptr) std::abort();
  char* p = rte_pktmbuf_append(m, static_cast<std::uint16_t>(frame.size()));
  if (p == nullptr) std::abort();
  std::memcpy(p, frame.data(), frame.size());
  return m;
}

rte_mbuf* arp_from_peer(std::uint16_t op, wire::Ipv4Addr target) {
  std::array<std::uint8_t, 60> b{};
  wire::EthernetHeader eth{};
  eth.dst = op == wire::ArpPacket::kOpRequest ? wire::MacAddr::kBroadcast : kOurMac;
  eth.src = kPeerMac;
  wire::ArpPacket a{};
  a.op = op;
  a.sha = kPeerMac;
  a.spa = kPeer;
  a.tha = op == wire::ArpPacket::kOpRequest ? wire::MacAddr{} : kOurMac;
  a.tpa = target;
  const std::size_t n = wire::build_arp_frame(b, eth, a);
  return to_mbuf({b.data(), std::max<std::size_t>(n, 60)});
}

rte_mbuf* ping(wire::Ipv4Addr to, std::uint16_t seq) {
  std::array<std::uint8_t, 128> b{};
  wire::EthernetHeader eth{};
  eth.dst = kOurMac;
  eth.src = kPeerMac;
  wire::Ipv4Header ip{};
  ip.src = kPeer;
  ip.dst = to;
  wire::IcmpEcho e{};
  e.type = wire::IcmpType::EchoRequest;
  e.id = 7;
  e.seq = seq;
  const std::size_t n = wire::build_icmp_echo_frame(b, eth, ip, e);
  return to_mbuf({b.data(), n});
}

rte_mbuf* syn(wire::Ipv4Addr to, std::uint16_t sport, std::uint16_t dport) {
  std::array<std::uint8_t, 128> b{};
  wire::EthernetHeader eth{};
  eth.dst = kOurMac;
  eth.src = kPeerMac;
  wire::Ipv4Header ip{};
  ip.src = kPeer;
  ip.dst = to;
  wire::TcpHeader th{};
  th.src_port = sport;
  th.dst_port = dport;
  th.seq = wire::Seq{1000};
  th.flags = wire::TcpFlag::Syn;
  th.window = 65535;
  const std::size_t n = wire::build_tcp_frame(b, eth, ip, th, {});
  return to_mbuf({b.data(), n});
}

struct Sent {
  wire::ParsedFrame f;
  std::vector<std::uint8_t> bytes;  ///< f's views point here
};

class EngineAddresses : public ::testing::Test {
 protected:
  // One port for the suite (a net_ring vdev probed again would find its rings taken).
  static void SetUpTestSuite() {
    ASSERT_EQ(rte_dev_probe("net_ring_engaddr0"), 0);
    ASSERT_EQ(rte_eth_dev_get_port_by_name("net_ring_engaddr0", &port_), 0);
    rte_eth_dev_info dev{};
    ASSERT_EQ(rte_eth_dev_info_get(port_, &dev), 0);
    device_ = dev.device;
    ASSERT_TRUE(glue::setup_port(port_, glue::PortConfig{}, test::test_pktmbuf_pool()).ok());
  }
  static void TearDownTestSuite() {
    glue::close_port(port_);
    if (device_ != nullptr) {
      EXPECT_EQ(rte_dev_remove(device_), 0);
    }
  }
  void SetUp() override {
    EngineConfig c;
    c.port = port_;
    c.mac = kOurMac;
    c.addr = kFirst;
    c.addr_count = kCount;
    c.prefix_len = 24;
    engine_ = std::make_unique<Engine>(c, test::test_pktmbuf_pool(), test::test_pktmbuf_pool(),
                                       clock_, tcp::SipHash::Key{});
  }
  void TearDown() override {
    engine_.reset();
    drain();
  }

  /// Everything the engine has sent since the last call, parsed.
  std::vector<Sent> drain() {
    if (engine_) engine_->flush_tx();
    std::vector<Sent> out;
    std::array<rte_mbuf*, 64> rx{};
    for (std::uint16_t n; (n = rte_eth_rx_burst(port_, 0, rx.data(), rx.size())) > 0;) {
      for (std::uint16_t i = 0; i < n; ++i) {
        Sent s;
        s.bytes.assign(rte_pktmbuf_mtod(rx[i], std::uint8_t*),
                       rte_pktmbuf_mtod(rx[i], std::uint8_t*) + rte_pktmbuf_data_len(rx[i]));
        rte_pktmbuf_free(rx[i]);
        out.push_back(std::move(s));
      }
    }
    for (Sent& s : out) EXPECT_TRUE(wire::parse_frame_into(s.bytes, s.f).ok());
    return out;
  }

  /// The peer tells us its MAC (a request for our first address: RFC 826, we learn it).
  void learn_peer() {
    engine_->receive(arp_from_peer(wire::ArpPacket::kOpRequest, kFirst));
    ASSERT_EQ(drain().size(), 1u);  // our reply
  }

  static inline std::uint16_t port_ = RTE_MAX_ETHPORTS;
  static inline rte_device* device_ = nullptr;
  time::ManualClock clock_{time::Instant{} + 1h};
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineAddresses, OwnsExactlyTheRange) {
  EXPECT_EQ(engine_->address_count(), kCount);
  for (std::uint32_t i = 0; i < kCount; ++i) {
    EXPECT_TRUE(engine_->is_local(nth(i)));
    EXPECT_EQ(engine_->address(i), nth(i));
  }
  EXPECT_FALSE(engine_->is_local(wire::Ipv4Addr{kFirst.value - 1}));
  EXPECT_FALSE(engine_->is_local(nth(kCount)));
  EXPECT_FALSE(engine_->is_local(kPeer));
}

TEST_F(EngineAddresses, AnnouncesEachAddress) {
  engine_->announce();
  const auto sent = drain();
  ASSERT_EQ(sent.size(), kCount);
  for (std::uint32_t i = 0; i < kCount; ++i) {
    const auto& f = sent[i].f;
    ASSERT_EQ(f.kind, wire::FrameKind::Arp);
    EXPECT_TRUE(f.eth.dst.is_broadcast());
    EXPECT_TRUE(f.arp.is_request());
    EXPECT_EQ(f.arp.sha, kOurMac);
    EXPECT_EQ(f.arp.spa, nth(i));  // RFC 5227 §3: sender and target both the address
    EXPECT_EQ(f.arp.tpa, nth(i));
  }
}

TEST_F(EngineAddresses, AnswersArpForEachAddressFromThatAddressAndForNoOther) {
  for (std::uint32_t i = 0; i < kCount; ++i) {
    engine_->receive(arp_from_peer(wire::ArpPacket::kOpRequest, nth(i)));
    const auto sent = drain();
    ASSERT_EQ(sent.size(), 1u) << "address " << i;
    const auto& f = sent[0].f;
    ASSERT_EQ(f.kind, wire::FrameKind::Arp);
    EXPECT_EQ(f.arp.op, wire::ArpPacket::kOpReply);
    EXPECT_EQ(f.eth.dst, kPeerMac);
    EXPECT_EQ(f.arp.sha, kOurMac);
    EXPECT_EQ(f.arp.spa, nth(i));
    EXPECT_EQ(f.arp.tha, kPeerMac);
    EXPECT_EQ(f.arp.tpa, kPeer);
  }
  engine_->receive(arp_from_peer(wire::ArpPacket::kOpRequest, nth(kCount)));
  engine_->receive(arp_from_peer(wire::ArpPacket::kOpRequest, wire::Ipv4Addr{kFirst.value - 1}));
  EXPECT_TRUE(drain().empty());
  EXPECT_EQ(engine_->counters().arp_replies_out, kCount);
}

TEST_F(EngineAddresses, EchoesPingsToEachAddressFromThatAddress) {
  for (std::uint32_t i = 0; i < kCount; ++i) {
    engine_->receive(ping(nth(i), static_cast<std::uint16_t>(i)));
    const auto sent = drain();
    ASSERT_EQ(sent.size(), 1u) << "address " << i;
    ASSERT_EQ(sent[0].f.kind, wire::FrameKind::Ipv4Icmp);
    EXPECT_EQ(sent[0].f.ip.src, nth(i));
    EXPECT_EQ(sent[0].f.ip.dst, kPeer);
    EXPECT_EQ(sent[0].f.icmp.seq, i);
  }
  const auto before = engine_->counters().not_for_us;
  engine_->receive(ping(nth(kCount), 9));
  EXPECT_TRUE(drain().empty());
  EXPECT_EQ(engine_->counters().not_for_us, before + 1);
}

TEST_F(EngineAddresses, ListenerOnAnyAddressAnswersSynsToEachFromThatAddress) {
  learn_peer();
  struct Accept final : tcp::ListenHandler {
    void on_acceptable(tcp::Listener&) noexcept override {}
  } handler;
  ASSERT_TRUE(engine_->tcp().listen(wire::Ipv4Addr{}, 80, 16, &handler).ok());
  for (std::uint32_t i = 0; i < kCount; ++i) {
    engine_->receive(syn(nth(i), static_cast<std::uint16_t>(40000 + i), 80));
    engine_->tcp().flush();
    const auto sent = drain();
    ASSERT_EQ(sent.size(), 1u) << "address " << i;
    const auto& f = sent[0].f;
    ASSERT_EQ(f.kind, wire::FrameKind::Ipv4Tcp);
    EXPECT_EQ(f.tcp.flags, wire::TcpFlag::Syn | wire::TcpFlag::Ack);
    EXPECT_EQ(f.ip.src, nth(i));
    EXPECT_EQ(f.ip.dst, kPeer);
    EXPECT_EQ(f.tcp.src_port, 80);
    EXPECT_EQ(f.tcp.dst_port, 40000 + i);
    EXPECT_EQ(f.eth.dst, kPeerMac);
  }
}

TEST_F(EngineAddresses, ActiveOpensTakeTheAddressesInTurnEachWithItsOwnPorts) {
  learn_peer();
  struct Quiet final : tcp::TcpHandler {
  } handler;
  constexpr std::uint32_t kRounds = 3;
  for (std::uint32_t n = 0; n < kRounds * kCount; ++n) {
    ASSERT_TRUE(engine_->connect(kPeer, 5201, &handler).ok());
  }
  const auto sent = drain();
  ASSERT_EQ(sent.size(), kRounds * kCount);
  for (std::uint32_t n = 0; n < sent.size(); ++n) {
    const auto& f = sent[n].f;
    ASSERT_EQ(f.kind, wire::FrameKind::Ipv4Tcp);
    EXPECT_EQ(f.tcp.flags, wire::TcpFlag::Syn);
    EXPECT_EQ(f.ip.src, nth(n % kCount)) << "SYN " << n;
    EXPECT_EQ(f.tcp.src_port, Engine::kEphemeralFirst + n / kCount) << "SYN " << n;
    EXPECT_EQ(f.ip.dst, kPeer);
    EXPECT_EQ(f.tcp.dst_port, 5201);
  }
  // From one address chosen by the caller; never from one that is not ours.
  auto r = engine_->connect_from(nth(2), kPeer, 5201, &handler);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->tuple().local_ip, nth(2));
  EXPECT_EQ((*r)->tuple().local_port, Engine::kEphemeralFirst + kRounds);
  auto bad = engine_->connect_from(nth(kCount), kPeer, 5201, &handler);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), Errc::InvalidArgument);
  drain();
  engine_->tcp().for_each_connection([](tcp::Tcb& t) { t.abort(); });
  drain();
}

}  // namespace
}  // namespace sluice::engine
