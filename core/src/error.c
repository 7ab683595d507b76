/* Error names and messages, both produced from FUV_ERRNO_MAP. */
#include "internal.h"

const char *fuv_err_name(int err) {
  switch (err) {
#define FUV__ERR_NAME(name, value, msg)                                      \
  case FUV_##name:                                                           \
    return #name;
    FUV_ERRNO_MAP(FUV__ERR_NAME)
#undef FUV__ERR_NAME
  default:
    return "UNKNOWN";
  }
}

const char *fuv_strerror(int err) {
  switch (err) {
#define FUV__ERR_MSG(name, value, msg)                                       \
  case FUV_##name:                                                           \
    return msg;
    FUV_ERRNO_MAP(FUV__ERR_MSG)
#undef FUV__ERR_MSG
  default:
    return "unknown error";
  }
}

int fuv_translate_sys_error(int sys_errno) {
  return sys_errno <= 0 ? sys_errno : -sys_errno;
}
