/* test_http.c - http.c: URL parsing (scheme, host, port, raw path and
 * query), the KMS request's headers in the AWS CLI's order, ordered and
 * duplicate headers, the body, the printable form with and without
 * redaction, the request.txt parser, the response helpers, the freed
 * blocks (no secret left in them) and an allocation-failure sweep. */
#include "testing.h"
#include "internal.h"

typedef struct url_case {
  const char *url;
  const char *host;     /* NULL: the URL is refused */
  const char *target;
  const char *norm_url;
} url_case;

static const url_case url_cases[] = {
  {"https://kms.us-east-1.amazonaws.com", "kms.us-east-1.amazonaws.com", "/",
   "https://kms.us-east-1.amazonaws.com/"},
  {"http://127.0.0.1:38865", "127.0.0.1:38865", "/",
   "http://127.0.0.1:38865/"},
  {"http://127.0.0.1:38865/", "127.0.0.1:38865", "/",
   "http://127.0.0.1:38865/"},
  {"http://127.0.0.1:38865/prefix", "127.0.0.1:38865", "/prefix",
   "http://127.0.0.1:38865/prefix"},
  {"https://KMS.Example.COM:443/a/b?x=1&y#frag", "kms.example.com",
   "/a/b?x=1&y", "https://kms.example.com/a/b?x=1&y"},
  {"HTTP://h:80", "h", "/", "http://h/"},
  {"https://h:80/", "h:80", "/", "https://h:80/"},
  {"http://h:443", "h:443", "/", "http://h:443/"},
  {"http://[::1]:8080/x", "[::1]:8080", "/x", "http://[::1]:8080/x"},
  {"http://h?q", "h", "/?q", "http://h/?q"},
  {"http://h/?", "h", "/?", "http://h/?"},
  {"http://h/example space/", "h", "/example space/",
   "http://h/example space/"},
  {"https://h/my%20prefix", "h", "/my%20prefix", "https://h/my%20prefix"},
  {"not-a-url", NULL, NULL, NULL},
  {"", NULL, NULL, NULL},
  {"://h", NULL, NULL, NULL},
  {"1http://h", NULL, NULL, NULL},
  {"http://", NULL, NULL, NULL},
  {"http:///path", NULL, NULL, NULL},
  {"http://h:0", NULL, NULL, NULL},
  {"http://h:65536", NULL, NULL, NULL},
  {"http://h:12ab", NULL, NULL, NULL},
  {"http://h:", NULL, NULL, NULL},
  {"http://user@h/", NULL, NULL, NULL},
  {"http://[::1/", NULL, NULL, NULL},
  {"http://h/a\r\nX: y", NULL, NULL, NULL},
};

static void test_urls(void)
{
  size_t i;
  for (i = 0; i < sizeof url_cases / sizeof url_cases[0]; i++) {
    const url_case *c = &url_cases[i];
    kms_error err;
    kms_http *m;

    memset(&err, 0, sizeof err);
    m = kms_http_new("GET", c->url, NULL, NULL, &err);
    if (!c->host) {
      OK(m == NULL && err.status == KMS_ERR_INVALID_ARG,
         "url %zu is refused (%s)", i, err.message);
      kms_http_free(m);
      continue;
    }
    OK(m != NULL, "url '%s' parses", c->url);
    if (!m)
      continue;
    EQ_STR(kms_http_host(m), c->host, "url '%s': host", c->url);
    EQ_STR(kms_http_target(m), c->target, "url '%s': target", c->url);
    EQ_STR(kms_http_url(m), c->norm_url, "url '%s': url", c->url);
    OK(kms_http_header_count(m) == 0, "url '%s': no header yet", c->url);
    kms_http_free(m);
  }
  OK(kms_http_new(NULL, "http://h", NULL, NULL, NULL) == NULL,
     "NULL method refused");
  OK(kms_http_new("GE T", "http://h", NULL, NULL, NULL) == NULL,
     "bad method refused");
  OK(kms_http_new("GET", NULL, NULL, NULL, NULL) == NULL, "NULL url refused");
  kms_http_free(NULL);
}

static void expect_headers(const kms_http *m, const char *const *want,
                           size_t n, const char *what)
{
  size_t i;
  int same = kms_http_header_count(m) == n;
  for (i = 0; same && i < n; i++) {
    const char *name = NULL, *value = NULL;
    char line[512];
    kms_http_header_at(m, i, &name, &value);
    snprintf(line, sizeof line, "%s: %s", name, value);
    if (strcmp(line, want[i]) != 0) {
      printf("#   header %zu: '%s', expected '%s'\n", i, line, want[i]);
      same = 0;
    }
  }
  OK(same, "%s: headers and their order", what);
}

static void test_new_for(void)
{
  static const char body[] = "{\"CustomKeyStoreId\": \"cks-1\"}";
  static const char *const ops[KMS_OP__COUNT] = {
    "UpdateCustomKeyStore", "DescribeCustomKeyStores",
    "ConnectCustomKeyStore", "DisconnectCustomKeyStore"};
  t_alloc_state st = {0};
  kms_error err;
  kms_http *m;
  size_t len;
  int op;

  m = kms_http_new_for(KMS_OP_UPDATE_CUSTOM_KEY_STORE,
                       "http://127.0.0.1:38865", body, strlen(body), t_alloc,
                       &st, &err);
  OK(m != NULL, "new_for update");
  if (m) {
    static const char *const want[] = {
      "Host: 127.0.0.1:38865",
      "X-Amz-Target: TrentService.UpdateCustomKeyStore",
      "Content-Type: application/x-amz-json-1.1"};
    expect_headers(m, want, 3, "new_for update");
    EQ_STR(kms_http_method(m), "POST", "new_for: method");
    EQ_STR(kms_http_target(m), "/", "new_for: no path means /");
    EQ_STR(kms_http_body(m, &len), body, "new_for: body copied");
    OK(len == strlen(body), "new_for: body length");
    OK(kms_http_header(m, "Content-Length") == NULL &&
           kms_http_header(m, "User-Agent") == NULL,
       "new_for: transport headers are left to the transport");
  }
  kms_http_free(m);

  for (op = 0; op < KMS_OP__COUNT; op++) {
    char want[128];
    m = kms_http_new_for((kms_operation)op,
                         "https://kms.eu-west-3.amazonaws.com/prefix", "{}",
                         2, t_alloc, &st, &err);
    snprintf(want, sizeof want, "TrentService.%s", ops[op]);
    EQ_STR(m ? kms_http_header(m, "x-amz-target") : NULL, want,
           "new_for op %d: X-Amz-Target", op);
    EQ_STR(m ? kms_http_target(m) : NULL, "/prefix",
           "new_for op %d: the endpoint's path is used as is", op);
    EQ_STR(m ? kms_http_header(m, "host") : NULL,
           "kms.eu-west-3.amazonaws.com", "new_for op %d: Host", op);
    kms_http_free(m);
  }
  m = kms_http_new_for(KMS_OP__COUNT, "http://h", "{}", 2, NULL, NULL, &err);
  OK(m == NULL && err.status == KMS_ERR_INVALID_ARG, "new_for: bad op");
  m = kms_http_new_for(KMS_OP_UPDATE_CUSTOM_KEY_STORE, "bad", "{}", 2, NULL,
                       NULL, &err);
  OK(m == NULL && err.status == KMS_ERR_INVALID_ARG, "new_for: bad url");
  m = kms_http_new_for(KMS_OP_UPDATE_CUSTOM_KEY_STORE, "http://h", NULL, 0,
                       NULL, NULL, &err);
  OK(m != NULL && kms_http_body(m, &len) && len == 0,
     "new_for: NULL body with length 0 is empty");
  kms_http_free(m);
  OK(st.blocks == 0 && st.bytes == 0, "new_for: no leak (%ld blocks)",
     st.blocks);
}

static void test_headers(void)
{
  t_alloc_state st = {0};
  kms_error err;
  kms_http *m = kms_http_new("GET", "http://h/", t_alloc, &st, &err);
  const char *name, *value;
  size_t i;
  int ok = 1;

  OK(kms_http_add_header(m, "My-Header1", "value4", &err) == KMS_OK,
     "add header");
  kms_http_add_header(m, "Other", "x", &err);
  kms_http_add_header(m, "my-header1", "value1", &err);
  /* More than the inline slots: the array grows. */
  for (i = 0; i < 20; i++)
    ok &= kms_http_add_header(m, "X-Many", "v", &err) == KMS_OK;
  OK(ok && kms_http_header_count(m) == 23, "headers grow past the inline "
     "slots");
  EQ_STR(kms_http_header(m, "MY-HEADER1"), "value4",
         "lookup is case-insensitive and finds the first");
  OK(kms_http_header(m, "absent") == NULL, "absent header");
  OK(kms_http_header_at(m, 23, &name, &value) == 0, "header_at out of range");
  OK(kms_http_header_at(m, 2, &name, &value) == 1 &&
         strcmp(name, "my-header1") == 0 && strcmp(value, "value1") == 0,
     "duplicates are kept in order");

  OK(kms_http_set_header(m, "MY-HEADER1", "new", &err) == KMS_OK,
     "set_header");
  OK(kms_http_header_at(m, 0, &name, &value) == 1 &&
         strcmp(name, "MY-HEADER1") == 0 && strcmp(value, "new") == 0 &&
         kms_http_header_count(m) == 22,
     "set_header replaces every header of that name at the first position");
  OK(kms_http_set_header(m, "Fresh", "1", &err) == KMS_OK &&
         kms_http_header_at(m, 22, &name, &value) == 1 &&
         strcmp(name, "Fresh") == 0,
     "set_header appends a new name");

  OK(kms_http_add_header(m, "Bad Name", "v", &err) == KMS_ERR_INVALID_ARG,
     "a name with a space is refused");
  OK(kms_http_add_header(m, "", "v", &err) == KMS_ERR_INVALID_ARG,
     "an empty name is refused");
  OK(kms_http_add_header(m, "X-Inject", "a\r\nEvil: 1", &err) ==
         KMS_ERR_INVALID_ARG,
     "CR/LF in a value is refused (header injection)");
  OK(kms_http_set_header(m, "X-Inject", "a\nb", &err) ==
         KMS_ERR_INVALID_ARG &&
         kms_http_header_count(m) == 23,
     "a refused set_header changes nothing");
  OK(kms_http_add_header(m, "X-Empty", "", &err) == KMS_OK &&
         strcmp(kms_http_header(m, "x-empty"), "") == 0,
     "an empty value is allowed");
  OK(kms_http_add_header(NULL, "a", "b", &err) == KMS_ERR_INVALID_ARG,
     "NULL message refused");

  OK(kms_http_set_body(m, "abc", 3, &err) == KMS_OK &&
         kms_http_set_body(m, "de", 2, &err) == KMS_OK,
     "set_body twice");
  EQ_STR(kms_http_body(m, NULL), "de", "the body is replaced");
  OK(kms_http_set_body(m, NULL, 1, &err) == KMS_ERR_INVALID_ARG,
     "NULL body with a length is refused");
  kms_http_free(m);
  OK(st.blocks == 0, "headers: no leak");
}

static const char secret_body[] =
    "{\"CustomKeyStoreId\": \"cks-1234567890abcdef0\", "
    "\"KeyStorePassword\": \"ExamplePassword\", "
    "\"XksProxyAuthenticationCredential\": {\"RawSecretAccessKey\": "
    "\"DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo=\", \"AccessKeyId\": "
    "\"ABCDE12345670EXAMPLE\"}, \"XksProxyConnectivity\": "
    "\"PUBLIC_ENDPOINT\"}";

static const char redacted_body[] =
    "{\"CustomKeyStoreId\": \"cks-1234567890abcdef0\", "
    "\"KeyStorePassword\": \"***\", "
    "\"XksProxyAuthenticationCredential\": {\"RawSecretAccessKey\": "
    "\"***\", \"AccessKeyId\": \"***\"}, \"XksProxyConnectivity\": "
    "\"PUBLIC_ENDPOINT\"}";

static kms_http *signed_like(t_alloc_state *st, kms_alloc_fn fn,
                             const char *body)
{
  kms_error err;
  kms_http *m = kms_http_new_for(KMS_OP_UPDATE_CUSTOM_KEY_STORE,
                                 "http://127.0.0.1:33129", body,
                                 strlen(body), fn, st, &err);
  kms_http_add_header(m, "X-Amz-Date", "20261128T180726Z", &err);
  kms_http_add_header(m, "X-Amz-Security-Token", "FQoGZXIvYXdzEXAMPLETOKEN",
                      &err);
  kms_http_add_header(
      m, "Authorization",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1/kms/"
      "aws4_request, SignedHeaders=content-type;host;x-amz-date;"
      "x-amz-security-token;x-amz-target, Signature=7d28a4dc497ab12d2091c88b"
      "a2f4dcb53bddf8efeced16f1ce552306d539aa9e",
      &err);
  return m;
}

static void redact_body_case(const char *body, const char *want,
                             const char *what)
{
  kms_error err;
  kms_buf out;
  kms_http *m = kms_http_new("POST", "http://h/", NULL, NULL, &err);
  const char *b;

  kms_http_set_body(m, body, strlen(body), &err);
  OK(kms_http_to_text(m, 1, &out, &err) == KMS_OK, "%s: to_text", what);
  b = out.data ? strstr(out.data, "\n\n") : NULL;
  EQ_STR(b ? b + 2 : NULL, want, "%s", what);
  kms_buf_free(&out);
  kms_http_free(m);
}

static void test_to_text(void)
{
  t_alloc_state st = {0};
  kms_error err;
  kms_buf out;
  kms_http *m = signed_like(&st, t_alloc, secret_body);
  char want[2048];

  OK(kms_http_to_text(m, 0, &out, &err) == KMS_OK, "to_text raw");
  snprintf(want, sizeof want,
           "POST / HTTP/1.1\n"
           "Host: 127.0.0.1:33129\n"
           "X-Amz-Target: TrentService.UpdateCustomKeyStore\n"
           "Content-Type: application/x-amz-json-1.1\n"
           "X-Amz-Date: 20261128T180726Z\n"
           "X-Amz-Security-Token: FQoGZXIvYXdzEXAMPLETOKEN\n"
           "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/"
           "us-east-1/kms/aws4_request, SignedHeaders=content-type;host;"
           "x-amz-date;x-amz-security-token;x-amz-target, Signature="
           "7d28a4dc497ab12d2091c88ba2f4dcb53bddf8efeced16f1ce552306d539aa9e"
           "\n\n%s",
           secret_body);
  EQ_STR(out.data, want, "to_text raw: the whole message");
  OK(out.secret == 1, "to_text raw: the buffer is secret");
  kms_buf_free(&out);

  OK(kms_http_to_text(m, 1, &out, &err) == KMS_OK, "to_text redacted");
  snprintf(want, sizeof want,
           "POST / HTTP/1.1\n"
           "Host: 127.0.0.1:33129\n"
           "X-Amz-Target: TrentService.UpdateCustomKeyStore\n"
           "Content-Type: application/x-amz-json-1.1\n"
           "X-Amz-Date: 20261128T180726Z\n"
           "X-Amz-Security-Token: ***\n"
           "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/"
           "us-east-1/kms/aws4_request, SignedHeaders=content-type;host;"
           "x-amz-date;x-amz-security-token;x-amz-target, Signature=***"
           "\n\n%s",
           redacted_body);
  EQ_STR(out.data, want, "to_text redacted: the whole message");
  OK(out.data && !strstr(out.data, "ExamplePassword") &&
         !strstr(out.data, "DXjSUaw") && !strstr(out.data, "ABCDE1234") &&
         !strstr(out.data, "EXAMPLETOKEN") && !strstr(out.data, "7d28a4"),
     "to_text redacted: no secret left");
  kms_buf_free(&out);
  kms_http_free(m);

  redact_body_case("{\"KeyStore\\u0050assword\":\"pw123456\"}",
                   "{\"KeyStore\\u0050assword\":\"***\"}",
                   "an escaped key is still recognised");
  redact_body_case("{ \"KeyStorePassword\" : 12345678 , \"A\":[1,{\"B\":"
                   "null}]}",
                   "{ \"KeyStorePassword\" : \"***\" , \"A\":[1,{\"B\":"
                   "null}]}",
                   "a non-string secret and nested arrays");
  redact_body_case("{\"AccessKeyId\": \"top-level is not the credential\"}",
                   "{\"AccessKeyId\": \"top-level is not the credential\"}",
                   "only the credential's AccessKeyId is secret");
  redact_body_case("{\"KeyStorePassword\": \"unterminated",
                   "***", "truncated JSON is replaced whole");
  redact_body_case("Param1=value1", "***", "a body that is not JSON");
  redact_body_case("{\"a\": 1} trailing", "***", "trailing garbage");
  redact_body_case("{}", "{}", "an empty object");

  /* A presigned target. */
  m = kms_http_new("GET",
                   "https://h/p?a=1&X-Amz-Security-Token=tok%2F&"
                   "X-Amz-Signature=abc&x-amz-signature=def",
                   NULL, NULL, &err);
  OK(kms_http_to_text(m, 1, &out, &err) == KMS_OK, "to_text presigned");
  EQ_STR(out.data,
         "GET /p?a=1&X-Amz-Security-Token=***&X-Amz-Signature=***&"
         "x-amz-signature=*** HTTP/1.1\n\n",
         "to_text: query signature and token redacted");
  kms_buf_free(&out);
  kms_http_free(m);
  OK(kms_http_to_text(NULL, 1, &out, &err) == KMS_ERR_INVALID_ARG,
     "to_text NULL message");
  OK(st.blocks == 0, "to_text: no leak");
}

static void test_from_text(void)
{
  static const char folded[] =
      "GET /a b/?x=1 HTTP/1.1\r\n"
      "Host:example.amazonaws.com\r\n"
      "My-Header1:value1\r\n"
      "  value2\r\n"
      "\t value3\r\n"
      "My-Header2:  \"a   b\"  \r\n"
      "\r\n"
      "body\nline";
  static const char *const bad[] = {
    "", "GET\n", "GET / \n", "GET  HTTP/1.1\n", "GET x HTTP/1.1\nHost:h\n",
    "GET / HTTP/1.1\n", "GET / HTTP/1.1\n  folded-first\nHost:h\n",
    "GET / HTTP/1.1\nHost h\n", "G(T / HTTP/1.1\nHost:h\n",
    "GET / HTTP/1.1\nBad Name:v\nHost:h\n", "GET /\x01 HTTP/1.1\nHost:h\n",
  };
  t_alloc_state st = {0};
  kms_error err;
  kms_http *m = NULL;
  const char *name, *value;
  size_t i, len;

  OK(kmsi_http_from_text(folded, sizeof folded - 1, t_alloc, &st, &m,
                         &err) == KMS_OK,
     "from_text with folds and CRLF");
  if (m) {
    EQ_STR(kms_http_method(m), "GET", "from_text: method");
    EQ_STR(kms_http_target(m), "/a b/?x=1", "from_text: raw target");
    EQ_STR(kms_http_url(m), "https://example.amazonaws.com/a b/?x=1",
           "from_text: url");
    OK(kms_http_header_at(m, 1, &name, &value) &&
           strcmp(value, "value1\n  value2\n\t value3") == 0,
       "from_text: a folded value keeps its lines");
    EQ_STR(kms_http_header(m, "my-header2"), "\"a   b\"",
           "from_text: the value is trimmed at both ends only");
    OK(strcmp(kms_http_body(m, &len), "body\nline") == 0 && len == 9,
       "from_text: the body is byte-exact");
  }
  kms_http_free(m);
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    m = NULL;
    OK(kmsi_http_from_text(bad[i], strlen(bad[i]), t_alloc, &st, &m,
                           &err) == KMS_ERR_PARSE &&
           m == NULL,
       "from_text refuses bad input %zu (%s)", i, err.message);
  }
  OK(st.blocks == 0, "from_text: no leak");
}

static void test_response(void)
{
  t_alloc_state st = {0};
  kms_http_response r;
  char out[16];
  static const char hdrs[] =
      "HTTP/1.1 400 Bad Request\r\n"
      "x-amzn-RequestId: 0f3c-4b\r\n"
      "Content-Type:application/x-amz-json-1.1 \r\n"
      "X-Long: 0123456789abcdefghij\r\n"
      "x-amzn-requestid: second\r\n";

  kms_http_response_init(&r, t_alloc, &st);
  OK(r.status == 0 && r.body.secret == 1 && r.headers.len == 0,
     "response_init");
  OK(kms_http_response_header(&r, "x", out, sizeof out) == 0,
     "no header in an empty response");
  kmsi_buf_append(&r.headers, hdrs, sizeof hdrs - 1);
  kmsi_buf_append(&r.body, "{}", 2);
  OK(kms_http_response_header(&r, "X-AMZN-REQUESTID", out, sizeof out) &&
         strcmp(out, "0f3c-4b") == 0,
     "response header: first match, case-insensitive, trimmed");
  OK(kms_http_response_header(&r, "content-type", out, sizeof out) &&
         strcmp(out, "application/x-a") == 0,
     "response header: truncated to the buffer");
  OK(kms_http_response_header(&r, "x-long", NULL, 0) == 1,
     "response header: presence only");
  OK(kms_http_response_header(&r, "HTTP/1.1 400 Bad Request", out,
                              sizeof out) == 0,
     "the status line is not a header");
  OK(kms_http_response_header(&r, "Content", out, sizeof out) == 0,
     "a prefix is not a match");
  kms_http_response_free(&r);
  kms_http_response_free(&r);
  kms_http_response_free(NULL);
  OK(st.blocks == 0, "response: no leak");
}

/* No freed block may still hold the body's secrets or the signature
 * material once the message (and its printable forms) are freed. */
static void test_wiped(void)
{
  t_alloc_state st = {0};
  kms_error err;
  kms_buf out;
  kms_http *m;

  t_scan.needles[0] = "ExamplePassword";
  t_scan.needles[1] = "DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo=";
  t_scan.needles[2] = "FQoGZXIvYXdzEXAMPLETOKEN";
  t_scan.needles[3] = "7d28a4dc497ab12d2091c88ba2f4dcb53bddf8efeced16f1ce552306d5";
  t_scan.count = 4;
  t_scan.leaked = 0;
  m = signed_like(&st, t_scan_alloc, secret_body);
  /* Growth of a secret body and of the header array. */
  kms_http_set_body(m, secret_body, strlen(secret_body), &err);
  kmsi_http_remove_header(m, "X-Amz-Security-Token");
  kms_http_add_header(m, "X-Amz-Security-Token", "FQoGZXIvYXdzEXAMPLETOKEN",
                      &err);
  kms_http_to_text(m, 0, &out, &err);
  kms_buf_free(&out);
  kms_http_to_text(m, 1, &out, &err);
  kms_buf_free(&out);
  kms_http_free(m);
  OK(t_scan.leaked == 0, "no freed block holds a secret");
  OK(st.blocks == 0, "wiped: no leak");
  t_scan.count = 0;
}

/* Fails allocation N = 1, 2, ... of new_for + to_text until the calls
 * succeed: every failure must be clean (no crash, no leak). */
static void test_alloc_sweep(void)
{
  long n;
  int clean = 1, done = 0;

  for (n = 1; n < 200 && !done; n++) {
    t_alloc_state st = {0};
    kms_error err;
    kms_buf out = {0};
    kms_http *m;
    kms_status s = KMS_ERR_NOMEM;

    st.fail_at = n;
    m = kms_http_new_for(KMS_OP_UPDATE_CUSTOM_KEY_STORE,
                         "https://kms.us-east-1.amazonaws.com/p?q=1",
                         secret_body, strlen(secret_body), t_alloc, &st,
                         &err);
    if (m)
      s = kms_http_to_text(m, 1, &out, &err);
    if (m && s == KMS_OK) {
      done = 1;
      kms_buf_free(&out);
    } else if (!m ? err.status != KMS_ERR_NOMEM : s != KMS_ERR_NOMEM) {
      clean = 0;
    }
    kms_http_free(m);
    if (st.blocks != 0)
      clean = 0;
  }
  OK(done && clean, "allocation-failure sweep: %ld allocations, every "
     "failure clean", n - 1);
}

int main(void)
{
  test_urls();
  test_new_for();
  test_headers();
  test_to_text();
  test_from_text();
  test_response();
  test_wiped();
  test_alloc_sweep();
  return t_done();
}
