/*
 * flatuv.i - the single SWIG interface for every language.
 *
 * It %includes the public header (nothing is declared twice) and states
 * ownership, out-parameters, buffers, callbacks and error conventions.
 * Language-specific parts live in python.i and lua.i, and the Nim names
 * (read by bindings/nimgen from `swig -xml` output) in nim.i.
 */
%module flatuv

%{
#include "flatuv.h"
%}

#if defined(SWIGPYTHON)
%include "python.i"
#elif defined(SWIGLUA)
%include "lua.i"
#elif defined(SWIGXML)
%include "nim.i"
#endif

%include "flatuv.h"
