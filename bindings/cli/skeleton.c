/* skeleton.c - --generate-cli-skeleton input and yaml-input: the exact
 * documents the AWS CLI v2 (2.9.19) prints for update-custom-key-store
 * (botocore's ArgumentGenerator over its model: first enum value, the
 * first sentence of each member's documentation as the YAML comment).
 * They leave XksProxyVpcEndpointServiceOwner out, as that model does, so
 * kmscks stays a drop-in; the option is documented in the manual. */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const char skeleton_json[] =
  "{\n"
  "    \"CustomKeyStoreId\": \"\",\n"
  "    \"NewCustomKeyStoreName\": \"\",\n"
  "    \"KeyStorePassword\": \"\",\n"
  "    \"CloudHsmClusterId\": \"\",\n"
  "    \"XksProxyUriEndpoint\": \"\",\n"
  "    \"XksProxyUriPath\": \"\",\n"
  "    \"XksProxyVpcEndpointServiceName\": \"\",\n"
  "    \"XksProxyAuthenticationCredential\": {\n"
  "        \"AccessKeyId\": \"\",\n"
  "        \"RawSecretAccessKey\": \"\"\n"
  "    },\n"
  "    \"XksProxyConnectivity\": \"PUBLIC_ENDPOINT\"\n"
  "}\n"
  ;

static const char skeleton_yaml[] =
  "CustomKeyStoreId: ''  # [REQUIRED] Identifies the custom key store that "
  "you want to update.\n"
  "NewCustomKeyStoreName: '' # Changes the friendly name of the custom key "
  "store to the value that you specify.\n"
  "KeyStorePassword: '' # Enter the current password of the kmsuser crypto "
  "user (CU) in the CloudHSM cluster that is associated with the custom key"
  " store.\n"
  "CloudHsmClusterId: '' # Associates the custom key store with a related C"
  "loudHSM cluster.\n"
  "XksProxyUriEndpoint: '' # Changes the URI endpoint that KMS uses to conn"
  "ect to your external key store proxy (XKS proxy).\n"
  "XksProxyUriPath: '' # Changes the base path to the proxy APIs for this e"
  "xternal key store.\n"
  "XksProxyVpcEndpointServiceName: '' # Changes the name that KMS uses to i"
  "dentify the Amazon VPC endpoint service for your external key store prox"
  "y (XKS proxy).\n"
  "XksProxyAuthenticationCredential: # Changes the credentials that KMS use"
  "s to sign requests to the external key store proxy (XKS proxy).\n"
  "  AccessKeyId: ''  # [REQUIRED] A unique identifier for the raw secret a"
  "ccess key.\n"
  "  RawSecretAccessKey: '' # [REQUIRED] A secret string of 43-64 character"
  "s.\n"
  "XksProxyConnectivity: PUBLIC_ENDPOINT # Changes the connectivity setting"
  " for the external key store. Valid values are: PUBLIC_ENDPOINT, VPC_ENDP"
  "OINT_SERVICE.\n"
  ;

int cli_skeleton_print(const char *kind, FILE *out)
{
  const char *doc;

  if (strcmp(kind, "input") == 0)
    doc = skeleton_json;
  else if (strcmp(kind, "yaml-input") == 0)
    doc = skeleton_yaml;
  else
    return -1;
  if (fputs(doc, out) == EOF)
    return -1;
  return 0;
}
