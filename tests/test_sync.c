/*
 * Synchronous I/O with timeouts: fuv_tcp_connect_sync, fuv_accept_sync,
 * fuv_send and fuv_recv over real loopback sockets. Timeouts are made real
 * (an idle peer, a full listen backlog, a network namespace that drops
 * SYNs) and each is checked to end no earlier than asked and within a
 * generous bound; the bound is a sanity check, not a timing goal.
 */
#include "fuv_test.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* How much later than its timeout a call may return before we call it
 * broken. Generous, because the machine is small and shared. */

/* ---- helpers ------------------------------------------------------------- */

static fuv_loop_t *new_loop(void) {
  fuv_loop_t *loop = NULL;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  return loop;
}

/* A server listening without a callback, for fuv_accept_sync. */
static fuv_tcp_t *sync_listener(fuv_loop_t *loop, const char *ip, int backlog,
                                int *port) {
  fuv_tcp_t *server;
  char name[FUV_IP_NAME_MAX];
  FUV_ASSERT_OK(fuv_tcp_new(&server, loop));
  FUV_ASSERT_OK(fuv_tcp_bind(server, ip, 0, 0));
  FUV_ASSERT_OK(fuv_listen((fuv_stream_t *)server, backlog, NULL, NULL));
  FUV_ASSERT_OK(fuv_tcp_getsockname(server, name, sizeof name, port));
  return server;
}

/* A connected pair made with the synchronous calls only. */
static void sync_pair(fuv_loop_t *loop, const char *ip, fuv_tcp_t **client,
                      fuv_tcp_t **server_side) {
  int port;
  fuv_tcp_t *server = sync_listener(loop, ip, 8, &port);
  FUV_ASSERT_OK(fuv_tcp_new(client, loop));
  FUV_ASSERT_OK(fuv_tcp_connect_sync(*client, ip, port, 5000));
  FUV_ASSERT_OK(fuv_accept_sync((fuv_stream_t *)server, server_side, 5000));
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)server, NULL, NULL));
}

static fuv_stream_t *S(fuv_tcp_t *tcp) { return (fuv_stream_t *)tcp; }

/* A port on ip held by a bound socket that never listens: connecting to it
 * is refused, and nothing else can take the port meanwhile. */
static int refusing_port(const char *ip, fuv_loop_t *loop, fuv_tcp_t **holder) {
  char name[FUV_IP_NAME_MAX];
  int port;
  FUV_ASSERT_OK(fuv_tcp_new(holder, loop));
  FUV_ASSERT_OK(fuv_tcp_bind(*holder, ip, 0, 0));
  FUV_ASSERT_OK(fuv_tcp_getsockname(*holder, name, sizeof name, &port));
  return port;
}

/* The byte at position i of the big streams. */
static char seq_byte(size_t i) {
  return (char)(i * 2654435761u >> 13);
}

static void fill_seq(char *buf, size_t offset, size_t len) {
  for (size_t i = 0; i < len; i++)
    buf[i] = seq_byte(offset + i);
}

/* ---- connect and accept ---------------------------------------------------- */

START_TEST(connect_and_accept_sync) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *client, *peer;
  char name[FUV_IP_NAME_MAX];
  int port, client_port, peer_port;
  fuv_tcp_t *server = sync_listener(loop, ip, 8, &port);

  FUV_ASSERT_OK(fuv_tcp_new(&client, loop));
  FUV_ASSERT_OK(fuv_tcp_connect_sync(client, ip, port, 5000));
  ck_assert_int_eq(fuv_tcp_state(client), FUV_TCP_ESTABLISHED);
  ck_assert_int_eq(fuv_is_readable(S(client)), 1);
  ck_assert_int_eq(fuv_is_writable(S(client)), 1);
  /* Nothing asynchronous was started. */
  ck_assert_int_eq(fuv_is_active((fuv_handle_t *)client), 0);
  FUV_ASSERT_ERR(fuv_tcp_connect_sync(client, ip, port, 5000), FUV_EISCONN);

  FUV_ASSERT_OK(fuv_accept_sync(S(server), &peer, 5000));
  ck_assert_ptr_nonnull(peer);
  ck_assert_int_eq(fuv_is_readable(S(peer)), 1);
  ck_assert_int_eq(fuv_is_writable(S(peer)), 1);
  FUV_ASSERT_OK(fuv_tcp_getsockname(client, name, sizeof name, &client_port));
  FUV_ASSERT_OK(fuv_tcp_getpeername(peer, name, sizeof name, &peer_port));
  ck_assert_int_eq(client_port, peer_port);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(accept_sync_times_out_then_accepts) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *client, *peer = (fuv_tcp_t *)&peer;
  int port;
  fuv_tcp_t *server = sync_listener(loop, ip, 8, &port);

  double start = fuv_test_now_ms();
  FUV_ASSERT_ERR(fuv_accept_sync(S(server), &peer, 300), FUV_ETIMEDOUT);
  fuv_test_assert_took(start, 300, "fuv_accept_sync");
  ck_assert_ptr_null(peer);
  FUV_ASSERT_ERR(fuv_accept_sync(S(server), &peer, 0), FUV_ETIMEDOUT);

  /* A connection already waiting is taken even without waiting. */
  FUV_ASSERT_OK(fuv_tcp_new(&client, loop));
  FUV_ASSERT_OK(fuv_tcp_connect_sync(client, ip, port, 5000));
  FUV_ASSERT_OK(fuv_accept_sync(S(server), &peer, 0));
  ck_assert_ptr_nonnull(peer);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(connect_sync_refused_keeps_the_handle) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *holder, *client, *peer;
  int port = refusing_port(ip, loop, &holder);
  FUV_ASSERT_OK(fuv_tcp_new(&client, loop));
  FUV_ASSERT_ERR(fuv_tcp_connect_sync(client, ip, port, 5000),
                 FUV_ECONNREFUSED);
  ck_assert_int_eq(fuv_is_readable(S(client)), 0);
  ck_assert_int_eq(fuv_is_writable(S(client)), 0);
  FUV_ASSERT_ERR(fuv_send(S(client), "x", 1, 0), FUV_ENOTCONN);

  /* A refused connect does not close the handle: it can try again. */
  fuv_tcp_t *server = sync_listener(loop, ip, 8, &port);
  FUV_ASSERT_OK(fuv_tcp_connect_sync(client, ip, port, 5000));
  FUV_ASSERT_OK(fuv_accept_sync(S(server), &peer, 5000));
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(connect_sync_reports_a_delayed_bind_error) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *client;
  int port;
  sync_listener(loop, ip, 8, &port);
  FUV_ASSERT_OK(fuv_tcp_new(&client, loop));
  /* The port is taken by a listener: fuv_tcp_bind defers EADDRINUSE. */
  FUV_ASSERT_OK(fuv_tcp_bind(client, ip, port, 0));
  FUV_ASSERT_ERR(fuv_tcp_connect_sync(client, ip, port, 5000),
                 FUV_EADDRINUSE);
  fuv_test_free_loop(loop);
}
END_TEST

/* On Linux a listener whose accept queue is full drops incoming SYNs, so
 * the connect neither succeeds nor is refused: it times out. */
START_TEST(connect_sync_times_out_on_a_full_backlog) {
  const char *ip = fuv_test_loopback[_i];
  enum { MAX_FILL = 16, TIMEOUT = 500 };
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *clients[MAX_FILL];
  fuv_tcp_t *late, *peer;
  int port, filled = 0, timed_out = -1;
  fuv_tcp_t *server = sync_listener(loop, ip, 0, &port);

  /* Connections that are never accepted fill the queue; the first connect
   * that finds it full is the one under test. */
  for (int i = 0; i < MAX_FILL && timed_out < 0; i++) {
    FUV_ASSERT_OK(fuv_tcp_new(&clients[i], loop));
    double start = fuv_test_now_ms();
    int r = fuv_tcp_connect_sync(clients[i], ip, port, TIMEOUT);
    if (r == 0) {
      filled++;
      continue;
    }
    FUV_ASSERT_ERR(r, FUV_ETIMEDOUT);
    fuv_test_assert_took(start, TIMEOUT, "fuv_tcp_connect_sync");
    timed_out = i;
  }
  ck_assert_msg(timed_out >= 0, "%d connects to a backlog-0 listener all "
                "succeeded", MAX_FILL);
  ck_assert_int_ge(filled, 1);

  /* The attempt was given up, not left half-open in the background. */
  fuv_tcp_t *gave_up = clients[timed_out];
  ck_assert_int_eq(fuv_tcp_state(gave_up), FUV_TCP_CLOSE);
  ck_assert_int_eq(fuv_is_writable(S(gave_up)), 0);

  /* An asynchronous connect meanwhile waits in SYN_SENT. */
  FUV_ASSERT_OK(fuv_tcp_new(&late, loop));
  FUV_ASSERT_OK(fuv_tcp_connect(late, ip, port, NULL, NULL));
  ck_assert_int_eq(fuv_tcp_state(late), FUV_TCP_SYN_SENT);
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)late, NULL, NULL));
  fuv_run(loop, FUV_RUN_NOWAIT);

  /* Once the queue is emptied the same handle connects. */
  while (fuv_accept_sync(S(server), &peer, 0) == 0)
    filled--;
  ck_assert_int_eq(filled, 0);
  FUV_ASSERT_OK(fuv_tcp_connect_sync(gave_up, ip, port, 5000));
  ck_assert_int_eq(fuv_tcp_state(gave_up), FUV_TCP_ESTABLISHED);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- a network namespace that drops SYNs ----------------------------------- */

/* The blackhole: in a namespace of its own, v0 (198.51.100.1/24) is one end
 * of a veth pair, and 198.51.100.2 has a permanent neighbour entry with a
 * MAC nobody owns, so SYNs leave v0, reach v1, and are dropped there as
 * meant for another host. Nothing answers and no error comes back. */
#define NETNS_TARGET "198.51.100.2"

static int run_quiet(const char *cmd) {
  char line[512];
  snprintf(line, sizeof line, "%s >/dev/null 2>&1", cmd);
  int status = system(line);
  return status == 0 ? 0 : -1;
}

/* Creates the namespace; on failure writes why into reason and returns -1
 * with nothing left behind. */
static int netns_create(const char *name, char *reason, size_t size) {
  static const char *const steps[] = {
      "ip -n %s link add v0 type veth peer name v1",
      "ip -n %s link set lo up",
      "ip -n %s link set v0 up",
      "ip -n %s link set v1 up",
      "ip -n %s addr add 198.51.100.1/24 dev v0",
      "ip -n %s neigh replace " NETNS_TARGET
      " lladdr 02:00:5e:00:53:02 dev v0 nud permanent"};
  char cmd[256];
  if (geteuid() != 0) {
    snprintf(reason, size, "not running as root");
    return -1;
  }
  snprintf(cmd, sizeof cmd, "ip netns add %s", name);
  if (run_quiet(cmd) != 0) {
    snprintf(reason, size, "`%s` failed", cmd);
    return -1;
  }
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    snprintf(cmd, sizeof cmd, steps[i], name);
    if (run_quiet(cmd) != 0) {
      snprintf(reason, size, "`%s` failed", cmd);
      snprintf(cmd, sizeof cmd, "ip netns del %s", name);
      run_quiet(cmd);
      return -1;
    }
  }
  return 0;
}

struct netns_socket {
  const char *name;
  int fd;
  int err; /* errno of the step that failed */
};

/* Runs on a thread of its own: setns() moves only the calling thread, and
 * a socket stays in the namespace it was created in. */
static void *socket_in_netns(void *arg) {
  struct netns_socket *ns = arg;
  char path[128];
  snprintf(path, sizeof path, "/run/netns/%s", ns->name);
  int nsfd = open(path, O_RDONLY | O_CLOEXEC);
  ns->fd = -1;
  if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) != 0) {
    ns->err = errno;
  } else {
    ns->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ns->err = ns->fd < 0 ? errno : 0;
  }
  if (nsfd >= 0)
    close(nsfd);
  return NULL;
}

START_TEST(connect_sync_times_out_when_syns_are_dropped) {
  enum { TIMEOUT = 400 };
  char name[64], reason[300], cmd[128];
  struct netns_socket ns;
  pthread_t thread;
  fuv_loop_t *loop;
  fuv_tcp_t *tcp;

  snprintf(name, sizeof name, "fuvtest%ld", (long)getpid());
  if (netns_create(name, reason, sizeof reason) != 0) {
    printf("SKIPPED connect_sync_times_out_when_syns_are_dropped: no "
           "network namespace: %s\n", reason);
    fflush(stdout);
    return;
  }
  ns.name = name;
  ck_assert_int_eq(pthread_create(&thread, NULL, socket_in_netns, &ns), 0);
  ck_assert_int_eq(pthread_join(thread, NULL), 0);
  snprintf(cmd, sizeof cmd, "ip netns del %s", name);
  /* The socket keeps the namespace alive after its name is gone. */
  run_quiet(cmd);
  ck_assert_msg(ns.fd >= 0, "socket in namespace %s: %s", name,
                strerror(ns.err));

  loop = new_loop();
  FUV_ASSERT_OK(fuv_tcp_new(&tcp, loop));
  FUV_ASSERT_OK(fuv_tcp_open(tcp, ns.fd));
  double start = fuv_test_now_ms();
  FUV_ASSERT_ERR(fuv_tcp_connect_sync(tcp, NETNS_TARGET, 80, TIMEOUT),
                 FUV_ETIMEDOUT);
  fuv_test_assert_took(start, TIMEOUT, "fuv_tcp_connect_sync");
  ck_assert_int_eq(fuv_tcp_state(tcp), FUV_TCP_CLOSE);

  /* Given up, the handle can start again, asynchronously this time. */
  FUV_ASSERT_OK(fuv_tcp_connect(tcp, NETNS_TARGET, 80, NULL, NULL));
  ck_assert_int_eq(fuv_tcp_state(tcp), FUV_TCP_SYN_SENT);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- recv and send timeouts ------------------------------------------------ */

START_TEST(recv_times_out_then_receives) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *client, *server_side;
  char buf[16];
  sync_pair(loop, ip, &client, &server_side);

  double start = fuv_test_now_ms();
  FUV_ASSERT_ERR(fuv_recv(S(client), buf, sizeof buf, 300), FUV_ETIMEDOUT);
  fuv_test_assert_took(start, 300, "fuv_recv");
  FUV_ASSERT_ERR(fuv_recv(S(client), buf, sizeof buf, 0), FUV_ETIMEDOUT);
  ck_assert_int_eq(fuv_is_readable(S(client)), 1);

  FUV_ASSERT_OK(fuv_send(S(server_side), "hello", 5, 5000));
  ck_assert_int_eq(fuv_recv(S(client), buf, sizeof buf, 5000), 5);
  ck_assert_int_eq(memcmp(buf, "hello", 5), 0);

  /* A length beyond INT_MAX is capped, not refused or overflowed. The
   * buffer really is that large: address space only, never touched
   * beyond what arrives. */
  size_t huge = (size_t)INT_MAX + 4096;
  char *big = mmap(NULL, huge, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  ck_assert_ptr_ne(big, MAP_FAILED);
  FUV_ASSERT_OK(fuv_send(S(server_side), "world", 5, 5000));
  ck_assert_int_eq(fuv_recv(S(client), big, huge, 5000), 5);
  ck_assert_int_eq(memcmp(big, "world", 5), 0);
  ck_assert_int_eq(munmap(big, huge), 0);
  fuv_test_free_loop(loop);
}
END_TEST

static volatile sig_atomic_t signals_seen;

static void on_sigusr1(int sig) {
  (void)sig;
  signals_seen++;
}

struct signaller {
  pthread_t target;
  volatile int done;
};

/* Interrupts the target thread every 20 ms until told to stop. */
static void *signal_repeatedly(void *arg) {
  struct signaller *sg = arg;
  struct timespec gap = {0, 20 * 1000 * 1000};
  while (!__atomic_load_n(&sg->done, __ATOMIC_ACQUIRE)) {
    pthread_kill(sg->target, SIGUSR1);
    nanosleep(&gap, NULL);
  }
  return NULL;
}

START_TEST(recv_timeout_survives_signals) {
  enum { TIMEOUT = 400 };
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *client, *server_side;
  struct sigaction sa, old;
  struct signaller sg;
  pthread_t thread;
  char buf[16];
  sync_pair(loop, fuv_test_loopback[0], &client, &server_side);

  /* No SA_RESTART: each signal makes poll(2) fail with EINTR. */
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigusr1;
  sigemptyset(&sa.sa_mask);
  ck_assert_int_eq(sigaction(SIGUSR1, &sa, &old), 0);
  signals_seen = 0;
  sg.target = pthread_self();
  sg.done = 0;
  ck_assert_int_eq(pthread_create(&thread, NULL, signal_repeatedly, &sg), 0);

  double start = fuv_test_now_ms();
  int r = fuv_recv(S(client), buf, sizeof buf, TIMEOUT);
  __atomic_store_n(&sg.done, 1, __ATOMIC_RELEASE);
  ck_assert_int_eq(pthread_join(thread, NULL), 0);
  FUV_ASSERT_ERR(r, FUV_ETIMEDOUT);
  fuv_test_assert_took(start, TIMEOUT, "fuv_recv interrupted by signals");
  ck_assert_int_ge(signals_seen, 2);
  ck_assert_int_eq(sigaction(SIGUSR1, &old, NULL), 0);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(send_times_out_when_the_peer_does_not_read) {
  const char *ip = fuv_test_loopback[_i];
  enum { TIMEOUT = 300 };
  size_t big = 32u << 20;
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *client, *server_side;
  char *data = calloc(1, big);
  ck_assert_ptr_nonnull(data);
  sync_pair(loop, ip, &client, &server_side);
  double start = fuv_test_now_ms();
  FUV_ASSERT_ERR(fuv_send(S(client), data, big, TIMEOUT), FUV_ETIMEDOUT);
  fuv_test_assert_took(start, TIMEOUT, "fuv_send");
  /* A timeout is not a broken connection. */
  ck_assert_int_eq(fuv_is_writable(S(client)), 1);
  ck_assert_uint_eq(fuv_write_queue_size(S(client)), 0);
  free(data);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- a big round trip ------------------------------------------------------- */

enum { BIG = 8 << 20 };

/* The far end runs on its own thread with its own loop; it records what
 * went wrong instead of asserting, and the test checks after joining. */
struct echo_peer {
  fuv_loop_t *loop;
  fuv_tcp_t *server;
  char *buf;
  int step;    /* the step that failed, or 0 */
  int err;     /* its result */
  size_t mismatch; /* first wrong byte received, BIG when none */
};

static void *echo_peer_main(void *arg) {
  struct echo_peer *p = arg;
  fuv_tcp_t *conn = NULL;
  size_t got = 0;
  int r;
  p->mismatch = BIG;
  r = fuv_accept_sync(S(p->server), &conn, 10000);
  if (r != 0) {
    p->step = 1, p->err = r;
    goto out;
  }
  /* Receive everything, then send it all back. */
  while (got < BIG) {
    r = fuv_recv(S(conn), p->buf + got, BIG - got, 30000);
    if (r <= 0) {
      p->step = 2, p->err = r;
      goto out;
    }
    got += (size_t)r;
  }
  for (size_t i = 0; i < BIG; i++)
    if (p->buf[i] != seq_byte(i)) {
      p->mismatch = i;
      break;
    }
  r = fuv_send(S(conn), p->buf, BIG, 30000);
  if (r != 0)
    p->step = 3, p->err = r;
out:
  if (conn != NULL)
    fuv_close((fuv_handle_t *)conn, NULL, NULL);
  fuv_close((fuv_handle_t *)p->server, NULL, NULL);
  fuv_run(p->loop, FUV_RUN_DEFAULT);
  return NULL;
}

START_TEST(send_recv_round_trip_of_8_mib) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop = new_loop();
  struct echo_peer peer;
  pthread_t thread;
  fuv_tcp_t *client;
  char *out = malloc(BIG), *in = malloc(BIG);
  size_t got = 0;
  int port;
  ck_assert_ptr_nonnull(out);
  ck_assert_ptr_nonnull(in);

  memset(&peer, 0, sizeof peer);
  peer.loop = new_loop();
  peer.buf = malloc(BIG);
  ck_assert_ptr_nonnull(peer.buf);
  peer.server = sync_listener(peer.loop, ip, 8, &port);
  ck_assert_int_eq(pthread_create(&thread, NULL, echo_peer_main, &peer), 0);

  fill_seq(out, 0, BIG);
  FUV_ASSERT_OK(fuv_tcp_new(&client, loop));
  FUV_ASSERT_OK(fuv_tcp_connect_sync(client, ip, port, 5000));
  FUV_ASSERT_OK(fuv_send(S(client), out, BIG, 30000));
  while (got < BIG) {
    int r = fuv_recv(S(client), in + got, BIG - got, 30000);
    ck_assert_msg(r > 0, "fuv_recv after %zu bytes: %d (%s)", got, r,
                  fuv_err_name(r));
    got += (size_t)r;
  }
  /* The peer closes after echoing: end of stream, and no more to read. */
  char extra;
  ck_assert_int_eq(fuv_recv(S(client), &extra, 1, 10000), 0);
  ck_assert_int_eq(fuv_is_readable(S(client)), 0);
  ck_assert_int_eq(fuv_recv(S(client), &extra, 1, 10000), 0);

  ck_assert_int_eq(pthread_join(thread, NULL), 0);
  ck_assert_msg(peer.step == 0, "peer failed at step %d: %s", peer.step,
                fuv_err_name(peer.err));
  ck_assert_uint_eq(peer.mismatch, BIG);
  ck_assert_int_eq(memcmp(in, out, BIG), 0);
  FUV_ASSERT_OK(fuv_loop_free(peer.loop));
  free(peer.buf);
  free(in);
  free(out);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- mixing synchronous and asynchronous calls ----------------------------- */

struct echo_state {
  fuv_tcp_t *client;
  fuv_tcp_t *server_side;
  char got[16];
  size_t len;
  int writes;
};

static void on_write_counted(fuv_stream_t *s, int status, void *arg) {
  struct echo_state *st = arg;
  (void)s;
  FUV_ASSERT_OK(status);
  st->writes++;
}

static void on_server_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                           void *arg) {
  ck_assert_int_gt(nread, 0);
  FUV_ASSERT_OK(fuv_write(s, buf, (size_t)nread, on_write_counted, arg));
}

static void on_client_read(fuv_stream_t *s, ssize_t nread, const char *buf,
                           void *arg) {
  struct echo_state *st = arg;
  ck_assert_int_gt(nread, 0);
  ck_assert_uint_le(st->len + (size_t)nread, sizeof st->got);
  memcpy(st->got + st->len, buf, (size_t)nread);
  st->len += (size_t)nread;
  if (st->len == 5) {
    FUV_ASSERT_OK(fuv_read_stop(s));
    FUV_ASSERT_OK(fuv_read_stop(S(st->server_side)));
  }
}

START_TEST(handles_work_asynchronously_after_sync_calls) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop = new_loop();
  struct echo_state st;
  char buf[8];
  memset(&st, 0, sizeof st);
  sync_pair(loop, ip, &st.client, &st.server_side);

  FUV_ASSERT_OK(fuv_send(S(st.client), "ping", 4, 5000));
  ck_assert_int_eq(fuv_recv(S(st.server_side), buf, sizeof buf, 5000), 4);
  FUV_ASSERT_OK(fuv_send(S(st.server_side), "pong", 4, 5000));
  ck_assert_int_eq(fuv_recv(S(st.client), buf, sizeof buf, 5000), 4);
  ck_assert_int_eq(memcmp(buf, "pong", 4), 0);

  FUV_ASSERT_OK(fuv_read_start(S(st.server_side), on_server_read, &st));
  FUV_ASSERT_OK(fuv_read_start(S(st.client), on_client_read, &st));
  FUV_ASSERT_OK(fuv_write(S(st.client), "async", 5, on_write_counted, &st));
  fuv_test_run(loop, 10000);
  ck_assert_uint_eq(st.len, 5);
  ck_assert_int_eq(memcmp(st.got, "async", 5), 0);
  ck_assert_int_eq(st.writes, 2);

  /* And back to synchronous once the asynchronous reads are stopped. */
  FUV_ASSERT_OK(fuv_send(S(st.client), "sync", 4, 5000));
  ck_assert_int_eq(fuv_recv(S(st.server_side), buf, sizeof buf, 5000), 4);
  ck_assert_int_eq(memcmp(buf, "sync", 4), 0);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(recv_reports_eof_like_the_read_callback) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *client, *server_side;
  char buf[8];
  sync_pair(loop, ip, &client, &server_side);
  FUV_ASSERT_OK(fuv_send(S(server_side), "bye", 3, 5000));
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)server_side, NULL, NULL));
  ck_assert_int_eq(fuv_recv(S(client), buf, sizeof buf, 5000), 3);
  ck_assert_int_eq(fuv_recv(S(client), buf, sizeof buf, 5000), 0);
  ck_assert_int_eq(fuv_is_readable(S(client)), 0);
  ck_assert_int_eq(fuv_is_writable(S(client)), 1);
  FUV_ASSERT_ERR(fuv_read_start(S(client), on_client_read, NULL),
                 FUV_ENOTCONN);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- busy: asynchronous I/O in flight in the same direction ----------------- */

static void on_read_ignore(fuv_stream_t *s, ssize_t nread, const char *buf,
                           void *arg) {
  (void)s, (void)nread, (void)buf, (void)arg;
}

static void on_connection_ignore(fuv_stream_t *s, int status, void *arg) {
  (void)s, (void)status, (void)arg;
}

START_TEST(recv_is_busy_while_reading) {
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *client, *server_side;
  char buf[8];
  sync_pair(loop, fuv_test_loopback[_i], &client, &server_side);
  FUV_ASSERT_OK(fuv_read_start(S(client), on_read_ignore, NULL));
  FUV_ASSERT_ERR(fuv_recv(S(client), buf, sizeof buf, 0), FUV_EBUSY);
  /* The other direction is free. */
  FUV_ASSERT_OK(fuv_send(S(client), "x", 1, 5000));
  FUV_ASSERT_OK(fuv_read_stop(S(client)));
  FUV_ASSERT_ERR(fuv_recv(S(client), buf, sizeof buf, 0), FUV_ETIMEDOUT);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(send_is_busy_while_writes_are_queued) {
  size_t big = 8u << 20;
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *client, *server_side;
  char buf[8];
  char *data = calloc(1, big);
  ck_assert_ptr_nonnull(data);
  sync_pair(loop, fuv_test_loopback[_i], &client, &server_side);
  /* Nobody reads: most of 8 MiB stays queued. */
  FUV_ASSERT_OK(fuv_write(S(client), data, big, NULL, NULL));
  ck_assert_uint_gt(fuv_write_queue_size(S(client)), 0);
  FUV_ASSERT_ERR(fuv_send(S(client), "x", 1, 0), FUV_EBUSY);
  /* Receiving is not affected. */
  FUV_ASSERT_OK(fuv_send(S(server_side), "y", 1, 5000));
  ck_assert_int_eq(fuv_recv(S(client), buf, sizeof buf, 5000), 1);
  free(data);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(accept_sync_is_busy_with_a_connection_callback) {
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *peer = NULL;
  int port;
  fuv_tcp_t *server = fuv_test_listener(loop, fuv_test_loopback[_i], &port,
                                        on_connection_ignore, NULL);
  FUV_ASSERT_ERR(fuv_accept_sync(S(server), &peer, 0), FUV_EBUSY);
  ck_assert_ptr_null(peer);
  /* Listening again without a callback hands accepting to the caller. */
  FUV_ASSERT_OK(fuv_listen(S(server), 8, NULL, NULL));
  FUV_ASSERT_ERR(fuv_accept_sync(S(server), &peer, 0), FUV_ETIMEDOUT);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(sync_calls_are_busy_while_connecting) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *client;
  char buf[8];
  int port;
  fuv_tcp_t *server = sync_listener(loop, ip, 8, &port);
  (void)server;
  FUV_ASSERT_OK(fuv_tcp_new(&client, loop));
  FUV_ASSERT_OK(fuv_tcp_connect(client, ip, port, NULL, NULL));
  FUV_ASSERT_ERR(fuv_tcp_connect_sync(client, ip, port, 0), FUV_EBUSY);
  FUV_ASSERT_ERR(fuv_send(S(client), "x", 1, 0), FUV_EBUSY);
  FUV_ASSERT_ERR(fuv_recv(S(client), buf, sizeof buf, 0), FUV_EBUSY);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- misuse ---------------------------------------------------------------- */

START_TEST(invalid_arguments) {
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *bare, *unconnected, *client, *server_side, *peer;
  fuv_timer_t *timer;
  char buf[8];
  int closed = 0;
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_tcp_new(&bare, loop));
  FUV_ASSERT_OK(fuv_tcp_new_ex(&unconnected, loop, AF_INET));

  FUV_ASSERT_ERR(fuv_tcp_connect_sync(NULL, "127.0.0.1", 80, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_accept_sync(NULL, &peer, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_send(NULL, "x", 1, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_recv(NULL, buf, sizeof buf, 0), FUV_EINVAL);

  FUV_ASSERT_ERR(fuv_tcp_connect_sync((fuv_tcp_t *)timer, "127.0.0.1", 80, 0),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_send((fuv_stream_t *)timer, "x", 1, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_recv((fuv_stream_t *)timer, buf, sizeof buf, 0),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_accept_sync((fuv_stream_t *)timer, &peer, 0), FUV_EINVAL);

  FUV_ASSERT_ERR(fuv_tcp_connect_sync(bare, NULL, 80, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_connect_sync(bare, "not an ip", 80, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_connect_sync(bare, "127.0.0.1", 0, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_connect_sync(bare, "127.0.0.1", 65536, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_connect_sync(bare, "127.0.0.1", -1, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_accept_sync(S(bare), &peer, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_send(S(bare), "x", 1, 0), FUV_EBADF);
  FUV_ASSERT_ERR(fuv_recv(S(bare), buf, sizeof buf, 0), FUV_EBADF);
  FUV_ASSERT_ERR(fuv_send(S(unconnected), "x", 1, 0), FUV_ENOTCONN);
  FUV_ASSERT_ERR(fuv_recv(S(unconnected), buf, sizeof buf, 0), FUV_ENOTCONN);
  FUV_ASSERT_ERR(fuv_accept_sync(S(unconnected), &peer, 0), FUV_EINVAL);

  sync_pair(loop, "127.0.0.1", &client, &server_side);
  FUV_ASSERT_ERR(fuv_accept_sync(S(client), &peer, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_send(S(client), NULL, 1, 0), FUV_EINVAL);
  FUV_ASSERT_OK(fuv_send(S(client), NULL, 0, 0));
  FUV_ASSERT_ERR(fuv_recv(S(client), NULL, 1, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_recv(S(client), buf, 0, 0), FUV_EINVAL);

  /* After fuv_shutdown, nothing more may be sent. */
  FUV_ASSERT_OK(fuv_shutdown(S(server_side), NULL, NULL));
  FUV_ASSERT_ERR(fuv_send(S(server_side), "x", 1, 0), FUV_EPIPE);

  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)client, fuv_test_count_close,
                          &closed));
  FUV_ASSERT_ERR(fuv_tcp_connect_sync(client, "127.0.0.1", 80, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_send(S(client), "x", 1, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_recv(S(client), buf, sizeof buf, 0), FUV_EINVAL);
  fuv_test_run(loop, 10000);
  ck_assert_int_eq(closed, 1);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(accept_sync_needs_somewhere_to_put_the_client) {
  fuv_loop_t *loop = new_loop();
  int port;
  fuv_tcp_t *server = sync_listener(loop, "127.0.0.1", 8, &port);
  FUV_ASSERT_ERR(fuv_accept_sync(S(server), NULL, 0), FUV_EINVAL);
  fuv_test_free_loop(loop);
}
END_TEST

static Suite *sync_suite(void) {
  Suite *s = suite_create("sync_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("connect_accept");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, connect_and_accept_sync, 0, FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, accept_sync_times_out_then_accepts, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, connect_sync_refused_keeps_the_handle, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, connect_sync_reports_a_delayed_bind_error, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, connect_sync_times_out_on_a_full_backlog, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_test(tc, connect_sync_times_out_when_syns_are_dropped);
  suite_add_tcase(s, tc);

  tc = tcase_create("send_recv");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, recv_times_out_then_receives, 0, FUV_TEST_NFAMILIES);
  tcase_add_test(tc, recv_timeout_survives_signals);
  tcase_add_loop_test(tc, send_times_out_when_the_peer_does_not_read, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, send_recv_round_trip_of_8_mib, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, handles_work_asynchronously_after_sync_calls, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, recv_reports_eof_like_the_read_callback, 0,
                      FUV_TEST_NFAMILIES);
  suite_add_tcase(s, tc);

  tc = tcase_create("busy");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, recv_is_busy_while_reading, 0, FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, send_is_busy_while_writes_are_queued, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, accept_sync_is_busy_with_a_connection_callback, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, sync_calls_are_busy_while_connecting, 0,
                      FUV_TEST_NFAMILIES);
  suite_add_tcase(s, tc);

  tc = tcase_create("misuse");
  tcase_add_test(tc, invalid_arguments);
  tcase_add_test(tc, accept_sync_needs_somewhere_to_put_the_client);
  suite_add_tcase(s, tc);
  return s;
}

FUV_TEST_MAIN(sync_suite)
