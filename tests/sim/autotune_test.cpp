// Buffer auto-tuning on the two-stack simulator (TcpConfig::recv_buffer_max,
// send_buffer_max, autotune_budget): over a path whose bandwidth-delay product exceeds the
// 256 KiB buffers a connection starts with, both buffers grow and the transfer runs at the
// link's rate; a reader that does not keep up never gets a larger buffer; growth stops at
// the engine's budget and the budget comes back when the connection ends; fixed buffers
// stay fixed and offer their own window scale.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

#include "packet_harness.hpp"
#include "sim_network.hpp"

namespace sluice::sim {
namespace {

using namespace std::chrono_literals;

constexpr std::uint16_t kPortB = 8080;
constexpr std::uint32_t kStart = 256 * 1024;  // TcpConfig's recv_buffer and send_buffer

/// A connects to B over 100 Mbit/s with 25 ms each way: 50 ms of round trip hold 625 KB,
/// more than the buffers a connection starts with.
class AutotuneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_a_ = SimNetwork::default_config();
    config_b_ = SimNetwork::default_config();
  }

  void start(time::Duration delay = 25ms, std::uint64_t bandwidth_bps = 100'000'000) {
    SimNetwork::Options o;
    o.config_a = config_a_;
    o.config_b = config_b_;
    for (LinkParams* l : {&o.a_to_b, &o.b_to_a}) {
      l->delay = delay;
      l->bandwidth_bps = bandwidth_bps;
    }
    net_ = std::make_unique<SimNetwork>(o);
    net_->add_tx_observer([this](const WireSegment& w) {
      if (w.dir != Dir::BtoA || w.tcp().has(wire::TcpFlag::Syn) || b_ == nullptr) return;
      max_window_ = std::max(max_window_, std::uint32_t{w.tcp().window} << b_->rcv_wscale());
    });
    ASSERT_TRUE(net_->b().listen(kSimIpB, kPortB, 4, &acceptor_).ok());
  }

  /// A new connection from A's port `port`; b_ is B's end of it.
  void connect(std::uint16_t port) {
    auto c = net_->a().connect(SimNetwork::tuple(Side::A, port, kPortB), &client_);
    ASSERT_TRUE(c.ok());
    a_ = *c;
    const std::size_t accepted = acceptor_.accepted.size();
    net_->flush();
    ASSERT_TRUE(
        net_->run_until([&] { return acceptor_.accepted.size() > accepted; }, net_->now() + 5s));
    b_ = acceptor_.accepted.back();
    max_window_ = 0;
  }

  /// A sends n pattern bytes; runs until B's application has them all (false if they are
  /// not all there, intact, within `limit`). `elapsed` gets the simulated time it took.
  bool transfer(std::size_t n, time::Duration& elapsed, time::Duration limit = 60s) {
    sent_ = pattern_bytes(n, 11);
    received().clear();
    const time::Instant begin = net_->now();
    const bool ok = send_until(
        *net_, a_, sent_, [&] { return received().size() >= sent_.size(); }, limit);
    elapsed = net_->now() - begin;
    return ok && received() == sent_;
  }

  void TearDown() override {
    if (net_ == nullptr) return;
    EXPECT_TRUE(net_->errors().empty()) << net_->errors().front();
  }

  std::vector<std::uint8_t>& received() { return acceptor_.handlers.back().received; }
  /// B's receive buffer is still the one it started with, and never offered more.
  void expect_receive_buffer_kept() {
    EXPECT_EQ(b_->recv_buffer_size(), kStart);
    EXPECT_LE(max_window_, kStart);
    EXPECT_EQ(net_->b().counters().recv_buffer_grown, 0u);
  }
  std::size_t read_on_schedule(std::size_t chunk, time::Duration period,
                               time::Duration switch_at = {}, std::size_t chunk2 = 0,
                               time::Duration period2 = {});

  tcp::TcpConfig config_a_;
  tcp::TcpConfig config_b_;
  std::unique_ptr<SimNetwork> net_;
  AcceptAll acceptor_;
  RecordingHandler client_;
  tcp::Tcb* a_ = nullptr;
  tcp::Tcb* b_ = nullptr;
  std::uint32_t max_window_ = 0;  ///< the largest window B offered on this connection
  std::vector<std::uint8_t> sent_;
};

constexpr std::size_t kBulk = 8u << 20;

// Twice: the second connection grows as the first did.
TEST_F(AutotuneTest, BothBuffersGrowWithTheBandwidthDelayProduct) {
  start();
  for (std::uint16_t port = 41000; port < 41002; ++port) {
    SCOPED_TRACE(port);
    connect(port);
    ASSERT_EQ(b_->recv_buffer_size(), kStart);
    ASSERT_EQ(a_->send_buffer_size(), kStart);
    const std::uint64_t rcv_grown = net_->b().counters().recv_buffer_grown;
    const std::uint64_t snd_grown = net_->a().counters().send_buffer_grown;
    time::Duration took{};
    ASSERT_TRUE(transfer(kBulk, took)) << "byte-exact delivery";
    // 625 KB fill the path; the buffers must hold more than that, and never pass the cap.
    EXPECT_GT(b_->recv_buffer_size(), 625'000u);
    EXPECT_LE(b_->recv_buffer_size(), config_b_.recv_buffer_max);
    EXPECT_GT(max_window_, 625'000u) << "the window B offered grew with its buffer";
    EXPECT_GT(net_->b().counters().recv_buffer_grown, rcv_grown);
    EXPECT_GT(a_->send_buffer_size(), 625'000u);
    EXPECT_LE(a_->send_buffer_size(), std::max(kStart, 2 * a_->cwnd()))
        << "the send buffer follows twice the congestion window";
    EXPECT_GT(net_->a().counters().send_buffer_grown, snd_grown);
    EXPECT_EQ(net_->a().counters().retrans_segs, 0u) << "a clean link: no loss to blame";
    // 8 MiB at 100 Mbit/s is 0.67 s on the wire; 256 KiB per 50 ms round trip would take
    // 1.6 s. Slow start's first rounds add some.
    EXPECT_LT(took, 1200ms);
    a_->close();
    b_->close();
  }
}

// 10 Gbit/s with 20 us each way: 50 KB fill the path, and what A sends in a millisecond
// (1.25 MB) would be far more. The round is the round trip, not the timestamp clock's
// millisecond, so the buffer grows to what is in flight.
TEST_F(AutotuneTest, OnAShortPathTheBufferGrowsToTheRoundTripNotToAMillisecond) {
  start(20us, 10'000'000'000);
  connect(41000);
  time::Duration took{};
  ASSERT_TRUE(transfer(64u << 20, took));
  EXPECT_GT(b_->recv_buffer_size(), kStart) << "256 KiB are not enough at 10 Gbit/s";
  EXPECT_LE(b_->recv_buffer_size(), 1024u * 1024);
  EXPECT_LE(a_->send_buffer_size(), 2 * max_window_) << "twice what the peer offered, at most";
}

// Timestamps play no part in it.
TEST_F(AutotuneTest, WithoutTimestampsTheReceiveBufferGrowsAsWell) {
  config_a_.timestamps = config_b_.timestamps = false;
  start();
  connect(41000);
  ASSERT_FALSE(b_->timestamps_on());
  time::Duration took{};
  ASSERT_TRUE(transfer(kBulk, took));
  EXPECT_GT(b_->recv_buffer_size(), 625'000u);
  EXPECT_GT(max_window_, 625'000u);
  EXPECT_LT(took, 1200ms);
}

TEST_F(AutotuneTest, FixedBuffersStayAndLimitTheTransferToAWindowPerRoundTrip) {
  config_a_.send_buffer_max = 0;
  config_b_.recv_buffer_max = 0;
  start();
  connect(41000);
  EXPECT_EQ(b_->rcv_wscale(), tcp::window_shift_for(kStart)) << "sized for 256 KiB alone";
  time::Duration took{};
  ASSERT_TRUE(transfer(kBulk, took));
  expect_receive_buffer_kept();
  EXPECT_EQ(a_->send_buffer_size(), kStart);
  EXPECT_EQ(net_->a().counters().send_buffer_grown, 0u);
  EXPECT_GT(took, 1600ms) << "32 round trips of 256 KiB at least";
}

// B's application reads, every `period`, at most `chunk` bytes (0: all there is), and from
// `switch_at` on (if not zero) at most `chunk2` every `period2`, while A sends 16 MiB as
// fast as it can; returns how many bytes it read in 5 s (in order and intact, or 0).
std::size_t AutotuneTest::read_on_schedule(std::size_t chunk, time::Duration period,
                                           time::Duration switch_at, std::size_t chunk2,
                                           time::Duration period2) {
  acceptor_.handlers.back().auto_read = false;
  sent_ = pattern_bytes(16u << 20, 5);
  std::size_t off = 0;
  net_->set_after_event([&] { send_more(a_, sent_, off); });
  std::vector<std::uint8_t> got;
  const time::Instant begin = net_->now();
  std::function<void()> reader = [&] {
    const bool later = switch_at != time::Duration{} && net_->now() - begin >= switch_at;
    const std::size_t want = later ? chunk2 : chunk;
    std::vector<std::uint8_t> buf(want != 0 ? want : b_->readable());
    const std::uint32_t n = b_->read(buf);
    got.insert(got.end(), buf.begin(), buf.begin() + n);
    net_->at(net_->now() + (later ? period2 : period), reader);
  };
  net_->at(net_->now() + period, reader);
  net_->flush();
  net_->run_until(net_->now() + 5s);
  net_->set_after_event(nullptr);
  return std::equal(got.begin(), got.end(), sent_.begin()) ? got.size() : 0;
}

// 16 KiB every 50 ms, a round trip: A could send no faster than that anyway.
TEST_F(AutotuneTest, AReaderSlowerThanTheWindowGetsNoLargerBuffer) {
  start();
  connect(41000);
  const std::size_t got = read_on_schedule(16 * 1024, 50ms);
  EXPECT_GE(got, 98u * 16 * 1024) << "every read but the first found its 16 KiB";
  expect_receive_buffer_kept();
}

// 16 KiB every 50 ms for 2 s, which keeps the buffer full, then 48 KiB: the reader takes
// three times as much per round trip as before, but a 256 KiB window per 50 ms round trip
// still lets A send faster than that, so the buffer stays more than half full. The
// reader, not the buffer, is the limit: a larger buffer would only hold more unread data.
// (Linux's right-sizing counts only what was read per round trip, and would grow it.)
TEST_F(AutotuneTest, AReaderThatLeavesMostOfTheBufferUnreadGetsNoLargerBuffer) {
  start();
  connect(41000);
  const std::size_t got = read_on_schedule(16 * 1024, 50ms, 2s, 48 * 1024, 50ms);
  EXPECT_GE(got, (39u * 16 + 59u * 48) * 1024) << "every read found what it asked for";
  expect_receive_buffer_kept();
}

// Everything there is, every 200 ms (four round trips): the buffer fills between reads, so
// a larger one lets A send more per read, and the reader takes it all.
TEST_F(AutotuneTest, AReaderThatDrainsTheBufferNowAndThenGetsALargerOne) {
  start();
  connect(41000);
  const std::size_t got = read_on_schedule(0, 200ms);
  EXPECT_GT(b_->recv_buffer_size(), kStart);
  EXPECT_GT(got, 25u * kStart) << "more than a 256 KiB buffer's worth per read";
}

TEST_F(AutotuneTest, GrowthStopsAtTheBudgetWhichComesBackWhenTheConnectionEnds) {
  config_b_.autotune_budget = 128 * 1024;
  start();
  connect(41000);
  time::Duration took{};
  ASSERT_TRUE(transfer(kBulk, took));
  EXPECT_EQ(b_->recv_buffer_size(), kStart + 128 * 1024) << "all the budget, no more";

  // A second connection while the first holds the budget: no growth.
  tcp::Tcb* first_b = b_;
  tcp::Tcb* first_a = a_;
  connect(41001);
  ASSERT_TRUE(transfer(2u << 20, took));
  EXPECT_EQ(b_->recv_buffer_size(), kStart);

  // The first ends (A closes, B closes on the FIN): its growth returns to the budget, and
  // a third connection may take it.
  first_a->close();
  first_b->close();
  net_->run_until(net_->now() + 1s);
  ASSERT_EQ(acceptor_.handlers.front().closed, 1);
  connect(41002);
  ASSERT_TRUE(transfer(kBulk, took));
  EXPECT_EQ(b_->recv_buffer_size(), kStart + 128 * 1024);
}

}  // namespace
}  // namespace sluice::sim
