/*
 * Connected UDP sockets over real loopback sockets, IPv4 and IPv6:
 * sending without an address (FUV_EISCONN with one, FUV_EDESTADDRREQ
 * unconnected), getpeername, disconnecting (FUV_ENOTCONN twice), and the
 * ICMP port-unreachable reported as FUV_ECONNREFUSED.
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

/* ---- connected sockets -------------------------------------------------- */

START_TEST(connected_sockets_send_without_an_address) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "connected_sockets_send_without_an_address"))
    return;
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *a, *b, *stranger;
  struct fuv_test_dgrams a_dg, b_dg;
  struct fuv_test_sends sends = {0, 0, 0};
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
  FUV_ASSERT_ERR(fuv_udp_send(a, "x", 1, NULL, 0, fuv_test_count_send, &sends),
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

  FUV_ASSERT_OK(fuv_udp_send(a, "one", 3, NULL, 0, fuv_test_count_send,
                             &sends));
  ck_assert_int_eq(fuv_udp_try_send(a, "two", 3, NULL, 0), 3);
  FUV_ASSERT_ERR(fuv_udp_send(a, "x", 1, ip, b_port, fuv_test_count_send,
                              &sends),
                 FUV_EISCONN);
  FUV_ASSERT_ERR(fuv_udp_try_send(a, "x", 1, ip, b_port), FUV_EISCONN);
  FUV_ASSERT_ERR(fuv_udp_send_addr(a, "x", 1, (struct sockaddr *)&ss,
                                   fuv_test_count_send, &sends),
                 FUV_EISCONN);
  fuv_test_run_until(loop, &b_dg.count, 2, TIMEOUT_MS);
  fuv_test_assert_dgram(&b_dg, 0, "one", 3);
  fuv_test_assert_dgram(&b_dg, 1, "two", 3);
  ck_assert_int_eq(b_dg.d[0].port, a_port);

  /* Only the peer's datagrams are received: the stranger's is not, the
   * peer's sent after it is. */
  FUV_ASSERT_OK(fuv_udp_send(stranger, "stranger", 8, ip, a_port, NULL, NULL));
  FUV_ASSERT_OK(fuv_udp_send(b, "peer", 4, ip, a_port, NULL, NULL));
  fuv_test_run_until(loop, &a_dg.count, 1, TIMEOUT_MS);
  fuv_test_assert_dgram(&a_dg, 0, "peer", 4);
  ck_assert_int_eq(a_dg.d[0].port, b_port);

  /* Disconnected, it needs addresses again and hears everyone. */
  FUV_ASSERT_OK(fuv_udp_connect(a, NULL, 0));
  FUV_ASSERT_ERR(fuv_udp_connect(a, NULL, 0), FUV_ENOTCONN);
  FUV_ASSERT_ERR(fuv_udp_getpeername(a, name, sizeof name, &port),
                 FUV_ENOTCONN);
  FUV_ASSERT_ERR(fuv_udp_send(a, "x", 1, NULL, 0, fuv_test_count_send, &sends),
                 FUV_EDESTADDRREQ);
  FUV_ASSERT_OK(fuv_udp_send(a, "three", 5, ip, b_port, fuv_test_count_send,
                             &sends));
  fuv_test_run_until(loop, &b_dg.count, 3, TIMEOUT_MS);
  fuv_test_assert_dgram(&b_dg, 2, "three", 5);
  /* Whether the disconnect kept the port is
   * disconnect_keeps_the_bound_port's business: here, the stranger sends
   * to wherever the handle is now. */
  a_port = b_dg.d[2].port;
  ck_assert_int_eq(fuv_test_udp_port(a), a_port);
  FUV_ASSERT_OK(fuv_udp_send(stranger, "hello", 5, ip, a_port, NULL, NULL));
  fuv_test_run_until(loop, &a_dg.count, 2, TIMEOUT_MS);
  fuv_test_assert_dgram(&a_dg, 1, "hello", 5);
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

/* A socket connected before fuv_udp_open is a connected handle: it sends
 * without an address, refuses one with FUV_EISCONN, and disconnects. */
START_TEST(open_of_a_connected_socket_gives_a_connected_handle) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "open_of_a_connected_socket"))
    return;
  fuv_loop_t *loop = new_loop();
  struct fuv_test_dgrams dg;
  struct sockaddr_storage ss;
  char name[FUV_IP_NAME_MAX];
  int len = sizeof ss, port, peer_port;
  memset(&dg, 0, sizeof dg);
  fuv_udp_t *rx = fuv_test_udp_bound(loop, ip, 0, &port);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  FUV_ASSERT_OK(fuv_udp_getsockname_addr(rx, (struct sockaddr *)&ss, &len));
  int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&ss, (socklen_t)len), 0);
  fuv_udp_t *udp;
  FUV_ASSERT_OK(fuv_udp_new(&udp, loop));
  FUV_ASSERT_OK(fuv_udp_open(udp, fd));
  FUV_ASSERT_OK(fuv_udp_getpeername(udp, name, sizeof name, &peer_port));
  ck_assert_str_eq(name, ip);
  ck_assert_int_eq(peer_port, port);
  ck_assert_int_eq(fuv_udp_try_send(udp, "opened", 6, NULL, 0), 6);
  FUV_ASSERT_ERR(fuv_udp_try_send(udp, "x", 1, ip, port), FUV_EISCONN);
  FUV_ASSERT_ERR(fuv_udp_connect(udp, ip, port), FUV_EISCONN);
  fuv_test_run_until(loop, &dg.count, 1, TIMEOUT_MS);
  fuv_test_assert_dgram(&dg, 0, "opened", 6);
  FUV_ASSERT_OK(fuv_udp_connect(udp, NULL, 0));
  FUV_ASSERT_ERR(fuv_udp_try_send(udp, "x", 1, NULL, 0), FUV_EDESTADDRREQ);
  fuv_test_dgrams_free(&dg);
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
  fuv_test_assert_dgram(&dg, 0, "still", 5);
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
  /* _i: IPv4, IPv6, then both again receiving with recvmmsg. */
  const char *ip = fuv_test_loopback[_i % 2];
  if (fuv_test_skip_ipv6(ip, "a_connected_socket_reports_econnrefused"))
    return;
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *a, *b, *peer;
  struct fuv_test_dgrams a_dg, peer_dg;
  struct fuv_test_sends sends = {0, 0, 0};
  int port, peer_port;
  memset(&a_dg, 0, sizeof a_dg);
  memset(&peer_dg, 0, sizeof peer_dg);

  /* Receiving: the error reaches the receive callback. */
  port = closed_port(loop, ip);
  if (_i >= 2)
    FUV_ASSERT_OK(fuv_udp_new_ex(&a, loop, _i == 2 ? FUV_AF_INET : FUV_AF_INET6,
                                 FUV_UDP_RECVMMSG));
  else
    FUV_ASSERT_OK(fuv_udp_new(&a, loop));
  FUV_ASSERT_OK(fuv_udp_connect(a, ip, port));
  FUV_ASSERT_OK(fuv_udp_recv_start(a, fuv_test_record_dgram, &a_dg));
  FUV_ASSERT_OK(fuv_udp_send(a, "anyone?", 7, NULL, 0, fuv_test_count_send,
                             &sends));
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
  FUV_ASSERT_OK(fuv_udp_send(a, "alive", 5, NULL, 0, fuv_test_count_send,
                             &sends));
  fuv_test_run_until(loop, &peer_dg.count, 1, TIMEOUT_MS);
  fuv_test_assert_dgram(&peer_dg, 0, "alive", 5);
  FUV_ASSERT_OK(fuv_udp_send(peer, "back", 4, ip, fuv_test_udp_port(a), NULL,
                             NULL));
  fuv_test_run_until(loop, &a_dg.count, 2, TIMEOUT_MS);
  fuv_test_assert_dgram(&a_dg, 1, "back", 4);

  /* Not receiving: a following send reports it, at call time or in its
   * callback. */
  port = closed_port(loop, ip);
  FUV_ASSERT_OK(fuv_udp_new(&b, loop));
  FUV_ASSERT_OK(fuv_udp_connect(b, ip, port));
  ck_assert_int_eq(fuv_udp_try_send(b, "anyone?", 7, NULL, 0), 7);
  int refused = 0;
  for (int i = 0; i < 50 && !refused; i++) {
    fuv_sleep(10);
    struct fuv_test_sends s2 = {0, 0, 0};
    int r = fuv_udp_send(b, "again?", 6, NULL, 0, fuv_test_count_send, &s2);
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

static Suite *udp_connected_suite(void) {
  Suite *s = suite_create("udp_connected_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("connected");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, connected_sockets_send_without_an_address, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, open_of_a_connected_socket_gives_a_connected_handle,
                      0, FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, disconnect_keeps_the_bound_port, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, a_connected_socket_reports_econnrefused, 0,
                      2 * FUV_TEST_NFAMILIES);
  suite_add_tcase(s, tc);
  return s;
}

FUV_TEST_MAIN(udp_connected_suite)
