/* The run-time version, which may be newer than the header a caller used. */
#include "internal.h"

#define FUV__STRINGIFY_(x) #x
#define FUV__STRINGIFY(x) FUV__STRINGIFY_(x)

unsigned int fuv_version(void) {
  return (FUV_VERSION_MAJOR << 16) | (FUV_VERSION_MINOR << 8) |
         FUV_VERSION_PATCH;
}

const char *fuv_version_string(void) {
  return FUV__STRINGIFY(FUV_VERSION_MAJOR) "." FUV__STRINGIFY(
      FUV_VERSION_MINOR) "." FUV__STRINGIFY(FUV_VERSION_PATCH);
}
