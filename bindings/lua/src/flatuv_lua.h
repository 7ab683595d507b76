/*
 * The Lua side of flatuv's binding: the runtime that swig/lua.i's
 * typemaps call (the per-state context, argument checks, handle boxes and
 * their lifetime, callbacks through the bridge, the run, addresses), and
 * the few functions written by hand. SWIG's wrapper includes this header;
 * the runtime itself is in the .c files beside it, one per concept:
 *
 *   context.c   the per-state context, the module's setup and the
 *               functions written by hand
 *   args.c      errors in luv's form and argument conversion
 *   box.c       handles as userdata (boxes): lifetime, the Lua functions
 *               a box holds, closing and __gc
 *   callback.c  callbacks in typemaps: host references, prepare/settle
 *   loop.c      the state's loop, the bridge's hooks and the run
 *   address.c   addresses as userdata (flatuv.sockaddr)
 *
 * Objects. Each handle is a full userdata (a fuvlua_box) with a per-kind
 * metatable, attached to its C handle through the callback bridge, so a
 * callback gets the very userdata the script holds. One lifetime rule
 * (the bridge's fuv_bridge_handle_must_live, Python's too) decides for every handle and request kind: the
 * box stays referenced from the registry (anchored) while its handle is
 * active or closing, or has a request (connect, write, shutdown, ...)
 * whose callback has not run, so a running server or timer, or a client
 * that connected and wrote and was forgotten, needs no script reference;
 * an open, inactive handle with no request pending that the script drops
 * is closed by __gc. The Lua functions given as callbacks live in the
 * userdata's user value (see fuvlua_box_store).
 *
 * Callbacks go through bindings/bridge (libffi): loop.c supplies the
 * bridge's hooks for Lua. An error raised by a callback stops the loop and
 * is re-raised, with its traceback, by the uv.run() that ran it.
 *
 * Each Lua state has one loop, created on first use, as in luv.
 *
 * Every function here has external linkage but hidden visibility
 * (FUVLUA_HIDDEN), so that the module exports luaopen_flatuv_raw alone.
 */
#ifndef FLATUV_LUA_H
#define FLATUV_LUA_H

#include <limits.h>
#include <stddef.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

#include "flatuv.h"
#include "fuv_bridge.h"

#define FUVLUA_HIDDEN __attribute__((visibility("hidden")))

/* ---- Lua 5.1 / LuaJIT and 5.4 differences ------------------------------- */

#ifndef LUA_OK
#define LUA_OK 0
#endif

#if LUA_VERSION_NUM >= 502
#define fuvlua_absindex(L, i) lua_absindex((L), (i))
#else
#define fuvlua_absindex(L, i)                                                \
  ((i) > 0 || (i) <= LUA_REGISTRYINDEX ? (i) : lua_gettop(L) + (i) + 1)
#endif

/* Whether a user value may be any value (see fuvlua_box_store). */
#if LUA_VERSION_NUM >= 504
#define FUVLUA_SOLE_FUNCTIONS 1
#else
#define FUVLUA_SOLE_FUNCTIONS 0
#endif

#if LUA_VERSION_NUM >= 504
#define fuvlua_newuserdata(L, size) lua_newuserdatauv((L), (size), 1)
#define fuvlua_setuservalue(L, i) ((void)lua_setiuservalue((L), (i), 1))
#define fuvlua_getuservalue(L, i) ((void)lua_getiuservalue((L), (i), 1))
#elif LUA_VERSION_NUM >= 502
#define fuvlua_newuserdata(L, size) lua_newuserdata((L), (size))
#define fuvlua_setuservalue(L, i) lua_setuservalue((L), (i))
#define fuvlua_getuservalue(L, i) ((void)lua_getuservalue((L), (i)))
#else
#define fuvlua_newuserdata(L, size) lua_newuserdata((L), (size))
#define fuvlua_setuservalue(L, i) ((void)lua_setfenv((L), (i)))
#define fuvlua_getuservalue(L, i) lua_getfenv((L), (i))
#endif

/* luaL_unref runs in the bridge's release hook, where it must not raise a
 * memory error. Lua 5.1's keeps its free list at key 0, which it would
 * create on first use: create it beforehand, empty, on each table used. */
FUVLUA_HIDDEN void fuvlua_keep_free_list(lua_State *L, int t);

/* ---- the per-state context (context.c) ----------------------------------- */

typedef struct fuvlua_box fuvlua_box;

/* A host reference for the bridge: where the Lua function of one
 * registration is kept. */
typedef struct fuvlua_ref {
  fuvlua_box *box; /* whose user value holds it; NULL: the registry */
  int key;         /* its key there, LUA_NOREF until stored */
  fuv_bridge_kind_t kind;
  void (*fn)(void); /* the registration's C entry point */
  /* The box's next persistent registration (see fuvlua_box.persistent). */
  struct fuvlua_ref *next;
} fuvlua_ref;

typedef struct fuvlua_ctx {
  /* The Lua state that is running the loop or calling into the bridge,
   * which is the one callbacks and releases must use. */
  lua_State *L;
  fuv_loop_t *loop;
  fuv_bridge_loop_t *bridge;
  int objects_ref;   /* weak table: light userdata box -> its userdata */
  int traceback_ref; /* the message handler callbacks run under */
  int dispatch_ref;  /* fuvlua_dispatch, made once */
  /* A registry slot, made once, for the first error a callback raised:
   * storing it there cannot fail in the middle of the library's code. */
  int error_ref;
  int has_error;
  int stack_overflow; /* a callback could not run: no room on the stack */
  int running;       /* inside uv.run() */
  int walking;       /* inside uv.walk(): the loop must not run */
  int teardown;      /* the Lua state is closing: run no Lua code */
  unsigned depth;    /* nesting of calls from the bridge */
  /* Bytes of C memory (see FUVLUA_C_BYTES_PER_HANDLE) that handles made
   * since the collector was last told hold, and that it cannot see. */
  size_t unseen;
  /* Handles freed since the last full collection (see fuvlua_gc_account). */
  size_t freed;
  /* The handle of the callback being run, re-examined when it returns.
   * Only walk callbacks nest (a walk from a callback), and they are not
   * about their handle, so one slot is enough. */
  fuvlua_box *resync;
} fuvlua_ctx;

/* A handle as Lua sees it. */
struct fuvlua_box {
  fuv_handle_t *handle; /* NULL once the library has freed it */
  fuvlua_ctx *ctx;
  int cls;           /* its class: an index into fuvlua_class_names */
  int anchor;        /* registry reference while it must stay alive */
  /* The persistent registrations (timer, read, ...) the handle has, so
   * that starting again reuses one: only the Lua function changes. A
   * list, since a handle has one or two (at most one per kind, and three
   * kinds for a stream); the first is kept in the box itself (`first`,
   * free while its fn is NULL), so that a timer or a reading stream costs
   * no allocation of its own for its callback. */
  fuvlua_ref *persistent;
  fuvlua_ref first;
};

/* Registry keys (their addresses): the context; and a field every handle
 * metatable has, true. */
FUVLUA_HIDDEN extern char fuvlua_ctx_key;
FUVLUA_HIDDEN extern char fuvlua_handle_marker;

/* The handle classes a script holds, from 1 to the NULL that ends them:
 * their metatables' names (also __name), "flatuv.tcp" ... Generated from
 * the interface (bindings/apigen, lua_api.i), so that every handle type
 * of the header has its class; the typemaps give each handle type the
 * classes it accepts as a mask (bit i: class i). */
FUVLUA_HIDDEN extern const char *const fuvlua_class_names[];

FUVLUA_HIDDEN fuvlua_ctx *fuvlua_ctx_get(lua_State *L);

/* Sets up the context and the metatables when the module opens. */
FUVLUA_HIDDEN void fuvlua_init(lua_State *L);

/* ---- errors and argument conversion (args.c) ----------------------------- */

/* luv's convention for a failed call: nil, "NAME: message", "NAME". */
FUVLUA_HIDDEN int fuvlua_push_error(lua_State *L, int err);

/* Raises "bad argument #arg (EXPECTED expected, got TYPE)". */
FUVLUA_HIDDEN int fuvlua_type_error(lua_State *L, int arg,
                                    const char *expected);

/* An integral number within [min, max]; anything else raises an error. */
FUVLUA_HIDDEN lua_Integer fuvlua_check_integer(lua_State *L, int arg,
                                               double min, double max);

/* A string without embedded NUL (they would silently cut a C string). */
FUVLUA_HIDDEN const char *fuvlua_check_cstring(lua_State *L, int arg,
                                               int nil_ok);

FUVLUA_HIDDEN int fuvlua_check_bool(lua_State *L, int arg);

/* A flags argument: nil (0), an integer, or a table of named booleans. */
typedef struct {
  const char *name;
  unsigned value;
} fuvlua_flag_name;

FUVLUA_HIDDEN unsigned fuvlua_check_flags(lua_State *L, int arg,
                                          const fuvlua_flag_name *names);

/* A name from a list, or the integer it stands for. */
typedef struct {
  const char *name;
  int value;
} fuvlua_enum_name;

FUVLUA_HIDDEN int fuvlua_check_enum(lua_State *L, int arg, const char *what,
                                    const fuvlua_enum_name *names);

FUVLUA_HIDDEN extern const fuvlua_enum_name fuvlua_run_modes[];
FUVLUA_HIDDEN extern const fuvlua_enum_name fuvlua_families[];
FUVLUA_HIDDEN extern const fuvlua_enum_name fuvlua_socket_types[];
FUVLUA_HIDDEN extern const fuvlua_enum_name fuvlua_pipe_modes[];
FUVLUA_HIDDEN extern const fuvlua_enum_name fuvlua_loop_options[];
/* A signal by luv's name ("sigprof") or number; 0 for nil. */
FUVLUA_HIDDEN int fuvlua_check_signal(lua_State *L, int arg);
/* Pushes the name of value in names, or nil (a negative value: none). */
FUVLUA_HIDDEN int fuvlua_push_enum_or_nil(lua_State *L, int value,
                                          const fuvlua_enum_name *names);
/* The longest pipe name getsockname() returns (sun_path is 108). */
#define FUVLUA_NAME_MAX 256
FUVLUA_HIDDEN extern const fuvlua_flag_name fuvlua_bind_flags[];
FUVLUA_HIDDEN extern const fuvlua_flag_name fuvlua_udp_bind_flags[];
FUVLUA_HIDDEN extern const fuvlua_flag_name fuvlua_udp_new_flags[];
FUVLUA_HIDDEN extern const fuvlua_enum_name fuvlua_memberships[];
FUVLUA_HIDDEN extern const fuvlua_flag_name fuvlua_socketpair_flags[];

/* recv(n, timeout_ms) reads into a buffer of at most FUVLUA_MAX_RECV
 * bytes, since a receive returns what has arrived, never more, and a large
 * n should not cost a large buffer. */
#define FUVLUA_MAX_RECV (256 * 1024)

/* ---- handles (box.c) ------------------------------------------------------- */

/* The box at arg, if its class is one of mask's, or an error naming what
 * was expected. A closed handle passes with a NULL handle, which the
 * library answers with FUV_EINVAL. Inline, since every method call on a
 * handle starts with it. */
static inline fuvlua_box *fuvlua_check_box(lua_State *L, int arg,
                                           unsigned mask,
                                           const char *expected) {
  fuvlua_box *box = (fuvlua_box *)lua_touserdata(L, arg);
  int is_handle = 0;
  if (box != NULL && lua_getmetatable(L, arg)) {
    lua_pushlightuserdata(L, &fuvlua_handle_marker);
    lua_rawget(L, -2);
    is_handle = lua_toboolean(L, -1);
    lua_pop(L, 2);
  }
  if (!is_handle || !((mask >> box->cls) & 1u))
    fuvlua_type_error(L, arg, expected);
  return box;
}

/* Pushes the userdata of a box (nil if it no longer exists). */
FUVLUA_HIDDEN void fuvlua_push_box(lua_State *L, fuvlua_box *box);

/* Anchors the box while fuv_bridge_handle_must_live says so, and lets it go
 * otherwise. idx is the userdata's stack index, or 0 to look it up. */
FUVLUA_HIDDEN void fuvlua_box_sync(lua_State *L, fuvlua_box *box, int idx);

/* Makes the userdata of a handle the library has just created, attaches it
 * through the bridge and leaves it on the stack. */
FUVLUA_HIDDEN void fuvlua_box_new(lua_State *L, fuv_handle_t *h, int cls);

/* The Lua functions a box holds, in its user value (see box.c). box is
 * the userdata's stack index. fuvlua_box_store stores the value at fn and
 * returns its key (it may raise a memory error); fuvlua_box_replace puts
 * it in the place of key's; fuvlua_box_push_fn pushes key's function (nil
 * if none); fuvlua_box_drop forgets it, allocating nothing, so it cannot
 * raise. */
FUVLUA_HIDDEN int fuvlua_box_store(lua_State *L, int box, int fn);
FUVLUA_HIDDEN void fuvlua_box_replace(lua_State *L, int box, int key,
                                      int fn);
FUVLUA_HIDDEN void fuvlua_box_push_fn(lua_State *L, int box, int key);
FUVLUA_HIDDEN void fuvlua_box_drop(lua_State *L, int box, int key);

/* __gc and __tostring of a handle. */
FUVLUA_HIDDEN int fuvlua_box_gc(lua_State *L);
FUVLUA_HIDDEN int fuvlua_box_tostring(lua_State *L);

/* ---- callbacks in typemaps (callback.c) ------------------------------------ */

/* Takes a registration off its box's list of persistent ones. */
FUVLUA_HIDDEN void fuvlua_persistent_remove(fuvlua_box *box,
                                            fuvlua_ref *ref);

/* Gives back a reference made by fuvlua_ref_new (its Lua value already
 * dropped). owner is the box it was made for, if any. */
FUVLUA_HIDDEN void fuvlua_ref_free(fuvlua_ref *ref, fuvlua_box *owner);

/* Prepares a registration for the Lua function at arg; see callback.c.
 * Returns the C entry point. */
FUVLUA_HIDDEN void (*fuvlua_prepare(lua_State *L, int arg,
                                    fuv_bridge_kind_t kind, int always,
                                    fuvlua_box *owner, fuv_bridge_reg_t **reg,
                                    fuvlua_ref **ref_out))(void);

/* Whether a value is callable (a function, or has a __call function), and
 * a check that a callback argument is (or is nil, if optional), raising
 * luv's error otherwise. */
FUVLUA_HIDDEN int fuvlua_is_callable(lua_State *L, int arg);
FUVLUA_HIDDEN void fuvlua_check_callback(lua_State *L, int arg,
                                         int optional);

/* After the taking call: commits or releases what fuvlua_prepare made. */
FUVLUA_HIDDEN void fuvlua_settle(lua_State *L, int arg,
                                 fuv_bridge_kind_t kind,
                                 fuv_bridge_reg_t *reg, fuvlua_ref *ref,
                                 int result, fuv_handle_t *owner, int scoped);

/* Runs a bridge call that may release host references (and so needs the
 * calling state) from outside any callback. */
FUVLUA_HIDDEN void fuvlua_clear_slot(lua_State *L, fuv_handle_t *h,
                                     fuv_bridge_kind_t kind);

/* ---- the loop, the bridge's hooks and the run (loop.c) --------------------- */

/* The state's loop, created with its bridge on first use. */
FUVLUA_HIDDEN fuv_loop_t *fuvlua_loop(lua_State *L);

/* The function that runs one callback, inside a lua_pcall (see loop.c). */
FUVLUA_HIDDEN int fuvlua_dispatch(lua_State *L);

/* Message handler for callbacks: adds the traceback to string errors. */
FUVLUA_HIDDEN int fuvlua_traceback(lua_State *L);

/* Raises the error a callback raised, if any (after uv.run or uv.walk). */
FUVLUA_HIDDEN void fuvlua_raise_pending(lua_State *L, fuvlua_ctx *ctx);

/* ---- addresses (address.c) -------------------------------------------------- */

#define FUVLUA_SOCKADDR "flatuv.sockaddr"

/* A request (luv's uv_req_t userdata): one reference to a fuv_req_t,
 * given back by __gc. A Lua state's finalizers run on the thread that uses
 * the state, and releasing is safe at any time (flatuv.h, Requests), also
 * after the loop was freed. */
#define FUVLUA_REQ "flatuv.req"
typedef struct {
  fuv_req_t *req;
} fuvlua_req;
/* Pushes a new request userdata owning req's reference. */
FUVLUA_HIDDEN void fuvlua_push_req(lua_State *L, fuv_req_t *req);
/* The request at arg, or an argument error. */
FUVLUA_HIDDEN fuv_req_t *fuvlua_check_req(lua_State *L, int arg);

FUVLUA_HIDDEN struct sockaddr_storage *fuvlua_new_sockaddr(lua_State *L);
FUVLUA_HIDDEN struct sockaddr *fuvlua_check_sockaddr(lua_State *L, int arg);

/* Pushes luv's address table: {ip = ..., port = ..., family = ...}. */
FUVLUA_HIDDEN void fuvlua_push_address(lua_State *L, const char *ip,
                                       int port);

FUVLUA_HIDDEN int fuvlua_sockaddr_tostring(lua_State *L);
/* Raises luv's "Invalid IP address or port [ip:port]" unless ip and port
 * make an IPv4 or IPv6 address. */
FUVLUA_HIDDEN void fuvlua_check_address(lua_State *L, const char *ip,
                                        int port);

/* ---- functions written by hand (context.c) ---------------------------------- */

/* uv._metatables(), uv._stats(), uv.is_handle(v): see context.c. */
FUVLUA_HIDDEN int fuvlua_metatables(lua_State *L);
FUVLUA_HIDDEN int fuvlua_stats(lua_State *L);
FUVLUA_HIDDEN int fuvlua_is_handle(lua_State *L);

/* timer:start(timeout_ms, repeat_ms, cb), in luv's order. */
/* raw._accept(server[, client]): luv's server:accept(client), filling the
 * caller's handle, and flatuv's server:accept() returning a new one. */
FUVLUA_HIDDEN int fuvlua_accept(lua_State *L);
/* The classes a stream argument accepts (generated, lua_api.i). */
FUVLUA_HIDDEN extern const unsigned fuvlua_class_mask_stream;
FUVLUA_HIDDEN int fuvlua_timer_start(fuv_timer_t *timer, uint64_t timeout_ms,
                                     uint64_t repeat_ms, fuv_timer_cb cb,
                                     void *arg);

#endif /* FLATUV_LUA_H */
