/* pattern.c - hand-written matchers for the patterns of the KMS model.
 * Each one is a full match over the whole value (as the service applies
 * them), ASCII only (\d is [0-9]), with no allocation and no locale: a
 * regex library would bring malloc and locale-dependent ranges. */
#include <string.h>
#include "request_int.h"

static int is_digit(unsigned char c)
{
  return c >= '0' && c <= '9';
}

static int is_lower(unsigned char c)
{
  return c >= 'a' && c <= 'z';
}

static int is_alnum(unsigned char c)
{
  return is_digit(c) || is_lower(c) || (c >= 'A' && c <= 'Z');
}

/* s[0..len) starts with the literal lit. */
static int has_prefix(const char *s, size_t len, const char *lit)
{
  size_t n = strlen(lit);
  return len >= n && memcmp(s, lit, n) == 0;
}

/* Number of leading bytes of s[0..len) for which accept() holds. */
static size_t span(const char *s, size_t len, int (*accept)(unsigned char))
{
  size_t i = 0;
  while (i < len && accept((unsigned char)s[i]))
    i++;
  return i;
}

/* cluster-[2-7a-zA-Z]{11,16} */
static int is_cluster_char(unsigned char c)
{
  return (c >= '2' && c <= '7') || is_lower(c) || (c >= 'A' && c <= 'Z');
}

int kmsi_match_cluster_id(const char *s, size_t len)
{
  size_t n;
  if (!has_prefix(s, len, "cluster-"))
    return 0;
  n = len - 8;
  return n >= 11 && n <= 16 && span(s + 8, n, is_cluster_char) == n;
}

/* ^https://[a-zA-Z0-9.-]+$ */
static int is_host_char(unsigned char c)
{
  return is_alnum(c) || c == '.' || c == '-';
}

int kmsi_match_xks_uri_endpoint(const char *s, size_t len)
{
  size_t n;
  if (!has_prefix(s, len, "https://"))
    return 0;
  n = len - 8;
  return n >= 1 && span(s + 8, n, is_host_char) == n;
}

/* ^(/[a-zA-Z0-9\/_-]+/kms/xks/v\d{1,2})$|^(/kms/xks/v\d{1,2})$
 * The value ends in "/kms/xks/v" and one or two digits; what comes before
 * is either nothing or "/" and at least one of [a-zA-Z0-9/_-]. */
static int is_path_char(unsigned char c)
{
  return is_alnum(c) || c == '/' || c == '_' || c == '-';
}

int kmsi_match_xks_uri_path(const char *s, size_t len)
{
  static const char tail[] = "/kms/xks/v";
  size_t tail_len = sizeof tail - 1;
  size_t ndig = 0, prefix;

  while (ndig < len && ndig < 3 && is_digit((unsigned char)s[len - 1 - ndig]))
    ndig++;
  if (ndig < 1 || ndig > 2 || len < tail_len + ndig)
    return 0;
  prefix = len - ndig - tail_len;
  if (memcmp(s + prefix, tail, tail_len) != 0)
    return 0;
  if (prefix == 0)
    return 1;
  return prefix >= 2 && s[0] == '/' &&
         span(s + 1, prefix - 1, is_path_char) == prefix - 1;
}

/* ^(com|eu)\.amazonaws\.vpce\.([a-z]+-){2,3}\d+\.vpce-svc-[0-9a-z]+$
 * [a-z]+- groups and \d+ start with disjoint classes, so one greedy pass
 * decides. */
static int is_svc_char(unsigned char c)
{
  return is_digit(c) || is_lower(c);
}

int kmsi_match_vpc_service_name(const char *s, size_t len)
{
  static const char svc[] = ".vpce-svc-";
  size_t i, groups = 0, n;

  if (has_prefix(s, len, "com.amazonaws.vpce."))
    i = 19;
  else if (has_prefix(s, len, "eu.amazonaws.vpce."))
    i = 18;
  else
    return 0;
  for (;;) {
    n = span(s + i, len - i, is_lower);
    if (n == 0)
      break;
    if (i + n >= len || s[i + n] != '-')
      return 0;
    i += n + 1;
    groups++;
  }
  if (groups < 2 || groups > 3)
    return 0;
  n = span(s + i, len - i, is_digit);
  if (n == 0)
    return 0;
  i += n;
  if (!has_prefix(s + i, len - i, svc))
    return 0;
  i += sizeof svc - 1;
  n = span(s + i, len - i, is_svc_char);
  return n >= 1 && i + n == len;
}

/* [0-9]{12} */
int kmsi_match_account_id(const char *s, size_t len)
{
  return len == 12 && span(s, len, is_digit) == len;
}

/* ^[A-Z2-7]+$ */
static int is_base32_char(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7');
}

int kmsi_match_xks_access_key_id(const char *s, size_t len)
{
  return len >= 1 && span(s, len, is_base32_char) == len;
}

/* ^[a-zA-Z0-9\/+=]+$ */
static int is_secret_char(unsigned char c)
{
  return is_alnum(c) || c == '/' || c == '+' || c == '=';
}

int kmsi_match_xks_secret(const char *s, size_t len)
{
  return len >= 1 && span(s, len, is_secret_char) == len;
}
