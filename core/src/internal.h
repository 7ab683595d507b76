/*
 * Internal definitions shared by the core's source files. Nothing here is
 * public: the structs are complete only inside the library, which is what
 * lets their layout change without breaking callers.
 */
#ifndef FLATUV_INTERNAL_H
#define FLATUV_INTERNAL_H

#include "flatuv.h"

#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>

#define FUV__UNUSED(x) ((void)(x))

/* Every handle starts with this tag; a freed handle has it cleared, which
 * catches some (not all) uses after free in debug builds. */
#define FUV__HANDLE_MAGIC 0x66757648u /* "fuvH" */

/* The size of the loop-owned read buffer handed to every read callback.
 * A read that fills it is followed by another read, so it is larger than
 * the messages a server commonly sees (64 KiB would cost an extra read
 * returning EAGAIN for every 64 KiB message). */
#define FUV__READ_BUFFER_SIZE (256 * 1024)

/* The most reads, or accepts, that one readiness event performs (libuv's
 * cap too). A peer that never stops sending or connecting then waits its
 * turn: polling is level-triggered, so what is left is reported again in
 * the next iteration, after the timers and the other handles had theirs. */
#define FUV__MAX_READS_PER_EVENT 32

/* Write queue buffers at most this large are kept for reuse when the queue
 * empties, so a connection that is only briefly backed up never allocates
 * again; larger ones are freed so that idle connections stay small. */
#define FUV__KEEP_WRITE_BUFFER (16 * 1024)

/* Requests kept on the loop's free list for reuse. */
#define FUV__MAX_FREE_WRITE_REQS 1024

/* ---- intrusive doubly linked list -------------------------------------- */

typedef struct fuv__queue_s {
  struct fuv__queue_s *next;
  struct fuv__queue_s *prev;
} fuv__queue_t;

#define FUV__CONTAINER_OF(ptr, type, member)                                 \
  ((type *)((char *)(ptr) - offsetof(type, member)))

void fuv__queue_init(fuv__queue_t *q);
int fuv__queue_empty(const fuv__queue_t *q);
void fuv__queue_insert_tail(fuv__queue_t *head, fuv__queue_t *q);
void fuv__queue_remove(fuv__queue_t *q);
/* Moves every element of from (left empty) to the empty head to. */
void fuv__queue_move(fuv__queue_t *from, fuv__queue_t *to);

/* ---- I/O watchers and the backend interface ------------------------------ */

enum {
  FUV__POLLIN = 1,
  FUV__POLLOUT = 2,
  /* Reported only, never requested: hang-up or error on the fd. */
  FUV__POLLHUP = 4,
  FUV__POLLERR = 8
};

typedef struct fuv__io_s fuv__io_t;
typedef void (*fuv__io_cb)(fuv_loop_t *loop, fuv__io_t *w, unsigned events);

struct fuv__io_s {
  fuv__io_cb cb;
  int fd;
  unsigned wanted;     /* FUV__POLLIN | FUV__POLLOUT the owner asks for */
  unsigned registered; /* what the backend currently has */
  int backend_index;   /* poll backend: slot in its pollfd array, else -1 */
  fuv__queue_t dirty;  /* on loop->dirty_watchers while wanted != registered */
};

void fuv__io_init(fuv__io_t *w, fuv__io_cb cb, int fd);
/* Ask for (start) or stop asking for (stop) the given events. Both only
 * record the wish; the backend applies it just before it next polls, so a
 * start and stop in one iteration cost no system call. */
void fuv__io_start(fuv_loop_t *loop, fuv__io_t *w, unsigned events);
void fuv__io_stop(fuv_loop_t *loop, fuv__io_t *w, unsigned events);
/* Forget the watcher entirely before its fd is closed or detached: removes
 * it from the backend now and drops any event already fetched for it. */
void fuv__io_close(fuv_loop_t *loop, fuv__io_t *w);

/* A backend's wait returned EINTR: FUV_EINTR if the loop is interruptible,
 * else 0 with *timeout set to what is left of it. */
int fuv__poll_interrupted(fuv_loop_t *loop, int *timeout);
/* Applies every pending start/stop to the backend; the backends call it
 * right before they wait. */
void fuv__io_flush(fuv_loop_t *loop);

/* The backend: epoll.c or poll.c, chosen at build time. */
int fuv__backend_init(fuv_loop_t *loop);
void fuv__backend_free(fuv_loop_t *loop);
int fuv__backend_fd(const fuv_loop_t *loop);
/* Applies the wanted mask of w (registered becomes wanted). */
int fuv__backend_update(fuv_loop_t *loop, fuv__io_t *w);
/* Removes w from the backend and invalidates its fetched events. */
void fuv__backend_remove(fuv_loop_t *loop, fuv__io_t *w);
/* Waits at most timeout ms (-1: for ever) and dispatches events. Returns 0,
 * or FUV_EINTR when interrupted and the loop is interruptible. */
int fuv__backend_poll(fuv_loop_t *loop, int timeout);

/* ---- handles ------------------------------------------------------------- */

enum {
  FUV__HANDLE_ACTIVE = 1u << 0,
  FUV__HANDLE_REF = 1u << 1,
  FUV__HANDLE_CLOSING = 1u << 2,
  FUV__HANDLE_PENDING = 1u << 3, /* on loop->pending_handles */

  /* Stream states. */
  FUV__STREAM_CONNECTING = 1u << 8,
  FUV__STREAM_CONNECTED = 1u << 9,
  FUV__STREAM_LISTENING = 1u << 10,
  FUV__STREAM_READING = 1u << 11,
  FUV__STREAM_READABLE = 1u << 12,
  FUV__STREAM_WRITABLE = 1u << 13,
  FUV__STREAM_SHUTTING = 1u << 14, /* shutdown requested, not yet done */
  FUV__STREAM_SHUT = 1u << 15,     /* write side shut down */
  FUV__STREAM_BOUND = 1u << 16,
  FUV__STREAM_CONGESTED = 1u << 17,
  FUV__STREAM_ACCEPT_PAUSED = 1u << 18 /* delayed accept */
};

typedef void (*fuv__close_fn)(fuv_handle_t *handle);
typedef void (*fuv__pending_fn)(fuv_handle_t *handle);

struct fuv_handle_s {
  uint32_t magic;
  fuv_handle_type_t type;
  unsigned flags;
  fuv_loop_t *loop;
  void *data;
  fuv_close_cb close_cb;
  void *close_arg;
  fuv__queue_t handle_queue;  /* on loop->handles while not freed */
  fuv__queue_t pending_queue; /* on loop->pending_handles */
  fuv__queue_t closing_queue; /* on loop->closing_handles */
  fuv__pending_fn on_pending; /* runs deferred callbacks */
  fuv__close_fn on_finish_close; /* kind-specific last rites */
};

/* Checks that h is a live handle of the given kind (FUV_UNKNOWN_HANDLE:
 * any kind) and not closing. Returns 0 or FUV_EINVAL. */
int fuv__handle_check(const fuv_handle_t *h, fuv_handle_type_t type);
/* Like fuv__handle_check but a closing handle passes. */
int fuv__handle_check_any(const fuv_handle_t *h, fuv_handle_type_t type);
void fuv__handle_init(fuv_loop_t *loop, fuv_handle_t *h,
                      fuv_handle_type_t type, fuv__close_fn on_finish_close);
/* Mark active / inactive, keeping the loop's count of referenced active
 * handles in step. */
void fuv__handle_start(fuv_handle_t *h);
void fuv__handle_stop(fuv_handle_t *h);
/* Queue h so that its on_pending runs in the loop's pending phase. */
void fuv__handle_make_pending(fuv_handle_t *h);
/* The last step of a close, from the loop's closing phase. */
void fuv__handle_finish_close(fuv_handle_t *h);

/* ---- timers -------------------------------------------------------------- */

struct fuv_timer_s {
  fuv_handle_t handle;
  fuv_timer_cb cb;
  void *arg;
  uint64_t due;
  uint64_t repeat;
  uint64_t start_id; /* breaks ties between equal due times: FIFO */
  size_t heap_index; /* position in loop->timer_heap while active */
};

void fuv__run_timers(fuv_loop_t *loop);
/* Milliseconds until the earliest timer, or -1 if none. */
int fuv__next_timeout(const fuv_loop_t *loop);

/* ---- async --------------------------------------------------------------- */

struct fuv_async_s {
  fuv_handle_t handle;
  fuv_async_cb cb;
  void *arg;
  int pending; /* set by any thread with an atomic exchange */
  fuv__queue_t async_queue;
};

/* Closes the loop's async and wake-up fds. */
void fuv__async_loop_free(fuv_loop_t *loop);
/* Opens the loop's async wake-up fd if it has none yet: 0 or FUV_E*. */
int fuv__async_ensure(fuv_loop_t *loop);
/* Wakes the loop through that fd, from any thread: 0 or FUV_E*. */
int fuv__async_wake(fuv_loop_t *loop);

/* ---- prepare, check and idle ------------------------------------------------ */

/* The three kinds share one implementation (watcher.c); the kind says
 * which of the loop's queues an active handle is on, and so at which point
 * of an iteration its callback runs. */
typedef enum {
  FUV__WATCHER_IDLE,
  FUV__WATCHER_PREPARE,
  FUV__WATCHER_CHECK,
  FUV__WATCHER_KINDS
} fuv__watcher_kind_t;

typedef struct {
  fuv_handle_t handle;
  union {
    fuv_prepare_cb prepare;
    fuv_check_cb check;
    fuv_idle_cb idle;
  } cb; /* the member of the handle's type */
  void *arg;
  fuv__queue_t queue; /* on loop->watcher_handles[kind] while active */
} fuv__watcher_t;

struct fuv_prepare_s {
  fuv__watcher_t watcher;
};
struct fuv_check_s {
  fuv__watcher_t watcher;
};
struct fuv_idle_s {
  fuv__watcher_t watcher;
};

/* Runs the callbacks of the kind's active handles: fuv_run()'s idle,
 * prepare and check phases. */
void fuv__watchers_run(fuv_loop_t *loop, fuv__watcher_kind_t kind);
/* 1 if an idle handle is active, which keeps the wait from blocking. */
int fuv__watchers_idle(const fuv_loop_t *loop);
/* Stops a handle of any of the three kinds (fuv_close()'s part). */
void fuv__watcher_stop(fuv__watcher_t *w);

/* ---- streams ------------------------------------------------------------- */

/* Stream flags beyond the handle section's stream states. */
enum {
  /* The fd is not a socket (a pipe(2) end): it is written with write(2)
   * under a blocked SIGPIPE instead of send(MSG_NOSIGNAL). */
  FUV__STREAM_RAW_FD = 1u << 19,
  /* The stream carries fds (an IPC pipe): reads go through ops->recv. */
  FUV__STREAM_IPC = 1u << 20
};

typedef struct fuv__write_req_s fuv__write_req_t;
struct fuv__write_req_s {
  fuv__write_req_t *next;
  fuv_write_cb cb;
  void *arg;
  size_t remaining; /* bytes of this write still in the stream's buffer */
  size_t len;       /* bytes of this write still owed when queued */
  int status;
  int send_fd;      /* fuv_write2: the fd to pass with the first byte, or -1 */
  fuv_req_t *req;   /* the caller's request object, or NULL */
};

/* A FIFO of write requests by their next pointers. */
typedef struct {
  fuv__write_req_t *head;
  fuv__write_req_t *tail;
} fuv__write_list_t;

/* What differs between the kinds of stream, for the rare paths only: the
 * per-read and per-write paths never go through this table. */
typedef struct fuv__stream_ops_s {
  fuv_handle_type_t type;
  /* Runs the kind's connect callback (each kind has its own C type of it)
   * with status, once: the callback is cleared before it runs. */
  void (*report_connect)(fuv_stream_t *s, int status);
  /* Creates a handle of this kind around an accepted or received,
   * non-blocking fd; server is the stream it came from. */
  int (*new_from_fd)(fuv_stream_t **out, fuv_stream_t *server, int fd,
                     unsigned flags);
  /* IPC streams: reads like read(2), queueing the fds that come along. */
  ssize_t (*recv)(fuv_stream_t *s, char *buf, size_t len);
  /* IPC streams: the next received fd and the ops of its kind, or -1 and
   * NULL; pop removes it once it has a handle. */
  int (*pending_peek)(fuv_stream_t *s, const struct fuv__stream_ops_s **ops);
  void (*pending_pop)(fuv_stream_t *s);
} fuv__stream_ops_t;

struct fuv_stream_s {
  fuv_handle_t handle;
  fuv__io_t io;
  const fuv__stream_ops_t *ops;

  fuv_read_cb read_cb;
  void *read_arg;

  fuv_connection_cb connection_cb;
  void *connection_arg;
  int accepted_fd; /* accepted and not yet handed to fuv_accept, or -1 */
  int delayed_error; /* e.g. EADDRINUSE from bind, reported by listen/connect */

  /* A connect in flight (FUV__STREAM_CONNECTING). */
  int connect_status; /* result when done, reported from pending phase */
  int connect_done;
  fuv_req_t *connect_req;

  /* Bytes accepted for writing and not yet handed to the kernel, in order,
   * at write_buf[write_head .. write_tail). */
  char *write_buf;
  size_t write_head;
  size_t write_tail;
  size_t write_cap;
  fuv__write_list_t write_queue; /* requests with bytes still queued */
  fuv__write_list_t write_done;  /* finished; callbacks not yet run */
  size_t send_fds; /* queued requests that carry an fd (fuv_write2) */

  fuv_shutdown_cb shutdown_cb;
  void *shutdown_arg;
  int shutdown_status; /* result once done; reported from pending phase */
  int shutdown_done;
  fuv_req_t *shutdown_req;
  /* A shutdown withdrawn by fuv_cancel, its callback not yet run. */
  fuv_shutdown_cb canceled_shutdown_cb;
  void *canceled_shutdown_arg;
  fuv_req_t *canceled_shutdown_req;
  int shutdown_canceled;

  size_t high_water;
  size_t low_water;
  fuv_drain_cb drain_cb;
  void *drain_arg;
  int drain_pending;
};

int fuv__stream_init(fuv_loop_t *loop, fuv_stream_t *s, fuv_handle_type_t type,
                     const fuv__stream_ops_t *ops,
                     fuv__close_fn on_finish_close);
/* Starts using fd as the stream's socket with the given stream flags. The
 * fd must already be non-blocking: sockets the library creates or accepts
 * are made so by the system call itself, which saves an fcntl for each. */
void fuv__stream_open(fuv_stream_t *s, int fd, unsigned flags);
/* Stops all I/O, closes (unless detaching) the fd and queues cancellation
 * of pending callbacks. */
void fuv__stream_close(fuv_stream_t *s);
/* Runs from finish_close: completes every pending request with
 * FUV_ECANCELED (or its earlier result) in order, then frees buffers. */
void fuv__stream_destroy(fuv_stream_t *s);
/* Recomputes whether the stream counts as active. */
void fuv__stream_update_active(fuv_stream_t *s);
/* Starts a non-blocking connect of the stream's socket to addr; the result
 * reaches the kind's report_connect from fuv_run(), never from this call. */
int fuv__stream_connect(fuv_stream_t *s, const struct sockaddr *addr,
                        socklen_t len, fuv_req_t **req);
/* Marks a connect as succeeded (flags, queued writes); shared by the
 * asynchronous and the synchronous connect. */
void fuv__stream_set_connected(fuv_stream_t *s);
/* Dissolves a failed or abandoned connect so the socket can connect again.
 * Returns 0, or the error of a socket that cannot dissolve one (AF_UNIX). */
int fuv__stream_reset_connect(int fd);
/* Returns the stream's fd or -1. */
static inline int fuv__stream_fd(const fuv_stream_t *s) { return s->io.fd; }
/* Checks s is a live stream (TCP or pipe), not closing. */
int fuv__stream_check(const fuv_stream_t *s);
/* The flags of a connection just accepted or connected. */
#define FUV__STREAM_CONNECTED_FLAGS                                          \
  (FUV__STREAM_CONNECTED | FUV__STREAM_READABLE | FUV__STREAM_WRITABLE |    \
   FUV__STREAM_BOUND)
/* Creates the handle of the server's kind for a connection accepted
 * synchronously (sync.c). */
int fuv__stream_accept_fd(fuv_stream_t *server, int fd,
                          fuv_stream_t **client);
/* write(2) to a non-socket fd without raising SIGPIPE: -1 with errno set
 * on failure, as write. */
ssize_t fuv__write_nosigpipe(int fd, const void *buf, size_t len);
/* The common body of every write: send_fd >= 0 passes an fd (fuv_write2),
 * req (may be NULL) receives a request object. */
int fuv__stream_write(fuv_stream_t *s, const char *const *bufs,
                      const size_t *lens, size_t nbufs, int send_fd,
                      fuv_write_cb cb, void *arg, fuv_req_t **req);
int fuv__stream_shutdown(fuv_stream_t *s, fuv_shutdown_cb cb, void *arg,
                         fuv_req_t **req);
/* fuv_cancel's stream parts: 0 or FUV_EBUSY. */
int fuv__stream_cancel_write(fuv_stream_t *s, fuv__write_req_t *w);
int fuv__stream_cancel_connect(fuv_stream_t *s);
int fuv__stream_cancel_shutdown(fuv_stream_t *s);

/* ---- TCP ----------------------------------------------------------------- */

enum {
  FUV__TCP_WANT_NODELAY = 1,
  FUV__TCP_WANT_KEEPALIVE = 2
};

struct fuv_tcp_s {
  fuv_stream_t stream;
  unsigned pending_opts; /* options to apply when the socket is created */
  unsigned keepalive_idle, keepalive_interval, keepalive_count;
  fuv_connect_cb connect_cb;
  void *connect_arg;
};

extern const fuv__stream_ops_t fuv__tcp_ops;

int fuv__tcp_check(const fuv_tcp_t *tcp);
/* Makes sure the handle has a socket of the given family, creating one if
 * needed. FUV_EINVAL if it has one of another family. */
int fuv__tcp_ensure_socket(fuv_tcp_t *tcp, int family);
int fuv__tcp_connect_addr(fuv_tcp_t *tcp, const struct sockaddr *addr,
                          fuv_connect_cb cb, void *arg, fuv_req_t **req);

/* ---- pipes --------------------------------------------------------------- */

struct fuv_pipe_s {
  fuv_stream_t stream;
  int ipc;
  fuv_pipe_connect_cb connect_cb;
  void *connect_arg;
  char *bound_path; /* a filesystem name bound, unlinked at close, or NULL */
  /* Received fds not yet accepted, in order: pending_fds[head .. count). */
  int *pending_fds;
  size_t pending_head;
  size_t pending_count;
  size_t pending_cap;
};

extern const fuv__stream_ops_t fuv__pipe_ops;

int fuv__pipe_check(const fuv_pipe_t *pipe);
/* Builds the sockaddr_un of a name of namelen bytes (abstract when its
 * first byte is NUL). FUV_EINVAL, FUV_ENAMETOOLONG. */
int fuv__pipe_addr(const char *name, size_t namelen, struct sockaddr *sa,
                   socklen_t *len);
/* Gives the pipe an AF_UNIX socket if it has none. */
int fuv__pipe_ensure_socket(fuv_pipe_t *pipe);

/* ---- UDP ----------------------------------------------------------------- */

/* UDP states, in the handle's flags (the stream states' bits). */
enum {
  FUV__UDP_RECVMMSG = 1u << 8,  /* receive with recvmmsg(2) */
  FUV__UDP_CONNECTED = 1u << 9, /* connect()ed to one peer */
  FUV__UDP_READING = 1u << 10,  /* fuv_udp_recv_start() */
  FUV__UDP_RECV_DEST = 1u << 11, /* ask for each datagram's destination */
  FUV__UDP_RECV_TOS = 1u << 12,  /* ask for each datagram's TOS byte */
  FUV__UDP_GRO = 1u << 13,       /* UDP_GRO: split what the kernel joined */
  FUV__UDP_GRO_OFF = 1u << 14    /* GRO turned off: reported so, kept on */
};

/* A send: queued (with a copy of its datagram) or done and waiting for its
 * callback. Records are reused from the handle's free list. */
typedef struct fuv__udp_send_s fuv__udp_send_t;
struct fuv__udp_send_s {
  fuv__udp_send_t *next;
  fuv_udp_send_cb cb;
  void *arg;
  int status;
  size_t len;
  char *data; /* the queued copy, else NULL */
  struct sockaddr_storage addr;
  socklen_t addrlen; /* 0: to the connected peer */
  fuv_req_t *req;    /* the caller's request object, or NULL */
};

typedef struct {
  fuv__udp_send_t *head;
  fuv__udp_send_t *tail;
} fuv__udp_send_list_t;

struct fuv_udp_s {
  fuv_handle_t handle;
  fuv__io_t io;
  fuv_udp_recv_cb recv_cb;
  void *recv_arg;
  size_t max_datagram;
  fuv__udp_send_list_t queue; /* not yet sent, in order */
  fuv__udp_send_list_t done;  /* sent or failed; callbacks not yet run */
  size_t queue_size;
  size_t queue_count;
  fuv__udp_send_t *free_sends;
  size_t nfree_sends;
  int family;     /* of the socket, once there is one */
  int local_port; /* cached for fuv_udp_recv_dest(), 0 until known */
  /* The address bound before connecting, which a disconnect returns to
   * with the connected port (the kernel drops a port it picked itself). */
  struct sockaddr_storage unconnected_addr;
  /* What the kernel said of the datagram being delivered, valid while
   * delivering. */
  int delivering;
  int dest_valid;
  int tos; /* -1 when not reported */
  struct sockaddr_storage dest;
  /* The datagrams of a GRO buffer not yet handed out (the callback stopped
   * receiving part-way, or a synchronous receive took the first), or NULL:
   * they go out before anything read later. */
  struct fuv__udp_rest_s *rest;
};

/* What is left of a GRO buffer: its datagrams data[off..len) of segment
 * bytes each (the last may be shorter), with what the kernel said of them. */
typedef struct fuv__udp_rest_s {
  size_t len, off, segment;
  unsigned flags; /* FUV_UDP_PARTIAL for the last, if the buffer was cut */
  int dest_valid;
  int tos;
  struct sockaddr_storage from;
  struct sockaddr_storage dest;
  char data[];
} fuv__udp_rest_t;

int fuv__udp_check(const fuv_udp_t *udp);
void fuv__udp_close(fuv_udp_t *udp);
/* Recomputes whether the handle counts as active. */
void fuv__udp_update_active(fuv_udp_t *udp);
/* Receives what the socket has, for a readable event (udp_recv.c). */
void fuv__udp_read(fuv_udp_t *udp);
/* Frees the loop's receive batch area, if any. */
void fuv__udp_loop_free(fuv_loop_t *loop);
/* Keeps the datagrams of a GRO buffer from off on, for later delivery;
 * FUV_ENOMEM if it cannot (they are then lost, as a full socket buffer
 * loses datagrams). */
int fuv__udp_rest_keep(fuv_udp_t *udp, const char *buf, size_t n,
                       size_t off, size_t segment, unsigned flags,
                       const struct sockaddr_storage *from);
/* Takes the next datagram of the rest: its length and where it is; frees
 * the rest after its last one. Sets the handle's destination and TOS. */
size_t fuv__udp_rest_take(fuv_udp_t *udp, const char **data, unsigned *flags,
                          struct sockaddr_storage *from);
/* Frees the rest once its last datagram was taken: only then, so that
 * data taken from it stays valid while it is being handed out. */
void fuv__udp_rest_release_if_done(fuv_udp_t *udp);
/* Delivers the rest to the receive callback while it receives. */
void fuv__udp_rest_deliver(fuv_udp_t *udp);
/* Receives one datagram for fuv_udp_recv_sync(): from the rest of a GRO
 * buffer first, else from the socket. Returns its length (cut to len), or
 * an error (FUV_EAGAIN when there is none yet). */
int fuv__udp_recv_one(fuv_udp_t *udp, char *buf, size_t len,
                      struct sockaddr_storage *from);
/* The segment size the ancillary data of a received message gives (0 for
 * none), after storing its destination and TOS in the handle. */
int fuv__udp_parse_control(fuv_udp_t *udp, struct msghdr *msg);
/* Validates a send of len bytes to addr (NULL: the connected peer) and
 * gives the handle a socket for it; *addrlen is 0 for the peer. Shared by
 * the asynchronous and the synchronous send. */
int fuv__udp_prepare_send(fuv_udp_t *udp, size_t len,
                          const struct sockaddr *addr, socklen_t *addrlen);
/* sendto(2) of one datagram: its length or -errno. */
int fuv__udp_sendto(int fd, const char *data, size_t len,
                    const struct sockaddr *addr, socklen_t addrlen);
/* Binds a socket that has no address yet to its family's wildcard and a
 * free port (creating an IPv4 socket when there is none), as libuv does
 * before receiving. */
int fuv__udp_ensure_bound(fuv_udp_t *udp);
/* fuv_cancel's part: 0, or FUV_EBUSY once the datagram has gone. */
int fuv__udp_cancel_send(fuv_udp_t *udp, fuv__udp_send_t *send);

/* ---- requests ------------------------------------------------------------ */

/* A request object: one reference is the caller's, one the operation's
 * while it is in flight. It never points into freed memory: the stream
 * forgets it (fuv__req_done) before its callback runs. */
struct fuv_req_s {
  fuv_req_type_t type;
  int refs;
  fuv_stream_t *stream;   /* while in flight, else NULL */
  fuv__write_req_t *write; /* FUV_WRITE in flight */
  fuv_udp_t *udp;          /* FUV_UDP_SEND in flight, else NULL */
  fuv__udp_send_t *send;   /* FUV_UDP_SEND in flight */
  struct fuv__work_s *work; /* FUV_WORK in flight, else NULL */
};

/* Creates a request of the given type in flight on s (refs 2), or NULL. */
fuv_req_t *fuv__req_new(fuv_req_type_t type, fuv_stream_t *s);
/* The operation is over: drops its reference. NULL is ignored. */
void fuv__req_done(fuv_req_t *req);

/* ---- the worker pool (threadpool.c) --------------------------------------- */

/* What a work item is, which says which of the pool's queues it waits on:
 * slow I/O (DNS lookups) may occupy at most half of the threads, so that
 * slow lookups cannot starve the rest. */
typedef enum {
  FUV__WORK_CPU,
  FUV__WORK_SLOW_IO,
  FUV__WORK_KINDS
} fuv__work_kind_t;

typedef struct fuv__work_s fuv__work_t;

/* Queues work_cb(arg) of the given kind, and then after_cb from the loop's
 * async phase; req (may be NULL) receives a FUV_WORK request. The body of
 * fuv_queue_work_req, for the pool's other users (DNS). */
int fuv__work_submit(fuv_loop_t *loop, fuv__work_kind_t kind,
                     fuv_work_cb work_cb, fuv_after_work_cb after_cb,
                     void *arg, fuv_req_t **req);
/* fuv_cancel's part: 0 when the work was still waiting, else FUV_EBUSY. */
int fuv__work_cancel(fuv__work_t *w);
/* Runs the after-callbacks of the loop's finished work (the async phase). */
void fuv__work_loop_done(fuv_loop_t *loop);
/* The loop is being freed with no work outstanding: the last loop that
 * used the pool stops it. */
void fuv__work_loop_free(fuv_loop_t *loop);

/* ---- the loop ------------------------------------------------------------ */

struct fuv_loop_s {
  void *data;
  unsigned active_handles; /* active and referenced */
  fuv__queue_t handles;
  fuv__queue_t pending_handles;
  fuv__queue_t closing_handles;
  fuv__queue_t dirty_watchers;
  int stop_flag;
  int running;
  int walking; /* fuv_walk() depth: no handle may be freed meanwhile */
  int interruptible;
  uint64_t time;

  /* Timers: a binary min-heap by (due, start_id). */
  fuv_timer_t **timer_heap;
  size_t timer_count;
  size_t timer_cap;
  uint64_t timer_counter;

  /* Async: one wake-up fd for every async handle of the loop. */
  fuv__queue_t async_handles;
  fuv__io_t async_io;
  int async_wfd; /* write end (== read end for eventfd), or -1 */

  /* The wake-up pipe of fuv_loop_wakeup_fd(), and whether it was written. */
  fuv__io_t wakeup_io;
  int wakeup_wfd;
  int woken;

  /* The fd → watcher table, shared by both backends. */
  fuv__io_t **watchers;
  size_t nwatchers;

  /* Backend state (epoll.c / poll.c). */
  int backend_fd;
  void *backend_events; /* epoll: the fetched event array */
  int backend_nevents;  /* epoll: events fetched in the current batch */
  void *backend_fds;    /* poll: the pollfd array */
  size_t backend_nfds;
  size_t backend_capfds;

  char *read_buf;
  int reserve_fd; /* a spare fd released to drain accepts on EMFILE */

  fuv__write_req_t *free_write_reqs;
  size_t nfree_write_reqs;

  /* The recvmmsg(2) area and headers that UDP handles share (udp.c),
   * allocated when the first FUV_UDP_RECVMMSG handle reads. */
  void *udp_batch;

  /* Active prepare, check and idle handles, one queue per kind. */
  fuv__queue_t watcher_handles[FUV__WATCHER_KINDS];
  /* How many idle handles are active: during the idle pass they are off
   * the queue above, and the count still says that the wait must not
   * block (fuv_backend_timeout() from an idle callback). */
  unsigned active_idles;
  fuv_run_mode_t mode; /* of the fuv_run() in progress */

  /* FUV_LOOP_BLOCK_SIGNAL: blocked while waiting, if any is set. */
  sigset_t blocked_signals;
  int blocks_signals; /* blocked_signals is not empty (POSIX cannot ask) */

  uint64_t metrics_loop_count;
  uint64_t metrics_events;
  uint64_t metrics_events_waiting; /* what the last wait returned */
  int metrics_idle_on;             /* FUV_METRICS_IDLE_TIME was given */
  uint64_t metrics_idle_time;      /* ns spent waiting since then */

  /* The worker pool: work queued and whose after-callback has not run
   * (keeps the loop alive), the pool's epoch in which this loop became
   * one of its users (0: not one; a fork starts a new epoch with none),
   * and the finished work, guarded by the pool's mutex. */
  unsigned active_work;
  unsigned pool_epoch;
  fuv__queue_t work_done;
};

/* The backends' wait, bracketed: the mask to wait with (the thread's own
 * plus the loop's blocked signals, written into *buf; NULL to leave the
 * thread's mask alone when none are blocked), and the metrics of the wait
 * (begin returns what end needs; end records the events the wait returned
 * and, when accounting, the idle time). */
const sigset_t *fuv__loop_wait_mask(const fuv_loop_t *loop, sigset_t *buf);
uint64_t fuv__metrics_wait_begin(const fuv_loop_t *loop, int timeout);
void fuv__metrics_wait_end(fuv_loop_t *loop, uint64_t begin, int nevents);

uint64_t fuv__hrtime_ms(void);
fuv__write_req_t *fuv__write_req_get(fuv_loop_t *loop);
void fuv__write_req_put(fuv_loop_t *loop, fuv__write_req_t *req);

/* ---- addresses and errors ------------------------------------------------ */

/* Parses ip and port (0-65535) into storage. FUV_EINVAL when malformed. */
int fuv__addr_parse(const char *ip, int port, struct sockaddr_storage *ss,
                    socklen_t *len);
/* As fuv__addr_parse for an optional address: a NULL ip gives a NULL
 * *addr (UDP's "the connected peer"), else *addr points into ss. */
int fuv__addr_parse_optional(const char *ip, int port,
                             struct sockaddr_storage *ss,
                             const struct sockaddr **addr);
/* Splits a sockaddr into text and port. */
int fuv__addr_unparse(const struct sockaddr *sa, char *ip, size_t iplen,
                      int *port);
/* -errno of the last failed system call. */
static inline int fuv__errno(void) { return -errno; }

/* Fetches the address of the socket (named or not) and splits it. The
 * *_addr form copies the sockaddr; *namelen is in/out. */
int fuv__fd_name(int fd, int peer, char *ip, size_t iplen, int *port);
int fuv__fd_name_addr(int fd, int peer, struct sockaddr *name, int *namelen);
/* The socket's address family (from its local address, so unbound sockets
 * too; sockopt.c). */
int fuv__socket_family(int fd, int *family);

/* Small fd helpers. */
int fuv__set_int_option(int fd, int level, int name, int value);
/* Returns the option's value (the options read this way are never
 * negative) or -errno. */
int fuv__get_int_option(int fd, int level, int name);
/* Reads and so clears SO_ERROR: 0 or the pending error as FUV_E*. */
int fuv__socket_error(int fd);
int fuv__set_nonblock(int fd, int on);
int fuv__set_cloexec(int fd);
void fuv__close_fd(int fd);

#endif /* FLATUV_INTERNAL_H */
