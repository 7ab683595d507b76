/* Conversions between IP text, ports and sockaddrs. */
#include "internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int port_valid(int port) { return port >= 0 && port <= 65535; }

int fuv_ip4_addr(const char *ip, int port, struct sockaddr_in *addr) {
  if (ip == NULL || addr == NULL || !port_valid(port))
    return FUV_EINVAL;
  memset(addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_port = htons((uint16_t)port);
  return inet_pton(AF_INET, ip, &addr->sin_addr) == 1 ? 0 : FUV_EINVAL;
}

/* Accepts an optional "%scope" suffix naming an interface or its index. */
int fuv_ip6_addr(const char *ip, int port, struct sockaddr_in6 *addr) {
  char address[INET6_ADDRSTRLEN];
  const char *scope;
  size_t len;

  if (ip == NULL || addr == NULL || !port_valid(port))
    return FUV_EINVAL;
  memset(addr, 0, sizeof *addr);
  addr->sin6_family = AF_INET6;
  addr->sin6_port = htons((uint16_t)port);

  scope = strchr(ip, '%');
  len = scope ? (size_t)(scope - ip) : strlen(ip);
  if (len >= sizeof address)
    return FUV_EINVAL;
  memcpy(address, ip, len);
  address[len] = '\0';
  if (inet_pton(AF_INET6, address, &addr->sin6_addr) != 1)
    return FUV_EINVAL;

  if (scope != NULL) {
    unsigned int index = if_nametoindex(scope + 1);
    if (index == 0) {
      char *end;
      unsigned long n = strtoul(scope + 1, &end, 10);
      if (!isdigit((unsigned char)scope[1]) || *end != '\0' ||
          n > 0xffffffffUL)
        return FUV_EINVAL;
      index = (unsigned int)n;
    }
    addr->sin6_scope_id = index;
  }
  return 0;
}

int fuv_ip_name(const struct sockaddr *addr, char *dst, size_t size) {
  char text[FUV_IP_NAME_MAX];
  size_t len;

  if (addr == NULL || dst == NULL)
    return FUV_EINVAL;
  if (addr->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
  } else if (addr->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    if (in6->sin6_scope_id != 0) {
      char name[IF_NAMESIZE];
      len = strlen(text);
      if (if_indextoname(in6->sin6_scope_id, name) != NULL)
        snprintf(text + len, sizeof text - len, "%%%s", name);
      else
        snprintf(text + len, sizeof text - len, "%%%u", in6->sin6_scope_id);
    }
  } else {
    return FUV_EAFNOSUPPORT;
  }
  len = strlen(text);
  if (len >= size)
    return FUV_ENOSPC;
  memcpy(dst, text, len + 1);
  return 0;
}

int fuv__addr_parse(const char *ip, int port, struct sockaddr_storage *ss,
                    socklen_t *len) {
  if (ip == NULL)
    return FUV_EINVAL;
  if (strchr(ip, ':') != NULL) {
    *len = sizeof(struct sockaddr_in6);
    return fuv_ip6_addr(ip, port, (struct sockaddr_in6 *)ss);
  }
  *len = sizeof(struct sockaddr_in);
  return fuv_ip4_addr(ip, port, (struct sockaddr_in *)ss);
}

int fuv__addr_parse_optional(const char *ip, int port,
                             struct sockaddr_storage *ss,
                             const struct sockaddr **addr) {
  socklen_t len;
  int r;
  *addr = NULL;
  if (ip == NULL)
    return 0;
  r = fuv__addr_parse(ip, port, ss, &len);
  if (r == 0)
    *addr = (const struct sockaddr *)ss;
  return r;
}

int fuv__addr_unparse(const struct sockaddr *sa, char *ip, size_t iplen,
                      int *port) {
  int r = fuv_ip_name(sa, ip, iplen);
  if (r != 0)
    return r;
  if (port != NULL) {
    if (sa->sa_family == AF_INET)
      *port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
    else
      *port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
  }
  return 0;
}

int fuv_sockaddr_ip(const struct sockaddr *addr, char *ip, size_t iplen,
                    int *port) {
  if (addr == NULL || ip == NULL || port == NULL)
    return FUV_EINVAL;
  return fuv__addr_unparse(addr, ip, iplen, port);
}

int fuv__fd_name_addr(int fd, int peer, struct sockaddr *name, int *namelen) {
  socklen_t len;
  int r;
  if (name == NULL || namelen == NULL || *namelen < 0)
    return FUV_EINVAL;
  len = (socklen_t)*namelen;
  r = peer ? getpeername(fd, name, &len) : getsockname(fd, name, &len);
  if (r != 0)
    return fuv__errno();
  *namelen = (int)len;
  return 0;
}

int fuv__fd_name(int fd, int peer, char *ip, size_t iplen, int *port) {
  struct sockaddr_storage ss;
  int len = (int)sizeof ss;
  int r;
  if (ip == NULL || port == NULL)
    return FUV_EINVAL;
  r = fuv__fd_name_addr(fd, peer, (struct sockaddr *)&ss, &len);
  if (r != 0)
    return r;
  return fuv__addr_unparse((struct sockaddr *)&ss, ip, iplen, port);
}
