/*
 * faults: how the core behaves when the world misbehaves.
 *
 *  (a) EMFILE on accept: with the process out of fds and connections still
 *      arriving, the server keeps echoing an existing connection, does not
 *      spin (its CPU is measured), and accepts again once fds are freed.
 *  (b) peer reset mid-write: queued writes fail through their callbacks
 *      with ECONNRESET / EPIPE; nothing crashes or hangs.
 *  (c) peer half-close: we read EOF, can still write, and the peer gets it
 *      all.
 *  (d) a peer that stops reading: a producer that honours the water marks
 *      keeps memory and the write queue bounded while 1 GiB is offered; the
 *      peer resumes and every byte arrives.
 *  (e) lossy link (root only): network namespaces, 5% loss and 50 ms delay
 *      each way; a 100 MiB transfer arrives intact, and connects to a
 *      namespace that drops SYNs time out with FUV_ETIMEDOUT. The link is
 *      tc netem on a veth pair; where the kernel has no netem, two tun
 *      devices with a relay process here that loses and delays packets
 *      the same way (netns.sh says which). Without root, or where the
 *      machine refuses namespaces, the case is reported as SKIPPED.
 *
 * Usage: faults [DIR_OF_netns.sh]   (default: the directory of argv[0])
 */
#include "stress.h"

#include <errno.h>
#include <libgen.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#define MIB (1024 * 1024)

/* ---- shared pieces -------------------------------------------------------- */

/* "ok" for 0, else the error's name. */
static const char *status_name(int status) {
  return status == 0 ? "ok" : fuv_err_name(status);
}

typedef struct {
  fuv_loop_t *loop;
  fuv_tcp_t *client, *server_side;
  int done;
} pair_t;

static void pair_on_connection(fuv_stream_t *server, int status, void *arg) {
  pair_t *p = arg;
  if (status == 0 && fuv_accept(server, &p->server_side) == 0)
    fuv_close((fuv_handle_t *)server, NULL, NULL);
  if (++p->done == 2)
    fuv_stop(p->loop);
}

static void pair_on_connect(fuv_tcp_t *tcp, int status, void *arg) {
  pair_t *p = arg;
  (void)tcp;
  if (status != 0)
    printf("pair connect: %s\n", fuv_err_name(status));
  if (++p->done == 2)
    fuv_stop(p->loop);
}

/* A connected TCP pair over loopback, made on the loop; 0 or -1. */
static int make_pair(fuv_loop_t *loop, fuv_tcp_t **client,
                     fuv_tcp_t **server_side) {
  pair_t p = {loop, NULL, NULL, 0};
  fuv_tcp_t *listener;
  int port = 0, r;
  fuv_tcp_new(&listener, loop);
  r = fuv_tcp_bind(listener, "127.0.0.1", 0, 0);
  if (r == 0)
    r = fuv_listen((fuv_stream_t *)listener, 8, pair_on_connection, &p);
  if (r == 0)
    r = fuv_tcp_getsockname(listener, (char[FUV_IP_NAME_MAX]){0},
                            FUV_IP_NAME_MAX, &port);
  if (r == 0)
    r = fuv_tcp_new(&p.client, loop);
  if (r == 0)
    r = fuv_tcp_connect(p.client, "127.0.0.1", port, pair_on_connect, &p);
  if (r != 0 || stress_run(loop, 10000) || p.server_side == NULL) {
    printf("make_pair failed: %s\n", fuv_err_name(r));
    return -1;
  }
  *client = p.client;
  *server_side = p.server_side;
  return 0;
}

static void on_echo_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                         void *arg) {
  (void)arg;
  if (nread < 0) {
    fuv_close((fuv_handle_t *)s, NULL, NULL);
    return;
  }
  fuv_write(s, buf, (size_t)nread, NULL, NULL);
}

/* ---- (a) EMFILE on accept ------------------------------------------------- */

/* The connector child and the server talk over a socketpair: the server
 * sends one command byte, the child answers with one report. */
typedef struct {
  int ok;            /* the step's echo rounds all came back intact */
  int rounds;        /* echo rounds done on the kept connection */
  int connects;      /* connections started during the storm */
} emfile_report_t;

#define STORM_MS 2000
#define STORM_INTERVAL_MS 5   /* a new connection every 5 ms: 200/s */
#define ECHO_INTERVAL_MS 100

static int blocking_connect(int port) {
  struct sockaddr_in sa;
  struct timeval tv = {3, 0};
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Sends 32 pattern bytes and reads them back; 1 when intact. */
static int echo_round(int fd, int round) {
  char out[32], in[32];
  size_t got = 0;
  stress_fill_pattern(1000 + (uint64_t)round, 0, out, sizeof out);
  if (send(fd, out, sizeof out, MSG_NOSIGNAL) != (ssize_t)sizeof out)
    return 0;
  while (got < sizeof in) {
    ssize_t n = recv(fd, in + got, sizeof in - got, 0);
    if (n <= 0)
      return 0;
    got += (size_t)n;
  }
  return memcmp(in, out, sizeof in) == 0;
}

static void connector_child(int ctl, int port) {
  int keeper = -1, storm[STORM_MS / STORM_INTERVAL_MS + 1], nstorm = 0;
  int round = 0;
  char cmd;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  while (read(ctl, &cmd, 1) == 1) {
    emfile_report_t rep = {1, 0, 0};
    if (cmd == 'K') {          /* open the connection kept for echoing */
      keeper = blocking_connect(port);
      rep.ok = keeper >= 0 && echo_round(keeper, round++);
      rep.rounds = 1;
    } else if (cmd == 'S') {   /* the storm, while the server has no fds */
      double start = stress_now(), next_echo = start;
      while (stress_now() - start < STORM_MS / 1000.0) {
        struct sockaddr_in sa;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd >= 0) {
          connect(fd, (struct sockaddr *)&sa, sizeof sa);
          storm[nstorm++] = fd;
          rep.connects++;
        }
        if (stress_now() >= next_echo) {
          rep.ok &= echo_round(keeper, round++);
          rep.rounds++;
          next_echo += ECHO_INTERVAL_MS / 1000.0;
        }
        poll(NULL, 0, STORM_INTERVAL_MS); /* paces the storm, not a sync */
      }
      while (nstorm > 0)
        close(storm[--nstorm]);
    } else if (cmd == 'N') {   /* a new connection once fds are back */
      int fd = blocking_connect(port);
      rep.ok = fd >= 0 && echo_round(fd, round++) && echo_round(keeper, round++);
      rep.rounds = 2;
      if (fd >= 0)
        close(fd);
    } else {
      break;
    }
    if (write(ctl, &rep, sizeof rep) != (ssize_t)sizeof rep)
      break;
  }
  _exit(0);
}

static struct {
  fuv_loop_t *loop;
  int accepted, emfile_errors, other_errors;
  emfile_report_t report;
  size_t report_got;
} em;

static void em_on_connection(fuv_stream_t *server, int status, void *arg) {
  fuv_tcp_t *conn;
  (void)arg;
  if (status == FUV_EMFILE || status == FUV_ENFILE) {
    em.emfile_errors++;
    return;
  }
  if (status != 0 || fuv_accept(server, &conn) != 0) {
    em.other_errors++;
    return;
  }
  em.accepted++;
  fuv_read_start((fuv_stream_t *)conn, on_echo_read, NULL);
}

static void em_on_ctl_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                           void *arg) {
  (void)s;
  (void)arg;
  if (nread < 0) {
    fuv_stop(em.loop);
    return;
  }
  for (ssize_t i = 0; i < nread; i++) {
    ((char *)&em.report)[em.report_got++] = buf[i];
    if (em.report_got == sizeof em.report) {
      em.report_got = 0;
      fuv_stop(em.loop);
    }
  }
}

/* Sends a command to the connector and runs the loop until it reports. */
static int em_step(fuv_tcp_t *ctl, char cmd) {
  memset(&em.report, 0, sizeof em.report);
  if (fuv_write((fuv_stream_t *)ctl, &cmd, 1, NULL, NULL) != 0)
    return -1;
  return stress_run(em.loop, 30000) ? -1 : 0;
}

static void case_emfile(void) {
  fuv_tcp_t *listener, *ctl;
  int port = 0, fd_parent, fd_child, r, nheld = 0, *held;
  struct rlimit saved, low;
  double t0, cpu0, wall, cpu;
  uint64_t iter0, iterations;
  pid_t child;

  printf("-- (a) EMFILE on accept\n");
  memset(&em, 0, sizeof em);
  fuv_loop_new(&em.loop);
  fuv_tcp_new(&listener, em.loop);
  r = fuv_tcp_bind(listener, "127.0.0.1", 0, 0);
  if (r == 0)
    r = fuv_listen((fuv_stream_t *)listener, 128, em_on_connection, NULL);
  if (r == 0)
    r = fuv_tcp_getsockname(listener, (char[FUV_IP_NAME_MAX]){0},
                            FUV_IP_NAME_MAX, &port);
  if (r == 0)
    r = fuv_socketpair(FUV_SOCK_STREAM, 0, &fd_parent, &fd_child, 0, 0);
  STRESS_CHECK(r == 0, "setup: %s", fuv_err_name(r));
  if (r != 0)
    return;
  fflush(stdout);
  child = fork();
  if (child == 0) {
    close(fd_parent);
    connector_child(fd_child, port);
  }
  close(fd_child);
  fuv_tcp_new(&ctl, em.loop);
  r = fuv_tcp_open(ctl, fd_parent);
  if (r == 0)
    r = fuv_read_start((fuv_stream_t *)ctl, em_on_ctl_read, NULL);
  STRESS_CHECK(r == 0, "control channel: %s", fuv_err_name(r));

  r = em_step(ctl, 'K');
  STRESS_CHECK(r == 0 && em.report.ok && em.accepted == 1,
               "kept connection echoes before exhaustion (accepted %d)",
               em.accepted);

  /* Use up every fd the (lowered) limit allows. */
  getrlimit(RLIMIT_NOFILE, &saved);
  low = saved;
  low.rlim_cur = 256;
  setrlimit(RLIMIT_NOFILE, &low);
  held = malloc(sizeof *held * 256);
  for (;;) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      STRESS_CHECK(errno == EMFILE, "open failed with %s", strerror(errno));
      break;
    }
    held[nheld++] = fd;
  }
  printf("fds exhausted: limit %d, %d extra fds held, open(2) fails with "
         "EMFILE\n", (int)low.rlim_cur, nheld);

  t0 = stress_now();
  cpu0 = stress_cpu_seconds();
  iter0 = fuv_metrics_loop_count(em.loop);
  r = em_step(ctl, 'S');
  wall = stress_now() - t0;
  cpu = stress_cpu_seconds() - cpu0;
  iterations = fuv_metrics_loop_count(em.loop) - iter0;
  printf("while exhausted: %.2f s, server CPU %.3f s = %.1f%% of one core, "
         "%llu loop iterations, %d connections arrived, %d EMFILE reported "
         "to the connection callback, kept connection echoed %d rounds "
         "(%s)\n",
         wall, cpu, 100 * cpu / wall, (unsigned long long)iterations,
         em.report.connects, em.emfile_errors, em.report.rounds,
         em.report.ok ? "all intact" : "NOT intact");
  STRESS_CHECK(r == 0, "storm step finished");
  STRESS_CHECK(cpu / wall < 0.10, "server used %.1f%% CPU while exhausted",
               100 * cpu / wall);
  STRESS_CHECK(em.emfile_errors >= 1, "no EMFILE reported");
  STRESS_CHECK(em.report.ok && em.report.rounds >= STORM_MS /
                                                      ECHO_INTERVAL_MS / 2,
               "kept connection: ok %d, %d rounds", em.report.ok,
               em.report.rounds);
  STRESS_CHECK(em.accepted == 1, "accepted %d while out of fds",
               em.accepted);

  /* Give the fds back: the next connection is accepted and served. */
  while (nheld > 0)
    close(held[--nheld]);
  free(held);
  setrlimit(RLIMIT_NOFILE, &saved);
  r = em_step(ctl, 'N');
  printf("after freeing fds: accepted %d in all, new connection and kept "
         "connection echo: %s\n", em.accepted,
         em.report.ok ? "intact" : "NOT intact");
  STRESS_CHECK(r == 0 && em.report.ok && em.accepted == 2,
               "accepts again: ok %d accepted %d", em.report.ok, em.accepted);
  STRESS_CHECK(em.other_errors == 0, "%d other accept errors",
               em.other_errors);

  fuv_write((fuv_stream_t *)ctl, "Q", 1, NULL, NULL);
  fuv_run(em.loop, FUV_RUN_NOWAIT);
  waitpid(child, NULL, 0);
  r = stress_free_loop(em.loop);
  STRESS_CHECK(r == 0, "loop free: %s", fuv_err_name(r));
}

/* ---- (b) peer reset mid-write --------------------------------------------- */

#define RESET_WRITES 16
#define RESET_WRITE_LEN (4 * MIB)

static struct {
  fuv_loop_t *loop;
  int calls[RESET_WRITES], status[RESET_WRITES];
  int done, read_status;
} rs;

static void rs_on_write(fuv_stream_t *s, int status, void *arg) {
  int i = (int)(intptr_t)arg;
  (void)s;
  rs.calls[i]++;
  rs.status[i] = status;
  if (++rs.done == RESET_WRITES && rs.read_status != 0)
    fuv_stop(rs.loop);
}

static void rs_on_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                       void *arg) {
  (void)s;
  (void)buf;
  (void)arg;
  if (nread < 0) {
    rs.read_status = (int)nread;
    if (rs.done == RESET_WRITES)
      fuv_stop(rs.loop);
  }
}

static void case_reset(void) {
  fuv_tcp_t *client, *peer;
  char *data = malloc(RESET_WRITE_LEN);
  int r, bad = 0, failed = 0, timed_out, again;
  size_t queued;

  printf("-- (b) peer reset mid-write\n");
  memset(&rs, 0, sizeof rs);
  fuv_loop_new(&rs.loop);
  if (make_pair(rs.loop, &client, &peer) != 0) {
    STRESS_CHECK(0, "no connection");
    return;
  }
  stress_fill_pattern(7, 0, data, RESET_WRITE_LEN);
  fuv_read_start((fuv_stream_t *)client, rs_on_read, NULL);
  for (int i = 0; i < RESET_WRITES; i++) {
    r = fuv_write((fuv_stream_t *)client, data, RESET_WRITE_LEN, rs_on_write,
                  (void *)(intptr_t)i);
    STRESS_CHECK(r == 0, "write %d: %s", i, fuv_err_name(r));
  }
  queued = fuv_write_queue_size((fuv_stream_t *)client);
  /* The peer never read a byte; it resets with most of 64 MiB queued. */
  r = fuv_tcp_close_reset(peer, NULL, NULL);
  STRESS_CHECK(r == 0, "close_reset: %s", fuv_err_name(r));
  timed_out = stress_run(rs.loop, 10000);
  for (int i = 0; i < RESET_WRITES; i++) {
    if (rs.calls[i] != 1 ||
        (rs.status[i] != 0 && rs.status[i] != FUV_ECONNRESET &&
         rs.status[i] != FUV_EPIPE))
      bad++;
    if (rs.status[i] != 0)
      failed++;
  }
  printf("queued %zu bytes when the peer reset; %d of %d write callbacks "
         "failed (first failure %s), read got %s\n",
         queued, failed, RESET_WRITES,
         failed ? fuv_err_name(rs.status[RESET_WRITES - failed]) : "none",
         fuv_err_name(rs.read_status));
  STRESS_CHECK(queued > 0, "nothing was queued");
  STRESS_CHECK(!timed_out, "callbacks within 10 s (%d of %d)", rs.done,
               RESET_WRITES);
  STRESS_CHECK(bad == 0, "%d write callbacks missing, repeated or with an "
               "unexpected status", bad);
  STRESS_CHECK(failed >= 1 && rs.status[RESET_WRITES - 1] != 0,
               "the last write must fail");
  STRESS_CHECK(rs.read_status == FUV_ECONNRESET || rs.read_status == FUV_EOF,
               "read ended with %s", fuv_err_name(rs.read_status));
  STRESS_CHECK(fuv_write_queue_size((fuv_stream_t *)client) == 0,
               "queue not emptied");
  again = fuv_write((fuv_stream_t *)client, data, 1, NULL, NULL);
  STRESS_CHECK(again != 0, "a write after the reset is refused (got %s)",
               fuv_err_name(again));
  free(data);
  r = stress_free_loop(rs.loop);
  STRESS_CHECK(r == 0, "loop free: %s", fuv_err_name(r));
}

/* ---- (c) peer half-close -------------------------------------------------- */

#define HC_PEER_BYTES (1 * MIB)
#define HC_OUR_BYTES (4 * MIB)

static struct {
  fuv_loop_t *loop;
  size_t we_got, peer_got;
  int we_eof, peer_eof, mismatch, write_status, write_done, shut_status;
  int readable_after_eof, writable_after_eof, finished;
} hc;

static void hc_maybe_done(void) {
  if (hc.peer_eof && hc.write_done && ++hc.finished == 1)
    fuv_stop(hc.loop);
}

static void hc_on_write(fuv_stream_t *s, int status, void *arg) {
  (void)s;
  (void)arg;
  hc.write_status = status;
  hc.write_done = 1;
  hc_maybe_done();
}

static void hc_on_shutdown(fuv_stream_t *s, int status, void *arg) {
  (void)s;
  (void)arg;
  hc.shut_status = status;
}

static void hc_on_our_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                           void *arg) {
  (void)arg;
  if (nread == FUV_EOF) {
    char *data = malloc(HC_OUR_BYTES);
    hc.we_eof = 1;
    hc.readable_after_eof = fuv_is_readable(s);
    hc.writable_after_eof = fuv_is_writable(s);
    /* The peer only closed its sending side: answer it now. */
    stress_fill_pattern(9, 0, data, HC_OUR_BYTES);
    if (fuv_write(s, data, HC_OUR_BYTES, hc_on_write, NULL) != 0 ||
        fuv_shutdown(s, hc_on_shutdown, NULL) != 0)
      fuv_stop(hc.loop);
    free(data);
    return;
  }
  if (nread < 0) {
    hc.mismatch++;
    return;
  }
  if (stress_match_pattern(8, hc.we_got, buf, (size_t)nread) != (size_t)nread)
    hc.mismatch++;
  hc.we_got += (size_t)nread;
}

static void hc_on_peer_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                            void *arg) {
  (void)s;
  (void)arg;
  if (nread == FUV_EOF) {
    hc.peer_eof = 1;
    hc_maybe_done();
    return;
  }
  if (nread < 0) {
    hc.mismatch++;
    return;
  }
  if (stress_match_pattern(9, hc.peer_got, buf, (size_t)nread) !=
      (size_t)nread)
    hc.mismatch++;
  hc.peer_got += (size_t)nread;
}

static void case_half_close(void) {
  fuv_tcp_t *us, *peer;
  char *data = malloc(HC_PEER_BYTES);
  int r, timed_out;

  printf("-- (c) peer half-close\n");
  memset(&hc, 0, sizeof hc);
  hc.write_status = hc.shut_status = 1;
  fuv_loop_new(&hc.loop);
  if (make_pair(hc.loop, &us, &peer) != 0) {
    STRESS_CHECK(0, "no connection");
    return;
  }
  stress_fill_pattern(8, 0, data, HC_PEER_BYTES);
  r = fuv_write((fuv_stream_t *)peer, data, HC_PEER_BYTES, NULL, NULL);
  if (r == 0)
    r = fuv_shutdown((fuv_stream_t *)peer, NULL, NULL);
  if (r == 0)
    r = fuv_read_start((fuv_stream_t *)peer, hc_on_peer_read, NULL);
  if (r == 0)
    r = fuv_read_start((fuv_stream_t *)us, hc_on_our_read, NULL);
  STRESS_CHECK(r == 0, "setup: %s", fuv_err_name(r));
  free(data);
  timed_out = stress_run(hc.loop, 10000);
  printf("we read %zu bytes then EOF (%s), readable %d writable %d after "
         "EOF; then wrote %d bytes (%s), shutdown %s; the peer read %zu "
         "bytes then EOF (%s)\n",
         hc.we_got, hc.we_eof ? "yes" : "no", hc.readable_after_eof,
         hc.writable_after_eof, HC_OUR_BYTES, status_name(hc.write_status),
         status_name(hc.shut_status), hc.peer_got,
         hc.peer_eof ? "yes" : "no");
  STRESS_CHECK(!timed_out, "finished within 10 s");
  STRESS_CHECK(hc.we_eof && hc.we_got == HC_PEER_BYTES, "we got %zu",
               hc.we_got);
  STRESS_CHECK(!hc.readable_after_eof && hc.writable_after_eof,
               "after EOF: readable %d writable %d", hc.readable_after_eof,
               hc.writable_after_eof);
  STRESS_CHECK(hc.write_status == 0 && hc.shut_status == 0,
               "write %d shutdown %d", hc.write_status, hc.shut_status);
  STRESS_CHECK(hc.peer_eof && hc.peer_got == HC_OUR_BYTES, "peer got %zu",
               hc.peer_got);
  STRESS_CHECK(hc.mismatch == 0, "%d mismatches or errors", hc.mismatch);
  r = stress_free_loop(hc.loop);
  STRESS_CHECK(r == 0, "loop free: %s", fuv_err_name(r));
}

/* ---- (d) a peer that stops reading ---------------------------------------- */

#define SR_TOTAL (1024ULL * MIB)
#define SR_CHUNK (64 * 1024)
#define SR_HIGH (1 * MIB)
#define SR_LOW (256 * 1024)
#define SR_PAUSE_EVERY (64ULL * MIB) /* the peer stops after each 64 MiB */
#define SR_PAUSE_MS 200
#define SR_RSS_BOUND_KIB (16 * 1024)

static struct {
  fuv_loop_t *loop;
  fuv_tcp_t *producer, *consumer;
  fuv_timer_t *pause;
  uint64_t offered, received, next_pause;
  int pauses, congested_at_resume, waits, errors, mismatch_at_set, shut;
  uint64_t mismatch_at;
  size_t max_queue;
  long rss_base, rss_max;
} sr;

static void sr_sample(void) {
  size_t q = fuv_write_queue_size((fuv_stream_t *)sr.producer);
  long rss = stress_rss_kib();
  if (q > sr.max_queue)
    sr.max_queue = q;
  if (rss > sr.rss_max)
    sr.rss_max = rss;
}

static void sr_produce(void) {
  fuv_stream_t *s = (fuv_stream_t *)sr.producer;
  static char chunk[SR_CHUNK];
  while (sr.offered < SR_TOTAL && !fuv_stream_is_congested(s)) {
    stress_fill_pattern(11, sr.offered, chunk, SR_CHUNK);
    if (fuv_write(s, chunk, SR_CHUNK, NULL, NULL) != 0) {
      sr.errors++;
      return;
    }
    sr.offered += SR_CHUNK;
    if (fuv_write_queue_size(s) > sr.max_queue)
      sr.max_queue = fuv_write_queue_size(s);
  }
  if (sr.offered < SR_TOTAL) {
    sr.waits++; /* honour the mark: wait for the drain callback */
  } else if (!sr.shut) {
    /* Once: a drain callback may still come after the last write. */
    sr.shut = 1;
    if (fuv_shutdown(s, NULL, NULL) != 0)
      sr.errors++;
  }
}

static void sr_on_drain(fuv_stream_t *s, void *arg) {
  (void)s;
  (void)arg;
  sr_produce();
}

static void sr_on_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                       void *arg);

static void sr_on_resume(fuv_timer_t *t, void *arg) {
  (void)t;
  (void)arg;
  /* The producer must have hit the high-water mark and be waiting. */
  sr_sample();
  if (fuv_stream_is_congested((fuv_stream_t *)sr.producer))
    sr.congested_at_resume++;
  fuv_read_start((fuv_stream_t *)sr.consumer, sr_on_read, NULL);
}

static void sr_on_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                       void *arg) {
  (void)arg;
  if (nread < 0) {
    if (nread != FUV_EOF)
      sr.errors++;
    fuv_stop(sr.loop);
    return;
  }
  if (!sr.mismatch_at_set) {
    size_t at = stress_match_pattern(11, sr.received, buf, (size_t)nread);
    if (at != (size_t)nread) {
      sr.mismatch_at_set = 1;
      sr.mismatch_at = sr.received + at;
    }
  }
  sr.received += (uint64_t)nread;
  if (sr.received >= sr.next_pause && sr.received < SR_TOTAL) {
    /* Stop reading for a while, as a slow or stuck peer would. */
    sr.next_pause += SR_PAUSE_EVERY;
    sr.pauses++;
    fuv_read_stop(s);
    fuv_timer_start(sr.pause, sr_on_resume, SR_PAUSE_MS, 0, NULL);
  }
}

static void case_stops_reading(void) {
  int r, timed_out;
  double t0;

  printf("-- (d) a peer that stops reading\n");
  memset(&sr, 0, sizeof sr);
  fuv_loop_new(&sr.loop);
  if (make_pair(sr.loop, &sr.producer, &sr.consumer) != 0) {
    STRESS_CHECK(0, "no connection");
    return;
  }
  fuv_timer_new(&sr.pause, sr.loop);
  sr.next_pause = SR_PAUSE_EVERY;
  sr.rss_base = sr.rss_max = stress_rss_kib();
  r = fuv_stream_set_water_marks((fuv_stream_t *)sr.producer, SR_HIGH, SR_LOW,
                                 sr_on_drain, NULL);
  if (r == 0)
    r = fuv_read_start((fuv_stream_t *)sr.consumer, sr_on_read, NULL);
  STRESS_CHECK(r == 0, "setup: %s", fuv_err_name(r));
  t0 = stress_now();
  sr_produce();
  timed_out = stress_run(sr.loop, 120000);
  printf("offered %llu bytes in %.2f s; the peer stopped reading %d times "
         "for %d ms, the producer was congested at %d of those and waited "
         "for the drain callback %d times; max write queue %zu bytes "
         "(high water %d); RSS %ld KiB at the start, max %ld KiB; received "
         "%llu bytes\n",
         (unsigned long long)sr.offered, stress_now() - t0, sr.pauses,
         SR_PAUSE_MS, sr.congested_at_resume, sr.waits, sr.max_queue,
         SR_HIGH, sr.rss_base, sr.rss_max,
         (unsigned long long)sr.received);
  STRESS_CHECK(!timed_out, "finished within 120 s");
  STRESS_CHECK(sr.pauses == (int)(SR_TOTAL / SR_PAUSE_EVERY) - 1 &&
                   sr.congested_at_resume == sr.pauses,
               "pauses %d, congested at %d", sr.pauses,
               sr.congested_at_resume);
  STRESS_CHECK(sr.max_queue < SR_HIGH + SR_CHUNK, "queue reached %zu",
               sr.max_queue);
  STRESS_CHECK(sr.rss_max - sr.rss_base < SR_RSS_BOUND_KIB,
               "RSS grew %ld KiB", sr.rss_max - sr.rss_base);
  STRESS_CHECK(sr.offered == SR_TOTAL && sr.received == SR_TOTAL,
               "received %llu", (unsigned long long)sr.received);
  STRESS_CHECK(!sr.mismatch_at_set, "mismatch at byte %llu",
               (unsigned long long)sr.mismatch_at);
  STRESS_CHECK(sr.errors == 0, "%d errors", sr.errors);
  r = stress_free_loop(sr.loop);
  STRESS_CHECK(r == 0, "loop free: %s", fuv_err_name(r));
}

/* ---- (e) lossy link in network namespaces -------------------------------- */

#define LOSSY_BYTES (100ULL * MIB)
#define LOSSY_CHUNK (256 * 1024)
#define LOSSY_TIMEOUT_MS 90000
#define LOSS_PERCENT 5
#define DELAY_MS 50
#define SYN_TIMEOUT_MS 1000

static char netns_script[4096];
static char netns_tag[9]; /* interface names: fuv + tag + a1 < 16 */
static int netns_up;

/* On a fatal signal (the watchdog's SIGALRM, or SIGTERM / SIGINT / SIGHUP
 * from outside) the namespaces are removed before dying: fork, execv and
 * waitpid are async-signal-safe, and the command line was built before. */
static char *netns_down_argv[5];

static void netns_down_on_signal(int sig) {
  if (netns_up) {
    pid_t pid = fork();
    if (pid == 0) {
      execv("/bin/sh", netns_down_argv);
      _exit(127);
    }
    if (pid > 0)
      waitpid(pid, NULL, 0);
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

static void netns_down(void) {
  char cmd[4200];
  if (!netns_up)
    return;
  netns_up = 0;
  snprintf(cmd, sizeof cmd, "sh '%s' down '%s'", netns_script, netns_tag);
  if (system(cmd) != 0)
    printf("netns.sh down failed\n");
}

/* Moves this process into namespace fuv<tag><which>; 0 or -errno. */
static int enter_netns(char which) {
  char path[128];
  int fd, r = 0;
  snprintf(path, sizeof path, "/run/netns/fuv%s%c", netns_tag, which);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  if (setns(fd, CLONE_NEWNET) != 0)
    r = -errno;
  close(fd);
  return r;
}

/* -- the user-space netem: used where the kernel has no sch_netem -------- */

/* One direction of the relay: a FIFO of packets, each held DELAY_MS. */
#define RELAY_SLOTS 4096
typedef struct {
  char *data[RELAY_SLOTS];
  size_t len[RELAY_SLOTS];
  double due[RELAY_SLOTS];
  unsigned head, tail; /* head == tail: empty */
} relay_dir_t;

static int tun_attach(const char *name) {
  struct ifreq ifr;
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return -1;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Reads every waiting packet from `from` into `dir`, losing LOSS_PERCENT
 * of them (a fixed-seed generator, so runs are comparable). */
static void relay_take(int from, relay_dir_t *dir, uint64_t *rng,
                       uint64_t *lost, uint64_t *passed) {
  static char buf[70000];
  for (;;) {
    ssize_t n = read(from, buf, sizeof buf);
    if (n <= 0)
      return;
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    if (*rng % 100 < LOSS_PERCENT || dir->tail - dir->head == RELAY_SLOTS) {
      (*lost)++;
      continue;
    }
    (*passed)++;
    unsigned slot = dir->tail++ % RELAY_SLOTS;
    dir->data[slot] = realloc(dir->data[slot], (size_t)n);
    memcpy(dir->data[slot], buf, (size_t)n);
    dir->len[slot] = (size_t)n;
    dir->due[slot] = stress_now() + DELAY_MS / 1000.0;
  }
}

/* Writes the packets whose delay is over; returns ms until the next one. */
static int relay_give(int to, relay_dir_t *dir) {
  double now = stress_now();
  while (dir->head != dir->tail) {
    unsigned slot = dir->head % RELAY_SLOTS;
    if (dir->due[slot] > now)
      return (int)((dir->due[slot] - now) * 1000) + 1;
    if (write(to, dir->data[slot], dir->len[slot]) < 0 && errno == EAGAIN)
      return 1;
    dir->head++;
  }
  return -1;
}

static volatile sig_atomic_t relay_stop;

static void relay_on_term(int sig) {
  (void)sig;
  relay_stop = 1;
}

/* Relays packets between the two tun devices until SIGTERM, then writes
 * how many it passed and lost to ready_fd. */
static void relay_child(int ready_fd) {
  relay_dir_t *ab = calloc(1, sizeof *ab), *ba = calloc(1, sizeof *ba);
  uint64_t rng = 0x9e3779b97f4a7c15ULL, lost = 0, passed = 0;
  char name[IFNAMSIZ];
  int fa = -1, fb = -1;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  signal(SIGTERM, relay_on_term);
  snprintf(name, sizeof name, "fuv%sa1", netns_tag);
  if (enter_netns('a') == 0)
    fa = tun_attach(name);
  snprintf(name, sizeof name, "fuv%sb1", netns_tag);
  if (enter_netns('b') == 0)
    fb = tun_attach(name);
  if (write(ready_fd, fa >= 0 && fb >= 0 ? "1" : "0", 1) != 1 || fa < 0 ||
      fb < 0)
    _exit(1);
  while (!relay_stop) {
    struct pollfd p[2] = {{fa, POLLIN, 0}, {fb, POLLIN, 0}};
    int t1 = relay_give(fb, ab), t2 = relay_give(fa, ba);
    int timeout = t1 < 0 ? t2 : t2 < 0 ? t1 : t1 < t2 ? t1 : t2;
    if (poll(p, 2, timeout) < 0 && errno != EINTR)
      _exit(1);
    relay_take(fa, ab, &rng, &lost, &passed);
    relay_take(fb, ba, &rng, &lost, &passed);
  }
  {
    uint64_t stats[2] = {passed, lost};
    _exit(write(ready_fd, stats, sizeof stats) == (ssize_t)sizeof stats ? 0
                                                                        : 1);
  }
}

/* -- the receiving end, in namespace b ---------------------------------- */

typedef struct {
  uint64_t bytes, hash;
} lossy_result_t;

static struct {
  fuv_loop_t *loop;
  lossy_result_t result;
  int errors;
} lb;

static void lb_on_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                       void *arg) {
  (void)arg;
  if (nread < 0) {
    if (nread != FUV_EOF)
      lb.errors++;
    /* Answer with what arrived, then finish. */
    if (nread != FUV_EOF ||
        fuv_write(s, (const char *)&lb.result, sizeof lb.result, NULL,
                  NULL) != 0 ||
        fuv_shutdown(s, NULL, NULL) != 0)
      fuv_close((fuv_handle_t *)s, NULL, NULL);
    return;
  }
  lb.result.bytes += (uint64_t)nread;
  lb.result.hash = stress_fnv1a(lb.result.hash, buf, (size_t)nread);
}

static void lb_on_connection(fuv_stream_t *server, int status, void *arg) {
  fuv_tcp_t *conn;
  (void)arg;
  if (status == 0 && fuv_accept(server, &conn) == 0)
    fuv_read_start((fuv_stream_t *)conn, lb_on_read, NULL);
  fuv_close((fuv_handle_t *)server, NULL, NULL);
}

static void lossy_server_child(int report_fd) {
  fuv_tcp_t *listener;
  int port = 0, r;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  lb.result.hash = STRESS_FNV_INIT;
  r = enter_netns('b');
  if (r == 0)
    r = fuv_loop_new(&lb.loop);
  if (r == 0)
    r = fuv_tcp_new(&listener, lb.loop);
  if (r == 0)
    r = fuv_tcp_bind(listener, "10.77.1.2", 0, 0);
  if (r == 0)
    r = fuv_listen((fuv_stream_t *)listener, 8, lb_on_connection, NULL);
  if (r == 0)
    r = fuv_tcp_getsockname(listener, (char[FUV_IP_NAME_MAX]){0},
                            FUV_IP_NAME_MAX, &port);
  if (write(report_fd, &port, sizeof port) != (ssize_t)sizeof port || r != 0)
    _exit(1);
  stress_run(lb.loop, LOSSY_TIMEOUT_MS + 10000);
  _exit(stress_free_loop(lb.loop) == 0 && lb.errors == 0 ? 0 : 1);
}

/* -- the sending end, in namespace a ------------------------------------ */

static struct {
  fuv_loop_t *loop;
  uint64_t sent, hash;
  lossy_result_t reply;
  size_t reply_got;
  int errors, eof, connect_status, shut;
  double t_connected;
} la;

static void la_produce(fuv_stream_t *s) {
  static char chunk[LOSSY_CHUNK];
  while (la.sent < LOSSY_BYTES && !fuv_stream_is_congested(s)) {
    stress_fill_pattern(13, la.sent, chunk, LOSSY_CHUNK);
    la.hash = stress_fnv1a(la.hash, chunk, LOSSY_CHUNK);
    int r = fuv_write(s, chunk, LOSSY_CHUNK, NULL, NULL);
    if (r != 0) {
      printf("lossy write at %llu: %s\n", (unsigned long long)la.sent,
             fuv_err_name(r));
      la.errors++;
      return;
    }
    la.sent += LOSSY_CHUNK;
  }
  if (la.sent == LOSSY_BYTES && !la.shut) {
    /* Once: a drain callback may still come after the last write. */
    int r = fuv_shutdown(s, NULL, NULL);
    la.shut = 1;
    if (r != 0) {
      printf("lossy shutdown: %s\n", fuv_err_name(r));
      la.errors++;
    }
  }
}

static void la_on_drain(fuv_stream_t *s, void *arg) {
  (void)arg;
  la_produce(s);
}

static void la_on_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                       void *arg) {
  (void)arg;
  if (nread < 0) {
    la.eof = nread == FUV_EOF;
    fuv_close((fuv_handle_t *)s, NULL, NULL);
    fuv_stop(la.loop);
    return;
  }
  for (ssize_t i = 0; i < nread; i++)
    if (la.reply_got < sizeof la.reply)
      ((char *)&la.reply)[la.reply_got++] = buf[i];
    else if (la.errors++ == 0)
      printf("lossy: more than the %zu-byte reply\n", sizeof la.reply);
}

static void la_on_connect(fuv_tcp_t *tcp, int status, void *arg) {
  fuv_stream_t *s = (fuv_stream_t *)tcp;
  (void)arg;
  la.connect_status = status;
  la.t_connected = stress_now();
  if (status != 0) {
    fuv_close((fuv_handle_t *)tcp, NULL, NULL);
    fuv_stop(la.loop);
    return;
  }
  fuv_stream_set_water_marks(s, 4 * MIB, MIB, la_on_drain, NULL);
  fuv_read_start(s, la_on_read, NULL);
  la_produce(s);
}

/* -- connects to the namespace that drops SYNs --------------------------- */

static struct {
  int connect_calls, connect_status, outcome, state_at_timeout;
} syn;

static void syn_on_connect(fuv_tcp_t *tcp, int status, void *arg) {
  (void)tcp;
  (void)arg;
  syn.connect_calls++;
  syn.connect_status = status;
  if (syn.outcome == 0)
    syn.outcome = status; /* answered before the deadline */
}

static void syn_on_deadline(fuv_timer_t *t, void *arg) {
  fuv_tcp_t *tcp = arg;
  if (syn.outcome == 0) {
    /* The application's connect timeout: give up the attempt. */
    syn.outcome = FUV_ETIMEDOUT;
    syn.state_at_timeout = fuv_tcp_state(tcp);
    fuv_close((fuv_handle_t *)tcp, NULL, NULL);
  }
  fuv_close((fuv_handle_t *)t, NULL, NULL);
}

static void syn_timeouts(void) {
  fuv_loop_t *loop;
  fuv_tcp_t *tcp;
  fuv_timer_t *deadline;
  double t0, dt;
  int r;

  fuv_loop_new(&loop);
  fuv_tcp_new(&tcp, loop);
  t0 = stress_now();
  r = fuv_tcp_connect_sync(tcp, "10.77.2.2", 5001, SYN_TIMEOUT_MS);
  dt = stress_now() - t0;
  printf("connect_sync to 10.77.2.2 (SYNs dropped), timeout %d ms: %s "
         "after %.3f s\n", SYN_TIMEOUT_MS, fuv_err_name(r), dt);
  STRESS_CHECK(r == FUV_ETIMEDOUT, "connect_sync returned %s",
               fuv_err_name(r));
  STRESS_CHECK(dt >= SYN_TIMEOUT_MS / 1000.0 - 0.05 &&
                   dt < SYN_TIMEOUT_MS / 1000.0 + 1.0,
               "took %.3f s", dt);
  fuv_close((fuv_handle_t *)tcp, NULL, NULL);

  memset(&syn, 0, sizeof syn);
  /* connect_sync blocked without the loop: refresh its cached time, or
   * the timer below would count from before the blocking call. */
  fuv_update_time(loop);
  fuv_tcp_new(&tcp, loop);
  fuv_timer_new(&deadline, loop);
  t0 = stress_now();
  r = fuv_tcp_connect(tcp, "10.77.2.2", 5001, syn_on_connect, NULL);
  if (r == 0)
    r = fuv_timer_start(deadline, syn_on_deadline, SYN_TIMEOUT_MS, 0, tcp);
  STRESS_CHECK(r == 0, "async connect: %s", fuv_err_name(r));
  stress_run(loop, 10000);
  dt = stress_now() - t0;
  printf("async connect with a %d ms timer: %s after %.3f s (TCP state "
         "%s), then the connect callback got %s on close\n",
         SYN_TIMEOUT_MS, fuv_err_name(syn.outcome), dt,
         fuv_tcp_state_name(syn.state_at_timeout),
         fuv_err_name(syn.connect_status));
  STRESS_CHECK(syn.outcome == FUV_ETIMEDOUT, "outcome %s",
               fuv_err_name(syn.outcome));
  STRESS_CHECK(dt >= SYN_TIMEOUT_MS / 1000.0 - 0.05 &&
                   dt < SYN_TIMEOUT_MS / 1000.0 + 1.0,
               "took %.3f s", dt);
  STRESS_CHECK(syn.state_at_timeout == FUV_TCP_SYN_SENT, "state %s",
               fuv_tcp_state_name(syn.state_at_timeout));
  STRESS_CHECK(syn.connect_calls == 1 && syn.connect_status == FUV_ECANCELED,
               "connect cb %d times, %s", syn.connect_calls,
               fuv_err_name(syn.connect_status));
  r = stress_free_loop(loop);
  STRESS_CHECK(r == 0, "loop free: %s", fuv_err_name(r));
}

static void case_lossy_link(const char *dir) {
  char cmd[4200];
  const char *tag = getenv("FUV_NETNS_TAG");
  int status, r, orig_ns, port = 0, ready_pipe[2], report_pipe[2];
  int relay = 0, server_status = 0, timed_out;
  pid_t relay_pid = -1, server_pid;
  char ready = '0';
  double t0, dt;
  fuv_tcp_t *tcp;

  printf("-- (e) lossy link in network namespaces\n");
  if (geteuid() != 0) {
    stress_skip("(e) lossy link: not root, so no network namespaces");
    return;
  }
  char pid_tag[32];
  snprintf(pid_tag, sizeof pid_tag, "%d", (int)getpid());
  snprintf(netns_tag, sizeof netns_tag, "%.8s",
           tag != NULL && *tag ? tag : pid_tag);
  snprintf(netns_script, sizeof netns_script, "%s/netns.sh", dir);
  snprintf(cmd, sizeof cmd, "sh '%s' up '%s'", netns_script, netns_tag);
  netns_down_argv[0] = "sh";
  netns_down_argv[1] = netns_script;
  netns_down_argv[2] = "down";
  netns_down_argv[3] = netns_tag;
  netns_up = 1;
  atexit(netns_down);
  signal(SIGALRM, netns_down_on_signal);
  signal(SIGTERM, netns_down_on_signal);
  signal(SIGINT, netns_down_on_signal);
  signal(SIGHUP, netns_down_on_signal);
  fflush(stdout);
  status = system(cmd);
  if (!WIFEXITED(status) || WEXITSTATUS(status) == 77) {
    stress_skip("(e) lossy link: the machine refuses network namespaces "
                "(ip netns add failed)");
    netns_down();
    return;
  }
  STRESS_CHECK(WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 10,
               "netns.sh up failed with %d", WEXITSTATUS(status));
  if (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 10) {
    netns_down();
    return;
  }
  relay = WEXITSTATUS(status) == 10;
  printf("link a <-> b: %d%% loss and %d ms delay each way, MTU 65000, %s\n",
         LOSS_PERCENT, DELAY_MS,
         relay ? "emulated by a user-space relay between two tun devices "
                 "(this kernel has no sch_netem)"
               : "tc netem on a veth pair");

  if (pipe(ready_pipe) != 0 || pipe(report_pipe) != 0)
    return;
  fflush(stdout);
  if (relay) {
    relay_pid = fork();
    if (relay_pid == 0)
      relay_child(ready_pipe[1]);
    if (read(ready_pipe[0], &ready, 1) != 1)
      ready = '0';
    STRESS_CHECK(ready == '1', "the relay attached to both tun devices");
  }
  server_pid = fork();
  if (server_pid == 0)
    lossy_server_child(report_pipe[1]);
  if (read(report_pipe[0], &port, sizeof port) != (ssize_t)sizeof port)
    port = 0;
  STRESS_CHECK(port > 0, "the receiver listens in namespace b");

  orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  r = enter_netns('a');
  STRESS_CHECK(r == 0, "setns a: %s", strerror(-r));
  if (port > 0 && r == 0 && (!relay || ready == '1')) {
    memset(&la, 0, sizeof la);
    la.hash = STRESS_FNV_INIT;
    la.connect_status = 1;
    fuv_loop_new(&la.loop);
    fuv_tcp_new(&tcp, la.loop);
    t0 = stress_now();
    r = fuv_tcp_connect(tcp, "10.77.1.2", port, la_on_connect, NULL);
    timed_out = r != 0 || stress_run(la.loop, LOSSY_TIMEOUT_MS);
    dt = stress_now() - t0;
    printf("%llu MiB across the lossy link: %s in %.1f s (%.2f MiB/s); "
           "receiver got %llu bytes, fnv1a64 sent %016llx received %016llx\n",
           (unsigned long long)(LOSSY_BYTES / MIB),
           timed_out ? "NOT finished" : "done", dt, la.sent / dt / MIB,
           (unsigned long long)la.reply.bytes, (unsigned long long)la.hash,
           (unsigned long long)la.reply.hash);
    printf("connect took %.3f s (one round trip: the delay is in the "
           "path)\n", la.t_connected - t0);
    STRESS_CHECK(la.connect_status == 0, "connect: %s",
                 fuv_err_name(la.connect_status));
    STRESS_CHECK(la.t_connected - t0 >= 2 * DELAY_MS * 0.9 / 1000,
                 "connect took %.3f s, less than the round trip",
                 la.t_connected - t0);
    STRESS_CHECK(!timed_out, "finished within %d s", LOSSY_TIMEOUT_MS / 1000);
    STRESS_CHECK(la.sent == LOSSY_BYTES && la.reply_got == sizeof la.reply &&
                     la.reply.bytes == LOSSY_BYTES,
                 "sent %llu, receiver got %llu",
                 (unsigned long long)la.sent,
                 (unsigned long long)la.reply.bytes);
    STRESS_CHECK(la.reply.hash == la.hash, "checksums differ");
    STRESS_CHECK(la.eof && la.errors == 0, "eof %d errors %d", la.eof,
                 la.errors);
    r = stress_free_loop(la.loop);
    STRESS_CHECK(r == 0, "loop free: %s", fuv_err_name(r));
    syn_timeouts();
  }
  if (setns(orig_ns, CLONE_NEWNET) != 0)
    STRESS_CHECK(0, "back to the original namespace: %s", strerror(errno));
  close(orig_ns);
  if (waitpid(server_pid, &server_status, WNOHANG) == 0) {
    kill(server_pid, SIGKILL);
    waitpid(server_pid, &server_status, 0);
  }
  STRESS_CHECK(WIFEXITED(server_status) && WEXITSTATUS(server_status) == 0,
               "receiver status %d", server_status);
  if (relay_pid > 0) {
    uint64_t stats[2] = {0, 0};
    struct pollfd p = {ready_pipe[0], POLLIN, 0};
    kill(relay_pid, SIGTERM);
    if (poll(&p, 1, 5000) == 1 &&
        read(ready_pipe[0], stats, sizeof stats) == (ssize_t)sizeof stats)
      printf("relay: %llu packets passed, %llu lost (%.1f%%)\n",
             (unsigned long long)stats[0], (unsigned long long)stats[1],
             100.0 * (double)stats[1] / (double)(stats[0] + stats[1] + !stats[0]));
    else
      kill(relay_pid, SIGKILL);
    waitpid(relay_pid, NULL, 0);
  }
  close(ready_pipe[0]);
  close(ready_pipe[1]);
  close(report_pipe[0]);
  close(report_pipe[1]);
  netns_down();
}

int main(int argc, char **argv) {
  char self[4096];
  const char *dir;
  snprintf(self, sizeof self, "%s", argv[0]);
  dir = argc > 1 ? argv[1] : dirname(self);
  signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill the program: fail loud */
  alarm(240);               /* no case may hang the run */
  case_emfile();
  case_reset();
  case_half_close();
  case_stops_reading();
  case_lossy_link(dir);
  return stress_summary("faults");
}
