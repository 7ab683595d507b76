/*
 * fuv_udp_send_sync and fuv_udp_recv_sync over real loopback sockets:
 * the sender reported, timeouts honoured (no earlier than asked, within a
 * generous bound: a sanity check, not a timing goal), truncation to the
 * caller's buffer, empty datagrams, EBUSY while receiving asynchronously,
 * and handles that work asynchronously afterwards.
 */
#include "fuv_test.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 10000
/* How much later than its timeout a call may return before we call it
 * broken. Generous, because the machine is small and shared. */

#define H(x) ((fuv_handle_t *)(x))

static fuv_loop_t *new_loop(void) {
  fuv_loop_t *loop = NULL;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  return loop;
}

/* fuv_udp_send_sync returns 0 (or, were it to count, the length). */
#define ASSERT_SENT(expr, len)                                               \
  do {                                                                       \
    int sent_r_ = (expr);                                                    \
    ck_assert_msg(sent_r_ == 0 || sent_r_ == (int)(len),                     \
                  "%s returned %d (%s)", #expr, sent_r_,                     \
                  fuv_err_name(sent_r_));                                    \
  } while (0)

START_TEST(recv_sync_returns_the_datagram_and_its_sender) {
  /* _i: IPv4, IPv6, then both again on handles made for recvmmsg. */
  const char *ip = fuv_test_loopback[_i % 2];
  if (fuv_test_skip_ipv6(ip, "recv_sync_returns_the_datagram_and_its_sender"))
    return;
  fuv_loop_t *loop = new_loop();
  char buf[64], from[FUV_IP_NAME_MAX];
  int port, tx_port, from_port = -1;
  fuv_udp_t *rx = fuv_test_udp_receiver(loop, ip, _i >= 2, &port);
  fuv_udp_t *tx = fuv_test_udp_bound(loop, ip, 0, &tx_port);

  ASSERT_SENT(fuv_udp_send_sync(tx, "hello", 5, ip, port, 5000), 5);
  ck_assert_int_eq(fuv_udp_recv_sync(rx, buf, sizeof buf, from, sizeof from,
                                     &from_port, 5000),
                   5);
  ck_assert(memcmp(buf, "hello", 5) == 0);
  ck_assert_str_eq(from, ip);
  ck_assert_int_eq(from_port, tx_port);
  /* Nothing asynchronous was started. */
  ck_assert_int_eq(fuv_is_active(H(rx)), 0);
  ck_assert_int_eq(fuv_is_active(H(tx)), 0);

  /* Two waiting datagrams come one per call, in order. */
  ASSERT_SENT(fuv_udp_send_sync(tx, "one", 3, ip, port, 5000), 3);
  ASSERT_SENT(fuv_udp_send_sync(tx, "two", 3, ip, port, 0), 3);
  ck_assert_int_eq(fuv_udp_recv_sync(rx, buf, sizeof buf, from, sizeof from,
                                     &from_port, 0),
                   3);
  ck_assert(memcmp(buf, "one", 3) == 0);
  ck_assert_int_eq(fuv_udp_recv_sync(rx, buf, sizeof buf, from, sizeof from,
                                     &from_port, 0),
                   3);
  ck_assert(memcmp(buf, "two", 3) == 0);

  /* Connected: no address to send_sync. */
  FUV_ASSERT_ERR(fuv_udp_send_sync(tx, "x", 1, NULL, 0, 1000),
                 FUV_EDESTADDRREQ);
  FUV_ASSERT_OK(fuv_udp_connect(tx, ip, port));
  ASSERT_SENT(fuv_udp_send_sync(tx, "peer", 4, NULL, 0, 5000), 4);
  FUV_ASSERT_ERR(fuv_udp_send_sync(tx, "x", 1, ip, port, 1000), FUV_EISCONN);
  ck_assert_int_eq(fuv_udp_recv_sync(rx, buf, sizeof buf, from, sizeof from,
                                     &from_port, 5000),
                   4);
  ck_assert(memcmp(buf, "peer", 4) == 0);
  ck_assert_int_eq(from_port, tx_port);

  /* The sender's address does not fit: ENOSPC, not a truncated name. */
  ASSERT_SENT(fuv_udp_send_sync(tx, "tiny", 4, NULL, 0, 5000), 4);
  ck_assert_int_lt(fuv_udp_recv_sync(rx, buf, sizeof buf, from, 3, &from_port,
                                     5000),
                   0);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(recv_sync_times_out_within_bounds) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "recv_sync_times_out_within_bounds"))
    return;
  fuv_loop_t *loop = new_loop();
  char buf[16], from[FUV_IP_NAME_MAX];
  int port, from_port;
  fuv_udp_t *rx = fuv_test_udp_bound(loop, ip, 0, &port);

  double start = fuv_test_now_ms();
  FUV_ASSERT_ERR(fuv_udp_recv_sync(rx, buf, sizeof buf, from, sizeof from,
                                   &from_port, 300),
                 FUV_ETIMEDOUT);
  fuv_test_assert_took(start, 300, "fuv_udp_recv_sync");
  start = fuv_test_now_ms();
  FUV_ASSERT_ERR(fuv_udp_recv_sync(rx, buf, sizeof buf, from, sizeof from,
                                   &from_port, 0),
                 FUV_ETIMEDOUT);
  fuv_test_assert_took(start, 0, "fuv_udp_recv_sync with timeout 0");
  /* The handle is fine afterwards. */
  fuv_udp_t *tx;
  FUV_ASSERT_OK(fuv_udp_new(&tx, loop));
  ASSERT_SENT(fuv_udp_send_sync(tx, "late", 4, ip, port, 1000), 4);
  ck_assert_int_eq(fuv_udp_recv_sync(rx, buf, sizeof buf, from, sizeof from,
                                     &from_port, 1000),
                   4);
  fuv_test_free_loop(loop);
}
END_TEST

struct delayed_send {
  const char *ip;
  int port;
  int delay_ms;
};

/* Sends one datagram from a plain socket after a delay. */
static void *send_later(void *arg) {
  struct delayed_send *ds = arg;
  struct sockaddr_storage ss;
  socklen_t len;
  memset(&ss, 0, sizeof ss);
  if (strchr(ds->ip, ':')) {
    fuv_ip6_addr(ds->ip, ds->port, (struct sockaddr_in6 *)&ss);
    len = sizeof(struct sockaddr_in6);
  } else {
    fuv_ip4_addr(ds->ip, ds->port, (struct sockaddr_in *)&ss);
    len = sizeof(struct sockaddr_in);
  }
  fuv_sleep((unsigned)ds->delay_ms);
  int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    sendto(fd, "later", 5, 0, (struct sockaddr *)&ss, len);
    close(fd);
  }
  return NULL;
}

/* A negative timeout waits for as long as it takes. */
START_TEST(recv_sync_with_a_negative_timeout_waits) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "recv_sync_with_a_negative_timeout_waits"))
    return;
  fuv_loop_t *loop = new_loop();
  char buf[16], from[FUV_IP_NAME_MAX];
  int port, from_port;
  pthread_t thread;
  fuv_udp_t *rx = fuv_test_udp_bound(loop, ip, 0, &port);
  struct delayed_send ds = {ip, port, 300};
  ck_assert_int_eq(pthread_create(&thread, NULL, send_later, &ds), 0);
  double start = fuv_test_now_ms();
  ck_assert_int_eq(fuv_udp_recv_sync(rx, buf, sizeof buf, from, sizeof from,
                                     &from_port, -1),
                   5);
  ck_assert_msg(fuv_test_now_ms() - start >= 250, "returned before the datagram "
                "was sent");
  ck_assert(memcmp(buf, "later", 5) == 0);
  ck_assert_str_eq(from, ip);
  ck_assert_int_eq(pthread_join(thread, NULL), 0);
  fuv_test_free_loop(loop);
}
END_TEST

/* A datagram longer than the buffer is truncated to it and the rest is
 * gone: the next call gets the next datagram. An empty datagram is 0. */
START_TEST(recv_sync_truncates_to_the_buffer) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "recv_sync_truncates_to_the_buffer"))
    return;
  fuv_loop_t *loop = new_loop();
  char big[1000], buf[1000], from[FUV_IP_NAME_MAX];
  int port, tx_port, from_port = -1;
  fuv_udp_t *rx = fuv_test_udp_bound(loop, ip, 0, &port);
  fuv_udp_t *tx = fuv_test_udp_bound(loop, ip, 0, &tx_port);
  fuv_test_fill_pattern(big, sizeof big, 3);

  ASSERT_SENT(fuv_udp_send_sync(tx, big, sizeof big, ip, port, 1000),
              sizeof big);
  ASSERT_SENT(fuv_udp_send_sync(tx, "next", 4, ip, port, 1000), 4);
  ASSERT_SENT(fuv_udp_send_sync(tx, "", 0, ip, port, 1000), 0);
  ASSERT_SENT(fuv_udp_send_sync(tx, "end", 3, ip, port, 1000), 3);
  memset(buf, 0, sizeof buf);
  ck_assert_int_eq(fuv_udp_recv_sync(rx, buf, 10, from, sizeof from,
                                     &from_port, 1000),
                   10);
  ck_assert(memcmp(buf, big, 10) == 0);
  ck_assert_int_eq(buf[10], 0); /* nothing written past len */
  ck_assert_int_eq(from_port, tx_port);
  ck_assert_int_eq(fuv_udp_recv_sync(rx, buf, sizeof buf, from, sizeof from,
                                     &from_port, 1000),
                   4);
  ck_assert(memcmp(buf, "next", 4) == 0);
  from_port = -1;
  ck_assert_int_eq(fuv_udp_recv_sync(rx, buf, sizeof buf, from, sizeof from,
                                     &from_port, 1000),
                   0);
  ck_assert_int_eq(from_port, tx_port);
  ck_assert_str_eq(from, ip);
  ck_assert_int_eq(fuv_udp_recv_sync(rx, buf, 1, from, sizeof from,
                                     &from_port, 1000),
                   1);
  ck_assert_int_eq(buf[0], 'e');
  FUV_ASSERT_ERR(fuv_udp_recv_sync(rx, buf, 1, from, sizeof from, &from_port,
                                   0),
                 FUV_ETIMEDOUT);

  /* The largest datagram, received with 65536 as the header advises. */
  size_t max = _i == 0 ? 65507 : 65527;
  char *huge = malloc(max + 1), *got = malloc(65536);
  ck_assert_ptr_nonnull(huge);
  ck_assert_ptr_nonnull(got);
  fuv_test_fill_pattern(huge, max + 1, 11);
  ASSERT_SENT(fuv_udp_send_sync(tx, huge, max, ip, port, 1000), max);
  FUV_ASSERT_ERR(fuv_udp_send_sync(tx, huge, max + 1, ip, port, 1000),
                 FUV_EMSGSIZE);
  ck_assert_int_eq(fuv_udp_recv_sync(rx, got, 65536, from, sizeof from,
                                     &from_port, 1000),
                   (int)max);
  ck_assert(memcmp(got, huge, max) == 0);
  free(huge);
  free(got);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(recv_sync_is_busy_while_receiving) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "recv_sync_is_busy_while_receiving"))
    return;
  fuv_loop_t *loop = new_loop();
  char buf[16], from[FUV_IP_NAME_MAX];
  int port, from_port;
  struct fuv_test_dgrams dg;
  memset(&dg, 0, sizeof dg);
  fuv_udp_t *rx = fuv_test_udp_bound(loop, ip, 0, &port);
  fuv_udp_t *tx;
  FUV_ASSERT_OK(fuv_udp_new(&tx, loop));

  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  ASSERT_SENT(fuv_udp_send_sync(tx, "async", 5, ip, port, 1000), 5);
  double start = fuv_test_now_ms();
  FUV_ASSERT_ERR(fuv_udp_recv_sync(rx, buf, sizeof buf, from, sizeof from,
                                   &from_port, 1000),
                 FUV_EBUSY);
  ck_assert_msg(fuv_test_now_ms() - start < 500, "EBUSY came only after waiting");
  /* The datagram went to the callback, not to the refused call. */
  fuv_test_run_until(loop, &dg.count, 1, TIMEOUT_MS);
  ck_assert_int_eq(dg.d[0].nread, 5);
  ck_assert(memcmp(dg.d[0].data, "async", 5) == 0);

  /* Stopped, the synchronous call works, and async again after it. */
  FUV_ASSERT_OK(fuv_udp_recv_stop(rx));
  ASSERT_SENT(fuv_udp_send_sync(tx, "sync", 4, ip, port, 1000), 4);
  ck_assert_int_eq(fuv_udp_recv_sync(rx, buf, sizeof buf, from, sizeof from,
                                     &from_port, 1000),
                   4);
  ck_assert(memcmp(buf, "sync", 4) == 0);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  ASSERT_SENT(fuv_udp_send_sync(tx, "again", 5, ip, port, 1000), 5);
  fuv_test_run_until(loop, &dg.count, 2, TIMEOUT_MS);
  ck_assert_int_eq(dg.d[1].nread, 5);
  ck_assert(memcmp(dg.d[1].data, "again", 5) == 0);
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

/* A handle used synchronously, then asynchronously, then synchronously. */
START_TEST(sync_and_async_calls_mix_on_one_handle) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "sync_and_async_calls_mix_on_one_handle"))
    return;
  fuv_loop_t *loop = new_loop();
  char buf[16], from[FUV_IP_NAME_MAX];
  int a_port, b_port, from_port;
  struct fuv_test_dgrams dg;
  memset(&dg, 0, sizeof dg);
  fuv_udp_t *a = fuv_test_udp_bound(loop, ip, 0, &a_port);
  fuv_udp_t *b = fuv_test_udp_bound(loop, ip, 0, &b_port);

  ASSERT_SENT(fuv_udp_send_sync(a, "s1", 2, ip, b_port, 1000), 2);
  ck_assert_int_eq(fuv_udp_recv_sync(b, buf, sizeof buf, from, sizeof from,
                                     &from_port, 1000),
                   2);
  ck_assert_int_eq(from_port, a_port);
  FUV_ASSERT_OK(fuv_udp_recv_start(a, fuv_test_record_dgram, &dg));
  FUV_ASSERT_OK(fuv_udp_send(b, "a1", 2, ip, a_port, NULL, NULL));
  fuv_test_run_until(loop, &dg.count, 1, TIMEOUT_MS);
  ck_assert_int_eq(dg.d[0].port, b_port);
  /* a sends synchronously while it receives asynchronously: different
   * directions, no EBUSY. */
  ASSERT_SENT(fuv_udp_send_sync(a, "s2", 2, ip, b_port, 1000), 2);
  ck_assert_int_eq(fuv_udp_recv_sync(b, buf, sizeof buf, from, sizeof from,
                                     &from_port, 1000),
                   2);
  ck_assert(memcmp(buf, "s2", 2) == 0);
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

/* A connected socket whose peer has no listener: the refusal comes back
 * from the synchronous calls too, as FUV_ECONNREFUSED, not as a timeout,
 * and the handle stays usable. */
START_TEST(sync_calls_report_econnrefused_on_a_connected_socket) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "sync_calls_report_econnrefused"))
    return;
  fuv_loop_t *loop = new_loop();
  char buf[16], from[FUV_IP_NAME_MAX];
  int port, from_port, closed = 0;
  fuv_udp_t *gone = fuv_test_udp_bound(loop, ip, 0, &port);
  FUV_ASSERT_OK(fuv_close(H(gone), fuv_test_count_close, &closed));
  fuv_test_run_until(loop, &closed, 1, TIMEOUT_MS);
  fuv_udp_t *udp;
  FUV_ASSERT_OK(fuv_udp_new(&udp, loop));
  FUV_ASSERT_OK(fuv_udp_connect(udp, ip, port));
  ASSERT_SENT(fuv_udp_send_sync(udp, "anyone?", 7, NULL, 0, 1000), 7);
  FUV_ASSERT_ERR(fuv_udp_recv_sync(udp, buf, sizeof buf, from, sizeof from,
                                   &from_port, 2000),
                 FUV_ECONNREFUSED);
  /* Read and cleared: the next wait is an ordinary timeout. */
  FUV_ASSERT_ERR(fuv_udp_recv_sync(udp, buf, sizeof buf, from, sizeof from,
                                   &from_port, 50),
                 FUV_ETIMEDOUT);
  /* And once more through send_sync: the error of the first send is
   * reported by a later one. */
  ASSERT_SENT(fuv_udp_send_sync(udp, "anyone?", 7, NULL, 0, 1000), 7);
  int refused = 0;
  for (int i = 0; i < 50 && !refused; i++) {
    fuv_sleep(10);
    int r = fuv_udp_send_sync(udp, "again?", 6, NULL, 0, 1000);
    if (r == FUV_ECONNREFUSED)
      refused = 1;
    else
      ASSERT_SENT(r, 6);
  }
  ck_assert_msg(refused, "no send_sync reported ECONNREFUSED");
  fuv_test_free_loop(loop);
}
END_TEST

static Suite *udp_sync_suite(void) {
  Suite *s = suite_create("udp_sync_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("sync");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, recv_sync_returns_the_datagram_and_its_sender, 0,
                      2 * FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, recv_sync_times_out_within_bounds, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, recv_sync_with_a_negative_timeout_waits, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, recv_sync_truncates_to_the_buffer, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, recv_sync_is_busy_while_receiving, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, sync_and_async_calls_mix_on_one_handle, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, sync_calls_report_econnrefused_on_a_connected_socket,
                      0, FUV_TEST_NFAMILIES);
  suite_add_tcase(s, tc);
  return s;
}

FUV_TEST_MAIN(udp_sync_suite)
