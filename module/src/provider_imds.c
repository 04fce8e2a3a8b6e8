/* provider_imds.c - credentials over plain HTTP from the machine we run
 * on: the ECS/EKS container endpoint (AWS_CONTAINER_CREDENTIALS_*) and
 * EC2 instance metadata (IMDSv2: a session token, then the role, then its
 * credentials), with short timeouts so a laptop never hangs on them. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "provider.h"

#define ECS_HOST "http://169.254.170.2"
#define ECS_TIMEOUT_MS 2000L
#define ECS_ATTEMPTS 3
#define ECS_WHAT "Error when retrieving credentials from container-role"
#define IMDS_BASE "http://169.254.169.254/"
#define IMDS_BASE_V6 "http://[fd00:ec2::254]/"
#define IMDS_ROLE_PATH "latest/meta-data/iam/security-credentials/"
#define MAX_AUTH_FILE (16u * 1024u)

/* Builds a GET or PUT for url with the given headers (name/value pairs,
 * NULL-terminated; a NULL value skips the pair). */
static kms_http *request(kmsi_cred_chain *c, const char *method,
                         const char *url, const char *const *headers,
                         kms_error *err)
{
  kms_http *msg = kms_http_new(method, url, c->a.fn, c->a.ud, err);
  size_t i;
  if (!msg)
    return NULL;
  for (i = 0; headers && headers[i]; i += 2) {
    if (!headers[i + 1])
      continue;
    if (kms_http_add_header(msg, headers[i], headers[i + 1], err) !=
        KMS_OK) {
      kms_http_free(msg);
      return NULL;
    }
  }
  return msg;
}

/* {===== ECS / EKS container credentials ===== */

/* The host of an http(s) URL, lowercased, brackets kept off an IPv6
 * literal; is_https tells the scheme. 0 when the URL is not http(s). */
static int url_host(const char *url, char *host, size_t size, int *is_https)
{
  const char *p, *e;
  size_t n;

  if (strncasecmp(url, "http://", 7) == 0) {
    *is_https = 0;
    p = url + 7;
  } else if (strncasecmp(url, "https://", 8) == 0) {
    *is_https = 1;
    p = url + 8;
  } else {
    return 0;
  }
  e = p + strcspn(p, "/?#");
  if (memchr(p, '@', (size_t)(e - p)))
    p = (const char *)memchr(p, '@', (size_t)(e - p)) + 1;
  if (*p == '[') {
    const char *close = memchr(p, ']', (size_t)(e - p));
    if (!close)
      return 0;
    p++;
    e = close;
  } else {
    const char *colon = memchr(p, ':', (size_t)(e - p));
    if (colon)
      e = colon;
  }
  n = (size_t)(e - p);
  if (n == 0 || n >= size)
    return 0;
  for (size_t i = 0; i < n; i++)
    host[i] = (char)tolower((unsigned char)p[i]);
  host[n] = '\0';
  return 1;
}

/* 1 for 127.0.0.0/8 written as a dotted quad. */
static int is_loopback_v4(const char *h)
{
  int parts = 0, val = -1;
  if (strncmp(h, "127.", 4) != 0)
    return 0;
  for (; *h; h++) {
    if (isdigit((unsigned char)*h)) {
      val = (val < 0 ? 0 : val) * 10 + (*h - '0');
      if (val > 255)
        return 0;
    } else if (*h == '.' && val >= 0) {
      parts++;
      val = -1;
    } else {
      return 0;
    }
  }
  return parts == 3 && val >= 0;
}

/* Current botocore's rule for AWS_CONTAINER_CREDENTIALS_FULL_URI: any
 * https host; over http only a loopback address or the ECS and EKS
 * link-local hosts. */
static int full_uri_allowed(const char *url)
{
  char host[256];
  int https;
  if (!url_host(url, host, sizeof host, &https))
    return 0;
  return https || is_loopback_v4(host) || strcmp(host, "::1") == 0 ||
         strcmp(host, "localhost") == 0 ||
         strcmp(host, "169.254.170.2") == 0 ||
         strcmp(host, "169.254.170.23") == 0 ||
         strcmp(host, "fd00:ec2::23") == 0;
}

/* The Authorization value: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read on
 * every fetch: EKS rotates it; a final newline is dropped), else
 * AWS_CONTAINER_AUTHORIZATION_TOKEN. A CR or LF inside is refused. */
static kms_status container_token(kmsi_cred_chain *c, kms_buf *token,
                                  kms_error *err)
{
  const char *file = kmsi_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  const char *v;
  kms_status st;

  if (file) {
    st = kmsi_read_secret_file(&c->a, ECS_WHAT, file, MAX_AUTH_FILE, token,
                               err);
    if (st != KMS_OK) {
      if (err)
        err->status = KMS_ERR_CREDENTIALS;
      return KMS_ERR_CREDENTIALS;
    }
    while (token->len && (token->data[token->len - 1] == '\n' ||
                          token->data[token->len - 1] == '\r'))
      token->data[--token->len] = '\0';
  } else {
    kmsi_buf_init(token, &c->a, 1);
    v = kmsi_env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    if (v && kmsi_buf_puts(token, v) != KMS_OK)
      return kmsi_error(err, KMS_ERR_NOMEM, "credentials: out of memory");
  }
  if (token->data && strpbrk(token->data, "\r\n"))
    return kmsi_error(err, KMS_ERR_CREDENTIALS,
                      ECS_WHAT ": Auth token value is not a legal header "
                      "value");
  return KMS_OK;
}

static kms_status container_fetch(kmsi_provider *p, time_t now,
                                  kms_credentials **out, kms_error *err)
{
  kmsi_cred_chain *c = p->chain;
  const char *rel = kmsi_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  const char *full = kmsi_env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  kms_status result = KMS_OK;
  kms_buf url, token;
  kms_http *msg = NULL;
  kms_http_response resp;
  const char *headers[7];
  int attempt;
  (void)now;

  kmsi_buf_init(&url, &c->a, 0);
  kmsi_buf_init(&token, &c->a, 1);
  kms_http_response_init(&resp, c->a.fn, c->a.ud);
  if (!rel && !full)
    goto cleanup;
  if (rel) {
    if (kmsi_buf_printf(&url, "%s%s%s", ECS_HOST, rel[0] == '/' ? "" : "/",
                        rel) != KMS_OK)
      goto nomem;
  } else {
    if (!full_uri_allowed(full)) {
      char host[256] = "";
      int https;
      url_host(full, host, sizeof host, &https);
      result = kmsi_error(err, KMS_ERR_CREDENTIALS,
                          "Unsupported host '%s'.  Can only retrieve "
                          "metadata from a loopback address or one of these "
                          "hosts: 169.254.170.2, 169.254.170.23, "
                          "fd00:ec2::23, localhost",
                          host);
      goto cleanup;
    }
    if (kmsi_buf_puts(&url, full) != KMS_OK)
      goto nomem;
  }
  result = container_token(c, &token, err);
  if (result != KMS_OK)
    goto cleanup;
  headers[0] = "Accept";
  headers[1] = "application/json";
  headers[2] = "Authorization";
  headers[3] = token.len ? token.data : NULL;
  headers[4] = "User-Agent";
  headers[5] = c->user_agent;
  headers[6] = NULL;
  msg = request(c, "GET", url.data, headers, err);
  if (!msg) {
    result = err ? err->status : KMS_ERR_NOMEM;
    goto cleanup;
  }
  for (attempt = 1;; attempt++) {
    char detail[KMS_ERROR_MESSAGE_SIZE];
    kms_http_response_free(&resp);
    result = kmsi_cred_send(c, msg, ECS_TIMEOUT_MS, &resp, err);
    if (result == KMS_ERR_NOMEM)
      goto cleanup;
    if (result != KMS_OK) {
      kmsi_strlcpy(detail, err ? err->message : "", sizeof detail);
      result = kmsi_error(err, KMS_ERR_CREDENTIALS,
                          ECS_WHAT ": Received error when attempting to "
                          "retrieve ECS metadata: %s",
                          detail);
    } else if (resp.status != 200) {
      /* The body is not quoted: it could echo the token. */
      result = kmsi_error(err, KMS_ERR_CREDENTIALS,
                          ECS_WHAT ": Received non 200 response (%ld) from "
                          "ECS metadata",
                          resp.status);
      if (err)
        err->http_status = resp.status;
    } else {
      result = kmsi_creds_from_json(c, ECS_WHAT,
                                    resp.body.data ? resp.body.data : "",
                                    resp.body.len, "Token", "Expiration",
                                    NULL, out, err);
      break;
    }
    if (attempt >= ECS_ATTEMPTS)
      break;
    c->sleep(c->sleep_ud, 1.0);
  }
  goto cleanup;
nomem:
  result = kmsi_error(err, KMS_ERR_NOMEM, "credentials: out of memory");
cleanup:
  kms_http_response_free(&resp);
  kms_http_free(msg);
  kms_buf_free(&url);
  kms_buf_free(&token);
  return result;
}

kmsi_provider *kmsi_provider_container(kmsi_cred_chain *c, kms_error *err)
{
  return kmsi_provider_alloc(c, sizeof(kmsi_provider), "container-role",
                             container_fetch, err);
}
/* }===== */

/* {===== EC2 instance metadata (IMDSv2) ===== */

/* A number of the IMDS settings: the environment variable, the profile's
 * key, or def (botocore's metadata_service_timeout and
 * metadata_service_num_attempts). */
static long imds_number(kmsi_cred_chain *c, const char *env, const char *key,
                        long def)
{
  const char *v = kmsi_env(env);
  long n;
  if (!v)
    v = kmsi_profiles_get(c->profiles, c->profile, key);
  return v && kmsi_parse_int(v, &n) && n > 0 ? n : def;
}

static const char *imds_setting(kmsi_cred_chain *c, const char *env,
                                const char *key)
{
  const char *v = kmsi_env(env);
  return v ? v : kmsi_profiles_get(c->profiles, c->profile, key);
}

/* One IMDS exchange with botocore's retry rule (a non-200 or an empty
 * answer is retried, and so is a failed connection) up to attempts.
 * Returns 1 with resp filled on a usable answer. */
static int imds_exchange(kmsi_cred_chain *c, kms_http *msg, long timeout_ms,
                         long attempts, kms_http_response *resp)
{
  long i;
  for (i = 0; i < attempts; i++) {
    kms_error e;
    kms_error_clear(&e);
    kms_http_response_free(resp);
    if (kmsi_cred_send(c, msg, timeout_ms, resp, &e) != KMS_OK) {
      kmsi_cred_log(c, KMS_LOG_DEBUG, "credentials: IMDS: %s", e.message);
      continue;
    }
    if (resp->status == 200 && resp->body.len > 0)
      return 1;
    kmsi_cred_log(c, KMS_LOG_DEBUG, "credentials: IMDS answered %ld%s",
                  resp->status, resp->body.len ? "" : " with no body");
  }
  return 0;
}

/* botocore's InstanceMetadataFetcher: any failure means "no credentials
 * here" (the chain ends with KMS_ERR_NO_CREDENTIALS), never an error. A
 * token request answered 403, 404 or 405, or timing out, falls back to
 * IMDSv1 (no token), as botocore does. */
static kms_status imds_fetch(kmsi_provider *p, time_t now,
                             kms_credentials **out, kms_error *err)
{
  kmsi_cred_chain *c = p->chain;
  const char *base = imds_setting(c, "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                                  "ec2_metadata_service_endpoint");
  const char *mode = imds_setting(c, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
                                  "ec2_metadata_service_endpoint_mode");
  long timeout_ms = 1000 * imds_number(c, "AWS_METADATA_SERVICE_TIMEOUT",
                                       "metadata_service_timeout", 1);
  long attempts = imds_number(c, "AWS_METADATA_SERVICE_NUM_ATTEMPTS",
                              "metadata_service_num_attempts", 1);
  const char *disabled = kmsi_env("AWS_EC2_METADATA_DISABLED");
  kms_status result = KMS_OK;
  kms_buf url, token, role;
  kms_http *msg = NULL;
  kms_http_response resp;
  const char *headers[5];
  long i;
  (void)now;

  kmsi_buf_init(&url, &c->a, 0);
  kmsi_buf_init(&token, &c->a, 1);
  kmsi_buf_init(&role, &c->a, 0);
  kms_http_response_init(&resp, c->a.fn, c->a.ud);
  if (disabled && strcasecmp(disabled, "true") == 0) {
    kmsi_cred_log(c, KMS_LOG_DEBUG,
                  "credentials: access to EC2 metadata has been disabled");
    goto cleanup;
  }
  if (!base)
    base = mode && strcasecmp(mode, "ipv6") == 0 ? IMDS_BASE_V6 : IMDS_BASE;

  /* 1. PUT latest/api/token */
  if (kmsi_buf_printf(&url, "%s%slatest/api/token", base,
                      base[strlen(base) - 1] == '/' ? "" : "/") != KMS_OK)
    goto nomem;
  headers[0] = "x-aws-ec2-metadata-token-ttl-seconds";
  headers[1] = "21600";
  headers[2] = "User-Agent";
  headers[3] = c->user_agent;
  headers[4] = NULL;
  msg = request(c, "PUT", url.data, headers, err);
  if (!msg)
    goto fail;
  for (i = 0; i < attempts; i++) {
    kms_error e;
    kms_status st;
    kms_error_clear(&e);
    kms_http_response_free(&resp);
    st = kmsi_cred_send(c, msg, timeout_ms, &resp, &e);
    if (st == KMS_ERR_READ_TIMEOUT)
      break;
    if (st != KMS_OK)
      continue;
    if (resp.status == 200) {
      if (kmsi_buf_append(&token, resp.body.data ? resp.body.data : "",
                          resp.body.len) != KMS_OK)
        goto nomem;
      break;
    }
    if (resp.status == 400) {
      kmsi_cred_log(c, KMS_LOG_DEBUG, "credentials: IMDS refused the token "
                    "request (400)");
      goto cleanup;
    }
    if (resp.status == 403 || resp.status == 404 || resp.status == 405)
      break;
  }
  kms_http_free(msg);
  msg = NULL;
  headers[0] = "x-aws-ec2-metadata-token";
  headers[1] = token.len ? token.data : NULL;

  /* 2. GET the role name. */
  kmsi_buf_reset(&url);
  if (kmsi_buf_printf(&url, "%s%s" IMDS_ROLE_PATH, base,
                      base[strlen(base) - 1] == '/' ? "" : "/") != KMS_OK)
    goto nomem;
  msg = request(c, "GET", url.data, headers, err);
  if (!msg)
    goto fail;
  if (!imds_exchange(c, msg, timeout_ms, attempts, &resp))
    goto cleanup;
  if (kmsi_buf_append(&role, resp.body.data,
                      strcspn(resp.body.data, "\r\n")) != KMS_OK)
    goto nomem;
  kms_http_free(msg);
  msg = NULL;

  /* 3. GET the role's credentials. */
  if (kmsi_buf_puts(&url, role.data) != KMS_OK)
    goto nomem;
  msg = request(c, "GET", url.data, headers, err);
  if (!msg)
    goto fail;
  if (!imds_exchange(c, msg, timeout_ms, attempts, &resp))
    goto cleanup;
  {
    kms_error e;
    kms_error_clear(&e);
    if (kmsi_creds_from_json(c, "IMDS", resp.body.data, resp.body.len,
                             "Token", "Expiration", NULL, out, &e) !=
        KMS_OK) {
      if (e.status == KMS_ERR_NOMEM)
        goto nomem;
      kmsi_cred_log(c, KMS_LOG_DEBUG, "credentials: %s", e.message);
    } else {
      kmsi_cred_log(c, KMS_LOG_INFO,
                    "credentials: found credentials from IAM Role: %s",
                    role.data);
    }
  }
  goto cleanup;
nomem:
  result = kmsi_error(err, KMS_ERR_NOMEM, "credentials: out of memory");
  goto cleanup;
fail:
  result = err ? err->status : KMS_ERR_NOMEM;
cleanup:
  kms_http_response_free(&resp);
  kms_http_free(msg);
  kms_buf_free(&url);
  kms_buf_free(&token);
  kms_buf_free(&role);
  return result;
}

kmsi_provider *kmsi_provider_imds(kmsi_cred_chain *c, kms_error *err)
{
  return kmsi_provider_alloc(c, sizeof(kmsi_provider), "iam-role",
                             imds_fetch, err);
}
/* }===== */
