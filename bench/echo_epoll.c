/*
 * echo_epoll - the floor: a minimal level-triggered epoll echo server.
 *
 * Per request it makes the fewest system calls an event loop can: one
 * read into a static buffer, one write straight back, and a share of one
 * epoll_wait. Only what the kernel does not take at once is copied, into a
 * per-connection buffer that is flushed on EPOLLOUT.
 *
 * Usage: echo_epoll PORT | echo_epoll NAME. A number is a TCP port on
 * 127.0.0.1; anything else is a Unix domain stream socket: a filesystem
 * path (removed again at exit), or @NAME for an abstract name. Prints
 * "listening PORT" (or NAME) when ready, and exits cleanly on SIGTERM or
 * SIGINT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define READ_BUFFER_SIZE (64 * 1024)
#define MAX_EVENTS 1024

typedef struct {
  int fd;
  char *pending; /* bytes the kernel has not taken yet */
  size_t pending_len;
  size_t pending_cap;
  int watching_out;
} conn_t;

static char read_buffer[READ_BUFFER_SIZE];
static int is_tcp; /* TCP_NODELAY applies to TCP connections only */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int signo) {
  (void)signo;
  stop_requested = 1;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static int listen_on(int port) {
  struct sockaddr_in addr;
  int fd, one = 1;
  fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    die("socket");
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
    die("setsockopt");
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
    die("bind");
  if (listen(fd, 511) != 0)
    die("listen");
  return fd;
}

/* A Unix domain stream socket at name: a path, or @name (abstract). */
static int listen_unix(const char *name) {
  struct sockaddr_un addr;
  size_t len = strlen(name);
  socklen_t addrlen = (socklen_t)sizeof addr;
  int fd;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (len >= sizeof addr.sun_path) {
    fprintf(stderr, "echo_epoll: name too long: %s\n", name);
    exit(1);
  }
  memcpy(addr.sun_path, name, len);
  if (name[0] == '@') {
    addr.sun_path[0] = '\0';
    addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
  }
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    die("socket");
  if (bind(fd, (struct sockaddr *)&addr, addrlen) != 0)
    die("bind");
  if (listen(fd, 511) != 0)
    die("listen");
  return fd;
}

/* All digits: a TCP port. */
static int is_port(const char *s) {
  if (*s == '\0')
    return 0;
  for (; *s != '\0'; s++)
    if (*s < '0' || *s > '9')
      return 0;
  return 1;
}

static void set_interest(int epfd, conn_t *c, int want_out) {
  struct epoll_event ev;
  ev.events = EPOLLIN | (want_out ? EPOLLOUT : 0);
  ev.data.ptr = c;
  if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
    die("epoll_ctl");
  c->watching_out = want_out;
}

static void close_conn(int epfd, conn_t *c) {
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c->pending);
  free(c);
}

static void accept_one(int epfd, int listen_fd) {
  struct epoll_event ev;
  conn_t *c;
  int one = 1;
  int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0)
    return; /* EAGAIN, or an aborted connection: nothing to do */
  if (is_tcp)
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c = calloc(1, sizeof *c);
  if (c == NULL) {
    close(fd);
    return;
  }
  c->fd = fd;
  ev.events = EPOLLIN;
  ev.data.ptr = c;
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
    die("epoll_ctl");
}

/* Appends data to the connection's pending bytes. Returns 0 or -1. */
static int keep_pending(conn_t *c, const char *data, size_t len) {
  if (c->pending_len + len > c->pending_cap) {
    size_t cap = c->pending_cap ? c->pending_cap : 4096;
    char *p;
    while (cap < c->pending_len + len)
      cap *= 2;
    p = realloc(c->pending, cap);
    if (p == NULL)
      return -1;
    c->pending = p;
    c->pending_cap = cap;
  }
  memcpy(c->pending + c->pending_len, data, len);
  c->pending_len += len;
  return 0;
}

/* Writes what it can of data; the rest is kept for EPOLLOUT. Returns 0 or
 * -1 when the connection is broken. */
static int echo(int epfd, conn_t *c, const char *data, size_t len) {
  ssize_t n = 0;
  if (c->pending_len == 0) {
    n = send(c->fd, data, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        return -1;
      n = 0;
    }
  }
  if ((size_t)n == len)
    return 0;
  if (keep_pending(c, data + n, len - (size_t)n) != 0)
    return -1;
  if (!c->watching_out)
    set_interest(epfd, c, 1);
  return 0;
}

/* Flushes pending bytes on EPOLLOUT. Returns 0 or -1. */
static int flush_pending(int epfd, conn_t *c) {
  ssize_t n = send(c->fd, c->pending, c->pending_len, MSG_NOSIGNAL);
  if (n < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
  memmove(c->pending, c->pending + n, c->pending_len - (size_t)n);
  c->pending_len -= (size_t)n;
  if (c->pending_len == 0)
    set_interest(epfd, c, 0);
  return 0;
}

static void on_conn_event(int epfd, conn_t *c, unsigned events) {
  if (events & EPOLLOUT) {
    if (flush_pending(epfd, c) != 0) {
      close_conn(epfd, c);
      return;
    }
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    ssize_t n = recv(c->fd, read_buffer, sizeof read_buffer, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      close_conn(epfd, c);
      return;
    }
    if (n > 0 && echo(epfd, c, read_buffer, (size_t)n) != 0)
      close_conn(epfd, c);
  }
}

int main(int argc, char **argv) {
  struct epoll_event ev, events[MAX_EVENTS];
  struct sigaction sa;
  int epfd, listen_fd, i;
  const char *endpoint;

  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT | %s NAME\n", argv[0], argv[0]);
    return 2;
  }
  endpoint = argv[1];
  is_tcp = is_port(endpoint);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal; /* no SA_RESTART: epoll_wait returns */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  listen_fd = is_tcp ? listen_on(atoi(endpoint)) : listen_unix(endpoint);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0)
    die("epoll_create1");
  ev.events = EPOLLIN;
  ev.data.ptr = NULL; /* NULL marks the listening socket */
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev) != 0)
    die("epoll_ctl");
  printf("listening %s\n", endpoint);
  fflush(stdout);

  while (!stop_requested) {
    int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      die("epoll_wait");
    }
    for (i = 0; i < n; i++) {
      if (events[i].data.ptr == NULL)
        accept_one(epfd, listen_fd);
      else
        on_conn_event(epfd, events[i].data.ptr, events[i].events);
    }
  }
  /* Open connections are reclaimed by the kernel at exit; this server
   * exists to be measured, not to drain. */
  close(epfd);
  close(listen_fd);
  if (!is_tcp && endpoint[0] != '@')
    unlink(endpoint);
  return 0;
}
