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
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

#define MAX_SLOTS 32
#define MAX_FDS 8
#define MAX_NESTING 2
#define MAX_HOLES 16
#define MAX_PASS 8
/* Request objects (fuv_*_req) the harness holds at once. */
#define MAX_HELD 16
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
#define NUM_OPS 42
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
  int ipc;          /* a pipe created with ipc set */
  int bound_name;   /* pipe: the name it was bound to, or -1 */
  int peer_name;    /* pipe: the name it connected to, or -1 */
  /* prepare / check / idle: started, in which order, and the iteration a
   * callback of its own kind started it in (it must not run in that one) */
  int started;
  uint64_t start_seq, start_iter;
  int start_iter_valid;
  /* Cancelled writes of the peer, as pattern ranges [start, end) this end
   * will never receive, sorted. */
  int nholes;
  uint64_t hole_start[MAX_HOLES], hole_end[MAX_HOLES];
  /* IPC: the handles the peer sent with fuv_write2, in order, each the
   * socketpair end it hands over (or untracked). */
  int npass;
  struct pass_s {
    int valid;
    int y;            /* the slot of the passed end's peer */
    fuv_handle_t *yh; /* ... and its handle, to see it is the same */
    int x;            /* the passed end's own slot, being closed */
    fuv_handle_t *xh;
    uint64_t tx, rx;
    int tx_tracked, rx_check;
    uint64_t id;
  } pass[MAX_PASS];
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
  int has_cb;    /* a callback was given (so done means completed) */
  int cancelled; /* fuv_cancel() returned 0 for it */
  uint64_t tx_start, len; /* writes: the pattern range they carry */
  int name;      /* pipe connects: the name connected to, or -1 */
  int pass_to;   /* write2: the slot whose pass[] holds its record, or -1 */
  uint64_t pass_id;
} req_t;

/* The request objects held: released at random times, and the rest at the
 * end, half after the loop was freed. */
typedef struct {
  fuv_req_t *req;
  size_t r; /* its record in reqs */
  fuv_req_type_t type; /* what fuv_req_type() must report */
} held_t;
static held_t held[MAX_HELD];
static int nheld;

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
static int pick_name(void);
static int c_name(int k);
static int bad_name(int k, int with_len);
static int is_pipe(int i);

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

/* The mode of the fuv_run() in progress, -1 outside one. */
static int run_mode_now = -1;

static void callback_entered(void) {
  FUZZ_CHECK(in_call == 0);
  /* fuv_loop_mode() tells the run in progress (the stand-in: FUV_ENOSYS). */
  int mode = fuv_loop_mode(loop);
  FUZZ_CHECK(mode == FUV_ENOSYS || mode == run_mode_now);
}

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
  reqs[nreqs] = (req_t){0};
  reqs[nreqs].kind = kind;
  reqs[nreqs].slot = slot;
  reqs[nreqs].h = slot >= 0 ? slots[slot].h : NULL;
  reqs[nreqs].name = -1;
  reqs[nreqs].pass_to = -1;
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
  slots[i].bound_name = slots[i].peer_name = -1;
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

/* Steps over the cancelled writes that start where the stream is: their
 * bytes never come. */
static void skip_holes(slot_t *s) {
  while (s->nholes > 0 && s->hole_start[0] <= s->rx) {
    /* Bytes past the start of a cancelled write arrived: the write was not
     * taken out of the queue (or the bytes around it are out of order). */
    FUZZ_CHECK(!s->rx_check || s->hole_start[0] == s->rx);
    s->rx = s->hole_end[0];
    s->nholes--;
    memmove(s->hole_start, s->hole_start + 1, s->nholes * sizeof(uint64_t));
    memmove(s->hole_end, s->hole_end + 1, s->nholes * sizeof(uint64_t));
  }
}

/* The receiver's position in the sender's pattern, cancelled writes
 * skipped. */
static uint64_t rx_pos(slot_t *s) {
  skip_holes(s);
  return s->rx;
}

/* Slot p will never receive [start, end) of its peer's pattern. */
static void add_hole(slot_t *p, uint64_t start, uint64_t end) {
  if (start == end || !p->rx_check)
    return;
  /* Cancelled writes are ones none of whose bytes reached the kernel. */
  FUZZ_CHECK(start >= p->rx);
  if (p->nholes == MAX_HOLES) {
    p->rx_check = 0;
    return;
  }
  int k = p->nholes;
  while (k > 0 && p->hole_start[k - 1] > start) {
    p->hole_start[k] = p->hole_start[k - 1];
    p->hole_end[k] = p->hole_end[k - 1];
    k--;
  }
  p->hole_start[k] = start;
  p->hole_end[k] = end;
  p->nholes++;
}

static void check_pattern(slot_t *s, const char *buf, size_t n) {
  while (n > 0) {
    skip_holes(s);
    size_t chunk = n;
    if (s->nholes > 0 && s->hole_start[0] - s->rx < chunk)
      chunk = (size_t)(s->hole_start[0] - s->rx);
    if (s->rx_check) {
      size_t off = (size_t)(s->rx % PATTERN_PERIOD);
      FUZZ_CHECK(memcmp(buf, pattern + off, chunk) == 0);
    }
    s->rx += chunk;
    buf += chunk;
    n -= chunk;
  }
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
static void check_complete_at_eof(slot_t *s) {
  const slot_t *p = tracked_sender(s);
  if (p != NULL)
    FUZZ_CHECK(rx_pos(s) == p->tx);
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

/* Set once a handle sent with fuv_write2 may or may not have arrived (a
 * write2 failed, or went where the harness does not follow): from then on
 * received handles are not matched with what was sent. */
static int pass_untracked;

static void on_write(fuv_stream_t *stream, int status, void *arg) {
  callback_entered();
  req_t *r = req_complete(arg, REQ_WRITE, stream);
  slot_t *s = &slots[r->slot];
  FUZZ_CHECK(status <= 0);
  /* Writes complete in order; a cancelled one is called back as soon as
   * the loop can, before the writes queued ahead of it. */
  if (!r->cancelled) {
    FUZZ_CHECK(r->seq > s->last_write_done);
    s->last_write_done = r->seq;
  }
  if (r->cancelled) {
    /* Taken out of the queue: none of its bytes went out. */
    FUZZ_CHECK(status == FUV_ECANCELED);
  } else if (status < 0) {
    untrack_tx(r->slot); /* how much of it went out is unknown */
    if (r->pass_to >= 0)
      pass_untracked = 1;
  }
  maybe_nested_op();
}

static void on_shutdown(fuv_stream_t *stream, int status, void *arg) {
  callback_entered();
  req_t *r = req_complete(arg, REQ_SHUTDOWN, stream);
  FUZZ_CHECK(status <= 0);
  FUZZ_CHECK(!r->cancelled || status == FUV_ECANCELED);
  maybe_nested_op();
}

static const char *name_bytes(int k, size_t *len);

/* After a cancelled connect's callback the handle may connect again:
 * neither "already connecting" nor "connected". Port 1 / name 0: nothing
 * listens there. */
static void check_reconnect(int slot, int is_pipe) {
  if (slots[slot].closing)
    return;
  int rc;
  if (is_pipe) {
    size_t len;
    const char *name = name_bytes(0, &len);
    rc = (int)CALL(fuv_pipe_connect((fuv_pipe_t *)slots[slot].h, name, NULL,
                                    NULL));
  } else {
    rc = (int)CALL(fuv_tcp_connect((fuv_tcp_t *)slots[slot].h, "127.0.0.1", 1,
                                   NULL, NULL));
  }
  FUZZ_CHECK(rc != FUV_EALREADY && rc != FUV_EISCONN);
}

static void on_connect(fuv_tcp_t *tcp, int status, void *arg) {
  callback_entered();
  req_t *r = req_complete(arg, REQ_CONNECT, tcp);
  FUZZ_CHECK(status <= 0);
  if (r->cancelled) {
    FUZZ_CHECK(status == FUV_ECANCELED);
    check_reconnect(r->slot, 0);
  }
  maybe_nested_op();
}

static void on_pipe_connect(fuv_pipe_t *pipe, int status, void *arg) {
  callback_entered();
  req_t *r = req_complete(arg, REQ_CONNECT, pipe);
  FUZZ_CHECK(status <= 0);
  if (status == 0)
    slots[r->slot].peer_name = r->name;
  if (r->cancelled) {
    FUZZ_CHECK(status == FUV_ECANCELED);
    check_reconnect(r->slot, 1);
  }
  maybe_nested_op();
}

/* Prepare, check and idle callbacks: kind 0, 1, 2. */
enum { W_PREPARE, W_CHECK, W_IDLE };
static const fuv_handle_type_t watcher_type[3] = {FUV_PREPARE, FUV_CHECK,
                                                  FUV_IDLE};
static int cur_watcher_kind = -1; /* the kind whose callback is running */
static uint64_t watcher_seq;      /* start order */
static uint64_t last_iter[3], last_seq[3];
static int last_valid[3];

static void on_watcher(int kind, fuv_handle_t *h, void *arg) {
  callback_entered();
  slot_t *s = arg;
  FUZZ_CHECK(s->h == h && !s->closing);
  FUZZ_CHECK(fuv_handle_type(h) == watcher_type[kind]);
  FUZZ_CHECK(s->started); /* never after stop */
  uint64_t iter = fuv_metrics_loop_count(loop);
  /* One started from a callback of its own kind first runs in the next
   * iteration... */
  FUZZ_CHECK(!s->start_iter_valid || s->start_iter != iter);
  /* ... and handles of one kind run in the order they were started. */
  if (last_valid[kind] && last_iter[kind] == iter)
    FUZZ_CHECK(s->start_seq > last_seq[kind]);
  last_valid[kind] = 1;
  last_iter[kind] = iter;
  last_seq[kind] = s->start_seq;
  int saved = cur_watcher_kind;
  cur_watcher_kind = kind;
  maybe_nested_op();
  cur_watcher_kind = saved;
}

static void on_prepare(fuv_prepare_t *h, void *arg) {
  on_watcher(W_PREPARE, (fuv_handle_t *)h, arg);
}
static void on_check(fuv_check_t *h, void *arg) {
  on_watcher(W_CHECK, (fuv_handle_t *)h, arg);
}
static void on_idle(fuv_idle_t *h, void *arg) {
  on_watcher(W_IDLE, (fuv_handle_t *)h, arg);
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
    if (u8() & 1) {
      int k = pick_name();
      size_t len;
      int rc = (int)CALL(fuv_pipe_connect_sync((fuv_pipe_t *)s,
                                               name_bytes(k, &len), timeout));
      if (bad_name(k, 0))
        FUZZ_CHECK(rc < 0);
      if (rc == 0)
        slots[i].peer_name = c_name(k);
      break;
    }
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
  if (fd < 0)
    FUZZ_CHECK(CALL(fuv_pipe_open((fuv_pipe_t *)t, fd)) < 0);
  if (is_pipe(i) ? CALL(fuv_pipe_open((fuv_pipe_t *)t, fd)) == 0
                 : CALL(fuv_tcp_open(t, fd)) == 0) {
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

/* ---- pipes ----------------------------------------------------------------- */

/* Names for pipes: paths in a directory of our own, abstract names
 * (Linux; first byte NUL) unique to this process, and bad ones. */
#define NUM_NAMES 14
static char tmpdir[64];
static char names[NUM_NAMES][256];
static size_t name_lens[NUM_NAMES];
static int name_is_path[NUM_NAMES];

static void remove_tmpdir(void) {
  for (int k = 0; k < NUM_NAMES; k++)
    if (name_is_path[k])
      unlink(names[k]);
  rmdir(tmpdir);
}

static void set_name(int k, const char *bytes, size_t len, int path) {
  memcpy(names[k], bytes, len);
  names[k][len] = 0;
  name_lens[k] = len;
  name_is_path[k] = path;
}

static void make_names(void) {
  char buf[256];
  snprintf(tmpdir, sizeof tmpdir, "/tmp/fuv-fuzz-XXXXXX");
  FUZZ_CHECK(mkdtemp(tmpdir) != NULL);
  atexit(remove_tmpdir);
  for (int k = 0; k < 3; k++) {
    int n = snprintf(buf, sizeof buf, "%s/p%d", tmpdir, k);
    set_name(k, buf, (size_t)n, 1);
  }
  for (int k = 3; k < 5; k++) {
    int n = snprintf(buf, sizeof buf, "%cfuv-fuzz-%d-%d", 0, (int)getpid(), k);
    set_name(k, buf, (size_t)n, 0);
  }
  /* A path longer than sun_path. */
  int n = snprintf(buf, sizeof buf, "%s/", tmpdir);
  memset(buf + n, 'l', 150 - n);
  set_name(5, buf, 150, 1);
  /* Abstract names of 108 (all of sun_path) and 109 bytes. */
  n = snprintf(buf, sizeof buf, "%cfuv-fuzz-%d-", 0, (int)getpid());
  memset(buf + n, 'a', 120 - n);
  set_name(6, buf, 108, 0);
  set_name(7, buf, 109, 0);
  /* Paths of 107 (fits with its NUL) and 108 bytes. */
  n = snprintf(buf, sizeof buf, "%s/", tmpdir);
  memset(buf + n, 'm', 120 - n);
  set_name(8, buf, 107, 1);
  buf[107] = 'n';
  set_name(9, buf, 108, 1);
  set_name(10, "", 0, 0);
  n = snprintf(buf, sizeof buf, "%s/no-such-dir/x", tmpdir);
  set_name(11, buf, (size_t)n, 1);
  /* A NUL after the first byte: refused by the *2 calls; as a C string,
   * a path in our directory. */
  n = snprintf(buf, sizeof buf, "%s/nul", tmpdir);
  memcpy(buf + n, "\0cd", 3);
  set_name(12, buf, (size_t)n + 3, 1);
  set_name(13, "\0", 1, 0);       /* an abstract name of just the NUL */
}

/* A name's bytes (NULL for k out of range: a NULL name). */
static const char *name_bytes(int k, size_t *len) {
  if (k < 0 || k >= NUM_NAMES) {
    *len = (size_t)(k & 0xff);
    return NULL;
  }
  *len = name_lens[k];
  return names[k];
}

/* The name a C-string call (bind, connect) binds or connects to: k, or -1
 * when the string ends before the name does (unknown to the checks). */
static int c_name(int k) {
  return k >= 0 && k < NUM_NAMES && strlen(names[k]) == name_lens[k] ? k : -1;
}

static int pick_name(void) {
  int k = u8() % (NUM_NAMES + 1);
  return k; /* NUM_NAMES: NULL */
}

/* A name that must be refused: too long, empty, NULL, or with a NUL inside
 * (that last one only for the *2 calls, which take a length). */
static int bad_name(int k, int with_len) {
  return k == 5 || k == 7 || k == 10 || k >= NUM_NAMES ||
         (with_len && k == 12) || (!with_len && k == 13);
}

static int is_pipe(int i) {
  return i >= 0 && fuv_handle_type(slots[i].h) == FUV_PIPE;
}

static void op_pipe_new(void) {
  int i = free_slot();
  fuv_pipe_t *p = NULL;
  if (i < 0)
    return;
  int ipc = (int)(u8() % 3) - 0; /* 0, 1, or 2 (any non-zero is ipc) */
  if (CALL(fuv_pipe_new(&p, (u8() & 15) ? loop : NULL, ipc)) == 0) {
    add_slot(i, (fuv_handle_t *)p);
    slots[i].ipc = ipc != 0;
  } else {
    FUZZ_CHECK(p == NULL);
  }
}

/* Opens fd as a new pipe handle in a free slot, returning the slot, or
 * closes the fd and returns -1. */
static int open_pipe_slot(int fd, int ipc) {
  int i = free_slot();
  fuv_pipe_t *p = NULL;
  if (i < 0 || CALL(fuv_pipe_new(&p, loop, ipc)) != 0) {
    close(fd);
    return -1;
  }
  add_slot(i, (fuv_handle_t *)p);
  slots[i].ipc = ipc;
  if (CALL(fuv_pipe_open(p, fd)) != 0)
    close(fd);
  return i;
}

static void pair_up(int a, int b) {
  if (a >= 0 && b >= 0) {
    slots[a].peer = b;
    slots[b].peer = a;
    slots[a].tx_tracked = slots[b].tx_tracked = 1;
    slots[a].rx_check = slots[b].rx_check = 1;
  }
}

static void op_pipe_pair(void) {
  unsigned mode = u8();
  int fd0 = -1, fd1 = -1;
  if ((mode & 3) == 3) {
    /* pipe(2): bytes go one way, from the write end (b) to the read end. */
    if (CALL(fuv_pipe(&fd0, &fd1, (mode >> 2) & 1, (mode >> 3) & 1)) != 0)
      return;
    int a = open_pipe_slot(fd0, 0);
    int b = open_pipe_slot(fd1, 0);
    pair_up(a, b);
    return;
  }
  if (CALL(fuv_socketpair(FUV_SOCK_STREAM, 0, &fd0, &fd1, (mode >> 2) & 1,
                          (mode >> 3) & 1)) != 0)
    return;
  /* 0: plain pipes; 1: IPC pipes; 2: an IPC pipe and a TCP handle. */
  int a = open_pipe_slot(fd0, (mode & 3) != 0);
  int b = (mode & 3) == 2 ? open_fd_slot(fd1) : open_pipe_slot(fd1, (mode & 3) == 1);
  pair_up(a, b);
}

static void op_pipe_bind(void) {
  int i;
  fuv_pipe_t *p = (fuv_pipe_t *)pick_handle(&i);
  int k = pick_name();
  size_t len;
  const char *name = name_bytes(k, &len);
  unsigned mode = u8();
  int rc;
  if (mode & 1) {
    unsigned flags = (mode & 6) == 6 ? u8() : 0;
    rc = (int)CALL(fuv_pipe_bind2(p, name, len, flags));
    if (bad_name(k, 1) || flags != 0)
      FUZZ_CHECK(rc < 0);
  } else {
    rc = (int)CALL(fuv_pipe_bind(p, name));
    if (bad_name(k, 0) || (k < NUM_NAMES && !name_is_path[k]))
      FUZZ_CHECK(rc < 0);
  }
  if (rc == 0) {
    FUZZ_CHECK(is_pipe(i));
    slots[i].bound_name = (mode & 1) ? k : c_name(k);
  }
  if (mode & 8) {
    int cb = (mode & 48) != 0;
    CALL(fuv_listen((fuv_stream_t *)p, (int)(int8_t)u8(),
                    cb ? on_connection : NULL, i >= 0 ? &slots[i] : NULL));
  }
}

/* Connects a pipe, with or without a request object. */
static void hold(fuv_req_t *req, size_t r, fuv_req_type_t type);

static void op_pipe_connect(void) {
  int i;
  fuv_pipe_t *p = (fuv_pipe_t *)pick_handle(&i);
  int k = pick_name();
  size_t len;
  const char *name = name_bytes(k, &len);
  unsigned mode = u8();
  int with_cb = (mode & 12) != 0;
  size_t r = new_req(REQ_CONNECT, i);
  reqs[r].name = (mode & 3) == 1 ? k : c_name(k);
  reqs[r].has_cb = with_cb;
  fuv_pipe_connect_cb cb = with_cb ? on_pipe_connect : NULL;
  fuv_req_t *req = (fuv_req_t *)&req; /* must be overwritten */
  int rc;
  switch (mode & 3) {
  case 0: rc = (int)CALL(fuv_pipe_connect(p, name, cb, req_arg(r))); break;
  case 1: {
    unsigned flags = (mode & 16) ? u8() : 0;
    rc = (int)CALL(fuv_pipe_connect2(p, name, len, flags, cb, req_arg(r)));
    if (flags != 0)
      FUZZ_CHECK(rc < 0);
    break;
  }
  default:
    rc = (int)CALL(fuv_pipe_connect_req(p, name, cb, req_arg(r),
                                        (mode & 16) ? NULL : &req));
    if (!(mode & 16)) {
      FUZZ_CHECK((rc == 0) == (req != NULL));
      if (rc == 0)
        hold(req, r, FUV_CONNECT);
    }
    break;
  }
  if (bad_name(k, (mode & 3) == 1))
    FUZZ_CHECK(rc < 0);
  if (rc != 0 || !with_cb)
    reqs[r].failed = 1;
}

/* Checks a name fuv_pipe_getsockname / getpeername gave against the one
 * the handle was bound or connected to (-1: unknown). */
static void check_name(int rc, const char *buf, size_t size, size_t len,
                       int k) {
  if (rc == FUV_ENOBUFS)
    FUZZ_CHECK(len > size);
  if (rc != 0)
    return;
  FUZZ_CHECK(len <= size);
  if (len < size)
    FUZZ_CHECK(buf[len] == 0);
  if (k >= 0 && k < NUM_NAMES) {
    /* Never truncated. */
    FUZZ_CHECK(len == name_lens[k]);
    FUZZ_CHECK(memcmp(buf, names[k], len) == 0);
  }
}

static void op_pipe_misc(void) {
  int i;
  fuv_pipe_t *p = (fuv_pipe_t *)pick_handle(&i);
  char buf[300];
  static const size_t sizes[] = {0, 1, 5, 107, 108, 109, 300};
  switch (u8() % 6) {
  case 0:
  case 1: {
    int peer = u8() & 1;
    size_t size = sizes[u8() % 7];
    size_t len = 12345;
    memset(buf, 'X', sizeof buf);
    int rc = peer ? (int)CALL(fuv_pipe_getpeername(p, buf, size, &len))
                  : (int)CALL(fuv_pipe_getsockname(p, buf, size, &len));
    if (i >= 0 && is_pipe(i))
      check_name(rc, buf, size, len,
                 peer ? slots[i].peer_name : slots[i].bound_name);
    /* NULL pointers: refused, never written through. */
    CALL(fuv_pipe_getsockname(p, NULL, size, &len));
    CALL(fuv_pipe_getpeername(p, buf, sizeof buf, NULL));
    break;
  }
  case 2: {
    int flags = (int)(int8_t)u8() % 6;
    int rc = (int)CALL(fuv_pipe_chmod(p, flags));
    if (flags < 1 || flags > 3)
      FUZZ_CHECK(rc < 0);
    if (i >= 0 && slots[i].bound_name >= 0 &&
        !name_is_path[slots[i].bound_name])
      FUZZ_CHECK(rc < 0);
    break;
  }
  case 3: CALL(fuv_pipe_pending_instances(p, (int)u32())); break;
  case 4: {
    int n = (int)CALL(fuv_pipe_pending_count(p));
    int t = (int)CALL(fuv_pipe_pending_type(p));
    if (n == FUV_ENOSYS) /* the stand-in */
      break;
    FUZZ_CHECK(n >= 0);
    FUZZ_CHECK(n == 0 ? t == FUV_UNKNOWN_HANDLE
                      : (t == FUV_TCP || t == FUV_PIPE));
    if (i < 0 || !slots[i].ipc)
      FUZZ_CHECK(n == 0);
    break;
  }
  default: {
    /* Every stream call on a pipe, whatever it is, is covered by the
     * stream ops; here, only what fuv_fileno and the getters say. */
    int fd = (int)CALL(fuv_fileno((fuv_handle_t *)p));
    if (i >= 0 && is_pipe(i) && !slots[i].closing)
      FUZZ_CHECK(fd >= 0 || fd == FUV_EBADF);
    break;
  }
  }
}

/* ---- prepare, check, idle -------------------------------------------------- */

static void op_watcher(void) {
  int kind = u8() % 3;
  unsigned action = u8();
  if ((action & 3) == 0) {
    int i = free_slot();
    fuv_handle_t *h = NULL;
    int rc;
    if (i < 0)
      return;
    fuv_loop_t *l = (action & 60) ? loop : NULL;
    switch (kind) {
    case W_PREPARE: rc = (int)CALL(fuv_prepare_new((fuv_prepare_t **)&h, l)); break;
    case W_CHECK: rc = (int)CALL(fuv_check_new((fuv_check_t **)&h, l)); break;
    default: rc = (int)CALL(fuv_idle_new((fuv_idle_t **)&h, l)); break;
    }
    if (rc == 0) {
      FUZZ_CHECK(h != NULL && l != NULL);
      FUZZ_CHECK(fuv_handle_type(h) == watcher_type[kind]);
      FUZZ_CHECK(fuv_is_active(h) == 0);
      add_slot(i, h);
    }
    return;
  }
  int i;
  fuv_handle_t *h = pick_handle(&i);
  slot_t *s = i >= 0 ? &slots[i] : NULL;
  int right = h != NULL && fuv_handle_type(h) == watcher_type[kind];
  if ((action & 3) == 3) {
    int rc;
    switch (kind) {
    case W_PREPARE: rc = (int)CALL(fuv_prepare_stop((fuv_prepare_t *)h)); break;
    case W_CHECK: rc = (int)CALL(fuv_check_stop((fuv_check_t *)h)); break;
    default: rc = (int)CALL(fuv_idle_stop((fuv_idle_t *)h)); break;
    }
    if (rc == 0) {
      FUZZ_CHECK(right);
      s->started = 0;
      if (!s->closing)
        FUZZ_CHECK(fuv_is_active(h) == 0);
    }
    if (right && !s->closing)
      FUZZ_CHECK(rc == 0); /* stopping a stopped handle is not an error */
    return;
  }
  int with_cb = (action & 28) != 0;
  int was = s != NULL && s->started;
  int rc;
  switch (kind) {
  case W_PREPARE:
    rc = (int)CALL(fuv_prepare_start((fuv_prepare_t *)h,
                                     with_cb ? on_prepare : NULL, s));
    break;
  case W_CHECK:
    rc = (int)CALL(fuv_check_start((fuv_check_t *)h, with_cb ? on_check : NULL,
                                   s));
    break;
  default:
    rc = (int)CALL(fuv_idle_start((fuv_idle_t *)h, with_cb ? on_idle : NULL,
                                  s));
    break;
  }
  if (rc == 0) {
    FUZZ_CHECK(right && with_cb && !s->closing);
    FUZZ_CHECK(fuv_is_active(h) == 1);
    if (!was) {
      s->started = 1;
      s->start_seq = ++watcher_seq;
      s->start_iter_valid = cur_watcher_kind == kind;
      s->start_iter = fuv_metrics_loop_count(loop);
    }
  }
  if (!with_cb || !right)
    FUZZ_CHECK(rc < 0);
}

/* Is an idle handle started? Then the loop must not block. */
static int idle_active(void) {
  for (int i = 0; i < MAX_SLOTS; i++)
    if (slots[i].h != NULL && !slots[i].closing && slots[i].started &&
        fuv_handle_type(slots[i].h) == FUV_IDLE)
      return 1;
  return 0;
}

/* ---- requests -------------------------------------------------------------- */

static void release_held(int k) {
  FUZZ_CHECK(k >= 0 && k < nheld);
  CALL((fuv_req_release(held[k].req), 0));
  held[k] = held[--nheld];
}

static void hold(fuv_req_t *req, size_t r, fuv_req_type_t type) {
  FUZZ_CHECK(req != NULL);
  FUZZ_CHECK(fuv_req_type(req) == type);
  if (nheld == MAX_HELD)
    release_held(0);
  held[nheld++] = (held_t){req, r, type};
}

/* The passed record of a write2, taken back: its handle never goes. */
static void drop_pass(req_t *r) {
  if (r->pass_to < 0)
    return;
  slot_t *b = &slots[r->pass_to];
  for (int k = 0; k < b->npass; k++)
    if (b->pass[k].id == r->pass_id) {
      b->npass--;
      memmove(b->pass + k, b->pass + k + 1, (b->npass - k) * sizeof(b->pass[0]));
      return;
    }
}

static void cancelled_ok(size_t ri) {
  req_t *r = &reqs[ri];
  FUZZ_CHECK(!r->done);     /* its callback had not run */
  FUZZ_CHECK(!r->cancelled);
  r->cancelled = 1;
  if (r->kind != REQ_WRITE)
    return;
  /* Its bytes never arrive; the ones around it do. */
  int i = r->slot;
  if (i >= 0 && slots[i].h == r->h && slots[i].tx_tracked &&
      slots[i].peer >= 0)
    add_hole(&slots[slots[i].peer], r->tx_start, r->tx_start + r->len);
  drop_pass(r);
}

static int cancel_held(int k) {
  size_t ri = held[k].r;
  req_t before = reqs[ri];
  int rc = (int)CALL(fuv_cancel(held[k].req));
  FUZZ_CHECK(fuv_req_type(held[k].req) == held[k].type);
  if (rc == 0) {
    cancelled_ok(ri);
    return rc;
  }
  FUZZ_CHECK(rc == FUV_EBUSY);
  /* A connect can be cancelled until its callback has run, even one that
   * finished inside the call (an AF_UNIX connect to a listening pipe). */
  FUZZ_CHECK(!(before.kind == REQ_CONNECT && before.has_cb &&
               !before.failed && !before.done && !before.cancelled &&
               before.slot >= 0 && slots[before.slot].h == before.h &&
               !slots[before.slot].closing));
  return rc;
}

static void op_req_use(void) {
  unsigned what = u8();
  if (nheld == 0 || (what & 7) == 7) {
    int rc = (int)CALL(fuv_cancel(NULL));
    FUZZ_CHECK(rc == FUV_EINVAL || rc == FUV_ENOSYS /* the stand-in */);
    FUZZ_CHECK(fuv_req_type(NULL) == FUV_UNKNOWN_REQ);
    FUZZ_CHECK(fuv_req_type_name((fuv_req_type_t)(int8_t)u8()) != NULL);
    CALL((fuv_req_release(NULL), 0));
    return;
  }
  int k = u8() % nheld;
  switch (what & 7) {
  case 0:
  case 1:
  case 2:
    cancel_held(k);
    break;
  case 3:
  case 4:
    FUZZ_CHECK(fuv_req_type(held[k].req) == held[k].type);
    FUZZ_CHECK(strcmp(fuv_req_type_name(fuv_req_type(held[k].req)),
                      held[k].type == FUV_WRITE ? "write"
                      : held[k].type == FUV_CONNECT ? "connect"
                                                    : "shutdown") == 0);
    break;
  default:
    release_held(k);
    break;
  }
}

/* Records a write of len pattern bytes on slot i, before the call. */
static size_t write_record(int i, int with_cb, size_t len) {
  size_t r = new_req(REQ_WRITE, i);
  if (i >= 0) {
    reqs[r].seq = ++slots[i].write_seq;
    reqs[r].tx_start = slots[i].tx;
  }
  reqs[r].len = len;
  reqs[r].has_cb = with_cb;
  return r;
}

/* Handles x over to whoever accepts it from the IPC stream in slot a: with
 * handover, x is closed and the accepted handle takes its place in x's
 * socketpair; otherwise nothing sent over x's socket is checked again. */
static void passed(int a, int x, int handover, size_t r) {
  int b = a >= 0 ? slots[a].peer : -1;
  if (b < 0 || !slots[b].ipc || slots[b].h == NULL || slots[b].closing ||
      !slots[a].tx_tracked || !reqs[r].has_cb) {
    pass_untracked = 1;
  } else if (slots[b].npass == MAX_PASS) {
    pass_untracked = 1;
  } else {
    struct pass_s *p = &slots[b].pass[slots[b].npass++];
    memset(p, 0, sizeof *p);
    p->id = ++watcher_seq;
    reqs[r].pass_to = b;
    reqs[r].pass_id = p->id;
    int y = x >= 0 ? slots[x].peer : -1;
    if (handover && y >= 0 && !slots[x].closing && slots[y].peer == x &&
        slots[x].nholes == 0 && x != a && x != b &&
        fuv_write_queue_size((fuv_stream_t *)slots[x].h) == 0) {
      p->valid = 1;
      p->y = y;
      p->yh = slots[y].h;
      p->x = x;
      p->xh = slots[x].h;
      p->tx = slots[x].tx;
      p->rx = slots[x].rx;
      p->tx_tracked = slots[x].tx_tracked;
      p->rx_check = slots[x].rx_check;
      /* The caller may close it at once: the socket is duplicated. */
      FUZZ_CHECK(close_slot(x, 0) == 0);
      return;
    }
  }
  if (x >= 0) {
    /* Both sockets of the pair may now be read and written by two
     * handles: nothing over them is checked again. */
    untrack_tx(x);
    if (slots[x].peer >= 0)
      untrack_tx(slots[x].peer);
  }
}

static void op_req_write(void) {
  int i;
  fuv_stream_t *s = pick_stream(&i);
  unsigned mode = u8();
  int with_cb = (mode & 12) != 0;
  int want_req = (mode & 16) == 0;
  fuv_req_t *req = (fuv_req_t *)&req; /* must be overwritten */
  fuv_req_t **out = want_req ? &req : NULL;
  int rc;
  fuv_req_type_t type = FUV_WRITE;
  size_t r;
  switch (mode & 3) {
  case 0: {
    size_t len = pick_size();
    r = write_record(i, with_cb, len);
    rc = want_req ? (int)CALL(fuv_write_req(s, pattern_at(i, 0), len,
                                            with_cb ? on_write : NULL,
                                            req_arg(r), out))
                  : (int)CALL(fuv_write(s, pattern_at(i, 0), len,
                                        with_cb ? on_write : NULL,
                                        req_arg(r)));
    if (rc == 0)
      wrote(i, len);
    break;
  }
  case 1: {
    const char *bufs[3];
    size_t lens[3], total = 0, nbufs = 1 + u8() % 3;
    for (size_t k = 0; k < nbufs; k++) {
      lens[k] = pick_size();
      bufs[k] = pattern_at(i, total);
      total += lens[k];
    }
    r = write_record(i, with_cb, total);
    rc = want_req ? (int)CALL(fuv_writev_req(s, bufs, lens, nbufs,
                                             with_cb ? on_write : NULL,
                                             req_arg(r), out))
                  : (int)CALL(fuv_writev(s, bufs, lens, nbufs,
                                         with_cb ? on_write : NULL,
                                         req_arg(r)));
    if (rc == 0)
      wrote(i, total);
    break;
  }
  case 2: {
    int x;
    fuv_stream_t *send = pick_stream(&x);
    size_t len = (u8() & 7) ? 1 + u8() % 64 : 0;
    if (len > write_budget)
      len = 0;
    write_budget -= len;
    r = write_record(i, with_cb, len);
    rc = want_req ? (int)CALL(fuv_write2_req(s, pattern_at(i, 0), len, send,
                                             with_cb ? on_write : NULL,
                                             req_arg(r), out))
                  : (int)CALL(fuv_write2(s, pattern_at(i, 0), len, send,
                                         with_cb ? on_write : NULL,
                                         req_arg(r)));
    if (len == 0 || send == NULL || (i >= 0 && !slots[i].ipc))
      FUZZ_CHECK(rc < 0);
    if (rc == 0) {
      wrote(i, len);
      passed(i, x, (mode & 32) != 0, r);
    }
    break;
  }
  default: {
    /* fuv_shutdown_req, and (for a TCP handle) fuv_tcp_connect_req. */
    if (mode & 32) {
      r = new_req(REQ_SHUTDOWN, i);
      reqs[r].has_cb = with_cb;
      type = FUV_SHUTDOWN;
      rc = want_req ? (int)CALL(fuv_shutdown_req(s, with_cb ? on_shutdown
                                                            : NULL,
                                                 req_arg(r), out))
                    : (int)CALL(fuv_shutdown(s, with_cb ? on_shutdown : NULL,
                                             req_arg(r)));
    } else {
      r = new_req(REQ_CONNECT, i);
      reqs[r].has_cb = with_cb;
      type = FUV_CONNECT;
      rc = (int)CALL(fuv_tcp_connect_req((fuv_tcp_t *)s,
                                         (u8() & 3) ? "127.0.0.1" : pick_ip(),
                                         pick_port(),
                                         with_cb ? on_connect : NULL,
                                         req_arg(r), out));
    }
    break;
  }
  }
  if (want_req) {
    FUZZ_CHECK((rc == 0) == (req != NULL));
    if (rc == 0) {
      hold(req, r, type);
      /* Cancelling right after starting: never inside the call. */
      if ((mode & 192) == 192)
        cancel_held(nheld - 1);
    }
  }
  if (rc != 0 || !with_cb)
    reqs[r].failed = 1;
}

/* ---- accepting ------------------------------------------------------------- */

/* A handle was accepted from slot i into the new slot j: match it with
 * the record of what was sent, for IPC pipes. */
static void accepted_passed(int i, int j) {
  slot_t *b = &slots[i];
  if (pass_untracked)
    return;
  FUZZ_CHECK(b->npass > 0); /* a handle that nobody sent */
  struct pass_s p = b->pass[0];
  b->npass--;
  memmove(b->pass, b->pass + 1, b->npass * sizeof(b->pass[0]));
  if (!p.valid || j < 0)
    return;
  slot_t *y = &slots[p.y];
  if (y->h != p.yh || y->closing)
    return;
  if (!(y->peer < 0 || (y->peer == p.x && slots[p.x].h == p.xh &&
                        slots[p.x].closing)))
    return;
  /* The accepted handle carries on where the passed one stopped. */
  slot_t *z = &slots[j];
  z->peer = p.y;
  y->peer = j;
  z->tx = p.tx;
  z->tx_tracked = p.tx_tracked;
  z->rx = p.rx;
  z->rx_check = p.rx_check && y->tx_tracked;
  if (!p.tx_tracked)
    y->rx_check = 0;
}

/* Puts an accepted handle in a slot (or closes it), returning the slot. */
static int take_client(fuv_handle_t *client) {
  int j = free_slot();
  if (j >= 0) {
    add_slot(j, client);
    return j;
  }
  untracked_closes++;
  FUZZ_CHECK(CALL(fuv_close(client, on_untracked_close, NULL)) == 0);
  return -1;
}

static void op_accept(void) {
  int i;
  fuv_stream_t *s = pick_stream(&i);
  fuv_handle_t *client = NULL;
  unsigned mode = u8() % 6;
  /* What an IPC pipe has waiting: accepting takes the first. */
  int ipc = i >= 0 && slots[i].ipc && !slots[i].closing;
  int count = ipc ? fuv_pipe_pending_count((fuv_pipe_t *)s) : 0;
  int type = ipc ? (int)fuv_pipe_pending_type((fuv_pipe_t *)s) : 0;
  int rc, into = -1;
  switch (mode) {
  case 0:
    rc = (int)CALL(fuv_accept(s, (u8() & 7) ? (fuv_tcp_t **)&client : NULL));
    /* TCP servers only, and an IPC pipe with a TCP handle waiting. */
    if (is_pipe(i) && !(ipc && count > 0 && type == FUV_TCP))
      FUZZ_CHECK(rc < 0);
    break;
  case 1:
    rc = (int)CALL(fuv_accept_sync(s, (fuv_tcp_t **)&client, 0));
    break;
  case 2:
    rc = (int)CALL(fuv_stream_accept(s, (u8() & 7) ? (fuv_stream_t **)&client
                                                    : NULL));
    break;
  case 3:
    rc = (int)CALL(fuv_stream_accept_sync(s, (fuv_stream_t **)&client, 0));
    break;
  case 4: {
    /* Into a new handle of a kind the input picks. */
    into = free_slot();
    if (into < 0)
      return;
    fuv_handle_t *h = NULL;
    unsigned kind = u8();
    int made = (kind & 1) ? (int)CALL(fuv_pipe_new((fuv_pipe_t **)&h, loop,
                                                   (kind >> 1) & 1))
                          : (int)CALL(fuv_tcp_new((fuv_tcp_t **)&h, loop));
    if (made != 0)
      return;
    add_slot(into, h);
    slots[into].ipc = (kind & 3) == 3;
    rc = (int)CALL(fuv_stream_accept_into(s, (fuv_stream_t *)h));
    break;
  }
  default: {
    fuv_stream_t *c = pick_stream(&into);
    rc = (int)CALL(fuv_stream_accept_into(s, c));
    if (into == i || c == NULL)
      FUZZ_CHECK(rc < 0);
    break;
  }
  }
  if (ipc && slots[i].h != NULL && !slots[i].closing) {
    /* An error leaves the handle waiting; a success takes one. */
    int after = fuv_pipe_pending_count((fuv_pipe_t *)s);
    FUZZ_CHECK(after == (rc == 0 && count > 0 ? count - 1 : count));
  }
  if (mode >= 4) {
    if (rc == 0) {
      if (count > 0)
        FUZZ_CHECK((int)fuv_handle_type(slots[into].h) == type);
      if (count > 0)
        accepted_passed(i, into);
    }
    return;
  }
  if (rc != 0) {
    FUZZ_CHECK(client == NULL);
    return;
  }
  FUZZ_CHECK(client != NULL);
  FUZZ_CHECK(fuv_handle_loop(client) == loop);
  if (count > 0)
    FUZZ_CHECK((int)fuv_handle_type(client) == type);
  int j = take_client(client);
  if (count > 0)
    accepted_passed(i, j);
}

/* ---- loop, time, metrics, printing ---------------------------------------- */

static int devnull_fd = -1;
static int print_pipe[2] = {-1, -1};
static uint64_t last_hrtime, last_idle_time;
static int idle_time_on;
static char print_buf[1 << 16];

/* Reads what was printed to the pipe; returns its length (-1 if it did not
 * all fit). */
static ssize_t drain_print_pipe(void) {
  size_t n = 0;
  for (;;) {
    ssize_t r = read(print_pipe[0], print_buf + n, sizeof print_buf - 1 - n);
    if (r <= 0)
      break;
    n += (size_t)r;
    if (n == sizeof print_buf - 1) {
      while (read(print_pipe[0], print_buf, sizeof print_buf) > 0) {
      }
      return -1;
    }
  }
  print_buf[n] = 0;
  return (ssize_t)n;
}

static const char *const type_names[] = {"async", "tcp", "timer", "pipe",
                                         "prepare", "check", "idle"};

/* Checks a print_*_handles output: "[RAI] kind address" lines, the kinds
 * known; returns the number of lines that are not internal handles. */
static int check_printed(const char *text, int active_only) {
  int lines = 0;
  const char *p = text;
  while (*p) {
    const char *end = strchr(p, '\n');
    FUZZ_CHECK(end != NULL); /* whole lines */
    FUZZ_CHECK(end - p > 6 && p[0] == '[' && p[4] == ']');
    FUZZ_CHECK(p[1] == 'R' || p[1] == '-');
    FUZZ_CHECK(p[2] == 'A' || p[2] == '-');
    FUZZ_CHECK(p[3] == 'I' || p[3] == '-');
    if (active_only)
      FUZZ_CHECK(p[2] == 'A');
    const char *k = p + 5;
    while (*k == ' ')
      k++;
    int known = 0;
    for (size_t t = 0; t < sizeof type_names / sizeof type_names[0]; t++) {
      size_t len = strlen(type_names[t]);
      if (strncmp(k, type_names[t], len) == 0 && k[len] == ' ')
        known = 1;
    }
    FUZZ_CHECK(known || p[3] == 'I');
    if (p[3] != 'I')
      lines++;
    p = end + 1;
  }
  return lines;
}

static void op_loop2(void) {
  switch (u8() % 8) {
  case 0: {
    static const int values[] = {SIGPROF, SIGUSR2, 0, -1, 65, 1 << 20};
    int option = (int)(u8() % 4) - 1; /* -1 and 2 are unknown */
    int value = values[u8() % 6];
    int rc = (int)CALL(fuv_loop_configure(loop, (fuv_loop_option_t)option,
                                          value));
    if (option < 0 || option > 1 || run_mode_now >= 0 ||
        (option == 0 && (value <= 0 || value >= 65)))
      FUZZ_CHECK(rc < 0);
    if (rc == 0 && option == FUV_METRICS_IDLE_TIME)
      idle_time_on = 1;
    FUZZ_CHECK(CALL(fuv_loop_configure(NULL, FUV_METRICS_IDLE_TIME, 0)) < 0);
    break;
  }
  case 1: {
    int mode = (int)CALL(fuv_loop_mode(loop));
    FUZZ_CHECK(mode == FUV_ENOSYS || mode == run_mode_now);
    FUZZ_CHECK(fuv_loop_mode(NULL) == -1 || fuv_loop_mode(NULL) == FUV_ENOSYS);
    break;
  }
  case 2: {
    uint64_t lc = 1, ev = 1, ew = 1;
    unsigned nulls = u8();
    int rc = (int)CALL(fuv_metrics_info(loop, (nulls & 1) ? NULL : &lc,
                                        (nulls & 2) ? NULL : &ev,
                                        (nulls & 4) ? NULL : &ew));
    if (rc == 0) {
      FUZZ_CHECK((nulls & 1) || lc == fuv_metrics_loop_count(loop));
      FUZZ_CHECK((nulls & 2) || ev == fuv_metrics_events(loop));
      FUZZ_CHECK((nulls & 4) || ew == fuv_metrics_events_waiting(loop));
    }
    FUZZ_CHECK(CALL(fuv_metrics_info(NULL, &lc, &ev, &ew)) < 0);
    FUZZ_CHECK(fuv_metrics_events_waiting(NULL) == 0);
    break;
  }
  case 3: {
    uint64_t t = fuv_metrics_idle_time(loop);
    FUZZ_CHECK(t >= last_idle_time);
    if (!idle_time_on)
      FUZZ_CHECK(t == 0);
    last_idle_time = t;
    FUZZ_CHECK(fuv_metrics_idle_time(NULL) == 0);
    break;
  }
  case 4: {
    uint64_t t = fuv_hrtime();
    FUZZ_CHECK(t >= last_hrtime);
    last_hrtime = t;
    /* Never a long sleep: 0 or 1 ms. */
    int rc = (int)CALL(fuv_sleep(u8() & 1));
    FUZZ_CHECK(rc == 0 || rc == FUV_ENOSYS);
    t = fuv_hrtime();
    FUZZ_CHECK(t >= last_hrtime);
    last_hrtime = t;
    break;
  }
  case 5: {
    /* Printing to a pipe: check what was printed. */
    int active = u8() & 1;
    drain_print_pipe();
    int rc = active ? (int)CALL(fuv_print_active_handles(loop, print_pipe[1]))
                    : (int)CALL(fuv_print_all_handles(loop, print_pipe[1]));
    ssize_t n = drain_print_pipe();
    if (rc != 0 || n < 0)
      break;
    int lines = check_printed(print_buf, active);
    int open_ = 0, all = 0, open_active = 0;
    for (int i = 0; i < MAX_SLOTS; i++) {
      if (slots[i].h == NULL)
        continue;
      all++;
      if (!slots[i].closing) {
        open_++;
        open_active += fuv_is_active(slots[i].h) == 1;
      }
    }
    int kick_active = fuv_is_active((fuv_handle_t *)kick) == 1;
    if (active) {
      FUZZ_CHECK(lines >= open_active + kick_active);
      FUZZ_CHECK(lines <= all + 1 + untracked_closes);
    } else {
      FUZZ_CHECK(lines >= open_ + 1);
      FUZZ_CHECK(lines <= all + 1 + untracked_closes);
    }
    break;
  }
  case 6: {
    static const int fds[] = {-1, INT_MIN, 1000000};
    int fd = (u8() & 3) ? devnull_fd : fds[u8() % 3];
    int rc = (u8() & 1) ? (int)CALL(fuv_print_all_handles(loop, fd))
                        : (int)CALL(fuv_print_active_handles(loop, fd));
    if (fd != devnull_fd)
      FUZZ_CHECK(rc < 0);
    FUZZ_CHECK(CALL(fuv_print_all_handles(NULL, devnull_fd)) < 0);
    break;
  }
  default: {
    int rc = (int)CALL(fuv_backend_timeout(loop));
    /* An active idle handle makes the wait not block. */
    if (idle_active())
      FUZZ_CHECK(rc == 0);
    break;
  }
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
    run_mode_now = FUV_RUN_NOWAIT;
    FUZZ_CHECK(run_ok(traced("fuv_run(NOWAIT)", fuv_run(loop, FUV_RUN_NOWAIT))));
    run_mode_now = -1;
    return;
  }
  /* The kick timer is due at once and stops the loop, so the iteration's
   * poll does not wait. */
  FUZZ_CHECK(fuv_timer_start(kick, on_kick, 0, 0, NULL) == 0);
  run_mode_now = how == 2 ? FUV_RUN_ONCE : FUV_RUN_DEFAULT;
  FUZZ_CHECK(run_ok(traced(how == 2 ? "fuv_run(ONCE)" : "fuv_run(DEFAULT)",
                           fuv_run(loop, how == 2 ? FUV_RUN_ONCE
                                                  : FUV_RUN_DEFAULT))));
  run_mode_now = -1;
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
  case 25: op_pipe_new(); break;
  case 26: op_pipe_pair(); break;
  case 27: op_pipe_bind(); break;
  case 28: op_pipe_connect(); break;
  case 29: op_pipe_misc(); break;
  case 30: op_watcher(); break;
  case 31: op_req_write(); break;
  case 32: op_req_write(); break;
  case 33: op_req_use(); break;
  case 34: op_loop2(); break;
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
  return p != NULL && rx_pos(s) < p->tx;
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
      FUZZ_CHECK(rx_pos(&slots[b]) == p->tx);
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
    make_names();
    tracing = getenv("FUZZ_API_TRACE") != NULL;
    devnull_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    FUZZ_CHECK(devnull_fd >= 0);
    FUZZ_CHECK(pipe(print_pipe) == 0);
    for (int k = 0; k < 2; k++)
      FUZZ_CHECK(fcntl(print_pipe[k], F_SETFL, O_NONBLOCK) == 0 &&
                 fcntl(print_pipe[k], F_SETFD, FD_CLOEXEC) == 0);
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
  nheld = 0;
  pass_untracked = 0;
  idle_time_on = 0;
  last_idle_time = 0;
  cur_watcher_kind = -1;
  run_mode_now = -1;
  for (int k = 0; k < 3; k++)
    last_valid[k] = 0;
  int fds_before = count_fds();

  FUZZ_CHECK(fuv_loop_new(&loop) == 0);
  FUZZ_CHECK(fuv_timer_new(&kick, loop) == 0);
  FUZZ_CHECK(fuv_unref((fuv_handle_t *)kick) == 0);

  while (input_left())
    run_op();

  run_mode_now = FUV_RUN_NOWAIT;
  deliver_everything();
  close_everything();
  int iterations = 0;
  while (!all_freed() || fuv_loop_alive(loop)) {
    FUZZ_CHECK(run_ok(fuv_run(loop, FUV_RUN_NOWAIT)));
    /* Closing completes within a few iterations; more means it hangs. */
    if (++iterations == DRAIN_ITERATIONS && tracing) {
      fprintf(stderr, "not freed: loop_alive %d, untracked %d\n",
              fuv_loop_alive(loop), untracked_closes);
      for (int i = 0; i < MAX_SLOTS; i++)
        if (slots[i].h != NULL)
          fprintf(stderr, "  slot %d: %s, closing %d, active %d\n", i,
                  fuv_handle_type_name(fuv_handle_type(slots[i].h)),
                  fuv_is_closing(slots[i].h), fuv_is_active(slots[i].h));
      for (size_t r = 0; r < nreqs; r++)
        if (!reqs[r].failed && !reqs[r].done)
          fprintf(stderr, "  request %zu (kind %d, slot %d, cancelled %d) "
                  "not called back\n", r, reqs[r].kind, reqs[r].slot,
                  reqs[r].cancelled);
    }
    FUZZ_CHECK(iterations < DRAIN_ITERATIONS);
  }
  run_mode_now = -1;
  for (size_t r = 0; r < nreqs; r++)
    FUZZ_CHECK(reqs[r].failed || reqs[r].done);
  /* Every request has finished: none can be cancelled any more, and each
   * still says what it is, after its handle was freed and after the loop
   * was (half of them are released before fuv_loop_free, half after). */
  for (int k = nheld - 1; k >= 0; k--) {
    FUZZ_CHECK(CALL(fuv_cancel(held[k].req)) == FUV_EBUSY);
    FUZZ_CHECK(fuv_req_type(held[k].req) == held[k].type);
    if (k & 1)
      release_held(k);
  }
  FUZZ_CHECK(fuv_loop_free(loop) == 0);
  loop = NULL;
  while (nheld > 0) {
    FUZZ_CHECK(fuv_req_type(held[nheld - 1].req) == held[nheld - 1].type);
    FUZZ_CHECK(CALL(fuv_cancel(held[nheld - 1].req)) == FUV_EBUSY);
    release_held(nheld - 1);
  }
  /* Names bound in the filesystem stay until unlinked (as in libuv). */
  for (int k = 0; k < NUM_NAMES; k++)
    if (name_is_path[k])
      unlink(names[k]);
  for (int k = 0; k < MAX_FDS; k++)
    if (owned_fds[k] >= 0)
      close(owned_fds[k]);
  FUZZ_CHECK(count_fds() == fds_before);
  return 0;
}
