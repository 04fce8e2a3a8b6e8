/* kc_store.c - desired settings of a custom key store versus what
 * DescribeCustomKeyStores reports (see kc_store.h for what "differs" means
 * for secrets). No collectd header here: tests/collectd/test_kc_store.c
 * runs it without the daemon. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include "kc_store.h"
#include "plugin_int.h" /* kmsp_read_secret_file: shared with kmscks.so */

static const struct {
  const char *option;
  kms_member member;
} fields[KC__COUNT] = {
  [KC_NAME] = {"CustomKeyStoreName", KMS_M_NEW_CUSTOM_KEY_STORE_NAME},
  [KC_CLUSTER] = {"CloudHsmClusterId", KMS_M_CLOUD_HSM_CLUSTER_ID},
  [KC_PASSWORD_FILE] = {"KeyStorePasswordFile", KMS_M_KEY_STORE_PASSWORD},
  [KC_ENDPOINT] = {"XksProxyUriEndpoint", KMS_M_XKS_PROXY_URI_ENDPOINT},
  [KC_PATH] = {"XksProxyUriPath", KMS_M_XKS_PROXY_URI_PATH},
  [KC_VPC_NAME] = {"XksProxyVpcEndpointServiceName",
                   KMS_M_XKS_PROXY_VPC_ENDPOINT_SERVICE_NAME},
  [KC_VPC_OWNER] = {"XksProxyVpcEndpointServiceOwner",
                    KMS_M_XKS_PROXY_VPC_ENDPOINT_SERVICE_OWNER},
  [KC_AKID_FILE] = {"XksProxyAccessKeyIdFile", KMS_M_XKS_ACCESS_KEY_ID},
  [KC_SECRET_FILE] = {"XksProxySecretAccessKeyFile",
                      KMS_M_XKS_RAW_SECRET_ACCESS_KEY},
  [KC_CONNECTIVITY] = {"XksProxyConnectivity", KMS_M_XKS_PROXY_CONNECTIVITY},
};

/* Options refused on purpose, with what to use instead. */
static const struct {
  const char *option;
  const char *hint;
} refused[] = {
  {"KeyStorePassword", "secrets are read from files only: use "
                       "KeyStorePasswordFile"},
  {"XksProxyAccessKeyId", "secrets are read from files only: use "
                          "XksProxyAccessKeyIdFile"},
  {"XksProxySecretAccessKey", "secrets are read from files only: use "
                              "XksProxySecretAccessKeyFile"},
  {"XksProxyAuthenticationCredential", "secrets are read from files only: "
   "use XksProxyAccessKeyIdFile and XksProxySecretAccessKeyFile"},
  {"AccessKeyId", "secrets are read from files only: use "
                  "XksProxyAccessKeyIdFile"},
  {"RawSecretAccessKey", "secrets are read from files only: use "
                         "XksProxySecretAccessKeyFile"},
  {"NewCustomKeyStoreName", "a block holds the desired settings: use "
                            "CustomKeyStoreName"},
  {"CustomKeyStoreId", "the store id is the block's argument: "
                       "<CustomKeyStore \"cks-...\">"},
};

static int is_file_field(kc_field f)
{
  return f == KC_PASSWORD_FILE || f == KC_AKID_FILE || f == KC_SECRET_FILE;
}

const char *kc_field_option(kc_field f)
{
  return (int)f >= 0 && f < KC__COUNT ? fields[f].option : "?";
}

int kc_field_lookup(const char *option, const char **hint)
{
  size_t i;

  *hint = NULL;
  for (i = 0; option && i < KC__COUNT; i++)
    if (strcasecmp(fields[i].option, option) == 0)
      return (int)i;
  for (i = 0; option && i < sizeof refused / sizeof refused[0]; i++)
    if (strcasecmp(refused[i].option, option) == 0)
      *hint = refused[i].hint;
  return -1;
}

const char *kc_member_option(const char *member)
{
  size_t i;

  if (!member || !*member)
    return "(block)";
  if (strcmp(member, "CustomKeyStoreId") == 0)
    return "(block argument)";
  if (strcmp(member, "XksProxyAuthenticationCredential") == 0)
    return "XksProxyAccessKeyIdFile/XksProxySecretAccessKeyFile";
  for (i = 0; i < KC__COUNT; i++)
    if (strcmp(kms_member_name(fields[i].member), member) == 0)
      return fields[i].option;
  return member;
}

void kc_desired_free(kc_desired *d)
{
  int f;
  if (!d)
    return;
  free(d->id);
  for (f = 0; f < KC__COUNT; f++)
    free(d->value[f]);
  memset(d, 0, sizeof *d);
}

/* {===== secrets ===== */

kms_status kc_secrets_read(const kc_desired *d, kc_secrets *s,
                           kms_error *err)
{
  kms_status st;
  int f;

  memset(s, 0, sizeof *s);
  for (f = 0; f < KC__COUNT; f++) {
    if (!is_file_field((kc_field)f) || !d->value[f])
      continue;
    st = kmsp_read_secret_file(fields[f].option, d->value[f], &s->value[f],
                               &s->len[f], err);
    if (st != KMS_OK) {
      kc_secrets_free(s);
      return st;
    }
    SHA256((const unsigned char *)s->value[f], s->len[f], s->hash[f]);
  }
  return KMS_OK;
}

void kc_secrets_free(kc_secrets *s)
{
  int f;
  if (!s)
    return;
  for (f = 0; f < KC__COUNT; f++)
    kmsp_secret_free(s->value[f], s->len[f]);
  OPENSSL_cleanse(s, sizeof *s);
}

void kc_baseline_take(kc_baseline *b, const kc_secrets *s, unsigned which)
{
  int f;
  for (f = 0; f < KC__COUNT; f++) {
    if (!(which & (1u << f)) || !s->value[f])
      continue;
    memcpy(b->hash[f], s->hash[f], KC_HASH_SIZE);
    b->have[f] = 1;
  }
}
/* }===== */

static kms_status set(kms_request *req, kms_member m, const char *v,
                      size_t len, kms_error *err)
{
  return kms_request_set(req, m, v, len, err);
}

kms_status kc_desired_request(const kc_desired *d, const kc_secrets *s,
                              kms_request *req, kms_error *err)
{
  kms_status st;
  const char *v;
  size_t len;
  int f;

  st = set(req, KMS_M_CUSTOM_KEY_STORE_ID, d->id, strlen(d->id), err);
  for (f = 0; st == KMS_OK && f < KC__COUNT; f++) {
    if (!d->value[f])
      continue;
    v = is_file_field((kc_field)f) ? s->value[f] : d->value[f];
    len = is_file_field((kc_field)f) ? s->len[f] : strlen(v);
    if (v)
      st = set(req, fields[f].member, v, len, err);
  }
  return st;
}

/* {===== diff ===== */

const char *kc_json_string(const cJSON *obj, const char *key)
{
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

const cJSON *kc_find_store(const cJSON *response, const char *id)
{
  const cJSON *list, *it;
  const char *sid;

  list = cJSON_GetObjectItemCaseSensitive(response, "CustomKeyStores");
  cJSON_ArrayForEach(it, list) {
    sid = kc_json_string(it, "CustomKeyStoreId");
    if (sid && strcmp(sid, id) == 0)
      return it;
  }
  return NULL;
}

/* 1 when the desired value differs from the current one (absent counts
 * as the empty string, as the API clears a service name with ""). */
static int differs(const char *want, const char *have)
{
  return strcmp(want, have ? have : "") != 0;
}

static void note(kc_diff *out, kc_field f)
{
  out->fields |= 1u << f;
}

kms_status kc_compute_diff(const kc_desired *d, const kc_secrets *s,
                           const kc_baseline *b, const cJSON *store,
                           kms_request *req, kc_diff *out, kms_error *err)
{
  const cJSON *xks = cJSON_GetObjectItemCaseSensitive(store,
                                                      "XksProxyConfiguration");
  const char *cur[KC__COUNT] = {0};
  const char *want_conn;
  kms_status st = KMS_OK;
  int f, conn_change, cred_change = 0;
  size_t n;

  memset(out, 0, sizeof *out);
  out->ctx.custom_key_store_type = kc_json_string(store, "CustomKeyStoreType");
  out->ctx.connection_state = kc_json_string(store, "ConnectionState");
  out->ctx.xks_proxy_connectivity = kc_json_string(xks, "Connectivity");
  cur[KC_NAME] = kc_json_string(store, "CustomKeyStoreName");
  cur[KC_CLUSTER] = kc_json_string(store, "CloudHsmClusterId");
  cur[KC_ENDPOINT] = kc_json_string(xks, "UriEndpoint");
  cur[KC_PATH] = kc_json_string(xks, "UriPath");
  cur[KC_VPC_NAME] = kc_json_string(xks, "VpcEndpointServiceName");
  cur[KC_VPC_OWNER] = kc_json_string(xks, "VpcEndpointServiceOwner");
  cur[KC_AKID_FILE] = kc_json_string(xks, "AccessKeyId");
  cur[KC_CONNECTIVITY] = out->ctx.xks_proxy_connectivity;

  st = set(req, KMS_M_CUSTOM_KEY_STORE_ID, d->id, strlen(d->id), err);
  if (st != KMS_OK)
    return st;

  /* Plain settings: compared with what Describe shows. */
  for (f = 0; f < KC__COUNT; f++) {
    if (!d->value[f] || is_file_field((kc_field)f))
      continue;
    if (differs(d->value[f], cur[f]))
      note(out, (kc_field)f);
  }
  /* A switch of connectivity also sends the endpoint, and for a VPC the
   * service name (the API's rule), whether or not they change. */
  want_conn = d->value[KC_CONNECTIVITY];
  conn_change = want_conn && (out->fields & (1u << KC_CONNECTIVITY));
  if (conn_change && d->value[KC_ENDPOINT])
    note(out, KC_ENDPOINT);
  if (conn_change && strcmp(want_conn, "VPC_ENDPOINT_SERVICE") == 0 &&
      d->value[KC_VPC_NAME])
    note(out, KC_VPC_NAME);

  /* Secrets: the XKS key id against Describe, the others by hash. */
  if (d->value[KC_AKID_FILE] && s->value[KC_AKID_FILE] &&
      differs(s->value[KC_AKID_FILE], cur[KC_AKID_FILE]))
    cred_change = 1;
  if (d->value[KC_SECRET_FILE] && s->value[KC_SECRET_FILE] &&
      (!b->have[KC_SECRET_FILE] ||
       memcmp(b->hash[KC_SECRET_FILE], s->hash[KC_SECRET_FILE],
              KC_HASH_SIZE) != 0))
    cred_change = 1;
  if (cred_change) {
    if (d->value[KC_AKID_FILE])
      note(out, KC_AKID_FILE);
    if (d->value[KC_SECRET_FILE])
      note(out, KC_SECRET_FILE);
  }
  if (d->value[KC_PASSWORD_FILE] && s->value[KC_PASSWORD_FILE] &&
      (!b->have[KC_PASSWORD_FILE] ||
       memcmp(b->hash[KC_PASSWORD_FILE], s->hash[KC_PASSWORD_FILE],
              KC_HASH_SIZE) != 0))
    note(out, KC_PASSWORD_FILE);

  /* The request, in model order (kms_request_set encodes that way), and
   * the list of options that differ, in the same order. */
  for (f = 0; st == KMS_OK && f < KC__COUNT; f++) {
    if (!(out->fields & (1u << f)))
      continue;
    out->count++;
    n = strlen(out->changed);
    snprintf(out->changed + n, sizeof out->changed - n, "%s%s",
             n ? ", " : "", fields[f].option);
    if (is_file_field((kc_field)f))
      st = set(req, fields[f].member, s->value[f], s->len[f], err);
    else
      st = set(req, fields[f].member, d->value[f], strlen(d->value[f]), err);
  }
  return st;
}
/* }===== */
