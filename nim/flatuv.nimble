# flatuv's Nim package: the idiomatic layer (src/flatuv.nim) over the raw
# layer that bindings/nimgen generates from swig/flatuv.i. In the repository
# (build.sh, run_tests.sh, `nimble test`) the raw layer goes to the build
# directory and links the C core built by the project's CMake; `nimble
# install` generates it against the installed C library (found with
# pkg-config) and installs it with the package. See README.md.

version       = "1.0.0"
author        = "flatuv authors"
description   = "libuv's loop, timer, stream and TCP API over flatuv's flat C ABI: closures as callbacks, errors as exceptions"
license       = "MIT"
srcDir        = "src"

requires "nim >= 1.6.0"

task test, "Build the core, generate the raw layer, run the tests under refc and orc":
  exec "sh run_tests.sh"

before install:
  exec "sh prepare_install.sh"
