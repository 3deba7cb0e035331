/*
 * echo-server-c.c: the practical limit for `npm run bench:echo`: a minimal
 * single-threaded epoll echo server in C. Level-triggered; read, then write
 * straight back; what a partial write leaves goes into a small per-connection
 * buffer, and the connection is not read again until that is flushed (so a
 * client that stops reading cannot grow our memory). Built by
 * scripts/bench/echo.mjs with `cc -O2`.
 *
 *   echo-server-c [--host 127.0.0.1] [--port 0]
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
#include <sys/socket.h>
#include <unistd.h>

#define RBUF (64 * 1024)

struct conn {
  int fd;
  char *pend; /* bytes a partial write left; NULL when none */
  size_t len, off;
};

static int epfd;

static void drop(struct conn *c) {
  close(c->fd); /* closing removes it from the epoll set */
  free(c->pend);
  free(c);
}

static void want(struct conn *c, uint32_t ev) {
  struct epoll_event e = {.events = ev, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &e);
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
    want(c, EPOLLOUT); /* stop reading until this is out */
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1";
  int port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--host")) host = argv[i + 1];
    else if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
    else { fprintf(stderr, "echo-server-c: unknown option %s\n", argv[i]); return 2; }
  }
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) { fprintf(stderr, "echo-server-c: bad host\n"); return 2; }
  if (bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, SOMAXCONN) < 0) { perror("echo-server-c: bind/listen"); return 1; }
  socklen_t sl = sizeof sa;
  getsockname(ls, (struct sockaddr *)&sa, &sl);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event le = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(epfd, EPOLL_CTL_ADD, ls, &le);
  printf("{\"event\":\"listening\",\"host\":\"%s\",\"port\":%d,\"pid\":%d}\n", host, ntohs(sa.sin_port), (int)getpid());
  fflush(stdout);

  static char buf[RBUF];
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
      if (!c) {
        for (int i = 0; i < 64; i++) {
          int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) break; /* EAGAIN, or EMFILE: level-triggered, we come back */
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct conn *nc = calloc(1, sizeof *nc);
          if (!nc) { close(fd); continue; }
          nc->fd = fd;
          struct epoll_event e = {.events = EPOLLIN, .data.ptr = nc};
          if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) < 0) { close(fd); free(nc); }
        }
        continue;
      }
      if (c->pend) {
        /* Flushing: EPOLLOUT (or an error) only. */
        ssize_t w = send(c->fd, c->pend + c->off, c->len - c->off, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR) { drop(c); continue; }
        if (w > 0) c->off += (size_t)w;
        if (c->off == c->len) {
          free(c->pend);
          c->pend = NULL;
          want(c, EPOLLIN);
        }
        continue;
      }
      ssize_t r = recv(c->fd, buf, sizeof buf, 0);
      if (r < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        drop(c);
        continue;
      }
      if (r == 0) { drop(c); continue; } /* EOF; nothing owed (no pending bytes) */
      if (send_or_keep(c, buf, (size_t)r) < 0) drop(c);
    }
  }
}
