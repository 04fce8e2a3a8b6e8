/* transport_default_curl.c - the default transport is libcurl's (the
 * shared library, the Lua module, the plugins, the examples and the
 * tests link this file; the CLI links transport_default_native.c). */
#include <string.h>
#include "internal.h"

static void curl_release(void *ud)
{
  kmsi_curl_free(ud);
}

kms_status kmsi_default_transport_new(const kmsi_allocator *a,
                                      kmsi_transport *out, kms_error *err)
{
  kmsi_curl *t = kmsi_curl_new(a, err);

  memset(out, 0, sizeof *out);
  if (!t)
    return err ? err->status : KMS_ERR_NOMEM;
  out->send = kmsi_curl_send;
  out->ud = t;
  out->free = curl_release;
  return KMS_OK;
}
