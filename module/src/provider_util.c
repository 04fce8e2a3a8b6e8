/* provider_util.c - helpers of the credential providers: the log line,
 * one HTTP exchange through the chain's transport, ISO 8601 times, JSON
 * credentials (ECS, IMDS, credential_process) with every string wiped,
 * secret files, and form encoding for STS. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "provider.h"

void kmsi_cred_log(const kmsi_cred_chain *c, kms_log_level level,
                   const char *fmt, ...)
{
  char line[512];
  va_list ap;

  if (!c || !c->log || level > c->log_max)
    return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  c->log(c->log_ud, level, line);
}

kms_status kmsi_cred_send(kmsi_cred_chain *c, const kms_http *msg,
                          long timeout_ms, kms_http_response *resp,
                          kms_error *err)
{
  kms_transport_opts opts;
  kms_status st;

  kms_http_response_init(resp, c->a.fn, c->a.ud);
  resp->body.secret = 1;
  if (!c->transport)
    return kmsi_error(err, KMS_ERR_INVALID_ARG,
                      "credentials: no transport to reach %s",
                      kms_http_host(msg));
  memset(&opts, 0, sizeof opts);
  opts.connect_timeout_ms = timeout_ms ? timeout_ms : c->connect_timeout_ms;
  opts.read_timeout_ms = timeout_ms ? timeout_ms : c->read_timeout_ms;
  opts.ca_bundle = c->ca_bundle;
  opts.verify_tls = c->verify_tls;
  kmsi_cred_log(c, KMS_LOG_DEBUG, "credentials: %s %s",
                kms_http_method(msg), kms_http_url(msg));
  st = c->transport(c->tud, msg, &opts, resp, err);
  if (st == KMS_OK)
    kmsi_cred_log(c, KMS_LOG_DEBUG, "credentials: HTTP %ld from %s",
                  resp->status, kms_http_host(msg));
  return st;
}

/* {===== ISO 8601 ===== */

static int digits(const char **p, int n, int *out)
{
  int v = 0, i;
  for (i = 0; i < n; i++) {
    if (!isdigit((unsigned char)(*p)[i]))
      return 0;
    v = v * 10 + ((*p)[i] - '0');
  }
  *p += n;
  *out = v;
  return 1;
}

int kmsi_parse_iso8601(const char *s, time_t *out)
{
  struct tm tm;
  int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
  time_t t;
  const char *p = s;

  if (!s)
    return 0;
  while (*p == ' ')
    p++;
  if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) ||
      *p++ != '-' || !digits(&p, 2, &d) || (*p != 'T' && *p != 't' &&
                                            *p != ' '))
    return 0;
  p++;
  if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
    return 0;
  sec = 0;
  if (*p == ':') {
    p++;
    if (!digits(&p, 2, &sec))
      return 0;
    if (*p == '.' || *p == ',') {
      p++;
      if (!isdigit((unsigned char)*p))
        return 0;
      while (isdigit((unsigned char)*p))
        p++;
    }
  }
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if (*p == '+' || *p == '-') {
    sign = *p++ == '-' ? -1 : 1;
    if (!digits(&p, 2, &oh))
      return 0;
    if (*p == ':')
      p++;
    if (isdigit((unsigned char)*p) && !digits(&p, 2, &om))
      return 0;
  }
  while (*p == ' ')
    p++;
  if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
      sec > 60 || oh > 23 || om > 59)
    return 0;
  memset(&tm, 0, sizeof tm);
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  t = timegm(&tm);
  if (t == (time_t)-1)
    return 0;
  *out = t - sign * (oh * 3600 + om * 60);
  return 1;
}
/* }===== */

/* {===== JSON ===== */

/* Wipes every string cJSON allocated in the tree (keys and values), so
 * that cJSON_Delete frees no secret. */
static void wipe_json(cJSON *item)
{
  for (; item; item = item->next) {
    if (item->valuestring)
      kmsi_wipe(item->valuestring, strlen(item->valuestring));
    if (item->string)
      kmsi_wipe(item->string, strlen(item->string));
    wipe_json(item->child);
  }
}

static const char *json_string(const cJSON *obj, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

kms_status kmsi_creds_from_json(kmsi_cred_chain *c, const char *what,
                                const char *json, size_t len,
                                const char *token_key, const char *exp_key,
                                int *version, kms_credentials **out,
                                kms_error *err)
{
  kms_status result = KMS_ERR_CREDENTIALS;
  cJSON *doc = NULL;
  const cJSON *ver;
  const char *akid, *secret, *token = NULL, *exp_text = NULL;
  time_t exp = 0;

  *out = NULL;
  doc = cJSON_ParseWithLength(json, len);
  if (!cJSON_IsObject(doc)) {
    kmsi_error(err, KMS_ERR_CREDENTIALS, "%s: the response is not a JSON "
               "object", what);
    goto cleanup;
  }
  if (version) {
    ver = cJSON_GetObjectItemCaseSensitive(doc, "Version");
    *version = cJSON_IsNumber(ver) ? ver->valueint : -1;
    if (*version != 1) {
      result = KMS_OK;  /* the caller words the error */
      goto cleanup;
    }
  }
  akid = json_string(doc, "AccessKeyId");
  secret = json_string(doc, "SecretAccessKey");
  if (token_key)
    token = json_string(doc, token_key);
  if (exp_key)
    exp_text = json_string(doc, exp_key);
  if (!akid || !*akid || !secret || !*secret) {
    kmsi_error(err, KMS_ERR_CREDENTIALS,
               "%s: Missing required key in response: '%s'", what,
               !akid || !*akid ? "AccessKeyId" : "SecretAccessKey");
    goto cleanup;
  }
  if (exp_text && !kmsi_parse_iso8601(exp_text, &exp)) {
    kmsi_error(err, KMS_ERR_CREDENTIALS,
               "%s: Expiration is not an ISO 8601 time", what);
    goto cleanup;
  }
  *out = kms_credentials_new(akid, secret, token, exp, c->a.fn, c->a.ud,
                             err);
  result = *out ? KMS_OK : KMS_ERR_NOMEM;
cleanup:
  wipe_json(doc);
  cJSON_Delete(doc);
  return result;
}
/* }===== */

kms_status kmsi_read_secret_file(const kmsi_allocator *a, const char *what,
                                 const char *path, size_t max, kms_buf *out,
                                 kms_error *err)
{
  kms_status result = KMS_ERR_IO;
  FILE *f;
  char chunk[1024];
  size_t n;

  kmsi_buf_init(out, a, 1);
  f = fopen(path, "rb");
  if (!f)
    return kmsi_error(err, KMS_ERR_IO, "%s: cannot read %s: %s", what, path,
                      strerror(errno));
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (out->len + n > max) {
      kmsi_error(err, KMS_ERR_IO, "%s: %s is larger than %zu bytes", what,
                 path, max);
      goto cleanup;
    }
    if (kmsi_buf_append(out, chunk, n) != KMS_OK) {
      result = kmsi_error(err, KMS_ERR_NOMEM, "%s: out of memory", what);
      goto cleanup;
    }
  }
  if (ferror(f)) {
    kmsi_error(err, KMS_ERR_IO, "%s: cannot read %s", what, path);
    goto cleanup;
  }
  if (!out->data && kmsi_buf_reserve(out, 0) != KMS_OK) {
    result = kmsi_error(err, KMS_ERR_NOMEM, "%s: out of memory", what);
    goto cleanup;
  }
  result = KMS_OK;
cleanup:
  kmsi_wipe(chunk, sizeof chunk);
  fclose(f);
  if (result != KMS_OK)
    kms_buf_free(out);
  return result;
}

kms_status kmsi_form_encode(kms_buf *b, const char *s, size_t len)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  for (i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)s[i];
    kms_status st;
    if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
        (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' ||
        ch == '~') {
      st = kmsi_buf_putc(b, (char)ch);
    } else {
      char enc[3] = {'%', hex[ch >> 4], hex[ch & 15]};
      st = kmsi_buf_append(b, enc, 3);
    }
    if (st != KMS_OK)
      return st;
  }
  return KMS_OK;
}
