/* test_response.c - kms_response_check against botocore's JSON-protocol
 * error parsing (awscli-behaviour §10), the service-error text with and
 * without the max-retries suffix, failure classification (§11) and the
 * HTTP date parser. Offline, table-driven, on the counting allocator. */
#include <string.h>
#include "send.h"
#include "testing.h"

typedef struct rcase {
  const char *name;
  kms_operation op;
  long status;
  const char *headers;   /* "name: value\n" lines */
  const char *body;
  kms_status want;
  const char *type;      /* err->aws_type, NULL: don't check */
  const char *message;   /* err->message, NULL: don't check */
  int retryable;
} rcase;

#define UPD KMS_OP_UPDATE_CUSTOM_KEY_STORE
#define DESC KMS_OP_DESCRIBE_CUSTOM_KEY_STORES
#define PFX "An error occurred ("
#define UOP " when calling the UpdateCustomKeyStore operation: "

static const rcase cases[] = {
  {"200 {} is success", UPD, 200, "", "{}", KMS_OK, "", "", 0},
  {"200 empty body is success for Update", UPD, 200, "", "", KMS_OK, NULL,
   NULL, 0},
  {"200 non-JSON is success for Update", UPD, 200, "", "not json", KMS_OK,
   NULL, NULL, 0},
  {"200 unexpected field is success", UPD, 200, "", "{\"Unexpected\":1}",
   KMS_OK, NULL, NULL, 0},
  {"204 is success", UPD, 204, "", "", KMS_OK, NULL, NULL, 0},
  {"Describe needs JSON", DESC, 200, "", "not json", KMS_ERR_RESPONSE, NULL,
   NULL, 0},
  {"Describe: a JSON array is not an object", DESC, 200, "", "[1]",
   KMS_ERR_RESPONSE, NULL, NULL, 0},
  {"Describe: truncated JSON", DESC, 200, "", "{\"CustomKeyStores\": [",
   KMS_ERR_RESPONSE, NULL, NULL, 0},
  {"Describe: empty body reads as {}", DESC, 200, "", "", KMS_OK, NULL, NULL,
   0},
  {"Describe: object", DESC, 200, "", " {\"CustomKeyStores\": []}\n", KMS_OK,
   NULL, NULL, 0},
  {"__type with namespace, message", UPD, 400, "",
   "{\"__type\":\"com.amazonaws.kms#CustomKeyStoreInvalidStateException\","
   "\"message\":\"The store is connected.\"}",
   KMS_ERR_SERVICE, "CustomKeyStoreInvalidStateException",
   PFX "CustomKeyStoreInvalidStateException)" UOP "The store is connected.",
   0},
  {"Message when no message", UPD, 400, "",
   "{\"__type\":\"AccessDeniedException\",\"Message\":\"Denied\"}",
   KMS_ERR_SERVICE, "AccessDeniedException",
   PFX "AccessDeniedException)" UOP "Denied", 0},
  {"message wins over Message", UPD, 400, "",
   "{\"Message\":\"B\",\"__type\":\"X\",\"message\":\"A\"}", KMS_ERR_SERVICE,
   "X", PFX "X)" UOP "A", 0},
  {"no message: empty", UPD, 400, "", "{\"__type\":\"X\"}", KMS_ERR_SERVICE,
   "X", PFX "X)" UOP, 0},
  {"no __type: the status", UPD, 404, "", "{\"message\":\"gone\"}",
   KMS_ERR_SERVICE, "404", PFX "404)" UOP "gone", 0},
  {"last # only, ':' suffix kept", UPD, 400, "",
   "{\"__type\":\"a#b#FooError:http://internal/x\"}", KMS_ERR_SERVICE,
   "FooError:http://internal/x", NULL, 0},
  {"keys are case-sensitive", UPD, 400, "",
   "{\"__Type\":\"X\",\"MESSAGE\":\"m\"}", KMS_ERR_SERVICE, "400",
   PFX "400)" UOP, 0},
  {"duplicate keys: the last wins", UPD, 400, "",
   "{\"__type\":\"A\",\"__type\":\"B\",\"message\":\"1\",\"message\":\"2\"}",
   KMS_ERR_SERVICE, "B", PFX "B)" UOP "2", 0},
  {"null message prints None", UPD, 400, "",
   "{\"__type\":\"X\",\"message\":null}", KMS_ERR_SERVICE, "X",
   PFX "X)" UOP "None", 0},
  {"null __type gives an empty code", UPD, 400, "", "{\"__type\":null}",
   KMS_ERR_SERVICE, "", PFX ")" UOP, 0},
  {"x-amzn-query-error wins", UPD, 400,
   "x-amzn-query-error: AWS.Queue.Missing;Sender\n",
   "{\"__type\":\"com.x#Other\",\"message\":\"m\"}", KMS_ERR_SERVICE,
   "AWS.Queue.Missing", PFX "AWS.Queue.Missing)" UOP "m", 0},
  {"x-amzn-query-error with #", UPD, 400,
   "X-Amzn-Query-Error: ns#Code;Sender\n", "{}", KMS_ERR_SERVICE, "Code",
   NULL, 0},
  {"x-amzn-query-error without ';' ignored", UPD, 400,
   "x-amzn-query-error: Code\n", "{\"__type\":\"T\"}", KMS_ERR_SERVICE, "T",
   NULL, 0},
  {"x-amzn-query-error with 3 fields ignored", UPD, 400,
   "x-amzn-query-error: a;b;c\n", "{\"__type\":\"T\"}", KMS_ERR_SERVICE, "T",
   NULL, 0},
  {"x-amzn-query-error empty code ignored", UPD, 400,
   "x-amzn-query-error: ;Sender\n", "{}", KMS_ERR_SERVICE, "400", NULL, 0},
  {"non-JSON body verbatim", UPD, 403, "", "not json at all",
   KMS_ERR_SERVICE, "403", PFX "403)" UOP "not json at all", 0},
  {"empty 4xx body", UPD, 400, "", "", KMS_ERR_SERVICE, "400",
   PFX "400)" UOP, 0},
  {"500 empty: reason phrase", UPD, 500, "", "", KMS_ERR_SERVICE, "500",
   PFX "500)" UOP "Internal Server Error", 1},
  {"504 <html>: reason phrase", UPD, 504, "",
   "<html><body>Gateway</body></html>", KMS_ERR_SERVICE, "504",
   PFX "504)" UOP "Gateway Timeout", 1},
  {"503 whitespace then <html>", UPD, 503, "", " \r\n<html>x", KMS_ERR_SERVICE,
   "503", PFX "503)" UOP "Service Unavailable", 1},
  {"502 whitespace only", UPD, 502, "", " \n\t ", KMS_ERR_SERVICE, "502",
   PFX "502)" UOP "Bad Gateway", 1},
  {"500 <HTML> is not generic", UPD, 500, "", "<HTML>x", KMS_ERR_SERVICE,
   "500", PFX "500)" UOP "<HTML>x", 1},
  {"500 JSON parsed", UPD, 500, "",
   "{\"__type\":\"KMSInternalException\",\"message\":\"oops\"}",
   KMS_ERR_SERVICE, "KMSInternalException",
   PFX "KMSInternalException)" UOP "oops", 1},
  {"500 truncated JSON verbatim", UPD, 500, "", "{\"a\":", KMS_ERR_SERVICE,
   "500", PFX "500)" UOP "{\"a\":", 1},
  {"501 is not retried", UPD, 501, "", "", KMS_ERR_SERVICE, "501",
   PFX "501)" UOP "Not Implemented", 0},
  {"300 is an error here (botocore: >= 301)", UPD, 300, "", "",
   KMS_ERR_SERVICE, "300", PFX "300)" UOP, 0},
  {"301 is an error", UPD, 301, "Location: http://x/\n", "",
   KMS_ERR_SERVICE, "301", NULL, 0},
  {"ThrottlingException retryable", UPD, 400, "",
   "{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}",
   KMS_ERR_SERVICE, "ThrottlingException",
   PFX "ThrottlingException)" UOP "Rate exceeded", 1},
  {"LimitExceededException retryable", UPD, 400, "",
   "{\"__type\":\"LimitExceededException\"}", KMS_ERR_SERVICE,
   "LimitExceededException", NULL, 1},
  {"429 with unknown code not retryable", UPD, 429, "",
   "{\"__type\":\"Foo\"}", KMS_ERR_SERVICE, "Foo", NULL, 0},
  {"RequestTimeout retryable", UPD, 400, "",
   "{\"__type\":\"RequestTimeout\"}", KMS_ERR_SERVICE, "RequestTimeout",
   NULL, 1},
  {"Connect operation name", KMS_OP_CONNECT_CUSTOM_KEY_STORE, 400, "",
   "{\"__type\":\"X\",\"message\":\"m\"}", KMS_ERR_SERVICE, "X",
   PFX "X) when calling the ConnectCustomKeyStore operation: m", 0},
};

static void run_case(const rcase *c)
{
  t_alloc_state st = {0};
  kms_http_response r;
  kms_error err;
  kms_status s;

  kms_http_response_init(&r, t_alloc, &st);
  r.status = c->status;
  kmsi_buf_puts(&r.headers, "x-amzn-RequestId: rid-123\n");
  kmsi_buf_puts(&r.headers, c->headers);
  kmsi_buf_append(&r.body, c->body, strlen(c->body));
  memset(&err, 0x5a, sizeof err);
  s = kms_response_check(c->op, &r, &err);
  OK(s == c->want, "%s: status %s", c->name, kms_strerror(s));
  OK(err.status == c->want, "%s: err.status", c->name);
  OK(err.http_status == c->status, "%s: http_status", c->name);
  EQ_STR(err.request_id, "rid-123", "%s: request id", c->name);
  if (c->type)
    EQ_STR(err.aws_type, c->type, "%s: type", c->name);
  if (c->message)
    EQ_STR(err.message, c->message, "%s: message", c->name);
  if (c->want == KMS_ERR_SERVICE)
    OK(err.retryable == c->retryable &&
           kms_error_is_retryable(&err) == c->retryable,
       "%s: retryable %d", c->name, c->retryable);
  kms_http_response_free(&r);
  OK(st.blocks == 0 && st.bytes == 0, "%s: no leak", c->name);
}

static void test_max_retries(void)
{
  kms_http_response r;
  kms_error err;

  kms_http_response_init(&r, NULL, NULL);
  r.status = 400;
  kmsi_buf_puts(&r.body, "{\"__type\":\"ThrottlingException\","
                         "\"message\":\"Rate exceeded\"}");
  kms_response_check(UPD, &r, &err);
  kmsi_error_add_max_retries(&err, UPD, 2);
  EQ_STR(err.message, "An error occurred (ThrottlingException) when calling "
         "the UpdateCustomKeyStore operation (reached max retries: 2): Rate "
         "exceeded", "max-retries suffix");
  kms_http_response_free(&r);

  kms_error_clear(&err);
  kmsi_error(&err, KMS_ERR_READ_TIMEOUT, "Read timeout on endpoint URL: "
             "\"http://x/\"");
  kmsi_error_add_max_retries(&err, UPD, 2);
  EQ_STR(err.message, "Read timeout on endpoint URL: \"http://x/\"",
         "no suffix on a transport error");

  /* A message near the limit is cut, never overflowed. */
  kms_http_response_init(&r, NULL, NULL);
  r.status = 400;
  kmsi_buf_puts(&r.body, "{\"__type\":\"X\",\"message\":\"");
  {
    int i;
    for (i = 0; i < 600; i++)
      kmsi_buf_putc(&r.body, 'm');
  }
  kmsi_buf_puts(&r.body, "\"}");
  kms_response_check(UPD, &r, &err);
  OK(strlen(err.message) == KMS_ERROR_MESSAGE_SIZE - 1, "long message cut");
  kmsi_error_add_max_retries(&err, UPD, 0);
  OK(strstr(err.message, "operation (reached max retries: 0): mmm") != NULL,
     "suffix added to a cut message");
  kms_http_response_free(&r);
}

static void test_classify(void)
{
  static const struct {
    kms_status s;
    kmsi_failure f;
  } t[] = {
    {KMS_OK, KMSI_FAIL_NONE},
    {KMS_ERR_CONNECT, KMSI_FAIL_TRANSIENT},
    {KMS_ERR_CONNECTION_CLOSED, KMSI_FAIL_TRANSIENT},
    {KMS_ERR_TLS, KMSI_FAIL_TRANSIENT},
    {KMS_ERR_CONNECT_TIMEOUT, KMSI_FAIL_TIMEOUT},
    {KMS_ERR_READ_TIMEOUT, KMSI_FAIL_TIMEOUT},
    {KMS_ERR_RESPONSE, KMSI_FAIL_NONE},
    {KMS_ERR_VALIDATION, KMSI_FAIL_NONE},
    {KMS_ERR_NO_CREDENTIALS, KMSI_FAIL_NONE},
    {KMS_ERR_NOMEM, KMSI_FAIL_NONE},
  };
  static const char *const throttles[] = {
    "Throttling", "ThrottlingException", "ThrottledException",
    "RequestThrottledException", "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException", "RequestLimitExceeded",
    "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
    "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException"};
  kms_error e;
  size_t i;

  for (i = 0; i < sizeof t / sizeof t[0]; i++) {
    kms_error_clear(&e);
    e.status = t[i].s;
    OK(kmsi_failure_of(&e) == t[i].f, "classify %s", kms_strerror(t[i].s));
  }
  for (i = 0; i < sizeof throttles / sizeof throttles[0]; i++) {
    kms_error_clear(&e);
    e.status = KMS_ERR_SERVICE;
    e.http_status = 400;
    kmsi_strlcpy(e.aws_type, throttles[i], sizeof e.aws_type);
    OK(kmsi_failure_of(&e) == KMSI_FAIL_THROTTLING, "throttling: %s",
       throttles[i]);
  }
  kms_error_clear(&e);
  e.status = KMS_ERR_SERVICE;
  e.http_status = 400;
  kmsi_strlcpy(e.aws_type, "throttlingexception", sizeof e.aws_type);
  OK(kmsi_failure_of(&e) == KMSI_FAIL_NONE, "codes are case-sensitive");
  kmsi_strlcpy(e.aws_type, "RequestTimeoutException", sizeof e.aws_type);
  OK(kmsi_failure_of(&e) == KMSI_FAIL_TRANSIENT, "RequestTimeoutException");
  OK(kms_error_is_retryable(NULL) == 0, "NULL is not retryable");
  OK(kmsi_is_clock_skew_code("RequestTimeTooSkewed") == 1, "skew: definite");
  OK(kmsi_is_clock_skew_code("InvalidSignatureException") == 2,
     "skew: possible");
  OK(kmsi_is_clock_skew_code("AccessDeniedException") == 0, "skew: no");
  EQ_STR(kmsi_http_reason(503), "Service Unavailable", "reason 503");
  EQ_STR(kmsi_http_reason(599), "", "reason unknown");
}

static void test_dates(void)
{
  time_t t = 0;
  OK(kmsi_parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", &t) &&
         t == 784111777, "IMF-fixdate");
  OK(kmsi_parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", &t) &&
         t == 784111777, "RFC 850");
  OK(kmsi_parse_http_date("Sun Nov  6 08:49:37 1994", &t) && t == 784111777,
     "asctime");
  OK(!kmsi_parse_http_date("yesterday", &t), "garbage refused");
  OK(!kmsi_parse_http_date("Sun, 06 Xyz 1994 08:49:37 GMT", &t),
     "bad month refused");
  OK(!kmsi_parse_http_date("Sun, 06 Nov 1994 08:49:37 PST", &t),
     "non-GMT zone refused");
  OK(!kmsi_parse_http_date(NULL, &t), "NULL refused");
}

/* {===== filling a response a host received (public API only) ===== */

#define BODY1 "{\"__type\":\"com.x#ThrottlingException\","
#define BODY2 "\"message\":\"slow\"}"

static void test_fill(void)
{
  static const struct {
    const char *name, *value;
  } bad[] = {
    {"", "v"}, {"Na:me", "v"}, {"Na\rme", "v"}, {"Na\nme", "v"},
    {"Name", "v\r"}, {"Name", "a\nInjected: yes"},
  };
  t_alloc_state st = {0};
  kms_http_response r;
  kms_error err;
  char v[64];
  size_t i;

  kms_http_response_init(&r, t_alloc, &st);
  r.status = 400;
  OK(kms_http_response_add_header(&r, "x-amzn-RequestId", "rid-9", &err) ==
         KMS_OK &&
         kms_http_response_add_header(&r, "Date", "  Sun, 06 Nov 1994 "
                                      "08:49:37 GMT ", &err) == KMS_OK &&
         kms_http_response_add_header(&r, "X-Empty", "", &err) == KMS_OK,
     "add_header: three headers");
  EQ_STR(r.headers.data, "x-amzn-RequestId: rid-9\nDate:   Sun, 06 Nov "
         "1994 08:49:37 GMT \nX-Empty: \n", "add_header: line format");
  OK(kms_http_response_header(&r, "date", v, sizeof v) &&
         strcmp(v, "Sun, 06 Nov 1994 08:49:37 GMT") == 0,
     "add_header: read back, trimmed, any case");
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    size_t before = r.headers.len;
    memset(&err, 0, sizeof err);
    OK(kms_http_response_add_header(&r, bad[i].name, bad[i].value, &err) ==
           KMS_ERR_INVALID_ARG && err.status == KMS_ERR_INVALID_ARG &&
           r.headers.len == before,
       "add_header: bad header %zu refused, response unchanged", i);
  }
  OK(kms_http_response_add_header(NULL, "a", "b", &err) ==
         KMS_ERR_INVALID_ARG &&
         kms_http_response_add_header(&r, NULL, "b", NULL) ==
             KMS_ERR_INVALID_ARG &&
         kms_http_response_add_header(&r, "a", NULL, NULL) ==
             KMS_ERR_INVALID_ARG,
     "add_header: NULL refused");

  OK(kms_http_response_append_body(&r, BODY1, strlen(BODY1), &err) ==
         KMS_OK &&
         kms_http_response_append_body(&r, NULL, 0, &err) == KMS_OK &&
         kms_http_response_append_body(&r, BODY2, strlen(BODY2), &err) ==
             KMS_OK,
     "append_body: in pieces, NULL with 0 is a no-op");
  OK(r.body.len == strlen(BODY1 BODY2) && r.body.secret &&
         memcmp(r.body.data, BODY1 BODY2, r.body.len) == 0,
     "append_body: the bytes, in a secret buffer");
  OK(kms_http_response_append_body(&r, NULL, 1, &err) ==
         KMS_ERR_INVALID_ARG &&
         kms_http_response_append_body(NULL, "x", 1, &err) ==
             KMS_ERR_INVALID_ARG &&
         r.body.len == strlen(BODY1 BODY2),
     "append_body: NULL data with a length, NULL response refused");
  OK(kms_response_check(UPD, &r, &err) == KMS_ERR_SERVICE &&
         strcmp(err.aws_type, "ThrottlingException") == 0 &&
         strcmp(err.request_id, "rid-9") == 0 && err.retryable,
     "a filled response is checked as a transport's");
  kms_http_response_free(&r);
  OK(st.blocks == 0 && st.bytes == 0, "fill: no leak");

  /* Binary-safe body. */
  kms_http_response_init(&r, NULL, NULL);
  OK(kms_http_response_append_body(&r, "a\0b", 3, NULL) == KMS_OK &&
         r.body.len == 3 && memcmp(r.body.data, "a\0b", 3) == 0,
     "append_body: binary-safe");
  kms_http_response_free(&r);

  /* Each allocation fails in turn: nomem, the response unchanged, no
   * leak; then success. */
  for (i = 1; i < 20; i++) {
    t_alloc_state fs = {0, 0, 0, 0};
    kms_status a, b;
    fs.fail_at = (long)i;
    kms_http_response_init(&r, t_alloc, &fs);
    a = kms_http_response_add_header(&r, "Date", "x", NULL);
    b = kms_http_response_append_body(&r, "{}", 2, NULL);
    if ((a != KMS_OK && (a != KMS_ERR_NOMEM || r.headers.len)) ||
        (b != KMS_OK && (b != KMS_ERR_NOMEM || r.body.len)))
      break;
    kms_http_response_free(&r);
    if (fs.blocks || fs.bytes)
      break;
    if (a == KMS_OK && b == KMS_OK)
      break;
  }
  OK(i == 3, "fill: allocation failures are nomem, clean (%zu)", i);
}
/* }===== */

int main(void)
{
  size_t i;
  kms_error err;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    run_case(&cases[i]);
  OK(kms_response_check(UPD, NULL, &err) == KMS_ERR_INVALID_ARG,
     "NULL response refused");
  test_max_retries();
  test_classify();
  test_dates();
  test_fill();
  return t_done();
}
