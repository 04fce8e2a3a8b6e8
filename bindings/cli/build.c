/* build.c - from parsed options to a kms_request, in the AWS CLI's
 * order: each option's value is unpacked (file://, fileb://, shorthand or
 * JSON for the credential) in argument-table order, then the input
 * document is loaded and the options set over it (options win and come
 * first, a structure replaces the document's). Every rule about values
 * lives in the core; what is collected here are the botocore type errors
 * the core's API cannot express, reported with its problems. */
#include <string.h>
#include "cli_core.h"

/* The options that carry a member, in model order. */
static const struct {
  cli_opt opt;
  kms_member member;
} member_opts[] = {
  { CLI_OPT_CUSTOM_KEY_STORE_ID, KMS_M_CUSTOM_KEY_STORE_ID },
  { CLI_OPT_NEW_CUSTOM_KEY_STORE_NAME, KMS_M_NEW_CUSTOM_KEY_STORE_NAME },
  { CLI_OPT_KEY_STORE_PASSWORD, KMS_M_KEY_STORE_PASSWORD },
  { CLI_OPT_CLOUD_HSM_CLUSTER_ID, KMS_M_CLOUD_HSM_CLUSTER_ID },
  { CLI_OPT_XKS_PROXY_URI_ENDPOINT, KMS_M_XKS_PROXY_URI_ENDPOINT },
  { CLI_OPT_XKS_PROXY_URI_PATH, KMS_M_XKS_PROXY_URI_PATH },
  { CLI_OPT_XKS_PROXY_VPC_ENDPOINT_SERVICE_NAME,
    KMS_M_XKS_PROXY_VPC_ENDPOINT_SERVICE_NAME },
  { CLI_OPT_XKS_PROXY_VPC_ENDPOINT_SERVICE_OWNER,
    KMS_M_XKS_PROXY_VPC_ENDPOINT_SERVICE_OWNER },
  { CLI_OPT_XKS_PROXY_CONNECTIVITY, KMS_M_XKS_PROXY_CONNECTIVITY },
};

#define N_MEMBER_OPTS (sizeof member_opts / sizeof member_opts[0])

static const char *const credential_name = "XksProxyAuthenticationCredential";

/* {===== unpacking ===== */

/* str.strip()[0] for the JSON check of a structure argument. */
static char first_non_space(const char *s, size_t n)
{
  size_t i = 0;

  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
                   s[i] == '\r' || s[i] == '\v' || s[i] == '\f' ||
                   (s[i] >= 0x1c && s[i] <= 0x1f)))
    i++;
  return i < n ? s[i] : '\0';
}

/* The credential: JSON when it starts with '{', an error for '[', the
 * shorthand syntax otherwise. Errors echo the input with values masked. */
static int unpack_credential(cli_unpacked *u)
{
  const cli_buf *t = &u->text[CLI_OPT_XKS_PROXY_AUTHENTICATION_CREDENTIAL];
  const char *s = t->data != NULL ? t->data : "";
  cli_buf msg;
  cli_json_error e;
  char c = first_non_space(s, t->len);
  int rc = CLI_EXIT_OK;

  if (u->binary[CLI_OPT_XKS_PROXY_AUTHENTICATION_CREDENTIAL])
    return CLI_EXIT_OK;     /* bytes: reported with the problems */
  cli_buf_init(&msg, 0);
  if (c == '{') {
    if (cli_json_parse(s, t->len, &u->credential, &e) != 0) {
      cli_buf_printf(&msg, "Invalid JSON: %s\nJSON received: ", e.message);
      cli_redact_json(s, t->len, &msg);
      rc = CLI_EXIT_USAGE;
    }
  } else if (c == '[') {
    cli_buf_puts(&msg, "Invalid JSON:\n");
    cli_redact_json(s, t->len, &msg);
    rc = CLI_EXIT_USAGE;
  } else if (cli_shorthand_parse(s, t->len, &u->credential, &msg) != 0) {
    rc = CLI_EXIT_USAGE;
  }
  if (rc != CLI_EXIT_OK)
    cli_error("Error parsing parameter '--xks-proxy-authentication-"
              "credential': %s", msg.data);
  else
    cli_value_mark_secret(u->credential);
  cli_buf_free(&msg);
  return rc;
}

int cli_unpack(const cli_args *a, cli_unpacked *u)
{
  cli_buf msg;
  int opt, rc = CLI_EXIT_OK;

  memset(u, 0, sizeof *u);
  for (opt = 0; opt < CLI_OPT__COUNT; opt++)
    cli_buf_init(&u->text[opt], 1);
  cli_buf_init(&msg, 0);
  /* argument-table order: the first failure is the one reported */
  for (opt = CLI_OPT_CUSTOM_KEY_STORE_ID; opt <= CLI_OPT_CLI_INPUT_YAML;
       opt++) {
    const char *v = a->value[opt];
    if (v == NULL)
      continue;
    switch (cli_paramfile(v, &u->text[opt], &u->binary[opt], &msg)) {
    case 0:
      cli_buf_puts(&u->text[opt], v);
      break;
    case -1:
      cli_error("Error parsing parameter '%s': %s", cli_opt_name(opt),
                msg.data);
      rc = CLI_EXIT_USAGE;
      goto cleanup;
    }
    if (opt == CLI_OPT_XKS_PROXY_AUTHENTICATION_CREDENTIAL) {
      rc = unpack_credential(u);
      if (rc != CLI_EXIT_OK)
        goto cleanup;
    }
  }
cleanup:
  cli_buf_free(&msg);
  return rc;
}

void cli_unpacked_free(cli_unpacked *u)
{
  int opt;

  for (opt = 0; opt < CLI_OPT__COUNT; opt++)
    cli_buf_free(&u->text[opt]);
  cli_value_free(u->credential);
  u->credential = NULL;
}
/* }===== */

/* {===== building the request ===== */

/* botocore's "Invalid type" line, with the value never shown. */
static void invalid_type(cli_buf *problems, const char *path,
                         const char *type, const char *valid)
{
  cli_buf_printf(problems, "Invalid type for parameter %s, value: ***, "
                 "type: <class '%s'>, valid types: <class '%s'>\n", path,
                 type, valid);
}

/* The credential structure given as an option: unknown keys and wrong
 * types are botocore's problems; the halves go to the core in the order
 * they were given. */
static kms_status set_credential(const cli_unpacked *u, kms_request *req,
                                 cli_buf *problems, kms_error *err)
{
  const cli_value *cred = u->credential, *it, *akid = NULL, *secret = NULL;
  int secret_first = 0, bad = 0;
  char path[96];

  if (u->binary[CLI_OPT_XKS_PROXY_AUTHENTICATION_CREDENTIAL]) {
    invalid_type(problems, credential_name, "bytes", "dict");
    return KMS_OK;
  }
  if (cred->type != CLI_V_OBJECT) {
    invalid_type(problems, credential_name, cli_value_pytype(cred), "dict");
    return KMS_OK;
  }
  /* botocore reports unknown keys first, then each member's type */
  for (it = cred->first; it != NULL; it = it->next) {
    snprintf(path, sizeof path, "%s.%s", credential_name, it->key);
    switch (kms_member_lookup(path)) {
    case KMS_M_XKS_ACCESS_KEY_ID:
      akid = it;
      break;
    case KMS_M_XKS_RAW_SECRET_ACCESS_KEY:
      secret = it;
      secret_first = akid == NULL;
      break;
    default:
      cli_buf_printf(problems, "Unknown parameter in %s: \"%s\", must be "
                     "one of: AccessKeyId, RawSecretAccessKey\n",
                     credential_name, it->key);
      bad = 1;
    }
  }
  for (it = cred->first; it != NULL; it = it->next) {
    if ((it == akid || it == secret) && it->type != CLI_V_STRING) {
      snprintf(path, sizeof path, "%s.%s", credential_name, it->key);
      invalid_type(problems, path, cli_value_pytype(it), "str");
      bad = 1;
    }
  }
  if (bad)
    return KMS_OK;
  return kms_request_set_credential(
      req, akid != NULL ? akid->s : NULL, akid != NULL ? akid->len : 0,
      secret != NULL ? secret->s : NULL, secret != NULL ? secret->len : 0,
      secret_first, err);
}

kms_status cli_build_request(const cli_args *a, const cli_unpacked *u,
                             const cli_value *doc, kms_request *req,
                             cli_buf *problems, int *doc_refused,
                             kms_error *err)
{
  cli_buf json;
  kms_status st = KMS_OK;
  size_t i;

  *doc_refused = 0;
  cli_buf_init(&json, 1);
  if (doc != NULL) {
    /* the document first: options set afterwards win and come first */
    cli_input_to_json(doc, &json);
    st = kms_request_load_json(req, json.data, json.len, err);
    if (st == KMS_ERR_PARSE) {
      cli_buf_printf(problems, "%s\n", err->message);
      *doc_refused = 1;
      st = KMS_OK;
      goto cleanup;
    }
    if (st != KMS_OK)
      goto cleanup;
  }
  for (i = 0; i < N_MEMBER_OPTS && st == KMS_OK; i++) {
    const cli_buf *t = &u->text[member_opts[i].opt];
    if (a->value[member_opts[i].opt] == NULL)
      continue;
    if (u->binary[member_opts[i].opt]) {
      invalid_type(problems, kms_member_name(member_opts[i].member),
                   "bytes", "str");
      continue;
    }
    st = kms_request_set(req, member_opts[i].member, t->data, t->len, err);
  }
  if (st == KMS_OK && a->value[CLI_OPT_XKS_PROXY_AUTHENTICATION_CREDENTIAL])
    st = set_credential(u, req, problems, err);
cleanup:
  cli_buf_free(&json);
  return st;
}
/* }===== */
