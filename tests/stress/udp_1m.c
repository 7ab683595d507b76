/*
 * udp_1m: 1,000,000 datagrams through a UDP echo on loopback, one loop,
 * with a window of 1024 datagrams in flight and 4 MiB socket buffers. Each
 * datagram carries its sequence number and 56 bytes of the pattern of that
 * number; the client counts the echoes lost, duplicated, reordered (a
 * number below one already seen) and corrupted, and prints the counts. On
 * loopback with the window well under the buffers nothing may be lost or
 * duplicated (nor corrupted); reordering is reported only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stress.h"

#define DATAGRAMS 1000000u
#define WINDOW 1024u
#define PAYLOAD 56u
#define BUFFER_SIZE (4 * 1024 * 1024)
#define STALL_MS 2000 /* no echo for this long: the rest is lost */

typedef struct {
  fuv_udp_t *server, *client;
  int server_port;
  uint32_t sent, received, lost, duplicated, reordered, corrupted;
  int64_t highest;
  unsigned char *seen; /* one byte per sequence number: echoes of it */
  uint64_t last_progress;
  int send_errors;
} udp_1m_t;

/* Writes datagram number seq into buf (sequence number, then pattern). */
static void datagram_fill(uint32_t seq, char *buf) {
  memcpy(buf, &seq, sizeof seq);
  stress_fill_pattern(seq, 0, buf + sizeof seq, PAYLOAD);
}

/* Sends until the window is full or every datagram was sent. */
static void window_fill(udp_1m_t *u) {
  char buf[sizeof(uint32_t) + PAYLOAD];
  while (u->sent < DATAGRAMS && u->sent - u->received < WINDOW) {
    datagram_fill(u->sent, buf);
    if (fuv_udp_send(u->client, buf, sizeof buf, "127.0.0.1", u->server_port,
                     NULL, NULL) < 0) {
      u->send_errors++;
      return;
    }
    u->sent++;
  }
}

static void server_recv_cb(fuv_udp_t *udp, ssize_t nread, const char *buf,
                           const struct sockaddr *addr, unsigned flags,
                           void *arg) {
  udp_1m_t *u = arg;
  (void)flags;
  if (nread < 0 || fuv_udp_send_addr(udp, buf, (size_t)nread, addr, NULL,
                                     NULL) < 0)
    u->send_errors++;
}

/* Classifies one echo; stops the loop once every datagram came back. */
static void client_recv_cb(fuv_udp_t *udp, ssize_t nread, const char *buf,
                           const struct sockaddr *addr, unsigned flags,
                           void *arg) {
  udp_1m_t *u = arg;
  uint32_t seq;
  (void)addr;
  if (nread != (ssize_t)(sizeof seq + PAYLOAD) || (flags & FUV_UDP_PARTIAL)) {
    u->corrupted++;
    return;
  }
  memcpy(&seq, buf, sizeof seq);
  if (seq >= u->sent ||
      stress_match_pattern(seq, 0, buf + sizeof seq, PAYLOAD) != PAYLOAD) {
    u->corrupted++;
    return;
  }
  if (u->seen[seq]++ != 0) {
    u->duplicated++;
    return;
  }
  if ((int64_t)seq < u->highest) u->reordered++;
  if ((int64_t)seq > u->highest) u->highest = seq;
  u->received++;
  u->last_progress = fuv_now(fuv_handle_loop((fuv_handle_t *)udp));
  if (u->received == DATAGRAMS)
    fuv_stop(fuv_handle_loop((fuv_handle_t *)udp));
  else
    window_fill(u);
}

/* A window lost whole would stall the echo for ever: after STALL_MS with
 * no echo the rest counts as lost. */
static void stall_cb(fuv_timer_t *t, void *arg) {
  udp_1m_t *u = arg;
  if (fuv_now(fuv_handle_loop((fuv_handle_t *)t)) - u->last_progress >
      STALL_MS)
    fuv_stop(fuv_handle_loop((fuv_handle_t *)t));
}

static fuv_udp_t *udp_bound(fuv_loop_t *loop, int *port) {
  fuv_udp_t *udp = NULL;
  char ip[FUV_IP_NAME_MAX];
  STRESS_CHECK(fuv_udp_new(&udp, loop) == 0, "udp_new");
  STRESS_CHECK(fuv_udp_bind(udp, "127.0.0.1", 0, 0) == 0, "bind");
  STRESS_CHECK(fuv_set_send_buffer_size((fuv_handle_t *)udp, BUFFER_SIZE) == 0,
               "send buffer");
  STRESS_CHECK(fuv_set_recv_buffer_size((fuv_handle_t *)udp, BUFFER_SIZE) == 0,
               "recv buffer");
  STRESS_CHECK(fuv_udp_getsockname(udp, ip, sizeof ip, port) == 0,
               "getsockname");
  return udp;
}

int main(void) {
  fuv_loop_t *loop = NULL;
  fuv_timer_t *stall = NULL;
  udp_1m_t u;
  int client_port = 0, timed_out;
  double start;
  memset(&u, 0, sizeof u);
  u.highest = -1;
  u.seen = calloc(DATAGRAMS, 1);
  if (u.seen == NULL || fuv_loop_new(&loop) != 0) return 1;
  u.server = udp_bound(loop, &u.server_port);
  u.client = udp_bound(loop, &client_port);
  STRESS_CHECK(fuv_timer_new(&stall, loop) == 0, "timer");
  STRESS_CHECK(fuv_timer_start(stall, stall_cb, 250, 250, &u) == 0, "timer");
  STRESS_CHECK(fuv_udp_recv_start(u.server, server_recv_cb, &u) == 0, "recv");
  STRESS_CHECK(fuv_udp_recv_start(u.client, client_recv_cb, &u) == 0, "recv");
  start = stress_now();
  u.last_progress = fuv_now(loop);
  window_fill(&u);
  timed_out = stress_run(loop, 300000);
  u.lost = DATAGRAMS - u.received;
  printf("udp_1m: %u datagrams sent, %u echoed in %.1f s; lost %u, "
         "duplicated %u, reordered %u, corrupted %u, send errors %d\n",
         u.sent, u.received, stress_now() - start, u.lost, u.duplicated,
         u.reordered, u.corrupted, u.send_errors);
  STRESS_CHECK(!timed_out, "the run took over 300 s");
  STRESS_CHECK(u.sent == DATAGRAMS, "sent %u", u.sent);
  STRESS_CHECK(u.lost == 0, "lost %u", u.lost);
  STRESS_CHECK(u.duplicated == 0, "duplicated %u", u.duplicated);
  STRESS_CHECK(u.corrupted == 0, "corrupted %u", u.corrupted);
  STRESS_CHECK(u.send_errors == 0, "send errors %d", u.send_errors);
  STRESS_CHECK(stress_free_loop(loop) == 0, "loop freed");
  free(u.seen);
  return stress_summary("udp_1m");
}
