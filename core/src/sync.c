/*
 * Synchronous I/O with timeouts: connect, accept, send and recv that block
 * the calling thread, on the same handles as the asynchronous API.
 *
 * The sockets stay non-blocking throughout. Each call first tries the
 * operation and, when the kernel says it would block, waits with poll(2) on
 * that one fd until the deadline; the loop is never run, so no callback can
 * fire inside these calls. Afterwards the handle's flags say exactly what
 * the asynchronous calls would have left, so async use can follow at once.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* When a wait must end: never, or at a time of fuv__hrtime_ms(). */
typedef struct {
  int forever;
  uint64_t at;
} deadline_t;

static deadline_t deadline_after(int timeout_ms) {
  deadline_t d;
  d.forever = timeout_ms < 0;
  d.at = fuv__hrtime_ms();
  /* The clock counts whole milliseconds, so the call may really have
   * started up to 1 ms after the reading; one more millisecond makes sure
   * a timeout never fires early. A zero timeout stays "do not wait". */
  if (timeout_ms > 0)
    d.at += (uint64_t)timeout_ms + 1;
  return d;
}

/* Milliseconds left, as poll(2) takes them: -1 for ever, else 0..INT_MAX. */
static int deadline_remaining(const deadline_t *d) {
  uint64_t now;
  if (d->forever)
    return -1;
  now = fuv__hrtime_ms();
  if (now >= d->at)
    return 0;
  return d->at - now > INT_MAX ? INT_MAX : (int)(d->at - now);
}

/* Waits until fd reports events (or an error or hang-up, which the caller's
 * next system call then reports) or the deadline passes. A signal does not
 * end the wait early: it resumes with the time that is left. */
static int wait_for(int fd, short events, const deadline_t *d) {
  for (;;) {
    struct pollfd pfd;
    int timeout = deadline_remaining(d);
    int n;
    pfd.fd = fd;
    pfd.events = events;
    pfd.revents = 0;
    n = poll(&pfd, 1, timeout);
    if (n > 0)
      return 0;
    if (n < 0 && errno != EINTR)
      return fuv__errno();
    if (n == 0 && deadline_remaining(d) == 0)
      return FUV_ETIMEDOUT;
  }
}

/* ---- connect ------------------------------------------------------------ */

static int check_can_connect(const fuv_stream_t *s) {
  unsigned flags = s->handle.flags;
  if (flags & FUV__STREAM_CONNECTING)
    return FUV_EBUSY;
  if (flags & FUV__STREAM_CONNECTED)
    return FUV_EISCONN;
  if (flags & FUV__STREAM_LISTENING)
    return FUV_EINVAL;
  return 0;
}

/* Connects the stream's socket to addr, waiting until the deadline. An
 * AF_UNIX listener with a full backlog refuses at once with EAGAIN rather
 * than queueing the connect, so that one is retried every few ms. */
static int connect_sync(fuv_stream_t *s, const struct sockaddr *addr,
                        socklen_t len, int timeout_ms) {
  deadline_t deadline = deadline_after(timeout_ms);
  int fd = fuv__stream_fd(s);
  int err;

  for (;;) {
    /* The socket is non-blocking: the connect finishes at once (loopback
     * can) or goes on in the background while we wait. */
    err = connect(fd, addr, len) == 0 ? 0 : fuv__errno();
    if (err == FUV_EINTR)
      continue;
    if (err == FUV_EAGAIN && addr->sa_family == AF_UNIX) {
      int left = deadline_remaining(&deadline);
      if (left == 0)
        return FUV_ETIMEDOUT;
      (void)poll(NULL, 0, left < 0 || left > 10 ? 10 : left);
      continue;
    }
    break;
  }
  if (err == -EINPROGRESS) {
    err = wait_for(fd, POLLOUT, &deadline);
    if (err == 0)
      err = fuv__socket_error(fd); /* the background connect's outcome */
    if (err != 0)
      fuv__stream_reset_connect(fd);
  }
  if (err != 0)
    return err;
  /* The same bookkeeping as a successful asynchronous connect. */
  fuv__stream_set_connected(s);
  return 0;
}

int fuv_tcp_connect_sync(fuv_tcp_t *tcp, const char *ip, int port,
                         int timeout_ms) {
  struct sockaddr_storage ss;
  socklen_t len;
  int err = fuv__tcp_check(tcp);

  if (err == 0)
    err = check_can_connect(&tcp->stream);
  if (err != 0)
    return err;
  if (ip == NULL || port == 0 ||
      fuv__addr_parse(ip, port, &ss, &len) != 0)
    return FUV_EINVAL;
  if (tcp->stream.delayed_error != 0)
    return tcp->stream.delayed_error;
  err = fuv__tcp_ensure_socket(tcp, ss.ss_family);
  if (err != 0)
    return err;
  return connect_sync(&tcp->stream, (struct sockaddr *)&ss, len, timeout_ms);
}

int fuv_pipe_connect_sync(fuv_pipe_t *pipe, const char *name,
                          int timeout_ms) {
  struct sockaddr_storage ss;
  socklen_t len;
  int err = fuv__pipe_check(pipe);

  if (err == 0)
    err = check_can_connect(&pipe->stream);
  if (err != 0)
    return err;
  if (name == NULL)
    return FUV_EINVAL;
  err = fuv__pipe_addr(name, strlen(name), (struct sockaddr *)&ss, &len);
  if (err == 0)
    err = fuv__pipe_ensure_socket(pipe);
  if (err != 0)
    return err;
  return connect_sync(&pipe->stream, (struct sockaddr *)&ss, len, timeout_ms);
}

/* ---- accept ------------------------------------------------------------- */

static int accept_sync(fuv_stream_t *server, fuv_stream_t **client,
                       int timeout_ms, fuv_handle_type_t want) {
  deadline_t deadline = deadline_after(timeout_ms);
  int fd, err;

  if (client != NULL)
    *client = NULL;
  err = fuv__stream_check(server);
  if (err != 0)
    return err;
  if (client == NULL || !(server->handle.flags & FUV__STREAM_LISTENING))
    return FUV_EINVAL;
  if (want != FUV_UNKNOWN_HANDLE && server->ops->type != want)
    return FUV_EINVAL;
  /* With a callback the loop accepts; two acceptors would race. */
  if (server->connection_cb != NULL)
    return FUV_EBUSY;

  fd = fuv__stream_fd(server);
  for (;;) {
    int conn = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (conn >= 0) {
      err = fuv__stream_accept_fd(server, conn, client);
      if (err != 0)
        fuv__close_fd(conn);
      return err;
    }
    err = fuv__errno();
    /* A connection reset while it waited in the queue is not ours to
     * report: wait for the next one. */
    if (err == FUV_EINTR || err == FUV_ECONNABORTED)
      continue;
    if (err != FUV_EAGAIN)
      return err;
    err = wait_for(fd, POLLIN, &deadline);
    if (err != 0)
      return err;
  }
}

int fuv_accept_sync(fuv_stream_t *server, fuv_tcp_t **client, int timeout_ms) {
  return accept_sync(server, (fuv_stream_t **)client, timeout_ms, FUV_TCP);
}

int fuv_stream_accept_sync(fuv_stream_t *server, fuv_stream_t **client,
                           int timeout_ms) {
  return accept_sync(server, client, timeout_ms, FUV_UNKNOWN_HANDLE);
}

/* ---- send and recv ------------------------------------------------------ */

/* Checks what fuv_send and fuv_recv share: a live stream with a connected
 * socket and no connect in progress. */
static int check_connected(const fuv_stream_t *s) {
  int err = fuv__stream_check(s);
  if (err != 0)
    return err;
  if (fuv__stream_fd(s) < 0)
    return FUV_EBADF;
  /* An asynchronous connect in flight owns the socket until it is done. */
  if (s->handle.flags & FUV__STREAM_CONNECTING)
    return FUV_EBUSY;
  if (!(s->handle.flags & FUV__STREAM_CONNECTED))
    return FUV_ENOTCONN;
  return 0;
}

int fuv_send(fuv_stream_t *stream, const char *data, size_t len,
             int timeout_ms) {
  deadline_t deadline = deadline_after(timeout_ms);
  size_t sent = 0;
  int fd;
  int err = check_connected(stream);
  if (err != 0)
    return err;
  if (data == NULL && len > 0)
    return FUV_EINVAL;
  /* Shut down, or failed before, as fuv_write would say. */
  if (!(stream->handle.flags & FUV__STREAM_WRITABLE))
    return FUV_EPIPE;
  /* Queued asynchronous writes must go first, or bytes would reorder. */
  if (stream->write_queue.head != NULL ||
      stream->write_tail > stream->write_head)
    return FUV_EBUSY;

  fd = fuv__stream_fd(stream);
  while (sent < len) {
    ssize_t n = (stream->handle.flags & FUV__STREAM_RAW_FD)
                    ? fuv__write_nosigpipe(fd, data + sent, len - sent)
                    : send(fd, data + sent, len - sent, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += (size_t)n;
      continue;
    }
    err = fuv__errno();
    if (err == FUV_EINTR)
      continue;
    if (err != FUV_EAGAIN) {
      /* As when a queued write fails: nothing more can be sent. */
      stream->handle.flags &= ~FUV__STREAM_WRITABLE;
      return err;
    }
    err = wait_for(fd, POLLOUT, &deadline);
    if (err != 0)
      return err;
  }
  return 0;
}

int fuv_recv(fuv_stream_t *stream, char *buf, size_t len, int timeout_ms) {
  deadline_t deadline = deadline_after(timeout_ms);
  int fd;
  int err = check_connected(stream);
  if (err != 0)
    return err;
  /* 0 means end of stream, so an empty read could not be told apart. */
  if (buf == NULL || len == 0)
    return FUV_EINVAL;
  /* The read callback owns the incoming bytes while reading. */
  if (stream->handle.flags & FUV__STREAM_READING)
    return FUV_EBUSY;
  if (len > INT_MAX)
    len = INT_MAX;

  fd = fuv__stream_fd(stream);
  for (;;) {
    ssize_t n = read(fd, buf, len);
    if (n > 0)
      return (int)n;
    if (n == 0) {
      /* As after FUV_EOF from a read callback: nothing more to read. */
      stream->handle.flags &= ~FUV__STREAM_READABLE;
      return 0;
    }
    err = fuv__errno();
    if (err == FUV_EINTR)
      continue;
    if (err != FUV_EAGAIN) {
      /* As after a read error: the connection is gone both ways. */
      stream->handle.flags &= ~(FUV__STREAM_READABLE | FUV__STREAM_WRITABLE);
      return err;
    }
    err = wait_for(fd, POLLIN, &deadline);
    if (err != 0)
      return err;
  }
}

/* ---- UDP ------------------------------------------------------------------ */

int fuv_udp_send_sync(fuv_udp_t *udp, const char *data, size_t len,
                      const char *ip, int port, int timeout_ms) {
  deadline_t deadline = deadline_after(timeout_ms);
  struct sockaddr_storage ss;
  const struct sockaddr *addr;
  socklen_t addrlen;
  int err = fuv__udp_check(udp);
  if (err != 0)
    return err;
  if (data == NULL && len > 0)
    return FUV_EINVAL;
  err = fuv__addr_parse_optional(ip, port, &ss, &addr);
  if (err != 0)
    return err;
  err = fuv__udp_prepare_send(udp, len, addr, &addrlen);
  if (err != 0)
    return err;
  /* Queued asynchronous sends must go first, or datagrams would reorder. */
  if (udp->queue.head != NULL)
    return FUV_EBUSY;
  for (;;) {
    int n = fuv__udp_sendto(udp->io.fd, data, len, addr, addrlen);
    if (n >= 0)
      return 0;
    if (n != FUV_EAGAIN && n != FUV_ENOBUFS)
      return n;
    err = wait_for(udp->io.fd, POLLOUT, &deadline);
    if (err != 0)
      return err;
  }
}

int fuv_udp_recv_sync(fuv_udp_t *udp, char *buf, size_t len, char *ip,
                      size_t iplen, int *port, int timeout_ms) {
  deadline_t deadline = deadline_after(timeout_ms);
  struct sockaddr_storage from;
  int err = fuv__udp_check(udp);
  if (err != 0)
    return err;
  if (buf == NULL || len == 0)
    return FUV_EINVAL;
  /* Checked before receiving: a datagram must never be taken and lost. */
  if (ip != NULL && iplen < FUV_IP_NAME_MAX)
    return FUV_ENOSPC;
  /* The receive callback owns the incoming datagrams while receiving. */
  if (udp->handle.flags & FUV__UDP_READING)
    return FUV_EBUSY;
  if (len > INT_MAX)
    len = INT_MAX;
  err = fuv__udp_ensure_bound(udp);
  if (err != 0)
    return err;
  for (;;) {
    int n = fuv__udp_recv_one(udp, buf, len, &from);
    if (n >= 0) {
      if (ip != NULL || port != NULL) {
        int p = 0;
        char text[FUV_IP_NAME_MAX];
        err = fuv__addr_unparse((struct sockaddr *)&from, text, sizeof text,
                                &p);
        if (err != 0)
          return err;
        if (ip != NULL) {
          if (strlen(text) >= iplen)
            return FUV_ENOSPC;
          memcpy(ip, text, strlen(text) + 1);
        }
        if (port != NULL)
          *port = p;
      }
      return n;
    }
    err = n;
    if (err == FUV_EINTR)
      continue;
    if (err != FUV_EAGAIN)
      return err;
    err = wait_for(udp->io.fd, POLLIN, &deadline);
    if (err != 0)
      return err;
  }
}
