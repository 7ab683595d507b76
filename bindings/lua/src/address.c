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
