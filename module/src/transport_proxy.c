/* transport_proxy.c - which proxy the native transport goes through, read
 * from the environment the way botocore reads it: https_proxy/HTTPS_PROXY
 * for https URLs (a CONNECT tunnel), http_proxy/HTTP_PROXY for http URLs
 * (absolute-form requests), no_proxy/NO_PROXY to bypass (lower case wins,
 * as in Python's urllib). Only http:// proxies without credentials. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "transport_native.h"

int kmsi_split_hostport(const char *hostport, int default_port, char *host,
                        size_t size, int *port)
{
  const char *end, *colon;
  size_t n;
  char *stop;
  long p = default_port;

  if (hostport[0] == '[') {
    end = strchr(hostport, ']');
    if (!end)
      return 0;
    colon = end[1] == ':' ? end + 1 : NULL;
    if (end[1] && !colon)
      return 0;
    hostport++;
  } else {
    colon = strrchr(hostport, ':');
    end = colon ? colon : hostport + strlen(hostport);
  }
  n = (size_t)(end - hostport);
  if (!n || n >= size)
    return 0;
  if (colon) {
    p = strtol(colon + 1, &stop, 10);
    if (stop == colon + 1 || *stop || p < 1 || p > 65535)
      return 0;
  }
  memcpy(host, hostport, n);
  host[n] = '\0';
  *port = (int)p;
  return 1;
}

/* The variable's value, the lower-case name first; set but empty in
 * lower case means none. *which receives the name used. */
static const char *proxy_env(const char *lower, const char *upper,
                             const char **which)
{
  const char *v = getenv(lower);
  *which = lower;
  if (v)
    return *v ? v : NULL;
  *which = upper;
  v = getenv(upper);
  return v && *v ? v : NULL;
}

/* urllib's proxy_bypass_environment: "*", or an entry (leading dots
 * ignored, case-insensitive) equal to the host or host:port, or a domain
 * suffix of either. */
static int bypassed(const char *host, const char *hostport)
{
  const char *which, *list = proxy_env("no_proxy", "NO_PROXY", &which);
  const char *p;

  if (!list)
    return 0;
  if (strcmp(list, "*") == 0)
    return 1;
  for (p = list; *p;) {
    size_t n = strcspn(p, ","), hl = strlen(host), hpl = strlen(hostport);
    const char *e = p;
    while (n && (*e == ' ' || *e == '\t' || *e == '.'))
      e++, n--;
    while (n && (e[n - 1] == ' ' || e[n - 1] == '\t'))
      n--;
    if (n && ((hl == n && strncasecmp(host, e, n) == 0) ||
              (hpl == n && strncasecmp(hostport, e, n) == 0) ||
              (hl > n && host[hl - n - 1] == '.' &&
               strncasecmp(host + hl - n, e, n) == 0) ||
              (hpl > n && hostport[hpl - n - 1] == '.' &&
               strncasecmp(hostport + hpl - n, e, n) == 0)))
      return 1;
    p += strcspn(p, ",");
    if (*p == ',')
      p++;
  }
  return 0;
}

int kmsi_proxy_for(int https, const char *host, const char *hostport,
                   kmsi_proxy *out, kms_error *err)
{
  const char *which, *v, *hp;
  char auth[300];
  size_t n;

  v = https ? proxy_env("https_proxy", "HTTPS_PROXY", &which)
            : proxy_env("http_proxy", "HTTP_PROXY", &which);
  if (!v || bypassed(host, hostport))
    return 0;
  /* botocore takes a bare "host:port" as http://host:port. */
  hp = strstr(v, "://");
  if (hp && (size_t)(hp - v) == 4 && strncasecmp(v, "http", 4) == 0)
    hp += 3;
  else if (!hp)
    hp = v;
  else
    hp = NULL;
  n = hp ? strcspn(hp, "/?#") : 0;
  if (!hp || !n || n >= sizeof auth || memchr(hp, '@', n)) {
    kmsi_error(err, KMS_ERR_CONFIG, "proxy: the URL in %s is not supported "
               "(only http://host[:port], without credentials)", which);
    return -1;
  }
  memcpy(auth, hp, n);
  auth[n] = '\0';
  if (!kmsi_split_hostport(auth, 80, out->host, sizeof out->host,
                           &out->port)) {
    kmsi_error(err, KMS_ERR_CONFIG, "proxy: bad host or port in %s", which);
    return -1;
  }
  return 1;
}
