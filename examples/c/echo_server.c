/*
 * A TCP echo server on flatuv.
 *
 *   echo_server [--once N] [PORT] [IP]
 *
 * Listens on IP (default 127.0.0.1; "::1" or "::" for IPv6) and PORT
 * (default 7000; 0 picks a free port, which is printed). Every byte a
 * client sends is written back. When a client finishes sending (EOF), the
 * server finishes echoing, shuts down its side and closes the connection.
 * With --once N it stops listening after N connections and exits once
 * they are all closed, so that a demo can finish. SIGINT or SIGTERM stop
 * it cleanly at any time.
 */
#define _POSIX_C_SOURCE 200809L

#include <flatuv.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct server {
  fuv_loop_t *loop;
  fuv_tcp_t *listener;
  fuv_async_t *stopper; /* woken by SIGINT / SIGTERM */
  long accept_limit;     /* 0: no limit */
  long accepted;
  long open_connections;
};

struct connection {
  struct server *server;
  fuv_tcp_t *tcp;
  long id;
  char peer[FUV_IP_NAME_MAX + 8];
  unsigned long long bytes_in;
  unsigned long long bytes_echoed;
};

static void report_error(const char *what, int err) {
  fprintf(stderr, "echo_server: %s: %s (%s)\n", what, fuv_strerror(err),
          fuv_err_name(err));
}

/* The stop handle for the signal handler; NULL once it is closing. The
 * handler interrupts the one thread that changes it, so volatile is enough. */
static fuv_async_t *volatile signal_stopper;

/* ---- connections ------------------------------------------------------- */

static void stop_listening(struct server *srv) {
  if (srv->listener != NULL) {
    fuv_close((fuv_handle_t *)srv->listener, NULL, NULL);
    srv->listener = NULL;
  }
  /* With nothing left to listen for, the signal handle need not stay. */
  if (srv->stopper != NULL) {
    signal_stopper = NULL;
    fuv_close((fuv_handle_t *)srv->stopper, NULL, NULL);
    srv->stopper = NULL;
  }
}

static void on_connection_closed(fuv_handle_t *handle, void *arg) {
  struct connection *conn = arg;
  (void)handle;
  printf("echo_server: connection %ld closed: %llu bytes received, "
         "%llu bytes echoed\n",
         conn->id, conn->bytes_in, conn->bytes_echoed);
  conn->server->open_connections--;
  free(conn);
}

static void close_connection(struct connection *conn) {
  if (!fuv_is_closing((fuv_handle_t *)conn->tcp))
    fuv_close((fuv_handle_t *)conn->tcp, on_connection_closed, conn);
}

static void on_echo_written(fuv_stream_t *stream, int status, void *arg) {
  struct connection *conn = arg;
  (void)stream;
  /* ECANCELED means the connection was closed first: nothing to report. */
  if (status < 0 && status != FUV_ECANCELED) {
    report_error("write", status);
    close_connection(conn);
  }
}

static void on_shutdown(fuv_stream_t *stream, int status, void *arg) {
  struct connection *conn = arg;
  (void)stream;
  if (status < 0 && status != FUV_ECANCELED)
    report_error("shutdown", status);
  close_connection(conn);
}

static void on_read(fuv_stream_t *stream, ssize_t nread, const char *buf,
                    void *arg) {
  struct connection *conn = arg;
  int r;

  if (nread > 0) {
    conn->bytes_in += (unsigned long long)nread;
    /* The buffer belongs to the loop; fuv_write copies whatever the kernel
     * does not take at once, so it can be passed straight through. */
    r = fuv_write(stream, buf, (size_t)nread, on_echo_written, conn);
    if (r < 0) {
      report_error("write", r);
      close_connection(conn);
      return;
    }
    conn->bytes_echoed += (unsigned long long)nread;
    return;
  }
  if (nread == FUV_EOF) {
    printf("echo_server: connection %ld: end of input from %s\n", conn->id,
           conn->peer);
    /* The shutdown goes out after every queued echo. */
    r = fuv_shutdown(stream, on_shutdown, conn);
    if (r < 0) {
      report_error("shutdown", r);
      close_connection(conn);
    }
    return;
  }
  report_error("read", (int)nread);
  close_connection(conn);
}

static void on_connection(fuv_stream_t *listener, int status, void *arg) {
  struct server *srv = arg;
  struct connection *conn;
  char ip[FUV_IP_NAME_MAX];
  int port, r;

  if (status < 0) {
    report_error("accept", status);
    return;
  }
  conn = calloc(1, sizeof *conn);
  if (conn == NULL) {
    report_error("accept", FUV_ENOMEM);
    return;
  }
  r = fuv_accept(listener, &conn->tcp);
  if (r < 0) {
    report_error("accept", r);
    free(conn);
    return;
  }
  conn->server = srv;
  conn->id = ++srv->accepted;
  fuv_handle_set_data((fuv_handle_t *)conn->tcp, conn);
  srv->open_connections++;
  if (fuv_tcp_getpeername(conn->tcp, ip, sizeof ip, &port) == 0)
    snprintf(conn->peer, sizeof conn->peer, "%s:%d", ip, port);
  else
    snprintf(conn->peer, sizeof conn->peer, "(unknown)");
  printf("echo_server: connection %ld from %s\n", conn->id, conn->peer);

  r = fuv_read_start((fuv_stream_t *)conn->tcp, on_read, conn);
  if (r < 0) {
    report_error("read_start", r);
    close_connection(conn);
  }
  if (srv->accept_limit > 0 && srv->accepted >= srv->accept_limit) {
    printf("echo_server: accepted %ld connection(s), no longer listening\n",
           srv->accepted);
    stop_listening(srv);
  }
}

/* ---- stopping on a signal ------------------------------------------------ */

/* fuv_async_send is safe in a signal handler: it only sets a flag and
 * writes to the loop's wake-up fd. */
static void on_signal(int sig) {
  (void)sig;
  if (signal_stopper != NULL)
    fuv_async_send(signal_stopper);
}

static void close_each_connection(fuv_handle_t *handle, void *arg) {
  (void)arg;
  if (fuv_handle_type(handle) == FUV_TCP)
    close_connection(fuv_handle_get_data(handle));
}

static void on_stop(fuv_async_t *async, void *arg) {
  struct server *srv = arg;
  (void)async;
  printf("echo_server: stopping on a signal\n");
  stop_listening(srv);
  /* Every remaining handle is a connection, tagged with its state. */
  fuv_walk(srv->loop, close_each_connection, NULL);
}

static int install_signal_handlers(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
    return -1;
  return 0;
}

/* ---- main ---------------------------------------------------------------- */

static int usage(void) {
  fprintf(stderr, "usage: echo_server [--once N] [PORT] [IP]\n");
  return 2;
}

/* Parses a whole decimal number in [min, max] or returns -1. */
static long parse_number(const char *text, long min, long max) {
  char *end;
  long n = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || n < min || n > max)
    return -1;
  return n;
}

static int start_listening(struct server *srv, const char *ip, int port) {
  char bound_ip[FUV_IP_NAME_MAX];
  int bound_port, r;

  r = fuv_tcp_new(&srv->listener, srv->loop);
  if (r == 0)
    r = fuv_tcp_bind(srv->listener, ip, port, 0);
  if (r == 0)
    r = fuv_listen((fuv_stream_t *)srv->listener, 128, on_connection, srv);
  if (r == 0)
    r = fuv_tcp_getsockname(srv->listener, bound_ip, sizeof bound_ip,
                            &bound_port);
  if (r < 0) {
    report_error("listen", r);
    return r;
  }
  printf("echo_server: listening on %s port %d\n", bound_ip, bound_port);
  return 0;
}

int main(int argc, char **argv) {
  struct server srv;
  const char *ip = "127.0.0.1";
  long port = 7000;
  int argi = 1, positional = 0, r;

  memset(&srv, 0, sizeof srv);
  for (; argi < argc; argi++) {
    if (strcmp(argv[argi], "--once") == 0) {
      if (argi + 1 >= argc)
        return usage();
      srv.accept_limit = parse_number(argv[++argi], 1, 1000000);
      if (srv.accept_limit < 0)
        return usage();
    } else if (positional == 0) {
      port = parse_number(argv[argi], 0, 65535);
      if (port < 0)
        return usage();
      positional++;
    } else if (positional == 1) {
      ip = argv[argi];
      positional++;
    } else {
      return usage();
    }
  }

  /* Line-buffered output, so that a script reading it sees each line. */
  setvbuf(stdout, NULL, _IOLBF, 0);

  r = fuv_loop_new(&srv.loop);
  if (r < 0) {
    report_error("loop", r);
    return 1;
  }
  if (start_listening(&srv, ip, (int)port) < 0) {
    fuv_close((fuv_handle_t *)srv.listener, NULL, NULL);
    fuv_run(srv.loop, FUV_RUN_DEFAULT);
    fuv_loop_free(srv.loop);
    return 1;
  }

  /* The stop handle must not keep the loop alive by itself. */
  r = fuv_async_new(&srv.stopper, srv.loop, on_stop, &srv);
  if (r == 0)
    r = fuv_unref((fuv_handle_t *)srv.stopper);
  if (r < 0 || install_signal_handlers() != 0) {
    report_error("signal setup", r < 0 ? r : FUV_EINVAL);
    return 1;
  }
  signal_stopper = srv.stopper;

  r = fuv_run(srv.loop, FUV_RUN_DEFAULT);
  signal_stopper = NULL;
  if (r < 0) {
    report_error("run", r);
    return 1;
  }
  printf("echo_server: served %ld connection(s), exiting\n", srv.accepted);
  r = fuv_loop_free(srv.loop);
  if (r < 0) {
    report_error("loop_free", r);
    return 1;
  }
  return 0;
}
