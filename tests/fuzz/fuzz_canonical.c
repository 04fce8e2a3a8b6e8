/* fuzz_canonical.c - libFuzzer target for the HTTP message and the SigV4
 * canonicaliser. Input: one flags byte, four bytes of time (big endian),
 * then either a request.txt (SigV4 test-suite format) or, with bit 0x40,
 * "URL\nName: value\n...\n\nbody". The message is signed and checked:
 * signing is deterministic, a re-sign replaces the old signature, and the
 * redacted text never shows the signature. Traps when an invariant breaks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "internal.h"
#include "fuzz.h"

static kms_signer *signer;
static kms_credentials *cred, *cred_token;

/* "URL\nName: value\n...\n\nbody": builds the message with the public
 * API (kms_http_new, kms_http_add_header, kms_http_set_body). */
static kms_http *from_url_form(const char *text, size_t len)
{
  const char *p = text, *end = text + len, *eol;
  char *line;
  kms_http *m = NULL;
  kms_error err;

  eol = memchr(p, '\n', len);
  if (!eol)
    eol = end;
  line = strndup(p, (size_t)(eol - p));
  if (!line)
    return NULL;
  m = kms_http_new((len & 1) ? "POST" : "GET", line, NULL, NULL, &err);
  free(line);
  p = eol < end ? eol + 1 : end;
  while (m && p < end) {
    const char *colon;
    eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol)
      eol = end;
    if (eol == p) {
      p++;
      break;
    }
    colon = memchr(p, ':', (size_t)(eol - p));
    if (colon) {
      char *name = strndup(p, (size_t)(colon - p));
      char *value = strndup(colon + 1, (size_t)(eol - colon - 1));
      if (name && value)
        kms_http_add_header(m, name, value, &err);
      free(name);
      free(value);
    }
    p = eol < end ? eol + 1 : end;
  }
  if (m)
    kms_http_set_body(m, p, (size_t)(end - p), &err);
  return m;
}

static kms_http *parse(int url_form, const char *text, size_t len)
{
  kms_http *m = NULL;
  kms_error err;
  if (url_form)
    return from_url_form(text, len);
  if (kmsi_http_from_text(text, len, NULL, NULL, &m, &err) != KMS_OK)
    return NULL;
  return m;
}

static void signature_of(const kms_http *m, int query, char out[65])
{
  const char *p;
  out[0] = '\0';
  if (query) {
    /* The signer appends its parameter last; the input's own query may
     * hold look-alikes, so take the last one that starts a parameter. */
    const char *q = kms_http_target(m), *hit = NULL;
    for (q = strstr(q, "X-Amz-Signature="); q;
         q = strstr(q + 1, "X-Amz-Signature="))
      if (q > kms_http_target(m) && (q[-1] == '&' || q[-1] == '?'))
        hit = q;
    p = hit ? hit + 16 : NULL;
  } else {
    p = kms_http_header(m, "Authorization");
    p = p ? strstr(p, ", Signature=") : NULL;
    p = p ? p + 12 : NULL;
  }
  if (p) {
    size_t n = strnlen(p, 64);   /* never read past the string */
    memcpy(out, p, n);
    out[n] = '\0';
  }
}

static size_t count_of(const char *hay, const char *needle)
{
  size_t n = 0;
  for (hay = strstr(hay, needle); hay; hay = strstr(hay + 1, needle))
    n++;
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  kms_error err;
  kms_sign_params params;
  kms_http *m1 = NULL, *m2 = NULL;
  kms_buf creq = {0}, sts = {0}, text = {0};
  const kms_credentials *c;
  char sig1[65], sig2[65];
  kms_status s1, s2, sd;
  unsigned flags;
  int query;

  if (!signer) {
    signer = kms_signer_new(NULL, NULL, NULL, NULL, &err);
    cred = kms_credentials_new("AKIDEXAMPLE",
                               "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                               NULL, 0, NULL, NULL, &err);
    cred_token = kms_credentials_new("AKIDEXAMPLE",
                                     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                     "FQoGZXIvYXdzEXAMPLETOKEN/+=", 0, NULL,
                                     NULL, &err);
    CHECK(signer && cred && cred_token);
  }
  if (size < 5)
    return 0;
  flags = data[0];
  memset(&params, 0, sizeof params);
  params.flags = flags & 0x0f;
  params.region = (flags & 0x20) ? "" : "us-east-1";
  params.service = (flags & 0x80) ? "kms" : "service";
  params.time = (time_t)(((uint32_t)data[1] << 24) | ((uint32_t)data[2] << 16) |
                         ((uint32_t)data[3] << 8) | data[4]);
  params.expires = 3600;
  c = (flags & 0x10) ? cred_token : cred;
  query = (params.flags & KMS_SIGN_QUERY) != 0;

  m1 = parse(flags & 0x40, (const char *)data + 5, size - 5);
  m2 = parse(flags & 0x40, (const char *)data + 5, size - 5);
  if (!m1) {
    CHECK(m2 == NULL);
    goto cleanup;
  }
  CHECK(m2 != NULL);

  /* Tasks 1-2 alone, then the whole signature with and without the
   * signer's cache: all must agree on success and on the result. */
  sd = kms_sign_debug(m1, c, &params, &creq, &sts, &err);
  s1 = kms_sign(signer, m1, c, &params, &err);
  s2 = kms_sign(NULL, m2, c, &params, &err);
  CHECK(s1 == s2);
  CHECK((sd == KMS_OK) == (s1 == KMS_OK));
  if (s1 != KMS_OK)
    goto cleanup;
  CHECK(creq.data && sts.data &&
        strncmp(sts.data, "AWS4-HMAC-SHA256\n", 17) == 0);
  signature_of(m1, query, sig1);
  signature_of(m2, query, sig2);
  CHECK(strlen(sig1) == 64 && strcmp(sig1, sig2) == 0);

  /* The redacted text never shows the signature: signing adds no copy of
   * it. The input may hold the same 64 hex digits in a part the signature
   * does not cover (a path segment that ".." removes), so compare with the
   * text of the unsigned message rather than look for none at all. */
  if (kms_http_to_text(m1, 1, &text, &err) == KMS_OK) {
    kms_http *m3 = parse(flags & 0x40, (const char *)data + 5, size - 5);
    kms_buf plain = {0};
    CHECK(m3 != NULL);
    CHECK(kms_http_to_text(m3, 1, &plain, &err) == KMS_OK);
    CHECK(count_of(text.data, sig1) == count_of(plain.data, sig1));
    kms_buf_free(&plain);
    kms_http_free(m3);
  }
  kms_buf_free(&text);

  /* Re-signing: headers are replaced (same signature at the same time);
   * a presigned URL cannot be presigned again. */
  s1 = kms_sign(signer, m1, c, &params, &err);
  if (query) {
    CHECK(s1 == KMS_ERR_INVALID_ARG);
  } else {
    size_t i, n = 0;
    CHECK(s1 == KMS_OK);
    signature_of(m1, 0, sig2);
    CHECK(strcmp(sig1, sig2) == 0);
    for (i = 0; i < kms_http_header_count(m1); i++) {
      const char *name;
      kms_http_header_at(m1, i, &name, NULL);
      if (strcasecmp(name, "authorization") == 0)
        n++;
    }
    CHECK(n == 1);
  }
cleanup:
  kms_buf_free(&creq);
  kms_buf_free(&sts);
  kms_http_free(m1);
  kms_http_free(m2);
  return 0;
}
