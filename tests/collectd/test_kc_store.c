/* test_kc_store.c - the collectd plugin's desired-state logic
 * (bindings/collectd/kc_store.c) without the daemon: option names and
 * refusals, secrets from files, the desired request, and the difference
 * against DescribeCustomKeyStores entries, including what "differs" means
 * for secrets (AccessKeyId against Describe, the others by hash against
 * the baseline). Table-driven where it can be; prints "ok N - ..." and
 * "N passed, M failed". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kc_store.h"

static int passed, failed;

#define OK(cond, ...)                                                   \
  do {                                                                  \
    int ok_ = (cond) ? 1 : 0;                                           \
    if (ok_)                                                            \
      passed++;                                                         \
    else                                                                \
      failed++;                                                         \
    printf("%sok %d - ", ok_ ? "" : "not ", passed + failed);           \
    printf(__VA_ARGS__);                                                \
    printf("\n");                                                       \
    if (!ok_)                                                           \
      printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);   \
  } while (0)

static char dir[64];
static cJSON *store; /* a diff's context points into it: kept until the next
                        diff */

static char *file_with(const char *name, const char *content)
{
  static char paths[8][128];
  static int n;
  char *p = paths[n++ % 8];
  FILE *f;
  snprintf(p, 128, "%s/%s", dir, name);
  f = fopen(p, "w");
  fputs(content, f);
  fclose(f);
  return p;
}

static const char *XKS_STORE =
    "{\"CustomKeyStoreId\": \"cks-0987654321fedcba0\", "
    "\"CustomKeyStoreName\": \"ExampleExternalKeyStore\", "
    "\"ConnectionState\": \"CONNECTED\", "
    "\"CustomKeyStoreType\": \"EXTERNAL_KEY_STORE\", "
    "\"XksProxyConfiguration\": {\"Connectivity\": \"PUBLIC_ENDPOINT\", "
    "\"AccessKeyId\": \"ABCDE23456723EXAMPLE\", \"UriEndpoint\": "
    "\"https://myproxy.xks.example.com\", \"UriPath\": \"/kms/xks/v1\"}}";

static const char *HSM_STORE =
    "{\"CustomKeyStoreId\": \"cks-1234567890abcdef0\", "
    "\"CustomKeyStoreName\": \"ExampleKeyStore\", "
    "\"CloudHsmClusterId\": \"cluster-1a23b4cdefg\", "
    "\"ConnectionState\": \"DISCONNECTED\", "
    "\"CustomKeyStoreType\": \"AWS_CLOUDHSM\"}";

/* The body a diff would send (no secret in these cases but the ones the
 * test puts there itself). */
static char *diff_body(kc_desired *d, kc_secrets *s, kc_baseline *b,
                       const char *store_json, kc_diff *out)
{
  kms_request *req = kms_request_new(NULL, NULL, NULL);
  kms_buf body;
  char *text = NULL;
  kms_error e;

  memset(&body, 0, sizeof body);
  cJSON_Delete(store);
  store = cJSON_Parse(store_json);
  if (kc_compute_diff(d, s, b, store, req, out, &e) == KMS_OK &&
      kms_request_encode_body(req, &body, &e) == KMS_OK)
    text = strdup(body.data);
  kms_buf_free(&body);
  kms_request_free(req);
  return text;
}

static void test_options(void)
{
  const char *hint;
  struct {
    const char *option;
    int field;
    const char *hint_has;
  } cases[] = {
    {"CustomKeyStoreName", KC_NAME, NULL},
    {"customkeystorename", KC_NAME, NULL},
    {"XksProxyUriPath", KC_PATH, NULL},
    {"KeyStorePasswordFile", KC_PASSWORD_FILE, NULL},
    {"XksProxyAccessKeyIdFile", KC_AKID_FILE, NULL},
    {"XksProxySecretAccessKeyFile", KC_SECRET_FILE, NULL},
    {"XksProxyConnectivity", KC_CONNECTIVITY, NULL},
    {"KeyStorePassword", -1, "use KeyStorePasswordFile"},
    {"XksProxySecretAccessKey", -1, "use XksProxySecretAccessKeyFile"},
    {"RawSecretAccessKey", -1, "files only"},
    {"NewCustomKeyStoreName", -1, "use CustomKeyStoreName"},
    {"CustomKeyStoreId", -1, "the block's argument"},
    {"Bogus", -1, NULL},
  };
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int f = kc_field_lookup(cases[i].option, &hint);
    OK(f == cases[i].field &&
       (cases[i].hint_has ? hint && strstr(hint, cases[i].hint_has) != NULL
                          : hint == NULL),
       "option %s -> field %d%s%s", cases[i].option, f, hint ? ", " : "",
       hint ? hint : "");
  }
  OK(strcmp(kc_member_option("XksProxyAuthenticationCredential.AccessKeyId"),
            "XksProxyAccessKeyIdFile") == 0 &&
     strcmp(kc_member_option("KeyStorePassword"), "KeyStorePasswordFile") ==
         0 &&
     strcmp(kc_member_option("NewCustomKeyStoreName"),
            "CustomKeyStoreName") == 0 &&
     strcmp(kc_member_option(""), "(block)") == 0,
     "problems on members are blamed on the block's options");
}

static void test_secrets_and_static(void)
{
  kc_desired d;
  kc_secrets s;
  kms_request *req;
  kms_problems *probs = NULL;
  kms_error e;
  const kms_problem *p;
  size_t i;
  int saw_len = 0, saw_pattern = 0;

  memset(&d, 0, sizeof d);
  d.id = strdup("cks-1234567890abcdef0");
  d.value[KC_PASSWORD_FILE] = strdup("/nonexistent/pw");
  OK(kc_secrets_read(&d, &s, &e) == KMS_ERR_IO &&
     strstr(e.message, "KeyStorePasswordFile: cannot read /nonexistent/pw"),
     "a missing secret file: %s", e.message);
  free(d.value[KC_PASSWORD_FILE]);
  d.value[KC_PASSWORD_FILE] = strdup(file_with("pw", "abc\n"));
  d.value[KC_PATH] = strdup("no-slash");
  OK(kc_secrets_read(&d, &s, &e) == KMS_OK && s.len[KC_PASSWORD_FILE] == 3,
     "a secret file: one trailing newline dropped");
  req = kms_request_new(NULL, NULL, NULL);
  OK(kc_desired_request(&d, &s, req, &e) == KMS_OK, "the desired request");
  OK(kms_request_validate(req, NULL, &probs, &e) == KMS_ERR_VALIDATION,
     "static rules refuse it");
  for (i = 0; i < kms_problems_count(probs); i++) {
    p = kms_problems_at(probs, i);
    if (strcmp(p->code, "length.min") == 0 &&
        strcmp(kc_member_option(p->member), "KeyStorePasswordFile") == 0)
      saw_len = 1;
    if (strcmp(p->code, "pattern") == 0 &&
        strcmp(kc_member_option(p->member), "XksProxyUriPath") == 0)
      saw_pattern = 1;
    OK(!strstr(p->message, "abc"), "problem %s on %s does not show the "
       "password", p->code, kc_member_option(p->member));
  }
  OK(saw_len && saw_pattern, "... a short password and a bad path, blamed "
     "on KeyStorePasswordFile and XksProxyUriPath");
  kms_problems_free(probs);
  kms_request_free(req);
  kc_secrets_free(&s);
  kc_desired_free(&d);
}

static void test_diff(void)
{
  kc_desired d;
  kc_secrets s;
  kc_baseline b;
  kc_diff diff;
  kms_error e;
  char *body;

  /* XKS: everything as Describe says: in sync. */
  memset(&d, 0, sizeof d);
  memset(&b, 0, sizeof b);
  d.id = strdup("cks-0987654321fedcba0");
  d.value[KC_NAME] = strdup("ExampleExternalKeyStore");
  d.value[KC_ENDPOINT] = strdup("https://myproxy.xks.example.com");
  d.value[KC_PATH] = strdup("/kms/xks/v1");
  d.value[KC_CONNECTIVITY] = strdup("PUBLIC_ENDPOINT");
  d.value[KC_AKID_FILE] = strdup(file_with("akid", "ABCDE23456723EXAMPLE\n"));
  d.value[KC_SECRET_FILE] = strdup(file_with("sec", "DXjSUawnel2fr6SKC7G25"
                                                    "CNxTyWKE5PF9XX6H/u9pSo="));
  kc_secrets_read(&d, &s, &e);
  kc_baseline_take(&b, &s, ~0u);
  body = diff_body(&d, &s, &b, XKS_STORE, &diff);
  OK(body && diff.count == 0 && diff.changed[0] == '\0',
     "in sync: nothing to change");
  OK(diff.ctx.connection_state && strcmp(diff.ctx.connection_state,
                                         "CONNECTED") == 0 &&
     strcmp(diff.ctx.custom_key_store_type, "EXTERNAL_KEY_STORE") == 0 &&
     strcmp(diff.ctx.xks_proxy_connectivity, "PUBLIC_ENDPOINT") == 0,
     "the store context comes from the entry");
  free(body);

  /* Name and path differ. */
  free(d.value[KC_NAME]);
  d.value[KC_NAME] = strdup("Renamed");
  free(d.value[KC_PATH]);
  d.value[KC_PATH] = strdup("/prefix/kms/xks/v1");
  body = diff_body(&d, &s, &b, XKS_STORE, &diff);
  OK(body && diff.count == 2 &&
     strcmp(diff.changed, "CustomKeyStoreName, XksProxyUriPath") == 0 &&
     strcmp(body, "{\"CustomKeyStoreId\": \"cks-0987654321fedcba0\", "
            "\"NewCustomKeyStoreName\": \"Renamed\", \"XksProxyUriPath\": "
            "\"/prefix/kms/xks/v1\"}") == 0,
     "name and path: %s", body ? body : "NULL");
  free(body);

  /* The secret file rotates, same key id: differs by hash. */
  kc_secrets_free(&s);
  file_with("sec", "7a6QGqd5MwwUJQQ34nIfTPTWmREcNu9M6uf2W3qbnGs=\n");
  kc_secrets_read(&d, &s, &e);
  body = diff_body(&d, &s, &b, XKS_STORE, &diff);
  OK(body && strstr(diff.changed, "XksProxyAccessKeyIdFile, "
                    "XksProxySecretAccessKeyFile") &&
     strstr(body, "\"XksProxyAuthenticationCredential\": {\"AccessKeyId\": "
            "\"ABCDE23456723EXAMPLE\", \"RawSecretAccessKey\": \"7a6Q"),
     "a rotated secret file sends the whole credential: %s", diff.changed);
  free(body);
  /* ... and once sent, it is the baseline. */
  kc_baseline_take(&b, &s, diff.fields);
  body = diff_body(&d, &s, &b, XKS_STORE, &diff);
  OK(body && !strstr(diff.changed, "Access") && diff.count == 2,
     "after a successful update the rotated secret is in sync (%s)",
     diff.changed);
  free(body);

  /* A new access key id differs against Describe. */
  kc_secrets_free(&s);
  file_with("akid", "BCDEF34567234EXAMPLE");
  kc_secrets_read(&d, &s, &e);
  body = diff_body(&d, &s, &b, XKS_STORE, &diff);
  OK(body && strstr(diff.changed, "XksProxyAccessKeyIdFile") &&
     strstr(diff.changed, "XksProxySecretAccessKeyFile"),
     "a new access key id: the credential differs (%s)", diff.changed);
  free(body);

  /* Without a baseline (AssumeSecretsInSync false), the secret differs. */
  memset(&b, 0, sizeof b);
  file_with("akid", "ABCDE23456723EXAMPLE");
  kc_secrets_free(&s);
  kc_secrets_read(&d, &s, &e);
  body = diff_body(&d, &s, &b, XKS_STORE, &diff);
  OK(body && strstr(diff.changed, "XksProxySecretAccessKeyFile"),
     "no baseline: the secret is sent once (%s)", diff.changed);
  free(body);

  /* A connectivity switch also sends endpoint and service name. */
  free(d.value[KC_CONNECTIVITY]);
  d.value[KC_CONNECTIVITY] = strdup("VPC_ENDPOINT_SERVICE");
  d.value[KC_VPC_NAME] = strdup("com.amazonaws.vpce.us-east-1.vpce-svc-1");
  kc_baseline_take(&b, &s, ~0u);
  body = diff_body(&d, &s, &b, XKS_STORE, &diff);
  OK(body && strcmp(diff.changed, "CustomKeyStoreName, XksProxyUriEndpoint, "
                    "XksProxyUriPath, XksProxyVpcEndpointServiceName, "
                    "XksProxyConnectivity") == 0,
     "to VPC: endpoint and service name go with it (%s)", diff.changed);
  free(body);
  kc_secrets_free(&s);
  kc_desired_free(&d);

  /* CloudHSM: cluster differs; the password has no baseline. */
  memset(&d, 0, sizeof d);
  memset(&b, 0, sizeof b);
  d.id = strdup("cks-1234567890abcdef0");
  d.value[KC_CLUSTER] = strdup("cluster-5b67c2defgh");
  d.value[KC_PASSWORD_FILE] = strdup(file_with("pw", "ExamplePassword"));
  kc_secrets_read(&d, &s, &e);
  body = diff_body(&d, &s, &b, HSM_STORE, &diff);
  OK(body && strcmp(diff.changed, "CloudHsmClusterId, KeyStorePasswordFile")
     == 0 && strstr(body, "\"KeyStorePassword\": \"ExamplePassword\", "
                    "\"CloudHsmClusterId\": \"cluster-5b67c2defgh\""),
     "cluster and a password without baseline, in model order: %s",
     body ? body : "NULL");
  free(body);
  kc_baseline_take(&b, &s, ~0u);
  body = diff_body(&d, &s, &b, HSM_STORE, &diff);
  OK(body && strcmp(diff.changed, "CloudHsmClusterId") == 0,
     "with the password as baseline: only the cluster");
  free(body);
  kc_secrets_free(&s);
  kc_desired_free(&d);
}

int main(void)
{
  snprintf(dir, sizeof dir, "/tmp/kc-store-test-%ld", (long)getpid());
  if (mkdir(dir, 0700) != 0)
    return 2;
  test_options();
  test_secrets_and_static();
  test_diff();
  unlink(file_with("akid", ""));
  unlink(file_with("sec", ""));
  unlink(file_with("pw", ""));
  rmdir(dir);
  cJSON_Delete(store);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
