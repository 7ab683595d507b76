/*
 * The UDP send queue: sends that find the kernel's buffer full are queued,
 * counted (fuv_udp_get_send_queue_size / _count), and go out in order once
 * there is room, every one reaching the receiver; a queued send can be
 * cancelled, and closing the handle cancels every queued send once.
 *
 * On plain loopback a UDP send never finds the socket's buffer full: lo
 * hands each packet to the receiver at once and the sender's buffer is
 * freed in the same call (the receiver drops what does not fit instead).
 * So these tests run in a network namespace of their own whose lo has a
 * tbf qdisc: packets wait in it, still charged to the sender, so a small
 * SO_SNDBUF fills and send(2) gives EAGAIN, and then drains at the qdisc's
 * rate. The sockets are made in the namespace (on a thread of their own,
 * so the test process stays where it is) and opened as handles.
 */
#include "fuv_test.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 20000

#define H(x) ((fuv_handle_t *)(x))

enum { NSEND = 100, DGRAM = 1000 };

static fuv_loop_t *new_loop(void) {
  fuv_loop_t *loop = NULL;
  FUV_ASSERT_OK(fuv_loop_new(&loop));
  return loop;
}

/* A receiver and a sender, in a namespace whose lo is rate-limited, bound
 * to ip; the sender's SO_SNDBUF is as small as the kernel allows. Returns
 * 0, or 1 after printing why the named test is skipped. */
#define FAST_QDISC \
  "tc qdisc add dev lo root tbf rate 8mbit burst 10kb latency 2s"
/* A datagram of SLOW_DGRAM bytes takes over a second to leave: the first
 * goes out on the bucket's burst, the second waits in the qdisc (filling
 * the smallest send buffer by itself), and room comes over a second
 * later. */
#define SLOW_QDISC \
  "tc qdisc add dev lo root tbf rate 20kbit burst 5kb latency 30s"
enum { SLOW_DGRAM = 4000 };

/* n handles on sockets of a namespace whose lo has the qdisc, bound to
 * ip: udps[0..n-2] receivers (their ports in ports), udps[n-1] the sender,
 * whose SO_SNDBUF is as small as the kernel allows. Returns 0, or 1 after
 * printing why the named test is skipped. */
static int shaped_sockets(const char *qdisc, fuv_loop_t *loop, const char *ip,
                          const char *test, int n, fuv_udp_t **udps,
                          int *ports) {
  const char *const cmds[] = {qdisc};
  char reason[256];
  int fds[4];
  int family = strchr(ip, ':') ? AF_INET6 : AF_INET;
  ck_assert_int_le(n, 4);
  if (fuv_test_netns_sockets(family, SOCK_DGRAM, n, fds, cmds, 1, reason,
                             sizeof reason) != 0) {
    printf("SKIPPED %s: no rate-limited network namespace: %s\n", test,
           reason);
    fflush(stdout);
    return 1;
  }
  for (int i = 0; i < n; i++) {
    FUV_ASSERT_OK(fuv_udp_new(&udps[i], loop));
    FUV_ASSERT_OK(fuv_udp_open(udps[i], fds[i]));
  }
  int r = fuv_udp_bind(udps[0], ip, 0, 0);
  if (r != 0 && family == AF_INET6) {
    printf("SKIPPED %s over IPv6: ::1 cannot be bound in the namespace "
           "(%s)\n", test, fuv_err_name(r));
    fflush(stdout);
    return 1;
  }
  FUV_ASSERT_OK(r);
  for (int i = 1; i < n; i++)
    FUV_ASSERT_OK(fuv_udp_bind(udps[i], ip, 0, 0));
  for (int i = 0; i < n - 1; i++)
    ports[i] = fuv_test_udp_port(udps[i]);
  FUV_ASSERT_OK(fuv_set_send_buffer_size(H(udps[n - 1]), 1));
  return 0;
}

static int shaped_pair_with(const char *qdisc, fuv_loop_t *loop,
                            const char *ip, const char *test, fuv_udp_t **rx,
                            fuv_udp_t **tx, int *port) {
  fuv_udp_t *udps[2];
  if (shaped_sockets(qdisc, loop, ip, test, 2, udps, port))
    return 1;
  *rx = udps[0];
  *tx = udps[1];
  return 0;
}

static int shaped_pair(fuv_loop_t *loop, const char *ip, const char *test,
                       fuv_udp_t **rx, fuv_udp_t **tx, int *port) {
  return shaped_pair_with(FAST_QDISC, loop, ip, test, rx, tx, port);
}

/* One datagram's bytes: its index in the first four, then a pattern. */
static void fill_dgram(char *buf, int i) {
  fuv_test_fill_pattern(buf, DGRAM, (uint64_t)i * DGRAM);
  memcpy(buf, &i, sizeof i);
}

struct queue_state {
  int done;              /* send callbacks */
  int order[NSEND];      /* index of the nth callback */
  int status[NSEND];     /* status per index */
  int calls[NSEND];      /* callbacks per index */
  int closed;
  int done_at_close;
  int close_at; /* the send whose callback closes the handle, or -1 */
};

struct send_ctx {
  struct queue_state *qs;
  int index;
};

static void queue_on_close(fuv_handle_t *handle, void *arg) {
  struct queue_state *qs = arg;
  (void)handle;
  qs->closed++;
  qs->done_at_close = qs->done;
}

static void queue_on_send(fuv_udp_t *udp, int status, void *arg) {
  struct send_ctx *ctx = arg;
  struct queue_state *qs = ctx->qs;
  (void)udp;
  ck_assert_int_lt(qs->done, NSEND);
  qs->order[qs->done++] = ctx->index;
  qs->status[ctx->index] = status;
  qs->calls[ctx->index]++;
  if (ctx->index == qs->close_at)
    FUV_ASSERT_OK(fuv_close(H(udp), queue_on_close, qs));
}


/* Sends NSEND datagrams as fast as the calls go, keeping requests when
 * reqs is not NULL. Returns how many were queued. */
static size_t send_all(fuv_udp_t *tx, const char *ip, int port,
                       struct queue_state *qs, struct send_ctx *ctx,
                       fuv_req_t **reqs) {
  char buf[DGRAM];
  for (int i = 0; i < NSEND; i++) {
    ctx[i].qs = qs;
    ctx[i].index = i;
    fill_dgram(buf, i);
    FUV_ASSERT_OK(fuv_udp_send_req(tx, buf, DGRAM, ip, port, queue_on_send,
                                   &ctx[i], reqs ? &reqs[i] : NULL));
    if (reqs) {
      ck_assert_ptr_nonnull(reqs[i]);
      ck_assert_int_eq(fuv_req_type(reqs[i]), FUV_UDP_SEND);
      ck_assert_str_eq(fuv_req_type_name(fuv_req_type(reqs[i])), "udp_send");
    }
  }
  /* The data was copied: scribbling over the caller's buffer changes
   * nothing (checked by the receiver). */
  memset(buf, 0, sizeof buf);
  ck_assert_int_eq(qs->done, 0);
  size_t queued = fuv_udp_get_send_queue_count(tx);
  ck_assert_msg(queued > 0 && queued < NSEND,
                "%zu of %d sends queued: the socket's buffer never filled",
                queued, NSEND);
  ck_assert_uint_eq(fuv_udp_get_send_queue_size(tx), queued * DGRAM);
  ck_assert_int_eq(fuv_is_active(H(tx)), 1);
  return queued;
}

/* Checks that the receiver got exactly the datagrams whose index has
 * status 0, in order, each intact. */
static void assert_received(const struct fuv_test_dgrams *dg,
                            const struct queue_state *qs, int tx_port) {
  char want[DGRAM];
  int k = 0;
  for (int i = 0; i < NSEND; i++) {
    if (qs->status[i] != 0)
      continue;
    ck_assert_msg(k < dg->count, "datagram %d was sent but not received", i);
    fill_dgram(want, i);
    int got;
    memcpy(&got, dg->d[k].data, sizeof got);
    ck_assert_msg(got == i, "received datagram %d where %d was next", got, i);
    ck_assert_int_eq(dg->d[k].nread, DGRAM);
    ck_assert(memcmp(dg->d[k].data, want, DGRAM) == 0);
    ck_assert_int_eq(dg->d[k].port, tx_port);
    k++;
  }
  ck_assert_int_eq(dg->count, k);
}

START_TEST(queued_sends_complete_in_order_and_all_arrive) {
  const char *ip = fuv_test_loopback[_i];
  const char *test = "queued_sends_complete_in_order_and_all_arrive";
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx, *tx;
  struct queue_state *qs = calloc(1, sizeof *qs);
  struct send_ctx ctx[NSEND];
  struct fuv_test_dgrams dg;
  int port;
  ck_assert_ptr_nonnull(qs);
  qs->close_at = -1;
  memset(&dg, 0, sizeof dg);
  if (shaped_pair(loop, ip, test, &rx, &tx, &port)) {
    free(qs);
    fuv_test_free_loop(loop);
    return;
  }
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  ck_assert_uint_eq(fuv_udp_get_send_queue_count(tx), 0);
  ck_assert_uint_eq(fuv_udp_get_send_queue_size(tx), 0);
  send_all(tx, ip, port, qs, ctx, NULL);

  /* While sends are queued, nothing jumps the queue. */
  FUV_ASSERT_ERR(fuv_udp_try_send(tx, "jump", 4, ip, port), FUV_EAGAIN);
  const char *bufs[1] = {"jump"};
  size_t lens[1] = {4};
  FUV_ASSERT_ERR(fuv_udp_try_send_many(tx, bufs, lens, 1, ip, port),
                 FUV_EAGAIN);
  FUV_ASSERT_ERR(fuv_udp_send_sync(tx, "jump", 4, ip, port, 100), FUV_EBUSY);

  fuv_test_run_until(loop, &qs->done, NSEND, TIMEOUT_MS);
  for (int i = 0; i < NSEND; i++) {
    ck_assert_msg(qs->order[i] == i, "send callback %d was for send %d", i,
                  qs->order[i]);
    FUV_ASSERT_OK(qs->status[i]);
    ck_assert_int_eq(qs->calls[i], 1);
  }
  ck_assert_uint_eq(fuv_udp_get_send_queue_count(tx), 0);
  ck_assert_uint_eq(fuv_udp_get_send_queue_size(tx), 0);
  fuv_test_run_until(loop, &dg.count, NSEND, TIMEOUT_MS);
  assert_received(&dg, qs, fuv_test_udp_port(tx));
  /* With the queue empty, try_send works again. */
  ck_assert_int_eq(fuv_udp_try_send(tx, "free", 4, ip, port), 4);
  fuv_test_run_until(loop, &dg.count, NSEND + 1, TIMEOUT_MS);
  ck_assert_int_eq(dg.d[NSEND].nread, 4);
  free(qs);
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

START_TEST(a_cancelled_send_is_not_sent_and_gets_ecanceled) {
  const char *ip = fuv_test_loopback[_i];
  const char *test = "a_cancelled_send_is_not_sent_and_gets_ecanceled";
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx, *tx;
  struct queue_state *qs = calloc(1, sizeof *qs);
  struct send_ctx ctx[NSEND];
  fuv_req_t *reqs[NSEND];
  struct fuv_test_dgrams dg;
  int port;
  ck_assert_ptr_nonnull(qs);
  qs->close_at = -1;
  memset(&dg, 0, sizeof dg);
  if (shaped_pair(loop, ip, test, &rx, &tx, &port)) {
    free(qs);
    fuv_test_free_loop(loop);
    return;
  }
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  size_t queued = send_all(tx, ip, port, qs, ctx, reqs);
  ck_assert_uint_gt(queued, 3);

  /* The second to last is certainly queued; the first went out at once
   * and can no longer be cancelled. */
  int victim = NSEND - 2;
  FUV_ASSERT_OK(fuv_cancel(reqs[victim]));
  ck_assert_int_eq(qs->done, 0); /* its callback comes from fuv_run */
  ck_assert_uint_eq(fuv_udp_get_send_queue_count(tx), queued - 1);
  ck_assert_uint_eq(fuv_udp_get_send_queue_size(tx), (queued - 1) * DGRAM);
  FUV_ASSERT_ERR(fuv_cancel(reqs[victim]), FUV_EBUSY);
  FUV_ASSERT_ERR(fuv_cancel(reqs[0]), FUV_EBUSY);
  FUV_ASSERT_ERR(fuv_cancel(NULL), FUV_EINVAL);

  fuv_test_run_until(loop, &qs->done, NSEND, TIMEOUT_MS);
  for (int i = 0; i < NSEND; i++) {
    ck_assert_int_eq(qs->calls[i], 1);
    if (i == victim)
      FUV_ASSERT_ERR(qs->status[i], FUV_ECANCELED);
    else
      FUV_ASSERT_OK(qs->status[i]);
  }
  /* The others complete in order around it. */
  for (int i = 1; i < NSEND; i++)
    if (qs->order[i - 1] != victim && qs->order[i] != victim)
      ck_assert_int_lt(qs->order[i - 1], qs->order[i]);
  fuv_test_run_until(loop, &dg.count, NSEND - 1, TIMEOUT_MS);
  fuv_test_run_for(loop, 100);
  assert_received(&dg, qs, fuv_test_udp_port(tx));
  /* Completed requests cannot be cancelled, and outlive the loop. */
  FUV_ASSERT_ERR(fuv_cancel(reqs[NSEND - 1]), FUV_EBUSY);
  fuv_test_free_loop(loop);
  for (int i = 0; i < NSEND; i++)
    fuv_req_release(reqs[i]);
  free(qs);
  fuv_test_dgrams_free(&dg);
}
END_TEST

START_TEST(closing_cancels_every_queued_send_once) {
  const char *ip = fuv_test_loopback[_i];
  const char *test = "closing_cancels_every_queued_send_once";
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx, *tx;
  struct queue_state *qs = calloc(1, sizeof *qs);
  struct send_ctx ctx[NSEND];
  struct fuv_test_dgrams dg;
  int port, tx_port;
  ck_assert_ptr_nonnull(qs);
  qs->close_at = -1;
  memset(&dg, 0, sizeof dg);
  if (shaped_pair(loop, ip, test, &rx, &tx, &port)) {
    free(qs);
    fuv_test_free_loop(loop);
    return;
  }
  tx_port = fuv_test_udp_port(tx);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  fuv_req_t *reqs[NSEND];
  size_t queued = send_all(tx, ip, port, qs, ctx, reqs);
  FUV_ASSERT_OK(fuv_close(H(tx), queue_on_close, qs));
  ck_assert_int_eq(qs->done, 0);
  /* Closing, the queued ones are being cancelled already. */
  FUV_ASSERT_ERR(fuv_cancel(reqs[NSEND - 1]), FUV_EBUSY);
  fuv_test_run_until(loop, &qs->closed, 1, TIMEOUT_MS);
  /* The requests outlive the handle, and cannot be cancelled now. */
  for (int i = 0; i < NSEND; i++) {
    ck_assert_int_eq(fuv_req_type(reqs[i]), FUV_UDP_SEND);
    FUV_ASSERT_ERR(fuv_cancel(reqs[i]), FUV_EBUSY);
    fuv_req_release(reqs[i]);
  }
  /* Every send got its callback, before the close callback. */
  ck_assert_int_eq(qs->done, NSEND);
  ck_assert_int_eq(qs->done_at_close, NSEND);
  size_t cancelled = 0;
  for (int i = 0; i < NSEND; i++) {
    ck_assert_int_eq(qs->calls[i], 1);
    if (qs->status[i] == FUV_ECANCELED) {
      cancelled++;
      /* The ones sent at once come first; the queued ones are the rest. */
      ck_assert_int_ge(i, NSEND - (int)queued);
    } else {
      FUV_ASSERT_OK(qs->status[i]);
    }
  }
  ck_assert_uint_eq(cancelled, queued);
  /* What was handed to the kernel arrives; nothing cancelled does. */
  fuv_test_run_until(loop, &dg.count, NSEND - (int)queued, TIMEOUT_MS);
  fuv_test_run_for(loop, 200);
  assert_received(&dg, qs, tx_port);
  fuv_test_run_for(loop, 10);
  ck_assert_int_eq(qs->done, NSEND);
  free(qs);
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

/* The callback of a queued send closes the handle: every other send still
 * gets exactly one callback, the ones still queued FUV_ECANCELED, all
 * before the close callback; what was sent arrives. */
START_TEST(closing_from_a_send_callback_cancels_the_rest_once) {
  const char *ip = fuv_test_loopback[_i];
  const char *test = "closing_from_a_send_callback_cancels_the_rest_once";
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx, *tx;
  struct queue_state *qs = calloc(1, sizeof *qs);
  struct send_ctx ctx[NSEND];
  struct fuv_test_dgrams dg;
  int port, tx_port;
  ck_assert_ptr_nonnull(qs);
  memset(&dg, 0, sizeof dg);
  if (shaped_pair(loop, ip, test, &rx, &tx, &port)) {
    free(qs);
    fuv_test_free_loop(loop);
    return;
  }
  tx_port = fuv_test_udp_port(tx);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  size_t queued = send_all(tx, ip, port, qs, ctx, NULL);
  ck_assert_uint_gt(queued, 10);
  /* One of the first few queued: most of the queue is still waiting. */
  qs->close_at = NSEND - (int)queued + 2;
  fuv_test_run_until(loop, &qs->closed, 1, TIMEOUT_MS);
  ck_assert_int_eq(qs->done, NSEND);
  ck_assert_int_eq(qs->done_at_close, NSEND);
  int cancelled = 0;
  for (int i = 0; i < NSEND; i++) {
    ck_assert_int_eq(qs->calls[i], 1);
    if (i <= qs->close_at)
      FUV_ASSERT_OK(qs->status[i]);
    else if (qs->status[i] == FUV_ECANCELED)
      cancelled++;
    else
      FUV_ASSERT_OK(qs->status[i]);
  }
  ck_assert_int_gt(cancelled, 0);
  /* In order, the cancelled ones after all the sent ones. */
  for (int i = 1; i < NSEND; i++)
    ck_assert_int_lt(qs->order[i - 1], qs->order[i]);
  fuv_test_run_until(loop, &dg.count, NSEND - cancelled, TIMEOUT_MS);
  fuv_test_run_for(loop, 200);
  assert_received(&dg, qs, tx_port);
  free(qs);
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

/* try_send_many sends what fits: a prefix, in order, when the buffer
 * fills. Sending the rest as room comes loses and repeats nothing. */
START_TEST(try_send_many_sends_a_prefix_when_the_buffer_fills) {
  const char *ip = fuv_test_loopback[_i];
  const char *test = "try_send_many_sends_a_prefix_when_the_buffer_fills";
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx, *tx;
  struct fuv_test_dgrams dg;
  char *data = malloc((size_t)NSEND * DGRAM);
  const char *bufs[NSEND];
  size_t lens[NSEND];
  int port, first, sent = 0;
  ck_assert_ptr_nonnull(data);
  memset(&dg, 0, sizeof dg);
  if (shaped_pair(loop, ip, test, &rx, &tx, &port)) {
    free(data);
    fuv_test_free_loop(loop);
    return;
  }
  for (int i = 0; i < NSEND; i++) {
    fill_dgram(data + (size_t)i * DGRAM, i);
    bufs[i] = data + (size_t)i * DGRAM;
    lens[i] = DGRAM;
  }
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  first = fuv_udp_try_send_many(tx, bufs, lens, NSEND, ip, port);
  ck_assert_msg(first > 0 && first < NSEND, "try_send_many of %d into a "
                "full buffer sent %d (%s)", NSEND, first,
                first < 0 ? fuv_err_name(first) : "");
  sent = first;
  /* Right away, nothing more fits. */
  int r = fuv_udp_try_send_many(tx, bufs + sent, lens + sent,
                                (size_t)(NSEND - sent), ip, port);
  ck_assert_msg(r == FUV_EAGAIN || r >= 0, "try_send_many gave %s",
                fuv_err_name(r));
  if (r >= 0)
    sent += r;
  /* Nothing was queued by any of it. */
  ck_assert_uint_eq(fuv_udp_get_send_queue_count(tx), 0);
  for (int tries = 0; sent < NSEND; tries++) {
    ck_assert_int_lt(tries, 10000);
    fuv_run(loop, FUV_RUN_NOWAIT);
    fuv_sleep(1);
    r = fuv_udp_try_send_many(tx, bufs + sent, lens + sent,
                              (size_t)(NSEND - sent), ip, port);
    if (r == FUV_EAGAIN)
      continue;
    ck_assert_msg(r > 0, "try_send_many gave %s", fuv_err_name(r));
    sent += r;
  }
  /* EAGAIN for a batch of which none fits is checked where the buffer
   * stays full long enough: send_sync_waits_for_room_within_its_timeout. */
  fuv_test_run_until(loop, &dg.count, NSEND, TIMEOUT_MS);
  fuv_test_run_for(loop, 50);
  ck_assert_int_eq(dg.count, NSEND);
  for (int i = 0; i < NSEND; i++)
    fuv_test_assert_dgram(&dg, i, bufs[i], DGRAM);
  free(data);
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

/* Queued datagrams to two addresses, interleaved: when the queue drains
 * (many per system call), each goes to its own address, and each receiver
 * gets its own in order. */
START_TEST(queued_sends_keep_their_own_addresses) {
  const char *ip = fuv_test_loopback[_i];
  const char *test = "queued_sends_keep_their_own_addresses";
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *udps[3];
  struct fuv_test_dgrams dg[2];
  struct fuv_test_sends sends = {0, 0, 0};
  char buf[DGRAM];
  int ports[2];
  memset(dg, 0, sizeof dg);
  if (shaped_sockets(FAST_QDISC, loop, ip, test, 3, udps, ports)) {
    fuv_test_free_loop(loop);
    return;
  }
  fuv_udp_t *tx = udps[2];
  for (int r = 0; r < 2; r++)
    FUV_ASSERT_OK(fuv_udp_recv_start(udps[r], fuv_test_record_dgram, &dg[r]));
  for (int i = 0; i < NSEND; i++) {
    fill_dgram(buf, i);
    FUV_ASSERT_OK(fuv_udp_send(tx, buf, DGRAM, ip, ports[i % 2],
                               fuv_test_count_send, &sends));
  }
  ck_assert_uint_gt(fuv_udp_get_send_queue_count(tx), 10);
  fuv_test_run_until(loop, &sends.count, NSEND, TIMEOUT_MS);
  ck_assert_int_eq(sends.failed, 0);
  fuv_test_run_until(loop, &dg[0].count, NSEND / 2, TIMEOUT_MS);
  fuv_test_run_until(loop, &dg[1].count, NSEND / 2, TIMEOUT_MS);
  for (int i = 0; i < NSEND; i++) {
    fill_dgram(buf, i);
    fuv_test_assert_dgram(&dg[i % 2], i / 2, buf, DGRAM);
  }
  fuv_test_dgrams_free(&dg[0]);
  fuv_test_dgrams_free(&dg[1]);
  fuv_test_free_loop(loop);
}
END_TEST

/* Queued sends with GSO on: each is still cut into its segments when the
 * queue drains, and the receiver gets every segment in order. */
START_TEST(queued_sends_are_segmented_with_gso) {
  enum { SEG = 500, PER = 3, N = 40 };
  const char *ip = fuv_test_loopback[_i];
  const char *test = "queued_sends_are_segmented_with_gso";
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx, *tx;
  struct fuv_test_dgrams dg;
  struct fuv_test_sends sends = {0, 0, 0};
  char *data = malloc((size_t)N * PER * SEG);
  int port;
  ck_assert_ptr_nonnull(data);
  fuv_test_fill_pattern(data, (size_t)N * PER * SEG, 17);
  memset(&dg, 0, sizeof dg);
  if (shaped_pair(loop, ip, test, &rx, &tx, &port)) {
    free(data);
    fuv_test_free_loop(loop);
    return;
  }
  int r = fuv_udp_set_gso(tx, SEG);
  if (r == FUV_ENOTSUP) {
    printf("SKIPPED %s: fuv_udp_set_gso gave ENOTSUP: this kernel has no "
           "UDP_SEGMENT\n", test);
    free(data);
    fuv_test_free_loop(loop);
    return;
  }
  FUV_ASSERT_OK(r);
  FUV_ASSERT_OK(fuv_udp_recv_start(rx, fuv_test_record_dgram, &dg));
  for (int i = 0; i < N; i++)
    FUV_ASSERT_OK(fuv_udp_send(tx, data + (size_t)i * PER * SEG, PER * SEG,
                               ip, port, fuv_test_count_send, &sends));
  ck_assert_uint_gt(fuv_udp_get_send_queue_count(tx), 0);
  fuv_test_run_until(loop, &sends.count, N, TIMEOUT_MS);
  ck_assert_int_eq(sends.failed, 0);
  fuv_test_run_until(loop, &dg.count, N * PER, TIMEOUT_MS);
  for (int k = 0; k < N * PER; k++)
    fuv_test_assert_dgram(&dg, k, data + (size_t)k * SEG, SEG);
  free(data);
  fuv_test_dgrams_free(&dg);
  fuv_test_free_loop(loop);
}
END_TEST

/* fuv_udp_send_sync waits for room in a full buffer: no longer than its
 * timeout (ETIMEDOUT, no earlier than asked and within a generous bound,
 * a sanity check rather than a timing goal), and sends once room comes. */
START_TEST(send_sync_waits_for_room_within_its_timeout) {
  enum { WAIT_MS = 50 };
  const char *ip = fuv_test_loopback[_i];
  const char *test = "send_sync_waits_for_room_within_its_timeout";
  fuv_loop_t *loop = new_loop();
  fuv_udp_t *rx, *tx;
  char buf[SLOW_DGRAM], got[SLOW_DGRAM], from[FUV_IP_NAME_MAX];
  int port, from_port, n = 0, r;
  if (shaped_pair_with(SLOW_QDISC, loop, ip, test, &rx, &tx, &port)) {
    fuv_test_free_loop(loop);
    return;
  }
  /* try_send queues nothing: fill the kernel's buffer with it. */
  for (;;) {
    fuv_test_fill_pattern(buf, SLOW_DGRAM, (uint64_t)n * SLOW_DGRAM);
    r = fuv_udp_try_send(tx, buf, SLOW_DGRAM, ip, port);
    if (r == FUV_EAGAIN)
      break;
    ck_assert_int_eq(r, SLOW_DGRAM);
    ck_assert_int_lt(++n, 1000);
  }
  ck_assert_uint_eq(fuv_udp_get_send_queue_count(tx), 0);
  /* A batch of which not even the first fits is EAGAIN. */
  const char *batch[2] = {buf, buf};
  size_t lens[2] = {SLOW_DGRAM, SLOW_DGRAM};
  FUV_ASSERT_ERR(fuv_udp_try_send_many(tx, batch, lens, 2, ip, port),
                 FUV_EAGAIN);
  FUV_ASSERT_ERR(fuv_udp_send_sync(tx, buf, SLOW_DGRAM, ip, port, 0),
                 FUV_ETIMEDOUT);
  double start = fuv_test_now_ms();
  FUV_ASSERT_ERR(fuv_udp_send_sync(tx, buf, SLOW_DGRAM, ip, port, WAIT_MS),
                 FUV_ETIMEDOUT);
  fuv_test_assert_took(start, WAIT_MS, "fuv_udp_send_sync");
  /* Given time, it goes. */
  r = fuv_udp_send_sync(tx, buf, SLOW_DGRAM, ip, port, 20000);
  ck_assert_msg(r == 0 || r == SLOW_DGRAM, "fuv_udp_send_sync returned %s",
                fuv_err_name(r));
  n++;
  /* None was lost, none sent twice: the timed-out ones sent nothing. */
  for (int i = 0; i < n; i++) {
    fuv_test_fill_pattern(buf, SLOW_DGRAM, (uint64_t)i * SLOW_DGRAM);
    ck_assert_int_eq(fuv_udp_recv_sync(rx, got, sizeof got, from, sizeof from,
                                       &from_port, 20000),
                     SLOW_DGRAM);
    ck_assert_msg(memcmp(got, buf, SLOW_DGRAM) == 0, "datagram %d is wrong",
                  i);
  }
  FUV_ASSERT_ERR(fuv_udp_recv_sync(rx, got, sizeof got, from, sizeof from,
                                   &from_port, 300),
                 FUV_ETIMEDOUT);
  fuv_test_free_loop(loop);
}
END_TEST

static Suite *udp_queue_suite(void) {
  Suite *s = suite_create("udp_queue_" FUV_TEST_BACKEND);
  TCase *tc = tcase_create("queue");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, queued_sends_complete_in_order_and_all_arrive, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, a_cancelled_send_is_not_sent_and_gets_ecanceled, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, closing_cancels_every_queued_send_once, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, closing_from_a_send_callback_cancels_the_rest_once,
                      0, FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, queued_sends_keep_their_own_addresses, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, queued_sends_are_segmented_with_gso, 0,
                      FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, try_send_many_sends_a_prefix_when_the_buffer_fills,
                      0, FUV_TEST_NFAMILIES);
  tcase_add_loop_test(tc, send_sync_waits_for_room_within_its_timeout, 0,
                      FUV_TEST_NFAMILIES);
  suite_add_tcase(s, tc);
  return s;
}

FUV_TEST_MAIN(udp_queue_suite)
