/*
 * echo_udp_libuv - the peer: a UDP echo server on the system's libuv,
 * written as a careful libuv user writes one.
 *
 *  - UV_UDP_RECVMMSG with one static receive area of 20 x 64 KiB (libuv
 *    cuts it into 64 KiB slots and reads at most 20 datagrams per
 *    recvmmsg(2)): receiving allocates nothing. The chunks come with
 *    UV_UDP_MMSG_CHUNK and the last call (UV_UDP_MMSG_FREE, nread 0, no
 *    address) has nothing to free, since the area is static.
 *  - uv_udp_try_send() first, so the usual case is one sendmsg(2) and no
 *    request; only when the kernel's buffer is full (UV_EAGAIN, also
 *    returned while sends are queued, which keeps their order) is the
 *    datagram copied into a malloc'd request and queued with
 *    uv_udp_send().
 *
 * Usage: echo_udp_libuv PORT. Binds 127.0.0.1:PORT, prints "listening
 * PORT" when ready, and exits cleanly (every handle closed, loop closed)
 * on SIGTERM or SIGINT.
 */
/* uv.h needs the POSIX thread types, which strict C99 hides. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define SLOT_SIZE (64 * 1024) /* libuv's slot per datagram with recvmmsg */
#define SLOTS 20              /* libuv reads at most 20 per recvmmsg(2) */

/* A queued datagram: the request and its bytes, in one block. */
typedef struct {
  uv_udp_send_t req;
  char data[];
} queued_send_t;

static char receive_area[SLOT_SIZE * SLOTS];
static uv_udp_t udp;
static uv_signal_t sigterm_watcher, sigint_watcher;

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf) {
  (void)handle;
  (void)suggested;
  *buf = uv_buf_init(receive_area, sizeof receive_area);
}

static void on_sent(uv_udp_send_t *req, int status) {
  if (status < 0)
    fprintf(stderr, "echo_udp_libuv: send: %s\n", uv_strerror(status));
  free(req);
}

/* Copies the datagram and queues it: the kernel had no room for it now. */
static int queue_send(const uv_buf_t *data, const struct sockaddr *addr) {
  queued_send_t *q = malloc(sizeof *q + data->len);
  uv_buf_t copy;
  int rc;
  if (q == NULL)
    return UV_ENOMEM;
  memcpy(q->data, data->base, data->len);
  copy = uv_buf_init(q->data, (unsigned int)data->len);
  rc = uv_udp_send(&q->req, &udp, &copy, 1, addr, on_sent);
  if (rc < 0)
    free(q);
  return rc;
}

static void on_recv(uv_udp_t *handle, ssize_t nread, const uv_buf_t *buf,
                    const struct sockaddr *addr, unsigned flags) {
  uv_buf_t echo;
  int rc;
  (void)flags;
  /* nread 0 with no address is "nothing more" (or the end of a recvmmsg
   * batch); an error is an ICMP report for a client that went away. */
  if (nread < 0 || addr == NULL)
    return;
  echo = uv_buf_init(buf->base, (unsigned int)nread);
  rc = uv_udp_try_send(handle, &echo, 1, addr);
  if (rc == UV_EAGAIN)
    rc = queue_send(&echo, addr);
  if (rc < 0)
    fprintf(stderr, "echo_udp_libuv: send: %s\n", uv_strerror(rc));
}

static void close_one(uv_handle_t *handle, void *arg) {
  (void)arg;
  uv_close(handle, NULL);
}

static void on_stop_signal(uv_signal_t *watcher, int signum) {
  (void)signum;
  uv_walk(watcher->loop, close_one, NULL);
}

int main(int argc, char **argv) {
  uv_loop_t *loop = uv_default_loop();
  struct sockaddr_in addr;
  int rc;

  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  uv_ip4_addr("127.0.0.1", atoi(argv[1]), &addr);
  rc = uv_udp_init_ex(loop, &udp, AF_INET | UV_UDP_RECVMMSG);
  if (rc == 0)
    rc = uv_udp_bind(&udp, (const struct sockaddr *)&addr, 0);
  if (rc == 0)
    rc = uv_udp_recv_start(&udp, on_alloc, on_recv);
  if (rc != 0) {
    fprintf(stderr, "echo_udp_libuv: %s\n", uv_strerror(rc));
    return 1;
  }
  uv_signal_init(loop, &sigterm_watcher);
  uv_signal_start(&sigterm_watcher, on_stop_signal, SIGTERM);
  uv_signal_init(loop, &sigint_watcher);
  uv_signal_start(&sigint_watcher, on_stop_signal, SIGINT);
  printf("listening %s\n", argv[1]);
  fflush(stdout);

  uv_run(loop, UV_RUN_DEFAULT);
  rc = uv_loop_close(loop);
  return rc == 0 ? 0 : 1;
}
