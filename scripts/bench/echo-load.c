/*
 * echo-load.c: the load generator of `npm run bench:echo`. One thread, epoll,
 * non-blocking sockets. Built by scripts/bench/echo.mjs with `cc -O2` when the
 * benchmark runs.
 *
 *   echo-load --port P [--host 127.0.0.1] [--conns C] [--idle I] [--size S]
 *             [--duration-ms D] [--warmup-ms W] [--server-pid PID] [--timeout-ms T]
 *
 * Opens I idle connections, then C active ones. Every connection (idle ones
 * too) first sends one byte and waits for its echo, so we know the server has
 * accepted and registered it before anything is timed; idle ones then stay
 * silent. Each active connection keeps one message of S bytes in flight: send
 * it, wait for the whole echo, compare every byte, send the next. Traffic runs
 * W ms unmeasured (warm-up), then D ms measured. The server's utime+stime
 * (/proc/PID/stat, all its threads) is read at both ends of the measured
 * window. One JSON object on stdout:
 *   {"conns":100,"idle":0,"size":64,"seconds":1.0,"msgs":51234,"msgs_per_s":...,
 *    "p50_us":...,"p99_us":...,"bytes_verified":...,"errors":0,"mismatches":0,
 *    "server_cpu_s":...,"server_user_s":...,"server_cpu_us_per_msg":...}
 * Exit status: 0 ok, 3 if any echoed byte differed, 1 on any other error
 * (connection refused or reset, timeout), 2 on bad arguments.
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Payloads are windows into one pseudo-random pattern, at an offset that
 * depends on the connection and the message number: cheap to produce and to
 * check, and no two consecutive messages on a connection are alike. */
#define PATTERN_LEN (1 << 16)
static unsigned char pattern[PATTERN_LEN * 2];

enum { ST_CONNECTING, ST_PING, ST_IDLE, ST_RUN, ST_DONE };

struct conn {
  int fd;
  int state;
  int active;
  uint32_t seq;       /* message number on this connection */
  size_t off;         /* this message's offset into pattern */
  size_t sent, got;   /* bytes of the current message sent / echoed back */
  double t0;          /* when the current message started (s) */
  int want_out;       /* EPOLLOUT registered (a send was partial) */
};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *msg) {
  fprintf(stderr, "echo-load: %s: %s\n", msg, strerror(errno));
  exit(1);
}

/* Server CPU (utime + stime, every thread) in seconds; -1 if unreadable.
 * *user gets utime alone: user vs kernel time says whether syscalls or the
 * server's own code dominate. */
static double server_cpu(int pid, double *user) {
  if (pid <= 0) return -1;
  char path[64], buf[2048];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  /* The command name may hold spaces or parentheses: fields start after the last ')'. */
  char *p = strrchr(buf, ')');
  if (!p) return -1;
  unsigned long long ut = 0, st = 0;
  /* After ')': state(3) ... utime is field 14, stime 15. */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) return -1;
  *user = (double)ut / sysconf(_SC_CLK_TCK);
  return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double *lat;
static size_t nlat, caplat;
static void record(double us) {
  if (nlat == caplat) {
    caplat = caplat ? caplat * 2 : 1 << 16;
    lat = realloc(lat, caplat * sizeof *lat);
    if (!lat) die("realloc");
  }
  lat[nlat++] = us;
}

static int epfd;
static long errors, mismatches;

static void set_events(struct conn *c, uint32_t ev) {
  struct epoll_event e = {.events = ev, .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e) < 0) die("epoll_ctl MOD");
}

static void fail(struct conn *c, const char *why) {
  if (errors < 5) fprintf(stderr, "echo-load: connection fd %d: %s\n", c->fd, why);
  errors++;
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->state = ST_DONE;
}

static size_t msg_size;

static void start_msg(struct conn *c, size_t idx) {
  c->seq++;
  c->off = (idx * 7919u + c->seq * 131u) % PATTERN_LEN;
  c->sent = c->got = 0;
  c->t0 = now_s();
}

/* Sends what is left of the current message; EPOLLOUT only while a send is partial. */
static void pump_send(struct conn *c, size_t len) {
  while (c->sent < len) {
    ssize_t n = send(c->fd, pattern + c->off + c->sent, len - c->sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN) break;
      if (errno == EINTR) continue;
      fail(c, strerror(errno));
      return;
    }
    c->sent += (size_t)n;
  }
  int want = c->sent < len;
  if (want != c->want_out) {
    set_events(c, EPOLLIN | (want ? EPOLLOUT : 0));
    c->want_out = want;
  }
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = 0, nact = 1, nidle = 0, pid = 0;
  long size = 64, duration_ms = 1000, warmup_ms = 300, timeout_ms = 30000;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v) { fprintf(stderr, "echo-load: %s needs a value\n", a); return 2; }
    if (!strcmp(a, "--host")) host = v;
    else if (!strcmp(a, "--port")) port = atoi(v);
    else if (!strcmp(a, "--conns")) nact = atoi(v);
    else if (!strcmp(a, "--idle")) nidle = atoi(v);
    else if (!strcmp(a, "--size")) size = atol(v);
    else if (!strcmp(a, "--duration-ms")) duration_ms = atol(v);
    else if (!strcmp(a, "--warmup-ms")) warmup_ms = atol(v);
    else if (!strcmp(a, "--timeout-ms")) timeout_ms = atol(v);
    else if (!strcmp(a, "--server-pid")) pid = atoi(v);
    else { fprintf(stderr, "echo-load: unknown option %s\n", a); return 2; }
    i++;
  }
  if (port <= 0 || nact < 1 || nidle < 0 || size < 1 || size > PATTERN_LEN || duration_ms < 1) {
    fprintf(stderr, "echo-load: bad arguments (need --port, conns >= 1, 1 <= size <= %d)\n", PATTERN_LEN);
    return 2;
  }
  msg_size = (size_t)size;

  /* Room for every connection plus a few: raise the soft fd limit to the hard one. */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }

  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < PATTERN_LEN; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    pattern[i] = (unsigned char)(x >> 32);
  }
  memcpy(pattern + PATTERN_LEN, pattern, PATTERN_LEN); /* windows may wrap */

  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) { fprintf(stderr, "echo-load: bad host %s\n", host); return 2; }

  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1");
  int total = nidle + nact;
  struct conn *conns = calloc((size_t)total, sizeof *conns);
  struct epoll_event *evs = calloc(1024, sizeof *evs);
  unsigned char *rbuf = malloc(PATTERN_LEN + 1);
  if (!conns || !evs || !rbuf) die("calloc");
  double deadline = now_s() + timeout_ms / 1e3;
  double cpu0 = -1, cpu1 = -1, user0 = 0, user1 = 0, m0 = 0, m1 = 0;
  long long msgs = 0, bytes = 0; /* bytes: every echoed byte checked, warm-up included */

  /* Connect in small batches, each fully through its ping, so the server's
   * listen backlog never overflows (a dropped SYN costs a 1 s retransmit). */
  const int batch = 50;
  for (int b0 = 0; b0 < total; b0 += batch) {
    int b1 = b0 + batch < total ? b0 + batch : total;
    for (int i = b0; i < b1; i++) {
      struct conn *c = &conns[i];
      c->active = i >= nidle;
      c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (c->fd < 0) die("socket");
      int one = 1;
      setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) die("connect");
      c->state = ST_CONNECTING;
      struct epoll_event e = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
      if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &e) < 0) die("epoll_ctl ADD");
    }
    int pending = b1 - b0;
    while (pending > 0) {
      if (now_s() > deadline) { fprintf(stderr, "echo-load: timed out connecting\n"); errors++; goto report; }
      int n = epoll_wait(epfd, evs, 1024, 100);
      if (n < 0 && errno != EINTR) die("epoll_wait");
      for (int k = 0; k < n; k++) {
        struct conn *c = evs[k].data.ptr;
        if (c->state == ST_CONNECTING) {
          int err = 0;
          socklen_t len = sizeof err;
          getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
          if (err) { fail(c, strerror(err)); pending--; continue; }
          if (send(c->fd, "p", 1, MSG_NOSIGNAL) != 1) { fail(c, "ping send failed"); pending--; continue; }
          c->state = ST_PING;
          set_events(c, EPOLLIN);
        } else if (c->state == ST_PING) {
          unsigned char ch;
          ssize_t r = recv(c->fd, &ch, 1, 0);
          if (r < 0 && errno == EAGAIN) continue;
          pending--;
          if (r != 1 || ch != 'p') { fail(c, r == 0 ? "closed by the server before its first echo" : "ping echo failed"); continue; }
          c->state = c->active ? ST_RUN : ST_IDLE;
          /* Idle ones are silent from now on; dropping them from our epoll set keeps them out of our loop. */
          if (!c->active) epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        }
      }
    }
  }
  if (errors) goto report;

  {
    double t_start = now_s();
    double t_measure = t_start + warmup_ms / 1e3;
    double t_end = t_measure + duration_ms / 1e3;
    int measuring = 0, stopping = 0, inflight = 0;

    for (int i = nidle; i < total; i++) {
      struct conn *c = &conns[i];
      if (c->state != ST_RUN) continue;
      start_msg(c, (size_t)i);
      inflight++;
      pump_send(c, msg_size);
    }
    while (inflight > 0) {
      double t = now_s();
      if (!measuring && !stopping && t >= t_measure) {
        measuring = 1;
        cpu0 = server_cpu(pid, &user0);
        m0 = now_s();
      }
      if (measuring && t >= t_end) {
        m1 = now_s();
        cpu1 = server_cpu(pid, &user1);
        measuring = 0;
        stopping = 1; /* no new messages; let those in flight finish */
        deadline = t + 10;
      }
      if (t > deadline) { fprintf(stderr, "echo-load: timed out waiting for echoes (%d in flight)\n", inflight); errors += inflight; break; }
      int n = epoll_wait(epfd, evs, 1024, 50);
      if (n < 0) { if (errno == EINTR) continue; die("epoll_wait"); }
      for (int k = 0; k < n; k++) {
        struct conn *c = evs[k].data.ptr;
        if (c->state != ST_RUN) continue;
        if (evs[k].events & EPOLLOUT) pump_send(c, msg_size);
        if (c->state != ST_RUN || !(evs[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
        for (;;) {
          ssize_t r = recv(c->fd, rbuf, msg_size - c->got + 1, 0);
          if (r < 0) {
            if (errno == EAGAIN) break;
            if (errno == EINTR) continue;
            fail(c, strerror(errno));
            inflight--;
            break;
          }
          if (r == 0) { fail(c, "closed by the server"); inflight--; break; }
          /* One message in flight: anything past its end is a server bug (bytes from nowhere). */
          if (c->got + (size_t)r > msg_size || memcmp(rbuf, pattern + c->off + c->got, (size_t)r) != 0) {
            if (mismatches < 5) fprintf(stderr, "echo-load: fd %d message %u: echoed bytes differ from those sent\n", c->fd, c->seq);
            mismatches++;
            fail(c, "mismatch");
            inflight--;
            break;
          }
          c->got += (size_t)r;
          if (c->got < msg_size) continue;
          /* The whole message came back. */
          bytes += (long long)msg_size;
          if (measuring) {
            record((now_s() - c->t0) * 1e6);
            msgs++;
          }
          if (stopping) { c->state = ST_DONE; inflight--; break; }
          start_msg(c, (size_t)(c - conns));
          pump_send(c, msg_size);
          break;
        }
      }
    }
    if (m1 == 0) { m1 = now_s(); cpu1 = server_cpu(pid, &user1); }
  }

report:
  {
    double secs = m1 > m0 && m0 > 0 ? m1 - m0 : 0;
    qsort(lat, nlat, sizeof *lat, cmp_double);
    double p50 = nlat ? lat[(size_t)(nlat * 0.50)] : 0;
    double p99 = nlat ? lat[(size_t)(nlat * 0.99) < nlat ? (size_t)(nlat * 0.99) : nlat - 1] : 0;
    double cpu = cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1;
    printf("{\"conns\":%d,\"idle\":%d,\"size\":%zu,\"seconds\":%.4f,\"msgs\":%lld,\"msgs_per_s\":%.1f,"
           "\"p50_us\":%.1f,\"p99_us\":%.1f,\"bytes_verified\":%lld,\"errors\":%ld,\"mismatches\":%ld,"
           "\"server_cpu_s\":%.3f,\"server_user_s\":%.3f,\"server_cpu_us_per_msg\":%.3f}\n",
           nact, nidle, msg_size, secs, msgs, secs > 0 ? msgs / secs : 0.0, p50, p99, bytes, errors, mismatches,
           cpu, user1 - user0, cpu >= 0 && msgs > 0 ? cpu * 1e6 / (double)msgs : -1.0);
    fflush(stdout);
  }
  for (int i = 0; i < total; i++) if (conns[i].state != ST_DONE && conns[i].fd > 0) close(conns[i].fd);
  return mismatches ? 3 : errors ? 1 : 0;
}
