/*
 * echo_libuv - the peer: an echo server on the system's libuv, written as a
 * careful libuv user writes one.
 *
 *  - One static read buffer, handed out by the alloc callback: reading
 *    allocates nothing.
 *  - uv_try_write() first, so the usual case is one write(2) and no
 *    request; only the remainder the kernel did not take is copied into a
 *    malloc'd request and queued with uv_write(). (uv_try_write returns
 *    UV_EAGAIN while earlier writes are queued, so order is kept.)
 *  - TCP_NODELAY on every accepted TCP connection.
 *  - SIGPIPE ignored, as every libuv program has to: libuv writes with
 *    write(2), which raises it when a client goes away mid-message.
 *
 * Usage: echo_libuv PORT | echo_libuv NAME. A number is a TCP port on
 * 127.0.0.1; anything else is a uv_pipe_t server (a Unix domain stream
 * socket): a filesystem path, or @NAME for an abstract name (with
 * uv_pipe_bind2 from libuv 1.46; before that, as a libuv user has to, a
 * socket bound by hand and given to uv_pipe_open). The pipe server is the
 * same careful echo. Prints "listening PORT" (or NAME) when ready, and
 * exits cleanly (every handle closed, loop closed, a path removed: libuv
 * unlinks it when the server closes) on SIGTERM or SIGINT.
 */
/* uv.h needs the POSIX thread types, which strict C99 hides. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <uv.h>

#define READ_BUFFER_SIZE (64 * 1024)

/* A queued remainder: the request and the bytes it writes, in one block. */
typedef struct {
  uv_write_t req;
  char data[];
} remainder_write_t;

static char read_buffer[READ_BUFFER_SIZE];
static uv_tcp_t server;
static uv_pipe_t pipe_server;
static uv_signal_t sigterm_watcher, sigint_watcher;

static void free_handle(uv_handle_t *handle) { free(handle); }

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
  (void)handle;
  (void)suggested;
  *buf = uv_buf_init(read_buffer, sizeof read_buffer);
}

static void on_remainder_written(uv_write_t *req, int status) {
  (void)status; /* a failed write shows up as a read error or EOF */
  free(req);
}

/* Echoes data: whatever uv_try_write does not take is copied and queued. */
static int echo(uv_stream_t *stream, const char *data, size_t len) {
  uv_buf_t buf = uv_buf_init((char *)data, (unsigned int)len);
  remainder_write_t *w;
  int written = uv_try_write(stream, &buf, 1);
  if (written == UV_EAGAIN)
    written = 0;
  if (written < 0)
    return written;
  if ((size_t)written == len)
    return 0;
  w = malloc(sizeof *w + (len - (size_t)written));
  if (w == NULL)
    return UV_ENOMEM;
  memcpy(w->data, data + written, len - (size_t)written);
  buf = uv_buf_init(w->data, (unsigned int)(len - (size_t)written));
  written = uv_write(&w->req, stream, &buf, 1, on_remainder_written);
  if (written != 0)
    free(w);
  return written;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  if (nread > 0 && echo(stream, buf->base, (size_t)nread) == 0)
    return;
  if (nread != 0) /* EOF, an error, or a failed echo */
    uv_close((uv_handle_t *)stream, free_handle);
}

static void on_connection(uv_stream_t *listener, int status) {
  uv_tcp_t *client;
  if (status < 0)
    return;
  client = malloc(sizeof *client);
  if (client == NULL || uv_tcp_init(listener->loop, client) != 0) {
    free(client);
    return;
  }
  if (uv_accept(listener, (uv_stream_t *)client) != 0) {
    uv_close((uv_handle_t *)client, free_handle);
    return;
  }
  uv_tcp_nodelay(client, 1);
  if (uv_read_start((uv_stream_t *)client, on_alloc, on_read) != 0)
    uv_close((uv_handle_t *)client, free_handle);
}

static void on_pipe_connection(uv_stream_t *listener, int status) {
  uv_pipe_t *client;
  if (status < 0)
    return;
  client = malloc(sizeof *client);
  if (client == NULL || uv_pipe_init(listener->loop, client, 0) != 0) {
    free(client);
    return;
  }
  if (uv_accept(listener, (uv_stream_t *)client) != 0) {
    uv_close((uv_handle_t *)client, free_handle);
    return;
  }
  if (uv_read_start((uv_stream_t *)client, on_alloc, on_read) != 0)
    uv_close((uv_handle_t *)client, free_handle);
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

/* Binds pipe_server to name: a path, or @name for an abstract name. */
static int bind_pipe(const char *name) {
  size_t len = strlen(name);
#if UV_VERSION_HEX >= 0x012e00
  char abstract[sizeof ((struct sockaddr_un *)0)->sun_path];
  if (name[0] != '@')
    return uv_pipe_bind(&pipe_server, name);
  if (len > sizeof abstract)
    return UV_ENAMETOOLONG;
  abstract[0] = '\0';
  memcpy(abstract + 1, name + 1, len - 1);
  return uv_pipe_bind2(&pipe_server, abstract, len, 0);
#else
  struct sockaddr_un addr;
  int fd, rc;
  if (name[0] != '@')
    return uv_pipe_bind(&pipe_server, name);
  if (len > sizeof addr.sun_path)
    return UV_ENAMETOOLONG;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path + 1, name + 1, len - 1);
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return uv_translate_sys_error(errno);
  if (bind(fd, (struct sockaddr *)&addr,
           (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) != 0) {
    rc = uv_translate_sys_error(errno);
    close(fd);
    return rc;
  }
  rc = uv_pipe_open(&pipe_server, fd);
  if (rc != 0)
    close(fd);
  return rc;
#endif
}

static void close_one(uv_handle_t *handle, void *arg) {
  (void)arg;
  if (uv_is_closing(handle))
    return;
  /* Only accepted connections are heap-allocated. */
  if ((handle->type == UV_TCP || handle->type == UV_NAMED_PIPE) &&
      handle != (uv_handle_t *)&server &&
      handle != (uv_handle_t *)&pipe_server)
    uv_close(handle, free_handle);
  else
    uv_close(handle, NULL);
}

static void on_stop_signal(uv_signal_t *watcher, int signum) {
  (void)signum;
  uv_walk(watcher->loop, close_one, NULL);
}

int main(int argc, char **argv) {
  uv_loop_t *loop = uv_default_loop();
  struct sockaddr_in addr;
  const char *endpoint;
  int rc;

  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT | %s NAME\n", argv[0], argv[0]);
    return 2;
  }
  endpoint = argv[1];
  signal(SIGPIPE, SIG_IGN);
  if (is_port(endpoint)) {
    uv_ip4_addr("127.0.0.1", atoi(endpoint), &addr);
    uv_tcp_init(loop, &server);
    rc = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
      rc = uv_listen((uv_stream_t *)&server, 511, on_connection);
  } else {
    uv_pipe_init(loop, &pipe_server, 0);
    rc = bind_pipe(endpoint);
    if (rc == 0)
      rc = uv_listen((uv_stream_t *)&pipe_server, 511, on_pipe_connection);
  }
  if (rc != 0) {
    fprintf(stderr, "echo_libuv: listen: %s\n", uv_strerror(rc));
    return 1;
  }
  uv_signal_init(loop, &sigterm_watcher);
  uv_signal_start(&sigterm_watcher, on_stop_signal, SIGTERM);
  uv_signal_init(loop, &sigint_watcher);
  uv_signal_start(&sigint_watcher, on_stop_signal, SIGINT);
  printf("listening %s\n", endpoint);
  fflush(stdout);

  uv_run(loop, UV_RUN_DEFAULT);
  rc = uv_loop_close(loop);
  return rc == 0 ? 0 : 1;
}
