/* kc_store.h - the collectd plugin's desired-state logic, free of collectd
 * headers (so tests/collectd can test it without the daemon): the options
 * of a <CustomKeyStore "cks-..."> block, the secrets read from files, the
 * full desired request (for the init-time static validation), and the
 * difference between the desired settings and a DescribeCustomKeyStores
 * entry, as the UpdateCustomKeyStore request that would remove it.
 *
 * What "differs" means for secrets. Describe returns the XKS AccessKeyId
 * but never a secret, so:
 *   - XksProxyAccessKeyIdFile differs when its content is not the store's
 *     XksProxyConfiguration.AccessKeyId;
 *   - XksProxySecretAccessKeyFile and KeyStorePasswordFile differ when the
 *     SHA-256 of their content is not the baseline: the hash of what the
 *     last successful update sent, or, before any, the hash of the file at
 *     start-up when AssumeSecretsInSync is true (the default: a restart
 *     does not push secrets), or nothing when it is false (the first read
 *     sends them once).
 *   - A credential change always sends both halves (the API replaces the
 *     whole structure).
 * Hashes live in memory only; a secret is never logged or compared in
 * clear text with anything but the file it came from. */
#ifndef KC_STORE_H
#define KC_STORE_H

#include <stddef.h>
#include <cJSON.h>
#include "kms/kms.h"

typedef enum kc_field {
  KC_NAME = 0,      /* CustomKeyStoreName -> NewCustomKeyStoreName */
  KC_CLUSTER,       /* CloudHsmClusterId */
  KC_PASSWORD_FILE, /* KeyStorePasswordFile -> KeyStorePassword */
  KC_ENDPOINT,      /* XksProxyUriEndpoint */
  KC_PATH,          /* XksProxyUriPath */
  KC_VPC_NAME,      /* XksProxyVpcEndpointServiceName */
  KC_VPC_OWNER,     /* XksProxyVpcEndpointServiceOwner */
  KC_AKID_FILE,     /* XksProxyAccessKeyIdFile -> credential.AccessKeyId */
  KC_SECRET_FILE,   /* XksProxySecretAccessKeyFile -> .RawSecretAccessKey */
  KC_CONNECTIVITY,  /* XksProxyConnectivity */
  KC__COUNT
} kc_field;

#define KC_HASH_SIZE 32

/* The settings of one block. value[f] NULL: not managed. */
typedef struct kc_desired {
  char *id;
  char *value[KC__COUNT];
} kc_desired;

/* The block's option name of a field ("XksProxyUriPath"). */
const char *kc_field_option(kc_field f);

/* The field an option names (case-insensitive), or -1. *hint receives a
 * message for an option that is refused on purpose (an inline secret,
 * NewCustomKeyStoreName), else NULL. */
int kc_field_lookup(const char *option, const char **hint);

/* The option to blame for a problem on a member path
 * ("XksProxyAuthenticationCredential.AccessKeyId" ->
 * "XksProxyAccessKeyIdFile"); "(block)" for "". */
const char *kc_member_option(const char *member);

void kc_desired_free(kc_desired *d);

/* The secrets of a block, read from their files. */
typedef struct kc_secrets {
  char *value[KC__COUNT];  /* only the three *File fields */
  size_t len[KC__COUNT];
  unsigned char hash[KC__COUNT][KC_HASH_SIZE];
} kc_secrets;

/* Reads every *File of d. On failure err names the option and file. */
kms_status kc_secrets_read(const kc_desired *d, kc_secrets *s,
                           kms_error *err);
void kc_secrets_free(kc_secrets *s); /* wipes */

/* The hashes of the secrets in sync with the store. */
typedef struct kc_baseline {
  unsigned char hash[KC__COUNT][KC_HASH_SIZE];
  int have[KC__COUNT];
} kc_baseline;

/* Records the current secrets as in sync (start-up, or after a
 * successful update that sent them: fields is a bit set of kc_field). */
void kc_baseline_take(kc_baseline *b, const kc_secrets *s, unsigned fields);

/* Every managed setting as one request with CustomKeyStoreId = d->id:
 * what the init-time static validation checks. */
kms_status kc_desired_request(const kc_desired *d, const kc_secrets *s,
                              kms_request *req, kms_error *err);

/* The result of comparing a block with its store. */
typedef struct kc_diff {
  int count;               /* members to change; 0: in sync */
  unsigned fields;         /* bit set of the kc_fields that differ */
  char changed[256];       /* "CustomKeyStoreName, XksProxyUriPath" */
  kms_store_context ctx;   /* borrowed from the cJSON store entry */
} kc_diff;

/* The store entry for d->id in a DescribeCustomKeyStores response, or
 * NULL. */
const cJSON *kc_find_store(const cJSON *response, const char *id);

/* Compares d (with its secrets s and baseline b) with store and sets on
 * req (a fresh request) CustomKeyStoreId and the members to change.
 * A connectivity change also sends the endpoint (and, to
 * VPC_ENDPOINT_SERVICE, the service name), as the API requires. */
kms_status kc_compute_diff(const kc_desired *d, const kc_secrets *s,
                           const kc_baseline *b, const cJSON *store,
                           kms_request *req, kc_diff *out, kms_error *err);

/* A string member of obj, or NULL. */
const char *kc_json_string(const cJSON *obj, const char *key);

#endif
