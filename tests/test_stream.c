/*
 * Stream behaviour over real loopback TCP connections: data arrives whole
 * and in order, shutdown waits for queued writes, read_stop takes effect
 * at once, an idle loop does not spin, half-open and reset connections
 * report the right errors. Write queueing and cancellation are in
 * test_stream_queue.c. Every test runs over IPv4 and IPv6.
 */
#include "fuv_test.h"

#include <poll.h>
#include <signal.h>
#include <stdlib.h>

#define TIMEOUT_MS 10000
/* Writing 16 MiB under valgrind takes a while. */
#define LOT_TIMEOUT_MS 120000

/* ---- helpers ------------------------------------------------------------ */

/* Waits (without running the loop) until the kernel reports the stream's
 * socket readable, i.e. there is data the library has not read. */
static void wait_socket_readable(const fuv_tcp_t *tcp) {
  struct pollfd pfd = {fuv_fileno((const fuv_handle_t *)tcp), POLLIN, 0};
  ck_assert_int_ge(pfd.fd, 0);
  ck_assert_int_eq(poll(&pfd, 1, TIMEOUT_MS), 1);
  ck_assert(pfd.revents & POLLIN);
}

/* Writes the next len bytes of the pattern from a buffer that is freed as
 * soon as fuv_write returns: the library must copy what it queues, and
 * ASan or valgrind catch it if it does not. */
static void write_pattern(fuv_tcp_t *tcp, uint64_t *offset, size_t len,
                          fuv_write_cb cb, void *arg) {
  char *buf = malloc(len);
  ck_assert_ptr_nonnull(buf);
  fuv_test_fill_pattern(buf, len, *offset);
  FUV_ASSERT_OK(fuv_write((fuv_stream_t *)tcp, buf, len, cb, arg));
  memset(buf, 0xEE, len);
  free(buf);
  *offset += len;
}

/* A reader that checks every byte against the pattern. */
struct sink {
  uint64_t expect;         /* `complete` is set once this many arrived */
  uint64_t received;
  uint64_t first_mismatch; /* offset of the first wrong byte or UINT64_MAX */
  int complete;
  int read_cbs;
  int stop_after;  /* calls fuv_read_stop in this read callback; 0: never */
  int ended;       /* reading ended with EOF or an error */
  int end_status;
  int close_at_end; /* closes the stream when reading ends */
  int closed;
};

static void sink_init(struct sink *sink, uint64_t expect) {
  memset(sink, 0, sizeof *sink);
  sink->expect = expect;
  sink->first_mismatch = UINT64_MAX;
}

static void sink_on_read(fuv_stream_t *stream, ssize_t nread,
                         const char *buf, void *arg) {
  struct sink *sink = arg;
  ck_assert_msg(!sink->ended, "a read callback after the end of reading");
  sink->read_cbs++;
  if (nread < 0) {
    ck_assert_ptr_null(buf);
    sink->ended = 1;
    sink->end_status = (int)nread;
    if (sink->close_at_end)
      FUV_ASSERT_OK(fuv_close((fuv_handle_t *)stream, fuv_test_count_close,
                              &sink->closed));
    return;
  }
  ck_assert_int_gt(nread, 0);
  for (ssize_t i = 0; i < nread; i++) {
    if ((unsigned char)buf[i] != fuv_test_pattern_byte(sink->received + (uint64_t)i) &&
        sink->first_mismatch == UINT64_MAX)
      sink->first_mismatch = sink->received + (uint64_t)i;
  }
  sink->received += (uint64_t)nread;
  if (sink->received >= sink->expect)
    sink->complete = 1;
  if (sink->read_cbs == sink->stop_after)
    FUV_ASSERT_OK(fuv_read_stop(stream));
}

static void assert_sink_got_pattern(const struct sink *sink, uint64_t bytes) {
  ck_assert_msg(sink->first_mismatch == UINT64_MAX,
                "wrong byte at offset %llu",
                (unsigned long long)sink->first_mismatch);
  ck_assert_msg(sink->received == bytes, "received %llu bytes, wanted %llu",
                (unsigned long long)sink->received, (unsigned long long)bytes);
}

static void start_sink(fuv_tcp_t *tcp, struct sink *sink) {
  FUV_ASSERT_OK(fuv_read_start((fuv_stream_t *)tcp, sink_on_read, sink));
}

static void on_write_count_ok(fuv_stream_t *stream, int status, void *arg) {
  (void)stream;
  FUV_ASSERT_OK(status);
  (*(int *)arg)++;
}

/* ---- ping-pong ---------------------------------------------------------- */

#define PING_ROUNDS 20

struct ping_pong {
  fuv_tcp_t *client;
  char client_buf[64];
  size_t client_len;
  int rounds; /* replies the client has checked */
  char server_buf[64];
  size_t server_len;
  int pings; /* pings the server has answered */
  int server_eof;
  int closed;
};

static size_t format_line(char *out, size_t size, const char *word, int n) {
  int len = snprintf(out, size, "%s %d\n", word, n);
  ck_assert(len > 0 && (size_t)len < size);
  return (size_t)len;
}

static void send_line(fuv_stream_t *stream, const char *word, int n) {
  char line[32];
  size_t len = format_line(line, sizeof line, word, n);
  FUV_ASSERT_OK(fuv_write(stream, line, len, NULL, NULL));
}

/* The server answers each complete "PING n" line with "PONG n". */
static void ping_server_on_read(fuv_stream_t *stream, ssize_t nread,
                                const char *buf, void *arg) {
  struct ping_pong *pp = arg;
  if (nread < 0) {
    FUV_ASSERT_ERR((int)nread, FUV_EOF);
    pp->server_eof = 1;
    FUV_ASSERT_OK(fuv_close((fuv_handle_t *)stream, fuv_test_count_close,
                            &pp->closed));
    return;
  }
  ck_assert_uint_le(pp->server_len + (size_t)nread, sizeof pp->server_buf);
  memcpy(pp->server_buf + pp->server_len, buf, (size_t)nread);
  pp->server_len += (size_t)nread;
  char *newline;
  while ((newline = memchr(pp->server_buf, '\n', pp->server_len)) != NULL) {
    char want[32];
    size_t line_len = (size_t)(newline - pp->server_buf) + 1;
    size_t want_len = format_line(want, sizeof want, "PING", pp->pings);
    ck_assert_uint_eq(line_len, want_len);
    ck_assert(memcmp(pp->server_buf, want, want_len) == 0);
    send_line(stream, "PONG", pp->pings++);
    memmove(pp->server_buf, newline + 1, pp->server_len - line_len);
    pp->server_len -= line_len;
  }
}

/* The client checks each reply byte for byte before sending the next ping;
 * after the last one it closes, which the server sees as EOF. */
static void ping_client_on_read(fuv_stream_t *stream, ssize_t nread,
                                const char *buf, void *arg) {
  struct ping_pong *pp = arg;
  char want[32];
  size_t want_len = format_line(want, sizeof want, "PONG", pp->rounds);
  ck_assert_int_gt(nread, 0);
  ck_assert_uint_le(pp->client_len + (size_t)nread, want_len);
  memcpy(pp->client_buf + pp->client_len, buf, (size_t)nread);
  pp->client_len += (size_t)nread;
  if (pp->client_len < want_len)
    return;
  ck_assert(memcmp(pp->client_buf, want, want_len) == 0);
  pp->client_len = 0;
  if (++pp->rounds < PING_ROUNDS)
    send_line(stream, "PING", pp->rounds);
  else
    FUV_ASSERT_OK(fuv_close((fuv_handle_t *)stream, fuv_test_count_close,
                            &pp->closed));
}

START_TEST(ping_pong_round_trips_exact_bytes) {
  fuv_loop_t *loop;
  fuv_tcp_t *server_side;
  struct ping_pong pp;
  memset(&pp, 0, sizeof pp);
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &pp.client, &server_side);
  FUV_ASSERT_OK(fuv_read_start((fuv_stream_t *)server_side,
                               ping_server_on_read, &pp));
  FUV_ASSERT_OK(fuv_read_start((fuv_stream_t *)pp.client,
                               ping_client_on_read, &pp));
  send_line((fuv_stream_t *)pp.client, "PING", 0);
  fuv_test_run(loop, TIMEOUT_MS);
  ck_assert_int_eq(pp.rounds, PING_ROUNDS);
  ck_assert_int_eq(pp.pings, PING_ROUNDS);
  ck_assert(pp.server_eof);
  ck_assert_int_eq(pp.closed, 2);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- writing a lot, then shutdown --------------------------------------- */

#define LOT_BYTES (16u << 20)
#define LOT_MAX_WRITES 512

struct lot {
  int writes;
  int write_cbs;
  int writes_in_order;
  int shutdown_cbs;
  int shutdown_status;
  struct sink peer; /* the server side: all the data, then EOF */
  struct sink back; /* the client: nothing, then EOF once the peer closed */
  struct lot_tag {
    struct lot *lot;
    int index;
  } tags[LOT_MAX_WRITES];
};

static void lot_on_write(fuv_stream_t *stream, int status, void *arg) {
  struct lot_tag *tag = arg;
  struct lot *lot = tag->lot;
  (void)stream;
  FUV_ASSERT_OK(status);
  ck_assert_int_eq(lot->shutdown_cbs, 0);
  if (tag->index != lot->write_cbs)
    lot->writes_in_order = 0;
  lot->write_cbs++;
}

static void lot_on_shutdown(fuv_stream_t *stream, int status, void *arg) {
  struct lot *lot = arg;
  lot->shutdown_cbs++;
  lot->shutdown_status = status;
  /* Shutdown waits for the queue: every write has completed before. */
  ck_assert_int_eq(lot->write_cbs, lot->writes);
  ck_assert_uint_eq(fuv_write_queue_size(stream), 0);
}

/* Writes [offset, offset + len) of the pattern as three buffers in one
 * fuv_writev; the split leaves some buffers empty for small writes. */
static void writev_pattern(fuv_tcp_t *tcp, uint64_t *offset, size_t len,
                           void *tag) {
  char *buf = malloc(len);
  ck_assert_ptr_nonnull(buf);
  fuv_test_fill_pattern(buf, len, *offset);
  const char *bufs[3] = {buf, buf + len / 3, buf + len / 3 + len / 4};
  size_t lens[3] = {len / 3, len / 4, len - len / 3 - len / 4};
  FUV_ASSERT_OK(fuv_writev((fuv_stream_t *)tcp, bufs, lens, 3, lot_on_write,
                           tag));
  memset(buf, 0xEE, len);
  free(buf);
  *offset += len;
}

START_TEST(writing_a_lot_then_shutdown_delivers_every_byte_in_order) {
  static const size_t sizes[] = {1,     13,    512,    4096,   65535,
                                 65536, 65537, 300001, 1u << 20};
  fuv_loop_t *loop;
  fuv_tcp_t *client, *server_side;
  struct lot *lot = calloc(1, sizeof *lot);
  ck_assert_ptr_nonnull(lot);
  lot->writes_in_order = 1;
  sink_init(&lot->peer, LOT_BYTES);
  lot->peer.close_at_end = 1;
  sink_init(&lot->back, 0);
  lot->back.close_at_end = 1;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &client, &server_side);
  start_sink(server_side, &lot->peer);
  start_sink(client, &lot->back);

  uint64_t offset = 0;
  for (size_t k = 0; offset < LOT_BYTES; k++) {
    size_t len = sizes[k % (sizeof sizes / sizeof sizes[0])];
    if (len > LOT_BYTES - offset)
      len = (size_t)(LOT_BYTES - offset);
    ck_assert_int_lt(lot->writes, LOT_MAX_WRITES);
    struct lot_tag *tag = &lot->tags[lot->writes++];
    tag->lot = lot;
    tag->index = (int)k;
    if (k % 2 == 0)
      write_pattern(client, &offset, len, lot_on_write, tag);
    else
      writev_pattern(client, &offset, len, tag);
  }
  FUV_ASSERT_OK(fuv_shutdown((fuv_stream_t *)client, lot_on_shutdown, lot));
  fuv_test_run(loop, LOT_TIMEOUT_MS);

  ck_assert_int_eq(lot->write_cbs, lot->writes);
  ck_assert(lot->writes_in_order);
  ck_assert_int_eq(lot->shutdown_cbs, 1);
  FUV_ASSERT_OK(lot->shutdown_status);
  assert_sink_got_pattern(&lot->peer, LOT_BYTES);
  FUV_ASSERT_ERR(lot->peer.end_status, FUV_EOF);
  FUV_ASSERT_ERR(lot->back.end_status, FUV_EOF);
  ck_assert_int_eq(lot->back.received, 0);
  ck_assert_int_eq(lot->peer.closed + lot->back.closed, 2);
  fuv_test_free_loop(loop);
  free(lot);
}
END_TEST

/* ---- read_stop ---------------------------------------------------------- */

START_TEST(read_stop_inside_the_read_callback_stops_reads_without_losing_data) {
  const uint64_t total = 256 * 1024; /* several loop-buffer loads */
  fuv_loop_t *loop;
  fuv_tcp_t *client, *server_side;
  struct sink sink;
  int write_cbs = 0;
  uint64_t offset = 0;
  sink_init(&sink, total);
  sink.stop_after = 1;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &client, &server_side);
  write_pattern(client, &offset, total, on_write_count_ok, &write_cbs);
  start_sink(server_side, &sink);
  fuv_test_run_until(loop, &sink.read_cbs, 1, TIMEOUT_MS);
  ck_assert_uint_lt(sink.received, total);

  /* More data is waiting in the kernel, yet no read callback runs. */
  wait_socket_readable(server_side);
  for (int i = 0; i < 20; i++)
    ck_assert_int_ge(fuv_run(loop, FUV_RUN_NOWAIT), 0);
  ck_assert_int_eq(sink.read_cbs, 1);

  /* Reading again picks up exactly where it stopped. */
  sink.stop_after = 0;
  start_sink(server_side, &sink);
  fuv_test_run_until(loop, &sink.complete, 1, TIMEOUT_MS);
  fuv_test_run_until(loop, &write_cbs, 1, TIMEOUT_MS);
  assert_sink_got_pattern(&sink, total);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- no busy loop ------------------------------------------------------- */

START_TEST(unread_data_does_not_make_the_loop_spin) {
  fuv_loop_t *loop;
  fuv_tcp_t *client, *server_side;
  struct sink sink;
  int write_cbs = 0;
  uint64_t offset = 0;
  sink_init(&sink, 2000);
  sink.stop_after = 1;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &client, &server_side);

  /* Data waits on a stream that never started reading. */
  write_pattern(client, &offset, 1000, on_write_count_ok, &write_cbs);
  fuv_test_run_until(loop, &write_cbs, 1, TIMEOUT_MS);
  wait_socket_readable(server_side);
  uint64_t idle = fuv_test_iterations_while_idle(loop, 100);
  ck_assert_msg(idle < 10, "%llu iterations in 100 ms with unread data",
                (unsigned long long)idle);

  /* Data waits on a stream that read once and stopped. */
  start_sink(server_side, &sink);
  fuv_test_run_until(loop, &sink.read_cbs, 1, TIMEOUT_MS);
  write_pattern(client, &offset, 1000, on_write_count_ok, &write_cbs);
  fuv_test_run_until(loop, &write_cbs, 2, TIMEOUT_MS);
  wait_socket_readable(server_side);
  idle = fuv_test_iterations_while_idle(loop, 100);
  ck_assert_msg(idle < 10, "%llu iterations in 100 ms after read_stop",
                (unsigned long long)idle);
  ck_assert_int_eq(sink.read_cbs, 1);

  sink.stop_after = 0;
  start_sink(server_side, &sink);
  fuv_test_run_until(loop, &sink.complete, 1, TIMEOUT_MS);
  assert_sink_got_pattern(&sink, 2000);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- half-open peer ----------------------------------------------------- */

struct half_open {
  int writes;
  int failed;
  int fail_status;
};

/* Keeps writing from the write callback until a write fails. */
static void half_open_on_write(fuv_stream_t *stream, int status, void *arg) {
  static const char data[1000];
  struct half_open *ho = arg;
  if (status != 0) {
    ho->failed = 1;
    ho->fail_status = status;
    return;
  }
  ck_assert_msg(ho->writes < 1000, "1000 writes to a closed peer succeeded");
  ho->writes++;
  FUV_ASSERT_OK(fuv_write(stream, data, sizeof data, half_open_on_write, ho));
}

START_TEST(writing_to_a_closed_peer_fails_in_the_write_callback_without_sigpipe) {
  fuv_loop_t *loop;
  fuv_tcp_t *client, *server_side;
  struct sink sink;
  struct half_open ho = {0, 0, 0};
  int peer_closed = 0;
  /* Make SIGPIPE fatal, as in a Lua or Nim host: if the library let the
   * kernel raise it, the test process would die. */
  signal(SIGPIPE, SIG_DFL);
  sink_init(&sink, 0);
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &client, &server_side);
  start_sink(client, &sink);
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)server_side, fuv_test_count_close,
                          &peer_closed));
  fuv_test_run_until(loop, &sink.ended, 1, TIMEOUT_MS);
  FUV_ASSERT_ERR(sink.end_status, FUV_EOF);

  half_open_on_write((fuv_stream_t *)client, 0, &ho);
  fuv_test_run_until(loop, &ho.failed, 1, TIMEOUT_MS);
  ck_assert_msg(ho.fail_status == FUV_EPIPE || ho.fail_status == FUV_ECONNRESET,
                "the write failed with %s", fuv_err_name(ho.fail_status));
  ck_assert_int_eq(peer_closed, 1);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- shutdown ----------------------------------------------------------- */

static void on_shutdown_count_ok(fuv_stream_t *stream, int status, void *arg) {
  (void)stream;
  FUV_ASSERT_OK(status);
  (*(int *)arg)++;
}

START_TEST(second_shutdown_fails_with_enotconn_and_the_first_completes_once) {
  fuv_loop_t *loop;
  fuv_tcp_t *client, *server_side;
  struct sink sink;
  int shutdown_cbs = 0, second_cbs = 0;
  sink_init(&sink, 0);
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &client, &server_side);
  start_sink(server_side, &sink);
  fuv_stream_t *s = (fuv_stream_t *)client;
  FUV_ASSERT_OK(fuv_shutdown(s, on_shutdown_count_ok, &shutdown_cbs));
  FUV_ASSERT_ERR(fuv_shutdown(s, on_shutdown_count_ok, &second_cbs),
                 FUV_ENOTCONN);
  fuv_test_run_until(loop, &shutdown_cbs, 1, TIMEOUT_MS);
  FUV_ASSERT_ERR(fuv_shutdown(s, on_shutdown_count_ok, &second_cbs),
                 FUV_ENOTCONN);
  fuv_test_run_until(loop, &sink.ended, 1, TIMEOUT_MS);
  FUV_ASSERT_ERR(sink.end_status, FUV_EOF);
  ck_assert_int_eq(shutdown_cbs, 1);
  ck_assert_int_eq(second_cbs, 0);
  fuv_test_free_loop(loop);
}
END_TEST

static void assert_flags(const fuv_tcp_t *tcp, int readable, int writable) {
  ck_assert_int_eq(fuv_is_readable((const fuv_stream_t *)tcp), readable);
  ck_assert_int_eq(fuv_is_writable((const fuv_stream_t *)tcp), writable);
}

START_TEST(shutdown_clears_writable_and_eof_clears_readable) {
  fuv_loop_t *loop;
  fuv_tcp_t *unconnected, *client, *server_side;
  struct sink sink;
  int shutdown_cbs = 0;
  sink_init(&sink, 0);
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  FUV_ASSERT_OK(fuv_tcp_new(&unconnected, loop));
  assert_flags(unconnected, 0, 0);
  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &client, &server_side);
  assert_flags(client, 1, 1);
  assert_flags(server_side, 1, 1);

  start_sink(server_side, &sink);
  FUV_ASSERT_OK(fuv_shutdown((fuv_stream_t *)client, on_shutdown_count_ok,
                             &shutdown_cbs));
  fuv_test_run_until(loop, &shutdown_cbs, 1, TIMEOUT_MS);
  assert_flags(client, 1, 0);
  fuv_test_run_until(loop, &sink.ended, 1, TIMEOUT_MS);
  FUV_ASSERT_ERR(sink.end_status, FUV_EOF);
  assert_flags(server_side, 0, 1);
  fuv_test_free_loop(loop);
}
END_TEST

/* ---- close_reset -------------------------------------------------------- */

START_TEST(close_reset_makes_the_peer_read_econnreset_and_clears_its_flags) {
  fuv_loop_t *loop;
  fuv_tcp_t *client, *server_side;
  struct sink sink;
  int closed = 0;
  sink_init(&sink, 0);
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &client, &server_side);
  start_sink(server_side, &sink);
  FUV_ASSERT_OK(fuv_tcp_close_reset(client, fuv_test_count_close, &closed));
  ck_assert_int_eq(fuv_is_closing((fuv_handle_t *)client), 1);
  fuv_test_run_until(loop, &sink.ended, 1, TIMEOUT_MS);
  FUV_ASSERT_ERR(sink.end_status, FUV_ECONNRESET);
  ck_assert_int_eq(sink.received, 0);
  assert_flags(server_side, 0, 0);
  fuv_test_run_until(loop, &closed, 1, TIMEOUT_MS);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(close_reset_after_shutdown_fails_with_einval_and_leaves_the_handle_open) {
  fuv_loop_t *loop;
  fuv_tcp_t *client, *server_side;
  struct sink sink;
  int shutdown_cbs = 0, closed = 0;
  sink_init(&sink, 0);
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  fuv_test_tcp_pair(loop, fuv_test_loopback[_i], &client, &server_side);
  start_sink(server_side, &sink);
  FUV_ASSERT_OK(fuv_shutdown((fuv_stream_t *)client, on_shutdown_count_ok,
                             &shutdown_cbs));
  /* Refused while the shutdown is pending and after it completed. */
  FUV_ASSERT_ERR(fuv_tcp_close_reset(client, fuv_test_count_close, &closed),
                 FUV_EINVAL);
  ck_assert_int_eq(fuv_is_closing((fuv_handle_t *)client), 0);
  fuv_test_run_until(loop, &shutdown_cbs, 1, TIMEOUT_MS);
  FUV_ASSERT_ERR(fuv_tcp_close_reset(client, fuv_test_count_close, &closed),
                 FUV_EINVAL);
  ck_assert_int_eq(fuv_is_closing((fuv_handle_t *)client), 0);
  /* The peer saw an orderly end, not a reset. */
  fuv_test_run_until(loop, &sink.ended, 1, TIMEOUT_MS);
  FUV_ASSERT_ERR(sink.end_status, FUV_EOF);
  FUV_ASSERT_OK(fuv_close((fuv_handle_t *)client, fuv_test_count_close,
                          &closed));
  fuv_test_run_until(loop, &closed, 1, TIMEOUT_MS);
  fuv_test_free_loop(loop);
}
END_TEST

static Suite *stream_suite(void) {
  Suite *suite = suite_create("stream_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("stream");
  tcase_set_timeout(tc, 240);
  tcase_add_loop_test(tc, ping_pong_round_trips_exact_bytes, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc,
                      writing_a_lot_then_shutdown_delivers_every_byte_in_order,
                      0, FUV_TEST_NFAMILIES);
  tcase_add_loop_test(
      tc, read_stop_inside_the_read_callback_stops_reads_without_losing_data,
      0, FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, unread_data_does_not_make_the_loop_spin, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(
      tc, writing_to_a_closed_peer_fails_in_the_write_callback_without_sigpipe,
      0, FUV_TEST_NFAMILIES);
  tcase_add_loop_test(
      tc, second_shutdown_fails_with_enotconn_and_the_first_completes_once, 0,
      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, shutdown_clears_writable_and_eof_clears_readable, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(
      tc, close_reset_makes_the_peer_read_econnreset_and_clears_its_flags, 0,
      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(
      tc,
      close_reset_after_shutdown_fails_with_einval_and_leaves_the_handle_open,
      0, FUV_TEST_NFAMILIES);
  suite_add_tcase(suite, tc);
  return suite;
}

FUV_TEST_MAIN(stream_suite)
