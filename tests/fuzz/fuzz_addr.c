/*
 * libFuzzer harness for the address parsers: fuv_ip4_addr, fuv_ip6_addr,
 * fuv_ip_name on what they produce and on arbitrary sockaddr bytes, and
 * fuv_tcp_bind with arbitrary text and ports on handles never listened on.
 *
 * Input: byte 0 chooses flags, bytes 1-4 the port (any int), bytes 5-8 the
 * size of the output buffer for fuv_ip_name, the rest the address text (it
 * is copied into an allocation of exactly its size plus the NUL, so ASan
 * sees any read past its end).
 *
 * Checked besides the sanitizers: a parse either fails with FUV_EINVAL or
 * gives an address whose text parses back to the same address; fuv_ip_name
 * NUL-terminates within the size it was given or fails with FUV_ENOSPC; a
 * successful bind reports back the address it was given.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flatuv.h"

#define FUZZ_CHECK(cond)                                                     \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "fuzz_addr: contract broken at line %d: %s\n",         \
              __LINE__, #cond);                                              \
      abort();                                                               \
    }                                                                        \
  } while (0)

static uint32_t read_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static int same_address(const struct sockaddr *a, const struct sockaddr *b) {
  if (a->sa_family != b->sa_family)
    return 0;
  if (a->sa_family == AF_INET) {
    const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
    return x->sin_addr.s_addr == y->sin_addr.s_addr;
  }
  const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
  return memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0 &&
         x->sin6_scope_id == y->sin6_scope_id;
}

static int port_of(const struct sockaddr *sa) {
  return sa->sa_family == AF_INET
             ? ntohs(((const struct sockaddr_in *)sa)->sin_port)
             : ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
}

/* Writes the address as text into a buffer of exactly size bytes (so that
 * an overrun is seen) and checks the result; returns it, or NULL. */
static char *name_of(const struct sockaddr *sa, size_t size) {
  char *dst = malloc(size ? size : 1);
  FUZZ_CHECK(dst != NULL);
  int r = fuv_ip_name(sa, dst, size);
  if (r != 0) {
    FUZZ_CHECK(r == FUV_ENOSPC || r == FUV_EAFNOSUPPORT);
    if (r == FUV_EAFNOSUPPORT)
      FUZZ_CHECK(sa->sa_family != AF_INET && sa->sa_family != AF_INET6);
    free(dst);
    return NULL;
  }
  FUZZ_CHECK(memchr(dst, '\0', size) != NULL);
  return dst;
}

/* Parses text into ss with the family's parser, as the caller would. */
static int parse(const char *text, int port, int family,
                 struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (family == AF_INET)
    return fuv_ip4_addr(text, port, (struct sockaddr_in *)ss);
  return fuv_ip6_addr(text, port, (struct sockaddr_in6 *)ss);
}

/* Parse, name, parse again: the two addresses must be the same. */
static void round_trip(const char *text, int port, int family,
                       size_t name_size) {
  struct sockaddr_storage ss, again;
  int r = parse(text, port, family, &ss);
  if (r != 0) {
    FUZZ_CHECK(r == FUV_EINVAL);
    return;
  }
  FUZZ_CHECK(port >= 0 && port <= 65535);
  FUZZ_CHECK(ss.ss_family == family);
  FUZZ_CHECK(port_of((struct sockaddr *)&ss) == port);

  /* Every name fits in FUV_IP_NAME_MAX, as the header promises. */
  char *name = name_of((struct sockaddr *)&ss, FUV_IP_NAME_MAX);
  FUZZ_CHECK(name != NULL);
  FUZZ_CHECK(parse(name, port, family, &again) == 0);
  FUZZ_CHECK(same_address((struct sockaddr *)&ss, (struct sockaddr *)&again));

  /* A smaller buffer gets the same text or FUV_ENOSPC. */
  char *small = name_of((struct sockaddr *)&ss, name_size);
  if (small != NULL) {
    FUZZ_CHECK(strcmp(small, name) == 0);
    FUZZ_CHECK(strlen(name) < name_size);
  } else {
    FUZZ_CHECK(strlen(name) >= name_size);
  }
  free(small);
  free(name);
}

/* Binds a fresh handle, which is never listened on, and checks that a
 * successful bind reports the address it was given. */
static void bind_text(fuv_loop_t *loop, const char *text, int port,
                      unsigned flags) {
  fuv_tcp_t *tcp;
  struct sockaddr_storage want, got;
  int got_len = (int)sizeof got;

  FUZZ_CHECK(fuv_tcp_new(&tcp, loop) == 0);
  int r = fuv_tcp_bind(tcp, text, port, flags);
  if (r == 0 && fuv_tcp_getsockname_addr(tcp, (struct sockaddr *)&got,
                                         &got_len) == 0) {
    int family = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;
    FUZZ_CHECK(parse(text, port, family, &want) == 0);
    FUZZ_CHECK(same_address((struct sockaddr *)&want,
                            (struct sockaddr *)&got) ||
               /* The kernel keeps a scope only for link-local addresses. */
               (family == AF_INET6 &&
                ((struct sockaddr_in6 *)&got)->sin6_scope_id == 0));
    if (port != 0)
      FUZZ_CHECK(port_of((struct sockaddr *)&got) == port);
  }
  FUZZ_CHECK(fuv_close((fuv_handle_t *)tcp, NULL, NULL) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 9)
    return 0;
  unsigned flags = data[0];
  int port = (int)read_u32(data + 1);
  size_t name_size = read_u32(data + 5) % (FUV_IP_NAME_MAX + 8);
  data += 9, size -= 9;

  /* Ports are mostly in range so that parsing gets past the port check. */
  if (flags & 0x80)
    port &= 0xffff;

  char *text = malloc(size + 1);
  FUZZ_CHECK(text != NULL);
  memcpy(text, data, size);
  text[size] = '\0';

  round_trip(text, port, AF_INET, name_size);
  round_trip(text, port, AF_INET6, name_size);
  FUZZ_CHECK(fuv_ip4_addr(NULL, port, NULL) == FUV_EINVAL);
  FUZZ_CHECK(fuv_ip6_addr(text, port, NULL) == FUV_EINVAL);

  /* Arbitrary bytes as a sockaddr: the family decides what is read. */
  struct sockaddr_storage raw;
  memset(&raw, 0, sizeof raw);
  memcpy(&raw, data, size < sizeof raw ? size : sizeof raw);
  free(name_of((struct sockaddr *)&raw, name_size));
  FUZZ_CHECK(fuv_ip_name(NULL, text, 1) == FUV_EINVAL);

  if (flags & 1) {
    fuv_loop_t *loop;
    FUZZ_CHECK(fuv_loop_new(&loop) == 0);
    bind_text(loop, text, port, (flags >> 1) & 3);
    while (fuv_run(loop, FUV_RUN_NOWAIT) > 0)
      ;
    FUZZ_CHECK(fuv_loop_free(loop) == 0);
  }
  free(text);
  return 0;
}
