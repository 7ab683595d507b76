/* mini.c - the implementation of mini.h, for nimgen's compile test. */
#include <stdlib.h>
#include <string.h>

#include "mini.h"

struct mini_counter_s {
  int value;
};

int mini_counter_new(mini_counter_t **out, int start) {
  if (out == NULL)
    return MINI_EINVAL;
  *out = malloc(sizeof(**out));
  if (*out == NULL)
    return -ENOMEM;
  (*out)->value = start;
  return 0;
}

void mini_counter_free(mini_counter_t *counter) {
  free(counter);
}

int mini_counter_get(const mini_counter_t *counter) {
  return counter->value;
}

int mini_counter_set(mini_counter_t *counter, int value) {
  counter->value = value;
  return 0;
}

int mini_counter_add_texts(mini_counter_t *counter, const char *const *texts,
                           size_t n, mini_text_cb cb, void *arg) {
  size_t i;
  for (i = 0; i < n; i++) {
    ssize_t len = (ssize_t)strlen(texts[i]);
    counter->value += (int)len;
    cb(counter, texts[i], len, arg);
  }
  return 0;
}

const char *mini_color_name(mini_color_t color) {
  switch (color) {
  case MINI_RED: return "red";
  case MINI_GREEN: return "green";
  case MINI_BLUE: return "blue";
  }
  return "unknown";
}

int mini_name(char *buf, size_t len, int type) {
  if (type != 0 || len < sizeof(MINI_NAME))
    return MINI_EINVAL;
  memcpy(buf, MINI_NAME, sizeof(MINI_NAME));
  return 0;
}
