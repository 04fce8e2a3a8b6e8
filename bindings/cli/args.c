/* args.c - argv as the AWS CLI v2 reads it: a port of the parts of
 * Python's argparse (3.11) that `aws kms update-custom-key-store` uses
 * (classification into options and positionals, unique prefixes,
 * --opt=value, nargs 0/1/?, choices, required), the AWS CLI's two passes
 * and its messages. Values are never echoed in an error. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/* {===== option tables ===== */

typedef enum nargs_kind {
  NA_FLAG,       /* store_true / store_false: no value */
  NA_ONE,        /* exactly one value */
  NA_OPTIONAL,   /* nargs='?' with a const */
  NA_VERSION     /* argparse's version action */
} nargs_kind;

typedef struct optspec {
  cli_opt id;
  const char *name;
  nargs_kind nargs;
  const char *const *choices;   /* NULL-terminated, or NULL */
  const char *constant;         /* NA_OPTIONAL given bare */
  int secret;                   /* value may be a secret */
} optspec;

static const char *const output_choices[] = {
  "json", "text", "table", "yaml", "yaml-stream", NULL
};
static const char *const color_choices[] = { "on", "off", "auto", NULL };
static const char *const binary_choices[] = {
  "base64", "raw-in-base64-out", NULL
};
static const char *const skeleton_choices[] = {
  "input", "output", "yaml-input", NULL
};
static const char *const command_choices[] = {
  "update-custom-key-store", "help", NULL
};

/* The AWS CLI's global options, in the order its main parser adds them
 * (the order matters for "ambiguous option" messages). */
static const optspec global_specs[] = {
  { CLI_OPT_DEBUG, "--debug", NA_FLAG, NULL, NULL, 0 },
  { CLI_OPT_ENDPOINT_URL, "--endpoint-url", NA_ONE, NULL, NULL, 0 },
  { CLI_OPT_NO_VERIFY_SSL, "--no-verify-ssl", NA_FLAG, NULL, NULL, 0 },
  { CLI_OPT_NO_PAGINATE, "--no-paginate", NA_FLAG, NULL, NULL, 0 },
  { CLI_OPT_OUTPUT, "--output", NA_ONE, output_choices, NULL, 0 },
  { CLI_OPT_QUERY, "--query", NA_ONE, NULL, NULL, 0 },
  { CLI_OPT_PROFILE, "--profile", NA_ONE, NULL, NULL, 0 },
  { CLI_OPT_REGION, "--region", NA_ONE, NULL, NULL, 0 },
  { CLI_OPT_COLOR, "--color", NA_ONE, color_choices, NULL, 0 },
  { CLI_OPT_NO_SIGN_REQUEST, "--no-sign-request", NA_FLAG, NULL, NULL, 0 },
  { CLI_OPT_CA_BUNDLE, "--ca-bundle", NA_ONE, NULL, NULL, 0 },
  { CLI_OPT_CLI_READ_TIMEOUT, "--cli-read-timeout", NA_ONE, NULL, NULL, 0 },
  { CLI_OPT_CLI_CONNECT_TIMEOUT, "--cli-connect-timeout", NA_ONE, NULL,
    NULL, 0 },
  { CLI_OPT_CLI_BINARY_FORMAT, "--cli-binary-format", NA_ONE,
    binary_choices, NULL, 0 },
  { CLI_OPT_NO_CLI_PAGER, "--no-cli-pager", NA_FLAG, NULL, NULL, 0 },
  { CLI_OPT_CLI_AUTO_PROMPT, "--cli-auto-prompt", NA_FLAG, NULL, NULL, 0 },
  { CLI_OPT_NO_CLI_AUTO_PROMPT, "--no-cli-auto-prompt", NA_FLAG, NULL,
    NULL, 0 },
  /* re-added last by the AWS CLI (conflict_handler='resolve') */
  { CLI_OPT_VERSION, "--version", NA_VERSION, NULL, NULL, 0 },
};

/* update-custom-key-store: the model's members in model order (plus the
 * newer XksProxyVpcEndpointServiceOwner), then the AWS CLI's additions,
 * then kmscks' own --dry-run. */
static const optspec command_specs[] = {
  { CLI_OPT_CUSTOM_KEY_STORE_ID, "--custom-key-store-id", NA_ONE, NULL,
    NULL, 0 },
  { CLI_OPT_NEW_CUSTOM_KEY_STORE_NAME, "--new-custom-key-store-name", NA_ONE,
    NULL, NULL, 0 },
  { CLI_OPT_KEY_STORE_PASSWORD, "--key-store-password", NA_ONE, NULL, NULL,
    1 },
  { CLI_OPT_CLOUD_HSM_CLUSTER_ID, "--cloud-hsm-cluster-id", NA_ONE, NULL,
    NULL, 0 },
  { CLI_OPT_XKS_PROXY_URI_ENDPOINT, "--xks-proxy-uri-endpoint", NA_ONE, NULL,
    NULL, 0 },
  { CLI_OPT_XKS_PROXY_URI_PATH, "--xks-proxy-uri-path", NA_ONE, NULL, NULL,
    0 },
  { CLI_OPT_XKS_PROXY_VPC_ENDPOINT_SERVICE_NAME,
    "--xks-proxy-vpc-endpoint-service-name", NA_ONE, NULL, NULL, 0 },
  { CLI_OPT_XKS_PROXY_VPC_ENDPOINT_SERVICE_OWNER,
    "--xks-proxy-vpc-endpoint-service-owner", NA_ONE, NULL, NULL, 0 },
  { CLI_OPT_XKS_PROXY_AUTHENTICATION_CREDENTIAL,
    "--xks-proxy-authentication-credential", NA_ONE, NULL, NULL, 1 },
  { CLI_OPT_XKS_PROXY_CONNECTIVITY, "--xks-proxy-connectivity", NA_ONE, NULL,
    NULL, 0 },
  { CLI_OPT_CLI_INPUT_JSON, "--cli-input-json", NA_ONE, NULL, NULL, 1 },
  { CLI_OPT_CLI_INPUT_YAML, "--cli-input-yaml", NA_ONE, NULL, NULL, 1 },
  { CLI_OPT_GENERATE_CLI_SKELETON, "--generate-cli-skeleton", NA_OPTIONAL,
    skeleton_choices, "input", 0 },
  { CLI_OPT_DRY_RUN, "--dry-run", NA_FLAG, NULL, NULL, 0 },
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const optspec *spec_of(cli_opt opt)
{
  size_t i;

  for (i = 0; i < COUNT(global_specs); i++)
    if (global_specs[i].id == opt)
      return &global_specs[i];
  for (i = 0; i < COUNT(command_specs); i++)
    if (command_specs[i].id == opt)
      return &command_specs[i];
  return NULL;
}

const char *cli_opt_name(cli_opt opt)
{
  const optspec *s = spec_of(opt);
  return s != NULL ? s->name : "";
}

int cli_opt_is_secret(cli_opt opt)
{
  const optspec *s = spec_of(opt);
  return s != NULL && s->secret;
}

int cli_opt_match(const char *token, size_t len)
{
  const optspec *tables[2] = { global_specs, command_specs };
  size_t sizes[2] = { COUNT(global_specs), COUNT(command_specs) };
  size_t t, i;
  int found = -1;

  if (len < 3 || strncmp(token, "--", 2) != 0)
    return -1;
  for (t = 0; t < 2; t++) {
    for (i = 0; i < sizes[t]; i++) {
      const char *name = tables[t][i].name;
      if (strlen(name) == len && strncmp(name, token, len) == 0)
        return (int)tables[t][i].id;
      if (strncmp(name, token, len) == 0)
        found = found == -1 ? (int)tables[t][i].id : -2;
    }
  }
  return found;
}
/* }===== */

/* {===== messages ===== */

/* The usage block that precedes the AWS CLI's argparse errors and
 * "Unknown options" (without "error: " for those). */
static void usage_error(const char *message, int argparse_style)
{
  fflush(stdout);
  fprintf(stderr,
          "\nusage: kmscks [options] <command> [parameters]\n"
          "To see help text, you can run:\n\n"
          "  kmscks help\n"
          "  kmscks <command> help\n\n"
          "%s%s\n\n",
          argparse_style ? "kmscks: error: " : "", message);
  fflush(stderr);
}

/* difflib.SequenceMatcher(None, a, b).ratio() without the junk
 * heuristics (they only start at 200 characters). */
static size_t matching_chars(const char *a, size_t alo, size_t ahi,
                             const char *b, size_t blo, size_t bhi)
{
  size_t best_i = alo, best_j = blo, best = 0, i, j, k;

  if (alo >= ahi || blo >= bhi)
    return 0;
  /* the longest matching block, leftmost in a, then in b */
  for (i = alo; i < ahi; i++) {
    for (j = blo; j < bhi; j++) {
      k = 0;
      while (i + k < ahi && j + k < bhi && a[i + k] == b[j + k])
        k++;
      if (k > best) {
        best = k;
        best_i = i;
        best_j = j;
      }
    }
  }
  if (best == 0)
    return 0;
  return best + matching_chars(a, alo, best_i, b, blo, best_j) +
         matching_chars(a, best_i + best, ahi, b, best_j + best, bhi);
}

size_t cli_close_matches(const char *word, const char *const *choices,
                         size_t out[3])
{
  double score[64];
  size_t idx[64], n = 0, i, j, found = 0, wl = strlen(word);

  for (i = 0; choices[i] != NULL && n < 64; i++) {
    size_t cl = strlen(choices[i]);
    double r = (wl + cl) ? 2.0 * (double)matching_chars(choices[i], 0, cl,
                                                        word, 0, wl) /
                               (double)(wl + cl)
                         : 1.0;
    if (r >= 0.8) {
      score[n] = r;
      idx[n] = i;
      n++;
    }
  }
  /* heapq.nlargest over (score, word): best score first, then the
   * greater word */
  while (found < 3 && n > 0) {
    size_t best = 0;
    for (j = 1; j < n; j++)
      if (score[j] > score[best] ||
          (score[j] == score[best] &&
           strcmp(choices[idx[j]], choices[idx[best]]) > 0))
        best = j;
    out[found++] = idx[best];
    score[best] = score[n - 1];
    idx[best] = idx[n - 1];
    n--;
  }
  return found;
}

/* The AWS CLI's invalid-choice text (CLIArgParser._check_value). */
static void invalid_choice(cli_buf *err, const char *action_name,
                           const char *value, const char *const *choices)
{
  size_t i, m[3], nm;

  cli_buf_printf(err, "argument %s: Invalid choice, valid choices are:\n",
                 action_name);
  for (i = 0; choices[i] != NULL; i += 2) {
    cli_buf_printf(err, "\n%-40s", choices[i]);
    if (choices[i + 1] == NULL)
      break;
    cli_buf_printf(err, " | %-40s", choices[i + 1]);
  }
  nm = cli_close_matches(value, choices, m);
  if (nm > 0) {
    cli_buf_puts(err, "\n\n\nInvalid choice: ");
    cli_pyrepr_str(err, value, strlen(value));
    cli_buf_puts(err, ", maybe you meant:\n");
    for (i = 0; i < nm; i++)
      cli_buf_printf(err, "\n  * %s", choices[m[i]]);
  }
}
/* }===== */

/* {===== the argparse engine ===== */

typedef struct parser {
  const optspec *specs;
  size_t n_specs;
  const char *pos_name;               /* "command" or "help" */
  int pos_optional;                   /* nargs='?' */
  const char *const *pos_choices;
} parser;

typedef struct pstate {
  const parser *p;
  char **args;
  size_t n;
  char *pattern;         /* 'A', 'O' or '-' (the "--" marker) per arg */
  int *opt;              /* spec index for 'O', -1 when unknown */
  const char **explicit_arg;  /* value after '=', or NULL */
  size_t *extras;        /* indexes of leftover args, in order */
  size_t n_extras;
  size_t *value_of;      /* arg i was consumed as the value of spec k+1 */
  int pos_done;
  const char *pos_value;
  size_t pos_index;
  cli_args *a;
  cli_buf err;
  int version;
} pstate;

/* argparse's _negative_number_matcher: ^-\d+$|^-\d*\.\d+$ */
static int looks_negative(const char *s)
{
  const char *p = s + 1;
  int digits = 0;

  if (s[0] != '-')
    return 0;
  while (*p >= '0' && *p <= '9') {
    p++;
    digits++;
  }
  if (*p == '\0')
    return digits > 0;
  if (*p != '.')
    return 0;
  p++;
  digits = 0;
  while (*p >= '0' && *p <= '9') {
    p++;
    digits++;
  }
  return *p == '\0' && digits > 0;
}

/* Shows an argument without its value: "--c=***" for "--c=secret". */
static void put_redacted_option(cli_buf *b, const char *arg)
{
  const char *eq = strchr(arg, '=');

  if (eq == NULL) {
    cli_buf_puts(b, arg);
  } else {
    cli_buf_add(b, arg, (size_t)(eq - arg));
    cli_buf_puts(b, "=***");
  }
}

/* _parse_optional: classifies args[i]. Returns 0, or -1 on an ambiguous
 * prefix (message in st->err). */
static int classify(pstate *st, size_t i)
{
  const char *arg = st->args[i], *eq;
  size_t k, prefix_len, matches = 0, match = 0;

  st->opt[i] = -1;
  st->explicit_arg[i] = NULL;
  if (arg[0] != '-') {
    st->pattern[i] = 'A';
    return 0;
  }
  for (k = 0; k < st->p->n_specs; k++) {
    if (strcmp(arg, st->p->specs[k].name) == 0) {
      st->pattern[i] = 'O';
      st->opt[i] = (int)k;
      return 0;
    }
  }
  if (arg[1] == '\0') {
    st->pattern[i] = 'A';
    return 0;
  }
  eq = strchr(arg, '=');
  prefix_len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
  if (eq != NULL) {
    for (k = 0; k < st->p->n_specs; k++) {
      if (strlen(st->p->specs[k].name) == prefix_len &&
          strncmp(arg, st->p->specs[k].name, prefix_len) == 0) {
        st->pattern[i] = 'O';
        st->opt[i] = (int)k;
        st->explicit_arg[i] = eq + 1;
        return 0;
      }
    }
  }
  /* unique prefixes (allow_abbrev), only for "--" options */
  if (arg[1] == '-') {
    for (k = 0; k < st->p->n_specs; k++) {
      if (strncmp(st->p->specs[k].name, arg, prefix_len) == 0) {
        matches++;
        match = k;
      }
    }
  }
  if (matches > 1) {
    cli_buf_puts(&st->err, "ambiguous option: ");
    put_redacted_option(&st->err, arg);
    cli_buf_puts(&st->err, " could match ");
    matches = 0;
    for (k = 0; k < st->p->n_specs; k++) {
      if (strncmp(st->p->specs[k].name, arg, prefix_len) == 0) {
        if (matches++)
          cli_buf_puts(&st->err, ", ");
        cli_buf_puts(&st->err, st->p->specs[k].name);
      }
    }
    return -1;
  }
  if (matches == 1) {
    st->pattern[i] = 'O';
    st->opt[i] = (int)match;
    st->explicit_arg[i] = eq != NULL ? eq + 1 : NULL;
    return 0;
  }
  if (looks_negative(arg) || strchr(arg, ' ') != NULL) {
    st->pattern[i] = 'A';
    return 0;
  }
  st->pattern[i] = 'O';      /* an option this parser does not know */
  return 0;
}

/* Stores a value after the choices check (take_action). */
static int take(pstate *st, const optspec *s, const char *value)
{
  size_t i;

  if (s->choices != NULL && value != NULL) {
    for (i = 0; s->choices[i] != NULL; i++)
      if (strcmp(s->choices[i], value) == 0)
        break;
    if (s->choices[i] == NULL) {
      invalid_choice(&st->err, s->name, value, s->choices);
      return -1;
    }
  }
  st->a->value[s->id] = value != NULL ? value : "";
  st->a->given[s->id]++;
  return 0;
}

/* consume_optional: the option at args[i]; returns the next index, or
 * (size_t)-1 on an error or on --version. */
static size_t consume_optional(pstate *st, size_t i)
{
  const optspec *s;
  size_t j;

  if (st->opt[i] < 0) {
    st->extras[st->n_extras++] = i;
    return i + 1;
  }
  s = &st->p->specs[st->opt[i]];
  if (st->explicit_arg[i] != NULL) {
    if (s->nargs == NA_FLAG || s->nargs == NA_VERSION) {
      cli_buf_printf(&st->err, "argument %s: ignored explicit argument ",
                     s->name);
      cli_pyrepr_str(&st->err, st->explicit_arg[i],
                     strlen(st->explicit_arg[i]));
      return (size_t)-1;
    }
    return take(st, s, st->explicit_arg[i]) == 0 ? i + 1 : (size_t)-1;
  }
  switch (s->nargs) {
  case NA_FLAG:
    return take(st, s, NULL) == 0 ? i + 1 : (size_t)-1;
  case NA_VERSION:
    st->version = 1;
    return (size_t)-1;
  case NA_ONE:
  case NA_OPTIONAL:
    /* '-*A-*' or '-*A?-*': markers, one positional-looking arg,
     * markers; the first "--" is dropped from the values */
    j = i + 1;
    while (j < st->n && st->pattern[j] == '-')
      j++;
    if (j < st->n && st->pattern[j] == 'A') {
      size_t v = j++;
      while (j < st->n && st->pattern[j] == '-')
        j++;
      st->value_of[v] = (size_t)st->opt[i] + 1;
      return take(st, s, st->args[v]) == 0 ? j : (size_t)-1;
    }
    if (s->nargs == NA_OPTIONAL)
      return take(st, s, s->constant) == 0 ? j : (size_t)-1;
    cli_buf_printf(&st->err, "argument %s: expected one argument", s->name);
    return (size_t)-1;
  }
  return (size_t)-1;
}

/* consume_positionals from i: the parser's single positional, if still
 * unconsumed and the pattern allows. Returns the next index. */
static size_t consume_positionals(pstate *st, size_t i, int *failed)
{
  size_t j = i, v;
  size_t k;

  *failed = 0;
  if (st->pos_done)
    return i;
  while (j < st->n && st->pattern[j] == '-')
    j++;
  if (j < st->n && st->pattern[j] == 'A') {
    v = j++;
    while (j < st->n && st->pattern[j] == '-')
      j++;
    st->pos_done = 1;
    st->pos_value = st->args[v];
    st->pos_index = v;
    if (st->p->pos_choices != NULL) {
      for (k = 0; st->p->pos_choices[k] != NULL; k++)
        if (strcmp(st->p->pos_choices[k], st->pos_value) == 0)
          break;
      if (st->p->pos_choices[k] == NULL) {
        invalid_choice(&st->err, st->p->pos_name, st->pos_value,
                       st->p->pos_choices);
        *failed = 1;
      }
    }
    return j;
  }
  if (st->p->pos_optional) {      /* '?' matches nothing, and is spent */
    st->pos_done = 1;
    return j;
  }
  return i;
}

/* _parse_known_args. Returns 0, or -1 with st->err set (or st->version
 * set: --version was reached). */
static int parse_known(pstate *st)
{
  size_t i, start = 0, max_opt = 0, next_opt, end;
  int have_opt = 0, failed;

  for (i = 0; i < st->n; i++) {
    if (strcmp(st->args[i], "--") == 0) {
      st->pattern[i++] = '-';
      for (; i < st->n; i++) {
        st->pattern[i] = 'A';
        st->opt[i] = -1;
        st->explicit_arg[i] = NULL;
      }
      break;
    }
    if (classify(st, i) != 0)
      return -1;
    if (st->pattern[i] == 'O') {
      max_opt = i;
      have_opt = 1;
    }
  }
  while (have_opt && start <= max_opt) {
    next_opt = start;
    while (next_opt < st->n && st->pattern[next_opt] != 'O')
      next_opt++;
    if (start != next_opt) {
      end = consume_positionals(st, start, &failed);
      if (failed)
        return -1;
      if (end > start) {
        start = end;
        continue;
      }
    }
    for (; start < next_opt; start++)
      st->extras[st->n_extras++] = start;
    start = consume_optional(st, start);
    if (start == (size_t)-1)
      return -1;
  }
  end = consume_positionals(st, start, &failed);
  if (failed)
    return -1;
  for (; end < st->n; end++)
    st->extras[st->n_extras++] = end;
  return 0;
}

static void pstate_init(pstate *st, const parser *p, char **args, size_t n,
                        cli_args *a)
{
  memset(st, 0, sizeof *st);
  st->p = p;
  st->args = args;
  st->n = n;
  st->a = a;
  st->pattern = cli_xcalloc(n + 1);
  st->opt = cli_xcalloc((n + 1) * sizeof *st->opt);
  st->explicit_arg = cli_xcalloc((n + 1) * sizeof *st->explicit_arg);
  st->extras = cli_xcalloc((n + 1) * sizeof *st->extras);
  st->value_of = cli_xcalloc((n + 1) * sizeof *st->value_of);
  cli_buf_init(&st->err, 0);
}

static void pstate_free(pstate *st)
{
  free(st->pattern);
  free(st->opt);
  free(st->explicit_arg);
  free(st->extras);
  free(st->value_of);
  cli_buf_free(&st->err);
}
/* }===== */

/* {===== the two passes ===== */

static const parser global_parser = {
  global_specs, COUNT(global_specs), "command", 0, command_choices
};
static const parser command_parser = {
  command_specs, COUNT(command_specs), "help", 1, NULL
};

int cli_args_parse_global(int argc, char **argv, cli_args *a)
{
  pstate st;
  size_t n = argc > 1 ? (size_t)argc - 1 : 0, i;
  int rc = CLI_EXIT_USAGE;

  memset(a, 0, sizeof *a);
  pstate_init(&st, &global_parser, argv + 1, n, a);
  if (parse_known(&st) != 0) {
    if (st.version) {
      a->show_version = 1;
      rc = CLI_EXIT_OK;
    } else {
      usage_error(st.err.data, 1);
    }
    goto cleanup;
  }
  if (!st.pos_done) {
    usage_error("the following arguments are required: command", 1);
    goto cleanup;
  }
  a->command = st.pos_value;
  a->rest = cli_xcalloc((st.n_extras + 1) * sizeof *a->rest);
  for (i = 0; i < st.n_extras; i++)
    a->rest[i] = st.args[st.extras[i]];
  a->n_rest = st.n_extras;
  rc = CLI_EXIT_OK;
cleanup:
  pstate_free(&st);
  return rc;
}

/* The AWS CLI lifts the required options when one of these appears as
 * a literal argument (OverrideRequiredArgsArgument); for the skeleton,
 * not when the next argument is "output". */
static int required_waived(const cli_args *a)
{
  size_t i;

  for (i = 0; i < a->n_rest; i++) {
    if (strcmp(a->rest[i], "--cli-input-json") == 0 ||
        strcmp(a->rest[i], "--cli-input-yaml") == 0)
      return 1;
  }
  for (i = 0; i < a->n_rest; i++) {
    if (strcmp(a->rest[i], "--generate-cli-skeleton") == 0)
      return !(i + 1 < a->n_rest && strcmp(a->rest[i + 1], "output") == 0);
  }
  return 0;
}

/* "Unknown options: a, b": option names are shown, their values and any
 * leftover that follows a secret option's value or an unknown option
 * are not (a mistyped --key-store-pasword would echo the password). */
static void unknown_options(pstate *st)
{
  cli_buf msg;
  size_t i, k;
  int *masked = cli_xcalloc((st->n + 1) * sizeof *masked);

  for (i = 1; i < st->n; i++) {
    if (st->pattern[i - 1] == 'O' && st->opt[i - 1] < 0)
      masked[i] = 1;
    else if (st->pattern[i - 1] == 'O' && st->explicit_arg[i - 1] != NULL &&
             st->p->specs[st->opt[i - 1]].secret)
      masked[i] = 1;
    else if (st->value_of[i - 1] > 0 &&
             st->p->specs[st->value_of[i - 1] - 1].secret)
      masked[i] = 1;
    else if (masked[i - 1] && st->pattern[i] == 'A')
      masked[i] = 1;
  }
  cli_buf_init(&msg, 0);
  cli_buf_puts(&msg, "Unknown options: ");
  for (k = 0; k < st->n_extras; k++) {
    i = st->extras[k];
    if (k > 0)
      cli_buf_puts(&msg, ", ");
    if (st->pattern[i] == 'O')
      put_redacted_option(&msg, st->args[i]);
    else if (masked[i])
      cli_buf_puts(&msg, "***");
    else
      cli_buf_puts(&msg, st->args[i]);
  }
  usage_error(msg.data, 0);
  cli_buf_free(&msg);
  free(masked);
}

int cli_args_parse_command(cli_args *a)
{
  pstate st;
  int rc = CLI_EXIT_USAGE;

  pstate_init(&st, &command_parser, a->rest, a->n_rest, a);
  /* ArgTableArgParser: a lone "help" is help, whatever is required */
  if (a->n_rest == 1 && strcmp(a->rest[0], "help") == 0) {
    a->help = 1;
    rc = CLI_EXIT_OK;
    goto cleanup;
  }
  if (parse_known(&st) != 0) {
    usage_error(st.err.data, 1);
    goto cleanup;
  }
  if (!a->given[CLI_OPT_CUSTOM_KEY_STORE_ID] && !required_waived(a)) {
    usage_error(
        "the following arguments are required: --custom-key-store-id", 1);
    goto cleanup;
  }
  if (st.pos_value != NULL && strcmp(st.pos_value, "help") == 0) {
    a->help = 1;
    rc = CLI_EXIT_OK;
    goto cleanup;
  }
  if (st.pos_value != NULL)   /* appended after the other leftovers */
    st.extras[st.n_extras++] = st.pos_index;
  if (st.n_extras > 0) {
    unknown_options(&st);
    goto cleanup;
  }
  rc = CLI_EXIT_OK;
cleanup:
  pstate_free(&st);
  return rc;
}

void cli_args_free(cli_args *a)
{
  free(a->rest);
  a->rest = NULL;
  a->n_rest = 0;
}
/* }===== */
