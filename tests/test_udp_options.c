/*
 * UDP socket options over real loopback sockets: broadcast, multicast
 * (groups, loop, TTL, IPv6 over a veth pair, source-specific), REUSEPORT,
 * TTL / TOS / ECN read back, and the destination address and TOS byte of
 * received datagrams. GSO / GRO and recvmmsg are in test_udp_offload.c.
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

/* ---- broadcast ---------------------------------------------------------- */

/* Without SO_BROADCAST a send to a broadcast address is refused with
 * EACCES; with it, it goes out. 127.255.255.255 is lo's broadcast address,
 * so a socket bound to the wildcard address receives it. */
START_TEST(broadcast_needs_set_broadcast) {
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx, *tx;
  struct fuv_test_dgrams dg;
  int port, r;
  memset(&dg, 0, sizeof dg);
  rx = fuv_test_udp_bound(loop, "0.0.0.0", 0, &port);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  FUV_ASSERT_OK(fuv_udp_new_ex(&tx, loop, FUV_AF_INET, 0));

  ck_assert_int_eq(fuv_test_int_option(tx, SOL_SOCKET, SO_BROADCAST), 0);
  FUV_ASSERT_ERR(fuv_udp_try_send(tx, "no", 2, "127.255.255.255", port),
                 FUV_EACCES);
  FUV_ASSERT_ERR(fuv_udp_try_send(tx, "no", 2, "255.255.255.255", port),
                 FUV_EACCES);
  FUV_ASSERT_ERR(fuv_udp_send_sync(tx, "no", 2, "127.255.255.255", port, 1000),
                 FUV_EACCES);
  /* fuv_udp_send tries at once too: the kernel's refusal comes back at
   * call time or (the header allows both) in the callback, never as a
   * success. */
  struct fuv_test_sends sends = {0, 0, 0};
  r = fuv_udp_send(tx, "no", 2, "127.255.255.255", port, fuv_test_count_send,
                   &sends);
  if (r == 0) {
    fuv_test_run_until(loop, &sends.count, 1, TIMEOUT_MS);
    FUV_ASSERT_ERR(sends.last_status, FUV_EACCES);
  } else {
    FUV_ASSERT_ERR(r, FUV_EACCES);
  }

  FUV_ASSERT_OK(fuv_udp_set_broadcast(tx, 1));
  ck_assert_int_ne(fuv_test_int_option(tx, SOL_SOCKET, SO_BROADCAST), 0);
  ck_assert_int_eq(fuv_udp_try_send(tx, "lo-bcast", 8, "127.255.255.255",
                                    port),
                   8);
  fuv_test_run_until(loop, &dg.count, 1, TIMEOUT_MS);
  fuv_test_assert_dgram(&dg, 0, "lo-bcast", 8);
  /* The limited broadcast leaves by the default route, if there is one:
   * whatever happens, it is no longer refused for want of SO_BROADCAST. */
  r = fuv_udp_try_send(tx, "all", 3, "255.255.255.255", port);
  ck_assert_msg(r != FUV_EACCES, "255.255.255.255 still refused with EACCES");
  if (r != 3)
    printf("note: broadcast_needs_set_broadcast: 255.255.255.255 gave %s "
           "(no route; not EACCES, as wanted)\n", fuv_err_name(r));
  FUV_ASSERT_OK(fuv_udp_set_broadcast(tx, 0));
  FUV_ASSERT_ERR(fuv_udp_try_send(tx, "no", 2, "127.255.255.255", port),
                 FUV_EACCES);
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- multicast ---------------------------------------------------------- */

/* Where a multicast case runs: the group, the interface (as
 * fuv_udp_set_membership and fuv_udp_set_multicast_interface take it),
 * the wildcard the receivers bind and the sender's address. */
struct mcast_env {
  int v6;
  const char *group, *iface, *wildcard, *source;
};

static const struct mcast_env mcast_v4 = {0, "239.255.42.99", "127.0.0.1",
                                          "0.0.0.0", "127.0.0.1"};
/* IPv6 runs over v0, one end of a veth pair in a namespace of its own
 * (see multicast_reaches_every_member), named by its index as a scope
 * ("::%3"): a name would be looked up in this process's namespace, which
 * has no v0. */
static const struct mcast_env mcast_v6 = {1, "ff12::4242", NULL, "::",
                                          "fd00::1"};

/* The multicast case proper: two receivers bound to one port with
 * REUSEADDR join the group on the interface; a sender with multicast loop
 * on sends to the group, and both get it, with the group as destination.
 * fds, when not NULL, are three datagram sockets (made in a network
 * namespace of their own) that the handles open. Returns 0, or the error
 * of joining the group or of the first send (the machine cannot do it). */
static int multicast_case(const struct mcast_env *env, const int *fds) {
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx[2], *tx;
  struct fuv_test_meta m[2];
  int port = 0, r;
  int level = env->v6 ? IPPROTO_IPV6 : IPPROTO_IP;
  const char *group = env->group, *iface = env->iface;
  memset(m, 0, sizeof m);

  for (int i = 0; i < 2; i++) {
    FUV_ASSERT_OK(fuv_udp_new(&rx[i], loop));
    if (fds)
      FUV_ASSERT_OK(fuv_udp_open(rx[i], fds[i]));
    FUV_ASSERT_OK(fuv_udp_bind(rx[i], env->wildcard, port,
                               FUV_UDP_REUSEADDR));
    port = fuv_test_udp_port(rx[i]);
    ck_assert_int_ne(fuv_test_int_option(rx[i], SOL_SOCKET, SO_REUSEADDR), 0);
    r = fuv_udp_set_membership(rx[i], group, iface, FUV_JOIN_GROUP);
    if (r != 0) {
      fuv_test_free_loop(loop);
      return r;
    }
    FUV_ASSERT_OK(fuv_udp_set_recv_dest(rx[i], 1));
    FUV_ASSERT_OK(fuv_udp_recv_start(rx[i], fuv_test_record_meta, &m[i]));
  }
  /* Joining twice is the kernel's EADDRINUSE. */
  FUV_ASSERT_ERR(fuv_udp_set_membership(rx[0], group, iface, FUV_JOIN_GROUP),
                 FUV_EADDRINUSE);

  FUV_ASSERT_OK(fuv_udp_new(&tx, loop));
  if (fds)
    FUV_ASSERT_OK(fuv_udp_open(tx, fds[2]));
  FUV_ASSERT_OK(fuv_udp_bind(tx, env->source, 0, 0));
  FUV_ASSERT_OK(fuv_udp_set_multicast_interface(tx, iface));
  FUV_ASSERT_OK(fuv_udp_set_multicast_loop(tx, 1));
  ck_assert_int_eq(fuv_test_int_option(tx, level, env->v6 ? IPV6_MULTICAST_LOOP
                                                     : IP_MULTICAST_LOOP),
                   1);
  FUV_ASSERT_OK(fuv_udp_set_multicast_ttl(tx, 1));
  ck_assert_int_eq(fuv_test_int_option(tx, level, env->v6 ? IPV6_MULTICAST_HOPS
                                                     : IP_MULTICAST_TTL),
                   1);
  r = fuv_udp_try_send(tx, "group", 5, group, port);
  if (r < 0) {
    fuv_test_free_loop(loop);
    return r;
  }
  ck_assert_int_eq(r, 5);
  fuv_test_run_until(loop, &m[0].count, 1, TIMEOUT_MS);
  fuv_test_run_until(loop, &m[1].count, 1, TIMEOUT_MS);
  for (int i = 0; i < 2; i++) {
    ck_assert_str_eq(m[i].data[0], "group");
    FUV_ASSERT_OK(m[i].dest_err[0]);
    ck_assert_str_eq(m[i].dest[0], group);
    ck_assert_int_eq(m[i].dest_port[0], port);
  }

  /* The second leaves: the first still gets the group's datagrams. (So
   * may the second, bound to the port: Linux's IP_MULTICAST_ALL and
   * IPV6_MULTICAST_ALL, on by default, deliver a group joined by any
   * socket to all of them.) */
  FUV_ASSERT_OK(fuv_udp_set_membership(rx[1], group, iface, FUV_LEAVE_GROUP));
  FUV_ASSERT_ERR(fuv_udp_set_membership(rx[1], group, iface,
                                        FUV_LEAVE_GROUP),
                 FUV_EADDRNOTAVAIL);
  FUV_ASSERT_OK(fuv_udp_send(tx, "again", 5, group, port, NULL, NULL));
  fuv_test_run_until(loop, &m[0].count, 2, TIMEOUT_MS);
  ck_assert_str_eq(m[0].data[1], "again");
  /* Both gone, the group is not joined on the interface, and nobody gets
   * it. */
  FUV_ASSERT_OK(fuv_udp_set_membership(rx[0], group, iface, FUV_LEAVE_GROUP));
  fuv_test_run_for(loop, 50);
  int before = m[1].count;
  FUV_ASSERT_OK(fuv_udp_send(tx, "gone", 4, group, port, NULL, NULL));
  fuv_test_run_for(loop, 100);
  ck_assert_int_eq(m[0].count, 2);
  ck_assert_int_eq(m[1].count, before);
  fuv_test_free_loop(loop);
  return 0;
}

/* IPv4 multicast on lo works in the machine's own namespace on Linux,
 * even when lo lacks the MULTICAST flag. When the kernel refuses there,
 * the case runs again in a network namespace of its own, with lo up and
 * flagged MULTICAST, so that the test neither changes the machine's
 * network nor passes silently. IPv6 does not loop multicast back over lo
 * at all (it leaves and never comes in, even flagged MULTICAST and with a
 * route), so it always runs in a namespace, over a veth pair: with loop
 * on, the sending host gets its own copy of what leaves v0. */
START_TEST(multicast_reaches_every_member) {
  static const char *const v4_cmds[] = {"ip link set lo multicast on"};
  static const char *const v6_cmds[] = {
      "ip link add v0 type veth peer name v1", "ip link set v0 up",
      "ip link set v1 up", "ip -6 addr add fd00::1/64 dev v0 nodad"};
  const struct mcast_env *env = _i == 0 ? &mcast_v4 : &mcast_v6;
  char reason[256];
  int fds[3], r;
  if (_i == 0) {
    r = multicast_case(env, NULL);
    if (r == 0)
      return;
    printf("note: multicast_reaches_every_member: IPv4 multicast on this "
           "machine's lo gave %s; trying in a network namespace\n",
           fuv_err_name(r));
    fflush(stdout);
  } else if (fuv_test_skip_ipv6("::1", "multicast_reaches_every_member")) {
    return;
  }
  r = _i == 0 ? fuv_test_netns_sockets(AF_INET, SOCK_DGRAM, 3, fds, v4_cmds,
                                       1, reason, sizeof reason)
              : fuv_test_netns_sockets(AF_INET6, SOCK_DGRAM, 3, fds, v6_cmds,
                                       4, reason, sizeof reason);
  if (r != 0) {
    printf("SKIPPED multicast_reaches_every_member over %s: no network "
           "namespace: %s\n", _i == 0 ? "IPv4" : "IPv6", reason);
    fflush(stdout);
    return;
  }
  struct mcast_env here = *env;
  char scoped[32];
  if (_i == 1) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "v0");
    /* An ioctl on a socket asks the socket's namespace. */
    ck_assert_int_eq(ioctl(fds[0], SIOCGIFINDEX, &ifr), 0);
    snprintf(scoped, sizeof scoped, "::%%%d", ifr.ifr_ifindex);
    here.iface = scoped;
  }
  FUV_ASSERT_OK(multicast_case(&here, fds));
}
END_TEST

/* IPv6 multicast options reach the socket: the interface by name or as
 * an address with its scope, loop, hops, and joining and leaving a group
 * on lo. (Delivery is multicast_reaches_every_member's.) */
START_TEST(ipv6_multicast_options_reach_the_socket) {
  if (fuv_test_skip_ipv6("::1", "ipv6_multicast_options_reach_the_socket"))
    return;
  fuv_loop_t *loop = new_loop();
  int port;
  unsigned lo = if_nametoindex("lo");
  ck_assert_uint_gt(lo, 0);
  fuv_udp_t *udp = fuv_test_udp_bound(loop, "::", FUV_UDP_REUSEADDR, &port);
  FUV_ASSERT_OK(fuv_udp_set_multicast_interface(udp, "lo"));
  ck_assert_int_eq(fuv_test_int_option(udp, IPPROTO_IPV6, IPV6_MULTICAST_IF),
                   (int)lo);
  FUV_ASSERT_OK(fuv_udp_set_multicast_interface(udp, NULL));
  ck_assert_int_eq(fuv_test_int_option(udp, IPPROTO_IPV6, IPV6_MULTICAST_IF), 0);
  FUV_ASSERT_OK(fuv_udp_set_multicast_interface(udp, "::%lo"));
  ck_assert_int_eq(fuv_test_int_option(udp, IPPROTO_IPV6, IPV6_MULTICAST_IF),
                   (int)lo);
  FUV_ASSERT_ERR(fuv_udp_set_multicast_interface(udp, "no-such-if0"),
                 FUV_ENODEV);
  FUV_ASSERT_OK(fuv_udp_set_multicast_loop(udp, 0));
  ck_assert_int_eq(fuv_test_int_option(udp, IPPROTO_IPV6, IPV6_MULTICAST_LOOP), 0);
  FUV_ASSERT_OK(fuv_udp_set_multicast_loop(udp, 1));
  ck_assert_int_eq(fuv_test_int_option(udp, IPPROTO_IPV6, IPV6_MULTICAST_LOOP), 1);
  FUV_ASSERT_OK(fuv_udp_set_multicast_ttl(udp, 9));
  ck_assert_int_eq(fuv_test_int_option(udp, IPPROTO_IPV6, IPV6_MULTICAST_HOPS), 9);
  FUV_ASSERT_ERR(fuv_udp_set_membership(udp, "::1", "lo", FUV_JOIN_GROUP),
                 FUV_EINVAL);
  FUV_ASSERT_OK(fuv_udp_set_membership(udp, "ff12::4242", "lo",
                                       FUV_JOIN_GROUP));
  FUV_ASSERT_ERR(fuv_udp_set_membership(udp, "ff12::4242", "lo",
                                        FUV_JOIN_GROUP),
                 FUV_EADDRINUSE);
  FUV_ASSERT_OK(fuv_udp_set_membership(udp, "ff12::4242", "lo",
                                       FUV_LEAVE_GROUP));
  fuv_test_free_loop(loop);
}
END_TEST

/* Source-specific multicast: a member for source 127.0.0.1 hears the
 * sender bound to 127.0.0.1, not one bound to 127.0.0.2. */
START_TEST(source_membership_filters_by_source) {
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx, *good, *bad;
  struct fuv_test_dgrams dg;
  int port, r;
  memset(&dg, 0, sizeof dg);
  rx = fuv_test_udp_bound(loop, "0.0.0.0", 0, &port);
  FUV_ASSERT_ERR(fuv_udp_set_source_membership(rx, "127.0.0.1", "127.0.0.1",
                                               "127.0.0.1", FUV_JOIN_GROUP),
                 FUV_EINVAL);
  r = fuv_udp_set_source_membership(rx, "232.1.2.3", "127.0.0.1", "127.0.0.1",
                                    FUV_JOIN_GROUP);
  if (r == FUV_ENOSYS || r == FUV_ENOTSUP) {
    printf("SKIPPED source_membership_filters_by_source: %s\n",
           fuv_err_name(r));
    fuv_test_free_loop(loop);
    return;
  }
  FUV_ASSERT_OK(r);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  FUV_ASSERT_OK(fuv_udp_new(&bad, loop));
  FUV_ASSERT_OK(fuv_udp_bind(bad, "127.0.0.2", 0, 0));
  FUV_ASSERT_OK(fuv_udp_set_multicast_interface(bad, "127.0.0.1"));
  FUV_ASSERT_OK(fuv_udp_new(&good, loop));
  FUV_ASSERT_OK(fuv_udp_bind(good, "127.0.0.1", 0, 0));
  FUV_ASSERT_OK(fuv_udp_set_multicast_interface(good, "127.0.0.1"));
  FUV_ASSERT_OK(fuv_udp_set_multicast_loop(good, 1));
  FUV_ASSERT_OK(fuv_udp_set_multicast_loop(bad, 1));
  ck_assert_int_eq(fuv_udp_try_send(bad, "bad", 3, "232.1.2.3", port), 3);
  ck_assert_int_eq(fuv_udp_try_send(good, "good", 4, "232.1.2.3", port), 4);
  fuv_test_run_until(loop, &dg.count, 1, TIMEOUT_MS);
  fuv_test_assert_dgram(&dg, 0, "good", 4);
  ck_assert_str_eq(dg.d[0].ip, "127.0.0.1");
  fuv_test_run_for(loop, 100);
  ck_assert_int_eq(dg.count, 1);
  FUV_ASSERT_OK(fuv_udp_set_source_membership(rx, "232.1.2.3", "127.0.0.1",
                                              "127.0.0.1", FUV_LEAVE_GROUP));
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- REUSEPORT ---------------------------------------------------------- */

enum { REUSE_SENDERS = 64, REUSE_EACH = 4 };

START_TEST(reuseport_spreads_datagrams_over_both_receivers) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "reuseport_spreads_datagrams_over_both_receivers"))
    return;
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx[2], *third;
  struct fuv_test_dgrams dg[2];
  int port;
  memset(dg, 0, sizeof dg);

  rx[0] = fuv_test_udp_bound(loop, ip, FUV_UDP_REUSEPORT, &port);
  FUV_ASSERT_OK(fuv_udp_new(&rx[1], loop));
  FUV_ASSERT_OK(fuv_udp_bind(rx[1], ip, port, FUV_UDP_REUSEPORT));
  ck_assert_int_eq(fuv_test_udp_port(rx[1]), port);
  ck_assert_int_ne(fuv_test_int_option(rx[1], SOL_SOCKET, SO_REUSEPORT), 0);
  /* Without the flag the port is taken. */
  FUV_ASSERT_OK(fuv_udp_new(&third, loop));
  FUV_ASSERT_ERR(fuv_udp_bind(third, ip, port, 0), FUV_EADDRINUSE);
  for (int r = 0; r < 2; r++)
    FUV_ASSERT_OK(fuv_udp_recv_start(rx[r], fuv_test_record_dgram, &dg[r]));

  for (int s = 0; s < REUSE_SENDERS; s++) {
    fuv_udp_t *tx;
    FUV_ASSERT_OK(fuv_udp_new(&tx, loop));
    for (int k = 0; k < REUSE_EACH; k++)
      ck_assert_int_eq(fuv_udp_try_send(tx, "spread", 6, ip, port), 6);
    /* Keep the loop draining so that no receive buffer overflows. */
    fuv_run(loop, FUV_RUN_NOWAIT);
  }
  fuv_timer_t *watchdog;
  int expired = 0;
  FUV_ASSERT_OK(fuv_timer_new(&watchdog, loop));
  FUV_ASSERT_OK(fuv_timer_start(watchdog, fuv_test_set_flag, TIMEOUT_MS, 0,
                                &expired));
  while (dg[0].count + dg[1].count < REUSE_SENDERS * REUSE_EACH && !expired)
    ck_assert_int_ge(fuv_run(loop, FUV_RUN_ONCE), 0);
  FUV_ASSERT_OK(fuv_close(H(watchdog), NULL, NULL));
  ck_assert_int_eq(dg[0].count + dg[1].count, REUSE_SENDERS * REUSE_EACH);
  ck_assert_msg(dg[0].count > 0 && dg[1].count > 0,
                "all %d datagrams from %d senders went to one receiver "
                "(%d / %d)", REUSE_SENDERS * REUSE_EACH, REUSE_SENDERS,
                dg[0].count, dg[1].count);
  ck_assert_int_eq(dg[0].errors + dg[1].errors, 0);
  fuv_test_dgrams_free(&dg[0]);
  fuv_test_dgrams_free(&dg[1]);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- TTL, TOS, ECN ------------------------------------------------------ */

START_TEST(ttl_tos_and_ecn_are_read_back) {
  const char *ip = fuv_test_loopback[_i];
  if (fuv_test_skip_ipv6(ip, "ttl_tos_and_ecn_are_read_back"))
    return;
  int v6 = _i == 1;
  fuv_loop_t *loop = new_loop();
  int port;
  fuv_udp_t *udp = fuv_test_udp_bound(loop, ip, 0, &port);
  int ttl_level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
  int ttl_name = v6 ? IPV6_UNICAST_HOPS : IP_TTL;
  int mttl_name = v6 ? IPV6_MULTICAST_HOPS : IP_MULTICAST_TTL;
  int tos_name = v6 ? IPV6_TCLASS : IP_TOS;

  FUV_ASSERT_OK(fuv_udp_set_ttl(udp, 5));
  ck_assert_int_eq(fuv_udp_get_ttl(udp), 5);
  ck_assert_int_eq(fuv_test_int_option(udp, ttl_level, ttl_name), 5);
  FUV_ASSERT_OK(fuv_udp_set_ttl(udp, 255));
  ck_assert_int_eq(fuv_udp_get_ttl(udp), 255);
  FUV_ASSERT_OK(fuv_udp_set_ttl(udp, 1));
  ck_assert_int_eq(fuv_udp_get_ttl(udp), 1);
  FUV_ASSERT_ERR(fuv_udp_set_ttl(udp, 0), FUV_EINVAL);
  ck_assert_int_eq(fuv_udp_get_ttl(udp), 1);

  FUV_ASSERT_OK(fuv_udp_set_multicast_ttl(udp, 7));
  ck_assert_int_eq(fuv_test_int_option(udp, ttl_level, mttl_name), 7);
  FUV_ASSERT_OK(fuv_udp_set_multicast_ttl(udp, 0));
  ck_assert_int_eq(fuv_test_int_option(udp, ttl_level, mttl_name), 0);
  FUV_ASSERT_OK(fuv_udp_set_multicast_ttl(udp, 255));
  ck_assert_int_eq(fuv_test_int_option(udp, ttl_level, mttl_name), 255);

  /* DSCP AF41 (34 << 2 = 0x88), ECN not ECT. */
  FUV_ASSERT_OK(fuv_udp_set_tos(udp, 0x88));
  ck_assert_int_eq(fuv_udp_get_tos(udp), 0x88);
  ck_assert_int_eq(fuv_udp_get_ecn(udp), 0);
  ck_assert_int_eq(fuv_test_int_option(udp, ttl_level, tos_name), 0x88);
  /* Each ECN codepoint keeps the DSCP bits. */
  for (int ecn = 0; ecn <= 3; ecn++) {
    FUV_ASSERT_OK(fuv_udp_set_ecn(udp, ecn));
    ck_assert_int_eq(fuv_udp_get_ecn(udp), ecn);
    ck_assert_int_eq(fuv_udp_get_tos(udp), 0x88 | ecn);
    ck_assert_int_eq(fuv_test_int_option(udp, ttl_level, tos_name), 0x88 | ecn);
  }
  /* A new TOS replaces both halves. */
  FUV_ASSERT_OK(fuv_udp_set_tos(udp, 0x2a));
  ck_assert_int_eq(fuv_udp_get_tos(udp), 0x2a);
  ck_assert_int_eq(fuv_udp_get_ecn(udp), 2);
  FUV_ASSERT_OK(fuv_udp_set_tos(udp, 0));
  ck_assert_int_eq(fuv_udp_get_ecn(udp), 0);
  FUV_ASSERT_OK(fuv_udp_set_tos(udp, 255));
  ck_assert_int_eq(fuv_udp_get_tos(udp), 255);
  FUV_ASSERT_ERR(fuv_udp_set_tos(udp, 256), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_udp_set_ecn(udp, 4), FUV_EINVAL);
  ck_assert_int_eq(fuv_udp_get_tos(udp), 255);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- destination address and TOS of received datagrams ------------------ */

/* A socket bound to the wildcard address learns which of its addresses
 * each datagram was sent to. */
START_TEST(recv_dest_reports_the_address_sent_to) {
  /* _i: IPv4, IPv6, then both again receiving with recvmmsg. */
  const char *ip = fuv_test_loopback[_i % 2];
  int mmsg = _i >= 2;
  if (fuv_test_skip_ipv6(ip, "recv_dest_reports_the_address_sent_to"))
    return;
  int v6 = _i % 2 == 1;
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx, *plain, *tx;
  struct fuv_test_meta m, pm;
  char name[FUV_IP_NAME_MAX];
  int port, plain_port, p;
  memset(&m, 0, sizeof m);
  memset(&pm, 0, sizeof pm);

  rx = fuv_test_udp_receiver(loop, v6 ? "::" : "0.0.0.0", mmsg, &port);
  /* Outside a callback there is no datagram to ask about. */
  FUV_ASSERT_ERR(fuv_udp_recv_dest(rx, name, sizeof name, &p), FUV_ENOENT);
  FUV_ASSERT_OK(fuv_udp_set_recv_dest(rx, 1));
  FUV_ASSERT_ERR(fuv_udp_recv_dest(rx, name, sizeof name, &p), FUV_ENOENT);
  /* Without set_recv_dest, ENOENT in the callback too. */
  plain = fuv_test_udp_bound(loop, v6 ? "::" : "0.0.0.0", 0, &plain_port);
  FUV_ASSERT_OK(fuv_udp_recv_start(plain, fuv_test_record_meta, &pm));

  FUV_ASSERT_OK(fuv_udp_new(&tx, loop));
  /* Waiting together, so that recvmmsg takes them in one call and each
   * must still report its own destination. The dual-stack IPv6 socket
   * gets the IPv4 one too, its destination as a mapped address. */
  ck_assert_int_eq(fuv_udp_try_send(tx, "one", 3, ip, port), 3);
  ck_assert_int_eq(fuv_udp_try_send(tx, "two", 3, "127.0.0.2", port), 3);
  ck_assert_int_eq(fuv_udp_try_send(tx, "three", 5, ip, port), 5);
  ck_assert_int_eq(fuv_udp_try_send(tx, "plain", 5, ip, plain_port), 5);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_meta, &m));
  fuv_test_run_until(loop, &m.count, 3, TIMEOUT_MS);
  fuv_test_run_until(loop, &pm.count, 1, TIMEOUT_MS);
  static const char *const data[3] = {"one", "two", "three"};
  const char *dest[3] = {ip, v6 ? "::ffff:127.0.0.2" : "127.0.0.2", ip};
  for (int i = 0; i < 3; i++) {
    ck_assert_str_eq(m.data[i], data[i]);
    ck_assert_msg(m.dest_err[i] == 0, "datagram %d: recv_dest gave %s", i,
                  fuv_err_name(m.dest_err[i]));
    /* The header does not say in which form a dual-stack socket reports
     * an IPv4 destination: mapped, or plain IPv4. */
    ck_assert_msg(strcmp(m.dest[i], dest[i]) == 0 ||
                      (v6 && i == 1 && strcmp(m.dest[i], "127.0.0.2") == 0),
                  "datagram %d: destination %s, wanted %s", i, m.dest[i],
                  dest[i]);
    ck_assert_int_eq(m.dest_port[i], port);
  }
  FUV_ASSERT_ERR(pm.dest_err[0], FUV_ENOENT);
  /* A name buffer too small for the destination is ENOSPC. */
  ck_assert_int_eq(m.dest_small_err[0], FUV_ENOSPC);
  /* TOS was not asked for either. */
  FUV_ASSERT_ERR(m.tos[0], FUV_ENOENT);
  FUV_ASSERT_ERR(fuv_udp_recv_dest(rx, name, sizeof name, &p), FUV_ENOENT);

  /* Turned off again, it is ENOENT in the callback. */
  FUV_ASSERT_OK(fuv_udp_set_recv_dest(rx, 0));
  ck_assert_int_eq(fuv_udp_try_send(tx, "off", 3, ip, port), 3);
  fuv_test_run_until(loop, &m.count, 4, TIMEOUT_MS);
  FUV_ASSERT_ERR(m.dest_err[m.count - 1], FUV_ENOENT);
  fuv_test_free_loop(loop);
}
END_TEST

/* The receiver sees the TOS byte (traffic class) the sender set, ECN
 * included. */
START_TEST(recv_tos_reports_the_senders_tos_and_ecn) {
  /* _i: IPv4, IPv6, then both again receiving with recvmmsg. */
  const char *ip = fuv_test_loopback[_i % 2];
  if (fuv_test_skip_ipv6(ip, "recv_tos_reports_the_senders_tos_and_ecn"))
    return;
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx, *tx;
  struct fuv_test_meta m;
  int port, tx_port;
  memset(&m, 0, sizeof m);
  rx = fuv_test_udp_receiver(loop, ip, _i >= 2, &port);
  FUV_ASSERT_ERR(fuv_udp_recv_tos(rx), FUV_ENOENT);
  FUV_ASSERT_OK(fuv_udp_set_recv_tos(rx, 1));
  FUV_ASSERT_ERR(fuv_udp_recv_tos(rx), FUV_ENOENT);
  tx = fuv_test_udp_bound(loop, ip, 0, &tx_port);

  ck_assert_int_eq(fuv_udp_try_send(tx, "zero", 4, ip, port), 4);
  FUV_ASSERT_OK(fuv_udp_set_tos(tx, 0x28));
  FUV_ASSERT_OK(fuv_udp_set_ecn(tx, 2)); /* ECT(0) */
  ck_assert_int_eq(fuv_udp_try_send(tx, "ect0", 4, ip, port), 4);
  FUV_ASSERT_OK(fuv_udp_set_ecn(tx, 1)); /* ECT(1) */
  ck_assert_int_eq(fuv_udp_try_send(tx, "ect1", 4, ip, port), 4);
  FUV_ASSERT_OK(fuv_udp_set_ecn(tx, 3)); /* CE */
  ck_assert_int_eq(fuv_udp_try_send(tx, "ce", 2, ip, port), 2);
  FUV_ASSERT_OK(fuv_udp_set_tos(tx, 0xb8)); /* EF, not ECT */
  ck_assert_int_eq(fuv_udp_try_send(tx, "ef", 2, ip, port), 2);
  /* All five wait together: recvmmsg takes them in one call. */
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_meta, &m));
  fuv_test_run_until(loop, &m.count, 5, TIMEOUT_MS);
  static const int want[5] = {0x00, 0x2a, 0x29, 0x2b, 0xb8};
  static const char *const data[5] = {"zero", "ect0", "ect1", "ce", "ef"};
  for (int i = 0; i < 5; i++) {
    ck_assert_str_eq(m.data[i], data[i]);
    ck_assert_msg(m.tos[i] == want[i], "datagram %d (%s): recv_tos %d "
                  "(%s), wanted 0x%02x", i, data[i], m.tos[i],
                  m.tos[i] < 0 ? fuv_err_name(m.tos[i]) : "", want[i]);
    /* Destination was not asked for. */
    FUV_ASSERT_ERR(m.dest_err[i], FUV_ENOENT);
  }
  FUV_ASSERT_ERR(fuv_udp_recv_tos(rx), FUV_ENOENT);
  fuv_test_free_loop(loop);
}
END_TEST

/* A dual-stack socket sees the TOS byte of IPv4 datagrams too. */
START_TEST(recv_tos_on_a_dual_stack_socket_sees_ipv4_tos) {
  if (fuv_test_skip_ipv6("::1", "recv_tos_on_a_dual_stack_socket"))
    return;
  fuv_loop_t *loop = new_loop();
  struct fuv_test_meta m;
  int port, tx_port;
  memset(&m, 0, sizeof m);
  fuv_udp_t *rx = fuv_test_udp_receiver(loop, "::", _i, &port);
  FUV_ASSERT_OK(fuv_udp_set_recv_tos(rx, 1));
  FUV_ASSERT_OK(fuv_udp_set_recv_dest(rx, 1));
  fuv_udp_t *tx4 = fuv_test_udp_bound(loop, "127.0.0.1", 0, &tx_port);
  fuv_udp_t *tx6 = fuv_test_udp_bound(loop, "::1", 0, &tx_port);
  FUV_ASSERT_OK(fuv_udp_set_tos(tx4, 0x2a));
  FUV_ASSERT_OK(fuv_udp_set_tos(tx6, 0x29));
  ck_assert_int_eq(fuv_udp_try_send(tx4, "v4", 2, "127.0.0.1", port), 2);
  ck_assert_int_eq(fuv_udp_try_send(tx6, "v6", 2, "::1", port), 2);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_meta, &m));
  fuv_test_run_until(loop, &m.count, 2, TIMEOUT_MS);
  ck_assert_str_eq(m.data[0], "v4");
  ck_assert_msg(m.tos[0] == 0x2a, "IPv4 datagram: recv_tos %d (%s)",
                m.tos[0], m.tos[0] < 0 ? fuv_err_name(m.tos[0]) : "");
  FUV_ASSERT_OK(m.dest_err[0]);
  ck_assert_str_eq(m.data[1], "v6");
  ck_assert_int_eq(m.tos[1], 0x29);
  FUV_ASSERT_OK(m.dest_err[1]);
  ck_assert_str_eq(m.dest[1], "::1");
  fuv_test_free_loop(loop);
}
END_TEST

static Suite *udp_options_suite(void) {
  Suite *s = suite_create("udp_options_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("broadcast_multicast");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, broadcast_needs_set_broadcast);
  tcase_add_loop_test(tc, multicast_reaches_every_member, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_test(tc, source_membership_filters_by_source);
  tcase_add_test(tc, ipv6_multicast_options_reach_the_socket);
  tcase_add_loop_test(tc, reuseport_spreads_datagrams_over_both_receivers, 0,
                      FUV_TEST_NFAMILIES);
  suite_add_tcase(s, tc);

  tc = tcase_create("options");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, ttl_tos_and_ecn_are_read_back, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, recv_dest_reports_the_address_sent_to, 0,
                      2 * FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, recv_tos_reports_the_senders_tos_and_ecn, 0,
                      2 * FUV_TEST_NFAMILIES);
  /* _i: recvmsg, then recvmmsg. */
  tcase_add_loop_test(tc, recv_tos_on_a_dual_stack_socket_sees_ipv4_tos, 0,
                      2);
  suite_add_tcase(s, tc);

  return s;
}

FUV_TEST_MAIN(udp_options_suite)
