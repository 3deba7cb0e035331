/*
 * echo-soak.c: the soak client of `npm run test:reliability`. One thread,
 * epoll, non-blocking sockets; built with `cc -O2` by the soak test.
 *
 *   echo-soak --port P [--conns C] [--messages M] [--seed S] [--max-size N]
 *             [--timeout-ms T]
 *
 * M messages in all, spread over C connections. Message sizes follow a skewed
 * random law (mostly small, a tail up to --max-size) and their bytes come from
 * a per-connection seeded generator. Each message is sent in random fragments
 * (1 byte up to the whole), one send() each, and a connection often gives up
 * its turn between fragments so that fragments reach the server separately.
 * Every connection has its own random window of bytes in flight (1 KiB to
 * 512 KiB): the large ones exceed the server's high-water mark and exercise
 * its back-pressure. Reads use random sizes too.
 *
 * The receive side replays the same generators, so every echoed byte is
 * compared with what was sent at that position of the stream: a lost,
 * duplicated or reordered byte shows up as a mismatch at a known connection,
 * message and offset. When a connection has sent everything it half-closes
 * (shutdown SHUT_WR) and must then receive exactly the rest of its echo
 * followed by EOF.
 *
 * One JSON object on stdout. Exit status: 0 ok, 3 if any byte differed,
 * 1 on any other failure (reset, early EOF, extra bytes, timeout), 2 on bad
 * arguments.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* splitmix64: small, seedable, and good enough for test data. */
static uint64_t next64(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* A byte stream from a generator: the sender and the verifier each own one,
 * seeded alike, so they agree on every byte without storing any. */
struct bytes {
  uint64_t state, cache;
  int left;
};
static unsigned char next_byte(struct bytes *b) {
  if (b->left == 0) {
    b->cache = next64(&b->state);
    b->left = 8;
  }
  unsigned char c = (unsigned char)b->cache;
  b->cache >>= 8;
  b->left--;
  return c;
}

static size_t max_size = 65536;

static size_t message_size(uint64_t *s) {
  uint64_t r = next64(s);
  unsigned pick = (unsigned)(r % 100);
  uint64_t v = r >> 8;
  size_t n;
  if (pick < 60) n = 1 + v % 64;
  else if (pick < 90) n = 65 + v % 1984;
  else if (pick < 99) n = 2049 + v % 14336;
  else n = 16385 + v % 49152;
  return n > max_size ? 1 + n % max_size : n;
}

#define FRAG_MAX 65536

struct conn {
  int fd;
  int done, out_registered;
  /* send side */
  uint64_t s_sizes, s_frag;
  struct bytes s_data;
  long long msgs_left;     /* messages not yet started */
  size_t msg_left;         /* bytes of the current message not yet generated */
  unsigned char pend[FRAG_MAX];
  size_t pend_len, pend_off; /* a generated fragment not fully sent yet */
  int shut;
  /* receive side */
  uint64_t r_sizes;
  struct bytes r_data;
  long long msgs_expected; /* messages this connection will send in all */
  long long msgs_verified;
  size_t r_msg_left;       /* bytes of the message being verified */
  unsigned long long sent, received;
  size_t window;
};

static long long total_verified, total_frags, total_recvs, total_mismatch, total_errors;
static unsigned long long total_bytes;
static long long max_inflight;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void fail(struct conn *c, int idx, const char *what) {
  fprintf(stderr, "echo-soak: connection %d: %s (sent %llu, received %llu, verified %lld of %lld messages)%s%s\n", idx, what,
          c->sent, c->received, c->msgs_verified, c->msgs_expected, errno ? ": " : "", errno ? strerror(errno) : "");
  total_errors++;
  c->done = 1;
}

/* Sends what the window allows; returns after a random number of fragments so
 * others get their turn and fragments travel apart. */
static void pump(struct conn *c, int idx) {
  int budget = 1 + (int)(next64(&c->s_frag) % 4);
  while (budget-- > 0) {
    if (c->pend_off == c->pend_len) {
      if (c->msg_left == 0) {
        if (c->msgs_left == 0) break;
        c->msgs_left--;
        c->msg_left = message_size(&c->s_sizes);
      }
      if (c->sent - c->received >= c->window) break;
      size_t n = 1 + (size_t)(next64(&c->s_frag) % (c->msg_left < FRAG_MAX ? c->msg_left : FRAG_MAX));
      for (size_t i = 0; i < n; i++) c->pend[i] = next_byte(&c->s_data);
      c->msg_left -= n;
      c->pend_len = n;
      c->pend_off = 0;
    }
    ssize_t w = send(c->fd, c->pend + c->pend_off, c->pend_len - c->pend_off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      fail(c, idx, "send");
      return;
    }
    total_frags++;
    c->pend_off += (size_t)w;
    c->sent += (unsigned long long)w;
    long long inflight = (long long)(c->sent - c->received);
    if (inflight > max_inflight) max_inflight = inflight;
    if (c->pend_off < c->pend_len) return; /* the socket buffer is full */
  }
  if (!c->shut && c->msgs_left == 0 && c->msg_left == 0 && c->pend_off == c->pend_len) {
    /* Everything is out: half-close, the server must still echo the rest. */
    if (shutdown(c->fd, SHUT_WR) < 0) fail(c, idx, "shutdown");
    c->shut = 1;
  }
}

static void drain(struct conn *c, int idx, unsigned char *buf, uint64_t *rng) {
  for (int rounds = 0; rounds < 4; rounds++) {
    size_t want = 1 + (size_t)(next64(rng) % 65536);
    ssize_t n = recv(c->fd, buf, want, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      fail(c, idx, "recv");
      return;
    }
    if (n == 0) {
      errno = 0;
      if (c->msgs_verified == c->msgs_expected && c->r_msg_left == 0) c->done = 1;
      else fail(c, idx, "EOF before the whole echo");
      return;
    }
    total_recvs++;
    for (ssize_t i = 0; i < n; i++) {
      if (c->r_msg_left == 0) {
        if (c->msgs_verified == c->msgs_expected) {
          errno = 0;
          fail(c, idx, "bytes after the end of the echo");
          return;
        }
        c->r_msg_left = message_size(&c->r_sizes);
      }
      unsigned char want_b = next_byte(&c->r_data);
      if (buf[i] != want_b) {
        fprintf(stderr, "echo-soak: connection %d: byte %llu (message %lld) is 0x%02x, sent 0x%02x\n", idx,
                c->received + (unsigned long long)i, c->msgs_verified, buf[i], want_b);
        total_mismatch++;
        c->done = 1;
        return;
      }
      if (--c->r_msg_left == 0) {
        c->msgs_verified++;
        total_verified++;
      }
    }
    c->received += (unsigned long long)n;
    total_bytes += (unsigned long long)n;
  }
}

int main(int argc, char **argv) {
  int port = 0, nconns = 100;
  long long messages = 100000;
  unsigned long long seed = 1;
  double timeout_ms = 600000;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) { fprintf(stderr, "echo-soak: %s needs a value\n", a); return 2; }
    if (!strcmp(a, "--port")) port = atoi(v);
    else if (!strcmp(a, "--conns")) nconns = atoi(v);
    else if (!strcmp(a, "--messages")) messages = atoll(v);
    else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
    else if (!strcmp(a, "--max-size")) max_size = (size_t)atol(v);
    else if (!strcmp(a, "--timeout-ms")) timeout_ms = atof(v);
    else { fprintf(stderr, "echo-soak: unknown option %s\n", a); return 2; }
    i++;
  }
  if (port <= 0 || nconns < 1 || messages < nconns || max_size < 1) {
    fprintf(stderr, "usage: echo-soak --port P [--conns C] [--messages M >= C] [--seed S] [--max-size N] [--timeout-ms T]\n");
    return 2;
  }

  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) { perror("epoll_create1"); return 1; }
  struct conn *conns = calloc((size_t)nconns, sizeof *conns);
  if (!conns) { perror("calloc"); return 1; }
  uint64_t master = seed * 0x2545f4914f6cdd1dULL + 7;
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  double t0 = now_ms();
  for (int i = 0; i < nconns; i++) {
    struct conn *c = &conns[i];
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) { perror("socket"); return 1; }
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) { perror("connect"); return 1; }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    uint64_t cs = next64(&master);
    c->s_sizes = c->r_sizes = cs ^ 0x1111;
    c->s_data.state = c->r_data.state = cs ^ 0x2222;
    c->s_frag = cs ^ 0x3333;
    c->msgs_left = c->msgs_expected = messages / nconns + (i < messages % nconns ? 1 : 0);
    /* Windows from 1 KiB to 512 KiB, log-uniform: most are small, some overrun the server's high-water mark. */
    c->window = (size_t)1024 << (next64(&cs) % 10);
    c->window += (size_t)(next64(&cs) % c->window);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) { perror("epoll_ctl"); return 1; }
    c->out_registered = 1;
  }

  unsigned char *buf = malloc(65536);
  struct epoll_event *evs = malloc(sizeof *evs * 1024);
  uint64_t rrng = seed ^ 0xabcdef;
  int live = nconns;
  int timed_out = 0;
  while (live > 0) {
    if (now_ms() - t0 > timeout_ms) { timed_out = 1; break; }
    int n = epoll_wait(ep, evs, 1024, 1000);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("epoll_wait");
      return 1;
    }
    for (int k = 0; k < n; k++) {
      int i = (int)evs[k].data.u32;
      struct conn *c = &conns[i];
      if (c->done) continue;
      if (evs[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) drain(c, i, buf, &rrng);
      if (!c->done && (evs[k].events & EPOLLOUT)) pump(c, i);
      if (c->done) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        live--;
        continue;
      }
      /* Ask for EPOLLOUT only while there is something to send and room in the window. */
      int want_out = !c->shut && (c->pend_off < c->pend_len || c->sent - c->received < c->window);
      if (want_out != c->out_registered) {
        struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->out_registered = want_out;
      }
    }
  }
  double secs = (now_ms() - t0) / 1e3;
  long long incomplete = 0;
  for (int i = 0; i < nconns; i++) {
    if (conns[i].msgs_verified != conns[i].msgs_expected) incomplete++;
    if (!conns[i].done) close(conns[i].fd);
  }
  printf("{\"conns\":%d,\"messages\":%lld,\"verified\":%lld,\"bytes_verified\":%llu,\"fragments\":%lld,\"recvs\":%lld,"
         "\"max_inflight\":%lld,\"seconds\":%.3f,\"msgs_per_s\":%.1f,\"mismatches\":%lld,\"errors\":%lld,"
         "\"incomplete_conns\":%lld,\"timed_out\":%s,\"seed\":%llu}\n",
         nconns, messages, total_verified, total_bytes, total_frags, total_recvs, max_inflight, secs,
         secs > 0 ? total_verified / secs : 0.0, total_mismatch, total_errors, incomplete, timed_out ? "true" : "false", seed);
  if (total_mismatch) return 3;
  if (total_errors || timed_out || incomplete || total_verified != messages) return 1;
  return 0;
}
