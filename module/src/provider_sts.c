/* provider_sts.c - credentials from AWS STS: AssumeRole for a profile's
 * role_arn (with source_profile chains, cycle-checked, or a
 * credential_source), signed with kms_sign, and the unsigned
 * AssumeRoleWithWebIdentity. The Query protocol's XML answers are read
 * with a tiny tag extractor. STS is reached at AWS_ENDPOINT_URL_STS, else
 * AWS_ENDPOINT_URL, else the profile's services "sts" or endpoint_url,
 * else the regional https://sts.REGION.<partition suffix> (the global
 * https://sts.amazonaws.com, signed for us-east-1, without a region). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <openssl/rand.h>
#include "provider.h"

#define STS_VERSION "2011-06-15"
#define STS_ATTEMPTS 3
#define MAX_TOKEN_FILE (64u * 1024u)
#define MAX_DEPTH 32

/* {===== XML ===== */

/* Finds <tag>...</tag> in xml[0..len): *b and *e bound the inner text.
 * The tag must be written plainly (no attributes, no prefix), which is how
 * STS writes the elements read here. */
static int xml_find(const char *xml, size_t len, const char *tag,
                    const char **b, const char **e)
{
  char open[64], close[66];
  size_t ol, cl;
  const char *p = xml, *end = xml + len, *q;

  ol = (size_t)snprintf(open, sizeof open, "<%s>", tag);
  cl = (size_t)snprintf(close, sizeof close, "</%s>", tag);
  if (ol >= sizeof open || cl >= sizeof close)
    return 0;
  while (p + ol <= end) {
    q = memchr(p, '<', (size_t)(end - p));
    if (!q || q + ol > end)
      return 0;
    if (memcmp(q, open, ol) == 0) {
      const char *inner = q + ol, *r = inner;
      while (r + cl <= end) {
        const char *s = memchr(r, '<', (size_t)(end - r));
        if (!s || s + cl > end)
          return 0;
        if (memcmp(s, close, cl) == 0) {
          *b = inner;
          *e = s;
          return 1;
        }
        r = s + 1;
      }
      return 0;
    }
    p = q + 1;
  }
  return 0;
}

/* Appends code point cp as UTF-8. */
static kms_status put_utf8(kms_buf *out, unsigned long cp)
{
  char u[4];
  return kmsi_buf_append(out, u, kmsi_utf8_put((uint32_t)cp, u));
}

/* Decodes the five XML entities and numeric references; anything else
 * after '&' is kept as written. */
static kms_status xml_decode(const char *p, const char *end, kms_buf *out)
{
  static const struct {
    const char *name;
    char ch;
  } named[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'},
               {"quot;", '"'}, {"apos;", '\''}};
  kms_status st = KMS_OK;
  size_t i;

  while (p < end && st == KMS_OK) {
    int done = 0;
    if (*p == '&') {
      for (i = 0; i < sizeof named / sizeof named[0] && !done; i++) {
        size_t n = strlen(named[i].name);
        if ((size_t)(end - p - 1) >= n &&
            memcmp(p + 1, named[i].name, n) == 0) {
          st = kmsi_buf_putc(out, named[i].ch);
          p += n + 1;
          done = 1;
        }
      }
      if (!done && p + 2 < end && p[1] == '#') {
        const char *q = p + 2;
        unsigned long cp = 0;
        int hex = *q == 'x' || *q == 'X', nd = 0;
        if (hex)
          q++;
        while (q < end && nd < 8 &&
               (hex ? isxdigit((unsigned char)*q)
                    : isdigit((unsigned char)*q))) {
          cp = cp * (hex ? 16 : 10) +
               (unsigned long)(isdigit((unsigned char)*q)
                                   ? *q - '0'
                                   : (tolower((unsigned char)*q) - 'a' + 10));
          q++;
          nd++;
        }
        if (nd && q < end && *q == ';' && cp <= 0x10FFFF) {
          st = put_utf8(out, cp);
          p = q + 1;
          done = 1;
        }
      }
    }
    if (!done)
      st = kmsi_buf_putc(out, *p++);
  }
  return st;
}

int kmsi_xml_text(const char *xml, size_t len, const char *tag, kms_buf *out)
{
  const char *b, *e;
  if (!xml || !xml_find(xml, len, tag, &b, &e))
    return 0;
  return xml_decode(b, e, out) == KMS_OK ? 1 : -1;
}
/* }===== */

/* {===== one STS call ===== */

typedef struct sts_param {
  const char *name;
  const char *value;
} sts_param;

static double jitter(void)
{
  unsigned char r[2] = {0, 0};
  if (RAND_bytes(r, 2) != 1)
    return 0.5;
  return (double)((r[0] << 8) | r[1]) / 65536.0;
}

/* STS's throttling codes (botocore's list, as STS uses it): retried like
 * a 5xx. */
static int is_throttling(const char *code)
{
  return strcmp(code, "Throttling") == 0 ||
         strcmp(code, "ThrottlingException") == 0 ||
         strcmp(code, "RequestLimitExceeded") == 0 ||
         strcmp(code, "TooManyRequestsException") == 0 ||
         strcmp(code, "IDPCommunicationError") == 0;
}

/* Reads the credentials of a 200 answer into *out. */
static kms_status sts_credentials(kmsi_cred_chain *c, const char *what,
                                  const kms_buf *body,
                                  kms_credentials **out, kms_error *err)
{
  kms_status result = KMS_ERR_CREDENTIALS;
  const char *b, *e;
  kms_buf akid, secret, token, exp;
  time_t t = 0;
  int r = 0;

  kmsi_buf_init(&akid, &c->a, 0);
  kmsi_buf_init(&secret, &c->a, 1);
  kmsi_buf_init(&token, &c->a, 1);
  kmsi_buf_init(&exp, &c->a, 0);
  if (!body->data || !xml_find(body->data, body->len, "Credentials", &b, &e))
    goto none;
  if ((r = kmsi_xml_text(b, (size_t)(e - b), "AccessKeyId", &akid)) > 0 &&
      (r = kmsi_xml_text(b, (size_t)(e - b), "SecretAccessKey", &secret)) >
          0 &&
      (r = kmsi_xml_text(b, (size_t)(e - b), "SessionToken", &token)) > 0)
    r = kmsi_xml_text(b, (size_t)(e - b), "Expiration", &exp);
  if (r < 0) {
    result = kmsi_error(err, KMS_ERR_NOMEM, "credentials: out of memory");
    goto cleanup;
  }
  if (!akid.len || !secret.len || !token.len)
    goto none;
  if (exp.len && !kmsi_parse_iso8601(exp.data, &t)) {
    kmsi_error(err, KMS_ERR_CREDENTIALS,
               "%s: the STS Expiration is not an ISO 8601 time", what);
    goto cleanup;
  }
  *out = kms_credentials_new(akid.data, secret.data, token.data, t, c->a.fn,
                             c->a.ud, err);
  result = *out ? KMS_OK : KMS_ERR_NOMEM;
  goto cleanup;
none:
  kmsi_error(err, KMS_ERR_CREDENTIALS,
             "%s: the STS response holds no credentials", what);
cleanup:
  kms_buf_free(&akid);
  kms_buf_free(&secret);
  kms_buf_free(&token);
  kms_buf_free(&exp);
  return result;
}

/* Fills err from an STS error answer as botocore's ClientError reads:
 * "An error occurred (CODE) when calling the ACTION operation: MESSAGE". */
static kms_status sts_error(const char *action,
                            const kms_http_response *resp, kms_error *err)
{
  char code[KMS_ERROR_FIELD_SIZE] = "", msg[KMS_ERROR_MESSAGE_SIZE] = "";
  kms_buf b;
  kmsi_allocator a;

  kmsi_allocator_init(&a, NULL, NULL);
  kmsi_buf_init(&b, &a, 1);
  if (resp->body.data &&
      kmsi_xml_text(resp->body.data, resp->body.len, "Code", &b))
    kmsi_strlcpy(code, b.data, sizeof code);
  kmsi_buf_reset(&b);
  if (resp->body.data &&
      kmsi_xml_text(resp->body.data, resp->body.len, "Message", &b))
    kmsi_strlcpy(msg, b.data, sizeof msg);
  kms_buf_free(&b);
  if (!*code)
    snprintf(code, sizeof code, "%ld", resp->status);
  kmsi_error(err, KMS_ERR_CREDENTIALS,
             "An error occurred (%s) when calling the %s operation: %s", code,
             action, msg);
  if (err) {
    err->http_status = resp->status;
    kmsi_strlcpy(err->aws_type, code, sizeof err->aws_type);
  }
  return KMS_ERR_CREDENTIALS;
}

/* POSTs Action=action&Version=...&params to STS, signed with signer (NULL:
 * unsigned, as AssumeRoleWithWebIdentity is), and reads the credentials.
 * Retries like the standard mode (3 attempts) on connection failures,
 * 5xx and throttling. The body is secret (it may hold a web identity
 * token). */
static kms_status sts_call(kmsi_cred_chain *c, const char *what,
                           const char *action, const sts_param *params,
                           size_t n, const kms_credentials *signer,
                           time_t now, kms_credentials **out, kms_error *err)
{
  kms_status result = KMS_ERR_NOMEM;
  kms_buf url, body;
  kms_http *msg = NULL;
  kms_http_response resp;
  kms_sign_params sp;
  const char *region = c->region;
  size_t i;
  int attempt;

  kmsi_buf_init(&url, &c->a, 0);
  kmsi_buf_init(&body, &c->a, 1);
  kms_http_response_init(&resp, c->a.fn, c->a.ud);
  if (region && strcmp(region, "aws-global") == 0)
    region = NULL;
  if (c->sts_url) {
    if (kmsi_buf_puts(&url, c->sts_url) != KMS_OK)
      goto nomem;
  } else {
    kms_buf_free(&url);
    result = kmsi_sts_endpoint(region, c->use_fips, c->use_dualstack, &url,
                               err);
    if (result != KMS_OK)
      goto cleanup;
  }
  if (kmsi_buf_printf(&body, "Action=%s&Version=%s", action, STS_VERSION) !=
      KMS_OK)
    goto nomem;
  for (i = 0; i < n; i++) {
    if (!params[i].value)
      continue;
    if (kmsi_buf_printf(&body, "&%s=", params[i].name) != KMS_OK ||
        kmsi_form_encode(&body, params[i].value, strlen(params[i].value)) !=
            KMS_OK)
      goto nomem;
  }
  msg = kms_http_new("POST", url.data, c->a.fn, c->a.ud, err);
  if (!msg) {
    result = err ? err->status : KMS_ERR_INVALID_ARG;
    goto cleanup;
  }
  result = kms_http_add_header(msg, "Content-Type",
                               "application/x-www-form-urlencoded; "
                               "charset=utf-8",
                               err);
  if (result == KMS_OK)
    result = kms_http_add_header(msg, "User-Agent", c->user_agent, err);
  if (result == KMS_OK)
    result = kms_http_set_body(msg, body.data, body.len, err);
  if (result != KMS_OK)
    goto cleanup;
  if (signer) {
    memset(&sp, 0, sizeof sp);
    sp.region = region ? region : "us-east-1";
    sp.service = "sts";
    sp.time = now;
    result = kms_sign(NULL, msg, signer, &sp, err);
    if (result != KMS_OK)
      goto cleanup;
  }
  kmsi_cred_log(c, KMS_LOG_DEBUG, "credentials: %s %s (%s)", action,
                url.data, signer ? "signed" : "unsigned");
  for (attempt = 1;; attempt++) {
    int retry = 0;
    kms_http_response_free(&resp);
    result = kmsi_cred_send(c, msg, 0, &resp, err);
    if (result != KMS_OK) {
      retry = result == KMS_ERR_CONNECT || result == KMS_ERR_CONNECT_TIMEOUT ||
              result == KMS_ERR_READ_TIMEOUT ||
              result == KMS_ERR_CONNECTION_CLOSED;
      if (result != KMS_ERR_NOMEM) {
        char detail[KMS_ERROR_MESSAGE_SIZE];
        kmsi_strlcpy(detail, err ? err->message : "", sizeof detail);
        result = kmsi_error(err, KMS_ERR_CREDENTIALS, "%s: %s", what, detail);
      }
    } else if (resp.status == 200) {
      result = sts_credentials(c, what, &resp.body, out, err);
      break;
    } else {
      char code[KMS_ERROR_FIELD_SIZE] = "";
      kms_buf b;
      kmsi_buf_init(&b, &c->a, 1);
      if (resp.body.data &&
          kmsi_xml_text(resp.body.data, resp.body.len, "Code", &b))
        kmsi_strlcpy(code, b.data, sizeof code);
      kms_buf_free(&b);
      result = sts_error(action, &resp, err);
      retry = resp.status >= 500 || is_throttling(code);
    }
    if (!retry || attempt >= STS_ATTEMPTS)
      break;
    c->sleep(c->sleep_ud, jitter() * (double)(1 << (attempt - 1)));
  }
  goto cleanup;
nomem:
  result = kmsi_error(err, KMS_ERR_NOMEM, "credentials: out of memory");
cleanup:
  kms_http_response_free(&resp);
  kms_http_free(msg);
  kms_buf_free(&url);
  kms_buf_free(&body);
  return result;
}
/* }===== */

/* {===== web identity ===== */

typedef struct wi_provider {
  kmsi_provider base;
  char *profile;
  int disable_env;
} wi_provider;

static void free_profile(kmsi_cred_chain *c, char *profile)
{
  if (profile)
    kmsi_free(&c->a, profile, strlen(profile) + 1);
}

static void wi_destroy(kmsi_provider *p)
{
  free_profile(p->chain, ((wi_provider *)p)->profile);
}

/* One of the web identity settings: the environment variable (unless
 * disabled), else the profile's key; each looked up on its own, as
 * botocore's _get_config does. */
static const char *wi_config(const wi_provider *wp, const char *env,
                             const char *key)
{
  const char *v = wp->disable_env ? NULL : kmsi_env(env);
  return v ? v : kmsi_profiles_get(wp->base.chain->profiles, wp->profile,
                                   key);
}

static kms_status wi_fetch(kmsi_provider *p, time_t now,
                           kms_credentials **out, kms_error *err)
{
  wi_provider *wp = (wi_provider *)p;
  kmsi_cred_chain *c = p->chain;
  const char *path, *role_arn, *session;
  char default_session[64];
  kms_buf token;
  kms_status result = KMS_OK;
  sts_param params[3];

  kmsi_buf_init(&token, &c->a, 1);
  path = wi_config(wp, "AWS_WEB_IDENTITY_TOKEN_FILE",
                   "web_identity_token_file");
  if (!path || !*path)
    goto cleanup;
  role_arn = wi_config(wp, "AWS_ROLE_ARN", "role_arn");
  if (!role_arn || !*role_arn) {
    result = kmsi_error(
        err, KMS_ERR_CONFIG,
        "The provided profile or the current environment is configured to "
        "assume role with web identity but has no role ARN configured. "
        "Ensure that the profile has the role_arnconfiguration set or the "
        "AWS_ROLE_ARN env var is set.");
    goto cleanup;
  }
  session = wi_config(wp, "AWS_ROLE_SESSION_NAME", "role_session_name");
  if (!session || !*session) {
    snprintf(default_session, sizeof default_session, "kmscks-session-%lld",
             (long long)now);
    session = default_session;
  }
  result = kmsi_read_secret_file(&c->a,
                                 "Error when retrieving credentials from "
                                 "assume-role-with-web-identity",
                                 path, MAX_TOKEN_FILE, &token, err);
  if (result != KMS_OK) {
    if (err)
      err->status = result = KMS_ERR_CREDENTIALS;
    goto cleanup;
  }
  params[0].name = "RoleArn";
  params[0].value = role_arn;
  params[1].name = "RoleSessionName";
  params[1].value = session;
  params[2].name = "WebIdentityToken";
  params[2].value = token.data;
  result = sts_call(c,
                    "Error when retrieving credentials from "
                    "assume-role-with-web-identity",
                    "AssumeRoleWithWebIdentity", params, 3, NULL, now, out,
                    err);
cleanup:
  kms_buf_free(&token);
  return result;
}

kmsi_provider *kmsi_provider_web_identity(kmsi_cred_chain *c,
                                          const char *profile,
                                          int disable_env, kms_error *err)
{
  wi_provider *wp = (wi_provider *)kmsi_provider_alloc(
      c, sizeof *wp, "assume-role-with-web-identity", wi_fetch, err);
  if (!wp)
    return NULL;
  wp->disable_env = disable_env;
  wp->profile = kmsi_strndup(&c->a, profile, strlen(profile));
  if (!wp->profile) {
    kmsi_free(&c->a, wp, sizeof *wp);
    kmsi_error(err, KMS_ERR_NOMEM, "credentials: out of memory");
    return NULL;
  }
  wp->base.destroy = wi_destroy;
  return &wp->base;
}
/* }===== */

/* {===== assume role ===== */

typedef struct ar_provider {
  kmsi_provider base;
  char *profile;
  int top;                  /* in the default chain: may be unconfigured */
  kmsi_provider *source;    /* built on first use */
  const char *source_name;  /* the source profile or credential source,
                               borrowed from the parsed files */
  int from_credential_source;
} ar_provider;

static void ar_destroy(kmsi_provider *p)
{
  ar_provider *ap = (ar_provider *)p;
  kmsi_provider_free(ap->source);
  free_profile(p->chain, ap->profile);
}

static kms_status ar_fetch(kmsi_provider *p, time_t now,
                           kms_credentials **out, kms_error *err);

static ar_provider *ar_new(kmsi_cred_chain *c, const char *profile, int top,
                           kms_error *err)
{
  ar_provider *ap = (ar_provider *)kmsi_provider_alloc(
      c, sizeof *ap, "assume-role", ar_fetch, err);
  if (!ap)
    return NULL;
  ap->top = top;
  ap->profile = kmsi_strndup(&c->a, profile, strlen(profile));
  if (!ap->profile) {
    kmsi_free(&c->a, ap, sizeof *ap);
    kmsi_error(err, KMS_ERR_NOMEM, "credentials: out of memory");
    return NULL;
  }
  ap->base.destroy = ar_destroy;
  return ap;
}

kmsi_provider *kmsi_provider_assume_role(kmsi_cred_chain *c,
                                         const char *profile,
                                         kms_error *err)
{
  ar_provider *ap = ar_new(c, profile, 1, err);
  return ap ? &ap->base : NULL;
}

typedef struct visited {
  const char *names[MAX_DEPTH];
  size_t n;
} visited;

static int has_static(const kmsi_cred_chain *c, const char *profile)
{
  return kmsi_profiles_get(c->profiles, profile, "aws_access_key_id") ||
         kmsi_profiles_get(c->profiles, profile, "aws_secret_access_key");
}

/* botocore's InfiniteLoopConfigError, with the visited list written as
 * Python prints a list of strings. */
static kms_status loop_error(const visited *v, const char *profile,
                             kms_error *err)
{
  char list[KMS_ERROR_MESSAGE_SIZE] = "[";
  size_t i, len = 1;
  for (i = 0; i < v->n && len < sizeof list; i++)
    len += (size_t)snprintf(list + len, sizeof list - len, "%s'%s'",
                            i ? ", " : "", v->names[i]);
  if (len < sizeof list - 1)
    strcat(list, "]");
  return kmsi_error(err, KMS_ERR_CONFIG,
                    "Infinite loop in credential configuration detected. "
                    "Attempting to load from profile %s which has already "
                    "been visited. Visited profiles: %s",
                    profile, list);
}

/* Builds where ap's profile takes its source credentials from, checking
 * the configuration as botocore's _get_role_config does, and going down a
 * chain of role profiles at once (so a loop is found before any call). */
static kms_status ar_build(ar_provider *ap, visited *v, kms_error *err)
{
  kmsi_cred_chain *c = ap->base.chain;
  const char *p = ap->profile;
  const char *cs = kmsi_profiles_get(c->profiles, p, "credential_source");
  const char *sp = kmsi_profiles_get(c->profiles, p, "source_profile");
  size_t i;

  if (cs && sp)
    return kmsi_error(err, KMS_ERR_CONFIG,
                      "The profile \"%s\" contains both source_profile and "
                      "credential_source.",
                      p);
  if (!cs && !sp)
    return kmsi_error(err, KMS_ERR_CREDENTIALS,
                      "Partial credentials found in assume-role, missing: "
                      "source_profile or credential_source");
  if (cs) {
    ap->from_credential_source = 1;
    ap->source_name = cs;
    if (strcasecmp(cs, "Environment") == 0)
      ap->source = kmsi_provider_env(c, err);
    else if (strcasecmp(cs, "Ec2InstanceMetadata") == 0)
      ap->source = kmsi_provider_imds(c, err);
    else if (strcasecmp(cs, "EcsContainer") == 0)
      ap->source = kmsi_provider_container(c, err);
    else
      return kmsi_error(err, KMS_ERR_CONFIG,
                        "The credential source \"%s\" referenced in profile "
                        "\"%s\" is not valid.",
                        cs, p);
    return ap->source ? KMS_OK : KMS_ERR_NOMEM;
  }
  ap->source_name = sp;
  if (!kmsi_profiles_exists(c->profiles, sp))
    return kmsi_error(err, KMS_ERR_CONFIG,
                      "The source_profile \"%s\" referenced in the profile "
                      "\"%s\" does not exist.",
                      sp, p);
  for (i = 0; i < v->n; i++) {
    if (strcmp(v->names[i], sp) == 0) {
      /* A profile may name itself to take its own static keys. */
      if (strcmp(sp, p) != 0 || !has_static(c, sp))
        return loop_error(v, sp, err);
      break;
    }
  }
  if (v->n >= MAX_DEPTH)
    return loop_error(v, sp, err);
  v->names[v->n++] = sp;
  if (has_static(c, sp) || !kmsi_profile_has_role(c, sp)) {
    ap->source = kmsi_provider_profile_list(c, sp, 1, err);
    return ap->source ? KMS_OK : KMS_ERR_NOMEM;
  } else {
    ar_provider *next = ar_new(c, sp, 0, err);
    kms_status st;
    if (!next)
      return KMS_ERR_NOMEM;
    ap->source = &next->base;
    st = ar_build(next, v, err);
    return st;
  }
}

static kms_status ar_fetch(kmsi_provider *p, time_t now,
                           kms_credentials **out, kms_error *err)
{
  ar_provider *ap = (ar_provider *)p;
  kmsi_cred_chain *c = p->chain;
  const kms_credentials *src = NULL;
  const char *role_arn, *session, *duration, *ext;
  char default_session[64], secs[32];
  sts_param params[4];
  kms_status st;
  long d;
  size_t n = 0;

  if (ap->top && !kmsi_profile_has_role(c, ap->profile))
    return KMS_OK;
  if (!ap->source) {
    visited v;
    v.n = 1;
    v.names[0] = ap->profile;
    st = ar_build(ap, &v, err);
    if (st != KMS_OK) {
      kmsi_provider_free(ap->source);
      ap->source = NULL;
      return st;
    }
  }
  if (kmsi_profiles_get(c->profiles, ap->profile, "mfa_serial"))
    return kmsi_error(err, KMS_ERR_CREDENTIALS,
                      "The profile \"%s\" needs an MFA code (mfa_serial), "
                      "which kmscks cannot prompt for.",
                      ap->profile);
  st = kmsi_provider_get(ap->source, now, &src, NULL, err);
  if (st != KMS_OK)
    return st;
  if (!src) {
    if (ap->from_credential_source)
      return kmsi_error(err, KMS_ERR_CREDENTIALS,
                        "Error when retrieving credentials from %s: No "
                        "credentials found in credential_source referenced "
                        "in profile %s",
                        ap->source_name, ap->profile);
    return kmsi_error(err, KMS_ERR_CONFIG,
                      "The source profile \"%s\" must have credentials.",
                      ap->source_name);
  }
  role_arn = kmsi_profiles_get(c->profiles, ap->profile, "role_arn");
  session = kmsi_profiles_get(c->profiles, ap->profile, "role_session_name");
  duration = kmsi_profiles_get(c->profiles, ap->profile, "duration_seconds");
  ext = kmsi_profiles_get(c->profiles, ap->profile, "external_id");
  if (!session) {
    snprintf(default_session, sizeof default_session, "kmscks-session-%lld",
             (long long)now);
    session = default_session;
  }
  params[n].name = "RoleArn";
  params[n++].value = role_arn;
  params[n].name = "RoleSessionName";
  params[n++].value = session;
  if (duration && kmsi_parse_int(duration, &d)) {
    snprintf(secs, sizeof secs, "%ld", d);
    params[n].name = "DurationSeconds";
    params[n++].value = secs;
  }
  if (ext) {
    params[n].name = "ExternalId";
    params[n++].value = ext;
  }
  kmsi_cred_log(c, KMS_LOG_DEBUG,
                "credentials: assuming role of profile %s with %s",
                ap->profile, kms_credentials_access_key_id(src));
  return sts_call(c, "Error when retrieving credentials from assume-role",
                  "AssumeRole", params, n, src, now, out, err);
}
/* }===== */
