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
