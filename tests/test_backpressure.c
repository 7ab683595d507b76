/*
 * Write backpressure: a producer that honours fuv_stream_is_congested() and
 * the drain callback keeps its write queue bounded by the high-water mark
 * while the peer does not read, resumes when the queue falls to the
 * low-water mark, and every byte arrives in order once the peer reads.
 */
#include "fuv_test.h"

#include <stdlib.h>

/* ---- helpers ------------------------------------------------------------- */

static fuv_loop_t *new_loop(void) {
  fuv_loop_t *loop = NULL;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  return loop;
}

static fuv_stream_t *S(fuv_tcp_t *tcp) { return (fuv_stream_t *)tcp; }

/* The byte at position i of the stream. */
static unsigned char seq_byte(size_t i) {
  return (unsigned char)((i * 2654435761u) >> 11);
}

/* FNV-1a, continued over successive pieces of one stream. */
static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 1099511628211u;
  }
  return h;
}
#define FNV_START 14695981039346656037u

static void on_drain_count(fuv_stream_t *s, void *arg) {
  (void)s;
  (*(int *)arg)++;
}

/* ---- a producer that honours the marks, and a slow consumer ---------------- */

enum {
  CHUNK = 64 * 1024,
  HIGH = 1024 * 1024,
  LOW = 256 * 1024,
  TOTAL = 24 * 1024 * 1024
};

struct producer {
  fuv_tcp_t *tcp;
  size_t sent;          /* bytes handed to fuv_write */
  uint64_t sum;         /* checksum of those bytes */
  size_t max_queue;     /* largest write queue seen after a write */
  int congestions;      /* writes after which the stream was congested */
  int drains;           /* drain callbacks */
  int shutdowns;
  unsigned char chunk[CHUNK];
};

struct consumer {
  size_t received;
  uint64_t sum;
  size_t first_wrong;   /* stream offset of the first wrong byte, or -1 */
  int eof;
};

static void on_shutdown(fuv_stream_t *s, int status, void *arg) {
  struct producer *p = arg;
  (void)s;
  FUV_ASSERT_OK(status);
  p->shutdowns++;
}

/* Writes chunks until the stream says stop, or until all is written. */
static void produce(struct producer *p) {
  fuv_stream_t *s = S(p->tcp);
  while (p->sent < TOTAL && !fuv_stream_is_congested(s)) {
    size_t n = TOTAL - p->sent < CHUNK ? TOTAL - p->sent : CHUNK;
    for (size_t i = 0; i < n; i++)
      p->chunk[i] = seq_byte(p->sent + i);
    FUV_ASSERT_OK(fuv_write(s, (const char *)p->chunk, n, NULL, NULL));
    p->sum = fnv1a(p->sum, p->chunk, n);
    p->sent += n;
    size_t queued = fuv_write_queue_size(s);
    if (queued > p->max_queue)
      p->max_queue = queued;
    if (fuv_stream_is_congested(s)) {
      ck_assert_uint_ge(queued, HIGH);
      p->congestions++;
    }
  }
  if (p->sent == TOTAL && p->shutdowns == 0 &&
      fuv_is_writable(s))
    FUV_ASSERT_OK(fuv_shutdown(s, on_shutdown, p));
}

static void on_drain_resume(fuv_stream_t *s, void *arg) {
  struct producer *p = arg;
  /* The drain comes once the queue is back at the low-water mark. */
  ck_assert_uint_le(fuv_write_queue_size(s), LOW);
  ck_assert_int_eq(fuv_stream_is_congested(s), 0);
  p->drains++;
  produce(p);
}

static void on_consume(fuv_stream_t *s, ssize_t nread, const char *buf,
                       void *arg) {
  struct consumer *c = arg;
  (void)s;
  if (nread == FUV_EOF) {
    c->eof = 1;
    return;
  }
  ck_assert_int_gt(nread, 0);
  for (ssize_t i = 0; i < nread && c->first_wrong == (size_t)-1; i++)
    if ((unsigned char)buf[i] != seq_byte(c->received + (size_t)i))
      c->first_wrong = c->received + (size_t)i;
  c->sum = fnv1a(c->sum, (const unsigned char *)buf, (size_t)nread);
  c->received += (size_t)nread;
}

START_TEST(producer_pauses_at_high_water_and_every_byte_arrives) {
  const char *ip = fuv_test_loopback[_i];
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *server_side;
  struct producer *p = calloc(1, sizeof *p);
  struct consumer c = {0, FNV_START, (size_t)-1, 0};
  ck_assert_ptr_nonnull(p);
  p->sum = FNV_START;
  fuv_test_tcp_pair(loop, ip, &p->tcp, &server_side);
  FUV_ASSERT_OK(fuv_stream_set_water_marks(S(p->tcp), HIGH, LOW,
                                           on_drain_resume, p));
  ck_assert_int_eq(fuv_stream_is_congested(S(p->tcp)), 0);

  /* The peer does not read: the kernel's buffers fill, then the queue
   * grows to the high-water mark and the producer stops. */
  produce(p);
  ck_assert_int_eq(fuv_stream_is_congested(S(p->tcp)), 1);
  ck_assert_int_eq(p->congestions, 1);
  ck_assert_uint_lt(p->sent, TOTAL);
  size_t queued = fuv_write_queue_size(S(p->tcp));
  ck_assert_uint_ge(queued, HIGH);
  ck_assert_uint_le(queued, HIGH + CHUNK);

  /* While nobody reads, turning the loop changes nothing: no drain, and
   * the queue does not grow. */
  for (int i = 0; i < 5; i++)
    fuv_run(loop, FUV_RUN_NOWAIT);
  ck_assert_int_eq(p->drains, 0);
  ck_assert_uint_le(fuv_write_queue_size(S(p->tcp)), queued);

  /* The peer reads again: the producer resumes from each drain callback
   * until all is written and shut down. */
  FUV_ASSERT_OK(fuv_read_start(S(server_side), on_consume, &c));
  fuv_test_run(loop, 120000);

  ck_assert_int_eq(p->shutdowns, 1);
  ck_assert(c.eof);
  ck_assert_uint_eq(p->sent, TOTAL);
  ck_assert_uint_eq(c.received, TOTAL);
  ck_assert_msg(c.first_wrong == (size_t)-1, "wrong byte at offset %zu",
                c.first_wrong);
  ck_assert(c.sum == p->sum);
  ck_assert_uint_le(p->max_queue, HIGH + CHUNK);
  /* Every congestion ended with exactly one drain callback. */
  ck_assert_int_ge(p->congestions, 1);
  ck_assert_int_eq(p->drains, p->congestions);
  ck_assert_uint_eq(fuv_write_queue_size(S(p->tcp)), 0);
  free(p);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- the marks themselves --------------------------------------------------- */

START_TEST(marks_set_over_a_full_queue_congest_at_once) {
  size_t big = 8u << 20;
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *client, *server_side;
  struct consumer c = {0, FNV_START, (size_t)-1, 0};
  int drains = 0;
  char *data = malloc(big);
  ck_assert_ptr_nonnull(data);
  for (size_t i = 0; i < big; i++)
    data[i] = (char)seq_byte(i);
  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &client, &server_side);

  FUV_ASSERT_OK(fuv_write(S(client), data, big, NULL, NULL));
  ck_assert_uint_gt(fuv_write_queue_size(S(client)), HIGH);
  ck_assert_int_eq(fuv_stream_is_congested(S(client)), 0);
  FUV_ASSERT_OK(fuv_stream_set_water_marks(S(client), HIGH, LOW,
                                           on_drain_count, &drains));
  ck_assert_int_eq(fuv_stream_is_congested(S(client)), 1);

  FUV_ASSERT_OK(fuv_shutdown(S(client), NULL, NULL));
  FUV_ASSERT_OK(fuv_read_start(S(server_side), on_consume, &c));
  fuv_test_run(loop, 60000);
  ck_assert(c.eof);
  ck_assert_uint_eq(c.received, big);
  ck_assert(c.first_wrong == (size_t)-1);
  ck_assert_int_eq(drains, 1);
  ck_assert_int_eq(fuv_stream_is_congested(S(client)), 0);
  free(data);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(zero_high_water_turns_backpressure_off) {
  size_t big = 8u << 20;
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *client, *server_side;
  int drains = 0;
  char *data = calloc(1, big);
  ck_assert_ptr_nonnull(data);
  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &client, &server_side);

  FUV_ASSERT_OK(fuv_stream_set_water_marks(S(client), HIGH, LOW,
                                           on_drain_count, &drains));
  FUV_ASSERT_OK(fuv_write(S(client), data, big, NULL, NULL));
  ck_assert_int_eq(fuv_stream_is_congested(S(client)), 1);
  /* Turning the marks off ends the congestion without a drain. */
  FUV_ASSERT_OK(fuv_stream_set_water_marks(S(client), 0, 0, NULL, NULL));
  ck_assert_int_eq(fuv_stream_is_congested(S(client)), 0);
  FUV_ASSERT_OK(fuv_write(S(client), data, big, NULL, NULL));
  ck_assert_int_eq(fuv_stream_is_congested(S(client)), 0);
  fuv_run(loop, FUV_RUN_NOWAIT);
  ck_assert_int_eq(drains, 0);
  free(data);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(no_drain_without_congestion) {
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *client, *server_side;
  struct consumer c = {0, FNV_START, (size_t)-1, 0};
  char data[1000];
  int drains = 0;
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (char)seq_byte(i);
  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &client, &server_side);
  FUV_ASSERT_OK(fuv_stream_set_water_marks(S(client), HIGH, LOW,
                                           on_drain_count, &drains));
  FUV_ASSERT_OK(fuv_write(S(client), data, sizeof data, NULL, NULL));
  FUV_ASSERT_OK(fuv_shutdown(S(client), NULL, NULL));
  FUV_ASSERT_OK(fuv_read_start(S(server_side), on_consume, &c));
  fuv_test_run(loop, 10000);
  ck_assert_uint_eq(c.received, sizeof data);
  ck_assert_int_eq(drains, 0);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(invalid_marks) {
  fuv_loop_t *loop = new_loop();
  fuv_tcp_t *tcp;
  fuv_timer_t *timer;
  int closed = 0;
  FUV_ASSERT_OK(fuv_tcp_new(&tcp, loop));
  FUV_ASSERT_OK(fuv_timer_new(&timer, loop));

  FUV_ASSERT_ERR(fuv_stream_set_water_marks(S(tcp), 100, 101, NULL, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_OK(fuv_stream_set_water_marks(S(tcp), 100, 100, NULL, NULL));
  FUV_ASSERT_ERR(fuv_stream_set_water_marks(NULL, 100, 10, NULL, NULL),
                 FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_stream_set_water_marks((fuv_stream_t *)timer, 100, 10,
                                            NULL, NULL),
                 FUV_EINVAL);
  ck_assert_int_eq(fuv_stream_is_congested(NULL), 0);
  ck_assert_int_eq(fuv_stream_is_congested((fuv_stream_t *)timer), 0);

  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)tcp, fuv_test_count_close, &closed));
  FUV_ASSERT_ERR(fuv_stream_set_water_marks(S(tcp), 100, 10, NULL, NULL),
                 FUV_EINVAL);
  fuv_test_run(loop, 10000);
  ck_assert_int_eq(closed, 1);
  fuv_test_free_loop(loop);
}
END_TEST

static Suite *backpressure_suite(void) {
  Suite *s = suite_create("backpressure_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("backpressure");
  tcase_set_timeout(tc, 180);
  tcase_add_loop_test(tc, producer_pauses_at_high_water_and_every_byte_arrives,
                      0, FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, marks_set_over_a_full_queue_congest_at_once, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, zero_high_water_turns_backpressure_off, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, no_drain_without_congestion, 0, FUV_TEST_NFAMILIES);
  tcase_add_test(tc, invalid_marks);
  suite_add_tcase(s, tc);
  return s;
}

FUV_TEST_MAIN(backpressure_suite)
