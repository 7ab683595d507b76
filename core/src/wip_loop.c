/* Temporary: FUV_ENOSYS stand-ins for the loop work (prepare/check/idle, time, configure, metrics, printing), declared in flatuv.h
 * while it is being written, so that every binding links meanwhile. Each
 * goes when its real definition lands; the file goes with the last. */
#include "internal.h"

#include <stddef.h>

uint64_t fuv_metrics_events_waiting(const fuv_loop_t *loop) {
  (void)loop;
  return 0;
}

int fuv_metrics_info(const fuv_loop_t *loop, uint64_t *loop_count, uint64_t *events, uint64_t *events_waiting) {
  (void)loop;
  (void)loop_count;
  (void)events;
  (void)events_waiting;
  return FUV_ENOSYS;
}

uint64_t fuv_metrics_idle_time(const fuv_loop_t *loop) {
  (void)loop;
  return 0;
}

int fuv_loop_configure(fuv_loop_t *loop, fuv_loop_option_t option, int value) {
  (void)loop;
  (void)option;
  (void)value;
  return FUV_ENOSYS;
}

int fuv_loop_mode(const fuv_loop_t *loop) {
  (void)loop;
  return FUV_ENOSYS;
}

int fuv_print_all_handles(fuv_loop_t *loop, int fd) {
  (void)loop;
  (void)fd;
  return FUV_ENOSYS;
}

int fuv_print_active_handles(fuv_loop_t *loop, int fd) {
  (void)loop;
  (void)fd;
  return FUV_ENOSYS;
}

uint64_t fuv_hrtime(void) {

  return 0;
}

int fuv_sleep(unsigned int msec) {
  (void)msec;
  return FUV_ENOSYS;
}

int fuv_prepare_new(fuv_prepare_t **out, fuv_loop_t *loop) {
  (void)out;
  if (out != NULL) *out = NULL;
  (void)loop;
  return FUV_ENOSYS;
}

int fuv_prepare_start(fuv_prepare_t *prepare, fuv_prepare_cb cb, void *arg) {
  (void)prepare;
  (void)cb;
  (void)arg;
  return FUV_ENOSYS;
}

int fuv_prepare_stop(fuv_prepare_t *prepare) {
  (void)prepare;
  return FUV_ENOSYS;
}

int fuv_check_new(fuv_check_t **out, fuv_loop_t *loop) {
  (void)out;
  if (out != NULL) *out = NULL;
  (void)loop;
  return FUV_ENOSYS;
}

int fuv_check_start(fuv_check_t *check, fuv_check_cb cb, void *arg) {
  (void)check;
  (void)cb;
  (void)arg;
  return FUV_ENOSYS;
}

int fuv_check_stop(fuv_check_t *check) {
  (void)check;
  return FUV_ENOSYS;
}

int fuv_idle_new(fuv_idle_t **out, fuv_loop_t *loop) {
  (void)out;
  if (out != NULL) *out = NULL;
  (void)loop;
  return FUV_ENOSYS;
}

int fuv_idle_start(fuv_idle_t *idle, fuv_idle_cb cb, void *arg) {
  (void)idle;
  (void)cb;
  (void)arg;
  return FUV_ENOSYS;
}

int fuv_idle_stop(fuv_idle_t *idle) {
  (void)idle;
  return FUV_ENOSYS;
}
