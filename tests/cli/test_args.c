/* test_args.c - the argument parser (bindings/cli/args.c) without the
 * core: each row is an argv, the exit status the AWS CLI gives it, and
 * what must be parsed or printed. The expectations come from runs of
 * Debian's AWS CLI v2 (see ../../../shared/reference/awscli-behaviour.md
 * section 5 and tests/cli/test_cli_diff.py, which checks them live). */
#include <string.h>
#include "capture.h"
#include "cli.h"
#include "../unit/testing.h"

#define MAXARGS 16

typedef struct row {
  const char *name;
  const char *argv[MAXARGS];   /* after "kmscks", NULL-terminated */
  int rc;                      /* 0 or 252 */
  cli_opt opt;                 /* an option whose value is checked */
  const char *value;           /* its expected value (NULL: not given) */
  const char *stderr_has;      /* a part of the message, or NULL */
  const char *stderr_lacks;    /* must not appear (a secret), or NULL */
  int help;
  int version;
} row;

#define ID "--custom-key-store-id"
#define CMD "update-custom-key-store"

static const row rows[] = {
  { "value after the option", { CMD, ID, "cks-1", NULL }, 0,
    CLI_OPT_CUSTOM_KEY_STORE_ID, "cks-1", NULL, NULL, 0, 0 },
  { "--opt=value", { CMD, ID "=cks-2", NULL }, 0,
    CLI_OPT_CUSTOM_KEY_STORE_ID, "cks-2", NULL, NULL, 0, 0 },
  { "last one wins", { CMD, ID, "a", ID, "b", NULL }, 0,
    CLI_OPT_CUSTOM_KEY_STORE_ID, "b", NULL, NULL, 0, 0 },
  { "global option anywhere", { "--region", "eu-west-1", CMD, ID, "x",
                                "--output", "text", NULL }, 0,
    CLI_OPT_REGION, "eu-west-1", NULL, NULL, 0, 0 },
  { "unique prefix", { CMD, "--custom-key", "cks-3", NULL }, 0,
    CLI_OPT_CUSTOM_KEY_STORE_ID, "cks-3", NULL, NULL, 0, 0 },
  { "global unique prefix", { CMD, ID, "x", "--reg=us-west-2", NULL }, 0,
    CLI_OPT_REGION, "us-west-2", NULL, NULL, 0, 0 },
  { "dash value needs =", { CMD, ID, "x", "--key-store-password",
                            "-abc1234", NULL }, 252,
    CLI_OPT_KEY_STORE_PASSWORD, NULL,
    "argument --key-store-password: expected one argument", NULL, 0, 0 },
  { "dash value with =", { CMD, ID, "x", "--key-store-password=-abc1234",
                           NULL }, 0,
    CLI_OPT_KEY_STORE_PASSWORD, "-abc1234", NULL, NULL, 0, 0 },
  { "negative number is a value", { CMD, ID, "x", "--cli-read-timeout",
                                    "-1", NULL }, 0,
    CLI_OPT_CLI_READ_TIMEOUT, "-1", NULL, NULL, 0, 0 },
  { "value with a space may start with -", { CMD, ID, "x",
                                             "--new-custom-key-store-name",
                                             "-a b", NULL }, 0,
    CLI_OPT_NEW_CUSTOM_KEY_STORE_NAME, "-a b", NULL, NULL, 0, 0 },
  { "missing value", { CMD, ID, NULL }, 252, CLI_OPT_CUSTOM_KEY_STORE_ID,
    NULL, "argument --custom-key-store-id: expected one argument", NULL, 0,
    0 },
  { "required", { CMD, "--new-custom-key-store-name", "n", NULL }, 252,
    CLI_OPT_CUSTOM_KEY_STORE_ID, NULL,
    "the following arguments are required: --custom-key-store-id", NULL, 0,
    0 },
  { "--cli-input-json lifts required", { CMD, "--cli-input-json", "{}",
                                         NULL }, 0,
    CLI_OPT_CLI_INPUT_JSON, "{}", NULL, NULL, 0, 0 },
  { "--cli-input-json= does not", { CMD, "--cli-input-json={}", NULL }, 252,
    CLI_OPT_CLI_INPUT_JSON, "{}", "are required", NULL, 0, 0 },
  { "bare skeleton is input", { CMD, "--generate-cli-skeleton", NULL }, 0,
    CLI_OPT_GENERATE_CLI_SKELETON, "input", NULL, NULL, 0, 0 },
  { "skeleton output keeps required", { CMD, "--generate-cli-skeleton",
                                        "output", NULL }, 252,
    CLI_OPT_GENERATE_CLI_SKELETON, "output", "are required", NULL, 0, 0 },
  { "skeleton bad choice", { CMD, "--generate-cli-skeleton", "bogus",
                             NULL }, 252,
    CLI_OPT_GENERATE_CLI_SKELETON, NULL,
    "argument --generate-cli-skeleton: Invalid choice, valid choices are:"
    "\n\ninput                                    | output"
    "                                  \nyaml-input", NULL, 0, 0 },
  { "output choice with a hint", { CMD, ID, "x", "--output", "jsonn",
                                   NULL }, 252, CLI_OPT_OUTPUT, NULL,
    "yaml-stream                             \n\n\nInvalid choice: 'jsonn', "
    "maybe you meant:\n\n  * json", NULL, 0, 0 },
  { "ambiguous prefix", { CMD, ID, "x", "--xks-proxy-uri", "v", NULL }, 252,
    CLI_OPT_XKS_PROXY_URI_ENDPOINT, NULL,
    "ambiguous option: --xks-proxy-uri could match --xks-proxy-uri-endpoint,"
    " --xks-proxy-uri-path", NULL, 0, 0 },
  { "ambiguous global prefix hides its value", { CMD, ID, "x",
                                                 "--c=SECRETA", NULL }, 252,
    CLI_OPT_COLOR, NULL,
    "ambiguous option: --c=*** could match --color, --ca-bundle, "
    "--cli-read-timeout, --cli-connect-timeout, --cli-binary-format, "
    "--cli-auto-prompt", "SECRETA", 0, 0 },
  { "unknown options", { CMD, ID, "x", "--bogus-option", "1", NULL }, 252,
    CLI_OPT_CUSTOM_KEY_STORE_ID, "x", "\nUnknown options: --bogus-option, "
    "***\n\n", NULL, 0, 0 },
  { "stray positional", { CMD, ID, "x", "extra-positional", NULL }, 252,
    CLI_OPT_CUSTOM_KEY_STORE_ID, "x", "Unknown options: extra-positional",
    NULL, 0, 0 },
  { "strays in the AWS CLI's order", { CMD, ID, "x", "e1", "e2", NULL },
    252, CLI_OPT_CUSTOM_KEY_STORE_ID, "x", "Unknown options: e2, e1", NULL,
    0, 0 },
  { "a mistyped secret option is not echoed", { CMD, ID, "x",
                                                "--key-store-pasword",
                                                "PWSECRET123", NULL }, 252,
    CLI_OPT_KEY_STORE_PASSWORD, NULL,
    "Unknown options: --key-store-pasword, ***", "PWSECRET123", 0, 0 },
  { "a word after a password is not echoed", { CMD, ID, "x",
                                               "--key-store-password",
                                               "PWSECRET", "123", NULL },
    252, CLI_OPT_KEY_STORE_PASSWORD, "PWSECRET", "Unknown options: ***",
    "123", 0, 0 },
  { "flag with a value", { CMD, ID, "x", "--debug=yes", NULL }, 252,
    CLI_OPT_DEBUG, NULL, "argument --debug: ignored explicit argument 'yes'",
    NULL, 0, 0 },
  { "lone help", { CMD, "help", NULL }, 0, CLI_OPT_CUSTOM_KEY_STORE_ID,
    NULL, NULL, NULL, 1, 0 },
  { "help after the options", { CMD, ID, "x", "help", NULL }, 0,
    CLI_OPT_CUSTOM_KEY_STORE_ID, "x", NULL, NULL, 1, 0 },
  { "help needs the required option", { CMD, "--output", "text",
                                        "--new-custom-key-store-name", "n",
                                        "help", NULL }, 252,
    CLI_OPT_CUSTOM_KEY_STORE_ID, NULL, "are required", NULL, 0, 0 },
  { "--version anywhere", { CMD, ID, "--version", NULL }, 0,
    CLI_OPT_CUSTOM_KEY_STORE_ID, NULL, NULL, NULL, 0, 1 },
  { "no command", { "--region", "x", NULL }, 252, CLI_OPT_REGION, "x",
    "the following arguments are required: command", NULL, 0, 0 },
  { "bad command", { "describe-custom-key-stores", NULL }, 252,
    CLI_OPT_REGION, NULL, "argument command: Invalid choice", NULL, 0, 0 },
  { "-- makes the rest positional", { CMD, ID, "--", "--x", NULL }, 0,
    CLI_OPT_CUSTOM_KEY_STORE_ID, "--x", NULL, NULL, 0, 0 },
  { "usage block", { CMD, NULL }, 252, CLI_OPT_CUSTOM_KEY_STORE_ID, NULL,
    "\nusage: kmscks [options] <command> [parameters]\nTo see help text, "
    "you can run:\n\n  kmscks help\n  kmscks <command> help\n\n"
    "kmscks: error: the following arguments are required: "
    "--custom-key-store-id\n\n", NULL, 0, 0 },
};

static void run_row(const row *r)
{
  char *argv[MAXARGS + 2];
  int argc = 1, rc, saved;
  cli_args a;
  FILE *tmp;
  char *err;

  argv[0] = "kmscks";
  while (r->argv[argc - 1] != NULL) {
    argv[argc] = (char *)r->argv[argc - 1];
    argc++;
  }
  argv[argc] = NULL;
  saved = capture_begin(2, &tmp);
  rc = cli_args_parse_global(argc, argv, &a);
  if (rc == 0 && !a.show_version && strcmp(a.command, "help") != 0)
    rc = cli_args_parse_command(&a);
  err = capture_end(2, saved, tmp);
  OK(rc == r->rc, "%s: exit status %d", r->name, r->rc);
  if (rc == 0 && r->value != NULL)
    EQ_STR(a.value[r->opt], r->value, "%s: %s", r->name,
           cli_opt_name(r->opt));
  if (rc == 0 && r->value == NULL && !r->version && r->rc == 0)
    OK(a.value[r->opt] == NULL, "%s: %s not given", r->name,
       cli_opt_name(r->opt));
  if (r->rc == 0) {
    OK(a.help == r->help, "%s: help %d", r->name, r->help);
    OK(a.show_version == r->version, "%s: version %d", r->name,
       r->version);
  }
  if (r->stderr_has != NULL) {
    OK(strstr(err, r->stderr_has) != NULL, "%s: message", r->name);
    if (strstr(err, r->stderr_has) == NULL)
      printf("#   stderr: '%s'\n", err);
  }
  if (r->stderr_lacks != NULL)
    OK(strstr(err, r->stderr_lacks) == NULL, "%s: no echo", r->name);
  if (r->rc == 0)
    OK(err[0] == '\0', "%s: nothing on stderr", r->name);
  free(err);
  cli_args_free(&a);
}

int main(void)
{
  size_t i, m[3];
  static const char *const fruits[] = { "json", "text", "table", "yaml",
                                        "yaml-stream", NULL };

  for (i = 0; i < sizeof rows / sizeof rows[0]; i++)
    run_row(&rows[i]);
  /* difflib.get_close_matches */
  OK(cli_close_matches("yml", fruits, m) == 1 && m[0] == 3,
     "close match yml -> yaml");
  OK(cli_close_matches("xml", fruits, m) == 0, "no close match for xml");
  OK(cli_opt_match("--key-store-p", 13) == CLI_OPT_KEY_STORE_PASSWORD,
     "option prefix lookup");
  OK(cli_opt_match("--no", 4) == -2, "ambiguous prefix lookup");
  OK(cli_opt_match("--nope", 6) == -1, "unknown option lookup");
  OK(cli_opt_is_secret(CLI_OPT_XKS_PROXY_AUTHENTICATION_CREDENTIAL) &&
     cli_opt_is_secret(CLI_OPT_CLI_INPUT_JSON) &&
     !cli_opt_is_secret(CLI_OPT_CUSTOM_KEY_STORE_ID), "secret options");
  return t_done();
}
