// linux-perf-peer: the Linux side of perf/compare. A small single-threaded epoll program
// speaking sluice-perf's protocol (apps/sluice_perf.cpp explains it: a 16-byte header
// "SLPF", version 1, mode, flags, size; then bulk / rr / crr / hold), so it can talk to
// sluice-perf as well as to itself. Server and client in one binary:
//   linux-perf-peer server [--port P] [--duration S]
//   linux-perf-peer client --peer IP [--port P] --mode bulk|rr|crr|hold
//                   [--connections N] [--size B] [--duration S]
// The server echoes rr requests, echoes one crr request then closes, discards bulk bytes
// (streams back with the "both" flag) and keeps hold connections idle; it closes a
// connection when it sees the client's FIN. The client keeps --connections connections
// (crr: parallel connect loops) busy for --duration seconds, checks every response, and
// prints one JSON line: transactions/s, connections/s, Gbit/s of payload, mismatches.
// LINUX_PEER_CC=NAME sets every socket's congestion control (TCP_CONGESTION; root may
// pick any the kernel has), so that the comparison does not depend on the host's default.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { kBulk = 1, kRr = 2, kCrr = 3, kHold = 4 };
enum { kHeader = 16, kBuf = 65536, kMaxSize = 65536 };

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char* what) {
  perror(what);
  exit(1);
}

/// Every socket: LINUX_PEER_CC's congestion control, if set. Listeners pass it on.
static int tcp_socket(int flags) {
  int fd = socket(AF_INET, SOCK_STREAM | flags, 0);
  if (fd < 0) die("socket");
  const char* cc = getenv("LINUX_PEER_CC");
  if (cc != NULL && *cc != '\0' &&
      setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strlen(cc)) < 0)
    die("setsockopt TCP_CONGESTION (LINUX_PEER_CC)");
  return fd;
}

static void nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static volatile sig_atomic_t g_stop = 0;
static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

// ---- server -------------------------------------------------------------------------

typedef struct {
  int fd;
  int mode;         // 0 until the header is in
  int flags;
  uint32_t size;
  uint32_t hdr_len;
  uint8_t hdr[kHeader];
  uint32_t echoed;  // crr: bytes of the request echoed so far
  uint8_t* out;     // bytes read but not yet written back (rr, crr)
  uint32_t out_len;
  uint32_t out_off;
} SConn;

static uint8_t g_zero[kBuf];

static void sclose(int ep, SConn* c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->out);
  free(c);
}

// Writes pending echo bytes; returns 0 when all are out, 1 when the socket is full, -1 on error.
static int sflush(SConn* c) {
  while (c->out_off < c->out_len) {
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 1 : -1;
    c->out_off += (uint32_t)n;
  }
  c->out_off = c->out_len = 0;
  return 0;
}

// Handles readiness; returns 0 to keep the connection, -1 to close it.
static int sevent(int ep, SConn* c, uint32_t ev) {
  if (c->out_len) {  // echo bytes still waiting for room
    int r = sflush(c);
    if (r < 0) return -1;
    if (r > 0) return 0;
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
    if (c->mode == kCrr && c->echoed >= c->size) return -1;
  }
  if (c->mode == kBulk && (c->flags & 1) && (ev & EPOLLOUT)) {
    for (;;) {
      ssize_t n = send(c->fd, g_zero, kBuf, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return -1;
      }
    }
  }
  for (;;) {
    if (c->out_len) return 0;  // wait for EPOLLOUT before reading more
    uint8_t buf[kBuf];
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n == 0) return -1;  // the client's FIN: close
    if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    uint8_t* p = buf;
    size_t len = (size_t)n;
    if (c->hdr_len < kHeader) {
      size_t take = kHeader - c->hdr_len < len ? kHeader - c->hdr_len : len;
      memcpy(c->hdr + c->hdr_len, p, take);
      c->hdr_len += (uint32_t)take;
      p += take;
      len -= take;
      if (c->hdr_len < kHeader) continue;
      if (memcmp(c->hdr, "SLPF", 4) != 0 || c->hdr[4] != 1 || c->hdr[5] < kBulk ||
          c->hdr[5] > kHold)
        return -1;
      c->mode = c->hdr[5];
      c->flags = c->hdr[6];
      c->size = ((uint32_t)c->hdr[8] << 24) | ((uint32_t)c->hdr[9] << 16) |
                ((uint32_t)c->hdr[10] << 8) | c->hdr[11];
      if (c->size == 0 || c->size > kMaxSize) return -1;
      if (c->mode == kBulk && (c->flags & 1)) {
        struct epoll_event e = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
      }
    }
    if (len == 0) continue;
    if (c->mode == kRr || c->mode == kCrr) {
      if (c->mode == kCrr) {
        if (c->echoed >= c->size) continue;  // nothing more is expected
        if (len > c->size - c->echoed) len = c->size - c->echoed;
        c->echoed += (uint32_t)len;
      }
      if (!c->out) c->out = malloc(kBuf);
      memcpy(c->out, p, len);
      c->out_len = (uint32_t)len;
      c->out_off = 0;
      int r = sflush(c);
      if (r < 0) return -1;
      if (r > 0) {
        struct epoll_event e = {.events = EPOLLOUT, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
        return 0;
      }
      if (c->mode == kCrr && c->echoed >= c->size) return -1;  // the server closes first
    }
    // bulk and hold: discard
  }
}

static int run_server(int port, double duration) {
  int lfd = tcp_socket(SOCK_NONBLOCK);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (bind(lfd, (struct sockaddr*)&a, sizeof a) < 0) die("bind");
  if (listen(lfd, 4096) < 0) die("listen");
  int ep = epoll_create1(0);
  struct epoll_event le = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &le);
  double end = duration > 0 ? now_s() + duration : 0;
  unsigned long long accepted = 0;
  struct epoll_event evs[256];
  while (!g_stop && (end == 0 || now_s() < end)) {
    int n = epoll_wait(ep, evs, 256, 100);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; ++i) {
      if (evs[i].data.ptr == NULL) {
        for (;;) {
          int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
          if (fd < 0) break;
          nodelay(fd);
          SConn* c = calloc(1, sizeof *c);
          c->fd = fd;
          struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
          ++accepted;
        }
        continue;
      }
      SConn* c = evs[i].data.ptr;
      if (sevent(ep, c, evs[i].events) < 0) sclose(ep, c);
    }
  }
  fprintf(stderr, "linux-perf-peer server: %llu connections accepted\n", accepted);
  return 0;
}

// ---- client -------------------------------------------------------------------------

typedef struct {
  int fd;
  int state;  // 0 connecting, 1 waiting for a response, 2 waiting for the server's FIN
  uint64_t txn;
  uint32_t got;
  uint8_t req[kMaxSize];
  uint8_t resp[kMaxSize];
} CConn;

typedef struct {
  int mode, size, port;
  struct sockaddr_in peer;
  unsigned long long transactions, established, sent, received, mismatches, errors;
} Client;

static void make_request(CConn* c, int size) {
  for (int i = 0; i < size; ++i) c->req[i] = (uint8_t)(0xA5 ^ i);
  uint64_t t = c->txn;
  for (int i = 0; i < 8 && i < size; ++i) c->req[i] = (uint8_t)(t >> (8 * i));
}

static void header(uint8_t* h, int mode, int size) {
  memset(h, 0, kHeader);
  memcpy(h, "SLPF", 4);
  h[4] = 1;
  h[5] = (uint8_t)mode;
  h[8] = (uint8_t)(size >> 24);
  h[9] = (uint8_t)(size >> 16);
  h[10] = (uint8_t)(size >> 8);
  h[11] = (uint8_t)size;
}

static int copen(Client* cl, int ep, CConn* c) {
  c->fd = tcp_socket(SOCK_NONBLOCK);
  nodelay(c->fd);
  c->state = 0;
  c->got = 0;
  int r = connect(c->fd, (struct sockaddr*)&cl->peer, sizeof cl->peer);
  if (r < 0 && errno != EINPROGRESS) {
    ++cl->errors;
    close(c->fd);
    c->fd = -1;
    return -1;
  }
  struct epoll_event e = {.events = EPOLLOUT, .data.ptr = c};
  epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e);
  return 0;
}

// Sends everything (small requests: the socket buffer always has room); -1 on error.
static int send_all(int fd, const uint8_t* p, size_t len) {
  while (len) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int send_request(Client* cl, CConn* c, int with_header) {
  uint8_t buf[kHeader + kMaxSize];
  size_t len = 0;
  if (with_header) {
    header(buf, cl->mode, cl->size);
    len = kHeader;
  }
  make_request(c, cl->size);
  memcpy(buf + len, c->req, (size_t)cl->size);
  len += (size_t)cl->size;
  if (send_all(c->fd, buf, len) < 0) return -1;
  cl->sent += (unsigned long long)cl->size;
  c->got = 0;
  c->state = 1;
  return 0;
}

// Handles readiness on an rr or crr connection; returns -1 when it failed.
static int cevent(Client* cl, int ep, CConn* c) {
  if (c->state == 0) {
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err) return -1;
    ++cl->established;
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
    return send_request(cl, c, 1);
  }
  for (;;) {
    if (c->state == 2) {
      uint8_t b[64];
      ssize_t n = recv(c->fd, b, sizeof b, 0);
      if (n < 0) return (errno == EAGAIN) ? 0 : -1;
      if (n > 0) return -1;  // nothing may follow the response
      // The server closed: close ours and start the next cycle.
      epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
      close(c->fd);
      return copen(cl, ep, c);
    }
    ssize_t n = recv(c->fd, c->resp + c->got, (size_t)cl->size - c->got, 0);
    if (n == 0) return -1;
    if (n < 0) return (errno == EAGAIN) ? 0 : -1;
    c->got += (uint32_t)n;
    cl->received += (unsigned long long)n;
    if (c->got < (uint32_t)cl->size) continue;
    if (memcmp(c->req, c->resp, (size_t)cl->size) != 0) ++cl->mismatches;
    ++cl->transactions;
    ++c->txn;
    if (cl->mode == kCrr) {
      c->state = 2;
      continue;
    }
    if (send_request(cl, c, 0) < 0) return -1;
    return 0;  // one request in flight: wait for its response
  }
}

// Kernel slab memory in bytes (socket, inode, file and epoll objects all live there).
static long long slab_bytes(void) {
  FILE* f = fopen("/proc/meminfo", "r");
  if (!f) return -1;
  char line[256];
  long long kb = -1;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "Slab: %lld kB", &kb) == 1) break;
  fclose(f);
  return kb * 1024;
}

static int run_client(Client* cl, int conns, double duration) {
  long long slab0 = slab_bytes(), slab1 = slab0;
  int ep = epoll_create1(0);
  CConn* cs = calloc((size_t)conns, sizeof *cs);
  if (!cs) die("calloc");
  struct epoll_event evs[256];
  double start = now_s(), end = start + duration;
  if (cl->mode == kBulk || cl->mode == kHold) {
    for (int i = 0; i < conns; ++i) {
      int fd = tcp_socket(0);
      if (connect(fd, (struct sockaddr*)&cl->peer, sizeof cl->peer) < 0) die("connect");
      ++cl->established;
      uint8_t h[kHeader];
      header(h, cl->mode, 1);
      if (send_all(fd, h, kHeader) < 0) die("send");
      fcntl(fd, F_SETFL, O_NONBLOCK);
      cs[i].fd = fd;
      struct epoll_event e = {.events = cl->mode == kBulk ? EPOLLOUT : EPOLLIN, .data.ptr = &cs[i]};
      epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
    }
    double mid = start + (end - start) / 2;
    while (!g_stop && now_s() < end) {
      if (slab1 == slab0 && now_s() >= mid) slab1 = slab_bytes();
      int n = epoll_wait(ep, evs, 256, 50);
      for (int i = 0; i < n && cl->mode == kBulk; ++i) {
        CConn* c = evs[i].data.ptr;
        for (;;) {
          ssize_t w = send(c->fd, g_zero, kBuf, MSG_NOSIGNAL);
          if (w < 0) {
            if (errno != EAGAIN) ++cl->errors;
            break;
          }
          cl->sent += (unsigned long long)w;
        }
      }
    }
  } else {
    for (int i = 0; i < conns; ++i) copen(cl, ep, &cs[i]);
    while (!g_stop) {
      double t = now_s();
      if (t >= end) break;
      int n = epoll_wait(ep, evs, 256, (int)((end - t) * 1000) + 1);
      for (int i = 0; i < n; ++i) {
        CConn* c = evs[i].data.ptr;
        if (cevent(cl, ep, c) < 0) {  // count it, and start over on a fresh connection
          ++cl->errors;
          if (c->fd >= 0) {
            epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
            close(c->fd);
          }
          if (now_s() < end) copen(cl, ep, c);
          else c->fd = -1;
        }
      }
    }
  }
  double el = now_s() - start;
  for (int i = 0; i < conns; ++i)
    if (cs[i].fd > 0) close(cs[i].fd);
  static const char* names[] = {"", "bulk", "rr", "crr", "hold"};
  // hold: the growth of kernel slab memory once all connections are open, over both ends
  // (client and server sockets share this kernel), so per connection per side.
  double per_conn = cl->mode == kHold && slab1 > slab0 ? (double)(slab1 - slab0) / (2.0 * conns) : 0;
  printf("{\"role\":\"client\",\"mode\":\"%s\",\"connections\":%d,\"size\":%d,"
         "\"duration_s\":%.3f,\"transactions\":%llu,\"transactions_per_s\":%.1f,"
         "\"connections_established\":%llu,\"connections_per_s\":%.1f,\"bytes_sent\":%llu,"
         "\"bytes_received\":%llu,\"gbit_per_s\":%.4f,\"mismatches\":%llu,\"errors\":%llu,"
         "\"hold\":{\"peak_open\":%llu,\"bytes_per_connection\":%.0f}}\n",
         names[cl->mode], conns, cl->size, el, cl->transactions, (double)cl->transactions / el,
         cl->established, (double)cl->established / el, cl->sent, cl->received,
         (double)(cl->sent + cl->received) * 8 / el / 1e9, cl->mismatches, cl->errors,
         cl->mode == kHold ? cl->established : 0ULL, per_conn);
  fflush(stdout);
  return cl->mismatches ? 1 : 0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: linux-perf-peer server [--port P] [--duration S]\n"
          "       linux-perf-peer client --peer IP [--port P] --mode bulk|rr|crr|hold\n"
          "                       [--connections N] [--size B] [--duration S]\n");
  exit(2);
}

int main(int argc, char** argv) {
  if (argc < 2) usage();
  int server = strcmp(argv[1], "server") == 0;
  if (!server && strcmp(argv[1], "client") != 0) usage();
  int port = 5201, conns = 1, size = 1, mode = kRr;
  double duration = server ? 0 : 10;
  const char* peer = NULL;
  for (int i = 2; i < argc; ++i) {
    const char* k = argv[i];
    if (i + 1 >= argc) usage();
    const char* v = argv[++i];
    if (!strcmp(k, "--port")) port = atoi(v);
    else if (!strcmp(k, "--connections")) conns = atoi(v);
    else if (!strcmp(k, "--size")) size = atoi(v);
    else if (!strcmp(k, "--duration")) duration = atof(v);
    else if (!strcmp(k, "--peer")) peer = v;
    else if (!strcmp(k, "--mode")) {
      mode = !strcmp(v, "bulk") ? kBulk : !strcmp(v, "rr") ? kRr : !strcmp(v, "crr") ? kCrr
             : !strcmp(v, "hold") ? kHold : 0;
      if (!mode) usage();
    } else usage();
  }
  if (size < 1 || size > kMaxSize || conns < 1) usage();
  struct rlimit rl = {262144, 262144};
  setrlimit(RLIMIT_NOFILE, &rl);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGPIPE, SIG_IGN);
  if (server) return run_server(port, duration);
  if (!peer) usage();
  Client cl = {.mode = mode, .size = size, .port = port};
  cl.peer.sin_family = AF_INET;
  cl.peer.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, peer, &cl.peer.sin_addr) != 1) usage();
  return run_client(&cl, conns, duration);
}
