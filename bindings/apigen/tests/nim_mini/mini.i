/* The interface of mini.h, with Nim names as swig/nim.i gives flatuv's. */
%module mini

%{
#include "mini.h"
%}

#if defined(SWIGXML)
%rename(Counter) mini_counter_t;
%rename(init) mini_counter_new;
%rename(close) mini_counter_free;
#endif

%include "mini.h"
