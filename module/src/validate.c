/* validate.c - the rules an UpdateCustomKeyStore request must follow, all
 * checked at once: static ones (UTF-8, lengths, patterns, the enum, both
 * halves of the credential, no CloudHSM/XKS mix, connectivity switches,
 * no-op) and contextual ones (the store's type and connection state). */
#include <stdio.h>
#include <string.h>
#include "internal.h"
#include "request_int.h"

#define CREDENTIAL "XksProxyAuthenticationCredential"

/* {=====================================================================
 * The problem list
 * ===================================================================== */

struct kms_problems {
  kmsi_allocator a;
  kms_problem *items;
  size_t count, cap, errors;
  int nomem;                     /* an add failed: the list is incomplete */
};

/* Appends a problem; member ("" for the whole request) prefixes the
 * message as "Member: ". On allocation failure only p->nomem is set, and
 * the caller reports KMS_ERR_NOMEM at the end. */
static void add(kms_problems *p, kms_severity sev, const char *code,
                const char *member, const char *fmt, ...) KMSI_PRINTF(5, 6);

static void add(kms_problems *p, kms_severity sev, const char *code,
                const char *member, const char *fmt, ...)
{
  kms_problem *pr;
  va_list ap;
  size_t used = 0;

  if (p->nomem)
    return;
  if (p->count == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 8;
    kms_problem *items = kmsi_malloc(&p->a, cap * sizeof *items);
    if (!items) {
      p->nomem = 1;
      return;
    }
    if (p->count)
      memcpy(items, p->items, p->count * sizeof *items);
    kmsi_free(&p->a, p->items, p->cap * sizeof *items);
    p->items = items;
    p->cap = cap;
  }
  pr = &p->items[p->count++];
  pr->severity = sev;
  pr->code = code;
  pr->member = member;
  if (member[0]) {
    int n = snprintf(pr->message, sizeof pr->message, "%s: ", member);
    used = n > 0 ? (size_t)n : 0;
  }
  va_start(ap, fmt);
  vsnprintf(pr->message + used, sizeof pr->message - used, fmt, ap);
  va_end(ap);
  if (sev == KMS_SEVERITY_ERROR)
    p->errors++;
}

size_t kms_problems_count(const kms_problems *p)
{
  return p ? p->count : 0;
}

const kms_problem *kms_problems_at(const kms_problems *p, size_t i)
{
  if (!p || i >= p->count)
    return NULL;
  return &p->items[i];
}

size_t kms_problems_error_count(const kms_problems *p)
{
  return p ? p->errors : 0;
}

void kms_problems_free(kms_problems *p)
{
  kmsi_allocator a;
  if (!p)
    return;
  a = p->a;
  kmsi_free(&a, p->items, p->cap * sizeof *p->items);
  kmsi_free(&a, p, sizeof *p);
}

/* {=====================================================================
 * Static rules
 * ===================================================================== */

/* Lengths and patterns of the model, in model order. The patterns are
 * full matches (as the service applies them), including the unanchored
 * CloudHsmClusterId and account id patterns. */
typedef struct member_rule {
  kms_member m;
  size_t min, max;
  const char *pattern;           /* the model's text, for messages */
  int (*match)(const char *s, size_t len);
} member_rule;

static const member_rule rules[] = {
  {KMS_M_CUSTOM_KEY_STORE_ID, 1, 64, NULL, NULL},
  {KMS_M_NEW_CUSTOM_KEY_STORE_NAME, 1, 256, NULL, NULL},
  {KMS_M_KEY_STORE_PASSWORD, 7, 32, NULL, NULL},
  {KMS_M_CLOUD_HSM_CLUSTER_ID, 19, 24, "cluster-[2-7a-zA-Z]{11,16}",
   kmsi_match_cluster_id},
  {KMS_M_XKS_PROXY_URI_ENDPOINT, 10, 128, "^https://[a-zA-Z0-9.-]+$",
   kmsi_match_xks_uri_endpoint},
  {KMS_M_XKS_PROXY_URI_PATH, 10, 128,
   "^(/[a-zA-Z0-9\\/_-]+/kms/xks/v\\d{1,2})$|^(/kms/xks/v\\d{1,2})$",
   kmsi_match_xks_uri_path},
  {KMS_M_XKS_PROXY_VPC_ENDPOINT_SERVICE_NAME, 20, 64,
   "^(com|eu)\\.amazonaws\\.vpce\\.([a-z]+-){2,3}\\d+\\.vpce-svc-[0-9a-z]+$",
   kmsi_match_vpc_service_name},
  {KMS_M_XKS_PROXY_VPC_ENDPOINT_SERVICE_OWNER, 12, 12, "[0-9]{12}",
   kmsi_match_account_id},
  {KMS_M_XKS_ACCESS_KEY_ID, 20, 30, "^[A-Z2-7]+$",
   kmsi_match_xks_access_key_id},
  {KMS_M_XKS_RAW_SECRET_ACCESS_KEY, 43, 64, "^[a-zA-Z0-9\\/+=]+$",
   kmsi_match_xks_secret},
};

typedef enum conn {
  CONN_UNKNOWN = 0,
  CONN_PUBLIC,
  CONN_VPC,
  CONN_INVALID
} conn;

static conn parse_conn(const char *s, size_t len)
{
  if (!s)
    return CONN_UNKNOWN;
  if (len == 15 && memcmp(s, "PUBLIC_ENDPOINT", 15) == 0)
    return CONN_PUBLIC;
  if (len == 20 && memcmp(s, "VPC_ENDPOINT_SERVICE", 20) == 0)
    return CONN_VPC;
  return CONN_INVALID;
}

static const char *conn_name(conn c)
{
  return c == CONN_PUBLIC ? "PUBLIC_ENDPOINT" : "VPC_ENDPOINT_SERVICE";
}

/* What validation works from: values (read from the request once),
 * and connectivity as the request sets it, as the context says the store
 * has it, and the one in effect after the update. */
typedef struct view {
  const kms_request *req;
  const kms_store_context *ctx;
  const char *value[KMS_M__COUNT];  /* NULL: absent */
  size_t len[KMS_M__COUNT];
  int cred_present;
  conn req_conn, ctx_conn, eff_conn;
  int ctx_conn_bad;              /* the context's value is not an enum one */
} view;

static const char *val(const view *v, kms_member m, size_t *len)
{
  *len = v->len[m];
  return v->value[m];
}

static int has(const view *v, kms_member m)
{
  return v->value[m] != NULL;
}

/* utf8, length.min, length.max and pattern for one member. Secret values
 * are never echoed: their messages name the rule only. */
static void check_member(kms_problems *p, const view *v, const member_rule *r)
{
  const char *name, *s;
  size_t len, n;
  char shown[100];

  s = val(v, r->m, &len);
  if (!s)
    return;
  name = kms_member_name(r->m);
  /* An empty service name clears it when the store goes (or is)
     PUBLIC_ENDPOINT: the API docs ask for exactly that. */
  if (r->m == KMS_M_XKS_PROXY_VPC_ENDPOINT_SERVICE_NAME && len == 0 &&
      v->eff_conn == CONN_PUBLIC)
    return;
  if (!kmsi_utf8_valid(s, len))
    add(p, KMS_SEVERITY_ERROR, "utf8", name, "not valid UTF-8");
  n = kmsi_utf8_length(s, len);
  if (n < r->min)
    add(p, KMS_SEVERITY_ERROR, "length.min", name,
        "length %zu is below the minimum of %zu", n, r->min);
  if (n > r->max)
    add(p, KMS_SEVERITY_ERROR, "length.max", name,
        "length %zu is above the maximum of %zu", n, r->max);
  if (r->match && !r->match(s, len)) {
    if (kms_member_is_secret(r->m)) {
      add(p, KMS_SEVERITY_ERROR, "pattern", name,
          "value does not match %s", r->pattern);
    } else {
      kmsi_quote_printable(shown, sizeof shown, s, len);
      add(p, KMS_SEVERITY_ERROR, "pattern", name, "%s does not match %s",
          shown, r->pattern);
    }
  }
}

static void check_members(kms_problems *p, const view *v)
{
  size_t i;
  const char *s;
  size_t len;
  char shown[100];

  if (!has(v, KMS_M_CUSTOM_KEY_STORE_ID))
    add(p, KMS_SEVERITY_ERROR, "required", "CustomKeyStoreId",
        "missing; it is required");
  for (i = 0; i < sizeof rules / sizeof rules[0]; i++) {
    kms_member m = rules[i].m;
    if ((m == KMS_M_XKS_ACCESS_KEY_ID ||
         m == KMS_M_XKS_RAW_SECRET_ACCESS_KEY) &&
        v->cred_present && !has(v, m))
      add(p, KMS_SEVERITY_ERROR, "credential.incomplete",
          kms_member_name(m),
          "missing; the credential needs both AccessKeyId and "
          "RawSecretAccessKey");
    check_member(p, v, &rules[i]);
  }
  s = val(v, KMS_M_XKS_PROXY_CONNECTIVITY, &len);
  if (s && v->req_conn == CONN_INVALID) {
    if (!kmsi_utf8_valid(s, len))
      add(p, KMS_SEVERITY_ERROR, "utf8", "XksProxyConnectivity",
          "not valid UTF-8");
    kmsi_quote_printable(shown, sizeof shown, s, len);
    add(p, KMS_SEVERITY_ERROR, "enum", "XksProxyConnectivity",
        "%s is not one of PUBLIC_ENDPOINT, VPC_ENDPOINT_SERVICE", shown);
  }
}

/* CloudHSM-only and XKS-only members, in model order. */
static const kms_member hsm_members[] = {
  KMS_M_KEY_STORE_PASSWORD, KMS_M_CLOUD_HSM_CLUSTER_ID,
};

/* The credential stands for the whole structure here. */
static const kms_member xks_members[] = {
  KMS_M_XKS_PROXY_URI_ENDPOINT, KMS_M_XKS_PROXY_URI_PATH,
  KMS_M_XKS_PROXY_VPC_ENDPOINT_SERVICE_NAME,
  KMS_M_XKS_PROXY_VPC_ENDPOINT_SERVICE_OWNER, KMS_M_XKS_ACCESS_KEY_ID,
  KMS_M_XKS_PROXY_CONNECTIVITY,
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Presence of a member of hsm_members/xks_members, and the name problems
 * use for it. */
static int present(const view *v, kms_member m)
{
  if (m == KMS_M_XKS_ACCESS_KEY_ID)
    return v->cred_present;
  return has(v, m);
}

static const char *top_name(kms_member m)
{
  return m == KMS_M_XKS_ACCESS_KEY_ID ? CREDENTIAL : kms_member_name(m);
}

static void check_mix(kms_problems *p, const view *v)
{
  const char *xks = NULL;
  size_t i;

  for (i = 0; i < COUNT(xks_members) && !xks; i++)
    if (present(v, xks_members[i]))
      xks = top_name(xks_members[i]);
  if (!xks)
    return;
  for (i = 0; i < COUNT(hsm_members); i++)
    if (present(v, hsm_members[i]))
      add(p, KMS_SEVERITY_ERROR, "type.mixed",
          kms_member_name(hsm_members[i]),
          "a CloudHSM key store member cannot be combined with %s, an "
          "external key store member", xks);
}

/* The XksProxyConnectivity rules of the API docs. A switch is a request
 * connectivity that differs from the store's (or the store's is not
 * known): to VPC_ENDPOINT_SERVICE it needs a new endpoint and a service
 * name, to PUBLIC_ENDPOINT a new endpoint. Whenever the request says
 * PUBLIC_ENDPOINT the service name must be absent or empty. A service name
 * or owner with PUBLIC_ENDPOINT in effect is a mismatch; with no known
 * connectivity it is a warning, since nothing here can tell. */
static void check_connectivity(kms_problems *p, const view *v)
{
  size_t len;
  const char *svc = val(v, KMS_M_XKS_PROXY_VPC_ENDPOINT_SERVICE_NAME, &len);
  int owner = has(v, KMS_M_XKS_PROXY_VPC_ENDPOINT_SERVICE_OWNER);
  const char *svc_name = "XksProxyVpcEndpointServiceName";
  const char *owner_name = "XksProxyVpcEndpointServiceOwner";
  int sw = (v->req_conn == CONN_PUBLIC || v->req_conn == CONN_VPC) &&
           v->req_conn != v->ctx_conn;

  if (sw && !has(v, KMS_M_XKS_PROXY_URI_ENDPOINT))
    add(p, KMS_SEVERITY_ERROR,
        v->req_conn == CONN_VPC ? "connectivity.vpc" : "connectivity.public",
        "XksProxyUriEndpoint",
        "switching XksProxyConnectivity to %s needs a new "
        "XksProxyUriEndpoint", conn_name(v->req_conn));
  if (sw && v->req_conn == CONN_VPC && !svc)
    add(p, KMS_SEVERITY_ERROR, "connectivity.vpc", svc_name,
        "switching XksProxyConnectivity to VPC_ENDPOINT_SERVICE needs an "
        "XksProxyVpcEndpointServiceName");
  if (v->req_conn == CONN_PUBLIC && svc && len > 0)
    add(p, KMS_SEVERITY_ERROR, "connectivity.public", svc_name,
        "must be null or empty when XksProxyConnectivity is "
        "PUBLIC_ENDPOINT");
  if (v->req_conn != CONN_PUBLIC && v->eff_conn == CONN_PUBLIC && svc &&
      len > 0)
    add(p, KMS_SEVERITY_ERROR, "connectivity.mismatch", svc_name,
        "valid only with VPC_ENDPOINT_SERVICE connectivity, and the key "
        "store's is PUBLIC_ENDPOINT");
  if (v->eff_conn == CONN_PUBLIC && owner)
    add(p, KMS_SEVERITY_ERROR, "connectivity.mismatch", owner_name,
        "valid only with VPC_ENDPOINT_SERVICE connectivity, and the "
        "connectivity is PUBLIC_ENDPOINT");
  if (v->eff_conn == CONN_UNKNOWN) {
    if (svc)
      add(p, KMS_SEVERITY_WARNING, "connectivity.unknown", svc_name,
          "valid only with VPC_ENDPOINT_SERVICE connectivity, which neither "
          "the request nor the context gives");
    if (owner)
      add(p, KMS_SEVERITY_WARNING, "connectivity.unknown", owner_name,
          "valid only with VPC_ENDPOINT_SERVICE connectivity, which neither "
          "the request nor the context gives");
  }
}

/* {=====================================================================
 * Contextual rules
 * ===================================================================== */

/* Which connection states allow changing a member, from the current API
 * docs: the name while CONNECTED or DISCONNECTED (both store types); the
 * XKS credential and XksProxyUriPath likewise; everything else only while
 * DISCONNECTED. Any other state (CONNECTING, DISCONNECTING, FAILED, or one
 * this library does not know) allows nothing: a FAILED store must be
 * disconnected first, so "needs DISCONNECTED" is the advice for every
 * member there. */
static int connected_ok(kms_member m)
{
  return m == KMS_M_NEW_CUSTOM_KEY_STORE_NAME ||
         m == KMS_M_XKS_PROXY_URI_PATH || m == KMS_M_XKS_ACCESS_KEY_ID;
}

static const kms_member all_changes[] = {
  KMS_M_NEW_CUSTOM_KEY_STORE_NAME, KMS_M_KEY_STORE_PASSWORD,
  KMS_M_CLOUD_HSM_CLUSTER_ID, KMS_M_XKS_PROXY_URI_ENDPOINT,
  KMS_M_XKS_PROXY_URI_PATH, KMS_M_XKS_PROXY_VPC_ENDPOINT_SERVICE_NAME,
  KMS_M_XKS_PROXY_VPC_ENDPOINT_SERVICE_OWNER, KMS_M_XKS_ACCESS_KEY_ID,
  KMS_M_XKS_PROXY_CONNECTIVITY,
};

static int is_known_state(const char *s)
{
  static const char *const states[] = {
    "CONNECTED", "CONNECTING", "FAILED", "DISCONNECTED", "DISCONNECTING",
  };
  size_t i;
  for (i = 0; i < COUNT(states); i++)
    if (strcmp(s, states[i]) == 0)
      return 1;
  return 0;
}

static void check_context(kms_problems *p, const view *v)
{
  const kms_store_context *ctx = v->ctx;
  const char *type = ctx ? ctx->custom_key_store_type : NULL;
  const char *state = ctx ? ctx->connection_state : NULL;
  char shown[100];
  size_t i;

  if (v->ctx_conn_bad) {
    kmsi_quote_printable(shown, sizeof shown, ctx->xks_proxy_connectivity,
                         strlen(ctx->xks_proxy_connectivity));
    add(p, KMS_SEVERITY_WARNING, "context.unknown", "",
        "the store's connectivity %s is not known; connectivity rules "
        "treat it as unknown", shown);
  }
  if (type) {
    int hsm = strcmp(type, "AWS_CLOUDHSM") == 0;
    int xks = strcmp(type, "EXTERNAL_KEY_STORE") == 0;
    if (!hsm && !xks) {
      kmsi_quote_printable(shown, sizeof shown, type, strlen(type));
      add(p, KMS_SEVERITY_WARNING, "context.unknown", "",
          "the store type %s is not known; the type rules were skipped",
          shown);
    }
    for (i = 0; hsm && i < COUNT(xks_members); i++)
      if (present(v, xks_members[i]))
        add(p, KMS_SEVERITY_ERROR, "context.type", top_name(xks_members[i]),
            "not valid for an AWS_CLOUDHSM key store");
    for (i = 0; xks && i < COUNT(hsm_members); i++)
      if (present(v, hsm_members[i]))
        add(p, KMS_SEVERITY_ERROR, "context.type",
            kms_member_name(hsm_members[i]),
            "not valid for an EXTERNAL_KEY_STORE key store");
  }
  if (state && strcmp(state, "DISCONNECTED") != 0) {
    int connected = strcmp(state, "CONNECTED") == 0;
    if (is_known_state(state))
      kmsi_strlcpy(shown, state, sizeof shown);
    else
      kmsi_quote_printable(shown, sizeof shown, state, strlen(state));
    for (i = 0; i < COUNT(all_changes); i++) {
      kms_member m = all_changes[i];
      if (!present(v, m) || (connected && connected_ok(m)))
        continue;
      add(p, KMS_SEVERITY_ERROR, "context.state", top_name(m),
          "changing it needs the key store DISCONNECTED, but it is %s",
          shown);
    }
  }
}

/* {=====================================================================
 * Entry point
 * ===================================================================== */

/* Order of the problems: "required"; then each member in model order
 * ("credential.incomplete", "utf8", "length.min", "length.max",
 * "pattern", "enum"); "type.mixed"; the connectivity rules; the context
 * rules ("context.unknown", "context.type", "context.state"); "noop". */
kms_status kms_request_validate(const kms_request *req,
                                const kms_store_context *ctx,
                                kms_problems **out, kms_error *err)
{
  kms_status rc = KMS_ERR_NOMEM;
  kms_problems *p = NULL;
  const kmsi_allocator *a;
  view v;
  const char *s;
  size_t len, i;
  int changes = 0;

  if (out)
    *out = NULL;
  if (!req)
    return kmsi_error(err, KMS_ERR_INVALID_ARG, "validate: request is NULL");
  a = kmsi_request_allocator(req);
  p = kmsi_calloc(a, sizeof *p);
  if (!p)
    goto cleanup;
  p->a = *a;

  v.req = req;
  v.ctx = ctx;
  kmsi_request_values(req, v.value, v.len);
  v.cred_present = kmsi_request_has_credential(req);
  s = val(&v, KMS_M_XKS_PROXY_CONNECTIVITY, &len);
  v.req_conn = parse_conn(s, len);
  s = ctx ? ctx->xks_proxy_connectivity : NULL;
  v.ctx_conn = parse_conn(s, s ? strlen(s) : 0);
  v.ctx_conn_bad = v.ctx_conn == CONN_INVALID;
  if (v.ctx_conn_bad)
    v.ctx_conn = CONN_UNKNOWN;   /* reported as context.unknown */
  v.eff_conn = v.req_conn != CONN_UNKNOWN ? v.req_conn : v.ctx_conn;

  check_members(p, &v);
  check_mix(p, &v);
  check_connectivity(p, &v);
  check_context(p, &v);

  for (i = 0; i < COUNT(all_changes); i++)
    if (present(&v, all_changes[i]))
      changes = 1;
  if (!changes)
    add(p, KMS_SEVERITY_WARNING, "noop", "",
        "request changes nothing: no member besides CustomKeyStoreId is "
        "set");
  if (p->nomem)
    goto cleanup;

  rc = KMS_OK;
  if (p->errors) {
    const kms_problem *first = NULL;
    for (i = 0; i < p->count && !first; i++)
      if (p->items[i].severity == KMS_SEVERITY_ERROR)
        first = &p->items[i];
    if (p->errors > 1)
      rc = kmsi_error(err, KMS_ERR_VALIDATION, "%s (and %zu more)",
                      first->message, p->errors - 1);
    else
      rc = kmsi_error(err, KMS_ERR_VALIDATION, "%s", first->message);
    if (err)
      kmsi_strlcpy(err->aws_type, first->code, sizeof err->aws_type);
  }
cleanup:
  if (rc == KMS_ERR_NOMEM) {
    kms_problems_free(p);
    p = NULL;
    kmsi_error(err, KMS_ERR_NOMEM, "validate: out of memory");
  }
  if (out)
    *out = p;
  else
    kms_problems_free(p);
  return rc;
}
