/*
 * The write queue of a stream over real loopback TCP connections: what the
 * kernel does not take is queued in order, closing cancels what is still
 * queued, fuv_try_write never queues and never jumps the queue, and
 * fuv_write_queue_size counts exactly the bytes waiting. The peer does not
 * read and both socket buffers are shrunk, so the queue fills after a few
 * tens of KiB. Every test runs over IPv4 and IPv6.
 */
#include "fuv_test.h"

#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>

#define TIMEOUT_MS 10000
#define MAX_WRITES 1024

/* ---- helpers ------------------------------------------------------------ */

static char *pattern_chunk(size_t len, uint64_t offset) {
  char *buf = malloc(len);
  ck_assert_ptr_nonnull(buf);
  for (size_t i = 0; i < len; i++)
    buf[i] = (char)fuv_test_pattern_byte(offset + i);
  return buf;
}

/* Writes the next len bytes of the pattern from a buffer freed as soon as
 * fuv_write returns, so the library must have copied what it queued. */
static void write_pattern(fuv_tcp_t *tcp, uint64_t *offset, size_t len,
                          fuv_write_cb cb, void *arg) {
  char *buf = pattern_chunk(len, *offset);
  FUV_ASSERT_OK(fuv_write((fuv_stream_t *)tcp, buf, len, cb, arg));
  free(buf);
  *offset += len;
}

/* Shrinks the writer's send buffer and the reader's receive buffer, so
 * that a reader that does not read makes writes queue quickly (loopback
 * receive buffers can otherwise grow to tens of MiB). */
static void shrink_buffers(fuv_tcp_t *writer, fuv_tcp_t *reader) {
  FUV_ASSERT_OK(fuv_set_send_buffer_size((fuv_handle_t *)writer, 16384));
  FUV_ASSERT_OK(fuv_set_recv_buffer_size((fuv_handle_t *)reader, 16384));
}

/* A reader that checks every byte against the pattern. */
struct sink {
  uint64_t expect; /* `complete` is set once this many arrived */
  uint64_t received;
  uint64_t first_mismatch; /* offset of the first wrong byte or UINT64_MAX */
  int complete;
  int ended; /* reading ended with EOF or an error */
  int end_status;
};

static void sink_init(struct sink *sink) {
  memset(sink, 0, sizeof *sink);
  sink->expect = UINT64_MAX;
  sink->first_mismatch = UINT64_MAX;
}

static void sink_feed(struct sink *sink, const char *buf, size_t len) {
  for (size_t i = 0; i < len; i++) {
    if ((unsigned char)buf[i] != fuv_test_pattern_byte(sink->received + i) &&
        sink->first_mismatch == UINT64_MAX)
      sink->first_mismatch = sink->received + i;
  }
  sink->received += len;
  if (sink->received >= sink->expect)
    sink->complete = 1;
}

static void sink_on_read(fuv_stream_t *stream, ssize_t nread,
                         const char *buf, void *arg) {
  struct sink *sink = arg;
  (void)stream;
  ck_assert(!sink->ended);
  if (nread < 0) {
    sink->ended = 1;
    sink->end_status = (int)nread;
    return;
  }
  sink_feed(sink, buf, (size_t)nread);
}

/* Reads the rest of the stream up to EOF (after the writer's shutdown) and
 * asserts that exactly `bytes` bytes of the pattern came, in order. */
static void assert_peer_receives_exactly(fuv_loop_t *loop, fuv_tcp_t *writer,
                                         fuv_tcp_t *reader, struct sink *sink,
                                         uint64_t bytes) {
  FUV_ASSERT_OK(fuv_read_start((fuv_stream_t *)reader, sink_on_read, sink));
  FUV_ASSERT_OK(fuv_shutdown((fuv_stream_t *)writer, NULL, NULL));
  fuv_test_run_until(loop, &sink->ended, 1, TIMEOUT_MS);
  FUV_ASSERT_ERR(sink->end_status, FUV_EOF);
  ck_assert_msg(sink->first_mismatch == UINT64_MAX,
                "wrong byte at offset %llu",
                (unsigned long long)sink->first_mismatch);
  ck_assert_msg(sink->received == bytes, "received %llu bytes, wanted %llu",
                (unsigned long long)sink->received, (unsigned long long)bytes);
}

static void on_write_count_ok(fuv_stream_t *stream, int status, void *arg) {
  (void)stream;
  FUV_ASSERT_OK(status);
  (*(int *)arg)++;
}

/* Writes chunk-sized pieces of the pattern until one of them is (partly)
 * queued; returns how many writes that took. */
static int write_until_queued(fuv_tcp_t *tcp, uint64_t *offset, size_t chunk,
                              fuv_write_cb cb, void *arg) {
  int writes = 0;
  while (fuv_write_queue_size((fuv_stream_t *)tcp) == 0) {
    ck_assert_msg(writes < MAX_WRITES, "%d writes never queued", writes);
    write_pattern(tcp, offset, chunk, cb, arg);
    writes++;
  }
  return writes;
}

/* ---- order and cancellation --------------------------------------------- */

/* The order and status of every write callback, and what the close
 * callback saw. */
struct write_log {
  int count;
  int order[MAX_WRITES];
  int status[MAX_WRITES];
  int close_cbs;
  int writes_at_close;
  struct write_tag {
    struct write_log *log;
    int index;
  } tags[MAX_WRITES];
};

static void *write_log_tag(struct write_log *log, int index) {
  ck_assert_int_lt(index, MAX_WRITES);
  log->tags[index].log = log;
  log->tags[index].index = index;
  return &log->tags[index];
}

static void write_log_on_write(fuv_stream_t *stream, int status, void *arg) {
  struct write_tag *tag = arg;
  struct write_log *log = tag->log;
  (void)stream;
  ck_assert_msg(log->close_cbs == 0, "a write callback after the close");
  ck_assert_int_lt(log->count, MAX_WRITES);
  log->order[log->count++] = tag->index;
  log->status[tag->index] = status;
}

static void write_log_on_close(fuv_handle_t *handle, void *arg) {
  struct write_log *log = arg;
  (void)handle;
  log->close_cbs++;
  log->writes_at_close = log->count;
}

START_TEST(write_order_is_kept_and_queued_writes_cancel_on_close) {
  fuv_loop_t *loop;
  fuv_tcp_t *client, *server_side;
  struct write_log *log = calloc(1, sizeof *log);
  uint64_t offset = 0;
  int writes = 0, first_queued = -1;
  ck_assert_ptr_nonnull(log);
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &client, &server_side);
  shrink_buffers(client, server_side);

  /* Small writes complete at once until the kernel buffers are full; the
   * loop does not run in between, so nothing queued can leave. */
  while (first_queued < 0) {
    write_pattern(client, &offset, 4096, write_log_on_write,
                  write_log_tag(log, writes));
    if (fuv_write_queue_size((fuv_stream_t *)client) > 0)
      first_queued = writes;
    writes++;
  }
  ck_assert_int_gt(first_queued, 0);
  for (int k = 0; k < 3; k++) {
    write_pattern(client, &offset, 4096, write_log_on_write,
                  write_log_tag(log, writes));
    writes++;
  }
  ck_assert_int_eq(log->count, 0);
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)client, write_log_on_close, log));
  fuv_test_run_until(loop, &log->close_cbs, 1, TIMEOUT_MS);

  ck_assert_int_eq(log->count, writes);
  ck_assert_int_eq(log->writes_at_close, writes);
  for (int k = 0; k < writes; k++) {
    ck_assert_int_eq(log->order[k], k);
    if (k < first_queued)
      FUV_ASSERT_OK(log->status[k]);
    else
      FUV_ASSERT_ERR(log->status[k], FUV_ECANCELED);
  }
  fuv_test_free_loop(loop);
  free(log);
}
END_TEST

/* ---- try_write ---------------------------------------------------------- */

START_TEST(try_write_writes_part_then_fails_with_eagain_when_the_socket_is_full) {
  const size_t chunk = 1u << 20;
  fuv_loop_t *loop;
  fuv_tcp_t *client, *server_side;
  struct sink sink;
  uint64_t offset = 0;
  int r;
  sink_init(&sink);
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &client, &server_side);
  shrink_buffers(client, server_side);

  char *buf = pattern_chunk(chunk, offset);
  r = fuv_try_write((fuv_stream_t *)client, buf, chunk);
  free(buf);
  ck_assert_msg(r > 0 && (size_t)r < chunk, "try_write returned %d", r);
  offset += (uint64_t)r;
  for (int attempts = 0;; attempts++) {
    ck_assert_msg(attempts < 1000, "the socket never filled");
    buf = pattern_chunk(chunk, offset);
    r = fuv_try_write((fuv_stream_t *)client, buf, chunk);
    free(buf);
    if (r == FUV_EAGAIN)
      break;
    ck_assert_msg(r > 0, "try_write returned %s", fuv_err_name(r));
    offset += (uint64_t)r;
  }
  /* try_write never queues: exactly the accepted bytes reach the peer. */
  ck_assert_uint_eq(fuv_write_queue_size((fuv_stream_t *)client), 0);
  assert_peer_receives_exactly(loop, client, server_side, &sink, offset);
  fuv_test_free_loop(loop);
}
END_TEST

/* Reads what has arrived at the peer straight from its socket (the loop
 * does not run) until the kernel has room for the writer again. */
static void drain_until_writable(fuv_tcp_t *writer, fuv_tcp_t *reader,
                                 struct sink *sink) {
  static char buf[65536];
  int reader_fd = fuv_fileno((fuv_handle_t *)reader);
  struct pollfd writable = {fuv_fileno((fuv_handle_t *)writer), POLLOUT, 0};
  ck_assert_int_ge(reader_fd, 0);
  ck_assert_int_ge(writable.fd, 0);
  for (int rounds = 0;; rounds++) {
    ssize_t n;
    while ((n = recv(reader_fd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
      sink_feed(sink, buf, (size_t)n);
    if (poll(&writable, 1, 10) == 1)
      break;
    ck_assert_msg(rounds < 1000, "the writer never became writable");
  }
}

START_TEST(try_write_fails_with_eagain_while_writes_are_queued) {
  static const char extra[16] = "must not go out";
  fuv_loop_t *loop;
  fuv_tcp_t *client, *server_side;
  struct sink sink;
  uint64_t offset = 0;
  int write_cbs = 0;
  sink_init(&sink);
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &client, &server_side);
  shrink_buffers(client, server_side);
  int writes = write_until_queued(client, &offset, 65536, on_write_count_ok,
                                  &write_cbs);

  /* The kernel has room again, but bytes are still queued: writing now
   * would put these bytes ahead of them. */
  drain_until_writable(client, server_side, &sink);
  ck_assert_uint_gt(fuv_write_queue_size((fuv_stream_t *)client), 0);
  FUV_ASSERT_ERR(fuv_try_write((fuv_stream_t *)client, extra, sizeof extra),
                 FUV_EAGAIN);

  assert_peer_receives_exactly(loop, client, server_side, &sink, offset);
  ck_assert_int_eq(write_cbs, writes);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- write_queue_size --------------------------------------------------- */

START_TEST(write_queue_size_grows_while_the_peer_does_not_read_and_drains_to_zero) {
  fuv_loop_t *loop;
  fuv_tcp_t *client, *server_side;
  struct sink sink;
  uint64_t offset = 0;
  int write_cbs = 0;
  sink_init(&sink);
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &client, &server_side);
  shrink_buffers(client, server_side);
  fuv_stream_t *s = (fuv_stream_t *)client;
  ck_assert_uint_eq(fuv_write_queue_size(s), 0);

  int writes = write_until_queued(client, &offset, 65536, on_write_count_ok,
                                  &write_cbs);
  size_t queued = fuv_write_queue_size(s);
  ck_assert_uint_le(queued, 65536);
  /* Behind a queued write, the whole of the next one waits. */
  write_pattern(client, &offset, 50000, on_write_count_ok, &write_cbs);
  writes++;
  ck_assert_uint_eq(fuv_write_queue_size(s), queued + 50000);

  sink.expect = offset;
  FUV_ASSERT_OK(fuv_read_start((fuv_stream_t *)server_side, sink_on_read,
                               &sink));
  fuv_test_run_until(loop, &write_cbs, writes, TIMEOUT_MS);
  ck_assert_uint_eq(fuv_write_queue_size(s), 0);
  fuv_test_run_until(loop, &sink.complete, 1, TIMEOUT_MS);
  ck_assert_uint_eq(sink.received, offset);
  ck_assert(sink.first_mismatch == UINT64_MAX);
  fuv_test_free_loop(loop);
}
END_TEST

static Suite *stream_queue_suite(void) {
  Suite *suite = suite_create("stream_queue_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("stream_queue");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, write_order_is_kept_and_queued_writes_cancel_on_close,
                      0, FUV_TEST_NFAMILIES);
  tcase_add_loop_test(
      tc,
      try_write_writes_part_then_fails_with_eagain_when_the_socket_is_full, 0,
      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, try_write_fails_with_eagain_while_writes_are_queued,
                      0, FUV_TEST_NFAMILIES);
  tcase_add_loop_test(
      tc,
      write_queue_size_grows_while_the_peer_does_not_read_and_drains_to_zero,
      0, FUV_TEST_NFAMILIES);
  suite_add_tcase(suite, tc);
  return suite;
}

FUV_TEST_MAIN(stream_queue_suite)
