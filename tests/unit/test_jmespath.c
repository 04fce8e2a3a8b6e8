/* test_jmespath.c - unit tests of the JMESPath engine (jmespath*.c): what
 * the AWS CLI's --query relies on, error kinds and messages, Python's
 * number forms, the nesting caps, and an allocation-failure sweep. The
 * compliance suite itself runs in tests/vectors (jmespath_runner). */
#include <string.h>
#include "testing.h"
#include "jmespath.h"

typedef struct search_case {
  const char *expr;
  const char *doc;
  const char *want;          /* compact JSON, or NULL when an error */
  const char *kind;          /* error kind name when want is NULL */
} search_case;

static const search_case cases[] = {
  /* what the AWS CLI relies on */
  { "KeyStoreId", "{}", "null", NULL },
  { "{a: `1`}", "{}", "{\"a\":1}", NULL },
  { "length(@)", "{}", "0", NULL },
  { "CustomKeyStores[0].ConnectionState",
    "{\"CustomKeyStores\":[{\"ConnectionState\":\"CONNECTED\"}]}",
    "\"CONNECTED\"", NULL },
  { "CustomKeyStores[?CustomKeyStoreType=='EXTERNAL_KEY_STORE']"
    ".CustomKeyStoreId",
    "{\"CustomKeyStores\":[{\"CustomKeyStoreId\":\"cks-1\","
    "\"CustomKeyStoreType\":\"EXTERNAL_KEY_STORE\"},"
    "{\"CustomKeyStoreId\":\"cks-2\","
    "\"CustomKeyStoreType\":\"AWS_CLOUDHSM\"}]}",
    "[\"cks-1\"]", NULL },
  /* Python's number forms (json.dumps of ints and floats) */
  { "avg(@)", "[1,2,3]", "2.0", NULL },
  { "sum(@)", "[1,2,3]", "6", NULL },
  { "sum(@)", "[1.0,2]", "3.0", NULL },
  { "@", "[1.0,-0.0,0.1,1e16,1e-5,0.0001,2.5e15,123456789]",
    "[1.0,-0.0,0.1,1e+16,1e-05,0.0001,2500000000000000.0,123456789]", NULL },
  { "to_number('1e21')", "null", "1e+21", NULL },
  { "to_number(' 1_000 ')", "null", "1000", NULL },
  { "to_number('1.50')", "null", "1.5", NULL },
  { "to_number('nan')", "null", "null", NULL },
  { "floor(`2.5`)", "null", "2", NULL },
  { "to_string(@)", "[\"\\u00e9\",1.5]", "\"[\\\"\\\\u00e9\\\",1.5]\"", NULL },
  { "@", "\"\\u00e9\\n\"", "\"\xc3\xa9\\n\"", NULL },
  /* objects keep Python dict order; duplicates keep the first place */
  { "@", "{\"b\":1,\"a\":2,\"b\":3}", "{\"b\":3,\"a\":2}", NULL },
  { "merge(@, `{\"a\":0,\"c\":1}`)", "{\"b\":1,\"a\":2}",
    "{\"b\":1,\"a\":0,\"c\":1}", NULL },
  /* slices project, also after an index (jmespath.py doesn't) */
  { "foo[0][1:].a", "{\"foo\":[[{\"a\":1},{\"a\":2}]]}", "[2]", NULL },
  { "[::-2]", "[0,1,2,3,4]", "[4,2,0]", NULL },
  /* errors by kind */
  { "[", "{}", NULL, "syntax" },
  { "", "{}", NULL, "syntax" },
  { "foo.", "{}", NULL, "syntax" },
  { "f(a b)", "{}", NULL, "syntax" },
  { "abs(@, @)", "{}", NULL, "invalid-arity" },
  { "not_null()", "{}", NULL, "invalid-arity" },
  { "nope(@)", "{}", NULL, "unknown-function" },
  { "abs(@)", "\"x\"", NULL, "invalid-type" },
  { "type(&a)", "{}", NULL, "invalid-type" },
  { "sort_by(@, &a)", "[{\"a\":1},{\"a\":\"x\"}]", NULL, "invalid-type" },
  { "[::0]", "[]", NULL, "invalid-value" },
  { "@", "{\"a\":", NULL, "invalid-json" },
  { "@", "{} {}", NULL, "invalid-json" },
  /* a syntax error wins over a function error earlier in the text */
  { "abs() || [", "{}", NULL, "syntax" },
};

static void test_cases(void)
{
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const search_case *c = &cases[i];
    t_alloc_state st = { 0, 0, 0, 0 };
    kmsi_allocator a;
    kms_buf out;
    kms_error err;
    kmsi_jp_errkind kind;
    kms_status s;

    kmsi_allocator_init(&a, t_alloc, &st);
    memset(&err, 0, sizeof err);
    s = kmsi_jmespath_search_ex(&a, c->expr, c->doc, strlen(c->doc), &out,
                                &err, &kind);
    if (c->want) {
      OK(s == KMS_OK, "%s on %s succeeds (%s)", c->expr, c->doc,
         err.message);
      EQ_STR(out.data, c->want, "%s on %s", c->expr, c->doc);
    } else {
      OK(s == KMS_ERR_PARSE, "%s on %s is KMS_ERR_PARSE", c->expr, c->doc);
      EQ_STR(kmsi_jp_errkind_name(kind), c->kind, "%s: kind", c->expr);
      OK(err.status == KMS_ERR_PARSE && err.message[0],
         "%s: err filled", c->expr);
    }
    kms_buf_free(&out);
    OK(st.blocks == 0 && st.bytes == 0, "%s: no leak", c->expr);
  }
}

/* The public entry point and the AWS CLI's message shapes. */
static void test_public(void)
{
  kms_buf out;
  kms_error err;
  kms_status s;

  memset(&err, 0, sizeof err);
  s = kms_jmespath_search("[", "{}", 2, &out, &err);
  OK(s == KMS_ERR_PARSE, "'[' is KMS_ERR_PARSE");
  EQ_STR(err.message, "Invalid jmespath expression: Incomplete "
         "expression:\n\"[\"\n  ^", "'[' message as the AWS CLI words it");
  OK(out.data == NULL && out.len == 0, "out empty after a failure");
  kms_buf_free(&out);

  s = kms_jmespath_search("foo[#]", "{}", 2, &out, &err);
  EQ_STR(err.message, "Bad jmespath expression: Unknown token #:\n"
         "foo[#]\n    ^", "lexer error points at the character");
  s = kms_jmespath_search("foo]", "{}", 2, &out, &err);
  EQ_STR(err.message, "Unexpected token: rbracket: Parse error at column "
         "3, token \"]\" (RBRACKET), for expression:\n\"foo]\"\n    ^",
         "parse error names the token and column");

  s = kms_jmespath_search("KeyStoreId", "{}", 2, &out, &err);
  OK(s == KMS_OK, "public search succeeds");
  EQ_STR(out.data, "null", "public search result");
  kms_buf_free(&out);

  OK(kms_jmespath_search(NULL, "{}", 2, &out, &err) == KMS_ERR_INVALID_ARG,
     "NULL expression is KMS_ERR_INVALID_ARG");
  OK(kms_jmespath_search("a", NULL, 0, &out, &err) == KMS_ERR_INVALID_ARG,
     "NULL document is KMS_ERR_INVALID_ARG");
  OK(kms_jmespath_search("a", "{}", 2, NULL, &err) == KMS_ERR_INVALID_ARG,
     "NULL out is KMS_ERR_INVALID_ARG");
  OK(kms_jmespath_search("a", "{}", 2, &out, NULL) == KMS_OK,
     "NULL err is allowed");
  kms_buf_free(&out);

  OK(kmsi_jmespath_check("a.b[0]", &err, NULL) == KMS_OK, "check: valid");
  OK(kmsi_jmespath_check("a.b[", &err, NULL) == KMS_ERR_PARSE,
     "check: syntax error");

  /* The public check: syntax only, as jmespath.compile(). */
  OK(kms_jmespath_check("CustomKeyStores[?ConnectionState=='CONNECTED']"
                        ".CustomKeyStoreId", &err) == KMS_OK &&
         err.status == KMS_OK, "public check: valid");
  memset(&err, 0, sizeof err);
  OK(kms_jmespath_check("[", &err) == KMS_ERR_PARSE &&
         err.status == KMS_ERR_PARSE &&
         strcmp(err.message, "Invalid jmespath expression: Incomplete "
                "expression:\n\"[\"\n  ^") == 0,
     "public check: a syntax error, worded as the search words it");
  OK(kms_jmespath_check("foo[#]", &err) == KMS_ERR_PARSE,
     "public check: a lexer error");
  OK(kms_jmespath_check("nosuchfunction(@)", &err) == KMS_OK &&
         err.status == KMS_OK && err.message[0] == '\0',
     "public check: an unknown function passes (found by the search)");
  OK(kms_jmespath_check("length(@, @)", &err) == KMS_OK,
     "public check: a wrong arity passes (found by the search)");
  OK(kms_jmespath_search("nosuchfunction(@)", "{}", 2, &out, &err) ==
         KMS_ERR_PARSE, "... and the search reports it");
  kms_buf_free(&out);
  OK(kms_jmespath_check(NULL, &err) == KMS_ERR_INVALID_ARG,
     "public check: NULL expression");
  OK(kms_jmespath_check("a", NULL) == KMS_OK &&
         kms_jmespath_check("a[", NULL) == KMS_ERR_PARSE,
     "public check: NULL err is allowed");
}

/* Hostile nesting fails cleanly instead of exhausting the stack. */
static void test_limits(void)
{
  static char expr[20000];
  kms_buf out;
  kms_error err;
  kmsi_jp_errkind kind;
  kms_status s;
  size_t i, n;

  n = 0;
  for (i = 0; i < 5000; i++)
    expr[n++] = '[';
  for (i = 0; i < 5000; i++)
    expr[n++] = ']';
  expr[n] = '\0';
  s = kmsi_jmespath_search_ex(NULL, expr, "{}", 2, &out, &err, &kind);
  OK(s == KMS_ERR_PARSE && kind == KMSI_JPE_SYNTAX,
     "5000 nested brackets: syntax error");

  memset(expr, 0, sizeof expr);
  for (i = 0; i < 1000; i++)
    strcat(expr, "a[]");
  s = kmsi_jmespath_search_ex(NULL, expr, "{}", 2, &out, &err, &kind);
  OK(s == KMS_ERR_PARSE && kind == KMSI_JPE_SYNTAX,
     "1000 chained flattens: syntax error (tree too high)");

  memset(expr, 0, sizeof expr);
  strcpy(expr, "a");
  for (i = 0; i < 3000; i++)
    strcat(expr, ".b");
  s = kmsi_jmespath_search_ex(NULL, expr, "{}", 2, &out, &err, &kind);
  OK(s == KMS_OK, "3000 chained fields stay flat");
  kms_buf_free(&out);

  memset(expr, 0, sizeof expr);
  strcpy(expr, "@");
  for (i = 0; i < 1500; i++)
    strcat(expr, "|[@]");
  s = kmsi_jmespath_search_ex(NULL, expr, "1", 1, &out, &err, &kind);
  OK(s == KMS_ERR_PARSE && kind == KMSI_JPE_INVALID_VALUE,
     "values nested by 1500 pipes: invalid-value");
}

/* Fails the Nth allocation for N = 1, 2, ... until the search succeeds:
 * every failure must be KMS_ERR_NOMEM and leave nothing behind. */
static void test_alloc_failures(void)
{
  const char *expr = "{ids: sort_by(s[?t == 'X'], &n)[].id, "
                     "n: length(keys(@)), j: join(',', map(&to_string(n), "
                     "s)), m: merge(@, `{\"z\": [1, 2.5]}`), "
                     "r: reverse('ab'), f: s[0:2].id | [0]}";
  const char *doc = "{\"s\":[{\"id\":\"a\",\"t\":\"X\",\"n\":2},"
                    "{\"id\":\"b\",\"t\":\"X\",\"n\":1},"
                    "{\"id\":\"c\",\"t\":\"Y\",\"n\":3}]}";
  long n;
  int bad = 0, leaks = 0;
  kms_status s = KMS_ERR_NOMEM;

  for (n = 1; n < 10000 && s != KMS_OK; n++) {
    t_alloc_state st = { 0, 0, 0, n };
    kmsi_allocator a;
    kms_buf out;
    kms_error err;

    kmsi_allocator_init(&a, t_alloc, &st);
    s = kmsi_jmespath_search_ex(&a, expr, doc, strlen(doc), &out, &err,
                                NULL);
    if (s != KMS_OK && s != KMS_ERR_NOMEM)
      bad++;
    kms_buf_free(&out);
    if (st.blocks || st.bytes)
      leaks++;
  }
  OK(s == KMS_OK, "succeeds once enough allocations work (%ld)", n - 1);
  OK(bad == 0, "every failed allocation reports KMS_ERR_NOMEM");
  OK(leaks == 0, "no leak after any failed allocation");
}

int main(void)
{
  test_cases();
  test_public();
  test_limits();
  test_alloc_failures();
  return t_done();
}
