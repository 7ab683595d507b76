/*
 * Addresses as userdata (flatuv.sockaddr), for the _addr calls, and luv's
 * address tables.
 */
#include <arpa/inet.h>
#include <string.h>

#include "flatuv_lua.h"

struct sockaddr_storage *fuvlua_new_sockaddr(lua_State *L) {
  struct sockaddr_storage *ss =
      (struct sockaddr_storage *)lua_newuserdata(L, sizeof *ss);
  memset(ss, 0, sizeof *ss);
  luaL_getmetatable(L, FUVLUA_SOCKADDR);
  lua_setmetatable(L, -2);
  return ss;
}

struct sockaddr *fuvlua_check_sockaddr(lua_State *L, int arg) {
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

void fuvlua_push_address(lua_State *L, const char *ip, int port) {
  lua_createtable(L, 0, 3);
  lua_pushstring(L, ip);
  lua_setfield(L, -2, "ip");
  lua_pushinteger(L, port);
  lua_setfield(L, -2, "port");
  lua_pushstring(L, strchr(ip, ':') != NULL ? "inet6" : "inet");
  lua_setfield(L, -2, "family");
}

int fuvlua_sockaddr_tostring(lua_State *L) {
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

/* luv raises, rather than returning an error, for an (ip, port) that is no
 * IPv4 or IPv6 address: luaL_error's "Invalid IP address or port
 * [999.1.1.1:0]", as luv's tcp_bind and tcp_connect. The check typemap of
 * every address group (swig/lua.i) calls it before the C call. */
void fuvlua_check_address(lua_State *L, const char *ip, int port) {
  struct sockaddr_in6 sin6;
  struct sockaddr_in sin;
  /* nil, where the call takes none (fuv:none: a UDP send to the connected
   * peer); the ip's typemap refuses it everywhere else. */
  if (ip == NULL)
    return;
  /* The ip alone: like luv's uv_ip4_addr, no port is refused here; a port
   * out of range is the call's EINVAL. */
  if (ip != NULL && (fuv_ip4_addr(ip, 0, &sin) == 0 ||
                     fuv_ip6_addr(ip, 0, &sin6) == 0))
    return;
  /* luv's text alone: luv's luaL_error, raised from its C function, gets
   * no position; ours runs under flatuv.lua's method, so luaL_error would
   * prefix the caller's line. */
  lua_pushfstring(L, "Invalid IP address or port [%s:%d]", ip != NULL ? ip : "",
                  port);
  lua_error(L);
}
