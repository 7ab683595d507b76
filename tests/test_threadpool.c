/*
 * The worker pool: work runs on a pool thread and its after-callback on the
 * loop's, once each; waiting work can be cancelled, running work cannot;
 * slow I/O never takes every thread; FUV_THREADPOOL_SIZE sizes the pool;
 * a loop with work outstanding is not freed; a forked child gets a pool of
 * its own.
 */
#include "fuv_test.h"
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static fuv_loop_t *new_loop(void) {
  fuv_loop_t *loop = NULL;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  return loop;
}

/* A gate that blocking work waits at until the test opens it; it also
 * counts the items inside it, and the most that were inside at once. */
struct gate {
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  int open;
  int inside;
  int most_inside;
  int entered;
  int status; /* of the after-callback, gate_after's */
};

static void gate_init(struct gate *g) {
  pthread_mutex_init(&g->mutex, NULL);
  pthread_cond_init(&g->cond, NULL);
  g->open = g->inside = g->most_inside = g->entered = 0;
  g->status = 1;
}

static void gate_destroy(struct gate *g) {
  pthread_mutex_destroy(&g->mutex);
  pthread_cond_destroy(&g->cond);
}

static void gate_wait(void *arg) {
  struct gate *g = arg;
  pthread_mutex_lock(&g->mutex);
  g->entered++;
  if (++g->inside > g->most_inside)
    g->most_inside = g->inside;
  pthread_cond_broadcast(&g->cond);
  while (!g->open)
    pthread_cond_wait(&g->cond, &g->mutex);
  g->inside--;
  pthread_mutex_unlock(&g->mutex);
}

static void gate_open(struct gate *g) {
  pthread_mutex_lock(&g->mutex);
  g->open = 1;
  pthread_cond_broadcast(&g->cond);
  pthread_mutex_unlock(&g->mutex);
}

/* Waits (up to 5 s) until n items have entered the gate; returns how many
 * had. */
static int gate_await_entered(struct gate *g, int n) {
  uint64_t end = fuv_hrtime() + 5000000000ull;
  int entered;
  pthread_mutex_lock(&g->mutex);
  while (g->entered < n && fuv_hrtime() < end) {
    pthread_mutex_unlock(&g->mutex);
    fuv_sleep(1);
    pthread_mutex_lock(&g->mutex);
  }
  entered = g->entered;
  pthread_mutex_unlock(&g->mutex);
  return entered;
}

static int gate_entered(struct gate *g) {
  int n;
  pthread_mutex_lock(&g->mutex);
  n = g->entered;
  pthread_mutex_unlock(&g->mutex);
  return n;
}

/* What one work item saw. */
struct item {
  pthread_t loop_thread;
  pthread_t work_thread;
  int work_calls; /* written by the pool thread, read after the after_cb */
  int after_calls;
  int after_on_loop;
  int status;
  int *done; /* counts after-callbacks, if not NULL */
};

static void item_work(void *arg) {
  struct item *it = arg;
  it->work_thread = pthread_self();
  it->work_calls++;
}

static void item_after(int status, void *arg) {
  struct item *it = arg;
  it->after_calls++;
  it->status = status;
  if (pthread_equal(pthread_self(), it->loop_thread))
    it->after_on_loop++;
  if (it->done != NULL)
    (*it->done)++;
}

static void item_init(struct item *it, int *done) {
  memset(it, 0, sizeof *it);
  it->loop_thread = pthread_self();
  it->status = 1;
  it->done = done;
}

START_TEST(work_and_after_run_once_on_their_threads) {
  fuv_loop_t *loop = new_loop();
  struct item it;
  item_init(&it, NULL);
  FUV_ASSERT_OK(fuv_queue_work(loop, item_work, item_after, &it));
  ck_assert_int_eq(it.after_calls, 0); /* never inside the call */
  ck_assert_int_eq(fuv_loop_alive(loop), 1);
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(it.work_calls, 1);
  ck_assert_int_eq(it.after_calls, 1);
  ck_assert_int_eq(it.after_on_loop, 1);
  ck_assert_int_eq(it.status, 0);
  ck_assert(!pthread_equal(it.work_thread, it.loop_thread));
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(bad_arguments_are_einval) {
  fuv_loop_t *loop = new_loop();
  fuv_req_t *req = (fuv_req_t *)&req;
  FUV_ASSERT_ERR(fuv_queue_work(NULL, item_work, NULL, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_queue_work(loop, NULL, item_after, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_queue_work_req(loop, NULL, NULL, NULL, &req),
                 FUV_EINVAL);
  ck_assert_ptr_null(req);
  ck_assert_int_eq(fuv_loop_alive(loop), 0);
  fuv_test_free_loop(loop);
}
END_TEST

#define MANY 10000

START_TEST(many_items_each_complete_once) {
  fuv_loop_t *loop = new_loop();
  struct item *items = calloc(MANY, sizeof *items);
  int done = 0;
  ck_assert_ptr_nonnull(items);
  for (int i = 0; i < MANY; i++) {
    item_init(&items[i], &done);
    FUV_ASSERT_OK(fuv_queue_work(loop, item_work, item_after, &items[i]));
  }
  fuv_test_run(loop, 60000);
  ck_assert_int_eq(done, MANY);
  for (int i = 0; i < MANY; i++) {
    ck_assert_int_eq(items[i].work_calls, 1);
    ck_assert_int_eq(items[i].after_calls, 1);
    ck_assert_int_eq(items[i].status, 0);
  }
  free(items);
  fuv_test_free_loop(loop);
}
END_TEST

/* Fills every thread with blocking work, so that what is queued next
 * waits. Returns the number of threads. */
static int fill_pool(fuv_loop_t *loop, struct gate *g) {
  int n = fuv_threadpool_size();
  for (int i = 0; i < n; i++)
    FUV_ASSERT_OK(fuv_queue_work(loop, gate_wait, NULL, g));
  ck_assert_int_eq(gate_await_entered(g, n), n);
  return n;
}

START_TEST(cancel_before_start_is_ecanceled) {
  fuv_loop_t *loop = new_loop();
  struct gate g;
  struct item it;
  fuv_req_t *req = NULL;

  gate_init(&g);
  fill_pool(loop, &g);
  item_init(&it, NULL);
  FUV_ASSERT_OK(fuv_queue_work_req(loop, item_work, item_after, &it, &req));
  ck_assert_int_eq(fuv_req_type(req), FUV_WORK);
  ck_assert_str_eq(fuv_req_type_name(FUV_WORK), "work");
  FUV_ASSERT_OK(fuv_cancel(req));
  ck_assert_int_eq(it.after_calls, 0); /* from fuv_run, not the call */
  FUV_ASSERT_ERR(fuv_cancel(req), FUV_EBUSY);
  gate_open(&g);
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(it.after_calls, 1);
  ck_assert_int_eq(it.status, FUV_ECANCELED);
  ck_assert_int_eq(it.work_calls, 0);
  FUV_ASSERT_ERR(fuv_cancel(req), FUV_EBUSY);
  fuv_req_release(req);
  fuv_test_free_loop(loop);
  gate_destroy(&g);
}
END_TEST

/* The after-callback of gate_wait's work: records its status. */
static void gate_after(int status, void *arg) {
  ((struct gate *)arg)->status = status;
}

START_TEST(cancel_of_running_work_is_ebusy) {
  fuv_loop_t *loop = new_loop();
  struct gate g;
  fuv_req_t *req = NULL;
  gate_init(&g);
  FUV_ASSERT_OK(fuv_queue_work_req(loop, gate_wait, gate_after, &g, &req));
  ck_assert_int_eq(gate_await_entered(&g, 1), 1);
  FUV_ASSERT_ERR(fuv_cancel(req), FUV_EBUSY);
  gate_open(&g);
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(g.status, 0);
  fuv_req_release(req);
  fuv_test_free_loop(loop);
  gate_destroy(&g);
}
END_TEST

START_TEST(slow_io_leaves_threads_for_other_work) {
  fuv_loop_t *loop = new_loop();
  struct gate g;
  struct item it;
  int n = fuv_threadpool_size(), cap = (n + 1) / 2, done = 0;

  gate_init(&g);
  /* More blocking slow items than there are threads. */
  for (int i = 0; i < n + 2; i++)
    FUV_ASSERT_OK(fuv__work_submit(loop, FUV__WORK_SLOW_IO, gate_wait, NULL,
                                   &g, NULL));
  ck_assert_int_eq(gate_await_entered(&g, cap), cap);
  /* Normal work still completes while the slow items block. */
  item_init(&it, &done);
  FUV_ASSERT_OK(fuv_queue_work(loop, item_work, item_after, &it));
  fuv_test_run_until(loop, &done, 1, 5000);
  ck_assert_int_eq(it.work_calls, 1);
  fuv_sleep(50);
  ck_assert_int_eq(gate_entered(&g), cap); /* never more than the cap */
  gate_open(&g);
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(gate_entered(&g), n + 2);
  ck_assert_int_le(g.most_inside, cap);
  fuv_test_free_loop(loop);
  gate_destroy(&g);
}
END_TEST

/* In a child process, so that the environment and the pool are its own:
 * FUV_THREADPOOL_SIZE=3 gives three threads, all of which run at once. */
static int child_pool_of_three(void) {
  fuv_loop_t *loop = NULL;
  struct gate g;
  if (setenv("FUV_THREADPOOL_SIZE", "3", 1) != 0 || fuv_loop_new(&loop) != 0)
    return 10;
  if (fuv_threadpool_size() != 3)
    return 11;
  gate_init(&g);
  for (int i = 0; i < 4; i++)
    if (fuv_queue_work(loop, gate_wait, NULL, &g) != 0)
      return 12;
  if (gate_await_entered(&g, 3) != 3)
    return 13;
  fuv_sleep(50);
  if (gate_entered(&g) != 3) /* the fourth waits: three threads */
    return 14;
  gate_open(&g);
  if (fuv_run(loop, FUV_RUN_DEFAULT) != 0 || gate_entered(&g) != 4)
    return 15;
  return fuv_loop_free(loop) == 0 ? 0 : 16;
}

static int child_exit_code(int (*fn)(void)) {
  int status = 0;
  pid_t pid = fork();
  ck_assert_int_ne(pid, -1);
  if (pid == 0)
    _exit(fn());
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status));
  return WEXITSTATUS(status);
}

START_TEST(threadpool_size_from_the_environment) {
  ck_assert_int_eq(child_exit_code(child_pool_of_three), 0);
}
END_TEST

START_TEST(loop_free_waits_for_outstanding_work) {
  fuv_loop_t *loop = new_loop();
  struct gate g;
  gate_init(&g);
  FUV_ASSERT_OK(fuv_queue_work(loop, gate_wait, gate_after, &g));
  FUV_ASSERT_ERR(fuv_loop_free(loop), FUV_EBUSY);
  gate_open(&g);
  FUV_ASSERT_ERR(fuv_loop_free(loop), FUV_EBUSY); /* after_cb not yet run */
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(g.status, 0);
  FUV_ASSERT_OK(fuv_loop_free(loop));
  gate_destroy(&g);
}
END_TEST

/* ThreadSanitizer cannot follow threads started in the child of a process
 * that has threads (it stops the child), which is what this case does. */
#if defined(__SANITIZE_THREAD__)
#define FUV_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FUV_TEST_TSAN 1
#endif
#endif

#ifndef FUV_TEST_TSAN
/* Queues one item on a fresh loop and runs it: 0 when it completed. */
static int run_one_item(void) {
  fuv_loop_t *loop = NULL;
  struct item it;
  if (fuv_loop_new(&loop) != 0)
    return 20;
  item_init(&it, NULL);
  if (fuv_queue_work(loop, item_work, item_after, &it) != 0)
    return 21;
  if (fuv_run(loop, FUV_RUN_DEFAULT) != 0)
    return 22;
  if (it.work_calls != 1 || it.after_calls != 1 || it.status != 0)
    return 23;
  return fuv_loop_free(loop) == 0 ? 0 : 24;
}

START_TEST(fork_with_a_running_pool) {
  fuv_loop_t *loop = new_loop();
  struct gate g;
  gate_init(&g);
  /* The pool is running, with one item in a thread, when the child forks. */
  FUV_ASSERT_OK(fuv_queue_work(loop, gate_wait, gate_after, &g));
  ck_assert_int_eq(gate_await_entered(&g, 1), 1);
  ck_assert_int_eq(child_exit_code(run_one_item), 0);
  ck_assert_int_eq(run_one_item(), 0);
  gate_open(&g);
  fuv_test_run(loop, 5000);
  ck_assert_int_eq(g.status, 0);
  fuv_test_free_loop(loop);
  gate_destroy(&g);
}
END_TEST
#endif

static Suite *threadpool_suite(void) {
  Suite *s = suite_create("threadpool_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("threadpool");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, work_and_after_run_once_on_their_threads);
  tcase_add_test(tc, bad_arguments_are_einval);
  tcase_add_test(tc, many_items_each_complete_once);
  tcase_add_test(tc, cancel_before_start_is_ecanceled);
  tcase_add_test(tc, cancel_of_running_work_is_ebusy);
  tcase_add_test(tc, slow_io_leaves_threads_for_other_work);
  tcase_add_test(tc, threadpool_size_from_the_environment);
  tcase_add_test(tc, loop_free_waits_for_outstanding_work);
#ifndef FUV_TEST_TSAN
  tcase_add_test(tc, fork_with_a_running_pool);
#endif
  suite_add_tcase(s, tc);
  return s;
}

FUV_TEST_MAIN(threadpool_suite)
