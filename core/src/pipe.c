/* Pipe handles: streams over AF_UNIX stream sockets (filesystem and Linux
 * abstract names) or pipe(2) ends, and on IPC pipes the fds that travel
 * with the bytes (SCM_RIGHTS). */
#include "internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* The most fds one read takes from an IPC pipe; more sent with one byte
 * than this are closed by the kernel (MSG_CTRUNC). */
#define FUV__PIPE_MAX_RECV_FDS 64

int fuv__pipe_check(const fuv_pipe_t *pipe) {
  return fuv__handle_check((const fuv_handle_t *)pipe, FUV_PIPE);
}

/* ---- received fds -------------------------------------------------------- */

static int pending_push(fuv_pipe_t *pipe, int fd) {
  if (pipe->pending_count == pipe->pending_cap) {
    size_t cap = pipe->pending_cap ? pipe->pending_cap * 2 : 4;
    int *grown = realloc(pipe->pending_fds, cap * sizeof *grown);
    if (grown == NULL)
      return FUV_ENOMEM;
    pipe->pending_fds = grown;
    pipe->pending_cap = cap;
  }
  pipe->pending_fds[pipe->pending_count++] = fd;
  return 0;
}

static void pipe_pending_pop(fuv_stream_t *s) {
  fuv_pipe_t *pipe = (fuv_pipe_t *)s;
  if (++pipe->pending_head == pipe->pending_count)
    pipe->pending_head = pipe->pending_count = 0;
}

/* The kind of handle an fd makes: TCP for an IP stream socket, else a
 * pipe (AF_UNIX, or anything else that was sent). */
static const fuv__stream_ops_t *fd_kind(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
      (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
    return &fuv__tcp_ops;
  return &fuv__pipe_ops;
}

static int pipe_pending_peek(fuv_stream_t *s, const fuv__stream_ops_t **ops) {
  fuv_pipe_t *pipe = (fuv_pipe_t *)s;
  int fd;
  if (pipe->pending_head == pipe->pending_count) {
    *ops = NULL;
    return -1;
  }
  fd = pipe->pending_fds[pipe->pending_head];
  *ops = fd_kind(fd);
  return fd;
}

/* Queues the fds of every SCM_RIGHTS message, in order, made non-blocking
 * as every stream's fd is; one that cannot be queued is closed. */
static void queue_received_fds(fuv_pipe_t *pipe, struct msghdr *msg) {
  struct cmsghdr *cmsg;
  for (cmsg = CMSG_FIRSTHDR(msg); cmsg != NULL; cmsg = CMSG_NXTHDR(msg, cmsg)) {
    size_t n, i;
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
      continue;
    n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (i = 0; i < n; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof fd, sizeof fd);
      if (fuv__set_nonblock(fd, 1) != 0 || pending_push(pipe, fd) != 0)
        fuv__close_fd(fd);
    }
  }
}

/* The read of an IPC pipe: the fds come with the bytes they were sent
 * with, and are queued before the read callback sees those bytes. */
static ssize_t pipe_recv(fuv_stream_t *s, char *buf, size_t len) {
  union {
    struct cmsghdr align;
    char buf[CMSG_SPACE(sizeof(int) * FUV__PIPE_MAX_RECV_FDS)];
  } control;
  struct iovec iov;
  struct msghdr msg;
  ssize_t n;

  if (s->handle.flags & FUV__STREAM_RAW_FD)
    return read(s->io.fd, buf, len);
  memset(&msg, 0, sizeof msg);
  iov.iov_base = buf;
  iov.iov_len = len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  n = recvmsg(s->io.fd, &msg, MSG_CMSG_CLOEXEC);
  if (n >= 0 && msg.msg_controllen > 0)
    queue_received_fds((fuv_pipe_t *)s, &msg);
  return n;
}

/* ---- handles ------------------------------------------------------------- */

static void pipe_finish_close(fuv_handle_t *h) {
  fuv_pipe_t *pipe = (fuv_pipe_t *)h;
  size_t i;
  fuv__stream_destroy(&pipe->stream);
  for (i = pipe->pending_head; i < pipe->pending_count; i++)
    fuv__close_fd(pipe->pending_fds[i]);
  free(pipe->pending_fds);
  pipe->pending_fds = NULL;
  /* As libuv does: the name a server bound goes with it. */
  if (pipe->bound_path != NULL) {
    (void)unlink(pipe->bound_path);
    free(pipe->bound_path);
    pipe->bound_path = NULL;
  }
}

static void pipe_report_connect(fuv_stream_t *s, int status) {
  fuv_pipe_t *pipe = (fuv_pipe_t *)s;
  fuv_pipe_connect_cb cb = pipe->connect_cb;
  pipe->connect_cb = NULL;
  if (cb != NULL)
    cb(pipe, status, pipe->connect_arg);
}

static int pipe_alloc(fuv_pipe_t **out, fuv_loop_t *loop, int ipc);

/* A pipe accepted from a pipe server, or received on an IPC pipe, is an
 * IPC pipe when the stream it came from is one. */
static int pipe_new_from_fd(fuv_stream_t **out, fuv_stream_t *server, int fd,
                            unsigned flags) {
  fuv_pipe_t *pipe;
  int ipc = server->handle.type == FUV_PIPE && ((fuv_pipe_t *)server)->ipc;
  int r = pipe_alloc(&pipe, server->handle.loop, ipc);
  if (r != 0)
    return r;
  fuv__stream_open(&pipe->stream, fd, flags);
  *out = &pipe->stream;
  return 0;
}

const fuv__stream_ops_t fuv__pipe_ops = {
  FUV_PIPE, pipe_report_connect, pipe_new_from_fd, pipe_recv,
  pipe_pending_peek, pipe_pending_pop
};

static int pipe_alloc(fuv_pipe_t **out, fuv_loop_t *loop, int ipc) {
  fuv_pipe_t *pipe = calloc(1, sizeof *pipe);
  if (pipe == NULL)
    return FUV_ENOMEM;
  fuv__stream_init(loop, &pipe->stream, FUV_PIPE, &fuv__pipe_ops,
                   pipe_finish_close);
  pipe->ipc = ipc != 0;
  if (pipe->ipc)
    pipe->stream.handle.flags |= FUV__STREAM_IPC;
  *out = pipe;
  return 0;
}

int fuv_pipe_new(fuv_pipe_t **out, fuv_loop_t *loop, int ipc) {
  if (out == NULL)
    return FUV_EINVAL;
  *out = NULL;
  if (loop == NULL)
    return FUV_EINVAL;
  return pipe_alloc(out, loop, ipc);
}

int fuv__pipe_ensure_socket(fuv_pipe_t *pipe) {
  int fd;
  if (pipe->stream.io.fd >= 0)
    return (pipe->stream.handle.flags & FUV__STREAM_RAW_FD) ? FUV_EINVAL : 0;
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return fuv__errno();
  fuv__stream_open(&pipe->stream, fd, 0);
  return 0;
}

/* The stream flags of an fd opened as a pipe: a socket is connected,
 * listening or bound by its state; a pipe(2) end is readable or writable
 * by its access mode. */
static int open_flags(int fd, unsigned *flags) {
  struct sockaddr_un sun;
  socklen_t len = sizeof sun;
  int type = 0, listening = 0, mode;
  socklen_t olen = sizeof type;

  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &olen) == 0) {
    if (getsockname(fd, (struct sockaddr *)&sun, &len) != 0)
      return fuv__errno();
    if (sun.sun_family != AF_UNIX || type != SOCK_STREAM)
      return FUV_EINVAL;
    len = sizeof sun;
    if (getpeername(fd, (struct sockaddr *)&sun, &len) == 0) {
      *flags = FUV__STREAM_CONNECTED_FLAGS;
      return 0;
    }
    olen = sizeof listening;
    if ((getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &olen) == 0 &&
         listening) ||
        len > offsetof(struct sockaddr_un, sun_path))
      *flags = FUV__STREAM_BOUND;
    else
      *flags = 0;
    return 0;
  }
  if (errno != ENOTSOCK)
    return fuv__errno();
  mode = fcntl(fd, F_GETFL);
  if (mode < 0)
    return fuv__errno();
  mode &= O_ACCMODE;
  *flags = FUV__STREAM_CONNECTED | FUV__STREAM_RAW_FD |
           (mode != O_WRONLY ? FUV__STREAM_READABLE : 0) |
           (mode != O_RDONLY ? FUV__STREAM_WRITABLE : 0);
  return 0;
}

int fuv_pipe_open(fuv_pipe_t *pipe, int fd) {
  unsigned flags = 0;
  int r = fuv__pipe_check(pipe);
  if (r != 0)
    return r;
  if (pipe->stream.io.fd >= 0)
    return FUV_EBUSY;
  if (fd < 0 || fcntl(fd, F_GETFD) < 0)
    return FUV_EBADF;
  r = open_flags(fd, &flags);
  if (r == 0)
    r = fuv__set_nonblock(fd, 1);
  if (r != 0)
    return r;
  fuv__set_cloexec(fd);
  fuv__stream_open(&pipe->stream, fd, flags);
  return 0;
}

/* ---- names ---------------------------------------------------------------- */

int fuv__pipe_addr(const char *name, size_t namelen, struct sockaddr *sa,
                   socklen_t *len) {
  struct sockaddr_un *sun = (struct sockaddr_un *)sa;
  if (name == NULL || namelen == 0)
    return FUV_EINVAL;
  /* No NUL after the first byte: a path would be cut short by it, an
   * abstract name would not be the one the caller sees as text. */
  if (memchr(name + 1, '\0', namelen - 1) != NULL)
    return FUV_EINVAL;
  /* A path needs room for its NUL, an abstract name does not. */
  if (namelen + (name[0] != '\0') > sizeof sun->sun_path)
    return FUV_ENAMETOOLONG;
  memset(sun, 0, sizeof *sun);
  sun->sun_family = AF_UNIX;
  memcpy(sun->sun_path, name, namelen);
  *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + namelen);
  return 0;
}

int fuv_pipe_bind2(fuv_pipe_t *pipe, const char *name, size_t namelen,
                   unsigned int flags) {
  struct sockaddr_storage ss;
  socklen_t len;
  char *path = NULL;
  int r = fuv__pipe_check(pipe);
  if (r != 0)
    return r;
  if (flags != 0)
    return FUV_EINVAL;
  r = fuv__pipe_addr(name, namelen, (struct sockaddr *)&ss, &len);
  if (r != 0)
    return r;
  if (pipe->stream.handle.flags &
      (FUV__STREAM_BOUND | FUV__STREAM_CONNECTED | FUV__STREAM_CONNECTING))
    return FUV_EINVAL;
  if (name[0] != '\0') {
    path = malloc(namelen + 1);
    if (path == NULL)
      return FUV_ENOMEM;
    memcpy(path, name, namelen);
    path[namelen] = '\0';
  }
  r = fuv__pipe_ensure_socket(pipe);
  if (r == 0 && bind(pipe->stream.io.fd, (struct sockaddr *)&ss, len) != 0)
    r = fuv__errno();
  if (r != 0) {
    free(path);
    return r;
  }
  pipe->bound_path = path;
  pipe->stream.handle.flags |= FUV__STREAM_BOUND;
  return 0;
}

int fuv_pipe_bind(fuv_pipe_t *pipe, const char *name) {
  int r = fuv__pipe_check(pipe);
  if (r != 0)
    return r;
  if (name == NULL)
    return FUV_EINVAL;
  return fuv_pipe_bind2(pipe, name, strlen(name), 0);
}

static int pipe_connect(fuv_pipe_t *pipe, const char *name, size_t namelen,
                        unsigned int flags, fuv_pipe_connect_cb cb, void *arg,
                        fuv_req_t **req) {
  struct sockaddr_storage ss;
  socklen_t len;
  unsigned f;
  int r = fuv__pipe_check(pipe);
  if (req != NULL)
    *req = NULL;
  if (r != 0)
    return r;
  if (flags != 0)
    return FUV_EINVAL;
  r = fuv__pipe_addr(name, namelen, (struct sockaddr *)&ss, &len);
  if (r != 0)
    return r;
  f = pipe->stream.handle.flags;
  if (f & FUV__STREAM_CONNECTING)
    return FUV_EALREADY;
  if (f & FUV__STREAM_CONNECTED)
    return FUV_EISCONN;
  if (f & FUV__STREAM_LISTENING)
    return FUV_EINVAL;
  r = fuv__pipe_ensure_socket(pipe);
  if (r != 0)
    return r;
  r = fuv__stream_connect(&pipe->stream, (struct sockaddr *)&ss, len, req);
  if (r == 0) {
    pipe->connect_cb = cb;
    pipe->connect_arg = arg;
  }
  return r;
}

int fuv_pipe_connect2(fuv_pipe_t *pipe, const char *name, size_t namelen,
                      unsigned int flags, fuv_pipe_connect_cb cb, void *arg) {
  return pipe_connect(pipe, name, namelen, flags, cb, arg, NULL);
}

int fuv_pipe_connect(fuv_pipe_t *pipe, const char *name,
                     fuv_pipe_connect_cb cb, void *arg) {
  return pipe_connect(pipe, name, name != NULL ? strlen(name) : 0, 0, cb, arg,
                      NULL);
}

int fuv_pipe_connect_req(fuv_pipe_t *pipe, const char *name,
                         fuv_pipe_connect_cb cb, void *arg, fuv_req_t **req) {
  if (req == NULL)
    return FUV_EINVAL;
  return pipe_connect(pipe, name, name != NULL ? strlen(name) : 0, 0, cb, arg,
                      req);
}

typedef int (*name_fn)(int, struct sockaddr *, socklen_t *);

/* Reads the socket's (or peer's) name: its bytes at sun->sun_path and its
 * length, without a path's trailing NUL. */
static int read_name(const fuv_pipe_t *pipe, name_fn fn,
                     struct sockaddr_un *sun, size_t *namelen) {
  socklen_t len = sizeof *sun;
  size_t n;
  if (pipe->stream.io.fd < 0)
    return FUV_EBADF;
  memset(sun, 0, sizeof *sun);
  if (fn(pipe->stream.io.fd, (struct sockaddr *)sun, &len) != 0)
    return fuv__errno();
  n = len > offsetof(struct sockaddr_un, sun_path)
          ? len - offsetof(struct sockaddr_un, sun_path)
          : 0;
  if (n > 0 && sun->sun_path[0] != '\0')
    n = strnlen(sun->sun_path, n);
  *namelen = n;
  return 0;
}

static int get_name(const fuv_pipe_t *pipe, name_fn fn, char *buf,
                    size_t size, size_t *len) {
  struct sockaddr_un sun;
  size_t n, need;
  int r = fuv__pipe_check(pipe);
  if (r != 0)
    return r;
  if (len == NULL || (buf == NULL && size > 0))
    return FUV_EINVAL;
  r = read_name(pipe, fn, &sun, &n);
  if (r != 0)
    return r;
  /* A path is a C string and needs its NUL; an abstract name is bytes,
   * NUL-terminated only when there is room. */
  need = n > 0 && sun.sun_path[0] == '\0' ? n : n + 1;
  if (size < need) {
    *len = need;
    return FUV_ENOBUFS;
  }
  memcpy(buf, sun.sun_path, n);
  if (n < size)
    buf[n] = '\0';
  *len = n;
  return 0;
}

int fuv_pipe_getsockname(const fuv_pipe_t *pipe, char *buf, size_t size,
                         size_t *len) {
  return get_name(pipe, getsockname, buf, size, len);
}

int fuv_pipe_getpeername(const fuv_pipe_t *pipe, char *buf, size_t size,
                         size_t *len) {
  return get_name(pipe, getpeername, buf, size, len);
}

int fuv_pipe_pending_instances(fuv_pipe_t *pipe, int count) {
  (void)count;
  return fuv__pipe_check(pipe);
}

int fuv_pipe_chmod(fuv_pipe_t *pipe, int flags) {
  struct sockaddr_un sun;
  struct stat st;
  mode_t want = 0;
  size_t n;
  int r = fuv__pipe_check(pipe);
  if (r != 0)
    return r;
  if (flags == 0 || (flags & ~(FUV_READABLE | FUV_WRITABLE)))
    return FUV_EINVAL;
  r = read_name(pipe, getsockname, &sun, &n);
  if (r == FUV_EBADF || r == FUV_ENOTSOCK)
    return FUV_EINVAL;
  if (r != 0)
    return r;
  if (n == 0 || sun.sun_path[0] == '\0')
    return FUV_EINVAL; /* unbound, or an abstract name: no file */
  if (flags & FUV_READABLE)
    want |= S_IRUSR | S_IRGRP | S_IROTH;
  if (flags & FUV_WRITABLE)
    want |= S_IWUSR | S_IWGRP | S_IWOTH;
  if (stat(sun.sun_path, &st) != 0)
    return fuv__errno();
  if ((st.st_mode & want) == want)
    return 0;
  if (chmod(sun.sun_path, (st.st_mode | want) & 07777) != 0)
    return fuv__errno();
  return 0;
}

int fuv_pipe_pending_count(fuv_pipe_t *pipe) {
  if (fuv__handle_check_any((const fuv_handle_t *)pipe, FUV_PIPE) != 0 ||
      !pipe->ipc)
    return 0;
  return (int)(pipe->pending_count - pipe->pending_head);
}

fuv_handle_type_t fuv_pipe_pending_type(fuv_pipe_t *pipe) {
  const fuv__stream_ops_t *ops;
  if (fuv_pipe_pending_count(pipe) == 0)
    return FUV_UNKNOWN_HANDLE;
  (void)pipe_pending_peek(&pipe->stream, &ops);
  return ops->type;
}

int fuv_pipe(int *read_fd, int *write_fd, int read_flags, int write_flags) {
  int fds[2];
  if (read_fd == NULL || write_fd == NULL ||
      (read_flags & ~FUV_NONBLOCK_PIPE) || (write_flags & ~FUV_NONBLOCK_PIPE))
    return FUV_EINVAL;
  if (pipe2(fds, O_CLOEXEC) != 0)
    return fuv__errno();
  if (((read_flags & FUV_NONBLOCK_PIPE) && fuv__set_nonblock(fds[0], 1) != 0) ||
      ((write_flags & FUV_NONBLOCK_PIPE) && fuv__set_nonblock(fds[1], 1) != 0)) {
    int err = fuv__errno();
    fuv__close_fd(fds[0]);
    fuv__close_fd(fds[1]);
    return err;
  }
  *read_fd = fds[0];
  *write_fd = fds[1];
  return 0;
}
