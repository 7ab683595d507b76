/* Timers: a binary min-heap ordered by due time, then by start order. */
#include "internal.h"

#include <stdlib.h>

static void timer_finish_close(fuv_handle_t *h) { (void)h; }

static int timer_before(const fuv_timer_t *a, const fuv_timer_t *b) {
  if (a->due != b->due)
    return a->due < b->due;
  return a->start_id < b->start_id;
}

static void heap_set(fuv_loop_t *loop, size_t i, fuv_timer_t *t) {
  loop->timer_heap[i] = t;
  t->heap_index = i;
}

static void heap_sift_up(fuv_loop_t *loop, size_t i) {
  fuv_timer_t *t = loop->timer_heap[i];
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!timer_before(t, loop->timer_heap[parent]))
      break;
    heap_set(loop, i, loop->timer_heap[parent]);
    i = parent;
  }
  heap_set(loop, i, t);
}

static void heap_sift_down(fuv_loop_t *loop, size_t i) {
  fuv_timer_t *t = loop->timer_heap[i];
  size_t n = loop->timer_count;
  for (;;) {
    size_t child = 2 * i + 1;
    if (child >= n)
      break;
    if (child + 1 < n &&
        timer_before(loop->timer_heap[child + 1], loop->timer_heap[child]))
      child++;
    if (!timer_before(loop->timer_heap[child], t))
      break;
    heap_set(loop, i, loop->timer_heap[child]);
    i = child;
  }
  heap_set(loop, i, t);
}

static int heap_insert(fuv_loop_t *loop, fuv_timer_t *t) {
  if (loop->timer_count == loop->timer_cap) {
    size_t cap = loop->timer_cap ? loop->timer_cap * 2 : 16;
    fuv_timer_t **grown = realloc(loop->timer_heap, cap * sizeof *grown);
    if (grown == NULL)
      return FUV_ENOMEM;
    loop->timer_heap = grown;
    loop->timer_cap = cap;
  }
  heap_set(loop, loop->timer_count++, t);
  heap_sift_up(loop, t->heap_index);
  return 0;
}

static void heap_remove(fuv_loop_t *loop, fuv_timer_t *t) {
  size_t i = t->heap_index;
  fuv_timer_t *last = loop->timer_heap[--loop->timer_count];
  if (last == t)
    return;
  heap_set(loop, i, last);
  heap_sift_down(loop, i);
  heap_sift_up(loop, last->heap_index);
}

int fuv_timer_new(fuv_timer_t **out, fuv_loop_t *loop) {
  fuv_timer_t *t;
  if (out == NULL)
    return FUV_EINVAL;
  *out = NULL;
  if (loop == NULL)
    return FUV_EINVAL;
  t = calloc(1, sizeof *t);
  if (t == NULL)
    return FUV_ENOMEM;
  fuv__handle_init(loop, &t->handle, FUV_TIMER, timer_finish_close);
  *out = t;
  return 0;
}

int fuv_timer_start(fuv_timer_t *t, fuv_timer_cb cb, uint64_t timeout_ms,
                    uint64_t repeat_ms, void *arg) {
  int r = fuv__handle_check((const fuv_handle_t *)t, FUV_TIMER);
  fuv_loop_t *loop;
  if (r != 0)
    return r;
  if (cb == NULL)
    return FUV_EINVAL;
  fuv_timer_stop(t);
  loop = t->handle.loop;
  t->cb = cb;
  t->arg = arg;
  t->repeat = repeat_ms;
  t->due = loop->time + timeout_ms;
  if (t->due < loop->time) /* overflow: never */
    t->due = UINT64_MAX;
  t->start_id = loop->timer_counter++;
  r = heap_insert(loop, t);
  if (r != 0)
    return r;
  fuv__handle_start(&t->handle);
  return 0;
}

int fuv_timer_stop(fuv_timer_t *t) {
  int r = fuv__handle_check_any((const fuv_handle_t *)t, FUV_TIMER);
  if (r != 0)
    return r;
  if (!(t->handle.flags & FUV__HANDLE_ACTIVE))
    return 0;
  heap_remove(t->handle.loop, t);
  fuv__handle_stop(&t->handle);
  return 0;
}

int fuv_timer_again(fuv_timer_t *t) {
  int r = fuv__handle_check((const fuv_handle_t *)t, FUV_TIMER);
  if (r != 0)
    return r;
  if (t->cb == NULL)
    return FUV_EINVAL;
  if (t->repeat == 0)
    return fuv_timer_stop(t);
  return fuv_timer_start(t, t->cb, t->repeat, t->repeat, t->arg);
}

int fuv_timer_set_repeat(fuv_timer_t *t, uint64_t repeat_ms) {
  int r = fuv__handle_check((const fuv_handle_t *)t, FUV_TIMER);
  if (r == 0)
    t->repeat = repeat_ms;
  return r;
}

uint64_t fuv_timer_get_repeat(const fuv_timer_t *t) {
  if (fuv__handle_check_any((const fuv_handle_t *)t, FUV_TIMER) != 0)
    return 0;
  return t->repeat;
}

uint64_t fuv_timer_get_due_in(const fuv_timer_t *t) {
  if (fuv__handle_check_any((const fuv_handle_t *)t, FUV_TIMER) != 0 ||
      !(t->handle.flags & FUV__HANDLE_ACTIVE))
    return 0;
  return t->due > t->handle.loop->time ? t->due - t->handle.loop->time : 0;
}

/* Runs every timer due now that was started before this pass began, so a
 * timer a callback (re)starts with a zero timeout waits for the next
 * iteration instead of running in a tight loop. */
void fuv__run_timers(fuv_loop_t *loop) {
  uint64_t pass_id = loop->timer_counter;
  while (loop->timer_count > 0) {
    fuv_timer_t *t = loop->timer_heap[0];
    if (t->due > loop->time || t->start_id >= pass_id)
      break;
    fuv_timer_stop(t);
    if (t->repeat != 0)
      fuv_timer_start(t, t->cb, t->repeat, t->repeat, t->arg);
    t->cb(t, t->arg);
  }
}

int fuv__next_timeout(const fuv_loop_t *loop) {
  const fuv_timer_t *t;
  uint64_t diff;
  if (loop->timer_count == 0)
    return -1;
  t = loop->timer_heap[0];
  if (t->due <= loop->time)
    return 0;
  diff = t->due - loop->time;
  return diff > INT32_MAX ? INT32_MAX : (int)diff;
}
