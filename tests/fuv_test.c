#include "fuv_test.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const char *const fuv_test_loopback[FUV_TEST_NFAMILIES] = {"127.0.0.1", "::1"};

static void on_watchdog(fuv_timer_t *timer, void *arg) {
  uint64_t *timeout_ms = arg;
  (void)timer;
  ck_abort_msg("the loop was still running after %llu ms",
               (unsigned long long)*timeout_ms);
}

void fuv_test_run(fuv_loop_t *loop, uint64_t timeout_ms) {
  fuv_timer_t *watchdog;
  FUV_ASSERT_OK(fuv_timer_new(&watchdog, loop));
  FUV_ASSERT_OK(fuv_timer_start(watchdog, on_watchdog, timeout_ms, 0,
                                &timeout_ms));
  /* Unreferenced, so it never keeps the loop alive by itself. */
  FUV_ASSERT_OK(fuv_unref((fuv_handle_t *)watchdog));
  int r = fuv_run(loop, FUV_RUN_DEFAULT);
  ck_assert_int_ge(r, 0);
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)watchdog, NULL, NULL));
  /* Let the watchdog's close finish without blocking. */
  fuv_run(loop, FUV_RUN_NOWAIT);
}

static void close_each(fuv_handle_t *handle, void *arg) {
  (void)arg;
  FUV_ASSERT_OK(fuv_close(handle, NULL, NULL));
}

void fuv_test_free_loop(fuv_loop_t *loop) {
  FUV_ASSERT_OK(fuv_walk(loop, close_each, NULL));
  for (int i = 0; i < 100 && fuv_loop_alive(loop); i++)
    fuv_run(loop, FUV_RUN_NOWAIT);
  FUV_ASSERT_OK(fuv_loop_free(loop));
}

fuv_tcp_t *fuv_test_listener(fuv_loop_t *loop, const char *ip, int *port,
                             fuv_connection_cb cb, void *arg) {
  fuv_tcp_t *server;
  char name[FUV_IP_NAME_MAX];
  FUV_ASSERT_OK(fuv_tcp_new(&server, loop));
  FUV_ASSERT_OK(fuv_tcp_bind(server, ip, 0, 0));
  FUV_ASSERT_OK(fuv_listen((fuv_stream_t *)server, 128, cb, arg));
  FUV_ASSERT_OK(fuv_tcp_getsockname(server, name, sizeof name, port));
  ck_assert_int_gt(*port, 0);
  return server;
}

struct pair_state {
  fuv_tcp_t *server_side;
  int connected;
};

static void pair_on_connection(fuv_stream_t *server, int status, void *arg) {
  struct pair_state *st = arg;
  FUV_ASSERT_OK(status);
  FUV_ASSERT_OK(fuv_accept(server, &st->server_side));
}

static void pair_on_connect(fuv_tcp_t *tcp, int status, void *arg) {
  struct pair_state *st = arg;
  (void)tcp;
  FUV_ASSERT_OK(status);
  st->connected = 1;
}

void fuv_test_tcp_pair(fuv_loop_t *loop, const char *ip, fuv_tcp_t **client,
                       fuv_tcp_t **server_side) {
  struct pair_state st = {NULL, 0};
  int port;
  fuv_tcp_t *server = fuv_test_listener(loop, ip, &port, pair_on_connection, &st);
  FUV_ASSERT_OK(fuv_tcp_new(client, loop));
  FUV_ASSERT_OK(fuv_tcp_connect(*client, ip, port, pair_on_connect, &st));
  for (int i = 0; i < 1000 && !(st.connected && st.server_side); i++)
    fuv_run(loop, FUV_RUN_ONCE);
  ck_assert(st.connected);
  ck_assert_ptr_nonnull(st.server_side);
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)server, NULL, NULL));
  *server_side = st.server_side;
}

void fuv_test_set_flag(fuv_timer_t *timer, void *arg) {
  (void)timer;
  *(int *)arg = 1;
}

void fuv_test_run_until(fuv_loop_t *loop, const int *counter, int target,
                        uint64_t timeout_ms) {
  fuv_timer_t *watchdog;
  int expired = 0;
  FUV_ASSERT_OK(fuv_timer_new(&watchdog, loop));
  FUV_ASSERT_OK(fuv_timer_start(watchdog, fuv_test_set_flag, timeout_ms, 0,
                                &expired));
  while (*counter < target && !expired)
    ck_assert_int_ge(fuv_run(loop, FUV_RUN_ONCE), 0);
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)watchdog, NULL, NULL));
  ck_assert_msg(*counter >= target, "waited %llu ms for %d events, saw %d",
                (unsigned long long)timeout_ms, target, *counter);
}

uint64_t fuv_test_iterations_while_idle(fuv_loop_t *loop, uint64_t ms) {
  fuv_timer_t *timer;
  int fired = 0;
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_timer_start(timer, fuv_test_set_flag, ms, 0, &fired));
  uint64_t before = fuv_metrics_loop_count(loop);
  for (long i = 0; !fired; i++) {
    ck_assert_msg(i < 1000000, "the loop spun a million times in %llu ms",
                  (unsigned long long)ms);
    ck_assert_int_ge(fuv_run(loop, FUV_RUN_ONCE), 0);
  }
  uint64_t iterations = fuv_metrics_loop_count(loop) - before;
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)timer, NULL, NULL));
  return iterations;
}

unsigned char fuv_test_pattern_byte(uint64_t offset) {
  return (unsigned char)((offset * UINT64_C(0x9E3779B97F4A7C15)) >> 56);
}

void fuv_test_fill_pattern(char *buf, size_t len, uint64_t offset) {
  for (size_t i = 0; i < len; i++)
    buf[i] = (char)fuv_test_pattern_byte(offset + i);
}

void fuv_test_count_close(fuv_handle_t *handle, void *arg) {
  (void)handle;
  (*(int *)arg)++;
}

int fuv_test_main(Suite *(*make_suite)(void)) {
  /* A last resort against a hang that escapes the per-test watchdogs. */
  alarm(600);
  SRunner *runner = srunner_create(make_suite());
  srunner_run_all(runner, CK_NORMAL);
  int failed = srunner_ntests_failed(runner);
  srunner_free(runner);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ---- UDP ---------------------------------------------------------------- */

int fuv_test_skip_ipv6(const char *ip, const char *test) {
  struct sockaddr_in6 sa;
  if (strchr(ip, ':') == NULL)
    return 0;
  int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  int ok = fd >= 0;
  if (ok) {
    ck_assert_int_eq(fuv_ip6_addr("::1", 0, &sa), 0);
    ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
  }
  int err = errno;
  if (fd >= 0)
    close(fd);
  if (ok)
    return 0;
  printf("SKIPPED %s over IPv6: ::1 cannot be bound here (%s)\n", test,
         strerror(err));
  fflush(stdout);
  return 1;
}

fuv_udp_t *fuv_test_udp_bound(fuv_loop_t *loop, const char *ip,
                              unsigned int flags, int *port) {
  fuv_udp_t *udp;
  char name[FUV_IP_NAME_MAX];
  FUV_ASSERT_OK(fuv_udp_new(&udp, loop));
  FUV_ASSERT_OK(fuv_udp_bind(udp, ip, 0, flags));
  FUV_ASSERT_OK(fuv_udp_getsockname(udp, name, sizeof name, port));
  ck_assert_int_gt(*port, 0);
  return udp;
}

fuv_udp_t *fuv_test_udp_receiver(fuv_loop_t *loop, const char *ip, int mmsg,
                                 int *port) {
  fuv_udp_t *udp;
  if (!mmsg)
    return fuv_test_udp_bound(loop, ip, 0, port);
  FUV_ASSERT_OK(fuv_udp_new_ex(&udp, loop,
                               strchr(ip, ':') ? FUV_AF_INET6 : FUV_AF_INET,
                               FUV_UDP_RECVMMSG));
  ck_assert_int_eq(fuv_udp_using_recvmmsg(udp), 1);
  FUV_ASSERT_OK(fuv_udp_bind(udp, ip, 0, 0));
  *port = fuv_test_udp_port(udp);
  return udp;
}

void fuv_test_record_dgram(fuv_udp_t *udp, ssize_t nread, const char *buf,
                           const struct sockaddr *addr, unsigned int flags,
                           void *arg) {
  struct fuv_test_dgrams *dg = arg;
  struct fuv_test_dgram *d;
  (void)udp;
  if (dg->count == dg->capacity) {
    int capacity = dg->capacity ? dg->capacity * 2 : 64;
    struct fuv_test_dgram *grown =
        realloc(dg->d, (size_t)capacity * sizeof *grown);
    ck_assert_ptr_nonnull(grown);
    dg->d = grown;
    dg->capacity = capacity;
  }
  d = &dg->d[dg->count++];
  memset(d, 0, sizeof *d);
  d->nread = nread;
  d->flags = flags;
  if (nread < 0) {
    dg->errors++;
    dg->last_error = (int)nread;
    ck_assert_ptr_null(buf);
    ck_assert_ptr_null(addr);
    return;
  }
  ck_assert_ptr_nonnull(addr);
  d->has_addr = 1;
  FUV_ASSERT_OK(fuv_sockaddr_ip(addr, d->ip, sizeof d->ip, &d->port));
  if (nread > 0) {
    ck_assert_ptr_nonnull(buf);
    d->data = malloc((size_t)nread);
    ck_assert_ptr_nonnull(d->data);
    memcpy(d->data, buf, (size_t)nread);
  }
}

void fuv_test_dgrams_free(struct fuv_test_dgrams *dg) {
  for (int i = 0; i < dg->count; i++)
    free(dg->d[i].data);
  free(dg->d);
  memset(dg, 0, sizeof *dg);
}

void fuv_test_assert_dgram(const struct fuv_test_dgrams *dg, int i,
                           const char *data, size_t len) {
  ck_assert_msg(i < dg->count, "datagram %d of %d", i, dg->count);
  ck_assert_msg(dg->d[i].nread == (ssize_t)len,
                "datagram %d: nread %zd, wanted %zu", i, dg->d[i].nread, len);
  ck_assert_msg(len == 0 || memcmp(dg->d[i].data, data, len) == 0,
                "datagram %d has the wrong bytes", i);
  ck_assert_msg((dg->d[i].flags & FUV_UDP_PARTIAL) == 0,
                "datagram %d is flagged PARTIAL", i);
}

void fuv_test_record_meta(fuv_udp_t *udp, ssize_t nread, const char *buf,
                          const struct sockaddr *addr, unsigned int flags,
                          void *arg) {
  struct fuv_test_meta *m = arg;
  char small[2];
  int small_port;
  (void)flags;
  ck_assert_int_ge(nread, 0);
  ck_assert_ptr_nonnull(addr);
  ck_assert_int_lt(m->count, FUV_TEST_META_MAX);
  int i = m->count++;
  size_t keep = nread < 31 ? (size_t)nread : 31;
  m->nread[i] = nread;
  memcpy(m->data[i], buf, keep);
  m->data[i][keep] = '\0';
  m->dest_err[i] = fuv_udp_recv_dest(udp, m->dest[i], sizeof m->dest[i],
                                     &m->dest_port[i]);
  m->tos[i] = fuv_udp_recv_tos(udp);
  m->dest_small_err[i] = fuv_udp_recv_dest(udp, small, sizeof small,
                                           &small_port);
}

int fuv_test_int_option(const fuv_udp_t *udp, int level, int name) {
  int value = -1;
  socklen_t len = sizeof value;
  int fd = fuv_fileno((const fuv_handle_t *)udp);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(getsockopt(fd, level, name, &value, &len), 0);
  return value;
}

int fuv_test_udp_port(const fuv_udp_t *udp) {
  char ip[FUV_IP_NAME_MAX];
  int port = -1;
  FUV_ASSERT_OK(fuv_udp_getsockname(udp, ip, sizeof ip, &port));
  return port;
}

void fuv_test_count_send(fuv_udp_t *udp, int status, void *arg) {
  struct fuv_test_sends *s = arg;
  (void)udp;
  s->count++;
  if (status != 0)
    s->failed++;
  s->last_status = status;
}

void fuv_test_run_for(fuv_loop_t *loop, uint64_t ms) {
  fuv_timer_t *timer;
  int fired = 0;
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_timer_start(timer, fuv_test_set_flag, ms, 0, &fired));
  fuv_test_run_until(loop, &fired, 1, ms + 10000);
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)timer, NULL, NULL));
}

struct netns_job {
  int family, type, n;
  int *fds;
  const char *const *cmds;
  size_t ncmds;
  char *reason;
  size_t size;
  int result;
};

/* Runs on a thread of its own: unshare() moves only the calling thread into
 * the new namespace (and what it forks: system()'s shell), and a socket
 * stays in the namespace it was created in. */
static void *netns_thread(void *arg) {
  struct netns_job *job = arg;
  char line[512];
  job->result = -1;
  if (unshare(CLONE_NEWNET) != 0) {
    snprintf(job->reason, job->size, "unshare(CLONE_NEWNET): %s",
             strerror(errno));
    return NULL;
  }
  if (system("ip link set lo up >/dev/null 2>&1") != 0) {
    snprintf(job->reason, job->size, "`ip link set lo up` failed");
    return NULL;
  }
  for (size_t i = 0; i < job->ncmds; i++) {
    snprintf(line, sizeof line, "%s >/dev/null 2>&1", job->cmds[i]);
    if (system(line) != 0) {
      snprintf(job->reason, job->size, "`%s` failed", job->cmds[i]);
      return NULL;
    }
  }
  for (int i = 0; i < job->n; i++) {
    job->fds[i] = socket(job->family, job->type | SOCK_CLOEXEC, 0);
    if (job->fds[i] < 0) {
      snprintf(job->reason, job->size, "socket: %s", strerror(errno));
      while (i-- > 0)
        close(job->fds[i]);
      return NULL;
    }
  }
  job->result = 0;
  return NULL;
}

int fuv_test_netns_sockets(int family, int type, int n, int *fds,
                           const char *const *cmds, size_t ncmds,
                           char *reason, size_t size) {
  struct netns_job job = {family, type, n, fds, cmds, ncmds, reason, size, -1};
  pthread_t thread;
  if (geteuid() != 0) {
    snprintf(reason, size, "not running as root");
    return -1;
  }
  ck_assert_int_eq(pthread_create(&thread, NULL, netns_thread, &job), 0);
  ck_assert_int_eq(pthread_join(thread, NULL), 0);
  return job.result;
}

double fuv_test_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void fuv_test_assert_took(double start, int timeout_ms, const char *what) {
  double took = fuv_test_now_ms() - start;
  ck_assert_msg(took >= timeout_ms, "%s returned after %.1f ms, before its "
                "%d ms timeout", what, took, timeout_ms);
  ck_assert_msg(took < timeout_ms + FUV_TEST_SLACK_MS, "%s took %.1f ms for "
                "a %d ms timeout", what, took, timeout_ms);
}
