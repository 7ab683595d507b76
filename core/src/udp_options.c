/* UDP socket options: libuv's (broadcast, TTLs, multicast) and what goes
 * past it for QUIC and real-time media: TOS and ECN, each datagram's
 * destination address and TOS byte, and UDP segmentation / receive
 * offload. Each option goes by the socket's family; an IPv6 socket also
 * gets the IPv4 form where it sends and receives IPv4 too (dual stack),
 * ignoring an error there. */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

/* The handle's socket and its family: FUV_EINVAL for a bad or closing
 * handle, FUV_EBADF without a socket. */
static int udp_socket(const fuv_udp_t *udp, int *fd, int *family) {
  int r = fuv__udp_check(udp);
  if (r != 0)
    return r;
  *fd = udp->io.fd;
  if (*fd < 0)
    return FUV_EBADF;
  return fuv__socket_family(*fd, family);
}

/* Sets the option of the socket's family: v4 for IPv4, v6 for IPv6, and
 * for IPv6 the IPv4 one too when both_v6 asks, ignoring its error. */
static int set_by_family(fuv_udp_t *udp, int v4, int v6, int both_v6,
                         int value) {
  int fd, family, r = udp_socket(udp, &fd, &family);
  if (r != 0)
    return r;
  if (family != AF_INET6)
    return fuv__set_int_option(fd, IPPROTO_IP, v4, value);
  r = fuv__set_int_option(fd, IPPROTO_IPV6, v6, value);
  if (r == 0 && both_v6)
    (void)fuv__set_int_option(fd, IPPROTO_IP, v4, value);
  return r;
}

static int get_by_family(const fuv_udp_t *udp, int v4, int v6) {
  int fd, family, r = udp_socket(udp, &fd, &family);
  if (r != 0)
    return r;
  if (family == AF_INET6)
    return fuv__get_int_option(fd, IPPROTO_IPV6, v6);
  return fuv__get_int_option(fd, IPPROTO_IP, v4);
}

/* An option of the kernel's UDP layer that older kernels lack. */
static int set_udp_level(fuv_udp_t *udp, int name, int value) {
  int fd, family, r = udp_socket(udp, &fd, &family);
  if (r != 0)
    return r;
  r = fuv__set_int_option(fd, SOL_UDP, name, value);
  return r == FUV_ENOPROTOOPT ? FUV_ENOTSUP : r;
}

static int get_udp_level(const fuv_udp_t *udp, int name) {
  int fd, family, r = udp_socket(udp, &fd, &family);
  if (r != 0)
    return r;
  r = fuv__get_int_option(fd, SOL_UDP, name);
  return r == FUV_ENOPROTOOPT ? FUV_ENOTSUP : r;
}

int fuv_udp_set_broadcast(fuv_udp_t *udp, int on) {
  int fd, family, r = udp_socket(udp, &fd, &family);
  return r != 0 ? r : fuv__set_int_option(fd, SOL_SOCKET, SO_BROADCAST, on != 0);
}

int fuv_udp_set_ttl(fuv_udp_t *udp, int ttl) {
  if (ttl < 1 || ttl > 255)
    return FUV_EINVAL;
  return set_by_family(udp, IP_TTL, IPV6_UNICAST_HOPS, 1, ttl);
}

int fuv_udp_get_ttl(const fuv_udp_t *udp) {
  return get_by_family(udp, IP_TTL, IPV6_UNICAST_HOPS);
}

int fuv_udp_set_multicast_ttl(fuv_udp_t *udp, int ttl) {
  if (ttl < 0 || ttl > 255)
    return FUV_EINVAL;
  return set_by_family(udp, IP_MULTICAST_TTL, IPV6_MULTICAST_HOPS, 1, ttl);
}

int fuv_udp_set_multicast_loop(fuv_udp_t *udp, int on) {
  return set_by_family(udp, IP_MULTICAST_LOOP, IPV6_MULTICAST_LOOP, 1,
                       on != 0);
}

/* The interface index of an IPv6 interface given as an address with a
 * scope ("::%lo", "fe80::1%eth0") or as a name ("lo"); 0 for NULL or "". */
static int interface_index(const char *iface, unsigned *index) {
  struct sockaddr_in6 in6;
  *index = 0;
  if (iface == NULL || iface[0] == '\0')
    return 0;
  if (strchr(iface, ':') != NULL) {
    if (fuv_ip6_addr(iface, 0, &in6) != 0)
      return FUV_EINVAL;
    *index = in6.sin6_scope_id;
    return 0;
  }
  *index = if_nametoindex(iface);
  return *index != 0 ? 0 : FUV_ENODEV;
}

/* An IPv4 interface address, INADDR_ANY for NULL. */
static int interface_addr4(const char *iface, struct in_addr *addr) {
  addr->s_addr = htonl(INADDR_ANY);
  if (iface == NULL || iface[0] == '\0')
    return 0;
  return inet_pton(AF_INET, iface, addr) == 1 ? 0 : FUV_EINVAL;
}

int fuv_udp_set_multicast_interface(fuv_udp_t *udp,
                                    const char *interface_addr) {
  int fd, family, r = udp_socket(udp, &fd, &family);
  if (r != 0)
    return r;
  if (family == AF_INET6 && interface_addr != NULL &&
      strchr(interface_addr, '.') == NULL) {
    unsigned index;
    r = interface_index(interface_addr, &index);
    if (r != 0)
      return r;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index,
                   sizeof index) != 0)
      return fuv__errno();
    return 0;
  }
  {
    struct in_addr addr;
    r = interface_addr4(interface_addr, &addr);
    if (r != 0)
      return r;
    if (family == AF_INET6 && interface_addr == NULL) {
      unsigned index = 0;
      if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index,
                     sizeof index) != 0)
        return fuv__errno();
      return 0;
    }
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &addr, sizeof addr) != 0)
      return fuv__errno();
  }
  return 0;
}

/* Parses a multicast group: an IPv4 or IPv6 multicast address. */
static int parse_group(const char *group, struct sockaddr_storage *ss) {
  socklen_t len;
  if (fuv__addr_parse(group, 0, ss, &len) != 0)
    return FUV_EINVAL;
  if (ss->ss_family == AF_INET) {
    if (!IN_MULTICAST(ntohl(((struct sockaddr_in *)ss)->sin_addr.s_addr)))
      return FUV_EINVAL;
  } else if (!IN6_IS_ADDR_MULTICAST(&((struct sockaddr_in6 *)ss)->sin6_addr)) {
    return FUV_EINVAL;
  }
  return 0;
}

/* A group is joined on the handle's socket: FUV_EBADF when there is none
 * yet, as for every option (bind first, as a receiver must anyway). */
static int group_socket(fuv_udp_t *udp, int *fd) {
  int r = fuv__udp_check(udp);
  if (r != 0)
    return r;
  *fd = udp->io.fd;
  return *fd < 0 ? FUV_EBADF : 0;
}

static int check_membership(int membership) {
  return membership == FUV_JOIN_GROUP || membership == FUV_LEAVE_GROUP
             ? 0
             : FUV_EINVAL;
}

int fuv_udp_set_membership(fuv_udp_t *udp, const char *multicast_addr,
                           const char *interface_addr, int membership) {
  struct sockaddr_storage group;
  int fd = -1, r = fuv__udp_check(udp);
  if (r != 0)
    return r;
  if ((r = check_membership(membership)) != 0 ||
      (r = parse_group(multicast_addr, &group)) != 0 ||
      (r = group_socket(udp, &fd)) != 0)
    return r;
  if (group.ss_family == AF_INET) {
    struct ip_mreq mreq;
    memset(&mreq, 0, sizeof mreq);
    mreq.imr_multiaddr = ((struct sockaddr_in *)&group)->sin_addr;
    if ((r = interface_addr4(interface_addr, &mreq.imr_interface)) != 0)
      return r;
    if (setsockopt(fd, IPPROTO_IP,
                   membership == FUV_JOIN_GROUP ? IP_ADD_MEMBERSHIP
                                                : IP_DROP_MEMBERSHIP,
                   &mreq, sizeof mreq) != 0)
      return fuv__errno();
  } else {
    struct ipv6_mreq mreq;
    unsigned index;
    memset(&mreq, 0, sizeof mreq);
    mreq.ipv6mr_multiaddr = ((struct sockaddr_in6 *)&group)->sin6_addr;
    if ((r = interface_index(interface_addr, &index)) != 0)
      return r;
    mreq.ipv6mr_interface = index;
    if (setsockopt(fd, IPPROTO_IPV6,
                   membership == FUV_JOIN_GROUP ? IPV6_ADD_MEMBERSHIP
                                                : IPV6_DROP_MEMBERSHIP,
                   &mreq, sizeof mreq) != 0)
      return fuv__errno();
  }
  return 0;
}

int fuv_udp_set_source_membership(fuv_udp_t *udp, const char *multicast_addr,
                                  const char *interface_addr,
                                  const char *source_addr, int membership) {
  struct sockaddr_storage group, source;
  struct group_source_req req;
  socklen_t len;
  unsigned index = 0;
  int fd = -1, level, r = fuv__udp_check(udp);
  if (r != 0)
    return r;
  if ((r = check_membership(membership)) != 0 ||
      (r = parse_group(multicast_addr, &group)) != 0)
    return r;
  if (source_addr == NULL || fuv__addr_parse(source_addr, 0, &source, &len) != 0 ||
      source.ss_family != group.ss_family)
    return FUV_EINVAL;
  if (group.ss_family == AF_INET6) {
    if ((r = interface_index(interface_addr, &index)) != 0)
      return r;
    level = IPPROTO_IPV6;
  } else {
    /* The protocol-independent request names the interface by index; an
     * IPv4 interface address means the interface that has it. */
    struct in_addr addr;
    if ((r = interface_addr4(interface_addr, &addr)) != 0)
      return r;
    if (addr.s_addr != htonl(INADDR_ANY)) {
      struct ip_mreq_source mreq;
      if ((r = group_socket(udp, &fd)) != 0)
        return r;
      memset(&mreq, 0, sizeof mreq);
      mreq.imr_multiaddr = ((struct sockaddr_in *)&group)->sin_addr;
      mreq.imr_interface = addr;
      mreq.imr_sourceaddr = ((struct sockaddr_in *)&source)->sin_addr;
      if (setsockopt(fd, IPPROTO_IP,
                     membership == FUV_JOIN_GROUP ? IP_ADD_SOURCE_MEMBERSHIP
                                                  : IP_DROP_SOURCE_MEMBERSHIP,
                     &mreq, sizeof mreq) != 0)
        return fuv__errno();
      return 0;
    }
    level = IPPROTO_IP;
  }
  if ((r = group_socket(udp, &fd)) != 0)
    return r;
  memset(&req, 0, sizeof req);
  req.gsr_interface = index;
  memcpy(&req.gsr_group, &group, sizeof group);
  memcpy(&req.gsr_source, &source, sizeof source);
  if (setsockopt(fd, level,
                 membership == FUV_JOIN_GROUP ? MCAST_JOIN_SOURCE_GROUP
                                              : MCAST_LEAVE_SOURCE_GROUP,
                 &req, sizeof req) != 0)
    return fuv__errno();
  return 0;
}

/* ---- TOS and ECN ---------------------------------------------------------- */

int fuv_udp_set_tos(fuv_udp_t *udp, int tos) {
  if (tos < 0 || tos > 255)
    return FUV_EINVAL;
  return set_by_family(udp, IP_TOS, IPV6_TCLASS, 1, tos);
}

int fuv_udp_get_tos(const fuv_udp_t *udp) {
  return get_by_family(udp, IP_TOS, IPV6_TCLASS);
}

int fuv_udp_set_ecn(fuv_udp_t *udp, int ecn) {
  int tos;
  if (ecn < 0 || ecn > 3)
    return FUV_EINVAL;
  tos = fuv_udp_get_tos(udp);
  if (tos < 0)
    return tos;
  return fuv_udp_set_tos(udp, (tos & ~3) | ecn);
}

int fuv_udp_get_ecn(const fuv_udp_t *udp) {
  int tos = fuv_udp_get_tos(udp);
  return tos < 0 ? tos : tos & 3;
}

/* ---- what the kernel tells of each datagram --------------------------------- */

static int set_recv_flag(fuv_udp_t *udp, unsigned flag, int v4, int v6,
                         int on) {
  int r = set_by_family(udp, v4, v6, 1, on != 0);
  if (r != 0)
    return r;
  if (on)
    udp->handle.flags |= flag;
  else
    udp->handle.flags &= ~flag;
  return 0;
}

int fuv_udp_set_recv_dest(fuv_udp_t *udp, int on) {
  return set_recv_flag(udp, FUV__UDP_RECV_DEST, IP_PKTINFO, IPV6_RECVPKTINFO,
                       on);
}

int fuv_udp_set_recv_tos(fuv_udp_t *udp, int on) {
  return set_recv_flag(udp, FUV__UDP_RECV_TOS, IP_RECVTOS, IPV6_RECVTCLASS,
                       on);
}

/* ---- segmentation and receive offload ---------------------------------------- */

int fuv_udp_set_gso(fuv_udp_t *udp, int segment_size) {
  if (segment_size < 0 || segment_size > 65507)
    return FUV_EINVAL;
  return set_udp_level(udp, UDP_SEGMENT, segment_size);
}

int fuv_udp_get_gso(const fuv_udp_t *udp) {
  return get_udp_level(udp, UDP_SEGMENT);
}

/* The kernel tells the segment size of a coalesced buffer only while its
 * option is on, also for buffers it coalesced before: turned off with such
 * buffers queued, they would reach the callback as one datagram. So once
 * on, the option stays on for the socket's life; turning it off is
 * recorded (and reported) only. Every datagram reaches the callback on its
 * own either way, so nothing but the system calls saved can tell. */
int fuv_udp_set_gro(fuv_udp_t *udp, int on) {
  int r;
  if (!on && (udp->handle.flags & FUV__UDP_GRO)) {
    r = fuv__udp_check(udp);
    if (r == 0)
      udp->handle.flags |= FUV__UDP_GRO_OFF;
    return r;
  }
  r = set_udp_level(udp, UDP_GRO, on != 0);
  if (r != 0)
    return r;
  if (on)
    udp->handle.flags = (udp->handle.flags | FUV__UDP_GRO) & ~FUV__UDP_GRO_OFF;
  return 0;
}

int fuv_udp_get_gro(const fuv_udp_t *udp) {
  int r = get_udp_level(udp, UDP_GRO);
  if (r > 0 && (udp->handle.flags & FUV__UDP_GRO_OFF))
    return 0;
  return r;
}
