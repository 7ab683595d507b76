/*
 * Shared helpers of the stress programs (the C files of tests/stress): checks counted
 * into the final "<name>: N passed, M failed" line, resource measurements
 * from /proc, a checksum, a position-addressable data pattern and bounded
 * loop runs. The programs use only the public flatuv API.
 */
#ifndef FUV_STRESS_H
#define FUV_STRESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "flatuv.h"

/* Records one check; prints it when it fails (and always with `verbose`). */
#define STRESS_CHECK(cond, ...)                                              \
  stress_check((cond) != 0, #cond, __FILE__, __LINE__, __VA_ARGS__)
void stress_check(int ok, const char *expr, const char *file, int line,
                  const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Records a case the machine refused to run; it is neither passed nor failed. */
void stress_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "<name>: N passed, M failed" (and the skips) and returns the exit
 * status: 0 only with no failure and at least one check. */
int stress_summary(const char *name);

/* Monotonic time in seconds. */
double stress_now(void);
/* The number of open file descriptors of this process (/proc/self/fd). */
long stress_fd_count(void);
/* Resident set size in KiB (/proc/self/statm). */
long stress_rss_kib(void);
/* User plus system CPU time of this process in seconds. */
double stress_cpu_seconds(void);
/* Sets RLIMIT_NOFILE's soft limit to want, raising the hard limit too when
 * it is lower (which needs root). Returns 0 or -errno. */
int stress_set_nofile(rlim_t want);

/* FNV-1a, 64 bits, continued over a stream from the previous value. */
#define STRESS_FNV_INIT 0xcbf29ce484222325ULL
uint64_t stress_fnv1a(uint64_t hash, const void *data, size_t len);

/* The byte at a given offset of stream number `seed`: a lost, repeated or
 * reordered chunk shows up as a mismatch. */
unsigned char stress_pattern_byte(uint64_t seed, uint64_t offset);
void stress_fill_pattern(uint64_t seed, uint64_t offset, char *buf, size_t len);
/* Returns the offset (from 0) of the first byte of buf that does not match
 * the pattern at `offset`, or len when all match. */
size_t stress_match_pattern(uint64_t seed, uint64_t offset, const char *buf,
                            size_t len);

/* Runs the loop (FUV_RUN_DEFAULT) until a callback calls fuv_stop(), the
 * loop has nothing left to do, or timeout_ms passes. Returns 1 on timeout,
 * 0 otherwise. */
int stress_run(fuv_loop_t *loop, uint64_t timeout_ms);
/* Closes every handle still open, runs the closes and frees the loop;
 * returns 0 or the first error. */
int stress_free_loop(fuv_loop_t *loop);
/* The number of live (not closing) handles of the loop. */
int stress_handle_count(fuv_loop_t *loop);
/* Reads exactly len bytes from fd (a pipe from a forked peer), waiting at
 * most timeout_ms for each part; returns 0, or -1 on timeout, error or EOF. */
int stress_read_exact(int fd, void *buf, size_t len, int timeout_ms);

/* A server run in a forked child, so that it has its own file descriptor
 * limit and loop, and reports to the parent through a pipe. */
typedef struct {
  pid_t pid;
  int report_fd; /* the read end of the child's reports */
} stress_child_t;
/* Forks a child that exits with serve(write end of the pipe), then reads
 * its first report (len bytes within timeout_ms). Returns 0; or -1, with
 * the child (if any) killed and reaped. */
int stress_child_start(stress_child_t *child, int (*serve)(int report_fd),
                       void *report, size_t len, int timeout_ms);
/* Reads the child's last report (kills it if none comes in timeout_ms),
 * reaps it, and checks both that it reported and that it exited with 0.
 * Returns 0 when the report was read. */
int stress_child_finish(stress_child_t *child, void *report, size_t len,
                        int timeout_ms);
/* Kills and reaps the child (when the test gives up on it). */
void stress_child_kill(stress_child_t *child);

#endif
