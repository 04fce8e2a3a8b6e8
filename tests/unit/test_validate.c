/* test_validate.c - validate.c and pattern.c: one table row per rule and
 * outcome (each rule has rows that pass and rows that fail), asserting the
 * whole ordered problem list (severity, code, member, exact message), the
 * status and err; plus the model's patterns on their own. */
#include <stdio.h>
#include "testing.h"
#include "kms/kms.h"
#include "request_int.h"

#define M_ID KMS_M_CUSTOM_KEY_STORE_ID
#define M_NAME KMS_M_NEW_CUSTOM_KEY_STORE_NAME
#define M_PW KMS_M_KEY_STORE_PASSWORD
#define M_CLUSTER KMS_M_CLOUD_HSM_CLUSTER_ID
#define M_EP KMS_M_XKS_PROXY_URI_ENDPOINT
#define M_PATH KMS_M_XKS_PROXY_URI_PATH
#define M_SVC KMS_M_XKS_PROXY_VPC_ENDPOINT_SERVICE_NAME
#define M_OWNER KMS_M_XKS_PROXY_VPC_ENDPOINT_SERVICE_OWNER
#define M_AK KMS_M_XKS_ACCESS_KEY_ID
#define M_SK KMS_M_XKS_RAW_SECRET_ACCESS_KEY
#define M_CONN KMS_M_XKS_PROXY_CONNECTIVITY
#define CRED_EMPTY 100            /* kms_request_set_credential(NULL, NULL) */

/* Valid values. */
#define ID "cks-1234567890abcdef0"
#define CLUSTER "cluster-2a23b4cdefg"
#define EP "https://myproxy.xks.example.com"
#define PATH "/example/kms/xks/v1"
#define SVC "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0"
#define OWNER "123456789012"
#define AK "ABCDE23456723EXAMPLE"
#define SK "DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H/u9pSo="
#define VPC "VPC_ENDPOINT_SERVICE"
#define PUB "PUBLIC_ENDPOINT"

#define X10 "xxxxxxxxxx"
#define X50 X10 X10 X10 X10 X10
#define E10 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9" \
            "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
#define E50 E10 E10 E10 E10 E10

#define P_PATH "^(/[a-zA-Z0-9\\/_-]+/kms/xks/v\\d{1,2})$|^(/kms/xks/v\\d{1,2})$"
#define P_SVC "^(com|eu)\\.amazonaws\\.vpce\\.([a-z]+-){2,3}\\d+\\.vpce-svc-" \
              "[0-9a-z]+$"
#define P_EP "^https://[a-zA-Z0-9.-]+$"
#define P_CLUSTER "cluster-[2-7a-zA-Z]{11,16}"
#define PFX_AK "XksProxyAuthenticationCredential.AccessKeyId"
#define PFX_SK "XksProxyAuthenticationCredential.RawSecretAccessKey"
#define CRED "XksProxyAuthenticationCredential"
#define CONN_UNKNOWN_MSG                                                  \
  "valid only with VPC_ENDPOINT_SERVICE connectivity, which neither the " \
  "request nor the context gives"

typedef struct kv {
  int m;
  const char *v;                  /* NULL ends the list */
} kv;

/* want: "E|code|member|message" or "W|...", in order. */
typedef struct vcase {
  const char *name;
  kv set[12];
  int use_ctx;
  kms_store_context ctx;
  const char *want[20];
} vcase;

#define NOCTX 0, {NULL, NULL, NULL}
#define CTX(t, s, c) 1, {t, s, c}

static const vcase cases[] = {
  /* {===== required ===== */
  {"required: id present", {{M_ID, ID}, {M_NAME, "n"}}, NOCTX, {NULL}},
  {"required: id missing", {{M_NAME, "n"}}, NOCTX,
   {"E|required|CustomKeyStoreId|CustomKeyStoreId: missing; it is required"}},

  /* {===== lengths, in code points ===== */
  {"length: id too short", {{M_ID, ""}, {M_NAME, "n"}}, NOCTX,
   {"E|length.min|CustomKeyStoreId|CustomKeyStoreId: length 0 is below the "
    "minimum of 1"}},
  {"length: id at 64", {{M_ID, X50 X10 "xxxx"}, {M_NAME, "n"}}, NOCTX,
   {NULL}},
  {"length: id too long", {{M_ID, X50 X10 "xxxxx"}, {M_NAME, "n"}}, NOCTX,
   {"E|length.max|CustomKeyStoreId|CustomKeyStoreId: length 65 is above the "
    "maximum of 64"}},
  {"length: name empty", {{M_ID, ID}, {M_NAME, ""}}, NOCTX,
   {"E|length.min|NewCustomKeyStoreName|NewCustomKeyStoreName: length 0 is "
    "below the minimum of 1"}},
  {"length: name of 256 two-byte characters",
   {{M_ID, ID}, {M_NAME, E50 E50 E50 E50 E50 "\xc3\xa9\xc3\xa9\xc3\xa9"
                         "\xc3\xa9\xc3\xa9\xc3\xa9"}}, NOCTX, {NULL}},
  {"length: name of 257",
   {{M_ID, ID}, {M_NAME, X50 X50 X50 X50 X50 "xxxxxxx"}}, NOCTX,
   {"E|length.max|NewCustomKeyStoreName|NewCustomKeyStoreName: length 257 "
    "is above the maximum of 256"}},
  {"length: password of 6", {{M_ID, ID}, {M_PW, "abcdef"}}, NOCTX,
   {"E|length.min|KeyStorePassword|KeyStorePassword: length 6 is below the "
    "minimum of 7"}},
  {"length: password of 7 code points in 14 bytes",
   {{M_ID, ID}, {M_PW, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                       "\xc3\xa9"}}, NOCTX, {NULL}},
  {"length: password of 6 astral code points",
   {{M_ID, ID}, {M_PW, "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
                       "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"}},
   NOCTX,
   {"E|length.min|KeyStorePassword|KeyStorePassword: length 6 is below the "
    "minimum of 7"}},
  {"length: password of 33", {{M_ID, ID}, {M_PW, X10 X10 X10 "xxx"}}, NOCTX,
   {"E|length.max|KeyStorePassword|KeyStorePassword: length 33 is above the "
    "maximum of 32"}},

  /* {===== CloudHsmClusterId ===== */
  {"cluster: valid", {{M_ID, ID}, {M_CLUSTER, CLUSTER}}, NOCTX, {NULL}},
  {"cluster: 16 characters after the prefix",
   {{M_ID, ID}, {M_CLUSTER, "cluster-abcdefghijklmnop"}}, NOCTX, {NULL}},
  {"cluster: digit outside 2-7",
   {{M_ID, ID}, {M_CLUSTER, "cluster-1a23b4cdefg"}}, NOCTX,
   {"E|pattern|CloudHsmClusterId|CloudHsmClusterId: \"cluster-1a23b4cdefg\" "
    "does not match " P_CLUSTER}},
  {"cluster: full match, not a search",
   {{M_ID, ID}, {M_CLUSTER, "xcluster-2a23b4cdefg"}}, NOCTX,
   {"E|pattern|CloudHsmClusterId|CloudHsmClusterId: \"xcluster-2a23b4cdefg\" "
    "does not match " P_CLUSTER}},
  {"cluster: too short", {{M_ID, ID}, {M_CLUSTER, "cluster-2345672345"}},
   NOCTX,
   {"E|length.min|CloudHsmClusterId|CloudHsmClusterId: length 18 is below "
    "the minimum of 19",
    "E|pattern|CloudHsmClusterId|CloudHsmClusterId: \"cluster-2345672345\" "
    "does not match " P_CLUSTER}},
  {"cluster: too long", {{M_ID, ID}, {M_CLUSTER, "cluster-abcdefghijklmnopq"}},
   NOCTX,
   {"E|length.max|CloudHsmClusterId|CloudHsmClusterId: length 25 is above "
    "the maximum of 24",
    "E|pattern|CloudHsmClusterId|CloudHsmClusterId: "
    "\"cluster-abcdefghijklmnopq\" does not match " P_CLUSTER}},

  /* {===== XksProxyUriEndpoint ===== */
  {"endpoint: valid", {{M_ID, ID}, {M_EP, EP}}, NOCTX, {NULL}},
  {"endpoint: http", {{M_ID, ID}, {M_EP, "http://x.example.com"}}, NOCTX,
   {"E|pattern|XksProxyUriEndpoint|XksProxyUriEndpoint: "
    "\"http://x.example.com\" does not match " P_EP}},
  {"endpoint: with a port", {{M_ID, ID}, {M_EP, "https://x.example.com:443"}},
   NOCTX,
   {"E|pattern|XksProxyUriEndpoint|XksProxyUriEndpoint: "
    "\"https://x.example.com:443\" does not match " P_EP}},
  {"endpoint: trailing newline", {{M_ID, ID}, {M_EP, "https://x.example\n"}},
   NOCTX,
   {"E|pattern|XksProxyUriEndpoint|XksProxyUriEndpoint: "
    "\"https://x.example\\x0a\" does not match " P_EP}},
  {"endpoint: too short", {{M_ID, ID}, {M_EP, "https://a"}}, NOCTX,
   {"E|length.min|XksProxyUriEndpoint|XksProxyUriEndpoint: length 9 is "
    "below the minimum of 10"}},
  {"endpoint: nothing after the scheme", {{M_ID, ID}, {M_EP, "https://"}},
   NOCTX,
   {"E|length.min|XksProxyUriEndpoint|XksProxyUriEndpoint: length 8 is "
    "below the minimum of 10",
    "E|pattern|XksProxyUriEndpoint|XksProxyUriEndpoint: \"https://\" does "
    "not match " P_EP}},

  /* {===== XksProxyUriPath ===== */
  {"path: valid with prefix", {{M_ID, ID}, {M_PATH, PATH}}, NOCTX, {NULL}},
  {"path: valid bare", {{M_ID, ID}, {M_PATH, "/kms/xks/v1"}}, NOCTX, {NULL}},
  {"path: two-digit version", {{M_ID, ID}, {M_PATH, "/a_b-c/d/kms/xks/v12"}},
   NOCTX, {NULL}},
  {"path: wrong shape", {{M_ID, ID}, {M_PATH, "/bad/path/here"}}, NOCTX,
   {"E|pattern|XksProxyUriPath|XksProxyUriPath: \"/bad/path/here\" does not "
    "match " P_PATH}},
  {"path: three-digit version", {{M_ID, ID}, {M_PATH, "/a/kms/xks/v123"}},
   NOCTX,
   {"E|pattern|XksProxyUriPath|XksProxyUriPath: \"/a/kms/xks/v123\" does "
    "not match " P_PATH}},
  {"path: empty prefix segment", {{M_ID, ID}, {M_PATH, "//kms/xks/v1"}},
   NOCTX,
   {"E|pattern|XksProxyUriPath|XksProxyUriPath: \"//kms/xks/v1\" does not "
    "match " P_PATH}},
  {"path: space in prefix", {{M_ID, ID}, {M_PATH, "/a b/kms/xks/v1"}}, NOCTX,
   {"E|pattern|XksProxyUriPath|XksProxyUriPath: \"/a b/kms/xks/v1\" does "
    "not match " P_PATH}},
  {"path: too short", {{M_ID, ID}, {M_PATH, "/kms/xks"}}, NOCTX,
   {"E|length.min|XksProxyUriPath|XksProxyUriPath: length 8 is below the "
    "minimum of 10",
    "E|pattern|XksProxyUriPath|XksProxyUriPath: \"/kms/xks\" does not match "
    P_PATH}},

  /* {===== XksProxyVpcEndpointServiceName ===== */
  {"service name: valid", {{M_ID, ID}, {M_SVC, SVC}}, CTX(NULL, NULL, VPC),
   {NULL}},
  {"service name: eu partition, three groups",
   {{M_ID, ID}, {M_SVC, "eu.amazonaws.vpce.eu-gov-west-1.vpce-svc-0a"}},
   CTX(NULL, NULL, VPC), {NULL}},
  {"service name: one group",
   {{M_ID, ID}, {M_SVC, "com.amazonaws.vpce.useast-1.vpce-svc-0a"}},
   CTX(NULL, NULL, VPC),
   {"E|pattern|XksProxyVpcEndpointServiceName|XksProxyVpcEndpointServiceName"
    ": \"com.amazonaws.vpce.useast-1.vpce-svc-0a\" does not match " P_SVC}},
  {"service name: no service id",
   {{M_ID, ID}, {M_SVC, "com.amazonaws.vpce.us-east-1.vpce-svc-"}},
   CTX(NULL, NULL, VPC),
   {"E|pattern|XksProxyVpcEndpointServiceName|XksProxyVpcEndpointServiceName"
    ": \"com.amazonaws.vpce.us-east-1.vpce-svc-\" does not match " P_SVC}},
  {"service name: too long",
   {{M_ID, ID}, {M_SVC, "com.amazonaws.vpce.us-east-1.vpce-svc-" X10 X10
                        "xxxxxxx"}},
   CTX(NULL, NULL, VPC),
   {"E|length.max|XksProxyVpcEndpointServiceName|"
    "XksProxyVpcEndpointServiceName: length 65 is above the maximum of 64"}},
  {"service name: empty with VPC connectivity",
   {{M_ID, ID}, {M_SVC, ""}}, CTX(NULL, NULL, VPC),
   {"E|length.min|XksProxyVpcEndpointServiceName|"
    "XksProxyVpcEndpointServiceName: length 0 is below the minimum of 20",
    "E|pattern|XksProxyVpcEndpointServiceName|XksProxyVpcEndpointServiceName"
    ": \"\" does not match " P_SVC}},

  /* {===== XksProxyVpcEndpointServiceOwner ===== */
  {"owner: valid", {{M_ID, ID}, {M_OWNER, OWNER}}, CTX(NULL, NULL, VPC),
   {NULL}},
  {"owner: 11 digits", {{M_ID, ID}, {M_OWNER, "12345678901"}},
   CTX(NULL, NULL, VPC),
   {"E|length.min|XksProxyVpcEndpointServiceOwner|"
    "XksProxyVpcEndpointServiceOwner: length 11 is below the minimum of 12",
    "E|pattern|XksProxyVpcEndpointServiceOwner|"
    "XksProxyVpcEndpointServiceOwner: \"12345678901\" does not match "
    "[0-9]{12}"}},
  {"owner: not digits", {{M_ID, ID}, {M_OWNER, "12345678901a"}},
   CTX(NULL, NULL, VPC),
   {"E|pattern|XksProxyVpcEndpointServiceOwner|"
    "XksProxyVpcEndpointServiceOwner: \"12345678901a\" does not match "
    "[0-9]{12}"}},

  /* {===== the credential ===== */
  {"credential: valid", {{M_ID, ID}, {M_SK, SK}, {M_AK, AK}}, NOCTX, {NULL}},
  {"credential: key id too short, secret too long",
   {{M_ID, ID}, {M_AK, "ABCDEFGHIJKLMNOPQRS"}, {M_SK, SK SK}}, NOCTX,
   {"E|length.min|" PFX_AK "|" PFX_AK ": length 19 is below the minimum of "
    "20",
    "E|length.max|" PFX_SK "|" PFX_SK ": length 88 is above the maximum of "
    "64"}},
  {"credential: patterns, values never shown",
   {{M_ID, ID}, {M_AK, "abcde23456723example"},
    {M_SK, "DXjSUawnel2fr6SKC7G25CNxTyWKE5PF9XX6H-u9pSo="}}, NOCTX,
   {"E|pattern|" PFX_AK "|" PFX_AK ": value does not match ^[A-Z2-7]+$",
    "E|pattern|" PFX_SK "|" PFX_SK ": value does not match "
    "^[a-zA-Z0-9\\/+=]+$"}},
  {"credential: key id too long",
   {{M_ID, ID}, {M_AK, "ABCDEFGHIJKLMNOPQRSTUVWXYZ23456"}, {M_SK, SK}},
   NOCTX,
   {"E|length.max|" PFX_AK "|" PFX_AK ": length 31 is above the maximum of "
    "30"}},
  {"credential.incomplete: secret missing", {{M_ID, ID}, {M_AK, AK}}, NOCTX,
   {"E|credential.incomplete|" PFX_SK "|" PFX_SK ": missing; the credential "
    "needs both AccessKeyId and RawSecretAccessKey"}},
  {"credential.incomplete: empty structure", {{M_ID, ID}, {CRED_EMPTY, ""}},
   NOCTX,
   {"E|credential.incomplete|" PFX_AK "|" PFX_AK ": missing; the credential "
    "needs both AccessKeyId and RawSecretAccessKey",
    "E|credential.incomplete|" PFX_SK "|" PFX_SK ": missing; the credential "
    "needs both AccessKeyId and RawSecretAccessKey"}},

  /* {===== enum ===== */
  {"enum: PUBLIC_ENDPOINT with a new endpoint",
   {{M_ID, ID}, {M_CONN, PUB}, {M_EP, EP}}, NOCTX, {NULL}},
  {"enum: unknown value", {{M_ID, ID}, {M_CONN, "BOGUS"}}, NOCTX,
   {"E|enum|XksProxyConnectivity|XksProxyConnectivity: \"BOGUS\" is not one "
    "of PUBLIC_ENDPOINT, VPC_ENDPOINT_SERVICE"}},
  {"enum: case matters", {{M_ID, ID}, {M_CONN, "public_endpoint"}}, NOCTX,
   {"E|enum|XksProxyConnectivity|XksProxyConnectivity: \"public_endpoint\" "
    "is not one of PUBLIC_ENDPOINT, VPC_ENDPOINT_SERVICE"}},

  /* {===== utf8 ===== */
  {"utf8: valid non-ASCII name", {{M_ID, ID}, {M_NAME, "\xe6\x97\xa5"}},
   NOCTX, {NULL}},
  {"utf8: invalid byte in name", {{M_ID, ID}, {M_NAME, "a\xff"}}, NOCTX,
   {"E|utf8|NewCustomKeyStoreName|NewCustomKeyStoreName: not valid UTF-8"}},
  {"utf8: encoded surrogate in password (no value shown)",
   {{M_ID, ID}, {M_PW, "abcdefg\xed\xa0\x80"}}, NOCTX,
   {"E|utf8|KeyStorePassword|KeyStorePassword: not valid UTF-8"}},
  {"utf8: invalid connectivity bytes", {{M_ID, ID}, {M_CONN, "\xc0\x80"}},
   NOCTX,
   {"E|utf8|XksProxyConnectivity|XksProxyConnectivity: not valid UTF-8",
    "E|enum|XksProxyConnectivity|XksProxyConnectivity: \"\\xc0\\x80\" is not "
    "one of PUBLIC_ENDPOINT, VPC_ENDPOINT_SERVICE"}},

  /* {===== type.mixed ===== */
  {"type.mixed: CloudHSM members only",
   {{M_ID, ID}, {M_PW, "kmsPswd"}, {M_CLUSTER, CLUSTER}, {M_NAME, "n"}},
   NOCTX, {NULL}},
  {"type.mixed: password and endpoint",
   {{M_ID, ID}, {M_EP, EP}, {M_PW, "kmsPswd"}}, NOCTX,
   {"E|type.mixed|KeyStorePassword|KeyStorePassword: a CloudHSM key store "
    "member cannot be combined with XksProxyUriEndpoint, an external key "
    "store member"}},
  {"type.mixed: both CloudHSM members and the credential",
   {{M_ID, ID}, {M_PW, "kmsPswd"}, {M_CLUSTER, CLUSTER}, {M_AK, AK},
    {M_SK, SK}}, NOCTX,
   {"E|type.mixed|KeyStorePassword|KeyStorePassword: a CloudHSM key store "
    "member cannot be combined with XksProxyAuthenticationCredential, an "
    "external key store member",
    "E|type.mixed|CloudHsmClusterId|CloudHsmClusterId: a CloudHSM key store "
    "member cannot be combined with XksProxyAuthenticationCredential, an "
    "external key store member"}},

  /* {===== connectivity.vpc ===== */
  {"connectivity.vpc: switch with endpoint and service name",
   {{M_ID, ID}, {M_CONN, VPC}, {M_EP, EP}, {M_SVC, SVC}}, NOCTX, {NULL}},
  {"connectivity.vpc: switch with neither",
   {{M_ID, ID}, {M_CONN, VPC}}, NOCTX,
   {"E|connectivity.vpc|XksProxyUriEndpoint|XksProxyUriEndpoint: switching "
    "XksProxyConnectivity to VPC_ENDPOINT_SERVICE needs a new "
    "XksProxyUriEndpoint",
    "E|connectivity.vpc|XksProxyVpcEndpointServiceName|"
    "XksProxyVpcEndpointServiceName: switching XksProxyConnectivity to "
    "VPC_ENDPOINT_SERVICE needs an XksProxyVpcEndpointServiceName"}},
  {"connectivity.vpc: switch from PUBLIC without service name",
   {{M_ID, ID}, {M_CONN, VPC}, {M_EP, EP}},
   CTX("EXTERNAL_KEY_STORE", "DISCONNECTED", PUB),
   {"E|connectivity.vpc|XksProxyVpcEndpointServiceName|"
    "XksProxyVpcEndpointServiceName: switching XksProxyConnectivity to "
    "VPC_ENDPOINT_SERVICE needs an XksProxyVpcEndpointServiceName"}},
  {"connectivity.vpc: already VPC is not a switch",
   {{M_ID, ID}, {M_CONN, VPC}}, CTX(NULL, NULL, VPC), {NULL}},

  /* {===== connectivity.public ===== */
  {"connectivity.public: switch clearing the service name with \"\"",
   {{M_ID, ID}, {M_CONN, PUB}, {M_EP, EP}, {M_SVC, ""}},
   CTX(NULL, NULL, VPC), {NULL}},
  {"connectivity.public: switch without endpoint",
   {{M_ID, ID}, {M_CONN, PUB}}, CTX(NULL, NULL, VPC),
   {"E|connectivity.public|XksProxyUriEndpoint|XksProxyUriEndpoint: "
    "switching XksProxyConnectivity to PUBLIC_ENDPOINT needs a new "
    "XksProxyUriEndpoint"}},
  {"connectivity.public: service name must be null or empty",
   {{M_ID, ID}, {M_CONN, PUB}, {M_EP, EP}, {M_SVC, SVC}}, NOCTX,
   {"E|connectivity.public|XksProxyVpcEndpointServiceName|"
    "XksProxyVpcEndpointServiceName: must be null or empty when "
    "XksProxyConnectivity is PUBLIC_ENDPOINT"}},
  {"connectivity.public: already PUBLIC is not a switch",
   {{M_ID, ID}, {M_CONN, PUB}}, CTX(NULL, NULL, PUB), {NULL}},

  /* {===== connectivity.mismatch ===== */
  {"connectivity.mismatch: empty service name on a PUBLIC store",
   {{M_ID, ID}, {M_SVC, ""}}, CTX(NULL, NULL, PUB), {NULL}},
  {"connectivity.mismatch: service name on a PUBLIC store",
   {{M_ID, ID}, {M_SVC, SVC}}, CTX(NULL, NULL, PUB),
   {"E|connectivity.mismatch|XksProxyVpcEndpointServiceName|"
    "XksProxyVpcEndpointServiceName: valid only with VPC_ENDPOINT_SERVICE "
    "connectivity, and the key store's is PUBLIC_ENDPOINT"}},
  {"connectivity.mismatch: owner with PUBLIC_ENDPOINT",
   {{M_ID, ID}, {M_CONN, PUB}, {M_EP, EP}, {M_OWNER, OWNER}}, NOCTX,
   {"E|connectivity.mismatch|XksProxyVpcEndpointServiceOwner|"
    "XksProxyVpcEndpointServiceOwner: valid only with VPC_ENDPOINT_SERVICE "
    "connectivity, and the connectivity is PUBLIC_ENDPOINT"}},

  /* {===== connectivity.unknown (warnings) ===== */
  {"connectivity.unknown: service name and owner, nothing known",
   {{M_ID, ID}, {M_SVC, SVC}, {M_OWNER, OWNER}}, NOCTX,
   {"W|connectivity.unknown|XksProxyVpcEndpointServiceName|"
    "XksProxyVpcEndpointServiceName: " CONN_UNKNOWN_MSG,
    "W|connectivity.unknown|XksProxyVpcEndpointServiceOwner|"
    "XksProxyVpcEndpointServiceOwner: " CONN_UNKNOWN_MSG}},
  {"connectivity.unknown: empty service name, nothing known",
   {{M_ID, ID}, {M_SVC, ""}}, NOCTX,
   {"E|length.min|XksProxyVpcEndpointServiceName|"
    "XksProxyVpcEndpointServiceName: length 0 is below the minimum of 20",
    "E|pattern|XksProxyVpcEndpointServiceName|XksProxyVpcEndpointServiceName"
    ": \"\" does not match " P_SVC,
    "W|connectivity.unknown|XksProxyVpcEndpointServiceName|"
    "XksProxyVpcEndpointServiceName: " CONN_UNKNOWN_MSG}},
  {"connectivity.unknown: an invalid request value decides nothing",
   {{M_ID, ID}, {M_CONN, "BOGUS"}, {M_SVC, SVC}}, NOCTX,
   {"E|enum|XksProxyConnectivity|XksProxyConnectivity: \"BOGUS\" is not one "
    "of PUBLIC_ENDPOINT, VPC_ENDPOINT_SERVICE"}},

  /* {===== noop ===== */
  {"noop: a real change", {{M_ID, ID}, {M_PATH, PATH}}, NOCTX, {NULL}},
  {"noop: only the id", {{M_ID, ID}}, NOCTX,
   {"W|noop||request changes nothing: no member besides CustomKeyStoreId is "
    "set"}},
  {"noop: nothing at all", {{0, NULL}}, NOCTX,
   {"E|required|CustomKeyStoreId|CustomKeyStoreId: missing; it is required",
    "W|noop||request changes nothing: no member besides CustomKeyStoreId is "
    "set"}},

  /* {===== context.type ===== */
  {"context.type: XKS members on an external key store",
   {{M_ID, ID}, {M_EP, EP}, {M_AK, AK}, {M_SK, SK}},
   CTX("EXTERNAL_KEY_STORE", "DISCONNECTED", PUB), {NULL}},
  {"context.type: CloudHSM members on a CloudHSM key store",
   {{M_ID, ID}, {M_PW, "kmsPswd"}, {M_CLUSTER, CLUSTER}},
   CTX("AWS_CLOUDHSM", "DISCONNECTED", NULL), {NULL}},
  {"context.type: XKS members on a CloudHSM key store",
   {{M_ID, ID}, {M_PATH, PATH}, {M_AK, AK}, {M_SK, SK}},
   CTX("AWS_CLOUDHSM", NULL, NULL),
   {"E|context.type|XksProxyUriPath|XksProxyUriPath: not valid for an "
    "AWS_CLOUDHSM key store",
    "E|context.type|" CRED "|" CRED ": not valid for an AWS_CLOUDHSM key "
    "store"}},
  {"context.type: password on an external key store",
   {{M_ID, ID}, {M_PW, "kmsPswd"}}, CTX("EXTERNAL_KEY_STORE", NULL, NULL),
   {"E|context.type|KeyStorePassword|KeyStorePassword: not valid for an "
    "EXTERNAL_KEY_STORE key store"}},

  /* {===== context.unknown ===== */
  {"context.unknown: unknown store type",
   {{M_ID, ID}, {M_NAME, "n"}}, CTX("FUTURE_TYPE", NULL, NULL),
   {"W|context.unknown||the store type \"FUTURE_TYPE\" is not known; the "
    "type rules were skipped"}},
  {"context.unknown: unknown store connectivity",
   {{M_ID, ID}, {M_SVC, SVC}}, CTX(NULL, NULL, "BOGUS"),
   {"W|connectivity.unknown|XksProxyVpcEndpointServiceName|"
    "XksProxyVpcEndpointServiceName: " CONN_UNKNOWN_MSG,
    "W|context.unknown||the store's connectivity \"BOGUS\" is not known; "
    "connectivity rules treat it as unknown"}},

  /* {===== context.state ===== */
  {"context.state: everything while DISCONNECTED",
   {{M_ID, ID}, {M_NAME, "n"}, {M_EP, EP}, {M_PATH, PATH}, {M_AK, AK},
    {M_SK, SK}, {M_CONN, PUB}},
   CTX("EXTERNAL_KEY_STORE", "DISCONNECTED", VPC), {NULL}},
  {"context.state: name, credential and path while CONNECTED",
   {{M_ID, ID}, {M_NAME, "n"}, {M_PATH, PATH}, {M_AK, AK}, {M_SK, SK}},
   CTX("EXTERNAL_KEY_STORE", "CONNECTED", NULL), {NULL}},
  {"context.state: CloudHSM name while CONNECTED",
   {{M_ID, ID}, {M_NAME, "n"}}, CTX("AWS_CLOUDHSM", "CONNECTED", NULL),
   {NULL}},
  {"context.state: CloudHSM password while CONNECTED",
   {{M_ID, ID}, {M_PW, "kmsPswd"}, {M_CLUSTER, CLUSTER}},
   CTX("AWS_CLOUDHSM", "CONNECTED", NULL),
   {"E|context.state|KeyStorePassword|KeyStorePassword: changing it needs "
    "the key store DISCONNECTED, but it is CONNECTED",
    "E|context.state|CloudHsmClusterId|CloudHsmClusterId: changing it needs "
    "the key store DISCONNECTED, but it is CONNECTED"}},
  {"context.state: XKS endpoint settings while CONNECTED",
   {{M_ID, ID}, {M_EP, EP}, {M_SVC, SVC}, {M_OWNER, OWNER}, {M_CONN, VPC}},
   CTX("EXTERNAL_KEY_STORE", "CONNECTED", VPC),
   {"E|context.state|XksProxyUriEndpoint|XksProxyUriEndpoint: changing it "
    "needs the key store DISCONNECTED, but it is CONNECTED",
    "E|context.state|XksProxyVpcEndpointServiceName|"
    "XksProxyVpcEndpointServiceName: changing it needs the key store "
    "DISCONNECTED, but it is CONNECTED",
    "E|context.state|XksProxyVpcEndpointServiceOwner|"
    "XksProxyVpcEndpointServiceOwner: changing it needs the key store "
    "DISCONNECTED, but it is CONNECTED",
    "E|context.state|XksProxyConnectivity|XksProxyConnectivity: changing it "
    "needs the key store DISCONNECTED, but it is CONNECTED"}},
  {"context.state: even the name needs DISCONNECTED when FAILED",
   {{M_ID, ID}, {M_NAME, "n"}, {M_AK, AK}, {M_SK, SK}},
   CTX("EXTERNAL_KEY_STORE", "FAILED", NULL),
   {"E|context.state|NewCustomKeyStoreName|NewCustomKeyStoreName: changing "
    "it needs the key store DISCONNECTED, but it is FAILED",
    "E|context.state|" CRED "|" CRED ": changing it needs the key store "
    "DISCONNECTED, but it is FAILED"}},
  {"context.state: CONNECTING", {{M_ID, ID}, {M_PATH, PATH}},
   CTX(NULL, "CONNECTING", NULL),
   {"E|context.state|XksProxyUriPath|XksProxyUriPath: changing it needs the "
    "key store DISCONNECTED, but it is CONNECTING"}},
  {"context.state: DISCONNECTING", {{M_ID, ID}, {M_NAME, "n"}},
   CTX(NULL, "DISCONNECTING", NULL),
   {"E|context.state|NewCustomKeyStoreName|NewCustomKeyStoreName: changing "
    "it needs the key store DISCONNECTED, but it is DISCONNECTING"}},
  {"context.state: unknown state fails closed", {{M_ID, ID}, {M_NAME, "n"}},
   CTX(NULL, "WEIRD", NULL),
   {"E|context.state|NewCustomKeyStoreName|NewCustomKeyStoreName: changing "
    "it needs the key store DISCONNECTED, but it is \"WEIRD\""}},
  {"context.state: only the id is no change", {{M_ID, ID}},
   CTX(NULL, "FAILED", NULL),
   {"W|noop||request changes nothing: no member besides CustomKeyStoreId is "
    "set"}},

  /* {===== every problem at once, in the documented order ===== */
  {"all at once",
   {{M_CONN, VPC}, {M_PW, "short"}, {M_AK, "lower"}, {M_PATH, "/x"},
    {M_NAME, ""}},
   CTX("AWS_CLOUDHSM", "CONNECTED", PUB),
   {"E|required|CustomKeyStoreId|CustomKeyStoreId: missing; it is required",
    "E|length.min|NewCustomKeyStoreName|NewCustomKeyStoreName: length 0 is "
    "below the minimum of 1",
    "E|length.min|KeyStorePassword|KeyStorePassword: length 5 is below the "
    "minimum of 7",
    "E|length.min|XksProxyUriPath|XksProxyUriPath: length 2 is below the "
    "minimum of 10",
    "E|pattern|XksProxyUriPath|XksProxyUriPath: \"/x\" does not match "
    P_PATH,
    "E|length.min|" PFX_AK "|" PFX_AK ": length 5 is below the minimum of "
    "20",
    "E|pattern|" PFX_AK "|" PFX_AK ": value does not match ^[A-Z2-7]+$",
    "E|credential.incomplete|" PFX_SK "|" PFX_SK ": missing; the credential "
    "needs both AccessKeyId and RawSecretAccessKey",
    "E|type.mixed|KeyStorePassword|KeyStorePassword: a CloudHSM key store "
    "member cannot be combined with XksProxyUriPath, an external key store "
    "member",
    "E|connectivity.vpc|XksProxyUriEndpoint|XksProxyUriEndpoint: switching "
    "XksProxyConnectivity to VPC_ENDPOINT_SERVICE needs a new "
    "XksProxyUriEndpoint",
    "E|connectivity.vpc|XksProxyVpcEndpointServiceName|"
    "XksProxyVpcEndpointServiceName: switching XksProxyConnectivity to "
    "VPC_ENDPOINT_SERVICE needs an XksProxyVpcEndpointServiceName",
    "E|context.type|XksProxyUriPath|XksProxyUriPath: not valid for an "
    "AWS_CLOUDHSM key store",
    "E|context.type|" CRED "|" CRED ": not valid for an AWS_CLOUDHSM key "
    "store",
    "E|context.type|XksProxyConnectivity|XksProxyConnectivity: not valid for "
    "an AWS_CLOUDHSM key store",
    "E|context.state|KeyStorePassword|KeyStorePassword: changing it needs "
    "the key store DISCONNECTED, but it is CONNECTED",
    "E|context.state|XksProxyConnectivity|XksProxyConnectivity: changing it "
    "needs the key store DISCONNECTED, but it is CONNECTED"}},
};

static void build(kms_request *req, const vcase *c)
{
  kms_error err;
  size_t i;

  for (i = 0; i < sizeof c->set / sizeof c->set[0] && c->set[i].v; i++) {
    if (c->set[i].m == CRED_EMPTY)
      kms_request_set_credential(req, NULL, 0, NULL, 0, 0, &err);
    else
      kms_request_set(req, (kms_member)c->set[i].m, c->set[i].v,
                      strlen(c->set[i].v), &err);
  }
}

static void run_case(size_t idx, const vcase *c)
{
  t_alloc_state as = {0, 0, 0, 0};
  kms_error err;
  kms_request *req = kms_request_new(t_alloc, &as, &err);
  kms_problems *p = NULL;
  kms_status st, want_st = KMS_OK;
  size_t i, nwant = 0, nerr = 0, n;
  char line[512];
  const char *first_err = NULL;

  build(req, c);
  kms_error_clear(&err);
  st = kms_request_validate(req, c->use_ctx ? &c->ctx : NULL, &p, &err);
  while (nwant < sizeof c->want / sizeof c->want[0] && c->want[nwant]) {
    if (c->want[nwant][0] == 'E') {
      want_st = KMS_ERR_VALIDATION;
      nerr++;
      if (!first_err)
        first_err = c->want[nwant];
    }
    nwant++;
  }
  n = kms_problems_count(p);
  OK(st == want_st, "case %zu %s: status %s", idx, c->name,
     kms_strerror(st));
  OK(n == nwant, "case %zu %s: %zu problems (got %zu)", idx, c->name, nwant,
     n);
  OK(kms_problems_error_count(p) == nerr, "case %zu %s: %zu errors", idx,
     c->name, nerr);
  for (i = 0; i < n || i < nwant; i++) {
    const kms_problem *pr = kms_problems_at(p, i);
    if (pr)
      snprintf(line, sizeof line, "%c|%s|%s|%s",
               pr->severity == KMS_SEVERITY_ERROR ? 'E' : 'W', pr->code,
               pr->member, pr->message);
    else
      snprintf(line, sizeof line, "(none)");
    EQ_STR(line, i < nwant ? c->want[i] : "(none)",
           "case %zu %s: problem %zu", idx, c->name, i);
  }
  if (first_err) {
    /* err carries the first error's code and message */
    const char *code = strchr(first_err, '|') + 1;
    const char *msg = strchr(strchr(code, '|') + 1, '|') + 1;
    size_t clen = strcspn(code, "|");
    OK(strncmp(err.aws_type, code, clen) == 0 && err.aws_type[clen] == '\0',
       "case %zu %s: err.aws_type is the first code", idx, c->name);
    OK(strncmp(err.message, msg, strlen(msg)) == 0,
       "case %zu %s: err.message starts with the first message", idx,
       c->name);
  }
  kms_problems_free(p);
  kms_request_free(req);
  OK(as.blocks == 0, "case %zu %s: no leak", idx, c->name);
}

static void test_table(void)
{
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    run_case(i, &cases[i]);
}

/* err for several errors: the first message and how many more. */
static void test_err_summary(void)
{
  const vcase *c = &cases[sizeof cases / sizeof cases[0] - 1];
  kms_error err;
  kms_request *req = kms_request_new(NULL, NULL, &err);

  build(req, c);
  kms_request_validate(req, &c->ctx, NULL, &err);
  EQ_STR(err.message, "CustomKeyStoreId: missing; it is required "
         "(and 15 more)", "all at once: err.message");
  EQ_STR(err.aws_type, "required", "all at once: err.aws_type");
  OK(err.status == KMS_ERR_VALIDATION, "all at once: err.status");
  kms_request_free(req);
}

static void test_api(void)
{
  kms_error err;
  kms_request *req = kms_request_new(NULL, NULL, &err);
  kms_problems *p = (kms_problems *)&err; /* must be overwritten */

  OK(kms_request_validate(NULL, NULL, &p, &err) == KMS_ERR_INVALID_ARG,
     "validate NULL request");
  OK(p == NULL, "out is NULL after misuse");
  kms_request_set(req, KMS_M_CUSTOM_KEY_STORE_ID, "", 0, &err);
  OK(kms_request_validate(req, NULL, NULL, &err) == KMS_ERR_VALIDATION,
     "validate without a problem list");
  OK(kms_request_validate(req, NULL, &p, &err) == KMS_ERR_VALIDATION,
     "validate with a problem list");
  OK(kms_problems_count(p) == 2, "two problems (length and noop)");
  OK(kms_problems_error_count(p) == 1, "one of them an error");
  OK(kms_problems_at(p, 2) == NULL, "at out of range");
  OK(kms_problems_count(NULL) == 0 && kms_problems_error_count(NULL) == 0 &&
     kms_problems_at(NULL, 0) == NULL, "NULL list");
  kms_problems_free(p);
  kms_problems_free(NULL);
  kms_request_free(req);
}

/* Allocation failure while collecting problems: NOMEM, no list, no leak. */
static void test_nomem(void)
{
  long n;
  int bad = 0, done = 0;

  for (n = 1; n < 1000 && !done; n++) {
    t_alloc_state as = {0, 0, 0, 0};
    kms_error err;
    kms_request *req = kms_request_new(t_alloc, &as, &err);
    kms_problems *p = NULL;
    kms_status st;

    build(req, &cases[sizeof cases / sizeof cases[0] - 1]);
    as.calls = 0;
    as.fail_at = n;
    st = kms_request_validate(req, &cases[sizeof cases / sizeof cases[0] -
                                          1].ctx, &p, &err);
    if (st == KMS_ERR_NOMEM)
      bad |= p != NULL;
    else if (st == KMS_ERR_VALIDATION)
      done = as.calls < n;
    else
      bad = 1;
    kms_problems_free(p);
    kms_request_free(req);
    bad |= as.blocks != 0;
  }
  OK(done, "validate: allocation sweep reached success");
  OK(!bad, "validate: every failure is NOMEM with no list and no leak");
}

static void test_patterns(void)
{
  static const struct {
    int (*fn)(const char *, size_t);
    const char *s;
    int want;
  } cases_p[] = {
    {kmsi_match_cluster_id, "cluster-2a23b4cdefg", 1},
    {kmsi_match_cluster_id, "cluster-abcdefghijk", 1},
    {kmsi_match_cluster_id, "cluster-abcdefghij", 0},
    {kmsi_match_cluster_id, "cluster-abcdefghijklmnopq", 0},
    {kmsi_match_cluster_id, "Cluster-abcdefghijk", 0},
    {kmsi_match_cluster_id, "cluster-abcdefghij8", 0},
    {kmsi_match_xks_uri_endpoint, "https://a", 1},
    {kmsi_match_xks_uri_endpoint, "https://A-b.9", 1},
    {kmsi_match_xks_uri_endpoint, "https://", 0},
    {kmsi_match_xks_uri_endpoint, "HTTPS://a", 0},
    {kmsi_match_xks_uri_endpoint, "https://a/", 0},
    {kmsi_match_xks_uri_endpoint, "https://a_b", 0},
    {kmsi_match_xks_uri_path, "/kms/xks/v1", 1},
    {kmsi_match_xks_uri_path, "/kms/xks/v99", 1},
    {kmsi_match_xks_uri_path, "/a/kms/xks/v1", 1},
    {kmsi_match_xks_uri_path, "/a//b/kms/xks/v1", 1},
    {kmsi_match_xks_uri_path, "/-/kms/xks/v1", 1},
    {kmsi_match_xks_uri_path, "//kms/xks/v1", 0},
    {kmsi_match_xks_uri_path, "a/kms/xks/v1", 0},
    {kmsi_match_xks_uri_path, "/kms/xks/v", 0},
    {kmsi_match_xks_uri_path, "/kms/xks/va", 0},
    {kmsi_match_xks_uri_path, "/kms/xks/v100", 0},
    {kmsi_match_xks_uri_path, "/kms/xks/v1/", 0},
    {kmsi_match_xks_uri_path, "/a.b/kms/xks/v1", 0},
    {kmsi_match_xks_uri_path, "kms/xks/v1", 0},
    {kmsi_match_vpc_service_name,
     "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0", 1},
    {kmsi_match_vpc_service_name, "eu.amazonaws.vpce.a-b-c-1.vpce-svc-x", 1},
    {kmsi_match_vpc_service_name, "com.amazonaws.vpce.a-1.vpce-svc-x", 0},
    {kmsi_match_vpc_service_name, "com.amazonaws.vpce.a-b-c-d-1.vpce-svc-x",
     0},
    {kmsi_match_vpc_service_name, "com.amazonaws.vpce.a-b-.vpce-svc-x", 0},
    {kmsi_match_vpc_service_name, "com.amazonaws.vpce.a-b-1.vpce-svc-X", 0},
    {kmsi_match_vpc_service_name, "org.amazonaws.vpce.a-b-1.vpce-svc-x", 0},
    {kmsi_match_vpc_service_name, "com.amazonaws.vpce.A-b-1.vpce-svc-x", 0},
    {kmsi_match_vpc_service_name, "com.amazonaws.vpce.a-b-1.vpce-svc-x.", 0},
    {kmsi_match_vpc_service_name, "com.amazonaws.vpce.a-b-1vpce-svc-x", 0},
    {kmsi_match_vpc_service_name, "com.amazonaws.vpce.a-b", 0},
    {kmsi_match_account_id, "123456789012", 1},
    {kmsi_match_account_id, "1234567890123", 0},
    {kmsi_match_account_id, "12345678901x", 0},
    {kmsi_match_xks_access_key_id, "ABCXYZ234567", 1},
    {kmsi_match_xks_access_key_id, "ABC1", 0},
    {kmsi_match_xks_access_key_id, "ABC8", 0},
    {kmsi_match_xks_access_key_id, "", 0},
    {kmsi_match_xks_secret, "aZ09/+=", 1},
    {kmsi_match_xks_secret, "a-b", 0},
    {kmsi_match_xks_secret, "", 0},
  };
  size_t i;

  for (i = 0; i < sizeof cases_p / sizeof cases_p[0]; i++)
    OK(cases_p[i].fn(cases_p[i].s, strlen(cases_p[i].s)) == cases_p[i].want,
       "pattern %zu \"%s\" -> %d", i, cases_p[i].s, cases_p[i].want);
}

int main(void)
{
  test_table();
  test_err_summary();
  test_api();
  test_nomem();
  test_patterns();
  return t_done();
}
