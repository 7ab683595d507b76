/*
 * The loop's configuration and introspection: fuv_loop_configure (signals
 * blocked while waiting, idle-time accounting), fuv_loop_mode, the metrics
 * of libuv 1.45 (fuv_metrics_info, events waiting, idle time), and the
 * handle listings of fuv_print_all_handles / fuv_print_active_handles.
 */
#include "fuv_test.h"

#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static fuv_loop_t *new_loop(void) {
  fuv_loop_t *loop = NULL;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  return loop;
}

/* ---- fuv_loop_configure: blocking a signal --------------------------------- */

static volatile sig_atomic_t usr2_caught;

static void on_usr2(int sig) {
  (void)sig;
  usr2_caught++;
}

/* Sends SIGUSR2 to a thread 20 ms after it starts, long after the thread
 * has begun the loop's 500 ms wait for a timer. */
struct kicker {
  pthread_t target;
  pthread_t thread;
};

static void *kick(void *arg) {
  struct kicker *k = arg;
  struct timespec ts = {0, 20 * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
  pthread_kill(k->target, SIGUSR2);
  return NULL;
}

static void noop_timer_cb(fuv_timer_t *t, void *arg) {
  (void)t;
  (void)arg;
}

/* Runs an interruptible loop waiting on a timer while another thread sends
 * SIGUSR2; returns what fuv_run() returned. */
static int run_while_signalled(int block) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer;
  struct kicker k;
  struct sigaction sa, old;
  sigset_t before, after;
  int r;

  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr2;
  ck_assert_int_eq(sigaction(SIGUSR2, &sa, &old), 0);
  usr2_caught = 0;
  FUV_ASSERT_OK(fuv_loop_set_interruptible(loop, 1));
  if (block)
    FUV_ASSERT_OK(fuv_loop_configure(loop, FUV_LOOP_BLOCK_SIGNAL, SIGUSR2));
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_timer_start(timer, noop_timer_cb, 500, 0, NULL));
  ck_assert_int_eq(pthread_sigmask(SIG_BLOCK, NULL, &before), 0);
  k.target = pthread_self();
  ck_assert_int_eq(pthread_create(&k.thread, NULL, kick, &k), 0);
  r = fuv_run(loop, FUV_RUN_ONCE);
  pthread_join(k.thread, NULL);
  /* The thread's mask outside the wait is what it was. */
  ck_assert_int_eq(pthread_sigmask(SIG_BLOCK, NULL, &after), 0);
  ck_assert_int_eq(sigismember(&after, SIGUSR2), sigismember(&before, SIGUSR2));
  fuv_close((fuv_handle_t *)timer, NULL, NULL);
  fuv_test_free_loop(loop);
  ck_assert_int_eq(sigaction(SIGUSR2, &old, NULL), 0);
  return r;
}

START_TEST(block_signal_keeps_the_signal_out_of_the_wait_only) {
  /* Blocked during the wait: the wait runs until the timer, and the
   * signal is handled right after it, when the thread's own mask is back. */
  ck_assert_int_ge(run_while_signalled(1), 0);
  ck_assert_int_eq(usr2_caught, 1);
}
END_TEST

START_TEST(without_block_signal_the_signal_interrupts_the_wait) {
  /* The control: the same signal ends an interruptible wait. */
  ck_assert_int_eq(run_while_signalled(0), FUV_EINTR);
  ck_assert_int_eq(usr2_caught, 1);
}
END_TEST

START_TEST(configure_rejects_bad_signals_options_and_a_running_loop) {
  fuv_loop_t *loop = new_loop();
  FUV_ASSERT_ERR(fuv_loop_configure(NULL, FUV_METRICS_IDLE_TIME, 0),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_loop_configure(loop, FUV_LOOP_BLOCK_SIGNAL, 0),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_loop_configure(loop, FUV_LOOP_BLOCK_SIGNAL, -1),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_loop_configure(loop, FUV_LOOP_BLOCK_SIGNAL, 100000),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_loop_configure(loop, FUV_LOOP_BLOCK_SIGNAL, SIGKILL),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_loop_configure(loop, (fuv_loop_option_t)77, 0),
                 FUV_EINVAL);
  FUV_ASSERT_OK(fuv_loop_configure(loop, FUV_LOOP_BLOCK_SIGNAL, SIGPROF));
  fuv_test_free_loop(loop);
}
END_TEST

static void configure_inside_cb(fuv_timer_t *t, void *arg) {
  int *result = arg;
  *result = fuv_loop_configure(fuv_handle_loop((fuv_handle_t *)t),
                               FUV_METRICS_IDLE_TIME, 0);
}

START_TEST(configure_inside_run_is_ebusy) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer;
  int result = 1;
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_timer_start(timer, configure_inside_cb, 0, 0, &result));
  FUV_ASSERT_OK(fuv_run(loop, FUV_RUN_DEFAULT));
  ck_assert_int_eq(result, FUV_EBUSY);
  fuv_close((fuv_handle_t *)timer, NULL, NULL);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- fuv_loop_mode -------------------------------------------------------------- */

static void record_mode_cb(fuv_timer_t *t, void *arg) {
  int *mode = arg;
  *mode = fuv_loop_mode(fuv_handle_loop((fuv_handle_t *)t));
}

START_TEST(loop_mode_is_the_running_mode_inside_callbacks_and_minus_one_outside) {
  static const fuv_run_mode_t modes[] = {FUV_RUN_DEFAULT, FUV_RUN_ONCE,
                                         FUV_RUN_NOWAIT};
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer;
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  ck_assert_int_eq(fuv_loop_mode(loop), -1);
  ck_assert_int_eq(fuv_loop_mode(NULL), -1);
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
    int seen = -2;
    FUV_ASSERT_OK(fuv_timer_start(timer, record_mode_cb, 0, 0, &seen));
    /* A 0 ms timer runs in the first iteration, whatever the mode. */
    ck_assert_int_ge(fuv_run(loop, modes[i]), 0);
    ck_assert_int_eq(seen, (int)modes[i]);
    ck_assert_int_eq(fuv_loop_mode(loop), -1);
  }
  fuv_close((fuv_handle_t *)timer, NULL, NULL);
  fuv_test_free_loop(loop);
}
END_TEST

static void ignore_read(fuv_stream_t *s, ssize_t n, const char *buf,
                        void *arg) {
  (void)s;
  (void)n;
  (void)buf;
  (void)arg;
}

/* ---- metrics ---------------------------------------------------------------------- */

START_TEST(metrics_info_matches_the_single_getters_and_takes_null_pointers) {
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *client, *server;
  uint64_t count = 99, events = 99, waiting = 99;
  char byte = 'x';

  FUV_ASSERT_ERR(fuv_metrics_info(NULL, &count, &events, &waiting),
                 FUV_EINVAL);
  FUV_ASSERT_OK(fuv_metrics_info(loop, &count, &events, &waiting));
  ck_assert_uint_eq(count, 0);
  ck_assert_uint_eq(events, 0);
  ck_assert_uint_eq(waiting, 0);

  /* One byte to read: the wait returns one event, which is handled. */
  fuv_test_tcp_pair(loop, "127.0.0.1", &client, &server);
  FUV_ASSERT_OK(fuv_read_start((fuv_stream_t *)server, ignore_read, NULL));
  ck_assert_int_eq(fuv_try_write((fuv_stream_t *)client, &byte, 1), 1);
  ck_assert_int_ge(fuv_run(loop, FUV_RUN_NOWAIT), 0);
  FUV_ASSERT_OK(fuv_metrics_info(loop, &count, NULL, NULL));
  FUV_ASSERT_OK(fuv_metrics_info(loop, NULL, &events, &waiting));
  ck_assert_uint_eq(count, fuv_metrics_loop_count(loop));
  ck_assert_uint_eq(events, fuv_metrics_events(loop));
  ck_assert_uint_eq(waiting, fuv_metrics_events_waiting(loop));
  ck_assert_uint_ge(count, 1);
  ck_assert_uint_eq(fuv_metrics_events_waiting(NULL), 0);
  ck_assert_uint_eq(fuv_metrics_idle_time(NULL), 0);

  fuv_close((fuv_handle_t *)client, NULL, NULL);
  fuv_close((fuv_handle_t *)server, NULL, NULL);
  fuv_test_free_loop(loop);
}
END_TEST

struct waiting_probe {
  uint64_t waiting;
};

static void waiting_check_cb(fuv_check_t *c, void *arg) {
  struct waiting_probe *p = arg;
  p->waiting = fuv_metrics_events_waiting(fuv_handle_loop((fuv_handle_t *)c));
}

START_TEST(events_waiting_counts_what_the_last_wait_returned) {
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *c1, *s1, *c2, *s2;
  fuv_check_t *check;
  struct waiting_probe probe = {99};
  char byte = 'x';

  fuv_test_tcp_pair(loop, "127.0.0.1", &c1, &s1);
  fuv_test_tcp_pair(loop, "127.0.0.1", &c2, &s2);
  FUV_ASSERT_OK(fuv_read_start((fuv_stream_t *)s1, ignore_read, NULL));
  FUV_ASSERT_OK(fuv_read_start((fuv_stream_t *)s2, ignore_read, NULL));
  FUV_ASSERT_OK(fuv_check_new(&check, loop));
  FUV_ASSERT_OK(fuv_check_start(check, waiting_check_cb, &probe));
  ck_assert_int_eq(fuv_try_write((fuv_stream_t *)c1, &byte, 1), 1);
  ck_assert_int_eq(fuv_try_write((fuv_stream_t *)c2, &byte, 1), 1);
  /* Loopback delivers at once: both servers are readable when the loop
   * waits, and nothing else is. */
  ck_assert_int_ge(fuv_run(loop, FUV_RUN_NOWAIT), 0);
  ck_assert_uint_eq(probe.waiting, 2);

  fuv_close((fuv_handle_t *)check, NULL, NULL);
  fuv_close((fuv_handle_t *)c1, NULL, NULL);
  fuv_close((fuv_handle_t *)s1, NULL, NULL);
  fuv_close((fuv_handle_t *)c2, NULL, NULL);
  fuv_close((fuv_handle_t *)s2, NULL, NULL);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(idle_time_is_counted_only_once_configured_and_only_while_waiting) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer;
  uint64_t first;

  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  /* Not configured: a wait on a timer adds nothing. */
  FUV_ASSERT_OK(fuv_timer_start(timer, noop_timer_cb, 5, 0, NULL));
  FUV_ASSERT_OK(fuv_run(loop, FUV_RUN_DEFAULT));
  ck_assert_uint_eq(fuv_metrics_idle_time(loop), 0);

  FUV_ASSERT_OK(fuv_loop_configure(loop, FUV_METRICS_IDLE_TIME, 0));
  FUV_ASSERT_OK(fuv_timer_start(timer, noop_timer_cb, 5, 0, NULL));
  FUV_ASSERT_OK(fuv_run(loop, FUV_RUN_DEFAULT));
  first = fuv_metrics_idle_time(loop);
  /* The wait lasted until the timer was due: about 5 ms, counted in ns
   * (a lower bound only; the clock counts whole milliseconds of timeout,
   * so at least 3 ms were spent waiting). */
  ck_assert_uint_ge(first, UINT64_C(3000000));

  /* A run that does not wait adds nothing. */
  FUV_ASSERT_OK(fuv_timer_start(timer, noop_timer_cb, 0, 0, NULL));
  ck_assert_int_ge(fuv_run(loop, FUV_RUN_NOWAIT), 0);
  ck_assert_uint_eq(fuv_metrics_idle_time(loop), first);

  FUV_ASSERT_OK(fuv_timer_start(timer, noop_timer_cb, 5, 0, NULL));
  FUV_ASSERT_OK(fuv_run(loop, FUV_RUN_DEFAULT));
  ck_assert_uint_gt(fuv_metrics_idle_time(loop), first);

  fuv_close((fuv_handle_t *)timer, NULL, NULL);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- printing handles ------------------------------------------------------------- */

/* Prints with fn into a pipe and returns what was written (malloc'd). */
static char *print_to_pipe(int (*fn)(fuv_loop_t *, int), fuv_loop_t *loop) {
  int fds[2];
  char *text = calloc(1, 4096);
  ssize_t n;
  ck_assert_ptr_nonnull(text);
  ck_assert_int_eq(pipe(fds), 0);
  FUV_ASSERT_OK(fn(loop, fds[1]));
  close(fds[1]);
  n = read(fds[0], text, 4095);
  ck_assert_int_ge(n, 0);
  close(fds[0]);
  return text;
}

static int count_lines(const char *text) {
  int n = 0;
  for (; *text; text++)
    n += *text == '\n';
  return n;
}

START_TEST(print_handles_lists_each_handle_with_its_flags_and_kind) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *started, *stopped;
  fuv_idle_t *idle;
  char expect[128];
  char *all, *active;

  FUV_ASSERT_OK(fuv_timer_new(&started, loop));
  FUV_ASSERT_OK(fuv_timer_new(&stopped, loop));
  FUV_ASSERT_OK(fuv_idle_new(&idle, loop));
  FUV_ASSERT_OK(fuv_timer_start(started, noop_timer_cb, 10000, 0, NULL));
  FUV_ASSERT_OK(fuv_unref((fuv_handle_t *)idle));

  all = print_to_pipe(fuv_print_all_handles, loop);
  ck_assert_int_eq(count_lines(all), 3);
  snprintf(expect, sizeof expect, "[RA-] timer    %p\n", (void *)started);
  ck_assert_ptr_nonnull(strstr(all, expect));
  snprintf(expect, sizeof expect, "[R--] timer    %p\n", (void *)stopped);
  ck_assert_ptr_nonnull(strstr(all, expect));
  snprintf(expect, sizeof expect, "[---] idle     %p\n", (void *)idle);
  ck_assert_ptr_nonnull(strstr(all, expect));
  /* In creation order. */
  ck_assert(strstr(all, "[RA-]") < strstr(all, "[R--]"));

  active = print_to_pipe(fuv_print_active_handles, loop);
  snprintf(expect, sizeof expect, "[RA-] timer    %p\n", (void *)started);
  ck_assert_str_eq(active, expect);

  FUV_ASSERT_ERR(fuv_print_all_handles(NULL, 1), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_print_all_handles(loop, -1), FUV_EINVAL);
  /* A closed fd is an error, whatever there is to print. */
  FUV_ASSERT_ERR(fuv_print_active_handles(loop, 1000), FUV_EBADF);

  free(all);
  free(active);
  fuv_close((fuv_handle_t *)started, NULL, NULL);
  fuv_close((fuv_handle_t *)stopped, NULL, NULL);
  fuv_close((fuv_handle_t *)idle, NULL, NULL);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(print_handles_of_an_empty_loop_writes_nothing) {
  fuv_loop_t *loop = new_loop();
  char *all = print_to_pipe(fuv_print_all_handles, loop);
  ck_assert_str_eq(all, "");
  /* Nothing to print, yet a closed fd is still refused. */
  FUV_ASSERT_ERR(fuv_print_all_handles(loop, 1000), FUV_EBADF);
  free(all);
  fuv_test_free_loop(loop);
}
END_TEST

static Suite *loop_config_suite(void) {
  Suite *s = suite_create("loop_config_" FUV_TEST_BACKEND);
  TCase *configure = tcase_create("configure");
  tcase_add_test(configure, block_signal_keeps_the_signal_out_of_the_wait_only);
  tcase_add_test(configure, without_block_signal_the_signal_interrupts_the_wait);
  tcase_add_test(configure,
                 configure_rejects_bad_signals_options_and_a_running_loop);
  tcase_add_test(configure, configure_inside_run_is_ebusy);
  suite_add_tcase(s, configure);

  TCase *mode = tcase_create("mode");
  tcase_add_test(mode,
                 loop_mode_is_the_running_mode_inside_callbacks_and_minus_one_outside);
  suite_add_tcase(s, mode);

  TCase *metrics = tcase_create("metrics");
  tcase_add_test(metrics,
                 metrics_info_matches_the_single_getters_and_takes_null_pointers);
  tcase_add_test(metrics, events_waiting_counts_what_the_last_wait_returned);
  tcase_add_test(metrics,
                 idle_time_is_counted_only_once_configured_and_only_while_waiting);
  suite_add_tcase(s, metrics);

  TCase *print = tcase_create("print");
  tcase_add_test(print, print_handles_lists_each_handle_with_its_flags_and_kind);
  tcase_add_test(print, print_handles_of_an_empty_loop_writes_nothing);
  suite_add_tcase(s, print);
  return s;
}

FUV_TEST_MAIN(loop_config_suite)
