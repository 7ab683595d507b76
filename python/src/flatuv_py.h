/*
 * The Python side of flatuv's binding: the two base types the package's
 * classes derive from (LoopBase, HandleBase), the bridge's Python hooks,
 * and the helpers the SWIG typemaps in swig/python.i call.
 *
 * Object model. A Python handle object owns one C handle. The bridge
 * record attached to the C handle points back to the object, so callbacks
 * receive the very object the user holds. While the C handle is active or
 * closing, the object holds a reference to itself (`held`), so an active
 * handle lives without user references; once it is inactive again that
 * reference goes, and an unreferenced idle handle is closed by its
 * finalizer. A handle object keeps its Loop object alive; the Loop's
 * finalizer closes whatever is left and frees the C loop, so loops and
 * handles may be collected in any order.
 *
 * A pending request (connect, write, shutdown: whatever the bridge counts
 * in fuv_bridge_handle_requests, callback-less writes included, which are
 * the bridge's quiet requests) holds its handle the same way, so a client
 * that connects, writes and drops its object still sees both callbacks and
 * its bytes sent. The rule itself is fuv_bridge_handle_must_live, shared
 * with the Lua binding.
 *
 * GIL. Loop.run() releases the GIL for the whole of fuv_run(); the bridge's
 * enter/leave hooks take it back around each callback, so other Python
 * threads (Async.send) run while the loop waits in poll.
 *
 * Threads. Every call into the library claims the loop for the calling
 * thread until it returns (fuvpy_loop_enter/leave), decided under the GIL
 * before anything can release it: run() for the whole run, connect_sync()
 * and accept_sync() for their wait, any other call for its few
 * instructions (it may still run Python code, a finalizer, that lets
 * another thread in). A call from another thread while the loop is claimed
 * raises Error EBUSY. Two exceptions: Async.send, which any thread may call
 * at any time; and send()/recv(), which touch nothing but their own handle:
 * for their wait they trade the claim on the loop for one on their handle
 * (`busy`), so threads may block in them on handles of one loop at once,
 * and use its other handles meanwhile, but not run, walk or free it. A
 * handle collected on another thread while the loop is claimed is closed by
 * the claiming thread when its claim ends or at its next callback.
 */
#ifndef FLATUV_PY_H
#define FLATUV_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "flatuv.h"
#include "fuv_bridge.h"

typedef struct fuvpy_loop_s {
  PyObject_HEAD
  fuv_loop_t *loop; /* NULL before creation and once freed */
  fuv_bridge_loop_t *bridge;
  /* The thread state saved while fuv_run() waits without the GIL; NULL
   * while this thread holds it. */
  PyThreadState *released;
  int gil_depth; /* nesting of bridge enter/leave */
  int gil_taken; /* the outermost enter took the GIL back */
  PyObject *error; /* the first exception a callback raised, pending */
  int running;
  /* The thread whose calls into the library are under way, and how many
   * are nested (a callback's calls inside run(), ...); 0 when unclaimed. */
  unsigned long owner;
  unsigned claims;
  unsigned blocking; /* send()/recv() calls waiting on its handles */
  int teardown; /* closing everything: no more Python callbacks */
  /* Handles whose objects died on another thread while this loop ran:
   * closed by the loop's thread at its next callback or run(). */
  fuv_handle_t **deferred;
  size_t ndeferred, capdeferred;
  /* Requests whose objects died on another thread while this loop was
   * claimed: released by the loop's thread, as those handles are closed. */
  fuv_req_t **deferred_reqs;
  size_t ndeferred_reqs, capdeferred_reqs;
  int created;
  PyObject *weakreflist;
} fuvpy_loop_t;

typedef struct fuvpy_handle_s {
  PyObject_HEAD
  fuv_handle_t *handle; /* NULL before creation and once freed */
  fuv_bridge_handle_t *rec;
  fuvpy_loop_t *loop; /* strong reference once created */
  int kind;           /* fuv_handle_type_t, from the class's _fuv_kind */
  unsigned char created;
  unsigned char held;    /* holds a reference to itself */
  unsigned char busy;    /* in send()/recv() on some thread, without the GIL */
  PyObject *weakreflist;
} fuvpy_handle_t;

/* A request object (flatuv.Request): one reference to a fuv_req_t, given
 * back when the object is collected. The library may touch a request
 * from the loop's thread whenever the loop runs, so a request collected
 * on another thread while the loop is claimed is released by the claiming
 * thread (as handles are closed); otherwise at once, under the GIL. It
 * keeps its Loop object, which knows the claim. */
typedef struct fuvpy_req_s {
  PyObject_HEAD
  fuv_req_t *req;
  fuvpy_loop_t *loop; /* strong reference, or NULL */
} fuvpy_req_t;

extern PyTypeObject fuvpy_LoopType;
extern PyTypeObject fuvpy_HandleType;
extern PyTypeObject fuvpy_RequestType;

/* Module set-up: readies the types and adds them to the module. */
int fuvpy_module_init(PyObject *module);

/* Raises flatuv.Error for a FUV_E* code (msg may be NULL for the library's
 * message). Always returns -1. */
int fuvpy_raise(int code, const char *msg);

/* Names the call a pending flatuv.Error was raised in: the C function
 * (cfunc, "fuv_tcp_bind") and the arguments its SWIG wrapper took (args,
 * a tuple, may be NULL); the package's _name_error makes the message say
 * "TCP.bind(('999.1.1.1', 0)): [EINVAL] invalid argument". Any other
 * pending exception is left as it is. Every status typemap and every
 * loop or handle argument's calls it (swig/python.i), so the rule is one
 * for every generated method. */
void fuvpy_error_in(const char *cfunc, PyObject *args);

/* ---- what the typemaps call --------------------------------------------- */

/* Set by the loop and handle argument typemaps, read by the callback and
 * new-handle typemaps of the same wrapper. One per thread, so another
 * thread's calls cannot change them; the callback typemap takes its copy
 * as soon as it runs. */
extern _Thread_local fuv_bridge_loop_t *fuvpy_arg_bridge;
extern _Thread_local fuv_handle_t *fuvpy_arg_owner;

/* Bit masks of handle kinds an argument accepts. */
/* Every kind of the header's enum, so a kind added to it is a handle. */
#define FUVPY_ANY_HANDLE (((1u << FUV_HANDLE_TYPE_MAX) - 1u) & ~1u)
#define FUVPY_STREAM (1u << FUV_TCP)
/* An async handle for the one call any thread may make (fuv_async_send):
 * not refused while its loop runs on another thread. */
#define FUVPY_THREAD_SAFE (1u << FUV_HANDLE_TYPE_MAX)

/* Claims the loop for the calling thread (see Threads above): 0, or -1
 * with Error EBUSY when another thread has it. Every successful enter is
 * followed by one leave; the outermost leave closes the handles collected
 * on other threads meanwhile. Both take NULL as a no-op. */
int fuvpy_loop_enter(fuvpy_loop_t *loop);
void fuvpy_loop_leave(fuvpy_loop_t *loop);

/* A Loop argument: its C loop, or -1 with an exception (wrong type, not
 * created, closed, claimed by another thread). On success the loop is
 * entered and *entered set, for the wrapper to leave when it returns. */
int fuvpy_loop_arg(PyObject *obj, fuv_loop_t **out, fuvpy_loop_t **entered);
/* A handle argument of one of the kinds: its C handle or -1 with an
 * exception (TypeError for a wrong type or kind, flatuv.Error for a handle
 * not created or closed, or whose loop another thread has claimed). Enters
 * the loop as fuvpy_loop_arg does, except for FUVPY_THREAD_SAFE. */
int fuvpy_handle_arg(PyObject *obj, unsigned kinds, void **out,
                     fuvpy_loop_t **entered);
/* After a call that may have changed a handle's activity. */
void fuvpy_handle_sync(PyObject *obj);

/* A new-handle out-parameter: obj must be a handle object of the kind that
 * was not created yet. Kind 0 (FUV_UNKNOWN_HANDLE) is a handle type the
 * header gives no kind of its own: its object gets the kind of the C
 * handle its constructor makes. */
int fuvpy_new_handle_arg(PyObject *obj, int kind);
int fuvpy_new_loop_arg(PyObject *obj);
/* After the constructor succeeded: binds obj to the new C object. Returns
 * -1 with an exception (the C object is then closed or freed). */
int fuvpy_bind_handle(PyObject *obj, fuv_handle_t *handle);
int fuvpy_bind_loop(PyObject *obj, fuv_loop_t *loop);

/* A callback argument of the given bridge kind: None or a callable.
 * Prepares the registration; *fn gets the C entry point (NULL for None
 * where the library allows it). */
int fuvpy_callback_arg(PyObject *obj, int kind, void (**fn)(void),
                       fuv_bridge_reg_t **reg);
/* After the taking call succeeded: owner is the handle argument the
 * callback came with, or NULL for a constructor's (its new handle). */
void fuvpy_callback_commit(fuv_bridge_reg_t *reg, fuv_handle_t *owner);

/* Around the wait of send()/recv() on handle (the wrapper's claim on the
 * loop is *entered): trades that claim for the handle's busy mark, unless
 * the thread holds the loop anyway (inside run()). Returns what
 * fuvpy_blocking_end takes. */
fuvpy_handle_t *fuvpy_blocking_begin(fuv_handle_t *handle,
                                     fuvpy_loop_t **entered);
void fuvpy_blocking_end(fuvpy_handle_t *busy);
/* For run(), walk() and loop_free(), which touch every handle: raises
 * EBUSY while a send()/recv() waits on one of them. */
int fuvpy_loop_check_solo(fuv_loop_t *loop);

/* fuv_run with the GIL released and callback exceptions re-raised.
 * Returns fuv_run's result, or FUVPY_RAISED with an exception set. */
#define FUVPY_RAISED (-0x7fff)
int fuvpy_run(fuv_loop_t *loop, int mode);
/* Around fuv_walk: a callback's exception is raised by walk itself. */
PyObject *fuvpy_walk_begin(fuv_loop_t *loop);
int fuvpy_walk_end(fuv_loop_t *loop, PyObject *saved);
/* The Loop object of a C loop (a new reference), or None. */
PyObject *fuvpy_loop_result(fuv_loop_t *loop);
/* Frees a loop that has no handles left [fuv_loop_free]. */
int fuvpy_loop_free(fuv_loop_t *loop);

/* A request argument: its fuv_req_t (not NULL), the loop entered as
 * fuvpy_loop_arg does; -1 with an exception (TypeError, or Error EINVAL
 * for one the library never made). */
int fuvpy_request_arg(PyObject *obj, fuv_req_t **out, fuvpy_loop_t **entered);
/* A request out-parameter after the call: a new request object (of the
 * class _set_request_class registered) owning req's reference, made from
 * the loop of handle; None when req is NULL. Replaces result. */
PyObject *fuvpy_request_result(PyObject *result, fuv_req_t *req,
                               fuv_handle_t *handle);
PyObject *fuvpy_set_request_class(PyObject *self, PyObject *args);

/* After read_stop: the read callback is no longer needed. */
void fuvpy_read_stopped(fuv_handle_t *handle);

/* ---- argument helpers of the typemaps ----------------------------------- */

/* Largest buffer one fuv_recv() call fills; recv may return less anyway. */
#define FUVPY_MAX_RECV (4 * 1024 * 1024)
/* The longest pipe name getsockname() returns (sun_path is 108). */
#define FUVPY_NAME_MAX 256

/* The (bufs, lens, nbufs) triple of fuv_writev from a sequence of
 * bytes-like objects, whose buffers it holds until freed. */
typedef struct {
  const char **bufs;
  size_t *lens;
  Py_buffer *views;
  size_t n;
} fuvpy_bufvec_t;
fuvpy_bufvec_t *fuvpy_bufvec_new(PyObject *seq);
void fuvpy_bufvec_free(fuvpy_bufvec_t *vec);
/* A sockaddr from a bytes-like object, copied into zeroed storage so the
 * library never reads past what Python gave: 0, or -1 with an exception. */
int fuvpy_sockaddr_in(PyObject *obj, struct sockaddr_storage *ss);
/* Replaces a wrapper's status result with the real return value. */
PyObject *fuvpy_replace_result(PyObject *old, PyObject *value);
/* Adds value to the tuple of outputs in old (None: none yet), stealing
 * value and old; NULL on failure. */
PyObject *fuvpy_append_result(PyObject *old, PyObject *value);
/* An output after others: value alone when old is None, else old's
 * outputs and value as a tuple (recv_sync's (bytes, (host, port))),
 * stealing both; NULL on failure. */
PyObject *fuvpy_add_result(PyObject *old, PyObject *value);

/* Module functions: _set_error_factory(callable) registers the package's
 * error constructor; _set_release_gil(bool) is for the overhead benchmark
 * only (without it, another thread cannot run while the loop waits). */
PyObject *fuvpy_set_error_factory(PyObject *self, PyObject *args);
PyObject *fuvpy_set_write_general(PyObject *self, PyObject *args);
PyObject *fuvpy_set_release_gil(PyObject *self, PyObject *args);
extern int fuvpy_release_gil;

#endif /* FLATUV_PY_H */
