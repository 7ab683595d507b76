/*
 * The fuzz harnesses' inputs as ordinary tests, so that the whole suite
 * (both backends, ASan+UBSan, valgrind) replays them without libFuzzer:
 * every committed seed of tests/fuzz/corpus, and every input the fuzzer
 * found a bug with, kept here byte for byte. The harnesses abort on any
 * broken contract (see the comment at the top of tests/fuzz/fuzz_api.c),
 * which fails the test.
 */
#include "fuv_test.h"

#include <dirent.h>
#include <stdlib.h>

/* The harnesses are compiled in, each under its own entry point name. */
#define LLVMFuzzerTestOneInput fuzz_api_one_input
int fuzz_api_one_input(const uint8_t *data, size_t size);
#include "fuzz/fuzz_api.c"
#undef LLVMFuzzerTestOneInput
#undef FUZZ_CHECK
#define LLVMFuzzerTestOneInput fuzz_addr_one_input
int fuzz_addr_one_input(const uint8_t *data, size_t size);
#include "fuzz/fuzz_addr.c"
#undef LLVMFuzzerTestOneInput

typedef int (*fuzz_entry_t)(const uint8_t *data, size_t size);

/* tests/fuzz/corpus/<name>, found next to this source file. */
static void corpus_dir(const char *name, char *dir, size_t size) {
  const char *file = __FILE__;
  const char *slash = strrchr(file, '/');
  int prefix = slash != NULL ? (int)(slash - file + 1) : 0;
  snprintf(dir, size, "%.*sfuzz/corpus/%s", prefix, file, name);
}

static size_t read_file(const char *path, uint8_t *buf, size_t size) {
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  size_t n = fread(buf, 1, size, f);
  ck_assert_msg(!ferror(f) && feof(f), "cannot read all of %s", path);
  fclose(f);
  return n;
}

/* Runs every file of the corpus through the harness; returns how many. */
static int replay_corpus(const char *name, fuzz_entry_t entry) {
  static uint8_t buf[1 << 16];
  char dir[4096], path[4096 + 2 + 256];
  struct dirent *e;
  int count = 0;

  corpus_dir(name, dir, sizeof dir);
  DIR *d = opendir(dir);
  ck_assert_msg(d != NULL, "cannot open %s", dir);
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    size_t n = read_file(path, buf, sizeof buf);
    ck_assert_int_eq(entry(buf, n), 0);
    count++;
  }
  closedir(d);
  return count;
}

START_TEST(api_seed_corpus) {
  /* A corpus that went missing would make this test pass vacuously. */
  ck_assert_int_ge(replay_corpus("api", fuzz_api_one_input), 10);
}
END_TEST

START_TEST(addr_seed_corpus) {
  ck_assert_int_ge(replay_corpus("addr", fuzz_addr_one_input), 10);
}
END_TEST

static Suite *fuzz_regressions_suite(void) {
  Suite *s = suite_create("fuzz_regressions_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("corpus");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, api_seed_corpus);
  tcase_add_test(tc, addr_seed_corpus);
  suite_add_tcase(s, tc);
  return s;
}

FUV_TEST_MAIN(fuzz_regressions_suite)
