/*
 * mini.h - a small C API in flatuv's style, for nimgen's own tests.
 *
 * It has one of each kind of declaration the generator handles.
 */
#ifndef MINI_H
#define MINI_H

#include <errno.h>
#include <stddef.h>
#include <sys/types.h>

#define MINI_EXTERN extern

/* The size of a name buffer. */
#define MINI_NAME_MAX 32
/* The library's name. */
#define MINI_NAME "mini"

/* Error codes. */
typedef enum {
  /* Bad argument. */
  MINI_EINVAL = -EINVAL,
  MINI_EOF = -4095,
  MINI_ELAST = MINI_EOF - 1 /* one past the last */
} mini_errno_t;

typedef enum {
  MINI_RED,
  MINI_GREEN = 4,
  MINI_BLUE
} mini_color_t;

/* A counter, known only by pointer. */
typedef struct mini_counter_s mini_counter_t;

/* Called with each chunk of text; text is valid during the call only. */
typedef void (*mini_text_cb)(mini_counter_t *counter, const char *text,
                             ssize_t len, void *arg);

/* Creates a counter starting at start. */
MINI_EXTERN int mini_counter_new(mini_counter_t **out, int start);
/* Frees a counter. */
MINI_EXTERN void mini_counter_free(mini_counter_t *counter);
/* Gets / sets the counter's value. */
MINI_EXTERN int mini_counter_get(const mini_counter_t *counter);
MINI_EXTERN int mini_counter_set(mini_counter_t *counter, int value);

/* Adds the length of each of the n texts, calling cb for each. */
MINI_EXTERN int mini_counter_add_texts(mini_counter_t *counter,
                                       const char *const *texts, size_t n,
                                       mini_text_cb cb, void *arg);
/* Returns the name of a color ("red" ...). */
MINI_EXTERN const char *mini_color_name(mini_color_t color);
/* Writes the library's name into buf; a parameter named after a Nim
 * keyword. */
MINI_EXTERN int mini_name(char *buf, size_t len, int type);

#endif
