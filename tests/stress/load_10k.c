/*
 * load_10k: 10,000 echo connections open at the same time: the clients on
 * one loop in this process, the echo server on one loop in a forked child
 * (so that each process needs only 10,000 fds, which fits a hard
 * RLIMIT_NOFILE of 20,000 where it cannot be raised). Every client sends a
 * message unique
 * to it, and the echo is verified byte for byte; once all 10,000 are up and
 * verified, all of them echo a second message while every connection is
 * still held, then all close. The connections go to four listener ports so
 * that loopback's ephemeral ports are never the limit.
 */
#include "stress.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define NCONN 10000
#define NLISTENERS 4
#define MAX_CONNECTING 400 /* below every backlog: no SYN is dropped */
#define MSG_LEN 173        /* odd on purpose: no alignment is assumed */

typedef struct {
  fuv_tcp_t *tcp;
  int id;
  int round;     /* 1 or 2: which message is being echoed */
  size_t got;    /* echoed bytes of this round so far */
  int verified;  /* rounds verified */
  int bad;       /* a byte differed */
} client_t;

static fuv_loop_t *loop;
static client_t clients[NCONN];
static int ports[NLISTENERS];
static int next_to_connect, connecting, connect_errors, write_errors;
static int verified[3]; /* per round */
/* The server child's figures, sent to the parent through a pipe. */
typedef struct {
  int accepted, peak_open, open, accept_errors, read_errors, write_errors;
} server_stats_t;
static server_stats_t srv;
static fuv_tcp_t *listeners[NLISTENERS];
static int mismatches, round_two_started;

static uint64_t seed_of(const client_t *c) {
  return (uint64_t)c->id * 2 + (uint64_t)c->round;
}

static void connect_more(void);

static void send_round(client_t *c) {
  char msg[MSG_LEN];
  int r;
  c->got = 0;
  stress_fill_pattern(seed_of(c), 0, msg, sizeof msg);
  r = fuv_write((fuv_stream_t *)c->tcp, msg, sizeof msg, NULL, NULL);
  if (r != 0)
    write_errors++;
}

static void start_round_two(void) {
  round_two_started = 1;
  for (int i = 0; i < NCONN; i++) {
    clients[i].round = 2;
    send_round(&clients[i]);
  }
}

static void on_client_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                           void *arg) {
  client_t *c = arg;
  (void)s;
  if (nread < 0) {
    c->bad = 1;
    mismatches++;
    return;
  }
  if (c->got + (size_t)nread > MSG_LEN ||
      stress_match_pattern(seed_of(c), c->got, buf, (size_t)nread) !=
          (size_t)nread) {
    if (!c->bad)
      mismatches++;
    c->bad = 1;
    return;
  }
  c->got += (size_t)nread;
  if (c->got < MSG_LEN)
    return;
  c->verified++;
  verified[c->round]++;
  if (c->round == 1 && verified[1] == NCONN)
    start_round_two();
  else if (c->round == 2 && verified[2] == NCONN)
    fuv_stop(loop);
}

static void on_connect(fuv_tcp_t *tcp, int status, void *arg) {
  client_t *c = arg;
  connecting--;
  if (status != 0) {
    if (connect_errors++ < 5)
      printf("connect %d: %s\n", c->id, fuv_err_name(status));
    fuv_close((fuv_handle_t *)tcp, NULL, NULL);
    c->tcp = NULL;
  } else if (fuv_read_start((fuv_stream_t *)tcp, on_client_read, c) == 0) {
    send_round(c);
  }
  connect_more();
}

static void connect_more(void) {
  while (connecting < MAX_CONNECTING && next_to_connect < NCONN) {
    client_t *c = &clients[next_to_connect++];
    int r = fuv_tcp_new(&c->tcp, loop);
    if (r == 0)
      r = fuv_tcp_connect(c->tcp, "127.0.0.1", ports[c->id % NLISTENERS],
                          on_connect, c);
    if (r != 0) {
      if (connect_errors++ < 5)
        printf("connect %d at call: %s\n", c->id, fuv_err_name(r));
      if (c->tcp != NULL)
        fuv_close((fuv_handle_t *)c->tcp, NULL, NULL);
      c->tcp = NULL;
      continue;
    }
    connecting++;
  }
}

static void on_server_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                           void *arg) {
  (void)arg;
  if (nread < 0) {
    if (nread != FUV_EOF)
      srv.read_errors++;
    srv.open--;
    fuv_close((fuv_handle_t *)s, NULL, NULL);
    if (srv.open == 0 && srv.accepted == NCONN) {
      /* Every client came and went: the server is done. */
      for (int i = 0; i < NLISTENERS; i++)
        fuv_close((fuv_handle_t *)listeners[i], NULL, NULL);
    }
    return;
  }
  if (fuv_write(s, buf, (size_t)nread, NULL, NULL) != 0)
    srv.write_errors++;
}

static void on_connection(fuv_stream_t *server, int status, void *arg) {
  fuv_tcp_t *conn;
  (void)arg;
  if (status != 0 || fuv_accept(server, &conn) != 0) {
    if (srv.accept_errors++ < 5)
      printf("server accept: %s\n", fuv_err_name(status));
    return;
  }
  srv.accepted++;
  if (++srv.open > srv.peak_open)
    srv.peak_open = srv.open;
  fuv_read_start((fuv_stream_t *)conn, on_server_read, NULL);
}

static void on_client_closed(fuv_handle_t *h, void *arg) {
  (void)h;
  (*(int *)arg)++;
}

/* The server child: listens on NLISTENERS ports, reports them, echoes until
 * all NCONN connections have come and gone, then reports its figures. */
static int run_server(int report_fd) {
  int r = 0;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  fuv_loop_new(&loop);
  for (int i = 0; i < NLISTENERS && r == 0; i++) {
    r = fuv_tcp_new(&listeners[i], loop);
    if (r == 0)
      r = fuv_tcp_bind(listeners[i], "127.0.0.1", 0, 0);
    if (r == 0)
      r = fuv_listen((fuv_stream_t *)listeners[i], 4096, on_connection, NULL);
    if (r == 0)
      r = fuv_tcp_getsockname(listeners[i], (char[FUV_IP_NAME_MAX]){0},
                              FUV_IP_NAME_MAX, &ports[i]);
  }
  if (r != 0)
    memset(ports, 0, sizeof ports);
  if (write(report_fd, ports, sizeof ports) != (ssize_t)sizeof ports)
    return 1;
  if (r == 0)
    stress_run(loop, 300000);
  if (write(report_fd, &srv, sizeof srv) != (ssize_t)sizeof srv)
    return 1;
  return stress_free_loop(loop) == 0 ? 0 : 1;
}

int main(void) {
  double t0, t_done;
  long fds_held;
  int r, timed_out, held = 0, closed = 0;
  server_stats_t peer;
  stress_child_t child;
  struct rlimit rl;

  /* 25,000 where the hard limit allows it; each process needs NCONN + a
   * few, which the machine's hard limit must allow. */
  getrlimit(RLIMIT_NOFILE, &rl);
  r = stress_set_nofile(25000);
  if (r != 0)
    r = stress_set_nofile(rl.rlim_max);
  getrlimit(RLIMIT_NOFILE, &rl);
  printf("RLIMIT_NOFILE per process: %llu (hard %llu)\n",
         (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
  STRESS_CHECK(r == 0 && rl.rlim_cur >= NCONN + 200,
               "RLIMIT_NOFILE %llu < %d: %s", (unsigned long long)rl.rlim_cur,
               NCONN + 200, strerror(-r));
  if (rl.rlim_cur < NCONN + 200)
    return stress_summary("load_10k");

  r = stress_child_start(&child, run_server, ports, sizeof ports, 10000);
  STRESS_CHECK(r == 0 && ports[0] != 0, "the server child listens");
  if (r != 0 || ports[0] == 0) {
    stress_child_kill(&child);
    return stress_summary("load_10k");
  }

  fuv_loop_new(&loop);
  for (int i = 0; i < NCONN; i++) {
    clients[i].id = i;
    clients[i].round = 1;
  }
  t0 = stress_now();
  connect_more();
  timed_out = stress_run(loop, 120000);
  t_done = stress_now();
  STRESS_CHECK(!timed_out, "the load finished within 120 s (round 1: %d, "
               "round 2: %d verified)", verified[1], verified[2]);

  /* Every client connection is still open, all of them at the same time,
   * and each has echoed two messages. */
  for (int i = 0; i < NCONN; i++)
    if (clients[i].tcp != NULL && !clients[i].bad &&
        clients[i].verified == 2 &&
        fuv_is_writable((fuv_stream_t *)clients[i].tcp))
      held++;
  fds_held = stress_fd_count();
  printf("connections held open at once: %d (client fds open: %ld)\n", held,
         fds_held);
  printf("round 1 verified: %d, round 2 verified with all held: %d, "
         "time to connect and echo twice: %.2f s\n",
         verified[1], verified[2], t_done - t0);
  STRESS_CHECK(held == NCONN, "held %d of %d", held, NCONN);
  STRESS_CHECK(fds_held >= NCONN, "fds %ld", fds_held);
  STRESS_CHECK(verified[1] == NCONN && verified[2] == NCONN,
               "verified %d / %d", verified[1], verified[2]);
  STRESS_CHECK(mismatches == 0, "%d connections got wrong bytes", mismatches);
  STRESS_CHECK(connect_errors == 0 && write_errors == 0,
               "connect %d write %d errors", connect_errors, write_errors);

  /* Close every client; the server sides see EOF and close, and the server
   * reports once the last one is gone. */
  for (int i = 0; i < NCONN; i++)
    if (clients[i].tcp != NULL)
      fuv_close((fuv_handle_t *)clients[i].tcp, on_client_closed, &closed);
  timed_out = stress_run(loop, 60000);
  STRESS_CHECK(!timed_out && closed == held, "closed %d of %d", closed, held);
  if (stress_child_finish(&child, &peer, sizeof peer, 60000) == 0) {
    printf("server: accepted %d, peak open at once %d, left open %d, "
           "errors accept %d read %d write %d\n",
           peer.accepted, peer.peak_open, peer.open, peer.accept_errors,
           peer.read_errors, peer.write_errors);
    STRESS_CHECK(peer.accepted == NCONN && peer.peak_open == NCONN &&
                     peer.open == 0,
                 "server accepted %d peak %d", peer.accepted, peer.peak_open);
    STRESS_CHECK(peer.accept_errors == 0 && peer.read_errors == 0 &&
                     peer.write_errors == 0,
                 "server errors");
  }
  printf("total time %.2f s\n", stress_now() - t0);
  r = stress_free_loop(loop);
  STRESS_CHECK(r == 0, "loop free: %s", fuv_err_name(r));
  return stress_summary("load_10k");
}
