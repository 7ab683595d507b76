/*
 * Callbacks in typemaps: the host references the bridge keeps for Lua
 * functions, and the prepare / settle pair a callback argument's typemaps
 * call around the taking call.
 */
#include <stdlib.h>
#include <string.h>

#include "flatuv_lua.h"

/* ---- host references ------------------------------------------------------ */

/* The box's persistent registration of a kind, or NULL. */
static fuvlua_ref *fuvlua_persistent_find(const fuvlua_box *box,
                                          fuv_bridge_kind_t kind) {
  fuvlua_ref *ref;
  for (ref = box->persistent; ref != NULL; ref = ref->next)
    if (ref->kind == kind)
      return ref;
  return NULL;
}

void fuvlua_persistent_remove(fuvlua_box *box, fuvlua_ref *ref) {
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

void fuvlua_ref_free(fuvlua_ref *ref, fuvlua_box *owner) {
  if (ref == NULL)
    return;
  if (owner != NULL && ref == &owner->first)
    memset(ref, 0, sizeof *ref); /* free again */
  else
    free(ref);
}

/* Whether a callback kind is a request's: one-shot, and not the close
 * (which the closing state already covers). */
static int fuvlua_is_request(fuv_bridge_kind_t kind) {
  return kind != FUV_BRIDGE_CLOSE_CB &&
         fuv_bridge_signature(kind)->lifetime == FUV_BRIDGE_ONE_SHOT;
}

/* ---- callbacks in typemaps ------------------------------------------------- */

/* Prepares a registration for the Lua function (or callable) at arg (none at all for
 * nil, or, for nil when `always` is set, a quiet request for a request's
 * kind and a NULL host reference for a close, so that the binding still
 * learns of the completion). Returns the C entry point.
 * When the owner already has a persistent registration of this kind, it
 * is reused (*reg stays NULL, *ref_out is it): fuvlua_settle then only
 * puts the new function in its place. */
void (*fuvlua_prepare(lua_State *L, int arg, fuv_bridge_kind_t kind,
                      int always, fuvlua_box *owner, fuv_bridge_reg_t **reg,
                      fuvlua_ref **ref_out))(void) {
  fuvlua_ctx *ctx;
  fuvlua_ref *ref = NULL;
  void (*fn)(void) = NULL;
  int is_function = arg > 0 && fuvlua_is_callable(L, arg);
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
  if (!is_function && fuvlua_is_request(kind)) {
    /* A request without a function (write(data) and the like) is the
     * bridge's quiet request: no closure, no allocation, still counted
     * (and so keeping the box) until it completes. */
    r = fuv_bridge_prepare_quiet(ctx->bridge, kind, reg, &fn);
    if (r != 0)
      luaL_error(L, "flatuv: cannot make a callback: %s", fuv_strerror(r));
    return fn;
  }
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

/* Whether the value at arg can be called: a function or, as luv takes
 * wherever it takes a function, a value whose metatable's __call is a
 * function (a callable table or userdata). lua_pcall calls either, so
 * nothing else needs to know which it was given. */
int fuvlua_is_callable(lua_State *L, int arg) {
  int callable;
  if (lua_type(L, arg) == LUA_TFUNCTION)
    return 1;
  if (!luaL_getmetafield(L, arg, "__call")) /* 0 / LUA_TNIL: none pushed */
    return 0;
  callable = lua_type(L, -1) == LUA_TFUNCTION;
  lua_pop(L, 1);
  return callable;
}

/* luv's message, for a required callback and an optional one alike. */
void fuvlua_check_callback(lua_State *L, int arg, int optional) {
  if (!fuvlua_is_callable(L, arg) && !(optional && lua_isnil(L, arg)))
    fuvlua_type_error(L, arg, "function or callable table");
}

/* After the taking call: on success the Lua function moves into the
 * owner's user value and the registration is committed to the owner (or,
 * for a reused one, the function replaces the one before); on failure (or
 * for a walk) a new registration is released. */
void fuvlua_settle(lua_State *L, int arg, fuv_bridge_kind_t kind,
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

void fuvlua_clear_slot(lua_State *L, fuv_handle_t *h, fuv_bridge_kind_t kind) {
  fuvlua_ctx *ctx = fuvlua_ctx_get(L);
  lua_State *saved = ctx->L;
  ctx->L = L;
  fuv_bridge_clear(fuv_bridge_handle_of(h), kind);
  ctx->L = saved;
}
