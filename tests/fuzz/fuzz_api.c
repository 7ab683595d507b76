/*
 * libFuzzer harness for the whole handle API: the input is decoded into a
 * sequence of calls on one loop (TCP handles over socketpairs and loopback,
 * timers, async handles), including misuse (double close, calls on closing
 * or wrong-kind handles, NULL, absurd sizes and timeouts), with the loop run
 * without blocking between calls. Callbacks may consume input too and make
 * calls of their own, which is where re-entrancy bugs live.
 *
 * Besides the sanitizers, the harness checks the header's contract and
 * aborts when it is broken:
 *  - no callback runs inside the call that caused it;
 *  - a callback whose call failed never runs; every accepted write,
 *    shutdown, connect and close calls back exactly once, writes of one
 *    stream in the order they were made;
 *  - read callbacks never get 0 bytes, get a buffer exactly when nread > 0
 *    and do not run after read_stop, EOF or an error;
 *  - bytes sent over a socketpair arrive in order, none lost or changed,
 *    and all of them before EOF; at the end, every byte an open end wrote
 *    reaches the other open end;
 *  - a started handle is active, a stopped timer is not, and a timer due
 *    in decades (timeouts near UINT64_MAX) never fires;
 *  - after everything is closed the loop frees cleanly (no FUV_EBUSY) and
 *    the process has exactly the file descriptors it had before.
 *
 * Nothing here may block: sync calls get timeout 0 and FUV_RUN_ONCE /
 * FUV_RUN_DEFAULT are used only with a harness timer that stops the loop in
 * its first iteration, so the poll never waits.
 */
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flatuv.h"

/* Aborts with a message: libFuzzer records the input as a crash. */
#define FUZZ_CHECK(cond)                                                     \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "fuzz_api: contract broken at line %d: %s\n",          \
              __LINE__, #cond);                                              \
      abort();                                                               \
    }                                                                        \
  } while (0)

#define MAX_SLOTS 24
#define MAX_FDS 8
#define MAX_NESTING 2
/* Bytes one input may ask to write in total: keeps memory bounded when a
 * peer never reads. */
#define WRITE_BUDGET (32u << 20)
#define MAX_WRITE (1u << 20)
/* The test data: a pseudo-random stream with a long period, so that a
 * lost, repeated or reordered chunk of any common size mismatches. */
#define PATTERN_PERIOD ((size_t)MAX_WRITE + 7)
#define DRAIN_ITERATIONS 10000
/* A timeout this long (35 years) never expires while an input runs. */
#define FAR_MS ((uint64_t)1 << 40)

/* ---- input decoding ------------------------------------------------------ */

static const uint8_t *in_data;
static size_t in_size, in_pos;

static uint8_t u8(void) { return in_pos < in_size ? in_data[in_pos++] : 0; }
static uint16_t u16(void) { return (uint16_t)(u8() | (u8() << 8)); }
static uint32_t u32(void) { return (uint32_t)u16() | ((uint32_t)u16() << 16); }
static uint64_t u64(void) { return (uint64_t)u32() | ((uint64_t)u32() << 32); }
static int input_left(void) { return in_pos < in_size; }

/* Bytes from NESTED_MARK up are not operations: a callback that finds one
 * next consumes it and makes one call of its own. Anywhere else they are
 * skipped, so callbacks never shift how the rest of the input decodes. */
#define NUM_OPS 28
#define NESTED_MARK (NUM_OPS * (256 / NUM_OPS))

static int take_nested_mark(void) {
  if (in_pos < in_size && in_data[in_pos] >= NESTED_MARK) {
    in_pos++;
    return 1;
  }
  return 0;
}

/* ---- the handle table ---------------------------------------------------- */

typedef struct {
  fuv_handle_t *h; /* NULL: the slot is free (or its handle was freed) */
  int closing;
  int reading;
  int peer;         /* socketpair: the slot of the other end, or -1 */
  int tx_tracked;   /* every byte written is accounted for in tx */
  int rx_check;     /* received bytes must match the pattern at rx */
  uint64_t tx, rx;  /* pattern offsets written / received */
  uint64_t last_write_done; /* sequence of the last write callback */
  uint64_t write_seq;
  int listen_port;  /* > 0 once listening on loopback */
  int far_timer;    /* timer due in decades: must not fire during a run */
} slot_t;

static slot_t slots[MAX_SLOTS];
static int owned_fds[MAX_FDS]; /* fds the harness owns (detached), or -1 */
static int untracked_closes;   /* handles closed for lack of a slot */

/* Requests with a callback: write, shutdown, connect, close. */
enum { REQ_WRITE, REQ_SHUTDOWN, REQ_CONNECT, REQ_CLOSE };
typedef struct {
  int kind;
  int slot;
  fuv_handle_t *h;
  int failed; /* the call returned an error: must never call back */
  int done;
  uint64_t seq; /* writes: order within the stream */
} req_t;

static req_t *reqs;
static size_t nreqs, capreqs;

static fuv_loop_t *loop;
static fuv_timer_t *kick; /* the harness's own timer; never fuzzed */
static int in_call;       /* > 0 while inside a library call */
static int nesting;       /* callbacks currently making calls */
static size_t write_budget;
static char *pattern;
static char recv_buf[65536];

static void run_op(void);

/* FUZZ_API_TRACE=1 in the environment prints every call and its result,
 * which turns a crashing input into a readable reproducer. */
static int tracing;

static long long traced(const char *what, long long result) {
  if (tracing)
    fprintf(stderr, "%*s%s = %lld\n", 2 * nesting, "", what, result);
  return result;
}

/* Wraps every library call (except fuv_run): callbacks must not run
 * inside it. */
#define CALL(expr)                                                           \
  traced(#expr, (in_call++, call_result_ = (long long)(expr), in_call--,     \
                 call_result_))
static long long call_result_;

static void callback_entered(void) { FUZZ_CHECK(in_call == 0); }

/* Lets a callback consume input and make one call, not too deep. */
static void maybe_nested_op(void) {
  if (nesting >= MAX_NESTING || !take_nested_mark())
    return;
  nesting++;
  run_op();
  nesting--;
}

static size_t new_req(int kind, int slot) {
  if (nreqs == capreqs) {
    capreqs = capreqs ? capreqs * 2 : 64;
    reqs = realloc(reqs, capreqs * sizeof(*reqs));
    FUZZ_CHECK(reqs != NULL);
  }
  reqs[nreqs] = (req_t){kind, slot, slot >= 0 ? slots[slot].h : NULL, 0, 0, 0};
  return nreqs++;
}

static void *req_arg(size_t i) { return (void *)(uintptr_t)(i + 1); }

/* Validates and completes the request a callback belongs to. */
static req_t *req_complete(void *arg, int kind, const void *handle) {
  size_t i = (size_t)(uintptr_t)arg - 1;
  FUZZ_CHECK(i < nreqs);
  req_t *r = &reqs[i];
  FUZZ_CHECK(r->kind == kind);
  FUZZ_CHECK(!r->failed);
  FUZZ_CHECK(!r->done);
  FUZZ_CHECK(r->h == (const fuv_handle_t *)handle);
  /* Every callback of a handle comes before its close callback. */
  FUZZ_CHECK(slots[r->slot].h == r->h);
  r->done = 1;
  return r;
}

static int free_slot(void) {
  for (int i = 0; i < MAX_SLOTS; i++)
    if (slots[i].h == NULL)
      return i;
  return -1;
}

/* Any handle of the table (possibly closing), or NULL. Never a freed one. */
static fuv_handle_t *pick_handle(int *slot) {
  int i = u8() % (MAX_SLOTS + 2);
  if (i >= MAX_SLOTS || slots[i].h == NULL) {
    *slot = -1;
    return NULL;
  }
  *slot = i;
  if (tracing)
    fprintf(stderr, "%*s(slot %d)\n", 2 * nesting, "", i);
  return slots[i].h;
}

static fuv_stream_t *pick_stream(int *slot) {
  return (fuv_stream_t *)pick_handle(slot);
}

/* Stops checking the bytes that the stream in slot i sends: its peer can
 * no longer know which offset comes next. */
static void untrack_tx(int i) {
  if (i < 0)
    return;
  slots[i].tx_tracked = 0;
  if (slots[i].peer >= 0)
    slots[slots[i].peer].rx_check = 0;
}

static void add_slot(int i, fuv_handle_t *h) {
  slots[i] = (slot_t){0};
  slots[i].h = h;
  slots[i].peer = -1;
}

/* ---- callbacks ----------------------------------------------------------- */

static void on_close(fuv_handle_t *h, void *arg) {
  callback_entered();
  req_t *r = req_complete(arg, REQ_CLOSE, h);
  slot_t *s = &slots[r->slot];
  FUZZ_CHECK(s->h == h && s->closing);
  /* The handle is freed when this returns: forget it, and let its peer
   * keep checking the bytes still on their way. */
  if (s->peer >= 0 && slots[s->peer].peer == r->slot)
    slots[s->peer].peer = -1;
  s->h = NULL;
  s->peer = -1;
}

static void on_untracked_close(fuv_handle_t *h, void *arg) {
  (void)h, (void)arg;
  callback_entered();
  untracked_closes--;
}

/* Closes the handle in slot i with a tracked close callback. */
static int close_slot(int i, int reset) {
  size_t r = new_req(REQ_CLOSE, i);
  int rc = reset ? (int)CALL(fuv_tcp_close_reset((fuv_tcp_t *)slots[i].h,
                                                  on_close, req_arg(r)))
                 : (int)CALL(fuv_close(slots[i].h, on_close, req_arg(r)));
  if (rc == 0) {
    FUZZ_CHECK(!slots[i].closing);
    slots[i].closing = 1;
    slots[i].reading = 0;
  } else {
    reqs[r].failed = 1;
  }
  return rc;
}

static void check_pattern(slot_t *s, const char *buf, size_t n) {
  if (s->rx_check) {
    size_t off = (size_t)(s->rx % PATTERN_PERIOD);
    FUZZ_CHECK(memcmp(buf, pattern + off, n) == 0);
  }
  s->rx += n;
}

/* The other end of a tracked socketpair, open and with every byte it
 * wrote accounted for, or NULL. */
static slot_t *tracked_sender(const slot_t *s) {
  if (!s->rx_check || s->peer < 0)
    return NULL;
  slot_t *p = &slots[s->peer];
  return p->h != NULL && !p->closing && p->tx_tracked ? p : NULL;
}

/* At the end of the stream every byte the (still open) peer wrote must
 * have arrived: it only shuts down after its queued writes. */
static void check_complete_at_eof(const slot_t *s) {
  const slot_t *p = tracked_sender(s);
  if (p != NULL)
    FUZZ_CHECK(s->rx == p->tx);
}

static void on_read(fuv_stream_t *stream, ssize_t nread, const char *buf,
                    void *arg) {
  callback_entered();
  slot_t *s = arg;
  FUZZ_CHECK(s->h == (fuv_handle_t *)stream);
  FUZZ_CHECK(s->reading && !s->closing);
  FUZZ_CHECK(nread != 0);
  FUZZ_CHECK((nread > 0) == (buf != NULL));
  if (nread > 0)
    check_pattern(s, buf, (size_t)nread);
  else
    s->reading = 0; /* reading stops by itself after EOF or an error */
  if (nread == FUV_EOF)
    check_complete_at_eof(s);
  maybe_nested_op();
}

static void on_write(fuv_stream_t *stream, int status, void *arg) {
  callback_entered();
  req_t *r = req_complete(arg, REQ_WRITE, stream);
  slot_t *s = &slots[r->slot];
  FUZZ_CHECK(status <= 0);
  FUZZ_CHECK(r->seq > s->last_write_done);
  s->last_write_done = r->seq;
  if (status < 0)
    untrack_tx(r->slot); /* how much of it went out is unknown */
  maybe_nested_op();
}

static void on_shutdown(fuv_stream_t *stream, int status, void *arg) {
  callback_entered();
  req_complete(arg, REQ_SHUTDOWN, stream);
  FUZZ_CHECK(status <= 0);
  maybe_nested_op();
}

static void on_connect(fuv_tcp_t *tcp, int status, void *arg) {
  callback_entered();
  req_complete(arg, REQ_CONNECT, tcp);
  FUZZ_CHECK(status <= 0);
  maybe_nested_op();
}

static void on_connection(fuv_stream_t *server, int status, void *arg) {
  callback_entered();
  slot_t *s = arg;
  FUZZ_CHECK(s->h == (fuv_handle_t *)server && !s->closing);
  FUZZ_CHECK(status <= 0);
  maybe_nested_op();
}

static void on_timer(fuv_timer_t *timer, void *arg) {
  callback_entered();
  slot_t *s = arg;
  FUZZ_CHECK(s->h == (fuv_handle_t *)timer && !s->closing);
  FUZZ_CHECK(!s->far_timer);
  /* A repeating timer has been re-armed with its repeat already. */
  s->far_timer = fuv_timer_get_repeat(timer) >= FAR_MS;
  maybe_nested_op();
}

static void on_async(fuv_async_t *async, void *arg) {
  callback_entered();
  slot_t *s = arg;
  FUZZ_CHECK(s->h == (fuv_handle_t *)async && !s->closing);
  maybe_nested_op();
}

static void on_drain(fuv_stream_t *stream, void *arg) {
  callback_entered();
  slot_t *s = arg;
  FUZZ_CHECK(s->h == (fuv_handle_t *)stream && !s->closing);
  maybe_nested_op();
}

static void on_kick(fuv_timer_t *timer, void *arg) {
  (void)timer, (void)arg;
  callback_entered();
  /* Stopping makes this iteration poll with timeout 0 and end the run. */
  fuv_stop(loop);
}

static void on_walk(fuv_handle_t *h, void *arg) {
  (void)arg;
  callback_entered();
  FUZZ_CHECK(!fuv_is_closing(h));
  if (h == (fuv_handle_t *)kick || !take_nested_mark())
    return;
  for (int i = 0; i < MAX_SLOTS; i++)
    if (slots[i].h == h && !slots[i].closing)
      close_slot(i, 0);
}

/* ---- operations ---------------------------------------------------------- */

/* A size for a write: mostly ordinary, sometimes large, bounded by the
 * budget and by the pattern buffer actually passed. */
static size_t pick_size(void) {
  size_t n;
  switch (u8() % 8) {
  case 0: n = 0; break;
  case 1: n = 1; break;
  case 2: n = u8(); break;
  case 3: n = u16(); break;
  case 4: n = 65536 + u16(); break;
  case 5: n = u32() % MAX_WRITE + 1; break;
  case 6: n = MAX_WRITE; break;
  default: n = u16() % 4096; break;
  }
  if (n > write_budget)
    n = write_budget;
  write_budget -= n;
  return n;
}

/* Sizes no buffer has: only ever passed with a NULL pointer. */
static size_t absurd_size(void) {
  static const size_t sizes[] = {1, SIZE_MAX, (size_t)INT_MAX + 1,
                                 (size_t)SSIZE_MAX, (size_t)UINT32_MAX};
  return sizes[u8() % (sizeof(sizes) / sizeof(sizes[0]))];
}

static const char *pattern_at(int slot, size_t extra) {
  uint64_t tx = slot >= 0 ? slots[slot].tx : 0;
  return pattern + (size_t)((tx + extra) % PATTERN_PERIOD);
}

static uint64_t absurd_ms(void) {
  switch (u8() % 6) {
  case 0: return 0;
  case 1: return 1;
  case 2: return UINT64_MAX;
  case 3: return (uint64_t)INT_MAX + 1;
  case 4: return UINT64_MAX - u8();
  default: return u64();
  }
}

/* Loopback, malformed, or NULL; never a wildcard, so that nothing the
 * fuzzer opens is reachable from outside the machine. */
static const char *pick_ip(void) {
  static const char *ips[] = {"127.0.0.1", "::1", "127.0.0.1x", "",
                              "::ffff:127.0.0.1", "fe80::1%lo", "256.1.1.1",
                              "127.1", NULL};
  return ips[u8() % (sizeof(ips) / sizeof(ips[0]))];
}

/* A port of one of our listeners, or one where nothing of ours listens;
 * never a port another program might serve. */
static int pick_port(void) {
  int i = u8() % (MAX_SLOTS + 4);
  if (i < MAX_SLOTS && slots[i].h != NULL && slots[i].listen_port > 0)
    return slots[i].listen_port;
  switch (i % 4) {
  case 0: return 0;
  case 1: return -1;
  case 2: return 70000;
  default: return 1;
  }
}

static void op_tcp_new(void) {
  int i = free_slot();
  fuv_tcp_t *t = NULL;
  int rc;
  if (i < 0)
    return;
  switch (u8() % 4) {
  case 0: rc = (int)CALL(fuv_tcp_new_ex(&t, loop, FUV_AF_INET)); break;
  case 1: rc = (int)CALL(fuv_tcp_new_ex(&t, loop, FUV_AF_INET6)); break;
  case 2: rc = (int)CALL(fuv_tcp_new_ex(&t, loop, (int)u8() - 8)); break;
  default: rc = (int)CALL(fuv_tcp_new(&t, loop)); break;
  }
  if (rc == 0)
    add_slot(i, (fuv_handle_t *)t);
  else
    FUZZ_CHECK(t == NULL || rc == 0);
}

/* Opens fd as a new TCP handle in a free slot, returning the slot, or
 * closes the fd and returns -1. */
static int open_fd_slot(int fd) {
  int i = free_slot();
  fuv_tcp_t *t = NULL;
  if (i < 0 || CALL(fuv_tcp_new(&t, loop)) != 0) {
    close(fd);
    return -1;
  }
  add_slot(i, (fuv_handle_t *)t);
  if (CALL(fuv_tcp_open(t, fd)) != 0) {
    close(fd);
    return i;
  }
  return i;
}

static void op_socketpair(void) {
  int fd0 = -1, fd1 = -1;
  unsigned flags = u8();
  if (CALL(fuv_socketpair(FUV_SOCK_STREAM, 0, &fd0, &fd1, flags & 1,
                          (flags >> 1) & 1)) != 0)
    return;
  int a = open_fd_slot(fd0);
  int b = open_fd_slot(fd1);
  if (a >= 0 && b >= 0) {
    slots[a].peer = b;
    slots[b].peer = a;
    slots[a].tx_tracked = slots[b].tx_tracked = 1;
    slots[a].rx_check = slots[b].rx_check = 1;
  }
}

static void op_listen(void) {
  int i;
  fuv_stream_t *s = pick_stream(&i);
  char ip[FUV_IP_NAME_MAX];
  int port = 0;
  if (u8() & 1)
    CALL(fuv_tcp_bind((fuv_tcp_t *)s, (u8() & 1) ? "::1" : "127.0.0.1", 0,
                      u8() & 3));
  int cb = u8() & 3;
  int rc = (int)CALL(fuv_listen(s, (int)(int8_t)u8(),
                                cb ? on_connection : NULL,
                                i >= 0 ? &slots[i] : NULL));
  if (rc == 0 && i >= 0 &&
      CALL(fuv_tcp_getsockname((fuv_tcp_t *)s, ip, sizeof(ip), &port)) == 0)
    slots[i].listen_port = port;
}

static void op_connect(void) {
  int i;
  fuv_tcp_t *t = (fuv_tcp_t *)pick_handle(&i);
  const char *ip = (u8() & 3) ? "127.0.0.1" : pick_ip();
  int port = pick_port();
  if (u8() & 1) {
    size_t r = new_req(REQ_CONNECT, i);
    if (CALL(fuv_tcp_connect(t, ip, port, on_connect, req_arg(r))) != 0)
      reqs[r].failed = 1;
  } else {
    CALL(fuv_tcp_connect(t, ip, port, NULL, NULL));
  }
}

static void op_accept(void) {
  int i;
  fuv_stream_t *s = pick_stream(&i);
  fuv_tcp_t *client = NULL;
  int sync = u8() & 1;
  int rc = sync ? (int)CALL(fuv_accept_sync(s, &client, 0))
                : (int)CALL(fuv_accept(s, (u8() & 7) ? &client : NULL));
  if (rc != 0) {
    FUZZ_CHECK(client == NULL);
    return;
  }
  FUZZ_CHECK(client != NULL);
  int j = free_slot();
  if (j >= 0) {
    add_slot(j, (fuv_handle_t *)client);
  } else {
    untracked_closes++;
    FUZZ_CHECK(CALL(fuv_close((fuv_handle_t *)client, on_untracked_close,
                              NULL)) == 0);
  }
}

static void op_timer_new(void) {
  int i = free_slot();
  fuv_timer_t *t = NULL;
  if (i >= 0 && CALL(fuv_timer_new(&t, loop)) == 0)
    add_slot(i, (fuv_handle_t *)t);
}

static void op_async_new(void) {
  int i = free_slot();
  fuv_async_t *a = NULL;
  if (i < 0)
    return;
  if (CALL(fuv_async_new(&a, loop, on_async, &slots[i])) == 0)
    add_slot(i, (fuv_handle_t *)a);
}

static void op_read_start(void) {
  int i;
  fuv_stream_t *s = pick_stream(&i);
  int with_cb = (u8() & 7) != 0;
  if (CALL(fuv_read_start(s, with_cb ? on_read : NULL,
                          i >= 0 ? &slots[i] : NULL)) == 0) {
    FUZZ_CHECK(with_cb && i >= 0 && !slots[i].closing);
    FUZZ_CHECK(fuv_is_active((fuv_handle_t *)s) == 1);
    slots[i].reading = 1;
  }
}

static void op_read_stop(void) {
  int i;
  fuv_stream_t *s = pick_stream(&i);
  if (CALL(fuv_read_stop(s)) == 0 && i >= 0)
    slots[i].reading = 0;
}

/* Accounts for n bytes accepted for writing on slot i. */
static void wrote(int i, size_t n) {
  if (i >= 0)
    slots[i].tx += n;
}

static void op_write(void) {
  int i;
  fuv_stream_t *s = pick_stream(&i);
  unsigned mode = u8();
  const char *data;
  size_t len;
  if ((mode & 15) == 0) {
    data = NULL;
    len = (mode & 16) ? 0 : absurd_size();
  } else {
    len = pick_size();
    data = pattern_at(i, 0);
  }
  int with_cb = (mode & 32) == 0;
  size_t r = new_req(REQ_WRITE, i);
  if (i >= 0)
    reqs[r].seq = ++slots[i].write_seq;
  int rc = (int)CALL(fuv_write(s, data, len, with_cb ? on_write : NULL,
                               req_arg(r)));
  if (rc == 0) {
    FUZZ_CHECK(data != NULL || len == 0);
    wrote(i, len);
  }
  if (rc != 0 || !with_cb)
    reqs[r].failed = 1;
}

static void op_writev(void) {
  int i;
  fuv_stream_t *s = pick_stream(&i);
  const char *bufs[4];
  size_t lens[4], total = 0;
  size_t nbufs = u8() % 5;
  for (size_t k = 0; k < nbufs; k++) {
    if ((u8() & 15) == 0) {
      bufs[k] = NULL;
      lens[k] = (u8() & 1) ? 0 : absurd_size();
    } else {
      lens[k] = pick_size();
      bufs[k] = pattern_at(i, total);
    }
    total += lens[k];
  }
  size_t r = new_req(REQ_WRITE, i);
  if (i >= 0)
    reqs[r].seq = ++slots[i].write_seq;
  int rc;
  switch (u8() % 8) {
  case 0: rc = (int)CALL(fuv_writev(s, NULL, lens, nbufs, on_write,
                                    req_arg(r))); break;
  case 1: rc = (int)CALL(fuv_writev(s, bufs, NULL, nbufs, on_write,
                                    req_arg(r))); break;
  default: rc = (int)CALL(fuv_writev(s, bufs, lens, nbufs, on_write,
                                     req_arg(r))); break;
  }
  if (rc == 0)
    wrote(i, total);
  else
    reqs[r].failed = 1;
}

static void op_try_write(void) {
  int i;
  fuv_stream_t *s = pick_stream(&i);
  int rc;
  if ((u8() & 15) == 0) {
    rc = (int)CALL(fuv_try_write(s, NULL, absurd_size()));
    FUZZ_CHECK(rc <= 0);
    return;
  }
  size_t len = pick_size();
  rc = (int)CALL(fuv_try_write(s, pattern_at(i, 0), len));
  FUZZ_CHECK(rc <= 0 || (size_t)rc <= len);
  if (rc > 0)
    wrote(i, (size_t)rc);
}

static void op_shutdown(void) {
  int i;
  fuv_stream_t *s = pick_stream(&i);
  if (u8() & 1) {
    size_t r = new_req(REQ_SHUTDOWN, i);
    if (CALL(fuv_shutdown(s, on_shutdown, req_arg(r))) != 0)
      reqs[r].failed = 1;
  } else {
    CALL(fuv_shutdown(s, NULL, NULL));
  }
}

static void op_close(int reset) {
  int i;
  fuv_handle_t *h = pick_handle(&i);
  if (i < 0) {
    FUZZ_CHECK(CALL(fuv_close(NULL, NULL, NULL)) == FUV_EINVAL);
    FUZZ_CHECK(CALL(fuv_tcp_close_reset(NULL, NULL, NULL)) == FUV_EINVAL);
    return;
  }
  int was_closing = slots[i].closing;
  int rc = close_slot(i, reset);
  /* A second close is refused; the first close callback still runs once. */
  if (was_closing)
    FUZZ_CHECK(rc == FUV_EINVAL);
  else if (!reset)
    FUZZ_CHECK(rc == 0 && h != NULL);
}

static void op_ref(void) {
  int i;
  fuv_handle_t *h = pick_handle(&i);
  switch (u8() % 3) {
  case 0: CALL(fuv_ref(h)); break;
  case 1: CALL(fuv_unref(h)); break;
  default: CALL(fuv_has_ref(h)); break;
  }
}

static void op_timer(void) {
  int i;
  fuv_timer_t *t = (fuv_timer_t *)pick_handle(&i);
  switch (u8() % 6) {
  case 0:
  case 1: {
    uint64_t timeout = absurd_ms(), repeat = absurd_ms();
    if (CALL(fuv_timer_start(t, (u8() & 15) ? on_timer : NULL, timeout,
                             repeat, i >= 0 ? &slots[i] : NULL)) == 0) {
      FUZZ_CHECK(fuv_is_active((fuv_handle_t *)t) == 1);
      FUZZ_CHECK(fuv_timer_get_repeat(t) == repeat);
      slots[i].far_timer = timeout >= FAR_MS;
    }
    break;
  }
  case 2:
    if (CALL(fuv_timer_stop(t)) == 0)
      FUZZ_CHECK(fuv_is_active((fuv_handle_t *)t) == 0);
    break;
  case 3:
    if (CALL(fuv_timer_again(t)) == 0)
      slots[i].far_timer = fuv_timer_get_repeat(t) >= FAR_MS;
    break;
  case 4: CALL(fuv_timer_set_repeat(t, absurd_ms())); break;
  default:
    CALL(fuv_timer_get_repeat(t));
    CALL(fuv_timer_get_due_in(t));
    break;
  }
}

static void op_async_send(void) {
  int i;
  fuv_async_t *a = (fuv_async_t *)pick_handle(&i);
  CALL(fuv_async_send(a));
}

static void op_sync(void) {
  int i;
  fuv_stream_t *s = pick_stream(&i);
  const int timeout = 0; /* never wait */
  switch (u8() % 4) {
  case 0:
    CALL(fuv_tcp_connect_sync((fuv_tcp_t *)s,
                              (u8() & 3) ? "127.0.0.1" : pick_ip(),
                              pick_port(), timeout));
    break;
  case 1: {
    size_t len = pick_size();
    int rc = (int)CALL(fuv_send(s, pattern_at(i, 0), len, timeout));
    if (rc == 0)
      wrote(i, len);
    else /* a prefix of unknown length may have gone out */
      untrack_tx(i);
    break;
  }
  case 2: {
    size_t len = u16() % (sizeof(recv_buf) + 1);
    int null_buf = (u8() & 15) == 0;
    int rc = (int)CALL(fuv_recv(s, null_buf ? NULL : recv_buf, len, timeout));
    if (null_buf || len == 0)
      FUZZ_CHECK(rc < 0);
    FUZZ_CHECK(rc <= (int)len);
    if (rc > 0 && i >= 0)
      check_pattern(&slots[i], recv_buf, (size_t)rc);
    if (rc == 0 && i >= 0)
      check_complete_at_eof(&slots[i]);
    break;
  }
  default:
    CALL(fuv_send(s, NULL, (u8() & 1) ? 0 : absurd_size(), timeout));
    break;
  }
}

static void op_sockopt(void) {
  int i;
  fuv_handle_t *h = pick_handle(&i);
  fuv_tcp_t *t = (fuv_tcp_t *)h;
  int on = 0, secs = 0;
  int v = (int)u32();
  switch (u8() % 16) {
  case 0: CALL(fuv_tcp_nodelay(t, v)); break;
  case 1: CALL(fuv_tcp_keepalive(t, v & 1, (unsigned)v)); break;
  case 2: CALL(fuv_tcp_keepalive_ex(t, v & 1, u32(), u32(), u32())); break;
  case 3: CALL(fuv_tcp_simultaneous_accepts(t, v)); break;
  case 4: {
    /* A linger of n > 0 seconds makes close(2) of a TCP socket with unsent
     * data wait up to n seconds, non-blocking or not, as the caller asked:
     * only a linger of 0 (reset), a bad value or linger off are tried. */
    static const int lingers[] = {0, -1, INT_MIN};
    int on_ = v & 1;
    CALL(fuv_tcp_set_linger(t, on_, on_ ? lingers[u8() % 3] : (int)u32()));
    break;
  }
  case 5: CALL(fuv_tcp_get_linger(t, (u8() & 7) ? &on : NULL, &secs)); break;
  case 6: CALL(fuv_tcp_set_ttl(t, v)); CALL(fuv_tcp_get_ttl(t)); break;
  case 7: CALL(fuv_tcp_set_reuseaddr(t, v)); CALL(fuv_tcp_get_reuseaddr(t));
    break;
  case 8: CALL(fuv_tcp_set_ipv6only(t, v)); CALL(fuv_tcp_get_ipv6only(t));
    break;
  case 9: {
    static const char *names[] = {NULL, "", "lo", "no-such-if0",
                                  "0123456789abcdef0123456789"};
    CALL(fuv_tcp_bind_to_device(t, names[u8() % 5]));
    break;
  }
  case 10: {
    int st = (int)CALL(fuv_tcp_state(t));
    FUZZ_CHECK(fuv_tcp_state_name(st) != NULL);
    FUZZ_CHECK(fuv_tcp_state_name(v) != NULL);
    break;
  }
  case 11: CALL(fuv_tcp_pending_bytes(t)); CALL(fuv_tcp_socket_error(t));
    break;
  case 12: CALL(fuv_set_send_buffer_size(h, v));
    CALL(fuv_get_send_buffer_size(h)); break;
  case 13: CALL(fuv_set_recv_buffer_size(h, v));
    CALL(fuv_get_recv_buffer_size(h)); break;
  case 14: {
    int port = 0;
    int bind_port = (u8() & 3) ? 0 : pick_port();
    CALL(fuv_tcp_bind(t, pick_ip(), bind_port == 1 ? 0 : bind_port, u8()));
    char ip[FUV_IP_NAME_MAX];
    size_t iplen = u8() % (sizeof(ip) + 1);
    CALL(fuv_tcp_getsockname(t, ip, iplen, &port));
    CALL(fuv_tcp_getpeername(t, (u8() & 7) ? ip : NULL, iplen,
                             (u8() & 7) ? &port : NULL));
    break;
  }
  default: {
    struct sockaddr_storage ss;
    int len = (int)(u8() % (sizeof(ss) + 1)) - (int)(u8() & 1);
    CALL(fuv_tcp_getsockname_addr(t, (struct sockaddr *)&ss, &len));
    len = (int)(u8() % (sizeof(ss) + 1));
    CALL(fuv_tcp_getpeername_addr(t, (u8() & 7) ? (struct sockaddr *)&ss
                                                : NULL, &len));
    break;
  }
  }
}

static void op_detach_open(void) {
  int i;
  fuv_tcp_t *t = (fuv_tcp_t *)pick_handle(&i);
  if (u8() & 1) {
    int fd = (int)CALL(fuv_tcp_detach(t));
    if (fd < 0)
      return;
    FUZZ_CHECK(i >= 0);
    slots[i].reading = 0; /* the handle is left stopped */
    /* The bytes it sends from now on come from whoever opens the fd. */
    untrack_tx(i);
    if (slots[i].peer >= 0)
      untrack_tx(slots[i].peer);
    for (int k = 0; k < MAX_FDS; k++)
      if (owned_fds[k] < 0) {
        owned_fds[k] = fd;
        return;
      }
    close(fd);
    return;
  }
  int k = u8() % MAX_FDS;
  int fd = owned_fds[k];
  if ((u8() & 7) == 0)
    fd = (int)(int8_t)u8(); /* a bad fd: negative, or not ours to take */
  if (fd >= 0 && fd != owned_fds[k]) {
    /* Never hand over an fd we do not own: only check the call fails on
     * a handle that already has a socket, or take a negative one. */
    fd = -1 - (fd & 7);
  }
  if (CALL(fuv_tcp_open(t, fd)) == 0) {
    FUZZ_CHECK(fd >= 0 && fd == owned_fds[k]);
    owned_fds[k] = -1;
    untrack_tx(i);
  }
}

static void op_water_marks(void) {
  int i;
  fuv_stream_t *s = pick_stream(&i);
  size_t high = (u8() & 1) ? u32() : (size_t)u64();
  size_t low = (u8() & 1) ? high / 2 : (size_t)u32();
  CALL(fuv_stream_set_water_marks(s, high, low, (u8() & 1) ? on_drain : NULL,
                                  i >= 0 ? &slots[i] : NULL));
  CALL(fuv_stream_is_congested(s));
}

static void op_getters(void) {
  int i;
  fuv_handle_t *h = pick_handle(&i);
  fuv_stream_t *s = (fuv_stream_t *)h;
  switch (u8() % 6) {
  case 0:
    CALL(fuv_is_active(h));
    FUZZ_CHECK(CALL(fuv_is_closing(h)) == (i >= 0 && slots[i].closing));
    CALL(fuv_has_ref(h));
    break;
  case 1:
    FUZZ_CHECK(fuv_handle_type_name(fuv_handle_type(h)) != NULL);
    FUZZ_CHECK(fuv_handle_loop(h) == (h ? loop : NULL));
    CALL(fuv_handle_set_data(h, h));
    FUZZ_CHECK(h == NULL || fuv_handle_get_data(h) == h);
    break;
  case 2:
    CALL(fuv_fileno(h));
    CALL(fuv_is_readable(s));
    CALL(fuv_is_writable(s));
    CALL(fuv_write_queue_size(s));
    break;
  case 3:
    /* Not wrapped in CALL: walk callbacks run inside the walk. */
    fuv_walk(loop, on_walk, NULL);
    FUZZ_CHECK(fuv_walk(NULL, on_walk, NULL) == FUV_EINVAL);
    FUZZ_CHECK(fuv_walk(loop, NULL, NULL) == FUV_EINVAL);
    break;
  case 4:
    CALL(fuv_backend_timeout(loop));
    CALL(fuv_now(loop));
    CALL(fuv_update_time(loop));
    CALL(fuv_loop_alive(loop));
    CALL(fuv_metrics_loop_count(loop));
    CALL(fuv_metrics_events(loop));
    CALL(fuv_backend_fd(loop));
    break;
  default:
    /* The kick timer is always open, so freeing the loop is refused. */
    FUZZ_CHECK(CALL(fuv_loop_free(loop)) == FUV_EBUSY);
    FUZZ_CHECK(CALL(fuv_loop_free(NULL)) == FUV_EINVAL);
    break;
  }
}

/* Loop-wide calls. An interruptible loop woken through its wake-up fd
 * makes fuv_run() return FUV_EINTR, which is then not a failure. */
static int interruptible;

static void op_loop(void) {
  switch (u8() % 4) {
  case 0: CALL(fuv_stop(loop)); break;
  case 1:
    FUZZ_CHECK(CALL(fuv_loop_set_data(loop, &slots[1])) == 0);
    FUZZ_CHECK(fuv_loop_get_data(loop) == &slots[1]);
    FUZZ_CHECK(CALL(fuv_loop_set_data(NULL, NULL)) == FUV_EINVAL);
    break;
  case 2:
    interruptible = u8() & 1;
    FUZZ_CHECK(CALL(fuv_loop_set_interruptible(loop, interruptible)) == 0);
    break;
  default: {
    int fd = (int)CALL(fuv_loop_wakeup_fd(loop));
    FUZZ_CHECK(fd >= 0);
    if (u8() & 1)
      FUZZ_CHECK(write(fd, "x", 1) == 1);
    break;
  }
  }
}

static int run_ok(int r) { return r >= 0 || (interruptible && r == FUV_EINTR); }

/* Runs the loop without ever letting it wait. */
static void op_run(void) {
  unsigned how = u8() % 4;
  if (nesting > 0 || in_call > 0) {
    /* From a callback the loop refuses to run again. */
    FUZZ_CHECK(CALL(fuv_run(loop, FUV_RUN_NOWAIT)) == FUV_EBUSY);
    return;
  }
  if (how <= 1) {
    FUZZ_CHECK(run_ok(traced("fuv_run(NOWAIT)", fuv_run(loop, FUV_RUN_NOWAIT))));
    return;
  }
  /* The kick timer is due at once and stops the loop, so the iteration's
   * poll does not wait. */
  FUZZ_CHECK(fuv_timer_start(kick, on_kick, 0, 0, NULL) == 0);
  FUZZ_CHECK(run_ok(traced(how == 2 ? "fuv_run(ONCE)" : "fuv_run(DEFAULT)",
                           fuv_run(loop, how == 2 ? FUV_RUN_ONCE
                                                  : FUV_RUN_DEFAULT))));
  fuv_timer_stop(kick);
}

static void run_op(void) {
  unsigned op = u8();
  if (op >= NESTED_MARK)
    return;
  if (tracing)
    fprintf(stderr, "%*sop %u at byte %zu\n", 2 * nesting, "", op % NUM_OPS,
            in_pos - 1);
  switch (op % NUM_OPS) {
  case 0: op_tcp_new(); break;
  case 1: op_socketpair(); break;
  case 2: op_listen(); break;
  case 3: op_connect(); break;
  case 4: op_accept(); break;
  case 5: op_timer_new(); break;
  case 6: op_async_new(); break;
  case 7: op_read_start(); break;
  case 8: op_read_stop(); break;
  case 9: op_write(); break;
  case 10: op_writev(); break;
  case 11: op_try_write(); break;
  case 12: op_shutdown(); break;
  case 13: op_close(0); break;
  case 14: op_close(1); break;
  case 15: op_ref(); break;
  case 16: op_timer(); break;
  case 17: op_async_send(); break;
  case 18: op_sync(); break;
  case 19: op_sockopt(); break;
  case 20: op_detach_open(); break;
  case 21: op_water_marks(); break;
  case 22: op_getters(); break;
  case 23: op_loop(); break;
  default: op_run(); break;
  }
}

/* ---- setup and teardown -------------------------------------------------- */

static void make_pattern(void) {
  uint64_t x = 0x9e3779b97f4a7c15u;
  pattern = malloc(PATTERN_PERIOD + MAX_WRITE);
  FUZZ_CHECK(pattern != NULL);
  for (size_t k = 0; k < PATTERN_PERIOD; k++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    pattern[k] = (char)(x >> 24);
  }
  /* The tail repeats the start so any offset has MAX_WRITE bytes ahead. */
  memcpy(pattern + PATTERN_PERIOD, pattern, MAX_WRITE);
}

/* The number of open file descriptors of the process. */
static int count_fds(void) {
  DIR *dir = opendir("/proc/self/fd");
  int n = 0;
  FUZZ_CHECK(dir != NULL);
  while (readdir(dir) != NULL)
    n++;
  closedir(dir);
  return n;
}

/* Does slot b still wait for bytes from its tracked peer? */
static int awaiting_bytes(int b) {
  slot_t *s = &slots[b];
  if (s->h == NULL || s->closing || !s->reading)
    return 0;
  slot_t *p = tracked_sender(s);
  return p != NULL && s->rx < p->tx;
}

/* No accepted byte is lost: every socketpair end that is still open gets
 * everything its open peer wrote, once both are left to the loop. */
static void deliver_everything(void) {
  int waiting = 0;
  for (int b = 0; b < MAX_SLOTS; b++) {
    slot_t *s = &slots[b];
    if (s->h == NULL || s->closing || tracked_sender(s) == NULL)
      continue;
    fuv_ref(s->h);
    fuv_ref(slots[s->peer].h);
    if (!s->reading && fuv_read_start((fuv_stream_t *)s->h, on_read, s) == 0)
      s->reading = 1;
    waiting |= awaiting_bytes(b);
  }
  for (int n = 0; waiting; n++) {
    FUZZ_CHECK(n < DRAIN_ITERATIONS);
    FUZZ_CHECK(run_ok(fuv_run(loop, FUV_RUN_NOWAIT)));
    waiting = 0;
    for (int b = 0; b < MAX_SLOTS; b++)
      waiting |= awaiting_bytes(b);
  }
  for (int b = 0; b < MAX_SLOTS; b++) {
    slot_t *p = slots[b].h != NULL && !slots[b].closing && slots[b].reading
                    ? tracked_sender(&slots[b]) : NULL;
    if (p != NULL)
      FUZZ_CHECK(slots[b].rx == p->tx);
  }
}

static void close_everything(void) {
  for (int i = 0; i < MAX_SLOTS; i++)
    if (slots[i].h != NULL && !slots[i].closing)
      FUZZ_CHECK(close_slot(i, 0) == 0);
  FUZZ_CHECK(fuv_close((fuv_handle_t *)kick, NULL, NULL) == 0);
}

static int all_freed(void) {
  for (int i = 0; i < MAX_SLOTS; i++)
    if (slots[i].h != NULL)
      return 0;
  return untracked_closes == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (pattern == NULL) {
    make_pattern();
    tracing = getenv("FUZZ_API_TRACE") != NULL;
  }
  in_data = data, in_size = size, in_pos = 0;
  for (int i = 0; i < MAX_SLOTS; i++)
    add_slot(i, NULL);
  for (int k = 0; k < MAX_FDS; k++)
    owned_fds[k] = -1;
  nreqs = 0;
  untracked_closes = 0;
  interruptible = 0;
  write_budget = WRITE_BUDGET;
  int fds_before = count_fds();

  FUZZ_CHECK(fuv_loop_new(&loop) == 0);
  FUZZ_CHECK(fuv_timer_new(&kick, loop) == 0);
  FUZZ_CHECK(fuv_unref((fuv_handle_t *)kick) == 0);

  while (input_left())
    run_op();

  deliver_everything();
  close_everything();
  int iterations = 0;
  while (!all_freed() || fuv_loop_alive(loop)) {
    FUZZ_CHECK(run_ok(fuv_run(loop, FUV_RUN_NOWAIT)));
    /* Closing completes within a few iterations; more means it hangs. */
    FUZZ_CHECK(++iterations < DRAIN_ITERATIONS);
  }
  for (size_t r = 0; r < nreqs; r++)
    FUZZ_CHECK(reqs[r].failed || reqs[r].done);
  FUZZ_CHECK(fuv_loop_free(loop) == 0);
  loop = NULL;
  for (int k = 0; k < MAX_FDS; k++)
    if (owned_fds[k] >= 0)
      close(owned_fds[k]);
  FUZZ_CHECK(count_fds() == fds_before);
  return 0;
}
