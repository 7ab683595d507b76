/*
 * cycles_100k: 100,000 connect / write / echo / close cycles against an echo
 * server on the same loop, 50 in flight at a time. File descriptors
 * (/proc/self/fd) and RSS (/proc/self/statm) are measured after a warm-up
 * and at the end: a leaked handle, fd or write buffer shows up as growth.
 *
 * TIME_WAIT: the client closes every connection with fuv_tcp_close_reset()
 * (SO_LINGER 0, so a RST and no TIME_WAIT on either side) once its echo is
 * verified; the server side reads ECONNRESET and closes. 100,000 graceful
 * closes would leave more TIME_WAIT sockets than loopback has ports.
 */
#include "stress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCYCLES 100000
#define WARMUP 5000
#define IN_FLIGHT 50
#define MAX_MSG 2048
#define RSS_BOUND_KIB 2048

typedef struct {
  int cycle;
  size_t len, got;
} client_t;

static fuv_loop_t *loop;
static int port;
static int started, verified, client_closed, failures;
static int server_open, server_accepted, server_closed, server_odd_end;
static int phase_end; /* cycles of the current phase: WARMUP, then NCYCLES */
static client_t slots[IN_FLIGHT];

/* A phase ends at a quiet point: all its cycles done, every handle closed. */
static void stop_when_quiet(void) {
  if (client_closed == phase_end && server_closed == server_accepted)
    fuv_stop(loop);
}

static size_t msg_len(int cycle) {
  return 1 + (size_t)cycle * 7919 % MAX_MSG;
}

static void fail(const char *what, int cycle, int err) {
  if (failures++ < 5)
    printf("cycle %d: %s: %s\n", cycle, what, fuv_err_name(err));
}

static void start_cycle(client_t *c);

static void on_client_closed(fuv_handle_t *h, void *arg) {
  client_t *c = arg;
  (void)h;
  client_closed++;
  if (started < phase_end)
    start_cycle(c);
  else
    stop_when_quiet();
}

static void end_cycle(fuv_stream_t *s) {
  client_t *c = fuv_handle_get_data((fuv_handle_t *)s);
  int r = fuv_tcp_close_reset((fuv_tcp_t *)s, on_client_closed, c);
  if (r != 0) {
    fail("close_reset", c->cycle, r);
    fuv_close((fuv_handle_t *)s, on_client_closed, c);
  }
}

static void on_client_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                           void *arg) {
  client_t *c = arg;
  if (nread < 0) {
    fail("client read", c->cycle, (int)nread);
    end_cycle(s);
    return;
  }
  if (c->got + (size_t)nread > c->len ||
      stress_match_pattern((uint64_t)c->cycle, c->got, buf, (size_t)nread) !=
          (size_t)nread) {
    fail("echo mismatch", c->cycle, 0);
    end_cycle(s);
    return;
  }
  c->got += (size_t)nread;
  if (c->got == c->len) {
    verified++;
    end_cycle(s);
  }
}

static void on_connect(fuv_tcp_t *tcp, int status, void *arg) {
  client_t *c = arg;
  char msg[MAX_MSG];
  int r = status;
  if (r == 0)
    r = fuv_read_start((fuv_stream_t *)tcp, on_client_read, c);
  if (r == 0) {
    stress_fill_pattern((uint64_t)c->cycle, 0, msg, c->len);
    r = fuv_write((fuv_stream_t *)tcp, msg, c->len, NULL, NULL);
  }
  if (r != 0) {
    fail("connect/write", c->cycle, r);
    fuv_close((fuv_handle_t *)tcp, on_client_closed, c);
  }
}

static void start_cycle(client_t *c) {
  fuv_tcp_t *tcp;
  int r;
  c->cycle = started++;
  c->len = msg_len(c->cycle);
  c->got = 0;
  r = fuv_tcp_new(&tcp, loop);
  if (r != 0) {
    fail("tcp_new", c->cycle, r);
    client_closed++;
    return;
  }
  fuv_handle_set_data((fuv_handle_t *)tcp, c);
  r = fuv_tcp_connect(tcp, "127.0.0.1", port, on_connect, c);
  if (r != 0) {
    fail("connect", c->cycle, r);
    fuv_close((fuv_handle_t *)tcp, on_client_closed, c);
  }
}

static void on_server_closed(fuv_handle_t *h, void *arg) {
  (void)h;
  (void)arg;
  server_closed++;
  stop_when_quiet();
}

static void on_server_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                           void *arg) {
  (void)arg;
  if (nread < 0) {
    /* The client resets after its echo; EOF would mean a lost RST. */
    if (nread != FUV_ECONNRESET)
      server_odd_end++;
    server_open--;
    fuv_close((fuv_handle_t *)s, on_server_closed, NULL);
    return;
  }
  fuv_write(s, buf, (size_t)nread, NULL, NULL);
}

static void on_connection(fuv_stream_t *server, int status, void *arg) {
  fuv_tcp_t *conn;
  (void)arg;
  if (status != 0 || fuv_accept(server, &conn) != 0) {
    fail("accept", -1, status);
    return;
  }
  server_accepted++;
  server_open++;
  fuv_read_start((fuv_stream_t *)conn, on_server_read, NULL);
}

/* Runs cycles, IN_FLIGHT at a time, until `target` have finished in all
 * and every handle but the listener is closed. */
static int run_cycles(int target, uint64_t timeout_ms) {
  phase_end = target;
  for (int i = 0; i < IN_FLIGHT && started < phase_end; i++)
    start_cycle(&slots[i]);
  return stress_run(loop, timeout_ms);
}

int main(void) {
  fuv_tcp_t *server;
  long fd_warm, fd_end, rss_warm, rss_end;
  double t0, t_warm, t_end;
  int r, timed_out, handles_end;

  fuv_loop_new(&loop);
  fuv_tcp_new(&server, loop);
  r = fuv_tcp_bind(server, "127.0.0.1", 0, 0);
  if (r == 0)
    r = fuv_listen((fuv_stream_t *)server, 1024, on_connection, NULL);
  if (r == 0)
    r = fuv_tcp_getsockname(server, (char[FUV_IP_NAME_MAX]){0},
                            FUV_IP_NAME_MAX, &port);
  STRESS_CHECK(r == 0, "listener: %s", fuv_err_name(r));
  if (r != 0)
    return stress_summary("cycles_100k");
  printf("TIME_WAIT avoided by: client closes with fuv_tcp_close_reset "
         "(SO_LINGER 0, RST) after each verified echo\n");

  /* Warm-up: the loop's free lists, buffers and the allocator reach their
   * steady state; the phase ends with every connection closed, the same
   * quiet point as the end, so the two measurements compare. */
  t0 = stress_now();
  timed_out = run_cycles(WARMUP, 120000);
  STRESS_CHECK(!timed_out, "warm-up within 120 s (%d closed)", client_closed);
  t_warm = stress_now();
  fd_warm = stress_fd_count();
  rss_warm = stress_rss_kib();

  /* The rest of the 100,000, to the end: every handle closed. */
  timed_out = run_cycles(NCYCLES, 300000);
  t_end = stress_now();
  STRESS_CHECK(!timed_out, "all cycles within 300 s (%d closed)",
               client_closed);
  fd_end = stress_fd_count();
  rss_end = stress_rss_kib();
  handles_end = stress_handle_count(loop);

  printf("cycles: %d started, %d verified, %d client closes, %d accepted, "
         "%d server closes, %.2f s (%.0f cycles/s)\n",
         started, verified, client_closed, server_accepted, server_closed,
         t_end - t0, NCYCLES / (t_end - t0));
  printf("after warm-up (%d cycles, %.2f s): fds %ld, RSS %ld KiB; "
         "at the end: fds %ld, RSS %ld KiB (growth %ld KiB); "
         "handles left: %d\n",
         WARMUP, t_warm - t0, fd_warm, rss_warm, fd_end, rss_end,
         rss_end - rss_warm, handles_end);
  STRESS_CHECK(started == NCYCLES && verified == NCYCLES,
               "%d verified of %d", verified, NCYCLES);
  STRESS_CHECK(client_closed == NCYCLES, "%d closed", client_closed);
  STRESS_CHECK(server_accepted == NCYCLES && server_closed == NCYCLES &&
                   server_open == 0,
               "server accepted %d closed %d open %d", server_accepted,
               server_closed, server_open);
  STRESS_CHECK(server_odd_end == 0,
               "%d server sides ended other than by ECONNRESET",
               server_odd_end);
  STRESS_CHECK(failures == 0, "%d failures", failures);
  STRESS_CHECK(fd_end <= fd_warm, "fds grew from %ld to %ld", fd_warm,
               fd_end);
  STRESS_CHECK(rss_end - rss_warm < RSS_BOUND_KIB,
               "RSS grew %ld KiB (bound %d)", rss_end - rss_warm,
               RSS_BOUND_KIB);
  STRESS_CHECK(handles_end == 1, "%d handles left (the listener only)",
               handles_end);
  r = stress_free_loop(loop);
  STRESS_CHECK(r == 0, "loop free: %s", fuv_err_name(r));
  return stress_summary("cycles_100k");
}
