/* request.c - the UpdateCustomKeyStore request model: each member absent,
 * set or set to "", secrets in wiped memory, the key order the AWS CLI
 * produces, loading from --cli-input-json style JSON, and the JSON 1.1
 * body (as sent, and redacted for people). */
#include <string.h>
#include <cjson/cJSON.h>
#include "internal.h"
#include "request_int.h"

/* {=====================================================================
 * Members
 * ===================================================================== */

/* Top-level keys of UpdateCustomKeyStoreRequest in model order; the
 * credential is one key holding both halves. */
enum {
  T_ID, T_NAME, T_PASSWORD, T_CLUSTER, T_ENDPOINT, T_PATH, T_SVC_NAME,
  T_SVC_OWNER, T_CRED, T_CONNECTIVITY, T__COUNT
};

static const char *const top_names[T__COUNT] = {
  "CustomKeyStoreId", "NewCustomKeyStoreName", "KeyStorePassword",
  "CloudHsmClusterId", "XksProxyUriEndpoint", "XksProxyUriPath",
  "XksProxyVpcEndpointServiceName", "XksProxyVpcEndpointServiceOwner",
  "XksProxyAuthenticationCredential", "XksProxyConnectivity",
};

/* The keys as the encoder writes them, `, "Name": ` (the first key of an
 * object goes without its leading ", "). */
typedef struct key_text {
  const char *text;
  size_t len;
} key_text;

#define KEY(name) {", \"" name "\": ", sizeof(name) + 5}
static const key_text top_keys[T__COUNT] = {
  KEY("CustomKeyStoreId"), KEY("NewCustomKeyStoreName"),
  KEY("KeyStorePassword"), KEY("CloudHsmClusterId"),
  KEY("XksProxyUriEndpoint"), KEY("XksProxyUriPath"),
  KEY("XksProxyVpcEndpointServiceName"),
  KEY("XksProxyVpcEndpointServiceOwner"),
  KEY("XksProxyAuthenticationCredential"), KEY("XksProxyConnectivity"),
};
static const key_text access_key_key = KEY("AccessKeyId");
static const key_text raw_secret_key = KEY("RawSecretAccessKey");
#undef KEY

#define CREDENTIAL_NAME "XksProxyAuthenticationCredential"

#define TOP_LIST                                                          \
  "CustomKeyStoreId, NewCustomKeyStoreName, KeyStorePassword, "           \
  "CloudHsmClusterId, XksProxyUriEndpoint, XksProxyUriPath, "             \
  "XksProxyVpcEndpointServiceName, XksProxyVpcEndpointServiceOwner, "     \
  "XksProxyAuthenticationCredential, XksProxyConnectivity"

static const char *const member_names[KMS_M__COUNT] = {
  [KMS_M_CUSTOM_KEY_STORE_ID] = "CustomKeyStoreId",
  [KMS_M_NEW_CUSTOM_KEY_STORE_NAME] = "NewCustomKeyStoreName",
  [KMS_M_KEY_STORE_PASSWORD] = "KeyStorePassword",
  [KMS_M_CLOUD_HSM_CLUSTER_ID] = "CloudHsmClusterId",
  [KMS_M_XKS_PROXY_URI_ENDPOINT] = "XksProxyUriEndpoint",
  [KMS_M_XKS_PROXY_URI_PATH] = "XksProxyUriPath",
  [KMS_M_XKS_PROXY_VPC_ENDPOINT_SERVICE_NAME] =
      "XksProxyVpcEndpointServiceName",
  [KMS_M_XKS_PROXY_VPC_ENDPOINT_SERVICE_OWNER] =
      "XksProxyVpcEndpointServiceOwner",
  [KMS_M_XKS_ACCESS_KEY_ID] = "XksProxyAuthenticationCredential.AccessKeyId",
  [KMS_M_XKS_RAW_SECRET_ACCESS_KEY] =
      "XksProxyAuthenticationCredential.RawSecretAccessKey",
  [KMS_M_XKS_PROXY_CONNECTIVITY] = "XksProxyConnectivity",
};

static int is_half(kms_member m)
{
  return m == KMS_M_XKS_ACCESS_KEY_ID || m == KMS_M_XKS_RAW_SECRET_ACCESS_KEY;
}

static int member_top(kms_member m)
{
  if (is_half(m))
    return T_CRED;
  if (m == KMS_M_XKS_PROXY_CONNECTIVITY)
    return T_CONNECTIVITY;
  return (int)m;                 /* members 0..7 are tops 0..7 */
}

/* The member of a scalar top-level key (not T_CRED). */
static kms_member top_member(int t)
{
  return t == T_CONNECTIVITY ? KMS_M_XKS_PROXY_CONNECTIVITY : (kms_member)t;
}

const char *kms_member_name(kms_member m)
{
  if ((int)m < 0 || m >= KMS_M__COUNT)
    return NULL;
  return member_names[m];
}

kms_member kms_member_lookup(const char *name)
{
  int m;
  if (!name)
    return KMS_M__COUNT;
  for (m = 0; m < KMS_M__COUNT; m++)
    if (strcmp(name, member_names[m]) == 0)
      return (kms_member)m;
  return KMS_M__COUNT;
}

int kms_member_is_secret(kms_member m)
{
  return m == KMS_M_KEY_STORE_PASSWORD || is_half(m);
}

/* {=====================================================================
 * The request object
 * ===================================================================== */

/* Values set with kms_request_set are copied into the request itself
 * while this space lasts (an id and a password or a name usually fit):
 * no allocation, and the copies are wiped with the request. The space is
 * handed out once; a replaced value is wiped where it is. */
#define INLINE_VALUES 128

/* Order bookkeeping: seq[t] == 0 means the key was set with
 * kms_request_set (an AWS CLI option: model position, first); seq[t] > 0
 * means it came from JSON and is encoded after those, by seq. seq is only
 * non-zero while the key is present. */
struct kms_request {
  kmsi_allocator a;
  char *value[KMS_M__COUNT];     /* NULL: absent; NUL-terminated copy */
  size_t len[KMS_M__COUNT];
  unsigned long seq[T__COUNT];
  unsigned long next_seq;
  int cred_present;              /* the structure, even when empty */
  int secret_first;              /* RawSecretAccessKey before AccessKeyId */
  unsigned inline_mask;          /* bit m: value[m] is in inline_values */
  size_t inline_used;            /* bytes of inline_values handed out */
  char inline_values[INLINE_VALUES]; /* last: only the used part is wiped */
};

static void drop(const kmsi_allocator *a, char **value, size_t *len)
{
  if (*value)
    kmsi_free_secret(a, *value, *len + 1);
  *value = NULL;
  *len = 0;
}

/* Makes member m absent, wiping its value (and freeing it when it is on
 * the heap). */
static void drop_member(kms_request *req, kms_member m)
{
  if (req->inline_mask & (1u << m))
    kmsi_wipe(req->value[m], req->len[m] + 1);
  else
    drop(&req->a, &req->value[m], &req->len[m]);
  req->inline_mask &= ~(1u << m);
  req->value[m] = NULL;
  req->len[m] = 0;
}

static int top_present(const kms_request *req, int t)
{
  if (t == T_CRED)
    return req->cred_present;
  return req->value[top_member(t)] != NULL;
}

kms_request *kms_request_new(kms_alloc_fn alloc, void *alloc_ud,
                             kms_error *err)
{
  kmsi_allocator a;
  kms_request *req;

  kmsi_allocator_init(&a, alloc, alloc_ud);
  req = kmsi_malloc(&a, sizeof *req);
  if (!req) {
    kmsi_error(err, KMS_ERR_NOMEM, "request: out of memory");
    return NULL;
  }
  /* The inline space needs no zeroing: it is only read once written. */
  memset(req, 0, offsetof(kms_request, inline_values));
  req->a = a;
  return req;
}

/* Heap values are wiped and freed one by one; the inline ones go with
 * the request, whose used part is wiped whole. */
void kms_request_free(kms_request *req)
{
  kmsi_allocator a;
  int m;

  if (!req)
    return;
  a = req->a;
  for (m = 0; m < KMS_M__COUNT; m++)
    if (req->value[m] && !(req->inline_mask & (1u << m)))
      drop(&a, &req->value[m], &req->len[m]);
  kmsi_wipe(req, offsetof(kms_request, inline_values) + req->inline_used);
  kmsi_free(&a, req, sizeof *req);
}

int kmsi_request_has_credential(const kms_request *req)
{
  return req && req->cred_present;
}

const kmsi_allocator *kmsi_request_allocator(const kms_request *req)
{
  return &req->a;
}

void kmsi_request_values(const kms_request *req, const char **value,
                         size_t *len)
{
  memcpy(value, req->value, sizeof req->value);
  memcpy(len, req->len, sizeof req->len);
}

/* A half that was absent goes after the other half, if present, so the
 * inner order is the order the user gave the halves in. Setting any member
 * moves its top-level key to its model position (seq 0): an option given
 * on the command line wins over --cli-input-json and comes first. */
kms_status kms_request_set(kms_request *req, kms_member m, const char *value,
                           size_t len, kms_error *err)
{
  char *copy;
  int inl;

  if (!req || (int)m < 0 || m >= KMS_M__COUNT || (!value && len))
    return kmsi_error(err, KMS_ERR_INVALID_ARG,
                      "request set: bad argument");
  inl = len < INLINE_VALUES - req->inline_used;
  if (inl) {
    copy = req->inline_values + req->inline_used;
    if (len)
      memcpy(copy, value, len);
    copy[len] = '\0';
    req->inline_used += len + 1;
  } else {
    copy = kmsi_strndup(&req->a, value ? value : "", len);
    if (!copy)
      return kmsi_error(err, KMS_ERR_NOMEM, "request set: out of memory");
  }
  if (is_half(m)) {
    kms_member other = m == KMS_M_XKS_ACCESS_KEY_ID
                           ? KMS_M_XKS_RAW_SECRET_ACCESS_KEY
                           : KMS_M_XKS_ACCESS_KEY_ID;
    if (!req->value[m]) {
      if (req->value[other])
        req->secret_first = m == KMS_M_XKS_ACCESS_KEY_ID;
      else
        req->secret_first = m == KMS_M_XKS_RAW_SECRET_ACCESS_KEY;
    }
    req->cred_present = 1;
  }
  drop_member(req, m);
  req->value[m] = copy;
  req->len[m] = len;
  if (inl)
    req->inline_mask |= 1u << m;
  req->seq[member_top(m)] = 0;
  return KMS_OK;
}

void kms_request_unset(kms_request *req, kms_member m)
{
  if (!req || (int)m < 0 || m >= KMS_M__COUNT)
    return;
  drop_member(req, m);
  if (is_half(m)) {
    if (!req->value[KMS_M_XKS_ACCESS_KEY_ID] &&
        !req->value[KMS_M_XKS_RAW_SECRET_ACCESS_KEY]) {
      req->cred_present = 0;
      req->seq[T_CRED] = 0;
    }
  } else {
    req->seq[member_top(m)] = 0;
  }
}

const char *kms_request_get(const kms_request *req, kms_member m, size_t *len)
{
  if (!req || (int)m < 0 || m >= KMS_M__COUNT || !req->value[m]) {
    if (len)
      *len = 0;
    return NULL;
  }
  if (len)
    *len = req->len[m];
  return req->value[m];
}

kms_status kms_request_set_credential(kms_request *req,
                                      const char *access_key_id,
                                      size_t akid_len, const char *raw_secret,
                                      size_t secret_len, int secret_first,
                                      kms_error *err)
{
  kms_status st = KMS_ERR_NOMEM;
  char *akid = NULL, *raw = NULL;

  if (!req)
    return kmsi_error(err, KMS_ERR_INVALID_ARG,
                      "request set credential: request is NULL");
  if (access_key_id) {
    akid = kmsi_strndup(&req->a, access_key_id, akid_len);
    if (!akid)
      goto cleanup;
  }
  if (raw_secret) {
    raw = kmsi_strndup(&req->a, raw_secret, secret_len);
    if (!raw)
      goto cleanup;
  }
  drop_member(req, KMS_M_XKS_ACCESS_KEY_ID);
  drop_member(req, KMS_M_XKS_RAW_SECRET_ACCESS_KEY);
  req->value[KMS_M_XKS_ACCESS_KEY_ID] = akid;
  req->len[KMS_M_XKS_ACCESS_KEY_ID] = akid ? akid_len : 0;
  req->value[KMS_M_XKS_RAW_SECRET_ACCESS_KEY] = raw;
  req->len[KMS_M_XKS_RAW_SECRET_ACCESS_KEY] = raw ? secret_len : 0;
  akid = raw = NULL;
  req->cred_present = 1;
  req->secret_first = secret_first != 0;
  req->seq[T_CRED] = 0;
  st = KMS_OK;
cleanup:
  if (akid)
    kmsi_free_secret(&req->a, akid, akid_len + 1);
  if (st != KMS_OK)
    kmsi_error(err, st, "request set credential: out of memory");
  return st;
}

/* {=====================================================================
 * Loading --cli-input-json style JSON
 * ===================================================================== */

/* Everything parsed from one JSON text, held apart from the request until
 * the whole text has been accepted, so a failure changes nothing. */
typedef struct staging {
  char *value[KMS_M__COUNT];
  size_t len[KMS_M__COUNT];
  int present[T__COUNT];
  int order[T__COUNT];           /* keys by first occurrence */
  int norder;
  int cred_present;
  int secret_first;
} staging;

static const char *json_type_name(const cJSON *v)
{
  if (cJSON_IsNull(v))
    return "null";
  if (cJSON_IsBool(v))
    return "boolean";
  if (cJSON_IsNumber(v))
    return "number";
  if (cJSON_IsString(v))
    return "string";
  if (cJSON_IsArray(v))
    return "array";
  if (cJSON_IsObject(v))
    return "object";
  return "invalid";
}

/* cJSON copies every string into memory it got from malloc and frees it
 * without wiping. Before cJSON_Delete, wipe every key and string value of
 * the tree: not only the secret members, since a misspelt key
 * ("KeyStorePasword") still carries a secret. Depth is bounded by
 * kmsi_json_check. */
static void wipe_tree(cJSON *item)
{
  for (; item; item = item->next) {
    if (item->valuestring)
      kmsi_wipe(item->valuestring, strlen(item->valuestring));
    if (item->string && !(item->type & cJSON_StringIsConst))
      kmsi_wipe(item->string, strlen(item->string));
    wipe_tree(item->child);
  }
}

/* Replaces st->value[m] with a copy of the JSON string v. */
static kms_status stage_string(staging *st, const kmsi_allocator *a,
                               kms_member m, const cJSON *v)
{
  size_t len = strlen(v->valuestring);
  char *copy = kmsi_strndup(a, v->valuestring, len);

  if (!copy)
    return KMS_ERR_NOMEM;
  drop(a, &st->value[m], &st->len[m]);
  st->value[m] = copy;
  st->len[m] = len;
  return KMS_OK;
}

/* The credential object replaces the whole structure (a later duplicate
 * key too). Inside it, the first half seen comes first; a duplicate half
 * keeps its place and takes the later value (Python dict semantics). */
static kms_status stage_credential(staging *st, const kmsi_allocator *a,
                                   const cJSON *obj, kms_error *err)
{
  const cJSON *it;
  kms_status rc = KMS_ERR_PARSE;
  char key[80];

  if (!cJSON_IsObject(obj)) {
    kmsi_error(err, rc, CREDENTIAL_NAME ": expected an object, got %s",
               json_type_name(obj));
    goto cleanup;
  }
  drop(a, &st->value[KMS_M_XKS_ACCESS_KEY_ID],
       &st->len[KMS_M_XKS_ACCESS_KEY_ID]);
  drop(a, &st->value[KMS_M_XKS_RAW_SECRET_ACCESS_KEY],
       &st->len[KMS_M_XKS_RAW_SECRET_ACCESS_KEY]);
  st->cred_present = 1;
  st->secret_first = 0;
  cJSON_ArrayForEach(it, obj) {
    kms_member m;

    if (strcmp(it->string, "AccessKeyId") == 0) {
      m = KMS_M_XKS_ACCESS_KEY_ID;
    } else if (strcmp(it->string, "RawSecretAccessKey") == 0) {
      m = KMS_M_XKS_RAW_SECRET_ACCESS_KEY;
    } else {
      kmsi_quote_printable(key, sizeof key, it->string, strlen(it->string));
      kmsi_error(err, rc, CREDENTIAL_NAME ": unknown member %s, must be one "
                 "of: AccessKeyId, RawSecretAccessKey", key);
      goto cleanup;
    }
    if (!cJSON_IsString(it)) {
      kmsi_error(err, rc, "%s: expected a string, got %s", member_names[m],
                 json_type_name(it));
      goto cleanup;
    }
    if (!st->value[KMS_M_XKS_ACCESS_KEY_ID] &&
        !st->value[KMS_M_XKS_RAW_SECRET_ACCESS_KEY])
      st->secret_first = m == KMS_M_XKS_RAW_SECRET_ACCESS_KEY;
    if (stage_string(st, a, m, it) != KMS_OK) {
      rc = kmsi_error(err, KMS_ERR_NOMEM, "load json: out of memory");
      goto cleanup;
    }
  }
  rc = KMS_OK;
cleanup:
  return rc;
}

/* Stages every key of the root object, or stops at the first unknown key
 * or wrong type (KMS_ERR_PARSE naming it) or allocation failure. */
static kms_status stage_object(staging *st, const kmsi_allocator *a,
                               const cJSON *root, kms_error *err)
{
  const cJSON *it;
  kms_status rc = KMS_ERR_PARSE;
  char key[80];

  cJSON_ArrayForEach(it, root) {
    int t;

    for (t = 0; t < T__COUNT; t++)
      if (strcmp(it->string, top_names[t]) == 0)
        break;
    if (t == T__COUNT) {
      kmsi_quote_printable(key, sizeof key, it->string, strlen(it->string));
      rc = kmsi_error(err, KMS_ERR_PARSE,
                      "unknown member %s, must be one of: " TOP_LIST, key);
      goto cleanup;
    }
    if (t == T_CRED) {
      rc = stage_credential(st, a, it, err);
      if (rc != KMS_OK)
        goto cleanup;
    } else if (!cJSON_IsString(it)) {
      rc = kmsi_error(err, KMS_ERR_PARSE, "%s: expected a string, got %s",
                      top_names[t], json_type_name(it));
      goto cleanup;
    } else if (stage_string(st, a, top_member(t), it) != KMS_OK) {
      rc = kmsi_error(err, KMS_ERR_NOMEM, "load json: out of memory");
      goto cleanup;
    }
    if (!st->present[t]) {
      st->present[t] = 1;
      st->order[st->norder++] = t;
    }
  }
  rc = KMS_OK;
cleanup:
  return rc;
}

/* Moves the staged keys into req, which cannot fail. A key already loaded
 * from JSON keeps its place (dict.update); any other goes after the JSON
 * keys loaded so far, in this text's order. */
static void commit(kms_request *req, staging *st)
{
  int k;

  for (k = 0; k < st->norder; k++) {
    int t = st->order[k];
    kms_member m, first = 0, last = 0;

    if (t == T_CRED) {
      first = KMS_M_XKS_ACCESS_KEY_ID;
      last = KMS_M_XKS_RAW_SECRET_ACCESS_KEY;
      req->cred_present = 1;
      req->secret_first = st->secret_first;
    } else {
      first = last = top_member(t);
    }
    for (m = first; m <= last; m++) {
      drop_member(req, m);
      req->value[m] = st->value[m];
      req->len[m] = st->len[m];
      st->value[m] = NULL;
      st->len[m] = 0;
    }
    if (req->seq[t] == 0)
      req->seq[t] = ++req->next_seq;
  }
}

/* Parsing is two passes: kmsi_json_check (strict, allocation-free, so that
 * cJSON never fails half-way and frees a partial tree we could not wipe),
 * then cJSON_ParseWithLength. cJSON allocates through its process-wide
 * hooks (malloc): kmscks never changes them, so those blocks do not go
 * through the request's allocator; their strings are wiped before
 * cJSON_Delete. The caller's json text is not ours to wipe. */
kms_status kms_request_load_json(kms_request *req, const char *json,
                                 size_t len, kms_error *err)
{
  kms_status rc = KMS_ERR_PARSE;
  cJSON *root = NULL;
  staging st;
  size_t where = 0;
  const char *why = NULL;
  int m;

  memset(&st, 0, sizeof st);
  if (!req || (!json && len))
    return kmsi_error(err, KMS_ERR_INVALID_ARG,
                      "load json: bad argument");
  if (!kmsi_json_check(json, len, &where, &why)) {
    rc = kmsi_error(err, KMS_ERR_PARSE, "invalid JSON at offset %zu: %s",
                    where, why);
    goto cleanup;
  }
  root = cJSON_ParseWithLength(json, len);
  if (!root) {
    rc = kmsi_error(err, KMS_ERR_NOMEM, "load json: out of memory");
    goto cleanup;
  }
  if (!cJSON_IsObject(root)) {
    rc = kmsi_error(err, KMS_ERR_PARSE, "expected a JSON object, got %s",
                    json_type_name(root));
    goto cleanup;
  }
  rc = stage_object(&st, &req->a, root, err);
  if (rc != KMS_OK)
    goto cleanup;
  commit(req, &st);
  rc = KMS_OK;
cleanup:
  for (m = 0; m < KMS_M__COUNT; m++)
    drop(&req->a, &st.value[m], &st.len[m]);
  if (root) {
    wipe_tree(root);
    cJSON_Delete(root);
  }
  return rc;
}

/* {=====================================================================
 * Encoding the body
 * ===================================================================== */

/* Fills order[] with the present keys: those set with kms_request_set in
 * model order, then those from JSON by seq. Returns how many. */
static int request_order(const kms_request *req, int order[T__COUNT])
{
  int n = 0, t, k, from;

  for (t = 0; t < T__COUNT; t++)
    if (top_present(req, t) && req->seq[t] == 0)
      order[n++] = t;
  from = n;
  for (t = 0; t < T__COUNT; t++) {
    if (!top_present(req, t) || req->seq[t] == 0)
      continue;
    /* insertion sort by seq: ten keys at most */
    for (k = n; k > from && req->seq[order[k - 1]] > req->seq[t]; k--)
      order[k] = order[k - 1];
    order[k] = t;
    n++;
  }
  return n;
}

/* Appends s[0..n), growing the buffer only when the room reserved up
 * front is gone (a value needed escaping). */
static kms_status put_raw(kms_buf *b, const char *s, size_t n)
{
  if ((!b->data || b->cap - b->len < n + 1) &&
      kmsi_buf_reserve(b, n) != KMS_OK)
    return KMS_ERR_NOMEM;
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
  return KMS_OK;
}

/* `"name": `, after `, ` unless first. */
static kms_status put_key(kms_buf *b, const char *text, size_t len,
                          int first)
{
  return first ? put_raw(b, text + 2, len - 2) : put_raw(b, text, len);
}

static kms_status put_value(kms_buf *b, const kms_request *req, kms_member m,
                            int redact)
{
  if (redact && kms_member_is_secret(m))
    return put_raw(b, "\"***\"", 5);
  return kmsi_json_put_string(b, req->value[m], req->len[m]);
}

static kms_status put_credential(kms_buf *b, const kms_request *req,
                                 int redact)
{
  kms_member halves[2];
  kms_status st = KMS_OK;
  int k, first = 1;

  halves[0] = req->secret_first ? KMS_M_XKS_RAW_SECRET_ACCESS_KEY
                                : KMS_M_XKS_ACCESS_KEY_ID;
  halves[1] = req->secret_first ? KMS_M_XKS_ACCESS_KEY_ID
                                : KMS_M_XKS_RAW_SECRET_ACCESS_KEY;
  st = put_raw(b, "{", 1);
  for (k = 0; k < 2 && st == KMS_OK; k++) {
    kms_member m = halves[k];
    if (!req->value[m])
      continue;
    if (m == KMS_M_XKS_ACCESS_KEY_ID)
      st = put_key(b, access_key_key.text, access_key_key.len, first);
    else
      st = put_key(b, raw_secret_key.text, raw_secret_key.len, first);
    if (st == KMS_OK)
      st = put_value(b, req, m, redact);
    first = 0;
  }
  if (st == KMS_OK)
    st = put_raw(b, "}", 1);
  return st;
}

/* The encoded size when no value needs escaping (the usual case), so the
 * buffer is allocated once, at its final size: every key with its quotes
 * and separators, every value with its quotes. A value that needs
 * escaping grows the buffer as it goes. */
static size_t plain_size(const kms_request *req, const int *order, int n)
{
  size_t need = 2;   /* {} */
  int k, m;

  for (k = 0; k < n; k++) {
    int t = order[k];
    need += top_keys[t].len;
    if (t == T_CRED) {
      need += 2 + access_key_key.len + raw_secret_key.len;
      for (m = KMS_M_XKS_ACCESS_KEY_ID; m <= KMS_M_XKS_RAW_SECRET_ACCESS_KEY;
           m++)
        need += req->len[m] + 2;
    } else {
      need += req->len[top_member(t)] + 2;
    }
  }
  return need;
}

static kms_status encode(const kms_request *req, kms_buf *out, int redact,
                         kms_error *err)
{
  int order[T__COUNT];
  int n, k;
  kms_status st;

  if (!out)
    return kmsi_error(err, KMS_ERR_INVALID_ARG, "encode: out is NULL");
  if (!req) {
    kmsi_buf_init(out, NULL, !redact);
    return kmsi_error(err, KMS_ERR_INVALID_ARG, "encode: request is NULL");
  }
  kmsi_buf_init(out, &req->a, !redact);
  n = request_order(req, order);
  st = kmsi_buf_reserve(out, plain_size(req, order, n));
  if (st == KMS_OK)
    st = put_raw(out, "{", 1);
  for (k = 0; k < n && st == KMS_OK; k++) {
    int t = order[k];
    st = put_key(out, top_keys[t].text, top_keys[t].len, k == 0);
    if (st != KMS_OK)
      break;
    if (t == T_CRED)
      st = put_credential(out, req, redact);
    else
      st = put_value(out, req, top_member(t), redact);
  }
  if (st == KMS_OK)
    st = put_raw(out, "}", 1);
  if (st != KMS_OK) {
    kms_buf_free(out);
    kmsi_error(err, st, "encode: out of memory");
  }
  return st;
}

/* The body holds the secrets, so out is a secret buffer (wiped on growth
 * and on free). */
kms_status kms_request_encode_body(const kms_request *req, kms_buf *out,
                                   kms_error *err)
{
  return encode(req, out, 0, err);
}

kms_status kms_request_to_redacted_json(const kms_request *req, kms_buf *out,
                                        kms_error *err)
{
  return encode(req, out, 1, err);
}
