/*
 * The C conformance runner: executes every case of tests/conformance/
 * cases.txt through the C API on real loopback sockets and compares what
 * it observes with the case's expect.* values.
 *
 *   runner CASES_FILE
 *
 * Prints one line per case and then "conformance-c: N passed, M failed".
 * A case of a kind (or an error op) this runner does not know fails.
 * Exits non-zero when any case failed.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flatuv.h"

#define MAX_FIELDS 32
#define MAX_TEXT 512

/* ---- cases and observations ------------------------------------------- */

typedef struct {
  char *key;
  char *value;
} field_t;

/* One parsed line of the cases file. */
typedef struct {
  char *id;
  char *kind;
  field_t fields[MAX_FIELDS];
  int nfields;
} case_t;

/* What a scenario observed, by the names the expect.* keys use, and the
 * first unexpected failure (a call that should have worked did not). */
typedef struct {
  field_t seen[MAX_FIELDS];
  int nseen;
  char failure[MAX_TEXT];
} result_t;

static const char *param(const case_t *c, const char *key) {
  int i;
  for (i = 0; i < c->nfields; i++) {
    if (strcmp(c->fields[i].key, key) == 0) return c->fields[i].value;
  }
  return NULL;
}

static int param_int(const case_t *c, const char *key, int fallback) {
  const char *v = param(c, key);
  return v ? atoi(v) : fallback;
}

static char *copy_text(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p) memcpy(p, s, n);
  return p;
}

/* Records an observation; a later one with the same key replaces it. */
static void observe(result_t *r, const char *key, const char *fmt, ...) {
  char text[MAX_TEXT];
  va_list ap;
  int i;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  for (i = 0; i < r->nseen; i++) {
    if (strcmp(r->seen[i].key, key) == 0) {
      free(r->seen[i].value);
      r->seen[i].value = copy_text(text);
      return;
    }
  }
  if (r->nseen == MAX_FIELDS) return;
  r->seen[r->nseen].key = copy_text(key);
  r->seen[r->nseen].value = copy_text(text);
  r->nseen++;
}

/* Keeps the first unexpected failure: later ones are usually its echoes. */
static void fail(result_t *r, const char *fmt, ...) {
  va_list ap;
  if (r->failure[0] != '\0') return;
  va_start(ap, fmt);
  vsnprintf(r->failure, sizeof r->failure, fmt, ap);
  va_end(ap);
}

/* "OK" for success, else the error's libuv name. */
static const char *status_name(int status) {
  return status >= 0 ? "OK" : fuv_err_name(status);
}

/* Runs a call that must succeed; on failure records it and returns 0. */
#define MUST(r, call)                                                       \
  (((call) < 0) ? (fail((r), "%s failed: %s", #call, fuv_err_name(call)), 0) \
                : 1)

/* ---- shared helpers ----------------------------------------------------- */

/* Byte i of every test stream, so that a reordered, lost or repeated byte
 * shows as a mismatch. */
static char pattern_byte(size_t i) { return (char)(i % 251); }

static void fill_pattern(char *buf, size_t len, size_t offset) {
  size_t i;
  for (i = 0; i < len; i++) buf[i] = pattern_byte(offset + i);
}

static void close_walk_cb(fuv_handle_t *h, void *arg) {
  (void)arg;
  fuv_close(h, NULL, NULL);
}

/* The guard: a scenario that has not finished after this long has hung. */
#define CASE_TIMEOUT_MS 20000

static void guard_cb(fuv_timer_t *t, void *arg) {
  fail(arg, "the case did not finish within %d ms", CASE_TIMEOUT_MS);
  fuv_walk(fuv_handle_loop((fuv_handle_t *)t), close_walk_cb, NULL);
}

/* Runs the scenario's loop until no referenced handle is active, under a
 * guard timer that does not itself keep the loop running. */
static void run_loop(result_t *r, fuv_loop_t *loop) {
  fuv_timer_t *guard = NULL;
  if (MUST(r, fuv_timer_new(&guard, loop)) &&
      MUST(r, fuv_timer_start(guard, guard_cb, CASE_TIMEOUT_MS, 0, r)))
    fuv_unref((fuv_handle_t *)guard);
  fuv_run(loop, FUV_RUN_DEFAULT);
}

/* Closes what the scenario left open (handles it owns but does not need to
 * close itself, e.g. an idle server side, and the guard), and frees the
 * loop; a loop that still cannot be freed is a failure. */
static void finish_loop(result_t *r, fuv_loop_t *loop) {
  fuv_walk(loop, close_walk_cb, NULL);
  fuv_run(loop, FUV_RUN_DEFAULT);
  if (fuv_loop_free(loop) != 0) fail(r, "the loop could not be freed");
}

/* Binds a TCP handle to host, port 0, and returns it with its port. */
static fuv_tcp_t *bound_tcp(result_t *r, fuv_loop_t *loop, const char *host,
                            int *port) {
  fuv_tcp_t *tcp = NULL;
  char ip[FUV_IP_NAME_MAX];
  if (!MUST(r, fuv_tcp_new(&tcp, loop))) return NULL;
  if (!MUST(r, fuv_tcp_bind(tcp, host, 0, 0)) ||
      !MUST(r, fuv_tcp_getsockname(tcp, ip, sizeof ip, port))) {
    fuv_close((fuv_handle_t *)tcp, NULL, NULL);
    return NULL;
  }
  return tcp;
}

/* A connected pair made with the synchronous calls: a client and the
 * server side of its connection (the listener is closed once it accepted).
 * Both stay open until finish_loop() unless the scenario closes them. */
typedef struct {
  fuv_tcp_t *listener, *client, *server;
} pair_t;

static int sync_pair(result_t *r, fuv_loop_t *loop, const char *host,
                     pair_t *p) {
  int port = 0, ok;
  memset(p, 0, sizeof *p);
  p->listener = bound_tcp(r, loop, host, &port);
  if (p->listener == NULL) return 0;
  ok = MUST(r, fuv_listen((fuv_stream_t *)p->listener, 16, NULL, NULL)) &&
       MUST(r, fuv_tcp_new(&p->client, loop)) &&
       MUST(r, fuv_tcp_connect_sync(p->client, host, port, 5000)) &&
       MUST(r, fuv_accept_sync((fuv_stream_t *)p->listener, &p->server, 5000));
  /* One connection is all a case needs. */
  fuv_close((fuv_handle_t *)p->listener, NULL, NULL);
  p->listener = NULL;
  return ok;
}

/* Appends to a growing byte buffer. */
typedef struct {
  char *data;
  size_t len, cap;
} bytes_t;

static void bytes_append(bytes_t *b, const char *data, size_t len) {
  if (b->len + len > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    char *p;
    while (cap < b->len + len) cap *= 2;
    p = realloc(b->data, cap);
    if (p == NULL) abort();
    b->data = p;
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
}

static int bytes_match_pattern(const bytes_t *b) {
  size_t i;
  for (i = 0; i < b->len; i++) {
    if (b->data[i] != pattern_byte(i)) return 0;
  }
  return 1;
}

/* ---- echo ---------------------------------------------------------------- */

typedef struct {
  result_t *r;
  fuv_tcp_t *listener, *client, *server;
  const char *host;
  int writes, size;
  bytes_t received;
  const char *end;
} echo_t;

static void echo_server_shutdown_cb(fuv_stream_t *s, int status, void *arg) {
  (void)status;
  (void)arg;
  fuv_close((fuv_handle_t *)s, NULL, NULL);
}

static void echo_server_read_cb(fuv_stream_t *s, ssize_t nread,
                                const char *buf, void *arg) {
  echo_t *e = arg;
  if (nread > 0) {
    MUST(e->r, fuv_write(s, buf, (size_t)nread, NULL, NULL));
  } else if (nread == FUV_EOF) {
    MUST(e->r, fuv_shutdown(s, echo_server_shutdown_cb, e));
  } else {
    fail(e->r, "server read: %s", fuv_err_name((int)nread));
    fuv_close((fuv_handle_t *)s, NULL, NULL);
  }
}

static void echo_connection_cb(fuv_stream_t *listener, int status, void *arg) {
  echo_t *e = arg;
  if (!MUST(e->r, status) || !MUST(e->r, fuv_accept(listener, &e->server)))
    return;
  MUST(e->r, fuv_read_start((fuv_stream_t *)e->server, echo_server_read_cb, e));
  fuv_close((fuv_handle_t *)listener, NULL, NULL);
  e->listener = NULL;
}

static void echo_client_read_cb(fuv_stream_t *s, ssize_t nread,
                                const char *buf, void *arg) {
  echo_t *e = arg;
  if (nread > 0) {
    bytes_append(&e->received, buf, (size_t)nread);
    return;
  }
  e->end = fuv_err_name((int)nread);
  fuv_close((fuv_handle_t *)s, NULL, NULL);
}

static void echo_connect_cb(fuv_tcp_t *tcp, int status, void *arg) {
  echo_t *e = arg;
  char ip[FUV_IP_NAME_MAX];
  int port, i;
  char *chunk;
  observe(e->r, "connect", "%s", status_name(status));
  if (status < 0) {
    fuv_close((fuv_handle_t *)tcp, NULL, NULL);
    return;
  }
  if (MUST(e->r, fuv_tcp_getpeername(tcp, ip, sizeof ip, &port)))
    observe(e->r, "peer", "%s", ip);
  chunk = malloc((size_t)e->size);
  if (chunk == NULL) abort();
  for (i = 0; i < e->writes; i++) {
    fill_pattern(chunk, (size_t)e->size, (size_t)i * (size_t)e->size);
    MUST(e->r, fuv_write((fuv_stream_t *)tcp, chunk, (size_t)e->size, NULL,
                         NULL));
  }
  free(chunk);
  MUST(e->r, fuv_shutdown((fuv_stream_t *)tcp, NULL, NULL));
  MUST(e->r, fuv_read_start((fuv_stream_t *)tcp, echo_client_read_cb, e));
}

static void run_echo(const case_t *c, result_t *r) {
  echo_t e;
  fuv_loop_t *loop;
  int port = 0;
  memset(&e, 0, sizeof e);
  e.r = r;
  e.host = param(c, "host");
  e.writes = param_int(c, "writes", 1);
  e.size = param_int(c, "size", 1);
  e.end = "none";
  if (!MUST(r, fuv_loop_new(&loop))) return;
  e.listener = bound_tcp(r, loop, e.host, &port);
  if (e.listener != NULL &&
      MUST(r, fuv_listen((fuv_stream_t *)e.listener, 16, echo_connection_cb,
                         &e)) &&
      MUST(r, fuv_tcp_new(&e.client, loop)))
    MUST(r, fuv_tcp_connect(e.client, e.host, port, echo_connect_cb, &e));
  run_loop(r, loop);
  finish_loop(r, loop);
  observe(r, "bytes", "%zu", e.received.len);
  observe(r, "intact", "%s",
          e.received.len == (size_t)e.writes * (size_t)e.size &&
                  bytes_match_pattern(&e.received)
              ? "yes"
              : "no");
  observe(r, "end", "%s", e.end);
  free(e.received.data);
}

/* ---- half_close --------------------------------------------------------- */

typedef struct {
  result_t *r;
  const char *request, *reply;
  fuv_tcp_t *listener, *client, *server;
  bytes_t client_read, server_read;
} half_t;

/* "<data>/EOF" (or "/<error>") for a stream read to its end. */
static void observe_read(result_t *r, const char *key, bytes_t *b,
                         const char *end) {
  observe(r, key, "%.*s/%s", (int)b->len, b->data ? b->data : "", end);
}

static void half_client_shutdown_cb(fuv_stream_t *s, int status, void *arg) {
  half_t *h = arg;
  (void)s;
  observe(h->r, "shutdown", "%s", status_name(status));
}

static void half_client_read_cb(fuv_stream_t *s, ssize_t nread,
                                const char *buf, void *arg) {
  half_t *h = arg;
  if (nread > 0) {
    bytes_append(&h->client_read, buf, (size_t)nread);
    return;
  }
  observe_read(h->r, "client_read", &h->client_read, fuv_err_name((int)nread));
  fuv_close((fuv_handle_t *)s, NULL, NULL);
}

static void half_server_write_cb(fuv_stream_t *s, int status, void *arg) {
  half_t *h = arg;
  (void)s;
  observe(h->r, "server_write", "%s", status_name(status));
}

static void half_server_shutdown_cb(fuv_stream_t *s, int status, void *arg) {
  (void)status;
  (void)arg;
  fuv_close((fuv_handle_t *)s, NULL, NULL);
}

static void half_server_read_cb(fuv_stream_t *s, ssize_t nread,
                                const char *buf, void *arg) {
  half_t *h = arg;
  if (nread > 0) {
    bytes_append(&h->server_read, buf, (size_t)nread);
    return;
  }
  observe_read(h->r, "server_read", &h->server_read, fuv_err_name((int)nread));
  /* The peer has finished sending; this side can still write. */
  if (!MUST(h->r, fuv_write(s, h->reply, strlen(h->reply),
                            half_server_write_cb, h)) ||
      !MUST(h->r, fuv_shutdown(s, half_server_shutdown_cb, h)))
    fuv_close((fuv_handle_t *)s, NULL, NULL);
}

static void half_connection_cb(fuv_stream_t *listener, int status, void *arg) {
  half_t *h = arg;
  if (!MUST(h->r, status) || !MUST(h->r, fuv_accept(listener, &h->server)))
    return;
  MUST(h->r,
       fuv_read_start((fuv_stream_t *)h->server, half_server_read_cb, h));
  fuv_close((fuv_handle_t *)listener, NULL, NULL);
  h->listener = NULL;
}

static void half_connect_cb(fuv_tcp_t *tcp, int status, void *arg) {
  half_t *h = arg;
  fuv_stream_t *s = (fuv_stream_t *)tcp;
  if (!MUST(h->r, status)) {
    fuv_close((fuv_handle_t *)tcp, NULL, NULL);
    return;
  }
  MUST(h->r, fuv_write(s, h->request, strlen(h->request), NULL, NULL));
  MUST(h->r, fuv_shutdown(s, half_client_shutdown_cb, h));
  MUST(h->r, fuv_read_start(s, half_client_read_cb, h));
}

static void run_half_close(const case_t *c, result_t *r) {
  half_t h;
  fuv_loop_t *loop;
  const char *host = param(c, "host");
  int port = 0;
  memset(&h, 0, sizeof h);
  h.r = r;
  h.request = param(c, "request");
  h.reply = param(c, "reply");
  if (!MUST(r, fuv_loop_new(&loop))) return;
  h.listener = bound_tcp(r, loop, host, &port);
  if (h.listener != NULL &&
      MUST(r, fuv_listen((fuv_stream_t *)h.listener, 16, half_connection_cb,
                         &h)) &&
      MUST(r, fuv_tcp_new(&h.client, loop)))
    MUST(r, fuv_tcp_connect(h.client, host, port, half_connect_cb, &h));
  run_loop(r, loop);
  finish_loop(r, loop);
  free(h.client_read.data);
  free(h.server_read.data);
}

/* ---- refused ------------------------------------------------------------ */

typedef struct {
  result_t *r;
  int close_calls;
} refused_t;

static void refused_close_cb(fuv_handle_t *h, void *arg) {
  refused_t *st = arg;
  (void)h;
  st->close_calls++;
}

static void refused_connect_cb(fuv_tcp_t *tcp, int status, void *arg) {
  refused_t *st = arg;
  observe(st->r, "connect", "%s", status_name(status));
  observe(st->r, "closing_in_cb", "%s",
          fuv_is_closing((fuv_handle_t *)tcp) ? "yes" : "no");
  MUST(st->r, fuv_close((fuv_handle_t *)tcp, refused_close_cb, st));
}

static void run_refused(const case_t *c, result_t *r) {
  refused_t st;
  fuv_loop_t *loop;
  fuv_tcp_t *bound, *client = NULL;
  const char *host = param(c, "host");
  int port = 0;
  memset(&st, 0, sizeof st);
  st.r = r;
  if (!MUST(r, fuv_loop_new(&loop))) return;
  /* A port that is bound but not listening refuses connections, and no
   * other program can take it while this handle holds it. */
  bound = bound_tcp(r, loop, host, &port);
  if (bound != NULL && MUST(r, fuv_tcp_new(&client, loop)))
    MUST(r, fuv_tcp_connect(client, host, port, refused_connect_cb, &st));
  (void)bound; /* closed by finish_loop() */
  run_loop(r, loop);
  finish_loop(r, loop);
  observe(r, "close_cb", "%d", st.close_calls);
}

/* ---- close_during_connect ----------------------------------------------- */

typedef struct {
  result_t *r;
  char events[MAX_TEXT];
  fuv_tcp_t *listener; /* closed with the handle whose events these are */
} events_t;

static void add_event(events_t *ev, const char *fmt, ...) {
  size_t used = strlen(ev->events);
  va_list ap;
  if (used > 0 && used + 1 < sizeof ev->events) ev->events[used++] = ',';
  va_start(ap, fmt);
  vsnprintf(ev->events + used, sizeof ev->events - used, fmt, ap);
  va_end(ap);
}

static void events_connect_cb(fuv_tcp_t *tcp, int status, void *arg) {
  (void)tcp;
  add_event(arg, "connect:%s", status_name(status));
}

static void events_close_cb(fuv_handle_t *h, void *arg) {
  events_t *ev = arg;
  (void)h;
  add_event(ev, "close");
  if (ev->listener != NULL) fuv_close((fuv_handle_t *)ev->listener, NULL, NULL);
  ev->listener = NULL;
}

/* Accepts and drops whatever connects, so the listener never holds a
 * connection that no one closes. */
static void drop_connection_cb(fuv_stream_t *listener, int status, void *arg) {
  fuv_tcp_t *conn = NULL;
  (void)arg;
  if (status == 0 && fuv_accept(listener, &conn) == 0)
    fuv_close((fuv_handle_t *)conn, NULL, NULL);
}

static void run_close_during_connect(const case_t *c, result_t *r) {
  events_t ev;
  fuv_loop_t *loop;
  fuv_tcp_t *listener, *client = NULL;
  const char *host = param(c, "host");
  int port = 0;
  memset(&ev, 0, sizeof ev);
  ev.r = r;
  if (!MUST(r, fuv_loop_new(&loop))) return;
  listener = bound_tcp(r, loop, host, &port);
  ev.listener = listener;
  if (listener != NULL &&
      MUST(r, fuv_listen((fuv_stream_t *)listener, 16, drop_connection_cb,
                         NULL)) &&
      MUST(r, fuv_tcp_new(&client, loop)) &&
      MUST(r, fuv_tcp_connect(client, host, port, events_connect_cb, &ev)))
    MUST(r, fuv_close((fuv_handle_t *)client, events_close_cb, &ev));
  run_loop(r, loop);
  finish_loop(r, loop);
  observe(r, "events", "%s", ev.events);
}

/* ---- cancel_writes ------------------------------------------------------ */

typedef struct {
  events_t ev;
  int index[64];
} cancel_t;

static void cancel_write_cb(fuv_stream_t *s, int status, void *arg) {
  int *index = arg;
  cancel_t *st = (cancel_t *)fuv_handle_get_data((fuv_handle_t *)s);
  add_event(&st->ev, "write%d:%s", *index, status_name(status));
}

static void run_cancel_writes(const case_t *c, result_t *r) {
  cancel_t st;
  pair_t p;
  fuv_loop_t *loop;
  fuv_stream_t *s;
  int size = param_int(c, "size", 65536);
  int queued = param_int(c, "queued", 1);
  int i, fills = 0;
  char *chunk;
  memset(&st, 0, sizeof st);
  st.ev.r = r;
  if (queued > 64) queued = 64;
  if (!MUST(r, fuv_loop_new(&loop))) return;
  chunk = calloc(1, (size_t)size);
  if (chunk == NULL) abort();
  if (sync_pair(r, loop, param(c, "host"), &p)) {
    s = (fuv_stream_t *)p.client;
    fuv_handle_set_data((fuv_handle_t *)s, &st);
    /* The server side never reads: once both socket buffers are full the
     * library has to queue. The bound keeps a broken core from looping
     * for ever. */
    while (fuv_write_queue_size(s) == 0 && fills < 100000 &&
           MUST(r, fuv_write(s, chunk, (size_t)size, NULL, NULL)))
      fills++;
    observe(r, "filled", "%s", fuv_write_queue_size(s) > 0 ? "yes" : "no");
    for (i = 0; i < queued; i++) {
      st.index[i] = i;
      MUST(r, fuv_write(s, chunk, (size_t)size, cancel_write_cb, &st.index[i]));
    }
    MUST(r, fuv_close((fuv_handle_t *)s, events_close_cb, &st.ev));
  }
  run_loop(r, loop);
  finish_loop(r, loop);
  observe(r, "events", "%s", st.ev.events);
  free(chunk);
}

/* ---- shutdown_twice ----------------------------------------------------- */

typedef struct {
  result_t *r;
  int second_calls;
} shut_t;

static void first_shutdown_cb(fuv_stream_t *s, int status, void *arg) {
  shut_t *st = arg;
  (void)s;
  observe(st->r, "first_cb", "%s", status_name(status));
}

static void second_shutdown_cb(fuv_stream_t *s, int status, void *arg) {
  shut_t *st = arg;
  (void)s;
  (void)status;
  st->second_calls++;
}

static void run_shutdown_twice(const case_t *c, result_t *r) {
  shut_t st;
  pair_t p;
  fuv_loop_t *loop;
  memset(&st, 0, sizeof st);
  st.r = r;
  if (!MUST(r, fuv_loop_new(&loop))) return;
  if (sync_pair(r, loop, param(c, "host"), &p)) {
    fuv_stream_t *s = (fuv_stream_t *)p.client;
    observe(r, "first", "%s",
            status_name(fuv_shutdown(s, first_shutdown_cb, &st)));
    observe(r, "second", "%s",
            status_name(fuv_shutdown(s, second_shutdown_cb, &st)));
  }
  run_loop(r, loop);
  finish_loop(r, loop);
  observe(r, "second_cb_calls", "%d", st.second_calls);
}

/* ---- timer_order -------------------------------------------------------- */

typedef struct {
  char order[MAX_TEXT];
  int index[64];
} order_t;

static void order_timer_cb(fuv_timer_t *t, void *arg) {
  int *index = arg;
  order_t *o = fuv_handle_get_data((fuv_handle_t *)t);
  size_t used = strlen(o->order);
  snprintf(o->order + used, sizeof o->order - used, "%s%d", used ? "," : "",
           *index);
  fuv_close((fuv_handle_t *)t, NULL, NULL);
}

static void run_timer_order(const case_t *c, result_t *r) {
  order_t o;
  fuv_loop_t *loop;
  const char *p = param(c, "timeouts");
  int n = 0;
  memset(&o, 0, sizeof o);
  if (p == NULL || !MUST(r, fuv_loop_new(&loop))) return;
  while (*p != '\0' && n < 64) {
    char *end;
    long ms = strtol(p, &end, 10);
    fuv_timer_t *t = NULL;
    o.index[n] = n;
    if (MUST(r, fuv_timer_new(&t, loop))) {
      fuv_handle_set_data((fuv_handle_t *)t, &o);
      if (!MUST(r, fuv_timer_start(t, order_timer_cb, (uint64_t)ms, 0,
                                   &o.index[n])))
        fuv_close((fuv_handle_t *)t, NULL, NULL);
    }
    n++;
    p = *end == ',' ? end + 1 : end;
  }
  run_loop(r, loop);
  finish_loop(r, loop);
  observe(r, "order", "%s", o.order);
}

/* ---- read_stop ---------------------------------------------------------- */

typedef struct {
  result_t *r;
  fuv_tcp_t *client;
  fuv_timer_t *pause;
  int pause_ms, stopped, calls_while_stopped, pending;
  bytes_t received;
  const char *end;
} rstop_t;

static void rstop_read_cb(fuv_stream_t *s, ssize_t nread, const char *buf,
                          void *arg);

/* The pause is the one place a timer stands in for an event: it checks
 * that no event happens while reading is stopped. */
static void rstop_pause_cb(fuv_timer_t *t, void *arg) {
  rstop_t *st = arg;
  int pending = fuv_tcp_pending_bytes(st->client);
  st->pending = pending > 0;
  st->stopped = 0;
  MUST(st->r, fuv_read_start((fuv_stream_t *)st->client, rstop_read_cb, st));
  fuv_close((fuv_handle_t *)t, NULL, NULL);
}

static void rstop_read_cb(fuv_stream_t *s, ssize_t nread, const char *buf,
                          void *arg) {
  rstop_t *st = arg;
  if (st->stopped) st->calls_while_stopped++;
  if (nread < 0) {
    st->end = fuv_err_name((int)nread);
    fuv_close((fuv_handle_t *)s, NULL, NULL);
    return;
  }
  bytes_append(&st->received, buf, (size_t)nread);
  if (st->pause == NULL) {
    MUST(st->r, fuv_read_stop(s));
    st->stopped = 1;
    if (MUST(st->r, fuv_timer_new(&st->pause, fuv_handle_loop(
                                                 (fuv_handle_t *)s))))
      MUST(st->r, fuv_timer_start(st->pause, rstop_pause_cb,
                                  (uint64_t)st->pause_ms, 0, st));
  }
}

static void run_read_stop(const case_t *c, result_t *r) {
  rstop_t st;
  pair_t p;
  fuv_loop_t *loop;
  int size = param_int(c, "size", 65536);
  char *data;
  memset(&st, 0, sizeof st);
  st.r = r;
  st.pause_ms = param_int(c, "pause_ms", 50);
  st.end = "none";
  if (!MUST(r, fuv_loop_new(&loop))) return;
  data = malloc((size_t)size);
  if (data == NULL) abort();
  fill_pattern(data, (size_t)size, 0);
  if (sync_pair(r, loop, param(c, "host"), &p)) {
    st.client = p.client;
    if (MUST(r, fuv_write((fuv_stream_t *)p.server, data, (size_t)size, NULL,
                          NULL)) &&
        MUST(r, fuv_shutdown((fuv_stream_t *)p.server, NULL, NULL)))
      MUST(r, fuv_read_start((fuv_stream_t *)p.client, rstop_read_cb, &st));
  }
  run_loop(r, loop);
  finish_loop(r, loop);
  observe(r, "calls_while_stopped", "%d", st.calls_while_stopped);
  observe(r, "pending_while_stopped", "%s", st.pending ? "yes" : "no");
  observe(r, "bytes", "%zu", st.received.len);
  observe(r, "intact", "%s",
          st.received.len == (size_t)size && bytes_match_pattern(&st.received)
              ? "yes"
              : "no");
  observe(r, "end", "%s", st.end);
  free(st.received.data);
  free(data);
}

/* ---- pipe names ---------------------------------------------------------- */

/* A pipe name for a case: a path in a new temporary directory, or a Linux
 * abstract name (first byte NUL, unique to this process and call). */
typedef struct {
  char name[108];
  size_t len;
  char dir[64]; /* the temporary directory, "" for an abstract name */
} pipe_name_t;

static int make_pipe_name(result_t *r, pipe_name_t *n, int abstract) {
  static int counter;
  memset(n, 0, sizeof *n);
  if (abstract) {
    n->len = 1 + (size_t)snprintf(n->name + 1, sizeof n->name - 1,
                                  "flatuv-conformance-%ld-%d", (long)getpid(),
                                  ++counter);
    return 1;
  }
  snprintf(n->dir, sizeof n->dir, "%s", "/tmp/flatuv-conformance-XXXXXX");
  if (mkdtemp(n->dir) == NULL) {
    fail(r, "mkdtemp failed");
    n->dir[0] = '\0';
    return 0;
  }
  n->len = (size_t)snprintf(n->name, sizeof n->name, "%s/pipe", n->dir);
  return 1;
}

/* Removes the socket file (if the library left it) and the directory. */
static void remove_pipe_name(pipe_name_t *n) {
  if (n->dir[0] == '\0') return;
  unlink(n->name);
  rmdir(n->dir);
}

/* ---- pipe_echo ----------------------------------------------------------- */

/* The echoing side of pipe_echo and fd_passing (arg: the result): writes
 * back what it reads, shuts down on EOF. */
static void echo_back_read_cb(fuv_stream_t *s, ssize_t nread, const char *buf,
                              void *arg) {
  result_t *r = arg;
  if (nread > 0) {
    MUST(r, fuv_write(s, buf, (size_t)nread, NULL, NULL));
  } else if (nread == FUV_EOF) {
    MUST(r, fuv_shutdown(s, echo_server_shutdown_cb, NULL));
  } else {
    fail(r, "server read: %s", fuv_err_name((int)nread));
    fuv_close((fuv_handle_t *)s, NULL, NULL);
  }
}

typedef struct {
  result_t *r;
  int writes, size;
  bytes_t received;
  const char *end;
} pecho_t;

static void pecho_connection_cb(fuv_stream_t *listener, int status,
                                void *arg) {
  pecho_t *e = arg;
  fuv_pipe_t *conn = NULL;
  if (MUST(e->r, status) &&
      MUST(e->r, fuv_pipe_new(&conn, fuv_handle_loop((fuv_handle_t *)listener),
                              0)) &&
      MUST(e->r, fuv_stream_accept_into(listener, (fuv_stream_t *)conn)))
    MUST(e->r, fuv_read_start((fuv_stream_t *)conn, echo_back_read_cb, e->r));
  fuv_close((fuv_handle_t *)listener, NULL, NULL);
}

static void pecho_client_read_cb(fuv_stream_t *s, ssize_t nread,
                                 const char *buf, void *arg) {
  pecho_t *e = arg;
  if (nread > 0) {
    bytes_append(&e->received, buf, (size_t)nread);
    return;
  }
  e->end = fuv_err_name((int)nread);
  fuv_close((fuv_handle_t *)s, NULL, NULL);
}

static void pecho_connect_cb(fuv_pipe_t *pipe, int status, void *arg) {
  pecho_t *e = arg;
  fuv_stream_t *s = (fuv_stream_t *)pipe;
  char *chunk;
  int i;
  observe(e->r, "connect", "%s", status_name(status));
  if (status < 0) {
    fuv_close((fuv_handle_t *)pipe, NULL, NULL);
    return;
  }
  chunk = malloc((size_t)e->size);
  if (chunk == NULL) abort();
  for (i = 0; i < e->writes; i++) {
    fill_pattern(chunk, (size_t)e->size, (size_t)i * (size_t)e->size);
    MUST(e->r, fuv_write(s, chunk, (size_t)e->size, NULL, NULL));
  }
  free(chunk);
  MUST(e->r, fuv_shutdown(s, NULL, NULL));
  MUST(e->r, fuv_read_start(s, pecho_client_read_cb, e));
}

static void run_pipe_echo(const case_t *c, result_t *r) {
  pecho_t e;
  pipe_name_t n;
  fuv_loop_t *loop;
  fuv_pipe_t *listener = NULL, *client = NULL;
  const char *kind = param(c, "name");
  char bound[sizeof n.name];
  size_t bound_len = 0;
  memset(&e, 0, sizeof e);
  e.r = r;
  e.writes = param_int(c, "writes", 1);
  e.size = param_int(c, "size", 1);
  e.end = "none";
  if (!MUST(r, fuv_loop_new(&loop))) return;
  if (make_pipe_name(r, &n, kind != NULL && strcmp(kind, "abstract") == 0) &&
      MUST(r, fuv_pipe_new(&listener, loop, 0)) &&
      MUST(r, fuv_pipe_bind2(listener, n.name, n.len, 0)) &&
      MUST(r, fuv_listen((fuv_stream_t *)listener, 16, pecho_connection_cb,
                         &e)) &&
      MUST(r, fuv_pipe_getsockname(listener, bound, sizeof bound,
                                   &bound_len))) {
    observe(r, "sockname", "%s",
            bound_len == n.len && memcmp(bound, n.name, n.len) == 0
                ? "match"
                : "mismatch");
    if (MUST(r, fuv_pipe_new(&client, loop, 0)))
      MUST(r, fuv_pipe_connect2(client, n.name, n.len, 0, pecho_connect_cb,
                                &e));
  }
  run_loop(r, loop);
  finish_loop(r, loop);
  remove_pipe_name(&n);
  observe(r, "bytes", "%zu", e.received.len);
  observe(r, "intact", "%s",
          e.received.len == (size_t)e.writes * (size_t)e.size &&
                  bytes_match_pattern(&e.received)
              ? "yes"
              : "no");
  observe(r, "end", "%s", e.end);
  free(e.received.data);
}

/* ---- fd_passing ---------------------------------------------------------- */

typedef struct {
  result_t *r;
  fuv_pipe_t *sender; /* one end of the socketpair */
  size_t size, half;
  bytes_t received;
} pass_t;

static void pass_sent_cb(fuv_stream_t *s, int status, void *arg) {
  pass_t *st = arg;
  MUST(st->r, status);
  fuv_close((fuv_handle_t *)s, NULL, NULL);
}

/* The TCP server: accepts the client's connection and passes it on. */
static void pass_connection_cb(fuv_stream_t *listener, int status,
                               void *arg) {
  pass_t *st = arg;
  fuv_tcp_t *conn = NULL;
  if (MUST(st->r, status) && MUST(st->r, fuv_accept(listener, &conn))) {
    MUST(st->r, fuv_write2((fuv_stream_t *)st->sender, "h", 1,
                           (fuv_stream_t *)conn, pass_sent_cb, st));
    fuv_close((fuv_handle_t *)conn, NULL, NULL);
  }
  fuv_close((fuv_handle_t *)listener, NULL, NULL);
}

/* The other end: accepts the handle that came with the byte and echoes on
 * it. */
static void pass_receiver_read_cb(fuv_stream_t *s, ssize_t nread,
                                  const char *buf, void *arg) {
  pass_t *st = arg;
  fuv_pipe_t *pipe = (fuv_pipe_t *)s;
  fuv_tcp_t *echo = NULL;
  (void)buf;
  if (nread == 0) return;
  if (nread < 0) {
    fail(st->r, "receiver read: %s", fuv_err_name((int)nread));
    fuv_close((fuv_handle_t *)s, NULL, NULL);
    return;
  }
  observe(st->r, "pending_count", "%d", fuv_pipe_pending_count(pipe));
  observe(st->r, "pending_type", "%s",
          fuv_handle_type_name(fuv_pipe_pending_type(pipe)));
  if (MUST(st->r, fuv_tcp_new(&echo, fuv_handle_loop((fuv_handle_t *)s))) &&
      MUST(st->r, fuv_stream_accept_into(s, (fuv_stream_t *)echo)))
    MUST(st->r, fuv_read_start((fuv_stream_t *)echo, echo_back_read_cb, st->r));
  fuv_close((fuv_handle_t *)s, NULL, NULL);
}

static void pass_client_read_cb(fuv_stream_t *s, ssize_t nread,
                                const char *buf, void *arg) {
  pass_t *st = arg;
  char *rest;
  if (nread < 0) {
    if (nread != FUV_EOF)
      fail(st->r, "client read: %s", fuv_err_name((int)nread));
    fuv_close((fuv_handle_t *)s, NULL, NULL);
    return;
  }
  bytes_append(&st->received, buf, (size_t)nread);
  if (nread == 0 || st->received.len != st->half) return;
  /* The first half came back through the passed handle: send the rest. */
  rest = malloc(st->size - st->half + 1);
  if (rest == NULL) abort();
  fill_pattern(rest, st->size - st->half, st->half);
  MUST(st->r, fuv_write(s, rest, st->size - st->half, NULL, NULL));
  MUST(st->r, fuv_shutdown(s, NULL, NULL));
  free(rest);
}

static void pass_connect_cb(fuv_tcp_t *tcp, int status, void *arg) {
  pass_t *st = arg;
  char *first;
  if (!MUST(st->r, status)) {
    fuv_close((fuv_handle_t *)tcp, NULL, NULL);
    return;
  }
  /* The first half is sent before the hand-off: it waits in the socket. */
  first = malloc(st->half);
  if (first == NULL) abort();
  fill_pattern(first, st->half, 0);
  MUST(st->r, fuv_write((fuv_stream_t *)tcp, first, st->half, NULL, NULL));
  free(first);
  MUST(st->r, fuv_read_start((fuv_stream_t *)tcp, pass_client_read_cb, st));
}

static void run_fd_passing(const case_t *c, result_t *r) {
  pass_t st;
  fuv_loop_t *loop;
  fuv_pipe_t *receiver = NULL;
  fuv_tcp_t *listener, *client = NULL;
  const char *host = param(c, "host");
  int fd0 = -1, fd1 = -1, port = 0;
  memset(&st, 0, sizeof st);
  st.r = r;
  st.size = (size_t)param_int(c, "size", 2);
  st.half = st.size / 2;
  if (!MUST(r, fuv_loop_new(&loop))) return;
  if (MUST(r, fuv_socketpair(FUV_SOCK_STREAM, 0, &fd0, &fd1, 0, 0)) &&
      MUST(r, fuv_pipe_new(&st.sender, loop, 1)) &&
      MUST(r, fuv_pipe_open(st.sender, fd0)) &&
      MUST(r, fuv_pipe_new(&receiver, loop, 1)) &&
      MUST(r, fuv_pipe_open(receiver, fd1)) &&
      MUST(r, fuv_read_start((fuv_stream_t *)receiver, pass_receiver_read_cb,
                             &st)) &&
      (listener = bound_tcp(r, loop, host, &port)) != NULL &&
      MUST(r, fuv_listen((fuv_stream_t *)listener, 16, pass_connection_cb,
                         &st)) &&
      MUST(r, fuv_tcp_new(&client, loop)))
    MUST(r, fuv_tcp_connect(client, host, port, pass_connect_cb, &st));
  run_loop(r, loop);
  finish_loop(r, loop);
  observe(r, "bytes", "%zu", st.received.len);
  observe(r, "intact", "%s",
          st.received.len == st.size && bytes_match_pattern(&st.received)
              ? "yes"
              : "no");
  free(st.received.data);
}

/* ---- loop_phases --------------------------------------------------------- */

typedef struct {
  events_t ev;
  fuv_idle_t *idle;
  fuv_prepare_t *prepare;
  fuv_check_t *check;
  int checks;
} phases_t;

static void phases_timer_cb(fuv_timer_t *t, void *arg) {
  add_event(arg, "timer");
  fuv_close((fuv_handle_t *)t, NULL, NULL);
}

static void phases_idle_cb(fuv_idle_t *h, void *arg) {
  (void)h;
  add_event(arg, "idle");
}

static void phases_prepare_cb(fuv_prepare_t *h, void *arg) {
  (void)h;
  add_event(arg, "prepare");
}

/* The second check ends the case. */
static void phases_check_cb(fuv_check_t *h, void *arg) {
  phases_t *st = arg;
  (void)h;
  add_event(&st->ev, "check");
  if (++st->checks < 2) return;
  fuv_close((fuv_handle_t *)st->idle, NULL, NULL);
  fuv_close((fuv_handle_t *)st->prepare, NULL, NULL);
  fuv_close((fuv_handle_t *)st->check, NULL, NULL);
}

static void run_loop_phases(const case_t *c, result_t *r) {
  phases_t st;
  fuv_loop_t *loop;
  fuv_timer_t *timer = NULL;
  (void)c;
  memset(&st, 0, sizeof st);
  st.ev.r = r;
  if (!MUST(r, fuv_loop_new(&loop))) return;
  if (MUST(r, fuv_timer_new(&timer, loop)) &&
      MUST(r, fuv_timer_start(timer, phases_timer_cb, 0, 0, &st.ev)) &&
      MUST(r, fuv_idle_new(&st.idle, loop)) &&
      MUST(r, fuv_idle_start(st.idle, phases_idle_cb, &st.ev)) &&
      MUST(r, fuv_prepare_new(&st.prepare, loop)) &&
      MUST(r, fuv_prepare_start(st.prepare, phases_prepare_cb, &st.ev)) &&
      MUST(r, fuv_check_new(&st.check, loop)))
    MUST(r, fuv_check_start(st.check, phases_check_cb, &st));
  run_loop(r, loop);
  finish_loop(r, loop);
  observe(r, "order", "%s", st.ev.events);
}

/* ---- cancel_write -------------------------------------------------------- */

typedef struct {
  events_t ev;
  bytes_t received;
} cwrite_t;

static void cwrite_cb(fuv_stream_t *s, int status, void *arg) {
  const char *name = arg;
  cwrite_t *st = fuv_handle_get_data((fuv_handle_t *)s);
  add_event(&st->ev, "%s:%s", name, status_name(status));
}

static void cwrite_shutdown_cb(fuv_stream_t *s, int status, void *arg) {
  (void)status;
  (void)arg;
  fuv_close((fuv_handle_t *)s, NULL, NULL);
}

static void cwrite_peer_read_cb(fuv_stream_t *s, ssize_t nread,
                                const char *buf, void *arg) {
  cwrite_t *st = arg;
  if (nread >= 0) {
    bytes_append(&st->received, buf, (size_t)nread);
    return;
  }
  if (nread != FUV_EOF) fail(st->ev.r, "peer read: %s", fuv_err_name((int)nread));
  fuv_close((fuv_handle_t *)s, NULL, NULL);
}

static void run_cancel_write(const case_t *c, result_t *r) {
  static const char *names[] = {"A", "B", "C"};
  cwrite_t st;
  pair_t p;
  fuv_loop_t *loop;
  fuv_stream_t *s;
  fuv_req_t *req[3] = {NULL, NULL, NULL};
  size_t size = (size_t)param_int(c, "size", 65536), sent = 0;
  int i, fills = 0;
  char *chunk;
  memset(&st, 0, sizeof st);
  st.ev.r = r;
  if (!MUST(r, fuv_loop_new(&loop))) return;
  chunk = malloc(size);
  if (chunk == NULL) abort();
  if (sync_pair(r, loop, param(c, "host"), &p)) {
    s = (fuv_stream_t *)p.client;
    fuv_handle_set_data((fuv_handle_t *)s, &st);
    /* The peer does not read yet: once both socket buffers are full the
     * library has to queue (the bound keeps a broken core from looping). */
    while (fuv_write_queue_size(s) == 0 && fills < 100000) {
      fill_pattern(chunk, size, sent);
      if (!MUST(r, fuv_write(s, chunk, size, NULL, NULL))) break;
      sent += size;
      fills++;
    }
    /* A and C continue the stream; B's bytes (255) would break it. */
    for (i = 0; i < 3; i++) {
      if (i == 1) {
        memset(chunk, 255, size);
      } else {
        fill_pattern(chunk, size, sent);
        sent += size;
      }
      MUST(r, fuv_write_req(s, chunk, size, cwrite_cb, (void *)names[i],
                            &req[i]));
    }
    observe(r, "cancel", "%s", status_name(fuv_cancel(req[1])));
    MUST(r, fuv_shutdown(s, cwrite_shutdown_cb, NULL));
    MUST(r, fuv_read_start((fuv_stream_t *)p.server, cwrite_peer_read_cb, &st));
  }
  run_loop(r, loop);
  finish_loop(r, loop);
  for (i = 0; i < 3; i++) fuv_req_release(req[i]);
  observe(r, "events", "%s", st.ev.events);
  observe(r, "intact", "%s",
          st.received.len == sent && bytes_match_pattern(&st.received)
              ? "yes"
              : "no");
  free(st.received.data);
  free(chunk);
}

/* ---- cancel_connect ------------------------------------------------------ */

typedef struct {
  result_t *r;
  const char *host;
  int port;
  fuv_tcp_t *listener;
} cconn_t;

static void cconn_reconnect_cb(fuv_tcp_t *tcp, int status, void *arg) {
  cconn_t *st = arg;
  observe(st->r, "reconnect", "%s", status_name(status));
  fuv_close((fuv_handle_t *)tcp, NULL, NULL);
  fuv_close((fuv_handle_t *)st->listener, NULL, NULL);
}

static void cconn_connect_cb(fuv_tcp_t *tcp, int status, void *arg) {
  cconn_t *st = arg;
  observe(st->r, "connect", "%s", status_name(status));
  if (!MUST(st->r, fuv_tcp_connect(tcp, st->host, st->port, cconn_reconnect_cb,
                                   st))) {
    fuv_close((fuv_handle_t *)tcp, NULL, NULL);
    fuv_close((fuv_handle_t *)st->listener, NULL, NULL);
  }
}

static void run_cancel_connect(const case_t *c, result_t *r) {
  cconn_t st;
  fuv_loop_t *loop;
  fuv_tcp_t *client = NULL;
  fuv_req_t *req = NULL;
  memset(&st, 0, sizeof st);
  st.r = r;
  st.host = param(c, "host");
  if (!MUST(r, fuv_loop_new(&loop))) return;
  st.listener = bound_tcp(r, loop, st.host, &st.port);
  if (st.listener != NULL &&
      MUST(r, fuv_listen((fuv_stream_t *)st.listener, 16, drop_connection_cb,
                         NULL)) &&
      MUST(r, fuv_tcp_new(&client, loop)) &&
      MUST(r, fuv_tcp_connect_req(client, st.host, st.port, cconn_connect_cb,
                                  &st, &req)))
    observe(r, "cancel", "%s", status_name(fuv_cancel(req)));
  run_loop(r, loop);
  finish_loop(r, loop);
  fuv_req_release(req);
}

/* ---- UDP ------------------------------------------------------------------ */

/* Binds a UDP handle to host, port 0, and returns it with its port. */
static fuv_udp_t *bound_udp(result_t *r, fuv_loop_t *loop, const char *host,
                            int *port) {
  fuv_udp_t *udp = NULL;
  char ip[FUV_IP_NAME_MAX];
  if (!MUST(r, fuv_udp_new(&udp, loop))) return NULL;
  if (!MUST(r, fuv_udp_bind(udp, host, 0, 0)) ||
      !MUST(r, fuv_udp_getsockname(udp, ip, sizeof ip, port))) {
    fuv_close((fuv_handle_t *)udp, NULL, NULL);
    return NULL;
  }
  return udp;
}

/* The sender's address as text, or "?" when it cannot be read. */
static void sender_ip(const struct sockaddr *addr, char *ip, size_t len) {
  int port;
  if (addr == NULL || fuv_sockaddr_ip(addr, ip, len, &port) < 0)
    snprintf(ip, len, "?");
}

/* Parses a comma-separated list of sizes; returns how many (at most max). */
static int parse_sizes(const char *text, int *sizes, int max) {
  int n = 0;
  while (text != NULL && *text != '\0' && n < max) {
    char *end;
    sizes[n++] = (int)strtol(text, &end, 10);
    text = *end == ',' ? end + 1 : end;
  }
  return n;
}

/* Whether len bytes at data are the first len bytes of the pattern. */
static int match_pattern(const char *data, size_t len) {
  size_t i;
  for (i = 0; i < len; i++) {
    if (data[i] != pattern_byte(i)) return 0;
  }
  return 1;
}

#define UDP_MAX_SIZES 16

typedef struct {
  result_t *r;
  fuv_udp_t *server, *client;
  int sizes[UDP_MAX_SIZES];
  int nsizes, datagrams, intact;
  size_t bytes;
  char sender[FUV_IP_NAME_MAX];
} udp_echo_t;

static void udp_echo_server_cb(fuv_udp_t *udp, ssize_t nread, const char *buf,
                               const struct sockaddr *addr, unsigned flags,
                               void *arg) {
  udp_echo_t *e = arg;
  (void)flags;
  if (nread < 0) {
    fail(e->r, "server recv: %s", fuv_err_name((int)nread));
    return;
  }
  MUST(e->r, fuv_udp_send_addr(udp, buf, (size_t)nread, addr, NULL, NULL));
}

/* Each echo must be the next size sent, the pattern intact; the last one
 * closes both ends. */
static void udp_echo_client_cb(fuv_udp_t *udp, ssize_t nread, const char *buf,
                               const struct sockaddr *addr, unsigned flags,
                               void *arg) {
  udp_echo_t *e = arg;
  (void)flags;
  if (nread < 0) {
    fail(e->r, "client recv: %s", fuv_err_name((int)nread));
    return;
  }
  sender_ip(addr, e->sender, sizeof e->sender);
  if (nread != e->sizes[e->datagrams] || !match_pattern(buf, (size_t)nread))
    e->intact = 0;
  e->bytes += (size_t)nread;
  if (++e->datagrams == e->nsizes) {
    fuv_close((fuv_handle_t *)udp, NULL, NULL);
    fuv_close((fuv_handle_t *)e->server, NULL, NULL);
  }
}

static void run_udp_echo(const case_t *c, result_t *r) {
  udp_echo_t e;
  fuv_loop_t *loop;
  const char *host = param(c, "host");
  char data[65536];
  int port = 0, client_port = 0, i;
  memset(&e, 0, sizeof e);
  e.r = r;
  e.intact = 1;
  snprintf(e.sender, sizeof e.sender, "none");
  e.nsizes = parse_sizes(param(c, "sizes"), e.sizes, UDP_MAX_SIZES);
  fill_pattern(data, sizeof data, 0);
  if (!MUST(r, fuv_loop_new(&loop))) return;
  e.server = bound_udp(r, loop, host, &port);
  e.client = bound_udp(r, loop, host, &client_port);
  if (e.server != NULL && e.client != NULL &&
      MUST(r, fuv_udp_recv_start(e.server, udp_echo_server_cb, &e)) &&
      MUST(r, fuv_udp_recv_start(e.client, udp_echo_client_cb, &e))) {
    for (i = 0; i < e.nsizes; i++)
      MUST(r, fuv_udp_send(e.client, data, (size_t)e.sizes[i], host, port,
                           NULL, NULL));
    run_loop(r, loop);
  }
  finish_loop(r, loop);
  observe(r, "sender", "%s", e.sender);
  observe(r, "datagrams", "%d", e.datagrams);
  observe(r, "bytes", "%zu", e.bytes);
  observe(r, "intact", "%s", e.intact && e.datagrams == e.nsizes ? "yes" : "no");
}

/* One datagram received by a handle that closes itself and `other` on it:
 * the scenarios that need a single datagram share it. */
typedef struct {
  result_t *r;
  fuv_udp_t *other;
  int calls;
  ssize_t nread;
  unsigned flags;
  int intact;
  char sender[FUV_IP_NAME_MAX];
} udp_one_t;

static void udp_one_cb(fuv_udp_t *udp, ssize_t nread, const char *buf,
                       const struct sockaddr *addr, unsigned flags, void *arg) {
  udp_one_t *o = arg;
  o->calls++;
  o->nread = nread;
  o->flags = flags;
  o->intact = nread >= 0 && match_pattern(buf, (size_t)nread);
  sender_ip(addr, o->sender, sizeof o->sender);
  fuv_close((fuv_handle_t *)udp, NULL, NULL);
  if (o->other != NULL) fuv_close((fuv_handle_t *)o->other, NULL, NULL);
  o->other = NULL;
}

/* Sends one datagram of `size` bytes from a client to a server whose
 * largest datagram is max (when given), and records what the server got. */
static void udp_one(const case_t *c, result_t *r, udp_one_t *o) {
  fuv_loop_t *loop;
  fuv_udp_t *server, *client;
  const char *host = param(c, "host");
  int size = param_int(c, "size", 0), max = param_int(c, "max", 0);
  int port = 0, client_port = 0;
  char data[65536];
  memset(o, 0, sizeof *o);
  o->r = r;
  o->nread = -1;
  snprintf(o->sender, sizeof o->sender, "none");
  fill_pattern(data, sizeof data, 0);
  if (!MUST(r, fuv_loop_new(&loop))) return;
  server = bound_udp(r, loop, host, &port);
  client = bound_udp(r, loop, host, &client_port);
  o->other = client;
  if (server != NULL && client != NULL &&
      (max == 0 || MUST(r, fuv_udp_set_max_datagram(server, max))) &&
      MUST(r, fuv_udp_recv_start(server, udp_one_cb, o)) &&
      MUST(r, fuv_udp_send(client, data, (size_t)size, host, port, NULL,
                           NULL)))
    run_loop(r, loop);
  finish_loop(r, loop);
}

static void run_udp_truncate(const case_t *c, result_t *r) {
  udp_one_t o;
  udp_one(c, r, &o);
  observe(r, "nread", "%zd", o.nread);
  observe(r, "partial", "%s", (o.flags & FUV_UDP_PARTIAL) ? "yes" : "no");
  observe(r, "intact", "%s", o.intact ? "yes" : "no");
}

static void run_udp_empty(const case_t *c, result_t *r) {
  udp_one_t o;
  udp_one(c, r, &o);
  observe(r, "calls", "%d", o.calls);
  observe(r, "nread", "%zd", o.nread);
  observe(r, "sender", "%s", o.sender);
}

/* A connected client sends to another destination (refused at the call),
 * then, connected to a port with no socket, learns of the ICMP refusal in
 * its receive callback. */
typedef struct {
  result_t *r;
  const char *refused;
} udp_refused_t;

static void udp_refused_cb(fuv_udp_t *udp, ssize_t nread, const char *buf,
                           const struct sockaddr *addr, unsigned flags,
                           void *arg) {
  udp_refused_t *u = arg;
  (void)buf;
  (void)addr;
  (void)flags;
  u->refused = status_name((int)nread);
  fuv_close((fuv_handle_t *)udp, NULL, NULL);
}

static void run_udp_connected(const case_t *c, result_t *r) {
  fuv_loop_t *loop;
  fuv_udp_t *server, *client = NULL, *closed;
  udp_refused_t u;
  const char *host = param(c, "host");
  int port = 0, closed_port = 0;
  u.r = r;
  u.refused = "none";
  if (!MUST(r, fuv_loop_new(&loop))) return;
  server = bound_udp(r, loop, host, &port);
  /* A port that was just free: nothing listens there once it is closed. */
  closed = bound_udp(r, loop, host, &closed_port);
  if (closed != NULL) fuv_close((fuv_handle_t *)closed, NULL, NULL);
  if (server != NULL && closed != NULL && MUST(r, fuv_udp_new(&client, loop)) &&
      MUST(r, fuv_udp_connect(client, host, port))) {
    observe(r, "other_dest", "%s",
            status_name(fuv_udp_send(client, "x", 1, host, closed_port, NULL,
                                     NULL)));
    if (MUST(r, fuv_udp_connect(client, NULL, 0)) &&
        MUST(r, fuv_udp_connect(client, host, closed_port)) &&
        MUST(r, fuv_udp_recv_start(client, udp_refused_cb, &u)) &&
        MUST(r, fuv_udp_send(client, "x", 1, NULL, 0, NULL, NULL)))
      run_loop(r, loop);
  }
  finish_loop(r, loop);
  observe(r, "refused", "%s", u.refused);
}

/* ---- error -------------------------------------------------------------- */

static void ignore_read_cb(fuv_stream_t *s, ssize_t nread, const char *buf,
                           void *arg) {
  (void)s;
  (void)nread;
  (void)buf;
  (void)arg;
}

static void ignore_timer_cb(fuv_timer_t *t, void *arg) {
  (void)t;
  (void)arg;
}

/* accept_into_busy's connection callback: accepts into a handle with a
 * socket, then closes the server (and the connection with it). */
typedef struct {
  fuv_tcp_t *busy;
  int err;
} busy_t;

static void busy_connection_cb(fuv_stream_t *listener, int status, void *arg) {
  busy_t *b = arg;
  (void)status;
  b->err = fuv_stream_accept_into(listener, (fuv_stream_t *)b->busy);
  fuv_close((fuv_handle_t *)listener, NULL, NULL);
}

static void ignore_write_cb(fuv_stream_t *s, int status, void *arg) {
  (void)s;
  (void)status;
  (void)arg;
}

/* Performs one error op on loop and returns the error it gave (0 when the
 * call unexpectedly succeeded), or 1 for an op this runner does not know. */
static int error_op(result_t *r, fuv_loop_t *loop, const char *op) {
  fuv_tcp_t *tcp = NULL, *other = NULL;
  fuv_timer_t *timer = NULL;
  fuv_udp_t *udp = NULL;
  pair_t p;
  int port = 0, other_port = 0, err = 1;
  if (strcmp(op, "bind_bad_ip") == 0) {
    if (MUST(r, fuv_tcp_new(&tcp, loop))) err = fuv_tcp_bind(tcp, "300.1.2.3", 0, 0);
  } else if (strcmp(op, "bind_ipv6only_ipv4") == 0) {
    if (MUST(r, fuv_tcp_new(&tcp, loop)))
      err = fuv_tcp_bind(tcp, "127.0.0.1", 0, FUV_TCP_IPV6ONLY);
  } else if (strcmp(op, "listen_taken_port") == 0) {
    tcp = bound_tcp(r, loop, "127.0.0.1", &port);
    if (tcp != NULL && MUST(r, fuv_listen((fuv_stream_t *)tcp, 16, NULL, NULL)) &&
        MUST(r, fuv_tcp_new(&other, loop)) &&
        MUST(r, fuv_tcp_bind(other, "127.0.0.1", port, 0)))
      err = fuv_listen((fuv_stream_t *)other, 16, NULL, NULL);
  } else if (strcmp(op, "accept_nothing_pending") == 0) {
    tcp = bound_tcp(r, loop, "127.0.0.1", &port);
    if (tcp != NULL && MUST(r, fuv_listen((fuv_stream_t *)tcp, 16, NULL, NULL))) {
      err = fuv_accept((fuv_stream_t *)tcp, &other);
    }
  } else if (strcmp(op, "read_start_unconnected") == 0) {
    if (MUST(r, fuv_tcp_new_ex(&tcp, loop, FUV_AF_INET)))
      err = fuv_read_start((fuv_stream_t *)tcp, ignore_read_cb, NULL);
  } else if (strcmp(op, "read_start_twice") == 0) {
    if (sync_pair(r, loop, "127.0.0.1", &p) &&
        MUST(r, fuv_read_start((fuv_stream_t *)p.client, ignore_read_cb, NULL)))
      err = fuv_read_start((fuv_stream_t *)p.client, ignore_read_cb, NULL);
  } else if (strcmp(op, "connect_port_zero") == 0) {
    if (MUST(r, fuv_tcp_new(&tcp, loop)))
      err = fuv_tcp_connect(tcp, "127.0.0.1", 0, NULL, NULL);
  } else if (strcmp(op, "connect_twice") == 0) {
    other = bound_tcp(r, loop, "127.0.0.1", &port);
    if (other != NULL &&
        MUST(r, fuv_listen((fuv_stream_t *)other, 16, drop_connection_cb, NULL)) &&
        MUST(r, fuv_tcp_new(&tcp, loop)) &&
        MUST(r, fuv_tcp_connect(tcp, "127.0.0.1", port, NULL, NULL)))
      err = fuv_tcp_connect(tcp, "127.0.0.1", port, NULL, NULL);
  } else if (strcmp(op, "write_after_shutdown") == 0) {
    if (sync_pair(r, loop, "127.0.0.1", &p) &&
        MUST(r, fuv_shutdown((fuv_stream_t *)p.client, NULL, NULL)))
      err = fuv_write((fuv_stream_t *)p.client, "x", 1, NULL, NULL);
  } else if (strcmp(op, "recv_timeout") == 0) {
    char buf[16];
    if (sync_pair(r, loop, "127.0.0.1", &p))
      err = fuv_recv((fuv_stream_t *)p.client, buf, sizeof buf, 10);
    if (err > 0) err = 0;
  } else if (strcmp(op, "close_twice") == 0) {
    if (MUST(r, fuv_timer_new(&timer, loop)) &&
        MUST(r, fuv_close((fuv_handle_t *)timer, NULL, NULL)))
      err = fuv_close((fuv_handle_t *)timer, NULL, NULL);
  } else if (strcmp(op, "timer_again_unstarted") == 0) {
    if (MUST(r, fuv_timer_new(&timer, loop))) err = fuv_timer_again(timer);
  } else if (strcmp(op, "loop_close_busy") == 0) {
    if (MUST(r, fuv_timer_new(&timer, loop)) &&
        MUST(r, fuv_timer_start(timer, ignore_timer_cb, 1000, 0, NULL)))
      err = fuv_loop_free(loop);
  } else if (strcmp(op, "accept_into_busy") == 0) {
    /* A connection waits (the loop accepted it for the connection
     * callback); the handle to accept it into is bound. */
    busy_t b;
    b.err = 0;
    tcp = bound_tcp(r, loop, "127.0.0.1", &port);
    if (tcp != NULL &&
        MUST(r, fuv_listen((fuv_stream_t *)tcp, 16, busy_connection_cb, &b)) &&
        (b.busy = bound_tcp(r, loop, "127.0.0.1", &other_port)) != NULL &&
        MUST(r, fuv_tcp_new(&other, loop)) &&
        MUST(r, fuv_tcp_connect(other, "127.0.0.1", port, NULL, NULL))) {
      run_loop(r, loop);
      err = b.err;
    }
  } else if (strcmp(op, "cancel_completed") == 0) {
    fuv_req_t *req = NULL;
    if (sync_pair(r, loop, "127.0.0.1", &p) &&
        MUST(r, fuv_write_req((fuv_stream_t *)p.client, "x", 1, ignore_write_cb,
                              NULL, &req))) {
      fuv_run(loop, FUV_RUN_DEFAULT); /* until the write's callback ran */
      err = fuv_cancel(req);
    }
    fuv_req_release(req);
  } else if (strcmp(op, "pipe_bind_in_use") == 0) {
    fuv_pipe_t *first = NULL, *second = NULL;
    pipe_name_t n;
    if (make_pipe_name(r, &n, 0)) {
      if (MUST(r, fuv_pipe_new(&first, loop, 0)) &&
          MUST(r, fuv_pipe_bind(first, n.name)) &&
          MUST(r, fuv_pipe_new(&second, loop, 0)))
        err = fuv_pipe_bind(second, n.name);
      remove_pipe_name(&n);
    }
  } else if (strcmp(op, "udp_bind_bad_ip") == 0) {
    if (MUST(r, fuv_udp_new(&udp, loop)))
      err = fuv_udp_bind(udp, "300.1.2.3", 0, 0);
  } else if (strcmp(op, "udp_bind_port_range") == 0) {
    if (MUST(r, fuv_udp_new(&udp, loop)))
      err = fuv_udp_bind(udp, "127.0.0.1", 65536, 0);
  } else if (strcmp(op, "udp_send_closed") == 0) {
    udp = bound_udp(r, loop, "127.0.0.1", &port);
    if (udp != NULL && MUST(r, fuv_close((fuv_handle_t *)udp, NULL, NULL)))
      err = fuv_udp_send(udp, "x", 1, "127.0.0.1", port, NULL, NULL);
  } else if (strcmp(op, "udp_membership_no_socket") == 0) {
    if (MUST(r, fuv_udp_new(&udp, loop)))
      err = fuv_udp_set_membership(udp, "239.255.0.1", NULL, FUV_JOIN_GROUP);
  } else if (strcmp(op, "udp_recv_timeout") == 0) {
    char buf[16], ip[FUV_IP_NAME_MAX];
    udp = bound_udp(r, loop, "127.0.0.1", &port);
    if (udp != NULL)
      err = fuv_udp_recv_sync(udp, buf, sizeof buf, ip, sizeof ip, &other_port,
                              10);
    if (err > 0) err = 0;
  } else if (strcmp(op, "shutdown_after_close_reset") == 0) {
    if (sync_pair(r, loop, "127.0.0.1", &p) &&
        MUST(r, fuv_tcp_close_reset(p.client, NULL, NULL)))
      err = fuv_shutdown((fuv_stream_t *)p.client, NULL, NULL);
  }
  /* Every handle made here is closed by finish_loop(). */
  return err;
}

static void run_error(const case_t *c, result_t *r) {
  fuv_loop_t *loop;
  const char *op = param(c, "op");
  int err;
  if (!MUST(r, fuv_loop_new(&loop))) return;
  err = error_op(r, loop, op ? op : "");
  if (err == 1)
    fail(r, "error op '%s' is not implemented by this runner", op ? op : "");
  else
    observe(r, "error", "%s", status_name(err));
  finish_loop(r, loop);
}

/* ---- the driver --------------------------------------------------------- */

typedef struct {
  const char *kind;
  void (*run)(const case_t *c, result_t *r);
} kind_t;

static const kind_t kinds[] = {
    {"echo", run_echo},
    {"half_close", run_half_close},
    {"refused", run_refused},
    {"close_during_connect", run_close_during_connect},
    {"cancel_writes", run_cancel_writes},
    {"shutdown_twice", run_shutdown_twice},
    {"timer_order", run_timer_order},
    {"read_stop", run_read_stop},
    {"pipe_echo", run_pipe_echo},
    {"fd_passing", run_fd_passing},
    {"loop_phases", run_loop_phases},
    {"cancel_write", run_cancel_write},
    {"cancel_connect", run_cancel_connect},
    {"udp_echo", run_udp_echo},
    {"udp_truncate", run_udp_truncate},
    {"udp_empty", run_udp_empty},
    {"udp_connected", run_udp_connected},
    {"error", run_error},
};

/* Splits a line into a case in place; returns 0 for blank and comment
 * lines. */
static int parse_line(char *line, case_t *c) {
  char *tok, *save = NULL;
  int n = 0;
  memset(c, 0, sizeof *c);
  line[strcspn(line, "\r\n")] = '\0';
  for (tok = strtok_r(line, " \t", &save); tok != NULL;
       tok = strtok_r(NULL, " \t", &save)) {
    if (n == 0 && tok[0] == '#') return 0;
    if (n == 0) {
      c->id = tok;
    } else if (n == 1) {
      c->kind = tok;
    } else if (c->nfields < MAX_FIELDS) {
      char *eq = strchr(tok, '=');
      if (eq == NULL) continue;
      *eq = '\0';
      c->fields[c->nfields].key = tok;
      c->fields[c->nfields].value = eq + 1;
      c->nfields++;
    }
    n++;
  }
  return n >= 2;
}

/* Runs one case and prints its line; returns 1 if it passed. */
static int run_case(const case_t *c) {
  result_t r;
  size_t k;
  int i, j, ok, known = 0;
  char why[MAX_TEXT * 2] = "";
  memset(&r, 0, sizeof r);
  for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    if (strcmp(kinds[k].kind, c->kind) == 0) {
      kinds[k].run(c, &r);
      known = 1;
    }
  }
  if (!known) fail(&r, "kind '%s' is not implemented by this runner", c->kind);
  ok = r.failure[0] == '\0';
  if (!ok) snprintf(why, sizeof why, "%s", r.failure);
  for (i = 0; i < c->nfields && ok; i++) {
    const char *key = c->fields[i].key;
    const char *seen = NULL;
    if (strncmp(key, "expect.", 7) != 0) continue;
    for (j = 0; j < r.nseen; j++) {
      if (strcmp(r.seen[j].key, key + 7) == 0) seen = r.seen[j].value;
    }
    if (seen == NULL || strcmp(seen, c->fields[i].value) != 0) {
      snprintf(why, sizeof why, "%s: expected %s, observed %s", key,
               c->fields[i].value, seen ? seen : "nothing");
      ok = 0;
    }
  }
  printf("%s %s%s%s\n", ok ? "PASS" : "FAIL", c->id, ok ? "" : ": ", why);
  fflush(stdout);
  for (j = 0; j < r.nseen; j++) {
    free(r.seen[j].key);
    free(r.seen[j].value);
  }
  return ok;
}

int main(int argc, char **argv) {
  FILE *f;
  char line[4096];
  int passed = 0, failed = 0;
  if (argc != 2) {
    fprintf(stderr, "usage: %s CASES_FILE\n", argv[0]);
    return 2;
  }
  f = fopen(argv[1], "r");
  if (f == NULL) {
    perror(argv[1]);
    return 2;
  }
  while (fgets(line, sizeof line, f) != NULL) {
    case_t c;
    if (!parse_line(line, &c)) continue;
    if (run_case(&c))
      passed++;
    else
      failed++;
  }
  fclose(f);
  printf("conformance-c: %d passed, %d failed\n", passed, failed);
  return failed == 0 && passed > 0 ? 0 : 1;
}
