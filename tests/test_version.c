/*
 * Version: the run-time calls agree with the header's macros, and both
 * agree with the version the build declares in the root CMakeLists.txt,
 * which also names the shared library's SOVERSION and the package files.
 */
#include "fuv_test.h"

#include <ctype.h>
#include <stdlib.h>
#include <strings.h>

START_TEST(version_number_matches_the_header_macros) {
  unsigned int expected = ((unsigned int)FUV_VERSION_MAJOR << 16) |
                          ((unsigned int)FUV_VERSION_MINOR << 8) |
                          (unsigned int)FUV_VERSION_PATCH;
  ck_assert_uint_eq(fuv_version(), expected);
  ck_assert_uint_eq(fuv_version() >> 16, FUV_VERSION_MAJOR);
  ck_assert_uint_eq((fuv_version() >> 8) & 0xff, FUV_VERSION_MINOR);
  ck_assert_uint_eq(fuv_version() & 0xff, FUV_VERSION_PATCH);
}
END_TEST

START_TEST(version_string_matches_the_version_number) {
  char expected[32];
  const char *s = fuv_version_string();
  ck_assert_ptr_nonnull(s);
  snprintf(expected, sizeof expected, "%d.%d.%d", FUV_VERSION_MAJOR,
           FUV_VERSION_MINOR, FUV_VERSION_PATCH);
  ck_assert_str_eq(s, expected);
  /* The string is static: the same pointer every time. */
  ck_assert_ptr_eq(fuv_version_string(), s);
}
END_TEST

/* Reads the whole file at path with comments (# to end of line) removed,
 * or returns NULL. The caller frees the result. */
static char *read_without_comments(const char *path) {
  FILE *f = fopen(path, "r");
  char *text;
  size_t len = 0, cap = 4096;
  int c, in_comment = 0;
  if (f == NULL)
    return NULL;
  text = malloc(cap);
  ck_assert_ptr_nonnull(text);
  while ((c = fgetc(f)) != EOF) {
    if (c == '#')
      in_comment = 1;
    if (c == '\n')
      in_comment = 0;
    if (in_comment)
      continue;
    if (len + 1 == cap) {
      cap *= 2;
      text = realloc(text, cap);
      ck_assert_ptr_nonnull(text);
    }
    text[len++] = (char)c;
  }
  text[len] = '\0';
  fclose(f);
  return text;
}

/* Finds `project(` as a command (any case, spaces allowed before the
 * parenthesis) and returns the text of its arguments, up to the closing
 * parenthesis, in out. Returns 0 if there is none. */
static int project_arguments(const char *text, char *out, size_t outlen) {
  for (const char *p = text; *p != '\0'; p++) {
    if (strncasecmp(p, "project", 7) != 0)
      continue;
    if (p != text && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
      continue;
    const char *q = p + 7;
    while (*q == ' ' || *q == '\t')
      q++;
    if (*q != '(')
      continue;
    const char *end = strchr(++q, ')');
    if (end == NULL || (size_t)(end - q) >= outlen)
      return 0;
    memcpy(out, q, (size_t)(end - q));
    out[end - q] = '\0';
    return 1;
  }
  return 0;
}

/* Finds the path of the root CMakeLists.txt from this source file's
 * location: tests/test_version.c is one directory below the root. */
static void root_cmakelists(char *out, size_t outlen) {
  const char *file = __FILE__;
  const char *slash = strrchr(file, '/');
  if (slash == NULL)
    snprintf(out, outlen, "../CMakeLists.txt");
  else
    snprintf(out, outlen, "%.*s/../CMakeLists.txt", (int)(slash - file), file);
}

START_TEST(cmake_project_version_matches_the_header) {
  char path[4096], args[1024];
  char *text;
  unsigned int major, minor, patch;
  int found_version = 0;

  root_cmakelists(path, sizeof path);
  text = read_without_comments(path);
  ck_assert_msg(text != NULL, "cannot read %s", path);
  ck_assert_msg(project_arguments(text, args, sizeof args),
                "no project(...) command in %s", path);
  free(text);

  /* The arguments are: the name, then keywords; VERSION is followed by
   * the version. */
  char *save = NULL;
  char *token = strtok_r(args, " \t\r\n", &save);
  ck_assert_ptr_nonnull(token);
  ck_assert_str_eq(token, "flatuv");
  while ((token = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
    if (strcmp(token, "VERSION") != 0)
      continue;
    token = strtok_r(NULL, " \t\r\n", &save);
    ck_assert_msg(token != NULL, "VERSION without a value in %s", path);
    ck_assert_msg(sscanf(token, "%u.%u.%u", &major, &minor, &patch) == 3,
                  "cannot parse the version \"%s\" in %s", token, path);
    found_version = 1;
    break;
  }
  ck_assert_msg(found_version, "project() in %s has no VERSION", path);
  ck_assert_uint_eq(major, FUV_VERSION_MAJOR);
  ck_assert_uint_eq(minor, FUV_VERSION_MINOR);
  ck_assert_uint_eq(patch, FUV_VERSION_PATCH);
}
END_TEST

static Suite *version_suite(void) {
  Suite *s = suite_create("version_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("version");
  tcase_add_test(tc, version_number_matches_the_header_macros);
  tcase_add_test(tc, version_string_matches_the_version_number);
  tcase_add_test(tc, cmake_project_version_matches_the_header);
  suite_add_tcase(s, tc);
  return s;
}

FUV_TEST_MAIN(version_suite)
