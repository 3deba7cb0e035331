/*
 * echo-server-c.c: the practical limit for `npm run bench:echo`: a minimal
 * single-threaded echo server in C, on epoll(7) or select(2) (what iomux's
 * epoll and select backends are measured against). Level-triggered either way;
 * read, then write straight back; what a partial write leaves goes into a small
 * per-connection buffer, and the connection is not read again until that is
 * flushed (so a client that stops reading cannot grow our memory). With select,
 * a connection whose fd is >= FD_SETSIZE is closed at once, as iomux's select
 * backend refuses it. Built by scripts/bench/echo.mjs with `cc -O2`.
 *
 *   echo-server-c [--mechanism epoll|select] [--host 127.0.0.1] [--port 0]
 *
 * First line on stdout: {"event":"listening","host":...,"port":N,"pid":N}
 * (the same shape as `iomux echo --json`). SIGTERM/SIGINT end it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#define RBUF (64 * 1024)

struct conn {
  int fd;
  char *pend; /* bytes a partial write left; NULL when none */
  size_t len, off;
};

/* ---- the readiness mechanism: interest in reading, or (while flushing) in writing only ---- */

static enum { EPOLL, SELECT } mechanism = EPOLL;
static int ls; /* the listener */

static int epfd;

/* select: the interest sets, and which connection each fd is (select reports fds, not pointers). */
static fd_set want_rd, want_wr;
static struct conn *by_fd[FD_SETSIZE];
static int maxfd = -1;

/* Starts watching c for reading (c == NULL: the listener). -1 when the mechanism cannot take the fd. */
static int watch(int fd, struct conn *c) {
  if (mechanism == EPOLL) {
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e);
  }
  if (fd >= FD_SETSIZE) return -1; /* FD_SET past the end would write out of bounds */
  FD_SET(fd, &want_rd);
  by_fd[fd] = c;
  if (fd > maxfd) maxfd = fd;
  return 0;
}

static void want(struct conn *c, int out) {
  if (mechanism == EPOLL) {
    struct epoll_event e = {.events = out ? EPOLLOUT : EPOLLIN, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e);
    return;
  }
  if (out) {
    FD_CLR(c->fd, &want_rd);
    FD_SET(c->fd, &want_wr);
  } else {
    FD_CLR(c->fd, &want_wr);
    FD_SET(c->fd, &want_rd);
  }
}

static void drop(struct conn *c) {
  if (mechanism == SELECT) { /* (closing removes an fd from an epoll set by itself) */
    FD_CLR(c->fd, &want_rd);
    FD_CLR(c->fd, &want_wr);
    by_fd[c->fd] = NULL;
    while (maxfd >= 0 && maxfd != ls && !by_fd[maxfd]) maxfd--;
  }
  close(c->fd);
  free(c->pend);
  free(c);
}

/* ---- the connections: the same code whichever mechanism reported them ---- */

static void accept_some(void) {
  int one = 1;
  for (int i = 0; i < 64; i++) {
    int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) break; /* EAGAIN, or EMFILE: level-triggered, we come back */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct conn *nc = calloc(1, sizeof *nc);
    if (!nc) { close(fd); continue; }
    nc->fd = fd;
    if (watch(fd, nc) < 0) { close(fd); free(nc); }
  }
}

/* Writes buf; keeps what the kernel did not take. Returns -1 if the peer is gone. */
static int send_or_keep(struct conn *c, const char *buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = send(c->fd, buf + done, n - done, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return -1;
    }
    done += (size_t)w;
  }
  if (done < n) {
    char *p = malloc(n - done);
    if (!p) return -1;
    memcpy(p, buf + done, n - done);
    c->pend = p;
    c->len = n - done;
    c->off = 0;
    want(c, 1); /* stop reading until this is out */
  }
  return 0;
}

/* c is readable, or writable while flushing, or in error: recv/send say which. */
static void serve(struct conn *c) {
  static char buf[RBUF];
  if (c->pend) {
    ssize_t w = send(c->fd, c->pend + c->off, c->len - c->off, MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN && errno != EINTR) { drop(c); return; }
    if (w > 0) c->off += (size_t)w;
    if (c->off == c->len) {
      free(c->pend);
      c->pend = NULL;
      want(c, 0);
    }
    return;
  }
  ssize_t r = recv(c->fd, buf, sizeof buf, 0);
  if (r < 0) {
    if (errno != EAGAIN && errno != EINTR) drop(c);
    return;
  }
  if (r == 0) { drop(c); return; } /* EOF; nothing owed (no pending bytes) */
  if (send_or_keep(c, buf, (size_t)r) < 0) drop(c);
}

/* ---- the loops ---- */

static int run_epoll(void) {
  struct epoll_event evs[256];
  for (;;) {
    int n = epoll_wait(epfd, evs, 256, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("echo-server-c: epoll_wait");
      return 1;
    }
    for (int k = 0; k < n; k++) {
      struct conn *c = evs[k].data.ptr;
      if (c) serve(c);
      else accept_some();
    }
  }
}

static int run_select(void) {
  for (;;) {
    fd_set rd = want_rd, wr = want_wr;
    int n = select(maxfd + 1, &rd, &wr, NULL, NULL);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("echo-server-c: select");
      return 1;
    }
    /* What select(2) costs its caller too: a scan of every fd up to the highest. */
    int top = maxfd;
    for (int fd = 0; fd <= top && n > 0; fd++) {
      int ready = FD_ISSET(fd, &rd) || FD_ISSET(fd, &wr);
      if (!ready) continue;
      n--;
      if (fd == ls) accept_some();
      else if (by_fd[fd]) serve(by_fd[fd]); /* NULL: dropped earlier in this scan */
    }
  }
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--host")) host = argv[i + 1];
    else if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--mechanism") && !strcmp(argv[i + 1], "epoll")) mechanism = EPOLL;
    else if (!strcmp(argv[i], "--mechanism") && !strcmp(argv[i + 1], "select")) mechanism = SELECT;
    else { fprintf(stderr, "echo-server-c: unknown option %s %s\n", argv[i], argv[i + 1]); return 2; }
  }
  if (argc % 2 == 0) { fprintf(stderr, "echo-server-c: %s needs a value\n", argv[argc - 1]); return 2; }
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) { fprintf(stderr, "echo-server-c: bad host\n"); return 2; }
  if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, SOMAXCONN) < 0) { perror("echo-server-c: bind/listen"); return 1; }
  socklen_t sl = sizeof sa;
  getsockname(ls, (struct sockaddr *)&sa, &sl);
  if (mechanism == EPOLL && (epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) { perror("echo-server-c: epoll_create1"); return 1; }
  if (watch(ls, NULL) < 0) { perror("echo-server-c: watching the listener"); return 1; }
  printf("{\"event\":\"listening\",\"host\":\"%s\",\"port\":%d,\"pid\":%d}\n", host, ntohs(sa.sin_port), (int)getpid());
  fflush(stdout);
  return mechanism == EPOLL ? run_epoll() : run_select();
}
