/* test_credentials.c - the credential chain (provider_*.c) offline: every
 * source, the AWS order, refresh before expiry, and every error message,
 * with a fake transport that answers canned responses and records the
 * requests it gets (method, URL, headers, body, timeouts). Secrets used
 * here carry markers; no error message or log line may contain one. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "provider.h"
#include "testing.h"

/* Under valgrind, the scan below reads the unused tail of buffers: say it
 * is meant. */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define SCAN_DEFINED(p, n) VALGRIND_MAKE_MEM_DEFINED(p, n)
#endif
#endif
#ifndef SCAN_DEFINED
#define SCAN_DEFINED(p, n) ((void)0)
#endif

#define NOW ((time_t)1700000000)  /* 2023-11-14T22:13:20Z */

static char dir[128];
static char cfg_path[256], cred_path[256];
static t_alloc_state st;

/* {===== secrets: what must never be printed ===== */

static const char *const secrets[] = {
  "wJalrXUtnFEMI-SECRET-ENV", "SESSION-TOKEN-ENV", "SECRET-FILE-KEY",
  "SECRET-EXPLICIT", "STS-SECRET-KEY", "STS-SESSION-TOKEN",
  "WEB-IDENTITY-JWT", "ECS-AUTH-TOKEN", "IMDS-SECRET", "IMDS-API-TOKEN",
  "PROCESS-SECRET", NULL};

static int leaked;          /* a secret seen in a message or log line */
static char last_log[1024];
static int log_lines;

static void check_text(const char *what, const char *text)
{
  size_t i;
  for (i = 0; secrets[i]; i++)
    if (text && strstr(text, secrets[i])) {
      printf("# %s leaks secret #%zu\n", what, (size_t)i);
      leaked++;
    }
}

/* The allocator of every object here: t_alloc, plus a scan of each block
 * given back for the secrets above. A hit is a secret freed unwiped. */
static int unwiped;
static void *scan_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  size_t i;
  if (ptr && osize) {
    SCAN_DEFINED(ptr, osize);
    for (i = 0; secrets[i]; i++) {
      size_t n = strlen(secrets[i]), k;
      for (k = 0; k + n <= osize; k++)
        if (memcmp((char *)ptr + k, secrets[i], n) == 0) {
          if (unwiped++ < 5)
            printf("# a block of %zu bytes freed with %s in it\n", osize,
                   secrets[i]);
          break;
        }
    }
  }
  return t_alloc(ud, ptr, osize, nsize);
}

static void log_sink(void *ud, kms_log_level level, const char *msg)
{
  (void)ud;
  (void)level;
  log_lines++;
  kmsi_strlcpy(last_log, msg, sizeof last_log);
  check_text("log line", msg);
}
/* }===== */

/* {===== the fake transport ===== */

#define MAX_REQ 16

typedef struct answer {
  kms_status fail;      /* KMS_OK: answer status/body */
  long status;
  const char *body;
} answer;

typedef struct request {
  char method[8];
  char url[512];
  char headers[4096];   /* "name: value\n" each */
  char body[4096];
  long connect_ms, read_ms;
} request;

typedef struct fake {
  answer answers[MAX_REQ];
  size_t n_answers, next;
  request reqs[MAX_REQ];
  size_t n_reqs;
} fake;

static fake F;

static void fake_reset(void)
{
  memset(&F, 0, sizeof F);
}

static void fake_push(long status, const char *body)
{
  answer *a = &F.answers[F.n_answers++];
  a->fail = KMS_OK;
  a->status = status;
  a->body = body;
}

static void fake_fail(kms_status why)
{
  F.answers[F.n_answers++].fail = why;
}

/* A kms_transport_fn. With no answer left it refuses the connection, as
 * a machine without IMDS or ECS does. */
static kms_status fake_send(void *ud, const kms_http *req,
                            const kms_transport_opts *opts,
                            kms_http_response *resp, kms_error *err)
{
  request *r;
  answer *a;
  size_t i, len;
  const char *name, *value, *body;
  (void)ud;

  if (F.n_reqs < MAX_REQ) {
    r = &F.reqs[F.n_reqs];
    snprintf(r->method, sizeof r->method, "%s", kms_http_method(req));
    snprintf(r->url, sizeof r->url, "%s", kms_http_url(req));
    r->headers[0] = '\0';
    for (i = 0; kms_http_header_at(req, i, &name, &value); i++) {
      size_t n = strlen(r->headers);
      snprintf(r->headers + n, sizeof r->headers - n, "%s: %s\n", name,
               value);
    }
    body = kms_http_body(req, &len);
    snprintf(r->body, sizeof r->body, "%.*s", (int)len, body ? body : "");
    r->connect_ms = opts->connect_timeout_ms;
    r->read_ms = opts->read_timeout_ms;
  }
  F.n_reqs++;
  if (F.next >= F.n_answers)
    return kmsi_error(err, KMS_ERR_CONNECT,
                      "Could not connect to the endpoint URL: \"%s\"",
                      kms_http_url(req));
  a = &F.answers[F.next++];
  if (a->fail != KMS_OK)
    return kmsi_error(err, a->fail, "fake transport failure %d", a->fail);
  resp->status = a->status;
  if (a->body && kmsi_buf_puts(&resp->body, a->body) != KMS_OK)
    return kmsi_error(err, KMS_ERR_NOMEM, "fake: nomem");
  return KMS_OK;
}

/* 1 when request i has a header line "name: value" (value NULL: any). */
static int has_header(size_t i, const char *name, const char *value)
{
  char line[1024];
  if (value) {
    snprintf(line, sizeof line, "%s: %s\n", name, value);
    return strstr(F.reqs[i].headers, line) != NULL;
  }
  snprintf(line, sizeof line, "%s: ", name);
  return strstr(F.reqs[i].headers, line) != NULL;
}

static double slept;
static void no_sleep(void *ud, double seconds)
{
  (void)ud;
  slept += seconds;
}
/* }===== */

/* {===== environment, files, chain ===== */

static const char *const aws_vars[] = {
  "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
  "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KMS", "AWS_ENDPOINT_URL_STS",
  "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
  "AWS_SECURITY_TOKEN", "AWS_CREDENTIAL_EXPIRATION",
  "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_DISABLED",
  "AWS_EC2_METADATA_SERVICE_ENDPOINT",
  "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "AWS_METADATA_SERVICE_TIMEOUT",
  "AWS_METADATA_SERVICE_NUM_ATTEMPTS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
  "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", NULL};

/* A clean slate: no AWS variable, our files (empty), IMDS off unless a
 * test turns it on, region us-east-1. */
static void reset(const char *config, const char *credentials)
{
  size_t i;
  for (i = 0; aws_vars[i]; i++)
    unsetenv(aws_vars[i]);
  setenv("HOME", dir, 1);
  setenv("AWS_CONFIG_FILE", cfg_path, 1);
  setenv("AWS_SHARED_CREDENTIALS_FILE", cred_path, 1);
  setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  setenv("AWS_REGION", "us-east-1", 1);
  unlink(cfg_path);
  unlink(cred_path);
  if (config) {
    FILE *f = fopen(cfg_path, "w");
    fputs(config, f);
    fclose(f);
  }
  if (credentials) {
    FILE *f = fopen(cred_path, "w");
    fputs(credentials, f);
    fclose(f);
  }
  fake_reset();
  slept = 0;
}

static void write_path(const char *name, const char *text, int exec,
                       char *path, size_t size)
{
  FILE *f;
  snprintf(path, size, "%s/%s", dir, name);
  f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
  if (exec)
    chmod(path, 0700);
}

static kms_config *cfg;

/* Resolves settings (with cfg, which may carry explicit values) and
 * builds the chain over the fake transport; NULL with e on failure. */
static kmsi_cred_chain *chain_new(kms_error *e)
{
  kmsi_settings s;
  kmsi_cred_chain *c = NULL;
  kms_error_clear(e);
  if (kmsi_settings_resolve(cfg, &s, e) != KMS_OK)
    return NULL;
  c = kmsi_cred_chain_new(cfg, &s, fake_send, NULL, e);
  kmsi_settings_free(&s, kmsi_config_allocator(cfg));
  if (c) {
    c->sleep = no_sleep;
    c->sleep_ud = NULL;
  }
  check_text("error message", e->message);
  return c;
}

static void cfg_fresh(void)
{
  kms_config_free(cfg);
  cfg = kms_config_new(scan_alloc, &st, NULL);
  kms_config_set_log(cfg, log_sink, NULL, KMS_LOG_DEBUG);
}

/* Gets credentials at now; returns the access key id (or NULL) and sets
 * *src and e. */
static const char *get(kmsi_cred_chain *c, time_t now, const char **src,
                       kms_error *e)
{
  const kms_credentials *cred = NULL;
  kms_error_clear(e);
  *src = NULL;
  if (!c)
    return NULL;
  kmsi_cred_chain_get(c, now, &cred, src, e);
  check_text("error message", e->message);
  return cred ? kms_credentials_access_key_id(cred) : NULL;
}

/* One-shot: a chain, one get, the source; frees the chain. */
static const char *once(const char **src, kms_error *e, const char **tok)
{
  static char akid[128], token[2048];
  kmsi_cred_chain *c = chain_new(e);
  const kms_credentials *cred = NULL;
  const char *r = NULL;
  *src = NULL;
  if (tok)
    *tok = NULL;
  if (c) {
    kms_error_clear(e);
    if (kmsi_cred_chain_get(c, NOW, &cred, src, e) == KMS_OK) {
      size_t n;
      const char *t = kmsi_credentials_token(cred, &n);
      kmsi_strlcpy(akid, kms_credentials_access_key_id(cred), sizeof akid);
      kmsi_strlcpy(token, t ? t : "", sizeof token);
      r = akid;
      if (tok)
        *tok = t ? token : NULL;
    }
    check_text("error message", e->message);
  }
  kmsi_cred_chain_free(c);
  return r;
}

static const char *iso(time_t t)
{
  static char buf[4][32];
  static int k;
  struct tm tm;
  char *b = buf[k++ % 4];
  gmtime_r(&t, &tm);
  strftime(b, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

static const char *sts_ok(const char *action, const char *akid,
                          const char *secret, const char *token, time_t exp)
{
  static char buf[4][2048];
  static int k;
  char *b = buf[k++ % 4];
  snprintf(b, 2048,
           "<%sResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
           "<%sResult><Credentials><AccessKeyId>%s</AccessKeyId>"
           "<SecretAccessKey>%s</SecretAccessKey>"
           "<SessionToken>%s</SessionToken><Expiration>%s</Expiration>"
           "</Credentials><AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/"
           "r/s</Arn></AssumedRoleUser></%sResult><ResponseMetadata>"
           "<RequestId>req-1</RequestId></ResponseMetadata></%sResponse>",
           action, action, akid, secret, token, iso(exp), action, action);
  return b;
}

static const char *ecs_json(const char *akid, time_t exp)
{
  static char buf[2][512];
  static int k;
  char *b = buf[k++ % 2];
  snprintf(b, 512,
           "{\"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"IMDS-SECRET\", "
           "\"Token\": \"IMDS-SECRET-TOKEN\", \"Expiration\": \"%s\", "
           "\"Code\": \"Success\"}",
           akid, iso(exp));
  return b;
}
/* }===== */

/* {===== sources ===== */

static void test_explicit_and_env(void)
{
  kms_error e;
  const char *src, *tok, *akid;

  reset(NULL, NULL);
  cfg_fresh();
  kms_config_set(cfg, "access_key_id", "AKIDEXPLICIT", NULL);
  kms_config_set(cfg, "secret_access_key", "SECRET-EXPLICIT", NULL);
  kms_config_set(cfg, "session_token", "tok", NULL);
  setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI-SECRET-ENV", 1);
  akid = once(&src, &e, &tok);
  EQ_STR(akid, "AKIDEXPLICIT", "explicit keys beat the environment");
  EQ_STR(src, "explicit", "source explicit");
  EQ_STR(tok, "tok", "with the explicit session token");

  cfg_fresh();
  kms_config_set(cfg, "access_key_id", "AKIDEXPLICIT", NULL);
  OK(chain_new(&e) == NULL && e.status == KMS_ERR_CREDENTIALS,
     "a key id without its secret fails at once");
  EQ_STR(e.message, "Partial credentials found in explicit, missing: "
         "aws_secret_access_key", "botocore's message");
  cfg_fresh();
  kms_config_set(cfg, "secret_access_key", "SECRET-EXPLICIT", NULL);
  chain_new(&e);
  EQ_STR(e.message, "Partial credentials found in explicit, missing: "
         "aws_access_key_id", "the other half");

  cfg_fresh();
  setenv("AWS_SESSION_TOKEN", "SESSION-TOKEN-ENV", 1);
  akid = once(&src, &e, &tok);
  EQ_STR(akid, "AKIDENV", "environment keys");
  EQ_STR(src, "env", "source env");
  EQ_STR(tok, "SESSION-TOKEN-ENV", "AWS_SESSION_TOKEN");
  setenv("AWS_SECURITY_TOKEN", "SESSION-TOKEN-ENV-OLD", 1);
  once(&src, &e, &tok);
  EQ_STR(tok, "SESSION-TOKEN-ENV-OLD",
         "AWS_SECURITY_TOKEN comes first, as in botocore");
  unsetenv("AWS_SECURITY_TOKEN");
  OK(F.n_reqs == 0, "no request for static credentials");

  unsetenv("AWS_SECRET_ACCESS_KEY");
  akid = once(&src, &e, NULL);
  OK(akid == NULL && e.status == KMS_ERR_CREDENTIALS,
     "only the key id: KMS_ERR_CREDENTIALS");
  EQ_STR(e.message, "Partial credentials found in env, missing: "
         "AWS_SECRET_ACCESS_KEY", "the AWS CLI's message");
  setenv("AWS_SECRET_ACCESS_KEY", "", 1);
  once(&src, &e, NULL);
  EQ_STR(e.message, "Partial credentials found in env, missing: "
         "AWS_SECRET_ACCESS_KEY", "an empty secret counts as missing");

  setenv("AWS_ACCESS_KEY_ID", "", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI-SECRET-ENV", 1);
  akid = once(&src, &e, NULL);
  OK(akid == NULL && e.status == KMS_ERR_NO_CREDENTIALS,
     "an empty AWS_ACCESS_KEY_ID counts as missing");
  EQ_STR(e.message, "Unable to locate credentials. You can configure "
         "credentials by running \"aws configure\".",
         "the AWS CLI's no-credentials message");
  OK(F.n_reqs == 0, "AWS_EC2_METADATA_DISABLED=true: no IMDS request");

  setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
  setenv("AWS_CREDENTIAL_EXPIRATION", "not a time", 1);
  once(&src, &e, NULL);
  EQ_STR(e.message, "Error when retrieving credentials from env: "
         "AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time",
         "a bad AWS_CREDENTIAL_EXPIRATION");
  unsetenv("AWS_CREDENTIAL_EXPIRATION");
}

static void test_profile_beats_env(void)
{
  kms_error e;
  const char *src, *akid;
  const char *creds = "[p1]\naws_access_key_id = AKIDPROFILE\n"
                      "aws_secret_access_key = SECRET-FILE-KEY\n";

  reset(NULL, creds);
  cfg_fresh();
  setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI-SECRET-ENV", 1);
  setenv("AWS_PROFILE", "p1", 1);
  akid = once(&src, &e, NULL);
  EQ_STR(akid, "AKIDENV", "AWS_PROFILE does not beat env keys");
  kms_config_set(cfg, "profile", "p1", NULL);
  akid = once(&src, &e, NULL);
  EQ_STR(akid, "AKIDPROFILE", "an explicit profile (--profile) beats env "
         "keys (awscli-behaviour section 4)");
  EQ_STR(src, "shared-credentials-file", "from the credentials file");
}

static void test_shared_files(void)
{
  kms_error e;
  const char *src, *tok, *akid;

  reset("[default]\naws_access_key_id = AKIDCONFIG\n"
        "aws_secret_access_key = SECRET-FILE-KEY\n",
        "[default]\naws_access_key_id = AKIDCREDS\n"
        "aws_secret_access_key = SECRET-FILE-KEY\n"
        "aws_session_token = tokfile\n");
  cfg_fresh();
  akid = once(&src, &e, &tok);
  EQ_STR(akid, "AKIDCREDS", "the credentials file first");
  EQ_STR(src, "shared-credentials-file", "source shared-credentials-file");
  EQ_STR(tok, "tokfile", "aws_session_token");

  reset("[default]\naws_access_key_id = AKIDCONFIG\n"
        "aws_secret_access_key = SECRET-FILE-KEY\n",
        NULL);
  akid = once(&src, &e, NULL);
  EQ_STR(akid, "AKIDCONFIG", "then the config file's keys");
  EQ_STR(src, "config-file", "source config-file");

  reset(NULL, "[default]\naws_access_key_id = AKIDCREDS\n");
  once(&src, &e, NULL);
  OK(e.status == KMS_ERR_CREDENTIALS, "a key id without secret in a file");
  EQ_STR(e.message, "Partial credentials found in shared-credentials-file, "
         "missing: aws_secret_access_key", "botocore's message");
  reset("[profile x]\naws_access_key_id = AKIDCONFIG\n", NULL);
  setenv("AWS_PROFILE", "x", 1);
  once(&src, &e, NULL);
  EQ_STR(e.message, "Partial credentials found in config-file, missing: "
         "aws_secret_access_key", "the same in the config file");
}

static void test_process(void)
{
  kms_error e;
  const char *src, *tok, *akid;
  char script[300], json[300], fail[300], args[300], config[1200];
  char line[512];
  kmsi_cred_chain *c;
  FILE *f;

  write_path("print.sh", "#!/bin/sh\ncat \"$1\"\n", 1, script,
             sizeof script);
  write_path("creds.json",
             "{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", "
             "\"SecretAccessKey\": \"PROCESS-SECRET\", "
             "\"SessionToken\": \"PROCESS-SECRET-TOKEN\"}",
             0, json, sizeof json);
  snprintf(config, sizeof config, "[default]\ncredential_process = %s %s\n",
           script, json);
  reset(config, NULL);
  cfg_fresh();
  akid = once(&src, &e, &tok);
  EQ_STR(akid, "AKIDPROC", "credential_process");
  EQ_STR(src, "custom-process", "source custom-process");
  EQ_STR(tok, "PROCESS-SECRET-TOKEN", "its SessionToken");

  /* Expiration: refreshed by running the command again. */
  snprintf(line, sizeof line,
           "{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC1\", "
           "\"SecretAccessKey\": \"PROCESS-SECRET\", \"Expiration\": \"%s\"}",
           iso(NOW + 600));
  write_path("creds.json", line, 0, json, sizeof json);
  c = chain_new(&e);
  EQ_STR(get(c, NOW, &src, &e), "AKIDPROC1", "expiring process credentials");
  snprintf(line, sizeof line,
           "{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC2\", "
           "\"SecretAccessKey\": \"PROCESS-SECRET\", \"Expiration\": \"%s\"}",
           iso(NOW + 7200));
  write_path("creds.json", line, 0, json, sizeof json);
  EQ_STR(get(c, NOW + 200, &src, &e), "AKIDPROC1",
         "kept while more than 5 minutes from expiry");
  EQ_STR(get(c, NOW + 301, &src, &e), "AKIDPROC2",
         "refreshed within 5 minutes of expiry");
  kmsi_cred_chain_free(c);

  /* The command line is split like shlex.split and nothing in it reaches
   * a shell: quotes group, $VARS and ; stay literal. */
  write_path("args.sh",
             "#!/bin/sh\nprintf '%s|%s|%s|%s' \"$#\" \"$1\" \"$2\" \"$3\" > "
             "\"$0.out\"\ncat \"$4\"\n",
             1, args, sizeof args);
  snprintf(line, sizeof line,
           "{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", "
           "\"SecretAccessKey\": \"PROCESS-SECRET\"}");
  write_path("creds.json", line, 0, json, sizeof json);
  snprintf(config, sizeof config,
           "[default]\ncredential_process = %s \"two words\" '$HOME' ; %s\n",
           args, json);
  reset(config, NULL);
  akid = once(&src, &e, NULL);
  EQ_STR(akid, "AKIDPROC", "quoted arguments: %s", e.message);
  snprintf(line, sizeof line, "%s.out", args);
  f = fopen(line, "r");
  line[0] = '\0';
  if (f) {
    if (!fgets(line, sizeof line, f))
      line[0] = '\0';
    fclose(f);
  }
  EQ_STR(line, "4|two words|$HOME|;", "no shell interpretation");

  write_path("fail.sh", "#!/bin/sh\necho 'token expired: run login' >&2\n"
             "exit 3\n", 1, fail, sizeof fail);
  snprintf(config, sizeof config, "[default]\ncredential_process = %s\n",
           fail);
  reset(config, NULL);
  once(&src, &e, NULL);
  OK(e.status == KMS_ERR_CREDENTIALS, "a failing command");
  EQ_STR(e.message, "Error when retrieving credentials from custom-process: "
         "token expired: run login", "its stderr in the message");

  snprintf(config, sizeof config,
           "[default]\ncredential_process = %s/no-such-program\n", dir);
  reset(config, NULL);
  once(&src, &e, NULL);
  OK(e.status == KMS_ERR_CREDENTIALS &&
         strstr(e.message, "custom-process: ") &&
         strstr(e.message, "no-such-program"),
     "a missing program: %s", e.message);

  snprintf(config, sizeof config,
           "[default]\ncredential_process = %s \"unclosed\n", script);
  reset(config, NULL);
  once(&src, &e, NULL);
  EQ_STR(e.message, "Error when retrieving credentials from custom-process: "
         "credential_process: No closing quotation", "shlex's error");

  snprintf(config, sizeof config, "[default]\ncredential_process = %s %s\n",
           script, json);
  reset(config, NULL);
  write_path("creds.json", "{\"Version\": 2, \"AccessKeyId\": \"A\", "
             "\"SecretAccessKey\": \"PROCESS-SECRET\"}", 0, json,
             sizeof json);
  once(&src, &e, NULL);
  EQ_STR(e.message, "Error when retrieving credentials from custom-process: "
         "Unsupported version '2' for credential process provider, "
         "supported versions: 1", "Version 2");
  write_path("creds.json", "{\"AccessKeyId\": \"A\", "
             "\"SecretAccessKey\": \"PROCESS-SECRET\"}", 0, json,
             sizeof json);
  once(&src, &e, NULL);
  EQ_STR(e.message, "Error when retrieving credentials from custom-process: "
         "Unsupported version '<Version key not provided>' for credential "
         "process provider, supported versions: 1", "no Version");
  write_path("creds.json", "{\"Version\": 1, "
             "\"SecretAccessKey\": \"PROCESS-SECRET\"}", 0, json,
             sizeof json);
  once(&src, &e, NULL);
  EQ_STR(e.message, "Error when retrieving credentials from custom-process: "
         "Missing required key in response: 'AccessKeyId'", "no key id");
  write_path("creds.json", "PROCESS-SECRET is not JSON", 0, json,
             sizeof json);
  once(&src, &e, NULL);
  EQ_STR(e.message, "Error when retrieving credentials from custom-process: "
         "the response is not a JSON object", "not JSON (and not quoted)");
  write_path("creds.json", "{\"Version\": 1, \"AccessKeyId\": \"A\", "
             "\"SecretAccessKey\": \"PROCESS-SECRET\", "
             "\"Expiration\": \"soon\"}", 0, json, sizeof json);
  once(&src, &e, NULL);
  EQ_STR(e.message, "Error when retrieving credentials from custom-process: "
         "Expiration is not an ISO 8601 time", "a bad Expiration");
}

static void test_web_identity(void)
{
  kms_error e;
  const char *src, *tok, *akid;
  char token_path[300], config[600];
  kmsi_cred_chain *c;

  reset(NULL, NULL);
  cfg_fresh();
  write_path("jwt", "WEB-IDENTITY-JWT", 0, token_path, sizeof token_path);
  setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token_path, 1);
  setenv("AWS_ROLE_ARN", "arn:aws:iam::111122223333:role/web", 1);
  setenv("AWS_ROLE_SESSION_NAME", "sess-1", 1);
  fake_push(200, sts_ok("AssumeRoleWithWebIdentity", "ASIAWEB",
                        "STS-SECRET-KEY", "STS-SESSION-TOKEN", NOW + 3600));
  akid = once(&src, &e, &tok);
  EQ_STR(akid, "ASIAWEB", "web identity: %s", e.message);
  EQ_STR(src, "assume-role-with-web-identity", "its source name");
  EQ_STR(tok, "STS-SESSION-TOKEN", "the STS session token");
  OK(F.n_reqs == 1, "one STS request");
  EQ_STR(F.reqs[0].method, "POST", "POST");
  EQ_STR(F.reqs[0].url, "https://sts.us-east-1.amazonaws.com/",
         "to the regional STS endpoint");
  EQ_STR(F.reqs[0].body,
         "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3A"
         "aws%3Aiam%3A%3A111122223333%3Arole%2Fweb&RoleSessionName=sess-1&"
         "WebIdentityToken=WEB-IDENTITY-JWT",
         "the Query body, form-encoded, in botocore's member order");
  OK(has_header(0, "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8"),
     "form content type");
  OK(!has_header(0, "Authorization", NULL) &&
         !has_header(0, "X-Amz-Security-Token", NULL),
     "unsigned");

  /* Cached, then refreshed within 5 minutes of expiry. */
  fake_reset();
  fake_push(200, sts_ok("AssumeRoleWithWebIdentity", "ASIAWEB1",
                        "STS-SECRET-KEY", "STS-SESSION-TOKEN", NOW + 600));
  fake_push(200, sts_ok("AssumeRoleWithWebIdentity", "ASIAWEB2",
                        "STS-SECRET-KEY", "STS-SESSION-TOKEN", NOW + 4000));
  c = chain_new(&e);
  EQ_STR(get(c, NOW, &src, &e), "ASIAWEB1", "first credentials");
  EQ_STR(get(c, NOW + 299, &src, &e), "ASIAWEB1", "cached at 301 s left");
  OK(F.n_reqs == 1, "no second call while fresh");
  EQ_STR(get(c, NOW + 300, &src, &e), "ASIAWEB2",
         "refreshed at 300 s left");
  OK(F.n_reqs == 2, "one more call");
  /* A failed refresh keeps the old ones until they expire. */
  EQ_STR(get(c, NOW + 3800, &src, &e), "ASIAWEB2",
         "refresh failed (connection refused), still valid: kept");
  OK(strstr(last_log, "refreshing assume-role-with-web-identity "
                      "credentials failed") != NULL,
     "and a warning was logged");
  OK(get(c, NOW + 4000, &src, &e) == NULL &&
         e.status == KMS_ERR_CREDENTIALS,
     "refresh failed after expiry: error (%s)", e.message);
  kmsi_cred_chain_free(c);

  fake_reset();
  fake_push(400, "<ErrorResponse><Error><Type>Sender</Type>"
                 "<Code>AccessDenied</Code><Message>Not authorized to "
                 "perform sts:AssumeRoleWithWebIdentity</Message></Error>"
                 "<RequestId>r</RequestId></ErrorResponse>");
  once(&src, &e, NULL);
  OK(e.status == KMS_ERR_CREDENTIALS && e.http_status == 400 &&
         strcmp(e.aws_type, "AccessDenied") == 0,
     "an STS error: credentials, 400, AccessDenied");
  EQ_STR(e.message, "An error occurred (AccessDenied) when calling the "
         "AssumeRoleWithWebIdentity operation: Not authorized to perform "
         "sts:AssumeRoleWithWebIdentity", "botocore's ClientError text");

  unsetenv("AWS_ROLE_ARN");
  once(&src, &e, NULL);
  OK(e.status == KMS_ERR_CONFIG, "no role ARN: KMS_ERR_CONFIG");
  EQ_STR(e.message, "The provided profile or the current environment is "
         "configured to assume role with web identity but has no role ARN "
         "configured. Ensure that the profile has the role_arnconfiguration "
         "set or the AWS_ROLE_ARN env var is set.", "botocore's message");

  setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/r", 1);
  setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
  once(&src, &e, NULL);
  EQ_STR(e.message, "Error when retrieving credentials from "
         "assume-role-with-web-identity: cannot read /nonexistent/token: No "
         "such file or directory", "a missing token file");

  /* From the profile; an explicit profile ignores the env variables. */
  snprintf(config, sizeof config,
           "[profile w]\nweb_identity_token_file = %s\n"
           "role_arn = arn:aws:iam::1:role/fromprofile\n"
           "role_session_name = ps\n",
           token_path);
  reset(config, NULL);
  setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
  kms_config_set(cfg, "profile", "w", NULL);
  fake_push(200, sts_ok("AssumeRoleWithWebIdentity", "ASIAPROF",
                        "STS-SECRET-KEY", "STS-SESSION-TOKEN", NOW + 3600));
  akid = once(&src, &e, NULL);
  EQ_STR(akid, "ASIAPROF", "web identity from the profile: %s", e.message);
  OK(strstr(F.reqs[0].body, "RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2F"
                            "fromprofile&RoleSessionName=ps&") != NULL,
     "the profile's role and session name");
  kms_config_set(cfg, "profile", NULL, NULL);
}

static const char *role_config =
    "[profile top]\nrole_arn = arn:aws:iam::1:role/top\n"
    "source_profile = mid\nrole_session_name = s-top\n"
    "duration_seconds = 900\nexternal_id = ext-1\n"
    "[profile mid]\nrole_arn = arn:aws:iam::1:role/mid\n"
    "source_profile = base\n"
    "[profile base]\nregion = eu-west-1\n";
static const char *role_creds =
    "[base]\naws_access_key_id = AKIDBASE\n"
    "aws_secret_access_key = SECRET-FILE-KEY\n";

static void test_assume_role(void)
{
  kms_error e;
  const char *src, *tok, *akid;
  char config[2048];

  reset(role_config, role_creds);
  cfg_fresh();
  kms_config_set(cfg, "profile", "top", NULL);
  fake_push(200, sts_ok("AssumeRole", "ASIAMID", "STS-SECRET-KEY",
                        "STS-SESSION-TOKEN", NOW + 3600));
  fake_push(200, sts_ok("AssumeRole", "ASIATOP", "STS-SECRET-KEY",
                        "STS-SESSION-TOKEN-2", NOW + 3600));
  akid = once(&src, &e, &tok);
  EQ_STR(akid, "ASIATOP", "a chain of two roles: %s", e.message);
  EQ_STR(src, "assume-role", "source assume-role");
  EQ_STR(tok, "STS-SESSION-TOKEN-2", "the last role's token");
  OK(F.n_reqs == 2, "two STS calls");
  EQ_STR(F.reqs[0].body,
         "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A"
         "1%3Arole%2Fmid&RoleSessionName=kmscks-session-1700000000",
         "the first for mid, with the default session name");
  OK(has_header(0, "Authorization",
                NULL) && strstr(F.reqs[0].headers,
                                "Credential=AKIDBASE/20231114/us-east-1/sts/"
                                "aws4_request"),
     "signed with base's static keys for sts in us-east-1");
  OK(!has_header(0, "X-Amz-Security-Token", NULL),
     "no token with static source keys");
  EQ_STR(F.reqs[1].body,
         "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A"
         "1%3Arole%2Ftop&RoleSessionName=s-top&DurationSeconds=900&"
         "ExternalId=ext-1",
         "the second for top: session name, duration, external id");
  OK(strstr(F.reqs[1].headers, "Credential=ASIAMID/") &&
         has_header(1, "X-Amz-Security-Token", "STS-SESSION-TOKEN") &&
         has_header(1, "X-Amz-Date", "20231114T221320Z"),
     "signed with mid's temporary credentials at the given time");

  /* STS override and retry of a 503. */
  setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9/sts", 1);
  fake_reset();
  fake_push(200, sts_ok("AssumeRole", "ASIAMID", "STS-SECRET-KEY",
                        "STS-SESSION-TOKEN", NOW + 3600));
  fake_push(503, "<ErrorResponse><Error><Code>ServiceUnavailable</Code>"
                 "<Message>busy</Message></Error></ErrorResponse>");
  fake_push(200, sts_ok("AssumeRole", "ASIATOP", "STS-SECRET-KEY",
                        "STS-SESSION-TOKEN", NOW + 3600));
  akid = once(&src, &e, NULL);
  EQ_STR(akid, "ASIATOP", "a 503 is retried");
  OK(F.n_reqs == 3 && slept > 0, "three requests, with a backoff");
  EQ_STR(F.reqs[0].url, "http://127.0.0.1:9/sts",
         "AWS_ENDPOINT_URL_STS moves STS");
  unsetenv("AWS_ENDPOINT_URL_STS");

  /* Configuration errors, each with botocore's words. */
  snprintf(config, sizeof config,
           "%s[profile loop1]\nrole_arn = arn:aws:iam::1:role/a\n"
           "source_profile = loop2\n"
           "[profile loop2]\nrole_arn = arn:aws:iam::1:role/b\n"
           "source_profile = loop1\n"
           "[profile both]\nrole_arn = r\nsource_profile = base\n"
           "credential_source = Environment\n"
           "[profile neither]\nrole_arn = r\n"
           "[profile badsource]\nrole_arn = r\ncredential_source = Moon\n"
           "[profile ghost]\nrole_arn = r\nsource_profile = nosuch\n"
           "[profile empty]\nrole_arn = r\nsource_profile = base2\n"
           "[profile base2]\nregion = x\n"
           "[profile self]\nrole_arn = arn:aws:iam::1:role/self\n"
           "source_profile = self\naws_access_key_id = AKIDSELF\n"
           "aws_secret_access_key = SECRET-FILE-KEY\n"
           "[profile mfa]\nrole_arn = r\nsource_profile = base\n"
           "mfa_serial = arn:aws:iam::1:mfa/u\n"
           "[profile fromenv]\nrole_arn = arn:aws:iam::1:role/e\n"
           "credential_source = environment\n"
           "[profile fromimds]\nrole_arn = arn:aws:iam::1:role/i\n"
           "credential_source = Ec2InstanceMetadata\n"
           "[profile fromecs]\nrole_arn = arn:aws:iam::1:role/c\n"
           "credential_source = EcsContainer\n",
           role_config);
  reset(config, role_creds);
  kms_config_set(cfg, "profile", "loop1", NULL);
  once(&src, &e, NULL);
  OK(e.status == KMS_ERR_CONFIG && F.n_reqs == 0,
     "a source_profile loop is found before any call");
  EQ_STR(e.message, "Infinite loop in credential configuration detected. "
         "Attempting to load from profile loop1 which has already been "
         "visited. Visited profiles: ['loop1', 'loop2']",
         "botocore's message");
  kms_config_set(cfg, "profile", "both", NULL);
  once(&src, &e, NULL);
  EQ_STR(e.message, "The profile \"both\" contains both source_profile and "
         "credential_source.", "both sources");
  kms_config_set(cfg, "profile", "neither", NULL);
  once(&src, &e, NULL);
  EQ_STR(e.message, "Partial credentials found in assume-role, missing: "
         "source_profile or credential_source", "no source");
  kms_config_set(cfg, "profile", "badsource", NULL);
  once(&src, &e, NULL);
  EQ_STR(e.message, "The credential source \"Moon\" referenced in profile "
         "\"badsource\" is not valid.", "an unknown credential_source");
  kms_config_set(cfg, "profile", "ghost", NULL);
  once(&src, &e, NULL);
  EQ_STR(e.message, "The source_profile \"nosuch\" referenced in the "
         "profile \"ghost\" does not exist.", "a missing source profile");
  kms_config_set(cfg, "profile", "empty", NULL);
  once(&src, &e, NULL);
  EQ_STR(e.message, "The source profile \"base2\" must have credentials.",
         "a source profile without credentials");
  kms_config_set(cfg, "profile", "mfa", NULL);
  once(&src, &e, NULL);
  EQ_STR(e.message, "The profile \"mfa\" needs an MFA code (mfa_serial), "
         "which kmscks cannot prompt for.", "MFA is refused plainly");

  fake_reset();
  fake_push(200, sts_ok("AssumeRole", "ASIASELF", "STS-SECRET-KEY",
                        "STS-SESSION-TOKEN", NOW + 3600));
  kms_config_set(cfg, "profile", "self", NULL);
  akid = once(&src, &e, NULL);
  EQ_STR(akid, "ASIASELF", "a profile may be its own source_profile with "
         "static keys: %s", e.message);
  OK(strstr(F.reqs[0].headers, "Credential=AKIDSELF/") != NULL,
     "signed with its own keys");

  fake_reset();
  setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI-SECRET-ENV", 1);
  fake_push(200, sts_ok("AssumeRole", "ASIAENV", "STS-SECRET-KEY",
                        "STS-SESSION-TOKEN", NOW + 3600));
  kms_config_set(cfg, "profile", "fromenv", NULL);
  akid = once(&src, &e, NULL);
  EQ_STR(akid, "ASIAENV", "credential_source = environment (any case)");
  OK(strstr(F.reqs[0].headers, "Credential=AKIDENV/") != NULL,
     "signed with the env keys, although the profile is explicit");
  unsetenv("AWS_ACCESS_KEY_ID");
  fake_reset();
  once(&src, &e, NULL);
  EQ_STR(e.message, "Error when retrieving credentials from environment: No "
         "credentials found in credential_source referenced in profile "
         "fromenv", "an empty credential source");

  fake_reset();
  unsetenv("AWS_EC2_METADATA_DISABLED");
  fake_push(200, "IMDS-API-TOKEN");
  fake_push(200, "role1");
  fake_push(200, ecs_json("ASIAIMDS", NOW + 3600));
  fake_push(200, sts_ok("AssumeRole", "ASIAFROMIMDS", "STS-SECRET-KEY",
                        "STS-SESSION-TOKEN", NOW + 3600));
  kms_config_set(cfg, "profile", "fromimds", NULL);
  akid = once(&src, &e, NULL);
  EQ_STR(akid, "ASIAFROMIMDS", "credential_source = Ec2InstanceMetadata");
  OK(F.n_reqs == 4 && strstr(F.reqs[3].headers, "Credential=ASIAIMDS/"),
     "IMDS three times, then STS signed with the instance role");
  setenv("AWS_EC2_METADATA_DISABLED", "true", 1);

  fake_reset();
  setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/creds", 1);
  fake_push(200, ecs_json("ASIAECS", NOW + 3600));
  fake_push(200, sts_ok("AssumeRole", "ASIAFROMECS", "STS-SECRET-KEY",
                        "STS-SESSION-TOKEN", NOW + 3600));
  kms_config_set(cfg, "profile", "fromecs", NULL);
  akid = once(&src, &e, NULL);
  EQ_STR(akid, "ASIAFROMECS", "credential_source = EcsContainer");
  kms_config_set(cfg, "profile", NULL, NULL);
}

static void test_container(void)
{
  kms_error e;
  const char *src, *akid;
  char path[300];

  reset(NULL, NULL);
  cfg_fresh();
  setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc", 1);
  setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/x", 1);
  fake_push(200, ecs_json("ASIAECS", NOW + 3600));
  akid = once(&src, &e, NULL);
  EQ_STR(akid, "ASIAECS", "ECS relative URI");
  EQ_STR(src, "container-role", "source container-role");
  EQ_STR(F.reqs[0].method, "GET", "GET");
  EQ_STR(F.reqs[0].url, "http://169.254.170.2/v2/credentials/abc",
         "the relative URI wins, against 169.254.170.2");
  OK(has_header(0, "Accept", "application/json") &&
         !has_header(0, "Authorization", NULL),
     "Accept: application/json, no Authorization");
  OK(F.reqs[0].connect_ms == 2000 && F.reqs[0].read_ms == 2000,
     "2-second timeouts");

  unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ECS-AUTH-TOKEN", 1);
  fake_reset();
  fake_push(200, ecs_json("ASIAECS2", NOW + 3600));
  akid = once(&src, &e, NULL);
  EQ_STR(akid, "ASIAECS2", "ECS full URI");
  EQ_STR(F.reqs[0].url, "http://127.0.0.1:1/x", "to the full URI");
  OK(has_header(0, "Authorization", "ECS-AUTH-TOKEN"),
     "AWS_CONTAINER_AUTHORIZATION_TOKEN");

  write_path("ecs-token", "ECS-AUTH-TOKEN-FILE\n", 0, path, sizeof path);
  setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path, 1);
  fake_reset();
  fake_push(200, ecs_json("ASIAECS3", NOW + 3600));
  once(&src, &e, NULL);
  OK(has_header(0, "Authorization", "ECS-AUTH-TOKEN-FILE"),
     "the token file wins, its final newline dropped");
  unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");

  fake_reset();
  fake_push(500, "ECS-AUTH-TOKEN rejected");
  fake_push(500, "ECS-AUTH-TOKEN rejected");
  fake_push(500, "ECS-AUTH-TOKEN rejected");
  once(&src, &e, NULL);
  OK(e.status == KMS_ERR_CREDENTIALS && F.n_reqs == 3 && slept == 2.0,
     "a 500 is tried 3 times, 1 s apart");
  EQ_STR(e.message, "Error when retrieving credentials from container-role: "
         "Received non 200 response (500) from ECS metadata",
         "the message (the body is not quoted)");
  fake_reset();
  once(&src, &e, NULL);
  EQ_STR(e.message, "Error when retrieving credentials from container-role: "
         "Received error when attempting to retrieve ECS metadata: Could "
         "not connect to the endpoint URL: \"http://127.0.0.1:1/x\"",
         "a refused connection");
  fake_reset();
  fake_push(200, "{\"AccessKeyId\": \"A\"}");
  once(&src, &e, NULL);
  EQ_STR(e.message, "Error when retrieving credentials from container-role: "
         "Missing required key in response: 'SecretAccessKey'",
         "an incomplete answer");

  setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds",
         1);
  once(&src, &e, NULL);
  EQ_STR(e.message, "Unsupported host 'example.com'.  Can only retrieve "
         "metadata from a loopback address or one of these hosts: "
         "169.254.170.2, 169.254.170.23, fd00:ec2::23, localhost",
         "plain http only to loopback or the container hosts");
  setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "https://example.com/c", 1);
  fake_reset();
  fake_push(200, ecs_json("ASIAHTTPS", NOW + 3600));
  EQ_STR(once(&src, &e, NULL), "ASIAHTTPS", "https to any host");
  setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://[::1]:8/c", 1);
  fake_reset();
  fake_push(200, ecs_json("ASIAV6", NOW + 3600));
  EQ_STR(once(&src, &e, NULL), "ASIAV6", "http to [::1]");
  setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "bad\ntoken", 1);
  once(&src, &e, NULL);
  EQ_STR(e.message, "Error when retrieving credentials from container-role: "
         "Auth token value is not a legal header value",
         "a token with a newline");
}

static void test_imds(void)
{
  kms_error e;
  const char *src, *akid;

  reset(NULL, NULL);
  cfg_fresh();
  unsetenv("AWS_EC2_METADATA_DISABLED");
  fake_push(200, "IMDS-API-TOKEN");
  fake_push(200, "my-role\n");
  fake_push(200, ecs_json("ASIAIMDS", NOW + 21600));
  akid = once(&src, &e, NULL);
  EQ_STR(akid, "ASIAIMDS", "IMDSv2");
  EQ_STR(src, "iam-role", "source iam-role");
  OK(F.n_reqs == 3, "three requests");
  EQ_STR(F.reqs[0].method, "PUT", "1: PUT");
  EQ_STR(F.reqs[0].url, "http://169.254.169.254/latest/api/token",
         "1: the token URL");
  OK(has_header(0, "x-aws-ec2-metadata-token-ttl-seconds", "21600"),
     "1: with a TTL of 6 hours");
  EQ_STR(F.reqs[1].url,
         "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
         "2: the role list");
  OK(has_header(1, "x-aws-ec2-metadata-token", "IMDS-API-TOKEN"),
     "2: with the session token");
  EQ_STR(F.reqs[2].url, "http://169.254.169.254/latest/meta-data/iam/"
         "security-credentials/my-role", "3: the role's credentials");
  OK(has_header(2, "x-aws-ec2-metadata-token", "IMDS-API-TOKEN"),
     "3: with the session token");
  OK(F.reqs[0].connect_ms == 1000 && F.reqs[2].read_ms == 1000,
     "1-second timeouts");

  fake_reset();
  setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:5", 1);
  fake_push(403, "");
  fake_push(200, "my-role");
  fake_push(200, ecs_json("ASIAIMDSV1", NOW + 21600));
  akid = once(&src, &e, NULL);
  EQ_STR(akid, "ASIAIMDSV1", "a 403 on the token falls back to IMDSv1");
  EQ_STR(F.reqs[0].url, "http://127.0.0.1:5/latest/api/token",
         "AWS_EC2_METADATA_SERVICE_ENDPOINT (a \"/\" is added)");
  OK(!has_header(1, "x-aws-ec2-metadata-token", NULL), "no token header");

  fake_reset();
  akid = once(&src, &e, NULL);
  OK(akid == NULL && e.status == KMS_ERR_NO_CREDENTIALS && F.n_reqs == 2,
     "no IMDS: 1 attempt each for the token and the role, then no "
     "credentials");
  fake_reset();
  fake_push(200, "IMDS-API-TOKEN");
  fake_push(200, "my-role");
  fake_push(200, "{\"Code\": \"AssumeRoleUnauthorizedAccess\", "
                 "\"Message\": \"denied\"}");
  akid = once(&src, &e, NULL);
  OK(akid == NULL && e.status == KMS_ERR_NO_CREDENTIALS,
     "an IMDS error document means no credentials");
  fake_reset();
  fake_fail(KMS_ERR_READ_TIMEOUT);
  fake_push(200, "my-role");
  fake_push(200, ecs_json("ASIATIMEOUT", NOW + 21600));
  EQ_STR(once(&src, &e, NULL), "ASIATIMEOUT",
         "a token timeout falls back to IMDSv1");

  setenv("AWS_EC2_METADATA_DISABLED", "TRUE", 1);
  fake_reset();
  once(&src, &e, NULL);
  OK(F.n_reqs == 0 && e.status == KMS_ERR_NO_CREDENTIALS,
     "AWS_EC2_METADATA_DISABLED=TRUE: no request");
}

/* Every source configured at once; each removed in turn shows the next. */
static void test_order(void)
{
  kms_error e;
  const char *src;
  char token_path[300], script[300], json[300], config[1200];

  write_path("jwt", "WEB-IDENTITY-JWT", 0, token_path, sizeof token_path);
  write_path("print.sh", "#!/bin/sh\ncat \"$1\"\n", 1, script,
             sizeof script);
  write_path("creds.json",
             "{\"Version\": 1, \"AccessKeyId\": \"AKIDPROC\", "
             "\"SecretAccessKey\": \"PROCESS-SECRET\"}",
             0, json, sizeof json);
  snprintf(config, sizeof config,
           "[default]\ncredential_process = %s %s\n"
           "aws_access_key_id = AKIDCONFIG\n"
           "aws_secret_access_key = SECRET-FILE-KEY\n",
           script, json);
  reset(config, "[default]\naws_access_key_id = AKIDCREDS\n"
                "aws_secret_access_key = SECRET-FILE-KEY\n");
  cfg_fresh();
  unsetenv("AWS_EC2_METADATA_DISABLED");
  setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI-SECRET-ENV", 1);
  setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token_path, 1);
  setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/web", 1);
  setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/c", 1);

  once(&src, &e, NULL);
  EQ_STR(src, "env", "order 1: env");
  unsetenv("AWS_ACCESS_KEY_ID");
  fake_reset();
  fake_push(200, sts_ok("AssumeRoleWithWebIdentity", "ASIAWEB",
                        "STS-SECRET-KEY", "STS-SESSION-TOKEN", NOW + 3600));
  once(&src, &e, NULL);
  EQ_STR(src, "assume-role-with-web-identity", "order 2: web identity");
  unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
  once(&src, &e, NULL);
  EQ_STR(src, "shared-credentials-file", "order 3: credentials file");
  unlink(cred_path);
  once(&src, &e, NULL);
  EQ_STR(src, "custom-process", "order 4: credential_process");
  reset("[default]\naws_access_key_id = AKIDCONFIG\n"
        "aws_secret_access_key = SECRET-FILE-KEY\n", NULL);
  unsetenv("AWS_EC2_METADATA_DISABLED");
  setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/c", 1);
  once(&src, &e, NULL);
  EQ_STR(src, "config-file", "order 5: config file keys");
  unlink(cfg_path);
  fake_push(200, ecs_json("ASIAECS", NOW + 3600));
  once(&src, &e, NULL);
  EQ_STR(src, "container-role", "order 6: container");
  unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  fake_reset();
  fake_push(200, "IMDS-API-TOKEN");
  fake_push(200, "r");
  fake_push(200, ecs_json("ASIAIMDS", NOW + 3600));
  once(&src, &e, NULL);
  EQ_STR(src, "iam-role", "order 7: instance metadata");

  /* Assume role comes before the profile's static keys. */
  reset(role_config, "[top]\naws_access_key_id = AKIDTOPSTATIC\n"
                     "aws_secret_access_key = SECRET-FILE-KEY\n");
  {
    FILE *f = fopen(cred_path, "a");
    fputs(role_creds, f);
    fclose(f);
  }
  setenv("AWS_PROFILE", "top", 1);
  fake_push(200, sts_ok("AssumeRole", "ASIAMID", "STS-SECRET-KEY",
                        "STS-SESSION-TOKEN", NOW + 3600));
  fake_push(200, sts_ok("AssumeRole", "ASIATOP", "STS-SECRET-KEY",
                        "STS-SESSION-TOKEN", NOW + 3600));
  EQ_STR(once(&src, &e, NULL), "ASIATOP",
         "role_arn beats the same profile's static keys");
  OK(log_lines > 0, "the chain logged (%d lines)", log_lines);
}

static void test_nomem(void)
{
  long n;
  int ok = 1, done = 0;

  reset(role_config, role_creds);
  for (n = 1; n < 400 && !done; n++) {
    kms_error e;
    const char *src;
    kmsi_cred_chain *c;
    cfg_fresh();
    kms_config_set(cfg, "profile", "top", NULL);
    fake_reset();
    fake_push(200, sts_ok("AssumeRole", "ASIAMID", "STS-SECRET-KEY",
                          "STS-SESSION-TOKEN", NOW + 3600));
    fake_push(200, sts_ok("AssumeRole", "ASIATOP", "STS-SECRET-KEY",
                          "STS-SESSION-TOKEN", NOW + 3600));
    st.calls = 0;
    st.fail_at = n;
    c = chain_new(&e);
    if (c) {
      const char *akid = get(c, NOW, &src, &e);
      if (akid)
        done = strcmp(akid, "ASIATOP") == 0;
      else if (e.status != KMS_ERR_NOMEM) {
        ok = 0;
        printf("# n=%ld get: %s %s\n", n, kms_strerror(e.status), e.message);
      }
    } else if (e.status != KMS_ERR_NOMEM) {
      ok = 0;
      printf("# n=%ld new: %s %s\n", n, kms_strerror(e.status), e.message);
    }
    st.fail_at = 0;
    kmsi_cred_chain_free(c);
  }
  OK(ok && done, "assume-role chain: every allocation failure reported "
     "(%ld tried)", n - 1);
}
/* }===== */

int main(void)
{
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/kms-test-creds-XXXXXX", tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(cfg_path, sizeof cfg_path, "%s/config", dir);
  snprintf(cred_path, sizeof cred_path, "%s/credentials", dir);

  test_explicit_and_env();
  test_profile_beats_env();
  test_shared_files();
  test_process();
  test_web_identity();
  test_assume_role();
  test_container();
  test_imds();
  test_order();
  test_nomem();

  kms_config_free(cfg);
  cfg = NULL;
  OK(leaked == 0, "no secret in any error message or log line (%d seen)",
     leaked);
  OK(unwiped == 0, "every block that held a secret was wiped before it was "
     "freed (%d not)", unwiped);
  OK(st.blocks == 0 && st.bytes == 0, "no leak (blocks %ld, bytes %ld)",
     st.blocks, st.bytes);
  {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
      printf("# could not remove %s\n", dir);
  }
  return t_done();
}
