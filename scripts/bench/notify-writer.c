/* bench:notify's clock: writes the CLOCK_MONOTONIC time in nanoseconds (8
 * bytes, host order) to stdout every PERIOD_US microseconds, on an absolute
 * schedule (clock_nanosleep TIMER_ABSTIME, so a late wake-up does not shift
 * the rest), until stdout is closed or COUNT stamps were written.
 *
 *   notify-writer PERIOD_US [COUNT]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long period_us = argc > 1 ? atol(argv[1]) : 2000;
  long count = argc > 2 ? atol(argv[2]) : -1;
  if (period_us <= 0) return 2;
  signal(SIGPIPE, SIG_IGN);
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (long i = 0; count < 0 || i < count; i++) {
    next.tv_nsec += period_us * 1000;
    while (next.tv_nsec >= 1000000000) {
      next.tv_nsec -= 1000000000;
      next.tv_sec++;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR) {
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    if (write(1, &ns, sizeof ns) != (ssize_t)sizeof ns) return 0; /* the reader went away */
  }
  return 0;
}
