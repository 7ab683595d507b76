/*
 * Prepare, check and idle handles: where in an iteration each kind runs,
 * that an idle handle keeps the wait from blocking, the order handles of a
 * kind run in, starting, stopping and closing from callbacks, references,
 * run modes, and misuse.
 *
 * Most tests run once per kind (tcase_add_loop_test, _i is the kind): the
 * kind table below gives each kind's calls a common shape, and every
 * callback goes through one trampoline per kind to a struct rec.
 */
#include "fuv_test.h"

#include <stdlib.h>

enum { KIND_PREPARE, KIND_CHECK, KIND_IDLE, NKINDS };

static const fuv_handle_type_t kind_types[NKINDS] = {FUV_PREPARE, FUV_CHECK,
                                                     FUV_IDLE};
static const char *const kind_names[NKINDS] = {"prepare", "check", "idle"};

/* What a callback records, and what it does next (fn, may be NULL). */
struct rec {
  int kind;
  int calls;
  char tag;     /* appended to *log on every call, when log is set */
  char *log;
  struct rec *other; /* the handle fn acts on, when it acts on another */
  void *ctx;         /* anything else fn needs */
  fuv_handle_t *handle;
  void (*fn)(struct rec *self);
  int closed;
};

static void log_tag(struct rec *r) {
  if (r->log != NULL) {
    size_t n = strlen(r->log);
    ck_assert_uint_lt(n, 255);
    r->log[n] = r->tag;
    r->log[n + 1] = '\0';
  }
}

static void on_any(fuv_handle_t *h, struct rec *r) {
  ck_assert_ptr_eq(h, r->handle);
  r->calls++;
  log_tag(r);
  if (r->fn != NULL)
    r->fn(r);
}

static void on_prepare(fuv_prepare_t *h, void *arg) {
  on_any((fuv_handle_t *)h, arg);
}
static void on_check(fuv_check_t *h, void *arg) {
  on_any((fuv_handle_t *)h, arg);
}
static void on_idle(fuv_idle_t *h, void *arg) {
  on_any((fuv_handle_t *)h, arg);
}

static fuv_handle_t *kind_new(int kind, fuv_loop_t *loop) {
  fuv_prepare_t *p = NULL;
  fuv_check_t *c = NULL;
  fuv_idle_t *i = NULL;
  switch (kind) {
  case KIND_PREPARE:
    FUV_ASSERT_OK(fuv_prepare_new(&p, loop));
    return (fuv_handle_t *)p;
  case KIND_CHECK:
    FUV_ASSERT_OK(fuv_check_new(&c, loop));
    return (fuv_handle_t *)c;
  default:
    FUV_ASSERT_OK(fuv_idle_new(&i, loop));
    return (fuv_handle_t *)i;
  }
}

static int kind_start(int kind, fuv_handle_t *h, struct rec *r) {
  switch (kind) {
  case KIND_PREPARE:
    return fuv_prepare_start((fuv_prepare_t *)h, on_prepare, r);
  case KIND_CHECK:
    return fuv_check_start((fuv_check_t *)h, on_check, r);
  default:
    return fuv_idle_start((fuv_idle_t *)h, on_idle, r);
  }
}

/* Starting with a NULL callback. */
static int kind_start_null(int kind, fuv_handle_t *h) {
  switch (kind) {
  case KIND_PREPARE:
    return fuv_prepare_start((fuv_prepare_t *)h, NULL, NULL);
  case KIND_CHECK:
    return fuv_check_start((fuv_check_t *)h, NULL, NULL);
  default:
    return fuv_idle_start((fuv_idle_t *)h, NULL, NULL);
  }
}

static int kind_stop(int kind, fuv_handle_t *h) {
  switch (kind) {
  case KIND_PREPARE:
    return fuv_prepare_stop((fuv_prepare_t *)h);
  case KIND_CHECK:
    return fuv_check_stop((fuv_check_t *)h);
  default:
    return fuv_idle_stop((fuv_idle_t *)h);
  }
}

static fuv_loop_t *new_loop(void) {
  fuv_loop_t *loop = NULL;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  return loop;
}

/* A new handle of the kind with its record, started. */
static void rec_start(struct rec *r, int kind, fuv_loop_t *loop, char tag,
                      char *log) {
  memset(r, 0, sizeof *r);
  r->kind = kind;
  r->tag = tag;
  r->log = log;
  r->handle = kind_new(kind, loop);
  FUV_ASSERT_OK(kind_start(kind, r->handle, r));
}

static void ignore_async(fuv_async_t *a, void *arg) {
  (void)a;
  (void)arg;
}

static void count_timer(fuv_timer_t *t, void *arg) {
  (void)t;
  (*(int *)arg)++;
}

/* ---- where each kind runs in an iteration ------------------------------------ */

struct order {
  char log[256];
  fuv_async_t *async;
};

static void log_async(fuv_async_t *a, void *arg) {
  (void)a;
  struct order *o = arg;
  strcat(o->log, "A");
}

static void log_timer(fuv_timer_t *t, void *arg) {
  (void)t;
  struct order *o = arg;
  strcat(o->log, "T");
}

/* The prepare callback sends to the async handle, whose callback can only
 * run from the wait for I/O: so "P" before "A" before "C" shows prepare
 * runs before the wait and check after it. */
static void prepare_sends(struct rec *r) {
  struct order *o = r->ctx;
  FUV_ASSERT_OK(fuv_async_send(o->async));
}

START_TEST(iteration_runs_timers_idle_prepare_io_check_in_order) {
  fuv_loop_t *loop = new_loop();
  struct order o;
  struct rec prep, chk, idle;
  fuv_timer_t *timer;

  memset(&o, 0, sizeof o);
  FUV_ASSERT_OK(fuv_async_new(&o.async, loop, log_async, &o));
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_timer_start(timer, log_timer, 0, 0, &o));
  /* Started in reverse of their phases, so that start order cannot be
   * what orders them. */
  rec_start(&chk, KIND_CHECK, loop, 'C', o.log);
  rec_start(&prep, KIND_PREPARE, loop, 'P', o.log);
  prep.fn = prepare_sends;
  prep.ctx = &o;
  rec_start(&idle, KIND_IDLE, loop, 'I', o.log);

  ck_assert_int_eq(fuv_run(loop, FUV_RUN_ONCE), 1);
  ck_assert_str_eq(o.log, "TIPAC");
  /* The timer is done; every other phase runs again, in the same order. */
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_ONCE), 1);
  ck_assert_str_eq(o.log, "TIPACIPAC");

  /* Without the idle handle the wait blocks: it is the async event that
   * ends it, between prepare and check. */
  FUV_ASSERT_OK(fuv_idle_stop((fuv_idle_t *)idle.handle));
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_ONCE), 1);
  ck_assert_str_eq(o.log, "TIPACIPACPAC");
  fuv_test_free_loop(loop);
}
END_TEST

/* A blocking ONCE run that waits for a timer: prepare runs before the wait,
 * check after it, and the timer that ended the wait right after check. */
START_TEST(once_run_waiting_for_a_timer_runs_prepare_before_and_check_after) {
  fuv_loop_t *loop = new_loop();
  struct order o;
  struct rec prep, chk;
  fuv_timer_t *timer;

  memset(&o, 0, sizeof o);
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_timer_start(timer, log_timer, 20, 0, &o));
  rec_start(&prep, KIND_PREPARE, loop, 'P', o.log);
  rec_start(&chk, KIND_CHECK, loop, 'C', o.log);
  FUV_ASSERT_OK(fuv_unref(prep.handle));
  FUV_ASSERT_OK(fuv_unref(chk.handle));
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_ONCE), 0);
  ck_assert_str_eq(o.log, "PCT");
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- idle keeps the wait from blocking ------------------------------------- */

START_TEST(active_idle_handle_makes_the_wait_not_block) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *far;
  struct rec idle;
  int fired = 0;

  FUV_ASSERT_OK(fuv_timer_new(&far, loop));
  FUV_ASSERT_OK(fuv_timer_start(far, count_timer, 100000, 0, &fired));
  ck_assert_int_gt(fuv_backend_timeout(loop), 0);

  rec_start(&idle, KIND_IDLE, loop, 'I', NULL);
  ck_assert_int_eq(fuv_backend_timeout(loop), 0);
  /* Unreferenced, it still keeps the wait from blocking (as in libuv). */
  FUV_ASSERT_OK(fuv_unref(idle.handle));
  ck_assert_int_eq(fuv_backend_timeout(loop), 0);

  /* Each ONCE run is one iteration that returns at once, with the timer
   * 100 s away: were the wait to block, the test would time out. */
  uint64_t iterations = fuv_metrics_loop_count(loop);
  for (int i = 1; i <= 5; i++) {
    ck_assert_int_eq(fuv_run(loop, FUV_RUN_ONCE), 1);
    ck_assert_int_eq(idle.calls, i);
    ck_assert_uint_eq(fuv_metrics_loop_count(loop), iterations + (uint64_t)i);
  }
  ck_assert_int_eq(fired, 0);

  FUV_ASSERT_OK(fuv_idle_stop((fuv_idle_t *)idle.handle));
  ck_assert_int_gt(fuv_backend_timeout(loop), 0);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(prepare_and_check_handles_do_not_keep_the_wait_from_blocking) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *far;
  struct rec r;

  FUV_ASSERT_OK(fuv_timer_new(&far, loop));
  FUV_ASSERT_OK(fuv_timer_start(far, count_timer, 100000, 0, &r.calls));
  rec_start(&r, _i, loop, 'x', NULL);
  ck_assert_int_gt(fuv_backend_timeout(loop), 0);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- order, start and restart ----------------------------------------------- */

START_TEST(handles_of_a_kind_run_in_start_order_once_per_iteration) {
  fuv_loop_t *loop = new_loop();
  char log[256] = "";
  struct rec a, b, c;

  /* Created in one order, started in another. */
  fuv_handle_t *hc = kind_new(_i, loop);
  rec_start(&a, _i, loop, 'a', log);
  rec_start(&b, _i, loop, 'b', log);
  memset(&c, 0, sizeof c);
  c.tag = 'c';
  c.log = log;
  c.handle = hc;
  FUV_ASSERT_OK(kind_start(_i, hc, &c));

  ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 1);
  ck_assert_str_eq(log, "abc");
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 1);
  ck_assert_str_eq(log, "abcabc");
  fuv_test_free_loop(loop);
}
END_TEST

static void replaced_cb(struct rec *r) { r->tag = (char)(r->tag + 1); }

START_TEST(starting_a_started_handle_replaces_its_callback_and_keeps_its_place) {
  fuv_loop_t *loop = new_loop();
  char log[256] = "";
  struct rec a, b, a2;

  rec_start(&a, _i, loop, 'a', log);
  rec_start(&b, _i, loop, 'b', log);
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 1);

  /* a now reports to a2, still before b. */
  memset(&a2, 0, sizeof a2);
  a2.handle = a.handle;
  a2.tag = 'A';
  a2.log = log;
  a2.fn = replaced_cb;
  FUV_ASSERT_OK(kind_start(_i, a.handle, &a2));
  ck_assert_int_eq(fuv_is_active(a.handle), 1);
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 1);
  ck_assert_str_eq(log, "abAb");
  ck_assert_int_eq(a.calls, 1);
  ck_assert_int_eq(a2.calls, 1);
  fuv_test_free_loop(loop);
}
END_TEST

/* fn of the first handle: starts the other one. */
static void start_other(struct rec *r) {
  if (!fuv_is_active(r->other->handle))
    FUV_ASSERT_OK(kind_start(r->kind, r->other->handle, r->other));
}

START_TEST(handle_started_from_a_callback_of_its_kind_first_runs_next_iteration) {
  fuv_loop_t *loop = new_loop();
  char log[256] = "";
  struct rec a, b, late;

  rec_start(&a, _i, loop, 'a', log);
  rec_start(&b, _i, loop, 'b', log);
  memset(&late, 0, sizeof late);
  late.kind = _i;
  late.tag = 'n';
  late.log = log;
  late.handle = kind_new(_i, loop);
  a.fn = start_other;
  a.other = &late;

  ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 1);
  /* Started during the pass, after b's turn had been decided: not yet. */
  ck_assert_str_eq(log, "ab");
  ck_assert_int_eq(late.calls, 0);
  ck_assert_int_eq(fuv_is_active(late.handle), 1);
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 1);
  /* Then it runs, last: it was started last. */
  ck_assert_str_eq(log, "ababn");
  fuv_test_free_loop(loop);
}
END_TEST

/* fn: restarts itself (stop, then start) every time. */
static void restart_self(struct rec *r) {
  FUV_ASSERT_OK(kind_stop(r->kind, r->handle));
  FUV_ASSERT_OK(kind_start(r->kind, r->handle, r));
}

START_TEST(handle_restarting_itself_runs_once_per_iteration) {
  fuv_loop_t *loop = new_loop();
  struct rec a;

  rec_start(&a, _i, loop, 'a', NULL);
  a.fn = restart_self;
  for (int i = 1; i <= 3; i++) {
    ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 1);
    ck_assert_int_eq(a.calls, i);
  }
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- stop and close from callbacks -------------------------------------------- */

static void stop_self_and_other(struct rec *r) {
  FUV_ASSERT_OK(kind_stop(r->kind, r->handle));
  FUV_ASSERT_OK(kind_stop(r->kind, r->other->handle));
  /* Stopping a stopped handle is not an error. */
  FUV_ASSERT_OK(kind_stop(r->kind, r->handle));
}

START_TEST(callback_may_stop_itself_and_a_handle_yet_to_run) {
  fuv_loop_t *loop = new_loop();
  char log[256] = "";
  struct rec a, b, c;

  rec_start(&a, _i, loop, 'a', log);
  rec_start(&b, _i, loop, 'b', log);
  rec_start(&c, _i, loop, 'c', log);
  b.fn = stop_self_and_other;
  b.other = &c;

  ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 1);
  ck_assert_str_eq(log, "ab");
  ck_assert_int_eq(fuv_is_active(b.handle), 0);
  ck_assert_int_eq(fuv_is_active(c.handle), 0);
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 1);
  ck_assert_str_eq(log, "aba");
  fuv_test_free_loop(loop);
}
END_TEST

static void count_close(fuv_handle_t *h, void *arg) {
  struct rec *r = arg;
  ck_assert_ptr_eq(h, r->handle);
  r->closed++;
}

/* fn: closes itself, the handle after it and the one before it. */
static void close_self_and_neighbours(struct rec *r) {
  FUV_ASSERT_OK(fuv_close(r->handle, count_close, r));
  FUV_ASSERT_OK(fuv_close(r->other->handle, count_close, r->other));
  FUV_ASSERT_OK(fuv_close(r[-1].handle, count_close, &r[-1]));
  /* Once closing, none of them can be started again. */
  FUV_ASSERT_ERR(kind_start(r->kind, r->handle, r), FUV_EINVAL);
  /* Stopping a closing handle has nothing left to do. */
  FUV_ASSERT_OK(kind_stop(r->kind, r->handle));
}

START_TEST(callback_may_close_itself_and_other_handles_of_its_kind) {
  fuv_loop_t *loop = new_loop();
  char log[256] = "";
  struct rec r[4]; /* r[1]'s callback closes r[0], r[1] and r[2] */

  for (int i = 0; i < 4; i++)
    rec_start(&r[i], _i, loop, (char)('a' + i), log);
  r[1].fn = close_self_and_neighbours;
  r[1].other = &r[2];

  ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 1);
  ck_assert_str_eq(log, "abd");
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(r[i].closed, 1);
  ck_assert_int_eq(r[3].closed, 0);
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 1);
  ck_assert_str_eq(log, "abdd");
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- activity, references, run modes ------------------------------------------- */

START_TEST(handle_is_active_only_while_started_and_keeps_the_loop_alive) {
  fuv_loop_t *loop = new_loop();
  struct rec r;
  fuv_handle_t *h = kind_new(_i, loop);

  ck_assert_int_eq(fuv_handle_type(h), kind_types[_i]);
  ck_assert_str_eq(fuv_handle_type_name(fuv_handle_type(h)), kind_names[_i]);
  ck_assert_int_eq(fuv_is_active(h), 0);
  ck_assert_int_eq(fuv_loop_alive(loop), 0);
  memset(&r, 0, sizeof r);
  r.handle = h;
  FUV_ASSERT_OK(kind_start(_i, h, &r));
  ck_assert_int_eq(fuv_is_active(h), 1);
  ck_assert_int_eq(fuv_loop_alive(loop), 1);
  FUV_ASSERT_OK(fuv_unref(h));
  ck_assert_int_eq(fuv_has_ref(h), 0);
  ck_assert_int_eq(fuv_is_active(h), 1);
  ck_assert_int_eq(fuv_loop_alive(loop), 0);
  FUV_ASSERT_OK(fuv_ref(h));
  ck_assert_int_eq(fuv_loop_alive(loop), 1);
  FUV_ASSERT_OK(kind_stop(_i, h));
  ck_assert_int_eq(fuv_is_active(h), 0);
  ck_assert_int_eq(fuv_loop_alive(loop), 0);
  ck_assert_int_eq(fuv_fileno(h), FUV_EINVAL);
  fuv_test_free_loop(loop);
}
END_TEST

/* fn: stops the loop after a few calls. */
static void stop_loop_after_three(struct rec *r) {
  if (r->calls == 3)
    FUV_ASSERT_OK(fuv_stop(fuv_handle_loop(r->handle)));
}

START_TEST(referenced_handle_keeps_run_default_going_until_stopped) {
  fuv_loop_t *loop = new_loop();
  struct rec r;
  fuv_timer_t *timer;
  int fired = 0;

  /* A 1 ms repeating timer bounds a prepare or check run's wait. */
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_timer_start(timer, count_timer, 1, 1, &fired));
  FUV_ASSERT_OK(fuv_unref((fuv_handle_t *)timer));
  rec_start(&r, _i, loop, 'x', NULL);
  r.fn = stop_loop_after_three;
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 1);
  ck_assert_int_eq(r.calls, 3);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(unreferenced_handle_does_not_keep_run_default_alive) {
  fuv_loop_t *loop = new_loop();
  struct rec r;
  fuv_timer_t *timer;
  int fired = 0;

  rec_start(&r, _i, loop, 'x', NULL);
  FUV_ASSERT_OK(fuv_unref(r.handle));
  /* Alone, it does not even start the loop. */
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(r.calls, 0);

  /* Beside a referenced timer it runs, and the run ends with the timer. */
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_timer_start(timer, count_timer, 5, 0, &fired));
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(fired, 1);
  ck_assert_int_ge(r.calls, 1);
  ck_assert_int_eq(fuv_is_active(r.handle), 1);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(once_and_nowait_runs_call_each_handle_once) {
  fuv_loop_t *loop = new_loop();
  struct rec r;
  fuv_async_t *async;

  rec_start(&r, _i, loop, 'x', NULL);
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 1);
  ck_assert_int_eq(r.calls, 1);
  /* A pending async send ends the ONCE run's wait for any kind. */
  FUV_ASSERT_OK(fuv_async_new(&async, loop, ignore_async, NULL));
  FUV_ASSERT_OK(fuv_async_send(async));
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_ONCE), 1);
  ck_assert_int_eq(r.calls, 2);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- misuse ------------------------------------------------------------------ */

START_TEST(misuse_is_einval) {
  fuv_loop_t *loop = new_loop();
  fuv_prepare_t *p = (fuv_prepare_t *)(void *)&p; /* not NULL before */
  fuv_check_t *c = (fuv_check_t *)(void *)&c;
  fuv_idle_t *i = (fuv_idle_t *)(void *)&i;
  fuv_timer_t *timer;
  struct rec r;
  int closed = 0;

  FUV_ASSERT_ERR(fuv_prepare_new(NULL, loop), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_check_new(NULL, loop), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_idle_new(NULL, loop), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_prepare_new(&p, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_check_new(&c, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_idle_new(&i, NULL), FUV_EINVAL);
  ck_assert_ptr_null(p);
  ck_assert_ptr_null(c);
  ck_assert_ptr_null(i);

  memset(&r, 0, sizeof r);
  for (int k = 0; k < NKINDS; k++) {
    /* NULL handle. */
    FUV_ASSERT_ERR(kind_start(k, NULL, &r), FUV_EINVAL);
    FUV_ASSERT_ERR(kind_stop(k, NULL), FUV_EINVAL);
    /* NULL callback. */
    fuv_handle_t *h = kind_new(k, loop);
    FUV_ASSERT_ERR(kind_start_null(k, h), FUV_EINVAL);
    ck_assert_int_eq(fuv_is_active(h), 0);
    /* Wrong kind: each other kind's handle. */
    for (int other = 0; other < NKINDS; other++) {
      if (other == k)
        continue;
      fuv_handle_t *o = kind_new(other, loop);
      FUV_ASSERT_ERR(kind_start(k, o, &r), FUV_EINVAL);
      FUV_ASSERT_ERR(kind_stop(k, o), FUV_EINVAL);
      ck_assert_int_eq(fuv_is_active(o), 0);
      FUV_ASSERT_OK(fuv_close(o, fuv_test_count_close, &closed));
    }
    /* A timer is not one either. */
    FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
    FUV_ASSERT_ERR(kind_start(k, (fuv_handle_t *)timer, &r), FUV_EINVAL);
    FUV_ASSERT_ERR(kind_stop(k, (fuv_handle_t *)timer), FUV_EINVAL);
    FUV_ASSERT_OK(fuv_close((fuv_handle_t *)timer, fuv_test_count_close,
                            &closed));
    /* A closing handle cannot be started; its stop is a no-op. */
    FUV_ASSERT_OK(fuv_close(h, fuv_test_count_close, &closed));
    FUV_ASSERT_ERR(kind_start(k, h, &r), FUV_EINVAL);
    FUV_ASSERT_OK(kind_stop(k, h));
    FUV_ASSERT_ERR(fuv_close(h, NULL, NULL), FUV_EINVAL);
  }
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(closed, NKINDS * 4);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}
END_TEST

START_TEST(closing_an_active_handle_stops_it_before_its_callback_runs) {
  fuv_loop_t *loop = new_loop();
  struct rec r;

  rec_start(&r, _i, loop, 'x', NULL);
  FUV_ASSERT_OK(fuv_close(r.handle, count_close, &r));
  ck_assert_int_eq(fuv_is_active(r.handle), 0);
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(r.calls, 0);
  ck_assert_int_eq(r.closed, 1);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}
END_TEST

static Suite *watcher_suite(void) {
  Suite *s = suite_create("watcher_" FUV_TEST_BACKEND);

  TCase *phases = tcase_create("phases");
  tcase_add_test(phases, iteration_runs_timers_idle_prepare_io_check_in_order);
  tcase_add_test(phases,
                 once_run_waiting_for_a_timer_runs_prepare_before_and_check_after);
  tcase_add_test(phases, active_idle_handle_makes_the_wait_not_block);
  tcase_add_loop_test(phases,
                      prepare_and_check_handles_do_not_keep_the_wait_from_blocking,
                      KIND_PREPARE, KIND_IDLE);
  suite_add_tcase(s, phases);

  TCase *order = tcase_create("order");
  tcase_add_loop_test(order, handles_of_a_kind_run_in_start_order_once_per_iteration,
                      0, NKINDS);
  tcase_add_loop_test(order,
                      starting_a_started_handle_replaces_its_callback_and_keeps_its_place,
                      0, NKINDS);
  tcase_add_loop_test(order,
                      handle_started_from_a_callback_of_its_kind_first_runs_next_iteration,
                      0, NKINDS);
  tcase_add_loop_test(order, handle_restarting_itself_runs_once_per_iteration, 0,
                      NKINDS);
  suite_add_tcase(s, order);

  TCase *cbs = tcase_create("stop_close");
  tcase_add_loop_test(cbs, callback_may_stop_itself_and_a_handle_yet_to_run, 0,
                      NKINDS);
  tcase_add_loop_test(cbs, callback_may_close_itself_and_other_handles_of_its_kind,
                      0, NKINDS);
  tcase_add_loop_test(cbs, closing_an_active_handle_stops_it_before_its_callback_runs,
                      0, NKINDS);
  suite_add_tcase(s, cbs);

  TCase *refs = tcase_create("refs_modes");
  tcase_add_loop_test(refs, handle_is_active_only_while_started_and_keeps_the_loop_alive,
                      0, NKINDS);
  tcase_add_loop_test(refs, referenced_handle_keeps_run_default_going_until_stopped,
                      0, NKINDS);
  tcase_add_loop_test(refs, unreferenced_handle_does_not_keep_run_default_alive, 0,
                      NKINDS);
  tcase_add_loop_test(refs, once_and_nowait_runs_call_each_handle_once, 0, NKINDS);
  suite_add_tcase(s, refs);

  TCase *misuse = tcase_create("misuse");
  tcase_add_test(misuse, misuse_is_einval);
  suite_add_tcase(s, misuse);
  return s;
}

FUV_TEST_MAIN(watcher_suite)
