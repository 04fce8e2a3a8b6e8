/* cli.h - internals shared by the files of the kmscks command-line tool.
 * The CLI only translates: argv into kms_request/kms_config calls, and the
 * response into the AWS CLI's output formats. Nothing here is public. */
#ifndef KMSCKS_CLI_H
#define KMSCKS_CLI_H

#include <stddef.h>
#include <stdio.h>

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define CLI_NORETURN __attribute__((noreturn))
#else
#define CLI_PRINTF(a, b)
#define CLI_NORETURN
#endif

/* Exit statuses of the AWS CLI v2, which kmscks keeps. */
enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_USAGE = 252,      /* usage, parameter, validation: nothing sent */
  CLI_EXIT_NO_CONFIG = 253,  /* no region, no credentials */
  CLI_EXIT_SERVICE = 254,    /* KMS answered with an error */
  CLI_EXIT_OTHER = 255,      /* transport, TLS, configuration */
  CLI_EXIT_INTERRUPT = 130   /* Ctrl-C */
};

/* {===== memory and strings (util.c) =====
 * The CLI is a short-lived process: running out of memory prints one line
 * and exits 255 instead of threading NULL checks through every parser. */

void *cli_xmalloc(size_t n);
void *cli_xcalloc(size_t n);
void *cli_xrealloc(void *p, size_t n);
char *cli_xstrndup(const char *s, size_t n);
char *cli_xstrdup(const char *s);
/* Wipes n bytes (OPENSSL_cleanse) then frees; NULL is a no-op. */
void cli_free_secret(void *p, size_t n);

/* A growable byte string, always NUL-terminated after len bytes. */
typedef struct cli_buf {
  char *data;
  size_t len;
  size_t cap;
  int secret;   /* wipe old blocks on growth and on free */
} cli_buf;

void cli_buf_init(cli_buf *b, int secret);
void cli_buf_free(cli_buf *b);
void cli_buf_reset(cli_buf *b);
void cli_buf_add(cli_buf *b, const char *s, size_t n);
void cli_buf_puts(cli_buf *b, const char *s);
void cli_buf_putc(cli_buf *b, char c);
void cli_buf_printf(cli_buf *b, const char *fmt, ...) CLI_PRINTF(2, 3);
/* Appends count copies of ch. */
void cli_buf_fill(cli_buf *b, char ch, size_t count);
/* Moves the bytes out (caller frees) and leaves b empty. */
char *cli_buf_take(cli_buf *b, size_t *len);
/* Writes b to a stream; returns 0, or -1 on a write error. */
int cli_buf_write(const cli_buf *b, FILE *f);

/* Decodes one UTF-8 code point at s[0..n); returns the number of bytes
 * used (1 for an invalid byte, whose value is then U+FFFD). */
size_t cli_utf8_decode(const char *s, size_t n, unsigned long *cp);
/* Appends cp as UTF-8. */
void cli_utf8_encode(cli_buf *b, unsigned long cp);
/* Number of code points in s[0..n) (an invalid byte counts as one). */
size_t cli_utf8_count(const char *s, size_t n);
/* 1 when s[0..n) is valid UTF-8. */
int cli_utf8_valid(const char *s, size_t n);
/* }===== */

/* {===== values (value.c) =====
 * A small ordered JSON-like tree: what the shorthand parser, the JSON
 * reader and the YAML reader produce, and what the output formatters
 * print. Numbers keep their lexeme so 1 and 1.0 print as Python does. */

typedef enum cli_vtype {
  CLI_V_NULL = 0,
  CLI_V_BOOL,
  CLI_V_INT,
  CLI_V_FLOAT,
  CLI_V_STRING,
  CLI_V_ARRAY,
  CLI_V_OBJECT
} cli_vtype;

typedef struct cli_value cli_value;
struct cli_value {
  cli_vtype type;
  char *s;              /* string bytes, number lexeme, "true"/"false" */
  size_t len;
  char *key;            /* member name when inside an object */
  size_t key_len;
  cli_value *first, *last, *next;   /* children, in order */
  size_t count;
  int secret;           /* wipe s on free */
};

cli_value *cli_value_new(cli_vtype type);
/* A string node holding a copy of s[0..n). */
cli_value *cli_value_string(const char *s, size_t n, int secret);
/* Appends child to an array. */
void cli_value_push(cli_value *array, cli_value *child);
/* Sets obj[key] = child as a Python dict does: a new key goes last, an
 * existing key keeps its position and gets the new value. Takes child. */
void cli_value_put(cli_value *obj, const char *key, size_t key_len,
                   cli_value *child);
/* obj[key] or NULL. */
cli_value *cli_value_get(const cli_value *obj, const char *key);
/* Frees a tree (wiping secret strings). NULL is a no-op. */
void cli_value_free(cli_value *v);
/* Marks every string of the tree secret. */
void cli_value_mark_secret(cli_value *v);
/* Python's type name for the value as botocore prints it: "str", "int",
 * "float", "bool", "NoneType", "list", "dict". */
const char *cli_value_pytype(const cli_value *v);

/* Where and why a JSON text failed, in the words of Python's json module
 * ("Expecting ',' delimiter: line 1 column 7 (char 6)"). */
typedef struct cli_json_error {
  char message[160];
} cli_json_error;

/* Parses JSON as Python's json.loads does (NaN and Infinity accepted,
 * duplicate keys keep the first position and the last value). Strings
 * are built in wiped buffers and marked secret: the text may be a
 * credential. Returns 0 and *out, or -1 with e filled. */
int cli_json_parse(const char *text, size_t len, cli_value **out,
                   cli_json_error *e);

/* Python-style rendering used by the text and table formats:
 * str(x) for a scalar (None, True, 1.5, inf) and repr(x) for containers
 * ("['a', 1]", "{'k': None}"). */
void cli_value_pystr(cli_buf *b, const cli_value *v);
void cli_value_pyrepr(cli_buf *b, const cli_value *v);
/* Python's repr() of a float given as text ("1e16" -> "1e+16"). */
void cli_float_repr(cli_buf *b, const char *lexeme, size_t len);
/* Python's repr() of a str given as UTF-8 ("'it'", "\"it's\""). */
void cli_pyrepr_str(cli_buf *b, const char *s, size_t n);
/* }===== */

/* {===== argument parsing (args.c) =====
 * Python's argparse as the AWS CLI drives it: a first pass over every
 * argument for the global options and the command, a second one for the
 * command's own options; unique prefixes, --opt=value, last one wins, a
 * value that looks like an option needs "=". */

typedef enum cli_opt {
  /* global options, in the AWS CLI's order */
  CLI_OPT_DEBUG = 0,
  CLI_OPT_ENDPOINT_URL,
  CLI_OPT_NO_VERIFY_SSL,
  CLI_OPT_NO_PAGINATE,
  CLI_OPT_OUTPUT,
  CLI_OPT_QUERY,
  CLI_OPT_PROFILE,
  CLI_OPT_REGION,
  CLI_OPT_VERSION,
  CLI_OPT_COLOR,
  CLI_OPT_NO_SIGN_REQUEST,
  CLI_OPT_CA_BUNDLE,
  CLI_OPT_CLI_READ_TIMEOUT,
  CLI_OPT_CLI_CONNECT_TIMEOUT,
  CLI_OPT_CLI_BINARY_FORMAT,
  CLI_OPT_NO_CLI_PAGER,
  CLI_OPT_CLI_AUTO_PROMPT,
  CLI_OPT_NO_CLI_AUTO_PROMPT,
  CLI_OPT__GLOBAL_END,
  /* update-custom-key-store, in model order */
  CLI_OPT_CUSTOM_KEY_STORE_ID = CLI_OPT__GLOBAL_END,
  CLI_OPT_NEW_CUSTOM_KEY_STORE_NAME,
  CLI_OPT_KEY_STORE_PASSWORD,
  CLI_OPT_CLOUD_HSM_CLUSTER_ID,
  CLI_OPT_XKS_PROXY_URI_ENDPOINT,
  CLI_OPT_XKS_PROXY_URI_PATH,
  CLI_OPT_XKS_PROXY_VPC_ENDPOINT_SERVICE_NAME,
  CLI_OPT_XKS_PROXY_VPC_ENDPOINT_SERVICE_OWNER,
  CLI_OPT_XKS_PROXY_AUTHENTICATION_CREDENTIAL,
  CLI_OPT_XKS_PROXY_CONNECTIVITY,
  CLI_OPT_CLI_INPUT_JSON,
  CLI_OPT_CLI_INPUT_YAML,
  CLI_OPT_GENERATE_CLI_SKELETON,
  CLI_OPT_DRY_RUN,
  CLI_OPT__COUNT
} cli_opt;

/* What argv said. Values are borrowed from argv. */
typedef struct cli_args {
  const char *value[CLI_OPT__COUNT];  /* last value given; flags: "" */
  int given[CLI_OPT__COUNT];          /* how many times */
  const char *command;                /* "update-custom-key-store", ... */
  int help;                           /* "help" was the positional */
  int show_version;                   /* --version was reached */
  char **rest;                        /* what the first pass left */
  size_t n_rest;
} cli_args;

/* The option's spelling ("--region"). */
const char *cli_opt_name(cli_opt opt);
/* 1 when the option's value may carry a secret (password, credential,
 * whole input documents): never echoed. */
int cli_opt_is_secret(cli_opt opt);

/* The option token[0..len) names, exactly or as a unique prefix, among
 * all options: its cli_opt, -1 when none, -2 when ambiguous. */
int cli_opt_match(const char *token, size_t len);

/* First pass over argv[1..argc): the global options (anywhere) and the
 * command, as the AWS CLI's main parser. Returns 0, or the exit status
 * after printing the AWS CLI's message (no option value is echoed).
 * --version stops at once (a->show_version), as argparse's action. */
int cli_args_parse_global(int argc, char **argv, cli_args *a);
/* Second pass: the command's options over a->rest, the positional
 * "help", the required --custom-key-store-id (waived by --cli-input-json,
 * --cli-input-yaml and --generate-cli-skeleton as the AWS CLI waives it)
 * and "Unknown options". Returns 0 or the exit status after printing. */
int cli_args_parse_command(cli_args *a);
void cli_args_free(cli_args *a);

/* difflib.get_close_matches(word, choices, n=3, cutoff=0.8): writes up
 * to 3 indexes, best first; returns how many. */
size_t cli_close_matches(const char *word, const char *const *choices,
                         size_t out[3]);
/* }===== */

/* {===== shorthand syntax (shorthand.c) ===== */

/* Parses Key=Value,... as the AWS CLI does into an object (lists for
 * "a,b", nested objects for "{k=v}"); every string is marked secret.
 * Returns 0 and *out, or -1 with msg receiving the AWS CLI's text
 * ("Expected: '=', received: 'EOF' for input:\n...") in which every
 * value is masked with '*'. */
int cli_shorthand_parse(const char *s, size_t n, cli_value **out,
                        cli_buf *msg);

/* Appends s[0..n) (a JSON document, maybe broken) with every string that
 * is not a key and every bare token replaced by "***". */
void cli_redact_json(const char *s, size_t n, cli_buf *out);
/* }===== */

/* {===== output formats (output.c, table.c, yaml.c) ===== */

/* Formats a response (after --query) as the AWS CLI does for format
 * ("json", "text", "table", "yaml", "yaml-stream"); title is the table's
 * ("UpdateCustomKeyStore"), color 1 adds --color on's ANSI codes, width
 * is the terminal's (80 when unknown). Returns 0; -1 for an unknown
 * format; -2 when the table cannot be built (error says why, as the AWS
 * CLI's ValueError does). */
int cli_format_response(const char *format, const cli_value *v,
                        const char *title, int color, int width,
                        cli_buf *out, char *error, size_t error_size);

/* json.dumps(v, indent=indent, ensure_ascii=False); indent < 0 writes
 * one line with ", " and ": " separators. */
void cli_json_dump(cli_buf *b, const cli_value *v, int indent, int level);
/* The members of an object sorted by key, as Python's sorted() orders
 * str (by code point). The caller frees the array. */
const cli_value **cli_sorted_members(const cli_value *obj);

int cli_table_format(cli_buf *out, const cli_value *v, const char *title,
                     int color, int term_width, char *error,
                     size_t error_size);

/* ruamel's safe dump (block style, sorted keys) of a container, or the
 * JSON of a scalar; stream 1 wraps v in a list (yaml-stream). Returns 0
 * or -1 when libyaml fails. */
int cli_yaml_dump(cli_buf *out, const cli_value *v, int stream);
/* Loads one YAML document as ruamel's safe loader would (every string is
 * marked secret); an empty stream is None. Returns 0, or -1 for what
 * ruamel would reject. */
int cli_yaml_load(const char *text, size_t len, cli_value **out);
/* }===== */

/* {===== parameter files (paramfile.c) ===== */

/* Loads a file:// (UTF-8 text, universal newlines) or fileb:// (bytes)
 * value. Returns 0 when value is no file reference, 1 when out holds the
 * contents (*binary says fileb://), -1 with msg holding the AWS CLI's
 * text ("Unable to load paramfile file://x: [Errno 2] ..."). */
int cli_paramfile(const char *value, cli_buf *out, int *binary,
                  cli_buf *msg);
/* }===== */

/* {===== skeletons (skeleton.c) ===== */

/* Prints the "input" or "yaml-input" skeleton; -1 for another kind. */
int cli_skeleton_print(const char *kind, FILE *out);
/* }===== */

/* {===== input documents (input.c) ===== */

/* Parses the text of --cli-input-json (name "cli-input-json") or
 * --cli-input-yaml as the AWS CLI does; the document must be a mapping.
 * Returns 0 with *doc (strings marked secret), or 252 after printing the
 * AWS CLI's message. */
int cli_input_parse(const char *name, const char *text, size_t len,
                    cli_value **doc);
/* The document as strict JSON for kms_request_load_json. */
void cli_input_to_json(const cli_value *doc, cli_buf *out);
/* }===== */

/* {===== unpacked option values (build.c) ===== */

/* Each given option's value after file:// / fileb:// (secret buffers),
 * and the credential structure parsed from shorthand or JSON. */
typedef struct cli_unpacked {
  cli_buf text[CLI_OPT__COUNT];
  int binary[CLI_OPT__COUNT];       /* came from fileb:// */
  cli_value *credential;
} cli_unpacked;

/* Loads parameter files and parses the credential, in the AWS CLI's
 * argument order. Returns 0, or 252 after printing the first error. */
int cli_unpack(const cli_args *a, cli_unpacked *u);
void cli_unpacked_free(cli_unpacked *u);
/* }===== */

/* {===== help (help.c) ===== */

/* Prints the manual of update-custom-key-store; 0 or -1. */
int cli_help_print(FILE *out);
/* Prints the short `kmscks help`; 0 or -1. */
int cli_help_top(FILE *out);
/* }===== */

/* {===== messages (util.c) ===== */

/* Writes "\n<message>\n" to stderr, the AWS CLI v2's error shape. */
void cli_error(const char *fmt, ...) CLI_PRINTF(1, 2);
/* }===== */

#endif /* KMSCKS_CLI_H */
