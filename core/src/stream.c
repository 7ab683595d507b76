/* Streams: reading into the loop's buffer, writing with a copy of only what
 * the kernel would not take, listening, accepting and shutting down. */
#include "internal.h"

#include <fcntl.h>
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

int fuv__stream_check(const fuv_stream_t *s) {
  return fuv__handle_check((const fuv_handle_t *)s, FUV_TCP);
}

int fuv__stream_init(fuv_loop_t *loop, fuv_stream_t *s, fuv_handle_type_t type,
                     fuv__close_fn on_finish_close) {
  fuv__handle_init(loop, &s->handle, type, on_finish_close);
  s->handle.on_pending = stream_pending;
  fuv__io_init(&s->io, stream_io, -1);
  s->accepted_fd = -1;
  return 0;
}

void fuv__stream_open(fuv_stream_t *s, int fd, unsigned flags) {
  s->io.fd = fd;
  s->handle.flags |= flags;
}

void fuv__stream_update_active(fuv_stream_t *s) {
  unsigned f = s->handle.flags;
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

size_t fuv_write_queue_size(const fuv_stream_t *s) {
  if (fuv__handle_check_any((const fuv_handle_t *)s, FUV_TCP) != 0)
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
  s->shutdown_done = 1;
  fuv__handle_make_pending(&s->handle);
}

/* Fails every queued write (and a waiting shutdown) with err: the bytes can
 * no longer be delivered, and each request learns so exactly once. */
static void fail_writes(fuv_stream_t *s, int err) {
  fuv__write_req_t *req;
  while ((req = write_list_pop(&s->write_queue)) != NULL) {
    req->status = err;
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

/* Hands queued bytes to the kernel until it stops taking them. */
static void stream_flush_writes(fuv_stream_t *s) {
  while (s->write_head < s->write_tail) {
    size_t len = s->write_tail - s->write_head;
    ssize_t n = send(s->io.fd, s->write_buf + s->write_head, len,
                     MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        break;
      fail_writes(s, fuv__errno());
      return;
    }
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
void fuv__stream_connected(fuv_stream_t *s) {
  if (s->write_queue.head != NULL) {
    fuv__io_start(s->handle.loop, &s->io, FUV__POLLOUT);
    stream_flush_writes(s);
  }
  fuv__stream_update_active(s);
}

/* Called when a connect failed: queued writes fail with its error. */
void fuv__stream_connect_failed(fuv_stream_t *s, int err) {
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
static ssize_t send_now(int fd, const char *const *bufs, const size_t *lens,
                        size_t nbufs) {
  struct iovec iov[64];
  struct msghdr msg;
  size_t n = nbufs < 64 ? nbufs : 64;
  ssize_t sent;

  if (nbufs == 1) {
    do
      sent = send(fd, bufs[0], lens[0], MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
  } else {
    for (size_t i = 0; i < n; i++) {
      iov[i].iov_base = (void *)bufs[i];
      iov[i].iov_len = lens[i];
    }
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = iov;
    msg.msg_iovlen = n;
    do
      sent = sendmsg(fd, &msg, MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
  }
  if (sent < 0)
    return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : fuv__errno();
  return sent;
}

/* Queues a finished request whose callback must still run. */
static int complete_now(fuv_stream_t *s, fuv_write_cb cb, void *arg,
                        int status) {
  fuv__write_req_t *req;
  if (cb == NULL)
    return 0;
  req = fuv__write_req_get(s->handle.loop);
  if (req == NULL)
    return FUV_ENOMEM;
  req->cb = cb;
  req->arg = arg;
  req->status = status;
  write_list_push(&s->write_done, req);
  fuv__handle_make_pending(&s->handle);
  return 0;
}

/* No memory to queue the rest of a write. Before anything was sent the
 * caller still owns the whole write and gets the error now. After a partial
 * send, part of it is already in the kernel: retrying would duplicate those
 * bytes, so the write is accepted and fails through its callback, and the
 * stream stops being writable. */
static int write_out_of_memory(fuv_stream_t *s, fuv_write_cb cb, void *arg,
                               ssize_t sent) {
  if (sent == 0)
    return FUV_ENOMEM;
  s->handle.flags &= ~FUV__STREAM_WRITABLE;
  return complete_now(s, cb, arg, FUV_ENOMEM);
}

int fuv_writev(fuv_stream_t *s, const char *const *bufs, const size_t *lens,
               size_t nbufs, fuv_write_cb cb, void *arg) {
  size_t total = 0, skip;
  ssize_t sent = 0;
  fuv__write_req_t *req;
  int r = write_check(s);

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

  /* The fast path: nothing queued, so try the kernel first. */
  if (s->write_queue.head == NULL &&
      !(s->handle.flags & FUV__STREAM_CONNECTING) && total > 0) {
    sent = send_now(s->io.fd, bufs, lens, nbufs);
    if (sent < 0) {
      s->handle.flags &= ~FUV__STREAM_WRITABLE;
      return complete_now(s, cb, arg, (int)sent);
    }
    if ((size_t)sent == total)
      return complete_now(s, cb, arg, 0);
  } else if (total == 0 && s->write_queue.head == NULL) {
    return complete_now(s, cb, arg, 0);
  }

  /* Copy only what the kernel did not take. */
  r = write_buf_reserve(s, total - (size_t)sent);
  req = r == 0 ? fuv__write_req_get(s->handle.loop) : NULL;
  if (req == NULL)
    return write_out_of_memory(s, cb, arg, sent);
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
  req->cb = cb;
  req->arg = arg;
  req->remaining = total - (size_t)sent;
  write_list_push(&s->write_queue, req);
  if (!(s->handle.flags & FUV__STREAM_CONNECTING))
    fuv__io_start(s->handle.loop, &s->io, FUV__POLLOUT);
  update_congestion(s);
  fuv__stream_update_active(s);
  return 0;
}

int fuv_write(fuv_stream_t *s, const char *data, size_t len, fuv_write_cb cb,
              void *arg) {
  return fuv_writev(s, &data, &len, 1, cb, arg);
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
  n = send_now(s->io.fd, &data, &len, 1);
  if (n == 0)
    return FUV_EAGAIN;
  return (int)n;
}

int fuv_shutdown(fuv_stream_t *s, fuv_shutdown_cb cb, void *arg) {
  int r = fuv__stream_check(s);
  unsigned f;
  if (r != 0)
    return r;
  f = s->handle.flags;
  if (!(f & FUV__STREAM_CONNECTED) || !(f & FUV__STREAM_WRITABLE) ||
      (f & (FUV__STREAM_SHUTTING | FUV__STREAM_SHUT)))
    return FUV_ENOTCONN;
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
  fuv_tcp_t *tcp = (fuv_tcp_t *)s;
  fuv_loop_t *loop;
  int r = fuv__stream_check(s);
  if (r != 0)
    return r;
  if (tcp->delayed_error != 0)
    return tcp->delayed_error;
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

int fuv_accept(fuv_stream_t *server, fuv_tcp_t **client) {
  int r = fuv__stream_check(server);
  if (client != NULL)
    *client = NULL;
  if (r != 0)
    return r;
  if (client == NULL)
    return FUV_EINVAL;
  if (server->accepted_fd < 0)
    return FUV_EAGAIN;
  r = fuv__tcp_new_from_fd(client, server->handle.loop, server->accepted_fd,
                           FUV__STREAM_CONNECTED | FUV__STREAM_READABLE |
                               FUV__STREAM_WRITABLE | FUV__STREAM_BOUND);
  if (r != 0)
    return r; /* the connection stays queued for another try */
  server->accepted_fd = -1;
  if (server->handle.flags & FUV__STREAM_ACCEPT_PAUSED) {
    server->handle.flags &= ~FUV__STREAM_ACCEPT_PAUSED;
    if (server->connection_cb != NULL)
      fuv__io_start(server->handle.loop, &server->io, FUV__POLLIN);
  }
  return 0;
}

/* ---- events, deferred callbacks and closing --------------------------------- */

static void stream_io(fuv_loop_t *loop, fuv__io_t *w, unsigned events) {
  fuv_stream_t *s = FUV__CONTAINER_OF(w, fuv_stream_t, io);
  (void)loop;

  if (s->handle.flags & FUV__STREAM_CONNECTING) {
    fuv__tcp_connect_io((fuv_tcp_t *)s);
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
    fuv_write_cb cb = req->cb;
    void *arg = req->arg;
    int status = req->status;
    int was_last = req == last;
    fuv__write_req_put(s->handle.loop, req);
    if (cb != NULL)
      cb(s, status, arg);
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

  if (h->type == FUV_TCP && !fuv__tcp_report_connect((fuv_tcp_t *)s))
    return;
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
    if (s->shutdown_cb != NULL)
      s->shutdown_cb(s, s->shutdown_status, s->shutdown_arg);
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
  while ((req = write_list_pop(&s->write_done)) != NULL) {
    if (req->cb != NULL)
      req->cb(s, req->status, req->arg);
    fuv__write_req_put(s->handle.loop, req);
  }
  while ((req = write_list_pop(&s->write_queue)) != NULL) {
    if (req->cb != NULL)
      req->cb(s, FUV_ECANCELED, req->arg);
    fuv__write_req_put(s->handle.loop, req);
  }
  if (s->handle.flags & FUV__STREAM_SHUTTING) {
    s->handle.flags &= ~FUV__STREAM_SHUTTING;
    if (s->shutdown_cb != NULL)
      s->shutdown_cb(s, s->shutdown_done ? s->shutdown_status : FUV_ECANCELED,
                     s->shutdown_arg);
  }
  free(s->write_buf);
  s->write_buf = NULL;
  s->write_cap = s->write_head = s->write_tail = 0;
}
