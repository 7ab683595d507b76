/*
 * Errors in luv's form, and the conversion of arguments: every check
 * raises "bad argument #n to 'f' (...)" naming what was expected.
 */
#include <signal.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "flatuv_lua.h"

/* ---- errors -------------------------------------------------------------- */

int fuvlua_push_error(lua_State *L, int err) {
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

int fuvlua_type_error(lua_State *L, int arg, const char *expected) {
  const char *msg = lua_pushfstring(L, "%s expected, got %s", expected,
                                    fuvlua_typename(L, arg));
  return luaL_argerror(L, arg, msg);
}

/* ---- argument conversion ------------------------------------------------- */

lua_Integer fuvlua_check_integer(lua_State *L, int arg, double min,
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

const char *fuvlua_check_cstring(lua_State *L, int arg, int nil_ok) {
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

int fuvlua_check_bool(lua_State *L, int arg) {
  if (lua_type(L, arg) == LUA_TBOOLEAN)
    return lua_toboolean(L, arg);
  if (lua_type(L, arg) == LUA_TNUMBER)
    return fuvlua_check_integer(L, arg, INT_MIN, INT_MAX) != 0;
  return fuvlua_type_error(L, arg, "boolean");
}

unsigned fuvlua_check_flags(lua_State *L, int arg,
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

int fuvlua_check_enum(lua_State *L, int arg, const char *what,
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

const fuvlua_enum_name fuvlua_run_modes[] = {
    {"default", FUV_RUN_DEFAULT}, {"once", FUV_RUN_ONCE},
    {"nowait", FUV_RUN_NOWAIT}, {NULL, 0}};
const fuvlua_enum_name fuvlua_families[] = {
    {"unspec", FUV_AF_UNSPEC}, {"inet", FUV_AF_INET},
    {"inet6", FUV_AF_INET6}, {NULL, 0}};
const fuvlua_enum_name fuvlua_socket_types[] = {
    {"stream", FUV_SOCK_STREAM}, {"dgram", FUV_SOCK_DGRAM}, {NULL, 0}};
const fuvlua_flag_name fuvlua_bind_flags[] = {
    {"ipv6only", FUV_TCP_IPV6ONLY}, {"reuseport", FUV_TCP_REUSEPORT},
    {NULL, 0}};
const fuvlua_flag_name fuvlua_udp_bind_flags[] = {
    {"ipv6only", FUV_UDP_IPV6ONLY}, {"reuseaddr", FUV_UDP_REUSEADDR},
    {"reuseport", FUV_UDP_REUSEPORT}, {NULL, 0}};
const fuvlua_flag_name fuvlua_udp_new_flags[] = {
    {"recvmmsg", FUV_UDP_RECVMMSG}, {NULL, 0}};
const fuvlua_enum_name fuvlua_memberships[] = {
    {"join", FUV_JOIN_GROUP}, {"leave", FUV_LEAVE_GROUP}, {NULL, 0}};
const fuvlua_flag_name fuvlua_socketpair_flags[] = {
    {"nonblock", FUV_NONBLOCK_PIPE}, {NULL, 0}};
const fuvlua_enum_name fuvlua_pipe_modes[] = {
    {"r", FUV_READABLE}, {"w", FUV_WRITABLE},
    {"rw", FUV_READABLE | FUV_WRITABLE}, {"wr", FUV_READABLE | FUV_WRITABLE},
    {NULL, 0}};
const fuvlua_enum_name fuvlua_loop_options[] = {
    {"block_signal", FUV_LOOP_BLOCK_SIGNAL},
    {"metrics_idle_time", FUV_METRICS_IDLE_TIME}, {NULL, 0}};

/* luv's signal names, lower case, as loop_configure("block_signal", ...)
 * takes them (SIGPROF is the one libuv supports). */
static const fuvlua_enum_name signals[] = {
    {"sigprof", SIGPROF}, {"sighup", SIGHUP},   {"sigint", SIGINT},
    {"sigquit", SIGQUIT}, {"sigusr1", SIGUSR1}, {"sigusr2", SIGUSR2},
    {"sigpipe", SIGPIPE}, {"sigalrm", SIGALRM}, {"sigterm", SIGTERM},
    {"sigchld", SIGCHLD}, {"sigwinch", SIGWINCH}, {NULL, 0}};

int fuvlua_check_signal(lua_State *L, int arg) {
  if (lua_isnoneornil(L, arg))
    return 0;
  return fuvlua_check_enum(L, arg, "signal", signals);
}

int fuvlua_push_enum_or_nil(lua_State *L, int value,
                            const fuvlua_enum_name *names) {
  for (; value >= 0 && names->name != NULL; names++) {
    if (names->value == value) {
      lua_pushstring(L, names->name);
      return 1;
    }
  }
  lua_pushnil(L);
  return 1;
}
