/*
 * Misuse of UDP handles: NULL and out-of-range arguments, bad flags,
 * fuv_udp_open of what is not an IPv4/IPv6 datagram socket, and every call
 * on a handle whose close has started. All are errors, never crashes.
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

/* ---- misuse ------------------------------------------------------------- */

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
  port = fuv_test_udp_port(udp);
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
  /* A datagram socket, but not an IP one. */
  int unix_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ck_assert_int_ge(unix_fd, 0);
  FUV_ASSERT_ERR(fuv_udp_open(udp, unix_fd), FUV_EINVAL);
  close(unix_fd);
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
  port = fuv_test_udp_port(udp);
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
  fuv_test_assert_dgram(&dg, 0, "opened", 6);
  ck_assert_int_eq(dg.d[0].port, port);
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(every_call_on_a_closing_handle_is_einval) {
  fuv_loop_t *loop = new_loop();
  struct fuv_test_sends sends = {0, 0, 0};
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
  FUV_ASSERT_ERR(fuv_udp_send(udp, "x", 1, "127.0.0.1", port,
                              fuv_test_count_send,
                              &sends),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_send_addr(udp, "x", 1, (struct sockaddr *)&sin,
                                   fuv_test_count_send, &sends),
                 FUV_EINVAL);
  fuv_req_t *req = (fuv_req_t *)&req;
  FUV_ASSERT_ERR(fuv_udp_send_req(udp, "x", 1, "127.0.0.1", port,
                                  fuv_test_count_send,
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
  FUV_ASSERT_ERR(fuv_udp_set_max_datagram(udp, 1000), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_get_max_datagram(udp), FUV_EINVAL);
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

static Suite *udp_misuse_suite(void) {
  Suite *s = suite_create("udp_misuse_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("misuse");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, bad_arguments_are_einval);
  tcase_add_test(tc, open_takes_datagram_sockets_only);
  tcase_add_test(tc, every_call_on_a_closing_handle_is_einval);
  suite_add_tcase(s, tc);
  return s;
}

FUV_TEST_MAIN(udp_misuse_suite)
