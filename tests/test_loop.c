/*
 * The loop: creation and freeing, run modes, stopping, liveness, time, the
 * backend's fd and timeout, walking handles, user data, metrics, and
 * interruption by signals.
 */
#include "fuv_test.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Sleeps for ms milliseconds. Only used to let wall-clock time pass (for
 * fuv_now) or to space out signals; never to wait for an event. */
static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static fuv_loop_t *new_loop(void) {
  fuv_loop_t *loop = NULL;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  ck_assert_ptr_nonnull(loop);
  return loop;
}

static fuv_timer_t *new_timer(fuv_loop_t *loop) {
  fuv_timer_t *timer = NULL;
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  ck_assert_ptr_nonnull(timer);
  return timer;
}

static void count_timer(fuv_timer_t *timer, void *arg) {
  (void)timer;
  (*(int *)arg)++;
}

static void ignore_async(fuv_async_t *async, void *arg) {
  (void)async;
  (void)arg;
}

/* ---- new / free ----------------------------------------------------------- */

START_TEST(loop_new_then_free_succeeds) {
  fuv_loop_t *loop = new_loop();
  ck_assert_int_eq(fuv_loop_alive(loop), 0);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}
END_TEST

START_TEST(loop_new_with_null_out_is_einval) {
  FUV_ASSERT_ERR(fuv_loop_new(NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_loop_free(NULL), FUV_EINVAL);
}
END_TEST

START_TEST(several_loops_coexist_independently) {
  fuv_loop_t *a = new_loop();
  fuv_loop_t *b = new_loop();
  int fired_a = 0, fired_b = 0;
  fuv_timer_t *ta = new_timer(a);
  fuv_timer_t *tb = new_timer(b);
  FUV_ASSERT_OK(fuv_timer_start(ta, count_timer, 0, 0, &fired_a));
  FUV_ASSERT_OK(fuv_timer_start(tb, count_timer, 0, 0, &fired_b));
  /* Running one loop must not run the other's timers. */
  fuv_test_run(a, 5000);
  ck_assert_int_eq(fired_a, 1);
  ck_assert_int_eq(fired_b, 0);
  fuv_test_run(b, 5000);
  ck_assert_int_eq(fired_b, 1);
  fuv_test_free_loop(a);
  fuv_test_free_loop(b);
}
END_TEST

START_TEST(loop_free_with_open_handle_is_ebusy_and_loop_stays_usable) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  int fired = 0, closed = 0;

  FUV_ASSERT_ERR(fuv_loop_free(loop), FUV_EBUSY);

  /* The refused free must leave the loop and its handle working. */
  FUV_ASSERT_OK(fuv_timer_start(timer, count_timer, 0, 0, &fired));
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(fired, 1);

  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)timer, fuv_test_count_close, &closed));
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(closed, 1);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}
END_TEST

START_TEST(loop_free_while_close_callback_pending_is_ebusy) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  int closed = 0;

  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)timer, fuv_test_count_close, &closed));
  /* The close has started but its callback has not run: still busy. */
  FUV_ASSERT_ERR(fuv_loop_free(loop), FUV_EBUSY);
  ck_assert_int_eq(closed, 0);

  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(closed, 1);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}
END_TEST

START_TEST(loop_free_with_open_tcp_and_async_is_ebusy) {
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *tcp;
  fuv_async_t *async;
  FUV_ASSERT_OK(fuv_tcp_new(&tcp, loop));
  FUV_ASSERT_OK(fuv_async_new(&async, loop, ignore_async, NULL));
  FUV_ASSERT_ERR(fuv_loop_free(loop), FUV_EBUSY);
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)tcp, NULL, NULL));
  FUV_ASSERT_ERR(fuv_loop_free(loop), FUV_EBUSY);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- run modes -------------------------------------------------------------- */

START_TEST(run_on_an_empty_loop_returns_zero_in_every_mode) {
  fuv_loop_t *loop = new_loop();
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_ONCE), 0);
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 0);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}
END_TEST

START_TEST(run_with_bad_loop_or_mode_is_einval) {
  fuv_loop_t *loop = new_loop();
  FUV_ASSERT_ERR(fuv_run(NULL, FUV_RUN_DEFAULT), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_run(loop, (fuv_run_mode_t)3), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_run(loop, (fuv_run_mode_t)-1), FUV_EINVAL);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}
END_TEST

START_TEST(run_nowait_returns_one_without_waiting_for_a_distant_timer) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  int fired = 0;
  FUV_ASSERT_OK(fuv_timer_start(timer, count_timer, 60000, 0, &fired));
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 1);
  ck_assert_int_eq(fired, 0);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(run_once_blocks_until_a_timer_fires_then_reports_what_is_left) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *once = new_timer(loop);
  fuv_timer_t *repeating = new_timer(loop);
  int fired_once = 0, fired_repeating = 0;

  /* A one-shot timer: after it fires nothing is left, so ONCE returns 0. */
  FUV_ASSERT_OK(fuv_timer_start(once, count_timer, 5, 0, &fired_once));
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_ONCE), 0);
  ck_assert_int_eq(fired_once, 1);

  /* A repeating timer stays active, so ONCE returns 1 after it fires. */
  FUV_ASSERT_OK(fuv_timer_start(repeating, count_timer, 5, 5, &fired_repeating));
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_ONCE), 1);
  ck_assert_int_eq(fired_repeating, 1);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(run_default_returns_zero_once_the_last_timer_has_fired) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  int fired = 0;
  FUV_ASSERT_OK(fuv_timer_start(timer, count_timer, 2, 0, &fired));
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(fired, 1);
  ck_assert_int_eq(fuv_loop_alive(loop), 0);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- stop ------------------------------------------------------------------- */

static void stop_from_timer(fuv_timer_t *timer, void *arg) {
  (*(int *)arg)++;
  FUV_ASSERT_OK(fuv_stop(fuv_handle_loop((fuv_handle_t *)timer)));
}

START_TEST(stop_inside_a_callback_makes_run_return_one) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  int fired = 0;
  FUV_ASSERT_OK(fuv_timer_start(timer, stop_from_timer, 1, 1, &fired));

  /* The repeating timer stays active, so the stopped run reports 1. */
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 1);
  ck_assert_int_eq(fired, 1);
  /* The stop applied to that run only: the next run goes on. */
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 1);
  ck_assert_int_eq(fired, 2);
  FUV_ASSERT_ERR(fuv_stop(NULL), FUV_EINVAL);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- re-entrancy ---------------------------------------------------------- */

struct reentry {
  int run_result;
  int free_result;
  int calls;
};

static void reenter_from_timer(fuv_timer_t *timer, void *arg) {
  struct reentry *r = arg;
  fuv_loop_t *loop = fuv_handle_loop((fuv_handle_t *)timer);
  r->calls++;
  r->run_result = fuv_run(loop, FUV_RUN_NOWAIT);
  r->free_result = fuv_loop_free(loop);
}

START_TEST(run_or_free_from_inside_a_callback_is_ebusy) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  struct reentry r = {0, 0, 0};
  FUV_ASSERT_OK(fuv_timer_start(timer, reenter_from_timer, 0, 0, &r));
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(r.calls, 1);
  FUV_ASSERT_ERR(r.run_result, FUV_EBUSY);
  FUV_ASSERT_ERR(r.free_result, FUV_EBUSY);
  /* The refused calls left the loop usable. */
  FUV_ASSERT_OK(fuv_timer_start(timer, reenter_from_timer, 0, 0, &r));
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(r.calls, 2);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- alive ------------------------------------------------------------------ */

START_TEST(loop_alive_follows_active_referenced_and_closing_handles) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  int fired = 0;

  ck_assert_int_eq(fuv_loop_alive(NULL), 0);
  /* An inactive handle does not make the loop alive. */
  ck_assert_int_eq(fuv_loop_alive(loop), 0);

  FUV_ASSERT_OK(fuv_timer_start(timer, count_timer, 60000, 0, &fired));
  ck_assert_int_eq(fuv_loop_alive(loop), 1);
  FUV_ASSERT_OK(fuv_unref((fuv_handle_t *)timer));
  ck_assert_int_eq(fuv_loop_alive(loop), 0);
  FUV_ASSERT_OK(fuv_ref((fuv_handle_t *)timer));
  ck_assert_int_eq(fuv_loop_alive(loop), 1);
  FUV_ASSERT_OK(fuv_timer_stop(timer));
  ck_assert_int_eq(fuv_loop_alive(loop), 0);

  /* A closing handle keeps the loop alive until its close completes. */
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)timer, NULL, NULL));
  ck_assert_int_eq(fuv_loop_alive(loop), 1);
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(fuv_loop_alive(loop), 0);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}
END_TEST

/* ---- time --------------------------------------------------------------------- */

START_TEST(now_is_cached_until_update_time_and_never_goes_back) {
  fuv_loop_t *loop = new_loop();
  ck_assert_uint_eq(fuv_now(NULL), 0);
  FUV_ASSERT_ERR(fuv_update_time(NULL), FUV_EINVAL);

  FUV_ASSERT_OK(fuv_update_time(loop));
  uint64_t t0 = fuv_now(loop);
  sleep_ms(20);
  /* The cached time does not move by itself. */
  ck_assert_uint_eq(fuv_now(loop), t0);
  FUV_ASSERT_OK(fuv_update_time(loop));
  uint64_t t1 = fuv_now(loop);
  ck_assert_uint_ge(t1, t0 + 20);

  /* Repeated updates never go backwards. */
  uint64_t prev = t1;
  for (int i = 0; i < 1000; i++) {
    FUV_ASSERT_OK(fuv_update_time(loop));
    ck_assert_uint_ge(fuv_now(loop), prev);
    prev = fuv_now(loop);
  }
  FUV_ASSERT_OK(fuv_loop_free(loop));
}
END_TEST

struct time_probe {
  uint64_t start;
  uint64_t seen;
};

static void record_now(fuv_timer_t *timer, void *arg) {
  struct time_probe *p = arg;
  p->seen = fuv_now(fuv_handle_loop((fuv_handle_t *)timer));
}

START_TEST(run_updates_now_before_timers_fire) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  struct time_probe p;
  FUV_ASSERT_OK(fuv_update_time(loop));
  p.start = fuv_now(loop);
  p.seen = 0;
  FUV_ASSERT_OK(fuv_timer_start(timer, record_now, 15, 0, &p));
  fuv_test_run(loop, 5000);
  /* A timer never fires before its due time, as the loop measures it. */
  ck_assert_uint_ge(p.seen, p.start + 15);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(hrtime_is_monotonic_and_counts_nanoseconds) {
  fuv_loop_t *loop = new_loop();

  /* Never backwards. */
  uint64_t prev = fuv_hrtime();
  ck_assert_uint_gt(prev, 0);
  for (int i = 0; i < 1000; i++) {
    uint64_t t = fuv_hrtime();
    ck_assert_uint_ge(t, prev);
    prev = t;
  }

  /* A 20 ms sleep is at least 20e6 ns, and at least as long as fuv_now()
   * says in milliseconds (less the one that rounding may lose). Lower
   * bounds only: a loaded machine may sleep much longer. */
  FUV_ASSERT_OK(fuv_update_time(loop));
  uint64_t now0 = fuv_now(loop);
  uint64_t t0 = fuv_hrtime();
  FUV_ASSERT_OK(fuv_sleep(20));
  uint64_t t1 = fuv_hrtime();
  FUV_ASSERT_OK(fuv_update_time(loop));
  uint64_t now1 = fuv_now(loop);
  ck_assert_uint_ge(t1 - t0, UINT64_C(20000000));
  ck_assert_uint_ge(now1 - now0, 20);
  ck_assert_uint_ge(t1 - t0, (now1 - now0 - 1) * UINT64_C(1000000));

  t0 = fuv_hrtime();
  FUV_ASSERT_OK(fuv_sleep(0));
  ck_assert_uint_ge(fuv_hrtime(), t0);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}
END_TEST

/* ---- backend fd and timeout -------------------------------------------------- */

START_TEST(backend_fd_is_the_epoll_fd_or_enosys_for_poll) {
  fuv_loop_t *loop = new_loop();
  int fd = fuv_backend_fd(loop);
  if (strcmp(FUV_TEST_BACKEND, "epoll") == 0) {
    ck_assert_int_ge(fd, 0);
    /* Two loops have two different epoll instances. */
    fuv_loop_t *other = new_loop();
    ck_assert_int_ne(fuv_backend_fd(other), fd);
    FUV_ASSERT_OK(fuv_loop_free(other));
  } else {
    ck_assert_str_eq(FUV_TEST_BACKEND, "poll");
    FUV_ASSERT_ERR(fd, FUV_ENOSYS);
  }
  FUV_ASSERT_ERR(fuv_backend_fd(NULL), FUV_EINVAL);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}
END_TEST

START_TEST(backend_timeout_is_minus_one_when_only_io_can_wake_the_loop) {
  fuv_loop_t *loop = new_loop();
  fuv_async_t *async;
  FUV_ASSERT_ERR(fuv_backend_timeout(NULL), FUV_EINVAL);
  /* A loop with nothing to wait for would not block at all: its run
   * returns at once, so the timeout is 0, as in libuv. */
  ck_assert_int_eq(fuv_backend_timeout(loop), 0);
  /* An async handle keeps the loop waiting with no deadline. */
  FUV_ASSERT_OK(fuv_async_new(&async, loop, ignore_async, NULL));
  ck_assert_int_eq(fuv_backend_timeout(loop), -1);
  /* Unreferenced, it no longer keeps the loop waiting. */
  FUV_ASSERT_OK(fuv_unref((fuv_handle_t *)async));
  ck_assert_int_eq(fuv_backend_timeout(loop), 0);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(backend_timeout_is_the_time_to_the_next_timer) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *later = new_timer(loop);
  fuv_timer_t *sooner = new_timer(loop);
  int fired = 0;

  FUV_ASSERT_OK(fuv_timer_start(later, count_timer, 60000, 0, &fired));
  int t = fuv_backend_timeout(loop);
  ck_assert_int_gt(t, 0);
  ck_assert_int_le(t, 60000);

  FUV_ASSERT_OK(fuv_timer_start(sooner, count_timer, 1000, 0, &fired));
  t = fuv_backend_timeout(loop);
  ck_assert_int_gt(t, 0);
  ck_assert_int_le(t, 1000);

  /* A timer that is already due means the next poll must not block. */
  FUV_ASSERT_OK(fuv_timer_start(sooner, count_timer, 0, 0, &fired));
  ck_assert_int_eq(fuv_backend_timeout(loop), 0);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(backend_timeout_is_zero_while_a_close_is_pending) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  fuv_async_t *async;
  int fired = 0, closed = 0;
  FUV_ASSERT_OK(fuv_async_new(&async, loop, ignore_async, NULL));
  FUV_ASSERT_OK(fuv_timer_start(timer, count_timer, 60000, 0, &fired));
  ck_assert_int_gt(fuv_backend_timeout(loop), 0);
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)timer, fuv_test_count_close, &closed));
  ck_assert_int_eq(fuv_backend_timeout(loop), 0);
  /* Once the close callback has run, the async handle waits for ever. */
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 1);
  ck_assert_int_eq(closed, 1);
  ck_assert_int_eq(fuv_backend_timeout(loop), -1);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- walk ---------------------------------------------------------------------- */

#define MAX_WALKED 8

struct walk_log {
  fuv_handle_t *seen[MAX_WALKED];
  int count;
  fuv_loop_t *loop;
  int create_more;
};

static void log_walk(fuv_handle_t *handle, void *arg) {
  struct walk_log *w = arg;
  ck_assert_int_lt(w->count, MAX_WALKED);
  w->seen[w->count++] = handle;
  if (w->create_more) {
    fuv_timer_t *extra;
    FUV_ASSERT_OK(fuv_timer_new(&extra, w->loop));
  }
}

START_TEST(walk_visits_live_handles_in_creation_order_and_skips_closing) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  fuv_timer_t *doomed = new_timer(loop);
  fuv_tcp_t *tcp;
  fuv_async_t *async;
  struct walk_log w;

  FUV_ASSERT_OK(fuv_tcp_new(&tcp, loop));
  FUV_ASSERT_OK(fuv_async_new(&async, loop, ignore_async, NULL));
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)doomed, NULL, NULL));

  memset(&w, 0, sizeof w);
  w.loop = loop;
  FUV_ASSERT_OK(fuv_walk(loop, log_walk, &w));
  ck_assert_int_eq(w.count, 3);
  ck_assert_ptr_eq(w.seen[0], (fuv_handle_t *)timer);
  ck_assert_ptr_eq(w.seen[1], (fuv_handle_t *)tcp);
  ck_assert_ptr_eq(w.seen[2], (fuv_handle_t *)async);

  FUV_ASSERT_ERR(fuv_walk(NULL, log_walk, &w), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_walk(loop, NULL, &w), FUV_EINVAL);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(walk_does_not_visit_handles_created_by_its_callback) {
  fuv_loop_t *loop = new_loop();
  struct walk_log w;
  new_timer(loop);
  new_timer(loop);

  memset(&w, 0, sizeof w);
  w.loop = loop;
  w.create_more = 1;
  FUV_ASSERT_OK(fuv_walk(loop, log_walk, &w));
  ck_assert_int_eq(w.count, 2);

  /* The handles made during the walk exist and are seen by the next one. */
  memset(&w, 0, sizeof w);
  FUV_ASSERT_OK(fuv_walk(loop, log_walk, &w));
  ck_assert_int_eq(w.count, 4);
  fuv_test_free_loop(loop);
}
END_TEST

static void close_walked(fuv_handle_t *handle, void *arg) {
  (*(int *)arg)++;
  FUV_ASSERT_OK(fuv_close(handle, NULL, NULL));
}

START_TEST(walk_callback_may_close_the_handle_it_visits) {
  fuv_loop_t *loop = new_loop();
  int visited = 0;
  for (int i = 0; i < 5; i++)
    new_timer(loop);
  FUV_ASSERT_OK(fuv_walk(loop, close_walked, &visited));
  ck_assert_int_eq(visited, 5);
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}
END_TEST

/* Running the loop frees closed handles, which would pull them out from
 * under the walk; inside a walk both run and free are refused. */
struct walk_reentry {
  fuv_loop_t *loop;
  int visited;
  int run_result;
  int free_result;
};

static void close_and_try_to_run(fuv_handle_t *handle, void *arg) {
  struct walk_reentry *w = arg;
  w->visited++;
  FUV_ASSERT_OK(fuv_close(handle, NULL, NULL));
  w->run_result = fuv_run(w->loop, FUV_RUN_NOWAIT);
  w->free_result = fuv_loop_free(w->loop);
}

START_TEST(run_and_free_are_refused_inside_a_walk_callback) {
  struct walk_reentry w = {NULL, 0, 0, 0};
  w.loop = new_loop();
  for (int i = 0; i < 3; i++)
    new_timer(w.loop);
  FUV_ASSERT_OK(fuv_walk(w.loop, close_and_try_to_run, &w));
  ck_assert_int_eq(w.visited, 3);
  FUV_ASSERT_ERR(w.run_result, FUV_EBUSY);
  FUV_ASSERT_ERR(w.free_result, FUV_EBUSY);
  ck_assert_int_eq(fuv_run(w.loop, FUV_RUN_DEFAULT), 0);
  FUV_ASSERT_OK(fuv_loop_free(w.loop));
}
END_TEST

/* ---- the wake-up fd --------------------------------------------------------- */

static void never_fires(fuv_timer_t *timer, void *arg) {
  (void)timer;
  (void)arg;
  ck_abort_msg("the wake-up should have ended the run first");
}

/* A write made before the loop waits (as when a signal arrives between two
 * callbacks) must still end an interruptible run, at its next wait. */
START_TEST(wakeup_fd_written_before_the_wait_interrupts_the_run) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  int fd;
  FUV_ASSERT_OK(fuv_loop_set_interruptible(loop, 1));
  FUV_ASSERT_OK(fuv_timer_start(timer, never_fires, 30000, 0, NULL));
  fd = fuv_loop_wakeup_fd(loop);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(fuv_loop_wakeup_fd(loop), fd);
  ck_assert_int_eq(write(fd, "x", 1), 1);
  FUV_ASSERT_ERR(fuv_run(loop, FUV_RUN_DEFAULT), FUV_EINTR);
  /* The loop stays usable, and the wake-up was consumed. */
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 1);
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)timer, NULL, NULL));
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  FUV_ASSERT_OK(fuv_loop_free(loop));
  /* The loop owned the fd and closed it. */
  ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
}
END_TEST

static void *write_wakeup_later(void *arg) {
  int fd = *(int *)arg;
  struct timespec pause = {0, 50 * 1000 * 1000};
  nanosleep(&pause, NULL);
  ck_assert_int_eq(write(fd, "x", 1), 1);
  return NULL;
}

START_TEST(wakeup_fd_written_by_another_thread_interrupts_a_blocked_run) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  pthread_t thread;
  int fd;
  FUV_ASSERT_OK(fuv_loop_set_interruptible(loop, 1));
  FUV_ASSERT_OK(fuv_timer_start(timer, never_fires, 30000, 0, NULL));
  fd = fuv_loop_wakeup_fd(loop);
  ck_assert_int_eq(pthread_create(&thread, NULL, write_wakeup_later, &fd), 0);
  FUV_ASSERT_ERR(fuv_run(loop, FUV_RUN_DEFAULT), FUV_EINTR);
  ck_assert_int_eq(pthread_join(thread, NULL), 0);
  fuv_test_free_loop(loop);
}
END_TEST

static void count_fire(fuv_timer_t *timer, void *arg) {
  (void)timer;
  (*(int *)arg)++;
}

START_TEST(wakeup_fd_only_wakes_a_loop_that_is_not_interruptible) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  int fired = 0;
  int fd = fuv_loop_wakeup_fd(loop);
  FUV_ASSERT_ERR(fuv_loop_wakeup_fd(NULL), FUV_EINVAL);
  FUV_ASSERT_OK(fuv_timer_start(timer, count_fire, 20, 0, &fired));
  ck_assert_int_eq(write(fd, "x", 1), 1);
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(fired, 1);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- data and metrics --------------------------------------------------------- */

START_TEST(loop_data_round_trips) {
  fuv_loop_t *loop = new_loop();
  int token;
  ck_assert_ptr_null(fuv_loop_get_data(loop));
  FUV_ASSERT_OK(fuv_loop_set_data(loop, &token));
  ck_assert_ptr_eq(fuv_loop_get_data(loop), &token);
  FUV_ASSERT_OK(fuv_loop_set_data(loop, NULL));
  ck_assert_ptr_null(fuv_loop_get_data(loop));
  ck_assert_ptr_null(fuv_loop_get_data(NULL));
  FUV_ASSERT_ERR(fuv_loop_set_data(NULL, &token), FUV_EINVAL);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}
END_TEST

START_TEST(metrics_count_iterations_and_io_events) {
  fuv_loop_t *loop = new_loop();
  fuv_async_t *async;
  fuv_tcp_t *client, *server_side;

  ck_assert_uint_eq(fuv_metrics_loop_count(NULL), 0);
  ck_assert_uint_eq(fuv_metrics_events(NULL), 0);
  ck_assert_uint_eq(fuv_metrics_loop_count(loop), 0);
  ck_assert_uint_eq(fuv_metrics_events(loop), 0);

  /* Each NOWAIT run of a live loop is one iteration. */
  FUV_ASSERT_OK(fuv_async_new(&async, loop, ignore_async, NULL));
  uint64_t iterations = fuv_metrics_loop_count(loop);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 1);
  ck_assert_uint_eq(fuv_metrics_loop_count(loop), iterations + 3);

  /* Connecting and accepting over loopback are I/O events. */
  uint64_t events = fuv_metrics_events(loop);
  fuv_test_tcp_pair(loop, "127.0.0.1", &client, &server_side);
  ck_assert_uint_gt(fuv_metrics_events(loop), events);
  ck_assert_uint_gt(fuv_metrics_loop_count(loop), iterations + 3);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- interruptible ------------------------------------------------------------ */

static volatile sig_atomic_t signals_caught;

static void on_sigusr1(int sig) {
  (void)sig;
  signals_caught++;
}

/* Installs a counting SIGUSR1 handler without SA_RESTART, so a signal makes
 * a blocking wait fail with EINTR. */
static void install_sigusr1(struct sigaction *old) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigusr1;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  ck_assert_int_eq(sigaction(SIGUSR1, &sa, old), 0);
  signals_caught = 0;
}

/* A thread that sends SIGUSR1 to the loop's thread every millisecond until
 * told to stop or until it has sent `limit` signals (0: no limit), then
 * wakes the loop through `wake` if given. Repeating the signal is what
 * makes sure one of them lands while the loop is blocked in the backend. */
struct signaller {
  pthread_t target;
  pthread_t thread;
  pthread_mutex_t lock;
  int stop;
  int sent;
  int limit;
  fuv_async_t *wake;
};

static int signaller_should_stop(struct signaller *s) {
  pthread_mutex_lock(&s->lock);
  int stop = s->stop;
  pthread_mutex_unlock(&s->lock);
  return stop;
}

static void *signaller_main(void *arg) {
  struct signaller *s = arg;
  while (!signaller_should_stop(s) && (s->limit == 0 || s->sent < s->limit)) {
    pthread_kill(s->target, SIGUSR1);
    s->sent++;
    sleep_ms(1);
  }
  if (s->wake != NULL)
    fuv_async_send(s->wake);
  return NULL;
}

static void signaller_start(struct signaller *s, int limit, fuv_async_t *wake) {
  s->target = pthread_self();
  s->stop = 0;
  s->sent = 0;
  s->limit = limit;
  s->wake = wake;
  pthread_mutex_init(&s->lock, NULL);
  ck_assert_int_eq(pthread_create(&s->thread, NULL, signaller_main, s), 0);
}

static void signaller_join(struct signaller *s) {
  pthread_mutex_lock(&s->lock);
  s->stop = 1;
  pthread_mutex_unlock(&s->lock);
  ck_assert_int_eq(pthread_join(s->thread, NULL), 0);
  pthread_mutex_destroy(&s->lock);
}

static void close_async_from_cb(fuv_async_t *async, void *arg) {
  (*(int *)arg)++;
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)async, NULL, NULL));
}

static void fail_watchdog(fuv_timer_t *timer, void *arg) {
  (void)timer;
  (void)arg;
  ck_abort_msg("the loop kept running: a signal did not interrupt it");
}

/* An unreferenced timer that fails the test if fuv_run is still going. */
static void arm_watchdog(fuv_loop_t *loop, uint64_t ms) {
  fuv_timer_t *watchdog = new_timer(loop);
  FUV_ASSERT_OK(fuv_timer_start(watchdog, fail_watchdog, ms, 0, NULL));
  FUV_ASSERT_OK(fuv_unref((fuv_handle_t *)watchdog));
}

START_TEST(interruptible_loop_returns_eintr_on_a_signal_and_runs_again) {
  struct sigaction old;
  struct signaller s;
  fuv_loop_t *loop = new_loop();
  fuv_async_t *async;
  int woken = 0;

  install_sigusr1(&old);
  FUV_ASSERT_ERR(fuv_loop_set_interruptible(NULL, 1), FUV_EINVAL);
  FUV_ASSERT_OK(fuv_loop_set_interruptible(loop, 1));
  /* The async handle keeps the loop blocked with no deadline. */
  FUV_ASSERT_OK(fuv_async_new(&async, loop, close_async_from_cb, &woken));
  arm_watchdog(loop, 10000);

  signaller_start(&s, 0, NULL);
  int r = fuv_run(loop, FUV_RUN_DEFAULT);
  signaller_join(&s);
  FUV_ASSERT_ERR(r, FUV_EINTR);
  ck_assert_int_ge(signals_caught, 1);
  ck_assert_int_eq(woken, 0);

  /* The interrupted loop still works: a send wakes it and it finishes. */
  FUV_ASSERT_OK(fuv_async_send(async));
  fuv_test_run(loop, 10000);
  ck_assert_int_eq(woken, 1);

  fuv_test_free_loop(loop);
  ck_assert_int_eq(sigaction(SIGUSR1, &old, NULL), 0);
}
END_TEST

START_TEST(loop_that_is_not_interruptible_keeps_running_through_signals) {
  struct sigaction old;
  struct signaller s;
  fuv_loop_t *loop = new_loop();
  fuv_async_t *async;
  int woken = 0;

  install_sigusr1(&old);
  FUV_ASSERT_OK(fuv_loop_set_interruptible(loop, 1));
  FUV_ASSERT_OK(fuv_loop_set_interruptible(loop, 0));
  FUV_ASSERT_OK(fuv_async_new(&async, loop, close_async_from_cb, &woken));

  /* Fifty signals land while the loop waits; only the async send that
   * follows them may end the run. */
  signaller_start(&s, 50, async);
  int r = fuv_run(loop, FUV_RUN_DEFAULT);
  signaller_join(&s);
  ck_assert_int_eq(r, 0);
  ck_assert_int_eq(woken, 1);
  ck_assert_int_eq(s.sent, 50);
  ck_assert_int_ge(signals_caught, 1);

  fuv_test_free_loop(loop);
  ck_assert_int_eq(sigaction(SIGUSR1, &old, NULL), 0);
}
END_TEST

START_TEST(sleep_resumes_after_signals_for_the_whole_time) {
  struct sigaction old;
  struct signaller s;

  install_sigusr1(&old);
  /* Signals every millisecond during the first ~20 ms of a 60 ms sleep:
   * each interrupts nanosleep, which must resume with what is left. */
  signaller_start(&s, 20, NULL);
  uint64_t t0 = fuv_hrtime();
  FUV_ASSERT_OK(fuv_sleep(60));
  uint64_t slept = fuv_hrtime() - t0;
  signaller_join(&s);
  ck_assert_int_ge(signals_caught, 1);
  ck_assert_uint_ge(slept, UINT64_C(60000000));
  ck_assert_int_eq(sigaction(SIGUSR1, &old, NULL), 0);
}
END_TEST

static Suite *loop_suite(void) {
  Suite *s = suite_create("loop_" FUV_TEST_BACKEND);
  TCase *life = tcase_create("lifetime");
  tcase_add_test(life, loop_new_then_free_succeeds);
  tcase_add_test(life, loop_new_with_null_out_is_einval);
  tcase_add_test(life, several_loops_coexist_independently);
  tcase_add_test(life, loop_free_with_open_handle_is_ebusy_and_loop_stays_usable);
  tcase_add_test(life, loop_free_while_close_callback_pending_is_ebusy);
  tcase_add_test(life, loop_free_with_open_tcp_and_async_is_ebusy);
  suite_add_tcase(s, life);

  TCase *run = tcase_create("run");
  tcase_add_test(run, run_on_an_empty_loop_returns_zero_in_every_mode);
  tcase_add_test(run, run_with_bad_loop_or_mode_is_einval);
  tcase_add_test(run, run_nowait_returns_one_without_waiting_for_a_distant_timer);
  tcase_add_test(run, run_once_blocks_until_a_timer_fires_then_reports_what_is_left);
  tcase_add_test(run, run_default_returns_zero_once_the_last_timer_has_fired);
  tcase_add_test(run, stop_inside_a_callback_makes_run_return_one);
  tcase_add_test(run, run_or_free_from_inside_a_callback_is_ebusy);
  tcase_add_test(run, loop_alive_follows_active_referenced_and_closing_handles);
  suite_add_tcase(s, run);

  TCase *time = tcase_create("time");
  tcase_add_test(time, now_is_cached_until_update_time_and_never_goes_back);
  tcase_add_test(time, run_updates_now_before_timers_fire);
  tcase_add_test(time, hrtime_is_monotonic_and_counts_nanoseconds);
  suite_add_tcase(s, time);

  TCase *backend = tcase_create("backend");
  tcase_add_test(backend, backend_fd_is_the_epoll_fd_or_enosys_for_poll);
  tcase_add_test(backend, backend_timeout_is_minus_one_when_only_io_can_wake_the_loop);
  tcase_add_test(backend, backend_timeout_is_the_time_to_the_next_timer);
  tcase_add_test(backend, backend_timeout_is_zero_while_a_close_is_pending);
  suite_add_tcase(s, backend);

  TCase *walk = tcase_create("walk");
  tcase_add_test(walk, walk_visits_live_handles_in_creation_order_and_skips_closing);
  tcase_add_test(walk, walk_does_not_visit_handles_created_by_its_callback);
  tcase_add_test(walk, walk_callback_may_close_the_handle_it_visits);
  tcase_add_test(walk, run_and_free_are_refused_inside_a_walk_callback);

  TCase *wakeup = tcase_create("wakeup_fd");
  tcase_add_test(wakeup, wakeup_fd_written_before_the_wait_interrupts_the_run);
  tcase_add_test(wakeup,
                 wakeup_fd_written_by_another_thread_interrupts_a_blocked_run);
  tcase_add_test(wakeup, wakeup_fd_only_wakes_a_loop_that_is_not_interruptible);
  suite_add_tcase(s, wakeup);
  suite_add_tcase(s, walk);

  TCase *misc = tcase_create("data_metrics_signals");
  tcase_set_timeout(misc, 30);
  tcase_add_test(misc, loop_data_round_trips);
  tcase_add_test(misc, metrics_count_iterations_and_io_events);
  tcase_add_test(misc, interruptible_loop_returns_eintr_on_a_signal_and_runs_again);
  tcase_add_test(misc, loop_that_is_not_interruptible_keeps_running_through_signals);
  tcase_add_test(misc, sleep_resumes_after_signals_for_the_whole_time);
  suite_add_tcase(s, misc);
  return s;
}

FUV_TEST_MAIN(loop_suite)
