/* fd passing between processes: a connected stream (a TCP connection, or a
 * pipe) goes with fuv_write2 over an IPC socketpair to a forked child, which
 * accepts it on its own loop and echoes on it until EOF. The peer sends a
 * pattern, part before the hand-off and most after, and checks that every
 * byte of the echo comes back in order. */
#include "fuv_test.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOTAL (1u << 20)
#define BEFORE 4096u

/* ---- the child: its own loop, no Check (it reports by exit status) ---- */

typedef struct {
  fuv_handle_type_t want;
  int fail; /* first failure's code, 0 if none */
  fuv_stream_t *conn;
  int got_handle;
} child_t;

static void child_fail(child_t *c, int code) {
  if (c->fail == 0)
    c->fail = code;
}

static void child_shutdown_cb(fuv_stream_t *s, int status, void *arg) {
  child_t *c = arg;
  if (status != 0)
    child_fail(c, 20);
  fuv_close((fuv_handle_t *)s, NULL, NULL);
}

static void child_echo(fuv_stream_t *s, ssize_t nread, const char *buf,
                       void *arg) {
  child_t *c = arg;
  if (nread == FUV_EOF) {
    if (fuv_shutdown(s, child_shutdown_cb, c) != 0) {
      child_fail(c, 21);
      fuv_close((fuv_handle_t *)s, NULL, NULL);
    }
    return;
  }
  if (nread < 0) {
    child_fail(c, 22);
    fuv_close((fuv_handle_t *)s, NULL, NULL);
    return;
  }
  if (fuv_write(s, buf, (size_t)nread, NULL, NULL) != 0)
    child_fail(c, 23);
}

static void child_ipc_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                           void *arg) {
  child_t *c = arg;
  (void)buf;
  if (nread < 0) {
    if (!c->got_handle)
      child_fail(c, 10);
    fuv_close((fuv_handle_t *)s, NULL, NULL);
    return;
  }
  if (c->got_handle) {
    child_fail(c, 11); /* only one byte, with the handle, was sent */
    return;
  }
  if (fuv_pipe_pending_count((fuv_pipe_t *)s) != 1)
    child_fail(c, 12);
  if (fuv_pipe_pending_type((fuv_pipe_t *)s) != c->want)
    child_fail(c, 13);
  if (c->want == FUV_TCP) {
    /* accept_into a fresh handle of the kind */
    fuv_tcp_t *tcp;
    if (fuv_tcp_new(&tcp, fuv_handle_loop((fuv_handle_t *)s)) != 0) {
      child_fail(c, 14);
      return;
    }
    c->conn = (fuv_stream_t *)tcp;
    if (fuv_stream_accept_into(s, c->conn) != 0) {
      child_fail(c, 15);
      fuv_close((fuv_handle_t *)tcp, NULL, NULL);
      c->conn = NULL;
      return;
    }
  } else if (fuv_stream_accept(s, &c->conn) != 0) {
    child_fail(c, 16);
    return;
  }
  c->got_handle = 1;
  if (fuv_handle_type((fuv_handle_t *)c->conn) != c->want)
    child_fail(c, 17);
  if (fuv_pipe_pending_count((fuv_pipe_t *)s) != 0)
    child_fail(c, 18);
  if (fuv_read_start(c->conn, child_echo, c) != 0)
    child_fail(c, 19);
  fuv_close((fuv_handle_t *)s, NULL, NULL);
}

static int child_main(int fd, fuv_handle_type_t want) {
  fuv_loop_t *loop;
  fuv_pipe_t *ipc;
  child_t c = {want, 0, NULL, 0};
  alarm(60); /* never outlive a failed parent */
  if (fuv_loop_new(&loop) != 0)
    return 2;
  if (fuv_pipe_new(&ipc, loop, 1) != 0 || fuv_pipe_open(ipc, fd) != 0)
    return 3;
  if (fuv_read_start((fuv_stream_t *)ipc, child_ipc_read, &c) != 0)
    return 4;
  if (fuv_run(loop, FUV_RUN_DEFAULT) != 0)
    return 5;
  if (fuv_loop_free(loop) != 0)
    return 6;
  if (!c.got_handle && c.fail == 0)
    return 7;
  return c.fail;
}

/* ---- the parent ---- */

typedef struct {
  uint64_t got;
  int eof, writes, write_status, shut_status, shuts;
} peer_t;

static void peer_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                      void *arg) {
  peer_t *p = arg;
  (void)s;
  if (nread < 0) {
    ck_assert_int_eq(nread, FUV_EOF);
    p->eof = 1;
    return;
  }
  ck_assert_uint_le(p->got + (uint64_t)nread, TOTAL);
  for (ssize_t i = 0; i < nread; i++)
    if ((unsigned char)buf[i] != fuv_test_pattern_byte(p->got + (uint64_t)i))
      ck_abort_msg("echo byte %llu wrong",
                   (unsigned long long)(p->got + (uint64_t)i));
  p->got += (uint64_t)nread;
}

static void peer_wrote(fuv_stream_t *s, int status, void *arg) {
  peer_t *p = arg;
  (void)s;
  p->writes++;
  p->write_status = status;
}

static void peer_shut(fuv_stream_t *s, int status, void *arg) {
  peer_t *p = arg;
  (void)s;
  p->shuts++;
  p->shut_status = status;
}

static int ipc_wrote_calls, ipc_wrote_status;
static void ipc_wrote(fuv_stream_t *s, int status, void *arg) {
  (void)s;
  (void)arg;
  ipc_wrote_calls++;
  ipc_wrote_status = status;
}

/* _i == 0: a TCP connection accepted from a loopback listener; _i == 1: one
 * end of a socketpair opened as a pipe. */
START_TEST(write2_hands_a_connection_to_a_forked_child) {
  fuv_handle_type_t want = _i == 0 ? FUV_TCP : FUV_PIPE;
  fuv_loop_t *loop;
  fuv_pipe_t *tx;
  fuv_stream_t *peer, *handed;
  fuv_tcp_t *listener = NULL;
  int fd0, fd1, status;
  pid_t pid;
  static char data[TOTAL];
  peer_t p = {0, 0, 0, 1, 1, 0};

  ipc_wrote_calls = 0;
  ipc_wrote_status = 1;
  FUV_ASSERT_OK(fuv_socketpair(SOCK_STREAM, 0, &fd0, &fd1, 0, 0));
  /* Fork before anything else exists, so the child inherits only fd1. */
  pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(fd0);
    _exit(child_main(fd1, want));
  }
  close(fd1);

  fuv_test_fill_pattern(data, sizeof data, 0);
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_pipe_new(&tx, loop, 1));
  FUV_ASSERT_OK(fuv_pipe_open(tx, fd0));
  if (want == FUV_TCP) {
    fuv_tcp_t *client, *accepted;
    int port;
    listener = fuv_test_listener(loop, "127.0.0.1", &port, NULL, NULL);
    FUV_ASSERT_OK(fuv_tcp_new(&client, loop));
    FUV_ASSERT_OK(fuv_tcp_connect_sync(client, "127.0.0.1", port, 2000));
    FUV_ASSERT_OK(fuv_accept_sync((fuv_stream_t *)listener, &accepted, 2000));
    peer = (fuv_stream_t *)client;
    handed = (fuv_stream_t *)accepted;
  } else {
    fuv_pipe_t *a, *b;
    int s0, s1;
    FUV_ASSERT_OK(fuv_socketpair(SOCK_STREAM, 0, &s0, &s1, 0, 0));
    FUV_ASSERT_OK(fuv_pipe_new(&a, loop, 0));
    FUV_ASSERT_OK(fuv_pipe_new(&b, loop, 0));
    FUV_ASSERT_OK(fuv_pipe_open(a, s0));
    FUV_ASSERT_OK(fuv_pipe_open(b, s1));
    peer = (fuv_stream_t *)a;
    handed = (fuv_stream_t *)b;
  }
  /* Bytes that wait in the connection's socket while it travels. */
  FUV_ASSERT_OK(fuv_send(peer, data, BEFORE, 2000));
  FUV_ASSERT_OK(fuv_write2((fuv_stream_t *)tx, "h", 1, handed, ipc_wrote,
                           NULL));
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)handed, NULL, NULL));
  if (listener != NULL)
    FUV_ASSERT_OK(fuv_close((fuv_handle_t *)listener, NULL, NULL));
  FUV_ASSERT_OK(fuv_read_start(peer, peer_read, &p));
  FUV_ASSERT_OK(fuv_write(peer, data + BEFORE, TOTAL - BEFORE, peer_wrote,
                          &p));
  FUV_ASSERT_OK(fuv_shutdown(peer, peer_shut, &p));
  fuv_test_run_until(loop, &p.eof, 1, 30000);
  ck_assert_int_eq(ipc_wrote_calls, 1);
  FUV_ASSERT_OK(ipc_wrote_status);
  ck_assert_int_eq(p.writes, 1);
  FUV_ASSERT_OK(p.write_status);
  ck_assert_int_eq(p.shuts, 1);
  FUV_ASSERT_OK(p.shut_status);
  ck_assert_uint_eq(p.got, TOTAL);
  fuv_test_free_loop(loop);
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert_msg(WIFEXITED(status), "child did not exit (status %d)", status);
  ck_assert_msg(WEXITSTATUS(status) == 0, "child failed with code %d",
                WEXITSTATUS(status));
}
END_TEST

static Suite *ipc_fork_suite(void) {
  Suite *s = suite_create("ipc_fork_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("ipc_fork");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, write2_hands_a_connection_to_a_forked_child, 0, 2);
  suite_add_tcase(s, tc);
  return s;
}

FUV_TEST_MAIN(ipc_fork_suite)
