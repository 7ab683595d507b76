/*
 * load_10k_pipe: load_10k over pipes. 10,000 pipe connections (Unix domain
 * stream sockets, fuv_pipe_t) to ONE listener, all open at the same time:
 * the clients on one loop in this process, the echo server on one loop in
 * a forked child (so that each process needs only 10,000 fds, which fits a
 * hard RLIMIT_NOFILE of 20,000 where it cannot be raised). Every client
 * sends a message unique to it and the echo is verified byte for byte;
 * once all 10,000 are up and verified, all of them echo a second message
 * while every connection is still held, then all close.
 *
 * A Unix socket's connect completes as soon as the listener's backlog
 * holds it, before the server accepts, so a bound on connects in flight
 * would not bound the backlog. Here a connection counts as pending from
 * its connect until its first echo is verified (the server must have
 * accepted it by then), and at most MAX_PENDING are: the backlog never
 * fills, and no connect meets EAGAIN.
 */
#include "stress.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define NCONN 10000
#define MAX_PENDING 400 /* below the backlog (min(4096, somaxconn)) */
#define MSG_LEN 173     /* odd on purpose: no alignment is assumed */

typedef struct {
  fuv_pipe_t *pipe;
  int id;
  int round;     /* 1 or 2: which message is being echoed */
  size_t got;    /* echoed bytes of this round so far */
  int verified;  /* rounds verified */
  int bad;       /* a byte differed */
} client_t;

static fuv_loop_t *loop;
static client_t clients[NCONN];
static char dir[] = "/tmp/fuv-stress-pipe-XXXXXX";
static char path[sizeof dir + 16];
static int next_to_connect, pending, connect_errors, write_errors;
static int verified[3]; /* per round */
/* The server child's figures, sent to the parent through a pipe. */
typedef struct {
  int accepted, peak_open, open, accept_errors, read_errors, write_errors;
  int name_ok; /* fuv_pipe_getsockname gave the path back */
} server_stats_t;
static server_stats_t srv;
static fuv_pipe_t *listener;
static int mismatches;

static uint64_t seed_of(const client_t *c) {
  return (uint64_t)c->id * 2 + (uint64_t)c->round;
}

static void connect_more(void);

static void send_round(client_t *c) {
  char msg[MSG_LEN];
  int r;
  c->got = 0;
  stress_fill_pattern(seed_of(c), 0, msg, sizeof msg);
  r = fuv_write((fuv_stream_t *)c->pipe, msg, sizeof msg, NULL, NULL);
  if (r != 0 && write_errors++ < 5)
    printf("write %d: %s\n", c->id, fuv_err_name(r));
}

static void start_round_two(void) {
  for (int i = 0; i < NCONN; i++) {
    if (clients[i].pipe == NULL)
      continue;
    clients[i].round = 2;
    send_round(&clients[i]);
  }
}

/* Round 1 of a connection ended (verified or not): it no longer counts
 * against the backlog, and the next may connect. */
static void round_one_over(void) {
  pending--;
  connect_more();
}

static void on_client_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                           void *arg) {
  client_t *c = arg;
  (void)s;
  if (nread < 0) {
    if (!c->bad) {
      mismatches++;
      printf("client %d: read %s in round %d\n", c->id,
             fuv_err_name((int)nread), c->round);
      if (c->round == 1)
        round_one_over();
    }
    c->bad = 1;
    return;
  }
  if (c->bad)
    return;
  if (c->got + (size_t)nread > MSG_LEN ||
      stress_match_pattern(seed_of(c), c->got, buf, (size_t)nread) !=
          (size_t)nread) {
    mismatches++;
    c->bad = 1;
    if (c->round == 1)
      round_one_over();
    return;
  }
  c->got += (size_t)nread;
  if (c->got < MSG_LEN)
    return;
  c->verified++;
  verified[c->round]++;
  if (c->round == 1) {
    round_one_over();
    if (verified[1] == NCONN)
      start_round_two();
  } else if (verified[2] == NCONN) {
    fuv_stop(loop);
  }
}

static void on_connect(fuv_pipe_t *p, int status, void *arg) {
  client_t *c = arg;
  int r = status;
  if (r == 0)
    r = fuv_read_start((fuv_stream_t *)p, on_client_read, c);
  if (r != 0) {
    if (connect_errors++ < 5)
      printf("connect %d: %s\n", c->id, fuv_err_name(r));
    fuv_close((fuv_handle_t *)p, NULL, NULL);
    c->pipe = NULL;
    round_one_over();
    return;
  }
  send_round(c);
}

static void connect_more(void) {
  while (pending < MAX_PENDING && next_to_connect < NCONN) {
    client_t *c = &clients[next_to_connect++];
    int r = fuv_pipe_new(&c->pipe, loop, 0);
    if (r == 0)
      r = fuv_pipe_connect(c->pipe, path, on_connect, c);
    if (r != 0) {
      if (connect_errors++ < 5)
        printf("connect %d at call: %s\n", c->id, fuv_err_name(r));
      if (c->pipe != NULL)
        fuv_close((fuv_handle_t *)c->pipe, NULL, NULL);
      c->pipe = NULL;
      continue;
    }
    pending++;
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
    if (srv.open == 0 && srv.accepted == NCONN)
      fuv_close((fuv_handle_t *)listener, NULL, NULL); /* all came and went */
    return;
  }
  if (fuv_write(s, buf, (size_t)nread, NULL, NULL) != 0)
    srv.write_errors++;
}

static void on_connection(fuv_stream_t *server, int status, void *arg) {
  fuv_stream_t *conn;
  int r = status;
  (void)arg;
  if (r == 0)
    r = fuv_stream_accept(server, &conn);
  if (r != 0) {
    if (srv.accept_errors++ < 5)
      printf("server accept: %s\n", fuv_err_name(r));
    return;
  }
  srv.accepted++;
  if (++srv.open > srv.peak_open)
    srv.peak_open = srv.open;
  if (fuv_read_start(conn, on_server_read, NULL) != 0)
    srv.read_errors++;
}

/* The server child: listens on the path, reports whether it does, echoes
 * until all NCONN connections have come and gone, then reports its
 * figures. */
static int run_server(int report_fd) {
  char name[sizeof path];
  size_t len = 0;
  int r;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  fuv_loop_new(&loop);
  r = fuv_pipe_new(&listener, loop, 0);
  if (r == 0)
    r = fuv_pipe_bind(listener, path);
  if (r == 0)
    r = fuv_listen((fuv_stream_t *)listener, 4096, on_connection, NULL);
  if (r == 0)
    srv.name_ok = fuv_pipe_getsockname(listener, name, sizeof name, &len) == 0 &&
                  len == strlen(path) && memcmp(name, path, len) == 0;
  if (write(report_fd, &r, sizeof r) != (ssize_t)sizeof r)
    return 1;
  if (r == 0)
    stress_run(loop, 300000);
  if (write(report_fd, &srv, sizeof srv) != (ssize_t)sizeof srv)
    return 1;
  return stress_free_loop(loop) == 0 ? 0 : 1;
}

static void on_client_closed(fuv_handle_t *h, void *arg) {
  (void)h;
  (*(int *)arg)++;
}

int main(void) {
  double t0, t_done;
  long fds_held;
  int r, listen_result = -1, timed_out, held = 0, closed = 0, named = 0;
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
    return stress_summary("load_10k_pipe");

  if (mkdtemp(dir) == NULL) {
    STRESS_CHECK(0, "mkdtemp %s: %s", dir, strerror(errno));
    return stress_summary("load_10k_pipe");
  }
  snprintf(path, sizeof path, "%s/echo.sock", dir);
  printf("listener: %s\n", path);

  r = stress_child_start(&child, run_server, &listen_result,
                         sizeof listen_result, 10000);
  STRESS_CHECK(r == 0 && listen_result == 0, "the server child listens: %s",
               r == 0 ? fuv_err_name(listen_result) : "no report");
  if (r != 0 || listen_result != 0) {
    stress_child_kill(&child);
    rmdir(dir);
    return stress_summary("load_10k_pipe");
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
   * each has echoed two messages, and each is connected to the path. */
  for (int i = 0; i < NCONN; i++) {
    char name[sizeof path];
    size_t len = 0;
    if (clients[i].pipe == NULL)
      continue;
    if (!clients[i].bad && clients[i].verified == 2 &&
        fuv_is_writable((fuv_stream_t *)clients[i].pipe))
      held++;
    if (fuv_pipe_getpeername(clients[i].pipe, name, sizeof name, &len) == 0 &&
        len == strlen(path) && memcmp(name, path, len) == 0)
      named++;
  }
  fds_held = stress_fd_count();
  printf("connections held open at once: %d (client fds open: %ld)\n", held,
         fds_held);
  printf("round 1 verified: %d, round 2 verified with all held: %d, "
         "time to connect and echo twice: %.2f s\n",
         verified[1], verified[2], t_done - t0);
  STRESS_CHECK(held == NCONN, "held %d of %d", held, NCONN);
  STRESS_CHECK(named == NCONN, "%d of %d peers named %s", named, NCONN, path);
  STRESS_CHECK(fds_held >= NCONN, "fds %ld", fds_held);
  STRESS_CHECK(verified[1] == NCONN && verified[2] == NCONN,
               "verified %d / %d", verified[1], verified[2]);
  STRESS_CHECK(mismatches == 0, "%d connections got wrong bytes", mismatches);
  STRESS_CHECK(connect_errors == 0 && write_errors == 0,
               "connect %d write %d errors", connect_errors, write_errors);

  /* Close every client; the server sides see EOF and close, and the server
   * reports once the last one is gone. */
  for (int i = 0; i < NCONN; i++)
    if (clients[i].pipe != NULL)
      fuv_close((fuv_handle_t *)clients[i].pipe, on_client_closed, &closed);
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
    STRESS_CHECK(peer.name_ok, "the listener's getsockname is the path");
  }
  printf("total time %.2f s\n", stress_now() - t0);
  r = stress_free_loop(loop);
  STRESS_CHECK(r == 0, "loop free: %s", fuv_err_name(r));
  /* The listener's close may have removed the path (libuv's does). */
  unlink(path);
  STRESS_CHECK(rmdir(dir) == 0, "the socket's directory is left empty");
  return stress_summary("load_10k_pipe");
}
