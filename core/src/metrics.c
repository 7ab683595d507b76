/* The loop's metrics (libuv 1.45's uv_metrics_info and idle time) and the
 * bracket the backends put around their wait, which is where both the
 * events-waiting count and the idle time are measured. */
#include "internal.h"

#include <signal.h>

uint64_t fuv_metrics_loop_count(const fuv_loop_t *loop) {
  return loop != NULL ? loop->metrics_loop_count : 0;
}

uint64_t fuv_metrics_events(const fuv_loop_t *loop) {
  return loop != NULL ? loop->metrics_events : 0;
}

uint64_t fuv_metrics_events_waiting(const fuv_loop_t *loop) {
  return loop != NULL ? loop->metrics_events_waiting : 0;
}

int fuv_metrics_info(const fuv_loop_t *loop, uint64_t *loop_count,
                     uint64_t *events, uint64_t *events_waiting) {
  if (loop == NULL)
    return FUV_EINVAL;
  if (loop_count != NULL)
    *loop_count = loop->metrics_loop_count;
  if (events != NULL)
    *events = loop->metrics_events;
  if (events_waiting != NULL)
    *events_waiting = loop->metrics_events_waiting;
  return 0;
}

uint64_t fuv_metrics_idle_time(const fuv_loop_t *loop) {
  return loop != NULL ? loop->metrics_idle_time : 0;
}

const sigset_t *fuv__loop_wait_mask(const fuv_loop_t *loop, sigset_t *buf) {
  if (!loop->blocks_signals)
    return NULL;
  /* The wait's mask replaces the thread's, so start from the thread's own
   * and add the loop's: a signal the thread blocks stays blocked. */
  pthread_sigmask(SIG_BLOCK, NULL, buf);
  for (int sig = 1; sig < NSIG; sig++)
    if (sigismember(&loop->blocked_signals, sig) == 1)
      sigaddset(buf, sig);
  return buf;
}

/* Only a wait that may block counts as idle: a zero timeout is a poll. */
uint64_t fuv__metrics_wait_begin(const fuv_loop_t *loop, int timeout) {
  if (!loop->metrics_idle_on || timeout == 0)
    return 0;
  return fuv_hrtime();
}

void fuv__metrics_wait_end(fuv_loop_t *loop, uint64_t begin, int nevents) {
  loop->metrics_events_waiting = nevents > 0 ? (uint64_t)nevents : 0;
  if (begin != 0)
    loop->metrics_idle_time += fuv_hrtime() - begin;
}
