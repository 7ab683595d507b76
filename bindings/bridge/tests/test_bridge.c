/*
 * Unit tests of the callback bridge, with a host written in C: each host
 * reference is a struct that counts its calls and releases, so every test
 * can check that a reference is released exactly once and never called
 * after. The loops and handles are real; sockets are loopback or a
 * socketpair.
 */
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flatuv.h"
#include "fuv_bridge.h"

#ifndef FUV_HEADER_PATH
#error "FUV_HEADER_PATH must name core/include/flatuv.h"
#endif

/* ---- the test host ------------------------------------------------------- */

typedef struct host_ref_s host_ref_t;
typedef void (*host_action_t)(host_ref_t *ref, const fuv_bridge_value_t *args,
                              unsigned nargs);

struct host_ref_s {
  int calls;
  int releases;
  int calls_after_release; /* must stay 0 */
  fuv_bridge_kind_t last_kind;
  unsigned last_nargs;
  fuv_bridge_value_t last[FUV_BRIDGE_MAX_ARGS];
  char data[64]; /* bytes of the last read */
  int order;     /* global call order stamp */
  host_action_t action;
  void *action_arg;
};

typedef struct {
  int enters, leaves, depth;
  int null_ref_calls;
  int null_ref_must_live; /* how many of those found the handle needed */
  fuv_bridge_kind_t null_ref_kind;
  long long null_ref_status;
  int freed;
  void *last_freed;
  int stamp;
} host_state_t;

static host_state_t host;

static void hook_enter(void *state) {
  host_state_t *h = state;
  h->enters++;
  h->depth++;
}

static void hook_leave(void *state) {
  host_state_t *h = state;
  h->leaves++;
  h->depth--;
}

static void hook_call(void *state, fuv_bridge_kind_t kind, void *host_ref,
                      const fuv_bridge_value_t *args, unsigned nargs) {
  host_state_t *h = state;
  host_ref_t *ref = host_ref;
  ck_assert_int_gt(h->depth, 0); /* always between enter and leave */
  if (ref == NULL) {
    h->null_ref_calls++;
    h->null_ref_kind = kind;
    h->null_ref_status = nargs > 1 ? args[1].integer : 0;
    if (nargs > 0 && fuv_bridge_handle_must_live(args[0].handle))
      h->null_ref_must_live++;
    return;
  }
  if (ref->releases > 0)
    ref->calls_after_release++;
  ref->calls++;
  ref->last_kind = kind;
  ref->last_nargs = nargs;
  ref->order = ++h->stamp;
  memcpy(ref->last, args, nargs * sizeof *args);
  for (unsigned i = 0; i < nargs; i++)
    if (args[i].type == FUV_BRIDGE_ARG_BYTES && args[i].bytes != NULL &&
        i > 0 && args[i - 1].integer > 0) {
      size_t n = (size_t)args[i - 1].integer;
      if (n >= sizeof ref->data)
        n = sizeof ref->data - 1;
      memcpy(ref->data, args[i].bytes, n);
      ref->data[n] = '\0';
    }
  if (ref->action != NULL)
    ref->action(ref, args, nargs);
}

static void hook_release(void *state, void *host_ref) {
  (void)state;
  ((host_ref_t *)host_ref)->releases++;
}

static void hook_handle_freed(void *state, void *object) {
  host_state_t *h = state;
  h->freed++;
  h->last_freed = object;
}

static const fuv_bridge_hooks_t hooks = {hook_enter, hook_leave, hook_call,
                                         hook_release, hook_handle_freed};

/* ---- helpers ------------------------------------------------------------- */

#define OK(expr)                                                             \
  do {                                                                       \
    int r_ = (expr);                                                         \
    ck_assert_msg(r_ == 0, "%s returned %d (%s)", #expr, r_,                 \
                  fuv_err_name(r_));                                         \
  } while (0)

static fuv_bridge_loop_t *new_loop(void) {
  fuv_loop_t *loop;
  fuv_bridge_loop_t *bl;
  memset(&host, 0, sizeof host);
  OK(fuv_loop_new(&loop));
  OK(fuv_bridge_loop_new(&bl, loop, &hooks, &host));
  return bl;
}

/* Runs until nothing is left, failing instead of hanging. */
static void run_all(fuv_bridge_loop_t *bl) {
  fuv_loop_t *loop = fuv_bridge_loop_get(bl);
  for (int i = 0; i < 1000 && fuv_loop_alive(loop); i++)
    ck_assert_int_ge(fuv_run(loop, FUV_RUN_ONCE), 0);
  ck_assert_int_eq(fuv_loop_alive(loop), 0);
}

static void free_loop(fuv_bridge_loop_t *bl) {
  OK(fuv_bridge_loop_free(bl));
  ck_assert_int_eq(host.enters, host.leaves);
}

/* Registration in two steps around the taking call, as a binding does:
 * prepare() makes the closure, FN(type) is its entry point, and finish()
 * commits it to owner when the call returned 0 or discards it otherwise,
 * returning the call's result. */
static fuv_bridge_reg_t *prepared_reg;
static void (*prepared_fn)(void);
#define FN(type) ((type)prepared_fn)

static void prepare(fuv_bridge_loop_t *bl, fuv_bridge_kind_t kind,
                    host_ref_t *ref) {
  OK(fuv_bridge_prepare(bl, kind, ref, &prepared_reg, &prepared_fn));
}

static int finish(void *owner, int r) {
  if (r == 0)
    fuv_bridge_commit(prepared_reg, (fuv_handle_t *)owner);
  else
    fuv_bridge_discard(prepared_reg);
  return r;
}

static int bridge_close(fuv_bridge_loop_t *bl, void *h, host_ref_t *ref) {
  return(prepare(bl, FUV_BRIDGE_CLOSE_CB, ref),
      finish(h,
             fuv_close((fuv_handle_t *)h, FN(fuv_close_cb), NULL)));
}

/* A connected pair of TCP handles over a socketpair. */
static void stream_pair(fuv_bridge_loop_t *bl, fuv_tcp_t **a, fuv_tcp_t **b,
                        int *obj_a, int *obj_b) {
  int fd0, fd1;
  fuv_loop_t *loop = fuv_bridge_loop_get(bl);
  OK(fuv_socketpair(FUV_SOCK_STREAM, 0, &fd0, &fd1, FUV_NONBLOCK_PIPE,
                    FUV_NONBLOCK_PIPE));
  OK(fuv_tcp_new(a, loop));
  OK(fuv_tcp_new(b, loop));
  OK(fuv_tcp_open(*a, fd0));
  OK(fuv_tcp_open(*b, fd1));
  OK(fuv_bridge_handle_attach((fuv_handle_t *)*a, obj_a, NULL));
  OK(fuv_bridge_handle_attach((fuv_handle_t *)*b, obj_b, NULL));
}

/* ---- the table against the header ---------------------------------------- */

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  long n;
  char *text;
  ck_assert_msg(f != NULL, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  text = malloc((size_t)n + 1);
  ck_assert_ptr_nonnull(text);
  ck_assert_int_eq(fread(text, 1, (size_t)n, f), (size_t)n);
  text[n] = '\0';
  fclose(f);
  return text;
}

static void trim(char *s) {
  char *end, *start = s;
  while (isspace((unsigned char)*start))
    start++;
  memmove(s, start, strlen(start) + 1);
  end = s + strlen(s);
  while (end > s && isspace((unsigned char)end[-1]))
    *--end = '\0';
}

/* What a parameter declaration of a callback typedef means to the bridge. */
static int arg_type_of(const char *decl, int previous) {
  if (strncmp(decl, "fuv_", 4) == 0 && strstr(decl, "_t *") != NULL)
    return FUV_BRIDGE_ARG_HANDLE;
  if (strncmp(decl, "int ", 4) == 0)
    return FUV_BRIDGE_ARG_STATUS;
  if (strncmp(decl, "ssize_t ", 8) == 0)
    return FUV_BRIDGE_ARG_NREAD;
  if (strncmp(decl, "const char *", 12) == 0 &&
      previous == FUV_BRIDGE_ARG_NREAD)
    return FUV_BRIDGE_ARG_BYTES;
  if (strcmp(decl, "void *arg") == 0)
    return FUV_BRIDGE_ARG_USER;
  if (strncmp(decl, "const struct sockaddr *", 23) == 0)
    return FUV_BRIDGE_ARG_SOCKADDR;
  if (strncmp(decl, "unsigned int ", 13) == 0)
    return FUV_BRIDGE_ARG_FLAGS;
  return -1;
}

START_TEST(table_matches_header) {
  char *text = read_file(FUV_HEADER_PATH);
  const char *p = text;
  int seen[FUV_BRIDGE_NKINDS] = {0};
  int found = 0;

  /* Every "typedef void (*name)(params);" of the header. */
  while ((p = strstr(p, "typedef void (*")) != NULL) {
    char name[64], params[512], *decl, *save = NULL;
    const char *q = p + strlen("typedef void (*");
    const char *close = strchr(q, ')');
    const char *open = strchr(close, '(');
    const char *end = strchr(open, ')');
    const fuv_bridge_signature_t *sig;
    int kind, previous = -1;
    unsigned n = 0;

    ck_assert_int_lt(close - q, (long)sizeof name);
    memcpy(name, q, (size_t)(close - q));
    name[close - q] = '\0';
    ck_assert_int_lt(end - open - 1, (long)sizeof params);
    memcpy(params, open + 1, (size_t)(end - open - 1));
    params[end - open - 1] = '\0';

    kind = fuv_bridge_kind_by_name(name);
    ck_assert_msg(kind >= 0, "header typedef %s has no bridge signature", name);
    sig = fuv_bridge_signature(kind);
    for (decl = strtok_r(params, ",", &save); decl != NULL;
         decl = strtok_r(NULL, ",", &save)) {
      int type;
      trim(decl);
      type = arg_type_of(decl, previous);
      ck_assert_msg(type >= 0, "%s: unknown parameter '%s'", name, decl);
      ck_assert_msg(n < sig->nargs && (int)sig->args[n] == type,
                    "%s: parameter %u ('%s') disagrees with the table", name,
                    n, decl);
      previous = type;
      n++;
    }
    ck_assert_msg(n == sig->nargs, "%s: %u parameters, table says %u", name,
                  n, sig->nargs);
    ck_assert_int_eq(seen[kind], 0);
    seen[kind] = 1;
    found++;
    p = end;
  }
  ck_assert_int_eq(found, FUV_BRIDGE_NKINDS);
  ck_assert_ptr_null(fuv_bridge_signature(-1));
  ck_assert_ptr_null(fuv_bridge_signature(FUV_BRIDGE_NKINDS));
  ck_assert_int_eq(fuv_bridge_kind_by_name("fuv_nothing_cb"), -1);
  free(text);
}
END_TEST

/* ---- timers: persistent, replaced, released at close ---------------------- */

START_TEST(timer_replace_and_close_release_once) {
  fuv_bridge_loop_t *bl = new_loop();
  fuv_timer_t *t;
  int obj;
  host_ref_t a = {0}, b = {0}, c = {0};

  OK(fuv_timer_new(&t, fuv_bridge_loop_get(bl)));
  OK(fuv_bridge_handle_attach((fuv_handle_t *)t, &obj, NULL));
  OK((prepare(bl, FUV_BRIDGE_TIMER_CB, &a),
      finish(t,
             fuv_timer_start(t, FN(fuv_timer_cb), 0, 0, NULL))));
  ck_assert_int_eq(a.calls, 0); /* never inside the taking call */
  run_all(bl);
  ck_assert_int_eq(a.calls, 1);
  ck_assert_int_eq(a.last_nargs, 1); /* the USER arg is not passed */
  ck_assert_int_eq(a.last[0].type, FUV_BRIDGE_ARG_HANDLE);
  ck_assert_ptr_eq(a.last[0].object, &obj);
  ck_assert_ptr_eq(a.last[0].handle, t);
  ck_assert_int_eq(a.releases, 0); /* a stopped timer keeps its callback */

  OK((prepare(bl, FUV_BRIDGE_TIMER_CB, &b),
      finish(t,
             fuv_timer_start(t, FN(fuv_timer_cb), 0, 0, NULL))));
  ck_assert_int_eq(a.releases, 1); /* replaced */
  run_all(bl);
  ck_assert_int_eq(b.calls, 1);
  ck_assert_int_eq(a.calls, 1);

  OK(bridge_close(bl, t, &c));
  ck_assert_int_eq(b.releases, 0);
  run_all(bl);
  ck_assert_int_eq(c.calls, 1);
  ck_assert_ptr_eq(c.last[0].object, &obj);
  ck_assert_int_eq(c.releases, 1);
  ck_assert_int_eq(b.releases, 1);
  ck_assert_int_eq(a.releases, 1);
  ck_assert_int_eq(host.freed, 1);
  ck_assert_ptr_eq(host.last_freed, &obj);
  ck_assert_int_eq(fuv_bridge_loop_handle_count(bl), 0);
  ck_assert_int_eq(fuv_bridge_loop_reg_count(bl), 0);
  ck_assert_int_eq(a.calls_after_release + b.calls_after_release +
                       c.calls_after_release, 0);
  free_loop(bl);
}
END_TEST

/* ---- a failed taking call: released at once, never called ----------------- */

START_TEST(failed_call_releases_at_once) {
  fuv_bridge_loop_t *bl = new_loop();
  fuv_tcp_t *tcp;
  int obj;
  host_ref_t r = {0}, t = {0}, c = {0};

  OK(fuv_tcp_new(&tcp, fuv_bridge_loop_get(bl)));
  OK(fuv_bridge_handle_attach((fuv_handle_t *)tcp, &obj, NULL));
  ck_assert_int_eq((prepare(bl, FUV_BRIDGE_READ_CB, &r),
      finish(tcp,
             fuv_read_start((fuv_stream_t *)tcp, FN(fuv_read_cb), NULL))),
                   FUV_ENOTCONN);
  ck_assert_int_eq(r.releases, 1);
  ck_assert_int_eq(fuv_bridge_handle_has(fuv_bridge_handle_of(
                                             (fuv_handle_t *)tcp),
                                         FUV_BRIDGE_READ_CB),
                   0);
  /* Wrong handle kind: the library refuses; the bridge releases. */
  ck_assert_int_eq((prepare(bl, FUV_BRIDGE_TIMER_CB, &t),
      finish(tcp,
             fuv_timer_start((fuv_timer_t *)tcp, FN(fuv_timer_cb), 0, 0,
               NULL))),
                   FUV_EINVAL);
  ck_assert_int_eq(t.releases, 1);
  OK(bridge_close(bl, tcp, &c));
  run_all(bl);
  ck_assert_int_eq(r.calls + t.calls, 0);
  ck_assert_int_eq(r.releases, 1);
  ck_assert_int_eq(t.releases, 1);
  ck_assert_int_eq(c.releases, 1);
  /* A second close fails: its registration is released, never called. */
  free_loop(bl);
}
END_TEST

/* ---- reads: argument conversion, EOF, release at close --------------------- */

START_TEST(read_converts_bytes_and_eof) {
  fuv_bridge_loop_t *bl = new_loop();
  fuv_tcp_t *a, *b;
  int obj_a, obj_b;
  host_ref_t rd = {0}, w = {0}, sh = {0}, ca = {0}, cb = {0};

  stream_pair(bl, &a, &b, &obj_a, &obj_b);
  OK((prepare(bl, FUV_BRIDGE_READ_CB, &rd),
      finish(b,
             fuv_read_start((fuv_stream_t *)b, FN(fuv_read_cb), NULL))));
  OK((prepare(bl, FUV_BRIDGE_WRITE_CB, &w),
      finish(a,
             fuv_write((fuv_stream_t *)a, "hello", 5, FN(fuv_write_cb),
               NULL))));
  OK((prepare(bl, FUV_BRIDGE_SHUTDOWN_CB, &sh),
      finish(a,
             fuv_shutdown((fuv_stream_t *)a, FN(fuv_shutdown_cb), NULL))));
  ck_assert_int_eq(fuv_run(fuv_bridge_loop_get(bl), FUV_RUN_ONCE) >= 0, 1);
  for (int i = 0; i < 100 && rd.calls < 2; i++)
    fuv_run(fuv_bridge_loop_get(bl), FUV_RUN_ONCE);

  ck_assert_int_eq(w.calls, 1);
  ck_assert_int_eq(w.last_nargs, 2);
  ck_assert_int_eq(w.last[1].type, FUV_BRIDGE_ARG_STATUS);
  ck_assert_int_eq(w.last[1].integer, 0);
  ck_assert_ptr_eq(w.last[0].object, &obj_a);
  ck_assert_int_eq(w.releases, 1); /* one-shot */
  ck_assert_int_eq(sh.calls, 1);
  ck_assert_int_eq(sh.releases, 1);

  ck_assert_int_eq(rd.calls, 2); /* "hello", then EOF */
  ck_assert_int_eq(rd.last_nargs, 3);
  ck_assert_int_eq(rd.last[1].type, FUV_BRIDGE_ARG_NREAD);
  ck_assert_int_eq(rd.last[1].integer, FUV_EOF);
  ck_assert_ptr_null(rd.last[2].bytes);
  ck_assert_str_eq(rd.data, "hello");
  ck_assert_ptr_eq(rd.last[0].object, &obj_b);
  ck_assert_int_eq(rd.releases, 0); /* persistent until close */

  OK(bridge_close(bl, a, &ca));
  OK(bridge_close(bl, b, &cb));
  run_all(bl);
  ck_assert_int_eq(rd.releases, 1);
  ck_assert_int_eq(ca.releases + cb.releases, 2);
  ck_assert_int_eq(host.freed, 2);
  ck_assert_int_eq(fuv_bridge_loop_reg_count(bl), 0);
  free_loop(bl);
}
END_TEST

/* ---- a datagram's sender and flags: text, port, family; empty bytes ---- */

START_TEST(udp_recv_converts_the_sender) {
  fuv_bridge_loop_t *bl = new_loop();
  fuv_loop_t *loop = fuv_bridge_loop_get(bl);
  fuv_udp_t *a, *b;
  int obj_a, obj_b, port_a, port_b;
  char ip[FUV_IP_NAME_MAX];
  host_ref_t rv = {0}, sd = {0}, ca = {0}, cb = {0};

  OK(fuv_udp_new(&a, loop));
  OK(fuv_udp_new(&b, loop));
  OK(fuv_udp_bind(a, "127.0.0.1", 0, 0));
  OK(fuv_udp_bind(b, "127.0.0.1", 0, 0));
  OK(fuv_udp_getsockname(a, ip, sizeof ip, &port_a));
  OK(fuv_udp_getsockname(b, ip, sizeof ip, &port_b));
  OK(fuv_bridge_handle_attach((fuv_handle_t *)a, &obj_a, NULL));
  OK(fuv_bridge_handle_attach((fuv_handle_t *)b, &obj_b, NULL));
  OK((prepare(bl, FUV_BRIDGE_UDP_RECV_CB, &rv),
      finish(b, fuv_udp_recv_start(b, FN(fuv_udp_recv_cb), NULL))));
  /* An empty datagram: NREAD 0, BYTES not NULL-checked, the sender. */
  OK((prepare(bl, FUV_BRIDGE_UDP_SEND_CB, &sd),
      finish(a, fuv_udp_send(a, "", 0, "127.0.0.1", port_b,
                             FN(fuv_udp_send_cb), NULL))));
  for (int i = 0; i < 100 && (rv.calls < 1 || sd.calls < 1); i++)
    fuv_run(loop, FUV_RUN_ONCE);
  ck_assert_int_eq(sd.calls, 1);
  ck_assert_int_eq(sd.last[1].integer, 0);
  ck_assert_int_eq(sd.releases, 1); /* one-shot */
  ck_assert_int_eq(rv.calls, 1);
  ck_assert_int_eq(rv.last_nargs, 5);
  ck_assert_ptr_eq(rv.last[0].object, &obj_b);
  ck_assert_int_eq(rv.last[1].type, FUV_BRIDGE_ARG_NREAD);
  ck_assert_int_eq(rv.last[1].integer, 0);
  ck_assert_int_eq(rv.last[3].type, FUV_BRIDGE_ARG_SOCKADDR);
  ck_assert_int_eq(rv.last[3].family, FUV_AF_INET);
  ck_assert_str_eq(rv.last[3].ip, "127.0.0.1");
  ck_assert_int_eq(rv.last[3].port, port_a);
  ck_assert_int_eq(rv.last[4].type, FUV_BRIDGE_ARG_FLAGS);
  ck_assert_int_eq(rv.last[4].integer, 0);
  /* A quiet send (no host callable) counts as a request until done. */
  {
    fuv_bridge_reg_t *reg;
    void (*fn)(void);
    OK(fuv_bridge_prepare_quiet(bl, FUV_BRIDGE_UDP_SEND_CB, &reg, &fn));
    OK(fuv_udp_send(a, "x", 1, "127.0.0.1", port_b, (fuv_udp_send_cb)fn, NULL));
    fuv_bridge_commit(reg, (fuv_handle_t *)a);
    ck_assert_int_eq(fuv_bridge_handle_requests(
                         fuv_bridge_handle_of((fuv_handle_t *)a)), 1);
  }
  for (int i = 0; i < 100 && rv.calls < 2; i++)
    fuv_run(loop, FUV_RUN_ONCE);
  ck_assert_int_eq(rv.calls, 2);
  ck_assert_int_eq(rv.last[1].integer, 1);
  ck_assert_int_eq(fuv_bridge_handle_requests(
                       fuv_bridge_handle_of((fuv_handle_t *)a)), 0);
  OK(bridge_close(bl, a, &ca));
  OK(bridge_close(bl, b, &cb));
  run_all(bl);
  ck_assert_int_eq(rv.releases, 1);
  ck_assert_int_eq(fuv_bridge_loop_reg_count(bl), 0);
  free_loop(bl);
}
END_TEST

/* ---- writes pending at close: ECANCELED, then close, each released ------- */

START_TEST(pending_writes_cancelled_before_close) {
  fuv_bridge_loop_t *bl = new_loop();
  fuv_tcp_t *a, *b;
  int obj_a, obj_b;
  enum { NWRITES = 50, SIZE = 256 * 1024 };
  static host_ref_t writes[NWRITES];
  host_ref_t ca = {0}, cb = {0};
  char *data = calloc(1, SIZE);

  memset(writes, 0, sizeof writes);
  stream_pair(bl, &a, &b, &obj_a, &obj_b);
  /* 12.5 MiB nobody reads: most of it stays queued. */
  for (int i = 0; i < NWRITES; i++)
    OK((prepare(bl, FUV_BRIDGE_WRITE_CB, &writes[i]),
        finish(a,
               fuv_write((fuv_stream_t *)a, data, SIZE, FN(fuv_write_cb),
                 NULL))));
  ck_assert_uint_gt(fuv_write_queue_size((fuv_stream_t *)a), 0);
  OK(bridge_close(bl, a, &ca));
  OK(bridge_close(bl, b, &cb));
  run_all(bl);

  for (int i = 0; i < NWRITES; i++) {
    ck_assert_int_eq(writes[i].calls, 1);
    ck_assert_int_eq(writes[i].releases, 1);
    ck_assert_int_eq(writes[i].calls_after_release, 0);
    ck_assert_int_lt(writes[i].order, ca.order); /* before the close cb */
    if (i > 0)
      ck_assert_int_gt(writes[i].order, writes[i - 1].order);
  }
  ck_assert_int_eq(writes[NWRITES - 1].last[1].integer, FUV_ECANCELED);
  ck_assert_int_eq(ca.calls, 1);
  ck_assert_int_eq(ca.releases, 1);
  ck_assert_int_eq(fuv_bridge_loop_reg_count(bl), 0);
  free(data);
  free_loop(bl);
}
END_TEST

/* ---- requests pending on a handle ------------------------------------------ */

static size_t requests_seen_inside;

static void count_requests(host_ref_t *ref, const fuv_bridge_value_t *args,
                           unsigned nargs) {
  (void)ref;
  (void)nargs;
  requests_seen_inside =
      fuv_bridge_handle_requests(fuv_bridge_handle_of(args[0].handle));
}

/* What a host keeps its object alive by: each write or shutdown counts
 * from its commit until its callback starts, a failed call never counts,
 * and the persistent and close registrations never do. */
START_TEST(requests_count_until_their_callback_starts) {
  fuv_bridge_loop_t *bl = new_loop();
  fuv_tcp_t *a, *b;
  int obj_a, obj_b;
  host_ref_t w1 = {0}, w2 = {0}, sh = {0}, bad = {0}, rd = {0}, ca = {0},
             cb = {0};
  fuv_bridge_handle_t *rec;

  stream_pair(bl, &a, &b, &obj_a, &obj_b);
  rec = fuv_bridge_handle_of((fuv_handle_t *)a);
  ck_assert_uint_eq(fuv_bridge_handle_requests(rec), 0);
  w1.action = count_requests;
  OK((prepare(bl, FUV_BRIDGE_WRITE_CB, &w1),
      finish(a, fuv_write((fuv_stream_t *)a, "x", 1, FN(fuv_write_cb), NULL))));
  OK((prepare(bl, FUV_BRIDGE_WRITE_CB, &w2),
      finish(a, fuv_write((fuv_stream_t *)a, "y", 1, FN(fuv_write_cb), NULL))));
  OK((prepare(bl, FUV_BRIDGE_SHUTDOWN_CB, &sh),
      finish(a, fuv_shutdown((fuv_stream_t *)a, FN(fuv_shutdown_cb), NULL))));
  ck_assert_int_ne((prepare(bl, FUV_BRIDGE_WRITE_CB, &bad),
                    finish(a, fuv_write((fuv_stream_t *)a, NULL, 1,
                                        FN(fuv_write_cb), NULL))),
                   0);
  OK((prepare(bl, FUV_BRIDGE_READ_CB, &rd),
      finish(a, fuv_read_start((fuv_stream_t *)a, FN(fuv_read_cb), NULL))));
  ck_assert_uint_eq(fuv_bridge_handle_requests(rec), 3);

  for (int i = 0; i < 100 && sh.calls == 0; i++)
    ck_assert_int_ge(fuv_run(fuv_bridge_loop_get(bl), FUV_RUN_ONCE), 0);
  ck_assert_int_eq(w1.calls, 1);
  ck_assert_int_eq(sh.calls, 1);
  /* Inside the first write's callback the other two were still pending. */
  ck_assert_uint_eq(requests_seen_inside, 2);
  ck_assert_uint_eq(fuv_bridge_handle_requests(rec), 0);
  ck_assert_int_eq(bad.releases, 1);
  ck_assert_int_eq(bad.calls, 0);

  OK(bridge_close(bl, a, &ca));
  OK(bridge_close(bl, b, &cb));
  run_all(bl);
  ck_assert_uint_eq(fuv_bridge_handle_requests(NULL), 0);
  ck_assert_int_eq(fuv_bridge_reg_kind(NULL), FUV_BRIDGE_NKINDS);
  free_loop(bl);
}
END_TEST

/* ---- replacing a registration inside its own callback --------------------- */

static host_ref_t replacement;
static int releases_seen_inside;

static void restart_reading(host_ref_t *ref, const fuv_bridge_value_t *args,
                            unsigned nargs) {
  fuv_bridge_loop_t *bl = ref->action_arg;
  fuv_stream_t *s = (fuv_stream_t *)args[0].handle;
  (void)nargs;
  OK(fuv_read_stop(s));
  OK((prepare(bl, FUV_BRIDGE_READ_CB, &replacement),
      finish(s,
             fuv_read_start(s, FN(fuv_read_cb), NULL))));
  /* The running registration is released only once its call returns. */
  releases_seen_inside = ref->releases;
}

START_TEST(replace_inside_own_callback) {
  fuv_bridge_loop_t *bl = new_loop();
  fuv_tcp_t *a, *b;
  int obj_a, obj_b;
  host_ref_t first = {0}, ca = {0}, cb = {0};

  memset(&replacement, 0, sizeof replacement);
  releases_seen_inside = -1;
  stream_pair(bl, &a, &b, &obj_a, &obj_b);
  first.action = restart_reading;
  first.action_arg = bl;
  OK((prepare(bl, FUV_BRIDGE_READ_CB, &first),
      finish(b,
             fuv_read_start((fuv_stream_t *)b, FN(fuv_read_cb), NULL))));
  ck_assert_int_eq(fuv_try_write((fuv_stream_t *)a, "x", 1), 1);
  for (int i = 0; i < 100 && first.calls == 0; i++)
    fuv_run(fuv_bridge_loop_get(bl), FUV_RUN_ONCE);
  ck_assert_int_eq(first.calls, 1);
  ck_assert_int_eq(releases_seen_inside, 0);
  ck_assert_int_eq(first.releases, 1);

  ck_assert_int_eq(fuv_try_write((fuv_stream_t *)a, "y", 1), 1);
  for (int i = 0; i < 100 && replacement.calls == 0; i++)
    fuv_run(fuv_bridge_loop_get(bl), FUV_RUN_ONCE);
  ck_assert_int_eq(replacement.calls, 1);
  ck_assert_str_eq(replacement.data, "y");
  ck_assert_int_eq(first.calls, 1);

  OK(bridge_close(bl, a, &ca));
  OK(bridge_close(bl, b, &cb));
  run_all(bl);
  ck_assert_int_eq(replacement.releases, 1);
  ck_assert_int_eq(first.releases, 1);
  free_loop(bl);
}
END_TEST

/* ---- clearing, walking, NULL host references ------------------------------ */

START_TEST(clear_walk_and_null_refs) {
  fuv_bridge_loop_t *bl = new_loop();
  fuv_tcp_t *a, *b;
  fuv_timer_t *t;
  int obj_a, obj_b, obj_t;
  host_ref_t rd = {0}, drain = {0}, walk = {0};

  stream_pair(bl, &a, &b, &obj_a, &obj_b);
  OK(fuv_timer_new(&t, fuv_bridge_loop_get(bl)));
  OK(fuv_bridge_handle_attach((fuv_handle_t *)t, &obj_t, NULL));

  OK((prepare(bl, FUV_BRIDGE_READ_CB, &rd),
      finish(b,
             fuv_read_start((fuv_stream_t *)b, FN(fuv_read_cb), NULL))));
  OK(fuv_read_stop((fuv_stream_t *)b));
  fuv_bridge_clear(fuv_bridge_handle_of((fuv_handle_t *)b),
                   FUV_BRIDGE_READ_CB);
  ck_assert_int_eq(rd.releases, 1);
  fuv_bridge_clear(fuv_bridge_handle_of((fuv_handle_t *)b),
                   FUV_BRIDGE_READ_CB); /* nothing left: no second release */
  ck_assert_int_eq(rd.releases, 1);

  OK((prepare(bl, FUV_BRIDGE_DRAIN_CB, &drain),
      finish(a,
             fuv_stream_set_water_marks((fuv_stream_t *)a, 10, 0,
               FN(fuv_drain_cb), NULL))));

  /* Walk: called per handle with its object, released when walk returns. */
  {
    fuv_bridge_reg_t *reg;
    void (*fn)(void);
    OK(fuv_bridge_prepare(bl, FUV_BRIDGE_WALK_CB, &walk, &reg, &fn));
    OK(fuv_walk(fuv_bridge_loop_get(bl), (fuv_walk_cb)fn, NULL));
    fuv_bridge_discard(reg);
  }
  ck_assert_int_eq(walk.calls, 3);
  ck_assert_int_eq(walk.releases, 1);
  ck_assert_ptr_eq(walk.last[0].object, &obj_t); /* creation order */

  /* A registration without a host callable still reaches the host, with
   * a NULL reference, and has nothing to release. */
  OK((prepare(bl, FUV_BRIDGE_TIMER_CB, NULL),
      finish(t,
             fuv_timer_start(t, FN(fuv_timer_cb), 0, 0, NULL))));
  run_all(bl);
  ck_assert_int_eq(host.null_ref_calls, 1);

  OK((prepare(bl, FUV_BRIDGE_CLOSE_CB, NULL),
      finish(a,
             fuv_close((fuv_handle_t *)a, FN(fuv_close_cb), NULL))));
  OK((prepare(bl, FUV_BRIDGE_CLOSE_CB, NULL),
      finish(b,
             fuv_close((fuv_handle_t *)b, FN(fuv_close_cb), NULL))));
  OK((prepare(bl, FUV_BRIDGE_CLOSE_CB, NULL),
      finish(t,
             fuv_close((fuv_handle_t *)t, FN(fuv_close_cb), NULL))));
  run_all(bl);
  ck_assert_int_eq(drain.releases, 1);
  ck_assert_int_eq(drain.calls_after_release, 0);
  ck_assert_int_eq(host.null_ref_calls, 4);
  ck_assert_int_eq(host.freed, 3);
  ck_assert_int_eq(fuv_bridge_loop_reg_count(bl), 0);
  free_loop(bl);
}
END_TEST

/* ---- freeing the loop ---------------------------------------------------- */

START_TEST(loop_free_releases_leftovers) {
  fuv_bridge_loop_t *bl = new_loop();
  fuv_loop_t *loop = fuv_bridge_loop_get(bl);
  fuv_timer_t *t;
  int obj;
  host_ref_t tick = {0}, unused = {0};
  fuv_bridge_reg_t *never;
  void (*fn)(void);

  OK(fuv_timer_new(&t, loop));
  OK(fuv_bridge_handle_attach((fuv_handle_t *)t, &obj, NULL));
  OK((prepare(bl, FUV_BRIDGE_TIMER_CB, &tick),
      finish(t,
             fuv_timer_start(t, FN(fuv_timer_cb), 1000, 0, NULL))));
  /* Prepared and never handed to the library. */
  OK(fuv_bridge_prepare(bl, FUV_BRIDGE_WRITE_CB, &unused, &never, &fn));

  /* Open handle: the loop stays, and so does everything the bridge holds. */
  ck_assert_int_eq(fuv_bridge_loop_free(bl), FUV_EBUSY);
  ck_assert_int_eq(tick.releases + unused.releases, 0);
  ck_assert_int_eq(host.freed, 0);

  /* Closed behind the bridge's back: only the loop's end releases. */
  OK(fuv_close((fuv_handle_t *)t, NULL, NULL));
  run_all(bl);
  ck_assert_int_eq(tick.releases, 0);
  OK(fuv_bridge_loop_free(bl));
  ck_assert_int_eq(tick.releases, 1);
  ck_assert_int_eq(unused.releases, 1);
  ck_assert_int_eq(host.freed, 1);
  ck_assert_ptr_eq(host.last_freed, &obj);
  ck_assert_int_eq(tick.calls + unused.calls, 0);
}
END_TEST

START_TEST(argument_checks) {
  fuv_bridge_loop_t *bl = new_loop(), *other;
  fuv_loop_t *loop = fuv_bridge_loop_get(bl), *plain;
  fuv_timer_t *t, *u;
  fuv_bridge_reg_t *reg;
  void (*fn)(void);
  host_ref_t ref = {0};

  ck_assert_int_eq(fuv_bridge_loop_new(NULL, loop, &hooks, NULL), FUV_EINVAL);
  ck_assert_int_eq(fuv_bridge_loop_new(&other, NULL, &hooks, NULL),
                   FUV_EINVAL);
  ck_assert_int_eq(fuv_bridge_loop_new(&other, loop, NULL, NULL), FUV_EINVAL);
  ck_assert_int_eq(fuv_bridge_loop_new(&other, loop, &hooks, NULL),
                   FUV_EBUSY);
  ck_assert_ptr_eq(fuv_bridge_loop_of(loop), bl);
  ck_assert_int_eq(fuv_bridge_prepare(bl, FUV_BRIDGE_NKINDS, &ref, &reg, &fn),
                   FUV_EINVAL);
  ck_assert_int_eq(fuv_bridge_prepare(NULL, FUV_BRIDGE_READ_CB, &ref, &reg,
                                      &fn),
                   FUV_EINVAL);
  ck_assert_int_eq(fuv_bridge_handle_attach(NULL, NULL, NULL), FUV_EINVAL);

  OK(fuv_timer_new(&t, loop));
  OK(fuv_bridge_handle_attach((fuv_handle_t *)t, &ref, NULL));
  ck_assert_int_eq(fuv_bridge_handle_attach((fuv_handle_t *)t, &ref, NULL),
                   FUV_EBUSY);
  /* A loop without a bridge has nowhere to keep records. */
  OK(fuv_loop_new(&plain));
  OK(fuv_timer_new(&u, plain));
  ck_assert_int_eq(fuv_bridge_handle_attach((fuv_handle_t *)u, &ref, NULL),
                   FUV_EINVAL);
  OK(fuv_close((fuv_handle_t *)u, NULL, NULL));
  ck_assert_int_eq(fuv_run(plain, FUV_RUN_DEFAULT), 0);
  OK(fuv_loop_free(plain));

  OK(bridge_close(bl, t, NULL));
  run_all(bl);
  ck_assert_int_eq(ref.releases, 0);
  free_loop(bl);
}
END_TEST

/* ---- many registrations through the pool ---------------------------------- */

START_TEST(pool_reuse_releases_each_once) {
  fuv_bridge_loop_t *bl = new_loop();
  fuv_tcp_t *a, *b;
  int obj_a, obj_b;
  enum { N = 2000 };
  static host_ref_t refs[N];
  host_ref_t ca = {0}, cb = {0}, rd = {0};

  memset(refs, 0, sizeof refs);
  stream_pair(bl, &a, &b, &obj_a, &obj_b);
  OK((prepare(bl, FUV_BRIDGE_READ_CB, &rd),
      finish(b,
             fuv_read_start((fuv_stream_t *)b, FN(fuv_read_cb), NULL))));
  for (int i = 0; i < N; i++) {
    OK((prepare(bl, FUV_BRIDGE_WRITE_CB, &refs[i]),
        finish(a,
               fuv_write((fuv_stream_t *)a, "z", 1, FN(fuv_write_cb), NULL))));
    if (i % 100 == 99)
      fuv_run(fuv_bridge_loop_get(bl), FUV_RUN_NOWAIT);
  }
  for (int i = 0; i < 100 && fuv_bridge_loop_reg_count(bl) > 1; i++)
    fuv_run(fuv_bridge_loop_get(bl), FUV_RUN_NOWAIT);
  for (int i = 0; i < N; i++) {
    ck_assert_int_eq(refs[i].calls, 1);
    ck_assert_int_eq(refs[i].releases, 1);
    ck_assert_int_eq(refs[i].last[1].integer, 0);
  }
  OK(bridge_close(bl, a, &ca));
  OK(bridge_close(bl, b, &cb));
  run_all(bl);
  ck_assert_int_eq(rd.releases, 1);
  free_loop(bl);
}
END_TEST

/* ---- quiet requests: counted, no closure, heard of only when idle ---------- */

static size_t bytes_read;

static void sum_bytes(host_ref_t *ref, const fuv_bridge_value_t *args,
                      unsigned nargs) {
  (void)ref;
  if (nargs > 1 && args[1].integer > 0)
    bytes_read += (size_t)args[1].integer;
}

/* Runs single iterations until *flag becomes non-zero, failing instead of
 * hanging. */
static void run_until(fuv_bridge_loop_t *bl, const int *flag) {
  for (int i = 0; i < 100000 && *flag == 0; i++)
    ck_assert_int_ge(fuv_run(fuv_bridge_loop_get(bl), FUV_RUN_ONCE), 0);
  ck_assert_int_ne(*flag, 0);
}

/* Connect, write, forget, as a binding sees it: a quiet write keeps an
 * otherwise idle handle needed until its last byte is out, and only then
 * does the host hear of it, once, to let go. No registration is made. */
START_TEST(quiet_write_holds_until_written) {
  fuv_bridge_loop_t *bl = new_loop();
  fuv_tcp_t *a, *b;
  int obj_a, obj_b;
  enum { SIZE = 4 * 1024 * 1024 };
  host_ref_t rd = {0}, ca = {0}, cb = {0};
  char *data = malloc(SIZE);
  fuv_bridge_handle_t *rec;

  memset(data, 'q', SIZE);
  stream_pair(bl, &a, &b, &obj_a, &obj_b);
  rec = fuv_bridge_handle_of((fuv_handle_t *)a);
  ck_assert_int_eq(fuv_bridge_handle_must_live((fuv_handle_t *)a), 0);
  OK(fuv_bridge_write((fuv_stream_t *)a, data, SIZE));
  free(data); /* the library copied what it queued */
  ck_assert_uint_gt(fuv_write_queue_size((fuv_stream_t *)a), 0);
  ck_assert_uint_eq(fuv_bridge_handle_requests(rec), 1);
  ck_assert_int_eq(fuv_bridge_handle_must_live((fuv_handle_t *)a), 1);
  ck_assert_uint_eq(fuv_bridge_loop_reg_count(bl), 0);

  bytes_read = 0;
  rd.action = sum_bytes;
  OK((prepare(bl, FUV_BRIDGE_READ_CB, &rd),
      finish(b, fuv_read_start((fuv_stream_t *)b, FN(fuv_read_cb), NULL))));
  run_until(bl, &host.null_ref_calls);
  ck_assert_int_eq(host.null_ref_calls, 1);
  ck_assert_int_eq(host.null_ref_must_live, 0); /* heard of when idle */
  ck_assert_int_eq(host.null_ref_kind, FUV_BRIDGE_WRITE_CB);
  ck_assert_int_eq(host.null_ref_status, 0);
  ck_assert_uint_eq(fuv_write_queue_size((fuv_stream_t *)a), 0);
  ck_assert_uint_eq(fuv_bridge_handle_requests(rec), 0);
  ck_assert_int_eq(fuv_bridge_handle_must_live((fuv_handle_t *)a), 0);
  for (int i = 0; i < 1000 && bytes_read < SIZE; i++)
    ck_assert_int_ge(fuv_run(fuv_bridge_loop_get(bl), FUV_RUN_NOWAIT), 0);
  ck_assert_uint_eq(bytes_read, SIZE); /* nothing accepted is lost */

  /* One the kernel takes at once still counts until its completion. */
  OK(fuv_bridge_write((fuv_stream_t *)a, "hi", 2));
  ck_assert_uint_eq(fuv_write_queue_size((fuv_stream_t *)a), 0);
  ck_assert_uint_eq(fuv_bridge_handle_requests(rec), 1);
  ck_assert_int_eq(fuv_bridge_handle_must_live((fuv_handle_t *)a), 1);
  {
    int target = 2, seen = 0;
    for (int i = 0; i < 1000 && !seen; i++) {
      ck_assert_int_ge(fuv_run(fuv_bridge_loop_get(bl), FUV_RUN_NOWAIT), 0);
      seen = host.null_ref_calls == target;
    }
    ck_assert_int_eq(seen, 1);
  }
  ck_assert_uint_eq(fuv_bridge_handle_requests(rec), 0);

  OK(bridge_close(bl, a, &ca));
  OK(bridge_close(bl, b, &cb));
  run_all(bl);
  ck_assert_int_eq(rd.releases, 1);
  ck_assert_int_eq(host.freed, 2);
  ck_assert_uint_eq(fuv_bridge_loop_reg_count(bl), 0);
  free_loop(bl);
}
END_TEST

/* A quiet write on a handle that stays needed (it is reading) completes
 * without any call into the host: the cost of an echo server's write. */
START_TEST(quiet_write_on_needed_handle_is_silent) {
  fuv_bridge_loop_t *bl = new_loop();
  fuv_tcp_t *a, *b;
  int obj_a, obj_b;
  host_ref_t ra = {0}, rb = {0}, ca = {0}, cb = {0};
  const char *pieces[2] = {"ab", "cd"};
  size_t lens[2] = {2, 2};
  int enters;

  stream_pair(bl, &a, &b, &obj_a, &obj_b);
  OK((prepare(bl, FUV_BRIDGE_READ_CB, &ra),
      finish(a, fuv_read_start((fuv_stream_t *)a, FN(fuv_read_cb), NULL))));
  OK((prepare(bl, FUV_BRIDGE_READ_CB, &rb),
      finish(b, fuv_read_start((fuv_stream_t *)b, FN(fuv_read_cb), NULL))));
  OK(fuv_bridge_writev((fuv_stream_t *)a, pieces, lens, 2));
  ck_assert_uint_eq(fuv_bridge_handle_requests(fuv_bridge_handle_of(
                        (fuv_handle_t *)a)),
                    1);
  run_until(bl, &rb.calls);
  ck_assert_str_eq(rb.data, "abcd");
  enters = host.enters;
  for (int i = 0; i < 3; i++)
    ck_assert_int_ge(fuv_run(fuv_bridge_loop_get(bl), FUV_RUN_NOWAIT), 0);
  ck_assert_uint_eq(fuv_bridge_handle_requests(fuv_bridge_handle_of(
                        (fuv_handle_t *)a)),
                    0);
  ck_assert_int_eq(host.null_ref_calls, 0);
  ck_assert_int_eq(host.enters, enters); /* not even enter/leave */
  OK(bridge_close(bl, a, &ca));
  OK(bridge_close(bl, b, &cb));
  run_all(bl);
  ck_assert_int_eq(host.null_ref_calls, 0);
  free_loop(bl);
}
END_TEST

/* Quiet writes queued when the handle is closed complete with ECANCELED
 * before the close callback, with the host told nothing (closing keeps
 * it needed); the record goes with the handle as usual. */
START_TEST(quiet_writes_cancelled_on_close) {
  fuv_bridge_loop_t *bl = new_loop();
  fuv_tcp_t *a, *b;
  int obj_a, obj_b;
  enum { NWRITES = 50, SIZE = 256 * 1024 };
  host_ref_t w = {0}, ca = {0}, cb = {0};
  char *data = calloc(1, SIZE);

  stream_pair(bl, &a, &b, &obj_a, &obj_b);
  for (int i = 0; i < NWRITES; i++) {
    OK(fuv_bridge_write((fuv_stream_t *)a, data, SIZE));
    if (i == NWRITES / 2) /* one with a callback among them */
      OK((prepare(bl, FUV_BRIDGE_WRITE_CB, &w),
          finish(a, fuv_write((fuv_stream_t *)a, data, SIZE, FN(fuv_write_cb),
                              NULL))));
  }
  free(data);
  ck_assert_uint_gt(fuv_write_queue_size((fuv_stream_t *)a), 0);
  ck_assert_uint_eq(fuv_bridge_handle_requests(fuv_bridge_handle_of(
                        (fuv_handle_t *)a)),
                    NWRITES + 1);
  OK(bridge_close(bl, a, &ca));
  OK(bridge_close(bl, b, &cb));
  ck_assert_int_eq(fuv_bridge_handle_must_live((fuv_handle_t *)a), 1);
  run_all(bl);
  ck_assert_int_eq(w.calls, 1);
  ck_assert_int_eq(w.last[1].integer, FUV_ECANCELED);
  ck_assert_int_lt(w.order, ca.order);
  ck_assert_int_eq(w.releases, 1);
  ck_assert_int_eq(ca.calls, 1);
  ck_assert_int_eq(host.null_ref_calls, 0);
  ck_assert_int_eq(host.freed, 2);
  ck_assert_uint_eq(fuv_bridge_loop_handle_count(bl), 0);
  ck_assert_uint_eq(fuv_bridge_loop_reg_count(bl), 0);
  free_loop(bl);
}
END_TEST

/* prepare_quiet for a shutdown (commit counts, discard does nothing),
 * argument checks, and a loop freed with quiet writes still queued on
 * handles closed without the bridge. */
START_TEST(quiet_prepare_checks_and_teardown) {
  fuv_bridge_loop_t *bl = new_loop();
  fuv_tcp_t *a, *b, *lone;
  int obj_a, obj_b;
  fuv_bridge_reg_t *reg;
  void (*fn)(void);
  enum { NWRITES = 20, SIZE = 256 * 1024 };
  char *data = calloc(1, SIZE);
  fuv_bridge_handle_t *rec;

  ck_assert_int_eq(fuv_bridge_handle_must_live(NULL), 0);
  ck_assert_int_eq(fuv_bridge_prepare_quiet(bl, FUV_BRIDGE_CLOSE_CB, &reg, &fn),
                   FUV_EINVAL);
  ck_assert_ptr_null(reg);
  ck_assert_ptr_null(fn);
  ck_assert_int_eq(fuv_bridge_prepare_quiet(bl, FUV_BRIDGE_READ_CB, &reg, &fn),
                   FUV_EINVAL);
  ck_assert_int_eq(fuv_bridge_prepare_quiet(bl, FUV_BRIDGE_TIMER_CB, &reg, &fn),
                   FUV_EINVAL);
  ck_assert_int_eq(fuv_bridge_prepare_quiet(bl, FUV_BRIDGE_NKINDS, &reg, &fn),
                   FUV_EINVAL);
  ck_assert_int_eq(
      fuv_bridge_prepare_quiet(NULL, FUV_BRIDGE_WRITE_CB, &reg, &fn),
      FUV_EINVAL);
  ck_assert_int_eq(
      fuv_bridge_prepare_quiet(bl, FUV_BRIDGE_WRITE_CB, NULL, &fn), FUV_EINVAL);
  ck_assert_int_eq(
      fuv_bridge_prepare_quiet(bl, FUV_BRIDGE_WRITE_CB, &reg, NULL),
      FUV_EINVAL);
  OK(fuv_tcp_new(&lone, fuv_bridge_loop_get(bl)));
  ck_assert_int_eq(fuv_bridge_write((fuv_stream_t *)lone, "x", 1), FUV_EINVAL);
  ck_assert_int_eq(fuv_bridge_write(NULL, "x", 1), FUV_EINVAL);
  fuv_close((fuv_handle_t *)lone, NULL, NULL);

  stream_pair(bl, &a, &b, &obj_a, &obj_b);
  rec = fuv_bridge_handle_of((fuv_handle_t *)a);
  /* A failed call: discarded, counts nothing. */
  OK(fuv_bridge_prepare_quiet(bl, FUV_BRIDGE_WRITE_CB, &reg, &fn));
  ck_assert_int_eq(fuv_bridge_reg_kind(reg), FUV_BRIDGE_WRITE_CB);
  ck_assert_int_ne(fuv_write((fuv_stream_t *)a, NULL, 1, (fuv_write_cb)fn,
                             NULL),
                   0);
  fuv_bridge_discard(reg);
  ck_assert_uint_eq(fuv_bridge_handle_requests(rec), 0);
  /* A shutdown: counted until it completes, then heard of once. */
  OK(fuv_bridge_prepare_quiet(bl, FUV_BRIDGE_SHUTDOWN_CB, &reg, &fn));
  OK(fuv_shutdown((fuv_stream_t *)a, (fuv_shutdown_cb)fn, NULL));
  fuv_bridge_commit(reg, (fuv_handle_t *)a);
  ck_assert_uint_eq(fuv_bridge_handle_requests(rec), 1);
  ck_assert_uint_eq(fuv_bridge_loop_reg_count(bl), 0);
  run_until(bl, &host.null_ref_calls);
  ck_assert_int_eq(host.null_ref_kind, FUV_BRIDGE_SHUTDOWN_CB);
  ck_assert_int_eq(host.null_ref_status, 0);
  ck_assert_int_eq(host.null_ref_must_live, 0);
  ck_assert_uint_eq(fuv_bridge_handle_requests(rec), 0);

  /* Queued quiet writes, handles closed without the bridge, loop freed. */
  for (int i = 0; i < NWRITES; i++)
    OK(fuv_bridge_write((fuv_stream_t *)b, data, SIZE));
  free(data);
  ck_assert_uint_gt(fuv_write_queue_size((fuv_stream_t *)b), 0);
  fuv_close((fuv_handle_t *)a, NULL, NULL);
  fuv_close((fuv_handle_t *)b, NULL, NULL);
  run_all(bl);
  ck_assert_int_eq(host.null_ref_calls, 1);
  free_loop(bl);
  ck_assert_int_eq(host.freed, 2);
}
END_TEST

static Suite *bridge_suite(void) {
  Suite *s = suite_create("bridge");
  TCase *tc = tcase_create("bridge");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, table_matches_header);
  tcase_add_test(tc, timer_replace_and_close_release_once);
  tcase_add_test(tc, failed_call_releases_at_once);
  tcase_add_test(tc, read_converts_bytes_and_eof);
  tcase_add_test(tc, udp_recv_converts_the_sender);
  tcase_add_test(tc, pending_writes_cancelled_before_close);
  tcase_add_test(tc, requests_count_until_their_callback_starts);
  tcase_add_test(tc, replace_inside_own_callback);
  tcase_add_test(tc, clear_walk_and_null_refs);
  tcase_add_test(tc, loop_free_releases_leftovers);
  tcase_add_test(tc, argument_checks);
  tcase_add_test(tc, pool_reuse_releases_each_once);
  tcase_add_test(tc, quiet_write_holds_until_written);
  tcase_add_test(tc, quiet_write_on_needed_handle_is_silent);
  tcase_add_test(tc, quiet_writes_cancelled_on_close);
  tcase_add_test(tc, quiet_prepare_checks_and_teardown);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  SRunner *sr = srunner_create(bridge_suite());
  int failed;
  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
