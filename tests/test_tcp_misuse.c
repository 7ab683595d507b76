/*
 * Misuse of the stream and TCP calls returns an error and never crashes,
 * hangs or calls back: NULL and wrong-kind handles, closing handles,
 * operations in the wrong state, malformed addresses and ports. When a call
 * that takes a callback fails, the callback must never run, so every test
 * runs the loop afterwards and checks that nothing was called.
 */
#include "fuv_test.h"

#include <arpa/inet.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define TIMEOUT_MS 10000

/* ---- helpers ------------------------------------------------------------ */

/* Gives callbacks that wrongly got queued a chance to run. */
static void run_a_little(fuv_loop_t *loop) {
  for (int i = 0; i < 5; i++)
    ck_assert_int_ge(fuv_run(loop, FUV_RUN_NOWAIT), 0);
}

/* Every callback below only counts into `calls`: after a failed call it
 * must stay 0. */
static int calls;

static void count_connection(fuv_stream_t *s, int status, void *arg) {
  (void)s, (void)status, (void)arg;
  calls++;
}
static void count_read(fuv_stream_t *s, ssize_t n, const char *b, void *arg) {
  (void)s, (void)n, (void)b, (void)arg;
  calls++;
}
static void count_write(fuv_stream_t *s, int status, void *arg) {
  (void)s, (void)status, (void)arg;
  calls++;
}
static void count_shutdown(fuv_stream_t *s, int status, void *arg) {
  (void)s, (void)status, (void)arg;
  calls++;
}
static void count_connect(fuv_tcp_t *t, int status, void *arg) {
  (void)t, (void)status, (void)arg;
  calls++;
}
static void count_close(fuv_handle_t *h, void *arg) {
  (void)h, (void)arg;
  calls++;
}
static void count_drain(fuv_stream_t *s, void *arg) {
  (void)s, (void)arg;
  calls++;
}

static void on_connect_ok(fuv_tcp_t *tcp, int status, void *arg) {
  (void)tcp;
  FUV_ASSERT_OK(status);
  (*(int *)arg)++;
}

static void loopback4(struct sockaddr_in *sin) {
  FUV_ASSERT_OK(fuv_ip4_addr("127.0.0.1", 9, sin));
}

/* ---- NULL and wrong-kind handles ---------------------------------------- */

/* Calls every stream and TCP function with h, which is not a usable TCP
 * handle (NULL, or another kind cast to one), and asserts each one fails
 * with FUV_EINVAL, or returns 0 where the function returns a plain value. */
static void assert_every_call_rejects(fuv_handle_t *h) {
  fuv_stream_t *s = (fuv_stream_t *)h;
  fuv_tcp_t *t = (fuv_tcp_t *)h;
  const char *bufs[2] = {"ab", "cd"};
  const size_t lens[2] = {2, 2};
  char name[FUV_IP_NAME_MAX], data[8];
  struct sockaddr_storage ss;
  struct sockaddr_in sin;
  fuv_tcp_t *client = NULL;
  int port, namelen = (int)sizeof ss, on, seconds;
  loopback4(&sin);

  FUV_ASSERT_ERR(fuv_listen(s, 16, count_connection, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_accept(s, &client), FUV_EINVAL);
  ck_assert_ptr_null(client);
  FUV_ASSERT_ERR(fuv_read_start(s, count_read, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_read_stop(s), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_write(s, "x", 1, count_write, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_writev(s, bufs, lens, 2, count_write, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_try_write(s, "x", 1), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_shutdown(s, count_shutdown, NULL), FUV_EINVAL);
  ck_assert_int_eq(fuv_is_readable(s), 0);
  ck_assert_int_eq(fuv_is_writable(s), 0);
  ck_assert_uint_eq(fuv_write_queue_size(s), 0);
  FUV_ASSERT_ERR(fuv_stream_set_water_marks(s, 100, 10, count_drain, NULL),
                 FUV_EINVAL);
  ck_assert_int_eq(fuv_stream_is_congested(s), 0);

  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(fd, 0);
  FUV_ASSERT_ERR(fuv_tcp_open(t, fd), FUV_EINVAL);
  close(fd); /* still ours: the failed open did not take it */
  FUV_ASSERT_ERR(fuv_tcp_nodelay(t, 1), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_keepalive(t, 1, 60), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_keepalive_ex(t, 1, 30, 5, 3), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_simultaneous_accepts(t, 1), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_bind(t, "127.0.0.1", 0, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_bind_addr(t, (struct sockaddr *)&sin, 0),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_getsockname(t, name, sizeof name, &port),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_getpeername(t, name, sizeof name, &port),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(
      fuv_tcp_getsockname_addr(t, (struct sockaddr *)&ss, &namelen),
      FUV_EINVAL);
  FUV_ASSERT_ERR(
      fuv_tcp_getpeername_addr(t, (struct sockaddr *)&ss, &namelen),
      FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_connect(t, "127.0.0.1", 9, count_connect, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_connect_addr(t, (struct sockaddr *)&sin,
                                      count_connect, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_close_reset(t, count_close, NULL), FUV_EINVAL);

  FUV_ASSERT_ERR(fuv_tcp_set_linger(t, 1, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_get_linger(t, &on, &seconds), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_set_ttl(t, 64), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_get_ttl(t), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_set_reuseaddr(t, 1), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_get_reuseaddr(t), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_set_ipv6only(t, 1), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_get_ipv6only(t), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_bind_to_device(t, "lo"), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_state(t), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_pending_bytes(t), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_socket_error(t), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_detach(t), FUV_EINVAL);

  FUV_ASSERT_ERR(fuv_tcp_connect_sync(t, "127.0.0.1", 9, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_accept_sync(s, &client, 0), FUV_EINVAL);
  ck_assert_ptr_null(client);
  FUV_ASSERT_ERR(fuv_send(s, "x", 1, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_recv(s, data, sizeof data, 0), FUV_EINVAL);

  FUV_ASSERT_ERR(fuv_fileno(h), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_get_send_buffer_size(h), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_get_recv_buffer_size(h), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_set_send_buffer_size(h, 65536), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_set_recv_buffer_size(h, 65536), FUV_EINVAL);
}

START_TEST(null_handles_are_rejected_by_every_stream_and_tcp_call) {
  fuv_loop_t *loop;
  fuv_tcp_t *tcp = NULL;
  calls = 0;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  assert_every_call_rejects(NULL);
  FUV_ASSERT_ERR(fuv_tcp_new(NULL, loop), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_new(&tcp, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_new_ex(NULL, loop, FUV_AF_INET), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_new_ex(&tcp, NULL, FUV_AF_INET), FUV_EINVAL);
  run_a_little(loop);
  ck_assert_int_eq(calls, 0);
  fuv_test_free_loop(loop);
}
END_TEST

static void on_async(fuv_async_t *async, void *arg) {
  (void)async, (void)arg;
  calls++;
}

START_TEST(other_handle_kinds_are_rejected_by_every_stream_and_tcp_call) {
  fuv_loop_t *loop;
  fuv_timer_t *timer;
  fuv_async_t *async;
  int fired = 0;
  calls = 0;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_async_new(&async, loop, on_async, NULL));
  assert_every_call_rejects((fuv_handle_t *)timer);
  assert_every_call_rejects((fuv_handle_t *)async);
  run_a_little(loop);
  ck_assert_int_eq(calls, 0);

  /* The handles were left as they were and still work. */
  ck_assert_int_eq(fuv_handle_type((fuv_handle_t *)timer), FUV_TIMER);
  ck_assert_int_eq(fuv_handle_type((fuv_handle_t *)async), FUV_ASYNC);
  FUV_ASSERT_OK(fuv_timer_start(timer, fuv_test_set_flag, 0, 0, &fired));
  FUV_ASSERT_OK(fuv_async_send(async));
  fuv_test_run_until(loop, &fired, 1, TIMEOUT_MS);
  fuv_test_run_until(loop, &calls, 1, TIMEOUT_MS);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- closing handles ---------------------------------------------------- */

START_TEST(calls_on_a_closing_handle_fail_with_einval) {
  const char *bufs[1] = {"x"};
  const size_t lens[1] = {1};
  fuv_loop_t *loop;
  fuv_tcp_t *client, *server_side, *accepted = NULL;
  int closed = 0;
  calls = 0;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &client, &server_side);
  fuv_stream_t *s = (fuv_stream_t *)client;
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)client, fuv_test_count_close,
                          &closed));
  ck_assert_int_eq(fuv_is_closing((fuv_handle_t *)client), 1);

  FUV_ASSERT_ERR(fuv_close((fuv_handle_t *)client, count_close, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_close_reset(client, count_close, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_write(s, "x", 1, count_write, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_writev(s, bufs, lens, 1, count_write, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_try_write(s, "x", 1), FUV_EINVAL);
  /* As libuv: a closing stream is no longer connected. */
  FUV_ASSERT_ERR(fuv_shutdown(s, count_shutdown, NULL), FUV_ENOTCONN);
  FUV_ASSERT_ERR(fuv_read_start(s, count_read, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_listen(s, 16, count_connection, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_accept(s, &accepted), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_connect(client, fuv_test_loopback[_i], 9,
                                 count_connect, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_bind(client, fuv_test_loopback[_i], 0, 0),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_nodelay(client, 1), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_keepalive(client, 1, 60), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_stream_set_water_marks(s, 100, 10, count_drain, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_set_linger(client, 1, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_detach(client), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_send(s, "x", 1, 0), FUV_EINVAL);
  ck_assert_int_eq(fuv_is_readable(s), 0);
  ck_assert_int_eq(fuv_is_writable(s), 0);

  fuv_test_run_until(loop, &closed, 1, TIMEOUT_MS);
  ck_assert_int_eq(calls, 0);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- wrong state -------------------------------------------------------- */

START_TEST(listen_on_an_unbound_handle_fails_with_einval) {
  fuv_loop_t *loop;
  fuv_tcp_t *bare, *with_socket;
  calls = 0;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_tcp_new(&bare, loop));
  FUV_ASSERT_ERR(fuv_listen((fuv_stream_t *)bare, 16, count_connection, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_OK(fuv_tcp_new_ex(&with_socket, loop, FUV_AF_INET));
  FUV_ASSERT_ERR(
      fuv_listen((fuv_stream_t *)with_socket, 16, count_connection, NULL),
      FUV_EINVAL);
  ck_assert_int_eq(fuv_is_active((fuv_handle_t *)bare), 0);
  ck_assert_int_eq(fuv_is_active((fuv_handle_t *)with_socket), 0);
  run_a_little(loop);
  ck_assert_int_eq(calls, 0);
  fuv_test_free_loop(loop);
}
END_TEST

struct accept_twice {
  int connections;
  int second_accept;
};

static void accept_twice_on_connection(fuv_stream_t *server, int status,
                                       void *arg) {
  struct accept_twice *at = arg;
  fuv_tcp_t *conn;
  FUV_ASSERT_OK(status);
  FUV_ASSERT_OK(fuv_accept(server, &conn));
  at->second_accept = fuv_accept(server, &conn);
  at->connections++;
}

START_TEST(accept_with_nothing_pending_fails_with_eagain) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop;
  fuv_tcp_t *listener, *client, *none = NULL;
  struct accept_twice at = {0, 0};
  int connected = 0, port;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  listener = fuv_test_listener(loop, ip, &port, accept_twice_on_connection,
                               &at);
  FUV_ASSERT_ERR(fuv_accept((fuv_stream_t *)listener, &none), FUV_EAGAIN);
  ck_assert_ptr_null(none);
  FUV_ASSERT_ERR(fuv_accept((fuv_stream_t *)listener, NULL), FUV_EINVAL);

  FUV_ASSERT_OK(fuv_tcp_new(&client, loop));
  FUV_ASSERT_OK(fuv_tcp_connect(client, ip, port, on_connect_ok, &connected));
  fuv_test_run_until(loop, &at.connections, 1, TIMEOUT_MS);
  FUV_ASSERT_ERR(at.second_accept, FUV_EAGAIN);
  fuv_test_run_until(loop, &connected, 1, TIMEOUT_MS);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(read_start_twice_fails_with_ealready) {
  fuv_loop_t *loop;
  fuv_tcp_t *client, *server_side;
  calls = 0;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &client, &server_side);
  fuv_stream_t *s = (fuv_stream_t *)client;
  FUV_ASSERT_OK(fuv_read_start(s, count_read, NULL));
  FUV_ASSERT_ERR(fuv_read_start(s, count_read, NULL), FUV_EALREADY);
  FUV_ASSERT_OK(fuv_read_stop(s));
  FUV_ASSERT_OK(fuv_read_stop(s)); /* stopping a stopped stream is fine */
  FUV_ASSERT_OK(fuv_read_start(s, count_read, NULL));
  FUV_ASSERT_OK(fuv_read_stop(s));
  run_a_little(loop);
  ck_assert_int_eq(calls, 0);
  fuv_test_free_loop(loop);
}
END_TEST

static void on_read_until_eof(fuv_stream_t *s, ssize_t nread, const char *buf,
                              void *arg) {
  (void)s, (void)buf;
  FUV_ASSERT_ERR((int)nread, FUV_EOF);
  (*(int *)arg)++;
}

START_TEST(read_start_needs_a_callback_and_a_readable_connected_stream) {
  fuv_loop_t *loop;
  fuv_tcp_t *client, *server_side, *bare, *unconnected, *listener;
  int eofs = 0, port;
  calls = 0;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_tcp_new(&bare, loop));
  FUV_ASSERT_ERR(fuv_read_start((fuv_stream_t *)bare, count_read, NULL),
                 FUV_ENOTCONN);
  FUV_ASSERT_OK(fuv_tcp_new_ex(&unconnected, loop, FUV_AF_INET));
  FUV_ASSERT_ERR(
      fuv_read_start((fuv_stream_t *)unconnected, count_read, NULL),
      FUV_ENOTCONN);
  listener = fuv_test_listener(loop, fuv_test_loopback[_i], &port,
                               count_connection, NULL);
  FUV_ASSERT_ERR(fuv_read_start((fuv_stream_t *)listener, count_read, NULL),
                 FUV_ENOTCONN);

  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &client, &server_side);
  FUV_ASSERT_ERR(fuv_read_start((fuv_stream_t *)client, NULL, NULL),
                 FUV_EINVAL);
  /* After EOF there is nothing more to read. */
  FUV_ASSERT_OK(fuv_shutdown((fuv_stream_t *)client, NULL, NULL));
  FUV_ASSERT_OK(fuv_read_start((fuv_stream_t *)server_side,
                               on_read_until_eof, &eofs));
  fuv_test_run_until(loop, &eofs, 1, TIMEOUT_MS);
  FUV_ASSERT_ERR(
      fuv_read_start((fuv_stream_t *)server_side, count_read, NULL),
      FUV_ENOTCONN);
  run_a_little(loop);
  ck_assert_int_eq(calls, 0);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(writes_on_an_unconnected_handle_fail) {
  const char *bufs[1] = {"x"};
  const size_t lens[1] = {1};
  fuv_loop_t *loop;
  fuv_tcp_t *bare, *unconnected;
  calls = 0;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  /* No socket at all. */
  FUV_ASSERT_OK(fuv_tcp_new(&bare, loop));
  fuv_stream_t *s = (fuv_stream_t *)bare;
  FUV_ASSERT_ERR(fuv_write(s, "x", 1, count_write, NULL), FUV_EBADF);
  FUV_ASSERT_ERR(fuv_writev(s, bufs, lens, 1, count_write, NULL), FUV_EBADF);
  FUV_ASSERT_ERR(fuv_try_write(s, "x", 1), FUV_EBADF);
  FUV_ASSERT_ERR(fuv_shutdown(s, count_shutdown, NULL), FUV_ENOTCONN);
  /* A socket that is not connected. */
  FUV_ASSERT_OK(fuv_tcp_new_ex(&unconnected, loop, FUV_AF_INET));
  s = (fuv_stream_t *)unconnected;
  FUV_ASSERT_ERR(fuv_write(s, "x", 1, count_write, NULL), FUV_ENOTCONN);
  FUV_ASSERT_ERR(fuv_writev(s, bufs, lens, 1, count_write, NULL),
                 FUV_ENOTCONN);
  FUV_ASSERT_ERR(fuv_try_write(s, "x", 1), FUV_ENOTCONN);
  FUV_ASSERT_ERR(fuv_shutdown(s, count_shutdown, NULL), FUV_ENOTCONN);
  ck_assert_uint_eq(fuv_write_queue_size(s), 0);
  run_a_little(loop);
  ck_assert_int_eq(calls, 0);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(write_arguments_and_writes_after_shutdown_are_rejected) {
  const char *null_bufs[1] = {NULL};
  const size_t lens[1] = {4};
  fuv_loop_t *loop;
  fuv_tcp_t *client, *server_side;
  calls = 0;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &client, &server_side);
  fuv_stream_t *s = (fuv_stream_t *)client;
  FUV_ASSERT_ERR(fuv_write(s, NULL, 4, count_write, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_writev(s, NULL, lens, 1, count_write, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_writev(s, null_bufs, lens, 1, count_write, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_try_write(s, NULL, 4), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_stream_set_water_marks(s, 10, 100, count_drain, NULL),
                 FUV_EINVAL);

  FUV_ASSERT_OK(fuv_shutdown(s, count_shutdown, NULL));
  FUV_ASSERT_ERR(fuv_write(s, "x", 1, count_write, NULL), FUV_EPIPE);
  FUV_ASSERT_ERR(fuv_try_write(s, "x", 1), FUV_EPIPE);
  fuv_test_run_until(loop, &calls, 1, TIMEOUT_MS); /* the shutdown callback only */
  FUV_ASSERT_ERR(fuv_write(s, "x", 1, count_write, NULL), FUV_EPIPE);
  run_a_little(loop);
  ck_assert_int_eq(calls, 1);
  fuv_test_free_loop(loop);
}
END_TEST

static void accept_and_keep(fuv_stream_t *server, int status, void *arg) {
  fuv_tcp_t *conn;
  (void)arg;
  FUV_ASSERT_OK(status);
  FUV_ASSERT_OK(fuv_accept(server, &conn));
}

START_TEST(connect_while_connecting_or_connected_fails) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop;
  fuv_tcp_t *client;
  int port, connected = 0;
  calls = 0;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_listener(loop, ip, &port, accept_and_keep, NULL);
  FUV_ASSERT_OK(fuv_tcp_new(&client, loop));
  FUV_ASSERT_OK(fuv_tcp_connect(client, ip, port, on_connect_ok, &connected));
  FUV_ASSERT_ERR(fuv_tcp_connect(client, ip, port, count_connect, NULL),
                 FUV_EALREADY);
  fuv_test_run_until(loop, &connected, 1, TIMEOUT_MS);
  FUV_ASSERT_ERR(fuv_tcp_connect(client, ip, port, count_connect, NULL),
                 FUV_EISCONN);
  FUV_ASSERT_ERR(fuv_listen((fuv_stream_t *)client, 16, count_connection,
                            NULL),
                 FUV_EISCONN);
  run_a_little(loop);
  ck_assert_int_eq(calls, 0);
  ck_assert_int_eq(connected, 1);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- malformed addresses and ports -------------------------------------- */

static const char *const bad_ips[FUV_TEST_NFAMILIES][8] = {
    {"256.0.0.1", "127.0.0", "127.0.0.1.1", "abc", "", " 127.0.0.1",
     "localhost", "127.0.0.1:80"},
    {"::1::", ":::1", "gggg::1", "1:2:3:4:5:6:7:8:9", "[::1]", "::1 ", "",
     "::ffff:1.2.3.256"}};

START_TEST(malformed_addresses_and_ports_fail_with_einval) {
  static const int bad_ports[] = {-1, 65536, INT_MIN, INT_MAX};
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop;
  fuv_tcp_t *tcp, *bound;
  struct sockaddr_un unix_addr;
  calls = 0;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_tcp_new(&tcp, loop));
  for (size_t k = 0; k < 8; k++) {
    const char *bad = bad_ips[_i][k];
    int r = fuv_tcp_bind(tcp, bad, 0, 0);
    ck_assert_msg(r == FUV_EINVAL, "bind to \"%s\" returned %s", bad,
                  fuv_err_name(r));
    r = fuv_tcp_connect(tcp, bad, 80, count_connect, NULL);
    ck_assert_msg(r == FUV_EINVAL, "connect to \"%s\" returned %s", bad,
                  fuv_err_name(r));
  }
  FUV_ASSERT_ERR(fuv_tcp_bind(tcp, NULL, 0, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_connect(tcp, NULL, 80, count_connect, NULL),
                 FUV_EINVAL);
  for (size_t k = 0; k < sizeof bad_ports / sizeof bad_ports[0]; k++) {
    FUV_ASSERT_ERR(fuv_tcp_bind(tcp, ip, bad_ports[k], 0), FUV_EINVAL);
    FUV_ASSERT_ERR(fuv_tcp_connect(tcp, ip, bad_ports[k], count_connect,
                                   NULL),
                   FUV_EINVAL);
  }
  FUV_ASSERT_ERR(fuv_tcp_connect(tcp, ip, 0, count_connect, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_bind_addr(tcp, NULL, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_connect_addr(tcp, NULL, count_connect, NULL),
                 FUV_EINVAL);
  memset(&unix_addr, 0, sizeof unix_addr);
  unix_addr.sun_family = AF_UNIX;
  FUV_ASSERT_ERR(fuv_tcp_bind_addr(tcp, (struct sockaddr *)&unix_addr, 0),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_connect_addr(tcp, (struct sockaddr *)&unix_addr,
                                      count_connect, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_bind(tcp, "127.0.0.1", 0, FUV_TCP_IPV6ONLY),
                 FUV_EINVAL);

  ck_assert_int_eq(fuv_is_closing((fuv_handle_t *)tcp), 0);
  ck_assert_int_eq(fuv_is_active((fuv_handle_t *)tcp), 0);

  /* A valid address binds, once. */
  FUV_ASSERT_OK(fuv_tcp_new(&bound, loop));
  FUV_ASSERT_OK(fuv_tcp_bind(bound, ip, 0, 0));
  FUV_ASSERT_ERR(fuv_tcp_bind(bound, ip, 0, 0), FUV_EINVAL);
  run_a_little(loop);
  ck_assert_int_eq(calls, 0);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(null_out_parameters_are_rejected) {
  fuv_loop_t *loop;
  fuv_tcp_t *client, *server_side;
  char name[FUV_IP_NAME_MAX];
  struct sockaddr_storage ss;
  int port, namelen = (int)sizeof ss;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &client, &server_side);
  ck_assert_int_lt(fuv_tcp_getsockname(client, NULL, sizeof name, &port), 0);
  ck_assert_int_lt(fuv_tcp_getsockname(client, name, sizeof name, NULL), 0);
  ck_assert_int_lt(fuv_tcp_getpeername(client, NULL, sizeof name, &port), 0);
  ck_assert_int_lt(fuv_tcp_getpeername(client, name, sizeof name, NULL), 0);
  ck_assert_int_lt(fuv_tcp_getsockname_addr(client, NULL, &namelen), 0);
  ck_assert_int_lt(
      fuv_tcp_getsockname_addr(client, (struct sockaddr *)&ss, NULL), 0);
  ck_assert_int_lt(fuv_tcp_getpeername_addr(client, NULL, &namelen), 0);
  ck_assert_int_lt(
      fuv_tcp_getpeername_addr(client, (struct sockaddr *)&ss, NULL), 0);
  fuv_test_free_loop(loop);
}
END_TEST

static Suite *tcp_misuse_suite(void) {
  Suite *suite = suite_create("tcp_misuse_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("misuse");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, null_handles_are_rejected_by_every_stream_and_tcp_call);
  tcase_add_test(tc,
                 other_handle_kinds_are_rejected_by_every_stream_and_tcp_call);
  tcase_add_loop_test(tc, calls_on_a_closing_handle_fail_with_einval, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_test(tc, listen_on_an_unbound_handle_fails_with_einval);
  tcase_add_loop_test(tc, accept_with_nothing_pending_fails_with_eagain, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, read_start_twice_fails_with_ealready, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(
      tc, read_start_needs_a_callback_and_a_readable_connected_stream, 0,
      FUV_TEST_NFAMILIES);
  tcase_add_test(tc, writes_on_an_unconnected_handle_fail);
  tcase_add_loop_test(tc,
                      write_arguments_and_writes_after_shutdown_are_rejected,
                      0, FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, connect_while_connecting_or_connected_fails, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, malformed_addresses_and_ports_fail_with_einval, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, null_out_parameters_are_rejected, 0,
                      FUV_TEST_NFAMILIES);
  suite_add_tcase(suite, tc);
  return suite;
}

FUV_TEST_MAIN(tcp_misuse_suite)
