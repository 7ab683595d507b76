/*
 * flatuv.i - the single SWIG interface for every language.
 *
 * It %includes the public header (nothing is declared twice) and states,
 * once for all languages, what each kind of parameter means: status
 * results, byte buffers, out-parameters, socket addresses and the
 * callbacks' `void *arg`. Each language part (python.i, lua.i) defines the
 * typemaps for these roles in its own terms, plus those for the types
 * every language maps its own way:
 *
 *   role (typemap name)                    header parameters
 *   int FUV_STATUS        (out)            every int result: >= 0 is a value,
 *                                          < 0 a FUV_E* error to raise/return
 *   int FUV_VALUE         (out)            ints that are values even when < 0
 *   (const char *BYTES, size_t LENGTH)     data written: (data, len)
 *   (char *BYTES_OUT, size_t LENGTH)       fuv_recv's (buf, len): a size in,
 *                                          the bytes received out
 *   (const char *const *BUFS, const size_t *LENS, size_t NBUFS)
 *                                          fuv_writev's buffers
 *   (char *IP_OUT, size_t IP_LENGTH, int *PORT_OUT)
 *                                          getsockname/getpeername results
 *   (char *TEXT_OUT, size_t TEXT_LENGTH)   fuv_ip_name's result
 *   (int *INT_OUT1, int *INT_OUT2)         pairs of int results
 *   const struct sockaddr *SOCKADDR        addresses in (C callers' _addr calls)
 *   (struct sockaddr *SOCKADDR_OUT, int *SOCKADDR_LENGTH), and
 *   struct sockaddr_in(6) *SOCKADDR_OUT    addresses out
 *   void *CALLBACK_ARG                     a callback's arg: the bridge's own
 *
 *   types each language maps itself:
 *   fuv_loop_t *, fuv_handle_t *, fuv_stream_t *, fuv_tcp_t *,
 *   fuv_timer_t *, fuv_async_t *          the language's objects
 *   fuv_X_t **                             constructors' and accept's new object
 *   SWIGTYPE ((*)(ANY))                    every callback typedef, one typemap
 *                                          over bindings/bridge (libffi)
 *
 * Ownership: every loop and handle is created through an out-parameter
 * into an object of the host language, which then owns it; it is freed by
 * fuv_close() (after the close callback) or fuv_loop_free(), or when the
 * host collects the object. No function returns memory the caller must
 * free (strings are static), so nothing needs %newobject.
 *
 * The Nim names (read by bindings/nimgen from `swig -xml` output) are in
 * nim.i; the XML needs none of the typemaps.
 */
%module flatuv

%{
#include "flatuv.h"
%}

/* uint64_t, int64_t, ... as the integer types they are. */
%include <stdint.i>

/* What the C types do not say, for every language's generator. */
%include "api.i"

#if defined(SWIGPYTHON)
%include "python.i"
#elif defined(SWIGLUA)
%include "lua.i"
#elif defined(SWIGXML)
%include "nim.i"
#endif

#if !defined(SWIGXML)
%apply int FUV_STATUS { int };
/* Every other role, of results (FUV_VALUE, FUV_PREDICATE, ...) and of
 * parameter groups (bytes, an address out, ...), is applied per function
 * by roles.i, which apigen writes from the model and python.i and lua.i
 * include. */
%apply void *CALLBACK_ARG { void *arg };
#endif

%include "flatuv.h"
