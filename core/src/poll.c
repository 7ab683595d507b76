/* The portable backend: poll(2) over an array the loop keeps in step with
 * its watchers. It has no kernel object, so every change is free. */
#include "internal.h"

#include <poll.h>
#include <signal.h>
#include <time.h>
#include <stdlib.h>

int fuv__backend_init(fuv_loop_t *loop) {
  loop->backend_fd = -1;
  return 0;
}

void fuv__backend_free(fuv_loop_t *loop) {
  free(loop->backend_fds);
  loop->backend_fds = NULL;
  loop->backend_nfds = loop->backend_capfds = 0;
}

int fuv__backend_fd(const fuv_loop_t *loop) {
  (void)loop;
  return FUV_ENOSYS;
}

static short to_poll(unsigned events) {
  return (short)(((events & FUV__POLLIN) ? POLLIN : 0) |
                 ((events & FUV__POLLOUT) ? POLLOUT : 0));
}

static int append_slot(fuv_loop_t *loop, fuv__io_t *w) {
  struct pollfd *fds;
  if (loop->backend_nfds == loop->backend_capfds) {
    size_t cap = loop->backend_capfds ? loop->backend_capfds * 2 : 64;
    fds = realloc(loop->backend_fds, cap * sizeof *fds);
    if (fds == NULL)
      return FUV_ENOMEM;
    loop->backend_fds = fds;
    loop->backend_capfds = cap;
  }
  fds = loop->backend_fds;
  w->backend_index = (int)loop->backend_nfds++;
  fds[w->backend_index].fd = w->fd;
  fds[w->backend_index].revents = 0;
  return 0;
}

/* Takes the watcher's slot out by moving the last slot into it. */
static void remove_slot(fuv_loop_t *loop, fuv__io_t *w) {
  struct pollfd *fds = loop->backend_fds;
  size_t last;

  if (w->backend_index < 0)
    return;
  last = --loop->backend_nfds;
  if ((size_t)w->backend_index != last) {
    fds[w->backend_index] = fds[last];
    loop->watchers[fds[last].fd]->backend_index = w->backend_index;
  }
  w->backend_index = -1;
}

/* Every slot has a watcher with a non-empty wish: a watcher that wants
 * nothing gives its slot up, so that poll() never reports hang-ups nobody
 * asked for. */
int fuv__backend_update(fuv_loop_t *loop, fuv__io_t *w) {
  if (w->wanted == 0) {
    remove_slot(loop, w);
  } else {
    if (w->backend_index < 0) {
      int r = append_slot(loop, w);
      if (r != 0)
        return r;
    }
    ((struct pollfd *)loop->backend_fds)[w->backend_index].events =
        to_poll(w->wanted);
  }
  w->registered = w->wanted;
  return 0;
}

void fuv__backend_remove(fuv_loop_t *loop, fuv__io_t *w) {
  remove_slot(loop, w);
}

/* poll(2), or ppoll(2) when the loop blocks signals while it waits. */
static int wait_for_events(fuv_loop_t *loop, int timeout,
                           const sigset_t *mask) {
  struct timespec ts;
  if (mask == NULL)
    return poll(loop->backend_fds, (nfds_t)loop->backend_nfds, timeout);
  ts.tv_sec = timeout / 1000;
  ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
  return ppoll(loop->backend_fds, (nfds_t)loop->backend_nfds,
               timeout < 0 ? NULL : &ts, mask);
}

int fuv__backend_poll(fuv_loop_t *loop, int timeout) {
  struct pollfd *fds;
  int n;

  sigset_t buf;
  const sigset_t *mask = fuv__loop_wait_mask(loop, &buf);
  uint64_t begin;

  fuv__io_flush(loop);
  begin = fuv__metrics_wait_begin(loop, timeout);
  for (;;) {
    n = wait_for_events(loop, timeout, mask);
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
  if (n == 0)
    return 0;

  /* Callbacks may remove slots, which moves the last slot into the hole;
   * slots are only added by fuv__io_flush(), before polling. When the
   * current slot is replaced that way, it is visited again; a slot moved
   * below the current index waits for the next poll, which, being
   * level-triggered, reports it again. */
  fds = loop->backend_fds;
  for (size_t i = 0; i < loop->backend_nfds; i++) {
    struct pollfd *p;
    fuv__io_t *w;
    unsigned events;
  again:
    fds = loop->backend_fds;
    p = &fds[i];
    if (p->revents == 0)
      continue;
    events = ((p->revents & POLLIN) ? FUV__POLLIN : 0) |
             ((p->revents & POLLOUT) ? FUV__POLLOUT : 0) |
             ((p->revents & POLLHUP) ? FUV__POLLHUP : 0) |
             ((p->revents & (POLLERR | POLLNVAL)) ? FUV__POLLERR : 0);
    p->revents = 0;
    w = (size_t)p->fd < loop->nwatchers ? loop->watchers[p->fd] : NULL;
    if (w == NULL || w->wanted == 0)
      continue;
    loop->metrics_events++;
    w->cb(loop, w, events);
    /* If the callback removed this slot, the last slot now sits here. */
    if (i < loop->backend_nfds && loop->backend_fds == fds &&
        fds[i].revents != 0)
      goto again;
  }
  return 0;
}
