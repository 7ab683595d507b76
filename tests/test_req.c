/* Request objects: their types and names, every moment a reference can be
 * given back, fuv_cancel's answers for writes and shutdowns in each state,
 * and the *_req calls with a NULL req. */
#include "fuv_test.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
  int calls, statuses[16];
} log_t;

static void log_write(fuv_stream_t *s, int status, void *arg) {
  log_t *log = arg;
  (void)s;
  log->statuses[log->calls++] = status;
}

static void log_shutdown(fuv_stream_t *s, int status, void *arg) {
  log_t *log = arg;
  (void)s;
  log->statuses[log->calls++] = status;
}

static void log_connect(fuv_tcp_t *t, int status, void *arg) {
  log_t *log = arg;
  (void)t;
  log->statuses[log->calls++] = status;
}

static void log_pipe_connect(fuv_pipe_t *p, int status, void *arg) {
  log_t *log = arg;
  (void)p;
  log->statuses[log->calls++] = status;
}

/* A pipe over a socketpair: the handle on fd0, the raw peer fd1
 * (non-blocking), for tests that need a peer that does not read. */
static fuv_pipe_t *pipe_pair(fuv_loop_t *loop, int *peer) {
  fuv_pipe_t *p;
  int fd0;
  FUV_ASSERT_OK(fuv_socketpair(SOCK_STREAM, 0, &fd0, peer, 0,
                               FUV_NONBLOCK_PIPE));
  FUV_ASSERT_OK(fuv_pipe_new(&p, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_open(p, fd0));
  return p;
}

/* Reads want bytes from the non-blocking fd, running the loop between
 * reads, into out. */
static void drain_into(fuv_loop_t *loop, int fd, char *out, size_t want) {
  size_t total = 0;
  uint64_t start = fuv_hrtime();
  while (total < want) {
    ssize_t n = read(fd, out + total, want - total);
    if (n == 0)
      ck_abort_msg("EOF after %zu of %zu bytes", total, want);
    if (n < 0) {
      ck_assert_int_eq(errno, EAGAIN);
      fuv_run(loop, FUV_RUN_NOWAIT);
      ck_assert_msg(fuv_hrtime() - start < 30000000000ull, "drain stalled");
      continue;
    }
    total += (size_t)n;
    fuv_run(loop, FUV_RUN_NOWAIT);
  }
}

START_TEST(types_and_names) {
  fuv_loop_t *loop;
  fuv_tcp_t *server, *client, *a, *b;
  fuv_req_t *w, *sh, *c;
  log_t log = {0, {0}};
  int port;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, "127.0.0.1", &a, &b);
  FUV_ASSERT_OK(fuv_write_req((fuv_stream_t *)a, "x", 1, log_write, &log,
                              &w));
  FUV_ASSERT_OK(fuv_shutdown_req((fuv_stream_t *)a, log_shutdown, &log, &sh));
  server = fuv_test_listener(loop, "127.0.0.1", &port, NULL, NULL);
  FUV_ASSERT_OK(fuv_tcp_new(&client, loop));
  FUV_ASSERT_OK(fuv_tcp_connect_req(client, "127.0.0.1", port, log_connect,
                                    &log, &c));
  ck_assert_int_eq(fuv_req_type(w), FUV_WRITE);
  ck_assert_int_eq(fuv_req_type(sh), FUV_SHUTDOWN);
  ck_assert_int_eq(fuv_req_type(c), FUV_CONNECT);
  ck_assert_str_eq(fuv_req_type_name(fuv_req_type(w)), "write");
  ck_assert_str_eq(fuv_req_type_name(fuv_req_type(sh)), "shutdown");
  ck_assert_str_eq(fuv_req_type_name(fuv_req_type(c)), "connect");
  ck_assert_int_eq(fuv_req_type(NULL), FUV_UNKNOWN_REQ);
  ck_assert_str_eq(fuv_req_type_name(FUV_UNKNOWN_REQ), "unknown");
  ck_assert_str_eq(fuv_req_type_name(FUV_REQ_TYPE_MAX), "unknown");
  ck_assert_str_eq(fuv_req_type_name((fuv_req_type_t)-1), "unknown");
  fuv_test_run_until(loop, &log.calls, 3, 2000);
  (void)server;
  /* The types stay after completion. */
  ck_assert_int_eq(fuv_req_type(w), FUV_WRITE);
  ck_assert_int_eq(fuv_req_type(sh), FUV_SHUTDOWN);
  ck_assert_int_eq(fuv_req_type(c), FUV_CONNECT);
  fuv_req_release(w);
  fuv_req_release(sh);
  fuv_req_release(c);
  fuv_req_release(NULL); /* ignored */
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(release_before_completion_still_calls_back) {
  fuv_loop_t *loop;
  fuv_tcp_t *a, *b;
  fuv_req_t *w, *sh;
  log_t log = {0, {0}};
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, "127.0.0.1", &a, &b);
  FUV_ASSERT_OK(fuv_write_req((fuv_stream_t *)a, "x", 1, log_write, &log,
                              &w));
  FUV_ASSERT_OK(fuv_shutdown_req((fuv_stream_t *)a, log_shutdown, &log, &sh));
  fuv_req_release(w);
  fuv_req_release(sh);
  ck_assert_int_eq(log.calls, 0);
  fuv_test_run_until(loop, &log.calls, 2, 2000);
  FUV_ASSERT_OK(log.statuses[0]);
  FUV_ASSERT_OK(log.statuses[1]);
  {
    char buf[4];
    ck_assert_int_eq(fuv_recv((fuv_stream_t *)b, buf, sizeof buf, 2000), 1);
    ck_assert_int_eq(fuv_recv((fuv_stream_t *)b, buf, sizeof buf, 2000), 0);
  }
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(release_after_completion_after_close_and_after_loop_free) {
  fuv_loop_t *loop;
  fuv_tcp_t *a, *b;
  fuv_req_t *done, *closed, *late;
  log_t log = {0, {0}};
  int closes = 0;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, "127.0.0.1", &a, &b);
  FUV_ASSERT_OK(fuv_write_req((fuv_stream_t *)a, "x", 1, log_write, &log,
                              &done));
  fuv_test_run_until(loop, &log.calls, 1, 2000);
  FUV_ASSERT_OK(log.statuses[0]);
  /* Completed: still valid, no longer cancellable. */
  ck_assert_int_eq(fuv_req_type(done), FUV_WRITE);
  FUV_ASSERT_ERR(fuv_cancel(done), FUV_EBUSY);
  FUV_ASSERT_ERR(fuv_cancel(done), FUV_EBUSY);
  fuv_req_release(done);

  FUV_ASSERT_OK(fuv_write_req((fuv_stream_t *)a, "y", 1, log_write, &log,
                              &closed));
  FUV_ASSERT_OK(fuv_shutdown_req((fuv_stream_t *)a, log_shutdown, &log,
                                 &late));
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)a, fuv_test_count_close, &closes));
  fuv_test_run_until(loop, &closes, 1, 2000);
  ck_assert_int_eq(log.calls, 3);
  /* The handle is freed; its requests are not. */
  ck_assert_int_eq(fuv_req_type(closed), FUV_WRITE);
  ck_assert_int_eq(fuv_req_type(late), FUV_SHUTDOWN);
  FUV_ASSERT_ERR(fuv_cancel(closed), FUV_EBUSY);
  fuv_req_release(closed);
  fuv_test_free_loop(loop);
  /* The loop is freed too. */
  ck_assert_int_eq(fuv_req_type(late), FUV_SHUTDOWN);
  FUV_ASSERT_ERR(fuv_cancel(late), FUV_EBUSY);
  fuv_req_release(late);
}
END_TEST

START_TEST(cancel_null_is_einval) {
  FUV_ASSERT_ERR(fuv_cancel(NULL), FUV_EINVAL);
}
END_TEST

START_TEST(cancel_of_a_partly_sent_write_is_ebusy) {
  fuv_loop_t *loop;
  fuv_pipe_t *p;
  fuv_req_t *req;
  int peer;
  static char big[4 << 20], got[4 << 20];
  log_t log = {0, {0}};
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  p = pipe_pair(loop, &peer);
  fuv_test_fill_pattern(big, sizeof big, 0);
  FUV_ASSERT_OK(fuv_write_req((fuv_stream_t *)p, big, sizeof big, log_write,
                              &log, &req));
  /* Part of it went at once (the socket takes some), the rest is queued. */
  ck_assert_uint_gt(fuv_write_queue_size((fuv_stream_t *)p), 0);
  ck_assert_uint_lt(fuv_write_queue_size((fuv_stream_t *)p), sizeof big);
  FUV_ASSERT_ERR(fuv_cancel(req), FUV_EBUSY);
  FUV_ASSERT_ERR(fuv_cancel(req), FUV_EBUSY);
  drain_into(loop, peer, got, sizeof got);
  ck_assert(memcmp(got, big, sizeof big) == 0);
  fuv_test_run_until(loop, &log.calls, 1, 2000);
  FUV_ASSERT_OK(log.statuses[0]);
  fuv_req_release(req);
  fuv_test_free_loop(loop);
  close(peer);
}
END_TEST

/* Behind a write that fills the socket, eight queued writes; every other
 * one is cancelled and the peer gets the rest, in order, nothing else. */
START_TEST(cancelled_queued_writes_leave_the_others_in_order) {
  fuv_loop_t *loop;
  fuv_pipe_t *p;
  fuv_req_t *first, *reqs[8];
  int peer, i;
  static char big[1 << 20], got[(1 << 20) + 8 * 100];
  char chunks[8][100];
  log_t log = {0, {0}};
  size_t want = sizeof big;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  p = pipe_pair(loop, &peer);
  fuv_test_fill_pattern(big, sizeof big, 0);
  FUV_ASSERT_OK(fuv_write_req((fuv_stream_t *)p, big, sizeof big, log_write,
                              &log, &first));
  ck_assert_uint_gt(fuv_write_queue_size((fuv_stream_t *)p), 0);
  for (i = 0; i < 8; i++) {
    fuv_test_fill_pattern(chunks[i], sizeof chunks[i], (uint64_t)(i + 1) << 32);
    FUV_ASSERT_OK(fuv_write_req((fuv_stream_t *)p, chunks[i],
                                sizeof chunks[i], log_write, &log, &reqs[i]));
  }
  for (i = 1; i < 8; i += 2)
    FUV_ASSERT_OK(fuv_cancel(reqs[i]));
  for (i = 1; i < 8; i += 2)
    FUV_ASSERT_ERR(fuv_cancel(reqs[i]), FUV_EBUSY);
  ck_assert_int_eq(log.calls, 0);
  want += 4 * sizeof chunks[0];
  drain_into(loop, peer, got, want);
  ck_assert(memcmp(got, big, sizeof big) == 0);
  for (i = 0; i < 4; i++)
    ck_assert_msg(memcmp(got + sizeof big + (size_t)i * sizeof chunks[0],
                         chunks[2 * i], sizeof chunks[0]) == 0,
                  "chunk %d out of place", 2 * i);
  fuv_test_run_until(loop, &log.calls, 9, 2000);
  {
    /* Nothing more arrives. */
    char extra;
    FUV_ASSERT_OK(fuv_close((fuv_handle_t *)p, NULL, NULL));
    fuv_test_run(loop, 2000);
    ck_assert_int_eq(read(peer, &extra, 1), 0);
  }
  /* The cancelled ones were reported (ECANCELED), the others succeeded. */
  {
    int cancelled = 0, ok = 0;
    for (i = 0; i < 9; i++) {
      if (log.statuses[i] == FUV_ECANCELED)
        cancelled++;
      else if (log.statuses[i] == 0)
        ok++;
    }
    ck_assert_int_eq(cancelled, 4);
    ck_assert_int_eq(ok, 5);
  }
  FUV_ASSERT_ERR(fuv_cancel(reqs[0]), FUV_EBUSY);
  fuv_req_release(first);
  for (i = 0; i < 8; i++)
    fuv_req_release(reqs[i]);
  fuv_test_free_loop(loop);
  close(peer);
}
END_TEST

/* A shutdown waiting behind queued writes is withdrawn: the stream can
 * write again, and a second shutdown then ends the stream after all the
 * data. */
START_TEST(cancelled_shutdown_then_a_later_shutdown_works) {
  fuv_loop_t *loop;
  fuv_pipe_t *p;
  fuv_req_t *sh;
  int peer;
  static char big[1 << 20], got[(1 << 20) + 4];
  log_t log = {0, {0}}, later = {0, {0}};
  char end;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  p = pipe_pair(loop, &peer);
  fuv_test_fill_pattern(big, sizeof big, 0);
  FUV_ASSERT_OK(fuv_write((fuv_stream_t *)p, big, sizeof big, NULL, NULL));
  ck_assert_uint_gt(fuv_write_queue_size((fuv_stream_t *)p), 0);
  FUV_ASSERT_OK(fuv_shutdown_req((fuv_stream_t *)p, log_shutdown, &log, &sh));
  FUV_ASSERT_ERR(fuv_write((fuv_stream_t *)p, "z", 1, NULL, NULL), FUV_EPIPE);
  FUV_ASSERT_OK(fuv_cancel(sh));
  FUV_ASSERT_ERR(fuv_cancel(sh), FUV_EBUSY);
  ck_assert_int_eq(fuv_is_writable((fuv_stream_t *)p), 1);
  FUV_ASSERT_OK(fuv_write((fuv_stream_t *)p, "tail", 4, NULL, NULL));
  /* The withdrawn one reports first; then the stream can shut down. */
  fuv_test_run_until(loop, &log.calls, 1, 2000);
  ck_assert_uint_gt(fuv_write_queue_size((fuv_stream_t *)p), 0);
  FUV_ASSERT_OK(fuv_shutdown((fuv_stream_t *)p, log_shutdown, &later));
  drain_into(loop, peer, got, sizeof got);
  ck_assert(memcmp(got, big, sizeof big) == 0);
  ck_assert(memcmp(got + sizeof big, "tail", 4) == 0);
  fuv_test_run_until(loop, &later.calls, 1, 2000);
  FUV_ASSERT_OK(later.statuses[0]);
  ck_assert_int_eq(log.calls, 1);
  ck_assert_int_eq(log.statuses[0], FUV_ECANCELED);
  ck_assert_int_eq(read(peer, &end, 1), 0); /* EOF from the second one */
  fuv_req_release(sh);
  fuv_test_free_loop(loop);
  close(peer);
}
END_TEST

START_TEST(req_calls_with_a_null_req_are_the_plain_calls) {
  fuv_loop_t *loop;
  fuv_tcp_t *a, *b, *server, *client;
  fuv_pipe_t *tx, *rx, *pserver, *pclient;
  log_t log = {0, {0}};
  const char *bufs[2] = {"ab", "cd"};
  size_t lens[2] = {2, 2};
  char buf[16], path[128];
  int port, fd0, fd1;
  size_t got = 0;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, "127.0.0.1", &a, &b);
  FUV_ASSERT_OK(fuv_write_req((fuv_stream_t *)a, "xy", 2, log_write, &log,
                              NULL));
  FUV_ASSERT_OK(fuv_writev_req((fuv_stream_t *)a, bufs, lens, 2, log_write,
                               &log, NULL));
  FUV_ASSERT_OK(fuv_shutdown_req((fuv_stream_t *)a, log_shutdown, &log,
                                 NULL));
  /* The failures are the plain calls' too. */
  FUV_ASSERT_ERR(fuv_write_req((fuv_stream_t *)a, "q", 1, NULL, NULL, NULL),
                 FUV_EPIPE);
  FUV_ASSERT_ERR(fuv_shutdown_req((fuv_stream_t *)a, NULL, NULL, NULL),
                 FUV_ENOTCONN);
  fuv_test_run_until(loop, &log.calls, 3, 2000);
  FUV_ASSERT_OK(log.statuses[0]);
  FUV_ASSERT_OK(log.statuses[1]);
  FUV_ASSERT_OK(log.statuses[2]);
  while (got < 6) {
    int n = fuv_recv((fuv_stream_t *)b, buf + got, sizeof buf - got, 2000);
    ck_assert_int_gt(n, 0);
    got += (size_t)n;
  }
  ck_assert(memcmp(buf, "xyabcd", 6) == 0);
  ck_assert_int_eq(fuv_recv((fuv_stream_t *)b, buf, sizeof buf, 2000), 0);

  /* write2_req over an IPC pair. */
  FUV_ASSERT_OK(fuv_socketpair(SOCK_STREAM, 0, &fd0, &fd1, 0, 0));
  FUV_ASSERT_OK(fuv_pipe_new(&tx, loop, 1));
  FUV_ASSERT_OK(fuv_pipe_new(&rx, loop, 1));
  FUV_ASSERT_OK(fuv_pipe_open(tx, fd0));
  FUV_ASSERT_OK(fuv_pipe_open(rx, fd1));
  FUV_ASSERT_OK(fuv_write2_req((fuv_stream_t *)tx, "h", 1, (fuv_stream_t *)b,
                               log_write, &log, NULL));
  FUV_ASSERT_ERR(fuv_write2_req((fuv_stream_t *)tx, "h", 0,
                                (fuv_stream_t *)b, NULL, NULL, NULL),
                 FUV_EINVAL);
  fuv_test_run_until(loop, &log.calls, 4, 2000);
  FUV_ASSERT_OK(log.statuses[3]);

  /* Connects. */
  server = fuv_test_listener(loop, "127.0.0.1", &port, NULL, NULL);
  FUV_ASSERT_OK(fuv_tcp_new(&client, loop));
  FUV_ASSERT_OK(fuv_tcp_connect_req(client, "127.0.0.1", port, log_connect,
                                    &log, NULL));
  FUV_ASSERT_ERR(fuv_tcp_connect_req(client, "127.0.0.1", port, NULL, NULL,
                                     NULL), FUV_EALREADY);
  snprintf(path, sizeof path, "/tmp/fuv_test_req_%d.sock", (int)getpid());
  unlink(path);
  FUV_ASSERT_OK(fuv_pipe_new(&pserver, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_bind(pserver, path));
  FUV_ASSERT_OK(fuv_listen((fuv_stream_t *)pserver, 8, NULL, NULL));
  FUV_ASSERT_OK(fuv_pipe_new(&pclient, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_connect_req(pclient, path, log_pipe_connect, &log,
                                     NULL));
  fuv_test_run_until(loop, &log.calls, 6, 2000);
  FUV_ASSERT_OK(log.statuses[4]);
  FUV_ASSERT_OK(log.statuses[5]);
  (void)server;
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(failed_req_calls_set_req_null) {
  fuv_loop_t *loop;
  fuv_tcp_t *t;
  fuv_req_t *req = (fuv_req_t *)&req;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_tcp_new(&t, loop));
  FUV_ASSERT_ERR(fuv_shutdown_req((fuv_stream_t *)t, NULL, NULL, &req),
                 FUV_ENOTCONN);
  ck_assert_ptr_null(req);
  req = (fuv_req_t *)&req;
  FUV_ASSERT_ERR(fuv_tcp_connect_req(t, "127.0.0.1", 0, NULL, NULL, &req),
                 FUV_EINVAL);
  ck_assert_ptr_null(req);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(shutdown_after_close_reset_is_enotconn) {
  fuv_loop_t *loop;
  fuv_tcp_t *a, *b;
  fuv_req_t *req = (fuv_req_t *)&req;
  int closes = 0;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, "127.0.0.1", &a, &b);
  FUV_ASSERT_OK(fuv_tcp_close_reset(a, fuv_test_count_close, &closes));
  FUV_ASSERT_ERR(fuv_shutdown((fuv_stream_t *)a, NULL, NULL), FUV_ENOTCONN);
  FUV_ASSERT_ERR(fuv_shutdown_req((fuv_stream_t *)a, NULL, NULL, &req),
                 FUV_ENOTCONN);
  ck_assert_ptr_null(req);
  fuv_test_run_until(loop, &closes, 1, 2000);
  {
    char buf[4];
    FUV_ASSERT_ERR(fuv_recv((fuv_stream_t *)b, buf, sizeof buf, 2000),
                   FUV_ECONNRESET);
  }
  fuv_test_free_loop(loop);
}
END_TEST

static Suite *req_suite(void) {
  Suite *s = suite_create("req_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("req");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, types_and_names);
  tcase_add_test(tc, release_before_completion_still_calls_back);
  tcase_add_test(tc, release_after_completion_after_close_and_after_loop_free);
  tcase_add_test(tc, cancel_null_is_einval);
  tcase_add_test(tc, cancel_of_a_partly_sent_write_is_ebusy);
  tcase_add_test(tc, cancelled_queued_writes_leave_the_others_in_order);
  tcase_add_test(tc, cancelled_shutdown_then_a_later_shutdown_works);
  tcase_add_test(tc, req_calls_with_a_null_req_are_the_plain_calls);
  tcase_add_test(tc, failed_req_calls_set_req_null);
  tcase_add_test(tc, shutdown_after_close_reset_is_enotconn);
  suite_add_tcase(s, tc);
  return s;
}

FUV_TEST_MAIN(req_suite)
