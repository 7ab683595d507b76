/*
 * UDP handles over real loopback sockets, IPv4 and IPv6: the handle itself,
 * ping-pong with the sender's address, try_send and batches, the largest
 * and the empty datagram, connected sockets (EISCONN, EDESTADDRREQ,
 * ENOTCONN, ECONNREFUSED), receiving started and stopped, and misuse.
 * Options (broadcast, multicast, REUSEPORT, TTL/TOS/ECN, destination
 * address, GSO/GRO, recvmmsg) are in test_udp_options.c, the send queue in
 * test_udp_queue.c, the synchronous calls in test_udp_sync.c.
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

/* Counts send callbacks and remembers the statuses. */
struct sends {
  int count;
  int failed;
  int last_status;
};

static void count_send(fuv_udp_t *udp, int status, void *arg) {
  struct sends *s = arg;
  (void)udp;
  s->count++;
  if (status != 0)
    s->failed++;
  s->last_status = status;
}

static int bound_port(const fuv_udp_t *udp) {
  char ip[FUV_IP_NAME_MAX];
  int port = -1;
  FUV_ASSERT_OK(fuv_udp_getsockname(udp, ip, sizeof ip, &port));
  return port;
}

/* Asserts that datagram i recorded in dg is len bytes equal to data. */
static void assert_dgram(const struct fuv_test_dgrams *dg, int i,
                         const char *data, size_t len) {
  ck_assert_int_lt(i, dg->count);
  ck_assert_msg(dg->d[i].nread == (ssize_t)len,
                "datagram %d: nread %zd, wanted %zu", i, dg->d[i].nread, len);
  ck_assert_msg(len == 0 || memcmp(dg->d[i].data, data, len) == 0,
                "datagram %d has the wrong bytes", i);
  ck_assert_uint_eq(dg->d[i].flags & FUV_UDP_PARTIAL, 0);
}

/* ---- the handle ----------------------------------------------------------- */

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

/* ---- ping-pong ------------------------------------------------------------- */

struct pingpong {
  fuv_udp_t *a, *b;
  int a_port, b_port;
  const char *ip;
  int pings, pongs, rounds;
  struct sends sends;
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
    FUV_ASSERT_OK(fuv_udp_send_addr(udp, "pong", 4, addr, count_send,
                                    &pp->sends));
  } else {
    ck_assert_ptr_eq(udp, pp->a);
    ck_assert(memcmp(buf, "pong", 4) == 0);
    ck_assert_int_eq(port, pp->b_port);
    pp->pongs++;
    if (pp->pongs < pp->rounds)
      FUV_ASSERT_OK(fuv_udp_send(udp, "ping", 4, pp->ip, pp->b_port,
                                 count_send, &pp->sends));
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
  FUV_ASSERT_OK(fuv_udp_send(pp.a, "ping", 4, ip, pp.b_port, count_send,
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
  if (fuv_test_skip_ipv6(ip, "unbound_handles_are_bound_by_send_and_recv_start"))
    return;
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx, *tx, *lazy;
  struct fuv_test_dgrams dg, lazy_dg;
  struct sends sends = {0, 0, 0};
  char name[FUV_IP_NAME_MAX];
  int port, tx_port, lazy_port;
  memset(&dg, 0, sizeof dg);
  memset(&lazy_dg, 0, sizeof lazy_dg);

  rx = fuv_test_udp_bound(loop, ip, 0, &port);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  FUV_ASSERT_OK(fuv_udp_new(&tx, loop));
  FUV_ASSERT_ERR(fuv_udp_getsockname(tx, name, sizeof name, &tx_port),
                 FUV_EBADF);
  FUV_ASSERT_OK(fuv_udp_send(tx, "hello", 5, ip, port, count_send, &sends));
  FUV_ASSERT_OK(fuv_udp_getsockname(tx, name, sizeof name, &tx_port));
  ck_assert_int_gt(tx_port, 0);
  fuv_test_run_until(loop, &dg.count, 1, TIMEOUT_MS);
  assert_dgram(&dg, 0, "hello", 5);
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
  assert_dgram(&lazy_dg, 0, "lazy", 4);
  fuv_test_dgrams_free(&dg);
  fuv_test_dgrams_free(&lazy_dg);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- try_send and batches ---------------------------------------------------- */

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
  assert_dgram(&dg, 0, "first", 5);
  for (int i = 0; i < BATCH; i++) {
    assert_dgram(&dg, 1 + i, bufs[i], lens[i]);
    ck_assert_int_eq(dg.d[1 + i].port, tx_port);
    ck_assert_str_eq(dg.d[1 + i].ip, ip);
  }
  assert_dgram(&dg, BATCH + 1, "last", 4);
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
    assert_dgram(&dg[i % 2], i / 2, bufs[i], lens[i]);

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
    assert_dgram(&dg[1], BATCH / 2 + i, bufs[i % 4], lens[i % 4]);
  ck_assert_int_eq(dg[0].count, BATCH / 2);
  fuv_test_dgrams_free(&dg[0]);
  fuv_test_dgrams_free(&dg[1]);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- the largest and the empty datagram ------------------------------------- */

/* The largest datagram (65507 bytes over IPv4, 65527 over IPv6) arrives
 * whole, not flagged PARTIAL, whether the handle receives with recvmsg into
 * the loop's buffer or with recvmmsg into 64 KiB chunks: the header
 * promises that none is truncated. */
START_TEST(the_largest_datagram_arrives_whole) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "the_largest_datagram_arrives_whole"))
    return;
  size_t max = _i == 0 ? 65507 : 65527;
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx[2], *tx;
  struct fuv_test_dgrams dg[2];
  struct sends sends = {0, 0, 0};
  int port[2];
  char *big = malloc(max + 1);
  ck_assert_ptr_nonnull(big);
  fuv_test_fill_pattern(big, max + 1, 7);
  memset(dg, 0, sizeof dg);

  for (int r = 0; r < 2; r++) {
    FUV_ASSERT_OK(fuv_udp_new_ex(&rx[r], loop,
                                 _i == 0 ? FUV_AF_INET : FUV_AF_INET6,
                                 r ? FUV_UDP_RECVMMSG : 0));
    FUV_ASSERT_OK(fuv_udp_bind(rx[r], ip, 0, 0));
    port[r] = bound_port(rx[r]);
    FUV_ASSERT_OK(fuv_udp_recv_start(rx[r], fuv_test_record_dgram, &dg[r]));
  }
  ck_assert_int_eq(fuv_udp_using_recvmmsg(rx[1]), 1);
  FUV_ASSERT_OK(fuv_udp_new(&tx, loop));
  for (int r = 0; r < 2; r++) {
    FUV_ASSERT_OK(fuv_udp_send(tx, big, max, ip, port[r], count_send, &sends));
    /* A small one after it: the big one did not spill into it. */
    FUV_ASSERT_OK(fuv_udp_send(tx, "after", 5, ip, port[r], count_send,
                               &sends));
  }
  for (int r = 0; r < 2; r++) {
    fuv_test_run_until(loop, &dg[r].count, 2, TIMEOUT_MS);
    assert_dgram(&dg[r], 0, big, max);
    assert_dgram(&dg[r], 1, "after", 5);
  }
  fuv_test_run_until(loop, &sends.count, 4, TIMEOUT_MS);
  ck_assert_int_eq(sends.failed, 0);
  free(big);
  fuv_test_dgrams_free(&dg[0]);
  fuv_test_dgrams_free(&dg[1]);
  fuv_test_free_loop(loop);
}
END_TEST

/* One byte more than the largest is FUV_EMSGSIZE at call time, as the
 * header lists it among the call's errors, for fuv_udp_send as for
 * fuv_udp_try_send; no callback runs and nothing is sent. */
START_TEST(an_overlong_datagram_is_emsgsize_at_call_time) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "an_overlong_datagram_is_emsgsize_at_call_time"))
    return;
  size_t max = _i == 0 ? 65507 : 65527;
  fuv_loop_t *loop = new_loop();
  struct fuv_test_dgrams dg;
  struct sends sends = {0, 0, 0};
  int port, flag = 0;
  char *big = calloc(1, 65536 + 1);
  ck_assert_ptr_nonnull(big);
  memset(&dg, 0, sizeof dg);
  fuv_udp_t *rx = fuv_test_udp_bound(loop, ip, 0, &port);
  fuv_udp_t *tx;
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  FUV_ASSERT_OK(fuv_udp_new(&tx, loop));
  FUV_ASSERT_ERR(fuv_udp_try_send(tx, big, max + 1, ip, port), FUV_EMSGSIZE);
  FUV_ASSERT_ERR(fuv_udp_try_send(tx, big, 65536 + 1, ip, port),
                 FUV_EMSGSIZE);
  FUV_ASSERT_ERR(fuv_udp_send(tx, big, 65536 + 1, ip, port, count_send,
                              &sends),
                 FUV_EMSGSIZE);
  FUV_ASSERT_ERR(fuv_udp_send(tx, big, max + 1, ip, port, count_send,
                              &sends),
                 FUV_EMSGSIZE);
  fuv_timer_t *timer;
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_OK(fuv_timer_start(timer, fuv_test_set_flag, 50, 0, &flag));
  fuv_test_run_until(loop, &flag, 1, TIMEOUT_MS);
  ck_assert_msg(sends.count == 0, "a send refused at call time still called "
                "back (with %s)", fuv_err_name(sends.last_status));
  ck_assert_int_eq(dg.count, 0);
  free(big);
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(an_empty_datagram_is_nread_0_with_an_address) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "an_empty_datagram_is_nread_0_with_an_address"))
    return;
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx, *tx;
  struct fuv_test_dgrams dg;
  struct sends sends = {0, 0, 0};
  int port, tx_port;
  memset(&dg, 0, sizeof dg);

  rx = fuv_test_udp_bound(loop, ip, 0, &port);
  tx = fuv_test_udp_bound(loop, ip, 0, &tx_port);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  FUV_ASSERT_OK(fuv_udp_send(tx, "", 0, ip, port, count_send, &sends));
  ck_assert_int_eq(fuv_udp_try_send(tx, "", 0, ip, port), 0);
  FUV_ASSERT_OK(fuv_udp_send(tx, "x", 1, ip, port, count_send, &sends));
  fuv_test_run_until(loop, &dg.count, 3, TIMEOUT_MS);
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(dg.d[i].nread, 0);
    ck_assert_int_eq(dg.d[i].has_addr, 1);
    ck_assert_str_eq(dg.d[i].ip, ip);
    ck_assert_int_eq(dg.d[i].port, tx_port);
    ck_assert_uint_eq(dg.d[i].flags, 0);
  }
  assert_dgram(&dg, 2, "x", 1);
  /* No spurious "nothing to read" calls follow. */
  fuv_run(loop, FUV_RUN_NOWAIT);
  ck_assert_int_eq(dg.count, 3);
  fuv_test_run_until(loop, &sends.count, 2, TIMEOUT_MS);
  ck_assert_int_eq(sends.failed, 0);
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- connected sockets ------------------------------------------------------- */

START_TEST(connected_sockets_send_without_an_address) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "connected_sockets_send_without_an_address"))
    return;
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *a, *b, *stranger;
  struct fuv_test_dgrams a_dg, b_dg;
  struct sends sends = {0, 0, 0};
  char name[FUV_IP_NAME_MAX];
  struct sockaddr_storage ss;
  int len = sizeof ss;
  int a_port, b_port, s_port, port;
  memset(&a_dg, 0, sizeof a_dg);
  memset(&b_dg, 0, sizeof b_dg);

  a = fuv_test_udp_bound(loop, ip, 0, &a_port);
  b = fuv_test_udp_bound(loop, ip, 0, &b_port);
  stranger = fuv_test_udp_bound(loop, ip, 0, &s_port);
  FUV_ASSERT_OK(fuv_udp_recv_start(a, fuv_test_record_dgram, &a_dg));
  FUV_ASSERT_OK(fuv_udp_recv_start(b, fuv_test_record_dgram, &b_dg));

  /* Unconnected: an address is needed. */
  FUV_ASSERT_ERR(fuv_udp_send(a, "x", 1, NULL, 0, count_send, &sends),
                 FUV_EDESTADDRREQ);
  FUV_ASSERT_ERR(fuv_udp_try_send(a, "x", 1, NULL, 0), FUV_EDESTADDRREQ);
  FUV_ASSERT_ERR(fuv_udp_getpeername(a, name, sizeof name, &port),
                 FUV_ENOTCONN);
  FUV_ASSERT_ERR(fuv_udp_connect(a, NULL, 0), FUV_ENOTCONN);
  FUV_ASSERT_ERR(fuv_udp_connect(a, ip, 0), FUV_EINVAL);

  FUV_ASSERT_OK(fuv_udp_connect(a, ip, b_port));
  FUV_ASSERT_OK(fuv_udp_getpeername(a, name, sizeof name, &port));
  ck_assert_str_eq(name, ip);
  ck_assert_int_eq(port, b_port);
  FUV_ASSERT_OK(fuv_udp_getpeername_addr(a, (struct sockaddr *)&ss, &len));
  ck_assert_int_eq(ss.ss_family, _i == 0 ? AF_INET : AF_INET6);
  FUV_ASSERT_ERR(fuv_udp_connect(a, ip, b_port), FUV_EISCONN);

  FUV_ASSERT_OK(fuv_udp_send(a, "one", 3, NULL, 0, count_send, &sends));
  ck_assert_int_eq(fuv_udp_try_send(a, "two", 3, NULL, 0), 3);
  FUV_ASSERT_ERR(fuv_udp_send(a, "x", 1, ip, b_port, count_send, &sends),
                 FUV_EISCONN);
  FUV_ASSERT_ERR(fuv_udp_try_send(a, "x", 1, ip, b_port), FUV_EISCONN);
  FUV_ASSERT_ERR(fuv_udp_send_addr(a, "x", 1, (struct sockaddr *)&ss,
                                   count_send, &sends),
                 FUV_EISCONN);
  fuv_test_run_until(loop, &b_dg.count, 2, TIMEOUT_MS);
  assert_dgram(&b_dg, 0, "one", 3);
  assert_dgram(&b_dg, 1, "two", 3);
  ck_assert_int_eq(b_dg.d[0].port, a_port);

  /* Only the peer's datagrams are received: the stranger's is not, the
   * peer's sent after it is. */
  FUV_ASSERT_OK(fuv_udp_send(stranger, "stranger", 8, ip, a_port, NULL, NULL));
  FUV_ASSERT_OK(fuv_udp_send(b, "peer", 4, ip, a_port, NULL, NULL));
  fuv_test_run_until(loop, &a_dg.count, 1, TIMEOUT_MS);
  assert_dgram(&a_dg, 0, "peer", 4);
  ck_assert_int_eq(a_dg.d[0].port, b_port);

  /* Disconnected, it needs addresses again and hears everyone. */
  FUV_ASSERT_OK(fuv_udp_connect(a, NULL, 0));
  FUV_ASSERT_ERR(fuv_udp_connect(a, NULL, 0), FUV_ENOTCONN);
  FUV_ASSERT_ERR(fuv_udp_getpeername(a, name, sizeof name, &port),
                 FUV_ENOTCONN);
  FUV_ASSERT_ERR(fuv_udp_send(a, "x", 1, NULL, 0, count_send, &sends),
                 FUV_EDESTADDRREQ);
  FUV_ASSERT_OK(fuv_udp_send(a, "three", 5, ip, b_port, count_send, &sends));
  fuv_test_run_until(loop, &b_dg.count, 3, TIMEOUT_MS);
  assert_dgram(&b_dg, 2, "three", 5);
  /* Whether the disconnect kept the port is
   * disconnect_keeps_the_bound_port's business: here, the stranger sends
   * to wherever the handle is now. */
  a_port = b_dg.d[2].port;
  ck_assert_int_eq(bound_port(a), a_port);
  FUV_ASSERT_OK(fuv_udp_send(stranger, "hello", 5, ip, a_port, NULL, NULL));
  fuv_test_run_until(loop, &a_dg.count, 2, TIMEOUT_MS);
  assert_dgram(&a_dg, 1, "hello", 5);
  ck_assert_int_eq(a_dg.d[1].port, s_port);
  /* connect_addr works as well. */
  FUV_ASSERT_OK(fuv_udp_connect_addr(a, (struct sockaddr *)&ss));
  FUV_ASSERT_OK(fuv_udp_getpeername(a, name, sizeof name, &port));
  ck_assert_int_eq(port, b_port);

  fuv_test_run_until(loop, &sends.count, 2, TIMEOUT_MS);
  ck_assert_int_eq(sends.failed, 0);
  fuv_test_dgrams_free(&a_dg);
  fuv_test_dgrams_free(&b_dg);
  fuv_test_free_loop(loop);
}
END_TEST

/* A handle bound to a port the kernel picked, connected and then
 * disconnected, is still bound where it was and receives there: a
 * disconnect dissolves the association only. (Linux's AF_UNSPEC connect
 * drops a port that bind(2) picked unless something keeps it.) */
START_TEST(disconnect_keeps_the_bound_port) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "disconnect_keeps_the_bound_port"))
    return;
  fuv_loop_t *loop = new_loop();
  struct fuv_test_dgrams dg;
  char name[FUV_IP_NAME_MAX];
  int a_port, b_port, port;
  memset(&dg, 0, sizeof dg);
  fuv_udp_t *a = fuv_test_udp_bound(loop, ip, 0, &a_port);
  fuv_udp_t *b = fuv_test_udp_bound(loop, ip, 0, &b_port);
  FUV_ASSERT_OK(fuv_udp_recv_start(a, fuv_test_record_dgram, &dg));
  FUV_ASSERT_OK(fuv_udp_connect(a, ip, b_port));
  FUV_ASSERT_OK(fuv_udp_connect(a, NULL, 0));
  FUV_ASSERT_OK(fuv_udp_getsockname(a, name, sizeof name, &port));
  ck_assert_msg(port == a_port, "bound to port %d, disconnected it is at "
                "port %d", a_port, port);
  ck_assert_str_eq(name, ip);
  ck_assert_int_eq(fuv_udp_try_send(b, "still", 5, ip, a_port), 5);
  fuv_test_run_until(loop, &dg.count, 1, TIMEOUT_MS);
  assert_dgram(&dg, 0, "still", 5);
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

/* A port that was bound and is closed again: nothing listens there. */
static int closed_port(fuv_loop_t *loop, const char *ip) {
  int port, closed = 0;
  fuv_udp_t *gone = fuv_test_udp_bound(loop, ip, 0, &port);
  FUV_ASSERT_OK(fuv_close(H(gone), fuv_test_count_close, &closed));
  fuv_test_run_until(loop, &closed, 1, TIMEOUT_MS);
  return port;
}

/* The ICMP port-unreachable for a connected socket's datagram is reported
 * as FUV_ECONNREFUSED: to the receive callback when receiving (with buf and
 * addr NULL), or to a following send; the handle stays usable. */
START_TEST(a_connected_socket_reports_econnrefused) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "a_connected_socket_reports_econnrefused"))
    return;
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *a, *b, *peer;
  struct fuv_test_dgrams a_dg, peer_dg;
  struct sends sends = {0, 0, 0};
  int port, peer_port;
  memset(&a_dg, 0, sizeof a_dg);
  memset(&peer_dg, 0, sizeof peer_dg);

  /* Receiving: the error reaches the receive callback. */
  port = closed_port(loop, ip);
  FUV_ASSERT_OK(fuv_udp_new(&a, loop));
  FUV_ASSERT_OK(fuv_udp_connect(a, ip, port));
  FUV_ASSERT_OK(fuv_udp_recv_start(a, fuv_test_record_dgram, &a_dg));
  FUV_ASSERT_OK(fuv_udp_send(a, "anyone?", 7, NULL, 0, count_send, &sends));
  fuv_test_run_until(loop, &a_dg.count, 1, TIMEOUT_MS);
  ck_assert_int_eq(a_dg.errors, 1);
  FUV_ASSERT_ERR(a_dg.last_error, FUV_ECONNREFUSED);
  fuv_test_run_until(loop, &sends.count, 1, TIMEOUT_MS);
  /* The send itself was handed to the kernel. */
  FUV_ASSERT_OK(sends.last_status);
  ck_assert_int_eq(fuv_is_closing(H(a)), 0);
  ck_assert_int_eq(fuv_is_active(H(a)), 1);
  /* Still usable: reconnected to a live peer, both ways work. */
  peer = fuv_test_udp_bound(loop, ip, 0, &peer_port);
  FUV_ASSERT_OK(fuv_udp_recv_start(peer, fuv_test_record_dgram, &peer_dg));
  FUV_ASSERT_OK(fuv_udp_connect(a, NULL, 0));
  FUV_ASSERT_OK(fuv_udp_connect(a, ip, peer_port));
  FUV_ASSERT_OK(fuv_udp_send(a, "alive", 5, NULL, 0, count_send, &sends));
  fuv_test_run_until(loop, &peer_dg.count, 1, TIMEOUT_MS);
  assert_dgram(&peer_dg, 0, "alive", 5);
  FUV_ASSERT_OK(fuv_udp_send(peer, "back", 4, ip, bound_port(a), NULL, NULL));
  fuv_test_run_until(loop, &a_dg.count, 2, TIMEOUT_MS);
  assert_dgram(&a_dg, 1, "back", 4);

  /* Not receiving: a following send reports it, at call time or in its
   * callback. */
  port = closed_port(loop, ip);
  FUV_ASSERT_OK(fuv_udp_new(&b, loop));
  FUV_ASSERT_OK(fuv_udp_connect(b, ip, port));
  ck_assert_int_eq(fuv_udp_try_send(b, "anyone?", 7, NULL, 0), 7);
  int refused = 0;
  for (int i = 0; i < 50 && !refused; i++) {
    fuv_sleep(10);
    struct sends s2 = {0, 0, 0};
    int r = fuv_udp_send(b, "again?", 6, NULL, 0, count_send, &s2);
    if (r == FUV_ECONNREFUSED) {
      refused = 1;
      break;
    }
    FUV_ASSERT_OK(r);
    fuv_test_run_until(loop, &s2.count, 1, TIMEOUT_MS);
    if (s2.last_status == FUV_ECONNREFUSED)
      refused = 1;
    else
      FUV_ASSERT_OK(s2.last_status);
  }
  ck_assert_msg(refused, "no send on the connected socket reported "
                "ECONNREFUSED");
  fuv_test_dgrams_free(&a_dg);
  fuv_test_dgrams_free(&peer_dg);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- receiving started, stopped, closed ---------------------------------------- */

START_TEST(recv_stop_stops_callbacks_and_restart_gets_what_waited) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "recv_stop_stops_callbacks_and_restart_gets_what_waited"))
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
  assert_dgram(&dg, 0, "a", 1);
  assert_dgram(&dg, 1, "b", 1);
  assert_dgram(&dg, 2, "c", 1);
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
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "recv_stop_in_the_callback_stops_a_burst"))
    return;
  fuv_loop_t *loop = new_loop();
  struct stopper st = {0};
  int port, flag = 0;
  fuv_timer_t *timer;
  fuv_udp_t *rx = fuv_test_udp_bound(loop, ip, 0, &port);
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
  if (fuv_test_skip_ipv6(ip, "closing_while_receiving_runs_no_more_receive_callbacks"))
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

/* ---- misuse ---------------------------------------------------------------- */

START_TEST(bad_arguments_are_einval) {
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *udp = NULL, *bound, *ex;
  char name[FUV_IP_NAME_MAX];
  char buf[16];
  int port;
  const char *bufs[1] = {"x"};
  size_t lens[1] = {1};
  struct sockaddr_in sin;

  FUV_ASSERT_ERR(fuv_udp_new(NULL, loop), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_new(&udp, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_new_ex(&udp, loop, 12345, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_new_ex(&udp, loop, FUV_AF_INET, FUV_UDP_REUSEADDR),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_new_ex(&udp, loop, FUV_AF_INET, 0x10000), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_new_ex(NULL, loop, FUV_AF_INET, 0), FUV_EINVAL);
  /* UNSPEC creates a handle without a socket. */
  FUV_ASSERT_OK(fuv_udp_new_ex(&ex, loop, FUV_AF_UNSPEC, 0));
  FUV_ASSERT_ERR(fuv_fileno(H(ex)), FUV_EBADF);

  /* NULL handles. */
  FUV_ASSERT_ERR(fuv_udp_bind(NULL, "127.0.0.1", 0, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_connect(NULL, "127.0.0.1", 9), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_send(NULL, "x", 1, "127.0.0.1", 9, NULL, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_try_send(NULL, "x", 1, "127.0.0.1", 9), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_try_send_many(NULL, bufs, lens, 1, "127.0.0.1", 9),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_recv_start(NULL, fuv_test_record_dgram, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_recv_stop(NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_open(NULL, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_getsockname(NULL, name, sizeof name, &port),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_ttl(NULL, 5), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_get_ttl(NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_broadcast(NULL, 1), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_recv_sync(NULL, buf, sizeof buf, NULL, 0, NULL, 0),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_send_sync(NULL, "x", 1, "127.0.0.1", 9, 0),
                 FUV_EINVAL);
  ck_assert_uint_eq(fuv_udp_get_send_queue_size(NULL), 0);
  ck_assert_uint_eq(fuv_udp_get_send_queue_count(NULL), 0);
  ck_assert_int_eq(fuv_udp_using_recvmmsg(NULL), 0);
  /* A handle of another kind. */
  fuv_timer_t *timer;
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));
  FUV_ASSERT_ERR(fuv_udp_bind((fuv_udp_t *)timer, "127.0.0.1", 0, 0),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_send((fuv_udp_t *)timer, "x", 1, "127.0.0.1", 9,
                              NULL, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_recv_start((fuv_udp_t *)timer, fuv_test_record_dgram,
                                    NULL),
                 FUV_EINVAL);

  /* Binding. */
  FUV_ASSERT_OK(fuv_udp_new(&udp, loop));
  FUV_ASSERT_ERR(fuv_udp_bind(udp, NULL, 0, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_bind(udp, "not-an-address", 0, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_bind(udp, "127.0.0.300", 0, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_bind(udp, "127.0.0.1", -1, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_bind(udp, "127.0.0.1", 65536, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_bind(udp, "127.0.0.1", 0, 0x1000), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_bind(udp, "127.0.0.1", 0, FUV_UDP_PARTIAL),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_bind(udp, "127.0.0.1", 0, FUV_UDP_RECVMMSG),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_bind(udp, "127.0.0.1", 0, FUV_UDP_IPV6ONLY),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_bind_addr(udp, NULL, 0), FUV_EINVAL);
  FUV_ASSERT_OK(fuv_udp_bind(udp, "127.0.0.1", 0, 0));
  FUV_ASSERT_ERR(fuv_udp_bind(udp, "127.0.0.1", 0, 0), FUV_EINVAL);
  /* A port taken without REUSEADDR. */
  port = bound_port(udp);
  FUV_ASSERT_OK(fuv_udp_new(&bound, loop));
  FUV_ASSERT_ERR(fuv_udp_bind(bound, "127.0.0.1", port, 0), FUV_EADDRINUSE);
  /* An address that is not ours. */
  FUV_ASSERT_ERR(fuv_udp_bind(bound, "192.0.2.123", 0, 0), FUV_EADDRNOTAVAIL);
  FUV_ASSERT_ERR(fuv_udp_getsockname(udp, name, 4, &port), FUV_ENOSPC);
  FUV_ASSERT_ERR(fuv_udp_getsockname(udp, NULL, sizeof name, &port),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_getsockname(udp, name, sizeof name, NULL),
                 FUV_EINVAL);

  /* Sending. */
  FUV_ASSERT_ERR(fuv_udp_send(udp, "x", 1, "not-an-address", 9, NULL, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_send(udp, "x", 1, "127.0.0.1", -1, NULL, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_send(udp, "x", 1, "127.0.0.1", 65536, NULL, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_send(udp, "x", 1, "127.0.0.1", 0, NULL, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_send(udp, NULL, 1, "127.0.0.1", 9, NULL, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_send_addr(udp, "x", 1, NULL, NULL, NULL),
                 FUV_EDESTADDRREQ);
  FUV_ASSERT_ERR(fuv_udp_try_send(udp, "x", 1, "127.0.0.1", 65536),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_try_send(udp, "x", 1, "::1::2", 9), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_try_send_many(udp, NULL, lens, 1, "127.0.0.1", 9),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_try_send_many(udp, bufs, NULL, 1, "127.0.0.1", 9),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_try_send_many(udp, bufs, lens, 1, "127.0.0.1", -1),
                 FUV_EINVAL);
  /* A NULL array of addresses is every datagram to the connected peer. */
  FUV_ASSERT_ERR(fuv_udp_try_send_many_addr(udp, bufs, lens, 1, NULL),
                 FUV_EDESTADDRREQ);
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_UNIX;
  FUV_ASSERT_ERR(fuv_udp_connect_addr(udp, (struct sockaddr *)&sin),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_connect(udp, "not-an-address", 9), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_connect(udp, "127.0.0.1", 65536), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_connect(udp, "127.0.0.1", -1), FUV_EINVAL);

  /* Receiving. */
  FUV_ASSERT_ERR(fuv_udp_recv_start(udp, NULL, NULL), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_recv_sync(udp, NULL, 16, NULL, 0, NULL, 0),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_recv_sync(udp, buf, 0, NULL, 0, NULL, 0),
                 FUV_EINVAL);

  /* Option values out of range. */
  FUV_ASSERT_ERR(fuv_udp_set_ttl(udp, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_ttl(udp, 256), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_multicast_ttl(udp, -1), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_multicast_ttl(udp, 256), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_tos(udp, -1), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_tos(udp, 256), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_ecn(udp, -1), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_ecn(udp, 4), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_gso(udp, -1), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_gso(udp, 65508), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_membership(udp, "127.0.0.1", NULL,
                                        FUV_JOIN_GROUP),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_membership(udp, NULL, NULL, FUV_JOIN_GROUP),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_membership(udp, "239.1.2.3", NULL, 7),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_multicast_interface(udp, "not-an-address"),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_recv_dest(udp, NULL, 0, NULL), FUV_EINVAL);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(open_takes_datagram_sockets_only) {
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *udp, *busy;
  struct fuv_test_dgrams dg;
  int port, rx_port;
  memset(&dg, 0, sizeof dg);

  FUV_ASSERT_OK(fuv_udp_new(&udp, loop));
  int tcp_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(tcp_fd, 0);
  FUV_ASSERT_ERR(fuv_udp_open(udp, tcp_fd), FUV_EINVAL);
  close(tcp_fd);
  FUV_ASSERT_ERR(fuv_udp_open(udp, -1), FUV_EBADF);
  int spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(spare, 0);
  close(spare);
  FUV_ASSERT_ERR(fuv_udp_open(udp, spare), FUV_EBADF);
  /* A file that is no socket at all. */
  int file = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(file, 0);
  ck_assert_int_lt(fuv_udp_open(udp, file), 0);
  close(file);
  ck_assert_int_lt(fuv_fileno(H(udp)), 0);

  /* A real datagram socket, bound elsewhere, works as a handle. */
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sin;
  ck_assert_int_ge(fd, 0);
  FUV_ASSERT_OK(fuv_ip4_addr("127.0.0.1", 0, &sin));
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
  FUV_ASSERT_OK(fuv_udp_open(udp, fd));
  ck_assert_int_eq(fuv_fileno(H(udp)), fd);
  ck_assert_int_ne(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
  port = bound_port(udp);
  FUV_ASSERT_ERR(fuv_udp_open(udp, fd), FUV_EBUSY);
  FUV_ASSERT_OK(fuv_udp_new_ex(&busy, loop, FUV_AF_INET, 0));
  int other = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  FUV_ASSERT_ERR(fuv_udp_open(busy, other), FUV_EBUSY);
  close(other);

  fuv_udp_t *rx = fuv_test_udp_bound(loop, "127.0.0.1", 0, &rx_port);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  FUV_ASSERT_OK(fuv_udp_send(udp, "opened", 6, "127.0.0.1", rx_port, NULL,
                             NULL));
  fuv_test_run_until(loop, &dg.count, 1, TIMEOUT_MS);
  assert_dgram(&dg, 0, "opened", 6);
  ck_assert_int_eq(dg.d[0].port, port);
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(every_call_on_a_closing_handle_is_einval) {
  fuv_loop_t *loop = new_loop();
  struct sends sends = {0, 0, 0};
  char name[FUV_IP_NAME_MAX], buf[16];
  int port, closed = 0;
  const char *bufs[1] = {"x"};
  size_t lens[1] = {1};
  struct sockaddr_in sin;
  fuv_udp_t *udp = fuv_test_udp_bound(loop, "127.0.0.1", 0, &port);
  FUV_ASSERT_OK(fuv_ip4_addr("127.0.0.1", port, &sin));
  FUV_ASSERT_OK(fuv_close(H(udp), fuv_test_count_close, &closed));
  ck_assert_int_eq(fuv_is_closing(H(udp)), 1);
  FUV_ASSERT_ERR(fuv_close(H(udp), NULL, NULL), FUV_EINVAL);

  FUV_ASSERT_ERR(fuv_udp_bind(udp, "127.0.0.1", 0, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_bind_addr(udp, (struct sockaddr *)&sin, 0),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_open(udp, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_connect(udp, "127.0.0.1", port), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_connect(udp, NULL, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_connect_addr(udp, (struct sockaddr *)&sin),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_getsockname(udp, name, sizeof name, &port),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_getpeername(udp, name, sizeof name, &port),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_send(udp, "x", 1, "127.0.0.1", port, count_send,
                              &sends),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_send_addr(udp, "x", 1, (struct sockaddr *)&sin,
                                   count_send, &sends),
                 FUV_EINVAL);
  fuv_req_t *req = (fuv_req_t *)&req;
  FUV_ASSERT_ERR(fuv_udp_send_req(udp, "x", 1, "127.0.0.1", port, count_send,
                                  &sends, &req),
                 FUV_EINVAL);
  ck_assert_ptr_null(req);
  FUV_ASSERT_ERR(fuv_udp_try_send(udp, "x", 1, "127.0.0.1", port), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_try_send_addr(udp, "x", 1, (struct sockaddr *)&sin),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_try_send_many(udp, bufs, lens, 1, "127.0.0.1", port),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_recv_start(udp, fuv_test_record_dgram, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_recv_stop(udp), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_broadcast(udp, 1), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_ttl(udp, 5), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_get_ttl(udp), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_multicast_ttl(udp, 5), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_multicast_loop(udp, 1), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_multicast_interface(udp, "127.0.0.1"),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_membership(udp, "239.1.2.3", NULL,
                                        FUV_JOIN_GROUP),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_source_membership(udp, "232.1.2.3", NULL,
                                               "127.0.0.1", FUV_JOIN_GROUP),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_tos(udp, 0x20), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_get_tos(udp), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_ecn(udp, 1), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_get_ecn(udp), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_recv_dest(udp, 1), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_recv_tos(udp, 1), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_recv_dest(udp, name, sizeof name, &port), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_recv_tos(udp), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_gso(udp, 1200), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_get_gso(udp), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_gro(udp, 1), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_get_gro(udp), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_send_sync(udp, "x", 1, "127.0.0.1", port, 0),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_recv_sync(udp, buf, sizeof buf, name, sizeof name,
                                   &port, 0),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_set_send_buffer_size(H(udp), 65536), FUV_EINVAL);
  ck_assert_uint_eq(fuv_udp_get_send_queue_size(udp), 0);
  ck_assert_uint_eq(fuv_udp_get_send_queue_count(udp), 0);
  fuv_test_run_until(loop, &closed, 1, TIMEOUT_MS);
  ck_assert_int_eq(sends.count, 0);
  fuv_test_free_loop(loop);
}
END_TEST

/* IPV6ONLY: an IPv6 socket bound with it hears no IPv4; without it, a
 * dual-stack socket does, and reports the sender as a mapped address. */
START_TEST(ipv6only_refuses_ipv4_and_dual_stack_accepts_it) {
  if (fuv_test_skip_ipv6("::1", "ipv6only_refuses_ipv4_and_dual_stack_accepts_it"))
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
  port = bound_port(only);
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
  assert_dgram(&dg, 0, "v4", 2);
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
  tcase_add_loop_test(tc, ping_pong_reports_the_sender, 0, FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, unbound_handles_are_bound_by_send_and_recv_start, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, try_send_and_try_send_many_arrive_in_order, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, try_send_many_addr_sends_each_to_its_address, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, the_largest_datagram_arrives_whole, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, an_overlong_datagram_is_emsgsize_at_call_time, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, an_empty_datagram_is_nread_0_with_an_address, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_test(tc, ipv6only_refuses_ipv4_and_dual_stack_accepts_it);
  suite_add_tcase(s, tc);

  tc = tcase_create("connected");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, connected_sockets_send_without_an_address, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, disconnect_keeps_the_bound_port, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, a_connected_socket_reports_econnrefused, 0,
                      FUV_TEST_NFAMILIES);
  suite_add_tcase(s, tc);

  tc = tcase_create("receiving");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc,
                      recv_stop_stops_callbacks_and_restart_gets_what_waited,
                      0, FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, recv_stop_in_the_callback_stops_a_burst, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc,
                      closing_while_receiving_runs_no_more_receive_callbacks,
                      0, FUV_TEST_NFAMILIES);
  suite_add_tcase(s, tc);

  tc = tcase_create("misuse");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, bad_arguments_are_einval);
  tcase_add_test(tc, open_takes_datagram_sockets_only);
  tcase_add_test(tc, every_call_on_a_closing_handle_is_einval);
  suite_add_tcase(s, tc);
  return s;
}

FUV_TEST_MAIN(udp_suite)
