# flatuv's Nim package: src/flatuv.nim (the error type and the overrides)
# over the raw and idiomatic layers that bindings/apigen generates from
# swig/flatuv.i (flatuv/raw.nim, flatuv/api.nim). In the repository
# (build.sh, run_tests.sh, `nimble test`) they go to the build directory
# and link the C core built by the project's CMake; `nimble install`
# generates them against the installed C library (found with pkg-config)
# and installs them with the package. See README.md.

version       = "1.0.0"
author        = "flatuv authors"
description   = "libuv's loop, timer, stream and TCP API over flatuv's flat C ABI: closures as callbacks, errors as exceptions"
license       = "MIT"
srcDir        = "src"

requires "nim >= 1.6.0"

task test, "Build the core, generate the layers, run the tests under refc and orc":
  exec "sh run_tests.sh"

before install:
  exec "sh prepare_install.sh"
