/* response.c - maps an HTTP response to success or a typed KMS error
 * exactly as botocore's JSON protocol parser does, and classifies
 * failures for the retry policy (botocore's standard retry conditions).
 * Also fills a response that a host received by itself. No I/O here. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <cJSON.h>
#include "send.h"

/* {===== code lists (botocore retries/standard.py) ===== */

static const char *const throttling_codes[] = {
  "Throttling", "ThrottlingException", "ThrottledException",
  "RequestThrottledException", "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "TransactionInProgressException", "RequestLimitExceeded",
  "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
  "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException", NULL
};

static const char *const transient_codes[] = {
  "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
  NULL
};

/* botocore itself does not correct clock skew; these are the lists of
 * the AWS SDKs that do (Java v2 AwsErrorCode, JavaScript v3). */
static const char *const skew_codes_definite[] = {
  "RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture", NULL
};
static const char *const skew_codes_possible[] = {
  "InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure", NULL
};

static int in_list(const char *const *list, const char *code)
{
  size_t i;
  if (!code || !*code)
    return 0;
  for (i = 0; list[i]; i++)
    if (strcmp(list[i], code) == 0)
      return 1;
  return 0;
}

int kmsi_is_throttling_code(const char *code)
{
  return in_list(throttling_codes, code);
}

int kmsi_is_clock_skew_code(const char *code)
{
  if (in_list(skew_codes_definite, code))
    return 1;
  if (in_list(skew_codes_possible, code))
    return 2;
  return 0;
}

kmsi_failure kmsi_failure_of(const kms_error *err)
{
  if (!err)
    return KMSI_FAIL_NONE;
  switch (err->status) {
  case KMS_ERR_CONNECT_TIMEOUT:
  case KMS_ERR_READ_TIMEOUT:
    return KMSI_FAIL_TIMEOUT;
  case KMS_ERR_CONNECT:            /* botocore: EndpointConnectionError */
  case KMS_ERR_CONNECTION_CLOSED:  /* ConnectionClosedError */
  case KMS_ERR_TLS:                /* SSLError is a ConnectionError */
    return KMSI_FAIL_TRANSIENT;
  case KMS_ERR_SERVICE:
    if (kmsi_is_throttling_code(err->aws_type))
      return KMSI_FAIL_THROTTLING;
    if (in_list(transient_codes, err->aws_type))
      return KMSI_FAIL_TRANSIENT;
    if (err->http_status == 500 || err->http_status == 502 ||
        err->http_status == 503 || err->http_status == 504)
      return KMSI_FAIL_TRANSIENT;
    return KMSI_FAIL_NONE;
  default:
    return KMSI_FAIL_NONE;
  }
}

int kms_error_is_retryable(const kms_error *err)
{
  return kmsi_failure_of(err) != KMSI_FAIL_NONE;
}
/* }===== */

/* {===== reason phrases and dates ===== */

static const struct {
  long status;
  const char *phrase;
} reasons[] = {
  {300, "Multiple Choices"}, {301, "Moved Permanently"}, {302, "Found"},
  {303, "See Other"}, {304, "Not Modified"}, {305, "Use Proxy"},
  {307, "Temporary Redirect"}, {308, "Permanent Redirect"},
  {400, "Bad Request"}, {401, "Unauthorized"}, {402, "Payment Required"},
  {403, "Forbidden"}, {404, "Not Found"}, {405, "Method Not Allowed"},
  {406, "Not Acceptable"}, {407, "Proxy Authentication Required"},
  {408, "Request Timeout"}, {409, "Conflict"}, {410, "Gone"},
  {411, "Length Required"}, {412, "Precondition Failed"},
  {413, "Request Entity Too Large"}, {414, "Request-URI Too Long"},
  {415, "Unsupported Media Type"},
  {416, "Requested Range Not Satisfiable"}, {417, "Expectation Failed"},
  {418, "I'm a Teapot"}, {421, "Misdirected Request"},
  {422, "Unprocessable Entity"}, {423, "Locked"},
  {424, "Failed Dependency"}, {425, "Too Early"},
  {426, "Upgrade Required"}, {428, "Precondition Required"},
  {429, "Too Many Requests"}, {431, "Request Header Fields Too Large"},
  {451, "Unavailable For Legal Reasons"},
  {500, "Internal Server Error"}, {501, "Not Implemented"},
  {502, "Bad Gateway"}, {503, "Service Unavailable"},
  {504, "Gateway Timeout"}, {505, "HTTP Version Not Supported"},
  {506, "Variant Also Negotiates"}, {507, "Insufficient Storage"},
  {508, "Loop Detected"}, {510, "Not Extended"},
  {511, "Network Authentication Required"},
};

const char *kmsi_http_reason(long status)
{
  size_t i;
  for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
    if (reasons[i].status == status)
      return reasons[i].phrase;
  return "";
}

static int month_of(const char *m)
{
  static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May",
                                       "Jun", "Jul", "Aug", "Sep", "Oct",
                                       "Nov", "Dec"};
  int i;
  for (i = 0; i < 12; i++)
    if (strncasecmp(m, months[i], 3) == 0)
      return i;
  return -1;
}

int kmsi_parse_http_date(const char *s, time_t *out)
{
  char wd[16], mon[4], zone[8];
  int day, year, hh, mm, ss, n = 0;
  struct tm tm;
  time_t t;

  if (!s)
    return 0;
  while (*s == ' ' || *s == '\t')
    s++;
  memset(&tm, 0, sizeof tm);
  /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
  if (sscanf(s, "%15[A-Za-z], %d %3s %d %d:%d:%d %7s%n", wd, &day, mon,
             &year, &hh, &mm, &ss, zone, &n) == 8 && n > 0) {
    (void)0;
  } else if (sscanf(s, "%15[A-Za-z], %d-%3s-%d %d:%d:%d %7s%n", wd, &day,
                    mon, &year, &hh, &mm, &ss, zone, &n) == 8 && n > 0) {
    /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
    year += year < 70 ? 2000 : (year < 100 ? 1900 : 0);
  } else if (sscanf(s, "%15[A-Za-z] %3s %d %d:%d:%d %d%n", wd, mon, &day,
                    &hh, &mm, &ss, &year, &n) == 7 && n > 0) {
    /* asctime: "Sun Nov  6 08:49:37 1994" */
    strcpy(zone, "GMT");
  } else {
    return 0;
  }
  if (strcmp(zone, "GMT") != 0 && strcmp(zone, "UTC") != 0)
    return 0;
  tm.tm_mon = month_of(mon);
  if (tm.tm_mon < 0 || day < 1 || day > 31 || hh < 0 || hh > 23 || mm < 0 ||
      mm > 59 || ss < 0 || ss > 60 || year < 1970 || year > 9999)
    return 0;
  tm.tm_year = year - 1900;
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  t = timegm(&tm);
  if (t == (time_t)-1)
    return 0;
  *out = t;
  return 1;
}
/* }===== */

/* {===== error text ===== */

#define SERVICE_PREFIX "An error occurred ("

/* snprintf into a fixed field; truncation is expected and fine. */
static void field_printf(char *dst, size_t size, const char *fmt, ...)
    KMSI_PRINTF(3, 4);
static void field_printf(char *dst, size_t size, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(dst, size, fmt, ap);
  va_end(ap);
}

void kmsi_error_set_service(kms_error *err, kms_operation op,
                            const char *type, const char *message)
{
  if (!err)
    return;
  err->status = KMS_ERR_SERVICE;
  kmsi_strlcpy(err->aws_type, type, sizeof err->aws_type);
  field_printf(err->message, sizeof err->message,
           SERVICE_PREFIX "%s) when calling the %s operation: %s", type,
           kms_operation_name(op), message);
}

void kmsi_error_add_max_retries(kms_error *err, kms_operation op,
                                int retries)
{
  char head[KMS_ERROR_MESSAGE_SIZE], tail[KMS_ERROR_MESSAGE_SIZE];
  size_t hl;

  if (!err || err->status != KMS_ERR_SERVICE)
    return;
  field_printf(head, sizeof head, SERVICE_PREFIX "%s) when calling the %s "
           "operation: ", err->aws_type, kms_operation_name(op));
  hl = strlen(head);
  if (strncmp(err->message, head, hl) != 0)
    return;
  kmsi_strlcpy(tail, err->message + hl, sizeof tail);
  field_printf(err->message, sizeof err->message,
           SERVICE_PREFIX "%s) when calling the %s operation (reached max "
           "retries: %d): %s", err->aws_type, kms_operation_name(op),
           retries, tail);
}
/* }===== */

/* {===== filling a response a host received ===== */

/* One header line, "name: value\n", as the transports write them (the
 * format kms_http_response_header reads). The buffer is truncated back on
 * failure, so resp is unchanged. */
kms_status kms_http_response_add_header(kms_http_response *resp,
                                        const char *name, const char *value,
                                        kms_error *err)
{
  kms_status result = KMS_ERR_INVALID_ARG;
  size_t nlen, vlen, old;
  kms_buf *b;

  if (!resp || !name || !value) {
    kmsi_error(err, result, "response: bad header");
    goto cleanup;
  }
  nlen = strlen(name);
  vlen = strlen(value);
  if (!nlen || strpbrk(name, ":\r\n")) {
    kmsi_error(err, result, "response: bad header name \"%.*s\"",
               (int)(nlen > 64 ? 64 : nlen), name);
    goto cleanup;
  }
  if (strpbrk(value, "\r\n")) {
    kmsi_error(err, result, "response: bad value for header %.*s",
               (int)(nlen > 64 ? 64 : nlen), name);
    goto cleanup;
  }
  b = &resp->headers;
  old = b->len;
  result = kmsi_buf_reserve(b, nlen + vlen + 3);
  if (result == KMS_OK)
    result = kmsi_buf_append(b, name, nlen);
  if (result == KMS_OK)
    result = kmsi_buf_append(b, ": ", 2);
  if (result == KMS_OK)
    result = kmsi_buf_append(b, value, vlen);
  if (result == KMS_OK)
    result = kmsi_buf_putc(b, '\n');
  if (result != KMS_OK) {
    if (b->data) {
      b->len = old;
      b->data[old] = '\0';
    }
    kmsi_error(err, result, "response: out of memory");
  }
cleanup:
  return result;
}

kms_status kms_http_response_append_body(kms_http_response *resp,
                                         const char *data, size_t len,
                                         kms_error *err)
{
  kms_status result = KMS_ERR_INVALID_ARG;

  if (!resp || (!data && len)) {
    kmsi_error(err, result, "response: bad body");
    goto cleanup;
  }
  result = KMS_OK;
  if (len && kmsi_buf_append(&resp->body, data, len) != KMS_OK)
    result = kmsi_error(err, KMS_ERR_NOMEM, "response: out of memory");
cleanup:
  return result;
}
/* }===== */

/* {===== parsing ===== */

/* Python's bytes.strip() whitespace. */
static int py_space(unsigned char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

/* botocore's _is_generic_error_response: status >= 500 and a body that
 * is empty after strip() or starts with "<html>". */
static int is_generic_error(const kms_http_response *resp)
{
  const char *b = resp->body.data;
  size_t n = resp->body.len;

  if (resp->status < 500)
    return 0;
  while (n && py_space((unsigned char)*b)) {
    b++;
    n--;
  }
  while (n && py_space((unsigned char)b[n - 1]))
    n--;
  return n == 0 || (n >= 6 && memcmp(b, "<html>", 6) == 0);
}

/* Parses body[0..len) as one JSON value, allowing surrounding whitespace
 * as json.loads does. NULL when it is not JSON. */
static cJSON *parse_json(const char *body, size_t len)
{
  const char *end = NULL;
  cJSON *root;

  if (!body || !len)
    return NULL;
  root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
  if (!root)
    return NULL;
  while (end && (size_t)(end - body) < len &&
         (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
    end++;
  if (!end || (size_t)(end - body) != len) {
    cJSON_Delete(root);
    return NULL;
  }
  return root;
}

/* The last member named key (Python's dict keeps the last duplicate). */
static const cJSON *member(const cJSON *obj, const char *key)
{
  const cJSON *it, *found = NULL;
  for (it = obj->child; it; it = it->next)
    if (it->string && strcmp(it->string, key) == 0)
      found = it;
  return found;
}

/* A JSON value as Python's str() would print it for the common cases:
 * strings as they are, null as None, booleans as True/False, the rest as
 * compact JSON. Writes into out[size]. */
static void value_text(const cJSON *v, char *out, size_t size)
{
  char *printed;

  if (cJSON_IsString(v)) {
    kmsi_strlcpy(out, v->valuestring, size);
  } else if (cJSON_IsNull(v)) {
    kmsi_strlcpy(out, "None", size);
  } else if (cJSON_IsTrue(v)) {
    kmsi_strlcpy(out, "True", size);
  } else if (cJSON_IsFalse(v)) {
    kmsi_strlcpy(out, "False", size);
  } else {
    printed = cJSON_PrintUnformatted(v);
    kmsi_strlcpy(out, printed ? printed : "", size);
    cJSON_free(printed);
  }
}

/* Copies body bytes into out as text: verbatim, NULs dropped (they would
 * cut the C string), truncated to size. */
static void body_text(const kms_http_response *resp, char *out, size_t size)
{
  size_t i, o = 0;
  for (i = 0; i < resp->body.len && o + 1 < size; i++)
    if (resp->body.data[i] != '\0')
      out[o++] = resp->body.data[i];
  out[o] = '\0';
}

/* Fills type and message of an error response by botocore's rules:
 *  1. status >= 500 with an empty or <html> body: the status number and
 *     its reason phrase;
 *  2. a JSON object: message, else Message, else ''; the code from
 *     x-amzn-query-error ("Code;Type"), else __type, else the status;
 *     everything up to the last '#' removed;
 *  3. any other body: the status number and the body verbatim. */
static void parse_error(const kms_http_response *resp, char *type,
                        size_t tsize, char *msg, size_t msize)
{
  char qe[KMS_ERROR_FIELD_SIZE];
  cJSON *root = NULL;
  const cJSON *v;
  const char *semi, *hash;

  field_printf(type, tsize, "%ld", resp->status);
  msg[0] = '\0';
  if (is_generic_error(resp)) {
    kmsi_strlcpy(msg, kmsi_http_reason(resp->status), msize);
    goto cleanup;
  }
  if (resp->body.len) {
    root = parse_json(resp->body.data, resp->body.len);
    if (!cJSON_IsObject(root)) {
      body_text(resp, msg, msize);
      goto cleanup;
    }
    v = member(root, "message");
    if (!v)
      v = member(root, "Message");
    if (v)
      value_text(v, msg, msize);
  }
  /* x-amzn-query-error: exactly two ';'-separated fields, the first not
   * empty. */
  if (kms_http_response_header(resp, "x-amzn-query-error", qe, sizeof qe)) {
    semi = strchr(qe, ';');
    if (semi && semi != qe && !strchr(semi + 1, ';')) {
      field_printf(type, tsize, "%.*s", (int)(semi - qe), qe);
      goto strip;
    }
  }
  if (root) {
    v = member(root, "__type");
    if (v && cJSON_IsNull(v))
      type[0] = '\0';
    else if (v)
      value_text(v, type, tsize);
  }
strip:
  hash = strrchr(type, '#');
  if (hash)
    memmove(type, hash + 1, strlen(hash + 1) + 1);
cleanup:
  cJSON_Delete(root);
}

kms_status kms_response_check(kms_operation op,
                              const kms_http_response *resp, kms_error *err)
{
  kms_status result = KMS_ERR_INVALID_ARG;
  char type[KMS_ERROR_FIELD_SIZE], rid[KMS_ERROR_FIELD_SIZE];
  char msg[KMS_ERROR_MESSAGE_SIZE];
  cJSON *root = NULL;

  if (!resp || (int)op < 0 || op >= KMS_OP__COUNT) {
    kmsi_error(err, KMS_ERR_INVALID_ARG, "response check: bad argument");
    goto cleanup;
  }
  rid[0] = '\0';
  kms_http_response_header(resp, "x-amzn-RequestId", rid, sizeof rid);
  if (err) {
    kms_error_clear(err);
    err->http_status = resp->status;
    kmsi_strlcpy(err->request_id, rid, sizeof err->request_id);
  }
  /* kmscks treats every 2xx as success and everything else as an error;
   * botocore's line is >= 301 (a 300 would "succeed" there). */
  if (resp->status < 200 || resp->status > 299) {
    parse_error(resp, type, sizeof type, msg, sizeof msg);
    kmsi_error_set_service(err, op, type, msg);
    if (err)
      err->retryable = kms_error_is_retryable(err);
    result = KMS_ERR_SERVICE;
    goto cleanup;
  }
  /* Update, Connect and Disconnect have an empty output structure: any
   * 2xx body is success, as the AWS CLI prints nothing for a non-JSON or
   * empty 200. Describe needs its JSON (an empty body reads as {}). */
  if (op == KMS_OP_DESCRIBE_CUSTOM_KEY_STORES && resp->body.len) {
    root = parse_json(resp->body.data, resp->body.len);
    if (!cJSON_IsObject(root)) {
      kmsi_error(err, KMS_ERR_RESPONSE, "could not parse the %s response: "
                 "the body is not a JSON object (HTTP %ld, %zu bytes)",
                 kms_operation_name(op), resp->status, resp->body.len);
      result = KMS_ERR_RESPONSE;
      goto cleanup;
    }
  }
  result = KMS_OK;
cleanup:
  cJSON_Delete(root);
  return result;
}
/* }===== */
