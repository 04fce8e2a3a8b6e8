/* test_value.c - bindings/cli/value.c without the core: the JSON reader's
 * results and Python's error messages (the AWS CLI prints them for a bad
 * JSON argument), Python's str()/repr() of values and floats, and the
 * UTF-8 helpers. Expected texts were produced by Python 3.11. */
#include <string.h>
#include "../unit/testing.h"
#include "cli.h"

static const struct {
  const char *json;
  const char *error;   /* NULL: parses */
} parse_rows[] = {
  { "", "Expecting value: line 1 column 1 (char 0)" },
  { "{", "Expecting property name enclosed in double quotes: line 1 column "
         "2 (char 1)" },
  { "{\"a\" 1}", "Expecting ':' delimiter: line 1 column 6 (char 5)" },
  { "{\"a\":1,}", "Expecting property name enclosed in double quotes: line "
                  "1 column 8 (char 7)" },
  { "[1,]", "Expecting value: line 1 column 4 (char 3)" },
  { "[1 2]", "Expecting ',' delimiter: line 1 column 4 (char 3)" },
  { "\"abc", "Unterminated string starting at: line 1 column 1 (char 0)" },
  { "\"a\x01\"", "Invalid control character at: line 1 column 3 (char 2)" },
  { "{\"a\":1} x", "Extra data: line 1 column 9 (char 8)" },
  { "nul", "Expecting value: line 1 column 1 (char 0)" },
  { "\"\\q\"", "Invalid \\escape: line 1 column 2 (char 1)" },
  { "{\n  \"a\": tru\n}", "Expecting value: line 2 column 8 (char 9)" },
  { "\"\\u12\"", "Invalid \\uXXXX escape: line 1 column 3 (char 2)" },
  { "01", "Extra data: line 1 column 2 (char 1)" },
  { "\"é\" x", "Extra data: line 1 column 5 (char 4)" },
  { " {\"a\": [1, 2.5, -0, true, null, \"\\ud83d\\ude00\"]} ", NULL },
  { "NaN", NULL },
  { "-Infinity", NULL },
};

static const struct {
  const char *json;
  const char *str;     /* Python str() */
} str_rows[] = {
  { "null", "None" },
  { "true", "True" },
  { "-0", "0" },
  { "1e16", "1e+16" },
  { "1e-5", "1e-05" },
  { "0.0001", "0.0001" },
  { "123.0", "123.0" },
  { "1e22", "1e+22" },
  { "2.5e-300", "2.5e-300" },
  { "0.30000000000000004", "0.30000000000000004" },
  { "-0.0", "-0.0" },
  { "5e-324", "5e-324" },
  { "1.7976931348623157e308", "1.7976931348623157e+308" },
  { "1234567890123456.0", "1234567890123456.0" },
  { "12345678901234567.0", "1.2345678901234568e+16" },
  { "NaN", "nan" },
  { "-Infinity", "-inf" },
  { "\"it's\"", "it's" },
  { "[\"it's\", \"a\\\"b'c\"]", "[\"it's\", 'a\"b\\'c']" },
  { "\"\\u007f\\u00a0\\u2028\\u00e9\\n\"",
    "\x7f\xc2\xa0\xe2\x80\xa8\xc3\xa9\n" },
  { "[\"\\u007f\\u00a0\\u2028\\u00e9\\n\"]",
    "['\\x7f\\xa0\\u2028\xc3\xa9\\n']" },
  { "[\"a\", 1, null, true, {\"k\": 1.0}]",
    "['a', 1, None, True, {'k': 1.0}]" },
};

int main(void)
{
  cli_json_error e;
  cli_value *v, *w;
  cli_buf b;
  size_t i;

  for (i = 0; i < sizeof parse_rows / sizeof parse_rows[0]; i++) {
    int rc = cli_json_parse(parse_rows[i].json, strlen(parse_rows[i].json),
                            &v, &e);
    if (parse_rows[i].error == NULL) {
      OK(rc == 0 && v != NULL, "parse row %zu parses", i);
      cli_value_free(v);
    } else {
      OK(rc == -1 && v == NULL, "parse row %zu is refused", i);
      EQ_STR(e.message, parse_rows[i].error, "parse row %zu: %s", i,
             parse_rows[i].error);
    }
  }
  for (i = 0; i < sizeof str_rows / sizeof str_rows[0]; i++) {
    cli_buf_init(&b, 0);
    if (cli_json_parse(str_rows[i].json, strlen(str_rows[i].json), &v,
                       &e) == 0) {
      cli_value_pystr(&b, v);
      cli_value_free(v);
    }
    EQ_STR(b.data, str_rows[i].str, "str(%s)", str_rows[i].json);
    cli_buf_free(&b);
  }

  /* Python dict semantics: a duplicate key keeps its place */
  OK(cli_json_parse("{\"a\": 1, \"b\": 2, \"a\": 3}", 24, &v, &e) == 0,
     "duplicate keys parse");
  cli_buf_init(&b, 0);
  cli_json_dump(&b, v, -1, 0);
  EQ_STR(b.data, "{\"a\": 3, \"b\": 2}", "first place, last value");
  cli_buf_free(&b);
  w = cli_value_get(v, "b");
  OK(w != NULL && w->type == CLI_V_INT, "get b");
  EQ_STR(cli_value_pytype(v), "dict", "type name of an object");
  cli_value_free(v);

  /* json.dumps(indent=4, ensure_ascii=False) */
  cli_json_parse("{\"k\": [1, {}, []], \"é\": \"\\u0001\"}", 34, &v, &e);
  cli_buf_init(&b, 0);
  cli_json_dump(&b, v, 4, 0);
  EQ_STR(b.data, "{\n    \"k\": [\n        1,\n        {},\n        []\n"
                 "    ],\n    \"\xc3\xa9\": \"\\u0001\"\n}", "indent 4");
  cli_buf_free(&b);
  cli_value_free(v);

  /* UTF-8 */
  OK(cli_utf8_count("a\xc3\xa9\xf0\x9f\x98\x80", 7) == 3, "code points");
  OK(cli_utf8_valid("\xef\xbf\xbd", 3), "U+FFFD is valid");
  OK(!cli_utf8_valid("a\xff", 2), "0xFF is not");
  OK(!cli_utf8_valid("\xed\xa0\x80", 3), "a surrogate is not");
  OK(!cli_utf8_valid("\xc0\xaf", 2), "an overlong form is not");
  return t_done();
}
