/* Async handles: the one thread-safe way into a loop. All async handles of
 * a loop share one wake-up fd (an eventfd on Linux, a pipe elsewhere). */
#include "internal.h"

#include <stdlib.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

static void async_finish_close(fuv_handle_t *h) { (void)h; }

/* Empties a wake-up fd (an eventfd gives its whole count in one read; a
 * read shorter than the buffer empties a pipe). The reads are bounded, so
 * that a writer that never stops (fuv_loop_wakeup_fd() is the caller's to
 * write) cannot keep the loop here: what is left wakes the next poll. */
static void drain_wakeup_fd(int fd) {
  char buf[1024];
  for (int i = 0; i < FUV__MAX_READS_PER_EVENT; i++)
    if (read(fd, buf, sizeof buf) < (ssize_t)sizeof buf)
      return;
}

/* Empties the wake-up fd, then runs the callback of each handle whose
 * pending flag this pass is the one to clear. Each handle runs at most once
 * per pass, as in libuv: the handles move to a local queue and back to the
 * loop's one by one as they are visited, so that one sending to itself from
 * its callback waits for the next iteration instead of keeping timers and
 * I/O from their turn. A callback may close any async handle, which
 * unlinks it from whichever queue holds it, or create one, which joins the
 * loop's queue and so waits for the next pass too. */
static void async_io(fuv_loop_t *loop, fuv__io_t *w, unsigned events) {
  fuv__queue_t batch;
  (void)events;

  drain_wakeup_fd(w->fd);
  /* The worker pool wakes the loop through this fd too. */
  fuv__work_loop_done(loop);
  fuv__queue_move(&loop->async_handles, &batch);
  while (!fuv__queue_empty(&batch)) {
    fuv__queue_t *q = batch.next;
    fuv_async_t *a = FUV__CONTAINER_OF(q, fuv_async_t, async_queue);
    fuv__queue_remove(q);
    fuv__queue_insert_tail(&loop->async_handles, q);
    if (__atomic_exchange_n(&a->pending, 0, __ATOMIC_ACQ_REL) != 0)
      a->cb(a, a->arg);
  }
}

/* A pipe whose ends are both non-blocking and close-on-exec: the wake-up
 * channel where there is no eventfd, and fuv_loop_wakeup_fd()'s. */
static int open_wakeup_pipe(int fds[2]) {
  if (pipe(fds) != 0)
    return fuv__errno();
  fuv__set_nonblock(fds[0], 1);
  fuv__set_nonblock(fds[1], 1);
  fuv__set_cloexec(fds[0]);
  fuv__set_cloexec(fds[1]);
  return 0;
}

static int async_start_wakeup(fuv_loop_t *loop) {
  int rfd;
#ifdef __linux__
  rfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (rfd == -1)
    return fuv__errno();
  loop->async_wfd = rfd;
#else
  int fds[2], r = open_wakeup_pipe(fds);
  if (r != 0)
    return r;
  rfd = fds[0];
  loop->async_wfd = fds[1];
#endif
  fuv__io_init(&loop->async_io, async_io, rfd);
  fuv__io_start(loop, &loop->async_io, FUV__POLLIN);
  return 0;
}

static void close_wakeup(fuv_loop_t *loop, fuv__io_t *w, int *wfd) {
  if (w->fd < 0)
    return;
  fuv__io_close(loop, w);
  if (*wfd != w->fd)
    fuv__close_fd(*wfd);
  fuv__close_fd(w->fd);
  w->fd = -1;
  *wfd = -1;
}

int fuv__async_ensure(fuv_loop_t *loop) {
  return loop->async_io.fd >= 0 ? 0 : async_start_wakeup(loop);
}

/* Only the fd is touched, so any thread may call it. */
int fuv__async_wake(fuv_loop_t *loop) {
  for (;;) {
#ifdef __linux__
    uint64_t one = 1;
    ssize_t n = write(loop->async_wfd, &one, sizeof one);
#else
    char one = 1;
    ssize_t n = write(loop->async_wfd, &one, 1);
#endif
    if (n >= 0 || errno == EAGAIN)
      return 0; /* EAGAIN: the counter is full, so a wake-up is pending */
    if (errno != EINTR)
      return fuv__errno();
  }
}

void fuv__async_loop_free(fuv_loop_t *loop) {
  close_wakeup(loop, &loop->async_io, &loop->async_wfd);
  close_wakeup(loop, &loop->wakeup_io, &loop->wakeup_wfd);
}

/* The wake-up pipe was written: empty it and let fuv_run() know. It is a
 * watcher, not a handle, so it neither keeps the loop alive nor shows in a
 * walk. */
static void wakeup_io(fuv_loop_t *loop, fuv__io_t *w, unsigned events) {
  (void)events;
  drain_wakeup_fd(w->fd);
  loop->woken = 1;
}

int fuv_loop_wakeup_fd(fuv_loop_t *loop) {
  int fds[2], r;
  if (loop == NULL)
    return FUV_EINVAL;
  if (loop->wakeup_wfd >= 0)
    return loop->wakeup_wfd;
  r = open_wakeup_pipe(fds);
  if (r != 0)
    return r;
  fuv__io_init(&loop->wakeup_io, wakeup_io, fds[0]);
  fuv__io_start(loop, &loop->wakeup_io, FUV__POLLIN);
  loop->wakeup_wfd = fds[1];
  return fds[1];
}

int fuv_async_new(fuv_async_t **out, fuv_loop_t *loop, fuv_async_cb cb,
                  void *arg) {
  fuv_async_t *a;
  int r;

  if (out == NULL)
    return FUV_EINVAL;
  *out = NULL;
  if (loop == NULL || cb == NULL)
    return FUV_EINVAL;
  r = fuv__async_ensure(loop);
  if (r != 0)
    return r;
  a = calloc(1, sizeof *a);
  if (a == NULL)
    return FUV_ENOMEM;
  fuv__handle_init(loop, &a->handle, FUV_ASYNC, async_finish_close);
  a->cb = cb;
  a->arg = arg;
  fuv__queue_insert_tail(&loop->async_handles, &a->async_queue);
  fuv__handle_start(&a->handle);
  *out = a;
  return 0;
}

int fuv_async_send(fuv_async_t *a) {
  /* No loop state is touched here but the fd, so any thread may call it. */
  int r = fuv__handle_check_any((const fuv_handle_t *)a, FUV_ASYNC);
  if (r != 0)
    return r;
  if (__atomic_exchange_n(&a->pending, 1, __ATOMIC_ACQ_REL) != 0)
    return 0; /* already pending: coalesced */
  return fuv__async_wake(a->handle.loop);
}
