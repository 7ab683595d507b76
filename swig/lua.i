/*
 * lua.i - the Lua part of the flatuv interface (SWIGLUA only).
 *
 * SWIG generates the C module `flatuv.raw` from flatuv.i with these
 * typemaps; bindings/lua/flatuv.lua arranges its functions into luv's
 * style (uv.new_tcp(), tcp:bind(host, port), ...). The raw functions are
 * already usable as methods: they take the handle first, return luv's
 * `nil, "ECONNREFUSED: connection refused", "ECONNREFUSED"` on failure and
 * raise a Lua error naming the argument when an argument has the wrong type.
 *
 * Objects. Each handle is a full userdata (a fuvlua_box) with a per-kind
 * metatable, attached to its C handle through the callback bridge, so a
 * callback gets the very userdata the script holds. One lifetime rule
 * (fuvlua_box_must_live) decides for every handle and request kind: the
 * box stays referenced from the registry (anchored) while its handle is
 * active or closing, or has a request (connect, write, shutdown, ...)
 * whose callback has not run, so a running server or timer, or a client
 * that connected and wrote and was forgotten, needs no script reference;
 * an open, inactive handle with no request pending that the script drops
 * is closed by __gc. The Lua functions given as callbacks live in the
 * userdata's user value (see fuvlua_box_store).
 *
 * Callbacks go through bindings/bridge (libffi): this file supplies the
 * bridge's hooks for Lua. An error raised by a callback stops the loop and
 * is re-raised, with its traceback, by the uv.run() that ran it.
 *
 * Each Lua state has one loop, created on first use, as in luv.
 */

%{
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuv_bridge.h"

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

/* SWIG's own count check names no argument. Missing arguments are left to
 * the typemaps, which report "bad argument #n to 'f' (... expected, got no
 * value)"; one too many is an error at its position, since it usually
 * means a call the script did not intend. */
#undef SWIG_check_num_args
#define SWIG_check_num_args(func_name, a, b)                                  \
  if (lua_gettop(L) > (b))                                                   \
    luaL_argerror(L, (b) + 1, "no more arguments expected");

/* luaL_unref runs in the bridge's release hook, where it must not raise a
 * memory error. Lua 5.1's keeps its free list at key 0, which it would
 * create on first use: create it beforehand, empty, on each table used. */
static void fuvlua_keep_free_list(lua_State *L, int t) {
#if LUA_VERSION_NUM < 502
  t = fuvlua_absindex(L, t);
  lua_rawgeti(L, t, 0);
  if (lua_isnil(L, -1)) {
    lua_pushinteger(L, 0);
    lua_rawseti(L, t, 0);
  }
  lua_pop(L, 1);
#else
  (void)L;
  (void)t;
#endif
}

/* ---- the per-state context ---------------------------------------------- */

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
  /* The handle of the callback being run, re-examined when it returns.
   * Only walk callbacks nest (a walk from a callback), and they are not
   * about their handle, so one slot is enough. */
  fuvlua_box *resync;
} fuvlua_ctx;

/* A handle as Lua sees it. */
struct fuvlua_box {
  fuv_handle_t *handle; /* NULL once the library has freed it */
  fuvlua_ctx *ctx;
  fuv_handle_type_t kind;
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

/* The box's persistent registration of a kind, or NULL. */
static fuvlua_ref *fuvlua_persistent_find(const fuvlua_box *box,
                                          fuv_bridge_kind_t kind) {
  fuvlua_ref *ref;
  for (ref = box->persistent; ref != NULL; ref = ref->next)
    if (ref->kind == kind)
      return ref;
  return NULL;
}

static void fuvlua_persistent_remove(fuvlua_box *box, fuvlua_ref *ref) {
  fuvlua_ref **p;
  for (p = &box->persistent; *p != NULL; p = &(*p)->next)
    if (*p == ref) {
      *p = ref->next;
      ref->next = NULL;
      return;
    }
}

/* A new host reference of a kind, for a callback that will belong to
 * owner (NULL: not known yet): the box's own slot when it is free and the
 * kind persistent, else an allocation. NULL when out of memory. */
static fuvlua_ref *fuvlua_ref_new(fuvlua_box *owner, fuv_bridge_kind_t kind) {
  fuvlua_ref *ref;
  if (owner != NULL && owner->first.fn == NULL &&
      fuv_bridge_signature(kind)->lifetime == FUV_BRIDGE_PERSISTENT) {
    ref = &owner->first;
  } else {
    ref = (fuvlua_ref *)malloc(sizeof *ref);
    if (ref == NULL)
      return NULL;
  }
  ref->box = NULL;
  ref->key = LUA_NOREF;
  ref->kind = kind;
  ref->fn = NULL;
  ref->next = NULL;
  return ref;
}

/* Gives back a reference made by fuvlua_ref_new (its Lua value already
 * dropped). owner is the box it was made for, if any. */
static void fuvlua_ref_free(fuvlua_ref *ref, fuvlua_box *owner) {
  if (ref == NULL)
    return;
  if (owner != NULL && ref == &owner->first)
    memset(ref, 0, sizeof *ref); /* free again */
  else
    free(ref);
}

static char fuvlua_ctx_key;
static char fuvlua_handle_marker;

static const char *const fuvlua_metatable_names[FUV_HANDLE_TYPE_MAX] = {
    "flatuv.handle", "flatuv.async", "flatuv.tcp", "flatuv.timer"};

static fuvlua_ctx *fuvlua_ctx_get(lua_State *L) {
  fuvlua_ctx *ctx;
  lua_pushlightuserdata(L, &fuvlua_ctx_key);
  lua_rawget(L, LUA_REGISTRYINDEX);
  ctx = (fuvlua_ctx *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (ctx == NULL)
    luaL_error(L, "flatuv: the module is not initialised in this state");
  return ctx;
}

/* ---- errors -------------------------------------------------------------- */

/* luv's convention for a failed call: nil, "NAME: message", "NAME". */
static int fuvlua_push_error(lua_State *L, int err) {
  const char *name = fuv_err_name(err);
  lua_pushnil(L);
  lua_pushfstring(L, "%s: %s", name, fuv_strerror(err));
  lua_pushstring(L, name);
  return 3;
}

static const char *fuvlua_typename(lua_State *L, int arg) {
  const char *name = NULL;
  if (luaL_getmetafield(L, arg, "__name")) {
    name = lua_tostring(L, -1);
    lua_pop(L, 1); /* the metatable still holds the string */
  }
  return name != NULL ? name : luaL_typename(L, arg);
}

static int fuvlua_type_error(lua_State *L, int arg, const char *expected) {
  const char *msg = lua_pushfstring(L, "%s expected, got %s", expected,
                                    fuvlua_typename(L, arg));
  return luaL_argerror(L, arg, msg);
}

/* ---- argument conversion ------------------------------------------------- */

/* An integral number within [min, max]; anything else raises an error. */
static lua_Integer fuvlua_check_integer(lua_State *L, int arg, double min,
                                        double max) {
  double d;
  if (lua_type(L, arg) != LUA_TNUMBER)
    fuvlua_type_error(L, arg, "integer");
#if LUA_VERSION_NUM >= 503
  if (lua_isinteger(L, arg)) {
    lua_Integer i = lua_tointeger(L, arg);
    if ((double)i < min || (double)i > max)
      luaL_argerror(L, arg, lua_pushfstring(L, "%I out of range", i));
    return i;
  }
#endif
  d = (double)lua_tonumber(L, arg);
  if (d != floor(d))
    luaL_argerror(L, arg, "number has no integer representation");
  if (d < min || d > max)
    luaL_argerror(L, arg, lua_pushfstring(L, "%f out of range", d));
  return (lua_Integer)d;
}

/* A string without embedded NUL (they would silently cut a C string). */
static const char *fuvlua_check_cstring(lua_State *L, int arg, int nil_ok) {
  size_t len;
  const char *s;
  if (nil_ok && lua_isnil(L, arg))
    return NULL;
  if (lua_type(L, arg) != LUA_TSTRING)
    fuvlua_type_error(L, arg, nil_ok ? "string or nil" : "string");
  s = lua_tolstring(L, arg, &len);
  if (strlen(s) != len)
    luaL_argerror(L, arg, "string contains a NUL byte");
  return s;
}

static int fuvlua_check_bool(lua_State *L, int arg) {
  if (lua_type(L, arg) == LUA_TBOOLEAN)
    return lua_toboolean(L, arg);
  if (lua_type(L, arg) == LUA_TNUMBER)
    return fuvlua_check_integer(L, arg, INT_MIN, INT_MAX) != 0;
  return fuvlua_type_error(L, arg, "boolean");
}

/* A flags argument: nil (0), an integer, or a table of named booleans. */
typedef struct {
  const char *name;
  unsigned value;
} fuvlua_flag_name;

static unsigned fuvlua_check_flags(lua_State *L, int arg,
                                   const fuvlua_flag_name *names) {
  unsigned flags = 0;
  if (lua_isnoneornil(L, arg))
    return 0;
  if (lua_type(L, arg) == LUA_TNUMBER)
    return (unsigned)fuvlua_check_integer(L, arg, 0, UINT_MAX);
  if (lua_type(L, arg) != LUA_TTABLE)
    fuvlua_type_error(L, arg, "table of flags");
  for (; names->name != NULL; names++) {
    lua_getfield(L, arg, names->name);
    if (lua_toboolean(L, -1))
      flags |= names->value;
    lua_pop(L, 1);
  }
  return flags;
}

/* A name from a list, or the integer it stands for. */
typedef struct {
  const char *name;
  int value;
} fuvlua_enum_name;

static int fuvlua_check_enum(lua_State *L, int arg, const char *what,
                             const fuvlua_enum_name *names) {
  const char *s;
  if (lua_type(L, arg) == LUA_TNUMBER)
    return (int)fuvlua_check_integer(L, arg, INT_MIN, INT_MAX);
  if (lua_type(L, arg) != LUA_TSTRING)
    return fuvlua_type_error(L, arg, what);
  s = lua_tostring(L, arg);
  for (; names->name != NULL; names++)
    if (strcmp(s, names->name) == 0)
      return names->value;
  return luaL_argerror(L, arg, lua_pushfstring(L, "invalid %s '%s'", what, s));
}

static const fuvlua_enum_name fuvlua_run_modes[] = {
    {"default", FUV_RUN_DEFAULT}, {"once", FUV_RUN_ONCE},
    {"nowait", FUV_RUN_NOWAIT}, {NULL, 0}};
static const fuvlua_enum_name fuvlua_families[] = {
    {"unspec", FUV_AF_UNSPEC}, {"inet", FUV_AF_INET},
    {"inet6", FUV_AF_INET6}, {NULL, 0}};
static const fuvlua_enum_name fuvlua_socket_types[] = {
    {"stream", FUV_SOCK_STREAM}, {"dgram", FUV_SOCK_DGRAM}, {NULL, 0}};
static const fuvlua_flag_name fuvlua_bind_flags[] = {
    {"ipv6only", FUV_TCP_IPV6ONLY}, {"reuseport", FUV_TCP_REUSEPORT},
    {NULL, 0}};
static const fuvlua_flag_name fuvlua_socketpair_flags[] = {
    {"nonblock", FUV_NONBLOCK_PIPE}, {NULL, 0}};

/* ---- handles -------------------------------------------------------------- */

/* What a handle argument may be. */
enum { FUVLUA_ANY = -1, FUVLUA_STREAM = -2 };

static int fuvlua_kind_fits(fuv_handle_type_t kind, int want) {
  if (want == FUVLUA_ANY)
    return 1;
  if (want == FUVLUA_STREAM)
    return kind == FUV_TCP;
  return (int)kind == want;
}

/* The box at arg, or an error naming what was expected. A closed handle
 * passes with a NULL handle, which the library answers with FUV_EINVAL. */
static fuvlua_box *fuvlua_check_box(lua_State *L, int arg, int want,
                                    const char *expected) {
  fuvlua_box *box = (fuvlua_box *)lua_touserdata(L, arg);
  int is_handle = 0;
  if (box != NULL && lua_getmetatable(L, arg)) {
    lua_pushlightuserdata(L, &fuvlua_handle_marker);
    lua_rawget(L, -2);
    is_handle = lua_toboolean(L, -1);
    lua_pop(L, 2);
  }
  if (!is_handle || !fuvlua_kind_fits(box->kind, want))
    fuvlua_type_error(L, arg, expected);
  return box;
}

/* Pushes the userdata of a box (nil if it no longer exists). */
static void fuvlua_push_box(lua_State *L, fuvlua_box *box) {
  if (box == NULL) {
    lua_pushnil(L);
  } else if (box->anchor != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, box->anchor);
  } else {
    lua_rawgeti(L, LUA_REGISTRYINDEX, box->ctx->objects_ref);
    lua_pushlightuserdata(L, box);
    lua_rawget(L, -2);
    lua_remove(L, -2);
  }
}

/* The lifetime rule, for every handle and request kind: a box stays
 * alive without script references while its handle is active or closing,
 * or while a request on it (connect, write, shutdown, ...) has not had its
 * callback run yet, which the bridge counts for every binding. Each such
 * request keeps the box, and with it the callbacks in its user value. */
static int fuvlua_box_must_live(const fuvlua_box *box) {
  fuv_handle_t *h = box->handle;
  return h != NULL &&
         (fuv_is_active(h) || fuv_is_closing(h) ||
          fuv_bridge_handle_requests(fuv_bridge_handle_of(h)) > 0);
}

/* Whether a callback kind is a request's: one-shot, and not the close
 * (which the closing state already covers). */
static int fuvlua_is_request(fuv_bridge_kind_t kind) {
  return kind != FUV_BRIDGE_CLOSE_CB &&
         fuv_bridge_signature(kind)->lifetime == FUV_BRIDGE_ONE_SHOT;
}

/* Anchors the box while fuvlua_box_must_live says so, and lets it go
 * otherwise. idx is the userdata's stack index, or 0 to look it up. */
static void fuvlua_box_sync(lua_State *L, fuvlua_box *box, int idx) {
  int want = fuvlua_box_must_live(box);
  if (want && box->anchor == LUA_NOREF) {
    if (idx != 0)
      lua_pushvalue(L, idx);
    else
      fuvlua_push_box(L, box);
    box->anchor = luaL_ref(L, LUA_REGISTRYINDEX);
  } else if (!want && box->anchor != LUA_NOREF) {
    luaL_unref(L, LUA_REGISTRYINDEX, box->anchor);
    box->anchor = LUA_NOREF;
  }
}

/* What a handle holds outside the Lua heap: the library's handle, the
 * bridge's record, a registration and its closure (about 550 bytes for a
 * timer, more for a stream). The collector only sees the userdata, so a
 * script that drops open handles would otherwise let garbage that holds
 * five times its visible size pile up before a cycle collects it. */
#define FUVLUA_C_BYTES_PER_HANDLE 512
#define FUVLUA_GC_STEP_KIB 64

/* Tells the collector about the C memory of a new handle, by stepping it
 * as if that memory had been allocated in the Lua heap, once per
 * FUVLUA_GC_STEP_KIB so that the cost stays that of ordinary allocation. */
static void fuvlua_gc_account(lua_State *L, fuvlua_ctx *ctx) {
  ctx->unseen += FUVLUA_C_BYTES_PER_HANDLE;
  if (ctx->unseen < FUVLUA_GC_STEP_KIB * 1024)
    return;
  ctx->unseen = 0;
  lua_gc(L, LUA_GCSTEP, FUVLUA_GC_STEP_KIB);
}

/* Makes the userdata of a handle the library has just created, attaches it
 * through the bridge and leaves it on the stack. */
static void fuvlua_box_new(lua_State *L, fuv_handle_t *h,
                           fuv_handle_type_t kind) {
  fuvlua_ctx *ctx = fuvlua_ctx_get(L);
  fuvlua_box *box = (fuvlua_box *)fuvlua_newuserdata(L, sizeof *box);
  int r;

  box->handle = NULL;
  box->ctx = ctx;
  box->kind = kind;
  box->anchor = LUA_NOREF;
  box->persistent = NULL;
  memset(&box->first, 0, sizeof box->first);
  luaL_getmetatable(L, fuvlua_metatable_names[kind]);
  lua_setmetatable(L, -2);
#if !FUVLUA_SOLE_FUNCTIONS
  lua_newtable(L); /* see fuvlua_box_store */
  fuvlua_keep_free_list(L, -1);
  fuvlua_setuservalue(L, -2);
#endif
  lua_rawgeti(L, LUA_REGISTRYINDEX, ctx->objects_ref);
  lua_pushlightuserdata(L, box);
  lua_pushvalue(L, -3);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  r = fuv_bridge_handle_attach(h, box, NULL);
  if (r != 0) {
    fuv_close(h, NULL, NULL); /* freed with the loop's next iteration */
    luaL_error(L, "flatuv: cannot attach a handle: %s", fuv_strerror(r));
  }
  box->handle = h;
  fuvlua_box_sync(L, box, lua_gettop(L)); /* an async handle starts active */
  fuvlua_gc_account(L, ctx);
}

/* ---- the Lua functions a box holds --------------------------------------- */

/* A box's callbacks live in its user value, not in the registry, so that a
 * callback that refers to its own handle does not keep an inactive handle
 * alive for ever. Under Lua 5.4 the user value is the function itself
 * while the box holds only one (a timer, a reading stream: no table at
 * all, under key FUVLUA_SOLE), and a table of them once it holds more;
 * elsewhere (5.1's environment must be a table) it is always a table.
 * Keys are luaL_ref's. box is the userdata's stack index. */
#define FUVLUA_SOLE (-3) /* neither LUA_NOREF nor LUA_REFNIL */

/* Stores the value at fn and returns its key. May raise a memory error. */
static int fuvlua_box_store(lua_State *L, int box, int fn) {
  int key;
  box = fuvlua_absindex(L, box);
  fn = fuvlua_absindex(L, fn);
  fuvlua_getuservalue(L, box);
#if FUVLUA_SOLE_FUNCTIONS
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushvalue(L, fn);
    fuvlua_setuservalue(L, box);
    return FUVLUA_SOLE;
  }
  if (!lua_istable(L, -1)) { /* the sole function moves into a table */
    lua_createtable(L, 0, 2);
    lua_insert(L, -2);
    lua_rawseti(L, -2, FUVLUA_SOLE);
    lua_pushvalue(L, -1);
    fuvlua_setuservalue(L, box);
  }
#endif
  lua_pushvalue(L, fn);
  key = luaL_ref(L, -2);
  lua_pop(L, 1);
  return key;
}

/* Puts the value at fn in the place of key's. */
static void fuvlua_box_replace(lua_State *L, int box, int key, int fn) {
  box = fuvlua_absindex(L, box);
  fn = fuvlua_absindex(L, fn);
  fuvlua_getuservalue(L, box);
  lua_pushvalue(L, fn);
  if (lua_istable(L, -2))
    lua_rawseti(L, -2, key);
  else
    fuvlua_setuservalue(L, box);
  lua_pop(L, 1);
}

/* Pushes key's function (nil if none). */
static void fuvlua_box_push_fn(lua_State *L, int box, int key) {
  fuvlua_getuservalue(L, box);
  if (lua_istable(L, -1)) {
    lua_rawgeti(L, -1, key);
    lua_remove(L, -2);
  }
}

/* Forgets key's function; allocates nothing, so it cannot raise. */
static void fuvlua_box_drop(lua_State *L, int box, int key) {
  box = fuvlua_absindex(L, box);
  fuvlua_getuservalue(L, box);
  if (lua_istable(L, -1)) {
    if (key == FUVLUA_SOLE) {
      lua_pushnil(L);
      lua_rawseti(L, -2, key);
    } else {
      luaL_unref(L, -1, key);
    }
  } else if (key == FUVLUA_SOLE) {
    lua_pushnil(L);
    fuvlua_setuservalue(L, box);
  }
  lua_pop(L, 1);
}

/* ---- the loop and the bridge's hooks -------------------------------------- */

static void fuvlua_hook_enter(void *state) {
  ((fuvlua_ctx *)state)->depth++;
}

/* After a callback the handle may have become inactive (a one-shot timer
 * fired, reading hit EOF, the last write went out, it was freed): let the
 * box go if so. Done here, after the bridge's own releases, so that those
 * still find the box anchored. */
static void fuvlua_hook_leave(void *state) {
  fuvlua_ctx *ctx = (fuvlua_ctx *)state;
  fuvlua_box *box = ctx->resync;
  if (--ctx->depth > 0 || box == NULL)
    return;
  ctx->resync = NULL;
  if (!ctx->teardown && ctx->L != NULL)
    fuvlua_box_sync(ctx->L, box, 0);
}

/* Pushes a status as luv does: nil for success, else the error's name. */
static void fuvlua_push_status(lua_State *L, long long status) {
  if (status >= 0)
    lua_pushnil(L);
  else
    lua_pushstring(L, fuv_err_name((int)status));
}

static void fuvlua_push_function(lua_State *L, const fuvlua_ref *ref) {
  if (ref->box == NULL) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref->key);
    return;
  }
  fuvlua_push_box(L, ref->box);
  if (lua_isnil(L, -1))
    return;
  fuvlua_box_push_fn(L, -1, ref->key);
  lua_replace(L, -2);
}

/* One callback's arguments, for fuvlua_dispatch. */
typedef struct {
  fuv_bridge_kind_t kind;
  const fuvlua_ref *ref;
  const fuv_bridge_value_t *args;
  fuvlua_box *box;
} fuvlua_call_t;

/* Pushes the Lua function and its arguments and calls it. It runs inside
 * the hook's lua_pcall, so that nothing it allocates can raise an error
 * through the library's C frames: not a memory error, nor (in Lua 5.1) an
 * error from a __gc metamethod that an allocation runs. */
static int fuvlua_dispatch(lua_State *L) {
  const fuvlua_call_t *c = (const fuvlua_call_t *)lua_touserdata(L, 1);
  const fuv_bridge_value_t *args = c->args;
  int n = 0;

  fuvlua_push_function(L, c->ref);
  switch (c->kind) {
  case FUV_BRIDGE_READ_CB:
    if (args[1].integer > 0) {
      lua_pushnil(L);
      lua_pushlstring(L, args[2].bytes, (size_t)args[1].integer);
    } else {
      fuvlua_push_status(L, args[1].integer == FUV_EOF ? 0 : args[1].integer);
      lua_pushnil(L);
    }
    n = 2;
    break;
  case FUV_BRIDGE_CONNECTION_CB:
  case FUV_BRIDGE_WRITE_CB:
  case FUV_BRIDGE_CONNECT_CB:
  case FUV_BRIDGE_SHUTDOWN_CB:
    fuvlua_push_status(L, args[1].integer);
    n = 1;
    break;
  default:
    break;
  }
  /* Last, the handle itself: luv's callbacks do not take it, so scripts
   * written for luv ignore it, and others may use it. */
  fuvlua_push_box(L, c->box);
  lua_call(L, n + 1, 0);
  return 0;
}

static void fuvlua_hook_call(void *state, fuv_bridge_kind_t kind,
                             void *host_ref, const fuv_bridge_value_t *args,
                             unsigned nargs) {
  fuvlua_ctx *ctx = (fuvlua_ctx *)state;
  lua_State *L = ctx->L;
  fuvlua_call_t call;
  int top;

  call.kind = kind;
  call.ref = (const fuvlua_ref *)host_ref;
  call.args = args;
  call.box = nargs > 0 ? (fuvlua_box *)args[0].object : NULL;
  if (call.box != NULL && kind != FUV_BRIDGE_WALK_CB) {
    /* The request is over: the box stays anchored for the call, and the
     * leave hook lets it go if nothing else needs it. */
    ctx->resync = call.box;
  }
  if (call.ref == NULL || ctx->teardown || L == NULL)
    return;

  /* lua_checkstack, unlike luaL_checkstack, reports failure instead of
   * raising it here, where it cannot be raised. */
  if (!lua_checkstack(L, 8)) {
    ctx->stack_overflow = 1;
    if (ctx->running)
      fuv_stop(ctx->loop);
    return;
  }
  top = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, ctx->traceback_ref);
  lua_rawgeti(L, LUA_REGISTRYINDEX, ctx->dispatch_ref);
  lua_pushlightuserdata(L, &call);
  if (lua_pcall(L, 1, 0, top + 1) != LUA_OK) {
    if (!ctx->has_error) {
      if (lua_isnil(L, -1)) { /* nil would free the slot for reuse */
        lua_pop(L, 1);
        lua_pushliteral(L, "flatuv: a callback raised nil");
      }
      lua_rawseti(L, LUA_REGISTRYINDEX, ctx->error_ref);
      ctx->has_error = 1;
    }
    if (ctx->running)
      fuv_stop(ctx->loop);
  }
  lua_settop(L, top);
}

static void fuvlua_hook_release(void *state, void *host_ref) {
  fuvlua_ctx *ctx = (fuvlua_ctx *)state;
  fuvlua_ref *ref = (fuvlua_ref *)host_ref;
  lua_State *L = ctx->L;

  if (ref->box != NULL)
    fuvlua_persistent_remove(ref->box, ref);
  if (ref->key != LUA_NOREF && !ctx->teardown && L != NULL) {
    if (ref->box == NULL) {
      luaL_unref(L, LUA_REGISTRYINDEX, ref->key);
    } else {
      fuvlua_push_box(L, ref->box);
      if (!lua_isnil(L, -1))
        fuvlua_box_drop(L, -1, ref->key);
      lua_pop(L, 1);
    }
  }
  fuvlua_ref_free(ref, ref->box);
}

static void fuvlua_hook_handle_freed(void *state, void *host_object) {
  fuvlua_ctx *ctx = (fuvlua_ctx *)state;
  fuvlua_box *box = (fuvlua_box *)host_object;
  box->handle = NULL;
  if (!ctx->teardown && ctx->L != NULL && box->anchor != LUA_NOREF &&
      ctx->depth == 0) {
    luaL_unref(ctx->L, LUA_REGISTRYINDEX, box->anchor);
    box->anchor = LUA_NOREF;
  }
}

static const fuv_bridge_hooks_t fuvlua_hooks = {
    fuvlua_hook_enter, fuvlua_hook_leave, fuvlua_hook_call,
    fuvlua_hook_release, fuvlua_hook_handle_freed};

/* The state's loop, created with its bridge on first use. */
static fuv_loop_t *fuvlua_loop(lua_State *L) {
  fuvlua_ctx *ctx = fuvlua_ctx_get(L);
  int r;
  if (ctx->loop != NULL)
    return ctx->loop;
  r = fuv_loop_new(&ctx->loop);
  if (r == 0) {
    r = fuv_bridge_loop_new(&ctx->bridge, ctx->loop, &fuvlua_hooks, ctx);
    if (r != 0) {
      fuv_loop_free(ctx->loop);
      ctx->loop = NULL;
    }
  }
  if (r != 0)
    luaL_error(L, "flatuv: cannot create the loop: %s", fuv_strerror(r));
  return ctx->loop;
}

/* ---- callbacks in typemaps ------------------------------------------------- */

/* Prepares a registration for the Lua function at arg (none at all for
 * nil, or a NULL host reference for nil when `always` is set, so that the
 * binding still learns of the completion). Returns the C entry point.
 * When the owner already has a persistent registration of this kind, it
 * is reused (*reg stays NULL, *ref_out is it): fuvlua_settle then only
 * puts the new function in its place. */
static void (*fuvlua_prepare(lua_State *L, int arg, fuv_bridge_kind_t kind,
                             int always, fuvlua_box *owner,
                             fuv_bridge_reg_t **reg,
                             fuvlua_ref **ref_out))(void) {
  fuvlua_ctx *ctx;
  fuvlua_ref *ref = NULL;
  void (*fn)(void) = NULL;
  int is_function = arg > 0 && lua_type(L, arg) == LUA_TFUNCTION;
  int r;

  *reg = NULL;
  *ref_out = NULL;
  if (!is_function && !always)
    return NULL;
  if (is_function && owner != NULL &&
      (ref = fuvlua_persistent_find(owner, kind)) != NULL) {
    *ref_out = ref;
    return ref->fn;
  }
  fuvlua_loop(L);
  ctx = fuvlua_ctx_get(L);
  if (is_function) {
    ref = fuvlua_ref_new(owner, kind);
    if (ref == NULL)
      luaL_error(L, "flatuv: out of memory");
    /* The box's own slot is its from the start, so that a release before
     * fuvlua_settle (a failed call) gives the slot back. */
    if (owner != NULL && ref == &owner->first)
      ref->box = owner;
    /* A walk callback runs inside the taking call: keep it now. */
    if (kind == FUV_BRIDGE_WALK_CB) {
      lua_pushvalue(L, arg);
      ref->key = luaL_ref(L, LUA_REGISTRYINDEX);
    }
  }
  r = fuv_bridge_prepare(ctx->bridge, kind, ref, reg, &fn);
  if (r != 0) {
    if (ref != NULL && ref->key != LUA_NOREF)
      luaL_unref(L, LUA_REGISTRYINDEX, ref->key);
    fuvlua_ref_free(ref, owner);
    luaL_error(L, "flatuv: cannot make a callback: %s", fuv_strerror(r));
  }
  if (ref != NULL)
    ref->fn = fn; /* non-NULL: the box's own slot is taken */
  *ref_out = ref;
  return fn;
}

/* Checks that a callback argument is a function (or nil if optional). */
static void fuvlua_check_callback(lua_State *L, int arg, int optional) {
  if (lua_type(L, arg) != LUA_TFUNCTION && !(optional && lua_isnil(L, arg)))
    fuvlua_type_error(L, arg, optional ? "function or nil" : "function");
}

/* After the taking call: on success the Lua function moves into the
 * owner's user value and the registration is committed to the owner (or,
 * for a reused one, the function replaces the one before); on failure (or
 * for a walk) a new registration is released. */
static void fuvlua_settle(lua_State *L, int arg, fuv_bridge_kind_t kind,
                          fuv_bridge_reg_t *reg, fuvlua_ref *ref, int result,
                          fuv_handle_t *owner, int scoped) {
  fuvlua_ctx *ctx;
  lua_State *saved;
  fuvlua_box *box;

  if (reg == NULL) {
    if (ref != NULL && result >= 0) { /* reused */
      fuvlua_push_box(L, ref->box);
      fuvlua_box_replace(L, -1, ref->key, arg);
      lua_pop(L, 1);
    }
    return;
  }
  ctx = fuvlua_ctx_get(L);
  saved = ctx->L;
  ctx->L = L;
  if (result < 0 || scoped) {
    fuv_bridge_discard(reg);
    ctx->L = saved;
    return;
  }
  box = (fuvlua_box *)fuv_bridge_handle_object(fuv_bridge_handle_of(owner));
  if (ref != NULL && box != NULL) {
    fuvlua_push_box(L, box);
    ref->key = fuvlua_box_store(L, -1, arg);
    ref->box = box;
    lua_pop(L, 1);
  }
  fuv_bridge_commit(reg, owner);
  if (ref != NULL && box != NULL &&
      fuv_bridge_signature(ref->kind)->lifetime == FUV_BRIDGE_PERSISTENT) {
    ref->next = box->persistent;
    box->persistent = ref;
  }
  if (box != NULL && fuvlua_is_request(kind))
    fuvlua_box_sync(L, box, 0);
  ctx->L = saved;
}

/* Runs a bridge call that may release host references (and so needs the
 * calling state) from outside any callback. */
static void fuvlua_clear_slot(lua_State *L, fuv_handle_t *h,
                              fuv_bridge_kind_t kind) {
  fuvlua_ctx *ctx = fuvlua_ctx_get(L);
  lua_State *saved = ctx->L;
  ctx->L = L;
  fuv_bridge_clear(fuv_bridge_handle_of(h), kind);
  ctx->L = saved;
}

/* ---- the run ---------------------------------------------------------------- */

/* Message handler for callbacks: adds the traceback to string errors.
 * Lua 5.1's C API has no luaL_traceback, so there it calls debug.traceback
 * (its upvalue, taken when the module was loaded), if there was one. */
static int fuvlua_traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL && !lua_isnoneornil(L, 1))
    return 1; /* an error object: pass it on as it is */
#if LUA_VERSION_NUM >= 502
  luaL_traceback(L, L, msg, 1);
#else
  if (lua_isfunction(L, lua_upvalueindex(1))) {
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushstring(L, msg);
    lua_pushinteger(L, 2);
    lua_call(L, 2, 1);
  }
#endif
  return 1;
}

/* Raises the error a callback raised, if any (after uv.run or uv.walk). */
static void fuvlua_raise_pending(lua_State *L, fuvlua_ctx *ctx) {
  if (ctx->stack_overflow) {
    ctx->stack_overflow = 0;
    luaL_error(L, "flatuv: no room on the Lua stack to run a callback");
  }
  if (!ctx->has_error)
    return;
  ctx->has_error = 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, ctx->error_ref);
  lua_pushboolean(L, 0); /* the slot stays, holding nothing */
  lua_rawseti(L, LUA_REGISTRYINDEX, ctx->error_ref);
  lua_error(L);
}

/* ---- closing: __gc of a handle and of the state ---------------------------- */

/* Closes a box's handle through the bridge with no Lua callback. */
static int fuvlua_close_quietly(lua_State *L, fuvlua_box *box, int idx) {
  fuv_bridge_reg_t *reg;
  void (*fn)(void);
  int r;
  if (box->handle == NULL || fuv_is_closing(box->handle))
    return 0;
  r = fuv_bridge_prepare(box->ctx->bridge, FUV_BRIDGE_CLOSE_CB, NULL, &reg,
                         &fn);
  if (r != 0)
    return r;
  r = fuv_close(box->handle, (fuv_close_cb)fn, NULL);
  if (r != 0) {
    fuv_bridge_discard(reg);
    return r;
  }
  fuv_bridge_commit(reg, box->handle);
  fuvlua_box_sync(L, box, idx);
  return 0;
}

/* __gc of a handle: an open handle the script no longer references is
 * closed. Anchoring the userdata again keeps it (and the callbacks in its
 * user value) alive until the close completes. */
static int fuvlua_box_gc(lua_State *L) {
  fuvlua_box *box = (fuvlua_box *)lua_touserdata(L, 1);
  fuvlua_ctx *ctx;
  lua_State *saved;
  if (box == NULL || box->handle == NULL)
    return 0;
  ctx = box->ctx;
  if (ctx->teardown)
    return 0; /* the state's own __gc closes everything */
  saved = ctx->L;
  ctx->L = L;
  fuvlua_close_quietly(L, box, 1);
  ctx->L = saved;
  return 0;
}

static int fuvlua_box_tostring(lua_State *L) {
  fuvlua_box *box = (fuvlua_box *)lua_touserdata(L, 1);
  lua_pushfstring(L, "%s: %p%s", fuvlua_metatable_names[box->kind],
                  (void *)box, box->handle == NULL ? " (closed)" : "");
  return 1;
}

static void fuvlua_close_for_teardown(fuv_handle_t *h, void *arg) {
  (void)arg;
  fuv_close(h, NULL, NULL);
}

/* __gc of the context, when the Lua state closes: close every handle and
 * free the loop, running no Lua code. */
static int fuvlua_ctx_gc(lua_State *L) {
  fuvlua_ctx *ctx = (fuvlua_ctx *)lua_touserdata(L, 1);
  int rounds;
  ctx->teardown = 1;
  if (ctx->loop == NULL)
    return 0;
  fuv_walk(ctx->loop, fuvlua_close_for_teardown, NULL);
  /* Closes complete within an iteration or two; the bound only guards
   * against a state closed from inside uv.run (os.exit(n, true) in a
   * callback), where the loop cannot run and is left to the process exit. */
  for (rounds = 0; rounds < 64; rounds++) {
    if (fuv_bridge_loop_free(ctx->bridge) == 0) {
      ctx->bridge = NULL;
      ctx->loop = NULL;
      break;
    }
    if (fuv_run(ctx->loop, FUV_RUN_NOWAIT) < 0)
      break;
  }
  return 0;
}

/* ---- addresses ------------------------------------------------------------ */

#define FUVLUA_SOCKADDR "flatuv.sockaddr"

static struct sockaddr_storage *fuvlua_new_sockaddr(lua_State *L) {
  struct sockaddr_storage *ss =
      (struct sockaddr_storage *)lua_newuserdata(L, sizeof *ss);
  memset(ss, 0, sizeof *ss);
  luaL_getmetatable(L, FUVLUA_SOCKADDR);
  lua_setmetatable(L, -2);
  return ss;
}

static struct sockaddr *fuvlua_check_sockaddr(lua_State *L, int arg) {
  void *p = lua_touserdata(L, arg);
  int ok = 0;
  if (p != NULL && lua_getmetatable(L, arg)) {
    luaL_getmetatable(L, FUVLUA_SOCKADDR);
    ok = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
  }
  if (!ok)
    fuvlua_type_error(L, arg, FUVLUA_SOCKADDR);
  return (struct sockaddr *)p;
}

/* Pushes luv's address table: {ip = ..., port = ..., family = ...}. */
static void fuvlua_push_address(lua_State *L, const char *ip, int port) {
  lua_createtable(L, 0, 3);
  lua_pushstring(L, ip);
  lua_setfield(L, -2, "ip");
  lua_pushinteger(L, port);
  lua_setfield(L, -2, "port");
  lua_pushstring(L, strchr(ip, ':') != NULL ? "inet6" : "inet");
  lua_setfield(L, -2, "family");
}

static int fuvlua_sockaddr_tostring(lua_State *L) {
  struct sockaddr *sa = fuvlua_check_sockaddr(L, 1);
  char ip[FUV_IP_NAME_MAX];
  int port = 0;
  if (fuv_ip_name(sa, ip, sizeof ip) != 0)
    strcpy(ip, "?");
  if (sa->sa_family == AF_INET)
    port = ntohs(((struct sockaddr_in *)sa)->sin_port);
  else if (sa->sa_family == AF_INET6)
    port = ntohs(((struct sockaddr_in6 *)sa)->sin6_port);
  lua_pushfstring(L, sa->sa_family == AF_INET6 ? "[%s]:%d" : "%s:%d", ip,
                  port);
  return 1;
}

/* ---- functions written by hand -------------------------------------------- */

/* The metatables of the handle kinds, for flatuv.lua to fill with methods:
 * {tcp = mt, timer = mt, async = mt, sockaddr = mt}. */
static int fuvlua_metatables(lua_State *L) {
  lua_newtable(L);
  luaL_getmetatable(L, "flatuv.tcp");
  lua_setfield(L, -2, "tcp");
  luaL_getmetatable(L, "flatuv.timer");
  lua_setfield(L, -2, "timer");
  luaL_getmetatable(L, "flatuv.async");
  lua_setfield(L, -2, "async");
  luaL_getmetatable(L, FUVLUA_SOCKADDR);
  lua_setfield(L, -2, "sockaddr");
  return 1;
}

/* Counts for tests: handles attached to the bridge, registrations not yet
 * released, boxes anchored in the registry. */
static int fuvlua_stats(lua_State *L) {
  fuvlua_ctx *ctx = fuvlua_ctx_get(L);
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer)fuv_bridge_loop_handle_count(ctx->bridge));
  lua_setfield(L, -2, "handles");
  lua_pushinteger(L, (lua_Integer)fuv_bridge_loop_reg_count(ctx->bridge));
  lua_setfield(L, -2, "registrations");
  return 1;
}

/* Whether a value is a flatuv handle, and if so its kind's name. */
static int fuvlua_is_handle(lua_State *L) {
  int is_handle = 0;
  if (lua_type(L, 1) == LUA_TUSERDATA && lua_getmetatable(L, 1)) {
    lua_pushlightuserdata(L, &fuvlua_handle_marker);
    lua_rawget(L, -2);
    is_handle = lua_toboolean(L, -1);
    lua_pop(L, 2);
  }
  lua_pushboolean(L, is_handle);
  return 1;
}

/* Sets up the context and the metatables when the module opens. */
static void fuvlua_init(lua_State *L) {
  fuvlua_ctx *ctx;
  int kind;

  lua_pushlightuserdata(L, &fuvlua_ctx_key);
  lua_rawget(L, LUA_REGISTRYINDEX);
  ctx = (fuvlua_ctx *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (ctx != NULL)
    return; /* opened before in this state */

  for (kind = FUV_ASYNC; kind < FUV_HANDLE_TYPE_MAX; kind++) {
    luaL_newmetatable(L, fuvlua_metatable_names[kind]);
    lua_pushlightuserdata(L, &fuvlua_handle_marker);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pushcfunction(L, fuvlua_box_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, fuvlua_box_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushstring(L, fuvlua_metatable_names[kind]);
    lua_setfield(L, -2, "__name");
    lua_pushliteral(L, "flatuv handle");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
  }
  luaL_newmetatable(L, FUVLUA_SOCKADDR);
  lua_pushcfunction(L, fuvlua_sockaddr_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushstring(L, FUVLUA_SOCKADDR);
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);

  /* The context is made after the metatables so that, finalized in reverse
   * order of creation, it outlives every handle when the state closes. */
  ctx = (fuvlua_ctx *)lua_newuserdata(L, sizeof *ctx);
  memset(ctx, 0, sizeof *ctx);
  lua_newtable(L);
  lua_pushcfunction(L, fuvlua_ctx_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_pushlightuserdata(L, &fuvlua_ctx_key);
  lua_pushvalue(L, -2);
  lua_rawset(L, LUA_REGISTRYINDEX);
  lua_pop(L, 1);

  lua_newtable(L);
  lua_newtable(L);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  ctx->objects_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  fuvlua_keep_free_list(L, LUA_REGISTRYINDEX);
#if LUA_VERSION_NUM >= 502
  lua_pushcfunction(L, fuvlua_traceback);
#else
  lua_getglobal(L, "debug");
  if (lua_istable(L, -1))
    lua_getfield(L, -1, "traceback");
  else
    lua_pushnil(L);
  lua_remove(L, -2);
  lua_pushcclosure(L, fuvlua_traceback, 1);
#endif
  ctx->traceback_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushcfunction(L, fuvlua_dispatch);
  ctx->dispatch_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushboolean(L, 0);
  ctx->error_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}
%}

%init %{
  fuvlua_init(L);
%}

%native(_metatables) int fuvlua_metatables(lua_State *L);
%native(_stats) int fuvlua_stats(lua_State *L);
%native(is_handle) int fuvlua_is_handle(lua_State *L);

/* ---- names ------------------------------------------------------------------ */

/* fuv_tcp_bind -> tcp_bind, FUV_ECONNREFUSED -> ECONNREFUSED. */
%rename("%(regex:/^(fuv_|FUV_)(.*)/\\2/)s") "";

/* The module owns its loop and the bridge owns the data pointers. A script
 * keeps its own data in tables keyed by handle, or in closures. */
%ignore fuv_loop_new;
%ignore fuv_loop_get_data;
%ignore fuv_loop_set_data;
%ignore fuv_handle_get_data;
%ignore fuv_handle_set_data;
%ignore fuv_handle_loop;
%rename(loop_close) fuv_loop_free;
/* luv's names where they differ. */
%rename(get_type) fuv_handle_type;
%rename(get_write_queue_size) fuv_write_queue_size;

/* ---- typemaps: handles ------------------------------------------------------ */

%define FUVLUA_HANDLE_TYPEMAPS(CTYPE, WANT, EXPECTED)
%typemap(in) CTYPE * (fuvlua_box *box = NULL), const CTYPE * (fuvlua_box *box = NULL) %{
  box = fuvlua_check_box(L, $input, WANT, EXPECTED);
  $1 = ($1_ltype)box->handle;
%}
/* A call may have started or ended activity: re-anchor (getters are const
 * and skip this). */
%typemap(argout) CTYPE * %{
  fuvlua_box_sync(L, box$argnum, $input);
%}
%typemap(argout) const CTYPE * ""

%enddef

FUVLUA_HANDLE_TYPEMAPS(fuv_handle_t, FUVLUA_ANY, "flatuv handle")
FUVLUA_HANDLE_TYPEMAPS(fuv_stream_t, FUVLUA_STREAM, "flatuv stream")
FUVLUA_HANDLE_TYPEMAPS(fuv_tcp_t, FUV_TCP, "flatuv.tcp")
FUVLUA_HANDLE_TYPEMAPS(fuv_timer_t, FUV_TIMER, "flatuv.timer")
FUVLUA_HANDLE_TYPEMAPS(fuv_async_t, FUV_ASYNC, "flatuv.async")

/* The loop is the state's own. */
%typemap(in, numinputs=0) fuv_loop_t *, const fuv_loop_t * %{
  $1 = fuvlua_loop(L);
%}

/* Constructors and accept return the new handle. */
%define FUVLUA_NEW_HANDLE(CTYPE, KIND)
%typemap(in, numinputs=0) CTYPE ** (CTYPE *created = NULL) %{
  $1 = &created;
%}
%typemap(argout) CTYPE ** %{
  if (result == 0) {
    fuvlua_box_new(L, (fuv_handle_t *)created$argnum, KIND);
    SWIG_arg++;
  }
%}
%enddef
FUVLUA_NEW_HANDLE(fuv_tcp_t, FUV_TCP)
FUVLUA_NEW_HANDLE(fuv_timer_t, FUV_TIMER)
FUVLUA_NEW_HANDLE(fuv_async_t, FUV_ASYNC)

%typemap(out) int fuv_tcp_new, int fuv_tcp_new_ex, int fuv_timer_new,
              int fuv_async_new, int fuv_accept, int fuv_accept_sync %{
  if (result < 0)
    SWIG_arg += fuvlua_push_error(L, result);
%}

/* ---- typemaps: callbacks ------------------------------------------------------ */

/* The registration's arg is never needed: the bridge's closure knows it. */
%typemap(in, numinputs=0) void *CALLBACK_ARG %{
  $1 = NULL;
%}

/* KIND: the bridge's kind; OPTIONAL: nil allowed; OWNER: the handle it
 * belongs to, and OWNER_BOX its userdata if it exists before the call. The function is checked first and registered last (in the
 * check typemap), after every other argument is known to be good, so that
 * no argument error can leave a registration behind. */
%define FUVLUA_CALLBACK(CTYPE, NAME, KIND, OPTIONAL, OWNER, OWNER_BOX)
%typemap(in) CTYPE NAME (fuv_bridge_reg_t *reg = NULL, fuvlua_ref *ref = NULL,
                         int cbarg = 0) %{
  fuvlua_check_callback(L, $input, OPTIONAL);
  cbarg = $input;
%}
%typemap(check) CTYPE NAME %{
  $1 = ($1_ltype)fuvlua_prepare(L, cbarg$argnum, KIND, 0, OWNER_BOX, &reg$argnum,
                                &ref$argnum);
%}
%typemap(argout) CTYPE NAME %{
  fuvlua_settle(L, cbarg$argnum, KIND, reg$argnum, ref$argnum, result,
                (fuv_handle_t *)(OWNER), 0);
%}
%enddef

FUVLUA_CALLBACK(fuv_close_cb, cb, FUV_BRIDGE_CLOSE_CB, 1, arg1, NULL)
FUVLUA_CALLBACK(fuv_walk_cb, cb, FUV_BRIDGE_WALK_CB, 0, NULL, NULL)
FUVLUA_CALLBACK(fuv_timer_cb, cb, FUV_BRIDGE_TIMER_CB, 0, arg1, box1)
FUVLUA_CALLBACK(fuv_async_cb, cb, FUV_BRIDGE_ASYNC_CB, 0, created1, NULL)
FUVLUA_CALLBACK(fuv_connection_cb, cb, FUV_BRIDGE_CONNECTION_CB, 1, arg1, box1)
FUVLUA_CALLBACK(fuv_read_cb, cb, FUV_BRIDGE_READ_CB, 0, arg1, box1)
FUVLUA_CALLBACK(fuv_write_cb, cb, FUV_BRIDGE_WRITE_CB, 1, arg1, NULL)
FUVLUA_CALLBACK(fuv_connect_cb, cb, FUV_BRIDGE_CONNECT_CB, 1, arg1, NULL)
FUVLUA_CALLBACK(fuv_shutdown_cb, cb, FUV_BRIDGE_SHUTDOWN_CB, 1, arg1, NULL)
FUVLUA_CALLBACK(fuv_drain_cb, drain_cb, FUV_BRIDGE_DRAIN_CB, 1, arg1, box1)

/* Close and every request (connect, write, shutdown) always register,
 * with no function for nil, so that the binding learns when they complete
 * and holds the handle until then (fuvlua_box_must_live). */
%define FUVLUA_ALWAYS_REGISTER(CTYPE, KIND)
%typemap(check) CTYPE cb %{
  $1 = ($1_ltype)fuvlua_prepare(L, cbarg$argnum, KIND, 1, NULL, &reg$argnum,
                                &ref$argnum);
%}
%enddef
FUVLUA_ALWAYS_REGISTER(fuv_close_cb, FUV_BRIDGE_CLOSE_CB)
FUVLUA_ALWAYS_REGISTER(fuv_connect_cb, FUV_BRIDGE_CONNECT_CB)
FUVLUA_ALWAYS_REGISTER(fuv_shutdown_cb, FUV_BRIDGE_SHUTDOWN_CB)
FUVLUA_ALWAYS_REGISTER(fuv_write_cb, FUV_BRIDGE_WRITE_CB)

/* Optional callbacks may be left out. */
%typemap(default) fuv_close_cb cb, fuv_write_cb cb, fuv_connect_cb cb,
                  fuv_shutdown_cb cb, fuv_connection_cb cb,
                  fuv_drain_cb drain_cb %{
  $1 = NULL;
%}


/* Listening without a callback (for accept_sync), or clearing the drain
 * callback, drops the previous registration of that kind. */
%typemap(argout) fuv_connection_cb cb %{
  if (reg$argnum == NULL && ref$argnum == NULL && result == 0)
    fuvlua_clear_slot(L, (fuv_handle_t *)arg1, FUV_BRIDGE_CONNECTION_CB);
  fuvlua_settle(L, cbarg$argnum, FUV_BRIDGE_CONNECTION_CB, reg$argnum, ref$argnum,
                result, (fuv_handle_t *)arg1, 0);
%}
%typemap(argout) fuv_drain_cb drain_cb %{
  if (reg$argnum == NULL && ref$argnum == NULL && result == 0)
    fuvlua_clear_slot(L, (fuv_handle_t *)arg1, FUV_BRIDGE_DRAIN_CB);
  fuvlua_settle(L, cbarg$argnum, FUV_BRIDGE_DRAIN_CB, reg$argnum, ref$argnum,
                result, (fuv_handle_t *)arg1, 0);
%}


/* ---- typemaps: the loop run --------------------------------------------------- */

%typemap(in) fuv_run_mode_t mode %{
  $1 = ($1_ltype)fuvlua_check_enum(L, $input, "run mode", fuvlua_run_modes);
%}
%typemap(default) fuv_run_mode_t mode %{
  $1 = FUV_RUN_DEFAULT;
%}

/* Callbacks run on the state that runs the loop; an error one of them
 * raised comes out of uv.run() here. */
%exception fuv_run %{
  {
    fuvlua_ctx *ctx_ = fuvlua_ctx_get(L);
    lua_State *saved_ = ctx_->L;
    int running_ = ctx_->running;
    /* Running the loop from a walk callback would free handles that the
     * walk is about to visit. */
    if (ctx_->walking) {
      result = FUV_EBUSY;
    } else {
      ctx_->L = L;
      ctx_->running = 1;
      $action
      ctx_->L = saved_;
      ctx_->running = running_;
      fuvlua_raise_pending(L, ctx_);
    }
  }
%}
%exception fuv_walk %{
  {
    fuvlua_ctx *ctx_ = fuvlua_ctx_get(L);
    lua_State *saved_ = ctx_->L;
    ctx_->L = L;
    ctx_->walking++;
    $action
    ctx_->walking--;
    ctx_->L = saved_;
  }
%}
/* The walk's registration is released, then any error its callback raised
 * comes out. */
%typemap(argout) fuv_walk_cb cb %{
  fuvlua_settle(L, cbarg$argnum, FUV_BRIDGE_WALK_CB, reg$argnum, ref$argnum,
                result, NULL, 1);
  fuvlua_raise_pending(L, fuvlua_ctx_get(L));
%}
%exception fuv_loop_free %{
  {
    fuvlua_ctx *ctx_ = fuvlua_ctx_get(L);
    lua_State *saved_ = ctx_->L;
    (void)arg1; /* made if missing, so that there is one to free */
    ctx_->L = L;
    result = fuv_bridge_loop_free(ctx_->bridge);
    ctx_->L = saved_;
    if (result == 0) {
      ctx_->bridge = NULL;
      ctx_->loop = NULL;
    }
  }
%}
/* uv.run() returns whether handles remain, as luv does. */
%typemap(out) int fuv_run %{
  if (result < 0)
    SWIG_arg += fuvlua_push_error(L, result);
  else {
    lua_pushboolean(L, result != 0);
    SWIG_arg++;
  }
%}

/* ---- typemaps: numbers, booleans, strings ------------------------------------ */

%typemap(in) int %{
  $1 = ($1_ltype)fuvlua_check_integer(L, $input, INT_MIN, INT_MAX);
%}
%typemap(in) unsigned int %{
  $1 = ($1_ltype)fuvlua_check_integer(L, $input, 0, UINT_MAX);
%}
%typemap(in) uint64_t, size_t %{
  $1 = ($1_ltype)fuvlua_check_integer(L, $input, 0, 9007199254740991.0);
%}
%typemap(in) enum SWIGTYPE %{
  $1 = ($1_ltype)fuvlua_check_integer(L, $input, INT_MIN, INT_MAX);
%}
%typemap(in) int enable, int on %{
  $1 = fuvlua_check_bool(L, $input);
%}
%typemap(in) unsigned int flags %{
  $1 = fuvlua_check_flags(L, $input, fuvlua_bind_flags);
%}
%typemap(default) unsigned int flags %{
  $1 = 0;
%}
%typemap(in) int domain %{
  $1 = fuvlua_check_enum(L, $input, "address family", fuvlua_families);
%}
%typemap(default) int domain %{
  $1 = FUV_AF_UNSPEC;
%}
%typemap(in) int type %{
  $1 = fuvlua_check_enum(L, $input, "socket type", fuvlua_socket_types);
%}
%typemap(default) int type %{
  $1 = FUV_SOCK_STREAM;
%}
%typemap(default) int protocol, unsigned int delay_s %{
  $1 = 0;
%}
%typemap(in) int flags0, int flags1 %{
  $1 = (int)fuvlua_check_flags(L, $input, fuvlua_socketpair_flags);
%}
%typemap(default) int flags0, int flags1 %{
  $1 = 0;
%}

%typemap(in) const char * %{
  $1 = ($1_ltype)fuvlua_check_cstring(L, $input, 0);
%}
%typemap(in) const char *ifname %{
  $1 = ($1_ltype)fuvlua_check_cstring(L, $input, 1);
%}

/* Results (the FUV_STATUS role): a negative int is an error in luv's
 * form, else the value. */
%typemap(out) int FUV_STATUS %{
  if (result < 0)
    SWIG_arg += fuvlua_push_error(L, result);
  else {
    lua_pushinteger(L, (lua_Integer)result);
    SWIG_arg++;
  }
%}
%typemap(out) unsigned int, uint64_t, size_t %{
  lua_pushinteger(L, (lua_Integer)$1);
  SWIG_arg++;
%}
/* Ints that are values even when negative (FUV_VALUE). */
%typemap(out) int FUV_VALUE %{
  lua_pushinteger(L, (lua_Integer)result);
  SWIG_arg++;
%}
/* Predicates return booleans. */
%typemap(out) int fuv_is_active, int fuv_is_closing, int fuv_has_ref,
              int fuv_is_readable, int fuv_is_writable, int fuv_loop_alive,
              int fuv_stream_is_congested %{
  lua_pushboolean(L, result != 0);
  SWIG_arg++;
%}
/* A handle whose close has completed is closing for ever. */
%exception fuv_is_closing %{
  $action
  if (box1->handle == NULL)
    result = 1;
%}
%typemap(out) int fuv_tcp_get_reuseaddr, int fuv_tcp_get_ipv6only %{
  if (result < 0)
    SWIG_arg += fuvlua_push_error(L, result);
  else {
    lua_pushboolean(L, result != 0);
    SWIG_arg++;
  }
%}
/* get_type() and state() return a name, then the number, as luv's
 * handle:get_type() does. */
%typemap(out) fuv_handle_type_t fuv_handle_type %{
  lua_pushstring(L, fuv_handle_type_name(result));
  lua_pushinteger(L, (lua_Integer)result);
  SWIG_arg += 2;
%}
%typemap(out) int fuv_tcp_state %{
  if (result < 0)
    SWIG_arg += fuvlua_push_error(L, result);
  else {
    lua_pushstring(L, fuv_tcp_state_name(result));
    lua_pushinteger(L, (lua_Integer)result);
    SWIG_arg += 2;
  }
%}

/* ---- typemaps: buffers ---------------------------------------------------------- */

/* Data to write or send: a string (copied by the library as needed). */
%typemap(in) (const char *BYTES, size_t LENGTH) %{
  if (lua_type(L, $input) != LUA_TSTRING)
    fuvlua_type_error(L, $input, "string");
  $1 = ($1_ltype)lua_tolstring(L, $input, &$2);
%}

/* writev: a string, or a table (sequence) of strings written as one; it
 * is the `write` method. Up to 16 pieces need no allocation. The pieces
 * are gathered in the check typemap, after every argument has been read,
 * since a large table needs a userdata pushed above the arguments. */
%typemap(in) (const char *const *BUFS, const size_t *LENS, size_t NBUFS)
    (const char *small_bufs[16], size_t small_lens[16], int table = 0) %{
  if (lua_type(L, $input) == LUA_TSTRING) {
    small_bufs[0] = lua_tolstring(L, $input, &small_lens[0]);
    $1 = ($1_ltype)small_bufs;
    $2 = small_lens;
    $3 = 1;
  } else if (lua_type(L, $input) == LUA_TTABLE) {
    table = $input;
  } else {
    fuvlua_type_error(L, $input, "string or table of strings");
  }
%}
%typemap(check) (const char *const *BUFS, const size_t *LENS, size_t NBUFS) %{
  if (table$argnum != 0) {
    int t = table$argnum;
    size_t i, n;
#if LUA_VERSION_NUM >= 502
    n = (size_t)lua_rawlen(L, t);
#else
    n = lua_objlen(L, t);
#endif
    if (n <= 16) {
      $1 = ($1_ltype)small_bufs$argnum;
      $2 = small_lens$argnum;
    } else {
      char *mem = (char *)lua_newuserdata(L, n * (sizeof(char *) + sizeof(size_t)));
      $2 = (size_t *)mem;
      $1 = ($1_ltype)(mem + n * sizeof(size_t));
    }
    for (i = 0; i < n; i++) {
      lua_rawgeti(L, t, (int)i + 1);
      if (lua_type(L, -1) != LUA_TSTRING)
        luaL_argerror(L, t, lua_pushfstring(L, "item %d is %s, not a string",
                                            (int)i + 1, luaL_typename(L, -1)));
      ((const char **)$1)[i] = lua_tolstring(L, -1, &((size_t *)$2)[i]);
      lua_pop(L, 1); /* the table keeps the string alive */
    }
    $3 = n;
  }
%}

/* recv(n, timeout_ms) returns a string: up to n bytes, "" at end of
 * stream. The buffer is a userdata made once the arguments are checked; it
 * is at most FUVLUA_MAX_RECV bytes, since a receive returns what has
 * arrived, never more, and a large n should not cost a large buffer. */
%{
#define FUVLUA_MAX_RECV (256 * 1024)
%}
%typemap(in) (char *BYTES_OUT, size_t LENGTH) %{
  $2 = (size_t)fuvlua_check_integer(L, $input, 1, INT_MAX);
  if ($2 > FUVLUA_MAX_RECV)
    $2 = FUVLUA_MAX_RECV;
%}
%typemap(check) (char *BYTES_OUT, size_t LENGTH) %{
  $1 = (char *)lua_newuserdata(L, $2);
%}
%typemap(argout) (char *BYTES_OUT, size_t LENGTH) %{
  if (result >= 0) {
    lua_pushlstring(L, $1, (size_t)result);
    SWIG_arg++;
  }
%}
%typemap(out) int fuv_recv %{
  if (result < 0)
    SWIG_arg += fuvlua_push_error(L, result);
%}

/* ---- typemaps: addresses and other out-parameters --------------------------------- */

/* getsockname() / getpeername() give luv's {ip = ..., port = ..., family = ...}. */
%typemap(in, numinputs=0) (char *IP_OUT, size_t IP_LENGTH, int *PORT_OUT)
    (char ipbuf[FUV_IP_NAME_MAX], int portval = 0) %{
  ipbuf[0] = '\0';
  $1 = ipbuf;
  $2 = sizeof ipbuf;
  $3 = &portval;
%}
%typemap(argout) (char *IP_OUT, size_t IP_LENGTH, int *PORT_OUT) %{
  if (result == 0) {
    fuvlua_push_address(L, ipbuf$argnum, portval$argnum);
    SWIG_arg++;
  }
%}
%typemap(out) int fuv_tcp_getsockname, int fuv_tcp_getpeername,
              int fuv_tcp_getsockname_addr, int fuv_tcp_getpeername_addr,
              int fuv_ip4_addr, int fuv_ip6_addr, int fuv_ip_name,
              int fuv_tcp_get_linger, int fuv_socketpair %{
  if (result < 0)
    SWIG_arg += fuvlua_push_error(L, result);
%}

/* Addresses as userdata (flatuv.sockaddr), for the _addr calls. */
%typemap(in) const struct sockaddr *SOCKADDR %{
  $1 = fuvlua_check_sockaddr(L, $input);
%}
%typemap(in, numinputs=0) struct sockaddr_in *SOCKADDR_OUT (struct sockaddr_storage ss),
                          struct sockaddr_in6 *SOCKADDR_OUT (struct sockaddr_storage ss) %{
  memset(&ss, 0, sizeof ss);
  $1 = ($1_ltype)&ss;
%}
%typemap(argout) struct sockaddr_in *SOCKADDR_OUT, struct sockaddr_in6 *SOCKADDR_OUT %{
  if (result == 0) {
    memcpy(fuvlua_new_sockaddr(L), &ss$argnum, sizeof ss$argnum);
    SWIG_arg++;
  }
%}
%typemap(in, numinputs=0) (struct sockaddr *SOCKADDR_OUT, int *SOCKADDR_LENGTH)
    (struct sockaddr_storage ss, int sslen) %{
  memset(&ss, 0, sizeof ss);
  sslen = (int)sizeof ss;
  $1 = (struct sockaddr *)&ss;
  $2 = &sslen;
%}
%typemap(argout) (struct sockaddr *SOCKADDR_OUT, int *SOCKADDR_LENGTH) %{
  if (result == 0) {
    memcpy(fuvlua_new_sockaddr(L), &ss$argnum, sizeof ss$argnum);
    SWIG_arg++;
  }
%}
%typemap(in, numinputs=0) (char *TEXT_OUT, size_t TEXT_LENGTH) (char namebuf[FUV_IP_NAME_MAX]) %{
  namebuf[0] = '\0';
  $1 = namebuf;
  $2 = sizeof namebuf;
%}
%typemap(argout) (char *TEXT_OUT, size_t TEXT_LENGTH) %{
  if (result == 0) {
    lua_pushstring(L, namebuf$argnum);
    SWIG_arg++;
  }
%}

/* Pairs of int results (get_linger's on and seconds, socketpair's fds). */
%typemap(in, numinputs=0) (int *INT_OUT1, int *INT_OUT2) (int first = -1, int second = -1) %{
  $1 = &first;
  $2 = &second;
%}
%typemap(argout) (int *INT_OUT1, int *INT_OUT2) %{
  if (result == 0) {
    lua_pushinteger(L, first$argnum);
    lua_pushinteger(L, second$argnum);
    SWIG_arg += 2;
  }
%}

/* ---- luv's argument order ------------------------------------------------------ */

/* timer:start(timeout_ms, repeat_ms, cb): luv puts the callback last. SWIG's
 * Lua module cannot read one C argument from a later Lua position, so this
 * adapter reorders them; it is the only function declared here. */
%ignore fuv_timer_start;
%rename(timer_start) fuvlua_timer_start;
/* flatuv.i applies the roles after this file; the adapter needs them now. */
%apply int FUV_STATUS { int fuvlua_timer_start };
%apply void *CALLBACK_ARG { void *arg };
%inline %{
static int fuvlua_timer_start(fuv_timer_t *timer, uint64_t timeout_ms,
                              uint64_t repeat_ms, fuv_timer_cb cb, void *arg) {
  return fuv_timer_start(timer, cb, timeout_ms, repeat_ms, arg);
}
%}
