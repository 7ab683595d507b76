/*
 * TCP socket options and addresses, read back with getsockopt(2) on real
 * loopback sockets: creating with a domain, keep-alive, TCP_NODELAY, buffer
 * sizes, simultaneous accepts, and both ends' names as text and sockaddr.
 * Address-dependent tests run over IPv4 and IPv6.
 */
#include "fuv_test.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#define TIMEOUT_MS 10000

/* ---- helpers ------------------------------------------------------------ */

static int family_of(int i) { return i == 0 ? AF_INET : AF_INET6; }

static int sockopt_int(int fd, int level, int name) {
  int value = -1;
  socklen_t len = sizeof value;
  ck_assert_int_eq(getsockopt(fd, level, name, &value, &len), 0);
  return value;
}

static int tcp_fd(const fuv_tcp_t *tcp) {
  int fd = fuv_fileno((const fuv_handle_t *)tcp);
  ck_assert_msg(fd >= 0, "fuv_fileno returned %s", fuv_err_name(fd));
  return fd;
}

/* Accepts each connection and leaves it open until the loop is freed. */
static void accept_and_keep(fuv_stream_t *server, int status, void *arg) {
  fuv_tcp_t *conn;
  (void)arg;
  FUV_ASSERT_OK(status);
  FUV_ASSERT_OK(fuv_accept(server, &conn));
}

static void on_connect_count_ok(fuv_tcp_t *tcp, int status, void *arg) {
  (void)tcp;
  FUV_ASSERT_OK(status);
  (*(int *)arg)++;
}

/* ---- creating with a domain, fileno -------------------------------------- */

START_TEST(new_ex_creates_a_socket_of_the_domain_or_none_for_unspec) {
  static const int domains[] = {FUV_AF_INET, FUV_AF_INET6};
  static const int invalid[] = {AF_UNIX, 12345, -1};
  fuv_loop_t *loop;
  fuv_tcp_t *tcp;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  for (size_t k = 0; k < 2; k++) {
    FUV_ASSERT_OK(fuv_tcp_new_ex(&tcp, loop, domains[k]));
    int fd = tcp_fd(tcp);
    ck_assert_int_eq(sockopt_int(fd, SOL_SOCKET, SO_DOMAIN), domains[k]);
    ck_assert_int_eq(sockopt_int(fd, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    ck_assert_int_eq(fuv_handle_type((fuv_handle_t *)tcp), FUV_TCP);
  }
  FUV_ASSERT_OK(fuv_tcp_new_ex(&tcp, loop, FUV_AF_UNSPEC));
  FUV_ASSERT_ERR(fuv_fileno((fuv_handle_t *)tcp), FUV_EBADF);
  FUV_ASSERT_OK(fuv_tcp_new(&tcp, loop));
  FUV_ASSERT_ERR(fuv_fileno((fuv_handle_t *)tcp), FUV_EBADF);
  for (size_t k = 0; k < 3; k++) {
    int r = fuv_tcp_new_ex(&tcp, loop, invalid[k]);
    ck_assert_msg(r < 0, "fuv_tcp_new_ex accepted domain %d", invalid[k]);
  }
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- socket options ----------------------------------------------------- */

START_TEST(keepalive_rejects_a_zero_delay_and_sets_what_getsockopt_reads) {
  fuv_loop_t *loop;
  fuv_tcp_t *tcp;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_tcp_new_ex(&tcp, loop, family_of(_i)));
  int fd = tcp_fd(tcp);

  FUV_ASSERT_ERR(fuv_tcp_keepalive(tcp, 1, 0), FUV_EINVAL);
  ck_assert_int_eq(sockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE), 0);
  FUV_ASSERT_OK(fuv_tcp_keepalive(tcp, 1, 60));
  ck_assert_int_eq(sockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
  ck_assert_int_eq(sockopt_int(fd, IPPROTO_TCP, TCP_KEEPIDLE), 60);
  ck_assert_int_eq(sockopt_int(fd, IPPROTO_TCP, TCP_KEEPINTVL), 1);
  ck_assert_int_eq(sockopt_int(fd, IPPROTO_TCP, TCP_KEEPCNT), 10);
  /* The delay is ignored when disabling. */
  FUV_ASSERT_OK(fuv_tcp_keepalive(tcp, 0, 0));
  ck_assert_int_eq(sockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE), 0);

  FUV_ASSERT_ERR(fuv_tcp_keepalive_ex(tcp, 1, 0, 5, 3), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_keepalive_ex(tcp, 1, 30, 0, 3), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_tcp_keepalive_ex(tcp, 1, 30, 5, 0), FUV_EINVAL);
  ck_assert_int_eq(sockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE), 0);
  FUV_ASSERT_OK(fuv_tcp_keepalive_ex(tcp, 1, 30, 5, 3));
  ck_assert_int_eq(sockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
  ck_assert_int_eq(sockopt_int(fd, IPPROTO_TCP, TCP_KEEPIDLE), 30);
  ck_assert_int_eq(sockopt_int(fd, IPPROTO_TCP, TCP_KEEPINTVL), 5);
  ck_assert_int_eq(sockopt_int(fd, IPPROTO_TCP, TCP_KEEPCNT), 3);
  FUV_ASSERT_OK(fuv_tcp_keepalive_ex(tcp, 0, 0, 0, 0));
  ck_assert_int_eq(sockopt_int(fd, SOL_SOCKET, SO_KEEPALIVE), 0);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(nodelay_sets_tcp_nodelay_now_or_when_the_socket_is_created) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop;
  fuv_tcp_t *client, *server_side, *early;
  int port, connected = 0;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, ip, &client, &server_side);
  int fd = tcp_fd(client);
  FUV_ASSERT_OK(fuv_tcp_nodelay(client, 1));
  ck_assert_int_ne(sockopt_int(fd, IPPROTO_TCP, TCP_NODELAY), 0);
  FUV_ASSERT_OK(fuv_tcp_nodelay(client, 0));
  ck_assert_int_eq(sockopt_int(fd, IPPROTO_TCP, TCP_NODELAY), 0);

  /* Asked for before there is a socket, it applies to the one connect
   * creates. */
  fuv_test_listener(loop, ip, &port, accept_and_keep, NULL);
  FUV_ASSERT_OK(fuv_tcp_new(&early, loop));
  FUV_ASSERT_OK(fuv_tcp_nodelay(early, 1));
  FUV_ASSERT_OK(fuv_tcp_connect(early, ip, port, on_connect_count_ok,
                                &connected));
  ck_assert_int_ne(sockopt_int(tcp_fd(early), IPPROTO_TCP, TCP_NODELAY), 0);
  fuv_test_run_until(loop, &connected, 1, TIMEOUT_MS);
  ck_assert_int_ne(sockopt_int(tcp_fd(early), IPPROTO_TCP, TCP_NODELAY), 0);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(buffer_sizes_read_back_at_least_what_was_set_and_reject_non_positive) {
  fuv_loop_t *loop;
  fuv_tcp_t *client, *server_side, *bare;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &client, &server_side);
  fuv_handle_t *h = (fuv_handle_t *)client;
  FUV_ASSERT_OK(fuv_set_send_buffer_size(h, 65536));
  ck_assert_int_ge(fuv_get_send_buffer_size(h), 65536);
  ck_assert_int_eq(fuv_get_send_buffer_size(h),
                   sockopt_int(tcp_fd(client), SOL_SOCKET, SO_SNDBUF));
  FUV_ASSERT_OK(fuv_set_recv_buffer_size(h, 98304));
  ck_assert_int_ge(fuv_get_recv_buffer_size(h), 98304);
  ck_assert_int_eq(fuv_get_recv_buffer_size(h),
                   sockopt_int(tcp_fd(client), SOL_SOCKET, SO_RCVBUF));
  FUV_ASSERT_ERR(fuv_set_send_buffer_size(h, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_set_send_buffer_size(h, -1), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_set_recv_buffer_size(h, 0), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_set_recv_buffer_size(h, -1), FUV_EINVAL);
  ck_assert_int_ge(fuv_get_send_buffer_size(h), 65536);

  FUV_ASSERT_OK(fuv_tcp_new(&bare, loop));
  ck_assert_int_lt(fuv_get_send_buffer_size((fuv_handle_t *)bare), 0);
  ck_assert_int_lt(fuv_get_recv_buffer_size((fuv_handle_t *)bare), 0);
  ck_assert_int_lt(fuv_set_send_buffer_size((fuv_handle_t *)bare, 65536), 0);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(simultaneous_accepts_is_accepted_and_returns_zero) {
  fuv_loop_t *loop;
  fuv_tcp_t *tcp, *listener;
  int port;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_tcp_new(&tcp, loop));
  FUV_ASSERT_OK(fuv_tcp_simultaneous_accepts(tcp, 1));
  FUV_ASSERT_OK(fuv_tcp_simultaneous_accepts(tcp, 0));
  listener = fuv_test_listener(loop, fuv_test_loopback[0], &port,
                               accept_and_keep, NULL);
  FUV_ASSERT_OK(fuv_tcp_simultaneous_accepts(listener, 1));
  FUV_ASSERT_OK(fuv_tcp_simultaneous_accepts(listener, 0));
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- addresses ---------------------------------------------------------- */

/* Checks a sockaddr from an _addr variant against the text variant. */
static void assert_addr_matches(const struct sockaddr_storage *ss,
                                int namelen, int family, const char *ip,
                                int port) {
  char text[FUV_IP_NAME_MAX];
  ck_assert_int_eq(ss->ss_family, family);
  if (family == AF_INET) {
    ck_assert_int_eq(namelen, (int)sizeof(struct sockaddr_in));
    ck_assert_int_eq(ntohs(((const struct sockaddr_in *)ss)->sin_port), port);
  } else {
    ck_assert_int_eq(namelen, (int)sizeof(struct sockaddr_in6));
    ck_assert_int_eq(ntohs(((const struct sockaddr_in6 *)ss)->sin6_port),
                     port);
  }
  FUV_ASSERT_OK(fuv_ip_name((const struct sockaddr *)ss, text, sizeof text));
  ck_assert_str_eq(text, ip);
}

START_TEST(sockname_and_peername_give_both_ends_as_text_and_sockaddr) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop;
  fuv_tcp_t *client, *server_side, *bound, *bare;
  char name[FUV_IP_NAME_MAX], tiny[2];
  struct sockaddr_storage ss;
  int namelen;
  int client_port, server_port, port;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, ip, &client, &server_side);

  FUV_ASSERT_OK(fuv_tcp_getsockname(client, name, sizeof name, &client_port));
  ck_assert_str_eq(name, ip);
  FUV_ASSERT_OK(fuv_tcp_getsockname(server_side, name, sizeof name,
                                    &server_port));
  ck_assert_str_eq(name, ip);
  ck_assert_int_ne(client_port, server_port);
  FUV_ASSERT_OK(fuv_tcp_getpeername(client, name, sizeof name, &port));
  ck_assert_str_eq(name, ip);
  ck_assert_int_eq(port, server_port);
  FUV_ASSERT_OK(fuv_tcp_getpeername(server_side, name, sizeof name, &port));
  ck_assert_str_eq(name, ip);
  ck_assert_int_eq(port, client_port);

  namelen = (int)sizeof ss;
  FUV_ASSERT_OK(
      fuv_tcp_getsockname_addr(client, (struct sockaddr *)&ss, &namelen));
  assert_addr_matches(&ss, namelen, family_of(_i), ip, client_port);
  namelen = (int)sizeof ss;
  FUV_ASSERT_OK(
      fuv_tcp_getpeername_addr(client, (struct sockaddr *)&ss, &namelen));
  assert_addr_matches(&ss, namelen, family_of(_i), ip, server_port);

  FUV_ASSERT_ERR(fuv_tcp_getsockname(client, tiny, sizeof tiny, &port),
                 FUV_ENOSPC);
  FUV_ASSERT_ERR(fuv_tcp_getpeername(client, tiny, sizeof tiny, &port),
                 FUV_ENOSPC);

  FUV_ASSERT_OK(fuv_tcp_new(&bound, loop));
  FUV_ASSERT_OK(fuv_tcp_bind(bound, ip, 0, 0));
  FUV_ASSERT_ERR(fuv_tcp_getpeername(bound, name, sizeof name, &port),
                 FUV_ENOTCONN);
  namelen = (int)sizeof ss;
  FUV_ASSERT_ERR(
      fuv_tcp_getpeername_addr(bound, (struct sockaddr *)&ss, &namelen),
      FUV_ENOTCONN);
  FUV_ASSERT_OK(fuv_tcp_new(&bare, loop));
  FUV_ASSERT_ERR(fuv_tcp_getsockname(bare, name, sizeof name, &port),
                 FUV_EBADF);
  fuv_test_free_loop(loop);
}
END_TEST

static Suite *tcp_options_suite(void) {
  Suite *suite = suite_create("tcp_options_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("tcp_options");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, new_ex_creates_a_socket_of_the_domain_or_none_for_unspec);
  tcase_add_loop_test(
      tc, keepalive_rejects_a_zero_delay_and_sets_what_getsockopt_reads, 0,
      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(
      tc, nodelay_sets_tcp_nodelay_now_or_when_the_socket_is_created, 0,
      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(
      tc, buffer_sizes_read_back_at_least_what_was_set_and_reject_non_positive,
      0, FUV_TEST_NFAMILIES);
  tcase_add_test(tc, simultaneous_accepts_is_accepted_and_returns_zero);
  tcase_add_loop_test(
      tc, sockname_and_peername_give_both_ends_as_text_and_sockaddr, 0,
      FUV_TEST_NFAMILIES);
  suite_add_tcase(suite, tc);
  return suite;
}

FUV_TEST_MAIN(tcp_options_suite)
