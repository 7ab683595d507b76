/*
 * echo_flatuv - the echo server on flatuv's C API, written as a flatuv
 * user would write it: data arrives in the loop's own buffer and goes
 * straight back with fuv_write(), which copies only what the kernel does
 * not take at once. There is nothing for the caller to allocate.
 *
 * Usage: echo_flatuv PORT | echo_flatuv NAME. A number is a TCP port on
 * 127.0.0.1; anything else is a pipe (a Unix domain stream socket, a
 * fuv_pipe_t): a filesystem path, or @NAME for an abstract name. Prints
 * "listening PORT" (or NAME) when ready, and exits cleanly (every handle
 * closed, loop freed, a path removed) on SIGTERM or SIGINT.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flatuv.h"

/* Set before the signal handlers are installed, read by them. */
static fuv_async_t *volatile stop_async;

static void on_stop_signal(int signo) {
  (void)signo;
  fuv_async_send(stop_async); /* documented as safe in a signal handler */
}

static void close_one(fuv_handle_t *handle, void *arg) {
  (void)arg;
  fuv_close(handle, NULL, NULL);
}

static void on_stop(fuv_async_t *async, void *arg) {
  (void)arg;
  fuv_walk(fuv_handle_loop((fuv_handle_t *)async), close_one, NULL);
}

static void on_read(fuv_stream_t *stream, ssize_t nread, const char *buf,
                    void *arg) {
  (void)arg;
  if (nread > 0 && fuv_write(stream, buf, (size_t)nread, NULL, NULL) == 0)
    return;
  /* EOF, a read error, or a write that failed at once. */
  fuv_close((fuv_handle_t *)stream, NULL, NULL);
}

/* A pipe server's connections: the same echo, and no TCP_NODELAY. */
static void on_pipe_connection(fuv_stream_t *server, int status, void *arg) {
  fuv_stream_t *client;
  (void)arg;
  if (status < 0 || fuv_stream_accept(server, &client) != 0)
    return;
  if (fuv_read_start(client, on_read, NULL) != 0)
    fuv_close((fuv_handle_t *)client, NULL, NULL);
}

/* All digits: a TCP port. */
static int is_port(const char *s) {
  if (*s == '\0')
    return 0;
  for (; *s != '\0'; s++)
    if (*s < '0' || *s > '9')
      return 0;
  return 1;
}

/* Listens on a pipe at name: a path, or @name for an abstract name. */
static int listen_pipe(fuv_loop_t *loop, const char *name,
                       fuv_stream_t **out) {
  fuv_pipe_t *p;
  char abstract[108];
  size_t len = strlen(name);
  int rc = fuv_pipe_new(&p, loop, 0);
  if (rc != 0)
    return rc;
  *out = (fuv_stream_t *)p;
  if (name[0] != '@') {
    rc = fuv_pipe_bind(p, name);
  } else if (len > sizeof abstract) {
    rc = FUV_ENAMETOOLONG;
  } else {
    abstract[0] = '\0';
    memcpy(abstract + 1, name + 1, len - 1);
    rc = fuv_pipe_bind2(p, abstract, len, 0);
  }
  if (rc == 0)
    rc = fuv_listen((fuv_stream_t *)p, 511, on_pipe_connection, NULL);
  return rc;
}

static void on_connection(fuv_stream_t *server, int status, void *arg) {
  fuv_tcp_t *client;
  (void)arg;
  if (status < 0 || fuv_accept(server, &client) != 0)
    return;
  if (fuv_tcp_nodelay(client, 1) != 0 ||
      fuv_read_start((fuv_stream_t *)client, on_read, NULL) != 0)
    fuv_close((fuv_handle_t *)client, NULL, NULL);
}

int main(int argc, char **argv) {
  struct sigaction sa;
  fuv_loop_t *loop;
  fuv_tcp_t *server;
  fuv_stream_t *pipe_server;
  fuv_async_t *async;
  const char *endpoint;
  int tcp, rc;

  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT | %s NAME\n", argv[0], argv[0]);
    return 2;
  }
  endpoint = argv[1];
  tcp = is_port(endpoint);
  rc = fuv_loop_new(&loop);
  if (rc == 0 && !tcp) {
    rc = listen_pipe(loop, endpoint, &pipe_server);
  } else if (rc == 0) {
    rc = fuv_tcp_new(&server, loop);
    if (rc == 0)
      rc = fuv_tcp_bind(server, "127.0.0.1", atoi(endpoint), 0);
    if (rc == 0)
      rc = fuv_listen((fuv_stream_t *)server, 511, on_connection, NULL);
  }
  if (rc == 0)
    rc = fuv_async_new(&async, loop, on_stop, NULL);
  if (rc != 0) {
    fprintf(stderr, "echo_flatuv: %s: %s\n", fuv_err_name(rc),
            fuv_strerror(rc));
    return 1;
  }
  stop_async = async;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  printf("listening %s\n", endpoint);
  fflush(stdout);

  rc = fuv_run(loop, FUV_RUN_DEFAULT);
  if (rc < 0)
    fprintf(stderr, "echo_flatuv: run: %s\n", fuv_strerror(rc));
  rc = fuv_loop_free(loop);
  if (!tcp && endpoint[0] != '@')
    unlink(endpoint); /* gone already if closing the pipe removed it */
  if (rc != 0) {
    fprintf(stderr, "echo_flatuv: loop_free: %s\n", fuv_strerror(rc));
    return 1;
  }
  return 0;
}
