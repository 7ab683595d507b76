/* Shared helpers of the stress programs; see stress.h. */
#include "stress.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int checks_passed;
static int checks_failed;
static int cases_skipped;

void stress_check(int ok, const char *expr, const char *file, int line,
                  const char *fmt, ...) {
  va_list ap;
  if (ok) {
    checks_passed++;
    return;
  }
  checks_failed++;
  printf("FAIL %s:%d: %s: ", file, line, expr);
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  fflush(stdout);
}

void stress_skip(const char *fmt, ...) {
  va_list ap;
  cases_skipped++;
  printf("SKIPPED: ");
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  fflush(stdout);
}

int stress_summary(const char *name) {
  if (cases_skipped > 0)
    printf("%s: %d passed, %d failed (%d case(s) skipped)\n", name,
           checks_passed, checks_failed, cases_skipped);
  else
    printf("%s: %d passed, %d failed\n", name, checks_passed, checks_failed);
  fflush(stdout);
  return checks_failed == 0 && checks_passed > 0 ? 0 : 1;
}

double stress_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long stress_fd_count(void) {
  long n = 0;
  struct dirent *e;
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL)
    return -1;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n - 1; /* the directory's own fd */
}

long stress_rss_kib(void) {
  long size = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (f == NULL)
    return -1;
  if (fscanf(f, "%ld %ld", &size, &resident) != 2)
    resident = -1;
  fclose(f);
  return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

double stress_cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int stress_set_nofile(rlim_t want) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return -errno;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
    rl.rlim_max = want;
  rl.rlim_cur = want;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
    return -errno;
  return 0;
}

uint64_t stress_fnv1a(uint64_t hash, const void *data, size_t len) {
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++) {
    hash ^= p[i];
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

/* splitmix64: every 8-byte word of the pattern is a hash of its index. */
static uint64_t pattern_word(uint64_t seed, uint64_t index) {
  uint64_t z = seed * 0x9e3779b97f4a7c15ULL + index + 1;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

unsigned char stress_pattern_byte(uint64_t seed, uint64_t offset) {
  return (unsigned char)(pattern_word(seed, offset / 8) >> (8 * (offset % 8)));
}

void stress_fill_pattern(uint64_t seed, uint64_t offset, char *buf,
                         size_t len) {
  size_t i = 0;
  while (i < len && (offset + i) % 8 != 0) {
    buf[i] = (char)stress_pattern_byte(seed, offset + i);
    i++;
  }
  for (; i + 8 <= len; i += 8) {
    uint64_t w = pattern_word(seed, (offset + i) / 8);
    for (int b = 0; b < 8; b++)
      buf[i + (size_t)b] = (char)(w >> (8 * b));
  }
  for (; i < len; i++)
    buf[i] = (char)stress_pattern_byte(seed, offset + i);
}

size_t stress_match_pattern(uint64_t seed, uint64_t offset, const char *buf,
                            size_t len) {
  char expect[4096];
  for (size_t done = 0; done < len;) {
    size_t n = len - done < sizeof expect ? len - done : sizeof expect;
    stress_fill_pattern(seed, offset + done, expect, n);
    if (memcmp(expect, buf + done, n) != 0) {
      for (size_t i = 0; i < n; i++)
        if (expect[i] != buf[done + i])
          return done + i;
    }
    done += n;
  }
  return len;
}

static void on_deadline(fuv_timer_t *timer, void *arg) {
  *(int *)arg = 1;
  fuv_stop(fuv_handle_loop((fuv_handle_t *)timer));
}

int stress_run(fuv_loop_t *loop, uint64_t timeout_ms) {
  fuv_timer_t *deadline;
  int timed_out = 0;
  if (fuv_timer_new(&deadline, loop) != 0)
    return 1;
  /* Unreferenced: the deadline alone does not keep the loop running. */
  fuv_unref((fuv_handle_t *)deadline);
  fuv_timer_start(deadline, on_deadline, timeout_ms, 0, &timed_out);
  fuv_run(loop, FUV_RUN_DEFAULT);
  fuv_close((fuv_handle_t *)deadline, NULL, NULL);
  /* The close completes in the next iteration, which must not block. */
  fuv_run(loop, FUV_RUN_NOWAIT);
  return timed_out;
}

static void close_one(fuv_handle_t *handle, void *arg) {
  (void)arg;
  fuv_close(handle, NULL, NULL);
}

int stress_free_loop(fuv_loop_t *loop) {
  int r = fuv_walk(loop, close_one, NULL);
  for (int i = 0; r == 0 && i < 1000 && fuv_loop_alive(loop); i++)
    fuv_run(loop, FUV_RUN_NOWAIT);
  return r != 0 ? r : fuv_loop_free(loop);
}

static void count_one(fuv_handle_t *handle, void *arg) {
  (void)handle;
  (*(int *)arg)++;
}

int stress_handle_count(fuv_loop_t *loop) {
  int n = 0;
  fuv_walk(loop, count_one, &n);
  return n;
}

int stress_read_exact(int fd, void *buf, size_t len, int timeout_ms) {
  size_t got = 0;
  while (got < len) {
    struct pollfd p = {fd, POLLIN, 0};
    ssize_t n;
    if (poll(&p, 1, timeout_ms) != 1)
      return -1;
    n = read(fd, (char *)buf + got, len - got);
    if (n <= 0)
      return -1;
    got += (size_t)n;
  }
  return 0;
}

int stress_child_start(stress_child_t *child, int (*serve)(int report_fd),
                       void *report, size_t len, int timeout_ms) {
  int pipefd[2];
  child->pid = -1;
  child->report_fd = -1;
  if (pipe(pipefd) != 0)
    return -1;
  /* Output buffered before the fork would be printed twice. */
  fflush(stdout);
  child->pid = fork();
  if (child->pid == 0) {
    close(pipefd[0]);
    _exit(serve(pipefd[1]));
  }
  close(pipefd[1]);
  child->report_fd = pipefd[0];
  if (child->pid < 0 ||
      stress_read_exact(child->report_fd, report, len, timeout_ms) != 0) {
    stress_child_kill(child);
    return -1;
  }
  return 0;
}

int stress_child_finish(stress_child_t *child, void *report, size_t len,
                        int timeout_ms) {
  int status = 0;
  int r = stress_read_exact(child->report_fd, report, len, timeout_ms);
  STRESS_CHECK(r == 0, "the server child reported");
  if (r != 0)
    kill(child->pid, SIGKILL);
  waitpid(child->pid, &status, 0);
  STRESS_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
               "server child status %d", status);
  close(child->report_fd);
  child->pid = -1;
  child->report_fd = -1;
  return r;
}

void stress_child_kill(stress_child_t *child) {
  if (child->pid > 0) {
    kill(child->pid, SIGKILL);
    waitpid(child->pid, NULL, 0);
  }
  if (child->report_fd >= 0)
    close(child->report_fd);
  child->pid = -1;
  child->report_fd = -1;
}
