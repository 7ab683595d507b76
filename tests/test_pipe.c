/* Pipe handles: names, echo over filesystem and abstract names, pipe(2)
 * ends, fd passing over IPC pipes, and requests on pipes. */
#include "fuv_test.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void path_for(char *buf, size_t size, const char *tag) {
  snprintf(buf, size, "/tmp/fuv_test_%s_%d.sock", tag, (int)getpid());
  unlink(buf);
}

/* Listens on name (namelen bytes), connects and accepts with the sync
 * calls, and echoes one message each way. */
static void echo_over(const char *name, size_t namelen) {
  fuv_loop_t *loop;
  fuv_pipe_t *server, *client;
  fuv_stream_t *conn;
  char buf[64], got[256];
  size_t len = 0;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_pipe_new(&server, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_bind2(server, name, namelen, 0));
  FUV_ASSERT_OK(fuv_listen((fuv_stream_t *)server, 8, NULL, NULL));
  FUV_ASSERT_OK(fuv_pipe_new(&client, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_connect2(client, name, namelen, 0, NULL, NULL));
  FUV_ASSERT_OK(fuv_stream_accept_sync((fuv_stream_t *)server, &conn, 1000));
  ck_assert_int_eq(fuv_handle_type((fuv_handle_t *)conn), FUV_PIPE);
  FUV_ASSERT_OK(fuv_pipe_getsockname(server, got, sizeof got, &len));
  ck_assert_uint_eq(len, namelen);
  ck_assert(memcmp(got, name, namelen) == 0);
  fuv_test_run(loop, 1000); /* the connect's callback-less completion */
  FUV_ASSERT_OK(fuv_send((fuv_stream_t *)client, "ping", 4, 1000));
  ck_assert_int_eq(fuv_recv(conn, buf, sizeof buf, 1000), 4);
  FUV_ASSERT_OK(fuv_send(conn, buf, 4, 1000));
  ck_assert_int_eq(fuv_recv((fuv_stream_t *)client, buf, sizeof buf, 1000), 4);
  ck_assert(memcmp(buf, "ping", 4) == 0);
  FUV_ASSERT_OK(fuv_pipe_getpeername(client, got, sizeof got, &len));
  ck_assert_uint_eq(len, namelen);
  /* Too small: the size needed, nothing truncated. */
  FUV_ASSERT_ERR(fuv_pipe_getpeername(client, got, 2, &len), FUV_ENOBUFS);
  ck_assert_uint_ge(len, namelen);
  fuv_test_free_loop(loop);
}

START_TEST(echo_over_a_filesystem_name) {
  char path[128];
  path_for(path, sizeof path, "echo");
  echo_over(path, strlen(path));
  /* Closing the server removed its name. */
  ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

START_TEST(echo_over_an_abstract_name) {
  char name[64];
  int n = snprintf(name, sizeof name, "%cfuv_test_abstract_%d", 0,
                   (int)getpid());
  echo_over(name, (size_t)n);
}
END_TEST

START_TEST(bind_errors) {
  fuv_loop_t *loop;
  fuv_pipe_t *a, *b;
  char path[128], longname[200];
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_pipe_new(&a, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_new(&b, loop, 0));
  path_for(path, sizeof path, "bind");
  memset(longname, 'x', sizeof longname - 1);
  longname[0] = '/';
  longname[sizeof longname - 1] = '\0';
  FUV_ASSERT_ERR(fuv_pipe_bind(a, longname), FUV_ENAMETOOLONG);
  FUV_ASSERT_ERR(fuv_pipe_bind2(a, "", 0, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_pipe_bind2(a, "a\0b", 3, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_pipe_bind2(a, path, strlen(path), 1), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_pipe_chmod(a, FUV_READABLE), FUV_EINVAL);
  FUV_ASSERT_OK(fuv_pipe_bind(a, path));
  FUV_ASSERT_ERR(fuv_pipe_bind(b, path), FUV_EADDRINUSE);
  FUV_ASSERT_ERR(fuv_pipe_chmod(a, 4), FUV_EINVAL);
  FUV_ASSERT_OK(fuv_pipe_chmod(a, FUV_READABLE | FUV_WRITABLE));
  FUV_ASSERT_ERR(fuv_pipe_connect_sync(b, "/nonexistent/fuv", 100),
                 FUV_ENOENT);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(pipe2_end_without_reader_is_epipe_not_sigpipe) {
  fuv_loop_t *loop;
  fuv_pipe_t *w, *r;
  int rfd, wfd;
  char buf[8];
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_pipe(&rfd, &wfd, 0, 0));
  FUV_ASSERT_OK(fuv_pipe_new(&w, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_new(&r, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_open(w, wfd));
  FUV_ASSERT_OK(fuv_pipe_open(r, rfd));
  FUV_ASSERT_ERR(fuv_pipe_open(r, rfd), FUV_EBUSY);
  ck_assert_int_eq(fuv_try_write((fuv_stream_t *)w, "abc", 3), 3);
  ck_assert_int_eq(fuv_recv((fuv_stream_t *)r, buf, sizeof buf, 1000), 3);
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)r, NULL, NULL));
  fuv_test_run(loop, 1000);
  /* SIGPIPE keeps its default action: raising it would kill the test. */
  signal(SIGPIPE, SIG_DFL);
  FUV_ASSERT_ERR(fuv_try_write((fuv_stream_t *)w, "abc", 3), FUV_EPIPE);
  fuv_test_free_loop(loop);
}
END_TEST

typedef struct {
  int writes, statuses[4];
} write_log_t;

static void log_write(fuv_stream_t *s, int status, void *arg) {
  write_log_t *log = arg;
  (void)s;
  log->statuses[log->writes++] = status;
}

typedef struct {
  int reads, pending;
  fuv_handle_type_t type;
  fuv_stream_t *got;
} recv_state_t;

static void take_handle(fuv_stream_t *s, ssize_t nread, const char *buf,
                        void *arg) {
  recv_state_t *st = arg;
  (void)buf;
  if (nread <= 0)
    return;
  st->reads++;
  st->pending = fuv_pipe_pending_count((fuv_pipe_t *)s);
  st->type = fuv_pipe_pending_type((fuv_pipe_t *)s);
  FUV_ASSERT_OK(fuv_stream_accept(s, &st->got));
  fuv_read_stop(s);
}

/* A TCP connection goes over an IPC socketpair; the receiving end accepts
 * it and it still talks to the same peer. */
START_TEST(write2_passes_a_tcp_connection) {
  fuv_loop_t *loop;
  fuv_pipe_t *tx, *rx;
  fuv_tcp_t *client, *server_side;
  fuv_stream_t *got;
  int fd0, fd1;
  char buf[8];
  write_log_t log = {0, {0}};
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, "127.0.0.1", &client, &server_side);
  FUV_ASSERT_OK(fuv_socketpair(SOCK_STREAM, 0, &fd0, &fd1, 0, 0));
  FUV_ASSERT_OK(fuv_pipe_new(&tx, loop, 1));
  FUV_ASSERT_OK(fuv_pipe_new(&rx, loop, 1));
  FUV_ASSERT_OK(fuv_pipe_open(tx, fd0));
  FUV_ASSERT_OK(fuv_pipe_open(rx, fd1));
  FUV_ASSERT_ERR(fuv_write2((fuv_stream_t *)tx, "h", 0,
                            (fuv_stream_t *)server_side, NULL, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_OK(fuv_write2((fuv_stream_t *)tx, "h", 1,
                           (fuv_stream_t *)server_side, log_write, &log));
  /* The duplicate travels: the original may go at once. */
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)server_side, NULL, NULL));
  fuv_test_run_until(loop, &log.writes, 1, 2000);
  FUV_ASSERT_OK(log.statuses[0]);
  ck_assert_int_eq(fuv_pipe_pending_count(rx), 0);
  /* Reading takes the byte and, with it, the connection. */
  {
    recv_state_t st = {0, 0, FUV_UNKNOWN_HANDLE, NULL};
    FUV_ASSERT_OK(fuv_read_start((fuv_stream_t *)rx, take_handle, &st));
    fuv_test_run_until(loop, &st.reads, 1, 2000);
    ck_assert_int_eq(st.pending, 1);
    ck_assert_int_eq(st.type, FUV_TCP);
    ck_assert_ptr_nonnull(st.got);
    got = st.got;
  }
  ck_assert_int_eq(fuv_pipe_pending_count(rx), 0);
  FUV_ASSERT_OK(fuv_send(got, "pong", 4, 1000));
  ck_assert_int_eq(fuv_recv((fuv_stream_t *)client, buf, sizeof buf, 1000), 4);
  ck_assert(memcmp(buf, "pong", 4) == 0);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(cancel_a_queued_write_and_release_after_the_loop) {
  fuv_loop_t *loop;
  fuv_pipe_t *a;
  fuv_req_t *req1, *req2, *req3;
  int fd0, fd1;
  write_log_t log = {0, {0}};
  static char big[1 << 20];
  char buf[4096];
  size_t total = 0, want;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_socketpair(SOCK_STREAM, 0, &fd0, &fd1, 0, 0));
  FUV_ASSERT_OK(fuv_pipe_new(&a, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_open(a, fd0));
  memset(big, 'a', sizeof big);
  /* The first fills the socket, so the next two stay queued whole. */
  FUV_ASSERT_OK(fuv_write_req((fuv_stream_t *)a, big, sizeof big, log_write,
                              &log, &req1));
  FUV_ASSERT_OK(fuv_write_req((fuv_stream_t *)a, "BBBB", 4, log_write, &log,
                              &req2));
  FUV_ASSERT_OK(fuv_write_req((fuv_stream_t *)a, "c", 1, log_write, &log,
                              &req3));
  ck_assert_int_eq(fuv_req_type(req2), FUV_WRITE);
  ck_assert_str_eq(fuv_req_type_name(fuv_req_type(req2)), "write");
  FUV_ASSERT_OK(fuv_cancel(req2));
  FUV_ASSERT_ERR(fuv_cancel(req2), FUV_EBUSY);
  fuv_req_release(req3); /* before it completes: it still does */
  want = sizeof big + 1;
  while (total < want) {
    ssize_t n = read(fd1, buf, sizeof buf);
    if (n <= 0) {
      fuv_run(loop, FUV_RUN_NOWAIT);
      continue;
    }
    for (ssize_t i = 0; i < n; i++)
      ck_assert_int_eq(buf[i], total + (size_t)i < sizeof big ? 'a' : 'c');
    total += (size_t)n;
    fuv_run(loop, FUV_RUN_NOWAIT);
  }
  fuv_test_run_until(loop, &log.writes, 3, 2000);
  ck_assert_int_eq(log.statuses[0], FUV_ECANCELED); /* reported first */
  FUV_ASSERT_OK(log.statuses[1]);
  FUV_ASSERT_OK(log.statuses[2]);
  FUV_ASSERT_ERR(fuv_cancel(req1), FUV_EBUSY);
  fuv_test_free_loop(loop);
  close(fd1);
  fuv_req_release(req1); /* after the loop is gone */
  fuv_req_release(req2);
}
END_TEST

static void log_shutdown(fuv_stream_t *s, int status, void *arg) {
  write_log_t *log = arg;
  (void)s;
  log->statuses[log->writes++] = status;
}

START_TEST(cancel_a_waiting_shutdown) {
  fuv_loop_t *loop;
  fuv_pipe_t *a;
  fuv_req_t *req;
  int fd0, fd1;
  static char big[1 << 20];
  write_log_t log = {0, {0}};
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_socketpair(SOCK_STREAM, 0, &fd0, &fd1, 0, 0));
  FUV_ASSERT_OK(fuv_pipe_new(&a, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_open(a, fd0));
  FUV_ASSERT_OK(fuv_write((fuv_stream_t *)a, big, sizeof big, NULL, NULL));
  ck_assert_uint_gt(fuv_write_queue_size((fuv_stream_t *)a), 0);
  FUV_ASSERT_OK(fuv_shutdown_req((fuv_stream_t *)a, log_shutdown, &log, &req));
  ck_assert_int_eq(fuv_is_writable((fuv_stream_t *)a), 0);
  FUV_ASSERT_OK(fuv_cancel(req));
  ck_assert_int_eq(log.writes, 0); /* never inside the call */
  ck_assert_int_eq(fuv_is_writable((fuv_stream_t *)a), 1);
  fuv_test_run_until(loop, &log.writes, 1, 2000);
  ck_assert_int_eq(log.statuses[0], FUV_ECANCELED);
  FUV_ASSERT_ERR(fuv_cancel(req), FUV_EBUSY);
  fuv_req_release(req);
  fuv_test_free_loop(loop);
  close(fd1);
}
END_TEST

typedef struct {
  fuv_stream_t *tcp, *busy, *into;
  int calls, wrong_kind, in_use, ok;
} into_state_t;

static void accept_into_cb(fuv_stream_t *server, int status, void *arg) {
  into_state_t *st = arg;
  FUV_ASSERT_OK(status);
  st->wrong_kind = fuv_stream_accept_into(server, st->tcp);
  st->in_use = fuv_stream_accept_into(server, st->busy);
  st->ok = fuv_stream_accept_into(server, st->into);
  st->calls++;
}

START_TEST(accept_into_checks_the_client) {
  fuv_loop_t *loop;
  fuv_pipe_t *server, *client, *into, *busy;
  fuv_tcp_t *tcp;
  char path[128];
  int fd0, fd1;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  path_for(path, sizeof path, "into");
  FUV_ASSERT_OK(fuv_pipe_new(&server, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_bind(server, path));
  FUV_ASSERT_OK(fuv_listen((fuv_stream_t *)server, 8, NULL, NULL));
  FUV_ASSERT_OK(fuv_pipe_new(&client, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_connect_sync(client, path, 1000));
  /* The sync accept is the loop-free path; fuv_accept is TCP-only. */
  FUV_ASSERT_ERR(fuv_accept((fuv_stream_t *)server, &tcp), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_accept_sync((fuv_stream_t *)server, &tcp, 0), FUV_EINVAL);
  FUV_ASSERT_OK(fuv_tcp_new(&tcp, loop));
  FUV_ASSERT_OK(fuv_pipe_new(&into, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_new(&busy, loop, 0));
  FUV_ASSERT_OK(fuv_socketpair(SOCK_STREAM, 0, &fd0, &fd1, 0, 0));
  FUV_ASSERT_OK(fuv_pipe_open(busy, fd0));
  close(fd1);
  FUV_ASSERT_ERR(fuv_stream_accept_into((fuv_stream_t *)server,
                                        (fuv_stream_t *)into), FUV_EAGAIN);
  {
    into_state_t st = {(fuv_stream_t *)tcp, (fuv_stream_t *)busy,
                       (fuv_stream_t *)into, 0, 0, 0, 1};
    char buf[4];
    FUV_ASSERT_OK(fuv_listen((fuv_stream_t *)server, 8, accept_into_cb, &st));
    fuv_test_run_until(loop, &st.calls, 1, 2000);
    FUV_ASSERT_ERR(st.wrong_kind, FUV_EINVAL);
    FUV_ASSERT_ERR(st.in_use, FUV_EBUSY);
    FUV_ASSERT_OK(st.ok);
    FUV_ASSERT_OK(fuv_send((fuv_stream_t *)into, "ok", 2, 1000));
    ck_assert_int_eq(fuv_recv((fuv_stream_t *)client, buf, sizeof buf, 1000),
                     2);
  }
  fuv_test_free_loop(loop);
}
END_TEST

static Suite *pipe_suite(void) {
  Suite *s = suite_create("pipe_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("pipe");
  tcase_add_test(tc, echo_over_a_filesystem_name);
  tcase_add_test(tc, echo_over_an_abstract_name);
  tcase_add_test(tc, bind_errors);
  tcase_add_test(tc, pipe2_end_without_reader_is_epipe_not_sigpipe);
  tcase_add_test(tc, write2_passes_a_tcp_connection);
  tcase_add_test(tc, cancel_a_queued_write_and_release_after_the_loop);
  tcase_add_test(tc, cancel_a_waiting_shutdown);
  tcase_add_test(tc, accept_into_checks_the_client);
  suite_add_tcase(s, tc);
  return s;
}

FUV_TEST_MAIN(pipe_suite)
