-- flatuv for Lua. Build and install from a checkout of the repository:
--
--   cd bindings/lua && luarocks make --tree /some/tree
--
-- The build runs CMake (CMakeLists.txt here, which lists the sources),
-- which runs bindings/apigen on swig/flatuv.i (flatuv/api.lua, roles.i,
-- lua_api.i), generates the module with the pinned SWIG
-- (swig/FlatuvSwig.cmake), compiles it with the Lua runtime in src/ and
-- links the flatuv core, the callback bridge and libffi into flatuv/raw.so;
-- it installs flatuv.lua, flatuv/api.lua and flatuv/overrides.lua.
rockspec_format = "3.0"
package = "flatuv"
version = "1.0.0-1"
source = {
   -- Built from the repository it lives in (luarocks make); there is no
   -- published source archive.
   url = "git+file://.",
}
description = {
   license = "MIT",
   summary = "libuv's loop, timers, async and TCP behind a flat ABI, in luv's style",
   detailed = [[
flatuv implements libuv's loop / handle / timer / stream / TCP API in C
behind an opaque-pointer ABI. This rock is its Lua module, generated with
SWIG: local uv = require "flatuv"; uv.new_tcp(), tcp:bind(host, port),
tcp:listen(128, cb), uv.run() ... as with luv. Linux.
]],
}
supported_platforms = { "linux" }
dependencies = {
   "lua >= 5.1, < 5.5",
}
build = {
   type = "cmake",
   variables = {
      CMAKE_BUILD_TYPE = "Release",
      LUA_INCDIR = "$(LUA_INCDIR)",
      FLATUV_LUA_LIBDIR = "$(LIBDIR)",
      FLATUV_LUA_LUADIR = "$(LUADIR)",
   },
}
