#include "fuv_test.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

const char *const fuv_test_loopback[FUV_TEST_NFAMILIES] = {"127.0.0.1", "::1"};

static void on_watchdog(fuv_timer_t *timer, void *arg) {
  uint64_t *timeout_ms = arg;
  (void)timer;
  ck_abort_msg("the loop was still running after %llu ms",
               (unsigned long long)*timeout_ms);
}

void fuv_test_run(fuv_loop_t *loop, uint64_t timeout_ms) {
  fuv_timer_t *watchdog;
  FUV_ASSERT_OK(fuv_timer_new(&watchdog, loop));
  FUV_ASSERT_OK(fuv_timer_start(watchdog, on_watchdog, timeout_ms, 0,
                                &timeout_ms));
  /* Unreferenced, so it never keeps the loop alive by itself. */
  FUV_ASSERT_OK(fuv_unref((fuv_handle_t *)watchdog));
  int r = fuv_run(loop, FUV_RUN_DEFAULT);
  ck_assert_int_ge(r, 0);
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)watchdog, NULL, NULL));
  /* Let the watchdog's close finish without blocking. */
  fuv_run(loop, FUV_RUN_NOWAIT);
}

static void close_each(fuv_handle_t *handle, void *arg) {
  (void)arg;
  FUV_ASSERT_OK(fuv_close(handle, NULL, NULL));
}

void fuv_test_free_loop(fuv_loop_t *loop) {
  FUV_ASSERT_OK(fuv_walk(loop, close_each, NULL));
  for (int i = 0; i < 100 && fuv_loop_alive(loop); i++)
    fuv_run(loop, FUV_RUN_NOWAIT);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}

fuv_tcp_t *fuv_test_listener(fuv_loop_t *loop, const char *ip, int *port,
                             fuv_connection_cb cb, void *arg) {
  fuv_tcp_t *server;
  char name[FUV_IP_NAME_MAX];
  FUV_ASSERT_OK(fuv_tcp_new(&server, loop));
  FUV_ASSERT_OK(fuv_tcp_bind(server, ip, 0, 0));
  FUV_ASSERT_OK(fuv_listen((fuv_stream_t *)server, 128, cb, arg));
  FUV_ASSERT_OK(fuv_tcp_getsockname(server, name, sizeof name, port));
  ck_assert_int_gt(*port, 0);
  return server;
}

struct pair_state {
  fuv_tcp_t *server_side;
  int connected;
};

static void pair_on_connection(fuv_stream_t *server, int status, void *arg) {
  struct pair_state *st = arg;
  FUV_ASSERT_OK(status);
  FUV_ASSERT_OK(fuv_accept(server, &st->server_side));
}

static void pair_on_connect(fuv_tcp_t *tcp, int status, void *arg) {
  struct pair_state *st = arg;
  (void)tcp;
  FUV_ASSERT_OK(status);
  st->connected = 1;
}

void fuv_test_tcp_pair(fuv_loop_t *loop, const char *ip, fuv_tcp_t **client,
                       fuv_tcp_t **server_side) {
  struct pair_state st = {NULL, 0};
  int port;
  fuv_tcp_t *server = fuv_test_listener(loop, ip, &port, pair_on_connection, &st);
  FUV_ASSERT_OK(fuv_tcp_new(client, loop));
  FUV_ASSERT_OK(fuv_tcp_connect(*client, ip, port, pair_on_connect, &st));
  for (int i = 0; i < 1000 && !(st.connected && st.server_side); i++)
    fuv_run(loop, FUV_RUN_ONCE);
  ck_assert(st.connected);
  ck_assert_ptr_nonnull(st.server_side);
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)server, NULL, NULL));
  *server_side = st.server_side;
}

void fuv_test_set_flag(fuv_timer_t *timer, void *arg) {
  (void)timer;
  *(int *)arg = 1;
}

void fuv_test_run_until(fuv_loop_t *loop, const int *counter, int target,
                        uint64_t timeout_ms) {
  fuv_timer_t *watchdog;
  int expired = 0;
  FUV_ASSERT_OK(fuv_timer_new(&watchdog, loop));
  FUV_ASSERT_OK(fuv_timer_start(watchdog, fuv_test_set_flag, timeout_ms, 0,
                                &expired));
  while (*counter < target && !expired)
    ck_assert_int_ge(fuv_run(loop, FUV_RUN_ONCE), 0);
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)watchdog, NULL, NULL));
  ck_assert_msg(*counter >= target, "waited %llu ms for %d events, saw %d",
                (unsigned long long)timeout_ms, target, *counter);
}

uint64_t fuv_test_iterations_while_idle(fuv_loop_t *loop, uint64_t ms) {
  fuv_timer_t *timer;
  int fired = 0;
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_timer_start(timer, fuv_test_set_flag, ms, 0, &fired));
  uint64_t before = fuv_metrics_loop_count(loop);
  for (long i = 0; !fired; i++) {
    ck_assert_msg(i < 1000000, "the loop spun a million times in %llu ms",
                  (unsigned long long)ms);
    ck_assert_int_ge(fuv_run(loop, FUV_RUN_ONCE), 0);
  }
  uint64_t iterations = fuv_metrics_loop_count(loop) - before;
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)timer, NULL, NULL));
  return iterations;
}

unsigned char fuv_test_pattern_byte(uint64_t offset) {
  return (unsigned char)((offset * UINT64_C(0x9E3779B97F4A7C15)) >> 56);
}

void fuv_test_fill_pattern(char *buf, size_t len, uint64_t offset) {
  for (size_t i = 0; i < len; i++)
    buf[i] = (char)fuv_test_pattern_byte(offset + i);
}

void fuv_test_count_close(fuv_handle_t *handle, void *arg) {
  (void)handle;
  (*(int *)arg)++;
}

int fuv_test_main(Suite *(*make_suite)(void)) {
  /* A last resort against a hang that escapes the per-test watchdogs. */
  alarm(600);
  SRunner *runner = srunner_create(make_suite());
  srunner_run_all(runner, CK_NORMAL);
  int failed = srunner_ntests_failed(runner);
  srunner_free(runner);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
