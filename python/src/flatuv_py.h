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
 * GIL. Loop.run() releases the GIL for the whole of fuv_run(); the bridge's
 * enter/leave hooks take it back around each callback, so other Python
 * threads (Async.send) run while the loop waits in poll.
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
  unsigned long running_thread;
  int teardown; /* closing everything: no more Python callbacks */
  /* Handles whose objects died on another thread while this loop ran:
   * closed by the loop's thread at its next callback or run(). */
  fuv_handle_t **deferred;
  size_t ndeferred, capdeferred;
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
  unsigned char barrier; /* a zero-length write watches the write queue */
  unsigned busy;         /* inside a blocking call without the GIL */
  PyObject *weakreflist;
} fuvpy_handle_t;

extern PyTypeObject fuvpy_LoopType;
extern PyTypeObject fuvpy_HandleType;

/* Module set-up: readies the types and adds them to the module. */
int fuvpy_module_init(PyObject *module);

/* Raises flatuv.Error for a FUV_E* code (msg may be NULL for the library's
 * message). Always returns -1. */
int fuvpy_raise(int code, const char *msg);

/* ---- what the typemaps call --------------------------------------------- */

/* Set by the loop and handle argument typemaps, read by the callback and
 * new-handle typemaps of the same wrapper. Argument conversion runs no
 * Python code, so nothing can change them in between. */
extern fuv_bridge_loop_t *fuvpy_arg_bridge;
extern fuv_handle_t *fuvpy_arg_owner;
extern fuvpy_handle_t *fuvpy_arg_object;

/* Bit masks of handle kinds an argument accepts. */
#define FUVPY_ANY_HANDLE                                                     \
  ((1u << FUV_TCP) | (1u << FUV_TIMER) | (1u << FUV_ASYNC))
#define FUVPY_STREAM (1u << FUV_TCP)
/* An async handle for the one call any thread may make (fuv_async_send):
 * not refused while its loop runs on another thread. */
#define FUVPY_THREAD_SAFE (1u << FUV_HANDLE_TYPE_MAX)

/* A Loop argument: its C loop, or -1 with an exception (wrong type, not
 * created, closed). */
int fuvpy_loop_arg(PyObject *obj, fuv_loop_t **out);
/* A handle argument of one of the kinds: its C handle or -1 with an
 * exception (TypeError for a wrong type or kind, flatuv.Error for a handle
 * not created or closed, or whose loop runs on another thread). */
int fuvpy_handle_arg(PyObject *obj, unsigned kinds, void **out);
/* After a call that may have changed a handle's activity. */
void fuvpy_handle_sync(PyObject *obj);

/* A new-handle out-parameter: obj must be a handle object of the kind that
 * was not created yet. */
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
/* After the taking call succeeded. */
void fuvpy_callback_commit(fuv_bridge_reg_t *reg);

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

/* Marks the handle object as inside a blocking call (close() then fails
 * with EBUSY instead of freeing the handle under it). */
void fuvpy_busy_begin(fuvpy_handle_t *obj);
void fuvpy_busy_end(fuvpy_handle_t *obj);
/* Refuses to close a handle that is inside a blocking call. */
int fuvpy_close_check(fuv_handle_t *handle);
/* After read_stop: the read callback is no longer needed. */
void fuvpy_read_stopped(fuv_handle_t *handle);

/* Module functions: _set_error_factory(callable) registers the package's
 * error constructor; _set_release_gil(bool) is for the overhead benchmark
 * only (without it, another thread cannot run while the loop waits). */
PyObject *fuvpy_set_error_factory(PyObject *self, PyObject *args);
PyObject *fuvpy_set_write_general(PyObject *self, PyObject *args);
PyObject *fuvpy_set_release_gil(PyObject *self, PyObject *args);
extern int fuvpy_release_gil;

#endif /* FLATUV_PY_H */
