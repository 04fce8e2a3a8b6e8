/* transport_default_native.c - the default transport is the native one
 * (HTTP/1.1 over libssl, no libcurl): linked by the CLI, whose start-up
 * time is dominated by loading libcurl's dependencies otherwise. */
#include <string.h>
#include "internal.h"

static void native_release(void *ud)
{
  kmsi_native_free(ud);
}

kms_status kmsi_default_transport_new(const kmsi_allocator *a,
                                      kmsi_transport *out, kms_error *err)
{
  kmsi_native *t = kmsi_native_new(a, err);

  memset(out, 0, sizeof *out);
  if (!t)
    return err ? err->status : KMS_ERR_NOMEM;
  out->send = kmsi_native_send;
  out->ud = t;
  out->free = native_release;
  return KMS_OK;
}
