/* kmscks.c - the collectd plugin: `LoadPlugin kmscks` and a
 * <Plugin kmscks> block with the global options of kmscks.so (Region,
 * EndpointURL, ...) and one <CustomKeyStore "cks-..."> block per store
 * holding its desired settings. Init validates every block with the core's
 * static rules; each read describes a store, dispatches its state, and
 * sends one UpdateCustomKeyStore when the settings differ and the store's
 * state allows the change (it never disconnects a store). Failures are
 * logged once per state change (c_complain_once / c_release). */
#include <collectd/core/daemon/collectd.h>
#include <collectd/core/daemon/plugin.h>
#include <collectd/core/daemon/utils_complain.h>
#include <collectd/core/daemon/utils_time.h>
#include <collectd/core/utils/common/common.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include "kc_store.h"
#include "plugin_int.h"

#define KC_PLUGIN "kmscks"

__attribute__((visibility("default"))) void module_register(void);

typedef struct kc_store {
  kc_desired d;
  kms_client *client;
  kc_baseline base;
  c_complain_t complaint;      /* the current problem, logged once */
  char complaint_key[192];     /* which problem: a new key logs anew */
  char state[32];              /* the last ConnectionState seen */
  unsigned char failed[SHA256_DIGEST_LENGTH]; /* last refused request */
  bool have_failed;
  int last_update;             /* 1 succeeded, -1 failed, 0 none yet */
} kc_store;

/* Set by the config callback, read-only once init has run. */
static kms_config *kc_cfg;
static int kc_log_level = KMS_LOG_INFO;
static bool kc_assume_in_sync = true;
static kc_store **kc_stores;
static size_t kc_stores_num;
static bool kc_registered; /* the stores belong to collectd's read list */

static const char *const kc_states[] = {"CONNECTED", "CONNECTING",
                                        "DISCONNECTED", "DISCONNECTING",
                                        "FAILED"};

/* {===== logging ===== */

/* The core's log sink. collectd as Debian builds it drops DEBUG, so with
 * LogLevel "debug" the core's trace (no secret in it) is logged as INFO. */
static void kc_core_log(void *ud, kms_log_level level, const char *msg)
{
  (void)ud;
  plugin_log(level == KMS_LOG_DEBUG ? LOG_INFO : (int)level,
             "kms plugin: %s", msg);
}

/* Reports a problem of st once: a different key (a new problem) resets
 * the complaint and logs again; the same key stays quiet. */
static void kc_problem(kc_store *st, int level, const char *key,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void kc_problem(kc_store *st, int level, const char *key,
                       const char *fmt, ...)
{
  char msg[1024];
  va_list ap;

  if (strcmp(st->complaint_key, key) != 0) {
    C_COMPLAIN_INIT(&st->complaint);
    sstrncpy(st->complaint_key, key, sizeof(st->complaint_key));
  }
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  c_complain_once(level, &st->complaint, "%s", msg);
}

/* The problem is over: one line says so (c_release logs only when a
 * complaint was made). */
static void kc_resolved(kc_store *st, const char *why)
{
  if (!st->complaint_key[0])
    return;
  c_release(LOG_INFO, &st->complaint, "kms plugin: store \"%s\": %s",
            st->d.id, why);
  st->complaint_key[0] = '\0';
}
/* }===== */

/* {===== configuration ===== */

static void kc_store_free(void *p)
{
  kc_store *st = p;
  if (!st)
    return;
  kms_client_free(st->client);
  kc_desired_free(&st->d);
  OPENSSL_cleanse(&st->base, sizeof(st->base));
  free(st);
}

/* A global option of kmscks.so, through the shared option table. */
static int kc_config_global(oconfig_item_t *ci)
{
  kms_plugin_value vals[4];
  kms_error e;
  int i, n = ci->values_num < 4 ? ci->values_num : 4;

  if (!kc_cfg) {
    kms_error_clear(&e);
    kc_cfg = kms_config_new(NULL, NULL, &e);
    if (!kc_cfg) {
      ERROR("kms plugin: %s", e.message);
      return -1;
    }
  }
  memset(vals, 0, sizeof(vals));
  for (i = 0; i < n; i++) {
    switch (ci->values[i].type) {
    case OCONFIG_TYPE_STRING:
      vals[i].type = KMS_PLUGIN_STRING;
      vals[i].string = ci->values[i].value.string;
      break;
    case OCONFIG_TYPE_NUMBER:
      vals[i].type = KMS_PLUGIN_NUMBER;
      vals[i].number = ci->values[i].value.number;
      break;
    default:
      vals[i].type = KMS_PLUGIN_BOOLEAN;
      vals[i].boolean = ci->values[i].value.boolean ? 1 : 0;
      break;
    }
  }
  kms_error_clear(&e);
  if (kmsp_config_option(kc_cfg, ci->key, vals, ci->values_num,
                         ci->children_num, &kc_log_level, &e) != KMS_OK) {
    ERROR("kms plugin: <Plugin kmscks>: option %s", e.message);
    return -1;
  }
  return 0;
}

static int kc_config_store(oconfig_item_t *ci)
{
  kc_store *st = NULL, **list;
  const char *id, *hint;
  oconfig_item_t *c;
  size_t i;
  int f, j;

  if (ci->values_num != 1 || ci->values[0].type != OCONFIG_TYPE_STRING ||
      !ci->values[0].value.string[0]) {
    ERROR("kms plugin: <CustomKeyStore>: expected one argument, the store "
          "id: <CustomKeyStore \"cks-...\">");
    return -1;
  }
  id = ci->values[0].value.string;
  for (i = 0; i < kc_stores_num; i++) {
    if (strcmp(kc_stores[i]->d.id, id) == 0) {
      ERROR("kms plugin: <CustomKeyStore \"%s\">: the store has two blocks",
            id);
      return -1;
    }
  }
  st = calloc(1, sizeof(*st));
  if (!st || !(st->d.id = strdup(id)))
    goto nomem;
  C_COMPLAIN_INIT(&st->complaint);
  for (j = 0; j < ci->children_num; j++) {
    c = ci->children + j;
    f = kc_field_lookup(c->key, &hint);
    if (f < 0) {
      ERROR("kms plugin: <CustomKeyStore \"%s\">: option %s: %s", id, c->key,
            hint ? hint : "unknown option");
      goto fail;
    }
    if (c->values_num != 1 || c->values[0].type != OCONFIG_TYPE_STRING ||
        c->children_num) {
      ERROR("kms plugin: <CustomKeyStore \"%s\">: option %s: expected one "
            "string", id, c->key);
      goto fail;
    }
    if (st->d.value[f]) {
      ERROR("kms plugin: <CustomKeyStore \"%s\">: option %s: given twice",
            id, c->key);
      goto fail;
    }
    st->d.value[f] = strdup(c->values[0].value.string);
    if (!st->d.value[f])
      goto nomem;
  }
  list = realloc(kc_stores, (kc_stores_num + 1) * sizeof(*list));
  if (!list)
    goto nomem;
  kc_stores = list;
  kc_stores[kc_stores_num++] = st;
  return 0;
nomem:
  ERROR("kms plugin: out of memory");
fail:
  kc_store_free(st);
  return -1;
}

static int kc_config(oconfig_item_t *ci)
{
  oconfig_item_t *c;
  int i;

  for (i = 0; i < ci->children_num; i++) {
    c = ci->children + i;
    if (strcasecmp("CustomKeyStore", c->key) == 0) {
      if (kc_config_store(c) != 0)
        return -1;
    } else if (strcasecmp("AssumeSecretsInSync", c->key) == 0) {
      if (c->values_num != 1 || c->values[0].type != OCONFIG_TYPE_BOOLEAN) {
        ERROR("kms plugin: <Plugin kmscks>: option AssumeSecretsInSync: "
              "expected a boolean");
        return -1;
      }
      kc_assume_in_sync = c->values[0].value.boolean;
    } else if (kmsp_config_is_option(c->key)) {
      if (kc_config_global(c) != 0)
        return -1;
    } else {
      ERROR("kms plugin: <Plugin kmscks>: option %s: unknown option", c->key);
      return -1;
    }
  }
  return 0;
}
/* }===== */

/* {===== init: every block validated before anything runs ===== */

/* The static rules over a block's whole desired state. Logs every
 * problem (block, option, rule, message). Returns 0 when none is an
 * error; takes the secrets' baseline. */
static int kc_validate_block(kc_store *st)
{
  const kms_problem *p;
  kms_problems *probs = NULL;
  kms_request *req = NULL;
  kc_secrets sec;
  kms_error e;
  size_t i, errors = 0;
  int rc = -1;

  kms_error_clear(&e);
  if (kc_secrets_read(&st->d, &sec, &e) != KMS_OK) {
    ERROR("kms plugin: <CustomKeyStore \"%s\">: option %s", st->d.id,
          e.message);
    return -1;
  }
  req = kms_request_new(NULL, NULL, &e);
  if (!req || kc_desired_request(&st->d, &sec, req, &e) != KMS_OK) {
    ERROR("kms plugin: <CustomKeyStore \"%s\">: %s", st->d.id, e.message);
    goto cleanup;
  }
  if (kms_request_validate(req, NULL, &probs, &e) == KMS_ERR_NOMEM) {
    ERROR("kms plugin: out of memory");
    goto cleanup;
  }
  for (i = 0; i < kms_problems_count(probs); i++) {
    p = kms_problems_at(probs, i);
    if (strcmp(p->code, "noop") == 0) {
      INFO("kms plugin: <CustomKeyStore \"%s\">: no desired setting: the "
           "store is only watched", st->d.id);
      continue;
    }
    if (p->severity == KMS_SEVERITY_ERROR)
      errors++;
    plugin_log(p->severity == KMS_SEVERITY_ERROR ? LOG_ERR : LOG_WARNING,
               "kms plugin: <CustomKeyStore \"%s\">: option %s: rule %s: %s",
               st->d.id, kc_member_option(p->member), p->code, p->message);
  }
  if (errors)
    goto cleanup;
  if (kc_assume_in_sync)
    kc_baseline_take(&st->base, &sec, ~0u);
  rc = 0;
cleanup:
  kms_problems_free(probs);
  kms_request_free(req);
  kc_secrets_free(&sec);
  return rc;
}

static int kc_read(user_data_t *ud);

static int kc_init(void)
{
  char name[DATA_MAX_NAME_LEN + 16];
  user_data_t ud;
  kms_error e;
  size_t i, bad = 0;

  kms_error_clear(&e);
  if (!kc_cfg && !(kc_cfg = kms_config_new(NULL, NULL, &e))) {
    ERROR("kms plugin: %s", e.message);
    return -1;
  }
  kms_config_set_log(kc_cfg, kc_core_log, NULL,
                     (kms_log_level)kc_log_level);
  for (i = 0; i < kc_stores_num; i++)
    if (kc_validate_block(kc_stores[i]) != 0)
      bad++;
  if (bad) {
    ERROR("kms plugin: %zu of %zu <CustomKeyStore> block(s) are not valid: "
          "not starting", bad, kc_stores_num);
    return -1;
  }
  /* One client per store: a read callback uses its own, so stores are
   * read in parallel on collectd's read threads. Created here, while
   * collectd is still single-threaded (libcurl's global init). */
  for (i = 0; i < kc_stores_num; i++) {
    kc_stores[i]->client = kms_client_new(kc_cfg, &e);
    if (!kc_stores[i]->client) {
      ERROR("kms plugin: <Plugin kmscks>: %s", e.message);
      return -1;
    }
  }
  for (i = 0; i < kc_stores_num; i++) {
    snprintf(name, sizeof(name), KC_PLUGIN "/%s", kc_stores[i]->d.id);
    memset(&ud, 0, sizeof(ud));
    ud.data = kc_stores[i];
    ud.free_func = kc_store_free;
    if (plugin_register_complex_read(KC_PLUGIN, name, kc_read, 0, &ud) != 0) {
      ERROR("kms plugin: cannot register the read callback %s", name);
      plugin_unregister_read_group(KC_PLUGIN);
      return -1;
    }
    kc_registered = true; /* collectd frees the stores from now on */
  }
  if (kc_stores_num)
    INFO("kms plugin: watching %zu custom key store(s) at %s (%s)",
         kc_stores_num, kms_client_endpoint(kc_stores[0]->client),
         kms_client_region(kc_stores[0]->client));
  else
    WARNING("kms plugin: no <CustomKeyStore> block: nothing to watch");
  return 0;
}

static int kc_shutdown(void)
{
  size_t i;
  if (!kc_registered)
    for (i = 0; i < kc_stores_num; i++)
      kc_store_free(kc_stores[i]);
  free(kc_stores);
  kc_stores = NULL;
  kc_stores_num = 0;
  kms_config_free(kc_cfg);
  kc_cfg = NULL;
  return 0;
}
/* }===== */

/* {===== read ===== */

static void kc_submit(const kc_store *st, const char *type,
                      const char *type_instance, gauge_t value)
{
  value_list_t vl = VALUE_LIST_INIT;
  value_t v = {.gauge = value};

  vl.values = &v;
  vl.values_len = 1;
  sstrncpy(vl.plugin, KC_PLUGIN, sizeof(vl.plugin));
  sstrncpy(vl.plugin_instance, st->d.id, sizeof(vl.plugin_instance));
  sstrncpy(vl.type, type, sizeof(vl.type));
  sstrncpy(vl.type_instance, type_instance, sizeof(vl.type_instance));
  plugin_dispatch_values(&vl);
}

/* The short name of a failure: the AWS type, else the status name. */
static const char *kc_what(const kms_error *e)
{
  return e->aws_type[0] ? e->aws_type : kms_strerror(e->status);
}

/* One state gauge per known state, 1 for the store's; a state change is
 * logged once. */
static void kc_submit_state(kc_store *st, const cJSON *store)
{
  const char *state = kc_json_string(store, "ConnectionState");
  const char *code = kc_json_string(store, "ConnectionErrorCode");
  char ti[DATA_MAX_NAME_LEN];
  size_t i;

  if (!state)
    state = "UNKNOWN";
  for (i = 0; i < STATIC_ARRAY_SIZE(kc_states); i++) {
    snprintf(ti, sizeof(ti), "state-%s", kc_states[i]);
    kc_submit(st, "gauge", ti, strcmp(state, kc_states[i]) == 0);
  }
  if (strcmp(st->state, state) != 0) {
    plugin_log(strcmp(state, "FAILED") == 0 ? LOG_WARNING : LOG_INFO,
               "kms plugin: store \"%s\": ConnectionState %s%s%s%s%s",
               st->d.id, st->state, st->state[0] ? " -> " : "", state,
               code ? ", ConnectionErrorCode " : "", code ? code : "");
    sstrncpy(st->state, state, sizeof(st->state));
  }
}

/* 1 when every error-severity problem is the state rule: the change is
 * fine, the store is not DISCONNECTED. */
static int kc_only_state_problems(const kms_problems *probs)
{
  const kms_problem *p;
  size_t i, n = 0;

  for (i = 0; i < kms_problems_count(probs); i++) {
    p = kms_problems_at(probs, i);
    if (p->severity != KMS_SEVERITY_ERROR)
      continue;
    if (strcmp(p->code, "context.state") != 0)
      return 0;
    n++;
  }
  return n > 0;
}

/* SHA-256 of body then state, into out. Returns 1 on success. */
static int kc_hash(const char *body, size_t len, const char *state,
                   unsigned char out[SHA256_DIGEST_LENGTH])
{
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
           EVP_DigestUpdate(md, body, len) == 1 &&
           EVP_DigestUpdate(md, state, strlen(state)) == 1 &&
           EVP_DigestFinal_ex(md, out, NULL) == 1;
  EVP_MD_CTX_free(md);
  return ok;
}

/* Sends the update in req when it may be sent. */
static void kc_apply(kc_store *st, kms_request *req, const kc_diff *diff,
                     const kc_secrets *sec)
{
  char key[192];
  const kms_problem *p;
  kms_problems *probs = NULL;
  unsigned char hash[SHA256_DIGEST_LENGTH];
  kms_buf body;
  kms_error e;
  cdtime_t t0;
  const char *state = diff->ctx.connection_state ? diff->ctx.connection_state
                                                 : "UNKNOWN";

  memset(&body, 0, sizeof(body));
  kms_error_clear(&e);
  /* Contextual rules: does the store's type and state allow it? */
  if (kms_request_validate(req, &diff->ctx, &probs, &e) != KMS_OK) {
    if (kc_only_state_problems(probs)) {
      snprintf(key, sizeof(key), "wait:%s:%x", state, diff->fields);
      kc_problem(st, LOG_WARNING, key, "kms plugin: store \"%s\": changing "
                 "%s needs the store DISCONNECTED (it is %s): waiting for a "
                 "disconnect; kmscks does not disconnect stores", st->d.id,
                 diff->changed, state);
    } else {
      p = NULL;
      for (size_t i = 0; i < kms_problems_count(probs); i++) {
        p = kms_problems_at(probs, i);
        if (p->severity == KMS_SEVERITY_ERROR &&
            strcmp(p->code, "context.state") != 0)
          break;
      }
      snprintf(key, sizeof(key), "invalid:%s:%s", p ? p->code : "",
               p ? p->member : "");
      kc_problem(st, LOG_ERR, key, "kms plugin: store \"%s\": the desired "
                 "settings do not fit the store: option %s: rule %s: %s",
                 st->d.id, kc_member_option(p ? p->member : ""),
                 p ? p->code : "?", p ? p->message : e.message);
    }
    goto cleanup;
  }
  /* The same request was refused before, nothing changed since: once. */
  if (kms_request_encode_body(req, &body, &e) != KMS_OK) {
    kc_problem(st, LOG_ERR, "encode", "kms plugin: store \"%s\": %s",
               st->d.id, e.message);
    goto cleanup;
  }
  if (!kc_hash(body.data, body.len, state, hash)) {
    kc_problem(st, LOG_ERR, "hash", "kms plugin: store \"%s\": SHA-256 "
               "failed", st->d.id);
    goto cleanup;
  }
  if (st->have_failed && memcmp(hash, st->failed, sizeof(hash)) == 0)
    goto cleanup;

  t0 = cdtime();
  if (kms_client_update_custom_key_store(st->client, req, &diff->ctx, &e) ==
      KMS_OK) {
    kc_submit(st, "latency", "update", CDTIME_T_TO_DOUBLE(cdtime() - t0));
    st->last_update = 1;
    st->have_failed = false;
    kc_baseline_take(&st->base, sec, diff->fields);
    INFO("kms plugin: store \"%s\": updated %s (request id %s, %d "
         "attempt%s)", st->d.id, diff->changed,
         e.request_id[0] ? e.request_id : "-", e.attempts,
         e.attempts == 1 ? "" : "s");
    kc_resolved(st, "the update went through");
  } else {
    kc_submit(st, "latency", "update", CDTIME_T_TO_DOUBLE(cdtime() - t0));
    st->last_update = -1;
    /* A retryable failure is tried again next interval; another one only
     * once something changes (settings, secrets or the store's state). */
    st->have_failed = !e.retryable;
    memcpy(st->failed, hash, sizeof(hash));
    snprintf(key, sizeof(key), "update:%s", kc_what(&e));
    kc_problem(st, LOG_ERR, key, "kms plugin: store \"%s\": "
               "UpdateCustomKeyStore (%s) failed: %s%s%s%s", st->d.id,
               diff->changed, e.message, e.request_id[0] ? " (request id "
               : "", e.request_id, e.request_id[0] ? ")" : "");
  }
cleanup:
  OPENSSL_cleanse(hash, sizeof(hash));
  kms_buf_free(&body);
  kms_problems_free(probs);
}

static int kc_read(user_data_t *ud)
{
  kc_store *st = ud->data;
  kms_request *req = NULL;
  cJSON *resp = NULL;
  const cJSON *store;
  kc_secrets sec;
  kc_diff diff;
  kms_buf out;
  kms_error e;
  cdtime_t t0;
  char key[192];
  int secrets_ok;

  memset(&out, 0, sizeof(out));
  kms_error_clear(&e);
  /* The secret files, read each time: a rotated file is a change. */
  secrets_ok = kc_secrets_read(&st->d, &sec, &e) == KMS_OK;
  if (!secrets_ok) {
    snprintf(key, sizeof(key), "files:%.150s", e.message);
    kc_problem(st, LOG_ERR, key, "kms plugin: store \"%s\": %s", st->d.id,
               e.message);
  }

  t0 = cdtime();
  if (kms_client_describe_custom_key_stores(st->client, st->d.id, NULL, &out,
                                            &e) != KMS_OK) {
    kc_submit(st, "latency", "describe", CDTIME_T_TO_DOUBLE(cdtime() - t0));
    snprintf(key, sizeof(key), "describe:%s", kc_what(&e));
    kc_problem(st, LOG_ERR, key, "kms plugin: store \"%s\": "
               "DescribeCustomKeyStores failed: %s", st->d.id, e.message);
    goto done;
  }
  kc_submit(st, "latency", "describe", CDTIME_T_TO_DOUBLE(cdtime() - t0));
  resp = cJSON_ParseWithLength(out.data, out.len);
  store = kc_find_store(resp, st->d.id);
  if (!store) {
    kc_problem(st, LOG_ERR, "describe:missing", "kms plugin: store \"%s\": "
               "not in the DescribeCustomKeyStores answer", st->d.id);
    goto done;
  }
  kc_submit_state(st, store);
  if (!secrets_ok)
    goto done;

  req = kms_request_new(NULL, NULL, &e);
  if (!req || kc_compute_diff(&st->d, &sec, &st->base, store, req, &diff,
                              &e) != KMS_OK) {
    kc_problem(st, LOG_ERR, "diff", "kms plugin: store \"%s\": %s",
               st->d.id, e.message);
    goto done;
  }
  kc_submit(st, "gauge", "in_sync", diff.count == 0);
  if (diff.count == 0) {
    st->have_failed = false;
    kc_resolved(st, "in sync with its desired settings");
    goto done;
  }
  kc_apply(st, req, &diff, &sec);
done:
  kc_submit(st, "gauge", "last_update", st->last_update);
  kms_request_free(req);
  cJSON_Delete(resp);
  kms_buf_free(&out);
  if (secrets_ok)
    kc_secrets_free(&sec);
  /* A failure was reported above, once: returning an error would make
   * collectd suspend this read with a doubling interval and a line per
   * suspension, the flood c_complain avoids. */
  return 0;
}
/* }===== */

void module_register(void)
{
  plugin_register_complex_config(KC_PLUGIN, kc_config);
  plugin_register_init(KC_PLUGIN, kc_init);
  plugin_register_shutdown(KC_PLUGIN, kc_shutdown);
}
