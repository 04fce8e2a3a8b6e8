/* input.c - --cli-input-json and --cli-input-yaml as the AWS CLI reads
 * them (awscli/customizations/cliinput.py): only one of the two, the text
 * parsed as Python's json.loads or ruamel's safe YAML loader would, a
 * mapping required; then the document as strict JSON for
 * kms_request_load_json, which owns the member rules. */
#include <string.h>
#include "cli.h"

int cli_input_parse(const char *name, const char *text, size_t len,
                    cli_value **doc)
{
  int yaml = strcmp(name, "cli-input-yaml") == 0, rc;
  cli_json_error e;
  cli_value *v = NULL;

  *doc = NULL;
  rc = yaml ? cli_yaml_load(text, len, &v) : cli_json_parse(text, len, &v,
                                                              &e);
  if (rc != 0) {
    cli_error("Error parsing parameter '%s': Invalid %s received.", name,
              yaml ? "YAML" : "JSON");
    return CLI_EXIT_USAGE;
  }
  cli_value_mark_secret(v);
  if (v->type != CLI_V_OBJECT) {
    cli_error("Error parsing parameter '--%s': Invalid type: expecting map, "
              "received <class '%s'>", name, cli_value_pytype(v));
    cli_value_free(v);
    return CLI_EXIT_USAGE;
  }
  *doc = v;
  return CLI_EXIT_OK;
}

/* Strict JSON of a document value. Types JSON cannot carry (NaN, a YAML
 * timestamp) only need to stay "not a string", which the core refuses. */
static void to_json(cli_buf *b, const cli_value *v)
{
  const cli_value *it;
  cli_value key;

  switch (v->type) {
  case CLI_V_NULL:
    cli_buf_puts(b, "null");
    break;
  case CLI_V_BOOL:
    cli_buf_puts(b, v->s[0] == 't' ? "true" : "false");
    break;
  case CLI_V_INT:
    cli_buf_add(b, v->s, v->len);
    break;
  case CLI_V_FLOAT:
    if (v->len > 0 && (v->s[0] == 'N' || v->s[0] == 'I' ||
                       (v->s[0] == '-' && v->len > 1 && v->s[1] == 'I')))
      cli_buf_puts(b, "0.0");
    else
      cli_buf_add(b, v->s, v->len);
    break;
  case CLI_V_STRING:
    cli_json_dump(b, v, -1, 0);
    break;
  case CLI_V_ARRAY:
  case CLI_V_OBJECT:
    cli_buf_putc(b, v->type == CLI_V_ARRAY ? '[' : '{');
    for (it = v->first; it != NULL; it = it->next) {
      if (v->type == CLI_V_OBJECT) {
        memset(&key, 0, sizeof key);
        key.type = CLI_V_STRING;
        key.s = it->key;
        key.len = it->key_len;
        cli_json_dump(b, &key, -1, 0);
        cli_buf_putc(b, ':');
      }
      to_json(b, it);
      if (it->next != NULL)
        cli_buf_putc(b, ',');
    }
    cli_buf_putc(b, v->type == CLI_V_ARRAY ? ']' : '}');
    break;
  }
}

void cli_input_to_json(const cli_value *doc, cli_buf *out)
{
  to_json(out, doc);
}
