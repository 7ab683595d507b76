/*
 * Async handles: the one thread-safe way into a loop. Sends from other
 * threads and from signal handlers wake a blocked loop, the callback runs
 * on the loop's thread, sends coalesce, and closing lets the loop end.
 */
#include "fuv_test.h"

#include <pthread.h>
#include <signal.h>

static fuv_loop_t *new_loop(void) {
  fuv_loop_t *loop = NULL;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  return loop;
}

/* What an async callback saw. */
struct wake_log {
  pthread_t loop_thread;
  int calls;
  int on_loop_thread;
  int close_after; /* close the handle on this call (0: never) */
};

static void log_wake(fuv_async_t *async, void *arg) {
  struct wake_log *w = arg;
  w->calls++;
  if (pthread_equal(pthread_self(), w->loop_thread))
    w->on_loop_thread++;
  if (w->calls == w->close_after)
    FUV_ASSERT_OK(fuv_close((fuv_handle_t *)async, NULL, NULL));
}

static void wake_log_init(struct wake_log *w, int close_after) {
  w->loop_thread = pthread_self();
  w->calls = 0;
  w->on_loop_thread = 0;
  w->close_after = close_after;
}

/* ---- another thread --------------------------------------------------------- */

/* The sender waits until the loop is running (a timer callback tells it),
 * so the send reaches a loop that is blocked waiting for I/O. */
struct sender {
  fuv_async_t *async;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int go;
  int result;
};

static void *sender_main(void *arg) {
  struct sender *s = arg;
  pthread_mutex_lock(&s->lock);
  while (!s->go)
    pthread_cond_wait(&s->cond, &s->lock);
  pthread_mutex_unlock(&s->lock);
  s->result = fuv_async_send(s->async);
  return NULL;
}

static void release_sender(fuv_timer_t *timer, void *arg) {
  struct sender *s = arg;
  (void)timer;
  pthread_mutex_lock(&s->lock);
  s->go = 1;
  pthread_cond_signal(&s->cond);
  pthread_mutex_unlock(&s->lock);
}

START_TEST(send_from_another_thread_wakes_a_blocked_loop_and_runs_cb_on_loop_thread) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer;
  struct wake_log w;
  struct sender s;
  pthread_t thread;

  wake_log_init(&w, 1);
  memset(&s, 0, sizeof s);
  pthread_mutex_init(&s.lock, NULL);
  pthread_cond_init(&s.cond, NULL);
  FUV_ASSERT_OK(fuv_async_new(&s.async, loop, log_wake, &w));
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_timer_start(timer, release_sender, 0, 0, &s));
  ck_assert_int_eq(pthread_create(&thread, NULL, sender_main, &s), 0);

  /* Only the send can end this run: the async handle is active and
   * referenced, and nothing else is pending after the timer. */
  fuv_test_run(loop, 10000);
  ck_assert_int_eq(pthread_join(thread, NULL), 0);
  FUV_ASSERT_OK(s.result);
  ck_assert_int_eq(w.calls, 1);
  ck_assert_int_eq(w.on_loop_thread, 1);

  pthread_cond_destroy(&s.cond);
  pthread_mutex_destroy(&s.lock);
  fuv_test_free_loop(loop);
}
END_TEST

/* Several threads each send many times. A joiner thread waits for them
 * all, then sends to a second handle whose callback closes both: by then
 * no thread can touch the first handle any more, as fuv_async_send()
 * requires. */
#define SENDER_THREADS 4
#define SENDS_PER_THREAD 2000

struct storm {
  fuv_async_t *async;
  fuv_async_t *done;
  pthread_t senders[SENDER_THREADS];
  pthread_mutex_t lock;
  int failures;
  int calls;
  int done_calls;
};

static void *storm_sender_main(void *arg) {
  struct storm *s = arg;
  int failures = 0;
  for (int i = 0; i < SENDS_PER_THREAD; i++)
    failures += fuv_async_send(s->async) != 0;
  pthread_mutex_lock(&s->lock);
  s->failures += failures;
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

static void *storm_joiner_main(void *arg) {
  struct storm *s = arg;
  for (int i = 0; i < SENDER_THREADS; i++)
    pthread_join(s->senders[i], NULL);
  if (fuv_async_send(s->done) != 0) {
    pthread_mutex_lock(&s->lock);
    s->failures++;
    pthread_mutex_unlock(&s->lock);
  }
  return NULL;
}

static void storm_wake(fuv_async_t *async, void *arg) {
  struct storm *s = arg;
  (void)async;
  s->calls++;
}

static void storm_done(fuv_async_t *async, void *arg) {
  struct storm *s = arg;
  s->done_calls++;
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)s->async, NULL, NULL));
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)async, NULL, NULL));
}

START_TEST(sends_from_many_threads_coalesce_into_at_most_one_call_each) {
  fuv_loop_t *loop = new_loop();
  struct storm s;
  pthread_t joiner;

  memset(&s, 0, sizeof s);
  pthread_mutex_init(&s.lock, NULL);
  FUV_ASSERT_OK(fuv_async_new(&s.async, loop, storm_wake, &s));
  FUV_ASSERT_OK(fuv_async_new(&s.done, loop, storm_done, &s));
  for (int i = 0; i < SENDER_THREADS; i++)
    ck_assert_int_eq(pthread_create(&s.senders[i], NULL, storm_sender_main, &s), 0);
  ck_assert_int_eq(pthread_create(&joiner, NULL, storm_joiner_main, &s), 0);
  fuv_test_run(loop, 30000);
  ck_assert_int_eq(pthread_join(joiner, NULL), 0);

  ck_assert_int_eq(s.failures, 0);
  ck_assert_int_eq(s.done_calls, 1);
  /* Every send happened before the last wake-up, so at least one call ran;
   * coalescing means there were no more calls than sends. */
  ck_assert_int_ge(s.calls, 1);
  ck_assert_int_le(s.calls, SENDER_THREADS * SENDS_PER_THREAD);
  pthread_mutex_destroy(&s.lock);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}
END_TEST

/* ---- the loop's own thread ----------------------------------------------------- */

START_TEST(many_sends_before_the_loop_runs_give_one_call) {
  fuv_loop_t *loop = new_loop();
  fuv_async_t *async;
  struct wake_log w;
  wake_log_init(&w, 0);
  FUV_ASSERT_OK(fuv_async_new(&async, loop, log_wake, &w));
  for (int i = 0; i < 1000; i++)
    FUV_ASSERT_OK(fuv_async_send(async));
  ck_assert_int_eq(w.calls, 0);
  /* Every send was made before the callback ran: they are one wake-up. */
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 1);
  ck_assert_int_eq(w.calls, 1);
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 1);
  ck_assert_int_eq(w.calls, 1);
  /* A later send is a new wake-up. */
  FUV_ASSERT_OK(fuv_async_send(async));
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 1);
  ck_assert_int_eq(w.calls, 2);
  fuv_test_free_loop(loop);
}
END_TEST

struct self_send {
  fuv_async_t *async;
  int calls;
  int calls_when_send_returned;
};

static void self_send_wake(fuv_async_t *async, void *arg) {
  struct self_send *s = arg;
  s->calls++;
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)async, NULL, NULL));
}

static void send_from_timer(fuv_timer_t *timer, void *arg) {
  struct self_send *s = arg;
  (void)timer;
  FUV_ASSERT_OK(fuv_async_send(s->async));
  s->calls_when_send_returned = s->calls;
}

START_TEST(send_from_the_loop_thread_runs_the_callback_later_not_inside_send) {
  fuv_loop_t *loop = new_loop();
  fuv_timer_t *timer;
  struct self_send s = {NULL, 0, -1};
  FUV_ASSERT_OK(fuv_async_new(&s.async, loop, self_send_wake, &s));
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_timer_start(timer, send_from_timer, 0, 0, &s));
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(s.calls_when_send_returned, 0);
  ck_assert_int_eq(s.calls, 1);
  fuv_test_free_loop(loop);
}
END_TEST

static void resend_until(fuv_async_t *async, void *arg) {
  int *calls = arg;
  (*calls)++;
  /* A send from inside the callback is a new wake-up, not lost. */
  if (*calls < 5)
    FUV_ASSERT_OK(fuv_async_send(async));
  else
    FUV_ASSERT_OK(fuv_close((fuv_handle_t *)async, NULL, NULL));
}

START_TEST(send_from_inside_the_callback_wakes_the_loop_again) {
  fuv_loop_t *loop = new_loop();
  fuv_async_t *async;
  int calls = 0;
  FUV_ASSERT_OK(fuv_async_new(&async, loop, resend_until, &calls));
  FUV_ASSERT_OK(fuv_async_send(async));
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(calls, 5);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- several handles on one loop -------------------------------------------------- */

START_TEST(only_the_handles_sent_to_run_their_callbacks) {
  fuv_loop_t *loop = new_loop();
  fuv_async_t *handles[3];
  struct wake_log logs[3];
  for (int i = 0; i < 3; i++) {
    wake_log_init(&logs[i], 0);
    FUV_ASSERT_OK(fuv_async_new(&handles[i], loop, log_wake, &logs[i]));
  }
  FUV_ASSERT_OK(fuv_async_send(handles[0]));
  FUV_ASSERT_OK(fuv_async_send(handles[2]));
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_NOWAIT), 1);
  ck_assert_int_eq(logs[0].calls, 1);
  ck_assert_int_eq(logs[1].calls, 0);
  ck_assert_int_eq(logs[2].calls, 1);
  fuv_test_free_loop(loop);
}
END_TEST

struct mutual {
  fuv_async_t *other;
  int calls;
  int other_closed;
};

static void close_the_other(fuv_async_t *async, void *arg) {
  struct mutual *m = arg;
  m->calls++;
  if (m->other != NULL) {
    FUV_ASSERT_OK(fuv_close((fuv_handle_t *)m->other, fuv_test_count_close,
                            &m->other_closed));
    m->other = NULL;
  }
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)async, NULL, NULL));
}

START_TEST(callback_may_close_another_pending_async_handle) {
  fuv_loop_t *loop = new_loop();
  fuv_async_t *a, *b;
  struct mutual ma = {NULL, 0, 0}, mb = {NULL, 0, 0};
  FUV_ASSERT_OK(fuv_async_new(&a, loop, close_the_other, &ma));
  FUV_ASSERT_OK(fuv_async_new(&b, loop, close_the_other, &mb));
  ma.other = b;
  mb.other = a;
  /* Both are pending; whichever runs first closes the other, whose
   * callback must then not run. */
  FUV_ASSERT_OK(fuv_async_send(a));
  FUV_ASSERT_OK(fuv_async_send(b));
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(ma.calls + mb.calls, 1);
  ck_assert_int_eq(ma.other_closed + mb.other_closed, 1);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}
END_TEST

/* ---- signal handler ---------------------------------------------------------------- */

static fuv_async_t *signal_async;

static void send_from_signal(int sig) {
  (void)sig;
  fuv_async_send(signal_async);
}

START_TEST(send_from_a_signal_handler_wakes_the_loop) {
  fuv_loop_t *loop = new_loop();
  struct wake_log w;
  struct sigaction sa, old;
  wake_log_init(&w, 1);
  FUV_ASSERT_OK(fuv_async_new(&signal_async, loop, log_wake, &w));

  memset(&sa, 0, sizeof sa);
  sa.sa_handler = send_from_signal;
  sigemptyset(&sa.sa_mask);
  ck_assert_int_eq(sigaction(SIGUSR2, &sa, &old), 0);
  ck_assert_int_eq(raise(SIGUSR2), 0);
  ck_assert_int_eq(w.calls, 0);
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(w.calls, 1);
  ck_assert_int_eq(sigaction(SIGUSR2, &old, NULL), 0);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- closing and misuse ----------------------------------------------------------- */

static void close_async_from_timer(fuv_timer_t *timer, void *arg) {
  (void)timer;
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)arg, NULL, NULL));
}

START_TEST(closing_the_async_handle_lets_run_return) {
  fuv_loop_t *loop = new_loop();
  fuv_async_t *async;
  fuv_timer_t *timer;
  struct wake_log w;
  wake_log_init(&w, 0);
  FUV_ASSERT_OK(fuv_async_new(&async, loop, log_wake, &w));
  ck_assert_int_eq(fuv_loop_alive(loop), 1);
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_timer_start(timer, close_async_from_timer, 1, 0, async));
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(w.calls, 0);
  ck_assert_int_eq(fuv_loop_alive(loop), 0);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(pending_send_is_dropped_when_the_handle_closes_first) {
  fuv_loop_t *loop = new_loop();
  fuv_async_t *async;
  struct wake_log w;
  int closed = 0;
  wake_log_init(&w, 0);
  FUV_ASSERT_OK(fuv_async_new(&async, loop, log_wake, &w));
  FUV_ASSERT_OK(fuv_async_send(async));
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)async, fuv_test_count_close, &closed));
  /* Another thread may still send until the close callback has run (it
   * cannot know of the close): such a send is harmless and wakes no one. */
  FUV_ASSERT_OK(fuv_async_send(async));
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  ck_assert_int_eq(w.calls, 0);
  ck_assert_int_eq(closed, 1);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}
END_TEST

START_TEST(async_new_with_a_null_callback_is_einval) {
  fuv_loop_t *loop = new_loop();
  fuv_async_t *async = (fuv_async_t *)&async;
  FUV_ASSERT_ERR(fuv_async_new(&async, loop, NULL, NULL), FUV_EINVAL);
  ck_assert_ptr_null(async);
  FUV_ASSERT_ERR(fuv_async_send(NULL), FUV_EINVAL);
  /* Nothing was created. */
  ck_assert_int_eq(fuv_loop_alive(loop), 0);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}
END_TEST

static Suite *async_suite(void) {
  Suite *s = suite_create("async_" FUV_TEST_BACKEND);
  TCase *threads = tcase_create("threads");
  tcase_set_timeout(threads, 60);
  tcase_add_test(threads, send_from_another_thread_wakes_a_blocked_loop_and_runs_cb_on_loop_thread);
  tcase_add_test(threads, sends_from_many_threads_coalesce_into_at_most_one_call_each);
  tcase_add_test(threads, send_from_a_signal_handler_wakes_the_loop);
  suite_add_tcase(s, threads);

  TCase *loop = tcase_create("loop_thread");
  tcase_add_test(loop, many_sends_before_the_loop_runs_give_one_call);
  tcase_add_test(loop, send_from_the_loop_thread_runs_the_callback_later_not_inside_send);
  tcase_add_test(loop, send_from_inside_the_callback_wakes_the_loop_again);
  tcase_add_test(loop, only_the_handles_sent_to_run_their_callbacks);
  tcase_add_test(loop, callback_may_close_another_pending_async_handle);
  suite_add_tcase(s, loop);

  TCase *close = tcase_create("close_misuse");
  tcase_add_test(close, closing_the_async_handle_lets_run_return);
  tcase_add_test(close, pending_send_is_dropped_when_the_handle_closes_first);
  tcase_add_test(close, async_new_with_a_null_callback_is_einval);
  suite_add_tcase(s, close);
  return s;
}

FUV_TEST_MAIN(async_suite)
