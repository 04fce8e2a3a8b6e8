/* test_sigv4.c - sigv4.c and creds.c: the two UpdateCustomKeyStore
 * known-answer vectors of a real AWS CLI capture, the empty-region quirk,
 * re-signing, the presigned form, argument checks, the key cache (hits,
 * LRU eviction, rotated secrets), the debug trace (no secret in it),
 * wiping (no freed block holds a secret) and an allocation-failure sweep
 * over kms_http_new_for + kms_sign. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "testing.h"
#include "internal.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TOKEN "FQoGZXIvYXdzEXAMPLETOKEN"
#define T1 ((time_t)1795889240) /* 2026-11-28T18:07:20Z */
#define T2 ((time_t)1795889246) /* 2026-11-28T18:07:26Z */

static const char body1[] =
    "{\"CustomKeyStoreId\": \"cks-1234567890abcdef0\", "
    "\"NewCustomKeyStoreName\": \"ExampleKeyStore\"}";
static const char body2[] =
    "{\"CustomKeyStoreId\": \"cks-1234567890abcdef0\", "
    "\"XksProxyAuthenticationCredential\": {\"AccessKeyId\": "
    "\"ABCDE12345670EXAMPLE\", \"RawSecretAccessKey\": "
    "\"DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo=\"}, "
    "\"XksProxyConnectivity\": \"PUBLIC_ENDPOINT\"}";

/* {===== helpers ===== */


static char logbuf[16384];
static size_t loglen;
static int log_bad_level;

static void capture_log(void *ud, kms_log_level level, const char *msg)
{
  size_t n = strlen(msg);
  (void)ud;
  if (level != KMS_LOG_DEBUG)
    log_bad_level++;
  if (strchr(msg, '\n'))
    log_bad_level++;
  if (loglen + n + 2 < sizeof logbuf) {
    memcpy(logbuf + loglen, msg, n);
    loglen += n;
    logbuf[loglen++] = '\n';
    logbuf[loglen] = '\0';
  }
}

static kms_sign_params kms_params(const char *region, time_t t)
{
  kms_sign_params p;
  memset(&p, 0, sizeof p);
  p.region = region;
  p.service = "kms";
  p.time = t;
  p.flags = KMS_SIGN_NORMALIZE_PATH;
  return p;
}

static int starts(const char *s, const char *prefix)
{
  return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static void expect_headers(const kms_http *m, const char *const *names,
                           size_t n, const char *what)
{
  size_t i;
  int same = kms_http_header_count(m) == n;
  for (i = 0; same && i < n; i++) {
    const char *name = NULL;
    kms_http_header_at(m, i, &name, NULL);
    if (strcmp(name, names[i]) != 0) {
      printf("#   header %zu is %s, expected %s\n", i, name, names[i]);
      same = 0;
    }
  }
  OK(same, "%s: header order", what);
}

/* }===== */

/* §3 of awscli-behaviour.md, first vector: no session token. */
static void test_known_answer_1(void)
{
  static const char want_creq[] =
      "POST\n/\n\n"
      "content-type:application/x-amz-json-1.1\n"
      "host:127.0.0.1:38865\n"
      "x-amz-date:20261128T180720Z\n"
      "x-amz-target:TrentService.UpdateCustomKeyStore\n\n"
      "content-type;host;x-amz-date;x-amz-target\n"
      "d48a6e38fb2613d9f3cae147e2197d2f40a1f17dbd7ecfd0135891b9fba25a46";
  static const char want_sts[] =
      "AWS4-HMAC-SHA256\n20261128T180720Z\n"
      "20261128/us-east-1/kms/aws4_request\n"
      "14e8d2c29f17b5c08e0c3cdcc04490d76852623d22d7045a0256c80c16cf04a3";
  static const char want_auth[] =
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1/kms/"
      "aws4_request, SignedHeaders=content-type;host;x-amz-date;"
      "x-amz-target, Signature=f4831b6e4838bd631e74d928228f31e74984be8437a8"
      "8ab3198897ec109dddc2";
  static const char *const order[] = {"Host", "X-Amz-Target",
                                      "Content-Type", "X-Amz-Date",
                                      "Authorization"};
  static const unsigned char signing_key[32] = {
    0x1d, 0x7e, 0x7d, 0x28, 0x0a, 0xa1, 0x14, 0xe0, 0xa3, 0x8f, 0x1a,
    0xcf, 0x38, 0x9b, 0xe6, 0x9c, 0x05, 0xbb, 0x1b, 0x02, 0xd0, 0x60,
    0x1f, 0x26, 0x71, 0x51, 0x82, 0xcd, 0x1b, 0x8d, 0x13, 0xc2};
  t_alloc_state st = {0};
  kms_error err;
  kms_buf creq, sts;
  kms_sign_params p = kms_params("us-east-1", T1);
  kms_credentials *cred =
      kms_credentials_new(AKID, SECRET, NULL, 0, t_alloc, &st, &err);
  kms_signer *s = kms_signer_new(t_alloc, &st, NULL, NULL, &err);
  kms_http *m = kms_http_new_for(KMS_OP_UPDATE_CUSTOM_KEY_STORE,
                                 "http://127.0.0.1:38865", body1,
                                 sizeof body1 - 1, t_alloc, &st, &err);
  unsigned char mac[32];
  unsigned int maclen = 0;
  char hex[65];
  size_t i;

  OK(cred && s && m, "vector 1: objects");
  OK(kms_sign_debug(m, cred, &p, &creq, &sts, &err) == KMS_OK,
     "vector 1: sign_debug");
  EQ_STR(creq.data, want_creq, "vector 1: canonical request");
  EQ_STR(sts.data, want_sts, "vector 1: string to sign");
  OK(creq.secret && sts.secret, "vector 1: debug buffers are secret");
  /* The documented signing key signs our string to sign into the
   * documented signature. */
  HMAC(EVP_sha256(), signing_key, 32, (const unsigned char *)sts.data,
       sts.len, mac, &maclen);
  for (i = 0; i < 32; i++)
    snprintf(hex + 2 * i, 3, "%02x", mac[i]);
  EQ_STR(hex,
         "f4831b6e4838bd631e74d928228f31e74984be8437a88ab3198897ec109dddc2",
         "vector 1: documented signing key");
  kms_buf_free(&creq);
  kms_buf_free(&sts);

  OK(kms_sign(s, m, cred, &p, &err) == KMS_OK, "vector 1: sign");
  EQ_STR(kms_http_header(m, "Authorization"), want_auth,
         "vector 1: Authorization");
  EQ_STR(kms_http_header(m, "X-Amz-Date"), "20261128T180720Z",
         "vector 1: X-Amz-Date");
  OK(kms_http_header(m, "X-Amz-Content-Sha256") == NULL,
     "vector 1: no x-amz-content-sha256 header");
  expect_headers(m, order, 5, "vector 1");

  /* A retry re-signs the same message: one signature, the new one. */
  p.time = T1 + 30;
  OK(kms_sign(s, m, cred, &p, &err) == KMS_OK, "vector 1: re-sign");
  EQ_STR(kms_http_header(m, "X-Amz-Date"), "20261128T180750Z",
         "vector 1: re-sign: new date");
  OK(strcmp(kms_http_header(m, "Authorization"), want_auth) != 0,
     "vector 1: re-sign: new signature");
  expect_headers(m, order, 5, "vector 1 re-signed");
  OK(kmsi_signer_derivations(s) == 1,
     "vector 1: the re-sign hit the key cache");

  /* Without a signer: same signature. */
  p.time = T1;
  OK(kms_sign(NULL, m, cred, &p, &err) == KMS_OK &&
         strcmp(kms_http_header(m, "Authorization"), want_auth) == 0,
     "vector 1: without a signer");
  kms_http_free(m);
  kms_signer_free(s);
  kms_credentials_free(cred);
  OK(st.blocks == 0, "vector 1: no leak");
}

/* §3 second vector: a session token, signed between X-Amz-Date and
 * Authorization. */
static void test_known_answer_2(void)
{
  static const char want_auth[] =
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1/kms/"
      "aws4_request, SignedHeaders=content-type;host;x-amz-date;"
      "x-amz-security-token;x-amz-target, Signature=7d28a4dc497ab12d2091c8"
      "8ba2f4dcb53bddf8efeced16f1ce552306d539aa9e";
  static const char *const order[] = {
    "Host", "X-Amz-Target", "Content-Type", "X-Amz-Date",
    "X-Amz-Security-Token", "Authorization"};
  t_alloc_state st = {0};
  kms_error err;
  kms_buf creq, sts;
  kms_sign_params p = kms_params("us-east-1", T2);
  kms_credentials *cred =
      kms_credentials_new(AKID, SECRET, TOKEN, 0, t_alloc, &st, &err);
  kms_http *m = kms_http_new_for(KMS_OP_UPDATE_CUSTOM_KEY_STORE,
                                 "http://127.0.0.1:33129", body2,
                                 sizeof body2 - 1, t_alloc, &st, &err);
  unsigned char d[32];
  char hex[65];
  size_t i;

  OK(sizeof body2 - 1 == 235, "vector 2: body is 235 bytes");
  OK(kms_sign_debug(m, cred, &p, &creq, &sts, &err) == KMS_OK,
     "vector 2: sign_debug");
  OK(creq.data && strstr(creq.data, "3ef903fa531ccee69c90d6e4374d46aa79904c7d"
                                    "7594e916db6d97a4e18cf584"),
     "vector 2: payload hash");
  EVP_Digest(creq.data, creq.len, d, NULL, EVP_sha256(), NULL);
  for (i = 0; i < 32; i++)
    snprintf(hex + 2 * i, 3, "%02x", d[i]);
  EQ_STR(hex,
         "2e6e0f155710579d6d3a3eb5ee31a5bd25d2b5ccca572bd128af59631cd97851",
         "vector 2: sha256(canonical request)");
  kms_buf_free(&creq);
  kms_buf_free(&sts);
  OK(kms_sign(NULL, m, cred, &p, &err) == KMS_OK, "vector 2: sign");
  EQ_STR(kms_http_header(m, "Authorization"), want_auth,
         "vector 2: Authorization");
  EQ_STR(kms_http_header(m, "X-Amz-Security-Token"), TOKEN,
         "vector 2: token header");
  expect_headers(m, order, 6, "vector 2");
  kms_http_free(m);
  kms_credentials_free(cred);
  OK(st.blocks == 0, "vector 2: no leak");
}

static void test_variants(void)
{
  kms_error err;
  kms_credentials *cred = kms_credentials_new(AKID, SECRET, TOKEN, 0, NULL,
                                              NULL, &err);
  kms_sign_params p = kms_params("", T1);
  kms_http *m;
  kms_buf creq, sts;
  const char *auth, *target;

  /* --region '' with an endpoint URL: an empty scope region. */
  m = kms_http_new_for(KMS_OP_UPDATE_CUSTOM_KEY_STORE, "http://127.0.0.1:1",
                       "{}", 2, NULL, NULL, &err);
  OK(kms_sign(NULL, m, cred, &p, &err) == KMS_OK, "empty region: sign");
  auth = kms_http_header(m, "Authorization");
  OK(starts(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128"
                  "//kms/aws4_request, "),
     "empty region: empty scope (%s)", auth ? auth : "");
  kms_http_free(m);

  /* Omitted token: sent, not signed. */
  p = kms_params("us-east-1", T1);
  p.flags |= KMS_SIGN_OMIT_TOKEN | KMS_SIGN_BODY_HEADER;
  m = kms_http_new_for(KMS_OP_UPDATE_CUSTOM_KEY_STORE, "http://h", "{}", 2,
                       NULL, NULL, &err);
  OK(kms_sign(NULL, m, cred, &p, &err) == KMS_OK, "omit token: sign");
  auth = kms_http_header(m, "Authorization");
  OK(auth && strstr(auth, "SignedHeaders=content-type;host;"
                          "x-amz-content-sha256;x-amz-date;x-amz-target,"),
     "omit token + body header: signed headers");
  EQ_STR(kms_http_header(m, "X-Amz-Security-Token"), TOKEN,
         "omit token: the token is still sent");
  EQ_STR(kms_http_header(m, "x-amz-content-sha256"),
         "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
         "body header: sha256 of the body");
  kms_http_free(m);

  /* Presigned: the signature goes into the query. */
  p = kms_params("us-east-1", T1);
  p.flags |= KMS_SIGN_QUERY;
  p.expires = 300;
  m = kms_http_new_for(KMS_OP_UPDATE_CUSTOM_KEY_STORE, "http://h/p?a=b",
                       "{}", 2, NULL, NULL, &err);
  OK(kms_sign(NULL, m, cred, &p, &err) == KMS_OK, "query: sign");
  target = kms_http_target(m);
  OK(starts(target, "/p?a=b&X-Amz-Algorithm=AWS4-HMAC-SHA256&"
                    "X-Amz-Credential=AKIDEXAMPLE%2F20261128%2Fus-east-1"
                    "%2Fkms%2Faws4_request&X-Amz-Date=20261128T180720Z&"
                    "X-Amz-SignedHeaders=content-type%3Bhost%3B"
                    "x-amz-target&X-Amz-Expires=300&X-Amz-Security-Token="
                    "FQoGZXIvYXdzEXAMPLETOKEN&X-Amz-Signature="),
     "query: parameters (%s)", target ? target : "");
  OK(kms_http_header(m, "Authorization") == NULL &&
         kms_http_header(m, "X-Amz-Date") == NULL,
     "query: no Authorization nor X-Amz-Date header");
  OK(kms_sign(NULL, m, cred, &p, &err) == KMS_ERR_INVALID_ARG,
     "query: presigning twice is refused");
  kms_http_free(m);

  /* A message without Host gets one, first. */
  p = kms_params("us-east-1", T1);
  m = kms_http_new("GET", "https://Example.amazonaws.com:8443/x", NULL, NULL,
                   &err);
  kms_http_add_header(m, "User-Agent", "test/1", &err);
  OK(kms_sign(NULL, m, cred, &p, &err) == KMS_OK, "no Host: sign");
  OK(kms_http_header_at(m, 0, &auth, &target) && strcmp(auth, "Host") == 0 &&
         strcmp(target, "example.amazonaws.com:8443") == 0,
     "no Host: added first");
  auth = kms_http_header(m, "Authorization");
  OK(auth && strstr(auth, "SignedHeaders=host;x-amz-date;"
                          "x-amz-security-token,"),
     "User-Agent is not signed");
  kms_http_free(m);

  /* Folded lines, tabs and duplicates in the canonical headers. */
  {
    static const char req[] = "GET / HTTP/1.1\n"
                              "Host:example.amazonaws.com\n"
                              "My-Header1:value1\n"
                              "  value2\n"
                              "     value3\n"
                              "My-Header2: a\t\t b  \t c \n"
                              "my-header2:second\n"
                              "my-header3:\n"
                              "My-Header3:x\n";
    m = NULL;
    p.service = "service";
    kmsi_http_from_text(req, sizeof req - 1, NULL, NULL, &m, &err);
    kms_credentials_free(cred);
    cred = kms_credentials_new(AKID, SECRET, NULL, 0, NULL, NULL, &err);
    OK(kms_sign_debug(m, cred, &p, &creq, &sts, &err) == KMS_OK,
       "folded: sign_debug");
    EQ_STR(creq.data,
           "GET\n/\n\nhost:example.amazonaws.com\n"
           "my-header1:value1,value2,value3\n"
           "my-header2:a b c,second\n"
           "my-header3:,x\n"
           "x-amz-date:20261128T180720Z\n\n"
           "host;my-header1;my-header2;my-header3;x-amz-date\n"
           "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
           "folded lines, whitespace runs, duplicates");
    kms_buf_free(&creq);
    kms_buf_free(&sts);
    kms_http_free(m);
  }

  /* Encoded query ordering: keys sort by their encoded form. */
  m = kms_http_new("GET", "https://h/?b=2&%E1=x&\xe1\x88\xb4=bar&a=1&a=0&"
                   "&c&d=e=f", NULL, NULL, &err);
  OK(kms_sign_debug(m, cred, &p, &creq, &sts, &err) == KMS_OK,
     "query order: sign_debug");
  OK(starts(creq.data, "GET\n/\n%25E1=x&%E1%88%B4=bar&a=0&a=1&b=2&c=&"
                      "d=e%3Df\n"),
     "query: encoded, then sorted by key and value");
  kms_buf_free(&creq);
  kms_buf_free(&sts);
  kms_http_free(m);
  kms_credentials_free(cred);
}

static void test_dates(void)
{
  static const struct {
    time_t t;
    const char *amz;
  } cases[] = {
    {0, "19700101T000000Z"},
    {951782400, "20000229T000000Z"},
    {-1, "19691231T235959Z"},
    {1440938160, "20150830T123600Z"},
    {(time_t)253402300799LL, "99991231T235959Z"},
  };
  kms_error err;
  kms_credentials *cred = kms_credentials_new(AKID, SECRET, NULL, 0, NULL,
                                              NULL, &err);
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    kms_sign_params p = kms_params("us-east-1", cases[i].t);
    kms_http *m = kms_http_new("GET", "http://h/", NULL, NULL, &err);
    kms_sign(NULL, m, cred, &p, &err);
    EQ_STR(kms_http_header(m, "X-Amz-Date"), cases[i].amz, "date %lld",
           (long long)cases[i].t);
    kms_http_free(m);
  }
  kms_credentials_free(cred);
}

static void test_bad_args(void)
{
  kms_error err;
  kms_credentials *cred = kms_credentials_new(AKID, SECRET, NULL, 0, NULL,
                                              NULL, &err);
  kms_credentials *slash = kms_credentials_new("AK/ID", SECRET, NULL, 0,
                                               NULL, NULL, &err);
  kms_http *m = kms_http_new("GET", "http://h/", NULL, NULL, &err);
  kms_sign_params p = kms_params("us-east-1", T1);
  kms_buf a, b;

  OK(kms_credentials_new(NULL, SECRET, NULL, 0, NULL, NULL, &err) == NULL &&
         err.status == KMS_ERR_INVALID_ARG,
     "credentials: no access key id");
  OK(kms_credentials_new(AKID, "", NULL, 0, NULL, NULL, &err) == NULL,
     "credentials: empty secret");
  OK(kms_credentials_access_key_id(NULL) == NULL &&
         kms_credentials_expiration(NULL) == 0,
     "credentials: NULL accessors");
  kms_credentials_free(NULL);
  OK(kms_sign(NULL, NULL, cred, &p, &err) == KMS_ERR_INVALID_ARG,
     "NULL message");
  OK(kms_sign(NULL, m, NULL, &p, &err) == KMS_ERR_INVALID_ARG,
     "NULL credentials");
  OK(kms_sign(NULL, m, cred, NULL, &err) == KMS_ERR_INVALID_ARG,
     "NULL params");
  p.region = NULL;
  OK(kms_sign(NULL, m, cred, &p, &err) == KMS_ERR_INVALID_ARG,
     "NULL region");
  p.region = "us/east";
  OK(kms_sign(NULL, m, cred, &p, &err) == KMS_ERR_INVALID_ARG,
     "a region with '/'");
  p.region = "us-east-1";
  p.service = "";
  OK(kms_sign(NULL, m, cred, &p, &err) == KMS_ERR_INVALID_ARG,
     "an empty service");
  p.service = "kms";
  OK(kms_sign(NULL, m, slash, &p, &err) == KMS_ERR_INVALID_ARG,
     "an access key id with '/'");
  p.time = (time_t)253402300800LL;
  OK(kms_sign(NULL, m, cred, &p, &err) == KMS_ERR_INVALID_ARG,
     "a time after 9999");
  p.time = T1;
  p.flags |= KMS_SIGN_QUERY;
  p.expires = -1;
  OK(kms_sign(NULL, m, cred, &p, &err) == KMS_ERR_INVALID_ARG,
     "negative expires");
  p.expires = 604801;
  OK(kms_sign(NULL, m, cred, &p, &err) == KMS_ERR_INVALID_ARG,
     "expires over seven days");
  OK(kms_http_header_count(m) == 0, "a refused signature adds nothing");
  OK(kms_sign_debug(m, cred, &p, NULL, &b, &err) == KMS_ERR_INVALID_ARG,
     "sign_debug without a buffer");
  kms_buf_free(&b);
  OK(kms_sign_debug(NULL, cred, &p, &a, &b, &err) == KMS_ERR_INVALID_ARG &&
         a.len == 0 && b.len == 0,
     "sign_debug NULL message, buffers initialised");
  kms_signer_free(NULL);
  kms_http_free(m);
  kms_credentials_free(cred);
  kms_credentials_free(slash);
}

/* The derived key is cached per (access key, secret, date, region,
 * service), LRU over four slots. */
static void test_cache(void)
{
  static const char *const regions[] = {"r1", "r2", "r3", "r4", "r5"};
  t_alloc_state st = {0};
  kms_error err;
  kms_signer *s = kms_signer_new(t_alloc, &st, NULL, NULL, &err);
  kms_credentials *c1 = kms_credentials_new(AKID, SECRET, NULL, 0, t_alloc,
                                            &st, &err);
  kms_credentials *c2 = kms_credentials_new(AKID, "rotated-secret", NULL, 0,
                                            t_alloc, &st, &err);
  kms_http *m = kms_http_new_for(KMS_OP_UPDATE_CUSTOM_KEY_STORE,
                                 "http://127.0.0.1:38865", body1,
                                 sizeof body1 - 1, t_alloc, &st, &err);
  kms_sign_params p = kms_params("us-east-1", T1);
  char first[256];
  size_t i;

#define SIGN(cred) kms_sign(s, m, (cred), &p, &err)
  SIGN(c1);
  snprintf(first, sizeof first, "%s", kms_http_header(m, "Authorization"));
  OK(kmsi_signer_derivations(s) == 1, "cache: first signature derives");
  p.time = T1 + 3600;
  SIGN(c1);
  OK(kmsi_signer_derivations(s) == 1, "cache: same day, same scope: a hit");
  p.time = T1 + 86400;
  SIGN(c1);
  OK(kmsi_signer_derivations(s) == 2, "cache: the next day derives");
  p.time = T1;
  SIGN(c1);
  OK(kmsi_signer_derivations(s) == 2 &&
         strcmp(first, kms_http_header(m, "Authorization")) == 0,
     "cache: back to the first day: a hit, same signature");
  SIGN(c2);
  OK(kmsi_signer_derivations(s) == 3 &&
         strcmp(first, kms_http_header(m, "Authorization")) != 0,
     "cache: a rotated secret under the same id is not a hit");
  p.service = "kms-xks-proxy";
  SIGN(c1);
  OK(kmsi_signer_derivations(s) == 4, "cache: another service derives");
  /* Four slots now hold (day1,kms,c1) (day2) (c2) (xks). Touch day1, then
   * fill with five regions: every region misses, and day1 is evicted. */
  p.service = "kms";
  SIGN(c1);
  OK(kmsi_signer_derivations(s) == 4, "cache: still four entries");
  for (i = 0; i < 5; i++) {
    p.region = regions[i];
    SIGN(c1);
  }
  OK(kmsi_signer_derivations(s) == 9, "cache: five new regions derive");
  p.region = "r5";
  SIGN(c1);
  p.region = "r2";
  SIGN(c1);
  OK(kmsi_signer_derivations(s) == 9, "cache: recent regions hit");
  p.region = "r1";
  SIGN(c1);
  OK(kmsi_signer_derivations(s) == 10,
     "cache: the least recently used was evicted");
  p.region = "us-east-1";
  SIGN(c1);
  OK(kmsi_signer_derivations(s) == 11 &&
         strcmp(first, kms_http_header(m, "Authorization")) == 0,
     "cache: an evicted key is derived again, same signature");
#undef SIGN
  kms_http_free(m);
  kms_credentials_free(c1);
  kms_credentials_free(c2);
  kms_signer_free(s);
  OK(st.blocks == 0, "cache: no leak");
}

/* The debug trace: canonical request and string to sign, line by line,
 * with no secret (secret key, token, body members, signature). */
static void test_trace(void)
{
  kms_error err;
  kms_signer *s = kms_signer_new(NULL, NULL, capture_log, NULL, &err);
  kms_credentials *cred = kms_credentials_new(AKID, SECRET, TOKEN, 0, NULL,
                                              NULL, &err);
  static const char pw_body[] =
      "{\"CustomKeyStoreId\": \"cks-1\", \"KeyStorePassword\": "
      "\"ExamplePassword\"}";
  kms_http *m = kms_http_new_for(KMS_OP_UPDATE_CUSTOM_KEY_STORE,
                                 "http://127.0.0.1:33129", body2,
                                 sizeof body2 - 1, NULL, NULL, &err);
  kms_sign_params p = kms_params("us-east-1", T2);
  const char *sig;

  loglen = 0;
  logbuf[0] = '\0';
  OK(kms_sign(s, m, cred, &p, &err) == KMS_OK, "trace: sign");
  sig = strstr(kms_http_header(m, "Authorization"), "Signature=") + 10;
  OK(strstr(logbuf, "sigv4 canonical request: POST\n") &&
         strstr(logbuf, "sigv4 canonical request: host:127.0.0.1:33129\n") &&
         strstr(logbuf, "sigv4 canonical request: x-amz-security-token:***\n"),
     "trace: the canonical request, token redacted");
  OK(strstr(logbuf, "sigv4 canonical request: 3ef903fa531ccee69c90d6e4374d"
                    "46aa79904c7d7594e916db6d97a4e18cf584") != NULL,
     "trace: the payload hash");
  OK(strstr(logbuf, "sigv4 string to sign: 20261128/us-east-1/kms/"
                    "aws4_request\n") != NULL,
     "trace: the string to sign");
  OK(!strstr(logbuf, SECRET) && !strstr(logbuf, TOKEN) &&
         !strstr(logbuf, "DXjSUawnel2fr6SKC7G25") &&
         !strstr(logbuf, "ABCDE12345670EXAMPLE") && !strstr(logbuf, sig) &&
         !strstr(logbuf, "CustomKeyStoreId"),
     "trace: no secret key, token, body or signature");
  OK(log_bad_level == 0, "trace: debug level, one line per call");

  /* A presigned request with the token in the query. */
  kms_http_set_body(m, pw_body, sizeof pw_body - 1, &err);
  kmsi_http_remove_header(m, "Authorization");
  loglen = 0;
  logbuf[0] = '\0';
  p.flags |= KMS_SIGN_QUERY;
  p.expires = 60;
  OK(kms_sign(s, m, cred, &p, &err) == KMS_OK, "trace: presign");
  OK(strstr(logbuf, "X-Amz-Security-Token=***") != NULL &&
         !strstr(logbuf, "FQoGZXIvYXdzEXAMPLETOKEN") &&
         !strstr(logbuf, "ExamplePassword") && !strstr(logbuf, SECRET),
     "trace: presigned: token redacted, no secret");
  kms_http_free(m);
  kms_credentials_free(cred);
  kms_signer_free(s);
}

/* No block freed by the signer, the credentials or the message still
 * holds the secret key, "AWS4"+key, the token, the signing key or the
 * Authorization value. */
static void test_wiped(void)
{
  static const unsigned char signing_key[32] = {
    0x1d, 0x7e, 0x7d, 0x28, 0x0a, 0xa1, 0x14, 0xe0, 0xa3, 0x8f, 0x1a,
    0xcf, 0x38, 0x9b, 0xe6, 0x9c, 0x05, 0xbb, 0x1b, 0x02, 0xd0, 0x60,
    0x1f, 0x26, 0x71, 0x51, 0x82, 0xcd, 0x1b, 0x8d, 0x13, 0xc2};
  t_alloc_state st = {0};
  kms_error err;
  kms_credentials *cred;
  kms_signer *s;
  kms_http *m;
  kms_buf a, b;
  kms_sign_params p = kms_params("us-east-1", T2);
  char long_secret[300];

  t_scan.needles[0] = SECRET;
  t_scan.needles[1] = TOKEN;
  t_scan.needles[2] = "7d28a4dc497ab12d2091c88ba2f4dcb53bddf8efeced16f1ce552306d5";
  t_scan.needles[3] = "DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo=";
  t_scan.count = 4;
  t_scan.key = signing_key;
  t_scan.leaked = 0;
  cred = kms_credentials_new(AKID, SECRET, TOKEN, 0, t_scan_alloc, &st, &err);
  s = kms_signer_new(t_scan_alloc, &st, NULL, NULL, &err);
  m = kms_http_new_for(KMS_OP_UPDATE_CUSTOM_KEY_STORE,
                       "http://127.0.0.1:33129", body2, sizeof body2 - 1,
                       t_scan_alloc, &st, &err);
  OK(kms_sign(s, m, cred, &p, &err) == KMS_OK, "wiped: sign");
  OK(kms_sign(NULL, m, cred, &p, &err) == KMS_OK, "wiped: sign again");
  kms_sign_debug(m, cred, &p, &a, &b, &err);
  kms_buf_free(&a);
  kms_buf_free(&b);
  kms_http_free(m);
  kms_signer_free(s);
  kms_credentials_free(cred);

  /* A secret too long for the stack buffer and the cache. */
  memset(long_secret, 'S', sizeof long_secret - 1);
  long_secret[sizeof long_secret - 1] = '\0';
  t_scan.needles[0] = "SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS";
  cred = kms_credentials_new(AKID, long_secret, NULL, 0, t_scan_alloc, &st,
                             &err);
  s = kms_signer_new(t_scan_alloc, &st, NULL, NULL, &err);
  m = kms_http_new("GET", "http://h/", t_scan_alloc, &st, &err);
  OK(kms_sign(s, m, cred, &p, &err) == KMS_OK &&
         kms_sign(s, m, cred, &p, &err) == KMS_OK &&
         kmsi_signer_derivations(s) == 2,
     "wiped: a long secret bypasses the cache");
  kms_http_free(m);
  kms_signer_free(s);
  kms_credentials_free(cred);
  OK(t_scan.leaked == 0, "wiped: no freed block holds a secret");
  OK(st.blocks == 0, "wiped: no leak");
  t_scan.count = 0;
  t_scan.key = NULL;
}

/* Allocation N fails, for N = 1, 2, ... until signer + new_for + sign (+
 * a second, cached sign, + presign) succeed. Every failure must be
 * KMS_ERR_NOMEM, leave no signature on the message and leak nothing. */
static void sweep(int with_signer, unsigned flags, const char *what)
{
  long n;
  int clean = 1, done = 0;

  for (n = 1; n < 500 && !done; n++) {
    t_alloc_state st = {0};
    kms_error err;
    kms_signer *s = NULL;
    kms_credentials *cred = NULL;
    kms_http *m = NULL;
    kms_sign_params p = kms_params("us-east-1", T2);
    kms_status rc = KMS_ERR_NOMEM;

    p.flags |= flags;
    p.expires = 60;
    memset(&err, 0, sizeof err);
    st.fail_at = n;
    cred = kms_credentials_new(AKID, SECRET, TOKEN, 0, t_alloc, &st, &err);
    if (cred && with_signer)
      s = kms_signer_new(t_alloc, &st, NULL, NULL, &err);
    if (cred && (s || !with_signer))
      m = kms_http_new_for(KMS_OP_UPDATE_CUSTOM_KEY_STORE,
                           "http://127.0.0.1:33129/p?x=1", body2,
                           sizeof body2 - 1, t_alloc, &st, &err);
    if (m) {
      rc = kms_sign(s, m, cred, &p, &err);
      if (rc == KMS_OK && !(flags & KMS_SIGN_QUERY))
        rc = kms_sign(s, m, cred, &p, &err);
      if (rc != KMS_OK &&
          (kms_http_header(m, "Authorization") ||
           kms_http_header(m, "X-Amz-Date") ||
           strstr(kms_http_target(m), "X-Amz-Signature"))) {
        printf("#   N=%ld: a failed signature left headers\n", n);
        clean = 0;
      }
    }
    if (rc == KMS_OK)
      done = 1;
    else if (err.status != KMS_ERR_NOMEM) {
      printf("#   N=%ld: status %s\n", n, kms_strerror(err.status));
      clean = 0;
    }
    kms_http_free(m);
    kms_signer_free(s);
    kms_credentials_free(cred);
    if (st.blocks != 0) {
      printf("#   N=%ld: %ld blocks leaked\n", n, st.blocks);
      clean = 0;
    }
  }
  OK(done && clean, "allocation sweep %s: %ld allocations, every failure "
     "clean", what, n - 1);
}

int main(void)
{
  test_known_answer_1();
  test_known_answer_2();
  test_variants();
  test_dates();
  test_bad_args();
  test_cache();
  test_trace();
  test_wiped();
  sweep(1, 0, "with a signer");
  sweep(0, 0, "without a signer");
  sweep(1, KMS_SIGN_QUERY | KMS_SIGN_OMIT_TOKEN, "presigned");
  sweep(0, KMS_SIGN_BODY_HEADER, "body header");
  return t_done();
}
