/*
 * bench-select.c: the baseline for `npm run bench:select`. Times the raw
 * zero-timeout select(2), poll(2) and epoll_wait(2) in a tight loop, including
 * what a C program must do to find the ready fds, so that iomux and CPython can
 * be compared with the cost of the syscall itself.
 *
 * Built by scripts/bench/select.mjs with `cc -O2` when the benchmark runs.
 *
 *   bench-select [--quick] [--round-ms MS] [--rounds R] [--variants] [--serve] [--idle-thread]
 *
 * Prints one JSON object per line:
 *   {"impl":"c","backend":"poll","n":100,"a":1,"ns":412.3,"iters":50000,"rounds":7}
 * with `ns` the median over the rounds of the ns per call. --variants adds
 * backend "select3": select(2) given a read, a write and an except set, which
 * is what iomux's SelectSet passes, to show what the two empty sets cost.
 *
 * The fd layout (the same in the Node and Python halves): N registered fds are
 * the ends of ceil(N/2) AF_UNIX socketpairs, both ends registered, so that
 * N = 10000 needs about 10000 fds, not 20000. A ready fd is made readable by
 * writing one byte to its partner and never reading it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const int kSizes[] = {1, 10, 100, 1000, 10000};
static double round_ms = 50;
static int rounds = 7;
static volatile long sink; /* keeps the result scans from being optimised away */

static void die(const char *what) {
  fprintf(stderr, "bench-select: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ends[i] for i < n are registered; ends[i ^ 1] is the other end of ends[i]'s pair. */
struct fdset {
  int n;
  int nends;
  int *ends;
};

static void make_fds(struct fdset *s, int n, int a) {
  int pairs = (n + 1) / 2;
  s->n = n;
  s->nends = 2 * pairs;
  s->ends = malloc(sizeof(int) * s->nends);
  for (int j = 0; j < pairs; j++)
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, &s->ends[2 * j]) < 0) die("socketpair");
  /* The ready ones are spread evenly over the registered fds. */
  for (int k = 0; k < a; k++) {
    int i = (int)((int64_t)k * n / a);
    if (write(s->ends[i ^ 1], "x", 1) != 1) die("write");
  }
}

static void free_fds(struct fdset *s) {
  for (int i = 0; i < s->nends; i++) close(s->ends[i]);
  free(s->ends);
}

/* One implementation of "wait with timeout 0 and count the ready fds". */
struct backend {
  const char *name;
  int max_n; /* 0: no limit */
  void (*setup)(const struct fdset *s);
  int (*once)(void);
  void (*teardown)(void);
};

/* ---- select: copy the fd_set, select, scan the registered fds with FD_ISSET. */
static fd_set sel_rd;
static int sel_nfds;
static const int *sel_fds;
static int sel_n;

static void select_setup(const struct fdset *s) {
  FD_ZERO(&sel_rd);
  sel_nfds = 0;
  for (int i = 0; i < s->n; i++) {
    if (s->ends[i] >= FD_SETSIZE) {
      fprintf(stderr, "bench-select: fd %d >= FD_SETSIZE\n", s->ends[i]);
      exit(1);
    }
    FD_SET(s->ends[i], &sel_rd);
    if (s->ends[i] + 1 > sel_nfds) sel_nfds = s->ends[i] + 1;
  }
  sel_fds = s->ends;
  sel_n = s->n;
}

static int select_once(void) {
  fd_set r = sel_rd;
  struct timeval tv = {0, 0}; /* Linux updates it, so it is set each time */
  int n = select(sel_nfds, &r, NULL, NULL, &tv);
  if (n < 0) die("select");
  int found = 0;
  if (n > 0)
    for (int i = 0; i < sel_n; i++)
      if (FD_ISSET(sel_fds[i], &r)) found++;
  return found;
}

/* select3: as iomux's SelectSet does it, with an (empty) write and except set
 * too. Shares select's setup; static storage leaves both sets empty. */
static fd_set sel_wr, sel_ex;
static int select3_once(void) {
  fd_set r = sel_rd, w = sel_wr, x = sel_ex;
  struct timeval tv = {0, 0};
  int n = select(sel_nfds, &r, &w, &x, &tv);
  if (n < 0) die("select");
  int found = 0;
  if (n > 0)
    for (int i = 0; i < sel_n; i++)
      if (FD_ISSET(sel_fds[i], &r) || FD_ISSET(sel_fds[i], &w)) found++;
  return found;
}
static void select3_setup(const struct fdset *s) {
  select_setup(s);
  FD_ZERO(&sel_wr);
  FD_ZERO(&sel_ex);
}

static void nothing(void) {}

/* ---- poll: poll over the pollfd array, then scan revents. */
static struct pollfd *pfds;
static int pfd_n;

static void poll_setup(const struct fdset *s) {
  pfd_n = s->n;
  pfds = calloc((size_t)s->n, sizeof *pfds);
  for (int i = 0; i < s->n; i++) {
    pfds[i].fd = s->ends[i];
    pfds[i].events = POLLIN;
  }
}

static int poll_once(void) {
  int n = poll(pfds, (nfds_t)pfd_n, 0);
  if (n < 0) die("poll");
  int found = 0;
  if (n > 0)
    for (int i = 0; i < pfd_n; i++)
      if (pfds[i].revents) found++;
  return found;
}

static void poll_teardown(void) { free(pfds); }

/* ---- epoll: epoll_wait into an events array as large as the set. */
static int epfd;
static struct epoll_event *evs;
static int ev_n;

static void epoll_setup(const struct fdset *s) {
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) die("epoll_create1");
  for (int i = 0; i < s->n; i++) {
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = s->ends[i]};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, s->ends[i], &ev) < 0) die("epoll_ctl");
  }
  ev_n = s->n;
  evs = calloc((size_t)s->n, sizeof *evs);
}

static int epoll_once(void) {
  int n = epoll_wait(epfd, evs, ev_n, 0);
  if (n < 0) die("epoll_wait");
  long fds = 0;
  for (int i = 0; i < n; i++) fds += evs[i].data.fd; /* a caller looks at each event */
  sink += fds;
  return n;
}

static void epoll_teardown(void) {
  close(epfd);
  free(evs);
}

static const struct backend backends[] = {
    {"select", 1000, select_setup, select_once, nothing},
    {"poll", 0, poll_setup, poll_once, poll_teardown},
    {"epoll", 0, epoll_setup, epoll_once, epoll_teardown},
    {"select3", 1000, select3_setup, select3_once, nothing},
};

static const struct backend *find_backend(const char *name) {
  for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
    if (!strcmp(backends[i].name, name)) return &backends[i];
  return NULL;
}

static double run_round(int (*once)(void), long iters) {
  long found = 0;
  int64_t t0 = now_ns();
  for (long i = 0; i < iters; i++) found += once();
  int64_t t1 = now_ns();
  sink += found;
  return (double)(t1 - t0) / (double)iters;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Warm up and size a round to about ms milliseconds. */
static long calibrate(int (*once)(void), double ms_target) {
  long iters = 16;
  for (;;) {
    int64_t t0 = now_ns();
    run_round(once, iters);
    double ms = (double)(now_ns() - t0) / 1e6;
    if (ms >= ms_target / 4) {
      iters = (long)((double)iters * ms_target / (ms > 0 ? ms : 1e-3));
      return iters < 1 ? 1 : iters;
    }
    iters *= 4;
  }
}

/* One cell: fds, registration, and the check that exactly A fds are reported ready. */
static struct fdset cur;
static const struct backend *cur_b;

static void setup_cell(const struct backend *b, int n, int a) {
  make_fds(&cur, n, a);
  b->setup(&cur);
  cur_b = b;
  int got = b->once();
  if (got != a) {
    fprintf(stderr, "bench-select: %s n=%d: %d ready, expected %d\n", b->name, n, got, a);
    exit(1);
  }
}

static void teardown_cell(void) {
  cur_b->teardown();
  free_fds(&cur);
  cur_b = NULL;
}

static void bench(const struct backend *b, int n, int a) {
  setup_cell(b, n, a);
  long iters = calibrate(b->once, round_ms);
  double per[64];
  for (int r = 0; r < rounds; r++) per[r] = run_round(b->once, iters);
  qsort(per, (size_t)rounds, sizeof per[0], cmp_double);
  printf("{\"impl\":\"c\",\"backend\":\"%s\",\"n\":%d,\"a\":%d,\"ns\":%.1f,\"iters\":%ld,\"rounds\":%d}\n", b->name, n,
         a, per[rounds / 2], iters, rounds);
  fflush(stdout);
  teardown_cell();
}

/*
 * --serve: driven line by line on stdin by bench-select.mjs, so that the C, iomux
 * and CPython rounds of a cell can be interleaved (on a busy machine, load
 * then hits all three alike instead of whichever ran during a busy spell).
 *   setup BACKEND N A   -> ok          calibrate MS KIND -> ITERS
 *   round ITERS KIND    -> NS_PER_CALL  teardown          -> ok
 * KIND names the loop: "main" is the backend itself; for select, "select3"
 * is the three-set variant.
 */
static int serve(void) {
  char line[256], word[32], kind[32];
  while (fgets(line, sizeof line, stdin)) {
    int n, a;
    long iters;
    double ms;
    if (sscanf(line, "setup %31s %d %d", word, &n, &a) == 3) {
      const struct backend *b = find_backend(word);
      if (!b) {
        fprintf(stderr, "bench-select: unknown backend %s\n", word);
        return 1;
      }
      setup_cell(b, n, a);
      printf("ok\n");
    } else if (sscanf(line, "calibrate %lf %31s", &ms, kind) == 2) {
      const struct backend *k = strcmp(kind, "main") ? find_backend(kind) : cur_b;
      printf("%ld\n", calibrate(k->once, ms));
    } else if (sscanf(line, "round %ld %31s", &iters, kind) == 2) {
      const struct backend *k = strcmp(kind, "main") ? find_backend(kind) : cur_b;
      printf("%.1f\n", run_round(k->once, iters));
    } else if (!strncmp(line, "teardown", 8)) {
      teardown_cell();
      printf("ok\n");
    } else {
      fprintf(stderr, "bench-select: bad command: %s", line);
      return 1;
    }
    fflush(stdout);
  }
  return 0;
}

static void *idle(void *arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

int main(int argc, char **argv) {
  int variants = 0, serving = 0, idle_thread = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--quick")) {
      round_ms = 10;
      rounds = 3;
    } else if (!strcmp(argv[i], "--round-ms") && i + 1 < argc) {
      round_ms = atof(argv[++i]);
    } else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
      rounds = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--variants")) {
      variants = 1;
    } else if (!strcmp(argv[i], "--serve")) {
      serving = 1;
    } else if (!strcmp(argv[i], "--idle-thread")) {
      idle_thread = 1;
    } else {
      fprintf(stderr, "usage: %s [--quick] [--round-ms MS] [--rounds R] [--variants] [--serve] [--idle-thread]\n", argv[0]);
      return 2;
    }
  }
  if (rounds < 1) rounds = 1;
  if (rounds > 63) rounds = 63;

  /* N = 10000 needs about 10000 fds: raise the soft limit to the hard one. */
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  getrlimit(RLIMIT_NOFILE, &rl);
  pthread_t th;
  if (idle_thread && pthread_create(&th, NULL, idle, NULL) != 0) die("pthread_create");
  if (serving) return serve();

  int nb = variants ? 4 : 3;
  for (int k = 0; k < nb; k++) {
    const struct backend *b = &backends[k];
    for (size_t i = 0; i < sizeof kSizes / sizeof kSizes[0]; i++) {
      int n = kSizes[i];
      if (b->max_n && n > b->max_n) continue;
      if ((rlim_t)n + 64 > rl.rlim_cur) {
        fprintf(stderr, "bench-select: skipping n=%d: RLIMIT_NOFILE is %llu\n", n, (unsigned long long)rl.rlim_cur);
        continue;
      }
      int as[2] = {1, n < 100 ? n : 100};
      for (int j = 0; j < (as[1] == 1 ? 1 : 2); j++) bench(b, n, as[j]);
    }
  }
  return 0;
}
