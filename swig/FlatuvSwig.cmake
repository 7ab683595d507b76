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
# add_custom_command), and FLATUV_SWIG_VERSION to its version. It looks for
# the swig package of the given Python interpreter. A caller may instead
# name a SWIG binary in the cache variable FLATUV_SWIG, with FLATUV_SWIG_LIB
# pointing at its library of .swg files when the binary does not know it.
# Either way a version other than the pin stops the configuration.

function(flatuv_swig_command out_var)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "PYPROJECT;PYTHON" "")
  file(READ "${arg_PYPROJECT}" pyproject)
  if(NOT pyproject MATCHES "\"swig==([0-9.]+)\"")
    message(FATAL_ERROR "flatuv: no \"swig==X.Y.Z\" pin in ${arg_PYPROJECT}")
  endif()
  set(pin "${CMAKE_MATCH_1}")

  set(swig "${FLATUV_SWIG}")
  set(swig_lib "${FLATUV_SWIG_LIB}")
  if(NOT swig)
    # The package's binary needs SWIG_LIB pointing at its library, which its
    # console script sets; CMake runs the binary with the same setting.
    execute_process(
      COMMAND "${arg_PYTHON}" -c
              "import glob, os, swig; print(os.path.join(swig.BIN_DIR, 'swig')); print(glob.glob(os.path.join(swig.SWIG_SHARE_DIR, '*'))[0])"
      OUTPUT_VARIABLE paths OUTPUT_STRIP_TRAILING_WHITESPACE
      RESULT_VARIABLE rc ERROR_QUIET)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "flatuv: ${arg_PYTHON} has no swig package from "
                          "PyPI (pip install swig==${pin}, or run scripts/deps.sh)")
    endif()
    string(REPLACE "\n" ";" paths "${paths}")
    list(GET paths 0 swig)
    list(GET paths 1 swig_lib)
  endif()

  set(command "${swig}")
  if(swig_lib)
    set(command ${CMAKE_COMMAND} -E env "SWIG_LIB=${swig_lib}" "${swig}")
  endif()
  execute_process(COMMAND ${command} -version OUTPUT_VARIABLE version_text
                  RESULT_VARIABLE rc ERROR_QUIET)
  string(REGEX MATCH "SWIG Version ([0-9.]+)" _ "${version_text}")
  if(NOT rc EQUAL 0 OR NOT CMAKE_MATCH_1 STREQUAL pin)
    message(FATAL_ERROR "flatuv: ${swig} is SWIG '${CMAKE_MATCH_1}', "
                        "the pin in ${arg_PYPROJECT} is ${pin}")
  endif()
  set(${out_var} "${command}" PARENT_SCOPE)
  set(FLATUV_SWIG_VERSION "${pin}" PARENT_SCOPE)
endfunction()
