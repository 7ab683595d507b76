/*
 * Addresses: text and port to sockaddr (fuv_ip4_addr, fuv_ip6_addr) and
 * back (fuv_ip_name), with every malformed input an error.
 */
#include "fuv_test.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <sys/un.h>

START_TEST(ip4_addr_fills_family_port_and_address) {
  struct sockaddr_in sin;
  FUV_ASSERT_OK(fuv_ip4_addr("192.168.1.20", 8080, &sin));
  ck_assert_int_eq(sin.sin_family, AF_INET);
  ck_assert_int_eq(ntohs(sin.sin_port), 8080);
  ck_assert_uint_eq(ntohl(sin.sin_addr.s_addr), 0xC0A80114u);
  FUV_ASSERT_OK(fuv_ip4_addr("0.0.0.0", 0, &sin));
  ck_assert_int_eq(sin.sin_port, 0);
  FUV_ASSERT_OK(fuv_ip4_addr("255.255.255.255", 65535, &sin));
  ck_assert_int_eq(ntohs(sin.sin_port), 65535);
  ck_assert_uint_eq(sin.sin_addr.s_addr, 0xFFFFFFFFu);
}
END_TEST

START_TEST(ip4_addr_rejects_malformed_text) {
  static const char *const bad[] = {"", "1.2.3", "256.1.1.1", "1.2.3.4.5",
                                    "1.2.3.-4", "localhost", " 1.2.3.4",
                                    "1.2.3.4 ", "::1", "::g"};
  struct sockaddr_in sin;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_msg(fuv_ip4_addr(bad[i], 80, &sin) == FUV_EINVAL,
                  "\"%s\" was accepted", bad[i]);
  FUV_ASSERT_ERR(fuv_ip4_addr(NULL, 80, &sin), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_ip4_addr("127.0.0.1", 80, NULL), FUV_EINVAL);
}
END_TEST

START_TEST(ip6_addr_fills_family_port_and_address) {
  struct sockaddr_in6 sin6;
  struct in6_addr loopback = IN6ADDR_LOOPBACK_INIT;
  FUV_ASSERT_OK(fuv_ip6_addr("::1", 443, &sin6));
  ck_assert_int_eq(sin6.sin6_family, AF_INET6);
  ck_assert_int_eq(ntohs(sin6.sin6_port), 443);
  ck_assert_int_eq(memcmp(&sin6.sin6_addr, &loopback, sizeof loopback), 0);
  ck_assert_uint_eq(sin6.sin6_scope_id, 0);
  FUV_ASSERT_OK(fuv_ip6_addr("::", 0, &sin6));
  FUV_ASSERT_OK(fuv_ip6_addr("::ffff:1.2.3.4", 1, &sin6));
  ck_assert_int_eq(sin6.sin6_addr.s6_addr[15], 4);
  FUV_ASSERT_OK(fuv_ip6_addr("2001:db8:0:0:0:0:0:1", 65535, &sin6));
}
END_TEST

START_TEST(ip6_addr_rejects_malformed_text) {
  static const char *const bad[] = {"", "::g", "1.2.3.4", ":::", "1::2::3",
                                    "2001:db8::1::", "::1%", "[::1]",
                                    "12345::1"};
  struct sockaddr_in6 sin6;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_msg(fuv_ip6_addr(bad[i], 80, &sin6) == FUV_EINVAL,
                  "\"%s\" was accepted", bad[i]);
  FUV_ASSERT_ERR(fuv_ip6_addr(NULL, 80, &sin6), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_ip6_addr("::1", 80, NULL), FUV_EINVAL);
}
END_TEST

START_TEST(ports_outside_0_to_65535_are_einval) {
  static const int bad_ports[] = {-1, 65536, -65536, 100000};
  struct sockaddr_in sin;
  struct sockaddr_in6 sin6;
  for (size_t i = 0; i < sizeof bad_ports / sizeof bad_ports[0]; i++) {
    FUV_ASSERT_ERR(fuv_ip4_addr("127.0.0.1", bad_ports[i], &sin), FUV_EINVAL);
    FUV_ASSERT_ERR(fuv_ip6_addr("::1", bad_ports[i], &sin6), FUV_EINVAL);
  }
}
END_TEST

START_TEST(ip6_addr_takes_a_scope_by_interface_name_or_index) {
  struct sockaddr_in6 sin6;
  unsigned int lo = if_nametoindex("lo");
  ck_assert_uint_gt(lo, 0);
  FUV_ASSERT_OK(fuv_ip6_addr("fe80::1%lo", 80, &sin6));
  ck_assert_uint_eq(sin6.sin6_scope_id, lo);
  ck_assert_int_eq(sin6.sin6_addr.s6_addr[0], 0xfe);
  ck_assert_int_eq(sin6.sin6_addr.s6_addr[1], 0x80);
  ck_assert_int_eq(sin6.sin6_addr.s6_addr[15], 1);

  char numeric[32];
  snprintf(numeric, sizeof numeric, "fe80::1%%%u", lo);
  FUV_ASSERT_OK(fuv_ip6_addr(numeric, 80, &sin6));
  ck_assert_uint_eq(sin6.sin6_scope_id, lo);
}
END_TEST

START_TEST(ip6_addr_rejects_an_unknown_interface_name) {
  struct sockaddr_in6 sin6;
  FUV_ASSERT_ERR(fuv_ip6_addr("fe80::1%no-such-if0", 80, &sin6), FUV_EINVAL);
  /* A numeric scope is digits only: no sign, no space, nothing empty. */
  FUV_ASSERT_ERR(fuv_ip6_addr("fe80::1% 5", 80, &sin6), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_ip6_addr("fe80::1%+5", 80, &sin6), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_ip6_addr("fe80::1%-5", 80, &sin6), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_ip6_addr("fe80::1%", 80, &sin6), FUV_EINVAL);
}
END_TEST

/* Parses ip as IPv4 or IPv6 into ss. */
static void parse_any(const char *ip, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (strchr(ip, ':') != NULL)
    FUV_ASSERT_OK(fuv_ip6_addr(ip, 1234, (struct sockaddr_in6 *)ss));
  else
    FUV_ASSERT_OK(fuv_ip4_addr(ip, 1234, (struct sockaddr_in *)ss));
}

START_TEST(ip_name_round_trips_canonical_text) {
  static const char *const canonical[] = {
      "127.0.0.1", "0.0.0.0", "255.255.255.255", "10.1.2.3", "::1", "::",
      "2001:db8::1", "fe80::1%lo", "::ffff:1.2.3.4",
      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"};
  for (size_t i = 0; i < sizeof canonical / sizeof canonical[0]; i++) {
    struct sockaddr_storage ss;
    char name[FUV_IP_NAME_MAX];
    parse_any(canonical[i], &ss);
    FUV_ASSERT_OK(fuv_ip_name((struct sockaddr *)&ss, name, sizeof name));
    ck_assert_str_eq(name, canonical[i]);
  }
}
END_TEST

START_TEST(ip_name_writes_the_canonical_form_of_other_spellings) {
  struct sockaddr_storage ss;
  char name[FUV_IP_NAME_MAX];
  parse_any("2001:0db8:0000:0000:0000:0000:0000:0001", &ss);
  FUV_ASSERT_OK(fuv_ip_name((struct sockaddr *)&ss, name, sizeof name));
  ck_assert_str_eq(name, "2001:db8::1");
}
END_TEST

START_TEST(ip_name_is_enospc_when_the_buffer_is_too_small) {
  struct sockaddr_storage ss;
  char name[FUV_IP_NAME_MAX];

  /* "127.0.0.1" needs ten bytes with its NUL. */
  parse_any("127.0.0.1", &ss);
  FUV_ASSERT_ERR(fuv_ip_name((struct sockaddr *)&ss, name, 9), FUV_ENOSPC);
  FUV_ASSERT_ERR(fuv_ip_name((struct sockaddr *)&ss, name, 1), FUV_ENOSPC);
  FUV_ASSERT_ERR(fuv_ip_name((struct sockaddr *)&ss, name, 0), FUV_ENOSPC);
  FUV_ASSERT_OK(fuv_ip_name((struct sockaddr *)&ss, name, 10));
  ck_assert_str_eq(name, "127.0.0.1");

  /* "2001:db8::1" needs twelve. */
  parse_any("2001:db8::1", &ss);
  FUV_ASSERT_ERR(fuv_ip_name((struct sockaddr *)&ss, name, 11), FUV_ENOSPC);
  FUV_ASSERT_OK(fuv_ip_name((struct sockaddr *)&ss, name, 12));
  ck_assert_str_eq(name, "2001:db8::1");
}
END_TEST

START_TEST(ip_name_rejects_other_families_and_null) {
  struct sockaddr_un sun;
  struct sockaddr_in sin;
  char name[FUV_IP_NAME_MAX];
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  FUV_ASSERT_ERR(fuv_ip_name((struct sockaddr *)&sun, name, sizeof name),
                 FUV_EAFNOSUPPORT);
  FUV_ASSERT_OK(fuv_ip4_addr("127.0.0.1", 1, &sin));
  FUV_ASSERT_ERR(fuv_ip_name(NULL, name, sizeof name), FUV_EINVAL);
  FUV_ASSERT_ERR(fuv_ip_name((struct sockaddr *)&sin, NULL, sizeof name), FUV_EINVAL);
}
END_TEST

static Suite *addr_suite(void) {
  Suite *s = suite_create("addr_" FUV_TEST_BACKEND);
  TCase *parse = tcase_create("parse");
  tcase_add_test(parse, ip4_addr_fills_family_port_and_address);
  tcase_add_test(parse, ip4_addr_rejects_malformed_text);
  tcase_add_test(parse, ip6_addr_fills_family_port_and_address);
  tcase_add_test(parse, ip6_addr_rejects_malformed_text);
  tcase_add_test(parse, ports_outside_0_to_65535_are_einval);
  tcase_add_test(parse, ip6_addr_takes_a_scope_by_interface_name_or_index);
  tcase_add_test(parse, ip6_addr_rejects_an_unknown_interface_name);
  suite_add_tcase(s, parse);

  TCase *name = tcase_create("name");
  tcase_add_test(name, ip_name_round_trips_canonical_text);
  tcase_add_test(name, ip_name_writes_the_canonical_form_of_other_spellings);
  tcase_add_test(name, ip_name_is_enospc_when_the_buffer_is_too_small);
  tcase_add_test(name, ip_name_rejects_other_families_and_null);
  suite_add_tcase(s, name);
  return s;
}

FUV_TEST_MAIN(addr_suite)
