/*
 * TCP socket options beyond libuv's set (EdgerOS' list): linger, TTL,
 * SO_REUSEADDR, IPv6-only, bind-to-device, the TCP state, bytes waiting to
 * be read, SO_ERROR, and detaching the socket from its handle.
 *
 * Every function here works on the handle's current socket and reads or
 * writes the kernel's setting directly; nothing is cached, so what a getter
 * returns is what getsockopt(2) says.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* Checks the handle and fetches its socket: FUV_EINVAL for NULL, a handle
 * of another kind or a closing one, FUV_EBADF when there is no socket. */
static int tcp_socket(const fuv_tcp_t *tcp, int *fd) {
  int err = fuv__tcp_check(tcp);
  if (err != 0)
    return err;
  *fd = fuv__stream_fd(&tcp->stream);
  return *fd < 0 ? FUV_EBADF : 0;
}

/* The address family of the socket, from its local address: that works for
 * unbound sockets too, whose address is the family's wildcard. */
int fuv__socket_family(int fd, int *family) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  memset(&ss, 0, sizeof ss);
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
    return fuv__errno();
  *family = ss.ss_family;
  return 0;
}

int fuv_tcp_set_linger(fuv_tcp_t *tcp, int on, int seconds) {
  struct linger lg;
  int fd;
  int err = tcp_socket(tcp, &fd);
  if (err != 0)
    return err;
  /* The timeout only means something when lingering is on. */
  if (on && seconds < 0)
    return FUV_EINVAL;
  lg.l_onoff = on ? 1 : 0;
  lg.l_linger = on ? seconds : 0;
  if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) != 0)
    return fuv__errno();
  return 0;
}

int fuv_tcp_get_linger(const fuv_tcp_t *tcp, int *on, int *seconds) {
  struct linger lg;
  socklen_t len = sizeof lg;
  int fd;
  int err = tcp_socket(tcp, &fd);
  if (err != 0)
    return err;
  if (on == NULL || seconds == NULL)
    return FUV_EINVAL;
  memset(&lg, 0, sizeof lg);
  if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len) != 0)
    return fuv__errno();
  *on = lg.l_onoff ? 1 : 0;
  *seconds = lg.l_linger;
  return 0;
}

/* The option that holds the unicast TTL for the socket's family. */
static int ttl_option(int fd, int *level, int *name) {
  int family;
  int err = fuv__socket_family(fd, &family);
  if (err != 0)
    return err;
  if (family == AF_INET6) {
    *level = IPPROTO_IPV6;
    *name = IPV6_UNICAST_HOPS;
  } else {
    *level = IPPROTO_IP;
    *name = IP_TTL;
  }
  return 0;
}

int fuv_tcp_set_ttl(fuv_tcp_t *tcp, int ttl) {
  int fd, level, name;
  int err = tcp_socket(tcp, &fd);
  if (err != 0)
    return err;
  if (ttl < 1 || ttl > 255)
    return FUV_EINVAL;
  err = ttl_option(fd, &level, &name);
  if (err != 0)
    return err;
  return fuv__set_int_option(fd, level, name, ttl);
}

int fuv_tcp_get_ttl(const fuv_tcp_t *tcp) {
  int fd, level, name;
  int err = tcp_socket(tcp, &fd);
  if (err != 0)
    return err;
  err = ttl_option(fd, &level, &name);
  if (err != 0)
    return err;
  return fuv__get_int_option(fd, level, name);
}

int fuv_tcp_set_reuseaddr(fuv_tcp_t *tcp, int on) {
  int fd;
  int err = tcp_socket(tcp, &fd);
  if (err != 0)
    return err;
  return fuv__set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, on ? 1 : 0);
}

int fuv_tcp_get_reuseaddr(const fuv_tcp_t *tcp) {
  int fd, value;
  int err = tcp_socket(tcp, &fd);
  if (err != 0)
    return err;
  value = fuv__get_int_option(fd, SOL_SOCKET, SO_REUSEADDR);
  return value > 0 ? 1 : value;
}

/* Fetches the socket of an IPv6 handle; FUV_EAFNOSUPPORT for IPv4, where
 * IPV6_V6ONLY has no meaning. */
static int ipv6_socket(const fuv_tcp_t *tcp, int *fd) {
  int family;
  int err = tcp_socket(tcp, fd);
  if (err != 0)
    return err;
  err = fuv__socket_family(*fd, &family);
  if (err != 0)
    return err;
  return family == AF_INET6 ? 0 : FUV_EAFNOSUPPORT;
}

int fuv_tcp_set_ipv6only(fuv_tcp_t *tcp, int on) {
  int fd;
  int err = ipv6_socket(tcp, &fd);
  if (err != 0)
    return err;
  return fuv__set_int_option(fd, IPPROTO_IPV6, IPV6_V6ONLY, on ? 1 : 0);
}

int fuv_tcp_get_ipv6only(const fuv_tcp_t *tcp) {
  int fd, value;
  int err = ipv6_socket(tcp, &fd);
  if (err != 0)
    return err;
  value = fuv__get_int_option(fd, IPPROTO_IPV6, IPV6_V6ONLY);
  return value > 0 ? 1 : value;
}

int fuv_tcp_bind_to_device(fuv_tcp_t *tcp, const char *ifname) {
  int fd;
  int err = tcp_socket(tcp, &fd);
  if (err != 0)
    return err;
#ifdef SO_BINDTODEVICE
  if (ifname == NULL || ifname[0] == '\0') {
    /* An empty name removes the binding. */
    if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "", 0) != 0)
      return fuv__errno();
    return 0;
  }
  /* Look the name up first so that an unknown or over-long name is always
   * FUV_ENODEV, whatever the kernel would have said. */
  if (strlen(ifname) >= IFNAMSIZ || if_nametoindex(ifname) == 0)
    return FUV_ENODEV;
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
                 (socklen_t)strlen(ifname) + 1) != 0)
    return fuv__errno();
  return 0;
#else
  FUV__UNUSED(ifname);
  return FUV_ENOTSUP;
#endif
}

/* Maps the kernel's tcpi_state to fuv_tcp_state_t one state at a time, so
 * that the public values never depend on the platform's numbering. */
static int state_from_kernel(int state) {
  switch (state) {
  case TCP_ESTABLISHED: return FUV_TCP_ESTABLISHED;
  case TCP_SYN_SENT: return FUV_TCP_SYN_SENT;
  case TCP_SYN_RECV: return FUV_TCP_SYN_RECV;
  case TCP_FIN_WAIT1: return FUV_TCP_FIN_WAIT1;
  case TCP_FIN_WAIT2: return FUV_TCP_FIN_WAIT2;
  case TCP_TIME_WAIT: return FUV_TCP_TIME_WAIT;
  case TCP_CLOSE: return FUV_TCP_CLOSE;
  case TCP_CLOSE_WAIT: return FUV_TCP_CLOSE_WAIT;
  case TCP_LAST_ACK: return FUV_TCP_LAST_ACK;
  case TCP_LISTEN: return FUV_TCP_LISTEN;
  case TCP_CLOSING: return FUV_TCP_CLOSING;
  default: return FUV_TCP_STATE_UNKNOWN;
  }
}

int fuv_tcp_state(const fuv_tcp_t *tcp) {
  int fd;
  int err = tcp_socket(tcp, &fd);
  if (err != 0)
    return err;
#ifdef TCP_INFO
  {
    struct tcp_info info;
    socklen_t len = sizeof info;
    memset(&info, 0, sizeof info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0)
      return fuv__errno();
    return state_from_kernel(info.tcpi_state);
  }
#else
  return FUV_ENOTSUP;
#endif
}

const char *fuv_tcp_state_name(int state) {
  switch (state) {
  case FUV_TCP_ESTABLISHED: return "ESTABLISHED";
  case FUV_TCP_SYN_SENT: return "SYN_SENT";
  case FUV_TCP_SYN_RECV: return "SYN_RECV";
  case FUV_TCP_FIN_WAIT1: return "FIN_WAIT1";
  case FUV_TCP_FIN_WAIT2: return "FIN_WAIT2";
  case FUV_TCP_TIME_WAIT: return "TIME_WAIT";
  case FUV_TCP_CLOSE: return "CLOSE";
  case FUV_TCP_CLOSE_WAIT: return "CLOSE_WAIT";
  case FUV_TCP_LAST_ACK: return "LAST_ACK";
  case FUV_TCP_LISTEN: return "LISTEN";
  case FUV_TCP_CLOSING: return "CLOSING";
  default: return "UNKNOWN";
  }
}

int fuv_tcp_pending_bytes(const fuv_tcp_t *tcp) {
  int fd;
  int count = 0;
  int err = tcp_socket(tcp, &fd);
  if (err != 0)
    return err;
  if (ioctl(fd, FIONREAD, &count) != 0)
    return fuv__errno();
  return count;
}

int fuv_tcp_socket_error(fuv_tcp_t *tcp) {
  int fd;
  int err = tcp_socket(tcp, &fd);
  if (err != 0)
    return err;
  return fuv__socket_error(fd);
}

/* Whether handing the socket over now could lose or reorder bytes the
 * caller has already given us, or an operation whose result is pending. */
static int detach_would_lose_work(const fuv_tcp_t *tcp) {
  const fuv_stream_t *s = &tcp->stream;
  const unsigned busy = FUV__STREAM_CONNECTING | FUV__STREAM_SHUTTING;
  if (s->handle.flags & busy)
    return 1;
  if (s->write_queue.head != NULL || s->write_tail > s->write_head)
    return 1;
  /* A connection already taken off the listen queue lives only in this
   * handle; it would be lost with the listening socket. */
  return s->accepted_fd >= 0;
}

int fuv_tcp_detach(fuv_tcp_t *tcp) {
  const unsigned socket_state =
      FUV__STREAM_CONNECTED | FUV__STREAM_LISTENING | FUV__STREAM_READING |
      FUV__STREAM_READABLE | FUV__STREAM_WRITABLE | FUV__STREAM_SHUT |
      FUV__STREAM_BOUND | FUV__STREAM_CONGESTED | FUV__STREAM_ACCEPT_PAUSED;
  fuv_stream_t *s;
  int fd;
  int err = tcp_socket(tcp, &fd);
  if (err != 0)
    return err;
  if (detach_would_lose_work(tcp))
    return FUV_EBUSY;

  s = &tcp->stream;
  /* Remove the fd from the loop's backend without closing it, then leave
   * the handle as fuv_tcp_new() makes it: no socket and nothing started. */
  fuv__io_close(s->handle.loop, &s->io);
  s->io.fd = -1;
  s->handle.flags &= ~socket_state;
  s->read_cb = NULL;
  s->read_arg = NULL;
  s->connection_cb = NULL;
  s->connection_arg = NULL;
  tcp->stream.delayed_error = 0;
  fuv__stream_update_active(s);
  return fd;
}
