/* TCP handles: sockets, binding, connecting and the TCP-level options that
 * libuv's uv_tcp_t offers. */
#include "internal.h"

#include <limits.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fuv__tcp_check(const fuv_tcp_t *tcp) {
  return fuv__handle_check((const fuv_handle_t *)tcp, FUV_TCP);
}

static void tcp_finish_close(fuv_handle_t *h) {
  fuv__stream_destroy((fuv_stream_t *)h);
}

static void tcp_report_connect(fuv_stream_t *s, int status) {
  fuv_tcp_t *tcp = (fuv_tcp_t *)s;
  fuv_connect_cb cb = tcp->connect_cb;
  tcp->connect_cb = NULL;
  if (cb != NULL)
    cb(tcp, status, tcp->connect_arg);
}

static int tcp_new_from_fd(fuv_stream_t **out, fuv_stream_t *server, int fd,
                           unsigned flags);

const fuv__stream_ops_t fuv__tcp_ops = {
  FUV_TCP, tcp_report_connect, tcp_new_from_fd, NULL, NULL, NULL
};

static int tcp_alloc(fuv_tcp_t **out, fuv_loop_t *loop) {
  fuv_tcp_t *tcp = calloc(1, sizeof *tcp);
  if (tcp == NULL)
    return FUV_ENOMEM;
  fuv__stream_init(loop, &tcp->stream, FUV_TCP, &fuv__tcp_ops,
                   tcp_finish_close);
  *out = tcp;
  return 0;
}

/* Frees a handle that never became visible to the caller. */
static void tcp_discard(fuv_tcp_t *tcp) {
  fuv__queue_remove(&tcp->stream.handle.handle_queue);
  free(tcp);
}

static int apply_nodelay(int fd, int enable) {
  return fuv__set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, enable != 0);
}

static int apply_keepalive(int fd, int enable, unsigned idle,
                           unsigned interval, unsigned count) {
  int r = fuv__set_int_option(fd, SOL_SOCKET, SO_KEEPALIVE, enable != 0);
  if (r != 0 || !enable)
    return r;
#ifdef TCP_KEEPIDLE
  r = fuv__set_int_option(fd, IPPROTO_TCP, TCP_KEEPIDLE, (int)idle);
  if (r == 0)
    r = fuv__set_int_option(fd, IPPROTO_TCP, TCP_KEEPINTVL, (int)interval);
  if (r == 0)
    r = fuv__set_int_option(fd, IPPROTO_TCP, TCP_KEEPCNT, (int)count);
#else
  (void)idle;
  (void)interval;
  (void)count;
#endif
  return r;
}

/* Applies options set before the socket existed. */
static int apply_pending_options(fuv_tcp_t *tcp) {
  int fd = tcp->stream.io.fd, r = 0;
  if (tcp->pending_opts & FUV__TCP_WANT_NODELAY)
    r = apply_nodelay(fd, 1);
  if (r == 0 && (tcp->pending_opts & FUV__TCP_WANT_KEEPALIVE))
    r = apply_keepalive(fd, 1, tcp->keepalive_idle, tcp->keepalive_interval,
                        tcp->keepalive_count);
  return r;
}

static int socket_family(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
    return fuv__errno();
  return ss.ss_family;
}

int fuv__tcp_ensure_socket(fuv_tcp_t *tcp, int family) {
  int fd, r;
  if (tcp->stream.io.fd >= 0) {
    r = socket_family(tcp->stream.io.fd);
    if (r < 0)
      return r;
    return r == family ? 0 : FUV_EINVAL;
  }
  fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return fuv__errno();
  fuv__stream_open(&tcp->stream, fd, 0);
  r = apply_pending_options(tcp);
  if (r != 0) {
    fuv__close_fd(fd);
    tcp->stream.io.fd = -1;
  }
  return r;
}

static int tcp_new_from_fd(fuv_stream_t **out, fuv_stream_t *server, int fd,
                           unsigned flags) {
  fuv_tcp_t *tcp;
  int r = tcp_alloc(&tcp, server->handle.loop);
  if (r != 0)
    return r;
  fuv__stream_open(&tcp->stream, fd, flags);
  *out = &tcp->stream;
  return 0;
}

int fuv_tcp_new(fuv_tcp_t **out, fuv_loop_t *loop) {
  if (out == NULL)
    return FUV_EINVAL;
  *out = NULL;
  if (loop == NULL)
    return FUV_EINVAL;
  return tcp_alloc(out, loop);
}

int fuv_tcp_new_ex(fuv_tcp_t **out, fuv_loop_t *loop, int domain) {
  fuv_tcp_t *tcp;
  int r;
  if (out == NULL)
    return FUV_EINVAL;
  *out = NULL;
  if (loop == NULL)
    return FUV_EINVAL;
  if (domain != AF_UNSPEC && domain != AF_INET && domain != AF_INET6)
    return FUV_EINVAL;
  r = tcp_alloc(&tcp, loop);
  if (r != 0)
    return r;
  if (domain != AF_UNSPEC) {
    r = fuv__tcp_ensure_socket(tcp, domain);
    if (r != 0) {
      tcp_discard(tcp);
      return r;
    }
  }
  *out = tcp;
  return 0;
}

int fuv_tcp_open(fuv_tcp_t *tcp, int fd) {
  int type = 0;
  socklen_t len = sizeof type;
  struct sockaddr_storage ss;
  unsigned flags = 0;
  int r = fuv__tcp_check(tcp);

  if (r != 0)
    return r;
  if (tcp->stream.io.fd >= 0)
    return FUV_EBUSY;
  if (fd < 0)
    return FUV_EBADF;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
    return errno == ENOTSOCK ? FUV_ENOTSOCK : fuv__errno();
  if (type != SOCK_STREAM)
    return FUV_EINVAL;

  len = sizeof ss;
  if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
    flags = FUV__STREAM_CONNECTED | FUV__STREAM_READABLE |
            FUV__STREAM_WRITABLE | FUV__STREAM_BOUND;
  } else {
    int listening = 0;
    len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 &&
        listening)
      flags = FUV__STREAM_BOUND;
    len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
        (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)) {
      int port = 0;
      char ip[FUV_IP_NAME_MAX];
      if (fuv__addr_unparse((struct sockaddr *)&ss, ip, sizeof ip, &port) ==
              0 &&
          port != 0)
        flags = FUV__STREAM_BOUND;
    }
  }
  r = fuv__set_nonblock(fd, 1);
  if (r != 0)
    return r;
  fuv__set_cloexec(fd);
  fuv__stream_open(&tcp->stream, fd, flags);
  return 0;
}

int fuv_tcp_nodelay(fuv_tcp_t *tcp, int enable) {
  int r = fuv__tcp_check(tcp);
  if (r != 0)
    return r;
  if (tcp->stream.io.fd >= 0) {
    r = apply_nodelay(tcp->stream.io.fd, enable);
    if (r != 0)
      return r;
  }
  if (enable)
    tcp->pending_opts |= FUV__TCP_WANT_NODELAY;
  else
    tcp->pending_opts &= ~FUV__TCP_WANT_NODELAY;
  return 0;
}

int fuv_tcp_keepalive_ex(fuv_tcp_t *tcp, int enable, unsigned int idle_s,
                         unsigned int interval_s, unsigned int count) {
  int r = fuv__tcp_check(tcp);
  if (r != 0)
    return r;
  if (enable && (idle_s < 1 || interval_s < 1 || count < 1 ||
                 idle_s > INT_MAX || interval_s > INT_MAX || count > INT_MAX))
    return FUV_EINVAL;
  if (tcp->stream.io.fd >= 0) {
    r = apply_keepalive(tcp->stream.io.fd, enable, idle_s, interval_s, count);
    if (r != 0)
      return r;
  }
  if (enable) {
    tcp->pending_opts |= FUV__TCP_WANT_KEEPALIVE;
    tcp->keepalive_idle = idle_s;
    tcp->keepalive_interval = interval_s;
    tcp->keepalive_count = count;
  } else {
    tcp->pending_opts &= ~FUV__TCP_WANT_KEEPALIVE;
  }
  return 0;
}

int fuv_tcp_keepalive(fuv_tcp_t *tcp, int enable, unsigned int delay_s) {
  /* libuv's fixed probe schedule: 10 probes, 1 second apart. */
  return fuv_tcp_keepalive_ex(tcp, enable, delay_s, 1, 10);
}

int fuv_tcp_simultaneous_accepts(fuv_tcp_t *tcp, int enable) {
  (void)enable;
  return fuv__tcp_check(tcp);
}

int fuv_tcp_bind_addr(fuv_tcp_t *tcp, const struct sockaddr *addr,
                      unsigned int flags) {
  socklen_t len;
  int fd, r = fuv__tcp_check(tcp);

  if (r != 0)
    return r;
  if (addr == NULL || (flags & ~(unsigned)(FUV_TCP_IPV6ONLY | FUV_TCP_REUSEPORT)))
    return FUV_EINVAL;
  if (addr->sa_family == AF_INET)
    len = sizeof(struct sockaddr_in);
  else if (addr->sa_family == AF_INET6)
    len = sizeof(struct sockaddr_in6);
  else
    return FUV_EINVAL;
  if ((flags & FUV_TCP_IPV6ONLY) && addr->sa_family != AF_INET6)
    return FUV_EINVAL;
  if (tcp->stream.handle.flags &
      (FUV__STREAM_BOUND | FUV__STREAM_CONNECTED | FUV__STREAM_CONNECTING))
    return FUV_EINVAL;

  r = fuv__tcp_ensure_socket(tcp, addr->sa_family);
  if (r != 0)
    return r;
  fd = tcp->stream.io.fd;
  r = fuv__set_int_option(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  if (r == 0 && (flags & FUV_TCP_REUSEPORT)) {
#ifdef SO_REUSEPORT
    r = fuv__set_int_option(fd, SOL_SOCKET, SO_REUSEPORT, 1);
#else
    r = FUV_ENOTSUP;
#endif
  }
  if (r == 0 && addr->sa_family == AF_INET6)
    r = fuv__set_int_option(fd, IPPROTO_IPV6, IPV6_V6ONLY,
                       (flags & FUV_TCP_IPV6ONLY) != 0);
  if (r != 0)
    return r;
  if (bind(fd, addr, len) != 0) {
    if (errno != EADDRINUSE)
      return fuv__errno();
    /* As in libuv, reported by listen() or connect(). */
    tcp->stream.delayed_error = FUV_EADDRINUSE;
  }
  tcp->stream.handle.flags |= FUV__STREAM_BOUND;
  return 0;
}

int fuv_tcp_bind(fuv_tcp_t *tcp, const char *ip, int port,
                 unsigned int flags) {
  struct sockaddr_storage ss;
  socklen_t len;
  int r = fuv__tcp_check(tcp);
  if (r != 0)
    return r;
  r = fuv__addr_parse(ip, port, &ss, &len);
  if (r != 0)
    return r;
  return fuv_tcp_bind_addr(tcp, (struct sockaddr *)&ss, flags);
}

/* The checks TCP adds before asking the socket its name (peer: the
 * peer's): a bind's delayed error, and the error for no socket. */
static int get_name_addr(const fuv_tcp_t *tcp, int peer, int no_socket_err,
                         struct sockaddr *name, int *namelen) {
  int r = fuv__tcp_check(tcp);
  if (r != 0)
    return r;
  if (name == NULL || namelen == NULL || *namelen < 0)
    return FUV_EINVAL;
  if (tcp->stream.delayed_error != 0)
    return tcp->stream.delayed_error;
  if (tcp->stream.io.fd < 0)
    return no_socket_err;
  return fuv__fd_name_addr(tcp->stream.io.fd, peer, name, namelen);
}

static int get_name(const fuv_tcp_t *tcp, int peer, int no_socket_err,
                    char *ip, size_t iplen, int *port) {
  struct sockaddr_storage ss;
  int len = (int)sizeof ss;
  int r;
  if (ip == NULL || port == NULL)
    return FUV_EINVAL;
  r = get_name_addr(tcp, peer, no_socket_err, (struct sockaddr *)&ss, &len);
  if (r != 0)
    return r;
  return fuv__addr_unparse((struct sockaddr *)&ss, ip, iplen, port);
}

int fuv_tcp_getsockname(const fuv_tcp_t *tcp, char *ip, size_t iplen,
                        int *port) {
  return get_name(tcp, 0, FUV_EBADF, ip, iplen, port);
}

int fuv_tcp_getpeername(const fuv_tcp_t *tcp, char *ip, size_t iplen,
                        int *port) {
  return get_name(tcp, 1, FUV_ENOTCONN, ip, iplen, port);
}

int fuv_tcp_getsockname_addr(const fuv_tcp_t *tcp, struct sockaddr *name,
                             int *namelen) {
  return get_name_addr(tcp, 0, FUV_EBADF, name, namelen);
}

int fuv_tcp_getpeername_addr(const fuv_tcp_t *tcp, struct sockaddr *name,
                             int *namelen) {
  return get_name_addr(tcp, 1, FUV_ENOTCONN, name, namelen);
}

/* ---- connecting --------------------------------------------------------------- */

int fuv__tcp_connect_addr(fuv_tcp_t *tcp, const struct sockaddr *addr,
                          fuv_connect_cb cb, void *arg, fuv_req_t **req) {
  socklen_t len;
  unsigned flags;
  int r = fuv__tcp_check(tcp);

  if (r != 0)
    return r;
  if (addr == NULL)
    return FUV_EINVAL;
  if (addr->sa_family == AF_INET) {
    len = sizeof(struct sockaddr_in);
    if (((const struct sockaddr_in *)addr)->sin_port == 0)
      return FUV_EINVAL;
  } else if (addr->sa_family == AF_INET6) {
    len = sizeof(struct sockaddr_in6);
    if (((const struct sockaddr_in6 *)addr)->sin6_port == 0)
      return FUV_EINVAL;
  } else {
    return FUV_EINVAL;
  }
  flags = tcp->stream.handle.flags;
  if (flags & FUV__STREAM_CONNECTING)
    return FUV_EALREADY;
  if (flags & FUV__STREAM_CONNECTED)
    return FUV_EISCONN;
  if (flags & FUV__STREAM_LISTENING)
    return FUV_EINVAL;
  if (tcp->stream.delayed_error != 0)
    return tcp->stream.delayed_error;
  r = fuv__tcp_ensure_socket(tcp, addr->sa_family);
  if (r != 0)
    return r;
  r = fuv__stream_connect(&tcp->stream, addr, len, req);
  if (r == 0) {
    tcp->connect_cb = cb;
    tcp->connect_arg = arg;
  }
  return r;
}

int fuv_tcp_connect_addr(fuv_tcp_t *tcp, const struct sockaddr *addr,
                         fuv_connect_cb cb, void *arg) {
  return fuv__tcp_connect_addr(tcp, addr, cb, arg, NULL);
}

static int tcp_connect(fuv_tcp_t *tcp, const char *ip, int port,
                       fuv_connect_cb cb, void *arg, fuv_req_t **req) {
  struct sockaddr_storage ss;
  socklen_t len;
  int r = fuv__tcp_check(tcp);
  if (req != NULL)
    *req = NULL;
  if (r != 0)
    return r;
  r = fuv__addr_parse(ip, port, &ss, &len);
  if (r != 0)
    return r;
  return fuv__tcp_connect_addr(tcp, (struct sockaddr *)&ss, cb, arg, req);
}

int fuv_tcp_connect(fuv_tcp_t *tcp, const char *ip, int port,
                    fuv_connect_cb cb, void *arg) {
  return tcp_connect(tcp, ip, port, cb, arg, NULL);
}

int fuv_tcp_connect_req(fuv_tcp_t *tcp, const char *ip, int port,
                        fuv_connect_cb cb, void *arg, fuv_req_t **req) {
  return tcp_connect(tcp, ip, port, cb, arg, req);
}

int fuv_tcp_close_reset(fuv_tcp_t *tcp, fuv_close_cb cb, void *arg) {
  int r = fuv__tcp_check(tcp);
  if (r != 0)
    return r;
  if (tcp->stream.handle.flags &
      (FUV__STREAM_SHUTTING | FUV__STREAM_SHUT))
    return FUV_EINVAL;
  if (tcp->stream.io.fd >= 0) {
    struct linger l = {1, 0};
    if (setsockopt(tcp->stream.io.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) !=
        0)
      return fuv__errno();
  }
  return fuv_close((fuv_handle_t *)tcp, cb, arg);
}

int fuv_socketpair(int type, int protocol, int *fd0, int *fd1, int flags0,
                   int flags1) {
  int fds[2];
  if (fd0 == NULL || fd1 == NULL ||
      (flags0 & ~FUV_NONBLOCK_PIPE) || (flags1 & ~FUV_NONBLOCK_PIPE))
    return FUV_EINVAL;
  if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, protocol, fds) != 0)
    return fuv__errno();
  if ((flags0 & FUV_NONBLOCK_PIPE) && fuv__set_nonblock(fds[0], 1) != 0)
    goto fail;
  if ((flags1 & FUV_NONBLOCK_PIPE) && fuv__set_nonblock(fds[1], 1) != 0)
    goto fail;
  *fd0 = fds[0];
  *fd1 = fds[1];
  return 0;
fail:
  fuv__close_fd(fds[0]);
  fuv__close_fd(fds[1]);
  return FUV_EINVAL;
}
