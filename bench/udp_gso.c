/*
 * udp_gso - bulk UDP sending on flatuv: 1200-byte datagrams (a QUIC-sized
 * payload) sent as fast as one thread can over loopback, three ways:
 *
 *   single  one fuv_udp_try_send() per datagram: one sendmsg(2) each
 *   many    fuv_udp_try_send_many(): SEGMENTS datagrams per sendmmsg(2)
 *   gso     fuv_udp_set_gso(1200) and one fuv_udp_try_send() of SEGMENTS
 *           datagrams' bytes, which the kernel cuts into 1200-byte
 *           datagrams (UDP_SEGMENT): one sendmsg(2) per SEGMENTS
 *
 * A receiver thread drains the sink socket with recvmmsg(2) and counts
 * what arrived, so a mode that only fills the kernel's queues faster than
 * they empty is not mistaken for a faster one. The sender's CPU time is
 * its own thread's (RUSAGE_THREAD).
 *
 * Usage: udp_gso [--mode single|many|gso|all] [--seconds S] [--segments N]
 * Output, one line per mode:
 *   mode=gso sent_bytes_per_s=... recv_bytes_per_s=... sent_dgrams=...
 *   recv_dgrams=... sends=... eagain=... cpu_ns_per_dgram=...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "flatuv.h"

#define DATAGRAM 1200
#define MAX_SEGMENTS 54 /* 54 x 1200 = 64800 bytes: under IPv4's 65507 */
#define RECV_BATCH 64

typedef struct {
  int fd;
  volatile int stop;
  uint64_t bytes, datagrams;
} sink_t;

typedef struct {
  uint64_t sends, datagrams, eagain;
} tally_t;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double thread_cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

/* A loopback socket with a large receive buffer (as a bulk receiver sets)
 * and a timeout, so the receiver thread notices the end of a run. */
static int open_sink(int *port) {
  struct sockaddr_in addr;
  socklen_t len = sizeof addr;
  struct timeval tv = {0, 100000};
  int size = 8 << 20;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    die("socket");
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
      getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
    die("bind");
  *port = ntohs(addr.sin_port);
  return fd;
}

/* Counts every datagram and byte that reaches the sink. */
static void *drain_sink(void *arg) {
  static char slots[RECV_BATCH][DATAGRAM];
  struct mmsghdr msgs[RECV_BATCH];
  struct iovec iovs[RECV_BATCH];
  sink_t *sink = arg;
  int i;
  memset(msgs, 0, sizeof msgs);
  for (i = 0; i < RECV_BATCH; i++) {
    iovs[i].iov_base = slots[i];
    iovs[i].iov_len = DATAGRAM;
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  while (!sink->stop) {
    int n = recvmmsg(sink->fd, msgs, RECV_BATCH, MSG_WAITFORONE, NULL);
    for (i = 0; i < n; i++) {
      sink->bytes += msgs[i].msg_len;
      sink->datagrams++;
    }
  }
  return NULL;
}

/* One send of the mode's unit: one datagram, or segments of them. A full
 * send buffer (FUV_EAGAIN) is counted and the send tried again later. */
static void send_unit(fuv_udp_t *udp, const char *mode, const char *buf,
                      int segments, tally_t *t) {
  int rc;
  t->sends++;
  if (strcmp(mode, "single") == 0) {
    rc = fuv_udp_try_send(udp, buf, DATAGRAM, NULL, 0);
    rc = rc > 0 ? 1 : rc;
  } else if (strcmp(mode, "gso") == 0) {
    rc = fuv_udp_try_send(udp, buf, (size_t)segments * DATAGRAM, NULL, 0);
    rc = rc > 0 ? segments : rc;
  } else {
    const char *bufs[MAX_SEGMENTS];
    size_t lens[MAX_SEGMENTS];
    int i;
    for (i = 0; i < segments; i++) {
      bufs[i] = buf + (size_t)i * DATAGRAM;
      lens[i] = DATAGRAM;
    }
    rc = fuv_udp_try_send_many(udp, bufs, lens, (size_t)segments, NULL, 0);
  }
  if (rc == FUV_EAGAIN) {
    t->eagain++;
  } else if (rc < 0) {
    fprintf(stderr, "udp_gso: %s: %s\n", mode, fuv_strerror(rc));
    exit(1);
  } else {
    t->datagrams += (uint64_t)rc;
  }
}

static int run_mode(fuv_loop_t *loop, const char *mode, double seconds,
                    int segments) {
  static char buf[MAX_SEGMENTS * DATAGRAM];
  sink_t sink = {0, 0, 0, 0};
  tally_t t = {0, 0, 0};
  pthread_t thread;
  fuv_udp_t *udp;
  double start, elapsed, cpu;
  int port, rc;

  memset(buf, 'x', sizeof buf);
  sink.fd = open_sink(&port);
  if (pthread_create(&thread, NULL, drain_sink, &sink) != 0)
    die("pthread_create");
  rc = fuv_udp_new_ex(&udp, loop, FUV_AF_INET, 0);
  if (rc == 0)
    rc = fuv_udp_connect(udp, "127.0.0.1", port);
  if (rc == 0 && strcmp(mode, "gso") == 0)
    rc = fuv_udp_set_gso(udp, DATAGRAM);
  if (rc != 0) {
    fprintf(stderr, "udp_gso: %s: %s\n", mode, fuv_strerror(rc));
    return 1;
  }
  start = now_s();
  cpu = thread_cpu_s();
  do {
    send_unit(udp, mode, buf, segments, &t);
  } while ((elapsed = now_s() - start) < seconds);
  cpu = thread_cpu_s() - cpu;
  usleep(200000); /* what is in flight reaches the sink */
  sink.stop = 1;
  pthread_join(thread, NULL);
  close(sink.fd);
  fuv_close((fuv_handle_t *)udp, NULL, NULL);
  fuv_run(loop, FUV_RUN_DEFAULT);
  printf("mode=%s sent_bytes_per_s=%.0f recv_bytes_per_s=%.0f "
         "sent_dgrams=%llu recv_dgrams=%llu sends=%llu eagain=%llu "
         "cpu_ns_per_dgram=%.1f\n",
         mode, (double)t.datagrams * DATAGRAM / elapsed,
         (double)sink.bytes / elapsed, (unsigned long long)t.datagrams,
         (unsigned long long)sink.datagrams, (unsigned long long)t.sends,
         (unsigned long long)t.eagain,
         t.datagrams ? cpu * 1e9 / (double)t.datagrams : 0.0);
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv) {
  static const char *const modes[] = {"single", "many", "gso"};
  const char *mode = "all";
  double seconds = 2.0;
  int segments = 50, i, rc = 0;
  fuv_loop_t *loop;

  for (i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--mode") == 0)
      mode = argv[i + 1];
    else if (strcmp(argv[i], "--seconds") == 0)
      seconds = atof(argv[i + 1]);
    else if (strcmp(argv[i], "--segments") == 0)
      segments = atoi(argv[i + 1]);
  }
  if (i != argc || seconds <= 0 || segments < 1 || segments > MAX_SEGMENTS) {
    fprintf(stderr, "usage: %s [--mode single|many|gso|all] [--seconds S] "
                    "[--segments 1-%d]\n", argv[0], MAX_SEGMENTS);
    return 2;
  }
  if (fuv_loop_new(&loop) != 0)
    return 1;
  for (i = 0; i < 3 && rc == 0; i++)
    if (strcmp(mode, "all") == 0 || strcmp(mode, modes[i]) == 0)
      rc = run_mode(loop, modes[i], seconds, segments);
  fuv_loop_free(loop);
  return rc;
}
