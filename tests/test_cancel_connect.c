/* Cancelling connects: a connect can be cancelled until its callback has
 * run, over TCP (where the kernel is still connecting) and over a pipe
 * (where the kernel has usually connected already), and the handle can
 * connect again afterwards. */
#include "fuv_test.h"

#include <stdio.h>
#include <unistd.h>

struct outcome {
  int calls;
  int status;
};

static void tcp_connect_cb(fuv_tcp_t *tcp, int status, void *arg) {
  struct outcome *o = arg;
  (void)tcp;
  o->calls++;
  o->status = status;
}

static void pipe_connect_cb(fuv_pipe_t *pipe, int status, void *arg) {
  struct outcome *o = arg;
  (void)pipe;
  o->calls++;
  o->status = status;
}

START_TEST(tcp_connect_cancelled_before_the_loop_runs_can_connect_again) {
  fuv_loop_t *loop;
  fuv_tcp_t *server, *client;
  fuv_req_t *req = NULL;
  struct outcome first = {0, 1}, second = {0, 1};
  int port;

  FUV_ASSERT_OK(fuv_loop_new(&loop));
  server = fuv_test_listener(loop, "127.0.0.1", &port, NULL, NULL);
  FUV_ASSERT_OK(fuv_tcp_new(&client, loop));
  FUV_ASSERT_OK(fuv_tcp_connect_req(client, "127.0.0.1", port, tcp_connect_cb,
                                    &first, &req));
  ck_assert_ptr_nonnull(req);
  ck_assert_int_eq(fuv_req_type(req), FUV_CONNECT);
  ck_assert_str_eq(fuv_req_type_name(fuv_req_type(req)), "connect");
  FUV_ASSERT_OK(fuv_cancel(req));
  ck_assert_int_eq(first.calls, 0); /* never inside fuv_cancel */
  FUV_ASSERT_ERR(fuv_cancel(req), FUV_EBUSY);
  fuv_test_run_until(loop, &first.calls, 1, 1000);
  ck_assert_int_eq(first.status, FUV_ECANCELED);
  FUV_ASSERT_ERR(fuv_cancel(req), FUV_EBUSY);
  fuv_req_release(req);

  FUV_ASSERT_OK(fuv_tcp_connect(client, "127.0.0.1", port, tcp_connect_cb,
                                &second));
  fuv_test_run_until(loop, &second.calls, 1, 1000);
  ck_assert_int_eq(second.status, 0);
  ck_assert_int_eq(first.calls, 1);
  fuv_close((fuv_handle_t *)client, NULL, NULL);
  fuv_close((fuv_handle_t *)server, NULL, NULL);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(pipe_connect_completed_at_once_is_still_cancellable) {
  fuv_loop_t *loop;
  fuv_pipe_t *server, *client;
  fuv_req_t *req = NULL;
  struct outcome first = {0, 1}, second = {0, 1};
  char path[128];
  char name[128];
  size_t len = 0;

  snprintf(path, sizeof path, "/tmp/fuv_test_cancel_%d.sock", (int)getpid());
  unlink(path);
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_pipe_new(&server, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_bind(server, path));
  FUV_ASSERT_OK(fuv_listen((fuv_stream_t *)server, 8, NULL, NULL));
  FUV_ASSERT_OK(fuv_pipe_new(&client, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_connect_req(client, path, pipe_connect_cb, &first,
                                     &req));
  FUV_ASSERT_OK(fuv_cancel(req));
  fuv_test_run_until(loop, &first.calls, 1, 1000);
  ck_assert_int_eq(first.status, FUV_ECANCELED);
  /* The cancelled connection is gone: the client is not connected. */
  FUV_ASSERT_ERR(fuv_pipe_getpeername(client, name, sizeof name, &len),
                 fuv_fileno((fuv_handle_t *)client) >= 0 ? FUV_ENOTCONN
                                                         : FUV_EBADF);
  FUV_ASSERT_ERR(fuv_write((fuv_stream_t *)client, "x", 1, NULL, NULL),
                 fuv_fileno((fuv_handle_t *)client) >= 0 ? FUV_ENOTCONN
                                                         : FUV_EBADF);
  fuv_req_release(req);

  FUV_ASSERT_OK(fuv_pipe_connect(client, path, pipe_connect_cb, &second));
  fuv_test_run_until(loop, &second.calls, 1, 1000);
  ck_assert_int_eq(second.status, 0);
  FUV_ASSERT_OK(fuv_pipe_getpeername(client, name, sizeof name, &len));
  ck_assert_uint_eq(len, strlen(path));
  ck_assert_int_eq(first.calls, 1);
  fuv_close((fuv_handle_t *)client, NULL, NULL);
  fuv_close((fuv_handle_t *)server, NULL, NULL);
  fuv_test_free_loop(loop);
}
END_TEST

static Suite *cancel_connect_suite(void) {
  Suite *s = suite_create("cancel_connect_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("cancel_connect");
  tcase_add_test(tc, tcp_connect_cancelled_before_the_loop_runs_can_connect_again);
  tcase_add_test(tc, pipe_connect_completed_at_once_is_still_cancellable);
  suite_add_tcase(s, tc);
  return s;
}

FUV_TEST_MAIN(cancel_connect_suite)
