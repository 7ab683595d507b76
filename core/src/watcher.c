/* Prepare, check and idle handles: one implementation for the three kinds,
 * which differ only in where fuv_run() calls them (idle and prepare before
 * the wait for I/O, check after it) and in that an active idle handle keeps
 * the wait from blocking. FUV__WATCHER_DEFINE gives each kind its typed
 * calls over the shared functions below. */
#include "internal.h"

#include <stdlib.h>

/* The handle type of each kind. */
static const fuv_handle_type_t watcher_types[FUV__WATCHER_KINDS] = {
    [FUV__WATCHER_IDLE] = FUV_IDLE,
    [FUV__WATCHER_PREPARE] = FUV_PREPARE,
    [FUV__WATCHER_CHECK] = FUV_CHECK,
};

static int watcher_new(fuv__watcher_t **out, fuv_loop_t *loop,
                       fuv__watcher_kind_t kind) {
  fuv__watcher_t *w;

  *out = NULL;
  if (loop == NULL)
    return FUV_EINVAL;
  w = calloc(1, sizeof *w);
  if (w == NULL)
    return FUV_ENOMEM;
  /* Nothing is left to do when the close finishes: fuv_close() stopped it. */
  fuv__handle_init(loop, &w->handle, watcher_types[kind], NULL);
  fuv__queue_init(&w->queue);
  *out = w;
  return 0;
}

/* The checks of a start: a live handle of the kind and a callback. */
static int watcher_start_check(const fuv_handle_t *h, fuv__watcher_kind_t kind,
                               int has_cb) {
  int r = fuv__handle_check(h, watcher_types[kind]);
  if (r != 0)
    return r;
  return has_cb ? 0 : FUV_EINVAL;
}

/* Starts the watcher, its callback already set. A started one only takes
 * the new arg and keeps its place, so that restarting it to change the
 * callback does not change the order the kind's handles run in. A new one
 * joins the end of the loop's queue: during a pass of its kind that queue
 * holds only what is to run in the next iteration (see fuv__watchers_run). */
static void watcher_start(fuv__watcher_t *w, fuv__watcher_kind_t kind,
                          void *arg) {
  w->arg = arg;
  if (w->handle.flags & FUV__HANDLE_ACTIVE)
    return;
  fuv__queue_insert_tail(&w->handle.loop->watcher_handles[kind], &w->queue);
  fuv__handle_start(&w->handle);
}

void fuv__watcher_stop(fuv__watcher_t *w) {
  if (!(w->handle.flags & FUV__HANDLE_ACTIVE))
    return;
  /* The node may be on the loop's queue or on a pass's local one; removing
   * it works on either. */
  fuv__queue_remove(&w->queue);
  fuv__handle_stop(&w->handle);
}

/* A stop accepts a closing handle, as fuv_timer_stop() does: it is already
 * stopped, so the stop has nothing to do. */
static int watcher_stop_checked(fuv_handle_t *h, fuv__watcher_kind_t kind) {
  int r = fuv__handle_check_any(h, watcher_types[kind]);
  if (r == 0)
    fuv__watcher_stop((fuv__watcher_t *)h);
  return r;
}

/* Calls the watcher's callback with the handle's own type. */
static void watcher_call(fuv__watcher_t *w) {
  switch (w->handle.type) {
  case FUV_PREPARE:
    w->cb.prepare((fuv_prepare_t *)w, w->arg);
    break;
  case FUV_CHECK:
    w->cb.check((fuv_check_t *)w, w->arg);
    break;
  default:
    w->cb.idle((fuv_idle_t *)w, w->arg);
    break;
  }
}

/* Appends every node of from (left empty) to the end of to. */
static void queue_append(fuv__queue_t *to, fuv__queue_t *from) {
  while (!fuv__queue_empty(from)) {
    fuv__queue_t *q = from->next;
    fuv__queue_remove(q);
    fuv__queue_insert_tail(to, q);
  }
}

/* Runs each handle of the kind that was active when the pass began, once,
 * in start order. The handles move to a local queue (batch) and, as each is
 * visited, to a second one (done), so that the loop's queue receives only
 * handles started during the pass: those run from the next iteration on,
 * as in libuv, and a callback that starts handles cannot keep the loop in
 * this phase. A callback may stop or close any handle of the kind, which
 * unlinks it from whichever queue holds it; the handle that ran is not
 * touched after its callback, which may have closed it. */
void fuv__watchers_run(fuv_loop_t *loop, fuv__watcher_kind_t kind) {
  fuv__queue_t *head = &loop->watcher_handles[kind];
  fuv__queue_t batch, done;

  if (fuv__queue_empty(head))
    return;
  fuv__queue_move(head, &batch);
  fuv__queue_init(&done);
  while (!fuv__queue_empty(&batch)) {
    fuv__queue_t *q = batch.next;
    fuv__queue_remove(q);
    fuv__queue_insert_tail(&done, q);
    watcher_call(FUV__CONTAINER_OF(q, fuv__watcher_t, queue));
  }
  /* The handles started during the pass were started last. */
  queue_append(&done, head);
  fuv__queue_move(&done, head);
}

int fuv__watchers_idle(const fuv_loop_t *loop) {
  return !fuv__queue_empty(&loop->watcher_handles[FUV__WATCHER_IDLE]);
}

/* The typed new / start / stop of one kind. */
#define FUV__WATCHER_DEFINE(name, kind)                                      \
  int fuv_##name##_new(fuv_##name##_t **out, fuv_loop_t *loop) {             \
    fuv__watcher_t *w;                                                       \
    int r;                                                                   \
    if (out == NULL)                                                         \
      return FUV_EINVAL;                                                     \
    r = watcher_new(&w, loop, kind);                                         \
    *out = (fuv_##name##_t *)w;                                              \
    return r;                                                                \
  }                                                                          \
                                                                             \
  int fuv_##name##_start(fuv_##name##_t *handle, fuv_##name##_cb cb,         \
                         void *arg) {                                        \
    int r = watcher_start_check((const fuv_handle_t *)handle, kind,          \
                                cb != NULL);                                 \
    if (r != 0)                                                              \
      return r;                                                              \
    handle->watcher.cb.name = cb;                                            \
    watcher_start(&handle->watcher, kind, arg);                              \
    return 0;                                                                \
  }                                                                          \
                                                                             \
  int fuv_##name##_stop(fuv_##name##_t *handle) {                            \
    return watcher_stop_checked((fuv_handle_t *)handle, kind);               \
  }

FUV__WATCHER_DEFINE(prepare, FUV__WATCHER_PREPARE)
FUV__WATCHER_DEFINE(check, FUV__WATCHER_CHECK)
FUV__WATCHER_DEFINE(idle, FUV__WATCHER_IDLE)
