/* The Python side of the binding: see flatuv_py.h. */
#include "flatuv_py.h"

#include <string.h>

_Thread_local fuv_bridge_loop_t *fuvpy_arg_bridge;
_Thread_local fuv_handle_t *fuvpy_arg_owner;
int fuvpy_release_gil = 1;

/* flatuv._make_error(code, message=None), registered by the package. */
static PyObject *error_factory;
/* flatuv._name_error(error, c_function, args), registered with it. */
static PyObject *error_namer;

int fuvpy_raise(int code, const char *msg) {
  PyObject *exc = NULL;

  if (error_factory != NULL) {
    PyObject *m = msg != NULL ? PyUnicode_FromString(msg) : Py_NewRef(Py_None);
    if (m != NULL) {
      exc = PyObject_CallFunction(error_factory, "iO", code, m);
      Py_DECREF(m);
    }
    if (exc == NULL)
      return -1;
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
    return -1;
  }
  PyErr_Format(PyExc_OSError, "%s: %s", fuv_err_name(code),
               msg != NULL ? msg : fuv_strerror(code));
  return -1;
}

void fuvpy_error_in(const char *cfunc, PyObject *args) {
  PyObject *type, *value, *tb, *r;

  if (error_namer == NULL || !PyErr_Occurred())
    return;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (value != NULL) {
    r = PyObject_CallFunction(error_namer, "OsO", value, cfunc,
                              args != NULL ? args : Py_None);
    if (r == NULL) {
      /* Naming failed: the original error stands. */
      PyErr_Clear();
    } else {
      Py_DECREF(r);
    }
  }
  PyErr_Restore(type, value, tb);
}

/* An exception object for a status, or None for 0 (a new reference). */
static PyObject *status_object(long long status) {
  if (status >= 0 || error_factory == NULL)
    return Py_NewRef(Py_None);
  return PyObject_CallFunction(error_factory, "iO", (int)status, Py_None);
}

/* ---- holding handles while they are active -------------------------------- */

static void hold(fuvpy_handle_t *self, int want) {
  if (want && !self->held) {
    self->held = 1;
    Py_INCREF(self);
  } else if (!want && self->held) {
    self->held = 0;
    Py_DECREF(self); /* may be the last reference: the finalizer closes */
  }
}

/* The rule is the bridge's (fuv_bridge_handle_must_live: active, closing,
 * or a request pending, callback-less writes included); during the loop's
 * teardown nothing is held any more. */
static void handle_sync(fuvpy_handle_t *self) {
  hold(self, self->handle != NULL && !self->loop->teardown &&
                 fuv_bridge_handle_must_live(self->handle));
}

static int claimed_by_other(const fuvpy_loop_t *loop);
static int raise_claimed(const fuvpy_loop_t *loop);

/* After send() or recv(), which gave up their claim on the loop for the
 * wait, another thread may hold it: the handle's activity did not change
 * then, and nothing here may touch the loop. */
void fuvpy_handle_sync(PyObject *obj) {
  fuvpy_handle_t *self = (fuvpy_handle_t *)obj;
  if (obj != NULL && PyObject_TypeCheck(obj, &fuvpy_HandleType) &&
      (self->loop == NULL || !claimed_by_other(self->loop)))
    handle_sync(self);
}

/* ---- the bridge's Python hooks ------------------------------------------- */

static void process_deferred(fuvpy_loop_t *self);

static void hook_enter(void *state) {
  fuvpy_loop_t *self = state;
  if (self->gil_depth++ == 0 && self->released != NULL) {
    PyThreadState *ts = self->released;
    self->released = NULL;
    PyEval_RestoreThread(ts);
    self->gil_taken = 1;
  }
  if (self->gil_depth == 1 &&
      (self->ndeferred > 0 || self->ndeferred_reqs > 0))
    process_deferred(self);
}

static void hook_leave(void *state) {
  fuvpy_loop_t *self = state;
  if (--self->gil_depth == 0 && self->gil_taken) {
    self->gil_taken = 0;
    self->released = PyEval_SaveThread();
  }
}

/* Keeps the first exception a callback raised for run() to re-raise, and
 * stops the loop; later ones in the same iteration are reported the way
 * Python reports exceptions it cannot raise. */
static void callback_failed(fuvpy_loop_t *self, PyObject *callable) {
  if (self->error == NULL) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL)
      PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    self->error = value;
  } else {
    PyErr_WriteUnraisable(callable);
  }
  /* Outside run() (a walk) there is nothing to stop, and a stop flag left
   * set would end the next run() at once. */
  if (self->running)
    fuv_stop(self->loop);
}

static void hook_call(void *state, fuv_bridge_kind_t kind, void *host_ref,
                      const fuv_bridge_value_t *args, unsigned nargs) {
  fuvpy_loop_t *self = state;
  PyObject *callable = host_ref;
  PyObject *stack[1 + FUV_BRIDGE_MAX_ARGS];
  PyObject **argv = stack + 1;
  PyObject *handle_obj = args[0].object;
  PyObject *result;
  unsigned i, pos = 1, made = 0, norder = 0;
  unsigned order[FUV_BRIDGE_MAX_ARGS];
  (void)kind;

  if (callable == NULL || handle_obj == NULL || self->teardown)
    goto sync;
  Py_INCREF(handle_obj);
  argv[0] = handle_obj;
  /* pyuv's order: the handle, then a datagram's address and flags, then
   * the data and error (a UDP receive callback(handle, (ip, port), flags,
   * data, error)); otherwise C's. */
  for (i = 1; i < nargs; i++)
    if (args[i].type == FUV_BRIDGE_ARG_SOCKADDR ||
        args[i].type == FUV_BRIDGE_ARG_FLAGS)
      order[norder++] = i;
  for (i = 1; i < nargs; i++)
    if (args[i].type != FUV_BRIDGE_ARG_SOCKADDR &&
        args[i].type != FUV_BRIDGE_ARG_FLAGS)
      order[norder++] = i;
  for (pos = 1; pos < nargs; pos++) {
    const fuv_bridge_value_t *v;
    PyObject *o;
    i = order[pos - 1];
    v = &args[i];
    switch (v->type) {
    case FUV_BRIDGE_ARG_NREAD: /* data: bytes (b"" for an empty datagram),
                                  or None at EOF or error */
      o = v->integer >= 0 && i + 1 < nargs
              ? PyBytes_FromStringAndSize(
                    v->integer > 0 ? args[i + 1].bytes : "",
                    (Py_ssize_t)v->integer)
              : Py_NewRef(Py_None);
      break;
    case FUV_BRIDGE_ARG_SOCKADDR: /* (ip, port), or None */
      o = v->family == FUV_AF_UNSPEC
              ? Py_NewRef(Py_None)
              : Py_BuildValue("(si)", v->ip, v->port);
      break;
    case FUV_BRIDGE_ARG_FLAGS:
      o = PyLong_FromLongLong(v->integer);
      break;
    case FUV_BRIDGE_ARG_BYTES: /* error: None for data and at EOF */
      o = status_object(args[i - 1].integer == FUV_EOF ? 0
                                                       : args[i - 1].integer);
      break;
    case FUV_BRIDGE_ARG_HANDLE:
      o = Py_NewRef(v->object != NULL ? (PyObject *)v->object : Py_None);
      break;
    default: /* STATUS: None, or the error as an exception object */
      o = status_object(v->integer);
      break;
    }
    if (o == NULL)
      break;
    argv[made = pos] = o;
  }
  if (pos == nargs) {
    result = PyObject_Vectorcall(callable, argv,
                                 nargs | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    if (result == NULL)
      callback_failed(self, callable);
    Py_XDECREF(result);
  } else {
    callback_failed(self, callable);
  }
  for (i = 1; i <= made; i++)
    Py_DECREF(argv[i]);
  handle_sync((fuvpy_handle_t *)handle_obj);
  Py_DECREF(handle_obj);
  return;

sync:
  if (handle_obj != NULL)
    handle_sync((fuvpy_handle_t *)handle_obj);
}

static void hook_release(void *state, void *host_ref) {
  (void)state;
  Py_DECREF((PyObject *)host_ref);
}

static void hook_handle_freed(void *state, void *object) {
  fuvpy_handle_t *h = object;
  (void)state;
  h->handle = NULL;
  h->rec = NULL;
  hold(h, 0);
}

static const fuv_bridge_hooks_t python_hooks = {
    hook_enter, hook_leave, hook_call, hook_release, hook_handle_freed};

/* ---- closing handles nobody references ------------------------------------ */

/* Closes through the bridge, without a Python callback, so that the record
 * (and any callback the handle still holds) goes with the handle. */
static void close_unowned(fuvpy_loop_t *loop, fuv_handle_t *handle) {
  fuv_bridge_reg_t *reg;
  void (*fn)(void);

  if (fuv_is_closing(handle))
    return;
  if (fuv_bridge_handle_of(handle) != NULL &&
      fuv_bridge_prepare(loop->bridge, FUV_BRIDGE_CLOSE_CB, NULL, &reg, &fn) ==
          0) {
    if (fuv_close(handle, (fuv_close_cb)fn, NULL) == 0)
      fuv_bridge_commit(reg, handle);
    else
      fuv_bridge_discard(reg);
  } else {
    fuv_close(handle, NULL, NULL);
  }
}

static void process_deferred(fuvpy_loop_t *self) {
  while (self->ndeferred_reqs > 0)
    fuv_req_release(self->deferred_reqs[--self->ndeferred_reqs]);
  while (self->ndeferred > 0)
    close_unowned(self, self->deferred[--self->ndeferred]);
}

/* The loop may only be touched by the thread that has claimed it. */
static void close_or_defer(fuvpy_loop_t *loop, fuv_handle_t *handle) {
  if (claimed_by_other(loop)) {
    if (loop->ndeferred == loop->capdeferred) {
      size_t cap = loop->capdeferred ? 2 * loop->capdeferred : 16;
      fuv_handle_t **grown =
          PyMem_Realloc(loop->deferred, cap * sizeof *grown);
      if (grown == NULL)
        return; /* the loop's end closes it */
      loop->deferred = grown;
      loop->capdeferred = cap;
    }
    loop->deferred[loop->ndeferred++] = handle;
    return;
  }
  fuvpy_loop_enter(loop);
  close_unowned(loop, handle);
  fuvpy_loop_leave(loop);
}

/* ---- HandleBase ------------------------------------------------------------ */

static PyObject *handle_new(PyTypeObject *type, PyObject *args,
                            PyObject *kwds) {
  fuvpy_handle_t *self;
  PyObject *kind;
  (void)args;
  (void)kwds;

  self = (fuvpy_handle_t *)type->tp_alloc(type, 0);
  if (self == NULL)
    return NULL;
  /* The class says which kind of C handle its objects own. */
  kind = PyObject_GetAttrString((PyObject *)type, "_fuv_kind");
  if (kind != NULL) {
    long k = PyLong_AsLong(kind);
    self->kind = k > 0 && k < FUV_HANDLE_TYPE_MAX ? (int)k : 0;
    Py_DECREF(kind);
  }
  PyErr_Clear();
  return (PyObject *)self;
}

/* An unreferenced handle: closed if still open (the finalizer of idle
 * handles, and of any handle of a loop being collected). */
static void handle_finalize(PyObject *obj) {
  fuvpy_handle_t *self = (fuvpy_handle_t *)obj;
  PyObject *type, *value, *tb;

  PyErr_Fetch(&type, &value, &tb);
  if (self->handle != NULL) {
    fuv_handle_t *handle = self->handle;
    fuv_bridge_handle_set_object(self->rec, NULL);
    self->handle = NULL;
    self->rec = NULL;
    close_or_defer(self->loop, handle);
  }
  /* Held only when collected with an unreachable loop (the GC keeps the
   * object alive during finalizers): nothing will release it later. */
  hold(self, 0);
  PyErr_Restore(type, value, tb);
}

static int handle_traverse(PyObject *obj, visitproc visit, void *arg) {
  Py_VISIT(((fuvpy_handle_t *)obj)->loop);
  return 0;
}

static int handle_clear(PyObject *obj) {
  fuvpy_handle_t *self = (fuvpy_handle_t *)obj;
  /* An open handle needs its loop until the finalizer has closed it. */
  if (self->handle == NULL)
    Py_CLEAR(self->loop);
  return 0;
}

static void handle_dealloc(PyObject *obj) {
  fuvpy_handle_t *self = (fuvpy_handle_t *)obj;
  PyObject_GC_UnTrack(obj);
  if (PyObject_CallFinalizerFromDealloc(obj) < 0)
    return; /* resurrected */
  if (self->weakreflist != NULL)
    PyObject_ClearWeakRefs(obj);
  Py_CLEAR(self->loop);
  Py_TYPE(obj)->tp_free(obj);
}

static PyObject *handle_get_loop(PyObject *obj, void *closure) {
  fuvpy_handle_t *self = (fuvpy_handle_t *)obj;
  (void)closure;
  return Py_NewRef(self->loop != NULL ? (PyObject *)self->loop : Py_None);
}

/* The handle's flags belong to the thread that claimed the loop: another
 * thread asking gets EBUSY, as for every call (flatuv_py.h, Threads). */
static PyObject *handle_get_closed(PyObject *obj, void *closure) {
  fuvpy_handle_t *self = (fuvpy_handle_t *)obj;
  (void)closure;
  if (self->handle != NULL && claimed_by_other(self->loop))
    return raise_claimed(self->loop), NULL;
  return PyBool_FromLong(self->created &&
                         (self->handle == NULL || fuv_is_closing(self->handle)));
}

/* ---- Stream.write's fast path ---------------------------------------------- */

/* The general wrapper, flatuv._flatuv.fuv_write, registered by the package. */
static PyObject *write_general;

/* Splits write's arguments (data, callback=None), positional or by name. */
static int write_args(PyObject *const *args, Py_ssize_t nargs,
                      PyObject *kwnames, PyObject **data, PyObject **callback) {
  Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
  *data = nargs > 0 ? args[0] : NULL;
  *callback = nargs > 1 ? args[1] : NULL;
  if (nargs > 2)
    goto bad;
  for (Py_ssize_t i = 0; i < nkw; i++) {
    PyObject *name = PyTuple_GET_ITEM(kwnames, i);
    PyObject **slot;
    if (PyUnicode_CompareWithASCIIString(name, "data") == 0)
      slot = data;
    else if (PyUnicode_CompareWithASCIIString(name, "callback") == 0)
      slot = callback;
    else
      goto bad;
    if (*slot != NULL)
      goto bad;
    *slot = args[nargs + i];
  }
  if (*data == NULL)
    goto bad;
  if (*callback == NULL)
    *callback = Py_None;
  return 0;
bad:
  PyErr_SetString(PyExc_TypeError,
                  "write() takes data and an optional callback");
  return -1;
}

/* An echo server calls write once per message, so bytes without a
 * callback go straight to fuv_bridge_write (a quiet request: no closure,
 * and no Python code when it completes on a handle still needed): no
 * Python frame, no argument conversion. Everything else (a callback, another buffer type, a closed
 * handle, one another thread blocks on in send()/recv()) takes the general
 * wrapper, so behaviour and errors are exactly the same either way. */
static PyObject *handle_stream_write(PyObject *obj, PyObject *const *args,
                                     Py_ssize_t nargs, PyObject *kwnames) {
  fuvpy_handle_t *self = (fuvpy_handle_t *)obj;
  PyObject *data, *callback;
  int r;

  if (write_args(args, nargs, kwnames, &data, &callback) < 0)
    return NULL;
  if (callback != Py_None || !PyBytes_CheckExact(data) ||
      self->kind != FUV_TCP || self->handle == NULL || self->busy ||
      write_general == NULL) {
    if (write_general == NULL) {
      PyErr_SetString(PyExc_RuntimeError, "flatuv is not initialised");
      return NULL;
    }
    return PyObject_CallFunctionObjArgs(write_general, obj, data, callback,
                                        NULL);
  }
  /* The same claim, and the same EBUSY, as the general wrapper's. */
  if (fuvpy_loop_enter(self->loop) < 0)
    return NULL;
  /* A quiet request: no callback, but counted until it completes. */
  r = fuv_bridge_write((fuv_stream_t *)self->handle, PyBytes_AS_STRING(data),
                       (size_t)PyBytes_GET_SIZE(data));
  if (r == 0)
    handle_sync(self); /* the write holds the handle until it is out */
  fuvpy_loop_leave(self->loop);
  if (r < 0) {
    PyObject *call_args = PyTuple_Pack(2, obj, data);
    fuvpy_raise(r, NULL);
    fuvpy_error_in("fuv_write", call_args);
    Py_XDECREF(call_args);
    return NULL;
  }
  Py_RETURN_NONE;
}

PyObject *fuvpy_set_write_general(PyObject *self, PyObject *args) {
  PyObject *general;
  (void)self;
  if (!PyArg_ParseTuple(args, "O:_set_write_general", &general))
    return NULL;
  Py_INCREF(general);
  Py_XSETREF(write_general, general);
  Py_RETURN_NONE;
}

static PyMethodDef handle_methods[] = {
    {"_stream_write", (PyCFunction)(void (*)(void))handle_stream_write,
     METH_FASTCALL | METH_KEYWORDS,
     "_stream_write($self, data, callback=None)\n--\n\n"
     "Writes bytes (any bytes-like object); what the kernel does not take at\n"
     "once is copied and queued, in order. callback(stream, error) gets the\n"
     "outcome.\n\nC: int fuv_write(fuv_stream_t *stream, const char *data, "
     "size_t len, fuv_write_cb cb, void *arg)"},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef handle_getset[] = {
    {"loop", handle_get_loop, NULL,
     "The Loop this handle belongs to (None before it is created).", NULL},
    {"closed", handle_get_closed, NULL,
     "True once close() was called (or the handle was collected).", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyTypeObject fuvpy_HandleType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "flatuv._flatuv.HandleBase",
    .tp_basicsize = sizeof(fuvpy_handle_t),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The C part of every flatuv handle object.",
    .tp_new = handle_new,
    .tp_dealloc = handle_dealloc,
    .tp_finalize = handle_finalize,
    .tp_traverse = handle_traverse,
    .tp_clear = handle_clear,
    .tp_weaklistoffset = offsetof(fuvpy_handle_t, weakreflist),
    .tp_getset = handle_getset,
    .tp_methods = handle_methods,
};

/* ---- LoopBase -------------------------------------------------------------- */

static fuvpy_loop_t *loop_object(const fuv_loop_t *loop) {
  return fuv_bridge_loop_host_state(fuv_bridge_loop_of(loop));
}

static void close_each(fuv_handle_t *handle, void *arg) {
  close_unowned(arg, handle);
}

/* Frees the C loop. Without force, only when no handle is left (EBUSY
 * otherwise); with force (the loop object is being collected), closes every
 * handle first, without Python callbacks. */
static int loop_teardown(fuvpy_loop_t *self, int force) {
  int r;

  if (self->loop == NULL)
    return 0;
  if (self->running || claimed_by_other(self))
    return FUV_EBUSY;
  if (!force && fuv_bridge_loop_handle_count(self->bridge) > 0)
    return FUV_EBUSY;
  self->teardown = 1;
  process_deferred(self);
  fuv_walk(self->loop, close_each, self);
  for (int i = 0; i < 1000 && fuv_loop_alive(self->loop); i++)
    fuv_run(self->loop, FUV_RUN_NOWAIT);
  r = fuv_bridge_loop_free(self->bridge);
  self->teardown = 0;
  if (r != 0)
    return r; /* cannot happen with every handle closed; leak, not crash */
  self->loop = NULL;
  self->bridge = NULL;
  return 0;
}

static PyObject *loop_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
  (void)args;
  (void)kwds;
  return type->tp_alloc(type, 0);
}

static void loop_finalize(PyObject *obj) {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  loop_teardown((fuvpy_loop_t *)obj, 1);
  PyErr_Restore(type, value, tb);
}

typedef struct {
  visitproc visit;
  void *arg;
} visit_t;

static int visit_held(void *object, void *arg) {
  fuvpy_handle_t *handle = object;
  visit_t *v = arg;
  if (handle->held)
    return v->visit((PyObject *)handle, v->arg);
  return 0;
}

/* The reference an active handle holds on itself is, in effect, its
 * loop's: reporting it here lets the GC collect a loop that nothing can
 * reach any more together with its active handles (they could never run
 * again). While anything reaches the loop or a handle, nothing changes. */
static int loop_traverse(PyObject *obj, visitproc visit, void *arg) {
  fuvpy_loop_t *self = (fuvpy_loop_t *)obj;
  visit_t v = {visit, arg};
  Py_VISIT(self->error);
  return fuv_bridge_loop_foreach_object(self->bridge, visit_held, &v);
}

static int loop_clear(PyObject *obj) {
  Py_CLEAR(((fuvpy_loop_t *)obj)->error);
  return 0;
}

static void loop_dealloc(PyObject *obj) {
  fuvpy_loop_t *self = (fuvpy_loop_t *)obj;
  PyObject_GC_UnTrack(obj);
  if (PyObject_CallFinalizerFromDealloc(obj) < 0)
    return;
  if (self->weakreflist != NULL)
    PyObject_ClearWeakRefs(obj);
  Py_CLEAR(self->error);
  PyMem_Free(self->deferred);
  /* No request object has this loop any more: nobody else can touch
   * those requests now. */
  while (self->ndeferred_reqs > 0)
    fuv_req_release(self->deferred_reqs[--self->ndeferred_reqs]);
  PyMem_Free(self->deferred_reqs);
  Py_TYPE(obj)->tp_free(obj);
}

static PyObject *loop_get_closed(PyObject *obj, void *closure) {
  fuvpy_loop_t *self = (fuvpy_loop_t *)obj;
  (void)closure;
  return PyBool_FromLong(self->created && self->loop == NULL);
}

static PyGetSetDef loop_getset[] = {
    {"closed", loop_get_closed, NULL, "True once the loop was freed.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyTypeObject fuvpy_LoopType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "flatuv._flatuv.LoopBase",
    .tp_basicsize = sizeof(fuvpy_loop_t),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The C part of flatuv.Loop.",
    .tp_new = loop_new,
    .tp_dealloc = loop_dealloc,
    .tp_finalize = loop_finalize,
    .tp_traverse = loop_traverse,
    .tp_clear = loop_clear,
    .tp_weaklistoffset = offsetof(fuvpy_loop_t, weakreflist),
    .tp_getset = loop_getset,
};

/* ---- typemap helpers ------------------------------------------------------- */

/* ---- claiming the loop ------------------------------------------------------ */

static int claimed_by_other(const fuvpy_loop_t *loop) {
  return loop->claims > 0 && loop->owner != PyThread_get_thread_ident();
}

/* Error EBUSY for a loop another thread has claimed; returns -1. */
static int raise_claimed(const fuvpy_loop_t *loop) {
  return fuvpy_raise(FUV_EBUSY, loop->running
                                    ? "the loop is running in another thread "
                                      "(wake it with Async.send)"
                                    : "the loop is in use by another thread "
                                      "(a blocking call)");
}

int fuvpy_loop_enter(fuvpy_loop_t *loop) {
  unsigned long me;
  if (loop == NULL)
    return 0;
  me = PyThread_get_thread_ident();
  if (loop->claims > 0 && loop->owner != me)
    return raise_claimed(loop);
  if (loop->claims++ == 0)
    loop->owner = me;
  return 0;
}

void fuvpy_loop_leave(fuvpy_loop_t *loop) {
  if (loop == NULL || loop->claims == 0)
    return;
  /* Still claimed while the deferred closes run: they may run finalizers
   * that let another thread in. */
  if (loop->claims == 1 &&
      (loop->ndeferred > 0 || loop->ndeferred_reqs > 0) &&
      loop->loop != NULL && !loop->teardown)
    process_deferred(loop);
  if (--loop->claims == 0)
    loop->owner = 0;
}

int fuvpy_loop_arg(PyObject *obj, fuv_loop_t **out, fuvpy_loop_t **entered) {
  fuvpy_loop_t *self;
  if (!PyObject_TypeCheck(obj, &fuvpy_LoopType)) {
    PyErr_Format(PyExc_TypeError, "expected a flatuv.Loop, not %.100s",
                 Py_TYPE(obj)->tp_name);
    return -1;
  }
  self = (fuvpy_loop_t *)obj;
  if (self->loop == NULL)
    return fuvpy_raise(FUV_EINVAL, self->created ? "loop is closed"
                                                 : "loop was not created");
  if (fuvpy_loop_enter(self) < 0)
    return -1;
  *entered = self;
  fuvpy_arg_bridge = self->bridge;
  fuvpy_arg_owner = NULL;
  *out = self->loop;
  return 0;
}

static const char *kind_name(unsigned kinds) {
  if (kinds == FUVPY_THREAD_SAFE)
    kinds = 1u << FUV_ASYNC;
  if (kinds == FUVPY_STREAM)
    return "flatuv stream (TCP)";
  if (kinds == (1u << FUV_TIMER))
    return "flatuv.Timer";
  if (kinds == (1u << FUV_ASYNC))
    return "flatuv.Async";
  return "flatuv handle";
}

int fuvpy_handle_arg(PyObject *obj, unsigned kinds, void **out,
                     fuvpy_loop_t **entered) {
  fuvpy_handle_t *self;
  unsigned accepted = kinds == FUVPY_THREAD_SAFE ? 1u << FUV_ASYNC : kinds;
  if (!PyObject_TypeCheck(obj, &fuvpy_HandleType) ||
      !(accepted & (1u << ((fuvpy_handle_t *)obj)->kind))) {
    PyErr_Format(PyExc_TypeError, "expected a %s, not %.100s",
                 kind_name(kinds), Py_TYPE(obj)->tp_name);
    return -1;
  }
  self = (fuvpy_handle_t *)obj;
  if (self->handle == NULL)
    return fuvpy_raise(FUV_EINVAL, self->created ? "handle is closed"
                                                 : "handle was not created");
  if (kinds != FUVPY_THREAD_SAFE) {
    if (self->busy)
      return fuvpy_raise(FUV_EBUSY, "the handle is in a blocking call in "
                                    "another thread");
    if (fuvpy_loop_enter(self->loop) < 0)
      return -1;
    *entered = self->loop;
  }
  fuvpy_arg_bridge = self->loop->bridge;
  fuvpy_arg_owner = self->handle;
  *out = self->handle;
  return 0;
}

int fuvpy_new_handle_arg(PyObject *obj, int kind) {
  fuvpy_handle_t *self;
  if (!PyObject_TypeCheck(obj, &fuvpy_HandleType) ||
      ((fuvpy_handle_t *)obj)->kind != kind) {
    PyErr_Format(PyExc_TypeError, "expected a new %s, not %.100s",
                 kind_name(1u << kind), Py_TYPE(obj)->tp_name);
    return -1;
  }
  self = (fuvpy_handle_t *)obj;
  if (self->created) {
    PyErr_SetString(PyExc_ValueError, "handle object was already created");
    return -1;
  }
  return 0;
}

int fuvpy_new_loop_arg(PyObject *obj) {
  if (!PyObject_TypeCheck(obj, &fuvpy_LoopType)) {
    PyErr_Format(PyExc_TypeError, "expected a new flatuv.Loop, not %.100s",
                 Py_TYPE(obj)->tp_name);
    return -1;
  }
  if (((fuvpy_loop_t *)obj)->created) {
    PyErr_SetString(PyExc_ValueError, "loop object was already created");
    return -1;
  }
  return 0;
}

int fuvpy_bind_handle(PyObject *obj, fuv_handle_t *handle) {
  fuvpy_handle_t *self = (fuvpy_handle_t *)obj;
  fuvpy_loop_t *loop = loop_object(fuv_handle_loop(handle));
  int r;

  if (loop == NULL) {
    fuv_close(handle, NULL, NULL);
    return fuvpy_raise(FUV_EINVAL, "loop has no bridge");
  }
  r = fuv_bridge_handle_attach(handle, self, &self->rec);
  if (r != 0) {
    fuv_close(handle, NULL, NULL);
    return fuvpy_raise(r, NULL);
  }
  self->handle = handle;
  self->created = 1;
  if (self->kind == FUV_UNKNOWN_HANDLE)
    self->kind = (int)fuv_handle_type(handle);
  Py_INCREF(loop);
  Py_XSETREF(self->loop, loop);
  fuvpy_arg_owner = handle;
  handle_sync(self);
  return 0;
}

int fuvpy_bind_loop(PyObject *obj, fuv_loop_t *loop) {
  fuvpy_loop_t *self = (fuvpy_loop_t *)obj;
  int r = fuv_bridge_loop_new(&self->bridge, loop, &python_hooks, self);
  if (r == 0)
    r = fuv_loop_set_interruptible(loop, 1);
  /* Made now rather than at the first run(), so the loop's fds are all
   * there from its creation on (see signal_wakeup_begin). */
  if (r == 0) {
    r = fuv_loop_wakeup_fd(loop);
    r = r < 0 ? r : 0;
  }
  if (r != 0) {
    if (self->bridge != NULL)
      fuv_bridge_loop_free(self->bridge);
    else
      fuv_loop_free(loop);
    self->bridge = NULL;
    return fuvpy_raise(r, NULL);
  }
  self->loop = loop;
  self->created = 1;
  return 0;
}

int fuvpy_callback_arg(PyObject *obj, int kind, void (**fn)(void),
                       fuv_bridge_reg_t **reg) {
  const fuv_bridge_signature_t *sig = fuv_bridge_signature(kind);
  PyObject *ref = NULL;
  int r;

  *fn = NULL;
  *reg = NULL;
  if (sig == NULL) {
    PyErr_SetString(PyExc_SystemError, "callback type unknown to the bridge");
    return -1;
  }
  if (fuvpy_arg_bridge == NULL)
    return fuvpy_raise(FUV_EINVAL, "no loop for the callback");
  if (obj == Py_None) {
    /* Without a callable a request (write, connect, shutdown) is quiet: no
     * closure, still counted as pending until it completes, and reported
     * (handle_sync, from hook_call) only if the handle may then be let go.
     * A close without a callable registers with no host reference, so the
     * record goes with the handle. */
    if (sig->lifetime != FUV_BRIDGE_ONE_SHOT)
      return 0;
    if (kind != FUV_BRIDGE_CLOSE_CB) {
      r = fuv_bridge_prepare_quiet(fuvpy_arg_bridge, (fuv_bridge_kind_t)kind,
                                   reg, fn);
      return r != 0 ? fuvpy_raise(r, NULL) : 0;
    }
  } else if (!PyCallable_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "callback must be callable or None, not %.100s",
                 Py_TYPE(obj)->tp_name);
    return -1;
  } else {
    ref = Py_NewRef(obj);
  }
  r = fuv_bridge_prepare(fuvpy_arg_bridge, (fuv_bridge_kind_t)kind, ref, reg,
                         fn);
  if (r != 0) {
    Py_XDECREF(ref);
    return fuvpy_raise(r, NULL);
  }
  return 0;
}

void fuvpy_callback_commit(fuv_bridge_reg_t *reg, fuv_handle_t *owner) {
  fuv_bridge_commit(reg, owner != NULL ? owner : fuvpy_arg_owner);
}

fuvpy_handle_t *fuvpy_blocking_begin(fuv_handle_t *handle,
                                     fuvpy_loop_t **entered) {
  fuvpy_handle_t *self =
      fuv_bridge_handle_object(fuv_bridge_handle_of(handle));
  fuvpy_loop_t *loop = *entered;
  if (self == NULL || loop == NULL || loop->claims != 1)
    return NULL; /* inside run() on this thread: the loop stays held */
  self->busy = 1;
  loop->blocking++;
  *entered = NULL; /* the wrapper's leave is done here */
  fuvpy_loop_leave(loop);
  return self;
}

void fuvpy_blocking_end(fuvpy_handle_t *busy) {
  if (busy == NULL)
    return;
  busy->busy = 0;
  busy->loop->blocking--;
}

int fuvpy_loop_check_solo(fuv_loop_t *loop) {
  fuvpy_loop_t *self = loop_object(loop);
  if (self != NULL && self->blocking > 0)
    return fuvpy_raise(FUV_EBUSY, "a send() or recv() is waiting in another "
                                  "thread on a handle of this loop");
  return 0;
}

/* ---- running ---------------------------------------------------------------- */

static int raise_pending(fuvpy_loop_t *self) {
  PyObject *error = self->error;
  self->error = NULL;
  PyErr_SetObject((PyObject *)Py_TYPE(error), error);
  Py_DECREF(error);
  return FUVPY_RAISED;
}

/* Calls signal.set_wakeup_fd(fd, warn_on_full_buffer=False) and returns
 * the previous fd, or NULL (no exception set) where Python refuses: off the
 * main thread, where Python does not handle signals anyway. */
static PyObject *set_signal_wakeup(PyObject *fd) {
  PyObject *signal_module, *setter, *args, *kwargs = NULL, *old = NULL;
  signal_module = PyImport_ImportModule("signal");
  setter = signal_module ? PyObject_GetAttrString(signal_module,
                                                  "set_wakeup_fd")
                         : NULL;
  args = PyTuple_Pack(1, fd);
  if (setter != NULL && args != NULL)
    kwargs = Py_BuildValue("{s:O}", "warn_on_full_buffer", Py_False);
  if (kwargs != NULL)
    old = PyObject_Call(setter, args, kwargs);
  Py_XDECREF(kwargs);
  Py_XDECREF(args);
  Py_XDECREF(setter);
  Py_XDECREF(signal_module);
  if (old == NULL)
    PyErr_Clear();
  return old;
}

/* While the loop runs, CPython's C signal handler writes to the loop's
 * wake-up fd. A signal that lands between two callbacks, too late to
 * interrupt the wait with EINTR, then still ends the next wait, so Ctrl-C
 * is never left pending on an idle loop. Returns the previous wake-up fd
 * to restore, or NULL. */
static PyObject *signal_wakeup_begin(fuv_loop_t *loop) {
  PyObject *fd, *old;
  int wakeup = fuv_loop_wakeup_fd(loop);
  if (wakeup < 0)
    return NULL;
  fd = PyLong_FromLong(wakeup);
  if (fd == NULL) {
    PyErr_Clear();
    return NULL;
  }
  old = set_signal_wakeup(fd);
  Py_DECREF(fd);
  return old;
}

static void signal_wakeup_end(PyObject *old) {
  PyObject *type, *value, *tb, *ours;
  if (old == NULL)
    return;
  PyErr_Fetch(&type, &value, &tb); /* keep an exception run() raises */
  ours = set_signal_wakeup(old);
  Py_XDECREF(ours);
  Py_DECREF(old);
  PyErr_Restore(type, value, tb);
}

int fuvpy_run(fuv_loop_t *loop, int mode) {
  fuvpy_loop_t *self = loop_object(loop);
  PyObject *previous_wakeup;
  int r;

  if (self == NULL || self->running)
    return fuv_run(loop, (fuv_run_mode_t)mode); /* EINVAL / EBUSY */
  /* Marked running before any Python code can run (the wake-up fd's
   * set-up, deferred closes): the caller's claim already keeps other
   * threads out, and a nested run() from a finalizer must see it too. */
  self->running = 1;
  process_deferred(self);
  previous_wakeup = signal_wakeup_begin(loop);
  for (;;) {
    if (fuvpy_release_gil)
      self->released = PyEval_SaveThread();
    r = fuv_run(loop, (fuv_run_mode_t)mode);
    if (fuvpy_release_gil) {
      PyThreadState *ts = self->released;
      self->released = NULL;
      PyEval_RestoreThread(ts);
    }
    if (self->error != NULL || r != FUV_EINTR)
      break;
    /* A signal woke the wait: let Python run its handler (Ctrl-C raises
     * KeyboardInterrupt here), then carry on. */
    if (PyErr_CheckSignals() < 0) {
      self->running = 0;
      signal_wakeup_end(previous_wakeup);
      return FUVPY_RAISED;
    }
    if (mode != FUV_RUN_DEFAULT) {
      r = fuv_loop_alive(loop);
      break;
    }
  }
  self->running = 0;
  signal_wakeup_end(previous_wakeup);
  process_deferred(self);
  if (self->error != NULL)
    return raise_pending(self);
  return r;
}

PyObject *fuvpy_walk_begin(fuv_loop_t *loop) {
  fuvpy_loop_t *self = loop_object(loop);
  PyObject *saved = NULL;
  if (self != NULL) {
    saved = self->error;
    self->error = NULL;
  }
  return saved;
}

int fuvpy_walk_end(fuv_loop_t *loop, PyObject *saved) {
  fuvpy_loop_t *self = loop_object(loop);
  PyObject *raised;
  if (self == NULL)
    return 0;
  raised = self->error;
  self->error = saved;
  if (raised == NULL)
    return 0;
  PyErr_SetObject((PyObject *)Py_TYPE(raised), raised);
  Py_DECREF(raised);
  return -1;
}

PyObject *fuvpy_loop_result(fuv_loop_t *loop) {
  fuvpy_loop_t *self = loop_object(loop);
  return Py_NewRef(self != NULL ? (PyObject *)self : Py_None);
}

int fuvpy_loop_free(fuv_loop_t *loop) {
  fuvpy_loop_t *self = loop_object(loop);
  if (self == NULL)
    return fuv_loop_free(loop);
  return loop_teardown(self, 0);
}

void fuvpy_read_stopped(fuv_handle_t *handle) {
  fuv_bridge_clear(fuv_bridge_handle_of(handle), FUV_BRIDGE_READ_CB);
}

/* ---- module ----------------------------------------------------------------- */

PyObject *fuvpy_set_error_factory(PyObject *self, PyObject *args) {
  PyObject *factory, *namer = NULL;
  (void)self;
  if (!PyArg_ParseTuple(args, "O|O:_set_error_factory", &factory, &namer))
    return NULL;
  if (!PyCallable_Check(factory) ||
      (namer != NULL && !PyCallable_Check(namer))) {
    PyErr_SetString(PyExc_TypeError, "factory must be callable");
    return NULL;
  }
  Py_INCREF(factory);
  Py_XSETREF(error_factory, factory);
  Py_XINCREF(namer);
  Py_XSETREF(error_namer, namer);
  Py_RETURN_NONE;
}

PyObject *fuvpy_set_release_gil(PyObject *self, PyObject *args) {
  int on;
  (void)self;
  if (!PyArg_ParseTuple(args, "p:_set_release_gil", &on))
    return NULL;
  fuvpy_release_gil = on;
  Py_RETURN_NONE;
}

/* ---- RequestBase ------------------------------------------------------------ */

static PyObject *request_class = (PyObject *)&fuvpy_RequestType;

PyObject *fuvpy_set_request_class(PyObject *self, PyObject *args) {
  PyObject *cls;
  (void)self;
  if (!PyArg_ParseTuple(args, "O!", &PyType_Type, &cls))
    return NULL;
  if (!PyType_IsSubtype((PyTypeObject *)cls, &fuvpy_RequestType)) {
    PyErr_SetString(PyExc_TypeError, "not a subclass of RequestBase");
    return NULL;
  }
  Py_INCREF(cls);
  request_class = cls; /* kept for the life of the process */
  Py_RETURN_NONE;
}

static PyObject *request_new(PyTypeObject *type, PyObject *args,
                             PyObject *kwds) {
  (void)type;
  (void)args;
  (void)kwds;
  PyErr_SetString(PyExc_TypeError,
                  "requests are made by write(), shutdown(), connect() ...");
  return NULL;
}

/* Releases the reference now, or has the loop's claiming thread do it. */
static void request_release(fuv_req_t *req, fuvpy_loop_t *loop) {
  if (loop != NULL && loop->loop != NULL && claimed_by_other(loop)) {
    if (loop->ndeferred_reqs == loop->capdeferred_reqs) {
      size_t cap = loop->capdeferred_reqs ? 2 * loop->capdeferred_reqs : 16;
      fuv_req_t **grown =
          PyMem_Realloc(loop->deferred_reqs, cap * sizeof *grown);
      if (grown == NULL)
        return; /* leaked rather than raced */
      loop->deferred_reqs = grown;
      loop->capdeferred_reqs = cap;
    }
    loop->deferred_reqs[loop->ndeferred_reqs++] = req;
    return;
  }
  fuv_req_release(req);
}

static void request_dealloc(PyObject *obj) {
  fuvpy_req_t *self = (fuvpy_req_t *)obj;
  fuv_req_t *req = self->req;
  fuvpy_loop_t *loop = self->loop;
  self->req = NULL;
  self->loop = NULL;
  if (req != NULL)
    request_release(req, loop);
  Py_XDECREF(loop);
  Py_TYPE(obj)->tp_free(obj);
}

PyTypeObject fuvpy_RequestType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "flatuv._flatuv.RequestBase",
    .tp_basicsize = sizeof(fuvpy_req_t),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The C part of flatuv.Request.",
    .tp_new = request_new,
    .tp_dealloc = request_dealloc,
};

int fuvpy_request_arg(PyObject *obj, fuv_req_t **out, fuvpy_loop_t **entered) {
  fuvpy_req_t *self = (fuvpy_req_t *)obj;
  if (!PyObject_TypeCheck(obj, &fuvpy_RequestType)) {
    PyErr_Format(PyExc_TypeError, "expected a flatuv.Request, not %.100s",
                 Py_TYPE(obj)->tp_name);
    return -1;
  }
  if (self->req == NULL)
    return fuvpy_raise(FUV_EINVAL, NULL);
  if (self->loop != NULL && self->loop->loop != NULL) {
    if (fuvpy_loop_enter(self->loop) < 0)
      return -1;
    *entered = self->loop;
  }
  *out = self->req;
  return 0;
}

PyObject *fuvpy_request_result(PyObject *result, fuv_req_t *req,
                               fuv_handle_t *handle) {
  fuvpy_req_t *obj;
  fuv_bridge_handle_t *rec;
  fuvpy_handle_t *owner;

  if (req == NULL)
    return result;
  obj = (fuvpy_req_t *)((PyTypeObject *)request_class)->tp_alloc(
      (PyTypeObject *)request_class, 0);
  if (obj == NULL) {
    fuv_req_release(req); /* under the call's claim: ours to give back */
    Py_XDECREF(result);
    return NULL;
  }
  obj->req = req;
  rec = handle != NULL ? fuv_bridge_handle_of(handle) : NULL;
  owner = rec != NULL ? (fuvpy_handle_t *)fuv_bridge_handle_object(rec) : NULL;
  if (owner != NULL && owner->loop != NULL) {
    Py_INCREF(owner->loop);
    obj->loop = owner->loop;
  }
  return fuvpy_replace_result(result, (PyObject *)obj);
}

int fuvpy_module_init(PyObject *module) {
  if (PyType_Ready(&fuvpy_LoopType) < 0 || PyType_Ready(&fuvpy_HandleType) < 0 ||
      PyType_Ready(&fuvpy_RequestType) < 0)
    return -1;
  if (PyModule_AddObjectRef(module, "RequestBase",
                            (PyObject *)&fuvpy_RequestType) < 0)
    return -1;
  if (PyModule_AddObjectRef(module, "LoopBase", (PyObject *)&fuvpy_LoopType) <
          0 ||
      PyModule_AddObjectRef(module, "HandleBase",
                            (PyObject *)&fuvpy_HandleType) < 0)
    return -1;
  return 0;
}

/* ---- argument helpers of the typemaps (see flatuv_py.h) ------------------ */

void fuvpy_bufvec_free(fuvpy_bufvec_t *vec) {
  if (vec == NULL)
    return;
  for (size_t i = 0; i < vec->n; i++)
    PyBuffer_Release(&vec->views[i]);
  PyMem_Free(vec->bufs);
  PyMem_Free(vec->lens);
  PyMem_Free(vec->views);
  PyMem_Free(vec);
}

fuvpy_bufvec_t *fuvpy_bufvec_new(PyObject *seq) {
  PyObject *fast = PySequence_Fast(seq, "buffers must be a sequence of bytes-like objects");
  fuvpy_bufvec_t *vec;
  Py_ssize_t n;

  if (fast == NULL)
    return NULL;
  n = PySequence_Fast_GET_SIZE(fast);
  vec = PyMem_Calloc(1, sizeof *vec);
  if (vec != NULL && n > 0) {
    vec->bufs = PyMem_Calloc((size_t)n, sizeof *vec->bufs);
    vec->lens = PyMem_Calloc((size_t)n, sizeof *vec->lens);
    vec->views = PyMem_Calloc((size_t)n, sizeof *vec->views);
  }
  if (vec == NULL || (n > 0 && (vec->bufs == NULL || vec->lens == NULL ||
                                vec->views == NULL))) {
    fuvpy_bufvec_free(vec);
    Py_DECREF(fast);
    PyErr_NoMemory();
    return NULL;
  }
  for (Py_ssize_t i = 0; i < n; i++) {
    if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(fast, i), &vec->views[i],
                           PyBUF_SIMPLE) < 0) {
      fuvpy_bufvec_free(vec);
      Py_DECREF(fast);
      return NULL;
    }
    vec->n++;
    vec->bufs[i] = vec->views[i].buf;
    vec->lens[i] = (size_t)vec->views[i].len;
  }
  Py_DECREF(fast);
  return vec;
}

int fuvpy_sockaddr_in(PyObject *obj, struct sockaddr_storage *ss) {
  Py_buffer view;
  memset(ss, 0, sizeof *ss);
  if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) < 0)
    return -1;
  if ((size_t)view.len < sizeof(sa_family_t) ||
      (size_t)view.len > sizeof *ss) {
    PyBuffer_Release(&view);
    PyErr_SetString(PyExc_ValueError, "not a socket address");
    return -1;
  }
  memcpy(ss, view.buf, (size_t)view.len);
  PyBuffer_Release(&view);
  return 0;
}

PyObject *fuvpy_replace_result(PyObject *old, PyObject *value) {
  Py_XDECREF(old);
  return value;
}

PyObject *fuvpy_add_result(PyObject *old, PyObject *value) {
  PyObject *out;
  if (old == NULL || old == Py_None || value == NULL)
    return fuvpy_replace_result(old, value);
  if (PyTuple_Check(old))
    return fuvpy_append_result(old, value);
  out = PyTuple_Pack(2, old, value);
  Py_DECREF(old);
  Py_DECREF(value);
  return out;
}

PyObject *fuvpy_append_result(PyObject *old, PyObject *value) {
  PyObject *out;
  Py_ssize_t n, i;

  if (value == NULL) {
    Py_XDECREF(old);
    return NULL;
  }
  n = (old != NULL && PyTuple_Check(old)) ? PyTuple_GET_SIZE(old) : 0;
  out = PyTuple_New(n + 1);
  if (out != NULL) {
    for (i = 0; i < n; i++)
      PyTuple_SET_ITEM(out, i, Py_NewRef(PyTuple_GET_ITEM(old, i)));
    PyTuple_SET_ITEM(out, n, value);
  } else {
    Py_DECREF(value);
  }
  Py_XDECREF(old);
  return out;
}
