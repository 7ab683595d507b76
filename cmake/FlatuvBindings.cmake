# FlatuvBindings.cmake - the Python and Lua bindings as part of the
# top-level build (FLATUV_BUILD_PYTHON, FLATUV_BUILD_LUA; the Nim binding is
# bindings/nimgen, added by the top-level CMakeLists.txt).
#
# Each binding keeps its own build, the one its users run: python/ is built
# by pip (scikit-build-core, `pip install ./python`), bindings/lua by its own
# CMake project (what `luarocks make` runs). The targets here only run those
# builds, with their outputs in the build tree:
#
#   flatuv_python  BUILD/python/wheelhouse/flatuv-*.whl, and BUILD/python/venv,
#                  a virtual environment with that wheel installed;
#   flatuv_lua     BUILD/lua/lua5.4 and BUILD/lua/luajit, each with flatuv.lua
#                  and flatuv/raw.so (bindings/lua configured in BUILD/lua,
#                  the directory bindings/lua/run_tests.sh is then given).
#
# Both are in ALL. The stages that test them are in stages/CMakeLists.txt.

set(FLATUV_PYTHON_DIR ${PROJECT_BINARY_DIR}/python)
set(FLATUV_LUA_DIR ${PROJECT_BINARY_DIR}/lua)

# What a binding's build reads, found again at every build (CONFIGURE_DEPENDS)
# so that a new file counts too: its own directory but for its tests, and
# what it shares with every binding.
function(flatuv_binding_sources out_var)
  set(files)
  foreach(dir IN LISTS ARGN core swig bindings/bridge bindings/apigen/apigen)
    file(GLOB_RECURSE found CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${dir}/*)
    list(FILTER found EXCLUDE REGEX "/(tests|spec|__pycache__)/|\\.pyc$")
    list(APPEND files ${found})
  endforeach()
  set(${out_var} ${files} PARENT_SCOPE)
endfunction()

if(FLATUV_BUILD_PYTHON)
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  flatuv_binding_sources(python_sources python)
  set(stamp ${FLATUV_PYTHON_DIR}/wheel.stamp)
  add_custom_command(OUTPUT ${stamp}
    COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/build-python.sh
            ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/python ${FLATUV_PYTHON_DIR}
    COMMAND ${CMAKE_COMMAND} -E touch ${stamp}
    DEPENDS ${python_sources} ${CMAKE_CURRENT_LIST_DIR}/build-python.sh
    COMMENT "Building the Python wheel (pip wheel ./python) into python/"
    VERBATIM)
  add_custom_target(flatuv_python ALL DEPENDS ${stamp})
endif()

if(FLATUV_BUILD_LUA)
  # Always run: the Lua project's own build decides what is out of date.
  add_custom_target(flatuv_lua ALL
    COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/build-lua.sh
            ${CMAKE_COMMAND} ${PROJECT_SOURCE_DIR}/bindings/lua ${FLATUV_LUA_DIR}
            "${CMAKE_BUILD_TYPE}"
    COMMENT "Building the Lua modules (bindings/lua) into lua/"
    VERBATIM)
endif()
