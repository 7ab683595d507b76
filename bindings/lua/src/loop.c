/*
 * The state's loop, the bridge's hooks for Lua (which run the Lua
 * callbacks) and what uv.run() needs: the message handler and the
 * re-raising of a callback's error.
 */
#include "flatuv_lua.h"

/* ---- the bridge's hooks ------------------------------------------------------ */

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
int fuvlua_dispatch(lua_State *L) {
  const fuvlua_call_t *c = (const fuvlua_call_t *)lua_touserdata(L, 1);
  const fuv_bridge_value_t *args = c->args;
  int n = 0;

  /* A walk also meets a handle whose box the collector has found
   * unreachable but not yet finalized (its __gc closes the handle): the
   * box has left the weak table of objects, so Lua cannot be given it,
   * and the handle is as good as closed, so the walk does not show it. */
  if (c->kind == FUV_BRIDGE_WALK_CB) {
    fuvlua_push_box(L, c->box);
    if (lua_isnil(L, -1))
      return 0;
    lua_pop(L, 1);
  }
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
  case FUV_BRIDGE_UDP_RECV_CB:
    /* luv's (err, data, addr, flags): data "" for an empty datagram, addr
     * {ip =, port =, family =}, flags {partial = true}; on an error, the
     * error's name, nil, nil and the flags. */
    if (args[1].integer >= 0) {
      lua_pushnil(L);
      if (args[1].integer > 0)
        lua_pushlstring(L, args[2].bytes, (size_t)args[1].integer);
      else
        lua_pushliteral(L, "");
    } else {
      fuvlua_push_status(L, args[1].integer);
      lua_pushnil(L);
    }
    if (args[3].family != FUV_AF_UNSPEC)
      fuvlua_push_address(L, args[3].ip, args[3].port);
    else
      lua_pushnil(L);
    lua_createtable(L, 0, 1);
    if (args[4].integer & FUV_UDP_PARTIAL) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "partial");
    }
    n = 4;
    break;
  case FUV_BRIDGE_UDP_SEND_CB:
  case FUV_BRIDGE_CONNECTION_CB:
  case FUV_BRIDGE_WRITE_CB:
  case FUV_BRIDGE_CONNECT_CB:
  case FUV_BRIDGE_SHUTDOWN_CB:
  case FUV_BRIDGE_PIPE_CONNECT_CB:
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
  if (!lua_checkstack(L, 12)) {
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
  ctx->freed++;
  if (!ctx->teardown && ctx->L != NULL && box->anchor != LUA_NOREF &&
      ctx->depth == 0) {
    luaL_unref(ctx->L, LUA_REGISTRYINDEX, box->anchor);
    box->anchor = LUA_NOREF;
  }
}

static const fuv_bridge_hooks_t fuvlua_hooks = {
    fuvlua_hook_enter, fuvlua_hook_leave, fuvlua_hook_call,
    fuvlua_hook_release, fuvlua_hook_handle_freed};

/* ---- the loop ----------------------------------------------------------------- */

fuv_loop_t *fuvlua_loop(lua_State *L) {
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

/* ---- the run ---------------------------------------------------------------- */

/* Message handler for callbacks: adds the traceback to string errors.
 * Lua 5.1's C API has no luaL_traceback, so there it calls debug.traceback
 * (its upvalue, taken when the module was loaded), if there was one. */
int fuvlua_traceback(lua_State *L) {
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

void fuvlua_raise_pending(lua_State *L, fuvlua_ctx *ctx) {
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
