/*
 * Starvation (issue 17, part 3): every callback that re-arms itself must
 * leave the rest of the loop its turn. Each test keeps one handle re-arming
 * from its own callback and checks that meanwhile a 0 ms timer and a 50 ms
 * timer fire, and that another handle's I/O (an echo over a socket pair)
 * makes progress, within a bounded number of loop iterations; and that the
 * re-arming callback ran at most a bounded number of times per iteration,
 * as in libuv. Every bound counts loop iterations (fuv_metrics_loop_count),
 * never time: timing goals live in benchmarks, not in timed tests.
 *
 * A starved loop never runs a timer, so the timer that fuv_test_run() uses
 * as its watchdog cannot end a starved test: each test arms alarm() as
 * well, so that a regression dies of SIGALRM (a failure, in Check's forked
 * mode and without it) instead of hanging.
 */
#include "fuv_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* Generous: valgrind runs these programs some fifty times slower. */
#define ALARM_SECONDS 60
#define RUN_TIMEOUT_MS 30000

/* The echo must complete this many round trips... */
#define ECHO_ROUND_TRIPS 50
/* ...in at most this many iterations each (one takes two: the ping's
 * byte is read in one poll, the pong's reply in the next), plus slack for
 * the first iterations. */
#define ITERATIONS_PER_ROUND_TRIP 4
#define ITERATION_SLACK 10
/* The 0 ms timer started when the re-arming begins runs in the first
 * iteration; one more is allowed. */
#define ZERO_TIMER_ITERATIONS 2
/* libuv reads at most 32 times per readiness event, and so does flatuv. */
#define READS_PER_EVENT 32

/* With the default action, so that Check names SIGALRM as the cause (a
 * forked test inherits Check's own handler, which kills it with SIGKILL). */
static void arm_watchdog(void) {
  signal(SIGALRM, SIG_DFL);
  alarm(ALARM_SECONDS);
}

/* The test's last line: the process-wide alarm of fuv_test_main() is
 * replaced by each test's own, so none is left to fire after the test. */
static void disarm_watchdog(void) { alarm(0); }

/* ---- the rest of the loop, which must keep getting its turn ---------------- */

struct starve {
  fuv_loop_t *loop;
  /* Set when the test ends: the re-arming stops. Atomic, because the
   * flooding peer's thread reads it too. */
  int stopping;

  /* The re-arming callback: how often it ran, and the most in one loop
   * iteration. */
  uint64_t calls;
  uint64_t call_iteration;
  unsigned calls_this_iteration;
  unsigned most_calls_per_iteration;

  /* The rivals: a 0 ms timer, a repeating 50 ms timer that stops the run
   * once the echo has done its round trips, and the echo. */
  uint64_t start;
  fuv_timer_t *zero_timer;
  int zero_fired;
  uint64_t zero_fired_at;
  fuv_timer_t *stop_timer;
  int stop_fired;
  fuv_tcp_t *ping;
  fuv_tcp_t *pong;
  int round_trips;
  int echo_done;
  uint64_t echo_done_at;
};

/* Counts one run of the re-arming callback. Returns whether it should
 * re-arm again. */
static int count_call(struct starve *s) {
  uint64_t now = fuv_metrics_loop_count(s->loop);
  if (s->calls == 0 || now != s->call_iteration) {
    s->call_iteration = now;
    s->calls_this_iteration = 0;
  }
  s->calls++;
  if (++s->calls_this_iteration > s->most_calls_per_iteration)
    s->most_calls_per_iteration = s->calls_this_iteration;
  return !__atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE);
}

static fuv_loop_t *new_loop(void) {
  fuv_loop_t *loop = NULL;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  return loop;
}

/* Both ends of an AF_UNIX stream pair, opened as TCP handles (the stream
 * calls work on any connected stream socket). */
static void open_pair(fuv_loop_t *loop, fuv_tcp_t **a, fuv_tcp_t **b) {
  int fd0, fd1;
  FUV_ASSERT_OK(fuv_socketpair(FUV_SOCK_STREAM, 0, &fd0, &fd1,
                               FUV_NONBLOCK_PIPE, FUV_NONBLOCK_PIPE));
  FUV_ASSERT_OK(fuv_tcp_new(a, loop));
  FUV_ASSERT_OK(fuv_tcp_open(*a, fd0));
  FUV_ASSERT_OK(fuv_tcp_new(b, loop));
  FUV_ASSERT_OK(fuv_tcp_open(*b, fd1));
}

static void on_zero_timer(fuv_timer_t *timer, void *arg) {
  struct starve *s = arg;
  (void)timer;
  s->zero_fired = 1;
  s->zero_fired_at = fuv_metrics_loop_count(s->loop);
}

static void on_stop_timer(fuv_timer_t *timer, void *arg) {
  struct starve *s = arg;
  (void)timer;
  s->stop_fired++;
  if (s->echo_done && s->zero_fired) {
    __atomic_store_n(&s->stopping, 1, __ATOMIC_RELEASE);
    FUV_ASSERT_OK(fuv_stop(s->loop));
  }
}

static void on_pong_read(fuv_stream_t *stream, ssize_t nread, const char *buf,
                         void *arg) {
  (void)arg;
  if (nread > 0)
    FUV_ASSERT_OK(fuv_write(stream, buf, (size_t)nread, NULL, NULL));
}

static void on_ping_read(fuv_stream_t *stream, ssize_t nread, const char *buf,
                         void *arg) {
  struct starve *s = arg;
  (void)buf;
  if (nread <= 0)
    return;
  s->round_trips += (int)nread;
  if (!s->echo_done && s->round_trips >= ECHO_ROUND_TRIPS) {
    s->echo_done = 1;
    s->echo_done_at = fuv_metrics_loop_count(s->loop);
  }
  FUV_ASSERT_OK(fuv_write(stream, "p", 1, NULL, NULL));
}

/* Starts the rivals; the test starts its re-arming handle right after. */
static void rivals_start(struct starve *s, fuv_loop_t *loop) {
  memset(s, 0, sizeof *s);
  s->loop = loop;
  open_pair(loop, &s->ping, &s->pong);
  FUV_ASSERT_OK(fuv_read_start((fuv_stream_t *)s->pong, on_pong_read, s));
  FUV_ASSERT_OK(fuv_read_start((fuv_stream_t *)s->ping, on_ping_read, s));
  FUV_ASSERT_OK(fuv_write((fuv_stream_t *)s->ping, "p", 1, NULL, NULL));
  FUV_ASSERT_OK(fuv_timer_new(&s->zero_timer, loop));
  FUV_ASSERT_OK(fuv_timer_start(s->zero_timer, on_zero_timer, 0, 0, s));
  FUV_ASSERT_OK(fuv_timer_new(&s->stop_timer, loop));
  FUV_ASSERT_OK(fuv_timer_start(s->stop_timer, on_stop_timer, 50, 50, s));
  s->start = fuv_metrics_loop_count(loop);
}

/* Runs the loop until the stop timer ends it, then checks that everything
 * had its turn while the callback kept re-arming, at most max_per_iteration
 * times in one iteration. */
static void run_and_check(struct starve *s, unsigned max_per_iteration) {
  uint64_t echo_bound =
      ECHO_ROUND_TRIPS * ITERATIONS_PER_ROUND_TRIP + ITERATION_SLACK;

  fuv_test_run(s->loop, RUN_TIMEOUT_MS);
  __atomic_store_n(&s->stopping, 1, __ATOMIC_RELEASE);

  ck_assert_int_ge(s->stop_fired, 1);
  ck_assert_msg(s->calls > 1, "the callback ran %llu times: it never re-armed",
                (unsigned long long)s->calls);
  ck_assert_msg(s->most_calls_per_iteration <= max_per_iteration,
                "the re-arming callback ran %u times in one iteration "
                "(at most %u allowed)",
                s->most_calls_per_iteration, max_per_iteration);
  ck_assert(s->zero_fired);
  ck_assert_msg(s->zero_fired_at - s->start <= ZERO_TIMER_ITERATIONS,
                "the 0 ms timer waited %llu iterations",
                (unsigned long long)(s->zero_fired_at - s->start));
  ck_assert(s->echo_done);
  ck_assert_msg(s->echo_done_at - s->start <= echo_bound,
                "%d echo round trips took %llu iterations (at most %llu)",
                ECHO_ROUND_TRIPS,
                (unsigned long long)(s->echo_done_at - s->start),
                (unsigned long long)echo_bound);
}

/* ---- the issue's program, verbatim ------------------------------------------ */

static fuv_loop_t *loop;
static int n, fired;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
static void acb(fuv_async_t *a, void *arg) { n++; fuv_async_send(a); }
static void tcb(fuv_timer_t *t, void *arg) { fired = 1; fuv_stop(loop); }
#pragma GCC diagnostic pop

START_TEST(issue_17_async_sending_to_itself_lets_a_timer_stop_the_run) {
  fuv_async_t *async;
  fuv_timer_t *timer;
  uint64_t before;

  arm_watchdog();
  n = 0;
  fired = 0;
  loop = new_loop();
  /* main: async started and sent once; a 50 ms timer;
   * fuv_run(loop, DEFAULT) */
  FUV_ASSERT_OK(fuv_async_new(&async, loop, acb, NULL));
  FUV_ASSERT_OK(fuv_async_send(async));
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_timer_start(timer, tcb, 50, 0, NULL));
  before = fuv_metrics_loop_count(loop);
  ck_assert_int_ge(fuv_run(loop, FUV_RUN_DEFAULT), 0);

  ck_assert(fired);
  ck_assert_int_gt(n, 1);
  /* Each pass over the async handles runs each callback once at most. */
  ck_assert_uint_le((uint64_t)n, fuv_metrics_loop_count(loop) - before);
  fuv_test_free_loop(loop);
  disarm_watchdog();
}
END_TEST

/* ---- an async handle re-sending itself ---------------------------------------- */

static void resend(fuv_async_t *async, void *arg) {
  if (count_call(arg))
    FUV_ASSERT_OK(fuv_async_send(async));
}

START_TEST(async_resending_itself_leaves_timers_and_io_their_turn) {
  struct starve s;
  fuv_async_t *async;

  arm_watchdog();
  rivals_start(&s, new_loop());
  FUV_ASSERT_OK(fuv_async_new(&async, s.loop, resend, &s));
  FUV_ASSERT_OK(fuv_async_send(async));
  run_and_check(&s, 1);
  fuv_test_free_loop(s.loop);
  disarm_watchdog();
}
END_TEST

/* Two handles each re-sending themselves and the other; one of them closes
 * the other, and a new one is created, mid-pass: each still runs at most
 * once per pass, and nothing is called after its close. */
struct pair_of_asyncs {
  struct starve *s;
  fuv_async_t *a;
  fuv_async_t *b;
  int b_calls_after_close;
  int b_closed;
  fuv_async_t *born;
  int born_calls;
};

static void pair_b(fuv_async_t *async, void *arg) {
  struct pair_of_asyncs *p = arg;
  if (p->b_closed)
    p->b_calls_after_close++;
  if (!p->s->stopping) {
    FUV_ASSERT_OK(fuv_async_send(async));
    FUV_ASSERT_OK(fuv_async_send(p->a));
  }
}

static void pair_born(fuv_async_t *async, void *arg) {
  struct pair_of_asyncs *p = arg;
  p->born_calls++;
  if (!p->s->stopping)
    FUV_ASSERT_OK(fuv_async_send(async));
}

static void pair_a(fuv_async_t *async, void *arg) {
  struct pair_of_asyncs *p = arg;
  if (!count_call(p->s))
    return;
  FUV_ASSERT_OK(fuv_async_send(async));
  if (p->s->calls == 10) {
    /* b comes after a in the pass and is already sent to: closing it
     * must keep its callback from running. */
    FUV_ASSERT_OK(fuv_close((fuv_handle_t *)p->b, NULL, NULL));
    p->b_closed = 1;
    FUV_ASSERT_OK(fuv_async_new(&p->born, p->s->loop, pair_born, p));
    FUV_ASSERT_OK(fuv_async_send(p->born));
  } else if (!p->b_closed) {
    FUV_ASSERT_OK(fuv_async_send(p->b));
  }
}

START_TEST(asyncs_closed_and_created_by_a_callback_mid_pass_run_at_most_once) {
  struct starve s;
  struct pair_of_asyncs p;

  arm_watchdog();
  rivals_start(&s, new_loop());
  memset(&p, 0, sizeof p);
  p.s = &s;
  FUV_ASSERT_OK(fuv_async_new(&p.a, s.loop, pair_a, &p));
  FUV_ASSERT_OK(fuv_async_new(&p.b, s.loop, pair_b, &p));
  FUV_ASSERT_OK(fuv_async_send(p.a));
  FUV_ASSERT_OK(fuv_async_send(p.b));
  run_and_check(&s, 1);
  ck_assert_int_eq(p.b_calls_after_close, 0);
  ck_assert_int_gt(p.born_calls, 1);
  fuv_test_free_loop(s.loop);
  disarm_watchdog();
}
END_TEST

/* ---- a zero-timeout timer restarted in its own callback ------------------------ */

static void restart_now(fuv_timer_t *timer, void *arg) {
  if (count_call(arg))
    FUV_ASSERT_OK(fuv_timer_start(timer, restart_now, 0, 0, arg));
}

START_TEST(zero_timeout_timer_restarted_in_its_callback_leaves_the_rest_its_turn) {
  struct starve s;
  fuv_timer_t *timer;

  arm_watchdog();
  rivals_start(&s, new_loop());
  FUV_ASSERT_OK(fuv_timer_new(&timer, s.loop));
  FUV_ASSERT_OK(fuv_timer_start(timer, restart_now, 0, 0, &s));
  run_and_check(&s, 1);
  fuv_test_free_loop(s.loop);
  disarm_watchdog();
}
END_TEST

/* ---- a write issued from the write callback ------------------------------------ */

struct writer {
  struct starve *s;
  size_t len; /* of each write: 1, or 0 for writes that complete at once */
};

static void write_again(fuv_stream_t *stream, int status, void *arg) {
  struct writer *w = arg;
  if (status != 0 || !count_call(w->s))
    return; /* FUV_ECANCELED when the test closes the stream */
  FUV_ASSERT_OK(fuv_write(stream, "w", w->len, write_again, w));
}

static void discard_read(fuv_stream_t *stream, ssize_t nread, const char *buf,
                         void *arg) {
  (void)stream;
  (void)nread;
  (void)buf;
  (void)arg;
}

static void write_from_write_callback(size_t len) {
  struct starve s;
  struct writer w;
  fuv_tcp_t *out, *in;

  arm_watchdog();
  rivals_start(&s, new_loop());
  w.s = &s;
  w.len = len;
  open_pair(s.loop, &out, &in);
  FUV_ASSERT_OK(fuv_read_start((fuv_stream_t *)in, discard_read, NULL));
  FUV_ASSERT_OK(fuv_write((fuv_stream_t *)out, "w", len, write_again, &w));
  run_and_check(&s, 1);
  fuv_test_free_loop(s.loop);
  disarm_watchdog();
}

START_TEST(write_issued_from_the_write_callback_leaves_the_rest_its_turn) {
  write_from_write_callback(1);
}
END_TEST

/* A zero-length write completes without any I/O, from the pending phase:
 * the shape of every deferred callback that re-arms itself. */
START_TEST(empty_write_issued_from_the_write_callback_leaves_the_rest_its_turn) {
  write_from_write_callback(0);
}
END_TEST

/* Bounding the pass must not reorder callbacks: a write done at once from
 * a write callback, and a shutdown asked for after it, report in request
 * order, across the two passes. */
struct order {
  int seen[3];
  int n;
};

static void record_shutdown(fuv_stream_t *stream, int status, void *arg) {
  struct order *o = arg;
  (void)stream;
  FUV_ASSERT_OK(status);
  o->seen[o->n++] = 3;
}

static void record_second_write(fuv_stream_t *stream, int status, void *arg) {
  struct order *o = arg;
  (void)stream;
  FUV_ASSERT_OK(status);
  o->seen[o->n++] = 2;
}

static void write_then_shut_down(fuv_stream_t *stream, int status,
                                 void *arg) {
  struct order *o = arg;
  FUV_ASSERT_OK(status);
  o->seen[o->n++] = 1;
  FUV_ASSERT_OK(fuv_write(stream, "", 0, record_second_write, o));
  FUV_ASSERT_OK(fuv_shutdown(stream, record_shutdown, o));
}

START_TEST(a_write_from_the_write_callback_reports_before_a_later_shutdown) {
  fuv_loop_t *l;
  fuv_tcp_t *out, *in;
  struct order o;

  arm_watchdog();
  l = new_loop();
  memset(&o, 0, sizeof o);
  open_pair(l, &out, &in);
  FUV_ASSERT_OK(fuv_write((fuv_stream_t *)out, "w", 1, write_then_shut_down,
                          &o));
  fuv_test_run_until(l, &o.n, 3, RUN_TIMEOUT_MS);
  ck_assert_int_eq(o.seen[0], 1);
  ck_assert_int_eq(o.seen[1], 2);
  ck_assert_int_eq(o.seen[2], 3);
  fuv_test_free_loop(l);
  disarm_watchdog();
}
END_TEST

/* ---- a connect retried from its failure callback --------------------------------- */

struct retry {
  struct starve *s;
  int port;
};

static void connect_again(fuv_tcp_t *tcp, int status, void *arg) {
  struct retry *r = arg;
  if (status == FUV_ECANCELED || !count_call(r->s))
    return;
  ck_assert_int_lt(status, 0);
  FUV_ASSERT_OK(fuv_tcp_connect(tcp, "127.0.0.1", r->port, connect_again, r));
}

/* A bound socket that does not listen: connecting to its port is refused,
 * and nobody else can take the port while it stays open. */
static int refusing_port(int *fd) {
  struct sockaddr_in sin;
  socklen_t len = sizeof sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  *fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(*fd, 0);
  ck_assert_int_eq(bind(*fd, (struct sockaddr *)&sin, sizeof sin), 0);
  ck_assert_int_eq(getsockname(*fd, (struct sockaddr *)&sin, &len), 0);
  return ntohs(sin.sin_port);
}

START_TEST(connect_retried_from_its_failure_callback_leaves_the_rest_its_turn) {
  struct starve s;
  struct retry r;
  fuv_tcp_t *tcp;
  int fd;

  arm_watchdog();
  rivals_start(&s, new_loop());
  r.s = &s;
  r.port = refusing_port(&fd);
  FUV_ASSERT_OK(fuv_tcp_new(&tcp, s.loop));
  FUV_ASSERT_OK(fuv_tcp_connect(tcp, "127.0.0.1", r.port, connect_again, &r));
  run_and_check(&s, 1);
  fuv_test_free_loop(s.loop);
  close(fd);
  disarm_watchdog();
}
END_TEST

/* ---- a close callback that closes a new handle ----------------------------------- */

static void close_another(fuv_handle_t *handle, void *arg) {
  fuv_timer_t *timer;
  (void)handle;
  if (!count_call(arg))
    return;
  FUV_ASSERT_OK(fuv_timer_new(&timer, ((struct starve *)arg)->loop));
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)timer, close_another, arg));
}

START_TEST(close_callback_closing_a_new_handle_leaves_the_rest_its_turn) {
  struct starve s;
  fuv_timer_t *timer;

  arm_watchdog();
  rivals_start(&s, new_loop());
  FUV_ASSERT_OK(fuv_timer_new(&timer, s.loop));
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)timer, close_another, &s));
  run_and_check(&s, 1);
  fuv_test_free_loop(s.loop);
  disarm_watchdog();
}
END_TEST

/* ---- a connection callback that makes the next connection ------------------------ */

struct acceptor {
  struct starve *s;
  int port;
  int connector; /* the raw client socket of the latest connection */
};

/* Starts a non-blocking connect: on loopback the handshake completes in
 * the kernel at once, so the connection is waiting before the server's
 * next accept. */
static int connect_raw(int port) {
  struct sockaddr_in sin;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(fd, 0);
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin.sin_port = htons((uint16_t)port);
  ck_assert(connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0 ||
            errno == EINPROGRESS);
  return fd;
}

static void accept_and_connect_again(fuv_stream_t *server, int status,
                                     void *arg) {
  struct acceptor *a = arg;
  fuv_tcp_t *client;
  FUV_ASSERT_OK(status);
  FUV_ASSERT_OK(fuv_accept(server, &client));
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)client, NULL, NULL));
  close(a->connector);
  a->connector = -1;
  if (count_call(a->s))
    a->connector = connect_raw(a->port);
}

START_TEST(connection_callback_making_the_next_connection_leaves_the_rest_its_turn) {
  struct starve s;
  struct acceptor a;

  arm_watchdog();
  rivals_start(&s, new_loop());
  a.s = &s;
  fuv_test_listener(s.loop, "127.0.0.1", &a.port, accept_and_connect_again, &a);
  a.connector = connect_raw(a.port);
  run_and_check(&s, READS_PER_EVENT);
  fuv_test_free_loop(s.loop);
  if (a.connector >= 0)
    close(a.connector);
  disarm_watchdog();
}
END_TEST

/* ---- reading from a peer that never stops sending --------------------------------- */

struct flood {
  struct starve *s;
  int fd; /* the peer's blocking socket, written by the thread */
};

/* Sends until the test stops, or until the reader's close resets the
 * connection under a blocked send. */
static void *flood_main(void *arg) {
  struct flood *f = arg;
  static char chunk[64 * 1024];
  while (!__atomic_load_n(&f->s->stopping, __ATOMIC_ACQUIRE))
    if (send(f->fd, chunk, sizeof chunk, MSG_NOSIGNAL) < 0)
      break;
  close(f->fd);
  return NULL;
}

static void flood_read(fuv_stream_t *stream, ssize_t nread, const char *buf,
                       void *arg) {
  struct flood *f = arg;
  (void)stream;
  (void)buf;
  if (nread > 0)
    count_call(f->s);
}

/* A loopback TCP connection: the peer's end is a blocking fd for the
 * thread, the other is opened as a handle. TCP rather than a socket pair,
 * because its receive buffer grows larger than one read takes, so that
 * every read can be a full one. */
static fuv_tcp_t *flood_connection(fuv_loop_t *loop, int *peer_fd) {
  struct sockaddr_in sin;
  socklen_t len = sizeof sin;
  fuv_tcp_t *tcp;
  int lfd, fd;

  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(lfd, 0);
  ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof sin), 0);
  ck_assert_int_eq(listen(lfd, 1), 0);
  ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
  *peer_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(*peer_fd, 0);
  ck_assert_int_eq(connect(*peer_fd, (struct sockaddr *)&sin, sizeof sin), 0);
  fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  close(lfd);
  FUV_ASSERT_OK(fuv_tcp_new(&tcp, loop));
  FUV_ASSERT_OK(fuv_tcp_open(tcp, fd));
  return tcp;
}

START_TEST(reading_from_a_peer_that_never_stops_sending_leaves_the_rest_its_turn) {
  struct starve s;
  struct flood f;
  pthread_t thread;
  fuv_tcp_t *reader;

  arm_watchdog();
  rivals_start(&s, new_loop());
  f.s = &s;
  reader = flood_connection(s.loop, &f.fd);
  FUV_ASSERT_OK(fuv_read_start((fuv_stream_t *)reader, flood_read, &f));
  ck_assert_int_eq(pthread_create(&thread, NULL, flood_main, &f), 0);
  run_and_check(&s, READS_PER_EVENT);
  /* Closing the reader resets the connection, which ends a blocked send. */
  fuv_test_free_loop(s.loop);
  ck_assert_int_eq(pthread_join(thread, NULL), 0);
  disarm_watchdog();
}
END_TEST

static Suite *starvation_suite(void) {
  Suite *suite = suite_create("starvation (" FUV_TEST_BACKEND ")");
  TCase *tc = tcase_create("re-arming callbacks");
  /* Above the alarm, so a starved test dies of the alarm, which names the
   * signal, rather than of Check's timeout. */
  tcase_set_timeout(tc, 2 * ALARM_SECONDS);
  tcase_add_test(tc, issue_17_async_sending_to_itself_lets_a_timer_stop_the_run);
  tcase_add_test(tc, async_resending_itself_leaves_timers_and_io_their_turn);
  tcase_add_test(tc, asyncs_closed_and_created_by_a_callback_mid_pass_run_at_most_once);
  tcase_add_test(tc, zero_timeout_timer_restarted_in_its_callback_leaves_the_rest_its_turn);
  tcase_add_test(tc, write_issued_from_the_write_callback_leaves_the_rest_its_turn);
  tcase_add_test(tc, empty_write_issued_from_the_write_callback_leaves_the_rest_its_turn);
  tcase_add_test(tc, a_write_from_the_write_callback_reports_before_a_later_shutdown);
  tcase_add_test(tc, connect_retried_from_its_failure_callback_leaves_the_rest_its_turn);
  tcase_add_test(tc, close_callback_closing_a_new_handle_leaves_the_rest_its_turn);
  tcase_add_test(tc, connection_callback_making_the_next_connection_leaves_the_rest_its_turn);
  tcase_add_test(tc, reading_from_a_peer_that_never_stops_sending_leaves_the_rest_its_turn);
  suite_add_tcase(suite, tc);
  return suite;
}

FUV_TEST_MAIN(starvation_suite)
