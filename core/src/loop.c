/* The loop: its life cycle, the run phases and the watcher bookkeeping. */
#include "internal.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

int fuv_loop_new(fuv_loop_t **out) {
  fuv_loop_t *loop;
  int r;

  if (out == NULL)
    return FUV_EINVAL;
  *out = NULL;
  loop = calloc(1, sizeof *loop);
  if (loop == NULL)
    return FUV_ENOMEM;
  fuv__queue_init(&loop->handles);
  fuv__queue_init(&loop->pending_handles);
  fuv__queue_init(&loop->closing_handles);
  fuv__queue_init(&loop->dirty_watchers);
  fuv__queue_init(&loop->async_handles);
  fuv__queue_init(&loop->work_done);
  for (int kind = 0; kind < FUV__WATCHER_KINDS; kind++)
    fuv__queue_init(&loop->watcher_handles[kind]);
  sigemptyset(&loop->blocked_signals);
  loop->async_wfd = -1;
  loop->wakeup_wfd = -1;
  fuv__io_init(&loop->wakeup_io, NULL, -1);
  loop->reserve_fd = -1;
  loop->backend_fd = -1;
  fuv__io_init(&loop->async_io, NULL, -1);
  loop->read_buf = malloc(FUV__READ_BUFFER_SIZE);
  if (loop->read_buf == NULL) {
    free(loop);
    return FUV_ENOMEM;
  }
  r = fuv__backend_init(loop);
  if (r != 0) {
    free(loop->read_buf);
    free(loop);
    return r;
  }
  loop->time = fuv__hrtime_ms();
  *out = loop;
  return 0;
}

int fuv_loop_free(fuv_loop_t *loop) {
  if (loop == NULL)
    return FUV_EINVAL;
  /* Work outstanding counts as a live request, as in libuv: its
   * after-callback is still to run on this loop. */
  if (loop->running || loop->walking || !fuv__queue_empty(&loop->handles) ||
      loop->active_work > 0)
    return FUV_EBUSY;
  fuv__work_loop_free(loop);
  fuv__async_loop_free(loop);
  fuv__backend_free(loop);
  fuv__close_fd(loop->reserve_fd);
  while (loop->free_write_reqs != NULL) {
    fuv__write_req_t *req = loop->free_write_reqs;
    loop->free_write_reqs = req->next;
    free(req);
  }
  free(loop->timer_heap);
  free(loop->watchers);
  free(loop->read_buf);
  fuv__udp_loop_free(loop);
  free(loop);
  return 0;
}

static int loop_alive(const fuv_loop_t *loop) {
  return loop->active_handles > 0 || loop->active_work > 0 ||
         !fuv__queue_empty(&loop->pending_handles) ||
         !fuv__queue_empty(&loop->closing_handles);
}

int fuv_loop_alive(const fuv_loop_t *loop) {
  return loop != NULL && loop_alive(loop);
}

/* Deferred callbacks: each pending handle runs its own. A callback may make
 * handles pending again; those wait for the next iteration, so that a
 * callback that keeps re-arming cannot starve I/O. */
static int run_pending(fuv_loop_t *loop) {
  fuv__queue_t batch;
  int ran = 0;

  fuv__queue_move(&loop->pending_handles, &batch);

  while (!fuv__queue_empty(&batch)) {
    fuv_handle_t *h =
        FUV__CONTAINER_OF(batch.next, fuv_handle_t, pending_queue);
    fuv__queue_remove(&h->pending_queue);
    h->flags &= ~FUV__HANDLE_PENDING;
    if (!(h->flags & FUV__HANDLE_CLOSING) && h->on_pending != NULL) {
      h->on_pending(h);
      ran = 1;
    }
  }
  return ran;
}

/* Finishes the closes begun before this phase. A close callback (or a
 * write callback cancelled by a close) may close more handles, even ones it
 * has just created, again and again; those finish in the next iteration,
 * as in libuv, so that such a chain cannot keep the loop here. */
static void run_closing(fuv_loop_t *loop) {
  fuv__queue_t batch;

  fuv__queue_move(&loop->closing_handles, &batch);
  while (!fuv__queue_empty(&batch)) {
    fuv_handle_t *h =
        FUV__CONTAINER_OF(batch.next, fuv_handle_t, closing_queue);
    fuv__handle_finish_close(h);
  }
}

/* An active idle handle, referenced or not, keeps the wait from blocking,
 * as in libuv: its callback is to run again as soon as possible. */
static int poll_timeout(const fuv_loop_t *loop) {
  if (loop->stop_flag || !loop_alive(loop) ||
      !fuv__queue_empty(&loop->pending_handles) ||
      !fuv__queue_empty(&loop->closing_handles) || fuv__watchers_idle(loop))
    return 0;
  return fuv__next_timeout(loop);
}

int fuv_backend_timeout(const fuv_loop_t *loop) {
  if (loop == NULL)
    return FUV_EINVAL;
  return poll_timeout(loop);
}

int fuv_run(fuv_loop_t *loop, fuv_run_mode_t mode) {
  int alive, r = 0;

  if (loop == NULL || (mode != FUV_RUN_DEFAULT && mode != FUV_RUN_ONCE &&
                       mode != FUV_RUN_NOWAIT))
    return FUV_EINVAL;
  /* A run inside a callback, or inside a walk, would free handles that
   * the caller is still iterating over. */
  if (loop->running || loop->walking)
    return FUV_EBUSY;
  loop->running = 1;
  loop->mode = mode;

  alive = loop_alive(loop);
  if (!alive)
    loop->time = fuv__hrtime_ms();

  while (alive && !loop->stop_flag) {
    int timeout = 0;
    loop->time = fuv__hrtime_ms();
    fuv__run_timers(loop);
    int ran_pending = run_pending(loop);
    fuv__watchers_run(loop, FUV__WATCHER_IDLE);
    fuv__watchers_run(loop, FUV__WATCHER_PREPARE);
    /* After the prepare callbacks, which may start timers or idle handles. */
    if ((mode == FUV_RUN_ONCE && !ran_pending) || mode == FUV_RUN_DEFAULT)
      timeout = poll_timeout(loop);
    loop->metrics_loop_count++;
    r = fuv__backend_poll(loop, timeout);
    if (loop->woken) {
      loop->woken = 0;
      if (r == 0 && loop->interruptible)
        r = FUV_EINTR;
    }
    fuv__watchers_run(loop, FUV__WATCHER_CHECK);
    if (mode == FUV_RUN_ONCE) {
      /* A blocking ONCE run may have woken for a timer: run it now, so that
       * ONCE always makes progress. */
      loop->time = fuv__hrtime_ms();
      fuv__run_timers(loop);
    }
    run_closing(loop);
    alive = loop_alive(loop);
    if (r == FUV_EINTR || mode == FUV_RUN_ONCE || mode == FUV_RUN_NOWAIT)
      break;
  }
  loop->stop_flag = 0;
  loop->running = 0;
  if (r == FUV_EINTR)
    return r;
  return alive ? 1 : 0;
}

int fuv_stop(fuv_loop_t *loop) {
  if (loop == NULL)
    return FUV_EINVAL;
  loop->stop_flag = 1;
  return 0;
}

uint64_t fuv_now(const fuv_loop_t *loop) {
  return loop != NULL ? loop->time : 0;
}

int fuv_update_time(fuv_loop_t *loop) {
  if (loop == NULL)
    return FUV_EINVAL;
  loop->time = fuv__hrtime_ms();
  return 0;
}

int fuv_backend_fd(const fuv_loop_t *loop) {
  if (loop == NULL)
    return FUV_EINVAL;
  return fuv__backend_fd(loop);
}

int fuv_walk(fuv_loop_t *loop, fuv_walk_cb cb, void *arg) {
  fuv__queue_t *q, *last;

  if (loop == NULL || cb == NULL)
    return FUV_EINVAL;
  if (fuv__queue_empty(&loop->handles))
    return 0;
  /* Handles are freed only from the closing phase of fuv_run(), which
   * refuses to start during a walk, so the links stay valid; remembering
   * the last handle keeps handles created by cb out of this walk. */
  last = loop->handles.prev;
  loop->walking++;
  for (q = loop->handles.next;; q = q->next) {
    fuv_handle_t *h = FUV__CONTAINER_OF(q, fuv_handle_t, handle_queue);
    if (!(h->flags & FUV__HANDLE_CLOSING))
      cb(h, arg);
    if (q == last)
      break;
  }
  loop->walking--;
  return 0;
}

void *fuv_loop_get_data(const fuv_loop_t *loop) {
  return loop != NULL ? loop->data : NULL;
}

int fuv_loop_set_data(fuv_loop_t *loop, void *data) {
  if (loop == NULL)
    return FUV_EINVAL;
  loop->data = data;
  return 0;
}

int fuv_loop_set_interruptible(fuv_loop_t *loop, int on) {
  if (loop == NULL)
    return FUV_EINVAL;
  loop->interruptible = on != 0;
  return 0;
}

int fuv_loop_configure(fuv_loop_t *loop, fuv_loop_option_t option,
                       int value) {
  if (loop == NULL)
    return FUV_EINVAL;
  if (loop->running)
    return FUV_EBUSY;
  switch (option) {
  case FUV_LOOP_BLOCK_SIGNAL:
    /* SIGKILL and SIGSTOP cannot be blocked; sigaddset refuses numbers
     * outside the platform's range. */
    if (value == SIGKILL || value == SIGSTOP ||
        sigaddset(&loop->blocked_signals, value) != 0)
      return FUV_EINVAL;
    loop->blocks_signals = 1;
    return 0;
  case FUV_METRICS_IDLE_TIME:
    loop->metrics_idle_on = 1;
    return 0;
  default:
    return FUV_EINVAL;
  }
}

int fuv_loop_mode(const fuv_loop_t *loop) {
  if (loop == NULL || !loop->running)
    return -1;
  return (int)loop->mode;
}

/* A backend's wait was interrupted by a signal. An interruptible loop
 * returns FUV_EINTR from it; otherwise the wait resumes with the time that
 * is left, which this computes into *timeout. */
int fuv__poll_interrupted(fuv_loop_t *loop, int *timeout) {
  uint64_t before, spent;
  if (loop->interruptible)
    return FUV_EINTR;
  if (*timeout > 0) {
    before = loop->time;
    loop->time = fuv__hrtime_ms();
    spent = loop->time - before;
    *timeout = spent >= (uint64_t)*timeout ? 0 : *timeout - (int)spent;
  }
  return 0;
}

/* ---- I/O watchers --------------------------------------------------------- */

void fuv__io_init(fuv__io_t *w, fuv__io_cb cb, int fd) {
  w->cb = cb;
  w->fd = fd;
  w->wanted = 0;
  w->registered = 0;
  w->backend_index = -1;
  fuv__queue_init(&w->dirty);
}

static int watchers_reserve(fuv_loop_t *loop, int fd) {
  size_t n;
  fuv__io_t **grown;

  if ((size_t)fd < loop->nwatchers)
    return 0;
  n = loop->nwatchers ? loop->nwatchers : 64;
  while (n <= (size_t)fd)
    n *= 2;
  grown = realloc(loop->watchers, n * sizeof *grown);
  if (grown == NULL)
    return FUV_ENOMEM;
  memset(grown + loop->nwatchers, 0,
         (n - loop->nwatchers) * sizeof *grown);
  loop->watchers = grown;
  loop->nwatchers = n;
  return 0;
}

static void mark_dirty(fuv_loop_t *loop, fuv__io_t *w) {
  int dirty = w->wanted != w->registered;
  int queued = !fuv__queue_empty(&w->dirty);
  if (dirty && !queued)
    fuv__queue_insert_tail(&loop->dirty_watchers, &w->dirty);
  else if (!dirty && queued)
    fuv__queue_remove(&w->dirty);
}

void fuv__io_start(fuv_loop_t *loop, fuv__io_t *w, unsigned events) {
  w->wanted |= events;
  mark_dirty(loop, w);
}

void fuv__io_stop(fuv_loop_t *loop, fuv__io_t *w, unsigned events) {
  w->wanted &= ~events;
  mark_dirty(loop, w);
}

void fuv__io_close(fuv_loop_t *loop, fuv__io_t *w) {
  if (!fuv__queue_empty(&w->dirty))
    fuv__queue_remove(&w->dirty);
  w->wanted = 0;
  if (w->fd >= 0) {
    fuv__backend_remove(loop, w);
    if ((size_t)w->fd < loop->nwatchers && loop->watchers[w->fd] == w)
      loop->watchers[w->fd] = NULL;
  }
  w->registered = 0;
}

/* Called by the backends before they wait: applies every changed wish.
 * A watcher the backend refuses (out of memory, or an fd epoll cannot
 * watch) gets an error event at once, from inside the poll phase, so that
 * its owner finds and reports the error through its own I/O path. */
void fuv__io_flush(fuv_loop_t *loop) {
  fuv__queue_t batch;

  /* Watchers re-dirtied by an error callback wait for the next flush. */
  fuv__queue_move(&loop->dirty_watchers, &batch);
  while (!fuv__queue_empty(&batch)) {
    fuv__io_t *w = FUV__CONTAINER_OF(batch.next, fuv__io_t, dirty);
    fuv__queue_remove(&w->dirty);
    if (watchers_reserve(loop, w->fd) != 0 ||
        fuv__backend_update(loop, w) != 0) {
      w->cb(loop, w, FUV__POLLERR);
      continue;
    }
    loop->watchers[w->fd] = w->registered ? w : NULL;
  }
}

/* ---- recycled write requests ---------------------------------------------- */

fuv__write_req_t *fuv__write_req_get(fuv_loop_t *loop) {
  fuv__write_req_t *req = loop->free_write_reqs;
  if (req != NULL) {
    loop->free_write_reqs = req->next;
    loop->nfree_write_reqs--;
  } else {
    req = malloc(sizeof *req);
    if (req == NULL)
      return NULL;
  }
  memset(req, 0, sizeof *req);
  return req;
}

void fuv__write_req_put(fuv_loop_t *loop, fuv__write_req_t *req) {
  if (loop->nfree_write_reqs >= FUV__MAX_FREE_WRITE_REQS) {
    free(req);
    return;
  }
  req->next = loop->free_write_reqs;
  loop->free_write_reqs = req;
  loop->nfree_write_reqs++;
}
