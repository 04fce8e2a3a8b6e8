/* main.c - `kmscks update-custom-key-store`, a drop-in for
 * `aws kms update-custom-key-store` (AWS CLI v2): the steps in the AWS
 * CLI's order, each a call into the CLI's parsers or the core, and the
 * response printed in the --output format. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include "cli_core.h"

#define OPERATION "UpdateCustomKeyStore"

/* Ctrl-C: as the AWS CLI, a newline on stdout and status 130. Secrets
 * die with the process. */
static void on_sigint(int sig)
{
  ssize_t w = write(1, "\n", 1);
  (void)w;
  (void)sig;
  _exit(CLI_EXIT_INTERRUPT);
}

/* The CLI sends with the core's native transport (HTTP/1.1 over
 * OpenSSL, no libcurl): the line names it as "http/native". */
static void print_version(void)
{
  struct utsname u;

  printf("kmscks/%s libkmscks/%s http/native %s", KMS_VERSION_STRING,
         kms_version(), OpenSSL_version(OPENSSL_VERSION));
  if (uname(&u) == 0)
    printf(" %s/%s %s", u.sysname, u.release, u.machine);
  printf("\n");
}

/* {===== output ===== */

static int terminal_width(void)
{
  struct winsize ws;

  if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
    return ws.ws_col;
  return 80;
}

/* Prints the response as the AWS CLI's formatter does: the operation's
 * output is always {} (botocore keeps only modeled members, and there are
 * none), searched with --query, then formatted. */
static int print_response(const cli_args *a, const kms_config *cfg)
{
  const char *q = a->value[CLI_OPT_QUERY];
  const char *color = a->value[CLI_OPT_COLOR];
  kms_buf result = { 0 };
  cli_value *v = NULL;
  cli_json_error je;
  cli_buf out;
  kms_error err;
  char ferr[128] = "", format[64];
  int rc = CLI_EXIT_OTHER, fr, on;

  cli_output_format(a, cfg, format, sizeof format);
  cli_buf_init(&out, 0);
  kms_error_clear(&err);
  if (q != NULL) {
    if (kms_jmespath_search(q, "{}", 2, &result, &err) != KMS_OK) {
      cli_error("%s", err.message);
      goto cleanup;
    }
    if (cli_json_parse(result.data, result.len, &v, &je) != 0) {
      cli_error("the --query result is not JSON: %s", je.message);
      goto cleanup;
    }
  } else {
    v = cli_value_new(CLI_V_OBJECT);
  }
  on = color != NULL && strcmp(color, "on") == 0;
  if (color == NULL || strcmp(color, "auto") == 0)
    on = isatty(1);
  fr = cli_format_response(format, v, OPERATION, on, terminal_width(), &out,
                           ferr, sizeof ferr);
  if (fr == -1) {
    cli_error("Unknown output type: %s", format);
    goto cleanup;
  }
  if (fr != 0) {
    cli_error("%s", ferr);
    goto cleanup;
  }
  cli_buf_write(&out, stdout);
  fflush(stdout);
  rc = CLI_EXIT_OK;
cleanup:
  cli_value_free(v);
  kms_buf_free(&result);
  cli_buf_free(&out);
  return rc;
}
/* }===== */

/* {===== validation and sending ===== */

/* "Parameter validation failed:" with one line per problem: the type
 * errors found while building, then the core's error-level problems.
 * Warnings ("noop") go to the trace, and to stderr for a dry run, whose
 * point is to show them. Returns 0 when the request may go. */
static int validate(const kms_request *req, const cli_buf *problems,
                    int document_refused, int show_warnings)
{
  kms_problems *ps = NULL;
  kms_error err;
  cli_buf msg;
  size_t i, n, errors = problems->len > 0;
  int rc = CLI_EXIT_OK;

  kms_error_clear(&err);
  cli_buf_init(&msg, 0);
  cli_buf_puts(&msg, "Parameter validation failed:\n");
  if (problems->len > 0)
    cli_buf_add(&msg, problems->data, problems->len);
  /* a refused document leaves the request without it: its own problems
   * would only mislead */
  if (!document_refused) {
    if (kms_request_validate(req, NULL, &ps, &err) == KMS_ERR_NOMEM) {
      rc = cli_fail(&err);
      goto cleanup;
    }
    n = kms_problems_count(ps);
    for (i = 0; i < n; i++) {
      const kms_problem *p = kms_problems_at(ps, i);
      if (p->severity == KMS_SEVERITY_ERROR) {
        cli_buf_printf(&msg, "%s\n", p->message);
        errors++;
      } else if (show_warnings) {
        fprintf(stderr, "kmscks: warning: %s\n", p->message);
      } else {
        cli_trace("warning (%s): %s", p->code, p->message);
      }
    }
  }
  if (errors > 0) {
    msg.data[--msg.len] = '\0';         /* cli_error adds the newline */
    cli_error("%s", msg.data);
    rc = CLI_EXIT_USAGE;
  }
cleanup:
  kms_problems_free(ps);
  cli_buf_free(&msg);
  return rc;
}

/* --dry-run: the signed request as text, secrets redacted. */
static int dry_run(kms_client *c, const kms_request *req)
{
  kms_buf body = { 0 }, text = { 0 };
  kms_http *msg = NULL;
  kms_error err;
  int rc = CLI_EXIT_OK;

  kms_error_clear(&err);
  if (kms_request_encode_body(req, &body, &err) != KMS_OK ||
      kms_client_prepare(c, KMS_OP_UPDATE_CUSTOM_KEY_STORE, body.data,
                         body.len, 0, &msg, &err) != KMS_OK ||
      kms_http_to_text(msg, 1, &text, &err) != KMS_OK) {
    rc = cli_fail(&err);
    goto cleanup;
  }
  fwrite(text.data, 1, text.len, stdout);
  if (text.len > 0 && text.data[text.len - 1] != '\n')
    fputc('\n', stdout);
  fflush(stdout);
cleanup:
  kms_http_free(msg);
  kms_buf_free(&text);
  kms_buf_free(&body);
  return rc;
}

static void trace_body(const kms_request *req)
{
  kms_buf red = { 0 };
  kms_error err;

  if (!cli_trace_on())
    return;
  if (kms_request_to_redacted_json(req, &red, &err) == KMS_OK)
    cli_trace("request body (secrets redacted): %s", red.data);
  kms_buf_free(&red);
}
/* }===== */

/* The steps after the arguments parsed, in the AWS CLI's order. */
static int run_command(const cli_args *a)
{
  cli_unpacked u;
  cli_value *doc = NULL;
  kms_request *req = NULL;
  kms_config *cfg = NULL;
  kms_client *client = NULL;
  cli_buf problems;
  kms_error err;
  const char *skeleton = a->value[CLI_OPT_GENERATE_CLI_SKELETON];
  int rc, refused = 0;
  cli_opt input = CLI_OPT_CLI_INPUT_JSON;

  kms_error_clear(&err);
  cli_buf_init(&problems, 0);
  /* 1. every option's value: files, then the credential's syntax */
  rc = cli_unpack(a, &u);
  if (rc != CLI_EXIT_OK)
    goto cleanup;
  /* 2. the input document */
  if (a->value[CLI_OPT_CLI_INPUT_JSON] != NULL ||
      a->value[CLI_OPT_CLI_INPUT_YAML] != NULL) {
    if (a->value[CLI_OPT_CLI_INPUT_JSON] != NULL &&
        a->value[CLI_OPT_CLI_INPUT_YAML] != NULL) {
      cli_error("Only one --cli-input- parameter may be specified.");
      rc = CLI_EXIT_USAGE;
      goto cleanup;
    }
    if (a->value[CLI_OPT_CLI_INPUT_YAML] != NULL)
      input = CLI_OPT_CLI_INPUT_YAML;
    rc = cli_input_parse(cli_opt_name(input) + 2,
                         u.text[input].data ? u.text[input].data : "",
                         u.text[input].len, &doc);
    if (rc != CLI_EXIT_OK)
      goto cleanup;
  }
  /* 3. skeletons that need nothing more */
  if (skeleton != NULL && strcmp(skeleton, "output") != 0) {
    rc = cli_skeleton_print(skeleton, stdout) == 0 ? CLI_EXIT_OK
                                                   : CLI_EXIT_OTHER;
    goto cleanup;
  }
  /* 4. the request */
  req = kms_request_new(NULL, NULL, &err);
  if (req == NULL || cli_build_request(a, &u, doc, req, &problems,
                                       &refused, &err) != KMS_OK) {
    rc = cli_fail(&err);
    goto cleanup;
  }
  /* 5. the client: region, profile, endpoint, retry settings */
  rc = cli_config_new(a, &cfg);
  if (rc != CLI_EXIT_OK)
    goto cleanup;
  client = kms_client_new(cfg, &err);
  if (client == NULL) {
    rc = cli_fail(&err);
    goto cleanup;
  }
  /* 6. validation: botocore's and the stricter rules */
  trace_body(req);
  rc = validate(req, &problems, refused, a->given[CLI_OPT_DRY_RUN] > 0);
  if (rc != CLI_EXIT_OK)
    goto cleanup;
  if (skeleton != NULL) {          /* "output": what the call returns */
    rc = print_response(a, cfg);
    goto cleanup;
  }
  if (a->given[CLI_OPT_DRY_RUN]) {
    rc = dry_run(client, req);
    goto cleanup;
  }
  /* 7. send, then print */
  if (kms_client_update_custom_key_store(client, req, NULL, &err) !=
      KMS_OK) {
    rc = cli_fail(&err);
    goto cleanup;
  }
  rc = print_response(a, cfg);
cleanup:
  kms_client_free(client);
  kms_config_free(cfg);
  kms_request_free(req);
  cli_value_free(doc);
  cli_unpacked_free(&u);
  cli_buf_free(&problems);
  return rc;
}

int main(int argc, char **argv)
{
  cli_args a;
  int rc;

  signal(SIGINT, on_sigint);
  signal(SIGPIPE, SIG_IGN);
  rc = cli_args_parse_global(argc, argv, &a);
  if (rc != CLI_EXIT_OK)
    goto done;
  if (a.show_version) {
    print_version();
    goto done;
  }
  if (a.given[CLI_OPT_DEBUG]) {
    cli_trace_enable();
    cli_trace("CLI version: kmscks/%s libkmscks/%s", KMS_VERSION_STRING,
              kms_version());
    cli_trace_argv(argc, argv);
  }
  rc = cli_check_globals(&a);
  if (rc != CLI_EXIT_OK)
    goto done;
  if (strcmp(a.command, "help") == 0) {
    rc = cli_help_top(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_OTHER;
    goto done;
  }
  rc = cli_args_parse_command(&a);
  if (rc != CLI_EXIT_OK)
    goto done;
  if (a.help) {
    rc = cli_help_print(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_OTHER;
    goto done;
  }
  rc = run_command(&a);
done:
  cli_args_free(&a);
  fflush(stdout);
  return rc;
}
