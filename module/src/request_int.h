/* request_int.h - private glue between request.c (the model), validate.c
 * (the rules), pattern.c (the model's patterns) and json.c (JSON text).
 * Not part of the public ABI; the other core files use internal.h only. */
#ifndef KMS_REQUEST_INT_H
#define KMS_REQUEST_INT_H

#include <stddef.h>
#include "internal.h"

/* {===== request.c ===== */

/* 1 when the XksProxyAuthenticationCredential structure is present, even
 * with both halves absent (an empty "{}" from JSON or from
 * kms_request_set_credential(NULL, NULL)). */
int kmsi_request_has_credential(const kms_request *req);

/* The allocator the request was created with. */
const kmsi_allocator *kmsi_request_allocator(const kms_request *req);

/* Every member's value (borrowed, NULL when absent) and length, in one
 * call: value and len have KMS_M__COUNT entries. */
void kmsi_request_values(const kms_request *req, const char **value,
                         size_t *len);
/* }===== */

/* {===== json.c ===== */

/* 1 when s[0..len) is well-formed UTF-8 (no overlong forms, no encoded
 * surrogates, nothing above U+10FFFF). */
int kmsi_utf8_valid(const char *s, size_t len);

/* Checks that s[0..len) is one strict RFC 8259 JSON text (what Python's
 * json.loads accepts, minus NaN/Infinity), without allocating. Also
 * refuses what cJSON cannot hold faithfully: "\u0000" (cJSON strings are
 * NUL-terminated) and lone surrogate escapes, and nesting deeper than 64.
 * Returns 1 when valid; otherwise 0 with *where the byte offset and *why a
 * static reason. Raw bytes >= 0x80 are not checked here (the validator's
 * "utf8" rule reports them). */
int kmsi_json_check(const char *s, size_t len, size_t *where,
                    const char **why);

/* Writes s[0..len) into dst[0..size) for a message: in double quotes,
 * printable ASCII as is except '"' and '\\' (backslashed), any other byte
 * as \xNN; when it does not fit, cut and followed by "...". Never give it
 * a secret. size must be at least 8. */
void kmsi_quote_printable(char *dst, size_t size, const char *s, size_t len);
/* }===== */

/* {===== pattern.c: full-match versions of the model's patterns ===== */

int kmsi_match_cluster_id(const char *s, size_t len);
int kmsi_match_xks_uri_endpoint(const char *s, size_t len);
int kmsi_match_xks_uri_path(const char *s, size_t len);
int kmsi_match_vpc_service_name(const char *s, size_t len);
int kmsi_match_account_id(const char *s, size_t len);
int kmsi_match_xks_access_key_id(const char *s, size_t len);
int kmsi_match_xks_secret(const char *s, size_t len);
/* }===== */

#endif /* KMS_REQUEST_INT_H */
