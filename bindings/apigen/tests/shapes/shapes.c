/* The functions of shapes.h, over the public API only (a shapes test
 * compiles this with the copy of flatuv.h that has shapes.h in it). */
#include "flatuv.h"

int fuv_timer_is_repeating(const fuv_timer_t *timer) {
  return fuv_timer_get_repeat(timer) > 0;
}

int fuv_handle_set_referenced(fuv_handle_t *handle, int on) {
  return on ? fuv_ref(handle) : fuv_unref(handle);
}

int fuv_timer_get_times(const fuv_timer_t *timer, int *due_in, int *repeat) {
  if (timer == NULL || due_in == NULL || repeat == NULL)
    return FUV_EINVAL;
  *due_in = (int)fuv_timer_get_due_in(timer);
  *repeat = (int)fuv_timer_get_repeat(timer);
  return 0;
}

int fuv_timer_start_once(fuv_timer_t *timer, uint64_t timeout_ms,
                         fuv_timer_cb cb, void *arg) {
  return fuv_timer_start(timer, cb, timeout_ms, 0, arg);
}

/* A gauge handle is a timer that is never started. */
int fuv_gauge_new(fuv_gauge_t **out, fuv_loop_t *loop) {
  return fuv_timer_new((fuv_timer_t **)out, loop);
}
