/*
 * fuv_loadgen - a closed-loop echo load generator.
 *
 * Each of N connections sends an M-byte message, waits until all M bytes
 * have come back, checks them byte for byte and sends the next message.
 * One thread drives every connection with level-triggered epoll, so the
 * generator costs about what a minimal echo server costs per request and
 * is not the bottleneck when it has a core of its own.
 *
 * Messages are slices of one pseudo-random pool taken at a pseudo-random
 * offset per message, so consecutive messages differ (a server that
 * repeats, reorders or mixes connections up is caught) and no byte has to
 * be generated on the hot path. The pool is eight messages long (at least
 * 256 KiB): long enough that offsets spread, short enough to stay in the
 * cache, so that sending from it does not cost the generator more than
 * the server pays for the same bytes.
 *
 * It connects over TCP (--host, --port) or over a Unix domain stream socket
 * (--unix NAME: a filesystem path, or an abstract name written with a
 * leading '@', which stands for the NUL byte such a name starts with).
 *
 * With --proto udp each of the N clients is a connected UDP socket with
 * one datagram of M bytes (at least 8) in flight. The first 8 bytes carry
 * the client's sequence number, the rest is the pool slice the number
 * picks, so every byte of every echo is checked and a late echo of an
 * earlier datagram is told from the one awaited. A datagram not echoed
 * within --timeout-ms (default 200) is counted as lost and the client goes
 * on with the next, so loss never hangs the run; a late echo that arrives
 * afterwards is ignored (it was counted as lost already). lost counts the
 * measured window's losses, total_lost the warm-up's too (a burst of N
 * first datagrams can overflow a small receive buffer).
 *
 * Output on stdout, one line each, machine-readable:
 *   warmup_done                   when the measured window starts
 *   requests=... seconds=... req_per_s=... p50_us=... p99_us=...
 *   errors=... total_requests=... conns=... size=... lost=... total_lost=...
 * Errors count verification mismatches, resets and short reads; the exit
 * status is 0 only when there were none.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* The pool every message is a slice of: POOL_MESSAGES messages long, and
 * never shorter than MIN_POOL_SIZE, so small messages spread too. */
#define POOL_MESSAGES 8
#define MIN_POOL_SIZE (256u * 1024)
#define MAX_MESSAGE_SIZE (64u * 1024 * 1024)
#define SCRATCH_SIZE (256 * 1024)
#define MAX_EVENTS 1024

typedef struct {
  const char *host;
  const char *port;
  const char *unix_name; /* set: a Unix socket instead of host and port */
  int udp;               /* --proto udp: datagrams instead of a stream */
  double timeout_ms;     /* UDP: when a datagram in flight counts as lost */
  int conns;
  size_t size;
  double duration_s;
  double warmup_s;
} options_t;

typedef struct {
  int fd;
  int dead;           /* closed after an error */
  int watching_out;   /* EPOLLOUT is registered */
  uint64_t rng;       /* picks each message's offset in the pool */
  const char *msg;    /* the message in flight: pool + offset */
  size_t sent;
  size_t received;
  uint64_t started_ns;
  uint64_t seq;       /* UDP: the number of the datagram in flight */
  char *datagram;     /* UDP: its bytes, sequence number first */
} conn_t;

typedef struct {
  uint32_t *ns;
  size_t count;
  size_t cap;
} latencies_t;

static char *pool;
static size_t pool_size;
static char scratch[SCRATCH_SIZE];

static uint64_t xorshift64(uint64_t *state) {
  uint64_t x = *state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  *state = x;
  return x;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s {--host HOST --port PORT | --unix NAME} --conns N\n"
          "          --size BYTES --duration SECONDS [--warmup SECONDS]\n"
          "          [--proto tcp|udp] [--timeout-ms MS]\n"
          "  NAME is a filesystem path, or @NAME for an abstract name;\n"
          "  UDP needs --port and a size of at least 8 bytes\n",
          argv0);
  exit(2);
}

static void parse_options(int argc, char **argv, options_t *o) {
  int i;
  o->host = "127.0.0.1";
  o->port = NULL;
  o->unix_name = NULL;
  o->conns = 1;
  o->size = 1024;
  o->duration_s = 3.0;
  o->warmup_s = 0.5;
  o->udp = 0;
  o->timeout_ms = 200.0;
  /* Every option takes a value: step over name and value together. */
  for (i = 1; i < argc; i += 2) {
    const char *name = argv[i];
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    if (value == NULL)
      usage(argv[0]);
    if (strcmp(name, "--host") == 0)
      o->host = value;
    else if (strcmp(name, "--port") == 0)
      o->port = value;
    else if (strcmp(name, "--unix") == 0)
      o->unix_name = value;
    else if (strcmp(name, "--conns") == 0)
      o->conns = atoi(value);
    else if (strcmp(name, "--size") == 0)
      o->size = (size_t)strtoul(value, NULL, 10);
    else if (strcmp(name, "--duration") == 0)
      o->duration_s = atof(value);
    else if (strcmp(name, "--warmup") == 0)
      o->warmup_s = atof(value);
    else if (strcmp(name, "--proto") == 0 && (strcmp(value, "tcp") == 0 ||
                                             strcmp(value, "udp") == 0))
      o->udp = strcmp(value, "udp") == 0;
    else if (strcmp(name, "--timeout-ms") == 0)
      o->timeout_ms = atof(value);
    else
      usage(argv[0]);
  }
  if ((o->port == NULL) == (o->unix_name == NULL) || o->conns < 1 || o->size < 1 ||
      o->size > MAX_MESSAGE_SIZE || o->duration_s <= 0 || o->warmup_s < 0)
    usage(argv[0]);
  /* A datagram carries its sequence number and cannot exceed IPv4's
   * 65507-byte payload; a Unix stream socket is no datagram transport. */
  if (o->udp && (o->unix_name != NULL || o->size < 8 || o->size > 65507 ||
                 o->timeout_ms <= 0))
    usage(argv[0]);
}

static void fill_pool(size_t message_size) {
  uint64_t state = 0x9e3779b97f4a7c15u;
  size_t i;
  pool_size = message_size * POOL_MESSAGES;
  if (pool_size < MIN_POOL_SIZE)
    pool_size = MIN_POOL_SIZE;
  pool = malloc(pool_size);
  if (pool == NULL) {
    perror("malloc");
    exit(2);
  }
  for (i = 0; i + 8 <= pool_size; i += 8) {
    uint64_t r = xorshift64(&state);
    memcpy(pool + i, &r, 8);
  }
}

/* Connects to a Unix domain stream socket: NAME is a path, @NAME an
 * abstract name (Linux). Blocking, as the TCP connect is: the listener's
 * backlog takes the connection at once or the call waits for room. */
static int connect_unix(const char *name) {
  struct sockaddr_un addr;
  size_t len = strlen(name);
  socklen_t addrlen;
  int fd;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (len == 0 || len >= sizeof addr.sun_path) {
    fprintf(stderr, "fuv_loadgen: bad Unix socket name '%s'\n", name);
    exit(2);
  }
  memcpy(addr.sun_path, name, len);
  if (name[0] == '@') {
    addr.sun_path[0] = '\0'; /* abstract: the length says where it ends */
    addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
  } else {
    addrlen = (socklen_t)sizeof addr;
  }
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, addrlen) != 0) {
    perror("connect");
    exit(2);
  }
  if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
    perror("socket setup");
    exit(2);
  }
  return fd;
}

static int connect_one(const options_t *o) {
  struct addrinfo hints, *res, *ai;
  int fd = -1, one = 1, rc;
  if (o->unix_name != NULL)
    return connect_unix(o->unix_name);
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = o->udp ? SOCK_DGRAM : SOCK_STREAM;
  rc = getaddrinfo(o->host, o->port, &hints, &res);
  if (rc != 0) {
    fprintf(stderr, "getaddrinfo: %s\n", gai_strerror(rc));
    exit(2);
  }
  for (ai = res; ai != NULL; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0)
      continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
      break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    perror("connect");
    exit(2);
  }
  /* Without TCP_NODELAY, Nagle plus delayed ACKs would add tens of
   * milliseconds to every partial message and measure nothing useful. */
  if ((!o->udp &&
       setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) ||
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
    perror("socket setup");
    exit(2);
  }
  return fd;
}

static void watch(int epfd, int op, conn_t *c, int want_out) {
  struct epoll_event ev;
  ev.events = EPOLLIN | (want_out ? EPOLLOUT : 0);
  ev.data.ptr = c;
  if (epoll_ctl(epfd, op, c->fd, &ev) != 0) {
    perror("epoll_ctl");
    exit(2);
  }
  c->watching_out = want_out;
}

static void kill_conn(int epfd, conn_t *c, const char *why, int *alive,
                      uint64_t *errors) {
  fprintf(stderr, "fuv_loadgen: connection %d: %s\n", c->fd, why);
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->dead = 1;
  (*alive)--;
  (*errors)++;
}

/* Sends as much of the message in flight as the socket takes, and asks for
 * EPOLLOUT only while some is left. Returns 0, or -1 on a send error. */
static int send_some(int epfd, conn_t *c, size_t size) {
  while (c->sent < size) {
    ssize_t n = send(c->fd, c->msg + c->sent, size - c->sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        return -1;
      break;
    }
    c->sent += (size_t)n;
  }
  if ((c->sent < size) != c->watching_out)
    watch(epfd, EPOLL_CTL_MOD, c, c->sent < size);
  return 0;
}

static void start_message(conn_t *c, size_t size) {
  c->msg = pool + xorshift64(&c->rng) % (pool_size - size + 1);
  c->sent = 0;
  c->received = 0;
  c->started_ns = now_ns();
}

static void record(latencies_t *l, uint64_t ns) {
  if (l->count == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 65536;
    uint32_t *p = realloc(l->ns, cap * sizeof *p);
    if (p == NULL) {
      perror("realloc");
      exit(2);
    }
    l->ns = p;
    l->cap = cap;
  }
  l->ns[l->count++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

static int compare_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

/* The q-th quantile (nearest rank) in microseconds; 0 with no samples. */
static double quantile_us(const latencies_t *l, double q) {
  size_t rank;
  if (l->count == 0)
    return 0.0;
  rank = (size_t)(q * (double)l->count);
  if (rank >= l->count)
    rank = l->count - 1;
  return l->ns[rank] / 1000.0;
}

/* The state of one run that the TCP and the UDP loops share: the counts,
 * the latencies and the measured window. */
typedef struct {
  uint64_t errors, requests, total_requests, lost, total_lost;
  latencies_t lat;
  int alive;
  int measuring;
  uint64_t measure_ns, end_ns, now;
} run_t;

static void start_run(run_t *r, const options_t *o) {
  memset(r, 0, sizeof *r);
  r->alive = o->conns;
  r->now = now_ns();
  r->measure_ns = r->now + (uint64_t)(o->warmup_s * 1e9);
  r->end_ns = r->measure_ns + (uint64_t)(o->duration_s * 1e9);
}

/* Counts one verified echo; only those in the measured window go into
 * req/s and the latencies, the warm-up's into total_requests alone. */
static void count_echo(run_t *r, uint64_t started_ns) {
  r->total_requests++;
  if (r->measuring) {
    r->requests++;
    record(&r->lat, r->now - started_ns);
  }
}

/* Starts the measured window once the warm-up is over, saying so on stdout
 * (run.py samples the server's CPU time then). Returns 1 when the run is
 * over: the window has ended or every connection has died. */
static int advance_window(run_t *r, const options_t *o) {
  r->now = now_ns();
  if (!r->measuring && r->now >= r->measure_ns) {
    r->measuring = 1;
    r->measure_ns = r->now;
    r->end_ns = r->now + (uint64_t)(o->duration_s * 1e9);
    printf("warmup_done\n");
    fflush(stdout);
  }
  return r->now >= r->end_ns || r->alive == 0;
}

static int wait_events(int epfd, struct epoll_event *events, int timeout_ms) {
  int n = epoll_wait(epfd, events, MAX_EVENTS, timeout_ms);
  if (n < 0 && errno != EINTR) {
    perror("epoll_wait");
    exit(2);
  }
  return n < 0 ? 0 : n;
}

/* Reads what one wake-up of a TCP connection brought and checks it
 * against the message in flight; a whole echo starts the next message. */
static void tcp_readable(int epfd, conn_t *c, const options_t *o, run_t *r) {
  /* One read per wake-up, as a level-triggered server does: a second
   * read would only find EAGAIN and cost a system call. */
  size_t want = o->size - c->received;
  ssize_t got = recv(c->fd, scratch, want < sizeof scratch ? want : sizeof scratch,
                     0);
  if (got == 0) {
    kill_conn(epfd, c, "short read: end of stream mid-message", &r->alive,
              &r->errors);
    return;
  }
  if (got < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      kill_conn(epfd, c, strerror(errno), &r->alive, &r->errors);
    return;
  }
  if (c->received + (size_t)got > c->sent ||
      memcmp(scratch, c->msg + c->received, (size_t)got) != 0) {
    kill_conn(epfd, c, "echoed bytes differ from the bytes sent", &r->alive,
              &r->errors);
    return;
  }
  c->received += (size_t)got;
  if (c->received == o->size) {
    r->now = now_ns();
    count_echo(r, c->started_ns);
    start_message(c, o->size);
  }
}

static void run_tcp(int epfd, conn_t *conns, const options_t *o, run_t *r) {
  struct epoll_event events[MAX_EVENTS];
  int i;
  for (i = 0; i < o->conns; i++) {
    start_message(&conns[i], o->size);
    if (send_some(epfd, &conns[i], o->size) != 0)
      kill_conn(epfd, &conns[i], strerror(errno), &r->alive, &r->errors);
  }
  do {
    int n = wait_events(epfd, events, 100);
    for (i = 0; i < n; i++) {
      conn_t *c = events[i].data.ptr;
      if (c->dead)
        continue;
      if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        tcp_readable(epfd, c, o, r);
      if (!c->dead && c->sent < o->size && send_some(epfd, c, o->size) != 0)
        kill_conn(epfd, c, strerror(errno), &r->alive, &r->errors);
    }
  } while (!advance_window(r, o));
}

/* The sequence numbers of client i: its index in the top 24 bits, so that
 * an echo that reaches the wrong client is caught as well. */
static uint64_t client_tag(const conn_t *c) { return c->seq >> 40; }

/* Sends client c's next datagram: a new sequence number and a new pool
 * slice. A send the kernel refuses for lack of room is not retried: the
 * datagram is lost, and the timeout counts it so. */
static int send_datagram(conn_t *c, size_t size) {
  ssize_t n;
  c->seq++;
  c->msg = pool + xorshift64(&c->rng) % (pool_size - size + 1);
  memcpy(c->datagram, &c->seq, 8);
  memcpy(c->datagram + 8, c->msg, size - 8);
  c->started_ns = now_ns();
  n = send(c->fd, c->datagram, size, 0);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
    return -1;
  return 0;
}

/* Takes one datagram. The one awaited must match byte for byte; an older
 * one of this client is a late echo of a datagram already counted lost
 * and is dropped; anything else is an error. */
static void udp_readable(int epfd, conn_t *c, const options_t *o, run_t *r) {
  uint64_t seq;
  ssize_t got = recv(c->fd, scratch, sizeof scratch, 0);
  if (got < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      kill_conn(epfd, c, strerror(errno), &r->alive, &r->errors);
    return;
  }
  if ((size_t)got >= 8) {
    memcpy(&seq, scratch, 8);
    if ((size_t)got == o->size && seq < c->seq && seq >> 40 == client_tag(c))
      return; /* late: its loss is counted already */
  }
  if ((size_t)got != o->size || memcmp(scratch, c->datagram, o->size) != 0) {
    kill_conn(epfd, c, "echoed datagram differs from the one sent", &r->alive,
              &r->errors);
    return;
  }
  r->now = now_ns();
  count_echo(r, c->started_ns);
  if (send_datagram(c, o->size) != 0)
    kill_conn(epfd, c, strerror(errno), &r->alive, &r->errors);
}

/* Counts as lost every datagram in flight longer than the timeout, and
 * sends each of those clients its next one. */
static void expire_datagrams(int epfd, conn_t *conns, const options_t *o,
                             run_t *r) {
  uint64_t timeout_ns = (uint64_t)(o->timeout_ms * 1e6);
  int i;
  for (i = 0; i < o->conns; i++) {
    conn_t *c = &conns[i];
    if (c->dead || r->now - c->started_ns < timeout_ns)
      continue;
    r->total_lost++;
    if (r->measuring)
      r->lost++;
    if (send_datagram(c, o->size) != 0)
      kill_conn(epfd, c, strerror(errno), &r->alive, &r->errors);
  }
}

static void run_udp(int epfd, conn_t *conns, const options_t *o, run_t *r) {
  struct epoll_event events[MAX_EVENTS];
  /* Wake up four times per timeout at least, so a loss is noticed within
   * a quarter of the timeout of its due time. */
  int wait_ms = (int)(o->timeout_ms / 4) + 1;
  uint64_t next_scan = r->now;
  int i;
  for (i = 0; i < o->conns; i++) {
    conns[i].seq = (uint64_t)(i + 1) << 40;
    conns[i].datagram = malloc(o->size);
    if (conns[i].datagram == NULL) {
      perror("malloc");
      exit(2);
    }
    if (send_datagram(&conns[i], o->size) != 0)
      kill_conn(epfd, &conns[i], strerror(errno), &r->alive, &r->errors);
  }
  do {
    int n = wait_events(epfd, events, wait_ms);
    for (i = 0; i < n; i++) {
      conn_t *c = events[i].data.ptr;
      if (!c->dead)
        udp_readable(epfd, c, o, r);
    }
    r->now = now_ns();
    if (r->now >= next_scan) {
      expire_datagrams(epfd, conns, o, r);
      next_scan = r->now + (uint64_t)(o->timeout_ms * 1e6 / 4);
    }
  } while (!advance_window(r, o));
}

static void print_result(run_t *r, const options_t *o) {
  double seconds = r->measuring ? (double)(r->now - r->measure_ns) / 1e9 : 0.0;
  qsort(r->lat.ns, r->lat.count, sizeof *r->lat.ns, compare_u32);
  printf("requests=%llu seconds=%.3f req_per_s=%.1f p50_us=%.1f "
         "p99_us=%.1f errors=%llu total_requests=%llu conns=%d size=%zu "
         "lost=%llu total_lost=%llu\n",
         (unsigned long long)r->requests, seconds,
         seconds > 0 ? (double)r->requests / seconds : 0.0,
         quantile_us(&r->lat, 0.50), quantile_us(&r->lat, 0.99),
         (unsigned long long)r->errors, (unsigned long long)r->total_requests,
         o->conns, o->size, (unsigned long long)r->lost,
         (unsigned long long)r->total_lost);
  fflush(stdout);
}

int main(int argc, char **argv) {
  options_t o;
  conn_t *conns;
  run_t run;
  int epfd, i;

  parse_options(argc, argv, &o);
  signal(SIGPIPE, SIG_IGN);
  fill_pool(o.size);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  conns = calloc((size_t)o.conns, sizeof *conns);
  if (epfd < 0 || conns == NULL) {
    perror("setup");
    return 2;
  }
  for (i = 0; i < o.conns; i++) {
    conns[i].fd = connect_one(&o);
    conns[i].rng = 0x2545f4914f6cdd1du * (uint64_t)(i + 1);
    watch(epfd, EPOLL_CTL_ADD, &conns[i], 0);
  }

  start_run(&run, &o);
  if (o.udp)
    run_udp(epfd, conns, &o, &run);
  else
    run_tcp(epfd, conns, &o, &run);
  print_result(&run, &o);

  for (i = 0; i < o.conns; i++) {
    if (!conns[i].dead)
      close(conns[i].fd);
    free(conns[i].datagram);
  }
  close(epfd);
  free(conns);
  free(run.lat.ns);
  free(pool);
  return run.errors == 0 ? 0 : 1;
}
