/*
 * Built against an installed flatuv (CMake package or pkg-config) by
 * tests/install/run.sh. It runs a real loop: a TCP server and a client on
 * loopback; the client sends a request, the server prints it and answers,
 * the client prints the answer. run.sh compares the output, so a program
 * that links but does not work fails the test.
 */
#include <flatuv.h>

#include <stdio.h>
#include <string.h>

static const char request[] = "ping from a program built against the installed flatuv";
static const char reply[] = "pong";

struct exchange {
  fuv_tcp_t *server_side;
  char request_in[sizeof request];
  size_t request_len;
  char reply_in[sizeof reply];
  size_t reply_len;
  int failed;
};

static void fail(struct exchange *x, const char *what, int err) {
  fprintf(stderr, "consumer: %s: %s\n", what, fuv_strerror(err));
  x->failed = 1;
}

static void on_server_read(fuv_stream_t *stream, ssize_t nread,
                           const char *buf, void *arg) {
  struct exchange *x = arg;
  if (nread < 0) {
    fail(x, "server read", (int)nread);
    fuv_close((fuv_handle_t *)stream, NULL, NULL);
    return;
  }
  if (x->request_len + (size_t)nread > sizeof request - 1) {
    fail(x, "server read", FUV_EOVERFLOW);
    fuv_close((fuv_handle_t *)stream, NULL, NULL);
    return;
  }
  memcpy(x->request_in + x->request_len, buf, (size_t)nread);
  x->request_len += (size_t)nread;
  if (x->request_len < sizeof request - 1)
    return;
  printf("server received: %.*s\n", (int)x->request_len, x->request_in);
  /* Answer; the client closes both ends once the whole answer is in. */
  int r = fuv_write(stream, reply, sizeof reply - 1, NULL, NULL);
  if (r < 0)
    fail(x, "server write", r);
  fuv_read_stop(stream);
}

static void on_connection(fuv_stream_t *server, int status, void *arg) {
  struct exchange *x = arg;
  int r;
  if (status < 0) {
    fail(x, "listen", status);
    return;
  }
  r = fuv_accept(server, &x->server_side);
  if (r == 0)
    r = fuv_read_start((fuv_stream_t *)x->server_side, on_server_read, x);
  if (r < 0)
    fail(x, "accept", r);
  /* One connection is all this test needs. */
  fuv_close((fuv_handle_t *)server, NULL, NULL);
}

static void on_client_read(fuv_stream_t *stream, ssize_t nread,
                           const char *buf, void *arg) {
  struct exchange *x = arg;
  if (nread < 0) {
    fail(x, "client read", (int)nread);
  } else if (x->reply_len + (size_t)nread > sizeof reply - 1) {
    fail(x, "client read", FUV_EOVERFLOW);
  } else {
    memcpy(x->reply_in + x->reply_len, buf, (size_t)nread);
    x->reply_len += (size_t)nread;
    if (x->reply_len < sizeof reply - 1)
      return;
    printf("client received: %.*s\n", (int)x->reply_len, x->reply_in);
  }
  /* Done, or failed: close both ends, which ends the loop. */
  fuv_close((fuv_handle_t *)stream, NULL, NULL);
  if (x->server_side != NULL)
    fuv_close((fuv_handle_t *)x->server_side, NULL, NULL);
}

static void on_connect(fuv_tcp_t *client, int status, void *arg) {
  struct exchange *x = arg;
  int r = status;
  if (r == 0)
    r = fuv_read_start((fuv_stream_t *)client, on_client_read, x);
  if (r == 0)
    r = fuv_write((fuv_stream_t *)client, request, sizeof request - 1, NULL,
                  NULL);
  if (r < 0) {
    fail(x, "connect", r);
    fuv_close((fuv_handle_t *)client, NULL, NULL);
  }
}

static void on_timeout(fuv_timer_t *timer, void *arg) {
  (void)timer;
  fail(arg, "timeout", FUV_ETIMEDOUT);
  fuv_stop(fuv_handle_loop((fuv_handle_t *)timer));
}

static void close_any(fuv_handle_t *handle, void *arg) {
  (void)arg;
  fuv_close(handle, NULL, NULL);
}

int main(void) {
  struct exchange x;
  fuv_loop_t *loop;
  fuv_tcp_t *server, *client;
  fuv_timer_t *watchdog;
  char ip[FUV_IP_NAME_MAX];
  int port, r;

  memset(&x, 0, sizeof x);
  printf("flatuv %s\n", fuv_version_string());
  r = fuv_loop_new(&loop);
  if (r < 0) {
    fprintf(stderr, "consumer: loop: %s\n", fuv_strerror(r));
    return 1;
  }
  r = fuv_tcp_new(&server, loop);
  if (r == 0)
    r = fuv_tcp_bind(server, "127.0.0.1", 0, 0);
  if (r == 0)
    r = fuv_listen((fuv_stream_t *)server, 8, on_connection, &x);
  if (r == 0)
    r = fuv_tcp_getsockname(server, ip, sizeof ip, &port);
  if (r == 0)
    r = fuv_tcp_new(&client, loop);
  if (r == 0)
    r = fuv_tcp_connect(client, ip, port, on_connect, &x);
  if (r == 0)
    r = fuv_timer_new(&watchdog, loop);
  if (r == 0)
    r = fuv_timer_start(watchdog, on_timeout, 10000, 0, &x);
  if (r == 0)
    r = fuv_unref((fuv_handle_t *)watchdog);
  if (r < 0)
    fail(&x, "setup", r);
  else
    r = fuv_run(loop, FUV_RUN_DEFAULT);
  if (r < 0)
    fail(&x, "run", r);

  /* Close whatever is left (the watchdog, or everything after a failure)
   * and free the loop, as a careful program does. */
  fuv_walk(loop, close_any, NULL);
  fuv_run(loop, FUV_RUN_DEFAULT);
  r = fuv_loop_free(loop);
  if (r < 0)
    fail(&x, "loop_free", r);
  return x.failed ? 1 : 0;
}
