/* error.c - status names and the caller-owned error report. There is no
 * global "last error": every call reports into the kms_error it is given. */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include "internal.h"

static const char *const status_names[KMS_ERR__COUNT] = {
  [KMS_OK] = "ok",
  [KMS_ERR_NOMEM] = "nomem",
  [KMS_ERR_INVALID_ARG] = "invalid_argument",
  [KMS_ERR_PARSE] = "parse",
  [KMS_ERR_VALIDATION] = "validation",
  [KMS_ERR_CONFIG] = "config",
  [KMS_ERR_NO_REGION] = "no_region",
  [KMS_ERR_NO_CREDENTIALS] = "no_credentials",
  [KMS_ERR_CREDENTIALS] = "credentials",
  [KMS_ERR_CRYPTO] = "crypto",
  [KMS_ERR_CONNECT] = "connect",
  [KMS_ERR_CONNECT_TIMEOUT] = "connect_timeout",
  [KMS_ERR_READ_TIMEOUT] = "read_timeout",
  [KMS_ERR_CONNECTION_CLOSED] = "connection_closed",
  [KMS_ERR_TLS] = "tls",
  [KMS_ERR_SERVICE] = "service",
  [KMS_ERR_RESPONSE] = "response",
  [KMS_ERR_IO] = "io",
  [KMS_ERR_INTERRUPTED] = "interrupted",
};

const char *kms_version(void)
{
  return KMS_VERSION_STRING;
}

const char *kms_strerror(kms_status status)
{
  if ((int)status < 0 || status >= KMS_ERR__COUNT)
    return "unknown";
  return status_names[status];
}

void kms_error_clear(kms_error *err)
{
  if (err)
    memset(err, 0, sizeof *err);
}

void kmsi_strlcpy(char *dst, const char *src, size_t size)
{
  size_t n;
  if (!size)
    return;
  n = src ? strlen(src) : 0;
  if (n >= size)
    n = size - 1;
  if (n)
    memcpy(dst, src, n);
  dst[n] = '\0';
}

kms_status kmsi_error(kms_error *err, kms_status status, const char *fmt, ...)
{
  va_list ap;
  if (!err)
    return status;
  err->status = status;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return status;
}

kms_status kmsi_error_openssl(kms_error *err, const char *what)
{
  char detail[256] = "unknown OpenSSL error";
  unsigned long e = ERR_get_error();
  if (e)
    ERR_error_string_n(e, detail, sizeof detail);
  ERR_clear_error();
  return kmsi_error(err, KMS_ERR_CRYPTO, "%s: %s", what, detail);
}

kms_status kmsi_error_tls_mismatch(kms_error *err, const char *url,
                                   const char *host)
{
  unsigned char a[16];
  int ip = inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;

  return kmsi_error(err, KMS_ERR_TLS, "SSL validation failed for %s [SSL: "
                    "CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
                    "%s mismatch, certificate is not valid for '%s'.", url,
                    ip ? "IP address" : "Hostname", host);
}
