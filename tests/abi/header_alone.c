/* flatuv.h must compile on its own, first, under -std=c99 -pedantic. */
#include "flatuv.h"

int main(void) {
  fuv_loop_t *loop = 0;
  return fuv_loop_new(&loop) == 0 ? fuv_loop_free(loop) : 1;
}
