/*
 * echo_udp_raw - the floor: a UDP echo server on raw epoll, recvmmsg(2)
 * and sendmmsg(2), with none of an event loop's bookkeeping. Each wake-up
 * takes up to BATCH datagrams with one recvmmsg and sends them all back
 * with one sendmmsg, each to the address it came from; only when the
 * kernel's send buffer is full does it wait (poll for POLLOUT) and send
 * the rest. No datagram is dropped, none copied.
 *
 * Usage: echo_udp_raw PORT. Binds 127.0.0.1:PORT, prints "listening PORT"
 * when ready, and exits on SIGTERM or SIGINT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64
#define SLOT_SIZE 65536 /* larger than any UDP payload */

static char slots[BATCH][SLOT_SIZE];
static struct mmsghdr msgs[BATCH];
static struct iovec iovs[BATCH];
static struct sockaddr_in peers[BATCH];
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int signo) {
  (void)signo;
  stop_requested = 1;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static int bind_on(int port) {
  struct sockaddr_in addr;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    die("socket");
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
    die("bind");
  return fd;
}

/* Points every message header at its slot and its address, ready for a
 * receive: recvmmsg writes the lengths, which sendmmsg then reads. */
static void reset_headers(void) {
  int i;
  for (i = 0; i < BATCH; i++) {
    iovs[i].iov_base = slots[i];
    iovs[i].iov_len = SLOT_SIZE;
    memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &peers[i];
    msgs[i].msg_hdr.msg_namelen = sizeof peers[i];
  }
}

/* Sends the n datagrams just received back where they came from, waiting
 * for room when the kernel's buffer is full. */
static void echo_batch(int fd, int n) {
  int i, sent = 0;
  for (i = 0; i < n; i++)
    iovs[i].iov_len = msgs[i].msg_len;
  while (sent < n) {
    int r = sendmmsg(fd, msgs + sent, (unsigned int)(n - sent), 0);
    if (r > 0) {
      sent += r;
    } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pollfd p = {fd, POLLOUT, 0};
      poll(&p, 1, -1);
    } else if (r < 0 && errno != EINTR) {
      /* An ICMP error of a client gone away: skip its datagram. */
      sent++;
    }
  }
}

/* Echoes everything waiting, BATCH datagrams at a time. */
static void drain(int fd) {
  for (;;) {
    int n;
    reset_headers();
    n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
      return; /* EAGAIN, or a pending ICMP error the next call clears */
    echo_batch(fd, n);
    if (n < BATCH)
      return; /* level-triggered: epoll says when more has come */
  }
}

int main(int argc, char **argv) {
  struct epoll_event ev, events[1];
  struct sigaction sa;
  int epfd, fd;

  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal; /* no SA_RESTART: epoll_wait returns */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  fd = bind_on(atoi(argv[1]));
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0)
    die("epoll_create1");
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
    die("epoll_ctl");
  printf("listening %s\n", argv[1]);
  fflush(stdout);

  while (!stop_requested) {
    int n = epoll_wait(epfd, events, 1, -1);
    if (n < 0 && errno != EINTR)
      die("epoll_wait");
    if (n > 0)
      drain(fd);
  }
  close(epfd);
  close(fd);
  return 0;
}
