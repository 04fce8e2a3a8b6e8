/* plugin_transport.c - the host's own HTTP transport behind the core's
 * kms_transport_fn. The host does not link the core, so it sees the
 * request as plain C data (kms_plugin_http_request) and fills the
 * response through two callbacks that copy into the core's buffers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plugin_int.h"

/* A header the response's line format cannot hold (a name with ':', a
 * line break) is left out: the host's call still succeeds, only running
 * out of memory fails it. */
static int add_header(kms_plugin_http_response *r, const char *name,
                      const char *value)
{
  kms_http_response *resp = r ? r->plugin_private : NULL;
  kms_status st;

  if (!resp || !name || !value)
    return KMS_ERR_INVALID_ARG;
  st = kms_http_response_add_header(resp, name, value, NULL);
  return st == KMS_ERR_INVALID_ARG ? 0 : (int)st;
}

static int write_body(kms_plugin_http_response *r, const void *data,
                      size_t len)
{
  kms_http_response *resp = r ? r->plugin_private : NULL;

  if (!resp)
    return KMS_ERR_INVALID_ARG;
  return (int)kms_http_response_append_body(resp, data, len, NULL);
}

/* The host's answer code as a transport status: anything that is not a
 * transport failure counts as a failed connection. */
static kms_status transport_status(int rc)
{
  switch (rc) {
  case KMS_ERR_CONNECT:
  case KMS_ERR_CONNECT_TIMEOUT:
  case KMS_ERR_READ_TIMEOUT:
  case KMS_ERR_CONNECTION_CLOSED:
  case KMS_ERR_TLS:
  case KMS_ERR_NOMEM:
  case KMS_ERR_INTERRUPTED:
    return (kms_status)rc;
  default:
    return KMS_ERR_CONNECT;
  }
}

kms_status kmsp_transport_send(void *ud, const kms_http *req,
                               const kms_transport_opts *opts,
                               kms_http_response *resp, kms_error *err)
{
  kmsp_transport *t = ud;
  kms_plugin_http_header stack_headers[16], *headers = stack_headers;
  kms_plugin_http_request preq;
  kms_plugin_http_response presp;
  kms_plugin_error perr = KMS_PLUGIN_ERROR_INIT;
  kms_status result = KMS_ERR_NOMEM;
  size_t i, n = kms_http_header_count(req);
  int rc;

  if (n > sizeof stack_headers / sizeof stack_headers[0]) {
    headers = t->alloc ? t->alloc(t->alloc_ud, NULL, 0, n * sizeof *headers)
                       : malloc(n * sizeof *headers);
    if (!headers) {
      kmsp_error(err, KMS_ERR_NOMEM, "transport: out of memory");
      return KMS_ERR_NOMEM;
    }
  }
  for (i = 0; i < n; i++)
    if (!kms_http_header_at(req, i, &headers[i].name, &headers[i].value))
      break;
  memset(&preq, 0, sizeof preq);
  preq.struct_size = sizeof preq;
  preq.method = kms_http_method(req);
  preq.url = kms_http_url(req);
  preq.headers = headers;
  preq.header_count = i;
  preq.body = kms_http_body(req, &preq.body_len);
  preq.connect_timeout_ms = opts ? opts->connect_timeout_ms : 0;
  preq.read_timeout_ms = opts ? opts->read_timeout_ms : 0;
  preq.ca_bundle = opts ? opts->ca_bundle : NULL;
  preq.verify_tls = opts ? opts->verify_tls : 1;

  memset(&presp, 0, sizeof presp);
  presp.struct_size = sizeof presp;
  presp.add_header = add_header;
  presp.write_body = write_body;
  presp.plugin_private = resp;

  rc = t->fn(t->ud, &preq, &presp, &perr);
  if (rc == 0) {
    if (presp.status < 100 || presp.status > 999) {
      result = kmsp_error(err, KMS_ERR_CONNECTION_CLOSED, "transport: the "
                          "host's transport gave HTTP status %ld",
                          presp.status);
    } else {
      resp->status = presp.status;
      result = KMS_OK;
    }
  } else {
    result = transport_status(rc);
    perr.message[sizeof perr.message - 1] = '\0';
    kmsp_error(err, result, "transport: %s",
               perr.message[0] ? perr.message : kms_strerror(result));
  }
  if (headers != stack_headers) {
    if (t->alloc)
      t->alloc(t->alloc_ud, headers, n * sizeof *headers, 0);
    else
      free(headers);
  }
  return result;
}
