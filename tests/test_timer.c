/*
 * Timers: firing order, zero timeouts, repeats, again, repeat and due-time
 * queries, stopping and restarting from the callback, unreferenced timers,
 * many timers at once, and closing from the callback. The assertions are on
 * counts and order; wall-clock precision belongs in the benchmarks.
 */
#include "fuv_test.h"

#include <stdlib.h>

static fuv_loop_t *new_loop(void) {
  fuv_loop_t *loop = NULL;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  return loop;
}

static fuv_timer_t *new_timer(fuv_loop_t *loop) {
  fuv_timer_t *timer = NULL;
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  return timer;
}

static void count_timer(fuv_timer_t *timer, void *arg) {
  (void)timer;
  (*(int *)arg)++;
}

/* ---- order ------------------------------------------------------------------- */

/* Records the id of each timer as it fires. */
struct fire_log {
  int *order;
  int count;
  int capacity;
};

struct tagged_timer {
  struct fire_log *log;
  int id;
};

static void log_fire(fuv_timer_t *timer, void *arg) {
  struct tagged_timer *t = arg;
  (void)timer;
  ck_assert_int_lt(t->log->count, t->log->capacity);
  t->log->order[t->log->count++] = t->id;
}

START_TEST(timers_fire_by_due_time_and_ties_in_start_order) {
  fuv_loop_t *loop = new_loop();
  /* Timeouts by start order; the expected firing order sorts by timeout and
   * keeps start order among equal ones. */
  static const uint64_t timeouts[] = {30, 10, 20, 10, 0, 10, 20, 0};
  static const int expected[] = {4, 7, 1, 3, 5, 2, 6, 0};
  enum { N = sizeof timeouts / sizeof timeouts[0] };
  int order[N];
  struct fire_log log = {order, 0, N};
  struct tagged_timer tags[N];

  for (int i = 0; i < N; i++) {
    tags[i].log = &log;
    tags[i].id = i;
    FUV_ASSERT_OK(fuv_timer_start(new_timer(loop), log_fire, timeouts[i], 0, &tags[i]));
  }
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(log.count, N);
  for (int i = 0; i < N; i++)
    ck_assert_msg(order[i] == expected[i], "fire %d was timer %d, wanted %d", i,
                  order[i], expected[i]);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(restarting_a_timer_moves_it_behind_equal_timers) {
  fuv_loop_t *loop = new_loop();
  int order[3];
  struct fire_log log = {order, 0, 3};
  struct tagged_timer tags[3];
  fuv_timer_t *timers[3];
  for (int i = 0; i < 3; i++) {
    tags[i].log = &log;
    tags[i].id = i;
    timers[i] = new_timer(loop);
    FUV_ASSERT_OK(fuv_timer_start(timers[i], log_fire, 5, 0, &tags[i]));
  }
  /* Starting timer 0 again gives it a later start: it now fires last. */
  FUV_ASSERT_OK(fuv_timer_start(timers[0], log_fire, 5, 0, &tags[0]));
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(log.count, 3);
  ck_assert_int_eq(order[0], 1);
  ck_assert_int_eq(order[1], 2);
  ck_assert_int_eq(order[2], 0);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- zero timeout -------------------------------------------------------------- */

START_TEST(zero_timeout_fires_on_the_next_iteration_not_inside_start) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  int fired = 0;
  FUV_ASSERT_OK(fuv_timer_start(timer, count_timer, 0, 0, &fired));
  ck_assert_int_eq(fired, 0);
  ck_assert_int_eq(fuv_is_active((fuv_handle_t *)timer), 1);
  /* One iteration that does not block is enough to fire it. */
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 0);
  ck_assert_int_eq(fired, 1);
  ck_assert_int_eq(fuv_is_active((fuv_handle_t *)timer), 0);
  fuv_test_free_loop(loop);
}
END_TEST

struct chained {
  fuv_timer_t *second;
  uint64_t first_iteration;
  uint64_t second_iteration;
  int second_fired_inside_start;
  int in_start;
};

static void chained_second(fuv_timer_t *timer, void *arg) {
  struct chained *c = arg;
  c->second_iteration = fuv_metrics_loop_count(fuv_handle_loop((fuv_handle_t *)timer));
  if (c->in_start)
    c->second_fired_inside_start = 1;
}

static void chained_first(fuv_timer_t *timer, void *arg) {
  struct chained *c = arg;
  c->first_iteration = fuv_metrics_loop_count(fuv_handle_loop((fuv_handle_t *)timer));
  c->in_start = 1;
  FUV_ASSERT_OK(fuv_timer_start(c->second, chained_second, 0, 0, c));
  c->in_start = 0;
}

START_TEST(zero_timeout_started_in_a_timer_callback_waits_for_the_next_iteration) {
  fuv_loop_t *loop = new_loop();
  struct chained c;
  memset(&c, 0, sizeof c);
  c.second = new_timer(loop);
  FUV_ASSERT_OK(fuv_timer_start(new_timer(loop), chained_first, 0, 0, &c));
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(c.second_fired_inside_start, 0);
  ck_assert_uint_gt(c.second_iteration, c.first_iteration);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- repeat ----------------------------------------------------------------------- */

struct repeat_probe {
  uint64_t start;
  uint64_t fired_at[8];
  int count;
  int stop_after;
};

static void record_repeat(fuv_timer_t *timer, void *arg) {
  struct repeat_probe *p = arg;
  p->fired_at[p->count++] = fuv_now(fuv_handle_loop((fuv_handle_t *)timer));
  if (p->count == p->stop_after)
    FUV_ASSERT_OK(fuv_timer_stop(timer));
}

START_TEST(repeating_timer_fires_every_interval_until_stopped) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  struct repeat_probe p;
  memset(&p, 0, sizeof p);
  p.stop_after = 5;
  FUV_ASSERT_OK(fuv_update_time(loop));
  p.start = fuv_now(loop);
  FUV_ASSERT_OK(fuv_timer_start(timer, record_repeat, 3, 4, &p));
  ck_assert_uint_eq(fuv_timer_get_repeat(timer), 4);
  /* The timer stops itself after five firings, which ends the run. */
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(p.count, 5);
  /* Never early: firing k is at least timeout + k * repeat after start. */
  for (int k = 0; k < p.count; k++)
    ck_assert_uint_ge(p.fired_at[k], p.start + 3 + 4 * (uint64_t)k);
  for (int k = 1; k < p.count; k++)
    ck_assert_uint_ge(p.fired_at[k], p.fired_at[k - 1] + 4);
  ck_assert_int_eq(fuv_is_active((fuv_handle_t *)timer), 0);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(set_repeat_and_get_repeat_round_trip) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  ck_assert_uint_eq(fuv_timer_get_repeat(timer), 0);
  FUV_ASSERT_OK(fuv_timer_set_repeat(timer, 123));
  ck_assert_uint_eq(fuv_timer_get_repeat(timer), 123);
  FUV_ASSERT_OK(fuv_timer_start(timer, count_timer, 1000, 7, NULL));
  ck_assert_uint_eq(fuv_timer_get_repeat(timer), 7);
  FUV_ASSERT_OK(fuv_timer_set_repeat(timer, 0));
  ck_assert_uint_eq(fuv_timer_get_repeat(timer), 0);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(set_repeat_on_a_one_shot_timer_makes_it_repeat_after_expiry) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  struct repeat_probe p;
  memset(&p, 0, sizeof p);
  p.stop_after = 3;
  FUV_ASSERT_OK(fuv_timer_start(timer, record_repeat, 1, 0, &p));
  FUV_ASSERT_OK(fuv_timer_set_repeat(timer, 2));
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(p.count, 3);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- again ---------------------------------------------------------------------------- */

START_TEST(again_on_a_timer_never_started_is_einval) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  FUV_ASSERT_ERR(fuv_timer_again(timer), FUV_EINVAL);
  /* Having a repeat set does not count as having been started. */
  FUV_ASSERT_OK(fuv_timer_set_repeat(timer, 10));
  FUV_ASSERT_ERR(fuv_timer_again(timer), FUV_EINVAL);
  ck_assert_int_eq(fuv_is_active((fuv_handle_t *)timer), 0);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(again_restarts_with_the_repeat_as_timeout) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  struct repeat_probe p;
  memset(&p, 0, sizeof p);
  p.stop_after = 2;
  /* A distant first expiry, then again(): the repeat (5 ms) applies now. */
  FUV_ASSERT_OK(fuv_timer_start(timer, record_repeat, 60000, 5, &p));
  ck_assert_uint_gt(fuv_timer_get_due_in(timer), 5);
  FUV_ASSERT_OK(fuv_timer_again(timer));
  ck_assert_int_eq(fuv_is_active((fuv_handle_t *)timer), 1);
  ck_assert_uint_le(fuv_timer_get_due_in(timer), 5);
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(p.count, 2);
  /* A stopped timer that was started before may be restarted by again(). */
  FUV_ASSERT_OK(fuv_timer_again(timer));
  ck_assert_int_eq(fuv_is_active((fuv_handle_t *)timer), 1);
  p.stop_after = 3;
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(p.count, 3);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(again_with_zero_repeat_stops_the_timer) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  int fired = 0;
  FUV_ASSERT_OK(fuv_timer_start(timer, count_timer, 60000, 0, &fired));
  ck_assert_int_eq(fuv_is_active((fuv_handle_t *)timer), 1);
  FUV_ASSERT_OK(fuv_timer_again(timer));
  ck_assert_int_eq(fuv_is_active((fuv_handle_t *)timer), 0);
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(fired, 0);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- due in ------------------------------------------------------------------------------- */

START_TEST(due_in_counts_down_and_is_zero_when_stopped) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  ck_assert_uint_eq(fuv_timer_get_due_in(timer), 0);
  FUV_ASSERT_OK(fuv_timer_start(timer, count_timer, 1000, 0, NULL));
  uint64_t due = fuv_timer_get_due_in(timer);
  ck_assert_uint_le(due, 1000);
  ck_assert_uint_ge(due, 900);
  FUV_ASSERT_OK(fuv_timer_stop(timer));
  ck_assert_uint_eq(fuv_timer_get_due_in(timer), 0);
  /* Stopping a stopped timer is not an error. */
  FUV_ASSERT_OK(fuv_timer_stop(timer));
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(huge_timeout_does_not_wrap_around_into_an_early_fire) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  int fired = 0;
  FUV_ASSERT_OK(fuv_timer_start(timer, count_timer, UINT64_MAX, 0, &fired));
  ck_assert_uint_gt(fuv_timer_get_due_in(timer), (uint64_t)1 << 62);
  /* The wait is capped, never negative or zero. */
  ck_assert_int_gt(fuv_backend_timeout(loop), 1000000);
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 1);
  ck_assert_int_eq(fired, 0);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- from the callback ------------------------------------------------------------------- */

static void stop_self(fuv_timer_t *timer, void *arg) {
  (*(int *)arg)++;
  FUV_ASSERT_OK(fuv_timer_stop(timer));
  ck_assert_int_eq(fuv_is_active((fuv_handle_t *)timer), 0);
}

START_TEST(repeating_timer_stopped_in_its_callback_does_not_fire_again) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  int fired = 0;
  FUV_ASSERT_OK(fuv_timer_start(timer, stop_self, 1, 1, &fired));
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(fired, 1);
  ck_assert_int_eq(fuv_is_active((fuv_handle_t *)timer), 0);
  fuv_test_free_loop(loop);
}
END_TEST

static void restart_self(fuv_timer_t *timer, void *arg) {
  int *fired = arg;
  (*fired)++;
  if (*fired < 4)
    FUV_ASSERT_OK(fuv_timer_start(timer, restart_self, 1, 0, arg));
}

START_TEST(timer_restarted_in_its_callback_fires_again) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  int fired = 0;
  FUV_ASSERT_OK(fuv_timer_start(timer, restart_self, 1, 0, &fired));
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(fired, 4);
  ck_assert_int_eq(fuv_is_active((fuv_handle_t *)timer), 0);
  fuv_test_free_loop(loop);
}
END_TEST

struct switcher {
  int fast;
  int slow;
};

static void slow_cb(fuv_timer_t *timer, void *arg) {
  struct switcher *s = arg;
  s->slow++;
  FUV_ASSERT_OK(fuv_timer_stop(timer));
}

static void fast_cb(fuv_timer_t *timer, void *arg) {
  struct switcher *s = arg;
  /* Replacing the callback and the repeat of a repeating timer from its own
   * callback: the new settings win over the old repeat. */
  s->fast++;
  FUV_ASSERT_OK(fuv_timer_start(timer, slow_cb, 2, 0, arg));
}

START_TEST(repeating_timer_restarted_in_its_callback_takes_the_new_settings) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  struct switcher s = {0, 0};
  FUV_ASSERT_OK(fuv_timer_start(timer, fast_cb, 1, 1, &s));
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(s.fast, 1);
  ck_assert_int_eq(s.slow, 1);
  ck_assert_uint_eq(fuv_timer_get_repeat(timer), 0);
  fuv_test_free_loop(loop);
}
END_TEST

static void close_self(fuv_timer_t *timer, void *arg) {
  int *counts = arg;
  counts[0]++;
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)timer, fuv_test_count_close, &counts[1]));
  ck_assert_int_eq(fuv_is_closing((fuv_handle_t *)timer), 1);
}

START_TEST(repeating_timer_closed_in_its_callback_fires_once_and_is_freed) {
  fuv_loop_t *loop = new_loop();
  int counts[2] = {0, 0}; /* fired, closed */
  FUV_ASSERT_OK(fuv_timer_start(new_timer(loop), close_self, 1, 1, counts));
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(counts[0], 1);
  ck_assert_int_eq(counts[1], 1);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}
END_TEST

struct closer {
  fuv_timer_t *victim;
  int victim_fired;
  int victim_closed;
};

static void victim_cb(fuv_timer_t *timer, void *arg) {
  struct closer *c = arg;
  (void)timer;
  c->victim_fired++;
}

static void close_victim(fuv_timer_t *timer, void *arg) {
  struct closer *c = arg;
  (void)timer;
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)c->victim, fuv_test_count_close,
                          &c->victim_closed));
}

START_TEST(timer_due_in_the_same_iteration_does_not_fire_once_closed) {
  fuv_loop_t *loop = new_loop();
  struct closer c = {NULL, 0, 0};
  c.victim = new_timer(loop);
  /* Both are due in the same iteration; the first closes the second. */
  FUV_ASSERT_OK(fuv_timer_start(new_timer(loop), close_victim, 0, 0, &c));
  FUV_ASSERT_OK(fuv_timer_start(c.victim, victim_cb, 0, 0, &c));
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(c.victim_fired, 0);
  ck_assert_int_eq(c.victim_closed, 1);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- references ------------------------------------------------------------------------ */

START_TEST(unreferenced_timer_does_not_keep_the_loop_alive) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  int fired = 0;
  FUV_ASSERT_OK(fuv_timer_start(timer, count_timer, 60000, 0, &fired));
  FUV_ASSERT_OK(fuv_unref((fuv_handle_t *)timer));
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(fired, 0);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(unreferenced_timer_still_fires_while_another_handle_keeps_the_loop) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *background = new_timer(loop);
  fuv_timer_t *foreground = new_timer(loop);
  int background_fired = 0, foreground_fired = 0;
  FUV_ASSERT_OK(fuv_timer_start(background, count_timer, 1, 0, &background_fired));
  FUV_ASSERT_OK(fuv_unref((fuv_handle_t *)background));
  FUV_ASSERT_OK(fuv_timer_start(foreground, count_timer, 20, 0, &foreground_fired));
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(background_fired, 1);
  ck_assert_int_eq(foreground_fired, 1);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- many --------------------------------------------------------------------------------- */

#define MANY_TIMERS 10000

START_TEST(ten_thousand_timers_fire_in_order) {
  fuv_loop_t *loop = new_loop();
  int *order = calloc(MANY_TIMERS, sizeof *order);
  struct tagged_timer *tags = calloc(MANY_TIMERS, sizeof *tags);
  struct fire_log log = {order, 0, MANY_TIMERS};
  ck_assert_ptr_nonnull(order);
  ck_assert_ptr_nonnull(tags);

  /* Timeouts spread over 0-49 ms in a scrambled order, so the heap sees
   * every kind of insertion; ids are start order. */
  for (int i = 0; i < MANY_TIMERS; i++) {
    tags[i].log = &log;
    tags[i].id = i;
    uint64_t timeout = (uint64_t)((i * 7919) % 50);
    FUV_ASSERT_OK(fuv_timer_start(new_timer(loop), log_fire, timeout, 0, &tags[i]));
  }
  fuv_test_run(loop, 30000);
  ck_assert_int_eq(log.count, MANY_TIMERS);
  for (int k = 1; k < MANY_TIMERS; k++) {
    int a = order[k - 1], b = order[k];
    int ta = (a * 7919) % 50, tb = (b * 7919) % 50;
    ck_assert_msg(ta < tb || (ta == tb && a < b),
                  "timer %d (timeout %d) fired before timer %d (timeout %d)",
                  a, ta, b, tb);
  }
  fuv_test_free_loop(loop);
  free(order);
  free(tags);
}
END_TEST

/* ---- misuse ------------------------------------------------------------------------------- */

START_TEST(start_with_a_null_callback_is_einval_and_starts_nothing) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = new_timer(loop);
  FUV_ASSERT_ERR(fuv_timer_start(timer, NULL, 1, 0, NULL), FUV_EINVAL);
  ck_assert_int_eq(fuv_is_active((fuv_handle_t *)timer), 0);
  /* A failed start does not count as a start for again(). */
  FUV_ASSERT_ERR(fuv_timer_again(timer), FUV_EINVAL);
  fuv_test_free_loop(loop);
}
END_TEST

static Suite *timer_suite(void) {
  Suite *s = suite_create("timer_" FUV_TEST_BACKEND);
  TCase *order = tcase_create("order");
  tcase_add_test(order, timers_fire_by_due_time_and_ties_in_start_order);
  tcase_add_test(order, restarting_a_timer_moves_it_behind_equal_timers);
  tcase_add_test(order, zero_timeout_fires_on_the_next_iteration_not_inside_start);
  tcase_add_test(order, zero_timeout_started_in_a_timer_callback_waits_for_the_next_iteration);
  suite_add_tcase(s, order);

  TCase *repeat = tcase_create("repeat_again");
  tcase_add_test(repeat, repeating_timer_fires_every_interval_until_stopped);
  tcase_add_test(repeat, set_repeat_and_get_repeat_round_trip);
  tcase_add_test(repeat, set_repeat_on_a_one_shot_timer_makes_it_repeat_after_expiry);
  tcase_add_test(repeat, again_on_a_timer_never_started_is_einval);
  tcase_add_test(repeat, again_restarts_with_the_repeat_as_timeout);
  tcase_add_test(repeat, again_with_zero_repeat_stops_the_timer);
  tcase_add_test(repeat, due_in_counts_down_and_is_zero_when_stopped);
  tcase_add_test(repeat, huge_timeout_does_not_wrap_around_into_an_early_fire);
  suite_add_tcase(s, repeat);

  TCase *cb = tcase_create("from_callback");
  tcase_add_test(cb, repeating_timer_stopped_in_its_callback_does_not_fire_again);
  tcase_add_test(cb, timer_restarted_in_its_callback_fires_again);
  tcase_add_test(cb, repeating_timer_restarted_in_its_callback_takes_the_new_settings);
  tcase_add_test(cb, repeating_timer_closed_in_its_callback_fires_once_and_is_freed);
  tcase_add_test(cb, timer_due_in_the_same_iteration_does_not_fire_once_closed);
  suite_add_tcase(s, cb);

  TCase *ref = tcase_create("ref_many_misuse");
  tcase_set_timeout(ref, 60);
  tcase_add_test(ref, unreferenced_timer_does_not_keep_the_loop_alive);
  tcase_add_test(ref, unreferenced_timer_still_fires_while_another_handle_keeps_the_loop);
  tcase_add_test(ref, ten_thousand_timers_fire_in_order);
  tcase_add_test(ref, start_with_a_null_callback_is_einval_and_starts_nothing);
  suite_add_tcase(s, ref);
  return s;
}

FUV_TEST_MAIN(timer_suite)
