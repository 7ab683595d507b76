/* Small platform helpers: the clock and file descriptor flags. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

uint64_t fuv_hrtime(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t fuv__hrtime_ms(void) { return fuv_hrtime() / 1000000u; }

/* nanosleep() leaves what is left of an interrupted sleep in its second
 * argument, so resuming with it sleeps msec in all. */
int fuv_sleep(unsigned int msec) {
  struct timespec left;
  left.tv_sec = (time_t)(msec / 1000u);
  left.tv_nsec = (long)(msec % 1000u) * 1000000L;
  while (nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
  return 0;
}

int fuv__set_nonblock(int fd, int on) {
  int flags = fcntl(fd, F_GETFL);
  if (flags == -1)
    return fuv__errno();
  int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (wanted != flags && fcntl(fd, F_SETFL, wanted) == -1)
    return fuv__errno();
  return 0;
}

int fuv__set_cloexec(int fd) {
  int flags = fcntl(fd, F_GETFD);
  if (flags == -1)
    return fuv__errno();
  if (!(flags & FD_CLOEXEC) && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1)
    return fuv__errno();
  return 0;
}

/* close() may be interrupted, but on Linux the fd is gone either way, so
 * retrying would risk closing an fd another thread just opened. */
void fuv__close_fd(int fd) {
  if (fd >= 0)
    close(fd);
}

int fuv__set_int_option(int fd, int level, int name, int value) {
  if (setsockopt(fd, level, name, &value, sizeof value) != 0)
    return fuv__errno();
  return 0;
}

int fuv__get_int_option(int fd, int level, int name) {
  int value = 0;
  socklen_t len = sizeof value;
  if (getsockopt(fd, level, name, &value, &len) != 0)
    return fuv__errno();
  return value;
}

int fuv__socket_error(int fd) {
  int value = fuv__get_int_option(fd, SOL_SOCKET, SO_ERROR);
  return value < 0 ? value : fuv_translate_sys_error(value);
}
