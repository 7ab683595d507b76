/* Streams: reading into the loop's buffer, writing with a copy of only what
 * the kernel would not take, listening, accepting and shutting down. */
#include "internal.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static void stream_io(fuv_loop_t *loop, fuv__io_t *w, unsigned events);
static void stream_pending(fuv_handle_t *h);

static int is_closing(const fuv_stream_t *s) {
  return (s->handle.flags & FUV__HANDLE_CLOSING) != 0;
}

static int is_stream_type(fuv_handle_type_t type) {
  return type == FUV_TCP || type == FUV_PIPE;
}

/* Like fuv__stream_check, but a closing stream passes. */
static int stream_check_any(const fuv_stream_t *s) {
  int r = fuv__handle_check_any((const fuv_handle_t *)s, FUV_UNKNOWN_HANDLE);
  if (r == 0 && !is_stream_type(s->handle.type))
    return FUV_EINVAL;
  return r;
}

int fuv__stream_check(const fuv_stream_t *s) {
  int r = stream_check_any(s);
  if (r == 0 && is_closing(s))
    return FUV_EINVAL;
  return r;
}

int fuv__stream_init(fuv_loop_t *loop, fuv_stream_t *s, fuv_handle_type_t type,
                     const fuv__stream_ops_t *ops,
                     fuv__close_fn on_finish_close) {
  fuv__handle_init(loop, &s->handle, type, on_finish_close);
  s->handle.on_pending = stream_pending;
  fuv__io_init(&s->io, stream_io, -1);
  s->ops = ops;
  s->accepted_fd = -1;
  return 0;
}

void fuv__stream_open(fuv_stream_t *s, int fd, unsigned flags) {
  s->io.fd = fd;
  s->handle.flags |= flags;
}

void fuv__stream_update_active(fuv_stream_t *s) {
  unsigned f = s->handle.flags;
  /* A closing handle was stopped for good by fuv_close. */
  if (f & FUV__HANDLE_CLOSING)
    return;
  int active = (f & (FUV__STREAM_READING | FUV__STREAM_CONNECTING |
                     FUV__STREAM_SHUTTING)) ||
               ((f & FUV__STREAM_LISTENING) && s->connection_cb != NULL) ||
               s->write_queue.head != NULL;
  if (active)
    fuv__handle_start(&s->handle);
  else
    fuv__handle_stop(&s->handle);
}

/* ---- write requests -------------------------------------------------------- */

static void write_list_push(fuv__write_list_t *list, fuv__write_req_t *req) {
  req->next = NULL;
  if (list->tail != NULL)
    list->tail->next = req;
  else
    list->head = req;
  list->tail = req;
}

static fuv__write_req_t *write_list_pop(fuv__write_list_t *list) {
  fuv__write_req_t *req = list->head;
  if (req != NULL) {
    list->head = req->next;
    if (list->head == NULL)
      list->tail = NULL;
  }
  return req;
}

static fuv__write_req_t *write_req_new(fuv_stream_t *s, fuv_write_cb cb,
                                       void *arg, fuv_req_t *req) {
  fuv__write_req_t *w = fuv__write_req_get(s->handle.loop);
  if (w == NULL)
    return NULL;
  w->cb = cb;
  w->arg = arg;
  w->send_fd = -1;
  w->req = req;
  if (req != NULL)
    req->write = w;
  return w;
}

/* Closes the duplicate a fuv_write2 holds once it is sent or given up. */
static void write_req_drop_fd(fuv_stream_t *s, fuv__write_req_t *w) {
  if (w->send_fd >= 0) {
    fuv__close_fd(w->send_fd);
    w->send_fd = -1;
    s->send_fds--;
  }
}

/* Runs a finished request's callback after the request object (if any) has
 * learnt it is over, and recycles it. */
static void write_req_finish(fuv_stream_t *s, fuv__write_req_t *w,
                             int status) {
  fuv_write_cb cb = w->cb;
  void *arg = w->arg;
  fuv__req_done(w->req);
  fuv__write_req_put(s->handle.loop, w);
  if (cb != NULL)
    cb(s, status, arg);
}

size_t fuv_write_queue_size(const fuv_stream_t *s) {
  if (stream_check_any(s) != 0)
    return 0;
  return s->write_tail - s->write_head;
}

/* Moves requests whose bytes have all gone out to the done list. */
static void write_consume(fuv_stream_t *s, size_t n) {
  fuv__write_req_t *req;
  while ((req = s->write_queue.head) != NULL) {
    size_t take = n < req->remaining ? n : req->remaining;
    req->remaining -= take;
    n -= take;
    if (req->remaining != 0)
      break;
    write_list_pop(&s->write_queue);
    write_list_push(&s->write_done, req);
  }
}

/* Keeps the congestion state in step with the queue; a drain is reported
 * from the pending phase so it never runs inside a caller's write. */
static void update_congestion(fuv_stream_t *s) {
  size_t queued = s->write_tail - s->write_head;
  if (s->high_water == 0) {
    s->handle.flags &= ~FUV__STREAM_CONGESTED;
    return;
  }
  if (!(s->handle.flags & FUV__STREAM_CONGESTED)) {
    if (queued >= s->high_water)
      s->handle.flags |= FUV__STREAM_CONGESTED;
  } else if (queued <= s->low_water) {
    s->handle.flags &= ~FUV__STREAM_CONGESTED;
    s->drain_pending = 1;
    fuv__handle_make_pending(&s->handle);
  }
}

/* Makes room for n more bytes at the tail, moving the live bytes to the
 * front before growing so a steady stream reuses one buffer. */
static int write_buf_reserve(fuv_stream_t *s, size_t n) {
  size_t live = s->write_tail - s->write_head;
  if (s->write_cap - s->write_tail >= n)
    return 0;
  if (s->write_head > 0) {
    memmove(s->write_buf, s->write_buf + s->write_head, live);
    s->write_head = 0;
    s->write_tail = live;
    if (s->write_cap - s->write_tail >= n)
      return 0;
  }
  if (n > SIZE_MAX - live)
    return FUV_ENOMEM;
  size_t cap = s->write_cap ? s->write_cap : 4096;
  while (cap < live + n)
    cap = cap > SIZE_MAX / 2 ? live + n : cap * 2;
  char *grown = realloc(s->write_buf, cap);
  if (grown == NULL)
    return FUV_ENOMEM;
  s->write_buf = grown;
  s->write_cap = cap;
  return 0;
}

static void write_buf_reset(fuv_stream_t *s) {
  s->write_head = s->write_tail = 0;
  if (s->write_cap > FUV__KEEP_WRITE_BUFFER) {
    free(s->write_buf);
    s->write_buf = NULL;
    s->write_cap = 0;
  }
}

static void do_shutdown(fuv_stream_t *s) {
  s->shutdown_status = shutdown(s->io.fd, SHUT_WR) == 0 ? 0 : fuv__errno();
  /* A pipe(2) end has no write side of its own to shut: closing it is the
   * only end of stream the reader can see, and that is fuv_close's. As in
   * libuv, the shutdown then succeeds without effect. */
  if (s->shutdown_status == FUV_ENOTSOCK)
    s->shutdown_status = 0;
  s->shutdown_done = 1;
  fuv__handle_make_pending(&s->handle);
}

/* Fails every queued write (and a waiting shutdown) with err: the bytes can
 * no longer be delivered, and each request learns so exactly once. */
static void fail_writes(fuv_stream_t *s, int err) {
  fuv__write_req_t *req;
  while ((req = write_list_pop(&s->write_queue)) != NULL) {
    req->status = err;
    write_req_drop_fd(s, req);
    write_list_push(&s->write_done, req);
  }
  write_buf_reset(s);
  s->handle.flags &= ~FUV__STREAM_WRITABLE;
  fuv__io_stop(s->handle.loop, &s->io, FUV__POLLOUT);
  if ((s->handle.flags & FUV__STREAM_SHUTTING) && !s->shutdown_done) {
    s->shutdown_status = err;
    s->shutdown_done = 1;
  }
  fuv__handle_make_pending(&s->handle);
}

/* writev(2) on a non-socket fd, which cannot take MSG_NOSIGNAL: SIGPIPE is
 * blocked around the call and one the call raised is consumed before it is
 * unblocked (one already pending before is left alone), so the process
 * never sees it. Returns as writev, errno preserved. */
static ssize_t writev_nosigpipe(int fd, const struct iovec *iov, int n) {
  sigset_t sigpipe, old, pending;
  int was_pending, saved;
  ssize_t r;

  sigemptyset(&sigpipe);
  sigaddset(&sigpipe, SIGPIPE);
  sigemptyset(&pending);
  sigpending(&pending);
  was_pending = sigismember(&pending, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &sigpipe, &old);
  do
    r = writev(fd, iov, n);
  while (r < 0 && errno == EINTR);
  saved = errno;
  if (r < 0 && saved == EPIPE && !was_pending) {
    struct timespec zero = {0, 0};
    while (sigtimedwait(&sigpipe, NULL, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = saved;
  return r;
}

ssize_t fuv__write_nosigpipe(int fd, const void *buf, size_t len) {
  struct iovec iov;
  iov.iov_base = (void *)buf;
  iov.iov_len = len;
  return writev_nosigpipe(fd, &iov, 1);
}

/* Sends len bytes with fd attached (SCM_RIGHTS) as one message. */
static ssize_t send_with_fd(int sock, const char *buf, size_t len, int fd) {
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int))];
  } control;
  struct iovec iov;
  struct msghdr msg;
  struct cmsghdr *cmsg;
  ssize_t n;

  memset(&msg, 0, sizeof msg);
  memset(&control, 0, sizeof control);
  iov.iov_base = (void *)buf;
  iov.iov_len = len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &fd, sizeof fd);
  do
    n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n;
}

/* One send of queued bytes; send_fd >= 0 goes along with them. */
static inline ssize_t stream_send(fuv_stream_t *s, const char *buf, size_t len,
                                  int send_fd) {
  if (send_fd >= 0)
    return send_with_fd(s->io.fd, buf, len, send_fd);
  if (s->handle.flags & FUV__STREAM_RAW_FD)
    return fuv__write_nosigpipe(s->io.fd, buf, len);
  return send(s->io.fd, buf, len, MSG_NOSIGNAL);
}

/* With fuv_write2 requests queued, one send may not cross the start of a
 * request carrying an fd (the fd must go with its first byte). Returns how
 * much of len the next send may take, and in *fd_req the head request when
 * its fd goes with this send. */
static size_t flush_limit(fuv_stream_t *s, size_t len,
                          fuv__write_req_t **fd_req) {
  fuv__write_req_t *head = s->write_queue.head, *r;
  size_t limit = 0;
  *fd_req = head != NULL && head->send_fd >= 0 ? head : NULL;
  for (r = head; r != NULL; r = r->next) {
    if (r != head && r->send_fd >= 0)
      break;
    limit += r->remaining;
  }
  return limit < len ? limit : len;
}

/* Hands queued bytes to the kernel until it stops taking them. */
static void stream_flush_writes(fuv_stream_t *s) {
  while (s->write_head < s->write_tail) {
    size_t len = s->write_tail - s->write_head;
    fuv__write_req_t *fd_req = NULL;
    ssize_t n;
    if (s->send_fds != 0) {
      len = flush_limit(s, len, &fd_req);
      if (len == 0) {
        write_consume(s, 0); /* empty writes before a write2 */
        continue;
      }
    }
    n = stream_send(s, s->write_buf + s->write_head, len,
                    fd_req != NULL ? fd_req->send_fd : -1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        break;
      fail_writes(s, fuv__errno());
      return;
    }
    if (fd_req != NULL && n > 0)
      write_req_drop_fd(s, fd_req); /* the peer has it now */
    s->write_head += (size_t)n;
    write_consume(s, (size_t)n);
    if ((size_t)n < len)
      break;
  }
  if (s->write_done.head != NULL)
    fuv__handle_make_pending(&s->handle);
  if (s->write_head == s->write_tail) {
    write_consume(s, 0); /* zero-length writes at the end of the queue */
    write_buf_reset(s);
    fuv__io_stop(s->handle.loop, &s->io, FUV__POLLOUT);
    if ((s->handle.flags & FUV__STREAM_SHUTTING) && !s->shutdown_done)
      do_shutdown(s);
  }
  update_congestion(s);
}

/* Called when a connect succeeded: queued writes may now go out. */
static void stream_connected(fuv_stream_t *s) {
  if (s->write_queue.head != NULL) {
    fuv__io_start(s->handle.loop, &s->io, FUV__POLLOUT);
    stream_flush_writes(s);
  }
  fuv__stream_update_active(s);
}

void fuv__stream_set_connected(fuv_stream_t *s) {
  s->handle.flags |= FUV__STREAM_CONNECTED_FLAGS;
  stream_connected(s);
}

/* Called when a connect failed: queued writes fail with its error. */
static void stream_connect_failed(fuv_stream_t *s, int err) {
  if (s->write_queue.head != NULL)
    fail_writes(s, err);
  fuv__stream_update_active(s);
}

static int write_check(const fuv_stream_t *s) {
  int r = fuv__stream_check(s);
  unsigned f;
  if (r != 0)
    return r;
  f = s->handle.flags;
  if (s->io.fd < 0)
    return FUV_EBADF;
  if (f & (FUV__STREAM_SHUTTING | FUV__STREAM_SHUT))
    return FUV_EPIPE;
  if (f & FUV__STREAM_CONNECTING)
    return 0; /* queued until the connection is up */
  if (!(f & FUV__STREAM_CONNECTED))
    return FUV_ENOTCONN;
  if (!(f & FUV__STREAM_WRITABLE))
    return FUV_EPIPE;
  return 0;
}

/* Sends what the kernel takes now from the buffers; returns the byte count
 * or a negative error (EAGAIN counts as 0 bytes). */
static ssize_t send_now(const fuv_stream_t *s, const char *const *bufs,
                        const size_t *lens, size_t nbufs) {
  struct iovec iov[64];
  struct msghdr msg;
  size_t n = nbufs < 64 ? nbufs : 64;
  int fd = s->io.fd;
  ssize_t sent;

  if (nbufs == 1 && !(s->handle.flags & FUV__STREAM_RAW_FD)) {
    do
      sent = send(fd, bufs[0], lens[0], MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
  } else {
    for (size_t i = 0; i < n; i++) {
      iov[i].iov_base = (void *)bufs[i];
      iov[i].iov_len = lens[i];
    }
    if (s->handle.flags & FUV__STREAM_RAW_FD) {
      sent = writev_nosigpipe(fd, iov, (int)n);
    } else {
      memset(&msg, 0, sizeof msg);
      msg.msg_iov = iov;
      msg.msg_iovlen = n;
      do
        sent = sendmsg(fd, &msg, MSG_NOSIGNAL);
      while (sent < 0 && errno == EINTR);
    }
  }
  if (sent < 0)
    return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : fuv__errno();
  return sent;
}

/* Queues a finished request whose callback must still run. */
static int complete_now(fuv_stream_t *s, fuv_write_cb cb, void *arg,
                        fuv_req_t *req, int status) {
  fuv__write_req_t *w;
  if (cb == NULL && req == NULL)
    return 0;
  w = write_req_new(s, cb, arg, req);
  if (w == NULL)
    return FUV_ENOMEM;
  w->status = status;
  write_list_push(&s->write_done, w);
  fuv__handle_make_pending(&s->handle);
  return 0;
}

/* No memory to queue the rest of a write. Before anything was sent the
 * caller still owns the whole write and gets the error now. After a partial
 * send, part of it is already in the kernel: retrying would duplicate those
 * bytes, so the write is accepted and fails through its callback, and the
 * stream stops being writable. */
static int write_out_of_memory(fuv_stream_t *s, fuv_write_cb cb, void *arg,
                               fuv_req_t *req, ssize_t sent) {
  if (sent == 0)
    return FUV_ENOMEM;
  s->handle.flags &= ~FUV__STREAM_WRITABLE;
  return complete_now(s, cb, arg, req, FUV_ENOMEM);
}

/* The body of fuv__stream_write once the request object exists. */
static int stream_write(fuv_stream_t *s, const char *const *bufs,
                        const size_t *lens, size_t nbufs, size_t total,
                        int send_fd, fuv_write_cb cb, void *arg,
                        fuv_req_t *oreq) {
  size_t skip;
  ssize_t sent = 0;
  fuv__write_req_t *req;
  int r;

  /* The fast path: nothing queued, so try the kernel first. A write2
   * always queues: its fd goes with the flush, in order. */
  if (s->write_queue.head == NULL && send_fd < 0 &&
      !(s->handle.flags & FUV__STREAM_CONNECTING) && total > 0) {
    sent = send_now(s, bufs, lens, nbufs);
    if (sent < 0) {
      s->handle.flags &= ~FUV__STREAM_WRITABLE;
      return complete_now(s, cb, arg, oreq, (int)sent);
    }
    if ((size_t)sent == total)
      return complete_now(s, cb, arg, oreq, 0);
  } else if (total == 0 && s->write_queue.head == NULL) {
    return complete_now(s, cb, arg, oreq, 0);
  }

  /* Copy only what the kernel did not take. */
  r = write_buf_reserve(s, total - (size_t)sent);
  req = r == 0 ? write_req_new(s, cb, arg, oreq) : NULL;
  if (req == NULL)
    return write_out_of_memory(s, cb, arg, oreq, sent);
  skip = (size_t)sent;
  for (size_t i = 0; i < nbufs; i++) {
    size_t len = lens[i];
    if (skip >= len) {
      skip -= len;
      continue;
    }
    memcpy(s->write_buf + s->write_tail, bufs[i] + skip, len - skip);
    s->write_tail += len - skip;
    skip = 0;
  }
  req->remaining = total - (size_t)sent;
  req->len = total;
  if (send_fd >= 0) {
    req->send_fd = send_fd;
    s->send_fds++;
  }
  write_list_push(&s->write_queue, req);
  if (!(s->handle.flags & FUV__STREAM_CONNECTING))
    fuv__io_start(s->handle.loop, &s->io, FUV__POLLOUT);
  update_congestion(s);
  fuv__stream_update_active(s);
  return 0;
}

int fuv__stream_write(fuv_stream_t *s, const char *const *bufs,
                      const size_t *lens, size_t nbufs, int send_fd,
                      fuv_write_cb cb, void *arg, fuv_req_t **req) {
  size_t total = 0;
  fuv_req_t *oreq = NULL;
  int r = write_check(s);

  if (req != NULL)
    *req = NULL;
  if (r != 0)
    return r;
  if (nbufs > 0 && (bufs == NULL || lens == NULL))
    return FUV_EINVAL;
  for (size_t i = 0; i < nbufs; i++) {
    if (bufs[i] == NULL && lens[i] > 0)
      return FUV_EINVAL;
    if (lens[i] > SIZE_MAX - total)
      return FUV_EINVAL;
    total += lens[i];
  }
  if (req != NULL) {
    oreq = fuv__req_new(FUV_WRITE, s);
    if (oreq == NULL)
      return FUV_ENOMEM;
  }
  r = stream_write(s, bufs, lens, nbufs, total, send_fd, cb, arg, oreq);
  if (oreq != NULL) {
    if (r == 0 && oreq->write != NULL) {
      *req = oreq;
    } else {
      /* Not taken: no reference is the operation's, nor the caller's. */
      oreq->write = NULL;
      fuv__req_done(oreq);
      fuv_req_release(oreq);
    }
  }
  return r;
}

int fuv_writev(fuv_stream_t *s, const char *const *bufs, const size_t *lens,
               size_t nbufs, fuv_write_cb cb, void *arg) {
  return fuv__stream_write(s, bufs, lens, nbufs, -1, cb, arg, NULL);
}

int fuv_write(fuv_stream_t *s, const char *data, size_t len, fuv_write_cb cb,
              void *arg) {
  return fuv__stream_write(s, &data, &len, 1, -1, cb, arg, NULL);
}

int fuv_write_req(fuv_stream_t *s, const char *data, size_t len,
                  fuv_write_cb cb, void *arg, fuv_req_t **req) {
  return fuv__stream_write(s, &data, &len, 1, -1, cb, arg, req);
}

int fuv_writev_req(fuv_stream_t *s, const char *const *bufs,
                   const size_t *lens, size_t nbufs, fuv_write_cb cb,
                   void *arg, fuv_req_t **req) {
  return fuv__stream_write(s, bufs, lens, nbufs, -1, cb, arg, req);
}

/* fuv_write2's checks and the duplicate of the handle's socket, taken now
 * so that the caller may close send_handle as soon as the call returns. */
static int write2(fuv_stream_t *s, const char *data, size_t len,
                  fuv_stream_t *send_handle, fuv_write_cb cb, void *arg,
                  fuv_req_t **req) {
  int fd, r = write_check(s);
  if (req != NULL)
    *req = NULL;
  if (r != 0)
    return r;
  if (!(s->handle.flags & FUV__STREAM_IPC) || len == 0 || data == NULL ||
      stream_check_any(send_handle) != 0 || send_handle->io.fd < 0)
    return FUV_EINVAL;
  fd = fcntl(send_handle->io.fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0)
    return fuv__errno();
  r = fuv__stream_write(s, &data, &len, 1, fd, cb, arg, req);
  if (r != 0)
    fuv__close_fd(fd);
  return r;
}

int fuv_write2(fuv_stream_t *s, const char *data, size_t len,
               fuv_stream_t *send_handle, fuv_write_cb cb, void *arg) {
  return write2(s, data, len, send_handle, cb, arg, NULL);
}

int fuv_write2_req(fuv_stream_t *s, const char *data, size_t len,
                   fuv_stream_t *send_handle, fuv_write_cb cb, void *arg,
                   fuv_req_t **req) {
  return write2(s, data, len, send_handle, cb, arg, req);
}

int fuv_try_write(fuv_stream_t *s, const char *data, size_t len) {
  ssize_t n;
  int r = write_check(s);
  if (r != 0)
    return r;
  if (data == NULL && len > 0)
    return FUV_EINVAL;
  if (s->write_queue.head != NULL || (s->handle.flags & FUV__STREAM_CONNECTING))
    return FUV_EAGAIN;
  if (len == 0)
    return 0;
  if (len > INT_MAX)
    len = INT_MAX;
  n = send_now(s, &data, &len, 1);
  if (n == 0)
    return FUV_EAGAIN;
  return (int)n;
}

int fuv__stream_shutdown(fuv_stream_t *s, fuv_shutdown_cb cb, void *arg,
                         fuv_req_t **req) {
  int r = stream_check_any(s);
  unsigned f;
  if (req != NULL)
    *req = NULL;
  if (r != 0)
    return r;
  f = s->handle.flags;
  /* A closing stream is not connected any more, as libuv says. */
  if ((f & FUV__HANDLE_CLOSING) || !(f & FUV__STREAM_CONNECTED) ||
      !(f & FUV__STREAM_WRITABLE) ||
      (f & (FUV__STREAM_SHUTTING | FUV__STREAM_SHUT)))
    return FUV_ENOTCONN;
  /* A withdrawn shutdown's callback is still due: one at a time. */
  if (s->shutdown_canceled)
    return FUV_EBUSY;
  if (req != NULL) {
    s->shutdown_req = fuv__req_new(FUV_SHUTDOWN, s);
    if (s->shutdown_req == NULL)
      return FUV_ENOMEM;
    *req = s->shutdown_req;
  }
  s->handle.flags |= FUV__STREAM_SHUTTING;
  s->handle.flags &= ~FUV__STREAM_WRITABLE;
  s->shutdown_cb = cb;
  s->shutdown_arg = arg;
  s->shutdown_done = 0;
  if (s->write_queue.head == NULL)
    do_shutdown(s);
  fuv__stream_update_active(s);
  return 0;
}

int fuv_shutdown(fuv_stream_t *s, fuv_shutdown_cb cb, void *arg) {
  return fuv__stream_shutdown(s, cb, arg, NULL);
}

int fuv_shutdown_req(fuv_stream_t *s, fuv_shutdown_cb cb, void *arg,
                     fuv_req_t **req) {
  return fuv__stream_shutdown(s, cb, arg, req);
}

/* ---- cancelling -------------------------------------------------------------- */

int fuv__stream_cancel_write(fuv_stream_t *s, fuv__write_req_t *w) {
  fuv__write_req_t *prev = NULL, *r;
  size_t off = s->write_head;

  for (r = s->write_queue.head; r != NULL && r != w; prev = r, r = r->next)
    off += r->remaining;
  /* Not queued: done, its callback due. Partly sent: the rest must go. */
  if (r == NULL || w->remaining != w->len)
    return FUV_EBUSY;
  memmove(s->write_buf + off, s->write_buf + off + w->remaining,
          s->write_tail - off - w->remaining);
  s->write_tail -= w->remaining;
  w->remaining = 0;
  if (prev != NULL)
    prev->next = w->next;
  else
    s->write_queue.head = w->next;
  if (s->write_queue.tail == w)
    s->write_queue.tail = prev;
  w->status = FUV_ECANCELED;
  write_req_drop_fd(s, w);
  write_list_push(&s->write_done, w);
  fuv__handle_make_pending(&s->handle);
  if (s->write_queue.head == NULL) {
    write_buf_reset(s);
    fuv__io_stop(s->handle.loop, &s->io, FUV__POLLOUT);
    if ((s->handle.flags & FUV__STREAM_SHUTTING) && !s->shutdown_done)
      do_shutdown(s);
  }
  update_congestion(s);
  fuv__stream_update_active(s);
  return 0;
}

int fuv__stream_cancel_shutdown(fuv_stream_t *s) {
  if (!(s->handle.flags & FUV__STREAM_SHUTTING) || s->shutdown_done ||
      is_closing(s))
    return FUV_EBUSY;
  s->handle.flags &= ~FUV__STREAM_SHUTTING;
  s->handle.flags |= FUV__STREAM_WRITABLE;
  s->canceled_shutdown_cb = s->shutdown_cb;
  s->canceled_shutdown_arg = s->shutdown_arg;
  s->canceled_shutdown_req = s->shutdown_req;
  s->shutdown_cb = NULL;
  s->shutdown_req = NULL;
  s->shutdown_canceled = 1;
  fuv__handle_make_pending(&s->handle);
  fuv__stream_update_active(s);
  return 0;
}

/* Runs a withdrawn shutdown's callback with FUV_ECANCELED. */
static void report_canceled_shutdown(fuv_stream_t *s) {
  fuv_shutdown_cb cb = s->canceled_shutdown_cb;
  s->shutdown_canceled = 0;
  s->canceled_shutdown_cb = NULL;
  fuv__req_done(s->canceled_shutdown_req);
  s->canceled_shutdown_req = NULL;
  if (cb != NULL)
    cb(s, FUV_ECANCELED, s->canceled_shutdown_arg);
}

int fuv_is_readable(const fuv_stream_t *s) {
  return fuv__stream_check(s) == 0 &&
         (s->handle.flags & FUV__STREAM_READABLE) != 0;
}

int fuv_is_writable(const fuv_stream_t *s) {
  return fuv__stream_check(s) == 0 &&
         (s->handle.flags & FUV__STREAM_WRITABLE) != 0;
}

int fuv_stream_set_water_marks(fuv_stream_t *s, size_t high_water,
                               size_t low_water, fuv_drain_cb drain_cb,
                               void *arg) {
  int r = fuv__stream_check(s);
  if (r != 0)
    return r;
  if (high_water != 0 && low_water > high_water)
    return FUV_EINVAL;
  s->high_water = high_water;
  s->low_water = low_water;
  s->drain_cb = drain_cb;
  s->drain_arg = arg;
  update_congestion(s);
  return 0;
}

int fuv_stream_is_congested(const fuv_stream_t *s) {
  return fuv__stream_check(s) == 0 &&
         (s->handle.flags & FUV__STREAM_CONGESTED) != 0;
}

/* ---- reading --------------------------------------------------------------- */

int fuv_read_start(fuv_stream_t *s, fuv_read_cb cb, void *arg) {
  int r = fuv__stream_check(s);
  if (r != 0)
    return r;
  if (cb == NULL)
    return FUV_EINVAL;
  if (s->handle.flags & FUV__STREAM_READING)
    return FUV_EALREADY;
  if (!(s->handle.flags & FUV__STREAM_READABLE))
    return FUV_ENOTCONN;
  s->read_cb = cb;
  s->read_arg = arg;
  s->handle.flags |= FUV__STREAM_READING;
  fuv__io_start(s->handle.loop, &s->io, FUV__POLLIN);
  fuv__stream_update_active(s);
  return 0;
}

static void stop_reading(fuv_stream_t *s) {
  s->handle.flags &= ~FUV__STREAM_READING;
  fuv__io_stop(s->handle.loop, &s->io, FUV__POLLIN);
  fuv__stream_update_active(s);
}

int fuv_read_stop(fuv_stream_t *s) {
  int r = fuv__stream_check(s);
  if (r != 0)
    return r;
  if (s->handle.flags & FUV__STREAM_READING)
    stop_reading(s);
  return 0;
}

/* Reads while the stream wants data, at most a bounded number of times so
 * that one busy peer cannot starve the others. A short read means the
 * socket is empty, which saves the read that would return EAGAIN. */
static void stream_read(fuv_stream_t *s) {
  char *buf = s->handle.loop->read_buf;
  for (int budget = FUV__MAX_READS_PER_EVENT; budget > 0; budget--) {
    ssize_t n;
    if (!(s->handle.flags & FUV__STREAM_READING) || is_closing(s))
      return;
    if (s->handle.flags & FUV__STREAM_IPC)
      n = s->ops->recv(s, buf, FUV__READ_BUFFER_SIZE);
    else
      n = read(s->io.fd, buf, FUV__READ_BUFFER_SIZE);
    if (n > 0) {
      s->read_cb(s, n, buf, s->read_arg);
      if (n < FUV__READ_BUFFER_SIZE)
        return;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return;
    if (n == 0) {
      s->handle.flags &= ~FUV__STREAM_READABLE;
      stop_reading(s);
      s->read_cb(s, FUV_EOF, NULL, s->read_arg);
    } else {
      int err = fuv__errno();
      /* The connection is gone in both directions. */
      s->handle.flags &= ~(FUV__STREAM_READABLE | FUV__STREAM_WRITABLE);
      stop_reading(s);
      s->read_cb(s, err, NULL, s->read_arg);
    }
    return;
  }
}

/* ---- listening and accepting ------------------------------------------------ */

/* Out of fds with connections waiting: level-triggered polling would wake
 * us for ever. Give up the spare fd, accept and drop what is waiting (a
 * bounded batch of it), and take the spare back; the server stays
 * responsive and accepts again as soon as fds are free. */
static void emfile_trick(fuv_loop_t *loop, int server_fd) {
  if (loop->reserve_fd < 0)
    return;
  fuv__close_fd(loop->reserve_fd);
  loop->reserve_fd = -1;
  /* Connections that keep coming are dropped in the next iterations, each
   * of which reports EMFILE again. */
  for (int budget = FUV__MAX_READS_PER_EVENT; budget > 0; budget--) {
    int fd = accept4(server_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      break;
    }
    fuv__close_fd(fd);
  }
  loop->reserve_fd = open("/", O_RDONLY | O_CLOEXEC);
}

/* Accepts while the callback takes the connections, at most a bounded
 * number of times: a connection callback that makes the next connection
 * (on loopback it is waiting before the next accept) cannot keep the loop
 * here; the rest is reported by the next poll. */
static void server_io(fuv_stream_t *s) {
  for (int budget = FUV__MAX_READS_PER_EVENT;
       budget > 0 && s->accepted_fd < 0 &&
       (s->handle.flags & FUV__STREAM_LISTENING) && s->connection_cb != NULL &&
       !is_closing(s);
       budget--) {
    int fd = accept4(s->io.fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      int err = fuv__errno();
      if (err == FUV_EINTR || err == FUV_ECONNABORTED)
        continue;
      if (err == FUV_EAGAIN)
        return;
      if (err == FUV_EMFILE || err == FUV_ENFILE)
        emfile_trick(s->handle.loop, s->io.fd);
      s->connection_cb(s, err, s->connection_arg);
      return;
    }
    s->accepted_fd = fd;
    s->connection_cb(s, 0, s->connection_arg);
    if (s->accepted_fd >= 0 && !is_closing(s)) {
      /* Not accepted in the callback: wait until it is (delayed accept). */
      fuv__io_stop(s->handle.loop, &s->io, FUV__POLLIN);
      s->handle.flags |= FUV__STREAM_ACCEPT_PAUSED;
      return;
    }
  }
}

int fuv_listen(fuv_stream_t *s, int backlog, fuv_connection_cb cb, void *arg) {
  fuv_loop_t *loop;
  int r = fuv__stream_check(s);
  if (r != 0)
    return r;
  if (s->delayed_error != 0)
    return s->delayed_error;
  if (s->handle.flags & (FUV__STREAM_CONNECTED | FUV__STREAM_CONNECTING))
    return FUV_EISCONN;
  if (s->io.fd < 0 || !(s->handle.flags & FUV__STREAM_BOUND))
    return FUV_EINVAL;
  if (backlog < 0)
    backlog = 0;
  if (listen(s->io.fd, backlog) != 0)
    return fuv__errno();
  loop = s->handle.loop;
  if (cb != NULL && loop->reserve_fd < 0)
    loop->reserve_fd = open("/", O_RDONLY | O_CLOEXEC);
  s->handle.flags |= FUV__STREAM_LISTENING;
  s->connection_cb = cb;
  s->connection_arg = arg;
  if (cb != NULL && !(s->handle.flags & FUV__STREAM_ACCEPT_PAUSED))
    fuv__io_start(loop, &s->io, FUV__POLLIN);
  else if (cb == NULL)
    fuv__io_stop(loop, &s->io, FUV__POLLIN);
  fuv__stream_update_active(s);
  return 0;
}

/* The next connection waiting on server, and the ops of its kind: one it
 * accepted, or on an IPC stream the next fd received. -1 when none. */
static int accept_peek(fuv_stream_t *server, const fuv__stream_ops_t **ops) {
  *ops = NULL;
  if (server->accepted_fd >= 0) {
    *ops = server->ops;
    return server->accepted_fd;
  }
  if ((server->handle.flags & FUV__STREAM_IPC) &&
      server->ops->pending_peek != NULL)
    return server->ops->pending_peek(server, ops);
  return -1;
}

/* The connection accept_peek returned now has a handle. */
static void accept_pop(fuv_stream_t *server) {
  if (server->accepted_fd < 0) {
    server->ops->pending_pop(server);
    return;
  }
  server->accepted_fd = -1;
  if (server->handle.flags & FUV__STREAM_ACCEPT_PAUSED) {
    server->handle.flags &= ~FUV__STREAM_ACCEPT_PAUSED;
    if (server->connection_cb != NULL)
      fuv__io_start(server->handle.loop, &server->io, FUV__POLLIN);
  }
}

/* The stream flags of an fd received from another process: what its
 * socket is (connected, or only bound or listening), or for a non-socket
 * which directions its access mode allows. */
static unsigned received_fd_flags(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int type = 0;
  socklen_t tlen = sizeof type;
  int mode;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) == 0) {
    if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
      return FUV__STREAM_CONNECTED_FLAGS;
    return FUV__STREAM_BOUND;
  }
  mode = fcntl(fd, F_GETFL) & O_ACCMODE;
  return FUV__STREAM_CONNECTED | FUV__STREAM_RAW_FD |
         (mode != O_WRONLY ? FUV__STREAM_READABLE : 0) |
         (mode != O_RDONLY ? FUV__STREAM_WRITABLE : 0);
}

static unsigned accept_flags(fuv_stream_t *server, int fd) {
  if (server->accepted_fd == fd)
    return FUV__STREAM_CONNECTED_FLAGS;
  return received_fd_flags(fd);
}

int fuv__stream_accept_fd(fuv_stream_t *server, int fd,
                          fuv_stream_t **client) {
  return server->ops->new_from_fd(client, server, fd,
                                  FUV__STREAM_CONNECTED_FLAGS);
}

/* fuv_accept and fuv_stream_accept: a new handle of the connection's kind
 * (want: FUV_TCP only, or FUV_UNKNOWN_HANDLE for any). */
static int accept_new(fuv_stream_t *server, fuv_stream_t **client,
                      fuv_handle_type_t want) {
  const fuv__stream_ops_t *ops;
  int fd, r = fuv__stream_check(server);
  if (client != NULL)
    *client = NULL;
  if (r != 0)
    return r;
  if (client == NULL)
    return FUV_EINVAL;
  fd = accept_peek(server, &ops);
  if (want != FUV_UNKNOWN_HANDLE &&
      (fd >= 0 ? ops->type : server->ops->type) != want)
    return FUV_EINVAL;
  if (fd < 0)
    return FUV_EAGAIN;
  r = ops->new_from_fd(client, server, fd, accept_flags(server, fd));
  if (r != 0)
    return r; /* the connection stays queued for another try */
  accept_pop(server);
  return 0;
}

int fuv_accept(fuv_stream_t *server, fuv_tcp_t **client) {
  return accept_new(server, (fuv_stream_t **)client, FUV_TCP);
}

int fuv_stream_accept(fuv_stream_t *server, fuv_stream_t **client) {
  return accept_new(server, client, FUV_UNKNOWN_HANDLE);
}

int fuv_stream_accept_into(fuv_stream_t *server, fuv_stream_t *client) {
  const fuv__stream_ops_t *ops;
  int fd, r = fuv__stream_check(server);
  if (r != 0)
    return r;
  r = fuv__stream_check(client);
  if (r != 0 || client == server)
    return FUV_EINVAL;
  fd = accept_peek(server, &ops);
  if (fd < 0)
    return FUV_EAGAIN;
  if (client->ops != ops)
    return FUV_EINVAL;
  if (client->io.fd >= 0 ||
      (client->handle.flags &
       (FUV__STREAM_BOUND | FUV__STREAM_CONNECTED | FUV__STREAM_CONNECTING |
        FUV__STREAM_LISTENING)))
    return FUV_EBUSY;
  fuv__stream_open(client, fd, accept_flags(server, fd));
  accept_pop(server);
  return 0;
}

/* ---- connecting -------------------------------------------------------------- */

/* Returns the socket to the unconnected state after a connect that failed
 * or was given up, so that the handle can connect again: connecting to
 * AF_UNSPEC dissolves the association (Linux, the BSDs) and keeps the
 * socket's options and explicit binding. Without it Linux leaves a socket
 * whose connect failed in the background half-reset, and its next connect
 * fails with ECONNABORTED; one still in SYN_SENT would keep trying. An
 * AF_UNIX socket is left as it was, which is what it needs. */
int fuv__stream_reset_connect(int fd) {
  struct sockaddr unspec;
  memset(&unspec, 0, sizeof unspec);
  unspec.sa_family = AF_UNSPEC;
  return connect(fd, &unspec, sizeof unspec) == 0 ? 0 : fuv__errno();
}

/* Ends a connect attempt: flags, queued writes, then the kind's callback. */
static void finish_connect(fuv_stream_t *s, int status) {
  fuv_req_t *req = s->connect_req;
  s->handle.flags &= ~FUV__STREAM_CONNECTING;
  s->connect_done = 0;
  s->connect_req = NULL;
  fuv__io_stop(s->handle.loop, &s->io, FUV__POLLOUT);
  if (status == 0) {
    fuv__stream_set_connected(s);
  } else {
    fuv__stream_reset_connect(s->io.fd);
    stream_connect_failed(s, status);
  }
  fuv__req_done(req);
  s->ops->report_connect(s, status);
}

/* The connecting socket became writable: finish the connect now, unless
 * its result is already waiting for the pending phase (cancelled). */
static void connect_io(fuv_stream_t *s) {
  int err;
  if (s->connect_done)
    return;
  err = fuv__socket_error(s->io.fd);
  if (err == -EINPROGRESS)
    return; /* spurious wake-up */
  finish_connect(s, err);
}

int fuv__stream_connect(fuv_stream_t *s, const struct sockaddr *addr,
                        socklen_t len, fuv_req_t **req) {
  fuv_req_t *creq = NULL;
  int r;
  if (req != NULL) {
    *req = NULL;
    creq = fuv__req_new(FUV_CONNECT, s);
    if (creq == NULL)
      return FUV_ENOMEM;
  }
  do
    r = connect(s->io.fd, addr, len);
  while (r != 0 && errno == EINTR);

  s->connect_req = creq;
  s->handle.flags |= FUV__STREAM_CONNECTING;
  if (r != 0 && errno == EINPROGRESS) {
    fuv__io_start(s->handle.loop, &s->io, FUV__POLLOUT);
  } else {
    /* Finished (or failed, e.g. EAGAIN from an AF_UNIX listener with a
     * full backlog) at once: the callback still waits for the loop, never
     * running inside this call. */
    s->connect_status = r == 0 ? 0 : fuv__errno();
    s->connect_done = 1;
    fuv__handle_make_pending(&s->handle);
  }
  fuv__stream_update_active(s);
  if (req != NULL)
    *req = creq;
  return 0;
}

/* Undoes a connect that the kernel completed at once (a pipe's connect
 * usually does): TCP dissolves the association; an AF_UNIX socket cannot,
 * so it is closed and the handle makes a new one for its next connect. */
static void drop_completed_connect(fuv_stream_t *s) {
  if (fuv__stream_reset_connect(s->io.fd) == 0)
    return;
  fuv__io_close(s->handle.loop, &s->io);
  fuv__close_fd(s->io.fd);
  s->io.fd = -1;
  s->handle.flags &= ~FUV__STREAM_BOUND;
}

int fuv__stream_cancel_connect(fuv_stream_t *s) {
  if (!(s->handle.flags & FUV__STREAM_CONNECTING) || is_closing(s) ||
      (s->connect_done && s->connect_status == FUV_ECANCELED))
    return FUV_EBUSY;
  /* Abandon the attempt now, so that no late event completes it; the
   * callback (and the queued writes') gets FUV_ECANCELED from the pending
   * phase, after which the handle can connect again. A connect whose
   * result came at once is still cancellable, since its callback has not
   * run: the header promises that a connect can be cancelled until then. */
  fuv__io_stop(s->handle.loop, &s->io, FUV__POLLOUT);
  if (s->connect_done && s->connect_status == 0)
    drop_completed_connect(s);
  else
    fuv__stream_reset_connect(s->io.fd);
  s->connect_status = FUV_ECANCELED;
  s->connect_done = 1;
  fuv__handle_make_pending(&s->handle);
  return 0;
}

/* ---- events, deferred callbacks and closing --------------------------------- */

static void stream_io(fuv_loop_t *loop, fuv__io_t *w, unsigned events) {
  fuv_stream_t *s = FUV__CONTAINER_OF(w, fuv_stream_t, io);
  (void)loop;

  if (s->handle.flags & FUV__STREAM_CONNECTING) {
    connect_io(s);
    return;
  }
  if (s->handle.flags & FUV__STREAM_LISTENING) {
    server_io(s);
    return;
  }
  if (events & (FUV__POLLIN | FUV__POLLHUP | FUV__POLLERR))
    stream_read(s);
  if (is_closing(s))
    return;
  if ((events & (FUV__POLLOUT | FUV__POLLHUP | FUV__POLLERR)) &&
      s->write_queue.head != NULL)
    stream_flush_writes(s);
  fuv__stream_update_active(s);
}

/* Runs the write callbacks of the requests done before this pass, in
 * order. A callback's new write may be done at once (an empty one, or one
 * the kernel takes whole) and so join the done list; it waits for the next
 * iteration, for which it made the stream pending again, so that a write
 * issued from every write callback cannot keep the loop here. Returns 0
 * when a callback closed the stream, whose destroy step then reports the
 * rest. */
static int report_writes(fuv_stream_t *s) {
  fuv__write_req_t *last = s->write_done.tail, *req;

  while ((req = write_list_pop(&s->write_done)) != NULL) {
    int was_last = req == last;
    write_req_finish(s, req, req->status);
    if (is_closing(s))
      return 0;
    if (was_last)
      break;
  }
  return 1;
}

/* Runs the callbacks owed since the last iteration, in the order the
 * requests were made; stops as soon as one of them closes the stream, whose
 * destroy step then reports the rest. */
static void stream_pending(fuv_handle_t *h) {
  fuv_stream_t *s = (fuv_stream_t *)h;

  if (s->connect_done) {
    finish_connect(s, s->connect_status);
    if (is_closing(s))
      return;
  }
  if (!report_writes(s))
    return;
  /* Writes done during this pass come before a shutdown (or a drain) that
   * a callback asked for after them: all wait for the next pass. */
  if (s->write_done.head != NULL)
    return;
  if (s->shutdown_done && (h->flags & FUV__STREAM_SHUTTING)) {
    h->flags &= ~FUV__STREAM_SHUTTING;
    h->flags |= FUV__STREAM_SHUT;
    fuv__stream_update_active(s);
    fuv__req_done(s->shutdown_req);
    s->shutdown_req = NULL;
    if (s->shutdown_cb != NULL)
      s->shutdown_cb(s, s->shutdown_status, s->shutdown_arg);
    if (is_closing(s))
      return;
  }
  if (s->shutdown_canceled) {
    report_canceled_shutdown(s);
    if (is_closing(s))
      return;
  }
  if (s->drain_pending) {
    s->drain_pending = 0;
    if (s->drain_cb != NULL)
      s->drain_cb(s, s->drain_arg);
  }
  if (!is_closing(s))
    fuv__stream_update_active(s);
}

void fuv__stream_close(fuv_stream_t *s) {
  fuv_loop_t *loop = s->handle.loop;
  if (s->io.fd >= 0) {
    fuv__io_close(loop, &s->io);
    fuv__close_fd(s->io.fd);
    s->io.fd = -1;
  }
  if (s->accepted_fd >= 0) {
    fuv__close_fd(s->accepted_fd);
    s->accepted_fd = -1;
  }
  s->handle.flags &= ~(FUV__STREAM_READING | FUV__STREAM_LISTENING |
                       FUV__STREAM_READABLE | FUV__STREAM_WRITABLE);
}

void fuv__stream_destroy(fuv_stream_t *s) {
  fuv__write_req_t *req;
  /* A connect still owed a callback learns it was cancelled, first. */
  if (s->handle.flags & FUV__STREAM_CONNECTING) {
    s->handle.flags &= ~FUV__STREAM_CONNECTING;
    fuv__req_done(s->connect_req);
    s->connect_req = NULL;
    s->ops->report_connect(s, FUV_ECANCELED);
  }
  while ((req = write_list_pop(&s->write_done)) != NULL)
    write_req_finish(s, req, req->status);
  while ((req = write_list_pop(&s->write_queue)) != NULL) {
    write_req_drop_fd(s, req);
    write_req_finish(s, req, FUV_ECANCELED);
  }
  if (s->handle.flags & FUV__STREAM_SHUTTING) {
    s->handle.flags &= ~FUV__STREAM_SHUTTING;
    fuv__req_done(s->shutdown_req);
    s->shutdown_req = NULL;
    if (s->shutdown_cb != NULL)
      s->shutdown_cb(s, s->shutdown_done ? s->shutdown_status : FUV_ECANCELED,
                     s->shutdown_arg);
  }
  if (s->shutdown_canceled)
    report_canceled_shutdown(s);
  free(s->write_buf);
  s->write_buf = NULL;
  s->write_cap = s->write_head = s->write_tail = 0;
}
