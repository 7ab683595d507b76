/* Receiving on UDP handles: one recvmsg(2) per datagram into the loop's
 * read buffer, or, for FUV_UDP_RECVMMSG handles, up to 64 datagrams per
 * recvmmsg(2) into a 1 MiB area the loop allocates once for all of them.
 * Either way steady receiving allocates nothing, and each datagram reaches
 * the callback on its own: with GRO on, the kernel's coalesced buffers
 * are cut back into their datagrams here.
 *
 * The ancillary data the kernel attaches when asked (destination address,
 * TOS byte, GRO segment size) is parsed before the callback runs and is
 * what fuv_udp_recv_dest() and fuv_udp_recv_tos() report during it. */
#include "internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

/* The recvmmsg area: chunks of the handle's largest datagram, at most
 * FUV__UDP_BATCH of them. 1 MiB of address space; only the pages that
 * datagrams land in are ever touched. */
#define FUV__UDP_BATCH 64
#define FUV__UDP_AREA (1024 * 1024)
/* Room for a destination address, a TOS byte and a GRO size together. */
#define FUV__UDP_CONTROL 128

typedef union {
  struct cmsghdr align;
  char bytes[FUV__UDP_CONTROL];
} control_t;

typedef struct {
  struct mmsghdr msgs[FUV__UDP_BATCH];
  struct iovec iov[FUV__UDP_BATCH];
  struct sockaddr_storage names[FUV__UDP_BATCH];
  control_t control[FUV__UDP_BATCH];
  char area[FUV__UDP_AREA];
} batch_t;

void fuv__udp_loop_free(fuv_loop_t *loop) {
  free(loop->udp_batch);
  loop->udp_batch = NULL;
}

static int is_reading(const fuv_udp_t *udp) {
  return (udp->handle.flags & (FUV__UDP_READING | FUV__HANDLE_CLOSING)) ==
         FUV__UDP_READING;
}

/* Whether the kernel attaches ancillary data the handle asked for. */
static int wants_control(const fuv_udp_t *udp) {
  return (udp->handle.flags &
          (FUV__UDP_RECV_DEST | FUV__UDP_RECV_TOS | FUV__UDP_GRO)) != 0;
}

/* The size of a datagram the callback gets whole. GRO joins datagrams of
 * up to 64 KiB in all, so it needs the whole 64 KiB. */
static size_t chunk_size(const fuv_udp_t *udp) {
  return (udp->handle.flags & FUV__UDP_GRO) ? 65536 : udp->max_datagram;
}

static int local_port(fuv_udp_t *udp) {
  char ip[FUV_IP_NAME_MAX];
  int port = 0;
  if (udp->local_port == 0 &&
      fuv__fd_name(udp->io.fd, 0, ip, sizeof ip, &port) == 0)
    udp->local_port = port;
  return udp->local_port;
}

int fuv__udp_parse_control(fuv_udp_t *udp, struct msghdr *msg) {
  struct cmsghdr *c;
  int segment = 0;
  udp->dest_valid = 0;
  udp->tos = -1;
  if (msg->msg_controllen == 0)
    return 0;
  for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo info;
      struct sockaddr_in *in = (struct sockaddr_in *)&udp->dest;
      memcpy(&info, CMSG_DATA(c), sizeof info);
      memset(in, 0, sizeof *in);
      in->sin_family = AF_INET;
      in->sin_addr = info.ipi_addr;
      in->sin_port = htons((uint16_t)local_port(udp));
      udp->dest_valid = 1;
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      struct in6_pktinfo info;
      struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&udp->dest;
      memcpy(&info, CMSG_DATA(c), sizeof info);
      memset(in6, 0, sizeof *in6);
      in6->sin6_family = AF_INET6;
      in6->sin6_addr = info.ipi6_addr;
      if (IN6_IS_ADDR_LINKLOCAL(&info.ipi6_addr))
        in6->sin6_scope_id = info.ipi6_ifindex;
      in6->sin6_port = htons((uint16_t)local_port(udp));
      udp->dest_valid = 1;
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
      udp->tos = *(const unsigned char *)CMSG_DATA(c);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS) {
      int tclass;
      memcpy(&tclass, CMSG_DATA(c), sizeof tclass);
      udp->tos = tclass & 0xff;
    } else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      memcpy(&segment, CMSG_DATA(c), sizeof segment);
    }
  }
  return segment;
}

/* Hands the datagrams of buf (one, or each of a GRO buffer) to the
 * callback from off on, while it receives. Returns where it stopped. */
static size_t deliver_from(fuv_udp_t *udp, const char *buf, size_t n,
                           size_t off, size_t segment, unsigned flags,
                           const struct sockaddr *from) {
  udp->delivering = 1;
  do {
    size_t len = n - off < segment ? n - off : segment;
    /* Only the last piece of a truncated buffer lost its end. */
    unsigned f = off + len == n ? flags : 0;
    udp->recv_cb(udp, (ssize_t)len, buf + off, from, f, udp->recv_arg);
    off += len;
  } while (off < n && is_reading(udp));
  udp->delivering = 0;
  return off;
}

/* Hands one received buffer to the callback: one call, or one per
 * datagram of a GRO buffer; the datagrams after the callback stopped
 * receiving wait for the next receive, unless it closed the handle.
 * Returns 0 when the callback stopped receiving or closed the handle. */
static int deliver(fuv_udp_t *udp, char *buf, size_t n, struct msghdr *msg) {
  const struct sockaddr *from = msg->msg_name;
  unsigned flags = (msg->msg_flags & MSG_TRUNC) ? FUV_UDP_PARTIAL : 0;
  size_t segment = (size_t)fuv__udp_parse_control(udp, msg);
  size_t off;
  if (segment == 0 || segment >= n)
    segment = n;
  off = deliver_from(udp, buf, n, 0, segment, flags, from);
  if (off < n && !(udp->handle.flags & FUV__HANDLE_CLOSING))
    fuv__udp_rest_keep(udp, buf, n, off, segment, flags,
                       (const struct sockaddr_storage *)msg->msg_name);
  return is_reading(udp);
}

/* ---- the rest of a GRO buffer ------------------------------------------- */

int fuv__udp_rest_keep(fuv_udp_t *udp, const char *buf, size_t n,
                       size_t off, size_t segment, unsigned flags,
                       const struct sockaddr_storage *from) {
  fuv__udp_rest_t *rest = malloc(sizeof *rest + (n - off));
  if (rest == NULL)
    return FUV_ENOMEM;
  memcpy(rest->data, buf + off, n - off);
  rest->len = n - off;
  rest->off = 0;
  rest->segment = segment;
  rest->flags = flags;
  rest->dest_valid = udp->dest_valid;
  rest->tos = udp->tos;
  memcpy(&rest->dest, &udp->dest, sizeof rest->dest);
  memcpy(&rest->from, from, sizeof rest->from);
  free(udp->rest);
  udp->rest = rest;
  return 0;
}

size_t fuv__udp_rest_take(fuv_udp_t *udp, const char **data, unsigned *flags,
                          struct sockaddr_storage *from) {
  fuv__udp_rest_t *rest = udp->rest;
  size_t len = rest->len - rest->off;
  if (len > rest->segment)
    len = rest->segment;
  *data = rest->data + rest->off;
  *flags = rest->off + len == rest->len ? rest->flags : 0;
  memcpy(from, &rest->from, sizeof *from);
  udp->dest_valid = rest->dest_valid;
  udp->tos = rest->tos;
  memcpy(&udp->dest, &rest->dest, sizeof udp->dest);
  rest->off += len;
  return len;
}

void fuv__udp_rest_release_if_done(fuv_udp_t *udp) {
  if (udp->rest != NULL && udp->rest->off >= udp->rest->len) {
    free(udp->rest);
    udp->rest = NULL;
  }
}

void fuv__udp_rest_deliver(fuv_udp_t *udp) {
  while (udp->rest != NULL && is_reading(udp)) {
    fuv__udp_rest_t *rest = udp->rest;
    struct sockaddr_storage from;
    const char *data;
    unsigned flags;
    size_t len = fuv__udp_rest_take(udp, &data, &flags, &from);
    udp->delivering = 1;
    udp->recv_cb(udp, (ssize_t)len, data, (const struct sockaddr *)&from,
                 flags, udp->recv_arg);
    udp->delivering = 0;
    if (udp->rest == rest)
      fuv__udp_rest_release_if_done(udp);
  }
}

/* Reports a receive error; errors from ICMP (a refused or unreachable
 * peer) leave the socket usable, so reading goes on. */
static int deliver_error(fuv_udp_t *udp, int err) {
  udp->recv_cb(udp, err, NULL, NULL, 0, udp->recv_arg);
  return is_reading(udp);
}

static void prepare_msg(struct msghdr *msg, struct iovec *iov,
                        struct sockaddr_storage *name, control_t *control,
                        int with_control) {
  memset(msg, 0, sizeof *msg);
  msg->msg_name = name;
  msg->msg_namelen = sizeof *name;
  msg->msg_iov = iov;
  msg->msg_iovlen = 1;
  if (with_control) {
    msg->msg_control = control->bytes;
    msg->msg_controllen = sizeof control->bytes;
  }
}

static void read_single(fuv_udp_t *udp) {
  fuv_loop_t *loop = udp->handle.loop;
  struct sockaddr_storage name;
  control_t control;
  struct iovec iov;
  struct msghdr msg;
  int with_control = wants_control(udp);

  for (int i = 0; i < FUV__MAX_READS_PER_EVENT; i++) {
    ssize_t n;
    iov.iov_base = loop->read_buf;
    iov.iov_len = chunk_size(udp);
    prepare_msg(&msg, &iov, &name, &control, with_control);
    n = recvmsg(udp->io.fd, &msg, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return;
      if (errno == EINTR)
        continue;
      if (!deliver_error(udp, fuv__errno()))
        return;
      continue;
    }
    if (!deliver(udp, loop->read_buf, (size_t)n, &msg))
      return;
  }
}

static void read_batch(fuv_udp_t *udp, batch_t *b) {
  size_t chunk = chunk_size(udp);
  unsigned count = (unsigned)(FUV__UDP_AREA / chunk);
  int with_control = wants_control(udp);
  if (count > FUV__UDP_BATCH)
    count = FUV__UDP_BATCH;

  for (int i = 0; i < FUV__MAX_READS_PER_EVENT; i++) {
    int n;
    for (unsigned j = 0; j < count; j++) {
      b->iov[j].iov_base = b->area + j * chunk;
      b->iov[j].iov_len = chunk;
      prepare_msg(&b->msgs[j].msg_hdr, &b->iov[j], &b->names[j],
                  &b->control[j], with_control);
      b->msgs[j].msg_len = 0;
    }
    n = recvmmsg(udp->io.fd, b->msgs, count, 0, NULL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return;
      if (errno == EINTR)
        continue;
      if (!deliver_error(udp, fuv__errno()))
        return;
      continue;
    }
    for (int j = 0; j < n; j++)
      if (!deliver(udp, b->iov[j].iov_base, b->msgs[j].msg_len,
                   &b->msgs[j].msg_hdr))
        return;
    /* A short batch is not the end: datagrams that arrived while this one
     * was delivered are read now, without waiting for the poll again. */
  }
}

/* ---- a synchronous receive ----------------------------------------------- */

/* Without GRO, one recvfrom(2) into the caller's buffer; with it, the
 * whole coalesced buffer is read into a scratch one (the caller's may be
 * small), its first datagram copied out and the others kept in the rest. */
int fuv__udp_recv_one(fuv_udp_t *udp, char *buf, size_t len,
                      struct sockaddr_storage *from) {
  struct sockaddr_storage name;
  control_t control;
  struct iovec iov;
  struct msghdr msg;
  size_t segment;
  ssize_t n;
  char *scratch;

  if (udp->rest != NULL && udp->rest->off < udp->rest->len) {
    const char *data;
    unsigned flags;
    size_t got = fuv__udp_rest_take(udp, &data, &flags, from);
    if (got > len)
      got = len;
    memcpy(buf, data, got);
    /* From a receive callback handing out the rest, the rest is freed by
     * that loop, after the callback that still holds its data. */
    if (!udp->delivering)
      fuv__udp_rest_release_if_done(udp);
    return (int)got;
  }
  if (!(udp->handle.flags & FUV__UDP_GRO)) {
    socklen_t fromlen = sizeof *from;
    n = recvfrom(udp->io.fd, buf, len, 0, (struct sockaddr *)from, &fromlen);
    return n < 0 ? fuv__errno() : (int)n;
  }
  if ((scratch = malloc(65536)) == NULL)
    return FUV_ENOMEM;
  iov.iov_base = scratch;
  iov.iov_len = 65536;
  prepare_msg(&msg, &iov, &name, &control, 1);
  n = recvmsg(udp->io.fd, &msg, 0);
  if (n < 0) {
    int err = fuv__errno();
    free(scratch);
    return err;
  }
  segment = (size_t)fuv__udp_parse_control(udp, &msg);
  if (segment == 0 || segment >= (size_t)n)
    segment = (size_t)n;
  memcpy(from, &name, sizeof name);
  memcpy(buf, scratch, segment < len ? segment : len);
  if (segment < (size_t)n)
    fuv__udp_rest_keep(udp, scratch, (size_t)n, segment, segment, 0, &name);
  free(scratch);
  return (int)(segment < len ? segment : len);
}

void fuv__udp_read(fuv_udp_t *udp) {
  fuv_loop_t *loop = udp->handle.loop;
  fuv__udp_rest_deliver(udp);
  if (!is_reading(udp))
    return;
  if (udp->handle.flags & FUV__UDP_RECVMMSG) {
    if (loop->udp_batch == NULL)
      loop->udp_batch = malloc(sizeof(batch_t));
    /* Without the area, receiving goes on one datagram at a time. */
    if (loop->udp_batch != NULL) {
      read_batch(udp, loop->udp_batch);
      return;
    }
  }
  read_single(udp);
}

int fuv_udp_recv_start(fuv_udp_t *udp, fuv_udp_recv_cb cb, void *arg) {
  int r = fuv__udp_check(udp);
  if (r != 0)
    return r;
  if (cb == NULL)
    return FUV_EINVAL;
  if (udp->handle.flags & FUV__UDP_READING)
    return FUV_EALREADY;
  r = fuv__udp_ensure_bound(udp);
  if (r != 0)
    return r;
  udp->recv_cb = cb;
  udp->recv_arg = arg;
  udp->handle.flags |= FUV__UDP_READING;
  fuv__io_start(udp->handle.loop, &udp->io, FUV__POLLIN);
  fuv__udp_update_active(udp);
  /* Datagrams left from a GRO buffer come first, even if no more arrive. */
  if (udp->rest != NULL)
    fuv__handle_make_pending(&udp->handle);
  return 0;
}

int fuv_udp_recv_stop(fuv_udp_t *udp) {
  int r = fuv__udp_check(udp);
  if (r != 0)
    return r;
  if (!(udp->handle.flags & FUV__UDP_READING))
    return 0;
  udp->handle.flags &= ~FUV__UDP_READING;
  fuv__io_stop(udp->handle.loop, &udp->io, FUV__POLLIN);
  fuv__udp_update_active(udp);
  return 0;
}

int fuv_udp_using_recvmmsg(const fuv_udp_t *udp) {
  if (fuv__udp_check(udp) != 0)
    return 0;
  return (udp->handle.flags & FUV__UDP_RECVMMSG) != 0;
}

int fuv_udp_set_max_datagram(fuv_udp_t *udp, int size) {
  int r = fuv__udp_check(udp);
  if (r != 0)
    return r;
  if (size < 1 || size > 65536)
    return FUV_EINVAL;
  udp->max_datagram = (size_t)size;
  return 0;
}

int fuv_udp_get_max_datagram(const fuv_udp_t *udp) {
  int r = fuv__udp_check(udp);
  return r != 0 ? r : (int)udp->max_datagram;
}

int fuv_udp_recv_dest(const fuv_udp_t *udp, char *ip, size_t iplen,
                      int *port) {
  int r = fuv__udp_check(udp);
  if (r != 0)
    return r;
  if (ip == NULL || port == NULL)
    return FUV_EINVAL;
  if (!udp->delivering || !udp->dest_valid)
    return FUV_ENOENT;
  return fuv__addr_unparse((const struct sockaddr *)&udp->dest, ip, iplen,
                           port);
}

int fuv_udp_recv_tos(const fuv_udp_t *udp) {
  int r = fuv__udp_check(udp);
  if (r != 0)
    return r;
  if (!udp->delivering || udp->tos < 0)
    return FUV_ENOENT;
  return udp->tos;
}
