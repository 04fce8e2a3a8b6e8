/* setup.c - the global options as the core sees them: the checks the AWS
 * CLI makes right after its first pass, the kms_config they become, and
 * the one table from a core status to an exit status. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "cli_core.h"

/* {===== exit statuses ===== */

static const int exit_of[KMS_ERR__COUNT] = {
  [KMS_OK] = CLI_EXIT_OK,
  [KMS_ERR_NOMEM] = CLI_EXIT_OTHER,
  [KMS_ERR_INVALID_ARG] = CLI_EXIT_OTHER,
  [KMS_ERR_PARSE] = CLI_EXIT_USAGE,
  [KMS_ERR_VALIDATION] = CLI_EXIT_USAGE,
  [KMS_ERR_CONFIG] = CLI_EXIT_OTHER,
  [KMS_ERR_NO_REGION] = CLI_EXIT_NO_CONFIG,
  [KMS_ERR_NO_CREDENTIALS] = CLI_EXIT_NO_CONFIG,
  [KMS_ERR_CREDENTIALS] = CLI_EXIT_OTHER,
  [KMS_ERR_CRYPTO] = CLI_EXIT_OTHER,
  [KMS_ERR_CONNECT] = CLI_EXIT_OTHER,
  [KMS_ERR_CONNECT_TIMEOUT] = CLI_EXIT_OTHER,
  [KMS_ERR_READ_TIMEOUT] = CLI_EXIT_OTHER,
  [KMS_ERR_CONNECTION_CLOSED] = CLI_EXIT_OTHER,
  [KMS_ERR_TLS] = CLI_EXIT_OTHER,
  [KMS_ERR_SERVICE] = CLI_EXIT_SERVICE,
  [KMS_ERR_RESPONSE] = CLI_EXIT_OTHER,
  [KMS_ERR_IO] = CLI_EXIT_OTHER,
  [KMS_ERR_INTERRUPTED] = CLI_EXIT_INTERRUPT,
};

int cli_exit_status(kms_status st)
{
  if ((int)st < 0 || st >= KMS_ERR__COUNT)
    return CLI_EXIT_OTHER;
  return exit_of[st];
}

int cli_fail(const kms_error *err)
{
  cli_error("%s", err->message[0] != '\0' ? err->message
                                          : kms_strerror(err->status));
  return cli_exit_status(err->status);
}
/* }===== */

/* {===== the checks after the first pass ===== */

/* urllib.parse.urlparse finds a scheme: letters, digits, "+-." before
 * the first ":", starting with a letter. */
static int has_scheme(const char *url)
{
  const char *colon = strchr(url, ':'), *p;

  if (colon == NULL || colon == url || !isalpha((unsigned char)url[0]) ||
      (unsigned char)url[0] >= 0x80)
    return 0;
  for (p = url; p < colon; p++)
    if (!(isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.'))
      return 0;
  return 1;
}

/* Python's int(): blanks around, a sign, digits with single underscores
 * between them. */
static int python_int(const char *s)
{
  const char *p = s, *e = s + strlen(s);
  int digits = 0;

  while (p < e && isspace((unsigned char)*p))
    p++;
  while (e > p && isspace((unsigned char)e[-1]))
    e--;
  if (p < e && (*p == '+' || *p == '-'))
    p++;
  for (; p < e; p++) {
    if (*p == '_' && digits && p + 1 < e && isdigit((unsigned char)p[1]))
      continue;
    if (!isdigit((unsigned char)*p))
      return 0;
    digits++;
  }
  return digits > 0;
}

int cli_check_globals(const cli_args *a)
{
  static const cli_opt timeouts[] = { CLI_OPT_CLI_READ_TIMEOUT,
                                      CLI_OPT_CLI_CONNECT_TIMEOUT };
  const char *q = a->value[CLI_OPT_QUERY];
  const char *url = a->value[CLI_OPT_ENDPOINT_URL];
  kms_error err;
  size_t i;

  kms_error_clear(&err);
  /* only syntax: an unknown function or a wrong arity, like a wrong
   * type, shows when the response is searched (the request is sent) */
  if (q != NULL && kms_jmespath_check(q, &err) == KMS_ERR_PARSE) {
    cli_error("Bad value for --query %s: %s", q, err.message);
    return CLI_EXIT_USAGE;
  }
  if (url != NULL && !has_scheme(url)) {
    cli_error("Bad value for --endpoint-url \"%s\": scheme is missing.  "
              "Must be of the form http://<hostname>/ or "
              "https://<hostname>/", url);
    return CLI_EXIT_USAGE;
  }
  for (i = 0; i < 2; i++) {
    const char *v = a->value[timeouts[i]];
    if (v != NULL && !python_int(v)) {
      cli_error("invalid literal for int() with base 10: '%s'", v);
      return CLI_EXIT_OTHER;
    }
  }
  return CLI_EXIT_OK;
}
/* }===== */

/* {===== the output format ===== */

/* --output, else AWS_DEFAULT_OUTPUT, else the profile's "output", else
 * json. The profile is resolved and read by the core
 * (kms_config_profile_value); a configuration it refuses means json. */
void cli_output_format(const cli_args *a, const kms_config *cfg,
                       char *out, size_t size)
{
  const char *env = getenv("AWS_DEFAULT_OUTPUT");
  kms_error err;

  snprintf(out, size, "json");
  if (a->value[CLI_OPT_OUTPUT] != NULL) {
    snprintf(out, size, "%s", a->value[CLI_OPT_OUTPUT]);
    return;
  }
  if (env != NULL && env[0] != '\0') {
    snprintf(out, size, "%s", env);
    return;
  }
  if (kms_config_profile_value(cfg, "output", out, size, &err) != KMS_OK ||
      out[0] == '\0')
    snprintf(out, size, "json");
}
/* }===== */

/* {===== kms_config ===== */

int cli_config_new(const cli_args *a, kms_config **out)
{
  static const struct {
    cli_opt opt;
    const char *setting;
  } passed[] = {
    { CLI_OPT_REGION, "region" },
    { CLI_OPT_PROFILE, "profile" },
    { CLI_OPT_ENDPOINT_URL, "endpoint_url" },
    { CLI_OPT_CA_BUNDLE, "ca_bundle" },
    { CLI_OPT_CLI_READ_TIMEOUT, "read_timeout" },
    { CLI_OPT_CLI_CONNECT_TIMEOUT, "connect_timeout" },
  };
  kms_config *cfg;
  kms_error err;
  kms_status st = KMS_OK;
  size_t i;
  int rc;

  *out = NULL;
  kms_error_clear(&err);
  cfg = kms_config_new(NULL, NULL, &err);
  if (cfg == NULL)
    return cli_fail(&err);
  for (i = 0; i < sizeof passed / sizeof passed[0] && st == KMS_OK; i++)
    if (a->value[passed[i].opt] != NULL)
      st = kms_config_set(cfg, passed[i].setting, a->value[passed[i].opt],
                          &err);
  if (st == KMS_OK && a->given[CLI_OPT_NO_VERIFY_SSL])
    st = kms_config_set(cfg, "verify_tls", "false", &err);
  if (st == KMS_OK && a->given[CLI_OPT_NO_SIGN_REQUEST])
    st = kms_config_set(cfg, "no_sign_request", "true", &err);
  if (st == KMS_OK)
    st = kms_config_set(cfg, "user_agent",
                        "kmscks/" KMS_VERSION_STRING " libkmscks/"
                        KMS_VERSION_STRING
                        " command/kms.update-custom-key-store", &err);
  if (st != KMS_OK) {
    rc = cli_fail(&err);
    kms_config_free(cfg);
    return rc;
  }
  if (cli_trace_on())
    kms_config_set_log(cfg, cli_trace_log, NULL, KMS_LOG_DEBUG);
  *out = cfg;
  return CLI_EXIT_OK;
}
/* }===== */
