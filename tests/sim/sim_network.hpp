// SimNetwork: two TcpStacks joined by a simulated link, on one manual clock — the
// deterministic simulator of issue 3 (DESIGN.md "Testing without hardware").
//
// Endpoint A is 198.18.0.1, B is 198.18.0.2. Each direction is a link with one-way delay,
// jitter, bandwidth (serialization delay, a FIFO with an optional drop-tail limit), loss,
// duplication, reordering (extra delay for a fraction of packets) and corruption (one
// byte flipped: the receiving side's lib/wire checksum check must drop it), all drawn
// from one std::mt19937_64 seeded by the test, so a seed reproduces a run exactly.
//
// Time moves only in step(): the clock jumps to the next event — a frame arriving, a
// stack's next timer deadline or a callback scheduled with at() — never tick by tick
// while idle. Frames go through lib/wire parse_frame (behind a made-up Ethernet header)
// into the other stack's input(), as a NIC and an engine would.
//
// Every frame is kept for a pcap (classic libpcap, LINKTYPE_ETHERNET, microseconds of
// simulated time since the network was made): a delivered frame is recorded when it is
// delivered, with the bytes the receiver got (a corrupted one shows a bad checksum in
// Wireshark); a frame the link lost is recorded when it was sent, with 0xdd in byte 4 of
// its source MAC (Wireshark filter: eth.src[4] == 0xdd). A duplicate appears twice.
// Source MACs: A 02:00:00:00:00:0a, B 02:00:00:00:00:0b.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tcp/tcp_stack.hpp"
#include "time/manual_clock.hpp"
#include "wire/frame.hpp"

struct rte_mempool;

namespace sluice::sim {

using namespace std::chrono_literals;

enum class Side : std::uint8_t { A, B };
/// A link direction, named by its sender.
enum class Dir : std::uint8_t { AtoB, BtoA };

constexpr Side other(Side s) noexcept {
  return s == Side::A ? Side::B : Side::A;
}
constexpr Dir dir_from(Side sender) noexcept {
  return sender == Side::A ? Dir::AtoB : Dir::BtoA;
}
constexpr std::size_t idx(Side s) noexcept {
  return static_cast<std::size_t>(s);
}
constexpr std::size_t idx(Dir d) noexcept {
  return static_cast<std::size_t>(d);
}
constexpr const char* name(Side s) noexcept {
  return s == Side::A ? "A" : "B";
}

inline constexpr wire::Ipv4Addr kSimIpA = wire::Ipv4Addr::from_octets(198, 18, 0, 1);
inline constexpr wire::Ipv4Addr kSimIpB = wire::Ipv4Addr::from_octets(198, 18, 0, 2);

/// One direction of the link. Probabilities are per frame, in [0, 1].
struct LinkParams {
  time::Duration delay = 1ms;           ///< one-way propagation delay
  time::Duration jitter = 0ns;          ///< plus a uniform [0, jitter] per frame
  std::uint64_t bandwidth_bps = 0;      ///< serialization rate; 0 = infinite
  std::uint32_t queue_limit_bytes = 0;  ///< drop-tail limit of the sender's queue; 0 = none
  double loss = 0;
  double duplicate = 0;                ///< a second copy, with its own delay draw
  double reorder = 0;                  ///< fraction of frames held back by an extra delay...
  time::Duration reorder_delay = 0ns;  ///< ...uniform in (0, reorder_delay]
  double corrupt = 0;                  ///< one byte of the IPv4 datagram flipped
  /// TSO packets arrive whole, as a receiver's large receive offload aggregates them
  /// (in a chain of mbufs); otherwise the sender's "NIC" cuts them into segments.
  bool lro = false;
};

/// What the link did, per direction.
struct LinkStats {
  std::uint64_t sent = 0;            ///< frames the stack handed to the link
  std::uint64_t data_sent = 0;       ///< ... of which carried payload
  std::uint64_t delivered = 0;       ///< frames given to the other stack's input()
  std::uint64_t lost = 0;            ///< random loss
  std::uint64_t scripted_drops = 0;  ///< dropped by a test hook
  std::uint64_t queue_drops = 0;     ///< drop-tail
  std::uint64_t duplicated = 0;
  std::uint64_t reordered = 0;
  std::uint64_t corrupted = 0;
  std::uint64_t corrupt_dropped =
      0;                         ///< corrupted frames lib/wire refused (must = corrupted delivered)
  std::uint64_t rx_no_mbuf = 0;  ///< delivery failed: the mbuf pool was empty
  std::uint64_t tso_packets = 0;  ///< TSO packets the stack handed over (before cutting)
};

/// A frame on the link, parsed by lib/wire (checksums verified) when the stack sent it.
struct WireSegment {
  Dir dir;
  const wire::ParsedFrame& frame;
  std::span<const std::uint8_t> bytes;  ///< the whole frame, Ethernet header first
  std::uint64_t index;                  ///< 1-based, per direction: every frame
  std::uint64_t data_index;             ///< 1-based, per direction, data frames; 0 if no payload
  bool dropped = false;                 ///< (tx observers) the link will not deliver it
  [[nodiscard]] const wire::TcpHeader& tcp() const { return frame.tcp; }
  [[nodiscard]] std::uint32_t payload_len() const { return frame.payload_len; }
};

/// Sends bytes[off..] on t as far as its send buffer takes them, advancing off; nothing
/// once t is gone (nullptr). As an after-event hook it keeps a transfer going.
inline void send_more(tcp::Tcb* t, std::span<const std::uint8_t> bytes, std::size_t& off) {
  while (off < bytes.size() && t != nullptr) {
    const std::uint32_t k = t->send(bytes.subspan(off));
    if (k == 0) break;
    off += k;
  }
}

class SimNetwork {
 public:
  struct Options {
    std::uint64_t seed = 1;
    tcp::TcpConfig config_a = default_config();
    tcp::TcpConfig config_b = default_config();
    LinkParams a_to_b{};
    LinkParams b_to_a{};
    /// TCP segmentation offload at each end (StackResources::tso_max); 0: off.
    std::uint32_t tso_a = 0;
    std::uint32_t tso_b = 0;
  };
  /// TcpConfig defaults for simulations: MSL 31 s (TIME-WAIT outlasts the 60 s RTO cap),
  /// more SYN retries so that 20 % loss does not fail a connect.
  static tcp::TcpConfig default_config();

  explicit SimNetwork(const Options& options);
  /// Destroys both stacks. Does not check for leaks: call mbufs_in_use() for that.
  ~SimNetwork();
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;

  // ---------------------------------------------------------------- endpoints
  tcp::TcpStack& stack(Side s) { return *stacks_[idx(s)]; }
  tcp::TcpStack& a() { return stack(Side::A); }
  tcp::TcpStack& b() { return stack(Side::B); }
  [[nodiscard]] static wire::Ipv4Addr ip(Side s) { return s == Side::A ? kSimIpA : kSimIpB; }
  /// The connection a_port <-> b_port, from `s`'s point of view.
  [[nodiscard]] static tcp::FourTuple tuple(Side s, std::uint16_t a_port, std::uint16_t b_port);
  LinkParams& link(Dir d) { return links_[idx(d)].params; }
  [[nodiscard]] const LinkStats& stats(Dir d) const { return links_[idx(d)].stats; }
  std::mt19937_64& rng() { return rng_; }
  [[nodiscard]] std::uint64_t seed() const { return seed_; }

  // ---------------------------------------------------------------- time
  [[nodiscard]] time::Instant now() const { return clock_.now(); }
  /// The instant the network was made (time zero of the pcap).
  [[nodiscard]] time::Instant start() const { return start_; }
  /// When the next event is due: a frame arrival, a stack timer or an at() callback;
  /// Instant::max() when nothing at all is pending.
  [[nodiscard]] time::Instant next_event_time();
  /// Jumps to the next event if it is due by `limit` and processes everything due then:
  /// timers first, then arrivals and callbacks in order. Returns false (time unchanged)
  /// if there is none.
  bool step(time::Instant limit);
  /// Runs every event up to t, then sets the clock to t.
  void run_until(time::Instant t);
  /// Runs until pred() holds (checked before each step) or no event is due by `limit`.
  /// Returns pred().
  bool run_until(const std::function<bool()>& pred, time::Instant limit);
  /// Runs f at time t (t >= now()), between stack events.
  void at(time::Instant t, std::function<void()> f);
  /// Hands every datagram the stacks have built to the links (done after each event; call
  /// it after application calls made outside an event).
  void flush();
  /// Called after every event (each stack's timers, each delivery, each callback), after
  /// flush(): the place for invariant checks. Clears with nullptr.
  void set_after_event(std::function<void()> f) { after_event_ = std::move(f); }

  // ---------------------------------------------------------------- faults and observation
  /// A hook that sees every frame sent (before the link's random faults); true drops it.
  void set_drop_filter(std::function<bool(const WireSegment&)> f) { drop_filter_ = std::move(f); }
  /// Drops the n-th (1-based) payload-carrying frame sent in direction d (retransmissions
  /// count). May be called several times.
  void drop_data_segment(Dir d, std::uint64_t n) { scripted_[idx(d)].push_back(n); }
  /// Sees every frame sent, once the link has decided whether it is lost (`dropped`).
  void add_tx_observer(std::function<void(const WireSegment&)> f) {
    tx_observers_.push_back(std::move(f));
  }
  /// Sees every frame delivered intact to a stack, just before input().
  void add_rx_observer(std::function<void(const WireSegment&)> f) {
    rx_observers_.push_back(std::move(f));
  }

  /// Problems the network itself found: a stack sent a frame lib/wire refuses, a
  /// corrupted frame passed the checksum checks, ... Empty in a good run.
  [[nodiscard]] const std::vector<std::string>& errors() const { return errors_; }

  /// mbufs of the packet pool and of the clone pool in use now, minus at construction.
  [[nodiscard]] long mbufs_in_use() const;
  /// Frames recorded for the pcap so far.
  [[nodiscard]] std::size_t pcap_frames() const { return pcap_frames_; }
  /// Writes the recorded traffic as a pcap file. Returns false on I/O error.
  bool write_pcap(const std::string& path) const;
  /// Writes it to $SLUICE_PCAP_DIR (else the build directory) as `<name>.pcap`; returns
  /// the path, or "" on error.
  std::string dump_pcap(std::string_view name) const;

 private:
  struct Link {
    LinkParams params;
    LinkStats stats;
    time::Instant busy_until{};  ///< when the sender's queue has drained
  };
  struct Endpoint {
    SimNetwork* net;
    Side side;
  };
  struct Event {
    time::Instant at;
    std::uint64_t order;  ///< FIFO among equal times: deterministic
    Side to;              ///< receiver of a frame
    bool corrupted = false;
    std::vector<std::uint8_t> frame;  ///< empty for a callback
    std::function<void()> fn;
  };
  struct Later {
    bool operator()(const Event& x, const Event& y) const {
      return x.at != y.at ? x.at > y.at : x.order > y.order;
    }
  };

  static void sink(void* ctx, rte_mbuf** pkts, std::uint16_t n) noexcept;
  void transmit(Side from, rte_mbuf* m);
  void transmit_frame(Side from, std::vector<std::uint8_t> frame);
  /// Checks a TSO packet against DPDK's contract; false (an error recorded) if it breaks it.
  bool tso_contract_ok(Side from, const rte_mbuf* m, std::span<const std::uint8_t> frame);
  void schedule_frame(Side to, time::Instant at, std::vector<std::uint8_t> frame, bool corrupted);
  void deliver(Event& e);
  void after_event();
  void error(const std::string& what);
  void record(std::span<const std::uint8_t> frame, bool dropped);
  time::Duration uniform(time::Duration max_incl);
  bool chance(double p);

  std::uint64_t seed_;
  std::mt19937_64 rng_;
  time::ManualClock clock_;
  time::Instant start_;
  rte_mempool* pool_;
  rte_mempool* clone_pool_;
  long pool_base_;
  Endpoint endpoints_[2];
  Link links_[2];
  std::unique_ptr<tcp::TcpStack> stacks_[2];
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
  std::uint64_t order_ = 0;
  std::vector<std::uint64_t> scripted_[2];
  std::function<bool(const WireSegment&)> drop_filter_;
  std::vector<std::function<void(const WireSegment&)>> tx_observers_;
  std::vector<std::function<void(const WireSegment&)>> rx_observers_;
  std::function<void()> after_event_;
  std::vector<std::uint8_t> pcap_;  ///< records, without the file header
  std::size_t pcap_frames_ = 0;
  std::vector<std::string> errors_;
};

/// Sends `bytes` on *from (send_more after every event), and runs `net` until `done()` or
/// until `limit` has passed; returns done().
inline bool send_until(SimNetwork& net, tcp::Tcb*& from, std::span<const std::uint8_t> bytes,
                       const std::function<bool()>& done, time::Duration limit) {
  std::size_t off = 0;
  auto pump = [&] { send_more(from, bytes, off); };
  net.set_after_event(pump);
  pump();
  net.flush();
  const bool ok = net.run_until(done, net.now() + limit);
  net.set_after_event(nullptr);
  return ok;
}

/// Checks TCP invariants on one connection (a_port <-> b_port) of a SimNetwork after every
/// event and on every frame: SND.UNA <= SND.NXT; nothing sent beyond the window the
/// sender has been told of (but a 1-byte zero-window probe); no data beyond a FIN and one
/// FIN position per side; nothing accepted past the peer's FIN; the retransmission (or
/// persist) timer armed whenever data or a FIN is outstanding. The first violation is kept.
class InvariantChecker {
 public:
  InvariantChecker(SimNetwork& net, std::uint16_t a_port, std::uint16_t b_port);
  /// Runs the per-connection checks now (SimNetwork::set_after_event calls this).
  void check();
  [[nodiscard]] bool ok() const { return violation_.empty(); }
  [[nodiscard]] const std::string& violation() const { return violation_; }
  /// Where the peer of `s` put its FIN, once seen on the wire.
  [[nodiscard]] std::optional<wire::Seq> fin_of(Side s) const { return fin_[idx(s)]; }

 private:
  void on_tx(const WireSegment& w);
  void on_rx(const WireSegment& w);
  void fail(const std::string& what);

  SimNetwork& net_;
  std::uint16_t a_port_, b_port_;
  std::optional<std::uint8_t> syn_wscale_[2];  ///< window scale offered in each side's SYN
  bool syn_seen_[2] = {false, false};
  std::optional<wire::Seq> edge_[2];  ///< highest right edge delivered to this side
  std::optional<wire::Seq> fin_[2];   ///< sequence number of this side's FIN
  std::string violation_;
};

}  // namespace sluice::sim
