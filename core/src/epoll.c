/* The Linux backend: level-triggered epoll. */
#include "internal.h"

#include <signal.h>

#include <stdlib.h>
#include <sys/epoll.h>

#define FUV__EPOLL_MAX_EVENTS 1024

int fuv__backend_init(fuv_loop_t *loop) {
  loop->backend_fd = epoll_create1(EPOLL_CLOEXEC);
  if (loop->backend_fd == -1)
    return fuv__errno();
  loop->backend_events =
      malloc(FUV__EPOLL_MAX_EVENTS * sizeof(struct epoll_event));
  if (loop->backend_events == NULL) {
    fuv__close_fd(loop->backend_fd);
    return FUV_ENOMEM;
  }
  return 0;
}

void fuv__backend_free(fuv_loop_t *loop) {
  fuv__close_fd(loop->backend_fd);
  loop->backend_fd = -1;
  free(loop->backend_events);
  loop->backend_events = NULL;
}

int fuv__backend_fd(const fuv_loop_t *loop) { return loop->backend_fd; }

static uint32_t to_epoll(unsigned events) {
  return ((events & FUV__POLLIN) ? EPOLLIN : 0) |
         ((events & FUV__POLLOUT) ? EPOLLOUT : 0);
}

int fuv__backend_update(fuv_loop_t *loop, fuv__io_t *w) {
  struct epoll_event ev;
  int op;

  if (w->wanted == w->registered)
    return 0;
  ev.events = to_epoll(w->wanted);
  ev.data.fd = w->fd;
  if (w->wanted == 0)
    op = EPOLL_CTL_DEL;
  else if (w->registered == 0)
    op = EPOLL_CTL_ADD;
  else
    op = EPOLL_CTL_MOD;
  if (epoll_ctl(loop->backend_fd, op, w->fd, &ev) != 0) {
    /* An fd reused behind our back may already be registered. */
    if (!(op == EPOLL_CTL_ADD && errno == EEXIST &&
          epoll_ctl(loop->backend_fd, EPOLL_CTL_MOD, w->fd, &ev) == 0))
      return fuv__errno();
  }
  w->registered = w->wanted;
  return 0;
}

/* Drops events already fetched for the fd, so that a watcher closed by an
 * earlier callback of the same batch (whose fd may even be reused by then)
 * never sees them. */
static void invalidate_fetched(fuv_loop_t *loop, int fd) {
  struct epoll_event *events = loop->backend_events;
  for (int i = 0; i < loop->backend_nevents; i++)
    if (events[i].data.fd == fd)
      events[i].data.fd = -1;
}

void fuv__backend_remove(fuv_loop_t *loop, fuv__io_t *w) {
  if (w->registered != 0) {
    struct epoll_event ev = {0, {0}};
    epoll_ctl(loop->backend_fd, EPOLL_CTL_DEL, w->fd, &ev);
  }
  invalidate_fetched(loop, w->fd);
}

static unsigned from_epoll(uint32_t events) {
  return ((events & EPOLLIN) ? FUV__POLLIN : 0) |
         ((events & EPOLLOUT) ? FUV__POLLOUT : 0) |
         ((events & EPOLLHUP) ? FUV__POLLHUP : 0) |
         ((events & EPOLLERR) ? FUV__POLLERR : 0);
}

int fuv__backend_poll(fuv_loop_t *loop, int timeout) {
  struct epoll_event *events = loop->backend_events;
  int n;

  sigset_t buf;
  const sigset_t *mask = fuv__loop_wait_mask(loop, &buf);
  uint64_t begin;

  fuv__io_flush(loop);
  begin = fuv__metrics_wait_begin(loop, timeout);
  for (;;) {
    n = epoll_pwait(loop->backend_fd, events, FUV__EPOLL_MAX_EVENTS, timeout,
                    mask);
    if (n >= 0)
      break;
    if (errno != EINTR)
      return fuv__errno();
    if (fuv__poll_interrupted(loop, &timeout) != 0) {
      fuv__metrics_wait_end(loop, begin, 0);
      return FUV_EINTR;
    }
  }
  fuv__metrics_wait_end(loop, begin, n);
  loop->time = fuv__hrtime_ms();
  loop->backend_nevents = n;
  for (int i = 0; i < n; i++) {
    int fd = events[i].data.fd;
    fuv__io_t *w;
    if (fd < 0 || (size_t)fd >= loop->nwatchers)
      continue;
    w = loop->watchers[fd];
    if (w == NULL)
      continue;
    loop->metrics_events++;
    w->cb(loop, w, from_epoll(events[i].events));
  }
  loop->backend_nevents = 0;
  return 0;
}
