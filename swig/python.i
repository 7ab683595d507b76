/*
 * python.i - the Python part of flatuv.i, included before the header.
 *
 * SWIG generates the extension module flatuv._flatuv (swig -python
 * -noproxy -module _flatuv): one function per header function, named as in
 * C, taking and returning Python objects. The package flatuv is generated
 * over it (bindings/apigen/apigen/emit_python.py); python/src/flatuv_py.c
 * holds the object types and the bridge's Python hooks that these
 * typemaps call.
 *
 *  - Loops and handles are the package's own objects (subclasses of
 *    LoopBase / HandleBase), never SWIG pointers: a closed handle raises
 *    instead of dangling, and a callback gets the object the user holds.
 *  - A constructor's out-parameter takes the new, not yet created, object
 *    (fuv_tcp_new(tcp, loop)) and binds it; the call returns it.
 *  - Every callback typedef is one typemap: the libffi bridge makes the C
 *    function from a Python callable (or None); `void *arg` is the
 *    bridge's.
 *  - Results by role (roles.i, generated from the model): a negative
 *    status raises flatuv.Error naming the call (fuvpy_error_in: the C
 *    function's Python name and its address arguments), a predicate is a bool, out-parameters are
 *    the result. Blocking calls release the GIL.
 *  - What the model says per type or function rather than per role (the
 *    handle types' typemaps, the functions not bound, the blocking calls,
 *    the docstrings) comes from python_api.i, generated beside roles.i.
 */

%{
#include "flatuv_py.h"
%}

/* SWIG's module initialisation: Python's multi-phase init, whose exec
 * function returns 0 or -1. */
%init %{
  if (fuvpy_module_init(m) < 0)
    return -1;
%}

%native(_set_error_factory) PyObject *fuvpy_set_error_factory(PyObject *self, PyObject *args);
%native(_set_write_general) PyObject *fuvpy_set_write_general(PyObject *self, PyObject *args);
%native(_set_request_class) PyObject *fuvpy_set_request_class(PyObject *self, PyObject *args);
%native(_set_release_gil) PyObject *fuvpy_set_release_gil(PyObject *self, PyObject *args);

/* ---- results ---------------------------------------------------------------- */

%typemap(out) int FUV_STATUS {
  if ($1 < 0) {
    fuvpy_raise($1, NULL);
    fuvpy_error_in("$symname", args);
    SWIG_fail;
  }
  $result = PyLong_FromLong($1);
}
%typemap(out) int FUV_VALUE "$result = PyLong_FromLong($1);";
/* An enum's value or < 0 for none: the package makes None of it. */
%typemap(out) int FUV_ENUM_OR_NONE_fuv_run_mode_t "$result = PyLong_FromLong($1);";
%typemap(out) int FUV_COUNT = int FUV_STATUS;
%typemap(out) int FUV_PREDICATE {
  if ($1 < 0) {
    fuvpy_raise($1, NULL);
    fuvpy_error_in("$symname", args);
    SWIG_fail;
  }
  $result = PyBool_FromLong($1);
}
/* The out-parameters' argout typemaps replace this None with the result. */
%typemap(out) int FUV_OUTPUTS {
  if ($1 < 0) {
    fuvpy_raise($1, NULL);
    fuvpy_error_in("$symname", args);
    SWIG_fail;
  }
  $result = Py_NewRef(Py_None);
}

/* ---- integers --------------------------------------------------------------- */

/* An integer parameter refuses bool: True is not a count, a size or a file
 * descriptor. (The package passes a flag as 1 or 0.) */
%define FUVPY_STRICT_INT(TYPE)
%typemap(in, fragment=SWIG_AsVal_frag(TYPE)) TYPE (TYPE val, int ecode) {
  if (PyBool_Check($input)) {
    PyErr_SetString(PyExc_TypeError, "expected an int, not bool");
    SWIG_fail;
  }
  ecode = SWIG_AsVal(TYPE)($input, &val);
  if (!SWIG_IsOK(ecode)) {
    %argument_fail(ecode, "$type", $symname, $argnum);
  }
  $1 = ($1_ltype)val;
}
%enddef
FUVPY_STRICT_INT(int)
FUVPY_STRICT_INT(unsigned int)

/* ---- loops and handles -------------------------------------------------------- */

/* Every loop or handle argument claims the loop for this thread until the
 * wrapper returns (freearg runs on success and failure alike), so another
 * thread's call in between raises EBUSY instead of racing this one. */
%typemap(arginit, noblock=1) fuv_loop_t *, const fuv_loop_t * {
  fuvpy_loop_t *entered$argnum = NULL;
}
%typemap(in) fuv_loop_t *, const fuv_loop_t * {
  if (fuvpy_loop_arg($input, (fuv_loop_t **)&$1, &entered$argnum) < 0) {
    fuvpy_error_in("$symname", args);
    SWIG_fail;
  }
}
%typemap(freearg) fuv_loop_t *, const fuv_loop_t * "fuvpy_loop_leave(entered$argnum);";
%typemap(out) fuv_loop_t * "$result = fuvpy_loop_result($1);";

%define FUVPY_HANDLE_ARG(TYPE, KINDS)
%typemap(arginit, noblock=1) TYPE *, const TYPE * {
  fuvpy_loop_t *entered$argnum = NULL;
}
%typemap(in) TYPE *, const TYPE * {
  if (fuvpy_handle_arg($input, KINDS, (void **)&$1, &entered$argnum) < 0) {
    fuvpy_error_in("$symname", args);
    SWIG_fail;
  }
}
%typemap(freearg) TYPE *, const TYPE * "fuvpy_loop_leave(entered$argnum);";
/* A call may start or end activity: hold or release the object. */
%typemap(argout) TYPE * "fuvpy_handle_sync($input);";
%enddef

/* Invoked per handle type by python_api.i, with the kinds each accepts. */

/* Constructors and accept: the new object in, bound on success, returned. */
%define FUVPY_NEW_HANDLE(TYPE, KIND)
%typemap(in) TYPE ** (TYPE *created = NULL) {
  if (fuvpy_new_handle_arg($input, KIND) < 0)
    SWIG_fail;
  $1 = &created;
}
%typemap(argout) TYPE ** {
  if (fuvpy_bind_handle($input, (fuv_handle_t *)created$argnum) < 0)
    SWIG_fail;
  $result = fuvpy_replace_result($result, Py_NewRef($input));
}
%enddef
/* Invoked per concrete handle type by python_api.i. */

%typemap(in) fuv_loop_t ** (fuv_loop_t *created = NULL) {
  if (fuvpy_new_loop_arg($input) < 0)
    SWIG_fail;
  $1 = &created;
}
%typemap(argout) fuv_loop_t ** {
  if (fuvpy_bind_loop($input, created$argnum) < 0)
    SWIG_fail;
  $result = fuvpy_replace_result($result, Py_NewRef($input));
}

/* ---- requests ------------------------------------------------------------------ */

/* A request argument (cancel, type): claims the request's loop as a handle
 * argument does. */
%typemap(arginit, noblock=1) fuv_req_t *, const fuv_req_t * {
  fuvpy_loop_t *entered$argnum = NULL;
}
%typemap(in) fuv_req_t *, const fuv_req_t * {
  if (fuvpy_request_arg($input, (fuv_req_t **)&$1, &entered$argnum) < 0)
    SWIG_fail;
}
%typemap(freearg) fuv_req_t *, const fuv_req_t * "fuvpy_loop_leave(entered$argnum);";
/* The request a call returns (write, shutdown, connect): a new Request
 * owning the caller's reference. */
%typemap(in, numinputs=0) fuv_req_t **REQUEST_OUT (fuv_req_t *made = NULL) {
  $1 = &made;
}
%typemap(argout) fuv_req_t **REQUEST_OUT {
  $result = fuvpy_request_result($result, made$argnum, (fuv_handle_t *)arg1);
  made$argnum = NULL;
  if ($result == NULL)
    SWIG_fail;
}

/* ---- callbacks: every function-pointer typedef of the header ---------------- */

/* The registration is a wrapper-wide local (noblock: no braces around
 * it), so the argout and freearg typemaps see it; the loop or handle
 * argument before the callback names the bridge loop. */
%typemap(arginit, noblock=1) SWIGTYPE ((*)(ANY)) {
  fuv_bridge_reg_t *reg$argnum = NULL;
  fuv_handle_t *owner$argnum = NULL;
  fuvpy_arg_bridge = NULL;
}
%typemap(in) SWIGTYPE ((*)(ANY)) {
  static int kind = -2;
  void (*fn)(void);
  if (kind == -2)
    kind = fuv_bridge_kind_by_name("$1_type");
  if (fuvpy_callback_arg($input, kind, &fn, &reg$argnum) < 0)
    SWIG_fail;
  owner$argnum = fuvpy_arg_owner;
  $1 = ($1_ltype)fn;
}
%typemap(argout) SWIGTYPE ((*)(ANY)) {
  if (reg$argnum != NULL)
    fuvpy_callback_commit(reg$argnum, owner$argnum);
  reg$argnum = NULL;
}
/* A failed call never calls its callback: release it. */
%typemap(freearg) SWIGTYPE ((*)(ANY)) {
  if (reg$argnum != NULL)
    fuv_bridge_discard(reg$argnum);
}
%typemap(in, numinputs=0) void *CALLBACK_ARG "$1 = NULL;";

/* ---- bytes in and out ----------------------------------------------------------- */

/* have_view is initialised where the wrapper declares it, so the failure
 * path of an earlier argument does not release a view never taken. */
%typemap(in) (const char *BYTES, size_t LENGTH) (Py_buffer view, int have_view = 0) {
  if (PyBytes_CheckExact($input)) {
    $1 = PyBytes_AS_STRING($input);
    $2 = (size_t)PyBytes_GET_SIZE($input);
  } else {
    if (PyObject_GetBuffer($input, &view, PyBUF_SIMPLE) < 0)
      SWIG_fail;
    have_view = 1;
    $1 = ($1_ltype)view.buf;
    $2 = (size_t)view.len;
  }
}
%typemap(freearg) (const char *BYTES, size_t LENGTH) {
  if (have_view$argnum)
    PyBuffer_Release(&view$argnum);
}

/* A size in, the bytes received out. */
%typemap(in) (char *BYTES_OUT, size_t LENGTH) (PyObject *bytes = NULL) {
  Py_ssize_t n;
  if (PyBool_Check($input)) {
    PyErr_SetString(PyExc_TypeError, "size must be an int, not bool");
    SWIG_fail;
  }
  n = PyLong_AsSsize_t($input);
  if (n == -1 && PyErr_Occurred())
    SWIG_fail;
  if (n < 0) {
    PyErr_SetString(PyExc_ValueError, "negative buffer size");
    SWIG_fail;
  }
  if (n > FUVPY_MAX_RECV)
    n = FUVPY_MAX_RECV;
  bytes = PyBytes_FromStringAndSize(NULL, n);
  if (bytes == NULL)
    SWIG_fail;
  $1 = PyBytes_AS_STRING(bytes);
  $2 = (size_t)n;
}
%typemap(argout) (char *BYTES_OUT, size_t LENGTH) {
  if (result != PyBytes_GET_SIZE(bytes$argnum) &&
      _PyBytes_Resize(&bytes$argnum, result) < 0)
    SWIG_fail;
  $result = fuvpy_replace_result($result, bytes$argnum);
  bytes$argnum = NULL;
}
%typemap(freearg) (char *BYTES_OUT, size_t LENGTH) "Py_XDECREF(bytes$argnum);";

%typemap(in) (const char *const *BUFS, const size_t *LENS, size_t NBUFS) (fuvpy_bufvec_t *vec = NULL) {
  vec = fuvpy_bufvec_new($input);
  if (vec == NULL)
    SWIG_fail;
  $1 = ($1_ltype)vec->bufs;
  $2 = ($2_ltype)vec->lens;
  $3 = vec->n;
}
%typemap(freearg) (const char *const *BUFS, const size_t *LENS, size_t NBUFS) "fuvpy_bufvec_free(vec$argnum);";

/* ---- out-parameters ------------------------------------------------------------- */

%typemap(in, numinputs=0) (char *IP_OUT, size_t IP_LENGTH, int *PORT_OUT) (char ip[FUV_IP_NAME_MAX], int port = 0) {
  ip[0] = '\0';
  $1 = ip;
  $2 = sizeof ip;
  $3 = &port;
}
/* After another output (recv_sync's bytes): (bytes, (host, port)). */
%typemap(argout) (char *IP_OUT, size_t IP_LENGTH, int *PORT_OUT) {
  $result = fuvpy_add_result($result, Py_BuildValue("(si)", ip$argnum, port$argnum));
  if ($result == NULL)
    SWIG_fail;
}

%typemap(in, numinputs=0) (char *TEXT_OUT, size_t TEXT_LENGTH) (char text[FUV_IP_NAME_MAX]) {
  text[0] = '\0';
  $1 = text;
  $2 = sizeof text;
}
%typemap(argout) (char *TEXT_OUT, size_t TEXT_LENGTH) {
  $result = fuvpy_replace_result($result, PyUnicode_FromString(text$argnum));
  if ($result == NULL)
    SWIG_fail;
}

%typemap(in, numinputs=0) (int *INT_OUT1, int *INT_OUT2) (int first = 0, int second = 0) {
  $1 = &first;
  $2 = &second;
}
%typemap(argout) (int *INT_OUT1, int *INT_OUT2) {
  $result = fuvpy_replace_result($result, Py_BuildValue("(ii)", first$argnum, second$argnum));
  if ($result == NULL)
    SWIG_fail;
}

/* A pipe's name in: str (the filesystem encoding) or bytes, which may
 * start with NUL (a Linux abstract name); the flags are 0. */
%typemap(in) (const char *NAME, size_t NAME_LENGTH, unsigned int NAME_FLAGS) (PyObject *encoded = NULL) {
  if (PyUnicode_Check($input)) {
    encoded = PyUnicode_EncodeFSDefault($input);
    if (encoded == NULL)
      SWIG_fail;
  } else if (PyBytes_Check($input)) {
    encoded = Py_NewRef($input);
  } else {
    PyErr_SetString(PyExc_TypeError, "name must be str or bytes");
    SWIG_fail;
  }
  $1 = PyBytes_AS_STRING(encoded);
  $2 = (size_t)PyBytes_GET_SIZE(encoded);
  $3 = 0;
}
%typemap(freearg) (const char *NAME, size_t NAME_LENGTH, unsigned int NAME_FLAGS) "Py_XDECREF(encoded$argnum);";

/* A pipe's name out: str (decoded as os.fsdecode does); an abstract name
 * starts with "\0". */
%typemap(in, numinputs=0) (char *NAME_OUT, size_t NAME_SIZE, size_t *NAME_LENGTH_OUT) (char namebuf[FUVPY_NAME_MAX], size_t namelen = 0) {
  $1 = namebuf;
  $2 = sizeof namebuf;
  $3 = &namelen;
}
%typemap(argout) (char *NAME_OUT, size_t NAME_SIZE, size_t *NAME_LENGTH_OUT) {
  $result = fuvpy_replace_result($result, PyUnicode_DecodeFSDefaultAndSize(namebuf$argnum, (Py_ssize_t)namelen$argnum));
  if ($result == NULL)
    SWIG_fail;
}

/* 64-bit counters out: a tuple of all of them (metrics_info). */
%typemap(in, numinputs=0) uint64_t *UINT64_OUT (uint64_t value = 0) {
  $1 = &value;
}
%typemap(argout) uint64_t *UINT64_OUT {
  $result = fuvpy_append_result($result, PyLong_FromUnsignedLongLong(value$argnum));
  if ($result == NULL)
    SWIG_fail;
}
/* An address group (ip, port; roles.i) stays two arguments of the wrapper,
 * the package's (host, port) spread: the C call refuses a malformed one
 * (EINVAL), whose message names it (_name_error, _CALL_ADDRESSES). Nothing
 * to check here; the empty typemap says so. */
%typemap(check) (const char *IP, int PORT) "";

/* Socket addresses travel as bytes (struct sockaddr_in / sockaddr_in6). */
%typemap(in) const struct sockaddr *SOCKADDR (struct sockaddr_storage ss) {
  if (fuvpy_sockaddr_in($input, &ss) < 0)
    SWIG_fail;
  $1 = (struct sockaddr *)&ss;
}
%typemap(in, numinputs=0) (struct sockaddr *SOCKADDR_OUT, int *SOCKADDR_LENGTH) (struct sockaddr_storage ss, int len) {
  memset(&ss, 0, sizeof ss);
  len = (int)sizeof ss;
  $1 = (struct sockaddr *)&ss;
  $2 = &len;
}
%typemap(argout) (struct sockaddr *SOCKADDR_OUT, int *SOCKADDR_LENGTH) {
  $result = fuvpy_replace_result($result, PyBytes_FromStringAndSize((const char *)&ss$argnum, len$argnum));
  if ($result == NULL)
    SWIG_fail;
}
%define FUVPY_SOCKADDR_OUT(TYPE)
%typemap(in, numinputs=0) TYPE *SOCKADDR_OUT (TYPE sa) {
  memset(&sa, 0, sizeof sa);
  $1 = &sa;
}
%typemap(argout) TYPE *SOCKADDR_OUT {
  $result = fuvpy_replace_result($result, PyBytes_FromStringAndSize((const char *)&sa$argnum, sizeof sa$argnum));
  if ($result == NULL)
    SWIG_fail;
}
%enddef
FUVPY_SOCKADDR_OUT(struct sockaddr_in)
FUVPY_SOCKADDR_OUT(struct sockaddr_in6)

/* ---- from the model ---------------------------------------------------------- */

%define FUVPY_BLOCKING(NAME)
%exception NAME {
  Py_BEGIN_ALLOW_THREADS
  $action
  Py_END_ALLOW_THREADS
}
%enddef

/* The handle types' typemaps, the functions not bound, the blocking calls
 * (FUVPY_BLOCKING), the parameter groups and enum results of every
 * function, the docstrings; then each function's result role. */
%include "python_api.i"
%include "roles.i"

/* ---- exceptions to the rules -------------------------------------------------------- */

/* The header's only fuv_async_t * function is fuv_async_send, which any
 * thread may call. */
FUVPY_HANDLE_ARG(fuv_async_t, FUVPY_THREAD_SAFE)

/* fuv_run releases the GIL, and re-raises what a callback raised. */
/* run(), walk() and loop_free() touch every handle, so they wait for no
 * send()/recv() of another thread (see flatuv_py.h, Threads). */
%exception fuv_run {
  if (fuvpy_loop_check_solo(arg1) < 0)
    SWIG_fail;
  result = fuvpy_run(arg1, (int)arg2);
  if (result == FUVPY_RAISED)
    SWIG_fail;
}

%exception fuv_walk {
  PyObject *saved;
  if (fuvpy_loop_check_solo(arg1) < 0)
    SWIG_fail;
  saved = fuvpy_walk_begin(arg1);
  $action
  if (fuvpy_walk_end(arg1, saved) < 0)
    SWIG_fail;
}

/* Frees only a loop without handles; the Loop object's collection closes
 * them first. */
%exception fuv_loop_free {
  if (fuvpy_loop_check_solo(arg1) < 0)
    SWIG_fail;
  result = fuvpy_loop_free(arg1);
}

/* Of the blocking calls (FUVPY_BLOCKING above: connect_sync() and
 * accept_sync() keep their claim on the loop for the whole wait, as they
 * add a socket or a handle to it), send() and recv() touch their handle
 * alone, so they trade the claim on the loop for one on the handle. The
 * handle (arg1) is the stream's claim, entered1. */
%define FUVPY_BLOCKING_ON_HANDLE(NAME)
%exception NAME {
  fuvpy_handle_t *busy = fuvpy_blocking_begin((fuv_handle_t *)arg1, &entered1);
  Py_BEGIN_ALLOW_THREADS
  $action
  Py_END_ALLOW_THREADS
  fuvpy_blocking_end(busy);
}
%enddef
FUVPY_BLOCKING_ON_HANDLE(fuv_send)
FUVPY_BLOCKING_ON_HANDLE(fuv_recv)

/* The read callback is not needed once reading stops. */
%exception fuv_read_stop {
  $action
  if (result == 0)
    fuvpy_read_stopped((fuv_handle_t *)arg1);
}
