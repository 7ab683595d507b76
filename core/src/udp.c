/* UDP handles: datagram sockets, binding, connecting, and sending, with
 * libuv's uv_udp_t semantics. Receiving is in udp_recv.c, the socket
 * options in udp_options.c.
 *
 * A send goes to the kernel at once when nothing is queued before it, so
 * the common case copies nothing; only a datagram that must wait (the
 * kernel's buffer is full, or others wait before it) is copied into its
 * record. The records themselves are reused, so steady sending with a
 * callback allocates nothing. */
#include "internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The largest payload of one UDP datagram: 65535 less the UDP header, and
 * for IPv4 less its IP header too. */
#define FUV__UDP_MAX_PAYLOAD4 65507
#define FUV__UDP_MAX_PAYLOAD6 65527

/* Send records kept on a handle's free list for reuse. */
#define FUV__MAX_FREE_SENDS 64

int fuv__udp_check(const fuv_udp_t *udp) {
  return fuv__handle_check((const fuv_handle_t *)udp, FUV_UDP);
}

static int is_closing(const fuv_udp_t *udp) {
  return (udp->handle.flags & FUV__HANDLE_CLOSING) != 0;
}

/* A handle is active while it receives or has sends whose callbacks are
 * owed, as in libuv. */
void fuv__udp_update_active(fuv_udp_t *udp) {
  /* A closing handle was stopped for good by fuv_close. */
  if (is_closing(udp))
    return;
  if ((udp->handle.flags & FUV__UDP_READING) || udp->queue.head != NULL ||
      udp->done.head != NULL)
    fuv__handle_start(&udp->handle);
  else
    fuv__handle_stop(&udp->handle);
}

/* ---- send records ----------------------------------------------------- */

static void list_push(fuv__udp_send_list_t *list, fuv__udp_send_t *s) {
  s->next = NULL;
  if (list->tail != NULL)
    list->tail->next = s;
  else
    list->head = s;
  list->tail = s;
}

static fuv__udp_send_t *list_pop(fuv__udp_send_list_t *list) {
  fuv__udp_send_t *s = list->head;
  if (s != NULL) {
    list->head = s->next;
    if (list->head == NULL)
      list->tail = NULL;
  }
  return s;
}

static fuv__udp_send_t *send_get(fuv_udp_t *udp) {
  fuv__udp_send_t *s = udp->free_sends;
  if (s != NULL) {
    udp->free_sends = s->next;
    udp->nfree_sends--;
    return s;
  }
  return malloc(sizeof *s);
}

static void send_put(fuv_udp_t *udp, fuv__udp_send_t *s) {
  free(s->data);
  s->data = NULL;
  if (udp->nfree_sends < FUV__MAX_FREE_SENDS) {
    s->next = udp->free_sends;
    udp->free_sends = s;
    udp->nfree_sends++;
  } else {
    free(s);
  }
}

/* A queued datagram has left the queue (sent, failed or cancelled). */
static void queue_forget(fuv_udp_t *udp, fuv__udp_send_t *s) {
  udp->queue_size -= s->len;
  udp->queue_count--;
  free(s->data);
  s->data = NULL;
}

/* Records a finished send whose callback is owed: it runs from the
 * pending phase, never from the call that sent. */
static void send_finish(fuv_udp_t *udp, fuv__udp_send_t *s, int status) {
  s->status = status;
  if (s->cb == NULL && s->req == NULL) {
    send_put(udp, s);
    return;
  }
  list_push(&udp->done, s);
  fuv__handle_make_pending(&udp->handle);
}

/* Runs the callback of a finished send and recycles its record. */
static void send_report(fuv_udp_t *udp, fuv__udp_send_t *s) {
  fuv_udp_send_cb cb = s->cb;
  void *arg = s->arg;
  int status = s->status;
  fuv__req_done(s->req);
  send_put(udp, s);
  if (cb != NULL)
    cb(udp, status, arg);
}

/* ---- the handle --------------------------------------------------------- */

static void udp_io(fuv_loop_t *loop, fuv__io_t *w, unsigned events);

/* Runs the callbacks of the sends finished before this pass, in order (a
 * send made by one of them that finishes at once waits for the next), then
 * hands out what is left of a GRO buffer if receiving started again. */
static void udp_pending(fuv_handle_t *h) {
  fuv_udp_t *udp = (fuv_udp_t *)h;
  fuv__udp_send_t *last = udp->done.tail, *s;
  while ((s = list_pop(&udp->done)) != NULL) {
    int was_last = s == last;
    send_report(udp, s);
    if (is_closing(udp))
      return;
    if (was_last)
      break;
  }
  /* Datagrams left of a GRO buffer when receiving started again. */
  fuv__udp_rest_deliver(udp);
  if (is_closing(udp))
    return;
  fuv__udp_update_active(udp);
}

/* The last step of a close: every callback still owed runs, in order, the
 * queued sends with FUV_ECANCELED. */
static void udp_finish_close(fuv_handle_t *h) {
  fuv_udp_t *udp = (fuv_udp_t *)h;
  fuv__udp_send_t *s;
  while ((s = list_pop(&udp->done)) != NULL)
    send_report(udp, s);
  while ((s = list_pop(&udp->queue)) != NULL) {
    queue_forget(udp, s);
    s->status = FUV_ECANCELED;
    send_report(udp, s);
  }
  while ((s = udp->free_sends) != NULL) {
    udp->free_sends = s->next;
    free(s);
  }
  udp->nfree_sends = 0;
  free(udp->rest);
  udp->rest = NULL;
}

void fuv__udp_close(fuv_udp_t *udp) {
  if (udp->io.fd >= 0) {
    fuv__io_close(udp->handle.loop, &udp->io);
    fuv__close_fd(udp->io.fd);
    udp->io.fd = -1;
  }
  udp->handle.flags &= ~FUV__UDP_READING;
}

static int udp_alloc(fuv_udp_t **out, fuv_loop_t *loop) {
  fuv_udp_t *udp = calloc(1, sizeof *udp);
  if (udp == NULL)
    return FUV_ENOMEM;
  fuv__handle_init(loop, &udp->handle, FUV_UDP, udp_finish_close);
  udp->handle.on_pending = udp_pending;
  fuv__io_init(&udp->io, udp_io, -1);
  udp->max_datagram = 65536;
  udp->tos = -1;
  *out = udp;
  return 0;
}

/* Gives the handle a socket of the family if it has none. One of another
 * family is kept: an IPv6 socket sends to IPv4 addresses too. */
static int ensure_socket(fuv_udp_t *udp, int family) {
  int fd;
  if (udp->io.fd >= 0)
    return 0;
  fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return fuv__errno();
  udp->io.fd = fd;
  udp->family = family;
  return 0;
}

int fuv_udp_new(fuv_udp_t **out, fuv_loop_t *loop) {
  return fuv_udp_new_ex(out, loop, AF_UNSPEC, 0);
}

int fuv_udp_new_ex(fuv_udp_t **out, fuv_loop_t *loop, int domain,
                   unsigned int flags) {
  fuv_udp_t *udp;
  int r;
  if (out == NULL)
    return FUV_EINVAL;
  *out = NULL;
  if (loop == NULL || (flags & ~(unsigned)FUV_UDP_RECVMMSG))
    return FUV_EINVAL;
  if (domain != AF_UNSPEC && domain != AF_INET && domain != AF_INET6)
    return FUV_EINVAL;
  r = udp_alloc(&udp, loop);
  if (r != 0)
    return r;
  if (flags & FUV_UDP_RECVMMSG)
    udp->handle.flags |= FUV__UDP_RECVMMSG;
  if (domain != AF_UNSPEC) {
    r = ensure_socket(udp, domain);
    if (r != 0) {
      fuv__queue_remove(&udp->handle.handle_queue);
      free(udp);
      return r;
    }
  }
  *out = udp;
  return 0;
}

int fuv_udp_open(fuv_udp_t *udp, int fd) {
  int type = 0, family = 0;
  socklen_t len = sizeof type;
  struct sockaddr_storage ss;
  int r = fuv__udp_check(udp);
  if (r != 0)
    return r;
  if (udp->io.fd >= 0)
    return FUV_EBUSY;
  if (fd < 0)
    return FUV_EBADF;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
    return errno == ENOTSOCK ? FUV_EINVAL : fuv__errno();
  r = fuv__socket_family(fd, &family);
  if (r != 0)
    return r;
  if (type != SOCK_DGRAM || (family != AF_INET && family != AF_INET6))
    return FUV_EINVAL;
  r = fuv__set_nonblock(fd, 1);
  if (r != 0)
    return r;
  fuv__set_cloexec(fd);
  udp->io.fd = fd;
  udp->family = family;
  len = sizeof ss;
  if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
    udp->handle.flags |= FUV__UDP_CONNECTED;
  return 0;
}

/* ---- addresses ---------------------------------------------------------- */

/* The length of an IPv4 or IPv6 sockaddr, or 0 for another family. */
static socklen_t addr_len(const struct sockaddr *addr) {
  if (addr->sa_family == AF_INET)
    return sizeof(struct sockaddr_in);
  if (addr->sa_family == AF_INET6)
    return sizeof(struct sockaddr_in6);
  return 0;
}

static int addr_port(const struct sockaddr *addr) {
  if (addr->sa_family == AF_INET)
    return ntohs(((const struct sockaddr_in *)addr)->sin_port);
  return ntohs(((const struct sockaddr_in6 *)addr)->sin6_port);
}

int fuv_udp_bind_addr(fuv_udp_t *udp, const struct sockaddr *addr,
                      unsigned int flags) {
  const unsigned known =
      FUV_UDP_IPV6ONLY | FUV_UDP_REUSEADDR | FUV_UDP_REUSEPORT;
  socklen_t len;
  int fd, r = fuv__udp_check(udp);
  if (r != 0)
    return r;
  if (addr == NULL || (flags & ~known) || (len = addr_len(addr)) == 0)
    return FUV_EINVAL;
  if ((flags & FUV_UDP_IPV6ONLY) && addr->sa_family != AF_INET6)
    return FUV_EINVAL;
  r = ensure_socket(udp, addr->sa_family);
  if (r != 0)
    return r;
  fd = udp->io.fd;
  if (flags & FUV_UDP_REUSEADDR)
    r = fuv__set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  if (r == 0 && (flags & FUV_UDP_REUSEPORT)) {
#ifdef SO_REUSEPORT
    r = fuv__set_int_option(fd, SOL_SOCKET, SO_REUSEPORT, 1);
#else
    r = FUV_ENOTSUP;
#endif
  }
  if (r == 0 && addr->sa_family == AF_INET6)
    r = fuv__set_int_option(fd, IPPROTO_IPV6, IPV6_V6ONLY,
                            (flags & FUV_UDP_IPV6ONLY) != 0);
  if (r != 0)
    return r;
  /* The kernel refuses a second bind with EINVAL, as the header says. */
  if (bind(fd, addr, len) != 0)
    return fuv__errno();
  udp->local_port = 0;
  return 0;
}

int fuv_udp_bind(fuv_udp_t *udp, const char *ip, int port,
                 unsigned int flags) {
  struct sockaddr_storage ss;
  socklen_t len;
  int r = fuv__udp_check(udp);
  if (r != 0)
    return r;
  r = fuv__addr_parse(ip, port, &ss, &len);
  if (r != 0)
    return r;
  return fuv_udp_bind_addr(udp, (struct sockaddr *)&ss, flags);
}

int fuv__udp_ensure_bound(fuv_udp_t *udp) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int r = ensure_socket(udp, AF_INET);
  if (r != 0)
    return r;
  memset(&ss, 0, sizeof ss);
  if (getsockname(udp->io.fd, (struct sockaddr *)&ss, &len) != 0)
    return fuv__errno();
  if (addr_port((struct sockaddr *)&ss) != 0)
    return 0;
  /* The wildcard of the socket's family, with a free port. */
  if (ss.ss_family == AF_INET)
    ((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_ANY);
  else
    ((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_any;
  if (bind(udp->io.fd, (struct sockaddr *)&ss, addr_len((struct sockaddr *)&ss)) != 0)
    return fuv__errno();
  return 0;
}

/* Notes the socket's address before a connect (its family's wildcard and
 * port 0 when unbound), the address a disconnect returns it to. */
static void remember_unconnected(fuv_udp_t *udp) {
  socklen_t len = sizeof udp->unconnected_addr;
  memset(&udp->unconnected_addr, 0, sizeof udp->unconnected_addr);
  if (getsockname(udp->io.fd, (struct sockaddr *)&udp->unconnected_addr,
                  &len) != 0)
    memset(&udp->unconnected_addr, 0, sizeof udp->unconnected_addr);
}

static void set_port(struct sockaddr *addr, int port) {
  if (addr->sa_family == AF_INET)
    ((struct sockaddr_in *)addr)->sin_port = htons((uint16_t)port);
  else
    ((struct sockaddr_in6 *)addr)->sin6_port = htons((uint16_t)port);
}

/* Dissolves the association and keeps the port the socket had while
 * connected: Linux drops a port it picked itself (at bind with port 0, or
 * at connect), so the socket is bound again to its address from before the
 * connect with that port. A handle keeps its port for its whole life, as
 * its peers expect. */
static int disconnect_keeping_port(fuv_udp_t *udp) {
  struct sockaddr_storage now;
  struct sockaddr *before = (struct sockaddr *)&udp->unconnected_addr;
  struct sockaddr unspec;
  socklen_t len = sizeof now;
  int port;
  memset(&now, 0, sizeof now);
  if (getsockname(udp->io.fd, (struct sockaddr *)&now, &len) != 0)
    return fuv__errno();
  port = addr_port((struct sockaddr *)&now);
  memset(&unspec, 0, sizeof unspec);
  unspec.sa_family = AF_UNSPEC;
  /* Dissolving the association may report EAFNOSUPPORT on some systems
   * even though it worked; Linux does not. */
  if (connect(udp->io.fd, &unspec, sizeof unspec) != 0 &&
      errno != EAFNOSUPPORT)
    return fuv__errno();
  udp->handle.flags &= ~FUV__UDP_CONNECTED;
  len = sizeof now;
  if (getsockname(udp->io.fd, (struct sockaddr *)&now, &len) != 0)
    return fuv__errno();
  if (addr_port((struct sockaddr *)&now) != 0 || addr_len(before) == 0)
    return 0;
  set_port(before, port);
  if (bind(udp->io.fd, before, addr_len(before)) != 0)
    return fuv__errno();
  return 0;
}

int fuv_udp_connect_addr(fuv_udp_t *udp, const struct sockaddr *addr) {
  socklen_t len;
  int r = fuv__udp_check(udp);
  if (r != 0)
    return r;
  if (addr == NULL) {
    if (!(udp->handle.flags & FUV__UDP_CONNECTED))
      return FUV_ENOTCONN;
    return disconnect_keeping_port(udp);
  }
  if ((len = addr_len(addr)) == 0 || addr_port(addr) == 0)
    return FUV_EINVAL;
  if (udp->handle.flags & FUV__UDP_CONNECTED)
    return FUV_EISCONN;
  r = ensure_socket(udp, addr->sa_family);
  if (r != 0)
    return r;
  remember_unconnected(udp);
  /* A connect may bind the socket (an unbound one gets a port and every
   * one a local address), so the cached port is read again. */
  udp->local_port = 0;
  if (connect(udp->io.fd, addr, len) != 0)
    return fuv__errno();
  udp->handle.flags |= FUV__UDP_CONNECTED;
  return 0;
}

int fuv_udp_connect(fuv_udp_t *udp, const char *ip, int port) {
  struct sockaddr_storage ss;
  const struct sockaddr *addr;
  int r = fuv__udp_check(udp);
  if (r != 0)
    return r;
  r = fuv__addr_parse_optional(ip, port, &ss, &addr);
  if (r != 0)
    return r;
  return fuv_udp_connect_addr(udp, addr);
}

/* The socket, for the calls that need one: FUV_EBADF when there is none. */
static int udp_fd(const fuv_udp_t *udp, int *fd) {
  int r = fuv__udp_check(udp);
  if (r != 0)
    return r;
  *fd = udp->io.fd;
  return *fd < 0 ? FUV_EBADF : 0;
}

/* Without a socket or a connection, getpeername is ENOTCONN. */
static int peer_fd(const fuv_udp_t *udp, int *fd) {
  int r = fuv__udp_check(udp);
  if (r != 0)
    return r;
  *fd = udp->io.fd;
  return (udp->handle.flags & FUV__UDP_CONNECTED) ? 0 : FUV_ENOTCONN;
}

int fuv_udp_getsockname(const fuv_udp_t *udp, char *ip, size_t iplen,
                        int *port) {
  int fd, r = udp_fd(udp, &fd);
  return r != 0 ? r : fuv__fd_name(fd, 0, ip, iplen, port);
}

int fuv_udp_getpeername(const fuv_udp_t *udp, char *ip, size_t iplen,
                        int *port) {
  int fd, r = peer_fd(udp, &fd);
  return r != 0 ? r : fuv__fd_name(fd, 1, ip, iplen, port);
}

int fuv_udp_getsockname_addr(const fuv_udp_t *udp, struct sockaddr *name,
                             int *namelen) {
  int fd, r = udp_fd(udp, &fd);
  return r != 0 ? r : fuv__fd_name_addr(fd, 0, name, namelen);
}

int fuv_udp_getpeername_addr(const fuv_udp_t *udp, struct sockaddr *name,
                             int *namelen) {
  int fd, r = peer_fd(udp, &fd);
  return r != 0 ? r : fuv__fd_name_addr(fd, 1, name, namelen);
}

/* ---- sending ---------------------------------------------------------- */

int fuv__udp_prepare_send(fuv_udp_t *udp, size_t len,
                          const struct sockaddr *addr, socklen_t *addrlen) {
  int connected = (udp->handle.flags & FUV__UDP_CONNECTED) != 0;
  int family;
  *addrlen = 0;
  if (addr == NULL) {
    if (!connected)
      return FUV_EDESTADDRREQ;
    family = udp->family;
  } else {
    if ((*addrlen = addr_len(addr)) == 0 || addr_port(addr) == 0)
      return FUV_EINVAL;
    if (connected)
      return FUV_EISCONN;
    family = addr->sa_family;
  }
  if (len > (family == AF_INET ? FUV__UDP_MAX_PAYLOAD4 : FUV__UDP_MAX_PAYLOAD6))
    return FUV_EMSGSIZE;
  return addr != NULL ? ensure_socket(udp, addr->sa_family) : 0;
}

int fuv__udp_sendto(int fd, const char *data, size_t len,
                    const struct sockaddr *addr, socklen_t addrlen) {
  ssize_t n;
  do
    n = sendto(fd, data, len, 0, addrlen != 0 ? addr : NULL, addrlen);
  while (n < 0 && errno == EINTR);
  return n < 0 ? fuv__errno() : (int)n;
}

/* The kernel's buffer is full: try again when the socket is writable.
 * ENOBUFS (a full device queue) is a wait too, as in libuv. */
static int must_wait(int r) { return r == FUV_EAGAIN || r == FUV_ENOBUFS; }

/* The most datagrams one sendmmsg(2) call takes, from the queue or from
 * fuv_udp_try_send_many. */
#define FUV__UDP_SEND_BATCH 64

/* Fills msgs with the first queued datagrams (at most FUV__UDP_SEND_BATCH)
 * and returns how many. */
static unsigned queue_batch(fuv_udp_t *udp, struct mmsghdr *msgs,
                            struct iovec *iov) {
  unsigned n = 0;
  for (fuv__udp_send_t *s = udp->queue.head;
       s != NULL && n < FUV__UDP_SEND_BATCH; s = s->next, n++) {
    iov[n].iov_base = s->data;
    iov[n].iov_len = s->len;
    memset(&msgs[n], 0, sizeof msgs[n]);
    msgs[n].msg_hdr.msg_iov = &iov[n];
    msgs[n].msg_hdr.msg_iovlen = 1;
    msgs[n].msg_hdr.msg_name = s->addrlen != 0 ? &s->addr : NULL;
    msgs[n].msg_hdr.msg_namelen = s->addrlen;
  }
  return n;
}

/* The queue's first datagram is done with status (0: sent). */
static void queue_pop_done(fuv_udp_t *udp, int status) {
  fuv__udp_send_t *s = list_pop(&udp->queue);
  queue_forget(udp, s);
  send_finish(udp, s, status);
}

/* Sends the queued datagrams in order, many per system call, until the
 * kernel's buffer fills. A datagram the kernel refuses gets its error and
 * the ones after it still go. */
static void flush_queue(fuv_udp_t *udp) {
  struct mmsghdr msgs[FUV__UDP_SEND_BATCH];
  struct iovec iov[FUV__UDP_SEND_BATCH];
  while (udp->queue.head != NULL) {
    unsigned n = queue_batch(udp, msgs, iov);
    int r = sendmmsg(udp->io.fd, msgs, n, 0);
    if (r < 0) {
      r = fuv__errno();
      if (r == FUV_EINTR)
        continue;
      if (must_wait(r))
        return;
      queue_pop_done(udp, r);
      continue;
    }
    for (int i = 0; i < r; i++)
      queue_pop_done(udp, 0);
    if (r == 0)
      return;
  }
  fuv__io_stop(udp->handle.loop, &udp->io, FUV__POLLOUT);
}

static void udp_io(fuv_loop_t *loop, fuv__io_t *w, unsigned events) {
  fuv_udp_t *udp = FUV__CONTAINER_OF(w, fuv_udp_t, io);
  int read = 0;
  (void)loop;
  if ((events & (FUV__POLLIN | FUV__POLLERR | FUV__POLLHUP)) &&
      (udp->handle.flags & FUV__UDP_READING)) {
    fuv__udp_read(udp);
    read = 1;
  }
  if (is_closing(udp))
    return;
  /* After reading, what the receive callbacks sent goes out at once. */
  if ((read || (events & (FUV__POLLOUT | FUV__POLLERR | FUV__POLLHUP))) &&
      udp->queue.head != NULL)
    flush_queue(udp);
  fuv__udp_update_active(udp);
}

static int send_common(fuv_udp_t *udp, const char *data, size_t len,
                       const struct sockaddr *addr, fuv_udp_send_cb cb,
                       void *arg, fuv_req_t **req) {
  fuv__udp_send_t *s;
  socklen_t addrlen;
  int r;
  if (req != NULL)
    *req = NULL;
  r = fuv__udp_check(udp);
  if (r != 0)
    return r;
  if (data == NULL && len > 0)
    return FUV_EINVAL;
  r = fuv__udp_prepare_send(udp, len, addr, &addrlen);
  if (r != 0)
    return r;
  r = FUV_EAGAIN;
  /* A send from a receive callback is queued, and the queue goes out with
   * sendmmsg once the datagrams read are delivered: an echo answering a
   * batch of requests then makes one system call for the batch. */
  if (udp->queue.head == NULL && !udp->delivering) {
    r = fuv__udp_sendto(udp->io.fd, data, len, addr, addrlen);
    if (!must_wait(r) && cb == NULL && req == NULL)
      return 0; /* done, and nobody to tell */
  }
  s = send_get(udp);
  if (s == NULL)
    return FUV_ENOMEM;
  s->cb = cb;
  s->arg = arg;
  s->len = len;
  s->data = NULL;
  s->addrlen = addrlen;
  if (addrlen != 0)
    memcpy(&s->addr, addr, addrlen);
  s->req = NULL;
  if (req != NULL) {
    s->req = fuv__req_new(FUV_UDP_SEND, NULL);
    if (s->req == NULL) {
      send_put(udp, s);
      return FUV_ENOMEM;
    }
    s->req->udp = udp;
    s->req->send = s;
  }
  if (!must_wait(r)) {
    send_finish(udp, s, r < 0 ? r : 0);
  } else {
    if (len > 0 && (s->data = malloc(len)) == NULL) {
      if (s->req != NULL) {
        fuv__req_done(s->req);
        fuv_req_release(s->req);
        s->req = NULL;
      }
      send_put(udp, s);
      return FUV_ENOMEM;
    }
    if (len > 0)
      memcpy(s->data, data, len);
    list_push(&udp->queue, s);
    udp->queue_size += len;
    udp->queue_count++;
    fuv__io_start(udp->handle.loop, &udp->io, FUV__POLLOUT);
  }
  if (req != NULL)
    *req = s->req;
  fuv__udp_update_active(udp);
  return 0;
}

int fuv_udp_send_addr(fuv_udp_t *udp, const char *data, size_t len,
                      const struct sockaddr *addr, fuv_udp_send_cb cb,
                      void *arg) {
  return send_common(udp, data, len, addr, cb, arg, NULL);
}

int fuv_udp_send_req(fuv_udp_t *udp, const char *data, size_t len,
                     const char *ip, int port, fuv_udp_send_cb cb, void *arg,
                     fuv_req_t **req) {
  struct sockaddr_storage ss;
  const struct sockaddr *addr;
  int r = fuv__udp_check(udp);
  if (req != NULL)
    *req = NULL;
  if (r != 0)
    return r;
  r = fuv__addr_parse_optional(ip, port, &ss, &addr);
  if (r != 0)
    return r;
  return send_common(udp, data, len, addr, cb, arg, req);
}

int fuv_udp_send(fuv_udp_t *udp, const char *data, size_t len, const char *ip,
                 int port, fuv_udp_send_cb cb, void *arg) {
  return fuv_udp_send_req(udp, data, len, ip, port, cb, arg, NULL);
}

int fuv__udp_cancel_send(fuv_udp_t *udp, fuv__udp_send_t *send) {
  fuv__udp_send_t *s, *prev = NULL;
  if (is_closing(udp))
    return FUV_EBUSY;
  for (s = udp->queue.head; s != NULL && s != send; s = s->next)
    prev = s;
  if (s == NULL)
    return FUV_EBUSY; /* sent already: its callback is owed or ran */
  if (prev != NULL)
    prev->next = s->next;
  else
    udp->queue.head = s->next;
  if (udp->queue.tail == s)
    udp->queue.tail = prev;
  queue_forget(udp, s);
  send_finish(udp, s, FUV_ECANCELED);
  if (udp->queue.head == NULL)
    fuv__io_stop(udp->handle.loop, &udp->io, FUV__POLLOUT);
  return 0;
}

int fuv_udp_try_send_addr(fuv_udp_t *udp, const char *data, size_t len,
                          const struct sockaddr *addr) {
  socklen_t addrlen;
  int r = fuv__udp_check(udp);
  if (r != 0)
    return r;
  if (data == NULL && len > 0)
    return FUV_EINVAL;
  r = fuv__udp_prepare_send(udp, len, addr, &addrlen);
  if (r != 0)
    return r;
  if (udp->queue.head != NULL)
    return FUV_EAGAIN;
  r = fuv__udp_sendto(udp->io.fd, data, len, addr, addrlen);
  return must_wait(r) ? FUV_EAGAIN : r;
}

int fuv_udp_try_send(fuv_udp_t *udp, const char *data, size_t len,
                     const char *ip, int port) {
  struct sockaddr_storage ss;
  const struct sockaddr *addr;
  int r = fuv__udp_check(udp);
  if (r != 0)
    return r;
  r = fuv__addr_parse_optional(ip, port, &ss, &addr);
  if (r != 0)
    return r;
  return fuv_udp_try_send_addr(udp, data, len, addr);
}

/* Sends datagrams [0, n) of the batch in as few calls as the kernel takes:
 * the count sent, or the first call's error. */
static int send_batch(fuv_udp_t *udp, struct mmsghdr *msgs, unsigned n) {
  unsigned sent = 0;
  while (sent < n) {
    int r = sendmmsg(udp->io.fd, msgs + sent, n - sent, 0);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      r = fuv__errno();
      if (sent > 0)
        return (int)sent;
      return must_wait(r) ? FUV_EAGAIN : r;
    }
    sent += (unsigned)r;
    if (r == 0)
      break;
  }
  return (int)sent;
}

int fuv_udp_try_send_many_addr(fuv_udp_t *udp, const char *const *bufs,
                               const size_t *lens, size_t nbufs,
                               const struct sockaddr *const *addrs) {
  struct mmsghdr msgs[FUV__UDP_SEND_BATCH];
  struct iovec iov[FUV__UDP_SEND_BATCH];
  size_t done = 0;
  int r = fuv__udp_check(udp);
  if (r != 0)
    return r;
  if (nbufs > 0 && (bufs == NULL || lens == NULL))
    return FUV_EINVAL;
  if (nbufs > (size_t)INT32_MAX)
    return FUV_EINVAL;
  /* Every datagram is checked before any is sent. */
  for (size_t i = 0; i < nbufs; i++) {
    socklen_t addrlen;
    if (bufs[i] == NULL && lens[i] > 0)
      return FUV_EINVAL;
    r = fuv__udp_prepare_send(udp, lens[i], addrs != NULL ? addrs[i] : NULL,
                              &addrlen);
    if (r != 0)
      return r;
  }
  if (nbufs == 0)
    return 0;
  if (udp->queue.head != NULL)
    return FUV_EAGAIN;
  while (done < nbufs) {
    unsigned n = nbufs - done > FUV__UDP_SEND_BATCH ? FUV__UDP_SEND_BATCH
                                                   : (unsigned)(nbufs - done);
    memset(msgs, 0, n * sizeof msgs[0]);
    for (unsigned i = 0; i < n; i++) {
      const struct sockaddr *a = addrs != NULL ? addrs[done + i] : NULL;
      iov[i].iov_base = (void *)bufs[done + i];
      iov[i].iov_len = lens[done + i];
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = (void *)a;
      msgs[i].msg_hdr.msg_namelen = a != NULL ? addr_len(a) : 0;
    }
    r = send_batch(udp, msgs, n);
    if (r < 0)
      return done > 0 ? (int)done : r;
    done += (size_t)r;
    if ((unsigned)r < n)
      break;
  }
  return (int)done;
}

int fuv_udp_try_send_many(fuv_udp_t *udp, const char *const *bufs,
                          const size_t *lens, size_t nbufs, const char *ip,
                          int port) {
  const struct sockaddr *addrs[FUV__UDP_SEND_BATCH];
  struct sockaddr_storage ss;
  const struct sockaddr *addr;
  size_t done = 0;
  int r = fuv__udp_check(udp);
  if (r != 0)
    return r;
  r = fuv__addr_parse_optional(ip, port, &ss, &addr);
  if (r != 0)
    return r;
  for (size_t i = 0; i < FUV__UDP_SEND_BATCH; i++)
    addrs[i] = addr;
  /* In slices the size of the address table, one address for all. */
  do {
    size_t n = nbufs - done > FUV__UDP_SEND_BATCH ? FUV__UDP_SEND_BATCH
                                                 : nbufs - done;
    r = fuv_udp_try_send_many_addr(udp, bufs != NULL ? bufs + done : NULL,
                                   lens != NULL ? lens + done : NULL, n,
                                   addrs);
    if (r < 0)
      return done > 0 ? (int)done : r;
    done += (size_t)r;
    if ((size_t)r < n)
      break;
  } while (done < nbufs);
  return (int)done;
}

size_t fuv_udp_get_send_queue_size(const fuv_udp_t *udp) {
  return fuv__handle_check_any((const fuv_handle_t *)udp, FUV_UDP) == 0
             ? udp->queue_size
             : 0;
}

size_t fuv_udp_get_send_queue_count(const fuv_udp_t *udp) {
  return fuv__handle_check_any((const fuv_handle_t *)udp, FUV_UDP) == 0
             ? udp->queue_count
             : 0;
}
