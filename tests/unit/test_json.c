/* test_json.c - json.c: the botocore-style string encoder, UTF-8 length
 * and validity, the strict JSON syntax check, the message quoting helper
 * and the Describe/Connect bodies. The byte-for-byte comparison with
 * botocore itself is botocore_bodies.py. */
#include "testing.h"
#include "internal.h"
#include "request_int.h"

/* Encodes s[0..len) on a counting allocator and compares the result. */
static void check_put(const char *s, size_t len, const char *want,
                      const char *what)
{
  t_alloc_state as = {0, 0, 0, 0};
  kmsi_allocator a;
  kms_buf b;
  kms_status st;

  kmsi_allocator_init(&a, t_alloc, &as);
  kmsi_buf_init(&b, &a, 1);
  st = kmsi_json_put_string(&b, s, len);
  OK(st == KMS_OK, "put_string %s: status", what);
  EQ_STR(b.data, want, "put_string %s", what);
  kms_buf_free(&b);
  OK(as.blocks == 0, "put_string %s: no leak", what);
}

#define PUT(lit, want, what) check_put(lit, sizeof(lit) - 1, want, what)

static void test_put_string(void)
{
  PUT("", "\"\"", "empty");
  PUT("abc", "\"abc\"", "plain");
  PUT("a\"b\\c", "\"a\\\"b\\\\c\"", "quote and backslash");
  PUT("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"", "named controls");
  PUT("\x01\x1f\x0b", "\"\\u0001\\u001f\\u000b\"", "other controls");
  PUT("a\0b", "\"a\\u0000b\"", "NUL");
  PUT("\x7f", "\"\\u007f\"", "DEL");
  PUT("/<>&' ~", "\"/<>&' ~\"", "not escaped");
  PUT("\xc3\xa9", "\"\\u00e9\"", "two-byte");
  PUT("\xe2\x9c\x93", "\"\\u2713\"", "three-byte");
  PUT("\xef\xbf\xbf", "\"\\uffff\"", "U+FFFF");
  PUT("\xf0\x9f\x98\x80x", "\"\\ud83d\\ude00x\"", "astral");
  PUT("\xf4\x8f\xbf\xbf", "\"\\udbff\\udfff\"", "U+10FFFF");
  PUT("\xc2\x80\xdf\xbf", "\"\\u0080\\u07ff\"", "two-byte bounds");
  PUT("\xd0\x9a\xd0\xbb", "\"\\u041a\\u043b\"", "lowercase hex");
  PUT("a\xff" "b", "\"a\\ufffdb\"", "invalid byte");
  PUT("\xc0\x80", "\"\\ufffd\\ufffd\"", "overlong");
  PUT("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"", "encoded surrogate");
  PUT("\xe2\x82", "\"\\ufffd\\ufffd\"", "truncated");
  PUT("\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", "F5 lead");
  PUT("\x80", "\"\\ufffd\"", "lone continuation");
}

static void test_utf8(void)
{
  static const struct {
    const char *s;
    size_t len, want;
    int valid;
  } cases[] = {
    {"", 0, 0, 1},
    {"abc", 3, 3, 1},
    {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 14, 7, 1},
    {"\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 8, 2, 1},
    {"a\0b", 3, 3, 1},
    {"\xff", 1, 1, 0},
    {"\xc0\x80", 2, 2, 0},
    {"\xed\xa0\x80", 3, 3, 0},
    {"\xed\x9f\xbf", 3, 1, 1},         /* U+D7FF */
    {"\xe0\x9f\xbf", 3, 3, 0},         /* overlong */
    {"\xf0\x8f\xbf\xbf", 4, 4, 0},     /* overlong */
    {"\xf4\x90\x80\x80", 4, 4, 0},     /* above U+10FFFF */
    {"\xe2\x82", 2, 2, 0},
    {"\xe2\x82\xac", 3, 1, 1},
  };
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    OK(kmsi_utf8_length(cases[i].s, cases[i].len) == cases[i].want,
       "utf8_length case %zu is %zu", i, cases[i].want);
    OK(kmsi_utf8_valid(cases[i].s, cases[i].len) == cases[i].valid,
       "utf8_valid case %zu is %d", i, cases[i].valid);
  }
}

static void test_json_check(void)
{
  static const struct {
    const char *text;
    int ok;
    size_t where;
    const char *why;
  } cases[] = {
    {"{}", 1, 0, NULL},
    {" {\"a\" : [1, -2.5e+3, true, false, null, \"x\"]} \n", 1, 0, NULL},
    {"\"\\ud83d\\ude00 \\/ \\b\"", 1, 0, NULL},
    {"[[[]]]", 1, 0, NULL},
    {"0", 1, 0, NULL},
    {"", 0, 0, "unexpected end of input"},
    {"{", 0, 1, "unexpected end of input"},
    {"{\"a\" 1}", 0, 5, "expected ':'"},
    {"{\"a\":1,}", 0, 7, "expected a member name"},
    {"{\"a\":1 \"b\":2}", 0, 7, "expected ',' or '}'"},
    {"[1 2]", 0, 3, "expected ',' or ']'"},
    {"{} x", 0, 3, "trailing characters after the JSON value"},
    {"{'a':1}", 0, 1, "expected a member name"},
    {"\"a\tb\"", 0, 2, "control character in string"},
    {"\"\\x\"", 0, 3, "bad escape"},
    {"\"\\u12g4\"", 0, 3, "bad hex digit in \\u escape"},
    {"\"\\u0000\"", 0, 7, "\\u0000 is not supported"},
    {"\"\\udc00\"", 0, 7, "lone low surrogate"},
    {"\"\\ud800x\"", 0, 7, "lone high surrogate"},
    {"\"\\ud800\\u0041\"", 0, 13, "lone high surrogate"},
    {"\"abc", 0, 4, "unterminated string"},
    {"01", 0, 1, "trailing characters after the JSON value"},
    {"1.", 0, 2, "bad number"},
    {"-", 0, 1, "bad number"},
    {"1e", 0, 2, "bad number"},
    {"NaN", 0, 0, "unexpected character"},
    {"tru", 0, 0, "unexpected character"},
    {"\xef\xbb\xbf{}", 0, 0, "unexpected character"},
  };
  size_t i, where;
  const char *why;
  char deep[200];

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int ok = kmsi_json_check(cases[i].text, strlen(cases[i].text), &where,
                             &why);
    OK(ok == cases[i].ok, "json_check %zu ok=%d", i, cases[i].ok);
    if (!cases[i].ok) {
      OK(where == cases[i].where, "json_check %zu offset %zu (got %zu)", i,
         cases[i].where, where);
      EQ_STR(why, cases[i].why, "json_check %zu reason", i);
    }
  }
  /* 64 levels pass, 65 do not */
  memset(deep, '[', 64);
  memset(deep + 64, ']', 64);
  OK(kmsi_json_check(deep, 128, &where, &why) == 1, "json_check depth 64");
  memset(deep, '[', 65);
  memset(deep + 65, ']', 65);
  OK(kmsi_json_check(deep, 130, &where, &why) == 0, "json_check depth 65");
  EQ_STR(why, "nesting too deep", "json_check depth reason");
  OK(kmsi_json_check("{}x", 2, &where, &why) == 1,
     "json_check honours len");
}

static void test_quote(void)
{
  char out[16];

  kmsi_quote_printable(out, sizeof out, "ab", 2);
  EQ_STR(out, "\"ab\"", "quote plain");
  kmsi_quote_printable(out, sizeof out, "a\"\\\n\xff", 5);
  EQ_STR(out, "\"a\\\"\\\\\\x0a\"...", "quote escapes, then cut");
  kmsi_quote_printable(out, sizeof out, "0123456789abcdef", 16);
  EQ_STR(out, "\"0123456789\"...", "quote cut");
  kmsi_quote_printable(out, sizeof out, "", 0);
  EQ_STR(out, "\"\"", "quote empty");
}

static void test_helper_bodies(void)
{
  kms_buf b;
  kms_error err;

  OK(kms_encode_describe("cks-1", "n", 5, "m", &b, &err) == KMS_OK,
     "describe: status");
  EQ_STR(b.data,
         "{\"CustomKeyStoreId\": \"cks-1\", \"CustomKeyStoreName\": \"n\", "
         "\"Limit\": 5, \"Marker\": \"m\"}", "describe: body");
  kms_buf_free(&b);
  OK(kms_encode_describe(NULL, NULL, 0, NULL, &b, &err) == KMS_OK &&
     strcmp(b.data, "{}") == 0, "describe: empty body");
  kms_buf_free(&b);
  OK(kms_encode_describe(NULL, "\xc3\xa9", 0, NULL, &b, &err) == KMS_OK,
     "describe: name only");
  EQ_STR(b.data, "{\"CustomKeyStoreName\": \"\\u00e9\"}", "describe: name");
  kms_buf_free(&b);
  OK(kms_encode_id_only("cks-1", &b, &err) == KMS_OK, "id only: status");
  EQ_STR(b.data, "{\"CustomKeyStoreId\": \"cks-1\"}", "id only: body");
  kms_buf_free(&b);
  OK(kms_encode_describe(NULL, NULL, 0, NULL, NULL, &err) ==
     KMS_ERR_INVALID_ARG, "describe: NULL out");
  EQ_STR(kms_operation_name(KMS_OP_UPDATE_CUSTOM_KEY_STORE),
         "UpdateCustomKeyStore", "operation name update");
  EQ_STR(kms_operation_name(KMS_OP_DESCRIBE_CUSTOM_KEY_STORES),
         "DescribeCustomKeyStores", "operation name describe");
  EQ_STR(kms_operation_name(KMS_OP_CONNECT_CUSTOM_KEY_STORE),
         "ConnectCustomKeyStore", "operation name connect");
  EQ_STR(kms_operation_name(KMS_OP_DISCONNECT_CUSTOM_KEY_STORE),
         "DisconnectCustomKeyStore", "operation name disconnect");
  OK(kms_operation_name(KMS_OP__COUNT) == NULL, "operation name range");
}

/* The encoder under allocation failure: every failing N gives NOMEM and
 * leaves nothing allocated. */
static void test_put_string_nomem(void)
{
  static const char text[] = "\xf0\x9f\x98\x80 a long enough value that "
                             "the buffer has to grow more than once "
                             "\xe2\x9c\x93\xe2\x9c\x93\xe2\x9c\x93";
  long n;
  int all_ok = 1;

  for (n = 1; n < 50; n++) {
    t_alloc_state as = {0, 0, 0, n};
    kmsi_allocator a;
    kms_buf b;
    kms_status st;
    int i;

    kmsi_allocator_init(&a, t_alloc, &as);
    kmsi_buf_init(&b, &a, 1);
    st = KMS_OK;
    for (i = 0; i < 8 && st == KMS_OK; i++)
      st = kmsi_json_put_string(&b, text, sizeof text - 1);
    kms_buf_free(&b);
    if (as.blocks != 0 || (st != KMS_OK && st != KMS_ERR_NOMEM))
      all_ok = 0;
    if (as.calls < n)
      break;
  }
  OK(all_ok, "put_string under allocation failure: NOMEM, no leak");
}

int main(void)
{
  test_put_string();
  test_utf8();
  test_json_check();
  test_quote();
  test_helper_bodies();
  test_put_string_nomem();
  return t_done();
}
