/*
 * UDP datagrams at the edges, over real loopback sockets, IPv4 and IPv6:
 * the largest datagram arrives whole on both receive paths, one longer
 * than fuv_udp_set_max_datagram is cut and flagged FUV_UDP_PARTIAL, one
 * longer than UDP allows is FUV_EMSGSIZE, and an empty one is nread 0
 * with the sender's address.
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

/* ---- the largest and the empty datagram --------------------------------- */

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
  struct fuv_test_sends sends = {0, 0, 0};
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
    port[r] = fuv_test_udp_port(rx[r]);
    FUV_ASSERT_OK(fuv_udp_recv_start(rx[r], fuv_test_record_dgram, &dg[r]));
  }
  ck_assert_int_eq(fuv_udp_using_recvmmsg(rx[1]), 1);
  FUV_ASSERT_OK(fuv_udp_new(&tx, loop));
  for (int r = 0; r < 2; r++) {
    FUV_ASSERT_OK(fuv_udp_send(tx, big, max, ip, port[r], fuv_test_count_send,
                               &sends));
    /* A small one after it: the big one did not spill into it. */
    FUV_ASSERT_OK(fuv_udp_send(tx, "after", 5, ip, port[r], fuv_test_count_send,
                               &sends));
  }
  for (int r = 0; r < 2; r++) {
    fuv_test_run_until(loop, &dg[r].count, 2, TIMEOUT_MS);
    fuv_test_assert_dgram(&dg[r], 0, big, max);
    fuv_test_assert_dgram(&dg[r], 1, "after", 5);
  }
  fuv_test_run_until(loop, &sends.count, 4, TIMEOUT_MS);
  ck_assert_int_eq(sends.failed, 0);
  free(big);
  fuv_test_dgrams_free(&dg[0]);
  fuv_test_dgrams_free(&dg[1]);
  fuv_test_free_loop(loop);
}
END_TEST

/* With fuv_udp_set_max_datagram, a datagram longer than the size is cut
 * to it and flagged FUV_UDP_PARTIAL, the rest discarded; one of exactly
 * the size is not flagged. Both receive paths (recvmsg and recvmmsg).
 * With GRO on, the whole 64 KiB is used whatever the size. */
START_TEST(a_datagram_longer_than_max_datagram_is_partial) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "a_datagram_longer_than_max_datagram_is_partial"))
    return;
  enum { MAXD = 100 };
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx[2], *tx;
  struct fuv_test_dgrams dg[2];
  int port[2];
  char big[500];
  static const size_t sizes[] = {500, MAXD, MAXD - 1, MAXD + 1, 3};
  enum { NSIZES = sizeof sizes / sizeof sizes[0] };
  fuv_test_fill_pattern(big, sizeof big, 77);
  memset(dg, 0, sizeof dg);

  for (int r = 0; r < 2; r++) {
    FUV_ASSERT_OK(fuv_udp_new_ex(&rx[r], loop,
                                 _i == 0 ? FUV_AF_INET : FUV_AF_INET6,
                                 r ? FUV_UDP_RECVMMSG : 0));
    ck_assert_int_eq(fuv_udp_get_max_datagram(rx[r]), 65536);
    FUV_ASSERT_ERR(fuv_udp_set_max_datagram(rx[r], 0), FUV_EINVAL);
    FUV_ASSERT_ERR(fuv_udp_set_max_datagram(rx[r], -1), FUV_EINVAL);
    FUV_ASSERT_ERR(fuv_udp_set_max_datagram(rx[r], 65537), FUV_EINVAL);
    ck_assert_int_eq(fuv_udp_get_max_datagram(rx[r]), 65536);
    FUV_ASSERT_OK(fuv_udp_set_max_datagram(rx[r], MAXD));
    ck_assert_int_eq(fuv_udp_get_max_datagram(rx[r]), MAXD);
    FUV_ASSERT_OK(fuv_udp_bind(rx[r], ip, 0, 0));
    port[r] = fuv_test_udp_port(rx[r]);
  }
  FUV_ASSERT_OK(fuv_udp_new(&tx, loop));
  /* Waiting in the socket first, so that recvmmsg takes them together. */
  for (int r = 0; r < 2; r++)
    for (size_t k = 0; k < NSIZES; k++)
      ck_assert_int_eq(fuv_udp_try_send(tx, big, sizes[k], ip, port[r]),
                       (int)sizes[k]);
  for (int r = 0; r < 2; r++)
    FUV_ASSERT_OK(fuv_udp_recv_start(rx[r], fuv_test_record_dgram, &dg[r]));
  for (int r = 0; r < 2; r++) {
    fuv_test_run_until(loop, &dg[r].count, NSIZES, TIMEOUT_MS);
    for (int k = 0; k < NSIZES; k++) {
      size_t want = sizes[k] > MAXD ? MAXD : sizes[k];
      unsigned partial = sizes[k] > MAXD ? FUV_UDP_PARTIAL : 0;
      ck_assert_msg(dg[r].d[k].nread == (ssize_t)want,
                    "%s datagram %d of %zu bytes: nread %zd, wanted %zu",
                    r ? "recvmmsg" : "recvmsg", k, sizes[k], dg[r].d[k].nread,
                    want);
      ck_assert_msg((dg[r].d[k].flags & FUV_UDP_PARTIAL) == partial,
                    "%s datagram %d of %zu bytes: flags %u",
                    r ? "recvmmsg" : "recvmsg", k, sizes[k],
                    dg[r].d[k].flags);
      ck_assert(memcmp(dg[r].d[k].data, big, want) == 0);
      ck_assert_int_eq(dg[r].d[k].has_addr, 1);
    }
  }

  /* GRO needs the whole 64 KiB: nothing is cut then. */
  int r = fuv_udp_set_gro(rx[0], 1);
  if (r == FUV_ENOTSUP) {
    printf("note: a_datagram_longer_than_max_datagram_is_partial: no GRO "
           "here (ENOTSUP), its part not run\n");
  } else {
    FUV_ASSERT_OK(r);
    ck_assert_int_eq(fuv_udp_try_send(tx, big, sizeof big, ip, port[0]),
                     (int)sizeof big);
    fuv_test_run_until(loop, &dg[0].count, NSIZES + 1, TIMEOUT_MS);
    ck_assert_int_eq(dg[0].d[NSIZES].nread, (ssize_t)sizeof big);
    ck_assert_uint_eq(dg[0].d[NSIZES].flags & FUV_UDP_PARTIAL, 0);
    ck_assert(memcmp(dg[0].d[NSIZES].data, big, sizeof big) == 0);
  }
  fuv_test_dgrams_free(&dg[0]);
  fuv_test_dgrams_free(&dg[1]);
  fuv_test_free_loop(loop);
}
END_TEST

/* A RECVMMSG handle with a small max_datagram still gets every datagram of
 * a burst whole and in order. */
START_TEST(recvmmsg_with_a_small_max_datagram_gets_a_burst_whole) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip,
                         "recvmmsg_with_a_small_max_datagram_gets_a_burst_whole"))
    return;
  enum { N = 64, SIZE = 1024 };
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx, *tx;
  struct fuv_test_dgrams dg;
  const char *bufs[N];
  size_t lens[N];
  int port;
  char *data = malloc(N * SIZE);
  ck_assert_ptr_nonnull(data);
  fuv_test_fill_pattern(data, N * SIZE, 21);
  memset(&dg, 0, sizeof dg);
  FUV_ASSERT_OK(fuv_udp_new_ex(&rx, loop, _i == 0 ? FUV_AF_INET : FUV_AF_INET6,
                               FUV_UDP_RECVMMSG));
  FUV_ASSERT_OK(fuv_udp_set_max_datagram(rx, SIZE));
  FUV_ASSERT_OK(fuv_udp_bind(rx, ip, 0, 0));
  port = fuv_test_udp_port(rx);
  FUV_ASSERT_OK(fuv_udp_new(&tx, loop));
  for (int i = 0; i < N; i++) {
    bufs[i] = data + i * SIZE;
    lens[i] = i % 3 == 0 ? SIZE : (size_t)(i + 1);
  }
  ck_assert_int_eq(fuv_udp_try_send_many(tx, bufs, lens, N, ip, port), N);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  fuv_test_run_until(loop, &dg.count, N, TIMEOUT_MS);
  for (int i = 0; i < N; i++)
    fuv_test_assert_dgram(&dg, i, bufs[i], lens[i]);
  free(data);
  fuv_test_dgrams_free(&dg);
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
  struct fuv_test_sends sends = {0, 0, 0};
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
  FUV_ASSERT_ERR(fuv_udp_send(tx, big, 65536 + 1, ip, port, fuv_test_count_send,
                              &sends),
                 FUV_EMSGSIZE);
  FUV_ASSERT_ERR(fuv_udp_send(tx, big, max + 1, ip, port, fuv_test_count_send,
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
  struct fuv_test_sends sends = {0, 0, 0};
  int port, tx_port;
  memset(&dg, 0, sizeof dg);

  rx = fuv_test_udp_bound(loop, ip, 0, &port);
  tx = fuv_test_udp_bound(loop, ip, 0, &tx_port);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  FUV_ASSERT_OK(fuv_udp_send(tx, "", 0, ip, port, fuv_test_count_send, &sends));
  ck_assert_int_eq(fuv_udp_try_send(tx, "", 0, ip, port), 0);
  FUV_ASSERT_OK(fuv_udp_send(tx, "x", 1, ip, port, fuv_test_count_send,
                             &sends));
  fuv_test_run_until(loop, &dg.count, 3, TIMEOUT_MS);
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(dg.d[i].nread, 0);
    ck_assert_int_eq(dg.d[i].has_addr, 1);
    ck_assert_str_eq(dg.d[i].ip, ip);
    ck_assert_int_eq(dg.d[i].port, tx_port);
    ck_assert_uint_eq(dg.d[i].flags, 0);
  }
  fuv_test_assert_dgram(&dg, 2, "x", 1);
  /* No spurious "nothing to read" calls follow. */
  fuv_run(loop, FUV_RUN_NOWAIT);
  ck_assert_int_eq(dg.count, 3);
  fuv_test_run_until(loop, &sends.count, 2, TIMEOUT_MS);
  ck_assert_int_eq(sends.failed, 0);
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

static Suite *udp_datagrams_suite(void) {
  Suite *s = suite_create("udp_datagrams_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("datagrams");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, the_largest_datagram_arrives_whole, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, a_datagram_longer_than_max_datagram_is_partial, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc,
                      recvmmsg_with_a_small_max_datagram_gets_a_burst_whole,
                      0, FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, an_overlong_datagram_is_emsgsize_at_call_time, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, an_empty_datagram_is_nread_0_with_an_address, 0,
                      FUV_TEST_NFAMILIES);
  suite_add_tcase(s, tc);
  return s;
}

FUV_TEST_MAIN(udp_datagrams_suite)
