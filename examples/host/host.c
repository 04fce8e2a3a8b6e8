/* host.c - an example host for kmscks.so: dlopen the plugin, find its one
 * entry point, check the ABI, configure it from a file in the collectd
 * configuration syntax, then for each <Update "cks-..."> block validate
 * the request, describe the store and send the update with the store as
 * context (or only sign it, with DryRun true). It uses nothing but
 * kms/plugin.h: the host does not link libkmscks.
 *
 *   kmscks-host [--plugin PATH] CONFIG
 *
 * CONFIG (see kmscks-host.conf):
 *   PluginFile "/usr/lib/x86_64-linux-gnu/kmscks/kmscks.so"
 *   LogLevel "info"
 *   <Plugin kmscks>   Region, EndpointURL, CABundle, ... </Plugin>
 *   <Update "cks-...">
 *     NewCustomKeyStoreName "..."        any member, by its API name
 *     KeyStorePasswordFile "/path"       secrets come from files
 *     XksProxyAccessKeyIdFile "/path"
 *     XksProxySecretAccessKeyFile "/path"
 *     DryRun false
 *   </Update>
 *
 * Exit status: 0 all updates done, 1 an update failed, 2 bad usage or
 * configuration, 3 the plugin could not be loaded or its ABI does not
 * fit. */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "conf.h"
#include "kms/plugin.h"

/* {===== a growable string and a JSON string writer ===== */

typedef struct str {
  char *p;
  size_t n, cap;
  int oom;
} str;

static void str_add(str *s, const char *d, size_t n)
{
  char *np;
  if (s->oom)
    return;
  if (s->n + n + 1 > s->cap) {
    size_t cap = (s->n + n + 1) * 2;
    np = malloc(cap);
    if (!np) {
      s->oom = 1;
      return;
    }
    if (s->p) {
      memcpy(np, s->p, s->n);
      explicit_bzero(s->p, s->cap); /* it may hold a secret */
      free(s->p);
    }
    s->p = np;
    s->cap = cap;
  }
  memcpy(s->p + s->n, d, n);
  s->n += n;
  s->p[s->n] = '\0';
}

static void str_puts(str *s, const char *d)
{
  str_add(s, d, strlen(d));
}

static void str_free(str *s)
{
  if (s->p) {
    explicit_bzero(s->p, s->cap);
    free(s->p);
  }
  memset(s, 0, sizeof *s);
}

/* Appends d as a JSON string literal. */
static void json_string(str *s, const char *d)
{
  char esc[8];
  str_add(s, "\"", 1);
  for (; *d; d++) {
    unsigned char c = (unsigned char)*d;
    if (c == '"' || c == '\\') {
      esc[0] = '\\';
      esc[1] = (char)c;
      str_add(s, esc, 2);
    } else if (c < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04x", c);
      str_add(s, esc, 6);
    } else {
      str_add(s, d, 1);
    }
  }
  str_add(s, "\"", 1);
}
/* }===== */

/* {===== logging ===== */

static int host_log_level = 6;

static void host_log(void *ud, int level, const char *msg)
{
  static const char *const names[8] = {"emerg", "alert", "crit", "error",
                                       "warning", "notice", "info", "debug"};
  (void)ud;
  fprintf(stderr, "kmscks-host: [%s] %s\n",
          level >= 0 && level < 8 ? names[level] : "?", msg);
}

static void print_error(const char *id, const char *what,
                        const kms_plugin_error *e)
{
  printf("%s: %s failed: %s", id, what, e->code_name);
  if (e->aws_type[0])
    printf(" %s", e->aws_type);
  if (e->http_status)
    printf(" (HTTP %ld)", e->http_status);
  if (e->request_id[0])
    printf(" request id %s", e->request_id);
  printf(": %s\n", e->message);
}
/* }===== */

/* {===== building a request from an <Update> block ===== */

/* Reads a secret file (one trailing newline dropped) into out. */
static int read_secret(const char *path, str *out)
{
  char buf[4096];
  size_t n;
  FILE *f = fopen(path, "r");

  if (!f)
    return -1;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    str_add(out, buf, n);
  explicit_bzero(buf, sizeof buf);
  fclose(f);
  if (out->n && out->p[out->n - 1] == '\n')
    out->p[--out->n] = '\0';
  if (out->n && out->p[out->n - 1] == '\r')
    out->p[--out->n] = '\0';
  return out->oom ? -1 : 0;
}

/* Appends "key": <content of the file the option names> to json. */
static int secret_member(str *json, const char *key,
                         const kms_plugin_config_item *option, int *first)
{
  const char *path = conf_string(option);
  str secret = {0};
  if (!path || read_secret(path, &secret) != 0) {
    fprintf(stderr, "kmscks-host: %s: cannot read %s\n", option->key,
            path ? path : "(no path: expected one string)");
    str_free(&secret);
    return -1;
  }
  str_puts(json, *first ? "" : ", ");
  json_string(json, key);
  str_puts(json, ": ");
  json_string(json, secret.p ? secret.p : "");
  str_free(&secret);
  *first = 0;
  return 0;
}

/* The request JSON for <Update "id">: CustomKeyStoreId, then every
 * member in the block's order. The credential's halves go together. */
static int build_request(const kms_plugin_config_item *blk, str *json,
                         int *dry_run)
{
  const kms_plugin_config_item *it, *akid = NULL, *secret = NULL;
  const char *id = blk->values[0].string, *v;
  int i, first = 0, cred_first = 1;

  *dry_run = 0;
  str_puts(json, "{");
  json_string(json, "CustomKeyStoreId");
  str_puts(json, ": ");
  json_string(json, id);
  for (i = 0; i < blk->children_num; i++) {
    it = &blk->children[i];
    if (strcasecmp(it->key, "DryRun") == 0) {
      if (it->values_num != 1 || it->values[0].type != KMS_PLUGIN_BOOLEAN) {
        fprintf(stderr, "kmscks-host: <Update \"%s\"> DryRun: expected a "
                "boolean\n", id);
        return -1;
      }
      *dry_run = it->values[0].boolean;
      continue;
    }
    if (strcasecmp(it->key, "XksProxyAccessKeyIdFile") == 0) {
      akid = it;
      continue;
    }
    if (strcasecmp(it->key, "XksProxySecretAccessKeyFile") == 0) {
      secret = it;
      continue;
    }
    if (strcasecmp(it->key, "KeyStorePasswordFile") == 0) {
      if (secret_member(json, "KeyStorePassword", it, &first))
        return -1;
      continue;
    }
    v = conf_string(it);
    if (!v) {
      fprintf(stderr, "kmscks-host: <Update \"%s\"> %s: expected one "
              "string\n", id, it->key);
      return -1;
    }
    str_puts(json, ", ");
    json_string(json, it->key); /* the plugin refuses an unknown member */
    str_puts(json, ": ");
    json_string(json, v);
  }
  if (akid || secret) {
    str_puts(json, ", \"XksProxyAuthenticationCredential\": {");
    if (akid && secret_member(json, "AccessKeyId", akid, &cred_first))
      return -1;
    if (secret && secret_member(json, "RawSecretAccessKey", secret,
                                &cred_first))
      return -1;
    str_puts(json, "}");
  }
  str_puts(json, "}");
  return json->oom ? -1 : 0;
}

/* The value of "key": "..." in a JSON text, for printing only (the
 * plugin reads the JSON itself). */
static void json_peek(const char *json, const char *key, char *out,
                      size_t size)
{
  char pat[64];
  const char *p, *e;

  snprintf(pat, sizeof pat, "\"%s\": \"", key);
  p = json ? strstr(json, pat) : NULL;
  if (!p) {
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    p = json ? strstr(json, pat) : NULL;
  }
  out[0] = '\0';
  if (!p)
    return;
  p += strlen(pat);
  e = strchr(p, '"');
  if (e && (size_t)(e - p) < size)
    snprintf(out, size, "%.*s", (int)(e - p), p);
}
/* }===== */

/* Runs one <Update> block. Returns 0 when it was done. */
static int run_update(const kms_plugin_ops *ops, kms_plugin_instance *inst,
                      const kms_plugin_config_item *blk)
{
  kms_plugin_error err = KMS_PLUGIN_ERROR_INIT;
  const char *id = blk->values[0].string;
  char *problems = NULL, *store = NULL, *signed_msg = NULL;
  char state[64], type[64], method[16], url[256];
  str json = {0};
  int dry_run = 0, rc = 1;

  if (build_request(blk, &json, &dry_run) != 0)
    goto cleanup;

  /* 1. Static rules, every problem at once. */
  if (ops->validate(inst, json.p, NULL, &problems, &err) != 0 &&
      err.code != KMS_ERR_VALIDATION) {
    print_error(id, "validate", &err);
    goto cleanup;
  }
  printf("%s: validate: %s\n", id, problems ? problems : "[]");
  if (err.code == KMS_ERR_VALIDATION) {
    print_error(id, "validate", &err);
    goto cleanup;
  }

  if (dry_run) {
    /* 2'. Sign only: what a host with its own HTTP client would send. */
    if (ops->sign(inst, "UpdateCustomKeyStore", json.p, 0, &signed_msg,
                  &err) != 0) {
      print_error(id, "sign", &err);
      goto cleanup;
    }
    json_peek(signed_msg, "method", method, sizeof method);
    json_peek(signed_msg, "url", url, sizeof url);
    printf("%s: dry run: signed %s %s (not sent)\n", id, method, url);
    rc = 0;
    goto cleanup;
  }

  /* 2. The store as it is: its type and state feed the context rules. */
  if (ops->describe(inst, id, &store, &err) != 0) {
    print_error(id, "describe", &err);
    goto cleanup;
  }
  json_peek(store, "CustomKeyStoreType", type, sizeof type);
  json_peek(store, "ConnectionState", state, sizeof state);
  printf("%s: store %s, %s\n", id, type, state);

  /* 3. Update, with the describe answer as the store context. */
  if (ops->update(inst, json.p, store, &err) != 0) {
    print_error(id, "update", &err);
    goto cleanup;
  }
  printf("%s: update: ok (%d attempt%s)\n", id, err.attempts,
         err.attempts == 1 ? "" : "s");
  rc = 0;
cleanup:
  ops->free_string(inst, problems);
  ops->free_string(inst, store);
  ops->free_string(inst, signed_msg);
  str_free(&json);
  return rc;
}

int main(int argc, char **argv)
{
  kms_plugin_error err = KMS_PLUGIN_ERROR_INIT;
  kms_plugin_config_item *root = NULL;
  const kms_plugin_config_item *plugin_blk, *it;
  const kms_plugin_ops *ops = NULL;
  kms_plugin_instance *inst = NULL;
  kms_plugin_entry_fn entry;
  kms_plugin_host host;
  const char *plugin_path = NULL, *conf_path, *level;
  char msg[512];
  void *dl = NULL;
  int i, argi = 1, rc = 2, updates = 0, failures = 0;

  if (argc >= 3 && strcmp(argv[1], "--plugin") == 0) {
    plugin_path = argv[2];
    argi = 3;
  }
  if (argc != argi + 1) {
    fprintf(stderr, "usage: kmscks-host [--plugin PATH] CONFIG\n");
    return 2;
  }
  conf_path = argv[argi];
  root = conf_load(conf_path, msg, sizeof msg);
  if (!root) {
    fprintf(stderr, "kmscks-host: %s\n", msg);
    return 2;
  }
  if (!plugin_path)
    plugin_path = conf_string(conf_find(root, "PluginFile", NULL));
  if (!plugin_path) {
    fprintf(stderr, "kmscks-host: no plugin: give --plugin or PluginFile\n");
    goto cleanup;
  }
  level = conf_string(conf_find(root, "LogLevel", NULL));
  if (level)
    host_log_level = strcasecmp(level, "debug") == 0     ? 7
                     : strcasecmp(level, "warning") == 0 ? 4
                     : strcasecmp(level, "error") == 0   ? 3
                                                         : 6;

  /* Load the plugin and find its one entry point. RTLD_NOW: fail here on
   * a missing symbol, not in the middle of a call. */
  rc = 3;
  dl = dlopen(plugin_path, RTLD_NOW | RTLD_LOCAL);
  if (!dl) {
    fprintf(stderr, "kmscks-host: dlopen: %s\n", dlerror());
    goto cleanup;
  }
  dlerror();
  *(void **)&entry = dlsym(dl, KMS_PLUGIN_ENTRY);
  if (!entry) {
    fprintf(stderr, "kmscks-host: dlsym %s: %s\n", KMS_PLUGIN_ENTRY,
            dlerror());
    goto cleanup;
  }
  ops = entry(KMS_PLUGIN_ABI_MAJOR, KMS_PLUGIN_ABI_MINOR, &err);
  if (!ops) {
    fprintf(stderr, "kmscks-host: %s\n", err.message);
    goto cleanup;
  }
  /* The table must be this major version and long enough for every
   * operation this host calls. */
  if (ops->abi_major != KMS_PLUGIN_ABI_MAJOR ||
      !KMS_PLUGIN_HAS(ops, create) || !KMS_PLUGIN_HAS(ops, configure_tree) ||
      !KMS_PLUGIN_HAS(ops, validate) || !KMS_PLUGIN_HAS(ops, sign) ||
      !KMS_PLUGIN_HAS(ops, describe) || !KMS_PLUGIN_HAS(ops, update) ||
      !KMS_PLUGIN_HAS(ops, free_string) || !KMS_PLUGIN_HAS(ops, destroy)) {
    fprintf(stderr, "kmscks-host: the plugin's ABI %u.%u (table of %zu "
            "bytes) lacks what this host needs\n", (unsigned)ops->abi_major,
            (unsigned)ops->abi_minor, ops->struct_size);
    goto cleanup;
  }
  printf("plugin: %s %s, ABI %u.%u (host built for %d.%d), table %zu "
         "bytes\n", ops->name, ops->version, (unsigned)ops->abi_major,
         (unsigned)ops->abi_minor, KMS_PLUGIN_ABI_MAJOR, KMS_PLUGIN_ABI_MINOR,
         ops->struct_size);

  /* Register: what the host offers (its name and log sink). */
  memset(&host, 0, sizeof host);
  host.abi_major = KMS_PLUGIN_ABI_MAJOR;
  host.abi_minor = KMS_PLUGIN_ABI_MINOR;
  host.struct_size = sizeof host;
  host.host_name = "kmscks-host";
  host.log = host_log;
  host.log_level = host_log_level;
  inst = ops->create(&host, &err);
  if (!inst) {
    fprintf(stderr, "kmscks-host: create: %s\n", err.message);
    goto cleanup;
  }

  rc = 2;
  plugin_blk = conf_find(root, "Plugin", "kmscks");
  if (!plugin_blk) {
    fprintf(stderr, "kmscks-host: %s: no <Plugin kmscks> block\n", conf_path);
    goto cleanup;
  }
  if (ops->configure_tree(inst, plugin_blk, &err) != 0) {
    fprintf(stderr, "kmscks-host: configure: %s: %s\n", err.code_name,
            err.message);
    goto cleanup;
  }
  printf("configured from %s\n", conf_path);

  for (i = 0; i < root->children_num; i++) {
    it = &root->children[i];
    if (strcasecmp(it->key, "Update") != 0)
      continue;
    if (it->values_num != 1 || it->values[0].type != KMS_PLUGIN_STRING) {
      fprintf(stderr, "kmscks-host: <Update> needs one store id\n");
      goto cleanup;
    }
    updates++;
    if (run_update(ops, inst, it) != 0)
      failures++;
  }
  printf("%d update(s), %d failed\n", updates, failures);
  rc = failures ? 1 : 0;
cleanup:
  if (ops && inst)
    ops->destroy(inst);
  if (dl)
    dlclose(dl);
  conf_free(root);
  return rc;
}
