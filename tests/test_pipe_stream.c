/* Pipes as streams: accepting with a callback, backpressure, the sync
 * calls with timeouts, opening socketpair and pipe(2) ends, and the small
 * contracts of the pipe calls (unbound names, EBUSY, flags, long names). */
#include "fuv_test.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void path_for(char *buf, size_t size, const char *tag) {
  snprintf(buf, size, "/tmp/fuv_test_ps_%s_%d.sock", tag, (int)getpid());
  unlink(buf);
}

typedef struct {
  fuv_pipe_t *into;
  int calls, status, accepted;
} accept_state_t;

static void on_connection(fuv_stream_t *server, int status, void *arg) {
  accept_state_t *st = arg;
  st->calls++;
  st->status = status;
  st->accepted = fuv_stream_accept_into(server, (fuv_stream_t *)st->into);
}

START_TEST(listen_with_a_callback_accepts_into_a_fresh_pipe) {
  fuv_loop_t *loop;
  fuv_pipe_t *server, *client, *into;
  char path[128], buf[8];
  accept_state_t st = {NULL, 0, 1, 1};
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  path_for(path, sizeof path, "listen");
  FUV_ASSERT_OK(fuv_pipe_new(&server, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_bind(server, path));
  FUV_ASSERT_OK(fuv_pipe_new(&into, loop, 0));
  st.into = into;
  FUV_ASSERT_OK(fuv_listen((fuv_stream_t *)server, 8, on_connection, &st));
  FUV_ASSERT_OK(fuv_pipe_new(&client, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_connect(client, path, NULL, NULL));
  fuv_test_run_until(loop, &st.calls, 1, 2000);
  FUV_ASSERT_OK(st.status);
  FUV_ASSERT_OK(st.accepted);
  ck_assert_int_eq(fuv_handle_type((fuv_handle_t *)into), FUV_PIPE);
  ck_assert_int_ge(fuv_fileno((fuv_handle_t *)into), 0);
  FUV_ASSERT_OK(fuv_send((fuv_stream_t *)client, "hi", 2, 2000));
  ck_assert_int_eq(fuv_recv((fuv_stream_t *)into, buf, sizeof buf, 2000), 2);
  ck_assert(memcmp(buf, "hi", 2) == 0);
  FUV_ASSERT_OK(fuv_send((fuv_stream_t *)into, "yo", 2, 2000));
  ck_assert_int_eq(fuv_recv((fuv_stream_t *)client, buf, sizeof buf, 2000),
                   2);
  ck_assert(memcmp(buf, "yo", 2) == 0);
  fuv_test_free_loop(loop);
}
END_TEST

static void count_drain(fuv_stream_t *s, void *arg) {
  (void)s;
  (*(int *)arg)++;
}

/* The peer does not read: writes pile up past the high-water mark; once
 * the peer reads everything the queue drains and drain_cb runs once. */
START_TEST(backpressure_on_a_pipe_to_a_non_reading_peer) {
  fuv_loop_t *loop;
  fuv_pipe_t *p;
  int fd0, peer, drains = 0, i;
  static char chunk[64 << 10], got[64 << 10];
  uint64_t sent = 0, total = 0;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_socketpair(SOCK_STREAM, 0, &fd0, &peer, 0,
                               FUV_NONBLOCK_PIPE));
  FUV_ASSERT_OK(fuv_pipe_new(&p, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_open(p, fd0));
  FUV_ASSERT_ERR(fuv_stream_set_water_marks((fuv_stream_t *)p, 10, 20, NULL,
                                            NULL), FUV_EINVAL);
  FUV_ASSERT_OK(fuv_stream_set_water_marks((fuv_stream_t *)p, 256 << 10,
                                           16 << 10, count_drain, &drains));
  ck_assert_int_eq(fuv_stream_is_congested((fuv_stream_t *)p), 0);
  for (i = 0; !fuv_stream_is_congested((fuv_stream_t *)p); i++) {
    ck_assert_int_lt(i, 1000);
    fuv_test_fill_pattern(chunk, sizeof chunk, sent);
    FUV_ASSERT_OK(fuv_write((fuv_stream_t *)p, chunk, sizeof chunk, NULL,
                            NULL));
    sent += sizeof chunk;
    fuv_run(loop, FUV_RUN_NOWAIT);
  }
  ck_assert_uint_ge(fuv_write_queue_size((fuv_stream_t *)p), 256 << 10);
  /* Nothing read yet: it stays congested and no drain is reported. */
  fuv_run(loop, FUV_RUN_NOWAIT);
  ck_assert_int_eq(fuv_stream_is_congested((fuv_stream_t *)p), 1);
  ck_assert_int_eq(drains, 0);
  while (total < sent) {
    ssize_t n = read(peer, got, sizeof got);
    if (n > 0) {
      for (ssize_t j = 0; j < n; j++)
        if ((unsigned char)got[j] != fuv_test_pattern_byte(total + (uint64_t)j))
          ck_abort_msg("byte %llu wrong", (unsigned long long)(total + j));
      total += (uint64_t)n;
    } else {
      ck_assert_int_ne(n, 0);
    }
    fuv_run(loop, FUV_RUN_NOWAIT);
  }
  fuv_test_run_until(loop, &drains, 1, 2000);
  ck_assert_int_eq(fuv_stream_is_congested((fuv_stream_t *)p), 0);
  ck_assert_uint_eq(fuv_write_queue_size((fuv_stream_t *)p), 0);
  fuv_run(loop, FUV_RUN_NOWAIT);
  ck_assert_int_eq(drains, 1);
  fuv_test_free_loop(loop);
  close(peer);
}
END_TEST

static void ignore_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                        void *arg) {
  (void)s;
  (void)nread;
  (void)buf;
  (void)arg;
}

START_TEST(send_and_recv_with_timeouts_on_pipes) {
  fuv_loop_t *loop;
  fuv_pipe_t *a, *b;
  int fd0, fd1;
  char buf[16];
  static char big[8 << 20];
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_socketpair(SOCK_STREAM, 0, &fd0, &fd1, 0, 0));
  FUV_ASSERT_OK(fuv_pipe_new(&a, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_new(&b, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_open(a, fd0));
  FUV_ASSERT_OK(fuv_pipe_open(b, fd1));
  /* Nothing arrives. */
  FUV_ASSERT_ERR(fuv_recv((fuv_stream_t *)b, buf, sizeof buf, 0),
                 FUV_ETIMEDOUT);
  FUV_ASSERT_ERR(fuv_recv((fuv_stream_t *)b, buf, sizeof buf, 50),
                 FUV_ETIMEDOUT);
  FUV_ASSERT_ERR(fuv_recv((fuv_stream_t *)b, buf, 0, 50), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_recv((fuv_stream_t *)b, NULL, 4, 50), FUV_EINVAL);
  FUV_ASSERT_OK(fuv_send((fuv_stream_t *)a, "abc", 3, 1000));
  ck_assert_int_eq(fuv_recv((fuv_stream_t *)b, buf, sizeof buf, 1000), 3);
  ck_assert(memcmp(buf, "abc", 3) == 0);
  /* Nobody reads 8 MiB: the send times out after a prefix. */
  FUV_ASSERT_ERR(fuv_send((fuv_stream_t *)a, big, sizeof big, 50),
                 FUV_ETIMEDOUT);
  /* With reading on, the sync receive is busy. */
  FUV_ASSERT_OK(fuv_read_start((fuv_stream_t *)b, ignore_read, NULL));
  FUV_ASSERT_ERR(fuv_recv((fuv_stream_t *)b, buf, sizeof buf, 0), FUV_EBUSY);
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)b, NULL, NULL));
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(connect_sync_to_a_path_and_to_a_missing_one) {
  fuv_loop_t *loop;
  fuv_pipe_t *server, *client, *other;
  fuv_stream_t *conn;
  char path[128], missing[128], buf[8];
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  path_for(path, sizeof path, "sync");
  path_for(missing, sizeof missing, "missing");
  FUV_ASSERT_OK(fuv_pipe_new(&server, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_bind(server, path));
  FUV_ASSERT_OK(fuv_listen((fuv_stream_t *)server, 8, NULL, NULL));
  FUV_ASSERT_OK(fuv_pipe_new(&client, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_connect_sync(client, path, 2000));
  FUV_ASSERT_OK(fuv_stream_accept_sync((fuv_stream_t *)server, &conn, 2000));
  FUV_ASSERT_OK(fuv_send((fuv_stream_t *)client, "q", 1, 1000));
  ck_assert_int_eq(fuv_recv(conn, buf, sizeof buf, 1000), 1);
  FUV_ASSERT_OK(fuv_pipe_new(&other, loop, 0));
  FUV_ASSERT_ERR(fuv_pipe_connect_sync(other, missing, 1000), FUV_ENOENT);
  /* A failed connect is given up: the handle can connect again. */
  FUV_ASSERT_OK(fuv_pipe_connect_sync(other, path, 2000));
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(open_a_socketpair_end) {
  fuv_loop_t *loop;
  fuv_pipe_t *a;
  int fd0, fd1;
  char buf[8];
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_socketpair(SOCK_STREAM, 0, &fd0, &fd1, 0, 0));
  FUV_ASSERT_OK(fuv_pipe_new(&a, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_open(a, fd0));
  ck_assert_int_eq(fuv_fileno((fuv_handle_t *)a), fd0);
  ck_assert_int_eq(fuv_is_readable((fuv_stream_t *)a), 1);
  ck_assert_int_eq(fuv_is_writable((fuv_stream_t *)a), 1);
  ck_assert_int_eq(write(fd1, "in", 2), 2);
  ck_assert_int_eq(fuv_recv((fuv_stream_t *)a, buf, sizeof buf, 1000), 2);
  ck_assert(memcmp(buf, "in", 2) == 0);
  FUV_ASSERT_OK(fuv_send((fuv_stream_t *)a, "out", 3, 1000));
  ck_assert_int_eq(read(fd1, buf, sizeof buf), 3);
  ck_assert(memcmp(buf, "out", 3) == 0);
  /* Already has one. */
  FUV_ASSERT_ERR(fuv_pipe_open(a, fd1), FUV_EBUSY);
  close(fd1);
  ck_assert_int_eq(fuv_recv((fuv_stream_t *)a, buf, sizeof buf, 1000), 0);
  fuv_test_free_loop(loop);
}
END_TEST

typedef struct {
  char buf[64];
  size_t len;
  int eof, reads;
} reader_t;

static void collect(fuv_stream_t *s, ssize_t nread, const char *buf,
                    void *arg) {
  reader_t *r = arg;
  (void)s;
  if (nread < 0) {
    ck_assert_int_eq(nread, FUV_EOF);
    r->eof = 1;
    return;
  }
  ck_assert_uint_le(r->len + (size_t)nread, sizeof r->buf);
  memcpy(r->buf + r->len, buf, (size_t)nread);
  r->len += (size_t)nread;
  r->reads++;
}

START_TEST(open_pipe2_ends_read_what_is_written_then_eof) {
  fuv_loop_t *loop;
  fuv_pipe_t *r, *w;
  int rfd, wfd;
  reader_t got;
  memset(&got, 0, sizeof got);
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_pipe(&rfd, &wfd, 0, 0));
  FUV_ASSERT_OK(fuv_pipe_new(&r, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_new(&w, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_open(r, rfd));
  FUV_ASSERT_OK(fuv_pipe_open(w, wfd));
  FUV_ASSERT_ERR(fuv_pipe_open(w, rfd), FUV_EBUSY);
  FUV_ASSERT_OK(fuv_read_start((fuv_stream_t *)r, collect, &got));
  FUV_ASSERT_OK(fuv_write((fuv_stream_t *)w, "hello ", 6, NULL, NULL));
  FUV_ASSERT_OK(fuv_write((fuv_stream_t *)w, "pipe", 4, NULL, NULL));
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)w, NULL, NULL));
  fuv_test_run_until(loop, &got.eof, 1, 2000);
  ck_assert_uint_eq(got.len, 10);
  ck_assert(memcmp(got.buf, "hello pipe", 10) == 0);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(small_contracts) {
  fuv_loop_t *loop;
  fuv_pipe_t *p, *q;
  char name[64], path[128], longname[201];
  size_t len = 99;
  int fd0, fd1;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_pipe_new(&p, loop, 0));
  FUV_ASSERT_OK(fuv_pipe_pending_instances(p, 4));
  FUV_ASSERT_OK(fuv_pipe_pending_instances(p, 0));
  ck_assert_int_eq(fuv_pipe_pending_count(p), 0);
  ck_assert_int_eq(fuv_pipe_pending_type(p), FUV_UNKNOWN_HANDLE);
  /* No socket yet. */
  FUV_ASSERT_ERR(fuv_pipe_getsockname(p, name, sizeof name, &len), FUV_EBADF);
  /* Unbound socket: an empty name. */
  FUV_ASSERT_OK(fuv_socketpair(SOCK_STREAM, 0, &fd0, &fd1, 0, 0));
  FUV_ASSERT_OK(fuv_pipe_open(p, fd0));
  len = 99;
  FUV_ASSERT_OK(fuv_pipe_getsockname(p, name, sizeof name, &len));
  ck_assert_uint_eq(len, 0);
  FUV_ASSERT_ERR(fuv_pipe_open(p, fd1), FUV_EBUSY);
  path_for(path, sizeof path, "contracts");
  FUV_ASSERT_OK(fuv_pipe_new(&q, loop, 0));
  FUV_ASSERT_ERR(fuv_pipe_bind2(q, path, strlen(path), 1), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_pipe_bind2(q, path, strlen(path), 0x100), FUV_EINVAL);
  ck_assert_int_ne(access(path, F_OK), 0); /* nothing was made */
  memset(longname, 'n', 200);
  longname[0] = '/';
  longname[200] = '\0';
  FUV_ASSERT_ERR(fuv_pipe_bind(q, longname), FUV_ENAMETOOLONG);
  FUV_ASSERT_ERR(fuv_pipe_bind2(q, longname, 200, 0), FUV_ENAMETOOLONG);
  FUV_ASSERT_ERR(fuv_pipe_connect(q, longname, NULL, NULL), FUV_ENAMETOOLONG);
  FUV_ASSERT_ERR(fuv_pipe_connect_sync(q, longname, 100), FUV_ENAMETOOLONG);
  /* Still usable after all of that. */
  FUV_ASSERT_OK(fuv_pipe_bind(q, path));
  FUV_ASSERT_ERR(fuv_pipe_open(q, fd1), FUV_EBUSY);
  close(fd1);
  fuv_test_free_loop(loop);
}
END_TEST

static Suite *pipe_stream_suite(void) {
  Suite *s = suite_create("pipe_stream_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("pipe_stream");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, listen_with_a_callback_accepts_into_a_fresh_pipe);
  tcase_add_test(tc, backpressure_on_a_pipe_to_a_non_reading_peer);
  tcase_add_test(tc, send_and_recv_with_timeouts_on_pipes);
  tcase_add_test(tc, connect_sync_to_a_path_and_to_a_missing_one);
  tcase_add_test(tc, open_a_socketpair_end);
  tcase_add_test(tc, open_pipe2_ends_read_what_is_written_then_eof);
  tcase_add_test(tc, small_contracts);
  suite_add_tcase(s, tc);
  return s;
}

FUV_TEST_MAIN(pipe_stream_suite)
