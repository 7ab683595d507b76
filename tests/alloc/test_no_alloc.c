/*
 * Steady-state echo allocates nothing: after a warm-up, 10,000 round trips
 * of 1 KiB (with and without write callbacks, including writes that have to
 * be queued) make no call to malloc, calloc or realloc. The program is
 * linked with --wrap for those three so every call the library makes is
 * counted. The hot path records failures in a counter instead of calling
 * ck_assert, because every passing Check assertion allocates (it records a
 * mark point) and would be counted too.
 */
#include <stdlib.h>
#include <string.h>

#include "fuv_test.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);

static unsigned long allocations;

void *__wrap_malloc(size_t n) {
  allocations++;
  return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size) {
  allocations++;
  return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n) {
  allocations++;
  return __real_realloc(p, n);
}

#define MESSAGE_SIZE 1024
#define WARMUP_ROUNDS 1000
#define MEASURED_ROUNDS 10000

struct echo {
  fuv_tcp_t *client;
  char message[MESSAGE_SIZE];
  size_t received;
  int rounds;
  int use_write_cb;
  int write_cbs;
  unsigned long allocations_at_start;
  unsigned long allocations_measured;
  int failures; /* checked once the loop has finished */
};

static int hot_path_failures;

static void on_server_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                           void *arg) {
  (void)arg;
  if (nread < 0) {
    fuv_close((fuv_handle_t *)s, NULL, NULL);
    return;
  }
  if (fuv_write(s, buf, (size_t)nread, NULL, NULL) != 0)
    hot_path_failures++;
}

static void on_client_write(fuv_stream_t *s, int status, void *arg) {
  struct echo *e = arg;
  (void)s;
  if (status != 0)
    e->failures++;
  e->write_cbs++;
}

static void send_message(struct echo *e) {
  /* Two writes per message, so the second often has to wait behind the
   * first and exercises the queue as well as the direct path. */
  fuv_write_cb cb = e->use_write_cb ? on_client_write : NULL;
  if (fuv_write((fuv_stream_t *)e->client, e->message, 100, cb, e) != 0 ||
      fuv_write((fuv_stream_t *)e->client, e->message + 100,
                MESSAGE_SIZE - 100, cb, e) != 0)
    e->failures++;
}

static void on_client_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                           void *arg) {
  struct echo *e = arg;
  if (nread <= 0 || e->received + (size_t)nread > MESSAGE_SIZE ||
      memcmp(buf, e->message + e->received, (size_t)nread) != 0) {
    e->failures++;
    FUV_ASSERT_OK(fuv_close((fuv_handle_t *)s, NULL, NULL));
    return;
  }
  e->received += (size_t)nread;
  if (e->received < MESSAGE_SIZE)
    return;
  e->received = 0;
  e->rounds++;
  if (e->rounds == WARMUP_ROUNDS)
    e->allocations_at_start = allocations;
  if (e->rounds == WARMUP_ROUNDS + MEASURED_ROUNDS) {
    e->allocations_measured = allocations - e->allocations_at_start;
    FUV_ASSERT_OK(fuv_close((fuv_handle_t *)s, NULL, NULL));
    return;
  }
  e->message[e->rounds % MESSAGE_SIZE]++;
  send_message(e);
}

static void run_echo(int use_write_cb) {
  fuv_loop_t *loop;
  fuv_tcp_t *server_side;
  struct echo e;

  memset(&e, 0, sizeof e);
  hot_path_failures = 0;
  e.use_write_cb = use_write_cb;
  for (int i = 0; i < MESSAGE_SIZE; i++)
    e.message[i] = (char)(i * 31);
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, "127.0.0.1", &e.client, &server_side);
  FUV_ASSERT_OK(fuv_read_start((fuv_stream_t *)server_side, on_server_read, NULL));
  FUV_ASSERT_OK(fuv_read_start((fuv_stream_t *)e.client, on_client_read, &e));
  send_message(&e);
  fuv_test_run(loop, 60000);

  ck_assert_int_eq(e.failures, 0);
  ck_assert_int_eq(hot_path_failures, 0);
  ck_assert_int_eq(e.rounds, WARMUP_ROUNDS + MEASURED_ROUNDS);
  if (use_write_cb)
    ck_assert_int_ge(e.write_cbs, 2 * (WARMUP_ROUNDS + MEASURED_ROUNDS) - 2);
  ck_assert_msg(e.allocations_measured == 0,
                "%lu allocations during %d steady-state round trips",
                e.allocations_measured, MEASURED_ROUNDS);
  printf("no_alloc(%s, write_cb=%d): %lu allocations in %d round trips\n",
         FUV_TEST_BACKEND, use_write_cb, e.allocations_measured,
         MEASURED_ROUNDS);
  fuv_test_free_loop(loop);
}

START_TEST(echo_without_write_callbacks_allocates_nothing) { run_echo(0); }
END_TEST

START_TEST(echo_with_write_callbacks_allocates_nothing) { run_echo(1); }
END_TEST

static Suite *no_alloc_suite(void) {
  Suite *s = suite_create("no_alloc_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("steady_state");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, echo_without_write_callbacks_allocates_nothing);
  tcase_add_test(tc, echo_with_write_callbacks_allocates_nothing);
  suite_add_tcase(s, tc);
  return s;
}

FUV_TEST_MAIN(no_alloc_suite)
