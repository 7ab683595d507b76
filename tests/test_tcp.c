/*
 * TCP handles over real loopback sockets: connecting (refused, cancelled),
 * accepting (delayed, out of file descriptors), binding (EADDRINUSE,
 * REUSEPORT), adopting existing sockets, and callbacks that never run on
 * the caller's stack. Socket options and addresses are in
 * test_tcp_options.c. Address-dependent tests run over IPv4 and IPv6.
 */
#include "fuv_test.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define TIMEOUT_MS 10000

/* ---- helpers ------------------------------------------------------------ */

static int family_of(int i) { return i == 0 ? AF_INET : AF_INET6; }

static int tcp_fd(const fuv_tcp_t *tcp) {
  int fd = fuv_fileno((const fuv_handle_t *)tcp);
  ck_assert_msg(fd >= 0, "fuv_fileno returned %s", fuv_err_name(fd));
  return fd;
}

/* Waits, without running the loop, until fd has data to read. */
static void wait_readable(int fd) {
  struct pollfd pfd = {fd, POLLIN, 0};
  ck_assert_int_eq(poll(&pfd, 1, TIMEOUT_MS), 1);
  ck_assert(pfd.revents & POLLIN);
}

/* A handle bound to a free port on ip but not listening: connecting to
 * that port is refused, and no other socket can take it meanwhile. */
static fuv_tcp_t *bind_refusing_port(fuv_loop_t *loop, const char *ip,
                                     int *port) {
  fuv_tcp_t *bound;
  char name[FUV_IP_NAME_MAX];
  FUV_ASSERT_OK(fuv_tcp_new(&bound, loop));
  FUV_ASSERT_OK(fuv_tcp_bind(bound, ip, 0, 0));
  FUV_ASSERT_OK(fuv_tcp_getsockname(bound, name, sizeof name, port));
  return bound;
}

/* ---- an echo server and its clients ------------------------------------- */

struct echo_server {
  int accepted;
  int failures; /* connection callbacks with an error */
  int last_failure;
};

static void echo_on_read(fuv_stream_t *stream, ssize_t nread,
                         const char *buf, void *arg) {
  (void)arg;
  if (nread < 0) {
    FUV_ASSERT_OK(fuv_close((fuv_handle_t *)stream, NULL, NULL));
    return;
  }
  FUV_ASSERT_OK(fuv_write(stream, buf, (size_t)nread, NULL, NULL));
}

static void echo_start(fuv_tcp_t *conn) {
  FUV_ASSERT_OK(fuv_read_start((fuv_stream_t *)conn, echo_on_read, NULL));
}

static void echo_on_connection(fuv_stream_t *server, int status, void *arg) {
  struct echo_server *es = arg;
  fuv_tcp_t *conn;
  if (status < 0) {
    es->failures++;
    es->last_failure = status;
    return;
  }
  FUV_ASSERT_OK(fuv_accept(server, &conn));
  es->accepted++;
  echo_start(conn);
}

static fuv_tcp_t *echo_server_start(struct echo_server *es, fuv_loop_t *loop,
                                    const char *ip, int *port) {
  memset(es, 0, sizeof *es);
  return fuv_test_listener(loop, ip, port, echo_on_connection, es);
}

/* A client that sends a message and waits until it comes back whole. */
struct echo_client {
  fuv_tcp_t *tcp;
  const char *msg;
  char got[64];
  size_t got_len;
  int connected;
  int done;
};

static void client_on_read(fuv_stream_t *stream, ssize_t nread,
                           const char *buf, void *arg) {
  struct echo_client *ec = arg;
  size_t want = strlen(ec->msg);
  ck_assert_msg(nread > 0, "the echo client read %s",
                fuv_err_name((int)nread));
  ck_assert_uint_le(ec->got_len + (size_t)nread, want);
  memcpy(ec->got + ec->got_len, buf, (size_t)nread);
  ec->got_len += (size_t)nread;
  if (ec->got_len == want) {
    ck_assert(memcmp(ec->got, ec->msg, want) == 0);
    ec->done = 1;
    FUV_ASSERT_OK(fuv_read_stop(stream));
  }
}

static void client_send(struct echo_client *ec, const char *msg) {
  ck_assert_uint_lt(strlen(msg), sizeof ec->got);
  ec->msg = msg;
  ec->got_len = 0;
  ec->done = 0;
  FUV_ASSERT_OK(fuv_write((fuv_stream_t *)ec->tcp, msg, strlen(msg), NULL,
                          NULL));
  FUV_ASSERT_OK(fuv_read_start((fuv_stream_t *)ec->tcp, client_on_read, ec));
}

static void client_on_connect(fuv_tcp_t *tcp, int status, void *arg) {
  struct echo_client *ec = arg;
  (void)tcp;
  FUV_ASSERT_OK(status);
  ec->connected = 1;
  client_send(ec, ec->msg);
}

static void echo_client_start(struct echo_client *ec, fuv_loop_t *loop,
                              const char *ip, int port, const char *msg) {
  memset(ec, 0, sizeof *ec);
  ec->msg = msg;
  FUV_ASSERT_OK(fuv_tcp_new(&ec->tcp, loop));
  FUV_ASSERT_OK(fuv_tcp_connect(ec->tcp, ip, port, client_on_connect, ec));
}

/* ---- connecting --------------------------------------------------------- */

struct connect_outcome {
  int connect_cbs;
  int status;
  int closing_in_cb;
  int close_cbs;
  int connect_cbs_at_close;
};

static void outcome_on_connect(fuv_tcp_t *tcp, int status, void *arg) {
  struct connect_outcome *co = arg;
  co->connect_cbs++;
  co->status = status;
  co->closing_in_cb = fuv_is_closing((fuv_handle_t *)tcp);
}

static void outcome_on_close(fuv_handle_t *handle, void *arg) {
  struct connect_outcome *co = arg;
  (void)handle;
  co->close_cbs++;
  co->connect_cbs_at_close = co->connect_cbs;
}

START_TEST(refused_connect_reports_econnrefused_and_does_not_close_the_handle) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop;
  fuv_tcp_t *client;
  struct connect_outcome co;
  int port;
  memset(&co, 0, sizeof co);
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  bind_refusing_port(loop, ip, &port);
  FUV_ASSERT_OK(fuv_tcp_new(&client, loop));
  FUV_ASSERT_OK(fuv_tcp_connect(client, ip, port, outcome_on_connect, &co));
  fuv_test_run_until(loop, &co.connect_cbs, 1, TIMEOUT_MS);
  FUV_ASSERT_ERR(co.status, FUV_ECONNREFUSED);
  ck_assert_int_eq(co.closing_in_cb, 0);
  ck_assert_int_eq(fuv_is_closing((fuv_handle_t *)client), 0);
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)client, outcome_on_close, &co));
  fuv_test_run_until(loop, &co.close_cbs, 1, TIMEOUT_MS);
  ck_assert_int_eq(co.connect_cbs, 1);
  fuv_test_free_loop(loop);
}
END_TEST

/* Linux leaves a socket whose connect failed in the background half-reset;
 * the library must dissolve it so that the same handle can connect again
 * instead of failing with ECONNABORTED. */
START_TEST(a_handle_whose_connect_was_refused_can_connect_again) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop;
  fuv_tcp_t *client;
  struct echo_server es;
  struct connect_outcome co;
  int refused_port, port;
  memset(&co, 0, sizeof co);
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  bind_refusing_port(loop, ip, &refused_port);
  echo_server_start(&es, loop, ip, &port);
  FUV_ASSERT_OK(fuv_tcp_new(&client, loop));
  FUV_ASSERT_OK(
      fuv_tcp_connect(client, ip, refused_port, outcome_on_connect, &co));
  fuv_test_run_until(loop, &co.connect_cbs, 1, TIMEOUT_MS);
  FUV_ASSERT_ERR(co.status, FUV_ECONNREFUSED);
  FUV_ASSERT_OK(fuv_tcp_connect(client, ip, port, outcome_on_connect, &co));
  fuv_test_run_until(loop, &co.connect_cbs, 2, TIMEOUT_MS);
  FUV_ASSERT_OK(co.status);
  ck_assert(fuv_is_writable((fuv_stream_t *)client));
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(close_during_connect_cancels_the_connect_before_the_close_callback) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop;
  fuv_tcp_t *client;
  struct echo_server es;
  struct connect_outcome co;
  int port;
  memset(&co, 0, sizeof co);
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  echo_server_start(&es, loop, ip, &port);
  FUV_ASSERT_OK(fuv_tcp_new(&client, loop));
  FUV_ASSERT_OK(fuv_tcp_connect(client, ip, port, outcome_on_connect, &co));
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)client, outcome_on_close, &co));
  fuv_test_run_until(loop, &co.close_cbs, 1, TIMEOUT_MS);
  ck_assert_int_eq(co.connect_cbs, 1);
  ck_assert_int_eq(co.connect_cbs_at_close, 1);
  FUV_ASSERT_ERR(co.status, FUV_ECANCELED);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- accepting ---------------------------------------------------------- */

struct delayed_accept {
  fuv_loop_t *loop;
  fuv_stream_t *server;
  fuv_timer_t *timer;
  int connection_cbs;
  int accepted;
  uint64_t loop_count_at_connection;
};

/* Accepts from a timer, well after the connection callback returned. */
static void delayed_on_timer(fuv_timer_t *timer, void *arg) {
  struct delayed_accept *da = arg;
  fuv_tcp_t *conn;
  (void)timer;
  /* One callback per connection not yet accepted: a listener that kept
   * watching would call back (or spin) until the accept. */
  ck_assert_int_eq(da->connection_cbs, da->accepted + 1);
  uint64_t iterations =
      fuv_metrics_loop_count(da->loop) - da->loop_count_at_connection;
  ck_assert_msg(iterations < 10, "%llu iterations waiting to accept",
                (unsigned long long)iterations);
  FUV_ASSERT_OK(fuv_accept(da->server, &conn));
  da->accepted++;
  echo_start(conn);
}

static void delayed_on_connection(fuv_stream_t *server, int status,
                                  void *arg) {
  struct delayed_accept *da = arg;
  FUV_ASSERT_OK(status);
  da->server = server;
  da->connection_cbs++;
  da->loop_count_at_connection = fuv_metrics_loop_count(da->loop);
  FUV_ASSERT_OK(fuv_timer_start(da->timer, delayed_on_timer, 50, 0, da));
}

START_TEST(connection_not_accepted_in_its_callback_can_be_accepted_later) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop;
  struct delayed_accept da;
  struct echo_client one, two;
  int port;
  memset(&da, 0, sizeof da);
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  da.loop = loop;
  FUV_ASSERT_OK(fuv_timer_new(&da.timer, loop));
  fuv_test_listener(loop, ip, &port, delayed_on_connection, &da);
  echo_client_start(&one, loop, ip, port, "first");
  echo_client_start(&two, loop, ip, port, "second");
  fuv_test_run_until(loop, &one.done, 1, TIMEOUT_MS);
  fuv_test_run_until(loop, &two.done, 1, TIMEOUT_MS);
  ck_assert_int_eq(da.accepted, 2);
  ck_assert_int_eq(da.connection_cbs, 2);
  fuv_test_free_loop(loop);
}
END_TEST

/* The EMFILE test lowers RLIMIT_NOFILE and fills the descriptor table; the
 * fixture puts both back even when the test fails. */
#define MAX_FILLERS 256
static struct rlimit saved_nofile;
static int fillers[MAX_FILLERS];
static int nfillers;

static void nofile_setup(void) {
  ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &saved_nofile), 0);
  nfillers = 0;
}

static void free_fillers(void) {
  while (nfillers > 0)
    close(fillers[--nfillers]);
}

static void nofile_teardown(void) {
  free_fillers();
  setrlimit(RLIMIT_NOFILE, &saved_nofile);
}

/* Lowers the soft limit just above the lowest free descriptor and opens
 * descriptors until the process has none left. */
static void use_up_fds(void) {
  int probe = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(probe, 0);
  close(probe);
  struct rlimit low = saved_nofile;
  low.rlim_cur = (rlim_t)probe + 16;
  ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
  for (;;) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      ck_assert_int_eq(errno, EMFILE);
      return;
    }
    ck_assert_int_lt(nfillers, MAX_FILLERS);
    fillers[nfillers++] = fd;
  }
}

START_TEST(accept_out_of_fds_reports_emfile_keeps_serving_and_recovers) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop;
  fuv_tcp_t *starved;
  struct echo_server es;
  struct echo_client old, fresh;
  int port;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  echo_server_start(&es, loop, ip, &port);
  echo_client_start(&old, loop, ip, port, "before");
  fuv_test_run_until(loop, &old.done, 1, TIMEOUT_MS);

  /* Leave one descriptor, for the client's own socket: the server side
   * of the connection then finds none. */
  use_up_fds();
  close(fillers[--nfillers]);
  FUV_ASSERT_OK(fuv_tcp_new(&starved, loop));
  FUV_ASSERT_OK(fuv_tcp_connect(starved, ip, port, NULL, NULL));
  fuv_test_run_until(loop, &es.failures, 1, TIMEOUT_MS);
  FUV_ASSERT_ERR(es.last_failure, FUV_EMFILE);

  /* The pending connection does not make the loop spin, and the server
   * still serves the client it already had. */
  uint64_t idle = fuv_test_iterations_while_idle(loop, 100);
  ck_assert_msg(idle < 10, "%llu iterations in 100 ms after EMFILE",
                (unsigned long long)idle);
  client_send(&old, "during");
  fuv_test_run_until(loop, &old.done, 1, TIMEOUT_MS);

  /* With descriptors back, new connections are accepted again. */
  free_fillers();
  ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &saved_nofile), 0);
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)starved, NULL, NULL));
  echo_client_start(&fresh, loop, ip, port, "after");
  fuv_test_run_until(loop, &fresh.done, 1, TIMEOUT_MS);
  ck_assert_int_ge(es.accepted, 2);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- binding ------------------------------------------------------------ */

START_TEST(second_listener_on_a_taken_port_fails_to_listen_with_eaddrinuse) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop;
  fuv_tcp_t *second;
  struct echo_server es, unused;
  int port;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  echo_server_start(&es, loop, ip, &port);
  memset(&unused, 0, sizeof unused);
  FUV_ASSERT_OK(fuv_tcp_new(&second, loop));
  /* As in libuv the bind succeeds and listen reports the conflict. */
  FUV_ASSERT_OK(fuv_tcp_bind(second, ip, port, 0));
  FUV_ASSERT_ERR(fuv_listen((fuv_stream_t *)second, 16, echo_on_connection,
                            &unused),
                 FUV_EADDRINUSE);
  ck_assert_int_eq(fuv_is_closing((fuv_handle_t *)second), 0);
  fuv_test_free_loop(loop);
}
END_TEST

#define REUSEPORT_CLIENTS 32

START_TEST(reuseport_lets_two_listeners_share_a_port_and_its_connections) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop;
  fuv_tcp_t *first, *second;
  struct echo_server es_first, es_second;
  struct echo_client clients[REUSEPORT_CLIENTS];
  char name[FUV_IP_NAME_MAX];
  int port;
  memset(&es_first, 0, sizeof es_first);
  memset(&es_second, 0, sizeof es_second);
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_tcp_new(&first, loop));
  FUV_ASSERT_OK(fuv_tcp_bind(first, ip, 0, FUV_TCP_REUSEPORT));
  FUV_ASSERT_OK(fuv_tcp_getsockname(first, name, sizeof name, &port));
  FUV_ASSERT_OK(fuv_tcp_new(&second, loop));
  FUV_ASSERT_OK(fuv_tcp_bind(second, ip, port, FUV_TCP_REUSEPORT));
  FUV_ASSERT_OK(fuv_listen((fuv_stream_t *)first, 64, echo_on_connection,
                           &es_first));
  FUV_ASSERT_OK(fuv_listen((fuv_stream_t *)second, 64, echo_on_connection,
                           &es_second));

  /* The kernel spreads connections by a hash of the address pair: with 32
   * clients the chance that one listener gets none is 2^-31. */
  for (int k = 0; k < REUSEPORT_CLIENTS; k++)
    echo_client_start(&clients[k], loop, ip, port, "shared");
  for (int k = 0; k < REUSEPORT_CLIENTS; k++)
    fuv_test_run_until(loop, &clients[k].done, 1, TIMEOUT_MS);
  ck_assert_int_eq(es_first.accepted + es_second.accepted, REUSEPORT_CLIENTS);
  ck_assert_int_gt(es_first.accepted, 0);
  ck_assert_int_gt(es_second.accepted, 0);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- adopting existing sockets ------------------------------------------ */

/* A connected socket made without flatuv (blocking connect: the kernel
 * completes the handshake before the loop accepts). */
static int raw_connected_socket(int family, const char *ip, int port) {
  struct sockaddr_storage ss;
  socklen_t len;
  memset(&ss, 0, sizeof ss);
  if (family == AF_INET) {
    FUV_ASSERT_OK(fuv_ip4_addr(ip, port, (struct sockaddr_in *)&ss));
    len = sizeof(struct sockaddr_in);
  } else {
    FUV_ASSERT_OK(fuv_ip6_addr(ip, port, (struct sockaddr_in6 *)&ss));
    len = sizeof(struct sockaddr_in6);
  }
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&ss, len), 0);
  return fd;
}

START_TEST(open_adopts_a_connected_socket_and_a_second_open_fails_with_ebusy) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop;
  fuv_tcp_t *opened, *spare;
  struct echo_server es;
  struct echo_client ec;
  char name[FUV_IP_NAME_MAX];
  int port, peer_port;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  echo_server_start(&es, loop, ip, &port);
  int fd = raw_connected_socket(family_of(_i), ip, port);
  int other = socket(family_of(_i), SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(other, 0);

  FUV_ASSERT_OK(fuv_tcp_new(&opened, loop));
  FUV_ASSERT_OK(fuv_tcp_open(opened, fd));
  ck_assert_int_eq(fuv_fileno((fuv_handle_t *)opened), fd);
  ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
  FUV_ASSERT_OK(fuv_tcp_getpeername(opened, name, sizeof name, &peer_port));
  ck_assert_int_eq(peer_port, port);
  ck_assert_int_eq(fuv_is_readable((fuv_stream_t *)opened), 1);
  ck_assert_int_eq(fuv_is_writable((fuv_stream_t *)opened), 1);

  /* The second open is refused and leaves the caller's fd alone. */
  FUV_ASSERT_ERR(fuv_tcp_open(opened, other), FUV_EBUSY);
  ck_assert_int_ne(fcntl(other, F_GETFD), -1);
  close(other);
  FUV_ASSERT_OK(fuv_tcp_new(&spare, loop));
  FUV_ASSERT_ERR(fuv_tcp_open(spare, -1), FUV_EBADF);

  memset(&ec, 0, sizeof ec);
  ec.tcp = opened;
  client_send(&ec, "adopted");
  fuv_test_run_until(loop, &ec.done, 1, TIMEOUT_MS);
  ck_assert_int_eq(es.accepted, 1);
  fuv_test_free_loop(loop);
}
END_TEST

static void on_read_append(fuv_stream_t *stream, ssize_t nread,
                           const char *buf, void *arg) {
  struct echo_client *ec = arg;
  (void)stream;
  ck_assert_int_gt(nread, 0);
  ck_assert_uint_le(ec->got_len + (size_t)nread, sizeof ec->got);
  memcpy(ec->got + ec->got_len, buf, (size_t)nread);
  ec->got_len += (size_t)nread;
  ec->done = (int)ec->got_len;
}

START_TEST(socketpair_gives_connected_sockets_that_tcp_open_can_use) {
  fuv_loop_t *loop;
  fuv_tcp_t *tcp;
  struct echo_client got;
  char buf[16];
  int fd0 = -1, fd1 = -1;
  memset(&got, 0, sizeof got);
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_socketpair(FUV_SOCK_STREAM, 0, &fd0, &fd1,
                               FUV_NONBLOCK_PIPE, 0));
  ck_assert(fcntl(fd0, F_GETFL) & O_NONBLOCK);
  ck_assert(!(fcntl(fd1, F_GETFL) & O_NONBLOCK));
  ck_assert(fcntl(fd0, F_GETFD) & FD_CLOEXEC);
  ck_assert(fcntl(fd1, F_GETFD) & FD_CLOEXEC);

  FUV_ASSERT_OK(fuv_tcp_new(&tcp, loop));
  FUV_ASSERT_OK(fuv_tcp_open(tcp, fd0));
  FUV_ASSERT_OK(fuv_write((fuv_stream_t *)tcp, "to raw", 6, NULL, NULL));
  wait_readable(fd1);
  ck_assert_int_eq(recv(fd1, buf, sizeof buf, 0), 6);
  ck_assert(memcmp(buf, "to raw", 6) == 0);

  ck_assert_int_eq(send(fd1, "to flatuv", 9, 0), 9);
  FUV_ASSERT_OK(fuv_read_start((fuv_stream_t *)tcp, on_read_append, &got));
  fuv_test_run_until(loop, &got.done, 9, TIMEOUT_MS);
  ck_assert(memcmp(got.got, "to flatuv", 9) == 0);
  close(fd1);
  fuv_test_free_loop(loop);

  FUV_ASSERT_ERR(fuv_socketpair(FUV_SOCK_STREAM, 0, NULL, &fd1, 0, 0),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_socketpair(FUV_SOCK_STREAM, 0, &fd0, NULL, 0, 0),
                 FUV_EINVAL);
  ck_assert_int_lt(fuv_socketpair(12345, 0, &fd0, &fd1, 0, 0), 0);
}
END_TEST

/* ---- callbacks never run on the caller's stack --------------------------- */

struct stack_check {
  int in_call; /* set only while a call that takes a callback runs */
  int write_cbs, read_cbs, shutdown_cbs, connect_cbs, close_cbs;
  int connect_status;
};

/* Makes a call with in_call set around it and asserts that it succeeded. */
#define CALL_GUARDED(st, expr)                                               \
  do {                                                                       \
    (st)->in_call = 1;                                                       \
    int guarded_r_ = (expr);                                                 \
    (st)->in_call = 0;                                                       \
    ck_assert_msg(guarded_r_ == 0, "%s returned %s", #expr,                  \
                  fuv_err_name(guarded_r_));                                 \
  } while (0)

static void assert_not_in_call(const struct stack_check *st, const char *cb) {
  ck_assert_msg(!st->in_call, "the %s callback ran inside the call", cb);
}

static void stack_on_write(fuv_stream_t *stream, int status, void *arg) {
  struct stack_check *st = arg;
  (void)stream;
  assert_not_in_call(st, "write");
  FUV_ASSERT_OK(status);
  st->write_cbs++;
}

static void stack_on_read(fuv_stream_t *stream, ssize_t nread,
                          const char *buf, void *arg) {
  struct stack_check *st = arg;
  (void)buf;
  assert_not_in_call(st, "read");
  ck_assert_int_gt(nread, 0);
  st->read_cbs++;
  FUV_ASSERT_OK(fuv_read_stop(stream));
}

static void stack_on_shutdown(fuv_stream_t *stream, int status, void *arg) {
  struct stack_check *st = arg;
  (void)stream;
  assert_not_in_call(st, "shutdown");
  FUV_ASSERT_OK(status);
  st->shutdown_cbs++;
}

static void stack_on_connect(fuv_tcp_t *tcp, int status, void *arg) {
  struct stack_check *st = arg;
  (void)tcp;
  assert_not_in_call(st, "connect");
  st->connect_status = status;
  st->connect_cbs++;
}

static void stack_on_close(fuv_handle_t *handle, void *arg) {
  struct stack_check *st = arg;
  (void)handle;
  assert_not_in_call(st, "close");
  st->close_cbs++;
}

START_TEST(callbacks_never_run_inside_the_call_that_caused_them) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop;
  fuv_tcp_t *client, *server_side, *refused;
  struct stack_check st;
  int port;
  memset(&st, 0, sizeof st);
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, ip, &client, &server_side);

  /* A small write completes at once, but its callback waits. */
  CALL_GUARDED(&st, fuv_write((fuv_stream_t *)client, "hello", 5,
                              stack_on_write, &st));
  ck_assert_int_eq(st.write_cbs, 0);
  fuv_test_run_until(loop, &st.write_cbs, 1, TIMEOUT_MS);

  /* Data already waiting does not make read_start call back at once. */
  wait_readable(tcp_fd(server_side));
  CALL_GUARDED(&st, fuv_read_start((fuv_stream_t *)server_side,
                                   stack_on_read, &st));
  ck_assert_int_eq(st.read_cbs, 0);
  fuv_test_run_until(loop, &st.read_cbs, 1, TIMEOUT_MS);

  CALL_GUARDED(&st, fuv_shutdown((fuv_stream_t *)client, stack_on_shutdown,
                                 &st));
  ck_assert_int_eq(st.shutdown_cbs, 0);
  fuv_test_run_until(loop, &st.shutdown_cbs, 1, TIMEOUT_MS);

  /* A port that is bound but not listening refuses at once on loopback. */
  bind_refusing_port(loop, ip, &port);
  FUV_ASSERT_OK(fuv_tcp_new(&refused, loop));
  CALL_GUARDED(&st, fuv_tcp_connect(refused, ip, port, stack_on_connect, &st));
  ck_assert_int_eq(st.connect_cbs, 0);
  fuv_test_run_until(loop, &st.connect_cbs, 1, TIMEOUT_MS);
  FUV_ASSERT_ERR(st.connect_status, FUV_ECONNREFUSED);

  CALL_GUARDED(&st, fuv_close((fuv_handle_t *)refused, stack_on_close, &st));
  CALL_GUARDED(&st, fuv_tcp_close_reset(server_side, stack_on_close, &st));
  ck_assert_int_eq(st.close_cbs, 0);
  fuv_test_run_until(loop, &st.close_cbs, 2, TIMEOUT_MS);
  fuv_test_free_loop(loop);
}
END_TEST

static Suite *tcp_suite(void) {
  Suite *suite = suite_create("tcp_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("tcp");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(
      tc, refused_connect_reports_econnrefused_and_does_not_close_the_handle,
      0, FUV_TEST_NFAMILIES);
  tcase_add_loop_test(
      tc, close_during_connect_cancels_the_connect_before_the_close_callback,
      0, FUV_TEST_NFAMILIES);
  tcase_add_loop_test(
      tc, connection_not_accepted_in_its_callback_can_be_accepted_later, 0,
      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(
      tc, second_listener_on_a_taken_port_fails_to_listen_with_eaddrinuse, 0,
      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(
      tc, reuseport_lets_two_listeners_share_a_port_and_its_connections, 0,
      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(
      tc, open_adopts_a_connected_socket_and_a_second_open_fails_with_ebusy,
      0, FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, a_handle_whose_connect_was_refused_can_connect_again,
                      0, FUV_TEST_NFAMILIES);
  tcase_add_test(tc, socketpair_gives_connected_sockets_that_tcp_open_can_use);
  tcase_add_loop_test(tc, callbacks_never_run_inside_the_call_that_caused_them,
                      0, FUV_TEST_NFAMILIES);
  suite_add_tcase(suite, tc);

  TCase *emfile = tcase_create("emfile");
  tcase_set_timeout(emfile, 120);
  tcase_add_checked_fixture(emfile, nofile_setup, nofile_teardown);
  tcase_add_loop_test(
      emfile, accept_out_of_fds_reports_emfile_keeps_serving_and_recovers, 0,
      FUV_TEST_NFAMILIES);
  suite_add_tcase(suite, emfile);
  return suite;
}

FUV_TEST_MAIN(tcp_suite)
