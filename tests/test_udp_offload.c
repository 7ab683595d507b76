/*
 * UDP offloads and batches over real loopback sockets, IPv4 and IPv6:
 * GSO cuts one send into segments, GRO's coalesced buffers are split
 * again into one callback per datagram (each with its destination and TOS
 * byte), and recvmmsg handles deliver bursts whole and in order. When the
 * kernel lacks GSO or GRO the case says so and checks that ENOTSUP is what
 * came back.
 */
#include "fuv_test.h"

#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <sys/ioctl.h>
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

/* ---- GSO and GRO -------------------------------------------------------- */

enum { SEG = 1200, NSEG = 10, TAIL = 500 };

/* Sets GSO on tx; returns 0, or, when the kernel lacks it, prints why and
 * returns 1 after asserting that ENOTSUP is what came back. */
static int gso_unsupported(fuv_udp_t *tx, const char *test) {
  int r = fuv_udp_set_gso(tx, SEG);
  if (r == FUV_ENOTSUP) {
    printf("SKIPPED %s: fuv_udp_set_gso gave ENOTSUP: this kernel has no "
           "UDP_SEGMENT\n", test);
    fflush(stdout);
    return 1;
  }
  FUV_ASSERT_OK(r);
  ck_assert_int_eq(fuv_udp_get_gso(tx), SEG);
  ck_assert_int_eq(fuv_test_int_option(tx, SOL_UDP, UDP_SEGMENT), SEG);
  return 0;
}

static void assert_segments(const struct fuv_test_dgrams *dg, int first,
                            const char *sent, size_t len) {
  int n = (int)((len + SEG - 1) / SEG);
  for (int k = 0; k < n; k++) {
    size_t seg = k < n - 1 ? SEG : len - (size_t)k * SEG;
    fuv_test_assert_dgram(dg, first + k, sent + (size_t)k * SEG, seg);
  }
}

/* One send of NSEG * SEG bytes leaves as NSEG datagrams of SEG bytes, one
 * of NSEG * SEG + TAIL as NSEG of SEG and one of TAIL. */
START_TEST(gso_cuts_one_send_into_segments) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "gso_cuts_one_send_into_segments"))
    return;
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx, *tx;
  struct fuv_test_dgrams dg;
  struct sockaddr_storage ss;
  int len = sizeof ss;
  int port, tx_port;
  char *data = malloc(NSEG * SEG + TAIL);
  ck_assert_ptr_nonnull(data);
  fuv_test_fill_pattern(data, NSEG * SEG + TAIL, 99);
  memset(&dg, 0, sizeof dg);

  rx = fuv_test_udp_bound(loop, ip, 0, &port);
  FUV_ASSERT_OK(fuv_udp_getsockname_addr(rx, (struct sockaddr *)&ss, &len));
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  tx = fuv_test_udp_bound(loop, ip, 0, &tx_port);
  ck_assert_int_eq(fuv_udp_get_gso(tx), 0);
  if (gso_unsupported(tx, "gso_cuts_one_send_into_segments")) {
    free(data);
    fuv_test_free_loop(loop);
    return;
  }
  FUV_ASSERT_OK(fuv_udp_send(tx, data, NSEG * SEG, ip, port, NULL, NULL));
  fuv_test_run_until(loop, &dg.count, NSEG, TIMEOUT_MS);
  assert_segments(&dg, 0, data, NSEG * SEG);
  ck_assert_int_eq(fuv_udp_try_send_addr(tx, data, NSEG * SEG + TAIL,
                                         (struct sockaddr *)&ss),
                   NSEG * SEG + TAIL);
  fuv_test_run_until(loop, &dg.count, 2 * NSEG + 1, TIMEOUT_MS);
  assert_segments(&dg, NSEG, data, NSEG * SEG + TAIL);
  for (int i = 0; i < dg.count; i++)
    ck_assert_int_eq(dg.d[i].port, tx_port);
  /* A datagram no longer than a segment goes as it is. */
  ck_assert_int_eq(fuv_udp_try_send(tx, "short", 5, ip, port), 5);
  fuv_test_run_until(loop, &dg.count, 2 * NSEG + 2, TIMEOUT_MS);
  fuv_test_assert_dgram(&dg, 2 * NSEG + 1, "short", 5);
  /* Off again: one send, one datagram. */
  FUV_ASSERT_OK(fuv_udp_set_gso(tx, 0));
  ck_assert_int_eq(fuv_udp_get_gso(tx), 0);
  ck_assert_int_eq(fuv_udp_try_send(tx, data, 3 * SEG, ip, port), 3 * SEG);
  fuv_test_run_until(loop, &dg.count, 2 * NSEG + 3, TIMEOUT_MS);
  fuv_test_assert_dgram(&dg, 2 * NSEG + 2, data, 3 * SEG);
  FUV_ASSERT_ERR(fuv_udp_set_gso(tx, 65508), FUV_EINVAL);
  fuv_test_run_for(loop, 50);
  ck_assert_int_eq(dg.count, 2 * NSEG + 3);
  free(data);
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

/* The receiver asks for GRO; the kernel hands it the sender's GSO burst
 * coalesced, and flatuv still calls back once per datagram, with the right
 * sizes and bytes. Both receive paths (recvmsg and recvmmsg). */
START_TEST(gro_delivers_every_datagram_separately) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "gro_delivers_every_datagram_separately"))
    return;
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx[2], *tx;
  struct fuv_test_dgrams dg[2];
  int port[2], r;
  char *data = malloc(NSEG * SEG + TAIL);
  ck_assert_ptr_nonnull(data);
  fuv_test_fill_pattern(data, NSEG * SEG + TAIL, 1234);
  memset(dg, 0, sizeof dg);

  for (int i = 0; i < 2; i++) {
    FUV_ASSERT_OK(fuv_udp_new_ex(&rx[i], loop,
                                 _i == 0 ? FUV_AF_INET : FUV_AF_INET6,
                                 i ? FUV_UDP_RECVMMSG : 0));
    FUV_ASSERT_OK(fuv_udp_bind(rx[i], ip, 0, 0));
    port[i] = fuv_test_udp_port(rx[i]);
    ck_assert_int_eq(fuv_udp_get_gro(rx[i]), 0);
    r = fuv_udp_set_gro(rx[i], 1);
    if (r == FUV_ENOTSUP) {
      printf("SKIPPED gro_delivers_every_datagram_separately: "
             "fuv_udp_set_gro gave ENOTSUP: this kernel has no UDP_GRO\n");
      free(data);
      fuv_test_free_loop(loop);
      return;
    }
    FUV_ASSERT_OK(r);
    ck_assert_int_eq(fuv_udp_get_gro(rx[i]), 1);
    ck_assert_int_ne(fuv_test_int_option(rx[i], SOL_UDP, UDP_GRO), 0);
    FUV_ASSERT_OK(fuv_udp_recv_start(rx[i], fuv_test_record_dgram, &dg[i]));
  }
  tx = fuv_test_udp_bound(loop, ip, 0, &r);
  if (gso_unsupported(tx, "gro_delivers_every_datagram_separately")) {
    free(data);
    fuv_test_free_loop(loop);
    return;
  }
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(fuv_udp_try_send(tx, data, NSEG * SEG, ip, port[i]),
                     NSEG * SEG);
    ck_assert_int_eq(fuv_udp_try_send(tx, data, NSEG * SEG + TAIL, ip,
                                      port[i]),
                     NSEG * SEG + TAIL);
  }
  /* And datagrams of other sizes from a sender without GSO, in a batch. */
  fuv_udp_t *plain;
  FUV_ASSERT_OK(fuv_udp_new(&plain, loop));
  const char *bufs[4] = {data, data + 1, data + 2, data + 3};
  size_t lens[4] = {700, 700, 1500, 1};
  for (int i = 0; i < 2; i++)
    ck_assert_int_eq(fuv_udp_try_send_many(plain, bufs, lens, 4, ip, port[i]),
                     4);
  for (int i = 0; i < 2; i++) {
    fuv_test_run_until(loop, &dg[i].count, 2 * NSEG + 1 + 4, TIMEOUT_MS);
    assert_segments(&dg[i], 0, data, NSEG * SEG);
    assert_segments(&dg[i], NSEG, data, NSEG * SEG + TAIL);
    for (int k = 0; k < 4; k++)
      fuv_test_assert_dgram(&dg[i], 2 * NSEG + 1 + k, bufs[k], lens[k]);
  }
  FUV_ASSERT_OK(fuv_udp_set_gro(rx[0], 0));
  ck_assert_int_eq(fuv_udp_get_gro(rx[0]), 0);
  fuv_test_run_for(loop, 50);
  ck_assert_int_eq(dg[0].count, 2 * NSEG + 5);
  ck_assert_int_eq(dg[1].count, 2 * NSEG + 5);
  free(data);
  fuv_test_dgrams_free(&dg[0]);
  fuv_test_dgrams_free(&dg[1]);
  fuv_test_free_loop(loop);
}
END_TEST

/* Records a datagram, then stops receiving: the callback of a reader that
 * takes one datagram at a time. */
static void record_and_stop(fuv_udp_t *udp, ssize_t nread, const char *buf,
                            const struct sockaddr *addr, unsigned int flags,
                            void *arg) {
  fuv_test_record_dgram(udp, nread, buf, addr, flags, arg);
  FUV_ASSERT_OK(fuv_udp_recv_stop(udp));
}

/* No datagram of a coalesced buffer is lost or merged: not when GRO is
 * turned off with the buffer queued (the kernel's option stays on), nor
 * when a synchronous receive takes the first, nor when the callback stops
 * part-way (the rest comes first when receiving starts again, though
 * nothing more arrives). Both receive paths. */
START_TEST(gro_buffers_are_never_merged_or_lost) {
  const char *ip = fuv_test_loopback[_i / 2];
  if (fuv_test_skip_ipv6(ip, "gro_buffers_are_never_merged_or_lost"))
    return;
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx, *tx;
  struct fuv_test_dgrams dg;
  char buf[2 * SEG], from[FUV_IP_NAME_MAX];
  int port, tx_port, from_port, r;
  char *data = malloc(NSEG * SEG);
  ck_assert_ptr_nonnull(data);
  fuv_test_fill_pattern(data, NSEG * SEG, 77);
  memset(&dg, 0, sizeof dg);

  FUV_ASSERT_OK(fuv_udp_new_ex(&rx, loop, _i / 2 ? FUV_AF_INET6 : FUV_AF_INET,
                               _i % 2 ? FUV_UDP_RECVMMSG : 0));
  FUV_ASSERT_OK(fuv_udp_bind(rx, ip, 0, 0));
  port = fuv_test_udp_port(rx);
  r = fuv_udp_set_gro(rx, 1);
  tx = fuv_test_udp_bound(loop, ip, 0, &tx_port);
  if (r == FUV_ENOTSUP || gso_unsupported(tx, "gro_buffers_are_never_merged_or_lost")) {
    if (r == FUV_ENOTSUP)
      printf("SKIPPED gro_buffers_are_never_merged_or_lost: fuv_udp_set_gro "
             "gave ENOTSUP: this kernel has no UDP_GRO\n");
    free(data);
    fuv_test_free_loop(loop);
    return;
  }
  FUV_ASSERT_OK(r);
  ck_assert_int_eq(fuv_udp_try_send(tx, data, NSEG * SEG, ip, port),
                   NSEG * SEG);
  /* Off with the burst queued: reported off, still split. */
  FUV_ASSERT_OK(fuv_udp_set_gro(rx, 0));
  ck_assert_int_eq(fuv_udp_get_gro(rx), 0);
  ck_assert_int_ne(fuv_test_int_option(rx, SOL_UDP, UDP_GRO), 0);
  /* Two synchronous receives take the first two datagrams, one each. */
  for (int k = 0; k < 2; k++) {
    r = fuv_udp_recv_sync(rx, buf, sizeof buf, from, sizeof from, &from_port,
                          TIMEOUT_MS);
    ck_assert_int_eq(r, SEG);
    ck_assert_int_eq(memcmp(buf, data + (size_t)k * SEG, SEG), 0);
    ck_assert_int_eq(from_port, tx_port);
  }
  /* A reader taking one at a time gets each of the others in turn. */
  for (int k = 2; k < NSEG; k++) {
    FUV_ASSERT_OK(fuv_udp_recv_start(rx, record_and_stop, &dg));
    fuv_test_run_until(loop, &dg.count, k - 1, TIMEOUT_MS);
  }
  ck_assert_int_eq(dg.count, NSEG - 2);
  for (int k = 2; k < NSEG; k++) {
    fuv_test_assert_dgram(&dg, k - 2, data + (size_t)k * SEG, SEG);
    ck_assert_int_eq(dg.d[k - 2].port, tx_port);
  }
  /* Nothing is left: a synchronous receive times out. */
  ck_assert_int_eq(fuv_udp_recv_sync(rx, buf, sizeof buf, NULL, 0, NULL, 20),
                   FUV_ETIMEDOUT);
  free(data);
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

/* A GSO burst received with GRO, destination and TOS on: every datagram
 * split from the coalesced buffer reports the destination and TOS byte,
 * on both receive paths. */
START_TEST(split_datagrams_report_destination_and_tos) {
  /* _i: IPv4, IPv6, then both again receiving with recvmmsg. */
  const char *ip = fuv_test_loopback[_i % 2];
  if (fuv_test_skip_ipv6(ip, "split_datagrams_report_destination_and_tos"))
    return;
  int v6 = _i % 2 == 1;
  fuv_loop_t *loop = new_loop();
  struct fuv_test_meta m;
  int port, tx_port, r;
  char *data = malloc(NSEG * SEG);
  ck_assert_ptr_nonnull(data);
  fuv_test_fill_pattern(data, NSEG * SEG, 4321);
  memset(&m, 0, sizeof m);
  fuv_udp_t *rx = fuv_test_udp_receiver(loop, v6 ? "::" : "0.0.0.0", _i >= 2,
                                        &port);
  r = fuv_udp_set_gro(rx, 1);
  if (r == FUV_ENOTSUP) {
    printf("SKIPPED split_datagrams_report_destination_and_tos: "
           "fuv_udp_set_gro gave ENOTSUP: this kernel has no UDP_GRO\n");
    free(data);
    fuv_test_free_loop(loop);
    return;
  }
  FUV_ASSERT_OK(r);
  FUV_ASSERT_OK(fuv_udp_set_recv_dest(rx, 1));
  FUV_ASSERT_OK(fuv_udp_set_recv_tos(rx, 1));
  fuv_udp_t *tx = fuv_test_udp_bound(loop, ip, 0, &tx_port);
  if (gso_unsupported(tx, "split_datagrams_report_destination_and_tos")) {
    free(data);
    fuv_test_free_loop(loop);
    return;
  }
  FUV_ASSERT_OK(fuv_udp_set_tos(tx, 0x2a));
  ck_assert_int_eq(fuv_udp_try_send(tx, data, NSEG * SEG, ip, port),
                   NSEG * SEG);
  ck_assert_int_eq(fuv_udp_try_send(tx, data, NSEG * SEG, ip, port),
                   NSEG * SEG);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_meta, &m));
  fuv_test_run_until(loop, &m.count, 2 * NSEG, TIMEOUT_MS);
  for (int i = 0; i < 2 * NSEG; i++) {
    ck_assert_int_eq(m.nread[i], SEG);
    ck_assert(memcmp(m.data[i], data + (i % NSEG) * SEG, 31) == 0);
    ck_assert_msg(m.dest_err[i] == 0, "datagram %d: recv_dest gave %s", i,
                  fuv_err_name(m.dest_err[i]));
    ck_assert_str_eq(m.dest[i], ip);
    ck_assert_int_eq(m.dest_port[i], port);
    ck_assert_msg(m.tos[i] == 0x2a, "datagram %d: recv_tos gave %d", i,
                  m.tos[i]);
  }
  free(data);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- recvmmsg ----------------------------------------------------------- */

enum { BURST = 64 };

/* A handle that receives with recvmmsg gets a burst from two senders, each
 * datagram whole, in order, with its own sender. */
START_TEST(recvmmsg_delivers_a_burst_in_order) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "recvmmsg_delivers_a_burst_in_order"))
    return;
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx, *tx[2];
  struct fuv_test_dgrams dg;
  int port, tx_port[2];
  char *data = malloc(BURST * 1024);
  const char *bufs[BURST];
  size_t lens[BURST];
  ck_assert_ptr_nonnull(data);
  fuv_test_fill_pattern(data, BURST * 1024, 5);
  memset(&dg, 0, sizeof dg);

  FUV_ASSERT_OK(fuv_udp_new_ex(&rx, loop,
                               _i == 0 ? FUV_AF_INET : FUV_AF_INET6,
                               FUV_UDP_RECVMMSG));
  ck_assert_int_eq(fuv_udp_using_recvmmsg(rx), 1);
  FUV_ASSERT_OK(fuv_udp_bind(rx, ip, 0, 0));
  port = fuv_test_udp_port(rx);
  ck_assert_int_eq(fuv_udp_using_recvmmsg(rx), 1);
  for (int s = 0; s < 2; s++)
    tx[s] = fuv_test_udp_bound(loop, ip, 0, &tx_port[s]);
  for (int i = 0; i < BURST; i++) {
    bufs[i] = data + i * 1024;
    lens[i] = (size_t)(1 + (i * 37) % 1024);
  }
  /* All of the burst waits in the socket before receiving starts, so that
   * recvmmsg takes many at once. */
  ck_assert_int_eq(fuv_udp_try_send_many(tx[0], bufs, lens, BURST / 2, ip,
                                         port),
                   BURST / 2);
  ck_assert_int_eq(fuv_udp_try_send_many(tx[1], bufs + BURST / 2,
                                         lens + BURST / 2, BURST / 2, ip,
                                         port),
                   BURST / 2);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  fuv_test_run_until(loop, &dg.count, BURST, TIMEOUT_MS);
  for (int i = 0; i < BURST; i++) {
    fuv_test_assert_dgram(&dg, i, bufs[i], lens[i]);
    ck_assert_int_eq(dg.d[i].port, tx_port[i < BURST / 2 ? 0 : 1]);
    ck_assert_str_eq(dg.d[i].ip, ip);
  }
  /* And one at a time as they come. */
  for (int i = 0; i < 5; i++) {
    FUV_ASSERT_OK(fuv_udp_send(tx[i % 2], bufs[i], lens[i], ip, port, NULL,
                               NULL));
    fuv_test_run_until(loop, &dg.count, BURST + i + 1, TIMEOUT_MS);
    fuv_test_assert_dgram(&dg, BURST + i, bufs[i], lens[i]);
  }
  /* An empty datagram is an empty datagram here too. */
  ck_assert_int_eq(fuv_udp_try_send(tx[0], "", 0, ip, port), 0);
  fuv_test_run_until(loop, &dg.count, BURST + 6, TIMEOUT_MS);
  ck_assert_int_eq(dg.d[BURST + 5].nread, 0);
  ck_assert_int_eq(dg.d[BURST + 5].has_addr, 1);
  free(data);
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

static Suite *udp_offload_suite(void) {
  Suite *s = suite_create("udp_offload_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("offload");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, gso_cuts_one_send_into_segments, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, gro_delivers_every_datagram_separately, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, gro_buffers_are_never_merged_or_lost, 0,
                      2 * FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, split_datagrams_report_destination_and_tos, 0,
                      2 * FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, recvmmsg_delivers_a_burst_in_order, 0,
                      FUV_TEST_NFAMILIES);
  suite_add_tcase(s, tc);
  return s;
}

FUV_TEST_MAIN(udp_offload_suite)
