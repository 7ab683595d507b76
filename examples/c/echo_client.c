/*
 * A TCP echo client on flatuv.
 *
 *   echo_client [--count K] [--size BYTES] [PORT] [IP]
 *
 * Connects to IP (default 127.0.0.1) and PORT (default 7000), then sends K
 * messages (default 5) one at a time, each waiting for its whole echo and
 * checking it byte for byte. Messages are text of at least BYTES bytes
 * (default: just the text). Finally it shuts down its side, waits for the
 * server to close, and exits 0 if every echo matched, 1 otherwise.
 */
#include <flatuv.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Gives up if the server has not answered for this long. */
#define IDLE_TIMEOUT_MS 10000

struct client {
  fuv_loop_t *loop;
  fuv_tcp_t *tcp;
  fuv_timer_t *idle_timer;
  const char *ip;
  int port;
  long count;
  long size;

  long current;      /* index of the message in flight */
  char *message;     /* the message in flight */
  size_t length;
  char *echo;        /* what has come back of it */
  size_t received;

  unsigned long long bytes_sent;
  int failed;
  int done;
};

static void report_error(const char *what, int err) {
  fprintf(stderr, "echo_client: %s: %s (%s)\n", what, fuv_strerror(err),
          fuv_err_name(err));
}

static void finish(struct client *c, int failed) {
  if (failed)
    c->failed = 1;
  if (!fuv_is_closing((fuv_handle_t *)c->tcp))
    fuv_close((fuv_handle_t *)c->tcp, NULL, NULL);
  if (!fuv_is_closing((fuv_handle_t *)c->idle_timer))
    fuv_close((fuv_handle_t *)c->idle_timer, NULL, NULL);
}

static void on_idle_timeout(fuv_timer_t *timer, void *arg) {
  struct client *c = arg;
  (void)timer;
  fprintf(stderr, "echo_client: no answer from the server for %d ms\n",
          IDLE_TIMEOUT_MS);
  finish(c, 1);
}

/* Builds message number i: "message i of K from flatuv", padded with
 * letters to at least c->size bytes so that larger echoes can be tried. */
static int build_message(struct client *c, long i) {
  char head[96];
  int n = snprintf(head, sizeof head, "message %ld of %ld from flatuv", i + 1,
                   c->count);
  size_t len = (size_t)n > (size_t)c->size ? (size_t)n : (size_t)c->size;
  char *msg = realloc(c->message, len);
  char *echo = realloc(c->echo, len);
  if (msg != NULL)
    c->message = msg;
  if (echo != NULL)
    c->echo = echo;
  if (msg == NULL || echo == NULL)
    return FUV_ENOMEM;
  memcpy(c->message, head, (size_t)n);
  for (size_t k = (size_t)n; k < len; k++)
    c->message[k] = (char)('a' + (k % 26));
  c->length = len;
  c->received = 0;
  return 0;
}

static void on_shutdown(fuv_stream_t *stream, int status, void *arg) {
  struct client *c = arg;
  (void)stream;
  if (status < 0 && status != FUV_ECANCELED) {
    report_error("shutdown", status);
    finish(c, 1);
  }
}

static int send_next(struct client *c) {
  int r = build_message(c, c->current);
  if (r == 0)
    r = fuv_write((fuv_stream_t *)c->tcp, c->message, c->length, NULL, NULL);
  if (r < 0)
    return r;
  c->bytes_sent += c->length;
  return fuv_timer_again(c->idle_timer);
}

/* One message has fully come back: check it, then send the next or end. */
static void on_echo_complete(struct client *c) {
  if (memcmp(c->message, c->echo, c->length) != 0) {
    fprintf(stderr, "echo_client: message %ld came back different\n",
            c->current + 1);
    finish(c, 1);
    return;
  }
  if (c->length <= 64)
    printf("echo_client: message %ld echoed (%zu bytes): \"%.*s\"\n",
           c->current + 1, c->length, (int)c->length, c->echo);
  else
    printf("echo_client: message %ld echoed (%zu bytes), verified\n",
           c->current + 1, c->length);
  if (++c->current < c->count) {
    int r = send_next(c);
    if (r < 0) {
      report_error("write", r);
      finish(c, 1);
    }
    return;
  }
  c->done = 1;
  /* Every echo is in: tell the server we are finished and wait for it to
   * close its side. */
  int r = fuv_shutdown((fuv_stream_t *)c->tcp, on_shutdown, c);
  if (r < 0) {
    report_error("shutdown", r);
    finish(c, 1);
  }
}

static void on_read(fuv_stream_t *stream, ssize_t nread, const char *buf,
                    void *arg) {
  struct client *c = arg;
  (void)stream;
  if (nread == FUV_EOF) {
    if (!c->done) {
      fprintf(stderr, "echo_client: the server closed the connection early\n");
      finish(c, 1);
      return;
    }
    printf("echo_client: the server closed the connection\n");
    finish(c, 0);
    return;
  }
  if (nread < 0) {
    report_error("read", (int)nread);
    finish(c, 1);
    return;
  }
  if (c->done || c->received + (size_t)nread > c->length) {
    fprintf(stderr, "echo_client: the server sent more than was sent to it\n");
    finish(c, 1);
    return;
  }
  memcpy(c->echo + c->received, buf, (size_t)nread);
  c->received += (size_t)nread;
  if (c->received == c->length)
    on_echo_complete(c);
}

static void on_connect(fuv_tcp_t *tcp, int status, void *arg) {
  struct client *c = arg;
  int r;
  if (status < 0) {
    report_error("connect", status);
    finish(c, 1);
    return;
  }
  printf("echo_client: connected to %s port %d\n", c->ip, c->port);
  r = fuv_read_start((fuv_stream_t *)tcp, on_read, c);
  if (r == 0)
    r = send_next(c);
  if (r < 0) {
    report_error("start", r);
    finish(c, 1);
  }
}

static int usage(void) {
  fprintf(stderr, "usage: echo_client [--count K] [--size BYTES] [PORT] [IP]\n");
  return 2;
}

static long parse_number(const char *text, long min, long max) {
  char *end;
  long n = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || n < min || n > max)
    return -1;
  return n;
}

static int parse_args(struct client *c, int argc, char **argv) {
  int positional = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
      if ((c->count = parse_number(argv[++i], 1, 1000000)) < 0)
        return -1;
    } else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
      if ((c->size = parse_number(argv[++i], 0, 64L * 1024 * 1024)) < 0)
        return -1;
    } else if (positional == 0) {
      long port = parse_number(argv[i], 1, 65535);
      if (port < 0)
        return -1;
      c->port = (int)port;
      positional++;
    } else if (positional == 1) {
      c->ip = argv[i];
      positional++;
    } else {
      return -1;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  struct client c;
  int r;

  memset(&c, 0, sizeof c);
  c.ip = "127.0.0.1";
  c.port = 7000;
  c.count = 5;
  if (parse_args(&c, argc, argv) != 0)
    return usage();
  setvbuf(stdout, NULL, _IOLBF, 0);

  r = fuv_loop_new(&c.loop);
  if (r < 0) {
    report_error("loop", r);
    return 1;
  }
  r = fuv_tcp_new(&c.tcp, c.loop);
  if (r == 0)
    r = fuv_timer_new(&c.idle_timer, c.loop);
  if (r == 0)
    r = fuv_timer_start(c.idle_timer, on_idle_timeout, IDLE_TIMEOUT_MS,
                        IDLE_TIMEOUT_MS, &c);
  if (r == 0)
    r = fuv_tcp_connect(c.tcp, c.ip, c.port, on_connect, &c);
  if (r < 0) {
    report_error("connect", r);
    finish(&c, 1);
  }

  r = fuv_run(c.loop, FUV_RUN_DEFAULT);
  if (r < 0) {
    report_error("run", r);
    c.failed = 1;
  }
  r = fuv_loop_free(c.loop);
  if (r < 0) {
    report_error("loop_free", r);
    c.failed = 1;
  }
  free(c.message);
  free(c.echo);

  if (c.failed || c.current != c.count) {
    fprintf(stderr, "echo_client: FAILED after %ld of %ld messages\n",
            c.current, c.count);
    return 1;
  }
  printf("echo_client: %ld messages, %llu bytes sent, every echo verified\n",
         c.count, c.bytes_sent);
  return 0;
}
