/* fuv_print_all_handles / fuv_print_active_handles: libuv's debugging
 * listing of a loop's handles, one line each, written to a file
 * descriptor so that every binding can use it (a FILE is C's alone). */
#include "internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/* Writes all len bytes, resuming after signals and partial writes. */
static int write_all(int fd, const char *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return fuv__errno();
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

/* "[RAI] kind address": R referenced, A active, I internal (this library
 * has no internal handles, but keeps libuv's column). */
static int print_handle(int fd, const fuv_handle_t *h) {
  char line[96];
  int n = snprintf(line, sizeof line, "[%c%c-] %-8s %p\n",
                   (h->flags & FUV__HANDLE_REF) ? 'R' : '-',
                   (h->flags & FUV__HANDLE_ACTIVE) ? 'A' : '-',
                   fuv_handle_type_name(h->type), (const void *)h);
  if (n < 0)
    return FUV_EIO;
  return write_all(fd, line, (size_t)n < sizeof line ? (size_t)n
                                                     : sizeof line - 1);
}

static int print_handles(fuv_loop_t *loop, int fd, int only_active) {
  fuv__queue_t *q;
  if (loop == NULL || fd < 0)
    return FUV_EINVAL;
  /* A closed fd is an error even when there is nothing to print. */
  if (fcntl(fd, F_GETFD) < 0)
    return fuv__errno();
  for (q = loop->handles.next; q != &loop->handles; q = q->next) {
    const fuv_handle_t *h =
        FUV__CONTAINER_OF(q, fuv_handle_t, handle_queue);
    int r;
    if (only_active && !(h->flags & FUV__HANDLE_ACTIVE))
      continue;
    r = print_handle(fd, h);
    if (r != 0)
      return r;
  }
  return 0;
}

int fuv_print_all_handles(fuv_loop_t *loop, int fd) {
  return print_handles(loop, fd, 0);
}

int fuv_print_active_handles(fuv_loop_t *loop, int fd) {
  return print_handles(loop, fd, 1);
}
