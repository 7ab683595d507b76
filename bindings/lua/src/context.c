/*
 * The per-state context, the module's setup (metatables, context) and the
 * functions written by hand.
 */
#include <string.h>

#include "flatuv_lua.h"

void fuvlua_keep_free_list(lua_State *L, int t) {
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

char fuvlua_ctx_key;
char fuvlua_handle_marker;

fuvlua_ctx *fuvlua_ctx_get(lua_State *L) {
  fuvlua_ctx *ctx;
  lua_pushlightuserdata(L, &fuvlua_ctx_key);
  lua_rawget(L, LUA_REGISTRYINDEX);
  ctx = (fuvlua_ctx *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (ctx == NULL)
    luaL_error(L, "flatuv: the module is not initialised in this state");
  return ctx;
}

/* ---- closing: __gc of the state -------------------------------------------- */

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

/* ---- functions written by hand -------------------------------------------- */

/* The metatables of the handle classes, for flatuv.lua to fill with
 * methods, by the class's word: {tcp = mt, timer = mt, async = mt, ...,
 * sockaddr = mt}. */
int fuvlua_metatables(lua_State *L) {
  int cls;
  lua_newtable(L);
  for (cls = 1; fuvlua_class_names[cls] != NULL; cls++) {
    luaL_getmetatable(L, fuvlua_class_names[cls]);
    lua_setfield(L, -2, fuvlua_class_names[cls] + sizeof "flatuv." - 1);
  }
  luaL_getmetatable(L, FUVLUA_SOCKADDR);
  lua_setfield(L, -2, "sockaddr");
  luaL_getmetatable(L, FUVLUA_REQ);
  lua_setfield(L, -2, "req");
  return 1;
}

/* ---- requests ------------------------------------------------------------------ */

static int fuvlua_req_gc(lua_State *L) {
  fuvlua_req *r = (fuvlua_req *)luaL_checkudata(L, 1, FUVLUA_REQ);
  fuv_req_t *req = r->req;
  r->req = NULL;
  fuv_req_release(req); /* NULL is ignored */
  return 0;
}

static int fuvlua_req_tostring(lua_State *L) {
  fuvlua_req *r = (fuvlua_req *)luaL_checkudata(L, 1, FUVLUA_REQ);
  lua_pushfstring(L, "uv_%s_t: %p", fuv_req_type_name(fuv_req_type(r->req)),
                  (void *)r);
  return 1;
}

void fuvlua_push_req(lua_State *L, fuv_req_t *req) {
  fuvlua_req *r = (fuvlua_req *)lua_newuserdata(L, sizeof *r);
  r->req = req;
  luaL_getmetatable(L, FUVLUA_REQ);
  lua_setmetatable(L, -2);
}

fuv_req_t *fuvlua_check_req(lua_State *L, int arg) {
  fuvlua_req *r = (fuvlua_req *)lua_touserdata(L, arg);
  int ok = 0;
  if (r != NULL && lua_getmetatable(L, arg)) {
    luaL_getmetatable(L, FUVLUA_REQ);
    ok = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
  }
  if (!ok)
    fuvlua_type_error(L, arg, "uv_req_t");
  return r->req;
}

/* Counts for tests: handles attached to the bridge, registrations not yet
 * released, boxes anchored in the registry. */
int fuvlua_stats(lua_State *L) {
  fuvlua_ctx *ctx = fuvlua_ctx_get(L);
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer)fuv_bridge_loop_handle_count(ctx->bridge));
  lua_setfield(L, -2, "handles");
  lua_pushinteger(L, (lua_Integer)fuv_bridge_loop_reg_count(ctx->bridge));
  lua_setfield(L, -2, "registrations");
  return 1;
}

/* Whether a value is a flatuv handle, and if so its kind's name. */
int fuvlua_is_handle(lua_State *L) {
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

/* timer:start(timeout_ms, repeat_ms, cb): luv puts the callback last.
 * SWIG's Lua module cannot read one C argument from a later Lua position,
 * so this adapter reorders them; swig/lua.i declares it for SWIG to wrap. */
int fuvlua_timer_start(fuv_timer_t *timer, uint64_t timeout_ms,
                       uint64_t repeat_ms, fuv_timer_cb cb, void *arg) {
  return fuv_timer_start(timer, cb, timeout_ms, repeat_ms, arg);
}

/* ---- the module's setup ------------------------------------------------------ */

void fuvlua_init(lua_State *L) {
  fuvlua_ctx *ctx;
  int cls;

  lua_pushlightuserdata(L, &fuvlua_ctx_key);
  lua_rawget(L, LUA_REGISTRYINDEX);
  ctx = (fuvlua_ctx *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (ctx != NULL)
    return; /* opened before in this state */

  for (cls = 1; fuvlua_class_names[cls] != NULL; cls++) {
    luaL_newmetatable(L, fuvlua_class_names[cls]);
    lua_pushlightuserdata(L, &fuvlua_handle_marker);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pushcfunction(L, fuvlua_box_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, fuvlua_box_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushstring(L, fuvlua_class_names[cls]);
    lua_setfield(L, -2, "__name");
    lua_pushliteral(L, "flatuv handle");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
  }
  luaL_newmetatable(L, FUVLUA_REQ);
  lua_pushcfunction(L, fuvlua_req_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, fuvlua_req_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushstring(L, FUVLUA_REQ);
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
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

/* ---- accept, luv's two forms ------------------------------------------------- */

/* The class index of a handle kind's metatable ("flatuv.pipe"), or 0. */
static int fuvlua_class_of(fuv_handle_t *h) {
  const char *word = fuv_handle_type_name(fuv_handle_type(h));
  int cls;
  for (cls = 1; fuvlua_class_names[cls] != NULL; cls++)
    if (strcmp(fuvlua_class_names[cls] + sizeof "flatuv." - 1, word) == 0)
      return cls;
  return 0;
}

int fuvlua_accept(lua_State *L) {
  fuvlua_box *server = fuvlua_check_box(L, 1, fuvlua_class_mask_stream, "flatuv stream");
  fuv_stream_t *s = (fuv_stream_t *)server->handle;
  int r;

  if (lua_gettop(L) > 2)
    luaL_argerror(L, 3, "no more arguments expected");
  if (lua_isnoneornil(L, 2)) {
    fuv_stream_t *client = NULL;
    if (s != NULL && fuv_handle_type((fuv_handle_t *)s) == FUV_TCP)
      r = fuv_accept(s, (fuv_tcp_t **)&client);
    else
      r = fuv_stream_accept(s, &client);
    if (s != NULL)
      fuvlua_box_sync(L, server, 1);
    if (r < 0)
      return fuvlua_push_error(L, r);
    fuvlua_box_new(L, (fuv_handle_t *)client,
                   fuvlua_class_of((fuv_handle_t *)client));
    return 1;
  } else {
    fuvlua_box *client = fuvlua_check_box(L, 2, fuvlua_class_mask_stream, "flatuv stream");
    r = fuv_stream_accept_into(s, (fuv_stream_t *)client->handle);
    if (s != NULL)
      fuvlua_box_sync(L, server, 1);
    if (client->handle != NULL)
      fuvlua_box_sync(L, client, 2);
    if (r < 0)
      return fuvlua_push_error(L, r);
    lua_pushinteger(L, 0);
    return 1;
  }
}
