/*
 * bench-select.c: the baseline for `npm run bench:select`. Times the raw
 * zero-timeout select(2), poll(2), epoll_wait(2) and io_uring readiness
 * (IORING_OP_POLL_ADD through raw syscalls) in a tight loop, including
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
#include <linux/io_uring.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
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

/* ---- io_uring: one single-shot IORING_OP_POLL_ADD per registered fd. A poll
 * that completed is re-armed by the next call, and completes during that very
 * io_uring_enter while its fd is still ready: level-triggered readiness, as a C
 * program gets it from io_uring (a multishot poll reports wake-ups, not
 * readiness, and would report nothing after the first call here). So each call
 * submits A SQEs and reaps A CQEs with one io_uring_enter. */
static int ur_fd = -1;
static unsigned *ur_sq_head, *ur_sq_tail, *ur_sq_array, ur_sq_mask, ur_sq_entries, ur_local_tail, ur_pending;
static unsigned *ur_cq_head, *ur_cq_tail, ur_cq_mask;
static struct io_uring_sqe *ur_sqes;
static struct io_uring_cqe *ur_cqes;
static void *ur_sq_ring, *ur_cq_ring;
static size_t ur_sq_len, ur_cq_len, ur_sqes_len;
static int *ur_rearm, ur_nrearm;

static void ur_submit(unsigned min_complete, unsigned flags) {
  if (syscall(__NR_io_uring_enter, ur_fd, ur_pending, min_complete, flags, NULL, 0) < 0) die("io_uring_enter");
  ur_pending = 0;
}

static void ur_poll_add(int fd) {
  if (ur_local_tail - __atomic_load_n(ur_sq_head, __ATOMIC_ACQUIRE) >= ur_sq_entries) ur_submit(0, 0);
  struct io_uring_sqe *e = &ur_sqes[ur_local_tail & ur_sq_mask];
  memset(e, 0, sizeof *e);
  e->opcode = IORING_OP_POLL_ADD;
  e->fd = fd;
  e->poll32_events = POLLIN;
  e->user_data = (uint64_t)fd;
  __atomic_store_n(ur_sq_tail, ++ur_local_tail, __ATOMIC_RELEASE);
  ur_pending++;
}

/* Takes the completions off the CQ; each is a ready fd whose poll must be re-armed. */
static int ur_reap(void) {
  unsigned head = *ur_cq_head, tail = __atomic_load_n(ur_cq_tail, __ATOMIC_ACQUIRE);
  int found = 0;
  for (; head != tail; head++) {
    const struct io_uring_cqe *c = &ur_cqes[head & ur_cq_mask];
    if (c->res > 0) ur_rearm[ur_nrearm++] = (int)c->user_data;
    found++;
  }
  __atomic_store_n(ur_cq_head, head, __ATOMIC_RELEASE);
  return found;
}

static void uring_setup(const struct fdset *s) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
  p.cq_entries = 256 * 16; /* as iomux's UringSelector: 256 SQ entries, a CQ 16 times as large */
  ur_fd = (int)syscall(__NR_io_uring_setup, 256, &p);
  if (ur_fd < 0) die("io_uring_setup");
  ur_sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  ur_cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  ur_sq_ring = mmap(NULL, ur_sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ur_fd, IORING_OFF_SQ_RING);
  ur_cq_ring = mmap(NULL, ur_cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ur_fd, IORING_OFF_CQ_RING);
  ur_sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
  ur_sqes = mmap(NULL, ur_sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ur_fd, IORING_OFF_SQES);
  if (ur_sq_ring == MAP_FAILED || ur_cq_ring == MAP_FAILED || ur_sqes == MAP_FAILED) die("mmap");
  char *sq = ur_sq_ring, *cq = ur_cq_ring;
  ur_sq_head = (unsigned *)(sq + p.sq_off.head);
  ur_sq_tail = (unsigned *)(sq + p.sq_off.tail);
  ur_sq_mask = *(unsigned *)(sq + p.sq_off.ring_mask);
  ur_sq_entries = *(unsigned *)(sq + p.sq_off.ring_entries);
  ur_sq_array = (unsigned *)(sq + p.sq_off.array);
  for (unsigned i = 0; i < ur_sq_entries; i++) ur_sq_array[i] = i;
  ur_local_tail = *ur_sq_tail;
  ur_cq_head = (unsigned *)(cq + p.cq_off.head);
  ur_cq_tail = (unsigned *)(cq + p.cq_off.tail);
  ur_cq_mask = *(unsigned *)(cq + p.cq_off.ring_mask);
  ur_cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
  ur_rearm = calloc((size_t)s->n, sizeof *ur_rearm);
  ur_nrearm = 0;
  /* Arm every fd; the ready ones complete at once and are found by the first call. */
  for (int i = 0; i < s->n; i++) {
    ur_poll_add(s->ends[i]);
    if (ur_pending == ur_sq_entries) {
      ur_submit(0, 0);
      ur_reap();
    }
  }
  ur_submit(0, 0);
}

static int uring_once(void) {
  int n = ur_nrearm;
  ur_nrearm = 0;
  for (int i = 0; i < n; i++) ur_poll_add(ur_rearm[i]);
  if (ur_pending) ur_submit(0, 0);
  return ur_reap();
}

static void uring_teardown(void) {
  munmap(ur_sqes, ur_sqes_len);
  munmap(ur_cq_ring, ur_cq_len);
  munmap(ur_sq_ring, ur_sq_len);
  close(ur_fd);
  free(ur_rearm);
}

static const struct backend backends[] = {
    {"select", 1000, select_setup, select_once, nothing},
    {"poll", 0, poll_setup, poll_once, poll_teardown},
    {"epoll", 0, epoll_setup, epoll_once, epoll_teardown},
    {"io_uring", 0, uring_setup, uring_once, uring_teardown},
    /* The same C loop: the baseline for iomux's { multishot: false } row too. */
    {"io_uring-single", 0, uring_setup, uring_once, uring_teardown},
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

  int nb = variants ? 6 : 4;  /* io_uring-single is the same loop as io_uring */
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
