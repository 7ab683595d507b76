/*
 * Error codes: the one table (FUV_ERRNO_MAP) must agree with fuv_err_name,
 * fuv_strerror and the fuv_errno_t enum, with libuv's names and values.
 */
#include "fuv_test.h"

#include <errno.h>

struct err_row {
  const char *name;
  int value;
  const char *message;
};

/* The header's table, expanded here so every row is checked. */
static const struct err_row err_table[] = {
#define ERR_ROW(name, value, msg) {#name, FUV_##name, msg},
    FUV_ERRNO_MAP(ERR_ROW)
#undef ERR_ROW
};
enum { ERR_TABLE_SIZE = sizeof err_table / sizeof err_table[0] };

START_TEST(every_error_name_and_message_round_trips) {
  ck_assert_int_gt(ERR_TABLE_SIZE, 40);
  for (int i = 0; i < ERR_TABLE_SIZE; i++) {
    const struct err_row *row = &err_table[i];
    const char *name = fuv_err_name(row->value);
    const char *message = fuv_strerror(row->value);
    ck_assert_ptr_nonnull(name);
    ck_assert_ptr_nonnull(message);
    ck_assert_str_eq(name, row->name);
    ck_assert_str_eq(message, row->message);
    ck_assert_int_gt((int)strlen(message), 0);
  }
}
END_TEST

START_TEST(error_values_are_negative_distinct_and_above_errno_max) {
  for (int i = 0; i < ERR_TABLE_SIZE; i++) {
    ck_assert_int_lt(err_table[i].value, 0);
    ck_assert_int_gt(err_table[i].value, FUV_ERRNO_MAX);
    for (int j = i + 1; j < ERR_TABLE_SIZE; j++)
      ck_assert_msg(err_table[i].value != err_table[j].value,
                    "%s and %s share the value %d", err_table[i].name,
                    err_table[j].name, err_table[i].value);
  }
}
END_TEST

START_TEST(error_values_are_negative_errno_as_in_libuv) {
  ck_assert_int_eq(FUV_ECONNREFUSED, -ECONNREFUSED);
  ck_assert_int_eq(FUV_EADDRINUSE, -EADDRINUSE);
  ck_assert_int_eq(FUV_EAGAIN, -EAGAIN);
  ck_assert_int_eq(FUV_EINVAL, -EINVAL);
  ck_assert_int_eq(FUV_EPIPE, -EPIPE);
  ck_assert_int_eq(FUV_ETIMEDOUT, -ETIMEDOUT);
  ck_assert_int_eq(FUV_EOF, -4095);
  ck_assert_int_eq(FUV_UNKNOWN, -4094);
  ck_assert_str_eq(fuv_err_name(FUV_EOF), "EOF");
  ck_assert_str_eq(fuv_strerror(FUV_EOF), "end of file");
}
END_TEST

START_TEST(unknown_codes_are_named_unknown) {
  static const int unknown[] = {1, 12345, -1000, -4093, -4096, -100000};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    ck_assert_str_eq(fuv_err_name(unknown[i]), "UNKNOWN");
    ck_assert_str_eq(fuv_strerror(unknown[i]), "unknown error");
  }
  /* FUV_UNKNOWN itself is in the table with the same name and message. */
  ck_assert_str_eq(fuv_err_name(FUV_UNKNOWN), "UNKNOWN");
  ck_assert_str_eq(fuv_strerror(FUV_UNKNOWN), "unknown error");
}
END_TEST

START_TEST(translate_sys_error_negates_errno_and_keeps_codes) {
  ck_assert_int_eq(fuv_translate_sys_error(ECONNREFUSED), FUV_ECONNREFUSED);
  ck_assert_int_eq(fuv_translate_sys_error(EAGAIN), FUV_EAGAIN);
  ck_assert_int_eq(fuv_translate_sys_error(0), 0);
  /* A value that is already a code comes back unchanged. */
  ck_assert_int_eq(fuv_translate_sys_error(FUV_ECONNRESET), FUV_ECONNRESET);
  ck_assert_int_eq(fuv_translate_sys_error(FUV_EOF), FUV_EOF);
  /* Every errno-based row translates from its positive errno. */
  for (int i = 0; i < ERR_TABLE_SIZE; i++) {
    int value = err_table[i].value;
    if (value == FUV_EOF || value == FUV_UNKNOWN)
      continue;
    ck_assert_msg(fuv_translate_sys_error(-value) == value,
                  "%s did not translate", err_table[i].name);
  }
}
END_TEST

static Suite *error_suite(void) {
  Suite *s = suite_create("error_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("table");
  tcase_add_test(tc, every_error_name_and_message_round_trips);
  tcase_add_test(tc, error_values_are_negative_distinct_and_above_errno_max);
  tcase_add_test(tc, error_values_are_negative_errno_as_in_libuv);
  tcase_add_test(tc, unknown_codes_are_named_unknown);
  tcase_add_test(tc, translate_sys_error_negates_errno_and_keeps_codes);
  suite_add_tcase(s, tc);
  return s;
}

FUV_TEST_MAIN(error_suite)
