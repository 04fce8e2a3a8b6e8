/* endpoint.c - region to URL by the KMS endpoint rule set
 * (shared/reference/kms-endpoint-rule-set.json) over the partitions of
 * botocore's partitions.json: aws, aws-cn, aws-us-gov, aws-iso,
 * aws-iso-b; FIPS, dual-stack, both. The region is kept as written. */
#include <ctype.h>
#include <string.h>
#include "internal.h"

/* One partition of partitions.json. The regionRegex of every partition
 * there has the form ^PREFIX\-\w+\-\d+$ with PREFIX a fixed word or a
 * list of them, which match_partition implements; regions[] lists the
 * names that belong to it whatever the regex says ("aws-global"). */
typedef struct partition {
  const char *name;
  const char *const *prefixes;     /* the regex's alternatives */
  const char *const *regions;
  const char *dns_suffix;
  const char *dualstack_dns_suffix;
  int supports_fips;
  int supports_dualstack;
} partition;

static const char *const aws_prefixes[] = {"us", "eu", "ap", "sa", "ca",
                                           "me", "af", NULL};
static const char *const aws_regions[] = {
  "af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2",
  "ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1",
  "ap-southeast-2", "ap-southeast-3", "aws-global", "ca-central-1",
  "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
  "eu-west-1", "eu-west-2", "eu-west-3", "me-central-1", "me-south-1",
  "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2", NULL};
static const char *const cn_prefixes[] = {"cn", NULL};
static const char *const cn_regions[] = {"aws-cn-global", "cn-north-1",
                                         "cn-northwest-1", NULL};
static const char *const gov_prefixes[] = {"us-gov", NULL};
static const char *const gov_regions[] = {"aws-us-gov-global",
                                          "us-gov-east-1", "us-gov-west-1",
                                          NULL};
static const char *const iso_prefixes[] = {"us-iso", NULL};
static const char *const iso_regions[] = {"aws-iso-global", "us-iso-east-1",
                                          "us-iso-west-1", NULL};
static const char *const isob_prefixes[] = {"us-isob", NULL};
static const char *const isob_regions[] = {"aws-iso-b-global",
                                           "us-isob-east-1", NULL};

/* In partitions.json order: the first match wins, and aws (the first) is
 * also the fallback for a region no partition claims. */
static const partition partitions[] = {
  {"aws", aws_prefixes, aws_regions, "amazonaws.com", "api.aws", 1, 1},
  {"aws-cn", cn_prefixes, cn_regions, "amazonaws.com.cn",
   "api.amazonwebservices.com.cn", 1, 1},
  {"aws-us-gov", gov_prefixes, gov_regions, "amazonaws.com", "api.aws", 1,
   1},
  {"aws-iso", iso_prefixes, iso_regions, "c2s.ic.gov", "c2s.ic.gov", 1, 0},
  {"aws-iso-b", isob_prefixes, isob_regions, "sc2s.sgov.gov",
   "sc2s.sgov.gov", 1, 0},
};

/* Python's \w on the ASCII a region can hold: letters, digits, "_". */
static int is_word(char c)
{
  return isalnum((unsigned char)c) || c == '_';
}

/* PREFIX\-\w+\-\d+$ : after "PREFIX-", word characters, one "-", and
 * digits to the end (\w has no "-", so there is exactly one more). */
static int match_regex(const char *region, const char *prefix)
{
  size_t pl = strlen(prefix);
  const char *p, *dash;

  if (strncmp(region, prefix, pl) != 0 || region[pl] != '-')
    return 0;
  p = region + pl + 1;
  dash = strchr(p, '-');
  if (!dash || dash == p)
    return 0;
  for (; p < dash; p++)
    if (!is_word(*p))
      return 0;
  if (!dash[1])
    return 0;
  for (p = dash + 1; *p; p++)
    if (!isdigit((unsigned char)*p))
      return 0;
  return 1;
}

/* The rule set's aws.partition function, as botocore implements it: a
 * partition whose regions list names the region or whose regex matches
 * it, in order; aws otherwise. */
static const partition *find_partition(const char *region)
{
  size_t i, j;
  for (i = 0; i < sizeof partitions / sizeof partitions[0]; i++) {
    const partition *pt = &partitions[i];
    for (j = 0; pt->regions[j]; j++)
      if (strcmp(pt->regions[j], region) == 0)
        return pt;
    for (j = 0; pt->prefixes[j]; j++)
      if (match_regex(region, pt->prefixes[j]))
        return pt;
  }
  return &partitions[0];
}

/* botocore's is_valid_endpoint_url on the host we built: dot-separated
 * labels of 1-63 letters, digits and "-", none starting or ending with
 * "-". (The scheme and the rest are ours.) */
static int host_ok(const char *host)
{
  size_t label = 0;
  const char *p;
  char prev = '.';

  if (!*host || strlen(host) > 255)
    return 0;
  for (p = host; *p; p++) {
    if (*p == '.') {
      if (label == 0 || prev == '-')
        return 0;
      label = 0;
    } else if (isalnum((unsigned char)*p) || *p == '-') {
      if (label == 0 && *p == '-')
        return 0;
      if (++label > 63)
        return 0;
    } else {
      return 0;
    }
    prev = *p;
  }
  return label > 0 && prev != '-';
}

/* The rule set for a service with KMS's shape (kms, sts): FIPS and
 * dual-stack each need the partition's support; the error texts are the
 * rule set's. gov_fips_plain: STS's exception, where FIPS in aws-us-gov
 * is the plain regional host. */
static kms_status resolve(const char *service, const char *region,
                          int use_fips, int use_dualstack,
                          int gov_fips_plain, kms_buf *out, kms_error *err)
{
  const partition *pt;
  kms_status result = KMS_ERR_CONFIG;
  const char *suffix;
  int fips;

  if (!region) {
    result = kmsi_error(err, KMS_ERR_NO_REGION,
                        "You must specify a region. You can also configure "
                        "your region by running \"aws configure\".");
    goto cleanup;
  }
  pt = find_partition(region);
  if (use_fips && use_dualstack &&
      !(pt->supports_fips && pt->supports_dualstack)) {
    kmsi_error(err, KMS_ERR_CONFIG,
               "FIPS and DualStack are enabled, but this partition does not "
               "support one or both");
    goto cleanup;
  }
  if (use_fips && !pt->supports_fips) {
    kmsi_error(err, KMS_ERR_CONFIG,
               "FIPS is enabled but this partition does not support FIPS");
    goto cleanup;
  }
  if (use_dualstack && !pt->supports_dualstack) {
    kmsi_error(err, KMS_ERR_CONFIG,
               "DualStack is enabled but this partition does not support "
               "DualStack");
    goto cleanup;
  }
  suffix = use_dualstack ? pt->dualstack_dns_suffix : pt->dns_suffix;
  fips = use_fips && !(gov_fips_plain && !use_dualstack &&
                       strcmp(pt->name, "aws-us-gov") == 0);
  if (kmsi_buf_printf(out, "https://%s%s.%s.%s", service,
                      fips ? "-fips" : "", region, suffix) != KMS_OK) {
    result = kmsi_error(err, KMS_ERR_NOMEM, "endpoint: out of memory");
    goto cleanup;
  }
  if (!host_ok(out->data + strlen("https://"))) {
    kmsi_error(err, KMS_ERR_CONFIG, "Invalid endpoint: %s", out->data);
    goto cleanup;
  }
  result = KMS_OK;
cleanup:
  if (result != KMS_OK)
    kms_buf_free(out);
  return result;
}

/* region NULL is KMS_ERR_NO_REGION with the AWS CLI's text. A rule-set
 * error (FIPS or dual-stack where the partition has none) and a region
 * that makes no valid host ("" gives https://kms..amazonaws.com) are
 * KMS_ERR_CONFIG. out is initialised here and empty on failure. */
kms_status kmsi_endpoint_resolve(const char *region, int use_fips,
                                 int use_dualstack, kms_buf *out,
                                 kms_error *err)
{
  kmsi_buf_init(out, NULL, 0);
  return resolve("kms", region, use_fips, use_dualstack, 0, out, err);
}

kms_status kmsi_sts_endpoint(const char *region, int use_fips,
                             int use_dualstack, kms_buf *out,
                             kms_error *err)
{
  kmsi_buf_init(out, NULL, 0);
  if (!region) {
    if (kmsi_buf_puts(out, "https://sts.amazonaws.com") != KMS_OK)
      return kmsi_error(err, KMS_ERR_NOMEM, "endpoint: out of memory");
    return KMS_OK;
  }
  return resolve("sts", region, use_fips, use_dualstack, 1, out, err);
}

const char *kmsi_partition_name(const char *region)
{
  return find_partition(region ? region : "")->name;
}
