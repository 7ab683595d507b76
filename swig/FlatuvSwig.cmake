# FlatuvSwig.cmake - the one place the CMake builds find SWIG.
#
# Every binding is generated with one SWIG version, the one pinned in
# python/pyproject.toml's build-system.requires ("swig==X.Y.Z"), installed
# from PyPI: never a system swig, whose version may differ and whose output
# would then differ between languages. The Python build (inside
# scikit-build-core's isolated environment) and the Lua build both include
# this file; it lives in swig/ because the Python sdist carries swig/.
#
#   flatuv_swig_command(OUT_VAR PYPROJECT <pyproject.toml> PYTHON <python>)
#
# sets OUT_VAR to the command that runs the pinned SWIG (a list, usable in
# add_custom_command), FLATUV_SWIG_VERSION to its version, and
# FLATUV_SWIG_BINARY / FLATUV_SWIG_LIBRARY to its parts (for a tool that
# runs SWIG itself, as nimgen does). It looks for the swig package of the
# given Python interpreter. A caller may instead
# name a SWIG binary in the cache variable FLATUV_SWIG, with FLATUV_SWIG_LIB
# pointing at its library of .swg files when the binary does not know it.
# Either way a version other than the pin stops the configuration.

function(flatuv_swig_command out_var)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "PYPROJECT;PYTHON" "")
  # The search itself is bindings/apigen/apigen/find_swig.py, shared with
  # scripts/find-swig.sh and nimgen, so the rules live in one place; this
  # function only turns its answer into a command. It is reached relative
  # to this file, which works in a checkout, through python/repo/ and in
  # the Python sdist (which carries bindings/apigen).
  set(finder "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/../bindings/apigen/apigen/find_swig.py")
  set(env_args)
  if(FLATUV_SWIG)
    list(APPEND env_args "FLATUV_SWIG=${FLATUV_SWIG}")
  endif()
  if(FLATUV_SWIG_LIB)
    list(APPEND env_args "FLATUV_SWIG_LIB=${FLATUV_SWIG_LIB}")
  endif()
  execute_process(
    COMMAND ${CMAKE_COMMAND} -E env ${env_args}
            "${arg_PYTHON}" "${finder}" --pyproject "${arg_PYPROJECT}" --fields
    OUTPUT_VARIABLE fields ERROR_VARIABLE why
    RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    string(STRIP "${why}" why)
    message(FATAL_ERROR "flatuv: ${why}")
  endif()
  string(REPLACE "\n" ";" fields "${fields}")
  list(GET fields 0 swig)
  list(GET fields 1 swig_lib)
  list(GET fields 2 version)

  set(command "${swig}")
  if(swig_lib)
    set(command ${CMAKE_COMMAND} -E env "SWIG_LIB=${swig_lib}" "${swig}")
  endif()
  set(${out_var} "${command}" PARENT_SCOPE)
  set(FLATUV_SWIG_VERSION "${version}" PARENT_SCOPE)
  set(FLATUV_SWIG_BINARY "${swig}" PARENT_SCOPE)
  set(FLATUV_SWIG_LIBRARY "${swig_lib}" PARENT_SCOPE)
endfunction()
