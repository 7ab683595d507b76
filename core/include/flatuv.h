/*
 * flatuv - libuv's loop / handle / timer / stream / TCP API behind a flat,
 * opaque-pointer ABI.
 *
 * This header is the whole public C API. Every object is created and freed
 * by the library and is known to callers only as a pointer to an incomplete
 * type, so a program or binding built against flatuv 1.0 keeps working with
 * any 1.x library without being rebuilt.
 *
 * Conventions that hold for every function below:
 *
 *  - Functions that can fail return int: 0 (or a non-negative count) on
 *    success, or a negative FUV_E* code. The codes are negative errno values
 *    named as in libuv, so FUV_ECONNREFUSED == -ECONNREFUSED.
 *  - Names are <prefix>_<object>_<verb> (fuv_tcp_bind, fuv_timer_start),
 *    except where libuv's own name is kept because libuv and luv users know
 *    it (fuv_listen, fuv_is_active, fuv_write_queue_size,
 *    fuv_get_send_buffer_size). These stay as they are in 1.0, with no
 *    aliases: a function is a method of the object its first parameter
 *    points to whatever its name, so the bindings' one naming rule
 *    (bindings/apigen/apigen/naming.py) gives stream.listen() and
 *    handle.get_send_buffer_size() from either spelling, and the Lua
 *    module's uv.* names are these C names without the prefix, as luv's
 *    are libuv's without uv_.
 *  - Constructors take the out-parameter first and allocate the object.
 *  - A callback is always a function pointer plus a `void *arg` given at
 *    registration; the arg is passed back as the callback's last parameter.
 *  - Callbacks never run inside the call that caused them: they run from
 *    fuv_run(). When a call that takes a callback returns an error, that
 *    callback is never called.
 *  - Every handle gets its turn: a callback that re-arms itself runs at most
 *    once per loop iteration (a send from an async callback, a 0 ms timer
 *    restarted in its callback, a write from a write callback, a close from
 *    a close callback all take effect in the next iteration), and reads and
 *    accepts stop after 32 per readiness event, so timers and other
 *    handles' I/O always run.
 *  - Handles are tagged with their kind. Every handle is a fuv_handle_t, and
 *    a TCP or pipe handle is also a fuv_stream_t: C callers cast, as with libuv,
 *    e.g. fuv_read_start((fuv_stream_t *)tcp, ...). The library checks the
 *    kind at run time: NULL, a handle of the wrong kind or a closing handle
 *    gives FUV_EINVAL (or FUV_EBADF / FUV_ENOTCONN where libuv would). It
 *    never asserts on misuse. A handle whose close callback has returned has
 *    been freed and must not be used again.
 *  - Getters that cannot fail in a useful way (fuv_is_active, fuv_now, ...)
 *    return a plain value and return 0 (or NULL) for an invalid handle.
 *  - The library never raises SIGPIPE.
 *  - A loop and its handles are not thread-safe: use them from one thread.
 *    The one exception is fuv_async_send(), which any thread may call.
 */
#ifndef FLATUV_H
#define FLATUV_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(FLATUV_STATIC) || !defined(__GNUC__)
#define FUV_EXTERN extern
#else
#define FUV_EXTERN extern __attribute__((visibility("default")))
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                  */
/* ------------------------------------------------------------------------ */

#define FUV_VERSION_MAJOR 1
#define FUV_VERSION_MINOR 0
#define FUV_VERSION_PATCH 0

/* Returns (major << 16) | (minor << 8) | patch of the library at run time. */
FUV_EXTERN unsigned int fuv_version(void);
/* Returns the run-time library version as "major.minor.patch". */
FUV_EXTERN const char *fuv_version_string(void);

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * The one table of error codes: name, value and message. It produces the
 * fuv_errno_t enum, fuv_err_name() and fuv_strerror(), so the three can never
 * disagree. Values are negative errno values, except FUV_EOF and FUV_UNKNOWN
 * which have libuv's fixed values.
 */
#define FUV_ERRNO_MAP(XX)                                                   \
  XX(E2BIG, -E2BIG, "argument list too long")                               \
  XX(EACCES, -EACCES, "permission denied")                                  \
  XX(EADDRINUSE, -EADDRINUSE, "address already in use")                     \
  XX(EADDRNOTAVAIL, -EADDRNOTAVAIL, "address not available")                \
  XX(EAFNOSUPPORT, -EAFNOSUPPORT, "address family not supported")           \
  XX(EAGAIN, -EAGAIN, "resource temporarily unavailable")                   \
  XX(EALREADY, -EALREADY, "connection already in progress")                 \
  XX(EBADF, -EBADF, "bad file descriptor")                                  \
  XX(EBUSY, -EBUSY, "resource busy or locked")                              \
  XX(ECANCELED, -ECANCELED, "operation canceled")                           \
  XX(ECONNABORTED, -ECONNABORTED, "software caused connection abort")       \
  XX(ECONNREFUSED, -ECONNREFUSED, "connection refused")                     \
  XX(ECONNRESET, -ECONNRESET, "connection reset by peer")                   \
  XX(EDESTADDRREQ, -EDESTADDRREQ, "destination address required")           \
  XX(EEXIST, -EEXIST, "file already exists")                                \
  XX(EFAULT, -EFAULT, "bad address in system call argument")                \
  XX(EHOSTDOWN, -EHOSTDOWN, "host is down")                                 \
  XX(EHOSTUNREACH, -EHOSTUNREACH, "host is unreachable")                    \
  XX(EINTR, -EINTR, "interrupted system call")                              \
  XX(EINVAL, -EINVAL, "invalid argument")                                   \
  XX(EIO, -EIO, "i/o error")                                                \
  XX(EISCONN, -EISCONN, "socket is already connected")                      \
  XX(EMFILE, -EMFILE, "too many open files")                                \
  XX(EMSGSIZE, -EMSGSIZE, "message too long")                               \
  XX(ENAMETOOLONG, -ENAMETOOLONG, "name too long")                          \
  XX(ENETDOWN, -ENETDOWN, "network is down")                                \
  XX(ENETUNREACH, -ENETUNREACH, "network is unreachable")                   \
  XX(ENFILE, -ENFILE, "file table overflow")                                \
  XX(ENOBUFS, -ENOBUFS, "no buffer space available")                        \
  XX(ENODEV, -ENODEV, "no such device")                                     \
  XX(ENOENT, -ENOENT, "no such file or directory")                          \
  XX(ENOMEM, -ENOMEM, "not enough memory")                                  \
  XX(ENOPROTOOPT, -ENOPROTOOPT, "protocol not available")                   \
  XX(ENOSPC, -ENOSPC, "no space left on device")                            \
  XX(ENOSYS, -ENOSYS, "function not implemented")                           \
  XX(ENOTCONN, -ENOTCONN, "socket is not connected")                        \
  XX(ENOTSOCK, -ENOTSOCK, "socket operation on non-socket")                 \
  XX(ENOTSUP, -ENOTSUP, "operation not supported on socket")                \
  XX(EOVERFLOW, -EOVERFLOW, "value too large for defined data type")        \
  XX(EPERM, -EPERM, "operation not permitted")                              \
  XX(EPIPE, -EPIPE, "broken pipe")                                          \
  XX(EPROTO, -EPROTO, "protocol error")                                     \
  XX(EPROTONOSUPPORT, -EPROTONOSUPPORT, "protocol not supported")           \
  XX(EPROTOTYPE, -EPROTOTYPE, "protocol wrong type for socket")             \
  XX(ERANGE, -ERANGE, "result too large")                                   \
  XX(ETIMEDOUT, -ETIMEDOUT, "connection timed out")                         \
  XX(EOF, -4095, "end of file")                                             \
  XX(UNKNOWN, -4094, "unknown error")

typedef enum {
#define FUV__ERRNO_ENUM(name, value, msg) FUV_##name = (value),
  FUV_ERRNO_MAP(FUV__ERRNO_ENUM)
#undef FUV__ERRNO_ENUM
  FUV_ERRNO_MAX = -4096
} fuv_errno_t;

/* Returns the error's name ("ECONNREFUSED"), or "UNKNOWN" for a code that is
 * not in the table. The string is static. */
FUV_EXTERN const char *fuv_err_name(int err);
/* Returns the error's message ("connection refused"), or "unknown error".
 * The string is static. */
FUV_EXTERN const char *fuv_strerror(int err);
/* Turns a platform errno (positive, as in `errno`) into a FUV_E* code. A
 * value that is already negative is returned unchanged; 0 gives 0. */
FUV_EXTERN int fuv_translate_sys_error(int sys_errno);

/* ------------------------------------------------------------------------ */
/* Types                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct fuv_loop_s fuv_loop_t;
typedef struct fuv_handle_s fuv_handle_t;
typedef struct fuv_stream_s fuv_stream_t;
typedef struct fuv_tcp_s fuv_tcp_t;
typedef struct fuv_timer_s fuv_timer_t;
typedef struct fuv_async_s fuv_async_t;
typedef struct fuv_pipe_s fuv_pipe_t;
typedef struct fuv_prepare_s fuv_prepare_t;
typedef struct fuv_check_s fuv_check_t;
typedef struct fuv_idle_s fuv_idle_t;
typedef struct fuv_udp_s fuv_udp_t;
/* A request: a connect, write, shutdown, send or work in flight, for
 * callers that want to cancel it or ask its type (see "Requests" below). */
typedef struct fuv_req_s fuv_req_t;

typedef enum {
  FUV_UNKNOWN_HANDLE = 0,
  FUV_ASYNC = 1,
  FUV_TCP = 2,
  FUV_TIMER = 3,
  FUV_PIPE = 4,
  FUV_PREPARE = 5,
  FUV_CHECK = 6,
  FUV_IDLE = 7,
  FUV_UDP = 8,
  FUV_HANDLE_TYPE_MAX = 9
} fuv_handle_type_t;

/* The kinds of request, as returned by fuv_req_type(). */
typedef enum {
  FUV_UNKNOWN_REQ = 0,
  FUV_CONNECT = 1,
  FUV_WRITE = 2,
  FUV_SHUTDOWN = 3,
  FUV_UDP_SEND = 4,
  FUV_WORK = 5,
  FUV_REQ_TYPE_MAX = 6
} fuv_req_type_t;

/* Options for fuv_loop_configure(). */
typedef enum {
  /* Block a signal (the value, e.g. SIGPROF) while the loop waits for
   * I/O, so that it does not wake the loop for nothing. */
  FUV_LOOP_BLOCK_SIGNAL = 0,
  /* Accumulate the time the loop spends waiting for I/O, as
   * fuv_metrics_idle_time() reports it (the value is ignored). */
  FUV_METRICS_IDLE_TIME = 1
} fuv_loop_option_t;

/* Flags for fuv_pipe_chmod(). */
typedef enum {
  FUV_READABLE = 1,
  FUV_WRITABLE = 2
} fuv_pipe_mode_t;

typedef enum {
  /* Runs until there are no active and referenced handles left, or until
   * fuv_stop() is called. */
  FUV_RUN_DEFAULT = 0,
  /* Polls for I/O once, blocking if there is nothing pending. */
  FUV_RUN_ONCE = 1,
  /* Polls for I/O once without blocking. */
  FUV_RUN_NOWAIT = 2
} fuv_run_mode_t;

/* Flags for fuv_tcp_bind(). */
typedef enum {
  /* Disable dual-stack support: an IPv6 socket accepts only IPv6. Giving it
   * with an IPv4 address is FUV_EINVAL. */
  FUV_TCP_IPV6ONLY = 1,
  /* Set SO_REUSEPORT before binding, so that several sockets (in several
   * processes or threads) can listen on one port and share its
   * connections. FUV_ENOTSUP where the platform lacks it. */
  FUV_TCP_REUSEPORT = 2
} fuv_tcp_flags_t;

/* Address families for fuv_tcp_new_ex(); the platform's AF_* values. */
typedef enum {
  FUV_AF_UNSPEC = AF_UNSPEC,
  FUV_AF_INET = AF_INET,
  FUV_AF_INET6 = AF_INET6
} fuv_address_family_t;

/* Flags for fuv_socketpair(). */
typedef enum {
  FUV_NONBLOCK_PIPE = 1
} fuv_socketpair_flags_t;

/* Socket types for fuv_socketpair(); the platform's SOCK_* values. */
typedef enum {
  FUV_SOCK_STREAM = SOCK_STREAM,
  FUV_SOCK_DGRAM = SOCK_DGRAM
} fuv_socket_type_t;

/* Flags of UDP handles, with libuv's values: fuv_udp_new_ex() takes
 * RECVMMSG, fuv_udp_bind() the IPV6ONLY, REUSEADDR and REUSEPORT flags,
 * and the receive callback gets PARTIAL. */
typedef enum {
  /* Bind an IPv6 socket for IPv6 only (FUV_EINVAL with an IPv4 address). */
  FUV_UDP_IPV6ONLY = 1,
  /* In a receive callback: the datagram was longer than the buffer and the
   * rest of it was discarded by the kernel. */
  FUV_UDP_PARTIAL = 2,
  /* SO_REUSEADDR: several sockets may bind one address and port; each
   * gets the multicast and broadcast datagrams sent to it (unicast goes to
   * the last bound). */
  FUV_UDP_REUSEADDR = 4,
  /* SO_REUSEPORT: several sockets bound to one port share its unicast
   * datagrams by the kernel's hash of the sender. FUV_ENOTSUP where the
   * platform lacks it. */
  FUV_UDP_REUSEPORT = 64,
  /* Receive with recvmmsg(2): many datagrams in one system call, each into
   * its own 64 KiB chunk of a loop-owned area, so none is truncated. */
  FUV_UDP_RECVMMSG = 256
} fuv_udp_flags_t;

/* For fuv_udp_set_membership() and fuv_udp_set_source_membership(). */
typedef enum {
  FUV_LEAVE_GROUP = 0,
  FUV_JOIN_GROUP = 1
} fuv_membership_t;

/* The eleven TCP states, as returned by fuv_tcp_state(). */
typedef enum {
  FUV_TCP_STATE_UNKNOWN = 0,
  FUV_TCP_ESTABLISHED = 1,
  FUV_TCP_SYN_SENT = 2,
  FUV_TCP_SYN_RECV = 3,
  FUV_TCP_FIN_WAIT1 = 4,
  FUV_TCP_FIN_WAIT2 = 5,
  FUV_TCP_TIME_WAIT = 6,
  FUV_TCP_CLOSE = 7,
  FUV_TCP_CLOSE_WAIT = 8,
  FUV_TCP_LAST_ACK = 9,
  FUV_TCP_LISTEN = 10,
  FUV_TCP_CLOSING = 11
} fuv_tcp_state_t;

/* Room for any IP address as text, with an IPv6 scope, plus the NUL. */
#define FUV_IP_NAME_MAX 64

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                */
/* ------------------------------------------------------------------------ */

/* Called once the handle is closed; the library frees it when this returns. */
typedef void (*fuv_close_cb)(fuv_handle_t *handle, void *arg);
/* Called for each live handle by fuv_walk(). */
typedef void (*fuv_walk_cb)(fuv_handle_t *handle, void *arg);
/* Called when a timer expires. */
typedef void (*fuv_timer_cb)(fuv_timer_t *timer, void *arg);
/* Called on the loop's thread after one or more fuv_async_send() calls. */
typedef void (*fuv_async_cb)(fuv_async_t *async, void *arg);
/* Called when a listening stream has a connection to accept (status 0) or
 * when accepting failed (status < 0, e.g. FUV_EMFILE). */
typedef void (*fuv_connection_cb)(fuv_stream_t *server, int status, void *arg);
/* Called with data read from a stream: nread > 0 bytes at buf, or nread < 0
 * with buf NULL: FUV_EOF when the peer has finished sending, or an error.
 * The buffer belongs to the loop and is valid only during the callback.
 * nread is never 0. */
typedef void (*fuv_read_cb)(fuv_stream_t *stream, ssize_t nread,
                            const char *buf, void *arg);
/* Called once a write has been handed to the kernel (status 0) or has
 * failed; FUV_ECANCELED when the stream was closed first. */
typedef void (*fuv_write_cb)(fuv_stream_t *stream, int status, void *arg);
/* Called when a connect finished: 0, or an error such as FUV_ECONNREFUSED;
 * FUV_ECANCELED when the handle was closed first. */
typedef void (*fuv_connect_cb)(fuv_tcp_t *tcp, int status, void *arg);
/* Called when the write side has been shut down after all queued writes. */
typedef void (*fuv_shutdown_cb)(fuv_stream_t *stream, int status, void *arg);
/* Called when a stream's write queue has fallen back to its low-water mark
 * after having reached its high-water mark. */
typedef void (*fuv_drain_cb)(fuv_stream_t *stream, void *arg);
/* Called when a pipe's connect finished: 0, or an error such as
 * FUV_ENOENT or FUV_ECONNREFUSED; FUV_ECANCELED when the handle was closed
 * or the request cancelled first. */
typedef void (*fuv_pipe_connect_cb)(fuv_pipe_t *pipe, int status, void *arg);
/* Called once per loop iteration, right before it waits for I/O. */
typedef void (*fuv_prepare_cb)(fuv_prepare_t *prepare, void *arg);
/* Called once per loop iteration, right after it waited for I/O. */
typedef void (*fuv_check_cb)(fuv_check_t *check, void *arg);
/* Called once per loop iteration while the idle handle is active. */
typedef void (*fuv_idle_cb)(fuv_idle_t *idle, void *arg);
/* Called once a datagram has been handed to the kernel (status 0) or its
 * send failed; FUV_ECANCELED when the handle was closed or the request
 * cancelled first. */
typedef void (*fuv_udp_send_cb)(fuv_udp_t *udp, int status, void *arg);
/* Called for each datagram received: nread >= 0 bytes at buf from the
 * sender addr (an AF_INET or AF_INET6 sockaddr; fuv_sockaddr_ip() gives
 * its text and port). nread 0 with an addr is an empty datagram: flatuv
 * never calls with "nothing to read". flags has FUV_UDP_PARTIAL when the
 * datagram was truncated. nread < 0 is an error (FUV_ECONNREFUSED on a
 * connected socket whose peer has no listener), with buf and addr NULL.
 * The buffer and the address belong to the loop and are valid only during
 * the callback. */
typedef void (*fuv_udp_recv_cb)(fuv_udp_t *udp, ssize_t nread,
                                const char *buf, const struct sockaddr *addr,
                                unsigned int flags, void *arg);
/* The work of fuv_queue_work(): runs once, on one of the pool's threads,
 * never on the loop's, so it must not call the loop or its handles. */
typedef void (*fuv_work_cb)(void *arg);
/* Called on the loop's thread, from fuv_run(), once the work has run
 * (status 0) or was cancelled before it started (FUV_ECANCELED, the work
 * never ran). It gets no loop: the work is no handle's, and arg says whose
 * it is. */
typedef void (*fuv_after_work_cb)(int status, void *arg);

/* ------------------------------------------------------------------------ */
/* Loop                                                                     */
/* ------------------------------------------------------------------------ */

/* Creates a loop. Errors: FUV_EINVAL (out is NULL), FUV_ENOMEM, or the
 * backend's error (e.g. FUV_EMFILE). */
FUV_EXTERN int fuv_loop_new(fuv_loop_t **out);
/* Frees a loop [uv_loop_close]. Every handle must have been closed and its
 * close callback run first, otherwise FUV_EBUSY and the loop stays usable.
 * FUV_EBUSY too when called from inside fuv_run(). */
FUV_EXTERN int fuv_loop_free(fuv_loop_t *loop);
/* Runs the loop in the given mode. Returns 1 when active and referenced
 * handles remain (the loop was stopped, or mode was ONCE/NOWAIT), 0 when
 * none remain, FUV_EINVAL for a bad loop or mode, or FUV_EBUSY when called
 * from a callback of the same loop. With fuv_loop_set_interruptible() on,
 * it returns FUV_EINTR when a signal interrupted the wait for I/O.
 * FUV_EBUSY too from inside a fuv_walk() callback. */
FUV_EXTERN int fuv_run(fuv_loop_t *loop, fuv_run_mode_t mode);
/* Makes fuv_run() return at the end of the current iteration. */
FUV_EXTERN int fuv_stop(fuv_loop_t *loop);
/* Returns 1 if the loop has active referenced handles, pending callbacks or
 * closing handles; 0 if not or if loop is NULL. */
FUV_EXTERN int fuv_loop_alive(const fuv_loop_t *loop);
/* Returns the loop's cached time in milliseconds (monotonic, arbitrary
 * origin), updated at the start of each iteration; 0 for NULL. */
FUV_EXTERN uint64_t fuv_now(const fuv_loop_t *loop);
/* Refreshes the loop's cached time. */
FUV_EXTERN int fuv_update_time(fuv_loop_t *loop);
/* Returns the backend's file descriptor (epoll fd), or FUV_ENOSYS for the
 * poll(2) backend, which has none. */
FUV_EXTERN int fuv_backend_fd(const fuv_loop_t *loop);
/* Returns the poll timeout in milliseconds that the next iteration would
 * use: -1 for none, 0 when it would not block. FUV_EINVAL for NULL. */
FUV_EXTERN int fuv_backend_timeout(const fuv_loop_t *loop);
/* Calls cb for every handle of the loop that is not closing, in creation
 * order. Handles created by cb are not visited. cb may close handles;
 * fuv_run() and fuv_loop_free() return FUV_EBUSY while a walk is on. */
FUV_EXTERN int fuv_walk(fuv_loop_t *loop, fuv_walk_cb cb, void *arg);
/* Gets / sets the loop's user data. */
FUV_EXTERN void *fuv_loop_get_data(const fuv_loop_t *loop);
FUV_EXTERN int fuv_loop_set_data(fuv_loop_t *loop, void *data);
/* When on, a signal that interrupts the wait for I/O makes fuv_run() return
 * FUV_EINTR (the loop stays usable and may be run again), so that a host
 * language can handle the signal; when off (the default) the wait resumes. */
FUV_EXTERN int fuv_loop_set_interruptible(fuv_loop_t *loop, int on);
/* Returns a non-blocking fd that wakes the loop when anything is written
 * to it, from any thread or from a signal handler (it is made for CPython's
 * signal.set_wakeup_fd). An interruptible loop's fuv_run() then returns
 * FUV_EINTR, however late in an iteration the write came; otherwise the
 * loop just wakes. Created on first use; the loop owns and closes it. */
FUV_EXTERN int fuv_loop_wakeup_fd(fuv_loop_t *loop);
/* Metrics: the number of loop iterations, and the number of I/O events
 * handled, since the loop was created. 0 for NULL. */
FUV_EXTERN uint64_t fuv_metrics_loop_count(const fuv_loop_t *loop);
FUV_EXTERN uint64_t fuv_metrics_events(const fuv_loop_t *loop);
/* The number of I/O events that were waiting when the loop last polled
 * (libuv's events_waiting); 0 for NULL. */
FUV_EXTERN uint64_t fuv_metrics_events_waiting(const fuv_loop_t *loop);
/* All three metrics in one call [uv_metrics_info]; any pointer may be
 * NULL. FUV_EINVAL for a NULL loop. */
FUV_EXTERN int fuv_metrics_info(const fuv_loop_t *loop, uint64_t *loop_count,
                                uint64_t *events, uint64_t *events_waiting);
/* Nanoseconds the loop has spent waiting for I/O since
 * fuv_loop_configure(FUV_METRICS_IDLE_TIME) was given; 0 before it, or for
 * NULL [uv_metrics_idle_time]. */
FUV_EXTERN uint64_t fuv_metrics_idle_time(const fuv_loop_t *loop);
/* Configures the loop [uv_loop_configure]: FUV_LOOP_BLOCK_SIGNAL blocks
 * the signal given as value while the loop waits for I/O (FUV_EINVAL for
 * an invalid signal number); FUV_METRICS_IDLE_TIME starts accounting idle
 * time. FUV_EINVAL for an unknown option; FUV_EBUSY from inside fuv_run().
 */
FUV_EXTERN int fuv_loop_configure(fuv_loop_t *loop, fuv_loop_option_t option,
                                  int value);
/* Returns the mode of the fuv_run() in progress (a fuv_run_mode_t), or -1
 * when the loop is not running, or for NULL [luv's loop_mode]. */
FUV_EXTERN int fuv_loop_mode(const fuv_loop_t *loop);
/* Writes one line per handle of the loop to the file descriptor fd
 * [uv_print_all_handles], in creation order, as libuv does:
 * "[RAI] kind address", where R means referenced, A active and I internal
 * (a '-' when not). To print to a FILE, fflush() it and pass its fileno().
 * FUV_EINVAL for NULL or a negative fd; FUV_EIO and friends when writing
 * fails. */
FUV_EXTERN int fuv_print_all_handles(fuv_loop_t *loop, int fd);
/* As fuv_print_all_handles, only the active handles. */
FUV_EXTERN int fuv_print_active_handles(fuv_loop_t *loop, int fd);

/* ------------------------------------------------------------------------ */
/* Time                                                                     */
/* ------------------------------------------------------------------------ */

/* Returns the current high-resolution time in nanoseconds (monotonic,
 * arbitrary origin; not related to fuv_now()) [uv_hrtime]. */
FUV_EXTERN uint64_t fuv_hrtime(void);
/* Sleeps for msec milliseconds, resuming after signals [uv_sleep]. Always
 * returns 0. */
FUV_EXTERN int fuv_sleep(unsigned int msec);

/* ------------------------------------------------------------------------ */
/* Handles (every kind)                                                     */
/* ------------------------------------------------------------------------ */

/* Starts closing a handle. Pending callbacks of the handle then run with
 * FUV_ECANCELED (connect, queued writes, shutdown), in the order they were
 * requested, then cb (may be NULL) runs from fuv_run(), and then the library
 * frees the handle. A close started from a close callback completes in the
 * next iteration. FUV_EINVAL for NULL or an already closing handle. */
FUV_EXTERN int fuv_close(fuv_handle_t *handle, fuv_close_cb cb, void *arg);
/* Returns 1 if the handle is active: a started timer; an async handle; a
 * stream that is connecting, reading, listening, writing or shutting down. */
FUV_EXTERN int fuv_is_active(const fuv_handle_t *handle);
/* Returns 1 if fuv_close() has been called on the handle. */
FUV_EXTERN int fuv_is_closing(const fuv_handle_t *handle);
/* A referenced active handle keeps fuv_run(DEFAULT) running; an
 * unreferenced one does not. Handles start referenced. Idempotent. As in
 * libuv, these three also accept a closing handle (until its close
 * callback has run). */
FUV_EXTERN int fuv_ref(fuv_handle_t *handle);
FUV_EXTERN int fuv_unref(fuv_handle_t *handle);
FUV_EXTERN int fuv_has_ref(const fuv_handle_t *handle);
/* Returns the handle's kind, FUV_UNKNOWN_HANDLE for NULL. */
FUV_EXTERN fuv_handle_type_t fuv_handle_type(const fuv_handle_t *handle);
/* Returns "async", "tcp", "timer", "pipe", "prepare", "check", "idle", or
 * "unknown". */
FUV_EXTERN const char *fuv_handle_type_name(fuv_handle_type_t type);
/* Returns the loop the handle belongs to, NULL for NULL. */
FUV_EXTERN fuv_loop_t *fuv_handle_loop(const fuv_handle_t *handle);
/* Gets / sets the handle's user data. */
FUV_EXTERN void *fuv_handle_get_data(const fuv_handle_t *handle);
FUV_EXTERN int fuv_handle_set_data(fuv_handle_t *handle, void *data);
/* Returns the handle's file descriptor (>= 0), FUV_EBADF when it has none
 * yet, FUV_EINVAL for a handle kind without one (timer, async, prepare,
 * check, idle). */
FUV_EXTERN int fuv_fileno(const fuv_handle_t *handle);
/* Get the socket's SO_SNDBUF / SO_RCVBUF in bytes (>= 0) or an error. */
FUV_EXTERN int fuv_get_send_buffer_size(const fuv_handle_t *handle);
FUV_EXTERN int fuv_get_recv_buffer_size(const fuv_handle_t *handle);
/* Set SO_SNDBUF / SO_RCVBUF; size must be > 0 (FUV_EINVAL otherwise). Linux
 * doubles the value it stores, as getsockopt shows. */
FUV_EXTERN int fuv_set_send_buffer_size(fuv_handle_t *handle, int size);
FUV_EXTERN int fuv_set_recv_buffer_size(fuv_handle_t *handle, int size);

/* ------------------------------------------------------------------------ */
/* Timers                                                                   */
/* ------------------------------------------------------------------------ */

/* Creates a stopped timer. */
FUV_EXTERN int fuv_timer_new(fuv_timer_t **out, fuv_loop_t *loop);
/* Starts (or restarts) the timer: cb runs after timeout_ms, then every
 * repeat_ms if repeat_ms is non-zero. Timers due in the same iteration run
 * in order of their due time, then of their start. A zero timeout runs cb in
 * the next iteration, never inside this call. cb must not be NULL. */
FUV_EXTERN int fuv_timer_start(fuv_timer_t *timer, fuv_timer_cb cb,
                               uint64_t timeout_ms, uint64_t repeat_ms,
                               void *arg);
/* Stops the timer; stopping a stopped timer is not an error. */
FUV_EXTERN int fuv_timer_stop(fuv_timer_t *timer);
/* Restarts a repeating timer with its repeat as timeout; stops it when the
 * repeat is 0. FUV_EINVAL if the timer was never started. */
FUV_EXTERN int fuv_timer_again(fuv_timer_t *timer);
/* Sets the repeat interval, taking effect at the next expiry or again(). */
FUV_EXTERN int fuv_timer_set_repeat(fuv_timer_t *timer, uint64_t repeat_ms);
FUV_EXTERN uint64_t fuv_timer_get_repeat(const fuv_timer_t *timer);
/* Milliseconds until the timer is due; 0 if it is due or stopped. */
FUV_EXTERN uint64_t fuv_timer_get_due_in(const fuv_timer_t *timer);

/* ------------------------------------------------------------------------ */
/* Async                                                                    */
/* ------------------------------------------------------------------------ */

/* Creates an async handle, active at once; cb (not NULL) runs on the loop's
 * thread after fuv_async_send(). */
FUV_EXTERN int fuv_async_new(fuv_async_t **out, fuv_loop_t *loop,
                             fuv_async_cb cb, void *arg);
/* Wakes the loop and makes it call the handle's callback. Safe from any
 * thread and from signal handlers. Several sends before the callback runs
 * give one call; a send from the callback itself runs it again in the next
 * iteration, after the other handles. Must not race with the handle's close
 * callback. */
FUV_EXTERN int fuv_async_send(fuv_async_t *async);

/* ------------------------------------------------------------------------ */
/* Prepare, check and idle                                                  */
/* ------------------------------------------------------------------------ */
/*
 * Each iteration of the loop runs, in order: due timers, deferred
 * callbacks, idle callbacks, prepare callbacks, the wait for I/O (and its
 * callbacks), check callbacks, close callbacks [libuv's loop iteration].
 * An active idle handle makes the wait not block, so idle callbacks run
 * over and over while nothing else happens. Handles of one kind run in the
 * order they were started; one started from a callback of its own kind
 * first runs in the next iteration. Each kind has the same three calls.
 */

/* Creates a stopped prepare handle. */
FUV_EXTERN int fuv_prepare_new(fuv_prepare_t **out, fuv_loop_t *loop);
/* Starts the handle: cb (not NULL) runs once in every iteration. Starting
 * a started handle replaces its callback. */
FUV_EXTERN int fuv_prepare_start(fuv_prepare_t *prepare, fuv_prepare_cb cb,
                                 void *arg);
/* Stops the handle; stopping a stopped handle is not an error. */
FUV_EXTERN int fuv_prepare_stop(fuv_prepare_t *prepare);

/* Creates a stopped check handle. */
FUV_EXTERN int fuv_check_new(fuv_check_t **out, fuv_loop_t *loop);
FUV_EXTERN int fuv_check_start(fuv_check_t *check, fuv_check_cb cb,
                               void *arg);
FUV_EXTERN int fuv_check_stop(fuv_check_t *check);

/* Creates a stopped idle handle. */
FUV_EXTERN int fuv_idle_new(fuv_idle_t **out, fuv_loop_t *loop);
FUV_EXTERN int fuv_idle_start(fuv_idle_t *idle, fuv_idle_cb cb, void *arg);
FUV_EXTERN int fuv_idle_stop(fuv_idle_t *idle);

/* ------------------------------------------------------------------------ */
/* Streams                                                                  */
/* ------------------------------------------------------------------------ */
/*
 * A stream is a TCP or a pipe handle; every call of this section works on
 * both, and FUV_EINVAL is the answer for a handle of another kind.
 */

/* Starts listening. cb runs once per connection waiting to be accepted;
 * when cb does not call fuv_accept(), the stream stops watching for more
 * until it does (delayed accept). A NULL cb listens without watching, for
 * use with fuv_accept_sync(). Errors: FUV_EINVAL (handle not bound, or
 * closing), FUV_EADDRINUSE (deferred from fuv_tcp_bind), FUV_EISCONN. */
FUV_EXTERN int fuv_listen(fuv_stream_t *stream, int backlog,
                          fuv_connection_cb cb, void *arg);
/* Accepts a waiting connection into a new TCP handle on the server's loop,
 * which the caller owns and must close. FUV_EAGAIN when none is waiting.
 * TCP servers, and IPC pipes whose next received handle is a TCP one
 * (FUV_EINVAL otherwise); fuv_stream_accept() takes any. */
FUV_EXTERN int fuv_accept(fuv_stream_t *server, fuv_tcp_t **client);
/* Accepts a waiting connection into a new handle of the right kind on the
 * server's loop, which the caller owns and must close: a TCP handle from a
 * TCP server, a pipe from a pipe server, and from an IPC pipe with a
 * received handle waiting (fuv_pipe_pending_count() > 0) a handle of that
 * one's kind (fuv_pipe_pending_type()). FUV_EAGAIN when none is waiting. */
FUV_EXTERN int fuv_stream_accept(fuv_stream_t *server, fuv_stream_t **client);
/* Accepts a waiting connection into client, a handle the caller created
 * and has not used [uv_accept]: one of the kind fuv_stream_accept() would
 * create, with no socket yet. FUV_EAGAIN when none is waiting; FUV_EINVAL
 * for a client of the wrong kind or closing; FUV_EBUSY for a client that
 * already has a socket (bound, connected, opened or accepted). On an
 * error the connection stays waiting. */
FUV_EXTERN int fuv_stream_accept_into(fuv_stream_t *server,
                                      fuv_stream_t *client);
/* Starts reading; cb gets the data as it arrives (see fuv_read_cb).
 * Reading stops by itself after FUV_EOF or an error. Errors: FUV_EINVAL
 * (NULL cb, closing), FUV_EALREADY (already reading), FUV_ENOTCONN (not
 * connected or already at EOF). */
FUV_EXTERN int fuv_read_start(fuv_stream_t *stream, fuv_read_cb cb, void *arg);
/* Stops reading; may be called from the read callback. Not an error when
 * the stream is not reading. */
FUV_EXTERN int fuv_read_stop(fuv_stream_t *stream);
/* Writes len bytes. What the kernel does not take at once is copied and
 * queued, so the caller may reuse data on return. Writes go out in the
 * order they were made. cb (may be NULL) gets the outcome. Errors:
 * FUV_EINVAL (NULL data with len > 0, closing), FUV_EBADF (no socket),
 * FUV_ENOTCONN (not connected), FUV_EPIPE (after fuv_shutdown). */
FUV_EXTERN int fuv_write(fuv_stream_t *stream, const char *data, size_t len,
                         fuv_write_cb cb, void *arg);
/* Writes nbufs buffers as one write, in order. */
FUV_EXTERN int fuv_writev(fuv_stream_t *stream, const char *const *bufs,
                          const size_t *lens, size_t nbufs, fuv_write_cb cb,
                          void *arg);
/* Writes len bytes and the handle send_handle (a TCP or pipe handle with a
 * socket) to the process at the other end of an IPC pipe (SCM_RIGHTS), so
 * that it can accept it (fuv_pipe_pending_count, fuv_stream_accept). The
 * handle's socket is duplicated at once: the caller may close send_handle
 * as soon as this returns, and the socket reaches the peer with the first
 * byte of this write. len must be at least 1. Errors as fuv_write, and
 * FUV_EINVAL when stream is not an IPC pipe, send_handle has no socket or
 * len is 0. */
FUV_EXTERN int fuv_write2(fuv_stream_t *stream, const char *data, size_t len,
                          fuv_stream_t *send_handle, fuv_write_cb cb,
                          void *arg);
/* Writes what the kernel takes now, queueing nothing. Returns the number of
 * bytes written (> 0, capped at INT_MAX per call), FUV_EAGAIN when nothing
 * could be written or writes are queued, or an error as fuv_write. */
FUV_EXTERN int fuv_try_write(fuv_stream_t *stream, const char *data,
                             size_t len);
/* Shuts down the write side once every queued write has gone out; cb (may
 * be NULL) gets the outcome. FUV_ENOTCONN when not connected, already shut
 * down or shutting down, or closing (as libuv); FUV_EBUSY while a cancelled
 * shutdown's callback is still due (one shutdown at a time). */
FUV_EXTERN int fuv_shutdown(fuv_stream_t *stream, fuv_shutdown_cb cb,
                            void *arg);
/* Return 1 if the stream can be read from / written to. */
FUV_EXTERN int fuv_is_readable(const fuv_stream_t *stream);
FUV_EXTERN int fuv_is_writable(const fuv_stream_t *stream);
/* Returns the number of bytes queued and not yet handed to the kernel. */
FUV_EXTERN size_t fuv_write_queue_size(const fuv_stream_t *stream);
/* Backpressure. Once the write queue reaches high_water bytes the stream is
 * congested (fuv_stream_is_congested() returns 1); when it falls back to
 * low_water or below, the congestion ends and drain_cb (may be NULL) runs.
 * Writes are still accepted while congested: the marks tell a producer when
 * to pause and resume, they never drop data. high_water 0 turns it off.
 * FUV_EINVAL when low_water > high_water. */
FUV_EXTERN int fuv_stream_set_water_marks(fuv_stream_t *stream,
                                          size_t high_water, size_t low_water,
                                          fuv_drain_cb drain_cb, void *arg);
/* Returns 1 while the stream is congested (see above), else 0. */
FUV_EXTERN int fuv_stream_is_congested(const fuv_stream_t *stream);

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */
/* ------------------------------------------------------------------------ */
/*
 * The calls below are fuv_write, fuv_writev, fuv_write2, fuv_shutdown,
 * fuv_tcp_connect, fuv_pipe_connect and fuv_pipe_connect2 with one more
 * parameter, req: when
 * it is not NULL, *req is set to a request object for the operation (NULL
 * when the call fails). The request belongs to the library; the caller
 * holds one reference to it and gives it back with fuv_req_release(), at
 * any time: before the operation finished (which it then still does,
 * callback and all) or after, when the request stays valid for
 * fuv_req_type() and fuv_cancel() until released. A request outlives its
 * handle and its loop: releasing it later is always safe.
 */

FUV_EXTERN int fuv_write_req(fuv_stream_t *stream, const char *data,
                             size_t len, fuv_write_cb cb, void *arg,
                             fuv_req_t **req);
FUV_EXTERN int fuv_writev_req(fuv_stream_t *stream, const char *const *bufs,
                              const size_t *lens, size_t nbufs,
                              fuv_write_cb cb, void *arg, fuv_req_t **req);
FUV_EXTERN int fuv_write2_req(fuv_stream_t *stream, const char *data,
                              size_t len, fuv_stream_t *send_handle,
                              fuv_write_cb cb, void *arg, fuv_req_t **req);
FUV_EXTERN int fuv_shutdown_req(fuv_stream_t *stream, fuv_shutdown_cb cb,
                                void *arg, fuv_req_t **req);
FUV_EXTERN int fuv_tcp_connect_req(fuv_tcp_t *tcp, const char *ip, int port,
                                   fuv_connect_cb cb, void *arg,
                                   fuv_req_t **req);
FUV_EXTERN int fuv_pipe_connect_req(fuv_pipe_t *pipe, const char *name,
                                    fuv_pipe_connect_cb cb, void *arg,
                                    fuv_req_t **req);
FUV_EXTERN int fuv_pipe_connect2_req(fuv_pipe_t *pipe, const char *name,
                                     size_t namelen, unsigned int flags,
                                     fuv_pipe_connect_cb cb, void *arg,
                                     fuv_req_t **req);

/* Cancels a request that has not started [uv_cancel]: its callback then
 * runs from fuv_run() with FUV_ECANCELED, never inside this call. A write
 * none of whose bytes has reached the kernel is taken out of the queue (the
 * writes around it go out as if it had never been made); a connect is
 * abandoned and the handle may connect again; a shutdown still waiting for
 * queued writes is withdrawn and the stream stays writable. A connect can be
 * cancelled until its callback has run, even when the kernel has already
 * established it (the connection is then dissolved), so cancelling a
 * connect right after starting it always works. FUV_EBUSY when the request
 * can no longer be cancelled (part of the write was sent, the shutdown has
 * reached the kernel, the callback has run or was already cancelled);
 * FUV_EINVAL for NULL. */
FUV_EXTERN int fuv_cancel(fuv_req_t *req);
/* Returns the request's kind, FUV_UNKNOWN_REQ for NULL. */
FUV_EXTERN fuv_req_type_t fuv_req_type(const fuv_req_t *req);
/* Returns "connect", "write", "shutdown", "udp_send", "work", or
 * "unknown". */
FUV_EXTERN const char *fuv_req_type_name(fuv_req_type_t type);
/* Gives back the caller's reference to the request. NULL is ignored. */
FUV_EXTERN void fuv_req_release(fuv_req_t *req);

/* ------------------------------------------------------------------------ */
/* Work: the worker pool                                                    */
/* ------------------------------------------------------------------------ */
/*
 * One pool of threads serves every loop of the process [libuv's threadpool].
 * It starts with the first work queued, with FUV_THREADPOOL_SIZE threads
 * (read then; clamped to 1..1024; 4 when unset or not a number), and stops,
 * joining its threads, when the last loop that used it is freed. A child
 * made by fork() starts with a pool of its own: work the parent had queued
 * or running is not the child's, and completes in the child with
 * FUV_ECANCELED without running there. Work queued and not yet finished
 * keeps its loop alive, and fuv_loop_free() refuses with FUV_EBUSY until
 * its after-callback has run.
 */

/* Runs work_cb(arg) (not NULL) on a pool thread, then after_cb (may be
 * NULL) on the loop's thread from fuv_run() [uv_queue_work]. Call it from
 * the loop's thread. FUV_EINVAL for a NULL loop or work_cb; FUV_ENOMEM; the
 * error of pthread_create (FUV_EAGAIN) when the pool cannot start a single
 * thread. */
FUV_EXTERN int fuv_queue_work(fuv_loop_t *loop, fuv_work_cb work_cb,
                              fuv_after_work_cb after_cb, void *arg);
/* fuv_queue_work giving a request object in *req (which may be NULL), as
 * the other *_req calls (see "Requests"). fuv_cancel() withdraws the work
 * while it waits for a thread: after_cb then gets FUV_ECANCELED and the
 * work never runs; once a thread has taken it fuv_cancel() returns
 * FUV_EBUSY. */
FUV_EXTERN int fuv_queue_work_req(fuv_loop_t *loop, fuv_work_cb work_cb,
                                  fuv_after_work_cb after_cb, void *arg,
                                  fuv_req_t **req);
/* Returns the number of threads the pool has, or will start with if it has
 * not started yet (from FUV_THREADPOOL_SIZE, as above). */
FUV_EXTERN int fuv_threadpool_size(void);

/* ------------------------------------------------------------------------ */
/* TCP                                                                      */
/* ------------------------------------------------------------------------ */

/* Creates a TCP handle [uv_tcp_init]. No socket is created yet. */
FUV_EXTERN int fuv_tcp_new(fuv_tcp_t **out, fuv_loop_t *loop);
/* Creates a TCP handle with a socket of the given domain (FUV_AF_INET or
 * FUV_AF_INET6), or none for FUV_AF_UNSPEC [uv_tcp_init_ex]. */
FUV_EXTERN int fuv_tcp_new_ex(fuv_tcp_t **out, fuv_loop_t *loop, int domain);
/* Opens an existing stream socket as this handle, making it non-blocking.
 * FUV_EBUSY if the handle already has a socket; FUV_EBADF for a bad fd. */
FUV_EXTERN int fuv_tcp_open(fuv_tcp_t *tcp, int fd);
/* Enables / disables TCP_NODELAY. Remembered and applied when the socket
 * is created if there is none yet. */
FUV_EXTERN int fuv_tcp_nodelay(fuv_tcp_t *tcp, int enable);
/* Enables / disables keep-alive; delay_s is the idle time before the first
 * probe, then 10 probes 1 s apart. FUV_EINVAL when enable and delay_s < 1. */
FUV_EXTERN int fuv_tcp_keepalive(fuv_tcp_t *tcp, int enable,
                                 unsigned int delay_s);
/* Keep-alive with every parameter: idle_s before the first probe,
 * interval_s between probes, count probes. Each must be >= 1 when enabling
 * (FUV_EINVAL otherwise). */
FUV_EXTERN int fuv_tcp_keepalive_ex(fuv_tcp_t *tcp, int enable,
                                    unsigned int idle_s,
                                    unsigned int interval_s,
                                    unsigned int count);
/* Accepted for compatibility; on POSIX it has no effect. */
FUV_EXTERN int fuv_tcp_simultaneous_accepts(fuv_tcp_t *tcp, int enable);
/* Binds to ip ("127.0.0.1", "::1", "fe80::1%eth0") and port (0-65535; 0
 * picks a free port). SO_REUSEADDR is set. As in libuv, FUV_EADDRINUSE is
 * reported by the following fuv_listen() or fuv_tcp_connect(), unless
 * FUV_TCP_REUSEPORT is given to every socket sharing the port. Errors:
 * FUV_EINVAL (bad ip, port out of range, IPV6ONLY with IPv4, already
 * bound), FUV_EADDRNOTAVAIL, FUV_EACCES. */
FUV_EXTERN int fuv_tcp_bind(fuv_tcp_t *tcp, const char *ip, int port,
                            unsigned int flags);
FUV_EXTERN int fuv_tcp_bind_addr(fuv_tcp_t *tcp, const struct sockaddr *addr,
                                 unsigned int flags);
/* Writes the bound address as text into ip (iplen >= FUV_IP_NAME_MAX is
 * always enough) and the port into *port. FUV_ENOSPC if ip is too small;
 * FUV_EBADF if the handle has no socket. */
FUV_EXTERN int fuv_tcp_getsockname(const fuv_tcp_t *tcp, char *ip,
                                   size_t iplen, int *port);
/* As fuv_tcp_getsockname, for the peer. FUV_ENOTCONN when not connected. */
FUV_EXTERN int fuv_tcp_getpeername(const fuv_tcp_t *tcp, char *ip,
                                   size_t iplen, int *port);
/* The same as sockaddrs; *namelen is in/out as for getsockname(2). */
FUV_EXTERN int fuv_tcp_getsockname_addr(const fuv_tcp_t *tcp,
                                        struct sockaddr *name, int *namelen);
FUV_EXTERN int fuv_tcp_getpeername_addr(const fuv_tcp_t *tcp,
                                        struct sockaddr *name, int *namelen);
/* Connects to ip and port; cb (may be NULL) gets the outcome. A refused
 * connection does not close the handle. Errors at call time: FUV_EINVAL
 * (bad address or port 0), FUV_EALREADY (connecting), FUV_EISCONN. */
FUV_EXTERN int fuv_tcp_connect(fuv_tcp_t *tcp, const char *ip, int port,
                               fuv_connect_cb cb, void *arg);
FUV_EXTERN int fuv_tcp_connect_addr(fuv_tcp_t *tcp,
                                    const struct sockaddr *addr,
                                    fuv_connect_cb cb, void *arg);
/* Closes the connection with a RST (SO_LINGER 0, then fuv_close). Not
 * allowed after fuv_shutdown() (FUV_EINVAL), as in libuv. */
FUV_EXTERN int fuv_tcp_close_reset(fuv_tcp_t *tcp, fuv_close_cb cb, void *arg);
/* Creates a connected pair of AF_UNIX sockets of the given type
 * (FUV_SOCK_STREAM); FUV_NONBLOCK_PIPE in flags0 / flags1 makes that end
 * non-blocking. Both are close-on-exec. The caller owns both fds. */
FUV_EXTERN int fuv_socketpair(int type, int protocol, int *fd0, int *fd1,
                              int flags0, int flags1);

/* TCP socket options (EdgerOS' set). Each needs a socket (FUV_EBADF when
 * there is none) and an open handle (FUV_EINVAL when closing). */

/* SO_LINGER: on with a timeout in seconds (>= 0), or off (seconds is then
 * ignored). With a timeout above 0 the kernel makes closing the socket
 * block while unsent data remains, even on a non-blocking socket (as with
 * libuv); 0 makes fuv_close send a reset, like fuv_tcp_close_reset. */
FUV_EXTERN int fuv_tcp_set_linger(fuv_tcp_t *tcp, int on, int seconds);
/* Reads SO_LINGER into *on and *seconds. */
FUV_EXTERN int fuv_tcp_get_linger(const fuv_tcp_t *tcp, int *on,
                                  int *seconds);
/* IP_TTL (IPv6: IPV6_UNICAST_HOPS), 1-255. */
FUV_EXTERN int fuv_tcp_set_ttl(fuv_tcp_t *tcp, int ttl);
/* Returns the TTL (1-255) or an error. */
FUV_EXTERN int fuv_tcp_get_ttl(const fuv_tcp_t *tcp);
/* SO_REUSEADDR on / off; get returns 1, 0 or an error. */
FUV_EXTERN int fuv_tcp_set_reuseaddr(fuv_tcp_t *tcp, int on);
FUV_EXTERN int fuv_tcp_get_reuseaddr(const fuv_tcp_t *tcp);
/* IPV6_V6ONLY on an IPv6 socket (FUV_EAFNOSUPPORT on IPv4). fuv_tcp_bind()
 * sets it from its FUV_TCP_IPV6ONLY flag, as libuv does, so this call is
 * for sockets bound otherwise (e.g. adopted with fuv_tcp_open). */
FUV_EXTERN int fuv_tcp_set_ipv6only(fuv_tcp_t *tcp, int on);
FUV_EXTERN int fuv_tcp_get_ipv6only(const fuv_tcp_t *tcp);
/* SO_BINDTODEVICE: binds the socket to a network interface by name, or
 * removes the binding for NULL or "". FUV_ENODEV for an unknown name. */
FUV_EXTERN int fuv_tcp_bind_to_device(fuv_tcp_t *tcp, const char *ifname);
/* Returns the connection's TCP state (a fuv_tcp_state_t) or an error. */
FUV_EXTERN int fuv_tcp_state(const fuv_tcp_t *tcp);
/* Returns "ESTABLISHED", "TIME_WAIT", ... for a fuv_tcp_state_t. */
FUV_EXTERN const char *fuv_tcp_state_name(int state);
/* Returns the number of bytes received and not yet read, or an error. */
FUV_EXTERN int fuv_tcp_pending_bytes(const fuv_tcp_t *tcp);
/* Reads and clears SO_ERROR: returns 0 or the pending error as FUV_E*. */
FUV_EXTERN int fuv_tcp_socket_error(fuv_tcp_t *tcp);
/* Gives up the socket without closing it and returns its fd (>= 0), so it
 * can be passed to another loop, thread or process and opened there with
 * fuv_tcp_open(). The handle is left with no socket, stopped, and must
 * still be closed. FUV_EBUSY while writes are queued, a connect or
 * shutdown is pending, or an accepted connection waits for fuv_accept():
 * no accepted byte or connection is ever lost. */
FUV_EXTERN int fuv_tcp_detach(fuv_tcp_t *tcp);

/* ------------------------------------------------------------------------ */
/* Pipes (Unix domain stream sockets)                                       */
/* ------------------------------------------------------------------------ */
/*
 * A pipe handle is a stream over an AF_UNIX SOCK_STREAM socket, or over
 * either end of a pipe(2) opened with fuv_pipe_open(). A name is a
 * filesystem path or, on Linux, an abstract name: one whose first byte is
 * NUL, given with its length to the *2 calls (the others take a C string,
 * so a filesystem path). Names longer than sockaddr_un's sun_path are
 * FUV_ENAMETOOLONG, never truncated. With ipc set, the pipe carries handles
 * between processes as well as bytes (fuv_write2).
 */

/* Creates a pipe handle [uv_pipe_init]; no socket is created yet. */
FUV_EXTERN int fuv_pipe_new(fuv_pipe_t **out, fuv_loop_t *loop, int ipc);
/* Opens an existing fd (an AF_UNIX stream socket, or a pipe(2) end) as
 * this handle, making it non-blocking. FUV_EBUSY if the handle already has
 * one; FUV_EBADF for a bad fd. */
FUV_EXTERN int fuv_pipe_open(fuv_pipe_t *pipe, int fd);
/* Binds to a filesystem path, which must not exist (FUV_EADDRINUSE). */
FUV_EXTERN int fuv_pipe_bind(fuv_pipe_t *pipe, const char *name);
/* Binds to a name of namelen bytes, abstract when its first byte is NUL
 * [uv_pipe_bind2]. flags must be 0. FUV_EINVAL for an empty name or one
 * with a NUL after the first byte. */
FUV_EXTERN int fuv_pipe_bind2(fuv_pipe_t *pipe, const char *name,
                              size_t namelen, unsigned int flags);
/* Connects to a filesystem path; cb (may be NULL) gets the outcome,
 * always from fuv_run(). */
FUV_EXTERN int fuv_pipe_connect(fuv_pipe_t *pipe, const char *name,
                                fuv_pipe_connect_cb cb, void *arg);
/* Connects to a name of namelen bytes, abstract when its first byte is
 * NUL [uv_pipe_connect2]. flags must be 0. */
FUV_EXTERN int fuv_pipe_connect2(fuv_pipe_t *pipe, const char *name,
                                 size_t namelen, unsigned int flags,
                                 fuv_pipe_connect_cb cb, void *arg);
/* Writes the bound name into buf (size bytes) and its length into *len.
 * A path needs room for its NUL and is always NUL-terminated; an abstract
 * name (it starts with NUL, so use *len) needs only its bytes and gets a
 * NUL when there is room. FUV_ENOBUFS when buf is too small, with *len set
 * to the size needed; *len is 0 for an unbound socket. FUV_EBADF without a
 * socket. */
FUV_EXTERN int fuv_pipe_getsockname(const fuv_pipe_t *pipe, char *buf,
                                    size_t size, size_t *len);
/* As fuv_pipe_getsockname, for the peer. FUV_ENOTCONN when not connected. */
FUV_EXTERN int fuv_pipe_getpeername(const fuv_pipe_t *pipe, char *buf,
                                    size_t size, size_t *len);
/* Accepted for compatibility (Windows' pipe instances); no effect here. */
FUV_EXTERN int fuv_pipe_pending_instances(fuv_pipe_t *pipe, int count);
/* Makes a bound pipe's filesystem name readable and/or writable by
 * everyone (FUV_READABLE | FUV_WRITABLE) [uv_pipe_chmod]. FUV_EINVAL for
 * other flags, an abstract name, or an unbound pipe. */
FUV_EXTERN int fuv_pipe_chmod(fuv_pipe_t *pipe, int flags);
/* Returns the number of received handles waiting to be accepted on an IPC
 * pipe (0 for other handles). */
FUV_EXTERN int fuv_pipe_pending_count(fuv_pipe_t *pipe);
/* Returns the kind of the next received handle (FUV_TCP or FUV_PIPE), or
 * FUV_UNKNOWN_HANDLE when none waits. */
FUV_EXTERN fuv_handle_type_t fuv_pipe_pending_type(fuv_pipe_t *pipe);
/* Creates a pipe(2) pair: *read_fd is the read end, *write_fd the write
 * end; FUV_NONBLOCK_PIPE in read_flags / write_flags makes that end
 * non-blocking. Both are close-on-exec. The caller owns both fds. */
FUV_EXTERN int fuv_pipe(int *read_fd, int *write_fd, int read_flags,
                        int write_flags);

/* ------------------------------------------------------------------------ */
/* UDP                                                                      */
/* ------------------------------------------------------------------------ */
/*
 * A UDP handle is a datagram socket. An address is given as text and port,
 * as for TCP, or as a sockaddr to the *_addr calls. A handle gets its
 * socket from fuv_udp_new_ex(), fuv_udp_open(), or the first bind,
 * connect or send (an unbound socket that sends is bound to a free port by
 * the kernel, as in libuv). Sends are datagrams: each is sent whole or not
 * at all, and the ones queued go out in order. Every call needs an open
 * handle (FUV_EINVAL when closing); the socket options need a socket
 * (FUV_EBADF when there is none).
 */

/* Creates a UDP handle [uv_udp_init]; no socket is created yet. */
FUV_EXTERN int fuv_udp_new(fuv_udp_t **out, fuv_loop_t *loop);
/* Creates a UDP handle with a socket of the given domain (FUV_AF_INET or
 * FUV_AF_INET6; FUV_AF_UNSPEC creates none yet) and flags (0 or
 * FUV_UDP_RECVMMSG) [uv_udp_init_ex]. FUV_EINVAL for other values. */
FUV_EXTERN int fuv_udp_new_ex(fuv_udp_t **out, fuv_loop_t *loop, int domain,
                              unsigned int flags);
/* Opens an existing datagram socket as this handle, making it
 * non-blocking. FUV_EBUSY if the handle has a socket; FUV_EBADF for a bad
 * fd; FUV_EINVAL for a socket that is not an IPv4 or IPv6 datagram
 * socket. */
FUV_EXTERN int fuv_udp_open(fuv_udp_t *udp, int fd);
/* Binds to ip and port (0 picks a free port) with FUV_UDP_IPV6ONLY,
 * FUV_UDP_REUSEADDR and FUV_UDP_REUSEPORT flags. Errors: FUV_EINVAL (bad
 * ip, port out of range, other flags, already bound), FUV_EADDRINUSE,
 * FUV_EADDRNOTAVAIL, FUV_EACCES. */
FUV_EXTERN int fuv_udp_bind(fuv_udp_t *udp, const char *ip, int port,
                            unsigned int flags);
FUV_EXTERN int fuv_udp_bind_addr(fuv_udp_t *udp, const struct sockaddr *addr,
                                 unsigned int flags);
/* Connects the socket to one peer [uv_udp_connect]: sends then go there
 * without an address (giving one is FUV_EISCONN), only its datagrams are
 * received, and an ICMP port-unreachable from it is reported as
 * FUV_ECONNREFUSED to the receive callback or the next send. A NULL ip
 * disconnects (FUV_ENOTCONN when not connected), keeping the handle's
 * port (Linux would drop a port it picked; flatuv binds it again). FUV_EISCONN when already
 * connected; FUV_EINVAL for a bad address or port 0. */
FUV_EXTERN int fuv_udp_connect(fuv_udp_t *udp, const char *ip, int port);
FUV_EXTERN int fuv_udp_connect_addr(fuv_udp_t *udp,
                                    const struct sockaddr *addr);
/* Writes the bound address as text into ip (FUV_IP_NAME_MAX is always
 * enough) and the port into *port. FUV_ENOSPC if ip is too small. */
FUV_EXTERN int fuv_udp_getsockname(const fuv_udp_t *udp, char *ip,
                                   size_t iplen, int *port);
/* As fuv_udp_getsockname, for the connected peer (FUV_ENOTCONN). */
FUV_EXTERN int fuv_udp_getpeername(const fuv_udp_t *udp, char *ip,
                                   size_t iplen, int *port);
FUV_EXTERN int fuv_udp_getsockname_addr(const fuv_udp_t *udp,
                                        struct sockaddr *name, int *namelen);
FUV_EXTERN int fuv_udp_getpeername_addr(const fuv_udp_t *udp,
                                        struct sockaddr *name, int *namelen);

/* Sends one datagram of len bytes to ip and port, or to the connected peer
 * when ip is NULL [uv_udp_send]. If nothing is queued it is sent at once;
 * otherwise, or when the kernel's buffer is full, the bytes are copied and
 * queued, so data may be reused when this returns. cb (may be NULL) runs
 * from fuv_run(), never from this call. Errors at call time: FUV_EINVAL
 * (bad address, port 0 or out of range), FUV_EDESTADDRREQ (no address and
 * not connected), FUV_EISCONN (an address on a connected socket),
 * FUV_EMSGSIZE (more than 65507 bytes to IPv4, 65527 to IPv6); a datagram
 * the kernel refuses later reaches cb. */
FUV_EXTERN int fuv_udp_send(fuv_udp_t *udp, const char *data, size_t len,
                            const char *ip, int port, fuv_udp_send_cb cb,
                            void *arg);
FUV_EXTERN int fuv_udp_send_addr(fuv_udp_t *udp, const char *data, size_t len,
                                 const struct sockaddr *addr,
                                 fuv_udp_send_cb cb, void *arg);
/* fuv_udp_send giving a request object in *req (which may be NULL) that
 * fuv_cancel() withdraws while the datagram is still queued. */
FUV_EXTERN int fuv_udp_send_req(fuv_udp_t *udp, const char *data, size_t len,
                                const char *ip, int port, fuv_udp_send_cb cb,
                                void *arg, fuv_req_t **req);
/* Sends one datagram now or not at all [uv_udp_try_send]: returns len, or
 * FUV_EAGAIN when sends are queued or the kernel's buffer is full, or an
 * error as fuv_udp_send. */
FUV_EXTERN int fuv_udp_try_send(fuv_udp_t *udp, const char *data, size_t len,
                                const char *ip, int port);
FUV_EXTERN int fuv_udp_try_send_addr(fuv_udp_t *udp, const char *data,
                                     size_t len, const struct sockaddr *addr);
/* Sends nbufs datagrams (bufs[i] of lens[i] bytes), all to ip and port or
 * to the connected peer (ip NULL), in as few system calls as sendmmsg(2)
 * allows [uv_udp_try_send2]. Returns how many were sent, in order (a
 * prefix: fewer when the kernel's buffer filled), or an error for the
 * first (FUV_EAGAIN when sends are queued). */
FUV_EXTERN int fuv_udp_try_send_many(fuv_udp_t *udp, const char *const *bufs,
                                     const size_t *lens, size_t nbufs,
                                     const char *ip, int port);
/* As fuv_udp_try_send_many, each datagram to its own address (addrs[i],
 * or NULL for the connected peer; a NULL addrs sends all to the peer). */
FUV_EXTERN int fuv_udp_try_send_many_addr(fuv_udp_t *udp,
                                          const char *const *bufs,
                                          const size_t *lens, size_t nbufs,
                                          const struct sockaddr *const *addrs);
/* The bytes, and the datagrams, queued and not yet sent. */
FUV_EXTERN size_t fuv_udp_get_send_queue_size(const fuv_udp_t *udp);
FUV_EXTERN size_t fuv_udp_get_send_queue_count(const fuv_udp_t *udp);

/* Starts receiving; cb runs for every datagram [uv_udp_recv_start]. A
 * socket without an address is bound to 0.0.0.0 and a free port first.
 * FUV_EALREADY when already receiving. */
FUV_EXTERN int fuv_udp_recv_start(fuv_udp_t *udp, fuv_udp_recv_cb cb,
                                  void *arg);
/* Stops receiving; no callback runs after it returns. */
FUV_EXTERN int fuv_udp_recv_stop(fuv_udp_t *udp);
/* 1 if the handle receives with recvmmsg(2) (FUV_UDP_RECVMMSG), else 0. */
FUV_EXTERN int fuv_udp_using_recvmmsg(const fuv_udp_t *udp);
/* The largest datagram the receive callback gets whole, 1-65536 (the
 * default, which no datagram exceeds): a longer one is cut to this size
 * and flagged FUV_UDP_PARTIAL. A smaller size lets a FUV_UDP_RECVMMSG
 * handle take more datagrams per system call (up to 64, from its 1 MiB
 * area); with GRO on, 65536 is used, since the kernel coalesces. */
FUV_EXTERN int fuv_udp_set_max_datagram(fuv_udp_t *udp, int size);
FUV_EXTERN int fuv_udp_get_max_datagram(const fuv_udp_t *udp);

/* Options. */

/* SO_BROADCAST: without it, a send to a broadcast address is FUV_EACCES. */
FUV_EXTERN int fuv_udp_set_broadcast(fuv_udp_t *udp, int on);
/* The unicast TTL (IPv6: hop limit), 1-255. */
FUV_EXTERN int fuv_udp_set_ttl(fuv_udp_t *udp, int ttl);
FUV_EXTERN int fuv_udp_get_ttl(const fuv_udp_t *udp);
/* The multicast TTL (hop limit), 0-255. */
FUV_EXTERN int fuv_udp_set_multicast_ttl(fuv_udp_t *udp, int ttl);
/* Whether multicast datagrams sent are looped back to this host. */
FUV_EXTERN int fuv_udp_set_multicast_loop(fuv_udp_t *udp, int on);
/* The interface multicast datagrams go out from: its IPv4 address, or for
 * IPv6 an address with its scope ("::%lo") or an interface name; NULL
 * for the system's choice. */
FUV_EXTERN int fuv_udp_set_multicast_interface(fuv_udp_t *udp,
                                               const char *interface_addr);
/* Joins (FUV_JOIN_GROUP) or leaves (FUV_LEAVE_GROUP) the multicast group
 * multicast_addr on the interface with interface_addr (NULL: the system's
 * choice). FUV_EINVAL for an address that is not multicast. */
FUV_EXTERN int fuv_udp_set_membership(fuv_udp_t *udp,
                                      const char *multicast_addr,
                                      const char *interface_addr,
                                      int membership);
/* As fuv_udp_set_membership, for datagrams of one source only
 * (source-specific multicast). */
FUV_EXTERN int fuv_udp_set_source_membership(fuv_udp_t *udp,
                                             const char *multicast_addr,
                                             const char *interface_addr,
                                             const char *source_addr,
                                             int membership);
/* The TOS byte (IPv4) or traffic class (IPv6) of datagrams sent, 0-255:
 * DSCP in its high six bits, ECN in its low two. */
FUV_EXTERN int fuv_udp_set_tos(fuv_udp_t *udp, int tos);
FUV_EXTERN int fuv_udp_get_tos(const fuv_udp_t *udp);
/* The ECN codepoint of datagrams sent, 0-3 (0 not ECT, 1 ECT(1), 2 ECT(0),
 * 3 CE), keeping the DSCP bits of the TOS byte. */
FUV_EXTERN int fuv_udp_set_ecn(fuv_udp_t *udp, int ecn);
FUV_EXTERN int fuv_udp_get_ecn(const fuv_udp_t *udp);
/* Asks the kernel for each received datagram's destination address
 * (IP_PKTINFO / IPV6_RECVPKTINFO) and TOS byte (IP_RECVTOS /
 * IPV6_RECVTCLASS), which fuv_udp_recv_dest() and fuv_udp_recv_tos() give
 * during the receive callback. */
FUV_EXTERN int fuv_udp_set_recv_dest(fuv_udp_t *udp, int on);
FUV_EXTERN int fuv_udp_set_recv_tos(fuv_udp_t *udp, int on);
/* During a receive callback, the address the datagram was sent to (e.g. a
 * multicast group, or one of several local addresses of a socket bound to
 * 0.0.0.0) and the socket's port. FUV_ENOENT outside a callback or when
 * fuv_udp_set_recv_dest() is off. */
FUV_EXTERN int fuv_udp_recv_dest(const fuv_udp_t *udp, char *ip,
                                 size_t iplen, int *port);
/* During a receive callback, the TOS byte (ECN in its low two bits) the
 * datagram arrived with; FUV_ENOENT as fuv_udp_recv_dest(). */
FUV_EXTERN int fuv_udp_recv_tos(const fuv_udp_t *udp);
/* UDP generic segmentation offload (UDP_SEGMENT): with a segment size
 * (1-65507), every datagram sent that is longer is cut by the kernel into
 * datagrams of that size (the last may be shorter), so one system call
 * sends up to 64 segments; 0 turns it off. FUV_ENOTSUP where the kernel
 * lacks it. */
FUV_EXTERN int fuv_udp_set_gso(fuv_udp_t *udp, int segment_size);
FUV_EXTERN int fuv_udp_get_gso(const fuv_udp_t *udp);
/* UDP generic receive offload (UDP_GRO): the kernel may coalesce datagrams
 * of one flow; flatuv splits them again, so the receive callback (and
 * fuv_udp_recv_sync()) still gets one datagram at a time, with fewer
 * system calls; those left when the callback stops receiving come first
 * when it starts again. Once on, the kernel's option stays on for the
 * socket's life (it stops telling how to split what it already coalesced
 * when turned off): turning GRO off then only makes fuv_udp_get_gro()
 * report 0. FUV_ENOTSUP where the kernel lacks it. */
FUV_EXTERN int fuv_udp_set_gro(fuv_udp_t *udp, int on);
FUV_EXTERN int fuv_udp_get_gro(const fuv_udp_t *udp);

/* ------------------------------------------------------------------------ */
/* Synchronous I/O with timeouts                                            */
/* ------------------------------------------------------------------------ */
/*
 * These block the calling thread (not the loop's callbacks: they do not run
 * the loop) for at most timeout_ms milliseconds; a negative timeout waits
 * for ever, 0 does not wait. They work on the same handles as the
 * asynchronous calls, which stay usable afterwards. FUV_ETIMEDOUT when the
 * time runs out; FUV_EBUSY when asynchronous I/O is in flight in the same
 * direction (a pending connect, reading, queued writes, or a listen with a
 * callback). As in libuv, they leave the loop's cached time as it was:
 * call fuv_update_time() before starting a timer right after one.
 */

/* Connects, waiting at most timeout_ms. A connect that times out or fails
 * is given up, and the handle can try to connect again. */
FUV_EXTERN int fuv_tcp_connect_sync(fuv_tcp_t *tcp, const char *ip, int port,
                                    int timeout_ms);
/* Waits for and accepts a connection on a stream listening with a NULL
 * callback; the new handle is the caller's. *client is NULL on failure.
 * TCP servers only; fuv_stream_accept_sync() takes any. */
FUV_EXTERN int fuv_accept_sync(fuv_stream_t *server, fuv_tcp_t **client,
                               int timeout_ms);
/* As fuv_accept_sync, for any stream server, into a new handle of the kind
 * fuv_stream_accept() would create. */
FUV_EXTERN int fuv_stream_accept_sync(fuv_stream_t *server,
                                      fuv_stream_t **client, int timeout_ms);
/* Connects a pipe to a filesystem path, waiting at most timeout_ms. */
FUV_EXTERN int fuv_pipe_connect_sync(fuv_pipe_t *pipe, const char *name,
                                     int timeout_ms);
/* Sends all len bytes, returning 0, or an error; on FUV_ETIMEDOUT or an
 * error, a prefix of the data may have been sent. */
FUV_EXTERN int fuv_send(fuv_stream_t *stream, const char *data, size_t len,
                        int timeout_ms);
/* Receives up to len bytes into buf: returns the count (> 0), 0 at end of
 * stream, or an error. On an IPC pipe it reads bytes only: a handle sent
 * with them is dropped, so read IPC pipes with fuv_read_start(). len 0 or a NULL buf is FUV_EINVAL, so that 0 always
 * means end of stream. */
FUV_EXTERN int fuv_recv(fuv_stream_t *stream, char *buf, size_t len,
                        int timeout_ms);

/* Sends one datagram to ip and port (or the connected peer when ip is
 * NULL), waiting at most timeout_ms for room in the kernel's buffer.
 * FUV_EBUSY while asynchronous sends are queued. */
FUV_EXTERN int fuv_udp_send_sync(fuv_udp_t *udp, const char *data,
                                 size_t len, const char *ip, int port,
                                 int timeout_ms);
/* Receives one datagram into buf (len bytes; a longer datagram is
 * truncated, so give 65536 to receive any), waiting at most timeout_ms,
 * and writes its sender into ip (iplen, at least FUV_IP_NAME_MAX: a smaller
 * one is FUV_ENOSPC before anything is received) and *port. Returns its
 * length (0 for an empty datagram). FUV_EBUSY while receiving asynchronously;
 * FUV_EINVAL for a NULL buf or len 0. */
FUV_EXTERN int fuv_udp_recv_sync(fuv_udp_t *udp, char *buf, size_t len,
                                 char *ip, size_t iplen, int *port,
                                 int timeout_ms);

/* ------------------------------------------------------------------------ */
/* Addresses                                                                */
/* ------------------------------------------------------------------------ */

/* Fill a sockaddr from text and port. FUV_EINVAL for a malformed address
 * or a port outside 0-65535. */
FUV_EXTERN int fuv_ip4_addr(const char *ip, int port,
                            struct sockaddr_in *addr);
FUV_EXTERN int fuv_ip6_addr(const char *ip, int port,
                            struct sockaddr_in6 *addr);
/* Writes the address of an AF_INET or AF_INET6 sockaddr as text.
 * FUV_ENOSPC if dst is too small, FUV_EAFNOSUPPORT for other families. */
FUV_EXTERN int fuv_ip_name(const struct sockaddr *addr, char *dst,
                           size_t size);

/* Splits an AF_INET or AF_INET6 sockaddr (as a receive callback gets it)
 * into text and port. FUV_ENOSPC if ip is too small, FUV_EAFNOSUPPORT for
 * other families. */
FUV_EXTERN int fuv_sockaddr_ip(const struct sockaddr *addr, char *ip,
                               size_t iplen, int *port);

#ifdef __cplusplus
}
#endif

#endif /* FLATUV_H */
