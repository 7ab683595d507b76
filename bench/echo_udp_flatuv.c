/*
 * echo_udp_flatuv - the UDP echo server on flatuv's C API, written as a
 * careful flatuv user would write it:
 *
 *  - FUV_UDP_RECVMMSG, so one recvmmsg(2) takes every datagram waiting
 *    (up to what the loop's receive area holds).
 *  - fuv_udp_try_send_addr() first: the usual case is one sendto(2) and
 *    no request. Only when the kernel's buffer is full (FUV_EAGAIN) does
 *    fuv_udp_send_addr() copy the datagram and queue it, which keeps the
 *    order too, since try_send refuses while sends are queued.
 *
 * Usage: echo_udp_flatuv PORT. Binds 127.0.0.1:PORT, prints "listening
 * PORT" when ready, and exits cleanly (every handle closed, loop freed) on
 * SIGTERM or SIGINT.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flatuv.h"

/* Set before the signal handlers are installed, read by them. */
static fuv_async_t *volatile stop_async;

static void on_stop_signal(int signo) {
  (void)signo;
  fuv_async_send(stop_async); /* documented as safe in a signal handler */
}

static void close_one(fuv_handle_t *handle, void *arg) {
  (void)arg;
  fuv_close(handle, NULL, NULL);
}

static void on_stop(fuv_async_t *async, void *arg) {
  (void)arg;
  fuv_walk(fuv_handle_loop((fuv_handle_t *)async), close_one, NULL);
}

static void on_recv(fuv_udp_t *udp, ssize_t nread, const char *buf,
                    const struct sockaddr *addr, unsigned int flags,
                    void *arg) {
  int rc;
  (void)flags;
  (void)arg;
  /* An error (an ICMP report for a client that went away) has no datagram
   * to echo; the server goes on with the others. */
  if (nread < 0 || addr == NULL)
    return;
  rc = fuv_udp_try_send_addr(udp, buf, (size_t)nread, addr);
  if (rc == FUV_EAGAIN)
    rc = fuv_udp_send_addr(udp, buf, (size_t)nread, addr, NULL, NULL);
  if (rc < 0)
    fprintf(stderr, "echo_udp_flatuv: send: %s\n", fuv_strerror(rc));
}

static int start(fuv_loop_t *loop, int port) {
  fuv_udp_t *udp;
  fuv_async_t *async;
  int rc = fuv_udp_new_ex(&udp, loop, FUV_AF_INET, FUV_UDP_RECVMMSG);
  if (rc == 0)
    rc = fuv_udp_bind(udp, "127.0.0.1", port, 0);
  if (rc == 0)
    rc = fuv_udp_recv_start(udp, on_recv, NULL);
  if (rc == 0)
    rc = fuv_async_new(&async, loop, on_stop, NULL);
  if (rc == 0)
    stop_async = async;
  return rc;
}

int main(int argc, char **argv) {
  struct sigaction sa;
  fuv_loop_t *loop;
  int rc;

  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  rc = fuv_loop_new(&loop);
  if (rc == 0)
    rc = start(loop, atoi(argv[1]));
  if (rc != 0) {
    fprintf(stderr, "echo_udp_flatuv: %s: %s\n", fuv_err_name(rc),
            fuv_strerror(rc));
    return 1;
  }
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  printf("listening %s\n", argv[1]);
  fflush(stdout);

  rc = fuv_run(loop, FUV_RUN_DEFAULT);
  if (rc < 0)
    fprintf(stderr, "echo_udp_flatuv: run: %s\n", fuv_strerror(rc));
  rc = fuv_loop_free(loop);
  if (rc != 0) {
    fprintf(stderr, "echo_udp_flatuv: loop_free: %s\n", fuv_strerror(rc));
    return 1;
  }
  return 0;
}
