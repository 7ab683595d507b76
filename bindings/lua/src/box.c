/*
 * Handles as Lua sees them: boxes (full userdata), the lifetime rule that
 * anchors them, the Lua functions they hold, and their closing by __gc.
 */
#include <string.h>

#include "flatuv_lua.h"

/* ---- handles -------------------------------------------------------------- */

void fuvlua_push_box(lua_State *L, fuvlua_box *box) {
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

/* The lifetime rule is the bridge's, shared with the Python binding
 * (fuv_bridge_handle_must_live): a box stays alive without script
 * references while its handle is active or closing, or while a request on
 * it (connect, write, shutdown, ...) has not completed, which the bridge
 * counts for every binding, requests without a Lua function (quiet ones)
 * included. Each such request keeps the box, and with it the callbacks in
 * its user value. */
void fuvlua_box_sync(lua_State *L, fuvlua_box *box, int idx) {
  int want = fuv_bridge_handle_must_live(box->handle);
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
/* Under Lua 5.4 a box is finalizable (its __gc closes an idle open
 * handle), and the collector counts finalizable garbage as live for the
 * cycle that finds it, then paces the next cycle on that estimate: a
 * script that makes and closes many handles thus sees its heap (and RSS)
 * ratchet up, a million timer cycles taking RSS from 4 to 9 MB, though
 * every box of a freed handle is garbage that finalizes to nothing. So
 * once as many handles have been freed since the last full cycle as are
 * still attached (and at least FUVLUA_FREED_PER_FULL_GC), a full cycle
 * runs: amortized, a constant cost per handle whatever the heap's size. */
#define FUVLUA_FREED_PER_FULL_GC 1024

static void fuvlua_gc_account(lua_State *L, fuvlua_ctx *ctx) {
  if (ctx->freed >= FUVLUA_FREED_PER_FULL_GC &&
      ctx->freed >= fuv_bridge_loop_handle_count(ctx->bridge)) {
    ctx->freed = 0;
    ctx->unseen = 0;
    lua_gc(L, LUA_GCCOLLECT, 0);
    return;
  }
  ctx->unseen += FUVLUA_C_BYTES_PER_HANDLE;
  if (ctx->unseen < FUVLUA_GC_STEP_KIB * 1024)
    return;
  ctx->unseen = 0;
  lua_gc(L, LUA_GCSTEP, FUVLUA_GC_STEP_KIB);
}

void fuvlua_box_new(lua_State *L, fuv_handle_t *h, int cls) {
  fuvlua_ctx *ctx = fuvlua_ctx_get(L);
  fuvlua_box *box = (fuvlua_box *)fuvlua_newuserdata(L, sizeof *box);
  int r;

  box->handle = NULL;
  box->ctx = ctx;
  box->cls = cls;
  box->anchor = LUA_NOREF;
  box->persistent = NULL;
  memset(&box->first, 0, sizeof box->first);
  luaL_getmetatable(L, fuvlua_class_names[cls]);
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
 * Only a function is ever held alone: a callable table (luv takes those
 * wherever it takes a function) goes into a table of its own, so that a
 * table user value is always the box's table of callbacks.
 * Keys are luaL_ref's. box is the userdata's stack index. */
#define FUVLUA_SOLE (-3) /* neither LUA_NOREF nor LUA_REFNIL */

/* Stores the value at fn and returns its key. May raise a memory error. */
int fuvlua_box_store(lua_State *L, int box, int fn) {
  int key;
  box = fuvlua_absindex(L, box);
  fn = fuvlua_absindex(L, fn);
  fuvlua_getuservalue(L, box);
#if FUVLUA_SOLE_FUNCTIONS
  if (lua_isnil(L, -1) && lua_type(L, fn) == LUA_TFUNCTION) {
    lua_pop(L, 1);
    lua_pushvalue(L, fn);
    fuvlua_setuservalue(L, box);
    return FUVLUA_SOLE;
  }
  if (!lua_istable(L, -1)) { /* the sole function (or nil) into a table */
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
void fuvlua_box_replace(lua_State *L, int box, int key, int fn) {
  box = fuvlua_absindex(L, box);
  fn = fuvlua_absindex(L, fn);
  fuvlua_getuservalue(L, box);
  if (!lua_istable(L, -1) && lua_type(L, fn) != LUA_TFUNCTION) {
    /* A sole function replaced by a callable table: see above. */
    lua_pop(L, 1);
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, -1);
    fuvlua_setuservalue(L, box);
  }
  lua_pushvalue(L, fn);
  if (lua_istable(L, -2))
    lua_rawseti(L, -2, key);
  else
    fuvlua_setuservalue(L, box);
  lua_pop(L, 1);
}

/* Pushes key's function (nil if none). */
void fuvlua_box_push_fn(lua_State *L, int box, int key) {
  fuvlua_getuservalue(L, box);
  if (lua_istable(L, -1)) {
    lua_rawgeti(L, -1, key);
    lua_remove(L, -2);
  }
}

/* Forgets key's function; allocates nothing, so it cannot raise. */
void fuvlua_box_drop(lua_State *L, int box, int key) {
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

/* ---- closing: __gc of a handle --------------------------------------------- */

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
int fuvlua_box_gc(lua_State *L) {
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

int fuvlua_box_tostring(lua_State *L) {
  fuvlua_box *box = (fuvlua_box *)lua_touserdata(L, 1);
  lua_pushfstring(L, "%s: %p%s", fuvlua_class_names[box->cls],
                  (void *)box, box->handle == NULL ? " (closed)" : "");
  return 1;
}
