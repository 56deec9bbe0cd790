// The engine's receive path for frames in chained mbufs (large receive offload, scatter):
// headers from the first mbuf, the TCP length from the IPv4 header, the checksum over
// every mbuf — whatever the split points, odd ones included — unless the port vouches
// for it; chained frames other than TCP are counted and dropped. The engine runs on a
// net_ring port (what it transmits comes back on the same ring for the test to read).
#include <gtest/gtest.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "eal_environment.hpp"
#include "engine/engine.hpp"
#include "port.hpp"
#include "time/manual_clock.hpp"
#include "wire/frame.hpp"

namespace sluice::engine {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr wire::Ipv4Addr kOurs = wire::Ipv4Addr::from_octets(198, 18, 9, 1);
constexpr wire::Ipv4Addr kPeer = wire::Ipv4Addr::from_octets(198, 18, 9, 2);
constexpr wire::MacAddr kPeerMac{{0x02, 0, 0, 0, 9, 2}};

/// `frame` in a chain of mbufs cut at `cuts` (offsets into the frame, ascending), and
/// wherever a piece would overflow an mbuf.
rte_mbuf* chain(const Bytes& frame, const std::vector<std::size_t>& cuts) {
  rte_mbuf* first = nullptr;
  rte_mbuf* last = nullptr;
  std::size_t from = 0;
  for (std::size_t i = 0; from < frame.size();) {
    rte_mbuf* m = rte_pktmbuf_alloc(test::test_pktmbuf_pool());
    EXPECT_NE(m, nullptr);
    if (m == nullptr) return first;
    while (i < cuts.size() && cuts[i] <= from) ++i;
    const std::size_t to = std::min(
        {i < cuts.size() ? cuts[i] : frame.size(), from + rte_pktmbuf_tailroom(m), frame.size()});
    std::copy(frame.begin() + static_cast<std::ptrdiff_t>(from),
              frame.begin() + static_cast<std::ptrdiff_t>(to), rte_pktmbuf_mtod(m, std::uint8_t*));
    m->data_len = static_cast<std::uint16_t>(to - from);
    m->pkt_len = m->data_len;
    if (first == nullptr) {
      first = m;
    } else {
      last->next = m;
      first->nb_segs = static_cast<std::uint16_t>(first->nb_segs + 1);
      first->pkt_len += m->data_len;
    }
    last = m;
    from = to;
  }
  return first;
}

/// Cuts every `step` bytes: a frame of n bytes in ceil(n / step) mbufs.
std::vector<std::size_t> every(std::size_t step, std::size_t n) {
  std::vector<std::size_t> v;
  for (std::size_t at = step; at < n; at += step) v.push_back(at);
  return v;
}

class EngineRx : public ::testing::Test {
 protected:
  // One port and clone pool for the suite: a net_ring's rings outlive the port.
  static void SetUpTestSuite() {
    ASSERT_EQ(rte_dev_probe("net_ring_erx"), 0);
    ASSERT_EQ(rte_eth_dev_get_port_by_name("net_ring_erx", &port_), 0);
    auto info = glue::setup_port(port_, glue::PortConfig{}, test::test_pktmbuf_pool());
    ASSERT_TRUE(info.ok());
    mac_.bytes = info->mac;
    clones_ = rte_pktmbuf_pool_create("engine_rx_clones", 1023, 0, 0, 0, SOCKET_ID_ANY);
    ASSERT_NE(clones_, nullptr);
  }
  static void TearDownTestSuite() {
    rte_eth_dev_info dev{};
    rte_eth_dev_info_get(port_, &dev);
    rte_eth_dev_stop(port_);
    rte_eth_dev_close(port_);
    if (dev.device != nullptr) rte_dev_remove(dev.device);
    rte_mempool_free(clones_);
  }

  void SetUp() override { start(1); }

  /// A fresh engine that knows the peer's MAC. `idle_clock_stride` 1: every poll() reads
  /// the clock, so each test can set the time of every iteration.
  void start(std::uint16_t idle_clock_stride, std::uint16_t mss = 1460) {
    ASSERT_NE(clones_, nullptr);
    engine_.reset();
    drain();
    EngineConfig c;
    c.idle_clock_stride = idle_clock_stride;
    c.port = port_;
    c.mac = mac_;
    c.addr = kOurs;
    c.prefix_len = 24;
    c.rx_tcp_checksum_offload = true;  // the flags decide; a chain without them is checked
    c.tcp.mss = mss;                   // the MTU less 40
    engine_ = std::make_unique<Engine>(c, test::test_pktmbuf_pool(), clones_, clock_,
                                       tcp::SipHash::Key{});
    // The peer asks for our address: the engine learns it (and answers).
    Bytes arp(64);
    wire::ArpPacket a;
    a.sha = kPeerMac;
    a.spa = kPeer;
    a.tpa = kOurs;
    arp.resize(wire::build_arp_frame(arp, {.dst = wire::MacAddr::kBroadcast, .src = kPeerMac}, a));
    engine_->receive(chain(arp, {}));
    settle();
    drain();
  }
  void TearDown() override {
    engine_.reset();
    drain();
  }

  /// Sends what the engine and its TCP stack have queued (a poll loop does this).
  void settle() {
    engine_->tcp().flush();
    engine_->flush_tx();
  }

  /// What the engine sent, parsed.
  std::vector<wire::ParsedFrame> drain() {
    std::vector<wire::ParsedFrame> out;
    std::array<rte_mbuf*, 32> pkts;
    std::uint16_t n;
    while ((n = rte_eth_rx_burst(port_, 0, pkts.data(), pkts.size())) > 0) {
      for (std::uint16_t i = 0; i < n; ++i) {
        auto r = wire::parse_frame(
            {rte_pktmbuf_mtod(pkts[i], const std::uint8_t*), rte_pktmbuf_data_len(pkts[i])});
        if (r.ok()) out.push_back(*r);
        rte_pktmbuf_free(pkts[i]);
      }
    }
    return out;
  }

  /// A data segment without ACK from the peer to a port nobody listens on: TCP answers
  /// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, so the RST tells the length TCP saw.
  Bytes segment(std::size_t payload_len) {
    Bytes payload(payload_len);
    for (std::size_t i = 0; i < payload_len; ++i) payload[i] = static_cast<std::uint8_t>(i * 7);
    wire::Ipv4Header ip{};
    ip.ttl = 64;
    ip.src = kPeer;
    ip.dst = kOurs;
    wire::TcpHeader th{};
    th.src_port = 40000;
    th.dst_port = 9;
    th.seq = wire::Seq{1000};
    th.flags = wire::TcpFlag::Psh;
    Bytes f(14 + 20 + 20 + payload_len);
    wire::EthernetHeader eth{.dst = engine_->config().mac, .src = kPeerMac};
    f.resize(wire::build_tcp_frame(f, eth, ip, th, payload));
    return f;
  }

  std::optional<wire::Seq> rst_ack() {
    for (const auto& f : drain()) {
      if (f.kind == wire::FrameKind::Ipv4Tcp && f.tcp.has(wire::TcpFlag::Rst)) return f.tcp.ack;
    }
    return std::nullopt;
  }

  std::uint64_t bad_checksums() const {
    return engine_->counters()
        .parse_errors[static_cast<std::size_t>(wire::ParseError::TcpBadChecksum)];
  }

  static inline std::uint16_t port_ = RTE_MAX_ETHPORTS;
  static inline wire::MacAddr mac_{};
  static inline rte_mempool* clones_ = nullptr;
  time::ManualClock clock_{time::Instant{} + std::chrono::hours(1)};
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineRx, AChainedSegmentIsTakenWithTheLengthOfItsIpv4Header) {
  const Bytes f = segment(20000);
  engine_->receive(chain(f, every(2000, f.size())));
  settle();
  EXPECT_EQ(rst_ack(), wire::Seq{1000 + 20000});
  EXPECT_EQ(engine_->counters().rx_chained, 1u);
  EXPECT_EQ(bad_checksums(), 0u);
}

TEST_F(EngineRx, TheChecksumHoldsWhereverTheChainIsCut) {
  const Bytes f = segment(5001);      // odd: the last word is padded
  std::vector<std::size_t> bytewise;  // 200 one-byte mbufs after the headers
  for (std::size_t at = 54; at < 254; ++at) bytewise.push_back(at);
  const std::vector<std::vector<std::size_t>> splits = {
      {54}, {55}, {54, 55, 56}, {61, 1000, 1001, 3333}, bytewise, every(777, f.size())};
  for (const auto& cuts : splits) {
    engine_->receive(chain(f, cuts));
    settle();
    EXPECT_EQ(rst_ack(), wire::Seq{1000 + 5001}) << cuts.size() << " cuts from " << cuts[0];
  }
  EXPECT_EQ(bad_checksums(), 0u);
}

TEST_F(EngineRx, ACorruptedChainIsCountedAndDropped) {
  Bytes f = segment(9000);
  f[f.size() - 3] ^= 0x40;  // in the last mbuf
  engine_->receive(chain(f, every(2048, f.size())));
  settle();
  EXPECT_EQ(rst_ack(), std::nullopt) << "TCP never saw it";
  EXPECT_EQ(bad_checksums(), 1u);
}

TEST_F(EngineRx, APortThatVouchesForTheChecksumIsBelieved) {
  // RTE_MBUF_F_RX_L4_CKSUM_NONE: "the field is not set, the data is intact" — virtio's
  // partial checksums on a TSO aggregate. The field here is wrong on purpose.
  Bytes f = segment(9000);
  f[14 + 20 + 16] ^= 0xff;
  rte_mbuf* m = chain(f, every(2048, f.size()));
  m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_NONE;
  engine_->receive(m);
  settle();
  EXPECT_EQ(rst_ack(), wire::Seq{1000 + 9000});
  EXPECT_EQ(bad_checksums(), 0u);
}

TEST_F(EngineRx, AChainTooShortForItsIpv4LengthIsRefused) {
  Bytes f = segment(4000);
  f.resize(f.size() - 100);  // total length says 100 bytes more than arrived
  engine_->receive(chain(f, every(2048, f.size())));
  settle();
  EXPECT_EQ(rst_ack(), std::nullopt);
  EXPECT_EQ(
      engine_->counters()
          .parse_errors[static_cast<std::size_t>(wire::ParseError::Ipv4TotalLengthBeyondFrame)],
      1u);
}

TEST_F(EngineRx, ChainedFramesOtherThanTcpAreCountedAndDropped) {
  wire::Ipv4Header ip{};
  ip.ttl = 64;
  ip.src = kPeer;
  ip.dst = kOurs;
  const Bytes data(3000, 0x5a);
  wire::IcmpEcho echo;
  echo.payload = data;
  Bytes f(14 + 20 + 8 + data.size());
  f.resize(
      wire::build_icmp_echo_frame(f, {.dst = engine_->config().mac, .src = kPeerMac}, ip, echo));
  engine_->receive(chain(f, {1500}));
  settle();
  EXPECT_TRUE(drain().empty()) << "no echo reply";
  EXPECT_EQ(engine_->counters().multi_segment, 1u);
}

// Nothing beyond the MTU leaves: af_packet (and a NIC, a switch) would drop it unseen.
TEST_F(EngineRx, ADatagramBeyondTheMtuIsCountedNotSent) {
  start(1, 536);  // MTU 576
  const auto echo_of = [&](std::size_t n) {
    wire::Ipv4Header ip{};
    ip.ttl = 64;
    ip.src = kPeer;
    ip.dst = kOurs;
    wire::IcmpEcho echo;
    const Bytes data(n, 0x5a);
    echo.payload = data;
    Bytes f(14 + 20 + 8 + n);
    f.resize(
        wire::build_icmp_echo_frame(f, {.dst = engine_->config().mac, .src = kPeerMac}, ip, echo));
    engine_->receive(chain(f, {}));
    settle();
    return drain();
  };
  const auto small = echo_of(576 - 28);  // a reply of exactly 576 bytes goes
  ASSERT_EQ(small.size(), 1u);
  EXPECT_EQ(small[0].kind, wire::FrameKind::Ipv4Icmp);
  EXPECT_EQ(engine_->counters().tx_oversize, 0u);
  EXPECT_TRUE(echo_of(576 - 27).empty()) << "a 577-byte reply";
  EXPECT_EQ(engine_->counters().tx_oversize, 1u);
}

TEST_F(EngineRx, LoopTimeGoesToTheIterationItFollowsBusyWhenItHadFrames) {
  // Each poll() charges the time since the previous one to the previous iteration: busy
  // if that one received or sent frames. The net_ring port hands back what the engine
  // transmits, so a segment to a closed port keeps two iterations busy: the one that
  // takes it (and sends the RST) and the one that takes the RST back (not for us).
  using std::chrono::milliseconds;
  const auto ns = [](milliseconds d) { return static_cast<std::uint64_t>(d.count()) * 1000000; };
  const EngineCounters& c = engine_->counters();
  const std::uint64_t loop0 = c.loop_ns;
  const std::uint64_t busy0 = c.busy_ns;
  clock_.advance(milliseconds(5));
  EXPECT_EQ(engine_->poll(), 0);  // idle
  rte_mbuf* m = chain(segment(10), {});
  ASSERT_EQ(rte_eth_tx_burst(port_, 0, &m, 1), 1);  // onto the ring: the next poll's
  clock_.advance(milliseconds(3));
  EXPECT_EQ(engine_->poll(), 1);  // takes the segment, answers with a RST
  clock_.advance(milliseconds(2));
  EXPECT_EQ(engine_->poll(), 1);  // takes its own RST back
  clock_.advance(milliseconds(4));
  EXPECT_EQ(engine_->poll(), 0);
  clock_.advance(milliseconds(1));
  EXPECT_EQ(engine_->poll(), 0);
  EXPECT_EQ(c.loop_ns - loop0, ns(milliseconds(5 + 3 + 2 + 4 + 1)));
  EXPECT_EQ(c.busy_ns - busy0, ns(milliseconds(2 + 4)));
  EXPECT_EQ(c.polls, 5u);
  EXPECT_EQ(c.rx_polls, 2u);
}

TEST_F(EngineRx, IdleIterationsReadTheClockOnlyEveryStride) {
  // With a stride of 3, a run of idle iterations reads the clock at its third, or as soon
  // as one of them receives frames (those meet the current time); after an iteration that
  // received or sent frames the next poll reads it and charges that iteration as busy.
  using std::chrono::milliseconds;
  start(3);
  const auto ns = [](milliseconds d) { return static_cast<std::uint64_t>(d.count()) * 1000000; };
  const EngineCounters& c = engine_->counters();
  const time::Instant t0 = engine_->now();
  ASSERT_EQ(t0, clock_.now());
  const auto step = [&](milliseconds d, std::uint16_t want_rx, time::Instant want_now) {
    clock_.advance(d);
    EXPECT_EQ(engine_->poll(), want_rx);
    EXPECT_EQ(engine_->now(), want_now) << "clock at " << (clock_.now() - t0).count() << " ns";
  };
  step(milliseconds(1), 0, t0);  // idle: not read
  step(milliseconds(1), 0, t0);
  step(milliseconds(1), 0, t0 + milliseconds(3));  // the third idle one: read
  EXPECT_EQ(c.loop_ns, ns(milliseconds(3)));
  EXPECT_EQ(c.busy_ns, 0u);
  step(milliseconds(1), 0, t0 + milliseconds(3));  // idle: not read
  rte_mbuf* m = chain(segment(10), {});
  ASSERT_EQ(rte_eth_tx_burst(port_, 0, &m, 1), 1);
  step(milliseconds(1), 1, t0 + milliseconds(5));  // a frame: read; the 2 ms before are idle
  EXPECT_EQ(c.loop_ns, ns(milliseconds(5)));
  EXPECT_EQ(c.busy_ns, 0u);
  step(milliseconds(2), 1, t0 + milliseconds(7));  // after a busy one: read; takes its RST back
  EXPECT_EQ(c.busy_ns, ns(milliseconds(2)));
  step(milliseconds(1), 0, t0 + milliseconds(8));  // read: the last one had a frame
  step(milliseconds(1), 0, t0 + milliseconds(8));  // idle again: not read
  EXPECT_EQ(c.loop_ns, ns(milliseconds(8)));
  EXPECT_EQ(c.busy_ns, ns(milliseconds(3)));
  EXPECT_EQ(c.polls, 8u);
  EXPECT_EQ(c.rx_polls, 2u);
}

}  // namespace
}  // namespace sluice::engine
