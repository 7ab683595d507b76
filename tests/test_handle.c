/*
 * Handles of every kind: state queries, references, kinds and names, user
 * data, closing, and the errors that misuse (NULL, wrong kind, closing
 * handle) must give instead of a crash.
 */
#include "fuv_test.h"

static fuv_loop_t *new_loop(void) {
  fuv_loop_t *loop = NULL;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  return loop;
}

static void ignore_timer(fuv_timer_t *timer, void *arg) {
  (void)timer;
  (void)arg;
}

static void ignore_async(fuv_async_t *async, void *arg) {
  (void)async;
  (void)arg;
}

static void count_timer(fuv_timer_t *timer, void *arg) {
  (void)timer;
  (*(int *)arg)++;
}

/* One handle of each kind, as a test fixture. */
struct trio {
  fuv_loop_t *loop;
  fuv_timer_t *timer;
  fuv_async_t *async;
  fuv_tcp_t *tcp;
};

static void trio_make(struct trio *t) {
  t->loop = new_loop();
  FUV_ASSERT_OK(fuv_timer_new(&t->timer, t->loop));
  FUV_ASSERT_OK(fuv_async_new(&t->async, t->loop, ignore_async, NULL));
  FUV_ASSERT_OK(fuv_tcp_new(&t->tcp, t->loop));
}

/* ---- state queries ---------------------------------------------------------- */

START_TEST(timer_is_active_only_while_started) {
  struct trio t;
  trio_make(&t);
  fuv_handle_t *h = (fuv_handle_t *)t.timer;
  ck_assert_int_eq(fuv_is_active(h), 0);
  FUV_ASSERT_OK(fuv_timer_start(t.timer, ignore_timer, 60000, 0, NULL));
  ck_assert_int_eq(fuv_is_active(h), 1);
  FUV_ASSERT_OK(fuv_timer_stop(t.timer));
  ck_assert_int_eq(fuv_is_active(h), 0);
  ck_assert_int_eq(fuv_is_closing(h), 0);
  fuv_test_free_loop(t.loop);
}
END_TEST

START_TEST(async_is_active_from_creation) {
  struct trio t;
  trio_make(&t);
  ck_assert_int_eq(fuv_is_active((fuv_handle_t *)t.async), 1);
  ck_assert_int_eq(fuv_is_closing((fuv_handle_t *)t.async), 0);
  fuv_test_free_loop(t.loop);
}
END_TEST

START_TEST(tcp_is_inactive_until_it_waits_for_something) {
  struct trio t;
  trio_make(&t);
  fuv_handle_t *h = (fuv_handle_t *)t.tcp;
  ck_assert_int_eq(fuv_is_active(h), 0);
  FUV_ASSERT_OK(fuv_tcp_bind(t.tcp, "127.0.0.1", 0, 0));
  /* Bound is not active: nothing is being waited for. */
  ck_assert_int_eq(fuv_is_active(h), 0);
  ck_assert_int_eq(fuv_is_closing(h), 0);
  fuv_test_free_loop(t.loop);
}
END_TEST

static void ignore_connection(fuv_stream_t *server, int status, void *arg) {
  (void)server;
  (void)status;
  (void)arg;
}

START_TEST(tcp_listening_with_a_callback_is_active) {
  fuv_loop_t *loop = new_loop();
  int port;
  fuv_tcp_t *server =
      fuv_test_listener(loop, "127.0.0.1", &port, ignore_connection, NULL);
  ck_assert_int_eq(fuv_is_active((fuv_handle_t *)server), 1);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(every_kind_reports_closing_after_close) {
  struct trio t;
  trio_make(&t);
  fuv_handle_t *all[3] = {(fuv_handle_t *)t.timer, (fuv_handle_t *)t.async,
                          (fuv_handle_t *)t.tcp};
  int closed = 0;
  FUV_ASSERT_OK(fuv_timer_start(t.timer, ignore_timer, 60000, 0, NULL));
  for (int i = 0; i < 3; i++) {
    FUV_ASSERT_OK(fuv_close(all[i], fuv_test_count_close, &closed));
    ck_assert_int_eq(fuv_is_closing(all[i]), 1);
    /* A closing handle no longer counts as active. */
    ck_assert_int_eq(fuv_is_active(all[i]), 0);
  }
  /* The callbacks run from fuv_run, never inside fuv_close. */
  ck_assert_int_eq(closed, 0);
  ck_assert_int_eq(fuv_run(t.loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(closed, 3);
  FUV_ASSERT_OK(fuv_loop_free(t.loop));
}
END_TEST

/* ---- references ---------------------------------------------------------------- */

START_TEST(ref_and_unref_are_idempotent_on_every_kind) {
  struct trio t;
  trio_make(&t);
  fuv_handle_t *all[3] = {(fuv_handle_t *)t.timer, (fuv_handle_t *)t.async,
                          (fuv_handle_t *)t.tcp};
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(fuv_has_ref(all[i]), 1);
    FUV_ASSERT_OK(fuv_unref(all[i]));
    FUV_ASSERT_OK(fuv_unref(all[i]));
    ck_assert_int_eq(fuv_has_ref(all[i]), 0);
    FUV_ASSERT_OK(fuv_ref(all[i]));
    ck_assert_int_eq(fuv_has_ref(all[i]), 1);
    /* Two unrefs were undone by one ref: no counting. */
    FUV_ASSERT_OK(fuv_ref(all[i]));
    FUV_ASSERT_OK(fuv_unref(all[i]));
    ck_assert_int_eq(fuv_has_ref(all[i]), 0);
  }
  /* Every handle is now unreferenced, including the active async one. */
  ck_assert_int_eq(fuv_loop_alive(t.loop), 0);
  ck_assert_int_eq(fuv_run(t.loop, FUV_RUN_DEFAULT), 0);
  fuv_test_free_loop(t.loop);
}
END_TEST

START_TEST(unreferenced_active_timer_lets_run_default_return) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer;
  int fired = 0;
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_timer_start(timer, count_timer, 60000, 0, &fired));
  FUV_ASSERT_OK(fuv_unref((fuv_handle_t *)timer));
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(fired, 0);
  ck_assert_int_eq(fuv_is_active((fuv_handle_t *)timer), 1);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(referenced_timer_keeps_run_default_going_until_it_fires) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer;
  int fired = 0;
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_timer_start(timer, count_timer, 10, 0, &fired));
  /* Unref then ref again: the handle counts as referenced once more. */
  FUV_ASSERT_OK(fuv_unref((fuv_handle_t *)timer));
  FUV_ASSERT_OK(fuv_ref((fuv_handle_t *)timer));
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(fired, 1);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(unref_before_start_still_applies_once_started) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer;
  int fired = 0;
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_unref((fuv_handle_t *)timer));
  FUV_ASSERT_OK(fuv_timer_start(timer, count_timer, 60000, 0, &fired));
  ck_assert_int_eq(fuv_loop_alive(loop), 0);
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(fired, 0);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- kinds, loop and data --------------------------------------------------- */

START_TEST(handle_type_and_name_match_the_kind) {
  struct trio t;
  trio_make(&t);
  ck_assert_int_eq(fuv_handle_type((fuv_handle_t *)t.timer), FUV_TIMER);
  ck_assert_int_eq(fuv_handle_type((fuv_handle_t *)t.async), FUV_ASYNC);
  ck_assert_int_eq(fuv_handle_type((fuv_handle_t *)t.tcp), FUV_TCP);
  ck_assert_int_eq(fuv_handle_type(NULL), FUV_UNKNOWN_HANDLE);
  ck_assert_str_eq(fuv_handle_type_name(FUV_TIMER), "timer");
  ck_assert_str_eq(fuv_handle_type_name(FUV_ASYNC), "async");
  ck_assert_str_eq(fuv_handle_type_name(FUV_TCP), "tcp");
  ck_assert_str_eq(fuv_handle_type_name(FUV_UNKNOWN_HANDLE), "unknown");
  ck_assert_str_eq(fuv_handle_type_name(FUV_HANDLE_TYPE_MAX), "unknown");
  ck_assert_str_eq(fuv_handle_type_name((fuv_handle_type_t)-1), "unknown");
  ck_assert_str_eq(fuv_handle_type_name((fuv_handle_type_t)1000), "unknown");
  fuv_test_free_loop(t.loop);
}
END_TEST

START_TEST(handle_loop_is_the_loop_it_was_made_on) {
  struct trio t;
  trio_make(&t);
  ck_assert_ptr_eq(fuv_handle_loop((fuv_handle_t *)t.timer), t.loop);
  ck_assert_ptr_eq(fuv_handle_loop((fuv_handle_t *)t.async), t.loop);
  ck_assert_ptr_eq(fuv_handle_loop((fuv_handle_t *)t.tcp), t.loop);
  ck_assert_ptr_null(fuv_handle_loop(NULL));
  fuv_test_free_loop(t.loop);
}
END_TEST

START_TEST(handle_data_round_trips_on_every_kind) {
  struct trio t;
  int tokens[3];
  trio_make(&t);
  fuv_handle_t *all[3] = {(fuv_handle_t *)t.timer, (fuv_handle_t *)t.async,
                          (fuv_handle_t *)t.tcp};
  for (int i = 0; i < 3; i++) {
    ck_assert_ptr_null(fuv_handle_get_data(all[i]));
    FUV_ASSERT_OK(fuv_handle_set_data(all[i], &tokens[i]));
  }
  for (int i = 0; i < 3; i++)
    ck_assert_ptr_eq(fuv_handle_get_data(all[i]), &tokens[i]);
  ck_assert_ptr_null(fuv_handle_get_data(NULL));
  FUV_ASSERT_ERR(fuv_handle_set_data(NULL, &tokens[0]), FUV_EINVAL);
  fuv_test_free_loop(t.loop);
}
END_TEST

static void check_data_in_close_cb(fuv_handle_t *handle, void *arg) {
  ck_assert_ptr_eq(fuv_handle_get_data(handle), arg);
  ck_assert_int_eq(fuv_is_closing(handle), 1);
  (*(int *)arg)++;
}

START_TEST(close_callback_gets_the_handle_with_its_data) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer;
  int closed = 0;
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_handle_set_data((fuv_handle_t *)timer, &closed));
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)timer, check_data_in_close_cb, &closed));
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(closed, 1);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}
END_TEST

START_TEST(fileno_is_einval_for_timers_and_asyncs_and_ebadf_without_socket) {
  struct trio t;
  trio_make(&t);
  FUV_ASSERT_ERR(fuv_fileno((fuv_handle_t *)t.timer), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_fileno((fuv_handle_t *)t.async), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_fileno((fuv_handle_t *)t.tcp), FUV_EBADF);
  FUV_ASSERT_ERR(fuv_fileno(NULL), FUV_EINVAL);
  FUV_ASSERT_OK(fuv_tcp_bind(t.tcp, "127.0.0.1", 0, 0));
  ck_assert_int_ge(fuv_fileno((fuv_handle_t *)t.tcp), 0);
  fuv_test_free_loop(t.loop);
}
END_TEST

/* ---- closing ------------------------------------------------------------------- */

START_TEST(double_close_is_einval_and_the_callback_runs_once) {
  struct trio t;
  trio_make(&t);
  fuv_handle_t *all[3] = {(fuv_handle_t *)t.timer, (fuv_handle_t *)t.async,
                          (fuv_handle_t *)t.tcp};
  int closed[3] = {0, 0, 0};
  for (int i = 0; i < 3; i++) {
    FUV_ASSERT_OK(fuv_close(all[i], fuv_test_count_close, &closed[i]));
    FUV_ASSERT_ERR(fuv_close(all[i], fuv_test_count_close, &closed[i]), FUV_EINVAL);
    FUV_ASSERT_ERR(fuv_close(all[i], NULL, NULL), FUV_EINVAL);
  }
  ck_assert_int_eq(fuv_run(t.loop, FUV_RUN_DEFAULT), 0);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(closed[i], 1);
  FUV_ASSERT_OK(fuv_loop_free(t.loop));
}
END_TEST

struct close_log {
  int order[8];
  int count;
};

struct close_entry {
  struct close_log *log;
  int id;
};

static void log_close(fuv_handle_t *handle, void *arg) {
  struct close_entry *e = arg;
  (void)handle;
  e->log->order[e->log->count++] = e->id;
}

START_TEST(close_callbacks_run_in_the_order_the_closes_were_made) {
  struct trio t;
  struct close_log log;
  struct close_entry entries[3];
  trio_make(&t);
  memset(&log, 0, sizeof log);
  /* Closed in an order that differs from creation order. */
  fuv_handle_t *order[3] = {(fuv_handle_t *)t.tcp, (fuv_handle_t *)t.timer,
                            (fuv_handle_t *)t.async};
  for (int i = 0; i < 3; i++) {
    entries[i].log = &log;
    entries[i].id = i;
    FUV_ASSERT_OK(fuv_close(order[i], log_close, &entries[i]));
  }
  ck_assert_int_eq(fuv_run(t.loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(log.count, 3);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(log.order[i], i);
  /* Every handle was freed: the loop frees, and valgrind finds no leak. */
  FUV_ASSERT_OK(fuv_loop_free(t.loop));
}
END_TEST

static void close_self_and_count(fuv_timer_t *timer, void *arg) {
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)timer, fuv_test_count_close, arg));
}

START_TEST(handle_closed_from_its_own_callback_is_freed_after_close_cb) {
  fuv_loop_t *loop = new_loop();
  int closed = 0;
  for (int i = 0; i < 100; i++) {
    fuv_timer_t *timer;
    FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
    FUV_ASSERT_OK(fuv_timer_start(timer, close_self_and_count, 0, 1, &closed));
  }
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(closed, 100);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}
END_TEST

/* ---- misuse --------------------------------------------------------------------- */

START_TEST(null_arguments_give_errors_or_documented_zeros) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer = NULL;
  fuv_async_t *async = NULL;
  fuv_tcp_t *tcp = NULL;

  /* Handle functions. */
  FUV_ASSERT_ERR(fuv_close(NULL, NULL, NULL), FUV_EINVAL);
  ck_assert_int_eq(fuv_is_active(NULL), 0);
  ck_assert_int_eq(fuv_is_closing(NULL), 0);
  FUV_ASSERT_ERR(fuv_ref(NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_unref(NULL), FUV_EINVAL);
  ck_assert_int_eq(fuv_has_ref(NULL), 0);
  ck_assert_int_eq(fuv_handle_type(NULL), FUV_UNKNOWN_HANDLE);
  ck_assert_ptr_null(fuv_handle_loop(NULL));
  ck_assert_ptr_null(fuv_handle_get_data(NULL));
  FUV_ASSERT_ERR(fuv_handle_set_data(NULL, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_fileno(NULL), FUV_EINVAL);
  ck_assert_int_lt(fuv_get_send_buffer_size(NULL), 0);
  ck_assert_int_lt(fuv_get_recv_buffer_size(NULL), 0);
  ck_assert_int_lt(fuv_set_send_buffer_size(NULL, 4096), 0);
  ck_assert_int_lt(fuv_set_recv_buffer_size(NULL, 4096), 0);

  /* Loop functions. */
  FUV_ASSERT_ERR(fuv_loop_new(NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_loop_free(NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_run(NULL, FUV_RUN_NOWAIT), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_stop(NULL), FUV_EINVAL);
  ck_assert_int_eq(fuv_loop_alive(NULL), 0);
  ck_assert_uint_eq(fuv_now(NULL), 0);
  FUV_ASSERT_ERR(fuv_update_time(NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_backend_fd(NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_backend_timeout(NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_walk(NULL, NULL, NULL), FUV_EINVAL);
  ck_assert_ptr_null(fuv_loop_get_data(NULL));
  FUV_ASSERT_ERR(fuv_loop_set_data(NULL, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_loop_set_interruptible(NULL, 1), FUV_EINVAL);
  ck_assert_uint_eq(fuv_metrics_loop_count(NULL), 0);
  ck_assert_uint_eq(fuv_metrics_events(NULL), 0);

  /* Timer functions. */
  FUV_ASSERT_ERR(fuv_timer_new(NULL, loop), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_timer_new(&timer, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_timer_start(NULL, ignore_timer, 1, 0, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_timer_stop(NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_timer_again(NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_timer_set_repeat(NULL, 1), FUV_EINVAL);
  ck_assert_uint_eq(fuv_timer_get_repeat(NULL), 0);
  ck_assert_uint_eq(fuv_timer_get_due_in(NULL), 0);

  /* Async functions. */
  FUV_ASSERT_ERR(fuv_async_new(NULL, loop, ignore_async, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_async_new(&async, NULL, ignore_async, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_async_new(&async, loop, NULL, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_async_send(NULL), FUV_EINVAL);

  /* TCP constructors. */
  FUV_ASSERT_ERR(fuv_tcp_new(NULL, loop), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_new(&tcp, NULL), FUV_EINVAL);

  /* No failed constructor produced a handle. */
  ck_assert_ptr_null(timer);
  ck_assert_ptr_null(async);
  ck_assert_ptr_null(tcp);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}
END_TEST

START_TEST(handle_of_the_wrong_kind_is_einval) {
  struct trio t;
  trio_make(&t);
  /* A TCP handle passed where a timer is expected. */
  fuv_timer_t *not_timer = (fuv_timer_t *)t.tcp;
  FUV_ASSERT_ERR(fuv_timer_start(not_timer, ignore_timer, 1, 0, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_timer_stop(not_timer), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_timer_again(not_timer), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_timer_set_repeat(not_timer, 5), FUV_EINVAL);
  ck_assert_uint_eq(fuv_timer_get_repeat(not_timer), 0);
  ck_assert_uint_eq(fuv_timer_get_due_in(not_timer), 0);
  /* The TCP handle was not touched: still inactive, still usable. */
  ck_assert_int_eq(fuv_is_active((fuv_handle_t *)t.tcp), 0);
  FUV_ASSERT_OK(fuv_tcp_bind(t.tcp, "127.0.0.1", 0, 0));

  /* An async handle passed as a timer, and a timer passed as an async. */
  FUV_ASSERT_ERR(fuv_timer_start((fuv_timer_t *)t.async, ignore_timer, 1, 0, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_async_send((fuv_async_t *)t.timer), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_async_send((fuv_async_t *)t.tcp), FUV_EINVAL);

  /* Timers and asyncs are not streams or TCP handles. */
  FUV_ASSERT_ERR(fuv_tcp_bind((fuv_tcp_t *)t.timer, "127.0.0.1", 0, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_listen((fuv_stream_t *)t.async, 16, NULL, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_write((fuv_stream_t *)t.timer, "x", 1, NULL, NULL), FUV_EINVAL);
  ck_assert_int_lt(fuv_get_send_buffer_size((fuv_handle_t *)t.timer), 0);

  /* None of those calls started anything. */
  ck_assert_int_eq(fuv_is_active((fuv_handle_t *)t.timer), 0);
  fuv_test_free_loop(t.loop);
}
END_TEST

START_TEST(closing_handle_rejects_further_use) {
  struct trio t;
  int fired = 0;
  trio_make(&t);
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)t.timer, NULL, NULL));
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)t.async, NULL, NULL));
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)t.tcp, NULL, NULL));
  FUV_ASSERT_ERR(fuv_timer_start(t.timer, count_timer, 0, 0, &fired), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_timer_again(t.timer), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_bind(t.tcp, "127.0.0.1", 0, 0), FUV_EINVAL);
  ck_assert_int_eq(fuv_run(t.loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(fired, 0);
  FUV_ASSERT_OK(fuv_loop_free(t.loop));
}
END_TEST

static Suite *handle_suite(void) {
  Suite *s = suite_create("handle_" FUV_TEST_BACKEND);
  TCase *state = tcase_create("state");
  tcase_add_test(state, timer_is_active_only_while_started);
  tcase_add_test(state, async_is_active_from_creation);
  tcase_add_test(state, tcp_is_inactive_until_it_waits_for_something);
  tcase_add_test(state, tcp_listening_with_a_callback_is_active);
  tcase_add_test(state, every_kind_reports_closing_after_close);
  suite_add_tcase(s, state);

  TCase *ref = tcase_create("ref");
  tcase_add_test(ref, ref_and_unref_are_idempotent_on_every_kind);
  tcase_add_test(ref, unreferenced_active_timer_lets_run_default_return);
  tcase_add_test(ref, referenced_timer_keeps_run_default_going_until_it_fires);
  tcase_add_test(ref, unref_before_start_still_applies_once_started);
  suite_add_tcase(s, ref);

  TCase *kind = tcase_create("kind_loop_data");
  tcase_add_test(kind, handle_type_and_name_match_the_kind);
  tcase_add_test(kind, handle_loop_is_the_loop_it_was_made_on);
  tcase_add_test(kind, handle_data_round_trips_on_every_kind);
  tcase_add_test(kind, close_callback_gets_the_handle_with_its_data);
  tcase_add_test(kind, fileno_is_einval_for_timers_and_asyncs_and_ebadf_without_socket);
  suite_add_tcase(s, kind);

  TCase *close = tcase_create("close");
  tcase_add_test(close, double_close_is_einval_and_the_callback_runs_once);
  tcase_add_test(close, close_callbacks_run_in_the_order_the_closes_were_made);
  tcase_add_test(close, handle_closed_from_its_own_callback_is_freed_after_close_cb);
  suite_add_tcase(s, close);

  TCase *misuse = tcase_create("misuse");
  tcase_add_test(misuse, null_arguments_give_errors_or_documented_zeros);
  tcase_add_test(misuse, handle_of_the_wrong_kind_is_einval);
  tcase_add_test(misuse, closing_handle_rejects_further_use);
  suite_add_tcase(s, misuse);
  return s;
}

FUV_TEST_MAIN(handle_suite)
