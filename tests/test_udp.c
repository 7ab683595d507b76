/*
 * UDP handles over real loopback sockets, IPv4 and IPv6: the handle itself
 * (type, fileno, buffer sizes, walk, ref/unref, activity), ping-pong with
 * the sender's address, try_send and batches, IPV6ONLY and dual stack,
 * and receiving started, stopped and closed. Elsewhere: connected sockets
 * in test_udp_connected.c, datagram sizes (largest, PARTIAL, empty) in
 * test_udp_datagrams.c, misuse in test_udp_misuse.c, options (broadcast,
 * multicast, REUSEPORT, TTL/TOS/ECN, destination address, GSO/GRO,
 * recvmmsg) in test_udp_options.c, the send queue in test_udp_queue.c,
 * the synchronous calls in test_udp_sync.c.
 */
#include "fuv_test.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define TIMEOUT_MS 10000

#define H(x) ((fuv_handle_t *)(x))

/* ---- helpers ------------------------------------------------------------ */

static fuv_loop_t *new_loop(void) {
  fuv_loop_t *loop = NULL;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  return loop;
}

/* ---- the handle --------------------------------------------------------- */

static void walk_find(fuv_handle_t *handle, void *arg) {
  fuv_handle_t **want = arg;
  if (handle == *want)
    *want = NULL;
}

START_TEST(handle_basics) {
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *udp, *ex4, *ex6;
  fuv_handle_t *seek;
  struct fuv_test_dgrams dg;
  memset(&dg, 0, sizeof dg);

  FUV_ASSERT_OK(fuv_udp_new(&udp, loop));
  ck_assert_int_eq(fuv_handle_type(H(udp)), FUV_UDP);
  ck_assert_str_eq(fuv_handle_type_name(FUV_UDP), "udp");
  ck_assert_str_eq(fuv_handle_type_name(fuv_handle_type(H(udp))), "udp");
  ck_assert_ptr_eq(fuv_handle_loop(H(udp)), loop);
  ck_assert_int_eq(fuv_is_active(H(udp)), 0);
  ck_assert_int_eq(fuv_is_closing(H(udp)), 0);
  ck_assert_int_eq(fuv_udp_using_recvmmsg(udp), 0);
  ck_assert_uint_eq(fuv_udp_get_send_queue_size(udp), 0);
  ck_assert_uint_eq(fuv_udp_get_send_queue_count(udp), 0);
  /* No socket yet. */
  FUV_ASSERT_ERR(fuv_fileno(H(udp)), FUV_EBADF);
  FUV_ASSERT_ERR(fuv_get_send_buffer_size(H(udp)), FUV_EBADF);
  FUV_ASSERT_ERR(fuv_udp_set_ttl(udp, 10), FUV_EBADF);
  FUV_ASSERT_ERR(fuv_udp_get_ttl(udp), FUV_EBADF);
  FUV_ASSERT_ERR(fuv_udp_set_broadcast(udp, 1), FUV_EBADF);
  FUV_ASSERT_ERR(fuv_udp_get_tos(udp), FUV_EBADF);
  FUV_ASSERT_ERR(fuv_udp_set_tos(udp, 0x20), FUV_EBADF);
  FUV_ASSERT_ERR(fuv_udp_set_ecn(udp, 1), FUV_EBADF);
  FUV_ASSERT_ERR(fuv_udp_set_multicast_loop(udp, 1), FUV_EBADF);
  FUV_ASSERT_ERR(fuv_udp_set_multicast_ttl(udp, 1), FUV_EBADF);
  FUV_ASSERT_ERR(fuv_udp_set_recv_dest(udp, 1), FUV_EBADF);
  FUV_ASSERT_ERR(fuv_udp_set_recv_tos(udp, 1), FUV_EBADF);
  FUV_ASSERT_ERR(fuv_udp_set_gso(udp, 1200), FUV_EBADF);
  FUV_ASSERT_ERR(fuv_udp_set_gro(udp, 1), FUV_EBADF);
  FUV_ASSERT_ERR(fuv_udp_get_gso(udp), FUV_EBADF);

  /* User data. */
  FUV_ASSERT_OK(fuv_handle_set_data(H(udp), &dg));
  ck_assert_ptr_eq(fuv_handle_get_data(H(udp)), &dg);

  /* new_ex creates the socket at once. */
  FUV_ASSERT_OK(fuv_udp_new_ex(&ex4, loop, FUV_AF_INET, 0));
  ck_assert_int_ge(fuv_fileno(H(ex4)), 0);
  FUV_ASSERT_OK(fuv_udp_new_ex(&ex6, loop, FUV_AF_INET6, FUV_UDP_RECVMMSG));
  ck_assert_int_ge(fuv_fileno(H(ex6)), 0);
  ck_assert_int_eq(fuv_udp_using_recvmmsg(ex6), 1);
  ck_assert_int_eq(fuv_udp_using_recvmmsg(ex4), 0);

  /* The walk sees all three. */
  seek = H(udp);
  FUV_ASSERT_OK(fuv_walk(loop, walk_find, &seek));
  ck_assert_ptr_null(seek);
  seek = H(ex6);
  FUV_ASSERT_OK(fuv_walk(loop, walk_find, &seek));
  ck_assert_ptr_null(seek);

  /* The handle list names it "udp". */
  int fds[2];
  char listing[4096];
  ck_assert_int_eq(pipe(fds), 0);
  FUV_ASSERT_OK(fuv_print_all_handles(loop, fds[1]));
  close(fds[1]);
  ssize_t got = read(fds[0], listing, sizeof listing - 1);
  close(fds[0]);
  ck_assert_int_gt(got, 0);
  listing[got] = '\0';
  ck_assert_msg(strstr(listing, " udp ") != NULL, "no udp handle in:\n%s",
                listing);

  /* Buffer sizes, as Linux stores them (doubled). */
  FUV_ASSERT_OK(fuv_udp_bind(udp, "127.0.0.1", 0, 0));
  int fd = fuv_fileno(H(udp));
  ck_assert_int_ge(fd, 0);
  FUV_ASSERT_OK(fuv_set_send_buffer_size(H(udp), 65536));
  FUV_ASSERT_OK(fuv_set_recv_buffer_size(H(udp), 98304));
  ck_assert_int_eq(fuv_get_send_buffer_size(H(udp)), 2 * 65536);
  ck_assert_int_eq(fuv_get_recv_buffer_size(H(udp)), 2 * 98304);
  FUV_ASSERT_ERR(fuv_set_send_buffer_size(H(udp), 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_set_recv_buffer_size(H(udp), -1), FUV_EINVAL);
  int raw = 0;
  socklen_t rawlen = sizeof raw;
  ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &raw, &rawlen), 0);
  ck_assert_int_eq(raw, 2 * 98304);

  /* Receiving makes it active; an active referenced handle keeps the loop
   * alive, an unreferenced one does not. */
  FUV_ASSERT_OK(fuv_udp_recv_start(udp, fuv_test_record_dgram, &dg));
  ck_assert_int_eq(fuv_is_active(H(udp)), 1);
  ck_assert_int_eq(fuv_has_ref(H(udp)), 1);
  ck_assert_int_eq(fuv_loop_alive(loop), 1);
  FUV_ASSERT_OK(fuv_unref(H(udp)));
  FUV_ASSERT_OK(fuv_unref(H(udp)));
  ck_assert_int_eq(fuv_has_ref(H(udp)), 0);
  ck_assert_int_eq(fuv_loop_alive(loop), 0);
  /* fuv_run(DEFAULT) returns at once: nothing referenced is active. */
  ck_assert_int_eq(fuv_run(loop, FUV_RUN_DEFAULT), 0);
  FUV_ASSERT_OK(fuv_ref(H(udp)));
  ck_assert_int_eq(fuv_has_ref(H(udp)), 1);
  ck_assert_int_eq(fuv_loop_alive(loop), 1);
  FUV_ASSERT_OK(fuv_udp_recv_stop(udp));
  ck_assert_int_eq(fuv_is_active(H(udp)), 0);
  ck_assert_int_eq(fuv_loop_alive(loop), 0);
  ck_assert_int_eq(dg.count, 0);
  fuv_test_free_loop(loop);
}
END_TEST

/* A send whose callback is owed keeps the handle active, so that
 * fuv_run(DEFAULT) does not return before the callback ran; one without
 * a callback does not. */
START_TEST(an_owed_send_callback_keeps_the_loop_running) {
  fuv_loop_t *loop = new_loop();
  struct fuv_test_sends sends = {0, 0, 0};
  int port;
  fuv_udp_t *rx = fuv_test_udp_bound(loop, "127.0.0.1", 0, &port);
  fuv_udp_t *tx;
  FUV_ASSERT_OK(fuv_udp_new(&tx, loop));
  FUV_ASSERT_OK(fuv_udp_send(tx, "x", 1, "127.0.0.1", port, NULL, NULL));
  ck_assert_int_eq(fuv_is_active(H(tx)), 0);
  FUV_ASSERT_OK(fuv_udp_send(tx, "y", 1, "127.0.0.1", port,
                             fuv_test_count_send, &sends));
  ck_assert_int_eq(fuv_is_active(H(tx)), 1);
  ck_assert_int_eq(fuv_loop_alive(loop), 1);
  fuv_test_run(loop, TIMEOUT_MS);
  ck_assert_int_eq(sends.count, 1);
  FUV_ASSERT_OK(sends.last_status);
  ck_assert_int_eq(fuv_is_active(H(tx)), 0);
  ck_assert_int_eq(fuv_is_active(H(rx)), 0);
  fuv_test_free_loop(loop);
}
END_TEST

/* The header: "the socket options need a socket (FUV_EBADF when there is
 * none)". Joining a group is one of the options; it must not quietly
 * make a socket the handle did not ask for. */
START_TEST(membership_without_a_socket_is_ebadf) {
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *udp;
  FUV_ASSERT_OK(fuv_udp_new(&udp, loop));
  FUV_ASSERT_ERR(fuv_udp_set_membership(udp, "239.1.2.3", NULL,
                                        FUV_JOIN_GROUP),
                 FUV_EBADF);
  FUV_ASSERT_ERR(fuv_udp_set_source_membership(udp, "232.1.2.3", NULL,
                                               "127.0.0.1", FUV_JOIN_GROUP),
                 FUV_EBADF);
  FUV_ASSERT_ERR(fuv_fileno(H(udp)), FUV_EBADF);
  fuv_test_free_loop(loop);
}
END_TEST

/* A handle made with an IPv6 socket sends to IPv4 addresses too (the
 * socket is kept, not replaced); the receiver sees the sender's IPv4
 * address. */
START_TEST(an_ipv6_socket_sends_to_ipv4_addresses) {
  if (fuv_test_skip_ipv6("::1", "an_ipv6_socket_sends_to_ipv4_addresses"))
    return;
  fuv_loop_t *loop = new_loop();
  struct fuv_test_dgrams dg;
  int port;
  memset(&dg, 0, sizeof dg);
  fuv_udp_t *rx = fuv_test_udp_bound(loop, "127.0.0.1", 0, &port);
  fuv_udp_t *tx;
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  FUV_ASSERT_OK(fuv_udp_new_ex(&tx, loop, FUV_AF_INET6, 0));
  int fd = fuv_fileno(H(tx));
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(fuv_udp_try_send(tx, "mapped", 6, "127.0.0.1", port), 6);
  FUV_ASSERT_OK(fuv_udp_send(tx, "again", 5, "127.0.0.1", port, NULL, NULL));
  ck_assert_int_eq(fuv_fileno(H(tx)), fd);
  fuv_test_run_until(loop, &dg.count, 2, TIMEOUT_MS);
  fuv_test_assert_dgram(&dg, 0, "mapped", 6);
  fuv_test_assert_dgram(&dg, 1, "again", 5);
  ck_assert_str_eq(dg.d[0].ip, "127.0.0.1");
  ck_assert_int_eq(dg.d[0].port, fuv_test_udp_port(tx));
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

/* A request of a send that went out at once: it cannot be cancelled,
 * and giving it back before the callback ran does not stop the callback. */
START_TEST(a_released_send_request_still_calls_back) {
  fuv_loop_t *loop = new_loop();
  struct fuv_test_sends sends = {0, 0, 0};
  struct fuv_test_dgrams dg;
  fuv_req_t *req = NULL, *kept = NULL;
  int port;
  memset(&dg, 0, sizeof dg);
  fuv_udp_t *rx = fuv_test_udp_bound(loop, "127.0.0.1", 0, &port);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  fuv_udp_t *tx;
  FUV_ASSERT_OK(fuv_udp_new(&tx, loop));
  FUV_ASSERT_OK(fuv_udp_send_req(tx, "one", 3, "127.0.0.1", port,
                                 fuv_test_count_send, &sends, &req));
  ck_assert_ptr_nonnull(req);
  ck_assert_int_eq(fuv_req_type(req), FUV_UDP_SEND);
  FUV_ASSERT_ERR(fuv_cancel(req), FUV_EBUSY);
  fuv_req_release(req);
  FUV_ASSERT_OK(fuv_udp_send_req(tx, "two", 3, "127.0.0.1", port,
                                 fuv_test_count_send, &sends, &kept));
  /* NULL for req is allowed. */
  FUV_ASSERT_OK(fuv_udp_send_req(tx, "three", 5, "127.0.0.1", port,
                                 fuv_test_count_send, &sends, NULL));
  fuv_test_run_until(loop, &sends.count, 3, TIMEOUT_MS);
  ck_assert_int_eq(sends.failed, 0);
  fuv_test_run_until(loop, &dg.count, 3, TIMEOUT_MS);
  fuv_test_assert_dgram(&dg, 0, "one", 3);
  fuv_test_assert_dgram(&dg, 2, "three", 5);
  FUV_ASSERT_ERR(fuv_cancel(kept), FUV_EBUSY);
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
  /* It outlives the loop. */
  ck_assert_int_eq(fuv_req_type(kept), FUV_UDP_SEND);
  fuv_req_release(kept);
}
END_TEST

/* Every handle gets its turn: a send from a send callback calls back in a
 * later loop iteration, never in the same pass. */
struct chain {
  fuv_loop_t *loop;
  int port;
  int calls;
  uint64_t iteration[8];
};

static void chain_on_send(fuv_udp_t *udp, int status, void *arg) {
  struct chain *c = arg;
  FUV_ASSERT_OK(status);
  c->iteration[c->calls++] = fuv_metrics_loop_count(c->loop);
  if (c->calls < 8)
    FUV_ASSERT_OK(fuv_udp_send(udp, "chain", 5, "127.0.0.1", c->port,
                               chain_on_send, c));
}

START_TEST(a_send_from_a_send_callback_calls_back_next_iteration) {
  fuv_loop_t *loop = new_loop();
  struct chain c;
  memset(&c, 0, sizeof c);
  c.loop = loop;
  fuv_udp_t *rx = fuv_test_udp_bound(loop, "127.0.0.1", 0, &c.port);
  (void)rx;
  fuv_udp_t *tx;
  FUV_ASSERT_OK(fuv_udp_new(&tx, loop));
  FUV_ASSERT_OK(fuv_udp_send(tx, "chain", 5, "127.0.0.1", c.port,
                             chain_on_send, &c));
  fuv_test_run_until(loop, &c.calls, 8, TIMEOUT_MS);
  for (int i = 1; i < 8; i++)
    ck_assert_msg(c.iteration[i] > c.iteration[i - 1],
                  "send callbacks %d and %d ran in one iteration", i - 1, i);
  fuv_test_free_loop(loop);
}
END_TEST

/* Reads stop after 32 per readiness event, so that timers and other
 * handles get their turn: a burst waiting in the socket is delivered over
 * several iterations, never more than 32 datagrams in one (recvmsg). */
struct per_iteration {
  fuv_loop_t *loop;
  int calls;
  uint64_t last;
  int run, longest;
};

static void count_per_iteration(fuv_udp_t *udp, ssize_t nread,
                                const char *buf, const struct sockaddr *addr,
                                unsigned int flags, void *arg) {
  struct per_iteration *pi = arg;
  uint64_t now = fuv_metrics_loop_count(pi->loop);
  (void)udp;
  (void)buf;
  (void)addr;
  (void)flags;
  ck_assert_int_eq(nread, 5);
  pi->run = pi->calls > 0 && now == pi->last ? pi->run + 1 : 1;
  if (pi->run > pi->longest)
    pi->longest = pi->run;
  pi->last = now;
  pi->calls++;
}

START_TEST(reads_stop_after_32_per_event) {
  enum { N = 100 };
  fuv_loop_t *loop = new_loop();
  struct per_iteration pi;
  int port;
  memset(&pi, 0, sizeof pi);
  pi.loop = loop;
  fuv_udp_t *rx = fuv_test_udp_bound(loop, "127.0.0.1", 0, &port);
  FUV_ASSERT_OK(fuv_set_recv_buffer_size(H(rx), 1 << 20));
  fuv_udp_t *tx;
  FUV_ASSERT_OK(fuv_udp_new(&tx, loop));
  for (int i = 0; i < N; i++)
    ck_assert_int_eq(fuv_udp_try_send(tx, "burst", 5, "127.0.0.1", port), 5);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, count_per_iteration, &pi));
  fuv_test_run_until(loop, &pi.calls, N, TIMEOUT_MS);
  ck_assert_msg(pi.longest <= 32, "%d datagrams delivered in one iteration",
                pi.longest);
  ck_assert_int_ge(pi.longest, 2);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- ping-pong ---------------------------------------------------------- */

struct pingpong {
  fuv_udp_t *a, *b;
  int a_port, b_port;
  const char *ip;
  int pings, pongs, rounds;
  struct fuv_test_sends sends;
};

static void pong_on_recv(fuv_udp_t *udp, ssize_t nread, const char *buf,
                         const struct sockaddr *addr, unsigned int flags,
                         void *arg) {
  struct pingpong *pp = arg;
  char ip[FUV_IP_NAME_MAX];
  int port;
  ck_assert_int_eq(nread, 4);
  ck_assert_uint_eq(flags, 0);
  ck_assert_ptr_nonnull(addr);
  FUV_ASSERT_OK(fuv_sockaddr_ip(addr, ip, sizeof ip, &port));
  ck_assert_str_eq(ip, pp->ip);
  if (udp == pp->b) {
    /* B answers A, at the address the ping came from. */
    ck_assert(memcmp(buf, "ping", 4) == 0);
    ck_assert_int_eq(port, pp->a_port);
    ck_assert_int_eq(addr->sa_family, strchr(pp->ip, ':') ? AF_INET6 : AF_INET);
    pp->pings++;
    FUV_ASSERT_OK(fuv_udp_send_addr(udp, "pong", 4, addr, fuv_test_count_send,
                                    &pp->sends));
  } else {
    ck_assert_ptr_eq(udp, pp->a);
    ck_assert(memcmp(buf, "pong", 4) == 0);
    ck_assert_int_eq(port, pp->b_port);
    pp->pongs++;
    if (pp->pongs < pp->rounds)
      FUV_ASSERT_OK(fuv_udp_send(udp, "ping", 4, pp->ip, pp->b_port,
                                 fuv_test_count_send, &pp->sends));
  }
}

START_TEST(ping_pong_reports_the_sender) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "ping_pong_reports_the_sender"))
    return;
  fuv_loop_t *loop = new_loop();
  struct pingpong pp;
  memset(&pp, 0, sizeof pp);
  pp.ip = ip;
  pp.rounds = 10;
  pp.a = fuv_test_udp_bound(loop, ip, 0, &pp.a_port);
  pp.b = fuv_test_udp_bound(loop, ip, 0, &pp.b_port);
  FUV_ASSERT_OK(fuv_udp_recv_start(pp.a, pong_on_recv, &pp));
  FUV_ASSERT_OK(fuv_udp_recv_start(pp.b, pong_on_recv, &pp));
  FUV_ASSERT_OK(fuv_udp_send(pp.a, "ping", 4, ip, pp.b_port,
                             fuv_test_count_send,
                             &pp.sends));
  /* Callbacks never run inside the call. */
  ck_assert_int_eq(pp.sends.count, 0);
  fuv_test_run_until(loop, &pp.pongs, pp.rounds, TIMEOUT_MS);
  ck_assert_int_eq(pp.pings, pp.rounds);
  fuv_test_run_until(loop, &pp.sends.count, 2 * pp.rounds, TIMEOUT_MS);
  ck_assert_int_eq(pp.sends.failed, 0);
  fuv_test_free_loop(loop);
}
END_TEST

/* A handle that sends before binding gets a port from the kernel; one that
 * starts receiving unbound is bound to the wildcard address and a port. */
START_TEST(unbound_handles_are_bound_by_send_and_recv_start) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip,
                         "unbound_handles_are_bound_by_send_and_recv_start"))
    return;
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx, *tx, *lazy;
  struct fuv_test_dgrams dg, lazy_dg;
  struct fuv_test_sends sends = {0, 0, 0};
  char name[FUV_IP_NAME_MAX];
  int port, tx_port, lazy_port;
  memset(&dg, 0, sizeof dg);
  memset(&lazy_dg, 0, sizeof lazy_dg);

  rx = fuv_test_udp_bound(loop, ip, 0, &port);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  FUV_ASSERT_OK(fuv_udp_new(&tx, loop));
  FUV_ASSERT_ERR(fuv_udp_getsockname(tx, name, sizeof name, &tx_port),
                 FUV_EBADF);
  FUV_ASSERT_OK(fuv_udp_send(tx, "hello", 5, ip, port, fuv_test_count_send,
                             &sends));
  FUV_ASSERT_OK(fuv_udp_getsockname(tx, name, sizeof name, &tx_port));
  ck_assert_int_gt(tx_port, 0);
  fuv_test_run_until(loop, &dg.count, 1, TIMEOUT_MS);
  fuv_test_assert_dgram(&dg, 0, "hello", 5);
  ck_assert_str_eq(dg.d[0].ip, ip);
  ck_assert_int_eq(dg.d[0].port, tx_port);
  fuv_test_run_until(loop, &sends.count, 1, TIMEOUT_MS);
  FUV_ASSERT_OK(sends.last_status);

  FUV_ASSERT_OK(fuv_udp_new(&lazy, loop));
  FUV_ASSERT_OK(fuv_udp_recv_start(lazy, fuv_test_record_dgram, &lazy_dg));
  FUV_ASSERT_OK(fuv_udp_getsockname(lazy, name, sizeof name, &lazy_port));
  ck_assert_int_gt(lazy_port, 0);
  ck_assert_str_eq(name, "0.0.0.0");
  FUV_ASSERT_OK(fuv_udp_send(tx, "lazy", 4, "127.0.0.1", lazy_port, NULL,
                             NULL));
  fuv_test_run_until(loop, &lazy_dg.count, 1, TIMEOUT_MS);
  fuv_test_assert_dgram(&lazy_dg, 0, "lazy", 4);
  /* An IPv6 socket is bound to the IPv6 wildcard. */
  fuv_udp_t *lazy6;
  if (!fuv_test_skip_ipv6("::1", "recv_start binding an IPv6 socket")) {
    FUV_ASSERT_OK(fuv_udp_new_ex(&lazy6, loop, FUV_AF_INET6, 0));
    FUV_ASSERT_OK(fuv_udp_recv_start(lazy6, fuv_test_record_dgram,
                                     &lazy_dg));
    FUV_ASSERT_OK(fuv_udp_getsockname(lazy6, name, sizeof name,
                                      &lazy_port));
    ck_assert_str_eq(name, "::");
    ck_assert_int_gt(lazy_port, 0);
  }
  fuv_test_dgrams_free(&dg);
  fuv_test_dgrams_free(&lazy_dg);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- try_send and batches ----------------------------------------------- */

enum { BATCH = 64 };

static void batch_fill(char bufs[][32], size_t *lens, const char **ptrs,
                       const char *tag) {
  for (int i = 0; i < BATCH; i++) {
    lens[i] = (size_t)snprintf(bufs[i], 32, "%s-%d-%s", tag, i,
                               i % 2 ? "odd" : "even-and-longer");
    ptrs[i] = bufs[i];
  }
}

START_TEST(try_send_and_try_send_many_arrive_in_order) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "try_send_and_try_send_many_arrive_in_order"))
    return;
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx, *tx;
  struct fuv_test_dgrams dg;
  char bufs[BATCH][32];
  size_t lens[BATCH];
  const char *ptrs[BATCH];
  int port, tx_port;
  memset(&dg, 0, sizeof dg);

  rx = fuv_test_udp_bound(loop, ip, 0, &port);
  tx = fuv_test_udp_bound(loop, ip, 0, &tx_port);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));

  ck_assert_int_eq(fuv_udp_try_send(tx, "first", 5, ip, port), 5);
  batch_fill(bufs, lens, ptrs, "many");
  ck_assert_int_eq(fuv_udp_try_send_many(tx, ptrs, lens, BATCH, ip, port),
                   BATCH);
  ck_assert_int_eq(fuv_udp_try_send(tx, "last", 4, ip, port), 4);
  /* Nothing was queued by any of them. */
  ck_assert_uint_eq(fuv_udp_get_send_queue_count(tx), 0);
  fuv_test_run_until(loop, &dg.count, BATCH + 2, TIMEOUT_MS);
  ck_assert_int_eq(dg.errors, 0);
  fuv_test_assert_dgram(&dg, 0, "first", 5);
  for (int i = 0; i < BATCH; i++) {
    fuv_test_assert_dgram(&dg, 1 + i, bufs[i], lens[i]);
    ck_assert_int_eq(dg.d[1 + i].port, tx_port);
    ck_assert_str_eq(dg.d[1 + i].ip, ip);
  }
  fuv_test_assert_dgram(&dg, BATCH + 1, "last", 4);
  /* A batch longer than one sendmmsg call takes: all of it, in order. */
  enum { LONG = 200 };
  char (*lbufs)[32] = calloc(LONG, 32);
  size_t llens[LONG];
  const char *lptrs[LONG];
  ck_assert_ptr_nonnull(lbufs);
  for (int i = 0; i < LONG; i++) {
    llens[i] = (size_t)snprintf(lbufs[i], 32, "long-%d", i);
    lptrs[i] = lbufs[i];
  }
  /* Room for all of them in the receiver's buffer. */
  FUV_ASSERT_OK(fuv_set_recv_buffer_size((fuv_handle_t *)rx, 1 << 20));
  ck_assert_int_eq(fuv_udp_try_send_many(tx, lptrs, llens, LONG, ip, port),
                   LONG);
  fuv_test_run_until(loop, &dg.count, BATCH + 2 + LONG, TIMEOUT_MS);
  for (int i = 0; i < LONG; i++)
    fuv_test_assert_dgram(&dg, BATCH + 2 + i, lbufs[i], llens[i]);
  free(lbufs);
  /* A batch of none sends none. */
  ck_assert_int_eq(fuv_udp_try_send_many(tx, ptrs, lens, 0, ip, port), 0);
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

/* Each datagram of a batch to its own address: alternately to two
 * receivers, each of which gets its half in order. */
START_TEST(try_send_many_addr_sends_each_to_its_address) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "try_send_many_addr_sends_each_to_its_address"))
    return;
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx[2], *tx;
  struct fuv_test_dgrams dg[2];
  struct sockaddr_storage ss[2];
  const struct sockaddr *addrs[BATCH];
  char bufs[BATCH][32];
  size_t lens[BATCH];
  const char *ptrs[BATCH];
  int port[2], tx_port;
  memset(dg, 0, sizeof dg);

  tx = fuv_test_udp_bound(loop, ip, 0, &tx_port);
  for (int r = 0; r < 2; r++) {
    int len = sizeof ss[r];
    rx[r] = fuv_test_udp_bound(loop, ip, 0, &port[r]);
    FUV_ASSERT_OK(fuv_udp_recv_start(rx[r], fuv_test_record_dgram, &dg[r]));
    FUV_ASSERT_OK(fuv_udp_getsockname_addr(rx[r], (struct sockaddr *)&ss[r],
                                           &len));
  }
  batch_fill(bufs, lens, ptrs, "addr");
  for (int i = 0; i < BATCH; i++)
    addrs[i] = (const struct sockaddr *)&ss[i % 2];
  ck_assert_int_eq(fuv_udp_try_send_many_addr(tx, ptrs, lens, BATCH, addrs),
                   BATCH);
  fuv_test_run_until(loop, &dg[0].count, BATCH / 2, TIMEOUT_MS);
  fuv_test_run_until(loop, &dg[1].count, BATCH / 2, TIMEOUT_MS);
  for (int i = 0; i < BATCH; i++)
    fuv_test_assert_dgram(&dg[i % 2], i / 2, bufs[i], lens[i]);

  /* A NULL address means the connected peer: none here. */
  addrs[0] = NULL;
  FUV_ASSERT_ERR(fuv_udp_try_send_many_addr(tx, ptrs, lens, 1, addrs),
                 FUV_EDESTADDRREQ);
  /* Connected, NULL entries go to the peer. */
  FUV_ASSERT_OK(fuv_udp_connect(tx, ip, port[1]));
  for (int i = 0; i < 4; i++)
    addrs[i] = NULL;
  ck_assert_int_eq(fuv_udp_try_send_many_addr(tx, ptrs, lens, 4, addrs), 4);
  ck_assert_int_eq(fuv_udp_try_send_many(tx, ptrs, lens, 4, NULL, 0), 4);
  fuv_test_run_until(loop, &dg[1].count, BATCH / 2 + 8, TIMEOUT_MS);
  for (int i = 0; i < 8; i++)
    fuv_test_assert_dgram(&dg[1], BATCH / 2 + i, bufs[i % 4], lens[i % 4]);
  ck_assert_int_eq(dg[0].count, BATCH / 2);
  fuv_test_dgrams_free(&dg[0]);
  fuv_test_dgrams_free(&dg[1]);
  fuv_test_free_loop(loop);
}
END_TEST

/* A dual-stack socket's batch may mix IPv4 and IPv6 destinations. */
START_TEST(try_send_many_addr_mixes_families_on_a_dual_stack_socket) {
  if (fuv_test_skip_ipv6("::1", "try_send_many_addr_mixes_families"))
    return;
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx4, *rx6, *tx;
  struct fuv_test_dgrams dg4, dg6;
  struct sockaddr_storage ss4, ss6;
  int len4 = sizeof ss4, len6 = sizeof ss6, port4, port6;
  memset(&dg4, 0, sizeof dg4);
  memset(&dg6, 0, sizeof dg6);
  rx4 = fuv_test_udp_bound(loop, "127.0.0.1", 0, &port4);
  rx6 = fuv_test_udp_bound(loop, "::1", 0, &port6);
  FUV_ASSERT_OK(fuv_udp_getsockname_addr(rx4, (struct sockaddr *)&ss4,
                                         &len4));
  FUV_ASSERT_OK(fuv_udp_getsockname_addr(rx6, (struct sockaddr *)&ss6,
                                         &len6));
  ck_assert_int_eq(ss4.ss_family, AF_INET);
  ck_assert_int_eq(ss6.ss_family, AF_INET6);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx4, fuv_test_record_dgram, &dg4));
  FUV_ASSERT_OK(fuv_udp_recv_start(rx6, fuv_test_record_dgram, &dg6));
  tx = fuv_test_udp_bound(loop, "::", 0, &port4);
  const char *bufs[4] = {"v4-a", "v6-a", "v4-b", "v6-b"};
  size_t lens[4] = {4, 4, 4, 4};
  const struct sockaddr *addrs[4] = {
      (struct sockaddr *)&ss4, (struct sockaddr *)&ss6,
      (struct sockaddr *)&ss4, (struct sockaddr *)&ss6};
  ck_assert_int_eq(fuv_udp_try_send_many_addr(tx, bufs, lens, 4, addrs), 4);
  fuv_test_run_until(loop, &dg4.count, 2, TIMEOUT_MS);
  fuv_test_run_until(loop, &dg6.count, 2, TIMEOUT_MS);
  fuv_test_assert_dgram(&dg4, 0, "v4-a", 4);
  fuv_test_assert_dgram(&dg4, 1, "v4-b", 4);
  fuv_test_assert_dgram(&dg6, 0, "v6-a", 4);
  fuv_test_assert_dgram(&dg6, 1, "v6-b", 4);
  ck_assert_str_eq(dg4.d[0].ip, "127.0.0.1");
  ck_assert_str_eq(dg6.d[0].ip, "::1");
  fuv_test_dgrams_free(&dg4);
  fuv_test_dgrams_free(&dg6);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- receiving started, stopped, closed --------------------------------- */

START_TEST(recv_stop_stops_callbacks_and_restart_gets_what_waited) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip,
                         "recv_stop_stops_callbacks_and_restart_gets_what_waited"))
    return;
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx, *tx;
  struct fuv_test_dgrams dg;
  int port, tx_port, flag = 0;
  fuv_timer_t *timer;
  memset(&dg, 0, sizeof dg);

  rx = fuv_test_udp_bound(loop, ip, 0, &port);
  tx = fuv_test_udp_bound(loop, ip, 0, &tx_port);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  FUV_ASSERT_ERR(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg),
                 FUV_EALREADY);
  ck_assert_int_eq(fuv_udp_try_send(tx, "a", 1, ip, port), 1);
  fuv_test_run_until(loop, &dg.count, 1, TIMEOUT_MS);
  FUV_ASSERT_OK(fuv_udp_recv_stop(rx));
  /* Stopping a stopped handle is fine. */
  FUV_ASSERT_OK(fuv_udp_recv_stop(rx));
  ck_assert_int_eq(fuv_udp_try_send(tx, "b", 1, ip, port), 1);
  ck_assert_int_eq(fuv_udp_try_send(tx, "c", 1, ip, port), 1);
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_timer_start(timer, fuv_test_set_flag, 100, 0, &flag));
  fuv_test_run_until(loop, &flag, 1, TIMEOUT_MS);
  ck_assert_int_eq(dg.count, 1);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  fuv_test_run_until(loop, &dg.count, 3, TIMEOUT_MS);
  fuv_test_assert_dgram(&dg, 0, "a", 1);
  fuv_test_assert_dgram(&dg, 1, "b", 1);
  fuv_test_assert_dgram(&dg, 2, "c", 1);
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

/* Stops receiving from inside the callback with a burst waiting: no call
 * follows the stop. */
struct stopper {
  int calls;
};

static void stop_on_recv(fuv_udp_t *udp, ssize_t nread, const char *buf,
                         const struct sockaddr *addr, unsigned int flags,
                         void *arg) {
  struct stopper *st = arg;
  (void)nread;
  (void)buf;
  (void)addr;
  (void)flags;
  st->calls++;
  FUV_ASSERT_OK(fuv_udp_recv_stop(udp));
}

START_TEST(recv_stop_in_the_callback_stops_a_burst) {
  /* _i: IPv4, IPv6, then both again receiving with recvmmsg, which has
   * the whole burst in hand when the callback stops. */
  const char *ip = fuv_test_loopback[_i % 2];
  if (fuv_test_skip_ipv6(ip, "recv_stop_in_the_callback_stops_a_burst"))
    return;
  fuv_loop_t *loop = new_loop();
  struct stopper st = {0};
  int port, flag = 0;
  fuv_timer_t *timer;
  fuv_udp_t *rx = fuv_test_udp_receiver(loop, ip, _i >= 2, &port);
  fuv_udp_t *tx;
  FUV_ASSERT_OK(fuv_udp_new(&tx, loop));
  for (int i = 0; i < 10; i++)
    ck_assert_int_eq(fuv_udp_try_send(tx, "burst", 5, ip, port), 5);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, stop_on_recv, &st));
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_timer_start(timer, fuv_test_set_flag, 100, 0, &flag));
  fuv_test_run_until(loop, &flag, 1, TIMEOUT_MS);
  ck_assert_int_eq(st.calls, 1);
  fuv_test_free_loop(loop);
}
END_TEST

static void close_on_recv(fuv_udp_t *udp, ssize_t nread, const char *buf,
                          const struct sockaddr *addr, unsigned int flags,
                          void *arg) {
  struct stopper *st = arg;
  (void)nread;
  (void)buf;
  (void)addr;
  (void)flags;
  st->calls++;
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)udp, NULL, NULL));
}

/* Closes the handle from inside its receive callback with a burst
 * waiting (on a recvmmsg handle, already received): no call follows. */
START_TEST(close_in_the_callback_stops_a_burst) {
  const char *ip = fuv_test_loopback[_i % 2];
  if (fuv_test_skip_ipv6(ip, "close_in_the_callback_stops_a_burst"))
    return;
  fuv_loop_t *loop = new_loop();
  struct stopper st = {0};
  int port;
  fuv_udp_t *rx = fuv_test_udp_receiver(loop, ip, _i >= 2, &port);
  fuv_udp_t *tx;
  FUV_ASSERT_OK(fuv_udp_new(&tx, loop));
  for (int i = 0; i < 10; i++)
    ck_assert_int_eq(fuv_udp_try_send(tx, "burst", 5, ip, port), 5);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, close_on_recv, &st));
  fuv_test_run_for(loop, 100);
  ck_assert_int_eq(st.calls, 1);
  fuv_test_free_loop(loop);
}
END_TEST

struct close_order {
  int recv_calls;
  int closed;
  int recv_after_close;
};

static void close_order_on_recv(fuv_udp_t *udp, ssize_t nread,
                                const char *buf, const struct sockaddr *addr,
                                unsigned int flags, void *arg) {
  struct close_order *co = arg;
  (void)udp;
  (void)nread;
  (void)buf;
  (void)addr;
  (void)flags;
  co->recv_calls++;
  if (co->closed)
    co->recv_after_close++;
}

static void close_order_on_close(fuv_handle_t *handle, void *arg) {
  struct close_order *co = arg;
  (void)handle;
  co->closed++;
}

START_TEST(closing_while_receiving_runs_no_more_receive_callbacks) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip,
                         "closing_while_receiving_runs_no_more_receive_callbacks"))
    return;
  fuv_loop_t *loop = new_loop();
  struct close_order co = {0, 0, 0};
  int port;
  fuv_udp_t *rx = fuv_test_udp_bound(loop, ip, 0, &port);
  fuv_udp_t *tx;
  FUV_ASSERT_OK(fuv_udp_new(&tx, loop));
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, close_order_on_recv, &co));
  for (int i = 0; i < 5; i++)
    ck_assert_int_eq(fuv_udp_try_send(tx, "late", 4, ip, port), 4);
  FUV_ASSERT_OK(fuv_close(H(rx), close_order_on_close, &co));
  ck_assert_int_eq(fuv_is_closing(H(rx)), 1);
  ck_assert_int_eq(fuv_is_active(H(rx)), 0);
  fuv_test_run_until(loop, &co.closed, 1, TIMEOUT_MS);
  ck_assert_int_eq(co.recv_calls, 0);
  ck_assert_int_eq(co.recv_after_close, 0);
  fuv_test_free_loop(loop);
}
END_TEST

/* IPV6ONLY: an IPv6 socket bound with it hears no IPv4; without it, a
 * dual-stack socket does, and reports the sender as a mapped address. */
START_TEST(ipv6only_refuses_ipv4_and_dual_stack_accepts_it) {
  if (fuv_test_skip_ipv6("::1",
                         "ipv6only_refuses_ipv4_and_dual_stack_accepts_it"))
    return;
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *only, *dual, *tx;
  struct fuv_test_dgrams dg;
  int port, dual_port;
  memset(&dg, 0, sizeof dg);

  FUV_ASSERT_OK(fuv_udp_new(&only, loop));
  FUV_ASSERT_ERR(fuv_udp_bind(only, "0.0.0.0", 0, FUV_UDP_IPV6ONLY),
                 FUV_EINVAL);
  FUV_ASSERT_OK(fuv_udp_bind(only, "::", 0, FUV_UDP_IPV6ONLY));
  port = fuv_test_udp_port(only);
  /* The IPv4 port is free for another socket: the IPv6 one does not hold
   * it. */
  fuv_udp_t *v4;
  FUV_ASSERT_OK(fuv_udp_new(&v4, loop));
  FUV_ASSERT_OK(fuv_udp_bind(v4, "127.0.0.1", port, 0));

  dual = fuv_test_udp_bound(loop, "::", 0, &dual_port);
  FUV_ASSERT_OK(fuv_udp_recv_start(dual, fuv_test_record_dgram, &dg));
  FUV_ASSERT_OK(fuv_udp_new(&tx, loop));
  ck_assert_int_eq(fuv_udp_try_send(tx, "v4", 2, "127.0.0.1", dual_port), 2);
  fuv_test_run_until(loop, &dg.count, 1, TIMEOUT_MS);
  fuv_test_assert_dgram(&dg, 0, "v4", 2);
  ck_assert_str_eq(dg.d[0].ip, "::ffff:127.0.0.1");
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

static Suite *udp_suite(void) {
  Suite *s = suite_create("udp_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("basics");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, handle_basics);
  tcase_add_test(tc, an_owed_send_callback_keeps_the_loop_running);
  tcase_add_test(tc, an_ipv6_socket_sends_to_ipv4_addresses);
  tcase_add_test(tc, membership_without_a_socket_is_ebadf);
  tcase_add_test(tc, a_released_send_request_still_calls_back);
  tcase_add_test(tc, a_send_from_a_send_callback_calls_back_next_iteration);
  tcase_add_test(tc, reads_stop_after_32_per_event);
  tcase_add_loop_test(tc, ping_pong_reports_the_sender, 0, FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, unbound_handles_are_bound_by_send_and_recv_start, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, try_send_and_try_send_many_arrive_in_order, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, try_send_many_addr_sends_each_to_its_address, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_test(tc, ipv6only_refuses_ipv4_and_dual_stack_accepts_it);
  tcase_add_test(tc, try_send_many_addr_mixes_families_on_a_dual_stack_socket);
  suite_add_tcase(s, tc);

  tc = tcase_create("receiving");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc,
                      recv_stop_stops_callbacks_and_restart_gets_what_waited,
                      0, FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, recv_stop_in_the_callback_stops_a_burst, 0,
                      2 * FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, close_in_the_callback_stops_a_burst, 0,
                      2 * FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc,
                      closing_while_receiving_runs_no_more_receive_callbacks,
                      0, FUV_TEST_NFAMILIES);
  suite_add_tcase(s, tc);
  return s;
}

FUV_TEST_MAIN(udp_suite)
