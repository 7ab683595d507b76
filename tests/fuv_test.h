/*
 * The shared harness of the C tests. Each tests/test_<area>.c builds into
 * its own Check program (once per backend) and ends with
 * FUV_TEST_MAIN(<area>_suite). Tests run real sockets on loopback.
 */
#ifndef FUV_TEST_H
#define FUV_TEST_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "flatuv.h"

#ifndef FUV_TEST_BACKEND
#define FUV_TEST_BACKEND "unknown"
#endif

/* Asserts a flatuv call returned 0, naming the error when it did not. */
#define FUV_ASSERT_OK(expr)                                                  \
  do {                                                                       \
    int fuv_test_r_ = (expr);                                                \
    ck_assert_msg(fuv_test_r_ == 0, "%s returned %d (%s)", #expr,            \
                  fuv_test_r_, fuv_err_name(fuv_test_r_));                   \
  } while (0)

/* Asserts a flatuv call returned the given FUV_E* code. */
#define FUV_ASSERT_ERR(expr, code)                                           \
  do {                                                                       \
    int fuv_test_r_ = (expr);                                                \
    ck_assert_msg(fuv_test_r_ == (code), "%s returned %d (%s), wanted %s",   \
                  #expr, fuv_test_r_, fuv_err_name(fuv_test_r_),             \
                  fuv_err_name(code));                                       \
  } while (0)

/* The loopback addresses that IPv4/IPv6 loop tests iterate over with
 * tcase_add_loop_test(tc, fn, 0, FUV_TEST_NFAMILIES) and `_i`. */
#define FUV_TEST_NFAMILIES 2
extern const char *const fuv_test_loopback[FUV_TEST_NFAMILIES];

/* Runs the loop in DEFAULT mode but fails the test if it is still running
 * after timeout_ms: no test can hang. */
void fuv_test_run(fuv_loop_t *loop, uint64_t timeout_ms);
/* Closes every handle still open, runs the loop until the closes finish,
 * frees the loop and asserts that all of it succeeded. */
void fuv_test_free_loop(fuv_loop_t *loop);
/* Creates a TCP server on ip, port 0, listening with cb/arg; returns the
 * handle and writes the chosen port. */
fuv_tcp_t *fuv_test_listener(fuv_loop_t *loop, const char *ip, int *port,
                             fuv_connection_cb cb, void *arg);
/* A connected pair of TCP handles over loopback on ip (client, server
 * side), made with the async API and the loop. */
void fuv_test_tcp_pair(fuv_loop_t *loop, const char *ip, fuv_tcp_t **client,
                       fuv_tcp_t **server_side);
/* A timer callback that sets the int pointed to by arg to 1. */
void fuv_test_set_flag(fuv_timer_t *timer, void *arg);
/* Runs the loop one iteration at a time until *counter reaches target,
 * failing the test if that takes more than timeout_ms. */
void fuv_test_run_until(fuv_loop_t *loop, const int *counter, int target,
                        uint64_t timeout_ms);
/* Returns how many loop iterations it takes for a timer of ms to fire;
 * large when the loop spins on an event it ignores. */
uint64_t fuv_test_iterations_while_idle(fuv_loop_t *loop, uint64_t ms);
/* The test data stream: the byte at a given offset. A multiplicative hash
 * has no short period, so a lost, repeated or reordered chunk mismatches. */
unsigned char fuv_test_pattern_byte(uint64_t offset);
void fuv_test_fill_pattern(char *buf, size_t len, uint64_t offset);
/* A close callback that counts into the int pointed to by arg. */
void fuv_test_count_close(fuv_handle_t *handle, void *arg);

/* ---- UDP ---------------------------------------------------------------- */

/* Returns 1, after printing why, when ip is an IPv6 address and ::1 cannot
 * be bound on this machine, so that the named IPv6 case is skipped; 0
 * otherwise. */
int fuv_test_skip_ipv6(const char *ip, const char *test);
/* Creates a UDP handle bound to ip, port 0, with flags (fuv_udp_bind's);
 * returns it and writes the chosen port. */
fuv_udp_t *fuv_test_udp_bound(fuv_loop_t *loop, const char *ip,
                              unsigned int flags, int *port);

/* As fuv_test_udp_bound (no flags), a handle that receives with recvmmsg
 * (FUV_UDP_RECVMMSG) when mmsg is not 0. */
fuv_udp_t *fuv_test_udp_receiver(fuv_loop_t *loop, const char *ip, int mmsg,
                                 int *port);

/* What a UDP receive callback got, one entry per call. */
struct fuv_test_dgram {
  ssize_t nread;
  unsigned int flags;
  int has_addr;
  char ip[FUV_IP_NAME_MAX]; /* the sender, from fuv_sockaddr_ip */
  int port;
  char *data; /* a copy of the nread bytes (NULL when nread <= 0) */
};
struct fuv_test_dgrams {
  int count;  /* calls, datagrams and errors */
  int errors; /* calls with nread < 0 */
  int last_error;
  int capacity;
  struct fuv_test_dgram *d;
};
/* A fuv_udp_recv_cb that appends to the struct fuv_test_dgrams at arg
 * (zero it first; free it with fuv_test_dgrams_free). */
void fuv_test_record_dgram(fuv_udp_t *udp, ssize_t nread, const char *buf,
                           const struct sockaddr *addr, unsigned int flags,
                           void *arg);
void fuv_test_dgrams_free(struct fuv_test_dgrams *dg);
/* Asserts that datagram i of dg is the len bytes at data, not PARTIAL. */
void fuv_test_assert_dgram(const struct fuv_test_dgrams *dg, int i,
                           const char *data, size_t len);
/* What a UDP receive callback learnt about each datagram, asking
 * fuv_udp_recv_dest() and fuv_udp_recv_tos() during the callback. */
#define FUV_TEST_META_MAX 32
struct fuv_test_meta {
  int count;
  ssize_t nread[FUV_TEST_META_MAX];
  char data[FUV_TEST_META_MAX][32]; /* the first 31 bytes, NUL-terminated */
  char dest[FUV_TEST_META_MAX][FUV_IP_NAME_MAX];
  int dest_port[FUV_TEST_META_MAX];
  int dest_err[FUV_TEST_META_MAX];
  int dest_small_err[FUV_TEST_META_MAX]; /* recv_dest into 2 bytes */
  int tos[FUV_TEST_META_MAX];            /* recv_tos's result */
};
/* A fuv_udp_recv_cb filling the struct fuv_test_meta at arg (zeroed). */
void fuv_test_record_meta(fuv_udp_t *udp, ssize_t nread, const char *buf,
                          const struct sockaddr *addr, unsigned int flags,
                          void *arg);
/* An int socket option of a handle's socket, read with getsockopt(2). */
int fuv_test_int_option(const fuv_udp_t *udp, int level, int name);
/* The port a UDP handle is bound to. */
int fuv_test_udp_port(const fuv_udp_t *udp);
/* Counts UDP send callbacks into the struct fuv_test_sends at arg. */
struct fuv_test_sends {
  int count;
  int failed; /* callbacks with a status other than 0 */
  int last_status;
};
void fuv_test_count_send(fuv_udp_t *udp, int status, void *arg);
/* Runs the loop for ms milliseconds, so that whatever would arrive does. */
void fuv_test_run_for(fuv_loop_t *loop, uint64_t ms);

/* Creates n sockets (fds[0..n-1], of family and type) in a network
 * namespace of their own, whose lo is up and in which each of the ncmds
 * shell commands of cmds has been run first (e.g. a tc qdisc on lo). The
 * namespace lives as long as its sockets. Returns 0, or -1 with nothing
 * left behind and the reason in reason. */
int fuv_test_netns_sockets(int family, int type, int n, int *fds,
                           const char *const *cmds, size_t ncmds,
                           char *reason, size_t size);

/* Milliseconds of CLOCK_MONOTONIC, for timing a call with a timeout. */
double fuv_test_now_ms(void);
/* How much longer than its timeout a call may take: a sanity bound on a
 * busy machine, not a timing goal (those live in the benchmarks). */
#define FUV_TEST_SLACK_MS 2000
/* Asserts that a call begun at start (fuv_test_now_ms) took at least
 * timeout_ms and less than timeout_ms + FUV_TEST_SLACK_MS. */
void fuv_test_assert_took(double start, int timeout_ms, const char *what);

/* Builds and runs the suite; exits non-zero on any failure. */
int fuv_test_main(Suite *(*make_suite)(void));
#define FUV_TEST_MAIN(make_suite)                                            \
  int main(void) { return fuv_test_main(make_suite); }

#endif
