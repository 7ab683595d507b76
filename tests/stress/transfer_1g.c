/*
 * transfer_1g: 1 GiB through one TCP connection and back. The client (this
 * process) writes a known pattern, pausing on the high-water mark and
 * resuming from the drain callback; the echo server (a forked child, so
 * both ends get a core) echoes with the same backpressure. Each end hashes
 * the stream it saw with FNV-1a: the client what it sent and what came
 * back, the server what it received (reported through a pipe). All three
 * must agree, and the echoed bytes are also compared with the pattern.
 */
#include "stress.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOTAL (1024ULL * 1024 * 1024)
#define CHUNK (256 * 1024)
#define HIGH_WATER (4 * 1024 * 1024)
#define LOW_WATER (1024 * 1024)
#define SEED 42

typedef struct {
  uint64_t bytes, hash;
  int errors;
} report_t;

static fuv_loop_t *loop;

/* ---- the echo server (child) ---------------------------------------------- */

static report_t server;

static void on_server_drain(fuv_stream_t *s, void *arg);

static void on_server_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                           void *arg) {
  (void)arg;
  if (nread < 0) {
    if (nread != FUV_EOF)
      server.errors++;
    /* Everything is echoed once the queued writes go out, then FIN. */
    if (fuv_shutdown(s, NULL, NULL) != 0)
      fuv_close((fuv_handle_t *)s, NULL, NULL);
    return;
  }
  server.bytes += (uint64_t)nread;
  server.hash = stress_fnv1a(server.hash, buf, (size_t)nread);
  if (fuv_write(s, buf, (size_t)nread, NULL, NULL) != 0)
    server.errors++;
  if (fuv_stream_is_congested(s))
    fuv_read_stop(s);
}

static void on_server_drain(fuv_stream_t *s, void *arg) {
  (void)arg;
  if (fuv_is_readable(s))
    fuv_read_start(s, on_server_read, NULL);
}

static void on_connection(fuv_stream_t *listener, int status, void *arg) {
  fuv_tcp_t *conn;
  (void)arg;
  if (status != 0 || fuv_accept(listener, &conn) != 0) {
    server.errors++;
    return;
  }
  fuv_stream_set_water_marks((fuv_stream_t *)conn, HIGH_WATER, LOW_WATER,
                             on_server_drain, NULL);
  fuv_read_start((fuv_stream_t *)conn, on_server_read, NULL);
  /* One connection only. */
  fuv_close((fuv_handle_t *)listener, NULL, NULL);
}

static int run_server(int report_fd) {
  fuv_tcp_t *listener;
  int port = 0, r;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  server.hash = STRESS_FNV_INIT;
  fuv_loop_new(&loop);
  fuv_tcp_new(&listener, loop);
  r = fuv_tcp_bind(listener, "127.0.0.1", 0, 0);
  if (r == 0)
    r = fuv_listen((fuv_stream_t *)listener, 8, on_connection, NULL);
  if (r == 0)
    fuv_tcp_getsockname(listener, (char[FUV_IP_NAME_MAX]){0},
                        FUV_IP_NAME_MAX, &port);
  if (write(report_fd, &port, sizeof port) != (ssize_t)sizeof port)
    return 1;
  if (r == 0 && stress_run(loop, 600000))
    server.errors++;
  if (write(report_fd, &server, sizeof server) != (ssize_t)sizeof server)
    return 1;
  return stress_free_loop(loop) == 0 ? 0 : 1;
}

/* ---- the client ------------------------------------------------------------ */

static uint64_t sent, sent_hash = STRESS_FNV_INIT;
static uint64_t echoed, echoed_hash = STRESS_FNV_INIT;
static uint64_t first_mismatch = UINT64_MAX;
static int client_errors, got_eof, congestions, shut;
static size_t max_queue;
static char chunk[CHUNK];

static void on_client_write(fuv_stream_t *s, int status, void *arg) {
  (void)s;
  (void)arg;
  if (status != 0 && client_errors++ < 5)
    printf("write: %s\n", fuv_err_name(status));
}

/* Writes until the stream is congested or everything is offered. */
static void produce(fuv_stream_t *s) {
  while (sent < TOTAL && !fuv_stream_is_congested(s)) {
    size_t n = TOTAL - sent < CHUNK ? (size_t)(TOTAL - sent) : CHUNK;
    size_t q;
    stress_fill_pattern(SEED, sent, chunk, n);
    sent_hash = stress_fnv1a(sent_hash, chunk, n);
    if (fuv_write(s, chunk, n, on_client_write, NULL) != 0) {
      client_errors++;
      return;
    }
    sent += n;
    q = fuv_write_queue_size(s);
    if (q > max_queue)
      max_queue = q;
  }
  if (sent < TOTAL) {
    congestions++;
  } else if (!shut) {
    /* Once: a drain callback may still come after the last write. */
    shut = 1;
    if (fuv_shutdown(s, NULL, NULL) != 0)
      client_errors++;
  }
}

static void on_client_drain(fuv_stream_t *s, void *arg) {
  (void)arg;
  produce(s);
}

static void on_client_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                           void *arg) {
  (void)arg;
  if (nread < 0) {
    got_eof = nread == FUV_EOF;
    fuv_close((fuv_handle_t *)s, NULL, NULL);
    return;
  }
  if (first_mismatch == UINT64_MAX) {
    size_t at = stress_match_pattern(SEED, echoed, buf, (size_t)nread);
    if (at != (size_t)nread)
      first_mismatch = echoed + at;
  }
  echoed += (uint64_t)nread;
  echoed_hash = stress_fnv1a(echoed_hash, buf, (size_t)nread);
}

static void on_connect(fuv_tcp_t *tcp, int status, void *arg) {
  fuv_stream_t *s = (fuv_stream_t *)tcp;
  (void)arg;
  if (status != 0) {
    printf("connect: %s\n", fuv_err_name(status));
    client_errors++;
    fuv_close((fuv_handle_t *)tcp, NULL, NULL);
    return;
  }
  fuv_stream_set_water_marks(s, HIGH_WATER, LOW_WATER, on_client_drain, NULL);
  fuv_read_start(s, on_client_read, NULL);
  produce(s);
}

int main(void) {
  int port = 0, r, timed_out;
  double t0, dt, cpu0;
  report_t peer;
  fuv_tcp_t *tcp;
  stress_child_t child;

  r = stress_child_start(&child, run_server, &port, sizeof port, 10000);
  STRESS_CHECK(r == 0 && port > 0, "the server child listens");
  if (r != 0 || port <= 0) {
    stress_child_kill(&child);
    return stress_summary("transfer_1g");
  }

  fuv_loop_new(&loop);
  fuv_tcp_new(&tcp, loop);
  t0 = stress_now();
  cpu0 = stress_cpu_seconds();
  r = fuv_tcp_connect(tcp, "127.0.0.1", port, on_connect, NULL);
  STRESS_CHECK(r == 0, "connect: %s", fuv_err_name(r));
  timed_out = stress_run(loop, 300000);
  dt = stress_now() - t0;
  STRESS_CHECK(!timed_out, "the transfer finished within 300 s (%llu sent, "
               "%llu echoed)", (unsigned long long)sent,
               (unsigned long long)echoed);

  r = stress_child_finish(&child, &peer, sizeof peer, 60000);

  printf("sent %llu bytes, server received %llu, echoed back %llu\n",
         (unsigned long long)sent, (unsigned long long)peer.bytes,
         (unsigned long long)echoed);
  printf("fnv1a64: sent %016llx, server %016llx, echoed %016llx\n",
         (unsigned long long)sent_hash, (unsigned long long)peer.hash,
         (unsigned long long)echoed_hash);
  printf("time %.2f s: %.0f MiB/s each way (%.0f MiB/s through the client "
         "loop), client CPU %.2f s; max write queue %zu bytes, %d pauses "
         "on the high-water mark\n",
         dt, TOTAL / dt / 1048576.0, 2 * TOTAL / dt / 1048576.0,
         stress_cpu_seconds() - cpu0, max_queue, congestions);
  STRESS_CHECK(sent == TOTAL && peer.bytes == TOTAL && echoed == TOTAL,
               "byte counts");
  STRESS_CHECK(sent_hash == peer.hash, "server checksum differs");
  STRESS_CHECK(sent_hash == echoed_hash, "echo checksum differs");
  STRESS_CHECK(first_mismatch == UINT64_MAX, "echo differs at byte %llu",
               (unsigned long long)first_mismatch);
  STRESS_CHECK(got_eof, "the echo ended with EOF");
  STRESS_CHECK(client_errors == 0 && peer.errors == 0,
               "errors: client %d, server %d", client_errors, peer.errors);
  STRESS_CHECK(max_queue < HIGH_WATER + CHUNK,
               "write queue reached %zu", max_queue);
  r = stress_free_loop(loop);
  STRESS_CHECK(r == 0, "loop free: %s", fuv_err_name(r));
  return stress_summary("transfer_1g");
}
